// SPDX-License-Identifier: GPL-2.0
/*
 * Rewritten call sites (instance/jobshim/patch.c) against a real instance.
 * jobprog's pipes mode, the static build, is put into the instance and run
 * as a job: four threads and a SIGALRM handler move bytes through pipes of
 * the instance's kernel with glibc's read and write, whose sites the shim
 * rewrites after a few traps. Every byte comes back, the handler's nested
 * calls are answered, and the program finds its read and write sites
 * rewritten. With SHOAL_SHIM_PATCH=0 in the job's environment the same run
 * leaves every site as glibc has it (every call traps).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/harness.h"
#include "tests/instance/tinst.h"

static void put_jobprog(struct tinst *t)
{
	const char *build = getenv("SHOAL_BUILD") ? getenv("SHOAL_BUILD") : "build";
	char path[512];
	size_t len;
	void *elf;
	FILE *f;

	snprintf(path, sizeof(path), "%s/tests/jobs/jobprog-static", build);
	f = fopen(path, "rb");
	CHECK(f != NULL);
	elf = malloc(4 << 20);
	CHECK(elf != NULL);
	len = fread(elf, 1, 4 << 20, f);
	fclose(f);
	CHECK(len > 0 && len < (4 << 20));
	CHECK_EQ_INT(tinst_put(t, "/tmp/jobprog", elf, len, 0755), PROTO_OK);
	free(elf);
}

static void run_pipes(struct tinst *t, const char *env, const char *expect)
{
	const char *const argv[] = { "/tmp/jobprog", "pipes", "4", "5000", NULL };
	struct tinst_job res;
	struct proto_msg msg;

	tinst_exec_init(&msg, argv);
	if (env) {
		msg.exec.has_env = true;
		msg.exec.env[0] = env;
		msg.exec.nenv = 1;
	}
	tinst_exec_send(t, &msg, &res);
	CHECK(res.job != 0);
	tinst_exec_wait(t, &res, 60000);
	CHECK_EQ_INT(res.exit.exit_code, 0);
	CHECK_EQ_STR((char *)res.out[0], expect);
	tinst_job_free(&res);
}

TEST(hot_sites_are_rewritten_and_their_calls_still_answered)
{
	struct tinst t;

	tinst_require_jobshim();
	tinst_start(&t, NULL, NULL);
	put_jobprog(&t);
	run_pipes(&t, NULL,
		  "pipes bytes=20000 bad=0 handler-bad=0 handler-ran=yes\n"
		  "write-site=rewritten read-site=rewritten\n");
	run_pipes(&t, "SHOAL_SHIM_PATCH=0",
		  "pipes bytes=20000 bad=0 handler-bad=0 handler-ran=yes\n"
		  "write-site=original read-site=original\n");
	tinst_shutdown(&t);
}

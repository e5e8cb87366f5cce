// SPDX-License-Identifier: GPL-2.0
/*
 * instance-bench works: `instance-bench --counts 1,3 --netns 1 --uml 0
 * --idle-seconds 0.3 --settle 0.2 --json` runs to the end and prints one well-formed JSON
 * document with every field of every result present, the Shoal and netns
 * rounds with all their instances alive and none failed, and nothing
 * left behind (the benchmark's own count, and no namespace or instance cgroup
 * of its pid afterwards). It never judges a time or a size
 * (tests/bench/README.md). It runs in the instance suite, as root, because it
 * starts real locked-down shoal-instance processes.
 */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/harness.h"

static const char *const numbers[] = {
	"ready_p50_ms",
	"ready_p99_ms",
	"ready_max_ms",
	"instance_total_p50_ms",
	"pss_mib",
	"pss_without_files_mib",
	"rss_mib",
	"cgroup_mib",
	"host_threads",
	"host_processes",
	"idle_seconds",
	"idle_cpu_pct_all",
	"idle_cpu_pct_per_instance",
	"idle_wakeups_per_s_per_instance",
	"delete_p50_ms",
	"stop_all_ms",
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static json_t *member(json_t *obj, const char *key)
{
	json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

	if (!v)
		FAIL("no member '%s'", key);
	return v;
}

/* Entries of @dir whose name starts with @prefix. */
static int count_prefix(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, prefix, strlen(prefix)))
			n++;
	closedir(d);
	return n;
}

TEST_TIMEOUT(instance_bench_json_is_complete_and_nothing_is_left, 240)
{
	const char *build = getenv("SHOAL_BUILD") ? getenv("SHOAL_BUILD") : "build";
	char bench[512], inst[600], bin[512], *out = NULL, prefix[64];
	int pipefd[2], status, shoal_rounds = 0;
	json_error_t jerr;
	json_t *doc, *results, *r;
	size_t len = 0, i, k;
	FILE *in, *mem;
	pid_t pid;
	int c;

	if (geteuid() != 0)
		SKIP("needs root: instance-bench starts locked-down instances and namespaces");
	snprintf(bench, sizeof(bench), "%s/tests/bench/instance-bench", build);
	snprintf(bin, sizeof(bin), "%s/instance/shoal-instance", build);
	CHECK(access(bench, X_OK) == 0);
	CHECK(access(bin, X_OK) == 0);
	snprintf(inst, sizeof(inst), "--instance=%s", bin);

	CHECK(pipe(pipefd) == 0);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		dup2(pipefd[1], STDOUT_FILENO);
		close(pipefd[0]);
		close(pipefd[1]);
		execl(bench, bench, "--counts", "1,3", "--netns", "1", "--uml", "0",
		      "--idle-seconds", "0.3", "--settle", "0.2", "--json", inst, (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	in = fdopen(pipefd[0], "r");
	mem = open_memstream(&out, &len);
	CHECK(in && mem);
	while ((c = fgetc(in)) != EOF)
		fputc(c, mem);
	fclose(mem);
	fclose(in);
	CHECK(waitpid(pid, &status, 0) == pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		FAIL("instance-bench: wait status 0x%x; stdout:\n%s", status, out);

	doc = json_loads(out, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc)
		FAIL("not JSON: %s at line %d; output:\n%s", jerr.text, jerr.line, out);
	CHECK_EQ_STR(json_string_value(member(doc, "benchmark")), "instance-bench");
	CHECK(json_integer_value(member(doc, "cpus")) >= 1);
	CHECK(json_is_string(member(doc, "host_kernel")));
	CHECK(json_is_object(member(doc, "goals")));
	results = member(doc, "results");
	/* shoal 1, netns 1, shoal 3: --uml 0 leaves UML out. */
	CHECK_EQ_INT(json_array_size(results), 3);
	json_array_foreach(results, i, r)
	{
		const char *peer = json_string_value(member(r, "peer"));
		int count = (int)json_integer_value(member(r, "count"));

		CHECK(peer != NULL);
		CHECK(json_is_integer(member(r, "alive")));
		CHECK(json_is_integer(member(r, "failed")));
		CHECK(json_is_integer(member(r, "left_behind")));
		for (k = 0; k < N(numbers); k++) {
			json_t *v = member(r, numbers[k]);

			if (!json_is_number(v) && !json_is_null(v))
				FAIL("%s.%s: not a number or null", peer, numbers[k]);
		}
		CHECK(strcmp(peer, "uml") != 0);
		CHECK(json_is_null(member(r, "skipped")));
		CHECK_EQ_INT(json_integer_value(member(r, "alive")), count);
		CHECK_EQ_INT(json_integer_value(member(r, "failed")), 0);
		CHECK_EQ_INT(json_integer_value(member(r, "left_behind")), 0);
		CHECK(json_number_value(member(r, "ready_p50_ms")) > 0);
		CHECK(json_number_value(member(r, "pss_mib")) > 0);
		CHECK(json_number_value(member(r, "host_threads")) >= 1);
		if (!strcmp(peer, "shoal-instance")) {
			shoal_rounds++;
			CHECK(json_number_value(member(r, "instance_total_p50_ms")) > 0);
		} else {
			CHECK(json_number_value(member(r, "delete_p50_ms")) > 0);
		}
	}
	CHECK_EQ_INT(shoal_rounds, 2);
	json_decref(doc);
	free(out);

	/* Nothing of that run is left: namespaces, instance cgroups. */
	snprintf(prefix, sizeof(prefix), "shoal-ib%d-", (int)pid);
	CHECK_EQ_INT(count_prefix("/run/netns", prefix), 0);
	snprintf(prefix, sizeof(prefix), "ib%d-", (int)pid);
	CHECK_EQ_INT(count_prefix("/sys/fs/cgroup/memory/shoal", prefix), 0);
	CHECK_EQ_INT(count_prefix("/sys/fs/cgroup/pids/shoal", prefix), 0);
	snprintf(prefix, sizeof(prefix), "shoal-ib-%d", (int)pid);
	CHECK_EQ_INT(count_prefix("/sys/fs/cgroup/memory", prefix), 0);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * shoal-jobshim in passthrough mode: unmodified Debian programs (dash,
 * coreutils, python3, static busybox) and the jobprog helper, static and
 * dynamic, run under the shim's seccomp filter, SIGSYS handler and ELF
 * loader, with every trapped call executed on the host. The cases check
 * what the programs print and how they end: fork, pipes, execve and wait
 * (a pipeline of three), `#!` scripts, exec errors, threads, file mappings,
 * signals delivered during blocking calls, a program's own `syscall`
 * instruction trapped, SIGSYS kept from the program, a SIGSEGV reported to
 * the parent; hot call sites rewritten into calls of the shim, and left
 * alone when that is turned off. One case checks the shim binary itself lies in
 * [SHOAL_SHIM_BASE, SHOAL_SHIM_LIMIT). Each run is bounded (its process
 * group is killed at a deadline) and temporary files are removed.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "instance/job_abi.h"
#include "tests/harness.h"
#include "tests/jobs/jobrun.h"

/* Run the shim in passthrough mode with @args after "--passthrough". */
static void run_shim(struct jobrun *r, const char *const *args, const char *const *env, int secs)
{
	const char *argv[64];
	int i = 0, j;

	argv[i++] = jobrun_shim();
	argv[i++] = "--passthrough";
	for (j = 0; args[j] && i < 63; j++)
		argv[i++] = args[j];
	argv[i] = NULL;
	jobrun(r, argv, env, NULL, secs);
}

#define RUN(r, secs, ...)                                          \
	do {                                                       \
		const char *const args_[] = { __VA_ARGS__, NULL }; \
		run_shim(r, args_, NULL, secs);                    \
	} while (0)

#define check_exit jobrun_check_exit
#define build_path jobrun_build_path
#define shim jobrun_shim

TEST(shim_lies_in_fixed_range)
{
	const char *p = shim();
	FILE *f = fopen(p, "rb");
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	int i, loads = 0;

	CHECK(f != NULL);
	CHECK(fread(&eh, sizeof(eh), 1, f) == 1);
	CHECK(!memcmp(eh.e_ident, ELFMAG, SELFMAG));
	CHECK_EQ_INT(eh.e_type, ET_EXEC); /* static, not PIE */
	CHECK(eh.e_entry >= SHOAL_SHIM_BASE && eh.e_entry < SHOAL_SHIM_LIMIT);
	for (i = 0; i < eh.e_phnum; i++) {
		CHECK(fseek(f, (long)(eh.e_phoff + (unsigned long)i * eh.e_phentsize), SEEK_SET) ==
		      0);
		CHECK(fread(&ph, sizeof(ph), 1, f) == 1);
		CHECK(ph.p_type != PT_INTERP && ph.p_type != PT_DYNAMIC && ph.p_type != PT_TLS);
		if (ph.p_type != PT_LOAD)
			continue;
		loads++;
		printf("PT_LOAD %#lx..%#lx\n", (unsigned long)ph.p_vaddr,
		       (unsigned long)(ph.p_vaddr + ph.p_memsz));
		CHECK(ph.p_vaddr >= SHOAL_SHIM_BASE);
		CHECK(ph.p_vaddr + ph.p_memsz <= SHOAL_SHIM_LIMIT);
	}
	CHECK(loads > 0);
	fclose(f);
}

TEST(true_exits_zero)
{
	struct jobrun r;

	RUN(&r, 20, "/bin/true");
	check_exit(&r, 0);
	RUN(&r, 20, "/bin/false");
	check_exit(&r, 1);
}

TEST(sh_echo_and_exit_status)
{
	struct jobrun r;

	RUN(&r, 20, "/bin/sh", "-c", "echo hello; exit 3");
	check_exit(&r, 3);
	CHECK_EQ_STR(r.out, "hello\n");
	/* /proc/self/exe names the program, not the shim. */
	RUN(&r, 20, "/bin/sh", "-c", "readlink /proc/self/exe");
	check_exit(&r, 0);
	CHECK_EQ_STR(r.out, "/usr/bin/readlink\n");
}

TEST_TIMEOUT(pipeline_fork_exec_wait, 120)
{
	struct jobrun r;

	RUN(&r, 100, "/bin/sh", "-c", "seq 1 200000 | sort -n | tail -1");
	check_exit(&r, 0);
	CHECK_EQ_STR(r.out, "200000\n");
}

TEST_TIMEOUT(python3_runs, 60)
{
	struct jobrun r;

	RUN(&r, 50, "/usr/bin/python3", "-c", "import json, os; print(os.getpid() > 0)");
	check_exit(&r, 0);
	CHECK_EQ_STR(r.out, "True\n");
}

TEST_TIMEOUT(python3_subprocess_and_threads, 60)
{
	struct jobrun r;

	/* subprocess uses vfork (a fork under the shim) and an exec error
	 * pipe; threads start without trapping (CLONE_THREAD). */
	RUN(&r, 50, "/usr/bin/python3", "-c",
	    "import subprocess, threading\n"
	    "out = subprocess.run(['/bin/echo', 'child'], capture_output=True).stdout\n"
	    "res = []\n"
	    "ts = [threading.Thread(target=lambda i=i: res.append(i)) for i in range(4)]\n"
	    "[t.start() for t in ts]; [t.join() for t in ts]\n"
	    "try:\n"
	    "    subprocess.run(['/nonexistent/prog'])\n"
	    "except FileNotFoundError:\n"
	    "    print('enoent')\n"
	    "print(out.decode().strip(), sorted(res))\n");
	check_exit(&r, 0);
	CHECK_EQ_STR(r.out, "enoent\nchild [0, 1, 2, 3]\n");
}

TEST(static_busybox)
{
	struct jobrun r;

	if (access("/bin/busybox", X_OK))
		SKIP("/bin/busybox (busybox-static) is not installed");
	RUN(&r, 20, "/bin/busybox", "sh", "-c", "echo static $((6 * 7))");
	check_exit(&r, 0);
	CHECK_EQ_STR(r.out, "static 42\n");
}

static void raw_syscalls(const char *prog)
{
	const char *const env[] = { "SHOAL_SHIM_DEBUG=1", NULL };
	const char *const args[] = { prog, "raw-getppid", "1000", NULL };
	unsigned long traps = 0;
	struct jobrun r;
	char *p;

	/* ptrace would succeed natively (PTRACE_TRACEME): the shim's
	 * handler answered, so the raw instruction was trapped. */
	RUN(&r, 20, prog, "raw-ptrace");
	check_exit(&r, 0);
	CHECK_EQ_STR(r.out, "ptrace=-1\n");

	run_shim(&r, args, env, 20);
	check_exit(&r, 0);
	CHECK_EQ_STR(r.out, "getppid ok=1000\n");
	p = strstr(r.err, " traps ");
	CHECK(p != NULL);
	traps = strtoul(p + 7, NULL, 10);
	CHECK(traps >= 1000);
}

TEST(raw_syscall_trapped_static)
{
	raw_syscalls(build_path("tests/jobs/jobprog-static"));
}

TEST(raw_syscall_trapped_dynamic)
{
	raw_syscalls(build_path("tests/jobs/jobprog-dynamic"));
}

TEST(segv_reported_as_signal)
{
	struct jobrun r;

	RUN(&r, 20, build_path("tests/jobs/jobprog-static"), "segv");
	CHECK(WIFSIGNALED(r.status));
	CHECK_EQ_INT(WTERMSIG(r.status), SIGSEGV);
	RUN(&r, 20, build_path("tests/jobs/jobprog-dynamic"), "segv");
	CHECK(WIFSIGNALED(r.status));
	CHECK_EQ_INT(WTERMSIG(r.status), SIGSEGV);
	/* Through a shell: the parent (dash, under the shim) sees it too. */
	RUN(&r, 20, "/bin/sh", "-c", "\"$0\" segv 2>/dev/null; echo status=$?",
	    build_path("tests/jobs/jobprog-static"));
	check_exit(&r, 0);
	CHECK_EQ_STR(r.out, "status=139\n");
}

TEST(sigsys_kept_from_program)
{
	struct jobrun r;

	RUN(&r, 20, build_path("tests/jobs/jobprog-dynamic"), "sigsys");
	check_exit(&r, 0);
	CHECK_EQ_STR(r.out, "sigsys sigsys-blocked=0\n");
}

TEST(threads_static_and_dynamic)
{
	struct jobrun r;

	RUN(&r, 20, build_path("tests/jobs/jobprog-static"), "threads", "16");
	check_exit(&r, 0);
	CHECK(strstr(r.out, "joined 16\n") != NULL);
	CHECK(strstr(r.out, "thread 15\n") != NULL);
	RUN(&r, 20, build_path("tests/jobs/jobprog-dynamic"), "threads", "16");
	check_exit(&r, 0);
	CHECK(strstr(r.out, "joined 16\n") != NULL);
}

/*
 * Hot read and write sites rewritten (patch.c) in both builds, with four
 * threads and a signal handler calling through them; the same run with
 * SHOAL_SHIM_PATCH=0 leaves them as glibc has them. The shim's debug line
 * counts the sites and the calls that came through them.
 */
TEST(hot_sites_rewritten_static_and_dynamic)
{
	static const char *const debug[] = { "SHOAL_SHIM_DEBUG=1", NULL };
	static const char *const off[] = { "SHOAL_SHIM_DEBUG=1", "SHOAL_SHIM_PATCH=0", NULL };
	static const char *const builds[] = { "tests/jobs/jobprog-static",
					      "tests/jobs/jobprog-dynamic" };
	struct jobrun r;
	int i;

	for (i = 0; i < 2; i++) {
		const char *const args[] = { build_path(builds[i]), "pipes", "4", "5000", NULL };

		run_shim(&r, args, debug, 30);
		check_exit(&r, 0);
		CHECK_EQ_STR(r.out, "pipes bytes=20000 bad=0 handler-bad=0 handler-ran=yes\n"
				    "write-site=rewritten read-site=rewritten\n");
		CHECK(strstr(r.err, " patched 0 ") == NULL);
		CHECK(strstr(r.err, " fast 0 ") == NULL);
		run_shim(&r, args, off, 30);
		check_exit(&r, 0);
		CHECK_EQ_STR(r.out, "pipes bytes=20000 bad=0 handler-bad=0 handler-ran=yes\n"
				    "write-site=original read-site=original\n");
		CHECK(strstr(r.err, " fast 0 patched 0 ") != NULL);
	}
}

TEST(file_mapping)
{
	struct jobrun r;

	RUN(&r, 20, build_path("tests/jobs/jobprog-dynamic"), "mmap", "/etc/os-release");
	check_exit(&r, 0);
	CHECK(!strncmp(r.out, "PRETTY_NAME=", 12));
}

TEST(signals_interrupt_blocking_calls)
{
	struct jobrun r;

	/* A trap runs inside a command substitution's wait; timeout's
	 * SIGALRM/SIGTERM must end sleep's nanosleep and timeout's wait. */
	RUN(&r, 20, "/bin/sh", "-c",
	    "trap 'echo usr1' USR1; kill -USR1 $$; timeout 1 sleep 10; echo status=$?");
	check_exit(&r, 0);
	CHECK_EQ_STR(r.out, "usr1\nstatus=124\n");
}

static void make_file(const char *dir, const char *name, const char *text, mode_t mode)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	CHECK(f != NULL);
	fputs(text, f);
	fclose(f);
	CHECK(chmod(path, mode) == 0);
}

TEST(scripts_and_exec_errors)
{
	char script[128], cmd[512];
	struct jobrun r;
	const char *tmpdir = jobrun_tmpdir();

	make_file(tmpdir, "hello.sh", "#!/bin/sh -e\necho script \"$0\" \"$1\"\n", 0755);
	make_file(tmpdir, "noshebang", "echo no-shebang\n", 0755);
	make_file(tmpdir, "noexec.sh", "#!/bin/sh\necho never\n", 0644);
	make_file(tmpdir, "nested.sh", "#!/tmp/NOPE\n", 0755);

	/* The shim loads a `#!` script itself (interpreter, its argument,
	 * the script path, then the arguments). */
	snprintf(script, sizeof(script), "%s/hello.sh", tmpdir);
	RUN(&r, 20, script, "arg1");
	check_exit(&r, 0);
	snprintf(cmd, sizeof(cmd), "script %s arg1\n", script);
	CHECK_EQ_STR(r.out, cmd);

	/* execve from a program: a script, a file without `#!` (ENOEXEC:
	 * dash runs it itself), not executable (126), missing (127), a
	 * missing interpreter (127). */
	snprintf(cmd, sizeof(cmd),
		 "cd %s; ./hello.sh x; ./noshebang; ./noexec.sh 2>/dev/null; echo s=$?; "
		 "./missing 2>/dev/null; echo s=$?; ./nested.sh 2>/dev/null; echo s=$?",
		 tmpdir);
	RUN(&r, 20, "/bin/sh", "-c", cmd);
	check_exit(&r, 0);
	CHECK_EQ_STR(r.out, "script ./hello.sh x\nno-shebang\ns=126\ns=127\ns=127\n");

	/* The shim itself, given a missing program. */
	RUN(&r, 20, "/nonexistent/program");
	check_exit(&r, 127);
}

TEST(environment_and_arguments)
{
	const char *const env[] = { "SHOAL_TEST_VALUE=forty two", NULL };
	const char *const args[] = {
		"/usr/bin/env", "sh", "-c", "echo \"$SHOAL_TEST_VALUE\" \"$0\" $#",
		"zero",		"a",  "b",  NULL
	};
	struct jobrun r;

	run_shim(&r, args, env, 20);
	check_exit(&r, 0);
	CHECK_EQ_STR(r.out, "forty two zero 2\n");
}

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
 * the parent. One case checks the shim binary itself lies in
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

#define OUT_MAX 65536

struct run {
	int status; /* wait status */
	char out[OUT_MAX]; /* stdout */
	char err[OUT_MAX]; /* stderr */
};

static const char *build_dir(void)
{
	const char *b = getenv("SHOAL_BUILD");

	return b && *b ? b : "build";
}

static char *build_path(const char *rel)
{
	static char bufs[4][4096];
	static int next;
	char *p = bufs[next++ % 4];

	snprintf(p, 4096, "%s/%s", build_dir(), rel);
	return p;
}

static const char *shim(void)
{
	const char *p = build_path("instance/jobshim/shoal-jobshim");

	if (access(p, X_OK))
		FAIL("%s is not built (make %s)", p, p);
	return p;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void drain(int fd, char *buf, size_t *len, int *open_)
{
	ssize_t n = read(fd, buf + *len, OUT_MAX - 1 - *len);

	if (n > 0) {
		*len += (size_t)n;
		buf[*len] = 0;
	} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
		*open_ = 0;
	}
	if (*len >= OUT_MAX - 1)
		*open_ = 0;
}

/*
 * Run the shim with @args (NULL-terminated, after "--passthrough"), extra
 * environment @env (NULL-terminated or NULL), for at most @secs seconds:
 * the whole process group is SIGKILLed at the deadline or at the end.
 */
static void run_shim(struct run *r, const char *const *args, const char *const *env, int secs)
{
	int po[2], pe[2], oo = 1, eo = 1;
	size_t ol = 0, el = 0;
	double deadline = now() + secs;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	CHECK(pipe2(po, O_CLOEXEC) == 0 && pipe2(pe, O_CLOEXEC) == 0);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		const char *argv[64];
		int i = 0, j;

		setpgid(0, 0);
		dup2(po[1], 1);
		dup2(pe[1], 2);
		for (j = 0; env && env[j]; j++)
			putenv((char *)env[j]);
		argv[i++] = "shoal-jobshim";
		argv[i++] = "--passthrough";
		for (j = 0; args[j] && i < 63; j++)
			argv[i++] = args[j];
		argv[i] = NULL;
		execv(shim(), (char **)argv);
		_exit(111);
	}
	setpgid(pid, pid);
	close(po[1]);
	close(pe[1]);
	while (oo || eo) {
		struct pollfd p[2] = { { oo ? po[0] : -1, POLLIN, 0 }, { eo ? pe[0] : -1, POLLIN, 0 } };
		int left = (int)((deadline - now()) * 1000);

		if (left <= 0) {
			kill(-pid, SIGKILL);
			waitpid(pid, &r->status, 0);
			FAIL("timeout after %d s; stdout so far: %s; stderr: %s", secs, r->out, r->err);
		}
		if (poll(p, 2, left) < 0 && errno != EINTR)
			FAIL("poll: %s", strerror(errno));
		if (p[0].revents)
			drain(po[0], r->out, &ol, &oo);
		if (p[1].revents)
			drain(pe[0], r->err, &el, &eo);
	}
	close(po[0]);
	close(pe[0]);
	CHECK(waitpid(pid, &r->status, 0) == pid);
	kill(-pid, SIGKILL); /* whatever the program left in its group */
	printf("exit: %s %d\nstdout: %s\nstderr: %s\n",
	       WIFEXITED(r->status) ? "status" : "signal",
	       WIFEXITED(r->status) ? WEXITSTATUS(r->status) : WTERMSIG(r->status), r->out, r->err);
}

#define RUN(r, secs, ...)                                        \
	do {                                                     \
		const char *const args_[] = { __VA_ARGS__, NULL }; \
		run_shim(r, args_, NULL, secs);                  \
	} while (0)

static void check_exit(const struct run *r, int code)
{
	CHECK(WIFEXITED(r->status));
	CHECK_EQ_INT(WEXITSTATUS(r->status), code);
}

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
		CHECK(fseek(f, (long)(eh.e_phoff + (unsigned long)i * eh.e_phentsize), SEEK_SET) == 0);
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
	struct run r;

	RUN(&r, 20, "/bin/true");
	check_exit(&r, 0);
	RUN(&r, 20, "/bin/false");
	check_exit(&r, 1);
}

TEST(sh_echo_and_exit_status)
{
	struct run r;

	RUN(&r, 20, "/bin/sh", "-c", "echo hello; exit 3");
	check_exit(&r, 3);
	CHECK_EQ_STR(r.out, "hello\n");
}

TEST_TIMEOUT(pipeline_fork_exec_wait, 120)
{
	struct run r;

	RUN(&r, 100, "/bin/sh", "-c", "seq 1 200000 | sort -n | tail -1");
	check_exit(&r, 0);
	CHECK_EQ_STR(r.out, "200000\n");
}

TEST_TIMEOUT(python3_runs, 60)
{
	struct run r;

	RUN(&r, 50, "/usr/bin/python3", "-c", "import json, os; print(os.getpid() > 0)");
	check_exit(&r, 0);
	CHECK_EQ_STR(r.out, "True\n");
}

TEST_TIMEOUT(python3_subprocess_and_threads, 60)
{
	struct run r;

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
	struct run r;

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
	struct run r;
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
	struct run r;

	RUN(&r, 20, build_path("tests/jobs/jobprog-static"), "segv");
	CHECK(WIFSIGNALED(r.status));
	CHECK_EQ_INT(WTERMSIG(r.status), SIGSEGV);
	RUN(&r, 20, build_path("tests/jobs/jobprog-dynamic"), "segv");
	CHECK(WIFSIGNALED(r.status));
	CHECK_EQ_INT(WTERMSIG(r.status), SIGSEGV);
	/* Through a shell: the parent (dash, under the shim) sees it too. */
	RUN(&r, 20, "/bin/sh", "-c",
	    "\"$0\" segv 2>/dev/null; echo status=$?", build_path("tests/jobs/jobprog-static"));
	check_exit(&r, 0);
	CHECK_EQ_STR(r.out, "status=139\n");
}

TEST(sigsys_kept_from_program)
{
	struct run r;

	RUN(&r, 20, build_path("tests/jobs/jobprog-dynamic"), "sigsys");
	check_exit(&r, 0);
	CHECK_EQ_STR(r.out, "sigsys sigsys-blocked=0\n");
}

TEST(threads_static_and_dynamic)
{
	struct run r;

	RUN(&r, 20, build_path("tests/jobs/jobprog-static"), "threads", "16");
	check_exit(&r, 0);
	CHECK(strstr(r.out, "joined 16\n") != NULL);
	CHECK(strstr(r.out, "thread 15\n") != NULL);
	RUN(&r, 20, build_path("tests/jobs/jobprog-dynamic"), "threads", "16");
	check_exit(&r, 0);
	CHECK(strstr(r.out, "joined 16\n") != NULL);
}

TEST(file_mapping)
{
	struct run r;

	RUN(&r, 20, build_path("tests/jobs/jobprog-dynamic"), "mmap", "/etc/os-release");
	check_exit(&r, 0);
	CHECK(!strncmp(r.out, "PRETTY_NAME=", 12));
}

TEST(signals_interrupt_blocking_calls)
{
	struct run r;

	/* A trap runs inside a command substitution's wait; timeout's
	 * SIGALRM/SIGTERM must end sleep's nanosleep and timeout's wait. */
	RUN(&r, 20, "/bin/sh", "-c",
	    "trap 'echo usr1' USR1; kill -USR1 $$; timeout 1 sleep 10; echo status=$?");
	check_exit(&r, 0);
	CHECK_EQ_STR(r.out, "usr1\nstatus=124\n");
}

/* A temporary folder for scripts, removed by the case itself. */
static char tmpdir[64];

static void make_file(const char *name, const char *text, mode_t mode)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	CHECK(f != NULL);
	fputs(text, f);
	fclose(f);
	CHECK(chmod(path, mode) == 0);
}

static void remove_tmpdir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", tmpdir);
}

TEST(scripts_and_exec_errors)
{
	char script[128], cmd[512];
	struct run r;

	strcpy(tmpdir, "/tmp/shoal-jobs-XXXXXX");
	CHECK(mkdtemp(tmpdir) != NULL);
	atexit(remove_tmpdir);
	make_file("hello.sh", "#!/bin/sh -e\necho script \"$0\" \"$1\"\n", 0755);
	make_file("noshebang", "echo no-shebang\n", 0755);
	make_file("noexec.sh", "#!/bin/sh\necho never\n", 0644);
	make_file("nested.sh", "#!/tmp/NOPE\n", 0755);

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
	const char *const args[] = { "/usr/bin/env", "sh", "-c", "echo \"$SHOAL_TEST_VALUE\" \"$0\" $#",
				     "zero", "a", "b", NULL };
	struct run r;

	run_shim(&r, args, env, 20);
	check_exit(&r, 0);
	CHECK_EQ_STR(r.out, "forty two zero 2\n");
}

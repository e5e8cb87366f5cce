// SPDX-License-Identifier: GPL-2.0
/*
 * shoal-jobshim in forwarding mode, against fakeinst (tests/jobs/fakeinst.c):
 * the real slot and link protocol of instance/job_abi.h, served by task
 * processes of the fake that run the forwarded calls on the host. The job's
 * own host stdout is /dev/null, so everything a case reads from stdout went
 * through the slots (kernel fd 1 is the fake's stdout). The cases cover the
 * routing (host files as placeholders: the kernel task holds /dev/null at
 * their numbers), dup2 and execve of placeholders, fork and exec through
 * the link, threads registering lazily, transfers larger than a slot,
 * sockets, select, mmap of a kernel file, `#!` scripts living in the
 * instance and ELF programs copied there (the jobprog helper: threads, a
 * raw syscall, SIGSEGV), a default-action signal ending a call blocked in
 * the instance, and the known refusal of shared writable mappings of kernel
 * files.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/harness.h"
#include "tests/jobs/jobrun.h"

/* Run PROGRAM with ARGV (argv[0] included) under the shim and fakeinst,
 * in the case's temporary folder (the task processes' cwd, too). */
static void run_fwd(struct jobrun *r, const char *const *args, const char *const *env, int secs)
{
	const char *argv[64];
	int i = 0, j;

	argv[i++] = jobrun_build_path("tests/jobs/fakeinst");
	argv[i++] = jobrun_shim();
	for (j = 0; args[j] && i < 63; j++)
		argv[i++] = args[j];
	argv[i] = NULL;
	jobrun(r, argv, env, jobrun_tmpdir(), secs);
}

#define FWD(r, secs, ...)                                          \
	do {                                                       \
		const char *const args_[] = { __VA_ARGS__, NULL }; \
		run_fwd(r, args_, NULL, secs);                     \
	} while (0)

#define SH(r, secs, script) FWD(r, secs, "/bin/sh", "sh", "-c", script)

TEST(forward_sh_exit_status)
{
	const char *const env[] = { "SHOAL_SHIM_DEBUG=1", NULL };
	const char *const args[] = { "/bin/sh", "sh", "-c", "echo hello; exit 3", NULL };
	struct jobrun r;
	const char *p;

	run_fwd(&r, args, env, 20);
	jobrun_check_exit(&r, 3);
	CHECK_EQ_STR(r.out, "hello\n");
	p = strstr(r.err, " forwarded ");
	CHECK(p != NULL);
	CHECK(atoi(p + 11) > 0);
}

TEST_TIMEOUT(forward_pipeline_fork_exec, 120)
{
	struct jobrun r;

	SH(&r, 100, "seq 1 200000 | sort -n | tail -1");
	jobrun_check_exit(&r, 0);
	CHECK_EQ_STR(r.out, "200000\n");
}

TEST_TIMEOUT(forward_python3, 60)
{
	struct jobrun r;

	FWD(&r, 50, "/usr/bin/python3", "python3", "-c",
	    "import json, os; print(os.getpid() > 0, json.dumps([1]))");
	jobrun_check_exit(&r, 0);
	CHECK_EQ_STR(r.out, "True [1]\n");
}

TEST(forward_static_busybox)
{
	struct jobrun r;

	if (access("/bin/busybox", X_OK))
		SKIP("/bin/busybox (busybox-static) is not installed");
	FWD(&r, 20, "/bin/busybox", "busybox", "sh", "-c", "echo static $((6 * 7)) > f; cat f");
	jobrun_check_exit(&r, 0);
	CHECK_EQ_STR(r.out, "static 42\n");
}

TEST(forward_placeholders)
{
	struct jobrun r;

	/* /etc/os-release is a host file: the kernel task has /dev/null at
	 * fd 3 (readlink runs in the kernel), reads go to the host file,
	 * through a dup2 onto fd 0 and across execve (head, readlink). */
	SH(&r, 20,
	   "exec 3</etc/os-release; readlink /proc/self/fd/3; head -c 12 <&3; echo;"
	   " exec 4<&3; exec 3<&-; head -c 5 <&4; echo; ls -d /usr/bin");
	jobrun_check_exit(&r, 0);
	CHECK_EQ_STR(r.out, "/dev/null\nPRETTY_NAME=\n\"Debi\n/usr/bin\n");
}

TEST(forward_large_transfers)
{
	struct jobrun r;

	/* 3 MB through a pipe and a file: writes in chunks of a slot, short
	 * reads of at most one. */
	SH(&r, 30,
	   "head -c 3000000 /dev/zero | wc -c; head -c 3000000 /dev/urandom > big;"
	   " wc -c < big; cat big | cat > copy; cmp big copy && echo same");
	jobrun_check_exit(&r, 0);
	CHECK_EQ_STR(r.out, "3000000\n3000000\nsame\n");
}

TEST_TIMEOUT(forward_python_sockets_threads, 60)
{
	struct jobrun r;

	FWD(&r, 50, "/usr/bin/python3", "python3", "-c",
	    "import os, socket, threading, select, subprocess\n"
	    "a, b = socket.socketpair()\n"
	    "a.sendmsg([b'x' * 3, b'y' * 2]); print(b.recv(100))\n"
	    "r, w, _ = select.select([b], [b], [], 0); print('select', r, len(w))\n"
	    "out = []\n"
	    "ts = [threading.Thread(target=lambda i=i: out.append(os.write(1, b'')))"
	    " for i in range(8)]\n"
	    "[t.start() for t in ts]; [t.join() for t in ts]; print('threads', len(out))\n"
	    "srv = socket.socket(); srv.bind(('127.0.0.1', 0)); srv.listen()\n"
	    "c = socket.create_connection(srv.getsockname()); s, _ = srv.accept()\n"
	    "c.sendall(b'z' * 2000000); n = 0\n"
	    "while n < 2000000: n += len(s.recv(1 << 20))\n"
	    "print('tcp', n)\n"
	    "print(subprocess.run(['/bin/echo', 'sub'], capture_output=True).stdout)\n");
	jobrun_check_exit(&r, 0);
	CHECK_EQ_STR(r.out, "b'xxxyy'\nselect [] 1\nthreads 8\ntcp 2000000\nb'sub\\n'\n");
}

TEST(forward_scripts_in_instance)
{
	struct jobrun r;

	/* A `#!` script written by the job in its cwd (an instance path):
	 * run by sh, and by the shim itself as the job's program; an ELF
	 * program copied there runs too (read into anonymous memory). */
	SH(&r, 20,
	   "printf '#!/bin/sh\\necho script \"$1\"\\n' > s.sh; chmod +x s.sh; ./s.sh one;"
	   " cp /bin/echo e; ./e elf; cp /bin/true t; chmod -x t; ./t 2>/dev/null; echo $?;"
	   " mkdir -p dir; ./dir 2>/dev/null; echo $?");
	jobrun_check_exit(&r, 0);
	CHECK_EQ_STR(r.out, "script one\nelf\n126\n126\n");
	FWD(&r, 20, "s.sh", "s.sh", "two");
	jobrun_check_exit(&r, 0);
	CHECK_EQ_STR(r.out, "script two\n");
}

TEST(forward_mmap_kernel_file)
{
	struct jobrun r;

	FWD(&r, 30, "/usr/bin/python3", "python3", "-c",
	    "import mmap\n"
	    "open('m', 'wb').write(b'hello mapping' + b'.' * 100000)\n"
	    "f = open('m', 'r+b')\n"
	    "m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ); print(m[:13], len(m))\n"
	    "p = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY); p[0:1] = b'J'; print(p[:5])\n"
	    "try:\n"
	    "    mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_WRITE)\n"
	    "except OSError as e:\n"
	    "    print('shared', e.errno)\n");
	jobrun_check_exit(&r, 0);
	CHECK_EQ_STR(r.out, "b'hello mapping' 100013\nb'Jello'\nshared 19\n");
}

TEST(forward_signals_and_cwd)
{
	struct jobrun r;

	SH(&r, 20,
	   "sleep 5 & kill $!; wait $!; echo killed=$?; mkdir -p d/e && cd d/e && pwd -P |"
	   " sed 's|.*/d/e$|in d/e|'; echo x > f; cat ../e/f; uname -n >/dev/null && echo uname");
	jobrun_check_exit(&r, 0);
	CHECK_EQ_STR(r.out, "killed=143\nin d/e\nx\nuname\n");
}

TEST(forward_sigterm_ends_blocked_call)
{
	struct jobrun r;

	/* cat blocks in a read the instance serves; SIGTERM (no handler)
	 * must still end it, as it would end a read of a host pipe. */
	SH(&r, 20, "sleep 2 | cat & p=$!; sleep 0.3; kill $p; wait $p; echo status=$?");
	jobrun_check_exit(&r, 0);
	CHECK_EQ_STR(r.out, "status=143\n");
}

/* The helper, copied into the case's folder (an instance path). */
static const char *copy_prog(const char *name)
{
	static char dst[256];
	const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
	char cmd[1024];

	snprintf(dst, sizeof(dst), "%s/%s", jobrun_tmpdir(), base);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", jobrun_build_path(name), dst);
	CHECK(system(cmd) == 0);
	return dst;
}

TEST(forward_instance_elf_programs)
{
	const char *names[] = { "tests/jobs/jobprog-static", "tests/jobs/jobprog-dynamic" };
	struct jobrun r;
	size_t i;

	for (i = 0; i < 2; i++) {
		char prog[256];

		snprintf(prog, sizeof(prog), "%s", copy_prog(names[i]));
		/* Threads register with the instance on their first call. */
		FWD(&r, 20, prog, "jobprog", "threads", "16");
		jobrun_check_exit(&r, 0);
		CHECK(strstr(r.out, "joined 16\n") != NULL);
		CHECK(strstr(r.out, "thread 15\n") != NULL);
		FWD(&r, 20, prog, "jobprog", "raw-ptrace");
		jobrun_check_exit(&r, 0);
		CHECK_EQ_STR(r.out, "ptrace=-1\n");
		FWD(&r, 20, prog, "jobprog", "segv");
		jobrun_check_exit(&r, 128 + 11); /* fakeinst: killed by SIGSEGV */
		FWD(&r, 20, prog, "jobprog", "sigsys");
		jobrun_check_exit(&r, 0);
		CHECK_EQ_STR(r.out, "sigsys sigsys-blocked=0\n");
		FWD(&r, 20, prog, "jobprog", "mmap", "/etc/os-release");
		jobrun_check_exit(&r, 0);
		CHECK(!strncmp(r.out, "PRETTY_NAME=", 12));
	}
}

TEST(forward_instance_death_is_eio)
{
	struct jobrun r;

	/* Kill the fake's task process that serves the shell (a child of
	 * fakeinst, like the job): the shell's next forwarded call finds the
	 * link hung up within about a second and fails with EIO; the job
	 * ends instead of sleeping forever. */
	SH(&r, 20, "pkill -9 -P $PPID -x fakeinst; sleep 0.2; echo lost; exit 7");
	jobrun_check_exit(&r, 7);
	CHECK_EQ_STR(r.out, "");
}

TEST(forward_placeholder_table_mirrors_the_kernel)
{
	const char *const env[] = { "SHOAL_SHIM_DEBUG=1", NULL };
	const char *const args[] = {
		"/usr/bin/python3", "python3", "-c",
		"import os, fcntl\n"
		"fds = [os.open('/usr/lib/os-release', os.O_RDONLY) for i in range(50)]\n"
		"d = os.dup(fds[0]); os.dup2(fds[1], fds[2]); os.closerange(fds[3], fds[49] + 1)\n"
		"e = os.open('/usr/lib/os-release', os.O_RDONLY | os.O_CLOEXEC); os.dup2(1, e)\n"
		"f = fcntl.fcntl(fds[0], fcntl.F_DUPFD_CLOEXEC, 500)\n"
		"print(os.read(f, 6), os.read(fds[2], 6), os.read(d, 3))\n"
		"for x in fds[:3] + [d, e, f]: os.close(x)\n",
		NULL
	};
	struct jobrun r;

	/* dup, dup2, F_DUPFD_CLOEXEC of placeholders share the host file
	 * (one offset, as dups do); closerange and dup2 over a placeholder
	 * close the host fds: none is left at exit. */
	run_fwd(&r, args, env, 30);
	jobrun_check_exit(&r, 0);
	CHECK_EQ_STR(r.out, "b'PRETTY' b'PRETTY' b'_NA'\n");
	CHECK(strstr(r.err, " placeholders 0\n") != NULL);
}

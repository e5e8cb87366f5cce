// SPDX-License-Identifier: GPL-2.0
/*
 * The job shim's forwarding against real instances: what tests/jobs once
 * checked against a stand-in for the instance side, here with the real
 * shoal-instance, its library kernel and its jail. Placeholders (host files
 * and the fds the host makes: memfd_create, signalfd, pidfd_open) are
 * /dev/null in the kernel task and the host file on the host, and the table
 * of them follows dup, dup2, F_DUPFD_CLOEXEC, closerange and close as the
 * kernel's fd table does (the job's host fds are counted from /proc);
 * transfers larger than a slot; sockets, select, threads and subprocess;
 * mmap of a file in the instance kernel; `#!` scripts and ELF programs that
 * live in the instance (tests/jobs/jobprog, static and dynamic); signals
 * and cwd; a default-action signal ending a call blocked in the instance
 * (seen blocked from the host: the job waits on a futex of its region); and
 * the instance's death while a job waits in a forwarded call: the job, its
 * reaper and the zygote end, nothing is left; what the jail gives a job's
 * first process (capabilities, filters, pid namespace, descriptors), the
 * jobs' host network namespace: empty, not the host's nor the instance's,
 * one per instance; and a handled signal interrupting a call that waits in
 * the instance (EINTR, or the call going on under SA_RESTART).
 *
 * Every case starts its own instance; tinst's guardian removes what a
 * failed case left. Nothing is written on the host.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "instance/job_abi.h"
#include "tests/harness.h"
#include "tests/instance/tinst.h"

/* A host file read whole (fails the case if it cannot be); caller frees. */
static void *read_host_file(const char *path, size_t *len)
{
	size_t cap = 1 << 16, n = 0, r;
	char *buf = malloc(cap);
	FILE *f = fopen(path, "rb");

	if (!f)
		FAIL("%s: %s", path, strerror(errno));
	CHECK(buf != NULL);
	while ((r = fread(buf + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			CHECK(buf != NULL);
		}
	}
	fclose(f);
	*len = n;
	return buf;
}

/* One of tests/jobs/jobprog's builds, put into the instance at @dst. */
static void put_jobprog(struct tinst *t, const char *build_name, const char *dst)
{
	const char *build = getenv("SHOAL_BUILD") ? getenv("SHOAL_BUILD") : "build";
	char path[512];
	size_t len;
	void *elf;

	snprintf(path, sizeof(path), "%s/tests/jobs/%s", build, build_name);
	if (access(path, R_OK))
		FAIL("%s: %s (make it first: tests/jobs/jobs.mk)", path, strerror(errno));
	elf = read_host_file(path, &len);
	CHECK_EQ_INT(tinst_put(t, dst, elf, len, 0755), PROTO_OK);
	free(elf);
}

/* Run @argv in @cwd (NULL: the default) and wait for its end. */
static void run_in(struct tinst *t, const char *const *argv, const char *cwd, int timeout_ms,
		   struct tinst_job *res)
{
	struct proto_msg msg;

	tinst_exec_init(&msg, argv);
	msg.exec.cwd = cwd;
	tinst_exec_send(t, &msg, res);
	if (!res->job)
		FAIL("exec %s: refused: %s", argv[0], res->message);
	tinst_exec_wait(t, res, timeout_ms);
}

static void run_sh(struct tinst *t, const char *script, int timeout_ms, struct tinst_job *res)
{
	const char *const argv[] = { "sh", "-c", script, NULL };

	run_in(t, argv, "/tmp", timeout_ms, res);
}

/* Start @argv with its stdin fed by exec_input (nothing sent yet). */
static void start_streamed(struct tinst *t, const char *const *argv, struct tinst_job *res)
{
	struct proto_msg msg;

	tinst_exec_init(&msg, argv);
	msg.exec.cwd = "/tmp";
	msg.exec.stdin_stream = true;
	tinst_exec_send(t, &msg, res);
	if (!res->job)
		FAIL("exec %s: refused: %s", argv[0], res->message);
}

static void send_input(struct tinst *t, uint64_t job, const char *text, bool eof)
{
	struct proto_msg msg;

	proto_msg_init(&msg, PROTO_EXEC_INPUT, 0);
	msg.exec_input.job = job;
	msg.exec_input.data.data = (const unsigned char *)text;
	msg.exec_input.data.len = strlen(text);
	msg.exec_input.eof = eof;
	tinst_send(t, &msg, NULL, 0);
}

/*
 * Collect @res's stdout until it contains @marker, within @timeout_ms
 * (tinst_exec_wait later goes on from there). Its end first fails the case.
 */
static void wait_output(struct tinst *t, struct tinst_job *res, const char *marker, int timeout_ms)
{
	int waited = 0;

	while (!res->out[0] || !strstr((char *)res->out[0], marker)) {
		struct proto_msg msg;
		int r = tinst_recv(t, &msg, 100);

		if (r == -ETIMEDOUT) {
			waited += 100;
			if (waited >= timeout_ms)
				FAIL("job %llu: no \"%s\" within %d ms; stdout so far: %s",
				     (unsigned long long)res->job, marker, timeout_ms,
				     res->out[0] ? (char *)res->out[0] : "");
			continue;
		}
		CHECK_EQ_INT(r, 0);
		if (msg.type == PROTO_EXEC_EXIT && msg.exec_exit.job == res->job)
			FAIL("job %llu ended (exit %d, signal %d) before \"%s\"; stdout: %s",
			     (unsigned long long)res->job, msg.exec_exit.exit_code,
			     msg.exec_exit.signal, marker, res->out[0] ? (char *)res->out[0] : "");
		tinst_job_output(res, &msg);
		proto_msg_free(&msg);
	}
}

/* The only child of @pid, waiting up to two seconds for one to appear. */
static pid_t only_child(pid_t pid)
{
	char kids[128];
	int i, a = 0, b = 0;

	for (i = 0; i < 200; i++) {
		tinst_children(pid, kids, sizeof(kids));
		if (sscanf(kids, "%d %d", &a, &b) == 1)
			return a;
		usleep(10000);
	}
	FAIL("process %d: children \"%s\", expected exactly one", (int)pid, kids);
}

/* The host process of the only running job's program: zygote -> reaper -> it. */
static pid_t job_host_pid(struct tinst *t, pid_t *reaper)
{
	*reaper = only_child(tinst_zygote_pid(t));
	return only_child(*reaper);
}

/*
 * Wait until @pid sleeps in a forwarded call: a futex wait on a word of its
 * job region (the slot's state, which the instance's serving thread sets
 * when it has the answer). A host call that blocks would show another call
 * or address. /proc/PID/syscall is "NR ARG1 ...", NR in decimal.
 */
static void wait_blocked_in_the_instance(pid_t pid)
{
	char path[64], line[256];
	int i;

	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)pid);
	for (i = 0; i < 500; i++) {
		unsigned long long addr = 0;
		FILE *f = fopen(path, "r");
		long nr = -1;

		line[0] = 0;
		if (f) {
			if (!fgets(line, sizeof(line), f))
				line[0] = 0;
			fclose(f);
		}
		if (sscanf(line, "%ld %llx", &nr, &addr) == 2 && nr == 202 /* futex */ &&
		    addr >= SHOAL_REGION_JOB_ADDR &&
		    addr < SHOAL_REGION_JOB_ADDR + SHOAL_REGION_SIZE)
			return;
		usleep(10000);
	}
	FAIL("process %d is not waiting in a forwarded call: %s", (int)pid, line);
}

/* Wait up to five seconds for @pid to be gone (not even a zombie). */
static bool gone(pid_t pid)
{
	int i;

	for (i = 0; i < 500; i++) {
		if (kill(pid, 0) < 0 && errno == ESRCH)
			return true;
		usleep(10000);
	}
	return false;
}

/* Does any cgroup named for instance @id remain? */
static bool cgroup_left(const char *id)
{
	static const char *const bases[] = { "/sys/fs/cgroup/memory/shoal",
					     "/sys/fs/cgroup/pids/shoal", "/sys/fs/cgroup/shoal" };
	char path[512];
	size_t b;

	for (b = 0; b < sizeof(bases) / sizeof(bases[0]); b++) {
		snprintf(path, sizeof(path), "%s/%s", bases[b], id);
		if (access(path, F_OK) == 0)
			return true;
	}
	return false;
}

static void remove_cgroups(const char *id)
{
	static const char *const bases[] = { "/sys/fs/cgroup/memory/shoal",
					     "/sys/fs/cgroup/pids/shoal", "/sys/fs/cgroup/shoal" };
	char path[512];
	size_t b;

	for (b = 0; b < sizeof(bases) / sizeof(bases[0]); b++) {
		snprintf(path, sizeof(path), "%s/%s", bases[b], id);
		rmdir(path);
	}
}

/* How many of @pid's host fds are the host file @path (same device and inode). */
static int host_fds_on(pid_t pid, const char *path)
{
	char dir[64], fd[384];
	struct stat want, st;
	struct dirent *e;
	int n = 0;
	DIR *d;

	CHECK(stat(path, &want) == 0);
	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	d = opendir(dir);
	if (!d)
		FAIL("opendir %s: %s", dir, strerror(errno));
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(fd, sizeof(fd), "%s/%s", dir, e->d_name);
		if (stat(fd, &st) == 0 && st.st_dev == want.st_dev && st.st_ino == want.st_ino)
			n++;
	}
	closedir(d);
	return n;
}

TEST(static_busybox_from_the_host_uses_instance_files)
{
	struct tinst t;
	const char *const argv[] = { "/bin/busybox", "sh", "-c",
				     "echo static $((6 * 7)) > f; cat f; cat /tmp/f", NULL };

	tinst_require_jobshim();
	if (access("/bin/busybox", X_OK))
		SKIP("/bin/busybox (busybox-static) is not installed");
	tinst_start(&t, NULL, NULL);
	tinst_run_ok(&t, argv, "/tmp", 30000, "static 42\nstatic 42\n");
	tinst_shutdown(&t);
}

TEST(host_files_are_placeholders_at_dev_null_in_the_kernel)
{
	char expect[128], *head;
	struct tinst_job res;
	struct tinst t;
	size_t len;

	tinst_require_jobshim();
	head = read_host_file("/usr/lib/os-release", &len);
	CHECK(len >= 17);
	snprintf(expect, sizeof(expect), "/dev/null\n%.12s\n%.5s\n/usr/bin\n", head, head + 12);
	free(head);
	tinst_start(&t, NULL, NULL);
	/*
	 * A host file at fd 3: readlink runs in the kernel (/proc is the
	 * instance's) and sees the kernel task's /dev/null there; reads go to
	 * the host file, through dup2 onto fd 0, across execve (head), through
	 * a dup that shares the offset after the original is closed.
	 */
	run_sh(&t,
	       "exec 3</usr/lib/os-release; readlink /proc/self/fd/3; head -c 12 <&3; echo;"
	       " exec 4<&3; exec 3<&-; head -c 5 <&4; echo; ls -d /usr/bin",
	       30000, &res);
	CHECK_EQ_INT(res.exit.exit_code, 0);
	CHECK_EQ_STR((char *)res.out[0], expect);
	tinst_job_free(&res);
	tinst_shutdown(&t);
}

TEST_TIMEOUT(fds_the_host_makes_are_placeholders, 60)
{
	const char *const py[] = {
		"python3", "-c",
		"import os, signal, ctypes, struct, time\n"
		"libc = ctypes.CDLL(None, use_errno=True)\n"
		"def kfd(fd): return os.readlink('/proc/self/fd/%d' % fd)\n"
		"m = os.memfd_create('shoal')\n"
		"os.write(m, b'memfd data'); os.lseek(m, 0, 0); d = os.dup(m)\n"
		"print('memfd', os.read(m, 5), os.read(d, 5), os.fstat(m).st_size, kfd(m), "
		"kfd(d))\n"
		"os.close(m); os.close(d)\n"
		"signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1])\n"
		"mask = ctypes.c_uint64(1 << (signal.SIGUSR1 - 1))\n"
		"s = libc.signalfd(-1, ctypes.byref(mask), 0)\n"
		"os.kill(os.getpid(), signal.SIGUSR1)\n"
		"print('signalfd', struct.unpack('I', os.read(s, 128)[:4])[0], kfd(s))\n"
		"pid = os.fork()\n"
		"if pid == 0:\n"
		"    time.sleep(100); os._exit(0)\n"
		"p = os.pidfd_open(pid)\n"
		"signal.pidfd_send_signal(p, signal.SIGKILL)\n"
		"print('pidfd', kfd(p), os.waitpid(pid, 0)[1])\n",
		NULL
	};
	struct tinst t;

	tinst_require_jobshim();
	tinst_start(&t, NULL, NULL);
	/*
	 * memfd_create, signalfd and pidfd_open run on the host; the program
	 * gets a number that is /dev/null in the kernel task, and its reads,
	 * fstat, dup and pidfd_send_signal reach the host's fd.
	 */
	tinst_run_ok(&t, py, "/tmp", 50000,
		     "memfd b'memfd' b' data' 10 /dev/null /dev/null\n"
		     "signalfd 10 /dev/null\n"
		     "pidfd /dev/null 9\n");
	tinst_shutdown(&t);
}

TEST_TIMEOUT(placeholder_table_mirrors_the_kernel, 60)
{
	const char *const py[] = {
		"python3", "-c",
		"import os, sys, fcntl\n"
		"P = '/usr/lib/os-release'\n"
		"fds = [os.open(P, os.O_RDONLY) for i in range(50)]\n"
		"d = os.dup(fds[0]); os.dup2(fds[1], fds[2]); os.closerange(fds[3], fds[49] + 1)\n"
		"e = os.open(P, os.O_RDONLY | os.O_CLOEXEC); os.dup2(1, e)\n"
		"f = fcntl.fcntl(fds[0], fcntl.F_DUPFD_CLOEXEC, 500)\n"
		"print(os.read(f, 6), os.read(fds[2], 6), os.read(d, 3))\n"
		"live = fds[:3] + [d, f]\n"
		"print(sorted(set(os.readlink('/proc/self/fd/%d' % x) for x in live)),\n"
		"      os.fstat(e).st_ino == os.fstat(1).st_ino)\n"
		"print('open', len(live), flush=True)\n"
		"sys.stdin.readline()\n"
		"for x in live + [e]: os.close(x)\n"
		"print('closed', flush=True)\n"
		"sys.stdin.readline()\n",
		NULL
	};
	struct tinst_job res;
	pid_t pid, reaper;
	struct tinst t;

	tinst_require_jobshim();
	tinst_start(&t, NULL, NULL);
	start_streamed(&t, py, &res);
	/*
	 * dup, dup2, F_DUPFD_CLOEXEC of placeholders share the host file (one
	 * offset, as dups do); closerange and a dup2 over a placeholder close
	 * its host fd. While the program waits for its stdin, its host fds on
	 * the file are exactly its five live placeholders; after it closed
	 * them, none.
	 */
	wait_output(&t, &res, "open 5\n", 40000);
	pid = job_host_pid(&t, &reaper);
	wait_blocked_in_the_instance(pid);
	CHECK_EQ_INT(host_fds_on(pid, "/usr/lib/os-release"), 5);
	send_input(&t, res.job, "go\n", false);
	wait_output(&t, &res, "closed\n", 10000);
	wait_blocked_in_the_instance(pid);
	CHECK_EQ_INT(host_fds_on(pid, "/usr/lib/os-release"), 0);
	send_input(&t, res.job, "", true);
	tinst_exec_wait(&t, &res, 10000);
	CHECK_EQ_INT(res.exit.exit_code, 0);
	CHECK_EQ_STR((char *)res.out[0], "b'PRETTY' b'PRETTY' b'_NA'\n"
					 "['/dev/null'] True\n"
					 "open 5\n"
					 "closed\n");
	tinst_job_free(&res);
	tinst_shutdown(&t);
}

/* The inode of /proc/@pid/ns/net (0: unreadable). */
static unsigned long long netns_inode(pid_t pid)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	return stat(path, &st) == 0 ? (unsigned long long)st.st_ino : 0;
}

/* The network interfaces of @pid's network namespace, "lo" or "lo,eth0"... */
static void netns_links(pid_t pid, char *buf, size_t size)
{
	char path[64];
	int pfd[2], fd;
	pid_t child;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	CHECK(pipe(pfd) == 0);
	child = fork();
	CHECK(child >= 0);
	if (child == 0) {
		struct if_nameindex *ifs, *i;
		char out[256] = "";

		fd = open(path, O_RDONLY);
		if (fd < 0 || setns(fd, CLONE_NEWNET) < 0 || !(ifs = if_nameindex()))
			_exit(1);
		for (i = ifs; i->if_name; i++)
			snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s",
				 i == ifs ? "" : ",", i->if_name);
		if (write(pfd[1], out, strlen(out)) < 0)
			_exit(1);
		_exit(0);
	}
	close(pfd[1]);
	n = read(pfd[0], buf, size - 1);
	buf[n > 0 ? n : 0] = 0;
	close(pfd[0]);
	waitpid(child, NULL, 0);
}

/*
 * A job's host network namespace is empty (loopback only) and not the
 * host's: it is the instance's own, which the zygote joined, and every job
 * of the instance runs in it (a job's sockets are the instance kernel's).
 */
TEST_TIMEOUT(jobs_run_in_the_instances_empty_network_namespace, 60)
{
	const char *const wait_line[] = { "sh", "-c", "echo up; read x; echo done", NULL };
	unsigned long long job_ns, first_ns;
	struct tinst_job a, b;
	char links[256];
	pid_t pid, reaper;
	struct tinst t;

	tinst_require_jobshim();
	tinst_start(&t, NULL, NULL);
	start_streamed(&t, wait_line, &a);
	wait_output(&t, &a, "up\n", 30000);
	pid = job_host_pid(&t, &reaper);
	job_ns = netns_inode(pid);
	CHECK(job_ns != 0);
	CHECK(job_ns != netns_inode(getpid()));
	CHECK(job_ns == netns_inode(tinst_inner_pid(&t)));
	netns_links(pid, links, sizeof(links));
	CHECK_EQ_STR(links, "lo");
	send_input(&t, a.job, "x\n", true);
	tinst_exec_wait(&t, &a, 10000);
	CHECK_EQ_STR((char *)a.out[0], "up\ndone\n");
	tinst_job_free(&a);
	/* The next job: the same empty namespace, not a new one per job. */
	first_ns = job_ns;
	start_streamed(&t, wait_line, &b);
	wait_output(&t, &b, "up\n", 30000);
	pid = job_host_pid(&t, &reaper);
	CHECK(netns_inode(pid) == first_ns);
	send_input(&t, b.job, "x\n", true);
	tinst_exec_wait(&t, &b, 10000);
	tinst_job_free(&b);
	tinst_shutdown(&t);
}

/* The value of "@key:" in /proc/@pid/status, its last field for NSpid and NSsid. */
static void proc_status(pid_t pid, const char *key, char *value, size_t size)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	CHECK(f != NULL);
	value[0] = 0;
	while (fgets(line, sizeof(line), f)) {
		char *v, *last;

		if (strncmp(line, key, strlen(key)) || line[strlen(key)] != ':')
			continue;
		v = line + strlen(key) + 1;
		v[strcspn(v, "\n")] = 0;
		last = strrchr(v, '\t');
		snprintf(value, size, "%s", last ? last + 1 : v);
	}
	fclose(f);
}

/*
 * What the jail promised a job's first process, seen from the host while a
 * real one (sh under the shim) waits in a forwarded read: no capability in
 * any set, no_new_privs, seccomp filters (the zygote's and the shim's), pid
 * 2 and its own session in a pid namespace of its own (the reaper is 1),
 * and exactly the descriptors job_abi.h names: /dev/null on 0, 1, 2, the
 * shim on 3, the link on 4, the region on 5. The only others allowed are
 * the shim's own probe pipe (patch.c: close-on-exec, non-blocking).
 */
TEST_TIMEOUT(the_first_process_gets_what_the_jail_promised, 60)
{
	static const char *const caps[] = { "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb" };
	const char *const wait_line[] = { "sh", "-c", "echo up; read x; echo done", NULL };
	char value[256], path[64], target[256], fdinfo[256];
	struct tinst_job res;
	pid_t pid, reaper;
	struct dirent *e;
	struct tinst t;
	unsigned int i;
	DIR *d;

	tinst_require_jobshim();
	tinst_start(&t, NULL, NULL);
	start_streamed(&t, wait_line, &res);
	wait_output(&t, &res, "up\n", 30000);
	pid = job_host_pid(&t, &reaper);
	wait_blocked_in_the_instance(pid);
	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		proc_status(pid, caps[i], value, sizeof(value));
		CHECK_EQ_STR(value, "0000000000000000");
	}
	proc_status(pid, "NoNewPrivs", value, sizeof(value));
	CHECK_EQ_STR(value, "1");
	proc_status(pid, "Seccomp", value, sizeof(value));
	CHECK_EQ_STR(value, "2");
	proc_status(pid, "NSpid", value, sizeof(value));
	CHECK_EQ_STR(value, "2");
	proc_status(pid, "NSsid", value, sizeof(value));
	CHECK_EQ_STR(value, "2");
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	CHECK(d != NULL);
	while ((e = readdir(d))) {
		char link[300];
		ssize_t n;
		int fd;
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		fd = atoi(e->d_name);
		snprintf(link, sizeof(link), "/proc/%d/fd/%d", (int)pid, fd);
		n = readlink(link, target, sizeof(target) - 1);
		CHECK(n > 0);
		target[n] = 0;
		snprintf(link, sizeof(link), "/proc/%d/fdinfo/%d", (int)pid, fd);
		f = fopen(link, "r");
		CHECK(f != NULL);
		value[0] = 0;
		while (fgets(fdinfo, sizeof(fdinfo), f))
			if (!strncmp(fdinfo, "flags:", 6))
				snprintf(value, sizeof(value), "%s",
					 fdinfo + 6 + strspn(fdinfo + 6, " \t"));
		fclose(f);
		value[strcspn(value, "\n")] = 0;
		printf("fd %d -> %s (flags %s)\n", fd, target, value);
		if (fd <= 2)
			CHECK_EQ_STR(target, "/dev/null");
		else if (fd == 3)
			CHECK(strstr(target, "shoal-jobshim") != NULL);
		else if (fd == 4)
			CHECK(!strncmp(target, "socket:", 7));
		else if (fd == 5)
			CHECK(!strncmp(target, "/memfd:shoal-job", 16));
		else
			CHECK(!strncmp(target, "pipe:", 5) &&
			      (strtoul(value, NULL, 8) & 02004000) == 02004000);
	}
	closedir(d);
	send_input(&t, res.job, "x\n", true);
	tinst_exec_wait(&t, &res, 10000);
	CHECK_EQ_STR((char *)res.out[0], "up\ndone\n");
	tinst_job_free(&res);
	tinst_shutdown(&t);
}

/*
 * A signal the program handles, arriving while its call waits in the
 * instance kernel, interrupts that call as a host kernel would: the shim
 * cancels it (SHOAL_LINK_CANCEL), the handler runs, and the call fails with
 * EINTR or, for a handler with SA_RESTART, goes on. jobprog's rounds pass
 * through the trap and, from the fourth, through a rewritten read site; a
 * Python alarm and a dash trap are the programs people run. Without the
 * cancel each of these would wait until its end (the case's time-out).
 */
TEST_TIMEOUT(a_handled_signal_interrupts_a_call_waiting_in_the_instance, 120)
{
	const char *const restart[] = { "/tmp/jobprog", "sigread", "restart", "6", NULL };
	const char *const norestart[] = { "/tmp/jobprog", "sigread", "norestart", "6", NULL };
	const char *const py[] = {
		"python3", "-c",
		"import signal, os\n"
		"class Alarm(Exception): pass\n"
		"def on_alarm(sig, frame): raise Alarm()\n"
		"signal.signal(signal.SIGALRM, on_alarm)\n"
		"r, w = os.pipe()\n"
		"signal.setitimer(signal.ITIMER_REAL, 0.2)\n"
		"try:\n"
		"    os.read(r, 1); print('read returned')\n"
		"except Alarm:\n"
		"    print('interrupted')\n",
		NULL
	};
	/* Opening a FIFO with no writer waits in the instance kernel. */
	const char *const trap[] = {
		"sh", "-c",
		"mkfifo /tmp/fifo; trap 'echo usr1' USR1; (sleep 0.3; kill -USR1 $$) &\n"
		"read x < /tmp/fifo; echo after=$?",
		NULL
	};
	struct tinst_job res;
	struct tinst t;
	const struct {
		const char *const *argv;
		const char *out, *err;
	} runs[] = {
		{ restart, "sigread restart rounds=6 ok=6\n", NULL },
		{ norestart, "sigread norestart rounds=6 ok=6\n", NULL },
		{ py, "interrupted\n", NULL },
		{ trap, "usr1\nafter=2\n", "Interrupted system call" },
	};
	unsigned int i;

	tinst_require_jobshim();
	tinst_start(&t, NULL, NULL);
	put_jobprog(&t, "jobprog-static", "/tmp/jobprog");
	for (i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		run_in(&t, runs[i].argv, NULL, 30000, &res);
		CHECK_EQ_INT(res.exit.exit_code, 0);
		CHECK_EQ_STR((char *)res.out[0], runs[i].out);
		if (runs[i].err)
			CHECK(res.out[1] && strstr((char *)res.out[1], runs[i].err) != NULL);
		tinst_job_free(&res);
	}
	tinst_shutdown(&t);
}

TEST(large_transfers_through_pipes_and_files)
{
	struct tinst_job res;
	struct tinst t;

	tinst_require_jobshim();
	tinst_start(&t, NULL, NULL);
	/* 3 MB through an instance pipe and an instance file: writes in chunks
	 * of a slot, short reads of at most one. */
	run_sh(&t,
	       "head -c 3000000 /dev/zero | wc -c; head -c 3000000 /dev/urandom > big;"
	       " wc -c < big; cat big | cat > copy; cmp big copy && echo same",
	       60000, &res);
	CHECK_EQ_INT(res.exit.exit_code, 0);
	CHECK_EQ_STR((char *)res.out[0], "3000000\n3000000\nsame\n");
	tinst_job_free(&res);
	tinst_shutdown(&t);
}

TEST_TIMEOUT(python_sockets_select_threads_and_subprocess, 90)
{
	const char *const py[] = {
		"python3", "-c",
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
		"w = threading.Thread(target=c.sendall, args=(b'z' * 2000000,)); w.start(); n = 0\n"
		"while n < 2000000: n += len(s.recv(1 << 20))\n"
		"w.join(); print('tcp', n)\n"
		"print(subprocess.run(['/bin/echo', 'sub'], capture_output=True).stdout)\n",
		NULL
	};
	struct tinst t;

	tinst_require_jobshim();
	tinst_start(&t, NULL, NULL);
	/*
	 * The 2 MB go from a thread: the instance kernel's socket buffers
	 * (SO_SNDBUF ~0.5 MB, SO_RCVBUF 128 KiB with 64 MiB of memory) do not
	 * hold them all before the first recv, as the host's may.
	 */
	tinst_run_ok(&t, py, "/tmp", 80000,
		     "b'xxxyy'\nselect [] 1\nthreads 8\ntcp 2000000\nb'sub\\n'\n");
	tinst_shutdown(&t);
}

TEST(scripts_and_programs_the_job_writes_run)
{
	const char *const script[] = { "/tmp/s.sh", "two", NULL };
	struct tinst_job res;
	struct tinst t;

	tinst_require_jobshim();
	tinst_start(&t, NULL, NULL);
	/*
	 * A `#!` script the job writes in its cwd (an instance path) runs by
	 * sh; an ELF program copied there runs (read into anonymous memory);
	 * one without x, and a directory, are 126. Then the script is the
	 * program of the next job, started by the shim itself.
	 */
	run_sh(&t,
	       "printf '#!/bin/sh\\necho script \"$1\"\\n' > s.sh; chmod +x s.sh; ./s.sh one;"
	       " cp /bin/echo e; ./e elf; cp /bin/true t; chmod -x t; ./t 2>/dev/null; echo $?;"
	       " mkdir -p dir; ./dir 2>/dev/null; echo $?",
	       30000, &res);
	CHECK_EQ_INT(res.exit.exit_code, 0);
	CHECK_EQ_STR((char *)res.out[0], "script one\nelf\n126\n126\n");
	tinst_job_free(&res);
	tinst_run_ok(&t, script, NULL, 30000, "script two\n");
	tinst_shutdown(&t);
}

TEST_TIMEOUT(mmap_of_a_file_in_the_instance, 60)
{
	const char *const py[] = {
		"python3", "-c",
		"import mmap\n"
		"open('m', 'wb').write(b'hello mapping' + b'.' * 100000)\n"
		"f = open('m', 'r+b')\n"
		"m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ); print(m[:13], len(m))\n"
		"p = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY); p[0:1] = b'J'; "
		"print(p[:5])\n"
		"print(open('m', 'rb').read(5))\n"
		"try:\n"
		"    mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_WRITE)\n"
		"except OSError as e:\n"
		"    print('shared', e.errno)\n",
		NULL
	};
	struct tinst t;

	tinst_require_jobshim();
	tinst_start(&t, NULL, NULL);
	/*
	 * A file of the instance kernel mapped read-only and private: memory
	 * filled from the file; a private write stays private; a writable
	 * shared mapping is refused with ENODEV (a known gap).
	 */
	tinst_run_ok(&t, py, "/tmp", 50000,
		     "b'hello mapping' 100013\nb'Jello'\nb'hello'\nshared 19\n");
	tinst_shutdown(&t);
}

TEST(signals_and_cwd)
{
	struct tinst_job res;
	struct tinst t;

	tinst_require_jobshim();
	tinst_start(&t, NULL, NULL);
	run_sh(&t,
	       "sleep 5 & kill $!; wait $!; echo killed=$?; mkdir -p d/e && cd d/e && pwd -P;"
	       " echo x > f; cat ../e/f; cat /tmp/d/e/f; uname -n",
	       30000, &res);
	CHECK_EQ_INT(res.exit.exit_code, 0);
	CHECK_EQ_STR((char *)res.out[0], "killed=143\n/tmp/d/e\nx\nx\ntinst\n");
	tinst_job_free(&res);
	tinst_shutdown(&t);
}

TEST(sigterm_ends_a_call_blocked_in_the_instance)
{
	const char *const cat[] = { "cat", NULL };
	const char *const echo[] = { "echo", "after", NULL };
	struct tinst_job res;
	struct proto_msg msg;
	pid_t pid, reaper;
	uint32_t threads;
	struct tinst t;
	char kids[64];
	uint64_t id;
	int i;

	tinst_require_jobshim();
	tinst_start(&t, NULL, NULL);
	threads = tinst_host_threads(&t);
	/*
	 * cat reads its stdin, an instance pipe nobody writes: it waits in
	 * a forwarded read. SIGTERM (no handler) must end it as it would end
	 * a read of a host pipe; the instance's serving thread is let go,
	 * and the next job runs.
	 */
	start_streamed(&t, cat, &res);
	pid = job_host_pid(&t, &reaper);
	wait_blocked_in_the_instance(pid);
	proto_msg_init(&msg, PROTO_EXEC_SIGNAL, 0);
	msg.exec_signal.job = res.job;
	msg.exec_signal.signal = SIGTERM;
	id = tinst_send(&t, &msg, NULL, 0);
	tinst_expect_ok(&t, &msg, id, PROTO_EXEC_SIGNAL, 5000);
	proto_msg_free(&msg);
	tinst_exec_wait(&t, &res, 10000);
	CHECK_EQ_INT(res.exit.signal, SIGTERM);
	CHECK_EQ_INT(res.exit.exit_code, -1);
	CHECK(!res.exit.timed_out);
	tinst_job_free(&res);
	CHECK(gone(pid));
	CHECK(gone(reaper));
	tinst_children(tinst_zygote_pid(&t), kids, sizeof(kids));
	CHECK_EQ_STR(kids, "");
	for (i = 0; i < 100 && tinst_host_threads(&t) != threads; i++)
		usleep(20000);
	CHECK_EQ_INT(tinst_host_threads(&t), threads);

	/*
	 * The same from inside the job: a shell ends its blocked cat (a short
	 * sleep feeds it: the job's end waits for the sleep, which holds the
	 * job's stderr).
	 */
	run_sh(&t, "sleep 2 | cat & p=$!; sleep 0.3; kill $p; wait $p; echo status=$?", 30000,
	       &res);
	CHECK_EQ_INT(res.exit.exit_code, 0);
	CHECK_EQ_STR((char *)res.out[0], "status=143\n");
	tinst_job_free(&res);
	run_in(&t, echo, NULL, 30000, &res);
	CHECK_EQ_STR((char *)res.out[0], "after\n");
	tinst_job_free(&res);
	tinst_shutdown(&t);
}

TEST_TIMEOUT(elf_programs_in_the_instance, 90)
{
	static const char lines[] = "first line\nsecond line\n";
	const char *const builds[] = { "jobprog-static", "jobprog-dynamic" };
	struct tinst_job res;
	struct tinst t;
	char *head, expect[128];
	size_t i, len;

	tinst_require_jobshim();
	head = read_host_file("/usr/lib/os-release", &len);
	snprintf(expect, sizeof(expect), "%.*s\n", (int)strcspn(head, "\n"), head);
	free(head);
	tinst_start(&t, NULL, NULL);
	CHECK_EQ_INT(tinst_put(&t, "/tmp/lines", lines, sizeof(lines) - 1, 0644), PROTO_OK);
	for (i = 0; i < 2; i++) {
		const char *const threads[] = { "/tmp/jobprog", "threads", "16", NULL };
		const char *const ptrace[] = { "/tmp/jobprog", "raw-ptrace", NULL };
		const char *const segv[] = { "/tmp/jobprog", "segv", NULL };
		const char *const sigsys[] = { "/tmp/jobprog", "sigsys", NULL };
		const char *const map_host[] = { "/tmp/jobprog", "mmap", "/usr/lib/os-release",
						 NULL };
		const char *const map_inst[] = { "/tmp/jobprog", "mmap", "/tmp/lines", NULL };

		printf("%s\n", builds[i]);
		put_jobprog(&t, builds[i], "/tmp/jobprog");
		/* Threads register with the instance on their first call. */
		run_in(&t, threads, NULL, 30000, &res);
		CHECK_EQ_INT(res.exit.exit_code, 0);
		CHECK(strstr((char *)res.out[0], "joined 16\n") != NULL);
		CHECK(strstr((char *)res.out[0], "thread 15\n") != NULL);
		CHECK(strstr((char *)res.out[0], "thread 0\n") != NULL);
		tinst_job_free(&res);
		/* A raw ptrace is denied (EPERM), not run on the host. */
		tinst_run_ok(&t, ptrace, NULL, 30000, "ptrace=-1\n");
		run_in(&t, segv, NULL, 30000, &res);
		CHECK_EQ_INT(res.exit.signal, SIGSEGV);
		tinst_job_free(&res);
		/* SIGSYS stays the shim's. */
		tinst_run_ok(&t, sigsys, NULL, 30000, "sigsys sigsys-blocked=0\n");
		/* A private mapping of a host file and of an instance file. */
		tinst_run_ok(&t, map_host, NULL, 30000, expect);
		tinst_run_ok(&t, map_inst, NULL, 30000, "first line\n");
	}
	tinst_shutdown(&t);
}

/*
 * The instance dies while a job waits in a forwarded call: killed by its
 * pid, first the instance proper (the process with the kernel), then, in a
 * second instance, the monitor the test spawned (the instance dies with
 * it). The zygote and the job's reaper die with their parents, and the
 * job's pid namespace with its reaper: the job ends, it does not wait for
 * an answer forever. (The shim's own answer to a dead instance, EIO once
 * its link hangs up, cannot be seen from here: the job is killed first.)
 */
TEST(instance_death_ends_a_job_blocked_in_a_forwarded_call)
{
	const char *const cat[] = { "cat", NULL };
	int round;

	tinst_require_jobshim();
	for (round = 0; round < 2; round++) {
		pid_t pid, reaper, zygote, inner;
		struct tinst_job res;
		struct tinst t;

		tinst_start(&t, NULL, NULL);
		start_streamed(&t, cat, &res);
		pid = job_host_pid(&t, &reaper);
		wait_blocked_in_the_instance(pid);
		zygote = tinst_zygote_pid(&t);
		inner = tinst_inner_pid(&t);
		printf("round %d: kill %s %d (job %d, reaper %d, zygote %d)\n", round,
		       round ? "monitor" : "instance", round ? (int)t.pid : (int)inner, (int)pid,
		       (int)reaper, (int)zygote);
		CHECK(kill(round ? t.pid : inner, SIGKILL) == 0);
		CHECK(gone(pid));
		CHECK(gone(reaper));
		CHECK(gone(zygote));
		CHECK(gone(inner));
		tinst_expect_eof(&t, 5000);
		CHECK(tinst_wait_exit(&t, 5000));
		/* The monitor ends the way its instance did. */
		CHECK(WIFSIGNALED(t.status) && WTERMSIG(t.status) == SIGKILL);
		tinst_close(&t);
		tinst_job_free(&res);
		if (round == 0) {
			/* The monitor removed the instance's cgroups. */
			CHECK(!cgroup_left(t.id));
		} else {
			/* Nobody did: they are empty now, and ours to remove. */
			remove_cgroups(t.id);
			CHECK(!cgroup_left(t.id));
		}
	}
}

// SPDX-License-Identifier: GPL-2.0
/*
 * The lock-down holds, seen from outside the instance process (its /proc
 * entries) and from inside (it dies when it makes a forbidden host call):
 * fresh mount, pid, net, ipc and uts namespaces; an empty root; no
 * capabilities in any set; no_new_privs; seccomp in filter mode; the rlimits
 * and cgroup limits configure asked for, the cgroup removed when the instance
 * is gone; and the library kernel still doing file I/O, pipes, loopback TCP
 * and UDP and epoll under all of it (--selfcheck).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/harness.h"
#include "tests/instance/tinst.h"

/* The value of "Field:" in /proc/@pid/status, as text. */
static void status_field(pid_t pid, const char *field, char *out, size_t size)
{
	char path[64], line[256];
	size_t n = strlen(field);
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	CHECK(f != NULL);
	out[0] = 0;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, field, n) || line[n] != ':')
			continue;
		snprintf(out, size, "%s", line + n + 1 + strspn(line + n + 1, " \t"));
		out[strcspn(out, "\n")] = 0;
	}
	fclose(f);
}

static void ns_link(pid_t pid, const char *ns, char *out, size_t size)
{
	char path[64];
	ssize_t n;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, ns);
	else
		snprintf(path, sizeof(path), "/proc/self/ns/%s", ns);
	n = readlink(path, out, size - 1);
	CHECK(n > 0);
	out[n] = 0;
}

/* Fails the case unless the instance's root directory is empty. */
static void root_is_empty(pid_t inner)
{
	char path[64];
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/root", (int)inner);
	d = opendir(path);
	CHECK(d != NULL);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			FAIL("the instance's root holds '%s'", e->d_name);
	closedir(d);
}

TEST(namespaces_are_fresh_and_the_root_is_empty)
{
	static const char *const nss[] = { "mnt", "pid", "net", "ipc", "uts" };
	char mine[64], theirs[64], monitor[64], nspid[64];
	struct tinst t;
	pid_t inner;
	size_t i;

	tinst_require_root();
	tinst_start(&t, NULL, NULL);
	inner = tinst_inner_pid(&t);
	for (i = 0; i < sizeof(nss) / sizeof(nss[0]); i++) {
		ns_link(0, nss[i], mine, sizeof(mine));
		ns_link(inner, nss[i], theirs, sizeof(theirs));
		ns_link(t.pid, nss[i], monitor, sizeof(monitor));
		printf("%s: ours %s, the instance's %s\n", nss[i], mine, theirs);
		CHECK(strcmp(mine, theirs) != 0);
		CHECK_EQ_STR(monitor, mine); /* the monitor stays where it was */
	}
	/* pid 1 of its namespace. */
	status_field(inner, "NSpid", nspid, sizeof(nspid));
	CHECK(strstr(nspid, "\t1") != NULL || strstr(nspid, " 1") != NULL);
	/* Nothing of the host's tree is left under its root. */
	root_is_empty(inner);
	tinst_shutdown(&t);
}

/*
 * Started chrooted (into a bind mount of the whole tree, in a mount
 * namespace of the case's own), the instance's root is still the empty one:
 * entering a mount namespace alone would give it the namespace's top, the
 * host's tree.
 */
TEST(the_root_is_empty_when_started_chrooted)
{
	char dir[] = "/tmp/shoal-chroot-XXXXXX", cwd[PATH_MAX];
	int status;
	pid_t child;

	tinst_require_root();
	CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
	CHECK(mkdtemp(dir) != NULL);
	child = fork();
	CHECK(child >= 0);
	if (child == 0) {
		struct tinst t;

		if (unshare(CLONE_NEWNS) < 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount("/", dir, NULL, MS_BIND | MS_REC, NULL) < 0 || chroot(dir) < 0 ||
		    chdir(cwd) < 0)
			FAIL("chroot into a bind mount of /: %s", strerror(errno));
		tinst_start(&t, NULL, NULL);
		root_is_empty(tinst_inner_pid(&t));
		tinst_shutdown(&t);
		_exit(0);
	}
	CHECK(waitpid(child, &status, 0) == child);
	rmdir(dir);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST(no_capabilities_no_new_privs_and_seccomp_filter)
{
	static const char *const caps[] = { "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb" };
	char value[64];
	struct tinst t;
	int threads;
	pid_t inner;
	size_t i;

	tinst_require_root();
	tinst_start(&t, NULL, NULL);
	inner = tinst_inner_pid(&t);
	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		status_field(inner, caps[i], value, sizeof(value));
		printf("%s: %s\n", caps[i], value);
		CHECK_EQ_STR(value, "0000000000000000");
	}
	status_field(inner, "NoNewPrivs", value, sizeof(value));
	CHECK_EQ_STR(value, "1");
	status_field(inner, "Seccomp", value, sizeof(value));
	CHECK_EQ_STR(value, "2");
	/*
	 * Every thread, including those the kernel made before the filter:
	 * filtered, and without a capability (they are per thread).
	 */
	threads = tinst_check_threads_locked_down(inner);
	printf("%d threads, every one filtered and without capabilities\n", threads);
	CHECK(threads >= 2);
	tinst_shutdown(&t);
}

/* "Max open files  soft  hard  units" from /proc/@pid/limits: the soft limit. */
static long long limit_of(pid_t pid, const char *name)
{
	char path[64], line[256];
	long long v = -2;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/limits", (int)pid);
	f = fopen(path, "r");
	CHECK(f != NULL);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, strlen(name))) {
			const char *p = line + 25;

			v = !strncmp(p + strspn(p, " "), "unlimited", 9) ? -1 : atoll(p);
		}
	fclose(f);
	return v;
}

static long long cgroup_value(const char *dir, const char *file)
{
	char path[512], buf[64] = "";
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "r");
	if (!f)
		FAIL("open %s", path);
	CHECK(fgets(buf, sizeof(buf), f) != NULL);
	fclose(f);
	return !strncmp(buf, "max", 3) ? -1 : atoll(buf);
}

TEST(rlimits_and_cgroup_limits_from_configure_and_cgroup_removed_at_exit)
{
	char line[256], path[256], mem_dir[256] = "", pids_dir[256] = "";
	struct proto_msg cfg, ready;
	struct tinst t;
	bool v2 = false;
	pid_t inner;
	FILE *f;

	tinst_require_root();
	tinst_spawn(&t, NULL);
	tinst_hello(&t);
	tinst_configure_init(&t, &cfg);
	cfg.configure.limits.max_open_files = 256;
	cfg.configure.limits.max_processes = 100;
	cfg.configure.limits.host_memory_mib = 200;
	tinst_boot(&t, &cfg, NULL, 0, &ready);
	proto_msg_free(&ready);
	inner = tinst_inner_pid(&t);

	CHECK_EQ_INT(limit_of(inner, "Max open files"), 256);
	CHECK_EQ_INT(limit_of(inner, "Max processes"), 100);
	CHECK_EQ_INT(limit_of(inner, "Max core file size"), 0);
	CHECK_EQ_INT(limit_of(inner, "Max locked memory"), 0);
	/* RAM + 1 GiB + 192 MiB for each of the 16 jobs (max_jobs) that may run at once */
	CHECK_EQ_INT(limit_of(inner, "Max address space"), (64LL + 1024 + 16 * 192) << 20);

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)inner);
	f = fopen(path, "r");
	CHECK(f != NULL);
	while (fgets(line, sizeof(line), f)) {
		char *rel = strchr(line, '/');

		line[strcspn(line, "\n")] = 0;
		if (!rel || !strstr(rel, t.id))
			continue;
		printf("cgroup: %s\n", line);
		if (strstr(line, ":memory:"))
			snprintf(mem_dir, sizeof(mem_dir), "/sys/fs/cgroup/memory%s", rel);
		else if (strstr(line, ":pids:"))
			snprintf(pids_dir, sizeof(pids_dir), "/sys/fs/cgroup/pids%s", rel);
		else if (!strncmp(line, "0::", 3)) {
			v2 = true;
			snprintf(mem_dir, sizeof(mem_dir), "/sys/fs/cgroup%s", rel);
			snprintf(pids_dir, sizeof(pids_dir), "/sys/fs/cgroup%s", rel);
		}
	}
	fclose(f);
	if (!mem_dir[0] && !pids_dir[0])
		SKIP("this host offers no cgroup memory or pids controller");
	if (mem_dir[0]) {
		CHECK_EQ_INT(cgroup_value(mem_dir, v2 ? "memory.max" : "memory.limit_in_bytes"),
			     200LL << 20);
	}
	if (pids_dir[0]) {
		char tasks[300];
		DIR *d;
		struct dirent *e;

		CHECK_EQ_INT(cgroup_value(pids_dir, "pids.max"), 100);
		/* Every thread is in it, including the kernel's. */
		snprintf(path, sizeof(path), "/proc/%d/task", (int)inner);
		d = opendir(path);
		CHECK(d != NULL);
		while ((e = readdir(d))) {
			char want[300];
			bool found = false;

			if (e->d_name[0] == '.')
				continue;
			snprintf(tasks, sizeof(tasks), "%s/%s", pids_dir,
				 v2 ? "cgroup.threads" : "tasks");
			f = fopen(tasks, "r");
			if (!f)
				break; /* v2 without threaded mode: cgroup.procs was checked above
					*/
			snprintf(want, sizeof(want), "%s\n", e->d_name);
			while (fgets(line, sizeof(line), f))
				if (!strcmp(line, want))
					found = true;
			fclose(f);
			CHECK(found);
		}
		closedir(d);
	}
	tinst_shutdown(&t);
	/* The monitor removed the cgroup once the instance was gone. */
	CHECK(!mem_dir[0] || access(mem_dir, F_OK) != 0);
	CHECK(!pids_dir[0] || access(pids_dir, F_OK) != 0);
}

static void forbidden_call(const char *call, const char *syscall_name)
{
	const char *args[] = { "--test-forbidden", call, NULL };
	struct proto_msg cfg, msg;
	char dir[256];
	struct tinst t;
	uint64_t id;

	tinst_require_root();
	tinst_spawn(&t, args);
	tinst_hello(&t);
	tinst_configure_init(&t, &cfg);
	id = tinst_send(&t, &cfg, NULL, 0);
	tinst_expect_ok(&t, &msg, id, PROTO_CONFIGURE, 10000);
	proto_msg_free(&msg);
	/* No ready: the forbidden call comes after the filter and before ready. */
	tinst_expect(&t, &msg, PROTO_FATAL, 20000);
	printf("fatal: %s\n", msg.fatal.message);
	CHECK_EQ_INT(msg.fatal.reason, PROTO_FATAL_SIGNAL);
	CHECK_EQ_INT(msg.fatal.signal, 31); /* SIGSYS */
	CHECK(strstr(msg.fatal.message, syscall_name) != NULL);
	proto_msg_free(&msg);
	tinst_expect_eof(&t, 5000);
	CHECK(tinst_wait_exit(&t, 5000));
	CHECK(WIFEXITED(t.status));
	CHECK_EQ_INT(WEXITSTATUS(t.status), 128 + 31);
	snprintf(dir, sizeof(dir), "/sys/fs/cgroup/pids/shoal/%s", t.id);
	CHECK(access(dir, F_OK) != 0);
}

TEST(opening_a_host_file_after_lockdown_is_fatal)
{
	forbidden_call("open", "openat");
}

TEST(making_a_host_socket_after_lockdown_is_fatal)
{
	forbidden_call("socket", "socket");
}

TEST(the_kernel_works_under_the_lockdown)
{
	const char *args[] = { "--selfcheck", NULL };
	enum proto_error_code code;
	struct proto_msg msg;
	struct tinst t;
	char value[16], *report;
	size_t len;
	uint64_t id;

	tinst_require_root();
	tinst_start(&t, args, NULL);
	status_field(tinst_inner_pid(&t), "Seccomp", value, sizeof(value));
	CHECK_EQ_STR(value, "2");
	report = tinst_get(&t, "/run/shoal/selfcheck", &len, NULL, &code);
	CHECK(report != NULL);
	report = realloc(report, len + 1);
	report[len] = 0;
	printf("%s", report);
	CHECK(strstr(report, "PASS file_io\n") && strstr(report, "PASS pipe\n") &&
	      strstr(report, "PASS tcp_loopback\n") && strstr(report, "PASS udp_loopback\n") &&
	      strstr(report, "PASS epoll_eventfd\n"));
	CHECK(strstr(report, "selfcheck: 6 passed, 0 failed\n") != NULL);
	free(report);
	/* The total is in the kernel's log too. */
	proto_msg_init(&msg, PROTO_CONSOLE, 0);
	id = tinst_send(&t, &msg, NULL, 0);
	tinst_expect_ok(&t, &msg, id, PROTO_CONSOLE, 5000);
	CHECK(strstr(msg.ok.console.text, "selfcheck: 6 passed, 0 failed") != NULL);
	proto_msg_free(&msg);
	/* And stats still work after all that: loopback moved the bytes. */
	tinst_stats(&t, &msg);
	CHECK(msg.ok.stats.ninterfaces >= 1);
	CHECK(msg.ok.stats.interfaces[0].rx_bytes > 8u << 20);
	proto_msg_free(&msg);
	tinst_shutdown(&t);
}

TEST(unconfined_reports_no_allow_list)
{
	const char *args[] = { "--unconfined", NULL };
	struct proto_msg msg;
	struct tinst t;
	char value[16];

	tinst_start(&t, args, NULL);
	tinst_stats(&t, &msg);
	CHECK_EQ_INT(msg.ok.stats.host_syscalls_allowed, 0);
	proto_msg_free(&msg);
	status_field(t.pid, "Seccomp", value, sizeof(value));
	CHECK_EQ_STR(value, "0");
	tinst_shutdown(&t);
}

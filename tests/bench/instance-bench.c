// SPDX-License-Identifier: GPL-2.0
/*
 * instance-bench: what a whole Shoal instance costs a host when many are
 * alive at once (issue 5, point 6). For each count (default 1, 100 and 500)
 * it starts that many real shoal-instance processes one after another, the
 * way shoald will (a SEQPACKET socketpair, hello, configure with 64 MiB and
 * no network, `ready`), keeping every one alive, so the k-th spawn -> ready
 * latency is measured with k-1 idle instances beside it (a count below
 * MIN_READY_SAMPLES is repeated until it gave that many). With all of them
 * alive it reads PSS and host threads per instance (the monitor, the
 * instance proper and its jail's zygote) and, over a few seconds, the CPU they burn idle
 * (schedstat). Then it shuts them all down and checks that none of their
 * cgroups is left.
 *
 * Beside it, in the same run, the same counts of the two peers of issue 5:
 * a network namespace with a veth and a process in it (`ip netns add`, a veth
 * pair with its other end in a hub namespace of ours, an address, `ip netns
 * exec NS sh` waiting for a stop line; the namespace deleted afterwards, both
 * timed), the lightest alternative with its own network, and Debian's
 * User-mode Linux booted to a tiny busybox init (boot-bench's root), the
 * alternative with a kernel of its own, at far fewer at once (default 1 and
 * 20). It prints figures and the goals beside them; it never fails on a
 * figure, only when it cannot run.
 *
 * Everything it makes (instances, namespaces, cgroups, a temporary folder) is
 * removed on every way out, also on errors and SIGINT/SIGTERM; if
 * instance-bench is SIGKILLed, instances whose supervisor is gone shut
 * themselves down and a guardian process removes the namespaces, cgroups and
 * the temporary folder.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "api/channel.h"
#include "api/error.h"
#include "api/proto.h"
#include "tests/bench/cgroup.h"
#include "tests/bench/instance.h"
#include "tests/bench/procfs.h"
#include "tests/bench/program.h"
#include "tests/bench/report.h"

#define MAX_COUNTS 8
#define MAX_ALIVE 2000
#define MAX_PIDS 64
#define SETTLE_MS 500
#define READY_TIMEOUT 20000 /* the instance's own boot watchdog is 20 s */
#define STOP_TIMEOUT 15000 /* for all of one count together */
#define UML_READY_TIMEOUT 60000
#define NETNS_CMD_TIMEOUT 10000
/*
 * A count below this is repeated (started, measured, stopped) until it has
 * given this many ready samples, so that the median of "1 alive" is a median
 * and not one cold start; memory and idle CPU come from the last repetition.
 */
#define MIN_READY_SAMPLES 20
#define REPEAT_SETTLE_MS 300

/* Goals of issue 5, printed as information. */
#define GOAL_READY_MS 5.0
#define GOAL_PSS_MIB 6.0
#define GOAL_ALIVE 500

enum peer_id { PEER_SHOAL, PEER_NETNS, PEER_UML, PEERS };

static const char *const peer_name[PEERS] = { "shoal-instance", "netns+veth", "uml" };
static const char *const peer_what[PEERS] = {
	"shoal-instance --control-fd: hello, configure (64 MiB, no network), ready",
	"ip netns add; veth to a hub namespace; address; ip netns exec NS sh (waits)",
	"linux.uml mem=64M, hostfs root with busybox-static, /init says ready, waits",
};

/* The figures of one peer at one count. */
struct result {
	enum peer_id peer;
	int count; /* asked for */
	int alive; /* became ready and were alive at once */
	int failed;
	char skipped[160];
	struct bench_series ready_ms; /* one sample per instance */
	/* Shoal: the instance's own `ready` timings (process start = its exec). */
	struct bench_series inside_ms, cfgwait_ms, kboot_ms, lock_ms;
	double pss_mib, rss_mib, cg_mib; /* per instance, mean; cg_mib < 0: none */
	double pss_own_mib; /* PSS without file pages (program text, libraries): per instance */
	double threads, procs; /* per instance, mean */
	double idle_seconds, idle_cpu_pct, idle_wakeups; /* all N together */
	double delete_ms; /* netns: ip netns del, median; else -1 */
	double stop_all_ms; /* stop request to all reaped, for all N */
	int left_behind; /* cgroups (Shoal) or namespaces (netns) still there after */
};

static struct result results[PEERS * MAX_COUNTS];
static int nresults;

/* One live Shoal instance. */
struct sinst {
	pid_t pid; /* the monitor (what we spawned) */
	pid_t inner; /* the instance proper, its child */
	int sock;
	bool reaped;
	int status;
	char id[48];
	int64_t t_spawn, t_ready;
	struct proto_boot_timings timings; /* from `ready` */
};

static struct {
	char instance_bin[PATH_MAX];
	char uml[PATH_MAX];
	char busybox[PATH_MAX];
	char tmpdir[256];
	char uml_root[320];
	char uml_dir[320];
	char cgroot[PATH_MAX]; /* ours under the v1 memory controller, or "" */
	char hub[64]; /* the netns peer's hub namespace, or "" */
	char nsprefix[32]; /* "shoal-ib<pid>-" */
	pid_t self; /* our pid, also in the guardian */
	int guard_fd; /* the guardian's pipe, or -1 */
	int idle_ms;
	int settle_ms; /* before each round */
	int seq;
	struct sinst *shoal; /* MAX_ALIVE */
	int nshoal;
	struct bench_instance *others; /* MAX_ALIVE */
	char (*others_ns)[64]; /* their namespace, netns peer */
	int nothers;
} ctx = { .guard_fd = -1 };

static void on_signal(int sig)
{
	(void)sig;
	bench_interrupted = 1;
}

/* ---------------------------------------------------------------- helpers */

/* Run @argv, bounded by @timeout_ms (killed after); its exit status or -errno. */
static int run_cmd(char *const argv[], int timeout_ms)
{
	int64_t end = bench_now_ns() + (int64_t)timeout_ms * 1000000;
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (null >= 0)
			dup2(null, STDOUT_FILENO);
		execvp(argv[0], argv);
		_exit(127);
	}
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -EINTR;
		if (r < 0)
			return -errno;
		if (bench_now_ns() >= end) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -ETIMEDOUT;
		}
		usleep(1000);
	}
}

static int netns_del(const char *name)
{
	char *argv[] = { "ip", "netns", "del", (char *)name, NULL };

	return run_cmd(argv, NETNS_CMD_TIMEOUT);
}

/* Namespaces of ours still listed in /run/netns. */
static int netns_left(bool delete)
{
	DIR *d = opendir("/run/netns");
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, ctx.nsprefix, strlen(ctx.nsprefix)))
			continue;
		if (!delete &&!strcmp(e->d_name, ctx.hub))
			continue; /* ours for the whole run */
		n++;
		if (delete)
			netns_del(e->d_name);
	}
	closedir(d);
	return n;
}

static int remove_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw);
static int shoal_cgroups_left(bool remove);

/* Our cgroup folder for the peers, with what is left in it (killed by pid). */
static void remove_cgroot(void)
{
	struct shoal_error err = { 0 };
	struct dirent *e;
	DIR *d;

	if (!ctx.cgroot[0])
		return;
	d = opendir(ctx.cgroot);
	while (d && (e = readdir(d))) {
		char sub[PATH_MAX + 256];

		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", ctx.cgroot, e->d_name);
		bench_cgroup_remove(sub, 2000, &err);
		shoal_error_clear(&err);
	}
	if (d)
		closedir(d);
	if (bench_cgroup_remove(ctx.cgroot, 2000, &err))
		fprintf(stderr, "instance-bench: %s\n", err.msg);
	ctx.cgroot[0] = '\0';
}

/*
 * A guardian that removes what we made once we are gone, however we go (it
 * waits for the end of a pipe only we hold): our namespaces; the instances'
 * cgroups once the instances, which see their supervisor gone, have shut
 * down (10 s at most, then what is left is killed by pid); the peers' cgroup
 * folder (the peers die with us); the temporary folder.
 */
static int start_guardian(void)
{
	int pipefd[2];
	pid_t pid;

	if (pipe(pipefd))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		char c;
		int i;

		setsid();
		for (i = 3; i < 1024; i++)
			if (i != pipefd[0])
				close(i);
		while (read(pipefd[0], &c, 1) > 0)
			;
		netns_left(true);
		for (i = 0; i < 200 && shoal_cgroups_left(false); i++)
			usleep(50 * 1000);
		for (i = 0; i < 20 && shoal_cgroups_left(true); i++)
			usleep(50 * 1000);
		remove_cgroot();
		if (ctx.tmpdir[0])
			nftw(ctx.tmpdir, remove_cb, 16, FTW_DEPTH | FTW_PHYS);
		_exit(0);
	}
	close(pipefd[0]);
	fcntl(pipefd[1], F_SETFD, FD_CLOEXEC);
	ctx.guard_fd = pipefd[1];
	return 0;
}

/* Shoal instances' cgroups named ib<pid>-*: count, and with @remove kill and rmdir. */
static int shoal_cgroups_left(bool remove)
{
	static const char *const bases[] = { "/sys/fs/cgroup/memory/shoal",
					     "/sys/fs/cgroup/pids/shoal", "/sys/fs/cgroup/shoal" };
	char prefix[32];
	size_t b;
	int n = 0;

	snprintf(prefix, sizeof(prefix), "ib%d-", (int)ctx.self);
	for (b = 0; b < sizeof(bases) / sizeof(bases[0]); b++) {
		DIR *d = opendir(bases[b]);
		struct dirent *e;

		if (!d)
			continue;
		while ((e = readdir(d))) {
			char path[512], line[32];
			FILE *f;

			if (strncmp(e->d_name, prefix, strlen(prefix)))
				continue;
			n++;
			if (!remove)
				continue;
			snprintf(path, sizeof(path), "%s/%s/cgroup.procs", bases[b], e->d_name);
			f = fopen(path, "r");
			while (f && fgets(line, sizeof(line), f))
				kill((pid_t)atoi(line), SIGKILL);
			if (f)
				fclose(f);
			snprintf(path, sizeof(path), "%s/%s", bases[b], e->d_name);
			rmdir(path);
		}
		closedir(d);
	}
	return n;
}

/* ------------------------------------------------------ Shoal instances */

static int recv_msg(struct sinst *s, struct proto_msg *msg, int64_t deadline,
		    struct shoal_error *err)
{
	for (;;) {
		struct pollfd pfd = { .fd = s->sock, .events = POLLIN };
		int64_t left = (deadline - bench_now_ns()) / 1000000;
		int fds[PROTO_FDS_MAX];
		size_t nfds = 0;
		int r;

		if (bench_interrupted)
			return -EINTR;
		if (left <= 0)
			return shoal_error_set(err, ETIMEDOUT, "%s: no message in time", s->id);
		r = poll(&pfd, 1, left > 100 ? 100 : (int)left);
		if (r < 0 && errno != EINTR)
			return shoal_error_set(err, errno, "poll");
		if (r <= 0)
			continue;
		memset(msg, 0, sizeof(*msg));
		r = channel_recv_msg(s->sock, msg, fds, &nfds, err);
		if (r == -ECONNRESET)
			return shoal_error_set(err, ECONNRESET, "%s: end of file", s->id);
		if (r < 0)
			return r;
		channel_close_fds(fds, &nfds);
		return 0;
	}
}

/* The next message must be @type; a `fatal` or `error` is reported. */
static int expect_msg(struct sinst *s, enum proto_type type, int64_t deadline,
		      struct proto_msg *out, struct shoal_error *err)
{
	struct proto_msg msg;
	int r;

	for (;;) {
		r = recv_msg(s, &msg, deadline, err);
		if (r)
			return r;
		if (msg.type == type)
			break;
		r = shoal_error_set(err, EPROTO, "%s: %s instead of %s", s->id,
				    proto_type_name(msg.type), proto_type_name(type));
		proto_msg_free(&msg);
		return r;
	}
	if (out)
		*out = msg;
	else
		proto_msg_free(&msg);
	return 0;
}

static pid_t inner_pid(pid_t pid)
{
	char path[64];
	FILE *f;
	int inner = 0;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid, (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%d", &inner) != 1)
		inner = 0;
	fclose(f);
	return inner;
}

/* Spawn one instance and bring it to ready (the clock runs from before fork). */
static int shoal_start(struct sinst *s, struct shoal_error *err)
{
	struct proto_msg msg;
	int64_t deadline;
	int sv[2], r;

	memset(s, 0, sizeof(*s));
	s->sock = -1;
	snprintf(s->id, sizeof(s->id), "ib%d-%d", (int)ctx.self, ++ctx.seq);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return shoal_error_set(err, errno, "socketpair");
	s->t_spawn = bench_now_ns();
	s->pid = fork();
	if (s->pid < 0) {
		r = shoal_error_set(err, errno, "fork");
		close(sv[0]);
		close(sv[1]);
		return r;
	}
	if (s->pid == 0) {
		char *argv[] = {
			ctx.instance_bin, "--control-fd", "3", "--log-level", "warn", NULL
		};

		signal(SIGPIPE, SIG_DFL);
		if (sv[1] == 3)
			fcntl(3, F_SETFD, 0);
		else if (dup2(sv[1], 3) < 0)
			_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
	close(sv[1]);
	s->sock = sv[0];
	deadline = s->t_spawn + (int64_t)READY_TIMEOUT * 1000000;
	r = channel_setup(s->sock, err);
	/* hello and configure at once, as shoald does (PROTOCOL.md, section 3). */
	if (!r) {
		proto_msg_init(&msg, PROTO_HELLO, 0);
		msg.hello.version = PROTO_VERSION;
		msg.hello.role = PROTO_ROLE_DAEMON;
		msg.hello.software = "instance-bench";
		r = channel_send_msg(s->sock, &msg, NULL, 0, err);
	}
	if (!r) {
		proto_msg_init(&msg, PROTO_CONFIGURE, 1);
		msg.configure.instance_id = s->id;
		msg.configure.memory_mib = 64;
		msg.configure.hostname = "ib";
		msg.configure.keep_on_supervisor_exit = false;
		r = channel_send_msg(s->sock, &msg, NULL, 0, err);
	}
	if (!r)
		r = expect_msg(s, PROTO_HELLO, deadline, NULL, err);
	if (!r)
		r = expect_msg(s, PROTO_OK, deadline, NULL, err);
	if (!r)
		r = expect_msg(s, PROTO_READY, deadline, &msg, err);
	if (r)
		return r;
	s->t_ready = bench_now_ns();
	s->timings = msg.ready.timings;
	proto_msg_free(&msg);
	s->inner = inner_pid(s->pid);
	return 0;
}

static bool shoal_reap(struct sinst *s)
{
	if (!s->reaped && s->pid > 0 && waitpid(s->pid, &s->status, WNOHANG) == s->pid)
		s->reaped = true;
	return s->reaped || s->pid <= 0;
}

static void shoal_kill(struct sinst *s)
{
	if (s->pid <= 0 || s->reaped)
		return;
	if (s->inner > 0)
		kill(s->inner, SIGKILL);
	kill(s->pid, SIGKILL);
	waitpid(s->pid, &s->status, 0);
	s->reaped = true;
}

/* Shut every live instance down (kill what does not go in time); failures. */
static int shoal_stop_all(int timeout_ms)
{
	int64_t end = bench_now_ns() + (int64_t)timeout_ms * 1000000;
	int i, failed = 0, left;

	for (i = 0; i < ctx.nshoal; i++) {
		struct sinst *s = &ctx.shoal[i];
		struct shoal_error err = { 0 };
		struct proto_msg msg;

		if (s->sock < 0)
			continue;
		proto_msg_init(&msg, PROTO_SHUTDOWN, 2);
		if (channel_send_msg(s->sock, &msg, NULL, 0, &err))
			failed++;
	}
	do {
		left = 0;
		for (i = 0; i < ctx.nshoal; i++)
			if (!shoal_reap(&ctx.shoal[i]))
				left++;
		if (left)
			usleep(2000);
	} while (left && bench_now_ns() < end && !bench_interrupted);
	for (i = 0; i < ctx.nshoal; i++) {
		struct sinst *s = &ctx.shoal[i];

		if (!s->reaped && s->pid > 0) {
			shoal_kill(s);
			failed++;
		} else if (s->pid > 0 && (!WIFEXITED(s->status) || WEXITSTATUS(s->status))) {
			failed++;
		}
		if (s->sock >= 0)
			close(s->sock);
		s->sock = -1;
		s->pid = 0;
	}
	ctx.nshoal = 0;
	return failed;
}

/* ------------------------------------------ the peers (bench_instance) */

static const char uml_init[] = "#!/bin/busybox sh\n"
			       "# instance-bench's init for User-mode Linux.\n"
			       "echo ready\n"
			       "read x\n"
			       "exec /bin/busybox poweroff -f\n";

static int write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	ssize_t len = (ssize_t)strlen(text);
	int ok;

	if (fd < 0)
		return -errno;
	ok = write(fd, text, (size_t)len) == len;
	close(fd);
	return ok ? 0 : -EIO;
}

static int copy_file(const char *from, const char *to)
{
	int in = open(from, O_RDONLY | O_CLOEXEC), out, r = 0;
	char buf[65536];
	ssize_t n;

	if (in < 0)
		return -errno;
	out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	if (out < 0) {
		close(in);
		return -errno;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n) {
			r = -EIO;
			break;
		}
	if (n < 0)
		r = -errno;
	close(in);
	close(out);
	return r;
}

/* boot-bench's UML root: a folder with a static busybox and /init. */
static int make_uml_root(void)
{
	char path[PATH_MAX + 32];

	snprintf(ctx.uml_root, sizeof(ctx.uml_root), "%s/root", ctx.tmpdir);
	snprintf(ctx.uml_dir, sizeof(ctx.uml_dir), "%s/umldir", ctx.tmpdir);
	snprintf(path, sizeof(path), "%s/bin", ctx.uml_root);
	if (mkdir(ctx.uml_root, 0755) || mkdir(path, 0755) || mkdir(ctx.uml_dir, 0755))
		return -errno;
	snprintf(path, sizeof(path), "%s/bin/busybox", ctx.uml_root);
	if (copy_file(ctx.busybox, path))
		return -EIO;
	snprintf(path, sizeof(path), "%s/init", ctx.uml_root);
	return write_file(path, uml_init, 0755);
}

/* Spawn the @i-th instance of a peer and wait for its ready line. */
static int other_start(enum peer_id peer, int i, struct shoal_error *err)
{
	struct bench_instance *inst = &ctx.others[i];
	char name[64], store[4][PATH_MAX], line[256], script[1024], *argv[20];
	int n = 0, r, k;

	/* Numbered by start, not by slot: a repeated round must not meet the host
	 * end of a veth whose namespace is still being taken down (that is
	 * asynchronous in the host kernel). */
	k = ctx.seq++;
	snprintf(name, sizeof(name), "%s%d", peer == PEER_UML ? "uml" : "ns", k);
	ctx.others_ns[i][0] = '\0';
	if (peer == PEER_UML) {
		snprintf(store[0], PATH_MAX, "rootflags=%s", ctx.uml_root);
		snprintf(store[1], PATH_MAX, "uml_dir=%s", ctx.uml_dir);
		snprintf(store[2], PATH_MAX, "umid=ib%d-%s", (int)getpid(), name);
		argv[n++] = ctx.uml;
		argv[n++] = "mem=64M";
		argv[n++] = "root=/dev/root";
		argv[n++] = "rootfstype=hostfs";
		argv[n++] = store[0];
		argv[n++] = "rw";
		argv[n++] = "init=/init";
		argv[n++] = "quiet";
		argv[n++] = "con=null";
		argv[n++] = "con0=fd:0,fd:1";
		argv[n++] = store[1];
		argv[n++] = store[2];
	} else {
		/* Host end h<k> in the hub, eth0 in the instance's namespace. */
		snprintf(ctx.others_ns[i], sizeof(ctx.others_ns[i]), "%s%d", ctx.nsprefix, k);
		snprintf(script, sizeof(script),
			 "set -e; ip netns add %s; "
			 "ip -n %s link add h%d type veth peer name eth0 netns %s; "
			 "ip -n %s addr add 198.18.%d.%d/16 dev eth0; ip -n %s link set eth0 up; "
			 "ip -n %s link set h%d up; "
			 "exec ip netns exec %s /bin/sh -c 'echo ready; read x'",
			 ctx.others_ns[i], ctx.hub, k, ctx.others_ns[i], ctx.others_ns[i],
			 100 + i / 250, 2 + i % 250, ctx.others_ns[i], ctx.hub, k,
			 ctx.others_ns[i]);
		argv[n++] = "/bin/sh";
		argv[n++] = "-c";
		argv[n++] = script;
	}
	argv[n] = NULL;
	r = bench_instance_spawn(inst, argv, ctx.cgroot[0] ? ctx.cgroot : NULL, name, 10000, err);
	if (r) {
		inst->pid = -1;
		return r;
	}
	r = bench_instance_release(inst, err);
	if (!r)
		r = bench_instance_wait_line(inst, "ready", line, sizeof(line),
					     peer == PEER_UML ? UML_READY_TIMEOUT : READY_TIMEOUT,
					     err);
	return r;
}

/* Stop every live peer instance; netns: delete the namespaces (timed). */
static int others_stop_all(enum peer_id peer, struct bench_series *del)
{
	int i, failed = 0;

	for (i = 0; i < ctx.nothers; i++) {
		struct bench_instance *inst = &ctx.others[i];

		if (inst->pid > 0 && !inst->reaped && inst->in_fd >= 0 &&
		    write(inst->in_fd, "stop\n", 5) < 0)
			failed++;
	}
	for (i = 0; i < ctx.nothers; i++) {
		struct bench_instance *inst = &ctx.others[i];
		struct shoal_error err = { 0 };

		if (inst->pid > 0 && bench_instance_stop(inst, NULL, NULL, 0,
							 peer == PEER_UML ? 30000 : 10000, &err))
			failed++;
		if (bench_instance_destroy(inst, NULL))
			failed++;
		if (ctx.others_ns[i][0]) {
			int64_t t = bench_now_ns();

			if (netns_del(ctx.others_ns[i]))
				failed++;
			else if (del)
				bench_series_add(del, (double)(bench_now_ns() - t) / 1e6);
			ctx.others_ns[i][0] = '\0';
		}
	}
	ctx.nothers = 0;
	return failed;
}

/* ------------------------------------------------------------ sampling */

/* The host processes of instance @i of @peer (at most @max). */
static int peer_pids(enum peer_id peer, int i, pid_t *pids, int max)
{
	if (peer == PEER_SHOAL) {
		int n = 0;
		pid_t zygote;

		/* The monitor, the instance proper and its jail's zygote (its child). */
		pids[n++] = ctx.shoal[i].pid;
		if (ctx.shoal[i].inner > 0 && max > 1)
			pids[n++] = ctx.shoal[i].inner;
		zygote = ctx.shoal[i].inner > 0 ? inner_pid(ctx.shoal[i].inner) : 0;
		if (zygote > 0 && n < max)
			pids[n++] = zygote;
		return n;
	}
	return bench_instance_pids(&ctx.others[i], pids, max);
}

static void sample_memory(enum peer_id peer, int count, struct result *res)
{
	double pss = 0, pss_own = 0, rss = 0, cg = 0, threads = 0, procs = 0;
	int i, cgn = 0;

	for (i = 0; i < count; i++) {
		pid_t pids[MAX_PIDS];
		int n = peer_pids(peer, i, pids, MAX_PIDS), j, k;
		uint64_t usage;

		for (j = 0; j < n && j < MAX_PIDS; j++) {
			struct bench_proc_mem mem;
			int t = bench_proc_threads(pids[j], NULL);
			bool seen = false;

			if (t <= 0 || bench_proc_mem(pids[j], &mem, NULL))
				continue;
			threads += t;
			procs++;
			for (k = 0; k < j && !seen; k++)
				seen = bench_proc_same_vm(pids[k], pids[j]);
			if (seen)
				continue;
			pss += mem.pss_kib / 1024.0;
			pss_own += mem.pss_own_kib / 1024.0;
			rss += mem.rss_kib / 1024.0;
		}
		if (peer != PEER_SHOAL && ctx.others[i].cgroup[0] &&
		    !bench_cgroup_read_u64(ctx.others[i].cgroup, "memory.usage_in_bytes", &usage,
					   NULL)) {
			cg += usage / 1048576.0;
			cgn++;
		}
	}
	res->pss_mib = pss / count;
	res->pss_own_mib = pss_own / count;
	res->rss_mib = rss / count;
	res->threads = threads / count;
	res->procs = procs / count;
	res->cg_mib = cgn ? cg / cgn : -1;
}

static void cpu_total(enum peer_id peer, int count, struct bench_proc_cpu *sum)
{
	int i, j;

	memset(sum, 0, sizeof(*sum));
	for (i = 0; i < count; i++) {
		pid_t pids[MAX_PIDS];
		int n = peer_pids(peer, i, pids, MAX_PIDS);

		for (j = 0; j < n && j < MAX_PIDS; j++) {
			struct bench_proc_cpu c;

			if (bench_proc_cpu(pids[j], &c, NULL))
				continue;
			sum->run_ns += c.run_ns;
			sum->slices += c.slices;
		}
	}
}

/* -------------------------------------------------------------- a round */

static void progress(const char *peer, int done, int total)
{
	if (isatty(STDERR_FILENO))
		fprintf(stderr, "\rinstance-bench: %s %d/%d      ", peer, done, total);
}

/*
 * The instance program as a host that installed it has it in its page cache:
 * read back by exec and its faults. A freshly linked one is there as the
 * linker wrote it, in large folios (1 MiB here), and a fault on a large folio
 * of a file maps all of it: a lone idle instance then shows ~2.3 MiB more
 * program text than after the program was read back (measured), which is the
 * build's doing, not the instance's. Written back first: dirty pages would stay.
 */
static void evict_program(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	fdatasync(fd);
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	close(fd);
}

/*
 * Before a peer's first round, one start and stop that is not counted: the
 * first start after a build or a while of idleness pays for the program's
 * pages and the host's caches, which is not what a count measures.
 */
static void warm_up(enum peer_id peer)
{
	static bool warmed[PEERS];
	struct shoal_error err = { 0 };

	if (warmed[peer])
		return;
	warmed[peer] = true;
	if (peer == PEER_SHOAL) {
		evict_program(ctx.instance_bin);
		shoal_start(&ctx.shoal[ctx.nshoal++], &err);
		shoal_stop_all(STOP_TIMEOUT);
		shoal_cgroups_left(true);
	} else {
		ctx.nothers++;
		other_start(peer, 0, &err);
		others_stop_all(peer, NULL);
	}
	bench_sleep_ms(REPEAT_SETTLE_MS);
}

static void run_round(enum peer_id peer, int count, struct result *res)
{
	struct bench_proc_cpu a, b;
	struct bench_series del = { 0 };
	int64_t ta, tb, ts;
	int i, rep, reps, alive = 0;

	res->peer = peer;
	res->count = count;
	res->cg_mib = -1;
	res->delete_ms = -1;
	/* The previous round's namespaces are taken down in the background by the
	 * host after it ended: that work belongs to no one's start. */
	bench_sleep_ms(ctx.settle_ms);
	warm_up(peer);
	reps = count >= MIN_READY_SAMPLES ? 1 : (MIN_READY_SAMPLES + count - 1) / count;
	for (rep = 0; rep < reps && !res->failed && !bench_interrupted; rep++) {
		if (rep > 0) {
			/* The previous repetition: stopped like the last one will be. */
			if (peer == PEER_SHOAL) {
				res->failed += shoal_stop_all(STOP_TIMEOUT);
				shoal_cgroups_left(true);
			} else {
				res->failed += others_stop_all(peer, &del);
			}
			/* The host takes namespaces down after their last process is gone,
			 * in the background: that work is not the next start's. */
			bench_sleep_ms(REPEAT_SETTLE_MS);
		}
		alive = 0;
		for (i = 0; i < count && !bench_interrupted; i++) {
			struct shoal_error err = { 0 };
			int r;

			progress(peer_name[peer], i + 1, count);
			if (peer == PEER_SHOAL) {
				struct sinst *s = &ctx.shoal[ctx.nshoal++];

				r = shoal_start(s, &err);
				if (!r) {
					bench_series_add(&res->ready_ms,
							 (double)(s->t_ready - s->t_spawn) / 1e6);
					bench_series_add(&res->inside_ms,
							 s->timings.total_us / 1e3);
					bench_series_add(&res->cfgwait_ms,
							 s->timings.config_wait_us / 1e3);
					bench_series_add(&res->kboot_ms,
							 s->timings.kernel_boot_us / 1e3);
					bench_series_add(&res->lock_ms,
							 s->timings.lockdown_us / 1e3);
				}
			} else {
				ctx.nothers++;
				r = other_start(peer, i, &err);
				if (!r)
					bench_series_add(&res->ready_ms,
							 (double)(ctx.others[i].t_ready -
								  ctx.others[i].t_release) /
								 1e6);
			}
			if (r) {
				res->failed++;
				fprintf(stderr, "\ninstance-bench: %s %d of %d: %s\n",
					peer_name[peer], i + 1, count, err.msg);
				/* One failure ends the round: the rest would not be "alive at
				 * once". */
				break;
			}
			alive++;
		}
	}
	res->alive = alive;
	if (alive == count && !bench_interrupted) {
		bench_sleep_ms(SETTLE_MS);
		sample_memory(peer, count, res);
		cpu_total(peer, count, &a);
		ta = bench_now_ns();
		bench_sleep_ms(ctx.idle_ms);
		cpu_total(peer, count, &b);
		tb = bench_now_ns();
		res->idle_seconds = (double)(tb - ta) / 1e9;
		res->idle_cpu_pct = (b.run_ns > a.run_ns ? (double)(b.run_ns - a.run_ns) : 0) /
				    1e9 / res->idle_seconds * 100;
		res->idle_wakeups = (b.slices > a.slices ? (double)(b.slices - a.slices) : 0) /
				    res->idle_seconds;
	}
	ts = bench_now_ns();
	if (peer == PEER_SHOAL) {
		res->failed += shoal_stop_all(STOP_TIMEOUT);
		res->stop_all_ms = (double)(bench_now_ns() - ts) / 1e6;
		/* The monitors remove their cgroups before they exit. */
		res->left_behind = shoal_cgroups_left(false);
		shoal_cgroups_left(true);
	} else {
		res->failed += others_stop_all(peer, &del);
		res->stop_all_ms = (double)(bench_now_ns() - ts) / 1e6;
		if (peer == PEER_NETNS) {
			struct bench_stats st;

			bench_series_stats(&del, &st);
			res->delete_ms = st.n ? st.median : -1;
			res->left_behind = netns_left(false);
		}
	}
	bench_series_free(&del);
}

/* ------------------------------------------------------------ the report */

static void stats_of(const struct result *r, struct bench_stats *st)
{
	bench_series_stats(&r->ready_ms, st);
}

static void print_table(FILE *f, const struct bench_settings *set)
{
	int i;

	fprintf(f, "instance-bench: %ld CPUs, host Linux %s, %s\n", set->cpus, set->host_kernel,
		set->when);
	fprintf(f,
		"instances started one after another and kept alive; ready = spawn -> ready "
		"with the others alive; idle over %.1f s with all alive\n\n",
		ctx.idle_ms / 1000.0);
	fprintf(f, "%-15s %5s %6s %9s %9s %8s %8s %8s %7s %9s %9s %9s %9s %6s\n", "peer", "alive",
		"failed", "ready p50", "ready p99", "PSS/inst", "RSS/inst", "cg/inst", "threads",
		"idle CPU", "CPU/inst", "wakeups/s", "delete", "left");
	fprintf(f, "%-15s %5s %6s %9s %9s %8s %8s %8s %7s %9s %9s %9s %9s %6s\n", "", "", "",
		"(ms)", "(ms)", "(MiB)", "(MiB)", "(MiB)", "/inst", "(% 1 CPU)", "(% 1 CPU)",
		"/inst", "p50 (ms)", "");
	for (i = 0; i < nresults; i++) {
		const struct result *r = &results[i];
		struct bench_stats st;
		char cg[16], del[16];

		if (r->skipped[0]) {
			fprintf(f, "%-15s %5d skipped: %s\n", peer_name[r->peer], r->count,
				r->skipped);
			continue;
		}
		stats_of(r, &st);
		snprintf(cg, sizeof(cg), r->cg_mib >= 0 ? "%.2f" : "-", r->cg_mib);
		snprintf(del, sizeof(del), r->delete_ms >= 0 ? "%.1f" : "-", r->delete_ms);
		if (r->alive < r->count) {
			fprintf(f,
				"%-15s %2d/%-2d %6d %9.2f %9.2f (not all alive: no idle figures)\n",
				peer_name[r->peer], r->alive, r->count, r->failed, st.median,
				st.p99);
			continue;
		}
		fprintf(f,
			"%-15s %5d %6d %9.2f %9.2f %8.2f %8.2f %8s %7.1f %9.2f %9.4f %9.1f %9s "
			"%6d\n",
			peer_name[r->peer], r->count, r->failed, st.median, st.p99, r->pss_mib,
			r->rss_mib, cg, r->threads, r->idle_cpu_pct, r->idle_cpu_pct / r->count,
			r->idle_wakeups / r->count, del, r->left_behind);
	}
	fprintf(f, "\nwhat runs:\n");
	for (i = 0; i < PEERS; i++)
		fprintf(f, "  %-15s %s\n", peer_name[i], peer_what[i]);
	fprintf(f,
		"\nShoal's goals (issue 5), information only: ready p50 <= %.0f ms, PSS <= %.0f "
		"MiB per idle instance, %d alive at once without a failure\n",
		GOAL_READY_MS, GOAL_PSS_MIB, GOAL_ALIVE);
	for (i = 0; i < nresults; i++) {
		const struct result *r = &results[i];
		struct bench_stats st;

		if (r->peer != PEER_SHOAL || r->skipped[0])
			continue;
		stats_of(r, &st);
		fprintf(f,
			"  %4d alive: ready p50 %.2f ms %s; PSS %.2f MiB (%.2f without file pages) "
			"%s; "
			"%d/%d alive, %d failed %s\n",
			r->count, st.median, st.n && st.median <= GOAL_READY_MS ? "met" : "NOT met",
			r->pss_mib, r->pss_own_mib,
			r->alive == r->count && r->pss_mib <= GOAL_PSS_MIB ? "met" : "NOT met",
			r->alive, r->count, r->failed,
			r->count < GOAL_ALIVE		     ? ""
			: r->alive == r->count && !r->failed ? "met"
							     : "NOT met");
	}
	for (i = 0; i < nresults; i++) {
		const struct result *r = &results[i];
		struct bench_stats in, cw, kb, lk;

		if (r->peer != PEER_SHOAL || r->skipped[0])
			continue;
		bench_series_stats(&r->inside_ms, &in);
		bench_series_stats(&r->cfgwait_ms, &cw);
		bench_series_stats(&r->kboot_ms, &kb);
		bench_series_stats(&r->lock_ms, &lk);
		fprintf(f,
			"  %4d alive, the instance's own ready timings (medians, ms): exec -> "
			"ready "
			"%.2f, of which exec -> configure %.2f, kernel boot %.2f, lock-down %.2f\n",
			r->count, in.median, cw.median, kb.median, lk.median);
	}
	fprintf(f, "cg/inst: the instance's memory cgroup usage (kernel objects included), "
		   "peers only; left: cgroups (Shoal) or namespaces (netns) left after stop\n");
}

static void json_num(FILE *f, const char *key, double v, bool have, bool comma)
{
	if (have)
		fprintf(f, "\"%s\": %.4f%s", key, v, comma ? ", " : "");
	else
		fprintf(f, "\"%s\": null%s", key, comma ? ", " : "");
}

static void print_json(FILE *f, const struct bench_settings *set)
{
	int i;

	fprintf(f, "{\n  \"benchmark\": \"instance-bench\",\n  \"cpus\": %ld,\n", set->cpus);
	fprintf(f, "  \"host_kernel\": \"%s\",\n  \"when\": \"%s\",\n", set->host_kernel,
		set->when);
	fprintf(f, "  \"goals\": {\"ready_p50_ms\": %.1f, \"pss_mib\": %.1f, \"alive\": %d},\n",
		GOAL_READY_MS, GOAL_PSS_MIB, GOAL_ALIVE);
	fprintf(f, "  \"results\": [\n");
	for (i = 0; i < nresults; i++) {
		const struct result *r = &results[i];
		bool full = !r->skipped[0] && r->alive == r->count;
		struct bench_stats st;

		stats_of(r, &st);
		fprintf(f, "    {\"peer\": \"%s\", \"count\": %d, \"alive\": %d, \"failed\": %d, ",
			peer_name[r->peer], r->count, r->alive, r->failed);
		if (r->skipped[0])
			fprintf(f, "\"skipped\": \"%s\", ", r->skipped);
		else
			fprintf(f, "\"skipped\": null, ");
		json_num(f, "ready_p50_ms", st.median, st.n > 0, true);
		json_num(f, "ready_p99_ms", st.p99, st.n > 0, true);
		json_num(f, "ready_max_ms", st.max, st.n > 0, true);
		if (r->peer == PEER_SHOAL) {
			struct bench_stats in;

			bench_series_stats(&r->inside_ms, &in);
			json_num(f, "instance_total_p50_ms", in.median, in.n > 0, true);
		} else {
			fprintf(f, "\"instance_total_p50_ms\": null, ");
		}
		json_num(f, "pss_mib", r->pss_mib, full, true);
		json_num(f, "pss_without_files_mib", r->pss_own_mib, full, true);
		json_num(f, "rss_mib", r->rss_mib, full, true);
		json_num(f, "cgroup_mib", r->cg_mib, full && r->cg_mib >= 0, true);
		json_num(f, "host_threads", r->threads, full, true);
		json_num(f, "host_processes", r->procs, full, true);
		json_num(f, "idle_seconds", r->idle_seconds, full, true);
		json_num(f, "idle_cpu_pct_all", r->idle_cpu_pct, full, true);
		json_num(f, "idle_cpu_pct_per_instance",
			 r->idle_cpu_pct / (r->count ? r->count : 1), full, true);
		json_num(f, "idle_wakeups_per_s_per_instance",
			 r->idle_wakeups / (r->count ? r->count : 1), full, true);
		json_num(f, "delete_p50_ms", r->delete_ms, r->delete_ms >= 0, true);
		json_num(f, "stop_all_ms", r->stop_all_ms, !r->skipped[0], true);
		fprintf(f, "\"left_behind\": %d}%s\n", r->left_behind, i + 1 < nresults ? "," : "");
	}
	fprintf(f, "  ]\n}\n");
}

/* ---------------------------------------------------------------- main */

static int remove_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* The way out, also after errors and signals. */
static void cleanup(void)
{
	if (ctx.shoal && ctx.nshoal)
		shoal_stop_all(3000);
	if (ctx.others && ctx.nothers)
		others_stop_all(PEER_NETNS, NULL);
	shoal_cgroups_left(true);
	if (ctx.nsprefix[0])
		netns_left(true); /* the hub too */
	ctx.hub[0] = '\0';
	if (ctx.guard_fd >= 0)
		close(ctx.guard_fd);
	ctx.guard_fd = -1;
	remove_cgroot();
	if (ctx.tmpdir[0])
		nftw(ctx.tmpdir, remove_cb, 16, FTW_DEPTH | FTW_PHYS);
	ctx.tmpdir[0] = '\0';
}

static bool parse_counts(const char *arg, int *counts, int *n)
{
	char buf[128], *tok, *save = NULL, *end;

	snprintf(buf, sizeof(buf), "%s", arg);
	*n = 0;
	if (!strcmp(arg, "0") || !*arg)
		return true;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		long v = strtol(tok, &end, 10);

		if (*end || end == tok || v < 1 || v > MAX_ALIVE || *n >= MAX_COUNTS)
			return false;
		counts[(*n)++] = (int)v;
	}
	return true;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: instance-bench [--counts N,N,..] [--netns N,N,..] [--uml N,N,..]\n"
		"                      [--idle-seconds S] [--settle S] [--json] [--instance PATH]\n"
		"                      [--uml-bin PATH] [--busybox PATH]\n"
		"\n"
		"Starts N shoal-instance processes one after another and keeps them alive\n"
		"(--counts, default 1,100,500), then the same for a network namespace with a\n"
		"veth and a process (--netns, default: the same counts) and for User-mode\n"
		"Linux (--uml, default 1,20); 0 skips a peer. Reports spawn -> ready (median,\n"
		"p99; a count below 20 is repeated until it gave 20 spawns), PSS, threads\n"
		"per instance and idle CPU over S seconds (default 3). Each peer starts once\n"
		"uncounted before its first round, and every round waits --settle seconds\n"
		"(default 2) for the host to finish taking the last one's namespaces down.\n"
		"Figures only: the exit status says whether it could run.\n");
}

static void default_instance(void)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0) {
		snprintf(ctx.instance_bin, sizeof(ctx.instance_bin), "shoal-instance");
		return;
	}
	self[n] = '\0';
	/* build/tests/bench/instance-bench -> build/instance/shoal-instance */
	snprintf(ctx.instance_bin, sizeof(ctx.instance_bin), "%s/../../instance/shoal-instance",
		 dirname(self));
}

static void add_skipped(enum peer_id peer, int count, const char *why)
{
	struct result *r = &results[nresults++];

	r->peer = peer;
	r->count = count;
	snprintf(r->skipped, sizeof(r->skipped), "%.150s", why);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "counts", required_argument, NULL, 'c' },
		{ "netns", required_argument, NULL, 'n' },
		{ "uml", required_argument, NULL, 'u' },
		{ "idle-seconds", required_argument, NULL, 'i' },
		{ "settle", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "instance", required_argument, NULL, 'I' },
		{ "uml-bin", required_argument, NULL, 'U' },
		{ "busybox", required_argument, NULL, 'B' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int counts[PEERS][MAX_COUNTS] = { { 1, 100, 500 }, { 0 }, { 1, 20 } };
	int ncounts[PEERS] = { 3, -1, 2 }, c, p, i;
	const char *uml = "linux.uml", *busybox = "/bin/busybox";
	struct sigaction sa = { .sa_handler = on_signal };
	struct bench_settings set = { 0 };
	struct shoal_error err = { 0 };
	char skip[PEERS][160] = { "", "", "" }, found[PATH_MAX], name[64];
	struct rlimit rl;
	struct utsname un;
	bool json = false;
	struct tm tm;
	time_t now;

	ctx.idle_ms = 3000;
	ctx.settle_ms = 2000;
	ctx.self = getpid();
	default_instance();
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		double secs;

		switch (c) {
		case 'c':
			if (!parse_counts(optarg, counts[PEER_SHOAL], &ncounts[PEER_SHOAL]))
				goto bad;
			break;
		case 'n':
			if (!parse_counts(optarg, counts[PEER_NETNS], &ncounts[PEER_NETNS]))
				goto bad;
			break;
		case 'u':
			if (!parse_counts(optarg, counts[PEER_UML], &ncounts[PEER_UML]))
				goto bad;
			break;
		case 'i':
			secs = strtod(optarg, NULL);
			if (!(secs >= 0.1 && secs <= 600))
				goto bad;
			ctx.idle_ms = (int)(secs * 1000);
			break;
		case 's':
			secs = strtod(optarg, NULL);
			if (!(secs >= 0 && secs <= 60))
				goto bad;
			ctx.settle_ms = (int)(secs * 1000);
			break;
		case 'j':
			json = true;
			break;
		case 'I':
			snprintf(ctx.instance_bin, sizeof(ctx.instance_bin), "%s", optarg);
			break;
		case 'U':
			uml = optarg;
			break;
		case 'B':
			busybox = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			goto bad;
		}
	}
	if (optind != argc)
		goto bad;
	if (ncounts[PEER_NETNS] < 0) {
		ncounts[PEER_NETNS] = ncounts[PEER_SHOAL];
		memcpy(counts[PEER_NETNS], counts[PEER_SHOAL], sizeof(counts[PEER_SHOAL]));
	}

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	atexit(cleanup);

	if (geteuid() != 0) {
		fprintf(stderr, "instance-bench: needs root (instances lock themselves down with "
				"namespaces and cgroups; the peer makes namespaces)\n");
		return 1;
	}
	if (access(ctx.instance_bin, X_OK)) {
		fprintf(stderr, "instance-bench: %s: %s (build it with `make`)\n", ctx.instance_bin,
			strerror(errno));
		return 1;
	}
	/* A descriptor or four per live instance. */
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	ctx.shoal = calloc(MAX_ALIVE, sizeof(*ctx.shoal));
	ctx.others = calloc(MAX_ALIVE, sizeof(*ctx.others));
	ctx.others_ns = calloc(MAX_ALIVE, sizeof(*ctx.others_ns));
	if (!ctx.shoal || !ctx.others || !ctx.others_ns)
		return 1;

	if (ncounts[PEER_UML] > 0) {
		if (!bench_find_program(uml, ctx.uml, sizeof(ctx.uml)))
			snprintf(skip[PEER_UML], sizeof(skip[PEER_UML]),
				 "%s not found (package user-mode-linux)", uml);
		else if (!bench_find_program(busybox, ctx.busybox, sizeof(ctx.busybox)))
			snprintf(skip[PEER_UML], sizeof(skip[PEER_UML]),
				 "%s not found (package busybox-static)", busybox);
	}
	if (ncounts[PEER_NETNS] > 0 && !bench_find_program("ip", found, sizeof(found)))
		snprintf(skip[PEER_NETNS], sizeof(skip[PEER_NETNS]),
			 "ip not found (package iproute2)");

	snprintf(ctx.tmpdir, sizeof(ctx.tmpdir), "%s/shoal-ib-XXXXXX",
		 getenv("TMPDIR") && strlen(getenv("TMPDIR")) < 200 ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(ctx.tmpdir)) {
		fprintf(stderr, "instance-bench: mkdtemp %s: %s\n", ctx.tmpdir, strerror(errno));
		ctx.tmpdir[0] = '\0';
		return 1;
	}
	if (ncounts[PEER_UML] > 0 && !skip[PEER_UML][0] && make_uml_root())
		snprintf(skip[PEER_UML], sizeof(skip[PEER_UML]), "cannot make the UML root");
	snprintf(name, sizeof(name), "shoal-ib-%d", (int)getpid());
	if (bench_cgroup_create(BENCH_CGROUP_MEMORY, name, ctx.cgroot, sizeof(ctx.cgroot), &err)) {
		fprintf(stderr, "instance-bench: no cgroup figures for the peers: %s\n", err.msg);
		ctx.cgroot[0] = '\0';
		shoal_error_clear(&err);
	}
	snprintf(ctx.nsprefix, sizeof(ctx.nsprefix), "shoal-ib%d-", (int)getpid());
	if (ncounts[PEER_NETNS] > 0)
		snprintf(ctx.hub, sizeof(ctx.hub), "%shub", ctx.nsprefix);
	if (start_guardian()) {
		fprintf(stderr, "instance-bench: cannot start the guardian: %s\n", strerror(errno));
		return 1;
	}
	if (ncounts[PEER_NETNS] > 0 && !skip[PEER_NETNS][0]) {
		char *add[] = { "ip", "netns", "add", ctx.hub, NULL };

		if (run_cmd(add, NETNS_CMD_TIMEOUT)) {
			snprintf(skip[PEER_NETNS], sizeof(skip[PEER_NETNS]),
				 "cannot make the hub namespace");
			ctx.hub[0] = '\0';
		}
	}

	/* Interleaved by count, so the drift of this machine spreads over all. */
	for (i = 0; i < MAX_COUNTS && !bench_interrupted; i++) {
		for (p = 0; p < PEERS && !bench_interrupted; p++) {
			if (i >= ncounts[p])
				continue;
			if (skip[p][0]) {
				add_skipped(p, counts[p][i], skip[p]);
				continue;
			}
			run_round(p, counts[p][i], &results[nresults++]);
		}
	}
	if (isatty(STDERR_FILENO))
		fputc('\n', stderr);
	if (bench_interrupted) {
		fprintf(stderr, "instance-bench: interrupted; cleaning up\n");
		return 130;
	}

	set.cpus = sysconf(_SC_NPROCESSORS_ONLN);
	snprintf(set.host_kernel, sizeof(set.host_kernel), "%s",
		 uname(&un) == 0 ? un.release : "?");
	now = time(NULL);
	gmtime_r(&now, &tm);
	strftime(set.when, sizeof(set.when), "%Y-%m-%d %H:%M UTC", &tm);
	if (json)
		print_json(stdout, &set);
	else
		print_table(stdout, &set);
	for (i = 0; i < nresults; i++) {
		bench_series_free(&results[i].ready_ms);
		bench_series_free(&results[i].inside_ms);
		bench_series_free(&results[i].cfgwait_ms);
		bench_series_free(&results[i].kboot_ms);
		bench_series_free(&results[i].lock_ms);
	}
	return 0;

bad:
	usage(stderr);
	return 2;
}

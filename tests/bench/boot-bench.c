// SPDX-License-Identifier: GPL-2.0
/*
 * boot-bench: how fast Shoal's library kernel boots and halts, how much memory
 * and how many host threads a booted one holds, and what it costs when idle,
 * printed beside the same figures for two peers measured in the same run:
 * Debian's User-mode Linux booting a tiny busybox init (a Linux kernel of its
 * own per instance, like Shoal) and a plain `unshare`d shell (no kernel of its
 * own: the floor). It prints figures; it never passes or fails on time.
 *
 * Every run of every peer is one fresh instance measured the same way (see
 * instance.h): pre-forked into a cgroup of its own, released just before exec
 * (the clock starts), "ready" on its stdout (for Shoal, boot-one's own
 * timestamp of the first system call answered), sampled while it waits
 * (memory, threads), told to stop, reaped. The runs of the peers are
 * interleaved, so that drift of this noisy machine spreads over all of them.
 * Then one instance per peer is left idle for a while to see what it burns.
 *
 * Everything it creates — its cgroup folders, a temporary folder with the
 * UML root, the instances — is removed on every way out, including errors,
 * SIGINT and SIGTERM; instances that miss a deadline are killed by pid.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "api/cleanup.h"
#include "api/error.h"
#include "tests/bench/cgroup.h"
#include "tests/bench/instance.h"
#include "tests/bench/procfs.h"
#include "tests/bench/program.h"
#include "tests/bench/report.h"

/* Bounds of every wait, in ms. UML boots in about a second, but on a loaded
 * 2-CPU machine it has been seen to take several. */
#define SPAWN_TIMEOUT 10000
#define SETTLE_MS 500 /* after "ready", before the idle window opens */
#define GIVE_UP_AFTER 3 /* failures in a row before a peer is left out */
#define MAX_PIDS 64

/* The init User-mode Linux runs: ready, wait for a line on the console
 * (con0 reads our pipe), power off without a shutdown sequence. */
static const char uml_init[] = "#!/bin/busybox sh\n"
			       "# boot-bench's init for User-mode Linux.\n"
			       "echo ready\n"
			       "read x\n"
			       "exec /bin/busybox poweroff -f\n";

enum peer_id { PEER_SHOAL, PEER_UML, PEER_UNSHARE, PEERS };

static struct bench_peer peers[PEERS] = {
	[PEER_SHOAL] = { .name = "shoal-skl",
			 .what = "boot-one: skl_boot (console off), getpid, wait, skl_halt" },
	[PEER_UML] = { .name = "uml",
		       .what = "linux.uml mem=64M, hostfs root with busybox-static, /init says "
			       "ready, waits, poweroff -f" },
	[PEER_UNSHARE] = { .name = "unshare",
			   .what = "unshare -n -p -f -m --mount-proc /bin/sh -c 'echo ready; "
				   "read x'" },
};

/* Per-peer bounds: ready after release, exit after the stop line. */
static const int ready_timeout[PEERS] = { 10000, 60000, 10000 };
static const int stop_timeout[PEERS] = { 10000, 30000, 10000 };

static struct {
	char tmpdir[256]; /* ours, "" until made; short, so paths in it fit */
	char cgroot[PATH_MAX]; /* our cgroup folder, "" without cgroups */
	char boot_one[PATH_MAX];
	char uml[PATH_MAX];
	char busybox[PATH_MAX];
	char uml_root[320];
	char uml_dir[320];
	int idle_ms;
	int seq; /* names instances uniquely */
} ctx;

/* What one run saw. */
struct run {
	double m[BENCH_METRICS];
	bool have[BENCH_METRICS];
};

static void run_set(struct run *r, enum bench_metric m, double v)
{
	r->m[m] = v;
	r->have[m] = true;
}

static int remove_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	if (remove(path))
		fprintf(stderr, "boot-bench: remove %s: %s\n", path, strerror(errno));
	return 0;
}

/* The way out, also after errors and signals: instances, cgroups, files. */
static void cleanup(void)
{
	struct shoal_error err = { 0 };

	bench_instance_kill_all();
	if (ctx.cgroot[0] && bench_cgroup_remove(ctx.cgroot, 2000, &err))
		fprintf(stderr, "boot-bench: %s\n", err.msg);
	ctx.cgroot[0] = '\0';
	if (ctx.tmpdir[0])
		nftw(ctx.tmpdir, remove_cb, 16, FTW_DEPTH | FTW_PHYS);
	ctx.tmpdir[0] = '\0';
}

static void on_signal(int sig)
{
	(void)sig;
	bench_interrupted = 1;
}

static int copy_file(const char *from, const char *to, mode_t mode, struct shoal_error *err)
{
	_cleanup_close_ int in = open(from, O_RDONLY | O_CLOEXEC);
	_cleanup_close_ int out = -1;
	char buf[65536];
	ssize_t n;

	if (in < 0)
		return shoal_error_set(err, errno, "open %s", from);
	out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (out < 0)
		return shoal_error_set(err, errno, "create %s", to);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			return shoal_error_set(err, errno ? errno : EIO, "write %s", to);
	if (n < 0)
		return shoal_error_set(err, errno, "read %s", from);
	return 0;
}

static int write_file(const char *path, const char *text, mode_t mode, struct shoal_error *err)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	size_t len = strlen(text);

	if (fd < 0)
		return shoal_error_set(err, errno, "create %s", path);
	if (write(fd, text, len) != (ssize_t)len)
		return shoal_error_set(err, errno ? errno : EIO, "write %s", path);
	return 0;
}

/* The UML guest's root, a host folder it mounts with hostfs: a static
 * busybox (a symlink would point into the guest's own tree) and /init. */
static int make_uml_root(struct shoal_error *err)
{
	char path[PATH_MAX + 32];
	int ret;

	snprintf(ctx.uml_root, sizeof(ctx.uml_root), "%s/root", ctx.tmpdir);
	snprintf(ctx.uml_dir, sizeof(ctx.uml_dir), "%s/umldir", ctx.tmpdir);
	snprintf(path, sizeof(path), "%s/bin", ctx.uml_root);
	if (mkdir(ctx.uml_root, 0755) || mkdir(path, 0755) || mkdir(ctx.uml_dir, 0755))
		return shoal_error_set(err, errno, "mkdir in %s", ctx.tmpdir);
	snprintf(path, sizeof(path), "%s/bin/busybox", ctx.uml_root);
	ret = copy_file(ctx.busybox, path, 0755, err);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "%s/init", ctx.uml_root);
	return write_file(path, uml_init, 0755, err);
}

/* Sum over the instance's processes now. */
static int sample_after_boot(struct bench_instance *inst, struct run *r, struct shoal_error *err)
{
	struct bench_proc_mem total = { 0 };
	pid_t pids[MAX_PIDS];
	int n, i, threads = 0, counted = 0;
	uint64_t usage;

	n = bench_instance_pids(inst, pids, MAX_PIDS);
	if (n <= 0)
		return shoal_error_set(err, ESRCH, "pid %d: no process left after ready",
				       (int)inst->pid);
	for (i = 0; i < n && i < MAX_PIDS; i++) {
		struct bench_proc_mem mem;
		int t = bench_proc_threads(pids[i], NULL), j;
		bool seen = false;

		/* A process that exits between the listing and the read (a UML
		 * helper, say) simply is not part of the sample. */
		if (t <= 0 || bench_proc_mem(pids[i], &mem, NULL))
			continue;
		threads += t;
		counted++;
		for (j = 0; j < i && !seen; j++)
			seen = bench_proc_same_vm(pids[j], pids[i]);
		if (seen)
			continue;
		total.rss_kib += mem.rss_kib;
		total.pss_kib += mem.pss_kib;
		total.pss_own_kib += mem.pss_own_kib;
	}
	if (!counted)
		return shoal_error_set(err, ESRCH, "pid %d: cannot read /proc after ready",
				       (int)inst->pid);
	run_set(r, BENCH_PROCESSES, counted);
	run_set(r, BENCH_THREADS, threads);
	run_set(r, BENCH_RSS_MIB, total.rss_kib / 1024.0);
	run_set(r, BENCH_PSS_MIB, total.pss_kib / 1024.0);
	run_set(r, BENCH_PSS_OWN_MIB, total.pss_own_kib / 1024.0);
	if (inst->cgroup[0] &&
	    bench_cgroup_read_u64(inst->cgroup, "memory.usage_in_bytes", &usage, err) == 0)
		run_set(r, BENCH_CG_READY_MIB, usage / 1048576.0);
	return shoal_error_is_set(err) ? -EIO : 0;
}

static double ms_between(long long from_ns, long long to_ns)
{
	return (double)(to_ns - from_ns) / 1e6;
}

/* boot-one's lines (see boot-one.c) into Shoal's figures. */
static int parse_shoal(const struct bench_instance *inst, const char *ready, const char *halted,
		       struct run *r, struct shoal_error *err)
{
	long long main_ns, booted_ns, answered_ns, cpu_us, halt_ns;

	if (sscanf(ready, "ready main_ns=%lld booted_ns=%lld answered_ns=%lld cpu_us=%lld",
		   &main_ns, &booted_ns, &answered_ns, &cpu_us) != 4)
		return shoal_error_set(err, 0, "boot-one: bad ready line '%s'", ready);
	if (sscanf(halted, "halted halt_ns=%lld", &halt_ns) != 1)
		return shoal_error_set(err, 0, "boot-one: no halted line (last: '%s')", inst->last);
	if (main_ns < inst->t_release || answered_ns < booted_ns || booted_ns < main_ns)
		return shoal_error_set(err, 0, "boot-one: timestamps out of order: '%s'", ready);
	run_set(r, BENCH_READY_MS, ms_between(inst->t_release, answered_ns));
	run_set(r, BENCH_EXEC_MS, ms_between(inst->t_release, main_ns));
	run_set(r, BENCH_SKL_BOOT_MS, ms_between(main_ns, booted_ns));
	run_set(r, BENCH_SYSCALL_MS, ms_between(booted_ns, answered_ns));
	run_set(r, BENCH_BOOT_CPU_MS, cpu_us / 1000.0);
	run_set(r, BENCH_HALT_MS, halt_ns / 1e6);
	return 0;
}

/* The command line of one instance of @peer; @store holds its strings. */
static void peer_argv(enum peer_id peer, const char *name, char *argv[16], char store[3][PATH_MAX])
{
	int i = 0;

	switch (peer) {
	case PEER_SHOAL:
		argv[i++] = ctx.boot_one;
		break;
	case PEER_UML:
		snprintf(store[0], PATH_MAX, "rootflags=%s", ctx.uml_root);
		snprintf(store[1], PATH_MAX, "uml_dir=%s", ctx.uml_dir);
		snprintf(store[2], PATH_MAX, "umid=%s", name);
		argv[i++] = ctx.uml;
		argv[i++] = "mem=64M";
		argv[i++] = "root=/dev/root";
		argv[i++] = "rootfstype=hostfs";
		argv[i++] = store[0];
		argv[i++] = "rw";
		argv[i++] = "init=/init";
		argv[i++] = "quiet";
		argv[i++] = "con=null";
		/* PEERS.md has con0=null,fd:1; reading fd 0 lets the guest
		 * wait for our stop line, like the other peers. */
		argv[i++] = "con0=fd:0,fd:1";
		argv[i++] = store[1];
		argv[i++] = store[2];
		break;
	case PEER_UNSHARE:
		argv[i++] = "unshare";
		argv[i++] = "-n";
		argv[i++] = "-p";
		argv[i++] = "-f";
		argv[i++] = "-m";
		argv[i++] = "--mount-proc";
		argv[i++] = "/bin/sh";
		argv[i++] = "-c";
		argv[i++] = "echo ready; read x";
		break;
	case PEERS:
		break;
	}
	argv[i] = NULL;
}

/* Spawn one instance of @peer and wait until it is ready. */
static int boot_instance(enum peer_id peer, struct bench_instance *inst, char *ready, size_t len,
			 struct shoal_error *err)
{
	char name[64], store[3][PATH_MAX], *argv[16];
	int ret;

	snprintf(name, sizeof(name), "%s-%d-%d", peers[peer].name, (int)getpid(), ctx.seq++);
	peer_argv(peer, name, argv, store);
	ret = bench_instance_spawn(inst, argv, ctx.cgroot[0] ? ctx.cgroot : NULL, name,
				   SPAWN_TIMEOUT, err);
	if (ret)
		return ret;
	ret = bench_instance_release(inst, err);
	if (!ret)
		ret = bench_instance_wait_line(inst, "ready", ready, len, ready_timeout[peer], err);
	return ret;
}

/* One measured (or warm-up) run of @peer, start to finish. */
static int run_once(enum peer_id peer, bool record, struct shoal_error *err)
{
	struct bench_instance inst;
	char ready[256], halted[256];
	struct run r = { 0 };
	uint64_t peak;
	int ret, m;

	ret = boot_instance(peer, &inst, ready, sizeof(ready), err);
	if (!ret)
		ret = sample_after_boot(&inst, &r, err);
	if (!ret)
		ret = bench_instance_stop(&inst, "halted", halted, sizeof(halted),
					  stop_timeout[peer], err);
	if (!ret && (!WIFEXITED(inst.status) || WEXITSTATUS(inst.status) != 0))
		ret = shoal_error_set(err, 0, "pid %d ended with wait status 0x%x; last line: '%s'",
				      (int)inst.pid, inst.status, inst.last);
	if (!ret && inst.cgroup[0]) {
		/* The peak stays after the processes are gone: the whole life. */
		ret = bench_cgroup_read_u64(inst.cgroup, "memory.max_usage_in_bytes", &peak, err);
		if (!ret)
			run_set(&r, BENCH_CG_PEAK_MIB, peak / 1048576.0);
	}
	if (!ret) {
		run_set(&r, BENCH_READY_MS, ms_between(inst.t_release, inst.t_ready));
		run_set(&r, BENCH_EXIT_MS, ms_between(inst.t_stop, inst.t_exit));
		run_set(&r, BENCH_HALT_MS, ms_between(inst.t_stop, inst.t_exit));
		if (peer == PEER_SHOAL)
			ret = parse_shoal(&inst, ready, halted, &r, err);
	}
	if (bench_instance_destroy(&inst, err) && !ret)
		ret = -EBUSY;
	if (ret || !record)
		return ret;
	for (m = 0; m < BENCH_METRICS; m++)
		if (r.have[m])
			bench_series_add(&peers[peer].m[m], r.m[m]);
	return 0;
}

static void cpu_sum(struct bench_instance *inst, struct bench_proc_cpu *sum, int *threads)
{
	pid_t pids[MAX_PIDS];
	int n, i;

	memset(sum, 0, sizeof(*sum));
	*threads = 0;
	n = bench_instance_pids(inst, pids, MAX_PIDS);
	for (i = 0; i < n && i < MAX_PIDS; i++) {
		struct bench_proc_cpu c;
		int t = bench_proc_threads(pids[i], NULL);

		if (t <= 0 || bench_proc_cpu(pids[i], &c, NULL))
			continue;
		*threads += t;
		sum->ticks += c.ticks;
		sum->run_ns += c.run_ns;
		sum->slices += c.slices;
	}
}

/* Non-negative difference: schedstat sums only live threads, so a thread
 * that ended inside the window takes its time with it. */
static double delta(uint64_t before, uint64_t after)
{
	return after > before ? (double)(after - before) : 0;
}

/* One booted instance of @peer left alone for ctx.idle_ms. */
static int measure_idle(enum peer_id peer, struct shoal_error *err)
{
	struct bench_idle *idle = &peers[peer].idle;
	struct bench_proc_cpu a, b;
	struct bench_instance inst;
	char ready[256];
	int64_t ta, tb;
	double secs;
	int ret, threads;

	ret = boot_instance(peer, &inst, ready, sizeof(ready), err);
	if (!ret)
		ret = bench_sleep_ms(SETTLE_MS);
	if (!ret) {
		cpu_sum(&inst, &a, &threads);
		ta = bench_now_ns();
		ret = bench_sleep_ms(ctx.idle_ms);
	}
	if (!ret) {
		cpu_sum(&inst, &b, &threads);
		tb = bench_now_ns();
		ret = bench_instance_stop(&inst, NULL, NULL, 0, stop_timeout[peer], err);
	}
	if (bench_instance_destroy(&inst, err) && !ret)
		ret = -EBUSY;
	if (ret)
		return ret;
	secs = (double)(tb - ta) / 1e9;
	idle->measured = true;
	idle->seconds = secs;
	idle->cpu_pct = delta(a.ticks, b.ticks) / (double)sysconf(_SC_CLK_TCK) / secs * 100;
	idle->cpu_pct_sched = delta(a.run_ns, b.run_ns) / 1e9 / secs * 100;
	idle->wakeups_per_s = delta(a.slices, b.slices) / secs;
	idle->threads = threads;
	return 0;
}

/* ctx.density instances of @peer booted and alive at once; memory each. */
static int measure_density(enum peer_id peer, int count, struct shoal_error *err)
{
	struct bench_instance *inst = calloc((size_t)count, sizeof(*inst));
	double pss = 0, rss = 0;
	int booted = 0, i, ret = 0;
	char ready[256];

	if (!inst)
		return shoal_error_set(err, ENOMEM, "density: %d instances", count);
	for (i = 0; i < count && !ret; i++) {
		ret = boot_instance(peer, &inst[i], ready, sizeof(ready), err);
		if (!ret)
			booted++;
	}
	if (!ret)
		ret = bench_sleep_ms(SETTLE_MS);
	for (i = 0; i < booted && !ret; i++) {
		struct run r = { 0 };

		ret = sample_after_boot(&inst[i], &r, err);
		pss += r.m[BENCH_PSS_MIB];
		rss += r.m[BENCH_RSS_MIB];
	}
	for (i = 0; i < booted; i++) {
		int stop = bench_instance_stop(&inst[i], NULL, NULL, 0, stop_timeout[peer],
					       ret ? NULL : err);

		if (stop && !ret)
			ret = stop;
		if (bench_instance_destroy(&inst[i], ret ? NULL : err) && !ret)
			ret = -EBUSY;
	}
	free(inst);
	if (ret)
		return ret;
	peers[peer].density.measured = true;
	peers[peer].density.instances = count;
	peers[peer].density.pss_mib = pss / count;
	peers[peer].density.rss_mib = rss / count;
	return 0;
}

/* Exit status after SIGINT/SIGTERM/SIGHUP; atexit's cleanup() runs next. */
static int interrupted(void)
{
	fprintf(stderr, "\nboot-bench: interrupted; cleaning up\n");
	return 130;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: boot-bench [--runs N] [--uml-runs N] [--unshare-runs N] [--idle-seconds "
		   "S]\n"
		   "                  [--density N] [--json] [--boot-one PATH] [--uml PATH]\n"
		   "                  [--busybox PATH]\n"
		   "\n"
		   "Boots Shoal's library kernel N times (default 100), each in a fresh process,\n"
		   "beside User-mode Linux (default 10 runs) and an unshared shell (default N),\n"
		   "then leaves one instance of each idle for S seconds (default 2; 0 skips it),\n"
		   "then keeps N of each alive at once for memory per instance (default 10,\n"
		   "at most 5 for UML; 0 skips it).\n"
		   "Prints a table, or JSON with --json. Figures only: the exit status says\n"
		   "whether the benchmark could run, never whether a figure is good.\n");
}

static bool parse_count(const char *arg, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || *end || end == arg || v < 0 || v > 1000000)
		return false;
	*out = (int)v;
	return true;
}

/* Where boot-one lives by default: next to this program. */
static void default_boot_one(void)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0) {
		snprintf(ctx.boot_one, sizeof(ctx.boot_one), "boot-one");
		return;
	}
	self[n] = '\0';
	snprintf(ctx.boot_one, sizeof(ctx.boot_one), "%s/boot-one", dirname(self));
}

static void progress(const char *what, int done, int total)
{
	if (isatty(STDERR_FILENO))
		fprintf(stderr, "\rboot-bench: %s %d/%d   ", what, done, total);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "runs", required_argument, NULL, 'r' },
		{ "uml-runs", required_argument, NULL, 'u' },
		{ "unshare-runs", required_argument, NULL, 'n' },
		{ "idle-seconds", required_argument, NULL, 'i' },
		{ "density", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "boot-one", required_argument, NULL, 'b' },
		{ "uml", required_argument, NULL, 'U' },
		{ "busybox", required_argument, NULL, 'B' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct bench_settings set = { .idle_ms = 2000, .density = 10 };
	const char *uml = "linux.uml", *busybox = "/bin/busybox";
	int unshare_runs = -1, max_runs = 0, streak[PEERS] = { 0 };
	struct shoal_error err = { 0 };
	struct sigaction sa = { .sa_handler = on_signal };
	bool json = false;
	char name[64], found[PATH_MAX];
	struct utsname un;
	struct tm tm;
	time_t now;
	int c, i, p;

	peers[PEER_SHOAL].runs = 100;
	peers[PEER_UML].runs = 10;
	default_boot_one();
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		double secs;

		switch (c) {
		case 'r':
			if (!parse_count(optarg, &peers[PEER_SHOAL].runs))
				goto bad;
			break;
		case 'u':
			if (!parse_count(optarg, &peers[PEER_UML].runs))
				goto bad;
			break;
		case 'n':
			if (!parse_count(optarg, &unshare_runs))
				goto bad;
			break;
		case 'i':
			secs = strtod(optarg, NULL);
			if (!(secs >= 0 && secs <= 3600))
				goto bad;
			set.idle_ms = (int)(secs * 1000);
			break;
		case 'd':
			/* every live instance must fit the cleanup list */
			if (!parse_count(optarg, &set.density) || set.density > 64)
				goto bad;
			break;
		case 'j':
			json = true;
			break;
		case 'b':
			snprintf(ctx.boot_one, sizeof(ctx.boot_one), "%s", optarg);
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
	peers[PEER_UNSHARE].runs = unshare_runs >= 0 ? unshare_runs : peers[PEER_SHOAL].runs;
	ctx.idle_ms = set.idle_ms;

	/* Waits end early on these, and the exit path cleans up. No
	 * SA_RESTART: a blocking call must return so the flag is seen. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	atexit(cleanup);

	if (access(ctx.boot_one, X_OK)) {
		fprintf(stderr, "boot-bench: %s: %s (build it with `make bench`)\n", ctx.boot_one,
			strerror(errno));
		return 1;
	}
	if (peers[PEER_UML].runs > 0) {
		if (!bench_find_program(uml, ctx.uml, sizeof(ctx.uml)))
			snprintf(peers[PEER_UML].skipped, sizeof(peers[PEER_UML].skipped),
				 "%s not found (package user-mode-linux; `make deps`)", uml);
		else if (!bench_find_program(busybox, ctx.busybox, sizeof(ctx.busybox)))
			snprintf(peers[PEER_UML].skipped, sizeof(peers[PEER_UML].skipped),
				 "%s not found (package busybox-static; `make deps`)", busybox);
	} else {
		snprintf(peers[PEER_UML].skipped, sizeof(peers[PEER_UML].skipped), "--uml-runs 0");
	}
	if (peers[PEER_UNSHARE].runs == 0)
		snprintf(peers[PEER_UNSHARE].skipped, sizeof(peers[PEER_UNSHARE].skipped),
			 "--unshare-runs 0");
	else if (!bench_find_program("unshare", found, sizeof(found)))
		snprintf(peers[PEER_UNSHARE].skipped, sizeof(peers[PEER_UNSHARE].skipped),
			 "unshare not found (package util-linux)");

	if ((size_t)snprintf(ctx.tmpdir, sizeof(ctx.tmpdir), "%s/shoal-bench-XXXXXX",
			     getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp") >= sizeof(ctx.tmpdir)) {
		fprintf(stderr, "boot-bench: TMPDIR is too long\n");
		ctx.tmpdir[0] = '\0';
		return 1;
	}
	if (!mkdtemp(ctx.tmpdir)) {
		fprintf(stderr, "boot-bench: mkdtemp %s: %s\n", ctx.tmpdir, strerror(errno));
		ctx.tmpdir[0] = '\0';
		return 1;
	}
	if (!peers[PEER_UML].skipped[0] && make_uml_root(&err)) {
		fprintf(stderr, "boot-bench: %s\n", err.msg);
		return 1;
	}

	/* One folder of ours under the memory controller, one per instance in
	 * it. Without it (not root, no v1 controller) the cgroup figures are
	 * left out and the rest is still measured. */
	snprintf(name, sizeof(name), "shoal-bench-%d", (int)getpid());
	if (bench_cgroup_create(BENCH_CGROUP_MEMORY, name, ctx.cgroot, sizeof(ctx.cgroot), &err)) {
		fprintf(stderr, "boot-bench: no cgroup figures: %s\n", err.msg);
		ctx.cgroot[0] = '\0';
		shoal_error_clear(&err);
	}
	set.cgroups = ctx.cgroot[0] != '\0';

	/* One uncounted run each: page cache, dynamic loader caches and the
	 * host's own first-time costs land here, not in the figures. */
	for (p = 0; p < PEERS; p++) {
		if (peers[p].skipped[0] || !peers[p].runs)
			continue;
		progress("warm-up", p + 1, PEERS);
		if (run_once(p, false, &err)) {
			fprintf(stderr, "\nboot-bench: %s warm-up: %s\n", peers[p].name, err.msg);
			shoal_error_clear(&err);
		}
		if (bench_interrupted)
			return interrupted();
	}

	for (p = 0; p < PEERS; p++)
		if (!peers[p].skipped[0] && peers[p].runs > max_runs)
			max_runs = peers[p].runs;
	for (i = 0; i < max_runs; i++) {
		progress("run", i + 1, max_runs);
		for (p = 0; p < PEERS; p++) {
			if (peers[p].skipped[0] || i >= peers[p].runs)
				continue;
			if (run_once(p, true, &err) == 0) {
				streak[p] = 0;
				continue;
			}
			if (bench_interrupted)
				return interrupted();
			fprintf(stderr, "\nboot-bench: %s run %d: %s\n", peers[p].name, i + 1,
				err.msg);
			shoal_error_clear(&err);
			peers[p].failed++;
			if (++streak[p] == GIVE_UP_AFTER) {
				fprintf(stderr,
					"boot-bench: %s failed %d times in a row: left out\n",
					peers[p].name, GIVE_UP_AFTER);
				peers[p].runs = i + 1;
			}
		}
	}

	for (p = 0; p < PEERS && set.idle_ms > 0; p++) {
		if (peers[p].skipped[0] || !peers[p].m[BENCH_READY_MS].n)
			continue;
		progress("idle", p + 1, PEERS);
		if (measure_idle(p, &err)) {
			if (bench_interrupted)
				return interrupted();
			fprintf(stderr, "\nboot-bench: %s idle: %s\n", peers[p].name, err.msg);
			shoal_error_clear(&err);
		}
	}
	for (p = 0; p < PEERS && set.density > 0; p++) {
		if (peers[p].skipped[0] || !peers[p].m[BENCH_READY_MS].n)
			continue;
		progress("density", p + 1, PEERS);
		if (measure_density(p, p == PEER_UML && set.density > 5 ? 5 : set.density, &err)) {
			if (bench_interrupted)
				return interrupted();
			fprintf(stderr, "\nboot-bench: %s density: %s\n", peers[p].name, err.msg);
			shoal_error_clear(&err);
		}
	}
	if (isatty(STDERR_FILENO))
		fputc('\n', stderr);

	set.cpus = sysconf(_SC_NPROCESSORS_ONLN);
	snprintf(set.host_kernel, sizeof(set.host_kernel), "%s",
		 uname(&un) == 0 ? un.release : "?");
	now = time(NULL);
	gmtime_r(&now, &tm);
	strftime(set.when, sizeof(set.when), "%Y-%m-%d %H:%M UTC", &tm);
	if (json)
		bench_report_json(stdout, &set, peers, PEERS);
	else
		bench_report_table(stdout, &set, peers, PEERS);
	for (p = 0; p < PEERS; p++)
		for (i = 0; i < BENCH_METRICS; i++)
			bench_series_free(&peers[p].m[i]);
	return 0;

bad:
	usage(stderr);
	return 2;
}

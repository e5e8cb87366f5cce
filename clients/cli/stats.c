// SPDX-License-Identifier: GPL-2.0
/*
 * shoal stats: a top-style view of the instances' resource use. An instance
 * is one host process (its kernel, its jobs' system calls), so what the host
 * kernel accounts to that pid is what the instance costs: CPU time and
 * resident memory are read from /proc/PID of the pid the daemon reports (the
 * CLI runs on the daemon's host: it talks over a Unix socket), summed over
 * that process and its descendants (the instance's monitor forks the process
 * that hosts the kernel, and jobs run below it). CPU% is
 * measured between two samples; on a terminal the table refreshes until
 * interrupted, otherwise (or with --no-stream, --json) one sample is printed.
 * Where the daemon offers GET /v1/instances/{id}/stats, the instance's own
 * view is added: its kernel's memory in use, jobs running and network bytes
 * (what only the instance's kernel knows); older daemons just leave them out.
 */
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clients/cli/cli.h"
#include "clients/cli/procfs.h"
#include "clients/cli/table.h"

#define STATS_MAX 4096

struct sample {
	char id[19];
	const char *state;
	long long pid;
	long long memory_mib;
	long long created_ms;
	unsigned long long ticks; /* utime + stime */
	long long rss_kib;
	long threads;
	bool alive;
	double cpu_pct;
	json_t *inside; /* the instance's own stats, or NULL */
};

/* The instance's own stats, or NULL (no such endpoint: *@supported turns false). */
static json_t *inside_stats(struct shoal_client *c, const char *id, bool *supported)
{
	struct shoal_error err = { 0 };
	struct http_resp resp;
	char path[64];
	json_t *j = NULL;

	snprintf(path, sizeof(path), "/v1/instances/%s/stats", id);
	if (http_request(c, "GET", path, NULL, NULL, &resp, &err))
		return NULL;
	if (resp.status == 200)
		j = json_loadb(resp.body ? resp.body : "", resp.len, 0, NULL);
	else if (resp.status == 501 || resp.status == 405 ||
		 (resp.status == 404 && resp.body && strstr(resp.body, "no such route")))
		*supported = false;
	http_resp_free(&resp);
	return j;
}

static long long inside_int(const json_t *j, const char *a, const char *b)
{
	const json_t *v = json_object_get(j, a);

	if (b)
		v = json_object_get(v, b);
	return json_is_integer(v) ? json_integer_value(v) : -1;
}

/* Bytes through the instance's interfaces other than loopback, or -1. */
static long long inside_net(const json_t *j, const char *key)
{
	const json_t *ifs = json_object_get(j, "interfaces"), *f;
	long long sum = -1;
	size_t i;

	json_array_foreach(ifs, i, f)
	{
		const char *name = json_string_value(json_object_get(f, "name"));

		if (name && strcmp(name, "lo")) {
			json_t *v = json_object_get(f, key);

			sum = (sum < 0 ? 0 : sum) +
			      (json_is_integer(v) ? json_integer_value(v) : 0);
		}
	}
	return sum;
}

static void human_bytes(long long b, char *buf, size_t size)
{
	if (b < 0)
		snprintf(buf, size, "-");
	else if (b < 10 * 1024)
		snprintf(buf, size, "%lld B", b);
	else if (b < 10LL * 1024 * 1024)
		snprintf(buf, size, "%.1f KiB", (double)b / 1024);
	else
		snprintf(buf, size, "%.1f MiB", (double)b / (1024 * 1024));
}

/* The alive instances (all of @ids when given) with a first CPU sample. */
static int take(struct shoal_client *c, json_t **list, char **ids, int nids, struct sample *s,
		size_t *n)
{
	json_t *inst;
	size_t i;
	int r;

	*n = 0;
	r = cli_call(c, "stats", "GET", "/v1/instances?state=running", NULL, list);
	if (r)
		return r;
	json_array_foreach(json_object_get(*list, "instances"), i, inst)
	{
		const char *id = json_string_value(json_object_get(inst, "id"));
		struct sample *x = &s[*n];
		bool want = !nids;

		for (int k = 0; k < nids && !want; k++)
			want = id && !strcmp(ids[k], id);
		if (!id || !want || *n == STATS_MAX)
			continue;
		memset(x, 0, sizeof(*x));
		snprintf(x->id, sizeof(x->id), "%s", id);
		x->state = json_string_value(json_object_get(inst, "state"));
		x->pid = json_integer_value(json_object_get(inst, "pid"));
		x->memory_mib = json_integer_value(json_object_get(inst, "memory_mib"));
		x->created_ms = json_integer_value(json_object_get(inst, "created_ms"));
		x->alive = x->pid > 0 && proc_tree(x->pid, &x->ticks, &x->rss_kib, &x->threads);
		(*n)++;
	}
	return CLI_OK;
}

static void finish(struct shoal_client *c, struct sample *s, size_t n, double dt)
{
	static bool supported = true; /* until the daemon says otherwise */
	long hz = sysconf(_SC_CLK_TCK);

	for (size_t i = 0; i < n; i++) {
		unsigned long long t;

		s[i].inside = supported && s[i].alive ? inside_stats(c, s[i].id, &supported) : NULL;
		if (!s[i].alive || !proc_tree(s[i].pid, &t, &s[i].rss_kib, &s[i].threads)) {
			s[i].alive = false;
			continue;
		}
		/* A process of the tree that ended between samples can make the sum shrink. */
		s[i].cpu_pct = dt > 0 && t > s[i].ticks
				       ? 100.0 * (double)(t - s[i].ticks) / (double)hz / dt
				       : 0;
	}
}

static void print_table(const struct sample *s, size_t n)
{
	static const char *const head[] = { "ID",	  "PID",     "CPU %", "RSS",
					    "KERNEL MEM", "MEMORY",  "JOBS",  "NET RX",
					    "NET TX",	  "THREADS", "UPTIME" };
	double cpu = 0, rss = 0;
	struct table t;

	table_init(&t, (int)(sizeof(head) / sizeof(head[0])), head);
	for (size_t i = 0; i < n; i++) {
		char pid[24], cpu_s[24] = "-", rss_s[24] = "-", mem[24], thr[24] = "-", up[24];
		char kmem[24], jobs[24] = "-", rx[24], tx[24];
		const char *row[] = {
			s[i].id, pid, cpu_s, rss_s, kmem, mem, jobs, rx, tx, thr, up
		};
		long long total = inside_int(s[i].inside, "memory", "kernel_total_bytes");
		long long kfree = inside_int(s[i].inside, "memory", "kernel_free_bytes");

		human_bytes(total >= 0 && kfree >= 0 ? total - kfree : -1, kmem, sizeof(kmem));
		if (inside_int(s[i].inside, "jobs_running", NULL) >= 0)
			snprintf(jobs, sizeof(jobs), "%lld",
				 inside_int(s[i].inside, "jobs_running", NULL));
		human_bytes(inside_net(s[i].inside, "rx_bytes"), rx, sizeof(rx));
		human_bytes(inside_net(s[i].inside, "tx_bytes"), tx, sizeof(tx));

		snprintf(pid, sizeof(pid), "%lld", s[i].pid);
		if (s[i].alive) {
			snprintf(cpu_s, sizeof(cpu_s), "%.1f", s[i].cpu_pct);
			cpu += s[i].cpu_pct;
		}
		if (s[i].rss_kib >= 0 && s[i].alive) {
			snprintf(rss_s, sizeof(rss_s), "%.1f MiB", (double)s[i].rss_kib / 1024);
			rss += (double)s[i].rss_kib / 1024;
		}
		if (s[i].threads >= 0 && s[i].alive)
			snprintf(thr, sizeof(thr), "%ld", s[i].threads);
		snprintf(mem, sizeof(mem), "%lld MiB", s[i].memory_mib);
		cli_age(s[i].created_ms, up, sizeof(up));
		table_add(&t, row);
	}
	table_print(&t, stdout);
	printf("%zu instance%s, %.1f%% CPU, %.1f MiB resident\n", n, n == 1 ? "" : "s", cpu, rss);
	table_free(&t);
}

static json_t *samples_json(const struct sample *s, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(
			a, json_pack("{s:s,s:I,s:o,s:o,s:o,s:I,s:I,s:O?}", "id", s[i].id, "pid",
				     (json_int_t)s[i].pid, "cpu_pct",
				     s[i].alive ? json_real(s[i].cpu_pct) : json_null(), "rss_kib",
				     s[i].alive && s[i].rss_kib >= 0 ? json_integer(s[i].rss_kib)
								     : json_null(),
				     "threads",
				     s[i].alive && s[i].threads >= 0 ? json_integer(s[i].threads)
								     : json_null(),
				     "memory_mib", (json_int_t)s[i].memory_mib, "created_ms",
				     (json_int_t)s[i].created_ms, "instance", s[i].inside));
	return json_pack("{s:o}", "instances", a);
}

static const char stats_help[] =
	"[OPTIONS] [ID...]\n"
	"\n"
	"Resource use of running instances, as the host accounts it to each instance's\n"
	"process (CPU % over the sample interval, resident memory, threads) and, where the\n"
	"daemon offers it, as the instance sees itself (its kernel's memory in use, jobs\n"
	"running, network bytes). On a terminal the table refreshes until interrupted.\n"
	"\n"
	"  -n, --no-stream      print one sample and exit\n"
	"  -I, --interval SECS  sample interval (default 1)\n"
	"  -j, --json           one sample as JSON\n"
	"  -h, --help           this help\n";

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int cli_stats(struct shoal_client *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "no-stream", no_argument, NULL, 'n' },
		{ "interval", required_argument, NULL, 'I' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool once = !isatty(1), json = false;
	long interval = 1;
	char *ids[64];
	int opt, r, nids = 0;
	struct sample *s;

	while ((opt = getopt_long(argc, argv, "nI:jh", opts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			once = true;
			break;
		case 'I':
			if (cli_parse_long(optarg, 1, 3600, &interval))
				return cli_usage_err("stats", "--interval wants 1..3600 seconds");
			break;
		case 'j':
			json = once = true;
			break;
		case 'h':
			return cli_verb_help("stats", stats_help);
		default:
			return cli_try_help("stats");
		}
	}
	if (argc - optind > 64)
		return cli_usage_err("stats", "at most 64 ids");
	s = calloc(STATS_MAX, sizeof(*s));
	if (!s)
		return CLI_EAPI;
	for (int i = optind; i < argc; i++) {
		ids[nids] = malloc(19);
		r = ids[nids] ? cli_resolve_id(c, "stats", argv[i], ids[nids]) : CLI_EAPI;
		nids++;
		if (r)
			goto out;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	do {
		json_t *list = NULL;
		double t0;
		size_t n;

		r = take(c, &list, ids, nids, s, &n);
		if (r)
			break;
		t0 = cli_mono_s();
		/* One-shot samples are shorter: a script should not wait a whole second. */
		usleep(once ? 250000 : (useconds_t)interval * 1000000);
		finish(c, s, n, cli_mono_s() - t0);
		if (json) {
			json_t *j = samples_json(s, n);

			cli_print_json(j);
			json_decref(j);
		} else {
			if (!once)
				fputs("\033[H\033[2J", stdout);
			print_table(s, n);
		}
		fflush(stdout);
		json_decref(list);
		for (size_t i = 0; i < n; i++)
			json_decref(s[i].inside);
	} while (!once && !stop);
out:
	for (int i = 0; i < nids; i++)
		free(ids[i]);
	free(s);
	return r;
}

/* ---- version */

static const char version_help[] =
	"[--json]\n"
	"\n"
	"Print the versions of this tool and of the daemon it talks to.\n"
	"\n"
	"  -j, --json           as JSON\n"
	"  -h, --help           this help\n";

int cli_version(struct shoal_client *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool json = false;
	json_t *v = NULL;
	int opt, r;

	while ((opt = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		if (opt == 'j')
			json = true;
		else if (opt == 'h')
			return cli_verb_help("version", version_help);
		else
			return cli_try_help("version");
	}
	if (optind < argc)
		return cli_usage_err("version", "unexpected argument '%s'", argv[optind]);
	if (!json)
		printf("client: shoal %s\n", SHOAL_CLI_VERSION);
	fflush(stdout);
	r = cli_call(c, "version", "GET", "/v1/version", NULL, &v);
	if (r)
		return r;
	if (json) {
		json_t *out = json_pack("{s:s,s:O}", "client", SHOAL_CLI_VERSION, "daemon", v);

		cli_print_json(out);
		json_decref(out);
	} else {
		printf("daemon: shoald %s (API %s, control protocol %lld) at %s\n",
		       json_string_value(json_object_get(v, "version")),
		       json_string_value(json_object_get(v, "api")),
		       (long long)json_integer_value(json_object_get(v, "protocol")), c->socket);
	}
	json_decref(v);
	return CLI_OK;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * shoal stats: a top-style view of the instances' resource use. An instance
 * is one host process (its kernel, its jobs' system calls), so what the host
 * kernel accounts to that pid is what the instance costs: CPU time and
 * resident memory are read from /proc/PID of the pid the daemon reports (the
 * CLI runs on the daemon's host: it talks over a Unix socket). CPU% is
 * measured between two samples; on a terminal the table refreshes until
 * interrupted, otherwise (or with --no-stream, --json) one sample is printed.
 */
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clients/cli/cli.h"
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
};

/* CPU ticks of @pid from /proc/PID/stat; false when it is gone or unreadable. */
static bool proc_ticks(long long pid, unsigned long long *ticks)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%lld/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses: fields start after the last ')'. */
	p = strrchr(buf, ')');
	if (!p ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return false;
	*ticks = ut + st;
	return true;
}

static void proc_status(long long pid, long long *rss_kib, long *threads)
{
	char path[64], line[256];
	FILE *f;

	*rss_kib = -1;
	*threads = -1;
	snprintf(path, sizeof(path), "/proc/%lld/status", pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "VmRSS:", 6))
			*rss_kib = strtoll(line + 6, NULL, 10);
		else if (!strncmp(line, "Threads:", 8))
			*threads = strtol(line + 8, NULL, 10);
	}
	fclose(f);
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
		x->alive = x->pid > 0 && proc_ticks(x->pid, &x->ticks);
		(*n)++;
	}
	return CLI_OK;
}

static void finish(struct sample *s, size_t n, double dt)
{
	long hz = sysconf(_SC_CLK_TCK);

	for (size_t i = 0; i < n; i++) {
		unsigned long long t;

		if (!s[i].alive || !proc_ticks(s[i].pid, &t)) {
			s[i].alive = false;
			continue;
		}
		s[i].cpu_pct = dt > 0 ? 100.0 * (double)(t - s[i].ticks) / (double)hz / dt : 0;
		proc_status(s[i].pid, &s[i].rss_kib, &s[i].threads);
	}
}

static void print_table(const struct sample *s, size_t n)
{
	static const char *const head[] = { "ID",     "PID",	 "CPU %", "RSS",
					    "MEMORY", "THREADS", "UPTIME" };
	double cpu = 0, rss = 0;
	struct table t;

	table_init(&t, 7, head);
	for (size_t i = 0; i < n; i++) {
		char pid[24], cpu_s[24] = "-", rss_s[24] = "-", mem[24], thr[24] = "-", up[24];
		const char *row[] = { s[i].id, pid, cpu_s, rss_s, mem, thr, up };

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
	printf("%zu instances, %.1f%% CPU, %.1f MiB resident\n", n, cpu, rss);
	table_free(&t);
}

static json_t *samples_json(const struct sample *s, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(
			a, json_pack("{s:s,s:I,s:o,s:o,s:o,s:I,s:I}", "id", s[i].id, "pid",
				     (json_int_t)s[i].pid, "cpu_pct",
				     s[i].alive ? json_real(s[i].cpu_pct) : json_null(), "rss_kib",
				     s[i].alive && s[i].rss_kib >= 0 ? json_integer(s[i].rss_kib)
								     : json_null(),
				     "threads",
				     s[i].alive && s[i].threads >= 0 ? json_integer(s[i].threads)
								     : json_null(),
				     "memory_mib", (json_int_t)s[i].memory_mib, "created_ms",
				     (json_int_t)s[i].created_ms));
	return json_pack("{s:o}", "instances", a);
}

static const char stats_help[] =
	"[OPTIONS] [ID...]\n"
	"\n"
	"Resource use of running instances, as the host accounts it to each instance's\n"
	"process: CPU % over the sample interval, resident memory, threads. On a terminal\n"
	"the table refreshes until interrupted.\n"
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
		finish(s, n, cli_mono_s() - t0);
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

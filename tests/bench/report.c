// SPDX-License-Identifier: GPL-2.0
/*
 * Summaries and output of boot-bench (see report.h). The table and the JSON
 * are driven by the same two lists, the metrics and Shoal's goals from issue 3,
 * so a figure cannot appear in one and be missing from the other.
 */
#include "tests/bench/report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum stat_kind { STAT_MEDIAN, STAT_P99, STAT_MAX };

/* JSON names of the metrics, in enum order. */
static const char *const metric_key[BENCH_METRICS] = {
	[BENCH_READY_MS] = "ready_ms",
	[BENCH_RSS_MIB] = "rss_mib",
	[BENCH_PSS_MIB] = "pss_mib",
	[BENCH_PSS_OWN_MIB] = "pss_anon_shmem_mib",
	[BENCH_CG_READY_MIB] = "cgroup_after_boot_mib",
	[BENCH_CG_PEAK_MIB] = "cgroup_peak_mib",
	[BENCH_THREADS] = "host_threads",
	[BENCH_PROCESSES] = "host_processes",
	[BENCH_HALT_MS] = "halt_ms",
	[BENCH_EXIT_MS] = "stop_to_reaped_ms",
	[BENCH_EXEC_MS] = "exec_to_main_ms",
	[BENCH_SKL_BOOT_MS] = "skl_boot_ms",
	[BENCH_SYSCALL_MS] = "first_syscall_ms",
	[BENCH_BOOT_CPU_MS] = "boot_cpu_ms",
};

/* Idle CPU is not a per-run series; it gets its own marker. */
#define IDLE_CPU (-1)

/* Shoal's goals (issue 3, point 6). "~0" idle CPU is read as under 0.1 % of
 * one CPU, measured with schedstat's nanoseconds: clock ticks over a 2 s
 * window cannot tell 0 from 0.4 %. */
static const struct goal {
	const char *key; /* JSON */
	const char *text; /* table */
	int metric; /* enum bench_metric or IDLE_CPU */
	enum stat_kind stat;
	double limit; /* met when value <= limit (< for IDLE_CPU) */
} goals[] = {
	{ "boot_median_ms", "<= 5 ms", BENCH_READY_MS, STAT_MEDIAN, 5 },
	{ "pss_mib", "<= 6 MiB", BENCH_PSS_MIB, STAT_MEDIAN, 6 },
	{ "host_threads", "<= 16", BENCH_THREADS, STAT_MAX, 16 },
	{ "idle_cpu_pct", "~0 (< 0.1 %)", IDLE_CPU, STAT_MEDIAN, 0.1 },
};

/* The rows of the table. Rows with a goal refer to it by its metric. */
static const struct row {
	const char *label;
	int metric; /* enum bench_metric, or IDLE_CPU etc. below */
	enum stat_kind stat;
	int decimals;
} rows[] = {
	{ "boot -> ready, median (ms)", BENCH_READY_MS, STAT_MEDIAN, 2 },
	{ "boot -> ready, p99 (ms)", BENCH_READY_MS, STAT_P99, 2 },
	{ "RSS after boot, median (MiB)", BENCH_RSS_MIB, STAT_MEDIAN, 2 },
	{ "PSS after boot, median (MiB)", BENCH_PSS_MIB, STAT_MEDIAN, 2 },
	{ "  of it anon+shmem (MiB) [3]", BENCH_PSS_OWN_MIB, STAT_MEDIAN, 2 },
	{ "cgroup after boot, median (MiB)", BENCH_CG_READY_MIB, STAT_MEDIAN, 2 },
	{ "cgroup peak, median (MiB)", BENCH_CG_PEAK_MIB, STAT_MEDIAN, 2 },
	{ "host threads after boot (max)", BENCH_THREADS, STAT_MAX, 0 },
	{ "host processes after boot (max)", BENCH_PROCESSES, STAT_MAX, 0 },
	{ "halt, median (ms) [1]", BENCH_HALT_MS, STAT_MEDIAN, 2 },
	{ "stop -> reaped, median (ms)", BENCH_EXIT_MS, STAT_MEDIAN, 2 },
};

void bench_series_add(struct bench_series *s, double v)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		double *nv = realloc(s->v, cap * sizeof(*nv));

		if (!nv) {
			fprintf(stderr, "boot-bench: out of memory\n");
			abort();
		}
		s->v = nv;
		s->cap = cap;
	}
	s->v[s->n++] = v;
}

void bench_series_free(struct bench_series *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

void bench_series_stats(const struct bench_series *s, struct bench_stats *st)
{
	double *v, sum = 0;
	size_t i, rank;

	memset(st, 0, sizeof(*st));
	if (!s->n)
		return;
	v = malloc(s->n * sizeof(*v));
	if (!v) {
		fprintf(stderr, "boot-bench: out of memory\n");
		abort();
	}
	memcpy(v, s->v, s->n * sizeof(*v));
	qsort(v, s->n, sizeof(*v), cmp_double);
	for (i = 0; i < s->n; i++)
		sum += v[i];
	st->n = s->n;
	st->min = v[0];
	st->max = v[s->n - 1];
	st->mean = sum / (double)s->n;
	st->median = s->n % 2 ? v[s->n / 2] : (v[s->n / 2 - 1] + v[s->n / 2]) / 2;
	rank = (size_t)ceil(0.99 * (double)s->n);
	st->p99 = v[rank - 1];
	free(v);
}

static double pick(const struct bench_stats *st, enum stat_kind k)
{
	return k == STAT_MEDIAN ? st->median : k == STAT_P99 ? st->p99 : st->max;
}

/* A goal's value for @p; false when there is none. */
static bool goal_value(const struct goal *g, const struct bench_peer *p, double *value)
{
	struct bench_stats st;

	if (g->metric == IDLE_CPU) {
		*value = p->idle.cpu_pct_sched;
		return p->idle.measured;
	}
	bench_series_stats(&p->m[g->metric], &st);
	*value = pick(&st, g->stat);
	return st.n > 0;
}

static bool goal_met(const struct goal *g, double value)
{
	return g->metric == IDLE_CPU ? value < g->limit : value <= g->limit;
}

static const struct goal *goal_for(int metric, enum stat_kind stat)
{
	size_t i;

	for (i = 0; i < sizeof(goals) / sizeof(goals[0]); i++)
		if (goals[i].metric == metric && goals[i].stat == stat)
			return &goals[i];
	return NULL;
}

/* Column width of the figures. */
#define COL 11
#define LABEL 36

static void print_goal(FILE *f, const struct goal *g, const struct bench_peer *shoal)
{
	double v;

	if (!g || !shoal)
		return;
	if (!goal_value(g, shoal, &v))
		fprintf(f, "   %-14s no figure", g->text);
	else
		fprintf(f, "   %-14s %s", g->text, goal_met(g, v) ? "met" : "NOT met");
}

/* One cell: the figure, "-" for a peer that did not run, "n/a" for a figure
 * this peer does not have. */
static void print_cell(FILE *f, const struct bench_peer *p, bool have, double v, int decimals)
{
	if (p->skipped[0])
		fprintf(f, " %*s", COL, "-");
	else if (!have)
		fprintf(f, " %*s", COL, "n/a");
	else
		fprintf(f, " %*.*f", COL, decimals, v);
}

static const struct bench_peer *find_shoal(const struct bench_peer *peers, int n)
{
	return n > 0 && strcmp(peers[0].name, "shoal-skl") == 0 ? &peers[0] : NULL;
}

void bench_report_table(FILE *f, const struct bench_settings *set, const struct bench_peer *peers,
			int n)
{
	const struct bench_peer *shoal = find_shoal(peers, n);
	struct bench_stats st;
	size_t r;
	int i;

	fprintf(f, "boot-bench: %ld CPUs, host Linux %s, %s\n", set->cpus, set->host_kernel,
		set->when);
	fprintf(f, "runs, each in a fresh process after one uncounted warm-up:");
	for (i = 0; i < n; i++)
		fprintf(f, " %s %d%s", peers[i].name, peers[i].skipped[0] ? 0 : peers[i].runs,
			i + 1 < n ? "," : "\n");
	fprintf(f, "\n%-*s", LABEL, "");
	for (i = 0; i < n; i++)
		fprintf(f, " %*s", COL, peers[i].name);
	if (shoal)
		fprintf(f, "   Shoal's goal (issue 3)");
	fputc('\n', f);

	for (r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		fprintf(f, "%-*s", LABEL, rows[r].label);
		for (i = 0; i < n; i++) {
			bench_series_stats(&peers[i].m[rows[r].metric], &st);
			print_cell(f, &peers[i], st.n > 0, pick(&st, rows[r].stat),
				   rows[r].decimals);
		}
		print_goal(f, goal_for(rows[r].metric, rows[r].stat), shoal);
		fputc('\n', f);
	}

	fprintf(f, "%-*s", LABEL, "idle CPU, utime+stime (% of 1 CPU)");
	for (i = 0; i < n; i++)
		print_cell(f, &peers[i], peers[i].idle.measured, peers[i].idle.cpu_pct, 2);
	fprintf(f, "\n%-*s", LABEL, "idle CPU, schedstat (% of 1 CPU)");
	for (i = 0; i < n; i++)
		print_cell(f, &peers[i], peers[i].idle.measured, peers[i].idle.cpu_pct_sched, 3);
	print_goal(f, goal_for(IDLE_CPU, STAT_MEDIAN), shoal);
	fprintf(f, "\n%-*s", LABEL, "PSS per instance, N at once (MiB) [4]");
	for (i = 0; i < n; i++)
		print_cell(f, &peers[i], peers[i].density.measured, peers[i].density.pss_mib, 2);
	fprintf(f, "\n%-*s", LABEL, "idle wake-ups per second [2]");
	for (i = 0; i < n; i++)
		print_cell(f, &peers[i], peers[i].idle.measured, peers[i].idle.wakeups_per_s, 1);
	fprintf(f, "\n%-*s", LABEL, "failed runs");
	for (i = 0; i < n; i++)
		print_cell(f, &peers[i], true, peers[i].failed, 0);
	fputc('\n', f);

	if (shoal && shoal->m[BENCH_EXEC_MS].n) {
		double part[4];
		int k;

		for (k = 0; k < 4; k++) {
			bench_series_stats(&shoal->m[BENCH_EXEC_MS + k], &st);
			part[k] = st.median;
		}
		fprintf(f,
			"\nwhere shoal-skl's boot goes (medians, ms): exec -> main() %.2f, "
			"skl_boot() %.2f, first system call %.3f; CPU used by then %.2f\n",
			part[0], part[1], part[2], part[3]);
	}
	fprintf(f, "\n[1] shoal-skl: skl_halt() timed inside the process; others: stop -> reaped.\n"
		   "[2] times the instance's threads were put on a CPU; a periodic tick shows as"
		   " >= HZ.\n"
		   "[3] PSS without file pages: what one more instance adds once its program's\n"
		   "    text is shared; with a single instance running, PSS counts that text in\n"
		   "    full.\n");
	if (!set->cgroups)
		fprintf(f, "no cgroups (not root, or no v1 memory controller): no cgroup figures,\n"
			   "and only each instance's first process is sampled.\n");
	for (i = 0; i < n; i++)
		if (peers[i].skipped[0])
			fprintf(f, "%s did not run: %s\n", peers[i].name, peers[i].skipped);
	if (set->density > 0)
		fprintf(f,
			"[4] %d instances of a peer booted and alive at the same time; "
			"shared program text is split between them.\n",
			set->density);
	if (peers[0].idle.measured)
		fprintf(f, "idle: one booted instance per peer, left alone for %.1f s.\n",
			peers[0].idle.seconds);
}

/* A JSON string, escaped. */
static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* A number, or null when there is none (JSON has no NaN). */
static void json_num(FILE *f, bool have, double v)
{
	if (have && isfinite(v))
		fprintf(f, "%.4f", v);
	else
		fputs("null", f);
}

static void json_peer(FILE *f, const struct bench_peer *p)
{
	const struct bench_idle *idle = &p->idle;
	struct bench_stats st;
	int m;

	fprintf(f, "{\"what\": ");
	json_str(f, p->what);
	fprintf(f, ", \"runs\": %d, \"completed\": %zu, \"failed\": %d, \"skipped\": ",
		p->skipped[0] ? 0 : p->runs, p->m[BENCH_READY_MS].n, p->failed);
	if (p->skipped[0])
		json_str(f, p->skipped);
	else
		fputs("null", f);
	fputs(",\n      \"metrics\": {", f);
	for (m = 0; m < BENCH_METRICS; m++) {
		bench_series_stats(&p->m[m], &st);
		fprintf(f, "%s\n        \"%s\": {\"n\": %zu, \"median\": ", m ? "," : "",
			metric_key[m], st.n);
		json_num(f, st.n, st.median);
		fputs(", \"p99\": ", f);
		json_num(f, st.n, st.p99);
		fputs(", \"min\": ", f);
		json_num(f, st.n, st.min);
		fputs(", \"max\": ", f);
		json_num(f, st.n, st.max);
		fputs(", \"mean\": ", f);
		json_num(f, st.n, st.mean);
		fputc('}', f);
	}
	fprintf(f, "},\n      \"density\": {\"measured\": %s, \"instances\": %d, \"pss_mib\": ",
		p->density.measured ? "true" : "false", p->density.instances);
	json_num(f, p->density.measured, p->density.pss_mib);
	fprintf(f, ", \"rss_mib\": ");
	json_num(f, p->density.measured, p->density.rss_mib);
	fprintf(f, "},\n      \"idle\": {\"measured\": %s, \"seconds\": ",
		idle->measured ? "true" : "false");
	json_num(f, idle->measured, idle->seconds);
	fputs(", \"cpu_pct\": ", f);
	json_num(f, idle->measured, idle->cpu_pct);
	fputs(", \"cpu_pct_schedstat\": ", f);
	json_num(f, idle->measured, idle->cpu_pct_sched);
	fputs(", \"wakeups_per_s\": ", f);
	json_num(f, idle->measured, idle->wakeups_per_s);
	fputs(", \"host_threads\": ", f);
	if (idle->measured)
		fprintf(f, "%d}}", idle->threads);
	else
		fputs("null}}", f);
}

void bench_report_json(FILE *f, const struct bench_settings *set, const struct bench_peer *peers,
		       int n)
{
	const struct bench_peer *shoal = find_shoal(peers, n);
	size_t g;
	int i;

	fprintf(f,
		"{\n  \"benchmark\": \"boot-bench\",\n  \"version\": 1,\n  \"host\": {\"cpus\": "
		"%ld, "
		"\"kernel\": ",
		set->cpus);
	json_str(f, set->host_kernel);
	fputs(", \"when\": ", f);
	json_str(f, set->when);
	fprintf(f, "},\n  \"settings\": {\"idle_seconds\": %.3f, \"cgroups\": %s},\n",
		set->idle_ms / 1000.0, set->cgroups ? "true" : "false");
	fputs("  \"peers\": {", f);
	for (i = 0; i < n; i++) {
		fprintf(f, "%s\n    ", i ? "," : "");
		json_str(f, peers[i].name);
		fputs(": ", f);
		json_peer(f, &peers[i]);
	}
	fputs("\n  },\n  \"goals\": [", f);
	for (g = 0; g < sizeof(goals) / sizeof(goals[0]); g++) {
		double v = 0;
		bool have = shoal && goal_value(&goals[g], shoal, &v);

		fprintf(f, "%s\n    {\"name\": \"%s\", \"goal\": ", g ? "," : "", goals[g].key);
		json_str(f, goals[g].text);
		fprintf(f, ", \"limit\": %g, \"value\": ", goals[g].limit);
		json_num(f, have, v);
		fprintf(f, ", \"met\": %s}",
			!have			 ? "null"
			: goal_met(&goals[g], v) ? "true"
						 : "false");
	}
	fputs("\n  ]\n}\n", f);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * net-bench's table and JSON (see net-report.h). Medians of the runs; the
 * ratios are Shoal's median over the native median of the same figure, so
 * above 1 is faster for a throughput and slower for a latency. Series and
 * their summaries are boot-bench's (report.h).
 */
#include "tests/bench/net-report.h"

#include <math.h>
#include <string.h>

static const struct figure {
	const char *key; /* JSON */
	const char *label; /* table */
	const char *unit;
	int decimals;
	bool ratio; /* Shoal/native means something */
} figures[NET_FIGURES] = {
	[NET_FIG_TCP_1K_GBPS] = { "tcp_1k_gbps", "TCP stream, 1 KiB writes (Gbit/s)", "Gbit/s", 2,
				  true },
	[NET_FIG_TCP_64K_GBPS] = { "tcp_64k_gbps", "TCP stream, 64 KiB writes (Gbit/s)", "Gbit/s",
				   2, true },
	[NET_FIG_UDP_1K_GBPS] = { "udp_1k_gbps", "UDP stream, 1 KiB (Gbit/s received)", "Gbit/s", 2,
				  true },
	[NET_FIG_UDP_1K_LOSS] = { "udp_1k_loss_pct", "  lost on the way (% of sent)", "%", 1,
				  false },
	[NET_FIG_UDP_64K_GBPS] = { "udp_64k_gbps", "UDP stream, 65507 B (Gbit/s received)",
				   "Gbit/s", 2, true },
	[NET_FIG_UDP_64K_LOSS] = { "udp_64k_loss_pct", "  lost on the way (% of sent)", "%", 1,
				   false },
	[NET_FIG_RR_MEDIAN_US] = { "tcp_rr_median_us", "TCP ping-pong, 1 byte: median (us)", "us",
				   1, true },
	[NET_FIG_RR_P99_US] = { "tcp_rr_p99_us", "TCP ping-pong, 1 byte: p99 (us)", "us", 1, true },
};

/* Issue 4's goals, on Shoal (offloads on) over native. */
static const struct goal {
	const char *key;
	const char *text;
	enum net_figure fig;
	double limit; /* met when the ratio is at least this */
	double seed; /* the seed's LKL on the same figure, or < 0 */
} goals[] = {
	{ "tcp_64k_ratio", "TCP 64 KiB writes >= 90 % of native", NET_FIG_TCP_64K_GBPS, 0.90, -1 },
	{ "udp_1k_ratio", "UDP 1 KiB datagrams >= 75 % of native", NET_FIG_UDP_1K_GBPS, 0.75,
	  0.53 },
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* The two Shoal columns a ratio is given for. */
static const enum net_peer ratio_peers[] = { NET_PEER_SHOAL, NET_PEER_SHOAL_NOOFF };

static bool median_of(const struct net_report *r, enum net_figure fig, enum net_peer p, double *v)
{
	struct bench_stats st;

	bench_series_stats(&r->fig[fig][p], &st);
	*v = st.median;
	return st.n > 0;
}

/* Median of @p over the native median; false when either is missing. */
static bool ratio_of(const struct net_report *r, enum net_figure fig, enum net_peer p, double *v)
{
	double shoal, native;

	if (!figures[fig].ratio || !median_of(r, fig, p, &shoal) ||
	    !median_of(r, fig, NET_PEER_NATIVE, &native) || native <= 0)
		return false;
	*v = shoal / native;
	return true;
}

#define LABEL 40
#define COL 9
#define RCOL 8

static void cell(FILE *f, const struct net_peer_info *p, bool have, double v, int decimals,
		 int width)
{
	if (p && p->skipped[0])
		fprintf(f, " %*s", width, "-");
	else if (!have)
		fprintf(f, " %*s", width, "n/a");
	else
		fprintf(f, " %*.*f", width, decimals, v);
}

void net_report_table(FILE *f, const struct net_report *r)
{
	size_t g;
	int fig, p;

	fprintf(f, "net-bench: %ld CPUs, host Linux %s, %s\n", r->cpus, r->host_kernel, r->when);
	fprintf(f,
		"two ends of a veth pair at MTU %d; each figure is the median of %d run%s of "
		"%.1f s\n",
		r->mtu, r->repeats, r->repeats == 1 ? "" : "s", r->seconds);
	fprintf(f, "shoal: one library kernel (%lu MiB) per end, each in its own process\n",
		r->shoal_mem_mib);
	if (!strcmp(r->pin, "same"))
		fprintf(f, "pinned: every process of every peer on CPU 0\n");
	else if (!strcmp(r->pin, "split"))
		fprintf(f,
			"pinned: receivers and servers on CPU 0, senders and clients on CPU 1\n");
	else
		fprintf(f, "not pinned: processes run where the scheduler puts them\n");
	fputc('\n', f);
	fprintf(f, "%-*s %*s %*s %*s %*s %*s %*s\n", LABEL, "", COL, "native", COL, "iperf3", COL,
		"shoal", RCOL, "/native", COL + 3, "shoal-nooff", RCOL, "/native");
	for (fig = 0; fig < NET_FIGURES; fig++) {
		const struct figure *d = &figures[fig];
		double v = 0;
		bool have;

		fprintf(f, "%-*s", LABEL, d->label);
		for (p = NET_PEER_NATIVE; p <= NET_PEER_SHOAL; p++) {
			have = median_of(r, fig, p, &v);
			cell(f, &r->peers[p], have, v, d->decimals, COL);
		}
		have = ratio_of(r, fig, NET_PEER_SHOAL, &v);
		cell(f, NULL, have, v, 2, RCOL);
		have = median_of(r, fig, NET_PEER_SHOAL_NOOFF, &v);
		cell(f, &r->peers[NET_PEER_SHOAL_NOOFF], have, v, d->decimals, COL + 3);
		have = ratio_of(r, fig, NET_PEER_SHOAL_NOOFF, &v);
		cell(f, NULL, have, v, 2, RCOL);
		fputc('\n', f);
	}

	fprintf(f, "\ngoals of issue 4 (information, not a verdict):\n");
	for (g = 0; g < N(goals); g++) {
		double v;

		fprintf(f, "  %-40s", goals[g].text);
		if (ratio_of(r, goals[g].fig, NET_PEER_SHOAL, &v))
			fprintf(f, " shoal %3.0f %%  %-7s", v * 100,
				v >= goals[g].limit ? "met" : "NOT met");
		else
			fprintf(f, " %-20s", "no figure");
		if (goals[g].seed >= 0)
			fprintf(f, "  (the seed's LKL: %.0f %%)", goals[g].seed * 100);
		fputc('\n', f);
	}
	fprintf(f, "\n/native: shoal's median over native's (for a latency, above 1 is slower).\n"
		   "min, max and every sample of each figure are in the --json output.\n");
	for (p = 0; p < NET_PEERS; p++) {
		if (r->peers[p].skipped[0])
			fprintf(f, "%s did not run: %s\n", r->peers[p].name, r->peers[p].skipped);
		else if (r->peers[p].failed)
			fprintf(f, "%s: %d of %d runs failed (see stderr)\n", r->peers[p].name,
				r->peers[p].failed, r->peers[p].runs);
	}
}

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

static void json_num(FILE *f, bool have, double v)
{
	if (have && isfinite(v))
		fprintf(f, "%.4f", v);
	else
		fputs("null", f);
}

static void json_series(FILE *f, const struct bench_series *s)
{
	struct bench_stats st;
	size_t i;

	bench_series_stats(s, &st);
	fprintf(f, "{\"n\": %zu, \"median\": ", st.n);
	json_num(f, st.n, st.median);
	fputs(", \"min\": ", f);
	json_num(f, st.n, st.min);
	fputs(", \"max\": ", f);
	json_num(f, st.n, st.max);
	fputs(", \"samples\": [", f);
	for (i = 0; i < s->n; i++) {
		if (i)
			fputs(", ", f);
		json_num(f, true, s->v[i]);
	}
	fputs("]}", f);
}

void net_report_json(FILE *f, const struct net_report *r)
{
	size_t g, k;
	int fig, p;

	fprintf(f, "{\n  \"benchmark\": \"net-bench\",\n  \"version\": 1,\n");
	fprintf(f, "  \"host\": {\"cpus\": %ld, \"kernel\": ", r->cpus);
	json_str(f, r->host_kernel);
	fputs(", \"when\": ", f);
	json_str(f, r->when);
	fprintf(f,
		"},\n  \"settings\": {\"seconds\": %.3f, \"repeats\": %d, \"mtu\": %d, "
		"\"shoal_mem_mib\": %lu, \"quick\": %s, \"pin\": \"%s\",\n    \"namespaces\": [",
		r->seconds, r->repeats, r->mtu, r->shoal_mem_mib, r->quick ? "true" : "false",
		r->pin);
	for (k = 0; k < N(r->namespaces); k++) {
		fputs(k ? ", " : "", f);
		json_str(f, r->namespaces[k]);
	}
	fputs("]},\n", f);

	fputs("  \"peers\": {", f);
	for (p = 0; p < NET_PEERS; p++) {
		const struct net_peer_info *pi = &r->peers[p];

		fprintf(f, "%s\n    ", p ? "," : "");
		json_str(f, pi->name);
		fputs(": {\"what\": ", f);
		json_str(f, pi->what);
		fprintf(f, ", \"runs\": %d, \"failed\": %d, \"skipped\": ", pi->runs, pi->failed);
		if (pi->skipped[0])
			json_str(f, pi->skipped);
		else
			fputs("null", f);
		fputc('}', f);
	}

	fputs("\n  },\n  \"figures\": {", f);
	for (fig = 0; fig < NET_FIGURES; fig++) {
		const struct figure *d = &figures[fig];

		fprintf(f, "%s\n    \"%s\": {\"label\": ", fig ? "," : "", d->key);
		json_str(f, d->label[0] == ' ' ? d->label + 2 : d->label);
		fputs(", \"unit\": ", f);
		json_str(f, d->unit);
		fputs(",\n      \"peers\": {", f);
		for (p = 0; p < NET_PEERS; p++) {
			fprintf(f, "%s\n        \"%s\": ", p ? "," : "", r->peers[p].name);
			json_series(f, &r->fig[fig][p]);
		}
		fputs("},\n      \"ratio_to_native\": {", f);
		for (k = 0; k < N(ratio_peers); k++) {
			double v = 0;
			bool have = ratio_of(r, fig, ratio_peers[k], &v);

			fprintf(f, "%s\"%s\": ", k ? ", " : "", r->peers[ratio_peers[k]].name);
			json_num(f, have, v);
		}
		fputs("}}", f);
	}

	fputs("\n  },\n  \"goals\": [", f);
	for (g = 0; g < N(goals); g++) {
		double v = 0;
		bool have = ratio_of(r, goals[g].fig, NET_PEER_SHOAL, &v);

		fprintf(f, "%s\n    {\"name\": \"%s\", \"goal\": ", g ? "," : "", goals[g].key);
		json_str(f, goals[g].text);
		fprintf(f, ", \"figure\": \"%s\", \"limit\": %g, \"value\": ",
			figures[goals[g].fig].key, goals[g].limit);
		json_num(f, have, v);
		fprintf(f, ", \"met\": %s, \"seed_lkl\": ",
			!have		      ? "null"
			: v >= goals[g].limit ? "true"
					      : "false");
		json_num(f, goals[g].seed >= 0, goals[g].seed);
		fputc('}', f);
	}
	fputs("\n  ]\n}\n", f);
}

void net_report_free(struct net_report *r)
{
	int fig, p;

	for (fig = 0; fig < NET_FIGURES; fig++)
		for (p = 0; p < NET_PEERS; p++)
			bench_series_free(&r->fig[fig][p]);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * net-bench works: `net-bench --quick --seconds 1 --json` runs every
 * measurement once for every peer (two library kernels with offloads on and
 * off, native Linux, iperf3), ends, removes its namespaces, and prints one
 * well-formed JSON document with every field present. It never judges a
 * figure: how fast the network path is belongs to the benchmark's output
 * (tests/bench/README.md), not to the test suite. In the kernel suite
 * because it boots real library kernels on real veths.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/harness.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *const peers[] = { "native", "iperf3", "shoal", "shoal-nooffload" };

/* Every figure, as net-report.c names them; the last two are ping-pong,
 * which iperf3 does not measure. */
static const char *const figures[] = {
	"tcp_1k_gbps",	"tcp_64k_gbps",	    "udp_1k_gbps",	"udp_1k_loss_pct",
	"udp_64k_gbps", "udp_64k_loss_pct", "tcp_rr_median_us", "tcp_rr_p99_us",
};

static json_t *member(json_t *obj, const char *where, const char *key)
{
	json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

	if (!v)
		FAIL("%s: no member '%s'", where, key);
	return v;
}

static void check_number(json_t *v, const char *where, int may_be_null)
{
	if (json_is_number(v) || (json_is_null(v) && may_be_null))
		return;
	FAIL("%s: not a number%s", where, may_be_null ? " or null" : "");
}

/* One peer's series of one figure: @n samples, summaries present. */
static void check_series(json_t *s, const char *where, json_int_t n)
{
	static const char *const stats[] = { "median", "min", "max" };
	json_t *samples = member(s, where, "samples"), *v;
	size_t i;

	CHECK(json_is_integer(member(s, where, "n")));
	if (json_integer_value(member(s, where, "n")) != n)
		FAIL("%s: n = %lld, expected %lld", where,
		     (long long)json_integer_value(member(s, where, "n")), (long long)n);
	for (i = 0; i < N(stats); i++)
		check_number(member(s, where, stats[i]), where, n == 0);
	CHECK(json_is_array(samples));
	CHECK_EQ_INT(json_array_size(samples), n);
	json_array_foreach(samples, i, v)
	{
		check_number(v, where, 0);
		/* Throughputs, losses and latencies are never negative. */
		CHECK(json_number_value(v) >= 0);
	}
}

/* Run net-bench and return everything it printed on stdout. */
static char *run_bench(const char *bench)
{
	char cmd[1024], *out = NULL;
	size_t len = 0;
	FILE *mem, *p;
	int c, status;

	snprintf(cmd, sizeof(cmd), "%s --quick --seconds 1 --json", bench);
	p = popen(cmd, "r");
	CHECK(p != NULL);
	mem = open_memstream(&out, &len);
	CHECK(mem != NULL);
	while ((c = fgetc(p)) != EOF)
		fputc(c, mem);
	fclose(mem);
	status = pclose(p);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		FAIL("%s: wait status 0x%x; stdout:\n%s", cmd, status, out);
	return out;
}

TEST_TIMEOUT(net_bench_json_is_complete, 240)
{
	const char *build = getenv("SHOAL_BUILD") ? getenv("SHOAL_BUILD") : "build";
	json_t *doc, *host, *set, *ps, *figs, *goals, *g;
	char bench[512], where[128];
	json_error_t jerr;
	size_t i, k;
	char *out;

	if (geteuid() != 0)
		SKIP("needs root for network namespaces and packet sockets");
	snprintf(bench, sizeof(bench), "%s/tests/bench/net-bench", build);
	CHECK(access(bench, X_OK) == 0);

	out = run_bench(bench);
	doc = json_loads(out, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc)
		FAIL("not JSON: %s at line %d column %d; output:\n%s", jerr.text, jerr.line,
		     jerr.column, out);

	CHECK_EQ_STR(json_string_value(member(doc, "top", "benchmark")), "net-bench");
	CHECK_EQ_INT(json_integer_value(member(doc, "top", "version")), 1);
	host = member(doc, "top", "host");
	CHECK(json_integer_value(member(host, "host", "cpus")) >= 1);
	CHECK(json_is_string(member(host, "host", "kernel")));
	CHECK(json_is_string(member(host, "host", "when")));
	set = member(doc, "top", "settings");
	check_number(member(set, "settings", "seconds"), "settings.seconds", 0);
	CHECK_EQ_INT(json_integer_value(member(set, "settings", "repeats")), 1);
	CHECK_EQ_INT(json_integer_value(member(set, "settings", "mtu")), 1500);
	CHECK(json_integer_value(member(set, "settings", "shoal_mem_mib")) >= 16);
	CHECK(json_is_true(member(set, "settings", "quick")));

	/* Every peer ran every one of its runs to the end. */
	ps = member(doc, "top", "peers");
	CHECK_EQ_INT(json_object_size(ps), N(peers));
	for (i = 0; i < N(peers); i++) {
		json_t *p = member(ps, "peers", peers[i]);

		CHECK(json_is_string(member(p, peers[i], "what")));
		CHECK(json_is_null(member(p, peers[i], "skipped")));
		CHECK(json_integer_value(member(p, peers[i], "runs")) >= 4);
		CHECK_EQ_INT(json_integer_value(member(p, peers[i], "failed")), 0);
	}

	figs = member(doc, "top", "figures");
	CHECK_EQ_INT(json_object_size(figs), N(figures));
	for (i = 0; i < N(figures); i++) {
		json_t *f = member(figs, "figures", figures[i]), *fp, *ratio;
		int rr = strncmp(figures[i], "tcp_rr", 6) == 0;
		int loss = strstr(figures[i], "loss") != NULL;

		CHECK(json_is_string(member(f, figures[i], "label")));
		CHECK(json_is_string(member(f, figures[i], "unit")));
		fp = member(f, figures[i], "peers");
		CHECK_EQ_INT(json_object_size(fp), N(peers));
		for (k = 0; k < N(peers); k++) {
			int is_iperf = strcmp(peers[k], "iperf3") == 0;

			snprintf(where, sizeof(where), "%s.%s", figures[i], peers[k]);
			check_series(member(fp, where, peers[k]), where, is_iperf && rr ? 0 : 1);
		}
		ratio = member(f, figures[i], "ratio_to_native");
		CHECK_EQ_INT(json_object_size(ratio), 2);
		check_number(member(ratio, figures[i], "shoal"), figures[i], loss);
		check_number(member(ratio, figures[i], "shoal-nooffload"), figures[i], loss);
		if (loss)
			CHECK(json_is_null(member(ratio, figures[i], "shoal")));
	}

	goals = member(doc, "top", "goals");
	CHECK(json_is_array(goals));
	CHECK_EQ_INT(json_array_size(goals), 2);
	json_array_foreach(goals, i, g)
	{
		CHECK(json_is_string(member(g, "goal", "name")));
		CHECK(json_is_string(member(g, "goal", "goal")));
		CHECK(json_is_string(member(g, "goal", "figure")));
		check_number(member(g, "goal", "limit"), "goal.limit", 0);
		check_number(member(g, "goal", "value"), "goal.value", 0);
		CHECK(json_is_boolean(member(g, "goal", "met")));
		check_number(member(g, "goal", "seed_lkl"), "goal.seed_lkl", 1);
	}

	/* Nothing of it is left behind: its namespaces are gone. */
	ps = member(set, "settings", "namespaces");
	CHECK(json_is_array(ps));
	CHECK_EQ_INT(json_array_size(ps), 3);
	json_array_foreach(ps, i, g)
	{
		CHECK(json_is_string(g));
		snprintf(where, sizeof(where), "/run/netns/%s", json_string_value(g));
		if (access(where, F_OK) == 0 || errno != ENOENT)
			FAIL("%s is still there after net-bench ended", where);
	}
	json_decref(doc);
	free(out);
}

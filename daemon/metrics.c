// SPDX-License-Identifier: GPL-2.0
/*
 * Metrics for GET /metrics, in Prometheus' text exposition format (version
 * 0.0.4): instances by state (counted in the store, so ended ones too),
 * counters of creates, failures and jobs, the address pool's and the veth
 * pool's use, and
 * histograms of create latency (request to ready, as the daemon saw it) and
 * exec latency (request to exit). Counters live in memory and start from zero
 * with each daemon, as Prometheus expects of a restarted process.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/shoald.h"

static const double metrics_bounds_ms[] = { 5,	 10,   25,   50,   100,	  250,
					    500, 1000, 2500, 5000, 10000, 30000 };
#define METRICS_NBUCKETS (sizeof(metrics_bounds_ms) / sizeof(metrics_bounds_ms[0]))

struct metrics_hist {
	uint64_t buckets[METRICS_NBUCKETS]; /* not cumulative: rendered as running sums */
	uint64_t count;
	double sum_ms;
};

static struct metrics_hist metrics_create_hist, metrics_exec_hist;
static uint64_t metrics_creates, metrics_create_failures, metrics_failures, metrics_execs,
	metrics_exec_failures;

static void metrics_observe(struct metrics_hist *h, double ms)
{
	size_t i;

	for (i = 0; i < METRICS_NBUCKETS && ms > metrics_bounds_ms[i]; i++)
		;
	if (i < METRICS_NBUCKETS)
		h->buckets[i]++;
	h->count++;
	h->sum_ms += ms;
}

void metrics_create(bool ok, double ms)
{
	metrics_creates++;
	if (ok)
		metrics_observe(&metrics_create_hist, ms);
	else
		metrics_create_failures++;
}

void metrics_instance_failed(void)
{
	metrics_failures++;
}

void metrics_exec(bool ok, double ms)
{
	metrics_execs++;
	if (ok)
		metrics_observe(&metrics_exec_hist, ms);
	else
		metrics_exec_failures++;
}

static void metrics_hist_write(FILE *f, const char *name, const char *help,
			       const struct metrics_hist *h)
{
	uint64_t cum = 0;
	size_t i;

	fprintf(f, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
	for (i = 0; i < METRICS_NBUCKETS; i++) {
		cum += h->buckets[i];
		fprintf(f, "%s_bucket{le=\"%g\"} %llu\n", name, metrics_bounds_ms[i] / 1000.0,
			(unsigned long long)cum);
	}
	fprintf(f, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)h->count);
	fprintf(f, "%s_sum %.6f\n%s_count %llu\n", name, h->sum_ms / 1000.0, name,
		(unsigned long long)h->count);
}

static void metrics_counter(FILE *f, const char *name, const char *help, uint64_t v)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name,
		(unsigned long long)v);
}

static const char *const metrics_states[] = { "starting", "running",   "pooled",
					      "stopping", "destroyed", "failed" };
#define METRICS_NSTATES (sizeof(metrics_states) / sizeof(metrics_states[0]))

struct metrics_counts {
	int64_t n[METRICS_NSTATES];
};

static void metrics_state_cb(void *arg, const char *state, int64_t n)
{
	struct metrics_counts *c = arg;
	size_t i;

	for (i = 0; i < METRICS_NSTATES; i++)
		if (state && !strcmp(state, metrics_states[i]))
			c->n[i] = n;
}

char *metrics_render(size_t *len)
{
	struct metrics_counts counts = { { 0 } };
	struct shoal_error err = { 0 };
	uint32_t used, total;
	char *buf = NULL;
	size_t size = 0, i;
	FILE *f;

	if (store_count_states(metrics_state_cb, &counts, &err))
		return NULL;
	f = open_memstream(&buf, &size);
	if (!f)
		return NULL;
	fprintf(f, "# HELP shoal_instances Instances known to the store, by state.\n"
		   "# TYPE shoal_instances gauge\n");
	for (i = 0; i < METRICS_NSTATES; i++)
		fprintf(f, "shoal_instances{state=\"%s\"} %lld\n", metrics_states[i],
			(long long)counts.n[i]);
	metrics_counter(f, "shoal_instance_creates_total",
			"Instance creates asked for since the daemon started.", metrics_creates);
	metrics_counter(f, "shoal_instance_create_failures_total",
			"Creates that did not end with a ready instance.", metrics_create_failures);
	metrics_counter(f, "shoal_instance_failures_total",
			"Ready instances that died on their own.", metrics_failures);
	metrics_counter(f, "shoal_execs_total", "Jobs asked for.", metrics_execs);
	metrics_counter(f, "shoal_exec_failures_total", "Jobs that could not run.",
			metrics_exec_failures);
	ipam_counts(&used, &total);
	fprintf(f,
		"# HELP shoal_address_pool_leased Addresses of the pool leased to instances.\n"
		"# TYPE shoal_address_pool_leased gauge\nshoal_address_pool_leased %u\n"
		"# HELP shoal_address_pool_size Addresses of the pool that can be leased.\n"
		"# TYPE shoal_address_pool_size gauge\nshoal_address_pool_size %u\n",
		used, total);
	{
		uint64_t takes, misses;
		unsigned int ready;

		vethpool_counts(&ready, &takes, &misses);
		fprintf(f,
			"# HELP shoal_veth_pool_ready Veth pairs made ahead and waiting for a "
			"create (--veth-pool).\n"
			"# TYPE shoal_veth_pool_ready gauge\nshoal_veth_pool_ready %u\n",
			ready);
		metrics_counter(f, "shoal_veth_pool_takes_total",
				"Creates with network that took a veth pair from the pool.", takes);
		metrics_counter(f, "shoal_veth_pool_misses_total",
				"Creates with network that found the pool empty and made a pair.",
				misses);
	}
	metrics_hist_write(f, "shoal_create_latency_seconds", "Create request to a ready instance.",
			   &metrics_create_hist);
	metrics_hist_write(f, "shoal_exec_latency_seconds", "Exec request to the job's exit.",
			   &metrics_exec_hist);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	*len = size;
	return buf;
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What boot-bench collects per peer and how it shows it: one series of
 * samples per metric (one sample per run), summarised as median, p99, min,
 * max and mean, plus the idle figures of one instance left alone; printed as
 * one table for people (with Shoal's goals from issue 3 beside its column) or
 * as one JSON document for machines. The goals are information: nothing here
 * decides an exit status.
 */
#ifndef SHOAL_TESTS_BENCH_REPORT_H
#define SHOAL_TESTS_BENCH_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* One sample per successful run. Memory sums count an address space shared by
 * several processes once. The last four exist for Shoal only: they
 * split its boot into the parts boot-one can time from inside. */
enum bench_metric {
	BENCH_READY_MS, /* release (just before exec) -> first system call answered / "ready" */
	BENCH_RSS_MIB, /* Rss summed over the instance's processes, after boot */
	BENCH_PSS_MIB, /* Pss summed likewise */
	BENCH_PSS_OWN_MIB, /* the anonymous and shmem part of that Pss */
	BENCH_CG_READY_MIB, /* the instance's cgroup usage after boot */
	BENCH_CG_PEAK_MIB, /* the cgroup's peak over the instance's whole life */
	BENCH_THREADS, /* host threads of all the instance's processes, after boot */
	BENCH_PROCESSES, /* host processes of the instance, after boot */
	BENCH_HALT_MS, /* Shoal: skl_halt() timed inside; peers: stop -> reaped */
	BENCH_EXIT_MS, /* stop line written -> process reaped, for every peer */
	BENCH_EXEC_MS, /* Shoal: release -> main() entered (exec, dynamic loading) */
	BENCH_SKL_BOOT_MS, /* Shoal: main() -> skl_boot() returned */
	BENCH_SYSCALL_MS, /* Shoal: skl_boot() returned -> first system call answered */
	BENCH_BOOT_CPU_MS, /* Shoal: CPU time the process used up to "ready" */
	BENCH_METRICS
};

struct bench_series {
	double *v;
	size_t n, cap;
};

struct bench_stats {
	size_t n; /* 0: no samples, the other fields are meaningless */
	double median, p99, min, max, mean;
};

/* One booted instance left alone for a while. */
struct bench_idle {
	bool measured;
	double seconds;
	double cpu_pct; /* utime + stime (clock ticks) as % of one CPU */
	double cpu_pct_sched; /* schedstat run time as % of one CPU (ns resolution) */
	double wakeups_per_s; /* times its threads were put on a CPU, per second */
	int threads;
};

/* N booted instances of one peer alive at once: memory per instance once the
 * program's text is shared between them (what a host running many pays). */
struct bench_density {
	bool measured;
	int instances;
	double pss_mib; /* Pss per instance, mean over the N */
	double rss_mib; /* Rss per instance, mean */
};

struct bench_peer {
	const char *name; /* column and JSON key: "shoal-skl", "uml", "unshare" */
	const char *what; /* one line on what runs */
	int runs; /* runs asked for */
	int failed; /* runs that did not complete (timeouts, crashes) */
	char skipped[160]; /* why the peer did not run at all, or "" */
	struct bench_series m[BENCH_METRICS];
	struct bench_idle idle;
	struct bench_density density;
};

/* Settings and facts printed with the figures. */
struct bench_settings {
	int idle_ms;
	int density; /* instances alive at once for the density figure; 0: skipped */
	bool cgroups; /* false: no cgroup figures (not root, or no v1 memory controller) */
	long cpus;
	char host_kernel[128];
	char when[64];
};

/* bench_series_add() - append a sample; aborts on out-of-memory. */
void bench_series_add(struct bench_series *s, double v);

/* bench_series_free() - release the samples. */
void bench_series_free(struct bench_series *s);

/* bench_series_stats() - summarise @s (nearest-rank p99: the value 99 % of the
 * samples are at or below, so with fewer than 100 samples it is the maximum). */
void bench_series_stats(const struct bench_series *s, struct bench_stats *st);

/* bench_report_table() - the human table, goals beside Shoal's figures. */
void bench_report_table(FILE *f, const struct bench_settings *set, const struct bench_peer *peers,
			int n);

/* bench_report_json() - the same figures as one JSON document; every field is
 * always present, null where there is no figure. */
void bench_report_json(FILE *f, const struct bench_settings *set, const struct bench_peer *peers,
		       int n);

#endif /* SHOAL_TESTS_BENCH_REPORT_H */

// SPDX-License-Identifier: GPL-2.0
/*
 * The benchmark works: `boot-bench --runs 3 --uml-runs 0 --json` runs to the
 * end, prints one well-formed JSON document with every field present, and its
 * Shoal figures come from three completed boots. It never judges a time or a
 * size: how fast the kernel boots is the benchmark's to print, not the test
 * suite's to decide (tests/bench/README.md). Runs in the kernel suite because
 * it boots the real library kernel.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/harness.h"

/* Every metric of every peer, as boot-bench's report.c names them. */
static const char *const metrics[] = {
	"ready_ms",
	"rss_mib",
	"pss_mib",
	"pss_anon_shmem_mib",
	"cgroup_after_boot_mib",
	"cgroup_peak_mib",
	"host_threads",
	"host_processes",
	"halt_ms",
	"stop_to_reaped_ms",
	"exec_to_main_ms",
	"skl_boot_ms",
	"first_syscall_ms",
	"boot_cpu_ms",
};

static const char *const stats[] = { "median", "p99", "min", "max", "mean" };

static const char *const idle_fields[] = { "seconds", "cpu_pct", "cpu_pct_schedstat",
					   "wakeups_per_s", "host_threads" };

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* The member @key of @obj, failing the case when it is missing. */
static json_t *member(json_t *obj, const char *where, const char *key)
{
	json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

	if (!v)
		FAIL("%s: no member '%s'", where, key);
	return v;
}

/* A number, or null when @may_be_null. */
static void check_number(json_t *v, const char *where, int may_be_null)
{
	if (json_is_number(v))
		return;
	if (json_is_null(v) && may_be_null)
		return;
	FAIL("%s: not a number%s", where, may_be_null ? " or null" : "");
}

/*
 * One peer's object. @completed: the runs that must have completed; -1 when
 * the peer did not run (then it must say why). @cgroups: cgroup figures must
 * be there.
 */
static void check_peer(json_t *peers, const char *name, int completed, int cgroups, int shoal)
{
	json_t *p = member(peers, "peers", name), *m, *idle;
	char where[128];
	size_t i, k;

	CHECK(json_is_string(member(p, name, "what")));
	CHECK(json_is_integer(member(p, name, "runs")));
	CHECK(json_is_integer(member(p, name, "completed")));
	CHECK(json_is_integer(member(p, name, "failed")));
	if (completed < 0) {
		CHECK(json_is_string(member(p, name, "skipped")));
		CHECK_EQ_INT(json_integer_value(member(p, name, "completed")), 0);
	} else {
		CHECK(json_is_null(member(p, name, "skipped")));
		CHECK_EQ_INT(json_integer_value(member(p, name, "completed")), completed);
		CHECK_EQ_INT(json_integer_value(member(p, name, "failed")), 0);
	}

	m = member(p, name, "metrics");
	CHECK_EQ_INT(json_object_size(m), N(metrics));
	for (i = 0; i < N(metrics); i++) {
		json_t *s = member(m, name, metrics[i]);
		int shoal_only = strstr("exec_to_main_ms skl_boot_ms first_syscall_ms boot_cpu_ms",
					metrics[i]) != NULL;
		int cgroup_only = strncmp(metrics[i], "cgroup_", 7) == 0;
		int expect_figures =
			completed > 0 && (shoal || !shoal_only) && (cgroups || !cgroup_only);
		json_t *n = member(s, metrics[i], "n");

		CHECK(json_is_integer(n));
		if (expect_figures)
			CHECK_EQ_INT(json_integer_value(n), completed);
		for (k = 0; k < N(stats); k++) {
			snprintf(where, sizeof(where), "%s.%s.%s", name, metrics[i], stats[k]);
			check_number(member(s, where, stats[k]), where, !expect_figures);
		}
	}
	/* Times and sizes are positive; whether they are good is not ours. */
	if (completed > 0) {
		json_t *ready = member(member(m, name, "ready_ms"), name, "median");

		CHECK(json_real_value(ready) > 0 || json_integer_value(ready) > 0);
	}

	idle = member(p, name, "idle");
	CHECK(json_is_boolean(member(idle, name, "measured")));
	for (k = 0; k < N(idle_fields); k++) {
		snprintf(where, sizeof(where), "%s.idle.%s", name, idle_fields[k]);
		check_number(member(idle, where, idle_fields[k]), where, completed <= 0);
	}
	if (completed > 0)
		CHECK(json_is_true(member(idle, name, "measured")));
}

/* Run boot-bench and return everything it printed on stdout. */
static char *run_bench(const char *bench)
{
	char cmd[1024], *out = NULL;
	size_t len = 0;
	FILE *mem, *p;
	int c, status;

	snprintf(cmd, sizeof(cmd), "%s --runs 3 --uml-runs 0 --json", bench);
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

TEST_TIMEOUT(boot_bench_json_is_complete, 180)
{
	const char *build = getenv("SHOAL_BUILD") ? getenv("SHOAL_BUILD") : "build";
	char bench[512], one[512];
	json_error_t jerr;
	json_t *doc, *host, *set, *peers, *goals, *g;
	char *out;
	size_t i;
	int cgroups;

	snprintf(bench, sizeof(bench), "%s/tests/bench/boot-bench", build);
	snprintf(one, sizeof(one), "%s/tests/bench/boot-one", build);
	CHECK(access(bench, X_OK) == 0);
	CHECK(access(one, X_OK) == 0);

	out = run_bench(bench);
	doc = json_loads(out, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc)
		FAIL("not JSON: %s at line %d column %d; output:\n%s", jerr.text, jerr.line,
		     jerr.column, out);

	CHECK_EQ_STR(json_string_value(member(doc, "top", "benchmark")), "boot-bench");
	CHECK_EQ_INT(json_integer_value(member(doc, "top", "version")), 1);
	host = member(doc, "top", "host");
	CHECK(json_integer_value(member(host, "host", "cpus")) >= 1);
	CHECK(json_is_string(member(host, "host", "kernel")));
	CHECK(json_is_string(member(host, "host", "when")));
	set = member(doc, "top", "settings");
	check_number(member(set, "settings", "idle_seconds"), "settings.idle_seconds", 0);
	CHECK(json_is_boolean(member(set, "settings", "cgroups")));
	cgroups = json_is_true(member(set, "settings", "cgroups"));
	/* CI runs as root, where the cgroup figures must be there. */
	if (geteuid() == 0)
		CHECK(cgroups);

	peers = member(doc, "top", "peers");
	CHECK_EQ_INT(json_object_size(peers), 3);
	check_peer(peers, "shoal-skl", 3, cgroups, 1);
	check_peer(peers, "uml", -1, cgroups, 0);
	check_peer(peers, "unshare", 3, cgroups, 0);

	goals = member(doc, "top", "goals");
	CHECK(json_is_array(goals));
	CHECK_EQ_INT(json_array_size(goals), 4);
	json_array_foreach(goals, i, g)
	{
		CHECK(json_is_string(member(g, "goal", "name")));
		CHECK(json_is_string(member(g, "goal", "goal")));
		check_number(member(g, "goal", "limit"), "goal.limit", 0);
		check_number(member(g, "goal", "value"), "goal.value", 0);
		CHECK(json_is_boolean(member(g, "goal", "met")));
	}
	json_decref(doc);
	free(out);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * shoal bench: the stress test of instance creation users asked for. C
 * worker threads, each with its own connection, take instances from a shared
 * counter until N were attempted: create (timed round trip), optionally run a
 * job in it (timed), and destroy it at once (timed) -- or, with --keep, keep
 * every instance alive until all N exist, measure memory at that density,
 * then destroy them all at the same concurrency. The report gives latency
 * percentiles per operation, throughput, failures with their first messages,
 * and memory (the daemon's and the instances' resident sets from /proc: the
 * bench runs on the daemon's host). "ready" is the daemon's own measure from
 * its create to the instance's ready message (ready_ms - created_ms).
 * Instances carry a bench=PID label, and every one created is destroyed,
 * also when the run is interrupted.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "clients/cli/cli.h"
#include "clients/cli/procfs.h"
#include "clients/cli/svg.h"

#define BENCH_MAX 100000
#define ERRORS_KEPT 5

enum op { OP_CREATE, OP_READY, OP_EXEC, OP_DESTROY, OP_COUNT };
static const char *const op_names[OP_COUNT] = { "create", "ready", "exec", "destroy" };

struct bench {
	const char *socket;
	long n, conc;
	bool keep, json, progress;
	struct cli_create_opts co;
	char label[64];
	char **job; /* argv of the job, or NULL */

	atomic_long next; /* next instance index to attempt */
	atomic_long created, destroyed, failed, done;
	atomic_int stop; /* interrupted or a fatal answer: attempt no more */

	pthread_mutex_t lock; /* guards what follows */
	double *lat[OP_COUNT];
	size_t nlat[OP_COUNT];
	char (*ids)[19]; /* created and not yet destroyed, by index; "" when none */
	long long *pids;
	double phase_end; /* when the last worker of the phase finished (monotonic s) */
	char errors[ERRORS_KEPT][256];
	int nerrors;
	char fatal[256];
};

static struct bench *bench_for_signal;

static void on_signal(int sig)
{
	(void)sig;
	if (bench_for_signal)
		atomic_store(&bench_for_signal->stop, 1);
}

static void record(struct bench *b, enum op op, double ms)
{
	pthread_mutex_lock(&b->lock);
	b->lat[op][b->nlat[op]++] = ms;
	pthread_mutex_unlock(&b->lock);
}

static void fail(struct bench *b, const char *what, const char *msg)
{
	atomic_fetch_add(&b->failed, 1);
	pthread_mutex_lock(&b->lock);
	if (b->nerrors < ERRORS_KEPT)
		snprintf(b->errors[b->nerrors++], sizeof(b->errors[0]), "%s: %.200s", what, msg);
	pthread_mutex_unlock(&b->lock);
}

/* Whether the daemon said that it has no such endpoint. */
static bool unsupported(const struct http_resp *resp)
{
	return resp->status == 501 || resp->status == 405 ||
	       (resp->status == 404 && resp->body && strstr(resp->body, "no such route"));
}

/* One request without printing: the status, or -1 with @msg set when none came. */
static long call(struct shoal_client *c, const char *method, const char *path, const char *body,
		 json_t **out, char *msg, size_t size, bool *unsup)
{
	struct shoal_error err = { 0 };
	struct http_body hb = { .data = body, .len = body ? strlen(body) : 0 };
	struct http_resp resp;
	long status;

	*out = NULL;
	if (unsup)
		*unsup = false;
	if (http_request(c, method, path, body ? &hb : NULL, NULL, &resp, &err)) {
		snprintf(msg, size, "%s", err.msg);
		return -1;
	}
	status = resp.status;
	if (resp.body)
		*out = json_loadb(resp.body, resp.len, 0, NULL);
	if (status < 200 || status >= 300) {
		json_t *e = json_object_get(*out, "error");

		if (unsup)
			*unsup = unsupported(&resp);
		snprintf(msg, size, "HTTP %ld %s: %s", status,
			 json_string_value(json_object_get(e, "code")) ?: "",
			 json_string_value(json_object_get(e, "message")) ?: "");
	}
	http_resp_free(&resp);
	return status;
}

static bool destroy_one(struct bench *b, struct shoal_client *c, long i)
{
	char path[64], msg[512], id[19];
	json_t *out;
	double t0;
	long st;

	pthread_mutex_lock(&b->lock);
	snprintf(id, sizeof(id), "%s", b->ids[i]);
	pthread_mutex_unlock(&b->lock);
	if (!id[0])
		return true;
	snprintf(path, sizeof(path), "/v1/instances/%s", id);
	t0 = cli_mono_s();
	st = call(c, "DELETE", path, NULL, &out, msg, sizeof(msg), NULL);
	json_decref(out);
	if (st != 200) {
		fail(b, "destroy", msg);
		return false;
	}
	record(b, OP_DESTROY, (cli_mono_s() - t0) * 1000);
	pthread_mutex_lock(&b->lock);
	b->ids[i][0] = '\0';
	pthread_mutex_unlock(&b->lock);
	atomic_fetch_add(&b->destroyed, 1);
	return true;
}

static void run_job(struct bench *b, struct shoal_client *c, const char *id, const char *body)
{
	char path[96], msg[512];
	bool unsup;
	json_t *out;
	double t0 = cli_mono_s();
	long st;

	snprintf(path, sizeof(path), "/v1/instances/%s/exec", id);
	st = call(c, "POST", path, body, &out, msg, sizeof(msg), &unsup);
	if (st == 200 || st == 201) {
		json_t *code = json_object_get(out, "exit_code");

		if (json_is_integer(code) && json_integer_value(code) != 0)
			fail(b, "exec", "the job exited non-zero");
		else
			record(b, OP_EXEC, (cli_mono_s() - t0) * 1000);
	} else if (unsup) {
		pthread_mutex_lock(&b->lock);
		snprintf(b->fatal, sizeof(b->fatal), "this shoald does not support exec (%.200s)",
			 msg);
		pthread_mutex_unlock(&b->lock);
		atomic_store(&b->stop, 1);
	} else {
		fail(b, "exec", msg);
	}
	json_decref(out);
}

/* The phase's wall time ends with its last worker, not with the progress poll. */
static void worker_done(struct bench *b)
{
	double now = cli_mono_s();

	pthread_mutex_lock(&b->lock);
	if (now > b->phase_end)
		b->phase_end = now;
	pthread_mutex_unlock(&b->lock);
}

static void *create_worker(void *arg)
{
	struct bench *b = arg;
	struct shoal_client c;
	char *body, *job_body = NULL;
	json_t *jb = cli_create_body(&b->co);

	json_object_set_new(json_object_get(jb, "labels"), "bench", json_string(b->label));
	body = json_dumps(jb, JSON_COMPACT);
	json_decref(jb);
	if (b->job) {
		json_t *argv = json_array();

		for (char **a = b->job; *a; a++)
			json_array_append_new(argv, json_string(*a));
		jb = json_pack("{s:o}", "argv", argv);
		job_body = json_dumps(jb, JSON_COMPACT);
		json_decref(jb);
	}
	shoal_client_init(&c, b->socket);
	while (body && !atomic_load(&b->stop)) {
		long i = atomic_fetch_add(&b->next, 1);
		char msg[512];
		json_t *inst;
		double t0;
		long st;

		if (i >= b->n)
			break;
		t0 = cli_mono_s();
		st = call(&c, "POST", "/v1/instances", body, &inst, msg, sizeof(msg), NULL);
		if (st == 201) {
			json_t *created = json_object_get(inst, "created_ms");
			json_t *ready = json_object_get(inst, "ready_ms");

			record(b, OP_CREATE, (cli_mono_s() - t0) * 1000);
			if (json_is_integer(created) && json_is_integer(ready))
				record(b, OP_READY,
				       (double)(json_integer_value(ready) -
						json_integer_value(created)));
			pthread_mutex_lock(&b->lock);
			snprintf(b->ids[i], sizeof(b->ids[i]), "%s",
				 json_string_value(json_object_get(inst, "id")) ?: "");
			b->pids[i] = json_integer_value(json_object_get(inst, "pid"));
			pthread_mutex_unlock(&b->lock);
			atomic_fetch_add(&b->created, 1);
			if (job_body)
				run_job(b, &c, b->ids[i], job_body);
			if (!b->keep)
				destroy_one(b, &c, i);
		} else {
			fail(b, "create", msg);
			if (st < 0) /* the daemon went away: more attempts would only fail the same
				       way */
				atomic_store(&b->stop, 1);
		}
		json_decref(inst);
		atomic_fetch_add(&b->done, 1);
	}
	shoal_client_close(&c);
	free(body);
	free(job_body);
	worker_done(b);
	return NULL;
}

static void *destroy_worker(void *arg)
{
	struct bench *b = arg;
	struct shoal_client c;

	shoal_client_init(&c, b->socket);
	for (;;) {
		long i = atomic_fetch_add(&b->next, 1);

		if (i >= b->n)
			break;
		destroy_one(b, &c, i);
		atomic_fetch_add(&b->done, 1);
	}
	shoal_client_close(&c);
	worker_done(b);
	return NULL;
}

static void progress(struct bench *b, const char *phase, bool last)
{
	static long shown = -1;
	long done = atomic_load(&b->done), n = b->n;
	int width = 30, fill = n ? (int)(width * done / n) : width;

	/* Redraw only when something moved: the poll is much faster than a terminal needs. */
	if (!b->progress || (!last && done == shown))
		return;
	shown = last ? -1 : done;
	fprintf(stderr, "\r%-8s [%.*s%*s] %ld/%ld  created %ld  destroyed %ld  failed %ld ", phase,
		fill, "##############################", width - fill, "", done, n,
		atomic_load(&b->created), atomic_load(&b->destroyed), atomic_load(&b->failed));
	if (last)
		fputc('\n', stderr);
	fflush(stderr);
}

/* Run @fn on conc threads over indexes 0..n-1, drawing the bar meanwhile; wall seconds. */
static double phase(struct bench *b, void *(*fn)(void *), const char *name)
{
	pthread_t th[256];
	long nth = b->conc < b->n ? b->conc : b->n, started = 0;
	double t0 = cli_mono_s();

	atomic_store(&b->next, 0);
	atomic_store(&b->done, 0);
	b->phase_end = t0;
	for (long t = 0; t < nth; t++)
		if (!pthread_create(&th[t], NULL, fn, b))
			started++;
	if (!started)
		fn(b);
	/* Poll often enough that short runs do not wait on the bar. */
	while (atomic_load(&b->done) < b->n && atomic_load(&b->next) < b->n + started) {
		progress(b, name, false);
		usleep(20000);
	}
	for (long t = 0; t < started; t++)
		pthread_join(th[t], NULL);
	progress(b, name, true);
	return b->phase_end - t0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted @v. */
static double pct(const double *v, size_t n, double p)
{
	size_t k = (size_t)ceil(p / 100 * (double)n);

	return v[k ? k - 1 : 0];
}

static json_t *lat_json(const double *v, size_t n)
{
	double sum = 0;

	if (!n)
		return json_pack("{s:i}", "n", 0);
	for (size_t i = 0; i < n; i++)
		sum += v[i];
	return json_pack("{s:I,s:f,s:f,s:f,s:f,s:f,s:f}", "n", (json_int_t)n, "min", v[0], "p50",
			 pct(v, n, 50), "p90", pct(v, n, 90), "p99", pct(v, n, 99), "max", v[n - 1],
			 "mean", sum / (double)n);
}

/* Resident KiB of @pid's tree, or -1 when it is gone. */
static long long rss_kib(long long pid)
{
	unsigned long long ticks;
	long long kib;
	long threads;

	return proc_tree(pid, &ticks, &kib, &threads) ? kib : -1;
}

/* The daemon's pid, from the credentials of a connection to its socket. */
static long long daemon_pid(const char *sock)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct ucred cred;
	socklen_t len = sizeof(cred);
	long long pid = -1;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa)) &&
	    !getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len))
		pid = cred.pid;
	close(fd);
	return pid;
}

static const char bench_help[] =
	"[OPTIONS] [-- CMD [ARG...]]\n"
	"\n"
	"Create N instances with C at a time, each destroyed right after its creation (or,\n"
	"with --keep, all kept alive until N exist, then destroyed); with CMD, run it in\n"
	"each instance. Reports latency percentiles of create, ready (the daemon's create to\n"
	"ready), exec and destroy, throughput, failures and memory.\n"
	"\n"
	"  -n, --count N        instances to create (default 20)\n"
	"  -c, --concurrency C  requests in flight at once (default 4, at most 256)\n"
	"  -k, --keep           keep all alive until every one exists (density), then "
	"destroy\n" CLI_CREATE_HELP "  -j, --json           the report as JSON\n"
	"      --svg FILE       write the latency CDF plot to FILE\n"
	"  -h, --help           this help\n"
	"\n"
	"Exit status 0 when every operation succeeded, 1 when any failed, 3 when the daemon\n"
	"cannot be reached.\n";

static json_t *report_json(struct bench *b, double create_s, double destroy_s, long long dpid,
			   long long daemon_rss, long long inst_rss, long nrss)
{
	json_t *lat = json_object(), *errs = json_array();
	long created = atomic_load(&b->created);

	for (int op = 0; op < OP_COUNT; op++)
		json_object_set_new(lat, op_names[op], lat_json(b->lat[op], b->nlat[op]));
	for (int i = 0; i < b->nerrors; i++)
		json_array_append_new(errs, json_string(b->errors[i]));
	return json_pack(
		"{s:{s:I,s:I,s:b,s:o,s:o},s:I,s:I,s:I,s:o,s:f,s:f,s:f,s:o,s:o,s:{s:o,s:o,s:o}}",
		"config", "count", (json_int_t)b->n, "concurrency", (json_int_t)b->conc, "keep",
		b->keep, "memory_mib",
		b->co.memory_mib ? json_integer(b->co.memory_mib) : json_null(), "job",
		b->job ? json_string(b->job[0]) : json_null(), "created", (json_int_t)created,
		"destroyed", (json_int_t)atomic_load(&b->destroyed), "failed",
		(json_int_t)atomic_load(&b->failed), "errors", errs, "create_wall_s", create_s,
		"creates_per_s", create_s > 0 ? (double)created / create_s : 0.0, "destroys_per_s",
		destroy_s > 0 ? (double)atomic_load(&b->destroyed) / destroy_s : 0.0, "latency_ms",
		lat, "interrupted", json_boolean(atomic_load(&b->stop) && !b->fatal[0]), "memory",
		"daemon_pid", dpid > 0 ? json_integer(dpid) : json_null(), "daemon_rss_kib",
		daemon_rss >= 0 ? json_integer(daemon_rss) : json_null(), "instance_rss_kib_mean",
		nrss ? json_integer(inst_rss / nrss) : json_null());
}

static void report_text(struct bench *b, json_t *r)
{
	json_t *lat = json_object_get(r, "latency_ms"), *mem = json_object_get(r, "memory");

	printf("instances: %ld created, %ld destroyed, %ld failed (of %ld, concurrency %ld%s)\n",
	       atomic_load(&b->created), atomic_load(&b->destroyed), atomic_load(&b->failed), b->n,
	       b->conc, b->keep ? ", all kept alive at once" : "");
	printf("throughput: %.1f creates/s%s", json_real_value(json_object_get(r, "creates_per_s")),
	       b->keep ? "" : " (each followed by its destroy)");
	if (b->keep)
		printf(", %.1f destroys/s", json_real_value(json_object_get(r, "destroys_per_s")));
	printf("\n\n%-9s %6s %11s %11s %11s %11s %11s\n", "latency", "n", "min", "p50", "p90",
	       "p99", "max");
	for (int op = 0; op < OP_COUNT; op++) {
		json_t *l = json_object_get(lat, op_names[op]);

		if (!json_integer_value(json_object_get(l, "n")))
			continue;
		printf("%-9s %6lld", op_names[op],
		       (long long)json_integer_value(json_object_get(l, "n")));
		for (const char *const *k =
			     (const char *const[]){ "min", "p50", "p90", "p99", "max", NULL };
		     *k; k++)
			printf(" %8.2f ms", json_real_value(json_object_get(l, *k)));
		putchar('\n');
	}
	if (json_is_integer(json_object_get(mem, "daemon_rss_kib")))
		printf("\nmemory: shoald %.1f MiB resident",
		       (double)json_integer_value(json_object_get(mem, "daemon_rss_kib")) / 1024);
	if (json_is_integer(json_object_get(mem, "instance_rss_kib_mean")))
		printf(", %.2f MiB resident per instance (mean of those alive at once)",
		       (double)json_integer_value(json_object_get(mem, "instance_rss_kib_mean")) /
			       1024);
	putchar('\n');
	for (int i = 0; i < b->nerrors; i++)
		printf("%s %s\n", i ? "      " : "errors:", b->errors[i]);
}

static int write_svg(struct bench *b, const char *file)
{
	struct svg_series s[OP_COUNT];
	char title[160];
	FILE *f;
	int r;

	size_t ns = 0;

	/* exec is plotted only when a job ran; the other three always. */
	for (int op = 0; op < OP_COUNT; op++)
		if (op != OP_EXEC || b->job)
			s[ns++] = (struct svg_series){ op_names[op], b->lat[op], b->nlat[op] };
	snprintf(title, sizeof(title), "shoal bench: %ld instances, concurrency %ld%s", b->n,
		 b->conc, b->keep ? ", kept alive" : "");
	f = fopen(file, "we");
	if (!f) {
		cli_err("bench", "cannot write %s: %s", file, strerror(errno));
		return CLI_EAPI;
	}
	r = svg_write_cdf(f, title, s, ns);
	if (fclose(f) || r) {
		cli_err("bench", "cannot write %s", file);
		return CLI_EAPI;
	}
	return CLI_OK;
}

int cli_bench(struct shoal_client *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "count", required_argument, NULL, 'n' },
		{ "concurrency", required_argument, NULL, 'c' },
		{ "keep", no_argument, NULL, 'k' },
		CLI_CREATE_LONGOPTS,
		{ "json", no_argument, NULL, 'j' },
		{ "svg", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct bench *b = calloc(1, sizeof(*b));
	const char *svg = NULL;
	double create_s, destroy_s = 0;
	long long dpid, drss = -1, irss = 0;
	long nrss = 0;
	json_t *v = NULL, *report;
	int opt, r;

	if (!b)
		return CLI_EAPI;
	b->n = 20;
	b->conc = 4;
	while ((opt = getopt_long(argc, argv, "+n:c:kjh" CLI_CREATE_SHORTOPTS, opts, NULL)) != -1) {
		r = cli_create_opt(&b->co, opt, optarg, "bench");
		if (r < 0)
			goto usage;
		if (r)
			continue;
		switch (opt) {
		case 'n':
			if (cli_parse_long(optarg, 1, BENCH_MAX, &b->n)) {
				cli_usage_err("bench", "--count wants 1..%d", BENCH_MAX);
				goto usage;
			}
			break;
		case 'c':
			if (cli_parse_long(optarg, 1, 256, &b->conc)) {
				cli_usage_err("bench", "--concurrency wants 1..256");
				goto usage;
			}
			break;
		case 'k':
			b->keep = true;
			break;
		case 'j':
			b->json = true;
			break;
		case 'S':
			svg = optarg;
			break;
		case 'h':
			free(b);
			return cli_verb_help("bench", bench_help);
		default:
			cli_try_help("bench");
			goto usage;
		}
	}
	if (optind < argc)
		b->job = &argv[optind];
	if (b->job && !**b->job) {
		cli_usage_err("bench", "the command is empty");
		goto usage;
	}
	/* Ask once before starting threads, so "no daemon" is one clear line. */
	r = cli_call(c, "bench", "GET", "/v1/version", NULL, &v);
	json_decref(v);
	if (r) {
		free(b);
		return r;
	}
	b->socket = c->socket;
	b->progress = isatty(2) && !b->json;
	snprintf(b->label, sizeof(b->label), "%ld", (long)getpid());
	pthread_mutex_init(&b->lock, NULL);
	for (int op = 0; op < OP_COUNT; op++)
		b->lat[op] = calloc((size_t)b->n, sizeof(double));
	b->ids = calloc((size_t)b->n, sizeof(*b->ids));
	b->pids = calloc((size_t)b->n, sizeof(*b->pids));
	if (!b->lat[OP_COUNT - 1] || !b->lat[0] || !b->lat[1] || !b->lat[2] || !b->ids ||
	    !b->pids) {
		cli_err("bench", "out of memory");
		r = CLI_EAPI;
		goto out;
	}
	bench_for_signal = b;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	create_s = phase(b, create_worker, b->keep ? "create" : "lifecycle");
	dpid = daemon_pid(b->socket);
	/* The daemon's own process only: its tree holds every instance. */
	if (dpid > 0) {
		long threads;

		proc_status(dpid, &drss, &threads);
	}
	if (b->keep) {
		for (long i = 0; i < b->n; i++) {
			long long k = b->ids[i][0] ? rss_kib(b->pids[i]) : -1;

			if (k >= 0) {
				irss += k;
				nrss++;
			}
		}
	}
	/* Whatever is still alive goes now: --keep's instances, or an interrupted run's. */
	destroy_s = phase(b, destroy_worker, "destroy");

	for (int op = 0; op < OP_COUNT; op++)
		qsort(b->lat[op], b->nlat[op], sizeof(double), cmp_double);
	report = report_json(b, create_s, destroy_s, dpid, drss, irss, nrss);
	if (b->json)
		cli_print_json(report);
	else
		report_text(b, report);
	json_decref(report);
	r = CLI_OK;
	if (svg)
		r = write_svg(b, svg);
	if (b->fatal[0]) {
		cli_err("bench", "%s", b->fatal);
		r = CLI_EAPI;
	} else if (atomic_load(&b->failed) || atomic_load(&b->stop)) {
		r = CLI_EAPI;
	}
out:
	bench_for_signal = NULL;
	for (int op = 0; op < OP_COUNT; op++)
		free(b->lat[op]);
	free(b->ids);
	free(b->pids);
	pthread_mutex_destroy(&b->lock);
	free(b);
	return r;
usage:
	free(b);
	return CLI_EUSAGE;
}

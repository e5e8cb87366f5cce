// SPDX-License-Identifier: GPL-2.0
/*
 * The instance verbs: create, ls, inspect, rm, and the helpers run and bench
 * share with them (create options, id resolution, destroy). People get a
 * table and short ids they can type (a unique prefix is enough, as with
 * docker); scripts get --json in the daemon's own shape and -q for bare ids.
 * By default ls shows instances that are alive; ended ones stay in the
 * daemon's database and are shown with --all or --state.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "clients/cli/cli.h"
#include "clients/cli/table.h"

int cli_parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

bool cli_label_ok(const char *s)
{
	const char *eq = strchr(s, '=');

	return eq && eq != s;
}

int cli_create_opt(struct cli_create_opts *o, int opt, const char *arg, const char *verb)
{
	switch (opt) {
	case 'm':
		if (cli_parse_long(arg, 1, 1L << 30, &o->memory_mib))
			return cli_usage_err(verb, "--memory wants a number of MiB, not '%s'", arg),
			       -1;
		return 1;
	case 't':
		if (cli_parse_long(arg, 1, 1L << 40, &o->ttl_s))
			return cli_usage_err(verb, "--ttl wants a number of seconds, not '%s'",
					     arg),
			       -1;
		return 1;
	case 'l':
		if (!cli_label_ok(arg))
			return cli_usage_err(verb, "--label wants KEY=VALUE, not '%s'", arg), -1;
		if (o->nlabels == CLI_LABELS_MAX)
			return cli_usage_err(verb, "at most %d labels", CLI_LABELS_MAX), -1;
		o->labels[o->nlabels++] = arg;
		return 1;
	case 'N':
		o->network = true;
		return 1;
	case 'D': {
		const char *colon = strchr(arg, ':');

		if (!colon || colon == arg || colon[1] != '/')
			return cli_usage_err(verb, "--disk wants IMAGE:/PATH[:ro], not '%s'", arg),
			       -1;
		if (o->ndisks == 8)
			return cli_usage_err(verb, "at most 8 disks"), -1;
		o->disks[o->ndisks++] = arg;
		return 1;
	}
	case 'E':
		if (!strchr(arg, '=') || arg[0] == '=')
			return cli_usage_err(verb, "--env wants NAME=VALUE, not '%s'", arg), -1;
		if (o->nenv == 64)
			return cli_usage_err(verb, "at most 64 --env"), -1;
		o->env[o->nenv++] = arg;
		return 1;
	default:
		return 0;
	}
}

json_t *cli_create_body(const struct cli_create_opts *o)
{
	json_t *body = json_object();
	json_t *labels = json_object();

	if (!body || !labels) {
		json_decref(body);
		json_decref(labels);
		return NULL;
	}
	for (int i = 0; i < o->nlabels; i++) {
		const char *eq = strchr(o->labels[i], '=');
		char key[256];

		snprintf(key, sizeof(key), "%.*s", (int)(eq - o->labels[i]), o->labels[i]);
		json_object_set_new(labels, key, json_string(eq + 1));
	}
	if (o->memory_mib)
		json_object_set_new(body, "memory_mib", json_integer(o->memory_mib));
	if (o->nlabels)
		json_object_set(body, "labels", labels);
	if (o->ttl_s)
		json_object_set_new(body, "ttl_s", json_integer(o->ttl_s));
	json_object_set_new(body, "network", json_boolean(o->network));
	json_decref(labels);
	if (o->nenv) {
		json_t *env = json_array();

		for (int i = 0; i < o->nenv; i++)
			json_array_append_new(env, json_string(o->env[i]));
		json_object_set_new(body, "env", env);
	}
	if (o->ndisks) {
		json_t *disks = json_array();

		for (int i = 0; i < o->ndisks; i++) {
			/* IMAGE:/mount/point, optionally followed by :ro */
			const char *spec = o->disks[i], *colon = strchr(spec, ':');
			const char *mount = colon + 1;
			size_t mlen = strlen(mount);
			bool ro = mlen > 3 && !strcmp(mount + mlen - 3, ":ro");
			char image[256], point[4096];

			snprintf(image, sizeof(image), "%.*s", (int)(colon - spec), spec);
			snprintf(point, sizeof(point), "%.*s", (int)(ro ? mlen - 3 : mlen), mount);
			json_array_append_new(disks,
					      json_pack("{s:s,s:s,s:b}", "image", image,
							"mount_point", point, "read_only", ro));
		}
		json_object_set_new(body, "disks", disks);
	}
	return body;
}

/* The instances as the daemon lists them, filtered by @state and @labels (server side). */
static int list_get(struct shoal_client *c, const char *verb, const char *state,
		    const char *const *labels, int nlabels, json_t **out)
{
	char path[4096] = "/v1/instances";
	size_t n = strlen(path);
	char sep = '?';

	for (int i = -1; i < nlabels; i++) {
		const char *key = i < 0 ? "state" : "label";
		const char *val = i < 0 ? state : labels[i];
		char *esc;

		if (!val)
			continue;
		esc = http_escape(val);
		if (!esc) {
			cli_err(verb, "out of memory");
			return CLI_EAPI;
		}
		n += snprintf(path + n, sizeof(path) - n, "%c%s=%s", sep, key, esc);
		free(esc);
		sep = '&';
		if (n >= sizeof(path))
			return cli_usage_err(verb, "filters too long");
	}
	return cli_call(c, verb, "GET", path, NULL, out);
}

static bool state_alive(const char *s)
{
	return s && (!strcmp(s, "starting") || !strcmp(s, "running") || !strcmp(s, "stopping"));
}

int cli_resolve_id(struct shoal_client *c, const char *verb, const char *arg, char *out)
{
	const char *hex = strncmp(arg, "i-", 2) ? arg : arg + 2;
	json_t *list = NULL, *inst;
	size_t i, len = strlen(hex), hits = 0, alive_hits = 0;
	char alive[19] = "", any[19] = "";
	int r;

	if (cli_id_valid(arg)) {
		snprintf(out, 19, "%s", arg);
		return CLI_OK;
	}
	if (!len || len > 16 || strspn(hex, "0123456789abcdef") != len) {
		cli_err(verb, "'%s' is not an instance id (they look like i-0123456789abcdef)",
			arg);
		return CLI_EAPI;
	}
	r = list_get(c, verb, NULL, NULL, 0, &list);
	if (r)
		return r;
	json_array_foreach(json_object_get(list, "instances"), i, inst)
	{
		const char *id = json_string_value(json_object_get(inst, "id"));

		/* Ids from the daemon go into URLs: only their exact form is taken. */
		if (!id || !cli_id_valid(id) || strncmp(id + 2, hex, len))
			continue;
		hits++;
		snprintf(any, sizeof(any), "%s", id);
		if (state_alive(json_string_value(json_object_get(inst, "state")))) {
			alive_hits++;
			snprintf(alive, sizeof(alive), "%s", id);
		}
	}
	json_decref(list);
	/* An alive instance wins over ended ones sharing the prefix: that is the one meant. */
	if (alive_hits == 1 || hits == 1) {
		snprintf(out, 19, "%s", alive_hits == 1 ? alive : any);
		return CLI_OK;
	}
	if (!hits)
		cli_err(verb, "no instance %s", arg);
	else
		cli_err(verb, "'%s' matches %zu instances; give more of the id", arg, hits);
	return CLI_EAPI;
}

int cli_destroy(struct shoal_client *c, const char *verb, const char *id)
{
	char path[64];
	json_t *gone = NULL;
	int r;

	char what[64];

	snprintf(path, sizeof(path), "/v1/instances/%s", id);
	snprintf(what, sizeof(what), "%s: %s", verb, id);
	r = cli_call(c, what, "DELETE", path, NULL, &gone);
	json_decref(gone);
	return r;
}

/* ---- create */

static const char create_help[] =
	"[OPTIONS]\n"
	"\n"
	"Create an instance (its own library kernel in a sandboxed process), wait until it\n"
	"is running, and print its id.\n"
	"\n" CLI_CREATE_HELP "  -e, --env NAME=VAL   environment of every job in it (repeatable)\n"
	"  -j, --json           print the whole instance as JSON\n"
	"  -h, --help           this help\n";

int cli_create(struct shoal_client *c, int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_CREATE_LONGOPTS,
		{ "env", required_argument, NULL, 'E' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct cli_create_opts o = { 0 };
	bool json = false;
	json_t *body, *inst = NULL;
	int opt, r;

	while ((opt = getopt_long(argc, argv, CLI_CREATE_SHORTOPTS "e:jh", opts, NULL)) != -1) {
		r = cli_create_opt(&o, opt == 'e' ? 'E' : opt, optarg, "create");
		if (r < 0)
			return CLI_EUSAGE;
		if (r)
			continue;
		if (opt == 'j')
			json = true;
		else if (opt == 'h')
			return cli_verb_help("create", create_help);
		else
			return cli_try_help("create");
	}
	if (optind < argc)
		return cli_usage_err("create", "unexpected argument '%s'", argv[optind]);
	body = cli_create_body(&o);
	if (!body)
		return CLI_EAPI;
	r = cli_call(c, "create", "POST", "/v1/instances", body, &inst);
	json_decref(body);
	if (r)
		return r;
	if (json)
		cli_print_json(inst);
	else
		printf("%s\n", json_string_value(json_object_get(inst, "id")));
	json_decref(inst);
	return CLI_OK;
}

/* ---- ls */

static const char ls_help[] =
	"[OPTIONS]\n"
	"\n"
	"List instances: those alive (starting, running, stopping) unless --all or --state.\n"
	"\n"
	"  -a, --all            also instances that ended (destroyed, failed)\n"
	"  -s, --state STATE    only this state: starting running stopping destroyed failed\n"
	"  -l, --label K=V      only instances with this label (repeatable: all must match)\n"
	"  -q, --quiet          only the ids, one per line\n"
	"  -j, --json           the daemon's JSON ({\"instances\": [...]}), filtered the same way\n"
	"  -h, --help           this help\n";

static void labels_text(const json_t *labels, char *buf, size_t size)
{
	const char *key;
	json_t *val;
	size_t n = 0;

	buf[0] = '\0';
	json_object_foreach((json_t *)labels, key, val)
	{
		if (n < size)
			n += snprintf(buf + n, size - n, "%s%s=%s", n ? "," : "", key,
				      json_string_value(val));
	}
}

static int ls_print_table(json_t *instances)
{
	static const char *const head[] = { "ID",     "STATE", "PID",	  "ADDRESS",
					    "MEMORY", "BOOT",  "CREATED", "LABELS" };
	struct table t;
	size_t i;
	json_t *inst;

	table_init(&t, (int)(sizeof(head) / sizeof(head[0])), head);
	json_array_foreach(instances, i, inst)
	{
		char pid[24] = "-", mem[24] = "-", boot[24] = "-", age[24] = "-", labels[512];
		const char *row[8];
		json_t *v;

		if (json_is_integer(v = json_object_get(inst, "pid")))
			snprintf(pid, sizeof(pid), "%lld", (long long)json_integer_value(v));
		if (json_is_integer(v = json_object_get(inst, "memory_mib")))
			snprintf(mem, sizeof(mem), "%lld MiB", (long long)json_integer_value(v));
		if (json_is_number(v = json_object_get(inst, "boot_ms")))
			snprintf(boot, sizeof(boot), "%.1f ms", json_number_value(v));
		if (json_is_integer(v = json_object_get(inst, "created_ms"))) {
			cli_age(json_integer_value(v), age, sizeof(age) - 4);
			strcat(age, " ago");
		}
		labels_text(json_object_get(inst, "labels"), labels, sizeof(labels));
		row[0] = json_string_value(json_object_get(inst, "id"));
		row[1] = json_string_value(json_object_get(inst, "state"));
		row[2] = pid;
		/* Instances without a network have no address: "-". */
		row[3] = json_string_value(json_object_get(inst, "address"));
		row[4] = mem;
		row[5] = boot;
		row[6] = age;
		row[7] = labels[0] ? labels : "-";
		if (table_add(&t, row)) {
			table_free(&t);
			cli_err("ls", "out of memory");
			return CLI_EAPI;
		}
	}
	table_print(&t, stdout);
	table_free(&t);
	return CLI_OK;
}

static const char *const states[] = {
	"starting", "running", "stopping", "destroyed", "failed", NULL
};

int cli_ls(struct shoal_client *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "state", required_argument, NULL, 's' },
		{ "label", required_argument, NULL, 'l' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *labels[CLI_LABELS_MAX], *state = NULL;
	bool all = false, quiet = false, json = false;
	json_t *list = NULL, *instances, *kept, *inst;
	int opt, r, nlabels = 0;
	size_t i;

	while ((opt = getopt_long(argc, argv, "as:l:qjh", opts, NULL)) != -1) {
		switch (opt) {
		case 'a':
			all = true;
			break;
		case 's':
			state = optarg;
			for (i = 0; states[i] && strcmp(states[i], state); i++)
				;
			if (!states[i])
				return cli_usage_err("ls", "unknown state '%s'", state);
			break;
		case 'l':
			if (!cli_label_ok(optarg))
				return cli_usage_err("ls", "--label wants KEY=VALUE, not '%s'",
						     optarg);
			if (nlabels == 8)
				return cli_usage_err("ls", "at most 8 label filters");
			labels[nlabels++] = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			return cli_verb_help("ls", ls_help);
		default:
			return cli_try_help("ls");
		}
	}
	if (optind < argc)
		return cli_usage_err("ls", "unexpected argument '%s'", argv[optind]);
	r = list_get(c, "ls", state, labels, nlabels, &list);
	if (r)
		return r;
	instances = json_object_get(list, "instances");
	if (!json_is_array(instances)) {
		json_decref(list);
		cli_err("ls", "shoald's answer has no instance list");
		return CLI_EAPI;
	}
	kept = json_array();
	json_array_foreach(instances, i, inst)
	{
		if (all || state || state_alive(json_string_value(json_object_get(inst, "state"))))
			json_array_append(kept, inst);
	}
	if (json) {
		/* The daemon's own object (its other members, such as "next", kept), filtered. */
		json_object_set(list, "instances", kept);
		cli_print_json(list);
	} else if (quiet) {
		json_array_foreach(kept, i, inst)
			printf("%s\n", json_string_value(json_object_get(inst, "id")));
	} else {
		r = ls_print_table(kept);
	}
	json_decref(kept);
	json_decref(list);
	return r;
}

/* ---- inspect */

static const char inspect_help[] =
	"[OPTIONS] ID...\n"
	"\n"
	"Print instances as the daemon knows them, alive or ended: one ID gives one JSON\n"
	"object, several give an array. An ID may be a unique prefix.\n"
	"\n"
	"  -f, --field NAME     print only this field of each (strings unquoted), one per line\n"
	"  -h, --help           this help\n";

int cli_inspect(struct shoal_client *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "field", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *field = NULL;
	json_t *all;
	int opt, r, status = CLI_OK;

	while ((opt = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
		if (opt == 'f')
			field = optarg;
		else if (opt == 'h')
			return cli_verb_help("inspect", inspect_help);
		else
			return cli_try_help("inspect");
	}
	if (optind >= argc)
		return cli_usage_err("inspect", "which instance? give one or more ids");
	all = json_array();
	for (int i = optind; i < argc; i++) {
		char id[19], path[64];
		json_t *inst = NULL;

		r = cli_resolve_id(c, "inspect", argv[i], id);
		if (!r) {
			char what[64];

			snprintf(path, sizeof(path), "/v1/instances/%s", id);
			snprintf(what, sizeof(what), "inspect: %s", id);
			r = cli_call(c, what, "GET", path, NULL, &inst);
		}
		if (r == CLI_EUNREACH) {
			json_decref(all);
			return r;
		}
		if (r) {
			status = r;
			continue;
		}
		if (field) {
			json_t *v = json_object_get(inst, field);

			if (!v) {
				cli_err("inspect", "instances have no field '%s'", field);
				status = CLI_EUSAGE;
			} else if (json_is_string(v)) {
				printf("%s\n", json_string_value(v));
			} else {
				json_dumpf(v, stdout, JSON_ENCODE_ANY | JSON_COMPACT);
				fputc('\n', stdout);
			}
		}
		json_array_append_new(all, inst);
	}
	if (!field && json_array_size(all))
		cli_print_json(argc - optind == 1 ? json_array_get(all, 0) : all);
	json_decref(all);
	return status;
}

/* ---- rm */

static const char rm_help[] =
	"[OPTIONS] [ID...]\n"
	"\n"
	"Destroy instances: each is asked to shut down, killed after a grace period, and\n"
	"its resources are reclaimed. Prints each id as it goes. An ID may be a unique prefix.\n"
	"\n"
	"  -a, --all            every instance that is alive (with --label: those matching)\n"
	"  -l, --label K=V      every alive instance with this label (repeatable: all match)\n"
	"  -h, --help           this help\n"
	"\n"
	"Exit status 1 if any instance could not be destroyed; the others still are.\n";

int cli_rm(struct shoal_client *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "label", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *labels[CLI_LABELS_MAX];
	bool all = false;
	int opt, r, nlabels = 0, status = CLI_OK;

	while ((opt = getopt_long(argc, argv, "al:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'a':
			all = true;
			break;
		case 'l':
			if (!cli_label_ok(optarg))
				return cli_usage_err("rm", "--label wants KEY=VALUE, not '%s'",
						     optarg);
			if (nlabels == 8)
				return cli_usage_err("rm", "at most 8 label filters");
			labels[nlabels++] = optarg;
			break;
		case 'h':
			return cli_verb_help("rm", rm_help);
		default:
			return cli_try_help("rm");
		}
	}
	if ((all || nlabels) && optind < argc)
		return cli_usage_err("rm", "give ids or --all/--label, not both");
	if (!all && !nlabels && optind >= argc)
		return cli_usage_err("rm", "which instances? give ids, --all or --label");

	if (all || nlabels) {
		json_t *list = NULL, *inst;
		size_t i;

		r = list_get(c, "rm", NULL, labels, nlabels, &list);
		if (r)
			return r;
		json_array_foreach(json_object_get(list, "instances"), i, inst)
		{
			const char *id = json_string_value(json_object_get(inst, "id"));

			if (!id || !cli_id_valid(id) ||
			    !state_alive(json_string_value(json_object_get(inst, "state"))))
				continue;
			r = cli_destroy(c, "rm", id);
			if (r == CLI_EUNREACH) {
				json_decref(list);
				return r;
			}
			if (r)
				status = r;
			else
				printf("%s\n", id);
			fflush(stdout);
		}
		json_decref(list);
		return status;
	}
	for (int i = optind; i < argc; i++) {
		char id[19];

		r = cli_resolve_id(c, "rm", argv[i], id);
		if (!r)
			r = cli_destroy(c, "rm", id);
		if (r == CLI_EUNREACH)
			return r;
		if (r)
			status = r;
		else
			printf("%s\n", id);
		fflush(stdout);
	}
	return status;
}

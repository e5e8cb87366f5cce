// SPDX-License-Identifier: GPL-2.0
/*
 * shoal update: change what may change on a live instance, its TTL and its
 * labels (PATCH /v1/instances/{id}). The daemon replaces labels as a whole;
 * people think in single labels ("add owner=ana", "drop tmp"), so the CLI
 * reads the current set, applies the edits and sends the result. Two updates
 * racing on the labels of one instance can lose one edit; labels are
 * metadata, and the last writer wins, as with `docker update`.
 */
#include <getopt.h>
#include <string.h>

#include "clients/cli/cli.h"

static const char update_help[] =
	"[OPTIONS] ID\n"
	"\n"
	"Change a live instance's TTL or labels. ID may be a unique prefix.\n"
	"\n"
	"  -t, --ttl SECONDS    destroy it this many seconds after its creation\n"
	"      --no-ttl         never destroy it automatically\n"
	"  -l, --label K=V      set a label (repeatable)\n"
	"  -u, --unlabel K      remove a label (repeatable)\n"
	"  -j, --json           print the updated instance as JSON\n"
	"  -h, --help           this help\n";

int cli_update(struct shoal_client *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ttl", required_argument, NULL, 't' },
		{ "no-ttl", no_argument, NULL, 'T' },
		{ "label", required_argument, NULL, 'l' },
		{ "unlabel", required_argument, NULL, 'u' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *set[CLI_LABELS_MAX], *unset[CLI_LABELS_MAX];
	int nset = 0, nunset = 0, opt, r;
	bool json = false, no_ttl = false;
	long ttl = 0;
	json_t *body, *inst = NULL;
	char id[19], path[64];

	while ((opt = getopt_long(argc, argv, "t:l:u:jh", opts, NULL)) != -1) {
		switch (opt) {
		case 't':
			if (cli_parse_long(optarg, 1, 1L << 40, &ttl))
				return cli_usage_err("update", "--ttl wants seconds, not '%s'",
						     optarg);
			break;
		case 'T':
			no_ttl = true;
			break;
		case 'l':
			if (!cli_label_ok(optarg))
				return cli_usage_err("update", "--label wants KEY=VALUE, not '%s'",
						     optarg);
			if (nset == CLI_LABELS_MAX)
				return cli_usage_err("update", "at most %d labels", CLI_LABELS_MAX);
			set[nset++] = optarg;
			break;
		case 'u':
			if (!*optarg || strchr(optarg, '='))
				return cli_usage_err("update", "--unlabel wants a KEY, not '%s'",
						     optarg);
			if (nunset == CLI_LABELS_MAX)
				return cli_usage_err("update", "at most %d --unlabel",
						     CLI_LABELS_MAX);
			unset[nunset++] = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			return cli_verb_help("update", update_help);
		default:
			return cli_try_help("update");
		}
	}
	if (argc - optind != 1)
		return cli_usage_err("update", "want exactly one instance id");
	if (ttl && no_ttl)
		return cli_usage_err("update", "--ttl and --no-ttl exclude each other");
	if (!ttl && !no_ttl && !nset && !nunset)
		return cli_usage_err("update",
				     "nothing to change: give --ttl, --no-ttl, --label or "
				     "--unlabel");
	r = cli_resolve_id(c, "update", argv[optind], id);
	if (r)
		return r;
	snprintf(path, sizeof(path), "/v1/instances/%s", id);
	body = json_object();
	if (ttl)
		json_object_set_new(body, "ttl_s", json_integer(ttl));
	else if (no_ttl)
		json_object_set_new(body, "ttl_s", json_null());
	if (nset || nunset) {
		json_t *labels;

		r = cli_call(c, "update", "GET", path, NULL, &inst);
		if (r) {
			json_decref(body);
			return r;
		}
		labels = json_deep_copy(json_object_get(inst, "labels"));
		json_decref(inst);
		inst = NULL;
		if (!json_is_object(labels)) {
			json_decref(labels);
			labels = json_object();
		}
		for (int i = 0; i < nunset; i++)
			json_object_del(labels, unset[i]);
		for (int i = 0; i < nset; i++) {
			const char *eq = strchr(set[i], '=');
			char key[256];

			snprintf(key, sizeof(key), "%.*s", (int)(eq - set[i]), set[i]);
			json_object_set_new(labels, key, json_string(eq + 1));
		}
		json_object_set_new(body, "labels", labels);
	}
	r = cli_call(c, "update", "PATCH", path, body, &inst);
	json_decref(body);
	if (r)
		return r;
	if (json)
		cli_print_json(inst);
	else
		printf("%s\n", id);
	json_decref(inst);
	return CLI_OK;
}

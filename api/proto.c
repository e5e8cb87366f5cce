// SPDX-License-Identifier: GPL-2.0
/*
 * The control protocol's messages as data, and the codec's entry points. Each
 * message body and each nested object is a schema: a table of fields with the
 * JSON name, the C member (its type checked at compile time), whether it is
 * required, its limits and its default, exactly as api/PROTOCOL.md lists them.
 * The table is the single source of truth for decoding, encoding, defaults and
 * descriptor references; the check functions below add the rules that span
 * fields. proto_decode() reads the envelope (type, id, hello's version) by hand
 * because those must be understood before, and whatever, the body says.
 */
#include "proto.h"

#include "proto_schema.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* ---------------------------------------------------------------------------
 * Field constructors. Each one checks at compile time that the C member has
 * the type its kind writes, so a table entry cannot scribble over a neighbour.
 */

#define ASSERT0(cond) (0 * sizeof(char[(cond) ? 1 : -1]))
#define MEMBER(st, m) (((st *)0)->m)
#define IS(st, m, type) __builtin_types_compatible_p(__typeof__(MEMBER(st, m)), type)
#define OFF(st, m, cond) (offsetof(st, m) + ASSERT0(cond))
#define CAPACITY(st, m) (sizeof(MEMBER(st, m)) / sizeof(MEMBER(st, m)[0]))

#define U64(n, st, m, p, lo, hi, d)                                                              \
	{                                                                                        \
		.name = n, .kind = K_U64, .presence = p, .off = OFF(st, m, IS(st, m, uint64_t)), \
		.min = lo, .max = hi, .def = d                                                   \
	}
#define U32(n, st, m, p, lo, hi, d)                                                              \
	{                                                                                        \
		.name = n, .kind = K_U32, .presence = p, .off = OFF(st, m, IS(st, m, uint32_t)), \
		.min = lo, .max = hi, .def = d                                                   \
	}
#define INT(n, st, m, p, lo, hi, d)                                                         \
	{                                                                                   \
		.name = n, .kind = K_INT, .presence = p, .off = OFF(st, m, IS(st, m, int)), \
		.min = lo, .max = hi, .def = d                                              \
	}
#define BOOL(n, st, m, p, d)                                                                  \
	{                                                                                     \
		.name = n, .kind = K_BOOL, .presence = p, .off = OFF(st, m, IS(st, m, bool)), \
		.def = d                                                                      \
	}
#define ENUM(n, st, m, p, table)                                                                   \
	{                                                                                          \
		.name = n, .kind = K_ENUM, .presence = p,                                          \
		.off = OFF(st, m, sizeof(MEMBER(st, m)) == sizeof(int)), .names = &table, .def = 0 \
	}
#define STR(n, st, m, p, c, lo, hi, sd)                                                     \
	{                                                                                   \
		.name = n, .kind = K_STR, .presence = p,                                    \
		.off = OFF(st, m, IS(st, m, const char *)), .cls = c, .min = lo, .max = hi, \
		.sdef = sd                                                                  \
	}
#define BYTES(n, st, m, p, lo, hi)                                                     \
	{                                                                              \
		.name = n, .kind = K_BYTES, .presence = p,                             \
		.off = OFF(st, m, IS(st, m, struct proto_bytes)), .min = lo, .max = hi \
	}
#define FD(n, st, m)                                                                            \
	{                                                                                       \
		.name = n, .kind = K_FD, .presence = P_OMIT, .off = OFF(st, m, IS(st, m, int)), \
		.min = 0, .max = PROTO_FDS_MAX - 1, .def = -1                                   \
	}
#define IP(n, st, m, p, fam)                                              \
	{                                                                 \
		.name = n, .kind = K_IP, .presence = p,                   \
		.off = OFF(st, m, IS(st, m, struct proto_ip)), .cls = fam \
	}
#define CIDR(n, st, m, p, fam)                                              \
	{                                                                   \
		.name = n, .kind = K_CIDR, .presence = p,                   \
		.off = OFF(st, m, IS(st, m, struct proto_cidr)), .cls = fam \
	}
#define MAC(n, st, m)                                             \
	{                                                         \
		.name = n, .kind = K_MAC, .presence = P_REQUIRED, \
		.off = OFF(st, m, IS(st, m, unsigned char[6]))    \
	}
/* A nested object; @p P_DEFAULT objects must have only optional fields. */
#define OBJ(n, st, m, p, schema)                                                                \
	{                                                                                       \
		.name = n, .kind = K_OBJ, .presence = p, .off = offsetof(st, m), .sub = &schema \
	}
/* An optional nested object whose presence is the bool member @has. */
#define OBJ_OPT(n, st, m, has, schema)                                                     \
	{                                                                                  \
		.name = n, .kind = K_OBJ, .presence = P_OMIT, .off = offsetof(st, m),      \
		.sub = &schema, .flags = F_HAS, .has_off = OFF(st, has, IS(st, has, bool)) \
	}
#define OBJ_ARRAY(n, st, m, cnt, p, lo, hi, schema)                                                \
	{                                                                                          \
		.name = n, .kind = K_OBJ_ARRAY, .presence = p,                                     \
		.off = OFF(st, m, CAPACITY(st, m) >= (hi)), .elem_size = sizeof(MEMBER(st, m)[0]), \
		.count_off = OFF(st, cnt, IS(st, cnt, size_t)), .min = lo, .max = hi,              \
		.sub = &schema                                                                     \
	}
#define STR_ARRAY(n, st, m, cnt, p, lo, hi, c, elo, ehi)                                        \
	{                                                                                       \
		.name = n, .kind = K_STR_ARRAY, .presence = p,                                  \
		.off = OFF(st, m, IS(st, m[0], const char *) && CAPACITY(st, m) >= (hi)),       \
		.count_off = OFF(st, cnt, IS(st, cnt, size_t)), .min = lo, .max = hi, .cls = c, \
		.emin = elo, .emax = ehi                                                        \
	}
#define U64_ARRAY(n, st, m, cnt, p, lo, hi, elo, ehi)                                              \
	{                                                                                          \
		.name = n, .kind = K_U64_ARRAY, .presence = p,                                     \
		.off = OFF(st, m, IS(st, m[0], uint64_t) && CAPACITY(st, m) >= (hi)),              \
		.count_off = OFF(st, cnt, IS(st, cnt, size_t)), .min = lo, .max = hi, .emin = elo, \
		.emax = ehi                                                                        \
	}
#define IP_ARRAY(n, st, m, cnt, p, lo, hi, fam)                                                  \
	{                                                                                        \
		.name = n, .kind = K_IP_ARRAY, .presence = p,                                    \
		.off = OFF(st, m, IS(st, m[0], struct proto_ip) && CAPACITY(st, m) >= (hi)),     \
		.count_off = OFF(st, cnt, IS(st, cnt, size_t)), .min = lo, .max = hi, .cls = fam \
	}

#define SCHEMA(id, label, table, fn)                                                   \
	static const struct schema id = { .name = label,                               \
					  .fields = table,                             \
					  .nfields = sizeof(table) / sizeof(table[0]), \
					  .check = fn }

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---------------------------------------------------------------------------
 * Names on the wire.
 */

static const char *const type_names[PROTO_TYPE_COUNT] = {
	[PROTO_HELLO] = "hello",	   [PROTO_OK] = "ok",
	[PROTO_ERROR] = "error",	   [PROTO_CONFIGURE] = "configure",
	[PROTO_READY] = "ready",	   [PROTO_FILE_PUT] = "file_put",
	[PROTO_FILE_GET] = "file_get",	   [PROTO_FILE_CHUNK] = "file_chunk",
	[PROTO_FILE_END] = "file_end",	   [PROTO_STATS] = "stats",
	[PROTO_CONSOLE] = "console",	   [PROTO_EXEC] = "exec",
	[PROTO_EXEC_INPUT] = "exec_input", [PROTO_EXEC_OUTPUT] = "exec_output",
	[PROTO_EXEC_EXIT] = "exec_exit",   [PROTO_EXEC_SIGNAL] = "exec_signal",
	[PROTO_SHUTDOWN] = "shutdown",	   [PROTO_ADOPT] = "adopt",
	[PROTO_FATAL] = "fatal",
};
static const struct enum_names type_enum = { type_names, COUNT(type_names) };

/* The types an ok reply may answer: the requests. */
static const char *const request_names[PROTO_TYPE_COUNT] = {
	[PROTO_CONFIGURE] = "configure",
	[PROTO_FILE_PUT] = "file_put",
	[PROTO_FILE_GET] = "file_get",
	[PROTO_STATS] = "stats",
	[PROTO_CONSOLE] = "console",
	[PROTO_EXEC] = "exec",
	[PROTO_EXEC_SIGNAL] = "exec_signal",
	[PROTO_SHUTDOWN] = "shutdown",
	[PROTO_ADOPT] = "adopt",
};
static const struct enum_names request_enum = { request_names, COUNT(request_names) };

static const char *const error_code_names[PROTO_ERR_COUNT] = {
	[PROTO_ERR_BAD_REQUEST] = "bad_request",
	[PROTO_ERR_VERSION_MISMATCH] = "version_mismatch",
	[PROTO_ERR_BAD_STATE] = "bad_state",
	[PROTO_ERR_NOT_FOUND] = "not_found",
	[PROTO_ERR_EXISTS] = "exists",
	[PROTO_ERR_PERMISSION] = "permission",
	[PROTO_ERR_TOO_LARGE] = "too_large",
	[PROTO_ERR_LIMIT] = "limit",
	[PROTO_ERR_IO] = "io",
	[PROTO_ERR_TIMEOUT] = "timeout",
	[PROTO_ERR_CANCELLED] = "cancelled",
	[PROTO_ERR_UNSUPPORTED] = "unsupported",
	[PROTO_ERR_INTERNAL] = "internal",
};
static const struct enum_names error_code_enum = { error_code_names, COUNT(error_code_names) };

static const char *const role_names[] = {
	[PROTO_ROLE_DAEMON] = "daemon",
	[PROTO_ROLE_INSTANCE] = "instance",
};
static const struct enum_names role_enum = { role_names, COUNT(role_names) };

static const char *const state_names[] = {
	[PROTO_STATE_NEW] = "new",
	[PROTO_STATE_BOOTING] = "booting",
	[PROTO_STATE_READY] = "ready",
	[PROTO_STATE_STOPPING] = "stopping",
};
static const struct enum_names state_enum = { state_names, COUNT(state_names) };

static const char *const stream_names[] = {
	[PROTO_STREAM_STDOUT] = "stdout",
	[PROTO_STREAM_STDERR] = "stderr",
};
static const struct enum_names stream_enum = { stream_names, COUNT(stream_names) };

static const char *const fatal_names[] = {
	[PROTO_FATAL_PANIC] = "panic",
	[PROTO_FATAL_SIGNAL] = "signal",
	[PROTO_FATAL_BOOT_FAILED] = "boot_failed",
	[PROTO_FATAL_OOM] = "oom",
	[PROTO_FATAL_INTERNAL] = "internal",
};
static const struct enum_names fatal_enum = { fatal_names, COUNT(fatal_names) };

/* ---------------------------------------------------------------------------
 * Rules between fields.
 */

static int hello_check(const void *base, struct codec *c)
{
	const struct proto_hello *h = base;

	if (h->role == PROTO_ROLE_INSTANCE && h->state == PROTO_STATE_NONE)
		return codec_fail(c, "an instance's hello must say its state");
	if (h->role == PROTO_ROLE_DAEMON && (h->state != PROTO_STATE_NONE || h->instance_id))
		return codec_fail(c, "state and instance_id are for an instance's hello only");
	return 0;
}

static int network_check(const void *base, struct codec *c)
{
	const struct proto_network *n = base;
	char a[INET6_ADDRSTRLEN + 8], b[INET6_ADDRSTRLEN + 8];

	if ((n->fd >= 0) == (n->interface != NULL))
		return codec_fail(c, "exactly one of fd and interface is required");
	if (n->gateway4.family) {
		if (!n->ipv4.family)
			return codec_fail(c, "gateway4 without ipv4");
		if (!value_cidr_contains(&n->ipv4, &n->gateway4)) {
			value_format_ip(&n->gateway4, a, sizeof(a));
			value_format_cidr(&n->ipv4, b, sizeof(b));
			return codec_fail(c, "gateway4 %s is outside ipv4 %s", a, b);
		}
	}
	if (n->gateway6.family) {
		static const struct proto_cidr link_local = { .family = AF_INET6,
							      .addr = { 0xfe, 0x80 },
							      .prefix = 10 };

		if (!n->ipv6.family)
			return codec_fail(c, "gateway6 without ipv6");
		/* An IPv6 router is usually reached at its link-local address. */
		if (!value_cidr_contains(&n->ipv6, &n->gateway6) &&
		    !value_cidr_contains(&link_local, &n->gateway6)) {
			value_format_ip(&n->gateway6, a, sizeof(a));
			value_format_cidr(&n->ipv6, b, sizeof(b));
			return codec_fail(c, "gateway6 %s is neither link-local nor inside ipv6 %s",
					  a, b);
		}
	}
	return 0;
}

static int disk_check(const void *base, struct codec *c)
{
	const struct proto_disk *d = base;

	if ((d->fd >= 0) == (d->path != NULL))
		return codec_fail(c, "exactly one of fd and path is required");
	return 0;
}

static int configure_check(const void *base, struct codec *c)
{
	const struct proto_configure *cf = base;
	size_t i, j;

	for (i = 0; i < cf->ndisks; i++)
		for (j = 0; j < i; j++)
			if (strcmp(cf->disks[i].mount_point, cf->disks[j].mount_point) == 0)
				return codec_fail(c, "disks %zu and %zu share a mount_point", j, i);
	if (cf->keep_on_supervisor_exit && cf->adopt_listen_fd < 0)
		return codec_fail(c, "keep_on_supervisor_exit needs adopt_listen_fd, the socket "
				     "a restarted daemon reconnects through");
	if (!cf->keep_on_supervisor_exit && cf->adopt_listen_fd >= 0)
		return codec_fail(c, "adopt_listen_fd without keep_on_supervisor_exit");
	if (cf->limits.host_memory_mib && cf->limits.host_memory_mib < cf->memory_mib)
		return codec_fail(c, "limits.host_memory_mib %u is below memory_mib %u",
				  cf->limits.host_memory_mib, cf->memory_mib);
	return 0;
}

static int file_chunk_check(const void *base, struct codec *c)
{
	const struct proto_file_chunk *ch = base;

	if (ch->offset + ch->data.len > PROTO_FILE_SIZE_MAX)
		return codec_fail(c, "chunk ends past %llu bytes",
				  (unsigned long long)PROTO_FILE_SIZE_MAX);
	return 0;
}

static int exec_check(const void *base, struct codec *c)
{
	const struct proto_exec *e = base;
	size_t total = 0, i;

	if (!e->argv[0][0])
		return codec_fail(c, "argv[0] is empty");
	for (i = 0; i < e->argc; i++)
		total += strlen(e->argv[i]) + 1;
	for (i = 0; e->has_env && i < e->nenv; i++)
		total += strlen(e->env[i]) + 1;
	if (total > PROTO_EXEC_STRINGS_MAX)
		return codec_fail(c, "argv and env take %zu bytes, at most %d", total,
				  PROTO_EXEC_STRINGS_MAX);
	if (e->stdin_data.data && e->stdin_stream)
		return codec_fail(c, "stdin and stdin_stream exclude each other");
	return 0;
}

static int exec_input_check(const void *base, struct codec *c)
{
	const struct proto_exec_input *in = base;

	if (!in->data.data && !in->eof)
		return codec_fail(c, "neither data nor eof");
	return 0;
}

static int exec_output_check(const void *base, struct codec *c)
{
	const struct proto_exec_output *out = base;

	if (out->offset + out->data.len > PROTO_OUTPUT_CAP_MAX)
		return codec_fail(c, "output ends past %llu bytes",
				  (unsigned long long)PROTO_OUTPUT_CAP_MAX);
	return 0;
}

static int exec_exit_check(const void *base, struct codec *c)
{
	const struct proto_exec_exit *x = base;

	if ((x->exit_code >= 0) == (x->signal >= 0))
		return codec_fail(c, "exactly one of exit_code and signal is required");
	if (x->timed_out && x->signal < 0)
		return codec_fail(c, "a job that timed out was killed by a signal");
	return 0;
}

static int fatal_check(const void *base, struct codec *c)
{
	const struct proto_fatal *f = base;

	if ((f->reason == PROTO_FATAL_SIGNAL) != (f->signal >= 0))
		return codec_fail(c, "signal is required with reason 'signal' and only there");
	return 0;
}

/* ---------------------------------------------------------------------------
 * The schemas, in the order of PROTOCOL.md.
 */

static const struct field empty_fields[1];
static const struct schema empty_schema = { .name = "empty", .fields = empty_fields };

static const struct field error_fields[] = {
	ENUM("code", struct proto_error, code, P_REQUIRED, error_code_enum),
	STR("message", struct proto_error, message, P_REQUIRED, C_TEXT, 1, PROTO_TEXT_MAX, NULL),
};
SCHEMA(error_schema, "error", error_fields, NULL);

static const struct field hello_fields[] = {
	U32("version", struct proto_hello, version, P_REQUIRED, 1, PROTO_VERSION_MAX, 0),
	ENUM("role", struct proto_hello, role, P_REQUIRED, role_enum),
	STR("software", struct proto_hello, software, P_OMIT, C_PRINT, 1, PROTO_SOFTWARE_MAX, NULL),
	STR("instance_id", struct proto_hello, instance_id, P_OMIT, C_ID, 1, PROTO_INSTANCE_ID_MAX,
	    NULL),
	ENUM("state", struct proto_hello, state, P_OMIT, state_enum),
};
SCHEMA(hello_schema, "hello", hello_fields, hello_check);

static const struct field network_fields[] = {
	FD("fd", struct proto_network, fd),
	STR("interface", struct proto_network, interface, P_OMIT, C_IFNAME, 1, PROTO_IFNAME_MAX,
	    NULL),
	MAC("mac", struct proto_network, mac),
	CIDR("ipv4", struct proto_network, ipv4, P_OMIT, C_IPV4),
	CIDR("ipv6", struct proto_network, ipv6, P_OMIT, C_IPV6),
	IP("gateway4", struct proto_network, gateway4, P_OMIT, C_IPV4),
	IP("gateway6", struct proto_network, gateway6, P_OMIT, C_IPV6),
	IP_ARRAY("dns", struct proto_network, dns, ndns, P_DEFAULT, 0, PROTO_DNS_MAX, C_IPANY),
	U32("mtu", struct proto_network, mtu, P_DEFAULT, 68, 65535, 1500),
	BOOL("offloads", struct proto_network, offloads, P_DEFAULT, true),
};
SCHEMA(network_schema, "network", network_fields, network_check);

static const struct field disk_fields[] = {
	FD("fd", struct proto_disk, fd),
	STR("path", struct proto_disk, path, P_OMIT, C_HPATH, 1, PROTO_PATH_MAX, NULL),
	BOOL("read_only", struct proto_disk, read_only, P_DEFAULT, false),
	STR("mount_point", struct proto_disk, mount_point, P_REQUIRED, C_MOUNT, 1, PROTO_PATH_MAX,
	    NULL),
	STR("fstype", struct proto_disk, fstype, P_DEFAULT, C_FSTYPE, 1, PROTO_FSTYPE_MAX, "ext4"),
};
SCHEMA(disk_schema, "disk", disk_fields, disk_check);

static const struct field limits_fields[] = {
	U32("max_jobs", struct proto_limits, max_jobs, P_DEFAULT, 1, PROTO_JOBS_MAX, 16),
	U32("max_processes", struct proto_limits, max_processes, P_DEFAULT, 16, 65536, 1024),
	U32("max_open_files", struct proto_limits, max_open_files, P_DEFAULT, 64, 1048576, 4096),
	U32("host_memory_mib", struct proto_limits, host_memory_mib, P_DEFAULT, 0, 1048576, 0),
};
SCHEMA(limits_schema, "limits", limits_fields, NULL);

static const struct field configure_fields[] = {
	STR("instance_id", struct proto_configure, instance_id, P_REQUIRED, C_ID, 1,
	    PROTO_INSTANCE_ID_MAX, NULL),
	U32("memory_mib", struct proto_configure, memory_mib, P_REQUIRED, PROTO_MEMORY_MIB_MIN,
	    PROTO_MEMORY_MIB_MAX, 0),
	STR("hostname", struct proto_configure, hostname, P_DEFAULT, C_HOSTNAME, 1,
	    PROTO_HOSTNAME_MAX, "shoal"),
	OBJ_OPT("network", struct proto_configure, network, has_network, network_schema),
	OBJ_ARRAY("disks", struct proto_configure, disks, ndisks, P_DEFAULT, 0, PROTO_DISKS_MAX,
		  disk_schema),
	OBJ("limits", struct proto_configure, limits, P_DEFAULT, limits_schema),
	STR("kernel_cmdline", struct proto_configure, kernel_cmdline, P_OMIT, C_PRINT, 1,
	    PROTO_CMDLINE_MAX, NULL),
	BOOL("keep_on_supervisor_exit", struct proto_configure, keep_on_supervisor_exit, P_REQUIRED,
	     false),
	FD("adopt_listen_fd", struct proto_configure, adopt_listen_fd),
	U32("adopt_wait_ms", struct proto_configure, adopt_wait_ms, P_DEFAULT, 1000,
	    PROTO_TIMEOUT_MS_MAX, 300000),
};
SCHEMA(configure_schema, "configure", configure_fields, configure_check);

static const struct field timings_fields[] = {
	U64("total_us", struct proto_boot_timings, total_us, P_REQUIRED, 0, PROTO_COUNTER_MAX, 0),
	U64("config_wait_us", struct proto_boot_timings, config_wait_us, P_REQUIRED, 0,
	    PROTO_COUNTER_MAX, 0),
	U64("kernel_boot_us", struct proto_boot_timings, kernel_boot_us, P_REQUIRED, 0,
	    PROTO_COUNTER_MAX, 0),
	U64("rootfs_us", struct proto_boot_timings, rootfs_us, P_REQUIRED, 0, PROTO_COUNTER_MAX, 0),
	U64("network_us", struct proto_boot_timings, network_us, P_REQUIRED, 0, PROTO_COUNTER_MAX,
	    0),
	U64("disks_us", struct proto_boot_timings, disks_us, P_REQUIRED, 0, PROTO_COUNTER_MAX, 0),
	U64("lockdown_us", struct proto_boot_timings, lockdown_us, P_REQUIRED, 0, PROTO_COUNTER_MAX,
	    0),
};
SCHEMA(timings_schema, "timings", timings_fields, NULL);

static const struct field ready_fields[] = {
	OBJ("timings", struct proto_ready, timings, P_REQUIRED, timings_schema),
	STR("kernel_release", struct proto_ready, kernel_release, P_REQUIRED, C_PRINT, 1,
	    PROTO_RELEASE_MAX, NULL),
};
SCHEMA(ready_schema, "ready", ready_fields, NULL);

static const struct field file_put_fields[] = {
	STR("path", struct proto_file_put, path, P_REQUIRED, C_IPATH, 1, PROTO_PATH_MAX, NULL),
	U64("size", struct proto_file_put, size, P_REQUIRED, 0, PROTO_FILE_SIZE_MAX, 0),
	U32("mode", struct proto_file_put, mode, P_DEFAULT, 0, 07777, 0644),
	BOOL("parents", struct proto_file_put, parents, P_DEFAULT, false),
};
SCHEMA(file_put_schema, "file_put", file_put_fields, NULL);

static const struct field file_get_fields[] = {
	STR("path", struct proto_file_get, path, P_REQUIRED, C_IPATH, 1, PROTO_PATH_MAX, NULL),
};
SCHEMA(file_get_schema, "file_get", file_get_fields, NULL);

static const struct field file_chunk_fields[] = {
	U64("stream", struct proto_file_chunk, stream, P_REQUIRED, 1, PROTO_ID_MAX, 0),
	U64("offset", struct proto_file_chunk, offset, P_REQUIRED, 0, PROTO_FILE_SIZE_MAX, 0),
	BYTES("data", struct proto_file_chunk, data, P_REQUIRED, 1, PROTO_CHUNK_MAX),
};
SCHEMA(file_chunk_schema, "file_chunk", file_chunk_fields, file_chunk_check);

static const struct field file_end_fields[] = {
	U64("stream", struct proto_file_end, stream, P_REQUIRED, 1, PROTO_ID_MAX, 0),
	OBJ_OPT("error", struct proto_file_end, error, has_error, error_schema),
};
SCHEMA(file_end_schema, "file_end", file_end_fields, NULL);

static const struct field console_fields[] = {
	U64("cursor", struct proto_console, cursor, P_DEFAULT, 0, PROTO_COUNTER_MAX, 0),
	U32("max_bytes", struct proto_console, max_bytes, P_DEFAULT, 1, PROTO_CONSOLE_MAX,
	    PROTO_CONSOLE_MAX),
};
SCHEMA(console_schema, "console", console_fields, NULL);

static const struct field exec_fields[] = {
	STR_ARRAY("argv", struct proto_exec, argv, argc, P_REQUIRED, 1, PROTO_ARGV_MAX, C_ARG, 0,
		  PROTO_ARG_MAX),
	/* env: absent (has_env false) and [] are different environments. */
	{ .name = "env",
	  .kind = K_STR_ARRAY,
	  .presence = P_OMIT,
	  .off = OFF(struct proto_exec, env, CAPACITY(struct proto_exec, env) >= PROTO_ENV_MAX),
	  .count_off = offsetof(struct proto_exec, nenv),
	  .flags = F_HAS,
	  .has_off = offsetof(struct proto_exec, has_env),
	  .min = 0,
	  .max = PROTO_ENV_MAX,
	  .cls = C_ENV,
	  .emin = 2,
	  .emax = PROTO_ARG_MAX },
	STR("cwd", struct proto_exec, cwd, P_DEFAULT, C_IPATH, 1, PROTO_PATH_MAX, "/"),
	BYTES("stdin", struct proto_exec, stdin_data, P_OMIT, 0, PROTO_STDIN_INLINE_MAX),
	BOOL("stdin_stream", struct proto_exec, stdin_stream, P_DEFAULT, false),
	U32("timeout_ms", struct proto_exec, timeout_ms, P_DEFAULT, 1, PROTO_TIMEOUT_MS_MAX, 60000),
	U64("output_cap", struct proto_exec, output_cap, P_DEFAULT, 0, PROTO_OUTPUT_CAP_MAX,
	    16 << 20),
};
SCHEMA(exec_schema, "exec", exec_fields, exec_check);

static const struct field exec_input_fields[] = {
	U64("job", struct proto_exec_input, job, P_REQUIRED, 1, PROTO_ID_MAX, 0),
	BYTES("data", struct proto_exec_input, data, P_OMIT, 0, PROTO_CHUNK_MAX),
	BOOL("eof", struct proto_exec_input, eof, P_DEFAULT, false),
};
SCHEMA(exec_input_schema, "exec_input", exec_input_fields, exec_input_check);

static const struct field exec_output_fields[] = {
	U64("job", struct proto_exec_output, job, P_REQUIRED, 1, PROTO_ID_MAX, 0),
	ENUM("stream", struct proto_exec_output, stream, P_REQUIRED, stream_enum),
	U64("offset", struct proto_exec_output, offset, P_REQUIRED, 0, PROTO_OUTPUT_CAP_MAX, 0),
	BYTES("data", struct proto_exec_output, data, P_REQUIRED, 1, PROTO_CHUNK_MAX),
};
SCHEMA(exec_output_schema, "exec_output", exec_output_fields, exec_output_check);

static const struct field exec_exit_fields[] = {
	U64("job", struct proto_exec_exit, job, P_REQUIRED, 1, PROTO_ID_MAX, 0),
	INT("exit_code", struct proto_exec_exit, exit_code, P_OMIT, 0, 255, -1),
	INT("signal", struct proto_exec_exit, signal, P_OMIT, 1, PROTO_SIGNAL_MAX, -1),
	BOOL("timed_out", struct proto_exec_exit, timed_out, P_DEFAULT, false),
	U64("duration_us", struct proto_exec_exit, duration_us, P_REQUIRED, 0, PROTO_COUNTER_MAX,
	    0),
	U64("stdout_bytes", struct proto_exec_exit, stdout_bytes, P_REQUIRED, 0, PROTO_COUNTER_MAX,
	    0),
	U64("stderr_bytes", struct proto_exec_exit, stderr_bytes, P_REQUIRED, 0, PROTO_COUNTER_MAX,
	    0),
	BOOL("stdout_truncated", struct proto_exec_exit, stdout_truncated, P_DEFAULT, false),
	BOOL("stderr_truncated", struct proto_exec_exit, stderr_truncated, P_DEFAULT, false),
};
SCHEMA(exec_exit_schema, "exec_exit", exec_exit_fields, exec_exit_check);

static const struct field exec_signal_fields[] = {
	U64("job", struct proto_exec_signal, job, P_REQUIRED, 1, PROTO_ID_MAX, 0),
	INT("signal", struct proto_exec_signal, signal, P_DEFAULT, 1, PROTO_SIGNAL_MAX, 15),
	BOOL("group", struct proto_exec_signal, group, P_DEFAULT, true),
};
SCHEMA(exec_signal_schema, "exec_signal", exec_signal_fields, NULL);

static const struct field shutdown_fields[] = {
	U32("timeout_ms", struct proto_shutdown, timeout_ms, P_DEFAULT, 0, 600000, 10000),
};
SCHEMA(shutdown_schema, "shutdown", shutdown_fields, NULL);

static const struct field adopt_fields[] = {
	STR("instance_id", struct proto_adopt, instance_id, P_REQUIRED, C_ID, 1,
	    PROTO_INSTANCE_ID_MAX, NULL),
};
SCHEMA(adopt_schema, "adopt", adopt_fields, NULL);

static const struct field fatal_fields[] = {
	ENUM("reason", struct proto_fatal, reason, P_REQUIRED, fatal_enum),
	INT("signal", struct proto_fatal, signal, P_OMIT, 1, PROTO_SIGNAL_MAX, -1),
	STR("message", struct proto_fatal, message, P_REQUIRED, C_TEXT, 1, PROTO_TEXT_MAX, NULL),
};
SCHEMA(fatal_schema, "fatal", fatal_fields, fatal_check);

/* Results of ok replies. */

static const struct field file_put_result_fields[] = {
	U64("size", struct proto_file_put_result, size, P_REQUIRED, 0, PROTO_FILE_SIZE_MAX, 0),
};
SCHEMA(file_put_result_schema, "result", file_put_result_fields, NULL);

static const struct field file_get_result_fields[] = {
	U64("size", struct proto_file_get_result, size, P_REQUIRED, 0, PROTO_FILE_SIZE_MAX, 0),
	U32("mode", struct proto_file_get_result, mode, P_REQUIRED, 0, 07777, 0),
};
SCHEMA(file_get_result_schema, "result", file_get_result_fields, NULL);

#define IFACE_COUNTER(n, m) U64(n, struct proto_iface_stats, m, P_REQUIRED, 0, PROTO_COUNTER_MAX, 0)
static const struct field iface_fields[] = {
	STR("name", struct proto_iface_stats, name, P_REQUIRED, C_IFNAME, 1, PROTO_IFNAME_MAX,
	    NULL),
	IFACE_COUNTER("rx_bytes", rx_bytes),
	IFACE_COUNTER("rx_packets", rx_packets),
	IFACE_COUNTER("rx_errors", rx_errors),
	IFACE_COUNTER("rx_dropped", rx_dropped),
	IFACE_COUNTER("tx_bytes", tx_bytes),
	IFACE_COUNTER("tx_packets", tx_packets),
	IFACE_COUNTER("tx_errors", tx_errors),
	IFACE_COUNTER("tx_dropped", tx_dropped),
};
SCHEMA(iface_schema, "interface", iface_fields, NULL);

static const struct field memory_fields[] = {
	U64("kernel_total_bytes", struct proto_memory_stats, kernel_total_bytes, P_REQUIRED, 0,
	    PROTO_COUNTER_MAX, 0),
	U64("kernel_free_bytes", struct proto_memory_stats, kernel_free_bytes, P_REQUIRED, 0,
	    PROTO_COUNTER_MAX, 0),
	U64("host_rss_bytes", struct proto_memory_stats, host_rss_bytes, P_REQUIRED, 0,
	    PROTO_COUNTER_MAX, 0),
};
SCHEMA(memory_schema, "memory", memory_fields, NULL);

static const struct field stats_result_fields[] = {
	U64("uptime_us", struct proto_stats_result, uptime_us, P_REQUIRED, 0, PROTO_COUNTER_MAX, 0),
	OBJ("memory", struct proto_stats_result, memory, P_REQUIRED, memory_schema),
	OBJ_ARRAY("interfaces", struct proto_stats_result, interfaces, ninterfaces, P_DEFAULT, 0,
		  PROTO_IFACES_MAX, iface_schema),
	U32("host_threads", struct proto_stats_result, host_threads, P_REQUIRED, 0, 65536, 0),
	U32("host_syscalls_allowed", struct proto_stats_result, host_syscalls_allowed, P_REQUIRED,
	    0, 1024, 0),
	U32("jobs_running", struct proto_stats_result, jobs_running, P_REQUIRED, 0, PROTO_JOBS_MAX,
	    0),
};
SCHEMA(stats_result_schema, "result", stats_result_fields, NULL);

static const struct field console_result_fields[] = {
	STR("text", struct proto_console_result, text, P_REQUIRED, C_TEXT, 0, PROTO_CONSOLE_MAX,
	    NULL),
	U64("cursor", struct proto_console_result, cursor, P_REQUIRED, 0, PROTO_COUNTER_MAX, 0),
	U64("lost", struct proto_console_result, lost, P_REQUIRED, 0, PROTO_COUNTER_MAX, 0),
};
SCHEMA(console_result_schema, "result", console_result_fields, NULL);

static const struct field exec_result_fields[] = {
	U64("job", struct proto_exec_result, job, P_REQUIRED, 1, PROTO_ID_MAX, 0),
};
SCHEMA(exec_result_schema, "result", exec_result_fields, NULL);

static const struct field adopt_result_fields[] = {
	STR("instance_id", struct proto_adopt_result, instance_id, P_REQUIRED, C_ID, 1,
	    PROTO_INSTANCE_ID_MAX, NULL),
	ENUM("state", struct proto_adopt_result, state, P_REQUIRED, state_enum),
	U64("uptime_us", struct proto_adopt_result, uptime_us, P_REQUIRED, 0, PROTO_COUNTER_MAX, 0),
	U64_ARRAY("jobs", struct proto_adopt_result, jobs, njobs, P_DEFAULT, 0, PROTO_JOBS_MAX, 1,
		  PROTO_ID_MAX),
};
SCHEMA(adopt_result_schema, "result", adopt_result_fields, NULL);

/* ---------------------------------------------------------------------------
 * The message types: body schema, class, who may send them, and the result.
 */

enum msg_class {
	MSG_REQUEST, /* id 1..PROTO_ID_MAX, answered by ok or error */
	MSG_REPLY, /* ok: id of the request */
	MSG_ERROR, /* error: id of the request, or 0 */
	MSG_EVENT, /* no id */
};

#define FROM_DAEMON (1U << PROTO_ROLE_DAEMON)
#define FROM_INSTANCE (1U << PROTO_ROLE_INSTANCE)

struct msg_type {
	const struct schema *schema;
	enum msg_class cls;
	unsigned int senders;
	const struct schema *result; /* requests: the result of their ok reply */
};

static const struct schema *ok_result_schema(const void *base);

static const struct field ok_fields[] = {
	ENUM("request", struct proto_ok, request, P_REQUIRED, request_enum),
	{ .name = "result",
	  .kind = K_RESULT,
	  .presence = P_REQUIRED,
	  .off = offsetof(struct proto_ok, file_put),
	  .resolve = ok_result_schema },
};
SCHEMA(ok_schema, "ok", ok_fields, NULL);

static const struct msg_type msg_types[PROTO_TYPE_COUNT] = {
	[PROTO_HELLO] = { &hello_schema, MSG_EVENT, FROM_DAEMON | FROM_INSTANCE, NULL },
	[PROTO_OK] = { &ok_schema, MSG_REPLY, FROM_INSTANCE, NULL },
	[PROTO_ERROR] = { &error_schema, MSG_ERROR, FROM_DAEMON | FROM_INSTANCE, NULL },
	[PROTO_CONFIGURE] = { &configure_schema, MSG_REQUEST, FROM_DAEMON, &empty_schema },
	[PROTO_READY] = { &ready_schema, MSG_EVENT, FROM_INSTANCE, NULL },
	[PROTO_FILE_PUT] = { &file_put_schema, MSG_REQUEST, FROM_DAEMON, &file_put_result_schema },
	[PROTO_FILE_GET] = { &file_get_schema, MSG_REQUEST, FROM_DAEMON, &file_get_result_schema },
	[PROTO_FILE_CHUNK] = { &file_chunk_schema, MSG_EVENT, FROM_DAEMON | FROM_INSTANCE, NULL },
	[PROTO_FILE_END] = { &file_end_schema, MSG_EVENT, FROM_DAEMON | FROM_INSTANCE, NULL },
	[PROTO_STATS] = { &empty_schema, MSG_REQUEST, FROM_DAEMON, &stats_result_schema },
	[PROTO_CONSOLE] = { &console_schema, MSG_REQUEST, FROM_DAEMON, &console_result_schema },
	[PROTO_EXEC] = { &exec_schema, MSG_REQUEST, FROM_DAEMON, &exec_result_schema },
	[PROTO_EXEC_INPUT] = { &exec_input_schema, MSG_EVENT, FROM_DAEMON, NULL },
	[PROTO_EXEC_OUTPUT] = { &exec_output_schema, MSG_EVENT, FROM_INSTANCE, NULL },
	[PROTO_EXEC_EXIT] = { &exec_exit_schema, MSG_EVENT, FROM_INSTANCE, NULL },
	[PROTO_EXEC_SIGNAL] = { &exec_signal_schema, MSG_REQUEST, FROM_DAEMON, &empty_schema },
	[PROTO_SHUTDOWN] = { &shutdown_schema, MSG_REQUEST, FROM_DAEMON, &empty_schema },
	[PROTO_ADOPT] = { &adopt_schema, MSG_REQUEST, FROM_DAEMON, &adopt_result_schema },
	[PROTO_FATAL] = { &fatal_schema, MSG_EVENT, FROM_INSTANCE, NULL },
};

static const struct msg_type *msg_type_get(enum proto_type type)
{
	if ((int)type <= PROTO_NONE || type >= PROTO_TYPE_COUNT)
		return NULL;
	return &msg_types[type];
}

static const struct schema *ok_result_schema(const void *base)
{
	const struct msg_type *t = msg_type_get(((const struct proto_ok *)base)->request);

	return t && t->cls == MSG_REQUEST ? t->result : NULL;
}

/* Every union member starts at the same address; this is where bodies live. */
static void *msg_body(struct proto_msg *msg)
{
	return &msg->hello;
}

/* ---------------------------------------------------------------------------
 * Entry points.
 */

void proto_init(void)
{
	/* Seeds the hash function now, while /dev/urandom can still be opened. */
	json_object_seed(0);
}

void proto_msg_init(struct proto_msg *msg, enum proto_type type, uint64_t id)
{
	const struct msg_type *t = msg_type_get(type);

	memset(msg, 0, sizeof(*msg));
	msg->type = type;
	msg->id = id;
	if (t)
		schema_defaults(t->schema, msg_body(msg));
}

void proto_msg_init_ok(struct proto_msg *msg, uint64_t id, enum proto_type request)
{
	const struct schema *result;

	proto_msg_init(msg, PROTO_OK, id);
	msg->ok.request = request;
	result = ok_result_schema(&msg->ok);
	if (result)
		schema_defaults(result, &msg->ok.file_put);
}

void proto_msg_free(struct proto_msg *msg)
{
	size_t i;

	if (!msg)
		return;
	json_decref(msg->priv_json);
	for (i = 0; i < COUNT(msg->priv_bufs); i++)
		free(msg->priv_bufs[i]);
	memset(msg, 0, sizeof(*msg));
}

/*
 * Refuse nesting deeper than any message has before jansson's recursive parser
 * sees it, so hostile input cannot spend stack or time on deep structures. The
 * scan only needs to find strings; malformed text is jansson's to report.
 */
static int check_depth(const char *buf, size_t len, struct shoal_error *err)
{
	bool in_string = false, escaped = false;
	int depth = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		char ch = buf[i];

		if (in_string) {
			if (escaped)
				escaped = false;
			else if (ch == '\\')
				escaped = true;
			else if (ch == '"')
				in_string = false;
		} else if (ch == '"') {
			in_string = true;
		} else if (ch == '{' || ch == '[') {
			if (++depth > PROTO_DEPTH_MAX)
				return shoal_error_set(
					err, 0, "message nests deeper than %d levels (byte %zu)",
					PROTO_DEPTH_MAX, i);
		} else if (ch == '}' || ch == ']') {
			depth--;
		}
	}
	return 0;
}

/* The id rules of the envelope: requests and ok need one, errors may have 0, events none. */
static int check_id(const struct msg_type *t, const json_t *v, struct codec *c)
{
	size_t mark = codec_push(c, "id");
	int r = 0;

	if (t->cls == MSG_EVENT) {
		if (v)
			r = codec_fail(c, "events carry no id");
	} else if (!v) {
		r = codec_fail(c, "missing");
	} else if (!json_is_integer(v)) {
		r = codec_fail(c, "expected an integer");
	} else if (json_integer_value(v) < (t->cls == MSG_ERROR ? 0 : 1) ||
		   json_integer_value(v) > (json_int_t)PROTO_ID_MAX) {
		r = codec_fail(c, "%lld is out of range %d..%llu", (long long)json_integer_value(v),
			       t->cls == MSG_ERROR ? 0 : 1, (unsigned long long)PROTO_ID_MAX);
	}
	if (r == 0)
		codec_pop(c, mark);
	return r;
}

/*
 * A hello's version is read before anything else in it: a newer peer may send
 * fields this side has never heard of, and must still get a version_mismatch
 * answer rather than "unknown field".
 */
static int check_hello_version(const json_t *root, struct proto_msg *out, struct codec *c)
{
	const json_t *v = json_object_get(root, "version");
	json_int_t n;

	if (!v || !json_is_integer(v))
		return 0; /* the schema reports it */
	n = json_integer_value(v);
	if (n < 1 || n > PROTO_VERSION_MAX || n == PROTO_VERSION)
		return 0;
	out->hello.version = (uint32_t)n;
	return shoal_error_set(c->err, EPROTONOSUPPORT,
			       "peer speaks protocol version %lld, this side speaks version %d",
			       (long long)n, PROTO_VERSION);
}

static int decode_envelope(const char *buf, size_t len, struct proto_msg *out, struct codec *c)
{
	const struct msg_type *t;
	json_error_t jerr;
	json_t *root, *v;
	char ex[160];
	size_t i;
	int r;

	if (!buf || !len)
		return shoal_error_set(c->err, 0, "empty message");
	if (len > PROTO_MSG_MAX)
		return shoal_error_set(c->err, EMSGSIZE, "message of %zu bytes, at most %d", len,
				       PROTO_MSG_MAX);
	r = check_depth(buf, len, c->err);
	if (r < 0)
		return r;
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		/* jansson quotes the input near the error: keep it printable ASCII for replies. */
		for (i = 0; jerr.text[i] && i < sizeof(jerr.text); i++)
			if ((unsigned char)jerr.text[i] < 0x20 ||
			    (unsigned char)jerr.text[i] > 0x7e)
				jerr.text[i] = '?';
		return shoal_error_set(c->err, 0, "malformed JSON at byte %d: %s", jerr.position,
				       jerr.text);
	}
	out->priv_json = root;
	if (!json_is_object(root))
		return shoal_error_set(c->err, 0, "message: expected a JSON object");

	/* The id first, so that even a message refused below can be answered. */
	v = json_object_get(root, "id");
	if (v && json_is_integer(v) && json_integer_value(v) >= 1 &&
	    json_integer_value(v) <= (json_int_t)PROTO_ID_MAX)
		out->id = (uint64_t)json_integer_value(v);

	v = json_object_get(root, "type");
	if (!v)
		return shoal_error_set(c->err, 0, "message: missing field 'type'");
	if (!json_is_string(v))
		return shoal_error_set(c->err, 0, "type: expected a string");
	for (i = 1; i < PROTO_TYPE_COUNT; i++)
		if (strcmp(type_names[i], json_string_value(v)) == 0 &&
		    strlen(type_names[i]) == json_string_length(v))
			break;
	if (i == PROTO_TYPE_COUNT)
		return shoal_error_set(c->err, 0, "type: unknown message type '%s'",
				       value_excerpt(json_string_value(v), json_string_length(v),
						     48, ex, sizeof(ex)));
	out->type = (enum proto_type)i;
	t = msg_type_get(out->type);
	codec_push(c, type_names[i]);

	if (out->type == PROTO_HELLO) {
		r = check_hello_version(root, out, c);
		if (r < 0)
			return r;
	}
	r = check_id(t, json_object_get(root, "id"), c);
	if (r < 0)
		return r;
	schema_defaults(t->schema, msg_body(out));
	r = schema_decode(t->schema, root, msg_body(out), true, c);
	if (r < 0)
		return r;
	return fd_refs_check(&c->fds, c);
}

int proto_decode(const char *buf, size_t len, struct proto_msg *out, struct shoal_error *err)
{
	struct codec c = { .err = err, .msg = out };
	enum proto_type type;
	uint32_t version;
	uint64_t id;
	int r;

	memset(out, 0, sizeof(*out));
	r = decode_envelope(buf, len, out, &c);
	if (r == 0)
		return 0;
	/* Keep what the caller needs to answer: type, id, and a hello's version. */
	type = out->type;
	id = out->id;
	version = type == PROTO_HELLO ? out->hello.version : 0;
	proto_msg_free(out);
	out->type = type;
	out->id = id;
	if (type == PROTO_HELLO)
		out->hello.version = version;
	return r;
}

int proto_encode(const struct proto_msg *msg, char **text, size_t *len, struct shoal_error *err)
{
	const struct msg_type *t = msg_type_get(msg->type);
	struct codec c = { .err = err };
	json_t *root, *id = NULL;
	char *out;
	int r;

	*text = NULL;
	*len = 0;
	if (!t)
		return shoal_error_set(err, 0, "encode: no message type %d", (int)msg->type);
	codec_push(&c, type_names[msg->type]);
	if (t->cls == MSG_EVENT && msg->id)
		return codec_fail(&c, "events carry no id");
	if (t->cls != MSG_EVENT) {
		if (msg->id > PROTO_ID_MAX || (t->cls != MSG_ERROR && msg->id == 0))
			return codec_fail(&c, "id %llu is out of range %d..%llu",
					  (unsigned long long)msg->id, t->cls == MSG_ERROR ? 0 : 1,
					  (unsigned long long)PROTO_ID_MAX);
		id = json_integer((json_int_t)msg->id);
	}

	root = json_object();
	if (!root)
		json_decref(id);
	if (!root ||
	    json_object_set_new_nocheck(root, "type", json_string(type_names[msg->type])) ||
	    (id && json_object_set_new_nocheck(root, "id", id))) {
		json_decref(root);
		return shoal_error_set(err, ENOMEM, "encode %s", type_names[msg->type]);
	}
	r = schema_encode(t->schema, &msg->hello, (void **)&root, &c);
	if (r == 0)
		r = fd_refs_check(&c.fds, &c);
	if (r < 0) {
		json_decref(root);
		return r;
	}
	out = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	if (!out)
		return shoal_error_set(err, ENOMEM, "encode %s", type_names[msg->type]);
	if (strlen(out) > PROTO_MSG_MAX) {
		r = shoal_error_set(err, EMSGSIZE, "encode %s: %zu bytes of JSON, at most %d",
				    type_names[msg->type], strlen(out), PROTO_MSG_MAX);
		free(out);
		return r;
	}
	*text = out;
	*len = strlen(out);
	return 0;
}

int proto_encode_error(uint64_t id, enum proto_error_code code, const char *message, char **text,
		       size_t *len, struct shoal_error *err)
{
	char clean[PROTO_TEXT_MAX + 1];
	struct proto_msg msg;

	proto_msg_init(&msg, PROTO_ERROR, id);
	msg.error.code = code;
	if (message)
		value_utf8_sanitize(message, strlen(message), clean, sizeof(clean));
	else
		clean[0] = '\0';
	msg.error.message = clean[0] ? clean : proto_error_code_name(code);
	return proto_encode(&msg, text, len, err);
}

size_t proto_msg_nfds(const struct proto_msg *msg)
{
	const struct msg_type *t = msg_type_get(msg->type);
	struct codec c = { .err = NULL };

	if (!t)
		return 0;
	schema_collect_fds(t->schema, &msg->hello, &c);
	return c.fds.count;
}

int proto_check_peer(const struct proto_msg *msg, enum proto_role sender, struct shoal_error *err)
{
	const struct msg_type *t = msg_type_get(msg->type);
	const char *who = proto_role_name(sender);

	if (!t)
		return shoal_error_set(err, EPROTO, "message of no known type from the %s", who);
	if (!(t->senders & (1U << sender)))
		return shoal_error_set(err, EPROTO, "the %s may not send %s", who,
				       type_names[msg->type]);
	if (msg->type == PROTO_HELLO && msg->hello.role != sender)
		return shoal_error_set(err, EPROTO, "hello from the %s says role '%s'", who,
				       proto_role_name(msg->hello.role));
	if (msg->type == PROTO_ERROR && sender == PROTO_ROLE_DAEMON && msg->id)
		return shoal_error_set(
			err, EPROTO,
			"the daemon answers no requests, yet sent an error with id %llu",
			(unsigned long long)msg->id);
	return 0;
}

static const char *name_or_unknown(const struct enum_names *e, int v)
{
	if (v < 0 || (size_t)v >= e->count || !e->names[v])
		return "?";
	return e->names[v];
}

const char *proto_type_name(enum proto_type type)
{
	return name_or_unknown(&type_enum, (int)type);
}

const char *proto_error_code_name(enum proto_error_code code)
{
	return name_or_unknown(&error_code_enum, (int)code);
}

const char *proto_state_name(enum proto_state state)
{
	return name_or_unknown(&state_enum, (int)state);
}

const char *proto_role_name(enum proto_role role)
{
	return name_or_unknown(&role_enum, (int)role);
}

/* errno values and the wire codes they map to; the first match for a code is its errno. */
static const struct {
	int err;
	enum proto_error_code code;
} errno_codes[] = {
	{ EINVAL, PROTO_ERR_BAD_REQUEST },
	{ EBADMSG, PROTO_ERR_BAD_REQUEST },
	{ EPROTO, PROTO_ERR_BAD_REQUEST },
	{ ENOTDIR, PROTO_ERR_BAD_REQUEST },
	{ EISDIR, PROTO_ERR_BAD_REQUEST },
	{ ENAMETOOLONG, PROTO_ERR_BAD_REQUEST },
	{ EPROTONOSUPPORT, PROTO_ERR_VERSION_MISMATCH },
	{ EALREADY, PROTO_ERR_BAD_STATE },
	{ EINPROGRESS, PROTO_ERR_BAD_STATE },
	{ ENOTCONN, PROTO_ERR_BAD_STATE },
	{ ENOENT, PROTO_ERR_NOT_FOUND },
	{ ESRCH, PROTO_ERR_NOT_FOUND },
	{ ECHILD, PROTO_ERR_NOT_FOUND },
	{ EEXIST, PROTO_ERR_EXISTS },
	{ ENOTEMPTY, PROTO_ERR_EXISTS },
	{ EACCES, PROTO_ERR_PERMISSION },
	{ EPERM, PROTO_ERR_PERMISSION },
	{ EROFS, PROTO_ERR_PERMISSION },
	{ EMSGSIZE, PROTO_ERR_TOO_LARGE },
	{ EFBIG, PROTO_ERR_TOO_LARGE },
	{ E2BIG, PROTO_ERR_TOO_LARGE },
	{ EAGAIN, PROTO_ERR_LIMIT },
	{ EBUSY, PROTO_ERR_LIMIT },
	{ EMFILE, PROTO_ERR_LIMIT },
	{ ENFILE, PROTO_ERR_LIMIT },
	{ ENOSPC, PROTO_ERR_LIMIT },
	{ EDQUOT, PROTO_ERR_LIMIT },
	{ EIO, PROTO_ERR_IO },
	{ EPIPE, PROTO_ERR_IO },
	{ ECONNRESET, PROTO_ERR_IO },
	{ ETIMEDOUT, PROTO_ERR_TIMEOUT },
	{ ECANCELED, PROTO_ERR_CANCELLED },
	{ EOPNOTSUPP, PROTO_ERR_UNSUPPORTED },
	{ ENOSYS, PROTO_ERR_UNSUPPORTED },
	{ ENOMEM, PROTO_ERR_LIMIT },
};

enum proto_error_code proto_error_code_from_errno(int err)
{
	size_t i;

	if (err < 0)
		err = -err;
	for (i = 0; i < COUNT(errno_codes); i++)
		if (errno_codes[i].err == err)
			return errno_codes[i].code;
	return PROTO_ERR_INTERNAL;
}

int proto_error_code_to_errno(enum proto_error_code code)
{
	size_t i;

	for (i = 0; i < COUNT(errno_codes); i++)
		if (errno_codes[i].code == code)
			return errno_codes[i].err;
	/* internal, and codes this side does not know: the peer failed in its own way. */
	return EIO;
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internal to the protocol codec: messages are described as data (a schema per
 * JSON object: its fields, their kinds, limits, defaults and where they live in
 * the C struct), and one engine walks a schema to decode, encode, fill defaults
 * and collect descriptor indexes. Strictness then lives in one place: every
 * object of every message gets the same unknown-field, type, length and range
 * checks, and a new field cannot be added without stating its limits. Rules
 * that span fields (exactly one of fd and interface, a gateway inside its
 * subnet) are the schema's check function, run after its fields.
 *
 * Not installed, not for the daemon or the instance: they use proto.h.
 */
#ifndef SHOAL_API_PROTO_SCHEMA_H
#define SHOAL_API_PROTO_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/error.h"
#include "api/proto.h"

enum field_kind {
	K_U64, /* uint64_t */
	K_U32, /* uint32_t */
	K_INT, /* int */
	K_BOOL, /* bool */
	K_ENUM, /* an enum (int-sized) spelled as a string from a name table */
	K_STR, /* const char *, checked by its string class */
	K_BYTES, /* struct proto_bytes, base64 on the wire */
	K_FD, /* int index into the message's descriptors; -1 when absent */
	K_IP, /* struct proto_ip */
	K_CIDR, /* struct proto_cidr */
	K_MAC, /* unsigned char[6] */
	K_OBJ, /* a nested struct described by .sub */
	K_OBJ_ARRAY, /* an inline array of nested structs, count at .count_off */
	K_STR_ARRAY, /* const char *[], count at .count_off */
	K_U64_ARRAY, /* uint64_t[], count at .count_off */
	K_IP_ARRAY, /* struct proto_ip[], count at .count_off */
	K_RESULT, /* the result object of an ok reply: schema chosen by .resolve */
};

enum field_presence {
	P_REQUIRED, /* must be present */
	P_DEFAULT, /* may be absent: then .def / .sdef (arrays: empty); always encoded */
	P_OMIT, /* may be absent: then a sentinel (.def, NULL, -1, family 0, has = false),
		 * and the encoder leaves it out while it holds the sentinel */
};

/* How a string is checked (K_STR, K_STR_ARRAY) or which address family is allowed. */
enum str_class {
	C_TEXT, /* any UTF-8 (jansson checks it) without NUL */
	C_PRINT, /* printable ASCII */
	C_ID, /* instance id: [A-Za-z0-9_.-], starting with a letter or digit */
	C_HOSTNAME, /* [A-Za-z0-9.-], labels not empty, no '-' or '.' at either end */
	C_IFNAME, /* printable ASCII without '/', ':', space; not "." or ".." */
	C_FSTYPE, /* [a-z0-9] */
	C_IPATH, /* canonical absolute path inside the instance */
	C_HPATH, /* canonical absolute host path (same rules) */
	C_MOUNT, /* instance path that is not "/" */
	C_ENV, /* "NAME=value" with a non-empty NAME */
	C_ARG, /* anything without NUL */
	C_IPV4, /* addresses: AF_INET only */
	C_IPV6, /* AF_INET6 only */
	C_IPANY, /* either */
};

/* Field flag: .has_off locates a bool saying whether the field is present. */
#define F_HAS 0x1

struct codec;
struct schema;

struct enum_names {
	const char *const *names; /* indexed by value; NULL entries are not valid values */
	size_t count;
};

struct field {
	const char *name; /* as on the wire */
	unsigned char kind; /* enum field_kind */
	unsigned char presence; /* enum field_presence */
	unsigned char cls; /* enum str_class */
	unsigned char flags; /* F_* */
	size_t off; /* of the value in the struct */
	size_t count_off; /* arrays: of their size_t count */
	size_t has_off; /* F_HAS: of the bool presence flag */
	int64_t min, max; /* numbers: range; strings, bytes: length; arrays: count */
	int64_t emin, emax; /* arrays: range of each element (numbers) or its length */
	int64_t def; /* default (P_DEFAULT) or sentinel (P_OMIT) of numbers and enums */
	const char *sdef; /* default of a P_DEFAULT string */
	const struct enum_names *names; /* K_ENUM */
	const struct schema *sub; /* K_OBJ, K_OBJ_ARRAY */
	size_t elem_size; /* K_OBJ_ARRAY */
	/* K_RESULT: the result schema for the object at @base; NULL if it has none. */
	const struct schema *(*resolve)(const void *base);
};

struct schema {
	const char *name;
	const struct field *fields;
	size_t nfields;
	/* Rules between fields, run after all fields decoded or were checked for encoding. */
	int (*check)(const void *base, struct codec *c);
};

/* Descriptor indexes a message refers to: each at most once, together 0..n-1. */
struct fd_refs {
	uint32_t mask;
	size_t count;
};

/* The state of one decode or encode: where errors go and where we are. */
struct codec {
	struct shoal_error *err;
	struct proto_msg *msg; /* decoding: owner of allocated buffers */
	struct fd_refs fds;
	char path[160]; /* "configure.disks[1].mount_point", for messages */
	size_t pathlen;
};

/* The engine (proto_engine.c). @obj is a jansson json_t *, kept void * here. */
int schema_decode(const struct schema *s, const void *obj, void *base, bool top, struct codec *c);
/* Encodes into *@obj when it is an object already (the caller keeps it on failure). */
int schema_encode(const struct schema *s, const void *base, void **obj, struct codec *c);
void schema_defaults(const struct schema *s, void *base);
int schema_collect_fds(const struct schema *s, const void *base, struct codec *c);
int fd_refs_add(struct fd_refs *refs, int index, struct codec *c);
int fd_refs_check(const struct fd_refs *refs, struct codec *c);

/* Path of the current field in messages. */
size_t codec_push(struct codec *c, const char *name);
size_t codec_push_index(struct codec *c, size_t index);
void codec_pop(struct codec *c, size_t len);

/* Record "<path>: <message>" in c->err; returns -EINVAL. */
int codec_fail(struct codec *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Value checks and conversions (proto_values.c). @why gets the reason on failure. */
int value_check_string(enum str_class cls, const char *s, size_t len, char *why, size_t size);
int value_check_path(const char *s, size_t len, char *why, size_t size);
int value_parse_ip(enum str_class fam, const char *s, size_t len, struct proto_ip *ip);
int value_parse_cidr(enum str_class fam, const char *s, size_t len, struct proto_cidr *cidr);
int value_parse_mac(const char *s, size_t len, unsigned char mac[6]);
bool value_mac_valid(const unsigned char mac[6]);
bool value_ip_family_ok(enum str_class fam, int family);
void value_format_ip(const struct proto_ip *ip, char *buf, size_t size);
void value_format_cidr(const struct proto_cidr *cidr, char *buf, size_t size);
void value_format_mac(const unsigned char mac[6], char *buf, size_t size);
bool value_cidr_contains(const struct proto_cidr *net, const struct proto_ip *ip);

/*
 * An ASCII-only excerpt of untrusted bytes for messages: at most @max source
 * bytes, non-printable and non-ASCII bytes as \xNN, "..." when cut. Never
 * produces invalid UTF-8, so it can travel back in an error reply.
 */
const char *value_excerpt(const char *s, size_t len, size_t max, char *buf, size_t size);

/* Copy @s into @buf (cut to @size - 1 bytes) replacing invalid UTF-8 with '?'. */
size_t value_utf8_sanitize(const char *s, size_t len, char *buf, size_t size);

#endif /* SHOAL_API_PROTO_SCHEMA_H */

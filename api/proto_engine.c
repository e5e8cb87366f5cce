// SPDX-License-Identifier: GPL-2.0
/*
 * The schema engine of the protocol codec (see proto_schema.h): it turns a
 * jansson object into a C struct and back by walking the table that describes
 * the struct, and it is the only code that reads untrusted JSON values. Each
 * field is checked for its JSON type, its range or length and its class before
 * anything is stored; keys the schema does not name are refused; nested
 * objects and arrays are fixed-size members of the struct, so decoding
 * allocates nothing but the byte buffers of base64 fields, whose size is
 * capped before the allocation. Recursion follows the schema, not the input,
 * so its depth is bounded by the message types (at most four levels).
 */
#include "proto_schema.h"

#include "base64.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/*
 * The member at byte @off of @base. The schema tables put only correctly typed,
 * hence aligned, members there (proto.c checks the types at compile time).
 */
#define AT(base, off, type) ((type *)(void *)((char *)(base) + (off)))
#define CAT(base, off, type) ((type const *)(const void *)((const char *)(base) + (off)))

size_t codec_push(struct codec *c, const char *name)
{
	size_t old = c->pathlen;
	int n = snprintf(c->path + old, sizeof(c->path) - old, "%s%s", old ? "." : "", name);

	if (n > 0)
		c->pathlen =
			old + (size_t)n < sizeof(c->path) ? old + (size_t)n : sizeof(c->path) - 1;
	return old;
}

size_t codec_push_index(struct codec *c, size_t index)
{
	size_t old = c->pathlen;
	int n = snprintf(c->path + old, sizeof(c->path) - old, "[%zu]", index);

	if (n > 0)
		c->pathlen =
			old + (size_t)n < sizeof(c->path) ? old + (size_t)n : sizeof(c->path) - 1;
	return old;
}

void codec_pop(struct codec *c, size_t len)
{
	c->pathlen = len;
	c->path[len] = '\0';
}

int codec_fail(struct codec *c, const char *fmt, ...)
{
	char text[SHOAL_ERROR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	return shoal_error_set(c->err, 0, "%s: %s", c->path, text);
}

static const char *json_kind_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a real number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	}
	return "something else";
}

/* Check the JSON type of @v; @type JSON_TRUE stands for either boolean. */
static int expect(struct codec *c, const json_t *v, json_type type, const char *what)
{
	bool ok = type == JSON_TRUE ? json_is_boolean(v) : json_typeof(v) == type;

	if (!ok)
		return codec_fail(c, "expected %s, got %s", what, json_kind_name(v));
	return 0;
}

int fd_refs_add(struct fd_refs *refs, int index, struct codec *c)
{
	if (index < 0 || index >= PROTO_FDS_MAX)
		return codec_fail(c, "descriptor index %d is out of range 0..%d", index,
				  PROTO_FDS_MAX - 1);
	if (refs->mask & (UINT32_C(1) << index))
		return codec_fail(c, "descriptor index %d is used twice", index);
	refs->mask |= UINT32_C(1) << index;
	refs->count++;
	return 0;
}

int fd_refs_check(const struct fd_refs *refs, struct codec *c)
{
	uint32_t want = refs->count >= 32 ? UINT32_MAX : (UINT32_C(1) << refs->count) - 1;

	/* Indexes 0..n-1 each once: no descriptor travels without a field naming it. */
	if (refs->mask != want)
		return shoal_error_set(c->err, 0,
				       "%s: descriptor indexes must be 0..%zu, each used once",
				       c->path, refs->count ? refs->count - 1 : 0);
	return 0;
}

/* ---------------------------------------------------------------------------
 * Defaults.
 */

void schema_defaults(const struct schema *s, void *base)
{
	size_t i, j;

	for (i = 0; i < s->nfields; i++) {
		const struct field *f = &s->fields[i];

		if (f->flags & F_HAS)
			*AT(base, f->has_off, bool) = false;
		switch (f->kind) {
		case K_U64:
			*AT(base, f->off, uint64_t) = (uint64_t)f->def;
			break;
		case K_U32:
			*AT(base, f->off, uint32_t) = (uint32_t)f->def;
			break;
		case K_INT:
		case K_ENUM:
		case K_FD:
			*AT(base, f->off, int) = (int)f->def;
			break;
		case K_BOOL:
			*AT(base, f->off, bool) = f->def != 0;
			break;
		case K_STR:
			*AT(base, f->off, const char *) = f->sdef;
			break;
		case K_OBJ:
			schema_defaults(f->sub, AT(base, f->off, char));
			break;
		case K_OBJ_ARRAY:
			/* Elements get their defaults too, so a caller filling one finds them. */
			for (j = 0; j < (size_t)f->max; j++)
				schema_defaults(f->sub, AT(base, f->off + j * f->elem_size, char));
			*AT(base, f->count_off, size_t) = 0;
			break;
		case K_STR_ARRAY:
		case K_U64_ARRAY:
		case K_IP_ARRAY:
			*AT(base, f->count_off, size_t) = 0;
			break;
		default:
			/* K_BYTES, K_IP, K_CIDR, K_MAC, K_RESULT: all zero means absent. */
			break;
		}
	}
}

/* ---------------------------------------------------------------------------
 * Decoding.
 */

static int decode_int(const struct field *f, const json_t *v, void *dst, struct codec *c)
{
	json_int_t n;
	int r = expect(c, v, JSON_INTEGER, "an integer");

	if (r < 0)
		return r;
	n = json_integer_value(v);
	if (n < f->min || n > f->max)
		return codec_fail(c, "%lld is out of range %lld..%lld", (long long)n,
				  (long long)f->min, (long long)f->max);
	switch (f->kind) {
	case K_U64:
		*(uint64_t *)dst = (uint64_t)n;
		break;
	case K_U32:
		*(uint32_t *)dst = (uint32_t)n;
		break;
	default:
		*(int *)dst = (int)n;
		break;
	}
	return 0;
}

/* Read a string value, checking its length and class. */
static int decode_string(struct codec *c, const json_t *v, enum str_class cls, int64_t min,
			 int64_t max, const char **out, size_t *outlen)
{
	const char *s;
	size_t len;
	char why[128], ex[96];
	int r = expect(c, v, JSON_STRING, "a string");

	if (r < 0)
		return r;
	s = json_string_value(v);
	len = json_string_length(v);
	if ((int64_t)len < min || (int64_t)len > max) {
		if (min == max)
			return codec_fail(c, "%zu bytes, must be %lld", len, (long long)max);
		return codec_fail(c, "%zu bytes, must be %lld..%lld", len, (long long)min,
				  (long long)max);
	}
	if (value_check_string(cls, s, len, why, sizeof(why)) < 0)
		return codec_fail(c, "'%s' %s", value_excerpt(s, len, 48, ex, sizeof(ex)), why);
	*out = s;
	if (outlen)
		*outlen = len;
	return 0;
}

static int codec_keep_buffer(struct codec *c, void *buf)
{
	size_t i;

	for (i = 0; i < sizeof(c->msg->priv_bufs) / sizeof(c->msg->priv_bufs[0]); i++) {
		if (!c->msg->priv_bufs[i]) {
			c->msg->priv_bufs[i] = buf;
			return 0;
		}
	}
	free(buf);
	/* Only a schema with more byte fields than priv_bufs could get here. */
	return codec_fail(c, "too many byte fields in one message");
}

static int decode_bytes(const struct field *f, const json_t *v, struct proto_bytes *out,
			struct codec *c)
{
	const char *s;
	size_t len;
	unsigned char *buf;
	long n;
	int r = expect(c, v, JSON_STRING, "a base64 string");

	if (r < 0)
		return r;
	s = json_string_value(v);
	len = json_string_length(v);
	/* Refuse by the encoded length first, so nothing is allocated for an oversize value. */
	if (len > base64_encoded_len((size_t)f->max))
		return codec_fail(c, "more than %lld bytes", (long long)f->max);
	buf = malloc(base64_decoded_max(len) + 1);
	if (!buf)
		return shoal_error_set(c->err, ENOMEM, "%s: %zu bytes", c->path, len);
	n = base64_decode(s, len, buf);
	if (n < 0) {
		free(buf);
		return codec_fail(c, "not canonical base64");
	}
	if (n < f->min || n > f->max) {
		free(buf);
		return codec_fail(c, "%ld bytes, must be %lld..%lld", n, (long long)f->min,
				  (long long)f->max);
	}
	r = codec_keep_buffer(c, buf);
	if (r < 0)
		return r;
	out->data = buf;
	out->len = (size_t)n;
	return 0;
}

static int decode_address(const struct field *f, const json_t *v, void *dst, struct codec *c)
{
	const char *s;
	size_t len;
	char ex[96];
	int r = decode_string(c, v, C_ARG, 1, 64, &s, &len);

	if (r < 0)
		return r;
	if (f->kind == K_CIDR) {
		if (value_parse_cidr(f->cls, s, len, dst) < 0)
			return codec_fail(c, "'%s' is not an %s address with a prefix length",
					  value_excerpt(s, len, 48, ex, sizeof(ex)),
					  f->cls == C_IPV4 ? "IPv4" : "IPv6");
		return 0;
	}
	if (value_parse_ip(f->cls, s, len, dst) < 0)
		return codec_fail(c, "'%s' is not an %s address",
				  value_excerpt(s, len, 48, ex, sizeof(ex)),
				  f->cls == C_IPV4   ? "IPv4"
				  : f->cls == C_IPV6 ? "IPv6"
						     : "IP");
	return 0;
}

static int decode_enum(const struct field *f, const json_t *v, int *dst, struct codec *c)
{
	const char *s;
	size_t len, i;
	char ex[96];
	int r = decode_string(c, v, C_ARG, 1, 64, &s, &len);

	if (r < 0)
		return r;
	for (i = 0; i < f->names->count; i++) {
		const char *name = f->names->names[i];

		if (name && strlen(name) == len && memcmp(name, s, len) == 0) {
			*dst = (int)i;
			return 0;
		}
	}
	return codec_fail(c, "unknown value '%s'", value_excerpt(s, len, 48, ex, sizeof(ex)));
}

static int decode_array(const struct field *f, const json_t *v, void *base, struct codec *c)
{
	size_t n, i;
	int r = expect(c, v, JSON_ARRAY, "an array");

	if (r < 0)
		return r;
	n = json_array_size(v);
	if ((int64_t)n < f->min || (int64_t)n > f->max)
		return codec_fail(c, "%zu entries, must be %lld..%lld", n, (long long)f->min,
				  (long long)f->max);
	for (i = 0; i < n; i++) {
		const json_t *e = json_array_get(v, i);
		size_t mark = codec_push_index(c, i);

		switch (f->kind) {
		case K_OBJ_ARRAY:
			r = schema_decode(f->sub, e, AT(base, f->off + i * f->elem_size, char),
					  false, c);
			break;
		case K_STR_ARRAY:
			r = decode_string(c, e, f->cls, f->emin, f->emax,
					  AT(base, f->off + i * sizeof(char *), const char *),
					  NULL);
			break;
		case K_U64_ARRAY: {
			struct field ef = { .kind = K_U64, .min = f->emin, .max = f->emax };

			r = decode_int(&ef, e, AT(base, f->off + i * sizeof(uint64_t), uint64_t),
				       c);
			break;
		}
		case K_IP_ARRAY: {
			struct field ef = { .kind = K_IP, .cls = f->cls };

			r = decode_address(&ef, e,
					   AT(base, f->off + i * sizeof(struct proto_ip), char), c);
			break;
		}
		default:
			r = codec_fail(c, "not an array field");
		}
		if (r < 0)
			return r;
		codec_pop(c, mark);
	}
	*AT(base, f->count_off, size_t) = n;
	return 0;
}

static int decode_field(const struct field *f, const json_t *v, void *base, struct codec *c)
{
	void *dst = AT(base, f->off, char);
	const struct schema *sub;
	int r;

	switch (f->kind) {
	case K_U64:
	case K_U32:
	case K_INT:
		return decode_int(f, v, dst, c);
	case K_FD:
		r = decode_int(f, v, dst, c);
		return r < 0 ? r : fd_refs_add(&c->fds, *(int *)dst, c);
	case K_BOOL:
		r = expect(c, v, JSON_TRUE, "a boolean");
		if (r < 0)
			return r;
		*(bool *)dst = json_is_true(v);
		return 0;
	case K_ENUM:
		return decode_enum(f, v, dst, c);
	case K_STR:
		return decode_string(c, v, f->cls, f->min, f->max, dst, NULL);
	case K_BYTES:
		return decode_bytes(f, v, dst, c);
	case K_IP:
	case K_CIDR:
		return decode_address(f, v, dst, c);
	case K_MAC: {
		const char *s;
		size_t len;
		char ex[96];

		r = decode_string(c, v, C_ARG, 1, 64, &s, &len);
		if (r < 0)
			return r;
		if (value_parse_mac(s, len, dst) < 0)
			return codec_fail(
				c, "'%s' is not a unicast MAC address like 02:00:00:00:00:01",
				value_excerpt(s, len, 48, ex, sizeof(ex)));
		return 0;
	}
	case K_OBJ:
		return schema_decode(f->sub, v, dst, false, c);
	case K_RESULT:
		sub = f->resolve(base);
		if (!sub)
			return codec_fail(c, "no result for this request type");
		schema_defaults(sub, dst);
		return schema_decode(sub, v, dst, false, c);
	case K_OBJ_ARRAY:
	case K_STR_ARRAY:
	case K_U64_ARRAY:
	case K_IP_ARRAY:
		return decode_array(f, v, base, c);
	}
	return codec_fail(c, "field of unknown kind %d", f->kind);
}

static const struct field *schema_find(const struct schema *s, const char *key)
{
	size_t i;

	for (i = 0; i < s->nfields; i++)
		if (strcmp(s->fields[i].name, key) == 0)
			return &s->fields[i];
	return NULL;
}

int schema_decode(const struct schema *s, const void *obj, void *base, bool top, struct codec *c)
{
	const json_t *o = obj;
	const char *key;
	json_t *v;
	size_t i;
	int r = expect(c, o, JSON_OBJECT, "an object");

	if (r < 0)
		return r;

	/* Every key must be a field of this object; the top level also has type and id. */
	json_object_foreach((json_t *)o, key, v)
	{
		char ex[96];

		if (top && (strcmp(key, "type") == 0 || strcmp(key, "id") == 0))
			continue;
		if (!schema_find(s, key))
			return codec_fail(c, "unknown field '%s'",
					  value_excerpt(key, strlen(key), 48, ex, sizeof(ex)));
	}

	for (i = 0; i < s->nfields; i++) {
		const struct field *f = &s->fields[i];
		size_t mark;

		v = json_object_get(o, f->name);
		if (!v) {
			if (f->presence == P_REQUIRED) {
				mark = codec_push(c, f->name);
				r = codec_fail(c, "missing");
				codec_pop(c, mark);
				return r;
			}
			continue; /* the caller filled in the defaults and sentinels */
		}
		mark = codec_push(c, f->name);
		r = decode_field(f, v, base, c);
		if (r < 0)
			return r;
		codec_pop(c, mark);
		if (f->flags & F_HAS)
			*AT(base, f->has_off, bool) = true;
	}
	return s->check ? s->check(base, c) : 0;
}

/* ---------------------------------------------------------------------------
 * Encoding: the same checks, from the struct's side.
 */

static int encode_int(const struct field *f, const void *src, json_t **out, struct codec *c)
{
	long long n;

	switch (f->kind) {
	case K_U64:
		if (*(const uint64_t *)src > (uint64_t)INT64_MAX)
			return codec_fail(c, "%llu is out of range %lld..%lld",
					  (unsigned long long)*(const uint64_t *)src,
					  (long long)f->min, (long long)f->max);
		n = (long long)*(const uint64_t *)src;
		break;
	case K_U32:
		n = *(const uint32_t *)src;
		break;
	default:
		n = *(const int *)src;
		break;
	}
	if (f->presence == P_OMIT && n == f->def) {
		*out = NULL;
		return 0;
	}
	if (n < f->min || n > f->max)
		return codec_fail(c, "%lld is out of range %lld..%lld", n, (long long)f->min,
				  (long long)f->max);
	*out = json_integer(n);
	return 0;
}

static int encode_string(struct codec *c, enum str_class cls, int64_t min, int64_t max,
			 const char *s, json_t **out)
{
	size_t len = strlen(s);
	char why[128], ex[96];

	if ((int64_t)len < min || (int64_t)len > max)
		return codec_fail(c, "%zu bytes, must be %lld..%lld", len, (long long)min,
				  (long long)max);
	if (value_check_string(cls, s, len, why, sizeof(why)) < 0)
		return codec_fail(c, "'%s' %s", value_excerpt(s, len, 48, ex, sizeof(ex)), why);
	*out = json_stringn(s, len);
	if (!*out)
		return codec_fail(c, "'%s' is not valid UTF-8",
				  value_excerpt(s, len, 48, ex, sizeof(ex)));
	return 0;
}

static int encode_bytes(const struct field *f, const struct proto_bytes *b, json_t **out,
			struct codec *c)
{
	char *text;

	if ((int64_t)b->len < f->min || (int64_t)b->len > f->max)
		return codec_fail(c, "%zu bytes, must be %lld..%lld", b->len, (long long)f->min,
				  (long long)f->max);
	text = malloc(base64_encoded_len(b->len) + 1);
	if (!text)
		return shoal_error_set(c->err, ENOMEM, "%s: %zu bytes", c->path, b->len);
	base64_encode(b->data, b->len, text);
	/* The alphabet is ASCII: jansson need not check it for UTF-8 again. */
	*out = json_stringn_nocheck(text, base64_encoded_len(b->len));
	free(text);
	return 0;
}

static int encode_address(const struct field *f, const void *src, json_t **out, struct codec *c)
{
	char buf[INET6_ADDRSTRLEN + 8];
	int family = f->kind == K_CIDR ? ((const struct proto_cidr *)src)->family
				       : ((const struct proto_ip *)src)->family;

	if (!value_ip_family_ok(f->cls, family))
		return codec_fail(c, "address family %d is not allowed here", family);
	if (f->kind == K_CIDR) {
		const struct proto_cidr *cidr = src;

		if (cidr->prefix > (family == AF_INET ? 32U : 128U))
			return codec_fail(c, "prefix length %u is too long", cidr->prefix);
		value_format_cidr(cidr, buf, sizeof(buf));
	} else {
		value_format_ip(src, buf, sizeof(buf));
	}
	*out = json_string(buf);
	return 0;
}

static int encode_array(const struct field *f, const void *base, json_t **out, struct codec *c)
{
	size_t n = *CAT(base, f->count_off, size_t), i;
	json_t *arr;
	int r = 0;

	if ((int64_t)n < f->min || (int64_t)n > f->max)
		return codec_fail(c, "%zu entries, must be %lld..%lld", n, (long long)f->min,
				  (long long)f->max);
	arr = json_array();
	if (!arr)
		return shoal_error_set(c->err, ENOMEM, "%s", c->path);
	for (i = 0; i < n && r == 0; i++) {
		size_t mark = codec_push_index(c, i);
		json_t *e = NULL;

		switch (f->kind) {
		case K_OBJ_ARRAY:
			r = schema_encode(f->sub, CAT(base, f->off + i * f->elem_size, char),
					  (void **)&e, c);
			break;
		case K_STR_ARRAY: {
			const char *s = CAT(base, f->off, const char *)[i];

			r = s ? encode_string(c, f->cls, f->emin, f->emax, s, &e)
			      : codec_fail(c, "missing");
			break;
		}
		case K_U64_ARRAY: {
			struct field ef = { .kind = K_U64, .min = f->emin, .max = f->emax };

			r = encode_int(&ef, CAT(base, f->off, uint64_t) + i, &e, c);
			break;
		}
		case K_IP_ARRAY: {
			struct field ef = { .kind = K_IP, .cls = f->cls };

			r = encode_address(&ef, CAT(base, f->off, struct proto_ip) + i, &e, c);
			break;
		}
		default:
			r = codec_fail(c, "not an array field");
		}
		if (r == 0 && (!e || json_array_append_new(arr, e) < 0))
			r = shoal_error_set(c->err, ENOMEM, "%s", c->path);
		codec_pop(c, mark);
	}
	if (r < 0) {
		json_decref(arr);
		return r;
	}
	*out = arr;
	return 0;
}

/* Whether field @f of @base holds its "absent" value and is left out of the JSON. */
static bool field_absent(const struct field *f, const void *base)
{
	if (f->flags & F_HAS)
		return !*CAT(base, f->has_off, bool);
	switch (f->kind) {
	case K_STR:
		return !*CAT(base, f->off, const char *);
	case K_BYTES:
		return !CAT(base, f->off, struct proto_bytes)->data;
	case K_IP:
		return f->presence == P_OMIT && !CAT(base, f->off, struct proto_ip)->family;
	case K_CIDR:
		return f->presence == P_OMIT && !CAT(base, f->off, struct proto_cidr)->family;
	case K_OBJ_ARRAY:
	case K_STR_ARRAY:
	case K_U64_ARRAY:
	case K_IP_ARRAY:
		return f->presence != P_REQUIRED && !*CAT(base, f->count_off, size_t);
	default:
		return false;
	}
}

static int encode_field(const struct field *f, const void *base, json_t **out, struct codec *c)
{
	const void *src = CAT(base, f->off, char);
	const struct schema *sub;
	int r;

	switch (f->kind) {
	case K_U64:
	case K_U32:
	case K_INT:
		return encode_int(f, src, out, c);
	case K_FD:
		r = encode_int(f, src, out, c);
		if (r < 0 || !*out)
			return r;
		return fd_refs_add(&c->fds, *(const int *)src, c);
	case K_BOOL:
		*out = json_boolean(*(const bool *)src);
		return 0;
	case K_ENUM: {
		int v = *(const int *)src;

		if (f->presence == P_OMIT && v == f->def) {
			*out = NULL;
			return 0;
		}
		if (v < 0 || (size_t)v >= f->names->count || !f->names->names[v])
			return codec_fail(c, "%d is not a valid value", v);
		*out = json_string(f->names->names[v]);
		return 0;
	}
	case K_STR:
		return encode_string(c, f->cls, f->min, f->max, *(const char *const *)src, out);
	case K_BYTES:
		return encode_bytes(f, src, out, c);
	case K_IP:
	case K_CIDR:
		return encode_address(f, src, out, c);
	case K_MAC: {
		char buf[24];

		if (!value_mac_valid(src))
			return codec_fail(c, "not a unicast MAC address");
		value_format_mac(src, buf, sizeof(buf));
		*out = json_string(buf);
		return 0;
	}
	case K_OBJ:
		return schema_encode(f->sub, src, (void **)out, c);
	case K_RESULT:
		sub = f->resolve(base);
		if (!sub)
			return codec_fail(c, "no result for this request type");
		return schema_encode(sub, src, (void **)out, c);
	case K_OBJ_ARRAY:
	case K_STR_ARRAY:
	case K_U64_ARRAY:
	case K_IP_ARRAY:
		return encode_array(f, base, out, c);
	}
	return codec_fail(c, "field of unknown kind %d", f->kind);
}

int schema_encode(const struct schema *s, const void *base, void **obj, struct codec *c)
{
	json_t *o = *obj ? *obj : json_object();
	size_t i;
	int r = 0;

	if (!o)
		return shoal_error_set(c->err, ENOMEM, "%s", c->path);
	for (i = 0; i < s->nfields && r == 0; i++) {
		const struct field *f = &s->fields[i];
		size_t mark = codec_push(c, f->name);
		json_t *v = NULL;

		if (field_absent(f, base)) {
			if (f->presence == P_REQUIRED)
				r = codec_fail(c, "missing");
		} else {
			r = encode_field(f, base, &v, c);
			/* NULL without an error: an optional field holding its sentinel. */
			if (r == 0 && v && json_object_set_new_nocheck(o, f->name, v) < 0)
				r = shoal_error_set(c->err, ENOMEM, "%s", c->path);
			else if (r == 0 && !v && f->presence == P_REQUIRED)
				r = shoal_error_set(c->err, ENOMEM, "%s", c->path);
		}
		if (r == 0)
			codec_pop(c, mark);
	}
	if (r == 0 && s->check)
		r = s->check(base, c);
	if (r < 0) {
		if (!*obj)
			json_decref(o);
		return r;
	}
	*obj = o;
	return 0;
}

/* ---------------------------------------------------------------------------
 * Descriptor references, for proto_msg_nfds() and the sender's checks.
 */

int schema_collect_fds(const struct schema *s, const void *base, struct codec *c)
{
	size_t i, j;
	int r;

	for (i = 0; i < s->nfields; i++) {
		const struct field *f = &s->fields[i];

		if (field_absent(f, base))
			continue;
		if (f->kind == K_FD && *CAT(base, f->off, int) != -1) {
			r = fd_refs_add(&c->fds, *CAT(base, f->off, int), c);
			if (r < 0)
				return r;
		} else if (f->kind == K_OBJ) {
			r = schema_collect_fds(f->sub, CAT(base, f->off, char), c);
			if (r < 0)
				return r;
		} else if (f->kind == K_OBJ_ARRAY) {
			size_t n = *CAT(base, f->count_off, size_t);

			for (j = 0; j < n && j < (size_t)f->max; j++) {
				r = schema_collect_fds(
					f->sub, CAT(base, f->off + j * f->elem_size, char), c);
				if (r < 0)
					return r;
			}
		}
	}
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * state.c: parse and format the state string a shim passes to the next one
 * in argv[1] (format in job_abi.h). The shim trusts its predecessor (the
 * jail or itself), but parsing is still strict: a mistake here would make a
 * shim talk on the wrong descriptor, which is far harder to debug than a
 * refusal at start-up.
 */
#include "instance/jobshim/state.h"

#include "instance/jobshim/lib.h"

#include <asm/errno.h>

static int parse_int(const char **p, int *out)
{
	unsigned long v;

	if (shim_parse_ulong(p, 0x7fffffff, &v))
		return -EINVAL;
	*out = (int)v;
	return 0;
}

static int parse_hostfds(const char **p, struct shim_state *st)
{
	for (;;) {
		struct state_hostfd *h;

		if (st->nhostfds == STATE_HOSTFDS_MAX)
			return -EINVAL;
		h = &st->hostfds[st->nhostfds++];
		if (parse_int(p, &h->vfd) || **p != ':')
			return -EINVAL;
		(*p)++;
		if (parse_int(p, &h->hostfd))
			return -EINVAL;
		if (**p != '/')
			return 0;
		(*p)++;
	}
}

int state_parse(const char *s, struct shim_state *st)
{
	static const char *const keys[] = { "link",	"region",      "self",	 "slot",
					    "filtered", "passthrough", "hostfds" };
	unsigned int seen = 0, k;
	const char *p = s;

	st->link = st->region = st->self = -1;
	st->slot = 0;
	st->filtered = st->passthrough = 0;
	st->nhostfds = 0;
	while (*p) {
		size_t len;
		int v;

		for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
			len = shim_strlen(keys[k]);
			if (!shim_strncmp(p, keys[k], len) && p[len] == '=')
				break;
		}
		if (k == sizeof(keys) / sizeof(keys[0]) || (seen & (1u << k)))
			return -EINVAL;
		seen |= 1u << k;
		p += len + 1;
		if (k == 6) {
			if (parse_hostfds(&p, st))
				return -EINVAL;
		} else {
			if (parse_int(&p, &v))
				return -EINVAL;
			switch (k) {
			case 0:
				st->link = v;
				break;
			case 1:
				st->region = v;
				break;
			case 2:
				st->self = v;
				break;
			case 3:
				st->slot = (unsigned int)v;
				break;
			case 4:
			case 5:
				if (v > 1)
					return -EINVAL;
				if (k == 4)
					st->filtered = v;
				else
					st->passthrough = v;
				break;
			}
		}
		if (*p == ',' && p[1])
			p++;
		else if (*p)
			return -EINVAL;
	}
	if (!st->passthrough && (st->link < 0 || st->region < 0 || st->self < 0 || !(seen & 8)))
		return -EINVAL;
	return 0;
}

/* Append @s to @buf at *@len if it fits; the caller checks *@len < size. */
static void put(char *buf, size_t size, size_t *len, const char *s, size_t n)
{
	if (*len + n < size)
		shim_memcpy(buf + *len, s, n);
	*len += n;
}

static void put_str(char *buf, size_t size, size_t *len, const char *s)
{
	put(buf, size, len, s, shim_strlen(s));
}

static void put_num(char *buf, size_t size, size_t *len, long v)
{
	char tmp[24];

	put(buf, size, len, tmp, shim_format_ulong(tmp, (unsigned long)v));
}

long state_format(const struct shim_state *st, char *buf, size_t size)
{
	size_t len = 0;
	unsigned int i;

	if (st->passthrough) {
		put_str(buf, size, &len, "passthrough=1,");
	} else {
		put_str(buf, size, &len, "link=");
		put_num(buf, size, &len, st->link);
		put_str(buf, size, &len, ",region=");
		put_num(buf, size, &len, st->region);
		put_str(buf, size, &len, ",self=");
		put_num(buf, size, &len, st->self);
		put_str(buf, size, &len, ",slot=");
		put_num(buf, size, &len, st->slot);
		put_str(buf, size, &len, ",");
	}
	put_str(buf, size, &len, "filtered=");
	put_num(buf, size, &len, st->filtered);
	for (i = 0; i < st->nhostfds; i++) {
		put_str(buf, size, &len, i ? "/" : ",hostfds=");
		put_num(buf, size, &len, st->hostfds[i].vfd);
		put_str(buf, size, &len, ":");
		put_num(buf, size, &len, st->hostfds[i].hostfd);
	}
	if (len >= size)
		return -ENAMETOOLONG;
	buf[len] = 0;
	return (long)len;
}

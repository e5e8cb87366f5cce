// SPDX-License-Identifier: GPL-2.0
/*
 * The checks and conversions of single protocol values: string classes (ids,
 * host names, interface names, file system types, environment entries),
 * canonical paths, IP addresses with and without prefix, and MAC addresses.
 * Every one takes a pointer and a length, never trusts a terminating NUL and
 * says in words why a value was refused. They know nothing of JSON, so the
 * daemon's HTTP layer can apply the same rules to values it receives.
 */
#include "proto_schema.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#define WHY(...) (snprintf(why, size, __VA_ARGS__), -EINVAL)

static bool is_alnum(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}

static bool is_print(unsigned char ch)
{
	return ch >= 0x20 && ch < 0x7f;
}

const char *value_excerpt(const char *s, size_t len, size_t max, char *buf, size_t size)
{
	size_t o = 0, i;

	if (!size)
		return "";
	for (i = 0; i < len && i < max; i++) {
		unsigned char ch = (unsigned char)s[i];

		/* Four bytes for "\xNN", and room for "..." and the NUL at the end. */
		if (o + 4 + 4 > size)
			break;
		if (is_print(ch) && ch != '\\' && ch != '\'')
			buf[o++] = (char)ch;
		else
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", ch);
	}
	if (i < len && o + 4 <= size) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

/* Length of the valid UTF-8 sequence at @s (at most @len bytes), or 0 if invalid. */
static size_t utf8_seq_len(const unsigned char *s, size_t len)
{
	size_t n, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return s[0] ? 1 : 0;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (n > len)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, UTF-16 surrogates and code points past U+10FFFF. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

size_t value_utf8_sanitize(const char *s, size_t len, char *buf, size_t size)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, o = 0;

	if (!size)
		return 0;
	while (i < len) {
		size_t n = utf8_seq_len(u + i, len - i);

		if (!n) {
			if (o + 1 >= size)
				break;
			buf[o++] = '?';
			i++;
			continue;
		}
		/* Cut only between sequences, so the result stays valid. */
		if (o + n >= size)
			break;
		memcpy(buf + o, u + i, n);
		o += n;
		i += n;
	}
	buf[o] = '\0';
	return o;
}

int value_check_path(const char *s, size_t len, char *why, size_t size)
{
	size_t i, start;

	if (!len)
		return WHY("is empty");
	if (len > PROTO_PATH_MAX)
		return WHY("is %zu bytes, at most %d", len, PROTO_PATH_MAX);
	if (memchr(s, '\0', len))
		return WHY("contains a NUL byte");
	if (s[0] != '/')
		return WHY("is not absolute");
	if (len == 1)
		return 0;
	if (s[len - 1] == '/')
		return WHY("ends with '/'");
	/* Walk the components between slashes; the first starts after the leading '/'. */
	for (start = 1, i = 1; i <= len; i++) {
		size_t n;

		if (i < len && s[i] != '/')
			continue;
		n = i - start;
		if (n == 0)
			return WHY("has an empty component ('//')");
		if (n == 1 && s[start] == '.')
			return WHY("has a '.' component");
		if (n == 2 && s[start] == '.' && s[start + 1] == '.')
			return WHY("has a '..' component");
		if (n > PROTO_PATH_NAME_MAX)
			return WHY("has a component of %zu bytes, at most %d", n,
				   PROTO_PATH_NAME_MAX);
		start = i + 1;
	}
	return 0;
}

int value_check_string(enum str_class cls, const char *s, size_t len, char *why, size_t size)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i;

	if (memchr(s, '\0', len))
		return WHY("contains a NUL byte");

	switch (cls) {
	case C_TEXT:
	case C_ARG:
		return 0;
	case C_PRINT:
		for (i = 0; i < len; i++)
			if (!is_print(u[i]))
				return WHY("has a byte that is not printable ASCII at %zu", i);
		return 0;
	case C_ID:
		if (len && !is_alnum(u[0]))
			return WHY("does not start with a letter or digit");
		for (i = 0; i < len; i++)
			if (!is_alnum(u[i]) && u[i] != '_' && u[i] != '.' && u[i] != '-')
				return WHY("has a character other than letters, digits, '_', '.' "
					   "and '-'");
		return 0;
	case C_HOSTNAME:
		for (i = 0; i < len; i++) {
			if (!is_alnum(u[i]) && u[i] != '-' && u[i] != '.')
				return WHY(
					"has a character other than letters, digits, '-' and '.'");
			if (u[i] == '.' && i + 1 < len && u[i + 1] == '.')
				return WHY("has an empty label ('..')");
		}
		if (len && (u[0] == '-' || u[0] == '.' || u[len - 1] == '-' || u[len - 1] == '.'))
			return WHY("does not start and end with a letter or digit");
		return 0;
	case C_IFNAME:
		if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
			return WHY("is not an interface name");
		for (i = 0; i < len; i++)
			if (!is_print(u[i]) || u[i] == ' ' || u[i] == '/' || u[i] == ':')
				return WHY("has a character other than printable ASCII without ' "
					   "', '/' and ':'");
		return 0;
	case C_FSTYPE:
		for (i = 0; i < len; i++)
			if (!((u[i] >= 'a' && u[i] <= 'z') || (u[i] >= '0' && u[i] <= '9')))
				return WHY(
					"has a character other than lowercase letters and digits");
		return 0;
	case C_IPATH:
	case C_HPATH:
		return value_check_path(s, len, why, size);
	case C_MOUNT:
		if (len == 1 && s[0] == '/')
			return WHY("is the root, which is the instance's own tmpfs");
		return value_check_path(s, len, why, size);
	case C_ENV: {
		const char *eq = memchr(s, '=', len);

		if (!eq)
			return WHY("is not NAME=value");
		if (eq == s)
			return WHY("has an empty NAME");
		return 0;
	}
	case C_IPV4:
	case C_IPV6:
	case C_IPANY:
		break;
	}
	return WHY("no such string class %d", (int)cls);
}

bool value_ip_family_ok(enum str_class fam, int family)
{
	if (fam == C_IPV4)
		return family == AF_INET;
	if (fam == C_IPV6)
		return family == AF_INET6;
	return family == AF_INET || family == AF_INET6;
}

int value_parse_ip(enum str_class fam, const char *s, size_t len, struct proto_ip *ip)
{
	char buf[INET6_ADDRSTRLEN];
	int family;

	if (!len || len >= sizeof(buf) || memchr(s, '\0', len))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	family = memchr(buf, ':', len) ? AF_INET6 : AF_INET;
	if (!value_ip_family_ok(fam, family))
		return -EINVAL;
	memset(ip, 0, sizeof(*ip));
	/* inet_pton() takes only dotted quads for IPv4: no octal, hex or short forms. */
	if (inet_pton(family, buf, ip->addr) != 1)
		return -EINVAL;
	ip->family = family;
	return 0;
}

int value_parse_cidr(enum str_class fam, const char *s, size_t len, struct proto_cidr *cidr)
{
	const char *slash = memchr(s, '/', len);
	struct proto_ip ip;
	size_t digits, i;
	unsigned int prefix = 0;

	if (!slash)
		return -EINVAL;
	if (value_parse_ip(fam, s, (size_t)(slash - s), &ip) < 0)
		return -EINVAL;
	digits = len - (size_t)(slash - s) - 1;
	/* One to three digits, no sign, no leading zero: one spelling per prefix. */
	if (digits < 1 || digits > 3 || (digits > 1 && slash[1] == '0'))
		return -EINVAL;
	for (i = 1; i <= digits; i++) {
		if (slash[i] < '0' || slash[i] > '9')
			return -EINVAL;
		prefix = prefix * 10 + (unsigned int)(slash[i] - '0');
	}
	if (prefix > (ip.family == AF_INET ? 32U : 128U))
		return -EINVAL;
	cidr->family = ip.family;
	memcpy(cidr->addr, ip.addr, sizeof(cidr->addr));
	cidr->prefix = prefix;
	return 0;
}

static int hex_value(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

bool value_mac_valid(const unsigned char mac[6])
{
	static const unsigned char zero[6];

	/* A device address must be unicast (group bit clear) and not all zeros. */
	return !(mac[0] & 1) && memcmp(mac, zero, 6) != 0;
}

int value_parse_mac(const char *s, size_t len, unsigned char mac[6])
{
	int i;

	if (len != 17)
		return -EINVAL;
	for (i = 0; i < 6; i++) {
		int hi = hex_value(s[i * 3]), lo = hex_value(s[i * 3 + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && s[i * 3 + 2] != ':'))
			return -EINVAL;
		mac[i] = (unsigned char)(hi << 4 | lo);
	}
	return value_mac_valid(mac) ? 0 : -EINVAL;
}

void value_format_ip(const struct proto_ip *ip, char *buf, size_t size)
{
	if (!inet_ntop(ip->family, ip->addr, buf, (socklen_t)size))
		snprintf(buf, size, "?");
}

void value_format_cidr(const struct proto_cidr *cidr, char *buf, size_t size)
{
	struct proto_ip ip = { .family = cidr->family };
	char addr[INET6_ADDRSTRLEN];

	memcpy(ip.addr, cidr->addr, sizeof(ip.addr));
	value_format_ip(&ip, addr, sizeof(addr));
	snprintf(buf, size, "%s/%u", addr, cidr->prefix);
}

void value_format_mac(const unsigned char mac[6], char *buf, size_t size)
{
	snprintf(buf, size, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
		 mac[5]);
}

bool value_cidr_contains(const struct proto_cidr *net, const struct proto_ip *ip)
{
	unsigned int bits = net->prefix, i;

	if (net->family != ip->family)
		return false;
	for (i = 0; bits >= 8; i++, bits -= 8)
		if (net->addr[i] != ip->addr[i])
			return false;
	if (bits) {
		unsigned char mask = (unsigned char)(0xff << (8 - bits));

		if ((net->addr[i] & mask) != (ip->addr[i] & mask))
			return false;
	}
	return true;
}

int proto_check_instance_path(const char *path, struct shoal_error *err)
{
	char why[96], ex[96];

	if (!path)
		return shoal_error_set(err, 0, "path: missing");
	if (value_check_path(path, strlen(path), why, sizeof(why)) < 0)
		return shoal_error_set(err, 0, "path '%s' %s",
				       value_excerpt(path, strlen(path), 48, ex, sizeof(ex)), why);
	return 0;
}

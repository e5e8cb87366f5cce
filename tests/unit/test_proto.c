// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the control-protocol codec (api/proto.c and the schema engine
 * and value checks behind it). Every message type makes a round trip through
 * encoder and decoder with its fields checked and the re-encoding compared
 * byte for byte; then tables of hostile and malformed messages, grouped by what
 * is wrong with them, must each be refused with a message that names the
 * problem, and every refusal must still be answerable with an error reply.
 * Under SANITIZE=address the leak checker also proves that a refused message
 * leaves nothing allocated.
 */
#include "api/proto.h"
#include "tests/harness.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* ---------------------------------------------------------------------------
 * Helpers.
 */

/* A rotating set of big scratch buffers for generated JSON and long strings. */
static char *scratch(void)
{
	static char bufs[4][PROTO_MSG_MAX + 4096];
	static unsigned int next;

	return bufs[next++ % 4];
}

/* @n copies of @ch, NUL-terminated, in a scratch buffer. */
static const char *rep(char ch, size_t n)
{
	char *s = scratch();

	memset(s, ch, n);
	s[n] = '\0';
	return s;
}

/* printf into a scratch buffer. */
static const char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static const char *fmt(const char *f, ...)
{
	char *s = scratch();
	va_list ap;

	va_start(ap, f);
	vsnprintf(s, PROTO_MSG_MAX + 4096, f, ap);
	va_end(ap);
	return s;
}

/* Encode @m, decode the text into @out, re-encode it: both texts must match. */
static void round_trip(const struct proto_msg *m, struct proto_msg *out)
{
	struct shoal_error err = { 0 };
	char *text1 = NULL, *text2 = NULL;
	size_t len1, len2;

	if (proto_encode(m, &text1, &len1, &err) < 0)
		FAIL("encode %s: %s", proto_type_name(m->type), err.msg);
	CHECK_EQ_INT(strlen(text1), len1);
	if (proto_decode(text1, len1, out, &err) < 0)
		FAIL("decode %s: %s", text1, err.msg);
	CHECK_EQ_INT(out->type, m->type);
	CHECK_EQ_INT(out->id, m->id);
	if (proto_encode(out, &text2, &len2, &err) < 0)
		FAIL("re-encode %s: %s", text1, err.msg);
	CHECK_EQ_STR(text2, text1);
	free(text1);
	free(text2);
}

/* Decode @len bytes of @json and expect success. */
static void decode_ok_len(const char *json, size_t len, struct proto_msg *out)
{
	struct shoal_error err = { 0 };

	if (proto_decode(json, len, out, &err) < 0)
		FAIL("decode %.300s: %s", json, err.msg);
}

static void decode_ok(const char *json, struct proto_msg *out)
{
	decode_ok_len(json, strlen(json), out);
}

/*
 * Decode @json, expect @want (a negative errno) and a message containing
 * @needle, and check the refusal can be answered with an error reply.
 */
static void reject(const char *json, size_t len, int want, const char *needle)
{
	struct shoal_error err = { 0 };
	struct proto_msg m;
	char *reply = NULL;
	size_t reply_len;
	int r = proto_decode(json, len, &m, &err);

	if (r != want || !strstr(err.msg, needle))
		FAIL("decoding %.300s\n  got %d '%s'\n  want %d with '%s'", json, r, err.msg, want,
		     needle);
	CHECK(m.priv_json == NULL && m.priv_bufs[0] == NULL && m.priv_bufs[1] == NULL);
	if (proto_encode_error(m.id, proto_error_code_from_errno(r), err.msg, &reply, &reply_len,
			       &err) < 0)
		FAIL("cannot answer the refusal of %.300s: %s", json, err.msg);
	free(reply);
	proto_msg_free(&m);
}

struct bad_case {
	const char *json;
	const char *needle;
};

static void reject_all(const struct bad_case *cases, size_t n, int want)
{
	size_t i;

	for (i = 0; i < n; i++)
		reject(cases[i].json, strlen(cases[i].json), want, cases[i].needle);
}

#define REJECT_ALL(cases) reject_all(cases, sizeof(cases) / sizeof(cases[0]), -EINVAL)

/* One generated case, checked at once (scratch buffers are reused after four). */
#define REJECT(json, needle)                                   \
	do {                                                   \
		const char *json_ = (json);                    \
		reject(json_, strlen(json_), -EINVAL, needle); \
	} while (0)

static struct proto_ip ip(const char *s)
{
	struct proto_ip a = { .family = strchr(s, ':') ? AF_INET6 : AF_INET };

	if (inet_pton(a.family, s, a.addr) != 1)
		FAIL("bad test address %s", s);
	return a;
}

static struct proto_cidr cidr(const char *s, unsigned int prefix)
{
	struct proto_ip a = ip(s);
	struct proto_cidr c = { .family = a.family, .prefix = prefix };

	memcpy(c.addr, a.addr, sizeof(c.addr));
	return c;
}

static int encode_fails(const struct proto_msg *m, const char *needle)
{
	struct shoal_error err = { 0 };
	char *text = NULL;
	size_t len;
	int r = proto_encode(m, &text, &len, &err);

	if (r == 0) {
		free(text);
		FAIL("encoding %s succeeded; wanted '%s'", proto_type_name(m->type), needle);
	}
	if (!strstr(err.msg, needle))
		FAIL("encoding %s: '%s' does not say '%s'", proto_type_name(m->type), err.msg,
		     needle);
	CHECK(text == NULL);
	return r;
}

/* A configure message using most fields, naming three descriptors. */
static void full_configure(struct proto_msg *m)
{
	struct proto_configure *c = &m->configure;
	static const unsigned char mac[6] = { 0x02, 0x53, 0x48, 0x00, 0x00, 0x07 };

	proto_msg_init(m, PROTO_CONFIGURE, 1);
	c->instance_id = "i-0123456789abcdef";
	c->memory_mib = 128;
	c->hostname = "web-1.shoal";
	c->has_network = true;
	c->network.fd = 0;
	memcpy(c->network.mac, mac, 6);
	c->network.ipv4 = cidr("198.18.0.7", 16);
	c->network.ipv6 = cidr("fd53:6f61:6c00::7", 64);
	c->network.gateway4 = ip("198.18.0.1");
	c->network.gateway6 = ip("fe80::1");
	c->network.dns[0] = ip("198.18.0.1");
	c->network.dns[1] = ip("fd53:6f61:6c00::1");
	c->network.ndns = 2;
	c->network.mtu = 9000;
	c->network.offloads = false;
	c->disks[0].fd = 1;
	c->disks[0].mount_point = "/data";
	c->disks[1].path = "/var/lib/shoal/images/tools.erofs";
	c->disks[1].read_only = true;
	c->disks[1].mount_point = "/opt/tools";
	c->disks[1].fstype = "erofs";
	c->ndisks = 2;
	c->limits.max_jobs = 64;
	c->limits.max_processes = 4096;
	c->limits.max_open_files = 65536;
	c->limits.host_memory_mib = 256;
	c->kernel_cmdline = "loglevel=4";
	c->keep_on_supervisor_exit = true;
	c->adopt_listen_fd = 2;
	c->adopt_wait_ms = 60000;
}

/* A minimal valid configure, as JSON, with @extra spliced in before the end. */
#define CONFIGURE_MIN                                                                 \
	"{\"type\":\"configure\",\"id\":1,\"instance_id\":\"i-1\",\"memory_mib\":64," \
	"\"keep_on_supervisor_exit\":false"
#define NET_MIN "\"network\":{\"interface\":\"veth7\",\"mac\":\"02:00:00:00:00:01\""

/* ---------------------------------------------------------------------------
 * Round trips.
 */

TEST(hello_round_trips)
{
	struct proto_msg m, out;

	proto_msg_init(&m, PROTO_HELLO, 0);
	m.hello.version = PROTO_VERSION;
	m.hello.role = PROTO_ROLE_DAEMON;
	m.hello.software = "shoald 0.1";
	round_trip(&m, &out);
	CHECK_EQ_INT(out.hello.version, PROTO_VERSION);
	CHECK_EQ_INT(out.hello.role, PROTO_ROLE_DAEMON);
	CHECK_EQ_STR(out.hello.software, "shoald 0.1");
	CHECK(out.hello.instance_id == NULL);
	CHECK_EQ_INT(out.hello.state, PROTO_STATE_NONE);
	proto_msg_free(&out);

	proto_msg_init(&m, PROTO_HELLO, 0);
	m.hello.version = PROTO_VERSION;
	m.hello.role = PROTO_ROLE_INSTANCE;
	m.hello.instance_id = "i-42";
	m.hello.state = PROTO_STATE_READY;
	round_trip(&m, &out);
	CHECK_EQ_STR(out.hello.instance_id, "i-42");
	CHECK_EQ_INT(out.hello.state, PROTO_STATE_READY);
	CHECK(out.hello.software == NULL);
	proto_msg_free(&out);
}

TEST(configure_round_trips_every_field)
{
	struct proto_msg m, out;
	const struct proto_configure *c = &out.configure;
	char buf[64];

	full_configure(&m);
	CHECK_EQ_INT(proto_msg_nfds(&m), 3);
	round_trip(&m, &out);
	CHECK_EQ_INT(proto_msg_nfds(&out), 3);
	CHECK_EQ_STR(c->instance_id, "i-0123456789abcdef");
	CHECK_EQ_INT(c->memory_mib, 128);
	CHECK_EQ_STR(c->hostname, "web-1.shoal");
	CHECK(c->has_network);
	CHECK_EQ_INT(c->network.fd, 0);
	CHECK(c->network.interface == NULL);
	CHECK(memcmp(c->network.mac, m.configure.network.mac, 6) == 0);
	CHECK(memcmp(&c->network.ipv4, &m.configure.network.ipv4, sizeof(c->network.ipv4)) == 0);
	CHECK(memcmp(&c->network.ipv6, &m.configure.network.ipv6, sizeof(c->network.ipv6)) == 0);
	CHECK(memcmp(&c->network.gateway6, &m.configure.network.gateway6,
		     sizeof(c->network.gateway6)) == 0);
	CHECK_EQ_INT(c->network.ndns, 2);
	CHECK_EQ_STR(inet_ntop(AF_INET6, c->network.dns[1].addr, buf, sizeof(buf)),
		     "fd53:6f61:6c00::1");
	CHECK_EQ_INT(c->network.mtu, 9000);
	CHECK(!c->network.offloads);
	CHECK_EQ_INT(c->ndisks, 2);
	CHECK_EQ_INT(c->disks[0].fd, 0 + 1);
	CHECK(c->disks[0].path == NULL);
	CHECK(!c->disks[0].read_only);
	CHECK_EQ_STR(c->disks[0].fstype, "ext4");
	CHECK_EQ_INT(c->disks[1].fd, -1);
	CHECK_EQ_STR(c->disks[1].path, "/var/lib/shoal/images/tools.erofs");
	CHECK(c->disks[1].read_only);
	CHECK_EQ_STR(c->disks[1].mount_point, "/opt/tools");
	CHECK_EQ_STR(c->disks[1].fstype, "erofs");
	CHECK_EQ_INT(c->limits.max_jobs, 64);
	CHECK_EQ_INT(c->limits.max_processes, 4096);
	CHECK_EQ_INT(c->limits.max_open_files, 65536);
	CHECK_EQ_INT(c->limits.host_memory_mib, 256);
	CHECK_EQ_STR(c->kernel_cmdline, "loglevel=4");
	CHECK(c->keep_on_supervisor_exit);
	CHECK_EQ_INT(c->adopt_listen_fd, 2);
	CHECK_EQ_INT(c->adopt_wait_ms, 60000);
	proto_msg_free(&out);
}

TEST(configure_defaults_fill_what_is_absent)
{
	struct proto_msg m;
	const struct proto_configure *c = &m.configure;

	decode_ok(CONFIGURE_MIN "}", &m);
	CHECK_EQ_STR(c->hostname, "shoal");
	CHECK(!c->has_network);
	CHECK_EQ_INT(c->network.fd, -1);
	CHECK_EQ_INT(c->ndisks, 0);
	CHECK_EQ_INT(c->limits.max_jobs, 16);
	CHECK_EQ_INT(c->limits.max_processes, 1024);
	CHECK_EQ_INT(c->limits.max_open_files, 4096);
	CHECK_EQ_INT(c->limits.host_memory_mib, 0);
	CHECK(c->kernel_cmdline == NULL);
	CHECK(!c->keep_on_supervisor_exit);
	CHECK_EQ_INT(c->adopt_listen_fd, -1);
	CHECK_EQ_INT(c->adopt_wait_ms, 300000);
	CHECK_EQ_INT(proto_msg_nfds(&m), 0);
	proto_msg_free(&m);

	decode_ok(CONFIGURE_MIN "," NET_MIN
				"},\"disks\":[{\"path\":\"/img\",\"mount_point\":\"/d\"}]}",
		  &m);
	CHECK(c->has_network);
	CHECK_EQ_INT(c->network.fd, -1);
	CHECK_EQ_STR(c->network.interface, "veth7");
	CHECK_EQ_INT(c->network.ipv4.family, 0);
	CHECK_EQ_INT(c->network.gateway4.family, 0);
	CHECK_EQ_INT(c->network.mtu, 1500);
	CHECK(c->network.offloads);
	CHECK_EQ_INT(c->disks[0].fd, -1);
	CHECK_EQ_STR(c->disks[0].fstype, "ext4");
	proto_msg_free(&m);

	/* proto_msg_init() gives an encoder the same defaults. */
	proto_msg_init(&m, PROTO_CONFIGURE, 5);
	CHECK_EQ_STR(c->hostname, "shoal");
	CHECK_EQ_INT(c->network.fd, -1);
	CHECK_EQ_INT(c->network.mtu, 1500);
	CHECK_EQ_INT(c->disks[PROTO_DISKS_MAX - 1].fd, -1);
	CHECK_EQ_INT(c->adopt_listen_fd, -1);
}

TEST(ready_round_trips)
{
	struct proto_msg m, out;

	proto_msg_init(&m, PROTO_READY, 0);
	m.ready.timings = (struct proto_boot_timings){ .total_us = 4210,
						       .config_wait_us = 310,
						       .kernel_boot_us = 2900,
						       .rootfs_us = 150,
						       .network_us = 400,
						       .disks_us = 0,
						       .lockdown_us = 450 };
	m.ready.kernel_release = "6.12.38-shoal";
	round_trip(&m, &out);
	CHECK_EQ_INT(out.ready.timings.total_us, 4210);
	CHECK_EQ_INT(out.ready.timings.kernel_boot_us, 2900);
	CHECK_EQ_INT(out.ready.timings.lockdown_us, 450);
	CHECK_EQ_STR(out.ready.kernel_release, "6.12.38-shoal");
	proto_msg_free(&out);
}

TEST(file_transfer_messages_round_trip)
{
	static unsigned char data[PROTO_CHUNK_MAX];
	struct proto_msg m, out;
	size_t i;

	proto_msg_init(&m, PROTO_FILE_PUT, 10);
	m.file_put.path = "/home/user/notes.txt";
	m.file_put.size = PROTO_FILE_SIZE_MAX;
	m.file_put.mode = 0600;
	m.file_put.parents = true;
	round_trip(&m, &out);
	CHECK_EQ_STR(out.file_put.path, "/home/user/notes.txt");
	CHECK_EQ_INT(out.file_put.size, PROTO_FILE_SIZE_MAX);
	CHECK_EQ_INT(out.file_put.mode, 0600);
	CHECK(out.file_put.parents);
	proto_msg_free(&out);

	proto_msg_init(&m, PROTO_FILE_GET, 11);
	m.file_get.path = "/";
	round_trip(&m, &out);
	CHECK_EQ_STR(out.file_get.path, "/");
	proto_msg_free(&out);

	/* Every byte value, a whole chunk: base64 carries binary exactly. */
	for (i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i ^ (i >> 8));
	proto_msg_init(&m, PROTO_FILE_CHUNK, 0);
	m.file_chunk.stream = 10;
	m.file_chunk.offset = PROTO_FILE_SIZE_MAX - sizeof(data);
	m.file_chunk.data = (struct proto_bytes){ data, sizeof(data) };
	round_trip(&m, &out);
	CHECK_EQ_INT(out.file_chunk.stream, 10);
	CHECK_EQ_INT(out.file_chunk.offset, PROTO_FILE_SIZE_MAX - sizeof(data));
	CHECK_EQ_INT(out.file_chunk.data.len, sizeof(data));
	CHECK(memcmp(out.file_chunk.data.data, data, sizeof(data)) == 0);
	proto_msg_free(&out);

	proto_msg_init(&m, PROTO_FILE_END, 0);
	m.file_end.stream = 10;
	round_trip(&m, &out);
	CHECK(!out.file_end.has_error);
	proto_msg_free(&out);

	m.file_end.has_error = true;
	m.file_end.error.code = PROTO_ERR_IO;
	m.file_end.error.message = "read /big: Input/output error";
	round_trip(&m, &out);
	CHECK(out.file_end.has_error);
	CHECK_EQ_INT(out.file_end.error.code, PROTO_ERR_IO);
	CHECK_EQ_STR(out.file_end.error.message, "read /big: Input/output error");
	proto_msg_free(&out);

	proto_msg_init_ok(&m, 10, PROTO_FILE_PUT);
	m.ok.file_put.size = 12345;
	round_trip(&m, &out);
	CHECK_EQ_INT(out.ok.request, PROTO_FILE_PUT);
	CHECK_EQ_INT(out.ok.file_put.size, 12345);
	proto_msg_free(&out);

	proto_msg_init_ok(&m, 11, PROTO_FILE_GET);
	m.ok.file_get.size = 1 << 20;
	m.ok.file_get.mode = 0755;
	round_trip(&m, &out);
	CHECK_EQ_INT(out.ok.file_get.size, 1 << 20);
	CHECK_EQ_INT(out.ok.file_get.mode, 0755);
	proto_msg_free(&out);
}

TEST(stats_and_console_round_trip)
{
	struct proto_msg m, out;
	const struct proto_stats_result *s = &out.ok.stats;

	proto_msg_init(&m, PROTO_STATS, 20);
	round_trip(&m, &out);
	proto_msg_free(&out);

	proto_msg_init_ok(&m, 20, PROTO_STATS);
	m.ok.stats.uptime_us = 123456789;
	m.ok.stats.memory = (struct proto_memory_stats){ 64 << 20, 50 << 20, 5 << 20 };
	m.ok.stats.interfaces[0] = (struct proto_iface_stats){ "lo", 1, 2, 0, 0, 1, 2, 0, 0 };
	m.ok.stats.interfaces[1] = (struct proto_iface_stats){
		"eth0", PROTO_COUNTER_MAX, 10, 1, 2, 3000, 20, 3, 4,
	};
	m.ok.stats.ninterfaces = 2;
	m.ok.stats.host_threads = 3;
	m.ok.stats.host_syscalls_allowed = 38;
	m.ok.stats.jobs_running = 2;
	round_trip(&m, &out);
	CHECK_EQ_INT(s->uptime_us, 123456789);
	CHECK_EQ_INT(s->memory.kernel_free_bytes, 50 << 20);
	CHECK_EQ_INT(s->ninterfaces, 2);
	CHECK_EQ_STR(s->interfaces[1].name, "eth0");
	CHECK_EQ_INT(s->interfaces[1].rx_bytes, PROTO_COUNTER_MAX);
	CHECK_EQ_INT(s->interfaces[1].tx_dropped, 4);
	CHECK_EQ_INT(s->host_syscalls_allowed, 38);
	proto_msg_free(&out);

	proto_msg_init(&m, PROTO_CONSOLE, 21);
	m.console.cursor = 4096;
	m.console.max_bytes = 512;
	round_trip(&m, &out);
	CHECK_EQ_INT(out.console.cursor, 4096);
	CHECK_EQ_INT(out.console.max_bytes, 512);
	proto_msg_free(&out);

	proto_msg_init_ok(&m, 21, PROTO_CONSOLE);
	m.ok.console.text = "[    0.000000] Linux version 6.12 \xe2\x9c\x93\n\"quoted\"\t\n";
	m.ok.console.cursor = 4608;
	m.ok.console.lost = 100;
	round_trip(&m, &out);
	CHECK_EQ_STR(out.ok.console.text, m.ok.console.text);
	CHECK_EQ_INT(out.ok.console.cursor, 4608);
	CHECK_EQ_INT(out.ok.console.lost, 100);
	proto_msg_free(&out);
}

TEST(exec_messages_round_trip)
{
	static const unsigned char in[] = { 'a', 0, 'b', 0xff, '\n' };
	struct proto_msg m, out;
	const struct proto_exec *e = &out.exec;

	proto_msg_init(&m, PROTO_EXEC, 30);
	m.exec.argv[0] = "/bin/sh";
	m.exec.argv[1] = "-c";
	m.exec.argv[2] = "cat > /tmp/x; echo \"done\"";
	m.exec.argv[3] = "";
	m.exec.argc = 4;
	m.exec.has_env = true;
	m.exec.env[0] = "PATH=/usr/bin:/bin";
	m.exec.env[1] = "EMPTY=";
	m.exec.nenv = 2;
	m.exec.cwd = "/tmp";
	m.exec.stdin_data = (struct proto_bytes){ in, sizeof(in) };
	m.exec.timeout_ms = 5000;
	m.exec.output_cap = 0;
	round_trip(&m, &out);
	CHECK_EQ_INT(e->argc, 4);
	CHECK_EQ_STR(e->argv[2], "cat > /tmp/x; echo \"done\"");
	CHECK_EQ_STR(e->argv[3], "");
	CHECK(e->has_env);
	CHECK_EQ_INT(e->nenv, 2);
	CHECK_EQ_STR(e->env[1], "EMPTY=");
	CHECK_EQ_STR(e->cwd, "/tmp");
	CHECK_EQ_INT(e->stdin_data.len, sizeof(in));
	CHECK(memcmp(e->stdin_data.data, in, sizeof(in)) == 0);
	CHECK(!e->stdin_stream);
	CHECK_EQ_INT(e->timeout_ms, 5000);
	CHECK_EQ_INT(e->output_cap, 0);
	proto_msg_free(&out);

	/* No env (the instance's default) and an empty env are different requests. */
	proto_msg_init(&m, PROTO_EXEC, 31);
	m.exec.argv[0] = "true";
	m.exec.argc = 1;
	m.exec.stdin_stream = true;
	round_trip(&m, &out);
	CHECK(!e->has_env);
	CHECK(e->stdin_data.data == NULL);
	CHECK(e->stdin_stream);
	CHECK_EQ_STR(e->cwd, "/");
	CHECK_EQ_INT(e->timeout_ms, 60000);
	CHECK_EQ_INT(e->output_cap, 16 << 20);
	proto_msg_free(&out);
	m.exec.has_env = true;
	round_trip(&m, &out);
	CHECK(e->has_env);
	CHECK_EQ_INT(e->nenv, 0);
	proto_msg_free(&out);

	proto_msg_init_ok(&m, 31, PROTO_EXEC);
	m.ok.exec.job = 7;
	round_trip(&m, &out);
	CHECK_EQ_INT(out.ok.exec.job, 7);
	proto_msg_free(&out);

	proto_msg_init(&m, PROTO_EXEC_INPUT, 0);
	m.exec_input.job = 7;
	m.exec_input.data = (struct proto_bytes){ in, sizeof(in) };
	round_trip(&m, &out);
	CHECK_EQ_INT(out.exec_input.data.len, sizeof(in));
	CHECK(!out.exec_input.eof);
	proto_msg_free(&out);
	m.exec_input.data = (struct proto_bytes){ NULL, 0 };
	m.exec_input.eof = true;
	round_trip(&m, &out);
	CHECK(out.exec_input.data.data == NULL);
	CHECK(out.exec_input.eof);
	proto_msg_free(&out);

	proto_msg_init(&m, PROTO_EXEC_OUTPUT, 0);
	m.exec_output.job = 7;
	m.exec_output.stream = PROTO_STREAM_STDERR;
	m.exec_output.offset = 65536;
	m.exec_output.data = (struct proto_bytes){ in, sizeof(in) };
	round_trip(&m, &out);
	CHECK_EQ_INT(out.exec_output.stream, PROTO_STREAM_STDERR);
	CHECK_EQ_INT(out.exec_output.offset, 65536);
	CHECK(memcmp(out.exec_output.data.data, in, sizeof(in)) == 0);
	proto_msg_free(&out);

	proto_msg_init(&m, PROTO_EXEC_EXIT, 0);
	m.exec_exit.job = 7;
	m.exec_exit.exit_code = 3;
	m.exec_exit.duration_us = 1500;
	m.exec_exit.stdout_bytes = 100;
	m.exec_exit.stderr_bytes = 0;
	round_trip(&m, &out);
	CHECK_EQ_INT(out.exec_exit.exit_code, 3);
	CHECK_EQ_INT(out.exec_exit.signal, -1);
	CHECK(!out.exec_exit.timed_out);
	proto_msg_free(&out);
	m.exec_exit.exit_code = -1;
	m.exec_exit.signal = 9;
	m.exec_exit.timed_out = true;
	m.exec_exit.stdout_bytes = 1 << 30;
	m.exec_exit.stdout_truncated = true;
	round_trip(&m, &out);
	CHECK_EQ_INT(out.exec_exit.exit_code, -1);
	CHECK_EQ_INT(out.exec_exit.signal, 9);
	CHECK(out.exec_exit.timed_out);
	CHECK(out.exec_exit.stdout_truncated);
	CHECK(!out.exec_exit.stderr_truncated);
	proto_msg_free(&out);

	proto_msg_init(&m, PROTO_EXEC_SIGNAL, 32);
	CHECK_EQ_INT(m.exec_signal.signal, 15);
	CHECK(m.exec_signal.group);
	m.exec_signal.job = 7;
	m.exec_signal.signal = 9;
	m.exec_signal.group = false;
	round_trip(&m, &out);
	CHECK_EQ_INT(out.exec_signal.job, 7);
	CHECK_EQ_INT(out.exec_signal.signal, 9);
	CHECK(!out.exec_signal.group);
	proto_msg_free(&out);
}

TEST(lifecycle_messages_round_trip)
{
	struct proto_msg m, out;
	size_t i;

	proto_msg_init(&m, PROTO_SHUTDOWN, 40);
	CHECK_EQ_INT(m.shutdown.timeout_ms, 10000);
	m.shutdown.timeout_ms = 0;
	round_trip(&m, &out);
	CHECK_EQ_INT(out.shutdown.timeout_ms, 0);
	proto_msg_free(&out);

	proto_msg_init(&m, PROTO_ADOPT, 41);
	m.adopt.instance_id = "i-7";
	round_trip(&m, &out);
	CHECK_EQ_STR(out.adopt.instance_id, "i-7");
	proto_msg_free(&out);

	proto_msg_init_ok(&m, 41, PROTO_ADOPT);
	m.ok.adopt.instance_id = "i-7";
	m.ok.adopt.state = PROTO_STATE_READY;
	m.ok.adopt.uptime_us = 99;
	for (i = 0; i < PROTO_JOBS_MAX; i++)
		m.ok.adopt.jobs[i] = i + 1;
	m.ok.adopt.njobs = PROTO_JOBS_MAX;
	round_trip(&m, &out);
	CHECK_EQ_INT(out.ok.adopt.state, PROTO_STATE_READY);
	CHECK_EQ_INT(out.ok.adopt.njobs, PROTO_JOBS_MAX);
	CHECK_EQ_INT(out.ok.adopt.jobs[PROTO_JOBS_MAX - 1], PROTO_JOBS_MAX);
	proto_msg_free(&out);

	/* Requests without a result answer with an empty object. */
	proto_msg_init_ok(&m, 40, PROTO_SHUTDOWN);
	round_trip(&m, &out);
	CHECK_EQ_INT(out.ok.request, PROTO_SHUTDOWN);
	proto_msg_free(&out);

	proto_msg_init(&m, PROTO_FATAL, 0);
	m.fatal.reason = PROTO_FATAL_PANIC;
	m.fatal.message = "Kernel panic - not syncing: VFS: Unable to mount root fs";
	round_trip(&m, &out);
	CHECK_EQ_INT(out.fatal.reason, PROTO_FATAL_PANIC);
	CHECK_EQ_INT(out.fatal.signal, -1);
	proto_msg_free(&out);
	m.fatal.reason = PROTO_FATAL_SIGNAL;
	m.fatal.signal = 11;
	m.fatal.message = "SIGSEGV in host thread skl-irq at 0x7f0000001000";
	round_trip(&m, &out);
	CHECK_EQ_INT(out.fatal.signal, 11);
	proto_msg_free(&out);

	proto_msg_init(&m, PROTO_ERROR, 0);
	m.error.code = PROTO_ERR_VERSION_MISMATCH;
	m.error.message = "peer speaks protocol version 2, this side speaks version 1";
	round_trip(&m, &out);
	CHECK_EQ_INT(out.id, 0);
	CHECK_EQ_INT(out.error.code, PROTO_ERR_VERSION_MISMATCH);
	proto_msg_free(&out);
}

/* ---------------------------------------------------------------------------
 * Refusals.
 */

TEST(rejects_unknown_fields_at_every_level)
{
	static const struct bad_case cases[] = {
		{ CONFIGURE_MIN ",\"colour\":\"red\"}", "configure: unknown field 'colour'" },
		{ CONFIGURE_MIN "," NET_MIN ",\"promisc\":true}}",
		  "configure.network: unknown field 'promisc'" },
		{ CONFIGURE_MIN ",\"disks\":[{\"path\":\"/i\",\"mount_point\":\"/m\",\"x\":1}]}",
		  "configure.disks[0]: unknown field 'x'" },
		{ CONFIGURE_MIN ",\"limits\":{\"max_cpus\":2}}",
		  "configure.limits: unknown field 'max_cpus'" },
		{ "{\"type\":\"stats\",\"id\":1,\"verbose\":true}",
		  "stats: unknown field 'verbose'" },
		{ "{\"type\":\"ok\",\"id\":1,\"request\":\"shutdown\",\"result\":{\"bye\":1}}",
		  "ok.result: unknown field 'bye'" },
		{ "{\"type\":\"ok\",\"id\":1,\"request\":\"exec\",\"result\":{\"job\":1},\"x\":0}",
		  "ok: unknown field 'x'" },
		{ "{\"type\":\"file_end\",\"stream\":1,\"error\":{\"code\":\"io\",\"message\":"
		  "\"m\","
		  "\"errno\":5}}",
		  "file_end.error: unknown field 'errno'" },
		{ "{\"type\":\"ready\",\"kernel_release\":\"6\",\"timings\":{\"total_us\":1,"
		  "\"config_wait_us\":1,\"kernel_boot_us\":1,\"rootfs_us\":1,\"network_us\":1,"
		  "\"disks_us\":1,\"lockdown_us\":1,\"fun_us\":1}}",
		  "ready.timings: unknown field 'fun_us'" },
		{ "{\"type\":\"hello\",\"version\":1,\"role\":\"daemon\",\"features\":[]}",
		  "hello: unknown field 'features'" },
		/* A hostile key is quoted harmlessly in the message. */
		{ "{\"type\":\"stats\",\"id\":1,\"\\n\\u00e9'\":1}",
		  "unknown field '\\x0a\\xc3\\xa9\\x27'" },
	};

	REJECT_ALL(cases);
}

TEST(rejects_wrong_types)
{
	static const struct bad_case cases[] = {
		{ "{\"type\":\"configure\",\"id\":1,\"instance_id\":\"i\",\"memory_mib\":\"64\","
		  "\"keep_on_supervisor_exit\":false}",
		  "configure.memory_mib: expected an integer, got a string" },
		{ "{\"type\":\"configure\",\"id\":1,\"instance_id\":\"i\",\"memory_mib\":64.0,"
		  "\"keep_on_supervisor_exit\":false}",
		  "configure.memory_mib: expected an integer, got a real number" },
		{ "{\"type\":\"configure\",\"id\":1,\"instance_id\":\"i\",\"memory_mib\":64,"
		  "\"keep_on_supervisor_exit\":\"true\"}",
		  "configure.keep_on_supervisor_exit: expected a boolean, got a string" },
		{ "{\"type\":\"configure\",\"id\":1,\"instance_id\":\"i\",\"memory_mib\":64,"
		  "\"keep_on_supervisor_exit\":0}",
		  "expected a boolean, got an integer" },
		{ CONFIGURE_MIN ",\"network\":[]}",
		  "configure.network: expected an object, got an array" },
		{ CONFIGURE_MIN ",\"disks\":{}}",
		  "configure.disks: expected an array, got an object" },
		{ CONFIGURE_MIN "," NET_MIN ",\"mtu\":null}}",
		  "configure.network.mtu: expected an integer, got null" },
		{ "{\"type\":\"exec\",\"id\":1,\"argv\":\"sh -c true\"}",
		  "exec.argv: expected an array, got a string" },
		{ "{\"type\":\"exec\",\"id\":1,\"argv\":[\"sh\",1]}",
		  "exec.argv[1]: expected a string, got an integer" },
		{ "{\"type\":\"file_chunk\",\"stream\":1,\"offset\":0,\"data\":[104,105]}",
		  "file_chunk.data: expected a base64 string, got an array" },
		{ "{\"type\":5,\"id\":1}", "type: expected a string" },
		{ "{\"type\":\"stats\",\"id\":\"1\"}", "stats.id: expected an integer" },
		{ "{\"type\":\"ok\",\"id\":1,\"request\":\"exec\",\"result\":[]}",
		  "ok.result: expected an object, got an array" },
		{ "[\"stats\",1]", "message: expected a JSON object" },
		{ "\"stats\"", "malformed JSON at byte 7: '[' or '{' expected" },
	};

	REJECT_ALL(cases);
}

TEST(rejects_missing_required_fields)
{
	static const struct bad_case cases[] = {
		{ "{\"id\":1}", "missing field 'type'" },
		{ "{\"type\":\"stats\"}", "stats.id: missing" },
		{ "{\"type\":\"configure\",\"id\":1,\"memory_mib\":64,\"keep_on_supervisor_exit\":"
		  "true}",
		  "configure.instance_id: missing" },
		{ "{\"type\":\"configure\",\"id\":1,\"instance_id\":\"i\",\"memory_mib\":64}",
		  "configure.keep_on_supervisor_exit: missing" },
		{ CONFIGURE_MIN ",\"network\":{\"interface\":\"eth0\"}}",
		  "configure.network.mac: missing" },
		{ CONFIGURE_MIN ",\"disks\":[{\"path\":\"/img\"}]}",
		  "configure.disks[0].mount_point: missing" },
		{ "{\"type\":\"exec\",\"id\":1}", "exec.argv: missing" },
		{ "{\"type\":\"file_put\",\"id\":1,\"path\":\"/x\"}", "file_put.size: missing" },
		{ "{\"type\":\"ok\",\"id\":1,\"request\":\"stats\"}", "ok.result: missing" },
		{ "{\"type\":\"ok\",\"id\":1,\"request\":\"stats\",\"result\":{\"uptime_us\":1}}",
		  "ok.result.memory: missing" },
		{ "{\"type\":\"error\",\"id\":1,\"message\":\"m\"}", "error.code: missing" },
		{ "{\"type\":\"hello\",\"role\":\"daemon\"}", "hello.version: missing" },
		{ "{\"type\":\"hello\",\"version\":1,\"role\":\"instance\"}",
		  "an instance's hello must say its state" },
		{ "{\"type\":\"ready\",\"kernel_release\":\"6\",\"timings\":{\"total_us\":1}}",
		  "ready.timings.config_wait_us: missing" },
		{ "{\"type\":\"exec_exit\",\"job\":1,\"duration_us\":1,\"stdout_bytes\":0,"
		  "\"stderr_bytes\":0}",
		  "exactly one of exit_code and signal" },
	};

	REJECT_ALL(cases);
}

TEST(rejects_oversize_strings)
{
	REJECT(fmt("{\"type\":\"adopt\",\"id\":1,\"instance_id\":\"%s\"}", rep('a', 65)),
	       "adopt.instance_id: 65 bytes, must be 1..64");
	REJECT("{\"type\":\"adopt\",\"id\":1,\"instance_id\":\"\"}",
	       "adopt.instance_id: 0 bytes, must be 1..64");
	REJECT(fmt(CONFIGURE_MIN ",\"hostname\":\"%s\"}", rep('h', 64)),
	       "configure.hostname: 64 bytes, must be 1..63");
	REJECT(fmt(CONFIGURE_MIN
		   ",\"network\":{\"interface\":\"%s\",\"mac\":\"02:00:00:00:00:01\"}}",
		   rep('e', 16)),
	       "configure.network.interface: 16 bytes, must be 1..15");
	REJECT(fmt("{\"type\":\"file_get\",\"id\":1,\"path\":\"/%s\"}", rep('p', PROTO_PATH_MAX)),
	       "file_get.path: 4096 bytes, must be 1..4095");
	REJECT(fmt("{\"type\":\"file_get\",\"id\":1,\"path\":\"/a/%s/b\"}", rep('p', 256)),
	       "has a component of 256 bytes, at most 255");
	REJECT(fmt("{\"type\":\"hello\",\"version\":1,\"role\":\"daemon\",\"software\":\"%s\"}",
		   rep('s', 65)),
	       "hello.software: 65 bytes");
	REJECT(fmt("{\"type\":\"error\",\"id\":0,\"code\":\"io\",\"message\":\"%s\"}",
		   rep('m', PROTO_TEXT_MAX + 1)),
	       "error.message: 4097 bytes, must be 1..4096");
	REJECT(fmt("{\"type\":\"fatal\",\"reason\":\"panic\",\"message\":\"%s\"}",
		   rep('m', PROTO_TEXT_MAX + 1)),
	       "fatal.message: 4097 bytes");
	REJECT(fmt("{\"type\":\"ok\",\"id\":1,\"request\":\"console\",\"result\":{\"text\":\"%s\","
		   "\"cursor\":0,\"lost\":0}}",
		   rep('k', PROTO_CONSOLE_MAX + 1)),
	       "ok.result.text: 32769 bytes, must be 0..32768");
	REJECT(fmt("{\"type\":\"exec\",\"id\":1,\"argv\":[\"sh\",\"%s\"]}", rep('x', 4097)),
	       "exec.argv[1]: 4097 bytes, must be 0..4096");
	REJECT(fmt("{\"type\":\"exec\",\"id\":1,\"argv\":[\"sh\"],\"env\":[\"A=%s\"]}",
		   rep('x', 4095)),
	       "exec.env[0]: 4097 bytes");
	REJECT(fmt(CONFIGURE_MIN ",\"kernel_cmdline\":\"%s\"}", rep('c', 1025)),
	       "configure.kernel_cmdline: 1025 bytes");
	/* Escapes count as the bytes they stand for: 4097 "\u0041" are 4097 bytes. */
	{
		char *s = scratch(), *p = s;
		int i;

		p += sprintf(p, "{\"type\":\"exec\",\"id\":1,\"argv\":[\"");
		for (i = 0; i < 4097; i++)
			p += sprintf(p, "\\u0041");
		sprintf(p, "\"]}");
		REJECT(s, "exec.argv[0]: 4097 bytes");
	}
}

/* A JSON array of @n copies of @item, in a scratch buffer. */
static const char *array_of(const char *item, size_t n)
{
	char *s = scratch(), *p = s;
	size_t i;

	*p++ = '[';
	for (i = 0; i < n; i++)
		p += sprintf(p, "%s%s", i ? "," : "", item);
	*p++ = ']';
	*p = '\0';
	return s;
}

TEST(rejects_oversize_arrays_and_totals)
{
	static const char iface[] =
		"{\"name\":\"e\",\"rx_bytes\":0,\"rx_packets\":0,\"rx_errors\":0,"
		"\"rx_dropped\":0,\"tx_bytes\":0,\"tx_packets\":0,\"tx_errors\":0,"
		"\"tx_dropped\":0}";
	char item[4200];

	REJECT(fmt("{\"type\":\"exec\",\"id\":1,\"argv\":%s}", array_of("\"a\"", 257)),
	       "exec.argv: 257 entries, must be 1..256");
	REJECT("{\"type\":\"exec\",\"id\":1,\"argv\":[]}", "exec.argv: 0 entries, must be 1..256");
	REJECT(fmt("{\"type\":\"exec\",\"id\":1,\"argv\":[\"a\"],\"env\":%s}",
		   array_of("\"A=1\"", 257)),
	       "exec.env: 257 entries, must be 0..256");
	REJECT(fmt(CONFIGURE_MIN ",\"disks\":%s}",
		   array_of("{\"path\":\"/i\",\"mount_point\":\"/m\"}", 9)),
	       "configure.disks: 9 entries, must be 0..8");
	REJECT(fmt(CONFIGURE_MIN "," NET_MIN ",\"dns\":%s}}", array_of("\"1.1.1.1\"", 4)),
	       "configure.network.dns: 4 entries, must be 0..3");
	REJECT(fmt("{\"type\":\"ok\",\"id\":1,\"request\":\"stats\",\"result\":{\"uptime_us\":1,"
		   "\"memory\":{\"kernel_total_bytes\":1,\"kernel_free_bytes\":1,"
		   "\"host_rss_bytes\":1},\"host_threads\":1,\"host_syscalls_allowed\":1,"
		   "\"jobs_running\":0,\"interfaces\":%s}}",
		   array_of(iface, 17)),
	       "ok.result.interfaces: 17 entries, must be 0..16");
	REJECT(fmt("{\"type\":\"ok\",\"id\":1,\"request\":\"adopt\",\"result\":{\"instance_id\":"
		   "\"i\",\"state\":\"ready\",\"uptime_us\":1,\"jobs\":%s}}",
		   array_of("1", 257)),
	       "ok.result.jobs: 257 entries, must be 0..256");
	/* Each argv entry fits; together they pass PROTO_EXEC_STRINGS_MAX. */
	snprintf(item, sizeof(item), "\"%s\"", rep('x', 4000));
	REJECT(fmt("{\"type\":\"exec\",\"id\":1,\"argv\":%s}", array_of(item, 17)),
	       "exec: argv and env take 68017 bytes, at most 65536");
}

TEST(rejects_oversize_bytes_and_messages)
{
	/*
	 * A run of 'A's is canonical base64 for zero bytes. 87388 characters are
	 * refused by their length alone, before anything is allocated; 87384
	 * characters decode to 65538 bytes, two over the cap.
	 */
	REJECT(fmt("{\"type\":\"file_chunk\",\"stream\":1,\"offset\":0,\"data\":\"%s\"}",
		   rep('A', 87388)),
	       "file_chunk.data: more than 65536 bytes");
	REJECT(fmt("{\"type\":\"file_chunk\",\"stream\":1,\"offset\":0,\"data\":\"%s\"}",
		   rep('A', 87384)),
	       "file_chunk.data: 65538 bytes, must be 1..65536");
	REJECT("{\"type\":\"file_chunk\",\"stream\":1,\"offset\":0,\"data\":\"\"}",
	       "file_chunk.data: 0 bytes, must be 1..65536");
	REJECT(fmt("{\"type\":\"exec\",\"id\":1,\"argv\":[\"cat\"],\"stdin\":\"%s\"}",
		   rep('A', 87388)),
	       "exec.stdin: more than 65536 bytes");

	/* The packet limit itself: PROTO_MSG_MAX bytes decode, one more does not. */
	{
		char *s = scratch();
		const char *msg = "{\"type\":\"stats\",\"id\":1}";
		struct proto_msg m;

		memset(s, ' ', PROTO_MSG_MAX);
		memcpy(s, msg, strlen(msg));
		decode_ok_len(s, PROTO_MSG_MAX, &m);
		proto_msg_free(&m);
		reject(s, PROTO_MSG_MAX + 1, -EMSGSIZE, "message of 262145 bytes, at most 262144");
	}
	reject("", 0, -EINVAL, "empty message");
}

TEST(bad_version_is_reported_with_both_versions)
{
	struct shoal_error err = { 0 };
	struct proto_msg m;
	const char *v2 =
		"{\"type\":\"hello\",\"version\":2,\"role\":\"instance\",\"state\":\"ready\","
		"\"compression\":\"zstd\"}";

	/* A newer peer's hello may carry fields v1 never heard of: the version wins. */
	CHECK_EQ_INT(proto_decode(v2, strlen(v2), &m, &err), -EPROTONOSUPPORT);
	CHECK(strstr(err.msg, "peer speaks protocol version 2, this side speaks version 1"));
	CHECK_EQ_INT(m.type, PROTO_HELLO);
	CHECK_EQ_INT(m.hello.version, 2);
	CHECK_EQ_INT(proto_error_code_from_errno(-EPROTONOSUPPORT), PROTO_ERR_VERSION_MISMATCH);
	reject(v2, strlen(v2), -EPROTONOSUPPORT, "version 2");
	v2 = "{\"type\":\"hello\",\"version\":65535,\"role\":\"daemon\"}";
	reject(v2, strlen(v2), -EPROTONOSUPPORT, "version 65535");

	REJECT("{\"type\":\"hello\",\"version\":0,\"role\":\"daemon\"}",
	       "hello.version: 0 is out of range 1..65535");
	REJECT("{\"type\":\"hello\",\"version\":65536,\"role\":\"daemon\"}",
	       "hello.version: 65536 is out of range 1..65535");
	REJECT("{\"type\":\"hello\",\"version\":\"1\",\"role\":\"daemon\"}",
	       "hello.version: expected an integer");
	REJECT("{\"type\":\"hello\",\"version\":1.5,\"role\":\"daemon\"}",
	       "hello.version: expected an integer, got a real number");
}

TEST(rejects_relative_and_dotdot_paths)
{
	static const char *const bad[][2] = {
		{ "etc/passwd", "is not absolute" },
		{ "", "0 bytes" },
		{ "..", "is not absolute" },
		{ "/..", "has a '..' component" },
		{ "/a/../b", "has a '..' component" },
		{ "/a/..", "has a '..' component" },
		{ "/../etc/shadow", "has a '..' component" },
		{ "/./a", "has a '.' component" },
		{ "/a/.", "has a '.' component" },
		{ "/a//b", "has an empty component ('//')" },
		{ "//a", "has an empty component ('//')" },
		{ "/a/", "ends with '/'" },
	};
	static const char *const good[] = {
		"/", "/a", "/a/b..c", "/...", "/a/.b", "/.a/b.", "/home/user/file with spaces.txt"
	};
	struct shoal_error err = { 0 };
	struct proto_msg m;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		REJECT(fmt("{\"type\":\"file_put\",\"id\":1,\"path\":\"%s\",\"size\":1}",
			   bad[i][0]),
		       bad[i][1]);
		REJECT(fmt("{\"type\":\"file_get\",\"id\":1,\"path\":\"%s\"}", bad[i][0]),
		       bad[i][1]);
		REJECT(fmt("{\"type\":\"exec\",\"id\":1,\"argv\":[\"ls\"],\"cwd\":\"%s\"}",
			   bad[i][0]),
		       bad[i][1]);
		REJECT(fmt(CONFIGURE_MIN ",\"disks\":[{\"path\":\"/img\",\"mount_point\":\"%s\"}]}",
			   bad[i][0]),
		       bad[i][1]);
		/* Host paths of disk images follow the same rule. */
		REJECT(fmt(CONFIGURE_MIN ",\"disks\":[{\"path\":\"%s\",\"mount_point\":\"/m\"}]}",
			   bad[i][0]),
		       bad[i][1]);
		shoal_error_clear(&err);
		if (bad[i][0][0] && proto_check_instance_path(bad[i][0], &err) != -EINVAL)
			FAIL("proto_check_instance_path accepted '%s'", bad[i][0]);
		if (bad[i][0][0] && !strstr(err.msg, bad[i][1]))
			FAIL("'%s' for '%s'", err.msg, bad[i][0]);
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		decode_ok(fmt("{\"type\":\"file_get\",\"id\":1,\"path\":\"%s\"}", good[i]), &m);
		CHECK_EQ_STR(m.file_get.path, good[i]);
		proto_msg_free(&m);
		CHECK_EQ_INT(proto_check_instance_path(good[i], NULL), 0);
	}
	REJECT(CONFIGURE_MIN ",\"disks\":[{\"path\":\"/img\",\"mount_point\":\"/\"}]}",
	       "configure.disks[0].mount_point: '/' is the root");
	/* A NUL escape never reaches the path check: jansson refuses it. */
	REJECT("{\"type\":\"file_get\",\"id\":1,\"path\":\"/a\\u0000/../b\"}", "malformed JSON");
	CHECK_EQ_INT(proto_check_instance_path(NULL, &err), -EINVAL);
}

TEST(rejects_negative_and_out_of_range_numbers)
{
	static const struct bad_case cases[] = {
		{ "{\"type\":\"file_put\",\"id\":1,\"path\":\"/f\",\"size\":-1}",
		  "file_put.size: -1 is out of range 0..1073741824" },
		{ "{\"type\":\"file_put\",\"id\":1,\"path\":\"/f\",\"size\":1073741825}",
		  "file_put.size: 1073741825 is out of range" },
		{ "{\"type\":\"file_put\",\"id\":1,\"path\":\"/f\",\"size\":1,\"mode\":-1}",
		  "file_put.mode: -1 is out of range 0..4095" },
		{ "{\"type\":\"file_put\",\"id\":1,\"path\":\"/f\",\"size\":1,\"mode\":4096}",
		  "file_put.mode: 4096 is out of range" },
		{ "{\"type\":\"file_chunk\",\"stream\":1,\"offset\":-65536,\"data\":\"AA==\"}",
		  "file_chunk.offset: -65536 is out of range" },
		{ "{\"type\":\"file_chunk\",\"stream\":1,\"offset\":1073741824,\"data\":\"AA==\"}",
		  "file_chunk: chunk ends past 1073741824 bytes" },
		{ "{\"type\":\"file_chunk\",\"stream\":0,\"offset\":0,\"data\":\"AA==\"}",
		  "file_chunk.stream: 0 is out of range 1..9007199254740991" },
		{ "{\"type\":\"configure\",\"id\":1,\"instance_id\":\"i\",\"memory_mib\":-64,"
		  "\"keep_on_supervisor_exit\":false}",
		  "configure.memory_mib: -64 is out of range 4..65536" },
		{ "{\"type\":\"configure\",\"id\":1,\"instance_id\":\"i\",\"memory_mib\":65537,"
		  "\"keep_on_supervisor_exit\":false}",
		  "configure.memory_mib: 65537 is out of range" },
		{ CONFIGURE_MIN "," NET_MIN ",\"mtu\":67}}", "configure.network.mtu: 67" },
		{ CONFIGURE_MIN ",\"limits\":{\"max_jobs\":0}}", "configure.limits.max_jobs: 0" },
		{ CONFIGURE_MIN ",\"adopt_wait_ms\":999}", "configure.adopt_wait_ms: 999" },
		{ "{\"type\":\"exec\",\"id\":1,\"argv\":[\"a\"],\"timeout_ms\":-1}",
		  "exec.timeout_ms: -1 is out of range 1..86400000" },
		{ "{\"type\":\"exec\",\"id\":1,\"argv\":[\"a\"],\"timeout_ms\":0}",
		  "exec.timeout_ms: 0 is out of range" },
		{ "{\"type\":\"exec\",\"id\":1,\"argv\":[\"a\"],\"output_cap\":-1}",
		  "exec.output_cap: -1 is out of range" },
		{ "{\"type\":\"console\",\"id\":1,\"cursor\":-5}", "console.cursor: -5" },
		{ "{\"type\":\"console\",\"id\":1,\"max_bytes\":0}", "console.max_bytes: 0" },
		{ "{\"type\":\"exec_exit\",\"job\":1,\"exit_code\":-1,\"duration_us\":1,"
		  "\"stdout_bytes\":0,\"stderr_bytes\":0}",
		  "exec_exit.exit_code: -1 is out of range 0..255" },
		{ "{\"type\":\"exec_exit\",\"job\":1,\"exit_code\":256,\"duration_us\":1,"
		  "\"stdout_bytes\":0,\"stderr_bytes\":0}",
		  "exec_exit.exit_code: 256" },
		{ "{\"type\":\"exec_exit\",\"job\":1,\"exit_code\":0,\"duration_us\":-1,"
		  "\"stdout_bytes\":0,\"stderr_bytes\":0}",
		  "exec_exit.duration_us: -1" },
		{ "{\"type\":\"exec_signal\",\"id\":1,\"job\":1,\"signal\":0}",
		  "exec_signal.signal: 0 is out of range 1..64" },
		{ "{\"type\":\"exec_signal\",\"id\":1,\"job\":1,\"signal\":65}", "signal: 65" },
		{ "{\"type\":\"shutdown\",\"id\":1,\"timeout_ms\":600001}", "shutdown.timeout_ms" },
		{ "{\"type\":\"stats\",\"id\":1e3}", "stats.id: expected an integer" },
		{ "{\"type\":\"stats\",\"id\":99999999999999999999}", "too big integer" },
	};

	REJECT_ALL(cases);
}

TEST(rejects_bad_addresses_names_and_enums)
{
	static const struct bad_case cases[] = {
		{ CONFIGURE_MIN "," NET_MIN ",\"ipv4\":\"198.18.0.7\"}}",
		  "configure.network.ipv4: '198.18.0.7' is not an IPv4 address with a prefix" },
		{ CONFIGURE_MIN "," NET_MIN ",\"ipv4\":\"198.18.0.7/33\"}}", "with a prefix" },
		{ CONFIGURE_MIN "," NET_MIN ",\"ipv4\":\"198.18.0.7/016\"}}", "with a prefix" },
		{ CONFIGURE_MIN "," NET_MIN ",\"ipv4\":\"198.18.0.7/\"}}", "with a prefix" },
		{ CONFIGURE_MIN "," NET_MIN ",\"ipv4\":\"198.018.0.7/16\"}}", "with a prefix" },
		{ CONFIGURE_MIN "," NET_MIN ",\"ipv4\":\"0x7f.1/8\"}}", "with a prefix" },
		{ CONFIGURE_MIN "," NET_MIN ",\"ipv4\":\"fd00::7/64\"}}", "not an IPv4 address" },
		{ CONFIGURE_MIN "," NET_MIN ",\"ipv6\":\"198.18.0.7/16\"}}",
		  "not an IPv6 address" },
		{ CONFIGURE_MIN "," NET_MIN ",\"ipv6\":\"fd00::7/129\"}}", "not an IPv6 address" },
		{ CONFIGURE_MIN "," NET_MIN ",\"dns\":[\"dns.example\"]}}",
		  "configure.network.dns[0]: 'dns.example' is not an IP address" },
		{ CONFIGURE_MIN ",\"network\":{\"interface\":\"e\",\"mac\":\"02:00:00:00:00\"}}",
		  "configure.network.mac: '02:00:00:00:00' is not a unicast MAC address" },
		{ CONFIGURE_MIN ",\"network\":{\"interface\":\"e\",\"mac\":\"02-00-00-00-00-01\"}}",
		  "is not a unicast MAC" },
		{ CONFIGURE_MIN ",\"network\":{\"interface\":\"e\",\"mac\":\"01:00:5e:00:00:01\"}}",
		  "is not a unicast MAC" },
		{ CONFIGURE_MIN ",\"network\":{\"interface\":\"e\",\"mac\":\"00:00:00:00:00:00\"}}",
		  "is not a unicast MAC" },
		{ CONFIGURE_MIN ",\"network\":{\"interface\":\"e\",\"mac\":\"02:00:00:00:00:0g\"}}",
		  "is not a unicast MAC" },
		{ CONFIGURE_MIN
		  ",\"network\":{\"interface\":\"ve th\",\"mac\":\"02:00:00:00:00:01\"}}",
		  "configure.network.interface: 've th' has a character other than" },
		{ CONFIGURE_MIN
		  ",\"network\":{\"interface\":\"..\",\"mac\":\"02:00:00:00:00:01\"}}",
		  "is not an interface name" },
		{ CONFIGURE_MIN ",\"hostname\":\"-web\"}", "does not start and end with a letter" },
		{ CONFIGURE_MIN ",\"hostname\":\"web..1\"}", "has an empty label" },
		{ CONFIGURE_MIN ",\"hostname\":\"web_1\"}", "has a character other than" },
		{ "{\"type\":\"adopt\",\"id\":1,\"instance_id\":\"../x\"}",
		  "adopt.instance_id: '../x' does not start with a letter or digit" },
		{ "{\"type\":\"adopt\",\"id\":1,\"instance_id\":\"a/b\"}",
		  "has a character other" },
		{ CONFIGURE_MIN ",\"disks\":[{\"path\":\"/i\",\"mount_point\":\"/m\",\"fstype\":"
				"\"Ext4\"}]}",
		  "has a character other than lowercase letters and digits" },
		{ CONFIGURE_MIN ",\"kernel_cmdline\":\"init=/bin/sh\\n\"}",
		  "has a byte that is not printable ASCII" },
		{ "{\"type\":\"exec\",\"id\":1,\"argv\":[\"a\"],\"env\":[\"NOEQUALS\"]}",
		  "exec.env[0]: 'NOEQUALS' is not NAME=value" },
		{ "{\"type\":\"exec\",\"id\":1,\"argv\":[\"a\"],\"env\":[\"=x\"]}",
		  "has an empty NAME" },
		{ "{\"type\":\"hello\",\"version\":1,\"role\":\"root\"}",
		  "hello.role: unknown value 'root'" },
		{ "{\"type\":\"hello\",\"version\":1,\"role\":\"instance\",\"state\":\"zombie\"}",
		  "hello.state: unknown value 'zombie'" },
		{ "{\"type\":\"exec_output\",\"job\":1,\"stream\":\"stdin\",\"offset\":0,"
		  "\"data\":\"AA==\"}",
		  "exec_output.stream: unknown value 'stdin'" },
		{ "{\"type\":\"error\",\"id\":1,\"code\":\"oops\",\"message\":\"m\"}",
		  "error.code: unknown value 'oops'" },
		{ "{\"type\":\"fatal\",\"reason\":\"boom\",\"message\":\"m\"}",
		  "fatal.reason: unknown value 'boom'" },
		{ "{\"type\":\"ok\",\"id\":1,\"request\":\"ready\",\"result\":{}}",
		  "ok.request: unknown value 'ready'" },
		{ "{\"type\":\"reboot\",\"id\":1}", "type: unknown message type 'reboot'" },
		{ "{\"type\":\"file_chunk\",\"stream\":1,\"offset\":0,\"data\":\"aGVsbG8\"}",
		  "file_chunk.data: not canonical base64" },
		{ "{\"type\":\"file_chunk\",\"stream\":1,\"offset\":0,\"data\":\"aGVs bG8=\"}",
		  "not canonical base64" },
		{ "{\"type\":\"file_chunk\",\"stream\":1,\"offset\":0,\"data\":\"aGVsbG9=\"}",
		  "not canonical base64" },
	};

	REJECT_ALL(cases);
}

TEST(rejects_violations_of_rules_between_fields)
{
	static const struct bad_case cases[] = {
		{ CONFIGURE_MIN ",\"network\":{\"mac\":\"02:00:00:00:00:01\"}}",
		  "configure.network: exactly one of fd and interface" },
		{ CONFIGURE_MIN
		  ",\"network\":{\"fd\":0,\"interface\":\"e\",\"mac\":\"02:00:00:00:00:01\"}}",
		  "exactly one of fd and interface" },
		{ CONFIGURE_MIN "," NET_MIN ",\"gateway4\":\"198.18.0.1\"}}",
		  "gateway4 without ipv4" },
		{ CONFIGURE_MIN "," NET_MIN
				",\"ipv4\":\"198.18.0.7/24\",\"gateway4\":\"198.18.1.1\"}}",
		  "gateway4 198.18.1.1 is outside ipv4 198.18.0.7/24" },
		{ CONFIGURE_MIN "," NET_MIN ",\"gateway6\":\"fe80::1\"}}",
		  "gateway6 without ipv6" },
		{ CONFIGURE_MIN "," NET_MIN ",\"ipv6\":\"fd00::7/64\",\"gateway6\":\"fd01::1\"}}",
		  "gateway6 fd01::1 is neither link-local nor inside ipv6 fd00::7/64" },
		{ CONFIGURE_MIN ",\"disks\":[{\"mount_point\":\"/m\"}]}",
		  "configure.disks[0]: exactly one of fd and path" },
		{ CONFIGURE_MIN ",\"disks\":[{\"fd\":0,\"path\":\"/i\",\"mount_point\":\"/m\"}]}",
		  "exactly one of fd and path" },
		{ CONFIGURE_MIN
		  ",\"disks\":[{\"path\":\"/a\",\"mount_point\":\"/m\"},{\"path\":\"/b\","
		  "\"mount_point\":\"/m\"}]}",
		  "configure: disks 0 and 1 share a mount_point" },
		{ "{\"type\":\"configure\",\"id\":1,\"instance_id\":\"i\",\"memory_mib\":64,"
		  "\"keep_on_supervisor_exit\":true}",
		  "keep_on_supervisor_exit needs adopt_listen_fd" },
		{ CONFIGURE_MIN ",\"adopt_listen_fd\":0}", "adopt_listen_fd without keep" },
		{ CONFIGURE_MIN ",\"limits\":{\"host_memory_mib\":32}}",
		  "limits.host_memory_mib 32 is below memory_mib 64" },
		{ "{\"type\":\"exec\",\"id\":1,\"argv\":[\"\"]}", "exec: argv[0] is empty" },
		{ "{\"type\":\"exec\",\"id\":1,\"argv\":[\"cat\"],\"stdin\":\"AA==\",\"stdin_"
		  "stream\":true}",
		  "stdin and stdin_stream exclude each other" },
		{ "{\"type\":\"exec_input\",\"job\":1}", "exec_input: neither data nor eof" },
		{ "{\"type\":\"exec_exit\",\"job\":1,\"exit_code\":0,\"signal\":9,\"duration_us\":"
		  "1,"
		  "\"stdout_bytes\":0,\"stderr_bytes\":0}",
		  "exactly one of exit_code and signal" },
		{ "{\"type\":\"exec_exit\",\"job\":1,\"exit_code\":0,\"timed_out\":true,"
		  "\"duration_us\":1,\"stdout_bytes\":0,\"stderr_bytes\":0}",
		  "a job that timed out was killed by a signal" },
		{ "{\"type\":\"exec_output\",\"job\":1,\"stream\":\"stdout\",\"offset\":1073741824,"
		  "\"data\":\"AA==\"}",
		  "output ends past 1073741824 bytes" },
		{ "{\"type\":\"fatal\",\"reason\":\"signal\",\"message\":\"m\"}",
		  "signal is required with reason 'signal'" },
		{ "{\"type\":\"fatal\",\"reason\":\"panic\",\"signal\":11,\"message\":\"m\"}",
		  "signal is required with reason 'signal' and only there" },
		{ "{\"type\":\"hello\",\"version\":1,\"role\":\"daemon\",\"state\":\"ready\"}",
		  "state and instance_id are for an instance's hello only" },
	};

	REJECT_ALL(cases);
}

TEST(rejects_bad_descriptor_references)
{
	static const struct bad_case cases[] = {
		{ CONFIGURE_MIN ",\"network\":{\"fd\":1,\"mac\":\"02:00:00:00:00:01\"}}",
		  "configure: descriptor indexes must be 0..0, each used once" },
		{ CONFIGURE_MIN ",\"network\":{\"fd\":0,\"mac\":\"02:00:00:00:00:01\"},\"disks\":[{"
				"\"fd\":0,\"mount_point\":\"/m\"}]}",
		  "configure.disks[0].fd: descriptor index 0 is used twice" },
		{ CONFIGURE_MIN ",\"network\":{\"fd\":16,\"mac\":\"02:00:00:00:00:01\"}}",
		  "configure.network.fd: 16 is out of range 0..15" },
		{ CONFIGURE_MIN ",\"network\":{\"fd\":-1,\"mac\":\"02:00:00:00:00:01\"}}",
		  "configure.network.fd: -1 is out of range 0..15" },
		{ CONFIGURE_MIN ",\"disks\":[{\"fd\":0,\"mount_point\":\"/a\"},{\"fd\":2,"
				"\"mount_point\":\"/b\"}]}",
		  "descriptor indexes must be 0..1" },
	};
	struct proto_msg m;

	REJECT_ALL(cases);
	/* Any order is fine as long as 0..n-1 are each used once. */
	decode_ok(CONFIGURE_MIN ",\"network\":{\"fd\":1,\"mac\":\"02:00:00:00:00:01\"},\"disks\":[{"
				"\"fd\":0,\"mount_point\":\"/m\"}]}",
		  &m);
	CHECK_EQ_INT(proto_msg_nfds(&m), 2);
	proto_msg_free(&m);
}

TEST(rejects_bad_ids)
{
	static const struct bad_case cases[] = {
		{ "{\"type\":\"stats\",\"id\":0}",
		  "stats.id: 0 is out of range 1..9007199254740991" },
		{ "{\"type\":\"stats\",\"id\":-1}", "stats.id: -1 is out of range" },
		{ "{\"type\":\"stats\",\"id\":9007199254740992}",
		  "stats.id: 9007199254740992 is out" },
		{ "{\"type\":\"ok\",\"id\":0,\"request\":\"shutdown\",\"result\":{}}",
		  "ok.id: 0 is out of range" },
		{ "{\"type\":\"error\",\"id\":-1,\"code\":\"io\",\"message\":\"m\"}",
		  "error.id: -1 is out of range 0.." },
		{ "{\"type\":\"error\",\"code\":\"io\",\"message\":\"m\"}", "error.id: missing" },
		{ "{\"type\":\"ready\",\"id\":5,\"kernel_release\":\"6\",\"timings\":{}}",
		  "ready.id: events carry no id" },
		{ "{\"type\":\"hello\",\"id\":1,\"version\":1,\"role\":\"daemon\"}",
		  "hello.id: events carry no id" },
	};

	REJECT_ALL(cases);
}

TEST(rejects_malformed_json)
{
	static const struct bad_case cases[] = {
		{ "{", "malformed JSON" },
		{ "}", "malformed JSON" },
		{ "{\"type\":\"stats\",\"id\":1} trailing", "malformed JSON at byte" },
		{ "{\"type\":\"stats\",\"id\":1}{\"type\":\"stats\",\"id\":2}", "malformed JSON" },
		{ "{\"type\":\"stats\",\"id\":1,\"id\":2}", "duplicate object key" },
		{ "{\"type\":\"stats\",\"id\":1,}", "malformed JSON" },
		{ "{'type':'stats','id':1}", "malformed JSON" },
		{ "{\"type\":\"stats\",\"id\":01}", "malformed JSON" },
		{ "{\"type\":\"stats\",\"id\":NaN}", "malformed JSON" },
		{ "{\"type\":\"adopt\",\"id\":1,\"instance_id\":\"\xff\"}", "malformed JSON" },
		{ "{\"type\":\"adopt\",\"id\":1,\"instance_id\":\"\xc0\xaf\"}", "malformed JSON" },
		{ "{\"type\":\"adopt\",\"id\":1,\"instance_id\":\"\\ud800\"}", "malformed JSON" },
		{ "{\"type\":\"adopt\",\"id\":1,\"instance_id\":\"a\\u0000b\"}", "malformed JSON" },
		{ "{\"type\":\"adopt\",\"id\":1,\"instance_id\":\"a\nb\"}", "malformed JSON" },
		{ "\xef\xbb\xbf{\"type\":\"stats\",\"id\":1}", "malformed JSON" },
		{ "[[[[[[[[[", "nests deeper than 8 levels" },
		{ "{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{}}}}}}}}}",
		  "nests deeper than 8 levels" },
	};
	struct proto_msg m;
	char *s;

	REJECT_ALL(cases);
	/* The message is refused with the JSON error text made harmless for a reply. */
	reject("{\"type\":\"stats\",\"id\":1}\0garbage", 32, -EINVAL, "malformed JSON");

	/* Nesting as deep as the packet allows is refused at once, without recursion. */
	s = scratch();
	memset(s, '[', PROTO_MSG_MAX);
	reject(s, PROTO_MSG_MAX, -EINVAL, "nests deeper than 8 levels (byte 8)");

	/* Brackets inside strings are text, not nesting. */
	decode_ok("{\"type\":\"exec\",\"id\":1,\"argv\":[\"[[[[[[[[[[{{{{{{{{{{\",\"\\\"[[[[[[[[["
		  "\"]}",
		  &m);
	CHECK_EQ_STR(m.exec.argv[1], "\"[[[[[[[[[");
	proto_msg_free(&m);
}

TEST(rejects_many_unknown_keys_without_trouble)
{
	char *s = scratch(), *p = s;
	int i;

	/* About 20000 keys: all parsed by jansson, refused at the first unknown one. */
	p += sprintf(p, "{\"type\":\"stats\",\"id\":3");
	for (i = 0; p - s < PROTO_MSG_MAX - 64; i++)
		p += sprintf(p, ",\"k%d\":%d", i, i);
	*p++ = '}';
	*p = '\0';
	reject(s, strlen(s), -EINVAL, "stats: unknown field 'k");
}

TEST(refused_message_keeps_type_and_id_for_the_answer)
{
	struct shoal_error err = { 0 };
	struct proto_msg m;
	const char *bad_exec = "{\"type\":\"exec\",\"id\":42,\"argv\":\"x\"}";
	const char *bad_type = "{\"id\":9,\"type\":\"reboot\"}";
	const char *bad_id = "{\"type\":\"stats\",\"id\":-3}";

	CHECK_EQ_INT(proto_decode(bad_exec, strlen(bad_exec), &m, &err), -EINVAL);
	CHECK_EQ_INT(m.type, PROTO_EXEC);
	CHECK_EQ_INT(m.id, 42);
	CHECK(m.exec.argc == 0 && m.exec.argv[0] == NULL);
	proto_msg_free(&m);
	CHECK_EQ_INT(proto_decode(bad_type, strlen(bad_type), &m, &err), -EINVAL);
	CHECK_EQ_INT(m.type, PROTO_NONE);
	CHECK_EQ_INT(m.id, 9);
	CHECK_EQ_INT(proto_decode(bad_id, strlen(bad_id), &m, &err), -EINVAL);
	CHECK_EQ_INT(m.type, PROTO_STATS);
	CHECK_EQ_INT(m.id, 0);
}

/* ---------------------------------------------------------------------------
 * The encoder and the helpers.
 */

TEST(encoder_refuses_what_the_decoder_would)
{
	static char escaped[15][PROTO_ARG_MAX + 1];
	struct proto_msg m;
	int i;

	proto_msg_init(&m, PROTO_FILE_GET, 1);
	m.file_get.path = "relative/path";
	CHECK_EQ_INT(encode_fails(&m, "file_get.path: 'relative/path' is not absolute"), -EINVAL);
	m.file_get.path = NULL;
	encode_fails(&m, "file_get.path: missing");

	proto_msg_init(&m, PROTO_STATS, 0);
	encode_fails(&m, "stats: id 0 is out of range 1..");
	proto_msg_init(&m, PROTO_READY, 7);
	encode_fails(&m, "ready: events carry no id");
	proto_msg_init(&m, PROTO_NONE, 1);
	encode_fails(&m, "no message type 0");
	proto_msg_init(&m, PROTO_TYPE_COUNT, 1);
	encode_fails(&m, "no message type");

	proto_msg_init(&m, PROTO_EXEC, 1);
	encode_fails(&m, "exec.argv: 0 entries, must be 1..256");
	m.exec.argv[0] = "caf\xe9";
	m.exec.argc = 1;
	encode_fails(&m, "exec.argv[0]: 'caf\\xe9' is not valid UTF-8");
	m.exec.argv[0] = "ok";
	m.exec.stdin_data =
		(struct proto_bytes){ (const unsigned char *)"", PROTO_STDIN_INLINE_MAX + 1 };
	encode_fails(&m, "exec.stdin: 65537 bytes");

	/* Within every limit, but control characters escape to six bytes each. */
	proto_msg_init(&m, PROTO_EXEC, 1);
	for (i = 0; i < 15; i++) {
		memset(escaped[i], 1, PROTO_ARG_MAX);
		m.exec.argv[i] = escaped[i];
	}
	m.exec.argc = 15;
	CHECK_EQ_INT(encode_fails(&m, "bytes of JSON, at most 262144"), -EMSGSIZE);

	proto_msg_init(&m, PROTO_EXEC_OUTPUT, 0);
	m.exec_output.job = 1;
	m.exec_output.stream = PROTO_STREAM_NONE;
	m.exec_output.data = (struct proto_bytes){ (const unsigned char *)"x", 1 };
	encode_fails(&m, "exec_output.stream: 0 is not a valid value");

	full_configure(&m);
	m.configure.disks[0].fd = 5;
	encode_fails(&m, "descriptor indexes must be 0..2");
	full_configure(&m);
	m.configure.network.mac[0] = 0x01;
	encode_fails(&m, "configure.network.mac: not a unicast MAC address");
	full_configure(&m);
	m.configure.network.gateway4 = ip("10.0.0.1");
	encode_fails(&m, "gateway4 10.0.0.1 is outside ipv4 198.18.0.7/16");
	full_configure(&m);
	m.configure.network.ipv4 = cidr("fd00::1", 64);
	encode_fails(&m, "configure.network.ipv4: address family 10 is not allowed here");
	full_configure(&m);
	m.configure.ndisks = PROTO_DISKS_MAX + 1;
	encode_fails(&m, "configure.disks: 9 entries, must be 0..8");
}

TEST(error_replies_are_always_encodable)
{
	struct shoal_error err = { 0 };
	struct proto_msg m;
	char *text;
	size_t len;

	/* Invalid UTF-8 (even a sequence cut by a shoal_error) is replaced, not refused. */
	CHECK_EQ_INT(proto_encode_error(7, PROTO_ERR_NOT_FOUND, "no such job \xff\xfe \xe2\x9c",
					&text, &len, &err),
		     0);
	decode_ok(text, &m);
	CHECK_EQ_INT(m.id, 7);
	CHECK_EQ_INT(m.error.code, PROTO_ERR_NOT_FOUND);
	CHECK_EQ_STR(m.error.message, "no such job ?? ??");
	proto_msg_free(&m);
	free(text);

	CHECK_EQ_INT(proto_encode_error(0, PROTO_ERR_INTERNAL, rep('x', 10000), &text, &len, &err),
		     0);
	decode_ok(text, &m);
	CHECK_EQ_INT(strlen(m.error.message), PROTO_TEXT_MAX);
	proto_msg_free(&m);
	free(text);

	CHECK_EQ_INT(proto_encode_error(1, PROTO_ERR_TIMEOUT, "", &text, &len, &err), 0);
	decode_ok(text, &m);
	CHECK_EQ_STR(m.error.message, "timeout");
	proto_msg_free(&m);
	free(text);

	CHECK_EQ_INT(proto_encode_error(1, PROTO_ERR_COUNT, "m", &text, &len, &err), -EINVAL);
	CHECK(strstr(err.msg, "error.code"));
}

TEST(check_peer_enforces_who_sends_what)
{
	struct shoal_error err = { 0 };
	struct proto_msg m;

	proto_msg_init(&m, PROTO_READY, 0);
	CHECK_EQ_INT(proto_check_peer(&m, PROTO_ROLE_INSTANCE, NULL), 0);
	CHECK_EQ_INT(proto_check_peer(&m, PROTO_ROLE_DAEMON, &err), -EPROTO);
	CHECK(strstr(err.msg, "the daemon may not send ready"));

	proto_msg_init(&m, PROTO_CONFIGURE, 1);
	CHECK_EQ_INT(proto_check_peer(&m, PROTO_ROLE_DAEMON, NULL), 0);
	CHECK_EQ_INT(proto_check_peer(&m, PROTO_ROLE_INSTANCE, NULL), -EPROTO);
	proto_msg_init_ok(&m, 1, PROTO_STATS);
	CHECK_EQ_INT(proto_check_peer(&m, PROTO_ROLE_DAEMON, NULL), -EPROTO);
	CHECK_EQ_INT(proto_check_peer(&m, PROTO_ROLE_INSTANCE, NULL), 0);
	proto_msg_init(&m, PROTO_FILE_CHUNK, 0);
	CHECK_EQ_INT(proto_check_peer(&m, PROTO_ROLE_DAEMON, NULL), 0);
	CHECK_EQ_INT(proto_check_peer(&m, PROTO_ROLE_INSTANCE, NULL), 0);

	proto_msg_init(&m, PROTO_HELLO, 0);
	m.hello.role = PROTO_ROLE_DAEMON;
	shoal_error_clear(&err);
	CHECK_EQ_INT(proto_check_peer(&m, PROTO_ROLE_INSTANCE, &err), -EPROTO);
	CHECK(strstr(err.msg, "hello from the instance says role 'daemon'"));

	proto_msg_init(&m, PROTO_ERROR, 3);
	CHECK_EQ_INT(proto_check_peer(&m, PROTO_ROLE_INSTANCE, NULL), 0);
	CHECK_EQ_INT(proto_check_peer(&m, PROTO_ROLE_DAEMON, NULL), -EPROTO);
	m.id = 0;
	CHECK_EQ_INT(proto_check_peer(&m, PROTO_ROLE_DAEMON, NULL), 0);
}

TEST(names_and_errno_mapping)
{
	CHECK_EQ_STR(proto_type_name(PROTO_EXEC_SIGNAL), "exec_signal");
	CHECK_EQ_STR(proto_type_name(PROTO_NONE), "?");
	CHECK_EQ_STR(proto_type_name((enum proto_type)999), "?");
	CHECK_EQ_STR(proto_error_code_name(PROTO_ERR_NOT_FOUND), "not_found");
	CHECK_EQ_STR(proto_error_code_name(PROTO_ERR_COUNT), "?");
	CHECK_EQ_STR(proto_state_name(PROTO_STATE_BOOTING), "booting");
	CHECK_EQ_STR(proto_role_name(PROTO_ROLE_INSTANCE), "instance");

	CHECK_EQ_INT(proto_error_code_from_errno(ENOENT), PROTO_ERR_NOT_FOUND);
	CHECK_EQ_INT(proto_error_code_from_errno(-EACCES), PROTO_ERR_PERMISSION);
	CHECK_EQ_INT(proto_error_code_from_errno(-EINVAL), PROTO_ERR_BAD_REQUEST);
	CHECK_EQ_INT(proto_error_code_from_errno(-EMSGSIZE), PROTO_ERR_TOO_LARGE);
	CHECK_EQ_INT(proto_error_code_from_errno(ETIMEDOUT), PROTO_ERR_TIMEOUT);
	CHECK_EQ_INT(proto_error_code_from_errno(12345), PROTO_ERR_INTERNAL);
	CHECK_EQ_INT(proto_error_code_to_errno(PROTO_ERR_NOT_FOUND), ENOENT);
	CHECK_EQ_INT(proto_error_code_to_errno(PROTO_ERR_VERSION_MISMATCH), EPROTONOSUPPORT);
	CHECK_EQ_INT(proto_error_code_to_errno(PROTO_ERR_INTERNAL), EIO);
}

TEST(fuzz_seed_corpus_holds_only_valid_messages)
{
	DIR *dir = opendir("tests/fuzz/corpus/proto");
	struct dirent *d;
	int seen = 0;
	bool types[PROTO_TYPE_COUNT] = { false };
	int t;

	if (!dir)
		FAIL("tests/fuzz/corpus/proto: %s (run from the repository root)", strerror(errno));
	while ((d = readdir(dir))) {
		char path[512], *buf = scratch();
		struct proto_msg m;
		size_t len;
		FILE *f;

		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "tests/fuzz/corpus/proto/%s", d->d_name);
		f = fopen(path, "rb");
		CHECK(f != NULL);
		len = fread(buf, 1, PROTO_MSG_MAX + 1, f);
		fclose(f);
		while (len && buf[len - 1] == '\n')
			len--;
		{
			struct shoal_error err = { 0 };

			if (proto_decode(buf, len, &m, &err) < 0)
				FAIL("seed %s: %s", d->d_name, err.msg);
		}
		types[m.type] = true;
		proto_msg_free(&m);
		seen++;
	}
	closedir(dir);
	for (t = PROTO_HELLO; t < PROTO_TYPE_COUNT; t++)
		if (!types[t])
			FAIL("no seed of type %s", proto_type_name((enum proto_type)t));
	CHECK(seen >= PROTO_TYPE_COUNT - 1);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * File streams against a real instance: uploads and downloads of 0 bytes, 1
 * byte, 1 MiB and 64 MiB come back byte-identical with their mode; an upload
 * replaces a file atomically, and a failed or abandoned one leaves the old
 * file and no temporary behind; paths that are not canonical ('..', '//',
 * relative), sizes over the protocol's cap or over the instance's memory,
 * directories and missing files are refused with the right error code; the
 * files the instance wrote from its configuration (/etc/hostname, hosts,
 * resolv.conf) are there.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/harness.h"
#include "tests/instance/tinst.h"

#define RAW(t, s) tinst_send_raw(t, s, strlen(s))

static unsigned char *pattern(size_t len, unsigned int seed)
{
	unsigned char *p = malloc(len ? len : 1);
	uint32_t x = seed * 2654435761u + 1;
	size_t i;

	CHECK(p != NULL);
	for (i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (unsigned char)x;
	}
	return p;
}

static void round_trip(struct tinst *t, const char *path, size_t len, uint32_t mode)
{
	enum proto_error_code code;
	unsigned char *data = pattern(len, (unsigned int)len);
	unsigned char *back;
	uint32_t got_mode;
	size_t got;

	CHECK_EQ_INT(tinst_put(t, path, data, len, mode), PROTO_OK);
	back = tinst_get(t, path, &got, &got_mode, &code);
	CHECK(back != NULL);
	CHECK_EQ_INT(got, len);
	CHECK_EQ_INT(got_mode, mode);
	CHECK(!memcmp(data, back, len));
	printf("%s: %zu bytes, mode %o, byte-identical\n", path, len, mode);
	free(data);
	free(back);
}

static void start_with_memory(struct tinst *t, uint32_t mib)
{
	struct proto_msg cfg, ready;

	tinst_spawn(t, NULL);
	tinst_hello(t);
	tinst_configure_init(t, &cfg);
	cfg.configure.memory_mib = mib;
	tinst_boot(t, &cfg, NULL, 0, &ready);
	proto_msg_free(&ready);
}

TEST(put_get_small_files_round_trip)
{
	struct tinst t;

	tinst_require_root();
	tinst_start(&t, NULL, NULL);
	round_trip(&t, "/tmp/empty", 0, 0644);
	round_trip(&t, "/tmp/one", 1, 0600);
	round_trip(&t, "/root/odd", 65537, 0755);
	tinst_shutdown(&t);
}

TEST(put_get_1mib_in_chunks)
{
	struct tinst t;

	tinst_require_root();
	tinst_start(&t, NULL, NULL);
	round_trip(&t, "/home/one-mib", 1u << 20, 0644);
	tinst_shutdown(&t);
}

TEST_TIMEOUT(put_get_64mib_in_chunks, 180)
{
	struct tinst t;

	tinst_require_root();
	start_with_memory(&t, 256);
	round_trip(&t, "/tmp/big", 64u << 20, 0640);
	tinst_shutdown(&t);
}

TEST(put_replaces_atomically_and_failures_leave_the_old_file)
{
	unsigned char *v1 = pattern(1000, 1), *v2 = pattern(2000, 2), *back;
	enum proto_error_code code;
	struct tinst t;
	struct proto_msg msg;
	uint64_t id;
	size_t len;

	tinst_require_root();
	tinst_start(&t, NULL, NULL);
	CHECK_EQ_INT(tinst_put(&t, "/tmp/f", v1, 1000, 0644), PROTO_OK);
	CHECK_EQ_INT(tinst_put(&t, "/tmp/f", v2, 2000, 0644), PROTO_OK);

	/* A chunk at the wrong offset: refused at once; the stream is dropped. */
	proto_msg_init(&msg, PROTO_FILE_PUT, 0);
	msg.file_put.path = "/tmp/f";
	msg.file_put.size = 10;
	id = tinst_send(&t, &msg, NULL, 0);
	proto_msg_init(&msg, PROTO_FILE_CHUNK, 0);
	msg.file_chunk.stream = id;
	msg.file_chunk.offset = 5;
	msg.file_chunk.data.data = v1;
	msg.file_chunk.data.len = 5;
	tinst_send(&t, &msg, NULL, 0);
	tinst_expect_error(&t, id, PROTO_ERR_BAD_REQUEST, 5000);
	proto_msg_init(&msg, PROTO_FILE_END, 0);
	msg.file_end.stream = id;
	tinst_send(&t, &msg, NULL, 0); /* in flight after the failure: dropped silently */

	/* More bytes than announced. */
	proto_msg_init(&msg, PROTO_FILE_PUT, 0);
	msg.file_put.path = "/tmp/f";
	msg.file_put.size = 3;
	id = tinst_send(&t, &msg, NULL, 0);
	proto_msg_init(&msg, PROTO_FILE_CHUNK, 0);
	msg.file_chunk.stream = id;
	msg.file_chunk.data.data = v1;
	msg.file_chunk.data.len = 4;
	tinst_send(&t, &msg, NULL, 0);
	tinst_expect_error(&t, id, PROTO_ERR_TOO_LARGE, 5000);

	/* Fewer bytes than announced at file_end. */
	proto_msg_init(&msg, PROTO_FILE_PUT, 0);
	msg.file_put.path = "/tmp/f";
	msg.file_put.size = 3;
	id = tinst_send(&t, &msg, NULL, 0);
	proto_msg_init(&msg, PROTO_FILE_END, 0);
	msg.file_end.stream = id;
	tinst_send(&t, &msg, NULL, 0);
	tinst_expect_error(&t, id, PROTO_ERR_BAD_REQUEST, 5000);

	/* Abandoned by the supervisor. */
	proto_msg_init(&msg, PROTO_FILE_PUT, 0);
	msg.file_put.path = "/tmp/f";
	msg.file_put.size = 100;
	id = tinst_send(&t, &msg, NULL, 0);
	proto_msg_init(&msg, PROTO_FILE_END, 0);
	msg.file_end.stream = id;
	msg.file_end.has_error = true;
	msg.file_end.error.code = PROTO_ERR_CANCELLED;
	msg.file_end.error.message = "the client went away";
	tinst_send(&t, &msg, NULL, 0);
	tinst_expect_error(&t, id, PROTO_ERR_CANCELLED, 5000);

	/* The second version is still there, and no temporary file is left. */
	back = tinst_get(&t, "/tmp/f", &len, NULL, &code);
	CHECK(back != NULL);
	CHECK_EQ_INT(len, 2000);
	CHECK(!memcmp(back, v2, 2000));
	free(back);
	for (id = 1; id < 12; id++) {
		char tmp[64];

		snprintf(tmp, sizeof(tmp), "/tmp/.shoal-put-%llu", (unsigned long long)id);
		CHECK(tinst_get(&t, tmp, &len, NULL, &code) == NULL);
		CHECK_EQ_INT(code, PROTO_ERR_NOT_FOUND);
	}
	free(v1);
	free(v2);
	tinst_shutdown(&t);
}

TEST(paths_that_are_not_canonical_are_refused)
{
	static const char *const bad[] = {
		"/tmp/../etc/passwd", "../etc/passwd", "tmp/x",	    "/tmp//x",
		"/tmp/./x",	      "/tmp/x/",       "/tmp/x/..", "",
	};
	struct tinst t;
	char text[256];
	size_t i;

	tinst_require_root();
	tinst_start(&t, NULL, NULL);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text),
			 "{\"type\":\"file_put\",\"id\":%zu,\"path\":\"%s\",\"size\":1}", 100 + i,
			 bad[i]);
		RAW(&t, text);
		tinst_expect_error(&t, 100 + i, PROTO_ERR_BAD_REQUEST, 5000);
		snprintf(text, sizeof(text), "{\"type\":\"file_get\",\"id\":%zu,\"path\":\"%s\"}",
			 200 + i, bad[i]);
		RAW(&t, text);
		tinst_expect_error(&t, 200 + i, PROTO_ERR_BAD_REQUEST, 5000);
	}
	tinst_shutdown(&t);
}

TEST(oversize_files_are_refused)
{
	struct tinst t;
	struct proto_msg msg;
	uint64_t id;

	tinst_require_root();
	tinst_start(&t, NULL, NULL);
	/* Over the protocol's 1 GiB: refused by the decoder. */
	RAW(&t, "{\"type\":\"file_put\",\"id\":50,\"path\":\"/tmp/x\",\"size\":1073741825}");
	tinst_expect_error(&t, 50, PROTO_ERR_BAD_REQUEST, 5000);
	/* Within it, but more than a 64 MiB instance can hold. */
	proto_msg_init(&msg, PROTO_FILE_PUT, 0);
	msg.file_put.path = "/tmp/x";
	msg.file_put.size = 1u << 30;
	id = tinst_send(&t, &msg, NULL, 0);
	tinst_expect_error(&t, id, PROTO_ERR_LIMIT, 5000);
	/* A chunk over 64 KiB: refused by the decoder before it is decoded. */
	RAW(&t, "{\"type\":\"file_put\",\"id\":51,\"path\":\"/tmp/y\",\"size\":100000}");
	{
		static char chunk[140 * 1024];
		size_t n = (size_t)snprintf(
			chunk, sizeof(chunk),
			"{\"type\":\"file_chunk\",\"stream\":51,\"offset\":0,\"data\":\"");

		while (n < 4 * 22000 + 60)
			chunk[n++] = 'A';
		n += (size_t)snprintf(chunk + n, sizeof(chunk) - n, "\"}");
		tinst_send_raw(&t, chunk, n);
		tinst_expect_error(&t, 0, PROTO_ERR_BAD_REQUEST, 5000);
	}
	/* Stream 51 stays open until abandoned. */
	tinst_stats(&t, &msg);
	proto_msg_free(&msg);
	RAW(&t, "{\"type\":\"file_end\",\"stream\":51,\"error\":{\"code\":\"cancelled\","
		"\"message\":\"gave up\"}}");
	tinst_expect_error(&t, 51, PROTO_ERR_CANCELLED, 5000);
	tinst_shutdown(&t);
}

TEST(directories_and_missing_files)
{
	enum proto_error_code code;
	struct tinst t;
	struct proto_msg msg;
	uint64_t id;
	size_t len;
	char *back;

	tinst_require_root();
	tinst_start(&t, NULL, NULL);
	CHECK(tinst_get(&t, "/tmp", &len, NULL, &code) == NULL);
	CHECK_EQ_INT(code, PROTO_ERR_BAD_REQUEST);
	CHECK(tinst_get(&t, "/dev/zero", &len, NULL, &code) == NULL);
	CHECK_EQ_INT(code, PROTO_ERR_BAD_REQUEST);
	CHECK(tinst_get(&t, "/nope", &len, NULL, &code) == NULL);
	CHECK_EQ_INT(code, PROTO_ERR_NOT_FOUND);
	/* The instance's files are its own kernel's, not the host's. */
	CHECK(tinst_get(&t, "/etc/passwd", &len, NULL, &code) == NULL);
	CHECK_EQ_INT(code, PROTO_ERR_NOT_FOUND);
	proto_msg_init(&msg, PROTO_FILE_PUT, 0);
	msg.file_put.path = "/tmp";
	msg.file_put.size = 1;
	id = tinst_send(&t, &msg, NULL, 0);
	tinst_expect_error(&t, id, PROTO_ERR_BAD_REQUEST, 5000);
	/* A missing parent: not_found, unless asked to make it. */
	proto_msg_init(&msg, PROTO_FILE_PUT, 0);
	msg.file_put.path = "/srv/a/b";
	msg.file_put.size = 1;
	id = tinst_send(&t, &msg, NULL, 0);
	tinst_expect_error(&t, id, PROTO_ERR_NOT_FOUND, 5000);
	proto_msg_init(&msg, PROTO_FILE_PUT, 0);
	msg.file_put.path = "/srv/a/b";
	msg.file_put.size = 1;
	msg.file_put.parents = true;
	id = tinst_send(&t, &msg, NULL, 0);
	proto_msg_init(&msg, PROTO_FILE_CHUNK, 0);
	msg.file_chunk.stream = id;
	msg.file_chunk.data.data = (const unsigned char *)"z";
	msg.file_chunk.data.len = 1;
	tinst_send(&t, &msg, NULL, 0);
	proto_msg_init(&msg, PROTO_FILE_END, 0);
	msg.file_end.stream = id;
	tinst_send(&t, &msg, NULL, 0);
	tinst_expect_ok(&t, &msg, id, PROTO_FILE_PUT, 5000);
	proto_msg_free(&msg);
	back = tinst_get(&t, "/srv/a/b", &len, NULL, &code);
	CHECK(back && len == 1 && back[0] == 'z');
	free(back);
	tinst_shutdown(&t);
}

static char *get_text(struct tinst *t, const char *path)
{
	enum proto_error_code code;
	size_t len;
	char *p = tinst_get(t, path, &len, NULL, &code), *s;

	CHECK(p != NULL);
	s = malloc(len + 1);
	memcpy(s, p, len);
	s[len] = 0;
	free(p);
	return s;
}

TEST(etc_files_come_from_the_configuration)
{
	struct tinst t;
	char *s;

	tinst_require_root();
	tinst_start(&t, NULL, NULL);
	s = get_text(&t, "/etc/hostname");
	CHECK_EQ_STR(s, "tinst\n");
	free(s);
	s = get_text(&t, "/etc/hosts");
	CHECK(strstr(s, "127.0.0.1\tlocalhost") && strstr(s, "\ttinst\n"));
	free(s);
	s = get_text(&t, "/etc/resolv.conf");
	CHECK(strstr(s, "nameserver") == NULL);
	free(s);
	/* The kernel's own view: procfs is mounted at /proc. */
	s = get_text(&t, "/proc/sys/kernel/hostname");
	CHECK_EQ_STR(s, "tinst\n");
	free(s);
	tinst_shutdown(&t);
}

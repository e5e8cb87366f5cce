// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of api/channel.c over real AF_UNIX SOCK_SEQPACKET socketpairs:
 * messages of every size up to the limit, descriptors passed and received as
 * the same open files (compared with fstat) and close-on-exec, and the edges
 * where a receiver could leak: a truncated packet, too many descriptors, a
 * message the decoder refuses, and a descriptor count that disagrees with the
 * message. For each of those the number of entries in /proc/self/fd must be
 * what it was before the peer sent anything.
 */
#include "api/channel.h"
#include "tests/harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Open descriptors of this process, not counting the one used to count them. */
static int count_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *d;
	int n = 0;

	if (!dir)
		FAIL("opendir /proc/self/fd: %s", strerror(errno));
	while ((d = readdir(dir)))
		if (d->d_name[0] != '.')
			n++;
	closedir(dir);
	return n - 1;
}

/* A connected, set-up SEQPACKET pair: sv[0] is "the daemon", sv[1] "the instance". */
static void channel_pair(int sv[2])
{
	struct shoal_error err = { 0 };

	CHECK_EQ_INT(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	if (channel_setup(sv[0], &err) < 0 || channel_setup(sv[1], &err) < 0)
		FAIL("channel_setup: %s", err.msg);
}

static void same_file(int a, int b)
{
	struct stat sa, sb;

	CHECK_EQ_INT(fstat(a, &sa), 0);
	CHECK_EQ_INT(fstat(b, &sb), 0);
	CHECK_EQ_INT(sa.st_dev, sb.st_dev);
	CHECK_EQ_INT(sa.st_ino, sb.st_ino);
}

/* Send raw bytes with @nfds copies of descriptor @fd, bypassing channel_send's checks. */
static void raw_send(int sock, const void *buf, size_t len, int fd, size_t nfds)
{
	char control[CMSG_SPACE(sizeof(int) * 64)];
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cmsg;
	size_t i;

	if (nfds) {
		memset(control, 0, sizeof(control));
		mh.msg_control = control;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cmsg = CMSG_FIRSTHDR(&mh);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		for (i = 0; i < nfds; i++)
			memcpy(CMSG_DATA(cmsg) + i * sizeof(int), &fd, sizeof(int));
	}
	if (sendmsg(sock, &mh, MSG_NOSIGNAL) != (ssize_t)len)
		FAIL("sendmsg of %zu bytes: %s", len, strerror(errno));
}

TEST(setup_checks_the_socket_type)
{
	struct shoal_error err = { 0 };
	int sv[2], p[2];

	CHECK_EQ_INT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	CHECK_EQ_INT(channel_setup(sv[0], &err), -EPROTOTYPE);
	CHECK(strstr(err.msg, "is not AF_UNIX SOCK_SEQPACKET"));
	CHECK_EQ_INT(pipe2(p, O_CLOEXEC), 0);
	CHECK_EQ_INT(channel_setup(p[0], NULL), -ENOTSOCK);
	CHECK_EQ_INT(channel_setup(-1, NULL), -EBADF);
}

TEST(messages_of_every_size_up_to_the_limit)
{
	static const size_t sizes[] = {
		1, 2, 4095, 4096, 65536, 212960, PROTO_MSG_MAX - 1, PROTO_MSG_MAX
	};
	char *out = malloc(PROTO_MSG_MAX), *in = malloc(PROTO_MSG_MAX);
	struct shoal_error err = { 0 };
	int sv[2], fds[PROTO_FDS_MAX];
	size_t i, j, len, nfds;

	CHECK(out && in);
	channel_pair(sv);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		for (j = 0; j < sizes[i]; j++)
			out[j] = (char)(j * 31 + i);
		if (channel_send(sv[0], out, sizes[i], NULL, 0, &err) < 0)
			FAIL("send %zu bytes: %s", sizes[i], err.msg);
		CHECK_EQ_INT(channel_recv(sv[1], in, PROTO_MSG_MAX, &len, fds, &nfds, &err), 0);
		CHECK_EQ_INT(len, sizes[i]);
		CHECK_EQ_INT(nfds, 0);
		CHECK(memcmp(in, out, len) == 0);
	}
	CHECK_EQ_INT(channel_send(sv[0], out, PROTO_MSG_MAX + 1, NULL, 0, &err), -EMSGSIZE);
	shoal_error_clear(&err);
	CHECK_EQ_INT(channel_send(sv[0], out, 0, NULL, 0, &err), -EMSGSIZE);
	free(out);
	free(in);
}

TEST(two_descriptors_arrive_as_the_same_files)
{
	struct shoal_error err = { 0 };
	struct proto_msg m, got;
	int sv[2], fds[PROTO_FDS_MAX], pass[2], pkt[2];
	size_t nfds;

	channel_pair(sv);
	/* What the daemon hands over: a packet socket (here a datagram pair) and a disk image. */
	CHECK_EQ_INT(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, pkt), 0);
	pass[0] = pkt[0];
	pass[1] = memfd_create("disk.img", MFD_CLOEXEC);
	CHECK(pass[1] >= 0);

	proto_msg_init(&m, PROTO_CONFIGURE, 1);
	m.configure.instance_id = "i-1";
	m.configure.memory_mib = 64;
	m.configure.has_network = true;
	m.configure.network.fd = 0;
	m.configure.network.mac[0] = 0x02;
	m.configure.network.mac[5] = 0x01;
	m.configure.disks[0].fd = 1;
	m.configure.disks[0].mount_point = "/data";
	m.configure.ndisks = 1;
	if (channel_send_msg(sv[0], &m, pass, 2, &err) < 0)
		FAIL("send configure: %s", err.msg);
	if (channel_recv_msg(sv[1], &got, fds, &nfds, &err) < 0)
		FAIL("receive configure: %s", err.msg);
	CHECK_EQ_INT(got.type, PROTO_CONFIGURE);
	CHECK_EQ_INT(nfds, 2);
	CHECK(fds[0] != pass[0] && fds[1] != pass[1]);
	same_file(fds[got.configure.network.fd], pass[0]);
	same_file(fds[got.configure.disks[0].fd], pass[1]);
	/* Received descriptors must not leak into programs the instance starts. */
	CHECK(fcntl(fds[0], F_GETFD) & FD_CLOEXEC);
	CHECK(fcntl(fds[1], F_GETFD) & FD_CLOEXEC);
	/* And they are live: a write through the received memfd shows in the original. */
	CHECK_EQ_INT(write(fds[1], "disk", 4), 4);
	CHECK_EQ_INT(lseek(pass[1], 0, SEEK_END), 4);
	proto_msg_free(&got);
	channel_close_fds(fds, &nfds);
	CHECK_EQ_INT(nfds, 0);
	CHECK_EQ_INT(fds[0], -1);

	/* The sender must hand over exactly the descriptors the message names. */
	CHECK_EQ_INT(channel_send_msg(sv[0], &m, pass, 1, &err), -EINVAL);
	CHECK(strstr(err.msg, "it names 2 descriptors, 1 given"));
}

TEST(truncated_message_is_an_error_and_leaks_nothing)
{
	struct shoal_error err = { 0 };
	struct proto_msg m;
	char *big = calloc(1, PROTO_MSG_MAX + 1);
	int sv[2], fds[PROTO_FDS_MAX], fd, before;
	size_t nfds = 99, len;

	CHECK(big != NULL);
	channel_pair(sv);
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	before = count_fds();
	memset(big, ' ', PROTO_MSG_MAX + 1);
	memcpy(big, "{\"type\":\"stats\",\"id\":5}", 23);
	raw_send(sv[0], big, PROTO_MSG_MAX + 1, fd, 2);
	CHECK_EQ_INT(channel_recv_msg(sv[1], &m, fds, &nfds, &err), -EMSGSIZE);
	CHECK(strstr(err.msg, "message of 262145 bytes, at most 262144"));
	CHECK_EQ_INT(nfds, 0);
	CHECK_EQ_INT(count_fds(), before);

	/* The raw call reports the same for a small buffer; the channel stays usable. */
	raw_send(sv[0], "0123456789", 10, fd, 1);
	shoal_error_clear(&err);
	CHECK_EQ_INT(channel_recv(sv[1], big, 4, &len, fds, &nfds, &err), -EMSGSIZE);
	CHECK(strstr(err.msg, "message of 10 bytes, at most 4"));
	CHECK_EQ_INT(count_fds(), before);
	CHECK_EQ_INT(channel_send(sv[0], "ok", 2, NULL, 0, &err), 0);
	CHECK_EQ_INT(channel_recv(sv[1], big, 4, &len, fds, &nfds, &err), 0);
	CHECK_EQ_INT(len, 2);
	free(big);
}

TEST(too_many_descriptors_are_all_closed)
{
	struct shoal_error err = { 0 };
	struct proto_msg m;
	int sv[2], fds[PROTO_FDS_MAX], fd, before;
	size_t nfds;

	channel_pair(sv);
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	before = count_fds();
	raw_send(sv[0], "{\"type\":\"stats\",\"id\":5}", 23, fd, PROTO_FDS_MAX + 4);
	CHECK_EQ_INT(channel_recv_msg(sv[1], &m, fds, &nfds, &err), -EMSGSIZE);
	CHECK(strstr(err.msg, "more than 16 descriptors"));
	CHECK_EQ_INT(nfds, 0);
	CHECK_EQ_INT(count_fds(), before);
	CHECK_EQ_INT(channel_send(sv[0], fds, 1, fds, PROTO_FDS_MAX + 1, NULL), -EINVAL);
}

TEST(descriptors_are_closed_when_the_decoder_refuses)
{
	static const char *const bad[] = {
		/* Not JSON. */
		"{\"type\":\"configure\",\"id\":7,",
		/* An unknown field, with an id to answer. */
		"{\"type\":\"configure\",\"id\":7,\"instance_id\":\"i\",\"memory_mib\":64,"
		"\"keep_on_supervisor_exit\":false,\"network\":{\"fd\":0,\"mac\":\"02:00:00:00:00:"
		"01\"},"
		"\"disks\":[{\"fd\":1,\"mount_point\":\"/m\"}],\"evil\":1}",
		/* Valid, but it names one descriptor and two came. */
		"{\"type\":\"configure\",\"id\":7,\"instance_id\":\"i\",\"memory_mib\":64,"
		"\"keep_on_supervisor_exit\":false,\"network\":{\"fd\":0,\"mac\":\"02:00:00:00:00:"
		"01\"}}",
		/* Valid, but descriptors came with a message that names none. */
		"{\"type\":\"stats\",\"id\":7}",
	};
	static const char *const why[] = {
		"malformed JSON",
		"configure: unknown field 'evil'",
		"configure: names 1 descriptors but 2 came with it",
		"stats: names 0 descriptors but 2 came with it",
	};
	struct proto_msg m;
	int sv[2], fds[PROTO_FDS_MAX], before;
	size_t i, nfds;

	channel_pair(sv);
	before = count_fds();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct shoal_error err = { 0 };
		int a = open("/dev/null", O_RDONLY | O_CLOEXEC);
		int b = memfd_create("img", MFD_CLOEXEC);
		int pass[2] = { a, b };

		CHECK(a >= 0 && b >= 0);
		CHECK_EQ_INT(channel_send(sv[0], bad[i], strlen(bad[i]), pass, 2, &err), 0);
		close(a);
		close(b);
		/* Now only the copies in flight hold the two files open. */
		CHECK_EQ_INT(channel_recv_msg(sv[1], &m, fds, &nfds, &err), -EINVAL);
		if (!strstr(err.msg, why[i]))
			FAIL("case %zu: '%s' does not say '%s'", i, err.msg, why[i]);
		CHECK_EQ_INT(nfds, 0);
		/* Where the JSON could be read, the id survives for the error reply. */
		CHECK_EQ_INT(m.id, i == 0 ? 0 : 7);
		CHECK(m.priv_json == NULL);
		if (count_fds() != before)
			FAIL("case %zu: %d descriptors open, %d before", i, count_fds(), before);
	}

	/* Fewer descriptors than named is refused the same way. */
	{
		struct shoal_error err = { 0 };
		int a = open("/dev/null", O_RDONLY | O_CLOEXEC);
		const char *two =
			"{\"type\":\"configure\",\"id\":8,\"instance_id\":\"i\",\"memory_mib\":64,"
			"\"keep_on_supervisor_exit\":false,\"network\":{\"fd\":0,\"mac\":"
			"\"02:00:00:00:00:01\"},\"disks\":[{\"fd\":1,\"mount_point\":\"/m\"}]}";

		CHECK_EQ_INT(channel_send(sv[0], two, strlen(two), &a, 1, &err), 0);
		close(a);
		CHECK_EQ_INT(channel_recv_msg(sv[1], &m, fds, &nfds, &err), -EINVAL);
		CHECK(strstr(err.msg, "names 2 descriptors but 1 came with it"));
		CHECK_EQ_INT(m.type, PROTO_CONFIGURE);
		CHECK_EQ_INT(m.id, 8);
		CHECK_EQ_INT(count_fds(), before);
	}
}

TEST(end_of_file_would_block_and_broken_pipe)
{
	struct shoal_error err = { 0 };
	char buf[16];
	int sv[2], fds[PROTO_FDS_MAX];
	size_t len, nfds;

	channel_pair(sv);
	/* A non-blocking socket with nothing to read: -EAGAIN, and no error recorded. */
	CHECK_EQ_INT(fcntl(sv[1], F_SETFL, O_NONBLOCK), 0);
	CHECK_EQ_INT(channel_recv(sv[1], buf, sizeof(buf), &len, fds, &nfds, &err), -EAGAIN);
	CHECK(!shoal_error_is_set(&err));

	/* The peer's close is end of file. */
	close(sv[0]);
	CHECK_EQ_INT(channel_recv(sv[1], buf, sizeof(buf), &len, fds, &nfds, &err), -ECONNRESET);
	CHECK(strstr(err.msg, "control channel closed by the peer"));

	/* Sending to a closed peer fails with EPIPE, and no SIGPIPE ends this process. */
	shoal_error_clear(&err);
	CHECK_EQ_INT(channel_send(sv[1], "x", 1, NULL, 0, &err), -EPIPE);
	CHECK_EQ_INT(channel_send_error(sv[1], 0, PROTO_ERR_INTERNAL, "bye", NULL), -EPIPE);
}

TEST(error_reply_round_trip)
{
	struct shoal_error err = { 0 };
	struct proto_msg m;
	int sv[2], fds[PROTO_FDS_MAX];
	size_t nfds;

	channel_pair(sv);
	CHECK_EQ_INT(channel_send_error(sv[1], 12, PROTO_ERR_NOT_FOUND, "no job 12 \xff", &err), 0);
	CHECK_EQ_INT(channel_recv_msg(sv[0], &m, fds, &nfds, &err), 0);
	CHECK_EQ_INT(m.type, PROTO_ERROR);
	CHECK_EQ_INT(m.id, 12);
	CHECK_EQ_INT(m.error.code, PROTO_ERR_NOT_FOUND);
	CHECK_EQ_STR(m.error.message, "no job 12 ?");
	CHECK_EQ_INT(proto_check_peer(&m, PROTO_ROLE_INSTANCE, NULL), 0);
	proto_msg_free(&m);
}

TEST(thousand_messages_arrive_whole_and_in_order)
{
	struct shoal_error err = { 0 };
	int sv[2], fds[PROTO_FDS_MAX], status;
	size_t nfds;
	uint64_t i;
	pid_t pid;

	channel_pair(sv);
	/* A writer process, so the sender blocks on a full queue as a real peer would. */
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		static unsigned char data[PROTO_CHUNK_MAX];
		struct proto_msg m;

		close(sv[1]);
		for (i = 1; i <= 1000; i++) {
			proto_msg_init(&m, PROTO_FILE_CHUNK, 0);
			m.file_chunk.stream = 3;
			m.file_chunk.offset = (i - 1) * 1000;
			memset(data, (int)(i & 0xff), sizeof(data));
			m.file_chunk.data =
				(struct proto_bytes){ data, i % 7 ? 1000 : sizeof(data) };
			if (channel_send_msg(sv[0], &m, NULL, 0, &err) < 0)
				_exit(1);
		}
		_exit(0);
	}
	close(sv[0]);
	for (i = 1; i <= 1000; i++) {
		struct proto_msg m;

		if (channel_recv_msg(sv[1], &m, fds, &nfds, &err) < 0)
			FAIL("message %llu: %s", (unsigned long long)i, err.msg);
		CHECK_EQ_INT(m.type, PROTO_FILE_CHUNK);
		CHECK_EQ_INT(m.file_chunk.offset, (i - 1) * 1000);
		CHECK_EQ_INT(m.file_chunk.data.len, i % 7 ? 1000 : PROTO_CHUNK_MAX);
		CHECK_EQ_INT(m.file_chunk.data.data[m.file_chunk.data.len - 1], i & 0xff);
		proto_msg_free(&m);
	}
	CHECK_EQ_INT(channel_recv_msg(sv[1], &(struct proto_msg){ 0 }, fds, &nfds, &err),
		     -ECONNRESET);
	CHECK_EQ_INT(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

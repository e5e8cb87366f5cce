// SPDX-License-Identifier: GPL-2.0
/*
 * Disk images in a real instance: an ext4 image made by the host's mkfs (in
 * a memfd, so no file is left anywhere) is attached as a virtio-blk device,
 * mounted at its mount point, written through file_put, and found clean by
 * the host's e2fsck after the instance shut down; a read-only disk refuses
 * writes with `permission`.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tests/harness.h"
#include "tests/instance/tinst.h"

/* A 32 MiB ext4 image in a memfd. */
static int ext4_image(void)
{
	int fd = memfd_create("ext4", MFD_CLOEXEC);
	char cmd[256];

	CHECK(fd >= 0 && ftruncate(fd, 32 << 20) == 0);
	snprintf(cmd, sizeof(cmd), "mkfs.ext4 -q -F /proc/%d/fd/%d >&2", (int)getpid(), fd);
	if (system(cmd))
		FAIL("%s failed", cmd);
	return fd;
}

static void start_with_disk(struct tinst *t, int fd, bool read_only, struct proto_msg *ready)
{
	struct proto_msg cfg;

	tinst_spawn(t, NULL);
	tinst_hello(t);
	tinst_configure_init(t, &cfg);
	cfg.configure.disks[0].fd = 0;
	cfg.configure.disks[0].mount_point = "/mnt/data";
	cfg.configure.disks[0].fstype = "ext4";
	cfg.configure.disks[0].read_only = read_only;
	cfg.configure.ndisks = 1;
	tinst_boot(t, &cfg, &fd, 1, ready);
}

TEST(an_ext4_image_is_mounted_written_and_left_clean)
{
	static const char data[] = "written through the instance's kernel\n";
	enum proto_error_code code;
	struct proto_msg ready;
	struct tinst t;
	char cmd[256], *back;
	size_t len;
	int fd;

	tinst_require_root();
	fd = ext4_image();
	start_with_disk(&t, fd, false, &ready);
	printf("ready: disks %llu us\n", (unsigned long long)ready.ready.timings.disks_us);
	CHECK(ready.ready.timings.disks_us > 0);
	proto_msg_free(&ready);
	CHECK_EQ_INT(tinst_put(&t, "/mnt/data/hello.txt", data, strlen(data), 0644), PROTO_OK);
	back = tinst_get(&t, "/mnt/data/hello.txt", &len, NULL, &code);
	CHECK(back && len == strlen(data) && !memcmp(back, data, len));
	free(back);
	tinst_shutdown(&t);
	/* The host reads what the instance wrote, and the file system is clean. */
	snprintf(cmd, sizeof(cmd), "e2fsck -fn /proc/%d/fd/%d >&2", (int)getpid(), fd);
	CHECK_EQ_INT(system(cmd), 0);
	snprintf(cmd, sizeof(cmd),
		 "debugfs -R 'cat /hello.txt' /proc/%d/fd/%d 2>/dev/null | grep -q 'instance'",
		 (int)getpid(), fd);
	CHECK_EQ_INT(system(cmd), 0);
	close(fd);
}

TEST(a_read_only_disk_refuses_writes)
{
	struct proto_msg ready, msg;
	struct tinst t;
	uint64_t id;
	int fd, ro;
	char path[64];

	tinst_require_root();
	fd = ext4_image();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ro = open(path, O_RDONLY | O_CLOEXEC);
	CHECK(ro >= 0);
	start_with_disk(&t, ro, true, &ready);
	proto_msg_free(&ready);
	proto_msg_init(&msg, PROTO_FILE_PUT, 0);
	msg.file_put.path = "/mnt/data/x";
	msg.file_put.size = 1;
	id = tinst_send(&t, &msg, NULL, 0);
	tinst_expect_error(&t, id, PROTO_ERR_PERMISSION, 5000);
	tinst_shutdown(&t);
	close(ro);
	close(fd);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-blk on raw image files: an ext4 image made by the host's mkfs.ext4
 * is mounted read-write inside the library kernel, written and unmounted;
 * the host's e2fsck then finds it clean and debugfs reads back the same
 * bytes. Read-only disks refuse writes; bad images are refused at setup.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/kernel/kboot.h"

/* A scratch directory, removed by a guardian when the case ends. */
static char scratch[64];

static void scratch_make(void)
{
	int pipefd[2];

	snprintf(scratch, sizeof(scratch), "/tmp/shoal-blk-%d", (int)getpid());
	CHECK_EQ_INT(mkdir(scratch, 0700), 0);
	CHECK_EQ_INT(pipe(pipefd), 0);
	if (fork() == 0) {
		char buf, cmd[256];

		setsid();
		close(pipefd[1]);
		while (read(pipefd[0], &buf, 1) > 0)
			;
		snprintf(cmd, sizeof(cmd), "chattr -i %s/* 2>/dev/null; rm -rf %s", scratch,
			 scratch);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(pipefd[0]);
	fcntl(pipefd[1], F_SETFD, FD_CLOEXEC);
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return st == -1 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void kmount_dev(void)
{
	long r = skl_sys_mkdirat(SKL_AT_FDCWD, "/dev", 0755);

	CHECK(r == 0 || r == -EEXIST);
	SYS_OK(skl_sys_mount((char *)"devtmpfs", (char *)"/dev", (char *)"devtmpfs", 0, NULL));
}

static void kwrite_file(const char *path, const void *data, size_t len)
{
	long fd = SYS_OK(
		skl_sys_openat(SKL_AT_FDCWD, path, SKL_O_CREAT | SKL_O_WRONLY | SKL_O_TRUNC, 0644));
	size_t off = 0;

	while (off < len)
		off += (size_t)SYS_OK(
			skl_sys_write((unsigned int)fd, (const char *)data + off, len - off));
	SYS_OK(skl_sys_close((unsigned int)fd));
}

TEST_TIMEOUT(ext4_written_inside_is_clean_on_host, 120)
{
	static unsigned char data[3 * 1024 * 1024 + 123];
	char image[128], out[160], err[256];
	size_t i;

	scratch_make();
	snprintf(image, sizeof(image), "%s/disk.img", scratch);
	CHECK_EQ_INT(sh("truncate -s 64M %s && mkfs.ext4 -q -F %s >&2", image, image), 0);
	CHECK_EQ_INT(skl_blkdev_add(image, 0, err, sizeof(err)), 0);
	kboot();
	kmount_dev();
	SYS_OK(skl_sys_mkdirat(SKL_AT_FDCWD, "/mnt", 0755));
	SYS_OK(skl_sys_mount((char *)"/dev/vda", (char *)"/mnt", (char *)"ext4", 0, NULL));
	for (i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 7 + (i >> 11));
	SYS_OK(skl_sys_mkdirat(SKL_AT_FDCWD, "/mnt/dir", 0755));
	kwrite_file("/mnt/dir/big.bin", data, sizeof(data));
	kwrite_file("/mnt/hello.txt", "hello from the library kernel\n", 30);
	SYS_OK(skl_sys_umount2((char *)"/mnt", 0));
	CHECK_EQ_INT(skl_halt(), 0);

	/* The host's tools read what the library kernel wrote. */
	CHECK_EQ_INT(sh("e2fsck -fn %s >&2", image), 0);
	snprintf(out, sizeof(out), "%s/big.out", scratch);
	CHECK_EQ_INT(sh("debugfs -R 'dump /dir/big.bin %s' %s 2>/dev/null", out, image), 0);
	{
		FILE *f = fopen(out, "rb");
		static unsigned char back[sizeof(data) + 1];
		size_t n;

		CHECK(f != NULL);
		n = fread(back, 1, sizeof(back), f);
		fclose(f);
		CHECK_EQ_INT(n, sizeof(data));
		CHECK(memcmp(back, data, sizeof(data)) == 0);
	}
	CHECK_EQ_INT(sh("debugfs -R 'cat /hello.txt' %s 2>/dev/null | grep -qx 'hello from the "
			"library kernel'",
			image),
		     0);
}

TEST_TIMEOUT(read_only_disk_refuses_writes, 120)
{
	char image[128], err[256], buf[64];
	long fd;

	scratch_make();
	snprintf(image, sizeof(image), "%s/ro.img", scratch);
	CHECK_EQ_INT(sh("truncate -s 32M %s && mkfs.ext4 -q -F %s >&2 && "
			"debugfs -w -R 'write /etc/hostname host.txt' %s >/dev/null 2>&1",
			image, image, image),
		     0);
	CHECK_EQ_INT(skl_blkdev_add(image, 1, err, sizeof(err)), 0);
	kboot();
	kmount_dev();
	SYS_OK(skl_sys_mkdirat(SKL_AT_FDCWD, "/mnt", 0755));
	/* A read-write mount of a write-protected disk is refused... */
	CHECK_EQ_INT(skl_sys_mount((char *)"/dev/vda", (char *)"/mnt", (char *)"ext4", 0, NULL),
		     -EACCES);
	/* ...a read-only one works and reads the host's file. */
	SYS_OK(skl_sys_mount((char *)"/dev/vda", (char *)"/mnt", (char *)"ext4", SKL_MS_RDONLY,
			     NULL));
	fd = SYS_OK(skl_sys_openat(SKL_AT_FDCWD, "/mnt/host.txt", SKL_O_RDONLY, 0));
	CHECK(skl_sys_read((unsigned int)fd, buf, sizeof(buf)) > 0);
	skl_sys_close((unsigned int)fd);
	CHECK_EQ_INT(skl_sys_openat(SKL_AT_FDCWD, "/mnt/new", SKL_O_CREAT | SKL_O_WRONLY, 0644),
		     -EROFS);
	SYS_OK(skl_sys_umount2((char *)"/mnt", 0));
	CHECK_EQ_INT(skl_halt(), 0);
	CHECK_EQ_INT(sh("e2fsck -fn %s >&2", image), 0);
}

TEST(bad_disk_input_is_refused_at_setup)
{
	char image[128], err[256];

	scratch_make();
	snprintf(image, sizeof(image), "%s/missing.img", scratch);
	CHECK_EQ_INT(skl_blkdev_add(image, 0, err, sizeof(err)), -ENOENT);
	CHECK(strstr(err, "does not exist") != NULL);
	CHECK_EQ_INT(skl_blkdev_add(NULL, 0, err, sizeof(err)), -EINVAL);
	CHECK_EQ_INT(skl_blkdev_add(scratch, 1, err, sizeof(err)), -EINVAL); /* a directory */

	/* Write asked of an image the host will not let us write (immutable:
	 * even root cannot open it for writing). */
	snprintf(image, sizeof(image), "%s/locked.img", scratch);
	CHECK_EQ_INT(sh("truncate -s 1M %s && chattr +i %s", image, image), 0);
	CHECK_EQ_INT(skl_blkdev_add(image, 0, err, sizeof(err)), -EPERM);
	CHECK(strstr(err, "read-only") != NULL);
	/* Read-only use of the same image is fine. */
	CHECK_EQ_INT(skl_blkdev_add(image, 1, err, sizeof(err)), 0);
	CHECK_EQ_INT(sh("chattr -i %s", image), 0);
}

TEST_TIMEOUT(disk_from_an_open_fd, 120)
{
	char image[128], err[256], buf[16];
	long fd;
	int ro, rw;

	scratch_make();
	snprintf(image, sizeof(image), "%s/fd.img", scratch);
	CHECK_EQ_INT(sh("truncate -s 32M %s && mkfs.ext4 -q -F %s >&2", image, image), 0);
	ro = open(image, O_RDONLY | O_CLOEXEC);
	rw = open(image, O_RDWR | O_CLOEXEC);
	CHECK(ro >= 0 && rw >= 0);
	/* Write asked of a read-only fd is refused; bad fds too. */
	CHECK_EQ_INT(skl_blkdev_add_fd(ro, 0, err, sizeof(err)), -EBADF);
	CHECK(strstr(err, "read-only") != NULL);
	CHECK_EQ_INT(skl_blkdev_add_fd(999, 1, err, sizeof(err)), -EBADF);
	CHECK_EQ_INT(skl_blkdev_add_fd(rw, 0, err, sizeof(err)), 0);
	close(rw); /* the device holds its own copy */
	kboot();
	kmount_dev();
	SYS_OK(skl_sys_mkdirat(SKL_AT_FDCWD, "/mnt", 0755));
	SYS_OK(skl_sys_mount((char *)"/dev/vda", (char *)"/mnt", (char *)"ext4", 0, NULL));
	kwrite_file("/mnt/x", "via fd\n", 7);
	fd = SYS_OK(skl_sys_openat(SKL_AT_FDCWD, "/mnt/x", SKL_O_RDONLY, 0));
	CHECK_EQ_INT(skl_sys_read((unsigned int)fd, buf, sizeof(buf)), 7);
	skl_sys_close((unsigned int)fd);
	SYS_OK(skl_sys_umount2((char *)"/mnt", 0));
	CHECK_EQ_INT(skl_halt(), 0);
	CHECK_EQ_INT(sh("e2fsck -fn %s >&2", image), 0);
	close(ro);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * File systems inside the library kernel: proc, sysfs and tmpfs mount, and
 * file I/O on tmpfs is what a program expects.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tests/kernel/kboot.h"

static uint32_t fnv1a(const unsigned char *p, size_t n, uint32_t h)
{
	while (n--) {
		h ^= *p++;
		h *= 16777619u;
	}
	return h;
}

static long open_path(const char *path, int flags, unsigned short mode)
{
	return skl_sys_openat(SKL_AT_FDCWD, path, flags, mode);
}

static long read_file(const char *path, char *buf, size_t size)
{
	long fd = SYS_OK(open_path(path, SKL_O_RDONLY, 0));
	long n = skl_sys_read((unsigned int)fd, buf, size - 1);

	SYS_OK(skl_sys_close((unsigned int)fd));
	if (n >= 0)
		buf[n] = 0;
	return n;
}

TEST(mount_proc_sysfs_tmpfs)
{
	char buf[4096];

	kboot();
	SYS_OK(skl_sys_mkdirat(SKL_AT_FDCWD, "/proc", 0555));
	SYS_OK(skl_sys_mount((char *)"proc", (char *)"/proc", (char *)"proc", 0, NULL));
	SYS_OK(skl_sys_mkdirat(SKL_AT_FDCWD, "/sys", 0555));
	SYS_OK(skl_sys_mount((char *)"sysfs", (char *)"/sys", (char *)"sysfs", 0, NULL));
	kmount_tmpfs("/tmp");

	CHECK(read_file("/proc/version", buf, sizeof(buf)) > 0);
	CHECK(strstr(buf, "Linux version 6.12.") == buf);
	CHECK(read_file("/proc/mounts", buf, sizeof(buf)) > 0);
	CHECK(strstr(buf, "proc /proc proc") != NULL);
	CHECK(strstr(buf, "sysfs /sys sysfs") != NULL);
	CHECK(strstr(buf, "tmpfs /tmp tmpfs") != NULL);
	CHECK(read_file("/sys/kernel/uevent_seqnum", buf, sizeof(buf)) > 0);
	/* Mounting something that does not exist is an error, not a crash. */
	CHECK_EQ_INT(skl_sys_mount((char *)"x", (char *)"/tmp", (char *)"nosuchfs", 0, NULL),
		     -ENODEV);
	CHECK_EQ_INT(skl_halt(), 0);
}

TEST(tmpfs_8mib_write_read_back)
{
	enum { CHUNK = 64 * 1024, TOTAL = 8 * 1024 * 1024 };
	static unsigned char out[CHUNK], in[CHUNK];
	uint32_t h_out = 2166136261u, h_in = 2166136261u;
	struct skl_stat st;
	long fd, i, n;

	kboot();
	kmount_tmpfs("/tmp");
	fd = SYS_OK(open_path("/tmp/big", SKL_O_CREAT | SKL_O_WRONLY | SKL_O_TRUNC, 0644));
	for (i = 0; i < TOTAL / CHUNK; i++) {
		size_t j;

		for (j = 0; j < CHUNK; j++)
			out[j] = (unsigned char)(i * 131 + j * 7 + (j >> 9));
		h_out = fnv1a(out, CHUNK, h_out);
		CHECK_EQ_INT(skl_sys_write((unsigned int)fd, (char *)out, CHUNK), CHUNK);
	}
	SYS_OK(skl_sys_close((unsigned int)fd));

	SYS_OK(skl_sys_newfstatat(SKL_AT_FDCWD, "/tmp/big", &st, 0));
	CHECK_EQ_INT(st.st_size, TOTAL);
	CHECK(SKL_S_ISREG(st.st_mode));
	CHECK_EQ_INT(st.st_mode & 0777, 0644);

	fd = SYS_OK(open_path("/tmp/big", SKL_O_RDONLY, 0));
	for (i = 0; i < TOTAL / CHUNK; i++) {
		n = skl_sys_read((unsigned int)fd, (char *)in, CHUNK);
		CHECK_EQ_INT(n, CHUNK);
		h_in = fnv1a(in, CHUNK, h_in);
	}
	CHECK_EQ_INT(skl_sys_read((unsigned int)fd, (char *)in, CHUNK), 0);
	SYS_OK(skl_sys_close((unsigned int)fd));
	CHECK_EQ_INT(h_in, h_out);
	CHECK_EQ_INT(skl_halt(), 0);
}

/* Names in a directory, by getdents64, without . and .. */
static int list_dir(const char *dir, char names[][32], int max)
{
	char buf[4096];
	long fd = SYS_OK(open_path(dir, SKL_O_RDONLY | SKL_O_DIRECTORY, 0));
	int count = 0;
	long n;

	while ((n = SYS_OK(skl_sys_getdents64((unsigned int)fd, (void *)buf, sizeof(buf)))) > 0) {
		long off = 0;

		while (off < n) {
			struct skl_linux_dirent64 *d = (void *)(buf + off);

			if (strcmp(d->d_name, ".") && strcmp(d->d_name, "..") && count < max)
				snprintf(names[count++], 32, "%s", d->d_name);
			off += d->d_reclen;
		}
	}
	SYS_OK(skl_sys_close((unsigned int)fd));
	return count;
}

static int has_name(char names[][32], int count, const char *name)
{
	int i;

	for (i = 0; i < count; i++)
		if (!strcmp(names[i], name))
			return 1;
	return 0;
}

TEST(tmpfs_mkdir_rename_unlink_list)
{
	char names[16][32];
	struct skl_stat st;
	char buf[64];
	long fd;
	int n;

	kboot();
	kmount_tmpfs("/tmp");
	SYS_OK(skl_sys_mkdirat(SKL_AT_FDCWD, "/tmp/d", 0750));
	CHECK_EQ_INT(skl_sys_mkdirat(SKL_AT_FDCWD, "/tmp/d", 0750), -EEXIST);
	SYS_OK(skl_sys_newfstatat(SKL_AT_FDCWD, "/tmp/d", &st, 0));
	CHECK(SKL_S_ISDIR(st.st_mode));

	fd = SYS_OK(open_path("/tmp/d/a", SKL_O_CREAT | SKL_O_WRONLY, 0600));
	CHECK_EQ_INT(skl_sys_write((unsigned int)fd, "hello", 5), 5);
	SYS_OK(skl_sys_close((unsigned int)fd));
	fd = SYS_OK(open_path("/tmp/d/b", SKL_O_CREAT | SKL_O_WRONLY, 0600));
	SYS_OK(skl_sys_close((unsigned int)fd));

	n = list_dir("/tmp/d", names, 16);
	CHECK_EQ_INT(n, 2);
	CHECK(has_name(names, n, "a") && has_name(names, n, "b"));

	SYS_OK(skl_sys_renameat2(SKL_AT_FDCWD, "/tmp/d/a", SKL_AT_FDCWD, "/tmp/d/c", 0));
	CHECK_EQ_INT(skl_sys_newfstatat(SKL_AT_FDCWD, "/tmp/d/a", &st, 0), -ENOENT);
	CHECK_EQ_INT(read_file("/tmp/d/c", buf, sizeof(buf)), 5);
	CHECK_EQ_STR(buf, "hello");

	SYS_OK(skl_sys_unlinkat(SKL_AT_FDCWD, "/tmp/d/b", 0));
	n = list_dir("/tmp/d", names, 16);
	CHECK_EQ_INT(n, 1);
	CHECK(has_name(names, n, "c"));

	CHECK_EQ_INT(skl_sys_unlinkat(SKL_AT_FDCWD, "/tmp/d", SKL_AT_REMOVEDIR), -ENOTEMPTY);
	SYS_OK(skl_sys_unlinkat(SKL_AT_FDCWD, "/tmp/d/c", 0));
	SYS_OK(skl_sys_unlinkat(SKL_AT_FDCWD, "/tmp/d", SKL_AT_REMOVEDIR));
	CHECK_EQ_INT(open_path("/tmp/nope", SKL_O_RDONLY, 0), -ENOENT);
	CHECK_EQ_INT(skl_halt(), 0);
}

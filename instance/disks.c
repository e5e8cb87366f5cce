// SPDX-License-Identifier: GPL-2.0
/*
 * Disk images. At `configure` every image is opened (or, when passed by
 * descriptor, checked) while the instance can still see the host's files;
 * before boot each becomes a virtio-blk device of the kernel (vda, vdb, ... in
 * order), and after boot each is mounted at its mount point inside the
 * instance, read-only when asked. At shutdown they are synced and unmounted
 * before the kernel halts, so that an image is left clean. kernel-lib opens images by path only, so
 * an open image is handed over as /proc/self/fd/N, which works until the
 * process gives up its view of the host (start.c plugs devices before that).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <skl.h>

#include "api/log.h"
#include "instance/instance.h"

int disks_check(struct instance *in, struct shoal_error *err)
{
	const struct proto_configure *cfg = &in->config.configure;
	size_t i;

	for (i = 0; i < cfg->ndisks; i++) {
		const struct proto_disk *d = &cfg->disks[i];
		struct stat st;
		int fd, mode;

		if (d->fd >= 0) {
			fd = in->config_fds[d->fd];
			in->config_fds[d->fd] = -1;
			in->disk_fds[i] = fd;
			mode = fcntl(fd, F_GETFL);
			if (mode < 0)
				return shoal_error_set(err, errno, "configure.disks[%zu].fd", i);
			if (!d->read_only && (mode & O_ACCMODE) == O_RDONLY)
				return shoal_error_set(err, 0,
						       "configure.disks[%zu]: the image is open "
						       "read-only but read_only is false",
						       i);
		} else {
			fd = open(d->path, (d->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
			if (fd < 0)
				return shoal_error_set(err, errno, "configure.disks[%zu]: open %s",
						       i, d->path);
			in->disk_fds[i] = fd;
		}
		if (fstat(fd, &st) < 0)
			return shoal_error_set(err, errno, "configure.disks[%zu]: fstat", i);
		if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
			return shoal_error_set(err, 0,
					       "configure.disks[%zu]: not a regular file or a "
					       "block device",
					       i);
		if (S_ISREG(st.st_mode) && (st.st_size < 512 || st.st_size % 512))
			return shoal_error_set(
				err, 0,
				"configure.disks[%zu]: image size %lld is not a multiple of 512", i,
				(long long)st.st_size);
	}
	return 0;
}

int disks_attach(struct instance *in, struct shoal_error *err)
{
	const struct proto_configure *cfg = &in->config.configure;
	char path[64], why[256];
	size_t i;
	int dev;

	for (i = 0; i < cfg->ndisks; i++) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", in->disk_fds[i]);
		dev = skl_blkdev_add(path, cfg->disks[i].read_only, why, sizeof(why));
		if (dev < 0)
			return shoal_error_set(err, dev, "disks[%zu]: %s", i, why);
		close(in->disk_fds[i]);
		in->disk_fds[i] = -1;
	}
	return 0;
}

/* mkdir -p inside the instance kernel. */
static int disks_mkdir_parents(const char *path, struct shoal_error *err)
{
	char buf[PROTO_PATH_MAX + 1];
	size_t i;

	snprintf(buf, sizeof(buf), "%s", path);
	for (i = 1;; i++) {
		if (buf[i] == '/' || !buf[i]) {
			char saved = buf[i];
			long r;

			buf[i] = 0;
			r = skl_sys_mkdirat(SKL_AT_FDCWD, buf, 0755);
			if (r < 0 && r != -SKL_EEXIST)
				return shoal_error_set(err, (int)r, "mkdir %s", buf);
			buf[i] = saved;
			if (!saved)
				return 0;
		}
	}
}

int disks_mount(struct instance *in, struct shoal_error *err)
{
	const struct proto_configure *cfg = &in->config.configure;
	char dev[16];
	size_t i;
	long r;

	for (i = 0; i < cfg->ndisks; i++) {
		const struct proto_disk *d = &cfg->disks[i];

		snprintf(dev, sizeof(dev), "/dev/vd%c", (char)('a' + i));
		r = disks_mkdir_parents(d->mount_point, err);
		if (r < 0)
			return (int)r;
		r = skl_sys_mount(dev, (char *)d->mount_point, (char *)d->fstype,
				  d->read_only ? SKL_MS_RDONLY : 0, NULL);
		if (r == -SKL_ENODEV)
			return shoal_error_set(err, EOPNOTSUPP,
					       "disks[%zu]: the instance kernel has no %s", i,
					       d->fstype);
		if (r < 0)
			return shoal_error_set(err, (int)r, "disks[%zu]: mount %s (%s) on %s", i,
					       dev, d->fstype, d->mount_point);
	}
	return 0;
}

void disks_unmount(struct instance *in)
{
	const struct proto_configure *cfg = &in->config.configure;
	size_t i;
	long r;

	if (!in->configured || !cfg->ndisks || !skl_is_running())
		return;
	/* Everything reaches the images, and ext4 closes its journal: the image is clean. */
	skl_sys_sync();
	for (i = cfg->ndisks; i-- > 0;) {
		r = skl_sys_umount2((char *)cfg->disks[i].mount_point, 0);
		if (r < 0)
			shoal_log_warn("disks[%zu]: umount %s: %s", i, cfg->disks[i].mount_point,
				       strerror((int)-r));
	}
}

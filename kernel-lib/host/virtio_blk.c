// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-blk on a raw image file. Requests are served synchronously on the
 * thread that rang the doorbell (it holds the kernel's CPU), with preadv and
 * pwritev straight between the file and the kernel's buffers; FLUSH is
 * fdatasync, so once the kernel has unmounted, every byte it wrote is in the
 * file. A read-only image is offered with VIRTIO_BLK_F_RO and writes to it
 * fail, like on a write-protected disk.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <skl.h>

#include "kernel-lib/host/virtio.h"

#define VIRTIO_ID_BLOCK 2
#define BLK_F_SEG_MAX 2
#define BLK_F_RO 5
#define BLK_F_FLUSH 9
#define SEG_MAX 128

enum { T_IN = 0, T_OUT = 1, T_FLUSH = 4, T_GET_ID = 8 };
enum { S_OK = 0, S_IOERR = 1, S_UNSUPP = 2 };

struct blkdev {
	struct virtio_dev vdev;
	int fd;
	bool read_only;
	uint64_t sectors;
	char id[20];
};

#define MAX_BLKDEVS 8
static struct blkdev *blkdevs[MAX_BLKDEVS];

/* Move len bytes between the file at off and iovs; -1 on error. */
static int blk_io(struct blkdev *bd, bool write, struct iovec *iov, int n,
		  off_t off)
{
	while (n > 0) {
		ssize_t done = write ? pwritev(bd->fd, iov, n, off)
				     : preadv(bd->fd, iov, n, off);

		if (done < 0 && errno == EINTR)
			continue;
		if (done <= 0)
			return -1;
		off += done;
		while (n > 0 && (size_t)done >= iov->iov_len) {
			done -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + done;
			iov->iov_len -= (size_t)done;
		}
	}
	return 0;
}

static void blk_handle(struct blkdev *bd, struct virtio_req *req)
{
	struct {
		uint32_t type;
		uint32_t reserved;
		uint64_t sector;
	} hdr;
	struct iovec *data = &req->iov[1];
	unsigned int ndata, last = req->nout + req->nin - 1;
	uint8_t *status;
	uint32_t written = 0;
	int st = S_OK;

	if (!req->nin || req->nout < 1 || req->iov[0].iov_len < sizeof(hdr) ||
	    req->iov[last].iov_len < 1) {
		virtio_queue_push(&bd->vdev, 0, req->head, 0);
		return;
	}
	memcpy(&hdr, req->iov[0].iov_base, sizeof(hdr));
	/* The status byte is the last writable byte. */
	status =
		(uint8_t *)req->iov[last].iov_base + req->iov[last].iov_len - 1;
	req->iov[last].iov_len--;
	ndata = req->nout + req->nin - 1;

	switch (hdr.type) {
	case T_IN:
	case T_OUT: {
		bool write = hdr.type == T_OUT;
		size_t len = 0;
		unsigned int i;

		for (i = 1; i < req->nout + req->nin; i++)
			len += req->iov[i].iov_len;
		if (write && bd->read_only) {
			st = S_IOERR;
			break;
		}
		if (hdr.sector > bd->sectors ||
		    len / 512 > bd->sectors - hdr.sector) {
			st = S_IOERR;
			break;
		}
		if (blk_io(bd, write, data, (int)ndata,
			   (off_t)(hdr.sector * 512)))
			st = S_IOERR;
		else if (!write)
			written = (uint32_t)len;
		break;
	}
	case T_FLUSH:
		if (!bd->read_only && fdatasync(bd->fd))
			st = S_IOERR;
		break;
	case T_GET_ID:
		if (req->nin && req->iov[req->nout].iov_len) {
			size_t n = req->iov[req->nout].iov_len < sizeof(bd->id)
					   ? req->iov[req->nout].iov_len
					   : sizeof(bd->id);

			memcpy(req->iov[req->nout].iov_base, bd->id, n);
			written = (uint32_t)n;
		}
		break;
	default:
		st = S_UNSUPP;
	}
	*status = (uint8_t)st;
	virtio_queue_push(&bd->vdev, 0, req->head, written + 1);
}

static void blk_notify(struct virtio_dev *dev, unsigned int q)
{
	struct blkdev *bd = (struct blkdev *)dev;
	struct virtio_req req;
	bool any = false;

	while (virtio_queue_pop(dev, q, &req)) {
		blk_handle(bd, &req);
		any = true;
	}
	if (any)
		virtio_queue_interrupt(dev, q);
}

static void blk_config_read(struct virtio_dev *dev, unsigned int offset,
			    void *val, int size)
{
	struct blkdev *bd = (struct blkdev *)dev;
	unsigned char config[16] = { 0 };
	uint32_t seg_max = SEG_MAX;

	memcpy(config, &bd->sectors, 8);
	memcpy(config + 12, &seg_max, 4);
	if (offset < sizeof(config))
		memcpy(val, config + offset,
		       (size_t)size < sizeof(config) - offset
			       ? (size_t)size
			       : sizeof(config) - offset);
}

static const struct virtio_dev_ops blk_ops = {
	.notify = blk_notify,
	.config_read = blk_config_read,
};

/* Checks common to both ways of adding a disk; 0 or -errno. */
static int blkdev_precheck(char **err, size_t *errlen, int *slot)
{
	static char dummy[1];

	if (!*err) {
		*err = dummy;
		*errlen = sizeof(dummy);
	}
	if (skl_is_running()) {
		snprintf(*err, *errlen,
			 "disk: add disks before the kernel boots");
		return -EBUSY;
	}
	for (*slot = 0; *slot < MAX_BLKDEVS && blkdevs[*slot]; (*slot)++)
		;
	if (*slot == MAX_BLKDEVS) {
		snprintf(*err, *errlen, "disk: at most %d disks", MAX_BLKDEVS);
		return -ENOSPC;
	}
	return 0;
}

/* Register a disk on fd, which it takes over (closed on failure). */
static int blkdev_attach(int fd, int slot, int read_only, const char *name,
			 char *err, size_t errlen)
{
	struct blkdev *bd;
	struct stat st;
	int ret;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < 512) {
		close(fd);
		snprintf(err, errlen,
			 "disk: %s is not a regular file of at least 512 bytes",
			 name);
		return -EINVAL;
	}
	bd = calloc(1, sizeof(*bd));
	if (!bd) {
		close(fd);
		return -ENOMEM;
	}
	bd->fd = fd;
	bd->read_only = read_only;
	bd->sectors = (uint64_t)st.st_size / 512;
	snprintf(bd->id, sizeof(bd->id), "shoal-disk%d", slot);
	bd->vdev.device_id = VIRTIO_ID_BLOCK;
	bd->vdev.nqueues = 1;
	bd->vdev.ops = &blk_ops;
	bd->vdev.features = (1ULL << BLK_F_SEG_MAX) | (1ULL << BLK_F_FLUSH);
	if (read_only)
		bd->vdev.features |= 1ULL << BLK_F_RO;
	ret = virtio_dev_register(&bd->vdev, err, errlen);
	if (ret) {
		close(fd);
		free(bd);
		return ret;
	}
	blkdevs[slot] = bd;
	return slot;
}

int skl_blkdev_add(const char *path, int read_only, char *err, size_t errlen)
{
	int slot, ret, fd;

	ret = blkdev_precheck(&err, &errlen, &slot);
	if (ret)
		return ret;
	if (!path) {
		snprintf(err, errlen, "disk: no image path given");
		return -EINVAL;
	}
	fd = open(path, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		if (e == ENOENT)
			snprintf(err, errlen, "disk: image %s does not exist",
				 path);
		else if (!read_only &&
			 (e == EACCES || e == EROFS || e == EPERM))
			snprintf(err, errlen,
				 "disk: image %s is read-only but write access "
				 "was asked: %s",
				 path, strerror(e));
		else
			snprintf(err, errlen, "disk: open %s: %s", path,
				 strerror(e));
		return -e;
	}
	return blkdev_attach(fd, slot, read_only, path, err, errlen);
}

int skl_blkdev_add_fd(int fd, int read_only, char *err, size_t errlen)
{
	char name[32];
	int slot, ret, flags, own;

	ret = blkdev_precheck(&err, &errlen, &slot);
	if (ret)
		return ret;
	flags = fcntl(fd, F_GETFL);
	if (flags < 0) {
		snprintf(err, errlen, "disk: fd %d is not open", fd);
		return -EBADF;
	}
	if (!read_only && (flags & O_ACCMODE) == O_RDONLY) {
		snprintf(err, errlen,
			 "disk: fd %d is open read-only but write access was "
			 "asked",
			 fd);
		return -EBADF;
	}
	own = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (own < 0) {
		int e = errno;

		snprintf(err, errlen, "disk: dup of fd %d: %s", fd,
			 strerror(e));
		return -e;
	}
	snprintf(name, sizeof(name), "fd %d", fd);
	return blkdev_attach(own, slot, read_only, name, err, errlen);
}

/* After halt: close every image. */
void host_blkdevs_stop(void)
{
	int slot;

	for (slot = 0; slot < MAX_BLKDEVS; slot++) {
		if (!blkdevs[slot])
			continue;
		virtio_dev_unregister(&blkdevs[slot]->vdev);
		close(blkdevs[slot]->fd);
		free(blkdevs[slot]);
		blkdevs[slot] = NULL;
	}
}

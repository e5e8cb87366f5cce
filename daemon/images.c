// SPDX-License-Identifier: GPL-2.0
/*
 * Disk images: files in one directory (--image-dir, STATE_DIR/images by
 * default, mode 0700) that instances mount as virtio-blk disks. An API
 * request names an image by its file name only, never by a host path, so a
 * local user with access to the API socket cannot make the daemon (root) hand
 * an arbitrary host file or device to an instance. The daemon opens the image
 * (no symlinks, a regular file) and passes the descriptor in `configure`.
 *
 * Sharing follows the file's use: any number of instances may read an image,
 * one may write it, never both at once. The daemon holds an flock on its own
 * descriptor for the instance's life (shared for read-only, exclusive for
 * read-write); a create that would break the rule is refused (409
 * image_busy), since two kernels writing one ext4 image would corrupt it.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/cleanup.h"
#include "daemon/shoald.h"

static int images_dirfd = -1;

int images_init(struct shoal_error *err)
{
	if (mkdir(shoald_config.image_dir, 0700) && errno != EEXIST)
		return shoal_error_set(err, errno, "mkdir %s", shoald_config.image_dir);
	images_dirfd = open(shoald_config.image_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (images_dirfd < 0)
		return shoal_error_set(err, errno, "open %s", shoald_config.image_dir);
	return 0;
}

void images_fini(void)
{
	if (images_dirfd >= 0)
		close(images_dirfd);
	images_dirfd = -1;
}

bool images_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n < 1 || n > IMAGES_NAME_MAX || name[0] == '.' || name[0] == '-')
		return false;
	return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") ==
	       n;
}

int images_open(const char *name, bool read_only, int *fd, struct shoal_error *err)
{
	_cleanup_close_ int f = -1;
	struct stat st;

	if (!images_name_valid(name))
		return shoal_error_set(err, EINVAL, "image \"%.64s\": not a file name", name);
	f = openat(images_dirfd, name, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NOFOLLOW);
	if (f < 0)
		return shoal_error_set(err, errno, "image %s in %s", name, shoald_config.image_dir);
	if (fstat(f, &st) || !S_ISREG(st.st_mode))
		return shoal_error_set(err, EINVAL, "image %s: not a regular file", name);
	if (flock(f, (read_only ? LOCK_SH : LOCK_EX) | LOCK_NB)) {
		if (errno == EWOULDBLOCK)
			return shoal_error_set(err, EBUSY, "image %s is in use (%s)", name,
					       read_only ? "an instance writes it"
							 : "another instance has it");
		return shoal_error_set(err, errno, "lock image %s", name);
	}
	*fd = steal_fd(&f);
	return 0;
}

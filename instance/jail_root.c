// SPDX-License-Identifier: GPL-2.0
/*
 * The jail's root: the file tree a job's host processes see. A job's file
 * calls go to the instance kernel; what stays on the host is what the shim
 * itself opens (the program, its interpreter and libraries) and whatever the
 * syscall server decides to serve from the read-only host directories. So
 * the root holds exactly that, read-only, and nothing else:
 *
 *  - /usr, read-only, no setuid, no devices (a bind mount of the host's);
 *  - /bin, /sbin, /lib, /lib32, /lib64, /libx32: the host's usrmerge
 *    symlinks recreated as they are (a bind mount where the host still has a
 *    directory);
 *  - a minimal /etc: the loader's cache and configuration, the name service
 *    files, time zone, MIME types, Python's and the TLS certificates'
 *    configuration. Not shadow, gshadow, ssh, sudoers, the TLS private keys
 *    or anything else: a job reads what a program needs to start, no secret.
 *
 * Everything is built on a small tmpfs in the zygote's own mount namespace
 * (the instance's and the host's tables never see it), pivoted into, and
 * then made read-only itself.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "instance/instance.h"

/* Where the root is assembled in the zygote's mount table (ours alone by then). */
#define JAIL_BUILD_DIR "/tmp"

/* The top-level names that are usrmerge symlinks on Debian (directories elsewhere). */
static const char *const jail_top_links[] = { "bin", "sbin", "lib", "lib32", "lib64", "libx32" };

/* What of /etc a program may need to start; a missing entry is skipped. */
static const char *const jail_etc[] = {
	"ld.so.cache",	 "ld.so.conf",	 "ld.so.conf.d",    "passwd",	  "group",
	"nsswitch.conf", "alternatives", "localtime",	    "mime.types", "host.conf",
	"gai.conf",	 "ssl/certs",	 "ssl/openssl.cnf",
};

/*
 * Bind @src onto @dst read-only, without setuid or devices. The flags of a
 * bind mount can only be changed by a remount of the new mount, so it takes
 * two calls; submounts (rare under /usr) are covered by mount_setattr's
 * AT_RECURSIVE where the host kernel has it.
 */
static int jail_bind_ro(const char *src, const char *dst, struct shoal_error *err)
{
	struct mount_attr_compat {
		unsigned long long attr_set, attr_clr, propagation, userns_fd;
	} attr = { .attr_set = 0x1 | 0x2 | 0x4 }; /* MOUNT_ATTR_RDONLY | NOSUID | NODEV */

	if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) < 0)
		return shoal_error_set(err, errno, "jail: bind %s", src);
	if (syscall(SYS_mount_setattr, AT_FDCWD, dst, AT_RECURSIVE, &attr, sizeof(attr)) == 0)
		return 0;
	if (mount(NULL, dst, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) <
	    0)
		return shoal_error_set(err, errno, "jail: make %s read-only", dst);
	return 0;
}

/* Make @path (under the build dir) the same kind of thing as host @src: dir, file, link. */
static int jail_mirror(const char *src, const char *dst, struct shoal_error *err)
{
	struct stat st;
	char target[PATH_MAX];
	ssize_t n;
	int fd;

	if (lstat(src, &st) < 0)
		return errno == ENOENT ? 1 : shoal_error_set(err, errno, "jail: lstat %s", src);
	if (S_ISLNK(st.st_mode)) {
		/* Symlinks are copied, not followed: usrmerge links, /etc/localtime. */
		n = readlink(src, target, sizeof(target) - 1);
		if (n < 0)
			return shoal_error_set(err, errno, "jail: readlink %s", src);
		target[n] = 0;
		if (symlink(target, dst) < 0)
			return shoal_error_set(err, errno, "jail: symlink %s", dst);
		return 0;
	}
	if (S_ISDIR(st.st_mode)) {
		if (mkdir(dst, 0755) < 0 && errno != EEXIST)
			return shoal_error_set(err, errno, "jail: mkdir %s", dst);
	} else if (S_ISREG(st.st_mode)) {
		fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0)
			return shoal_error_set(err, errno, "jail: create %s", dst);
		close(fd);
	} else {
		return 1; /* sockets, devices, fifos: never */
	}
	return jail_bind_ro(src, dst, err);
}

static int jail_path(char *buf, size_t size, const char *a, const char *b)
{
	int n = snprintf(buf, size, "%s/%s", a, b);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* Python's configuration directories (/etc/python3, /etc/python3.11): whatever is there. */
static int jail_mirror_python(const char *root, struct shoal_error *err)
{
	DIR *d = opendir("/etc");
	struct dirent *e;
	int r = 0;

	if (!d)
		return 0;
	while (!r && (e = readdir(d))) {
		char src[PATH_MAX], dst[PATH_MAX];

		if (fnmatch("python3*", e->d_name, 0))
			continue;
		snprintf(src, sizeof(src), "/etc/%s", e->d_name);
		if (jail_path(dst, sizeof(dst), root, src) < 0)
			continue;
		r = jail_mirror(src, dst, err);
		if (r > 0)
			r = 0;
	}
	closedir(d);
	return r;
}

/*
 * Build the root under JAIL_BUILD_DIR and pivot into it. Runs in the zygote,
 * in a mount namespace of its own, with CAP_SYS_ADMIN. The old root is
 * detached at the end: from then on, no host path but these can be opened.
 */
int jail_root_build(struct shoal_error *err)
{
	const char *root = JAIL_BUILD_DIR;
	char src[PATH_MAX], dst[PATH_MAX];
	size_t i;
	int r;

	/* A tmpfs the size of a few directories and links: nothing can be written there. */
	if (mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV,
		  "size=64k,nr_inodes=256,mode=0755") < 0)
		return shoal_error_set(err, errno, "jail: mount the root tmpfs");
	if (jail_path(dst, sizeof(dst), root, "usr") < 0 || mkdir(dst, 0755) < 0)
		return shoal_error_set(err, errno, "jail: mkdir usr");
	r = jail_bind_ro("/usr", dst, err);
	if (r < 0)
		return r;
	for (i = 0; i < sizeof(jail_top_links) / sizeof(jail_top_links[0]); i++) {
		snprintf(src, sizeof(src), "/%s", jail_top_links[i]);
		if (jail_path(dst, sizeof(dst), root, jail_top_links[i]) < 0)
			return shoal_error_set(err, ENAMETOOLONG, "jail: path");
		r = jail_mirror(src, dst, err);
		if (r < 0)
			return r;
	}
	if (jail_path(dst, sizeof(dst), root, "etc") < 0 || mkdir(dst, 0755) < 0 ||
	    jail_path(dst, sizeof(dst), root, "etc/ssl") < 0 || mkdir(dst, 0755) < 0)
		return shoal_error_set(err, errno, "jail: mkdir etc");
	for (i = 0; i < sizeof(jail_etc) / sizeof(jail_etc[0]); i++) {
		snprintf(src, sizeof(src), "/etc/%s", jail_etc[i]);
		if (jail_path(dst, sizeof(dst), root, src) < 0)
			return shoal_error_set(err, ENAMETOOLONG, "jail: path %s", src);
		r = jail_mirror(src, dst, err);
		if (r < 0)
			return r;
	}
	r = jail_mirror_python(root, err);
	if (r < 0)
		return r;

	/*
	 * pivot_root(".", ".") stacks the old root under the new one; the
	 * detach takes it away for good. Then the root itself becomes
	 * read-only: a job cannot add a file to it, even through a bug here.
	 */
	if (chdir(root) < 0)
		return shoal_error_set(err, errno, "jail: chdir to the root");
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return shoal_error_set(err, errno, "jail: pivot_root");
	if (umount2(".", MNT_DETACH) < 0)
		return shoal_error_set(err, errno, "jail: detach the old root");
	if (chdir("/") < 0)
		return shoal_error_set(err, errno, "jail: chdir /");
	if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) <
	    0)
		return shoal_error_set(err, errno, "jail: make the root read-only");
	return 0;
}

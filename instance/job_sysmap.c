// SPDX-License-Identifier: GPL-2.0
/*
 * The job's system call numbers (x86-64, what the program and so the shim
 * use) against the library kernel's (the generic table of arm64 and
 * riscv). Calls that exist in both with the same meaning and the same
 * argument layout map by name. The legacy x86-64 calls the generic table
 * dropped (open, stat, pipe, poll, ...) are rewritten as the *at / 2 / p
 * call the generic table keeps, which is what the kernel itself does for
 * them on x86. One layout differs between the two ABIs in what is
 * forwarded: struct stat (x86-64's is 144 bytes, the generic one 128), so
 * the stat family runs into the slot's scratch bytes and is converted.
 * Everything else (memory, threads, signals, process control, and the fd
 * calls that only make sense with them, such as signalfd or memfd_create)
 * is refused with -ENOSYS: the shim runs those on the host.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>

#include <skl.h>

#include "instance/job_sysmap.h"

/* Calls newer than the host's headers; the numbers are shared by every
 * architecture from 424 on. */
#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif
#ifndef SYS_epoll_pwait2
#define SYS_epoll_pwait2 441
#endif

/* How an x86-64 call reaches the kernel. */
enum job_sysmap_kind {
	MAP_NONE = 0, /* refused: -ENOSYS (the zero entry of the table) */
	MAP_SAME, /* same call, same arguments: the generic number */
	MAP_OPEN, /* open(p, fl, m) -> openat(AT_FDCWD, p, fl, m) */
	MAP_CREAT, /* creat(p, m) -> openat(AT_FDCWD, p, O_CREAT|O_WRONLY|O_TRUNC, m) */
	MAP_STAT, /* stat(p, b) -> newfstatat(AT_FDCWD, p, b, 0), converted */
	MAP_LSTAT, /* lstat(p, b) -> newfstatat(AT_FDCWD, p, b, AT_SYMLINK_NOFOLLOW) */
	MAP_FSTAT, /* fstat(fd, b), converted */
	MAP_NEWFSTATAT, /* newfstatat(d, p, b, fl), converted */
	MAP_ACCESS, /* access(p, m) -> faccessat(AT_FDCWD, p, m) */
	MAP_MKDIR, /* mkdir(p, m) -> mkdirat(AT_FDCWD, p, m) */
	MAP_RMDIR, /* rmdir(p) -> unlinkat(AT_FDCWD, p, AT_REMOVEDIR) */
	MAP_UNLINK, /* unlink(p) -> unlinkat(AT_FDCWD, p, 0) */
	MAP_RENAME, /* rename(a, b) -> renameat2(AT_FDCWD, a, AT_FDCWD, b, 0) */
	MAP_RENAMEAT, /* renameat(d, a, e, b) -> renameat2(d, a, e, b, 0) */
	MAP_READLINK, /* readlink(p, b, n) -> readlinkat(AT_FDCWD, p, b, n) */
	MAP_SYMLINK, /* symlink(t, l) -> symlinkat(t, AT_FDCWD, l) */
	MAP_LINK, /* link(a, b) -> linkat(AT_FDCWD, a, AT_FDCWD, b, 0) */
	MAP_CHMOD, /* chmod(p, m) -> fchmodat(AT_FDCWD, p, m) */
	MAP_CHOWN, /* chown(p, u, g) -> fchownat(AT_FDCWD, p, u, g, 0) */
	MAP_LCHOWN, /* lchown -> fchownat(..., AT_SYMLINK_NOFOLLOW) */
	MAP_MKNOD, /* mknod(p, m, d) -> mknodat(AT_FDCWD, p, m, d) */
	MAP_PIPE, /* pipe(f) -> pipe2(f, 0) */
	MAP_DUP2, /* dup2(a, b) -> dup3(a, b, 0), or F_GETFD when a == b */
	MAP_POLL, /* poll(f, n, ms) -> ppoll(f, n, ts or NULL, NULL, 8) */
	MAP_SELECT, /* select(n, r, w, e, tv) -> pselect6(n, r, w, e, ts, NULL) */
	MAP_EPOLL_WAIT, /* epoll_wait(e, ev, n, ms) -> epoll_pwait(..., NULL, 8) */
	MAP_EPOLL_CREATE, /* epoll_create(size > 0) -> epoll_create1(0) */
	MAP_EVENTFD, /* eventfd(n) -> eventfd2(n, 0) */
	MAP_INOTIFY_INIT, /* inotify_init() -> inotify_init1(0) */
	MAP_UTIME, /* utime(p, utimbuf) -> utimensat(AT_FDCWD, p, ts[2], 0) */
	MAP_UTIMES, /* utimes(p, tv[2]) -> utimensat(AT_FDCWD, p, ts[2], 0) */
	MAP_FUTIMESAT, /* futimesat(d, p, tv[2]) -> utimensat(d, p, ts[2], 0) */
};

struct job_sysmap_entry {
	int16_t nr; /* generic number (MAP_SAME) */
	uint8_t kind; /* enum job_sysmap_kind */
};

#define SAME(name) [SYS_##name] = { __skl__NR_##name, MAP_SAME }
#define XLAT(name, kind) [SYS_##name] = { -1, kind }

/* x86-64 numbers end below 512 (the x32 range starts at 512). */
#define JOB_SYSMAP_MAX 512

static const struct job_sysmap_entry job_sysmap_table[JOB_SYSMAP_MAX] = {
	/* Reading and writing descriptors. */
	SAME(read), SAME(write), SAME(close), SAME(pread64), SAME(pwrite64), SAME(readv),
	SAME(writev), SAME(preadv), SAME(pwritev), SAME(preadv2), SAME(pwritev2), SAME(lseek),
	SAME(sendfile), SAME(splice), SAME(tee), SAME(copy_file_range), SAME(ioctl),
	SAME(close_range),

	/* Descriptor table and file status flags. */
	SAME(fcntl), SAME(dup), SAME(dup3), XLAT(dup2, MAP_DUP2), SAME(flock),

	/* Opening and naming files: the *at calls; x86-64's path-only
	 * calls become them with AT_FDCWD. */
	SAME(openat), SAME(openat2), XLAT(open, MAP_OPEN), XLAT(creat, MAP_CREAT), SAME(mkdirat),
	XLAT(mkdir, MAP_MKDIR), SAME(mknodat), XLAT(mknod, MAP_MKNOD), SAME(unlinkat),
	XLAT(unlink, MAP_UNLINK), XLAT(rmdir, MAP_RMDIR), SAME(renameat2),
	XLAT(renameat, MAP_RENAMEAT), XLAT(rename, MAP_RENAME), SAME(readlinkat),
	XLAT(readlink, MAP_READLINK), SAME(symlinkat), XLAT(symlink, MAP_SYMLINK), SAME(linkat),
	XLAT(link, MAP_LINK), SAME(getdents64),

	/* Metadata. struct stat is converted (see above); statx, statfs and
	 * the rest have one layout on every 64-bit architecture. */
	XLAT(stat, MAP_STAT), XLAT(lstat, MAP_LSTAT), XLAT(fstat, MAP_FSTAT),
	XLAT(newfstatat, MAP_NEWFSTATAT), SAME(statx), SAME(statfs), SAME(fstatfs), SAME(faccessat),
	SAME(faccessat2), XLAT(access, MAP_ACCESS), SAME(fchmod), SAME(fchmodat), SAME(fchmodat2),
	XLAT(chmod, MAP_CHMOD), SAME(fchown), SAME(fchownat), XLAT(chown, MAP_CHOWN),
	XLAT(lchown, MAP_LCHOWN), SAME(utimensat), XLAT(utime, MAP_UTIME), XLAT(utimes, MAP_UTIMES),
	XLAT(futimesat, MAP_FUTIMESAT), SAME(truncate), SAME(ftruncate), SAME(fallocate),
	SAME(umask), SAME(setxattr), SAME(lsetxattr), SAME(fsetxattr), SAME(getxattr),
	SAME(lgetxattr), SAME(fgetxattr), SAME(listxattr), SAME(llistxattr), SAME(flistxattr),
	SAME(removexattr), SAME(lremovexattr), SAME(fremovexattr),

	/* Writing back and read-ahead. */
	SAME(fsync), SAME(fdatasync), SAME(sync), SAME(syncfs), SAME(sync_file_range),
	SAME(readahead), SAME(fadvise64),

	/* Working directory (the task's own, copied on fork). */
	SAME(chdir), SAME(fchdir), SAME(getcwd),

	/* Pipes, waiting and event descriptors. The legacy waits become the
	 * p-variants with no signal mask: signals are the host's. */
	SAME(pipe2), XLAT(pipe, MAP_PIPE), SAME(ppoll), XLAT(poll, MAP_POLL), SAME(pselect6),
	XLAT(select, MAP_SELECT), SAME(epoll_create1), XLAT(epoll_create, MAP_EPOLL_CREATE),
	SAME(epoll_ctl), SAME(epoll_pwait), SAME(epoll_pwait2), XLAT(epoll_wait, MAP_EPOLL_WAIT),
	SAME(eventfd2), XLAT(eventfd, MAP_EVENTFD), SAME(timerfd_create), SAME(timerfd_settime),
	SAME(timerfd_gettime), SAME(inotify_init1), XLAT(inotify_init, MAP_INOTIFY_INIT),
	SAME(inotify_add_watch), SAME(inotify_rm_watch),

	/* Sockets: the instance kernel's network stack and AF_UNIX. */
	SAME(socket), SAME(socketpair), SAME(bind), SAME(listen), SAME(accept), SAME(accept4),
	SAME(connect), SAME(getsockname), SAME(getpeername), SAME(setsockopt), SAME(getsockopt),
	SAME(sendto), SAME(recvfrom), SAME(sendmsg), SAME(recvmsg), SAME(sendmmsg), SAME(recvmmsg),
	SAME(shutdown),

	/* The machine the job sees. sethostname and setdomainname are not
	 * here: the job does not rename its instance. */
	SAME(uname),

	/*
	 * Refused on purpose (no entry, so -ENOSYS): getdents (the old dirent
	 * layout; libcs use getdents64), signalfd and signalfd4 (signals are
	 * the host's), memfd_create and vmsplice (they only make sense with
	 * memory the kernel task does not have), mount and chroot.
	 */
};

long job_sysmap_generic(long nr)
{
	if (nr < 0 || nr >= JOB_SYSMAP_MAX || job_sysmap_table[nr].kind != MAP_SAME)
		return -1;
	return job_sysmap_table[nr].nr;
}

int job_sysmap_known(long nr)
{
	return nr >= 0 && nr < JOB_SYSMAP_MAX && job_sysmap_table[nr].kind != MAP_NONE;
}

/* struct stat as x86-64's kernel writes it (arch/x86/include/uapi/asm/stat.h). */
struct job_x86_stat {
	uint64_t st_dev;
	uint64_t st_ino;
	uint64_t st_nlink;
	uint32_t st_mode;
	uint32_t st_uid;
	uint32_t st_gid;
	uint32_t pad0;
	uint64_t st_rdev;
	int64_t st_size;
	int64_t st_blksize;
	int64_t st_blocks;
	uint64_t st_atime_sec;
	uint64_t st_atime_nsec;
	uint64_t st_mtime_sec;
	uint64_t st_mtime_nsec;
	uint64_t st_ctime_sec;
	uint64_t st_ctime_nsec;
	int64_t unused[3];
};
_Static_assert(sizeof(struct job_x86_stat) == 144, "x86-64 struct stat is 144 bytes");

/* The times, all 64-bit fields on both sides: struct __kernel_timespec,
 * struct timeval, struct utimbuf. */
struct job_timespec {
	int64_t tv_sec;
	int64_t tv_nsec;
};
struct job_timeval {
	int64_t sec;
	int64_t usec;
};
struct job_utimbuf {
	int64_t actime;
	int64_t modtime;
};

static long sysmap_kcall(long nr, long a0, long a1, long a2, long a3, long a4, long a5)
{
	long p[6] = { a0, a1, a2, a3, a4, a5 };

	return skl_syscall(nr, p);
}

/* Does [ptr, ptr + len) lie in the data area? */
static int area_has(const struct job_sysmap_area *area, long ptr, size_t len)
{
	uintptr_t p = (uintptr_t)ptr, lo = (uintptr_t)area->lo, hi = (uintptr_t)area->hi;

	return p >= lo && p <= hi && len <= hi - p;
}

static char *area_scratch(const struct job_sysmap_area *area)
{
	return area->hi - JOB_SYSMAP_SCRATCH;
}

/*
 * The stat family: the kernel writes its struct stat into the scratch
 * bytes, then it is copied into the job's buffer in x86-64's layout. The
 * job's buffer is checked here since the instance, not the kernel, writes it.
 */
static long stat_call(const struct job_sysmap_area *area, long nr, long a0, long a1, long buf,
		      long a3)
{
	struct skl_stat *k = (struct skl_stat *)area_scratch(area);
	struct skl_stat ks;
	struct job_x86_stat x;
	long r;

	if (!area_has(area, buf, sizeof(x)))
		return -EFAULT;
	if (nr == __skl__NR_fstat)
		r = sysmap_kcall(nr, a0, (long)k, 0, 0, 0, 0);
	else
		r = sysmap_kcall(nr, a0, a1, (long)k, a3, 0, 0);
	if (r < 0)
		return r;
	memcpy(&ks, k, sizeof(ks));
	memset(&x, 0, sizeof(x));
	x.st_dev = ks.st_dev;
	x.st_ino = ks.st_ino;
	x.st_nlink = ks.st_nlink;
	x.st_mode = ks.st_mode;
	x.st_uid = ks.st_uid;
	x.st_gid = ks.st_gid;
	x.st_rdev = ks.st_rdev;
	x.st_size = ks.st_size;
	x.st_blksize = ks.st_blksize;
	x.st_blocks = ks.st_blocks;
	x.st_atime_sec = (uint64_t)ks.skl_st_atime;
	x.st_atime_nsec = ks.st_atime_nsec;
	x.st_mtime_sec = (uint64_t)ks.skl_st_mtime;
	x.st_mtime_nsec = ks.st_mtime_nsec;
	x.st_ctime_sec = (uint64_t)ks.skl_st_ctime;
	x.st_ctime_nsec = ks.st_ctime_nsec;
	memcpy((void *)buf, &x, sizeof(x));
	return r;
}

/* poll's milliseconds as ppoll's timespec (NULL for a negative timeout). */
static long poll_call(const struct job_sysmap_area *area, const long *a)
{
	struct job_timespec *ts = NULL;
	int ms = (int)a[2];

	if (ms >= 0) {
		ts = (struct job_timespec *)area_scratch(area);
		ts->tv_sec = ms / 1000;
		ts->tv_nsec = (long)(ms % 1000) * 1000000;
	}
	return sysmap_kcall(__skl__NR_ppoll, a[0], a[1], (long)ts, 0, sizeof(uint64_t), 0);
}

/* select's timeval becomes pselect6's timespec and back (Linux's select
 * leaves the time not slept in it). */
static long select_call(const struct job_sysmap_area *area, const long *a)
{
	struct job_timespec *ts = NULL;
	struct job_timeval tv;
	long r;

	if (a[4]) {
		if (!area_has(area, a[4], sizeof(tv)))
			return -EFAULT;
		memcpy(&tv, (void *)a[4], sizeof(tv));
		if (tv.sec < 0 || tv.usec < 0 || tv.usec >= 1000000)
			return -EINVAL;
		ts = (struct job_timespec *)area_scratch(area);
		ts->tv_sec = tv.sec;
		ts->tv_nsec = tv.usec * 1000;
	}
	r = sysmap_kcall(__skl__NR_pselect6, a[0], a[1], a[2], a[3], (long)ts, 0);
	if (ts) {
		tv.sec = ts->tv_sec;
		tv.usec = ts->tv_nsec / 1000;
		memcpy((void *)a[4], &tv, sizeof(tv));
	}
	return r;
}

/* utime, utimes, futimesat: their times as utimensat's two timespecs. */
static long utimes_call(const struct job_sysmap_area *area, long dfd, long path, long times,
			int kind)
{
	struct job_timespec *ts = NULL;
	int i;

	if (times) {
		ts = (struct job_timespec *)area_scratch(area);
		if (kind == MAP_UTIME) {
			struct job_utimbuf ub;

			if (!area_has(area, times, sizeof(ub)))
				return -EFAULT;
			memcpy(&ub, (void *)times, sizeof(ub));
			ts[0].tv_sec = ub.actime;
			ts[1].tv_sec = ub.modtime;
			ts[0].tv_nsec = ts[1].tv_nsec = 0;
		} else {
			struct job_timeval tv[2];

			if (!area_has(area, times, sizeof(tv)))
				return -EFAULT;
			memcpy(tv, (void *)times, sizeof(tv));
			for (i = 0; i < 2; i++) {
				if (tv[i].usec < 0 || tv[i].usec >= 1000000)
					return -EINVAL;
				ts[i].tv_sec = tv[i].sec;
				ts[i].tv_nsec = tv[i].usec * 1000;
			}
		}
	}
	return sysmap_kcall(__skl__NR_utimensat, dfd, path, (long)ts, 0, 0, 0);
}

static long dup2_call(long oldfd, long newfd)
{
	long r;

	if (oldfd != newfd)
		return sysmap_kcall(__skl__NR_dup3, oldfd, newfd, 0, 0, 0, 0);
	/* dup2 of an fd onto itself checks that it is open and changes nothing. */
	r = sysmap_kcall(__skl__NR_fcntl, oldfd, SKL_F_GETFD, 0, 0, 0, 0);
	return r < 0 ? r : newfd;
}

long job_sysmap_call(long nr, const long args[6], const struct job_sysmap_area *area)
{
	const long *a = args;
	const long cwd = SKL_AT_FDCWD;
	struct job_sysmap_entry e;

	if (nr < 0 || nr >= JOB_SYSMAP_MAX)
		return -ENOSYS;
	e = job_sysmap_table[nr];
	switch (e.kind) {
	case MAP_SAME:
		return skl_syscall(e.nr, (long *)a);
	case MAP_OPEN:
		return sysmap_kcall(__skl__NR_openat, cwd, a[0], a[1], a[2], 0, 0);
	case MAP_CREAT:
		return sysmap_kcall(__skl__NR_openat, cwd, a[0],
				    SKL_O_CREAT | SKL_O_WRONLY | SKL_O_TRUNC, a[1], 0, 0);
	case MAP_STAT:
		return stat_call(area, __skl__NR_newfstatat, cwd, a[0], a[1], 0);
	case MAP_LSTAT:
		return stat_call(area, __skl__NR_newfstatat, cwd, a[0], a[1],
				 SKL_AT_SYMLINK_NOFOLLOW);
	case MAP_FSTAT:
		return stat_call(area, __skl__NR_fstat, a[0], 0, a[1], 0);
	case MAP_NEWFSTATAT:
		return stat_call(area, __skl__NR_newfstatat, a[0], a[1], a[2], a[3]);
	case MAP_ACCESS:
		return sysmap_kcall(__skl__NR_faccessat, cwd, a[0], a[1], 0, 0, 0);
	case MAP_MKDIR:
		return sysmap_kcall(__skl__NR_mkdirat, cwd, a[0], a[1], 0, 0, 0);
	case MAP_RMDIR:
		return sysmap_kcall(__skl__NR_unlinkat, cwd, a[0], SKL_AT_REMOVEDIR, 0, 0, 0);
	case MAP_UNLINK:
		return sysmap_kcall(__skl__NR_unlinkat, cwd, a[0], 0, 0, 0, 0);
	case MAP_RENAME:
		return sysmap_kcall(__skl__NR_renameat2, cwd, a[0], cwd, a[1], 0, 0);
	case MAP_RENAMEAT:
		return sysmap_kcall(__skl__NR_renameat2, a[0], a[1], a[2], a[3], 0, 0);
	case MAP_READLINK:
		return sysmap_kcall(__skl__NR_readlinkat, cwd, a[0], a[1], a[2], 0, 0);
	case MAP_SYMLINK:
		return sysmap_kcall(__skl__NR_symlinkat, a[0], cwd, a[1], 0, 0, 0);
	case MAP_LINK:
		return sysmap_kcall(__skl__NR_linkat, cwd, a[0], cwd, a[1], 0, 0);
	case MAP_CHMOD:
		return sysmap_kcall(__skl__NR_fchmodat, cwd, a[0], a[1], 0, 0, 0);
	case MAP_CHOWN:
		return sysmap_kcall(__skl__NR_fchownat, cwd, a[0], a[1], a[2], 0, 0);
	case MAP_LCHOWN:
		return sysmap_kcall(__skl__NR_fchownat, cwd, a[0], a[1], a[2],
				    SKL_AT_SYMLINK_NOFOLLOW, 0);
	case MAP_MKNOD:
		return sysmap_kcall(__skl__NR_mknodat, cwd, a[0], a[1], a[2], 0, 0);
	case MAP_PIPE:
		return sysmap_kcall(__skl__NR_pipe2, a[0], 0, 0, 0, 0, 0);
	case MAP_DUP2:
		return dup2_call(a[0], a[1]);
	case MAP_POLL:
		return poll_call(area, a);
	case MAP_SELECT:
		return select_call(area, a);
	case MAP_EPOLL_WAIT:
		return sysmap_kcall(__skl__NR_epoll_pwait, a[0], a[1], a[2], a[3], 0,
				    sizeof(uint64_t));
	case MAP_EPOLL_CREATE:
		if ((int)a[0] <= 0)
			return -EINVAL;
		return sysmap_kcall(__skl__NR_epoll_create1, 0, 0, 0, 0, 0, 0);
	case MAP_EVENTFD:
		return sysmap_kcall(__skl__NR_eventfd2, a[0], 0, 0, 0, 0, 0);
	case MAP_INOTIFY_INIT:
		return sysmap_kcall(__skl__NR_inotify_init1, 0, 0, 0, 0, 0, 0);
	case MAP_UTIME:
	case MAP_UTIMES:
		return utimes_call(area, cwd, a[0], a[1], e.kind);
	case MAP_FUTIMESAT:
		return utimes_call(area, a[0], a[1], a[2], e.kind);
	default:
		return -ENOSYS;
	}
}

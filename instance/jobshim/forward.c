// SPDX-License-Identifier: GPL-2.0
/*
 * forward.c: forwarding mode, the shim's normal mode. A trapped call is
 * classified by sysclass.c; host calls run here with the program's signal
 * mask; the others are routed: a call that names a placeholder fd or a
 * path under the host directories runs on the host (with the host fd and
 * the normalised path), everything else is copied into the calling
 * thread's slot and run by the instance's kernel. The generic copy follows
 * the argument kinds of the policy table; the calls whose arguments nest
 * pointers (iovecs, msghdrs, pollfds, fd_sets, ioctls) and the calls that
 * change the fd table (dup, close) or make host fds (memfd, signalfd,
 * pidfd) have their own code here and in forward_io.c.
 */
#include "instance/jobshim/forward.h"

#include "instance/jobshim/fdtable.h"
#include "instance/jobshim/forward_io.h"
#include "instance/jobshim/handler.h"
#include "instance/jobshim/lib.h"
#include "instance/jobshim/route.h"
#include "instance/jobshim/shim.h"
#include "instance/jobshim/sig.h"
#include "instance/jobshim/thread.h"
#include "instance/jobshim/slot.h"
#include "instance/jobshim/sysclass.h"

#include "instance/job_abi.h"

#define FWD_PATH_MAX 4096
#define FWD_O_CLOEXEC 02000000

long forward_init(int region_fd)
{
	const struct shoal_region_header *h;
	long r;

	r = shim_mmap(SHOAL_REGION_JOB_ADDR, SHOAL_REGION_SIZE, PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_FIXED_NOREPLACE, region_fd, 0);
	if (r < 0)
		return r;
	if ((unsigned long)r != SHOAL_REGION_JOB_ADDR)
		return -EEXIST;
	h = (const struct shoal_region_header *)SHOAL_REGION_JOB_ADDR;
	if (h->magic != SHOAL_REGION_MAGIC || h->version != SHOAL_JOB_ABI_VERSION ||
	    h->nslots != SHOAL_SLOTS_MAX || h->slot_stride != SHOAL_SLOT_STRIDE)
		return -EPROTO;
	shim_g.region = SHOAL_REGION_JOB_ADDR;
	shim_g.instance_base = h->instance_base;
	return 0;
}

long fwd_kcall(long nr, long a0, long a1, long a2, long a3, long a4, long a5)
{
	long args[6] = { a0, a1, a2, a3, a4, a5 };
	struct slot_call c;
	long r = slot_begin(&c);

	if (r)
		return r;
	r = slot_post(&c, nr, args);
	slot_end(&c);
	return r;
}

/* A kernel call whose argument @pos is the string @s (copied in). */
static long kcall_str(long nr, int pos, const char *s, long *args)
{
	struct slot_call c;
	long r = slot_begin(&c);
	char *p;

	if (r)
		return r;
	p = slot_copy_in(&c, s, shim_strlen(s) + 1);
	if (!p) {
		r = -ENAMETOOLONG;
	} else {
		args[pos] = slot_addr(p);
		r = slot_post(&c, nr, args);
	}
	slot_end(&c);
	return r;
}

long fwd_placeholder_new(int host, int cloexec)
{
	long args[6] = { AT_FDCWD, 0, O_RDWR | (cloexec ? FWD_O_CLOEXEC : 0), 0, 0, 0 };
	long v = kcall_str(__NR_openat, 1, "/dev/null", args);
	int prev;

	if (v < 0) {
		shim_close(host);
		return v;
	}
	prev = fdtable_set((int)v, host, cloexec);
	if (prev == -EMFILE) {
		fwd_kcall(__NR_close, v, 0, 0, 0, 0, 0);
		shim_close(host);
		return -EMFILE;
	}
	if (prev >= 0)
		shim_close(prev); /* a stale entry: the kernel reused the number */
	return v;
}

long forward_open_read(const char *path)
{
	long args[6] = { AT_FDCWD, 0, O_RDONLY | FWD_O_CLOEXEC, 0, 0, 0 };

	return kcall_str(__NR_openat, 1, path, args);
}

long forward_pread(int fd, void *buf, size_t len, long off)
{
	struct slot_call c;
	long args[6] = { fd, 0, 0, off, 0, 0 };
	long r = slot_begin(&c);
	char *p;

	if (r)
		return r;
	if (len > SLOT_DATA_MAX - 64)
		len = SLOT_DATA_MAX - 64;
	p = slot_alloc(&c, len);
	args[1] = slot_addr(p);
	args[2] = (long)len;
	r = slot_post(&c, __NR_pread64, args);
	if (r > 0)
		shim_memcpy(buf, p, (size_t)r);
	slot_end(&c);
	return r;
}

long forward_getcwd(char *buf, size_t size)
{
	struct slot_call c;
	long args[6] = { 0, (long)size, 0, 0, 0, 0 };
	long r = slot_begin(&c);
	char *p;

	if (r)
		return r;
	p = slot_alloc(&c, size);
	if (!p) {
		slot_end(&c);
		return -ERANGE;
	}
	args[0] = slot_addr(p);
	r = slot_post(&c, __NR_getcwd, args);
	if (r > 0 && (size_t)r <= size)
		shim_memcpy(buf, p, (size_t)r);
	slot_end(&c);
	return r;
}

long forward_close(int fd)
{
	return fwd_kcall(__NR_close, fd, 0, 0, 0, 0, 0);
}

long forward_read_head(const char *path, char *buf, size_t len)
{
	long fd = forward_open_read(path), r;

	if (fd < 0)
		return fd;
	r = forward_pread((int)fd, buf, len, 0);
	forward_close((int)fd);
	return r;
}

long forward_access(const char *path, int mode)
{
	long args[6] = { AT_FDCWD, 0, mode, 0, 0, 0 };

	return kcall_str(__NR_faccessat, 1, path, args);
}

/* The open flags of an open-like call, for the placeholder's close-on-exec. */
static long open_flags(long nr, const long *a)
{
	switch (nr) {
	case __NR_open:
		return a[1];
	case __NR_openat:
		return a[2];
	case __NR_openat2:
		return a[2] ? *(const long *)a[2] : 0;
	default:
		return 0;
	}
}

/*
 * Run a routed call on the host: placeholder fds become their host fds,
 * absolute paths their normalised form (@norm[i] when set). An open-like
 * call gets O_CLOEXEC on the host (host fds are the shim's) and a
 * placeholder in the kernel for the program.
 */
static long run_on_host(long nr, const long *a, const struct sys_desc *d, char *const *norm,
			const struct shim_ucontext *uc)
{
	long args[6], how[3];
	long r, flags = open_flags(nr, a);
	int i;

	for (i = 0; i < 6; i++) {
		int h;

		args[i] = a[i];
		switch (d->arg[i].kind) {
		case SA_FD:
		case SA_DIRFD:
		case SA_DIRFD2:
			h = fdtable_get((int)a[i]);
			if (h >= 0)
				args[i] = h;
			break;
		case SA_PATH:
		case SA_PATH2:
			if (norm[i])
				args[i] = (long)norm[i];
			break;
		default:
			break;
		}
	}
	if (d->newfd) {
		if (nr == __NR_openat2) {
			if (!a[2] || a[3] < 24)
				return -EINVAL;
			shim_memcpy(how, (const void *)a[2], sizeof(how));
			how[0] |= FWD_O_CLOEXEC;
			args[2] = (long)how;
			args[3] = sizeof(how);
		} else if (nr == __NR_creat) {
			/* creat has no flags: it writes, which the read-only
			 * host view refuses anyway. */
		} else {
			args[nr == __NR_open ? 1 : 2] |= FWD_O_CLOEXEC;
		}
	}
	r = handler_host_call(nr, args, uc);
	if (d->newfd && r >= 0)
		r = fwd_placeholder_new((int)r, !!(flags & FWD_O_CLOEXEC));
	return r;
}

static int is_path(uint8_t k)
{
	return k == SA_PATH || k == SA_PATH2;
}

/* The index of the argument of kind @k, or -1. */
static int find_kind(const struct sys_desc *d, uint8_t k)
{
	int i;

	for (i = 0; i < 6; i++) {
		if (d->arg[i].kind == k)
			return i;
	}
	return -1;
}

/*
 * The generic forwarded call: route it, then copy every argument by its
 * kind. A chunked input (write) is sent in pieces until done or short; a
 * clamped output (read) asks for at most what the data area holds.
 */
static long fwd_generic(long nr, long *a, const struct sys_desc *d, const struct shim_ucontext *uc)
{
	char *norm[6] = { 0 };
	void *buf[6] = { 0 };
	uint32_t cap[6] = { 0 };
	int host = 0, kernel = 0, i, big = -1;
	struct slot_call c;
	long args[6], r;

	r = slot_begin(&c);
	if (r)
		return r;

	/* Where does the call run? */
	for (i = 0; i < 6; i++) {
		uint8_t k = d->arg[i].kind;

		if (k == SA_FD) {
			if (fdtable_get((int)a[i]) >= 0)
				host++;
			else
				kernel++;
		} else if (is_path(k)) {
			int j = find_kind(d, k == SA_PATH ? SA_DIRFD : SA_DIRFD2);
			long dirfd = j >= 0 ? a[j] : AT_FDCWD;
			int dir_host = dirfd != AT_FDCWD && fdtable_get((int)dirfd) >= 0;
			const char *p = (const char *)a[i];

			if (!p) {
				/* utimensat(fd, NULL, ...): the fd is the file. */
				dir_host ? host++ : kernel++;
				continue;
			}
			if (p[0] == '/') {
				norm[i] = slot_alloc(&c, FWD_PATH_MAX);
				r = route_normalise(p, norm[i], FWD_PATH_MAX);
				if (r < 0)
					goto out;
			}
			if (route_at(dir_host, p, norm[i]) == ROUTE_HOST)
				host++;
			else
				kernel++;
		}
	}
	if (host && kernel) {
		r = -EXDEV; /* e.g. rename from a host directory into /tmp */
		goto out;
	}
	if (host) {
		r = run_on_host(nr, a, d, norm, uc);
		goto out;
	}

	/* Into the slot: everything but the one large buffer first. */
	for (i = 0; i < 6; i++) {
		const struct sysarg_desc *ad = &d->arg[i];
		const void *p = (const void *)a[i];
		size_t len;

		args[i] = a[i];
		if (p && ad->kind >= SA_PATH && slot_bad_user(p, 1)) {
			r = -EFAULT;
			goto out;
		}
		switch (ad->kind) {
		case SA_PATH:
		case SA_PATH2:
		case SA_STR:
			if (!p)
				break;
			if (norm[i]) {
				args[i] = slot_addr(norm[i]);
				break;
			}
			len = shim_strlen(p) + 1;
			if (len > FWD_PATH_MAX) {
				r = -ENAMETOOLONG;
				goto out;
			}
			buf[i] = slot_copy_in(&c, p, len);
			args[i] = slot_addr(buf[i]);
			break;
		case SA_IN:
		case SA_OUT:
		case SA_OUTRET:
			if (!p)
				break;
			if (d->chunk && big < 0) {
				big = i; /* placed last, below */
				break;
			}
			len = (size_t)a[ad->param];
			buf[i] = ad->kind == SA_IN ? slot_copy_in(&c, p, len) : slot_alloc(&c, len);
			if (!buf[i]) {
				r = -ENOMEM;
				goto out;
			}
			args[i] = slot_addr(buf[i]);
			break;
		case SA_INFIX:
		case SA_INOUTFIX:
			if (!p)
				break;
			buf[i] = slot_copy_in(&c, p, ad->param);
			args[i] = slot_addr(buf[i]);
			break;
		case SA_OUTFIX:
			if (!p)
				break;
			buf[i] = slot_alloc(&c, ad->param);
			args[i] = slot_addr(buf[i]);
			break;
		case SA_OUTLENP:
			if (!p || !a[ad->param]) {
				args[i] = 0;
				break;
			}
			if (slot_bad_user((const void *)a[ad->param], 4)) {
				r = -EFAULT;
				goto out;
			}
			cap[i] = *(const uint32_t *)a[ad->param];
			if (cap[i] > 65536)
				cap[i] = 65536; /* socket addresses and options */
			buf[i] = slot_alloc(&c, cap[i]);
			args[i] = slot_addr(buf[i]);
			break;
		default:
			break;
		}
		if ((ad->kind >= SA_PATH && ad->kind <= SA_OUTLENP) && p && !args[i] && i != big) {
			r = -ENOMEM;
			goto out;
		}
	}
	/* The OUTLENP capacities may have been clamped: tell the kernel. */
	for (i = 0; i < 6; i++) {
		if (d->arg[i].kind == SA_OUTLENP && buf[i]) {
			int lp = d->arg[i].param;

			if (buf[lp])
				*(uint32_t *)buf[lp] = cap[i];
		}
	}

	if (big >= 0) {
		const struct sysarg_desc *ad = &d->arg[big];
		const char *p = (const char *)a[big];
		size_t len = (size_t)a[ad->param], done = 0, n;
		char *dst;

		n = slot_avail(&c) > 64 ? slot_avail(&c) - 64 : 0;
		dst = slot_alloc(&c, n);
		if (!dst) {
			r = -ENOMEM;
			goto out;
		}
		args[big] = slot_addr(dst);
		if (ad->kind != SA_IN) {
			/* A read: one chunk at most (a short read is legal). */
			args[ad->param] = (long)(len < n ? len : n);
			r = slot_post(&c, nr, args);
			/* recv with MSG_TRUNC answers the full length. */
			if (r > 0)
				shim_memcpy((void *)p, dst,
					    (size_t)r < (size_t)args[ad->param]
						    ? (size_t)r
						    : (size_t)args[ad->param]);
			goto copy_out;
		}
		/* A write: until all of it is taken, or a short write. */
		do {
			size_t part = len - done < n ? len - done : n;

			shim_memcpy(dst, p + done, part);
			args[ad->param] = (long)part;
			if (d->offarg)
				args[d->offarg - 1] = a[d->offarg - 1] + (long)done;
			r = slot_post(&c, nr, args);
			if (r < 0)
				break;
			done += (size_t)r;
			if ((size_t)r < part)
				break;
			if (done < len)
				slot_end(&c);
		} while (done < len);
		if (done)
			r = (long)done;
		goto copy_out;
	}
	r = slot_post(&c, nr, args);

copy_out:
	for (i = 0; i < 6; i++) {
		const struct sysarg_desc *ad = &d->arg[i];
		size_t n = 0;

		if (!buf[i] || r < 0)
			continue;
		switch (ad->kind) {
		case SA_OUT:
			n = (size_t)a[ad->param];
			break;
		case SA_OUTRET:
			n = (size_t)r < (size_t)a[ad->param] ? (size_t)r : (size_t)a[ad->param];
			break;
		case SA_OUTFIX:
		case SA_INOUTFIX:
			n = ad->param;
			break;
		case SA_OUTLENP: {
			int lp = ad->param;
			uint32_t got = buf[lp] ? *(const uint32_t *)buf[lp] : 0;

			n = got < cap[i] ? got : cap[i];
			break;
		}
		default:
			break;
		}
		if (n)
			shim_memcpy((void *)a[i], buf[i], n);
	}
out:
	slot_end(&c);
	return r;
}

/* close: the kernel fd, and the host fd behind a placeholder. */
static long fwd_close(long fd)
{
	int h = fdtable_clear((int)fd);
	long r = fwd_kcall(__NR_close, fd, 0, 0, 0, 0, 0);

	if (h >= 0)
		shim_close(h);
	return r;
}

#define FWD_CLOSE_RANGE_CLOEXEC 4

static long fwd_close_range(const long *a)
{
	long r = fwd_kcall(__NR_close_range, a[0], a[1], a[2], 0, 0, 0);
	unsigned long fd, last = (unsigned long)a[1];

	if (r < 0)
		return r;
	if (last >= FDTABLE_MAX)
		last = FDTABLE_MAX - 1;
	for (fd = (unsigned long)a[0]; fd <= last; fd++) {
		if (a[2] & FWD_CLOSE_RANGE_CLOEXEC) {
			fdtable_set_cloexec((int)fd, 1);
		} else {
			int h = fdtable_clear((int)fd);

			if (h >= 0)
				shim_close(h);
		}
	}
	return r;
}

/*
 * After the kernel made @newfd a copy of @oldfd (dup, dup2, dup3,
 * F_DUPFD): mirror it in the table. The entry @newfd had (dup2 over a
 * placeholder) is closed on the host.
 */
static long mirror_dup(long oldfd, long newfd, int cloexec)
{
	int h = fdtable_get((int)oldfd), prev;
	long h2;

	if (newfd < 0)
		return newfd;
	if (h < 0) {
		prev = fdtable_clear((int)newfd);
	} else {
		h2 = shim_fcntl(h, SHIM_F_DUPFD_CLOEXEC, 0);
		if (h2 < 0) {
			/* The kernel fd exists: undo it rather than leave a
			 * placeholder without a host file. */
			fwd_close(newfd);
			return h2;
		}
		prev = fdtable_set((int)newfd, (int)h2, cloexec);
		if (prev == -EMFILE) {
			shim_close((int)h2);
			fwd_close(newfd);
			return -EMFILE;
		}
	}
	if (prev >= 0)
		shim_close(prev);
	return newfd;
}

static long fwd_dup(long nr, const long *a)
{
	long r;

	switch (nr) {
	case __NR_dup:
		r = fwd_kcall(__NR_dup, a[0], 0, 0, 0, 0, 0);
		return mirror_dup(a[0], r, 0);
	case __NR_dup2:
		r = fwd_kcall(__NR_dup2, a[0], a[1], 0, 0, 0, 0);
		if (r < 0 || a[0] == a[1])
			return r;
		return mirror_dup(a[0], r, 0);
	default:
		r = fwd_kcall(__NR_dup3, a[0], a[1], a[2], 0, 0, 0);
		return mirror_dup(a[0], r, !!(a[2] & FWD_O_CLOEXEC));
	}
}

#define F_GETLK 5
#define F_SETLK 6
#define F_SETLKW 7
#define F_OFD_GETLK 36
#define F_OFD_SETLK 37
#define F_OFD_SETLKW 38
#define F_GETOWN_EX 16
#define F_SETOWN_EX 15
#define F_GET_RW_HINT 1035
#define F_SET_RW_HINT 1036
#define F_GET_FILE_RW_HINT 1037
#define F_SET_FILE_RW_HINT 1038

static long fwd_fcntl(const long *a, const struct shim_ucontext *uc)
{
	int h = fdtable_get((int)a[0]);
	long args[6] = { a[0], a[1], a[2], 0, 0, 0 };
	long r, size = 0;

	switch (a[1]) {
	case SHIM_F_DUPFD:
	case SHIM_F_DUPFD_CLOEXEC:
		r = fwd_kcall(__NR_fcntl, a[0], a[1], a[2], 0, 0, 0);
		return mirror_dup(a[0], r, a[1] == SHIM_F_DUPFD_CLOEXEC);
	case SHIM_F_GETFD:
		return fwd_kcall(__NR_fcntl, a[0], a[1], a[2], 0, 0, 0);
	case SHIM_F_SETFD:
		r = fwd_kcall(__NR_fcntl, a[0], a[1], a[2], 0, 0, 0);
		if (!r)
			fdtable_set_cloexec((int)a[0], a[2] & SHIM_FD_CLOEXEC);
		return r;
	case F_GETLK:
	case F_SETLK:
	case F_SETLKW:
	case F_OFD_GETLK:
	case F_OFD_SETLK:
	case F_OFD_SETLKW:
		size = 32; /* struct flock */
		break;
	case F_GETOWN_EX:
	case F_SETOWN_EX:
	case F_GET_RW_HINT:
	case F_SET_RW_HINT:
	case F_GET_FILE_RW_HINT:
	case F_SET_FILE_RW_HINT:
		size = 8;
		break;
	default:
		break;
	}
	if (h >= 0) {
		/* The file's status flags, locks...: the host file's. */
		args[0] = h;
		return handler_host_call(__NR_fcntl, args, uc);
	}
	if (!size || !a[2])
		return fwd_kcall(__NR_fcntl, a[0], a[1], a[2], 0, 0, 0);
	if (slot_bad_user((const void *)a[2], (size_t)size))
		return -EFAULT;
	{
		struct slot_call c;
		void *p;

		r = slot_begin(&c);
		if (r)
			return r;
		p = slot_copy_in(&c, (const void *)a[2], (size_t)size);
		args[2] = slot_addr(p);
		r = slot_post(&c, __NR_fcntl, args);
		if (r >= 0)
			shim_memcpy((void *)a[2], p, (size_t)size);
		slot_end(&c);
		return r;
	}
}

/*
 * memfd_create, signalfd[4], pidfd_open: the host makes the fd; the
 * program gets a placeholder for it. A signalfd4 on an existing signalfd
 * (fd != -1) changes the host one and answers the program's number.
 */
static long fwd_hostfd(long nr, const long *a, const struct shim_ucontext *uc)
{
	long args[6] = { a[0], a[1], a[2], a[3], a[4], a[5] };
	int cloexec = 0;
	long r;

	switch (nr) {
	case __NR_signalfd:
	case __NR_signalfd4:
		if (a[0] != -1) {
			int h = fdtable_get((int)a[0]);

			if (h < 0)
				return -EINVAL;
			args[0] = h;
			r = handler_host_call(nr, args, uc);
			return r < 0 ? r : a[0];
		}
		cloexec = nr == __NR_signalfd4 && (a[3] & FWD_O_CLOEXEC);
		if (nr == __NR_signalfd4)
			args[3] |= FWD_O_CLOEXEC;
		break;
	case __NR_memfd_create:
		cloexec = a[1] & 1; /* MFD_CLOEXEC */
		args[1] |= 1;
		break;
	default: /* pidfd_open: always close-on-exec */
		cloexec = 1;
		break;
	}
	r = handler_host_call(nr, args, uc);
	if (r < 0)
		return r;
	return fwd_placeholder_new((int)r, cloexec);
}

/* Host calls that name an fd the program sees: pidfds. */
static long fwd_host(long nr, const long *a, const struct sys_desc *d,
		     const struct shim_ucontext *uc)
{
	long args[6] = { a[0], a[1], a[2], a[3], a[4], a[5] };
	int i;

	for (i = 0; i < 6; i++) {
		if (d->arg[i].kind == SA_FD) {
			int h = fdtable_get((int)a[i]);

			if (h < 0)
				return -EBADF;
			args[i] = h;
		}
	}
	if (nr == __NR_waitid && a[0] == 3 /* P_PIDFD */) {
		int h = fdtable_get((int)a[1]);

		if (h < 0)
			return -EBADF;
		args[1] = h;
	}
	return handler_host_call(nr, args, uc);
}

long forward_syscall(long nr, long *a, struct shim_ucontext *uc)
{
	const struct sys_desc *d = sysclass_desc(nr);

	if (d->cls != SC_HOST && thread_set_prog_mask(uc->uc_sigmask))
		return -EIO; /* no slot: the instance is gone */

	switch (d->cls) {
	case SC_HOST:
		return fwd_host(nr, a, d, uc);
	case SC_HOSTFD:
		return fwd_hostfd(nr, a, uc);
	case SC_FORWARD:
		return fwd_generic(nr, a, d, uc);
	case SC_SPECIAL:
		break;
	default:
		return -ENOSYS;
	}
	switch (nr) {
	case __NR_close:
		return fwd_close(a[0]);
	case __NR_close_range:
		return fwd_close_range(a);
	case __NR_dup:
	case __NR_dup2:
	case __NR_dup3:
		return fwd_dup(nr, a);
	case __NR_fcntl:
		return fwd_fcntl(a, uc);
	default:
		return forward_io(nr, a, uc);
	}
}

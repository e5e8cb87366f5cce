// SPDX-License-Identifier: GPL-2.0
/*
 * forward_io.c: the forwarded calls the policy table cannot describe,
 * because their arguments hold further pointers (iovec arrays, msghdrs) or
 * arrays sized by another argument (pollfds, fd_sets, epoll events, ioctl
 * buffers), and mmap of a kernel fd, which the host must map and the
 * kernel must fill. Scatter/gather calls travel as one buffer in the slot:
 * a writev becomes chunks of one contiguous iovec, sent until done; a readv
 * reads at most one chunk and scatters it. The signal masks of ppoll,
 * pselect6 and epoll_pwait are not sent: host signals cannot reach a call
 * that blocks in the instance (an honest gap, see the README).
 */
#include "instance/jobshim/forward_io.h"

#include "instance/jobshim/fdtable.h"
#include "instance/jobshim/forward.h"
#include "instance/jobshim/handler.h"
#include "instance/jobshim/lib.h"
#include "instance/jobshim/slot.h"

#define IO_IOV_MAX 1024
#define IO_SLACK 64 /* room for the alignment of a few small allocations */

struct io_iovec {
	char *base;
	size_t len;
};

struct io_msghdr {
	void *name;
	uint32_t namelen;
	uint32_t pad;
	struct io_iovec *iov;
	size_t iovlen;
	void *control;
	size_t controllen;
	int32_t flags;
	int32_t pad2;
};

struct io_mmsghdr {
	struct io_msghdr hdr;
	uint32_t len;
	uint32_t pad;
};

static long host_with_fd(long nr, const long *a, int h, const struct shim_ucontext *uc)
{
	long args[6] = { h, a[1], a[2], a[3], a[4], a[5] };

	return handler_host_call(nr, args, uc);
}

static long iov_total(const struct io_iovec *v, size_t n, size_t *total)
{
	size_t i, t = 0;

	if (n > IO_IOV_MAX)
		return -EINVAL;
	if (n && slot_bad_user(v, n * sizeof(*v)))
		return -EFAULT;
	for (i = 0; i < n; i++) {
		if (v[i].len > 0x7ffff000 - t)
			return -EINVAL;
		if (v[i].len && slot_bad_user(v[i].base, v[i].len))
			return -EFAULT;
		t += v[i].len;
	}
	*total = t;
	return 0;
}

/* Copy @len bytes from logical offset @from of the iovecs into @dst. */
static void iov_gather(const struct io_iovec *v, size_t n, size_t from, char *dst, size_t len)
{
	size_t i;

	for (i = 0; i < n && len; i++) {
		size_t part;

		if (from >= v[i].len) {
			from -= v[i].len;
			continue;
		}
		part = v[i].len - from < len ? v[i].len - from : len;
		shim_memcpy(dst, v[i].base + from, part);
		dst += part;
		len -= part;
		from = 0;
	}
}

static void iov_scatter(const struct io_iovec *v, size_t n, const char *src, size_t len)
{
	size_t i;

	for (i = 0; i < n && len; i++) {
		size_t part = v[i].len < len ? v[i].len : len;

		shim_memcpy(v[i].base, src, part);
		src += part;
		len -= part;
	}
}

/* A contiguous buffer of up to @want bytes as one iovec in the slot. */
static char *one_iovec(struct slot_call *c, size_t want, struct io_iovec **kv, size_t *n)
{
	char *buf;

	*kv = slot_alloc(c, sizeof(**kv));
	*n = slot_avail(c) > IO_SLACK ? slot_avail(c) - IO_SLACK : 0;
	if (*n > want)
		*n = want;
	buf = slot_alloc(c, *n);
	if (!*kv || !buf)
		return NULL;
	(*kv)->base = (char *)slot_addr(buf);
	(*kv)->len = *n;
	return buf;
}

/* readv, preadv, preadv2: at most one chunk, scattered. */
static long io_readv(long nr, const long *a)
{
	const struct io_iovec *v = (const void *)a[1];
	struct io_iovec *kv;
	struct slot_call c;
	size_t total, n;
	long args[6], r;
	char *buf;

	r = iov_total(v, (size_t)a[2], &total);
	if (r)
		return r;
	r = slot_begin(&c);
	if (r)
		return r;
	buf = one_iovec(&c, total, &kv, &n);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	args[0] = a[0];
	args[1] = slot_addr(kv);
	args[2] = 1;
	args[3] = a[3];
	args[4] = a[4];
	args[5] = a[5];
	r = slot_post(&c, nr, args);
	if (r > 0)
		iov_scatter(v, (size_t)a[2], buf, (size_t)r < n ? (size_t)r : n);
out:
	slot_end(&c);
	return r;
}

/* writev, pwritev, pwritev2: gathered chunks until done or short. */
static long io_writev(long nr, const long *a)
{
	const struct io_iovec *v = (const void *)a[1];
	int positional = nr != __NR_writev && a[3] != -1;
	size_t total, n, done = 0;
	struct io_iovec *kv;
	struct slot_call c;
	long args[6], r;
	char *buf;

	r = iov_total(v, (size_t)a[2], &total);
	if (r)
		return r;
	r = slot_begin(&c);
	if (r)
		return r;
	buf = one_iovec(&c, total, &kv, &n);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	do {
		size_t part = total - done < n ? total - done : n;

		iov_gather(v, (size_t)a[2], done, buf, part);
		kv->len = part;
		args[0] = a[0];
		args[1] = slot_addr(kv);
		args[2] = 1;
		args[3] = positional ? a[3] + (long)done : a[3];
		args[4] = a[4];
		args[5] = a[5];
		r = slot_post(&c, nr, args);
		if (r < 0)
			break;
		done += (size_t)r;
		if ((size_t)r < part)
			break;
		if (done < total)
			slot_end(&c);
	} while (done < total);
	if (done)
		r = (long)done;
out:
	slot_end(&c);
	return r;
}

/* One sendmsg of @m; the data in chunks, ancillary data with the first. */
static long io_sendmsg(long fd, const struct io_msghdr *m, long flags)
{
	struct io_msghdr *km;
	struct io_iovec *kv;
	struct slot_call c;
	size_t total, n, done = 0;
	long args[6] = { fd, 0, flags, 0, 0, 0 }, r;
	char *buf;

	r = iov_total(m->iov, m->iovlen, &total);
	if (r)
		return r;
	if (m->namelen > 128 || m->controllen > 65536)
		return -EINVAL;
	if ((m->name && m->namelen && slot_bad_user(m->name, m->namelen)) ||
	    (m->control && m->controllen && slot_bad_user(m->control, m->controllen)))
		return -EFAULT;
	r = slot_begin(&c);
	if (r)
		return r;
	km = slot_alloc(&c, sizeof(*km));
	shim_memset(km, 0, sizeof(*km));
	if (m->name && m->namelen) {
		km->name = (void *)slot_addr(slot_copy_in(&c, m->name, m->namelen));
		km->namelen = m->namelen;
	}
	if (m->control && m->controllen) {
		km->control = (void *)slot_addr(slot_copy_in(&c, m->control, m->controllen));
		km->controllen = m->controllen;
	}
	buf = one_iovec(&c, total, &kv, &n);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	km->iov = (struct io_iovec *)slot_addr(kv);
	km->iovlen = 1;
	args[1] = slot_addr(km);
	do {
		size_t part = total - done < n ? total - done : n;

		iov_gather(m->iov, m->iovlen, done, buf, part);
		kv->len = part;
		r = slot_post(&c, __NR_sendmsg, args);
		if (r < 0)
			break;
		done += (size_t)r;
		if ((size_t)r < part)
			break;
		km->control = NULL;
		km->controllen = 0;
		if (done < total)
			slot_end(&c);
	} while (done < total);
	if (done)
		r = (long)done;
out:
	slot_end(&c);
	return r;
}

/* One recvmsg into @m: name, one chunk of data, ancillary data, flags. */
static long io_recvmsg(long fd, struct io_msghdr *m, long flags)
{
	struct io_msghdr *km;
	struct io_iovec *kv;
	struct slot_call c;
	size_t total, n;
	long args[6] = { fd, 0, flags, 0, 0, 0 }, r;
	char *name = NULL, *control = NULL, *buf;

	r = iov_total(m->iov, m->iovlen, &total);
	if (r)
		return r;
	if (m->controllen > 65536)
		return -EINVAL;
	if ((m->name && m->namelen && slot_bad_user(m->name, m->namelen)) ||
	    (m->control && m->controllen && slot_bad_user(m->control, m->controllen)))
		return -EFAULT;
	r = slot_begin(&c);
	if (r)
		return r;
	km = slot_alloc(&c, sizeof(*km));
	shim_memset(km, 0, sizeof(*km));
	if (m->name && m->namelen) {
		km->namelen = m->namelen > 128 ? 128 : m->namelen;
		name = slot_alloc(&c, km->namelen);
		km->name = (void *)slot_addr(name);
	}
	if (m->control && m->controllen) {
		km->controllen = m->controllen;
		control = slot_alloc(&c, km->controllen);
		km->control = (void *)slot_addr(control);
	}
	buf = one_iovec(&c, total, &kv, &n);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	km->iov = (struct io_iovec *)slot_addr(kv);
	km->iovlen = 1;
	args[1] = slot_addr(km);
	r = slot_post(&c, __NR_recvmsg, args);
	if (r < 0)
		goto out;
	if (name) {
		shim_memcpy(m->name, name, km->namelen < m->namelen ? km->namelen : m->namelen);
		m->namelen = km->namelen;
	} else {
		m->namelen = 0;
	}
	if (control) {
		shim_memcpy(m->control, control,
			    km->controllen < m->controllen ? km->controllen : m->controllen);
		m->controllen = km->controllen;
	} else {
		m->controllen = 0;
	}
	m->flags = km->flags;
	iov_scatter(m->iov, m->iovlen, buf, (size_t)r < n ? (size_t)r : n);
out:
	slot_end(&c);
	return r;
}

static long io_sendmmsg(const long *a)
{
	struct io_mmsghdr *v = (void *)a[1];
	unsigned long i, n = (unsigned long)a[2] > IO_IOV_MAX ? IO_IOV_MAX : (unsigned long)a[2];
	long r;

	for (i = 0; i < n; i++) {
		r = io_sendmsg(a[0], &v[i].hdr, a[3]);
		if (r < 0)
			return i ? (long)i : r;
		v[i].len = (uint32_t)r;
	}
	return (long)n;
}

/* recvmmsg: one message per call (legal: it may return fewer). */
static long io_recvmmsg(const long *a)
{
	struct io_mmsghdr *v = (void *)a[1];
	long r;

	if (!a[2])
		return 0;
	r = io_recvmsg(a[0], &v[0].hdr, a[3] & ~0x10000L /* MSG_WAITFORONE */);
	if (r < 0)
		return r;
	v[0].len = (uint32_t)r;
	return 1;
}

/*
 * A call whose pointer arguments are all plain arrays: @in[i] bytes of
 * argument i copied in (0: not a pointer), @out[i] bytes copied back on
 * success (-1: the return value times @unit bytes).
 */
static long io_arrays(long nr, long *a, const long in[6], const long out[6], long unit)
{
	void *buf[6] = { 0 };
	struct slot_call c;
	long args[6], r;
	int i;

	r = slot_begin(&c);
	if (r)
		return r;
	for (i = 0; i < 6; i++) {
		args[i] = a[i];
		if (!a[i] || (!in[i] && !out[i]))
			continue;
		if (slot_bad_user((const void *)a[i], 1)) {
			r = -EFAULT;
			goto out;
		}
		if (in[i] > 0) {
			buf[i] = slot_copy_in(&c, (const void *)a[i], (size_t)in[i]);
		} else {
			long cap = out[i] > 0 ? out[i] : in[i] < 0 ? -in[i] : 0;

			buf[i] = slot_alloc(&c, (size_t)cap);
		}
		if (!buf[i]) {
			r = -ENOMEM;
			goto out;
		}
		args[i] = slot_addr(buf[i]);
	}
	r = slot_post(&c, nr, args);
	if (r >= 0) {
		for (i = 0; i < 6; i++) {
			long n = out[i] == -1 ? r * unit : out[i];

			if (buf[i] && n > 0)
				shim_memcpy((void *)a[i], buf[i], (size_t)n);
		}
	}
out:
	slot_end(&c);
	return r;
}

static long io_poll(long nr, long *a)
{
	long in[6] = { 0 }, out[6] = { 0 };
	unsigned long nfds = (unsigned long)a[1];

	if (nfds > 65536)
		return -EINVAL;
	in[0] = out[0] = (long)nfds * 8; /* struct pollfd */
	if (nr == __NR_ppoll) {
		in[2] = out[2] = 16; /* the remaining time comes back */
		a[3] = 0; /* no signal mask: see the file comment */
	}
	return io_arrays(nr, a, in, out, 0);
}

static long io_select(long nr, long *a)
{
	long in[6] = { 0 }, out[6] = { 0 }, bytes;

	if (a[0] < 0 || a[0] > 65536)
		return -EINVAL;
	bytes = (a[0] + 63) / 64 * 8;
	in[1] = out[1] = in[2] = out[2] = in[3] = out[3] = bytes;
	in[4] = out[4] = 16; /* timeval or timespec, updated */
	if (nr == __NR_pselect6)
		a[5] = 0;
	return io_arrays(nr, a, in, out, 0);
}

static long io_epoll_wait(long nr, long *a)
{
	long in[6] = { 0 }, out[6] = { 0 };
	long max = a[2];

	if (max <= 0)
		return -EINVAL;
	if (max > (long)(SLOT_DATA_MAX / 12 / 2))
		a[2] = max = SLOT_DATA_MAX / 12 / 2;
	in[1] = -max * 12; /* struct epoll_event (packed) */
	out[1] = -1;
	if (nr == __NR_epoll_pwait2)
		in[3] = 16;
	if (nr != __NR_epoll_wait)
		a[4] = 0;
	return io_arrays(nr, a, in, out, 12);
}

enum { IO_VAL, IO_IN, IO_OUT, IO_INOUT, IO_BAD };

/* How an ioctl's argument travels: the old tty numbers first (they carry
 * no size in their number), then the _IOC encoding. */
static int ioctl_shape(unsigned long req, size_t *size)
{
	unsigned long dir;

	*size = 4;
	switch (req) {
	case 0x5401: /* TCGETS */
		*size = 36;
		return IO_OUT;
	case 0x5402: /* TCSETS, TCSETSW, TCSETSF */
	case 0x5403:
	case 0x5404:
		*size = 36;
		return IO_IN;
	case 0x5413: /* TIOCGWINSZ */
		*size = 8;
		return IO_OUT;
	case 0x5414: /* TIOCSWINSZ */
		*size = 8;
		return IO_IN;
	case 0x541B: /* FIONREAD */
	case 0x5411: /* TIOCOUTQ */
	case 0x540F: /* TIOCGPGRP */
	case 0x5429: /* TIOCGSID */
	case 0x5424: /* TIOCGETD */
	case 0x8905: /* SIOCATMARK */
		return IO_OUT;
	case 0x5421: /* FIONBIO */
	case 0x5452: /* FIOASYNC */
	case 0x5410: /* TIOCSPGRP */
	case 0x5423: /* TIOCSETD */
		return IO_IN;
	case 0x8906: /* SIOCGSTAMP */
	case 0x8907: /* SIOCGSTAMPNS */
		*size = 16;
		return IO_OUT;
	case 0x40049409: /* FICLONE: _IOW, but its argument is an fd */
		return IO_VAL;
	case 0x8912: /* SIOCGIFCONF: nested pointer */
	case 0x8946: /* SIOCETHTOOL: nested pointer */
		return IO_BAD;
	default:
		break;
	}
	if (req >= 0x8910 && req <= 0x89ff) {
		*size = 40; /* struct ifreq */
		return IO_INOUT;
	}
	dir = (req >> 30) & 3;
	*size = (req >> 16) & 0x3fff;
	if (!dir || !*size)
		return IO_VAL;
	return dir == 1 ? IO_IN : dir == 2 ? IO_OUT : IO_INOUT;
}

static long io_ioctl(long *a, const struct shim_ucontext *uc)
{
	long in[6] = { 0 }, out[6] = { 0 }, r;
	int h = fdtable_get((int)a[0]);
	size_t size;

	if (h >= 0)
		return host_with_fd(__NR_ioctl, a, h, uc);
	switch (ioctl_shape((unsigned long)a[1], &size)) {
	case IO_BAD:
		return -EOPNOTSUPP;
	case IO_VAL:
		r = fwd_kcall(__NR_ioctl, a[0], a[1], a[2], 0, 0, 0);
		if (!r && (a[1] == 0x5451 || a[1] == 0x5450)) /* FIOCLEX, FIONCLEX */
			fdtable_set_cloexec((int)a[0], a[1] == 0x5451);
		return r;
	case IO_IN:
		in[2] = (long)size;
		break;
	case IO_OUT:
		in[2] = -(long)size;
		out[2] = (long)size;
		break;
	default:
		in[2] = out[2] = (long)size;
		break;
	}
	return io_arrays(__NR_ioctl, a, in, out, 0);
}

#define IO_MAP_TYPE 0x3
#define IO_MAP_SHARED_VALIDATE 0x3
#define IO_MAP_SYNC 0x80000

/*
 * mmap of a kernel fd: the instance's pages cannot be mapped into the job,
 * so a private mapping becomes anonymous memory filled by reads (a copy, as
 * a private mapping is, except that later writes to the file do not show
 * through unwritten pages). A writable shared mapping cannot be kept in
 * sync: ENODEV, as for a file without mmap support.
 */
static long io_mmap(const long *a)
{
	int h = a[3] & MAP_ANONYMOUS ? -1 : fdtable_get((int)a[4]);

	if (a[3] & MAP_ANONYMOUS)
		return sys6(__NR_mmap, a[0], a[1], a[2], a[3], a[4], a[5]);
	if (h >= 0)
		return sys6(__NR_mmap, a[0], a[1], a[2], a[3], h, a[5]);
	if ((a[3] & IO_MAP_TYPE) != MAP_PRIVATE && (a[2] & PROT_WRITE))
		return -ENODEV;
	return forward_map_copy((unsigned long)a[0], (size_t)a[1], (int)a[2], (int)a[3], (int)a[4],
				a[5]);
}

long forward_map_copy(unsigned long addr, size_t len, int prot, int flags, int fd, long off)
{
	unsigned long done = 0;
	long m, r;

	if (!len)
		return -EINVAL;
	flags = (flags & ~(IO_MAP_TYPE | IO_MAP_SYNC)) | MAP_PRIVATE | MAP_ANONYMOUS;
	m = shim_mmap(addr, len, prot | PROT_WRITE, flags, -1, 0);
	if (m < 0)
		return m;
	while (done < len) {
		r = forward_pread(fd, (char *)m + done, len - done, off + (long)done);
		if (r < 0)
			goto fail;
		if (r == 0)
			break; /* past the end of the file: zeros */
		done += (size_t)r;
	}
	if (!(prot & PROT_WRITE))
		shim_mprotect((unsigned long)m, len, prot);
	return m;
fail:
	shim_munmap((unsigned long)m, len);
	return r;
}

long forward_io(long nr, long *a, struct shim_ucontext *uc)
{
	int h;

	switch (nr) {
	case __NR_mmap:
		return io_mmap(a);
	case __NR_ioctl:
		return io_ioctl(a, uc);
	default:
		break;
	}
	/* The rest take an fd first: a placeholder runs on the host. */
	h = fdtable_get((int)a[0]);
	if (h >= 0 && nr != __NR_poll && nr != __NR_ppoll && nr != __NR_select &&
	    nr != __NR_pselect6)
		return host_with_fd(nr, a, h, uc);
	switch (nr) {
	case __NR_readv:
	case __NR_preadv:
	case __NR_preadv2:
		return io_readv(nr, a);
	case __NR_writev:
	case __NR_pwritev:
	case __NR_pwritev2:
		return io_writev(nr, a);
	case __NR_sendmsg:
	case __NR_recvmsg:
	case __NR_sendmmsg:
	case __NR_recvmmsg:
		if (slot_bad_user((const void *)a[1], sizeof(struct io_msghdr)))
			return -EFAULT;
		break;
	default:
		break;
	}
	switch (nr) {
	case __NR_sendmsg:
		return io_sendmsg(a[0], (const struct io_msghdr *)a[1], a[2]);
	case __NR_recvmsg:
		return io_recvmsg(a[0], (struct io_msghdr *)a[1], a[2]);
	case __NR_sendmmsg:
		return io_sendmmsg(a);
	case __NR_recvmmsg:
		return io_recvmmsg(a);
	case __NR_poll:
	case __NR_ppoll:
		return io_poll(nr, a);
	case __NR_select:
	case __NR_pselect6:
		return io_select(nr, a);
	case __NR_epoll_wait:
	case __NR_epoll_pwait:
	case __NR_epoll_pwait2:
		return io_epoll_wait(nr, a);
	default:
		return -ENOSYS;
	}
}

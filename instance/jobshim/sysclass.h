/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sysclass.h: what the shim does with each x86-64 system call, as data (see
 * sysclass.c). Pure logic: unit-tested hosted.
 */
#ifndef SHOAL_JOBSHIM_SYSCLASS_H
#define SHOAL_JOBSHIM_SYSCLASS_H

#include <stdint.h>

enum sysclass {
	SC_ENOSYS = 0, /* unknown or unsupported: -ENOSYS (the table's zero) */
	SC_FORWARD, /* an fd/file/socket call: the instance kernel runs it */
	SC_HOST, /* memory, threads, signals, process control: the host */
	SC_HOSTFD, /* the host makes an fd the kernel cannot (memfd, signalfd,
		    * pidfd): a placeholder stands for it */
	SC_DENY, /* no job may do this: -EPERM, never reaches either kernel */
	SC_SPECIAL, /* the shim's own code (signals, fork, exec, exit, mmap) */
};

/* Argument kinds for forwarding: how a pointer argument is copied. */
enum sysarg {
	SA_VAL = 0, /* a value, passed as it is */
	SA_FD, /* an fd: a placeholder sends the call to the host */
	SA_DIRFD, /* the directory of the call's (first) path argument */
	SA_DIRFD2, /* the directory of the second path argument */
	SA_PATH, /* a NUL-terminated path in: routed */
	SA_PATH2, /* a second path in (rename, link): routed the same */
	SA_STR, /* a NUL-terminated string in, not a path (symlink target) */
	SA_IN, /* buffer in, its length in arg[param] */
	SA_OUT, /* buffer out, capacity arg[param], all of it copied back */
	SA_OUTRET, /* buffer out, capacity arg[param], the return value's bytes
		    * copied back (read, getdents64, readlink) */
	SA_INFIX, /* param bytes in */
	SA_OUTFIX, /* param bytes out */
	SA_INOUTFIX, /* param bytes in and out */
	SA_INLENP, /* buffer in, length *(uint32_t *)arg[param] (setsockopt) */
	SA_OUTLENP, /* buffer out, capacity *(uint32_t *)arg[param], which is
		     * itself an SA_INOUTFIX 4 (accept, getsockopt, recvfrom) */
};

struct sysarg_desc {
	uint8_t kind; /* enum sysarg */
	uint16_t param;
};

struct sys_desc {
	uint8_t cls; /* enum sysclass */
	uint8_t newfd; /* the call returns a new kernel fd */
	uint8_t chunk; /* 1: a long SA_IN buffer is sent in chunks (write);
			* 2: a long SA_OUTRET is clamped (a short read) */
	uint8_t offarg; /* pwrite64: 1 + the offset argument advanced per chunk */
	struct sysarg_desc arg[6];
};

#define SYSCLASS_MAX 512

/* The descriptor of @nr (an SC_ENOSYS one for numbers out of range). */
const struct sys_desc *sysclass_desc(long nr);

static inline enum sysclass sysclass_of(long nr)
{
	return (enum sysclass)sysclass_desc(nr)->cls;
}

#endif

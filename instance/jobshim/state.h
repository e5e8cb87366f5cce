/* SPDX-License-Identifier: GPL-2.0 */
/*
 * state.h: the shim's argv[1] (job_abi.h): what one shim tells the next
 * across execve. Pure logic (no system calls): unit-tested hosted.
 */
#ifndef SHOAL_JOBSHIM_STATE_H
#define SHOAL_JOBSHIM_STATE_H

#include <stddef.h>

#define STATE_HOSTFDS_MAX 256

struct state_hostfd {
	int vfd; /* the kernel fd the program sees */
	int hostfd; /* the host fd behind it */
};

struct shim_state {
	int link, region, self; /* host fds; -1 when absent */
	unsigned int slot;
	int filtered; /* 1: the seccomp filter is already installed */
	int passthrough; /* 1: test mode, every call on the host */
	unsigned int nhostfds;
	struct state_hostfd hostfds[STATE_HOSTFDS_MAX];
};

/*
 * Parse @s ("key=value,..." with keys link, region, self, slot, filtered,
 * passthrough, hostfds) into @st. Every key at most once; unknown keys and
 * malformed numbers are -EINVAL. Forwarding mode (passthrough absent or 0)
 * needs link, region, self and slot. Returns 0 or -EINVAL.
 */
int state_parse(const char *s, struct shim_state *st);

/*
 * Format @st into @buf of @size bytes (NUL-terminated). Returns the length,
 * or -ENAMETOOLONG when it does not fit.
 */
long state_format(const struct shim_state *st, char *buf, size_t size);

#endif

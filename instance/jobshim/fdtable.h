/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fdtable.h: the shim's map from placeholder kernel fds to host fds (see
 * fdtable.c). Thread-safe (one spinlock); pure logic, unit-tested hosted.
 */
#ifndef SHOAL_JOBSHIM_FDTABLE_H
#define SHOAL_JOBSHIM_FDTABLE_H

#include "instance/jobshim/state.h"

/* Placeholders above this kernel fd number are refused (EMFILE). */
#define FDTABLE_MAX 1024

/* The host fd behind kernel fd @vfd, or -1 when @vfd is not a placeholder. */
int fdtable_get(int vfd);

/*
 * Record @vfd -> @hostfd with the program's close-on-exec flag. Returns the
 * host fd @vfd had before (the caller closes it: the kernel fd was reused,
 * e.g. by dup2), or -1. @vfd out of range: -EMFILE.
 */
int fdtable_set(int vfd, int hostfd, int cloexec);

/* Forget @vfd; returns its host fd (the caller closes it) or -1. */
int fdtable_clear(int vfd);

/* Set the close-on-exec flag of @vfd, if it is a placeholder. */
void fdtable_set_cloexec(int vfd, int cloexec);
int fdtable_get_cloexec(int vfd);

/*
 * The placeholders that survive an execve (no close-on-exec), into
 * @st->hostfds; the others are forgotten and their host fds returned in
 * @drop (up to FDTABLE_MAX entries), their count in *@ndrop. Returns 0, or
 * -EMFILE when more than STATE_HOSTFDS_MAX survive.
 */
int fdtable_for_exec(struct shim_state *st, int *drop, unsigned int *ndrop);

/* Load the table from a parsed state (start-up). */
void fdtable_load(const struct shim_state *st);

/* How many placeholders there are (SHOAL_SHIM_DEBUG's leak check). */
unsigned int fdtable_count(void);

/* Forget everything (tests), and the lock after a fork. */
void fdtable_reset(void);
void fdtable_after_fork(void);

#endif

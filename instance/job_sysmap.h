/* SPDX-License-Identifier: GPL-2.0 */
/*
 * job_sysmap.h: a job's forwarded system call (x86-64 numbering, as the
 * shim sends it) run in the library kernel (the generic table). Used by the
 * slot serving threads (job_server_slot.c); the table is in job_sysmap.c.
 */
#ifndef SHOAL_INSTANCE_JOB_SYSMAP_H
#define SHOAL_INSTANCE_JOB_SYSMAP_H

#include <stddef.h>

/*
 * Bytes at the end of every slot's data area that the server uses for the
 * values a translation makes (poll's timespec, select's, a struct stat in
 * the kernel's layout before it is converted): they must be inside the
 * task's user window, so they live in the slot. The shim should not put a
 * translated call's inputs there.
 */
#define JOB_SYSMAP_SCRATCH 512

/* One slot's data area, as the instance sees it. */
struct job_sysmap_area {
	char *lo; /* first byte of the data area (the user window's start) */
	char *hi; /* one past its last byte */
};

/*
 * job_sysmap_call() - run x86-64 call @nr with @args in the calling thread's
 * kernel task. Pointers in @args must be instance addresses inside @area (the
 * kernel refuses others with -EFAULT; the translations here check the ones
 * they touch themselves). Returns the kernel's result or -ENOSYS.
 */
long job_sysmap_call(long nr, const long args[6], const struct job_sysmap_area *area);

/*
 * job_sysmap_generic() - the generic number @nr maps to by name, or -1 when
 * it is translated or refused (for tests and diagnostics).
 */
long job_sysmap_generic(long nr);

/* job_sysmap_known() - 1 if @nr is served (directly or translated), else 0. */
int job_sysmap_known(long nr);

#endif /* SHOAL_INSTANCE_JOB_SYSMAP_H */

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * slot.h: one forwarded call in the calling thread's slot (see slot.c): an
 * arena over the slot's data area for the call's buffers, address
 * translation to the instance's mapping, and the request/answer protocol.
 */
#ifndef SHOAL_JOBSHIM_SLOT_H
#define SHOAL_JOBSHIM_SLOT_H

#include <stddef.h>
#include <stdint.h>

#include "instance/job_abi.h"

/*
 * Bytes of the data area a call may use: the instance keeps the last bytes
 * of every data area as its own scratch space (stat conversion, timespecs
 * of poll/select); 4 KiB are left to it.
 */
#define SLOT_DATA_MAX ((size_t)SHOAL_SLOT_DATA - 4096)

struct slot_call {
	struct shoal_slot *slot;
	unsigned int index; /* the slot's number */
	char *data; /* the slot's data area, in this process */
	size_t used; /* bytes of it this call uses so far */
	uint64_t prog_mask; /* the program's signal mask for this call */
};

/*
 * A shim-internal result (the kernel's ERESTARTSYS): the call was cancelled
 * for a signal the program handles, did nothing, and may start again after
 * the handler if that has SA_RESTART (handler.c decides); else it is EINTR.
 */
#define SLOT_ERESTART 512

/*
 * A pointer the program passed that cannot be valid: in the first 64 KiB
 * (mmap_min_addr and below: usually an integer passed where the shim
 * expected a pointer), or wrapping, or above user space. The shim copies
 * the program's buffers itself, so a bad pointer would crash the program
 * where the kernel answers EFAULT; this catches the likely cases (an honest
 * gap remains for pointers into unmapped memory).
 */
static inline int slot_bad_user(const void *p, size_t len)
{
	unsigned long a = (unsigned long)p;

	return a < 0x10000 || a + len < a || a + len > 0x800000000000UL;
}

/* Start a call on the calling thread's slot. Returns 0 or -EIO (no slot). */
long slot_begin(struct slot_call *c);

/* Bytes still free in the data area. */
static inline size_t slot_avail(const struct slot_call *c)
{
	return SLOT_DATA_MAX - c->used;
}

/* @len bytes of the data area (16-byte aligned), or NULL when full. */
void *slot_alloc(struct slot_call *c, size_t len);

/* Copy @len bytes of @src into the data area; NULL when full. */
void *slot_copy_in(struct slot_call *c, const void *src, size_t len);

/* The instance's address of @p, a pointer into the data area. */
long slot_addr(const void *p);

/*
 * Post @nr with @args (pointers already translated) and wait for the
 * answer. Returns the kernel's result, -EIO when the instance closed the
 * slot, or -SLOT_ERESTART (see above). The data area holds the call's
 * output until slot_end().
 */
long slot_post(struct slot_call *c, long nr, const long args[6]);

/* The results are copied out: give the slot back (state IDLE). */
void slot_end(struct slot_call *c);

#endif

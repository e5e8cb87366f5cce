/* SPDX-License-Identifier: GPL-2.0 */
/* link.h: this process's lifecycle messages to the instance (see link.c). */
#ifndef SHOAL_JOBSHIM_LINK_H
#define SHOAL_JOBSHIM_LINK_H

#include "instance/job_abi.h"

/*
 * Send @m and wait for the reply into @rep; when @fd is not NULL, also
 * receive one descriptor (SCM_RIGHTS) into *@fd (-1 if none came). The
 * link is shared by the process's threads: one exchange at a time. Fills
 * m->pid and m->tid. Returns 0 (the reply's own err is in @rep) or -EIO
 * when the instance is gone.
 */
long link_call(struct shoal_link_msg *m, struct shoal_link_reply *rep, int *fd);

/* Send @m that has no reply. Returns 0 or -EIO. */
long link_send(struct shoal_link_msg *m);

#endif

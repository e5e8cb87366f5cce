/* SPDX-License-Identifier: GPL-2.0 */
/* Internal to the POSIX host library: the parts of skl_host_posix_ops that
 * live in files of their own. */
#ifndef SKL_HOST_HOST_H
#define SKL_HOST_HOST_H

#include <signal.h>

struct skl_context;

void host_thread_sigmask(sigset_t *set);

struct skl_context *host_context_alloc(void (*fn)(void *), void *arg,
				       unsigned long stack_size);
void host_context_free(struct skl_context *ctx);
void host_context_switch(struct skl_context *from, struct skl_context *to);

void host_ram_bounds(void **base, unsigned long *size);
int host_iomem_access(unsigned long addr, void *val, int size, int write);
void host_netdevs_stop(void);
void host_blkdevs_stop(void);

#endif

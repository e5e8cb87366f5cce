/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shim.h: the state one shim process keeps, shared by its files. There is
 * one instance of it, shim_g, in the shim's .bss: never in TLS (the program's
 * libc owns %fs) and inherited by fork like the rest of the shim's memory.
 */
#ifndef SHOAL_JOBSHIM_SHIM_H
#define SHOAL_JOBSHIM_SHIM_H

#include <stdint.h>

#include "instance/jobshim/lock.h"

/* Auxiliary vector entries the shim copies from its own start-up stack. */
struct shim_aux {
	unsigned long hwcap, hwcap2, platform, clktck, minsigstksz, sysinfo_ehdr;
	unsigned long uid, euid, gid, egid, rseq_size, rseq_align;
};

struct shim {
	int passthrough; /* 1: every call runs on the host (tests) */
	int debug; /* SHOAL_SHIM_DEBUG=1: counts to stderr at exit */
	int link_fd; /* host fd: this process's link to the instance */
	int region_fd; /* host fd: the job's region memfd */
	int self_fd; /* host fd: the shim binary, for execve */
	unsigned int slot; /* the main thread's slot */
	unsigned long region; /* SHOAL_REGION_JOB_ADDR once mapped, else 0 */
	uint64_t instance_base; /* where the instance mapped the region */
	struct shim_aux aux;
	char *const *envp; /* the shim's own environment (read-only) */
	unsigned long traps; /* SIGSYS deliveries (counted only with debug) */
	unsigned long fast; /* calls from rewritten sites (only with debug) */
	unsigned long forwarded; /* calls sent to the instance (only with debug) */
	unsigned long slept; /* of them, answered after the spin: the futex path */
	struct shim_lock link_lock; /* one request/reply on the link at a time */
	uint64_t sigsys_action[4]; /* the program's pretend SIGSYS sigaction */
	uint64_t handled; /* signals the program installed a handler for */
	uint64_t restart; /* of them, those with SA_RESTART */
	int instance_gone; /* the link hung up while a call waited: all calls EIO */
	char exe[4096]; /* the ELF file loaded: what /proc/self/exe should be */
};

extern struct shim shim_g;

/* Print "shoal-jobshim: <a><b>\n" on host fd 2 (start-up errors, debug). */
void shim_log(const char *a, const char *b);
void shim_log_num(const char *a, long v);

#endif

/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
#ifndef _UAPI_ASM_SKL_SIGCONTEXT_H
#define _UAPI_ASM_SKL_SIGCONTEXT_H

/* Signals are never delivered to host threads; nothing to save. */
struct sigcontext {
	unsigned long unused;
};

#endif

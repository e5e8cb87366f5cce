/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/* System call numbers: the generic table (scripts/syscall.tbl), 64-bit. */
#include <asm/unistd_64.h>

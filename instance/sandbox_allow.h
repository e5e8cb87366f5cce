/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The allow-list as libseccomp rules: for the build-time compiler
 * (instance/gen/seccomp_bpf_gen.c), which turns them into the BPF that
 * sandbox.c loads (sandbox_bpf, sandbox_bpf_len, sandbox_nr_names: generated
 * into build/instance/gen/sandbox_bpf.c).
 */
#ifndef SHOAL_INSTANCE_SANDBOX_ALLOW_H
#define SHOAL_INSTANCE_SANDBOX_ALLOW_H

#include <linux/filter.h>
#include <seccomp.h>

#include "api/error.h"

/* Generated at build time (build/instance/gen/sandbox_bpf.c). */
#define SANDBOX_NR_NAMES 512
extern const struct sock_filter sandbox_bpf[];
extern const unsigned short sandbox_bpf_len;
extern const char *const sandbox_nr_names[SANDBOX_NR_NAMES];

/* Add every rule of the table to @ctx (made with seccomp_init(SCMP_ACT_TRAP)). */
int sandbox_allow_rules(scmp_filter_ctx ctx, struct shoal_error *err);

#endif

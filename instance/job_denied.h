/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What no process of a job may do on the host: one list for the two filters
 * that enforce it, the zygote's (sandbox.c, built with libseccomp, inherited
 * by every job) and the shim's own (jobshim/filter.c, raw BPF, decided before
 * the shim's text is exempted). Each answers EPERM, as the host would answer
 * an unprivileged user; without capabilities they fail anyway, the filters
 * make it hold if a capability check ever has a hole. The shim is
 * freestanding, so this is a list of names for the two to expand: sandbox.c
 * as SCMP_SYS(name), the shim as __NR_name.
 */
#ifndef SHOAL_INSTANCE_JOB_DENIED_H
#define SHOAL_INSTANCE_JOB_DENIED_H

#define JOB_DENIED_CALLS(X)  \
	X(ptrace)            \
	X(process_vm_readv)  \
	X(process_vm_writev) \
	X(mount)             \
	X(umount2)           \
	X(pivot_root)        \
	X(chroot)            \
	X(unshare)           \
	X(setns)             \
	X(kexec_load)        \
	X(kexec_file_load)   \
	X(init_module)       \
	X(finit_module)      \
	X(delete_module)     \
	X(bpf)               \
	X(perf_event_open)   \
	X(keyctl)            \
	X(add_key)           \
	X(request_key)       \
	X(reboot)            \
	X(swapon)            \
	X(swapoff)           \
	X(acct)              \
	X(userfaultfd)       \
	X(open_by_handle_at) \
	X(name_to_handle_at) \
	X(fsopen)            \
	X(fsmount)           \
	X(fsconfig)          \
	X(fspick)            \
	X(move_mount)        \
	X(open_tree)         \
	X(mount_setattr)     \
	X(quotactl)          \
	X(syslog)            \
	X(iopl)              \
	X(ioperm)

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * skl.h: the API of the library kernel, Linux 6.12 built as a library.
 *
 * A process links libskl.a, boots one kernel with skl_boot (or
 * skl_start_kernel with its own host operations), and then makes system
 * calls into it from any of its threads with the typed skl_sys_*() wrappers
 * of <skl/syscalls.h> or with skl_syscall(). Every kernel type and constant
 * carries the skl_/SKL_ prefix, so this header and glibc's headers can be
 * included in the same file. One kernel per process, for the life of the
 * process: a halted kernel cannot be started again.
 */
#ifndef SKL_H
#define SKL_H

#include <stddef.h>

#include <skl/host_ops.h>

#define SKL_SYSCALL_DECLARED 1
/**
 * skl_syscall - make system call nr with six arguments
 *
 * May be called from any host thread once the kernel is up; the thread gets
 * a kernel task of its own on its first call (see skl_thread_new_task).
 * Returns the kernel's result: >= 0, or -errno. -ENOSYS for an unknown nr,
 * -ENODEV after skl_halt (also for calls blocked when the halt came).
 */
long skl_syscall(long nr, long *params);

#include <skl/uapi.h>
#include <skl/syscalls.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The POSIX implementation of the host operations (kernel-lib/host). */
extern struct skl_host_ops skl_host_posix_ops;

/** Where the POSIX host writes kernel console output (default: fd 2). -1 drops
 * it. */
void skl_posix_set_console_fd(int fd);

/**
 * skl_start_kernel - boot the kernel with the given host operations
 * @ops: must stay valid for the life of the process
 * @cmdline: kernel command line, e.g. "mem=64M loglevel=4"
 *
 * Returns 0 when the kernel is ready for system calls, -EALREADY if a
 * kernel was already started in this process, -E2BIG for a command line
 * longer than 4095 bytes, or another -errno.
 */
long skl_start_kernel(struct skl_host_ops *ops, const char *cmdline);

/** Boot parameters for skl_boot. Zero fields take the defaults. */
struct skl_boot_params {
	unsigned long
		mem_bytes; /* kernel RAM; default 64 MiB, at least 16 MiB */
	int loglevel; /* console log level 0-8; default 4 (warnings) */
	const char *extra; /* more kernel parameters, or NULL */
};

/**
 * skl_boot - boot with the POSIX host operations
 *
 * Builds the command line from params (NULL for all defaults). Returns as
 * skl_start_kernel, or -EINVAL for a bad field.
 */
long skl_boot(const struct skl_boot_params *params);

/*
 * skl_boot_ops - skl_boot with host operations of the caller's own (for
 * example a copy of skl_host_posix_ops with its own print or panic).
 * The devices added with skl_netdev_add/skl_blkdev_add are announced the
 * same way; they need the POSIX iomem_access and halted operations.
 */
long skl_boot_ops(struct skl_host_ops *ops,
		  const struct skl_boot_params *params);

/**
 * skl_halt - power the kernel off
 *
 * Every kernel thread and every host thread the kernel created has ended
 * when it returns; threads blocked in system calls return -ENODEV. Returns
 * 0, or -ENODEV if the kernel was not running.
 */
long skl_halt(void);

/** skl_is_running - 1 between a successful boot and the halt, else 0. */
int skl_is_running(void);

/*
 * Flags for skl_thread_new_task. SKL_TASK_NEW_PROCESS: own pid, own copy of
 * the fd table and cwd.
 */
#define SKL_TASK_NEW_PROCESS 1UL

/**
 * skl_thread_new_task - bind the calling thread to a new kernel task now
 * @flags: 0 for a thread of the kernel's process 1 (its fd table and cwd are
 *         shared with every other such thread: what a thread's first system
 *         call does by itself), or SKL_TASK_NEW_PROCESS
 *
 * Returns the task's thread id (> 0), -EBUSY if the thread already has a
 * task, or -errno.
 */
long skl_thread_new_task(unsigned long flags);

/**
 * skl_thread_exit_task - end the calling thread's kernel task
 *
 * Happens by itself when a host thread that has a task exits. Returns 0,
 * or -ENOENT if the thread had none.
 */
long skl_thread_exit_task(void);

/**
 * skl_thread_new_task_from - bind the calling thread to a task cloned from
 *                            another host task
 * @flags: SKL_TASK_NEW_PROCESS for a new process with copies of the parent's
 *         fd table and cwd (what fork gives a child), or 0 for a thread of
 *         the parent's process (sharing them)
 * @parent_tid: kernel thread id of the parent, a task bound to another host
 *         thread that must stay outside the kernel until this returns
 *
 * Returns the new thread id (> 0), -EBUSY if the calling thread already has
 * a task, -ESRCH if there is no such task, -EINVAL if it is not a host task.
 */
long skl_thread_new_task_from(unsigned long flags, long parent_tid);

/**
 * skl_task_exec - what a successful execve does to the calling thread's
 *                 task: its fd table is unshared and close-on-exec fds closed
 *
 * Returns 0 or -errno.
 */
long skl_task_exec(void);

/**
 * skl_task_set_user_window - confine the calling thread's task to [lo, hi)
 *
 * From now on its system calls (and those of tasks cloned from it) fail
 * with -EFAULT when given a user pointer outside [lo, hi): a task serving
 * somebody less trusted reaches only the memory meant for it. Returns 0,
 * -EINVAL if hi <= lo.
 */
long skl_task_set_user_window(unsigned long lo, unsigned long hi);

/* Device models: raise an IRQ from any host thread; get and put IRQ lines. */
int skl_trigger_irq(int irq);
int skl_get_free_irq(const char *user);
void skl_put_irq(int irq);

/*
 * Devices. Add them before booting with skl_boot, which announces them to
 * the kernel; skl_halt stops their threads and closes their files. Each
 * add function returns the device's number (>= 0) or -errno, and writes a
 * one-line reason into err (errlen bytes; may be NULL).
 */

/* A virtio-net device whose backend is an AF_PACKET socket. */
struct skl_netdev_params {
	const char *ifname; /* host interface to open a packet socket on, */
	int packet_fd; /* or an open raw AF_PACKET socket, or -1 */
	unsigned char mac[6]; /* all zero: random, locally administered */
	unsigned int mtu; /* 0: 1500 */
	int offloads; /* 1: checksum and TSO/GSO offload through
		       * the socket's virtio-net header; 0: none */
};

int skl_netdev_add(const struct skl_netdev_params *params, char *err,
		   size_t errlen);
/* The MAC address of network device netdev. */
int skl_netdev_mac(int netdev, unsigned char mac[6]);

struct skl_netdev_stats {
	unsigned long rx_packets, rx_bytes, rx_dropped;
	unsigned long tx_packets, tx_bytes, tx_dropped;
};
/* Frames and bytes the device moved between the kernel and its socket. */
int skl_netdev_stats(int netdev, struct skl_netdev_stats *stats);

/*
 * A virtio-blk disk backed by a raw image file. Disks appear in the kernel
 * as vda, vdb, ... in the order they were added (mount devtmpfs on /dev to
 * get their nodes).
 */
int skl_blkdev_add(const char *path, int read_only, char *err, size_t errlen);
/* The same for an image already open (duplicated; the caller keeps fd). */
int skl_blkdev_add_fd(int fd, int read_only, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif

#endif /* SKL_H */

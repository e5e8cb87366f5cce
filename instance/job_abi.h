/* SPDX-License-Identifier: GPL-2.0 */
/*
 * job_abi.h: what a job process (the shim, instance/jobshim/) and its
 * instance (instance/job_*.c) share. Both sides include this file; the shim
 * is freestanding (no libc), so only <stdint.h> and <stddef.h> here.
 *
 * How a job's system calls reach the instance kernel:
 *
 *  - Every process of a job runs under the shim: a static, non-PIE binary
 *    linked at SHOAL_SHIM_BASE that loads the program itself (its own ELF
 *    loader) and traps the program's system calls with a seccomp filter
 *    (RET_TRAP for every call not made from the shim's own text) and a
 *    SIGSYS handler. The filter survives execve; the shim re-executes
 *    itself on every execve of the program.
 *  - The shim splits each call: memory, threads, signals and process
 *    control run on the host; file, socket, pipe, poll and other fd calls
 *    are forwarded to the instance through a shared memory *region* (one
 *    memfd per job), one *slot* per job thread.
 *  - Fd numbers the program sees are the kernel task's fd numbers. A host
 *    file the program opened (a path under the read-only host directories)
 *    is a placeholder fd in the kernel task plus a host fd the shim keeps
 *    in its own table (vfd -> host fd); the program never sees host fds.
 *  - Lifecycle (new thread, fork, exec, thread exit) goes over a per-process
 *    AF_UNIX SOCK_SEQPACKET socket, the *link*; its end closing tells the
 *    instance that the process is gone.
 *
 * Forwarded call, in the slot (state is the futex word):
 *   shim: writes nr, args (pointers already translated to instance
 *         addresses, pointing into this slot's data area), stores
 *         state = REQUEST (release), FUTEX_WAKE if server_waiting;
 *         spins a little on state == DONE (not when it runs on
 *         server_cpu: the server cannot answer before it yields), then
 *         sets client_waiting and FUTEX_WAITs.
 *   instance: the slot's serving thread (bound to the job thread's kernel
 *         task) notes its CPU in server_cpu and spins a little on
 *         state == REQUEST, then sets
 *         server_waiting and FUTEX_WAITs; runs skl_syscall(nr, args),
 *         writes ret, stores state = DONE (release), FUTEX_WAKE if
 *         client_waiting.
 *   shim: copies results out of the data area, stores state = IDLE.
 * The futex word is in a MAP_SHARED mapping: use the non-private futex ops.
 *
 * Safety: the instance kernel checks every user pointer of a slot's calls
 * against that slot's data area (skl_task_set_user_window), so a job can
 * pass any value and reach nothing else in the instance's memory.
 */
#ifndef SHOAL_INSTANCE_JOB_ABI_H
#define SHOAL_INSTANCE_JOB_ABI_H

#include <stddef.h>
#include <stdint.h>

#define SHOAL_JOB_ABI_VERSION 2 /* 2: the slot's seq, SHOAL_LINK_CANCEL */

/* Fixed addresses in a job process (x86-64, 47-bit user space). */
#define SHOAL_SHIM_BASE 0x1f0000000000UL /* the shim is linked here */
#define SHOAL_SHIM_LIMIT 0x1f0001000000UL /* calls from [BASE, LIMIT) are the shim's */
#define SHOAL_REGION_JOB_ADDR 0x1e0000000000UL /* the job maps the region here */

/* The region: a header page, then the slots. */
#define SHOAL_REGION_MAGIC 0x4a4f4853u /* "SHOJ" */
#define SHOAL_SLOTS_MAX 128 /* job threads alive at once, all processes */
#define SHOAL_SLOT_HEADER 4096
#define SHOAL_SLOT_DATA (1024 * 1024) /* largest transfer of one forwarded call */
#define SHOAL_SLOT_STRIDE (SHOAL_SLOT_HEADER + SHOAL_SLOT_DATA)
#define SHOAL_REGION_SIZE (4096 + (size_t)SHOAL_SLOTS_MAX * SHOAL_SLOT_STRIDE)
#define SHOAL_SLOT_OFFSET(i) (4096 + (size_t)(i)*SHOAL_SLOT_STRIDE)

struct shoal_region_header {
	uint32_t magic; /* SHOAL_REGION_MAGIC, written by the instance */
	uint32_t version; /* SHOAL_JOB_ABI_VERSION */
	uint32_t nslots; /* SHOAL_SLOTS_MAX */
	uint32_t slot_stride; /* SHOAL_SLOT_STRIDE */
	uint64_t instance_base; /* where the instance mapped the region */
};

enum shoal_slot_state {
	SHOAL_SLOT_IDLE = 0, /* the job thread owns the slot, no call pending */
	SHOAL_SLOT_REQUEST = 1, /* a call is posted: the instance runs it */
	SHOAL_SLOT_DONE = 2, /* ret is written: the job thread takes it */
	SHOAL_SLOT_CLOSED = 3, /* the instance released the slot: calls fail */
};

/* At SHOAL_SLOT_OFFSET(i); the data area follows at + SHOAL_SLOT_HEADER. */
struct shoal_slot {
	uint32_t state; /* enum shoal_slot_state; the futex word (atomics) */
	uint32_t server_waiting; /* the instance thread sleeps on state */
	uint32_t client_waiting; /* the job thread sleeps on state */
	/* 1 + the host CPU the serving thread last polled from (0: unknown).
	 * A hint, never trusted: a job thread on that same CPU knows that the
	 * serving thread cannot run while it spins, and sleeps at once. */
	uint32_t server_cpu;
	/* The shim counts its calls here (written before state goes to
	 * REQUEST): SHOAL_LINK_CANCEL names the call it means by it. */
	uint32_t seq;
	uint32_t pad;
	int64_t nr; /* host x86-64 system call number (SYS_*) */
	int64_t args[6]; /* pointers are instance addresses in the data area */
	int64_t ret; /* the kernel's return: >= 0, or -errno */
};

/*
 * The instance runs nr from the x86-64 numbering: it maps it to the
 * library kernel's generic number (skl's table) and answers -ENOSYS for
 * calls the kernel does not have. Calls the shim must not forward (memory,
 * threads, signals, process control) are refused with -ENOSYS too.
 */

/* Link messages: fixed-size binary records, one per SEQPACKET packet. */
enum shoal_link_op {
	/* First message of a (re)started shim: "I am host pid, on slot". */
	SHOAL_LINK_HELLO = 1,
	/* A new thread of this process wants a slot (a thread of the
	 * process's kernel task). Reply: slot. */
	SHOAL_LINK_THREAD = 2,
	/* Before a host fork: make the child's kernel task (a copy of the
	 * caller's fd table and cwd) and slot. Reply: slot, kernel pid, and
	 * one descriptor, the child's link. */
	SHOAL_LINK_FORK = 3,
	/* The host fork failed: release the child slot in msg.arg. No reply. */
	SHOAL_LINK_FORK_FAILED = 4,
	/* Before a host execve: the process's other threads' slots are
	 * released and close-on-exec fds closed in the kernel task. Reply. */
	SHOAL_LINK_EXEC = 5,
	/* A thread ends: release its slot. No reply. */
	SHOAL_LINK_THREAD_EXIT = 6,
	/* A signal the program handles arrived while the call on msg.slot
	 * whose seq is msg.arg waits in the kernel: interrupt it (it then
	 * answers -EINTR, having done nothing), if it is still that call.
	 * No reply. */
	SHOAL_LINK_CANCEL = 7,
};

struct shoal_link_msg {
	uint32_t op; /* enum shoal_link_op */
	uint32_t slot; /* the caller's slot */
	int32_t pid; /* host pid (as the job sees it) */
	int32_t tid; /* host tid */
	int64_t arg;
};

struct shoal_link_reply {
	int32_t err; /* 0 or -errno */
	uint32_t slot; /* THREAD, FORK: the new slot */
	int64_t kpid; /* FORK: the child's kernel pid; else the caller's */
};

/*
 * How the shim is started (by the jail for a job's first process, by the
 * shim itself on every execve): execveat(shim fd, "", argv, envp,
 * AT_EMPTY_PATH) with
 *   argv[0] = "shoal-jobshim"
 *   argv[1] = state: "link=<fd>,region=<fd>,self=<fd>,slot=<n>,filtered=<0|1>"
 *             [",hostfds=<vfd>:<hostfd>/<vfd>:<hostfd>..."]
 *   argv[2] = the program's path (as given to execve)
 *   argv[3..] = the program's argv
 * and the program's environment as envp. filtered=0 only for the first
 * process: the shim installs the seccomp filter itself (no_new_privs is
 * already set by the jail). self is an O_PATH-less read-only fd of the shim
 * binary, kept open without close-on-exec.
 */
#define SHOAL_SHIM_ARGV0 "shoal-jobshim"

#endif

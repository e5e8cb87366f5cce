/* SPDX-License-Identifier: GPL-2.0 */
/*
 * job_server_internal.h: what job_server.c (create, destroy), job_server_slot.c
 * (the serving threads) and job_server_link.c (the link thread) share. Not
 * for other modules: their API is job_server.h.
 *
 * Who touches what: the slot and process tables are changed only by the link
 * thread while it runs, and by job_server_create/destroy before it starts and
 * after it ended, so they need no lock. A serving thread reads its slot's
 * fields, and shares with the link thread only the words marked (atomic).
 */
#ifndef SHOAL_INSTANCE_JOB_SERVER_INTERNAL_H
#define SHOAL_INSTANCE_JOB_SERVER_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <skl.h>

#include "instance/job_abi.h"
#include "instance/job_server.h"
#include "instance/job_sysmap.h"

/*
 * The kernel-lib calls a job needs (see kernel-lib/include/skl.h). Declared
 * weak here as well, so that shoal-instance links against a libskl.a that
 * does not have them yet: the server then refuses to start (-ENOSYS).
 */
long skl_thread_new_task_from(unsigned long flags, long parent_tid) __attribute__((weak));
long skl_task_exec(void) __attribute__((weak));
long skl_task_set_user_window(unsigned long lo, unsigned long hi) __attribute__((weak));

/* A process needs at least one slot, so there are never more processes. */
#define JOB_PROCS_MAX SHOAL_SLOTS_MAX

/* How a slot's kernel task is made. */
enum job_task_how {
	JOB_TASK_FIRST, /* the job's first process: a new process from host0 */
	JOB_TASK_THREAD, /* a thread of parent_tid's process */
	JOB_TASK_FORK, /* a new process, copy of parent_tid's fd table and cwd */
};

/* Work the link thread hands a serving thread (it must run on that task). */
enum job_slot_op {
	JOB_OP_NONE = 0,
	JOB_OP_EXEC, /* skl_task_exec() and the signal dispositions again */
};

/*
 * A process's anchor: one more kernel thread of the process, driven by a host
 * thread that never makes a call. New threads and forks of the process are
 * cloned from it (skl_thread_new_task_from needs a parent whose driver stays
 * out of the kernel, and a job thread may sit in a blocking call for as long
 * as it likes, waiting for the very thread being made). Threads share the
 * fd table and cwd, so any one of them is as good a parent as the caller.
 */
struct job_anchor {
	struct job_server *s;
	pthread_t thread;
	bool running; /* a thread exists and is not joined */
	long parent_tid; /* cloned from (a thread of the process) */
	long tid;
	uint32_t started; /* (atomic, futex) */
	long start_ret;
	uint32_t quit; /* (atomic, futex) end the task */
	int close_fds; /* (atomic) close the fd table first: the process goes */
	int exited; /* (atomic) */
};

/* One job process, as the server knows it: its link and its kernel process. */
struct job_proc {
	bool used;
	int link; /* the instance's end; -1 after EOF */
	pid_t pid; /* host pid from HELLO (for logs), 0 before */
	long kpid; /* the kernel process (thread group) id */
	int nslots; /* slots still held (not yet reaped) */
	struct job_anchor anchor;
	struct job_proc *parent; /* FORK: who asked; FORK_FAILED is only theirs */
};

struct job_slot {
	struct job_server *s;
	unsigned int index;
	bool used; /* allocated, until its thread is joined */
	bool thread_running; /* a serving thread exists and is not joined */
	struct job_proc *proc;
	struct shoal_slot *sh; /* in the region */
	struct job_sysmap_area area; /* its data area: the task's user window */
	pthread_t thread;
	long tid; /* the kernel task's thread id */

	/* How the thread makes its task (set before it starts). */
	enum job_task_how how;
	long parent_tid;
	const char *cwd; /* JOB_TASK_FIRST */
	int kfds[3]; /* JOB_TASK_FIRST */
	uint32_t started; /* (atomic, futex) 1 once start_ret is set */
	long start_ret;

	uint32_t hold; /* (atomic, futex) the link thread borrows the task: no call starts */
	uint32_t in_call; /* (atomic) the serving thread is running a call */
	int released; /* (atomic) the serving thread must end */
	int close_fds; /* (atomic) ... after closing its task's fds: the process goes */
	int exited; /* (atomic) its task ended: the thread may be joined */
	uint32_t op; /* (atomic) enum job_slot_op posted by the link thread */
	uint32_t op_done; /* (atomic, futex) 1 once op_ret is set */
	long op_ret;
	uint64_t calls; /* (atomic) forwarded calls served */
};

struct job_server {
	struct instance *in;
	char *region; /* SHOAL_REGION_SIZE bytes, MAP_SHARED */
	struct job_slot slots[SHOAL_SLOTS_MAX];
	struct job_proc procs[JOB_PROCS_MAX];
	unsigned int next_slot; /* where the round-robin search starts */
	int event_fd; /* job_server_event_fd() */
	int wake_fd; /* eventfd: wakes the link thread (slot ended, stop) */
	pthread_t link_thread;
	bool link_started;
	int stopping; /* (atomic) the link thread must end */
	int nprocs; /* (atomic) job_server_processes() */
	uint64_t calls_freed; /* (atomic) calls of slots freed since */
};

/* job_server_slot.c: the serving threads. All from the link thread (or
 * create/destroy), which is a thread of host0. */

/* A free slot (its header reset), or NULL. */
struct job_slot *job_slot_alloc(struct job_server *s, struct job_proc *proc);
/*
 * Start @slot's serving thread, which makes its task (@how, @parent_tid) and
 * then serves. Returns the task's tid, or -errno (the slot is freed again).
 */
long job_slot_start(struct job_slot *slot, enum job_task_how how, long parent_tid);
/*
 * Close @slot: the serving thread ends after the call it is in, which
 * @signal interrupts if it blocks (0: none). With @close_fds (the whole
 * process goes) it closes its task's fds before its task ends. Does not wait.
 */
void job_slot_release(struct job_slot *slot, int signal, bool close_fds);
/* SHOAL_LINK_CANCEL: interrupt @slot's call if it is still call @seq, waiting. */
void job_slot_cancel(struct job_slot *slot, uint32_t seq);
/* Wait up to @timeout_ms (-1: for ever) for a released slot's task to end,
 * interrupting it again now and then; 0 if it ended, -ETIMEDOUT, or
 * -ECANCELED when the server stops meanwhile (only with a timeout). */
int job_slot_wait(struct job_slot *slot, int timeout_ms);
/* Join slots whose task ended and free them; processes left with no link and no
 * slot are freed too (the event fd is signalled). */
void job_slot_reap(struct job_server *s);
/* Run @op on @slot's serving thread and wait for its result (-ECANCELED when
 * the server stops meanwhile). */
long job_slot_run_op(struct job_slot *slot, enum job_slot_op op);
/*
 * Keep @slot's serving thread out of the kernel while its task is cloned
 * (skl_thread_new_task_from borrows the parent task). -EBUSY if it is in a
 * call now: the job thread that owns the slot is the one asking, so a
 * well-behaved job is never in one. job_slot_unhold() lets it go on.
 */
int job_slot_hold(struct job_slot *slot);
void job_slot_unhold(struct job_slot *slot);

/* Start @a, a thread of @from_tid's process (whose driver must stay out of the
 * kernel meanwhile). Returns its tid or -errno. */
long job_anchor_start(struct job_server *s, struct job_anchor *a, long from_tid);
/* End @a's task (after closing its fds if @close_fds). Does not wait. */
void job_anchor_stop(struct job_anchor *a, bool close_fds);
/* Wait for @a's task to end, then join it. */
void job_anchor_join(struct job_anchor *a);

/* job_server.c */
/* Release every slot of @proc, its tasks interrupted with SIGKILL. */
void job_proc_release(struct job_server *s, struct job_proc *proc);
/* The event fd becomes readable. */
void job_server_notify(struct job_server *s);

/* job_server_link.c: the link thread. */
int job_link_start(struct job_server *s, struct shoal_error *err);
void job_link_stop(struct job_server *s);

#endif /* SHOAL_INSTANCE_JOB_SERVER_INTERNAL_H */

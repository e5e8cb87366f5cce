// SPDX-License-Identifier: GPL-2.0
/*
 * The link thread of a job: it reads every link of the job (one
 * SOCK_SEQPACKET per job process, records of job_abi.h) and does what
 * they ask: a slot for a new thread, a kernel process and a link for a
 * fork, the kernel half of an exec, a slot back when a thread ends. EOF on
 * a link means the process is gone: its slots are released and its kernel
 * tasks end. The thread also joins serving threads whose task ended (they
 * wake it through wake_fd) and frees processes that have nothing left.
 *
 * It is a thread of the kernel's process 1 (host0: its first kernel call
 * makes it one), which is what lets it signal any job task. Everything a
 * job sends is checked: a slot named in a message must be one of that
 * process's own, and a malformed record ends the process as EOF would.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api/log.h"
#include "instance/job_server_internal.h"

/* How long an exec waits for the process's other threads to leave their calls. */
#define JOB_LINK_EXEC_WAIT_MS 2000

static uint64_t link_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int link_reply(struct job_proc *proc, int32_t err, uint32_t slot, int64_t kpid, int fd)
{
	struct shoal_link_reply reply = { .err = err, .slot = slot, .kpid = kpid };
	struct iovec iov = { .iov_base = &reply, .iov_len = sizeof(reply) };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cmsg;

	if (fd >= 0) {
		memset(&control, 0, sizeof(control));
		msg.msg_control = control.buf;
		msg.msg_controllen = sizeof(control.buf);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	}
	/* Never block on, nor be killed by, a job that stopped reading. */
	if (sendmsg(proc->link, &msg, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		return -errno;
	return 0;
}

/* @index names a live slot of @proc? */
static struct job_slot *link_own_slot(struct job_server *s, struct job_proc *proc, uint32_t index)
{
	struct job_slot *slot;

	if (index >= SHOAL_SLOTS_MAX)
		return NULL;
	slot = &s->slots[index];
	if (!slot->used || !slot->thread_running || slot->proc != proc ||
	    __atomic_load_n(&slot->released, __ATOMIC_RELAXED))
		return NULL;
	return slot;
}

static struct job_proc *link_proc_alloc(struct job_server *s)
{
	unsigned int i;

	for (i = 0; i < JOB_PROCS_MAX; i++) {
		if (!s->procs[i].used) {
			memset(&s->procs[i], 0, sizeof(s->procs[i]));
			s->procs[i].used = true;
			s->procs[i].link = -1;
			__atomic_add_fetch(&s->nprocs, 1, __ATOMIC_SEQ_CST);
			return &s->procs[i];
		}
	}
	return NULL;
}

/* The process is gone (EOF, a bad record, or a failed fork): end its tasks. */
static void link_proc_gone(struct job_server *s, struct job_proc *proc)
{
	job_proc_release(s, proc);
	if (proc->link >= 0)
		close(proc->link);
	proc->link = -1;
	/* Freed by job_slot_reap() once its serving threads ended. */
	job_server_notify(s);
}

/*
 * A new slot of @owner whose task is cloned (@how) from @src's anchor, a
 * thread of @src that is never in a call. Its tid, or -errno.
 */
static long link_new_slot(struct job_server *s, struct job_proc *src, struct job_proc *owner,
			  enum job_task_how how, struct job_slot **out)
{
	if (!src->anchor.running)
		return -ESRCH;
	*out = job_slot_alloc(s, owner);
	if (!*out)
		return -ENOSPC;
	return job_slot_start(*out, how, src->anchor.tid);
}

/* @proc's anchor, cloned from @slot's task while its serving thread stays out. */
static long link_anchor_from(struct job_server *s, struct job_proc *proc, struct job_slot *slot)
{
	long r = job_slot_hold(slot);

	if (r < 0)
		return r;
	r = job_anchor_start(s, &proc->anchor, slot->tid);
	job_slot_unhold(slot);
	return r;
}

/*
 * A new thread asks for its slot on its first forwarded call, naming a slot
 * of its process that may be in a call (or gone): the task comes from the
 * anchor, so the slot named only has to be in range.
 */
static void link_thread(struct job_server *s, struct job_proc *proc, const struct shoal_link_msg *m)
{
	struct job_slot *slot = NULL;
	long tid = -EINVAL;

	if (m->slot < SHOAL_SLOTS_MAX)
		tid = link_new_slot(s, proc, proc, JOB_TASK_THREAD, &slot);
	link_reply(proc, tid < 0 ? (int32_t)tid : 0, tid < 0 ? 0 : slot->index, proc->kpid, -1);
}

static void link_fork(struct job_server *s, struct job_proc *proc, const struct shoal_link_msg *m)
{
	struct job_slot *slot = NULL;
	struct job_proc *child = NULL;
	int pair[2] = { -1, -1 };
	long tid = -ENOSPC;

	if (!link_own_slot(s, proc, m->slot)) {
		link_reply(proc, -EINVAL, 0, proc->kpid, -1);
		return;
	}
	child = link_proc_alloc(s);
	if (child && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
		tid = -errno;
	else if (child)
		tid = link_new_slot(s, proc, child, JOB_TASK_FORK, &slot);
	if (tid >= 0) {
		child->link = pair[0];
		child->kpid = tid;
		child->parent = proc;
		/* The child's own anchor: its slot's job thread does not run yet. */
		tid = link_anchor_from(s, child, slot);
		if (tid < 0)
			link_proc_gone(s, child); /* closes pair[0] */
		pair[0] = -1;
	}
	if (tid < 0) {
		if (pair[0] >= 0)
			close(pair[0]);
		if (pair[1] >= 0)
			close(pair[1]);
		if (child && child->link < 0 && child->nslots == 0) {
			child->used = false;
			__atomic_sub_fetch(&s->nprocs, 1, __ATOMIC_SEQ_CST);
		}
		link_reply(proc, (int32_t)tid, 0, proc->kpid, -1);
		return;
	}
	if (link_reply(proc, 0, slot->index, child->kpid, pair[1]) < 0)
		link_proc_gone(s, child); /* the parent is going: nobody forks */
	close(pair[1]);
}

/* The host fork did not happen: the child slot named in arg goes. */
static void link_fork_failed(struct job_server *s, struct job_proc *proc,
			     const struct shoal_link_msg *m)
{
	struct job_slot *slot;

	if (m->arg < 0 || m->arg >= SHOAL_SLOTS_MAX)
		return;
	slot = &s->slots[m->arg];
	if (slot->used && slot->proc->parent == proc && slot->proc->link >= 0)
		link_proc_gone(s, slot->proc);
}

/*
 * Before the host execve: the process's other threads go (their slots
 * released, their tasks interrupted and ended), then the caller's task
 * closes its close-on-exec fds, on the caller's serving thread.
 */
static void link_exec(struct job_server *s, struct job_proc *proc, const struct shoal_link_msg *m)
{
	struct job_slot *caller = link_own_slot(s, proc, m->slot);
	uint64_t t0 = link_now_us();
	int left = JOB_LINK_EXEC_WAIT_MS;
	unsigned int i;
	long r;

	if (!caller) {
		link_reply(proc, -EINVAL, 0, proc->kpid, -1);
		return;
	}
	for (i = 0; i < SHOAL_SLOTS_MAX; i++) {
		struct job_slot *slot = &s->slots[i];

		if (slot != caller && slot->used && slot->proc == proc)
			job_slot_release(slot, SKL_SIGUSR1, false);
	}
	/* One deadline for them all: a job cannot hold its link thread long. */
	for (i = 0; i < SHOAL_SLOTS_MAX; i++) {
		struct job_slot *slot = &s->slots[i];

		if (slot == caller || !slot->used || slot->proc != proc || !slot->thread_running)
			continue;
		if (job_slot_wait(slot, left) < 0) {
			shoal_log_warn(
				"job: exec of kernel process %ld: thread %ld still in a call",
				proc->kpid, slot->tid);
			left = 0;
		} else {
			left = JOB_LINK_EXEC_WAIT_MS - (int)((link_now_us() - t0) / 1000);
			if (left < 0)
				left = 0;
		}
	}
	job_slot_reap(s);
	r = job_slot_run_op(caller, JOB_OP_EXEC);
	if (r >= 0) {
		/* The anchor still holds the fd table from before the exec,
		 * which nobody else uses now: it goes (closing those fds), and
		 * a new one is cloned from the caller. */
		job_anchor_stop(&proc->anchor, true);
		job_anchor_join(&proc->anchor);
		r = link_anchor_from(s, proc, caller);
	}
	link_reply(proc, r < 0 ? (int32_t)r : 0, caller->index, proc->kpid, -1);
}

static void link_thread_exit(struct job_server *s, struct job_proc *proc,
			     const struct shoal_link_msg *m)
{
	struct job_slot *slot = link_own_slot(s, proc, m->slot);

	if (slot)
		job_slot_release(slot, SKL_SIGUSR1, false);
}

static void link_cancel(struct job_server *s, struct job_proc *proc, const struct shoal_link_msg *m)
{
	struct job_slot *slot = link_own_slot(s, proc, m->slot);

	if (slot)
		job_slot_cancel(slot, (uint32_t)m->arg);
}

/* One record from @proc's link; false when the process is to be treated as gone. */
static bool link_read(struct job_server *s, struct job_proc *proc)
{
	struct shoal_link_msg m;
	struct iovec iov = { .iov_base = &m, .iov_len = sizeof(m) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	/* No control buffer: descriptors a job sends are dropped by the kernel.
	 * recvmsg, not recv: the instance's allow-list has recvmsg already. */
	n = recvmsg(proc->link, &mh, MSG_DONTWAIT | MSG_TRUNC);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return true;
	if (n != (ssize_t)sizeof(m))
		return false; /* EOF, an error, or a record of another size */
	switch (m.op) {
	case SHOAL_LINK_HELLO:
		proc->pid = m.pid;
		break;
	case SHOAL_LINK_THREAD:
		link_thread(s, proc, &m);
		break;
	case SHOAL_LINK_FORK:
		link_fork(s, proc, &m);
		break;
	case SHOAL_LINK_FORK_FAILED:
		link_fork_failed(s, proc, &m);
		break;
	case SHOAL_LINK_EXEC:
		link_exec(s, proc, &m);
		break;
	case SHOAL_LINK_THREAD_EXIT:
		link_thread_exit(s, proc, &m);
		break;
	case SHOAL_LINK_CANCEL:
		link_cancel(s, proc, &m);
		break;
	default:
		return false;
	}
	return true;
}

static void *link_main(void *arg)
{
	struct job_server *s = arg;
	struct pollfd pfds[1 + JOB_PROCS_MAX];
	struct job_proc *polled[1 + JOB_PROCS_MAX];
	uint64_t count;
	unsigned int i;
	int n, k;

	while (!__atomic_load_n(&s->stopping, __ATOMIC_ACQUIRE)) {
		job_slot_reap(s);
		n = 0;
		pfds[n].fd = s->wake_fd;
		pfds[n++].events = POLLIN;
		for (i = 0; i < JOB_PROCS_MAX; i++) {
			if (!s->procs[i].used || s->procs[i].link < 0)
				continue;
			pfds[n].fd = s->procs[i].link;
			pfds[n].events = POLLIN;
			polled[n++] = &s->procs[i];
		}
		if (poll(pfds, (nfds_t)n, -1) < 0)
			continue; /* EINTR */
		if (pfds[0].revents && read(s->wake_fd, &count, sizeof(count)) < 0) {
			/* EAGAIN: another reader took it; nothing to do. */
		}
		for (k = 1; k < n; k++) {
			if (!pfds[k].revents || polled[k]->link != pfds[k].fd)
				continue;
			if (!link_read(s, polled[k]))
				link_proc_gone(s, polled[k]);
		}
	}
	return NULL;
}

int job_link_start(struct job_server *s, struct shoal_error *err)
{
	pthread_attr_t attr;
	sigset_t mask, old;
	int r;

	/* Kernel code (the interrupting signals) runs on its stack, as on a serving thread's. */
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	sigfillset(&mask);
	sigdelset(&mask, SIGSEGV);
	sigdelset(&mask, SIGBUS);
	sigdelset(&mask, SIGSYS);
	pthread_sigmask(SIG_SETMASK, &mask, &old);
	r = pthread_create(&s->link_thread, &attr, link_main, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (r)
		return shoal_error_set(err, r, "job: start the link thread");
	s->link_started = true;
	return 0;
}

void job_link_stop(struct job_server *s)
{
	uint64_t one = 1;

	if (!s->link_started)
		return;
	__atomic_store_n(&s->stopping, 1, __ATOMIC_SEQ_CST);
	if (write(s->wake_fd, &one, sizeof(one)) < 0) {
		/* Full counter: readable anyway. */
	}
	pthread_join(s->link_thread, NULL);
	s->link_started = false;
}

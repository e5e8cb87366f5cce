// SPDX-License-Identifier: GPL-2.0
/*
 * The syscall server of a job: the instance half of instance/job_abi.h.
 * This file makes and ends a job's server (its region, its first process's
 * kernel task and slot, its link thread); job_server_slot.c runs the slots,
 * job_server_link.c the links, job_sysmap.c maps the calls.
 *
 * The region is a memfd sealed at its size before the job gets it: a job
 * that could shrink it would make the instance's next access to a slot a
 * SIGBUS. Its size is reserved address space only; pages cost when a slot's
 * data area is touched.
 *
 * Host system calls the server makes once the instance is locked down
 * (instance/sandbox.c must allow them), and why:
 *
 *   memfd_create   (MFD_CLOEXEC|MFD_ALLOW_SEALING) the job's region
 *   ftruncate      its size
 *   fcntl          F_ADD_SEALS on it (shrink, grow, seal)
 *   mmap           the region: PROT_READ|PROT_WRITE, MAP_SHARED; thread stacks
 *   munmap         the region at destroy; thread stacks
 *   mprotect       thread stack guard pages (glibc), never PROT_EXEC
 *   madvise        glibc releasing a dead thread's stack
 *   eventfd2       the event fd and the link thread's wake-up
 *   socketpair     AF_UNIX, SOCK_SEQPACKET|SOCK_CLOEXEC: a process's link
 *   recvmsg        link records (no control buffer: fds a job sends are dropped)
 *   sendmsg        link replies, with SCM_RIGHTS for a fork's link
 *   poll           the link thread's wait
 *   read, write    the eventfds
 *   close          links, the eventfds
 *   clone3, clone  serving threads and the link thread: pthread_create
 *                  (glibc tries clone3 first; if the filter answers ENOSYS
 *                  to clone3 it uses clone with CLONE_THREAD)
 *   set_robust_list, rseq, rt_sigprocmask, exit: thread start and end (glibc)
 *   futex          slot state words (shared), start and op hand-offs (private)
 *   poll           job_slot_wait() between interrupts (a 2 ms sleep)
 * clock_gettime (the serving threads' spin) is answered by the vDSO.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "instance/job_server_internal.h"

void job_server_notify(struct job_server *s)
{
	uint64_t one = 1;

	if (write(s->event_fd, &one, sizeof(one)) < 0) {
		/* Full counter: it is readable anyway. */
	}
}

void job_proc_release(struct job_server *s, struct job_proc *proc)
{
	unsigned int i;
	bool killed = false;

	for (i = 0; i < SHOAL_SLOTS_MAX; i++) {
		struct job_slot *slot = &s->slots[i];

		if (!slot->used || slot->proc != proc || !slot->thread_running)
			continue;
		/* One SIGKILL reaches every task of the process (a fatal
		 * signal ends the whole thread group); it is sent through a
		 * task we know is alive, never through a pid that could have
		 * been reused. */
		job_slot_release(slot, killed ? 0 : SKL_SIGKILL, true);
		if (!__atomic_load_n(&slot->exited, __ATOMIC_ACQUIRE))
			killed = true;
	}
	job_anchor_stop(&proc->anchor, true);
}

static int server_region(struct job_server *s, int *region_fd, struct shoal_error *err)
{
	struct shoal_region_header *h;
	int fd, r;

	fd = memfd_create("shoal-job", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return shoal_error_set(err, errno, "job: memfd_create for the region");
	if (ftruncate(fd, (off_t)SHOAL_REGION_SIZE) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		r = shoal_error_set(err, errno, "job: size and seal the region (%zu bytes)",
				    (size_t)SHOAL_REGION_SIZE);
		close(fd);
		return r;
	}
	s->region = mmap(NULL, SHOAL_REGION_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (s->region == MAP_FAILED) {
		s->region = NULL;
		r = shoal_error_set(err, errno, "job: map the region (%zu bytes)",
				    (size_t)SHOAL_REGION_SIZE);
		close(fd);
		return r;
	}
	h = (struct shoal_region_header *)(void *)s->region;
	h->magic = SHOAL_REGION_MAGIC;
	h->version = SHOAL_JOB_ABI_VERSION;
	h->nslots = SHOAL_SLOTS_MAX;
	h->slot_stride = SHOAL_SLOT_STRIDE;
	h->instance_base = (uint64_t)(uintptr_t)s->region;
	*region_fd = fd;
	return 0;
}

int job_server_create(struct instance *in, const char *cwd, int kfd_in, int kfd_out, int kfd_err,
		      struct job_server **out, int *link_fd, int *region_fd,
		      struct shoal_error *err)
{
	struct job_server *s;
	struct job_proc *proc;
	struct job_slot *slot;
	int pair[2] = { -1, -1 }, rfd = -1, r;
	long tid;

	if (!skl_thread_new_task_from || !skl_task_set_user_window || !skl_task_exec)
		return shoal_error_set(err, ENOSYS,
				       "job: the library kernel has no task window/fork API");
	s = calloc(1, sizeof(*s));
	if (!s)
		return shoal_error_set(err, ENOMEM, "job: allocate the server");
	s->in = in;
	s->event_fd = s->wake_fd = -1;
	r = server_region(s, &rfd, err);
	if (r < 0)
		goto fail;
	s->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->event_fd < 0 || s->wake_fd < 0) {
		r = shoal_error_set(err, errno, "job: eventfd");
		goto fail;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) {
		r = shoal_error_set(err, errno, "job: socketpair for the first link");
		goto fail;
	}

	proc = &s->procs[0];
	proc->used = true;
	proc->link = pair[0];
	s->nprocs = 1;
	slot = job_slot_alloc(s, proc);
	slot->cwd = cwd;
	slot->kfds[0] = kfd_in;
	slot->kfds[1] = kfd_out;
	slot->kfds[2] = kfd_err;
	tid = job_slot_start(slot, JOB_TASK_FIRST, 0);
	if (tid < 0) {
		r = shoal_error_set(err, (int)tid, "job: first kernel task (cwd %s, fds %d %d %d)",
				    cwd ? cwd : "-", kfd_in, kfd_out, kfd_err);
		goto fail;
	}
	proc->kpid = tid;
	/* The process's anchor (see job_server_internal.h): the job does not run
	 * yet, so slot 0's serving thread is out of the kernel. */
	tid = job_slot_hold(slot);
	if (tid >= 0)
		tid = job_anchor_start(s, &proc->anchor, slot->tid);
	job_slot_unhold(slot);
	if (tid < 0) {
		r = shoal_error_set(err, (int)tid, "job: the first process's anchor task");
		goto fail;
	}
	r = job_link_start(s, err);
	if (r < 0)
		goto fail;
	*out = s;
	*link_fd = pair[1];
	*region_fd = rfd;
	return 0;

fail:
	if (pair[1] >= 0)
		close(pair[1]);
	job_server_destroy(s);
	if (rfd >= 0)
		close(rfd);
	return r;
}

int job_server_processes(struct job_server *s)
{
	return __atomic_load_n(&s->nprocs, __ATOMIC_SEQ_CST);
}

int job_server_event_fd(struct job_server *s)
{
	return s->event_fd;
}

uint64_t job_server_calls(struct job_server *s)
{
	uint64_t total = __atomic_load_n(&s->calls_freed, __ATOMIC_RELAXED);
	unsigned int i;

	for (i = 0; i < SHOAL_SLOTS_MAX; i++)
		total += __atomic_load_n(&s->slots[i].calls, __ATOMIC_RELAXED);
	return total;
}

void job_server_destroy(struct job_server *s)
{
	unsigned int i;

	if (!s)
		return;
	/* The tables are ours alone once the link thread is gone. */
	job_link_stop(s);
	for (i = 0; i < JOB_PROCS_MAX; i++) {
		struct job_proc *proc = &s->procs[i];

		if (!proc->used)
			continue;
		job_proc_release(s, proc);
		if (proc->link >= 0)
			close(proc->link);
		proc->link = -1;
	}
	for (i = 0; i < SHOAL_SLOTS_MAX; i++) {
		struct job_slot *slot = &s->slots[i];

		if (slot->used && slot->thread_running)
			job_slot_wait(slot, -1);
	}
	for (i = 0; i < JOB_PROCS_MAX; i++)
		if (s->procs[i].used)
			job_anchor_join(&s->procs[i].anchor);
	job_slot_reap(s);
	if (s->region)
		munmap(s->region, SHOAL_REGION_SIZE);
	if (s->event_fd >= 0)
		close(s->event_fd);
	if (s->wake_fd >= 0)
		close(s->wake_fd);
	free(s);
}

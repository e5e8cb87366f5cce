/* SPDX-License-Identifier: GPL-2.0 */
/*
 * job_server.h: the instance half of instance/job_abi.h. One job server per
 * job: it owns the job's shared region (a sealed memfd), one serving thread
 * per slot, bound to the job thread's kernel task, and the links (one
 * SOCK_SEQPACKET per job process) over which the shim asks for new threads,
 * forks and execs. The job's forwarded calls run in those kernel tasks, each
 * restricted to its slot's data area (skl_task_set_user_window).
 *
 * What the shim can count on besides job_abi.h: the last
 * JOB_SYSMAP_SCRATCH (512) bytes of every slot's data area are the server's
 * for the calls it rewrites (poll, select, utime*, the stat family), so a
 * poll's fds or a select's sets must lie before them; the job's kernel tasks
 * ignore every signal the kernel raises (a write to a broken pipe answers
 * -EPIPE, and raising SIGPIPE in the program is the shim's business); THREAD
 * may name any slot of the process, even one in a call or gone (the task is
 * cloned from the process's anchor, an idle kernel thread of it), while
 * FORK and EXEC must name the caller's own live slot (-EINVAL otherwise);
 * HELLO, FORK_FAILED and THREAD_EXIT get no reply. Each job process costs
 * one host thread per slot plus one (its anchor).
 *
 * Thread affinity: create, destroy and the accessors are called from one
 * instance thread bound to the kernel's process 1 (host0), e.g. the control
 * loop. The server runs its own threads (one link thread per job, one
 * serving thread per slot); job_server_destroy() ends them all.
 */
#ifndef SHOAL_INSTANCE_JOB_SERVER_H
#define SHOAL_INSTANCE_JOB_SERVER_H

#include <stdint.h>

#include "api/error.h"

struct instance;
struct job_server;

/*
 * job_server_create() - one per job. Makes the region (memfd of
 * SHOAL_REGION_SIZE, mapped MAP_SHARED, header filled, size sealed), the
 * first process's kernel task (a new kernel process: its fds 0, 1, 2 are
 * dups of the kernel fds @kfd_in/@kfd_out/@kfd_err of the kernel's process
 * 1 fd table, every other fd closed, cwd chdir'ed to @cwd, umask 022),
 * slot 0 bound to it with its serving thread, and the link socketpair
 * (SOCK_SEQPACKET|SOCK_CLOEXEC). A negative kfd leaves that fd closed.
 * *@link_fd and *@region_fd are for the job's first process: the caller
 * passes them to the jail and then closes its copies (both are
 * close-on-exec). Returns 0 with *@out set, or -errno with @err set.
 */
int job_server_create(struct instance *in, const char *cwd, int kfd_in, int kfd_out, int kfd_err,
		      struct job_server **out, int *link_fd, int *region_fd,
		      struct shoal_error *err);

/*
 * job_server_processes() - how many job processes are still alive for the
 * server: a process counts until its link reached EOF and every kernel task
 * of it ended. 0: the job is gone.
 */
int job_server_processes(struct job_server *s);

/*
 * job_server_destroy() - end everything left: every slot is closed, the
 * kernel tasks are interrupted (SIGKILL in the kernel) and end, the serving
 * threads and the link thread are joined, links closed, the region unmapped.
 * NULL is ignored.
 */
void job_server_destroy(struct job_server *s);

/*
 * job_server_event_fd() - an eventfd (non-blocking, owned by the server)
 * that becomes readable when job_server_processes() may have changed. The
 * caller may read it to reset it.
 */
int job_server_event_fd(struct job_server *s);

/* job_server_calls() - forwarded calls served so far (all slots). */
uint64_t job_server_calls(struct job_server *s);

#endif /* SHOAL_INSTANCE_JOB_SERVER_H */

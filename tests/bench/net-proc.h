/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The processes net-bench starts: its nodes (one per end of a veth pair),
 * iperf3, and short `ip` commands. Every child is registered here so that
 * the way out (normal end, error, SIGINT/SIGTERM/SIGHUP) can kill each one
 * by its pid and process group and reap it; every child also dies with
 * net-bench (PR_SET_PDEATHSIG), should net-bench itself be SIGKILLed. Every
 * wait is bounded and ends early when net-bench is asked to stop.
 */
#ifndef SHOAL_TESTS_BENCH_NET_PROC_H
#define SHOAL_TESTS_BENCH_NET_PROC_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#include "api/error.h"

/* Set from a signal handler when net-bench must stop; waits then end. */
extern volatile sig_atomic_t net_interrupted;

/*
 * net_proc_fork() - fork a registered child. In the child (return 0) it
 * leads a process group of its own and dies with net-bench; registered
 * children of the parent are none of its business (it forgets them). In
 * the parent, the child's pid or -errno.
 */
pid_t net_proc_fork(struct shoal_error *err);

/* net_proc_close_in_children() - every child net_proc_fork() makes from now
 * on closes @fd first (the namespace guardian's pipe, say). */
void net_proc_close_in_children(int fd);

/*
 * net_proc_wait() - reap @pid within @timeout_ms; its wait status in
 * @status. On timeout or interruption the child is killed and reaped and
 * -ETIMEDOUT or -EINTR returned.
 */
int net_proc_wait(pid_t pid, int timeout_ms, int *status, struct shoal_error *err);

/* net_proc_kill() - SIGKILL @pid's process group and @pid, reap, forget. */
void net_proc_kill(pid_t pid);

/* net_proc_kill_all() - net_proc_kill() every registered child. */
void net_proc_kill_all(void);

/*
 * net_proc_run() - run a shell command line (printf-formatted) and wait for
 * it up to @timeout_ms. Its output goes to our stderr. 0 if it exited 0,
 * else -EIO (or the error of the wait), with the command in the message.
 */
int net_proc_run(int timeout_ms, struct shoal_error *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* net_proc_poll_in() - wait up to @timeout_ms for @fd to be readable:
 * 1 readable (or hung up), 0 timed out, -EINTR when interrupted. */
int net_proc_poll_in(int fd, int timeout_ms);

/* net_proc_pin() - keep the calling process on @cpu (its threads to come
 * inherit it). */
int net_proc_pin(int cpu, struct shoal_error *err);

/* net_proc_sleep_ms() - sleep; -EINTR early when interrupted. */
int net_proc_sleep_ms(int ms);

#endif /* SHOAL_TESTS_BENCH_NET_PROC_H */

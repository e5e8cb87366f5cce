/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One measured instance: a command boot-bench starts, watches and stops the
 * same way whatever it is (Shoal's boot-one, a User-mode Linux guest, an
 * unshared shell). Its life:
 *
 *   spawn    fork; the child makes its own process group, joins the
 *            instance's cgroup and then waits, so that the join (an RCU grace
 *            period on cgroup v1) happens before the clock starts;
 *   release  the clock starts (t_release) and the child execs the command;
 *   ready    the command prints a line starting with "ready" on its stdout
 *            (t_ready, the parent's clock) and then waits on its stdin;
 *   stop     the parent writes a line to its stdin (t_stop); the command
 *            halts and exits; the parent reaps it (t_exit).
 *
 * Every wait is bounded by a timeout in milliseconds, and also ends early,
 * with -EINTR, when boot-bench was asked to stop (bench_interrupted). An
 * instance that misses a deadline is killed: its process group, then every
 * process its cgroup still lists, by pid. Live instances are registered so
 * that bench_instance_kill_all() can end them all on the way out.
 *
 * Times are CLOCK_MONOTONIC nanoseconds: the same clock in every process of
 * the host, so a child's own timestamps can be compared with t_release.
 */
#ifndef SHOAL_TESTS_BENCH_INSTANCE_H
#define SHOAL_TESTS_BENCH_INSTANCE_H

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "api/error.h"

/* Set from a signal handler when boot-bench must stop; waits then end. */
extern volatile sig_atomic_t bench_interrupted;

struct bench_instance {
	pid_t pid; /* the command's first process, leader of its process group */
	int pidfd; /* readable once pid has exited */
	int ctl_fd; /* our end of the socket the child acks and waits on */
	int in_fd; /* the command's stdin */
	int out_fd; /* the command's stdout and stderr */
	char cgroup[PATH_MAX]; /* its cgroup folder, or "" without cgroups */
	bool reaped;
	int status; /* wait status once reaped */
	int64_t t_release, t_ready, t_stop, t_exit;
	char buf[4096]; /* output read but not yet split into lines */
	size_t len;
	char last[256]; /* the last line of output, for error messages */
};

/* bench_now_ns() - CLOCK_MONOTONIC in nanoseconds. */
int64_t bench_now_ns(void);

/* bench_sleep_ms() - sleep; -EINTR early if bench_interrupted is set. */
int bench_sleep_ms(int ms);

/*
 * bench_instance_spawn() - fork the child of @inst for @argv (argv[0] is
 * looked up in PATH) and wait up to @timeout_ms for it to be ready to exec.
 * @cgroup_parent/@name: the cgroup folder to create for it, or NULL to run
 * without one. @inst is initialised here; on failure nothing is left behind.
 */
int bench_instance_spawn(struct bench_instance *inst, char *const argv[], const char *cgroup_parent,
			 const char *name, int timeout_ms, struct shoal_error *err);

/* bench_instance_release() - start the clock and let the child exec. */
int bench_instance_release(struct bench_instance *inst, struct shoal_error *err);

/*
 * bench_instance_wait_line() - read output until a line starts with @prefix,
 * copy it to @line (@len bytes, without the line end) and return 0. The first
 * match also sets t_ready. -ETIMEDOUT after @timeout_ms, -EPIPE if the command
 * ended its output (died) first. Lines that do not match are skipped.
 */
int bench_instance_wait_line(struct bench_instance *inst, const char *prefix, char *line,
			     size_t len, int timeout_ms, struct shoal_error *err);

/*
 * bench_instance_stop() - write a line to the command's stdin (t_stop), read
 * its output until it ends, copying a line starting with @prefix (if not
 * NULL) to @line, and reap the command (t_exit). -ETIMEDOUT if it has not
 * exited after @timeout_ms.
 */
int bench_instance_stop(struct bench_instance *inst, const char *prefix, char *line, size_t len,
			int timeout_ms, struct shoal_error *err);

/*
 * bench_instance_pids() - the processes of the instance: its cgroup's list,
 * or the command's first process alone without a cgroup. Returns the count.
 */
int bench_instance_pids(struct bench_instance *inst, pid_t *pids, int max);

/* bench_instance_kill() - SIGKILL the instance (group and cgroup), reap it. */
void bench_instance_kill(struct bench_instance *inst);

/*
 * bench_instance_destroy() - kill the instance if it still runs, close its
 * descriptors, remove its cgroup. Safe on a zeroed or destroyed instance.
 */
int bench_instance_destroy(struct bench_instance *inst, struct shoal_error *err);

/* bench_instance_kill_all() - destroy every live instance (exit path). */
void bench_instance_kill_all(void);

#endif /* SHOAL_TESTS_BENCH_INSTANCE_H */

// SPDX-License-Identifier: GPL-2.0
/*
 * A job's two host processes before its program: the reaper and the first
 * process. The zygote clones the reaper into fresh pid, net, ipc and uts
 * namespaces, so it is pid 1 there: it forks the first process, forwards
 * the signals the instance sends (a pid 1 only receives signals it has a
 * handler for, which is also why the program itself is not pid 1: a job's
 * `kill -SEGV $$` must work), reaps orphans, and when the first process
 * ends, writes its wait status to the zygote and exits. Its exit ends the
 * namespace, so every process the job left behind is killed with it.
 *
 * The first process gives up everything, in this order, and becomes the
 * shim (job_abi.h) by descriptor:
 *  - its own session and process group (exec_signal's group is this one);
 *  - rlimits: no core files, the instance's max_open_files;
 *  - an empty bounding set and no capabilities (no_new_privs is inherited
 *    from the zygote and set again);
 *  - descriptors: 0, 1, 2 are the host's /dev/null (a job's real stdio is
 *    in the instance kernel), 3 the shim, 4 the link, 5 the region, all
 *    without close-on-exec; everything else is closed;
 *  - no job filter of its own: the job's deny list (calls no job may make
 *    on the host) is part of the shim's filter (instance/jobshim/filter.c),
 *    which the shim installs before it loads any program and which decides
 *    it before it exempts the shim's own text, so it holds for every call of
 *    the job; a separate filter ran on every trapped call for nothing. The
 *    zygote's deny filter (sandbox.c) is inherited and stays under it;
 *  - execveat(shim, "", AT_EMPTY_PATH). If that fails, the errno goes to
 *    the zygote through a close-on-exec pipe, whose silent close otherwise
 *    says that the shim is running.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "instance/instance.h"

#define REAPER_FD_EXEC 6 /* the first process's exec-status pipe, close-on-exec */

static volatile pid_t reaper_first;

/* From the zygote: sival_int = signal | 256 for the whole process group. */
static void reaper_forward_cb(int sig, siginfo_t *si, void *uctx)
{
	pid_t p = reaper_first;
	int v = si->si_value.sival_int;

	(void)sig;
	(void)uctx;
	if (p > 0 && si->si_code == SI_QUEUE)
		kill((v & 256) ? -p : p, v & 255);
}

static __attribute__((noreturn)) void reaper_fail(int fd, int e)
{
	while (write(fd, &e, sizeof(e)) < 0 && errno == EINTR)
		;
	_exit(127);
}

/* Move @fd to @to without close-on-exec. @fd must not be below 10 (see below). */
static int reaper_place(int fd, int to)
{
	return dup2(fd, to) == to ? 0 : -1;
}

static __attribute__((noreturn)) void jail_first_process(const struct jail_spawn_args *a)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];
	struct rlimit core = { 0, 0 }, nofile = { a->max_open_files, a->max_open_files };
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	int tmp[5], i, efd = a->exec_fd;
	unsigned long cap;
	sigset_t none;

	sigaction(SIGRTMIN, &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (setsid() < 0)
		reaper_fail(efd, errno);
	if (setrlimit(RLIMIT_CORE, &core) < 0 ||
	    (a->max_open_files && setrlimit(RLIMIT_NOFILE, &nofile) < 0))
		reaper_fail(efd, errno);
	for (cap = 0; prctl(PR_CAPBSET_READ, cap) >= 0; cap++)
		if (prctl(PR_CAPBSET_DROP, cap) < 0)
			reaper_fail(efd, errno);
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capset, &hdr, data) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		reaper_fail(efd, errno);

	/* Everything we keep goes above 10 first, so the final dup2()s clobber nothing. */
	tmp[0] = fcntl(a->shim_fd, F_DUPFD_CLOEXEC, 10);
	tmp[1] = fcntl(a->link_fd, F_DUPFD_CLOEXEC, 10);
	tmp[2] = fcntl(a->region_fd, F_DUPFD_CLOEXEC, 10);
	tmp[3] = fcntl(a->null_fd, F_DUPFD_CLOEXEC, 10);
	tmp[4] = fcntl(efd, F_DUPFD_CLOEXEC, 10);
	for (i = 0; i < 5; i++)
		if (tmp[i] < 0)
			reaper_fail(efd, errno);
	efd = tmp[4];
	if (reaper_place(tmp[3], 0) || reaper_place(tmp[3], 1) || reaper_place(tmp[3], 2) ||
	    reaper_place(tmp[0], JAIL_FD_SHIM) || reaper_place(tmp[1], JAIL_FD_LINK) ||
	    reaper_place(tmp[2], JAIL_FD_REGION) ||
	    dup3(tmp[4], REAPER_FD_EXEC, O_CLOEXEC) != REAPER_FD_EXEC)
		reaper_fail(efd, errno);
	efd = REAPER_FD_EXEC;
	syscall(SYS_close_range, REAPER_FD_EXEC + 1, ~0U, 0);

	syscall(SYS_execveat, JAIL_FD_SHIM, "", a->argv, a->envp, AT_EMPTY_PATH);
	reaper_fail(efd, errno);
}

void jail_reaper_run(const struct jail_spawn_args *a)
{
	struct sigaction sa = { .sa_sigaction = reaper_forward_cb,
				.sa_flags = SA_SIGINFO | SA_RESTART };
	pid_t pid, w;
	int st;

	/* Dies with the zygote, and so does the whole job. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	prctl(PR_SET_NAME, "shoal-reaper");
	sigaction(SIGRTMIN, &sa, NULL);
	pid = fork();
	if (pid < 0)
		reaper_fail(a->exec_fd, errno);
	if (pid == 0)
		jail_first_process(a);
	reaper_first = pid;
	close(a->exec_fd);
	close(a->link_fd);
	close(a->region_fd);
	for (;;) {
		w = waitpid(-1, &st, 0);
		if (w == pid) {
			while (write(a->status_fd, &st, sizeof(st)) < 0 && errno == EINTR)
				;
			_exit(0);
		}
		if (w < 0 && errno == ECHILD)
			_exit(0);
	}
}

// SPDX-License-Identifier: GPL-2.0
/*
 * The monitor: the process the supervisor spawned, left outside the
 * instance's pid namespace after start.c forked the instance into it. It does
 * three things and nothing else: passes SIGTERM, SIGINT and SIGHUP on to the
 * instance, waits for it, and removes the instance's cgroup once it is gone
 * (a process cannot remove the cgroup it is in), then ends with the
 * instance's own status, or by the same signal that ended the instance. It
 * keeps no descriptor of the instance's (control socket, packet socket,
 * images), gives up its capabilities (removing a cgroup directory needs only
 * ownership of its parent) and sets no_new_privs; it needs no more.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api/log.h"
#include "instance/instance.h"

static volatile pid_t monitor_child;

static void monitor_forward_cb(int sig)
{
	int saved = errno;

	if (monitor_child > 0)
		kill(monitor_child, sig);
	errno = saved;
}

void monitor_run(struct instance *in, pid_t child)
{
	static const int forward[] = { SIGTERM, SIGINT, SIGHUP };
	struct sigaction sa = { .sa_handler = monitor_forward_cb, .sa_flags = SA_RESTART };
	struct rlimit no_core = { 0, 0 };
	struct shoal_error err = { 0 };
	sigset_t none;
	size_t i;
	int status;

	monitor_child = child;
	for (i = 0; i < sizeof(forward) / sizeof(forward[0]); i++)
		sigaction(forward[i], &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	/* Nothing of the instance's stays open here: its ends are its own. */
	sandbox_ahead_join(&in->ahead); /* it sent its namespaces to the instance */
	control_forget(in);
	cgroup_close_fds(&in->cgroup);
	closefrom(3);
	if (sandbox_drop_capabilities(&err) < 0 || sandbox_no_new_privs(&err) < 0)
		shoal_log_warn("monitor: %s", err.msg);
	/* From here the monitor only waits. */
	trim_program_text();

	while (waitpid(child, &status, 0) < 0) {
		if (errno != EINTR) {
			shoal_log_error("monitor: waitpid %d: %s", (int)child, strerror(errno));
			status = INSTANCE_EXIT_INTERNAL << 8;
			break;
		}
	}
	monitor_child = 0;
	cgroup_remove(&in->cgroup);

	if (WIFEXITED(status))
		_exit(WEXITSTATUS(status));
	/* End the same way, without a core file of the monitor. */
	setrlimit(RLIMIT_CORE, &no_core);
	signal(WTERMSIG(status), SIG_DFL);
	kill(getpid(), WTERMSIG(status));
	_exit(INSTANCE_EXIT_SIGNAL_BASE + WTERMSIG(status));
}

// SPDX-License-Identifier: GPL-2.0
/*
 * The zygote: the one process of an instance that keeps a privilege after
 * lock-down, so that jobs can get namespaces of their own while the instance
 * itself has none. start.c forks it right after the instance joined its
 * cgroup and before the instance makes its namespaces and gives up its root
 * and capabilities; from
 * then on it does only this, in this order:
 *
 *  1. it dies with the instance (PR_SET_PDEATHSIG, then a check that the
 *     parent did not die before the prctl);
 *  2. it drops what it inherited and must not keep: the instance's signal
 *     handlers (they would write `fatal` to the control socket), and every
 *     descriptor but its socket to the instance and stderr (for log lines);
 *     /dev/null is opened now for the jobs' host stdio;
 *  3. it opens the shim (next to shoal-instance, or $SHOAL_JOBSHIM), which
 *     every job process is started from by descriptor, and waits for the
 *     instance's go (it has made its own namespaces and root);
 *  4. it joins the instance's network namespace (empty; every job of the
 *     instance runs in it), makes mount, ipc and uts namespaces of its own
 *     and pivots into the jail's read-only root (jail_root.c): it sees no
 *     host path but those, and no host network;
 *  5. it keeps only CAP_SYS_ADMIN and CAP_SETPCAP, sets no_new_privs,
 *     loads its deny filter (sandbox.c: no mount, unshare, setns, ptrace,
 *     bpf, module, key or kexec call, no clone into a mount, user or cgroup
 *     namespace; every job inherits it) and the jobs' rlimits, and tells
 *     the instance it is ready;
 *  6. it serves: JAIL_SPAWN starts a job (jail_reaper.c), JAIL_SIGNAL and
 *     JAIL_KILL reach a running one, and each job's end is reported as
 *     JAIL_EXITED with the wait status of its first process.
 *
 * A failure in 3..5 is reported as JAIL_READY with an errno and the reason;
 * the instance then serves without jobs and says why to each exec.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "instance/instance.h"
#include "instance/job_abi.h"

#define ZYGOTE_SOCK 3
#define ZYGOTE_NULL 4
#define ZYGOTE_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* A running job: its reaper and the pipe its first process's status comes through. */
struct zygote_child {
	uint64_t job;
	pid_t pid; /* the reaper; 0: free entry */
	int status_fd;
	bool silent; /* the spawn failed: reap without a report */
};

static struct zygote_child zygote_children[PROTO_JOBS_MAX + 16];
static int zygote_shim_fd = -1;
static int zygote_shim_errno;
static char zygote_shim_path[PATH_MAX];
static rlim_t zygote_nofile;

static void zygote_send(struct jail_msg *m)
{
	while (send(ZYGOTE_SOCK, m, sizeof(*m), MSG_NOSIGNAL) < 0 && errno == EINTR)
		;
}

static void zygote_report(uint32_t op, uint64_t job, int err, const char *text)
{
	struct jail_msg m = { .op = op, .job = job, .err = err };

	snprintf(m.text, sizeof(m.text), "%.159s", text);
	zygote_send(&m);
}

static struct zygote_child *zygote_find(uint64_t job, pid_t pid)
{
	size_t i;

	for (i = 0; i < sizeof(zygote_children) / sizeof(zygote_children[0]); i++) {
		struct zygote_child *c = &zygote_children[i];

		if (c->pid && ((job && c->job == job && !c->silent) || (pid && c->pid == pid)))
			return c;
	}
	return NULL;
}

/* The shim: $SHOAL_JOBSHIM, or shoal-jobshim next to our own binary. */
static void zygote_open_shim(void)
{
	char self[PATH_MAX];
	const char *env = getenv("SHOAL_JOBSHIM");
	ssize_t n;

	if (env && *env) {
		snprintf(zygote_shim_path, sizeof(zygote_shim_path), "%s", env);
	} else {
		n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n < 0) {
			zygote_shim_errno = errno;
			snprintf(zygote_shim_path, sizeof(zygote_shim_path), "/proc/self/exe");
			return;
		}
		self[n] = 0;
		snprintf(zygote_shim_path, sizeof(zygote_shim_path), "%s/shoal-jobshim",
			 dirname(self));
	}
	zygote_shim_fd = open(zygote_shim_path, O_RDONLY | O_CLOEXEC);
	if (zygote_shim_fd < 0)
		zygote_shim_errno = errno;
}

/* Steps 1 and 2: no way to outlive the instance, nothing inherited kept. */
static void zygote_detach(int sock, pid_t instance)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t none;
	int sig, null_fd;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != instance)
		_exit(0);
	prctl(PR_SET_NAME, "shoal-zygote");
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &dfl, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (sock != ZYGOTE_SOCK && dup3(sock, ZYGOTE_SOCK, O_CLOEXEC) < 0)
		_exit(1);
	if (null_fd < 0 || (null_fd != ZYGOTE_NULL && dup3(null_fd, ZYGOTE_NULL, O_CLOEXEC) < 0))
		_exit(1);
	dup2(ZYGOTE_NULL, 0);
	dup2(ZYGOTE_NULL, 1);
	/* The control socket, packet socket, disk images, cgroup files: all of them go. */
	syscall(SYS_close_range, ZYGOTE_NULL + 1, ~0U, 0);
}

/*
 * Wait for the instance's JAIL_GO. Making namespaces and mounts takes host
 * locks (the mount table's, the network namespace list's) that the instance
 * takes too while it makes its own; done at the same time, each waits for
 * the other on the way to ready. After GO, the jail is built while the
 * instance's kernel boots, which takes longer.
 */
static int zygote_wait_go(int *netns_fd, struct shoal_error *err)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct jail_msg m;
	struct iovec iov = { .iov_base = &m, .iov_len = sizeof(m) };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf)
	};
	struct cmsghdr *cm;
	ssize_t n;

	*netns_fd = -1;
	do
		n = recvmsg(ZYGOTE_SOCK, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	cm = n > 0 ? CMSG_FIRSTHDR(&mh) : NULL;
	if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
	    cm->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(netns_fd, CMSG_DATA(cm), sizeof(int));
	if (n != (ssize_t)sizeof(m) || m.op != JAIL_GO)
		return shoal_error_set(err, n < 0 ? errno : EPROTO,
				       "zygote: no go from the instance");
	return 0;
}

/*
 * The jobs' network namespace: the instance's own, which it passed with GO.
 * It is empty (loopback only) and nothing in it listens or is bound: the
 * instance's packet socket belongs to the namespace it was opened in, its
 * other sockets are socketpairs, and its kernel serves every socket a job
 * makes. A namespace of the jobs' own would add nothing to that but its
 * cost: ~0.5 ms of the host's CPU to make, on the other CPU while the
 * instance's kernel boots (the boot took ~0.3 ms longer for it), and as much
 * again to take down. Unconfined (development), the instance's is the
 * host's: then the zygote makes one.
 */
static int zygote_network(int netns_fd, struct shoal_error *err)
{
	int r = 0;

	if (netns_fd < 0) {
		if (unshare(CLONE_NEWNET) < 0)
			r = shoal_error_set(err, errno, "zygote: unshare the network namespace");
		return r;
	}
	if (setns(netns_fd, CLONE_NEWNET) < 0)
		r = shoal_error_set(err, errno, "zygote: join the instance's network namespace");
	close(netns_fd);
	return r;
}

/* Steps 3 to 5. */
static int zygote_lock_down(const struct proto_configure *cfg, struct shoal_error *err)
{
	struct rlimit core = { 0, 0 };
	int netns_fd, r;

	zygote_open_shim();
	r = zygote_wait_go(&netns_fd, err);
	if (r < 0) {
		if (netns_fd >= 0)
			close(netns_fd);
		return r;
	}
	/*
	 * Forked before the instance entered its namespaces: the mount table
	 * is the one the instance came from (the instance's empty root is in
	 * another and cannot move ours), and the network is the host's. Ours
	 * are made here, on the other CPU while the instance's kernel boots;
	 * the network namespace is the instance's (zygote_network). Every job
	 * of the instance runs in it rather than in one made per job, which
	 * cost every exec ~0.4 ms.
	 */
	r = zygote_network(netns_fd, err);
	if (r < 0)
		return r;
	if (unshare(CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS) < 0)
		return shoal_error_set(err, errno,
				       "zygote: unshare mount, ipc and uts namespaces");
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return shoal_error_set(err, errno, "zygote: make every mount private");
	if (sethostname(cfg->hostname, strlen(cfg->hostname)) < 0)
		return shoal_error_set(err, errno, "zygote: sethostname %s", cfg->hostname);
	r = jail_root_build(err);
	if (r < 0)
		return r;
	r = sandbox_zygote_capabilities(err);
	if (!r)
		r = sandbox_no_new_privs(err);
	if (!r)
		r = sandbox_zygote_filter_load(err);
	if (r < 0)
		return r;
	zygote_nofile = cfg->limits.max_open_files;
	if (setrlimit(RLIMIT_CORE, &core) < 0)
		return shoal_error_set(err, errno, "zygote: RLIMIT_CORE");
	return 0;
}

/* argv[0] as execvp would find it, but in the jail's read-only directories only. */
static int zygote_resolve(const char *name, char *const *env, size_t envc, char *out, size_t size,
			  char *why, size_t whysize)
{
	const char *path = ZYGOTE_DEFAULT_PATH, *p, *end;
	struct stat st;
	size_t i;

	if (strchr(name, '/')) {
		if (name[0] != '/') {
			snprintf(why, whysize, "argv[0] '%.64s': a relative path is not supported",
				 name);
			return -ENOENT;
		}
		if (stat(name, &st) < 0 || !S_ISREG(st.st_mode)) {
			snprintf(why, whysize, "argv[0] '%.100s': no such program", name);
			return -ENOENT;
		}
		if (access(name, X_OK) < 0) {
			snprintf(why, whysize, "argv[0] '%.100s': not executable", name);
			return -EACCES;
		}
		snprintf(out, size, "%s", name);
		return 0;
	}
	for (i = 0; i < envc; i++)
		if (!strncmp(env[i], "PATH=", 5))
			path = env[i] + 5;
	for (p = path; *p; p = *end ? end + 1 : end) {
		int n;

		end = strchr(p, ':');
		if (!end)
			end = p + strlen(p);
		if (end == p || *p != '/')
			continue;
		n = snprintf(out, size, "%.*s/%s", (int)(end - p), p, name);
		if (n < 0 || (size_t)n >= size)
			continue;
		if (stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, X_OK) == 0)
			return 0;
	}
	snprintf(why, whysize, "argv[0] '%.64s': not found in PATH", name);
	return -ENOENT;
}

/* Split the strings after the record: argc + envc NUL-terminated strings, exactly. */
static int zygote_strings(char *blob, size_t len, char **out, size_t count)
{
	size_t i, off = 0;

	for (i = 0; i < count; i++) {
		char *nul = memchr(blob + off, 0, len - off);

		if (off >= len || !nul)
			return -EINVAL;
		out[i] = blob + off;
		off = (size_t)(nul - blob) + 1;
	}
	return off == len ? 0 : -EINVAL;
}

static void zygote_spawn(struct jail_msg *m, char *blob, size_t len, int *fds, size_t nfds)
{
	static char *argv[PROTO_ARGV_MAX + 4], *envp[PROTO_ENV_MAX + 1];
	static char *strs[PROTO_ARGV_MAX + PROTO_ENV_MAX];
	char path[PATH_MAX], state[128], why[160];
	struct jail_spawn_args a;
	struct zygote_child *slot = NULL;
	int exec_pipe[2], status_pipe[2], e = 0;
	size_t i;
	ssize_t n;
	pid_t pid;

	if (nfds != 2 || m->argc < 1 || m->argc > PROTO_ARGV_MAX || m->envc > PROTO_ENV_MAX ||
	    zygote_strings(blob, len, strs, m->argc + m->envc) < 0) {
		zygote_report(JAIL_SPAWN_FAILED, m->job, EINVAL, "jail: malformed spawn request");
		return;
	}
	for (i = 0; i < sizeof(zygote_children) / sizeof(zygote_children[0]); i++)
		if (!zygote_children[i].pid)
			slot = &zygote_children[i];
	if (!slot) {
		zygote_report(JAIL_SPAWN_FAILED, m->job, EAGAIN, "jail: too many jobs");
		return;
	}
	/* A program that lives in the instance was checked there; the shim
	 * loads it through the instance kernel. */
	if (m->in_instance)
		snprintf(path, sizeof(path), "%s", strs[0]);
	else
		e = -zygote_resolve(strs[0], strs + m->argc, m->envc, path, sizeof(path), why,
				    sizeof(why));
	if (e) {
		zygote_report(JAIL_SPAWN_FAILED, m->job, e, why);
		return;
	}
	if (zygote_shim_fd < 0) {
		snprintf(why, sizeof(why), "jail: no job shim at %.100s: %s", zygote_shim_path,
			 strerror(zygote_shim_errno));
		zygote_report(JAIL_SPAWN_FAILED, m->job, EOPNOTSUPP, why);
		return;
	}
	/* job_abi.h: "shoal-jobshim", its state, the program's path, the program's argv. */
	snprintf(state, sizeof(state), "link=%d,region=%d,self=%d,slot=0,filtered=0", JAIL_FD_LINK,
		 JAIL_FD_REGION, JAIL_FD_SHIM);
	argv[0] = (char *)SHOAL_SHIM_ARGV0;
	argv[1] = state;
	argv[2] = path;
	for (i = 0; i < m->argc; i++)
		argv[3 + i] = strs[i];
	argv[3 + m->argc] = NULL;
	for (i = 0; i < m->envc; i++)
		envp[i] = strs[m->argc + i];
	envp[m->envc] = NULL;

	if (pipe2(exec_pipe, O_CLOEXEC) < 0) {
		zygote_report(JAIL_SPAWN_FAILED, m->job, errno, "jail: pipe");
		return;
	}
	if (pipe2(status_pipe, O_CLOEXEC) < 0) {
		e = errno;
		close(exec_pipe[0]);
		close(exec_pipe[1]);
		zygote_report(JAIL_SPAWN_FAILED, m->job, e, "jail: pipe");
		return;
	}
	a = (struct jail_spawn_args){
		.shim_fd = zygote_shim_fd,
		.link_fd = fds[0],
		.region_fd = fds[1],
		.null_fd = ZYGOTE_NULL,
		.exec_fd = exec_pipe[1],
		.status_fd = status_pipe[1],
		.path = path,
		.argv = argv,
		.envp = envp,
		.max_open_files = zygote_nofile,
	};
	/*
	 * The reaper: pid 1 of a fresh pid namespace (so that its end ends
	 * every process of the job), with IPC and host name of its own. Its
	 * network namespace is the zygote's, empty (a job's sockets are the
	 * instance kernel's, never the host's): see zygote_lock_down().
	 */
	pid = (pid_t)syscall(SYS_clone, CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | SIGCHLD, 0, 0, 0,
			     0);
	if (pid == 0) {
		/* The reaper must not be able to talk to the instance as the zygote. */
		close(ZYGOTE_SOCK);
		close(exec_pipe[0]);
		close(status_pipe[0]);
		jail_reaper_run(&a);
	}
	e = errno;
	close(exec_pipe[1]);
	close(status_pipe[1]);
	if (pid < 0) {
		close(exec_pipe[0]);
		close(status_pipe[0]);
		zygote_report(JAIL_SPAWN_FAILED, m->job, e, "jail: clone the job's reaper");
		return;
	}
	/* The first process writes an errno here if it could not become the shim. */
	do
		n = read(exec_pipe[0], &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(exec_pipe[0]);
	slot->job = m->job;
	slot->pid = pid;
	slot->status_fd = status_pipe[0];
	slot->silent = n == (ssize_t)sizeof(e);
	if (slot->silent) {
		snprintf(why, sizeof(why), "jail: start the shim for '%.64s'", strs[0]);
		zygote_report(JAIL_SPAWN_FAILED, m->job, e, why);
		return;
	}
	m->op = JAIL_SPAWNED;
	m->pid = pid;
	m->err = 0;
	zygote_send(m);
}

/* Every reaper that ended: JAIL_EXITED with its first process's status. */
static void zygote_reap(void)
{
	int st, pst;
	pid_t pid;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		struct zygote_child *c = zygote_find(0, pid);
		struct jail_msg m = { .op = JAIL_EXITED };

		if (!c)
			continue;
		/* A reaper killed by us (timeout, stop) never wrote: its own status says it. */
		if (read(c->status_fd, &pst, sizeof(pst)) == (ssize_t)sizeof(pst))
			st = pst;
		close(c->status_fd);
		m.job = c->job;
		m.pid = pid;
		m.status = st;
		if (!c->silent)
			zygote_send(&m);
		memset(c, 0, sizeof(*c));
	}
}

static void zygote_request(void)
{
	static char buf[JAIL_MSG_MAX];
	char cbuf[CMSG_SPACE(sizeof(int) * 4)];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	struct msghdr mh = { .msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	struct jail_msg m;
	struct zygote_child *c;
	int fds[4];
	size_t nfds = 0, i;
	ssize_t n;

	n = recvmsg(ZYGOTE_SOCK, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* The instance is gone: so are its jobs. */
		for (i = 0; i < sizeof(zygote_children) / sizeof(zygote_children[0]); i++)
			if (zygote_children[i].pid)
				kill(zygote_children[i].pid, SIGKILL);
		_exit(0);
	}
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
			size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			for (i = 0; i < k && nfds < 4; i++)
				memcpy(&fds[nfds++], CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
		}
	if ((size_t)n >= sizeof(m) && !(mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		memcpy(&m, buf, sizeof(m));
		switch (m.op) {
		case JAIL_SPAWN:
			zygote_spawn(&m, buf + sizeof(m), (size_t)n - sizeof(m), fds, nfds);
			break;
		case JAIL_SIGNAL:
			c = zygote_find(m.job, 0);
			/* The reaper forwards it to the first process (jail_reaper.c). */
			if (c && m.sig > 0 && m.sig < 256)
				sigqueue(
					c->pid, SIGRTMIN,
					(union sigval){ .sival_int = m.sig | (m.group ? 256 : 0) });
			break;
		case JAIL_KILL:
			c = zygote_find(m.job, 0);
			if (c)
				kill(c->pid, SIGKILL);
			break;
		default:
			break;
		}
	}
	for (i = 0; i < nfds; i++)
		close(fds[i]);
}

void jail_zygote_run(int sock, pid_t instance, const struct proto_configure *cfg)
{
	struct shoal_error err = { 0 };
	struct jail_msg ready = { .op = JAIL_READY };
	sigset_t chld;
	int sfd;

	zygote_detach(sock, instance);
	if (zygote_lock_down(cfg, &err) < 0) {
		ready.err = err.err;
		snprintf(ready.text, sizeof(ready.text), "%.159s", err.msg);
		zygote_send(&ready);
		_exit(1);
	}
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		ready.err = errno;
		snprintf(ready.text, sizeof(ready.text), "zygote: signalfd");
		zygote_send(&ready);
		_exit(1);
	}
	zygote_send(&ready);
	/* Built: from here the zygote only forks jobs and reaps them. */
	trim_program_text();
	for (;;) {
		struct pollfd pfd[2] = { { .fd = ZYGOTE_SOCK, .events = POLLIN },
					 { .fd = sfd, .events = POLLIN } };
		struct signalfd_siginfo si;

		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			_exit(1);
		if (pfd[1].revents & POLLIN) {
			while (read(sfd, &si, sizeof(si)) > 0)
				;
			zygote_reap();
		}
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))
			zygote_request();
	}
}

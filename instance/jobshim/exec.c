// SPDX-License-Identifier: GPL-2.0
/*
 * exec.c: the calls after which the shim would be gone or duplicated.
 *
 * fork: the instance first makes the child's kernel task (a copy of the
 * caller's fd table and cwd) and slot, and hands over the child's link;
 * then the host forks. The host fork never shares memory (CLONE_VM and
 * CLONE_VFORK are dropped: a vfork becomes a fork), and gets no new stack
 * from the kernel, so both processes return through this handler and
 * rt_sigreturn; the child then takes the stack the program asked for. The
 * cost of this: posix_spawn cannot report an exec failure through memory
 * it believes shared (the child exits 127 instead).
 *
 * execve: the kernel's execve would drop the shim, so the shim re-executes
 * itself (the seccomp filter stays, being inherited) with the program's
 * path and arguments; the new shim loads the program (loader.c). What the
 * kernel would check first (the file exists, is executable, has a known
 * format) is checked here, so that execve fails in the caller as it should
 * rather than after the point of no return.
 */
#include "instance/jobshim/exec.h"

#include "instance/jobshim/fdtable.h"
#include "instance/jobshim/forward.h"
#include "instance/jobshim/handler.h"
#include "instance/jobshim/lib.h"
#include "instance/jobshim/link.h"
#include "instance/jobshim/loader.h"
#include "instance/jobshim/patch.h"
#include "instance/jobshim/route.h"
#include "instance/jobshim/shim.h"
#include "instance/jobshim/slot.h"
#include "instance/jobshim/state.h"
#include "instance/jobshim/thread.h"

#include "instance/job_abi.h"

#define EXEC_CLONE_NEW_MASK 0x7e020000UL
#define EXEC_CLONE_PIDFD 0x1000UL
#define EXEC_PATH_MAX 4096

/* The child side of a forwarding fork: its own link and slot. */
static void fork_child(unsigned int slot, int child_link)
{
	struct shoal_link_msg m = { 0 };

	shim_lock_reset(&shim_g.link_lock);
	fdtable_after_fork();
	shim_close(shim_g.link_fd);
	shim_g.link_fd = child_link;
	shim_g.slot = slot;
	shim_g.traps = 0;
	thread_reset(slot);
	/* "I am this host pid, on this slot": the instance learns the pid
	 * the job sees for its new kernel task. */
	m.op = SHOAL_LINK_HELLO;
	m.slot = slot;
	link_send(&m);
}

long exec_fork(long nr, const long *a, struct shim_ucontext *uc)
{
	unsigned long flags = SHIM_SIGCHLD, stack = 0;
	long ptid = 0, ctid = 0, tls = 0, pid, r;
	struct shoal_link_msg m = { 0 };
	struct shoal_link_reply rep = { 0 };
	int child_link = -1;

	if (nr == __NR_clone) {
		flags = (unsigned long)a[0];
		stack = (unsigned long)a[1];
		ptid = a[2];
		ctid = a[3];
		tls = a[4];
	}
	if (flags & EXEC_CLONE_NEW_MASK)
		return -EPERM;
	if (flags & CLONE_THREAD)
		return -EINVAL; /* a thread clone the filter did not pass */
	if ((flags & EXEC_CLONE_PIDFD) && !shim_g.passthrough)
		return -EINVAL; /* a host pidfd would need a placeholder */
	/* A copy, never shared: the kernel task's fd table and cwd are
	 * copied by the instance, the host's must be too. */
	flags &= ~(unsigned long)(CLONE_VM | CLONE_VFORK | CLONE_SIGHAND | CLONE_FILES | CLONE_FS |
				  CLONE_PTRACE);

	if (!shim_g.passthrough) {
		unsigned int own;

		/* The child's task is a copy of the caller's: the caller's
		 * own slot (registered now if this is its first call). */
		if (!thread_slot(&own, NULL))
			return -EAGAIN;
		m.op = SHOAL_LINK_FORK;
		m.slot = own;
		r = link_call(&m, &rep, &child_link);
		if (r)
			return -EAGAIN;
		if (rep.err)
			return rep.err;
		if (child_link < 0 || rep.slot >= SHOAL_SLOTS_MAX)
			return -EAGAIN;
	}
	pid = sys6(__NR_clone, (long)flags, 0, ptid, ctid, tls, 0);
	if (pid < 0) {
		if (!shim_g.passthrough) {
			m.op = SHOAL_LINK_FORK_FAILED;
			m.arg = rep.slot;
			link_send(&m);
			shim_close(child_link);
		}
		return pid;
	}
	if (pid == 0) {
		patch_after_fork();
		shim_g.fast = 0;
		if (!shim_g.passthrough)
			fork_child(rep.slot, child_link);
		else
			shim_g.traps = 0;
		if (stack)
			uc->mc.sp = stack;
		return 0;
	}
	if (!shim_g.passthrough)
		shim_close(child_link);
	return pid;
}

/*
 * The path the new shim should load for execveat(@dirfd, @path, @flags),
 * into @buf. Relative to a directory fd, only host directories work (their
 * /proc/self/fd path is valid after the execve only when that fd survives,
 * like fexecve needs it to anyway).
 */
static long exec_path(long nr, const long *a, char *buf)
{
	const char *path = (const char *)(nr == __NR_execve ? a[0] : a[1]);
	int dirfd = nr == __NR_execve ? AT_FDCWD : (int)a[0];
	int flags = nr == __NR_execve ? 0 : (int)a[4];
	size_t len, n;
	int host;

	if (!path)
		return -EFAULT;
	len = shim_strlen(path);
	if (len >= EXEC_PATH_MAX)
		return -ENAMETOOLONG;
	if (dirfd == AT_FDCWD || path[0] == '/') {
		if (!len)
			return -ENOENT;
		/* /proc/self/exe would be the shim (or, in the instance, not
		 * the program at all): programs that re-execute themselves
		 * (busybox applets) mean the program. */
		if (!shim_strcmp(path, "/proc/self/exe") && shim_g.exe[0])
			path = shim_g.exe;
		len = shim_strlen(path);
		shim_memcpy(buf, path, len + 1);
		return 0;
	}
	if (!len && !(flags & AT_EMPTY_PATH))
		return -ENOENT;
	host = shim_g.passthrough ? dirfd : fdtable_get(dirfd);
	if (host < 0)
		return -ENOEXEC; /* a directory of the instance: not supported */
	shim_memcpy(buf, "/proc/self/fd/", 14);
	n = 14 + shim_format_ulong(buf + 14, (unsigned long)host);
	if (len) {
		if (n + 1 + len >= EXEC_PATH_MAX)
			return -ENAMETOOLONG;
		buf[n++] = '/';
		shim_memcpy(buf + n, path, len);
		n += len;
	}
	buf[n] = 0;
	return 0;
}

static unsigned long count_args(char *const *v)
{
	unsigned long n = 0;

	while (v && v[n])
		n++;
	return n;
}

static void set_cloexec(int fd, int on)
{
	shim_fcntl(fd, SHIM_F_SETFD, on ? SHIM_FD_CLOEXEC : 0);
}

long exec_execve(long nr, const long *a, struct shim_ucontext *uc)
{
	char *const *argv = (char *const *)(nr == __NR_execve ? a[1] : a[2]);
	char *const *envp = (char *const *)(nr == __NR_execve ? a[2] : a[3]);
	unsigned long argc = count_args(argv), size, i;
	struct shim_state *st;
	unsigned int ndrop = 0;
	int *drop;
	char *path, *state;
	const char **nargv;
	long r, scratch, self;
	uint64_t mask;

	/* Scratch for the new argv, the state, the path and the host fds to
	 * drop (not the stack: the handler may run on a small signal stack);
	 * the process is replaced on success, it is unmapped on failure. */
	size = (argc + 4) * sizeof(char *) + sizeof(*st) + 8192 + EXEC_PATH_MAX +
	       FDTABLE_MAX * sizeof(int);
	size = (size + SHIM_PAGE - 1) & ~(SHIM_PAGE - 1);
	scratch = shim_mmap(0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (scratch < 0)
		return scratch;
	nargv = (const char **)scratch;
	st = (struct shim_state *)(scratch + (argc + 4) * sizeof(char *));
	state = (char *)(st + 1);
	path = state + 8192;
	drop = (int *)(path + EXEC_PATH_MAX);

	r = exec_path(nr, a, path);
	if (!r)
		r = loader_check(path);
	if (r)
		goto out;

	shim_memset(st, 0, sizeof(*st));
	st->filtered = 1;
	if (shim_g.passthrough) {
		st->passthrough = 1;
		self = shim_openat(AT_FDCWD, "/proc/self/exe", O_RDONLY | O_CLOEXEC, 0);
		if (self < 0) {
			r = self;
			goto out;
		}
	} else {
		struct shoal_link_msg m = { 0 };
		struct shoal_link_reply rep;
		unsigned int own;

		/* The instance runs the exec step on the caller's own slot,
		 * which the new image keeps. */
		if (!thread_slot(&own, NULL)) {
			r = -EAGAIN;
			goto out;
		}
		st->link = shim_g.link_fd;
		st->region = shim_g.region_fd;
		st->self = shim_g.self_fd;
		st->slot = own;
		r = fdtable_for_exec(st, drop, &ndrop);
		if (r)
			goto out;
		/* Past this point the kernel task has closed its close-on-exec
		 * fds: a failing host execve below cannot be undone there. */
		m.op = SHOAL_LINK_EXEC;
		m.slot = st->slot;
		r = link_call(&m, &rep, NULL);
		if (!r)
			r = rep.err;
		if (r)
			goto out;
		for (i = 0; i < ndrop; i++)
			shim_close(drop[i]);
		for (i = 0; i < st->nhostfds; i++)
			set_cloexec(st->hostfds[i].hostfd, 0);
		set_cloexec(shim_g.link_fd, 0);
		set_cloexec(shim_g.region_fd, 0);
		set_cloexec(shim_g.self_fd, 0);
		self = shim_g.self_fd;
	}
	r = state_format(st, state, 8192);
	if (r < 0)
		goto out;
	nargv[0] = SHOAL_SHIM_ARGV0;
	nargv[1] = state;
	nargv[2] = path;
	for (i = 0; i < argc; i++)
		nargv[3 + i] = argv[i];
	nargv[3 + argc] = NULL;

	/* The new image inherits the signal mask: give it the program's. */
	mask = uc->uc_sigmask & ~SHIM_SIGBIT(SHIM_SIGSYS);
	shim_sigprocmask(SHIM_SIG_SETMASK, &mask, NULL);
	r = sys6(__NR_execveat, self, (long)"", (long)nargv, (long)envp, AT_EMPTY_PATH, 0);
	shim_sigprocmask(SHIM_SIG_SETMASK, &handler_mask, NULL);
	if (shim_g.passthrough) {
		shim_close((int)self);
	} else {
		for (i = 0; i < st->nhostfds; i++)
			set_cloexec(st->hostfds[i].hostfd, 1);
	}
out:
	shim_munmap((unsigned long)scratch, size);
	return r;
}

/* Append " @label @v" to @buf at *@n. */
static void debug_append(char *buf, size_t *n, const char *label, unsigned long v)
{
	size_t len = shim_strlen(label);

	buf[(*n)++] = ' ';
	shim_memcpy(buf + *n, label, len);
	*n += len;
	buf[(*n)++] = ' ';
	*n += shim_format_ulong(buf + *n, v);
}

static void debug_report(void)
{
	char buf[192];
	size_t n = 0;

	if (!shim_g.debug)
		return;
	shim_memcpy(buf, "shoal-jobshim:", 14);
	n = 14;
	debug_append(buf, &n, "pid", (unsigned long)shim_getpid());
	debug_append(buf, &n, "traps", shim_g.traps);
	debug_append(buf, &n, "fast", shim_g.fast);
	debug_append(buf, &n, "patched", patch_count());
	debug_append(buf, &n, "forwarded", shim_g.forwarded);
	debug_append(buf, &n, "slept", shim_g.slept);
	debug_append(buf, &n, "placeholders", fdtable_count());
	buf[n++] = '\n';
	/* Host fd 2: in passthrough it is the program's stderr; when
	 * forwarding, whatever the jail left there. */
	shim_write(2, buf, n);
}

void exec_exit_thread(int status)
{
	if (!shim_g.passthrough)
		thread_exit();
	for (;;)
		sys1(__NR_exit, status);
}

void exec_exit_group(int status)
{
	debug_report();
	shim_exit_group(status);
}

/* Where a path of an execve or of the start-up leads, for the loader. */
static int path_is_host(const char *path, char *norm)
{
	if (shim_g.passthrough)
		return 1;
	if (path[0] != '/' || route_normalise(path, norm, EXEC_PATH_MAX) < 0)
		return 0;
	return route_path(norm) == ROUTE_HOST;
}

long loader_read_head(const char *path, char *buf, size_t len, int *host)
{
	char norm[EXEC_PATH_MAX];
	long fd, r;

	*host = path_is_host(path, norm);
	if (!*host)
		return forward_read_head(path, buf, len);
	fd = shim_openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return fd;
	r = shim_pread((int)fd, buf, len, 0);
	shim_close((int)fd);
	return r;
}

long loader_open(const char *path, struct loader_file *f)
{
	char norm[EXEC_PATH_MAX];
	long fd;

	f->kernel = !path_is_host(path, norm);
	if (f->kernel)
		fd = forward_open_read(path);
	else
		fd = shim_openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
	if (fd < 0)
		return fd;
	f->fd = (int)fd;
	return 0;
}

long loader_pread(const struct loader_file *f, void *buf, size_t len, long off)
{
	size_t done = 0;
	long r;

	if (!f->kernel)
		return shim_pread(f->fd, buf, len, off);
	/* Forwarded reads come at most one slot at a time. */
	while (done < len) {
		r = forward_pread(f->fd, (char *)buf + done, len - done, off + (long)done);
		if (r < 0)
			return r;
		if (r == 0)
			break;
		done += (size_t)r;
	}
	return (long)done;
}

long loader_map(const struct loader_file *f, unsigned long addr, size_t len, int prot, int flags,
		long off)
{
	if (f->kernel)
		return forward_map_copy(addr, len, prot, flags, f->fd, off);
	return shim_mmap(addr, len, prot, flags, f->fd, off);
}

void loader_close(const struct loader_file *f)
{
	if (f->kernel)
		forward_close(f->fd);
	else
		shim_close(f->fd);
}

long loader_check(const char *path)
{
	char head[4], norm[EXEC_PATH_MAX];
	int host;
	long r;

	if (path_is_host(path, norm)) {
		struct {
			uint8_t pad[24];
			uint32_t mode;
			uint8_t rest[120];
		} st;

		r = sys4(__NR_faccessat, AT_FDCWD, (long)path, 1 /* X_OK */, 0);
		if (r)
			return r;
		r = sys2(__NR_stat, (long)path, (long)&st);
		if (r)
			return r;
		if ((st.mode & 0170000) != 0100000)
			return -EACCES;
	} else {
		/* X_OK says nothing of directories: a read of one fails. */
		r = forward_access(path, 1 /* X_OK */);
		if (r)
			return r;
	}
	r = loader_read_head(path, head, sizeof(head), &host);
	if (r == -EISDIR)
		return -EACCES;
	if (r < 0)
		return r;
	if (r >= 2 && head[0] == '#' && head[1] == '!')
		return 0;
	if (r == 4 && !shim_memcmp(head, "\177ELF", 4))
		return 0;
	return -ENOEXEC;
}

int exec_readlink_exe(long nr, const long *a, long *ret)
{
	const char *path = (const char *)(nr == __NR_readlink ? a[0] : a[1]);
	char *buf = (char *)(nr == __NR_readlink ? a[1] : a[2]);
	long size = nr == __NR_readlink ? a[2] : a[3];
	size_t n;

	if (!shim_g.exe[0] || !path || slot_bad_user(path, 15) ||
	    shim_strcmp(path, "/proc/self/exe"))
		return 0;
	if (size <= 0) {
		*ret = -EINVAL;
		return 1;
	}
	n = shim_strlen(shim_g.exe);
	if (n > (size_t)size)
		n = (size_t)size;
	if (slot_bad_user(buf, n)) {
		*ret = -EFAULT;
		return 1;
	}
	shim_memcpy(buf, shim_g.exe, n); /* readlink writes no NUL */
	*ret = (long)n;
	return 1;
}

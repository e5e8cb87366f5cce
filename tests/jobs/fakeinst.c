// SPDX-License-Identifier: GPL-2.0
/*
 * fakeinst: a stand-in for the instance side of instance/job_abi.h, so that
 * the shim's forwarding mode can be tested without a library kernel: the
 * "kernel" is the host, and each "kernel task" is a process of this
 * program. It speaks the real protocol: a region memfd with its header, one
 * serving thread per slot (futex protocol of job_abi.h), a SOCK_SEQPACKET
 * link per job process answering THREAD, FORK (the task process forks: a
 * copy of its fd table and cwd, as the kernel task's is copied; the new
 * link goes back by SCM_RIGHTS), EXEC (close-on-exec fds closed) and
 * ignoring HELLO, THREAD_EXIT, FORK_FAILED. Calls run with plain
 * syscall(2), so pointers the shim forgot to translate fail with EFAULT:
 * the region is mapped at a different address here than in the job.
 *
 * Usage: fakeinst SHIM PROGRAM ARGV0 [ARG...]
 * Its stdin/stdout/stderr are the job's kernel fds 0, 1, 2; the job's own
 * host fds 0 and 1 are /dev/null (output that was not forwarded is lost).
 * Exits with the job's status (128 + signal if it was killed).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "instance/job_abi.h"

#define LINK_FD 1001 /* a task process's link: hidden from the job's calls */
#define JOB_LINK 100 /* the job's host fds */
#define JOB_REGION 101
#define JOB_SELF 102

static char *region;

/* The next free slot, in the region's header page (a fake-only field). */
static _Atomic uint32_t *next_slot(void)
{
	return (_Atomic uint32_t *)(region + 2048);
}

static struct shoal_slot *slot_at(uint32_t i)
{
	return (struct shoal_slot *)(region + SHOAL_SLOT_OFFSET(i));
}

static void die(const char *what)
{
	fprintf(stderr, "fakeinst: %s: %s\n", what, strerror(errno));
	_exit(99);
}

/* Calls on the task's fd table, except on the link. */
static long run_call(long nr, const int64_t *a)
{
	long r;

	if ((nr == SYS_close && a[0] == LINK_FD) ||
	    ((nr == SYS_dup2 || nr == SYS_dup3) && a[1] == LINK_FD))
		return -EBADF;
	if (nr == SYS_close_range && (uint64_t)a[0] <= LINK_FD && (uint64_t)a[1] >= LINK_FD) {
		if (a[0] < LINK_FD && syscall(SYS_close_range, a[0], LINK_FD - 1, a[2]) < 0)
			return -errno;
		if ((uint64_t)a[1] > LINK_FD &&
		    syscall(SYS_close_range, LINK_FD + 1, a[1], a[2]) < 0)
			return -errno;
		return 0;
	}
	r = syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	return r < 0 ? -errno : r;
}

static void *serve_cb(void *arg)
{
	struct shoal_slot *s = slot_at((uint32_t)(uintptr_t)arg);
	_Atomic uint32_t *state = (_Atomic uint32_t *)&s->state;
	_Atomic uint32_t *srv = (_Atomic uint32_t *)&s->server_waiting;
	_Atomic uint32_t *cli = (_Atomic uint32_t *)&s->client_waiting;

	for (;;) {
		uint32_t st = atomic_load(state);
		int i;

		for (i = 0; i < 2000 && st != SHOAL_SLOT_REQUEST; i++) {
			__builtin_ia32_pause();
			st = atomic_load(state);
		}
		if (st != SHOAL_SLOT_REQUEST) {
			atomic_store(srv, 1);
			st = atomic_load(state);
			if (st != SHOAL_SLOT_REQUEST)
				syscall(SYS_futex, state, FUTEX_WAIT, st, NULL, NULL, 0);
			atomic_store(srv, 0);
			continue;
		}
		s->ret = run_call(s->nr, s->args);
		atomic_store(state, SHOAL_SLOT_DONE);
		if (atomic_load(cli))
			syscall(SYS_futex, state, FUTEX_WAKE, 1, NULL, NULL, 0);
	}
	return NULL;
}

static void start_server(uint32_t slot)
{
	pthread_t t;

	/* No memset here: in a forked task the job's child may already have
	 * posted its first call. Slots are cleared when they are handed out. */
	if (pthread_create(&t, NULL, serve_cb, (void *)(uintptr_t)slot))
		die("pthread_create");
	pthread_detach(t);
}

static void reply(int fd, int32_t err, uint32_t slot, int pass_fd)
{
	struct shoal_link_reply rep = { err, slot, getpid() };
	struct iovec iov = { &rep, sizeof(rep) };
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct msghdr mh = { 0 };

	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (pass_fd >= 0) {
		struct cmsghdr *cm;

		memset(cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &pass_fd, sizeof(int));
	}
	if (sendmsg(fd, &mh, MSG_NOSIGNAL) < 0)
		_exit(0);
}

/* EXEC: what execve does to the task's fd table. */
static void close_cloexec(void)
{
	int fds[1024], n = 0, i;
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)) && n < 1024) {
		int fd = atoi(e->d_name);

		if (e->d_name[0] != '.' && fd != dirfd(d) && fd != LINK_FD)
			fds[n++] = fd;
	}
	closedir(d);
	for (i = 0; i < n; i++) {
		int fl = fcntl(fds[i], F_GETFD);

		if (fl >= 0 && (fl & FD_CLOEXEC))
			close(fds[i]);
	}
}

/* A task process: its link loop; the slot servers are its threads. */
static __attribute__((noreturn)) void task_loop(void)
{
	for (;;) {
		struct shoal_link_msg m;
		ssize_t n = recv(LINK_FD, &m, sizeof(m), 0);
		uint32_t slot;
		int sp[2];
		pid_t pid;

		if (n == 0 || (n < 0 && errno != EINTR))
			_exit(0); /* the job process is gone */
		if (n != sizeof(m))
			continue;
		switch (m.op) {
		case SHOAL_LINK_THREAD:
			slot = atomic_fetch_add(next_slot(), 1);
			if (slot >= SHOAL_SLOTS_MAX) {
				reply(LINK_FD, -EAGAIN, 0, -1);
				break;
			}
			memset(slot_at(slot), 0, sizeof(struct shoal_slot));
			start_server(slot);
			reply(LINK_FD, 0, slot, -1);
			break;
		case SHOAL_LINK_FORK:
			slot = atomic_fetch_add(next_slot(), 1);
			if (slot >= SHOAL_SLOTS_MAX ||
			    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp)) {
				reply(LINK_FD, -EAGAIN, 0, -1);
				break;
			}
			memset(slot_at(slot), 0, sizeof(struct shoal_slot));
			pid = fork();
			if (pid < 0) {
				reply(LINK_FD, -EAGAIN, 0, -1);
				close(sp[0]);
				close(sp[1]);
				break;
			}
			if (pid == 0) {
				/* The child task: the same fd table, its own
				 * link, one server thread. */
				close(sp[1]);
				if (dup3(sp[0], LINK_FD, O_CLOEXEC) < 0)
					die("dup3");
				close(sp[0]);
				start_server(slot);
				continue;
			}
			close(sp[0]);
			reply(LINK_FD, 0, slot, sp[1]);
			close(sp[1]);
			break;
		case SHOAL_LINK_EXEC:
			close_cloexec();
			reply(LINK_FD, 0, m.slot, -1);
			break;
		default: /* HELLO, THREAD_EXIT, FORK_FAILED: no reply */
			break;
		}
	}
}

int main(int argc, char **argv)
{
	struct shoal_region_header *h;
	int memfd, sv[2], self, st, i;
	pid_t task, job;
	char **jargv;

	if (argc < 4) {
		fprintf(stderr, "usage: fakeinst SHIM PROGRAM ARGV0 [ARG...]\n");
		return 2;
	}
	memfd = memfd_create("shoal-job-region", MFD_CLOEXEC);
	if (memfd < 0 || ftruncate(memfd, SHOAL_REGION_SIZE))
		die("region");
	region = mmap(NULL, SHOAL_REGION_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	if (region == MAP_FAILED)
		die("mmap");
	h = (struct shoal_region_header *)region;
	h->magic = SHOAL_REGION_MAGIC;
	h->version = SHOAL_JOB_ABI_VERSION;
	h->nslots = SHOAL_SLOTS_MAX;
	h->slot_stride = SHOAL_SLOT_STRIDE;
	h->instance_base = (uint64_t)(uintptr_t)region;
	atomic_store(next_slot(), 1);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		die("socketpair");
	self = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (self < 0)
		die(argv[1]);

	task = fork();
	if (task < 0)
		die("fork");
	if (task == 0) {
		/* The first task: fds 0, 1, 2 as they are, nothing else. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (dup3(sv[0], LINK_FD, O_CLOEXEC) < 0)
			die("dup3");
		close(sv[0]);
		close(sv[1]);
		close(memfd);
		close(self);
		start_server(0);
		task_loop();
	}
	close(sv[0]);

	job = fork();
	if (job < 0)
		die("fork");
	if (job == 0) {
		int null = open("/dev/null", O_RDWR);
		char state[128];

		if (dup2(sv[1], JOB_LINK) < 0 || dup2(memfd, JOB_REGION) < 0 ||
		    dup2(self, JOB_SELF) < 0 || null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0)
			die("job fds");
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); /* as the jail does */
		snprintf(state, sizeof(state), "link=%d,region=%d,self=%d,slot=0,filtered=0",
			 JOB_LINK, JOB_REGION, JOB_SELF);
		jargv = calloc((size_t)argc + 2, sizeof(char *));
		jargv[0] = SHOAL_SHIM_ARGV0;
		jargv[1] = state;
		for (i = 2; i < argc; i++)
			jargv[i] = argv[i];
		syscall(SYS_execveat, JOB_SELF, "", jargv, environ, AT_EMPTY_PATH);
		die("execveat");
	}
	close(sv[1]);
	if (waitpid(job, &st, 0) != job)
		die("waitpid");
	if (WIFSIGNALED(st)) {
		fprintf(stderr, "fakeinst: job killed by signal %d\n", WTERMSIG(st));
		return 128 + WTERMSIG(st);
	}
	return WEXITSTATUS(st);
}

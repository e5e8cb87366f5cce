// SPDX-License-Identifier: GPL-2.0
/*
 * The job syscall server (instance/job_server*.c, instance/job_sysmap.c)
 * against the real library kernel, without the shim: the test boots a
 * kernel, makes a job server, and forks a child that plays the job. The
 * child maps the region where a job maps it, posts forwarded calls by hand
 * in its slots (the shim's half of instance/job_abi.h: request, spin, futex)
 * and speaks the link protocol itself; it reports what it saw through a
 * pipe. The round trip of a forwarded 1-byte pipe write and read is printed.
 *
 * The server's sources are compiled into this test (the kernel suite links
 * only the harness and libskl.a), with the two api/ files they use.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/time.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "api/error.c"
#include "api/log.c"
#include "instance/job_server.c"
#include "instance/job_server_link.c"
#include "instance/job_server_slot.c"
#include "instance/job_sysmap.c"
#include "tests/kernel/kboot.h"

/* --- the job's side: a minimal shim ------------------------------------ */

struct job {
	char *base; /* the region, mapped at SHOAL_REGION_JOB_ADDR */
	uint64_t ibase; /* where the instance mapped it */
	int link;
	int report; /* pipe to the parent */
	int failures;
};

static struct shoal_slot *job_slot(struct job *j, unsigned int i)
{
	return (struct shoal_slot *)(void *)(j->base + SHOAL_SLOT_OFFSET(i));
}

/* The data area of slot i, in the job's mapping. */
static char *job_data(struct job *j, unsigned int i)
{
	return j->base + SHOAL_SLOT_OFFSET(i) + SHOAL_SLOT_HEADER;
}

/* A job address in the region as the instance sees it. */
static long job_iaddr(struct job *j, const void *p)
{
	return (long)(j->ibase + (uint64_t)((const char *)p - j->base));
}

static long job_futex(uint32_t *w, int op, uint32_t v)
{
	return syscall(SYS_futex, w, op, v, NULL, NULL, 0);
}

/* Post a call without waiting for it. */
static void job_post(struct shoal_slot *sh, long nr, long a0, long a1, long a2, long a3, long a4)
{
	sh->nr = nr;
	sh->args[0] = a0;
	sh->args[1] = a1;
	sh->args[2] = a2;
	sh->args[3] = a3;
	sh->args[4] = a4;
	sh->args[5] = 0;
	__atomic_store_n(&sh->state, SHOAL_SLOT_REQUEST, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&sh->server_waiting, __ATOMIC_SEQ_CST))
		job_futex(&sh->state, FUTEX_WAKE, INT_MAX);
}

#define JOB_SPIN_NS 20000

static long mono_ns(void);

/* Wait for the answer: -1000000 if the slot was closed instead. */
static long job_wait(struct shoal_slot *sh)
{
	long t0 = mono_ns();
	uint32_t st;
	int i;

	/* Spin about 20 us (bounded by time: pause costs 10 to 140 cycles
	 * depending on the CPU), then sleep. */
	for (i = 0; i < 64 * 1024; i++) {
		st = __atomic_load_n(&sh->state, __ATOMIC_ACQUIRE);
		if (st != SHOAL_SLOT_REQUEST)
			break;
		__builtin_ia32_pause();
		if (i % 64 == 63 && mono_ns() - t0 > JOB_SPIN_NS)
			break;
	}
	while ((st = __atomic_load_n(&sh->state, __ATOMIC_SEQ_CST)) == SHOAL_SLOT_REQUEST) {
		__atomic_store_n(&sh->client_waiting, 1, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&sh->state, __ATOMIC_SEQ_CST) == SHOAL_SLOT_REQUEST)
			job_futex(&sh->state, FUTEX_WAIT, SHOAL_SLOT_REQUEST);
		__atomic_store_n(&sh->client_waiting, 0, __ATOMIC_RELAXED);
	}
	if (st != SHOAL_SLOT_DONE)
		return -1000000;
	__atomic_store_n(&sh->state, SHOAL_SLOT_IDLE, __ATOMIC_RELEASE);
	return sh->ret;
}

/* Does the instance close the slot within a second? */
static bool job_wait_closed(struct shoal_slot *sh)
{
	struct timespec gap = { 0, 1000 * 1000 };
	int i;

	for (i = 0; i < 1000; i++) {
		if (__atomic_load_n(&sh->state, __ATOMIC_SEQ_CST) == SHOAL_SLOT_CLOSED)
			return true;
		nanosleep(&gap, NULL);
	}
	return false;
}

static long job_call(struct job *j, unsigned int slot, long nr, long a0, long a1, long a2, long a3,
		     long a4)
{
	struct shoal_slot *sh = job_slot(j, slot);

	job_post(sh, nr, a0, a1, a2, a3, a4);
	return job_wait(sh);
}

/* A string copied into slot's data area at offset off; its instance address. */
static long job_str(struct job *j, unsigned int slot, size_t off, const char *s)
{
	char *p = job_data(j, slot) + off;

	strcpy(p, s);
	return job_iaddr(j, p);
}

static void job_say(struct job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void job_say(struct job *j, const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (write(j->report, line, (size_t)n) < 0)
		_exit(99);
}

#define JOB_EXPECT(j, cond)                                              \
	do {                                                             \
		if (!(cond)) {                                           \
			job_say(j, "FAIL line %d: %s", __LINE__, #cond); \
			(j)->failures++;                                 \
		}                                                        \
	} while (0)

static struct shoal_link_reply job_link(struct job *j, int link, uint32_t op, uint32_t slot,
					int64_t arg, int *fd)
{
	struct shoal_link_msg m = {
		.op = op, .slot = slot, .pid = getpid(), .tid = gettid(), .arg = arg
	};
	struct shoal_link_reply r = { .err = -12345 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	struct iovec iov = { .iov_base = &r, .iov_len = sizeof(r) };
	struct msghdr msg = { .msg_iov = &iov,
			      .msg_iovlen = 1,
			      .msg_control = control.buf,
			      .msg_controllen = sizeof(control.buf) };
	struct cmsghdr *c;

	(void)j;
	if (send(link, &m, sizeof(m), 0) != sizeof(m))
		return r;
	if (op == SHOAL_LINK_HELLO || op == SHOAL_LINK_FORK_FAILED || op == SHOAL_LINK_THREAD_EXIT)
		return (struct shoal_link_reply){ 0 };
	if (recvmsg(link, &msg, 0) != sizeof(r))
		return (struct shoal_link_reply){ .err = -12346 };
	c = CMSG_FIRSTHDR(&msg);
	if (fd && c && c->cmsg_type == SCM_RIGHTS)
		memcpy(fd, CMSG_DATA(c), sizeof(int));
	return r;
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

static long mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

/* --- the instance's side ------------------------------------------------- */

struct fixture {
	struct job_server *s;
	int link, region;
	int out[2]; /* kernel pipe: the job's stdout */
	int report[2]; /* host pipe: the child's report */
	pid_t child;
};

static void fixture_start(struct fixture *f, void (*job_main)(struct job *))
{
	struct shoal_error err = { 0 };
	int r;

	if (!skl_is_running())
		kboot();
	kmount_tmpfs("/tmp");
	SYS_OK(skl_sys_pipe2(f->out, SKL_O_NONBLOCK));
	r = job_server_create(NULL, "/tmp", -1, f->out[1], f->out[1], &f->s, &f->link, &f->region,
			      &err);
	if (r < 0)
		harness_fail(__FILE__, __LINE__, "job_server_create: %s", err.msg);
	CHECK_EQ_INT(job_server_processes(f->s), 1);
	CHECK_EQ_INT(pipe(f->report), 0);
	f->child = fork();
	CHECK(f->child >= 0);
	if (f->child == 0) {
		struct job j = { .link = f->link, .report = f->report[1] };
		struct shoal_region_header *h;

		close(f->report[0]);
		j.base = mmap((void *)SHOAL_REGION_JOB_ADDR, SHOAL_REGION_SIZE,
			      PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED_NOREPLACE, f->region,
			      0);
		if (j.base != (char *)SHOAL_REGION_JOB_ADDR)
			_exit(98);
		h = (struct shoal_region_header *)(void *)j.base;
		JOB_EXPECT(&j, h->magic == SHOAL_REGION_MAGIC && h->nslots == SHOAL_SLOTS_MAX);
		/* The job cannot shrink what the instance has mapped. */
		JOB_EXPECT(&j, ftruncate(f->region, 4096) < 0 && errno == EPERM);
		j.ibase = h->instance_base;
		job_link(&j, j.link, SHOAL_LINK_HELLO, 0, 0, NULL);
		job_main(&j);
		job_say(&j, "done %d", j.failures);
		_exit(j.failures ? 1 : 0);
	}
	close(f->report[1]);
	/* The job's copies are the child's now. */
	close(f->link);
	close(f->region);
}

/* Print the child's report; fail unless it passed. */
static void fixture_child_done(struct fixture *f)
{
	char buf[4096];
	ssize_t n;
	int status;

	while ((n = read(f->report[0], buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)n, stdout);
	CHECK_EQ_INT(waitpid(f->child, &status, 0), f->child);
	CHECK(WIFEXITED(status));
	CHECK_EQ_INT(WEXITSTATUS(status), 0);
}

/* Wait up to @ms for the job to have no process left. */
static void fixture_wait_gone(struct fixture *f, int ms)
{
	struct pollfd p = { .fd = job_server_event_fd(f->s), .events = POLLIN };
	long end = mono_ns() + ms * 1000000L;
	uint64_t v;

	while (job_server_processes(f->s) > 0 && mono_ns() < end) {
		poll(&p, 1, 50);
		if (read(p.fd, &v, sizeof(v)) < 0) {
			/* EAGAIN */
		}
	}
	CHECK_EQ_INT(job_server_processes(f->s), 0);
}

/* Processes alive in the kernel (numeric entries of /proc). */
static int kernel_processes(void)
{
	char buf[4096];
	long fd = SYS_OK(skl_sys_openat(SKL_AT_FDCWD, "/proc", SKL_O_RDONLY, 0)), n, off;
	int count = 0;

	while ((n = SYS_OK(skl_sys_getdents64((unsigned int)fd, (void *)buf, sizeof(buf)))) > 0) {
		for (off = 0; off < n;) {
			struct skl_linux_dirent64 *d = (void *)(buf + off);

			if (d->d_name[0] >= '0' && d->d_name[0] <= '9')
				count++;
			off += d->d_reclen;
		}
	}
	skl_sys_close((unsigned int)fd);
	return count;
}

static void mount_proc(void)
{
	SYS_OK(skl_sys_mkdirat(SKL_AT_FDCWD, "/proc", 0555));
	SYS_OK(skl_sys_mount((char *)"proc", (char *)"/proc", (char *)"proc", 0, NULL));
}

/* --- cases -------------------------------------------------------------- */

TEST(sysmap_table)
{
	CHECK_EQ_INT(job_sysmap_generic(SYS_read), __skl__NR_read);
	CHECK_EQ_INT(job_sysmap_generic(SYS_openat), __skl__NR_openat);
	CHECK_EQ_INT(job_sysmap_generic(SYS_epoll_pwait), __skl__NR_epoll_pwait);
	CHECK_EQ_INT(job_sysmap_generic(SYS_accept4), __skl__NR_accept4);
	CHECK_EQ_INT(job_sysmap_generic(SYS_sendfile), __skl__NR_sendfile);
	/* Translated: served, but not by name. */
	CHECK_EQ_INT(job_sysmap_generic(SYS_open), -1);
	CHECK(job_sysmap_known(SYS_open));
	CHECK(job_sysmap_known(SYS_poll));
	CHECK(job_sysmap_known(SYS_fstat));
	/* Never forwarded. */
	CHECK(!job_sysmap_known(SYS_mmap));
	CHECK(!job_sysmap_known(SYS_clone));
	CHECK(!job_sysmap_known(SYS_kill));
	CHECK(!job_sysmap_known(SYS_rt_sigaction));
	CHECK(!job_sysmap_known(SYS_getdents));
	CHECK(!job_sysmap_known(SYS_signalfd4));
	CHECK(!job_sysmap_known(-1));
	CHECK(!job_sysmap_known(100000));
}

static void job_files(struct job *j)
{
	char *d = job_data(j, 0);
	struct stat st;
	long fd, r, fds;
	int *pfd = (int *)(void *)(d + 512);

	/* stdout is the kernel pipe; stdin was given as -1: closed. */
	JOB_EXPECT(j, job_call(j, 0, SYS_write, 1, job_str(j, 0, 0, "hello"), 5, 0, 0) == 5);
	JOB_EXPECT(j, job_call(j, 0, SYS_fcntl, 0, F_GETFD, 0, 0, 0) == -EBADF);
	/* Nothing of host0's fd table but 0, 1 and 2. */
	for (fd = 3; fd < 16; fd++)
		JOB_EXPECT(j, job_call(j, 0, SYS_fcntl, fd, F_GETFD, 0, 0, 0) == -EBADF);
	/* cwd */
	r = job_call(j, 0, SYS_getcwd, job_iaddr(j, d), 256, 0, 0, 0);
	JOB_EXPECT(j, r == 5 && !strcmp(d, "/tmp"));
	/* A file, relative to the cwd, through the legacy open. */
	fd = job_call(j, 0, SYS_open, job_str(j, 0, 0, "f"), O_CREAT | O_RDWR, 0600, 0, 0);
	JOB_EXPECT(j, fd == 0); /* the lowest free fd: stdin was closed */
	JOB_EXPECT(j, job_call(j, 0, SYS_write, fd, job_str(j, 0, 0, "abc"), 3, 0, 0) == 3);
	JOB_EXPECT(j, job_call(j, 0, SYS_lseek, fd, 0, SEEK_SET, 0, 0) == 0);
	memset(d, 0, 8);
	JOB_EXPECT(j, job_call(j, 0, SYS_read, fd, job_iaddr(j, d), 8, 0, 0) == 3);
	JOB_EXPECT(j, !memcmp(d, "abc", 3));
	/* struct stat in x86-64's layout, as the job's libc reads it. */
	JOB_EXPECT(j, job_call(j, 0, SYS_fstat, fd, job_iaddr(j, d + 1024), 0, 0, 0) == 0);
	memcpy(&st, d + 1024, sizeof(st));
	JOB_EXPECT(j, st.st_size == 3 && S_ISREG(st.st_mode) && (st.st_mode & 0777) == 0600);
	JOB_EXPECT(j, st.st_nlink == 1 && st.st_blksize > 0);
	JOB_EXPECT(j, job_call(j, 0, SYS_stat, job_str(j, 0, 0, "/tmp/f"), job_iaddr(j, d + 1024),
			       0, 0, 0) == 0);
	memcpy(&st, d + 1024, sizeof(st));
	JOB_EXPECT(j, st.st_size == 3);
	JOB_EXPECT(j, job_call(j, 0, SYS_stat, job_str(j, 0, 0, "/tmp/none"),
			       job_iaddr(j, d + 1024), 0, 0, 0) == -ENOENT);
	/* mkdir, rename, unlink, rmdir through the legacy calls. */
	JOB_EXPECT(j, job_call(j, 0, SYS_mkdir, job_str(j, 0, 0, "dir"), 0755, 0, 0, 0) == 0);
	job_str(j, 0, 100, "dir/g");
	JOB_EXPECT(j, job_call(j, 0, SYS_rename, job_str(j, 0, 0, "f"), job_iaddr(j, d + 100), 0, 0,
			       0) == 0);
	JOB_EXPECT(j, job_call(j, 0, SYS_access, job_str(j, 0, 0, "dir/g"), R_OK, 0, 0, 0) == 0);
	JOB_EXPECT(j, job_call(j, 0, SYS_unlink, job_str(j, 0, 0, "dir/g"), 0, 0, 0, 0) == 0);
	JOB_EXPECT(j, job_call(j, 0, SYS_rmdir, job_str(j, 0, 0, "dir"), 0, 0, 0, 0) == 0);
	/* dup2 onto itself, and onto another fd. */
	JOB_EXPECT(j, job_call(j, 0, SYS_dup2, fd, fd, 0, 0, 0) == fd);
	JOB_EXPECT(j, job_call(j, 0, SYS_dup2, fd, 9, 0, 0, 0) == 9);
	JOB_EXPECT(j, job_call(j, 0, SYS_dup2, 12, 12, 0, 0, 0) == -EBADF);
	/* A pipe, and poll on it (timespec in the scratch bytes). */
	fds = job_call(j, 0, SYS_pipe, job_iaddr(j, pfd), 0, 0, 0, 0);
	JOB_EXPECT(j, fds == 0);
	*(struct pollfd *)(void *)(d + 600) = (struct pollfd){ .fd = pfd[0], .events = POLLIN };
	JOB_EXPECT(j, job_call(j, 0, SYS_poll, job_iaddr(j, d + 600), 1, 0, 0, 0) == 0);
	JOB_EXPECT(j, job_call(j, 0, SYS_write, pfd[1], job_str(j, 0, 0, "x"), 1, 0, 0) == 1);
	JOB_EXPECT(j, job_call(j, 0, SYS_poll, job_iaddr(j, d + 600), 1, 100, 0, 0) == 1);
	/* The window: nothing outside the slot's data area is reachable. */
	JOB_EXPECT(j, job_call(j, 0, SYS_read, pfd[0], (long)j->ibase, 1, 0, 0) == -EFAULT);
	JOB_EXPECT(j, job_call(j, 0, SYS_read, pfd[0], job_iaddr(j, job_data(j, 1)), 1, 0, 0) ==
			      -EFAULT);
	JOB_EXPECT(j, job_call(j, 0, SYS_fstat, fd, (long)j->ibase + 64, 0, 0, 0) == -EFAULT);
	JOB_EXPECT(j, job_call(j, 0, SYS_read, pfd[0], job_iaddr(j, d), 1, 0, 0) == 1);
	/* Refused calls. */
	JOB_EXPECT(j, job_call(j, 0, SYS_mmap, 0, 4096, 3, 0x22, -1) == -ENOSYS);
	JOB_EXPECT(j, job_call(j, 0, SYS_kill, 1, 9, 0, 0, 0) == -ENOSYS);
	JOB_EXPECT(j, job_call(j, 0, 99999, 0, 0, 0, 0, 0) == -ENOSYS);
}

TEST_TIMEOUT(files_pipes_window, 60)
{
	struct fixture f;
	char buf[16] = { 0 };

	fixture_start(&f, job_files);
	fixture_child_done(&f);
	CHECK_EQ_INT(skl_sys_read((unsigned int)f.out[0], buf, sizeof(buf)), 5);
	CHECK_EQ_STR(buf, "hello");
	CHECK(job_server_calls(f.s) > 40);
	/* The child exited: its link closed, its task ends. */
	fixture_wait_gone(&f, 5000);
	job_server_destroy(f.s);
}

/* The round trip of forwarded 1-byte pipe writes and reads. */
static void job_bench(struct job *j)
{
	enum { ROUNDS = 20000 };
	static long t[ROUNDS];
	char *d = job_data(j, 0);
	int *pfd = (int *)(void *)(d + 512);
	long i, r, t0;

	JOB_EXPECT(j, job_call(j, 0, SYS_pipe2, job_iaddr(j, pfd), 0, 0, 0, 0) == 0);
	d[0] = 'x';
	for (i = 0; i < ROUNDS; i++) {
		t0 = mono_ns();
		r = job_call(j, 0, SYS_write, pfd[1], job_iaddr(j, d), 1, 0, 0);
		r += job_call(j, 0, SYS_read, pfd[0], job_iaddr(j, d + 1), 1, 0, 0);
		t[i] = (mono_ns() - t0) / 2;
		if (r != 2) {
			JOB_EXPECT(j, r == 2);
			return;
		}
	}
	qsort(t, ROUNDS, sizeof(t[0]), cmp_long);
	job_say(j, "forwarded 1-byte pipe call: median %ld ns, p90 %ld ns, p99 %ld ns (%d calls)",
		t[ROUNDS / 2], t[ROUNDS * 9 / 10], t[ROUNDS * 99 / 100], 2 * ROUNDS);
	/* With a pause between calls the serving thread sleeps: the futex path. */
	for (i = 0; i < 200; i++) {
		struct timespec gap = { 0, 200 * 1000 };

		nanosleep(&gap, NULL);
		t0 = mono_ns();
		r = job_call(j, 0, SYS_write, pfd[1], job_iaddr(j, d), 1, 0, 0);
		t[i] = mono_ns() - t0;
		JOB_EXPECT(j, r == 1);
	}
	qsort(t, 200, sizeof(t[0]), cmp_long);
	job_say(j, "after 200 us idle (server asleep): median %ld ns, p90 %ld ns", t[100], t[180]);
}

TEST_TIMEOUT(pipe_round_trip, 120)
{
	struct fixture f;

	fixture_start(&f, job_bench);
	fixture_child_done(&f);
	fixture_wait_gone(&f, 5000);
	job_server_destroy(f.s);
}

static void job_lifecycle(struct job *j)
{
	char *d0 = job_data(j, 0), *d;
	struct shoal_link_reply r;
	int *pfd = (int *)(void *)(d0 + 512), child_link = -1;
	long fd, cfd;
	unsigned int t, c;

	/* A thread: a new slot whose task shares the fd table. */
	fd = job_call(j, 0, SYS_openat, AT_FDCWD, job_str(j, 0, 0, "/tmp/a"), O_CREAT | O_RDWR,
		      0644, 0);
	JOB_EXPECT(j, fd == 0);
	r = job_link(j, j->link, SHOAL_LINK_THREAD, 0, 0, NULL);
	JOB_EXPECT(j, r.err == 0 && r.slot != 0);
	t = r.slot;
	d = job_data(j, t);
	JOB_EXPECT(j, job_call(j, t, SYS_write, fd, job_str(j, t, 0, "thread"), 6, 0, 0) == 6);
	/* Its window is its own slot's data area, not slot 0's. */
	JOB_EXPECT(j, job_call(j, t, SYS_write, fd, job_iaddr(j, d0), 1, 0, 0) == -EFAULT);
	/* A bad slot number in a message is refused. */
	r = job_link(j, j->link, SHOAL_LINK_THREAD, 999, 0, NULL);
	JOB_EXPECT(j, r.err == -EINVAL);

	/* A thread blocked in a read of an empty pipe ends when it exits. */
	JOB_EXPECT(j, job_call(j, 0, SYS_pipe2, job_iaddr(j, pfd), 0, 0, 0, 0) == 0);
	job_post(job_slot(j, t), SYS_read, pfd[0], job_iaddr(j, d), 1, 0, 0);
	{
		struct timespec gap = { 0, 20 * 1000 * 1000 };

		nanosleep(&gap, NULL);
	}
	JOB_EXPECT(j,
		   __atomic_load_n(&job_slot(j, t)->state, __ATOMIC_SEQ_CST) == SHOAL_SLOT_REQUEST);
	/* A new thread may name a slot that is in a call: its task is cloned
	 * from the process's anchor, and shares the fd table all the same. */
	r = job_link(j, j->link, SHOAL_LINK_THREAD, t, 0, NULL);
	JOB_EXPECT(j, r.err == 0 && r.slot != t && r.slot != 0);
	JOB_EXPECT(j, job_call(j, r.slot, SYS_write, pfd[1], job_str(j, r.slot, 0, "w"), 1, 0, 0) ==
			      1);
	JOB_EXPECT(j, job_wait(job_slot(j, t)) == 1); /* the blocked read got it */
	JOB_EXPECT(j, job_call(j, r.slot, SYS_fcntl, fd, F_GETFD, 0, 0, 0) == 0);
	job_link(j, j->link, SHOAL_LINK_THREAD_EXIT, r.slot, 0, NULL);
	JOB_EXPECT(j, job_wait_closed(job_slot(j, r.slot)));
	job_post(job_slot(j, t), SYS_read, pfd[0], job_iaddr(j, d), 1, 0, 0);
	job_link(j, j->link, SHOAL_LINK_THREAD_EXIT, t, 0, NULL);
	JOB_EXPECT(j, job_wait(job_slot(j, t)) == -1000000); /* closed */

	/* A fork: its own fd table (a copy), its own link. */
	r = job_link(j, j->link, SHOAL_LINK_FORK, 0, 0, &child_link);
	JOB_EXPECT(j, r.err == 0 && r.slot != 0 && r.kpid > 0 && child_link >= 0);
	c = r.slot;
	cfd = job_call(j, c, SYS_fcntl, fd, F_GETFD, 0, 0, 0);
	JOB_EXPECT(j, cfd == 0);
	JOB_EXPECT(j, job_call(j, c, SYS_close, fd, 0, 0, 0, 0) == 0);
	JOB_EXPECT(j, job_call(j, 0, SYS_fcntl, fd, F_GETFD, 0, 0, 0) == 0);
	JOB_EXPECT(j, job_call(j, c, SYS_getcwd, job_iaddr(j, job_data(j, c)), 64, 0, 0, 0) == 5);
	/* A second fork whose host fork "failed". */
	{
		int l2 = -1;

		r = job_link(j, j->link, SHOAL_LINK_FORK, 0, 0, &l2);
		JOB_EXPECT(j, r.err == 0 && l2 >= 0);
		job_link(j, j->link, SHOAL_LINK_FORK_FAILED, 0, r.slot, NULL);
		JOB_EXPECT(j, job_wait_closed(job_slot(j, r.slot)));
		close(l2);
	}
	/* The child process blocks in a read, then goes away (its link closes). */
	job_link(j, child_link, SHOAL_LINK_HELLO, c, 0, NULL);
	job_post(job_slot(j, c), SYS_read, pfd[0], job_iaddr(j, job_data(j, c)), 1, 0, 0);
	close(child_link);
	JOB_EXPECT(j, job_wait(job_slot(j, c)) == -1000000);

	/* exec: close-on-exec fds go, the others stay. */
	cfd = job_call(j, 0, SYS_openat, AT_FDCWD, job_str(j, 0, 0, "/tmp/a"), O_RDONLY | O_CLOEXEC,
		       0, 0);
	JOB_EXPECT(j, cfd > 0);
	r = job_link(j, j->link, SHOAL_LINK_EXEC, 0, 0, NULL);
	JOB_EXPECT(j, r.err == 0);
	JOB_EXPECT(j, job_call(j, 0, SYS_fcntl, cfd, F_GETFD, 0, 0, 0) == -EBADF);
	JOB_EXPECT(j, job_call(j, 0, SYS_fcntl, fd, F_GETFD, 0, 0, 0) == 0);
	/* After exec a blocked call is still interrupted when the process goes. */
	JOB_EXPECT(j, job_call(j, 0, SYS_pread64, fd, job_iaddr(j, d0), 6, 0, 0) == 6);
	JOB_EXPECT(j, !memcmp(d0, "thread", 6));
	/* The last call: block in a read; the parent sees the process go when
	 * the child exits with it pending. */
	job_post(job_slot(j, 0), SYS_read, pfd[0], job_iaddr(j, d0), 1, 0, 0);
}

TEST_TIMEOUT(thread_fork_exec_exit, 60)
{
	struct fixture f;
	int before;

	kboot();
	mount_proc();
	before = kernel_processes();
	fixture_start(&f, job_lifecycle);
	fixture_child_done(&f);
	/* Slot 0's task is still blocked in read: EOF must end it. */
	fixture_wait_gone(&f, 5000);
	/* Every kernel process of the job is gone, forks included. */
	CHECK_EQ_INT(kernel_processes(), before);
	job_server_destroy(f.s);
}

static void job_block(struct job *j)
{
	int *pfd = (int *)(void *)(job_data(j, 0) + 512);

	JOB_EXPECT(j, job_call(j, 0, SYS_pipe2, job_iaddr(j, pfd), 0, 0, 0, 0) == 0);
	job_say(j, "blocking");
	job_post(job_slot(j, 0), SYS_read, pfd[0], job_iaddr(j, job_data(j, 0)), 1, 0, 0);
	JOB_EXPECT(j, job_wait(job_slot(j, 0)) == -1000000);
}

TEST_TIMEOUT(destroy_ends_blocked_job, 60)
{
	struct fixture f;
	char buf[64];
	long t0;

	fixture_start(&f, job_block);
	/* Wait for the child to block, then destroy under it. */
	CHECK(read(f.report[0], buf, 9) == 9);
	usleep(20000);
	CHECK_EQ_INT(job_server_processes(f.s), 1);
	t0 = mono_ns();
	job_server_destroy(f.s);
	CHECK(mono_ns() - t0 < 2000000000L);
	fixture_child_done(&f);
}

/* The legacy calls that are rewritten, and a socket pair. */
static void job_legacy(struct job *j)
{
	char *d = job_data(j, 0);
	int *pfd = (int *)(void *)(d + 512);
	struct timeval *tv = (struct timeval *)(void *)(d + 704);
	uint64_t *set = (uint64_t *)(void *)(d + 800);
	struct stat st;
	long e, r;

	JOB_EXPECT(j, job_call(j, 0, SYS_pipe, job_iaddr(j, pfd), 0, 0, 0, 0) == 0);
	/* select: a timeout that runs out, then a readable pipe. */
	*set = 1ull << pfd[0];
	*tv = (struct timeval){ 0, 20000 };
	r = job_call(j, 0, SYS_select, pfd[0] + 1, job_iaddr(j, set), 0, 0, job_iaddr(j, tv));
	JOB_EXPECT(j, r == 0 && tv->tv_sec == 0 && tv->tv_usec == 0);
	JOB_EXPECT(j, job_call(j, 0, SYS_write, pfd[1], job_str(j, 0, 0, "y"), 1, 0, 0) == 1);
	*set = 1ull << pfd[0];
	*tv = (struct timeval){ 1, 0 };
	r = job_call(j, 0, SYS_select, pfd[0] + 1, job_iaddr(j, set), 0, 0, job_iaddr(j, tv));
	JOB_EXPECT(j, r == 1 && *set == 1ull << pfd[0] && tv->tv_sec + tv->tv_usec > 0);
	*tv = (struct timeval){ 0, 1000000 };
	JOB_EXPECT(j, job_call(j, 0, SYS_select, 1, 0, 0, 0, job_iaddr(j, tv)) == -EINVAL);
	/* epoll_create and epoll_wait. */
	e = job_call(j, 0, SYS_epoll_create, 1, 0, 0, 0, 0);
	JOB_EXPECT(j, e >= 0);
	JOB_EXPECT(j, job_call(j, 0, SYS_epoll_create, 0, 0, 0, 0, 0) == -EINVAL);
	*(struct epoll_event *)(void *)(d + 900) =
		(struct epoll_event){ .events = EPOLLIN, .data.u64 = 42 };
	JOB_EXPECT(j, job_call(j, 0, SYS_epoll_ctl, e, EPOLL_CTL_ADD, pfd[0], job_iaddr(j, d + 900),
			       0) == 0);
	memset(d + 1000, 0, 64);
	JOB_EXPECT(j, job_call(j, 0, SYS_epoll_wait, e, job_iaddr(j, d + 1000), 4, 100, 0) == 1);
	JOB_EXPECT(j, ((struct epoll_event *)(void *)(d + 1000))->data.u64 == 42);
	/* eventfd */
	r = job_call(j, 0, SYS_eventfd, 3, 0, 0, 0, 0);
	JOB_EXPECT(j, r >= 0);
	JOB_EXPECT(j, job_call(j, 0, SYS_read, r, job_iaddr(j, d + 1104), 8, 0, 0) == 8);
	JOB_EXPECT(j, *(uint64_t *)(void *)(d + 1104) == 3);
	/* creat, symlink, readlink, lstat, link, chmod, utimes. */
	r = job_call(j, 0, SYS_creat, job_str(j, 0, 0, "/tmp/c"), 0640, 0, 0, 0);
	JOB_EXPECT(j, r >= 0);
	job_str(j, 0, 100, "/tmp/s");
	JOB_EXPECT(j, job_call(j, 0, SYS_symlink, job_str(j, 0, 0, "c"), job_iaddr(j, d + 100), 0,
			       0, 0) == 0);
	JOB_EXPECT(j, job_call(j, 0, SYS_readlink, job_iaddr(j, d + 100), job_iaddr(j, d + 200), 64,
			       0, 0) == 1);
	JOB_EXPECT(j, d[200] == 'c');
	JOB_EXPECT(j, job_call(j, 0, SYS_lstat, job_iaddr(j, d + 100), job_iaddr(j, d + 1200), 0, 0,
			       0) == 0);
	memcpy(&st, d + 1200, sizeof(st));
	JOB_EXPECT(j, S_ISLNK(st.st_mode));
	job_str(j, 0, 100, "/tmp/h");
	JOB_EXPECT(j, job_call(j, 0, SYS_link, job_str(j, 0, 0, "/tmp/c"), job_iaddr(j, d + 100), 0,
			       0, 0) == 0);
	JOB_EXPECT(j, job_call(j, 0, SYS_chmod, job_iaddr(j, d + 100), 0600, 0, 0, 0) == 0);
	((struct timeval *)(void *)(d + 304))[0] = (struct timeval){ 1000, 5 };
	((struct timeval *)(void *)(d + 304))[1] = (struct timeval){ 2000, 7 };
	JOB_EXPECT(j, job_call(j, 0, SYS_utimes, job_iaddr(j, d + 100), job_iaddr(j, d + 304), 0, 0,
			       0) == 0);
	JOB_EXPECT(j, job_call(j, 0, SYS_stat, job_iaddr(j, d + 100), job_iaddr(j, d + 1200), 0, 0,
			       0) == 0);
	memcpy(&st, d + 1200, sizeof(st));
	JOB_EXPECT(j, st.st_nlink == 2 && (st.st_mode & 0777) == 0600);
	JOB_EXPECT(j, st.st_atim.tv_sec == 1000 && st.st_atim.tv_nsec == 5000);
	JOB_EXPECT(j, st.st_mtim.tv_sec == 2000 && st.st_mtim.tv_nsec == 7000);
	/* A socket pair in the kernel. */
	JOB_EXPECT(j, job_call(j, 0, SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, job_iaddr(j, pfd),
			       0) == 0);
	JOB_EXPECT(j, job_call(j, 0, SYS_sendto, pfd[0], job_str(j, 0, 0, "sock"), 4, 0, 0) == 4);
	JOB_EXPECT(j, job_call(j, 0, SYS_recvfrom, pfd[1], job_iaddr(j, d + 100), 16, 0, 0) == 4);
	JOB_EXPECT(j, !memcmp(d + 100, "sock", 4));
	/* uname: the instance kernel's. */
	JOB_EXPECT(j, job_call(j, 0, SYS_uname, job_iaddr(j, d + 2000), 0, 0, 0, 0) == 0);
	JOB_EXPECT(j, !strcmp(d + 2000, "Linux"));
}

TEST_TIMEOUT(legacy_calls, 60)
{
	struct fixture f;

	fixture_start(&f, job_legacy);
	fixture_child_done(&f);
	fixture_wait_gone(&f, 5000);
	job_server_destroy(f.s);
}

/*
 * Two job threads, each on its own slot: one blocks in a read that the
 * other's write ends, in both directions (a blocking call of one slot does
 * not hold the others). The second "thread" is a forked process sharing the
 * region: the server cannot tell, and a forked child of this multi-threaded
 * test must not start threads (under ASan it would inherit held locks).
 */
static long pong_run(struct job *j, unsigned int slot, int rd, int wr, long rounds)
{
	char *d = job_data(j, slot);
	long i, errors = 0;

	for (i = 0; i < rounds; i++) {
		if (job_call(j, slot, SYS_read, rd, job_iaddr(j, d), 1, 0, 0) != 1 ||
		    job_call(j, slot, SYS_write, wr, job_iaddr(j, d), 1, 0, 0) != 1)
			errors++;
	}
	return errors;
}

static void job_ping_pong(struct job *j)
{
	enum { ROUNDS = 20000 };
	char *d = job_data(j, 0);
	int *a = (int *)(void *)(d + 512), *b = (int *)(void *)(d + 520), status;
	struct shoal_link_reply r;
	long i, t0, bad = 0;
	pid_t pong;

	JOB_EXPECT(j, job_call(j, 0, SYS_pipe2, job_iaddr(j, a), 0, 0, 0, 0) == 0);
	JOB_EXPECT(j, job_call(j, 0, SYS_pipe2, job_iaddr(j, b), 0, 0, 0, 0) == 0);
	r = job_link(j, j->link, SHOAL_LINK_THREAD, 0, 0, NULL);
	JOB_EXPECT(j, r.err == 0);
	pong = fork();
	if (pong == 0)
		_exit(pong_run(j, r.slot, a[0], b[1], ROUNDS) ? 1 : 0);
	JOB_EXPECT(j, pong > 0);
	t0 = mono_ns();
	for (i = 0; i < ROUNDS && pong > 0; i++) {
		if (job_call(j, 0, SYS_write, a[1], job_iaddr(j, d), 1, 0, 0) != 1 ||
		    job_call(j, 0, SYS_read, b[0], job_iaddr(j, d), 1, 0, 0) != 1)
			bad++;
	}
	t0 = mono_ns() - t0;
	JOB_EXPECT(j, waitpid(pong, &status, 0) == pong && WIFEXITED(status) &&
			      WEXITSTATUS(status) == 0);
	JOB_EXPECT(j, bad == 0);
	job_say(j, "ping-pong between two job threads: %ld ns per round trip (%d rounds)",
		t0 / ROUNDS, ROUNDS);
	job_link(j, j->link, SHOAL_LINK_THREAD_EXIT, r.slot, 0, NULL);
}

TEST_TIMEOUT(two_threads_ping_pong, 120)
{
	struct fixture f;

	fixture_start(&f, job_ping_pong);
	fixture_child_done(&f);
	fixture_wait_gone(&f, 5000);
	job_server_destroy(f.s);
}

TEST(create_fails_cleanly)
{
	struct shoal_error err = { 0 };
	struct job_server *s = NULL;
	int link = -1, region = -1, fds[2], before;

	kboot();
	mount_proc();
	before = kernel_processes();
	SYS_OK(skl_sys_pipe2(fds, 0));
	CHECK_EQ_INT(job_server_create(NULL, "/nonexistent", fds[0], fds[1], fds[1], &s, &link,
				       &region, &err),
		     -ENOENT);
	CHECK(strstr(err.msg, "first kernel task") != NULL);
	CHECK(s == NULL && link == -1 && region == -1);
	shoal_error_clear(&err);
	CHECK_EQ_INT(job_server_create(NULL, "/", 77, fds[1], fds[1], &s, &link, &region, &err),
		     -EBADF);
	/* The failed first tasks are gone. */
	CHECK_EQ_INT(kernel_processes(), before);
	/* And a good one after them works. */
	shoal_error_clear(&err);
	CHECK_EQ_INT(job_server_create(NULL, "/", -1, fds[1], fds[1], &s, &link, &region, &err), 0);
	CHECK_EQ_INT(kernel_processes(), before + 1);
	close(link);
	job_server_destroy(s);
	close(region);
	CHECK_EQ_INT(kernel_processes(), before);
}

/*
 * The real shim (instance/jobshim/) in front of real programs, against this
 * server and the real kernel: what a job is, short of the jail. The job's
 * stdout and stderr are one kernel pipe, read here once the job ended.
 */
static int shim_run(const char *script, char *out, size_t size)
{
	const char *build = getenv("SHOAL_BUILD");
	char shim[512], state[128];
	struct shoal_error err = { 0 };
	struct job_server *s;
	int kout[2], link, region, self, status;
	long n, total = 0;
	pid_t job;

	snprintf(shim, sizeof(shim), "%s/instance/shoal-jobshim", build ? build : "build");
	self = open(shim, O_RDONLY | O_CLOEXEC);
	if (self < 0)
		harness_skip(__FILE__, __LINE__, "%s not built (make %s)", shim, shim);
	if (!skl_is_running())
		kboot();
	kmount_tmpfs("/tmp");
	/* The shim's placeholders for host files are /dev/null in the kernel. */
	n = skl_sys_mkdirat(SKL_AT_FDCWD, "/dev", 0755);
	CHECK(n == 0 || n == -SKL_EEXIST);
	SYS_OK(skl_sys_mount((char *)"devtmpfs", (char *)"/dev", (char *)"devtmpfs", 0, NULL));
	SYS_OK(skl_sys_pipe2(kout, SKL_O_NONBLOCK));
	if (job_server_create(NULL, "/tmp", -1, kout[1], kout[1], &s, &link, &region, &err) < 0)
		harness_fail(__FILE__, __LINE__, "job_server_create: %s", err.msg);
	job = fork();
	CHECK(job >= 0);
	if (job == 0) {
		int null = open("/dev/null", O_RDWR);
		char *argv[] = { (char *)SHOAL_SHIM_ARGV0,
				 state,
				 (char *)"/bin/sh",
				 (char *)"sh",
				 (char *)"-c",
				 (char *)script,
				 NULL };

		/* As the jail leaves them: link, region and shim at known numbers. */
		if (dup2(link, 100) < 0 || dup2(region, 101) < 0 || dup2(self, 102) < 0 ||
		    null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0)
			_exit(97);
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
		snprintf(state, sizeof(state), "link=100,region=101,self=102,slot=0,filtered=0");
		syscall(SYS_execveat, 102, "", argv, environ, AT_EMPTY_PATH);
		_exit(96);
	}
	close(link);
	close(region);
	close(self);
	CHECK_EQ_INT(waitpid(job, &status, 0), job);
	/* Every process of the job is gone: the server sees all links close. */
	{
		struct fixture f = { .s = s };

		fixture_wait_gone(&f, 5000);
	}
	while (total < (long)size - 1 &&
	       (n = skl_sys_read((unsigned int)kout[0], out + total, size - 1 - (size_t)total)) > 0)
		total += n;
	out[total] = '\0';
	printf("job output (%ld bytes), %ld calls served:\n%s", total, (long)job_server_calls(s),
	       out);
	job_server_destroy(s);
	skl_sys_close((unsigned int)kout[0]);
	skl_sys_close((unsigned int)kout[1]);
	CHECK(WIFEXITED(status));
	return WEXITSTATUS(status);
}

TEST_TIMEOUT(real_shim_runs_sh, 60)
{
	char out[8192];

	CHECK_EQ_INT(shim_run("echo hello; echo data > /tmp/x; cat /tmp/x; pwd; "
			      "ls /tmp | tr a-z A-Z; exit 3",
			      out, sizeof(out)),
		     3);
	CHECK(strstr(out, "hello\ndata\n/tmp\nX\n") != NULL);
}

TEST_TIMEOUT(real_shim_runs_python_threads_sockets, 120)
{
	char out[8192];

	CHECK_EQ_INT(shim_run("python3 -c '\n"
			      "import os, socket, threading, select, subprocess\n"
			      "a, b = socket.socketpair()\n"
			      "def echo():\n"
			      "    for _ in range(100):\n"
			      "        b.sendall(b.recv(64))\n"
			      "t = threading.Thread(target=echo); t.start()\n"
			      "for i in range(100):\n"
			      "    a.sendall(b\"%d\" % i)\n"
			      "    select.select([a], [], [], 5)\n"
			      "    assert a.recv(64) == b\"%d\" % i\n"
			      "t.join()\n"
			      "r, w = os.pipe()\n"
			      "p = subprocess.run([\"sh\", \"-c\", \"echo child $$ > /tmp/c; cat "
			      "/tmp/c\"],"
			      " capture_output=True)\n"
			      "print(\"threads ok\", p.stdout.decode().split()[0], os.getcwd())\n"
			      "'",
			      out, sizeof(out)),
		     0);
	CHECK(strstr(out, "threads ok child /tmp\n") != NULL);
}

/* A process that goes away closes its fds: a reader blocked in another
 * process of the job sees the end of its pipe. */
static void job_exit_wakes_reader(struct job *j)
{
	char *d = job_data(j, 0);
	int *pfd = (int *)(void *)(d + 512), child_link = -1, round;
	struct shoal_link_reply r;

	for (round = 0; round < 50; round++) {
		struct pollfd *p = (struct pollfd *)(void *)(d + 600);

		JOB_EXPECT(j,
			   job_call(j, 0, SYS_pipe2, job_iaddr(j, pfd), O_CLOEXEC, 0, 0, 0) == 0);
		r = job_link(j, j->link, SHOAL_LINK_FORK, 0, 0, &child_link);
		JOB_EXPECT(j, r.err == 0 && child_link >= 0);
		job_link(j, child_link, SHOAL_LINK_HELLO, r.slot, 0, NULL);
		/* The child writes, execs (its fds are close-on-exec: the pipe
		 * must stay open, so it dups it first), then goes. */
		JOB_EXPECT(j, job_call(j, r.slot, SYS_dup2, pfd[1], 1, 0, 0, 0) == 1);
		JOB_EXPECT(j, job_link(j, child_link, SHOAL_LINK_EXEC, r.slot, 0, NULL).err == 0);
		JOB_EXPECT(j, job_call(j, r.slot, SYS_write, 1, job_str(j, r.slot, 0, "z"), 1, 0,
				       0) == 1);
		JOB_EXPECT(j, job_call(j, 0, SYS_close, pfd[1], 0, 0, 0, 0) == 0);
		JOB_EXPECT(j, job_call(j, 0, SYS_read, pfd[0], job_iaddr(j, d), 1, 0, 0) == 1);
		*p = (struct pollfd){ .fd = pfd[0], .events = POLLIN };
		job_post(job_slot(j, 0), SYS_poll, job_iaddr(j, p), 1, -1, 0, 0);
		close(child_link);
		JOB_EXPECT(j, job_wait(job_slot(j, 0)) == 1);
		JOB_EXPECT(j, p->revents & POLLHUP);
		JOB_EXPECT(j, job_call(j, 0, SYS_close, pfd[0], 0, 0, 0, 0) == 0);
		if (j->failures)
			break;
	}
}

TEST_TIMEOUT(exit_wakes_reader, 60)
{
	struct fixture f;

	fixture_start(&f, job_exit_wakes_reader);
	fixture_child_done(&f);
	fixture_wait_gone(&f, 5000);
	job_server_destroy(f.s);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Host operations on POSIX threads: the one implementation of struct
 * skl_host_ops (see <skl/host_ops.h> for what each member promises).
 * Kernel threads get small stacks and every host signal blocked, because
 * the kernel cannot take a signal in the middle of its own code.
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <skl.h>

#include "kernel-lib/host/host.h"

/* Kernel code was written for 16 KiB stacks; give it room to spare. Only
 * touched pages cost memory. */
#define KERNEL_THREAD_STACK (256 * 1024)

/*
 * The mask kernel-lib's own threads start with: every signal blocked (the
 * kernel cannot take one in the middle of its code) except the synchronous
 * faults, which must still reach the process's handlers so that a crash is
 * reported instead of silently killing it.
 */
void host_thread_sigmask(sigset_t *set)
{
	sigfillset(set);
	sigdelset(set, SIGSEGV);
	sigdelset(set, SIGBUS);
	sigdelset(set, SIGILL);
	sigdelset(set, SIGFPE);
	sigdelset(set, SIGSYS);
	sigdelset(set, SIGABRT);
}

_Static_assert(sizeof(sigjmp_buf) <= sizeof(struct skl_jmp_buf),
	       "struct skl_jmp_buf is too small for this libc's sigjmp_buf");

static int console_fd = STDERR_FILENO;

void skl_posix_set_console_fd(int fd)
{
	console_fd = fd;
}

static void posix_print(const char *str, int len)
{
	while (len > 0 && console_fd >= 0) {
		ssize_t n = write(console_fd, str, (size_t)len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		str += n;
		len -= (int)n;
	}
}

static void posix_panic(void)
{
	static const char msg[] = "skl: kernel panic, aborting the process\n";

	posix_print(msg, sizeof(msg) - 1);
	abort();
}

struct skl_sem {
	sem_t sem;
};

static struct skl_sem *posix_sem_alloc(int count)
{
	struct skl_sem *s = malloc(sizeof(*s));

	if (s && sem_init(&s->sem, 0, (unsigned int)count) != 0) {
		free(s);
		return NULL;
	}
	return s;
}

static void posix_sem_free(struct skl_sem *s)
{
	sem_destroy(&s->sem);
	free(s);
}

static void posix_sem_up(struct skl_sem *s)
{
	sem_post(&s->sem);
}

static void posix_sem_down(struct skl_sem *s)
{
	while (sem_wait(&s->sem) != 0 && errno == EINTR)
		;
}

struct skl_mutex {
	pthread_mutex_t mutex;
};

static struct skl_mutex *posix_mutex_alloc(int recursive)
{
	struct skl_mutex *m = malloc(sizeof(*m));
	pthread_mutexattr_t attr;

	if (!m)
		return NULL;
	pthread_mutexattr_init(&attr);
	if (recursive)
		pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&m->mutex, &attr);
	pthread_mutexattr_destroy(&attr);
	return m;
}

static void posix_mutex_free(struct skl_mutex *m)
{
	pthread_mutex_destroy(&m->mutex);
	free(m);
}

static void posix_mutex_lock(struct skl_mutex *m)
{
	pthread_mutex_lock(&m->mutex);
}

static void posix_mutex_unlock(struct skl_mutex *m)
{
	pthread_mutex_unlock(&m->mutex);
}

struct thread_start {
	void (*fn)(void *);
	void *arg;
};

static void *thread_trampoline(void *p)
{
	struct thread_start start = *(struct thread_start *)p;

	free(p);
	start.fn(start.arg);
	return NULL;
}

/* pthread_t is an unsigned long on glibc: it is the handle and the id. */
_Static_assert(sizeof(pthread_t) == sizeof(unsigned long),
	       "pthread_t is not a word");

static struct skl_thread *posix_thread_create(void (*fn)(void *), void *arg)
{
	struct thread_start *start = malloc(sizeof(*start));
	sigset_t all, old;
	pthread_attr_t attr;
	pthread_t thread;
	int err;

	if (!start)
		return NULL;
	start->fn = fn;
	start->arg = arg;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, KERNEL_THREAD_STACK);
	host_thread_sigmask(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&thread, &attr, thread_trampoline, start);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (err) {
		free(start);
		return NULL;
	}
	return (struct skl_thread *)thread;
}

static __attribute__((noreturn)) void posix_thread_exit(void)
{
	pthread_exit(NULL);
}

static int posix_thread_join(struct skl_thread *thread)
{
	return -pthread_join((pthread_t)thread, NULL);
}

static unsigned long posix_thread_self(void)
{
	return (unsigned long)pthread_self();
}

static long posix_gettid(void)
{
	return gettid();
}

struct skl_tls_key {
	pthread_key_t key;
};

static struct skl_tls_key *posix_tls_alloc(void (*destructor)(void *))
{
	struct skl_tls_key *k = malloc(sizeof(*k));

	if (k && pthread_key_create(&k->key, destructor) != 0) {
		free(k);
		return NULL;
	}
	return k;
}

static void posix_tls_free(struct skl_tls_key *k)
{
	pthread_key_delete(k->key);
	free(k);
}

static int posix_tls_set(struct skl_tls_key *k, void *data)
{
	return -pthread_setspecific(k->key, data);
}

static void *posix_tls_get(struct skl_tls_key *k)
{
	return pthread_getspecific(k->key);
}

static void *posix_mem_alloc(unsigned long size)
{
	return malloc(size);
}

/* The kernel's RAM block; device models translate "physical" addresses
 * (offsets into it) with host_ram_bounds. */
static void *ram_base;
static unsigned long ram_size;

void host_ram_bounds(void **base, unsigned long *size)
{
	*base = __atomic_load_n(&ram_base, __ATOMIC_ACQUIRE);
	*size = ram_size;
}

static void *posix_ram_alloc(unsigned long size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	ram_size = size;
	__atomic_store_n(&ram_base, p, __ATOMIC_RELEASE);
	return p;
}

static void posix_ram_free(void *addr, unsigned long size)
{
	__atomic_store_n(&ram_base, NULL, __ATOMIC_RELEASE);
	munmap(addr, size);
}

static void posix_halted(void)
{
	host_netdevs_stop();
	host_blkdevs_stop();
}

static unsigned long long clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (unsigned long long)ts.tv_sec * 1000000000ULL +
	       (unsigned long long)ts.tv_nsec;
}

static unsigned long long posix_time_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

static unsigned long long posix_wall_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

/*
 * One-shot timer: a thread of its own sleeping on a condition variable
 * against the monotonic clock. Cheaper than timer_create(SIGEV_THREAD),
 * which starts a new thread per expiry, and it needs no signals.
 */
struct skl_timer {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	unsigned long long deadline; /* monotonic ns; 0: not armed */
	int stop;
	void (*fn)(void *);
	void *arg;
};

static void *timer_thread(void *p)
{
	struct skl_timer *t = p;

	pthread_mutex_lock(&t->lock);
	while (!t->stop) {
		unsigned long long now = posix_time_ns();

		if (!t->deadline) {
			pthread_cond_wait(&t->cond, &t->lock);
		} else if (t->deadline > now) {
			struct timespec ts = {
				.tv_sec = (time_t)(t->deadline / 1000000000ULL),
				.tv_nsec = (long)(t->deadline % 1000000000ULL),
			};

			pthread_cond_timedwait(&t->cond, &t->lock, &ts);
		} else {
			t->deadline = 0;
			pthread_mutex_unlock(&t->lock);
			t->fn(t->arg);
			pthread_mutex_lock(&t->lock);
		}
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

static struct skl_timer *posix_timer_alloc(void (*fn)(void *), void *arg)
{
	struct skl_timer *t = calloc(1, sizeof(*t));
	pthread_condattr_t cattr;
	pthread_attr_t attr;
	sigset_t all, old;
	int err;

	if (!t)
		return NULL;
	t->fn = fn;
	t->arg = arg;
	pthread_mutex_init(&t->lock, NULL);
	pthread_condattr_init(&cattr);
	pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC);
	pthread_cond_init(&t->cond, &cattr);
	pthread_condattr_destroy(&cattr);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, KERNEL_THREAD_STACK);
	host_thread_sigmask(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&t->thread, &attr, timer_thread, t);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (err) {
		pthread_cond_destroy(&t->cond);
		pthread_mutex_destroy(&t->lock);
		free(t);
		return NULL;
	}
	return t;
}

static int posix_timer_set(struct skl_timer *t, unsigned long long ns)
{
	pthread_mutex_lock(&t->lock);
	t->deadline = ns ? posix_time_ns() + ns : 0;
	pthread_cond_signal(&t->cond);
	pthread_mutex_unlock(&t->lock);
	return 0;
}

static void posix_timer_free(struct skl_timer *t)
{
	pthread_mutex_lock(&t->lock);
	t->stop = 1;
	pthread_cond_signal(&t->cond);
	pthread_mutex_unlock(&t->lock);
	pthread_join(t->thread, NULL);
	pthread_cond_destroy(&t->cond);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

static int posix_jmp_buf_set(struct skl_jmp_buf *jb, void (*fn)(void *),
			     void *arg)
{
	if (sigsetjmp(*(sigjmp_buf *)jb->buf, 0))
		return 1;
	fn(arg);
	return 0;
}

static __attribute__((noreturn)) void
posix_jmp_buf_longjmp(struct skl_jmp_buf *jb)
{
	siglongjmp(*(sigjmp_buf *)jb->buf, 1);
}

static int posix_getrandom(void *buf, unsigned long len)
{
	unsigned char *p = buf;

	while (len) {
		ssize_t n = getrandom(p, len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (unsigned long)n;
	}
	return 0;
}

struct skl_host_ops skl_host_posix_ops = {
	.print = posix_print,
	.panic = posix_panic,
	.sem_alloc = posix_sem_alloc,
	.sem_free = posix_sem_free,
	.sem_up = posix_sem_up,
	.sem_down = posix_sem_down,
	.mutex_alloc = posix_mutex_alloc,
	.mutex_free = posix_mutex_free,
	.mutex_lock = posix_mutex_lock,
	.mutex_unlock = posix_mutex_unlock,
	.thread_create = posix_thread_create,
	.thread_exit = posix_thread_exit,
	.thread_join = posix_thread_join,
	.thread_self = posix_thread_self,
	.gettid = posix_gettid,
	.context_alloc = host_context_alloc,
	.context_free = host_context_free,
	.context_switch = host_context_switch,
	.tls_alloc = posix_tls_alloc,
	.tls_free = posix_tls_free,
	.tls_set = posix_tls_set,
	.tls_get = posix_tls_get,
	.mem_alloc = posix_mem_alloc,
	.mem_free = free,
	.ram_alloc = posix_ram_alloc,
	.ram_free = posix_ram_free,
	.time_ns = posix_time_ns,
	.wall_ns = posix_wall_ns,
	.timer_alloc = posix_timer_alloc,
	.timer_set = posix_timer_set,
	.timer_free = posix_timer_free,
	.jmp_buf_set = posix_jmp_buf_set,
	.jmp_buf_longjmp = posix_jmp_buf_longjmp,
	.iomem_access = host_iomem_access,
	.halted = posix_halted,
	.getrandom = posix_getrandom,
};

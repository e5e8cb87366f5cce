/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The whole contract between the library kernel and its host. The kernel
 * calls the host only through this table; the host library supplies one
 * implementation on POSIX threads (kernel-lib/host/posix.c). The header is
 * compiled on both sides, so it uses only C's own types and includes nothing.
 *
 * Threads, semaphores and mutexes are opaque host objects. Every function may
 * be called from any host thread unless its comment says otherwise.
 */
#ifndef _SKL_HOST_OPS_H
#define _SKL_HOST_OPS_H

/*
 * Device register windows (virtio-mmio) live at these "physical" addresses,
 * far above any RAM; the kernel sends every access inside them to the host's
 * iomem_access instead of memory.
 */
#define SKL_IOMEM_BASE 0x100000000000UL
#define SKL_IOMEM_SIZE 0x000010000000UL

struct skl_sem;
struct skl_mutex;
struct skl_thread;
struct skl_tls_key;
struct skl_timer;
struct skl_context;

/* Room for the host's setjmp state; checked at build time on the host side. */
struct skl_jmp_buf {
	unsigned long buf[40];
};

struct skl_host_ops {
	/* Console: write len bytes of kernel log text. Never blocks for long. */
	void (*print)(const char *str, int len);
	/* A kernel panic ended the kernel; the host decides what happens to
	 * the process (the default ends it with a clear status). */
	void (*panic)(void);

	/* Counting semaphore, created with count. One per kernel task: the
	 * host thread that runs a task sleeps on it while the task is off the
	 * CPU. */
	struct skl_sem *(*sem_alloc)(int count);
	void (*sem_free)(struct skl_sem *sem);
	void (*sem_up)(struct skl_sem *sem);
	void (*sem_down)(struct skl_sem *sem);

	/* Mutex, recursive if asked. Guards the CPU lock's own state. */
	struct skl_mutex *(*mutex_alloc)(int recursive);
	void (*mutex_free)(struct skl_mutex *mutex);
	void (*mutex_lock)(struct skl_mutex *mutex);
	void (*mutex_unlock)(struct skl_mutex *mutex);

	/* Threads: every kernel thread is a host thread. Created joinable,
	 * with every host signal blocked (the kernel cannot take them).
	 * thread_exit ends the calling thread; thread_join waits for one. */
	struct skl_thread *(*thread_create)(void (*fn)(void *), void *arg);
	void (*thread_exit)(void) __attribute__((noreturn));
	int (*thread_join)(struct skl_thread *thread);
	/* An id of the calling host thread, unique among live threads: the
	 * value thread_create returned for it, cast to unsigned long. */
	unsigned long (*thread_self)(void);
	/* The host's thread id (gettid), for logs and statistics. */
	long (*gettid)(void);

	/* Execution contexts: a stack and saved registers, switched on the
	 * calling host thread without the host kernel. Every kernel thread
	 * is one, and they all take turns on one host thread: only one runs
	 * kernel code at a time anyway. context_alloc(fn, arg, size) makes a
	 * context whose first switch-in runs fn(arg) on a fresh stack of
	 * size bytes; context_alloc(NULL, NULL, 0) makes an empty one that
	 * only saves the caller's context. context_switch saves the calling
	 * context in from and resumes to. */
	struct skl_context *(*context_alloc)(void (*fn)(void *), void *arg,
					     unsigned long stack_size);
	void (*context_free)(struct skl_context *ctx);
	void (*context_switch)(struct skl_context *from,
			       struct skl_context *to);

	/* Thread-local keys: bind a host thread to its kernel task. The
	 * destructor runs when a thread that set a value exits. */
	struct skl_tls_key *(*tls_alloc)(void (*destructor)(void *));
	void (*tls_free)(struct skl_tls_key *key);
	int (*tls_set)(struct skl_tls_key *key, void *data);
	void *(*tls_get)(struct skl_tls_key *key);

	/* Small host allocations, and the page-aligned block that becomes the
	 * kernel's RAM (untouched pages cost the host nothing). */
	void *(*mem_alloc)(unsigned long size);
	void (*mem_free)(void *addr);
	void *(*ram_alloc)(unsigned long size);
	void (*ram_free)(void *addr, unsigned long size);

	/* Monotonic nanoseconds (the clocksource) and wall-clock nanoseconds
	 * since the epoch (read once at boot). */
	unsigned long long (*time_ns)(void);
	unsigned long long (*wall_ns)(void);

	/* One-shot timer: fn(arg) runs on a host thread ns nanoseconds after
	 * timer_set; a later timer_set replaces the earlier; ns == 0 cancels. */
	struct skl_timer *(*timer_alloc)(void (*fn)(void *), void *arg);
	int (*timer_set)(struct skl_timer *timer, unsigned long long ns);
	void (*timer_free)(struct skl_timer *timer);

	/* setjmp/longjmp: jmp_buf_set saves the caller's context and calls
	 * fn(arg), then returns 0; a jmp_buf_longjmp to jb while fn runs
	 * makes jmp_buf_set return 1 at once. */
	int (*jmp_buf_set)(struct skl_jmp_buf *jb, void (*fn)(void *),
			   void *arg);
	void (*jmp_buf_longjmp)(struct skl_jmp_buf *jb)
		__attribute__((noreturn));

	/* A driver read (write 0) or wrote (write 1) size bytes at addr in
	 * the device window: the host's device model answers. Returns 0, or
	 * -errno for an address no device owns (reads then see all ones). */
	int (*iomem_access)(unsigned long addr, void *val, int size, int write);

	/* The kernel has halted and every thread it made has ended: the
	 * host stops what it runs for the kernel (device threads) and closes
	 * what it opened. May be NULL. */
	void (*halted)(void);

	/* Fill buf with len random bytes from the host (seeds the kernel's
	 * entropy pool so getrandom never blocks at boot). */
	int (*getrandom)(void *buf, unsigned long len);
};

#endif /* _SKL_HOST_OPS_H */

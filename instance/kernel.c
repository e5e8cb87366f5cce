// SPDX-License-Identifier: GPL-2.0
/*
 * Booting and halting the instance's library kernel. The kernel reaches the
 * host only through its table of host operations; the instance uses the
 * POSIX ones (kernel-lib/host/posix.c) with three members changed before
 * boot:
 *
 *  - print: the console goes into console.c's ring, not to a descriptor;
 *  - panic: a kernel panic sends `fatal` (fatal.c) instead of abort();
 *  - thread_create: the kernel's host threads leave the synchronous fault
 *    signals (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGSYS, SIGABRT) unblocked and
 *    get an alternate signal stack, so a fault or a forbidden system call in
 *    kernel code is reported by fatal.c. (The POSIX version blocks every
 *    signal; the kernel itself still never sees one, since these are only
 *    ever raised by the faulting thread's own instruction.)
 *
 * skl_boot() builds the command line, including the virtio devices' string
 * that only kernel-lib knows, and boots with skl_host_posix_ops, so the
 * instance changes that table in place rather than booting a copy with
 * skl_start_kernel(). Nothing else in the process boots a kernel.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <skl.h>

#include "api/log.h"
#include "instance/instance.h"

#define KERNEL_THREAD_STACK (256 * 1024) /* as kernel-lib's POSIX host: see posix.c */
#define KERNEL_ALTSTACK (16 * 1024)
#define KERNEL_LOGLEVEL 7 /* console: up to info (<7), so boot messages reach the log */

struct kernel_thread_start {
	void (*fn)(void *);
	void *arg;
};

static void *kernel_thread_trampoline(void *p)
{
	struct kernel_thread_start start = *(struct kernel_thread_start *)p;
	stack_t ss = { .ss_size = KERNEL_ALTSTACK };

	free(p);
	/* Leaked on purpose if the thread ends: kernel threads live as long as the kernel. */
	ss.ss_sp = malloc(KERNEL_ALTSTACK);
	if (ss.ss_sp)
		sigaltstack(&ss, NULL);
	start.fn(start.arg);
	return NULL;
}

/* The POSIX host's thread_create, but with the fault signals left open. */
static struct skl_thread *kernel_thread_create_cb(void (*fn)(void *), void *arg)
{
	static const int faults[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGSYS, SIGABRT };
	struct kernel_thread_start *start = malloc(sizeof(*start));
	sigset_t mask, old;
	pthread_attr_t attr;
	pthread_t thread;
	size_t i;
	int err;

	if (!start)
		return NULL;
	start->fn = fn;
	start->arg = arg;
	sigfillset(&mask);
	for (i = 0; i < sizeof(faults) / sizeof(faults[0]); i++)
		sigdelset(&mask, faults[i]);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, KERNEL_THREAD_STACK);
	pthread_sigmask(SIG_SETMASK, &mask, &old);
	err = pthread_create(&thread, &attr, kernel_thread_trampoline, start);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (err) {
		free(start);
		return NULL;
	}
	/* thread_join and thread_self of the POSIX host take a pthread_t as the handle. */
	return (struct skl_thread *)thread;
}

int kernel_prepare(struct shoal_error *err)
{
#ifdef INSTANCE_STATIC
	/* Linked statically, the unwinder pthread_exit() uses is in the program. */
	(void)err;
#else
	/*
	 * A kernel thread ends with pthread_exit(), which unwinds its stack
	 * with libgcc_s, and glibc loads that library on first use: by then
	 * the instance has no files to open and no openat to open them with.
	 * The sanitizer build links it as a needed library (instance.mk), so
	 * the loader mapped it at exec; this dlopen only checks that it is
	 * there, as glibc's own load later will.
	 */
	if (!dlopen("libgcc_s.so.1", RTLD_NOW | RTLD_NODELETE))
		return shoal_error_set(err, ENOENT, "load libgcc_s.so.1: %s", dlerror());
#endif
	return 0;
}

/*
 * The kernel's RAM, mapped before boot so that time the instance would
 * otherwise spend waiting (for the namespaces built ahead) can fault in the
 * part of it the boot writes first: the memory map, one struct page (64
 * bytes) per 4 KiB page, which memblock places at the top of RAM (it
 * allocates top-down) and the boot initialises page by page: 256 page faults
 * for 64 MiB, ~0.3 ms here. Only that part, and only while there is nothing
 * else to do: a page faulted in now is one the boot would have faulted in.
 */
static struct {
	char *block;
	unsigned long size;
	char *warm_next, *warm_end;
	void *(*alloc)(unsigned long size); /* the POSIX host's own */
} kernel_ram;

#define KERNEL_WARM_CHUNK (64 * 1024)

static void *kernel_ram_alloc_cb(unsigned long size)
{
	char *block = kernel_ram.block;

	kernel_ram.block = NULL;
	kernel_ram.warm_next = kernel_ram.warm_end;
	if (block && size == kernel_ram.size)
		return block; /* the kernel's now */
	/* Another size (a mem= in kernel_cmdline wins): the host's own allocation. */
	if (block)
		skl_host_posix_ops.ram_free(block, kernel_ram.size);
	return kernel_ram.alloc(size);
}

int kernel_ram_reserve(struct instance *in, struct shoal_error *err)
{
	unsigned long size = (unsigned long)in->config.configure.memory_mib << 20;
	unsigned long map = size / 4096 * 64;

	/* The POSIX host's own allocation, so its device models know the block. */
	kernel_ram.alloc = skl_host_posix_ops.ram_alloc;
	kernel_ram.block = kernel_ram.alloc(size);
	if (!kernel_ram.block)
		return shoal_error_set(err, ENOMEM, "map %u MiB for the kernel's RAM",
				       in->config.configure.memory_mib);
	kernel_ram.size = size;
	kernel_ram.warm_next =
		kernel_ram.block + size -
		((map + KERNEL_WARM_CHUNK - 1) & ~(unsigned long)(KERNEL_WARM_CHUNK - 1));
	kernel_ram.warm_end = kernel_ram.block + size;
	skl_host_posix_ops.ram_alloc = kernel_ram_alloc_cb;
	return 0;
}

bool kernel_ram_warm_step(void)
{
	if (kernel_ram.warm_next >= kernel_ram.warm_end)
		return false;
	/* Faulted in as the boot would, writable; EINVAL (older hosts) ends it. */
	if (madvise(kernel_ram.warm_next, KERNEL_WARM_CHUNK, MADV_POPULATE_WRITE) < 0)
		kernel_ram.warm_next = kernel_ram.warm_end;
	else
		kernel_ram.warm_next += KERNEL_WARM_CHUNK;
	return kernel_ram.warm_next < kernel_ram.warm_end;
}

int kernel_boot(struct instance *in, struct shoal_error *err)
{
	const struct proto_configure *cfg = &in->config.configure;
	struct skl_boot_params params = {
		.mem_bytes = (unsigned long)cfg->memory_mib << 20,
		.loglevel = KERNEL_LOGLEVEL,
		.extra = cfg->kernel_cmdline,
	};
	struct skl_new_utsname uts;
	long r;

	skl_host_posix_ops.print = console_print_cb;
	skl_host_posix_ops.panic = fatal_panic_cb;
	skl_host_posix_ops.thread_create = kernel_thread_create_cb;
	r = skl_boot(&params);
	if (r < 0)
		return shoal_error_set(err, (int)r, "boot the library kernel (%u MiB%s%s)",
				       cfg->memory_mib, cfg->kernel_cmdline ? ", " : "",
				       cfg->kernel_cmdline ? cfg->kernel_cmdline : "");
	in->t_booted_us = instance_now_us();
	r = skl_sys_uname(&uts);
	if (r < 0)
		return shoal_error_set(err, (int)r, "uname in the instance kernel");
	snprintf(in->kernel_release, sizeof(in->kernel_release), "%.*s", PROTO_RELEASE_MAX,
		 uts.release);
	/* Modes given in requests are meant exactly. */
	skl_sys_umask(0);
	return 0;
}

void kernel_halt(struct instance *in)
{
	long r;

	(void)in;
	if (!skl_is_running())
		return;
	r = skl_halt();
	if (r < 0)
		shoal_log_warn("halt the library kernel: %s", strerror((int)-r));
}

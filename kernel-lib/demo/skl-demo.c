// SPDX-License-Identifier: GPL-2.0
/*
 * skl-demo: what `make demo` shows until the orchestrator exists. One
 * process boots its own Linux 6.12 as a library, then uses it the way a
 * program uses a kernel -- a tmpfs, files, TCP over its own loopback between
 * two host threads -- and halts it, printing what each step took.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <skl.h>
#include <skl_net.h>

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int fail(const char *what, long err)
{
	fprintf(stderr, "skl-demo: %s: %s\n", what, strerror((int)-err));
	return 1;
}

static void *server(void *arg)
{
	long ls = (long)arg, fd, n, total = 0;
	char buf[65536];

	fd = skl_sys_accept4((int)ls, NULL, NULL, 0);
	while (fd >= 0 &&
	       (n = skl_sys_read((unsigned int)fd, buf, sizeof(buf))) > 0)
		total += n;
	if (fd >= 0)
		skl_sys_close((unsigned int)fd);
	return (void *)total;
}

int main(void)
{
	struct skl_boot_params params = { .mem_bytes = 64UL << 20,
					  .loglevel = 4 };
	struct skl_sockaddr_in addr = { .sin_family = SKL_AF_INET,
					.sin_port = 0x5c11 };
	struct skl_new_utsname u;
	static char buf[65536];
	void *received;
	double t0, t;
	long r, fd, ls, i;
	pthread_t th;

	skl_posix_set_console_fd(-1);
	t0 = now_ms();
	r = skl_boot(&params);
	if (r)
		return fail("boot", r);
	t = now_ms();
	memset(&u, 0, sizeof(u));
	skl_sys_uname(&u);
	printf("booted %s %s in %.2f ms, in this process (pid %d), as pid %ld "
	       "of its own kernel\n",
	       u.sysname, u.release, t - t0, (int)getpid(), skl_sys_getpid());

	t0 = now_ms();
	skl_sys_mkdirat(SKL_AT_FDCWD, "/tmp", 01777);
	r = skl_sys_mount("tmpfs", "/tmp", "tmpfs", 0, NULL);
	if (r)
		return fail("mount tmpfs", r);
	fd = skl_sys_openat(SKL_AT_FDCWD, "/tmp/hello",
			    SKL_O_CREAT | SKL_O_RDWR, 0644);
	if (fd < 0)
		return fail("open /tmp/hello", fd);
	skl_sys_write((unsigned int)fd, "hello from a library kernel\n", 28);
	skl_sys_lseek((unsigned int)fd, 0, SKL_SEEK_SET);
	r = skl_sys_read((unsigned int)fd, buf, sizeof(buf) - 1);
	buf[r > 0 ? r : 0] = 0;
	skl_sys_close((unsigned int)fd);
	printf("wrote and read /tmp/hello on the kernel's tmpfs in %.3f ms: %s",
	       now_ms() - t0, buf);
	if (access("/tmp/hello", F_OK) != 0 ||
	    strcmp(buf, "hello from a library kernel\n"))
		printf("  (the host's own /tmp has no such file: it lives in "
		       "the library kernel)\n");

	r = skl_net_lo_up(NULL, 0);
	if (r)
		return fail("lo up", r);
	ls = skl_sys_socket(SKL_AF_INET, SKL_SOCK_STREAM, 0);
	addr.sin_addr.s_addr = 0x0100007f; /* 127.0.0.1 */
	if (ls < 0 || skl_sys_bind((int)ls, (void *)&addr, sizeof(addr)) ||
	    skl_sys_listen((int)ls, 1))
		return fail("listen", ls < 0 ? ls : -EADDRINUSE);
	pthread_create(&th, NULL, server, (void *)ls);
	fd = skl_sys_socket(SKL_AF_INET, SKL_SOCK_STREAM, 0);
	r = skl_sys_connect((int)fd, (void *)&addr, sizeof(addr));
	if (r)
		return fail("connect", r);
	t0 = now_ms();
	for (i = 0; i < 1024; i++)
		skl_sys_write((unsigned int)fd, buf, sizeof(buf));
	skl_sys_close((unsigned int)fd);
	pthread_join(th, &received);
	t = now_ms() - t0;
	printf("moved %ld MiB over the kernel's own TCP/IP loopback between "
	       "two host threads in "
	       "%.0f ms (%.2f Gbit/s)\n",
	       (long)received >> 20, t, (double)(long)received * 8 / t / 1e6);

	t0 = now_ms();
	r = skl_halt();
	if (r)
		return fail("halt", r);
	printf("halted in %.2f ms; every thread the kernel made is gone\n",
	       now_ms() - t0);
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * jobprog: a program for tests/jobs/ to run under shoal-jobshim. Built
 * static and dynamic. Each mode does one thing and prints one line:
 *   raw-ptrace     ptrace(PTRACE_TRACEME) with its own `syscall` instruction
 *   raw-getppid N  N raw getpriority calls (each one a trap under the shim;
 *                  getppid itself runs untrapped now, the name stayed)
 *   segv           dereference NULL
 *   sigsys         try to take SIGSYS from the shim, then make calls
 *   threads N      N threads each write a line through write(2)
 *   mmap PATH      map PATH privately and print its first line
 *   pipes T N      T threads (1: the main one alone) each move N bytes
 *                  through a pipe of their own, 1-byte write then read,
 *                  checking each byte, while a SIGALRM every 200 µs runs a
 *                  handler that does the same on its own pipe: glibc's
 *                  read and write sites, the ones the shim rewrites, hit
 *                  from several threads and from a signal handler; then
 *                  says whether the sites of write and read were rewritten
 *   sigread restart|norestart N
 *                  N rounds of: a read of a pipe that a child writes 150 ms
 *                  later, interrupted after 50 ms by SIGALRM, whose handler
 *                  has SA_RESTART or not: with it the read goes on and gets
 *                  the byte, without it fails with EINTR
 */
#include <pthread.h>
#include <sys/time.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

static long raw4(long nr, long a, long b, long c, long d)
{
	long r;
	register long r10 __asm__("r10") = d;

	__asm__ volatile("syscall"
			 : "=a"(r)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10)
			 : "rcx", "r11", "memory");
	return r;
}

static void *thread_main(void *arg)
{
	char line[64];
	int n = snprintf(line, sizeof(line), "thread %ld\n", (long)arg);

	if (write(1, line, (size_t)n) != n)
		abort();
	return NULL;
}

static int alarm_pipe[2];
static volatile long alarm_ok, alarm_bad;

static void alarm_handler(int sig)
{
	char c = 'a', back = 0;

	(void)sig;
	if (write(alarm_pipe[1], &c, 1) == 1 && read(alarm_pipe[0], &back, 1) == 1 && back == c)
		alarm_ok++;
	else
		alarm_bad++;
}

static void *pipes_thread(void *arg)
{
	long i, n = (long)arg, bad = 0;
	int fds[2];

	if (pipe(fds))
		return (void *)-1L;
	for (i = 0; i < n; i++) {
		char c = (char)i, back = 0;
		ssize_t w, r;

		/* EINTR is possible: the handler has no SA_RESTART. */
		while ((w = write(fds[1], &c, 1)) < 0 && errno == EINTR)
			;
		while ((r = read(fds[0], &back, 1)) < 0 && errno == EINTR)
			;
		bad += w != 1 || r != 1 || back != c;
	}
	close(fds[0]);
	close(fds[1]);
	return (void *)bad;
}

/*
 * Whether the `syscall` sites in the first bytes of @fn were left as glibc
 * has them (`mov $nr, %eax` or `xor %eax, %eax` before each: "original") or
 * one was rewritten into a jmp by the shim's patch.c ("rewritten").
 */
static const char *site_state(const void *fn)
{
	const unsigned char *b = fn;
	int i, original = 0;

	for (i = 8; i < 200; i++) {
		if (b[i] != 0x0f || b[i + 1] != 0x05)
			continue;
		if (b[i - 5] == 0xe9 || b[i - 2] == 0xe9)
			return "rewritten";
		original |= b[i - 5] == 0xb8 || (b[i - 2] == 0x31 && b[i - 1] == 0xc0);
	}
	return original ? "original" : "unknown";
}

static int pipes_mode(long threads, long n)
{
	struct itimerval it = { { 0, 200 }, { 0, 200 } };
	struct sigaction sa;
	pthread_t t[16];
	long i, bad = 0;
	void *r;

	if (threads < 1 || threads > 16 || pipe(alarm_pipe))
		return 1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = alarm_handler;
	if (sigaction(SIGALRM, &sa, NULL) || setitimer(ITIMER_REAL, &it, NULL))
		return 1;
	for (i = 1; i < threads; i++)
		if (pthread_create(&t[i], NULL, pipes_thread, (void *)n))
			return 1;
	bad += (long)pipes_thread((void *)n);
	for (i = 1; i < threads; i++) {
		pthread_join(t[i], &r);
		bad += (long)r;
	}
	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
	printf("pipes bytes=%ld bad=%ld handler-bad=%ld handler-ran=%s\n", threads * n, bad,
	       alarm_bad, alarm_ok > 0 ? "yes" : "no");
	printf("write-site=%s read-site=%s\n", site_state((const void *)write),
	       site_state((const void *)read));
	return 0;
}

static volatile int sigread_handled;

static void sigread_handler(int sig)
{
	(void)sig;
	sigread_handled++;
}

static int sigread_mode(int restart, long rounds)
{
	struct itimerval it = { { 0, 0 }, { 0, 50000 } };
	long i, ok = 0;
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sigread_handler;
	sa.sa_flags = restart ? SA_RESTART : 0;
	if (sigaction(SIGALRM, &sa, NULL))
		return 1;
	for (i = 0; i < rounds; i++) {
		int fds[2], handled = sigread_handled;
		char c = 0;
		ssize_t r;
		pid_t pid;

		if (pipe(fds))
			return 1;
		pid = fork();
		if (pid == 0) {
			usleep(150000);
			_exit(write(fds[1], "x", 1) == 1 ? 0 : 1);
		}
		if (pid < 0 || setitimer(ITIMER_REAL, &it, NULL))
			return 1;
		r = read(fds[0], &c, 1);
		if (restart)
			ok += r == 1 && c == 'x' && sigread_handled == handled + 1;
		else
			ok += r == -1 && errno == EINTR && sigread_handled == handled + 1 &&
			      read(fds[0], &c, 1) == 1 && c == 'x';
		waitpid(pid, NULL, 0);
		close(fds[0]);
		close(fds[1]);
	}
	printf("sigread %s rounds=%ld ok=%ld\n", restart ? "restart" : "norestart", rounds, ok);
	return 0;
}

static int sigsys_mode(void)
{
	struct sigaction sa, old;
	sigset_t set, cur;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGSYS, &sa, NULL))
		return 1;
	if (sigaction(SIGSYS, NULL, &old) || old.sa_handler != SIG_IGN)
		return 2; /* the pretend disposition reads back */
	sigemptyset(&set);
	sigaddset(&set, SIGSYS);
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return 3;
	if (sigprocmask(SIG_SETMASK, NULL, &cur))
		return 4;
	if (!sigismember(&cur, SIGUSR1))
		return 5; /* USR1 really blocked */
	/* A trapped call still works: SIGSYS was not blocked. */
	if (raw4(140 /* getpriority */, 0 /* PRIO_PROCESS */, 0, 0, 0) <= 0)
		return 6;
	printf("sigsys sigsys-blocked=%d\n", sigismember(&cur, SIGSYS));
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";

	setvbuf(stdout, NULL, _IONBF, 0);
	if (!strcmp(mode, "raw-ptrace")) {
		printf("ptrace=%ld\n", raw4(101 /* ptrace */, 0 /* TRACEME */, 0, 0, 0));
		return 0;
	}
	if (!strcmp(mode, "raw-getppid") && argc > 2) {
		long i, n = atol(argv[2]), ok = 0;

		for (i = 0; i < n; i++)
			ok += raw4(140 /* getpriority */, 0, 0, 0, 0) > 0;
		printf("getppid ok=%ld\n", ok);
		return 0;
	}
	if (!strcmp(mode, "segv")) {
		*(volatile int *)0 = 1;
		return 0;
	}
	if (!strcmp(mode, "sigsys"))
		return sigsys_mode();
	if (!strcmp(mode, "threads") && argc > 2) {
		long i, n = atol(argv[2]);
		pthread_t t[64];

		if (n > 64)
			n = 64;
		for (i = 0; i < n; i++) {
			if (pthread_create(&t[i], NULL, thread_main, (void *)i))
				return 1;
		}
		for (i = 0; i < n; i++)
			pthread_join(t[i], NULL);
		printf("joined %ld\n", n);
		return 0;
	}
	if (!strcmp(mode, "mmap") && argc > 2) {
		int fd = open(argv[2], O_RDONLY);
		struct stat st;
		char *p, *nl;

		if (fd < 0 || fstat(fd, &st) || st.st_size == 0)
			return 1;
		p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (p == MAP_FAILED)
			return 2;
		nl = memchr(p, '\n', (size_t)st.st_size);
		printf("%.*s\n", nl ? (int)(nl - p) : 0, p);
		return 0;
	}
	if (!strcmp(mode, "sigread") && argc > 3)
		return sigread_mode(!strcmp(argv[2], "restart"), atol(argv[3]));
	if (!strcmp(mode, "pipes") && argc > 3)
		return pipes_mode(atol(argv[2]), atol(argv[3]));
	fprintf(stderr, "jobprog: unknown mode '%s'\n", mode);
	return 2;
}

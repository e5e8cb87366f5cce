// SPDX-License-Identifier: GPL-2.0
/* jobrun.c: bounded command runs for tests/jobs/ (see jobrun.h). */
#include "tests/jobs/jobrun.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/harness.h"

const char *jobrun_build_path(const char *rel)
{
	static char bufs[8][4096];
	static int next;
	const char *b = getenv("SHOAL_BUILD");
	char *p = bufs[next++ % 8];

	char cwd[2048];

	/* Absolute: commands may run in another folder. */
	b = b && *b ? b : "build";
	if (b[0] != '/' && getcwd(cwd, sizeof(cwd)))
		snprintf(p, 4096, "%s/%s/%s", cwd, b, rel);
	else
		snprintf(p, 4096, "%s/%s", b, rel);
	return p;
}

const char *jobrun_shim(void)
{
	const char *p = jobrun_build_path("instance/shoal-jobshim");

	if (access(p, X_OK))
		FAIL("%s is not built (make %s)", p, p);
	return p;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void drain(int fd, char *buf, size_t *len, int *open_)
{
	ssize_t n = read(fd, buf + *len, JOBRUN_OUT_MAX - 1 - *len);

	if (n > 0) {
		*len += (size_t)n;
		buf[*len] = 0;
	} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
		*open_ = 0;
	}
	if (*len >= JOBRUN_OUT_MAX - 1)
		*open_ = 0;
}

void jobrun(struct jobrun *r, const char *const *argv, const char *const *env, const char *cwd,
	    int secs)
{
	int po[2], pe[2], oo = 1, eo = 1, j;
	size_t ol = 0, el = 0;
	double deadline = now() + secs;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	CHECK(pipe2(po, O_CLOEXEC) == 0 && pipe2(pe, O_CLOEXEC) == 0);
	fflush(stdout);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		setpgid(0, 0);
		dup2(null, 0);
		dup2(po[1], 1);
		dup2(pe[1], 2);
		for (j = 0; env && env[j]; j++)
			putenv((char *)env[j]);
		if (cwd && chdir(cwd))
			_exit(110);
		execv(argv[0], (char **)argv);
		_exit(111);
	}
	setpgid(pid, pid);
	close(po[1]);
	close(pe[1]);
	while (oo || eo) {
		struct pollfd p[2] = { { oo ? po[0] : -1, POLLIN, 0 },
				       { eo ? pe[0] : -1, POLLIN, 0 } };
		int left = (int)((deadline - now()) * 1000);

		if (left <= 0) {
			kill(-pid, SIGKILL);
			waitpid(pid, &r->status, 0);
			FAIL("%s: timeout after %d s; stdout so far: %s; stderr: %s", argv[0], secs,
			     r->out, r->err);
		}
		if (poll(p, 2, left) < 0 && errno != EINTR)
			FAIL("poll: %s", strerror(errno));
		if (p[0].revents)
			drain(po[0], r->out, &ol, &oo);
		if (p[1].revents)
			drain(pe[0], r->err, &el, &eo);
	}
	close(po[0]);
	close(pe[0]);
	CHECK(waitpid(pid, &r->status, 0) == pid);
	kill(-pid, SIGKILL); /* whatever the command left in its group */
	printf("exit: %s %d\nstdout: %s\nstderr: %s\n", WIFEXITED(r->status) ? "status" : "signal",
	       WIFEXITED(r->status) ? WEXITSTATUS(r->status) : WTERMSIG(r->status), r->out, r->err);
}

void jobrun_check_exit(const struct jobrun *r, int code)
{
	CHECK(WIFEXITED(r->status));
	CHECK_EQ_INT(WEXITSTATUS(r->status), code);
}

static char tmpdir[64];

/*
 * The folder must go also when the case fails (the harness ends a failed
 * case with _exit, without atexit handlers): a small guardian in its own
 * session waits for the case process to end (EOF on a pipe only the case
 * holds) and then removes it.
 */
const char *jobrun_tmpdir(void)
{
	int p[2], ready[2];
	pid_t pid;
	char c;

	if (tmpdir[0])
		return tmpdir;
	strcpy(tmpdir, "/tmp/shoal-jobs-XXXXXX");
	CHECK(mkdtemp(tmpdir) != NULL);
	CHECK(pipe2(p, O_CLOEXEC) == 0 && pipe2(ready, O_CLOEXEC) == 0);
	fflush(stdout);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		char *const rm[] = { "rm", "-rf", tmpdir, NULL };

		/* Out of the case's process group before the case may end
		 * (the runner kills that group), then say so. */
		setsid();
		close(p[1]);
		close(ready[0]);
		if (write(ready[1], "", 1) != 1)
			_exit(1);
		close(ready[1]);
		for (;;) {
			ssize_t n = read(p[0], &c, 1);

			if (n == 0 || (n < 0 && errno != EINTR))
				break;
		}
		execv("/bin/rm", rm);
		_exit(1);
	}
	close(p[0]);
	close(ready[1]);
	CHECK(read(ready[0], &c, 1) == 1);
	close(ready[0]);
	return tmpdir;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * boot-bench's use of the cgroup v1 memory controller (see cgroup.h): create
 * a folder per instance, move a freshly forked child into it before it execs,
 * list and kill its processes by pid, read its peak, remove it.
 */
#include "tests/bench/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api/cleanup.h"

int bench_cgroup_create(const char *parent, const char *name, char *path, size_t len,
			struct shoal_error *err)
{
	if ((size_t)snprintf(path, len, "%s/%s", parent, name) >= len)
		return shoal_error_set(err, ENAMETOOLONG, "cgroup path %s/%s", parent, name);
	if (mkdir(path, 0755))
		return shoal_error_set(err, errno, "mkdir %s", path);
	return 0;
}

int bench_cgroup_join_self(const char *path)
{
	char file[4096];
	ssize_t n;
	int fd;

	if ((size_t)snprintf(file, sizeof(file), "%s/cgroup.procs", path) >= sizeof(file))
		return -ENAMETOOLONG;
	fd = open(file, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* "0" means the writing process itself. */
	n = write(fd, "0", 1);
	if (n < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	close(fd);
	return 0;
}

static FILE *cgroup_open(const char *path, const char *file, struct shoal_error *err)
{
	char name[4096];
	FILE *f;

	if ((size_t)snprintf(name, sizeof(name), "%s/%s", path, file) >= sizeof(name)) {
		shoal_error_set(err, ENAMETOOLONG, "cgroup file %s/%s", path, file);
		return NULL;
	}
	f = fopen(name, "re");
	if (!f)
		shoal_error_set(err, errno, "open %s", name);
	return f;
}

int bench_cgroup_pids(const char *path, pid_t *pids, int max, struct shoal_error *err)
{
	_cleanup_fclose_ FILE *f = cgroup_open(path, "cgroup.procs", err);
	int n = 0, pid;

	if (!f)
		return -ENOENT;
	while (fscanf(f, "%d", &pid) == 1) {
		if (n < max)
			pids[n] = pid;
		n++;
	}
	return n;
}

int bench_cgroup_read_u64(const char *path, const char *file, uint64_t *value,
			  struct shoal_error *err)
{
	_cleanup_fclose_ FILE *f = cgroup_open(path, file, err);

	if (!f)
		return -ENOENT;
	if (fscanf(f, "%" SCNu64, value) != 1)
		return shoal_error_set(err, EIO, "%s/%s holds no number", path, file);
	return 0;
}

int bench_cgroup_kill(const char *path)
{
	pid_t pids[256];
	int n, i;

	n = bench_cgroup_pids(path, pids, 256, NULL);
	for (i = 0; i < n && i < 256; i++)
		kill(pids[i], SIGKILL);
	return n < 0 ? 0 : n;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

int bench_cgroup_remove(const char *path, int timeout_ms, struct shoal_error *err)
{
	int waited;

	/* A process that died is taken out of the cgroup when it is reaped; one
	 * that is still there is a leftover of the instance, and an instance
	 * owns nothing outside its folder, so killing it is ours to do. */
	for (waited = 0;; waited += 5) {
		if (rmdir(path) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			return shoal_error_set(err, errno, "rmdir %s", path);
		if (waited >= timeout_ms)
			return shoal_error_set(err, EBUSY, "rmdir %s after %d ms", path, waited);
		bench_cgroup_kill(path);
		sleep_ms(5);
	}
}

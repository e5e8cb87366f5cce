// SPDX-License-Identifier: GPL-2.0
/*
 * Readers of the host's /proc for boot-bench (see procfs.h). Each returns 0 or
 * -errno; a process that exits while we read it is an -ENOENT/-ESRCH like any
 * other, and the caller decides whether a sample without it still counts.
 */
#include "tests/bench/procfs.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/kcmp.h>

#include "api/cleanup.h"

static FILE *proc_open(pid_t pid, const char *file, struct shoal_error *err)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	f = fopen(path, "re");
	if (!f)
		shoal_error_set(err, errno, "open %s", path);
	return f;
}

int bench_proc_mem(pid_t pid, struct bench_proc_mem *mem, struct shoal_error *err)
{
	_cleanup_fclose_ FILE *f = proc_open(pid, "smaps_rollup", err);
	char line[256];
	int found = 0;
	uint64_t kib;

	if (!f)
		return -ENOENT;
	mem->pss_own_kib = 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Rss: %" SCNu64, &mem->rss_kib) == 1)
			found |= 1;
		else if (sscanf(line, "Pss: %" SCNu64, &mem->pss_kib) == 1)
			found |= 2;
		else if (sscanf(line, "Pss_Anon: %" SCNu64, &kib) == 1 ||
			 sscanf(line, "Pss_Shmem: %" SCNu64, &kib) == 1)
			mem->pss_own_kib += kib;
	}
	if (found != 3)
		return shoal_error_set(err, EIO, "/proc/%d/smaps_rollup has no Rss/Pss", (int)pid);
	return 0;
}

bool bench_proc_same_vm(pid_t a, pid_t b)
{
	return a == b || syscall(SYS_kcmp, a, b, KCMP_VM, 0, 0) == 0;
}

int bench_proc_threads(pid_t pid, struct shoal_error *err)
{
	_cleanup_fclose_ FILE *f = proc_open(pid, "status", err);
	char line[256];
	int threads;

	if (!f)
		return -ENOENT;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Threads: %d", &threads) == 1)
			return threads;
	return shoal_error_set(err, EIO, "/proc/%d/status has no Threads line", (int)pid);
}

/* utime (field 14) + stime (15) of /proc/<pid>/stat. The command name (field
 * 2) may hold spaces and parentheses, so counting starts after its last ')'. */
static int proc_ticks(pid_t pid, uint64_t *ticks, struct shoal_error *err)
{
	_cleanup_fclose_ FILE *f = proc_open(pid, "stat", err);
	unsigned long long utime, stime;
	char buf[1024], *p;
	size_t n;

	if (!f)
		return -ENOENT;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
			 &stime) != 2)
		return shoal_error_set(err, EIO, "cannot parse /proc/%d/stat", (int)pid);
	*ticks = utime + stime;
	return 0;
}

int bench_proc_cpu(pid_t pid, struct bench_proc_cpu *cpu, struct shoal_error *err)
{
	char path[64];
	struct dirent *d;
	DIR *dir;
	int ret;

	ret = proc_ticks(pid, &cpu->ticks, err);
	if (ret)
		return ret;
	/* schedstat exists per thread only; sum the threads alive now. */
	cpu->run_ns = 0;
	cpu->slices = 0;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	if (!dir)
		return shoal_error_set(err, errno, "opendir %s", path);
	while ((d = readdir(dir))) {
		unsigned long long run, wait, slices;
		char file[300];
		FILE *f;

		if (d->d_name[0] == '.')
			continue;
		snprintf(file, sizeof(file), "task/%s/schedstat", d->d_name);
		f = proc_open(pid, file, NULL);
		if (!f)
			continue; /* the thread ended meanwhile */
		if (fscanf(f, "%llu %llu %llu", &run, &wait, &slices) == 3) {
			cpu->run_ns += run;
			cpu->slices += slices;
		}
		fclose(f);
	}
	closedir(dir);
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Reading an instance's process tree in /proc (see procfs.h). Children are
 * found through /proc/PID/task/TID/children, so no scan of all of /proc is
 * needed; a process that ends while we read is skipped, not an error.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clients/cli/procfs.h"

bool proc_ticks(long long pid, unsigned long long *ticks)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%lld/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses: fields start after the last ')'. */
	p = strrchr(buf, ')');
	if (!p ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return false;
	*ticks = ut + st;
	return true;
}

void proc_status(long long pid, long long *rss_kib, long *threads)
{
	char path[64], line[256];
	FILE *f;

	*rss_kib = -1;
	*threads = -1;
	snprintf(path, sizeof(path), "/proc/%lld/status", pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "VmRSS:", 6))
			*rss_kib = strtoll(line + 6, NULL, 10);
		else if (!strncmp(line, "Threads:", 8))
			*threads = strtol(line + 8, NULL, 10);
	}
	fclose(f);
}

/* The children of every thread of @pid, from /proc/PID/task/TID/children. */
static size_t proc_children(long long pid, long long *out, size_t max)
{
	char path[320], line[4096];
	size_t n = 0;
	DIR *d;
	struct dirent *e;

	snprintf(path, sizeof(path), "/proc/%lld/task", pid);
	d = opendir(path);
	if (!d)
		return 0;
	while ((e = readdir(d)) && n < max) {
		FILE *f;
		char *p, *end;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%lld/task/%s/children", pid, e->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(line, sizeof(line), f))
			for (p = line; n < max; p = end) {
				long long c = strtoll(p, &end, 10);

				if (end == p)
					break;
				out[n++] = c;
			}
		fclose(f);
	}
	closedir(d);
	return n;
}

#define TREE_MAX 256

/*
 * CPU ticks, resident KiB and threads of @pid and every descendant (at most
 * TREE_MAX processes). False when @pid itself is gone.
 */
bool proc_tree(long long pid, unsigned long long *ticks, long long *rss_kib, long *threads)
{
	long long queue[TREE_MAX];
	size_t head = 0, tail = 0;

	*ticks = 0;
	*rss_kib = 0;
	*threads = 0;
	queue[tail++] = pid;
	while (head < tail) {
		long long p = queue[head++], r;
		unsigned long long t;
		long th;

		if (!proc_ticks(p, &t)) {
			if (p == pid)
				return false;
			continue;
		}
		proc_status(p, &r, &th);
		*ticks += t;
		*rss_kib += r > 0 ? r : 0;
		*threads += th > 0 ? th : 0;
		tail += proc_children(p, queue + tail, TREE_MAX - tail);
	}
	return true;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * The instance's own cgroup, with a memory and a pids limit, where the host
 * offers one. Two layouts are understood:
 *
 *  - cgroup v2, when the cgroup root (default /sys/fs/cgroup) is a cgroup2
 *    mount: <root>/shoal/<instance-id>, with memory.max and pids.max, after
 *    enabling the memory and pids controllers for <root> and <root>/shoal;
 *  - cgroup v1, when <root>/memory and <root>/pids are v1 hierarchies:
 *    <root>/memory/shoal/<id> (memory.limit_in_bytes) and
 *    <root>/pids/shoal/<id> (pids.max).
 *
 * Anything else (no cgroup file system, no such controllers) means no cgroup,
 * which is logged. The monitor makes the cgroup before the fork and removes it
 * after the instance has been reaped; the instance joins it (writing "0" to a
 * cgroup.procs opened by the monitor, so it needs no path after its root is
 * gone) before its kernel creates any thread, so every thread is accounted.
 * A leftover directory of the same name from a crashed instance is removed
 * if it is empty, and refused (`exists`) if it is not.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>

#include "api/cleanup.h"
#include "api/log.h"
#include "instance/instance.h"

#define CGROUP_DEFAULT_ROOT "/sys/fs/cgroup"

static bool cgroup_is_fs(const char *path, long magic)
{
	struct statfs sf;

	return statfs(path, &sf) == 0 && sf.f_type == magic;
}

static int cgroup_write(const char *dir, const char *file, const char *value,
			struct shoal_error *err)
{
	char path[512];
	_cleanup_close_ int fd = -1;
	size_t len = strlen(value);

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, value, len) != (ssize_t)len)
		return shoal_error_set(err, errno, "cgroup: write '%s' to %s", value, path);
	return 0;
}

/* mkdir @dir, replacing an empty leftover of a crashed instance. */
static int cgroup_mkdir(const char *dir, struct shoal_error *err)
{
	if (mkdir(dir, 0755) == 0)
		return 0;
	if (errno != EEXIST)
		return shoal_error_set(err, errno, "cgroup: mkdir %s", dir);
	if (rmdir(dir) < 0)
		return shoal_error_set(err, errno == EBUSY ? EEXIST : errno,
				       "cgroup: %s exists and is in use", dir);
	shoal_log_warn("cgroup: removed the leftover %s", dir);
	if (mkdir(dir, 0755) < 0)
		return shoal_error_set(err, errno, "cgroup: mkdir %s", dir);
	return 0;
}

static int cgroup_add_dir(struct cgroup *cg, const char *parent, const char *id,
			  struct shoal_error *err)
{
	char *dir = cg->dirs[cg->ndirs];
	char path[512];
	int r;

	if (mkdir(parent, 0755) < 0 && errno != EEXIST)
		return shoal_error_set(err, errno, "cgroup: mkdir %s", parent);
	if ((size_t)snprintf(dir, sizeof(cg->dirs[0]), "%s/%s", parent, id) >= sizeof(cg->dirs[0]))
		return shoal_error_set(err, ENAMETOOLONG, "cgroup: %s/%s", parent, id);
	r = cgroup_mkdir(dir, err);
	if (r < 0)
		return r;
	/*
	 * v1: join through "tasks", which moves one thread. The instance
	 * joins while it has one thread, so that is the whole process, and
	 * moving the writing thread alone skips the global threadgroup lock,
	 * whose write side waits for an RCU grace period (about 10 ms) on
	 * "cgroup.procs". v2 has no such file: cgroup.procs.
	 */
	snprintf(path, sizeof(path), "%s/%s", dir, cg->v2 ? "cgroup.procs" : "tasks");
	cg->procs_fds[cg->ndirs] = open(path, O_WRONLY | O_CLOEXEC);
	cg->ndirs++;
	if (cg->procs_fds[cg->ndirs - 1] < 0)
		return shoal_error_set(err, errno, "cgroup: open %s", path);
	return 0;
}

/* The controllers @dir offers to its children, e.g. "cpu memory pids". */
static bool cgroup_v2_has(const char *dir, const char *controller)
{
	char path[512], buf[512], *tok, *save = NULL;
	_cleanup_close_ int fd = -1;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/cgroup.controllers", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return false;
	buf[n] = 0;
	for (tok = strtok_r(buf, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save))
		if (!strcmp(tok, controller))
			return true;
	return false;
}

static int cgroup_create_v2(struct cgroup *cg, const char *root, const char *id,
			    unsigned long long memory, unsigned int pids, struct shoal_error *err)
{
	char base[300], value[32];
	bool mem, pid;
	int r;

	cg->v2 = true;
	snprintf(base, sizeof(base), "%s/shoal", root);
	mem = cgroup_v2_has(root, "memory");
	pid = cgroup_v2_has(root, "pids");
	/* The controllers must be enabled on every level above the instance's cgroup. */
	if (mem)
		cgroup_write(root, "cgroup.subtree_control", "+memory", NULL);
	if (pid)
		cgroup_write(root, "cgroup.subtree_control", "+pids", NULL);
	if (mkdir(base, 0755) < 0 && errno != EEXIST)
		return shoal_error_set(err, errno, "cgroup: mkdir %s", base);
	if (mem)
		cgroup_write(base, "cgroup.subtree_control", "+memory", NULL);
	if (pid)
		cgroup_write(base, "cgroup.subtree_control", "+pids", NULL);
	r = cgroup_add_dir(cg, base, id, err);
	if (r < 0)
		return r;
	if (!cgroup_v2_has(base, "memory") || !cgroup_v2_has(base, "pids"))
		shoal_log_warn("cgroup: %s offers no memory or pids controller: the instance is "
			       "in a cgroup of its own without those limits",
			       base);
	if (cgroup_v2_has(base, "memory")) {
		snprintf(value, sizeof(value), "%llu", memory);
		r = cgroup_write(cg->dirs[0], "memory.max", value, err);
		if (r < 0)
			return r;
	}
	if (cgroup_v2_has(base, "pids")) {
		snprintf(value, sizeof(value), "%u", pids);
		r = cgroup_write(cg->dirs[0], "pids.max", value, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int cgroup_create_v1(struct cgroup *cg, const char *root, const char *id,
			    unsigned long long memory, unsigned int pids, struct shoal_error *err)
{
	char hier[300], value[32];
	int r;

	snprintf(hier, sizeof(hier), "%s/memory", root);
	if (cgroup_is_fs(hier, CGROUP_SUPER_MAGIC)) {
		strcat(hier, "/shoal");
		r = cgroup_add_dir(cg, hier, id, err);
		if (r < 0)
			return r;
		snprintf(value, sizeof(value), "%llu", memory);
		r = cgroup_write(cg->dirs[cg->ndirs - 1], "memory.limit_in_bytes", value, err);
		if (r < 0)
			return r;
	}
	snprintf(hier, sizeof(hier), "%s/pids", root);
	if (cgroup_is_fs(hier, CGROUP_SUPER_MAGIC)) {
		strcat(hier, "/shoal");
		r = cgroup_add_dir(cg, hier, id, err);
		if (r < 0)
			return r;
		snprintf(value, sizeof(value), "%u", pids);
		r = cgroup_write(cg->dirs[cg->ndirs - 1], "pids.max", value, err);
		if (r < 0)
			return r;
	}
	return 0;
}

int cgroup_create(struct cgroup *cg, const char *root, const char *id,
		  const struct proto_configure *cfg, struct shoal_error *err)
{
	unsigned long long memory;
	int r;

	cg->ndirs = 0;
	cg->v2 = false;
	if (!root)
		root = CGROUP_DEFAULT_ROOT;
	memory = (unsigned long long)(cfg->limits.host_memory_mib
					      ? cfg->limits.host_memory_mib
					      : cfg->memory_mib + INSTANCE_HOST_OVERHEAD_MIB)
		 << 20;
	if (cgroup_is_fs(root, CGROUP2_SUPER_MAGIC))
		r = cgroup_create_v2(cg, root, id, memory, cfg->limits.max_processes, err);
	else
		r = cgroup_create_v1(cg, root, id, memory, cfg->limits.max_processes, err);
	if (r < 0) {
		cgroup_remove(cg);
		return r;
	}
	if (!cg->ndirs)
		shoal_log_info("cgroup: %s offers neither cgroup v2 nor v1 memory/pids "
			       "hierarchies; no cgroup",
			       root);
	return 0;
}

int cgroup_join(struct cgroup *cg, struct shoal_error *err)
{
	int i;

	for (i = 0; i < cg->ndirs; i++) {
		if (write(cg->procs_fds[i], "0", 1) != 1)
			return shoal_error_set(err, errno, "cgroup: join %s", cg->dirs[i]);
	}
	cgroup_close_fds(cg);
	return 0;
}

void cgroup_close_fds(struct cgroup *cg)
{
	int i;

	for (i = 0; i < CGROUP_MAX_DIRS; i++) {
		if (cg->procs_fds[i] >= 0)
			close(cg->procs_fds[i]);
		cg->procs_fds[i] = -1;
	}
}

void cgroup_remove(struct cgroup *cg)
{
	struct timespec pause = { 0, 10 * 1000 * 1000 };
	int i, tries;

	cgroup_close_fds(cg);
	for (i = 0; i < cg->ndirs; i++) {
		/* The last task may take a moment to leave after it was reaped. */
		for (tries = 0;; tries++) {
			if (rmdir(cg->dirs[i]) == 0 || errno == ENOENT)
				break;
			if (errno != EBUSY || tries == 100) {
				shoal_log_warn("cgroup: cannot remove %s: %s", cg->dirs[i],
					       strerror(errno));
				break;
			}
			nanosleep(&pause, NULL);
		}
	}
	cg->ndirs = 0;
}

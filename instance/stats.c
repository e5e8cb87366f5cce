// SPDX-License-Identifier: GPL-2.0
/*
 * The `stats` result: what the instance costs and does. Kernel memory comes
 * from the instance kernel's sysinfo(); the process's resident set and thread
 * count from the host's /proc/self/status, read through a descriptor opened
 * before the instance gave up its view of the host (pread at 0 regenerates
 * the file). The virtio-net device's counters are the host library's
 * (skl_netdev_stats(): what crossed the veth, counted outside the instance
 * kernel, so nothing inside it can bend them); the other interfaces' (lo) are
 * the kernel's own /proc/net/dev.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <skl.h>

#include "instance/instance.h"

static uint64_t stats_clamp(unsigned long long v)
{
	return v > PROTO_COUNTER_MAX ? PROTO_COUNTER_MAX : v;
}

/* "Name:   value" of the host's status file; 0 when absent. */
static unsigned long long stats_status_field(const char *status, const char *name)
{
	const char *p = strstr(status, name);

	return p ? strtoull(p + strlen(name), NULL, 10) : 0;
}

static int stats_host(struct instance *in, struct proto_stats_result *res, struct shoal_error *err)
{
	char status[4096];
	ssize_t n;

	if (in->status_fd < 0) {
		in->status_fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
		if (in->status_fd < 0)
			return shoal_error_set(err, errno, "stats: open /proc/self/status");
	}
	n = pread(in->status_fd, status, sizeof(status) - 1, 0);
	if (n < 0)
		return shoal_error_set(err, errno, "stats: read /proc/self/status");
	status[n] = 0;
	res->memory.host_rss_bytes = stats_clamp(stats_status_field(status, "\nVmRSS:") * 1024);
	res->host_threads = (uint32_t)stats_status_field(status, "\nThreads:");
	return 0;
}

/* Interfaces other than the virtio device, from the kernel's /proc/net/dev. */
static void stats_kernel_interfaces(struct instance *in, struct proto_stats_result *res,
				    char names[][16])
{
	char buf[4096], *line, *save = NULL;
	long fd, n;
	size_t len = 0;

	fd = skl_sys_openat(SKL_AT_FDCWD, "/proc/net/dev", SKL_O_RDONLY | SKL_O_CLOEXEC, 0);
	if (fd < 0)
		return;
	while (len < sizeof(buf) - 1 &&
	       (n = skl_sys_read((unsigned int)fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	skl_sys_close((unsigned int)fd);
	buf[len] = 0;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long long v[16];
		struct proto_iface_stats *s;
		char *colon = strchr(line, ':'), *name = line;

		if (!colon || res->ninterfaces >= PROTO_IFACES_MAX)
			continue;
		*colon = 0;
		while (*name == ' ')
			name++;
		if (!*name || (in->netdev >= 0 && !strcmp(name, in->eth_name)))
			continue;
		if (sscanf(colon + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
			   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9],
			   &v[10], &v[11]) != 12)
			continue;
		snprintf(names[res->ninterfaces], 16, "%.15s", name);
		s = &res->interfaces[res->ninterfaces];
		s->name = names[res->ninterfaces];
		s->rx_bytes = stats_clamp(v[0]);
		s->rx_packets = stats_clamp(v[1]);
		s->rx_errors = stats_clamp(v[2]);
		s->rx_dropped = stats_clamp(v[3]);
		s->tx_bytes = stats_clamp(v[8]);
		s->tx_packets = stats_clamp(v[9]);
		s->tx_errors = stats_clamp(v[10]);
		s->tx_dropped = stats_clamp(v[11]);
		res->ninterfaces++;
	}
}

int stats_collect(struct instance *in, struct proto_stats_result *res, struct shoal_error *err)
{
	static char names[PROTO_IFACES_MAX][16];
	struct skl_sysinfo si;
	uint64_t unit;
	long r;
	int e;

	res->uptime_us = in->t_booted_us ? instance_now_us() - in->t_booted_us : 0;
	res->host_syscalls_allowed = in->syscalls_allowed;
	res->jobs_running = job_count(in);
	e = stats_host(in, res, err);
	if (e < 0)
		return e;
	if (!skl_is_running())
		return 0;
	r = skl_sys_sysinfo(&si);
	if (r < 0)
		return shoal_error_set(err, (int)r, "stats: sysinfo in the instance kernel");
	unit = si.mem_unit ? si.mem_unit : 1;
	res->memory.kernel_total_bytes = stats_clamp((uint64_t)si.totalram * unit);
	res->memory.kernel_free_bytes = stats_clamp((uint64_t)si.freeram * unit);

	res->ninterfaces = 0;
	stats_kernel_interfaces(in, res, names);
	if (in->netdev >= 0 && res->ninterfaces < PROTO_IFACES_MAX) {
		struct proto_iface_stats *s = &res->interfaces[res->ninterfaces];
		struct skl_netdev_stats ns;

		if (skl_netdev_stats(in->netdev, &ns) == 0) {
			snprintf(names[res->ninterfaces], 16, "%s", in->eth_name);
			memset(s, 0, sizeof(*s));
			s->name = names[res->ninterfaces];
			s->rx_bytes = stats_clamp(ns.rx_bytes);
			s->rx_packets = stats_clamp(ns.rx_packets);
			s->rx_dropped = stats_clamp(ns.rx_dropped);
			s->tx_bytes = stats_clamp(ns.tx_bytes);
			s->tx_packets = stats_clamp(ns.tx_packets);
			s->tx_dropped = stats_clamp(ns.tx_dropped);
			res->ninterfaces++;
		}
	}
	return 0;
}

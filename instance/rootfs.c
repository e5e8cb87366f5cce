// SPDX-License-Identifier: GPL-2.0
/*
 * The instance's root file system, inside its library kernel: a fresh tmpfs
 * becomes "/" (switch_root style: mounted aside, moved over the kernel's
 * initial rootfs, chroot), with the usual layout: /dev (devtmpfs, with null,
 * zero, full, random and urandom made if the kernel did not), /proc, /sys,
 * /tmp, /run, /home, /root, and /etc/hostname, /etc/hosts and
 * /etc/resolv.conf written from `configure`. Everything here is system calls
 * into the instance kernel (skl_sys_*): no host file is touched.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <skl.h>

#include "instance/instance.h"

#define ROOTFS_STAGE "/.shoal-root"

static int rootfs_mkdir(const char *path, unsigned int mode, struct shoal_error *err)
{
	long r = skl_sys_mkdirat(SKL_AT_FDCWD, path, (unsigned short)mode);

	if (r < 0 && r != -SKL_EEXIST)
		return shoal_error_set(err, (int)r, "rootfs: mkdir %s", path);
	/* mkdir ignores the sticky bit on some file systems: set the mode exactly. */
	r = skl_sys_fchmodat(SKL_AT_FDCWD, path, (unsigned short)mode);
	if (r < 0)
		return shoal_error_set(err, (int)r, "rootfs: chmod %s", path);
	return 0;
}

static int rootfs_mount(const char *src, const char *dir, const char *type, const char *data,
			struct shoal_error *err)
{
	long r = skl_sys_mount((char *)src, (char *)dir, (char *)type, 0, (void *)data);

	if (r < 0)
		return shoal_error_set(err, (int)r, "rootfs: mount %s on %s", type, dir);
	return 0;
}

static int rootfs_write(const char *path, const char *text, struct shoal_error *err)
{
	size_t len = strlen(text), off = 0;
	long fd, r;

	fd = skl_sys_openat(SKL_AT_FDCWD, path, SKL_O_WRONLY | SKL_O_CREAT | SKL_O_TRUNC, 0644);
	if (fd < 0)
		return shoal_error_set(err, (int)fd, "rootfs: create %s", path);
	while (off < len) {
		r = skl_sys_write((unsigned int)fd, text + off, len - off);
		if (r <= 0) {
			skl_sys_close((unsigned int)fd);
			return shoal_error_set(err, r < 0 ? (int)r : EIO, "rootfs: write %s", path);
		}
		off += (size_t)r;
	}
	skl_sys_close((unsigned int)fd);
	return 0;
}

/* The device nodes every program expects, made if devtmpfs did not. */
static int rootfs_devices(struct shoal_error *err)
{
	static const struct {
		const char *path;
		unsigned int minor;
	} nodes[] = {
		{ "/dev/null", 3 },   { "/dev/zero", 5 },    { "/dev/full", 7 },
		{ "/dev/random", 8 }, { "/dev/urandom", 9 },
	};
	size_t i;

	for (i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
		struct skl_stat st;
		long r = skl_sys_newfstatat(SKL_AT_FDCWD, nodes[i].path, &st, 0);

		if (r == 0)
			continue;
		r = skl_sys_mknodat(SKL_AT_FDCWD, nodes[i].path, SKL_S_IFCHR | 0666,
				    (1u << 8) | nodes[i].minor);
		if (r < 0)
			return shoal_error_set(err, (int)r, "rootfs: mknod %s", nodes[i].path);
	}
	return 0;
}

static void rootfs_address(const struct proto_cidr *c, char *buf, size_t size)
{
	inet_ntop(c->family, c->addr, buf, (socklen_t)size);
}

static int rootfs_etc(const struct proto_configure *cfg, struct shoal_error *err)
{
	char hosts[1024], resolv[512], addr[INET6_ADDRSTRLEN], hostname[PROTO_HOSTNAME_MAX + 2];
	size_t n, i;
	int r;

	snprintf(hostname, sizeof(hostname), "%s\n", cfg->hostname);
	r = rootfs_write("/etc/hostname", hostname, err);
	if (r < 0)
		return r;

	n = (size_t)snprintf(hosts, sizeof(hosts),
			     "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
	if (cfg->has_network && cfg->network.ipv4.family) {
		rootfs_address(&cfg->network.ipv4, addr, sizeof(addr));
		n += (size_t)snprintf(hosts + n, sizeof(hosts) - n, "%s\t%s\n", addr,
				      cfg->hostname);
	}
	if (cfg->has_network && cfg->network.ipv6.family) {
		rootfs_address(&cfg->network.ipv6, addr, sizeof(addr));
		n += (size_t)snprintf(hosts + n, sizeof(hosts) - n, "%s\t%s\n", addr,
				      cfg->hostname);
	}
	if (!cfg->has_network || (!cfg->network.ipv4.family && !cfg->network.ipv6.family))
		snprintf(hosts + n, sizeof(hosts) - n, "127.0.1.1\t%s\n", cfg->hostname);
	r = rootfs_write("/etc/hosts", hosts, err);
	if (r < 0)
		return r;

	n = (size_t)snprintf(resolv, sizeof(resolv), "# written by shoal-instance\n");
	for (i = 0; cfg->has_network && i < cfg->network.ndns; i++) {
		inet_ntop(cfg->network.dns[i].family, cfg->network.dns[i].addr, addr, sizeof(addr));
		n += (size_t)snprintf(resolv + n, sizeof(resolv) - n, "nameserver %s\n", addr);
	}
	return rootfs_write("/etc/resolv.conf", resolv, err);
}

int rootfs_setup(struct instance *in, struct shoal_error *err)
{
	static const struct {
		const char *path;
		unsigned int mode;
	} dirs[] = {
		{ ROOTFS_STAGE "/dev", 0755 },	{ ROOTFS_STAGE "/proc", 0555 },
		{ ROOTFS_STAGE "/sys", 0555 },	{ ROOTFS_STAGE "/tmp", 01777 },
		{ ROOTFS_STAGE "/run", 0755 },	{ ROOTFS_STAGE "/home", 0755 },
		{ ROOTFS_STAGE "/root", 0700 }, { ROOTFS_STAGE "/etc", 0755 },
	};
	const struct proto_configure *cfg = &in->config.configure;
	size_t i;
	long r;

	/* A fresh tmpfs, laid out aside, then moved over the initial rootfs. */
	r = rootfs_mkdir(ROOTFS_STAGE, 0755, err);
	if (!r)
		r = rootfs_mount("tmpfs", ROOTFS_STAGE, "tmpfs", "mode=0755", err);
	for (i = 0; !r && i < sizeof(dirs) / sizeof(dirs[0]); i++)
		r = rootfs_mkdir(dirs[i].path, dirs[i].mode, err);
	if (!r)
		r = rootfs_mount("devtmpfs", ROOTFS_STAGE "/dev", "devtmpfs", NULL, err);
	if (!r)
		r = rootfs_mount("proc", ROOTFS_STAGE "/proc", "proc", NULL, err);
	if (!r)
		r = rootfs_mount("sysfs", ROOTFS_STAGE "/sys", "sysfs", NULL, err);
	if (r < 0)
		return (int)r;
	r = skl_sys_chdir(ROOTFS_STAGE);
	if (!r)
		r = skl_sys_mount((char *)".", (char *)"/", NULL, SKL_MS_MOVE, NULL);
	if (!r)
		r = skl_sys_chroot(".");
	if (!r)
		r = skl_sys_chdir("/");
	if (r < 0)
		return shoal_error_set(err, (int)r, "rootfs: switch to the new root");

	r = rootfs_devices(err);
	if (!r)
		r = rootfs_etc(cfg, err);
	if (r < 0)
		return (int)r;
	r = skl_sys_sethostname((char *)cfg->hostname, (int)strlen(cfg->hostname));
	if (r < 0)
		return shoal_error_set(err, (int)r, "rootfs: sethostname %s", cfg->hostname);
	return 0;
}

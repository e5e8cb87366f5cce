// SPDX-License-Identifier: GPL-2.0
/*
 * The shim's pure logic, built hosted: lexical path normalisation and the
 * host/instance routing rule (route.c), the state string one shim passes to
 * the next (state.c), the placeholder table (fdtable.c) and the per-call
 * policy table (sysclass.c). Each is a table of named cases.
 */
#include <asm/unistd.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "instance/jobshim/fdtable.h"
#include "instance/jobshim/route.h"
#include "instance/jobshim/state.h"
#include "instance/jobshim/sysclass.h"
#include "tests/harness.h"

TEST(normalise_paths)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "/", "/" },
		{ "//", "/" },
		{ "/usr/bin/../lib", "/usr/lib" },
		{ "/usr//bin/./python3", "/usr/bin/python3" },
		{ "/a/b/../..", "/" },
		{ "/a/b/../../..", "/" },
		{ "/../etc/passwd", "/etc/passwd" },
		{ "/tmp/", "/tmp" },
		{ "/usr/../tmp/x", "/tmp/x" },
		{ "/./././", "/" },
		{ "/a/.../b", "/a/.../b" },
		{ "/a/..b/c", "/a/..b/c" },
	};
	char out[64];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long n = route_normalise(cases[i].in, out, sizeof(out));

		CHECK_EQ_STR(n >= 0 ? out : "error", cases[i].out);
		CHECK_EQ_INT(n, (long)strlen(cases[i].out));
	}
	CHECK_EQ_INT(route_normalise("relative/path", out, sizeof(out)), -EINVAL);
	CHECK_EQ_INT(route_normalise("/0123456789/0123456789", out, 10), -ENAMETOOLONG);
	CHECK_EQ_INT(route_normalise("/x", out, 1), -ENAMETOOLONG);
}

TEST(route_host_and_instance)
{
	static const struct {
		const char *path;
		enum route r;
	} cases[] = {
		{ "/usr/bin/python3", ROUTE_HOST },
		{ "/usr", ROUTE_HOST },
		{ "/bin/sh", ROUTE_HOST },
		{ "/sbin/ip", ROUTE_HOST },
		{ "/lib/x86_64-linux-gnu/libc.so.6", ROUTE_HOST },
		{ "/lib64/ld-linux-x86-64.so.2", ROUTE_HOST },
		{ "/lib32", ROUTE_HOST },
		{ "/libx32/x", ROUTE_HOST },
		{ "/etc/passwd", ROUTE_HOST },
		{ "/etc", ROUTE_HOST },
		{ "/etc/hosts", ROUTE_KERNEL },
		{ "/etc/resolv.conf", ROUTE_KERNEL },
		{ "/etc/hostname", ROUTE_KERNEL },
		{ "/etc/hosts.allow", ROUTE_HOST },
		{ "/", ROUTE_KERNEL },
		{ "/tmp/x", ROUTE_KERNEL },
		{ "/usrlocal", ROUTE_KERNEL },
		{ "/library", ROUTE_KERNEL },
		{ "/etcetera", ROUTE_KERNEL },
		{ "/proc/self/status", ROUTE_KERNEL },
		{ "/dev/null", ROUTE_KERNEL },
		{ "/home/user", ROUTE_KERNEL },
		{ "/var/log", ROUTE_KERNEL },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (route_path(cases[i].path) != cases[i].r)
			FAIL("route_path(%s) = %d, want %d", cases[i].path,
			     route_path(cases[i].path), cases[i].r);
	}
	/* Relative paths follow their directory. */
	CHECK_EQ_INT(route_at(0, "bin/sh", NULL), ROUTE_KERNEL);
	CHECK_EQ_INT(route_at(1, "bin/sh", NULL), ROUTE_HOST);
	CHECK_EQ_INT(route_at(1, "", NULL), ROUTE_HOST);
	CHECK_EQ_INT(route_at(1, "/tmp/x", "/tmp/x"), ROUTE_KERNEL);
	CHECK_EQ_INT(route_at(0, "/usr/lib", "/usr/lib"), ROUTE_HOST);
}

TEST(state_round_trip)
{
	static struct shim_state st, back;
	char buf[512];

	CHECK_EQ_INT(state_parse("link=3,region=4,self=5,slot=7,filtered=0", &st), 0);
	CHECK_EQ_INT(st.link, 3);
	CHECK_EQ_INT(st.region, 4);
	CHECK_EQ_INT(st.self, 5);
	CHECK_EQ_INT(st.slot, 7);
	CHECK_EQ_INT(st.filtered, 0);
	CHECK_EQ_INT(st.passthrough, 0);
	CHECK_EQ_INT(st.nhostfds, 0);

	CHECK_EQ_INT(
		state_parse("link=3,region=4,self=5,slot=127,filtered=1,hostfds=3:10/7:11", &st),
		0);
	CHECK_EQ_INT(st.nhostfds, 2);
	CHECK_EQ_INT(st.hostfds[0].vfd, 3);
	CHECK_EQ_INT(st.hostfds[0].hostfd, 10);
	CHECK_EQ_INT(st.hostfds[1].vfd, 7);
	CHECK_EQ_INT(st.hostfds[1].hostfd, 11);
	CHECK(state_format(&st, buf, sizeof(buf)) > 0);
	CHECK_EQ_STR(buf, "link=3,region=4,self=5,slot=127,filtered=1,hostfds=3:10/7:11");
	CHECK_EQ_INT(state_parse(buf, &back), 0);
	CHECK(!memcmp(&st, &back, sizeof(st)));
	CHECK_EQ_INT(state_format(&st, buf, 20), -ENAMETOOLONG);

	CHECK_EQ_INT(state_parse("passthrough=1,filtered=1", &st), 0);
	CHECK_EQ_INT(st.passthrough, 1);
	CHECK(state_format(&st, buf, sizeof(buf)) > 0);
	CHECK_EQ_STR(buf, "passthrough=1,filtered=1");
}

TEST(state_refuses_malformed)
{
	static const char *const bad[] = {
		"",
		"link=3,region=4,self=5", /* no slot */
		"link=3,region=4,slot=0", /* no self */
		"link=3,link=3,region=4,self=5,slot=0",
		"link=3,region=4,self=5,slot=0,bogus=1",
		"link=x,region=4,self=5,slot=0",
		"link=3,region=4,self=5,slot=0,filtered=2",
		"link=3,region=4,self=5,slot=0,hostfds=3",
		"link=3,region=4,self=5,slot=0,hostfds=3:",
		"link=3,region=4,self=5,slot=0,hostfds=3:4/",
		"link=3;region=4,self=5,slot=0",
		"link=99999999999,region=4,self=5,slot=0",
		"link=3,region=4,self=5,slot=0,",
	};
	static struct shim_state st;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (state_parse(bad[i], &st) != -EINVAL)
			FAIL("state_parse accepted \"%s\"", bad[i]);
	}
}

TEST(fdtable_placeholders)
{
	static struct shim_state st;
	int drop[FDTABLE_MAX];
	unsigned int ndrop;

	fdtable_reset();
	CHECK_EQ_INT(fdtable_get(3), -1);
	CHECK_EQ_INT(fdtable_set(3, 100, 0), -1);
	CHECK_EQ_INT(fdtable_set(0, 0, 1), -1); /* host fd 0 is a valid entry */
	CHECK_EQ_INT(fdtable_get(3), 100);
	CHECK_EQ_INT(fdtable_get(0), 0);
	CHECK_EQ_INT(fdtable_set(3, 101, 1), 100); /* dup2 over: old host fd back */
	CHECK_EQ_INT(fdtable_get_cloexec(3), 1);
	fdtable_set_cloexec(3, 0);
	CHECK_EQ_INT(fdtable_get_cloexec(3), 0);
	CHECK_EQ_INT(fdtable_set(FDTABLE_MAX, 5, 0), -EMFILE);
	CHECK_EQ_INT(fdtable_set(-1, 5, 0), -EMFILE);
	CHECK_EQ_INT(fdtable_get(FDTABLE_MAX), -1);
	CHECK_EQ_INT(fdtable_set(900, 102, 0), -1);

	/* execve: close-on-exec entries are dropped, the rest passed on. */
	CHECK_EQ_INT(fdtable_for_exec(&st, drop, &ndrop), 0);
	CHECK_EQ_INT(ndrop, 1);
	CHECK_EQ_INT(drop[0], 0);
	CHECK_EQ_INT(st.nhostfds, 2);
	CHECK_EQ_INT(st.hostfds[0].vfd, 3);
	CHECK_EQ_INT(st.hostfds[0].hostfd, 101);
	CHECK_EQ_INT(st.hostfds[1].vfd, 900);

	CHECK_EQ_INT(fdtable_clear(3), 101);
	CHECK_EQ_INT(fdtable_clear(3), -1);
	CHECK_EQ_INT(fdtable_get(3), -1);

	fdtable_reset();
	fdtable_load(&st);
	CHECK_EQ_INT(fdtable_get(3), 101);
	CHECK_EQ_INT(fdtable_get(900), 102);
	CHECK_EQ_INT(fdtable_get(0), -1);
}

TEST(sysclass_policy)
{
	static const struct {
		long nr;
		enum sysclass cls;
	} cases[] = {
		{ __NR_read, SC_FORWARD },
		{ __NR_write, SC_FORWARD },
		{ __NR_openat, SC_FORWARD },
		{ __NR_socket, SC_FORWARD },
		{ __NR_uname, SC_FORWARD },
		{ __NR_pipe2, SC_FORWARD },
		{ __NR_getdents64, SC_FORWARD },
		{ __NR_newfstatat, SC_FORWARD },
		{ __NR_futex, SC_HOST },
		{ __NR_wait4, SC_HOST },
		{ __NR_kill, SC_HOST },
		{ __NR_getpid, SC_HOST },
		{ __NR_munmap, SC_HOST },
		{ __NR_clock_gettime, SC_HOST },
		{ __NR_memfd_create, SC_HOSTFD },
		{ __NR_signalfd4, SC_HOSTFD },
		{ __NR_mmap, SC_SPECIAL },
		{ __NR_clone, SC_SPECIAL },
		{ __NR_execve, SC_SPECIAL },
		{ __NR_rt_sigaction, SC_SPECIAL },
		{ __NR_ioctl, SC_SPECIAL },
		{ __NR_close, SC_SPECIAL },
		{ __NR_ptrace, SC_DENY },
		{ __NR_mount, SC_DENY },
		{ __NR_unshare, SC_DENY },
		{ __NR_setns, SC_DENY },
		{ __NR_seccomp, SC_DENY },
		{ __NR_bpf, SC_DENY },
		{ __NR_perf_event_open, SC_DENY },
		{ __NR_init_module, SC_DENY },
		{ __NR_reboot, SC_DENY },
		{ __NR_keyctl, SC_DENY },
		{ __NR_io_uring_setup, SC_ENOSYS },
		{ 511, SC_ENOSYS },
		{ 512, SC_ENOSYS },
		{ -1, SC_ENOSYS },
		{ 100000, SC_ENOSYS },
	};
	const struct sys_desc *d;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (sysclass_of(cases[i].nr) != cases[i].cls)
			FAIL("sysclass_of(%ld) = %d, want %d", cases[i].nr,
			     sysclass_of(cases[i].nr), cases[i].cls);
	}
	/* Argument kinds of a few calls the marshalling depends on. */
	d = sysclass_desc(__NR_openat);
	CHECK_EQ_INT(d->newfd, 1);
	CHECK_EQ_INT(d->arg[0].kind, SA_DIRFD);
	CHECK_EQ_INT(d->arg[1].kind, SA_PATH);
	d = sysclass_desc(__NR_read);
	CHECK_EQ_INT(d->arg[0].kind, SA_FD);
	CHECK_EQ_INT(d->arg[1].kind, SA_OUTRET);
	CHECK_EQ_INT(d->arg[1].param, 2);
	CHECK_EQ_INT(d->chunk, 2);
	d = sysclass_desc(__NR_pwrite64);
	CHECK_EQ_INT(d->chunk, 1);
	CHECK_EQ_INT(d->offarg, 4);
	d = sysclass_desc(__NR_accept4);
	CHECK_EQ_INT(d->arg[1].kind, SA_OUTLENP);
	CHECK_EQ_INT(d->arg[1].param, 2);
	CHECK_EQ_INT(d->arg[2].kind, SA_INOUTFIX);
	d = sysclass_desc(__NR_newfstatat);
	CHECK_EQ_INT(d->arg[2].kind, SA_OUTFIX);
	CHECK_EQ_INT(d->arg[2].param, 144);
	d = sysclass_desc(__NR_statx);
	CHECK_EQ_INT(d->arg[4].param, 256);
	d = sysclass_desc(__NR_renameat2);
	CHECK_EQ_INT(d->arg[2].kind, SA_DIRFD2);
	CHECK_EQ_INT(d->arg[3].kind, SA_PATH2);

	/* Every forwarded pointer kind names an argument that exists. */
	for (i = 0; i < SYSCLASS_MAX; i++) {
		int j;

		d = sysclass_desc((long)i);
		for (j = 0; j < 6; j++) {
			switch (d->arg[j].kind) {
			case SA_IN:
			case SA_OUT:
			case SA_OUTRET:
			case SA_INLENP:
			case SA_OUTLENP:
				if (d->arg[j].param >= 6 || d->arg[j].param == j)
					FAIL("call %zu arg %d: bad length argument", i, j);
				break;
			default:
				break;
			}
		}
	}
}

// SPDX-License-Identifier: GPL-2.0
/*
 * main.c: shoal-jobshim start-up, in the order it happens. The shim runs
 * in front of every program of a job: started by the jail for the first
 * process (filtered=0), and by itself on every execve of the program
 * (filtered=1, the filter being inherited). It reads its state, installs
 * the SIGSYS handler (execve reset it) and, the first time, the seccomp
 * filter; maps the job's region and says hello to the instance; then loads
 * the program and jumps to it, never to return.
 *
 * Command lines (job_abi.h has the first):
 *   shoal-jobshim STATE PATH ARGV0 [ARG...]       forwarding (the jail)
 *   shoal-jobshim --passthrough PATH [ARG...]     tests: every call on the
 *                                                 host, argv[0] is PATH
 */
#include "instance/job_abi.h"
#include "instance/jobshim/fdtable.h"
#include "instance/jobshim/filter.h"
#include "instance/jobshim/forward.h"
#include "instance/jobshim/handler.h"
#include "instance/jobshim/lib.h"
#include "instance/jobshim/link.h"
#include "instance/jobshim/loader.h"
#include "instance/jobshim/patch.h"
#include "instance/jobshim/shim.h"
#include "instance/jobshim/state.h"
#include "instance/jobshim/sys.h"
#include "instance/jobshim/thread.h"

struct shim shim_g;

void shim_main(long *sp) __attribute__((noreturn, used));

void shim_log(const char *a, const char *b)
{
	shim_write(2, "shoal-jobshim: ", 15);
	shim_write(2, a, shim_strlen(a));
	if (b)
		shim_write(2, b, shim_strlen(b));
	shim_write(2, "\n", 1);
}

void shim_log_num(const char *a, long v)
{
	char buf[24];
	size_t n = 0;

	if (v < 0) {
		buf[n++] = '-';
		v = -v;
	}
	n += shim_format_ulong(buf + n, (unsigned long)v);
	buf[n] = 0;
	shim_log(a, buf);
}

/* Keep the auxiliary vector entries the program must get the same. */
static void read_auxv(const unsigned long *av)
{
	struct shim_aux *x = &shim_g.aux;

	for (; av[0] != AT_NULL; av += 2) {
		unsigned long v = av[1];

		switch (av[0]) {
		case AT_HWCAP:
			x->hwcap = v;
			break;
		case AT_HWCAP2:
			x->hwcap2 = v;
			break;
		case AT_PLATFORM:
			x->platform = v;
			break;
		case AT_CLKTCK:
			x->clktck = v;
			break;
		case AT_MINSIGSTKSZ:
			x->minsigstksz = v;
			break;
		case AT_SYSINFO_EHDR:
			x->sysinfo_ehdr = v;
			break;
		case AT_UID:
			x->uid = v;
			break;
		case AT_EUID:
			x->euid = v;
			break;
		case AT_GID:
			x->gid = v;
			break;
		case AT_EGID:
			x->egid = v;
			break;
		case 27: /* AT_RSEQ_FEATURE_SIZE */
			x->rseq_size = v;
			break;
		case 28: /* AT_RSEQ_ALIGN */
			x->rseq_align = v;
			break;
		}
	}
}

static __attribute__((noreturn)) void usage(void)
{
	shim_log("usage: shoal-jobshim STATE PATH ARGV0 [ARG...] | --passthrough PATH [ARG...]",
		 NULL);
	shim_exit_group(2);
}

static __attribute__((noreturn)) void fail(const char *what, long err)
{
	shim_log_num(what, err);
	shim_exit_group(127);
}

/* The parsed state is large (its host fd list): keep it out of the stack. */
static struct shim_state main_state;

void shim_main(long *sp)
{
	long argc = sp[0];
	char **argv = (char **)(sp + 1);
	char **envp = argv + argc + 1;
	char **e = envp;
	const char *path, *dbg;
	char **prog_argv;
	long r;

	while (*e)
		e++;
	read_auxv((const unsigned long *)(e + 1));
	shim_g.envp = envp;
	dbg = shim_getenv(envp, "SHOAL_SHIM_DEBUG");
	shim_g.debug = dbg && dbg[0] == '1';
	dbg = shim_getenv(envp, "SHOAL_SHIM_PATCH");
	if (dbg && dbg[0] == '0')
		patch_disable(); /* tests and benchmarks: every call traps */

	if (argc < 3)
		usage();
	if (!shim_strcmp(argv[1], "--passthrough")) {
		/* Tests: no instance, no jail; set what the jail would. */
		main_state.passthrough = 1;
		path = argv[2];
		prog_argv = argv + 2;
		r = sys6(__NR_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0, 0);
		if (r)
			fail("no_new_privs: error ", r);
	} else {
		if (state_parse(argv[1], &main_state))
			fail("bad state argument, error ", -EINVAL);
		path = argv[2];
		prog_argv = argv + 3;
	}
	shim_g.passthrough = main_state.passthrough;
	shim_g.link_fd = main_state.link;
	shim_g.region_fd = main_state.region;
	shim_g.self_fd = main_state.self;
	shim_g.slot = main_state.slot;

	/* The handler first: from the filter on, a stray call of the
	 * program would find no handler otherwise. */
	r = handler_install();
	if (r)
		fail("cannot install the SIGSYS handler: error ", r);
	if (!main_state.filtered) {
		r = filter_install();
		if (r)
			fail("cannot install the seccomp filter: error ", r);
	}

	if (!shim_g.passthrough) {
		struct shoal_link_msg m = { 0 };

		if (main_state.slot >= SHOAL_SLOTS_MAX)
			fail("bad slot ", main_state.slot);
		r = forward_init(main_state.region);
		if (r)
			fail("cannot map the job region: error ", r);
		fdtable_load(&main_state);
		thread_reset(main_state.slot);
		m.op = SHOAL_LINK_HELLO;
		m.slot = main_state.slot;
		r = link_send(&m);
		if (r)
			fail("the instance link is gone: error ", r);
	}

	r = loader_exec(path, prog_argv, envp);
	/* Only failures come back; part of the program may be mapped. */
	{
		char num[24];
		size_t n = 0;

		num[n++] = '-';
		n += shim_format_ulong(num + n, (unsigned long)-r);
		num[n] = 0;
		shim_write(2, "shoal-jobshim: ", 15);
		shim_write(2, path, shim_strlen(path));
		shim_write(2, ": cannot execute: error ", 24);
		shim_write(2, num, n);
		shim_write(2, "\n", 1);
	}
	shim_exit_group(r == -ENOENT ? 127 : 126);
}

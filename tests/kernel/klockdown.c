// SPDX-License-Identifier: GPL-2.0
/* The instance's lock-down for the kernel tests: see klockdown.h. */
#include <dlfcn.h>
#include <malloc.h>
#include <stdlib.h>

#include "api/error.h"
#include "instance/instance.h"
#include "tests/harness.h"
#include "tests/kernel/klockdown.h"

bool klockdown_wanted(void)
{
	const char *v = getenv("SHOAL_KTEST_LOCKDOWN");

	return v && *v && *v != '0';
}

/* start.c's steps 3 and 5, before the kernel's host threads exist. */
void klockdown_before_boot(void)
{
	struct shoal_error err = { 0 };

	/* As instance/kernel.c's kernel_prepare: pthread_exit at halt needs
	 * libgcc_s, which glibc would otherwise open after the lock-down. */
	if (!dlopen("libgcc_s.so.1", RTLD_NOW | RTLD_NODELETE))
		harness_fail(__FILE__, __LINE__, "load libgcc_s.so.1: %s", dlerror());
	/* As instance/job.c: thread arenas open files (CPU count, overcommit). */
	mallopt(M_ARENA_MAX, 1);
	if (sandbox_enter_namespaces("ktest", &err) < 0 || sandbox_pivot_empty_root(&err) < 0 ||
	    sandbox_drop_capabilities(&err) < 0 || sandbox_no_new_privs(&err) < 0)
		harness_fail(__FILE__, __LINE__, "lock-down: %s", err.msg);
}

/* start.c's step 8: the allow-list, on every thread. */
void klockdown_after_boot(void)
{
	struct shoal_error err = { 0 };
	uint32_t allowed = 0;

	if (sandbox_seccomp_load(&allowed, &err) < 0)
		harness_fail(__FILE__, __LINE__, "seccomp: %s", err.msg);
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel tests under the instance's own lock-down. With
 * SHOAL_KTEST_LOCKDOWN=1 in the environment, kboot() does to the test
 * process what shoal-instance does to itself (instance/sandbox.c, the same
 * functions, the same order): fresh mount, net, ipc and uts namespaces, an
 * empty root, no capabilities, no_new_privs before the boot, and after it
 * the seccomp allow-list on every thread. A case that needs a host call the
 * instance may not make dies of SIGSYS, which the runner reports.
 * tests/kernel/lockdown-run lists and runs the cases this way.
 */
#ifndef SHOAL_TESTS_KERNEL_KLOCKDOWN_H
#define SHOAL_TESTS_KERNEL_KLOCKDOWN_H

#include <stdbool.h>

bool klockdown_wanted(void);
void klockdown_before_boot(void);
void klockdown_after_boot(void);

#endif

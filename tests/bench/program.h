/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The programs a benchmark's peers need (uml, busybox, ip, unshare, iperf3):
 * found the way a shell would, so that a missing package skips a peer with
 * a line that names it instead of failing a run.
 */
#ifndef SHOAL_TESTS_BENCH_PROGRAM_H
#define SHOAL_TESTS_BENCH_PROGRAM_H

#include <stdbool.h>
#include <stddef.h>

/* @name as an executable into @out: a path as given, or looked up in $PATH. */
bool bench_find_program(const char *name, char *out, size_t len);

#endif

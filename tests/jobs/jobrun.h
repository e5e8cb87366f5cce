/* SPDX-License-Identifier: GPL-2.0 */
/*
 * jobrun.h: run a command for tests/jobs/ with its stdout and stderr
 * captured apart, in its own process group, under a deadline; the group is
 * SIGKILLed at the deadline and after the command ends (nothing is left).
 * A timeout fails the case. Paths of build outputs come from $SHOAL_BUILD.
 */
#ifndef SHOAL_TESTS_JOBS_JOBRUN_H
#define SHOAL_TESTS_JOBS_JOBRUN_H

#define JOBRUN_OUT_MAX 65536

struct jobrun {
	int status; /* wait status */
	char out[JOBRUN_OUT_MAX];
	char err[JOBRUN_OUT_MAX];
};

/* Run @argv (argv[0] is the file) with @env added to the environment
 * (NULL-terminated, or NULL), in @cwd (or the current folder when NULL).
 * Prints the result for the case's log. */
void jobrun(struct jobrun *r, const char *const *argv, const char *const *env, const char *cwd,
	    int secs);

/* "$SHOAL_BUILD/@rel" (a few rotating static buffers). */
const char *jobrun_build_path(const char *rel);

/* The shim binary; fails the case if it is not built. */
const char *jobrun_shim(void);

/* Fail the case unless @r exited with @code. */
void jobrun_check_exit(const struct jobrun *r, int code);

/* A fresh folder under /tmp, removed with its contents when the case
 * process exits. */
const char *jobrun_tmpdir(void);

#endif

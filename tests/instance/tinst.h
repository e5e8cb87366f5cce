/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small supervisor for the instance tests: it spawns the real
 * shoal-instance ($SHOAL_BUILD/instance/shoal-instance) on one end of a real
 * SEQPACKET socketpair and speaks the control protocol on the other with the
 * shared codec (api/channel.h), as shoald will. Every wait has a timeout, and
 * a failed expectation ends the case through the harness.
 *
 * Instance ids are "t<test pid>-<n>". A guardian process, started with the
 * first instance, outlives the test: once the test is gone (however it ended)
 * it gives the instances a few seconds to go by themselves, then kills what
 * is left in their cgroups and removes the cgroups, so a failed or killed case
 * leaves nothing behind.
 */
#ifndef SHOAL_TESTS_INSTANCE_TINST_H
#define SHOAL_TESTS_INSTANCE_TINST_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "api/proto.h"

struct knetns;

struct tinst {
	pid_t pid; /* the process we spawned: the monitor (or the instance, --unconfined) */
	int sock; /* our end of the control channel, or -1 */
	char id[64]; /* instance id */
	uint64_t next_id;
	bool reaped;
	int status; /* wait status once reaped */
};

/* Skip the case unless root (namespaces, cgroups, packet sockets). */
void tinst_require_root(void);

/* Spawn an instance with extra command-line arguments (NULL-terminated, may be NULL). */
void tinst_spawn(struct tinst *t, const char *const *args);
/* The same, inside network namespace @ns (so it can open an interface there by name). */
void tinst_spawn_netns(struct tinst *t, struct knetns *ns, const char *const *args);

/* Receive the next message within @timeout_ms: 0, -ETIMEDOUT or -ECONNRESET (end of file). */
int tinst_recv(struct tinst *t, struct proto_msg *msg, int timeout_ms);
/* The next message must be of @type; fails the case otherwise. Caller frees @msg. */
void tinst_expect(struct tinst *t, struct proto_msg *msg, enum proto_type type, int timeout_ms);
/* The next message must be `ok` for @id and @request (reply in @msg, caller frees). */
void tinst_expect_ok(struct tinst *t, struct proto_msg *msg, uint64_t id, enum proto_type request,
		     int timeout_ms);
/* The next message must be `error` for @id with @code; returns nothing, frees it. */
void tinst_expect_error(struct tinst *t, uint64_t id, enum proto_error_code code, int timeout_ms);
/* End of file must come within @timeout_ms (messages before it are skipped). */
void tinst_expect_eof(struct tinst *t, int timeout_ms);

/* Send a message (descriptors as proto_msg_nfds() says); a request gets the next id. */
uint64_t tinst_send(struct tinst *t, struct proto_msg *msg, const int *fds, size_t nfds);
/* Send raw bytes as one packet, bypassing our encoder's checks. */
void tinst_send_raw(struct tinst *t, const char *text, size_t len);

/* Read the instance's hello and send ours. */
void tinst_hello(struct tinst *t);
/*
 * A configure message for this instance with the defaults the tests use (64
 * MiB, no network, keep_on_supervisor_exit false); change fields, then
 * tinst_configure_send().
 */
void tinst_configure_init(struct tinst *t, struct proto_msg *msg);
/* Send configure, expect ok and ready (kept in @ready, caller frees). */
void tinst_boot(struct tinst *t, struct proto_msg *cfg, const int *fds, size_t nfds,
		struct proto_msg *ready);
/* spawn + hello + default configure + ready, in one. */
void tinst_start(struct tinst *t, const char *const *args, struct proto_msg *ready);

/* Shutdown request, ok, end of file, exit status 0. */
void tinst_shutdown(struct tinst *t);
/* Wait for the spawned process to exit within @timeout_ms; true if it did. */
bool tinst_wait_exit(struct tinst *t, int timeout_ms);
/* Close our end of the channel. */
void tinst_close(struct tinst *t);

/* The instance proper: the monitor's child (pid 1 of its namespace). */
pid_t tinst_inner_pid(struct tinst *t);
/* The jail's zygote: the instance's only child process (fails the case if there is none). */
pid_t tinst_zygote_pid(struct tinst *t);
/*
 * Every thread of process @pid is locked down: no capability in any set,
 * no_new_privs, a seccomp filter. Capabilities are per thread, so a thread
 * made before the drop would keep them. Returns the number of threads.
 */
int tinst_check_threads_locked_down(pid_t pid);
/* The children of @pid's main thread as /proc lists them ("4 7 "), "" for none. */
void tinst_children(pid_t pid, char *buf, size_t size);

/* Upload @len bytes to @path in chunks; returns the reply (ok or error) message type. */
enum proto_type tinst_put(struct tinst *t, const char *path, const void *data, size_t len,
			  uint32_t mode);
/* Download @path; returns a malloc()ed buffer and its size, or NULL with *@code set. */
void *tinst_get(struct tinst *t, const char *path, size_t *len, uint32_t *mode,
		enum proto_error_code *code);

/* stats, answered ok; the result in @msg (caller frees). Job output that comes first is skipped. */
void tinst_stats(struct tinst *t, struct proto_msg *msg);
/* The instance's host threads, as its stats report them. */
uint32_t tinst_host_threads(struct tinst *t);

/*
 * Jobs. A job's result: its output per stream (checked to arrive in order,
 * offsets without gaps), its exec_exit, or the error that answered exec.
 */
struct tinst_job {
	uint64_t job; /* 0 when exec was answered with an error */
	enum proto_error_code error;
	char message[256];
	unsigned char *out[2]; /* stdout, stderr; NUL-terminated for convenience */
	size_t len[2];
	struct proto_exec_exit exit;
};

/* An exec request with the codec's defaults for @argv (NULL-terminated); change fields, send. */
void tinst_exec_init(struct proto_msg *msg, const char *const *argv);
/* Send @exec; fills @res->job or @res->error. Messages of other jobs are skipped. */
void tinst_exec_send(struct tinst *t, struct proto_msg *exec, struct tinst_job *res);
/* Collect @res->job's output until its exec_exit, within @timeout_ms. */
void tinst_exec_wait(struct tinst *t, struct tinst_job *res, int timeout_ms);
/* Both: run @argv with @stdin_text (NULL: none) and wait up to @timeout_ms for the end. */
void tinst_run(struct tinst *t, const char *const *argv, const char *stdin_text, int timeout_ms,
	       struct tinst_job *res);
void tinst_job_free(struct tinst_job *res);
/* Take @msg into @res if it is @res's output (offsets checked); true if it was. */
bool tinst_job_output(struct tinst_job *res, const struct proto_msg *msg);
/* Run @argv in @cwd (NULL: the default) and check it exits 0 having printed exactly @out. */
void tinst_run_ok(struct tinst *t, const char *const *argv, const char *cwd, int timeout_ms,
		  const char *out);
/* Shutdown while @njobs jobs run: their exec_exit events, then ok, end of file, status 0. */
void tinst_shutdown_jobs(struct tinst *t, int njobs);
/* Is the job shim built ($SHOAL_BUILD/instance/shoal-jobshim)? */
bool tinst_have_jobshim(void);
/* Skip the case unless root and the job shim is built. */
void tinst_require_jobshim(void);

#endif /* SHOAL_TESTS_INSTANCE_TINST_H */

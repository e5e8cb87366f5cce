/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The supervisor's private header: struct sup_proc, shared by supervisor.c
 * (the process: spawn, adopt, hello/configure/ready, stop, reap, cgroup) and
 * sup_calls.c (requests, their replies and streams, the send queue). Names
 * with sup__ are internal to those two files; the rest of the daemon sees
 * only the sup_ API of shoald.h. Loop thread only.
 */
#ifndef SHOAL_DAEMON_SUP_H
#define SHOAL_DAEMON_SUP_H

#include "api/proto.h"
#include "daemon/shoald.h"

enum sup_phase {
	SUP_HELLO, /* spawned, nothing sent yet */
	SUP_CONFIGURING, /* hello and configure sent at once, waiting for hello and ok */
	SUP_BOOTING, /* waiting for ready */
	SUP_READY,
	SUP_STOPPING, /* shutdown sent or signal given, grace timer running */
	SUP_CLEANUP, /* reaped; removing the cgroup */
	SUP_CLOSING, /* handles closing */
};

#define SUP_CONFIGURE_ID 1
#define SUP_SHUTDOWN_ID 2
#define SUP_CGROUP_TRIES 100
#define SUP_CGROUP_RETRY_MS 20
#define SUP_DRAIN_MAX 64
#define SUP_FIRST_CALL_ID 16

struct sup_out {
	struct sup_out *next;
	size_t len;
	char text[];
};

struct sup_call {
	struct sup_proc *proc;
	struct sup_call *next;
	uint64_t id;
	enum proto_type type; /* of the request */
	uint64_t job; /* exec: the job its ok named; 0 before */
	bool replied;
	uint64_t deadline; /* uv_now() by which it must be done, or it times out */
	sup_msg_fn fn; /* NULL once detached */
	void *arg;
};

struct sup_proc {
	uv_process_t proc; /* a child of ours */
	uv_poll_t pidpoll; /* or an adopted process, watched through its pidfd */
	bool adopted;
	int pidfd;
	pid_t pid;
	int adopt_fd; /* the listening socket for a later daemon, until configure took it */
	uv_poll_t poll;
	uv_timer_t timer;
	uv_timer_t call_timer; /* runs while calls wait: each is bounded */
	int sock;
	bool poll_active;
	int handles; /* handles still open */
	enum sup_phase phase;
	bool hello_seen; /* the instance's hello came (its first message) */
	bool exited;
	int cgroup_tries;
	char id[STORE_ID_MAX];
	uint32_t memory_mib;
	const struct sup_callbacks *cb;
	void *arg;
	char why[STORE_REASON_MAX]; /* first explanation of the end wins */
	struct sup_net net; /* packet_fd -1 without network, or once sent */
	json_t *disks; /* the disks asked for (a reference), NULL without */
	int disk_fds[PROTO_DISKS_MAX]; /* their images, the caller's descriptors */
	bool has_net;
	struct sup_call *calls;
	uint64_t next_id;
	struct sup_out *out_head, *out_tail; /* messages waiting for room in the socket */
	bool want_write;
	bool chan_down; /* end of file or an error read: the poll stays stopped */
};

/* First explanation of the end wins. */
void sup__why(struct sup_proc *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sup__poll_cb(uv_poll_t *h, int status, int events);

/* sup_calls.c */
void sup__calls_fail(struct sup_proc *p);
void sup__poll_update(struct sup_proc *p);
int sup__flush(struct sup_proc *p);
int sup__send_fds(struct sup_proc *p, struct proto_msg *msg, const int *fds, size_t nfds,
		  struct shoal_error *err);
int sup__send(struct sup_proc *p, struct proto_msg *msg);
bool sup__route(struct sup_proc *p, struct proto_msg *msg);

#endif /* SHOAL_DAEMON_SUP_H */

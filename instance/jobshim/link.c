// SPDX-License-Identifier: GPL-2.0
/*
 * link.c: the link is an AF_UNIX SOCK_SEQPACKET socket per job process; one
 * packet is one fixed-size record of job_abi.h. Its other end is the
 * instance's link thread, which makes kernel tasks and slots for new threads
 * and forks, and which learns that the process is gone when the socket
 * closes (exit, or the last reference dying with the process). The calls
 * here run inside the SIGSYS handler with every signal but SIGKILL and the
 * faults blocked, so they block without interruption.
 */
#include "instance/jobshim/link.h"

#include "instance/jobshim/lib.h"
#include "instance/jobshim/shim.h"
#include "instance/jobshim/sys.h"

#define SHIM_SOL_SOCKET 1
#define SHIM_SCM_RIGHTS 1
#define SHIM_MSG_NOSIGNAL 0x4000
#define SHIM_MSG_CMSG_CLOEXEC 0x40000000

struct shim_iovec {
	void *base;
	size_t len;
};

struct shim_msghdr {
	void *name;
	int namelen;
	struct shim_iovec *iov;
	size_t iovlen;
	void *control;
	size_t controllen;
	int flags;
};

struct shim_cmsg_fd {
	size_t len;
	int level;
	int type;
	int fd;
	int pad;
};

static long link_send_locked(struct shoal_link_msg *m)
{
	long r;

	m->pid = (int32_t)shim_getpid();
	m->tid = (int32_t)shim_gettid();
	do {
		/* MSG_NOSIGNAL: a gone instance is -EPIPE, not a SIGPIPE
		 * to the program. */
		r = sys6(__NR_sendto, shim_g.link_fd, (long)m, sizeof(*m), SHIM_MSG_NOSIGNAL, 0, 0);
	} while (r == -EINTR);
	return r == (long)sizeof(*m) ? 0 : -EIO;
}

long link_send(struct shoal_link_msg *m)
{
	long r;

	shim_lock(&shim_g.link_lock);
	r = link_send_locked(m);
	shim_unlock(&shim_g.link_lock);
	return r;
}

long link_call(struct shoal_link_msg *m, struct shoal_link_reply *rep, int *fd)
{
	struct shim_cmsg_fd cm;
	struct shim_iovec iov = { rep, sizeof(*rep) };
	struct shim_msghdr mh;
	long r;

	if (fd)
		*fd = -1;
	shim_lock(&shim_g.link_lock);
	r = link_send_locked(m);
	if (r)
		goto out;
	shim_memset(&mh, 0, sizeof(mh));
	shim_memset(&cm, 0, sizeof(cm));
	mh.iov = &iov;
	mh.iovlen = 1;
	mh.control = &cm;
	mh.controllen = sizeof(cm);
	do {
		r = sys3(__NR_recvmsg, shim_g.link_fd, (long)&mh, SHIM_MSG_CMSG_CLOEXEC);
	} while (r == -EINTR);
	if (r != (long)sizeof(*rep)) {
		r = -EIO;
		goto out;
	}
	r = 0;
	if (mh.controllen >= 20 && cm.level == SHIM_SOL_SOCKET && cm.type == SHIM_SCM_RIGHTS) {
		if (fd)
			*fd = cm.fd;
		else
			shim_close(cm.fd);
	}
out:
	shim_unlock(&shim_g.link_lock);
	return r;
}

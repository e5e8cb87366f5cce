// SPDX-License-Identifier: GPL-2.0
/*
 * The veth pool (--veth-pool N): up to N veth pairs made ahead, each with its
 * packet socket, so that a create with network does not wait for the host
 * kernel to make one (a few milliseconds, more while other pairs are being
 * deleted: both take the rtnl lock). A create takes one, with the id it was
 * named for, and another is made behind it on libuv's thread pool.
 *
 * Each pair is named for an instance id drawn when the pair is made, exactly
 * as a create draws one (instances_new_id()), and that id becomes the
 * instance's when a create takes the pair. So the names stay "sb<id>" /
 * "si<id>", and everything that reasons on names stays true: a veth whose id
 * is no live instance's is nobody's. A restarted daemon's sweep removes the
 * pool of a daemon that was killed, and the pool that was never handed out
 * leaks nothing. The id is known to no one before its create is answered
 * (the namespace's links are root's only), so ids stay unpredictable.
 *
 * A waiting pair's packet socket is held (netman.c): it receives no frame
 * until a create takes it, so it does not fill with the bridge's broadcasts.
 * At a stop the pool's pairs are deleted, also those still being made.
 * Everything here runs on the loop thread; only netlink runs on the pool.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/log.h"
#include "daemon/shoald.h"

/* Pairs being made at once: the rtnl lock serialises them anyway, and the thread pool is shared. */
#define VETHPOOL_MAKING_MAX 2

struct vethpool_pair {
	char id[STORE_ID_MAX];
	int packet_fd;
	struct vethpool_pair *next;
};

static uv_loop_t *vethpool_loop;
static struct vethpool_pair *vethpool_ready; /* made, waiting for a create */
static unsigned int vethpool_nready;
static unsigned int vethpool_making; /* adds on the thread pool */
static unsigned int vethpool_deleting; /* deletes on the thread pool */
static bool vethpool_failed; /* the last make failed: wait for the next tick */
static bool vethpool_stopping;
static void (*vethpool_stop_done)(void);
static uint64_t vethpool_takes, vethpool_misses;

static void vethpool_check_stop(void)
{
	if (vethpool_stopping && !vethpool_making && !vethpool_deleting && vethpool_stop_done) {
		void (*done)(void) = vethpool_stop_done;

		vethpool_stop_done = NULL;
		done();
	}
}

static void vethpool_deleted(void *arg, int r, int packet_fd, const char *msg)
{
	(void)arg;
	(void)packet_fd;
	vethpool_deleting--;
	if (r && r != -ENODEV)
		shoal_log_warn("veth pool: %s", msg);
	vethpool_check_stop();
}

/* Close @fd and delete @id's pair, off the loop. */
static void vethpool_drop(const char *id, int fd)
{
	char host[NETMAN_IFNAME_SIZE], inner[NETMAN_IFNAME_SIZE];
	struct shoal_error err = { 0 };

	close(fd);
	netman_veth_names(id, host, inner);
	vethpool_deleting++;
	if (netman_veth_del_async(vethpool_loop, host, vethpool_deleted, NULL, &err)) {
		vethpool_deleting--;
		shoal_log_error("veth pool: %s", err.msg);
	}
}

static void vethpool_made(void *arg, int r, int packet_fd, const char *msg)
{
	struct vethpool_pair *p = arg;

	vethpool_making--;
	if (r) {
		/* Not again at once: the next 1 s tick tries (vethpool_tick()). */
		vethpool_failed = true;
		shoal_log_warn("veth pool: %s", msg);
		free(p);
		vethpool_check_stop();
		return;
	}
	if (vethpool_stopping) {
		vethpool_drop(p->id, packet_fd);
		free(p);
		vethpool_check_stop();
		return;
	}
	p->packet_fd = packet_fd;
	p->next = vethpool_ready;
	vethpool_ready = p;
	vethpool_nready++;
	vethpool_fill();
}

/* Queue adds until the pool (ready and being made) is full, a few at a time. */
static void vethpool_refill(void)
{
	struct shoal_error err = { 0 };
	struct vethpool_pair *p;

	while (!vethpool_stopping && !vethpool_failed &&
	       vethpool_nready + vethpool_making < shoald_config.veth_pool &&
	       vethpool_making < VETHPOOL_MAKING_MAX) {
		p = calloc(1, sizeof(*p));
		if (!p || instances_new_id(p->id)) {
			free(p);
			vethpool_failed = true;
			shoal_log_warn("veth pool: no memory or no random id");
			return;
		}
		p->packet_fd = -1;
		vethpool_making++;
		if (netman_veth_add_async(vethpool_loop, p->id, NETMAN_MTU, true, vethpool_made, p,
					  &err)) {
			vethpool_making--;
			vethpool_failed = true;
			free(p);
			shoal_log_warn("veth pool: %s", err.msg);
			return;
		}
	}
}

void vethpool_fill(void)
{
	if (!vethpool_loop)
		return;
	vethpool_refill();
}

void vethpool_start(uv_loop_t *loop)
{
	vethpool_loop = loop;
	if (shoald_config.veth_pool)
		shoal_log_info("veth pool: keeping %u veth pair(s) ready", shoald_config.veth_pool);
	vethpool_refill();
}

/* Called once a second (instances.c's tick): after a failure, try again. */
void vethpool_tick(void)
{
	vethpool_failed = false;
	vethpool_fill();
}

bool vethpool_take(char id[STORE_ID_MAX], int *packet_fd)
{
	struct shoal_error err = { 0 };
	struct vethpool_pair *p;

	while ((p = vethpool_ready)) {
		vethpool_ready = p->next;
		vethpool_nready--;
		/* From now on its frames are the instance's. */
		if (netman_packet_listen(p->packet_fd, &err)) {
			/* Someone deleted the veth under us: drop it, try the next. */
			shoal_log_warn("veth pool: the pair of %s: %s", p->id, err.msg);
			vethpool_drop(p->id, p->packet_fd);
			free(p);
			continue;
		}
		snprintf(id, STORE_ID_MAX, "%s", p->id);
		*packet_fd = p->packet_fd;
		free(p);
		vethpool_takes++;
		vethpool_fill();
		return true;
	}
	if (shoald_config.veth_pool)
		vethpool_misses++;
	vethpool_fill();
	return false;
}

void vethpool_discard(const char *id, int packet_fd)
{
	vethpool_drop(id, packet_fd);
}

void vethpool_stop(void (*done)(void))
{
	struct vethpool_pair *p;

	vethpool_stopping = true;
	vethpool_stop_done = done;
	while ((p = vethpool_ready)) {
		vethpool_ready = p->next;
		vethpool_nready--;
		vethpool_drop(p->id, p->packet_fd);
		free(p);
	}
	/* Pairs still being made are deleted when their add comes back. */
	vethpool_check_stop();
}

void vethpool_counts(unsigned int *ready, uint64_t *takes, uint64_t *misses)
{
	*ready = vethpool_nready;
	*takes = vethpool_takes;
	*misses = vethpool_misses;
}

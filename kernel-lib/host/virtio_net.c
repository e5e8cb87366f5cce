// SPDX-License-Identifier: GPL-2.0
/*
 * virtio-net on an AF_PACKET socket. The socket is bound to a host interface
 * (one end of a veth pair) or handed over already open by the supervisor.
 * With offloads on, the socket carries the virtio-net header itself
 * (PACKET_VNET_HDR), so checksum offload and TSO/GSO cross the veth in both
 * directions untouched: one 64 KiB TCP segment costs one sendmsg, not 45.
 *
 * Transmit runs on the thread that rang the doorbell (it holds the kernel's
 * CPU already): the whole tx ring is drained into one sendmmsg. Receive runs
 * on a poller thread per device that drains the socket with recvmmsg into
 * the driver's mergeable rx buffers and raises one interrupt per batch.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <skl.h>

#include "kernel-lib/host/net_soft.h"
#include "kernel-lib/host/virtio.h"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

#define VIRTIO_ID_NET 1
#define RXQ 0
#define TXQ 1

enum {
	NET_F_CSUM = 0,
	NET_F_GUEST_CSUM = 1,
	NET_F_MTU = 3,
	NET_F_MAC = 5,
	NET_F_GUEST_TSO4 = 7,
	NET_F_GUEST_TSO6 = 8,
	NET_F_GUEST_ECN = 9,
	NET_F_HOST_TSO4 = 11,
	NET_F_HOST_TSO6 = 12,
	NET_F_HOST_ECN = 13,
	NET_F_MRG_RXBUF = 15,
};

/* The header the socket speaks (virtio 0.9 layout, 10 bytes). */
struct vnet_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
};

#define VNET_F_NEEDS_CSUM 1

/* The header the driver speaks with VERSION_1: the same plus num_buffers. */
#define DRIVER_HDR_LEN 12
#define MAX_FRAME (65536 + 64)
#define RX_BATCH 16
#define TX_BATCH 64

struct rx_slot {
	struct vnet_hdr hdr;
	unsigned char *data;
	size_t len;
};

struct netdev {
	struct virtio_dev vdev;
	int fd;
	int wake_fd; /* eventfd: rx buffers arrived, tx unblocked, or stop */
	pthread_t poller;
	bool poller_running;
	volatile bool stop;
	bool offloads;
	unsigned char mac[6];
	uint16_t mtu;
	pthread_mutex_t tx_lock;
	bool tx_blocked;
	/*
	 * tx_drain's batch, under tx_lock. It was thread-local storage, which
	 * every thread of a program linking this library paid for (70 KiB
	 * zeroed at each thread's creation: 17 page faults, ~25 us here, and
	 * as much memory per thread), also threads that never send.
	 */
	struct mmsghdr tx_msgs[TX_BATCH];
	struct iovec tx_iovs[TX_BATCH][64];
	struct vnet_hdr tx_hdrs[TX_BATCH];
	uint16_t tx_heads[TX_BATCH];
	/* rx staging: packets read from the socket, not yet given to the driver
	 */
	struct rx_slot rx[RX_BATCH];
	unsigned int rx_head, rx_count;
	/* counters, host-atomic */
	unsigned long rx_packets, rx_bytes, rx_dropped, tx_packets, tx_bytes,
		tx_dropped;
};

#define MAX_NETDEVS 8
static struct netdev *netdevs[MAX_NETDEVS];

static void wake_poller(struct netdev *nd)
{
	uint64_t one = 1;

	if (write(nd->wake_fd, &one, sizeof(one)) < 0) {
		/* the counter saturates only if nobody reads it: fine */
	}
}

/* Drain the tx ring into the socket. Caller holds tx_lock. */
static void tx_drain(struct netdev *nd)
{
	struct virtio_dev *dev = &nd->vdev;
	struct virtio_queue *vq = &dev->queues[TXQ];
	struct mmsghdr *msgs = nd->tx_msgs;
	struct iovec(*iovs)[64] = nd->tx_iovs;
	struct vnet_hdr *hdrs = nd->tx_hdrs;
	uint16_t *heads = nd->tx_heads;
	struct virtio_req req;
	bool pushed = false;

	while (virtio_queue_has_avail(dev, TXQ)) {
		unsigned int n = 0, i;
		int sent;

		while (n < TX_BATCH && virtio_queue_pop(dev, TXQ, &req)) {
			unsigned int k = 0, j;
			size_t skip = DRIVER_HDR_LEN;
			unsigned char hdrbuf[DRIVER_HDR_LEN];
			size_t got = 0;

			/* The driver's header may share a buffer with data. */
			for (j = 0; j < req.nout && got < DRIVER_HDR_LEN; j++) {
				size_t take = req.iov[j].iov_len;

				if (take > DRIVER_HDR_LEN - got)
					take = DRIVER_HDR_LEN - got;
				memcpy(hdrbuf + got, req.iov[j].iov_base, take);
				got += take;
			}
			if (got < DRIVER_HDR_LEN) {
				virtio_queue_push(dev, TXQ, req.head, 0);
				__atomic_fetch_add(&nd->tx_dropped, 1,
						   __ATOMIC_RELAXED);
				pushed = true;
				continue;
			}
			if (nd->offloads)
				memcpy(&hdrs[n], hdrbuf, sizeof(hdrs[n]));
			else
				memset(&hdrs[n], 0, sizeof(hdrs[n]));
			iovs[n][k].iov_base = &hdrs[n];
			iovs[n][k].iov_len = sizeof(hdrs[n]);
			k++;
			for (j = 0; j < req.nout && k < 64; j++) {
				size_t len = req.iov[j].iov_len;
				char *base = req.iov[j].iov_base;

				if (skip >= len) {
					skip -= len;
					continue;
				}
				iovs[n][k].iov_base = base + skip;
				iovs[n][k].iov_len = len - skip;
				skip = 0;
				k++;
			}
			memset(&msgs[n], 0, sizeof(msgs[n]));
			msgs[n].msg_hdr.msg_iov = iovs[n];
			msgs[n].msg_hdr.msg_iovlen = k;
			heads[n] = req.head;
			n++;
		}
		if (!n)
			break;
		sent = sendmmsg(nd->fd, msgs, n, MSG_DONTWAIT);
		if (sent < 0)
			sent = (errno == EAGAIN || errno == ENOBUFS) ? 0 : -1;
		if (sent < 0) {
			/* A frame the host refuses (bad header, too big): drop
			 * the first one, retry the rest on the next pass. */
			sent = 1;
			__atomic_fetch_add(&nd->tx_dropped, 1,
					   __ATOMIC_RELAXED);
		} else {
			for (i = 0; i < (unsigned int)sent; i++) {
				__atomic_fetch_add(&nd->tx_packets, 1,
						   __ATOMIC_RELAXED);
				__atomic_fetch_add(&nd->tx_bytes,
						   msgs[i].msg_len,
						   __ATOMIC_RELAXED);
			}
		}
		for (i = 0; i < (unsigned int)sent; i++)
			virtio_queue_push(dev, TXQ, heads[i], 0);
		pushed = pushed || sent > 0;
		if ((unsigned int)sent < n) {
			/* The socket is full: give the rest back to the ring
			 * and let the poller retry when it can write. */
			vq->last_avail -= (uint16_t)(n - (unsigned int)sent);
			nd->tx_blocked = true;
			wake_poller(nd);
			break;
		}
	}
	if (pushed)
		virtio_queue_interrupt(dev, TXQ);
}

/*
 * Copy one frame with its driver header into as many mergeable rx buffers as
 * it needs. Returns false, taking nothing, when the ring has too few.
 */
static bool rx_deliver_one(struct netdev *nd, const struct vnet_hdr *vh,
			   const unsigned char *data, size_t len)
{
	struct virtio_dev *dev = &nd->vdev;
	struct virtio_queue *vq = &dev->queues[RXQ];
	uint16_t saved_avail = vq->last_avail;
	struct virtio_req req;
	unsigned char hdr[DRIVER_HDR_LEN];
	uint16_t heads[64];
	uint32_t lens[64];
	unsigned int nbufs = 0, i;
	size_t total = DRIVER_HDR_LEN + len, done = 0;
	unsigned char *first = NULL;

	memset(hdr, 0, sizeof(hdr));
	memcpy(hdr, vh, sizeof(*vh));
	while (done < total) {
		size_t room = 0, j;

		if (nbufs == 64 || !virtio_queue_pop(dev, RXQ, &req)) {
			vq->last_avail = saved_avail; /* nothing taken */
			return false;
		}
		heads[nbufs] = req.head;
		for (j = req.nout; j < req.nout + req.nin && done < total;
		     j++) {
			unsigned char *p = req.iov[j].iov_base;
			size_t blen = req.iov[j].iov_len, off = 0;

			if (!first && blen >= DRIVER_HDR_LEN)
				first = p;
			while (off < blen && done < total) {
				size_t take;

				if (done < DRIVER_HDR_LEN) {
					take = DRIVER_HDR_LEN - done;
					if (take > blen - off)
						take = blen - off;
					memcpy(p + off, hdr + done, take);
				} else {
					take = total - done;
					if (take > blen - off)
						take = blen - off;
					memcpy(p + off,
					       data + (done - DRIVER_HDR_LEN),
					       take);
				}
				off += take;
				done += take;
				room += take;
			}
		}
		lens[nbufs++] = (uint32_t)room;
	}
	/* num_buffers, in the header's last two bytes */
	if (first) {
		uint16_t nb = (uint16_t)nbufs;

		memcpy(first + 10, &nb, sizeof(nb));
	}
	for (i = 0; i < nbufs; i++)
		virtio_queue_push(dev, RXQ, heads[i], lens[i]);
	__atomic_fetch_add(&nd->rx_packets, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&nd->rx_bytes, len, __ATOMIC_RELAXED);
	return true;
}

static int rx_emit_segment(void *ctx, const unsigned char *frame, size_t len)
{
	static const struct vnet_hdr none;
	struct netdev *nd = ctx;

	if (!rx_deliver_one(nd, &none, frame, len)) {
		__atomic_fetch_add(&nd->rx_dropped, 1, __ATOMIC_RELAXED);
		return -1;
	}
	return 0;
}

/*
 * Give staged packets to the driver. Returns false when it ran out of rx
 * buffers (the rest stays staged). Runs on the poller only.
 */
static bool rx_deliver(struct netdev *nd)
{
	struct virtio_dev *dev = &nd->vdev;
	bool delivered = false, ok = true;

	while (nd->rx_count) {
		struct rx_slot *slot = &nd->rx[nd->rx_head];

		if (!nd->offloads && slot->hdr.gso_type) {
			/* Cut it up here; segments that find no buffer are
			 * dropped and TCP sends them again. */
			if (net_soft_segment(
				    slot->data, slot->len, slot->hdr.gso_type,
				    slot->hdr.gso_size, rx_emit_segment, nd))
				__atomic_fetch_add(&nd->rx_dropped, 1,
						   __ATOMIC_RELAXED);
			delivered = true;
		} else {
			if (!nd->offloads &&
			    (slot->hdr.flags & VNET_F_NEEDS_CSUM)) {
				net_soft_csum(slot->data, slot->len,
					      slot->hdr.csum_start,
					      slot->hdr.csum_offset);
				memset(&slot->hdr, 0, sizeof(slot->hdr));
			}
			if (!nd->offloads)
				memset(&slot->hdr, 0, sizeof(slot->hdr));
			if (!rx_deliver_one(nd, &slot->hdr, slot->data,
					    slot->len)) {
				ok = false;
				break;
			}
			delivered = true;
		}
		nd->rx_head = (nd->rx_head + 1) % RX_BATCH;
		nd->rx_count--;
	}
	if (delivered)
		virtio_queue_interrupt(dev, RXQ);
	return ok;
}

/* Read what the socket has into free staging slots. */
static void rx_read(struct netdev *nd)
{
	struct mmsghdr msgs[RX_BATCH];
	struct iovec iovs[RX_BATCH][2];
	unsigned int free_slots = RX_BATCH - nd->rx_count, i, first;
	int n;

	if (!free_slots)
		return;
	first = (nd->rx_head + nd->rx_count) % RX_BATCH;
	for (i = 0; i < free_slots; i++) {
		struct rx_slot *slot = &nd->rx[(first + i) % RX_BATCH];
		unsigned int k = 0;

		iovs[i][k].iov_base = &slot->hdr;
		iovs[i][k].iov_len = sizeof(slot->hdr);
		k++;
		iovs[i][k].iov_base = slot->data;
		iovs[i][k].iov_len = MAX_FRAME;
		k++;
		memset(&msgs[i], 0, sizeof(msgs[i]));
		msgs[i].msg_hdr.msg_iov = iovs[i];
		msgs[i].msg_hdr.msg_iovlen = k;
	}
	n = recvmmsg(nd->fd, msgs, free_slots, MSG_DONTWAIT, NULL);
	for (i = 0; n > 0 && i < (unsigned int)n; i++) {
		struct rx_slot *slot = &nd->rx[(first + i) % RX_BATCH];
		size_t len = msgs[i].msg_len;

		len = len >= sizeof(slot->hdr) ? len - sizeof(slot->hdr) : 0;
		if ((msgs[i].msg_hdr.msg_flags & MSG_TRUNC) || len < ETH_HLEN) {
			__atomic_fetch_add(&nd->rx_dropped, 1,
					   __ATOMIC_RELAXED);
			slot->len = 0;
			continue;
		}
		slot->len = len;
	}
	/* Compact away dropped slots by keeping only non-empty ones in order.
	 */
	for (i = 0; n > 0 && i < (unsigned int)n; i++) {
		struct rx_slot *slot = &nd->rx[(first + i) % RX_BATCH];

		if (slot->len) {
			unsigned int to =
				(nd->rx_head + nd->rx_count) % RX_BATCH;

			if (&nd->rx[to] != slot) {
				struct rx_slot tmp = nd->rx[to];

				nd->rx[to] = *slot;
				*slot = tmp;
			}
			nd->rx_count++;
		}
	}
}

static void *poller_run(void *arg)
{
	struct netdev *nd = arg;

	while (!nd->stop) {
		struct pollfd pfd[2] = {
			{ .fd = nd->wake_fd, .events = POLLIN },
			{ .fd = nd->fd, .events = 0 },
		};
		bool rx_ready = __atomic_load_n(&nd->vdev.queues[RXQ].ready,
						__ATOMIC_ACQUIRE);
		uint64_t v;

		if (rx_ready && nd->rx_count) {
			if (!rx_deliver(nd)) {
				/* Out of buffers: ask for a doorbell, then look
				 * again in case buffers came meanwhile. */
				virtio_queue_set_notify(&nd->vdev, RXQ, true);
				if (virtio_queue_has_avail(&nd->vdev, RXQ))
					continue;
			}
		}
		if (rx_ready && nd->rx_count < RX_BATCH)
			pfd[1].events |= POLLIN;
		if (nd->tx_blocked)
			pfd[1].events |= POLLOUT;
		if (!nd->rx_count || !rx_ready)
			virtio_queue_set_notify(&nd->vdev, RXQ, true);
		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents & POLLIN) {
			if (read(nd->wake_fd, &v, sizeof(v)) < 0) {
				/* nothing to consume */
			}
		}
		if (pfd[1].revents & POLLOUT) {
			pthread_mutex_lock(&nd->tx_lock);
			nd->tx_blocked = false;
			if (nd->vdev.queues[TXQ].ready)
				tx_drain(nd);
			pthread_mutex_unlock(&nd->tx_lock);
		}
		if ((pfd[1].revents & POLLIN) && nd->vdev.queues[RXQ].ready)
			rx_read(nd);
	}
	return NULL;
}

static void net_notify(struct virtio_dev *dev, unsigned int q)
{
	struct netdev *nd = (struct netdev *)dev;

	if (q == TXQ) {
		pthread_mutex_lock(&nd->tx_lock);
		if (!nd->tx_blocked)
			tx_drain(nd);
		pthread_mutex_unlock(&nd->tx_lock);
	} else {
		/* New rx buffers: the poller may be waiting for them. */
		virtio_queue_set_notify(dev, RXQ, false);
		wake_poller(nd);
	}
}

static void net_config_read(struct virtio_dev *dev, unsigned int offset,
			    void *val, int size)
{
	struct netdev *nd = (struct netdev *)dev;
	unsigned char config[12] = { 0 };
	uint16_t status = 1, pairs = 1, mtu = nd->mtu;

	memcpy(config, nd->mac, 6);
	memcpy(config + 6, &status, 2);
	memcpy(config + 8, &pairs, 2);
	memcpy(config + 10, &mtu, 2);
	if (offset < sizeof(config))
		memcpy(val, config + offset,
		       (size_t)size < sizeof(config) - offset
			       ? (size_t)size
			       : sizeof(config) - offset);
}

static void net_status_changed(struct virtio_dev *dev, uint32_t status)
{
	struct netdev *nd = (struct netdev *)dev;

	(void)status;
	wake_poller(nd);
}

static const struct virtio_dev_ops net_ops = {
	.notify = net_notify,
	.config_read = net_config_read,
	.status_changed = net_status_changed,
};

/* Open (or check) the packet socket. Returns the fd or -errno. */
static int packet_socket_setup(const struct skl_netdev_params *p, char *err,
			       size_t errlen)
{
	int fd = p->packet_fd, one = 1, size = 4 << 20, domain = 0, type = 0;
	socklen_t len = sizeof(int);

	if (fd < 0) {
		struct sockaddr_ll sll;
		unsigned int ifindex;

		if (!p->ifname) {
			snprintf(err, errlen,
				 "network device: neither an interface name "
				 "nor a packet socket fd given");
			return -EINVAL;
		}
		ifindex = if_nametoindex(p->ifname);
		if (!ifindex) {
			snprintf(err, errlen,
				 "network device: host interface '%s' does not "
				 "exist",
				 p->ifname);
			return -ENODEV;
		}
		/* Protocol 0, then bound for every protocol in one step: a
		 * socket made for ETH_P_ALL listens everywhere, and binding it
		 * to one interface waits for an RCU grace period (~10 ms). */
		fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
		if (fd < 0) {
			int e = errno;

			snprintf(err, errlen,
				 "network device: packet socket for '%s': %s",
				 p->ifname, strerror(e));
			return -e;
		}
		memset(&sll, 0, sizeof(sll));
		sll.sll_family = AF_PACKET;
		sll.sll_protocol = htons(ETH_P_ALL);
		sll.sll_ifindex = (int)ifindex;
		if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
			int e = errno;

			close(fd);
			snprintf(err, errlen,
				 "network device: bind to '%s': %s", p->ifname,
				 strerror(e));
			return -e;
		}
	} else {
		if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0 ||
		    domain != AF_PACKET ||
		    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
		    type != SOCK_RAW) {
			snprintf(err, errlen,
				 "network device: fd %d is not a raw AF_PACKET "
				 "socket",
				 fd);
			return -ENOTSOCK;
		}
		fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		if (fd < 0) {
			int e = errno;

			snprintf(err, errlen,
				 "network device: dup of fd %d: %s",
				 p->packet_fd, strerror(e));
			return -e;
		}
	}
	/* The header is on even without offloads: frames from local senders
	 * may still need their checksum or segmentation (net_soft.c). */
	if (setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) <
	    0) {
		int e = errno;

		close(fd);
		snprintf(err, errlen, "network device: PACKET_VNET_HDR: %s",
			 strerror(e));
		return -e;
	}
	/* Our own frames must not come back to us; skip the qdisc like a NIC
	 * driver would; large buffers absorb bursts. */
	setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
	setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size));
	return fd;
}

int skl_netdev_add(const struct skl_netdev_params *p, char *err, size_t errlen)
{
	static char dummy[1];
	struct netdev *nd;
	int slot, ret, i;

	if (!err) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	if (skl_is_running()) {
		snprintf(err, errlen,
			 "network device: add devices before the kernel boots");
		return -EBUSY;
	}
	if (!p || (p->mtu && (p->mtu < 68 || p->mtu > 65535 - 64))) {
		snprintf(err, errlen,
			 "network device: MTU %u out of range 68-65471",
			 p ? p->mtu : 0);
		return -EINVAL;
	}
	for (slot = 0; slot < MAX_NETDEVS && netdevs[slot]; slot++)
		;
	if (slot == MAX_NETDEVS) {
		snprintf(err, errlen, "network device: at most %d",
			 MAX_NETDEVS);
		return -ENOSPC;
	}
	nd = calloc(1, sizeof(*nd));
	if (!nd)
		return -ENOMEM;
	nd->fd = packet_socket_setup(p, err, errlen);
	if (nd->fd < 0) {
		ret = nd->fd;
		free(nd);
		return ret;
	}
	nd->offloads = p->offloads;
	nd->mtu = (uint16_t)(p->mtu ? p->mtu : 1500);
	memcpy(nd->mac, p->mac, 6);
	if (!(nd->mac[0] | nd->mac[1] | nd->mac[2] | nd->mac[3] | nd->mac[4] |
	      nd->mac[5])) {
		/* locally administered, unicast */
		getentropy(nd->mac, 6);
		nd->mac[0] = (unsigned char)((nd->mac[0] & 0xfe) | 0x02);
	}
	nd->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	for (i = 0; i < RX_BATCH; i++)
		nd->rx[i].data = malloc(MAX_FRAME);
	pthread_mutex_init(&nd->tx_lock, NULL);
	nd->vdev.device_id = VIRTIO_ID_NET;
	nd->vdev.nqueues = 2;
	nd->vdev.ops = &net_ops;
	nd->vdev.features = (1ULL << NET_F_MAC) | (1ULL << NET_F_MTU) |
			    (1ULL << NET_F_MRG_RXBUF);
	if (nd->offloads)
		nd->vdev.features |=
			(1ULL << NET_F_CSUM) | (1ULL << NET_F_GUEST_CSUM) |
			(1ULL << NET_F_GUEST_TSO4) |
			(1ULL << NET_F_GUEST_TSO6) | (1ULL << NET_F_GUEST_ECN) |
			(1ULL << NET_F_HOST_TSO4) | (1ULL << NET_F_HOST_TSO6) |
			(1ULL << NET_F_HOST_ECN);
	ret = nd->wake_fd < 0 ? -errno : 0;
	for (i = 0; !ret && i < RX_BATCH; i++)
		if (!nd->rx[i].data)
			ret = -ENOMEM;
	if (!ret)
		ret = virtio_dev_register(&nd->vdev, err, errlen);
	if (!ret) {
		sigset_t all, old;

		host_thread_sigmask(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		ret = -pthread_create(&nd->poller, NULL, poller_run, nd);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (ret)
			virtio_dev_unregister(&nd->vdev);
		else
			nd->poller_running = true;
	}
	if (ret) {
		if (nd->wake_fd >= 0)
			close(nd->wake_fd);
		close(nd->fd);
		for (i = 0; i < RX_BATCH; i++)
			free(nd->rx[i].data);
		free(nd);
		if (!err[0])
			snprintf(err, errlen, "network device: %s",
				 strerror(-ret));
		return ret;
	}
	netdevs[slot] = nd;
	return slot;
}

int skl_netdev_mac(int netdev, unsigned char mac[6])
{
	if (netdev < 0 || netdev >= MAX_NETDEVS || !netdevs[netdev])
		return -ENODEV;
	memcpy(mac, netdevs[netdev]->mac, 6);
	return 0;
}

int skl_netdev_stats(int netdev, struct skl_netdev_stats *st)
{
	struct netdev *nd;

	if (netdev < 0 || netdev >= MAX_NETDEVS || !netdevs[netdev])
		return -ENODEV;
	nd = netdevs[netdev];
	st->rx_packets = __atomic_load_n(&nd->rx_packets, __ATOMIC_RELAXED);
	st->rx_bytes = __atomic_load_n(&nd->rx_bytes, __ATOMIC_RELAXED);
	st->rx_dropped = __atomic_load_n(&nd->rx_dropped, __ATOMIC_RELAXED);
	st->tx_packets = __atomic_load_n(&nd->tx_packets, __ATOMIC_RELAXED);
	st->tx_bytes = __atomic_load_n(&nd->tx_bytes, __ATOMIC_RELAXED);
	st->tx_dropped = __atomic_load_n(&nd->tx_dropped, __ATOMIC_RELAXED);
	return 0;
}

/* After halt: end every poller, close every socket. */
void host_netdevs_stop(void)
{
	int slot, i;

	for (slot = 0; slot < MAX_NETDEVS; slot++) {
		struct netdev *nd = netdevs[slot];

		if (!nd)
			continue;
		nd->stop = true;
		wake_poller(nd);
		if (nd->poller_running)
			pthread_join(nd->poller, NULL);
		virtio_dev_unregister(&nd->vdev);
		close(nd->wake_fd);
		close(nd->fd);
		for (i = 0; i < RX_BATCH; i++)
			free(nd->rx[i].data);
		pthread_mutex_destroy(&nd->tx_lock);
		free(nd);
		netdevs[slot] = NULL;
	}
}

// SPDX-License-Identifier: GPL-2.0
/*
 * The network manager: the daemon's own network namespace, its bridge, and
 * one veth pair per instance, all through netlink (libnl-route-3), never by
 * running `ip`. The host's own namespace is never touched: at start the
 * daemon's main thread moves into a namespace of its own, named like those of
 * `ip netns` (/run/netns/NAME, so that tests and people can enter it with
 * `ip netns exec NAME`), and makes it if it does not exist yet. Everything
 * the daemon does on the network after that happens there: the bridge
 * (shoal0) holding the gateway address of the pool, the veth pairs, and the
 * packet sockets handed to instances. A restarted daemon enters the same
 * namespace and finds what its predecessor left. At a clean stop, when every
 * instance is gone, the namespace is unmounted and removed; it dies with the
 * daemon's thread.
 *
 * Why a namespace and not the host's: instances' traffic cannot reach the
 * host's interfaces or routing, no address of the pool ever shows up among
 * the host's, and two daemons (tests) cannot collide if they use two names.
 *
 * At start (the bridge, leftovers) the netlink requests are synchronous; while
 * the daemon serves, veth pairs are made and deleted on libuv's thread pool
 * (netman_veth_add_async(), netman_veth_del_async()).
 */
#include <errno.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>

#include "api/cleanup.h"
#include "api/log.h"
#include "daemon/shoald.h"

#define NETNS_DIR "/run/netns"

static struct nl_sock *netman_sk;
static char netman_ns_path[PATH_MAX];
static int netman_bridge_ifindex;
static bool netman_made; /* we made the namespace (and may remove it on a failed start) */
static bool netman_ready; /* init completed: at a clean stop the namespace goes */
static int netman_lock_fd = -1;

/*
 * One daemon per namespace: a second one would take the first's veths for
 * leftovers and remove them. The lock is an flock held for the daemon's life
 * (the kernel drops it when the daemon dies, however it dies).
 */
static int netman_lock(const char *name, struct shoal_error *err)
{
	char path[PATH_MAX];

	if (mkdir("/run/shoal", 0755) && errno != EEXIST)
		return shoal_error_set(err, errno, "mkdir /run/shoal");
	snprintf(path, sizeof(path), "/run/shoal/netns-%s.lock", name);
	netman_lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (netman_lock_fd < 0)
		return shoal_error_set(err, errno, "open %s", path);
	if (flock(netman_lock_fd, LOCK_EX | LOCK_NB)) {
		int e = errno;

		close(netman_lock_fd);
		netman_lock_fd = -1;
		if (e == EWOULDBLOCK)
			return shoal_error_set(err, EBUSY,
					       "another shoald uses network namespace %s (%s)",
					       name, path);
		return shoal_error_set(err, e, "lock %s", path);
	}
	return 0;
}

/* libnl's errors to -errno, where they enter. */
static int netman_errno(int nlerr)
{
	switch (-nlerr) {
	case NLE_EXIST:
		return -EEXIST;
	case NLE_OBJ_NOTFOUND:
	case NLE_NODEV:
		return -ENODEV;
	case NLE_PERM:
		return -EPERM;
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_INVAL:
		return -EINVAL;
	case NLE_BUSY:
		return -EBUSY;
	case NLE_RANGE:
		return -ERANGE;
	default:
		return -EIO;
	}
}

static int netman_fail(struct shoal_error *err, int nlerr, const char *what, const char *name)
{
	shoal_error_set(err, 0, "netlink: %s %s: %s", what, name, nl_geterror(nlerr));
	return netman_errno(nlerr);
}

/*
 * Enter the namespace at @path if it exists; otherwise make one, enter it, and
 * bind-mount it there (what `ip netns add` does) so that it outlives nothing
 * but is nameable.
 */
static int netman_enter_ns(const char *name, struct shoal_error *err)
{
	_cleanup_close_ int fd = -1;
	int tmp;

	if (!*name || strchr(name, '/') || strlen(name) > 64 || !strcmp(name, ".") ||
	    !strcmp(name, ".."))
		return shoal_error_set(err, 0, "--netns '%s': not a namespace name", name);
	if (netman_lock(name, err))
		return -EBUSY;
	snprintf(netman_ns_path, sizeof(netman_ns_path), NETNS_DIR "/%s", name);
	if (mkdir(NETNS_DIR, 0755) && errno != EEXIST)
		return shoal_error_set(err, errno, "mkdir " NETNS_DIR);
	fd = open(netman_ns_path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (setns(fd, CLONE_NEWNET))
			return shoal_error_set(err, errno, "enter network namespace %s",
					       netman_ns_path);
		shoal_log_info("network: entered the existing namespace %s", netman_ns_path);
		return 0;
	}
	if (unshare(CLONE_NEWNET))
		return shoal_error_set(err, errno, "unshare(CLONE_NEWNET)");
	tmp = open(netman_ns_path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
	if (tmp < 0)
		return shoal_error_set(err, errno, "create %s", netman_ns_path);
	close(tmp);
	if (mount("/proc/thread-self/ns/net", netman_ns_path, "none", MS_BIND, NULL)) {
		int e = errno;

		unlink(netman_ns_path);
		return shoal_error_set(err, e, "bind-mount the network namespace on %s",
				       netman_ns_path);
	}
	netman_made = true;
	shoal_log_info("network: made namespace %s", netman_ns_path);
	return 0;
}

static int netman_link_up(struct nl_sock *sk, const char *name, int *ifindex,
			  struct shoal_error *err)
{
	struct rtnl_link *link = NULL, *change;
	int r;

	r = rtnl_link_get_kernel(sk, 0, name, &link);
	if (r < 0)
		return netman_fail(err, r, "find link", name);
	if (ifindex)
		*ifindex = rtnl_link_get_ifindex(link);
	change = rtnl_link_alloc();
	if (!change) {
		rtnl_link_put(link);
		return shoal_error_set(err, ENOMEM, "link %s", name);
	}
	rtnl_link_set_flags(change, IFF_UP);
	r = rtnl_link_change(sk, link, change, 0);
	rtnl_link_put(change);
	rtnl_link_put(link);
	if (r < 0)
		return netman_fail(err, r, "set up", name);
	return 0;
}

/* Add @len bytes of address @bytes of @family with @prefix to @ifindex (no DAD for IPv6). */
static int netman_add_addr(int ifindex, int family, const void *bytes, size_t len,
			   unsigned int prefix, struct shoal_error *err)
{
	struct rtnl_addr *a = rtnl_addr_alloc();
	struct nl_addr *local;
	int r;

	if (!a)
		return shoal_error_set(err, ENOMEM, "address");
	/* The gateway is ours alone on the bridge: waiting for duplicate detection gains nothing.
	 */
	if (family == AF_INET6)
		rtnl_addr_set_flags(a, IFA_F_NODAD);
	local = nl_addr_build(family, bytes, len);
	if (!local) {
		rtnl_addr_put(a);
		return shoal_error_set(err, ENOMEM, "address");
	}
	nl_addr_set_prefixlen(local, (int)prefix);
	rtnl_addr_set_ifindex(a, ifindex);
	rtnl_addr_set_local(a, local);
	r = rtnl_addr_add(netman_sk, a, 0);
	nl_addr_put(local);
	rtnl_addr_put(a);
	if (r < 0 && r != -NLE_EXIST)
		return netman_fail(err, r, "add the gateway address to", SHOALD_BRIDGE);
	return 0;
}

/* Write @value to /proc/sys/net/ipv6/conf/@dev/@key of the namespace the calling thread is in. */
static int netman_ipv6_conf(const char *dev, const char *key, const char *value,
			    struct shoal_error *err)
{
	char path[PATH_MAX];
	_cleanup_close_ int fd = -1;
	size_t len = strlen(value);

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/%s", dev, key);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return shoal_error_set(err, errno, "open %s", path);
	if (write(fd, value, len) != (ssize_t)len)
		return shoal_error_set(err, errno, "write %s to %s", value, path);
	return 0;
}

int netman_init(const char *netns, struct shoal_error *err)
{
	struct rtnl_link *br;
	int r;

	r = netman_enter_ns(netns, err);
	if (r)
		return r;
	netman_sk = nl_socket_alloc();
	if (!netman_sk)
		return shoal_error_set(err, ENOMEM, "netlink socket");
	r = nl_connect(netman_sk, NETLINK_ROUTE);
	if (r < 0)
		return netman_fail(err, r, "connect", "NETLINK_ROUTE");
	r = netman_link_up(netman_sk, "lo", NULL, err);
	if (r)
		return r;
	br = rtnl_link_bridge_alloc();
	if (!br)
		return shoal_error_set(err, ENOMEM, "bridge");
	rtnl_link_set_name(br, SHOALD_BRIDGE);
	r = rtnl_link_add(netman_sk, br, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(br);
	if (r < 0 && r != -NLE_EXIST)
		return netman_fail(err, r, "create bridge", SHOALD_BRIDGE);
	/*
	 * IPv6 is the bridge's only (it holds the gateway). Every interface made
	 * after it here is a veth end, which carries instances' frames and no
	 * address of ours; with IPv6 on, each end would configure itself as it
	 * comes up (link-local address, duplicate detection, MLD reports, router
	 * solicitations that go on for minutes), multicast that the bridge floods
	 * to every instance, and would take in every IPv6 frame flooded to it.
	 * The bridge's own setting is made explicit for a namespace that
	 * outlived its bridge.
	 */
	r = netman_ipv6_conf(SHOALD_BRIDGE, "disable_ipv6", "0", err);
	if (!r)
		r = netman_ipv6_conf("default", "disable_ipv6", "1", err);
	if (!r)
		r = netman_link_up(netman_sk, SHOALD_BRIDGE, &netman_bridge_ifindex, err);
	if (r)
		return r;
	{
		uint32_t gw = htonl(ipam_gateway());
		unsigned char gw6[16];

		ipam_v6_gateway(gw6);
		r = netman_add_addr(netman_bridge_ifindex, AF_INET, &gw, sizeof(gw), ipam_prefix(),
				    err);
		if (!r)
			r = netman_add_addr(netman_bridge_ifindex, AF_INET6, gw6, sizeof(gw6),
					    IPAM_V6_PREFIX, err);
		if (r)
			return r;
	}
	netman_ready = true;
	return 0;
}

void netman_fini(void)
{
	if (netman_sk) {
		nl_socket_free(netman_sk);
		netman_sk = NULL;
	}
	/*
	 * A clean stop: every instance is gone, nothing needs the namespace after
	 * us. A start that failed removes only a namespace it made itself.
	 */
	if (netman_ready || netman_made) {
		if (umount2(netman_ns_path, MNT_DETACH) == 0)
			unlink(netman_ns_path);
		else
			shoal_log_warn("network: umount %s: %s", netman_ns_path, strerror(errno));
	}
	/* The lock file stays (removing it would race with a daemon taking it); the lock goes. */
	if (netman_lock_fd >= 0) {
		close(netman_lock_fd);
		netman_lock_fd = -1;
	}
}

void netman_veth_names(const char *id, char *host, char *inner)
{
	/* "i-" and 16 hex digits: 12 of them keep the names within IFNAMSIZ. */
	snprintf(host, NETMAN_IFNAME_SIZE, "sb%.12s", id + 2);
	snprintf(inner, NETMAN_IFNAME_SIZE, "si%.12s", id + 2);
}

/*
 * A raw packet socket on @ifindex with the virtio-net header on, as the
 * instance's device wants. A @held one is bound with protocol 0, which the
 * kernel hooks to nothing: it receives no frame (and queues none) until
 * netman_packet_listen() binds it again for every protocol. A veth pair
 * waiting in the pool (vethpool.c) thus does not collect the bridge's
 * broadcasts for an instance that does not exist yet.
 */
static int netman_packet_socket(int ifindex, const char *name, bool held, int *fd,
				struct shoal_error *err)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_protocol = held ? 0 : htons(ETH_P_ALL) };
	_cleanup_close_ int sock = -1;
	int one = 1;

	/* Made for protocol 0 and bound once: a socket made for ETH_P_ALL listens on
	 * every interface, and binding it to one then waits for an RCU grace period
	 * (synchronize_net(), ~10 ms here). */
	sock = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return shoal_error_set(err, errno, "packet socket for %s", name);
	if (setsockopt(sock, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)))
		return shoal_error_set(err, errno, "PACKET_VNET_HDR on %s", name);
	sll.sll_ifindex = ifindex;
	if (bind(sock, (struct sockaddr *)&sll, sizeof(sll)))
		return shoal_error_set(err, errno, "bind a packet socket to %s", name);
	*fd = steal_fd(&sock);
	return 0;
}

int netman_packet_listen(int fd, struct shoal_error *err)
{
	struct sockaddr_ll sll;
	socklen_t len = sizeof(sll);

	/* Same interface as before: the kernel knows which one it was bound to. */
	if (getsockname(fd, (struct sockaddr *)&sll, &len))
		return shoal_error_set(err, errno, "getsockname of a packet socket");
	if (!sll.sll_ifindex)
		return shoal_error_set(err, ENODEV, "the packet socket's veth is gone");
	sll.sll_protocol = htons(ETH_P_ALL);
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)))
		return shoal_error_set(err, errno, "bind a packet socket to ifindex %d",
				       sll.sll_ifindex);
	return 0;
}

static int netman_del_sk(struct nl_sock *sk, const char *host, struct shoal_error *err);

/* The veth pair of @id on @sk: made, host end on the bridge, both up, packet socket on the inner
 * end (@held: see netman_packet_socket()). */
static int netman_add_sk(struct nl_sock *sk, const char *id, unsigned int mtu, bool held,
			 int *packet_fd, struct shoal_error *err)
{
	char host[NETMAN_IFNAME_SIZE], inner[NETMAN_IFNAME_SIZE];
	struct rtnl_link *veth, *peer;
	int r, ifindex;

	netman_veth_names(id, host, inner);
	veth = rtnl_link_veth_alloc();
	if (!veth)
		return shoal_error_set(err, ENOMEM, "veth for %s", id);
	peer = rtnl_link_veth_get_peer(veth);
	rtnl_link_set_name(veth, host);
	rtnl_link_set_mtu(veth, mtu);
	rtnl_link_set_name(peer, inner);
	rtnl_link_set_mtu(peer, mtu);
	r = rtnl_link_add(sk, veth, NLM_F_CREATE | NLM_F_EXCL);
	rtnl_link_put(peer);
	rtnl_link_put(veth);
	if (r < 0)
		return netman_fail(err, r, "create veth", host);
	r = rtnl_link_enslave_ifindex(sk, netman_bridge_ifindex, (int)if_nametoindex(host));
	if (r < 0) {
		netman_del_sk(sk, host, NULL);
		return netman_fail(err, r, "put on the bridge", host);
	}
	r = netman_link_up(sk, host, NULL, err);
	if (!r)
		r = netman_link_up(sk, inner, &ifindex, err);
	if (r) {
		netman_del_sk(sk, host, NULL);
		return r;
	}
	r = netman_packet_socket(ifindex, inner, held, packet_fd, err);
	if (r)
		netman_del_sk(sk, host, NULL);
	return r;
}

static int netman_del_sk(struct nl_sock *sk, const char *host, struct shoal_error *err)
{
	struct rtnl_link *link = rtnl_link_alloc();
	int r;

	if (!link)
		return shoal_error_set(err, ENOMEM, "veth %s", host);
	/* Deleting one end deletes the pair. */
	rtnl_link_set_name(link, host);
	r = rtnl_link_delete(sk, link);
	rtnl_link_put(link);
	if (r < 0)
		return netman_fail(err, r, "delete veth", host);
	return 0;
}

int netman_veth_list(char (**names)[NETMAN_IFNAME_SIZE], size_t *n, struct shoal_error *err)
{
	struct nl_cache *cache = NULL;
	struct nl_object *obj;
	size_t count = 0, cap = 0;
	char(*out)[NETMAN_IFNAME_SIZE] = NULL;
	int r;

	r = rtnl_link_alloc_cache(netman_sk, AF_UNSPEC, &cache);
	if (r < 0)
		return netman_fail(err, r, "list links in", netman_ns_path);
	for (obj = nl_cache_get_first(cache); obj; obj = nl_cache_get_next(obj)) {
		const char *name = rtnl_link_get_name((struct rtnl_link *)obj);

		/* Our host ends: "sb" and 12 hex digits. */
		if (!name || strlen(name) != 14 || strncmp(name, "sb", 2) ||
		    strspn(name + 2, "0123456789abcdef") != 12)
			continue;
		if (count == cap) {
			void *grown;

			cap = cap ? cap * 2 : 16;
			grown = realloc(out, cap * sizeof(*out));
			if (!grown) {
				free(out);
				nl_cache_free(cache);
				return shoal_error_set(err, ENOMEM, "list veths");
			}
			out = grown;
		}
		snprintf(out[count++], NETMAN_IFNAME_SIZE, "%s", name);
	}
	nl_cache_free(cache);
	*names = out;
	*n = count;
	return 0;
}

int netman_veth_del(const char *host, struct shoal_error *err)
{
	return netman_del_sk(netman_sk, host, err);
}

/*
 * The asynchronous forms run on libuv's thread pool: making a veth pair takes
 * a millisecond or two, deleting one up to some 20 ms (the host kernel waits
 * for an RCU grace period), and the loop must not wait for either. The pool's
 * threads are made from the loop thread after it entered the namespace, so
 * they are in it too. Each job has a netlink socket of its own (libnl sockets
 * are not to be shared between threads) and logs nothing: the loop does,
 * when the job is done.
 */
struct netman_job {
	uv_work_t req;
	bool held;
	struct netman_job *next; /* deletes: the next of the same batch */
	char id[STORE_ID_MAX];
	char host[NETMAN_IFNAME_SIZE];
	unsigned int mtu;
	int packet_fd;
	int r;
	struct shoal_error err;
	netman_done_fn done;
	void *arg;
};

static void netman_work_cb(uv_work_t *req)
{
	struct netman_job *j = req->data;
	struct nl_sock *sk = nl_socket_alloc();
	int r;

	if (!sk) {
		j->r = shoal_error_set(&j->err, ENOMEM, "netlink socket");
		return;
	}
	r = nl_connect(sk, NETLINK_ROUTE);
	if (r < 0)
		j->r = netman_fail(&j->err, r, "connect", "NETLINK_ROUTE");
	else
		j->r = netman_add_sk(sk, j->id, j->mtu, j->held, &j->packet_fd, &j->err);
	nl_socket_free(sk);
}

static void netman_after_cb(uv_work_t *req, int status)
{
	struct netman_job *j = req->data;

	if (status && !j->r)
		j->r = shoal_error_set(&j->err, -status, "netlink job");
	j->done(j->arg, j->r, j->r ? -1 : j->packet_fd, j->err.msg);
	free(j);
}

static int netman_queue(uv_loop_t *loop, struct netman_job *j, struct shoal_error *err)
{
	int r;

	j->req.data = j;
	r = uv_queue_work(loop, &j->req, netman_work_cb, netman_after_cb);
	if (r) {
		free(j);
		return shoal_error_set(err, -r, "queue a netlink job");
	}
	return 0;
}

int netman_veth_add_async(uv_loop_t *loop, const char *id, unsigned int mtu, bool held,
			  netman_done_fn done, void *arg, struct shoal_error *err)
{
	struct netman_job *j = calloc(1, sizeof(*j));

	if (!j)
		return shoal_error_set(err, ENOMEM, "netlink job");
	snprintf(j->id, sizeof(j->id), "%s", id);
	j->mtu = mtu;
	j->held = held;
	j->packet_fd = -1;
	j->done = done;
	j->arg = arg;
	return netman_queue(loop, j, err);
}

/*
 * Deletes go in batches. Deleting a veth pair makes the host kernel wait for
 * RCU (a grace period under the rtnl lock, then a barrier), some 20 ms each
 * here; one request that deletes many links waits once for all of them. So
 * each pair to delete is first put into a link group of its own number
 * (cheap: no wait), then one RTM_DELLINK by group deletes every link in it.
 * At most two batches run at once, each on a thread of the pool and with a
 * group number of its own, so deletes never hold more than two of its four
 * threads, which stay free for the adds creates wait for, and a delete asked
 * while one batch waits starts at once in the other; whatever is asked while
 * both run makes the next batch. A link left in a group by a batch that
 * failed goes with the next batch of that group.
 */
#define NETMAN_DOOMED_GROUP 0x5348 /* "SH": the first group of links about to be deleted */
#define NETMAN_BATCHES_MAX 2

struct netman_batch {
	uv_work_t req;
	unsigned int slot; /* its group is NETMAN_DOOMED_GROUP + slot */
	struct netman_job *jobs;
	int r; /* of the delete by group */
	struct shoal_error err;
};

static uv_loop_t *netman_del_loop;
static struct netman_job *netman_del_pending, **netman_del_tail = &netman_del_pending;
static bool netman_del_running[NETMAN_BATCHES_MAX];

/* A link request of @type naming link @name (NULL: none) and group @group; waits for the ack. */
static int netman_group_request(struct nl_sock *sk, int type, const char *name, uint32_t group)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct nl_msg *msg = nlmsg_alloc_simple(type, NLM_F_REQUEST | NLM_F_ACK);

	if (!msg)
		return -NLE_NOMEM;
	if (nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    (name && nla_put_string(msg, IFLA_IFNAME, name) < 0) ||
	    nla_put_u32(msg, IFLA_GROUP, group) < 0) {
		nlmsg_free(msg);
		return -NLE_NOMEM;
	}
	return nl_send_sync(sk, msg); /* frees msg */
}

static void netman_batch_work_cb(uv_work_t *req)
{
	struct netman_batch *b = req->data;
	struct nl_sock *sk = nl_socket_alloc();
	struct netman_job *j;
	bool any = false;
	int r;

	if (!sk) {
		b->r = shoal_error_set(&b->err, ENOMEM, "netlink socket");
		return;
	}
	r = nl_connect(sk, NETLINK_ROUTE);
	if (r < 0) {
		b->r = netman_fail(&b->err, r, "connect", "NETLINK_ROUTE");
		nl_socket_free(sk);
		return;
	}
	for (j = b->jobs; j; j = j->next) {
		/* By the host end's name: the kernel finds the link, the peer goes with it. */
		r = netman_group_request(sk, RTM_NEWLINK, j->host, NETMAN_DOOMED_GROUP + b->slot);
		if (r < 0)
			j->r = netman_fail(&j->err, r, "mark for deletion", j->host);
		else
			any = true;
	}
	if (any) {
		r = netman_group_request(sk, RTM_DELLINK, NULL, NETMAN_DOOMED_GROUP + b->slot);
		if (r < 0)
			b->r = netman_fail(&b->err, r, "delete veths", "by group");
	}
	nl_socket_free(sk);
}

static void netman_batch_start(void);

static void netman_batch_after_cb(uv_work_t *req, int status)
{
	struct netman_batch *b = req->data;
	struct netman_job *j, *next;

	if (status && !b->r)
		b->r = shoal_error_set(&b->err, -status, "netlink job");
	netman_del_running[b->slot] = false;
	for (j = b->jobs; j; j = next) {
		next = j->next;
		if (!j->r && b->r) {
			j->r = b->r;
			j->err = b->err;
		}
		j->done(j->arg, j->r, -1, j->err.msg);
		free(j);
	}
	free(b);
	netman_batch_start();
}

static void netman_batch_start(void)
{
	struct netman_batch *b;
	struct netman_job *j, *next;
	unsigned int slot;
	int r;

	for (slot = 0; slot < NETMAN_BATCHES_MAX && netman_del_running[slot]; slot++)
		;
	if (slot == NETMAN_BATCHES_MAX || !netman_del_pending)
		return;
	b = calloc(1, sizeof(*b));
	if (b) {
		/* Whole before it is queued: a pool thread may run it at once. */
		b->req.data = b;
		b->slot = slot;
		b->jobs = netman_del_pending;
		r = uv_queue_work(netman_del_loop, &b->req, netman_batch_work_cb,
				  netman_batch_after_cb);
	} else {
		r = -ENOMEM;
	}
	if (!r) {
		netman_del_pending = NULL;
		netman_del_tail = &netman_del_pending;
		netman_del_running[slot] = true;
		return;
	}
	free(b);
	/* Nothing can run them: each is told, none is left waiting. */
	j = netman_del_pending;
	netman_del_pending = NULL;
	netman_del_tail = &netman_del_pending;
	for (; j; j = next) {
		next = j->next;
		j->done(j->arg, -ENOMEM, -1, "queue a netlink job: no memory");
		free(j);
	}
}

int netman_veth_del_async(uv_loop_t *loop, const char *host, netman_done_fn done, void *arg,
			  struct shoal_error *err)
{
	struct netman_job *j = calloc(1, sizeof(*j));

	if (!j)
		return shoal_error_set(err, ENOMEM, "netlink job");
	snprintf(j->host, sizeof(j->host), "%s", host);
	j->packet_fd = -1;
	j->done = done;
	j->arg = arg;
	netman_del_loop = loop;
	*netman_del_tail = j;
	netman_del_tail = &j->next;
	netman_batch_start();
	return 0;
}

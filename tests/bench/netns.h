/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Network namespaces and veth pairs for net-bench, the same approach as the
 * kernel tests' knetns.h with the benchmark's error convention: the names of
 * every namespace are fixed first (shoal-nb<pid>-<tag>), then a guardian
 * process is started that deletes all of them once net-bench is gone --
 * however it goes, SIGKILL included: the guardian waits for the end of a
 * pipe only net-bench holds -- and only then are the namespaces made. The
 * normal way out deletes them itself as well. Addresses are from
 * 198.18.0.0/16, and traffic never leaves these namespaces.
 */
#ifndef SHOAL_TESTS_BENCH_NETNS_H
#define SHOAL_TESTS_BENCH_NETNS_H

#include <stdbool.h>

#include "api/error.h"

#define NETNS_MAX 4
#define NETNS_NAME_MAX 32

struct netns_set {
	int n;
	char name[NETNS_MAX][NETNS_NAME_MAX];
	int fd[NETNS_MAX]; /* for setns; -1 until made */
	bool made[NETNS_MAX];
	int guard_fd; /* write end of the guardian's pipe; -1 without one */
};

/*
 * netns_set_init() - name @n namespaces shoal-nb<pid>-<tags[i]> and start
 * their guardian. Nothing exists yet when it returns.
 */
int netns_set_init(struct netns_set *set, const char *const tags[], int n, struct shoal_error *err);

/*
 * netns_set_create() - make every namespace of @set, with lo up and IPv6
 * off (so the host stack sends no router or neighbour solicitations on the
 * veths), and open each for setns.
 */
int netns_set_create(struct netns_set *set, struct shoal_error *err);

/* netns_set_destroy() - delete what was made and release the guardian. */
void netns_set_destroy(struct netns_set *set);

/*
 * netns_veth() - a veth pair @a (in namespace @ns_a) <-> @b (in @ns_b, which
 * may be the same), both at @mtu and up; each end gets @cidr_a / @cidr_b
 * unless NULL.
 */
int netns_veth(const struct netns_set *set, int ns_a, const char *a, const char *cidr_a, int ns_b,
	       const char *b, const char *cidr_b, int mtu, struct shoal_error *err);

/* netns_enter() - move the calling thread into namespace @fd for good. */
int netns_enter(int fd, struct shoal_error *err);

/*
 * netns_packet_socket() - a raw AF_PACKET socket bound to @ifname in the
 * calling thread's namespace. Returns the fd or -errno.
 */
int netns_packet_socket(const char *ifname, struct shoal_error *err);

#endif /* SHOAL_TESTS_BENCH_NETNS_H */

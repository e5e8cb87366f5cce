// SPDX-License-Identifier: GPL-2.0
/*
 * fdtable.c: placeholders. A file the program opens under a read-only host
 * directory (/usr, /etc, ...) is opened by the shim on the host; the program
 * must still see a kernel fd number, because every other fd it holds is a
 * kernel fd and numbers must not collide. So the kernel task gets a
 * placeholder (an fd of /dev/null) and this table says which host fd stands
 * behind it. Every fd-taking call looks here first.
 *
 * The table lives in the shim's .bss: inherited by fork as a copy (as the
 * kernel task's fd table is copied by SHOAL_LINK_FORK), passed across
 * execve in the state string. Entries hold host fd + 1 so that zeroed
 * memory is an empty table.
 */
#include "instance/jobshim/fdtable.h"

#include "instance/jobshim/lock.h"

#include <asm/errno.h>

static struct {
	struct shim_lock lock;
	int host1[FDTABLE_MAX]; /* host fd + 1; 0: not a placeholder */
	unsigned char cloexec[FDTABLE_MAX];
} fdt;

int fdtable_get(int vfd)
{
	int h;

	if (vfd < 0 || vfd >= FDTABLE_MAX)
		return -1;
	h = __atomic_load_n(&fdt.host1[vfd], __ATOMIC_ACQUIRE);
	return h - 1;
}

int fdtable_set(int vfd, int hostfd, int cloexec)
{
	int old;

	if (vfd < 0 || vfd >= FDTABLE_MAX)
		return -EMFILE;
	shim_lock(&fdt.lock);
	old = fdt.host1[vfd] - 1;
	fdt.cloexec[vfd] = (unsigned char)!!cloexec;
	__atomic_store_n(&fdt.host1[vfd], hostfd + 1, __ATOMIC_RELEASE);
	shim_unlock(&fdt.lock);
	return old;
}

int fdtable_clear(int vfd)
{
	int old;

	if (vfd < 0 || vfd >= FDTABLE_MAX)
		return -1;
	shim_lock(&fdt.lock);
	old = fdt.host1[vfd] - 1;
	__atomic_store_n(&fdt.host1[vfd], 0, __ATOMIC_RELEASE);
	fdt.cloexec[vfd] = 0;
	shim_unlock(&fdt.lock);
	return old;
}

void fdtable_set_cloexec(int vfd, int cloexec)
{
	if (vfd < 0 || vfd >= FDTABLE_MAX)
		return;
	shim_lock(&fdt.lock);
	if (fdt.host1[vfd])
		fdt.cloexec[vfd] = (unsigned char)!!cloexec;
	shim_unlock(&fdt.lock);
}

int fdtable_get_cloexec(int vfd)
{
	if (vfd < 0 || vfd >= FDTABLE_MAX)
		return 0;
	return fdt.cloexec[vfd];
}

int fdtable_for_exec(struct shim_state *st, int *drop, unsigned int *ndrop)
{
	int vfd, err = 0;

	st->nhostfds = 0;
	*ndrop = 0;
	shim_lock(&fdt.lock);
	for (vfd = 0; vfd < FDTABLE_MAX; vfd++) {
		if (!fdt.host1[vfd])
			continue;
		if (fdt.cloexec[vfd]) {
			drop[(*ndrop)++] = fdt.host1[vfd] - 1;
			continue;
		}
		if (st->nhostfds == STATE_HOSTFDS_MAX) {
			err = -EMFILE;
			break;
		}
		st->hostfds[st->nhostfds].vfd = vfd;
		st->hostfds[st->nhostfds].hostfd = fdt.host1[vfd] - 1;
		st->nhostfds++;
	}
	shim_unlock(&fdt.lock);
	return err;
}

void fdtable_load(const struct shim_state *st)
{
	unsigned int i;

	for (i = 0; i < st->nhostfds; i++)
		fdtable_set(st->hostfds[i].vfd, st->hostfds[i].hostfd, 0);
}

void fdtable_reset(void)
{
	int vfd;

	shim_lock_reset(&fdt.lock);
	for (vfd = 0; vfd < FDTABLE_MAX; vfd++) {
		fdt.host1[vfd] = 0;
		fdt.cloexec[vfd] = 0;
	}
}

void fdtable_after_fork(void)
{
	shim_lock_reset(&fdt.lock);
}

unsigned int fdtable_count(void)
{
	unsigned int n = 0;
	int vfd;

	for (vfd = 0; vfd < FDTABLE_MAX; vfd++)
		n += __atomic_load_n(&fdt.host1[vfd], __ATOMIC_RELAXED) != 0;
	return n;
}

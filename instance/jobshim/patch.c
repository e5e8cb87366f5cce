// SPDX-License-Identifier: GPL-2.0
/*
 * patch.c: a trapped call costs ~1.7 µs on these machines, nearly all of it
 * the kernel delivering SIGSYS and returning from it (an empty SIGSYS
 * handler: 1.63 µs; a plain host call: 0.12 µs). gVisor's systrap platform
 * meets the same wall and rewrites the program's hot call sites; so does
 * this file, changing as few bytes as it can:
 *
 *   site:  b8 NN NN NN NN   mov $nr, %eax   ->   e9 RR RR RR RR   jmp stub
 *          0f 05            syscall              0f 05            (kept)
 *
 *   stub:  lea -128(%rsp), %rsp            step over the red zone
 *          mov $nr, %eax
 *          movabs $shim_fast_entry, %r11
 *          call *%r11                      %rax = the call's result
 *          lea 128(%rsp), %rsp
 *          jmp site + 7                    on after the syscall
 *
 * Only the mov is replaced: code that jumps straight to the `syscall` (with
 * %eax set some other way) still finds it there, and traps as before. A
 * syscall clobbers %rcx and %r11, so the stub may too; shim_fast_entry
 * (start.S) keeps every other register, as the kernel would.
 *
 * A site is rewritten only when all of this holds; otherwise it goes on
 * trapping, which is always correct:
 *  - the call is one the fast entry may run outside a signal handler: a
 *    forwarded or host call, not signals, fork, exec or exit (fast_nr_ok);
 *  - it trapped PATCH_AFTER times: cold sites are not worth the work;
 *  - the bytes before the return address are `b8 <nr> 0f 05` and the byte
 *    before those is no prefix (`41 b8 ..` is `mov $imm, %r8d`);
 *  - the bytes written lie in one aligned 16-byte word, stored with a
 *    single cmpxchg16b: another thread fetching them meets the old
 *    instructions or the new jmp, never half of each;
 *  - the page is readable and not writable (program text, not a JIT's
 *    buffer), as a host pipe tells: it answers EFAULT where a load or a
 *    store would fault. The page is made writable for the store, keeping
 *    PROT_EXEC throughout (other threads may be running in it), and
 *    read-only again after.
 *
 * glibc's read has no mov to replace: `xor %eax, %eax` (31 c0), the syscall,
 * then `cmp $-4096, %rax` (48 3d 00 f0 ff ff). Its 2 bytes become `e9 XX`
 * with the stub placed so that the jump's other displacement bytes are the
 * bytes already there: 0f 05 48, i.e. at 0x48050fXX past the site. Every
 * instruction after the first is left whole, so a thread that trapped on
 * the syscall before the rewrite, or a jump to the syscall or to the cmp,
 * still finds them. Such a stub has a fixed 256-byte window, 1.1 GiB above
 * its site: where that is taken, the site keeps trapping.
 */
#include "instance/jobshim/patch.h"

#include "instance/job_abi.h"
#include "instance/jobshim/lib.h"
#include "instance/jobshim/lock.h"
#include "instance/jobshim/sys.h"
#include "instance/jobshim/sysclass.h"

void shim_fast_entry(void);

#define PATCH_AFTER 3 /* traps at one site before it is rewritten */
#define PATCH_SITES 256 /* sites counted (open addressing; full: no more) */
#define PATCH_PROBES 16 /* table entries looked at per site */
#define PATCH_DONE 0xffffffffu /* rewritten or unfit: never looked at again */
#define STUB_SIZE 48
#define STUB_CELL 64 /* stub pages are handed out in cells (64 per page) */
#define STUB_PAGES 16
#define READ_STUB_AT 0x48050f00UL /* see the top of the file */
#define REL32_REACH 0x7fff0000L /* a jmp rel32 reaches this far */

struct patch_site {
	unsigned long ip;
	uint32_t traps;
};

struct stub_page {
	unsigned long base;
	uint64_t cells; /* bit i: cell i holds (part of) a stub */
};

static struct {
	struct shim_lock lock;
	int off;
	int probe[2]; /* host pipe (non-blocking); -1 until made */
	unsigned long patched;
	struct patch_site sites[PATCH_SITES];
	struct stub_page pages[STUB_PAGES];
} pt = { .probe = { -1, -1 } };

/* Calls handler_fast_call may run: not the ones that need the signal frame
 * (signal masks, fork, exec, exit) nor the shim's own mmap handling. */
static int fast_nr_ok(long nr)
{
	enum sysclass c;

	switch (nr) {
	case __NR_rt_sigaction:
	case __NR_rt_sigprocmask:
	case __NR_rt_sigreturn:
	case __NR_clone:
	case __NR_fork:
	case __NR_vfork:
	case __NR_execve:
	case __NR_execveat:
	case __NR_exit:
	case __NR_exit_group:
	case __NR_arch_prctl:
	case __NR_readlink:
	case __NR_readlinkat:
		return 0;
	default:
		break;
	}
	c = sysclass_of(nr);
	return c == SC_FORWARD || c == SC_HOST || c == SC_HOSTFD;
}

/* The @i-th table entry where @ip may be (open addressing). */
static struct patch_site *site_entry(unsigned long ip, unsigned int i)
{
	unsigned int h = (unsigned int)((ip * 0x9E3779B97F4A7C15UL) >> 56);

	return &pt.sites[(h + i) % PATCH_SITES];
}

/* @ip's entry, made if there is room; under pt.lock. */
static struct patch_site *site_find(unsigned long ip)
{
	unsigned int i;

	for (i = 0; i < PATCH_PROBES; i++) {
		struct patch_site *s = site_entry(ip, i);

		if (s->ip == ip)
			return s;
		if (!s->ip) {
			__atomic_store_n(&s->ip, ip, __ATOMIC_RELEASE);
			return s;
		}
	}
	return NULL;
}

/*
 * Is @ip decided (rewritten, found unfit, or beyond a full table)? Without
 * the lock, for every trap: an entry only ever goes from empty to a site,
 * and a site's count only up to PATCH_DONE, so a stale answer is "not yet".
 */
static int site_decided(unsigned long ip)
{
	unsigned int i;

	for (i = 0; i < PATCH_PROBES; i++) {
		struct patch_site *s = site_entry(ip, i);
		unsigned long at = __atomic_load_n(&s->ip, __ATOMIC_ACQUIRE);

		if (at == ip)
			return __atomic_load_n(&s->traps, __ATOMIC_RELAXED) == PATCH_DONE;
		if (!at)
			return 0;
	}
	return 1;
}

static int probe_ready(void)
{
	if (pt.probe[0] >= 0)
		return 1;
	if (sys2(__NR_pipe2, (long)pt.probe, O_CLOEXEC | O_NONBLOCK) == 0)
		return 1;
	pt.probe[0] = pt.probe[1] = -1;
	return 0;
}

static void probe_drain(void)
{
	char junk[64];

	while (shim_read(pt.probe[0], junk, sizeof(junk)) > 0)
		;
}

/* Copy @len bytes at @addr into @buf; -EFAULT where a load would fault. */
static long probe_load(unsigned long addr, void *buf, size_t len)
{
	long r = shim_write(pt.probe[1], (const void *)addr, len);

	if (r != (long)len) {
		probe_drain();
		return -EFAULT;
	}
	if (shim_read(pt.probe[0], buf, len) != (long)len) {
		probe_drain();
		return -EIO;
	}
	return 0;
}

/* Would a store to @addr fault? The byte written is the one already there. */
static int probe_read_only(unsigned long addr, uint8_t current)
{
	long r;

	if (shim_write(pt.probe[1], &current, 1) != 1)
		return 0;
	r = shim_read(pt.probe[0], (void *)addr, 1);
	probe_drain(); /* a failed read leaves the byte in the pipe */
	return r == -EFAULT;
}

static int is_prefix(uint8_t b)
{
	return (b >= 0x40 && b <= 0x4f) || b == 0x66 || b == 0x67 || b == 0xf0 || b == 0xf2 ||
	       b == 0xf3 || b == 0x26 || b == 0x2e || b == 0x36 || b == 0x3e || b == 0x64 ||
	       b == 0x65 || b == 0x0f;
}

static void put32(uint8_t *p, uint32_t v)
{
	shim_memcpy(p, &v, 4);
}

static int reaches(unsigned long from, unsigned long to)
{
	long d = (long)(to - from);

	return d > -REL32_REACH && d < REL32_REACH;
}

/* Our stub page at @base, mapped now if the address is free; or NULL. */
static struct stub_page *stub_page_at(unsigned long base)
{
	unsigned int i;
	long r;

	for (i = 0; i < STUB_PAGES && pt.pages[i].base; i++)
		if (pt.pages[i].base == base)
			return &pt.pages[i];
	if (i == STUB_PAGES || base < 0x10000 || base > 0x7ffffff00000UL)
		return NULL;
	r = shim_mmap(base, SHIM_PAGE, PROT_READ | PROT_EXEC,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (r != (long)base) {
		if (r >= 0) /* a kernel that took the address as a hint only */
			shim_munmap((unsigned long)r, SHIM_PAGE);
		return NULL;
	}
	pt.pages[i].base = base;
	pt.pages[i].cells = 0;
	return &pt.pages[i];
}

/* The cells a stub at @stub covers in its page, if they are free; else 0. */
static uint64_t stub_cells(const struct stub_page *sp, unsigned long stub)
{
	unsigned long first = (stub - sp->base) / STUB_CELL;
	unsigned long last = (stub + STUB_SIZE - 1 - sp->base) / STUB_CELL;
	uint64_t m;

	if (stub + STUB_SIZE > sp->base + SHIM_PAGE)
		return 0;
	m = (last == 63 ? ~0ULL : (1ULL << (last + 1)) - 1) & ~((1ULL << first) - 1);
	return (sp->cells & m) ? 0 : m;
}

/*
 * Room for a stub in [@lo, @hi] (the stub's first byte). Returns its
 * address, with *@spp and *@cells to take it, or 0.
 */
static unsigned long stub_room(unsigned long lo, unsigned long hi, struct stub_page **spp,
			       uint64_t *cells)
{
	unsigned long s = lo;

	while (s <= hi) {
		struct stub_page *sp = stub_page_at(s & ~(SHIM_PAGE - 1));

		if (sp && (*cells = stub_cells(sp, s))) {
			*spp = sp;
			return s;
		}
		s = (s | (STUB_CELL - 1)) + 1; /* the next cell */
	}
	return 0;
}

/* Room for a stub a rel32 jump from @from reaches, or 0. */
static unsigned long stub_room_near(unsigned long from, struct stub_page **spp, uint64_t *cells)
{
	static const long steps[] = { -(1L << 20), -(16L << 20), -(256L << 20),
				      -(1L << 30), (256L << 20), (1L << 30) };
	unsigned long page = from & ~(SHIM_PAGE - 1);
	unsigned int i, k;

	for (i = 0; i < STUB_PAGES && pt.pages[i].base; i++) {
		unsigned long b = pt.pages[i].base;

		unsigned long s;

		if (!reaches(from, b) || !reaches(from, b + SHIM_PAGE))
			continue;
		s = stub_room(b, b + SHIM_PAGE - STUB_SIZE, spp, cells);
		if (s)
			return s;
	}
	for (k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
		unsigned long b = page + (unsigned long)steps[k];

		if (reaches(from, b) && reaches(from, b + SHIM_PAGE) && stub_room(b, b, spp, cells))
			return b;
	}
	return 0;
}

/*
 * Write at @p the stub for @nr: the call, then @tail (instructions the
 * rewrite covered beyond the call, run here instead), then the jump back
 * to @back (see the top of the file).
 */
static void stub_write(uint8_t *p, long nr, const uint8_t *tail, unsigned int tail_len,
		       unsigned long back)
{
	unsigned long entry = (unsigned long)shim_fast_entry;
	static const uint8_t skip_red_zone[] = { 0x48, 0x8d, 0x64, 0x24, 0x80 };
	static const uint8_t unskip_red_zone[] = { 0x48, 0x8d, 0xa4, 0x24, 0x80, 0, 0, 0 };
	static const uint8_t call_r11[] = { 0x41, 0xff, 0xd3 };
	unsigned int i = 0;

	shim_memcpy(p + i, skip_red_zone, sizeof(skip_red_zone));
	i += sizeof(skip_red_zone);
	p[i++] = 0xb8;
	put32(p + i, (uint32_t)nr);
	i += 4;
	p[i++] = 0x49;
	p[i++] = 0xbb;
	shim_memcpy(p + i, &entry, 8);
	i += 8;
	shim_memcpy(p + i, call_r11, sizeof(call_r11));
	i += sizeof(call_r11);
	shim_memcpy(p + i, unskip_red_zone, sizeof(unskip_red_zone));
	i += sizeof(unskip_red_zone);
	shim_memcpy(p + i, tail, tail_len);
	i += tail_len;
	p[i++] = 0xe9;
	put32(p + i, (uint32_t)(back - ((unsigned long)p + i + 4)));
}

/* Replace @expect with @repl at 16-aligned @addr in one atomic store. */
static int store16(unsigned long addr, const uint64_t expect[2], const uint64_t repl[2])
{
	uint64_t lo = expect[0], hi = expect[1];
	uint8_t ok;

	__asm__ volatile("lock cmpxchg16b %1\n\tsete %0"
			 : "=q"(ok), "+m"(*(volatile uint64_t(*)[2])addr), "+a"(lo), "+d"(hi)
			 : "b"(repl[0]), "c"(repl[1])
			 : "memory", "cc");
	return ok;
}

/* glibc's read: `xor %eax, %eax; syscall; cmp $-4096, %rax`. */
static const uint8_t read_shape[] = { 0x31, 0xc0, 0x0f, 0x05, 0x48, 0x3d, 0x00, 0xf0, 0xff, 0xff };

/*
 * The rewrite of the call trapped at @ip, if its site has a shape this file
 * knows: *@site where the bytes change, *@len how many, *@back where the
 * stub returns to, *@tail and *@tail_len what the stub runs after the call
 * (the covered instructions), *@lo and *@hi where the stub may start.
 */
struct rewrite {
	unsigned long site, back, lo, hi;
	unsigned int len, tail_len;
	const uint8_t *tail;
};

static int site_shape(unsigned long ip, long nr, struct rewrite *rw)
{
	uint8_t pat[11];
	uint32_t imm;

	/* `mov $nr, %eax; syscall`: the mov is replaced, the syscall kept. */
	if (!probe_load(ip - 8, pat, 8)) {
		shim_memcpy(&imm, pat + 2, 4);
		if (pat[1] == 0xb8 && imm == (uint32_t)nr && !is_prefix(pat[0])) {
			rw->site = ip - 7;
			rw->len = 5;
			rw->back = ip;
			rw->tail_len = 0;
			rw->lo = rw->hi = 0; /* anywhere in reach */
			return 1;
		}
	}
	if (nr == __NR_read && !probe_load(ip - 5, pat, 11) && !is_prefix(pat[0]) &&
	    !shim_memcmp(pat + 1, read_shape, sizeof(read_shape))) {
		rw->site = ip - 4;
		rw->len = 2;
		rw->back = ip + 6;
		rw->tail = read_shape + 4;
		rw->tail_len = 6;
		rw->lo = rw->site + 5 + READ_STUB_AT;
		rw->hi = rw->lo + 255;
		return 1;
	}
	return 0;
}

static int site_patch(unsigned long ip, long nr)
{
	unsigned long word, page, stub;
	struct rewrite rw;
	uint64_t cur[2], repl[2], cells;
	struct stub_page *sp;
	unsigned int at;
	uint32_t rel;
	int ok;

	if (!probe_ready() || !site_shape(ip, nr, &rw))
		return 0;
	word = rw.site & ~15UL;
	page = rw.site & ~(SHIM_PAGE - 1);
	at = (unsigned int)(rw.site - word);
	if (at + rw.len > 16 || probe_load(word, cur, sizeof(cur)) ||
	    !probe_read_only(rw.site, ((uint8_t *)cur)[at]))
		return 0;
	stub = rw.lo ? stub_room(rw.lo, rw.hi, &sp, &cells)
		     : stub_room_near(rw.site + 5, &sp, &cells);
	if (!stub)
		return 0;
	if (shim_mprotect(sp->base, SHIM_PAGE, PROT_READ | PROT_WRITE | PROT_EXEC))
		return 0;
	stub_write((uint8_t *)stub, nr, rw.tail, rw.tail_len, rw.back);
	shim_mprotect(sp->base, SHIM_PAGE, PROT_READ | PROT_EXEC);

	repl[0] = cur[0];
	repl[1] = cur[1];
	rel = (uint32_t)(stub - (rw.site + 5));
	((uint8_t *)repl)[at] = 0xe9;
	shim_memcpy((uint8_t *)repl + at + 1, &rel, rw.len - 1);
	/* The read shape: the bytes past the two written are the jump's too. */
	if (rw.len == 2 && (rel >> 8) != (READ_STUB_AT >> 8))
		return 0;
	if (shim_mprotect(page, SHIM_PAGE, PROT_READ | PROT_WRITE | PROT_EXEC))
		return 0;
	ok = store16(word, cur, repl);
	shim_mprotect(page, SHIM_PAGE, PROT_READ | PROT_EXEC);
	if (ok)
		sp->cells |= cells;
	return ok;
}

void patch_consider(unsigned long ip, long nr)
{
	struct patch_site *s;

	if (pt.off || ip < 0x10000 || (ip >= SHOAL_SHIM_BASE && ip < SHOAL_SHIM_LIMIT) ||
	    !fast_nr_ok(nr) || site_decided(ip))
		return;
	shim_lock(&pt.lock);
	s = site_find(ip);
	if (s && s->traps != PATCH_DONE && ++s->traps >= PATCH_AFTER) {
		__atomic_store_n(&s->traps, PATCH_DONE, __ATOMIC_RELAXED);
		if (site_patch(ip, nr))
			pt.patched++;
	}
	shim_unlock(&pt.lock);
}

void patch_disable(void)
{
	pt.off = 1;
}

unsigned long patch_count(void)
{
	return pt.patched;
}

void patch_after_fork(void)
{
	shim_lock_reset(&pt.lock);
	/* The parent's pipe: two processes probing through one pipe would
	 * read each other's bytes. The child makes its own when it needs one. */
	if (pt.probe[0] >= 0) {
		shim_close(pt.probe[0]);
		shim_close(pt.probe[1]);
		pt.probe[0] = pt.probe[1] = -1;
	}
}

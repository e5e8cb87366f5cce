// SPDX-License-Identifier: GPL-2.0
/*
 * The last message. When the instance cannot go on (its kernel panicked, a
 * host thread took a fatal signal, seccomp trapped a forbidden system call,
 * the boot did not finish in time) it sends one `fatal` event saying why, and
 * exits with a status that says the same (instance.h). The supervisor then
 * reads the message and end of file; without the message it still reads end
 * of file and the exit status.
 *
 * A signal handler may not allocate or take locks, so the message is built
 * here by hand into a static buffer, from async-signal-safe pieces: the JSON
 * is fixed but for the reason, the signal number and an ASCII message, which
 * is escaped byte by byte (anything outside printable ASCII becomes '?' or a
 * \u escape, so the text is always valid for the strict decoder). It is sent
 * with one non-blocking send(), waiting at most half a second for room.
 * Handlers run on an alternate stack, so a stack overflow is reported too.
 */
#include <errno.h>
#include <link.h>
#include <ucontext.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "api/log.h"
#include "instance/instance.h"

#define FATAL_MESSAGE_MAX 1024 /* bytes of message text kept; well under PROTO_TEXT_MAX */
#define FATAL_BUF (FATAL_MESSAGE_MAX * 6 + 256)

static volatile int fatal_sock = -1;
static const char *volatile fatal_phase;
static volatile sig_atomic_t fatal_watchdog_on;
static int fatal_in_progress; /* one thread reports; the others wait for the exit */

void fatal_set_socket(int sock)
{
	fatal_sock = sock;
}

void fatal_set_phase(const char *phase)
{
	fatal_phase = phase;
}

/* Async-signal-safe string building into a fixed buffer. */
struct fatal_buf {
	char *p;
	size_t len, size;
};

static void fatal_put(struct fatal_buf *b, const char *s)
{
	while (*s && b->len + 1 < b->size)
		b->p[b->len++] = *s++;
	b->p[b->len] = 0;
}

static void fatal_put_uint(struct fatal_buf *b, unsigned long v, unsigned int base)
{
	char tmp[24];
	int i = (int)sizeof(tmp) - 1;

	tmp[i] = 0;
	do {
		tmp[--i] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v && i > 0);
	fatal_put(b, &tmp[i]);
}

/* JSON string contents: printable ASCII as is, control bytes escaped, the rest '?'. */
static void fatal_put_escaped(struct fatal_buf *b, const char *s, size_t max)
{
	size_t i;

	for (i = 0; s[i] && i < max; i++) {
		unsigned char ch = (unsigned char)s[i];
		char esc[8] = "\\u00";

		if (ch == '"' || ch == '\\') {
			esc[1] = (char)ch;
			esc[2] = 0;
			fatal_put(b, esc);
		} else if (ch < 0x20) {
			esc[4] = "0123456789abcdef"[ch >> 4];
			esc[5] = "0123456789abcdef"[ch & 15];
			esc[6] = 0;
			fatal_put(b, esc);
		} else if (ch < 0x7f) {
			esc[0] = (char)ch;
			esc[1] = 0;
			fatal_put(b, esc);
		} else {
			fatal_put(b, "?");
		}
	}
}

static const char *const fatal_reason_names[] = {
	[PROTO_FATAL_PANIC] = "panic",
	[PROTO_FATAL_SIGNAL] = "signal",
	[PROTO_FATAL_BOOT_FAILED] = "boot_failed",
	[PROTO_FATAL_OOM] = "oom",
	[PROTO_FATAL_INTERNAL] = "internal",
};

size_t fatal_format(char *buf, size_t size, enum proto_fatal_reason reason, int sig,
		    const char *message)
{
	struct fatal_buf b = { .p = buf, .size = size };

	if (reason <= PROTO_FATAL_NONE || reason > PROTO_FATAL_INTERNAL)
		reason = PROTO_FATAL_INTERNAL;
	if (!message || !*message)
		message = fatal_reason_names[reason];
	fatal_put(&b, "{\"type\":\"fatal\",\"reason\":\"");
	fatal_put(&b, fatal_reason_names[reason]);
	fatal_put(&b, "\"");
	if (reason == PROTO_FATAL_SIGNAL) {
		fatal_put(&b, ",\"signal\":");
		fatal_put_uint(&b, (unsigned long)sig, 10);
	}
	fatal_put(&b, ",\"message\":\"");
	fatal_put_escaped(&b, message, FATAL_MESSAGE_MAX);
	fatal_put(&b, "\"}");
	return b.len;
}

/* Send one packet, waiting at most 500 ms for room in the socket. */
static void fatal_send(const char *buf, size_t len)
{
	int sock = fatal_sock, tries;

	if (sock < 0)
		return;
	for (tries = 0; tries < 50; tries++) {
		struct pollfd pfd = { .fd = sock, .events = POLLOUT };
		struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

		/* sendmsg, not send: it is the call the seccomp table allows. */
		if (sendmsg(sock, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0)
			return;
		if (errno != EAGAIN && errno != EINTR)
			return;
		poll(&pfd, 1, 10);
	}
}

static int fatal_exit_status(enum proto_fatal_reason reason, int sig)
{
	switch (reason) {
	case PROTO_FATAL_PANIC:
		return INSTANCE_EXIT_PANIC;
	case PROTO_FATAL_BOOT_FAILED:
		return INSTANCE_EXIT_BOOT_FAILED;
	case PROTO_FATAL_SIGNAL:
		return INSTANCE_EXIT_SIGNAL_BASE + sig;
	default:
		return INSTANCE_EXIT_INTERNAL;
	}
}

/* Report and exit; a second reporter (another thread) waits for the exit. */
static __attribute__((noreturn)) void fatal_report(enum proto_fatal_reason reason, int sig,
						   const char *message)
{
	static char buf[FATAL_BUF];
	size_t len;

	if (__atomic_exchange_n(&fatal_in_progress, 1, __ATOMIC_SEQ_CST))
		for (;;)
			poll(NULL, 0, 1000);
	len = fatal_format(buf, sizeof(buf), reason, sig, message);
	fatal_send(buf, len);
	/* The log line for people; the same text, in one write. */
	buf[len] = '\n';
	if (write(STDERR_FILENO, buf, len + 1) < 0) {
		/* nothing left to tell anyone */
	}
	_exit(fatal_exit_status(reason, sig));
}

void fatal_exit(enum proto_fatal_reason reason, const char *message)
{
	shoal_log_error("fatal (%s): %s", fatal_reason_names[reason], message);
	fatal_report(reason, 0, message);
}

void fatal_panic_cb(void)
{
	static char line[512], message[600];
	struct fatal_buf b = { .p = message, .size = sizeof(message) };

	if (!console_last_line("Kernel panic", line, sizeof(line)))
		strcpy(line, "(no panic text in the console log)");
	fatal_put(&b, "the library kernel panicked: ");
	fatal_put(&b, line);
	fatal_report(PROTO_FATAL_PANIC, 0, message);
}

static const char *fatal_signal_name(int sig)
{
	switch (sig) {
	case SIGSEGV:
		return "SIGSEGV";
	case SIGBUS:
		return "SIGBUS";
	case SIGILL:
		return "SIGILL";
	case SIGFPE:
		return "SIGFPE";
	case SIGSYS:
		return "SIGSYS";
	case SIGABRT:
		return "SIGABRT";
	default:
		return "signal";
	}
}

/*
 * Where a forbidden call came from, without a system call: the executable
 * ranges of the loaded objects are noted before the lock-down, and the
 * handler lists the words of the interrupted stack that point into them
 * (return addresses, most of them) as object+offset on stderr; addr2line
 * resolves them. backtrace() cannot be used: it may load libgcc_s.
 */
#define FATAL_RANGES 16
static struct fatal_range {
	uintptr_t start, end, base;
	char name[48];
} fatal_ranges[FATAL_RANGES];
static int fatal_nranges;

static int fatal_note_range(struct dl_phdr_info *info, size_t size, void *data)
{
	const char *name = info->dlpi_name && *info->dlpi_name ? info->dlpi_name : "shoal-instance";
	const char *slash = strrchr(name, '/');
	int i;

	(void)size;
	(void)data;
	for (i = 0; i < info->dlpi_phnum && fatal_nranges < FATAL_RANGES; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		struct fatal_range *r;

		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		r = &fatal_ranges[fatal_nranges++];
		r->base = info->dlpi_addr;
		r->start = info->dlpi_addr + ph->p_vaddr;
		r->end = r->start + ph->p_memsz;
		snprintf(r->name, sizeof(r->name), "%s", slash ? slash + 1 : name);
	}
	return 0;
}

static void fatal_stack_trace(const ucontext_t *uc)
{
	const uintptr_t *sp = (const uintptr_t *)uc->uc_mcontext.gregs[REG_RSP];
	char line[128];
	int i, k, found = 0;

	for (i = -1; i < 512 && found < 12; i++) {
		uintptr_t v = i < 0 ? (uintptr_t)uc->uc_mcontext.gregs[REG_RIP] : sp[i];

		for (k = 0; k < fatal_nranges; k++) {
			struct fatal_buf b = { .p = line, .size = sizeof(line) };

			if (v < fatal_ranges[k].start || v >= fatal_ranges[k].end)
				continue;
			fatal_put(&b, "  at ");
			fatal_put(&b, fatal_ranges[k].name);
			fatal_put(&b, "+0x");
			fatal_put_uint(&b, v - fatal_ranges[k].base, 16);
			fatal_put(&b, "\n");
			if (write(2, line, b.len) < 0)
				return;
			found++;
			break;
		}
	}
}

static void fatal_signal_cb(int sig, siginfo_t *info, void *uctx)
{
	static char message[FATAL_MESSAGE_MAX];
	struct fatal_buf b = { .p = message, .size = sizeof(message) };
	const char *phase = fatal_phase;

	if (sig == SIGALRM) {
		if (!fatal_watchdog_on)
			return; /* the boot finished; the alarm is left over */
		fatal_put(&b, "the boot did not finish within ");
		fatal_put_uint(&b, INSTANCE_BOOT_TIMEOUT_S, 10);
		fatal_put(&b, " s (stuck in: ");
		fatal_put(&b, phase ? phase : "?");
		fatal_put(&b, ")");
		fatal_report(PROTO_FATAL_BOOT_FAILED, 0, message);
	}
	fatal_put(&b, fatal_signal_name(sig));
	if (sig == SIGSYS) {
		fatal_put(&b, ": forbidden host system call ");
		fatal_put(&b, sandbox_syscall_name(info->si_syscall));
		fatal_put(&b, " (");
		fatal_put_uint(&b, (unsigned long)info->si_syscall, 10);
		fatal_put(&b, ")");
	} else if (sig != SIGABRT) {
		fatal_put(&b, " at address 0x");
		fatal_put_uint(&b, (unsigned long)info->si_addr, 16);
		fatal_put(&b, " (code ");
		fatal_put_uint(&b, (unsigned long)(unsigned int)info->si_code, 10);
		fatal_put(&b, ")");
	}
	fatal_put(&b, " in host thread ");
	fatal_put_uint(&b, (unsigned long)gettid(), 10);
	fatal_put(&b, phase ? " while " : " while serving");
	if (phase)
		fatal_put(&b, phase);
	if (sig == SIGSYS && uctx)
		fatal_stack_trace(uctx);
	fatal_report(PROTO_FATAL_SIGNAL, sig, message);
}

void fatal_boot_watchdog(bool on)
{
	fatal_watchdog_on = on;
	/*
	 * The alarm is armed once and never cancelled: cancelling would need
	 * alarm() in the seccomp allow-list. A late one finds the flag off.
	 */
	if (on)
		alarm(INSTANCE_BOOT_TIMEOUT_S);
}

int fatal_setup(void)
{
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGSYS, SIGABRT, SIGALRM };
	static char altstack[64 * 1024];
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
	struct sigaction sa = { .sa_sigaction = fatal_signal_cb,
				.sa_flags = SA_SIGINFO | SA_ONSTACK };
	size_t i;

	if (sigaltstack(&ss, NULL) < 0)
		return -errno;
	dl_iterate_phdr(fatal_note_range, NULL);
	sigfillset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL) < 0)
			return -errno;
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * The instance tests' supervisor (see tinst.h): spawning shoal-instance on a
 * socketpair, the control protocol with timeouts, file transfers in chunks,
 * and the guardian that removes whatever a dead test left in cgroups.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "api/channel.h"
#include "tests/harness.h"
#include "tests/instance/tinst.h"
#include "tests/kernel/knetns.h"

#define TINST_CHUNK (64 * 1024)

static int tinst_count;
static int tinst_guard_fd = -1;

void tinst_require_root(void)
{
	if (geteuid() != 0)
		SKIP("needs root: instances lock themselves down with namespaces and cgroups");
}

static uint64_t tinst_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Kill what is left in the cgroups of instances named @prefix* and remove them. */
static void tinst_guard_sweep(const char *prefix, bool kill_them)
{
	static const char *const bases[] = { "/sys/fs/cgroup/memory/shoal",
					     "/sys/fs/cgroup/pids/shoal", "/sys/fs/cgroup/shoal" };
	size_t b;

	for (b = 0; b < sizeof(bases) / sizeof(bases[0]); b++) {
		DIR *d = opendir(bases[b]);
		struct dirent *e;

		if (!d)
			continue;
		while ((e = readdir(d))) {
			char path[512], line[32];
			FILE *f;

			if (strncmp(e->d_name, prefix, strlen(prefix)))
				continue;
			snprintf(path, sizeof(path), "%s/%s/cgroup.procs", bases[b], e->d_name);
			f = kill_them ? fopen(path, "r") : NULL;
			while (f && fgets(line, sizeof(line), f))
				kill((pid_t)atoi(line), SIGKILL);
			if (f)
				fclose(f);
			snprintf(path, sizeof(path), "%s/%s", bases[b], e->d_name);
			rmdir(path);
		}
		closedir(d);
	}
}

static bool tinst_guard_left(const char *prefix)
{
	static const char *const bases[] = { "/sys/fs/cgroup/memory/shoal",
					     "/sys/fs/cgroup/pids/shoal", "/sys/fs/cgroup/shoal" };
	bool left = false;
	size_t b;

	for (b = 0; b < sizeof(bases) / sizeof(bases[0]); b++) {
		DIR *d = opendir(bases[b]);
		struct dirent *e;

		if (!d)
			continue;
		while ((e = readdir(d)))
			if (!strncmp(e->d_name, prefix, strlen(prefix)))
				left = true;
		closedir(d);
	}
	return left;
}

static void tinst_guard_start(void)
{
	char prefix[32];
	int pipefd[2];
	pid_t pid;

	if (tinst_guard_fd >= 0 || geteuid() != 0)
		return;
	snprintf(prefix, sizeof(prefix), "t%d-", (int)getpid());
	if (pipe(pipefd))
		FAIL("pipe: %s", strerror(errno));
	pid = fork();
	if (pid == 0) {
		uint64_t end;
		char c;
		int i;

		/* Outside the test's process group: the runner's kill must not reach us. */
		setsid();
		for (i = 3; i < 1024; i++)
			if (i != pipefd[0])
				close(i);
		while (read(pipefd[0], &c, 1) > 0)
			;
		/* The test is gone. Instances end by themselves on end of file... */
		end = tinst_now_ms() + 10000;
		while (tinst_guard_left(prefix) && tinst_now_ms() < end) {
			tinst_guard_sweep(prefix, false);
			usleep(50 * 1000);
		}
		/* ...or are killed, when their monitor died with the test. */
		for (i = 0; i < 20 && tinst_guard_left(prefix); i++) {
			tinst_guard_sweep(prefix, true);
			usleep(50 * 1000);
		}
		_exit(0);
	}
	close(pipefd[0]);
	fcntl(pipefd[1], F_SETFD, FD_CLOEXEC);
	tinst_guard_fd = pipefd[1];
}

static void tinst_spawn_common(struct tinst *t, struct knetns *ns, const char *const *args)
{
	const char *build = getenv("SHOAL_BUILD") ? getenv("SHOAL_BUILD") : "build";
	struct shoal_error err = { 0 };
	char bin[512];
	int sv[2];

	memset(t, 0, sizeof(*t));
	t->sock = -1;
	t->next_id = 1;
	snprintf(t->id, sizeof(t->id), "t%d-%d", (int)getpid(), ++tinst_count);
	snprintf(bin, sizeof(bin), "%s/instance/shoal-instance", build);
	if (access(bin, X_OK))
		FAIL("%s: %s (make it first)", bin, strerror(errno));
	tinst_guard_start();
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		FAIL("socketpair: %s", strerror(errno));
	t->pid = fork();
	if (t->pid < 0)
		FAIL("fork: %s", strerror(errno));
	if (t->pid == 0) {
		const char *argv[32] = { bin, "--control-fd", "3" };
		int n = 3, i;

		for (i = 0; args && args[i] && n < 31; i++)
			argv[n++] = args[i];
		argv[n] = NULL;
		if (ns) {
			knetns_forked(ns);
			if (setns(ns->fd, CLONE_NEWNET))
				_exit(126);
		}
		if (dup2(sv[1], 3) < 0)
			_exit(126);
		execv(bin, (char **)argv);
		_exit(127);
	}
	close(sv[1]);
	t->sock = sv[0];
	if (channel_setup(t->sock, &err))
		FAIL("%s", err.msg);
}

void tinst_spawn(struct tinst *t, const char *const *args)
{
	tinst_spawn_common(t, NULL, args);
}

void tinst_spawn_netns(struct tinst *t, struct knetns *ns, const char *const *args)
{
	tinst_spawn_common(t, ns, args);
}

int tinst_recv(struct tinst *t, struct proto_msg *msg, int timeout_ms)
{
	struct pollfd pfd = { .fd = t->sock, .events = POLLIN };
	struct shoal_error err = { 0 };
	int fds[PROTO_FDS_MAX];
	size_t nfds;
	int r;

	memset(msg, 0, sizeof(*msg));
	r = poll(&pfd, 1, timeout_ms);
	if (r == 0)
		return -ETIMEDOUT;
	if (r < 0)
		FAIL("poll: %s", strerror(errno));
	r = channel_recv_msg(t->sock, msg, fds, &nfds, &err);
	if (r == -ECONNRESET)
		return r;
	if (r < 0)
		FAIL("receive from the instance: %s", err.msg);
	channel_close_fds(fds, &nfds);
	if (proto_check_peer(msg, PROTO_ROLE_INSTANCE, &err))
		FAIL("the instance sent what it may not: %s", err.msg);
	return 0;
}

static const char *tinst_describe(const struct proto_msg *m)
{
	static char text[512];

	if (m->type == PROTO_ERROR)
		snprintf(text, sizeof(text), "error %llu %s: %s", (unsigned long long)m->id,
			 proto_error_code_name(m->error.code), m->error.message);
	else if (m->type == PROTO_FATAL)
		snprintf(text, sizeof(text), "fatal: %s", m->fatal.message);
	else if (m->type == PROTO_OK)
		snprintf(text, sizeof(text), "ok %llu (%s)", (unsigned long long)m->id,
			 proto_type_name(m->ok.request));
	else
		snprintf(text, sizeof(text), "%s", proto_type_name(m->type));
	return text;
}

void tinst_expect(struct tinst *t, struct proto_msg *msg, enum proto_type type, int timeout_ms)
{
	int r = tinst_recv(t, msg, timeout_ms);

	if (r == -ETIMEDOUT)
		FAIL("expected %s: nothing within %d ms", proto_type_name(type), timeout_ms);
	if (r == -ECONNRESET)
		FAIL("expected %s: end of file", proto_type_name(type));
	if (msg->type != type)
		FAIL("expected %s, got %s", proto_type_name(type), tinst_describe(msg));
}

void tinst_expect_ok(struct tinst *t, struct proto_msg *msg, uint64_t id, enum proto_type request,
		     int timeout_ms)
{
	tinst_expect(t, msg, PROTO_OK, timeout_ms);
	if (msg->id != id || msg->ok.request != request)
		FAIL("expected ok %llu (%s), got %s", (unsigned long long)id,
		     proto_type_name(request), tinst_describe(msg));
}

void tinst_expect_error(struct tinst *t, uint64_t id, enum proto_error_code code, int timeout_ms)
{
	struct proto_msg msg;

	tinst_expect(t, &msg, PROTO_ERROR, timeout_ms);
	if (msg.id != id || msg.error.code != code)
		FAIL("expected error %llu %s, got %s", (unsigned long long)id,
		     proto_error_code_name(code), tinst_describe(&msg));
	printf("error %llu %s: %s\n", (unsigned long long)id, proto_error_code_name(code),
	       msg.error.message);
	proto_msg_free(&msg);
}

void tinst_expect_eof(struct tinst *t, int timeout_ms)
{
	uint64_t end = tinst_now_ms() + (uint64_t)timeout_ms;

	for (;;) {
		uint64_t now = tinst_now_ms();
		struct proto_msg msg;
		int r;

		if (now >= end)
			FAIL("no end of file within %d ms", timeout_ms);
		r = tinst_recv(t, &msg, (int)(end - now));
		if (r == -ECONNRESET)
			return;
		if (r == 0)
			proto_msg_free(&msg);
	}
}

uint64_t tinst_send(struct tinst *t, struct proto_msg *msg, const int *fds, size_t nfds)
{
	struct shoal_error err = { 0 };

	if (msg->type != PROTO_HELLO && msg->type != PROTO_FILE_CHUNK &&
	    msg->type != PROTO_FILE_END && msg->type != PROTO_EXEC_INPUT &&
	    msg->type != PROTO_ERROR && !msg->id)
		msg->id = t->next_id++;
	if (channel_send_msg(t->sock, msg, fds, nfds, &err))
		FAIL("send %s: %s", proto_type_name(msg->type), err.msg);
	return msg->id;
}

void tinst_send_raw(struct tinst *t, const char *text, size_t len)
{
	struct shoal_error err = { 0 };

	if (channel_send(t->sock, text, len, NULL, 0, &err))
		FAIL("send raw: %s", err.msg);
}

void tinst_hello(struct tinst *t)
{
	struct proto_msg msg;

	tinst_expect(t, &msg, PROTO_HELLO, 10000);
	CHECK_EQ_INT(msg.hello.version, PROTO_VERSION);
	CHECK_EQ_INT(msg.hello.role, PROTO_ROLE_INSTANCE);
	CHECK_EQ_INT(msg.hello.state, PROTO_STATE_NEW);
	proto_msg_free(&msg);
	proto_msg_init(&msg, PROTO_HELLO, 0);
	msg.hello.version = PROTO_VERSION;
	msg.hello.role = PROTO_ROLE_DAEMON;
	msg.hello.software = "tests/instance";
	tinst_send(t, &msg, NULL, 0);
}

void tinst_configure_init(struct tinst *t, struct proto_msg *msg)
{
	proto_msg_init(msg, PROTO_CONFIGURE, 0);
	msg->configure.instance_id = t->id;
	msg->configure.memory_mib = 64;
	msg->configure.hostname = "tinst";
	msg->configure.keep_on_supervisor_exit = false;
}

void tinst_boot(struct tinst *t, struct proto_msg *cfg, const int *fds, size_t nfds,
		struct proto_msg *ready)
{
	struct proto_msg ok;
	uint64_t id = tinst_send(t, cfg, fds, nfds);

	tinst_expect_ok(t, &ok, id, PROTO_CONFIGURE, 10000);
	proto_msg_free(&ok);
	tinst_expect(t, ready, PROTO_READY, 30000);
}

void tinst_start(struct tinst *t, const char *const *args, struct proto_msg *ready)
{
	struct proto_msg cfg, r;

	tinst_spawn(t, args);
	tinst_hello(t);
	tinst_configure_init(t, &cfg);
	tinst_boot(t, &cfg, NULL, 0, ready ? ready : &r);
	if (!ready)
		proto_msg_free(&r);
}

bool tinst_wait_exit(struct tinst *t, int timeout_ms)
{
	uint64_t end = tinst_now_ms() + (uint64_t)timeout_ms;

	while (!t->reaped) {
		pid_t r = waitpid(t->pid, &t->status, WNOHANG);

		if (r == t->pid)
			t->reaped = true;
		else if (r < 0)
			FAIL("waitpid: %s", strerror(errno));
		else if (tinst_now_ms() >= end)
			return false;
		else
			usleep(2000);
	}
	return true;
}

void tinst_shutdown(struct tinst *t)
{
	struct proto_msg msg;
	uint64_t id;

	proto_msg_init(&msg, PROTO_SHUTDOWN, 0);
	id = tinst_send(t, &msg, NULL, 0);
	tinst_expect_ok(t, &msg, id, PROTO_SHUTDOWN, 15000);
	proto_msg_free(&msg);
	tinst_expect_eof(t, 5000);
	if (!tinst_wait_exit(t, 5000))
		FAIL("the instance did not exit after shutdown");
	if (!WIFEXITED(t->status) || WEXITSTATUS(t->status) != 0)
		FAIL("the instance ended with wait status 0x%x after shutdown", t->status);
	tinst_close(t);
}

void tinst_close(struct tinst *t)
{
	if (t->sock >= 0)
		close(t->sock);
	t->sock = -1;
}

pid_t tinst_inner_pid(struct tinst *t)
{
	char path[64];
	FILE *f;
	int pid = 0;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)t->pid, (int)t->pid);
	f = fopen(path, "r");
	if (!f || fscanf(f, "%d", &pid) != 1)
		FAIL("no instance process under monitor %d", (int)t->pid);
	fclose(f);
	return pid;
}

pid_t tinst_zygote_pid(struct tinst *t)
{
	pid_t inner = tinst_inner_pid(t);
	char path[64];
	int pid = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)inner, (int)inner);
	f = fopen(path, "r");
	if (!f || fscanf(f, "%d", &pid) != 1)
		FAIL("no zygote under instance %d", (int)inner);
	fclose(f);
	return pid;
}

int tinst_check_threads_locked_down(pid_t pid)
{
	static const char *const zero[] = { "CapInh:\t0000000000000000\n",
					    "CapPrm:\t0000000000000000\n",
					    "CapEff:\t0000000000000000\n",
					    "CapBnd:\t0000000000000000\n",
					    "CapAmb:\t0000000000000000\n",
					    "NoNewPrivs:\t1\n",
					    "Seccomp:\t2\n" };
	char path[64], tpath[400], line[256];
	int threads = 0;
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		FAIL("open %s", path);
	while ((e = readdir(d))) {
		unsigned int seen = 0;
		size_t i;
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(tpath, sizeof(tpath), "%s/%s/status", path, e->d_name);
		f = fopen(tpath, "r");
		if (!f)
			continue; /* a thread that just ended */
		while (fgets(line, sizeof(line), f))
			for (i = 0; i < sizeof(zero) / sizeof(zero[0]); i++)
				if (!strcmp(line, zero[i]))
					seen |= 1u << i;
		fclose(f);
		if (seen != (1u << (sizeof(zero) / sizeof(zero[0]))) - 1)
			FAIL("thread %s of %d is not locked down (seen 0x%x of 0x7f)", e->d_name,
			     (int)pid, seen);
		threads++;
	}
	closedir(d);
	return threads;
}

void tinst_children(pid_t pid, char *buf, size_t size)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid, (int)pid);
	buf[0] = 0;
	f = fopen(path, "r");
	if (f) {
		if (!fgets(buf, (int)size, f))
			buf[0] = 0;
		fclose(f);
	}
}

enum proto_type tinst_put(struct tinst *t, const char *path, const void *data, size_t len,
			  uint32_t mode)
{
	const unsigned char *p = data;
	struct proto_msg msg;
	enum proto_type type;
	uint64_t id;
	size_t off = 0;

	proto_msg_init(&msg, PROTO_FILE_PUT, 0);
	msg.file_put.path = path;
	msg.file_put.size = len;
	msg.file_put.mode = mode;
	id = tinst_send(t, &msg, NULL, 0);
	while (off < len) {
		size_t n = len - off < TINST_CHUNK ? len - off : TINST_CHUNK;

		proto_msg_init(&msg, PROTO_FILE_CHUNK, 0);
		msg.file_chunk.stream = id;
		msg.file_chunk.offset = off;
		msg.file_chunk.data.data = p + off;
		msg.file_chunk.data.len = n;
		tinst_send(t, &msg, NULL, 0);
		off += n;
	}
	proto_msg_init(&msg, PROTO_FILE_END, 0);
	msg.file_end.stream = id;
	tinst_send(t, &msg, NULL, 0);
	if (tinst_recv(t, &msg, 60000))
		FAIL("file_put %s: no answer", path);
	if (msg.id != id || (msg.type != PROTO_OK && msg.type != PROTO_ERROR))
		FAIL("file_put %s: got %s", path, tinst_describe(&msg));
	if (msg.type == PROTO_OK)
		CHECK_EQ_INT(msg.ok.file_put.size, len);
	else
		printf("file_put %s: %s\n", path, tinst_describe(&msg));
	type = msg.type;
	proto_msg_free(&msg);
	return type;
}

void *tinst_get(struct tinst *t, const char *path, size_t *len, uint32_t *mode,
		enum proto_error_code *code)
{
	struct proto_msg msg;
	unsigned char *buf;
	uint64_t id, size, got = 0;

	proto_msg_init(&msg, PROTO_FILE_GET, 0);
	msg.file_get.path = path;
	id = tinst_send(t, &msg, NULL, 0);
	if (tinst_recv(t, &msg, 30000))
		FAIL("file_get %s: no answer", path);
	if (msg.type == PROTO_ERROR && msg.id == id) {
		printf("file_get %s: %s\n", path, tinst_describe(&msg));
		*code = msg.error.code;
		proto_msg_free(&msg);
		return NULL;
	}
	if (msg.type != PROTO_OK || msg.id != id || msg.ok.request != PROTO_FILE_GET)
		FAIL("file_get %s: got %s", path, tinst_describe(&msg));
	size = msg.ok.file_get.size;
	if (mode)
		*mode = msg.ok.file_get.mode;
	proto_msg_free(&msg);
	buf = malloc(size ? size : 1);
	CHECK(buf != NULL);
	for (;;) {
		if (tinst_recv(t, &msg, 30000))
			FAIL("file_get %s: the stream stopped after %llu bytes", path,
			     (unsigned long long)got);
		if (msg.type == PROTO_FILE_CHUNK && msg.file_chunk.stream == id) {
			CHECK_EQ_INT(msg.file_chunk.offset, got);
			CHECK(got + msg.file_chunk.data.len <= size);
			memcpy(buf + got, msg.file_chunk.data.data, msg.file_chunk.data.len);
			got += msg.file_chunk.data.len;
		} else if (msg.type == PROTO_FILE_END && msg.file_end.stream == id) {
			if (msg.file_end.has_error)
				FAIL("file_get %s: the stream ended with %s: %s", path,
				     proto_error_code_name(msg.file_end.error.code),
				     msg.file_end.error.message);
			proto_msg_free(&msg);
			break;
		} else {
			FAIL("file_get %s: got %s in the stream", path, tinst_describe(&msg));
		}
		proto_msg_free(&msg);
	}
	CHECK_EQ_INT(got, size);
	*len = size;
	return buf;
}

void tinst_stats(struct tinst *t, struct proto_msg *msg)
{
	uint64_t id;
	int i;

	proto_msg_init(msg, PROTO_STATS, 0);
	id = tinst_send(t, msg, NULL, 0);
	/* A running job's output may come first (a server's log line after
	 * it answered): skipped, as tinst_exec_send skips other jobs'. */
	for (i = 0; i < 1000; i++) {
		if (tinst_recv(t, msg, 10000))
			FAIL("stats: no answer within 10 s");
		if (msg->type != PROTO_EXEC_OUTPUT)
			break;
		proto_msg_free(msg);
	}
	if (msg->type != PROTO_OK || msg->id != id || msg->ok.request != PROTO_STATS)
		FAIL("stats: expected its ok, got %s", tinst_describe(msg));
}

uint32_t tinst_host_threads(struct tinst *t)
{
	struct proto_msg msg;
	uint32_t n;

	tinst_stats(t, &msg);
	n = msg.ok.stats.host_threads;
	proto_msg_free(&msg);
	return n;
}

void tinst_require_jobshim(void)
{
	tinst_require_root();
	if (!tinst_have_jobshim())
		SKIP("the job shim is not built yet (instance/jobshim, issue 6)");
}

bool tinst_have_jobshim(void)
{
	const char *build = getenv("SHOAL_BUILD") ? getenv("SHOAL_BUILD") : "build";
	char bin[512];

	snprintf(bin, sizeof(bin), "%s/instance/shoal-jobshim", build);
	return access(bin, X_OK) == 0;
}

void tinst_exec_init(struct proto_msg *msg, const char *const *argv)
{
	proto_msg_init(msg, PROTO_EXEC, 0);
	for (msg->exec.argc = 0; argv[msg->exec.argc]; msg->exec.argc++)
		msg->exec.argv[msg->exec.argc] = argv[msg->exec.argc];
}

void tinst_exec_send(struct tinst *t, struct proto_msg *exec, struct tinst_job *res)
{
	struct proto_msg msg;
	uint64_t id;

	memset(res, 0, sizeof(*res));
	id = tinst_send(t, exec, NULL, 0);
	for (;;) {
		if (tinst_recv(t, &msg, 30000))
			FAIL("exec %s: no answer", exec->exec.argv[0]);
		if ((msg.type == PROTO_OK || msg.type == PROTO_ERROR) && msg.id == id)
			break;
		if (msg.type != PROTO_EXEC_OUTPUT && msg.type != PROTO_EXEC_EXIT)
			FAIL("exec %s: got %s", exec->exec.argv[0], tinst_describe(&msg));
		proto_msg_free(&msg); /* another job's */
	}
	if (msg.type == PROTO_ERROR) {
		res->error = msg.error.code;
		snprintf(res->message, sizeof(res->message), "%s", msg.error.message);
		printf("exec %s: %s\n", exec->exec.argv[0], tinst_describe(&msg));
	} else {
		CHECK_EQ_INT(msg.ok.request, PROTO_EXEC);
		res->job = msg.ok.exec.job;
		CHECK(res->job > 0);
	}
	proto_msg_free(&msg);
}

bool tinst_job_output(struct tinst_job *res, const struct proto_msg *msg)
{
	size_t n;
	int i;

	if (msg->type != PROTO_EXEC_OUTPUT || msg->exec_output.job != res->job)
		return false;
	i = msg->exec_output.stream == PROTO_STREAM_STDERR;
	n = msg->exec_output.data.len;
	CHECK_EQ_INT(msg->exec_output.offset, res->len[i]);
	res->out[i] = realloc(res->out[i], res->len[i] + n + 1);
	CHECK(res->out[i] != NULL);
	memcpy(res->out[i] + res->len[i], msg->exec_output.data.data, n);
	res->len[i] += n;
	res->out[i][res->len[i]] = 0;
	return true;
}

void tinst_run_ok(struct tinst *t, const char *const *argv, const char *cwd, int timeout_ms,
		  const char *out)
{
	struct tinst_job res;
	struct proto_msg msg;

	tinst_exec_init(&msg, argv);
	msg.exec.cwd = cwd;
	tinst_exec_send(t, &msg, &res);
	if (!res.job)
		FAIL("exec %s: refused: %s", argv[0], res.message);
	tinst_exec_wait(t, &res, timeout_ms);
	CHECK_EQ_INT(res.exit.exit_code, 0);
	CHECK_EQ_STR((char *)res.out[0], out);
	tinst_job_free(&res);
}

void tinst_exec_wait(struct tinst *t, struct tinst_job *res, int timeout_ms)
{
	uint64_t end = tinst_now_ms() + (uint64_t)timeout_ms;

	for (;;) {
		uint64_t now = tinst_now_ms();
		struct proto_msg msg;
		int r;

		if (now >= end)
			FAIL("job %llu: no exec_exit within %d ms", (unsigned long long)res->job,
			     timeout_ms);
		r = tinst_recv(t, &msg, (int)(end - now));
		if (r == -ETIMEDOUT)
			continue;
		if (r) {
			/* End of file: how the instance ended says why. */
			tinst_wait_exit(t, 2000);
			FAIL("job %llu: end of file before exec_exit (wait status 0x%x)",
			     (unsigned long long)res->job, t->reaped ? t->status : -1);
		}
		if (!tinst_job_output(res, &msg) && msg.type == PROTO_EXEC_EXIT &&
		    msg.exec_exit.job == res->job) {
			res->exit = msg.exec_exit;
			proto_msg_free(&msg);
			printf("job %llu: exit_code %d signal %d timed_out %d, %llu/%llu bytes "
			       "out/err%s%s, %llu us\n",
			       (unsigned long long)res->job, res->exit.exit_code, res->exit.signal,
			       res->exit.timed_out, (unsigned long long)res->exit.stdout_bytes,
			       (unsigned long long)res->exit.stderr_bytes,
			       res->exit.stdout_truncated ? ", stdout truncated" : "",
			       res->exit.stderr_truncated ? ", stderr truncated" : "",
			       (unsigned long long)res->exit.duration_us);
			break;
		} else if (msg.type != PROTO_EXEC_OUTPUT && msg.type != PROTO_EXEC_EXIT) {
			FAIL("job %llu: got %s", (unsigned long long)res->job,
			     tinst_describe(&msg));
		}
		proto_msg_free(&msg);
	}
	if (!res->exit.stdout_truncated)
		CHECK_EQ_INT(res->exit.stdout_bytes, res->len[0]);
	if (!res->exit.stderr_truncated)
		CHECK_EQ_INT(res->exit.stderr_bytes, res->len[1]);
	if (res->len[1])
		printf("stderr: %.400s\n", (char *)res->out[1]);
}

void tinst_run(struct tinst *t, const char *const *argv, const char *stdin_text, int timeout_ms,
	       struct tinst_job *res)
{
	struct proto_msg msg;

	tinst_exec_init(&msg, argv);
	if (stdin_text) {
		msg.exec.stdin_data.data = (const unsigned char *)stdin_text;
		msg.exec.stdin_data.len = strlen(stdin_text);
	}
	tinst_exec_send(t, &msg, res);
	if (res->job)
		tinst_exec_wait(t, res, timeout_ms);
}

void tinst_job_free(struct tinst_job *res)
{
	free(res->out[0]);
	free(res->out[1]);
	memset(res, 0, sizeof(*res));
}

void tinst_shutdown_jobs(struct tinst *t, int njobs)
{
	struct proto_msg msg;
	int exits = 0;
	uint64_t id;

	proto_msg_init(&msg, PROTO_SHUTDOWN, 0);
	msg.shutdown.timeout_ms = 2000;
	id = tinst_send(t, &msg, NULL, 0);
	for (;;) {
		if (tinst_recv(t, &msg, 15000))
			FAIL("shutdown with %d jobs: no ok", njobs);
		if (msg.type == PROTO_OK && msg.id == id)
			break;
		if (msg.type == PROTO_EXEC_EXIT)
			exits++;
		else if (msg.type != PROTO_EXEC_OUTPUT)
			FAIL("shutdown with %d jobs: got %s", njobs, tinst_describe(&msg));
		proto_msg_free(&msg);
	}
	proto_msg_free(&msg);
	CHECK_EQ_INT(exits, njobs);
	tinst_expect_eof(t, 5000);
	if (!tinst_wait_exit(t, 5000))
		FAIL("the instance did not exit after shutdown");
	CHECK(WIFEXITED(t->status) && WEXITSTATUS(t->status) == 0);
	tinst_close(t);
}

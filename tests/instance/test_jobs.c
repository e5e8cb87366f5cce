// SPDX-License-Identifier: GPL-2.0
/*
 * Jobs against real instances: the jail (its zygote holds the host's
 * programs read-only and no secret, keeps two capabilities and no instance
 * descriptor, and dies with its instance); exec's refusals (a program not
 * in PATH is not_found, a spawn that fails after the job's server was made
 * leaves no thread or process behind, an unknown job cannot be signalled);
 * and, with the job shim built, programs end to end: output and exit codes,
 * files shared with file_get and later jobs but not with the host, a
 * pipeline, Python, escape attempts, timeouts, output caps, signals.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api/channel.h"
#include "tests/harness.h"
#include "tests/instance/tinst.h"

static void status_line(pid_t pid, const char *key, char *value, size_t size)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		FAIL("open %s", path);
	value[0] = 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)) && line[strlen(key)] == ':') {
			snprintf(value, size, "%s", line + strlen(key) + 1);
			value[strcspn(value, "\n")] = 0;
			memmove(value, value + strspn(value, " \t"), strlen(value) + 1);
		}
	fclose(f);
}

static int count_fds(pid_t pid)
{
	char path[64];
	struct dirent *e;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d)
		FAIL("opendir %s", path);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

TEST(jail_holds_programs_read_only_and_no_secret)
{
	char path[256], value[128];
	struct stat st;
	struct tinst t;
	pid_t z;

	tinst_require_root();
	tinst_start(&t, NULL, NULL);
	z = tinst_zygote_pid(&t);
	/* What a program needs to start is there... */
	snprintf(path, sizeof(path), "/proc/%d/root/usr/bin/sh", (int)z);
	CHECK(stat(path, &st) == 0);
	snprintf(path, sizeof(path), "/proc/%d/root/bin", (int)z);
	CHECK(lstat(path, &st) == 0 && S_ISLNK(st.st_mode));
	snprintf(path, sizeof(path), "/proc/%d/root/etc/ld.so.cache", (int)z);
	CHECK(stat(path, &st) == 0);
	snprintf(path, sizeof(path), "/proc/%d/root/etc/passwd", (int)z);
	CHECK(stat(path, &st) == 0);
	/* ...and no secret, no writable place, nothing else of the host. */
	snprintf(path, sizeof(path), "/proc/%d/root/etc/shadow", (int)z);
	CHECK(stat(path, &st) < 0 && errno == ENOENT);
	snprintf(path, sizeof(path), "/proc/%d/root/etc/ssl/private", (int)z);
	CHECK(stat(path, &st) < 0 && errno == ENOENT);
	snprintf(path, sizeof(path), "/proc/%d/root/root", (int)z);
	CHECK(stat(path, &st) < 0 && errno == ENOENT);
	snprintf(path, sizeof(path), "/proc/%d/root/usr/shoal-write-test", (int)z);
	CHECK(mkdir(path, 0755) < 0 && errno == EROFS);
	snprintf(path, sizeof(path), "/proc/%d/root/shoal-write-test", (int)z);
	CHECK(mkdir(path, 0755) < 0 && errno == EROFS);
	/* CAP_SYS_ADMIN and CAP_SETPCAP, nothing else; no_new_privs. */
	status_line(z, "CapEff", value, sizeof(value));
	CHECK_EQ_STR(value, "0000000000200100");
	status_line(z, "CapBnd", value, sizeof(value));
	CHECK_EQ_STR(value, "0000000000200100");
	status_line(z, "NoNewPrivs", value, sizeof(value));
	CHECK_EQ_STR(value, "1");
	status_line(z, "Seccomp", value, sizeof(value));
	CHECK_EQ_STR(value, "2"); /* its deny filter: no mount, unshare, setns, bpf, ... */
	/* stdin, stdout (/dev/null), stderr, its socket, /dev/null, the shim (if built). */
	printf("zygote %d: %d descriptors\n", (int)z, count_fds(z));
	CHECK(count_fds(z) <= 7);
	tinst_shutdown(&t);
}

TEST(zygote_dies_with_its_instance)
{
	struct tinst t;
	pid_t z;
	int i;

	tinst_require_root();
	tinst_start(&t, NULL, NULL);
	z = tinst_zygote_pid(&t);
	CHECK(kill(tinst_inner_pid(&t), SIGKILL) == 0);
	for (i = 0; i < 200 && kill(z, 0) == 0; i++)
		usleep(10000);
	CHECK(kill(z, 0) < 0 && errno == ESRCH);
	tinst_expect_eof(&t, 5000);
	CHECK(tinst_wait_exit(&t, 5000));
	tinst_close(&t);
}

TEST(missing_program_is_not_found_and_leaves_nothing)
{
	const char *const missing[] = { "shoal-no-such-program", NULL };
	const char *const missing_path[] = { "/usr/bin/shoal-no-such-program", NULL };
	const char *const dir[] = { "/usr/bin", NULL };
	const char *const relative[] = { "./x", NULL };
	struct tinst_job res;
	struct proto_msg msg;
	char kids[64];
	uint32_t threads;
	uint64_t id;
	struct tinst t;

	tinst_require_root();
	tinst_start(&t, NULL, NULL);
	threads = tinst_host_threads(&t);
	tinst_run(&t, missing, NULL, 10000, &res);
	CHECK_EQ_INT(res.error, PROTO_ERR_NOT_FOUND);
	CHECK(strstr(res.message, "shoal-no-such-program") != NULL);
	tinst_run(&t, missing_path, NULL, 10000, &res);
	CHECK_EQ_INT(res.error, PROTO_ERR_NOT_FOUND);
	tinst_run(&t, dir, NULL, 10000, &res);
	CHECK_EQ_INT(res.error, PROTO_ERR_NOT_FOUND);
	tinst_run(&t, relative, NULL, 10000, &res);
	CHECK_EQ_INT(res.error, PROTO_ERR_NOT_FOUND);
	/* No job process, no thread of a job server or of a job's stdio. */
	tinst_children(tinst_zygote_pid(&t), kids, sizeof(kids));
	CHECK_EQ_STR(kids, "");
	CHECK_EQ_INT(tinst_host_threads(&t), threads);

	proto_msg_init(&msg, PROTO_EXEC_SIGNAL, 0);
	msg.exec_signal.job = 12345;
	id = tinst_send(&t, &msg, NULL, 0);
	tinst_expect_error(&t, id, PROTO_ERR_NOT_FOUND, 5000);
	tinst_shutdown(&t);
}

TEST(spawn_failure_after_the_server_leaves_nothing)
{
	const char *const sh[] = { "sh", "-c", "exit 0", NULL };
	struct tinst_job res;
	char kids[64];
	uint32_t threads;
	struct tinst t;
	int i;

	tinst_require_root();
	/* No shim where the zygote looks: every spawn fails after the server exists. */
	setenv("SHOAL_JOBSHIM", "/nonexistent/shoal-jobshim", 1);
	tinst_start(&t, NULL, NULL);
	unsetenv("SHOAL_JOBSHIM");
	threads = tinst_host_threads(&t);
	for (i = 0; i < 20; i++) {
		tinst_run(&t, sh, "input", 10000, &res);
		CHECK_EQ_INT(res.error, PROTO_ERR_UNSUPPORTED);
		CHECK(strstr(res.message, "shim") != NULL);
	}
	tinst_children(tinst_zygote_pid(&t), kids, sizeof(kids));
	CHECK_EQ_STR(kids, "");
	CHECK_EQ_INT(tinst_host_threads(&t), threads);
	tinst_shutdown(&t);
}

TEST(lifecycle_of_jobs)
{
	const char *const code[] = { "sh", "-c", "exit 42", NULL };
	const char *const segv[] = { "sh", "-c", "kill -SEGV $$", NULL };
	const char *const tree[] = { "sh", "-c", "sleep 1000 & sleep 1000", NULL };
	const char *const sleeper[] = { "sleep", "1000", NULL };
	const char *const ptrace_py[] = {
		"python3", "-c",
		"import ctypes, sys\n"
		"libc = ctypes.CDLL(None, use_errno=True)\n"
		"ok = libc.ptrace(0, 0, 0, 0) == -1 and ctypes.get_errno() == 1\n"
		"ok = ok and libc.unshare(0x20000) == -1 and ctypes.get_errno() == 1\n"
		"sys.exit(0 if ok else 1)\n",
		NULL
	};
	struct tinst_job res, many[4];
	struct proto_msg msg;
	char kids[64];
	uint32_t threads;
	struct tinst t;
	uint64_t id;
	int i;

	tinst_require_jobshim();
	tinst_start(&t, NULL, NULL);
	threads = tinst_host_threads(&t);
	tinst_run(&t, code, NULL, 30000, &res);
	CHECK_EQ_INT(res.exit.exit_code, 42);
	CHECK_EQ_INT(res.exit.signal, -1);
	CHECK_EQ_INT(res.exit.stdout_bytes, 0);
	CHECK_EQ_INT(res.exit.stderr_bytes, 0);
	tinst_job_free(&res);
	tinst_run(&t, segv, NULL, 30000, &res);
	CHECK_EQ_INT(res.exit.signal, 11);
	CHECK_EQ_INT(res.exit.exit_code, -1);
	tinst_job_free(&res);
	tinst_run(&t, ptrace_py, NULL, 30000, &res);
	CHECK_EQ_INT(res.exit.exit_code, 0);
	tinst_job_free(&res);

	/* Timeout: the whole tree goes, the next job runs. */
	tinst_exec_init(&msg, tree);
	msg.exec.timeout_ms = 300;
	tinst_exec_send(&t, &msg, &res);
	CHECK(res.job > 0);
	tinst_exec_wait(&t, &res, 10000);
	CHECK(res.exit.timed_out);
	CHECK_EQ_INT(res.exit.signal, 9);
	CHECK(res.exit.duration_us >= 300000 && res.exit.duration_us < 5000000);
	tinst_job_free(&res);

	/* exec_signal to the first process, and to its group. */
	for (i = 0; i < 2; i++) {
		tinst_exec_init(&msg, i ? tree : sleeper);
		tinst_exec_send(&t, &msg, &res);
		CHECK(res.job > 0);
		/*
		 * sh -c catches SIGINT until it execs its last command: a
		 * SIGINT in that window is swallowed by the shell (a race of
		 * dash's, not ours). Signal the tree once it is steady.
		 */
		usleep(300 * 1000);
		proto_msg_init(&msg, PROTO_EXEC_SIGNAL, 0);
		msg.exec_signal.job = res.job;
		msg.exec_signal.signal = i ? SIGINT : SIGTERM;
		msg.exec_signal.group = i;
		id = tinst_send(&t, &msg, NULL, 0);
		tinst_expect_ok(&t, &msg, id, PROTO_EXEC_SIGNAL, 5000);
		proto_msg_free(&msg);
		tinst_exec_wait(&t, &res, 10000);
		CHECK_EQ_INT(res.exit.signal, i ? SIGINT : SIGTERM);
		CHECK(!res.exit.timed_out);
		tinst_job_free(&res);
	}

	/* Nothing is left: no job process, no thread of a server or of a job's stdio. */
	tinst_children(tinst_zygote_pid(&t), kids, sizeof(kids));
	CHECK_EQ_STR(kids, "");
	for (i = 0; i < 100 && tinst_host_threads(&t) != threads; i++)
		usleep(20000);
	CHECK_EQ_INT(tinst_host_threads(&t), threads);

	/* Several at once; shutdown ends them (SIGTERM) and reports each before its ok. */
	for (i = 0; i < 4; i++) {
		tinst_exec_init(&msg, sleeper);
		tinst_exec_send(&t, &msg, &many[i]);
		CHECK(many[i].job > 0);
	}
	proto_msg_init(&msg, PROTO_SHUTDOWN, 0);
	msg.shutdown.timeout_ms = 2000;
	id = tinst_send(&t, &msg, NULL, 0);
	for (i = 0;;) {
		CHECK(tinst_recv(&t, &msg, 15000) == 0);
		if (msg.type == PROTO_OK && msg.id == id) {
			proto_msg_free(&msg);
			break;
		}
		CHECK_EQ_INT(msg.type, PROTO_EXEC_EXIT);
		CHECK_EQ_INT(msg.exec_exit.signal, SIGTERM);
		i++;
		proto_msg_free(&msg);
	}
	CHECK_EQ_INT(i, 4);
	tinst_expect_eof(&t, 5000);
	CHECK(tinst_wait_exit(&t, 5000));
	tinst_close(&t);
}

TEST(max_jobs_is_a_limit)
{
	const char *const sleeper[] = { "sleep", "1000", NULL };
	struct tinst_job res[3];
	struct proto_msg msg, cfg, ready;
	struct tinst t;
	int i;

	tinst_require_jobshim();
	tinst_spawn(&t, NULL);
	tinst_hello(&t);
	tinst_configure_init(&t, &cfg);
	cfg.configure.limits.max_jobs = 2;
	tinst_boot(&t, &cfg, NULL, 0, &ready);
	proto_msg_free(&ready);
	for (i = 0; i < 3; i++) {
		tinst_exec_init(&msg, sleeper);
		tinst_exec_send(&t, &msg, &res[i]);
	}
	CHECK(res[0].job > 0 && res[1].job > 0);
	CHECK_EQ_INT(res[2].error, PROTO_ERR_LIMIT);
	tinst_shutdown_jobs(&t, 2);
}

TEST(echo_to_a_file_is_seen_by_file_get_and_the_next_job_not_the_host)
{
	char path[64], script[160];
	const char *const cat[] = { "cat", path, NULL };
	const char *argv[] = { "sh", "-c", script, NULL };
	enum proto_error_code code;
	struct tinst_job res;
	struct tinst t;
	size_t len;
	char *data;

	tinst_require_jobshim();
	snprintf(path, sizeof(path), "/tmp/shoal-job-%d", (int)getpid());
	snprintf(script, sizeof(script), "echo hello > %s; cat %s", path, path);
	CHECK(access(path, F_OK) < 0);
	tinst_start(&t, NULL, NULL);
	tinst_run_ok(&t, argv, NULL, 30000, "hello\n");
	tinst_run(&t, cat, NULL, 30000, &res);
	CHECK_EQ_STR((char *)res.out[0], "hello\n");
	tinst_job_free(&res);
	data = tinst_get(&t, path, &len, NULL, &code);
	CHECK(data && len == 6 && !memcmp(data, "hello\n", 6));
	free(data);
	CHECK(access(path, F_OK) < 0); /* the host never saw it */
	tinst_shutdown(&t);
}

TEST(pipeline_and_exit_codes_pass_through)
{
	const char *const pipeline[] = { "sh", "-c", "seq 1 200000 | sort -n | tail -1", NULL };
	const char *const code[] = { "sh", "-c", "exit 42", NULL };
	const char *const stdin_cat[] = { "cat", NULL };
	struct tinst_job res;
	struct tinst t;

	tinst_require_jobshim();
	tinst_start(&t, NULL, NULL);
	tinst_run_ok(&t, pipeline, NULL, 60000, "200000\n");
	tinst_run(&t, code, NULL, 30000, &res);
	CHECK_EQ_INT(res.exit.exit_code, 42);
	CHECK_EQ_INT(res.exit.signal, -1);
	tinst_job_free(&res);
	tinst_run(&t, stdin_cat, "from stdin\n", 30000, &res);
	CHECK_EQ_STR((char *)res.out[0], "from stdin\n");
	tinst_job_free(&res);
	tinst_shutdown(&t);
}

TEST_TIMEOUT(python_files_and_modules, 120)
{
	const char *const py[] = { "python3", "-c",
				   "import json, os, hashlib\n"
				   "os.makedirs('/tmp/py', exist_ok=True)\n"
				   "open('/tmp/py/a.json', 'w').write(json.dumps({'k': 1}))\n"
				   "print(sorted(os.listdir('/tmp/py')))\n"
				   "d = json.load(open('/tmp/py/a.json'))\n"
				   "print(d['k'], hashlib.sha256(b'shoal').hexdigest()[:8])\n",
				   NULL };
	struct tinst t;

	tinst_require_jobshim();
	tinst_start(&t, NULL, NULL);
	tinst_run_ok(&t, py, NULL, 90000, "['a.json']\n1 888696c3\n");
	tinst_shutdown(&t);
}

TEST(escape_attempts_fail_as_a_program_sees_them)
{
	const char *const shadow[] = { "cat", "/etc/shadow", NULL };
	const char *const usr[] = { "sh", "-c", "echo x > /usr/shoal-escape", NULL };
	const char *const py[] = { "python3", "-c",
				   "import ctypes, os\n"
				   "libc = ctypes.CDLL(None, use_errno=True)\n"
				   "r = libc.ptrace(0, 0, 0, 0)\n"
				   "print('ptrace', r, os.strerror(ctypes.get_errno()))\n"
				   "r = libc.mount(b'none', b'/mnt', b'tmpfs', 0, None)\n"
				   "print('mount', r, os.strerror(ctypes.get_errno()))\n",
				   NULL };
	struct tinst_job res;
	struct tinst t;

	tinst_require_jobshim();
	tinst_start(&t, NULL, NULL);
	tinst_run(&t, shadow, NULL, 30000, &res);
	CHECK(res.exit.exit_code != 0);
	CHECK(strstr((char *)res.out[1], "No such file") ||
	      strstr((char *)res.out[1], "Permission denied"));
	tinst_job_free(&res);
	tinst_run(&t, usr, NULL, 30000, &res);
	CHECK(res.exit.exit_code != 0);
	CHECK(strstr((char *)res.out[1], "Read-only") ||
	      strstr((char *)res.out[1], "Permission denied"));
	tinst_job_free(&res);
	CHECK(access("/usr/shoal-escape", F_OK) < 0);
	tinst_run(&t, py, NULL, 60000, &res);
	CHECK(strstr((char *)res.out[0], "ptrace -1 Operation not permitted") != NULL);
	CHECK(strstr((char *)res.out[0], "mount -1 Operation not permitted") != NULL);
	tinst_job_free(&res);
	tinst_shutdown(&t);
}

TEST(timeout_kills_the_job_and_the_next_one_runs)
{
	const char *const sleeper[] = { "sh", "-c", "sleep 1000 & sleep 1000", NULL };
	const char *const echo[] = { "echo", "next", NULL };
	struct tinst_job res;
	struct proto_msg msg;
	struct tinst t;

	tinst_require_jobshim();
	tinst_start(&t, NULL, NULL);
	tinst_exec_init(&msg, sleeper);
	msg.exec.timeout_ms = 500;
	tinst_exec_send(&t, &msg, &res);
	CHECK(res.job > 0);
	tinst_exec_wait(&t, &res, 10000);
	CHECK(res.exit.timed_out);
	CHECK_EQ_INT(res.exit.signal, 9);
	CHECK(res.exit.duration_us >= 500000 && res.exit.duration_us < 5000000);
	tinst_job_free(&res);
	tinst_run(&t, echo, NULL, 30000, &res);
	CHECK_EQ_STR((char *)res.out[0], "next\n");
	tinst_job_free(&res);
	tinst_shutdown(&t);
}

TEST(output_past_the_cap_is_counted_and_flagged)
{
	const char *const big[] = { "sh", "-c", "seq 1 100000; seq 1 10 >&2", NULL };
	struct tinst_job res;
	struct proto_msg msg;
	struct tinst t;

	tinst_require_jobshim();
	tinst_start(&t, NULL, NULL);
	tinst_exec_init(&msg, big);
	msg.exec.output_cap = 1000;
	tinst_exec_send(&t, &msg, &res);
	tinst_exec_wait(&t, &res, 30000);
	CHECK_EQ_INT(res.exit.exit_code, 0);
	CHECK_EQ_INT(res.len[0], 1000);
	CHECK(res.exit.stdout_truncated);
	CHECK_EQ_INT(res.exit.stdout_bytes, 588895); /* bytes of `seq 1 100000` */
	CHECK(!res.exit.stderr_truncated);
	CHECK_EQ_INT(res.len[1], 21);
	tinst_job_free(&res);
	tinst_shutdown(&t);
}

TEST(signals_are_reported_and_exec_signal_reaches_the_job)
{
	const char *const segv[] = { "sh", "-c", "kill -SEGV $$", NULL };
	const char *const sleeper[] = { "sleep", "1000", NULL };
	struct tinst_job res;
	struct proto_msg msg;
	struct tinst t;
	uint64_t id;

	tinst_require_jobshim();
	tinst_start(&t, NULL, NULL);
	tinst_run(&t, segv, NULL, 30000, &res);
	CHECK_EQ_INT(res.exit.signal, 11);
	CHECK_EQ_INT(res.exit.exit_code, -1);
	CHECK(!res.exit.timed_out);
	tinst_job_free(&res);

	tinst_exec_init(&msg, sleeper);
	tinst_exec_send(&t, &msg, &res);
	CHECK(res.job > 0);
	proto_msg_init(&msg, PROTO_EXEC_SIGNAL, 0);
	msg.exec_signal.job = res.job;
	msg.exec_signal.signal = SIGTERM;
	id = tinst_send(&t, &msg, NULL, 0);
	tinst_expect_ok(&t, &msg, id, PROTO_EXEC_SIGNAL, 5000);
	proto_msg_free(&msg);
	tinst_exec_wait(&t, &res, 10000);
	CHECK_EQ_INT(res.exit.signal, SIGTERM);
	tinst_job_free(&res);
	tinst_shutdown(&t);
}

TEST(shutdown_ends_running_jobs_first)
{
	const char *const sleeper[] = { "sleep", "1000", NULL };
	struct tinst_job res[3];
	struct proto_msg msg;
	struct tinst t;
	int i, exits = 0;
	uint64_t id;

	tinst_require_jobshim();
	tinst_start(&t, NULL, NULL);
	for (i = 0; i < 3; i++) {
		tinst_exec_init(&msg, sleeper);
		tinst_exec_send(&t, &msg, &res[i]);
		CHECK(res[i].job > 0);
	}
	proto_msg_init(&msg, PROTO_SHUTDOWN, 0);
	msg.shutdown.timeout_ms = 1000;
	id = tinst_send(&t, &msg, NULL, 0);
	for (;;) {
		CHECK(tinst_recv(&t, &msg, 15000) == 0);
		if (msg.type == PROTO_EXEC_EXIT) {
			CHECK_EQ_INT(msg.exec_exit.signal, SIGTERM);
			exits++;
		} else if (msg.type == PROTO_OK && msg.id == id) {
			proto_msg_free(&msg);
			break;
		}
		proto_msg_free(&msg);
	}
	CHECK_EQ_INT(exits, 3);
	tinst_expect_eof(&t, 5000);
	CHECK(tinst_wait_exit(&t, 5000));
	tinst_close(&t);
}

TEST(jobs_outlive_the_supervisor_and_are_adopted)
{
	const char *const sleeper[] = { "sleep", "1000", NULL };
	const char *const brief[] = { "sh", "-c", "sleep 0.3; exit 7", NULL };
	struct shoal_error err = { 0 };
	struct tinst_job a, b;
	struct proto_msg msg, ready;
	struct sockaddr_un addr;
	socklen_t len;
	struct tinst t;
	uint64_t id;
	int ls;

	tinst_require_jobshim();
	ls = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	CHECK(ls >= 0);
	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	snprintf(addr.sun_path + 1, sizeof(addr.sun_path) - 1, "shoal-test-jobs-adopt-%d",
		 (int)getpid());
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(addr.sun_path + 1));
	CHECK(bind(ls, (struct sockaddr *)&addr, len) == 0 && listen(ls, 4) == 0);
	tinst_spawn(&t, NULL);
	tinst_hello(&t);
	tinst_configure_init(&t, &msg);
	msg.configure.keep_on_supervisor_exit = true;
	msg.configure.adopt_listen_fd = 0;
	msg.configure.adopt_wait_ms = 20000;
	tinst_boot(&t, &msg, &ls, 1, &ready);
	proto_msg_free(&ready);
	close(ls);
	tinst_exec_init(&msg, sleeper);
	tinst_exec_send(&t, &msg, &a);
	tinst_exec_init(&msg, brief);
	tinst_exec_send(&t, &msg, &b);
	CHECK(a.job > 0 && b.job > 0);

	/* The supervisor leaves; one job ends meanwhile. */
	tinst_close(&t);
	usleep(1500 * 1000);
	t.sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	CHECK(t.sock >= 0 && connect(t.sock, (struct sockaddr *)&addr, len) == 0);
	CHECK(channel_setup(t.sock, &err) == 0);
	tinst_expect(&t, &msg, PROTO_HELLO, 5000);
	proto_msg_free(&msg);
	proto_msg_init(&msg, PROTO_HELLO, 0);
	msg.hello.version = PROTO_VERSION;
	msg.hello.role = PROTO_ROLE_DAEMON;
	tinst_send(&t, &msg, NULL, 0);
	t.next_id = 1;
	proto_msg_init(&msg, PROTO_ADOPT, 0);
	msg.adopt.instance_id = t.id;
	id = tinst_send(&t, &msg, NULL, 0);
	tinst_expect_ok(&t, &msg, id, PROTO_ADOPT, 5000);
	/* The one still running is listed; the other's exec_exit was kept and follows. */
	CHECK_EQ_INT(msg.ok.adopt.njobs, 1);
	CHECK_EQ_INT(msg.ok.adopt.jobs[0], a.job);
	proto_msg_free(&msg);
	tinst_expect(&t, &msg, PROTO_EXEC_EXIT, 5000);
	CHECK_EQ_INT(msg.exec_exit.job, b.job);
	CHECK_EQ_INT(msg.exec_exit.exit_code, 7);
	proto_msg_free(&msg);
	tinst_shutdown_jobs(&t, 1);
}

TEST_TIMEOUT(stdin_stream_big_output_and_jobs_at_once, 120)
{
	const char *const cat[] = { "cat", NULL };
	const char *const big[] = { "seq", "1", "1000000", NULL };
	/*
	 * Four pipelines that fork (sh, seq, wc) at once. Each waits for its
	 * stdin's end first, so that all four have started (their ok received)
	 * before any writes: the test's exec helper skips other jobs' messages
	 * while it waits for an ok.
	 */
	const char *const count[] = { "sh", "-c", "read x; seq 1 20000 | wc -l; echo done >&2",
				      NULL };
	struct tinst_job res, many[4];
	struct proto_msg msg;
	struct tinst t;
	int i, exited = 0;

	tinst_require_jobshim();
	tinst_start(&t, NULL, NULL);

	/* stdin fed by exec_input, ended by eof. */
	tinst_exec_init(&msg, cat);
	msg.exec.stdin_stream = true;
	tinst_exec_send(&t, &msg, &res);
	CHECK(res.job > 0);
	for (i = 0; i < 3; i++) {
		proto_msg_init(&msg, PROTO_EXEC_INPUT, 0);
		msg.exec_input.job = res.job;
		msg.exec_input.data.data = (const unsigned char *)"chunk\n";
		msg.exec_input.data.len = 6;
		msg.exec_input.eof = i == 2;
		tinst_send(&t, &msg, NULL, 0);
	}
	tinst_exec_wait(&t, &res, 30000);
	CHECK_EQ_INT(res.exit.exit_code, 0);
	CHECK_EQ_STR((char *)res.out[0], "chunk\nchunk\nchunk\n");
	tinst_job_free(&res);

	/* 6.9 MB of output, in order, every byte. */
	tinst_run(&t, big, NULL, 60000, &res);
	CHECK_EQ_INT(res.exit.exit_code, 0);
	CHECK_EQ_INT(res.len[0], 6888896);
	CHECK(!memcmp(res.out[0] + res.len[0] - 8, "1000000\n", 8));
	tinst_job_free(&res);

	/* Four at once; their output and ends interleave, each is complete.
	 * Each waits for its stdin's end, so that all four have started
	 * (their ok received) before any writes. */
	for (i = 0; i < 4; i++) {
		tinst_exec_init(&msg, count);
		msg.exec.stdin_stream = true;
		tinst_exec_send(&t, &msg, &many[i]);
		CHECK(many[i].job > 0);
	}
	for (i = 0; i < 4; i++) {
		proto_msg_init(&msg, PROTO_EXEC_INPUT, 0);
		msg.exec_input.job = many[i].job;
		msg.exec_input.eof = true;
		tinst_send(&t, &msg, NULL, 0);
	}
	while (exited < 4) {
		CHECK(tinst_recv(&t, &msg, 30000) == 0);
		for (i = 0; i < 4; i++) {
			struct tinst_job *j = &many[i];
			int s;

			if (msg.type == PROTO_EXEC_OUTPUT && msg.exec_output.job == j->job) {
				s = msg.exec_output.stream == PROTO_STREAM_STDERR;
				CHECK_EQ_INT(msg.exec_output.offset, j->len[s]);
				j->out[s] = realloc(j->out[s],
						    j->len[s] + msg.exec_output.data.len + 1);
				memcpy(j->out[s] + j->len[s], msg.exec_output.data.data,
				       msg.exec_output.data.len);
				j->len[s] += msg.exec_output.data.len;
				j->out[s][j->len[s]] = 0;
			} else if (msg.type == PROTO_EXEC_EXIT && msg.exec_exit.job == j->job) {
				fprintf(stderr, "job %llu: exit %d, %llu/%llu bytes out/err\n",
					(unsigned long long)j->job, msg.exec_exit.exit_code,
					(unsigned long long)msg.exec_exit.stdout_bytes,
					(unsigned long long)msg.exec_exit.stderr_bytes);
				CHECK_EQ_INT(msg.exec_exit.exit_code, 0);
				exited++;
			}
		}
		proto_msg_free(&msg);
	}
	for (i = 0; i < 4; i++) {
		CHECK_EQ_STR((char *)many[i].out[0], "20000\n");
		CHECK_EQ_STR((char *)many[i].out[1], "done\n");
		tinst_job_free(&many[i]);
	}
	tinst_shutdown(&t);
}

/* Programs that live in the instance: a #! script and a static ELF put there. */
TEST(programs_put_into_the_instance_run_by_their_path)
{
	static const char script[] = "#!/bin/sh\necho from-instance \"$1\"\n";
	const char *const run_script[] = { "/tmp/hello.sh", "x", NULL };
	const char *const run_relative[] = { "./hello.sh", "y", NULL };
	const char *const run_elf[] = { "/tmp/busybox", "echo", "static", NULL };
	const char *const not_exec[] = { "/tmp/data", NULL };
	const char *const missing[] = { "/tmp/nothing", NULL };
	struct tinst_job res;
	struct proto_msg msg;
	struct tinst t;
	void *elf;
	size_t len;
	FILE *f;

	tinst_require_jobshim();
	f = fopen("/bin/busybox", "rb");
	if (!f)
		SKIP("no /bin/busybox (busybox-static)");
	elf = malloc(4 << 20);
	CHECK(elf != NULL);
	len = fread(elf, 1, 4 << 20, f);
	fclose(f);
	tinst_start(&t, NULL, NULL);
	CHECK_EQ_INT(tinst_put(&t, "/tmp/hello.sh", script, sizeof(script) - 1, 0755), PROTO_OK);
	CHECK_EQ_INT(tinst_put(&t, "/tmp/busybox", elf, len, 0755), PROTO_OK);
	CHECK_EQ_INT(tinst_put(&t, "/tmp/data", "x", 1, 0644), PROTO_OK);
	free(elf);

	tinst_run_ok(&t, run_script, NULL, 30000, "from-instance x\n");
	tinst_exec_init(&msg, run_relative);
	msg.exec.cwd = "/tmp";
	tinst_exec_send(&t, &msg, &res);
	CHECK(res.job != 0);
	tinst_exec_wait(&t, &res, 30000);
	CHECK_EQ_STR((char *)res.out[0], "from-instance y\n");
	tinst_job_free(&res);
	tinst_run_ok(&t, run_elf, NULL, 30000, "static\n");
	/* A static glibc program by a relative path: it reads /proc/self/exe,
	 * which must be absolute (glibc asserts it). */
	{
		const char *const probe[] = { "./job-probe", "10", NULL };
		const char *build = getenv("SHOAL_BUILD");
		char path[512];

		snprintf(path, sizeof(path), "%s/tests/bench/job-probe", build ? build : "build");
		f = fopen(path, "rb");
		if (f) {
			elf = malloc(4 << 20);
			CHECK(elf != NULL);
			len = fread(elf, 1, 4 << 20, f);
			fclose(f);
			CHECK_EQ_INT(tinst_put(&t, "/tmp/job-probe", elf, len, 0755), PROTO_OK);
			free(elf);
			tinst_exec_init(&msg, probe);
			msg.exec.cwd = "/tmp";
			tinst_exec_send(&t, &msg, &res);
			CHECK(res.job != 0);
			tinst_exec_wait(&t, &res, 30000);
			CHECK_EQ_INT(res.exit.exit_code, 0);
			CHECK(res.out[0] && strstr((char *)res.out[0], "pipe_call_ns") != NULL);
			tinst_job_free(&res);
		}
	}
	tinst_run(&t, not_exec, NULL, 10000, &res);
	CHECK_EQ_INT(res.error, PROTO_ERR_PERMISSION);
	tinst_run(&t, missing, NULL, 10000, &res);
	CHECK_EQ_INT(res.error, PROTO_ERR_NOT_FOUND);
	tinst_shutdown(&t);
}

/*
 * More ways out, each answered as a program would expect: a host file
 * outside the read-only set is not there (the path is the instance's); a
 * socket is the instance kernel's, so the host's loopback listener is never
 * reached; host processes outside the job cannot be signalled or traced
 * (another pid namespace); libc's raw syscall() is trapped like the rest.
 */
TEST(host_files_sockets_and_processes_are_out_of_reach)
{
	char secret[64], script[1024];
	const char *const cat[] = { "cat", secret, NULL };
	const char *const py[] = { "python3", "-c", script, NULL };
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t salen = sizeof(sa);
	struct tinst_job res;
	struct tinst t;
	int lfd, afd;
	FILE *f;

	tinst_require_jobshim();
	snprintf(secret, sizeof(secret), "/tmp/shoal-secret-%d", (int)getpid());
	f = fopen(secret, "w");
	CHECK(f != NULL);
	fputs("secret\n", f);
	fclose(f);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(lfd >= 0 && bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	      listen(lfd, 8) == 0);
	CHECK(getsockname(lfd, (struct sockaddr *)&sa, &salen) == 0);
	snprintf(script, sizeof(script),
		 "import ctypes, os, socket, errno\n"
		 "s = socket.socket()\n"
		 "s.settimeout(2)\n"
		 "try:\n"
		 "    s.connect(('127.0.0.1', %d)); print('connect ok')\n"
		 "except OSError as e: print('connect', errno.errorcode.get(e.errno, e))\n"
		 "try:\n"
		 "    os.kill(%d, 0); print('kill ok')\n"
		 "except OSError as e: print('kill', errno.errorcode[e.errno])\n"
		 "libc = ctypes.CDLL(None, use_errno=True)\n"
		 "r = libc.syscall(101, 16, %d, 0, 0)\n"
		 "print('attach', r, errno.errorcode[ctypes.get_errno()])\n"
		 "r = libc.syscall(56, 0x40000000 | 17, 0, 0, 0, 0)\n"
		 "print('clone_newnet', r, errno.errorcode[ctypes.get_errno()])\n",
		 ntohs(sa.sin_port), (int)getpid(), (int)getpid());

	tinst_start(&t, NULL, NULL);
	tinst_run(&t, cat, NULL, 30000, &res);
	CHECK(res.exit.exit_code != 0);
	CHECK(strstr((char *)res.out[1], "No such file") != NULL);
	tinst_job_free(&res);
	tinst_run(&t, py, NULL, 60000, &res);
	fprintf(stderr, "%s", (char *)res.out[0]);
	CHECK(strstr((char *)res.out[0], "connect ECONNREFUSED") != NULL);
	CHECK(strstr((char *)res.out[0], "kill ESRCH") != NULL);
	CHECK(strstr((char *)res.out[0], "attach -1 EPERM") != NULL);
	/* The job's deny list (the shim's filter, tests/jobs/test_filter). */
	CHECK(strstr((char *)res.out[0], "clone_newnet -1 EPERM") != NULL);
	tinst_job_free(&res);
	afd = accept(lfd, NULL, NULL);
	CHECK(afd < 0); /* nothing ever reached the host's listener */
	close(lfd);
	unlink(secret);
	tinst_shutdown(&t);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Jobs, from `exec` to `exec_exit`, on the control thread. A job is:
 *
 *  - three kernel pipes in the kernel's process 1 fd table, whose far ends
 *    become the job's fds 0, 1 and 2 (job_io.c moves the bytes);
 *  - a syscall server (job_server.h): the job's region, slots, links and
 *    kernel tasks;
 *  - host processes the jail's zygote starts (jail_zygote.c): a reaper,
 *    pid 1 of the job's own pid namespace, and under it the program,
 *    running under the shim.
 *
 * exec: the request is checked, the pipes and the server made, and the
 * zygote asked to spawn; its answer (JAIL_SPAWNED once the shim runs, or
 * JAIL_SPAWN_FAILED with the reason: a program not found in PATH, ...) is
 * the reply to exec. A failed spawn leaves nothing: the server is destroyed,
 * the pipes closed, the threads joined.
 *
 * exec_exit is sent exactly once, when three things have happened: the
 * reaper ended (JAIL_EXITED: the job's whole process tree is gone with its
 * pid namespace), both output streams reached end of file with every chunk
 * sent, and the server counts no process. If the server still counts one
 * JOB_REAPED_GRACE_US after the reaper ended, it is destroyed, which ends
 * the kernel tasks and so closes their pipe ends.
 *
 * timeout_ms: the reaper is killed (SIGKILL, the whole tree) and the exit
 * says timed_out with signal 9. exec_signal goes through the zygote to the
 * job's first process or its process group.
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <skl.h>

#include "api/log.h"
#include "instance/instance.h"
#include "instance/job_server.h"

/* Output moves to the control queue only while it holds less than this. */
#define JOB_PUMP_QUEUE (512u << 10)
/* After the reaper ended, the server's processes get this long to be counted gone. */
#define JOB_REAPED_GRACE_US 2000000
/* malloc arenas for the instance's threads (see job_init). */
#define JOB_MALLOC_ARENAS 1
/* After SIGKILL at shutdown, how long the jobs get to be reported. */
#define JOB_KILL_WAIT_MS 3000

enum job_state {
	JOB_SPAWNING, /* asked the zygote; exec not answered yet */
	JOB_RUNNING, /* exec answered ok */
	JOB_ABANDONED, /* exec_exit sent at shutdown; released after the kernel halts */
};

struct job {
	struct job *next;
	uint64_t id;
	uint64_t exec_id; /* the exec request, answered at JAIL_SPAWNED / SPAWN_FAILED */
	enum job_state state;
	struct job_server *server;
	struct job_io *io; /* from JAIL_SPAWNED on */
	int kfd[3]; /* until then: stdin's write end, stdout's and stderr's read ends */
	struct proto_bytes stdin_data; /* a copy, for job_io_start() */
	bool stdin_stream;
	uint64_t output_cap;
	uint32_t timeout_ms;
	uint64_t t_start_us, deadline_us, reaped_us;
	bool reaped, killed, timed_out;
	bool kicked; /* the stdio threads were told that every process is gone */
	int status; /* the first process's wait status, once reaped */
};

/* An exec_exit that found no supervisor: kept for the next one (PROTOCOL.md, section 8). */
struct job_kept_exit {
	struct job_kept_exit *next;
	struct proto_exec_exit exit;
};

struct jobs {
	int wake_fd; /* host eventfd: job_io.c's threads wake the control loop */
	struct job_kept_exit *kept, **kept_tail;
	struct job *list;
	uint64_t next_id;
	uint32_t count;
};

static const char *const job_default_env[] = {
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
	"HOME=/root",
	"LANG=C.UTF-8",
};

int job_init(struct instance *in, struct shoal_error *err)
{
	struct jobs *j = calloc(1, sizeof(*j));

	if (!j)
		return shoal_error_set(err, ENOMEM, "jobs");
	/* Made now: eventfd2 is not in the seccomp allow-list for the instance's own use. */
	j->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (j->wake_fd < 0) {
		free(j);
		return shoal_error_set(err, errno, "jobs: eventfd");
	}
	j->next_id = 1;
	j->kept_tail = &j->kept;
	in->jobs = j;
	/*
	 * Jobs bring threads (stdio, serving), and glibc's thread arenas make
	 * host calls the lock-down forbids: a thread that finds every arena
	 * busy counts the CPUs (opens /sys/devices/system/cpu/online), and a
	 * free() that shrinks a thread arena's heap reads
	 * /proc/sys/vm/overcommit_memory the first time (the control thread
	 * freeing output chunks a reader thread allocated: a rare fatal SIGSYS
	 * under big outputs). One arena, the main one, has neither.
	 */
	mallopt(M_ARENA_MAX, JOB_MALLOC_ARENAS);
	return 0;
}

uint32_t job_count(struct instance *in)
{
	return in->jobs ? in->jobs->count : 0;
}

static struct job *job_find(struct instance *in, uint64_t id)
{
	struct job *j;

	for (j = in->jobs ? in->jobs->list : NULL; j; j = j->next)
		if (j->id == id)
			return j;
	return NULL;
}

static void job_close_kfds(int *k, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (k[i] >= 0)
			skl_sys_close((unsigned int)k[i]);
}

/* Unlink and free @job; its server and stdio end here (threads joined). */
static void job_free(struct instance *in, struct job *job)
{
	struct job **p;

	for (p = &in->jobs->list; *p; p = &(*p)->next)
		if (*p == job) {
			*p = job->next;
			break;
		}
	in->jobs->count--;
	/* The server first: ending the kernel tasks closes the pipes' far ends. */
	job_server_destroy(job->server);
	job_io_destroy(job->io);
	job_close_kfds(job->kfd, 3);
	free((void *)job->stdin_data.data);
	free(job);
}

/*
 * Is argv[0] a program in the instance rather than on the host's read-only
 * directories? The shim's routing (instance/jobshim/route.c) decides where a
 * path resolves: these prefixes are the host's, every other absolute path
 * and every relative one (the cwd is in the instance) is the instance's.
 */
static bool job_path_in_instance(const char *p)
{
	static const char *const host[] = { "/usr",   "/bin",	"/sbin",   "/lib",
					    "/lib32", "/lib64", "/libx32", "/etc" };
	size_t i, n;

	if (!strchr(p, '/'))
		return false; /* a name: looked up in PATH, on the host */
	if (p[0] != '/')
		return true;
	for (i = 0; i < sizeof(host) / sizeof(host[0]); i++) {
		n = strlen(host[i]);
		if (!strncmp(p, host[i], n) && (p[n] == '/' || p[n] == 0))
			return false;
	}
	return true;
}

/* A program in the instance: a regular file someone may execute, seen from @cwd. */
static int job_check_instance_program(const char *cwd, const char *prog, char *why, size_t size)
{
	struct skl_stat st;
	long fd, r;

	fd = skl_sys_openat(SKL_AT_FDCWD, cwd, SKL_O_RDONLY | SKL_O_DIRECTORY | SKL_O_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(why, size, "exec: cwd '%.100s': %s", cwd, strerror((int)-fd));
		return (int)fd;
	}
	r = skl_sys_newfstatat((int)fd, prog, &st, 0);
	if (!r && !SKL_S_ISREG(st.st_mode))
		r = -SKL_EACCES;
	if (!r)
		r = skl_sys_faccessat((int)fd, prog, 1 /* X_OK: no uapi name */);
	skl_sys_close((unsigned int)fd);
	if (r < 0)
		snprintf(why, size, "exec: argv[0] '%.100s' in the instance: %s", prog,
			 r == -SKL_ENOENT ? "no such program" : strerror((int)-r));
	return (int)r;
}

void job_exec(struct instance *in, uint64_t id, const struct proto_exec *req)
{
	struct jobs *jobs = in->jobs;
	struct shoal_error err = { 0 };
	const char *const *env = req->has_env ? req->env : job_default_env;
	size_t nenv = req->has_env ? req->nenv : sizeof(job_default_env) / sizeof(char *);
	int p_in[2] = { -1, -1 }, p_out[2] = { -1, -1 }, p_err[2] = { -1, -1 };
	int link_fd = -1, region_fd = -1, r;
	bool in_instance;
	struct job *job;
	char text[256];
	long k;

	if (!jobs || !in->jail_up) {
		snprintf(text, sizeof(text), "exec: this instance cannot run jobs: %s",
			 in->jail_why[0] ? in->jail_why : "no jail");
		control_send_error(in, id, -EOPNOTSUPP, text);
		return;
	}
	if (jobs->count >= in->config.configure.limits.max_jobs) {
		snprintf(text, sizeof(text), "exec: %u jobs are running (limits.max_jobs)",
			 jobs->count);
		control_send_error(in, id, -EAGAIN, text);
		return;
	}
	in_instance = job_path_in_instance(req->argv[0]);
	if (in_instance) {
		r = job_check_instance_program(req->cwd ? req->cwd : "/", req->argv[0], text,
					       sizeof(text));
		if (r < 0) {
			control_send_error(in, id, r, text);
			return;
		}
	}
	job = calloc(1, sizeof(*job));
	if (!job) {
		control_send_error(in, id, -ENOMEM, "exec: job state");
		return;
	}
	job->kfd[0] = job->kfd[1] = job->kfd[2] = -1;

	/* The job's stdio: pipes in the kernel, the job's ends become its 0, 1, 2. */
	k = skl_sys_pipe2(p_in, SKL_O_CLOEXEC);
	if (!k)
		k = skl_sys_pipe2(p_out, SKL_O_CLOEXEC);
	if (!k)
		k = skl_sys_pipe2(p_err, SKL_O_CLOEXEC);
	if (k < 0) {
		r = shoal_error_set(&err, (int)k, "exec: kernel pipes");
		goto fail_pipes;
	}
	r = job_server_create(in, req->cwd, p_in[0], p_out[1], p_err[1], &job->server, &link_fd,
			      &region_fd, &err);
	/* The server holds its own copies now (or failed): ours would keep EOF away. */
	job_close_kfds((int[]){ p_in[0], p_out[1], p_err[1] }, 3);
	p_in[0] = p_out[1] = p_err[1] = -1;
	if (r < 0)
		goto fail_pipes;
	job->kfd[0] = p_in[1];
	job->kfd[1] = p_out[0];
	job->kfd[2] = p_err[0];
	p_in[1] = p_out[0] = p_err[0] = -1;
	if (req->stdin_data.data && req->stdin_data.len) {
		void *copy = malloc(req->stdin_data.len);

		if (!copy) {
			r = shoal_error_set(&err, ENOMEM, "exec: stdin");
			goto fail_spawn;
		}
		memcpy(copy, req->stdin_data.data, req->stdin_data.len);
		job->stdin_data.data = copy;
		job->stdin_data.len = req->stdin_data.len;
	}
	job->stdin_stream = req->stdin_stream;
	job->output_cap = req->output_cap;
	job->id = jobs->next_id++;
	r = jail_spawn(in, job->id, req->argv, req->argc, env, nenv, link_fd, region_fd,
		       in_instance);
	close(link_fd);
	close(region_fd);
	link_fd = region_fd = -1;
	if (r < 0) {
		shoal_error_set(&err, r, "exec: ask the jail to spawn");
		goto fail_spawn;
	}
	job->exec_id = id;
	job->state = JOB_SPAWNING;
	job->timeout_ms = req->timeout_ms;
	job->t_start_us = instance_now_us();
	job->next = jobs->list;
	jobs->list = job;
	jobs->count++;
	return;

fail_spawn:
	job_server_destroy(job->server);
	job_close_kfds(job->kfd, 3);
	free((void *)job->stdin_data.data);
	free(job);
	control_send_error(in, id, r, err.msg);
	return;
fail_pipes:
	job_close_kfds(p_in, 2);
	job_close_kfds(p_out, 2);
	job_close_kfds(p_err, 2);
	if (link_fd >= 0)
		close(link_fd);
	if (region_fd >= 0)
		close(region_fd);
	job_server_destroy(job->server);
	free(job);
	control_send_error(in, id, r, err.msg);
}

void job_input(struct instance *in, const struct proto_exec_input *input)
{
	struct job *job = job_find(in, input->job);

	/* Input for a job that has no stream stdin or has ended is dropped. */
	if (job && job->io && job->state != JOB_ABANDONED)
		job_io_input(job->io, input->data.data, input->data.data ? input->data.len : 0,
			     input->eof);
}

void job_signal(struct instance *in, uint64_t id, const struct proto_exec_signal *req)
{
	struct job *job = job_find(in, req->job);
	struct proto_msg ok;
	char text[96];
	int r;

	if (!job || job->reaped || job->state == JOB_ABANDONED) {
		snprintf(text, sizeof(text), "exec_signal: no running job %llu",
			 (unsigned long long)req->job);
		control_send_error(in, id, -ESRCH, text);
		return;
	}
	r = jail_signal(in, job->id, req->signal, req->group);
	if (r < 0) {
		control_send_error(in, id, r, "exec_signal: the jail is gone");
		return;
	}
	proto_msg_init_ok(&ok, id, PROTO_EXEC_SIGNAL);
	control_send(in, &ok);
}

/* The zygote's answer to a spawn. */
static void job_spawned(struct instance *in, struct job *job, const struct jail_msg *m)
{
	struct shoal_error err = { 0 };
	struct proto_msg ok;
	char text[sizeof(m->text) + 16];
	int r;

	if (job->state != JOB_SPAWNING)
		return;
	if (m->op == JAIL_SPAWN_FAILED) {
		snprintf(text, sizeof(text), "exec: %.*s", (int)sizeof(m->text) - 1, m->text);
		control_send_error(in, job->exec_id, -m->err, text);
		job_free(in, job);
		return;
	}
	job->state = JOB_RUNNING;
	job->t_start_us = instance_now_us();
	job->deadline_us = job->t_start_us + (uint64_t)job->timeout_ms * 1000;
	/*
	 * The stdio threads start now that a program runs: a spawn that fails
	 * never made a thread. If they cannot start, the job is killed and
	 * ends as usual.
	 */
	r = job_io_start(&job->io, job->kfd[0], job->kfd[1], job->kfd[2], job->output_cap,
			 &job->stdin_data, job->stdin_stream, in->jobs->wake_fd, &err);
	job->kfd[0] = job->kfd[1] = job->kfd[2] = -1;
	if (r < 0) {
		shoal_log_error("job %llu: %s; killing it", (unsigned long long)job->id, err.msg);
		job->killed = true;
		jail_kill(in, job->id);
	}
	proto_msg_init_ok(&ok, job->exec_id, PROTO_EXEC);
	ok.ok.exec.job = job->id;
	control_send(in, &ok);
}

static void job_reaped(struct job *job, int status)
{
	job->reaped = true;
	job->status = status;
	job->reaped_us = instance_now_us();
	job_io_kick(job->io);
}

/* Everything the zygote said; its end ends every job (the reapers die with it). */
static void job_read_jail(struct instance *in)
{
	struct jail_msg m;
	struct job *job, *next;
	int r;

	while (in->jail_up && (r = jail_read(in, &m)) != -EAGAIN) {
		if (r == -ECONNRESET)
			break;
		job = job_find(in, m.job);
		if (!job)
			continue;
		if (m.op == JAIL_SPAWNED || m.op == JAIL_SPAWN_FAILED)
			job_spawned(in, job, &m);
		else if (m.op == JAIL_EXITED && !job->reaped)
			job_reaped(job, m.status);
	}
	if (in->jail_up)
		return;
	for (job = in->jobs->list; job; job = next) {
		struct jail_msg gone = { .op = JAIL_SPAWN_FAILED, .err = EIO };

		next = job->next;
		snprintf(gone.text, sizeof(gone.text), "the jail's zygote ended");
		if (job->state == JOB_SPAWNING)
			job_spawned(in, job, &gone);
		else if (!job->reaped)
			job_reaped(job, SIGKILL);
	}
}

static void job_send_exit(struct instance *in, struct job *job)
{
	uint64_t written[2] = { 0, 0 };
	bool truncated[2] = { false, false };
	struct proto_msg msg;

	if (job->io)
		job_io_counts(job->io, written, truncated);
	proto_msg_init(&msg, PROTO_EXEC_EXIT, 0);
	msg.exec_exit.job = job->id;
	if (WIFEXITED(job->status)) {
		msg.exec_exit.exit_code = WEXITSTATUS(job->status);
		msg.exec_exit.signal = -1;
	} else {
		msg.exec_exit.exit_code = -1;
		msg.exec_exit.signal = WIFSIGNALED(job->status) ? WTERMSIG(job->status) : SIGKILL;
	}
	/* Killed at timeout_ms: signal 9. One that exited first keeps its own end. */
	msg.exec_exit.timed_out = job->timed_out && msg.exec_exit.signal == SIGKILL;
	msg.exec_exit.duration_us = job->reaped_us - job->t_start_us;
	msg.exec_exit.stdout_bytes = written[0];
	msg.exec_exit.stderr_bytes = written[1];
	msg.exec_exit.stdout_truncated = truncated[0];
	msg.exec_exit.stderr_truncated = truncated[1];
	if (!control_connected(in)) {
		struct job_kept_exit *k = malloc(sizeof(*k));

		if (k) {
			k->next = NULL;
			k->exit = msg.exec_exit;
			*in->jobs->kept_tail = k;
			in->jobs->kept_tail = &k->next;
		}
		return;
	}
	control_send(in, &msg);
}

void job_adopt_result(struct instance *in, struct proto_adopt_result *res)
{
	struct job *job;

	res->njobs = 0;
	for (job = in->jobs ? in->jobs->list : NULL; job && res->njobs < PROTO_JOBS_MAX;
	     job = job->next)
		if (job->state == JOB_RUNNING)
			res->jobs[res->njobs++] = job->id;
}

void job_send_kept(struct instance *in)
{
	struct proto_msg msg;

	while (in->jobs && in->jobs->kept) {
		struct job_kept_exit *k = in->jobs->kept;

		in->jobs->kept = k->next;
		proto_msg_init(&msg, PROTO_EXEC_EXIT, 0);
		msg.exec_exit = k->exit;
		control_send(in, &msg);
		free(k);
	}
	if (in->jobs)
		in->jobs->kept_tail = &in->jobs->kept;
}

static void job_check(struct instance *in);
static void job_pump_output(struct instance *in);

/*
 * Output to the control queue while it has room; chunks keep their order per
 * stream. Then the jobs whose last chunk this was can end: nothing else
 * would wake the loop for them (a job's exit waited forever, now and then,
 * behind its last output chunk).
 */
void job_pump(struct instance *in)
{
	job_pump_output(in);
	if (in->jobs)
		job_check(in);
}

static void job_pump_output(struct instance *in)
{
	struct job *job;

	for (job = in->jobs ? in->jobs->list : NULL; job; job = job->next) {
		enum proto_exec_stream stream;
		uint64_t offset;
		void *data;
		size_t len;

		while (job->io && job->state != JOB_ABANDONED &&
		       control_queued(in) < JOB_PUMP_QUEUE &&
		       job_io_next(job->io, &stream, &offset, &data, &len)) {
			struct proto_msg msg;

			proto_msg_init(&msg, PROTO_EXEC_OUTPUT, 0);
			msg.exec_output.job = job->id;
			msg.exec_output.stream = stream;
			msg.exec_output.offset = offset;
			msg.exec_output.data.data = data;
			msg.exec_output.data.len = len;
			if (control_connected(in))
				control_send(in, &msg); /* else dropped (section 8) */
			job_io_chunk_free(data);
		}
	}
}

/* Output is waiting for room in the control queue: the loop asks for POLLOUT. */
bool job_want_pump(struct instance *in)
{
	struct job *job;

	for (job = in->jobs ? in->jobs->list : NULL; job; job = job->next)
		if (job->io && job->state != JOB_ABANDONED && job_io_pending(job->io))
			return true;
	return false;
}

/* Deadlines, and the end of each job whose three conditions hold. */
static void job_check(struct instance *in)
{
	uint64_t now = instance_now_us();
	struct job *job, *next;

	for (job = in->jobs->list; job; job = next) {
		int procs;

		next = job->next;
		if (job->state != JOB_RUNNING)
			continue;
		if (!job->reaped && !job->killed && now >= job->deadline_us) {
			job->killed = job->timed_out = true;
			jail_kill(in, job->id);
		}
		if (!job->reaped)
			continue;
		procs = job->server ? job_server_processes(job->server) : 0;
		if (procs > 0 && now >= job->reaped_us + JOB_REAPED_GRACE_US) {
			shoal_log_warn("job %llu: %d processes still counted %d s after its end; "
				       "destroying its server",
				       (unsigned long long)job->id, procs,
				       JOB_REAPED_GRACE_US / 1000000);
			job_server_destroy(job->server);
			job->server = NULL;
			procs = 0;
		}
		if (procs > 0)
			continue;
		if (!job->kicked) {
			/* The last pipe ends closed with the tasks: end of file is there now. */
			job->kicked = true;
			job_io_kick(job->io);
		}
		/*
		 * Every writer is gone with the job's tasks, so end of file is
		 * due; should it not come (a pipe end leaked into another
		 * task), the job still ends, its readers stopped.
		 */
		if (job->io && !job_io_eof(job->io)) {
			if (now < job->reaped_us + 2 * JOB_REAPED_GRACE_US)
				continue;
			shoal_log_warn("job %llu: no end of file on its output %d s after its end",
				       (unsigned long long)job->id,
				       2 * JOB_REAPED_GRACE_US / 1000000);
		} else if (job->io && !job_io_done(job->io)) {
			continue; /* output still waits for the control queue */
		}
		job_send_exit(in, job);
		job_free(in, job);
	}
}

size_t job_poll_max(struct instance *in)
{
	return in->jobs ? 2 + in->jobs->count : 0;
}

size_t job_poll_fds(struct instance *in, struct pollfd *pfd, size_t max)
{
	struct job *job;
	size_t n = 0;

	if (!in->jobs)
		return 0;
	if (in->jail_up && n < max)
		pfd[n++] = (struct pollfd){ .fd = in->jail_fd, .events = POLLIN };
	if (n < max)
		pfd[n++] = (struct pollfd){ .fd = in->jobs->wake_fd, .events = POLLIN };
	for (job = in->jobs->list; job && n < max; job = job->next)
		if (job->server)
			pfd[n++] = (struct pollfd){ .fd = job_server_event_fd(job->server),
						    .events = POLLIN };
	return n;
}

void job_poll_done(struct instance *in, const struct pollfd *pfd, size_t n)
{
	uint64_t v;
	struct job *job;

	(void)pfd;
	(void)n;
	if (!in->jobs)
		return;
	/* Level-triggered and cheap: reset every wake-up, then look at every job. */
	if (read(in->jobs->wake_fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: nothing from the stdio threads this time */
	}
	for (job = in->jobs->list; job; job = job->next)
		if (job->server && read(job_server_event_fd(job->server), &v, sizeof(v)) < 0) {
			/* EAGAIN: no change in its processes */
		}
	job_read_jail(in);
	job_pump(in);
}

uint64_t job_next_deadline_us(struct instance *in)
{
	uint64_t next = UINT64_MAX, now = instance_now_us(), d;
	struct job *job;

	for (job = in->jobs ? in->jobs->list : NULL; job; job = job->next) {
		if (job->state != JOB_RUNNING)
			continue;
		if (!job->reaped && !job->killed)
			d = job->deadline_us;
		else if (job->reaped && job->server && job_server_processes(job->server) > 0)
			d = job->reaped_us + JOB_REAPED_GRACE_US;
		else if (job->reaped && job->io && !job_io_eof(job->io))
			d = job->reaped_us + 2 * JOB_REAPED_GRACE_US;
		else
			continue;
		d = d > now ? d - now : 0;
		if (d < next)
			next = d;
	}
	return next;
}

/* Serve job events only (the control loop is stopped) until no job is left or @ms pass. */
static void job_wait(struct instance *in, uint32_t ms)
{
	uint64_t end = instance_now_us() + (uint64_t)ms * 1000;
	struct pollfd pfd[2 + PROTO_JOBS_MAX];

	while (in->jobs->list) {
		uint64_t now = instance_now_us(), wait;
		size_t n;

		if (now >= end)
			return;
		wait = end - now;
		if (job_next_deadline_us(in) < wait)
			wait = job_next_deadline_us(in);
		n = job_poll_fds(in, pfd, sizeof(pfd) / sizeof(pfd[0]));
		poll(pfd, n, (int)((wait + 999) / 1000));
		job_poll_done(in, pfd, n);
		control_flush(in, 0);
	}
}

void job_stop_all(struct instance *in, uint32_t grace_ms)
{
	struct job *job;

	if (!in->jobs || !in->jobs->list)
		return;
	shoal_log_info("ending %u jobs", in->jobs->count);
	for (job = in->jobs->list; job; job = job->next)
		if (job->state == JOB_RUNNING && !job->reaped)
			jail_signal(in, job->id, SIGTERM, true);
	job_wait(in, grace_ms);
	for (job = in->jobs->list; job; job = job->next)
		if (!job->reaped) {
			job->killed = true;
			jail_kill(in, job->id);
		}
	job_wait(in, JOB_KILL_WAIT_MS);
	/*
	 * Whatever is left could not be ended in time (a zygote that does not
	 * answer): reported as killed now, released after the kernel halts,
	 * when no thread can be blocked in it any more.
	 */
	for (job = in->jobs->list; job; job = job->next) {
		if (job->state == JOB_SPAWNING)
			control_send_error(in, job->exec_id, -ECANCELED,
					   "exec: the instance is shutting down");
		else if (job->state == JOB_RUNNING) {
			if (!job->reaped)
				job_reaped(job, SIGKILL);
			job_send_exit(in, job);
		}
		job->state = JOB_ABANDONED;
	}
}

void job_release_all(struct instance *in)
{
	while (in->jobs && in->jobs->list)
		job_free(in, in->jobs->list);
}

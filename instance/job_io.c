// SPDX-License-Identifier: GPL-2.0
/*
 * A job's stdio, between the instance kernel's pipes and the control
 * channel. The job's fds 0, 1 and 2 are kernel pipes; the instance holds
 * the other ends in the kernel's process 1 fd table. A blocking kernel read
 * holds its thread, so each output stream has a reader thread, and stdin,
 * when there is any, a writer thread; the control thread never blocks on a
 * job. Threads make their kernel calls on tasks of the kernel's process 1.
 *
 * The pipes are non-blocking and an idle thread waits on the host, 1 ms
 * doubling to JOB_IO_IDLE_MAX_MS, or until the job's end kicks it. Two
 * reasons: a thread blocked in a kernel pipe read while the job's task
 * exited wedged the library kernel (fixed in kernel-lib 9f467d1; blocking
 * reads pass the same tests since), and a read that never blocks lets
 * job_io_destroy() end a reader whose pipe end leaked somewhere, instead
 * of hanging the control thread in the join.
 *
 * Output: a reader takes up to 64 KiB at a time (one exec_output chunk) and
 * queues it for the control thread, which sends it (job.c) and is woken
 * through an eventfd. Past output_cap, bytes are read, counted and dropped,
 * so the job never blocks on a full pipe. Below the cap a stream queues at
 * most JOB_IO_QUEUE_MAX bytes: past that its reader waits, the pipe fills,
 * and the job waits for the supervisor, as a program waits for a slow
 * terminal.
 */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <skl.h>

#include "instance/instance.h"

#define JOB_IO_QUEUE_MAX (1u << 20)
#define JOB_IO_IDLE_MAX_MS 32
/* A stdio thread's stack: its buffer is on the heap; 8 MiB each would be address space wasted. */
#define JOB_IO_STACK (256u << 10)

struct job_io_chunk {
	struct job_io_chunk *next;
	size_t len;
	unsigned char data[];
};

struct job_io_stream {
	struct job_io *io;
	int kfd; /* read end in the kernel, or -1 */
	pthread_t thread;
	bool started, eof;
	uint64_t written; /* bytes the job wrote, past the cap too */
	uint64_t kept; /* bytes queued for sending (at most the cap) */
	uint64_t sent; /* bytes handed to the control thread: the next offset */
	bool truncated;
	struct job_io_chunk *head, *tail;
	size_t queued;
};

struct job_io {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_cond_t idle; /* CLOCK_MONOTONIC: idle threads wait here */
	unsigned int kicks;
	int wake_fd; /* host eventfd of the control loop */
	uint64_t cap;
	bool stopping;
	struct job_io_stream out[2]; /* stdout, stderr */
	/* stdin: chunks for the writer thread, then end of file. */
	int in_kfd;
	pthread_t in_thread;
	bool in_started, in_eof, in_closed;
	struct job_io_chunk *in_head, *in_tail;
};

static void job_io_wake(struct job_io *io)
{
	uint64_t one = 1;

	if (write(io->wake_fd, &one, sizeof(one)) < 0) {
		/* The counter is saturated: the control loop is awake anyway. */
	}
}

/*
 * Wait on the host, a little longer each time nothing came (see the top),
 * or until job_io_kick(): the job's end is then seen at once.
 */
static void job_io_idle(struct job_io *io, int *ms)
{
	struct timespec until;
	unsigned int kicks;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_nsec += (long)*ms * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&io->lock);
	kicks = io->kicks;
	while (io->kicks == kicks && !io->stopping &&
	       pthread_cond_timedwait(&io->idle, &io->lock, &until) == 0)
		;
	if (io->kicks != kicks)
		*ms = 1;
	else if (*ms < JOB_IO_IDLE_MAX_MS)
		*ms *= 2;
	pthread_mutex_unlock(&io->lock);
}

void job_io_kick(struct job_io *io)
{
	if (!io)
		return;
	pthread_mutex_lock(&io->lock);
	io->kicks++;
	pthread_cond_broadcast(&io->idle);
	pthread_mutex_unlock(&io->lock);
}

static struct job_io_chunk *job_io_chunk_new(const void *data, size_t len)
{
	struct job_io_chunk *c = malloc(sizeof(*c) + len);

	if (!c)
		return NULL;
	c->next = NULL;
	c->len = len;
	memcpy(c->data, data, len);
	return c;
}

static void *job_io_reader(void *arg)
{
	struct job_io_stream *s = arg;
	struct job_io *io = s->io;
	char *buf = malloc(PROTO_CHUNK_MAX);
	int idle_ms = 1;
	long n;

	for (;;) {
		pthread_mutex_lock(&io->lock);
		while (s->queued >= JOB_IO_QUEUE_MAX && !io->stopping)
			pthread_cond_wait(&io->cond, &io->lock);
		pthread_mutex_unlock(&io->lock);
		if (!buf)
			break;
		n = skl_sys_read((unsigned int)s->kfd, buf, PROTO_CHUNK_MAX);
		if (n == -EAGAIN) {
			if (__atomic_load_n(&io->stopping, __ATOMIC_ACQUIRE))
				break; /* torn down with the job's writers still open */
			job_io_idle(io, &idle_ms);
			continue;
		}
		if (n == -EINTR)
			continue;
		if (n <= 0)
			break; /* end of file, or the kernel halted (-ENODEV) */
		idle_ms = 1;
		pthread_mutex_lock(&io->lock);
		s->written += (uint64_t)n;
		if (s->kept < io->cap) {
			uint64_t room = io->cap - s->kept;
			size_t keep = (uint64_t)n < room ? (size_t)n : (size_t)room;
			struct job_io_chunk *c = job_io_chunk_new(buf, keep);

			if (c) {
				if (s->tail)
					s->tail->next = c;
				else
					s->head = c;
				s->tail = c;
				s->queued += keep;
				s->kept += keep;
			}
			if (keep < (size_t)n || !c)
				s->truncated = true;
		} else {
			s->truncated = true;
		}
		pthread_mutex_unlock(&io->lock);
		job_io_wake(io);
	}
	free(buf);
	pthread_mutex_lock(&io->lock);
	s->eof = true;
	pthread_mutex_unlock(&io->lock);
	job_io_wake(io);
	return NULL;
}

static void *job_io_writer(void *arg)
{
	struct job_io *io = arg;
	bool broken = false;
	int idle_ms = 1;

	for (;;) {
		struct job_io_chunk *c;
		size_t off = 0;

		pthread_mutex_lock(&io->lock);
		while (!io->in_head && !io->in_eof && !io->stopping)
			pthread_cond_wait(&io->cond, &io->lock);
		c = io->in_head;
		if (c) {
			io->in_head = c->next;
			if (!io->in_head)
				io->in_tail = NULL;
		}
		pthread_mutex_unlock(&io->lock);
		if (!c)
			break; /* end of input, or the job is being torn down */
		/* A job that closed its stdin (EPIPE): the rest is dropped, as for a pipe. */
		while (!broken && off < c->len) {
			long n = skl_sys_write((unsigned int)io->in_kfd, (char *)c->data + off,
					       c->len - off);

			if (n == -EAGAIN) {
				if (__atomic_load_n(&io->stopping, __ATOMIC_ACQUIRE))
					broken = true;
				else
					job_io_idle(io, &idle_ms);
				continue;
			}
			if (n == -EINTR)
				continue;
			if (n <= 0) {
				broken = true;
			} else {
				off += (size_t)n;
				idle_ms = 1;
			}
		}
		free(c);
	}
	skl_sys_close((unsigned int)io->in_kfd);
	pthread_mutex_lock(&io->lock);
	io->in_closed = true;
	pthread_mutex_unlock(&io->lock);
	return NULL;
}

int job_io_start(struct job_io **out, int kin, int kout, int kerr, uint64_t cap,
		 const struct proto_bytes *stdin_data, bool stdin_stream, int wake_fd,
		 struct shoal_error *err)
{
	struct job_io *io = calloc(1, sizeof(*io));
	pthread_condattr_t cattr;
	pthread_attr_t attr;
	int i, r;

	*out = io;
	if (!io) {
		skl_sys_close((unsigned int)kin);
		skl_sys_close((unsigned int)kout);
		skl_sys_close((unsigned int)kerr);
		return shoal_error_set(err, ENOMEM, "exec: stdio state");
	}
	pthread_mutex_init(&io->lock, NULL);
	pthread_cond_init(&io->cond, NULL);
	pthread_condattr_init(&cattr);
	pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC);
	pthread_cond_init(&io->idle, &cattr);
	pthread_condattr_destroy(&cattr);
	io->wake_fd = wake_fd;
	io->cap = cap;
	/* Non-blocking, on our ends only: O_NONBLOCK is per open file, the job's ends stay
	 * blocking. */
	skl_sys_fcntl((unsigned int)kin, SKL_F_SETFL, SKL_O_NONBLOCK);
	skl_sys_fcntl((unsigned int)kout, SKL_F_SETFL, SKL_O_NONBLOCK);
	skl_sys_fcntl((unsigned int)kerr, SKL_F_SETFL, SKL_O_NONBLOCK);
	io->in_kfd = kin;
	io->out[0].kfd = kout;
	io->out[1].kfd = kerr;
	*out = io;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, JOB_IO_STACK);
	for (i = 0; i < 2; i++) {
		io->out[i].io = io;
		r = pthread_create(&io->out[i].thread, &attr, job_io_reader, &io->out[i]);
		if (r) {
			/* The job is killed; its unread streams count as ended. */
			for (; i < 2; i++)
				io->out[i].eof = true;
			pthread_attr_destroy(&attr);
			return shoal_error_set(err, r, "exec: start an output reader");
		}
		io->out[i].started = true;
	}
	if (stdin_data->data && stdin_data->len) {
		io->in_head = io->in_tail = job_io_chunk_new(stdin_data->data, stdin_data->len);
		if (!io->in_head) {
			pthread_attr_destroy(&attr);
			return shoal_error_set(err, ENOMEM, "exec: stdin");
		}
	}
	if (!stdin_stream)
		io->in_eof = true;
	if (!io->in_head && io->in_eof) {
		/* Nothing to write: the job sees end of file at once. */
		skl_sys_close((unsigned int)kin);
		io->in_closed = true;
		pthread_attr_destroy(&attr);
		return 0;
	}
	r = pthread_create(&io->in_thread, &attr, job_io_writer, io);
	pthread_attr_destroy(&attr);
	if (r)
		return shoal_error_set(err, r, "exec: start the stdin writer");
	io->in_started = true;
	return 0;
}

void job_io_input(struct job_io *io, const void *data, size_t len, bool eof)
{
	struct job_io_chunk *c = len ? job_io_chunk_new(data, len) : NULL;

	pthread_mutex_lock(&io->lock);
	if (io->in_eof || !io->in_started) {
		pthread_mutex_unlock(&io->lock);
		free(c); /* stdin is not a stream, or it ended: dropped */
		return;
	}
	if (c) {
		if (io->in_tail)
			io->in_tail->next = c;
		else
			io->in_head = c;
		io->in_tail = c;
	}
	if (eof)
		io->in_eof = true;
	pthread_cond_broadcast(&io->cond);
	pthread_mutex_unlock(&io->lock);
}

bool job_io_next(struct job_io *io, enum proto_exec_stream *stream, uint64_t *offset, void **data,
		 size_t *len)
{
	struct job_io_chunk *c = NULL;
	int i;

	pthread_mutex_lock(&io->lock);
	for (i = 0; i < 2 && !c; i++) {
		struct job_io_stream *s = &io->out[i];

		c = s->head;
		if (!c)
			continue;
		s->head = c->next;
		if (!s->head)
			s->tail = NULL;
		s->queued -= c->len;
		*stream = i ? PROTO_STREAM_STDERR : PROTO_STREAM_STDOUT;
		*offset = s->sent;
		s->sent += c->len;
	}
	if (c)
		pthread_cond_broadcast(&io->cond);
	pthread_mutex_unlock(&io->lock);
	if (!c)
		return false;
	/* The chunk header stays in front of the data: the caller frees the chunk. */
	*data = c->data;
	*len = c->len;
	return true;
}

void job_io_chunk_free(void *data)
{
	if (data)
		free((char *)data - offsetof(struct job_io_chunk, data));
}

bool job_io_pending(struct job_io *io)
{
	bool pending;

	pthread_mutex_lock(&io->lock);
	pending = io->out[0].head || io->out[1].head;
	pthread_mutex_unlock(&io->lock);
	return pending;
}

bool job_io_eof(struct job_io *io)
{
	bool eof;

	pthread_mutex_lock(&io->lock);
	eof = io->out[0].eof && io->out[1].eof;
	pthread_mutex_unlock(&io->lock);
	return eof;
}

bool job_io_done(struct job_io *io)
{
	bool done;

	pthread_mutex_lock(&io->lock);
	done = io->out[0].eof && io->out[1].eof && !io->out[0].head && !io->out[1].head;
	pthread_mutex_unlock(&io->lock);
	return done;
}

void job_io_counts(struct job_io *io, uint64_t written[2], bool truncated[2])
{
	int i;

	pthread_mutex_lock(&io->lock);
	for (i = 0; i < 2; i++) {
		written[i] = io->out[i].written;
		truncated[i] = io->out[i].truncated;
	}
	pthread_mutex_unlock(&io->lock);
}

/*
 * Join the threads and close the kernel fds. The readers must have reached
 * end of file (job_io_done) or the kernel must have halted (their reads
 * return -ENODEV); a stdin writer still waiting for input is told to stop,
 * and one blocked writing gets EPIPE once the job's tasks are gone.
 */
void job_io_destroy(struct job_io *io)
{
	int i;

	if (!io)
		return;
	pthread_mutex_lock(&io->lock);
	io->stopping = true;
	pthread_cond_broadcast(&io->cond);
	pthread_cond_broadcast(&io->idle);
	pthread_mutex_unlock(&io->lock);
	for (i = 0; i < 2; i++) {
		struct job_io_stream *s = &io->out[i];

		if (s->started)
			pthread_join(s->thread, NULL);
		if (s->kfd >= 0)
			skl_sys_close((unsigned int)s->kfd);
		while (s->head) {
			struct job_io_chunk *c = s->head;

			s->head = c->next;
			free(c);
		}
	}
	if (io->in_started)
		pthread_join(io->in_thread, NULL);
	else if (!io->in_closed && io->in_kfd >= 0)
		skl_sys_close((unsigned int)io->in_kfd);
	while (io->in_head) {
		struct job_io_chunk *c = io->in_head;

		io->in_head = c->next;
		free(c);
	}
	pthread_mutex_destroy(&io->lock);
	pthread_cond_destroy(&io->cond);
	pthread_cond_destroy(&io->idle);
	free(io);
}

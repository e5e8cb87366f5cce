// SPDX-License-Identifier: GPL-2.0
/*
 * File streams (`file_put`, `file_get`, `file_chunk`, `file_end`): files move
 * between the supervisor and the instance kernel's file systems in chunks of
 * at most 64 KiB, named by the id of the request that opened the stream. All
 * file access is through system calls into the instance kernel (skl_sys_*),
 * so a path can only ever name a file of the instance: the decoder has
 * already refused paths that are not canonical ('..', '//', relative), and
 * symbolic links resolve inside the instance's own tree.
 *
 * An upload is written to a temporary file next to its target and renamed
 * over it at `file_end`, so a failed or abandoned upload leaves the old file,
 * or nothing; it is refused up front when it cannot fit in the kernel's free
 * memory (tmpfs lives in it). It is answered exactly once. A download is
 * answered `ok` with its size first; its chunks are then produced one at a
 * time, only while the control queue is short (files_pump()), so a large
 * download never fills memory and never keeps the control loop from reading.
 * Files that report 0 bytes but have content (procfs, sysfs) are read whole,
 * up to 1 MiB, before the answer, so that the size announced is the truth.
 * At most FILES_STREAMS_MAX (16) streams are open at once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <skl.h>

#include "api/log.h"
#include "instance/instance.h"

#define FILES_STREAMS_MAX 16
/* Kernel memory an upload must leave free. */
#define FILES_RESERVE_BYTES (8u << 20)
/* Files that report 0 bytes (procfs, sysfs) are read whole, up to this. */
#define FILES_SNAPSHOT_MAX (1 << 20)

enum files_kind {
	FILES_NONE = 0,
	FILES_PUT,
	FILES_GET,
};

struct files_stream {
	enum files_kind kind;
	uint64_t id;
	long fd; /* in the instance kernel */
	uint64_t size, offset;
	uint32_t mode;
	char path[PROTO_PATH_MAX + 1];
	char tmp[PROTO_PATH_MAX + 1]; /* uploads: the temporary file */
	unsigned char *snapshot; /* downloads of files that say 0 bytes (procfs): the content */
};

struct files {
	struct files_stream streams[FILES_STREAMS_MAX];
	unsigned int next; /* round robin among downloads */
	unsigned char buf[PROTO_CHUNK_MAX];
};

int files_create(struct instance *in)
{
	in->files = calloc(1, sizeof(*in->files));
	return in->files ? 0 : -ENOMEM;
}

static struct files_stream *files_find(struct instance *in, uint64_t id)
{
	size_t i;

	for (i = 0; i < FILES_STREAMS_MAX; i++)
		if (in->files->streams[i].kind != FILES_NONE && in->files->streams[i].id == id)
			return &in->files->streams[i];
	return NULL;
}

static struct files_stream *files_slot(struct instance *in, uint64_t id, struct shoal_error *err)
{
	size_t i;

	if (files_find(in, id)) {
		shoal_error_set(err, 0, "stream %llu is already open", (unsigned long long)id);
		return NULL;
	}
	for (i = 0; i < FILES_STREAMS_MAX; i++)
		if (in->files->streams[i].kind == FILES_NONE)
			return &in->files->streams[i];
	shoal_error_set(err, EAGAIN, "%d file streams are open already", FILES_STREAMS_MAX);
	return NULL;
}

static void files_close(struct files_stream *s)
{
	if (s->fd >= 0)
		skl_sys_close((unsigned int)s->fd);
	if (s->kind == FILES_PUT && s->tmp[0])
		skl_sys_unlinkat(SKL_AT_FDCWD, s->tmp, 0);
	free(s->snapshot);
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}

/* mkdir -p of @path's parent directories, mode 0755. */
static int files_make_parents(const char *path, struct shoal_error *err)
{
	char buf[PROTO_PATH_MAX + 1];
	char *slash;

	snprintf(buf, sizeof(buf), "%s", path);
	for (slash = strchr(buf + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
		long r;

		*slash = 0;
		r = skl_sys_mkdirat(SKL_AT_FDCWD, buf, 0755);
		*slash = '/';
		if (r < 0 && r != -SKL_EEXIST)
			return shoal_error_set(err, (int)r, "file_put %s: create parent", path);
	}
	return 0;
}

int files_put_begin(struct instance *in, uint64_t id, const struct proto_file_put *req,
		    struct shoal_error *err)
{
	struct files_stream *s;
	struct skl_sysinfo si;
	struct skl_stat st;
	uint64_t free_bytes;
	const char *base;
	long r;

	if (!strcmp(req->path, "/"))
		return shoal_error_set(err, EISDIR, "file_put /");
	s = files_slot(in, id, err);
	if (!s)
		return -err->err;
	r = skl_sys_sysinfo(&si);
	if (r < 0)
		return shoal_error_set(err, (int)r, "file_put %s: sysinfo", req->path);
	free_bytes = (uint64_t)si.freeram * (si.mem_unit ? si.mem_unit : 1);
	if (req->size + FILES_RESERVE_BYTES > free_bytes)
		return shoal_error_set(err, ENOSPC,
				       "file_put %s: %llu bytes do not fit in the instance's %llu "
				       "free bytes of memory",
				       req->path, (unsigned long long)req->size,
				       (unsigned long long)free_bytes);
	if (req->parents) {
		r = files_make_parents(req->path, err);
		if (r < 0)
			return (int)r;
	}
	r = skl_sys_newfstatat(SKL_AT_FDCWD, req->path, &st, 0);
	if (r == 0 && SKL_S_ISDIR(st.st_mode))
		return shoal_error_set(err, EISDIR, "file_put %s", req->path);

	base = strrchr(req->path, '/');
	if (snprintf(s->tmp, sizeof(s->tmp), "%.*s/.shoal-put-%llu", (int)(base - req->path),
		     req->path, (unsigned long long)id) >= (int)sizeof(s->tmp)) {
		s->tmp[0] = 0;
		return shoal_error_set(err, ENAMETOOLONG, "file_put %s", req->path);
	}
	r = skl_sys_openat(SKL_AT_FDCWD, s->tmp,
			   SKL_O_WRONLY | SKL_O_CREAT | SKL_O_EXCL | SKL_O_CLOEXEC, 0600);
	if (r < 0) {
		s->tmp[0] = 0;
		return shoal_error_set(err, (int)r, "file_put %s", req->path);
	}
	s->kind = FILES_PUT;
	s->id = id;
	s->fd = r;
	s->size = req->size;
	s->offset = 0;
	s->mode = req->mode;
	snprintf(s->path, sizeof(s->path), "%s", req->path);
	return 0;
}

/* End upload @s with an error reply. */
static void files_put_fail(struct instance *in, struct files_stream *s, int r, const char *text)
{
	shoal_log_debug("file_put %s failed: %s", s->path, text);
	control_send_error(in, s->id, r, text);
	files_close(s);
}

void files_chunk(struct instance *in, const struct proto_file_chunk *chunk)
{
	struct files_stream *s = files_find(in, chunk->stream);
	struct shoal_error err = { 0 };
	size_t off = 0;

	if (!s || s->kind != FILES_PUT)
		return; /* in flight after the stream ended: dropped (PROTOCOL.md) */
	if (chunk->offset != s->offset) {
		shoal_error_set(&err, 0, "file_put %s: chunk at offset %llu, expected %llu",
				s->path, (unsigned long long)chunk->offset,
				(unsigned long long)s->offset);
		files_put_fail(in, s, -EINVAL, err.msg);
		return;
	}
	if (chunk->offset + chunk->data.len > s->size) {
		shoal_error_set(&err, EFBIG, "file_put %s: more than the announced %llu bytes",
				s->path, (unsigned long long)s->size);
		files_put_fail(in, s, -EFBIG, err.msg);
		return;
	}
	while (off < chunk->data.len) {
		long r = skl_sys_write((unsigned int)s->fd, (char *)chunk->data.data + off,
				       chunk->data.len - off);

		if (r <= 0) {
			shoal_error_set(&err, r < 0 ? (int)r : EIO, "file_put %s: write", s->path);
			files_put_fail(in, s, r < 0 ? (int)r : -EIO, err.msg);
			return;
		}
		off += (size_t)r;
	}
	s->offset += chunk->data.len;
}

static void files_put_finish(struct instance *in, struct files_stream *s)
{
	struct shoal_error err = { 0 };
	struct proto_msg ok;
	long r;

	if (s->offset != s->size) {
		shoal_error_set(&err, 0, "file_put %s: file_end after %llu of %llu bytes", s->path,
				(unsigned long long)s->offset, (unsigned long long)s->size);
		files_put_fail(in, s, -EINVAL, err.msg);
		return;
	}
	r = skl_sys_fchmod((unsigned int)s->fd, (unsigned short)s->mode);
	if (!r)
		r = skl_sys_close((unsigned int)s->fd);
	s->fd = -1;
	if (!r)
		r = skl_sys_renameat2(SKL_AT_FDCWD, s->tmp, SKL_AT_FDCWD, s->path, 0);
	if (r < 0) {
		shoal_error_set(&err, (int)r, "file_put %s", s->path);
		files_put_fail(in, s, (int)r, err.msg);
		return;
	}
	s->tmp[0] = 0; /* renamed: nothing to remove */
	proto_msg_init_ok(&ok, s->id, PROTO_FILE_PUT);
	ok.ok.file_put.size = s->size;
	control_send(in, &ok);
	files_close(s);
}

void files_end(struct instance *in, const struct proto_file_end *end)
{
	struct files_stream *s = files_find(in, end->stream);
	char text[256];

	if (!s)
		return; /* in flight after the stream ended */
	if (s->kind == FILES_GET) {
		files_close(s); /* the supervisor does not want the rest */
		return;
	}
	if (end->has_error) {
		snprintf(text, sizeof(text), "file_put %.128s: abandoned by the supervisor: %.64s",
			 s->path, end->error.message);
		files_put_fail(in, s, -ECANCELED, text);
		return;
	}
	files_put_finish(in, s);
}

/* Read a file that claims 0 bytes into memory (at most FILES_SNAPSHOT_MAX). */
static int files_snapshot(struct files_stream *s, long fd, const char *path,
			  struct shoal_error *err)
{
	size_t len = 0;
	long n = 0;

	s->snapshot = malloc(FILES_SNAPSHOT_MAX + 1);
	if (!s->snapshot)
		return shoal_error_set(err, ENOMEM, "file_get %s", path);
	while (len <= FILES_SNAPSHOT_MAX &&
	       (n = skl_sys_read((unsigned int)fd, (char *)s->snapshot + len,
				 FILES_SNAPSHOT_MAX + 1 - len)) > 0)
		len += (size_t)n;
	if (n < 0 || len > FILES_SNAPSHOT_MAX) {
		free(s->snapshot);
		s->snapshot = NULL;
		if (n < 0)
			return shoal_error_set(err, (int)n, "file_get %s: read", path);
		return shoal_error_set(err, EFBIG, "file_get %s: a generated file over %d bytes",
				       path, FILES_SNAPSHOT_MAX);
	}
	s->size = len;
	return 0;
}

int files_get_begin(struct instance *in, uint64_t id, const struct proto_file_get *req,
		    struct proto_file_get_result *res, struct shoal_error *err)
{
	struct files_stream *s = files_slot(in, id, err);
	struct skl_stat st;
	long fd, r;

	if (!s)
		return -err->err;
	fd = skl_sys_openat(SKL_AT_FDCWD, req->path, SKL_O_RDONLY | SKL_O_CLOEXEC, 0);
	if (fd < 0)
		return shoal_error_set(err, (int)fd, "file_get %s", req->path);
	r = skl_sys_fstat((unsigned int)fd, &st);
	if (r < 0 || !SKL_S_ISREG(st.st_mode) || (uint64_t)st.st_size > PROTO_FILE_SIZE_MAX) {
		skl_sys_close((unsigned int)fd);
		if (r < 0)
			return shoal_error_set(err, (int)r, "file_get %s", req->path);
		if (SKL_S_ISDIR(st.st_mode))
			return shoal_error_set(err, EISDIR, "file_get %s", req->path);
		if (!SKL_S_ISREG(st.st_mode))
			return shoal_error_set(err, 0, "file_get %s: not a regular file",
					       req->path);
		return shoal_error_set(err, EFBIG, "file_get %s: %lld bytes, more than %llu",
				       req->path, (long long)st.st_size,
				       (unsigned long long)PROTO_FILE_SIZE_MAX);
	}
	if (st.st_size == 0) {
		/* procfs and sysfs files say 0 bytes and have more: take them whole. */
		r = files_snapshot(s, fd, req->path, err);
		if (r < 0) {
			skl_sys_close((unsigned int)fd);
			return (int)r;
		}
	} else {
		s->size = (uint64_t)st.st_size;
	}
	s->kind = FILES_GET;
	s->id = id;
	s->fd = fd;
	s->offset = 0;
	snprintf(s->path, sizeof(s->path), "%s", req->path);
	res->size = s->size;
	res->mode = st.st_mode & 07777;
	return 0;
}

/* End download @s: file_end, with an error when @text is set. */
static void files_get_end(struct instance *in, struct files_stream *s, int r, const char *text)
{
	struct proto_msg end;

	proto_msg_init(&end, PROTO_FILE_END, 0);
	end.file_end.stream = s->id;
	if (text) {
		end.file_end.has_error = true;
		end.file_end.error.code = proto_error_code_from_errno(r);
		end.file_end.error.message = text;
	}
	control_send(in, &end);
	files_close(s);
}

bool files_want_pump(struct instance *in)
{
	size_t i;

	for (i = 0; i < FILES_STREAMS_MAX; i++)
		if (in->files->streams[i].kind == FILES_GET)
			return true;
	return false;
}

bool files_pump(struct instance *in)
{
	struct files *f = in->files;
	struct files_stream *s = NULL;
	struct shoal_error err = { 0 };
	struct proto_msg chunk;
	struct skl_stat st;
	size_t i, want;
	long n;

	for (i = 0; i < FILES_STREAMS_MAX && !s; i++) {
		struct files_stream *c = &f->streams[(f->next + i) % FILES_STREAMS_MAX];

		if (c->kind == FILES_GET)
			s = c;
	}
	if (!s)
		return false;
	f->next = (unsigned int)(s - f->streams + 1) % FILES_STREAMS_MAX;

	if (s->offset == s->size) {
		n = skl_sys_fstat((unsigned int)s->fd, &st);
		if (n == 0 && !s->snapshot && (uint64_t)st.st_size != s->size) {
			shoal_error_set(&err, EIO, "file_get %s: the file changed size to %lld",
					s->path, (long long)st.st_size);
			files_get_end(in, s, -EIO, err.msg);
		} else {
			files_get_end(in, s, 0, NULL);
		}
		return true;
	}
	want = s->size - s->offset < PROTO_CHUNK_MAX ? (size_t)(s->size - s->offset)
						     : PROTO_CHUNK_MAX;
	if (s->snapshot) {
		memcpy(f->buf, s->snapshot + s->offset, want);
		n = (long)want;
	} else {
		n = skl_sys_pread64((unsigned int)s->fd, (char *)f->buf, want,
				    (long long)s->offset);
	}
	if (n <= 0) {
		if (n == 0)
			shoal_error_set(&err, EIO, "file_get %s: the file shrank to %llu bytes",
					s->path, (unsigned long long)s->offset);
		else
			shoal_error_set(&err, (int)n, "file_get %s: read", s->path);
		files_get_end(in, s, -EIO, err.msg);
		return true;
	}
	proto_msg_init(&chunk, PROTO_FILE_CHUNK, 0);
	chunk.file_chunk.stream = s->id;
	chunk.file_chunk.offset = s->offset;
	chunk.file_chunk.data.data = f->buf;
	chunk.file_chunk.data.len = (size_t)n;
	s->offset += (uint64_t)n;
	control_send(in, &chunk);
	return true;
}

void files_cancel_all(struct instance *in, bool answer, const char *why)
{
	size_t i;

	for (i = 0; i < FILES_STREAMS_MAX; i++) {
		struct files_stream *s = &in->files->streams[i];

		if (s->kind == FILES_PUT && answer)
			files_put_fail(in, s, -ECANCELED, why);
		else if (s->kind == FILES_GET && answer)
			files_get_end(in, s, -ECANCELED, why);
		else if (s->kind != FILES_NONE)
			files_close(s);
	}
}

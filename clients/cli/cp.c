// SPDX-License-Identifier: GPL-2.0
/*
 * shoal cp: copy one file between the host and an instance, either way, as
 * `docker cp` does: the instance side is written ID:PATH. Uploads are PUT
 * /v1/instances/{id}/files?path=PATH with the raw bytes; downloads are GET of
 * the same, streamed into a temporary file beside the destination and renamed
 * over it only when complete, so an interrupted copy never leaves a torn file
 * where the user expects a whole one. "-" means stdin or stdout. The daemon
 * validates paths (no traversal); the client writes only where it was told.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clients/cli/cli.h"

/* Largest upload read into memory; the daemon caps file sizes far below this. */
#define UPLOAD_MAX (1024u << 20)

static const char cp_help[] =
	"SRC DST\n"
	"\n"
	"Copy a file between the host and an instance. Exactly one side is ID:PATH (ID may\n"
	"be a unique prefix; PATH is absolute in the instance). A host side of '-' is\n"
	"stdin (upload) or stdout (download); a host directory or an instance path ending\n"
	"in '/' gets the source's file name.\n"
	"\n"
	"Uploads keep the host file's permission bits.\n"
	"\n"
	"  shoal cp ./data.csv i-0123456789abcdef:/tmp/data.csv\n"
	"  shoal cp 0123:/tmp/out.txt ./out.txt\n"
	"\n"
	"  -p, --parents        make missing folders of the instance path (upload)\n"
	"  -h, --help           this help\n";

/* Split ID:PATH; a host path with a ':' can be written ./a:b. */
static bool remote_split(const char *arg, char *id, size_t idsize, const char **path)
{
	const char *colon = strchr(arg, ':');
	size_t n;

	if (!colon || colon == arg || memchr(arg, '/', (size_t)(colon - arg)))
		return false;
	n = (size_t)(colon - arg);
	if (n >= idsize)
		return false;
	memcpy(id, arg, n);
	id[n] = '\0';
	*path = colon + 1;
	return true;
}

static int read_all(int fd, char **out, size_t *len)
{
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap);

	while (buf) {
		ssize_t r;

		if (n == cap) {
			char *b;

			if (cap >= UPLOAD_MAX) {
				free(buf);
				return -EFBIG;
			}
			b = realloc(buf, cap * 2);
			if (!b)
				break;
			buf = b;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;

			free(buf);
			return -e;
		}
		if (!r) {
			*out = buf;
			*len = n;
			return 0;
		}
		n += (size_t)r;
	}
	free(buf);
	return -ENOMEM;
}

/* The files URL; @mode < 0 and !@parents leave those parameters out (downloads). */
static int files_path(char *out, size_t size, const char *id, const char *rpath, int mode,
		      bool parents)
{
	char *esc = http_escape(rpath);
	char extra[48] = "";
	int n;

	if (!esc)
		return -ENOMEM;
	if (mode >= 0)
		snprintf(extra, sizeof(extra), "&mode=%o", (unsigned)mode);
	if (parents)
		strcat(extra, "&parents=true");
	n = snprintf(out, size, "/v1/instances/%s/files?path=%s%s", id, esc, extra);
	free(esc);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static int upload(struct shoal_client *c, const char *src, const char *id, const char *rpath,
		  bool parents)
{
	struct stat st;
	int mode = -1;
	struct shoal_error err = { 0 };
	struct http_resp resp;
	struct http_body b = { .content_type = "application/octet-stream" };
	char path[8192], full[4096];
	char *data = NULL;
	size_t len = 0;
	int fd = 0, r;

	if (strcmp(src, "-")) {
		fd = open(src, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			cli_err("cp", "cannot open %s: %s", src, strerror(errno));
			return CLI_EAPI;
		}
		if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
			close(fd);
			cli_err("cp", "%s is a folder; cp copies one file", src);
			return CLI_EAPI;
		}
		if (fstat(fd, &st) == 0)
			mode = st.st_mode & 0777;
	}
	/* An instance path ending in '/' is a folder: the file keeps its name. */
	if (rpath[0] && rpath[strlen(rpath) - 1] == '/' && strcmp(src, "-")) {
		char tmp[4096];

		snprintf(tmp, sizeof(tmp), "%s", src);
		snprintf(full, sizeof(full), "%s%s", rpath, basename(tmp));
		rpath = full;
	}
	r = read_all(fd, &data, &len);
	if (fd > 0)
		close(fd);
	if (r) {
		cli_err("cp", "cannot read %s: %s", src, strerror(-r));
		return CLI_EAPI;
	}
	if (files_path(path, sizeof(path), id, rpath, mode, parents)) {
		free(data);
		return cli_usage_err("cp", "instance path too long");
	}
	b.data = data;
	b.len = len;
	r = http_request(c, "PUT", path, &b, NULL, &resp, &err);
	free(data);
	if (r)
		return cli_transport_err("cp", c, &err);
	if (resp.status < 200 || resp.status >= 300)
		r = cli_api_err("cp", "files (PUT /v1/instances/ID/files)", &resp);
	http_resp_free(&resp);
	return r;
}

static int download(struct shoal_client *c, const char *id, const char *rpath, const char *dst)
{
	struct shoal_error err = { 0 };
	struct http_resp resp;
	struct http_sink sink = { .fd = 1 };
	char path[8192], target[4096], tmp[4200];
	struct stat st;
	bool got;
	int r, fd = -1;

	if (!strcmp(dst, "-")) {
		snprintf(target, sizeof(target), "-");
	} else if (stat(dst, &st) == 0 && S_ISDIR(st.st_mode)) {
		char name[4096];

		snprintf(name, sizeof(name), "%s", rpath);
		snprintf(target, sizeof(target), "%s/%s", dst, basename(name));
	} else {
		snprintf(target, sizeof(target), "%s", dst);
	}
	if (files_path(path, sizeof(path), id, rpath, -1, false))
		return cli_usage_err("cp", "instance path too long");
	if (strcmp(target, "-")) {
		char dir[4096];

		snprintf(dir, sizeof(dir), "%s", target);
		snprintf(tmp, sizeof(tmp), "%s/.shoal-cp-XXXXXX", dirname(dir));
		fd = mkostemp(tmp, O_CLOEXEC);
		if (fd < 0) {
			cli_err("cp", "cannot write in the folder of %s: %s", target,
				strerror(errno));
			return CLI_EAPI;
		}
		sink.fd = fd;
	}
	r = http_request(c, "GET", path, NULL, &sink, &resp, &err);
	got = !r;
	if (r) {
		r = cli_transport_err("cp", c, &err);
	} else if (resp.status < 200 || resp.status >= 300) {
		r = cli_api_err("cp", "files (GET /v1/instances/ID/files)", &resp);
	} else if (fd >= 0) {
		/* Keep the user's umask for the new file, as cp does. */
		mode_t um = umask(0);

		umask(um);
		if (fchmod(fd, 0666 & ~um) || fsync(fd) || rename(tmp, target)) {
			cli_err("cp", "cannot write %s: %s", target, strerror(errno));
			r = CLI_EAPI;
		}
	}
	if (got)
		http_resp_free(&resp);
	if (fd >= 0) {
		close(fd);
		if (r)
			unlink(tmp);
	}
	return r;
}

int cli_cp(struct shoal_client *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "parents", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool parents = false;
	char sid[64], did[64], id[19];
	const char *spath, *dpath;
	bool src_remote, dst_remote;
	int opt, r;

	while ((opt = getopt_long(argc, argv, "ph", opts, NULL)) != -1) {
		if (opt == 'p')
			parents = true;
		else if (opt == 'h')
			return cli_verb_help("cp", cp_help);
		else
			return cli_try_help("cp");
	}
	if (argc - optind != 2)
		return cli_usage_err("cp", "want SRC and DST, one of them ID:PATH");
	src_remote = remote_split(argv[optind], sid, sizeof(sid), &spath);
	dst_remote = remote_split(argv[optind + 1], did, sizeof(did), &dpath);
	if (src_remote == dst_remote)
		return cli_usage_err("cp", "exactly one of SRC and DST must be ID:PATH");
	if (!*(src_remote ? spath : dpath))
		return cli_usage_err("cp", "the instance path is empty");
	r = cli_resolve_id(c, "cp", src_remote ? sid : did, id);
	if (r)
		return r;
	if (src_remote)
		return download(c, id, spath, argv[optind + 1]);
	return upload(c, argv[optind], id, dpath, parents);
}

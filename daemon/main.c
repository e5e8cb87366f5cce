// SPDX-License-Identifier: GPL-2.0
/*
 * shoald's entry point: parse the command line, open the store in the state
 * directory, move into the daemon's network namespace (netman.c), bind the API
 * socket, and run the one libuv loop until SIGTERM or SIGINT. Stopping is ordered so that nothing
 * is left behind: instances are stopped first (their rows end as destroyed), then the HTTP server
 * closes its connections, then the socket file is removed, the network namespace's name removed and
 * the store closed, and the loop ends with no handle open.
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api/log.h"
#include "daemon/shoald.h"

struct shoald_config shoald_config = {
	.socket_path = "/run/shoal/shoald.sock",
	.state_dir = "/var/lib/shoal",
	.subnet = "198.18.0.0/16",
	.netns = "shoal",
	.max_instances = 256,
	.max_connections = 256,
	.veth_pool = 4,
};

static uv_loop_t *main_loop;
static uv_signal_t main_sigterm, main_sigint;
static bool main_stopping;
static unsigned int main_stop_waits; /* instances and the veth pool, each done once */

int64_t shoald_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void main_usage(FILE *f)
{
	fprintf(f,
		"usage: shoald [--socket PATH] [--state-dir DIR] [--subnet CIDR] [--netns NAME]\n"
		"              [--max-instances N] [--max-connections N]\n"
		"              [--log-format text|json] [--log-level error|warn|info|debug]\n"
		"              [--instance-bin PATH] [--image-dir DIR]\n"
		"              [--warm-pool N] [--veth-pool N]\n"
		"              [--tcp-port PORT --token-file PATH]\n");
}

#define MAIN_TOKEN_MIN 16
#define MAIN_TOKEN_MAX 4096

/*
 * The bearer token of the TCP listener: the file's content without trailing
 * white space, 16..4096 printable bytes, in a file that only its owner may
 * read (a token others can read protects nothing).
 */
static int main_read_token(const char *path, char *token, size_t size, struct shoal_error *err)
{
	struct stat st;
	ssize_t n;
	size_t i;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return shoal_error_set(err, errno, "--token-file %s", path);
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || (st.st_mode & 077)) {
		close(fd);
		return shoal_error_set(err, 0,
				       "--token-file %s: not a regular file of mode 0600 or "
				       "narrower",
				       path);
	}
	n = read(fd, token, size - 1);
	close(fd);
	if (n < 0)
		return shoal_error_set(err, errno, "read %s", path);
	while (n > 0 && (token[n - 1] == '\n' || token[n - 1] == '\r' || token[n - 1] == ' '))
		n--;
	token[n] = '\0';
	for (i = 0; i < (size_t)n; i++)
		if (token[i] <= ' ' || token[i] > '~')
			break;
	if (n < MAIN_TOKEN_MIN || n > MAIN_TOKEN_MAX || i != (size_t)n)
		return shoal_error_set(err, 0,
				       "--token-file %s: the token must be %d..%d printable "
				       "bytes without spaces",
				       path, MAIN_TOKEN_MIN, MAIN_TOKEN_MAX);
	return 0;
}

/* A listening TCP socket on 127.0.0.1:@port, made here, in the host's namespace. */
static int main_tcp_listen(unsigned int port, int *fd, struct shoal_error *err)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int one = 1, s;

	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s < 0)
		return shoal_error_set(err, errno, "TCP socket");
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) || listen(s, 128)) {
		int e = errno;

		close(s);
		return shoal_error_set(err, e, "listen on 127.0.0.1:%u", port);
	}
	*fd = s;
	return 0;
}

/* mkdir -p for @path itself (@mode for what it makes). */
static int main_mkdirs(const char *path, mode_t mode, struct shoal_error *err)
{
	char buf[PATH_MAX];
	char *s;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return shoal_error_set(err, ENAMETOOLONG, "%s", path);
	for (s = buf + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(buf, 0755) && errno != EEXIST)
			return shoal_error_set(err, errno, "mkdir %s", buf);
		*s = '/';
	}
	if (mkdir(buf, mode) && errno != EEXIST)
		return shoal_error_set(err, errno, "mkdir %s", buf);
	return 0;
}

static void main_closed(void)
{
	unlink(shoald_config.socket_path);
	netman_fini();
	ipam_fini();
	images_fini();
	store_close();
	uv_close((uv_handle_t *)&main_sigterm, NULL);
	uv_close((uv_handle_t *)&main_sigint, NULL);
	shoal_log_info("stopped");
}

/* Instances and the veth pool stop side by side; the server closes once both are done. */
static void main_part_gone(void)
{
	if (--main_stop_waits == 0)
		http_server_stop(main_closed);
}

static void main_signal_cb(uv_signal_t *h, int signum)
{
	(void)h;
	if (main_stopping)
		return;
	main_stopping = true;
	shoal_log_info("signal %d: stopping every instance, then the server", signum);
	main_stop_waits = 2;
	vethpool_stop(main_part_gone);
	instances_shutdown(main_part_gone);
}

static bool main_parse_uint(const char *s, unsigned int min, unsigned int max, unsigned int *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v < min || v > max)
		return false;
	*out = (unsigned int)v;
	return true;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "state-dir", required_argument, NULL, 'd' },
		{ "max-instances", required_argument, NULL, 'm' },
		{ "max-connections", required_argument, NULL, 'c' },
		{ "log-format", required_argument, NULL, 'f' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "instance-bin", required_argument, NULL, 'i' },
		{ "subnet", required_argument, NULL, 'n' },
		{ "netns", required_argument, NULL, 'N' },
		{ "tcp-port", required_argument, NULL, 'p' },
		{ "image-dir", required_argument, NULL, 'I' },
		{ "warm-pool", required_argument, NULL, 'w' },
		{ "veth-pool", required_argument, NULL, 'V' },
		{ "token-file", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum shoal_log_format format = SHOAL_LOG_TEXT;
	enum shoal_log_level level = SHOAL_LOG_INFO;
	struct shoal_error err = { 0 };
	char exe[PATH_MAX], bin[PATH_MAX + 64], db[PATH_MAX], sockdir[PATH_MAX];
	static char token[MAIN_TOKEN_MAX + 2];
	const char *token_file = NULL;
	unsigned int tcp_port = 0;
	int tcp_fd = -1;
	ssize_t n;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			shoald_config.socket_path = optarg;
			break;
		case 'd':
			shoald_config.state_dir = optarg;
			break;
		case 'm':
			if (!main_parse_uint(optarg, 1, 100000, &shoald_config.max_instances)) {
				fprintf(stderr, "shoald: --max-instances %s: not in 1..100000\n",
					optarg);
				return 2;
			}
			break;
		case 'c':
			if (!main_parse_uint(optarg, 1, 100000, &shoald_config.max_connections)) {
				fprintf(stderr, "shoald: --max-connections %s: not in 1..100000\n",
					optarg);
				return 2;
			}
			break;
		case 'f':
			if (!strcmp(optarg, "text")) {
				format = SHOAL_LOG_TEXT;
			} else if (!strcmp(optarg, "json")) {
				format = SHOAL_LOG_JSON;
			} else {
				fprintf(stderr, "shoald: --log-format %s: text or json\n", optarg);
				return 2;
			}
			break;
		case 'l':
			if (shoal_log_level_parse(optarg, &level)) {
				fprintf(stderr,
					"shoald: --log-level %s: error, warn, info or debug\n",
					optarg);
				return 2;
			}
			break;
		case 'i':
			shoald_config.instance_bin = optarg;
			break;
		case 'n':
			shoald_config.subnet = optarg;
			break;
		case 'N':
			shoald_config.netns = optarg;
			break;
		case 'p':
			if (!main_parse_uint(optarg, 1, 65535, &tcp_port)) {
				fprintf(stderr, "shoald: --tcp-port %s: not in 1..65535\n", optarg);
				return 2;
			}
			break;
		case 't':
			token_file = optarg;
			break;
		case 'I':
			shoald_config.image_dir = optarg;
			break;
		case 'w':
			if (!main_parse_uint(optarg, 0, 64, &shoald_config.warm_pool)) {
				fprintf(stderr, "shoald: --warm-pool %s: not in 0..64\n", optarg);
				return 2;
			}
			break;
		case 'V':
			if (!main_parse_uint(optarg, 0, 64, &shoald_config.veth_pool)) {
				fprintf(stderr, "shoald: --veth-pool %s: not in 0..64\n", optarg);
				return 2;
			}
			break;
		case 'h':
			main_usage(stdout);
			return 0;
		default:
			main_usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		main_usage(stderr);
		return 2;
	}
	if (!tcp_port != !token_file) {
		fprintf(stderr, "shoald: --tcp-port and --token-file go together\n");
		return 2;
	}
	shoal_log_setup(2, level, format, "shoald");
	if (ipam_init(shoald_config.subnet, &err)) {
		fprintf(stderr, "shoald: %s\n", err.msg);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);

	if (!shoald_config.instance_bin) {
		/* Beside us in the build tree, or where `make install` puts it. */
		n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		if (n > 0) {
			exe[n] = '\0';
			snprintf(bin, sizeof(bin), "%s/../instance/shoal-instance", dirname(exe));
		}
		shoald_config.instance_bin = (n > 0 && access(bin, X_OK) == 0)
						     ? bin
						     : "/usr/libexec/shoal/shoal-instance";
	}
	if (access(shoald_config.instance_bin, X_OK)) {
		shoal_log_error("instance binary %s: %s", shoald_config.instance_bin,
				strerror(errno));
		return 1;
	}
	snprintf(sockdir, sizeof(sockdir), "%s", shoald_config.socket_path);
	if (main_mkdirs(shoald_config.state_dir, 0700, &err) ||
	    main_mkdirs(dirname(sockdir), 0755, &err)) {
		shoal_log_error("%s", err.msg);
		return 1;
	}
	snprintf(db, sizeof(db), "%s/shoald.db", shoald_config.state_dir);
	if (!shoald_config.image_dir) {
		static char images[PATH_MAX + 8];

		snprintf(images, sizeof(images), "%s/images", shoald_config.state_dir);
		shoald_config.image_dir = images;
	}
	if (images_init(&err)) {
		shoal_log_error("%s", err.msg);
		return 1;
	}
	if (store_open(db, &err)) {
		shoal_log_error("%s", err.msg);
		ipam_fini();
		return 1;
	}
	/* The TCP listener lives in the host's namespace: made before we leave it. */
	if (tcp_port && (main_read_token(token_file, token, sizeof(token), &err) ||
			 main_tcp_listen(tcp_port, &tcp_fd, &err))) {
		shoal_log_error("%s", err.msg);
		ipam_fini();
		store_close();
		return 1;
	}
	/* Before the loop exists, so that no thread of it starts in the host's namespace. */
	if (netman_init(shoald_config.netns, &err)) {
		shoal_log_error("%s", err.msg);
		netman_fini();
		ipam_fini();
		store_close();
		return 1;
	}
	main_loop = uv_default_loop();
	/*
	 * Before the socket exists: whoever sees it may send SIGTERM at once,
	 * and libuv keeps the signal for the loop, which handles it when it runs.
	 */
	uv_signal_init(main_loop, &main_sigterm);
	uv_signal_start(&main_sigterm, main_signal_cb, SIGTERM);
	uv_signal_init(main_loop, &main_sigint);
	uv_signal_start(&main_sigint, main_signal_cb, SIGINT);
	if (instances_init(main_loop, &err) ||
	    http_server_start(main_loop, shoald_config.socket_path, tcp_fd, token, &err)) {
		shoal_log_error("%s", err.msg);
		unlink(shoald_config.socket_path);
		netman_fini();
		ipam_fini();
		store_close();
		return 1;
	}
	/* After instances_init(): its sweep removes an earlier daemon's pool first. */
	vethpool_start(main_loop);
	shoal_log_info("listening on %s (state %s, network namespace %s, pool %s, at most %u "
		       "instances, instance binary %s)",
		       shoald_config.socket_path, shoald_config.state_dir, shoald_config.netns,
		       shoald_config.subnet, shoald_config.max_instances,
		       shoald_config.instance_bin);

	if (tcp_fd >= 0)
		shoal_log_info("also listening on 127.0.0.1:%u (bearer token from %s)", tcp_port,
			       token_file);
	uv_run(main_loop, UV_RUN_DEFAULT);
	if (uv_loop_close(main_loop)) {
		shoal_log_warn("the loop ended with handles still open");
		return 1;
	}
	return 0;
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The control protocol between shoald and shoal-instance (api/PROTOCOL.md is
 * the spec): one JSON object per SOCK_SEQPACKET packet, file descriptors passed
 * beside it with SCM_RIGHTS. This header holds one typed struct per message and
 * the codec both sides share. The decoder is the trust boundary of either
 * process, so it is strict by design: unknown fields, wrong types, missing
 * required fields, out-of-range numbers, over-long strings and arrays, and
 * non-canonical paths are all refused with a message naming the field, and no
 * input can make it crash, leak, recurse deeply or allocate without bound. The
 * encoder applies the same checks, so a message that one side encodes is one
 * that the other side accepts.
 *
 * Nothing here touches a socket (channel.h does) or keeps state between calls:
 * which message may come when is for the two peers to enforce.
 */
#ifndef SHOAL_API_PROTO_H
#define SHOAL_API_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/error.h"

/* The protocol version this code speaks; carried by the first message each way. */
#define PROTO_VERSION 1

/* Limits. PROTOCOL.md states each of them; the decoder enforces every one. */
#define PROTO_MSG_MAX (256 * 1024) /* bytes of JSON text in one packet */
#define PROTO_FDS_MAX 16 /* descriptors passed with one message */
#define PROTO_DEPTH_MAX 8 /* nesting of JSON objects and arrays */
#define PROTO_ID_MAX ((UINT64_C(1) << 53) - 1) /* ids, job ids: exact as a double */
#define PROTO_COUNTER_MAX PROTO_ID_MAX /* byte and packet counters, times in µs */
#define PROTO_VERSION_MAX 65535
#define PROTO_CHUNK_MAX (64 * 1024) /* raw bytes in one file/exec data chunk */
#define PROTO_FILE_SIZE_MAX (UINT64_C(1) << 30) /* one file put or got: 1 GiB */
#define PROTO_PATH_MAX 4095 /* bytes in a path, without the NUL */
#define PROTO_PATH_NAME_MAX 255 /* bytes in one path component */
#define PROTO_TEXT_MAX 4096 /* error and fatal messages */
#define PROTO_INSTANCE_ID_MAX 64
#define PROTO_HOSTNAME_MAX 63
#define PROTO_IFNAME_MAX 15 /* IFNAMSIZ - 1 */
#define PROTO_FSTYPE_MAX 15
#define PROTO_SOFTWARE_MAX 64
#define PROTO_RELEASE_MAX 64
#define PROTO_CMDLINE_MAX 1024
#define PROTO_DISKS_MAX 8
#define PROTO_DNS_MAX 3 /* resolv.conf's MAXNS */
#define PROTO_IFACES_MAX 16
#define PROTO_JOBS_MAX 256 /* jobs running at once in one instance */
#define PROTO_ARGV_MAX 256
#define PROTO_ENV_MAX 256
#define PROTO_ARG_MAX 4096 /* bytes in one argv or env entry */
#define PROTO_EXEC_STRINGS_MAX (64 * 1024) /* bytes of argv and env together */
#define PROTO_STDIN_INLINE_MAX (64 * 1024)
#define PROTO_CONSOLE_MAX (32 * 1024) /* bytes of console text in one reply */
#define PROTO_OUTPUT_CAP_MAX (UINT64_C(1) << 30) /* per stream of one job */
#define PROTO_TIMEOUT_MS_MAX 86400000 /* one day */
#define PROTO_MEMORY_MIB_MIN 4
#define PROTO_MEMORY_MIB_MAX 65536
#define PROTO_SIGNAL_MAX 64

enum proto_type {
	PROTO_NONE = 0, /* not a message: unknown or unreadable type */
	PROTO_HELLO,
	PROTO_OK,
	PROTO_ERROR,
	PROTO_CONFIGURE,
	PROTO_READY,
	PROTO_FILE_PUT,
	PROTO_FILE_GET,
	PROTO_FILE_CHUNK,
	PROTO_FILE_END,
	PROTO_STATS,
	PROTO_CONSOLE,
	PROTO_EXEC,
	PROTO_EXEC_INPUT,
	PROTO_EXEC_OUTPUT,
	PROTO_EXEC_EXIT,
	PROTO_EXEC_SIGNAL,
	PROTO_SHUTDOWN,
	PROTO_ADOPT,
	PROTO_FATAL,
	PROTO_TYPE_COUNT,
};

enum proto_role {
	PROTO_ROLE_DAEMON = 1,
	PROTO_ROLE_INSTANCE,
};

/* An instance's life as it reports it in hello and in the adopt result. */
enum proto_state {
	PROTO_STATE_NONE = 0, /* absent (a daemon's hello) */
	PROTO_STATE_NEW, /* waiting for configure */
	PROTO_STATE_BOOTING, /* configured, kernel booting */
	PROTO_STATE_READY, /* booted, locked down, serving */
	PROTO_STATE_STOPPING, /* shutting down */
};

/* The stable error codes of `error` replies; PROTOCOL.md says when each is used. */
enum proto_error_code {
	PROTO_ERR_NONE = 0,
	PROTO_ERR_BAD_REQUEST, /* malformed or invalid message */
	PROTO_ERR_VERSION_MISMATCH, /* hello with a version this side does not speak */
	PROTO_ERR_BAD_STATE, /* valid message at the wrong time */
	PROTO_ERR_NOT_FOUND, /* path, job or stream does not exist */
	PROTO_ERR_EXISTS,
	PROTO_ERR_PERMISSION,
	PROTO_ERR_TOO_LARGE, /* a size cap was hit */
	PROTO_ERR_LIMIT, /* too many jobs, streams, processes, files */
	PROTO_ERR_IO, /* the host or the instance kernel failed an operation */
	PROTO_ERR_TIMEOUT,
	PROTO_ERR_CANCELLED,
	PROTO_ERR_UNSUPPORTED, /* valid, but this build cannot do it */
	PROTO_ERR_INTERNAL,
	PROTO_ERR_COUNT,
};

enum proto_exec_stream {
	PROTO_STREAM_NONE = 0,
	PROTO_STREAM_STDOUT,
	PROTO_STREAM_STDERR,
};

enum proto_fatal_reason {
	PROTO_FATAL_NONE = 0,
	PROTO_FATAL_PANIC, /* the library kernel panicked */
	PROTO_FATAL_SIGNAL, /* a fatal host signal (SIGSEGV, SIGBUS, SIGSYS, ...) */
	PROTO_FATAL_BOOT_FAILED, /* configure was accepted but boot or plumbing failed */
	PROTO_FATAL_OOM, /* the host refused memory the instance needed */
	PROTO_FATAL_INTERNAL,
};

/* Bytes carried base64-encoded in JSON. data == NULL means the field is absent. */
struct proto_bytes {
	const unsigned char *data;
	size_t len;
};

/* An IPv4 or IPv6 address, family AF_INET / AF_INET6, or 0 when absent. */
struct proto_ip {
	int family;
	unsigned char addr[16]; /* network byte order; 4 bytes used for AF_INET */
};

/* An address with its prefix length ("198.18.0.7/16"); family 0 when absent. */
struct proto_cidr {
	int family;
	unsigned char addr[16];
	unsigned int prefix; /* 0..32 or 0..128 */
};

/* The body of an error: a stable code and a human-readable message. */
struct proto_error {
	enum proto_error_code code;
	const char *message; /* 1..PROTO_TEXT_MAX bytes of UTF-8 */
};

struct proto_hello {
	uint32_t version; /* 1..PROTO_VERSION_MAX */
	enum proto_role role;
	const char *software; /* optional: "shoal-instance 0.1" */
	const char *instance_id; /* instance only, once configured; else NULL */
	enum proto_state state; /* instance only (required there); NONE from a daemon */
};

struct proto_network {
	int fd; /* index of the AF_PACKET socket in the message's fds, or -1 */
	const char *interface; /* or a host interface the instance opens itself */
	unsigned char mac[6];
	struct proto_cidr ipv4; /* optional */
	struct proto_cidr ipv6; /* optional */
	struct proto_ip gateway4; /* optional; needs ipv4 and lies in its subnet */
	struct proto_ip gateway6; /* optional; needs ipv6 */
	struct proto_ip dns[PROTO_DNS_MAX]; /* written to /etc/resolv.conf */
	size_t ndns;
	uint32_t mtu; /* 68..65535; default 1500 */
	bool offloads; /* virtio-net checksum/segmentation offloads; default true */
};

struct proto_disk {
	int fd; /* index of the open image in the message's fds, or -1 */
	const char *path; /* or a host path the instance opens itself */
	bool read_only; /* default false */
	const char *mount_point; /* instance path, canonical, not "/" */
	const char *fstype; /* [a-z0-9]{1,15}; default "ext4" */
};

struct proto_limits {
	uint32_t max_jobs; /* 1..PROTO_JOBS_MAX; default 16 */
	uint32_t max_processes; /* 16..65536, pids.max of the instance; default 1024 */
	uint32_t max_open_files; /* 64..1048576, RLIMIT_NOFILE; default 4096 */
	uint32_t host_memory_mib; /* memory.max of the instance's cgroup; 0: instance's choice */
};

struct proto_configure {
	const char *instance_id; /* [A-Za-z0-9_.-], 1..64, not starting with '.' or '-' */
	uint32_t memory_mib; /* kernel memory, PROTO_MEMORY_MIB_MIN..MAX */
	const char *hostname; /* default "shoal" */
	bool has_network; /* false: loopback only */
	struct proto_network network;
	struct proto_disk disks[PROTO_DISKS_MAX];
	size_t ndisks;
	struct proto_limits limits; /* every field has a default */
	const char *kernel_cmdline; /* optional, printable ASCII */
	bool keep_on_supervisor_exit; /* required: the explicit choice */
	int adopt_listen_fd; /* fd index; required iff keep_on_supervisor_exit, else -1 */
	uint32_t adopt_wait_ms; /* 1000..PROTO_TIMEOUT_MS_MAX; default 300000 */
};

struct proto_boot_timings {
	uint64_t total_us; /* process start to ready */
	uint64_t config_wait_us; /* process start to configure received */
	uint64_t kernel_boot_us;
	uint64_t rootfs_us;
	uint64_t network_us;
	uint64_t disks_us;
	uint64_t lockdown_us;
};

struct proto_ready {
	struct proto_boot_timings timings;
	const char *kernel_release; /* the instance kernel's uname -r */
};

struct proto_file_put {
	const char *path; /* instance path, canonical */
	uint64_t size; /* bytes that will follow, 0..PROTO_FILE_SIZE_MAX */
	uint32_t mode; /* permission bits 0..07777; default 0644 */
	bool parents; /* create missing parent directories; default false */
};

struct proto_file_get {
	const char *path;
};

/* A slice of a file stream: @stream is the id of the file_put/file_get request. */
struct proto_file_chunk {
	uint64_t stream;
	uint64_t offset; /* bytes of the stream before this chunk */
	struct proto_bytes data; /* 1..PROTO_CHUNK_MAX bytes */
};

struct proto_file_end {
	uint64_t stream;
	bool has_error; /* the stream ends early, abandoned by its sender */
	struct proto_error error;
};

struct proto_console {
	uint64_t cursor; /* byte offset in the kernel log since boot; default 0 */
	uint32_t max_bytes; /* 1..PROTO_CONSOLE_MAX; default PROTO_CONSOLE_MAX */
};

struct proto_exec {
	const char *argv[PROTO_ARGV_MAX];
	size_t argc; /* 1..PROTO_ARGV_MAX; argv[0] not empty */
	bool has_env; /* false: the instance's default environment */
	const char *env[PROTO_ENV_MAX]; /* "NAME=value" */
	size_t nenv;
	const char *cwd; /* instance path; default "/" */
	struct proto_bytes stdin_data; /* JSON "stdin"; optional, ≤ PROTO_STDIN_INLINE_MAX */
	bool stdin_stream; /* stdin follows in exec_input messages; default false */
	uint32_t timeout_ms; /* 1..PROTO_TIMEOUT_MS_MAX; default 60000 */
	uint64_t output_cap; /* bytes kept per stream, 0..PROTO_OUTPUT_CAP_MAX; default 16 MiB */
};

struct proto_exec_input {
	uint64_t job;
	struct proto_bytes data; /* 0..PROTO_CHUNK_MAX bytes (may be empty with eof) */
	bool eof; /* close the job's stdin after this data; default false */
};

struct proto_exec_output {
	uint64_t job;
	enum proto_exec_stream stream;
	uint64_t offset; /* bytes of this stream sent before this chunk */
	struct proto_bytes data; /* 1..PROTO_CHUNK_MAX bytes */
};

struct proto_exec_exit {
	uint64_t job;
	int exit_code; /* 0..255, or -1 when the job died of a signal */
	int signal; /* 1..PROTO_SIGNAL_MAX, or -1 when it exited */
	bool timed_out; /* killed because timeout_ms passed */
	uint64_t duration_us;
	uint64_t stdout_bytes; /* written by the job, including bytes past the cap */
	uint64_t stderr_bytes;
	bool stdout_truncated; /* more than output_cap bytes: the rest was dropped */
	bool stderr_truncated;
};

struct proto_exec_signal {
	uint64_t job;
	int signal; /* 1..PROTO_SIGNAL_MAX; default 15 (SIGTERM) */
	bool group; /* the job's whole process group; default true */
};

struct proto_shutdown {
	uint32_t timeout_ms; /* grace for running jobs before SIGKILL, 0..600000; default 10000 */
};

struct proto_adopt {
	const char *instance_id; /* must match the instance's own */
};

struct proto_fatal {
	enum proto_fatal_reason reason;
	int signal; /* 1..PROTO_SIGNAL_MAX iff reason is PROTO_FATAL_SIGNAL, else -1 */
	const char *message; /* what happened, e.g. the panic text */
};

/* Results carried by `ok` replies; requests not listed here answer with `{}`. */
struct proto_file_put_result {
	uint64_t size; /* bytes written */
};

struct proto_file_get_result {
	uint64_t size; /* bytes that will follow in file_chunk messages */
	uint32_t mode;
};

struct proto_iface_stats {
	const char *name;
	uint64_t rx_bytes, rx_packets, rx_errors, rx_dropped;
	uint64_t tx_bytes, tx_packets, tx_errors, tx_dropped;
};

struct proto_memory_stats {
	uint64_t kernel_total_bytes; /* memory given to the instance kernel */
	uint64_t kernel_free_bytes; /* of which free */
	uint64_t host_rss_bytes; /* resident set of the instance process */
};

struct proto_stats_result {
	uint64_t uptime_us;
	struct proto_memory_stats memory;
	struct proto_iface_stats interfaces[PROTO_IFACES_MAX];
	size_t ninterfaces;
	uint32_t host_threads;
	uint32_t host_syscalls_allowed; /* size of the seccomp allow-list; 0 before lock-down */
	uint32_t jobs_running;
};

struct proto_console_result {
	const char *text; /* ≤ the request's max_bytes; invalid UTF-8 replaced */
	uint64_t cursor; /* where the next read continues */
	uint64_t lost; /* bytes between the asked cursor and text, overwritten in the ring */
};

struct proto_exec_result {
	uint64_t job; /* instance-assigned, 1..PROTO_ID_MAX, never reused by the instance */
};

struct proto_adopt_result {
	const char *instance_id;
	enum proto_state state;
	uint64_t uptime_us;
	uint64_t jobs[PROTO_JOBS_MAX]; /* jobs still running */
	size_t njobs;
};

struct proto_ok {
	enum proto_type request; /* the type of the request answered */
	union {
		struct proto_file_put_result file_put;
		struct proto_file_get_result file_get;
		struct proto_stats_result stats;
		struct proto_console_result console;
		struct proto_exec_result exec;
		struct proto_adopt_result adopt;
	};
};

/*
 * One message. Requests and replies have id 1..PROTO_ID_MAX; an error with id 0
 * answers no particular request (version mismatch, an unreadable message);
 * events (hello, ready, file_chunk, ...) have id 0. Strings point into storage
 * owned by the message, so a decoded message is valid until proto_msg_free().
 */
struct proto_msg {
	enum proto_type type;
	uint64_t id;
	union {
		struct proto_hello hello;
		struct proto_ok ok;
		struct proto_error error;
		struct proto_configure configure;
		struct proto_ready ready;
		struct proto_file_put file_put;
		struct proto_file_get file_get;
		struct proto_file_chunk file_chunk;
		struct proto_file_end file_end;
		struct proto_console console;
		struct proto_exec exec;
		struct proto_exec_input exec_input;
		struct proto_exec_output exec_output;
		struct proto_exec_exit exec_exit;
		struct proto_exec_signal exec_signal;
		struct proto_shutdown shutdown;
		struct proto_adopt adopt;
		struct proto_fatal fatal;
	};
	/* Decoder-owned storage released by proto_msg_free(); callers leave it alone. */
	void *priv_json;
	void *priv_bufs[2];
};

/*
 * proto_init() - prepare the codec in a process that will lock itself down.
 * jansson seeds its hash function from /dev/urandom on first use; an instance
 * must call this before its seccomp filter forbids that open. Idempotent.
 */
void proto_init(void);

/*
 * proto_msg_init() - empty message of @type with every default filled in.
 * Sets @msg->type and @msg->id; optional fields get their documented defaults,
 * descriptor indexes -1 and absent things NULL/0, in nested objects too (so
 * setting configure.has_network later finds network.fd == -1, mtu 1500, ...).
 * For PROTO_OK use proto_msg_init_ok().
 */
void proto_msg_init(struct proto_msg *msg, enum proto_type type, uint64_t id);

/* proto_msg_init_ok() - an empty `ok` reply to request @id of type @request. */
void proto_msg_init_ok(struct proto_msg *msg, uint64_t id, enum proto_type request);

/*
 * proto_decode() - parse and validate one packet.
 * @buf, @len: the packet; @len 1..PROTO_MSG_MAX, no terminating NUL needed.
 * @out:       filled in; owns its storage afterwards (proto_msg_free()).
 *
 * Returns 0, or a negative errno with @err set to a message naming the field:
 * -EMSGSIZE for a packet over PROTO_MSG_MAX, -EPROTONOSUPPORT for a hello whose
 * version is not PROTO_VERSION (out->type is PROTO_HELLO and
 * out->hello.version the peer's version, checked before any other field so
 * that a newer peer's hello is answered with version_mismatch), -ENOMEM, and
 * -EINVAL for everything else. On failure @out holds nothing to free but keeps
 * out->type and out->id when they could be read, so the caller can answer
 * `error` with that id (id 0 when unknown). Thread-safe; reentrant.
 */
int proto_decode(const char *buf, size_t len, struct proto_msg *out, struct shoal_error *err);

/* proto_msg_free() - release what proto_decode() allocated; safe on any initialised msg. */
void proto_msg_free(struct proto_msg *msg);

/*
 * proto_encode() - JSON text of @msg after the same checks as the decoder.
 * @text: set to a malloc()ed NUL-terminated string, which the caller frees.
 * @len:  set to its length (without the NUL); ≤ PROTO_MSG_MAX.
 * Returns 0; -EINVAL (with the field named) for a message the decoder would
 * refuse; -EMSGSIZE when the text would exceed PROTO_MSG_MAX (JSON escaping
 * can make strings up to six times longer); -ENOMEM.
 */
int proto_encode(const struct proto_msg *msg, char **text, size_t *len, struct shoal_error *err);

/*
 * proto_encode_error() - an `error` reply to request @id (0: no particular one).
 * @message may be anything, e.g. a shoal_error's msg: it is cut to
 * PROTO_TEXT_MAX bytes, invalid UTF-8 is replaced and an empty one becomes the
 * code's name, so this fails only for a bad @code or -ENOMEM.
 */
int proto_encode_error(uint64_t id, enum proto_error_code code, const char *message, char **text,
		       size_t *len, struct shoal_error *err);

/* proto_msg_nfds() - how many descriptors @msg refers to (and must travel with it). */
size_t proto_msg_nfds(const struct proto_msg *msg);

/*
 * proto_check_peer() - may a peer in @sender's role send @msg? A daemon sends
 * requests, stream data for its uploads and stdin, and errors with id 0 only;
 * an instance sends replies and events. A hello must state the sender's role.
 * Returns 0 or -EPROTO with @err set.
 */
int proto_check_peer(const struct proto_msg *msg, enum proto_role sender, struct shoal_error *err);

/*
 * proto_check_instance_path() - the decoder's rule for paths inside an
 * instance, for callers that take paths from elsewhere (the daemon's HTTP API):
 * absolute, at most PROTO_PATH_MAX bytes, no empty, "." or ".." component, no
 * trailing slash except "/" itself, components ≤ PROTO_PATH_NAME_MAX bytes.
 * Returns 0 or -EINVAL with @err set.
 */
int proto_check_instance_path(const char *path, struct shoal_error *err);

/* Names as they appear on the wire ("file_put", "not_found"); "?" when out of range. */
const char *proto_type_name(enum proto_type type);
const char *proto_error_code_name(enum proto_error_code code);
const char *proto_state_name(enum proto_state state);
const char *proto_role_name(enum proto_role role);

/*
 * proto_error_code_from_errno() - the wire code for a failure (-errno or errno),
 * e.g. ENOENT -> not_found, EPROTONOSUPPORT -> version_mismatch, anything
 * unlisted -> internal. proto_error_code_to_errno() goes back (positive errno).
 */
enum proto_error_code proto_error_code_from_errno(int err);
int proto_error_code_to_errno(enum proto_error_code code);

#endif /* SHOAL_API_PROTO_H */

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shoal-instance's shared state and the entry points of its modules. One
 * instance process hosts one library kernel and serves one supervisor over
 * the control protocol (api/PROTOCOL.md). The modules are one concern each:
 * control.c (the channel and the request table), start.c (the sequence from
 * `configure` to `ready`), sandbox.c and cgroup.c (lock-down), monitor.c (the
 * process outside the pid namespace), kernel.c (booting the library kernel),
 * rootfs.c, net.c and disks.c (plumbing inside it), files.c, stats.c and
 * console.c (what the supervisor asks for), fatal.c (the last message),
 * selfcheck.c (kernel checks under the lock-down) and stdio.c (the driver for
 * people). Everything runs on the main thread except
 * the library kernel's own threads, which enter this code only through the
 * host operations kernel.c installs (console output, panic).
 */
#ifndef SHOAL_INSTANCE_INSTANCE_H
#define SHOAL_INSTANCE_INSTANCE_H

#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "api/error.h"
#include "api/log.h"
#include "api/proto.h"

#define INSTANCE_SOFTWARE "shoal-instance 0.1"

/*
 * Exit statuses. The monitor (the process outside the pid namespace, which
 * the supervisor spawned) exits with the instance's status, so these are what
 * the supervisor sees.
 */
enum instance_exit {
	INSTANCE_EXIT_OK = 0, /* shutdown, or the supervisor left */
	INSTANCE_EXIT_FAILURE = 1, /* bad command line, or setup before configure failed */
	INSTANCE_EXIT_PROTOCOL = 2, /* the peer speaks another version or skipped hello */
	INSTANCE_EXIT_BOOT_FAILED = 3, /* `fatal` boot_failed was sent */
	INSTANCE_EXIT_PANIC = 4, /* the library kernel panicked (`fatal` panic was sent) */
	INSTANCE_EXIT_INTERNAL = 5, /* a bug (`fatal` internal was sent) */
	INSTANCE_EXIT_SIGNAL_BASE = 128, /* + N: fatal host signal N (`fatal` signal was sent) */
};

/* Seconds the boot (fork to `ready`) may take before the watchdog gives up. */
#define INSTANCE_BOOT_TIMEOUT_S 20
/*
 * What the instance gives its host side on top of the kernel's RAM by default:
 * 64 MiB for itself, 256 MiB for its jobs, whose programs run on the host in
 * the instance's cgroup (with 64 MiB in all, a job writing a few MiB of output
 * pushed the instance into reclaim, where it died of a forbidden openat).
 */
#define INSTANCE_HOST_OVERHEAD_MIB (64 + 256)
/* Shutdown after the supervisor left without keep_on_supervisor_exit (section 8). */
#define INSTANCE_ORPHAN_TIMEOUT_MS 2000
/* Nothing to do for this long: the program's text is unmapped again (control.c, trim.c). */
#define INSTANCE_IDLE_TRIM_MS 250
/* Time an adoption connection gets to say hello and adopt. */
#define INSTANCE_ADOPT_HANDSHAKE_MS 5000

/* Command line. */
struct instance_options {
	int control_fd; /* --control-fd N: the inherited SEQPACKET socket */
	bool stdio; /* --stdio: JSON lines on stdin/stdout (stdio.c) */
	bool unconfined; /* --unconfined: no namespaces, cgroup or seccomp (development) */
	bool no_cgroup; /* --no-cgroup: lock down, but do not make a cgroup */
	const char *cgroup_root; /* --cgroup-root DIR: instead of the detected one */
	bool selfcheck; /* --selfcheck: run the kernel checks after lock-down */
	/* --selfcheck-peer A.B.C.D[,MIB]: test-only, ping and TCP with a peer (selfcheck.c) */
	uint32_t selfcheck_peer; /* network order; 0: none */
	uint32_t selfcheck_peer_mib;
	const char *test_forbidden; /* --test-forbidden CALL: test-only, see main.c */
	enum shoal_log_level log_level;
};

struct control;
struct files;
struct jobs;

/* A cgroup the instance made for itself (cgroup.c). */
#define CGROUP_MAX_DIRS 2
struct cgroup {
	int ndirs; /* 0: no cgroup */
	bool v2;
	char dirs[CGROUP_MAX_DIRS][256]; /* v1: one per controller; v2: one */
	int procs_fds[CGROUP_MAX_DIRS]; /* their cgroup.procs, open for writing */
};

/* The namespaces and empty root built ahead by a thread (sandbox_ahead.c). */
#define SANDBOX_AHEAD_NS 4 /* net, ipc, uts, mnt */
#define SANDBOX_AHEAD_MNT 3
#define SANDBOX_AHEAD_ROOT 4 /* the empty root, O_PATH */
#define SANDBOX_AHEAD_FDS 5
struct sandbox_ahead {
	bool started; /* the builder thread runs or ran, and is not joined yet */
	pthread_t thread;
	int sock[2]; /* [1]: the builder sends its report and descriptors; [0]: received */
	int fds[SANDBOX_AHEAD_FDS]; /* received, -1 once entered */
};

struct instance {
	struct instance_options opt;
	struct sandbox_ahead ahead;
	enum proto_state state;
	uint64_t t_start_us; /* main() began (monotonic µs) */
	uint64_t t_booted_us; /* the kernel answered its first call; 0 before */
	struct proto_boot_timings timings;
	char kernel_release[PROTO_RELEASE_MAX + 1];

	/* The accepted `configure`, kept for the life of the instance. */
	bool configured;
	struct proto_msg config;
	int config_fds[PROTO_FDS_MAX]; /* what came with it; -1 once taken */
	size_t config_nfds;

	/* Host resources opened at configure time, before lock-down. */
	int packet_fd; /* the network's AF_PACKET socket, or -1 */
	int disk_fds[PROTO_DISKS_MAX]; /* images passed by descriptor, or -1 */
	int adopt_listen_fd; /* keep_on_supervisor_exit's listening socket, or -1 */
	struct cgroup cgroup;

	/* Set while locking down and booting. */
	int status_fd; /* host /proc/self/status, opened before the empty root */
	int netdev; /* skl network device number, or -1 */
	int eth_ifindex; /* its interface index inside the kernel, or 0 */
	char eth_name[16]; /* and its name there ("eth0") */
	uint32_t syscalls_allowed; /* seccomp allow-list size; 0 before lock-down */
	bool locked_down;

	struct control *ctl;
	struct files *files;

	/* Jobs (job.c) and the zygote that starts them (jail.c). */
	bool jail_up; /* the zygote answered ready; jail_fd is its socket */
	bool jail_pending; /* the zygote is building the jail; jail_finish() waits for it */
	int jail_fd;
	pid_t jail_pid;
	char jail_why[160]; /* why there is no jail, for exec's error */
	struct jobs *jobs;
};

/* Monotonic clock in microseconds. */
uint64_t instance_now_us(void);

/* main.c */
void instance_options_usage(void);

/* start.c: from an accepted `configure` to `ready`. */

/*
 * start_configure() - check a `configure` and open the host resources it
 * names (interface, disk images) while the process can still see them. Takes
 * the message and its descriptors on success (they stay in @in); on failure
 * they are the caller's. Returns 0 or -errno with @err set.
 */
int start_configure(struct instance *in, struct proto_msg *msg, int *fds, size_t nfds,
		    struct shoal_error *err);

/*
 * start_instance() - lock down, boot and plumb; send `ready`. Returns in the
 * instance process once it is ready (0); the monitor process never returns
 * from it; a failure after the fork sends `fatal` boot_failed and exits.
 * A failure before the fork returns -errno with @err set.
 */
int start_instance(struct instance *in, struct shoal_error *err);

/* control.c: the control channel. */
int control_create(struct instance *in, int sock, struct shoal_error *err);
/* Serve until shutdown; returns the process's exit status. */
int control_run(struct instance *in);
/* Queue @msg for the supervisor (encoded now; sent when the socket takes it). */
int control_send(struct instance *in, const struct proto_msg *msg);
/* Queue an `error` reply to @id from -errno @r and the message @text. */
void control_send_error(struct instance *in, uint64_t id, int r, const char *text);
/* Send everything queued, waiting at most @timeout_ms. */
void control_flush(struct instance *in, int timeout_ms);
/* Bytes queued for sending; file downloads produce chunks only while it is small. */
size_t control_queued(struct instance *in);
/* The socket fd of the connected supervisor, or -1. */
int control_socket(struct instance *in);
/* A supervisor is connected and past adoption: events reach it. */
bool control_connected(struct instance *in);
/* Forget the descriptors the monitor must not keep (it closes the socket). */
void control_forget(struct instance *in);

/* files.c: file_put / file_get streams. */
int files_create(struct instance *in);
int files_put_begin(struct instance *in, uint64_t id, const struct proto_file_put *req,
		    struct shoal_error *err);
int files_get_begin(struct instance *in, uint64_t id, const struct proto_file_get *req,
		    struct proto_file_get_result *res, struct shoal_error *err);
void files_chunk(struct instance *in, const struct proto_file_chunk *chunk);
void files_end(struct instance *in, const struct proto_file_end *end);
/* Produce the next download chunk if any stream has one; true when one was queued. */
bool files_pump(struct instance *in);
bool files_want_pump(struct instance *in);
/* End every open stream: uploads answered `cancelled` (if @answer), downloads ended. */
void files_cancel_all(struct instance *in, bool answer, const char *why);

/* stats.c */
int stats_collect(struct instance *in, struct proto_stats_result *res, struct shoal_error *err);

/* console.c: the kernel log, kept in a ring. */
void console_print_cb(const char *str, int len); /* the host print operation */
int console_read(uint64_t cursor, uint32_t max_bytes, char *text, struct proto_console_result *res,
		 struct shoal_error *err);
/* The last line containing @needle (or the last line), for a panic report; lock-free try. */
size_t console_last_line(const char *needle, char *buf, size_t size);

/* kernel.c: the library kernel. kernel_prepare() runs while host files can be opened. */
int kernel_prepare(struct shoal_error *err);
int kernel_boot(struct instance *in, struct shoal_error *err);
int kernel_ram_reserve(struct instance *in, struct shoal_error *err);
bool kernel_ram_warm_step(void); /* false: nothing left to warm */
void kernel_halt(struct instance *in);

/* rootfs.c: the root file system inside the kernel. */
int rootfs_setup(struct instance *in, struct shoal_error *err);

/* net.c: the network device, host side and kernel side. */
int net_open_interface(const char *ifname, int *fd, struct shoal_error *err);
#define NET_PACKET_BUFFER_BYTES (4 << 20) /* as kernel-lib's virtio_net.c asks */
void net_size_buffers(struct instance *in); /* while privileged */
int net_add_device(struct instance *in, struct shoal_error *err);
int net_configure(struct instance *in, struct shoal_error *err);

/* disks.c: disk images, attached before boot and mounted after. */
int disks_check(struct instance *in, struct shoal_error *err);
int disks_attach(struct instance *in, struct shoal_error *err);
int disks_mount(struct instance *in, struct shoal_error *err);
void disks_unmount(struct instance *in);

/* sandbox.c: lock-down. The only user of <seccomp.h>. */
int sandbox_unshare(struct shoal_error *err); /* pid namespace: before the fork */
/* sandbox_ahead.c: start the builder (main), join it (monitor), enter what it built (instance). */
void sandbox_ahead_init(struct sandbox_ahead *a); /* nothing started, every fd -1 */
int sandbox_ahead_start(struct sandbox_ahead *a);
void sandbox_ahead_join(struct sandbox_ahead *a);
bool sandbox_ahead_done(struct sandbox_ahead *a); /* what it built can be received */
int sandbox_ahead_enter_namespaces(struct sandbox_ahead *a, const char *hostname,
				   struct shoal_error *err);
int sandbox_ahead_enter_root(struct sandbox_ahead *a, struct shoal_error *err);
int sandbox_enter_namespaces(const char *hostname, struct shoal_error *err);
int sandbox_pivot_empty_root(struct shoal_error *err);
int sandbox_drop_capabilities(struct shoal_error *err);
int sandbox_no_new_privs(struct shoal_error *err);
int sandbox_set_rlimits(const struct proto_configure *cfg, struct shoal_error *err);
int sandbox_seccomp_load(uint32_t *allowed, struct shoal_error *err);
/* The jail: the zygote keeps CAP_SYS_ADMIN and CAP_SETPCAP; a job's calls that never pass. */
int sandbox_zygote_capabilities(struct shoal_error *err);
int sandbox_zygote_filter_load(struct shoal_error *err);
/* The allow-list's size, known before it is loaded (for README and tests). */
uint32_t sandbox_seccomp_count(void);
/* Name of host system call @nr, or "?" (async-signal-safe: a table made at build time). */
const char *sandbox_syscall_name(long nr);
/* Print the allow-list table (--print-seccomp). */
void sandbox_seccomp_print(void);

/*
 * Jobs: unmodified programs whose file and network calls the instance kernel
 * serves (instance/README.md, "Jobs"). job.c is the lifecycle (exec to
 * exec_exit) on the control thread; job_io.c moves a job's stdin and output
 * between the kernel pipes and the control channel on threads of its own.
 */
int job_init(struct instance *in, struct shoal_error *err); /* before lock-down */
/* Host address space one running job takes in the instance: its region (128.5 MiB), stacks. */
#define JOB_HOST_AS_MIB 192
void job_exec(struct instance *in, uint64_t id, const struct proto_exec *req);
void job_input(struct instance *in, const struct proto_exec_input *input);
void job_signal(struct instance *in, uint64_t id, const struct proto_exec_signal *req);
/* Descriptors the control loop polls for jobs: fills @pfd (room for @max); how many. */
size_t job_poll_fds(struct instance *in, struct pollfd *pfd, size_t max);
size_t job_poll_max(struct instance *in);
/* After the poll: handle what the job descriptors said, timeouts, output. */
void job_poll_done(struct instance *in, const struct pollfd *pfd, size_t n);
/* Microseconds until the next job deadline, or UINT64_MAX. */
uint64_t job_next_deadline_us(struct instance *in);
/* True while some job has output waiting for room in the control queue. */
bool job_want_pump(struct instance *in);
void job_pump(struct instance *in);
/* End every job: SIGTERM to each group, SIGKILL after @grace_ms; exec_exit for each. */
void job_stop_all(struct instance *in, uint32_t grace_ms);
/* After the kernel halted: free what job_stop_all() could not end (no thread blocks now). */
void job_release_all(struct instance *in);
uint32_t job_count(struct instance *in);
/* Adoption: the running jobs for adopt's result; then the exec_exit events kept meanwhile. */
void job_adopt_result(struct instance *in, struct proto_adopt_result *res);
void job_send_kept(struct instance *in);

/*
 * job_io.c: one job's stdio threads. job_io_start() takes the kernel fds
 * (stdin's write end, stdout's and stderr's read ends) and @stdin_data is
 * copied; even on failure *@out is set and must be destroyed. Everything
 * but the threads runs on the control thread.
 */
struct job_io;
int job_io_start(struct job_io **out, int kin, int kout, int kerr, uint64_t cap,
		 const struct proto_bytes *stdin_data, bool stdin_stream, int wake_fd,
		 struct shoal_error *err);
void job_io_input(struct job_io *io, const void *data, size_t len, bool eof);
/* The next output chunk, if any: free its @data with job_io_chunk_free(). */
bool job_io_next(struct job_io *io, enum proto_exec_stream *stream, uint64_t *offset, void **data,
		 size_t *len);
void job_io_chunk_free(void *data);
/* The job's state changed (it ended): idle stdio threads look again now. */
void job_io_kick(struct job_io *io);
/* Some output chunk waits to be taken. */
bool job_io_pending(struct job_io *io);
/* Both output streams at end of file (chunks may still wait). */
bool job_io_eof(struct job_io *io);
/* Both output streams at end of file and every chunk taken. */
bool job_io_done(struct job_io *io);
void job_io_counts(struct job_io *io, uint64_t written[2], bool truncated[2]);
void job_io_destroy(struct job_io *io);

/*
 * The jail (jail*.c): a zygote process forked before lock-down that keeps
 * CAP_SYS_ADMIN and a read-only view of the host's programs, and starts each
 * job's processes in fresh namespaces on the instance's request. The
 * instance and the zygote talk over a SEQPACKET socketpair in struct
 * jail_msg records (a spawn request carries its strings after the record and
 * the job's link and region descriptors as SCM_RIGHTS).
 */
enum jail_op {
	JAIL_READY = 1, /* zygote -> instance: the jail is built; err != 0: it is not */
	JAIL_SPAWN, /* instance -> zygote: argc + envc strings follow; 2 fds */
	JAIL_SIGNAL, /* instance -> zygote: sig to the job's first process (or group) */
	JAIL_KILL, /* instance -> zygote: SIGKILL the job's reaper (the whole tree) */
	JAIL_SPAWNED, /* zygote -> instance: the shim is running; pid = reaper */
	JAIL_SPAWN_FAILED, /* zygote -> instance: err, text */
	JAIL_EXITED, /* zygote -> instance: status = the first process's wait status */
	JAIL_GO, /* instance -> zygote: its namespaces and root are made (its netns fd); build the
		    jail */
};

struct jail_msg {
	uint32_t op; /* enum jail_op */
	int32_t err; /* errno (positive) for READY and SPAWN_FAILED */
	uint64_t job;
	int32_t pid;
	int32_t status;
	int32_t sig;
	uint32_t group;
	uint32_t argc, envc; /* SPAWN: strings after the record, each with its NUL */
	uint32_t in_instance; /* SPAWN: argv[0] is a program in the instance (checked there) */
	char text[160]; /* why, for READY and SPAWN_FAILED */
};

#define JAIL_MSG_MAX (sizeof(struct jail_msg) + PROTO_EXEC_STRINGS_MAX + 4096)
/* Descriptor numbers in a job's first process (job_abi.h's state string names them). */
#define JAIL_FD_SHIM 3
#define JAIL_FD_LINK 4
#define JAIL_FD_REGION 5

/* trim.c: unmap the program's read-only segments once starting is over (pages stay cached). */
void trim_program_text(void);

/* jail.c: the instance side. jail_start() runs after the cgroup is joined, before the namespaces.
 */
int jail_start(struct instance *in, struct shoal_error *err);
/*
 * jail_go() lets the zygote build the jail: after the instance's namespaces and empty root.
 * @netns_fd: the instance's network namespace, which the jobs share; -1 (unconfined): the
 * zygote makes one.
 */
void jail_go(struct instance *in, int netns_fd);
/* jail_finish() waits for the zygote's ready: after the boot, before seccomp. */
void jail_finish(struct instance *in);
int jail_spawn(struct instance *in, uint64_t job, const char *const *argv, size_t argc,
	       const char *const *env, size_t envc, int link_fd, int region_fd, bool in_instance);
int jail_signal(struct instance *in, uint64_t job, int sig, bool group);
int jail_kill(struct instance *in, uint64_t job);
/* One zygote message, non-blocking: 0, -EAGAIN, or -ECONNRESET (the zygote is gone). */
int jail_read(struct instance *in, struct jail_msg *msg);

/* jail_zygote.c, jail_root.c, jail_reaper.c: inside the zygote. */
__attribute__((noreturn)) void jail_zygote_run(int sock, pid_t instance,
					       const struct proto_configure *cfg);
int jail_root_build(struct shoal_error *err);
struct jail_spawn_args {
	int shim_fd, link_fd, region_fd, null_fd, exec_fd, status_fd;
	const char *path; /* the program, resolved in the jail */
	char **argv; /* job_abi.h's shim argv */
	char **envp;
	rlim_t max_open_files;
};
__attribute__((noreturn)) void jail_reaper_run(const struct jail_spawn_args *a);

/* cgroup.c */
int cgroup_create(struct cgroup *cg, const char *root, const char *id,
		  const struct proto_configure *cfg, struct shoal_error *err);
int cgroup_join(struct cgroup *cg, struct shoal_error *err);
void cgroup_close_fds(struct cgroup *cg);
void cgroup_remove(struct cgroup *cg);

/* monitor.c: the parent outside the pid namespace. */
__attribute__((noreturn)) void monitor_run(struct instance *in, pid_t child);

/* fatal.c: the last message. */
int fatal_setup(void);
void fatal_set_socket(int sock);
void fatal_set_phase(const char *phase);
void fatal_boot_watchdog(bool on);
void fatal_panic_cb(void); /* the host panic operation */
__attribute__((noreturn)) void fatal_exit(enum proto_fatal_reason reason, const char *message);
/* Encode a fatal message into @buf without allocating; its length. */
size_t fatal_format(char *buf, size_t size, enum proto_fatal_reason reason, int sig,
		    const char *message);

/* selfcheck.c: kernel checks inside the locked-down instance (--selfcheck). */
int selfcheck_run(struct instance *in);

/*
 * stdio.c: the --stdio driver. Forks; returns 0 in the child, which goes on as
 * the instance on *@control_fd; the parent relays stdin/stdout and exits with
 * the instance's status. Returns -1 (logged) if it could not start.
 */
int stdio_run(int *control_fd);

#endif /* SHOAL_INSTANCE_INSTANCE_H */

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the virtio-msg loopback kselftests:
 *
 * - for those that speak the loopback ABI directly: opening an instance,
 *   adding and removing device numbers, copying driver memory, and a
 *   minimal hand-made device side that serves just enough of the transport
 *   for a driver to probe a device and post buffers;
 * - for those that run the backends of tools/virtio-msg (vmsg-rng,
 *   vmsg-blk, vmsg-net, vmsg-console): finding and starting a backend,
 *   stopping or killing it, and waiting for processes with a time limit.
 *
 * Every wait here is bounded: a process stuck in the kernel is given up
 * on, never waited for without a limit.
 */
#ifndef VIRTIO_MSG_LB_BACKEND_H
#define VIRTIO_MSG_LB_BACKEND_H

#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/virtio_msg.h>
#include <linux/virtio_msg_loopback.h>

#define LB_PATH		"/dev/virtio-msg-loopback"
/* Where the open instances show, as virtio-msg-lbN. */
#define LB_SYSFS	"/sys/class/misc/virtio-msg-loopback"
#define MSG_MAX		65536
#define VIRTIO_ID_NET	1
#define VIRTIO_ID_BLOCK	2
#define VIRTIO_ID_RNG	4
/* Feature bits 32 and 33 are bits 0 and 1 of feature block 1. */
#define F_VERSION_1		0x1U
#define F_ACCESS_PLATFORM	0x2U
#define VRING_DESC_F_WRITE	2
#define STATUS_DRIVER_OK	4

/*
 * Linux 6.12's virtio_blk waits for ever for the requests a broken disk
 * held (in del_gendisk(), or in the probe's partition scan). When the
 * device side goes, the core answers those requests in its stead; but a
 * ring that virtio_ring itself finds corrupt is broken with them held,
 * and only a virtio_blk with patches/0001 and 0002 fails them then. The
 * test guests set VMSG_BLK_BREAK_FIXED on a kernel that carries them;
 * the fuzzer, which corrupts rings, leaves blk out without it.
 */
#define BLK_BREAK_FIXED		(!!getenv("VMSG_BLK_BREAK_FIXED"))
#define NO_BLK_BREAK_FIX \
	"virtio_blk without patches/0001 and 0002 (VMSG_BLK_BREAK_FIXED unset)"

/* The names of the open instances, each between spaces, in @buf. */
static inline void lb_instances(char *buf, size_t len)
{
	struct dirent *de;
	size_t used = 0;
	DIR *d;

	buf[0] = '\0';
	d = opendir(LB_SYSFS);
	if (!d)
		return;
	while ((de = readdir(d)) && used + NAME_MAX + 3 < len)
		if (!strncmp(de->d_name, "virtio-msg-lb", 13))
			used += snprintf(buf + used, len - used, " %s ",
					 de->d_name);
	closedir(d);
}

static inline int lb_open(int flags)
{
	int fd = open(LB_PATH, O_RDWR | O_CLOEXEC | flags);

	if (fd < 0 && errno == ENOENT &&
	    !system("modprobe virtio_msg_loopback >/dev/null 2>&1"))
		fd = open(LB_PATH, O_RDWR | O_CLOEXEC | flags);
	return fd;
}

static inline int lb_dev(int fd, unsigned long cmd, uint32_t dev_num)
{
	struct virtio_msg_lb_device d = {
		.size = sizeof(d),
		.dev_num = dev_num,
	};

	return ioctl(fd, cmd, &d);
}

static inline int lb_mem(int fd, unsigned long cmd, uint32_t dev_num,
			 uint64_t addr, void *buf, uint32_t len)
{
	struct virtio_msg_lb_mem m = {
		.size = sizeof(m),
		.dev_num = dev_num,
		.addr = addr,
		.buf = (uintptr_t)buf,
		.len = len,
	};

	return ioctl(fd, cmd, &m);
}

/* Wait up to @ms for a message and read it; the length or -errno. */
static inline int lb_recv(int fd, void *buf, size_t len, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t n;

	if (poll(&pfd, 1, ms) != 1)
		return -ETIMEDOUT;
	n = read(fd, buf, len);
	return n < 0 ? -errno : (int)n;
}

/*
 * Hand-made devices, just enough for a driver to probe them, map the rings
 * and post buffers: by default one virtio-rng device, or @count devices
 * numbered from @dev_num with @device_id and @num_queues. The rings and
 * the "kicked" flag are those of queue 0 of the first device.
 */
#define MINI_MAX	8

struct mini_rng {
	int fd;
	uint16_t dev_num;
	unsigned int count;
	uint32_t device_id;
	uint32_t num_queues;
	uint64_t desc, avail, used;
	uint32_t qsize;
	bool kicked;
	uint32_t dev_status[MINI_MAX];
	unsigned int kicks[MINI_MAX];
	uint32_t extra_features[2];	/* offered besides the two needed */
	const uint8_t *config;		/* config space; NULL: 64 zero bytes */
	uint32_t config_len;		/* at most MINI_CONFIG_MAX */
};

static inline void put_le32(void *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, sizeof(v));
}

static inline uint32_t get_le32(const void *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

static inline uint64_t get_le64(const void *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

/* Largest response mini_rng_answer() builds, header included. */
#define MINI_RESP_MAX	128
/* Largest config space a mini device serves (one GET_CONFIG answer). */
#define MINI_CONFIG_MAX	64

/*
 * Take in the message @req and build the answer a well-behaved device
 * gives in @resp (at least MINI_RESP_MAX bytes, zeroed here): its length,
 * or 0 when no answer is due (events, other device numbers).
 */
static inline int mini_rng_answer(struct mini_rng *rng, const uint8_t *req,
				  uint8_t *resp)
{
	struct virtio_msg_hdr hdr;
	uint8_t *p = resp + sizeof(hdr);
	size_t plen = 0;
	unsigned int idx;

	memset(resp, 0, MINI_RESP_MAX);
	memcpy(&hdr, req, sizeof(hdr));
	if (hdr.type & VIRTIO_MSG_TYPE_BUS) {
		if (hdr.msg_id != VIRTIO_MSG_BUS_PING)
			return 0;
		memcpy(p, req + sizeof(hdr), 4);
		plen = 4;
		goto respond;
	}
	idx = (uint16_t)(le16toh(hdr.dev_num) - rng->dev_num);
	if (idx >= (rng->count ? rng->count : 1) || idx >= MINI_MAX)
		return 0;

	switch (hdr.msg_id) {
	case VIRTIO_MSG_GET_DEVICE_INFO:
		put_le32(p, rng->device_id ? rng->device_id : VIRTIO_ID_RNG);
		put_le32(p + 8, 64);
		put_le32(p + 12, rng->config ? rng->config_len : 0);
		put_le32(p + 16, rng->num_queues ? rng->num_queues : 1);
		plen = 24;
		break;
	case VIRTIO_MSG_GET_DEVICE_FEATURES: {
		uint32_t first = get_le32(req + 8), num = get_le32(req + 12);
		uint32_t i;

		if (num > 8)
			num = 8;
		memcpy(p, req + 8, 8);
		put_le32(p + 4, num);
		for (i = 0; i < num; i++)
			put_le32(p + 8 + 4 * i, (first + i == 1 ?
				 F_VERSION_1 | F_ACCESS_PLATFORM : 0) |
				 (first + i < 2 ?
				  rng->extra_features[first + i] : 0));
		plen = 8 + 4 * num;
		break;
	}
	case VIRTIO_MSG_SET_DRIVER_FEATURES:
		break;
	case VIRTIO_MSG_GET_CONFIG: {
		uint32_t off = get_le32(req + 8), len = get_le32(req + 12);

		memcpy(p + 4, req + 8, 4);
		plen = 12;
		if (!rng->config || rng->config_len > MINI_CONFIG_MAX ||
		    off > rng->config_len || len > rng->config_len - off)
			break;
		put_le32(p + 8, len);
		memcpy(p + 12, rng->config + off, len);
		plen += len;
		break;
	}
	case VIRTIO_MSG_SET_CONFIG:
		memcpy(p + 4, req + 12, 4);
		plen = 12;
		break;
	case VIRTIO_MSG_GET_DEVICE_STATUS:
		put_le32(p, rng->dev_status[idx]);
		plen = 4;
		break;
	case VIRTIO_MSG_SET_DEVICE_STATUS:
		rng->dev_status[idx] = get_le32(req + 8);
		if (!idx && !rng->dev_status[idx])
			rng->desc = 0;
		put_le32(p, rng->dev_status[idx]);
		plen = 4;
		break;
	case VIRTIO_MSG_GET_VQUEUE:
		memcpy(p, req + 8, 4);
		if (get_le32(req + 8) < (rng->num_queues ? rng->num_queues : 1)) {
			put_le32(p + 4, 64);
			put_le32(p + 8, !idx && rng->desc ? rng->qsize : 0);
		}
		plen = 40;
		break;
	case VIRTIO_MSG_SET_VQUEUE:
		if (!idx && !get_le32(req + 8)) {
			rng->qsize = get_le32(req + 16);
			rng->desc = get_le64(req + 24);
			rng->avail = get_le64(req + 32);
			rng->used = get_le64(req + 40);
		}
		break;
	case VIRTIO_MSG_RESET_VQUEUE:
		if (!idx)
			rng->desc = 0;
		break;
	case VIRTIO_MSG_GET_SHM:
		memcpy(p, req + 8, 4);
		plen = 12;
		break;
	case VIRTIO_MSG_EVENT_AVAIL:
		rng->kicks[idx]++;
		if (!idx)
			rng->kicked = true;
		return 0;
	default:
		return 0;
	}
respond:
	hdr.type |= VIRTIO_MSG_TYPE_RESPONSE;
	hdr.msg_size = htole16(sizeof(hdr) + plen);
	memcpy(resp, &hdr, sizeof(hdr));
	return sizeof(hdr) + plen;
}

/* Serve one message; -1 with errno on a transport failure. */
static inline int mini_rng_serve(struct mini_rng *rng, int ms)
{
	uint8_t req[MSG_MAX], resp[MINI_RESP_MAX];
	int n;

	n = lb_recv(rng->fd, req, sizeof(req), ms);
	if (n < 0) {
		errno = -n;
		return -1;
	}
	n = mini_rng_answer(rng, req, resp);
	if (n > 0 && write(rng->fd, resp, n) < 0)
		return -1;
	return 0;
}

/* Serve until the driver kicked with a ring in place, at most @ms. */
static inline bool mini_rng_until_kick(struct mini_rng *rng, int ms)
{
	struct timespec start, now;

	clock_gettime(CLOCK_MONOTONIC, &start);
	while (!(rng->kicked && rng->desc &&
		 (rng->dev_status[0] & STATUS_DRIVER_OK))) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - start.tv_sec) * 1000 +
		    (now.tv_nsec - start.tv_nsec) / 1000000 > ms)
			return false;
		if (mini_rng_serve(rng, 100) && errno != ETIMEDOUT)
			return false;
	}
	return true;
}

/*
 * Running the backends of tools/virtio-msg. Names here are shared by the
 * rng, blk, net (and console) kselftests; keep them stable.
 */

/* Where the test guests install the backends; $VMSG_TOOLS overrides it. */
#define LB_DEFAULT_TOOLS	"/opt/virtio_msg/tools"

/* Milliseconds of CLOCK_MONOTONIC, for deadlines. */
static inline long lb_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Whether LB_PATH exists, once virtio_msg_loopback is loaded if need be. */
static inline bool lb_available(void)
{
	if (!access(LB_PATH, F_OK))
		return true;
	if (system("modprobe virtio_msg_loopback >/dev/null 2>&1"))
		return false;
	return !access(LB_PATH, F_OK);
}

/* The path of backend @name ("vmsg-blk", ...) in @buf; returns @buf. */
static inline const char *lb_tool(const char *name, char *buf, size_t len)
{
	const char *dir = getenv("VMSG_TOOLS");

	snprintf(buf, len, "%s/%s", dir ? dir : LB_DEFAULT_TOOLS, name);
	return buf;
}

/*
 * Find backend @name (its path in @prog) and the loopback bus, loading the
 * module if need be: NULL when both are there, or why a test cannot run
 * (in a static buffer).
 */
static inline const char *lb_backend_missing(const char *name, char *prog,
					     size_t len)
{
	static char why[PATH_MAX + 64];
	struct stat st;

	lb_tool(name, prog, len);
	if (stat(prog, &st)) {
		snprintf(why, sizeof(why), "%s: %s", prog, strerror(errno));
		return why;
	}
	if (!lb_available())
		return LB_PATH " missing and module not loadable";
	return NULL;
}

/*
 * Why the loopback bus cannot speak wire generation @wire ("v1" or "v2",
 * as the backends take it), or NULL when it can. Only a module that
 * predates VIRTIO_MSG_LB_IOC_SET_PARAMS (ENOTTY) cannot speak v2; any
 * other failure is left for the backend to report.
 */
static inline const char *lb_wire_missing(const char *wire)
{
	struct virtio_msg_lb_params p = {
		.size = sizeof(p),
		.wire = VIRTIO_MSG_WIRE_V2,
	};
	const char *why = NULL;
	int fd;

	if (strcmp(wire, "v2"))
		return NULL;
	fd = lb_open(0);
	if (fd < 0)
		return NULL;
	if (ioctl(fd, VIRTIO_MSG_LB_IOC_SET_PARAMS, &p) && errno == ENOTTY)
		why = "loopback module predates SET_PARAMS: no wire v2";
	close(fd);
	return why;
}

/*
 * The command line every backend keeps: --help prints its usage and exits
 * 0, an unknown option exits 2, and so does a wire generation other than
 * v1 and v2. The path of backend @name goes to @prog.
 * False (and the test skipped) when the backend is not installed. Only
 * with kselftest_harness.h included first.
 */
#ifdef __KSELFTEST_HARNESS_H
static inline bool lb_backend_cli_ok(struct __test_metadata *_metadata,
				     const char *name, char *prog, size_t len)
{
	char cmd[PATH_MAX + 64];

	lb_tool(name, prog, len);
	if (access(prog, X_OK))
		SKIP(return false, "%s: %s", prog, strerror(errno));
	snprintf(cmd, sizeof(cmd), "%s --help | grep -q Usage", prog);
	EXPECT_EQ(0, system(cmd));
	snprintf(cmd, sizeof(cmd), "%s --bogus >/dev/null 2>&1", prog);
	EXPECT_EQ(2, WEXITSTATUS(system(cmd)));
	snprintf(cmd, sizeof(cmd), "%s --help | grep -q -- '--wire'", prog);
	EXPECT_EQ(0, system(cmd));
	snprintf(cmd, sizeof(cmd),
		 "%s --wire v3 2>&1 >/dev/null | grep -q 'bad wire generation'",
		 prog);
	EXPECT_EQ(0, system(cmd));
	snprintf(cmd, sizeof(cmd), "%s --wire v3 >/dev/null 2>&1", prog);
	EXPECT_EQ(2, WEXITSTATUS(system(cmd)));
	/* No device node: say which module to load. */
	snprintf(cmd, sizeof(cmd),
		 "%s --device /nonexistent 2>&1 >/dev/null | grep -q 'modprobe virtio_msg_loopback'",
		 prog);
	EXPECT_EQ(0, system(cmd));
	return true;
}
#endif /* __KSELFTEST_HARNESS_H */

/* Read at most @len - 1 bytes of @path into @buf, as a string: 0 or -errno. */
static inline int lb_read_file(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

/* The core's per-device counters: <this>/virtio<N>/<counter>. */
#define VMSG_DEBUGFS	"/sys/kernel/debug/virtio_msg"

/* The loopback's stall watchdog: ms without a read before the peer is lost. */
#define LB_STALL_PARAM \
	"/sys/module/virtio_msg_loopback/parameters/stall_timeout_ms"

/* Write the string @val to @path (a sysfs attribute): 0 or -errno. */
static inline int lb_write_file(const char *path, const char *val)
{
	ssize_t len = strlen(val), n;
	int fd;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, len);
	if (n < 0)
		n = -errno;
	close(fd);
	if (n < 0)
		return n;
	return n == len ? 0 : -EIO;
}

/*
 * Whether the sysfs device @path (a /sys/class/.../device or
 * /sys/bus/virtio/devices/... link) sits on a virtio-msg loopback bus,
 * that is whether a backend, not the machine, provides it.
 */
static inline bool lb_sysfs_on_loopback(const char *path)
{
	char buf[PATH_MAX];

	return realpath(path, buf) && strstr(buf, "virtio-msg-lb");
}

/*
 * Whether the devices that virtio driver @drv has bound on a loopback bus
 * are spoken to in wire generation @wire ("v1" or "v2", as the backends
 * take it; sysfs says it the same way): true when there is at least one
 * and every one is.
 */
static inline bool lb_driver_wire_is(const char *drv, const char *wire)
{
	char dir[PATH_MAX], path[PATH_MAX + 300], val[16];
	unsigned int found = 0, other = 0;
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), "/sys/bus/virtio/drivers/%s", drv);
	d = opendir(dir);
	if (!d)
		return false;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "virtio", 6))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (!lb_sysfs_on_loopback(path))
			continue;
		snprintf(path, sizeof(path), "%s/%s/virtio_msg/wire", dir,
			 de->d_name);
		if (lb_read_file(path, val, sizeof(val)))
			continue;
		val[strcspn(val, "\n")] = '\0';
		if (strcmp(val, wire))
			other++;
		else
			found++;
	}
	closedir(d);
	return found && !other;
}

/*
 * waitpid() with a time limit of @ms: 0 once @pid is reaped (its status
 * in @status, which may be NULL), -1 if it is still running.
 */
static inline int lb_wait_exit(pid_t pid, int *status, int ms)
{
	long end = lb_now_ms() + ms;

	do {
		if (waitpid(pid, status, WNOHANG) == pid)
			return 0;
		usleep(20 * 1000);
	} while (lb_now_ms() < end);
	return -1;
}

/*
 * SIGKILL @pid and reap it within @ms: 0, or -1 if it is stuck (in the
 * kernel, where SIGKILL does not reach it), in which case it is left.
 */
static inline int lb_kill_wait(pid_t pid, int *status, int ms)
{
	kill(pid, SIGKILL);
	return lb_wait_exit(pid, status, ms);
}

/*
 * How child @pid ended, waiting at most @ms: its exit status, 128 plus the
 * signal that killed it, or -1 if it did not end in time (it is then
 * killed, and reaped if it can be within a second).
 */
static inline int lb_child_status(pid_t pid, int ms)
{
	int status;

	if (lb_wait_exit(pid, &status, ms)) {
		lb_kill_wait(pid, NULL, 1000);
		return -1;
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

/*
 * A backend process. Set cpu and flags after lb_backend_init(), then
 * lb_backend_start() fills in the rest.
 */
struct lb_backend {
	int cpu;		/* CPU to confine it to, or -1 */
	unsigned int flags;	/* LB_BACKEND_* */
	pid_t pid;		/* -1 when not running */
	int in;			/* its stdin, or -1 if not LB_BACKEND_STDIN */
	int out;		/* its stdout */
	int err;		/* its stderr, or -1 if not LB_BACKEND_STDERR */
};

#define LB_BACKEND_STDIN	0x1	/* give it a pipe as stdin */
#define LB_BACKEND_STDERR	0x2	/* take its stderr on a pipe too */
#define LB_BACKEND_READY_ERR	0x4	/* it says "ready" on stderr */

#define LB_READY_MS		10000	/* for "ready" */
/*
 * For an exit after SIGTERM: a backend serves its devices until the
 * driver let go, for at most 30 s (vmsg_lb_serve()), then exits.
 */
#define LB_STOP_MS		35000
#define LB_REAP_MS		10000	/* for a SIGKILLed process */

static inline void lb_backend_init(struct lb_backend *b)
{
	b->cpu = -1;
	b->flags = 0;
	b->pid = -1;
	b->in = -1;
	b->out = -1;
	b->err = -1;
}

static inline void lb_close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/*
 * End @b for good, as a test teardown does: SIGKILL it if it still runs,
 * reap it within LB_REAP_MS, close the pipes.
 */
static inline void lb_backend_close(struct lb_backend *b)
{
	if (b->pid > 0)
		lb_kill_wait(b->pid, NULL, LB_REAP_MS);
	b->pid = -1;
	lb_close_fd(&b->in);
	lb_close_fd(&b->out);
	lb_close_fd(&b->err);
}

/*
 * Run the backend @argv (argv[0] is its path) with its stdout, and as
 * flags ask its stdin and stderr, on pipes, and wait up to LB_READY_MS
 * for its "ready": 0, or -1 with nothing left running.
 */
static inline int lb_backend_start(struct lb_backend *b, char *const argv[])
{
	int pi[2] = { -1, -1 }, po[2] = { -1, -1 }, pe[2] = { -1, -1 };
	char line[64] = "";
	struct pollfd pfd;
	ssize_t n = 0;

	if (b->flags & LB_BACKEND_READY_ERR)
		b->flags |= LB_BACKEND_STDERR;
	if (pipe2(po, O_CLOEXEC) ||
	    ((b->flags & LB_BACKEND_STDIN) && pipe2(pi, O_CLOEXEC)) ||
	    ((b->flags & LB_BACKEND_STDERR) && pipe2(pe, O_CLOEXEC)))
		goto fail;
	b->pid = fork();
	if (b->pid < 0)
		goto fail;
	if (!b->pid) {
		if (b->cpu >= 0) {
			cpu_set_t set;

			CPU_ZERO(&set);
			CPU_SET(b->cpu, &set);
			if (sched_setaffinity(0, sizeof(set), &set))
				_exit(126);
		}
		/* dup2() clears O_CLOEXEC on the copies. */
		if (dup2(po[1], STDOUT_FILENO) < 0 ||
		    (pi[0] >= 0 && dup2(pi[0], STDIN_FILENO) < 0) ||
		    (pe[1] >= 0 && dup2(pe[1], STDERR_FILENO) < 0))
			_exit(125);
		execv(argv[0], argv);
		_exit(127);
	}
	b->out = po[0];
	b->in = pi[1];
	b->err = pe[0];
	lb_close_fd(&po[1]);
	lb_close_fd(&pi[0]);
	lb_close_fd(&pe[1]);
	pfd.fd = (b->flags & LB_BACKEND_READY_ERR) ? b->err : b->out;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, LB_READY_MS) == 1)
		n = read(pfd.fd, line, sizeof(line) - 1);
	if (n > 0 && !strncmp(line, "ready", 5))
		return 0;
	lb_backend_close(b);
	return -1;
fail:
	lb_close_fd(&po[0]);
	lb_close_fd(&po[1]);
	lb_close_fd(&pi[0]);
	lb_close_fd(&pi[1]);
	lb_close_fd(&pe[0]);
	lb_close_fd(&pe[1]);
	b->pid = -1;
	return -1;
}

/*
 * Stop @b as its users do, with SIGTERM: its exit status, 128 plus a
 * signal that killed it, or -1 if it did not end within @ms (it is then
 * killed). The pipes stay open for what it printed last.
 */
static inline int lb_backend_stop(struct lb_backend *b, int ms)
{
	int ret;

	if (b->pid <= 0)
		return -1;
	kill(b->pid, SIGTERM);
	ret = lb_child_status(b->pid, ms);
	b->pid = -1;
	return ret;
}

/*
 * SIGKILL @b, with no chance to remove its devices: 0 once it is reaped
 * within @ms, killed by that signal; -1 if it is stuck, or had ended
 * otherwise. The pipes stay open.
 */
static inline int lb_backend_kill(struct lb_backend *b, int ms)
{
	int status, ret;

	if (b->pid <= 0)
		return -1;
	ret = lb_kill_wait(b->pid, &status, ms);
	b->pid = -1;
	if (ret)
		return -1;
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL ? 0 : -1;
}

#endif /* VIRTIO_MSG_LB_BACKEND_H */

// SPDX-License-Identifier: GPL-2.0
/*
 * End to end over the virtio-msg loopback bus: the vmsg-console backend
 * serves a virtio console whose port becomes an hvc tty. In echo mode a
 * pattern written to the tty in raw mode reads back unchanged; in stdio
 * mode bytes cross between the backend's stdin/stdout and the tty. When
 * the backend stops, the tty hangs up and goes away.
 */
#include <dirent.h>
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "../../kselftest_harness.h"
#include "virtio_msg_lb_backend.h"

#define VIRTIO_DEVS	"/sys/bus/virtio/devices"
#define NR_HVC		8	/* hvc ttys the hvc core registers */
#define DEV_NUM		"7"
#define PATTERN_LEN	(64 * 1024)
#define ECHO_STEP	1024	/* at most one hvc write */

/* Number of virtio consoles on a virtio-msg loopback bus. */
static int count_consoles(void)
{
	char path[300], buf[32];
	struct dirent *de;
	int count = 0;
	DIR *d;

	d = opendir(VIRTIO_DEVS);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), VIRTIO_DEVS "/%s/device",
			 de->d_name);
		if (lb_read_file(path, buf, sizeof(buf)) ||
		    strtoul(buf, NULL, 0) != 3)
			continue;
		snprintf(path, sizeof(path), VIRTIO_DEVS "/%s", de->d_name);
		if (lb_sysfs_on_loopback(path))
			count++;
	}
	closedir(d);
	return count;
}

/* A bitmap of the hvc ttys that have a backing console now. */
static unsigned int live_hvcs(void)
{
	unsigned int mask = 0;
	char path[32];
	int i, fd;

	for (i = 0; i < NR_HVC; i++) {
		snprintf(path, sizeof(path), "/dev/hvc%d", i);
		fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
		if (fd >= 0) {
			mask |= 1U << i;
			close(fd);
		}
	}
	return mask;
}

/* Wait up to @ms for an hvc tty not in @before; its number, or -1. */
static int wait_new_hvc(unsigned int before, int ms)
{
	long end = lb_now_ms() + ms;
	unsigned int now;

	do {
		now = live_hvcs() & ~before;
		if (now)
			return __builtin_ctz(now);
		usleep(50 * 1000);
	} while (lb_now_ms() < end);
	return -1;
}

/* Open /dev/hvc@n raw and non-blocking. */
static int open_raw(int n)
{
	struct termios t;
	char path[32];
	int fd;

	snprintf(path, sizeof(path), "/dev/hvc%d", n);
	fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (tcgetattr(fd, &t) == 0) {
		cfmakeraw(&t);
		if (tcsetattr(fd, TCSANOW, &t) == 0 &&
		    tcflush(fd, TCIOFLUSH) == 0)
			return fd;
	}
	close(fd);
	return -1;
}

/*
 * Write @len bytes of @out to @wfd while reading @len bytes from @rfd into
 * @in. Gives up after @idle_ms without progress. Returns bytes read.
 */
static size_t pump(int wfd, const uint8_t *out, int rfd, uint8_t *in,
		   size_t len, int idle_ms)
{
	size_t wr = 0, rd = 0;
	struct pollfd pfd[2];
	ssize_t n;
	int ret;

	while (rd < len) {
		pfd[0].fd = rfd;
		pfd[0].events = POLLIN;
		pfd[1].fd = wr < len ? wfd : -1;
		pfd[1].events = POLLOUT;
		ret = poll(pfd, 2, idle_ms);
		if (ret <= 0)
			break;
		if (pfd[0].revents & POLLIN) {
			n = read(rfd, in + rd, len - rd);
			if (n > 0)
				rd += n;
			else if (!n || errno != EAGAIN)
				break;
		} else if (pfd[0].revents) {
			break;
		}
		if (pfd[1].revents & POLLOUT) {
			n = write(wfd, out + wr, len - wr > 4096 ? 4096 :
				  len - wr);
			if (n > 0)
				wr += n;
			else if (n < 0 && errno != EAGAIN)
				break;
		}
	}
	return rd;
}

static void fill_pattern(uint8_t *p, size_t len, uint32_t seed)
{
	size_t i;

	for (i = 0; i < len; i++) {
		seed = seed * 1103515245 + 12345;
		p[i] = seed >> 16;
	}
}

/*
 * A write to an hvc tty waits for the device to take the bytes, spinning
 * with interrupts disabled and the tty's lock held; khvcd and the loopback
 * bus's delivery work (whose callback polls the tty) spin on that lock
 * too. A loopback backend is a process of this machine, so it needs a CPU
 * that none of them can take: we write from @cpu[0], khvcd and the
 * delivery work may only run there, and the backend runs on @cpu[1].
 * Returns how many CPUs we have, at most 2.
 */
static int pick_cpus(int cpu[2])
{
	cpu_set_t set;
	int i, n = 0;

	cpu[0] = -1;
	cpu[1] = -1;
	if (sched_getaffinity(0, sizeof(set), &set))
		return 0;
	for (i = 0; i < CPU_SETSIZE && n < 2; i++)
		if (CPU_ISSET(i, &set))
			cpu[n++] = i;
	return n;
}

static int pin_to(pid_t pid, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(pid, sizeof(set), &set);
}

/* Confine khvcd to @cpu; 0 on success. */
static int pin_khvcd(int cpu)
{
	char path[300], comm[32];
	struct dirent *de;
	int ret = -1;
	DIR *d;

	d = opendir("/proc");
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		if (lb_read_file(path, comm, sizeof(comm)) ||
		    strcmp(comm, "khvcd\n"))
			continue;
		ret = pin_to(atoi(de->d_name), cpu);
		break;
	}
	closedir(d);
	return ret;
}

#define LB_WQ_CPUMASK	"/sys/devices/virtual/workqueue/virtio_msg_lb/cpumask"

/* Confine the loopback bus's delivery work to @cpu; 0 on success. */
static int pin_lb_wq(int cpu)
{
	char mask[16];
	int fd, len, ret;

	if (cpu >= 31)
		return -1;
	len = snprintf(mask, sizeof(mask), "%x\n", 1U << cpu);
	fd = open(LB_WQ_CPUMASK, O_WRONLY);
	if (fd < 0)
		return -1;
	ret = write(fd, mask, len) == len ? 0 : -1;
	close(fd);
	return ret;
}

/* Let the delivery work run on every online CPU again. */
static void unpin_lb_wq(void)
{
	long ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	char buf[16];
	int fd, len;

	if (ncpus < 1 || ncpus > 31)
		return;
	len = snprintf(buf, sizeof(buf), "%lx\n", (1UL << ncpus) - 1);
	fd = open(LB_WQ_CPUMASK, O_WRONLY);
	if (fd < 0)
		return;
	if (write(fd, buf, len) != len)
		fprintf(stderr, "# cannot restore %s\n", LB_WQ_CPUMASK);
	close(fd);
}

#define ALLOW_CONSOLE	"/sys/module/virtio_msg_loopback/parameters/allow_console"

/* Consoles are opt-in (allow_console), read when the backend opens. */
static int allow_consoles(bool allow)
{
	if (access(ALLOW_CONSOLE, F_OK) &&
	    system("modprobe virtio_msg_loopback >/dev/null 2>&1"))
		return -1;
	return lb_write_file(ALLOW_CONSOLE, allow ? "Y" : "N");
}

FIXTURE(console) {
	struct lb_backend be;	/* vmsg-console, all three streams on pipes */
	int hvc;		/* tty number */
	int fd;
	bool can_write;		/* writing to the tty cannot deadlock */
	int cpu[2];		/* ours and the backend's, or -1 */
};

FIXTURE_VARIANT(console) {
	const char *mode;
};

FIXTURE_VARIANT_ADD(console, echo) {
	.mode = "--echo",
};

FIXTURE_VARIANT_ADD(console, stdio) {
	.mode = "--stdio",
};

FIXTURE_SETUP(console)
{
	char prog[256], *argv[5];
	unsigned int before;
	const char *why;
	int cpu[2];

	lb_backend_init(&self->be);
	self->fd = -1;
	why = lb_backend_missing("vmsg-console", prog, sizeof(prog));
	if (why)
		SKIP(return, "%.900s", why); /* fits the reason buffer */
	if (access("/sys/bus/virtio/drivers/virtio_console", F_OK))
		SKIP(return, "no virtio console driver (CONFIG_VIRTIO_CONSOLE)");
	ASSERT_EQ(0, allow_consoles(true));
	if (pick_cpus(cpu) == 2)
		ASSERT_EQ(0, pin_to(0, cpu[0]));
	self->cpu[0] = cpu[0];
	self->cpu[1] = cpu[1];
	before = live_hvcs();
	ASSERT_EQ(0, count_consoles());

	argv[0] = prog;
	argv[1] = (char *)variant->mode;
	argv[2] = "--dev-num";
	argv[3] = DEV_NUM;
	argv[4] = NULL;
	self->be.cpu = cpu[1];
	/* --stdio: stdout carries the data, "ready" goes to stderr. */
	self->be.flags = LB_BACKEND_STDIN | LB_BACKEND_STDERR;
	if (!strcmp(variant->mode, "--stdio"))
		self->be.flags |= LB_BACKEND_READY_ERR;
	ASSERT_EQ(0, lb_backend_start(&self->be, argv))
		TH_LOG("%s did not start", prog);
	self->hvc = wait_new_hvc(before, 20000);
	ASSERT_LE(0, self->hvc) TH_LOG("no new hvc tty appeared");
	EXPECT_EQ(1, count_consoles());
	/* Guest writes need the CPU split described at pick_cpus(). */
	self->can_write = cpu[1] >= 0 && !pin_khvcd(cpu[0]) &&
			  !pin_lb_wq(cpu[0]);
	self->fd = open_raw(self->hvc);
	ASSERT_LE(0, self->fd) TH_LOG("/dev/hvc%d: %s", self->hvc,
				      strerror(errno));
}

FIXTURE_TEARDOWN(console)
{
	unpin_lb_wq();
	lb_close_fd(&self->fd);
	lb_backend_close(&self->be);
	allow_consoles(false);
}

#define NO_WRITE_REASON	"hvc writes need two CPUs and khvcd and the loopback work pinned"

/* Bytes written to the tty come back from where the mode sends them. */
TEST_F_TIMEOUT(console, from_guest, 120)
{
	static uint8_t out[PATTERN_LEN], in[PATTERN_LEN];
	size_t n, off;

	if (!self->can_write)
		SKIP(return, NO_WRITE_REASON);
	fill_pattern(out, sizeof(out), 0x766d7367);
	if (!strcmp(variant->mode, "--stdio")) {
		ASSERT_EQ(0, fcntl(self->be.out, F_SETFL, O_NONBLOCK));
		n = pump(self->fd, out, self->be.out, in, sizeof(out), 10000);
		ASSERT_EQ(sizeof(out), n);
		EXPECT_EQ(0, memcmp(out, in, sizeof(out)));
		return;
	}
	/*
	 * In lockstep: the next piece is written once the echo of the last
	 * one is in, so that the tty never holds more than a piece.
	 */
	for (off = 0; off < sizeof(out); off += ECHO_STEP) {
		n = pump(self->fd, out + off, self->fd, in + off, ECHO_STEP,
			 10000);
		ASSERT_EQ((size_t)ECHO_STEP, n) TH_LOG("echo at %zu", off);
	}
	EXPECT_EQ(0, memcmp(out, in, sizeof(out)));
}

/* --stdio: what the backend reads reaches the tty; no tty writes here. */
TEST_F_TIMEOUT(console, to_guest, 120)
{
	static uint8_t out[PATTERN_LEN], in[PATTERN_LEN];
	size_t n;

	if (strcmp(variant->mode, "--stdio"))
		SKIP(return, "only with --stdio");
	fill_pattern(out, sizeof(out), 0x12345678);
	ASSERT_EQ(0, fcntl(self->be.in, F_SETFL, O_NONBLOCK));
	n = pump(self->be.in, out, self->fd, in, sizeof(out), 10000);
	ASSERT_EQ(sizeof(out), n);
	EXPECT_EQ(0, memcmp(out, in, sizeof(out)));
}

/* SIGTERM: clean exit, the open tty hangs up, the console goes away. */
TEST_F_TIMEOUT(console, stop, 120)
{
	struct pollfd pfd = { .fd = self->fd, .events = POLLIN };
	char buf[256] = "", c = 'x';
	bool stdio;
	long end;
	ssize_t n;

	/* One byte through first, so that the device was in use. */
	stdio = !strcmp(variant->mode, "--stdio");
	if (stdio || self->can_write) {
		ASSERT_EQ(1, write(stdio ? self->be.in : self->fd, &c, 1));
		ASSERT_EQ(1, poll(&pfd, 1, 10000));
		ASSERT_EQ(1, read(self->fd, &c, 1));
		EXPECT_EQ('x', c);
	}

	ASSERT_EQ(0, lb_backend_stop(&self->be, LB_STOP_MS));
	n = read(strcmp(variant->mode, "--stdio") ? self->be.out : self->be.err,
		 buf, sizeof(buf) - 1);
	ASSERT_LT(0, n);
	buf[n] = '\0';
	EXPECT_NE(NULL, strstr(buf, "bytes from the driver"));

	/* The tty is hung up: poll says so and read gives EOF. */
	end = lb_now_ms() + 20000;
	do {
		pfd.revents = 0;
		if (poll(&pfd, 1, 100) == 1 && (pfd.revents & POLLHUP))
			break;
	} while (lb_now_ms() < end);
	EXPECT_TRUE(pfd.revents & POLLHUP);
	EXPECT_EQ(0, read(self->fd, buf, sizeof(buf)));
	close(self->fd);
	self->fd = -1;

	/* And the virtio console is gone. */
	end = lb_now_ms() + 20000;
	while (count_consoles() && lb_now_ms() < end)
		usleep(50 * 1000);
	EXPECT_EQ(0, count_consoles());
	EXPECT_EQ(0U, live_hvcs() & (1U << self->hvc));
}

/* Well below the soft-lockup detector's 20 s. */
#define STALL_BOUND_MS	10000

/*
 * The backend is stopped (SIGSTOP) while the tty is written to: the hvc
 * write spins with interrupts off on its CPU until the device takes the
 * bytes, which a stopped backend never does. The bus's stall watchdog
 * must break the device within stall_timeout_ms, which ends the spin: the
 * writer returns well before the soft-lockup detector would fire.
 *
 * Linux 6.12's virtio_console then frees the bytes of that write while
 * they are still in the virtqueue, and frees them again when the device
 * is removed (a use after free that KASAN reports). The same happens when
 * a backend is killed during an hvc write. The case runs only with
 * VMSG_HVC_BREAK_FIXED set, on a kernel with the fix in
 * patches/0004-virtio_console-take-back-the-buffers-of-a-broken-out-queue.patch
 * (the test guests set it).
 */
TEST_F_TIMEOUT(console, stopped_backend, 120)
{
	char old[32] = "", c = 'x', buf[1024];
	struct pollfd pfd = { .fd = self->fd, .events = POLLIN };
	int status = 0, ret;
	long start, took;
	pid_t writer;

	if (strcmp(variant->mode, "--echo"))
		SKIP(return, "once is enough: with --echo");
	if (!self->can_write)
		SKIP(return, NO_WRITE_REASON);
	if (!getenv("VMSG_HVC_BREAK_FIXED"))
		SKIP(return, "virtio_console frees a broken hvc write twice");
	/* A parameter missing is a failure, but first the freeze it causes. */
	if (lb_read_file(LB_STALL_PARAM, old, sizeof(old)))
		TH_LOG("no %s", LB_STALL_PARAM);
	else if (lb_write_file(LB_STALL_PARAM, "2000\n"))
		TH_LOG("cannot set %s", LB_STALL_PARAM);

	/* The device works. */
	ASSERT_EQ(1, write(self->fd, &c, 1));
	ASSERT_EQ(1, poll(&pfd, 1, 10000));
	ASSERT_EQ(1, read(self->fd, &c, 1));

	ASSERT_EQ(0, kill(self->be.pid, SIGSTOP));
	usleep(100 * 1000);
	/* Off the writer's CPU first: it cannot be left once that spins. */
	ASSERT_EQ(0, pin_to(0, self->cpu[1]));
	memset(buf, 'y', sizeof(buf));
	start = lb_now_ms();
	writer = fork();
	ASSERT_LE(0, writer);
	if (!writer) {
		if (pin_to(0, self->cpu[0]))
			_exit(2);
		ret = write(self->fd, buf, sizeof(buf));
		_exit(ret < 0 && errno != EIO && errno != EAGAIN ? 1 : 0);
	}
	ret = lb_wait_exit(writer, &status, STALL_BOUND_MS);
	took = lb_now_ms() - start;
	kill(self->be.pid, SIGCONT);
	if (ret)
		lb_wait_exit(writer, &status, STALL_BOUND_MS);
	EXPECT_EQ(0, ret) TH_LOG("the writer was still spinning after %ld ms",
				 took);
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	TH_LOG("the writer returned after %ld ms", took);
	if (old[0])
		EXPECT_EQ(0, lb_write_file(LB_STALL_PARAM, old));
	EXPECT_NE(0, old[0]);
}

/* Without allow_console, a backend's console never reaches a driver. */
TEST(refused_by_default)
{
	struct lb_backend be;
	char prog[256], *argv[4];
	unsigned int before;
	const char *why;

	lb_backend_init(&be);
	why = lb_backend_missing("vmsg-console", prog, sizeof(prog));
	if (why)
		SKIP(return, "%.900s", why); /* fits the reason buffer */
	ASSERT_EQ(0, allow_consoles(false));
	before = live_hvcs();
	argv[0] = prog;
	argv[1] = "--echo";
	argv[2] = NULL;
	be.flags = LB_BACKEND_STDIN | LB_BACKEND_STDERR;
	ASSERT_EQ(0, lb_backend_start(&be, argv));
	EXPECT_GT(0, wait_new_hvc(before, 3000));
	EXPECT_EQ(0, count_consoles());
	lb_backend_close(&be);
}

TEST(backend_help)
{
	char prog[256];

	lb_backend_cli_ok(_metadata, "vmsg-console", prog, sizeof(prog));
}

TEST_HARNESS_MAIN

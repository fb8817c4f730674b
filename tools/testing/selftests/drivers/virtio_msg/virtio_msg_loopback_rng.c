// SPDX-License-Identifier: GPL-2.0
/*
 * End to end over the virtio-msg loopback bus: the vmsg-rng backend serves
 * a virtio-rng device whose bytes are read from /dev/hwrng. The backend
 * stops cleanly on SIGTERM; killed with SIGKILL in the middle of reads,
 * its device goes away, the reader gets an error instead of hanging, and
 * the bus module can be unloaded afterwards.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../kselftest_harness.h"

#define LB_PATH		"/dev/virtio-msg-loopback"
#define RNG_SYSFS	"/sys/class/misc/hw_random/"
#define HWRNG_DEV	"/dev/hwrng"
#define DEFAULT_TOOLS	"/opt/virtio_msg/tools"

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool lb_available(void)
{
	if (!access(LB_PATH, F_OK))
		return true;
	if (system("modprobe virtio_msg_loopback >/dev/null 2>&1"))
		return false;
	return !access(LB_PATH, F_OK);
}

static const char *rng_backend(char *buf, size_t len)
{
	const char *dir = getenv("VMSG_TOOLS");

	snprintf(buf, len, "%s/vmsg-rng", dir ? dir : DEFAULT_TOOLS);
	return buf;
}

static int read_file(const char *path, char *buf, size_t len)
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

/* The name of a virtio-rng hwrng source, or "" if there is none. */
static void find_virtio_rng(char *name, size_t len)
{
	char avail[512], *tok, *save;

	name[0] = '\0';
	if (read_file(RNG_SYSFS "rng_available", avail, sizeof(avail)))
		return;
	for (tok = strtok_r(avail, "\n ", &save); tok;
	     tok = strtok_r(NULL, "\n ", &save)) {
		if (!strncmp(tok, "virtio_rng.", 11)) {
			snprintf(name, len, "%s", tok);
			return;
		}
	}
}

/* Wait up to @ms for a virtio-rng source to appear (or to go). */
static bool wait_virtio_rng(bool present, char *name, size_t len, int ms)
{
	long end = now_ms() + ms;

	do {
		find_virtio_rng(name, len);
		if (!!name[0] == present)
			return true;
		usleep(50 * 1000);
	} while (now_ms() < end);
	return false;
}

static int select_rng(const char *name)
{
	int fd, ret = 0;

	fd = open(RNG_SYSFS "rng_current", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, name, strlen(name)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

FIXTURE(rng) {
	pid_t backend;
	int out;		/* the backend's stdout */
	char name[64];
};

/* Start vmsg-rng with stdout on a pipe and wait for its "ready". */
static pid_t start_backend(const char *prog, int *out)
{
	char line[64] = "";
	struct pollfd pfd;
	int p[2];
	pid_t pid;
	ssize_t n;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		dup2(p[1], STDOUT_FILENO);
		close(p[0]);
		close(p[1]);
		execl(prog, prog, "--dev-num", "3", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	*out = p[0];
	pfd.fd = p[0];
	pfd.events = POLLIN;
	n = 0;
	if (poll(&pfd, 1, 10000) == 1)
		n = read(p[0], line, sizeof(line) - 1);
	if (n > 0)
		line[n] = '\0';
	if (strncmp(line, "ready", 5)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -1;
	}
	return pid;
}

/* waitpid() with a time limit; -1 if @pid is still running. */
static int wait_exit(pid_t pid, int *status, int ms)
{
	long end = now_ms() + ms;

	do {
		if (waitpid(pid, status, WNOHANG) == pid)
			return 0;
		usleep(20 * 1000);
	} while (now_ms() < end);
	return -1;
}

FIXTURE_SETUP(rng)
{
	char prog[256];
	struct stat st;

	self->backend = -1;
	self->out = -1;
	rng_backend(prog, sizeof(prog));
	if (stat(prog, &st))
		SKIP(return, "%s: %s", prog, strerror(errno));
	if (!lb_available())
		SKIP(return, "%s missing and module not loadable", LB_PATH);
	if (access(RNG_SYSFS "rng_current", W_OK))
		SKIP(return, "no hwrng core (CONFIG_HW_RANDOM)");

	self->backend = start_backend(prog, &self->out);
	ASSERT_LT(0, self->backend) TH_LOG("%s did not start", prog);
	ASSERT_TRUE(wait_virtio_rng(true, self->name, sizeof(self->name),
				    20000))
		TH_LOG("no virtio_rng source appeared");
	ASSERT_EQ(0, select_rng(self->name));
}

FIXTURE_TEARDOWN(rng)
{
	if (self->backend > 0) {
		kill(self->backend, SIGKILL);
		waitpid(self->backend, NULL, 0);
	}
	if (self->out >= 0)
		close(self->out);
}

TEST_F_TIMEOUT(rng, read_and_stop, 60)
{
	unsigned char a[64], b[64], zero[64] = { 0 };
	char name[64], out[256] = "";
	int fd, status;
	ssize_t n;

	fd = open(HWRNG_DEV, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(sizeof(a), read(fd, a, sizeof(a)));
	ASSERT_EQ(sizeof(b), read(fd, b, sizeof(b)));
	close(fd);
	EXPECT_NE(0, memcmp(a, zero, sizeof(a)));
	EXPECT_NE(0, memcmp(a, b, sizeof(a)));

	/* The open instance holds the module: unloading it must fail. */
	EXPECT_NE(0, system("modprobe -r virtio_msg_loopback 2>/dev/null"));
	EXPECT_EQ(0, access(LB_PATH, F_OK));
	fd = open(HWRNG_DEV, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(sizeof(a), read(fd, a, sizeof(a)));
	close(fd);

	/* SIGTERM: the backend removes its device and exits with 0. */
	ASSERT_EQ(0, kill(self->backend, SIGTERM));
	ASSERT_EQ(0, wait_exit(self->backend, &status, 20000));
	self->backend = -1;
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	n = read(self->out, out, sizeof(out) - 1);
	ASSERT_LT(0, n);
	out[n] = '\0';
	EXPECT_TRUE(!!strstr(out, "served "));
	EXPECT_TRUE(wait_virtio_rng(false, name, sizeof(name), 10000));
}

TEST_F_TIMEOUT(rng, backend_killed, 90)
{
	int progress[2], status, fd;
	char name[64], c;
	pid_t reader;
	ssize_t n;

	ASSERT_EQ(0, pipe(progress));
	reader = fork();
	ASSERT_LE(0, reader);
	if (!reader) {
		unsigned char buf[32];

		close(progress[0]);
		fd = open(HWRNG_DEV, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			_exit(100);
		/* Read until the source fails; report progress. */
		for (;;) {
			n = read(fd, buf, sizeof(buf));
			if (n < 0)
				_exit(errno ? errno : 101);
			if (!n)
				_exit(102);
			if (write(progress[1], "r", 1) < 0)
				_exit(103);
		}
	}
	close(progress[1]);

	/* Let some reads through, then kill the backend mid-stream. */
	ASSERT_EQ(1, read(progress[0], &c, 1));
	ASSERT_EQ(0, kill(self->backend, SIGKILL));
	ASSERT_EQ(self->backend, waitpid(self->backend, &status, 0));
	self->backend = -1;
	EXPECT_TRUE(WIFSIGNALED(status));

	/* The reader is told, quickly; it must not hang. */
	if (wait_exit(reader, &status, 20000)) {
		kill(reader, SIGKILL);
		waitpid(reader, NULL, 0);
		ASSERT_TRUE(false) TH_LOG("reader still blocked");
	}
	close(progress[0]);
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_GT(100, WEXITSTATUS(status))
		TH_LOG("reader ended with %d", WEXITSTATUS(status));
	EXPECT_NE(0, WEXITSTATUS(status));
	EXPECT_TRUE(wait_virtio_rng(false, name, sizeof(name), 10000));

	/* Nothing holds the bus module any more. */
	EXPECT_EQ(0, system("modprobe -r virtio_msg_loopback"));
	EXPECT_NE(0, access(LB_PATH, F_OK));
}

TEST(backend_help)
{
	char prog[256], cmd[300];

	rng_backend(prog, sizeof(prog));
	if (access(prog, X_OK))
		SKIP(return, "%s: %s", prog, strerror(errno));
	snprintf(cmd, sizeof(cmd), "%s --help | grep -q Usage", prog);
	EXPECT_EQ(0, system(cmd));
	snprintf(cmd, sizeof(cmd), "%s --bogus >/dev/null 2>&1", prog);
	EXPECT_EQ(2, WEXITSTATUS(system(cmd)));
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0
/*
 * End to end over the virtio-msg loopback bus: the vmsg-blk backend serves
 * a virtio block device. Data written with O_DIRECT reads back, reaches
 * the backing file after a flush, and the disk's size, serial and
 * read-only flag are the backend's.
 */
#include <dirent.h>
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
#define DEFAULT_TOOLS	"/opt/virtio_msg/tools"
#define IMG_PATH	"/tmp/vmsg-blk-test.img"
#define BLK		4096

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

static void blk_backend(char *buf, size_t len)
{
	const char *dir = getenv("VMSG_TOOLS");

	snprintf(buf, len, "%s/vmsg-blk", dir ? dir : DEFAULT_TOOLS);
}

/* A bitmap of the /sys/block/vdX disks present (a..z). */
static unsigned int vd_disks(void)
{
	unsigned int mask = 0;
	struct dirent *de;
	DIR *d;

	d = opendir("/sys/block");
	if (!d)
		return 0;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, "vd", 2) && de->d_name[2] >= 'a' &&
		    de->d_name[2] <= 'z' && !de->d_name[3])
			mask |= 1U << (de->d_name[2] - 'a');
	closedir(d);
	return mask;
}

/* Wait up to @ms for a disk not in @before; its letter, or 0. */
static char wait_new_disk(unsigned int before, int ms)
{
	long end = now_ms() + ms;
	unsigned int now;

	do {
		now = vd_disks() & ~before;
		if (now)
			return 'a' + __builtin_ctz(now);
		usleep(50 * 1000);
	} while (now_ms() < end);
	return 0;
}

static bool wait_disk_gone(char disk, int ms)
{
	long end = now_ms() + ms;

	do {
		if (!(vd_disks() & (1U << (disk - 'a'))))
			return true;
		usleep(50 * 1000);
	} while (now_ms() < end);
	return false;
}

static int read_attr(char disk, const char *attr, char *buf, size_t len)
{
	char path[128];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/block/vd%c/%s", disk, attr);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return 0;
}

static void fill(uint8_t *buf, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 9));
}

/* Start vmsg-blk with @args, wait for "ready": the pid or -1. */
static pid_t start_backend(char *const args[], int *out)
{
	char line[64] = "";
	struct pollfd pfd;
	ssize_t n = 0;
	int p[2];
	pid_t pid;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		dup2(p[1], STDOUT_FILENO);
		close(p[0]);
		close(p[1]);
		execv(args[0], args);
		_exit(127);
	}
	close(p[1]);
	*out = p[0];
	pfd.fd = p[0];
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 10000) == 1)
		n = read(p[0], line, sizeof(line) - 1);
	if (n <= 0 || strncmp(line, "ready", 5)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -1;
	}
	return pid;
}

/* waitpid() with a time limit; -1 (and @pid killed) if it ran on. */
static int wait_exit(pid_t pid, int *status, int ms)
{
	long end = now_ms() + ms;

	do {
		if (waitpid(pid, status, WNOHANG) == pid)
			return 0;
		usleep(20 * 1000);
	} while (now_ms() < end);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

/* SIGTERM: the exit status, 128 if killed, -1 if it did not stop. */
static int stop_backend(pid_t pid)
{
	int status;

	kill(pid, SIGTERM);
	if (wait_exit(pid, &status, 20000))
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

FIXTURE(blk) {
	char prog[256];
	pid_t backend;
	int out;
	char disk;
	uint8_t *a, *b;
};

FIXTURE_SETUP(blk)
{
	struct stat st;

	self->backend = -1;
	self->out = -1;
	blk_backend(self->prog, sizeof(self->prog));
	if (stat(self->prog, &st))
		SKIP(return, "%s: %s", self->prog, strerror(errno));
	if (!lb_available())
		SKIP(return, "%s missing and module not loadable", LB_PATH);
	ASSERT_EQ(0, posix_memalign((void **)&self->a, BLK, 16 * BLK));
	ASSERT_EQ(0, posix_memalign((void **)&self->b, BLK, 16 * BLK));
}

FIXTURE_TEARDOWN(blk)
{
	if (self->backend > 0) {
		kill(self->backend, SIGKILL);
		waitpid(self->backend, NULL, 0);
	}
	if (self->out >= 0)
		close(self->out);
	unlink(IMG_PATH);
}

/* Start the backend and find its disk; the disk's letter, or 0. */
static char blk_start(char *const args[], pid_t *backend, int *out)
{
	unsigned int before = vd_disks();

	*backend = start_backend(args, out);
	if (*backend < 0)
		return 0;
	return wait_new_disk(before, 20000);
}

/*
 * The disk shows up in sysfs a moment before its device node and its
 * first partition scan are done: retry open() for a few seconds.
 */
static int open_disk(char disk, int flags)
{
	long end = now_ms() + 5000;
	char path[32];
	int fd;

	snprintf(path, sizeof(path), "/dev/vd%c", disk);
	do {
		fd = open(path, flags | O_DIRECT | O_CLOEXEC);
		if (fd >= 0 || (errno != ENOENT && errno != ENXIO))
			return fd;
		usleep(20 * 1000);
	} while (now_ms() < end);
	return fd;
}

TEST_F_TIMEOUT(blk, memory_disk, 90)
{
	char *const args[] = { self->prog, "--size", "8", "--dev-num", "5",
			       NULL };
	char attr[64];
	off_t last;
	int fd;

	self->disk = blk_start(args, &self->backend, &self->out);
	ASSERT_NE(0, self->disk)
		TH_LOG("no virtio disk appeared");
	ASSERT_EQ(0, read_attr(self->disk, "size", attr, sizeof(attr)));
	EXPECT_STREQ("16384", attr);
	ASSERT_EQ(0, read_attr(self->disk, "serial", attr, sizeof(attr)));
	EXPECT_STREQ("vmsg-blk-5", attr);
	ASSERT_EQ(0, read_attr(self->disk, "ro", attr, sizeof(attr)));
	EXPECT_STREQ("0", attr);

	fd = open_disk(self->disk, O_RDWR);
	ASSERT_LE(0, fd);
	/* A fresh memory disk reads as zeros. */
	memset(self->b, 0xff, BLK);
	ASSERT_EQ(BLK, pread(fd, self->b, BLK, 0));
	memset(self->a, 0, BLK);
	EXPECT_EQ(0, memcmp(self->a, self->b, BLK));

	/* Multi-segment writes at the start and the very end. */
	last = 8 * 1024 * 1024 - 16 * BLK;
	fill(self->a, 16 * BLK, 1);
	ASSERT_EQ(16 * BLK, pwrite(fd, self->a, 16 * BLK, 0));
	fill(self->a, 16 * BLK, 2);
	ASSERT_EQ(16 * BLK, pwrite(fd, self->a, 16 * BLK, last));
	EXPECT_EQ(0, fsync(fd));

	ASSERT_EQ(16 * BLK, pread(fd, self->b, 16 * BLK, last));
	EXPECT_EQ(0, memcmp(self->a, self->b, 16 * BLK));
	fill(self->a, 16 * BLK, 1);
	ASSERT_EQ(16 * BLK, pread(fd, self->b, 16 * BLK, 0));
	EXPECT_EQ(0, memcmp(self->a, self->b, 16 * BLK));
	/* Past the end: the block layer stops it, nothing hangs. */
	EXPECT_GE(0, pread(fd, self->b, BLK, 8 * 1024 * 1024));
	close(fd);

	EXPECT_EQ(0, stop_backend(self->backend));
	self->backend = -1;
	EXPECT_TRUE(wait_disk_gone(self->disk, 10000));
}

TEST_F_TIMEOUT(blk, file_disk_flush, 90)
{
	char *const args[] = { self->prog, "--file", IMG_PATH, "--dev-num",
			       "6", NULL };
	int fd, img;

	/* A 4 MiB image with a known first block. */
	img = open(IMG_PATH, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ASSERT_LE(0, img);
	ASSERT_EQ(0, ftruncate(img, 4 << 20));
	fill(self->a, BLK, 3);
	ASSERT_EQ(BLK, pwrite(img, self->a, BLK, 0));
	close(img);

	self->disk = blk_start(args, &self->backend, &self->out);
	ASSERT_NE(0, self->disk)
		TH_LOG("no virtio disk appeared");
	fd = open_disk(self->disk, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(BLK, pread(fd, self->b, BLK, 0));
	EXPECT_EQ(0, memcmp(self->a, self->b, BLK));

	fill(self->a, 4 * BLK, 4);
	ASSERT_EQ(4 * BLK, pwrite(fd, self->a, 4 * BLK, 8 * BLK));
	EXPECT_EQ(0, fsync(fd));
	close(fd);

	/* Once flushed, the data is in the file. */
	img = open(IMG_PATH, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, img);
	ASSERT_EQ(4 * BLK, pread(img, self->b, 4 * BLK, 8 * BLK));
	close(img);
	EXPECT_EQ(0, memcmp(self->a, self->b, 4 * BLK));

	EXPECT_EQ(0, stop_backend(self->backend));
	self->backend = -1;
	EXPECT_TRUE(wait_disk_gone(self->disk, 10000));
}

TEST_F_TIMEOUT(blk, read_only, 60)
{
	char *const args[] = { self->prog, "--size", "1", "--read-only",
			       "--dev-num", "7", NULL };
	char attr[16];
	int fd;

	self->disk = blk_start(args, &self->backend, &self->out);
	ASSERT_NE(0, self->disk)
		TH_LOG("no virtio disk appeared");
	ASSERT_EQ(0, read_attr(self->disk, "ro", attr, sizeof(attr)));
	EXPECT_STREQ("1", attr);
	/* Refused at open() or at write(), depending on the kernel. */
	fd = open_disk(self->disk, O_RDWR);
	if (fd < 0) {
		EXPECT_EQ(EACCES, errno);
	} else {
		memset(self->a, 0x11, BLK);
		EXPECT_EQ(-1, pwrite(fd, self->a, BLK, 0));
		EXPECT_EQ(EPERM, errno);
		close(fd);
	}
	fd = open_disk(self->disk, O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(BLK, pread(fd, self->b, BLK, 0));
	memset(self->a, 0, BLK);
	EXPECT_EQ(0, memcmp(self->a, self->b, BLK));
	close(fd);
}

/*
 * The backend dies: the disk goes away and I/O on a still open file
 * returns no data, at once. The backend is killed between requests: virtio-blk
 * (as of 6.12) cannot complete requests a vanished device still holds,
 * so killing it with I/O in flight leaves that I/O, and the removal of
 * the disk, waiting.
 */
TEST_F_TIMEOUT(blk, backend_killed, 90)
{
	char *const args[] = { self->prog, "--size", "4", "--dev-num", "8",
			       NULL };
	int status, fd;
	pid_t reader;

	self->disk = blk_start(args, &self->backend, &self->out);
	ASSERT_NE(0, self->disk)
		TH_LOG("no virtio disk appeared");
	fd = open_disk(self->disk, O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(16 * BLK, pread(fd, self->b, 16 * BLK, 0));

	ASSERT_EQ(0, kill(self->backend, SIGKILL));
	ASSERT_EQ(0, wait_exit(self->backend, &status, 20000))
		TH_LOG("backend did not die");
	self->backend = -1;
	ASSERT_TRUE(wait_disk_gone(self->disk, 20000));

	/*
	 * In a child, so that a hang is reported, not inherited. The removed
	 * disk has no size left: an error or end of file, never data.
	 */
	reader = fork();
	ASSERT_LE(0, reader);
	if (!reader)
		_exit(pread(fd, self->b, 16 * BLK, 0) > 0);
	ASSERT_EQ(0, wait_exit(reader, &status, 20000))
		TH_LOG("read on a removed disk blocked");
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	close(fd);
}

TEST_HARNESS_MAIN

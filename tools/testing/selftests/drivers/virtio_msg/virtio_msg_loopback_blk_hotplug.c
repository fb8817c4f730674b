// SPDX-License-Identifier: GPL-2.0
/*
 * vmsg-blk disks coming and going over the virtio-msg loopback bus. A
 * backend that stops (SIGTERM: it removes its device) or is killed
 * (SIGKILL: the bus removes it when the process's file is closed) takes
 * its disk away, idle or in the middle of I/O. Either way the I/O gets
 * errors instead of hanging, the processes doing it end within a bound,
 * the disk leaves /sys/block, and a new backend gives a working disk
 * again. Other disks are not disturbed.
 *
 * With recovery (vmsg-blk --recovery-ms), a killed backend's disk stays:
 * a new vmsg-blk --adopt takes it over and finishes the I/O it held, so
 * that nothing fails and nothing waits for ever, also on a kernel whose
 * virtio-blk cannot fail the requests of a vanished disk. Nobody adopting
 * it, the disk goes once the grace period is over.
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
#include <unistd.h>

#include "../../kselftest_harness.h"
#include "virtio_msg_lb_backend.h"
#include "virtio_msg_lb_blk.h"

#define DISK_MIB	16
#define IO_WORKERS	3
#define IO_CHUNK	(64 * 1024)
#define IO_ROUNDS	(4 * IO_WORKERS)	/* before the backend goes */
#define IO_ALARM_S	120	/* a worker still running then is stuck */
#define IO_END_MS	45000	/* for the workers to end once it went */

/* How an I/O worker ends, when not with the errno of a failed call. */
enum {
	IO_OPEN = 200,		/* could not open the disk */
	IO_EOF,			/* a read or write moved no data */
	IO_SHORT,		/* a read or write moved part of it */
	IO_CORRUPT,		/* data read back differs */
};

FIXTURE(hotplug) {
	char prog[256];
	struct lb_backend be, other;
	pid_t workers[IO_WORKERS];
};

FIXTURE_SETUP(hotplug)
{
	const char *why;
	int i;

	lb_backend_init(&self->be);
	lb_backend_init(&self->other);
	for (i = 0; i < IO_WORKERS; i++)
		self->workers[i] = -1;
	why = lb_backend_missing("vmsg-blk", self->prog, sizeof(self->prog));
	if (why)
		SKIP(return, "%.900s", why); /* fits the reason buffer */
}

FIXTURE_TEARDOWN(hotplug)
{
	int i;

	for (i = 0; i < IO_WORKERS; i++)
		if (self->workers[i] > 0)
			lb_kill_wait(self->workers[i], NULL, LB_REAP_MS);
	lb_backend_close(&self->be);
	lb_backend_close(&self->other);
}

/* Write 16 blocks of pattern @seed to @disk, flush, read them back. */
static bool disk_works(char disk, unsigned int seed)
{
	off_t off = (off_t)seed % 64 * 16 * BLK;
	uint8_t *a = NULL, *b = NULL;
	bool ok = false;
	int fd;

	fd = blk_open(disk, O_RDWR);
	if (fd < 0)
		return false;
	if (posix_memalign((void **)&a, BLK, 16 * BLK) ||
	    posix_memalign((void **)&b, BLK, 16 * BLK))
		goto out;
	blk_fill(a, 16 * BLK, seed);
	if (pwrite(fd, a, 16 * BLK, off) != 16 * BLK || fsync(fd) ||
	    pread(fd, b, 16 * BLK, off) != 16 * BLK)
		goto out;
	ok = !memcmp(a, b, 16 * BLK);
out:
	free(a);
	free(b);
	close(fd);
	return ok;
}

/*
 * A new backend @prog, with device number @dev_num, in @be, gives a disk
 * that works, and stops cleanly.
 */
static void new_disk_works(struct __test_metadata *_metadata,
			   const char *prog, struct lb_backend *be,
			   const char *dev_num)
{
	char *const args[] = { (char *)prog, "--size", "4", "--dev-num",
			       (char *)dev_num, NULL };
	char disk;

	disk = blk_start(be, args);
	ASSERT_NE(0, disk) TH_LOG("no new disk after the last one went");
	EXPECT_TRUE(disk_works(disk, 77));
	EXPECT_EQ(0, lb_backend_stop(be, LB_STOP_MS));
	EXPECT_TRUE(blk_wait_gone(disk, BLK_WAIT_MS));
}

/*
 * Disks come and go while idle, one of them while another stays: the
 * one that stays keeps working, the same device number serves a new
 * disk each time.
 */
TEST_F_TIMEOUT(hotplug, add_remove_idle, 180)
{
	char *const args_a[] = { self->prog, "--size", "4", "--dev-num",
				 "20", NULL };
	char *const args_b[] = { self->prog, "--size", "4", "--dev-num",
				 "21", NULL };
	char a, b;
	int round;

	a = blk_start(&self->be, args_a);
	ASSERT_NE(0, a) TH_LOG("no first disk");
	b = blk_start(&self->other, args_b);
	ASSERT_NE(0, b) TH_LOG("no second disk");
	ASSERT_NE(a, b);
	EXPECT_TRUE(disk_works(a, 1));
	EXPECT_TRUE(disk_works(b, 2));

	EXPECT_EQ(0, lb_backend_stop(&self->be, LB_STOP_MS));
	EXPECT_TRUE(blk_wait_gone(a, BLK_WAIT_MS));
	EXPECT_TRUE(disk_works(b, 3)) TH_LOG("the other disk broke");

	for (round = 0; round < 3; round++) {
		a = blk_start(&self->be, args_a);
		ASSERT_NE(0, a) TH_LOG("no disk in round %d", round);
		EXPECT_TRUE(disk_works(a, 10 + round));
		EXPECT_EQ(0, lb_backend_stop(&self->be, LB_STOP_MS));
		EXPECT_TRUE(blk_wait_gone(a, BLK_WAIT_MS));
	}
	EXPECT_TRUE(disk_works(b, 4));
	EXPECT_EQ(0, lb_backend_stop(&self->other, LB_STOP_MS));
	EXPECT_TRUE(blk_wait_gone(b, BLK_WAIT_MS));
}

/*
 * The backend dies between requests: the disk goes away, and I/O on a
 * still open file returns no data, at once.
 */
TEST_F_TIMEOUT(hotplug, killed_idle, 90)
{
	char *const args[] = { self->prog, "--size", "4", "--dev-num", "22",
			       NULL };
	uint8_t *buf;
	pid_t reader;
	char disk;
	int fd;

	ASSERT_EQ(0, posix_memalign((void **)&buf, BLK, 16 * BLK));
	disk = blk_start(&self->be, args);
	ASSERT_NE(0, disk) TH_LOG("no virtio disk appeared");
	fd = blk_open(disk, O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(16 * BLK, pread(fd, buf, 16 * BLK, 0));

	ASSERT_EQ(0, lb_backend_kill(&self->be, LB_REAP_MS))
		TH_LOG("backend did not die");
	ASSERT_TRUE(blk_wait_gone(disk, BLK_WAIT_MS));

	/*
	 * In a child, so that a hang is reported, not inherited. The removed
	 * disk has no size left: an error or end of file, never data.
	 */
	reader = fork();
	ASSERT_LE(0, reader);
	if (!reader)
		_exit(pread(fd, buf, 16 * BLK, 0) > 0);
	EXPECT_EQ(0, lb_child_status(reader, 20000))
		TH_LOG("a read on a removed disk blocked or returned data");
	close(fd);
	free(buf);

	new_disk_works(_metadata, self->prog, &self->be, "22");
}

/* An image file of @mib MiB for vmsg-blk --file, in @path: 0 or -1. */
static int image_create(char *path, size_t len, int mib)
{
	int fd;

	snprintf(path, len, "/tmp/vmsg-adopt-XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	if (ftruncate(fd, (off_t)mib << 20)) {
		close(fd);
		unlink(path);
		return -1;
	}
	close(fd);
	return 0;
}

static void io_failed(ssize_t n)
{
	if (n < 0)
		_exit(errno > 0 && errno < IO_OPEN ? errno : IO_SHORT);
	_exit(n ? IO_SHORT : IO_EOF);
}

/*
 * An I/O worker (child): over its own part of the disk, in a loop, write
 * a chunk with O_DIRECT, read it back and compare; a byte on @progress
 * after each round. Never returns; see the IO_* codes for how it ends.
 */
static void io_worker(char disk, int id, int progress, int stop)
{
	off_t span = (off_t)DISK_MIB * 1024 * 1024 / IO_WORKERS / IO_CHUNK *
		     IO_CHUNK;
	uint8_t *buf, *got;
	unsigned int seq;
	off_t off = 0;
	ssize_t n;
	int fd;

	alarm(IO_ALARM_S);
	fd = blk_open(disk, O_RDWR);
	if (fd < 0 || posix_memalign((void **)&buf, BLK, IO_CHUNK) ||
	    posix_memalign((void **)&got, BLK, IO_CHUNK))
		_exit(IO_OPEN);
	for (seq = 0; ; seq++) {
		blk_fill(buf, IO_CHUNK, id * 100000 + seq);
		n = pwrite(fd, buf, IO_CHUNK, id * span + off);
		if (n != IO_CHUNK)
			io_failed(n);
		n = pread(fd, got, IO_CHUNK, id * span + off);
		if (n != IO_CHUNK)
			io_failed(n);
		if (memcmp(buf, got, IO_CHUNK))
			_exit(IO_CORRUPT);
		/* Non-blocking: a full pipe only means nobody counts. */
		if (write(progress, "r", 1) < 0 && errno != EAGAIN)
			_exit(IO_SHORT);
		off = (off + IO_CHUNK) % span;
		/* Told to stop (the other end closed): a clean end. */
		if (stop >= 0 && !read(stop, buf, 1))
			_exit(0);
	}
}

/* Read @count bytes from @fd within @ms. */
static bool wait_rounds(int fd, int count, int ms)
{
	long end = lb_now_ms() + ms;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char buf[64];
	ssize_t n;

	while (count > 0) {
		if (poll(&pfd, 1, end - lb_now_ms()) != 1)
			return false;
		n = read(fd, buf, count < 64 ? count : 64);
		if (n <= 0)
			return false;
		count -= n;
	}
	return true;
}

/*
 * Workers (their pids in @workers) do I/O on the disk of backend @prog,
 * with device number @dev_num, in @be, which then goes with @sig: SIGTERM
 * (it removes the device itself) or SIGKILL (the bus removes it). The
 * workers see I/O errors and end, the disk goes away, a new one works.
 */
static void io_then_gone(struct __test_metadata *_metadata,
			 const char *prog, struct lb_backend *be,
			 pid_t *workers, int sig, const char *dev_num)
{
	char *const args[] = { (char *)prog, "--size", "16", "--dev-num",
			       (char *)dev_num, NULL };
	int progress[2], status[IO_WORKERS], i;
	char how[8 * IO_WORKERS];
	size_t len = 0;
	long start, ended;
	char disk;

	disk = blk_start(be, args);
	ASSERT_NE(0, disk) TH_LOG("no virtio disk appeared");
	ASSERT_EQ(0, pipe2(progress, O_CLOEXEC | O_NONBLOCK));
	for (i = 0; i < IO_WORKERS; i++) {
		workers[i] = fork();
		ASSERT_LE(0, workers[i]);
		if (!workers[i]) {
			close(progress[0]);
			io_worker(disk, i, progress[1], -1);
		}
	}
	close(progress[1]);
	ASSERT_TRUE(wait_rounds(progress[0], IO_ROUNDS, 30000))
		TH_LOG("the I/O does not get going");

	start = lb_now_ms();
	if (sig == SIGTERM) {
		EXPECT_EQ(0, lb_backend_stop(be, LB_STOP_MS))
			TH_LOG("backend did not stop cleanly");
		TH_LOG("the backend stopped in %ld ms", lb_now_ms() - start);
	} else {
		EXPECT_EQ(0, lb_backend_kill(be, LB_REAP_MS))
			TH_LOG("backend did not die");
	}

	/* One deadline for all of them. */
	for (i = 0; i < IO_WORKERS; i++) {
		ended = start + IO_END_MS - lb_now_ms();
		status[i] = lb_child_status(workers[i],
					    ended > 0 ? ended : 0);
		workers[i] = -1;
	}
	ended = lb_now_ms() - start;
	close(progress[0]);

	/*
	 * Each ends with the errno of a failed read or write (EIO for
	 * those the device held, ENOSPC or end of file for those that
	 * came after the disk lost its size), none with wrong data.
	 */
	for (i = 0; i < IO_WORKERS; i++) {
		EXPECT_NE(-1, status[i]) TH_LOG("worker %d hangs", i);
		EXPECT_NE(IO_CORRUPT, status[i]);
		EXPECT_NE(IO_OPEN, status[i]);
		EXPECT_TRUE((status[i] > 0 && status[i] < 128) ||
			    status[i] == IO_EOF)
			TH_LOG("worker %d ended with %d", i, status[i]);
		len += snprintf(how + len, sizeof(how) - len, " %d",
				status[i]);
	}
	TH_LOG("workers ended within %ld ms, with%s", ended, how);
	EXPECT_TRUE(blk_wait_gone(disk, BLK_WAIT_MS))
		TH_LOG("vd%c is still there", disk);

	new_disk_works(_metadata, prog, be, dev_num);
}

/* SIGTERM while I/O is in flight: vmsg-blk removes its device. */
TEST_F_TIMEOUT(hotplug, removed_during_io, 150)
{
	io_then_gone(_metadata, self->prog, &self->be, self->workers, SIGTERM,
		     "23");
}

/*
 * SIGKILL while I/O is in flight: the requests the device held are
 * never answered by it. The core fails them in its stead, so that the
 * I/O and the disk's removal end on any kernel, Linux 6.12's virtio-blk
 * without patches/0001 and 0002 included.
 */
TEST_F_TIMEOUT(hotplug, killed_during_io, 150)
{
	io_then_gone(_metadata, self->prog, &self->be, self->workers, SIGKILL,
		     "24");
}

/*
 * SIGKILL while I/O is in flight, with recovery: a new vmsg-blk adopts
 * the disk and completes what the dead one held. No worker sees an error
 * or wrong data, the disk stays (same /dev/vdX) and works, and an orderly
 * stop removes it. Not skipped on a kernel without the virtio-blk fix:
 * that is where recovery is needed.
 */
TEST_F_TIMEOUT(hotplug, adopted_during_io, 150)
{
	char img[64], serial[32];
	char *const args[] = { self->prog, "--file", img, "--recovery-ms",
			       "20000", "--dev-num", "25", NULL };
	char *const adopt[] = { self->prog, "--file", img, "--adopt",
				"--dev-num", "25", NULL };
	int progress[2], stop[2], status[IO_WORKERS], i;
	long start, ended;
	char disk;

	ASSERT_EQ(0, image_create(img, sizeof(img), DISK_MIB));
	disk = blk_start(&self->be, args);
	if (!disk)
		unlink(img);
	ASSERT_NE(0, disk) TH_LOG("no virtio disk appeared");
	ASSERT_EQ(0, pipe2(progress, O_CLOEXEC | O_NONBLOCK));
	ASSERT_EQ(0, pipe2(stop, O_CLOEXEC | O_NONBLOCK));
	for (i = 0; i < IO_WORKERS; i++) {
		self->workers[i] = fork();
		ASSERT_LE(0, self->workers[i]);
		if (!self->workers[i]) {
			close(progress[0]);
			close(stop[1]);
			io_worker(disk, i, progress[1], stop[0]);
		}
	}
	close(progress[1]);
	close(stop[0]);
	EXPECT_TRUE(wait_rounds(progress[0], IO_ROUNDS, 30000))
		TH_LOG("the I/O does not get going");

	EXPECT_EQ(0, lb_backend_kill(&self->be, LB_REAP_MS))
		TH_LOG("backend did not die");
	start = lb_now_ms();
	EXPECT_EQ(0, lb_backend_start(&self->other, adopt))
		TH_LOG("vmsg-blk --adopt did not take the disk over");
	TH_LOG("adopted %ld ms after the kill", lb_now_ms() - start);
	/* The I/O goes on, on the disk it had. */
	EXPECT_TRUE(wait_rounds(progress[0], IO_ROUNDS, 30000))
		TH_LOG("the I/O does not go on after the adoption");
	EXPECT_EQ(0, blk_read_attr(disk, "serial", serial, sizeof(serial)));
	EXPECT_STREQ("vmsg-blk-25", serial);

	close(stop[1]);
	for (i = 0; i < IO_WORKERS; i++) {
		ended = start + IO_END_MS - lb_now_ms();
		status[i] = lb_child_status(self->workers[i],
					    ended > 0 ? ended : 0);
		self->workers[i] = -1;
		EXPECT_EQ(0, status[i])
			TH_LOG("worker %d ended with %d (-1: hangs)", i,
			       status[i]);
	}
	close(progress[0]);

	EXPECT_TRUE(disk_works(disk, 25)) TH_LOG("vd%c broke", disk);
	EXPECT_EQ(0, lb_backend_stop(&self->other, LB_STOP_MS))
		TH_LOG("the adopter did not stop cleanly");
	EXPECT_TRUE(blk_wait_gone(disk, BLK_WAIT_MS))
		TH_LOG("vd%c is still there", disk);
	unlink(img);
}

/*
 * With recovery and nobody adopting, the disk of a killed (idle)
 * backend stays for the grace period, then goes; the number serves a
 * new disk afterwards.
 */
TEST_F_TIMEOUT(hotplug, recovery_expires, 90)
{
	char *const args[] = { self->prog, "--size", "4", "--recovery-ms",
			       "2000", "--dev-num", "26", NULL };
	long start;
	char disk;

	disk = blk_start(&self->be, args);
	ASSERT_NE(0, disk) TH_LOG("no virtio disk appeared");
	ASSERT_EQ(0, lb_backend_kill(&self->be, LB_REAP_MS))
		TH_LOG("backend did not die");
	start = lb_now_ms();
	/* Kept: still there well inside the grace period. */
	usleep(300 * 1000);
	EXPECT_TRUE(!!(blk_disks() & (1U << (disk - 'a'))))
		TH_LOG("vd%c went at once", disk);
	EXPECT_TRUE(blk_wait_gone(disk, 2000 + BLK_WAIT_MS))
		TH_LOG("vd%c stays after the grace period", disk);
	TH_LOG("gone %ld ms after the kill", lb_now_ms() - start);

	new_disk_works(_metadata, self->prog, &self->be, "26");
}

/* ADOPT on a fresh file, as vmsg-blk --adopt does: -errno or 0. */
static int adopt_on(int fd, uint32_t dev_num)
{
	return lb_dev(fd, VIRTIO_MSG_LB_IOC_ADOPT, dev_num) ? -errno : 0;
}

/*
 * Adoption refused: a number no orphan holds, a file that has a device
 * already, a file speaking another wire generation, and a memory-backed
 * vmsg-blk. None of them disturbs the orphan, which goes in time.
 */
TEST_F_TIMEOUT(hotplug, adoption_refused, 90)
{
	char *const args[] = { self->prog, "--size", "4", "--recovery-ms",
			       "10000", "--dev-num", "27", NULL };
	char *const by_mem[] = { self->prog, "--size", "4", "--adopt",
				 "--dev-num", "27", NULL };
	struct virtio_msg_lb_params p = {
		.size = sizeof(p),
		.wire = VIRTIO_MSG_WIRE_V2,
	};
	struct virtio_msg_lb_dev_state st = {
		.size = sizeof(st),
		.dev_num = 27,
	};
	int fd, busy;
	char disk;

	fd = lb_open(0);
	ASSERT_LE(0, fd);
	/* Nobody died yet: no orphan has the number. */
	EXPECT_EQ(-ENOENT, adopt_on(fd, 27));
	close(fd);

	disk = blk_start(&self->be, args);
	ASSERT_NE(0, disk) TH_LOG("no virtio disk appeared");
	ASSERT_EQ(0, lb_backend_kill(&self->be, LB_REAP_MS));

	fd = lb_open(0);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-ENOENT, adopt_on(fd, 28)) TH_LOG("another number");
	/* The orphan speaks v2; a file that never said so speaks v1. */
	EXPECT_EQ(-EPROTO, adopt_on(fd, 27));
	/* The state of a device that is not the file's. */
	EXPECT_EQ(-1, ioctl(fd, VIRTIO_MSG_LB_IOC_GET_DEV_STATE, &st));
	EXPECT_EQ(ENODEV, errno);
	close(fd);

	busy = lb_open(0);
	ASSERT_LE(0, busy);
	ASSERT_EQ(0, ioctl(busy, VIRTIO_MSG_LB_IOC_SET_PARAMS, &p));
	ASSERT_EQ(0, lb_dev(busy, VIRTIO_MSG_LB_IOC_ADD_DEVICE, 30));
	EXPECT_EQ(-EBUSY, adopt_on(busy, 27)) TH_LOG("a file with a device");
	close(busy);

	/* vmsg-blk refuses to adopt with a disk in memory: no "ready". */
	EXPECT_NE(0, lb_backend_start(&self->other, by_mem));

	EXPECT_TRUE(blk_wait_gone(disk, 10000 + BLK_WAIT_MS))
		TH_LOG("the orphan did not go");
	fd = lb_open(0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, VIRTIO_MSG_LB_IOC_SET_PARAMS, &p));
	EXPECT_EQ(-ENOENT, adopt_on(fd, 27)) TH_LOG("the orphan is gone");
	close(fd);
}

TEST_HARNESS_MAIN

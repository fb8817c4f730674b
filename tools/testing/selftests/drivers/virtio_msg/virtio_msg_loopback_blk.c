// SPDX-License-Identifier: GPL-2.0
/*
 * End to end over the virtio-msg loopback bus: the vmsg-blk backend serves
 * a virtio block device. Data written with O_DIRECT reads back, reaches
 * the backing file after a flush, and the disk's size, serial and
 * read-only flag are the backend's. An ext2 file system made on the disk
 * holds its files across an unmount and a new backend on the same image.
 * Every test runs with the backend speaking each wire generation.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../kselftest_harness.h"
#include "virtio_msg_lb_backend.h"
#include "virtio_msg_lb_blk.h"

#define IMG_PATH	"/tmp/vmsg-blk-test.img"
#define MNT_PATH	"/tmp/vmsg-blk-mnt"
#define FS_MIB		16
#define FS_FILES	8

#define STALL_OLD_LEN	32

FIXTURE(blk) {
	char prog[256];
	struct lb_backend be;
	char disk;
	bool mounted;
	uint8_t *a, *b;
	char stall_old[STALL_OLD_LEN];	/* watchdog setting to restore, or "" */
};

FIXTURE_VARIANT(blk) {
	const char *wire;
};

FIXTURE_VARIANT_ADD(blk, v1) {
	.wire = "v1",
};

FIXTURE_VARIANT_ADD(blk, v2) {
	.wire = "v2",
};

/* The wire generation goes last on every backend command line. */
#define BLK_WIRE	"--wire", (char *)variant->wire

FIXTURE_SETUP(blk)
{
	const char *why;

	lb_backend_init(&self->be);
	self->mounted = false;
	self->stall_old[0] = '\0';
	why = lb_backend_missing("vmsg-blk", self->prog, sizeof(self->prog));
	if (why)
		SKIP(return, "%.900s", why); /* fits the reason buffer */
	why = lb_wire_missing(variant->wire);
	if (why)
		SKIP(return, "%.900s", why); /* fits the reason buffer */
	ASSERT_EQ(0, posix_memalign((void **)&self->a, BLK, 16 * BLK));
	ASSERT_EQ(0, posix_memalign((void **)&self->b, BLK, 16 * BLK));
}

FIXTURE_TEARDOWN(blk)
{
	if (self->mounted)
		umount2(MNT_PATH, MNT_DETACH);
	lb_backend_close(&self->be);
	unlink(IMG_PATH);
	if (self->stall_old[0])
		lb_write_file(LB_STALL_PARAM, self->stall_old);
}

/*
 * The loopback's stall watchdog off, for a test that stops its backend
 * longer than the watchdog waits; the setting it had goes to @old (@len
 * bytes), which the fixture's teardown writes back.
 */
static void stall_watchdog_off(struct __test_metadata *_metadata, char *old,
			       size_t len)
{
	ASSERT_EQ(0, lb_read_file(LB_STALL_PARAM, old, len))
		TH_LOG("no %s", LB_STALL_PARAM);
	ASSERT_EQ(0, lb_write_file(LB_STALL_PARAM, "0\n"));
}

TEST_F_TIMEOUT(blk, memory_disk, 90)
{
	char *const args[] = { self->prog, "--size", "8", "--dev-num", "5",
			       BLK_WIRE, NULL };
	char attr[64];
	off_t last;
	int fd;

	self->disk = blk_start(&self->be, args);
	ASSERT_NE(0, self->disk)
		TH_LOG("no virtio disk appeared");
	EXPECT_TRUE(lb_driver_wire_is("virtio_blk", variant->wire))
		TH_LOG("the disk is not spoken to in %s", variant->wire);
	ASSERT_EQ(0, blk_read_attr(self->disk, "size", attr, sizeof(attr)));
	EXPECT_STREQ("16384", attr);
	ASSERT_EQ(0, blk_read_attr(self->disk, "serial", attr, sizeof(attr)));
	EXPECT_STREQ("vmsg-blk-5", attr);
	ASSERT_EQ(0, blk_read_attr(self->disk, "ro", attr, sizeof(attr)));
	EXPECT_STREQ("0", attr);

	fd = blk_open(self->disk, O_RDWR);
	ASSERT_LE(0, fd);
	/* A fresh memory disk reads as zeros. */
	memset(self->b, 0xff, BLK);
	ASSERT_EQ(BLK, pread(fd, self->b, BLK, 0));
	memset(self->a, 0, BLK);
	EXPECT_EQ(0, memcmp(self->a, self->b, BLK));

	/* Multi-segment writes at the start and the very end. */
	last = 8 * 1024 * 1024 - 16 * BLK;
	blk_fill(self->a, 16 * BLK, 1);
	ASSERT_EQ(16 * BLK, pwrite(fd, self->a, 16 * BLK, 0));
	blk_fill(self->a, 16 * BLK, 2);
	ASSERT_EQ(16 * BLK, pwrite(fd, self->a, 16 * BLK, last));
	EXPECT_EQ(0, fsync(fd));

	ASSERT_EQ(16 * BLK, pread(fd, self->b, 16 * BLK, last));
	EXPECT_EQ(0, memcmp(self->a, self->b, 16 * BLK));
	blk_fill(self->a, 16 * BLK, 1);
	ASSERT_EQ(16 * BLK, pread(fd, self->b, 16 * BLK, 0));
	EXPECT_EQ(0, memcmp(self->a, self->b, 16 * BLK));
	/* Past the end: the block layer stops it, nothing hangs. */
	EXPECT_GE(0, pread(fd, self->b, BLK, 8 * 1024 * 1024));
	close(fd);

	EXPECT_EQ(0, lb_backend_stop(&self->be, LB_STOP_MS));
	EXPECT_TRUE(blk_wait_gone(self->disk, BLK_WAIT_MS));
}

TEST_F_TIMEOUT(blk, file_disk_flush, 90)
{
	char *const args[] = { self->prog, "--file", IMG_PATH, "--dev-num",
			       "6", BLK_WIRE, NULL };
	int fd, img;

	/* A 4 MiB image with a known first block. */
	img = open(IMG_PATH, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ASSERT_LE(0, img);
	ASSERT_EQ(0, ftruncate(img, 4 << 20));
	blk_fill(self->a, BLK, 3);
	ASSERT_EQ(BLK, pwrite(img, self->a, BLK, 0));
	close(img);

	self->disk = blk_start(&self->be, args);
	ASSERT_NE(0, self->disk)
		TH_LOG("no virtio disk appeared");
	fd = blk_open(self->disk, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(BLK, pread(fd, self->b, BLK, 0));
	EXPECT_EQ(0, memcmp(self->a, self->b, BLK));

	blk_fill(self->a, 4 * BLK, 4);
	ASSERT_EQ(4 * BLK, pwrite(fd, self->a, 4 * BLK, 8 * BLK));
	EXPECT_EQ(0, fsync(fd));
	close(fd);

	/* Once flushed, the data is in the file. */
	img = open(IMG_PATH, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, img);
	ASSERT_EQ(4 * BLK, pread(img, self->b, 4 * BLK, 8 * BLK));
	close(img);
	EXPECT_EQ(0, memcmp(self->a, self->b, 4 * BLK));

	EXPECT_EQ(0, lb_backend_stop(&self->be, LB_STOP_MS));
	EXPECT_TRUE(blk_wait_gone(self->disk, BLK_WAIT_MS));
}

TEST_F_TIMEOUT(blk, read_only, 60)
{
	char *const args[] = { self->prog, "--size", "1", "--read-only",
			       "--dev-num", "7", BLK_WIRE, NULL };
	char attr[16];
	int fd;

	self->disk = blk_start(&self->be, args);
	ASSERT_NE(0, self->disk)
		TH_LOG("no virtio disk appeared");
	ASSERT_EQ(0, blk_read_attr(self->disk, "ro", attr, sizeof(attr)));
	EXPECT_STREQ("1", attr);
	/* Refused at open() or at write(), depending on the kernel. */
	fd = blk_open(self->disk, O_RDWR);
	if (fd < 0) {
		EXPECT_EQ(EACCES, errno);
	} else {
		memset(self->a, 0x11, BLK);
		EXPECT_EQ(-1, pwrite(fd, self->a, BLK, 0));
		EXPECT_EQ(EPERM, errno);
		close(fd);
	}
	fd = blk_open(self->disk, O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(BLK, pread(fd, self->b, BLK, 0));
	memset(self->a, 0, BLK);
	EXPECT_EQ(0, memcmp(self->a, self->b, BLK));
	close(fd);
}

/*
 * More readers than the ring holds without indirect descriptors: vmsg-blk's
 * 128 entries take 42 requests of 3 segments. With them each request takes
 * one entry, and all 64 fit.
 */
#define FULL_READERS	64

/* Reads in flight on /dev/vd@disk (started, not yet completed), or -1. */
static int blk_inflight_reads(char disk)
{
	char attr[64];

	if (blk_read_attr(disk, "inflight", attr, sizeof(attr)))
		return -1;
	return atoi(attr);
}

/* What reads_peer_killed() uses of the fixture. */
struct killed_reads {
	char *prog;
	struct lb_backend *be;
	char *disk;
	char *stall_old;	/* STALL_OLD_LEN bytes */
	uint8_t *buf;		/* BLK bytes */
};

/*
 * The backend stops answering (SIGSTOP) while FULL_READERS reads reach
 * it, then it is killed: the peer is lost, the device breaks, and every
 * read fails with EIO, which the core answers in the device's stead (on
 * any kernel). With @indirect the device holds them all, with their
 * indirect tables: none may leak (the kmemleak check). Without, see
 * full_ring_peer_killed.
 *
 * The stall watchdog is off while the reads arrive: on a loaded machine
 * that can take longer than the watchdog, which would break the device
 * first.
 */
static void reads_peer_killed(struct __test_metadata *_metadata,
			      const struct killed_reads *k, const char *wire,
			      const char *dev_num, bool indirect)
{
	char *const args[] = { k->prog, "--size", "8", "--dev-num",
			       (char *)dev_num, "--wire", (char *)wire,
			       indirect ? NULL : "--no-indirect", NULL };
	pid_t readers[FULL_READERS];
	int i, n, last, stable, eio = 0, hung = 0;
	long end;

	stall_watchdog_off(_metadata, k->stall_old, STALL_OLD_LEN);
	*k->disk = blk_start(k->be, args);
	ASSERT_NE(0, *k->disk)
		TH_LOG("no virtio disk appeared");
	ASSERT_EQ(0, kill(k->be->pid, SIGSTOP));
	for (i = 0; i < FULL_READERS; i++) {
		readers[i] = fork();
		ASSERT_LE(0, readers[i]);
		if (!readers[i]) {
			int fd = blk_open(*k->disk, O_RDONLY);
			ssize_t r;

			if (fd < 0)
				_exit(3);
			r = pread(fd, k->buf, BLK, (off_t)i * BLK);
			_exit(r < 0 ? (errno == EIO ? 0 : 2) : 1);
		}
	}
	/* Every read that will reach the ring has once the count stops. */
	end = lb_now_ms() + BLK_WAIT_MS;
	last = -1;
	stable = 0;
	while (stable < 5 && lb_now_ms() < end) {
		usleep(100 * 1000);
		n = blk_inflight_reads(*k->disk);
		stable = n > 0 && n == last ? stable + 1 : 0;
		last = n;
	}
	TH_LOG("%d reads on the ring, %d waiting", last, FULL_READERS - last);
	EXPECT_LT(0, last);
	/* All of them with indirect descriptors, some only without. */
	EXPECT_TRUE(indirect ? last == FULL_READERS : last < FULL_READERS);

	EXPECT_EQ(0, lb_backend_kill(k->be, BLK_WAIT_MS))
		TH_LOG("the backend's release hangs");
	for (i = 0; i < FULL_READERS; i++) {
		n = lb_child_status(readers[i], BLK_WAIT_MS);
		if (!n)
			eio++;
		else if (n < 0)
			hung++;
	}
	EXPECT_EQ(0, hung) TH_LOG("%d reads never ended", hung);
	EXPECT_EQ(FULL_READERS, eio);
	EXPECT_TRUE(blk_wait_gone(*k->disk, BLK_WAIT_MS));
}

/*
 * Without indirect descriptors the readers fill the ring and more wait
 * behind it, in a hardware queue the full ring stopped. Nothing restarts
 * a stopped queue but a used buffer, which a broken device never returns,
 * so without the driver restarting it the waiting reads, and the disk's
 * removal, hang for ever. (With indirect descriptors the driver never
 * queues more requests than the ring has entries.)
 */
TEST_F_TIMEOUT(blk, full_ring_peer_killed, 120)
{
	const struct killed_reads k = {
		.prog = self->prog, .be = &self->be, .disk = &self->disk,
		.stall_old = self->stall_old, .buf = self->a,
	};

	reads_peer_killed(_metadata, &k, variant->wire, "11", false);
}

/* The device holds every read when it dies, indirect tables and all. */
TEST_F_TIMEOUT(blk, indirect_peer_killed, 120)
{
	const struct killed_reads k = {
		.prog = self->prog, .be = &self->be, .disk = &self->disk,
		.stall_old = self->stall_old, .buf = self->a,
	};

	reads_peer_killed(_metadata, &k, variant->wire, "13", true);
}

#define HELD_READERS	8
/*
 * The held reads are a block apart: the I/O scheduler merges adjacent
 * reads of different readers into one request, and the test counts them.
 */
#define HELD_STRIDE	(2 * BLK)

/*
 * SIGTERM is an orderly stop: vmsg-blk withdraws its disk but serves it
 * until the driver has let go of it, so the reads the device holds then
 * complete with their data instead of failing; a surprise removal would
 * fail them with EIO. The backend is stopped (SIGSTOP, stall watchdog
 * off) while the reads are issued, so that all of them are in flight
 * when the SIGTERM arrives.
 */
TEST_F_TIMEOUT(blk, stop_completes_held_reads, 120)
{
	char *const args[] = { self->prog, "--size", "8", "--dev-num", "12",
			       BLK_WIRE, NULL };
	pid_t readers[HELD_READERS];
	int i, n, fd, ok = 0;
	long end;

	stall_watchdog_off(_metadata, self->stall_old, sizeof(self->stall_old));
	self->disk = blk_start(&self->be, args);
	ASSERT_NE(0, self->disk)
		TH_LOG("no virtio disk appeared");
	fd = blk_open(self->disk, O_RDWR);
	ASSERT_LE(0, fd);
	blk_fill(self->a, HELD_READERS * HELD_STRIDE, 21);
	ASSERT_EQ(HELD_READERS * HELD_STRIDE,
		  pwrite(fd, self->a, HELD_READERS * HELD_STRIDE, 0));
	ASSERT_EQ(0, fsync(fd));
	close(fd);

	ASSERT_EQ(0, kill(self->be.pid, SIGSTOP));
	for (i = 0; i < HELD_READERS; i++) {
		readers[i] = fork();
		ASSERT_LE(0, readers[i]);
		if (!readers[i]) {
			int rfd = blk_open(self->disk, O_RDONLY);

			if (rfd < 0)
				_exit(3);
			if (pread(rfd, self->b, BLK,
				  (off_t)i * HELD_STRIDE) != BLK)
				_exit(errno == EIO ? 4 : 2);
			_exit(memcmp(self->a + i * HELD_STRIDE, self->b,
				     BLK) ? 1 : 0);
		}
	}
	end = lb_now_ms() + BLK_WAIT_MS;
	do {
		usleep(50 * 1000);
		n = blk_inflight_reads(self->disk);
	} while (n < HELD_READERS && lb_now_ms() < end);
	EXPECT_EQ(HELD_READERS, n) TH_LOG("%d reads in flight", n);

	/* Taken when it runs again; one SIGTERM only, a second ends the wait. */
	ASSERT_EQ(0, kill(self->be.pid, SIGTERM));
	ASSERT_EQ(0, kill(self->be.pid, SIGCONT));
	for (i = 0; i < HELD_READERS; i++) {
		n = lb_child_status(readers[i], BLK_WAIT_MS);
		if (!n)
			ok++;
		else
			TH_LOG("reader %d ended with %d", i, n);
	}
	EXPECT_EQ(HELD_READERS, ok);
	EXPECT_EQ(0, lb_child_status(self->be.pid, LB_STOP_MS))
		TH_LOG("the backend did not stop cleanly");
	self->be.pid = -1;
	EXPECT_TRUE(blk_wait_gone(self->disk, BLK_WAIT_MS));
}

/* Size of file @i of the file system test: odd sizes, up to 1.4 MiB. */
static size_t fs_file_size(int i)
{
	return (size_t)i * i * 23 * 1024 + i * 4099 + 1;
}

/*
 * Write (or, with @check, read back and compare) the files of the file
 * system test under MNT_PATH: 0, or the index of the first bad file + 1.
 */
static int fs_files(bool check)
{
	uint8_t buf[4096], got[4096];
	char path[128];
	size_t size, off, n;
	int i, fd, flags;
	struct stat st;

	flags = check ? O_RDONLY : O_WRONLY | O_CREAT | O_EXCL;
	for (i = 0; i < FS_FILES; i++) {
		snprintf(path, sizeof(path), MNT_PATH "/%s/file%d",
			 i & 1 ? "odd" : "even", i);
		fd = open(path, flags | O_CLOEXEC, 0644);
		if (fd < 0)
			return i + 1;
		size = fs_file_size(i);
		if (check && (fstat(fd, &st) || (size_t)st.st_size != size))
			goto bad;
		for (off = 0; off < size; off += n) {
			n = size - off < sizeof(buf) ? size - off : sizeof(buf);
			blk_fill(buf, n, i * 1000 + off / sizeof(buf));
			if (check) {
				if (read(fd, got, n) != (ssize_t)n ||
				    memcmp(buf, got, n))
					goto bad;
			} else if (write(fd, buf, n) != (ssize_t)n) {
				goto bad;
			}
		}
		/* Nothing past the end; what was written is on the disk. */
		if (check ? read(fd, got, 1) != 0 : fsync(fd) != 0)
			goto bad;
		close(fd);
	}
	return 0;
bad:
	close(fd);
	return i + 1;
}

/*
 * mke2fs (busybox) on the disk, files written in directories through
 * the file system, unmounted; then a new backend serves the same image
 * and the files read back intact.
 */
TEST_F_TIMEOUT(blk, ext2_remount, 180)
{
	char *const args[] = { self->prog, "--file", IMG_PATH, "--dev-num",
			       "9", BLK_WIRE, NULL };
	char *const args2[] = { self->prog, "--file", IMG_PATH, "--dev-num",
				"10", BLK_WIRE, NULL };
	char cmd[128], dev[16];
	uint8_t magic[2];
	int img;

	img = open(IMG_PATH, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ASSERT_LE(0, img);
	ASSERT_EQ(0, ftruncate(img, FS_MIB << 20));
	close(img);
	if (mkdir(MNT_PATH, 0755))
		ASSERT_EQ(EEXIST, errno);

	self->disk = blk_start(&self->be, args);
	ASSERT_NE(0, self->disk)
		TH_LOG("no virtio disk appeared");
	snprintf(dev, sizeof(dev), "/dev/vd%c", self->disk);
	snprintf(cmd, sizeof(cmd), "mke2fs -F -L vmsg-blk %s >/dev/null", dev);
	ASSERT_EQ(0, system(cmd)) TH_LOG("%s failed", cmd);
	ASSERT_EQ(0, mount(dev, MNT_PATH, "ext2", 0, NULL))
		TH_LOG("mount %s: %s", dev, strerror(errno));
	self->mounted = true;
	ASSERT_EQ(0, mkdir(MNT_PATH "/even", 0755));
	ASSERT_EQ(0, mkdir(MNT_PATH "/odd", 0755));
	EXPECT_EQ(0, fs_files(false));
	ASSERT_EQ(0, umount(MNT_PATH)) TH_LOG("umount: %s", strerror(errno));
	self->mounted = false;
	EXPECT_EQ(0, lb_backend_stop(&self->be, LB_STOP_MS));
	ASSERT_TRUE(blk_wait_gone(self->disk, BLK_WAIT_MS));

	/* The image holds an ext2 file system now (magic 0xef53). */
	img = open(IMG_PATH, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, img);
	ASSERT_EQ(2, pread(img, magic, 2, 1024 + 56));
	close(img);
	EXPECT_EQ(0x53, magic[0]);
	EXPECT_EQ(0xef, magic[1]);

	self->disk = blk_start(&self->be, args2);
	ASSERT_NE(0, self->disk)
		TH_LOG("no virtio disk appeared on the same image");
	snprintf(dev, sizeof(dev), "/dev/vd%c", self->disk);
	ASSERT_EQ(0, mount(dev, MNT_PATH, "ext2", MS_RDONLY, NULL))
		TH_LOG("mount %s again: %s", dev, strerror(errno));
	self->mounted = true;
	EXPECT_EQ(0, fs_files(true));
	ASSERT_EQ(0, umount(MNT_PATH));
	self->mounted = false;
	EXPECT_EQ(0, lb_backend_stop(&self->be, LB_STOP_MS));
	EXPECT_TRUE(blk_wait_gone(self->disk, BLK_WAIT_MS));
}

TEST_HARNESS_MAIN

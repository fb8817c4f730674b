// SPDX-License-Identifier: GPL-2.0
/*
 * Several vmsg-blk disks at once over the virtio-msg loopback bus, one
 * backend process each, all busy at the same time: every disk gets
 * patterns of its own, written and read back with O_DIRECT by two
 * workers per disk, and checked by checksum on the disk and, once the
 * backends have flushed and stopped, in each backing file. Data that
 * lands on the wrong disk, or in the wrong place, shows.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../kselftest_harness.h"
#include "virtio_msg_lb_backend.h"
#include "virtio_msg_lb_blk.h"

#define NR_DISKS	4
#define PARTS		2	/* workers per disk, one per part of it */
#define NR_WORKERS	(NR_DISKS * PARTS)
#define DISK_MIB	8
#define CHUNK		(64 * 1024)
#define PART_CHUNKS	(DISK_MIB * 1024 * 1024 / CHUNK / PARTS)
#define PASSES		2
#define IMG_FMT		"/tmp/vmsg-blk-stress%d.img"
#define FIRST_DEV_NUM	40
#define WORKER_S	240	/* a worker still running then is stuck */

struct part_sum {
	int worker;
	uint64_t sum;
};

FIXTURE(stress) {
	char prog[256];
	struct lb_backend be[NR_DISKS];
	pid_t workers[NR_WORKERS];
};

FIXTURE_SETUP(stress)
{
	const char *why;
	int i;

	for (i = 0; i < NR_DISKS; i++)
		lb_backend_init(&self->be[i]);
	for (i = 0; i < NR_WORKERS; i++)
		self->workers[i] = -1;
	why = lb_backend_missing("vmsg-blk", self->prog, sizeof(self->prog));
	if (why)
		SKIP(return, "%.900s", why); /* fits the reason buffer */
}

FIXTURE_TEARDOWN(stress)
{
	char path[64];
	int i;

	for (i = 0; i < NR_WORKERS; i++)
		if (self->workers[i] > 0)
			lb_kill_wait(self->workers[i], NULL, LB_REAP_MS);
	for (i = 0; i < NR_DISKS; i++) {
		lb_backend_close(&self->be[i]);
		snprintf(path, sizeof(path), IMG_FMT, i);
		unlink(path);
	}
}

/* What chunk @chunk of disk @d holds after pass @pass. */
static void chunk_data(uint8_t *buf, int d, int pass, int chunk)
{
	blk_fill(buf, CHUNK, (d + 1) * 1000003 + pass * 7919 + chunk);
}

/* The checksum of part @part of disk @d after the last pass. */
static uint64_t part_sum(uint8_t *buf, int d, int part)
{
	uint64_t sum = FNV_INIT;
	int c;

	for (c = part * PART_CHUNKS; c < (part + 1) * PART_CHUNKS; c++) {
		chunk_data(buf, d, PASSES - 1, c);
		sum = fnv1a(sum, buf, CHUNK);
	}
	return sum;
}

/*
 * A worker (child) for part @part of disk @d (vd@disk): once @start is
 * closed, each pass writes the part's chunks in one order, flushes, and
 * reads them back in another, comparing; at the end it sends the part's
 * checksum, read from the disk, on @report. Exits 0, or with the step
 * that failed.
 */
static int worker(char disk, int d, int part, int start, int report)
{
	struct part_sum res = { d * PARTS + part, FNV_INIT };
	uint8_t *buf, *got;
	int pass, k, c, fd;
	char go;

	alarm(WORKER_S);
	fd = blk_open(disk, O_RDWR);
	if (fd < 0 || posix_memalign((void **)&buf, BLK, CHUNK) ||
	    posix_memalign((void **)&got, BLK, CHUNK))
		return 1;
	if (read(start, &go, 1) != 0)
		return 2;
	for (pass = 0; pass < PASSES; pass++) {
		/* 7 and 5 are prime to PART_CHUNKS: every chunk, once. */
		for (k = 0; k < PART_CHUNKS; k++) {
			c = part * PART_CHUNKS + k * 7 % PART_CHUNKS;
			chunk_data(buf, d, pass, c);
			if (pwrite(fd, buf, CHUNK, (off_t)c * CHUNK) != CHUNK)
				return 3;
		}
		if (fsync(fd))
			return 4;
		for (k = 0; k < PART_CHUNKS; k++) {
			c = part * PART_CHUNKS + (k * 5 + 3) % PART_CHUNKS;
			chunk_data(buf, d, pass, c);
			if (pread(fd, got, CHUNK, (off_t)c * CHUNK) != CHUNK)
				return 5;
			if (memcmp(buf, got, CHUNK))
				return 6;
		}
	}
	for (c = part * PART_CHUNKS; c < (part + 1) * PART_CHUNKS; c++) {
		if (pread(fd, got, CHUNK, (off_t)c * CHUNK) != CHUNK)
			return 7;
		res.sum = fnv1a(res.sum, got, CHUNK);
	}
	if (write(report, &res, sizeof(res)) != sizeof(res))
		return 8;
	return 0;
}

/* The checksum of part @part of backing file @path. */
static int file_sum(const char *path, int part, uint8_t *buf, uint64_t *sum)
{
	int c, fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	*sum = FNV_INIT;
	for (c = part * PART_CHUNKS; c < (part + 1) * PART_CHUNKS; c++) {
		if (pread(fd, buf, CHUNK, (off_t)c * CHUNK) != CHUNK) {
			close(fd);
			return -EIO;
		}
		*sum = fnv1a(*sum, buf, CHUNK);
	}
	close(fd);
	return 0;
}

TEST_F_TIMEOUT(stress, four_disks_at_once, 280)
{
	char imgs[NR_DISKS][64], nums[NR_DISKS][8], disk[NR_DISKS];
	uint64_t want[NR_WORKERS], got[NR_WORKERS], sum = 0;
	int start[2], report[2], i, d, img;
	bool seen[NR_WORKERS] = { false };
	struct part_sum res;
	uint8_t *buf;
	long t0;

	ASSERT_NE(NULL, buf = malloc(CHUNK));
	for (d = 0; d < NR_DISKS; d++) {
		char *const args[] = { self->prog, "--file", imgs[d],
				       "--dev-num", nums[d], NULL };

		snprintf(imgs[d], sizeof(imgs[d]), IMG_FMT, d);
		snprintf(nums[d], sizeof(nums[d]), "%d", FIRST_DEV_NUM + d);
		img = open(imgs[d], O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
			   0600);
		ASSERT_LE(0, img);
		ASSERT_EQ(0, ftruncate(img, DISK_MIB << 20));
		close(img);
		disk[d] = blk_start(&self->be[d], args);
		ASSERT_NE(0, disk[d]) TH_LOG("no disk for backend %d", d);
		for (i = 0; i < d; i++)
			ASSERT_NE(disk[i], disk[d]);
	}
	for (i = 0; i < NR_WORKERS; i++)
		want[i] = part_sum(buf, i / PARTS, i % PARTS);

	/* All workers ready, then all go at once. */
	ASSERT_EQ(0, pipe2(start, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(report, O_CLOEXEC));
	for (i = 0; i < NR_WORKERS; i++) {
		self->workers[i] = fork();
		ASSERT_LE(0, self->workers[i]);
		if (!self->workers[i]) {
			close(start[1]);
			close(report[0]);
			_exit(worker(disk[i / PARTS], i / PARTS, i % PARTS,
				     start[0], report[1]));
		}
	}
	close(start[0]);
	close(report[1]);
	t0 = lb_now_ms();
	close(start[1]);

	for (i = 0; i < NR_WORKERS; i++) {
		EXPECT_EQ(0, lb_child_status(self->workers[i],
					     WORKER_S * 1000))
			TH_LOG("worker %d (vd%c) failed", i, disk[i / PARTS]);
		self->workers[i] = -1;
	}
	TH_LOG("%d workers, %d MiB moved in %ld ms", NR_WORKERS,
	       NR_DISKS * DISK_MIB * (PASSES * 2 + 1), lb_now_ms() - t0);
	while (read(report[0], &res, sizeof(res)) == sizeof(res)) {
		ASSERT_TRUE(res.worker >= 0 && res.worker < NR_WORKERS);
		seen[res.worker] = true;
		got[res.worker] = res.sum;
	}
	close(report[0]);
	for (i = 0; i < NR_WORKERS; i++) {
		ASSERT_TRUE(seen[i]) TH_LOG("no checksum from worker %d", i);
		EXPECT_EQ(want[i], got[i])
			TH_LOG("disk %d part %d: wrong data", i / PARTS,
			       i % PARTS);
	}

	/* Flushed at exit, each image holds its own disk's data. */
	for (d = 0; d < NR_DISKS; d++) {
		EXPECT_EQ(0, lb_backend_stop(&self->be[d], LB_STOP_MS));
		EXPECT_TRUE(blk_wait_gone(disk[d], BLK_WAIT_MS));
	}
	for (i = 0; i < NR_WORKERS; i++) {
		ASSERT_EQ(0, file_sum(imgs[i / PARTS], i % PARTS, buf, &sum));
		EXPECT_EQ(want[i], sum)
			TH_LOG("image %d part %d: wrong data", i / PARTS,
			       i % PARTS);
	}
	free(buf);
}

TEST_HARNESS_MAIN

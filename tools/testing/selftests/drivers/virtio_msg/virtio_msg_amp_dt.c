// SPDX-License-Identifier: GPL-2.0
/*
 * The AMP bus from the device tree: the arm64 test guest's tree has two
 * "virtio,msg-amp" nodes (tools/testing/virtio_msg/amp-dt.dtsi) whose
 * reserved regions, in the guest's RAM, vmsg-amp serves from the host with
 * "--region ... --blk 16 --rng" (device numbers 0 and 1). One node has no
 * doorbells, so both sides poll (variant "poll"); the other has mailbox
 * doorbells through virtio_msg_amp_test_mbox, a controller without
 * hardware that counts the "tx" doorbells and rings "rx" from a timer
 * (variant "mbox"). The tests load virtio_msg_amp_of (and the controller,
 * after it, so that the node waits for its mailbox), find the devices
 * under the node's platform device, move data through them, and unbind
 * and bind the platform driver with the disk open. Skipped where the tree
 * has no such node (x86_64, or a guest booted without it).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../kselftest_harness.h"
#include "virtio_msg_lb_backend.h"
#include "virtio_msg_lb_blk.h"
#include "virtio_msg_amp_sysfs.h"

#define PLATFORM_DEVS	"/sys/bus/platform/devices"
#define RNG_SYSFS	"/sys/class/misc/hw_random/"
#define RNG_DRIVER	"/sys/bus/virtio/drivers/virtio_rng/"
#define OF_DRIVER	"virtio_msg_amp_of"
#define OF_DRIVER_DIR	"/sys/bus/platform/drivers/" OF_DRIVER "/"
#define MBOX_DRIVER	"virtio_msg_amp_test_mbox"
#define COMPATIBLE	"virtio,msg-amp"
#define MBOX_COMPATIBLE	"virtio,msg-amp-test-mbox"
#define AMP_WAIT_MS	60000
#define NR_DT_DEVS	2	/* blk, rng */
#define DISK_BLOCKS	1024	/* 4 MiB of the 16 MiB disk */

enum { ID_BLK = 2, ID_RNG = 4 };

/*
 * The platform device of the first node compatible with @compatible, with
 * an mboxes property or without as @mboxes says: its name and its resolved
 * sysfs path; false if the tree has none.
 */
static bool find_node(const char *compatible, bool mboxes, char *name,
		      size_t nlen, char *path, size_t plen)
{
	char p[PATH_MAX], compat[256];
	struct dirent *de;
	bool found = false;
	DIR *dir;
	int fd;
	ssize_t n;

	dir = opendir(PLATFORM_DEVS);
	if (!dir)
		return false;
	while (!found && (de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), PLATFORM_DEVS "/%s/of_node/compatible",
			 de->d_name);
		fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		/* A list of NUL-terminated strings; the first is enough. */
		n = read(fd, compat, sizeof(compat) - 1);
		close(fd);
		if (n <= 0)
			continue;
		compat[n] = '\0';
		if (strcmp(compat, compatible))
			continue;
		snprintf(p, sizeof(p), PLATFORM_DEVS "/%s/of_node/mboxes",
			 de->d_name);
		if (!access(p, F_OK) != mboxes)
			continue;
		snprintf(p, sizeof(p), PLATFORM_DEVS "/%s", de->d_name);
		found = realpath(p, path) && strlen(path) < plen &&
			strlen(de->d_name) < nlen;
		if (found)
			snprintf(name, nlen, "%s", de->d_name);
	}
	closedir(dir);
	return found;
}

/* The name (virtioN) of the device with ID @id below @top, or false. */
static bool find_device(const char *top, int id, char *name, size_t len)
{
	char names[NR_DT_DEVS * 2][32];
	int ids[NR_DT_DEVS * 2], n, i;

	n = list_amp_devices(top, names, ids, NR_DT_DEVS * 2);
	for (i = 0; i < n; i++) {
		if (ids[i] == id) {
			snprintf(name, len, "%s", names[i]);
			return true;
		}
	}
	return false;
}

/* The disk below @top: its letter, or 0. */
static char dt_disk(const char *top)
{
	char p[PATH_MAX];
	int i;

	for (i = 0; i < 26; i++) {
		if (!(blk_disks() & (1U << i)))
			continue;
		snprintf(p, sizeof(p), "/sys/block/vd%c/device", 'a' + i);
		if (below(p, top))
			return 'a' + i;
	}
	return 0;
}

/* The driver bound to the platform device @name, or "" for none. */
static void bound_driver(const char *name, char *drv, size_t len)
{
	char link[PATH_MAX], target[PATH_MAX];
	const char *base;
	ssize_t n;

	drv[0] = '\0';
	snprintf(link, sizeof(link), PLATFORM_DEVS "/%s/driver", name);
	n = readlink(link, target, sizeof(target) - 1);
	if (n <= 0)
		return;
	target[n] = '\0';
	base = strrchr(target, '/');
	snprintf(drv, len, "%.63s", base ? base + 1 : target);
}

/* Wait for the platform device @name to have @want bound, bounded. */
static bool wait_driver(const char *name, const char *want, int ms)
{
	long end = lb_now_ms() + ms;
	char drv[64];

	do {
		bound_driver(name, drv, sizeof(drv));
		if (!strcmp(drv, want))
			return true;
		usleep(50 * 1000);
	} while (lb_now_ms() < end);
	return false;
}

/* Counter @attr of the test mailbox controller @top, or -1. */
static long mbox_count(const char *top, const char *attr)
{
	char p[PATH_MAX + 32], buf[32];

	snprintf(p, sizeof(p), "%s/%s", top, attr);
	if (lb_read_file(p, buf, sizeof(buf)))
		return -1;
	return strtol(buf, NULL, 0);
}

/* The hwrng sources listed in rng_available, as one string. */
static int rng_sources(char *buf, size_t len)
{
	return lb_read_file(RNG_SYSFS "rng_available", buf, len);
}

/* The first word of @have that is not in @had, or false. */
static bool new_word(const char *have, const char *had, char *word,
		     size_t len)
{
	char copy[512], *tok, *save;
	size_t n;
	const char *p;

	snprintf(copy, sizeof(copy), "%s", have);
	for (tok = strtok_r(copy, "\n ", &save); tok;
	     tok = strtok_r(NULL, "\n ", &save)) {
		n = strlen(tok);
		for (p = strstr(had, tok); p; p = strstr(p + 1, tok))
			if ((p == had || p[-1] == ' ' || p[-1] == '\n') &&
			    (p[n] == '\0' || p[n] == ' ' || p[n] == '\n'))
				break;
		if (!p) {
			snprintf(word, len, "%s", tok);
			return true;
		}
	}
	return false;
}

FIXTURE(dt) {
	char name[64];
	char top[PATH_MAX];
	char mbox_name[64];
	char mbox[PATH_MAX];
	uint8_t *a, *b;
};

FIXTURE_VARIANT(dt) {
	bool mboxes;
};

/* The node as a board without doorbells describes it: polled. */
FIXTURE_VARIANT_ADD(dt, poll) {
	.mboxes = false,
};

/* Mailbox doorbells both ways, through the test controller. */
FIXTURE_VARIANT_ADD(dt, mbox) {
	.mboxes = true,
};

FIXTURE_SETUP(dt)
{
	self->a = NULL;
	self->b = NULL;
	if (!find_node(COMPATIBLE, variant->mboxes, self->name,
		       sizeof(self->name), self->top, sizeof(self->top)))
		SKIP(return, "no %s node %s mboxes (VMSG_AMP_DT, arm64)",
		     COMPATIBLE, variant->mboxes ? "with" : "without");
	ASSERT_EQ(0, system("modprobe " OF_DRIVER));
	if (variant->mboxes) {
		/* After the glue: the node waits for its controller. */
		ASSERT_TRUE(find_node(MBOX_COMPATIBLE, false, self->mbox_name,
				      sizeof(self->mbox_name), self->mbox,
				      sizeof(self->mbox)));
		ASSERT_EQ(0, system("modprobe " MBOX_DRIVER));
		ASSERT_TRUE(wait_driver(self->mbox_name, MBOX_DRIVER,
					AMP_WAIT_MS));
	}
	ASSERT_TRUE(wait_driver(self->name, OF_DRIVER, AMP_WAIT_MS))
		TH_LOG("%s is not bound", self->name);
	ASSERT_EQ(NR_DT_DEVS, wait_devices(self->top, NR_DT_DEVS, AMP_WAIT_MS));
	ASSERT_EQ(0, posix_memalign((void **)&self->a, BLK, 256 * BLK));
	ASSERT_EQ(0, posix_memalign((void **)&self->b, BLK, 256 * BLK));
}

FIXTURE_TEARDOWN(dt)
{
	free(self->a);
	free(self->b);
}

/*
 * The node is as amp-dt.dtsi wrote it (a region; polling or mailboxes, no
 * interrupt), and the devices vmsg-amp serves are there with their
 * drivers, their rings and buffers in the region.
 */
TEST_F_TIMEOUT(dt, devices, 120)
{
	char names[NR_DT_DEVS][32], p[PATH_MAX + 64], buf[256];
	int ids[NR_DT_DEVS], n, i, blk = 0, rng = 0;
	FILE *f;

	snprintf(p, sizeof(p), "%s/of_node/memory-region", self->top);
	EXPECT_EQ(0, access(p, F_OK));
	snprintf(p, sizeof(p), "%s/of_node/poll-interval-ms", self->top);
	EXPECT_EQ(!variant->mboxes, !access(p, F_OK));
	snprintf(p, sizeof(p), "%s/of_node/interrupts", self->top);
	EXPECT_NE(0, access(p, F_OK));
	/* The glue took no interrupt for the node. */
	f = fopen("/proc/interrupts", "r");
	ASSERT_NE(NULL, f);
	while (fgets(buf, sizeof(buf), f))
		EXPECT_EQ(NULL, strstr(buf, self->name)) TH_LOG("%s", buf);
	fclose(f);

	n = list_amp_devices(self->top, names, ids, NR_DT_DEVS);
	ASSERT_EQ(NR_DT_DEVS, n);
	for (i = 0; i < n; i++) {
		blk += ids[i] == ID_BLK;
		rng += ids[i] == ID_RNG;
		snprintf(p, sizeof(p), VIRTIO_DEVS "/%s/virtio_msg/dma_window_size",
			 names[i]);
		ASSERT_EQ(0, lb_read_file(p, buf, sizeof(buf)))
			TH_LOG("%s: no DMA window", names[i]);
		/* At most the 4 MiB region, less the layout's areas. */
		EXPECT_LT(0ULL, strtoull(buf, NULL, 0));
		EXPECT_GT(4ULL << 20, strtoull(buf, NULL, 0));
	}
	EXPECT_EQ(1, blk);
	EXPECT_EQ(1, rng);
}

/*
 * Entropy from the host's getrandom() through the region. Another bus may
 * have a virtio-rng too: ours is the source that goes when its driver
 * lets go of our device, and comes back when it binds again.
 */
TEST_F_TIMEOUT(dt, rng, 120)
{
	char dev[32], all[512], without[512], now[512], name[64], cur[64];
	uint8_t buf1[256], buf2[256];
	long end;
	int fd;

	ASSERT_TRUE(find_device(self->top, ID_RNG, dev, sizeof(dev)));
	ASSERT_EQ(0, rng_sources(all, sizeof(all)));
	ASSERT_EQ(0, write_str(RNG_DRIVER "unbind", dev));
	ASSERT_EQ(0, rng_sources(without, sizeof(without)));
	EXPECT_TRUE(new_word(all, without, name, sizeof(name)))
		TH_LOG("no source went with %s: '%s'", dev, without);
	ASSERT_EQ(0, write_str(RNG_DRIVER "bind", dev));
	/* virtio-rng registers its source once the device is running. */
	end = lb_now_ms() + 20000;
	while (!(rng_sources(now, sizeof(now)) == 0 &&
		 new_word(now, without, name, sizeof(name))) &&
	       lb_now_ms() < end)
		usleep(50 * 1000);
	ASSERT_EQ(0, strncmp(name, "virtio_rng.", 11))
		TH_LOG("no source came back with %s: '%s'", dev, now);
	ASSERT_EQ(0, write_str(RNG_SYSFS "rng_current", name));
	ASSERT_EQ(0, lb_read_file(RNG_SYSFS "rng_current", cur, sizeof(cur)));
	EXPECT_EQ(0, strncmp(cur, name, strlen(name)));
	fd = open("/dev/hwrng", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ((ssize_t)sizeof(buf1), read(fd, buf1, sizeof(buf1)));
	ASSERT_EQ((ssize_t)sizeof(buf2), read(fd, buf2, sizeof(buf2)));
	close(fd);
	EXPECT_NE(0, memcmp(buf1, buf2, sizeof(buf1)));
}

/*
 * The mailbox doorbells: each request the driver side sends rings "tx"
 * (no more than once per message, since rings still queued are merged),
 * and the answers come in only through "rx", the node having no
 * poll-interval-ms. A controller that never reports transmit completion
 * still gets every doorbell: the glue acknowledges them.
 */
TEST_F_TIMEOUT(dt, doorbells, 120)
{
	long tx0, rx0, tx1, rx1;
	char disk;
	int fd, i;

	if (!variant->mboxes)
		SKIP(return, "no mailbox on this node");
	disk = dt_disk(self->top);
	ASSERT_NE(0, disk);
	tx0 = mbox_count(self->mbox, "tx_rings");
	rx0 = mbox_count(self->mbox, "rx_rings");
	ASSERT_LT(0, tx0) TH_LOG("no doorbell rang during the hand-shake");
	ASSERT_LT(0, rx0);
	/* Direct reads: each is one request through the bus, not cached. */
	fd = blk_open(disk, O_RDONLY);
	ASSERT_LE(0, fd);
	for (i = 0; i < 20; i++)
		ASSERT_EQ(BLK, pread(fd, self->b, BLK, (off_t)i * BLK));
	close(fd);
	tx1 = mbox_count(self->mbox, "tx_rings");
	rx1 = mbox_count(self->mbox, "rx_rings");
	EXPECT_LE(tx0 + 20, tx1) TH_LOG("%ld doorbells for 20 reads", tx1 - tx0);
	EXPECT_LT(rx0, rx1);
}

/*
 * 4 MiB written in 1 MiB requests, each 4 KiB block with its own pattern,
 * then read back cold in 4 KiB and 1 MiB requests: the same checksum, and
 * every block where it was written.
 */
TEST_F_TIMEOUT(dt, blk, 600)
{
	char disk = dt_disk(self->top);
	uint64_t sum_w = FNV_INIT, sum_r = FNV_INIT;
	int fd, i, j, bad = 0;

	ASSERT_NE(0, disk);
	fd = blk_open(disk, O_RDWR);
	ASSERT_LE(0, fd);
	for (i = 0; i < DISK_BLOCKS; i += 256) {
		for (j = 0; j < 256; j++)
			blk_fill(self->a + j * BLK, BLK, i + j);
		sum_w = fnv1a(sum_w, self->a, 256 * BLK);
		ASSERT_EQ(256 * BLK, pwrite(fd, self->a, 256 * BLK,
					    (off_t)i * BLK));
	}
	ASSERT_EQ(0, fsync(fd));
	close(fd);
	/* Drop what the page cache may hold of the disk. */
	fd = blk_open(disk, O_RDONLY);
	ASSERT_LE(0, fd);
	for (i = 0; i < 16; i++) {
		blk_fill(self->a, BLK, i * 61);
		ASSERT_EQ(BLK, pread(fd, self->b, BLK, (off_t)i * 61 * BLK));
		EXPECT_EQ(0, memcmp(self->a, self->b, BLK))
			TH_LOG("block %d", i * 61);
	}
	for (i = 0; i < DISK_BLOCKS; i += 256) {
		memset(self->b, 0, 256 * BLK);
		ASSERT_EQ(256 * BLK, pread(fd, self->b, 256 * BLK,
					   (off_t)i * BLK));
		sum_r = fnv1a(sum_r, self->b, 256 * BLK);
		for (j = 0; j < 256; j++) {
			blk_fill(self->a, BLK, i + j);
			bad += !!memcmp(self->a, self->b + j * BLK, BLK);
		}
	}
	close(fd);
	EXPECT_EQ(0, bad);
	EXPECT_EQ(sum_w, sum_r);
}

/*
 * The platform driver unbound while the disk is open: the devices go and
 * the disk with them, nothing hangs; bound again, the devices come back
 * and what was written before is still on the disk (the device side
 * stayed up and restarted its half of the hand-shake).
 */
TEST_F_TIMEOUT(dt, unbind_live, 300)
{
	char disk = dt_disk(self->top), drv[64];
	int fd;

	ASSERT_NE(0, disk);
	fd = blk_open(disk, O_RDWR);
	ASSERT_LE(0, fd);
	blk_fill(self->a, BLK, 999);
	ASSERT_EQ(BLK, pwrite(fd, self->a, BLK, 7 * BLK));
	ASSERT_EQ(0, fsync(fd));
	ASSERT_EQ(0, write_str(OF_DRIVER_DIR "unbind", self->name));
	bound_driver(self->name, drv, sizeof(drv));
	EXPECT_STREQ("", drv);
	EXPECT_EQ(0, wait_devices(self->top, 0, AMP_WAIT_MS));
	/* The disk is gone: an error, or nothing (its size is 0 now). */
	EXPECT_GE(0, pread(fd, self->b, BLK, 7 * BLK));
	close(fd);
	EXPECT_TRUE(blk_wait_gone(disk, BLK_WAIT_MS));

	ASSERT_EQ(0, write_str(OF_DRIVER_DIR "bind", self->name));
	bound_driver(self->name, drv, sizeof(drv));
	ASSERT_STREQ(OF_DRIVER, drv);
	ASSERT_EQ(NR_DT_DEVS, wait_devices(self->top, NR_DT_DEVS, AMP_WAIT_MS));
	disk = dt_disk(self->top);
	ASSERT_NE(0, disk);
	fd = blk_open(disk, O_RDONLY);
	ASSERT_LE(0, fd);
	memset(self->b, 0, BLK);
	EXPECT_EQ(BLK, pread(fd, self->b, BLK, 7 * BLK));
	close(fd);
	EXPECT_EQ(0, memcmp(self->a, self->b, BLK));
}

int main(int argc, char **argv)
{
	int ret = test_harness_run(argc, argv);

	/*
	 * Leave no second entropy source or disk to the suites after us;
	 * the controller goes once the glue let go of its channels.
	 */
	if (!access("/sys/module/" OF_DRIVER, F_OK) &&
	    system("rmmod " OF_DRIVER))
		ksft_print_msg("rmmod %s failed\n", OF_DRIVER);
	if (!access("/sys/module/" MBOX_DRIVER, F_OK) &&
	    system("rmmod " MBOX_DRIVER))
		ksft_print_msg("rmmod %s failed\n", MBOX_DRIVER);
	return ret;
}

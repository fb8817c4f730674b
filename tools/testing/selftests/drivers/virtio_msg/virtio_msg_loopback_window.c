// SPDX-License-Identifier: GPL-2.0
/*
 * Window mode of the virtio-msg loopback bus: the backend asks SET_PARAMS
 * for a memory window, and the transport core then allocates the rings in
 * it and bounces every buffer through it, as on a bus whose device side
 * sees one shared memory region only (AMP). Checks the parameters, that
 * the rings and buffers have bus addresses in the window, that a backend
 * reaches nothing outside it and still cannot rewrite the read-only ring
 * areas, and that real rng and blk devices move correct data that way.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/fs.h>

#include "../../kselftest_harness.h"
#include "virtio_msg_lb_backend.h"
#include "virtio_msg_lb_blk.h"

#define WIN_BASE	0x100000000ULL
#define WIN_SIZE	(256 << 10)

static int set_window(int fd, uint32_t wire, uint64_t size, uint64_t base)
{
	struct virtio_msg_lb_params p = {
		.size = sizeof(p),
		.wire = wire,
		.window_size = size,
		.window_base = base,
	};

	return ioctl(fd, VIRTIO_MSG_LB_IOC_SET_PARAMS, &p);
}

static bool in_window(uint64_t addr, uint64_t len)
{
	return addr >= WIN_BASE && addr + len <= WIN_BASE + WIN_SIZE;
}

/*
 * A window DMA figure of the first device of @drv, or -1 when it cannot be
 * read: the window's size is in sysfs, the counters are in debugfs.
 */
static long dma_stat(const char *drv, const char *name)
{
	char pattern[256], path[PATH_MAX], buf[64];
	const char *dev;
	glob_t g;
	long val = -1;

	snprintf(pattern, sizeof(pattern), "/sys/bus/virtio/drivers/%s/virtio*",
		 drv);
	if (glob(pattern, 0, NULL, &g))
		return -1;
	dev = strrchr(g.gl_pathv[0], '/') + 1;
	if (!strcmp(name, "dma_window_size"))
		snprintf(path, sizeof(path), "%s/virtio_msg/%s",
			 g.gl_pathv[0], name);
	else
		snprintf(path, sizeof(path), VMSG_DEBUGFS "/%s/%s", dev, name);
	if (!lb_read_file(path, buf, sizeof(buf)))
		val = strtol(buf, NULL, 10);
	globfree(&g);
	return val;
}

FIXTURE(win) {
	int fd;
};

FIXTURE_SETUP(win)
{
	if (!lb_available())
		SKIP(return, "no %s (virtio_msg_loopback not loaded?)",
		     LB_PATH);
	self->fd = lb_open(0);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(win)
{
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(win, params)
{
	/* Size out of bounds or unaligned, base unaligned or wrapping. */
	EXPECT_EQ(-1, set_window(self->fd, VIRTIO_MSG_WIRE_V1,
				 VIRTIO_MSG_LB_WINDOW_MIN - 4096, WIN_BASE));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, set_window(self->fd, VIRTIO_MSG_WIRE_V1,
				 VIRTIO_MSG_LB_WINDOW_MAX + 4096, WIN_BASE));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, set_window(self->fd, VIRTIO_MSG_WIRE_V1,
				 WIN_SIZE + 1, WIN_BASE));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, set_window(self->fd, VIRTIO_MSG_WIRE_V1, WIN_SIZE,
				 WIN_BASE + 1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, set_window(self->fd, VIRTIO_MSG_WIRE_V1, WIN_SIZE,
				 -(uint64_t)WIN_SIZE + 4096));
	EXPECT_EQ(EINVAL, errno);
	/* Once; a second window is refused, parameters alone are not. */
	ASSERT_EQ(0, set_window(self->fd, VIRTIO_MSG_WIRE_V1, WIN_SIZE,
				WIN_BASE));
	EXPECT_EQ(-1, set_window(self->fd, VIRTIO_MSG_WIRE_V1, WIN_SIZE,
				 WIN_BASE));
	EXPECT_EQ(EBUSY, errno);
	EXPECT_EQ(0, set_window(self->fd, VIRTIO_MSG_WIRE_V1, 0, 0));
	/* Not after the first device. */
	ASSERT_EQ(0, lb_dev(self->fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE, 1));
	EXPECT_EQ(-1, set_window(self->fd, VIRTIO_MSG_WIRE_V1, 0, 0));
	EXPECT_EQ(EBUSY, errno);
}

/* The backend reaches the window, nothing else, and no read-only ring. */
TEST_F_TIMEOUT(win, isolation, 60)
{
	struct mini_rng rng = { .fd = self->fd, .dev_num = 7 };
	uint8_t desc[16], buf[64], ring[4];
	uint16_t head, flags;
	uint64_t buf_addr;
	uint32_t buf_len;

	ASSERT_EQ(0, set_window(self->fd, VIRTIO_MSG_WIRE_V1, WIN_SIZE,
				WIN_BASE));
	ASSERT_EQ(0, lb_dev(self->fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE, 7));
	ASSERT_EQ(0, lb_dev(self->fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE, 8));
	ASSERT_TRUE(mini_rng_until_kick(&rng, 20000))
		TH_LOG("the driver side did not start the device");

	/* The rings are in the window. */
	EXPECT_TRUE(in_window(rng.desc, 16 * rng.qsize));
	EXPECT_TRUE(in_window(rng.avail, 4 + 2 * rng.qsize));
	EXPECT_TRUE(in_window(rng.used, 4 + 8 * rng.qsize));

	EXPECT_EQ(0, lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_READ, 7, rng.desc,
			    desc, sizeof(desc)));
	EXPECT_EQ(0, lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_READ, 7,
			    rng.avail, ring, sizeof(ring)));
	EXPECT_EQ(0, lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_WRITE, 7, rng.used,
			    buf, 4));
	/* Read-only ring areas, whatever device number the write names. */
	EXPECT_EQ(-1, lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_WRITE, 7,
			     rng.desc, desc, sizeof(desc)));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(-1, lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_WRITE, 8,
			     rng.desc, desc, sizeof(desc)));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(-1, lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_WRITE, 7,
			     rng.avail, ring, sizeof(ring)));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(-1, lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_WRITE, 7,
			     rng.desc + 16 * rng.qsize - 1, desc, 2));
	EXPECT_EQ(EACCES, errno);

	/* Outside the window: nothing, not one byte. */
	EXPECT_EQ(-1, lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_READ, 7,
			     WIN_BASE - 1, buf, 1));
	EXPECT_EQ(ENXIO, errno);
	EXPECT_EQ(-1, lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_READ, 7,
			     WIN_BASE - 1, buf, 2));
	EXPECT_EQ(ENXIO, errno);
	EXPECT_EQ(-1, lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_READ, 7,
			     WIN_BASE + WIN_SIZE - 1, buf, 2));
	EXPECT_EQ(ENXIO, errno);
	EXPECT_EQ(-1, lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_WRITE, 7,
			     WIN_BASE + WIN_SIZE, buf, 1));
	EXPECT_EQ(ENXIO, errno);
	EXPECT_EQ(-1, lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_READ, 7, 0x1000,
			     buf, 1));
	EXPECT_EQ(ENXIO, errno);
	EXPECT_EQ(-1, lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_READ, 7,
			     0xffffffffffff0000ULL, buf, 16));
	EXPECT_EQ(ENXIO, errno);
	EXPECT_EQ(0, lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_READ, 7,
			    WIN_BASE + WIN_SIZE - 1, buf, 1));
	/* A number the backend never added. */
	EXPECT_EQ(-1, lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_READ, 9,
			     rng.desc, desc, sizeof(desc)));
	EXPECT_EQ(ENODEV, errno);

	/* The posted buffer is a bounce in the window, writable. */
	ASSERT_EQ(0, lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_READ, 7,
			    rng.avail + 4, &head, 2));
	head = le16toh(head);
	ASSERT_GT(rng.qsize, head);
	ASSERT_EQ(0, lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_READ, 7,
			    rng.desc + 16 * head, desc, sizeof(desc)));
	buf_addr = get_le64(desc);
	buf_len = get_le32(desc + 8);
	memcpy(&flags, desc + 12, 2);
	ASSERT_EQ(VRING_DESC_F_WRITE, le16toh(flags) & VRING_DESC_F_WRITE);
	ASSERT_LT(0U, buf_len);
	EXPECT_TRUE(in_window(buf_addr, buf_len));
	if (buf_len > sizeof(buf))
		buf_len = sizeof(buf);
	memset(buf, 0x5a, sizeof(buf));
	EXPECT_EQ(0, lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_WRITE, 7, buf_addr,
			    buf, buf_len));
}

FIXTURE(backend) {
	char prog[256];
	struct lb_backend be;
};

FIXTURE_SETUP(backend)
{
	lb_backend_init(&self->be);
}

FIXTURE_TEARDOWN(backend)
{
	lb_backend_close(&self->be);
}

/* Bytes from a real virtio-rng whose buffers bounce through the window. */
TEST_F_TIMEOUT(backend, rng, 60)
{
	char *const args[] = { self->prog, "--dev-num", "3", "--window", "256K",
			       NULL };
	unsigned char a[64], b[64], zero[64] = { 0 };
	char avail[512], *p;
	long end;
	int fd;

	if (lb_backend_missing("vmsg-rng", self->prog, sizeof(self->prog)))
		SKIP(return, "no vmsg-rng");
	if (access("/sys/class/misc/hw_random/rng_current", W_OK))
		SKIP(return, "no hwrng core (CONFIG_HW_RANDOM)");
	ASSERT_EQ(0, lb_backend_start(&self->be, args));
	end = lb_now_ms() + 20000;
	do {
		avail[0] = '\0';
		lb_read_file("/sys/class/misc/hw_random/rng_available", avail,
			     sizeof(avail));
		p = strstr(avail, "virtio_rng.");
		if (p)
			break;
		usleep(50 * 1000);
	} while (lb_now_ms() < end);
	ASSERT_NE(NULL, p) TH_LOG("no virtio_rng source appeared");
	p[strcspn(p, "\n ")] = '\0';
	fd = open("/sys/class/misc/hw_random/rng_current", O_WRONLY);
	ASSERT_LE(0, fd);
	ASSERT_LT(0, write(fd, p, strlen(p)));
	close(fd);

	EXPECT_EQ(WIN_SIZE, dma_stat("virtio_rng", "dma_window_size"));
	EXPECT_LT(0, dma_stat("virtio_rng", "dma_coherent_bytes"));
	fd = open("/dev/hwrng", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ((ssize_t)sizeof(a), read(fd, a, sizeof(a)));
	ASSERT_EQ((ssize_t)sizeof(b), read(fd, b, sizeof(b)));
	close(fd);
	EXPECT_NE(0, memcmp(a, zero, sizeof(a)));
	EXPECT_NE(0, memcmp(a, b, sizeof(a)));
	EXPECT_LT(0, dma_stat("virtio_rng", "dma_window_used"));
	EXPECT_EQ(0, dma_stat("virtio_rng", "dma_bad_unmaps"));
	EXPECT_EQ(0, lb_backend_stop(&self->be, LB_STOP_MS));
}

/* A disk whose every request bounces through the window, data intact. */
TEST_F_TIMEOUT(backend, blk, 120)
{
	char *const args[] = { self->prog, "--size", "8", "--dev-num", "5",
			       "--window", "4M", NULL };
	const size_t len = 1 << 20;
	uint8_t *a, *b;
	unsigned int i;
	char disk;
	int fd;

	if (lb_backend_missing("vmsg-blk", self->prog, sizeof(self->prog)))
		SKIP(return, "no vmsg-blk");
	ASSERT_EQ(0, posix_memalign((void **)&a, BLK, len));
	ASSERT_EQ(0, posix_memalign((void **)&b, BLK, len));
	disk = blk_start(&self->be, args);
	ASSERT_NE(0, disk) TH_LOG("no disk appeared");
	EXPECT_EQ(4 << 20, dma_stat("virtio_blk", "dma_window_size"));

	/* Direct I/O of several sizes and offsets, then through the cache. */
	for (i = 0; i < 4; i++) {
		size_t n = len >> i;
		off_t off = (off_t)i * 3 * BLK;

		fd = blk_open(disk, O_RDWR | O_DIRECT);
		ASSERT_LE(0, fd);
		blk_fill(a, n, i + 1);
		memset(b, 0, n);
		ASSERT_EQ((ssize_t)n, pwrite(fd, a, n, off));
		ASSERT_EQ((ssize_t)n, pread(fd, b, n, off));
		EXPECT_EQ(0, memcmp(a, b, n)) TH_LOG("round %u", i);
		close(fd);
	}
	fd = blk_open(disk, O_RDWR);
	ASSERT_LE(0, fd);
	blk_fill(a, len, 9);
	ASSERT_EQ((ssize_t)len, pwrite(fd, a, len, 2 << 20));
	ASSERT_EQ(0, fsync(fd));
	ASSERT_EQ(0, ioctl(fd, BLKFLSBUF, 0));
	memset(b, 0, len);
	ASSERT_EQ((ssize_t)len, pread(fd, b, len, 2 << 20));
	EXPECT_EQ(0, memcmp(a, b, len));
	close(fd);

	/* Nothing stays bounced once the I/O is done. */
	EXPECT_EQ(0, dma_stat("virtio_blk", "dma_bounce_bytes"));
	EXPECT_EQ(0, dma_stat("virtio_blk", "dma_bad_unmaps"));
	EXPECT_EQ(0, lb_backend_stop(&self->be, LB_STOP_MS));
	free(a);
	free(b);
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0
/*
 * The AMP bus end to end: the guest has an ivshmem-doorbell device whose
 * region vmsg-amp serves from the host (the bench starts it with
 * "--blk 16 --net --rng --console": device numbers 0 to 4). The tests
 * load virtio_msg_amp_pci, find the devices under the PCI device, and move
 * data through each of them: every vring and buffer lives in, or is
 * bounced through, the shared region. unload_live unloads the module
 * with the disk open and loads it again.
 *
 * The host_* and hostile_* tests need the runner's host control channel
 * (vmsg.hostctl=amp on the kernel command line; see vmsg_run.py): they
 * ask the runner to kill, stop or start the device process, hostile
 * ones included, and check what the guest sees. Without it they skip.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <linux/virtio_msg_amp.h>

#include "../../kselftest_harness.h"
#include "virtio_msg_lb_backend.h"
#include "virtio_msg_lb_blk.h"
#include "virtio_msg_amp_sysfs.h"

#define PCI_DEVS	"/sys/bus/pci/devices"
#define RNG_SYSFS	"/sys/class/misc/hw_random/"
#define AMP_DRIVER	"virtio_msg_amp_pci"
#define AMP_WAIT_MS	60000
#define NR_AMP_DEVS	5	/* blk, net, net, rng, console */
#define MNT_PATH	"/tmp/vmsg-amp-mnt"
#define ETH_P_VMSG	0x88b5	/* IEEE 802 local experimental */
#define AMP_PCI_DRV	"/sys/bus/pci/drivers/" AMP_DRIVER
/* For a child doing I/O to return once its device is gone. */
#define IO_RETURN_MS	60000
/* For the host to act on a request and the region to show it. */
#define HOSTCTL_MS	30000
/* Where host_restarted leaves data across a restart (16 MiB disk). */
#define KEEP_OFF	(12 * 1024 * 1024)
#define KEEP_LEN	(1024 * 1024)

enum { ID_NET = 1, ID_BLK = 2, ID_CONSOLE = 3, ID_RNG = 4 };

/* The ivshmem-doorbell device's sysfs path (resolved), or false. */
static bool find_ivshmem(char *path, size_t len)
{
	char p[PATH_MAX], v[16], d[16];
	struct dirent *de;
	bool found = false;
	DIR *dir;

	dir = opendir(PCI_DEVS);
	if (!dir)
		return false;
	while (!found && (de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), PCI_DEVS "/%s/vendor", de->d_name);
		if (lb_read_file(p, v, sizeof(v)))
			continue;
		snprintf(p, sizeof(p), PCI_DEVS "/%s/device", de->d_name);
		if (lb_read_file(p, d, sizeof(d)))
			continue;
		if (strtoul(v, NULL, 0) != 0x1af4 || strtoul(d, NULL, 0) != 0x1110)
			continue;
		snprintf(p, sizeof(p), PCI_DEVS "/%s", de->d_name);
		found = realpath(p, path) && strlen(path) < len;
	}
	closedir(dir);
	return found;
}

/* The name of the entry of @class_dir whose device is below @top. */
static bool class_entry(const char *class_dir, const char *top,
			const char *prefix, char *name, size_t len)
{
	char p[PATH_MAX];
	struct dirent *de;
	bool found = false;
	DIR *dir;

	dir = opendir(class_dir);
	if (!dir)
		return false;
	while (!found && (de = readdir(dir))) {
		if (strncmp(de->d_name, prefix, strlen(prefix)))
			continue;
		snprintf(p, sizeof(p), "%s/%s/device", class_dir, de->d_name);
		if (below(p, top)) {
			snprintf(name, len, "%.31s", de->d_name);
			found = true;
		}
	}
	closedir(dir);
	return found;
}

static int load_amp(void)
{
	return system("modprobe " AMP_DRIVER);
}

/*
 * The host control channel. A request is a line on the console that the
 * runner acts on once per ID: written through /dev/kmsg, since a kernel
 * record reaches the serial console whole, where a write to the tty may
 * be cut by a kernel message. The guest learns the outcome only from
 * what it sees: devices that go or come, the region's header.
 */
static bool hostctl_on(void)
{
	char buf[2048];

	return !lb_read_file("/proc/cmdline", buf, sizeof(buf)) &&
	       strstr(buf, "vmsg.hostctl=amp");
}

static void host_request(const char *cmd)
{
	static unsigned int seq, tag;
	char line[200];
	int fd, n, skip = 0;

	if (!tag && getrandom(&tag, sizeof(tag), 0) != sizeof(tag))
		tag = getpid();
	n = snprintf(line, sizeof(line), "<3>@@vmsg hostctl amp %08x.%d.%u %s ;\n",
		     tag, getpid(), ++seq, cmd);
	fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		fd = open("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC);
		skip = 3;	/* no level there */
	}
	if (fd < 0)
		return;
	if (write(fd, line + skip, n - skip) < 0)
		perror("hostctl");
	close(fd);
}

/* The kernel log from now on, for kmsg_wait(). */
static int kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

/*
 * Wait up to @ms for a kernel record, since kmsg_open(), holding @what;
 * count in *@avoided the records holding @avoid (if not NULL), up to the
 * last one logged by the time @what is found.
 */
static bool kmsg_wait_counting(int fd, const char *what, const char *avoid,
			       int *avoided, int ms)
{
	long end = lb_now_ms() + ms;
	bool found = false;
	char rec[1024];
	ssize_t n;

	if (fd < 0)
		return false;
	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n > 0) {
			rec[n] = '\0';
			if (avoid && strstr(rec, avoid))
				(*avoided)++;
			if (strstr(rec, what)) {
				if (!avoid)
					return true;
				found = true;
			}
			continue;
		}
		if (found && (n == 0 || errno == EAGAIN))
			return true;
		/* EPIPE: records were overwritten; go on with the next. */
		if (n < 0 && errno == EPIPE)
			continue;
		if (lb_now_ms() >= end)
			return false;
		usleep(50 * 1000);
	}
}

/* Wait up to @ms for a kernel record, since kmsg_open(), holding @what. */
static bool kmsg_wait(int fd, const char *what, int ms)
{
	return kmsg_wait_counting(fd, what, NULL, NULL, ms);
}

FIXTURE(amp) {
	char pci[PATH_MAX];
	bool mounted;
	uint8_t *a, *b;
};

static bool amp_bound(const char *pci)
{
	char link[PATH_MAX + 16], drv[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "%s/driver", pci);
	n = readlink(link, drv, sizeof(drv) - 1);
	if (n <= 0)
		return false;
	drv[n] = '\0';
	return !!strstr(drv, AMP_DRIVER);
}

/* Bind or unbind the PCI device: 0 or -errno (the probe's, for bind). */
static int amp_pci_driver(const char *pci, const char *what)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), AMP_PCI_DRV "/%s", what);
	return write_str(p, strrchr(pci, '/') + 1);
}

/*
 * Aligned 32-bit loads only: the mapping may be device memory (arm64),
 * where the unaligned accesses of a memcpy() fault.
 */
static void copy_words(void *dst, const void *src, size_t len)
{
	const uint32_t *s = src;
	uint32_t w;
	size_t i;

	for (i = 0; i < len; i += 4) {
		w = __atomic_load_n(&s[i / 4], __ATOMIC_RELAXED);
		memcpy((uint8_t *)dst + i, &w, len - i < 4 ? len - i : 4);
	}
}

/*
 * The first @len bytes of the region (BAR2, through sysfs) while no
 * driver holds it: 0 or -errno. The device is enabled for the read only,
 * and the mapping does not outlive it (a driver that claims the BAR may
 * revoke it).
 */
static int region_peek(const char *pci, void *buf, size_t len)
{
	char p[PATH_MAX + 16];
	int fd, ret = 0;
	void *m;

	snprintf(p, sizeof(p), "%s/enable", pci);
	if (write_str(p, "1"))
		return -EIO;
	snprintf(p, sizeof(p), "%s/resource2", pci);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
	} else {
		m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
		if (m == MAP_FAILED) {
			ret = -errno;
		} else {
			copy_words(buf, m, len);
			munmap(m, 4096);
		}
		close(fd);
	}
	snprintf(p, sizeof(p), "%s/enable", pci);
	write_str(p, "0");
	return ret;
}

#define HDR_LEN	(sizeof(struct virtio_msg_amp_layout) + 4)

/*
 * Wait until the region holds a header with its magic that is (@same)
 * or is not (!@same) @ref, for up to @ms: whether it came.
 */
static bool wait_header(const char *pci, const uint8_t *ref, bool same, int ms)
{
	long end = lb_now_ms() + ms;
	uint8_t h[HDR_LEN];

	do {
		if (!region_peek(pci, h, sizeof(h)) &&
		    h[0] == (VIRTIO_MSG_AMP_LAYOUT_MAGIC & 0xff) &&
		    h[1] == VIRTIO_MSG_AMP_LAYOUT_MAGIC >> 8 &&
		    !memcmp(h, ref, sizeof(h)) == same)
			return true;
		usleep(100 * 1000);
	} while (lb_now_ms() < end);
	return false;
}

/* The module loaded, bound to @pci, every device there. */
static void amp_up(struct __test_metadata *_metadata, const char *pci)
{
	ASSERT_EQ(0, load_amp());
	ASSERT_TRUE(amp_bound(pci))
		TH_LOG("%s did not bind the ivshmem device", AMP_DRIVER);
	ASSERT_EQ(NR_AMP_DEVS, wait_devices(pci, NR_AMP_DEVS, AMP_WAIT_MS));
}

FIXTURE_SETUP(amp)
{
	self->mounted = false;
	self->a = NULL;
	self->b = NULL;
	if (!find_ivshmem(self->pci, sizeof(self->pci)))
		SKIP(return, "no ivshmem-doorbell device (VMSG_AMP)");
	amp_up(_metadata, self->pci);
	ASSERT_EQ(0, posix_memalign((void **)&self->a, BLK, 256 * BLK));
	ASSERT_EQ(0, posix_memalign((void **)&self->b, BLK, 256 * BLK));
}

FIXTURE_TEARDOWN(amp)
{
	if (self->mounted)
		umount2(MNT_PATH, MNT_DETACH);
	free(self->a);
	free(self->b);
}

/* Every device vmsg-amp serves is there, of its type, with its driver. */
TEST_F_TIMEOUT(amp, devices, 120)
{
	static const int want[] = { ID_BLK, ID_NET, ID_NET, ID_RNG, ID_CONSOLE };
	char names[NR_AMP_DEVS][32], p[PATH_MAX], buf[32];
	int ids[NR_AMP_DEVS], count[5] = { 0 }, i, n;

	n = list_amp_devices(self->pci, names, ids, NR_AMP_DEVS);
	ASSERT_EQ(NR_AMP_DEVS, n);
	for (i = 0; i < n; i++) {
		ASSERT_GT(5, ids[i]);
		count[ids[i]]++;
		/* The rings and buffers are in the region. */
		snprintf(p, sizeof(p), VIRTIO_DEVS "/%s/virtio_msg/dma_window_size",
			 names[i]);
		ASSERT_EQ(0, lb_read_file(p, buf, sizeof(buf)))
			TH_LOG("%s: no DMA window", names[i]);
		EXPECT_LT(0ULL, strtoull(buf, NULL, 0));
	}
	for (i = 0; i < NR_AMP_DEVS; i++)
		count[want[i]]--;
	for (i = 0; i < 5; i++)
		EXPECT_EQ(0, count[i]) TH_LOG("device ID %d", i);
}

#define AMP_TRUSTED "/sys/module/virtio_msg_amp/parameters/trusted_device_side"

/* Bit @bit of the features the driver of each net device negotiated. */
static int net_feature(struct __test_metadata *_metadata, const char *pci,
		       int bit, char want)
{
	char names[NR_AMP_DEVS][32], p[PATH_MAX], feat[80];
	int ids[NR_AMP_DEVS], i, n, nets = 0;

	n = list_amp_devices(pci, names, ids, NR_AMP_DEVS);
	for (i = 0; i < n; i++) {
		if (ids[i] != ID_NET)
			continue;
		snprintf(p, sizeof(p), VIRTIO_DEVS "/%s/features", names[i]);
		if (lb_read_file(p, feat, sizeof(feat)) || strlen(feat) <= (size_t)bit)
			return -1;
		EXPECT_EQ(want, feat[bit]) TH_LOG("%s: feature %d", names[i], bit);
		nets++;
	}
	return nets;
}

/*
 * The device side is another processor: only the hardened features get
 * through unless trusted_device_side is set. vmsg-amp's net devices
 * offer STATUS (bit 16), which that list leaves out, and MAC (bit 5).
 */
TEST_F_TIMEOUT(amp, hardened_features, 300)
{
	EXPECT_EQ(2, net_feature(_metadata, self->pci, 5, '1'));
	EXPECT_EQ(2, net_feature(_metadata, self->pci, 16, '0'));

	/* Trusted, the same devices negotiate STATUS: the policy hid it. */
	ASSERT_EQ(0, write_str(AMP_TRUSTED, "Y"));
	ASSERT_EQ(0, system("rmmod " AMP_DRIVER));
	ASSERT_EQ(0, load_amp());
	EXPECT_EQ(NR_AMP_DEVS, wait_devices(self->pci, NR_AMP_DEVS,
					    AMP_WAIT_MS));
	EXPECT_EQ(2, net_feature(_metadata, self->pci, 16, '1'));

	ASSERT_EQ(0, write_str(AMP_TRUSTED, "N"));
	ASSERT_EQ(0, system("rmmod " AMP_DRIVER));
	ASSERT_EQ(0, load_amp());
	ASSERT_EQ(NR_AMP_DEVS, wait_devices(self->pci, NR_AMP_DEVS,
					    AMP_WAIT_MS));
	EXPECT_EQ(2, net_feature(_metadata, self->pci, 16, '0'));
}

/* A line "NAME VALUE" of a debugfs file, as a number, or -1. */
static long long debugfs_value(const char *file, const char *name)
{
	char line[128];
	long long v = -1;
	size_t n = strlen(name);
	FILE *f;

	f = fopen(file, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, n) && line[n] == ' ')
			v = strtoll(line + n + 1, NULL, 0);
	fclose(f);
	return v;
}

#define AMP_DEBUGFS	"/sys/kernel/debug/virtio_msg_amp"

/*
 * The debugfs directory of the AMP instance on @pci into @dir: 0, -ENOENT
 * without debugfs, -ESRCH when no instance names @pci as its parent.
 */
static int amp_debugfs_dir(const char *pci, char *dir, size_t len)
{
	char want[PATH_MAX + 16], line[PATH_MAX + 16], stats[PATH_MAX];
	struct dirent *de;
	int ret = -ESRCH;
	DIR *d;
	FILE *f;

	d = opendir(AMP_DEBUGFS);
	if (!d)
		return -ENOENT;
	snprintf(want, sizeof(want), "parent %s\n", strrchr(pci, '/') + 1);
	while (ret && (de = readdir(d))) {
		if (strncmp(de->d_name, "amp", 3))
			continue;
		snprintf(stats, sizeof(stats), AMP_DEBUGFS "/%s/stats",
			 de->d_name);
		f = fopen(stats, "r");
		if (!f)
			continue;
		if (fgets(line, sizeof(line), f) && !strcmp(line, want)) {
			snprintf(dir, len, AMP_DEBUGFS "/%s", de->d_name);
			ret = 0;
		}
		fclose(f);
	}
	closedir(d);
	return ret;
}

/*
 * The bus's debugfs directory: its counters move with the traffic, and
 * PINGs written to "ping" go through the queues and are answered.
 */
TEST_F_TIMEOUT(amp, debugfs_stats, 120)
{
	char dir[PATH_MAX], stats[PATH_MAX + 8], ping[PATH_MAX + 8];
	long long sent, received;
	int ret;

	ret = amp_debugfs_dir(self->pci, dir, sizeof(dir));
	if (ret == -ENOENT)
		SKIP(return, "no debugfs");
	ASSERT_EQ(0, ret) TH_LOG("no instance on %s", self->pci);
	snprintf(stats, sizeof(stats), "%s/stats", dir);
	snprintf(ping, sizeof(ping), "%s/ping", dir);

	/* Enumeration alone sent and received messages. */
	sent = debugfs_value(stats, "messages_sent");
	received = debugfs_value(stats, "messages_received");
	ASSERT_LT(0, sent);
	ASSERT_LT(0, received);

	ASSERT_EQ(0, write_str(ping, "50"));
	EXPECT_EQ(50, debugfs_value(ping, "pings"));
	EXPECT_EQ(0, debugfs_value(ping, "error"));
	EXPECT_LT(0, debugfs_value(ping, "min_ns"));
	EXPECT_LE(debugfs_value(ping, "min_ns"), debugfs_value(ping, "max_ns"));
	/* Each PING is one message each way (the heartbeat adds more). */
	EXPECT_LE(sent + 50, debugfs_value(stats, "messages_sent"));
	EXPECT_LE(received + 50, debugfs_value(stats, "messages_received"));
	EXPECT_LT(0, debugfs_value(stats, "doorbells_rung"));
	EXPECT_LT(0, debugfs_value(stats, "doorbells_taken"));
	EXPECT_EQ(0, debugfs_value(stats, "faults"));

	/* Bounds are refused. */
	EXPECT_EQ(-EINVAL, write_str(ping, "0"));
	EXPECT_EQ(-EINVAL, write_str(ping, "100001"));
}

/* Entropy from the host's getrandom(), through the region. */
static void check_rng(struct __test_metadata *_metadata)
{
	char avail[512], cur[64], *tok, *save, name[64] = "";
	uint8_t buf1[256], buf2[256];
	int fd;

	ASSERT_EQ(0, lb_read_file(RNG_SYSFS "rng_available", avail,
				  sizeof(avail)));
	for (tok = strtok_r(avail, "\n ", &save); tok;
	     tok = strtok_r(NULL, "\n ", &save))
		if (!strncmp(tok, "virtio_rng.", 11))
			snprintf(name, sizeof(name), "%s", tok);
	ASSERT_NE(0, name[0]) TH_LOG("no virtio-rng source");
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

TEST_F_TIMEOUT(amp, rng, 120)
{
	check_rng(_metadata);
}

/* The disk's letter, or 0. */
static char amp_disk(const char *pci)
{
	char name[32];

	if (!class_entry("/sys/block", pci, "vd", name, sizeof(name)))
		return 0;
	return name[2];
}

/* A direct read of the disk's first block: whether it worked. */
static bool disk_reads(const char *pci)
{
	char disk = amp_disk(pci), path[32];
	bool ok = false;
	uint8_t *buf;
	int fd;

	if (!disk || posix_memalign((void **)&buf, BLK, BLK))
		return false;
	snprintf(path, sizeof(path), "/dev/vd%c", disk);
	fd = open(path, O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (fd >= 0) {
		ok = pread(fd, buf, BLK, 0) == BLK;
		close(fd);
	}
	free(buf);
	return ok;
}

/*
 * Wait up to @ms until every device is there and the disk reads (@up),
 * or until the disk fails to read (!@up): whether it came.
 */
static bool wait_disk(const char *pci, bool up, int ms)
{
	long end = lb_now_ms() + ms;

	do {
		if (!up && !disk_reads(pci))
			return true;
		if (up && wait_devices(pci, NR_AMP_DEVS, 0) == NR_AMP_DEVS &&
		    disk_reads(pci))
			return true;
		usleep(200 * 1000);
	} while (lb_now_ms() < end);
	return false;
}

/* 4 KiB and 1 MiB direct I/O, read back; then ext2 across a remount. */
TEST_F_TIMEOUT(amp, blk, 600)
{
	char disk = amp_disk(self->pci), dev[16], cmd[96];
	uint8_t magic[2];
	int fd, i;

	ASSERT_NE(0, disk);
	fd = blk_open(disk, O_RDWR);
	ASSERT_LE(0, fd);
	blk_fill(self->a, BLK, 21);
	ASSERT_EQ(BLK, pwrite(fd, self->a, BLK, 3 * BLK));
	ASSERT_EQ(BLK, pread(fd, self->b, BLK, 3 * BLK));
	EXPECT_EQ(0, memcmp(self->a, self->b, BLK));
	for (i = 0; i < 2; i++) {
		blk_fill(self->a, 256 * BLK, 40 + i);
		ASSERT_EQ(256 * BLK, pwrite(fd, self->a, 256 * BLK,
					    (off_t)(1 + i) << 20));
	}
	EXPECT_EQ(0, fsync(fd));
	for (i = 0; i < 2; i++) {
		blk_fill(self->a, 256 * BLK, 40 + i);
		memset(self->b, 0, 256 * BLK);
		ASSERT_EQ(256 * BLK, pread(fd, self->b, 256 * BLK,
					   (off_t)(1 + i) << 20));
		EXPECT_EQ(0, memcmp(self->a, self->b, 256 * BLK))
			TH_LOG("MiB %d reads back wrong", 1 + i);
	}
	close(fd);

	if (mkdir(MNT_PATH, 0755))
		ASSERT_EQ(EEXIST, errno);
	snprintf(dev, sizeof(dev), "/dev/vd%c", disk);
	snprintf(cmd, sizeof(cmd), "mke2fs -F -L vmsg-amp %s >/dev/null", dev);
	ASSERT_EQ(0, system(cmd));
	ASSERT_EQ(0, mount(dev, MNT_PATH, "ext2", 0, NULL));
	self->mounted = true;
	fd = open(MNT_PATH "/data", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ASSERT_LE(0, fd);
	blk_fill(self->a, 256 * BLK, 77);
	ASSERT_EQ(256 * BLK, write(fd, self->a, 256 * BLK));
	EXPECT_EQ(0, fsync(fd));
	close(fd);
	ASSERT_EQ(0, umount(MNT_PATH));
	self->mounted = false;

	/* What the file system wrote is on the disk: read it back cold. */
	fd = blk_open(disk, O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(BLK, pread(fd, self->b, BLK, 0));
	close(fd);
	memcpy(magic, self->b + 1024 + 56, 2);
	EXPECT_EQ(0x53, magic[0]);
	EXPECT_EQ(0xef, magic[1]);
	ASSERT_EQ(0, mount(dev, MNT_PATH, "ext2", MS_RDONLY, NULL));
	self->mounted = true;
	fd = open(MNT_PATH "/data", O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(256 * BLK, read(fd, self->b, 256 * BLK));
	close(fd);
	EXPECT_EQ(0, memcmp(self->a, self->b, 256 * BLK));
	ASSERT_EQ(0, umount(MNT_PATH));
	self->mounted = false;
}

/* Up, by name, without an address. */
static int link_up(const char *name)
{
	struct ifreq ifr = { 0 };
	int s, ret = 0;

	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
		ret = -errno;
	} else {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
			ret = -errno;
	}
	close(s);
	return ret;
}

static int packet_socket(int ifindex)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_VMSG),
		.sll_ifindex = ifindex,
	};
	int s;

	s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_VMSG));
	if (s < 0)
		return -1;
	if (bind(s, (struct sockaddr *)&sll, sizeof(sll))) {
		close(s);
		return -1;
	}
	return s;
}

/* The two network interfaces below @pci, up: 0 or -1. */
static int amp_ifs(const char *pci, char ifs[2][IFNAMSIZ])
{
	char p[PATH_MAX];
	struct dirent *de;
	DIR *dir;
	int n = 0;

	dir = opendir("/sys/class/net");
	if (!dir)
		return -1;
	while ((de = readdir(dir)) && n < 2) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "/sys/class/net/%s/device", de->d_name);
		if (below(p, pci))
			snprintf(ifs[n++], IFNAMSIZ, "%.15s", de->d_name);
	}
	closedir(dir);
	if (n != 2 || link_up(ifs[0]) || link_up(ifs[1]))
		return -1;
	return 0;
}

/*
 * @count frames of every size up to the MTU, from one device to the other
 * (vmsg-amp wires them back to back): how many came intact and in order.
 */
static int net_frames(struct __test_metadata *_metadata, const char *pci,
		      int count)
{
	char ifs[2][IFNAMSIZ];
	uint8_t frame[1514], got[1600];
	int tx, rx, i, len, ok = 0;
	struct pollfd pfd;

	if (amp_ifs(pci, ifs))
		return -1;
	tx = packet_socket(if_nametoindex(ifs[0]));
	rx = packet_socket(if_nametoindex(ifs[1]));
	ASSERT_LE(0, tx);
	ASSERT_LE(0, rx);

	memset(frame, 0xff, 6);			/* broadcast */
	memset(frame + 6, 0x02, 6);
	frame[12] = ETH_P_VMSG >> 8;
	frame[13] = ETH_P_VMSG & 0xff;
	for (i = 0; i < count; i++) {
		len = 60 + (i * 37) % (sizeof(frame) - 60 + 1);
		blk_fill(frame + 14, len - 14, i);
		ASSERT_EQ(len, send(tx, frame, len, 0));
		pfd.fd = rx;
		pfd.events = POLLIN;
		/* Other traffic (IPv6 autoconfiguration) is filtered out. */
		if (poll(&pfd, 1, 10000) != 1)
			break;
		if (recv(rx, got, sizeof(got), 0) == len &&
		    !memcmp(got + 14, frame + 14, len - 14))
			ok++;
	}
	close(tx);
	close(rx);
	return ok;
}

TEST_F_TIMEOUT(amp, net, 300)
{
	EXPECT_EQ(200, net_frames(_metadata, self->pci, 200));
}

/* Bytes written to the console come back (vmsg-amp's console echoes). */
TEST_F_TIMEOUT(amp, console, 120)
{
	char name[32], path[64], out[] = "virtio-msg over AMP\n", in[64];
	struct pollfd pfd;
	struct termios t;
	size_t got = 0;
	ssize_t r;
	long end;
	int fd;

	ASSERT_TRUE(class_entry("/sys/class/virtio-ports", self->pci, "vport",
				name, sizeof(name)) ||
		    class_entry("/sys/class/tty", self->pci, "hvc", name,
				sizeof(name)));
	/* A port of a console device is an hvc tty when it is a console. */
	if (strncmp(name, "hvc", 3)) {
		int i;

		for (i = 0; i < 8; i++) {
			snprintf(path, sizeof(path), "/dev/hvc%d", i);
			fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK);
			if (fd >= 0)
				break;
		}
		ASSERT_LE(0, fd) TH_LOG("no hvc tty");
	} else {
		snprintf(path, sizeof(path), "/dev/%s", name);
		fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK);
		ASSERT_LE(0, fd);
	}
	ASSERT_EQ(0, tcgetattr(fd, &t));
	cfmakeraw(&t);
	ASSERT_EQ(0, tcsetattr(fd, TCSANOW, &t));
	tcflush(fd, TCIOFLUSH);
	ASSERT_EQ((ssize_t)strlen(out), write(fd, out, strlen(out)));
	end = lb_now_ms() + 20000;
	while (got < strlen(out) && lb_now_ms() < end) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 1000) != 1)
			continue;
		r = read(fd, in + got, sizeof(in) - got);
		if (r > 0)
			got += r;
	}
	close(fd);
	ASSERT_EQ(strlen(out), got);
	EXPECT_EQ(0, memcmp(in, out, got));
}

/*
 * The module unloaded while the disk is open and being read: the devices
 * go, the reader gets nothing more, nothing hangs; loaded again, the devices
 * come back and work.
 */
TEST_F_TIMEOUT(amp, unload_live, 300)
{
	char disk = amp_disk(self->pci);
	int fd;

	ASSERT_NE(0, disk);
	fd = blk_open(disk, O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(BLK, pread(fd, self->b, BLK, 0));
	/* Only the glue: the core may serve other buses meanwhile. */
	ASSERT_EQ(0, system("rmmod " AMP_DRIVER));
	EXPECT_EQ(0, wait_devices(self->pci, 0, AMP_WAIT_MS));
	/* The disk is gone: an error, or nothing (its size is 0 now). */
	EXPECT_GE(0, pread(fd, self->b, BLK, 0));
	close(fd);
	EXPECT_TRUE(blk_wait_gone(disk, BLK_WAIT_MS));

	ASSERT_EQ(0, load_amp());
	ASSERT_EQ(NR_AMP_DEVS, wait_devices(self->pci, NR_AMP_DEVS,
					    AMP_WAIT_MS));
	disk = amp_disk(self->pci);
	ASSERT_NE(0, disk);
	fd = blk_open(disk, O_RDONLY);
	ASSERT_LE(0, fd);
	EXPECT_EQ(BLK, pread(fd, self->b, BLK, 0));
	close(fd);
}

/*
 * Back to the default device side, bound, with every device; best effort,
 * for a test that stopped half-way.
 */
static void host_restore(const char *pci)
{
	long end;

	host_request("start");
	end = lb_now_ms() + HOSTCTL_MS;
	while (!amp_bound(pci) && lb_now_ms() < end) {
		sleep(1);
		amp_pci_driver(pci, "bind");
	}
	wait_disk(pci, true, AMP_WAIT_MS);
}

/*
 * The device process killed, stopped, restarted and hostile: a fixture of
 * their own, run as a suite of its own (make check's suites file). They
 * need the runner's control channel, and each test puts the default
 * device side back, or its teardown does.
 */
FIXTURE(amp_host) {
	char pci[PATH_MAX];
	bool host_dirty;	/* the device side may not be the default */
	uint8_t *a, *b;
};

FIXTURE_SETUP(amp_host)
{
	self->host_dirty = false;
	self->a = NULL;
	self->b = NULL;
	if (!find_ivshmem(self->pci, sizeof(self->pci)))
		SKIP(return, "no ivshmem-doorbell device (VMSG_AMP)");
	if (!hostctl_on())
		SKIP(return, "no host control channel (vmsg.hostctl)");
	amp_up(_metadata, self->pci);
	ASSERT_EQ(0, posix_memalign((void **)&self->a, BLK, 256 * BLK));
	ASSERT_EQ(0, posix_memalign((void **)&self->b, BLK, 256 * BLK));
}

FIXTURE_TEARDOWN(amp_host)
{
	if (self->host_dirty)
		host_restore(self->pci);
	free(self->a);
	free(self->b);
}

/* A child doing I/O until one fails: what ends it is its exit status. */
enum { IO_FAILED = 0, IO_SETUP = 2, IO_NEVER_FAILED = 3, IO_WRONG = 4 };

/*
 * Direct reads or writes of 64 KiB over the first 8 MiB of vd@disk, until
 * one returns an error or a short count (which is how a vanished disk
 * answers), for IO_RETURN_MS at most.
 */
static pid_t blk_worker(char disk, bool writer, unsigned int seed)
{
	const size_t len = 64 << 10;
	long end = lb_now_ms() + IO_RETURN_MS;
	unsigned int i;
	uint8_t *buf;
	ssize_t r;
	pid_t pid;
	int fd;

	pid = fork();
	if (pid)
		return pid;
	fd = blk_open(disk, writer ? O_RDWR : O_RDONLY);
	if (fd < 0)
		_exit(errno == ENOENT || errno == ENXIO ? IO_FAILED : IO_SETUP);
	if (posix_memalign((void **)&buf, BLK, len))
		_exit(IO_SETUP);
	blk_fill(buf, len, seed);
	for (i = seed; lb_now_ms() < end; i++) {
		off_t off = (off_t)(i % 128) * len;

		r = writer ? pwrite(fd, buf, len, off) : pread(fd, buf, len, off);
		if (r != (ssize_t)len)
			_exit(IO_FAILED);
	}
	_exit(IO_NEVER_FAILED);
}

/* Frames from @ifname, one a millisecond, until sending fails. */
static pid_t net_worker(const char *ifname)
{
	long end = lb_now_ms() + IO_RETURN_MS;
	uint8_t frame[600];
	pid_t pid;
	int s;

	pid = fork();
	if (pid)
		return pid;
	s = packet_socket(if_nametoindex(ifname));
	if (s < 0)
		_exit(errno == ENODEV || errno == ENXIO ? IO_FAILED : IO_SETUP);
	memset(frame, 0xff, 6);
	memset(frame + 6, 0x02, 6);
	frame[12] = ETH_P_VMSG >> 8;
	frame[13] = ETH_P_VMSG & 0xff;
	blk_fill(frame + 14, sizeof(frame) - 14, 5);
	while (lb_now_ms() < end) {
		if (send(s, frame, sizeof(frame), 0) < 0 && errno != ENOBUFS &&
		    errno != EAGAIN)
			_exit(IO_FAILED);
		usleep(1000);
	}
	_exit(IO_NEVER_FAILED);
}

/*
 * Every worker returns, with an I/O that failed: none may hang (a task
 * stuck in the kernel is what this is about) or see wrong data.
 */
static void reap_workers(struct __test_metadata *_metadata, pid_t *pids,
			 int n)
{
	int i, st;

	for (i = 0; i < n; i++) {
		st = lb_child_status(pids[i], IO_RETURN_MS + 10000);
		EXPECT_EQ(IO_FAILED, st)
			TH_LOG("worker %d: %s (%d)", i,
			       st == -1 ? "hung" : st == IO_NEVER_FAILED ?
			       "its I/O never failed" : "setup failed", st);
	}
}

/*
 * Ask for @cmd, then wait until the devices work (@up), or are broken
 * (!@up): whether they did in time. A device side that dies leaves its
 * devices broken, every request failing, but registered: they are
 * removed, and new ones found, when a device side is there again (see
 * "Behaviour" in Documentation/driver-api/virtio/virtio_msg_amp.rst).
 */
static bool host_do(const char *pci, const char *cmd, bool up)
{
	host_request(cmd);
	return wait_disk(pci, up, AMP_WAIT_MS);
}

/* The bus's count of lost peers, or -1. */
static long long peers_lost(const char *pci)
{
	char dir[PATH_MAX], stats[PATH_MAX + 8];

	if (amp_debugfs_dir(pci, dir, sizeof(dir)))
		return -1;
	snprintf(stats, sizeof(stats), "%s/stats", dir);
	return debugfs_value(stats, "peer_lost");
}

/*
 * SIGKILL the device process, then wait until the bus has seen it go,
 * before the disk is touched: what the test reads then is the broken
 * disk, whose reads the core fails, not a device process still serving.
 */
static bool host_kill(struct __test_metadata *_metadata, const char *pci)
{
	long long before = peers_lost(pci);
	long end = lb_now_ms() + AMP_WAIT_MS;

	if (before < 0) {
		TH_LOG("no AMP debugfs statistics for %s", pci);
		return false;
	}
	host_request("kill");
	while (peers_lost(pci) == before) {
		if (lb_now_ms() > end) {
			TH_LOG("the bus did not see the device side die");
			return false;
		}
		usleep(50 * 1000);
	}
	return wait_disk(pci, false, AMP_WAIT_MS);
}

/* A new device process with @extra options, its devices up. */
static bool host_restart(const char *pci, const char *extra)
{
	char cmd[96];

	snprintf(cmd, sizeof(cmd), "start%s%s", extra ? " " : "",
		 extra ? extra : "");
	return host_do(pci, "stop", false) && host_do(pci, cmd, true);
}

/* One block of the disk reads. */
static void check_disk(struct __test_metadata *_metadata, const char *pci)
{
	char disk = amp_disk(pci);
	uint8_t *buf;
	int fd;

	ASSERT_NE(0, disk);
	ASSERT_EQ(0, posix_memalign((void **)&buf, BLK, BLK));
	fd = blk_open(disk, O_RDONLY);
	EXPECT_LE(0, fd);
	if (fd >= 0) {
		EXPECT_EQ(BLK, pread(fd, buf, BLK, 0));
		close(fd);
	}
	free(buf);
}

/*
 * SIGKILL with readers and writers on the disk and traffic on net: every
 * I/O returns, the devices break and go, nothing hangs; started again,
 * new devices replace them.
 */
TEST_F_TIMEOUT(amp_host, host_killed_under_io, 400)
{
	char disk = amp_disk(self->pci), ifs[2][IFNAMSIZ];
	pid_t pids[5];
	int n = 0, i;

	ASSERT_NE(0, disk);
	ASSERT_EQ(0, amp_ifs(self->pci, ifs));
	self->host_dirty = true;
	for (i = 0; i < 4; i++)
		pids[n++] = blk_worker(disk, i & 1, 10 + i);
	pids[n++] = net_worker(ifs[0]);
	/* Let the I/O get going: requests in flight when the host dies. */
	usleep(1500 * 1000);
	host_request("kill");
	/* The disk's readers and writers all return, with errors. */
	reap_workers(_metadata, pids, n - 1);
	EXPECT_TRUE(wait_disk(self->pci, false, AMP_WAIT_MS));
	/* No broken device is left behind... */
	EXPECT_EQ(0, wait_devices(self->pci, 0, AMP_WAIT_MS))
		TH_LOG("the dead device side's devices are still there");
	/* ...but the bus outlives its peer: the PCI device stays bound. */
	EXPECT_TRUE(amp_bound(self->pci));

	/* The broken devices go, new ones come: so does the interface. */
	ASSERT_TRUE(host_do(self->pci, "start", true));
	reap_workers(_metadata, pids + n - 1, 1);
	check_disk(_metadata, self->pci);
	EXPECT_EQ(20, net_frames(_metadata, self->pci, 20));
	self->host_dirty = false;
}

/*
 * Killed and started again: the same devices come back without any
 * module reloaded, the disk still holds what was written before the kill
 * (vmsg_run.py backs it with a file), net and rng work.
 */
TEST_F_TIMEOUT(amp_host, host_restarted, 400)
{
	char disk = amp_disk(self->pci);
	uint64_t sum, back;
	unsigned int seed;
	int fd, i;

	ASSERT_NE(0, disk);
	self->host_dirty = true;
	seed = lb_now_ms();
	fd = blk_open(disk, O_RDWR);
	ASSERT_LE(0, fd);
	sum = FNV_INIT;
	for (i = 0; i < KEEP_LEN / (256 * BLK); i++) {
		blk_fill(self->a, 256 * BLK, seed + i);
		sum = fnv1a(sum, self->a, 256 * BLK);
		ASSERT_EQ(256 * BLK, pwrite(fd, self->a, 256 * BLK,
					    KEEP_OFF + (off_t)i * 256 * BLK));
	}
	EXPECT_EQ(0, fsync(fd));
	close(fd);

	ASSERT_TRUE(host_kill(_metadata, self->pci));
	EXPECT_TRUE(amp_bound(self->pci));
	ASSERT_TRUE(host_do(self->pci, "start", true));
	EXPECT_TRUE(amp_bound(self->pci));

	disk = amp_disk(self->pci);
	ASSERT_NE(0, disk);
	fd = blk_open(disk, O_RDONLY);
	ASSERT_LE(0, fd);
	back = FNV_INIT;
	for (i = 0; i < KEEP_LEN / (256 * BLK); i++) {
		ASSERT_EQ(256 * BLK, pread(fd, self->b, 256 * BLK,
					   KEEP_OFF + (off_t)i * 256 * BLK));
		back = fnv1a(back, self->b, 256 * BLK);
	}
	close(fd);
	EXPECT_EQ(sum, back) TH_LOG("the data written before the kill is lost");
	EXPECT_EQ(20, net_frames(_metadata, self->pci, 20));
	check_rng(_metadata);
	self->host_dirty = false;
}

/*
 * SIGTERM: the device side removes its devices (EVENT_DEVICE), serves
 * them until the driver has let go, then writes SHUTDOWN. The reads in
 * flight complete: none fails with an I/O error, as they would in a
 * surprise removal; the reader ends once the disk is gone. Then back.
 */
TEST_F_TIMEOUT(amp_host, host_stopped_cleanly, 300)
{
	char disk = amp_disk(self->pci), io_error[32];
	int kfd, failed = 0;
	pid_t pid;

	ASSERT_NE(0, disk);
	self->host_dirty = true;
	kfd = kmsg_open();
	pid = blk_worker(disk, false, 3);
	usleep(500 * 1000);
	ASSERT_TRUE(host_do(self->pci, "stop", false));
	reap_workers(_metadata, &pid, 1);
	EXPECT_TRUE(wait_disk(self->pci, false, AMP_WAIT_MS));
	/* The orderly path, not a death noticed by the heartbeat. */
	snprintf(io_error, sizeof(io_error), "I/O error, dev vd%c,", disk);
	EXPECT_TRUE(kmsg_wait_counting(kfd, "device side shut down", io_error,
				       &failed, 5000));
	EXPECT_EQ(0, failed) TH_LOG("%d requests failed at the stop", failed);
	close(kfd);
	EXPECT_TRUE(amp_bound(self->pci));
	ASSERT_TRUE(host_do(self->pci, "start", true));
	check_disk(_metadata, self->pci);
	check_rng(_metadata);
	self->host_dirty = false;
}

/*
 * A device side whose layout breaks @why's rule: with the PCI device
 * unbound, the host starts it; binding fails, the kernel log names the
 * rule, no device appears. A good device side then binds again.
 */
static void check_bad_layout(struct __test_metadata *_metadata,
			     const char *pci, bool *dirty, const char *mode,
			     const char *why)
{
	uint8_t good[HDR_LEN];
	char cmd[64], line[128];
	int kfd, ret;

	*dirty = true;
	ASSERT_EQ(0, amp_pci_driver(pci, "unbind"));
	ASSERT_EQ(0, wait_devices(pci, 0, AMP_WAIT_MS));
	ASSERT_EQ(0, region_peek(pci, good, sizeof(good)));

	snprintf(cmd, sizeof(cmd), "start --hostile %s", mode);
	host_request(cmd);
	ASSERT_TRUE(wait_header(pci, good, false, HOSTCTL_MS))
		TH_LOG("the host did not write the %s layout", mode);
	kfd = kmsg_open();
	ret = amp_pci_driver(pci, "bind");
	EXPECT_NE(0, ret) TH_LOG("%s: bound", mode);
	EXPECT_FALSE(amp_bound(pci));
	snprintf(line, sizeof(line), "invalid virtio-msg AMP layout: %s", why);
	EXPECT_TRUE(kmsg_wait(kfd, line, 5000)) TH_LOG("no \"%s\"", line);
	close(kfd);
	EXPECT_EQ(0, wait_devices(pci, 0, 1000));

	host_request("start");
	ASSERT_TRUE(wait_header(pci, good, true, HOSTCTL_MS))
		TH_LOG("the good layout did not come back");
	ASSERT_EQ(0, amp_pci_driver(pci, "bind"));
	ASSERT_EQ(NR_AMP_DEVS, wait_devices(pci, NR_AMP_DEVS,
					    AMP_WAIT_MS));
	check_disk(_metadata, pci);
	*dirty = false;
}

TEST_F_TIMEOUT(amp_host, hostile_layout_zero_offset, 300)
{
	check_bad_layout(_metadata, self->pci, &self->host_dirty,
			 "layout-zero-offset", "zero offset");
}

TEST_F_TIMEOUT(amp_host, hostile_layout_misaligned, 300)
{
	check_bad_layout(_metadata, self->pci, &self->host_dirty,
			 "layout-misaligned", "misaligned offset");
}

TEST_F_TIMEOUT(amp_host, hostile_layout_out_of_bounds, 300)
{
	check_bad_layout(_metadata, self->pci, &self->host_dirty,
			 "layout-out-of-bounds", "area out of bounds");
}

TEST_F_TIMEOUT(amp_host, hostile_layout_overlap, 300)
{
	check_bad_layout(_metadata, self->pci, &self->host_dirty,
			 "layout-overlap", "areas overlap");
}

TEST_F_TIMEOUT(amp_host, hostile_layout_feature, 300)
{
	check_bad_layout(_metadata, self->pci, &self->host_dirty,
			 "layout-feature", "unknown features");
}

/*
 * A device side that breaks a rule while running (@mode, on the trigger):
 * the bus declares it dead, naming @why; its devices break and their
 * I/O fails; a good device side brings them back. The disk breaks with
 * a read in flight, which the core fails in the device's stead.
 */
static void check_hostile_run(struct __test_metadata *_metadata,
			      const char *pci, bool *dirty, const char *mode,
			      const char *why)
{
	char cmd[64], disk;
	pid_t pid;
	int kfd;

	*dirty = true;
	snprintf(cmd, sizeof(cmd), "--hostile %s", mode);
	ASSERT_TRUE(host_restart(pci, cmd));
	disk = amp_disk(pci);
	ASSERT_NE(0, disk);
	pid = blk_worker(disk, false, 7);
	usleep(500 * 1000);
	kfd = kmsg_open();
	host_request("trigger");
	reap_workers(_metadata, &pid, 1);
	EXPECT_TRUE(wait_disk(pci, false, AMP_WAIT_MS));
	EXPECT_TRUE(kmsg_wait(kfd, why, 5000)) TH_LOG("no \"%s\"", why);
	EXPECT_TRUE(kmsg_wait(kfd, "device side declared dead", 5000));
	close(kfd);
	EXPECT_TRUE(amp_bound(pci));

	ASSERT_TRUE(host_do(pci, "start", true));
	check_disk(_metadata, pci);
	check_rng(_metadata);
	*dirty = false;
}

TEST_F_TIMEOUT(amp_host, hostile_bad_tail, 300)
{
	check_hostile_run(_metadata, self->pci, &self->host_dirty,
			  "bad-tail",
			  "device side broken: producer index out of range");
}

TEST_F_TIMEOUT(amp_host, hostile_bad_head, 300)
{
	check_hostile_run(_metadata, self->pci, &self->host_dirty,
			  "bad-head",
			  "device side broken: consumer index out of range");
}

TEST_F_TIMEOUT(amp_host, hostile_magic_flip, 300)
{
	check_hostile_run(_metadata, self->pci, &self->host_dirty,
			  "magic-flip",
			  "device side broken: magic changed");
}

/*
 * Triggers the flood the device side was started with and reads the disk,
 * one block at a time into @buf, for longer than the flood lasts, even if
 * the host is slow to start it: every read must return its block.
 */
static void read_through_flood(struct __test_metadata *_metadata,
			       const char *pci, uint8_t *buf)
{
	char disk = amp_disk(pci);
	int fd, reads = 0;
	long end;

	ASSERT_NE(0, disk);
	fd = blk_open(disk, O_RDONLY);
	ASSERT_LE(0, fd);
	host_request("trigger");
	end = lb_now_ms() + 8000;
	while (lb_now_ms() < end) {
		ASSERT_EQ(BLK, pread(fd, buf, BLK, (off_t)(reads % 64) * BLK));
		reads++;
	}
	close(fd);
}

/*
 * Doorbells (and notification bits, if the layout has any) as fast as
 * the host rings them: legal, only wasteful. The devices stay and work
 * all along.
 */
TEST_F_TIMEOUT(amp_host, hostile_flood, 300)
{
	self->host_dirty = true;
	ASSERT_TRUE(host_restart(self->pci, "--hostile flood"));
	read_through_flood(_metadata, self->pci, self->b);
	EXPECT_EQ(NR_AMP_DEVS, wait_devices(self->pci, NR_AMP_DEVS, 0));
	check_rng(_metadata);
	EXPECT_EQ(20, net_frames(_metadata, self->pci, 20));
	ASSERT_TRUE(host_restart(self->pci, NULL));
	self->host_dirty = false;
}

/*
 * The flood again with notification words in the layout (a layout change:
 * the device is bound again around it). Every bit of every word toggles
 * as fast as the host can, on top of the doorbells: the bus takes the
 * bits, counted in its debugfs statistics, and the devices stay and work.
 */
TEST_F_TIMEOUT(amp_host, hostile_notif_flood, 400)
{
	char dir[PATH_MAX], stats[PATH_MAX + 8];
	uint8_t good[HDR_LEN];
	long long before;

	self->host_dirty = true;
	ASSERT_EQ(0, amp_pci_driver(self->pci, "unbind"));
	ASSERT_EQ(0, wait_devices(self->pci, 0, AMP_WAIT_MS));
	ASSERT_EQ(0, region_peek(self->pci, good, sizeof(good)));
	host_request("start --hostile flood --notif 2");
	ASSERT_TRUE(wait_header(self->pci, good, false, HOSTCTL_MS))
		TH_LOG("the host did not write a layout with notification words");
	ASSERT_EQ(0, amp_pci_driver(self->pci, "bind"));
	ASSERT_EQ(NR_AMP_DEVS, wait_devices(self->pci, NR_AMP_DEVS,
					    AMP_WAIT_MS));
	if (amp_debugfs_dir(self->pci, dir, sizeof(dir)))
		SKIP(return, "no debugfs statistics");
	snprintf(stats, sizeof(stats), "%s/stats", dir);
	before = debugfs_value(stats, "notifications_received");

	read_through_flood(_metadata, self->pci, self->b);
	EXPECT_LT(before, debugfs_value(stats, "notifications_received"))
		TH_LOG("no notification bit was taken");
	EXPECT_EQ(NR_AMP_DEVS, wait_devices(self->pci, NR_AMP_DEVS, 0));
	check_rng(_metadata);
	EXPECT_EQ(20, net_frames(_metadata, self->pci, 20));

	/* The usual layout again. */
	ASSERT_EQ(0, amp_pci_driver(self->pci, "unbind"));
	ASSERT_EQ(0, wait_devices(self->pci, 0, AMP_WAIT_MS));
	host_request("start");
	ASSERT_TRUE(wait_header(self->pci, good, true, HOSTCTL_MS))
		TH_LOG("the usual layout did not come back");
	ASSERT_EQ(0, amp_pci_driver(self->pci, "bind"));
	ASSERT_EQ(NR_AMP_DEVS, wait_devices(self->pci, NR_AMP_DEVS,
					    AMP_WAIT_MS));
	self->host_dirty = false;
}

TEST_HARNESS_MAIN

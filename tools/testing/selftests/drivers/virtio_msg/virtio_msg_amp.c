// SPDX-License-Identifier: GPL-2.0
/*
 * The AMP bus end to end: the guest has an ivshmem-doorbell device whose
 * region vmsg-amp serves from the host (the bench starts it with
 * "--blk 16 --net --rng --console": device numbers 0 to 4). The tests
 * load virtio_msg_amp_pci, find the devices under the PCI device, and move
 * data through each of them: every vring and buffer lives in, or is
 * bounced through, the shared region. The last test unloads the module
 * with the disk open and loads it again.
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
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "../../kselftest_harness.h"
#include "virtio_msg_lb_backend.h"
#include "virtio_msg_lb_blk.h"

#define PCI_DEVS	"/sys/bus/pci/devices"
#define VIRTIO_DEVS	"/sys/bus/virtio/devices"
#define RNG_SYSFS	"/sys/class/misc/hw_random/"
#define AMP_DRIVER	"virtio_msg_amp_pci"
#define AMP_WAIT_MS	60000
#define NR_AMP_DEVS	5	/* blk, net, net, rng, console */
#define MNT_PATH	"/tmp/vmsg-amp-mnt"
#define ETH_P_VMSG	0x88b5	/* IEEE 802 local experimental */

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

/* Is the sysfs entry @link (a symlink) below the device at @top? */
static bool below(const char *link, const char *top)
{
	char real[PATH_MAX];
	size_t n = strlen(top);

	return realpath(link, real) && !strncmp(real, top, n) &&
	       real[n] == '/';
}

/*
 * The virtio devices below @top with a driver bound: how many, and the
 * name (virtioN) and device ID of each, up to @max.
 */
static int list_amp_devices(const char *top, char names[][32], int ids[],
			    int max)
{
	char p[PATH_MAX], buf[32];
	struct dirent *de;
	int n = 0;
	DIR *dir;

	dir = opendir(VIRTIO_DEVS);
	if (!dir)
		return 0;
	while ((de = readdir(dir)) && n < max) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), VIRTIO_DEVS "/%s", de->d_name);
		if (!below(p, top))
			continue;
		snprintf(p, sizeof(p), VIRTIO_DEVS "/%s/driver", de->d_name);
		if (access(p, F_OK))
			continue;
		snprintf(p, sizeof(p), VIRTIO_DEVS "/%s/device", de->d_name);
		if (lb_read_file(p, buf, sizeof(buf)))
			continue;
		snprintf(names[n], 32, "%.31s", de->d_name);
		ids[n++] = strtoul(buf, NULL, 0);
	}
	closedir(dir);
	return n;
}

/* Wait for @want devices with drivers below @top: the count seen last. */
static int wait_devices(const char *top, int want, int ms)
{
	char names[NR_AMP_DEVS * 2][32];
	int ids[NR_AMP_DEVS * 2], n;
	long end = lb_now_ms() + ms;

	do {
		n = list_amp_devices(top, names, ids, NR_AMP_DEVS * 2);
		if (n == want)
			return n;
		usleep(100 * 1000);
	} while (lb_now_ms() < end);
	return n;
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

static int write_str(const char *path, const char *val)
{
	int fd, ret = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

FIXTURE(amp) {
	char pci[PATH_MAX];
	bool mounted;
	uint8_t *a, *b;
};

FIXTURE_SETUP(amp)
{
	char link[PATH_MAX + 16], drv[PATH_MAX];
	ssize_t n;

	self->mounted = false;
	self->a = NULL;
	self->b = NULL;
	if (!find_ivshmem(self->pci, sizeof(self->pci)))
		SKIP(return, "no ivshmem-doorbell device (VMSG_AMP)");
	ASSERT_EQ(0, load_amp());
	snprintf(link, sizeof(link), "%s/driver", self->pci);
	n = readlink(link, drv, sizeof(drv) - 1);
	ASSERT_LT(0, n) TH_LOG("%s did not bind the ivshmem device", AMP_DRIVER);
	drv[n] = '\0';
	ASSERT_NE(NULL, strstr(drv, AMP_DRIVER));
	ASSERT_EQ(NR_AMP_DEVS, wait_devices(self->pci, NR_AMP_DEVS,
					    AMP_WAIT_MS));
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
		EXPECT_LT(0, strtoull(buf, NULL, 0));
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
		if (lb_read_file(p, feat, sizeof(feat)) || strlen(feat) <= bit)
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

/*
 * The bus's debugfs directory: its counters move with the traffic, and
 * PINGs written to "ping" go through the queues and are answered.
 */
TEST_F_TIMEOUT(amp, debugfs_stats, 120)
{
	char dir[PATH_MAX] = "", stats[PATH_MAX + 8], ping[PATH_MAX + 8];
	char want[PATH_MAX + 16], line[PATH_MAX + 16];
	long long sent, received;
	struct dirent *de;
	DIR *d;
	FILE *f;

	d = opendir("/sys/kernel/debug/virtio_msg_amp");
	if (!d)
		SKIP(return, "no debugfs");
	snprintf(want, sizeof(want), "parent %s\n", strrchr(self->pci, '/') + 1);
	while (!dir[0] && (de = readdir(d))) {
		if (strncmp(de->d_name, "amp", 3))
			continue;
		snprintf(stats, sizeof(stats),
			 "/sys/kernel/debug/virtio_msg_amp/%s/stats", de->d_name);
		f = fopen(stats, "r");
		if (!f)
			continue;
		if (fgets(line, sizeof(line), f) && !strcmp(line, want))
			snprintf(dir, sizeof(dir),
				 "/sys/kernel/debug/virtio_msg_amp/%s", de->d_name);
		fclose(f);
	}
	closedir(d);
	ASSERT_NE(0, dir[0]) TH_LOG("no instance with %s", want);
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
TEST_F_TIMEOUT(amp, rng, 120)
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
	ASSERT_EQ(sizeof(buf1), read(fd, buf1, sizeof(buf1)));
	ASSERT_EQ(sizeof(buf2), read(fd, buf2, sizeof(buf2)));
	close(fd);
	EXPECT_NE(0, memcmp(buf1, buf2, sizeof(buf1)));
}

/* The disk's letter, or 0. */
static char amp_disk(const char *pci)
{
	char name[32];

	if (!class_entry("/sys/block", pci, "vd", name, sizeof(name)))
		return 0;
	return name[2];
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

/*
 * Frames of every size up to the MTU, from one device to the other
 * (vmsg-amp wires them back to back), received intact and in order.
 */
TEST_F_TIMEOUT(amp, net, 300)
{
	char ifs[2][IFNAMSIZ], p[PATH_MAX];
	uint8_t frame[1514], got[1600];
	struct dirent *de;
	int n = 0, tx, rx, i, len, ok = 0;
	struct pollfd pfd;
	DIR *dir;

	dir = opendir("/sys/class/net");
	ASSERT_NE(NULL, dir);
	while ((de = readdir(dir)) && n < 2) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "/sys/class/net/%s/device", de->d_name);
		if (below(p, self->pci))
			snprintf(ifs[n++], IFNAMSIZ, "%.15s", de->d_name);
	}
	closedir(dir);
	ASSERT_EQ(2, n);
	ASSERT_EQ(0, link_up(ifs[0]));
	ASSERT_EQ(0, link_up(ifs[1]));
	tx = packet_socket(if_nametoindex(ifs[0]));
	rx = packet_socket(if_nametoindex(ifs[1]));
	ASSERT_LE(0, tx);
	ASSERT_LE(0, rx);

	memset(frame, 0xff, 6);			/* broadcast */
	memset(frame + 6, 0x02, 6);
	frame[12] = ETH_P_VMSG >> 8;
	frame[13] = ETH_P_VMSG & 0xff;
	for (i = 0; i < 200; i++) {
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
	EXPECT_EQ(200, ok);
	close(tx);
	close(rx);
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

TEST_HARNESS_MAIN

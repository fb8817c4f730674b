/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the kselftests that run vmsg-blk: finding its disks in sysfs
 * (by the serial number "vmsg-blk-N" the backend gives device number N),
 * waiting for them to come and go, opening them for direct I/O, and the
 * data patterns and checksums that tell one disk's data from another's.
 */
#ifndef VIRTIO_MSG_LB_BLK_H
#define VIRTIO_MSG_LB_BLK_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "virtio_msg_lb_backend.h"

#define BLK		4096	/* the unit of direct I/O in these tests */
#define BLK_WAIT_MS	20000	/* for a disk to appear or to go away */

/* A bitmap of the /sys/block/vdX disks present (a..z). */
static inline unsigned int blk_disks(void)
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

/* Attribute @attr of /sys/block/vd@disk, newline stripped: 0 or -errno. */
static inline int blk_read_attr(char disk, const char *attr, char *buf,
				size_t len)
{
	char path[128];
	size_t n;
	int ret;

	snprintf(path, sizeof(path), "/sys/block/vd%c/%s", disk, attr);
	ret = lb_read_file(path, buf, len);
	if (ret)
		return ret;
	n = strlen(buf);
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return 0;
}

/*
 * Wait up to @ms for a disk that was not in @before (a blk_disks() mask)
 * with serial number @serial: its letter, or 0.
 */
static inline char blk_wait_serial(const char *serial, unsigned int before,
				   int ms)
{
	long end = lb_now_ms() + ms;
	unsigned int mask;
	char attr[64];
	int i;

	do {
		mask = blk_disks() & ~before;
		for (i = 0; i < 26; i++)
			if ((mask & (1U << i)) &&
			    !blk_read_attr('a' + i, "serial", attr,
					   sizeof(attr)) &&
			    !strcmp(attr, serial))
				return 'a' + i;
		usleep(50 * 1000);
	} while (lb_now_ms() < end);
	return 0;
}

/* Wait up to @ms for vd@disk to leave sysfs. */
static inline bool blk_wait_gone(char disk, int ms)
{
	long end = lb_now_ms() + ms;

	do {
		if (!(blk_disks() & (1U << (disk - 'a'))))
			return true;
		usleep(50 * 1000);
	} while (lb_now_ms() < end);
	return false;
}

/*
 * open() /dev/vd@disk for direct I/O with @flags. The disk shows up in
 * sysfs a moment before its device node and its first partition scan
 * are done: retry for a few seconds.
 */
static inline int blk_open(char disk, int flags)
{
	long end = lb_now_ms() + 5000;
	char path[32];
	int fd;

	snprintf(path, sizeof(path), "/dev/vd%c", disk);
	do {
		fd = open(path, flags | O_DIRECT | O_CLOEXEC);
		if (fd >= 0 || (errno != ENOENT && errno != ENXIO))
			return fd;
		usleep(20 * 1000);
	} while (lb_now_ms() < end);
	return fd;
}

/*
 * Start vmsg-blk as @argv, which must hold "--dev-num", N, and wait for
 * its disk, until it can be opened: the disk's letter, or 0 (with the
 * backend stopped).
 */
static inline char blk_start(struct lb_backend *be, char *const argv[])
{
	unsigned int before = blk_disks();
	char serial[32] = "";
	char disk;
	int i, fd;

	for (i = 0; argv[i] && argv[i + 1]; i++)
		if (!strcmp(argv[i], "--dev-num"))
			snprintf(serial, sizeof(serial), "vmsg-blk-%s",
				 argv[i + 1]);
	if (!serial[0] || lb_backend_start(be, argv))
		return 0;
	disk = blk_wait_serial(serial, before, BLK_WAIT_MS);
	fd = disk ? blk_open(disk, O_RDONLY) : -1;
	if (fd < 0) {
		lb_backend_close(be);
		return 0;
	}
	close(fd);
	return disk;
}

/* A pattern that differs with @seed and along the buffer. */
static inline void blk_fill(uint8_t *buf, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 9));
}

#define FNV_INIT	0xcbf29ce484222325ULL

/* 64-bit FNV-1a, streaming: start with FNV_INIT. */
static inline uint64_t fnv1a(uint64_t h, const uint8_t *p, size_t len)
{
	while (len--) {
		h ^= *p++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

#endif /* VIRTIO_MSG_LB_BLK_H */

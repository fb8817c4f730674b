/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the AMP kselftests (PCI and device tree): the virtio devices
 * below a bus's parent device in sysfs, waiting for a number of them to
 * have drivers, and writing a sysfs attribute.
 */
#ifndef VIRTIO_MSG_AMP_SYSFS_H
#define VIRTIO_MSG_AMP_SYSFS_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "virtio_msg_lb_backend.h"

#define VIRTIO_DEVS	"/sys/bus/virtio/devices"
/* More than any AMP test serves: a count above what it wants shows. */
#define AMP_MAX_LISTED	16

/* Is the sysfs entry @link (a symlink) below the device at @top? */
static inline bool below(const char *link, const char *top)
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
static inline int list_amp_devices(const char *top, char names[][32],
				   int ids[], int max)
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
static inline int wait_devices(const char *top, int want, int ms)
{
	char names[AMP_MAX_LISTED][32];
	int ids[AMP_MAX_LISTED], n;
	long end = lb_now_ms() + ms;

	do {
		n = list_amp_devices(top, names, ids, AMP_MAX_LISTED);
		if (n == want)
			return n;
		usleep(100 * 1000);
	} while (lb_now_ms() < end);
	return n;
}

/* Write @val to the sysfs attribute @path: 0 or -errno. */
static inline int write_str(const char *path, const char *val)
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

#endif /* VIRTIO_MSG_AMP_SYSFS_H */

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the kselftests that speak the virtio-msg loopback ABI
 * directly: opening an instance, adding and removing device numbers,
 * copying driver memory, and a minimal hand-made device side that serves
 * just enough of the transport for a driver to probe a device and post
 * buffers.
 */
#ifndef VIRTIO_MSG_LB_BACKEND_H
#define VIRTIO_MSG_LB_BACKEND_H

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <linux/virtio_msg.h>
#include <linux/virtio_msg_loopback.h>

#define LB_PATH		"/dev/virtio-msg-loopback"
#define MSG_MAX		65536
#define VIRTIO_ID_NET	1
#define VIRTIO_ID_RNG	4
/* Feature bits 32 and 33 are bits 0 and 1 of feature block 1. */
#define F_VERSION_1		0x1U
#define F_ACCESS_PLATFORM	0x2U
#define VRING_DESC_F_WRITE	2
#define STATUS_DRIVER_OK	4

static inline int lb_open(int flags)
{
	int fd = open(LB_PATH, O_RDWR | O_CLOEXEC | flags);

	if (fd < 0 && errno == ENOENT &&
	    !system("modprobe virtio_msg_loopback >/dev/null 2>&1"))
		fd = open(LB_PATH, O_RDWR | O_CLOEXEC | flags);
	return fd;
}

static inline int lb_dev(int fd, unsigned long cmd, uint32_t dev_num)
{
	struct virtio_msg_lb_device d = {
		.size = sizeof(d),
		.dev_num = dev_num,
	};

	return ioctl(fd, cmd, &d);
}

static inline int lb_mem(int fd, unsigned long cmd, uint32_t dev_num,
			 uint64_t addr, void *buf, uint32_t len)
{
	struct virtio_msg_lb_mem m = {
		.size = sizeof(m),
		.dev_num = dev_num,
		.addr = addr,
		.buf = (uintptr_t)buf,
		.len = len,
	};

	return ioctl(fd, cmd, &m);
}

/* Wait up to @ms for a message and read it; the length or -errno. */
static inline int lb_recv(int fd, void *buf, size_t len, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t n;

	if (poll(&pfd, 1, ms) != 1)
		return -ETIMEDOUT;
	n = read(fd, buf, len);
	return n < 0 ? -errno : (int)n;
}

/*
 * Hand-made devices, just enough for a driver to probe them, map the rings
 * and post buffers: by default one virtio-rng device, or @count devices
 * numbered from @dev_num with @device_id and @num_queues. The rings and
 * the "kicked" flag are those of queue 0 of the first device.
 */
#define MINI_MAX	8

struct mini_rng {
	int fd;
	uint16_t dev_num;
	unsigned int count;
	uint32_t device_id;
	uint32_t num_queues;
	uint64_t desc, avail, used;
	uint32_t qsize;
	bool kicked;
	uint32_t dev_status[MINI_MAX];
	unsigned int kicks[MINI_MAX];
};

static inline void put_le32(void *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, sizeof(v));
}

static inline uint32_t get_le32(const void *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

static inline uint64_t get_le64(const void *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

/* Largest response mini_rng_answer() builds, header included. */
#define MINI_RESP_MAX	64

/*
 * Take in the message @req and build the answer a well-behaved device
 * gives in @resp (at least MINI_RESP_MAX bytes, zeroed here): its length,
 * or 0 when no answer is due (events, other device numbers).
 */
static inline int mini_rng_answer(struct mini_rng *rng, const uint8_t *req,
				  uint8_t *resp)
{
	struct virtio_msg_hdr hdr;
	uint8_t *p = resp + sizeof(hdr);
	size_t plen = 0;
	unsigned int idx;

	memset(resp, 0, MINI_RESP_MAX);
	memcpy(&hdr, req, sizeof(hdr));
	if (hdr.type & VIRTIO_MSG_TYPE_BUS) {
		if (hdr.msg_id != VIRTIO_MSG_BUS_PING)
			return 0;
		memcpy(p, req + sizeof(hdr), 4);
		plen = 4;
		goto respond;
	}
	idx = (uint16_t)(le16toh(hdr.dev_num) - rng->dev_num);
	if (idx >= (rng->count ? rng->count : 1) || idx >= MINI_MAX)
		return 0;

	switch (hdr.msg_id) {
	case VIRTIO_MSG_GET_DEVICE_INFO:
		put_le32(p, rng->device_id ? rng->device_id : VIRTIO_ID_RNG);
		put_le32(p + 8, 64);
		put_le32(p + 16, rng->num_queues ? rng->num_queues : 1);
		plen = 24;
		break;
	case VIRTIO_MSG_GET_DEVICE_FEATURES: {
		uint32_t first = get_le32(req + 8), num = get_le32(req + 12);
		uint32_t i;

		if (num > 8)
			num = 8;
		memcpy(p, req + 8, 8);
		put_le32(p + 4, num);
		for (i = 0; i < num; i++)
			put_le32(p + 8 + 4 * i, first + i == 1 ?
				 F_VERSION_1 | F_ACCESS_PLATFORM : 0);
		plen = 8 + 4 * num;
		break;
	}
	case VIRTIO_MSG_SET_DRIVER_FEATURES:
		break;
	case VIRTIO_MSG_GET_CONFIG:
		memcpy(p + 4, req + 8, 4);
		plen = 12;
		break;
	case VIRTIO_MSG_SET_CONFIG:
		memcpy(p + 4, req + 12, 4);
		plen = 12;
		break;
	case VIRTIO_MSG_GET_DEVICE_STATUS:
		put_le32(p, rng->dev_status[idx]);
		plen = 4;
		break;
	case VIRTIO_MSG_SET_DEVICE_STATUS:
		rng->dev_status[idx] = get_le32(req + 8);
		if (!idx && !rng->dev_status[idx])
			rng->desc = 0;
		put_le32(p, rng->dev_status[idx]);
		plen = 4;
		break;
	case VIRTIO_MSG_GET_VQUEUE:
		memcpy(p, req + 8, 4);
		if (get_le32(req + 8) < (rng->num_queues ? rng->num_queues : 1)) {
			put_le32(p + 4, 64);
			put_le32(p + 8, !idx && rng->desc ? rng->qsize : 0);
		}
		plen = 40;
		break;
	case VIRTIO_MSG_SET_VQUEUE:
		if (!idx && !get_le32(req + 8)) {
			rng->qsize = get_le32(req + 16);
			rng->desc = get_le64(req + 24);
			rng->avail = get_le64(req + 32);
			rng->used = get_le64(req + 40);
		}
		break;
	case VIRTIO_MSG_RESET_VQUEUE:
		if (!idx)
			rng->desc = 0;
		break;
	case VIRTIO_MSG_GET_SHM:
		memcpy(p, req + 8, 4);
		plen = 12;
		break;
	case VIRTIO_MSG_EVENT_AVAIL:
		rng->kicks[idx]++;
		if (!idx)
			rng->kicked = true;
		return 0;
	default:
		return 0;
	}
respond:
	hdr.type |= VIRTIO_MSG_TYPE_RESPONSE;
	hdr.msg_size = htole16(sizeof(hdr) + plen);
	memcpy(resp, &hdr, sizeof(hdr));
	return sizeof(hdr) + plen;
}

/* Serve one message; -1 with errno on a transport failure. */
static inline int mini_rng_serve(struct mini_rng *rng, int ms)
{
	uint8_t req[MSG_MAX], resp[MINI_RESP_MAX];
	int n;

	n = lb_recv(rng->fd, req, sizeof(req), ms);
	if (n < 0) {
		errno = -n;
		return -1;
	}
	n = mini_rng_answer(rng, req, resp);
	if (n > 0 && write(rng->fd, resp, n) < 0)
		return -1;
	return 0;
}

/* Serve until the driver kicked with a ring in place, at most @ms. */
static inline bool mini_rng_until_kick(struct mini_rng *rng, int ms)
{
	struct timespec start, now;

	clock_gettime(CLOCK_MONOTONIC, &start);
	while (!(rng->kicked && rng->desc &&
		 (rng->dev_status[0] & STATUS_DRIVER_OK))) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - start.tv_sec) * 1000 +
		    (now.tv_nsec - start.tv_nsec) / 1000000 > ms)
			return false;
		if (mini_rng_serve(rng, 100) && errno != ETIMEDOUT)
			return false;
	}
	return true;
}

#endif /* VIRTIO_MSG_LB_BACKEND_H */

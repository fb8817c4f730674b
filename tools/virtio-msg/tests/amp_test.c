// SPDX-License-Identifier: GPL-2.0-only
/*
 * Tests of the AMP device side and of the ivshmem protocol. A test driver
 * side, written from virtio_msg_amp.rst alone, shares a region with the
 * library: it checks the layout, hand-shakes, exchanges messages, and
 * then breaks every rule it can. A fake QEMU speaks the ivshmem protocol
 * to the server.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <linux/virtio_config.h>
#include <linux/virtio_msg.h>
#include <linux/virtio_msg_amp.h>

#include <virtio-msg/amp.h>
#include <virtio-msg/codec.h>
#include <virtio-msg/ivshmem.h>
#include <virtio-msg/transport.h>
#include <virtio-msg/virtqueue.h>

#include "amp_test.h"

#define CHECK(c) do {							\
	if (!(c)) {							\
		printf("# %s:%d: %s\n", __func__, __LINE__, #c);	\
		goto out;						\
	}								\
} while (0)

#define REGION		(256 * 1024)
#define GUARD		4096
#define RNG_DEV		3
#define RNG_QSIZE	8

/* ------------------------------------------------------------------ */
/* The test's driver side                                              */

struct drv {
	uint8_t *mem;		/* REGION bytes, then GUARD bytes of canary */
	struct vmsg_amp *amp;
	unsigned int rings;
	uint16_t n, esize, tail, head;
	uint64_t dev_head, drv_head, dev_elems, drv_elems, window;
};

static uint16_t g16(const uint8_t *p)
{
	return le16toh(__atomic_load_n((const uint16_t *)p, __ATOMIC_ACQUIRE));
}

static void p16(uint8_t *p, uint16_t v)
{
	__atomic_store_n((uint16_t *)p, htole16(v), __ATOMIC_RELEASE);
}

static uint32_t g32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return le32toh(v);
}

static uint64_t g64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return le64toh(v);
}

static void p32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
}

static void p64(uint8_t *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, 8);
}

static void count_ring(void *ctx)
{
	((struct drv *)ctx)->rings++;
}

/* The device side's test model: virtio-rng that fills with 0x5a. */
static const uint32_t trng_features[2] = {
	0, 1U << (VIRTIO_F_VERSION_1 - 32),
};

static const uint16_t trng_qmax[1] = { RNG_QSIZE };

static void trng_notify(struct vmsg_dev *dev, unsigned int index)
{
	struct vmsg_iov iov[4];
	struct vmsg_vq_elem elem;
	uint8_t buf[64];
	int i;

	for (i = 0; i < 2 * RNG_QSIZE; i++) {
		if (vmsg_vq_pop(dev, index, &elem, iov, 4) <= 0)
			break;
		memset(buf, 0x5a, sizeof(buf));
		if (elem.in_len > sizeof(buf))
			elem.in_len = sizeof(buf);
		vmsg_iov_write(dev, iov + elem.out_num, elem.in_num, 0, buf,
			       elem.in_len);
		vmsg_vq_push(dev, index, elem.head, elem.in_len);
	}
	vmsg_vq_notify(dev, index);
}

static const struct vmsg_dev_model trng_model = {
	.device_id = 4,
	.num_feature_blocks = 2,
	.features = trng_features,
	.num_queues = 1,
	.queue_max_size = trng_qmax,
	.queue_notify = trng_notify,
};

/* Every rule of "Layout header", checked as a driver side would. */
static bool layout_valid(struct drv *d)
{
	const uint8_t *h = d->mem;
	uint64_t off[6], len[6], end = 0;
	unsigned int i, j, nn = h[8], k = h[9];

	if (g16(h) != VIRTIO_MSG_AMP_LAYOUT_MAGIC || g16(h + 2) != 64 ||
	    g16(h + 4) != 1 || (g16(h + 6) & ~VIRTIO_MSG_AMP_F_ALL) ||
	    nn > 64 || g16(h + 14))
		return false;
	if (nn && (k < 1 || k > 16 || (k & (k - 1))))
		return false;
	d->n = g16(h + 10);
	d->esize = g16(h + 12);
	if (d->n < 2 || d->esize < VIRTIO_MSG_MAX_SIZE_MIN)
		return false;
	for (i = 0; i < 6; i++)
		off[i] = g64(h + 16 + 8 * i);
	len[0] = (uint64_t)nn * 8 *
		 (g16(h + 6) & VIRTIO_MSG_AMP_F_MASKED_NOTIF ? 3 : 2);
	len[3] = len[0];
	len[1] = 8;
	len[4] = 8;
	len[2] = (uint64_t)d->n * d->esize;
	len[5] = len[2];
	for (i = 0; i < 6; i++) {
		if (!len[i])
			continue;
		if (!off[i] || off[i] > REGION || len[i] > REGION - off[i])
			return false;
		if ((i % 3 == 0 && off[i] % 8) || (i % 3 == 1 && off[i] % 2))
			return false;
		/* The header and the peer ID: 68 bytes. */
		if (off[i] < VMSG_AMP_HEADER_AREA)
			return false;
		for (j = 0; j < i; j++)
			if (len[j] && off[i] < off[j] + len[j] &&
			    off[j] < off[i] + len[i])
				return false;
		if (off[i] + len[i] > end)
			end = off[i] + len[i];
	}
	d->dev_head = off[1];
	d->dev_elems = off[2];
	d->drv_head = off[4];
	d->drv_elems = off[5];
	d->window = (end + 4095) & ~4095ULL;
	return true;
}

static unsigned int dev_status(struct drv *d)
{
	return g16(d->mem + d->dev_head + 2) & VIRTIO_MSG_AMP_STATUS_MASK;
}

static void drv_set_status(struct drv *d, unsigned int s)
{
	p16(d->mem + d->drv_head + 2, s);
}

/* Driver hand-shake steps 2 and 3; true when both sides are RUN. */
static bool drv_start(struct drv *d)
{
	memset(d->mem + d->drv_elems, 0, (size_t)d->n * d->esize);
	drv_set_status(d, VIRTIO_MSG_AMP_STATUS_INIT);
	p16(d->mem + d->drv_head, VIRTIO_MSG_AMP_QUEUE_MAGIC);
	p16(d->mem + d->drv_head + 4, 0);
	p16(d->mem + d->drv_head + 6, 0);
	d->head = 0;
	d->tail = 0;
	/* A stale RUN of the device side: it must leave it first. */
	vmsg_amp_poll(d->amp);
	drv_set_status(d, VIRTIO_MSG_AMP_STATUS_READY);
	vmsg_amp_poll(d->amp);
	if (dev_status(d) != VIRTIO_MSG_AMP_STATUS_READY &&
	    dev_status(d) != VIRTIO_MSG_AMP_STATUS_RUN)
		return false;
	drv_set_status(d, VIRTIO_MSG_AMP_STATUS_RUN);
	vmsg_amp_poll(d->amp);
	return dev_status(d) == VIRTIO_MSG_AMP_STATUS_RUN;
}

/* Put raw bytes in the next element (no checks: the test may lie). */
static void drv_put(struct drv *d, const void *msg, size_t len)
{
	memcpy(d->mem + d->drv_elems + (size_t)d->tail * d->esize, msg, len);
	d->tail = (d->tail + 1) % d->n;
	p16(d->mem + d->drv_head + 4, d->tail);
}

static void drv_send(struct drv *d, uint8_t type, uint8_t id, uint16_t dev,
		     const void *payload, size_t len)
{
	uint8_t buf[512];

	vmsg_hdr_build(buf, type, id, dev, 0x77, VIRTIO_MSG_HDR_SIZE + len);
	if (len)
		memcpy(buf + VIRTIO_MSG_HDR_SIZE, payload, len);
	drv_put(d, buf, VIRTIO_MSG_HDR_SIZE + len);
}

/* The next message from the device side, copied; its size or 0. */
static size_t drv_recv(struct drv *d, uint8_t *buf)
{
	uint16_t t = g16(d->mem + d->dev_head + 4);
	size_t size;

	if (t >= d->n || t == d->head)
		return 0;
	memcpy(buf, d->mem + d->dev_elems + (size_t)d->head * d->esize,
	       d->esize);
	d->head = (d->head + 1) % d->n;
	p16(d->mem + d->drv_head + 6, d->head);
	size = g16(buf + 6);
	return size <= d->esize ? size : 0;
}

/* Request @id to @dev and take the response; its payload in @out. */
static size_t drv_call(struct drv *d, uint8_t type, uint8_t id, uint16_t dev,
		       const void *payload, size_t len, uint8_t *out)
{
	uint8_t buf[512];
	size_t n;
	int i;

	drv_send(d, type, id, dev, payload, len);
	vmsg_amp_poll(d->amp);
	/* Events may come first; the response is the one with our ID. */
	for (i = 0; i < 8; i++) {
		n = drv_recv(d, buf);
		if (!n)
			return 0;
		if ((buf[0] & VIRTIO_MSG_TYPE_RESPONSE) && buf[1] == id) {
			memcpy(out, buf + VIRTIO_MSG_HDR_SIZE,
			       n - VIRTIO_MSG_HDR_SIZE);
			return n - VIRTIO_MSG_HDR_SIZE;
		}
	}
	return 0;
}

static bool guard_intact(const struct drv *d)
{
	unsigned int i;

	for (i = 0; i < GUARD; i++)
		if (d->mem[REGION + i] != 0xee)
			return false;
	return true;
}

static bool drv_open(struct drv *d, uint8_t num_notif)
{
	struct vmsg_amp_config cfg = {
		.num_elements = 8,
		.num_notif = num_notif,
		.vq_notif_per_device = 1,
		.peer_id = 0x1234,
		.ring = count_ring,
		.ring_ctx = d,
	};

	memset(d, 0, sizeof(*d));
	d->mem = aligned_alloc(4096, REGION + GUARD);
	if (!d->mem)
		return false;
	memset(d->mem, 0, REGION);
	memset(d->mem + REGION, 0xee, GUARD);
	d->amp = vmsg_amp_create(d->mem, REGION, &cfg);
	if (!d->amp)
		return false;
	return vmsg_transport_add(vmsg_amp_transport(d->amp), RNG_DEV,
				  &trng_model, NULL) && layout_valid(d);
}

static void drv_close(struct drv *d)
{
	vmsg_amp_destroy(d->amp);
	free(d->mem);
}

static bool get_devices_ok(struct drv *d)
{
	uint8_t req[4], out[512];

	p16(req, 0);
	p16(req + 2, 32);
	if (drv_call(d, VIRTIO_MSG_TYPE_BUS, VIRTIO_MSG_BUS_GET_DEVICES, 0,
		     req, 4, out) != 6 + 4)
		return false;
	/* v1: offset, count, next_offset, bitmap; device 3 only. */
	return g16(out) == 0 && g16(out + 2) == 32 && g16(out + 4) == 0 &&
	       out[6] == 1 << RNG_DEV && !out[7] && !out[8] && !out[9];
}

bool amp_layout_and_handshake(void)
{
	struct drv d;
	bool ok = false;
	unsigned int i;

	CHECK(drv_open(&d, 0));
	CHECK(g32(d.mem + VMSG_AMP_PEER_ID_OFFSET) == 0x1234);
	CHECK(g16(d.mem + d.dev_head) == VIRTIO_MSG_AMP_QUEUE_MAGIC);
	CHECK(dev_status(&d) == VIRTIO_MSG_AMP_STATUS_READY);
	CHECK(g16(d.mem + d.dev_head + 4) == 0 &&
	      g16(d.mem + d.dev_head + 6) == 0);
	for (i = 0; i < (unsigned int)d.n * d.esize; i++)
		CHECK(!d.mem[d.dev_elems + i]);
	CHECK(d.esize == VMSG_AMP_DEFAULT_ELEMENT_SIZE && d.n == 8);
	CHECK(d.rings >= 1);
	/* Nothing is sent before the driver side is there. */
	vmsg_amp_poll(d.amp);
	CHECK(dev_status(&d) == VIRTIO_MSG_AMP_STATUS_READY);
	CHECK(drv_start(&d));
	CHECK(get_devices_ok(&d));
	vmsg_amp_destroy(d.amp);
	d.amp = NULL;
	CHECK(dev_status(&d) == VIRTIO_MSG_AMP_STATUS_SHUTDOWN);
	ok = guard_intact(&d);
out:
	vmsg_amp_destroy(d.amp);
	free(d.mem);
	return ok;
}

bool amp_messages_and_one_doorbell(void)
{
	uint8_t req[4], out[512];
	unsigned int rings;
	struct drv d;
	bool ok = false;
	int i;

	CHECK(drv_open(&d, 0));
	CHECK(drv_start(&d));
	CHECK(drv_call(&d, 0, VIRTIO_MSG_GET_DEVICE_INFO, RNG_DEV, NULL, 0,
		       out) == sizeof(struct virtio_msg_get_device_info_resp));
	CHECK(g32(out) == 4 && g32(out + 16) == 1);
	/* Three PINGs, one poll: three answers, one doorbell. */
	for (i = 0; i < 3; i++) {
		p32(req, 100 + i);
		drv_send(&d, VIRTIO_MSG_TYPE_BUS, VIRTIO_MSG_BUS_PING, 0, req,
			 4);
	}
	rings = d.rings;
	CHECK(vmsg_amp_poll(d.amp) == 0);
	CHECK(d.rings == rings + 1);
	for (i = 0; i < 3; i++) {
		CHECK(drv_recv(&d, out) == VIRTIO_MSG_HDR_SIZE + 4);
		CHECK(g32(out + VIRTIO_MSG_HDR_SIZE) == 100u + i);
		CHECK(g16(out + 4) == 0x77);
	}
	CHECK(!drv_recv(&d, out));
	/* Nothing to do: no doorbell. */
	vmsg_amp_poll(d.amp);
	CHECK(d.rings == rings + 1);
	ok = guard_intact(&d);
out:
	drv_close(&d);
	return ok;
}

/* Bring the rng device to DRIVER_OK with its queue at @desc in the region. */
static bool rng_setup(struct drv *d, uint64_t desc, uint64_t avail,
		      uint64_t used)
{
	uint8_t p[64], out[512];

	p32(p, 1);
	p32(p + 4, 1);
	p32(p + 8, 1U << (VIRTIO_F_VERSION_1 - 32));
	drv_send(d, 0, VIRTIO_MSG_SET_DRIVER_FEATURES, RNG_DEV, p, 12);
	p32(p, 1 | 2 | 8);
	if (drv_call(d, 0, VIRTIO_MSG_SET_DEVICE_STATUS, RNG_DEV, p, 4,
		     out) != 4 || !(g32(out) & 8))
		return false;
	memset(p, 0, sizeof(p));
	p32(p + 8, RNG_QSIZE);
	p64(p + 16, desc);
	p64(p + 24, avail);
	p64(p + 32, used);
	drv_send(d, 0, VIRTIO_MSG_SET_VQUEUE, RNG_DEV, p, 40);
	p32(p, 1 | 2 | 8 | 4);
	return drv_call(d, 0, VIRTIO_MSG_SET_DEVICE_STATUS, RNG_DEV, p, 4,
			out) == 4 && g32(out) == 15;
}

/* One writable buffer of @len at @buf as descriptor 0, made available. */
static void rng_offer(struct drv *d, uint64_t desc, uint64_t avail,
		      uint64_t buf, uint32_t len, uint16_t idx)
{
	uint8_t p[8];

	p64(d->mem + desc, buf);
	p32(d->mem + desc + 8, len);
	p16(d->mem + desc + 12, 2);	/* VRING_DESC_F_WRITE */
	p16(d->mem + desc + 14, 0);
	p16(d->mem + avail + 4 + 2 * ((idx - 1) % RNG_QSIZE), 0);
	p16(d->mem + avail + 2, idx);
	p32(p, 0);
	p32(p + 4, 0);
	drv_send(d, 0, VIRTIO_MSG_EVENT_AVAIL, RNG_DEV, p, 8);
}

bool amp_virtqueue_roundtrip(void)
{
	uint64_t desc, avail, used, buf;
	uint8_t out[512];
	bool ok = false, event = false;
	struct drv d;
	size_t n;
	int i;

	CHECK(drv_open(&d, 0));
	CHECK(drv_start(&d));
	desc = d.window;
	avail = desc + 1024;
	used = avail + 1024;
	buf = used + 1024;
	CHECK(rng_setup(&d, desc, avail, used));
	memset(d.mem + buf, 0, 64);
	rng_offer(&d, desc, avail, buf, 48, 1);
	vmsg_amp_poll(d.amp);
	for (i = 0; i < 4 && (n = drv_recv(&d, out)); i++)
		if (out[1] == VIRTIO_MSG_EVENT_USED && g16(out + 2) == RNG_DEV)
			event = true;
	CHECK(event);
	CHECK(g16(d.mem + used + 2) == 1);
	CHECK(g32(d.mem + used + 4) == 0 && g32(d.mem + used + 8) == 48);
	for (i = 0; i < 48; i++)
		CHECK(d.mem[buf + i] == 0x5a);
	CHECK(!d.mem[buf + 48]);
	ok = guard_intact(&d);
out:
	drv_close(&d);
	return ok;
}

/* Rings and buffers outside the window: refused, nothing written. */
bool amp_hostile_addresses(void)
{
	static const uint64_t bad[] = {
		0, 64, REGION - 8, REGION, REGION + 16, ~0ULL - 7,
	};
	uint8_t before[4096], out[512];
	uint64_t desc, avail, used;
	struct drv d;
	bool ok = false;
	unsigned int i;

	CHECK(drv_open(&d, 0));
	CHECK(drv_start(&d));
	desc = d.window;
	avail = desc + 1024;
	used = avail + 1024;
	/* Buffers that point at the layout or past the end. */
	CHECK(rng_setup(&d, desc, avail, used));
	memcpy(before, d.mem, sizeof(before));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rng_offer(&d, desc, avail, bad[i], 64, i + 1);
		vmsg_amp_poll(d.amp);
		while (drv_recv(&d, out))
			;
		/* Layout, heads and queues untouched by the device model. */
		CHECK(!memcmp(before, d.mem, d.dev_head));
		CHECK(guard_intact(&d));
	}
	/* A used ring at the very end of the region, and past it. */
	drv_close(&d);
	CHECK(drv_open(&d, 0));
	CHECK(drv_start(&d));
	CHECK(!rng_setup(&d, desc, avail, REGION - 4) ||
	      (rng_offer(&d, desc, avail, d.window + 8192, 16, 1),
	       vmsg_amp_poll(d.amp), guard_intact(&d)));
	CHECK(!rng_setup(&d, REGION + 4096, avail, used) ||
	      (rng_offer(&d, desc, avail, d.window + 8192, 16, 1),
	       vmsg_amp_poll(d.amp), guard_intact(&d)));
	ok = guard_intact(&d) && vmsg_amp_status(d.amp) ==
	     VIRTIO_MSG_AMP_STATUS_RUN;
out:
	drv_close(&d);
	return ok;
}

/* Indices out of range: PEER_DEAD; a restart brings it back. */
bool amp_hostile_indices(void)
{
	struct vmsg_amp_stats st;
	struct drv d;
	bool ok = false;

	CHECK(drv_open(&d, 0));
	CHECK(drv_start(&d));
	p16(d.mem + d.drv_head + 4, d.n + 5);
	vmsg_amp_poll(d.amp);
	CHECK(dev_status(&d) == VIRTIO_MSG_AMP_STATUS_PEER_DEAD);
	/* Dead stays dead while the driver side does not restart. */
	p16(d.mem + d.drv_head + 4, 1);
	vmsg_amp_poll(d.amp);
	CHECK(dev_status(&d) == VIRTIO_MSG_AMP_STATUS_PEER_DEAD);
	CHECK(drv_start(&d));
	CHECK(get_devices_ok(&d));
	/* A consumer index out of range, seen when the device sends. */
	p16(d.mem + d.drv_head + 6, 0xffff);
	drv_send(&d, VIRTIO_MSG_TYPE_BUS, VIRTIO_MSG_BUS_PING, 0, "abcd", 4);
	vmsg_amp_poll(d.amp);
	CHECK(dev_status(&d) == VIRTIO_MSG_AMP_STATUS_PEER_DEAD);
	/* A status that means nothing. */
	CHECK(drv_start(&d));
	drv_set_status(&d, 0x1b);
	vmsg_amp_poll(d.amp);
	CHECK(dev_status(&d) == VIRTIO_MSG_AMP_STATUS_PEER_DEAD);
	/* The queue magic gone. */
	CHECK(drv_start(&d));
	p16(d.mem + d.drv_head, 0);
	vmsg_amp_poll(d.amp);
	CHECK(dev_status(&d) == VIRTIO_MSG_AMP_STATUS_PEER_DEAD);
	p16(d.mem + d.drv_head, VIRTIO_MSG_AMP_QUEUE_MAGIC);
	CHECK(drv_start(&d));
	CHECK(get_devices_ok(&d));
	vmsg_amp_get_stats(d.amp, &st);
	CHECK(st.peer_errors == 4 && st.restarts == 4);
	ok = guard_intact(&d);
out:
	drv_close(&d);
	return ok;
}

/* msg_size larger than an element, or smaller than a header: dropped. */
bool amp_hostile_sizes(void)
{
	uint8_t m[VIRTIO_MSG_HDR_SIZE + 4], out[512];
	struct drv d;
	bool ok = false;

	CHECK(drv_open(&d, 0));
	CHECK(drv_start(&d));
	vmsg_hdr_build(m, VIRTIO_MSG_TYPE_BUS, VIRTIO_MSG_BUS_PING, 0, 1,
		       sizeof(m));
	p16(m + 6, d.esize + 1);
	drv_put(&d, m, sizeof(m));
	p16(m + 6, 0xffff);
	drv_put(&d, m, sizeof(m));
	p16(m + 6, 3);
	drv_put(&d, m, sizeof(m));
	vmsg_amp_poll(d.amp);
	CHECK(!drv_recv(&d, out));
	CHECK(dev_status(&d) == VIRTIO_MSG_AMP_STATUS_RUN);
	CHECK(get_devices_ok(&d));
	ok = guard_intact(&d);
out:
	drv_close(&d);
	return ok;
}

/*
 * A flood: full queues of requests whose answers are not taken. The
 * answers that find our queue full wait, in order, and go once the
 * driver side takes what is there: none is lost.
 */
bool amp_flood(void)
{
	struct vmsg_amp_stats st;
	uint8_t out[512];
	struct drv d;
	bool ok = false;
	unsigned int i, rounds, answers = 0;

	CHECK(drv_open(&d, 0));
	CHECK(drv_start(&d));
	/* Doorbells with nothing behind them cost nothing. */
	for (i = 0; i < 100000; i++)
		vmsg_amp_poll(d.amp);
	for (rounds = 0; rounds < 4; rounds++) {
		for (i = 0; i < d.n - 1u; i++)
			drv_send(&d, VIRTIO_MSG_TYPE_BUS, VIRTIO_MSG_BUS_PING,
				 0, "ping", 4);
		CHECK(vmsg_amp_poll(d.amp) == 0);
	}
	vmsg_amp_get_stats(d.amp, &st);
	CHECK(st.received == 4 * (d.n - 1u));
	CHECK(st.sent == d.n - 1u);
	CHECK(st.send_dropped == 0);
	CHECK(vmsg_transport_backlogged(vmsg_amp_transport(d.amp)));
	/* Taking the answers makes room for those that waited. */
	for (rounds = 0; rounds < 8 && answers < 4 * (d.n - 1u); rounds++) {
		while (drv_recv(&d, out))
			answers++;
		vmsg_amp_poll(d.amp);
	}
	CHECK(answers == 4 * (d.n - 1u));
	CHECK(!vmsg_transport_backlogged(vmsg_amp_transport(d.amp)));
	CHECK(get_devices_ok(&d));
	ok = guard_intact(&d);
out:
	drv_close(&d);
	return ok;
}

/*
 * An orderly stop: vmsg_transport_unplug_all() sends one bus
 * EVENT_DEVICE(REMOVED) per device, and the removal is over only once
 * the driver side has reset the device (a status write of 0 after it).
 */
bool amp_unplug(void)
{
	struct vmsg_transport *t;
	uint8_t buf[512], p[4], out[512];
	struct drv d;
	bool ok = false;
	size_t n;

	CHECK(drv_open(&d, 0));
	CHECK(drv_start(&d));
	CHECK(get_devices_ok(&d));
	t = vmsg_amp_transport(d.amp);
	CHECK(vmsg_transport_unplug_done(t));
	CHECK(vmsg_transport_unplug(t, RNG_DEV + 1) == -ENOENT);
	CHECK(!vmsg_transport_unplug_all(t));
	/* Once per device, however often it is asked. */
	CHECK(!vmsg_transport_unplug(t, RNG_DEV));
	vmsg_amp_poll(d.amp);
	n = drv_recv(&d, buf);
	CHECK(n == VIRTIO_MSG_HDR_SIZE + 4);
	CHECK(buf[0] == VIRTIO_MSG_TYPE_BUS &&
	      buf[1] == VIRTIO_MSG_BUS_EVENT_DEVICE);
	CHECK(g16(buf + VIRTIO_MSG_HDR_SIZE) == RNG_DEV);
	CHECK(g16(buf + VIRTIO_MSG_HDR_SIZE + 2) ==
	      VIRTIO_MSG_BUS_DEVICE_REMOVED);
	CHECK(!drv_recv(&d, buf));
	CHECK(!vmsg_transport_unplug_done(t));
	/* The device still serves: a request other than a reset is no end. */
	p32(p, 1);
	CHECK(drv_call(&d, 0, VIRTIO_MSG_SET_DEVICE_STATUS, RNG_DEV, p, 4,
		       out) == 4);
	CHECK(!vmsg_transport_unplug_done(t));
	p32(p, 0);
	CHECK(drv_call(&d, 0, VIRTIO_MSG_SET_DEVICE_STATUS, RNG_DEV, p, 4,
		       out) == 4 && !g32(out));
	CHECK(vmsg_transport_unplug_done(t));
	ok = guard_intact(&d);
out:
	drv_close(&d);
	return ok;
}

/*
 * A driver side that polls: it shows READY for a while after the device
 * side went RUN, until it looks at the region again. That is no restart.
 */
bool amp_slow_driver(void)
{
	struct vmsg_amp_stats st;
	struct drv d;
	bool ok = false;
	int i;

	CHECK(drv_open(&d, 0));
	drv_set_status(&d, VIRTIO_MSG_AMP_STATUS_INIT);
	p16(d.mem + d.drv_head, VIRTIO_MSG_AMP_QUEUE_MAGIC);
	vmsg_amp_poll(d.amp);
	drv_set_status(&d, VIRTIO_MSG_AMP_STATUS_READY);
	for (i = 0; i < 3; i++) {
		vmsg_amp_poll(d.amp);
		CHECK(dev_status(&d) == VIRTIO_MSG_AMP_STATUS_RUN);
	}
	vmsg_amp_get_stats(d.amp, &st);
	CHECK(st.restarts == 0);
	drv_set_status(&d, VIRTIO_MSG_AMP_STATUS_RUN);
	vmsg_amp_poll(d.amp);
	CHECK(get_devices_ok(&d));
	/* Once it ran, READY again is a restart. */
	drv_set_status(&d, VIRTIO_MSG_AMP_STATUS_READY);
	d.head = 0;
	d.tail = 0;
	p16(d.mem + d.drv_head + 4, 0);
	p16(d.mem + d.drv_head + 6, 0);
	vmsg_amp_poll(d.amp);
	vmsg_amp_get_stats(d.amp, &st);
	CHECK(st.restarts == 1);
	CHECK(dev_status(&d) == VIRTIO_MSG_AMP_STATUS_RUN);
	drv_set_status(&d, VIRTIO_MSG_AMP_STATUS_RUN);
	CHECK(get_devices_ok(&d));
	ok = guard_intact(&d);
out:
	drv_close(&d);
	return ok;
}

/* Driver restarts (INIT, READY), a stale RUN, a device restart. */
bool amp_restart(void)
{
	struct vmsg_amp_config cfg = { .ring = count_ring };
	struct vmsg_amp *again;
	uint8_t out[512];
	struct drv d;
	bool ok = false;

	CHECK(drv_open(&d, 0));
	CHECK(drv_start(&d));
	CHECK(get_devices_ok(&d));
	drv_send(&d, VIRTIO_MSG_TYPE_BUS, VIRTIO_MSG_BUS_PING, 0, "ping", 4);
	/* Reload: INIT; the device side drops the session and is READY. */
	drv_set_status(&d, VIRTIO_MSG_AMP_STATUS_INIT);
	vmsg_amp_poll(d.amp);
	CHECK(dev_status(&d) == VIRTIO_MSG_AMP_STATUS_READY);
	CHECK(g16(d.mem + d.dev_head + 4) == 0 &&
	      g16(d.mem + d.dev_head + 6) == 0);
	CHECK(drv_start(&d));
	CHECK(!drv_recv(&d, out));
	CHECK(get_devices_ok(&d));
	/* A reload that shows only READY. */
	drv_set_status(&d, VIRTIO_MSG_AMP_STATUS_READY);
	d.head = 0;
	d.tail = 0;
	p16(d.mem + d.drv_head + 4, 0);
	p16(d.mem + d.drv_head + 6, 0);
	vmsg_amp_poll(d.amp);
	CHECK(dev_status(&d) == VIRTIO_MSG_AMP_STATUS_RUN);
	drv_set_status(&d, VIRTIO_MSG_AMP_STATUS_RUN);
	CHECK(get_devices_ok(&d));
	/* SHUTDOWN: silence until a restart. */
	drv_set_status(&d, VIRTIO_MSG_AMP_STATUS_SHUTDOWN);
	vmsg_amp_poll(d.amp);
	CHECK(drv_start(&d));
	CHECK(get_devices_ok(&d));
	/* The device side restarts on the same region: same header. */
	cfg = (struct vmsg_amp_config){
		.num_elements = 8, .vq_notif_per_device = 1,
		.peer_id = 0x1234, .ring = count_ring, .ring_ctx = &d,
	};
	vmsg_amp_destroy(d.amp);
	d.amp = NULL;
	drv_set_status(&d, VIRTIO_MSG_AMP_STATUS_RUN);
	again = vmsg_amp_create(d.mem, REGION, &cfg);
	CHECK(again);
	d.amp = again;
	CHECK(vmsg_transport_add(vmsg_amp_transport(d.amp), RNG_DEV,
				 &trng_model, NULL));
	CHECK(layout_valid(&d));
	/* The driver's RUN is stale: INIT until it restarts. */
	CHECK(dev_status(&d) == VIRTIO_MSG_AMP_STATUS_INIT);
	vmsg_amp_poll(d.amp);
	CHECK(dev_status(&d) == VIRTIO_MSG_AMP_STATUS_INIT);
	CHECK(drv_start(&d));
	CHECK(get_devices_ok(&d));
	/* The host says the guest left: INIT again, waiting. */
	vmsg_amp_peer_gone(d.amp);
	CHECK(dev_status(&d) == VIRTIO_MSG_AMP_STATUS_INIT);
	CHECK(drv_start(&d));
	CHECK(get_devices_ok(&d));
	/* The region's owner marks the device side dead. */
	CHECK(vmsg_amp_mark_dead(d.mem, REGION));
	CHECK(dev_status(&d) == VIRTIO_MSG_AMP_STATUS_PEER_DEAD);
	CHECK(!vmsg_amp_mark_dead(d.mem, 32));
	/* SHUTDOWN stays. */
	vmsg_amp_destroy(d.amp);
	d.amp = NULL;
	CHECK(!vmsg_amp_mark_dead(d.mem, REGION));
	CHECK(dev_status(&d) == VIRTIO_MSG_AMP_STATUS_SHUTDOWN);
	ok = guard_intact(&d);
out:
	drv_close(&d);
	return ok;
}

/* Notification words: bit 0 toggled per batch, masks, virtqueue bits. */
bool amp_notification_words(void)
{
	struct vmsg_amp_config cfg;
	uint64_t desc, avail, used, buf, dn, vn, tx;
	struct vmsg_amp_stats st;
	uint8_t out[512];
	unsigned int rings;
	struct drv d;
	bool ok = false;

	CHECK(drv_open(&d, 2));
	CHECK(d.mem[8] == 2 && d.mem[9] == 1);
	dn = g64(d.mem + 16);
	vn = g64(d.mem + 40);
	CHECK(drv_start(&d));
	tx = g64(d.mem + dn);
	CHECK(get_devices_ok(&d));
	CHECK((g64(d.mem + dn) ^ tx) == 1);
	/* Virtqueue bit of device 3, queue 0: bit 1 + 3 = 4. */
	desc = d.window;
	avail = desc + 1024;
	used = avail + 1024;
	buf = used + 1024;
	CHECK(rng_setup(&d, desc, avail, used));
	while (drv_recv(&d, out))
		;
	p64(d.mem + desc, buf);
	p32(d.mem + desc + 8, 16);
	p16(d.mem + desc + 12, 2);
	p16(d.mem + avail + 4, 0);
	p16(d.mem + avail + 2, 1);
	p64(d.mem + vn, 1ULL << 4);
	vmsg_amp_poll(d.amp);
	CHECK(g16(d.mem + used + 2) == 1);
	CHECK(g64(d.mem + dn + 16) == 1ULL << 4);	/* acknowledged */
	vmsg_amp_get_stats(d.amp, &st);
	CHECK(st.notif_kicks == 1);
	drv_close(&d);

	/* MASKED_NOTIF: the driver masks bit 0, the doorbell is skipped. */
	memset(&d, 0, sizeof(d));
	d.mem = aligned_alloc(4096, REGION + GUARD);
	CHECK(d.mem);
	memset(d.mem, 0, REGION);
	memset(d.mem + REGION, 0xee, GUARD);
	cfg = (struct vmsg_amp_config){
		.num_elements = 8, .num_notif = 1, .vq_notif_per_device = 2,
		.masked_notif = true, .ring = count_ring, .ring_ctx = &d,
	};
	d.amp = vmsg_amp_create(d.mem, REGION, &cfg);
	CHECK(d.amp && layout_valid(&d));
	CHECK(g16(d.mem + 6) == VIRTIO_MSG_AMP_F_MASKED_NOTIF);
	CHECK(vmsg_transport_add(vmsg_amp_transport(d.amp), RNG_DEV,
				 &trng_model, NULL));
	vn = g64(d.mem + 40);
	CHECK(drv_start(&d));
	p64(d.mem + vn + 16, 1);	/* mask[0] bit 0 */
	drv_send(&d, VIRTIO_MSG_TYPE_BUS, VIRTIO_MSG_BUS_PING, 0, "ping", 4);
	rings = d.rings;
	vmsg_amp_poll(d.amp);
	CHECK(d.rings == rings);
	CHECK(drv_recv(&d, out));
	ok = guard_intact(&d);
out:
	drv_close(&d);
	return ok;
}

bool amp_bad_config(void)
{
	struct vmsg_amp_config cfg = { .ring = count_ring };
	uint8_t *mem = aligned_alloc(4096, 16384);
	bool ok = false;

	CHECK(mem);
	/* No room for a window page. */
	CHECK(!vmsg_amp_create(mem, 4096, &cfg) && errno == EINVAL);
	cfg.num_notif = 1;
	cfg.vq_notif_per_device = 3;
	CHECK(!vmsg_amp_create(mem, 16384, &cfg));
	cfg.num_notif = 0;
	cfg.element_size = 20;
	CHECK(!vmsg_amp_create(mem, 16384, &cfg));
	cfg.element_size = 0;
	cfg.ring = NULL;
	CHECK(!vmsg_amp_create(mem, 16384, &cfg));
	CHECK(!vmsg_amp_create(mem + 4, 8192, &(struct vmsg_amp_config){
		.ring = count_ring }));
	ok = true;
out:
	free(mem);
	return ok;
}

/* ------------------------------------------------------------------ */
/* ivshmem: a fake QEMU against the server                             */

static int64_t recv64(int sock, int *fd)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	int64_t v = -2;
	struct iovec iov = { .iov_base = &v, .iov_len = sizeof(v) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *c;
	struct pollfd pfd = { .fd = sock, .events = POLLIN };

	*fd = -1;
	if (poll(&pfd, 1, 1000) != 1 || recvmsg(sock, &msg, 0) != sizeof(v))
		return -2;
	c = CMSG_FIRSTHDR(&msg);
	if (c && c->cmsg_type == SCM_RIGHTS)
		memcpy(fd, CMSG_DATA(c), sizeof(int));
	return le64toh(v);
}

static int unix_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

static void serve_once(struct vmsg_ivshm_server *s)
{
	struct pollfd pfd[VMSG_IVSHM_MAX_PEERS + 3];
	unsigned int n = vmsg_ivshm_server_pollfds(s, pfd);

	if (poll(pfd, n, 200) > 0)
		vmsg_ivshm_server_handle(s, pfd, n);
}

static bool efd_pending(int efd)
{
	struct pollfd pfd = { .fd = efd, .events = POLLIN };

	return poll(&pfd, 1, 200) == 1 && vmsg_efd_drain(efd) > 0;
}

static int left_count;

struct connect_job {
	const char *path;
	struct vmsg_ivshm_client *c;
	bool done;
};

static void *connect_thread(void *arg)
{
	struct connect_job *job = arg;

	job->c = vmsg_ivshm_client_connect(job->path, 1, 2000);
	__atomic_store_n(&job->done, true, __ATOMIC_RELEASE);
	return NULL;
}

/* The client's blocking hand-out, with the server served meanwhile. */
static struct vmsg_ivshm_client *connect_served(const char *path,
						struct vmsg_ivshm_server *s)
{
	struct connect_job job = { .path = path };
	pthread_t th;
	int i;

	if (pthread_create(&th, NULL, connect_thread, &job))
		return NULL;
	for (i = 0; i < 20 && !__atomic_load_n(&job.done, __ATOMIC_ACQUIRE);
	     i++)
		serve_once(s);
	pthread_join(th, NULL);
	return job.c;
}

static void on_device_leave(void *priv)
{
	(void)priv;
	left_count++;
}

bool amp_ivshmem_protocol(void)
{
	const struct vmsg_ivshm_events ev = { .device_leave = on_device_leave };
	char path[64], dpath[64];
	struct vmsg_ivshm_server *s = NULL;
	struct vmsg_ivshm_client *c = NULL;
	int shm = -1, q1 = -1, q2 = -1, fd, dev_efd = -1, own_efd = -1;
	int64_t id1, id2;
	struct stat st;
	bool ok = false, left = false;

	snprintf(path, sizeof(path), "/tmp/vmsg-amp-test-%d.sock", getpid());
	snprintf(dpath, sizeof(dpath), "/tmp/vmsg-amp-test-%d.dev", getpid());
	shm = memfd_create("t", MFD_CLOEXEC);
	CHECK(shm >= 0 && !ftruncate(shm, 65536));
	s = vmsg_ivshm_server_create(path, dpath, shm, 1, &ev);
	CHECK(s);
	/* The server keeps its own descriptor of the memory. */
	close(shm);
	shm = -1;

	/* QEMU: version 0, its ID, -1 with the memory, peer 0, itself. */
	q1 = unix_connect(path);
	CHECK(q1 >= 0);
	serve_once(s);
	CHECK(recv64(q1, &fd) == 0 && fd < 0);
	id1 = recv64(q1, &fd);
	CHECK(id1 >= 1 && fd < 0);
	CHECK(recv64(q1, &fd) == -1 && fd >= 0);
	CHECK(!fstat(fd, &st) && st.st_size == 65536);
	close(fd);
	CHECK(recv64(q1, &dev_efd) == VMSG_IVSHM_DEVICE_ID && dev_efd >= 0);
	CHECK(recv64(q1, &own_efd) == id1 && own_efd >= 0);
	CHECK(vmsg_ivshm_server_nr_guests(s) == 1);

	/* The guest rings the device side; the device side rings back. */
	vmsg_efd_drain(vmsg_ivshm_server_device_efd(s, 0));
	CHECK(write(dev_efd, &(uint64_t){ 1 }, 8) == 8);
	CHECK(efd_pending(vmsg_ivshm_server_device_efd(s, 0)));
	CHECK(vmsg_ivshm_server_ring_guests(s, 0) == 1);
	CHECK(efd_pending(own_efd));

	/* A device-side process: ID 0, the memory, the guest's eventfd. */
	c = connect_served(dpath, s);
	CHECK(c);
	CHECK(vmsg_ivshm_client_id(c) == VMSG_IVSHM_DEVICE_ID);
	CHECK(vmsg_ivshm_client_nr_peers(c) == 1);
	CHECK(vmsg_ivshm_client_ring(c, id1, 0) == 1);
	CHECK(efd_pending(own_efd));
	CHECK(write(dev_efd, &(uint64_t){ 1 }, 8) == 8);
	CHECK(efd_pending(vmsg_ivshm_client_efd(c, 0)));

	/* A second guest is announced to the first and to the device side. */
	q2 = unix_connect(path);
	CHECK(q2 >= 0);
	serve_once(s);
	CHECK(recv64(q2, &fd) == 0);
	id2 = recv64(q2, &fd);
	CHECK(id2 >= 1 && id2 != id1);
	id2 = recv64(q1, &fd);
	CHECK(id2 >= 1 && id2 != id1 && fd >= 0);
	close(fd);
	CHECK(!vmsg_ivshm_client_handle(c, NULL, NULL));
	CHECK(vmsg_ivshm_client_nr_peers(c) == 2);

	/* It leaves: ID with no descriptor. */
	close(q2);
	q2 = -1;
	serve_once(s);
	CHECK(recv64(q1, &fd) == id2 && fd < 0);
	CHECK(!vmsg_ivshm_client_handle(c, NULL, &left) && left);
	CHECK(vmsg_ivshm_client_nr_peers(c) == 1);

	/* The device process goes; the server hears it, keeps ID 0. */
	vmsg_ivshm_client_close(c);
	c = NULL;
	serve_once(s);
	CHECK(left_count == 1);
	CHECK(write(dev_efd, &(uint64_t){ 1 }, 8) == 8);
	CHECK(efd_pending(vmsg_ivshm_server_device_efd(s, 0)));
	ok = true;
out:
	vmsg_ivshm_client_close(c);
	vmsg_ivshm_server_destroy(s);
	if (q1 >= 0)
		close(q1);
	if (q2 >= 0)
		close(q2);
	if (shm >= 0)
		close(shm);
	if (dev_efd >= 0)
		close(dev_efd);
	if (own_efd >= 0)
		close(own_efd);
	return ok;
}

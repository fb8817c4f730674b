// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit test of the virtio-msg device-side library.
 *
 * Driver memory is a byte array behind a fake bus accessor that can be
 * told to fail; events are captured. Output is KTAP on stdout; the exit
 * status is 0 iff every test passed.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/virtio_config.h>
#include <linux/virtio_msg.h>
#include <linux/virtio_ring.h>

#include <virtio-msg/codec.h>
#include <virtio-msg/device.h>
#include <virtio-msg/loopback.h>
#include <virtio-msg/transport.h>
#include <virtio-msg/virtqueue.h>

#include "amp_test.h"

/* ------------------------------------------------------------------ */
/* Fake bus: driver memory, accessor with failure injection, events.   */

#define MEM_BASE	0x100000ULL
#define MEM_SIZE	0x10000
#define DESC_ADDR	(MEM_BASE + 0x1000)
#define AVAIL_ADDR	(MEM_BASE + 0x2000)
#define USED_ADDR	(MEM_BASE + 0x3000)
#define INDIR_ADDR	(MEM_BASE + 0x4000)
#define BUF_ADDR	(MEM_BASE + 0x8000)

#define MAX_EVENTS	16
#define EV_MAX		1024

static uint8_t mem[MEM_SIZE];

static struct {
	uint64_t fail_lo, fail_hi;	/* accesses touching this fail */
	int send_ret;
	unsigned int reads;		/* accessor read calls */
	uint64_t wr_lo, wr_hi;		/* if set, writes must stay inside */
	unsigned int stray_writes;	/* writes outside [wr_lo, wr_hi) */
	unsigned int n_ev;
	uint8_t ev[MAX_EVENTS][EV_MAX];
	size_t ev_len[MAX_EVENTS];
} bus;

static bool mem_ok(uint64_t addr, size_t len)
{
	if (addr < MEM_BASE || addr - MEM_BASE > MEM_SIZE ||
	    len > MEM_SIZE - (addr - MEM_BASE))
		return false;
	if (bus.fail_hi > bus.fail_lo && addr < bus.fail_hi &&
	    addr + len > bus.fail_lo)
		return false;
	return true;
}

static int bus_read(void *ctx, uint64_t addr, void *dst, size_t len)
{
	(void)ctx;
	bus.reads++;
	if (!mem_ok(addr, len))
		return -EFAULT;
	memcpy(dst, mem + (addr - MEM_BASE), len);
	return 0;
}

static int bus_write(void *ctx, uint64_t addr, const void *src, size_t len)
{
	(void)ctx;
	if (bus.wr_hi && (addr < bus.wr_lo || addr + len > bus.wr_hi))
		bus.stray_writes++;
	if (!mem_ok(addr, len))
		return -EFAULT;
	memcpy(mem + (addr - MEM_BASE), src, len);
	return 0;
}

static int bus_send(void *ctx, const void *msg, size_t len)
{
	(void)ctx;
	if (bus.send_ret)
		return bus.send_ret;
	if (bus.n_ev < MAX_EVENTS && len <= EV_MAX) {
		memcpy(bus.ev[bus.n_ev], msg, len);
		bus.ev_len[bus.n_ev] = len;
	}
	bus.n_ev++;
	return 0;
}

static const struct vmsg_bus_ops bus_ops = {
	.mem_read = bus_read,
	.mem_write = bus_write,
	.send_event = bus_send,
};

static uint16_t rd16(uint64_t a)
{
	uint16_t v;

	memcpy(&v, mem + (a - MEM_BASE), 2);
	return le16toh(v);
}

static uint32_t rd32(uint64_t a)
{
	uint32_t v;

	memcpy(&v, mem + (a - MEM_BASE), 4);
	return le32toh(v);
}

static void wr16(uint64_t a, uint16_t v)
{
	v = htole16(v);
	memcpy(mem + (a - MEM_BASE), &v, 2);
}

static void wr32(uint64_t a, uint32_t v)
{
	v = htole32(v);
	memcpy(mem + (a - MEM_BASE), &v, 4);
}

static void wr64(uint64_t a, uint64_t v)
{
	v = htole64(v);
	memcpy(mem + (a - MEM_BASE), &v, 8);
}

static uint32_t get32(const void *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return le32toh(v);
}

static uint64_t get64(const void *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return le64toh(v);
}

static uint16_t get16(const void *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return le16toh(v);
}

static void put32(void *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
}

static void put64(void *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, 8);
}

/* ------------------------------------------------------------------ */
/* Test device model.                                                  */

#define TEST_DEV_NUM	3
#define TEST_MAX_MSG	VIRTIO_MSG_MAX_SIZE_RECOMMENDED
#define CFG_SIZE	32
#define F_DEV_BIT	5	/* a device-specific feature */
#define BIT(n)		(1U << ((n) % 32))
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static const uint32_t offered[2] = {
	BIT(F_DEV_BIT) | BIT(VIRTIO_RING_F_INDIRECT_DESC) |
		BIT(VIRTIO_RING_F_EVENT_IDX),
	BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_F_RING_RESET),
};

static const uint16_t qmax[3] = { 8, 16, 0 };
static const struct vmsg_shm_region shm[1] = { { 0x4000, 0x1000 } };
static uint8_t cfg_init[CFG_SIZE];

static struct {
	unsigned int notify, notify_idx, reset, queue_reset, config_writes;
} model_log;

static void m_notify(struct vmsg_dev *dev, unsigned int index)
{
	(void)dev;
	model_log.notify++;
	model_log.notify_idx = index;
}

static int m_config_write(struct vmsg_dev *dev, uint32_t offset,
			  const void *data, uint32_t len)
{
	(void)dev; (void)data;
	model_log.config_writes++;
	/* The last byte is read-only. */
	return offset + len > CFG_SIZE - 1 ? -EPERM : 0;
}

static void m_queue_reset(struct vmsg_dev *dev, unsigned int index)
{
	(void)dev; (void)index;
	model_log.queue_reset++;
}

static void m_reset(struct vmsg_dev *dev)
{
	(void)dev;
	model_log.reset++;
}

static struct vmsg_dev_model model;

static void model_default(void)
{
	unsigned int i;

	for (i = 0; i < CFG_SIZE; i++)
		cfg_init[i] = i;
	memset(&model, 0, sizeof(model));
	model.device_id = 4;
	model.vendor_id = 0x554d4551;
	model.num_feature_blocks = 2;
	model.features = offered;
	model.config_size = CFG_SIZE;
	model.config_init = cfg_init;
	model.num_queues = 3;
	model.queue_max_size = qmax;
	model.num_shm = 1;
	model.shm = shm;
	model.queue_notify = m_notify;
	model.config_write = m_config_write;
	model.queue_reset = m_queue_reset;
	model.reset = m_reset;
}

/* The transport a test made, if any; the next test destroys it. */
static struct vmsg_transport *tr;

static void fixture(void)
{
	vmsg_transport_destroy(tr);
	tr = NULL;
	memset(mem, 0, sizeof(mem));
	memset(&bus, 0, sizeof(bus));
	memset(&model_log, 0, sizeof(model_log));
	model_default();
}

/* ------------------------------------------------------------------ */
/* Driver-side helpers: build a request, run it, decode the response.  */

static uint8_t resp[EV_MAX];
static uint16_t next_token = 1;

static ssize_t xfer_raw(struct vmsg_dev *dev, uint8_t type, uint8_t id,
			uint16_t dev_num, const void *payload, size_t plen)
{
	uint8_t req[EV_MAX];

	vmsg_hdr_build(req, 0, id, dev_num, next_token, 8 + plen);
	req[0] = type;
	if (plen)
		memcpy(req + 8, payload, plen);
	memset(resp, 0xa5, sizeof(resp));
	return vmsg_dev_handle(dev, req, 8 + plen, resp, TEST_MAX_MSG);
}

static ssize_t xfer(struct vmsg_dev *dev, uint8_t id, const void *payload,
		    size_t plen)
{
	return xfer_raw(dev, 0, id, TEST_DEV_NUM, payload, plen);
}

static uint32_t set_status(struct vmsg_dev *dev, uint32_t s)
{
	uint8_t p[4];

	put32(p, s);
	if (xfer(dev, VIRTIO_MSG_SET_DEVICE_STATUS, p, 4) != 12)
		return 0xdeadbeef;
	return get32(resp + 8);
}

static uint32_t get_status(struct vmsg_dev *dev)
{
	if (xfer(dev, VIRTIO_MSG_GET_DEVICE_STATUS, NULL, 0) != 12)
		return 0xdeadbeef;
	return get32(resp + 8);
}

static ssize_t set_features(struct vmsg_dev *dev, uint32_t first,
			    uint32_t num, const uint32_t *f)
{
	uint8_t p[8 + 4 * 8];
	uint32_t i;

	put32(p, first);
	put32(p + 4, num);
	for (i = 0; i < num; i++)
		put32(p + 8 + 4 * i, f[i]);
	return xfer(dev, VIRTIO_MSG_SET_DRIVER_FEATURES, p, 8 + 4 * num);
}

/* SET_VQUEUE with @flags in the word at 4 (v2 flags, v1 reserved). */
static ssize_t set_vqueue_flags(struct vmsg_dev *dev, uint32_t idx,
				uint32_t flags, uint32_t size, uint64_t desc,
				uint64_t avail, uint64_t used)
{
	uint8_t p[40] = { 0 };

	put32(p, idx);
	put32(p + 4, flags);
	put32(p + 8, size);
	put64(p + 16, desc);
	put64(p + 24, avail);
	put64(p + 32, used);
	return xfer(dev, VIRTIO_MSG_SET_VQUEUE, p, 40);
}

static ssize_t set_vqueue(struct vmsg_dev *dev, uint32_t idx, uint32_t size,
			  uint64_t desc, uint64_t avail, uint64_t used)
{
	return set_vqueue_flags(dev, idx, 0, size, desc, avail, used);
}

/* GET_VQUEUE; returns the current size, UINT32_MAX on a bad response. */
static uint32_t vq_size(struct vmsg_dev *dev, uint32_t idx)
{
	uint8_t p[4];

	put32(p, idx);
	if (xfer(dev, VIRTIO_MSG_GET_VQUEUE, p, 4) != 48)
		return UINT32_MAX;
	return get32(resp + 16);
}

static ssize_t get_config(struct vmsg_dev *dev, uint32_t off, uint32_t len)
{
	uint8_t p[8];

	put32(p, off);
	put32(p + 4, len);
	return xfer(dev, VIRTIO_MSG_GET_CONFIG, p, 8);
}

static ssize_t set_config(struct vmsg_dev *dev, uint32_t gen, uint32_t off,
			  const void *data, uint32_t len)
{
	uint8_t p[12 + 64];

	put32(p, gen);
	put32(p + 4, off);
	put32(p + 8, len);
	memcpy(p + 12, data, len);
	return xfer(dev, VIRTIO_MSG_SET_CONFIG, p, 12 + len);
}

static ssize_t kick(struct vmsg_dev *dev, uint32_t idx)
{
	uint8_t p[8] = { 0 };

	put32(p, idx);
	return xfer(dev, VIRTIO_MSG_EVENT_AVAIL, p, 8);
}

static struct vmsg_dev *new_dev(void)
{
	return vmsg_dev_create(&model, &bus_ops, NULL, TEST_DEV_NUM,
			       TEST_MAX_MSG, NULL);
}

#define F_STRICT	BIT(VIRTIO_MSG_F_STRICT_CONFIG_GENERATION)

static struct vmsg_dev *new_dev_wire(unsigned int wire, uint32_t features)
{
	struct vmsg_dev *dev = new_dev();

	if (dev && vmsg_dev_set_wire(dev, wire, features)) {
		vmsg_dev_destroy(dev);
		return NULL;
	}
	return dev;
}

#define S_ACK	1
#define S_DRV	2
#define S_DOK	4
#define S_FOK	8
#define S_NR	0x40
#define S_FAIL	0x80

/*
 * Bring a device up the way a driver probes it: reset, ACKNOWLEDGE,
 * DRIVER, features, FEATURES_OK, queue 0 (size 8), DRIVER_OK.
 */
static struct vmsg_dev *dev_up_wire(uint32_t feat0, unsigned int wire,
				    uint32_t features)
{
	uint32_t f[2] = { feat0, BIT(VIRTIO_F_VERSION_1) };
	/* v2 queues go live with ENABLE; v1 has a reserved 0 there. */
	uint32_t vq_flags = wire == VIRTIO_MSG_WIRE_V2 ?
			    VIRTIO_MSG_VQUEUE_V2_ENABLE : 0;
	struct vmsg_dev *dev = new_dev_wire(wire, features);

	if (!dev)
		return NULL;
	if (set_status(dev, 0) != 0 ||
	    set_status(dev, S_ACK | S_DRV) != (S_ACK | S_DRV) ||
	    set_features(dev, 0, 2, f) != 8 ||
	    set_status(dev, S_ACK | S_DRV | S_FOK) != (S_ACK | S_DRV | S_FOK) ||
	    set_vqueue_flags(dev, 0, vq_flags, 8, DESC_ADDR, AVAIL_ADDR,
			     USED_ADDR) != 8 ||
	    vq_size(dev, 0) != 8 ||
	    set_status(dev, S_ACK | S_DRV | S_FOK | S_DOK) !=
		(S_ACK | S_DRV | S_FOK | S_DOK)) {
		vmsg_dev_destroy(dev);
		return NULL;
	}
	return dev;
}

static struct vmsg_dev *dev_up(uint32_t feat0)
{
	return dev_up_wire(feat0, VIRTIO_MSG_WIRE_V1, 0);
}

/* Ring helpers for queue 0 (size 8). */
#define QSZ 8
static uint16_t drv_avail_idx;

static void desc(uint64_t table, unsigned int i, uint64_t addr, uint32_t len,
		 uint16_t flags, uint16_t next)
{
	uint64_t d = table + 16 * i;

	wr64(d, addr);
	wr32(d + 8, len);
	wr16(d + 12, flags);
	wr16(d + 14, next);
}

static void avail_add(uint16_t head)
{
	wr16(AVAIL_ADDR + 4 + 2 * (drv_avail_idx % QSZ), head);
	drv_avail_idx++;
	wr16(AVAIL_ADDR + 2, drv_avail_idx);
}

#define USED_EVENT_ADDR	(AVAIL_ADDR + 4 + 2 * QSZ)
#define AVAIL_EVENT_ADDR (USED_ADDR + 4 + 8 * QSZ)

/* ------------------------------------------------------------------ */
/* Harness.                                                            */

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			printf("# %s:%d: check failed: %s\n",		\
			       __func__, __LINE__, #cond);		\
			goto fail;					\
		}							\
	} while (0)

/* Every test starts from fixture() and owns the device in 'dev'. */
#define TEST_BEGIN(name)						\
	static bool name(void)						\
	{								\
		struct vmsg_dev *dev = NULL;				\
		bool ok = false;					\
		fixture();						\
		drv_avail_idx = 0;

#define TEST_END							\
		ok = true;						\
	fail:								\
		vmsg_dev_destroy(dev);					\
		return ok;						\
	}

static bool needs_reset(struct vmsg_dev *dev)
{
	return vmsg_dev_status(dev) & S_NR;
}

/* Last captured event is EVENT_CONFIG announcing NEEDS_RESET. */
static bool saw_needs_reset_event(void)
{
	const uint8_t *e;

	if (!bus.n_ev || bus.n_ev > MAX_EVENTS)
		return false;
	e = bus.ev[bus.n_ev - 1];
	return e[0] == 0 && e[1] == VIRTIO_MSG_EVENT_CONFIG &&
	       get16(e + 2) == TEST_DEV_NUM && bus.ev_len[bus.n_ev - 1] == 24 &&
	       (get32(e + 8) & S_NR) && get32(e + 20) == 0;
}

/* ------------------------------------------------------------------ */
/* Device creation, codec.                                             */

TEST_BEGIN(create_rejects_bad_model)
	static const uint32_t no_v1[2] = { 0, 0 };
	static const uint32_t packed[2] = { 0, BIT(VIRTIO_F_VERSION_1) |
					    BIT(VIRTIO_F_RING_PACKED) };
	static const uint16_t bad_q[1] = { 6 };

	dev = new_dev();
	CHECK(dev);
	vmsg_dev_destroy(dev);
	dev = NULL;
	CHECK(!vmsg_dev_create(&model, &bus_ops, NULL, 0, 51, NULL));
	CHECK(errno == EINVAL);
	CHECK(!vmsg_dev_create(&model, &bus_ops, NULL, 0, 65536, NULL));
	model.features = no_v1;
	CHECK(!new_dev());
	model.features = packed;
	CHECK(!new_dev());
	model_default();
	model.num_feature_blocks = 1;
	CHECK(!new_dev());
	model_default();
	model.queue_max_size = bad_q;
	model.num_queues = 1;
	CHECK(!new_dev());
	model_default();
	model.device_id = 0;
	CHECK(!new_dev());
TEST_END

TEST_BEGIN(codec_helpers)
	uint8_t h[8];
	struct vmsg_msg m;

	CHECK(vmsg_msg_payload_size(VIRTIO_MSG_GET_DEVICE_INFO) == 0);
	CHECK(vmsg_msg_payload_size(VIRTIO_MSG_SET_VQUEUE) == 40);
	CHECK(vmsg_msg_payload_size(VIRTIO_MSG_EVENT_AVAIL) == 8);
	CHECK(vmsg_msg_payload_size(VIRTIO_MSG_EVENT_USED) == -1);
	CHECK(vmsg_msg_payload_size(0x0d) == -1);
	vmsg_hdr_build(h, 0xff, 0x42, 0x1234, 0xabcd, 12);
	CHECK(h[0] == 0x03 && h[1] == 0x42);
	CHECK(get16(h + 2) == 0x1234 && get16(h + 4) == 0xabcd &&
	      get16(h + 6) == 12);
	CHECK(vmsg_msg_parse(h, 8, 264, &m) == -EBADMSG);
	CHECK(vmsg_msg_parse(h, 12, 264, &m) == 0);
	CHECK(m.payload == h + 8 && m.payload_len == 4 && m.token == 0xabcd);
	CHECK(vmsg_msg_parse(h, 12, 11, &m) == -EBADMSG);
TEST_END

/* ------------------------------------------------------------------ */
/* Probe-like sequence.                                                */

/* The transport over the fake bus; bus.send_ret -EAGAIN fills it. */
static int tr_mem_read(void *ctx, uint16_t dev_num, uint64_t addr,
		       void *dst, size_t len)
{
	(void)dev_num;
	return bus_read(ctx, addr, dst, len);
}

static int tr_mem_write(void *ctx, uint16_t dev_num, uint64_t addr,
			const void *src, size_t len)
{
	(void)dev_num;
	return bus_write(ctx, addr, src, len);
}

static const struct vmsg_transport_ops tr_ops = {
	.mem_read = tr_mem_read,
	.mem_write = tr_mem_write,
	.send = bus_send,
};

/* GET_DEVICE_INFO for TEST_DEV_NUM through @t, with @token. */
static int tr_get_info(struct vmsg_transport *t, uint16_t token)
{
	uint8_t req[VIRTIO_MSG_HDR_SIZE];

	vmsg_hdr_build(req, 0, VIRTIO_MSG_GET_DEVICE_INFO, TEST_DEV_NUM,
		       token, sizeof(req));
	return vmsg_transport_dispatch(t, req, sizeof(req));
}

/*
 * A bus with no room (-EAGAIN) loses nothing: what it refused is sent
 * later, in order, before anything newer; the backlog is bounded and
 * goes with a reset (the driver side it was for is gone).
 */
TEST_BEGIN(transport_keeps_refused_messages)
	unsigned int i, refused = 0;

	tr = vmsg_transport_create(&tr_ops, NULL, TEST_MAX_MSG);
	CHECK(tr);
	CHECK(vmsg_transport_add(tr, TEST_DEV_NUM, &model, NULL));
	bus.send_ret = -EAGAIN;
	CHECK(tr_get_info(tr, 7) == 0);
	CHECK(vmsg_transport_unplug(tr, TEST_DEV_NUM) == 0);
	CHECK(bus.n_ev == 0 && vmsg_transport_backlogged(tr));
	CHECK(vmsg_transport_flush(tr) == -EAGAIN);
	bus.send_ret = 0;
	/* Something new goes out behind what waited. */
	CHECK(tr_get_info(tr, 8) == 0);
	CHECK(!vmsg_transport_backlogged(tr));
	CHECK(bus.n_ev == 3);
	CHECK(bus.ev[0][1] == VIRTIO_MSG_GET_DEVICE_INFO &&
	      get16(bus.ev[0] + 4) == 7);
	CHECK(bus.ev[1][1] == VIRTIO_MSG_BUS_EVENT_DEVICE &&
	      (bus.ev[1][0] & VIRTIO_MSG_TYPE_BUS));
	CHECK(bus.ev[2][1] == VIRTIO_MSG_GET_DEVICE_INFO &&
	      get16(bus.ev[2] + 4) == 8);
	CHECK(vmsg_transport_flush(tr) == 0);

	/* A driver side that never makes room costs a bounded backlog. */
	bus.send_ret = -EAGAIN;
	for (i = 0; i < 2000; i++)
		if (tr_get_info(tr, i) == -ENOBUFS)
			refused++;
	CHECK(refused == 2000 - 1024);
	vmsg_transport_reset_devices(tr);
	CHECK(!vmsg_transport_backlogged(tr));
	bus.send_ret = 0;
	CHECK(vmsg_transport_flush(tr) == 0 && bus.n_ev == 3);
TEST_END

TEST_BEGIN(device_info)
	dev = new_dev();
	CHECK(dev);
	next_token = 0x1234;
	CHECK(xfer(dev, VIRTIO_MSG_GET_DEVICE_INFO, NULL, 0) == 32);
	CHECK(resp[0] == VIRTIO_MSG_TYPE_RESPONSE);
	CHECK(resp[1] == VIRTIO_MSG_GET_DEVICE_INFO);
	CHECK(get16(resp + 2) == TEST_DEV_NUM);
	CHECK(get16(resp + 4) == 0x1234);
	CHECK(get16(resp + 6) == 32);
	CHECK(get32(resp + 8) == 4);
	CHECK(get32(resp + 12) == 0x554d4551);
	CHECK(get32(resp + 16) == 64);
	CHECK(get32(resp + 20) == CFG_SIZE);
	CHECK(get32(resp + 24) == 3);
	CHECK(get32(resp + 28) == 0);	/* admin vqs: none */
	CHECK(resp[32] == 0xa5);	/* nothing written past msg_size */
TEST_END

TEST_BEGIN(reserved_type_bits_ignored)
	dev = new_dev();
	CHECK(dev);
	CHECK(xfer_raw(dev, VIRTIO_MSG_TYPE_RESERVED,
		       VIRTIO_MSG_GET_DEVICE_STATUS, TEST_DEV_NUM,
		       NULL, 0) == 12);
	CHECK(resp[0] == VIRTIO_MSG_TYPE_RESPONSE);
TEST_END

TEST_BEGIN(status_sequence)
	dev = new_dev();
	CHECK(dev);
	CHECK(get_status(dev) == 0);
	CHECK(set_status(dev, 0) == 0);
	CHECK(model_log.reset == 1);
	CHECK(set_status(dev, S_ACK) == S_ACK);
	CHECK(set_status(dev, S_ACK | S_DRV) == (S_ACK | S_DRV));
	CHECK(get_status(dev) == (S_ACK | S_DRV));
	/* Bits are cleared only by reset; NEEDS_RESET is device-owned. */
	CHECK(set_status(dev, S_ACK) == (S_ACK | S_DRV));
	CHECK(set_status(dev, S_ACK | S_DRV | S_NR) == (S_ACK | S_DRV));
	CHECK(set_status(dev, S_ACK | S_DRV | S_FAIL) ==
	      (S_ACK | S_DRV | S_FAIL));
	CHECK(set_status(dev, 0) == 0);
	CHECK(get_status(dev) == 0);
TEST_END

TEST_BEGIN(features_get_blocks)
	uint8_t p[8];

	dev = new_dev();
	CHECK(dev);
	put32(p, 0);
	put32(p + 4, 4);
	CHECK(xfer(dev, VIRTIO_MSG_GET_DEVICE_FEATURES, p, 8) == 8 + 8 + 16);
	CHECK(get32(resp + 8) == 0 && get32(resp + 12) == 4);
	CHECK(get32(resp + 16) == offered[0]);
	CHECK(get32(resp + 20) == offered[1]);
	CHECK(get32(resp + 24) == 0 && get32(resp + 28) == 0);
	put32(p, 1);
	put32(p + 4, 1);
	CHECK(xfer(dev, VIRTIO_MSG_GET_DEVICE_FEATURES, p, 8) == 20);
	CHECK(get32(resp + 8) == 1 && get32(resp + 16) == offered[1]);
	put32(p, 0xffffffff);
	put32(p + 4, 2);
	CHECK(xfer(dev, VIRTIO_MSG_GET_DEVICE_FEATURES, p, 8) == 24);
	CHECK(get32(resp + 16) == 0 && get32(resp + 20) == 0);
TEST_END

TEST_BEGIN(features_ok_accepted)
	uint32_t f[2] = { BIT(VIRTIO_RING_F_INDIRECT_DESC),
			  BIT(VIRTIO_F_VERSION_1) };

	dev = new_dev();
	CHECK(dev);
	set_status(dev, S_ACK | S_DRV);
	CHECK(set_features(dev, 0, 2, f) == 8);
	CHECK(resp[0] == 1 && get16(resp + 6) == 8);
	CHECK(set_status(dev, S_ACK | S_DRV | S_FOK) ==
	      (S_ACK | S_DRV | S_FOK));
	CHECK(vmsg_dev_has_feature(dev, VIRTIO_RING_F_INDIRECT_DESC));
	CHECK(vmsg_dev_has_feature(dev, VIRTIO_F_VERSION_1));
	CHECK(!vmsg_dev_has_feature(dev, VIRTIO_RING_F_EVENT_IDX));
	/* Features are frozen once FEATURES_OK is accepted. */
	f[0] = BIT(VIRTIO_RING_F_EVENT_IDX);
	CHECK(set_features(dev, 0, 2, f) == 8);
	CHECK(!vmsg_dev_has_feature(dev, VIRTIO_RING_F_EVENT_IDX));
	CHECK(vmsg_dev_has_feature(dev, VIRTIO_RING_F_INDIRECT_DESC));
TEST_END

TEST_BEGIN(features_ok_refused_not_subset)
	uint32_t f[2] = { 0, BIT(VIRTIO_F_VERSION_1) |
			  BIT(VIRTIO_F_ACCESS_PLATFORM) };

	dev = new_dev();
	CHECK(dev);
	set_status(dev, S_ACK | S_DRV);
	set_features(dev, 0, 2, f);
	CHECK(set_status(dev, S_ACK | S_DRV | S_FOK) == (S_ACK | S_DRV));
	CHECK(get_status(dev) == (S_ACK | S_DRV));
	/* Fixing the set and retrying succeeds. */
	f[1] = BIT(VIRTIO_F_VERSION_1);
	set_features(dev, 1, 1, &f[1]);
	CHECK(set_status(dev, S_ACK | S_DRV | S_FOK) ==
	      (S_ACK | S_DRV | S_FOK));
TEST_END

TEST_BEGIN(features_ok_refused_no_version1)
	uint32_t f[2] = { BIT(F_DEV_BIT), 0 };

	dev = new_dev();
	CHECK(dev);
	set_status(dev, S_ACK | S_DRV);
	set_features(dev, 0, 2, f);
	CHECK(set_status(dev, S_ACK | S_DRV | S_FOK) == (S_ACK | S_DRV));
TEST_END

TEST_BEGIN(features_ok_refused_unknown_block)
	uint32_t f[3] = { 0, BIT(VIRTIO_F_VERSION_1), 1 };

	dev = new_dev();
	CHECK(dev);
	set_status(dev, S_ACK | S_DRV);
	set_features(dev, 0, 3, f);
	CHECK(set_status(dev, S_ACK | S_DRV | S_FOK) == (S_ACK | S_DRV));
TEST_END

TEST_BEGIN(features_ok_refused_missing_required)
	static const uint32_t req[2] = { BIT(F_DEV_BIT), 0 };
	uint32_t f[2] = { 0, BIT(VIRTIO_F_VERSION_1) };

	model.required_features = req;
	dev = new_dev();
	CHECK(dev);
	set_status(dev, S_ACK | S_DRV);
	set_features(dev, 0, 2, f);
	CHECK(set_status(dev, S_ACK | S_DRV | S_FOK) == (S_ACK | S_DRV));
	f[0] = BIT(F_DEV_BIT);
	set_features(dev, 0, 2, f);
	CHECK(set_status(dev, S_ACK | S_DRV | S_FOK) ==
	      (S_ACK | S_DRV | S_FOK));
TEST_END

TEST_BEGIN(features_ok_needs_driver_bits)
	uint32_t f[2] = { 0, BIT(VIRTIO_F_VERSION_1) };

	dev = new_dev();
	CHECK(dev);
	set_features(dev, 0, 2, f);
	CHECK(set_status(dev, S_ACK | S_FOK) == S_ACK);
TEST_END

TEST_BEGIN(driver_ok_needs_features_ok)
	dev = new_dev();
	CHECK(dev);
	CHECK(set_status(dev, S_ACK | S_DRV | S_DOK) == (S_ACK | S_DRV));
TEST_END

/* ------------------------------------------------------------------ */
/* Configuration space.                                                */

TEST_BEGIN(config_read_generation)
	uint8_t v[2] = { 0x77, 0x66 };

	dev = new_dev();
	CHECK(dev);
	CHECK(get_config(dev, 4, 8) == 8 + 12 + 8);
	CHECK(get32(resp + 8) == 0);		/* generation */
	CHECK(get32(resp + 12) == 4 && get32(resp + 16) == 8);
	CHECK(resp[20] == 4 && resp[27] == 11);
	CHECK(vmsg_dev_config_update(dev, 4, v, 2) == 0);
	CHECK(get_config(dev, 4, 2) == 22);
	CHECK(get32(resp + 8) == 1);
	CHECK(resp[20] == 0x77 && resp[21] == 0x66);
	CHECK(vmsg_dev_config_generation(dev) == 1);
TEST_END

TEST_BEGIN(config_read_out_of_bounds)
	dev = new_dev();
	CHECK(dev);
	CHECK(get_config(dev, CFG_SIZE - 2, 4) == 20);
	CHECK(get32(resp + 12) == CFG_SIZE - 2 && get32(resp + 16) == 0);
	CHECK(get_config(dev, 0xfffffffe, 4) == 20);
	CHECK(get32(resp + 16) == 0);
	CHECK(get_config(dev, 0, CFG_SIZE) == 20 + CFG_SIZE);
TEST_END

TEST_BEGIN(config_write_matching_generation)
	uint8_t v[2] = { 0xaa, 0xbb };

	dev = new_dev();
	CHECK(dev);
	CHECK(set_config(dev, 0, 2, v, 2) == 20);
	CHECK(resp[0] == 1 && resp[1] == VIRTIO_MSG_SET_CONFIG);
	CHECK(get32(resp + 8) == 0 && get32(resp + 12) == 2);
	CHECK(get32(resp + 16) == 2);
	CHECK(model_log.config_writes == 1);
	CHECK(get_config(dev, 2, 2) == 22);
	CHECK(resp[20] == 0xaa && resp[21] == 0xbb);
	CHECK(vmsg_dev_config_generation(dev) == 0);
TEST_END

TEST_BEGIN(config_write_stale_generation_rejected)
	uint8_t v[2] = { 0xaa, 0xbb }, d = 9;

	dev = new_dev();
	CHECK(dev);
	CHECK(vmsg_dev_config_update(dev, 20, &d, 1) == 0);
	CHECK(set_config(dev, 0, 2, v, 2) == 20);
	CHECK(get32(resp + 8) == 1);		/* current generation */
	CHECK(get32(resp + 16) == 0);		/* rejected */
	CHECK(model_log.config_writes == 0);
	CHECK(get_config(dev, 2, 2) == 22);
	CHECK(resp[20] == 2 && resp[21] == 3);
	/* With the current generation it goes through. */
	CHECK(set_config(dev, 1, 2, v, 2) == 20);
	CHECK(get32(resp + 16) == 2);
TEST_END

TEST_BEGIN(config_write_stale_generation_coalesced)
	uint8_t v[2] = { 0xaa, 0xbb }, d = 9;

	model.flags = VMSG_DEV_F_SET_CONFIG_COALESCE;
	dev = new_dev();
	CHECK(dev);
	CHECK(vmsg_dev_config_update(dev, 20, &d, 1) == 0);
	CHECK(set_config(dev, 0, 2, v, 2) == 20);
	CHECK(get32(resp + 16) == 2);
	CHECK(get_config(dev, 2, 2) == 22);
	CHECK(resp[20] == 0xaa && resp[21] == 0xbb);
TEST_END

TEST_BEGIN(config_write_refused)
	uint8_t v[4] = { 1, 2, 3, 4 };

	dev = new_dev();
	CHECK(dev);
	/* The model refuses the last byte. */
	CHECK(set_config(dev, 0, CFG_SIZE - 2, v, 2) == 20);
	CHECK(get32(resp + 16) == 0);
	/* Out of bounds. */
	CHECK(set_config(dev, 0, CFG_SIZE - 2, v, 4) == 20);
	CHECK(get32(resp + 16) == 0);
	CHECK(get_config(dev, CFG_SIZE - 2, 2) == 22);
	CHECK(resp[20] == CFG_SIZE - 2 && resp[21] == CFG_SIZE - 1);
	vmsg_dev_destroy(dev);
	/* No config_write callback: read-only. */
	model.config_write = NULL;
	dev = new_dev();
	CHECK(dev);
	CHECK(set_config(dev, 0, 0, v, 2) == 20);
	CHECK(get32(resp + 16) == 0);
TEST_END

TEST_BEGIN(config_update_event_with_data)
	uint8_t v[4] = { 0xde, 0xad, 0xbe, 0xef };
	const uint8_t *e;

	dev = dev_up(0);
	CHECK(dev);
	bus.n_ev = 0;
	CHECK(vmsg_dev_config_update(dev, 8, v, 4) == 0);
	CHECK(bus.n_ev == 1);
	e = bus.ev[0];
	CHECK(bus.ev_len[0] == 8 + 16 + 4);
	CHECK(e[0] == 0 && e[1] == VIRTIO_MSG_EVENT_CONFIG);
	CHECK(get16(e + 2) == TEST_DEV_NUM && get16(e + 4) == 0);
	CHECK(get16(e + 6) == 28);
	CHECK(get32(e + 8) == (S_ACK | S_DRV | S_FOK | S_DOK));
	CHECK(get32(e + 12) == 1);
	CHECK(get32(e + 16) == 8 && get32(e + 20) == 4);
	CHECK(!memcmp(e + 24, v, 4));
	CHECK(vmsg_dev_config_update(dev, CFG_SIZE, v, 1) == -EINVAL);
	CHECK(bus.n_ev == 1 && vmsg_dev_config_generation(dev) == 1);
TEST_END

TEST_BEGIN(config_update_event_too_big)
	static uint8_t big_init[64];
	uint8_t v[64];
	uint8_t p[8];
	const uint8_t *e;

	model.config_size = 64;
	model.config_init = big_init;
	dev = vmsg_dev_create(&model, &bus_ops, NULL, TEST_DEV_NUM,
			      VIRTIO_MSG_MAX_SIZE_MIN, NULL);
	CHECK(dev);
	memset(v, 0x5a, sizeof(v));
	CHECK(vmsg_dev_config_update(dev, 0, v, 64) == 0);
	CHECK(bus.n_ev == 1 && bus.ev_len[0] == 24);
	e = bus.ev[0];
	CHECK(get32(e + 12) == 1 && get32(e + 20) == 0);
	/* 28 bytes of data is the most that fits in 52. */
	CHECK(vmsg_dev_config_update(dev, 0, v, 28) == 0);
	CHECK(bus.n_ev == 2 && bus.ev_len[1] == 52);
	CHECK(vmsg_dev_config_update(dev, 0, v, 29) == 0);
	CHECK(bus.n_ev == 3 && bus.ev_len[2] == 24);
	/* GET_CONFIG beyond what a 52-byte response holds: length 0. */
	put32(p, 0);
	put32(p + 4, 33);
	vmsg_hdr_build(resp, 0, VIRTIO_MSG_GET_CONFIG, TEST_DEV_NUM, 1, 16);
	memcpy(resp + 8, p, 8);
	{
		uint8_t r[VIRTIO_MSG_MAX_SIZE_MIN];

		CHECK(vmsg_dev_handle(dev, resp, 16, r, sizeof(r)) == 20);
		CHECK(get32(r + 16) == 0);
		put32(resp + 12, 32);
		CHECK(vmsg_dev_handle(dev, resp, 16, r, sizeof(r)) == 52);
		CHECK(get32(r + 16) == 32 && r[20] == 0x5a);
	}
TEST_END

TEST_BEGIN(reset_keeps_generation)
	uint8_t v[2] = { 0xaa, 0xbb };

	dev = dev_up(BIT(VIRTIO_RING_F_INDIRECT_DESC));
	CHECK(dev);
	CHECK(vmsg_dev_config_update(dev, 0, v, 2) == 0);
	CHECK(vmsg_dev_config_generation(dev) == 1);
	bus.n_ev = 0;
	CHECK(set_status(dev, 0) == 0);
	/* Config restored (a visible change, so the generation moves on). */
	CHECK(vmsg_dev_config_generation(dev) == 2);
	CHECK(bus.n_ev == 1 && get32(bus.ev[0] + 12) == 2);
	CHECK(get_config(dev, 0, 2) == 22);
	CHECK(get32(resp + 8) == 2 && resp[20] == 0 && resp[21] == 1);
	CHECK(!vmsg_dev_has_feature(dev, VIRTIO_RING_F_INDIRECT_DESC));
	CHECK(!vmsg_dev_has_feature(dev, VIRTIO_F_VERSION_1));
	CHECK(vq_size(dev, 0) == 0 && !vmsg_vq_ready(dev, 0));
	CHECK(model_log.reset == 2);
	/* A reset with nothing changed leaves the generation alone. */
	CHECK(set_status(dev, 0) == 0);
	CHECK(vmsg_dev_config_generation(dev) == 2 && bus.n_ev == 1);
TEST_END

/* ------------------------------------------------------------------ */
/* Virtqueue messages, GET_SHM.                                        */

TEST_BEGIN(get_vqueue)
	uint8_t p[4];

	dev = new_dev();
	CHECK(dev);
	put32(p, 0);
	CHECK(xfer(dev, VIRTIO_MSG_GET_VQUEUE, p, 4) == 48);
	CHECK(get32(resp + 8) == 0 && get32(resp + 12) == 8);
	CHECK(get32(resp + 16) == 0 && get32(resp + 20) == 0);
	CHECK(get64(resp + 24) == 0 && get64(resp + 40) == 0);
	put32(p, 1);
	CHECK(xfer(dev, VIRTIO_MSG_GET_VQUEUE, p, 4) == 48);
	CHECK(get32(resp + 12) == 16);
	put32(p, 2);
	CHECK(xfer(dev, VIRTIO_MSG_GET_VQUEUE, p, 4) == 48);
	CHECK(get32(resp + 8) == 2 && get32(resp + 12) == 0);
	put32(p, 99);
	CHECK(xfer(dev, VIRTIO_MSG_GET_VQUEUE, p, 4) == 48);
	CHECK(get32(resp + 8) == 99 && get32(resp + 12) == 0);
	CHECK(get32(resp + 20) == 0);	/* reserved word zeroed */
TEST_END

TEST_BEGIN(set_vqueue_validation)
	uint32_t f[2] = { 0, BIT(VIRTIO_F_VERSION_1) };
	uint8_t p[4];

	dev = new_dev();
	CHECK(dev);
	set_status(dev, S_ACK | S_DRV);
	/* Before FEATURES_OK. */
	CHECK(set_vqueue(dev, 0, 8, DESC_ADDR, AVAIL_ADDR, USED_ADDR) == 8);
	CHECK(resp[0] == 1 && resp[1] == VIRTIO_MSG_SET_VQUEUE);
	CHECK(vq_size(dev, 0) == 0);
	set_features(dev, 0, 2, f);
	CHECK(set_status(dev, S_ACK | S_DRV | S_FOK) ==
	      (S_ACK | S_DRV | S_FOK));
	CHECK(set_vqueue(dev, 0, 16, DESC_ADDR, AVAIL_ADDR, USED_ADDR) == 8);
	CHECK(vq_size(dev, 0) == 0);
	CHECK(set_vqueue(dev, 0, 6, DESC_ADDR, AVAIL_ADDR, USED_ADDR) == 8);
	CHECK(vq_size(dev, 0) == 0);
	CHECK(set_vqueue(dev, 0, 0, DESC_ADDR, AVAIL_ADDR, USED_ADDR) == 8);
	CHECK(vq_size(dev, 0) == 0);
	CHECK(set_vqueue(dev, 0, 8, DESC_ADDR + 8, AVAIL_ADDR,
			 USED_ADDR) == 8);
	CHECK(vq_size(dev, 0) == 0);
	CHECK(set_vqueue(dev, 0, 8, DESC_ADDR, AVAIL_ADDR + 1,
			 USED_ADDR) == 8);
	CHECK(vq_size(dev, 0) == 0);
	CHECK(set_vqueue(dev, 0, 8, DESC_ADDR, AVAIL_ADDR,
			 USED_ADDR + 2) == 8);
	CHECK(vq_size(dev, 0) == 0);
	CHECK(set_vqueue(dev, 0, 8, 0xfffffffffffffff0ULL, AVAIL_ADDR,
			 USED_ADDR) == 8);
	CHECK(vq_size(dev, 0) == 0);
	CHECK(set_vqueue(dev, 2, 8, DESC_ADDR, AVAIL_ADDR, USED_ADDR) == 8);
	CHECK(vq_size(dev, 2) == 0);
	CHECK(set_vqueue(dev, 9, 8, DESC_ADDR, AVAIL_ADDR, USED_ADDR) == 8);
	/* Smaller than max and valid. */
	CHECK(set_vqueue(dev, 0, 4, DESC_ADDR, AVAIL_ADDR, USED_ADDR) == 8);
	put32(p, 0);
	CHECK(xfer(dev, VIRTIO_MSG_GET_VQUEUE, p, 4) == 48);
	CHECK(get32(resp + 12) == 8 && get32(resp + 16) == 4);
	CHECK(get64(resp + 24) == DESC_ADDR);
	CHECK(get64(resp + 32) == AVAIL_ADDR);
	CHECK(get64(resp + 40) == USED_ADDR);
	CHECK(vmsg_vq_ready(dev, 0));
TEST_END

TEST_BEGIN(set_vqueue_live_and_reset_vqueue)
	uint8_t p[4];

	dev = dev_up(0);
	CHECK(dev);
	/* Reprogramming a live queue is refused. */
	CHECK(set_vqueue(dev, 0, 4, DESC_ADDR + 16, AVAIL_ADDR,
			 USED_ADDR) == 8);
	put32(p, 0);
	CHECK(xfer(dev, VIRTIO_MSG_GET_VQUEUE, p, 4) == 48);
	CHECK(get32(resp + 16) == 8 && get64(resp + 24) == DESC_ADDR);
	CHECK(xfer(dev, VIRTIO_MSG_RESET_VQUEUE, p, 4) == 8);
	CHECK(resp[1] == VIRTIO_MSG_RESET_VQUEUE);
	CHECK(model_log.queue_reset == 1);
	CHECK(vq_size(dev, 0) == 0 && !vmsg_vq_ready(dev, 0));
	CHECK(set_vqueue(dev, 0, 4, DESC_ADDR + 16, AVAIL_ADDR,
			 USED_ADDR) == 8);
	CHECK(vq_size(dev, 0) == 4);
TEST_END

TEST_BEGIN(get_shm)
	uint8_t p[4];

	dev = new_dev();
	CHECK(dev);
	put32(p, 0);
	CHECK(xfer(dev, VIRTIO_MSG_GET_SHM, p, 4) == 20);
	CHECK(get32(resp + 8) == 0 && get32(resp + 12) == 0x1000);
	CHECK(get32(resp + 16) == 0x4000);
	put32(p, 1);
	CHECK(xfer(dev, VIRTIO_MSG_GET_SHM, p, 4) == 20);
	CHECK(get32(resp + 8) == 1 && get32(resp + 12) == 0);
	CHECK(get32(resp + 16) == 0);
TEST_END

/* ------------------------------------------------------------------ */
/* The two wire generations.                                          */

#define V1	VIRTIO_MSG_WIRE_V1
#define V2	VIRTIO_MSG_WIRE_V2
#define ENABLE	VIRTIO_MSG_VQUEUE_V2_ENABLE
/* One more queue than GET_DEVICE_INFO can report in v2. */
#define VMSG_V2_TEST_QUEUES	65537

static struct vmsg_vq_elem elem_v2;
static struct vmsg_iov iov_v2[4];

TEST_BEGIN(wire_choice)
	static uint16_t many_q[VMSG_V2_TEST_QUEUES];

	dev = new_dev();
	CHECK(dev);
	CHECK(vmsg_dev_wire(dev) == V1);
	CHECK(vmsg_dev_set_wire(dev, 0, 0) == -EINVAL);
	CHECK(vmsg_dev_set_wire(dev, 3, 0) == -EINVAL);
	CHECK(vmsg_dev_set_wire(dev, V1, F_STRICT) == -EINVAL);
	CHECK(vmsg_dev_set_wire(dev, V2, 1U << 1) == -EINVAL);
	CHECK(vmsg_dev_set_wire(dev, V2, 0x80000000U) == -EINVAL);
	CHECK(vmsg_dev_wire(dev) == V1);
	CHECK(vmsg_dev_set_wire(dev, V2, F_STRICT) == 0);
	CHECK(vmsg_dev_wire(dev) == V2);
	CHECK(vmsg_dev_set_wire(dev, V1, 0) == 0);
	CHECK(vmsg_dev_wire(dev) == V1);
	/* Once the driver side has heard from it, the choice is made. */
	CHECK(get_status(dev) == 0);
	CHECK(vmsg_dev_set_wire(dev, V2, 0) == -EBUSY);
	CHECK(vmsg_dev_wire(dev) == V1);
	vmsg_dev_destroy(dev);
	/* A dropped message counts too. */
	dev = new_dev();
	CHECK(dev);
	CHECK(xfer(dev, VIRTIO_MSG_GET_DEVICE_INFO, resp, 4) == -EBADMSG);
	CHECK(vmsg_dev_set_wire(dev, V2, 0) == -EBUSY);
	vmsg_dev_destroy(dev);
	/* v2 reports at most 65536 queues. */
	model.num_queues = VMSG_V2_TEST_QUEUES;
	model.queue_max_size = many_q;
	dev = new_dev();
	CHECK(dev);
	CHECK(vmsg_dev_set_wire(dev, V2, 0) == -EINVAL);
	CHECK(vmsg_dev_set_wire(dev, V1, 0) == 0);
	vmsg_dev_destroy(dev);
	model.num_queues = VMSG_V2_TEST_QUEUES - 1;
	dev = new_dev();
	CHECK(dev);
	CHECK(vmsg_dev_set_wire(dev, V2, 0) == 0);
TEST_END

static const uint8_t test_uuid[16] = {
	0x6b, 0x1d, 0x2e, 0x4c, 0x9a, 0x01, 0x4f, 0x3e,
	0x8d, 0x27, 0x55, 0xa0, 0x13, 0xc4, 0x7e, 0xf2,
};

TEST_BEGIN(device_info_v2)
	static const uint8_t zero[16];

	dev = new_dev_wire(V2, 0);
	CHECK(dev);
	next_token = 0x4321;
	CHECK(xfer(dev, VIRTIO_MSG_GET_DEVICE_INFO, NULL, 0) == 52);
	CHECK(resp[0] == VIRTIO_MSG_TYPE_RESPONSE);
	CHECK(resp[1] == VIRTIO_MSG_GET_DEVICE_INFO);
	CHECK(get16(resp + 2) == TEST_DEV_NUM && get16(resp + 4) == 0x4321);
	CHECK(get16(resp + 6) == 52);
	CHECK(get32(resp + 8) == 4 && get32(resp + 12) == 0x554d4551);
	CHECK(!memcmp(resp + 16, zero, 16));	/* no UUID */
	CHECK(get32(resp + 32) == 2);		/* feature blocks, not bits */
	CHECK(get32(resp + 36) == CFG_SIZE);
	CHECK(get32(resp + 40) == 3);
	CHECK(get32(resp + 44) == 0 && get32(resp + 48) == 0);
	CHECK(resp[52] == 0xa5);
	vmsg_dev_destroy(dev);

	model.device_uuid = test_uuid;
	dev = new_dev_wire(V2, F_STRICT);
	CHECK(dev);
	CHECK(xfer(dev, VIRTIO_MSG_GET_DEVICE_INFO, NULL, 0) == 52);
	CHECK(!memcmp(resp + 16, test_uuid, 16));
	CHECK(get32(resp + 32) == 2 && get32(resp + 36) == CFG_SIZE);
	vmsg_dev_destroy(dev);

	/* v1 has no room for it: the 24-byte layout, unchanged. */
	dev = new_dev_wire(V1, 0);
	CHECK(dev);
	CHECK(xfer(dev, VIRTIO_MSG_GET_DEVICE_INFO, NULL, 0) == 32);
	CHECK(get32(resp + 16) == 64 && get32(resp + 20) == CFG_SIZE);
	CHECK(get32(resp + 24) == 3 && get32(resp + 28) == 0);
	CHECK(resp[32] == 0xa5);
	vmsg_dev_destroy(dev);

	/* 52 is the smallest bus maximum, and it fits exactly. */
	dev = vmsg_dev_create(&model, &bus_ops, NULL, TEST_DEV_NUM,
			      VIRTIO_MSG_MAX_SIZE_MIN, NULL);
	CHECK(dev && !vmsg_dev_set_wire(dev, V2, 0));
	{
		uint8_t m[8], r[64];

		vmsg_hdr_build(m, 0, VIRTIO_MSG_GET_DEVICE_INFO, TEST_DEV_NUM,
			       1, 8);
		memset(r, 0xa5, sizeof(r));
		CHECK(vmsg_dev_handle(dev, m, 8, r, 51) == -EMSGSIZE);
		CHECK(r[0] == 0xa5);
		CHECK(vmsg_dev_handle(dev, m, 8, r, sizeof(r)) == 52);
		CHECK(!memcmp(r + 16, test_uuid, 16) && r[52] == 0xa5);
	}
TEST_END

TEST_BEGIN(get_vqueue_v2)
	uint8_t p[4];

	dev = dev_up_wire(0, V2, 0);
	CHECK(dev);
	put32(p, 0);
	CHECK(xfer(dev, VIRTIO_MSG_GET_VQUEUE, p, 4) == 48);
	CHECK(get32(resp + 8) == 0 && get32(resp + 12) == 8);
	CHECK(get32(resp + 16) == 8);
	CHECK(get32(resp + 20) == VIRTIO_MSG_VQUEUE_V2_ENABLED);
	CHECK(get64(resp + 24) == DESC_ADDR && get64(resp + 32) == AVAIL_ADDR);
	CHECK(get64(resp + 40) == USED_ADDR);
	/* Not set up: not enabled. */
	put32(p, 1);
	CHECK(xfer(dev, VIRTIO_MSG_GET_VQUEUE, p, 4) == 48);
	CHECK(get32(resp + 12) == 16 && get32(resp + 16) == 0);
	CHECK(get32(resp + 20) == 0);
	/* No such queue. */
	put32(p, 99);
	CHECK(xfer(dev, VIRTIO_MSG_GET_VQUEUE, p, 4) == 48);
	CHECK(get32(resp + 8) == 99 && get32(resp + 12) == 0);
	CHECK(get32(resp + 20) == 0);
	/* After a device reset the queue is off again. */
	CHECK(set_status(dev, 0) == 0);
	put32(p, 0);
	CHECK(xfer(dev, VIRTIO_MSG_GET_VQUEUE, p, 4) == 48);
	CHECK(get32(resp + 16) == 0 && get32(resp + 20) == 0);
	vmsg_dev_destroy(dev);

	/* v1: the word stays reserved, 0, on a live queue too. */
	dev = dev_up(0);
	CHECK(dev);
	CHECK(xfer(dev, VIRTIO_MSG_GET_VQUEUE, p, 4) == 48);
	CHECK(get32(resp + 16) == 8 && get32(resp + 20) == 0);
TEST_END

/* GET_VQUEUE of queue @idx, v2: the flags word, UINT32_MAX if bad. */
static uint32_t vq_flags(struct vmsg_dev *dev, uint32_t idx)
{
	uint8_t p[4];

	put32(p, idx);
	if (xfer(dev, VIRTIO_MSG_GET_VQUEUE, p, 4) != 48)
		return UINT32_MAX;
	return get32(resp + 20);
}

TEST_BEGIN(set_vqueue_v2)
	static const uint32_t bad_flags[] = { 0, 2, 3, 0x80000001U,
					      0xffffffffU };
	uint32_t f[2] = { 0, BIT(VIRTIO_F_VERSION_1) };
	unsigned int i;

	dev = new_dev_wire(V2, 0);
	CHECK(dev);
	set_status(dev, S_ACK | S_DRV);
	set_features(dev, 0, 2, f);
	CHECK(set_status(dev, S_ACK | S_DRV | S_FOK) ==
	      (S_ACK | S_DRV | S_FOK));
	/* Anything but exactly ENABLE leaves the queue off. */
	for (i = 0; i < ARRAY_SIZE(bad_flags); i++) {
		CHECK(set_vqueue_flags(dev, 0, bad_flags[i], 4, DESC_ADDR,
				       AVAIL_ADDR, USED_ADDR) == 8);
		CHECK(resp[0] == 1 && resp[1] == VIRTIO_MSG_SET_VQUEUE);
		CHECK(vq_size(dev, 0) == 0 && vq_flags(dev, 0) == 0);
		CHECK(!vmsg_vq_ready(dev, 0));
	}
	/* ENABLE does not make an invalid set-up live. */
	CHECK(set_vqueue_flags(dev, 0, ENABLE, 6, DESC_ADDR, AVAIL_ADDR,
			       USED_ADDR) == 8);
	CHECK(vq_size(dev, 0) == 0 && vq_flags(dev, 0) == 0);
	CHECK(set_vqueue_flags(dev, 0, ENABLE, 4, DESC_ADDR + 8, AVAIL_ADDR,
			       USED_ADDR) == 8);
	CHECK(vq_flags(dev, 0) == 0);
	CHECK(set_vqueue_flags(dev, 2, ENABLE, 4, DESC_ADDR, AVAIL_ADDR,
			       USED_ADDR) == 8);
	CHECK(vq_flags(dev, 2) == 0);
	/* A valid one: the read-back shows what was set, and ENABLED. */
	CHECK(set_vqueue_flags(dev, 0, ENABLE, 4, DESC_ADDR, AVAIL_ADDR,
			       USED_ADDR) == 8);
	CHECK(vq_flags(dev, 0) == VIRTIO_MSG_VQUEUE_V2_ENABLED);
	CHECK(get32(resp + 12) == 8 && get32(resp + 16) == 4);
	CHECK(get64(resp + 24) == DESC_ADDR && get64(resp + 32) == AVAIL_ADDR);
	CHECK(get64(resp + 40) == USED_ADDR);
	CHECK(vmsg_vq_ready(dev, 0));
	/* A live queue is neither reprogrammed nor turned off. */
	CHECK(set_vqueue_flags(dev, 0, ENABLE, 8, DESC_ADDR + 16, AVAIL_ADDR,
			       USED_ADDR) == 8);
	CHECK(vq_flags(dev, 0) == VIRTIO_MSG_VQUEUE_V2_ENABLED);
	CHECK(get32(resp + 16) == 4 && get64(resp + 24) == DESC_ADDR);
	CHECK(set_vqueue_flags(dev, 0, 0, 8, DESC_ADDR + 16, AVAIL_ADDR,
			       USED_ADDR) == 8);
	CHECK(vq_flags(dev, 0) == VIRTIO_MSG_VQUEUE_V2_ENABLED);
	CHECK(get32(resp + 16) == 4 && vmsg_vq_ready(dev, 0));
	/* RESET_VQUEUE turns it off; ENABLE brings it back. */
	put32(resp, 0);
	CHECK(xfer(dev, VIRTIO_MSG_RESET_VQUEUE, "\0\0\0\0", 4) == 8);
	CHECK(vq_flags(dev, 0) == 0 && get32(resp + 16) == 0);
	CHECK(set_vqueue_flags(dev, 0, ENABLE, 8, DESC_ADDR + 16, AVAIL_ADDR,
			       USED_ADDR) == 8);
	CHECK(vq_flags(dev, 0) == VIRTIO_MSG_VQUEUE_V2_ENABLED);
	CHECK(get32(resp + 16) == 8 && get64(resp + 24) == DESC_ADDR + 16);
	vmsg_dev_destroy(dev);

	/* v1: the word is reserved and ignored, whatever it holds. */
	dev = new_dev_wire(V1, 0);
	CHECK(dev);
	set_status(dev, S_ACK | S_DRV);
	set_features(dev, 0, 2, f);
	set_status(dev, S_ACK | S_DRV | S_FOK);
	CHECK(set_vqueue_flags(dev, 0, 0xffffffffU, 4, DESC_ADDR, AVAIL_ADDR,
			       USED_ADDR) == 8);
	CHECK(vq_size(dev, 0) == 4 && get32(resp + 20) == 0);
	CHECK(set_vqueue_flags(dev, 1, 0, 4, DESC_ADDR + 0x400,
			       AVAIL_ADDR + 0x400, USED_ADDR + 0x400) == 8);
	CHECK(vq_size(dev, 1) == 4 && get32(resp + 20) == 0);
TEST_END

TEST_BEGIN(get_shm_v2)
	static const struct vmsg_shm_region wide[3] = {
		{ 0x4000, 0x1000 },
		{ 0x100000000000ULL, 0x200000000ULL },
		{ 0xfffff000ULL, 0x100000000ULL },
	};
	static const struct vmsg_shm_region wraps[1] = {
		{ 0xfffffffffffff000ULL, 0x2000 },
	};
	uint8_t p[4];

	model.num_shm = 3;
	model.shm = wide;
	dev = new_dev_wire(V2, 0);
	CHECK(dev);
	put32(p, 0);
	CHECK(xfer(dev, VIRTIO_MSG_GET_SHM, p, 4) == 32);
	CHECK(resp[1] == VIRTIO_MSG_GET_SHM && get16(resp + 6) == 32);
	CHECK(get32(resp + 8) == 0 && get32(resp + 12) == 0);
	CHECK(get64(resp + 16) == 0x1000 && get64(resp + 24) == 0x4000);
	CHECK(resp[32] == 0xa5);
	put32(p, 1);
	CHECK(xfer(dev, VIRTIO_MSG_GET_SHM, p, 4) == 32);
	CHECK(get32(resp + 8) == 1 && get32(resp + 12) == 0);
	CHECK(get64(resp + 16) == 0x200000000ULL);
	CHECK(get64(resp + 24) == 0x100000000000ULL);
	put32(p, 3);
	CHECK(xfer(dev, VIRTIO_MSG_GET_SHM, p, 4) == 32);
	CHECK(get32(resp + 8) == 3 && get64(resp + 16) == 0);
	CHECK(get64(resp + 24) == 0);
	put32(p, 0xffffffffU);
	CHECK(xfer(dev, VIRTIO_MSG_GET_SHM, p, 4) == 32);
	CHECK(get32(resp + 8) == 0xffffffffU && get64(resp + 16) == 0);
	vmsg_dev_destroy(dev);

	/* v1: what 32 bits cannot say is absent, not truncated. */
	dev = new_dev_wire(V1, 0);
	CHECK(dev);
	put32(p, 0);
	CHECK(xfer(dev, VIRTIO_MSG_GET_SHM, p, 4) == 20);
	CHECK(get32(resp + 12) == 0x1000 && get32(resp + 16) == 0x4000);
	CHECK(resp[20] == 0xa5);
	put32(p, 1);
	CHECK(xfer(dev, VIRTIO_MSG_GET_SHM, p, 4) == 20);
	CHECK(get32(resp + 8) == 1 && get32(resp + 12) == 0);
	CHECK(get32(resp + 16) == 0);
	put32(p, 2);
	CHECK(xfer(dev, VIRTIO_MSG_GET_SHM, p, 4) == 20);
	CHECK(get32(resp + 12) == 0 && get32(resp + 16) == 0);
	vmsg_dev_destroy(dev);
	dev = NULL;

	/* A region that wraps around 2^64 is a bad model. */
	model.num_shm = 1;
	model.shm = wraps;
	CHECK(!new_dev() && errno == EINVAL);
TEST_END

/* SET_CONFIG of two bytes with a stale generation, in each profile. */
TEST_BEGIN(config_profile_v2_baseline)
	uint8_t v[2] = { 0xaa, 0xbb }, d = 9;

	dev = new_dev_wire(V2, 0);
	CHECK(dev);
	CHECK(vmsg_dev_config_update(dev, 20, &d, 1) == 0);
	/* The driver sends 0, or anything stale: never rejected. */
	CHECK(set_config(dev, 0, 2, v, 2) == 20);
	CHECK(get32(resp + 8) == 1 && get32(resp + 12) == 2);
	CHECK(get32(resp + 16) == 2);
	CHECK(model_log.config_writes == 1);
	CHECK(get_config(dev, 2, 2) == 22);
	CHECK(resp[20] == 0xaa && resp[21] == 0xbb);
	CHECK(set_config(dev, 0x12345, 4, v, 2) == 20);
	CHECK(get32(resp + 16) == 2);
	CHECK(set_config(dev, 1, 6, v, 2) == 20);
	CHECK(get32(resp + 16) == 2);
	CHECK(vmsg_dev_config_generation(dev) == 1);
TEST_END

TEST_BEGIN(config_profile_v2_strict)
	uint8_t v[2] = { 0xaa, 0xbb }, d = 9;

	/* The bus picks the profile; the v1 model flag does not count. */
	model.flags = VMSG_DEV_F_SET_CONFIG_COALESCE;
	dev = new_dev_wire(V2, F_STRICT);
	CHECK(dev);
	CHECK(vmsg_dev_config_update(dev, 20, &d, 1) == 0);
	CHECK(set_config(dev, 0, 2, v, 2) == 20);
	CHECK(get32(resp + 8) == 1 && get32(resp + 16) == 0);
	CHECK(model_log.config_writes == 0);
	CHECK(get_config(dev, 2, 2) == 22);
	CHECK(resp[20] == 2 && resp[21] == 3);
	CHECK(set_config(dev, 2, 2, v, 2) == 20);
	CHECK(get32(resp + 16) == 0);
	/* The current generation goes through. */
	CHECK(set_config(dev, 1, 2, v, 2) == 20);
	CHECK(get32(resp + 16) == 2 && model_log.config_writes == 1);
	CHECK(get_config(dev, 2, 2) == 22);
	CHECK(resp[20] == 0xaa && resp[21] == 0xbb);
TEST_END

TEST_BEGIN(config_write_v2_all_or_nothing)
	uint8_t v[CFG_SIZE], cur[CFG_SIZE];
	unsigned int i;

	for (i = 0; i < CFG_SIZE; i++)
		v[i] = 0x80 | i;
	dev = new_dev_wire(V2, 0);
	CHECK(dev);
	/* The model refuses the last byte: the byte before stays too. */
	CHECK(set_config(dev, 0, CFG_SIZE - 2, v, 2) == 20);
	CHECK(get32(resp + 16) == 0);
	/* Running past the end: nothing of it is applied. */
	CHECK(set_config(dev, 0, CFG_SIZE - 4, v, 8) == 20);
	CHECK(get32(resp + 16) == 0);
	CHECK(set_config(dev, 0, 0xfffffffeU, v, 4) == 20);
	CHECK(get32(resp + 16) == 0);
	CHECK(set_config(dev, 0, 0, v, 0) == 20);
	CHECK(get32(resp + 16) == 0);
	CHECK(vmsg_dev_config_read(dev, 0, cur, CFG_SIZE) == 0);
	CHECK(!memcmp(cur, cfg_init, CFG_SIZE));
	/* Applied: every byte, and the length says so. */
	CHECK(set_config(dev, 0, 0, v, CFG_SIZE - 1) == 20);
	CHECK(get32(resp + 16) == CFG_SIZE - 1);
	CHECK(vmsg_dev_config_read(dev, 0, cur, CFG_SIZE) == 0);
	CHECK(!memcmp(cur, v, CFG_SIZE - 1));
	CHECK(cur[CFG_SIZE - 1] == CFG_SIZE - 1);
TEST_END

TEST_BEGIN(malformed_v2)
	uint8_t p[64] = { 0 };
	struct vmsg_dev_stats st;

	dev = new_dev_wire(V2, 0);
	CHECK(dev);
	CHECK(set_status(dev, S_ACK) == S_ACK);
	CHECK(xfer(dev, VIRTIO_MSG_GET_DEVICE_INFO, p, 4) == -EBADMSG);
	CHECK(resp[0] == 0xa5);
	CHECK(xfer(dev, VIRTIO_MSG_GET_VQUEUE, p, 8) == -EBADMSG);
	put32(p + 4, ENABLE);
	CHECK(xfer(dev, VIRTIO_MSG_SET_VQUEUE, p, 36) == -EBADMSG);
	CHECK(xfer(dev, VIRTIO_MSG_SET_VQUEUE, p, 44) == -EBADMSG);
	CHECK(xfer(dev, VIRTIO_MSG_GET_SHM, p, 2) == -EBADMSG);
	CHECK(xfer(dev, VIRTIO_MSG_GET_SHM, p, 8) == -EBADMSG);
	CHECK(get_status(dev) == S_ACK);
	vmsg_dev_get_stats(dev, &st);
	CHECK(st.dropped == 6 && st.handled == 2);
TEST_END

TEST_BEGIN(v2_probe_and_io)
	dev = dev_up_wire(0, V2, F_STRICT);
	CHECK(dev);
	CHECK(vmsg_vq_ready(dev, 0));
	desc(DESC_ADDR, 0, BUF_ADDR, 4, VRING_DESC_F_WRITE, 0);
	avail_add(0);
	model_log.notify = 0;
	CHECK(kick(dev, 0) == 0);
	CHECK(model_log.notify == 1 && model_log.notify_idx == 0);
	CHECK(vmsg_vq_pop(dev, 0, &elem_v2, iov_v2, 4) == 1);
	CHECK(elem_v2.head == 0 && elem_v2.in_len == 4);
	CHECK(vmsg_vq_push(dev, 0, 0, 4) == 0);
	CHECK(rd16(USED_ADDR + 2) == 1 && rd32(USED_ADDR + 8) == 4);
	CHECK(!needs_reset(dev));
TEST_END

/* ------------------------------------------------------------------ */
/* Malformed messages: dropped, no response, state untouched.          */

TEST_BEGIN(malformed_short)
	uint8_t m[8] = { 0, VIRTIO_MSG_GET_DEVICE_STATUS, TEST_DEV_NUM, 0,
			 1, 0, 8, 0 };
	struct vmsg_dev_stats st;
	size_t len;

	dev = new_dev();
	CHECK(dev);
	for (len = 0; len < 8; len++)
		CHECK(vmsg_dev_handle(dev, m, len, resp, sizeof(resp)) ==
		      -EBADMSG);
	CHECK(vmsg_dev_handle(dev, NULL, 8, resp, sizeof(resp)) == -EBADMSG);
	CHECK(vmsg_dev_handle(dev, m, 8, resp, sizeof(resp)) == 12);
	vmsg_dev_get_stats(dev, &st);
	CHECK(st.dropped == 9 && st.handled == 1);
TEST_END

TEST_BEGIN(malformed_msg_size)
	uint8_t m[400] = { 0 };

	dev = new_dev();
	CHECK(dev);
	vmsg_hdr_build(m, 0, VIRTIO_MSG_GET_DEVICE_STATUS, TEST_DEV_NUM, 1, 7);
	CHECK(vmsg_dev_handle(dev, m, 8, resp, sizeof(resp)) == -EBADMSG);
	vmsg_hdr_build(m, 0, VIRTIO_MSG_GET_DEVICE_STATUS, TEST_DEV_NUM, 1, 0);
	CHECK(vmsg_dev_handle(dev, m, 8, resp, sizeof(resp)) == -EBADMSG);
	/* msg_size larger than what arrived. */
	vmsg_hdr_build(m, 0, VIRTIO_MSG_GET_VQUEUE, TEST_DEV_NUM, 1, 12);
	CHECK(vmsg_dev_handle(dev, m, 10, resp, sizeof(resp)) == -EBADMSG);
	/* Larger than the bus maximum. */
	vmsg_hdr_build(m, 0, VIRTIO_MSG_SET_CONFIG, TEST_DEV_NUM, 1,
		       TEST_MAX_MSG + 4);
	put32(m + 16, TEST_MAX_MSG + 4 - 20);
	CHECK(vmsg_dev_handle(dev, m, sizeof(m), resp, sizeof(resp)) ==
	      -EBADMSG);
	/* A slot larger than msg_size is fine (bus framing). */
	vmsg_hdr_build(m, 0, VIRTIO_MSG_GET_DEVICE_STATUS, TEST_DEV_NUM, 1, 8);
	CHECK(vmsg_dev_handle(dev, m, 64, resp, sizeof(resp)) == 12);
TEST_END

TEST_BEGIN(malformed_payload_len)
	uint8_t p[64] = { 0 };

	dev = new_dev();
	CHECK(dev);
	CHECK(set_status(dev, S_ACK) == S_ACK);
	CHECK(xfer(dev, VIRTIO_MSG_GET_DEVICE_INFO, p, 4) == -EBADMSG);
	CHECK(xfer(dev, VIRTIO_MSG_GET_DEVICE_STATUS, p, 4) == -EBADMSG);
	/* A short SET_DEVICE_STATUS must not reset the device. */
	CHECK(xfer(dev, VIRTIO_MSG_SET_DEVICE_STATUS, p, 0) == -EBADMSG);
	CHECK(xfer(dev, VIRTIO_MSG_SET_DEVICE_STATUS, p, 8) == -EBADMSG);
	CHECK(get_status(dev) == S_ACK && model_log.reset == 0);
	CHECK(xfer(dev, VIRTIO_MSG_GET_VQUEUE, p, 8) == -EBADMSG);
	CHECK(xfer(dev, VIRTIO_MSG_SET_VQUEUE, p, 36) == -EBADMSG);
	CHECK(xfer(dev, VIRTIO_MSG_SET_VQUEUE, p, 44) == -EBADMSG);
	CHECK(xfer(dev, VIRTIO_MSG_RESET_VQUEUE, p, 0) == -EBADMSG);
	CHECK(xfer(dev, VIRTIO_MSG_GET_SHM, p, 2) == -EBADMSG);
	CHECK(xfer(dev, VIRTIO_MSG_GET_CONFIG, p, 4) == -EBADMSG);
	CHECK(xfer(dev, VIRTIO_MSG_GET_DEVICE_FEATURES, p, 12) == -EBADMSG);
	CHECK(xfer(dev, VIRTIO_MSG_EVENT_AVAIL, p, 4) == -EBADMSG);
	/* Variable parts that disagree with the message size. */
	put32(p + 8, 4);			/* SET_CONFIG length */
	CHECK(xfer(dev, VIRTIO_MSG_SET_CONFIG, p, 12 + 2) == -EBADMSG);
	CHECK(xfer(dev, VIRTIO_MSG_SET_CONFIG, p, 12 + 6) == -EBADMSG);
	CHECK(xfer(dev, VIRTIO_MSG_SET_CONFIG, p, 12 + 4) == 20);
	put32(p + 8, 0xffffffff);
	CHECK(xfer(dev, VIRTIO_MSG_SET_CONFIG, p, 12 + 4) == -EBADMSG);
	put32(p + 4, 2);			/* SET_DRIVER_FEATURES blocks */
	CHECK(xfer(dev, VIRTIO_MSG_SET_DRIVER_FEATURES, p, 12) == -EBADMSG);
	CHECK(xfer(dev, VIRTIO_MSG_SET_DRIVER_FEATURES, p, 20) == -EBADMSG);
	put32(p + 4, 0x40000001);		/* 4 * n wraps in 32 bits */
	CHECK(xfer(dev, VIRTIO_MSG_SET_DRIVER_FEATURES, p, 12) == -EBADMSG);
	CHECK(get_status(dev) == S_ACK);
TEST_END

TEST_BEGIN(unknown_msg_ids)
	static const uint8_t unsup[] = { 0x00, 0x01, 0x0d, 0x3f, 0x43, 0x7f,
					 0x80, 0xbf, 0xc0, 0xff };
	unsigned int i;

	dev = new_dev();
	CHECK(dev);
	for (i = 0; i < sizeof(unsup); i++) {
		CHECK(xfer(dev, unsup[i], NULL, 0) == -EOPNOTSUPP);
		CHECK(resp[0] == 0xa5);
	}
	/* Device->driver events arriving at the device. */
	CHECK(xfer(dev, VIRTIO_MSG_EVENT_USED, resp, 4) == -EPROTO);
	CHECK(xfer(dev, VIRTIO_MSG_EVENT_CONFIG, resp, 16) == -EPROTO);
TEST_END

TEST_BEGIN(response_bit_dropped)
	struct vmsg_dev_stats st;

	dev = new_dev();
	CHECK(dev);
	CHECK(xfer_raw(dev, VIRTIO_MSG_TYPE_RESPONSE,
		       VIRTIO_MSG_GET_DEVICE_INFO, TEST_DEV_NUM,
		       NULL, 0) == -EPROTO);
	CHECK(resp[0] == 0xa5 && resp[8] == 0xa5);
	CHECK(xfer_raw(dev, VIRTIO_MSG_TYPE_RESPONSE,
		       VIRTIO_MSG_SET_DEVICE_STATUS, TEST_DEV_NUM,
		       "\x01\0\0\0", 4) == -EPROTO);
	CHECK(vmsg_dev_status(dev) == 0);
	vmsg_dev_get_stats(dev, &st);
	CHECK(st.dropped == 2 && st.handled == 0);
TEST_END

TEST_BEGIN(bus_msg_dropped)
	dev = new_dev();
	CHECK(dev);
	CHECK(xfer_raw(dev, VIRTIO_MSG_TYPE_BUS, VIRTIO_MSG_BUS_PING, 0,
		       "\1\2\3\4", 4) == -EOPNOTSUPP);
	CHECK(xfer_raw(dev, VIRTIO_MSG_TYPE_BUS, VIRTIO_MSG_GET_DEVICE_INFO,
		       TEST_DEV_NUM, NULL, 0) == -EOPNOTSUPP);
	CHECK(resp[0] == 0xa5);
TEST_END

TEST_BEGIN(wrong_dev_num_dropped)
	dev = new_dev();
	CHECK(dev);
	CHECK(xfer_raw(dev, 0, VIRTIO_MSG_GET_DEVICE_INFO, TEST_DEV_NUM + 1,
		       NULL, 0) == -ENODEV);
	CHECK(resp[0] == 0xa5);
TEST_END

TEST_BEGIN(response_never_exceeds_limits)
	uint8_t m[16], r[64];

	model.num_feature_blocks = 2;
	dev = vmsg_dev_create(&model, &bus_ops, NULL, TEST_DEV_NUM,
			      VIRTIO_MSG_MAX_SIZE_MIN, NULL);
	CHECK(dev);
	vmsg_hdr_build(m, 0, VIRTIO_MSG_GET_DEVICE_FEATURES, TEST_DEV_NUM,
		       1, 16);
	put32(m + 8, 0);
	put32(m + 12, 9);	/* 8 + 8 + 36 = 52: fits */
	memset(r, 0xa5, sizeof(r));
	CHECK(vmsg_dev_handle(dev, m, 16, r, sizeof(r)) == 52);
	CHECK(r[52] == 0xa5);
	put32(m + 12, 10);	/* 56: does not */
	CHECK(vmsg_dev_handle(dev, m, 16, r, sizeof(r)) == -EMSGSIZE);
	/* A response buffer smaller than the response. */
	vmsg_hdr_build(m, 0, VIRTIO_MSG_GET_VQUEUE, TEST_DEV_NUM, 1, 12);
	put32(m + 8, 0);
	memset(r, 0xa5, sizeof(r));
	CHECK(vmsg_dev_handle(dev, m, 12, r, 40) == -EMSGSIZE);
	CHECK(r[0] == 0xa5 && r[40] == 0xa5);
	CHECK(vmsg_dev_handle(dev, m, 12, r, 4) == -ENOSPC);
	CHECK(vmsg_dev_handle(dev, m, 12, r, 48) == 48);
TEST_END

TEST_BEGIN(response_in_request_buffer)
	uint32_t f[2] = { 0, BIT(VIRTIO_F_VERSION_1) };
	uint8_t b[TEST_MAX_MSG];

	dev = new_dev();
	CHECK(dev);
	set_status(dev, S_ACK | S_DRV);
	set_features(dev, 0, 2, f);
	set_status(dev, S_ACK | S_DRV | S_FOK);
	/* SET_VQUEUE answered in place, then GET_VQUEUE in place. */
	memset(b, 0, sizeof(b));
	vmsg_hdr_build(b, 0, VIRTIO_MSG_SET_VQUEUE, TEST_DEV_NUM, 7, 48);
	put32(b + 16, 8);
	put64(b + 24, DESC_ADDR);
	put64(b + 32, AVAIL_ADDR);
	put64(b + 40, USED_ADDR);
	CHECK(vmsg_dev_handle(dev, b, 48, b, sizeof(b)) == 8);
	CHECK(b[0] == 1 && get16(b + 4) == 7);
	vmsg_hdr_build(b, 0, VIRTIO_MSG_GET_VQUEUE, TEST_DEV_NUM, 8, 12);
	put32(b + 8, 0);
	CHECK(vmsg_dev_handle(dev, b, 12, b, sizeof(b)) == 48);
	CHECK(get32(b + 12) == 8 && get32(b + 16) == 8);
	CHECK(get64(b + 24) == DESC_ADDR && get64(b + 40) == USED_ADDR);
	vmsg_hdr_build(b, 0, VIRTIO_MSG_GET_VQUEUE, TEST_DEV_NUM, 8, 12);
	put32(b + 8, 1);
	CHECK(vmsg_dev_handle(dev, b, 12, b, sizeof(b)) == 48);
	CHECK(get32(b + 8) == 1 && get32(b + 12) == 16);
	vmsg_hdr_build(b, 0, VIRTIO_MSG_GET_SHM, TEST_DEV_NUM, 8, 12);
	put32(b + 8, 0);
	CHECK(vmsg_dev_handle(dev, b, 12, b, sizeof(b)) == 20);
	CHECK(get32(b + 12) == 0x1000);
	/* GET_CONFIG in place: offset and length read before overwritten. */
	vmsg_hdr_build(b, 0, VIRTIO_MSG_GET_CONFIG, TEST_DEV_NUM, 9, 16);
	put32(b + 8, 3);
	put32(b + 12, 5);
	CHECK(vmsg_dev_handle(dev, b, 16, b, sizeof(b)) == 25);
	CHECK(get32(b + 12) == 3 && get32(b + 16) == 5);
	CHECK(b[20] == 3 && b[24] == 7);
TEST_END

/* ------------------------------------------------------------------ */
/* Split virtqueue processing.                                         */

#define F_IND	BIT(VIRTIO_RING_F_INDIRECT_DESC)
#define F_EVI	BIT(VIRTIO_RING_F_EVENT_IDX)
#define NEXT	VRING_DESC_F_NEXT
#define WRITE	VRING_DESC_F_WRITE
#define INDIR	VRING_DESC_F_INDIRECT

static struct vmsg_vq_elem elem;
static struct vmsg_iov iov[8];

static int pop(struct vmsg_dev *dev)
{
	return vmsg_vq_pop(dev, 0, &elem, iov, 8);
}

TEST_BEGIN(split_pop_direct)
	uint8_t buf[32];

	dev = dev_up(0);
	CHECK(dev);
	CHECK(pop(dev) == 0);
	memcpy(mem + (BUF_ADDR - MEM_BASE), "0123456789abcdef", 16);
	desc(DESC_ADDR, 0, BUF_ADDR, 16, NEXT, 5);
	desc(DESC_ADDR, 5, BUF_ADDR + 0x100, 8, NEXT | WRITE, 7);
	desc(DESC_ADDR, 7, BUF_ADDR + 0x200, 8, WRITE, 0);
	avail_add(0);
	CHECK(pop(dev) == 1);
	CHECK(elem.head == 0 && elem.out_num == 1 && elem.in_num == 2);
	CHECK(elem.out_len == 16 && elem.in_len == 16);
	CHECK(iov[0].addr == BUF_ADDR && iov[0].len == 16);
	CHECK(iov[1].addr == BUF_ADDR + 0x100 && iov[2].len == 8);
	CHECK(vmsg_iov_read(dev, iov, 1, 4, buf, sizeof(buf)) == 12);
	CHECK(!memcmp(buf, "456789abcdef", 12));
	CHECK(vmsg_iov_write(dev, iov + 1, 2, 0, "ABCDEFGHIJKLMNOPQ", 17) ==
	      16);
	CHECK(!memcmp(mem + (BUF_ADDR + 0x100 - MEM_BASE), "ABCDEFGH", 8));
	CHECK(!memcmp(mem + (BUF_ADDR + 0x200 - MEM_BASE), "IJKLMNOP", 8));
	CHECK(vmsg_vq_push(dev, 0, elem.head, 16) == 0);
	CHECK(rd32(USED_ADDR + 4) == 0 && rd32(USED_ADDR + 8) == 16);
	CHECK(rd16(USED_ADDR + 2) == 1);
	CHECK(pop(dev) == 0);
	CHECK(!needs_reset(dev));
	CHECK(vmsg_vq_push(dev, 0, 8, 0) == -EINVAL);
	CHECK(vmsg_vq_push(dev, 1, 0, 0) == -EINVAL);
	CHECK(vmsg_vq_pop(dev, 1, &elem, iov, 8) == -EINVAL);
	CHECK(vmsg_vq_pop(dev, 7, &elem, iov, 8) == -EINVAL);
TEST_END

TEST_BEGIN(split_pop_indirect)
	dev = dev_up(F_IND);
	CHECK(dev);
	desc(INDIR_ADDR, 0, BUF_ADDR, 10, NEXT, 2);
	desc(INDIR_ADDR, 2, BUF_ADDR + 0x100, 20, NEXT, 1);
	desc(INDIR_ADDR, 1, BUF_ADDR + 0x200, 30, WRITE, 0);
	desc(DESC_ADDR, 3, INDIR_ADDR, 3 * 16, INDIR, 0);
	avail_add(3);
	CHECK(pop(dev) == 1);
	CHECK(elem.head == 3 && elem.out_num == 2 && elem.in_num == 1);
	CHECK(elem.out_len == 30 && elem.in_len == 30);
	CHECK(iov[1].addr == BUF_ADDR + 0x100 && iov[2].len == 30);
	CHECK(!needs_reset(dev));
TEST_END

TEST_BEGIN(split_direct_then_indirect)
	dev = dev_up(F_IND);
	CHECK(dev);
	desc(DESC_ADDR, 1, BUF_ADDR, 4, NEXT, 6);
	desc(DESC_ADDR, 6, INDIR_ADDR, 2 * 16, INDIR, 0);
	desc(INDIR_ADDR, 0, BUF_ADDR + 0x10, 5, NEXT, 1);
	desc(INDIR_ADDR, 1, BUF_ADDR + 0x20, 6, WRITE, 0);
	avail_add(1);
	CHECK(pop(dev) == 1);
	CHECK(elem.out_num == 2 && elem.in_num == 1);
	CHECK(iov[0].len == 4 && iov[1].len == 5 && iov[2].len == 6);
TEST_END

/* A chain error: -EIO, NEEDS_RESET, event sent, queue dead. */
static bool broken_after(struct vmsg_dev *dev)
{
	if (pop(dev) != -EIO || !needs_reset(dev) || vmsg_vq_ready(dev, 0) ||
	    !saw_needs_reset_event())
		return false;
	/* Stays broken, without more events. */
	return pop(dev) == -EIO && bus.n_ev == 1;
}

TEST_BEGIN(split_desc_loop)
	dev = dev_up(0);
	CHECK(dev);
	desc(DESC_ADDR, 0, BUF_ADDR, 4, NEXT, 1);
	desc(DESC_ADDR, 1, BUF_ADDR, 4, NEXT, 2);
	desc(DESC_ADDR, 2, BUF_ADDR, 4, NEXT, 0);
	avail_add(0);
	bus.reads = 0;
	CHECK(broken_after(dev));
	/* avail idx, ring entry, then at most QSZ descriptors. */
	CHECK(bus.reads <= 2 + QSZ);
TEST_END

TEST_BEGIN(split_desc_self_loop)
	dev = dev_up(0);
	CHECK(dev);
	desc(DESC_ADDR, 4, BUF_ADDR, 4, NEXT, 4);
	avail_add(4);
	bus.reads = 0;
	CHECK(broken_after(dev));
	CHECK(bus.reads <= 2 + QSZ);
TEST_END

TEST_BEGIN(split_longest_chain_ok)
	struct vmsg_iov big[QSZ];
	unsigned int i;

	dev = dev_up(0);
	CHECK(dev);
	/* A chain using all QSZ descriptors is legal. */
	for (i = 0; i < QSZ; i++)
		desc(DESC_ADDR, i, BUF_ADDR, 1, i < QSZ - 1 ? NEXT : 0, i + 1);
	avail_add(0);
	CHECK(vmsg_vq_pop(dev, 0, &elem, big, QSZ) == 1);
	CHECK(elem.out_num == QSZ && !needs_reset(dev));
TEST_END

TEST_BEGIN(split_chain_lengths_not_truncated)
	unsigned int i;

	dev = dev_up(0);
	CHECK(dev);
	/* Eight 4 GiB - 1 segments: the sums need more than 32 bits. */
	for (i = 0; i < QSZ; i++)
		desc(DESC_ADDR, i, BUF_ADDR, UINT32_MAX,
		     (i < QSZ - 1 ? NEXT : 0) | (i >= 4 ? WRITE : 0), i + 1);
	avail_add(0);
	CHECK(pop(dev) == 1);
	CHECK(elem.out_len == 4ULL * UINT32_MAX &&
	      elem.in_len == 4ULL * UINT32_MAX);
	CHECK(vmsg_vq_push(dev, 0, 0, UINT32_MAX) == 0);
	CHECK(rd32(USED_ADDR + 8) == UINT32_MAX && !needs_reset(dev));
TEST_END

TEST_BEGIN(split_indirect_loop)
	dev = dev_up(F_IND);
	CHECK(dev);
	desc(DESC_ADDR, 0, INDIR_ADDR, 4 * 16, INDIR, 0);
	desc(INDIR_ADDR, 0, BUF_ADDR, 4, NEXT, 1);
	desc(INDIR_ADDR, 1, BUF_ADDR, 4, NEXT, 0);
	avail_add(0);
	bus.reads = 0;
	CHECK(broken_after(dev));
	/* Bounded by the 4 entries of the table. */
	CHECK(bus.reads <= 2 + 1 + 4);
TEST_END

/* Builds a chain of @n segments in the table at @table, in order. */
static void table_chain(uint64_t table, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		desc(table, i, BUF_ADDR, 1, i < n - 1 ? NEXT : 0, i + 1);
}

TEST_BEGIN(split_indirect_longest_chain_ok)
	struct vmsg_iov big[2 * QSZ];

	dev = dev_up(F_IND);
	CHECK(dev);
	/* An indirect table holding a whole queue size of segments. */
	table_chain(INDIR_ADDR, QSZ);
	desc(DESC_ADDR, 0, INDIR_ADDR, QSZ * 16, INDIR, 0);
	avail_add(0);
	CHECK(vmsg_vq_pop(dev, 0, &elem, big, 2 * QSZ) == 1);
	CHECK(elem.out_num == QSZ && !needs_reset(dev));
TEST_END

TEST_BEGIN(split_indirect_chain_too_long)
	struct vmsg_iov big[2 * QSZ];

	dev = dev_up(F_IND);
	CHECK(dev);
	/* One segment more than the queue size, all in the table. */
	table_chain(INDIR_ADDR, QSZ + 1);
	desc(DESC_ADDR, 0, INDIR_ADDR, (QSZ + 1) * 16, INDIR, 0);
	avail_add(0);
	CHECK(vmsg_vq_pop(dev, 0, &elem, big, 2 * QSZ) == -EIO);
	CHECK(needs_reset(dev) && saw_needs_reset_event());
TEST_END

TEST_BEGIN(split_direct_plus_indirect_too_long)
	struct vmsg_iov big[2 * QSZ];

	dev = dev_up(F_IND);
	CHECK(dev);
	/* Direct and indirect segments count together. */
	desc(DESC_ADDR, 0, BUF_ADDR, 4, NEXT, 1);
	desc(DESC_ADDR, 1, INDIR_ADDR, QSZ * 16, INDIR, 0);
	table_chain(INDIR_ADDR, QSZ);
	avail_add(0);
	bus.reads = 0;
	CHECK(vmsg_vq_pop(dev, 0, &elem, big, 2 * QSZ) == -EIO);
	CHECK(needs_reset(dev) && saw_needs_reset_event());
	/* avail idx, ring entry, QSZ segments and the indirect descriptor. */
	CHECK(bus.reads <= 2 + QSZ + 1);
TEST_END

TEST_BEGIN(split_indirect_loop_big_table)
	unsigned int i;

	dev = dev_up(F_IND);
	CHECK(dev);
	/* A loop in a table much larger than the queue. */
	for (i = 0; i < 64; i++)
		desc(INDIR_ADDR, i, BUF_ADDR, 4, NEXT, (i + 1) % 64);
	desc(DESC_ADDR, 0, INDIR_ADDR, 64 * 16, INDIR, 0);
	avail_add(0);
	bus.reads = 0;
	CHECK(broken_after(dev));
	/* Bounded by the queue size, not by the table. */
	CHECK(bus.reads <= 2 + 1 + QSZ);
TEST_END

TEST_BEGIN(split_indirect_zero_len)
	dev = dev_up(F_IND);
	CHECK(dev);
	desc(DESC_ADDR, 0, INDIR_ADDR, 0, INDIR, 0);
	avail_add(0);
	CHECK(broken_after(dev));
TEST_END

TEST_BEGIN(split_head_out_of_range)
	dev = dev_up(0);
	CHECK(dev);
	avail_add(QSZ);
	CHECK(broken_after(dev));
TEST_END

TEST_BEGIN(split_next_out_of_range)
	dev = dev_up(0);
	CHECK(dev);
	desc(DESC_ADDR, 0, BUF_ADDR, 4, NEXT, QSZ);
	avail_add(0);
	CHECK(broken_after(dev));
TEST_END

TEST_BEGIN(split_indirect_next_out_of_range)
	dev = dev_up(F_IND);
	CHECK(dev);
	desc(DESC_ADDR, 0, INDIR_ADDR, 2 * 16, INDIR, 0);
	desc(INDIR_ADDR, 0, BUF_ADDR, 4, NEXT, 2);
	avail_add(0);
	CHECK(broken_after(dev));
TEST_END

TEST_BEGIN(split_avail_idx_jump)
	dev = dev_up(0);
	CHECK(dev);
	desc(DESC_ADDR, 0, BUF_ADDR, 4, 0, 0);
	wr16(AVAIL_ADDR + 2, QSZ + 1);
	CHECK(broken_after(dev));
TEST_END

TEST_BEGIN(split_nested_indirect)
	dev = dev_up(F_IND);
	CHECK(dev);
	desc(DESC_ADDR, 0, INDIR_ADDR, 2 * 16, INDIR, 0);
	desc(INDIR_ADDR, 0, BUF_ADDR, 4, NEXT, 1);
	desc(INDIR_ADDR, 1, INDIR_ADDR + 0x100, 16, INDIR, 0);
	avail_add(0);
	CHECK(broken_after(dev));
TEST_END

TEST_BEGIN(split_indirect_not_negotiated)
	dev = dev_up(0);
	CHECK(dev);
	desc(DESC_ADDR, 0, INDIR_ADDR, 16, INDIR, 0);
	desc(INDIR_ADDR, 0, BUF_ADDR, 4, 0, 0);
	avail_add(0);
	CHECK(broken_after(dev));
TEST_END

TEST_BEGIN(split_indirect_bad_len)
	dev = dev_up(F_IND);
	CHECK(dev);
	desc(DESC_ADDR, 0, INDIR_ADDR, 24, INDIR, 0);
	avail_add(0);
	CHECK(broken_after(dev));
TEST_END

TEST_BEGIN(split_indirect_with_next)
	dev = dev_up(F_IND);
	CHECK(dev);
	desc(DESC_ADDR, 0, INDIR_ADDR, 16, INDIR | NEXT, 1);
	desc(DESC_ADDR, 1, BUF_ADDR, 4, 0, 0);
	desc(INDIR_ADDR, 0, BUF_ADDR, 4, 0, 0);
	avail_add(0);
	CHECK(broken_after(dev));
TEST_END

TEST_BEGIN(split_readable_after_writable)
	dev = dev_up(0);
	CHECK(dev);
	desc(DESC_ADDR, 0, BUF_ADDR, 4, WRITE | NEXT, 1);
	desc(DESC_ADDR, 1, BUF_ADDR + 0x10, 4, 0, 0);
	avail_add(0);
	CHECK(broken_after(dev));
TEST_END

TEST_BEGIN(split_buffer_wraps)
	dev = dev_up(0);
	CHECK(dev);
	desc(DESC_ADDR, 0, 0xffffffffffffff00ULL, 0x200, 0, 0);
	avail_add(0);
	CHECK(broken_after(dev));
TEST_END

TEST_BEGIN(split_head_in_flight_twice)
	dev = dev_up(0);
	CHECK(dev);
	desc(DESC_ADDR, 2, BUF_ADDR, 4, WRITE, 0);
	avail_add(2);
	avail_add(2);
	CHECK(pop(dev) == 1 && elem.head == 2);
	/* Published again before it came back: not a second buffer. */
	CHECK(broken_after(dev));
	CHECK(vmsg_vq_push(dev, 0, 2, 4) == -EIO);
	CHECK(rd16(USED_ADDR + 2) == 0);
TEST_END

TEST_BEGIN(split_head_in_flight_via_chain)
	dev = dev_up(0);
	CHECK(dev);
	/* Chains 0 -> 1 and 1 overlap, but heads differ: not a double. */
	desc(DESC_ADDR, 0, BUF_ADDR, 4, NEXT, 1);
	desc(DESC_ADDR, 1, BUF_ADDR, 4, 0, 0);
	avail_add(0);
	avail_add(1);
	CHECK(pop(dev) == 1 && elem.head == 0);
	CHECK(pop(dev) == 1 && elem.head == 1);
	CHECK(vmsg_vq_push(dev, 0, 1, 0) == 0);
	CHECK(vmsg_vq_push(dev, 0, 0, 0) == 0);
	/* Back from the device, a head may be published again. */
	avail_add(0);
	CHECK(pop(dev) == 1 && elem.head == 0 && !needs_reset(dev));
TEST_END

TEST_BEGIN(push_head_not_in_flight)
	dev = dev_up(0);
	CHECK(dev);
	desc(DESC_ADDR, 0, BUF_ADDR, 4, WRITE, 0);
	avail_add(0);
	CHECK(vmsg_vq_push(dev, 0, 0, 4) == -EINVAL);	/* never popped */
	CHECK(pop(dev) == 1);
	CHECK(vmsg_vq_push(dev, 0, 3, 4) == -EINVAL);	/* other head */
	CHECK(rd16(USED_ADDR + 2) == 0);
	CHECK(vmsg_vq_push(dev, 0, 0, 4) == 0);
	CHECK(vmsg_vq_push(dev, 0, 0, 4) == -EINVAL);	/* twice */
	CHECK(rd16(USED_ADDR + 2) == 1);
	/* A model error, not the driver's: the device keeps running. */
	CHECK(!needs_reset(dev) && vmsg_vq_ready(dev, 0));
TEST_END

TEST_BEGIN(in_flight_forgotten_on_reset)
	uint8_t p[4] = { 0 };

	dev = dev_up(0);
	CHECK(dev);
	desc(DESC_ADDR, 0, BUF_ADDR, 4, 0, 0);
	avail_add(0);
	CHECK(pop(dev) == 1);
	/* RESET_VQUEUE drops what was in flight; the head is free. */
	CHECK(xfer(dev, VIRTIO_MSG_RESET_VQUEUE, p, 4) == 8);
	CHECK(set_vqueue(dev, 0, 8, DESC_ADDR, AVAIL_ADDR, USED_ADDR) == 8);
	memset(mem, 0, sizeof(mem));
	drv_avail_idx = 0;
	desc(DESC_ADDR, 0, BUF_ADDR, 4, 0, 0);
	avail_add(0);
	CHECK(pop(dev) == 1 && elem.head == 0);
	CHECK(vmsg_vq_push(dev, 0, 0, 0) == 0);
	CHECK(!needs_reset(dev));
TEST_END

TEST_BEGIN(accessor_fail_avail)
	dev = dev_up(0);
	CHECK(dev);
	desc(DESC_ADDR, 0, BUF_ADDR, 4, 0, 0);
	avail_add(0);
	bus.fail_lo = AVAIL_ADDR;
	bus.fail_hi = AVAIL_ADDR + 4;
	CHECK(broken_after(dev));
TEST_END

TEST_BEGIN(accessor_fail_avail_ring)
	dev = dev_up(0);
	CHECK(dev);
	desc(DESC_ADDR, 0, BUF_ADDR, 4, 0, 0);
	avail_add(0);
	bus.fail_lo = AVAIL_ADDR + 4;
	bus.fail_hi = AVAIL_ADDR + 6;
	CHECK(broken_after(dev));
TEST_END

TEST_BEGIN(accessor_fail_desc)
	dev = dev_up(0);
	CHECK(dev);
	desc(DESC_ADDR, 0, BUF_ADDR, 4, NEXT, 1);
	desc(DESC_ADDR, 1, BUF_ADDR, 4, 0, 0);
	avail_add(0);
	bus.fail_lo = DESC_ADDR + 16;
	bus.fail_hi = DESC_ADDR + 17;
	CHECK(broken_after(dev));
TEST_END

TEST_BEGIN(accessor_fail_indirect_table)
	dev = dev_up(F_IND);
	CHECK(dev);
	/* Table outside driver memory. */
	desc(DESC_ADDR, 0, MEM_BASE + MEM_SIZE + 0x100, 32, INDIR, 0);
	avail_add(0);
	CHECK(broken_after(dev));
TEST_END

TEST_BEGIN(accessor_fail_used)
	dev = dev_up(0);
	CHECK(dev);
	desc(DESC_ADDR, 0, BUF_ADDR, 4, 0, 0);
	avail_add(0);
	CHECK(pop(dev) == 1);
	bus.fail_lo = USED_ADDR + 4;
	bus.fail_hi = USED_ADDR + 12;
	CHECK(vmsg_vq_push(dev, 0, elem.head, 4) == -EIO);
	CHECK(needs_reset(dev) && saw_needs_reset_event());
	CHECK(rd16(USED_ADDR + 2) == 0);	/* nothing published */
	CHECK(vmsg_vq_push(dev, 0, elem.head, 4) == -EIO);
	CHECK(vmsg_vq_notify(dev, 0) == -EIO);
TEST_END

TEST_BEGIN(accessor_fail_used_idx)
	dev = dev_up(0);
	CHECK(dev);
	desc(DESC_ADDR, 0, BUF_ADDR, 4, 0, 0);
	avail_add(0);
	CHECK(pop(dev) == 1);
	bus.fail_lo = USED_ADDR + 2;
	bus.fail_hi = USED_ADDR + 4;
	CHECK(vmsg_vq_push(dev, 0, elem.head, 4) == -EIO);
	CHECK(needs_reset(dev));
TEST_END

TEST_BEGIN(accessor_fail_buffer)
	uint8_t b[8];

	dev = dev_up(0);
	CHECK(dev);
	/* Descriptors pointing outside memory are only found on access. */
	desc(DESC_ADDR, 0, MEM_BASE - 0x100, 8, NEXT, 1);
	desc(DESC_ADDR, 1, BUF_ADDR, 8, WRITE, 0);
	avail_add(0);
	CHECK(pop(dev) == 1);
	CHECK(vmsg_iov_read(dev, iov, 1, 0, b, 8) == -EFAULT);
	CHECK(vmsg_iov_write(dev, iov + 1, 1, 4, b, 8) == 4);
	bus.fail_lo = BUF_ADDR;
	bus.fail_hi = BUF_ADDR + 1;
	CHECK(vmsg_iov_write(dev, iov + 1, 1, 0, b, 8) == -EFAULT);
	/* The model drops the buffer; the device keeps working. */
	CHECK(!needs_reset(dev));
	CHECK(vmsg_vq_push(dev, 0, elem.head, 0) == 0);
	CHECK(rd16(USED_ADDR + 2) == 1);
TEST_END

/* Chain 0: 4 readable bytes, 4 writable, a 1-byte status; then chain 3. */
static void three_seg_chain(void)
{
	desc(DESC_ADDR, 0, BUF_ADDR, 4, NEXT, 1);
	desc(DESC_ADDR, 1, BUF_ADDR + 0x10, 4, WRITE | NEXT, 2);
	desc(DESC_ADDR, 2, BUF_ADDR + 0x20, 1, WRITE, 0);
	avail_add(0);
	desc(DESC_ADDR, 3, BUF_ADDR + 0x30, 4, 0, 0);
	avail_add(3);
}

static struct {
	unsigned int calls, index;
	struct vmsg_vq_elem elem;
	struct vmsg_iov last;
	int ret;
} oversized;

/* Answers like a block device: error status in the last byte. */
static int m_oversized(struct vmsg_dev *dev, unsigned int index,
		       const struct vmsg_vq_elem *e,
		       const struct vmsg_iov *last)
{
	uint8_t status = 0xee;

	oversized.calls++;
	oversized.index = index;
	oversized.elem = *e;
	oversized.last = *last;
	if (oversized.ret < 0 || !e->in_num)
		return oversized.ret < 0 ? oversized.ret : -EINVAL;
	if (vmsg_dev_mem_write(dev, last->addr + last->len - 1, &status, 1))
		return -EIO;
	return oversized.ret;
}

static int m_noop_oversized(struct vmsg_dev *dev, unsigned int index,
			    const struct vmsg_vq_elem *e,
			    const struct vmsg_iov *last)
{
	(void)dev; (void)index; (void)e; (void)last;
	return 0;
}

TEST_BEGIN(iov_overflow_needs_reset)
	struct vmsg_iov small[2];

	dev = dev_up(0);
	CHECK(dev);
	three_seg_chain();
	/* No model answer: the chain cannot be completed meaningfully. */
	CHECK(vmsg_vq_pop(dev, 0, &elem, small, 2) == -EIO);
	CHECK(needs_reset(dev) && saw_needs_reset_event());
	CHECK(rd16(USED_ADDR + 2) == 0);
	CHECK(vmsg_vq_pop(dev, 0, &elem, small, 2) == -EIO);
TEST_END

TEST_BEGIN(iov_overflow_answered)
	struct vmsg_iov small[2];

	memset(&oversized, 0, sizeof(oversized));
	model.oversized_chain = m_oversized;
	oversized.ret = 1;
	dev = dev_up(0);
	CHECK(dev);
	three_seg_chain();
	CHECK(vmsg_vq_pop(dev, 0, &elem, small, 2) == -ENOBUFS);
	CHECK(oversized.calls == 1 && oversized.index == 0);
	/* The whole chain is described, not just what fitted. */
	CHECK(oversized.elem.head == 0 && oversized.elem.out_num == 1 &&
	      oversized.elem.in_num == 2 && oversized.elem.out_len == 4 &&
	      oversized.elem.in_len == 5);
	CHECK(oversized.last.addr == BUF_ADDR + 0x20 &&
	      oversized.last.len == 1);
	CHECK(mem[BUF_ADDR + 0x20 - MEM_BASE] == 0xee);
	CHECK(rd16(USED_ADDR + 2) == 1);
	CHECK(rd32(USED_ADDR + 4) == 0 && rd32(USED_ADDR + 8) == 1);
	CHECK(!needs_reset(dev));
	CHECK(vmsg_vq_pop(dev, 0, &elem, small, 2) == 1);
	CHECK(elem.head == 3);
	/* The refused head was completed: it may come back. */
	avail_add(0);
	CHECK(vmsg_vq_pop(dev, 0, &elem, small, 2) == -ENOBUFS);
	CHECK(oversized.calls == 2 && !needs_reset(dev));
TEST_END

TEST_BEGIN(iov_overflow_used_len_clamped)
	struct vmsg_iov small[2];

	memset(&oversized, 0, sizeof(oversized));
	model.oversized_chain = m_oversized;
	oversized.ret = 1000;
	dev = dev_up(0);
	CHECK(dev);
	three_seg_chain();
	CHECK(vmsg_vq_pop(dev, 0, &elem, small, 2) == -ENOBUFS);
	/* Never more than the chain's writable bytes. */
	CHECK(rd32(USED_ADDR + 8) == 5);
TEST_END

TEST_BEGIN(iov_overflow_unanswerable)
	struct vmsg_iov small[2];

	memset(&oversized, 0, sizeof(oversized));
	model.oversized_chain = m_oversized;
	oversized.ret = -EIO;
	dev = dev_up(0);
	CHECK(dev);
	three_seg_chain();
	CHECK(vmsg_vq_pop(dev, 0, &elem, small, 2) == -EIO);
	CHECK(oversized.calls == 1);
	CHECK(needs_reset(dev) && saw_needs_reset_event());
	CHECK(rd16(USED_ADDR + 2) == 0);
TEST_END

TEST_BEGIN(queue_max_segs)
	static const uint16_t segs[3] = { 3, 0, 0 };

	memset(&oversized, 0, sizeof(oversized));
	model.queue_max_segs = segs;
	model.oversized_chain = m_oversized;
	oversized.ret = 1;
	dev = dev_up(0);
	CHECK(dev);
	three_seg_chain();
	CHECK(pop(dev) == 1 && elem.head == 0 && oversized.calls == 0);
	CHECK(vmsg_vq_push(dev, 0, 0, 0) == 0);
	/* Four segments: more than the model takes, though iov has room. */
	desc(DESC_ADDR, 2, BUF_ADDR + 0x20, 1, WRITE | NEXT, 4);
	desc(DESC_ADDR, 4, BUF_ADDR + 0x40, 2, WRITE, 0);
	avail_add(0);
	CHECK(pop(dev) == 1 && elem.head == 3);
	CHECK(pop(dev) == -ENOBUFS && oversized.calls == 1);
	CHECK(oversized.elem.in_num == 3 && oversized.last.len == 2);
	CHECK(mem[BUF_ADDR + 0x41 - MEM_BASE] == 0xee);
	CHECK(!needs_reset(dev));
	/* Without an answer from the model, the device needs reset. */
	vmsg_dev_destroy(dev);
	model.oversized_chain = NULL;
	memset(mem, 0, sizeof(mem));
	drv_avail_idx = 0;
	dev = dev_up(0);
	CHECK(dev);
	three_seg_chain();
	desc(DESC_ADDR, 2, BUF_ADDR + 0x20, 1, WRITE | NEXT, 4);
	desc(DESC_ADDR, 4, BUF_ADDR + 0x40, 2, WRITE, 0);
	CHECK(broken_after(dev));
TEST_END

TEST_BEGIN(used_ring_wraps)
	unsigned int i;

	dev = dev_up(0);
	CHECK(dev);
	for (i = 0; i < 3 * QSZ + 3; i++) {
		uint16_t h = (i * 3) % QSZ;

		desc(DESC_ADDR, h, BUF_ADDR, 4, WRITE, 0);
		avail_add(h);
		CHECK(pop(dev) == 1 && elem.head == h);
		CHECK(vmsg_vq_push(dev, 0, h, i) == 0);
		CHECK(rd32(USED_ADDR + 4 + 8 * (i % QSZ)) == h);
		CHECK(rd32(USED_ADDR + 8 + 8 * (i % QSZ)) == i);
		CHECK(rd16(USED_ADDR + 2) == i + 1);
	}
	CHECK(pop(dev) == 0 && !needs_reset(dev));
TEST_END

TEST_BEGIN(avail_idx_wraps_16bit)
	unsigned int i;

	dev = dev_up(0);
	CHECK(dev);
	desc(DESC_ADDR, 0, BUF_ADDR, 4, 0, 0);
	/* Run the 16-bit indices across 0xffff -> 0. */
	for (i = 0; i < 0x10004; i++) {
		avail_add(0);
		if (pop(dev) != 1 || vmsg_vq_push(dev, 0, 0, 0))
			break;
	}
	CHECK(i == 0x10004);
	CHECK(rd16(USED_ADDR + 2) == 4 && !needs_reset(dev));
TEST_END

static uint32_t rnd_state;

static uint32_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return rnd_state;
}

/* A descriptor that is often almost valid, sometimes anything. */
static void rnd_desc(uint64_t table, unsigned int i, unsigned int n)
{
	static const uint16_t flag_set[] = {
		0, NEXT, WRITE, NEXT | WRITE, INDIR, INDIR | NEXT,
	};
	uint64_t addr = BUF_ADDR + (rnd() % 0x800);
	uint32_t len = rnd() % 64;
	uint16_t flags = flag_set[rnd() % 6], next = rnd() % (n + 1);

	if (flags & INDIR) {
		addr = INDIR_ADDR + 16 * (rnd() % 64);
		len = 16 * (rnd() % 12);
	}
	if (!(rnd() % 64)) {
		addr = ((uint64_t)rnd() << 32) | rnd();
		len = rnd();
		flags = rnd();
		next = rnd();
	}
	desc(table, i, addr, len, flags, next);
}

/*
 * A hostile driver: random rings, many rounds. Whatever it writes, pop
 * reads a bounded number of times, never hands out a head that is in
 * flight, and the device writes only into the used ring.
 */
TEST_BEGIN(hostile_ring_fuzz)
	unsigned int round, i, ops;

	rnd_state = 0x2545f491;
	for (round = 0; round < 3000; round++) {
		bool held[QSZ] = { false };

		fixture();
		drv_avail_idx = 0;
		if (round % 2)
			model.oversized_chain = m_noop_oversized;
		dev = dev_up(F_IND | (round % 3 ? F_EVI : 0));
		CHECK(dev);
		bus.wr_lo = USED_ADDR;
		bus.wr_hi = USED_ADDR + 6 + 8 * QSZ;
		for (i = 0; i < QSZ; i++)
			rnd_desc(DESC_ADDR, i, QSZ);
		for (i = 0; i < 64; i++)
			rnd_desc(INDIR_ADDR, i, 12);
		for (ops = 0; ops < 4 * QSZ; ops++) {
			int r;

			if (!(rnd() % 3)) {
				/* Publish something, often a repeat. */
				wr16(AVAIL_ADDR + 4 + 2 * (rnd() % QSZ),
				     rnd() % 16 ? rnd() % QSZ : rnd());
				drv_avail_idx += rnd() % 16 ? 1 : rnd();
				wr16(AVAIL_ADDR + 2, drv_avail_idx);
			}
			bus.reads = 0;
			r = vmsg_vq_pop(dev, 0, &elem, iov, 1 + rnd() % 8);
			/* Index, index again, entry; segments; indirect. */
			CHECK(bus.reads <= 3 + QSZ + 1);
			if (r == 1) {
				CHECK(elem.head < QSZ && !held[elem.head]);
				held[elem.head] = true;
			}
			if (r < 0 && r != -ENOBUFS) {
				CHECK(r == -EIO && needs_reset(dev));
				break;
			}
			i = rnd() % QSZ;
			if (held[i] && rnd() % 2) {
				CHECK(vmsg_vq_push(dev, 0, i, rnd() % 8) == 0);
				held[i] = false;
			}
			vmsg_vq_notify(dev, 0);
		}
		CHECK(bus.stray_writes == 0);
		vmsg_dev_destroy(dev);
		dev = NULL;
	}
TEST_END

/* ------------------------------------------------------------------ */
/* Notifications.                                                      */

static bool is_event_used(unsigned int n, uint32_t q)
{
	const uint8_t *e = bus.ev[n];

	return n < bus.n_ev && bus.ev_len[n] == 12 && e[0] == 0 &&
	       e[1] == VIRTIO_MSG_EVENT_USED && get16(e + 2) == TEST_DEV_NUM &&
	       get16(e + 4) == 0 && get16(e + 6) == 12 && get32(e + 8) == q;
}

static bool one_buffer(struct vmsg_dev *dev, uint16_t h)
{
	desc(DESC_ADDR, h, BUF_ADDR, 4, WRITE, 0);
	avail_add(h);
	return pop(dev) == 1 && vmsg_vq_push(dev, 0, h, 4) == 0;
}

TEST_BEGIN(event_used_sent)
	dev = dev_up(0);
	CHECK(dev);
	CHECK(vmsg_vq_notify(dev, 0) == 0);	/* nothing pushed */
	CHECK(bus.n_ev == 0);
	CHECK(one_buffer(dev, 2));
	CHECK(vmsg_vq_notify(dev, 0) == 1);
	CHECK(bus.n_ev == 1 && is_event_used(0, 0));
	CHECK(vmsg_vq_notify(dev, 0) == 0 && bus.n_ev == 1);
	CHECK(vmsg_vq_notify(dev, 1) == -EINVAL);
TEST_END

TEST_BEGIN(event_used_no_interrupt)
	dev = dev_up(0);
	CHECK(dev);
	wr16(AVAIL_ADDR, VRING_AVAIL_F_NO_INTERRUPT);
	CHECK(one_buffer(dev, 0));
	CHECK(vmsg_vq_notify(dev, 0) == 0 && bus.n_ev == 0);
	wr16(AVAIL_ADDR, 0);
	CHECK(one_buffer(dev, 1));
	CHECK(vmsg_vq_notify(dev, 0) == 1 && is_event_used(0, 0));
TEST_END

TEST_BEGIN(event_used_event_idx)
	dev = dev_up(F_EVI);
	CHECK(dev);
	/* NO_INTERRUPT is ignored with EVENT_IDX; used_event decides. */
	wr16(AVAIL_ADDR, VRING_AVAIL_F_NO_INTERRUPT);
	wr16(USED_EVENT_ADDR, 0);
	CHECK(one_buffer(dev, 0));		/* used idx 1 */
	CHECK(vmsg_vq_notify(dev, 0) == 1 && bus.n_ev == 1);
	/* Driver wants an event once used idx passes 4. */
	wr16(USED_EVENT_ADDR, 4);
	CHECK(one_buffer(dev, 1));		/* 2 */
	CHECK(vmsg_vq_notify(dev, 0) == 0);
	CHECK(one_buffer(dev, 2));		/* 3 */
	CHECK(one_buffer(dev, 3));		/* 4 */
	CHECK(vmsg_vq_notify(dev, 0) == 0);
	CHECK(one_buffer(dev, 4));		/* 5: crosses 4 */
	CHECK(vmsg_vq_notify(dev, 0) == 1 && bus.n_ev == 2);
	CHECK(is_event_used(1, 0));
	/* used_event left behind: no more events. */
	CHECK(one_buffer(dev, 5));
	CHECK(vmsg_vq_notify(dev, 0) == 0 && bus.n_ev == 2);
TEST_END

TEST_BEGIN(avail_event_written)
	dev = dev_up(F_EVI);
	CHECK(dev);
	wr16(AVAIL_EVENT_ADDR, 0xffff);
	CHECK(pop(dev) == 0);
	CHECK(rd16(AVAIL_EVENT_ADDR) == 0);
	desc(DESC_ADDR, 0, BUF_ADDR, 4, 0, 0);
	desc(DESC_ADDR, 1, BUF_ADDR, 4, 0, 0);
	avail_add(0);
	avail_add(1);
	CHECK(pop(dev) == 1);
	CHECK(rd16(AVAIL_EVENT_ADDR) == 1);
	CHECK(pop(dev) == 1);
	CHECK(rd16(AVAIL_EVENT_ADDR) == 2);
	/* Without EVENT_IDX the field is left alone. */
	vmsg_dev_destroy(dev);
	dev = dev_up(0);
	CHECK(dev);
	wr16(AVAIL_EVENT_ADDR, 0xffff);
	avail_add(0);
	CHECK(pop(dev) == 1 && rd16(AVAIL_EVENT_ADDR) == 0xffff);
TEST_END

TEST_BEGIN(event_send_failure)
	struct vmsg_dev_stats st;

	dev = dev_up(0);
	CHECK(dev);
	CHECK(one_buffer(dev, 0));
	bus.send_ret = -EAGAIN;
	CHECK(vmsg_vq_notify(dev, 0) == -EAGAIN);
	vmsg_dev_get_stats(dev, &st);
	CHECK(st.event_errors == 1 && st.events_sent == 0);
	CHECK(!needs_reset(dev));
	bus.send_ret = 0;
	CHECK(one_buffer(dev, 1));
	CHECK(vmsg_vq_notify(dev, 0) == 1);
	vmsg_dev_get_stats(dev, &st);
	CHECK(st.events_sent == 1);
TEST_END

TEST_BEGIN(event_avail_kick)
	struct vmsg_dev_stats st;

	dev = new_dev();
	CHECK(dev);
	CHECK(kick(dev, 0) == 0);		/* not set up: ignored */
	CHECK(model_log.notify == 0);
	vmsg_dev_destroy(dev);
	dev = dev_up(0);
	CHECK(dev);
	model_log.notify = 0;
	memset(resp, 0xa5, sizeof(resp));
	CHECK(kick(dev, 0) == 0);
	CHECK(model_log.notify == 1 && model_log.notify_idx == 0);
	CHECK(resp[0] == 0xa5);			/* no response */
	CHECK(kick(dev, 1) == 0);		/* not live */
	CHECK(kick(dev, 99) == 0);
	CHECK(model_log.notify == 1);
	vmsg_dev_get_stats(dev, &st);
	CHECK(st.kicks == 1 && st.kicks_ignored == 2);
	/* Not while FAILED. */
	set_status(dev, S_ACK | S_DRV | S_FOK | S_DOK | S_FAIL);
	CHECK(kick(dev, 0) == 0 && model_log.notify == 1);
	CHECK(pop(dev) == -EIO);
TEST_END

TEST_BEGIN(driver_ok_starts_queues)
	uint32_t f[2] = { 0, BIT(VIRTIO_F_VERSION_1) };

	dev = new_dev();
	CHECK(dev);
	set_status(dev, S_ACK | S_DRV);
	set_features(dev, 0, 2, f);
	set_status(dev, S_ACK | S_DRV | S_FOK);
	CHECK(set_vqueue(dev, 0, 8, DESC_ADDR, AVAIL_ADDR, USED_ADDR) == 8);
	desc(DESC_ADDR, 0, BUF_ADDR, 4, 0, 0);
	avail_add(0);
	/* Before DRIVER_OK nothing is processed. */
	CHECK(kick(dev, 0) == 0 && model_log.notify == 0);
	CHECK(pop(dev) == 0);
	CHECK(set_status(dev, S_ACK | S_DRV | S_FOK | S_DOK) ==
	      (S_ACK | S_DRV | S_FOK | S_DOK));
	CHECK(model_log.notify == 1 && model_log.notify_idx == 0);
	CHECK(pop(dev) == 1);
TEST_END

TEST_BEGIN(needs_reset_sticky_until_reset)
	dev = dev_up(0);
	CHECK(dev);
	model_log.notify = 0;
	avail_add(QSZ + 3);
	CHECK(pop(dev) == -EIO && needs_reset(dev));
	CHECK(set_status(dev, S_ACK | S_DRV | S_FOK | S_DOK) ==
	      (S_ACK | S_DRV | S_FOK | S_DOK | S_NR));
	CHECK(get_status(dev) & S_NR);
	CHECK(kick(dev, 0) == 0 && model_log.notify == 0);
	/* Device-side NEEDS_RESET again: no duplicate event. */
	vmsg_dev_set_needs_reset(dev);
	CHECK(bus.n_ev == 1);
	CHECK(set_status(dev, 0) == 0);
	vmsg_dev_destroy(dev);
	/* Full re-initialisation works. */
	dev = dev_up(0);
	CHECK(dev);
	drv_avail_idx = 0;
	memset(mem, 0, sizeof(mem));
	desc(DESC_ADDR, 0, BUF_ADDR, 4, 0, 0);
	avail_add(0);
	CHECK(pop(dev) == 1);
TEST_END

TEST_BEGIN(reset_then_reinit_same_device)
	dev = dev_up(0);
	CHECK(dev);
	desc(DESC_ADDR, 0, BUF_ADDR, 4, NEXT, 0);	/* loop */
	avail_add(0);
	CHECK(pop(dev) == -EIO);
	CHECK(set_status(dev, 0) == 0);
	CHECK(vmsg_dev_status(dev) == 0 && !vmsg_vq_ready(dev, 0));
	{
		uint32_t f[2] = { 0, BIT(VIRTIO_F_VERSION_1) };

		memset(mem, 0, sizeof(mem));
		drv_avail_idx = 0;
		set_status(dev, S_ACK | S_DRV);
		set_features(dev, 0, 2, f);
		CHECK(set_status(dev, S_ACK | S_DRV | S_FOK) ==
		      (S_ACK | S_DRV | S_FOK));
		set_vqueue(dev, 0, 8, DESC_ADDR, AVAIL_ADDR, USED_ADDR);
		CHECK(set_status(dev, S_ACK | S_DRV | S_FOK | S_DOK) ==
		      (S_ACK | S_DRV | S_FOK | S_DOK));
	}
	desc(DESC_ADDR, 0, BUF_ADDR, 4, 0, 0);
	avail_add(0);
	CHECK(pop(dev) == 1 && elem.head == 0);
TEST_END

/* ------------------------------------------------------------------ */
/* Backend command lines (loopback.h).                                 */

static struct {
	unsigned int usage_out, usage_err;
	char opts[8];			/* the backend's options taken */
	unsigned int nr_opts;
	const char *value;		/* last argument of -v */
} cli_log;

static void cli_usage(FILE *f, const char *prog)
{
	(void)prog;
	if (f == stdout)
		cli_log.usage_out++;
	else
		cli_log.usage_err++;
}

/* -v VALUE ("bad" is refused) and --flag/-f, as a backend has them. */
static int cli_parse_opt(int opt, const char *arg, void *priv)
{
	(void)priv;
	if (opt == 'v' && !strcmp(arg, "bad"))
		return -1;
	if (opt == 'v')
		cli_log.value = arg;
	if (cli_log.nr_opts < sizeof(cli_log.opts))
		cli_log.opts[cli_log.nr_opts++] = opt;
	return 0;
}

static const struct option cli_long_opts[] = {
	{ "value", required_argument, NULL, 'v' },
	{ "flag", no_argument, NULL, 'f' },
	{ }
};

static const struct vmsg_lb_cmdline cli = {
	.short_opts = "v:f",
	.long_opts = cli_long_opts,
	.parse_opt = cli_parse_opt,
	.usage = cli_usage,
};

/* ------------------------------------------------------------------ */
/* Resuming a device another device side ran.                          */

#define S_RUN	(S_ACK | S_DRV | S_FOK | S_DOK)

/* Queue 0 (size 8) where dev_up() puts it, live. */
static struct vmsg_dev_queue_state resume_q[2] = {
	{ true, QSZ, DESC_ADDR, AVAIL_ADDR, USED_ADDR },
};

static void resume_state(struct vmsg_dev_state *st)
{
	resume_q[0] = (struct vmsg_dev_queue_state){
		true, QSZ, DESC_ADDR, AVAIL_ADDR, USED_ADDR };
	resume_q[1] = (struct vmsg_dev_queue_state){ };
	*st = (struct vmsg_dev_state){
		.status = S_RUN,
		.features = { (uint64_t)BIT(VIRTIO_F_VERSION_1) << 32 },
		.config_generation = 5,
		.num_queues = 2,
		.queues = resume_q,
	};
}

/*
 * The driver made three buffers available, the dead device side completed
 * the first and held the second: the new one takes the second again,
 * from the used index, and its first completion is signalled.
 */
TEST_BEGIN(resume_serves_from_used_index)
	struct vmsg_dev_state st;
	struct vmsg_vq_elem elem;
	struct vmsg_iov iov[4];
	const char *why = "unset";

	desc(DESC_ADDR, 0, BUF_ADDR, 16, VRING_DESC_F_WRITE, 0);
	desc(DESC_ADDR, 5, BUF_ADDR, 16, VRING_DESC_F_WRITE, 0);
	desc(DESC_ADDR, 6, BUF_ADDR, 16, VRING_DESC_F_WRITE, 0);
	avail_add(0);
	avail_add(5);
	avail_add(6);
	wr32(USED_ADDR + 4, 0);		/* element 0: head 0 */
	wr16(USED_ADDR + 2, 1);		/* used index 1 */
	resume_state(&st);
	dev = new_dev_wire(VIRTIO_MSG_WIRE_V2, 0);
	CHECK(dev);
	CHECK(vmsg_dev_resume(dev, &st, &why) == 0 && !why);
	CHECK(vmsg_dev_status(dev) == S_RUN);
	CHECK(vmsg_dev_config_generation(dev) == 5);
	CHECK(vmsg_dev_has_feature(dev, VIRTIO_F_VERSION_1));
	CHECK(vmsg_vq_ready(dev, 0) && !vmsg_vq_ready(dev, 1));
	CHECK(vq_size(dev, 0) == QSZ);
	/* The wire generation is the driver side's already. */
	CHECK(vmsg_dev_set_wire(dev, VIRTIO_MSG_WIRE_V1, 0) == -EBUSY);
	CHECK(vmsg_dev_resume(dev, &st, NULL) == -EBUSY);

	CHECK(vmsg_vq_pop(dev, 0, &elem, iov, 4) == 1 && elem.head == 5);
	CHECK(vmsg_vq_push(dev, 0, 5, 16) == 0);
	CHECK(rd16(USED_ADDR + 2) == 2 && rd32(USED_ADDR + 4 + 8) == 5);
	CHECK(vmsg_vq_notify(dev, 0) == 1 && is_event_used(0, 0));
	CHECK(vmsg_vq_pop(dev, 0, &elem, iov, 4) == 1 && elem.head == 6);
	CHECK(vmsg_vq_push(dev, 0, 6, 16) == 0);
	CHECK(vmsg_vq_pop(dev, 0, &elem, iov, 4) == 0);
	/* Nothing held: head 0, long completed, may come again. */
	avail_add(0);
	CHECK(vmsg_vq_pop(dev, 0, &elem, iov, 4) == 1 && elem.head == 0);
	CHECK(!needs_reset(dev));
TEST_END

/* A state the device cannot take is refused, and nothing changes. */
TEST_BEGIN(resume_rejects_bad_states)
	struct vmsg_dev_state st;
	const char *why;
	unsigned int i;
	int ret;

	for (i = 0; i < 13; i++) {
		fixture();
		resume_state(&st);
		wr16(AVAIL_ADDR + 2, 3);
		wr16(USED_ADDR + 2, 1);
		switch (i) {
		case 0:
			st.status |= 0x20;
			break;
		case 1:
			st.status = S_ACK | S_DRV | S_DOK;
			break;
		case 2:
			st.status = S_ACK | S_FOK;
			break;
		case 3:
			st.features[0] |= 1ULL << 35;
			break;
		case 4:
			st.features[1] = 1;
			break;
		case 5:		/* no VERSION_1 */
			st.features[0] = 0;
			break;
		case 6:
			resume_q[0].size = 6;
			break;
		case 7:		/* over the maximum of 8 */
			resume_q[0].size = 16;
			break;
		case 8:
			resume_q[0].used_addr += 2;
			break;
		case 9:		/* queue 2 does not exist */
			st.num_queues = 3;
			break;
		case 10:
			st.num_queues = 4;
			break;
		case 11:
			wr16(AVAIL_ADDR + 2, 1 + QSZ + 1);
			break;
		case 12:
			resume_q[0].used_addr = MEM_BASE + MEM_SIZE;
			break;
		}
		if (i == 9) {
			static struct vmsg_dev_queue_state three[3];

			three[0] = resume_q[0];
			three[2] = resume_q[0];
			st.queues = three;
		}
		dev = new_dev_wire(VIRTIO_MSG_WIRE_V2, 0);
		CHECK(dev);
		why = NULL;
		ret = vmsg_dev_resume(dev, &st, &why);
		if (ret != (i == 12 ? -EFAULT : -EINVAL) || !why) {
			printf("# case %u: %d, %s\n", i, ret, why ? why : "-");
			goto fail;
		}
		/* Untouched: the device still starts from scratch. */
		CHECK(vmsg_dev_status(dev) == 0 && !vmsg_vq_ready(dev, 0));
		CHECK(!vmsg_dev_has_feature(dev, VIRTIO_F_VERSION_1));
		CHECK(vmsg_dev_set_wire(dev, VIRTIO_MSG_WIRE_V1, 0) == 0);
		vmsg_dev_destroy(dev);
		dev = NULL;
	}
	/* A device not yet negotiated is taken as it is. */
	resume_state(&st);
	st.status = S_ACK;
	st.features[0] = 0;
	st.num_queues = 0;
	dev = new_dev();
	CHECK(dev && vmsg_dev_resume(dev, &st, NULL) == 0);
	CHECK(vmsg_dev_status(dev) == S_ACK);
TEST_END

/* The messages for bad command lines go to stderr: keep them off. */
static int saved_stderr = -1;

static void stderr_off(void)
{
	int null_fd;

	fflush(stderr);
	saved_stderr = dup(STDERR_FILENO);
	null_fd = open("/dev/null", O_WRONLY);
	if (null_fd >= 0) {
		dup2(null_fd, STDERR_FILENO);
		close(null_fd);
	}
}

static void stderr_on(void)
{
	fflush(stderr);
	if (saved_stderr >= 0) {
		dup2(saved_stderr, STDERR_FILENO);
		close(saved_stderr);
		saved_stderr = -1;
	}
}

/* Parse the NULL-terminated @argv afresh, from a backend's defaults. */
static bool cli_parse(char **argv, struct vmsg_lb_args *args, int *status)
{
	int argc = 0;
	bool go_on;

	while (argv[argc])
		argc++;
	memset(&cli_log, 0, sizeof(cli_log));
	*args = (struct vmsg_lb_args){ .dev_num = 1 };
	*status = -1;
	/* 0, not 1: glibc then forgets all of a previous scan. */
	optind = 0;
	stderr_off();
	go_on = vmsg_lb_parse_args(argc, argv, &cli, args, status);
	stderr_on();
	return go_on;
}

TEST_BEGIN(lb_parse_num)
	unsigned long v;

	CHECK(vmsg_lb_parse_num("10", 0, 100, &v) == 0 && v == 10);
	CHECK(vmsg_lb_parse_num("0x10", 0, 100, &v) == 0 && v == 16);
	CHECK(vmsg_lb_parse_num("010", 0, 100, &v) == 0 && v == 8);
	CHECK(vmsg_lb_parse_num("68", 68, 65535, &v) == 0 && v == 68);
	CHECK(vmsg_lb_parse_num("65535", 68, 65535, &v) == 0 && v == 65535);
	CHECK(vmsg_lb_parse_num("67", 68, 65535, &v) == -EINVAL);
	CHECK(vmsg_lb_parse_num("65536", 68, 65535, &v) == -EINVAL);
	CHECK(vmsg_lb_parse_num("", 0, 100, &v) == -EINVAL);
	CHECK(vmsg_lb_parse_num(" ", 0, 100, &v) == -EINVAL);
	CHECK(vmsg_lb_parse_num("1x", 0, 100, &v) == -EINVAL);
	CHECK(vmsg_lb_parse_num("-1", 0, 100, &v) == -EINVAL);
	CHECK(vmsg_lb_parse_num("99999999999999999999999", 0, ~0UL, &v) ==
	      -EINVAL);
TEST_END

TEST_BEGIN(lb_parse_dev_num)
	uint16_t zero = 7, top = 0, big = 5, empty = 5, junk = 5;
	int ret[5];

	stderr_off();
	ret[0] = vmsg_lb_parse_dev_num("0", &zero);
	ret[1] = vmsg_lb_parse_dev_num("0xffff", &top);
	ret[2] = vmsg_lb_parse_dev_num("65536", &big);
	ret[3] = vmsg_lb_parse_dev_num("", &empty);
	ret[4] = vmsg_lb_parse_dev_num("3a", &junk);
	stderr_on();
	CHECK(ret[0] == 0 && zero == 0);
	CHECK(ret[1] == 0 && top == 0xffff);
	/* A failure leaves the number as it was. */
	CHECK(ret[2] == -EINVAL && big == 5);
	CHECK(ret[3] == -EINVAL && empty == 5);
	CHECK(ret[4] == -EINVAL && junk == 5);
TEST_END

TEST_BEGIN(lb_parse_args_shared_and_own)
	char *argv_defaults[] = { "prog", NULL };
	char *argv_all[] = { "prog", "-d", "/dev/x", "--dev-num", "0x10",
			     "-f", "--value", "v1", "-q", "-v", "v2", NULL };
	char *argv_joined[] = { "prog", "-qn3", "-vv3", "--device=/y", NULL };
	struct vmsg_lb_args args;
	int status;

	CHECK(cli_parse(argv_defaults, &args, &status));
	CHECK(!args.path && args.dev_num == 1 && !args.quiet);
	CHECK(args.wire == VIRTIO_MSG_WIRE_V2);
	CHECK(cli_log.nr_opts == 0 && status == -1);

	CHECK(cli_parse(argv_all, &args, &status));
	CHECK(args.path && !strcmp(args.path, "/dev/x"));
	CHECK(args.dev_num == 16 && args.quiet);
	CHECK(cli_log.nr_opts == 3 && !memcmp(cli_log.opts, "fvv", 3));
	CHECK(!strcmp(cli_log.value, "v2"));
	CHECK(!cli_log.usage_out && !cli_log.usage_err);

	CHECK(cli_parse(argv_joined, &args, &status));
	CHECK(args.quiet && args.dev_num == 3 && !strcmp(args.path, "/y"));
	CHECK(!strcmp(cli_log.value, "v3"));
TEST_END

TEST_BEGIN(lb_parse_args_wire)
	char *argv_v1[] = { "prog", "--wire", "v1", "-f", NULL };
	char *argv_v2[] = { "prog", "--wire=v2", NULL };
	char *argv_last[] = { "prog", "--wire", "v2", "--wire", "v1", NULL };
	char *argv_bad[] = { "prog", "--wire", "v3", NULL };
	char *argv_num[] = { "prog", "--wire", "2", NULL };
	char *argv_empty[] = { "prog", "--wire", "", NULL };
	char *argv_missing[] = { "prog", "--wire", NULL };
	struct vmsg_lb_args args;
	unsigned int wire = 7;
	int status, ret[3];

	CHECK(cli_parse(argv_v1, &args, &status));
	CHECK(args.wire == VIRTIO_MSG_WIRE_V1 && cli_log.nr_opts == 1);
	CHECK(cli_parse(argv_v2, &args, &status));
	CHECK(args.wire == VIRTIO_MSG_WIRE_V2);
	CHECK(cli_parse(argv_last, &args, &status));
	CHECK(args.wire == VIRTIO_MSG_WIRE_V1);
	/* A bad value: refused, with the message that says why. */
	CHECK(!cli_parse(argv_bad, &args, &status));
	CHECK(status == 2 && !cli_log.usage_err);
	CHECK(!cli_parse(argv_num, &args, &status));
	CHECK(status == 2 && !cli_log.usage_err);
	CHECK(!cli_parse(argv_empty, &args, &status));
	CHECK(status == 2);
	CHECK(!cli_parse(argv_missing, &args, &status));
	CHECK(status == 2 && cli_log.usage_err == 1);
	stderr_off();
	ret[0] = vmsg_lb_parse_wire("V2", &wire);
	ret[1] = vmsg_lb_parse_wire("v2 ", &wire);
	ret[2] = vmsg_lb_parse_wire("v1", &wire);
	stderr_on();
	CHECK(ret[0] == -EINVAL && ret[1] == -EINVAL);
	CHECK(ret[2] == 0 && wire == VIRTIO_MSG_WIRE_V1);
TEST_END

/* --recovery-ms and --adopt, only for a backend that can be adopted. */
TEST_BEGIN(lb_parse_args_adopt)
	char *argv_rec[] = { "prog", "--recovery-ms", "20000", NULL };
	char *argv_adopt[] = { "prog", "--adopt", "-n", "7", NULL };
	char *argv_big[] = { "prog", "--recovery-ms", "60001", NULL };
	struct vmsg_lb_cmdline adoptable = cli;
	struct vmsg_lb_args args;
	int status, argc;
	bool go_on;

	/* Not adoptable: both refused. */
	CHECK(!cli_parse(argv_rec, &args, &status) && status == 2);
	CHECK(!cli_parse(argv_adopt, &args, &status) && status == 2);

	adoptable.adoptable = true;
	for (argc = 0; argc < 3; argc++) {
		char **argv = argc == 0 ? argv_rec :
			      argc == 1 ? argv_adopt : argv_big;
		int n = 0;

		while (argv[n])
			n++;
		memset(&cli_log, 0, sizeof(cli_log));
		args = (struct vmsg_lb_args){ .dev_num = 1 };
		optind = 0;
		stderr_off();
		go_on = vmsg_lb_parse_args(n, argv, &adoptable, &args, &status);
		stderr_on();
		if (argc == 0)
			CHECK(go_on && args.recovery_ms == 20000 && !args.adopt);
		else if (argc == 1)
			CHECK(go_on && args.adopt && args.dev_num == 7 &&
			      !args.recovery_ms);
		else
			CHECK(!go_on && status == 2);
	}
TEST_END

TEST_BEGIN(lb_parse_args_help)
	char *argv_help[] = { "prog", "-q", "--help", "--bogus", NULL };
	char *argv_short[] = { "prog", "-h", NULL };
	char *argv_bad_first[] = { "prog", "-n", "x", "--help", NULL };
	struct vmsg_lb_args args;
	int status;

	CHECK(!cli_parse(argv_help, &args, &status));
	CHECK(status == 0 && cli_log.usage_out == 1 && !cli_log.usage_err);
	CHECK(!cli_parse(argv_short, &args, &status));
	CHECK(status == 0 && cli_log.usage_out == 1);
	/* Options are taken in order: a bad value before --help wins. */
	CHECK(!cli_parse(argv_bad_first, &args, &status));
	CHECK(status == 2 && !cli_log.usage_out && !cli_log.usage_err);
TEST_END

TEST_BEGIN(lb_parse_args_bad)
	char *argv_unknown[] = { "prog", "--bogus", NULL };
	char *argv_extra[] = { "prog", "-q", "extra", NULL };
	char *argv_missing[] = { "prog", "-d", NULL };
	char *argv_empty_num[] = { "prog", "--dev-num", "", NULL };
	char *argv_big_num[] = { "prog", "-n", "65536", NULL };
	char *argv_own_bad[] = { "prog", "-v", "bad", "-f", NULL };
	struct vmsg_lb_args args;
	int status;

	/* A misused option or a stray argument: the help, on stderr. */
	CHECK(!cli_parse(argv_unknown, &args, &status));
	CHECK(status == 2 && cli_log.usage_err == 1 && !cli_log.usage_out);
	CHECK(!cli_parse(argv_extra, &args, &status));
	CHECK(status == 2 && cli_log.usage_err == 1);
	CHECK(!cli_parse(argv_missing, &args, &status));
	CHECK(status == 2 && cli_log.usage_err == 1);
	/* A bad value: only the message that says why. */
	CHECK(!cli_parse(argv_empty_num, &args, &status));
	CHECK(status == 2 && !cli_log.usage_err && args.dev_num == 1);
	CHECK(!cli_parse(argv_big_num, &args, &status));
	CHECK(status == 2 && !cli_log.usage_err && args.dev_num == 1);
	CHECK(!cli_parse(argv_own_bad, &args, &status));
	CHECK(status == 2 && !cli_log.usage_err && cli_log.nr_opts == 0);
TEST_END

/* ------------------------------------------------------------------ */

struct test {
	const char *name;
	bool (*fn)(void);
};

#define T(n)		{ #n, n }
static const struct test tests[] = {
	T(create_rejects_bad_model),
	T(codec_helpers),
	T(device_info),
	T(reserved_type_bits_ignored),
	T(status_sequence),
	T(features_get_blocks),
	T(features_ok_accepted),
	T(features_ok_refused_not_subset),
	T(features_ok_refused_no_version1),
	T(features_ok_refused_unknown_block),
	T(features_ok_refused_missing_required),
	T(features_ok_needs_driver_bits),
	T(driver_ok_needs_features_ok),
	T(config_read_generation),
	T(config_read_out_of_bounds),
	T(config_write_matching_generation),
	T(config_write_stale_generation_rejected),
	T(config_write_stale_generation_coalesced),
	T(config_write_refused),
	T(config_update_event_with_data),
	T(config_update_event_too_big),
	T(reset_keeps_generation),
	T(get_vqueue),
	T(set_vqueue_validation),
	T(set_vqueue_live_and_reset_vqueue),
	T(get_shm),
	T(wire_choice),
	T(device_info_v2),
	T(get_vqueue_v2),
	T(set_vqueue_v2),
	T(get_shm_v2),
	T(config_profile_v2_baseline),
	T(config_profile_v2_strict),
	T(config_write_v2_all_or_nothing),
	T(malformed_v2),
	T(v2_probe_and_io),
	T(malformed_short),
	T(malformed_msg_size),
	T(malformed_payload_len),
	T(unknown_msg_ids),
	T(response_bit_dropped),
	T(bus_msg_dropped),
	T(wrong_dev_num_dropped),
	T(response_never_exceeds_limits),
	T(response_in_request_buffer),
	T(split_pop_direct),
	T(split_pop_indirect),
	T(split_direct_then_indirect),
	T(split_desc_loop),
	T(split_desc_self_loop),
	T(split_longest_chain_ok),
	T(split_chain_lengths_not_truncated),
	T(split_indirect_loop),
	T(split_indirect_longest_chain_ok),
	T(split_indirect_chain_too_long),
	T(split_direct_plus_indirect_too_long),
	T(split_indirect_loop_big_table),
	T(split_indirect_zero_len),
	T(split_head_out_of_range),
	T(split_next_out_of_range),
	T(split_indirect_next_out_of_range),
	T(split_avail_idx_jump),
	T(split_nested_indirect),
	T(split_indirect_not_negotiated),
	T(split_indirect_bad_len),
	T(split_indirect_with_next),
	T(split_readable_after_writable),
	T(split_buffer_wraps),
	T(split_head_in_flight_twice),
	T(split_head_in_flight_via_chain),
	T(push_head_not_in_flight),
	T(in_flight_forgotten_on_reset),
	T(accessor_fail_avail),
	T(accessor_fail_avail_ring),
	T(accessor_fail_desc),
	T(accessor_fail_indirect_table),
	T(accessor_fail_used),
	T(accessor_fail_used_idx),
	T(accessor_fail_buffer),
	T(iov_overflow_needs_reset),
	T(iov_overflow_answered),
	T(iov_overflow_used_len_clamped),
	T(iov_overflow_unanswerable),
	T(queue_max_segs),
	T(used_ring_wraps),
	T(avail_idx_wraps_16bit),
	T(hostile_ring_fuzz),
	T(event_used_sent),
	T(event_used_no_interrupt),
	T(event_used_event_idx),
	T(avail_event_written),
	T(event_send_failure),
	T(event_avail_kick),
	T(driver_ok_starts_queues),
	T(needs_reset_sticky_until_reset),
	T(reset_then_reinit_same_device),
	T(transport_keeps_refused_messages),
	T(resume_serves_from_used_index),
	T(resume_rejects_bad_states),
	T(lb_parse_num),
	T(lb_parse_dev_num),
	T(lb_parse_args_shared_and_own),
	T(lb_parse_args_wire),
	T(lb_parse_args_adopt),
	T(lb_parse_args_help),
	T(lb_parse_args_bad),
	T(amp_layout_and_handshake),
	T(amp_messages_and_one_doorbell),
	T(amp_virtqueue_roundtrip),
	T(amp_hostile_addresses),
	T(amp_hostile_indices),
	T(amp_hostile_sizes),
	T(amp_flood),
	T(amp_restart),
	T(amp_slow_driver),
	T(amp_unplug),
	T(amp_notification_words),
	T(amp_bad_config),
	T(amp_ivshmem_protocol),
};

int main(void)
{
	unsigned int i, n = ARRAY_SIZE(tests), failed = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("KTAP version 1\n1..%u\n", n);
	for (i = 0; i < n; i++) {
		bool ok = tests[i].fn();

		printf("%sok %u %s\n", ok ? "" : "not ", i + 1, tests[i].name);
		failed += !ok;
	}
	printf("# %u passed, %u failed\n", n - failed, failed);
	return failed ? 1 : 0;
}

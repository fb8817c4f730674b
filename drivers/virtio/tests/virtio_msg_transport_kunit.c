// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for the virtio-msg transport core.
 *
 * A fake bus is registered against the real core. Its send op answers
 * every request inline from a small device model (a bus may deliver the
 * response from within send), unless a test asks it to misbehave: drop the
 * answer, send a stray response first, or send a malformed one. It records
 * what the core sent, so tests can check the exact message sequence.
 *
 * Devices of type VMSG_TEST_ID_DRIVER are bound by a small test virtio
 * driver that sets up a configurable number of virtqueues; devices of
 * type VMSG_TEST_ID_NODRIVER stay unbound, and tests call their
 * virtio_config_ops directly.
 *
 * The device model answers in the bus's wire generation (fake_bus.wire,
 * v1 unless a test calls fake_bus_start_wire()), and in v2 keeps the
 * queue state a GET_VQUEUE read-back shows.
 */

#include <kunit/device.h>
#include <kunit/test.h>
#include <linux/bitmap.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/irq_work.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/unaligned.h>
#include <linux/vmalloc.h>
#include <linux/virtio.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_msg.h>
#include <linux/virtio_ring.h>
#include <linux/xarray.h>

#include "../virtio_msg_core.h"

/* Device IDs nobody else uses: one bound by the test driver, one not. */
#define VMSG_TEST_ID_DRIVER	0xfff0
#define VMSG_TEST_ID_NODRIVER	0xfff1

#define FAKE_NR_DEVS		64
#define FAKE_CONFIG_MAX		512
#define FAKE_MAX_MSG		VIRTIO_MSG_MAX_SIZE_RECOMMENDED
#define FAKE_VQ_SIZE		256
/* Short enough for quick tests, long enough for a slow emulated CPU. */
#define FAKE_TIMEOUT_MS		200

/* How the fake answers the next transport request (then back to normal). */
enum fake_mode {
	FAKE_NORMAL,
	FAKE_DROP,		/* no answer; keep the request */
	FAKE_WRONG_TOKEN,	/* stray response with another token first */
	FAKE_WRONG_MSG_ID,	/* stray response with another message ID */
	FAKE_WRONG_DEV_NUM,	/* stray response from an unknown device */
	FAKE_MALFORMED,		/* the answer's payload is too short */
};

struct fake_dev {
	bool exists;
	u32 device_id;
	u32 nvqs;
	u32 config_size;
	u8 config[FAKE_CONFIG_MAX];
	u32 gen;
	u32 status;
	u64 features;
	u64 drv_features;
	bool refuse_features;
	u32 status_hide;	/* status bits it never reports */
	bool reject_stale;
	bool reject_all;	/* every SET_CONFIG is rejected */
	u32 vq_size[4];
	u32 vq_max;		/* GET_VQUEUE max_size; 0: FAKE_VQ_SIZE */
	/* v2 queue state, and how the device gets it wrong */
	bool vq_enabled[4];
	u64 vq_addr[4][3];
	bool vq_no_enable;	/* SET_VQUEUE does not enable the queue */
	bool vq_other_addr;	/* it keeps another descriptor address */
	bool vq_other_size;	/* it keeps another size */
	unsigned int set_vq_seq;	/* fake_bus.seq at the last SET_VQUEUE */
	unsigned int reset_seq;		/* ... at the last reset */
	u8 uuid[16];
};

struct fake_bus {
	struct virtio_msg_bus bus;
	struct virtio_msg_bus_desc desc;
	struct kunit *test;
	spinlock_t lock;	/* everything below */
	u8 wire;		/* the generation the device side speaks */
	unsigned int seq;	/* transport requests answered */
	u32 last_set_gen;	/* generation of the last SET_CONFIG */
	u64 shm_addr, shm_len;	/* what the shm_region op got */
	struct fake_dev devs[FAKE_NR_DEVS];
	enum fake_mode mode;
	unsigned int nreq[FAKE_NR_DEVS];
	unsigned int sent[256];
	unsigned int bus_sent[256];
	/* GET_DEVICES script */
	DECLARE_BITMAP(present, FAKE_NR_DEVS);
	unsigned int window;
	int bad_window;		/* window index answered badly, -1 none */
	int windows;
	/* the dropped request */
	u64 dropped[FAKE_MAX_MSG / 8];
	/* the next transport request's send op fails with this errno */
	int send_errno;
	/* GET_CONFIG/SET_CONFIG: change the config first and tell (once) */
	bool event_in_config;
	/* GET_CONFIG: the generation moves with every chunk */
	bool gen_per_chunk;
	/* SET_CONFIG: apply at most this many bytes (0: all) */
	u32 set_partial;
	/* EVENT_AVAIL */
	int event_fail;		/* next send_event calls refused */
	int event_errno;	/* with this errno, -EAGAIN if 0 */
	bool lose_peer_on_kick;	/* a kick makes the peer go away */
	struct work_struct lose_work;
	/* shared memory regions asked for */
	unsigned int shm_calls;
	/* what release_device got from a bus transfer */
	int release_transfer;
	/* responses carry a token of the bus's own */
	bool rewrite_token;
	/* implementation-defined bus requests go unanswered */
	bool drop_bus;
	unsigned int suspends, resumes;
	unsigned int avail[4];
	u32 avail_data[4];
	/* out-of-band doorbells and bus-specific events */
	unsigned int doorbells[4];
	u32 doorbell_data;
	unsigned int bus_events;
	/* DMA devices handed out and released */
	struct device *dma_dev;
	unsigned int dma_gets;
	unsigned int dma_releases;
	/* queue_layout: what each queue got, when, and which call fails */
	struct virtio_msg_queue_layout layouts[4];
	unsigned int layout_calls[4];
	unsigned int layout_set_vqueues[4];	/* SET_VQUEUEs sent before */
	unsigned int layout_gone[4];
	u32 layout_gone_status;			/* device status then */
	int layout_fail_index;			/* -1: none */
	/* PING answers seen */
	unsigned int pings;
	__le32 ping_data;
	__le16 ping_token;
};

static struct fake_bus *to_fake(struct virtio_msg_bus *bus)
{
	return container_of(bus, struct fake_bus, bus);
}

/* Answer one transport request from the device model; lock held. */
static size_t fake_answer(struct fake_bus *fb, const struct virtio_msg_hdr *req,
			  struct virtio_msg_hdr *resp)
{
	u16 dev_num = le16_to_cpu(req->dev_num);
	struct fake_dev *fd = &fb->devs[dev_num];
	const void *q = req + 1;
	void *r = resp + 1;
	size_t plen = 0;
	u32 i, off, len;

	fb->seq++;
	switch (req->msg_id) {
	case VIRTIO_MSG_GET_DEVICE_INFO: {
		struct virtio_msg_get_device_info_resp_v2 *d2 = r;
		struct virtio_msg_get_device_info_resp *di = r;

		if (fb->wire == VIRTIO_MSG_WIRE_V2) {
			plen = sizeof(*d2);
			memset(d2, 0, plen);
			d2->device_id = cpu_to_le32(fd->device_id);
			d2->vendor_id = cpu_to_le32(0x1af4);
			memcpy(d2->device_uuid, fd->uuid, sizeof(fd->uuid));
			d2->num_feature_blocks = cpu_to_le32(2);
			d2->config_size = cpu_to_le32(fd->config_size);
			d2->max_virtqueues = cpu_to_le32(fd->nvqs);
			break;
		}

		plen = sizeof(*di);
		memset(di, 0, plen);
		di->device_id = cpu_to_le32(fd->device_id);
		di->vendor_id = cpu_to_le32(0x1af4);
		di->num_feature_bits = cpu_to_le32(64);
		di->config_size = cpu_to_le32(fd->config_size);
		di->max_virtqueues = cpu_to_le32(fd->nvqs);
		break;
	}
	case VIRTIO_MSG_GET_DEVICE_FEATURES: {
		const struct virtio_msg_features *fq = q;
		struct virtio_msg_features *fr = r;
		u32 n = le32_to_cpu(fq->num_blocks);

		fr->block_index = fq->block_index;
		fr->num_blocks = fq->num_blocks;
		for (i = 0; i < n && i < 8; i++) {
			u32 b = le32_to_cpu(fq->block_index) + i;

			fr->features[i] = cpu_to_le32(b < 2 ?
						      fd->features >> (32 * b) : 0);
		}
		plen = sizeof(*fr) + n * 4;
		break;
	}
	case VIRTIO_MSG_SET_DRIVER_FEATURES: {
		const struct virtio_msg_features *fq = q;

		fd->drv_features = le32_to_cpu(fq->features[0]) |
				   (u64)le32_to_cpu(fq->features[1]) << 32;
		break;
	}
	case VIRTIO_MSG_GET_CONFIG: {
		const struct virtio_msg_get_config_req *cq = q;
		struct virtio_msg_config *cr = r;

		off = le32_to_cpu(cq->offset);
		len = le32_to_cpu(cq->length);
		if (fb->gen_per_chunk)
			fd->gen++;
		cr->generation = cpu_to_le32(fd->gen);
		cr->offset = cq->offset;
		cr->length = cq->length;
		memcpy(cr->data, fd->config + off, len);
		plen = sizeof(*cr) + len;
		break;
	}
	case VIRTIO_MSG_SET_CONFIG: {
		const struct virtio_msg_config *cq = q;
		struct virtio_msg_config *cr = r;

		off = le32_to_cpu(cq->offset);
		len = le32_to_cpu(cq->length);
		if (fb->set_partial)
			len = min(len, fb->set_partial);
		cr->offset = cq->offset;
		fb->last_set_gen = le32_to_cpu(cq->generation);
		if (fd->reject_all ||
		    (fd->reject_stale && le32_to_cpu(cq->generation) != fd->gen)) {
			cr->length = 0;
		} else {
			memcpy(fd->config + off, cq->data, len);
			cr->length = cpu_to_le32(len);
		}
		cr->generation = cpu_to_le32(fd->gen);
		plen = sizeof(*cr);
		break;
	}
	case VIRTIO_MSG_GET_DEVICE_STATUS:
	case VIRTIO_MSG_SET_DEVICE_STATUS: {
		const struct virtio_msg_status *sq = q;
		struct virtio_msg_status *sr = r;

		if (req->msg_id == VIRTIO_MSG_SET_DEVICE_STATUS) {
			fd->status = le32_to_cpu(sq->status);
			if (fd->refuse_features)
				fd->status &= ~VIRTIO_CONFIG_S_FEATURES_OK;
			fd->status &= ~fd->status_hide;
			if (!fd->status) {
				/* A reset disables every queue. */
				memset(fd->vq_enabled, 0,
				       sizeof(fd->vq_enabled));
				fd->reset_seq = fb->seq;
			}
		}
		sr->status = cpu_to_le32(fd->status);
		plen = sizeof(*sr);
		break;
	}
	case VIRTIO_MSG_GET_VQUEUE: {
		const struct virtio_msg_vqueue_index *vq = q;
		struct virtio_msg_get_vqueue_resp_v2 *v2 = r;
		struct virtio_msg_vqueue *vr = r;

		i = le32_to_cpu(vq->index);
		memset(vr, 0, sizeof(*vr));
		vr->index = vq->index;
		vr->max_size = cpu_to_le32(i >= fd->nvqs ? 0 :
					   fd->vq_max ?: FAKE_VQ_SIZE);
		plen = sizeof(*vr);
		if (fb->wire != VIRTIO_MSG_WIRE_V2 || i >= ARRAY_SIZE(fd->vq_size))
			break;
		v2->size = cpu_to_le32(fd->vq_size[i]);
		v2->flags = cpu_to_le32(fd->vq_enabled[i] ?
					VIRTIO_MSG_VQUEUE_V2_ENABLED : 0);
		v2->desc_addr = cpu_to_le64(fd->vq_addr[i][0]);
		v2->driver_addr = cpu_to_le64(fd->vq_addr[i][1]);
		v2->device_addr = cpu_to_le64(fd->vq_addr[i][2]);
		break;
	}
	case VIRTIO_MSG_SET_VQUEUE: {
		const struct virtio_msg_set_vqueue_req_v2 *v2 = q;
		const struct virtio_msg_vqueue *vq = q;

		i = le32_to_cpu(vq->index);
		if (i >= ARRAY_SIZE(fd->vq_size))
			break;
		fd->vq_size[i] = le32_to_cpu(vq->size);
		fd->set_vq_seq = fb->seq;
		if (fb->wire != VIRTIO_MSG_WIRE_V2)
			break;
		if (fd->vq_other_size)
			fd->vq_size[i] /= 2;
		fd->vq_addr[i][0] = le64_to_cpu(v2->desc_addr) +
				    (fd->vq_other_addr ? 0x1000 : 0);
		fd->vq_addr[i][1] = le64_to_cpu(v2->driver_addr);
		fd->vq_addr[i][2] = le64_to_cpu(v2->device_addr);
		fd->vq_enabled[i] = !fd->vq_no_enable &&
				    (le32_to_cpu(v2->flags) &
				     VIRTIO_MSG_VQUEUE_V2_ENABLE);
		break;
	}
	case VIRTIO_MSG_RESET_VQUEUE: {
		const struct virtio_msg_vqueue_index *vq = q;

		i = le32_to_cpu(vq->index);
		if (i < ARRAY_SIZE(fd->vq_enabled))
			fd->vq_enabled[i] = false;
		break;
	}
	case VIRTIO_MSG_GET_SHM: {
		const struct virtio_msg_vqueue_index *sq = q;
		struct virtio_msg_get_shm_resp_v2 *s2 = r;
		struct virtio_msg_get_shm_resp *sr = r;

		if (fb->wire == VIRTIO_MSG_WIRE_V2) {
			/* Beyond 32 bits, both of them. */
			s2->index = sq->index;
			s2->length = cpu_to_le64(sq->index ? 0 : 0x200000000ULL);
			s2->address = cpu_to_le64(sq->index ? 0 : 0x123456000ULL);
			plen = sizeof(*s2);
			break;
		}

		sr->index = sq->index;
		sr->length = cpu_to_le32(sq->index ? 0 : 0x1000);
		sr->address = cpu_to_le32(sq->index ? 0 : 0x8000);
		plen = sizeof(*sr);
		break;
	}
	}
	virtio_msg_init_response(resp, FAKE_MAX_MSG, req, 0);
	resp->msg_size = cpu_to_le16(sizeof(*resp) + plen);
	return sizeof(*resp) + plen;
}

/* GET_DEVICES: windows of at most 16 device numbers; lock held. */
static size_t fake_get_devices(struct fake_bus *fb,
			       const struct virtio_msg_hdr *req,
			       struct virtio_msg_hdr *resp)
{
	const struct virtio_msg_bus_get_devices_req *q = (const void *)(req + 1);
	struct virtio_msg_bus_get_devices_resp_v2 *r2 = (void *)(resp + 1);
	struct virtio_msg_bus_get_devices_resp *r = (void *)(resp + 1);
	u32 off = le16_to_cpu(q->offset);
	u32 count = min_t(u32, le16_to_cpu(q->count), 16);
	u32 n, next;

	virtio_msg_init_response(resp, FAKE_MAX_MSG, req,
				 sizeof(*r) + count / 8);
	for (n = 0; n < count; n++)
		if (off + n < FAKE_NR_DEVS && test_bit(off + n, fb->present))
			r->bitmap[n / 8] |= BIT(n % 8);
	next = off + count < FAKE_NR_DEVS ? off + count : 0;
	if (fb->windows++ == fb->bad_window)
		next = off + count + 3;	/* not x8 */
	if (fb->wire == VIRTIO_MSG_WIRE_V2) {
		r2->offset = q->offset;
		r2->next_offset = cpu_to_le16(next);
		r2->count = cpu_to_le16(count);
	} else {
		r->offset = q->offset;
		r->count = cpu_to_le16(count);
		r->next_offset = cpu_to_le16(next);
	}
	return le16_to_cpu(resp->msg_size);
}

static int fake_send(struct virtio_msg_bus *bus, const struct virtio_msg_hdr *msg)
{
	struct fake_bus *fb = to_fake(bus);
	u64 buf[FAKE_MAX_MSG / 8], stray[FAKE_MAX_MSG / 8];
	struct virtio_msg_hdr *resp = (void *)buf, *s = (void *)stray;
	u16 dev_num = le16_to_cpu(msg->dev_num);
	size_t size, stray_size = 0;
	enum fake_mode mode;
	unsigned long flags;

	memset(buf, 0, sizeof(buf));
	memset(stray, 0, sizeof(stray));
	spin_lock_irqsave(&fb->lock, flags);
	if (virtio_msg_is_bus(msg)) {
		fb->bus_sent[msg->msg_id]++;
		if (virtio_msg_is_response(msg)) {
			/* our answer to the test's PING */
			fb->pings++;
			fb->ping_data = ((struct virtio_msg_bus_ping *)(msg + 1))->data;
			fb->ping_token = msg->token;
			spin_unlock_irqrestore(&fb->lock, flags);
			return 0;
		}
		if (msg->msg_id >= VIRTIO_MSG_ID_IMPL && fb->drop_bus) {
			spin_unlock_irqrestore(&fb->lock, flags);
			return 0;
		}
		if (msg->msg_id >= VIRTIO_MSG_ID_IMPL) {
			size_t plen = virtio_msg_payload_size(msg);

			virtio_msg_init_response(resp, FAKE_MAX_MSG, msg, plen + 4);
			memcpy(resp + 1, msg + 1, plen);
			size = le16_to_cpu(resp->msg_size);
		} else {
			size = fake_get_devices(fb, msg, resp);
		}
		spin_unlock_irqrestore(&fb->lock, flags);
		virtio_msg_bus_receive(bus, resp, size);
		return 0;
	}

	fb->sent[msg->msg_id]++;
	if (fb->send_errno) {
		int err = fb->send_errno;

		fb->send_errno = 0;
		spin_unlock_irqrestore(&fb->lock, flags);
		return err;
	}
	if (msg->msg_id == VIRTIO_MSG_EVENT_AVAIL) {
		spin_unlock_irqrestore(&fb->lock, flags);
		return 0;
	}
	if (dev_num < FAKE_NR_DEVS)
		fb->nreq[dev_num]++;
	if (dev_num >= FAKE_NR_DEVS || !fb->devs[dev_num].exists) {
		spin_unlock_irqrestore(&fb->lock, flags);
		return 0;	/* nobody answers */
	}
	mode = fb->mode;
	fb->mode = FAKE_NORMAL;
	if (mode == FAKE_DROP) {
		memcpy(fb->dropped, msg, le16_to_cpu(msg->msg_size));
		spin_unlock_irqrestore(&fb->lock, flags);
		return 0;
	}
	size = fake_answer(fb, msg, resp);
	if (fb->event_in_config && (msg->msg_id == VIRTIO_MSG_GET_CONFIG ||
				    msg->msg_id == VIRTIO_MSG_SET_CONFIG)) {
		struct virtio_msg_event_config *ec = (void *)(s + 1);
		struct fake_dev *fd = &fb->devs[dev_num];

		/*
		 * The device changes its config after it built the answer,
		 * and the event overtakes the answer.
		 */
		fb->event_in_config = false;
		memcpy(fd->config, "EVNT", 4);
		fd->gen += 5;
		virtio_msg_init_request(s, FAKE_MAX_MSG, VIRTIO_MSG_EVENT_CONFIG,
					dev_num, sizeof(*ec) + 4);
		ec->device_status = cpu_to_le32(fd->status);
		ec->generation = cpu_to_le32(fd->gen);
		ec->offset = 0;
		ec->length = cpu_to_le32(4);
		memcpy(ec->data, "EVNT", 4);
		stray_size = le16_to_cpu(s->msg_size);
	}
	spin_unlock_irqrestore(&fb->lock, flags);

	switch (mode) {
	case FAKE_WRONG_TOKEN:
		memcpy(s, resp, size);
		s->token = cpu_to_le16(le16_to_cpu(s->token) + 7);
		stray_size = size;
		break;
	case FAKE_WRONG_MSG_ID:
		memcpy(s, resp, size);
		s->msg_id = VIRTIO_MSG_GET_DEVICE_STATUS;
		stray_size = size;
		break;
	case FAKE_WRONG_DEV_NUM:
		memcpy(s, resp, size);
		s->dev_num = cpu_to_le16(FAKE_NR_DEVS - 1);
		stray_size = size;
		break;
	case FAKE_MALFORMED:
		resp->msg_size = cpu_to_le16(--size);
		break;
	default:
		break;
	}
	if (fb->rewrite_token)
		resp->token = cpu_to_le16(le16_to_cpu(resp->token) ^ 0x5a5a);
	if (stray_size)
		virtio_msg_bus_receive(bus, s, stray_size);
	virtio_msg_bus_receive(bus, resp, size);
	return 0;
}

static int fake_send_event(struct virtio_msg_bus *bus,
			   const struct virtio_msg_hdr *msg)
{
	const struct virtio_msg_event_avail *e = (const void *)(msg + 1);
	struct fake_bus *fb = to_fake(bus);
	u32 vq = le32_to_cpu(e->vq_index);
	unsigned long flags;
	int ret = 0;

	spin_lock_irqsave(&fb->lock, flags);
	if (fb->event_fail > 0) {
		fb->event_fail--;
		ret = fb->event_errno ?: -EAGAIN;
	} else if (vq < ARRAY_SIZE(fb->avail)) {
		fb->avail[vq]++;
		fb->avail_data[vq] = le32_to_cpu(e->next_offset);
	}
	/* Not from here: the core holds its kick lock. */
	if (fb->lose_peer_on_kick)
		queue_work(system_unbound_wq, &fb->lose_work);
	spin_unlock_irqrestore(&fb->lock, flags);
	return ret;
}

static void fake_lose_work(struct work_struct *work)
{
	struct fake_bus *fb = container_of(work, struct fake_bus, lose_work);

	virtio_msg_bus_peer_lost(&fb->bus);
}

static int fake_shm_region(struct virtio_msg_bus *bus, u16 dev_num, u8 id,
			   u64 *addr, u64 len)
{
	struct fake_bus *fb = to_fake(bus);

	fb->shm_calls++;
	fb->shm_addr = *addr;
	fb->shm_len = len;
	return 0;
}

static unsigned int fb_avail_total(struct fake_bus *fb)
{
	unsigned int i, n = 0;

	for (i = 0; i < ARRAY_SIZE(fb->avail); i++)
		n += READ_ONCE(fb->avail[i]);
	return n;
}

static const struct virtio_msg_bus_ops fake_ops = {
	.send = fake_send,
	.send_event = fake_send_event,
	.shm_region = fake_shm_region,
};

static const struct virtio_msg_bus_ops fake_ops_no_event = {
	.send = fake_send,
};

static int fake_notify_vq(struct virtio_msg_bus *bus, u16 dev_num,
			  u32 vq_index, u32 data)
{
	struct fake_bus *fb = to_fake(bus);
	unsigned long flags;

	spin_lock_irqsave(&fb->lock, flags);
	if (vq_index < ARRAY_SIZE(fb->doorbells))
		fb->doorbells[vq_index]++;
	fb->doorbell_data = data;
	spin_unlock_irqrestore(&fb->lock, flags);
	return 0;
}

static void fake_bus_message(struct virtio_msg_bus *bus,
			     const struct virtio_msg_hdr *msg)
{
	struct fake_bus *fb = to_fake(bus);
	unsigned long flags;

	spin_lock_irqsave(&fb->lock, flags);
	fb->bus_events++;
	spin_unlock_irqrestore(&fb->lock, flags);
}

static struct device *fake_dma_device(struct virtio_msg_bus *bus,
				      u16 dev_num)
{
	struct fake_bus *fb = to_fake(bus);

	/* Odd device numbers have no DMA device. */
	if (dev_num & 1)
		return ERR_PTR(-ENOMEM);
	fb->dma_gets++;
	return fb->dma_dev;
}

static void fake_release_device(struct virtio_msg_bus *bus, u16 dev_num)
{
	struct fake_bus *fb = to_fake(bus);
	u64 req[2], resp[4];
	struct virtio_msg_hdr *q = (void *)req;

	fb->dma_releases++;
	/* As FF-A does before it reclaims memory: tell the peer. */
	virtio_msg_init_bus_request(q, sizeof(req), VIRTIO_MSG_ID_IMPL, 0);
	fb->release_transfer = virtio_msg_bus_transfer(bus, q, (void *)resp,
						       sizeof(resp));
}

static const struct virtio_msg_bus_ops fake_ops_dma = {
	.send = fake_send,
	.send_event = fake_send_event,
	.dma_device = fake_dma_device,
	.release_device = fake_release_device,
};

static int fake_suspend(struct virtio_msg_bus *bus)
{
	to_fake(bus)->suspends++;
	return 0;
}

static int fake_resume(struct virtio_msg_bus *bus)
{
	to_fake(bus)->resumes++;
	return 0;
}

static const struct virtio_msg_bus_ops fake_ops_oob = {
	.send = fake_send,
	.notify_vq = fake_notify_vq,
	.shm_region = fake_shm_region,
	.bus_message = fake_bus_message,
	.suspend = fake_suspend,
	.resume = fake_resume,
};

static int fake_queue_layout(struct virtio_msg_bus *bus, u16 dev_num,
			     u32 index,
			     const struct virtio_msg_queue_layout *layout)
{
	struct fake_bus *fb = to_fake(bus);
	unsigned long flags;
	int ret = 0;

	if (index >= ARRAY_SIZE(fb->layouts) || dev_num >= FAKE_NR_DEVS)
		return -EINVAL;
	spin_lock_irqsave(&fb->lock, flags);
	if (layout) {
		fb->layouts[index] = *layout;
		fb->layout_calls[index]++;
		fb->layout_set_vqueues[index] =
			fb->sent[VIRTIO_MSG_SET_VQUEUE];
		if (fb->layout_fail_index == index)
			ret = -ENOSPC;
	} else {
		fb->layout_gone[index]++;
		fb->layout_gone_status = fb->devs[dev_num].status;
	}
	spin_unlock_irqrestore(&fb->lock, flags);
	return ret;
}

static const struct virtio_msg_bus_ops fake_ops_layout = {
	.send = fake_send,
	.send_event = fake_send_event,
	.queue_layout = fake_queue_layout,
};

static void fake_unregister(void *data)
{
	struct fake_bus *fb = data;

	flush_work(&fb->lose_work);
	if (fb->bus.core)
		virtio_msg_bus_unregister(&fb->bus);
}

static struct fake_bus *fake_bus_new(struct kunit *test, unsigned long flags,
				     const struct virtio_msg_bus_ops *ops)
{
	static atomic_t fake_buses = ATOMIC_INIT(0);
	struct fake_bus *fb;
	struct device *dev;
	char name[32];

	fb = kunit_kzalloc(test, sizeof(*fb), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, fb);
	/* Several buses in one test need several names. */
	snprintf(name, sizeof(name), "virtio-msg-fake%d",
		 atomic_inc_return(&fake_buses));
	dev = kunit_device_register(test, name);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dev);

	spin_lock_init(&fb->lock);
	INIT_WORK(&fb->lose_work, fake_lose_work);
	fb->test = test;
	fb->bad_window = -1;
	fb->layout_fail_index = -1;
	fb->desc.name = "fake";
	fb->desc.ops = ops;
	fb->desc.max_msg_size = FAKE_MAX_MSG;
	fb->desc.flags = flags;
	fb->bus.parent = dev;
	fb->bus.desc = &fb->desc;
	fb->bus.timeout_ms = FAKE_TIMEOUT_MS;
	return fb;
}

static void fake_bus_start(struct kunit *test, struct fake_bus *fb)
{
	int ret;

	KUNIT_ASSERT_EQ(test, virtio_msg_bus_register(&fb->bus), 0);
	ret = kunit_add_action_or_reset(test, fake_unregister, fb);
	KUNIT_ASSERT_EQ(test, ret, 0);
	KUNIT_ASSERT_EQ(test, virtio_msg_bus_start(&fb->bus), 0);
}

/* As fake_bus_start(), after telling the core which wire the peer speaks. */
static void fake_bus_start_wire(struct kunit *test, struct fake_bus *fb,
				u8 wire, u32 features)
{
	struct virtio_msg_bus_params p = {
		.revision = VIRTIO_MSG_REVISION,
		.wire = wire,
		.features = features,
		.max_msg_size = FAKE_MAX_MSG,
	};
	int ret;

	KUNIT_ASSERT_EQ(test, virtio_msg_bus_register(&fb->bus), 0);
	ret = kunit_add_action_or_reset(test, fake_unregister, fb);
	KUNIT_ASSERT_EQ(test, ret, 0);
	KUNIT_ASSERT_EQ(test, virtio_msg_bus_set_params(&fb->bus, &p), 0);
	fb->wire = wire;
	KUNIT_ASSERT_EQ(test, virtio_msg_bus_start(&fb->bus), 0);
}

static struct fake_dev *fake_dev_add(struct fake_bus *fb, u16 dev_num,
				     u32 device_id, u32 nvqs, u32 config_size)
{
	struct fake_dev *fd = &fb->devs[dev_num];
	u32 i;

	fd->exists = true;
	fd->device_id = device_id;
	fd->nvqs = nvqs;
	fd->config_size = config_size;
	fd->gen = 7;
	fd->features = BIT_ULL(VIRTIO_F_VERSION_1);
	for (i = 0; i < config_size; i++)
		fd->config[i] = i;
	return fd;
}

#define WAIT_FOR(cond) ({						\
	unsigned int __i;						\
	bool __ok = false;						\
	for (__i = 0; __i < 500; __i++) {				\
		if (cond) {						\
			__ok = true;					\
			break;						\
		}							\
		usleep_range(10000, 20000);				\
	}								\
	__ok;								\
})

/* A device is usable once registration has returned. */
static struct virtio_msg_device *fake_wait_dev(struct fake_bus *fb, u16 dev_num)
{
	struct virtio_msg_device *vmdev = NULL;

	WAIT_FOR((vmdev = xa_load(&fb->bus.core->devs, dev_num)) &&
		 READ_ONCE(vmdev->ready));
	return vmdev && READ_ONCE(vmdev->ready) ? vmdev : NULL;
}

/* ---- the test virtio driver ---- */

static unsigned int test_drv_nvqs;
static atomic_t test_drv_probes;
static atomic_t test_drv_removes;
static struct virtqueue *test_drv_vqs[4];
static int test_drv_find_ret;
/* With test_drv_count_bounce, window bytes still mapped after del_vqs. */
static bool test_drv_count_bounce;
static long test_drv_bounce_left;

/*
 * With test_drv_spin, the probe does what virtio_console's does: it sends
 * a buffer and spins until the device used it or the queue broke, at most
 * for 10 s. test_drv_spin_result says how it ended: 1 broken, 2 used,
 * -1 neither.
 */
static bool test_drv_spin;
static bool test_drv_remove_spin;
static int test_drv_spin_result;
static u8 test_drv_buf[16];

/* Send a buffer and wait for it as virtio_console does: used or broken. */
static int test_drv_wait_for_device(struct virtqueue *vq)
{
	unsigned long end = jiffies + 10 * HZ;
	struct scatterlist sg;
	unsigned int len;
	int ret;

	sg_init_one(&sg, test_drv_buf, sizeof(test_drv_buf));
	ret = virtqueue_add_outbuf(vq, &sg, 1, test_drv_buf, GFP_KERNEL);
	if (ret)
		return ret;
	virtqueue_kick(vq);
	while (time_before(jiffies, end)) {
		if (virtqueue_is_broken(vq))
			return 1;
		if (virtqueue_get_buf(vq, &len))
			return 2;
		cond_resched();
	}
	return -1;
}

static int test_drv_probe(struct virtio_device *vdev)
{
	struct virtqueue_info info[4] = {
		{ "q0" }, { "q1" }, { "q2" }, { "q3" },
	};
	int ret;

	atomic_inc(&test_drv_probes);
	ret = virtio_find_vqs(vdev, test_drv_nvqs, test_drv_vqs, info, NULL);
	test_drv_find_ret = ret;
	if (ret || !test_drv_spin)
		return ret;

	virtio_device_ready(vdev);
	test_drv_spin_result = test_drv_wait_for_device(test_drv_vqs[0]);
	return 0;
}

static void test_drv_remove(struct virtio_device *vdev)
{
	atomic_inc(&test_drv_removes);
	if (test_drv_remove_spin)
		test_drv_spin_result = test_drv_wait_for_device(test_drv_vqs[0]);
	virtio_reset_device(vdev);
	vdev->config->del_vqs(vdev);
	if (test_drv_count_bounce)
		WRITE_ONCE(test_drv_bounce_left,
			   atomic_long_read(&vmsg_dma_dev_ctx(vdev->dev.parent)->bounce_bytes));
}

static const struct virtio_device_id test_drv_ids[] = {
	{ VMSG_TEST_ID_DRIVER, VIRTIO_DEV_ANY_ID },
	{ 0 },
};

/* A device bit the driver takes, for the feature policy tests. */
#define TEST_DRV_F_LONG		3

static const unsigned int test_drv_features[] = { TEST_DRV_F_LONG };

static struct virtio_driver test_drv = {
	.driver.name	= "virtio_msg_transport_kunit",
	.feature_table	= test_drv_features,
	.feature_table_size = ARRAY_SIZE(test_drv_features),
	.id_table	= test_drv_ids,
	.probe		= test_drv_probe,
	.remove		= test_drv_remove,
};

/* ---- tests ---- */

/*
 * The probe sequence: every message the core and the virtio core need to
 * bring up a device with N queues and 8 bytes of config space, in order.
 */
static void vmsg_test_probe_count(struct kunit *test)
{
	const unsigned int nvqs = *(const unsigned int *)test->param_value;
	struct virtio_msg_device *vmdev;
	struct fake_bus *fb;
	unsigned int expected = 9 + 2 * nvqs;

	fb = fake_bus_new(test, 0, &fake_ops);
	fake_dev_add(fb, 1, VMSG_TEST_ID_DRIVER, nvqs, 8);
	test_drv_nvqs = nvqs;
	atomic_set(&test_drv_probes, 0);
	fake_bus_start(test, fb);
	KUNIT_ASSERT_EQ(test, virtio_msg_bus_add_device(&fb->bus, 1), 0);

	vmdev = fake_wait_dev(fb, 1);
	KUNIT_ASSERT_NOT_NULL(test, vmdev);
	KUNIT_ASSERT_TRUE(test, WAIT_FOR(vmdev->status &
					 VIRTIO_CONFIG_S_DRIVER_OK));
	KUNIT_EXPECT_EQ(test, atomic_read(&test_drv_probes), 1);

	KUNIT_EXPECT_EQ(test, fb->nreq[1], expected);
	KUNIT_EXPECT_EQ(test, vmdev->stats.probe_round_trips, expected);
	KUNIT_EXPECT_EQ(test, fb->sent[VIRTIO_MSG_GET_DEVICE_INFO], 1);
	KUNIT_EXPECT_EQ(test, fb->sent[VIRTIO_MSG_GET_CONFIG], 1);
	KUNIT_EXPECT_EQ(test, fb->sent[VIRTIO_MSG_SET_DEVICE_STATUS], 5);
	KUNIT_EXPECT_EQ(test, fb->sent[VIRTIO_MSG_GET_DEVICE_STATUS], 0);
	KUNIT_EXPECT_EQ(test, fb->sent[VIRTIO_MSG_GET_DEVICE_FEATURES], 1);
	KUNIT_EXPECT_EQ(test, fb->sent[VIRTIO_MSG_SET_DRIVER_FEATURES], 1);
	KUNIT_EXPECT_EQ(test, fb->sent[VIRTIO_MSG_GET_VQUEUE], nvqs);
	KUNIT_EXPECT_EQ(test, fb->sent[VIRTIO_MSG_SET_VQUEUE], nvqs);
	KUNIT_EXPECT_EQ(test, fb->devs[1].vq_size[0], FAKE_VQ_SIZE);
	KUNIT_EXPECT_TRUE(test, fb->devs[1].drv_features &
			  BIT_ULL(VIRTIO_F_VERSION_1));
	KUNIT_EXPECT_EQ(test, fb->devs[1].status,
			VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
			VIRTIO_CONFIG_S_FEATURES_OK |
			VIRTIO_CONFIG_S_DRIVER_OK);
	KUNIT_EXPECT_STREQ(test, vmdev->vdev.config->bus_name(&vmdev->vdev),
			   "fake");
}

static const unsigned int vmsg_test_nvqs[] = { 1, 2 };

static void vmsg_nvqs_desc(const unsigned int *n, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%u queue(s)", *n);
}

KUNIT_ARRAY_PARAM(vmsg_nvqs, vmsg_test_nvqs, vmsg_nvqs_desc);

/* Config space: cached reads, generation, a rejected write, events. */
static void vmsg_test_config(struct kunit *test)
{
	struct virtio_msg_device *vmdev;
	struct virtio_device *vdev;
	struct fake_dev *fd;
	struct fake_bus *fb;
	u8 ev[64] __aligned(8) = {};
	u8 buf[300];
	struct virtio_msg_hdr *h = (void *)ev;
	struct virtio_msg_event_config *ec = (void *)(h + 1);
	unsigned int i, gets;
	u32 gen;

	fb = fake_bus_new(test, 0, &fake_ops);
	/* 300 bytes: two GET_CONFIG chunks of at most 244 bytes. */
	fd = fake_dev_add(fb, 2, VMSG_TEST_ID_NODRIVER, 0, 300);
	fake_bus_start(test, fb);
	KUNIT_ASSERT_EQ(test, virtio_msg_bus_add_device(&fb->bus, 2), 0);
	vmdev = fake_wait_dev(fb, 2);
	KUNIT_ASSERT_NOT_NULL(test, vmdev);
	vdev = &vmdev->vdev;

	KUNIT_EXPECT_EQ(test, fb->sent[VIRTIO_MSG_GET_CONFIG], 2);
	gets = fb->sent[VIRTIO_MSG_GET_CONFIG];
	vdev->config->get(vdev, 0, buf, 300);
	for (i = 0; i < 300; i++)
		if (buf[i] != (u8)i)
			break;
	KUNIT_EXPECT_EQ(test, i, 300);
	KUNIT_EXPECT_EQ(test, vmdev->dev_generation, 7);
	gen = vdev->config->generation(vdev);
	/* Reads are served from the cache. */
	KUNIT_EXPECT_EQ(test, fb->sent[VIRTIO_MSG_GET_CONFIG], gets);

	/* The device moved on: the write is rejected, re-read, retried. */
	fd->reject_stale = true;
	fd->gen = 9;
	vdev->config->set(vdev, 250, "abcd", 4);
	KUNIT_EXPECT_EQ(test, fb->sent[VIRTIO_MSG_SET_CONFIG], 2);
	KUNIT_EXPECT_EQ(test, fb->sent[VIRTIO_MSG_GET_CONFIG], gets + 2);
	KUNIT_EXPECT_MEMEQ(test, &fd->config[250], "abcd", 4);
	vdev->config->get(vdev, 250, buf, 4);
	KUNIT_EXPECT_MEMEQ(test, buf, "abcd", 4);
	KUNIT_EXPECT_EQ(test, vmdev->dev_generation, 9);
	KUNIT_EXPECT_GT(test, vdev->config->generation(vdev), gen);
	gen = vdev->config->generation(vdev);

	/* EVENT_CONFIG with data updates the cache without a message. */
	gets = fb->sent[VIRTIO_MSG_GET_CONFIG];
	virtio_msg_init_request(h, sizeof(ev), VIRTIO_MSG_EVENT_CONFIG, 2,
				sizeof(*ec) + 4);
	ec->generation = cpu_to_le32(10);
	ec->offset = cpu_to_le32(8);
	ec->length = cpu_to_le32(4);
	memcpy(ec->data, "wxyz", 4);
	virtio_msg_bus_receive(&fb->bus, ev, le16_to_cpu(h->msg_size));
	vdev->config->get(vdev, 8, buf, 4);
	KUNIT_EXPECT_MEMEQ(test, buf, "wxyz", 4);
	KUNIT_EXPECT_EQ(test, vmdev->dev_generation, 10);
	KUNIT_EXPECT_GT(test, vdev->config->generation(vdev), gen);
	gen = vdev->config->generation(vdev);
	KUNIT_EXPECT_EQ(test, fb->sent[VIRTIO_MSG_GET_CONFIG], gets);

	/* Data beyond the config space is dropped. */
	ec->offset = cpu_to_le32(298);
	ec->generation = cpu_to_le32(11);
	virtio_msg_bus_receive(&fb->bus, ev, le16_to_cpu(h->msg_size));
	KUNIT_EXPECT_EQ(test, vmdev->dev_generation, 10);
	KUNIT_EXPECT_EQ(test, vdev->config->generation(vdev), gen);

	/* Without data, a new generation makes the core re-read. */
	fd->gen = 12;
	fd->config[100] = 0xee;
	virtio_msg_init_request(h, sizeof(ev), VIRTIO_MSG_EVENT_CONFIG, 2,
				sizeof(*ec));
	ec->generation = cpu_to_le32(12);
	ec->offset = 0;
	ec->length = 0;
	virtio_msg_bus_receive(&fb->bus, ev, le16_to_cpu(h->msg_size));
	KUNIT_EXPECT_TRUE(test, WAIT_FOR(READ_ONCE(vmdev->dev_generation) == 12));
	KUNIT_EXPECT_GT(test, vdev->config->generation(vdev), gen);
	vdev->config->get(vdev, 100, buf, 1);
	KUNIT_EXPECT_EQ(test, buf[0], 0xee);
	KUNIT_EXPECT_EQ(test, fb->sent[VIRTIO_MSG_GET_CONFIG], gets + 2);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&vmdev->stats.received[VMSG_STAT_EVENT_CONFIG]), 3);
}

/* The device clears FEATURES_OK: the driver never gets to probe. */
static void vmsg_test_features_refused(struct kunit *test)
{
	struct virtio_msg_device *vmdev;
	struct fake_bus *fb;

	fb = fake_bus_new(test, 0, &fake_ops);
	fake_dev_add(fb, 3, VMSG_TEST_ID_DRIVER, 1, 8)->refuse_features = true;
	test_drv_nvqs = 1;
	atomic_set(&test_drv_probes, 0);
	fake_bus_start(test, fb);
	KUNIT_ASSERT_EQ(test, virtio_msg_bus_add_device(&fb->bus, 3), 0);
	vmdev = fake_wait_dev(fb, 3);
	KUNIT_ASSERT_NOT_NULL(test, vmdev);

	KUNIT_EXPECT_TRUE(test, WAIT_FOR(fb->devs[3].status &
					 VIRTIO_CONFIG_S_FAILED));
	KUNIT_EXPECT_FALSE(test, vmdev->status & VIRTIO_CONFIG_S_FEATURES_OK);
	KUNIT_EXPECT_EQ(test, atomic_read(&test_drv_probes), 0);
	KUNIT_EXPECT_EQ(test, fb->sent[VIRTIO_MSG_GET_VQUEUE], 0);
}

static struct virtio_msg_device *fake_simple(struct kunit *test,
					     struct fake_bus **fbp, u16 dev_num)
{
	struct virtio_msg_device *vmdev;
	struct fake_bus *fb;

	fb = fake_bus_new(test, 0, &fake_ops);
	fake_dev_add(fb, dev_num, VMSG_TEST_ID_NODRIVER, 2, 8);
	fake_bus_start(test, fb);
	KUNIT_EXPECT_EQ(test, virtio_msg_bus_add_device(&fb->bus, dev_num), 0);
	vmdev = fake_wait_dev(fb, dev_num);
	KUNIT_ASSERT_NOT_NULL(test, vmdev);
	*fbp = fb;
	return vmdev;
}

static bool vmsg_get_shm(struct virtio_msg_device *vmdev)
{
	struct virtio_shm_region r = {};

	return vmdev->vdev.config->get_shm_region(&vmdev->vdev, &r, 0) &&
	       r.addr == 0x8000 && r.len == 0x1000;
}

/* Stray responses are dropped and counted; the real one still counts. */
static void vmsg_test_token_matching(struct kunit *test)
{
	struct virtio_msg_device *vmdev;
	struct virtio_shm_region r;
	struct fake_bus *fb;
	long bad;

	vmdev = fake_simple(test, &fb, 4);

	fb->mode = FAKE_WRONG_TOKEN;
	KUNIT_EXPECT_TRUE(test, vmsg_get_shm(vmdev));
	KUNIT_EXPECT_EQ(test, atomic_long_read(&vmdev->stats.unmatched), 1);

	fb->mode = FAKE_WRONG_MSG_ID;
	KUNIT_EXPECT_TRUE(test, vmsg_get_shm(vmdev));
	KUNIT_EXPECT_EQ(test, atomic_long_read(&vmdev->stats.unmatched), 2);

	bad = atomic_long_read(&fb->bus.core->stats.bad_messages);
	fb->mode = FAKE_WRONG_DEV_NUM;
	KUNIT_EXPECT_TRUE(test, vmsg_get_shm(vmdev));
	KUNIT_EXPECT_EQ(test, atomic_long_read(&fb->bus.core->stats.bad_messages),
			bad + 1);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&vmdev->stats.unmatched), 2);

	/* A region the device does not have. */
	KUNIT_EXPECT_FALSE(test, vmdev->vdev.config->get_shm_region(&vmdev->vdev,
								    &r, 1));
	KUNIT_EXPECT_FALSE(test, READ_ONCE(vmdev->broken));
	KUNIT_EXPECT_EQ(test, atomic_long_read(&vmdev->stats.timeouts), 0);
}

/* No answer: the device breaks, later requests fail, the late reply counts. */
static void vmsg_test_timeout(struct kunit *test)
{
	struct virtio_msg_device *vmdev;
	u64 late[FAKE_MAX_MSG / 8];
	struct virtio_msg_hdr *lh = (void *)late;
	struct fake_bus *fb;
	unsigned int sent;
	size_t size;

	vmdev = fake_simple(test, &fb, 5);

	fb->mode = FAKE_DROP;
	KUNIT_EXPECT_FALSE(test, vmsg_get_shm(vmdev));
	KUNIT_EXPECT_TRUE(test, READ_ONCE(vmdev->broken));
	KUNIT_EXPECT_EQ(test, atomic_long_read(&vmdev->stats.timeouts), 1);

	/* Pending and later work fails with -EIO, without a message. */
	sent = fb->nreq[5];
	__virtio_set_bit(&vmdev->vdev, VIRTIO_F_VERSION_1);
	KUNIT_EXPECT_EQ(test,
			vmdev->vdev.config->finalize_features(&vmdev->vdev),
			-EIO);
	KUNIT_EXPECT_EQ(test, fb->nreq[5], sent);

	/* The answer to the dropped request arrives after all. */
	memset(late, 0, sizeof(late));
	size = fake_answer(fb, (void *)fb->dropped, lh);
	virtio_msg_bus_receive(&fb->bus, late, size);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&vmdev->stats.late_replies), 1);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&vmdev->stats.unmatched), 0);
}

/* A malformed answer breaks the device at once, without a timeout. */
static void vmsg_test_malformed(struct kunit *test)
{
	struct virtio_msg_device *vmdev;
	u8 junk[16] __aligned(8) = { VIRTIO_MSG_TYPE_RESPONSE,
				     VIRTIO_MSG_GET_SHM, 6, 0, 0, 0, 200, 0 };
	struct fake_bus *fb;
	long bad;

	vmdev = fake_simple(test, &fb, 6);

	/* msg_size larger than what was received: dropped, nothing else. */
	bad = atomic_long_read(&fb->bus.core->stats.bad_messages);
	virtio_msg_bus_receive(&fb->bus, junk, sizeof(junk));
	virtio_msg_bus_receive(&fb->bus, junk, 3);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&fb->bus.core->stats.bad_messages),
			bad + 1);
	KUNIT_EXPECT_FALSE(test, READ_ONCE(vmdev->broken));

	fb->mode = FAKE_MALFORMED;
	KUNIT_EXPECT_FALSE(test, vmsg_get_shm(vmdev));
	KUNIT_EXPECT_TRUE(test, READ_ONCE(vmdev->broken));
	KUNIT_EXPECT_EQ(test, atomic_long_read(&vmdev->stats.timeouts), 0);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&vmdev->stats.bad_messages), 1);
}

/* The bus refuses kicks for a while: they coalesce, none is lost. */
static void vmsg_test_kick_coalescing(struct kunit *test)
{
	struct virtqueue_info info[2] = { { "a" }, { "b" } };
	struct virtio_msg_device *vmdev;
	struct virtqueue *vqs[2];
	struct fake_bus *fb;
	unsigned long flags;
	int ret;

	vmdev = fake_simple(test, &fb, 7);
	ret = vmdev->vdev.config->find_vqs(&vmdev->vdev, 2, vqs, info, NULL);
	KUNIT_ASSERT_EQ(test, ret, 0);

	KUNIT_EXPECT_TRUE(test, virtqueue_notify(vqs[0]));
	KUNIT_EXPECT_EQ(test, fb->avail[0], 1);

	/* The bus is full: three kicks, all kept, retried, coalesced. */
	spin_lock_irqsave(&fb->lock, flags);
	fb->event_fail = INT_MAX;
	spin_unlock_irqrestore(&fb->lock, flags);
	KUNIT_EXPECT_TRUE(test, virtqueue_notify(vqs[0]));
	KUNIT_EXPECT_TRUE(test, virtqueue_notify(vqs[0]));
	KUNIT_EXPECT_TRUE(test, virtqueue_notify(vqs[0]));
	msleep(50);
	KUNIT_EXPECT_EQ(test, READ_ONCE(fb->avail[0]), 1);
	KUNIT_EXPECT_LT(test, READ_ONCE(fb->event_fail), INT_MAX - 1);
	KUNIT_EXPECT_GE(test, atomic_long_read(&vmdev->stats.kicks_deferred), 1);
	/* Room again: exactly one more EVENT_AVAIL. */
	spin_lock_irqsave(&fb->lock, flags);
	fb->event_fail = 0;
	spin_unlock_irqrestore(&fb->lock, flags);
	virtio_msg_bus_tx_ready(&fb->bus);
	KUNIT_EXPECT_TRUE(test, WAIT_FOR(READ_ONCE(fb->avail[0]) == 2));

	/* Two queues refused once each; tx_ready resends both. */
	spin_lock_irqsave(&fb->lock, flags);
	fb->event_fail = 2;
	spin_unlock_irqrestore(&fb->lock, flags);
	KUNIT_EXPECT_TRUE(test, virtqueue_notify(vqs[1]));
	KUNIT_EXPECT_TRUE(test, virtqueue_notify(vqs[0]));
	virtio_msg_bus_tx_ready(&fb->bus);
	KUNIT_EXPECT_TRUE(test, WAIT_FOR(READ_ONCE(fb->avail[0]) == 3 &&
					 READ_ONCE(fb->avail[1]) == 1));
	msleep(50);
	KUNIT_EXPECT_EQ(test, fb->avail[0], 3);
	KUNIT_EXPECT_EQ(test, fb->avail[1], 1);
	KUNIT_EXPECT_EQ(test, fb->sent[VIRTIO_MSG_EVENT_AVAIL], 0);

	vmdev->vdev.config->del_vqs(&vmdev->vdev);
}

/*
 * What the core tells a device side taking a device over: the cached
 * status, the features once negotiated, each queue's set-up; and one
 * EVENT_AVAIL per live queue when asked, none once the device broke.
 */
static void vmsg_test_device_state(struct kunit *test)
{
	const u8 fok = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
		       VIRTIO_CONFIG_S_FEATURES_OK;
	struct virtqueue_info info[2] = { { "a" }, { "b" } };
	struct virtio_msg_device_state st;
	struct virtio_msg_device *vmdev;
	struct virtqueue *vqs[2];
	struct fake_bus *fb;
	unsigned int i;
	int ret;

	vmdev = fake_simple(test, &fb, 7);
	KUNIT_EXPECT_EQ(test, virtio_msg_bus_device_state(&fb->bus, 9, 0, &st),
			-ENODEV);
	KUNIT_ASSERT_EQ(test, virtio_msg_bus_device_state(&fb->bus, 7, 0, &st),
			0);
	KUNIT_EXPECT_EQ(test, st.device_id, VMSG_TEST_ID_NODRIVER);
	KUNIT_EXPECT_EQ(test, st.num_queues, 0);
	KUNIT_EXPECT_FALSE(test, st.vq.enabled);
	KUNIT_EXPECT_FALSE(test, st.broken);
	KUNIT_EXPECT_EQ(test, st.config_generation, 7);

	/* Features count once the device took FEATURES_OK. */
	vmdev->vdev.features = BIT_ULL(VIRTIO_F_VERSION_1);
	vmdev->vdev.config->set_status(&vmdev->vdev,
				       VIRTIO_CONFIG_S_ACKNOWLEDGE |
				       VIRTIO_CONFIG_S_DRIVER);
	KUNIT_ASSERT_EQ(test, virtio_msg_bus_device_state(&fb->bus, 7, 0, &st),
			0);
	KUNIT_EXPECT_EQ(test, st.features, 0);
	vmdev->vdev.config->set_status(&vmdev->vdev, fok);
	ret = vmdev->vdev.config->find_vqs(&vmdev->vdev, 2, vqs, info, NULL);
	KUNIT_ASSERT_EQ(test, ret, 0);
	for (i = 0; i < 2; i++) {
		KUNIT_ASSERT_EQ(test,
				virtio_msg_bus_device_state(&fb->bus, 7, i,
							    &st), 0);
		KUNIT_EXPECT_EQ(test, st.status, fok);
		KUNIT_EXPECT_EQ(test, st.features, BIT_ULL(VIRTIO_F_VERSION_1));
		KUNIT_EXPECT_EQ(test, st.num_queues, 2);
		KUNIT_EXPECT_TRUE(test, st.vq.enabled);
		KUNIT_EXPECT_EQ(test, st.vq.size,
				virtqueue_get_vring_size(vqs[i]));
		KUNIT_EXPECT_EQ(test, st.vq.desc,
				virtqueue_get_desc_addr(vqs[i]));
		KUNIT_EXPECT_EQ(test, st.vq.driver,
				virtqueue_get_avail_addr(vqs[i]));
		KUNIT_EXPECT_EQ(test, st.vq.device,
				virtqueue_get_used_addr(vqs[i]));
	}
	KUNIT_ASSERT_EQ(test, virtio_msg_bus_device_state(&fb->bus, 7, 2, &st),
			0);
	KUNIT_EXPECT_FALSE(test, st.vq.enabled);
	KUNIT_EXPECT_EQ(test, st.vq.size, 0);

	/* One EVENT_AVAIL per live queue. */
	virtio_msg_bus_kick_device(&fb->bus, 7);
	KUNIT_EXPECT_TRUE(test, WAIT_FOR(READ_ONCE(fb->avail[0]) == 1 &&
					 READ_ONCE(fb->avail[1]) == 1));
	virtio_msg_bus_kick_device(&fb->bus, 9);	/* no such device */

	virtio_msg_bus_peer_lost(&fb->bus);
	KUNIT_EXPECT_TRUE(test,
			  WAIT_FOR(!virtio_msg_bus_device_state(&fb->bus, 7, 0,
								&st) &&
				   st.broken));
	virtio_msg_bus_kick_device(&fb->bus, 7);
	msleep(50);
	KUNIT_EXPECT_EQ(test, READ_ONCE(fb->avail[0]), 1);
	KUNIT_EXPECT_EQ(test, READ_ONCE(fb->avail[1]), 1);

	vmdev->vdev.config->del_vqs(&vmdev->vdev);
	KUNIT_ASSERT_EQ(test, virtio_msg_bus_device_state(&fb->bus, 7, 0, &st),
			0);
	KUNIT_EXPECT_EQ(test, st.num_queues, 0);
}

/* Without send_event, kicks go out with send from a work item. */
static void vmsg_test_kick_no_send_event(struct kunit *test)
{
	struct virtqueue_info info[1] = { { "a" } };
	struct virtio_msg_device *vmdev;
	struct virtqueue *vqs[1];
	struct fake_bus *fb;
	long deferred;
	int i, ret;

	fb = fake_bus_new(test, 0, &fake_ops_no_event);
	fake_dev_add(fb, 8, VMSG_TEST_ID_NODRIVER, 1, 0);
	fake_bus_start(test, fb);
	KUNIT_ASSERT_EQ(test, virtio_msg_bus_add_device(&fb->bus, 8), 0);
	vmdev = fake_wait_dev(fb, 8);
	KUNIT_ASSERT_NOT_NULL(test, vmdev);
	ret = vmdev->vdev.config->find_vqs(&vmdev->vdev, 1, vqs, info, NULL);
	KUNIT_ASSERT_EQ(test, ret, 0);
	KUNIT_EXPECT_TRUE(test, virtqueue_notify(vqs[0]));
	KUNIT_EXPECT_TRUE(test,
			  WAIT_FOR(READ_ONCE(fb->sent[VIRTIO_MSG_EVENT_AVAIL]) == 1));
	KUNIT_EXPECT_EQ(test, atomic_long_read(&vmdev->stats.kicks_deferred), 1);

	/*
	 * Every kick is deferred, or merged into one still pending: one
	 * message per deferred kick, none for a merged one.
	 */
	for (i = 0; i < 200; i++)
		KUNIT_EXPECT_TRUE(test, virtqueue_notify(vqs[0]));
	KUNIT_EXPECT_TRUE(test,
			  WAIT_FOR(!test_bit(0, vmdev->kick_pending) &&
				   !work_pending(&vmdev->kick_work)));
	flush_work(&vmdev->kick_work);
	deferred = atomic_long_read(&vmdev->stats.kicks_deferred);
	KUNIT_EXPECT_EQ(test, deferred +
			atomic_long_read(&vmdev->stats.kicks_coalesced), 201);
	KUNIT_EXPECT_EQ(test, READ_ONCE(fb->sent[VIRTIO_MSG_EVENT_AVAIL]),
			deferred);
	kunit_info(test, "201 kicks: %ld messages, %ld merged\n", deferred,
		   atomic_long_read(&vmdev->stats.kicks_coalesced));
	vmdev->vdev.config->del_vqs(&vmdev->vdev);
}

static void fake_event(struct fake_bus *fb, u16 dev_num, u8 msg_id,
		       const void *payload, size_t len)
{
	u64 buf[8] = {};
	struct virtio_msg_hdr *h = (void *)buf;

	virtio_msg_init_request(h, sizeof(buf), msg_id, dev_num, len);
	memcpy(h + 1, payload, len);
	virtio_msg_bus_receive(&fb->bus, buf, sizeof(*h) + len);
}

/* EVENT_USED routing, virtqueue reset and DEVICE_NEEDS_RESET. */
static void vmsg_test_vq_events(struct kunit *test)
{
	struct virtqueue_info info[2] = { { "a" }, { "b" } };
	struct virtio_msg_event_config ec = {};
	struct virtio_msg_vqueue_index used;
	struct virtio_msg_device *vmdev;
	struct virtio_device *vdev;
	struct virtqueue *vqs[2];
	struct fake_bus *fb;
	long bad;
	int ret;

	vmdev = fake_simple(test, &fb, 10);
	vdev = &vmdev->vdev;
	ret = vdev->config->find_vqs(vdev, 2, vqs, info, NULL);
	KUNIT_ASSERT_EQ(test, ret, 0);

	/* A queue the device does not have is dropped and counted. */
	bad = atomic_long_read(&fb->bus.core->stats.bad_messages);
	used.index = cpu_to_le32(9);
	fake_event(fb, 10, VIRTIO_MSG_EVENT_USED, &used, sizeof(used));
	used.index = cpu_to_le32(1);
	fake_event(fb, 10, VIRTIO_MSG_EVENT_USED, &used, sizeof(used));
	KUNIT_EXPECT_EQ(test, atomic_long_read(&fb->bus.core->stats.bad_messages),
			bad + 1);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&vmdev->stats.received[VMSG_STAT_EVENT_USED]),
			2);
	vdev->config->synchronize_cbs(vdev);

	/* Queue reset only with VIRTIO_F_RING_RESET. */
	KUNIT_EXPECT_EQ(test, vdev->config->disable_vq_and_reset(vqs[0]),
			-ENOENT);
	__virtio_set_bit(vdev, VIRTIO_F_RING_RESET);
	KUNIT_EXPECT_EQ(test, vdev->config->disable_vq_and_reset(vqs[0]), 0);
	KUNIT_EXPECT_EQ(test, fb->sent[VIRTIO_MSG_RESET_VQUEUE], 1);
	KUNIT_EXPECT_TRUE(test, vqs[0]->reset);
	KUNIT_EXPECT_EQ(test, vdev->config->enable_vq_after_reset(vqs[0]), 0);
	KUNIT_EXPECT_EQ(test, fb->sent[VIRTIO_MSG_SET_VQUEUE], 3);
	KUNIT_EXPECT_FALSE(test, vqs[0]->reset);

	/* Before DRIVER_OK, DEVICE_NEEDS_RESET means nothing. */
	ec.device_status = cpu_to_le32(VIRTIO_CONFIG_S_ACKNOWLEDGE |
				       VIRTIO_CONFIG_S_NEEDS_RESET);
	ec.generation = cpu_to_le32(vmdev->dev_generation);
	fake_event(fb, 10, VIRTIO_MSG_EVENT_CONFIG, &ec, sizeof(ec));
	KUNIT_EXPECT_EQ(test, vdev->config->get_status(vdev),
			VIRTIO_CONFIG_S_ACKNOWLEDGE);
	KUNIT_EXPECT_FALSE(test, virtqueue_is_broken(vqs[1]));

	/* The device needs a reset: the queues stop, the status says so. */
	vdev->config->set_status(vdev, VIRTIO_CONFIG_S_ACKNOWLEDGE |
				 VIRTIO_CONFIG_S_DRIVER_OK);
	ec.device_status = cpu_to_le32(VIRTIO_CONFIG_S_ACKNOWLEDGE |
				       VIRTIO_CONFIG_S_DRIVER_OK |
				       VIRTIO_CONFIG_S_NEEDS_RESET);
	fake_event(fb, 10, VIRTIO_MSG_EVENT_CONFIG, &ec, sizeof(ec));
	KUNIT_EXPECT_EQ(test, vdev->config->get_status(vdev),
			VIRTIO_CONFIG_S_ACKNOWLEDGE |
			VIRTIO_CONFIG_S_DRIVER_OK |
			VIRTIO_CONFIG_S_NEEDS_RESET);
	KUNIT_EXPECT_TRUE(test, virtqueue_is_broken(vqs[1]));

	/* The driver never writes the device's bit back. */
	vdev->config->set_status(vdev, vdev->config->get_status(vdev) |
				 VIRTIO_CONFIG_S_FAILED);
	KUNIT_EXPECT_FALSE(test, fb->devs[10].status &
			   VIRTIO_CONFIG_S_NEEDS_RESET);

	/* After a reset the bit is gone, and a late one is ignored. */
	vdev->config->reset(vdev);
	KUNIT_EXPECT_EQ(test, vdev->config->get_status(vdev), 0);
	fake_event(fb, 10, VIRTIO_MSG_EVENT_CONFIG, &ec, sizeof(ec));
	KUNIT_EXPECT_EQ(test, vdev->config->get_status(vdev), 0);

	vdev->config->del_vqs(vdev);
}

/* What EVENT_AVAIL carries with VIRTIO_F_NOTIFICATION_DATA. */
static void vmsg_test_notification_data(struct kunit *test)
{
	static const u16 devs[] = { 11, 12 };
	struct virtqueue_info info[1] = { { "a" } };
	struct virtio_msg_device *vmdev;
	struct virtqueue *vqs[1];
	struct scatterlist sg;
	struct fake_bus *fb;
	unsigned int i;
	u8 *buf;
	int ret;

	buf = kunit_kzalloc(test, 16, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	fb = fake_bus_new(test, 0, &fake_ops);
	for (i = 0; i < ARRAY_SIZE(devs); i++)
		fake_dev_add(fb, devs[i], VMSG_TEST_ID_NODRIVER, 1, 0);
	fake_bus_start(test, fb);

	for (i = 0; i < ARRAY_SIZE(devs); i++) {
		KUNIT_ASSERT_EQ(test, virtio_msg_bus_add_device(&fb->bus,
								devs[i]), 0);
		vmdev = fake_wait_dev(fb, devs[i]);
		KUNIT_ASSERT_NOT_NULL(test, vmdev);
		__virtio_set_bit(&vmdev->vdev, VIRTIO_F_NOTIFICATION_DATA);
		/* The second device uses a packed ring. */
		if (i)
			__virtio_set_bit(&vmdev->vdev, VIRTIO_F_RING_PACKED);
		ret = vmdev->vdev.config->find_vqs(&vmdev->vdev, 1, vqs, info,
						   NULL);
		KUNIT_ASSERT_EQ(test, ret, 0);

		sg_init_one(&sg, buf, 16);
		ret = virtqueue_add_outbuf(vqs[0], &sg, 1, buf, GFP_KERNEL);
		KUNIT_ASSERT_EQ(test, ret, 0);
		KUNIT_EXPECT_TRUE(test, virtqueue_kick(vqs[0]));
		/*
		 * Split: the 16-bit avail index (1). Packed: the next offset
		 * (1) with the wrap counter (1 on a new ring) in bit 31.
		 */
		KUNIT_EXPECT_EQ(test, fb->avail_data[0],
				i ? VIRTIO_MSG_AVAIL_WRAP | 1 : 1);
		virtqueue_detach_unused_buf(vqs[0]);
		vmdev->vdev.config->del_vqs(&vmdev->vdev);
	}
}

/*
 * Out-of-band doorbells: the bus refuses notification data, kicks go to
 * notify_vq; bus-specific requests and events reach the bus module.
 */
static void vmsg_test_oob_and_bus_messages(struct kunit *test)
{
	struct virtqueue_info info[2] = { { "a" }, { "b" } };
	struct virtio_msg_device *vmdev;
	struct virtio_device *vdev;
	struct virtqueue *vqs[2];
	struct fake_bus *fb;
	u64 req[2], resp[4];
	struct virtio_msg_hdr *q = (void *)req, *r = (void *)resp;
	long bad;
	int ret;

	fb = fake_bus_new(test, VIRTIO_MSG_BUS_F_OOB_NOTIFY |
			  VIRTIO_MSG_BUS_F_NO_NOTIFICATION_DATA, &fake_ops_oob);
	fake_dev_add(fb, 13, VMSG_TEST_ID_NODRIVER, 2, 0)->features |=
		BIT_ULL(VIRTIO_F_NOTIFICATION_DATA);
	fake_bus_start(test, fb);
	KUNIT_ASSERT_EQ(test, virtio_msg_bus_add_device(&fb->bus, 13), 0);
	vmdev = fake_wait_dev(fb, 13);
	KUNIT_ASSERT_NOT_NULL(test, vmdev);
	vdev = &vmdev->vdev;

	vdev->features = vdev->config->get_features(vdev);
	KUNIT_EXPECT_TRUE(test, __virtio_test_bit(vdev,
						  VIRTIO_F_NOTIFICATION_DATA));
	KUNIT_EXPECT_EQ(test, vdev->config->finalize_features(vdev), 0);
	KUNIT_EXPECT_FALSE(test, __virtio_test_bit(vdev,
						   VIRTIO_F_NOTIFICATION_DATA));
	KUNIT_EXPECT_EQ(test, fb->devs[13].drv_features,
			BIT_ULL(VIRTIO_F_VERSION_1));

	ret = vdev->config->find_vqs(vdev, 2, vqs, info, NULL);
	KUNIT_ASSERT_EQ(test, ret, 0);
	KUNIT_EXPECT_TRUE(test, virtqueue_notify(vqs[1]));
	KUNIT_EXPECT_EQ(test, fb->doorbells[1], 1);
	KUNIT_EXPECT_EQ(test, fb->doorbell_data, 0);
	KUNIT_EXPECT_EQ(test, fb->sent[VIRTIO_MSG_EVENT_AVAIL], 0);
	vdev->config->del_vqs(vdev);

	/* A bus-specific request and its response. */
	virtio_msg_init_bus_request(q, sizeof(req), VIRTIO_MSG_ID_IMPL, 4);
	memcpy(q + 1, "vers", 4);
	ret = virtio_msg_bus_transfer(&fb->bus, q, r, sizeof(resp));
	KUNIT_EXPECT_EQ(test, ret, 16);
	KUNIT_EXPECT_TRUE(test, virtio_msg_is_response(r));
	KUNIT_EXPECT_NE(test, le16_to_cpu(r->token), 0);
	KUNIT_EXPECT_MEMEQ(test, r + 1, "vers", 4);
	/* A response longer than the caller's buffer is refused. */
	ret = virtio_msg_bus_transfer(&fb->bus, q, r, 12);
	KUNIT_EXPECT_EQ(test, ret, -EPROTO);

	/* A bus-specific event goes to the bus; an unknown message does not. */
	bad = atomic_long_read(&fb->bus.core->stats.bad_messages);
	virtio_msg_init_bus_request(q, sizeof(req), 0xc0, 2);
	virtio_msg_bus_receive(&fb->bus, req, 10);
	virtio_msg_init_bus_request(q, sizeof(req), 0x05, 2);
	virtio_msg_bus_receive(&fb->bus, req, 10);
	KUNIT_EXPECT_EQ(test, fb->bus_events, 1);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&fb->bus.core->stats.bad_messages),
			bad + 1);
}

struct vmsg_async_req {
	struct work_struct work;
	struct virtio_msg_device *vmdev;
	struct virtio_msg_bus *bus;
	bool result;
	int err;
};

static void vmsg_async_get_shm(struct work_struct *work)
{
	struct vmsg_async_req *a = container_of(work, struct vmsg_async_req,
						work);

	a->result = vmsg_get_shm(a->vmdev);
}

/* The peer is lost: what waits gives up at once, the rest fails fast. */
static void vmsg_test_peer_lost(struct kunit *test)
{
	struct virtio_msg_device *vmdev;
	struct vmsg_async_req a = {};
	struct fake_bus *fb;
	u64 req[2], resp[4];
	struct virtio_msg_hdr *q = (void *)req;
	unsigned int sent;

	vmdev = fake_simple(test, &fb, 14);
	/* A long timeout, so that only peer_lost can end the wait early. */
	fb->bus.timeout_ms = 10000;
	sent = fb->nreq[14];

	fb->mode = FAKE_DROP;
	a.vmdev = vmdev;
	a.result = true;
	INIT_WORK_ONSTACK(&a.work, vmsg_async_get_shm);
	schedule_work(&a.work);
	KUNIT_ASSERT_TRUE(test, WAIT_FOR(READ_ONCE(fb->nreq[14]) == sent + 1));
	virtio_msg_bus_peer_lost(&fb->bus);
	KUNIT_EXPECT_TRUE(test, WAIT_FOR(!work_pending(&a.work) &&
					 !work_busy(&a.work)));
	flush_work(&a.work);
	destroy_work_on_stack(&a.work);
	KUNIT_EXPECT_FALSE(test, a.result);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&vmdev->stats.timeouts), 0);
	KUNIT_EXPECT_TRUE(test, READ_ONCE(vmdev->broken));

	KUNIT_EXPECT_FALSE(test, vmsg_get_shm(vmdev));
	KUNIT_EXPECT_EQ(test, fb->nreq[14], sent + 1);
	virtio_msg_init_bus_request(q, sizeof(req), VIRTIO_MSG_ID_IMPL, 0);
	KUNIT_EXPECT_EQ(test, virtio_msg_bus_transfer(&fb->bus, q, (void *)resp,
						      sizeof(resp)), -ENODEV);

	/* The bus withdraws the device. */
	virtio_msg_bus_remove_device(&fb->bus, 14);
	KUNIT_EXPECT_TRUE(test, WAIT_FOR(!xa_load(&fb->bus.core->devs, 14)));
}

/* Inbound messages and kicks from hard interrupt context. */
struct vmsg_irq_ctx {
	struct irq_work work;
	struct fake_bus *fb;
	struct virtqueue *vq;
	u64 msg[8];
	size_t len;
	bool in_hardirq;
	bool kicked;
	u8 config[4];
};

static void vmsg_irq_fn(struct irq_work *work)
{
	struct vmsg_irq_ctx *c = container_of(work, struct vmsg_irq_ctx, work);

	c->in_hardirq = in_hardirq();
	if (c->len)
		virtio_msg_bus_receive(&c->fb->bus, c->msg, c->len);
	if (c->vq) {
		c->kicked = virtqueue_notify(c->vq);
		c->vq->vdev->config->get(c->vq->vdev, 0, c->config, 4);
	}
}

static void vmsg_run_irq(struct vmsg_irq_ctx *c)
{
	irq_work_queue(&c->work);
	irq_work_sync(&c->work);
}

static void vmsg_test_hardirq(struct kunit *test)
{
	struct virtqueue_info info[1] = { { "a" } };
	struct virtio_msg_event_config *ec;
	struct virtio_msg_vqueue_index *used;
	struct virtio_msg_device *vmdev;
	struct virtqueue *vqs[1];
	struct vmsg_irq_ctx *c;
	struct virtio_msg_hdr *h;
	struct fake_bus *fb;
	unsigned long flags;
	int ret;

	c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, c);
	c->work = IRQ_WORK_INIT_HARD(vmsg_irq_fn);
	h = (void *)c->msg;

	vmdev = fake_simple(test, &fb, 15);
	c->fb = fb;
	ret = vmdev->vdev.config->find_vqs(&vmdev->vdev, 1, vqs, info, NULL);
	KUNIT_ASSERT_EQ(test, ret, 0);

	/* EVENT_CONFIG with data. */
	virtio_msg_init_request(h, sizeof(c->msg), VIRTIO_MSG_EVENT_CONFIG, 15,
				sizeof(*ec) + 4);
	ec = virtio_msg_payload(h);
	ec->generation = cpu_to_le32(100);
	ec->length = cpu_to_le32(4);
	memcpy(ec->data, "irq!", 4);
	c->len = le16_to_cpu(h->msg_size);
	vmsg_run_irq(c);
	KUNIT_EXPECT_TRUE(test, c->in_hardirq);
	KUNIT_EXPECT_EQ(test, vmdev->dev_generation, 100);

	/* EVENT_USED, a refused kick and a config read, all at once. */
	virtio_msg_init_request(h, sizeof(c->msg), VIRTIO_MSG_EVENT_USED, 15,
				sizeof(*used));
	used = virtio_msg_payload(h);
	used->index = 0;
	c->len = le16_to_cpu(h->msg_size);
	c->vq = vqs[0];
	spin_lock_irqsave(&fb->lock, flags);
	fb->event_fail = 1;
	spin_unlock_irqrestore(&fb->lock, flags);
	vmsg_run_irq(c);
	KUNIT_EXPECT_TRUE(test, c->kicked);
	KUNIT_EXPECT_MEMEQ(test, c->config, "irq!", 4);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&vmdev->stats.received[VMSG_STAT_EVENT_USED]),
			1);
	KUNIT_EXPECT_TRUE(test, WAIT_FOR(READ_ONCE(fb->avail[0]) == 1));

	vmdev->vdev.config->del_vqs(&vmdev->vdev);
}

/* Requests, config writes, kicks and events at once, from three threads. */
struct vmsg_stress {
	struct virtio_msg_device *vmdev;
	struct fake_bus *fb;
	struct virtqueue *vq;
	struct completion done[3];
	atomic_t failures;
};

#define VMSG_STRESS_ROUNDS	200

static int vmsg_stress_requests(void *arg)
{
	struct vmsg_stress *st = arg;
	unsigned int i;

	for (i = 0; i < VMSG_STRESS_ROUNDS; i++)
		if (!vmsg_get_shm(st->vmdev))
			atomic_inc(&st->failures);
	complete(&st->done[0]);
	return 0;
}

static int vmsg_stress_config(void *arg)
{
	struct vmsg_stress *st = arg;
	struct virtio_device *vdev = &st->vmdev->vdev;
	u8 v[4];
	unsigned int i;

	for (i = 0; i < VMSG_STRESS_ROUNDS; i++) {
		put_unaligned_le32(i, v);
		vdev->config->set(vdev, 0, v, 4);
		vdev->config->get(vdev, 0, v, 4);
		if (get_unaligned_le32(v) != i)
			atomic_inc(&st->failures);
	}
	complete(&st->done[1]);
	return 0;
}

static int vmsg_stress_events(void *arg)
{
	struct vmsg_stress *st = arg;
	struct virtio_msg_vqueue_index used = {};
	unsigned int i;

	for (i = 0; i < VMSG_STRESS_ROUNDS; i++) {
		if (!virtqueue_notify(st->vq))
			atomic_inc(&st->failures);
		fake_event(st->fb, 16, VIRTIO_MSG_EVENT_USED, &used,
			   sizeof(used));
		cond_resched();
	}
	complete(&st->done[2]);
	return 0;
}

static void vmsg_test_concurrency(struct kunit *test)
{
	int (*fns[3])(void *) = {
		vmsg_stress_requests, vmsg_stress_config, vmsg_stress_events,
	};
	struct virtqueue_info info[1] = { { "a" } };
	struct virtqueue *vqs[1];
	struct task_struct *t;
	struct vmsg_stress *st;
	unsigned int i;
	int ret;

	st = kunit_kzalloc(test, sizeof(*st), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, st);
	st->vmdev = fake_simple(test, &st->fb, 16);
	ret = st->vmdev->vdev.config->find_vqs(&st->vmdev->vdev, 1, vqs, info,
					       NULL);
	KUNIT_ASSERT_EQ(test, ret, 0);
	st->vq = vqs[0];

	for (i = 0; i < ARRAY_SIZE(fns); i++) {
		init_completion(&st->done[i]);
		t = kthread_run(fns[i], st, "vmsg-stress-%u", i);
		KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	}
	for (i = 0; i < ARRAY_SIZE(fns); i++)
		KUNIT_EXPECT_GT(test, wait_for_completion_timeout(&st->done[i],
								  60 * HZ), 0);

	KUNIT_EXPECT_EQ(test, atomic_read(&st->failures), 0);
	KUNIT_EXPECT_FALSE(test, READ_ONCE(st->vmdev->broken));
	KUNIT_EXPECT_EQ(test, fb_avail_total(st->fb), VMSG_STRESS_ROUNDS);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&st->vmdev->stats.unmatched), 0);
	st->vmdev->vdev.config->del_vqs(&st->vmdev->vdev);
}

/* The bus's DMA device becomes the parent; it is released after use. */
static void vmsg_test_dma_device(struct kunit *test)
{
	struct virtio_msg_device *vmdev;
	struct fake_bus *fb;

	fb = fake_bus_new(test, 0, &fake_ops_dma);
	fb->dma_dev = kunit_device_register(test, "virtio-msg-fake-dma");
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, fb->dma_dev);
	fake_dev_add(fb, 18, VMSG_TEST_ID_NODRIVER, 0, 0);
	fake_dev_add(fb, 19, VMSG_TEST_ID_NODRIVER, 0, 0);
	fake_bus_start(test, fb);

	KUNIT_ASSERT_EQ(test, virtio_msg_bus_add_device(&fb->bus, 19), 0);
	KUNIT_ASSERT_EQ(test, virtio_msg_bus_add_device(&fb->bus, 18), 0);
	vmdev = fake_wait_dev(fb, 18);
	KUNIT_ASSERT_NOT_NULL(test, vmdev);
	KUNIT_EXPECT_PTR_EQ(test, vmdev->vdev.dev.parent, fb->dma_dev);
	/* No DMA device for 19: asked for its info, not registered. */
	KUNIT_EXPECT_NULL(test, xa_load(&fb->bus.core->devs, 19));
	KUNIT_EXPECT_EQ(test, fb->nreq[19], 1);

	virtio_msg_bus_remove_device(&fb->bus, 18);
	KUNIT_EXPECT_TRUE(test, WAIT_FOR(!xa_load(&fb->bus.core->devs, 18)));
	flush_workqueue(fb->bus.core->wq);
	KUNIT_EXPECT_EQ(test, fb->dma_gets, 1);
	KUNIT_EXPECT_EQ(test, fb->dma_releases, 1);
}

static void vmsg_test_get_devices(struct kunit *test)
{
	const bool bad = *(const bool *)test->param_value;
	struct fake_bus *fb;
	unsigned int i;

	fb = fake_bus_new(test, VIRTIO_MSG_BUS_F_ENUMERATE, &fake_ops);
	fake_dev_add(fb, 0, VMSG_TEST_ID_NODRIVER, 0, 0);
	fake_dev_add(fb, 5, VMSG_TEST_ID_NODRIVER, 0, 0);
	fake_dev_add(fb, 17, VMSG_TEST_ID_NODRIVER, 0, 0);
	fake_dev_add(fb, 40, VMSG_TEST_ID_NODRIVER, 0, 0);
	/* A number with no function behind it. */
	fake_dev_add(fb, 9, 0, 0, 0);
	for (i = 0; i < FAKE_NR_DEVS; i++)
		if (fb->devs[i].exists)
			__set_bit(i, fb->present);
	/* Third window (32..47) answered with a bad next_offset. */
	if (bad)
		fb->bad_window = 2;
	fake_bus_start(test, fb);

	KUNIT_ASSERT_NOT_NULL(test, fake_wait_dev(fb, 17));
	KUNIT_EXPECT_NOT_NULL(test, fake_wait_dev(fb, 0));
	KUNIT_EXPECT_NOT_NULL(test, fake_wait_dev(fb, 5));
	if (bad) {
		/* Enumeration stops; what came before stays. */
		msleep(100);
		KUNIT_EXPECT_EQ(test, fb->bus_sent[VIRTIO_MSG_BUS_GET_DEVICES], 3);
		KUNIT_EXPECT_NULL(test, xa_load(&fb->bus.core->devs, 40));
		KUNIT_EXPECT_EQ(test, fb->nreq[40], 0);
	} else {
		KUNIT_EXPECT_NOT_NULL(test, fake_wait_dev(fb, 40));
		KUNIT_EXPECT_EQ(test, fb->bus_sent[VIRTIO_MSG_BUS_GET_DEVICES], 4);
	}
	/* Asked, found empty, not added. */
	KUNIT_EXPECT_EQ(test, fb->nreq[9], 1);
	KUNIT_EXPECT_NULL(test, xa_load(&fb->bus.core->devs, 9));
}

static const bool vmsg_test_bad[] = { false, true };

static void vmsg_bad_desc(const bool *bad, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s", *bad ? "bad window" :
		 "four windows");
}

KUNIT_ARRAY_PARAM(vmsg_bad, vmsg_test_bad, vmsg_bad_desc);

/* EVENT_DEVICE: duplicates and out-of-order removals are harmless. */
static void vmsg_test_hotplug(struct kunit *test)
{
	struct virtio_msg_bus_event_device *e;
	u64 buf[2];
	struct virtio_msg_hdr *h = (void *)buf;
	struct fake_bus *fb;

	fb = fake_bus_new(test, VIRTIO_MSG_BUS_F_HOTPLUG, &fake_ops);
	fake_dev_add(fb, 3, VMSG_TEST_ID_NODRIVER, 0, 0);
	fake_bus_start(test, fb);

	virtio_msg_init_bus_request(h, sizeof(buf), VIRTIO_MSG_BUS_EVENT_DEVICE,
				    sizeof(*e));
	e = virtio_msg_payload(h);
	/* Removal of a device that is not there yet. */
	e->dev_num = cpu_to_le16(3);
	e->state = cpu_to_le16(VIRTIO_MSG_BUS_DEVICE_REMOVED);
	virtio_msg_bus_receive(&fb->bus, buf, sizeof(*h) + sizeof(*e));
	e->state = cpu_to_le16(VIRTIO_MSG_BUS_DEVICE_READY);
	virtio_msg_bus_receive(&fb->bus, buf, sizeof(*h) + sizeof(*e));
	virtio_msg_bus_receive(&fb->bus, buf, sizeof(*h) + sizeof(*e));
	KUNIT_ASSERT_NOT_NULL(test, fake_wait_dev(fb, 3));
	flush_workqueue(fb->bus.core->wq);
	KUNIT_EXPECT_EQ(test, fb->sent[VIRTIO_MSG_GET_DEVICE_INFO], 1);

	e->state = cpu_to_le16(VIRTIO_MSG_BUS_DEVICE_REMOVED);
	virtio_msg_bus_receive(&fb->bus, buf, sizeof(*h) + sizeof(*e));
	KUNIT_EXPECT_TRUE(test, WAIT_FOR(!xa_load(&fb->bus.core->devs, 3)));
}

/* A peer's PING is answered with its token and data. */
static void vmsg_test_ping(struct kunit *test)
{
	struct virtio_msg_bus_ping *p;
	u64 buf[2];
	struct virtio_msg_hdr *h = (void *)buf;
	struct fake_bus *fb;

	fb = fake_bus_new(test, VIRTIO_MSG_BUS_F_PEER_REQUESTS, &fake_ops);
	fake_bus_start(test, fb);

	virtio_msg_init_bus_request(h, sizeof(buf), VIRTIO_MSG_BUS_PING,
				    sizeof(*p));
	h->token = cpu_to_le16(0x4242);
	p = virtio_msg_payload(h);
	p->data = cpu_to_le32(0xdeadbeef);
	virtio_msg_bus_receive(&fb->bus, buf, sizeof(*h) + sizeof(*p));
	KUNIT_EXPECT_TRUE(test, WAIT_FOR(READ_ONCE(fb->pings) == 1));
	KUNIT_EXPECT_EQ(test, le32_to_cpu(fb->ping_data), 0xdeadbeef);
	KUNIT_EXPECT_EQ(test, le16_to_cpu(fb->ping_token), 0x4242);
}

/* ---- hostile peer: lifetime, ordering and failure paths ---- */

/*
 * Events that arrive while the device is being created (its config cache
 * does not exist yet) are dropped and counted, never applied.
 */
static void vmsg_test_events_while_creating(struct kunit *test)
{
	struct {
		struct virtio_msg_event_config ec;
		u8 data[4];
	} cfg = {};
	struct virtio_msg_vqueue_index used = {};
	struct virtio_msg_device *vmdev;
	u64 resp[FAKE_MAX_MSG / 8] = {};
	struct fake_bus *fb;
	u8 buf[4];
	long bad;

	fb = fake_bus_new(test, 0, &fake_ops);
	fb->bus.timeout_ms = 10000;
	fake_dev_add(fb, 20, VMSG_TEST_ID_NODRIVER, 1, 16);
	/* GET_DEVICE_INFO goes unanswered until the test answers it. */
	fb->mode = FAKE_DROP;
	fake_bus_start(test, fb);
	KUNIT_ASSERT_EQ(test, virtio_msg_bus_add_device(&fb->bus, 20), 0);
	KUNIT_ASSERT_TRUE(test, WAIT_FOR(READ_ONCE(fb->nreq[20]) == 1));
	vmdev = xa_load(&fb->bus.core->devs, 20);
	KUNIT_ASSERT_NOT_NULL(test, vmdev);
	KUNIT_EXPECT_EQ(test, READ_ONCE(vmdev->state), VMSG_DEV_CREATING);

	bad = atomic_long_read(&fb->bus.core->stats.bad_messages);
	cfg.ec.generation = cpu_to_le32(99);
	cfg.ec.length = cpu_to_le32(4);
	memcpy(cfg.data, "evil", 4);
	fake_event(fb, 20, VIRTIO_MSG_EVENT_CONFIG, &cfg, sizeof(cfg));
	cfg.ec.length = 0;
	fake_event(fb, 20, VIRTIO_MSG_EVENT_CONFIG, &cfg.ec, sizeof(cfg.ec));
	fake_event(fb, 20, VIRTIO_MSG_EVENT_USED, &used, sizeof(used));
	KUNIT_EXPECT_EQ(test, atomic_long_read(&vmdev->stats.events_dropped), 3);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&fb->bus.core->stats.bad_messages),
			bad);

	virtio_msg_bus_receive(&fb->bus, resp,
			       fake_answer(fb, (void *)fb->dropped,
					   (void *)resp));
	KUNIT_ASSERT_PTR_EQ(test, fake_wait_dev(fb, 20), vmdev);
	vmdev->vdev.config->get(&vmdev->vdev, 0, buf, 4);
	KUNIT_EXPECT_EQ(test, buf[0], 0);
	KUNIT_EXPECT_EQ(test, buf[3], 3);
	KUNIT_EXPECT_EQ(test, vmdev->dev_generation, 7);
	/* No re-read was queued for the data-less event either. */
	flush_workqueue(vmsg_wq);
	KUNIT_EXPECT_EQ(test, fb->sent[VIRTIO_MSG_GET_CONFIG], 1);
}

/*
 * The peer goes away while a driver's probe waits for its first buffer
 * (virtio_console does that): the probe must see the queue break, and the
 * bus must then unregister without waiting for ever.
 */
static void vmsg_test_peer_lost_in_probe(struct kunit *test)
{
	struct virtio_msg_device *vmdev;
	struct fake_bus *fb;

	fb = fake_bus_new(test, 0, &fake_ops);
	fake_dev_add(fb, 21, VMSG_TEST_ID_DRIVER, 1, 8);
	fb->lose_peer_on_kick = true;
	test_drv_nvqs = 1;
	test_drv_spin = true;
	test_drv_spin_result = 0;
	fake_bus_start(test, fb);
	KUNIT_ASSERT_EQ(test, virtio_msg_bus_add_device(&fb->bus, 21), 0);

	vmdev = fake_wait_dev(fb, 21);
	test_drv_spin = false;
	KUNIT_ASSERT_NOT_NULL(test, vmdev);
	KUNIT_EXPECT_EQ(test, test_drv_spin_result, 1);
	KUNIT_EXPECT_TRUE(test, READ_ONCE(vmdev->broken));
	flush_work(&fb->lose_work);
	virtio_msg_bus_unregister(&fb->bus);
	KUNIT_EXPECT_NULL(test, fb->bus.core);
}

/*
 * An EVENT_CONFIG that overtakes the answer to a configuration read or
 * write is newer than that answer: its data stays, and the generation a
 * driver sees never goes backwards.
 */
static void vmsg_test_config_event_races(struct kunit *test)
{
	struct virtio_msg_device *vmdev;
	struct virtio_device *vdev;
	struct fake_bus *fb;
	u8 buf[4];
	u32 gen;

	vmdev = fake_simple(test, &fb, 22);
	vdev = &vmdev->vdev;

	/* A re-read after reset. */
	gen = vdev->config->generation(vdev);
	fb->event_in_config = true;
	vdev->config->reset(vdev);
	KUNIT_EXPECT_FALSE(test, fb->event_in_config);
	vdev->config->get(vdev, 0, buf, 4);
	KUNIT_EXPECT_MEMEQ(test, buf, "EVNT", 4);
	KUNIT_EXPECT_EQ(test, vmdev->dev_generation, fb->devs[22].gen);
	KUNIT_EXPECT_GT(test, vdev->config->generation(vdev), gen);

	/* A write: its bytes must not go over the event's. */
	memcpy(fb->devs[22].config, "\0\0\0\0", 4);
	gen = vdev->config->generation(vdev);
	fb->event_in_config = true;
	vdev->config->set(vdev, 4, "wr", 2);
	KUNIT_EXPECT_FALSE(test, fb->event_in_config);
	vdev->config->get(vdev, 0, buf, 4);
	KUNIT_EXPECT_MEMEQ(test, buf, "EVNT", 4);
	vdev->config->get(vdev, 4, buf, 2);
	KUNIT_EXPECT_MEMEQ(test, buf, "wr", 2);
	KUNIT_EXPECT_EQ(test, vmdev->dev_generation, fb->devs[22].gen);
	KUNIT_EXPECT_GT(test, vdev->config->generation(vdev), gen);
	KUNIT_EXPECT_FALSE(test, READ_ONCE(vmdev->broken));
}

/* Chunking on a 52-byte bus, partial writes, generations that move. */
static void vmsg_test_config_chunks(struct kunit *test)
{
	struct virtio_msg_device *vmdev;
	struct virtio_device *vdev;
	struct fake_dev *fd;
	struct fake_bus *fb;
	u8 buf[100], want[100];
	unsigned int i, gets;

	fb = fake_bus_new(test, 0, &fake_ops);
	fb->desc.max_msg_size = VIRTIO_MSG_MAX_SIZE_MIN;
	/* 100 bytes in chunks of 32: four GET_CONFIG. */
	fd = fake_dev_add(fb, 23, VMSG_TEST_ID_NODRIVER, 0, 100);
	fake_bus_start(test, fb);
	KUNIT_ASSERT_EQ(test, virtio_msg_bus_add_device(&fb->bus, 23), 0);
	vmdev = fake_wait_dev(fb, 23);
	KUNIT_ASSERT_NOT_NULL(test, vmdev);
	vdev = &vmdev->vdev;
	KUNIT_EXPECT_EQ(test, fb->sent[VIRTIO_MSG_GET_CONFIG], 4);
	vdev->config->get(vdev, 0, buf, 100);
	KUNIT_EXPECT_MEMEQ(test, buf, fd->config, 100);

	/* A write over three chunks, of which the device takes 5 bytes each. */
	for (i = 0; i < 70; i++)
		want[i] = 0xa0 + i;
	fb->set_partial = 5;
	vdev->config->set(vdev, 20, want, 70);
	KUNIT_EXPECT_EQ(test, fb->sent[VIRTIO_MSG_SET_CONFIG], 14);
	KUNIT_EXPECT_MEMEQ(test, &fd->config[20], want, 70);
	vdev->config->get(vdev, 20, buf, 70);
	KUNIT_EXPECT_MEMEQ(test, buf, want, 70);

	/* The generation moves with every chunk: three passes, then taken. */
	fb->gen_per_chunk = true;
	gets = fb->sent[VIRTIO_MSG_GET_CONFIG];
	vdev->config->reset(vdev);
	KUNIT_EXPECT_EQ(test, fb->sent[VIRTIO_MSG_GET_CONFIG], gets + 12);
	KUNIT_EXPECT_EQ(test, vmdev->dev_generation, fd->gen);
	KUNIT_EXPECT_FALSE(test, READ_ONCE(vmdev->broken));
}

/* Tokens wrap around without ever being 0, and still match. */
static void vmsg_test_token_wrap(struct kunit *test)
{
	struct virtio_msg_device *vmdev;
	struct fake_bus *fb;
	unsigned int i;

	vmdev = fake_simple(test, &fb, 24);
	atomic_set(&fb->bus.core->next_token, 0xfffd);
	for (i = 0; i < 6; i++) {
		KUNIT_EXPECT_TRUE(test, vmsg_get_shm(vmdev));
		KUNIT_EXPECT_NE(test, vmdev->chan.token, 0);
	}
	KUNIT_EXPECT_LT(test, vmdev->chan.token, 8);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&vmdev->stats.unmatched), 0);
}

/*
 * A reset or status write that fails (here the bus refuses to send)
 * breaks the device; after a reset the status reads 0 whatever happened.
 */
static void vmsg_test_reset_fails(struct kunit *test)
{
	struct virtio_msg_device *vmdev;
	struct virtio_device *vdev;
	struct fake_bus *fb;

	vmdev = fake_simple(test, &fb, 25);
	vdev = &vmdev->vdev;
	vdev->config->set_status(vdev, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	KUNIT_EXPECT_EQ(test, vdev->config->get_status(vdev),
			VIRTIO_CONFIG_S_ACKNOWLEDGE);

	fb->send_errno = -ENOMEM;
	vdev->config->set_status(vdev, VIRTIO_CONFIG_S_ACKNOWLEDGE |
				 VIRTIO_CONFIG_S_DRIVER);
	KUNIT_EXPECT_TRUE(test, READ_ONCE(vmdev->broken));
	KUNIT_EXPECT_EQ(test, vdev->config->get_status(vdev),
			VIRTIO_CONFIG_S_ACKNOWLEDGE);

	vmdev = fake_simple(test, &fb, 26);
	vdev = &vmdev->vdev;
	vdev->config->set_status(vdev, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	fb->send_errno = -EBUSY;
	vdev->config->reset(vdev);
	KUNIT_EXPECT_TRUE(test, READ_ONCE(vmdev->broken));
	KUNIT_EXPECT_EQ(test, vdev->config->get_status(vdev), 0);
}

/* A kick is never dropped: -EBUSY retries, a hard error breaks the device. */
static void vmsg_test_kick_errors(struct kunit *test)
{
	struct virtqueue_info info[1] = { { "a" } };
	struct virtio_msg_device *vmdev;
	struct virtqueue *vqs[1];
	struct fake_bus *fb;
	int ret;

	vmdev = fake_simple(test, &fb, 27);
	ret = vmdev->vdev.config->find_vqs(&vmdev->vdev, 1, vqs, info, NULL);
	KUNIT_ASSERT_EQ(test, ret, 0);

	fb->event_errno = -EBUSY;
	fb->event_fail = 3;
	KUNIT_EXPECT_TRUE(test, virtqueue_notify(vqs[0]));
	KUNIT_EXPECT_TRUE(test, WAIT_FOR(READ_ONCE(fb->avail[0]) == 1));
	KUNIT_EXPECT_FALSE(test, READ_ONCE(vmdev->broken));

	/* A hard error on the direct path breaks the device... */
	fb->event_errno = -EIO;
	fb->event_fail = 1;
	KUNIT_EXPECT_FALSE(test, virtqueue_notify(vqs[0]));
	KUNIT_EXPECT_TRUE(test, WAIT_FOR(READ_ONCE(vmdev->broken)));
	KUNIT_EXPECT_TRUE(test, virtqueue_is_broken(vqs[0]));
	vmdev->vdev.config->del_vqs(&vmdev->vdev);

	/* ...and so does one on the deferred path. */
	fb = fake_bus_new(test, 0, &fake_ops_no_event);
	fake_dev_add(fb, 28, VMSG_TEST_ID_NODRIVER, 1, 0);
	fake_bus_start(test, fb);
	KUNIT_ASSERT_EQ(test, virtio_msg_bus_add_device(&fb->bus, 28), 0);
	vmdev = fake_wait_dev(fb, 28);
	KUNIT_ASSERT_NOT_NULL(test, vmdev);
	ret = vmdev->vdev.config->find_vqs(&vmdev->vdev, 1, vqs, info, NULL);
	KUNIT_ASSERT_EQ(test, ret, 0);
	fb->send_errno = -EIO;
	KUNIT_EXPECT_TRUE(test, virtqueue_notify(vqs[0]));
	KUNIT_EXPECT_TRUE(test, WAIT_FOR(READ_ONCE(vmdev->broken)));
	KUNIT_EXPECT_TRUE(test, virtqueue_is_broken(vqs[0]));
	KUNIT_EXPECT_EQ(test, fb->sent[VIRTIO_MSG_EVENT_AVAIL], 1);
	vmdev->vdev.config->del_vqs(&vmdev->vdev);
}

/* Without the bus's translation, no shared memory region reaches a driver. */
static void vmsg_test_shm_needs_bus(struct kunit *test)
{
	struct virtio_msg_device *vmdev;
	struct virtio_shm_region r = {};
	struct fake_bus *fb;

	vmdev = fake_simple(test, &fb, 28);
	KUNIT_EXPECT_TRUE(test, vmsg_get_shm(vmdev));
	KUNIT_EXPECT_EQ(test, fb->shm_calls, 1);

	fb = fake_bus_new(test, 0, &fake_ops_no_event);
	fake_dev_add(fb, 29, VMSG_TEST_ID_NODRIVER, 0, 0);
	fake_bus_start(test, fb);
	KUNIT_ASSERT_EQ(test, virtio_msg_bus_add_device(&fb->bus, 29), 0);
	vmdev = fake_wait_dev(fb, 29);
	KUNIT_ASSERT_NOT_NULL(test, vmdev);
	KUNIT_EXPECT_FALSE(test, vmdev->vdev.config->get_shm_region(&vmdev->vdev,
								    &r, 0));
	KUNIT_EXPECT_EQ(test, fb->sent[VIRTIO_MSG_GET_SHM], 0);
}

/* A peer cannot create more devices than the bus allows. */
static void vmsg_test_device_limit(struct kunit *test)
{
	struct fake_bus *fb;
	unsigned int i, n = 0;

	fb = fake_bus_new(test, VIRTIO_MSG_BUS_F_ENUMERATE, &fake_ops);
	fb->bus.max_devices = 3;
	for (i = 30; i < 40; i++) {
		fake_dev_add(fb, i, VMSG_TEST_ID_NODRIVER, 0, 0);
		__set_bit(i, fb->present);
	}
	fake_bus_start(test, fb);
	flush_workqueue(fb->bus.core->wq);
	for (i = 30; i < 40; i++)
		if (xa_load(&fb->bus.core->devs, i))
			n++;
	KUNIT_EXPECT_EQ(test, n, 3);

	/* A removal makes room for another. */
	virtio_msg_bus_remove_device(&fb->bus, 30);
	virtio_msg_bus_add_device(&fb->bus, 39);
	flush_workqueue(fb->bus.core->wq);
	KUNIT_EXPECT_NOT_NULL(test, xa_load(&fb->bus.core->devs, 39));
	KUNIT_EXPECT_EQ(test, fb->bus.core->nr_devs, 3);
}

/* Device types and features a bus does not let through. */
static const struct virtio_msg_device_policy fake_policy[] = {
	{ VMSG_TEST_ID_NODRIVER,
	  BIT_ULL(VIRTIO_F_VERSION_1) | BIT_ULL(VIRTIO_F_RING_PACKED) },
	{ 0 },
};

static void vmsg_test_device_policy(struct kunit *test)
{
	struct virtio_msg_device *vmdev;
	struct fake_bus *fb;

	fb = fake_bus_new(test, 0, &fake_ops);
	fb->desc.devices = fake_policy;
	fake_dev_add(fb, 40, VMSG_TEST_ID_NODRIVER, 0, 0)->features |=
		BIT_ULL(VIRTIO_F_RING_PACKED) | BIT_ULL(VIRTIO_F_ACCESS_PLATFORM) |
		BIT_ULL(3);
	fake_dev_add(fb, 41, VMSG_TEST_ID_DRIVER, 1, 0);
	fake_bus_start(test, fb);
	KUNIT_ASSERT_EQ(test, virtio_msg_bus_add_device(&fb->bus, 41), 0);
	KUNIT_ASSERT_EQ(test, virtio_msg_bus_add_device(&fb->bus, 40), 0);
	vmdev = fake_wait_dev(fb, 40);
	KUNIT_ASSERT_NOT_NULL(test, vmdev);
	KUNIT_EXPECT_NULL(test, xa_load(&fb->bus.core->devs, 41));
	KUNIT_EXPECT_EQ(test, fb->nreq[41], 1);

	KUNIT_EXPECT_EQ(test, vmdev->vdev.config->get_features(&vmdev->vdev),
			BIT_ULL(VIRTIO_F_VERSION_1) |
			BIT_ULL(VIRTIO_F_RING_PACKED));
	vmdev->vdev.features = BIT_ULL(VIRTIO_F_VERSION_1) | BIT_ULL(3);
	KUNIT_EXPECT_EQ(test,
			vmdev->vdev.config->finalize_features(&vmdev->vdev),
			-EINVAL);
}

/*
 * A device type whose driver posts chains of up to 24 segments, and of a
 * device-chosen length with TEST_DRV_F_LONG, as virtio-net and virtio-blk
 * (SEG_MAX) do.
 */
#define RING_MIN		24
#define RING_POLICY(id) {						\
	.device_id = (id),						\
	.features = BIT_ULL(VIRTIO_F_VERSION_1) |			\
		    BIT_ULL(VIRTIO_RING_F_INDIRECT_DESC) |		\
		    BIT_ULL(TEST_DRV_F_LONG),				\
	.indirect_features = BIT_ULL(TEST_DRV_F_LONG),			\
	.min_queue_size = RING_MIN,					\
}

static const struct virtio_msg_device_policy ring_policy[] = {
	RING_POLICY(VMSG_TEST_ID_DRIVER),
	RING_POLICY(VMSG_TEST_ID_NODRIVER),
	{ 0 },
};

struct vmsg_ring_case {
	const char *name;
	u32 vq_max;		/* the device's maximum queue size */
	bool indirect;		/* it offers VIRTIO_RING_F_INDIRECT_DESC */
	bool policy;		/* the bus has ring_policy (else: any type) */
	bool ok;		/* the driver gets its queues */
};

static const struct vmsg_ring_case vmsg_ring_cases[] = {
	{ "too small", 16, false, true, false },
	{ "too small, indirect", 16, true, true, true },
	/* The split ring is rounded down to 16 entries. */
	{ "rounded down below", 31, false, true, false },
	{ "large enough", 32, false, true, true },
	{ "trusted bus", 16, false, false, true },
};

static void vmsg_ring_desc(const struct vmsg_ring_case *c, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s", c->name);
}

KUNIT_ARRAY_PARAM(vmsg_ring, vmsg_ring_cases, vmsg_ring_desc);

/*
 * Without indirect descriptors a queue smaller than the type's minimum
 * is refused before the device hears of it, and bits that make chains a
 * device-chosen length are hidden; a trusted bus lets everything through.
 */
static void vmsg_test_min_queue_size(struct kunit *test)
{
	const struct vmsg_ring_case *c = test->param_value;
	struct virtio_msg_device *vmdev;
	struct fake_dev *fd;
	struct fake_bus *fb;

	fb = fake_bus_new(test, 0, &fake_ops);
	if (c->policy)
		fb->bus.devices = ring_policy;
	fd = fake_dev_add(fb, 42, VMSG_TEST_ID_DRIVER, 2, 8);
	fd->vq_max = c->vq_max;
	fd->features |= BIT_ULL(TEST_DRV_F_LONG);
	if (c->indirect)
		fd->features |= BIT_ULL(VIRTIO_RING_F_INDIRECT_DESC);
	test_drv_nvqs = 2;
	test_drv_find_ret = 1;
	atomic_set(&test_drv_probes, 0);
	fake_bus_start(test, fb);
	KUNIT_ASSERT_EQ(test, virtio_msg_bus_add_device(&fb->bus, 42), 0);
	vmdev = fake_wait_dev(fb, 42);
	KUNIT_ASSERT_NOT_NULL(test, vmdev);

	KUNIT_ASSERT_TRUE(test, WAIT_FOR(fd->status &
					 (VIRTIO_CONFIG_S_DRIVER_OK |
					  VIRTIO_CONFIG_S_FAILED)));
	KUNIT_EXPECT_EQ(test, atomic_read(&test_drv_probes), 1);
	/* The long chains only with indirect descriptors, or when trusted. */
	KUNIT_EXPECT_EQ(test, !!(fd->drv_features & BIT_ULL(TEST_DRV_F_LONG)),
			c->indirect || !c->policy);
	if (c->ok) {
		KUNIT_EXPECT_EQ(test, test_drv_find_ret, 0);
		KUNIT_EXPECT_TRUE(test, fd->status & VIRTIO_CONFIG_S_DRIVER_OK);
		KUNIT_EXPECT_EQ(test, fb->sent[VIRTIO_MSG_SET_VQUEUE], 2);
		return;
	}
	KUNIT_EXPECT_EQ(test, test_drv_find_ret, -ENOSPC);
	KUNIT_EXPECT_TRUE(test, fd->status & VIRTIO_CONFIG_S_FAILED);
	/* Refused at the first queue, which the device never heard of. */
	KUNIT_EXPECT_EQ(test, fb->sent[VIRTIO_MSG_GET_VQUEUE], 1);
	KUNIT_EXPECT_EQ(test, fb->sent[VIRTIO_MSG_SET_VQUEUE], 0);
}

/*
 * indirect_features: hidden from a device that does not offer indirect
 * descriptors, and refused at finalize_features without them.
 */
static void vmsg_test_indirect_features(struct kunit *test)
{
	const u64 v1 = BIT_ULL(VIRTIO_F_VERSION_1);
	const u64 ind = BIT_ULL(VIRTIO_RING_F_INDIRECT_DESC);
	const u64 lng = BIT_ULL(TEST_DRV_F_LONG);
	struct virtio_msg_device *vmdev;
	struct virtio_device *vdev;
	struct fake_dev *fd;
	struct fake_bus *fb;

	fb = fake_bus_new(test, 0, &fake_ops);
	fb->desc.devices = ring_policy;
	fd = fake_dev_add(fb, 43, VMSG_TEST_ID_NODRIVER, 1, 0);
	fd->features |= lng;
	fake_bus_start(test, fb);
	KUNIT_ASSERT_EQ(test, virtio_msg_bus_add_device(&fb->bus, 43), 0);
	vmdev = fake_wait_dev(fb, 43);
	KUNIT_ASSERT_NOT_NULL(test, vmdev);
	vdev = &vmdev->vdev;

	KUNIT_EXPECT_EQ(test, vdev->config->get_features(vdev), v1);
	vdev->features = v1 | lng;
	KUNIT_EXPECT_EQ(test, vdev->config->finalize_features(vdev), -EINVAL);
	KUNIT_EXPECT_EQ(test, fb->sent[VIRTIO_MSG_SET_DRIVER_FEATURES], 0);

	fd->features |= ind;
	KUNIT_EXPECT_EQ(test, vdev->config->get_features(vdev), v1 | ind | lng);
	vdev->features = v1 | ind | lng;
	KUNIT_EXPECT_EQ(test, vdev->config->finalize_features(vdev), 0);
	KUNIT_EXPECT_EQ(test, fd->drv_features, v1 | ind | lng);
	/* The driver may still go without them. */
	vdev->features = v1 | ind;
	KUNIT_EXPECT_EQ(test, vdev->config->finalize_features(vdev), 0);
	KUNIT_EXPECT_EQ(test, fd->drv_features, v1 | ind);
}

KUNIT_DEFINE_ACTION_WRAPPER(vfree_action, vfree, const void *);

/*
 * A device of the test driver's type on a window, with one queue of 16,
 * indirect descriptors and @features, up: its driver set DRIVER_OK. The
 * test is skipped where the window's DMA ops cannot be installed.
 */
static struct virtio_msg_device *window_dev_up(struct kunit *test,
					       struct fake_bus **fbp,
					       u16 dev_num, u64 features)
{
	struct virtio_msg_dma_window win = {
		.size = SZ_128K,
		.bus_base = 0x4000000000ULL,
	};
	struct virtio_msg_device *vmdev;
	struct fake_dev *fd;
	struct fake_bus *fb;

	if (!IS_ENABLED(CONFIG_ARCH_HAS_DMA_OPS))
		kunit_skip(test, "needs CONFIG_ARCH_HAS_DMA_OPS");
	win.vaddr = vzalloc(win.size);
	KUNIT_ASSERT_NOT_NULL(test, win.vaddr);
	/* Registered first, so freed after the bus is gone. */
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, vfree_action,
							win.vaddr), 0);

	fb = fake_bus_new(test, 0, &fake_ops);
	fd = fake_dev_add(fb, dev_num, VMSG_TEST_ID_DRIVER, 1, 8);
	fd->vq_max = 16;
	fd->features |= BIT_ULL(VIRTIO_F_ACCESS_PLATFORM) |
			BIT_ULL(VIRTIO_RING_F_INDIRECT_DESC) | features;
	test_drv_nvqs = 1;
	KUNIT_ASSERT_EQ(test, virtio_msg_bus_register(&fb->bus), 0);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, fake_unregister,
							fb), 0);
	KUNIT_ASSERT_EQ(test, virtio_msg_bus_set_dma_window(&fb->bus, &win),
			0);
	KUNIT_ASSERT_EQ(test, virtio_msg_bus_start(&fb->bus), 0);
	KUNIT_ASSERT_EQ(test, virtio_msg_bus_add_device(&fb->bus, dev_num), 0);
	vmdev = fake_wait_dev(fb, dev_num);
	KUNIT_ASSERT_NOT_NULL(test, vmdev);
	KUNIT_ASSERT_TRUE(test, WAIT_FOR(fd->status &
					 VIRTIO_CONFIG_S_DRIVER_OK));
	KUNIT_ASSERT_NOT_NULL(test, vmdev->win_dev);
	*fbp = fb;
	return vmdev;
}

/*
 * A buffer the driver leaves in a queue it deletes (virtio-blk fails the
 * requests of a broken device without taking them back) is detached: its
 * indirect table is freed and its window mappings end, with nothing
 * copied back into memory the driver may use again.
 */
static void vmsg_test_unused_bufs(struct kunit *test)
{
	struct scatterlist out, in, *sgs[2] = { &out, &in };
	struct virtio_msg_device *vmdev;
	struct fake_bus *fb;
	u8 *buf;

	buf = kunit_kzalloc(test, 128, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	vmdev = window_dev_up(test, &fb, 44, 0);

	/* Two segments, so an indirect table; the device never uses it. */
	sg_init_one(&out, buf, 64);
	sg_init_one(&in, buf + 64, 64);
	KUNIT_ASSERT_EQ(test, virtqueue_add_sgs(test_drv_vqs[0], sgs, 1, 1,
						buf, GFP_KERNEL), 0);
	KUNIT_EXPECT_GT(test,
			atomic_long_read(&vmsg_dma_dev_ctx(vmdev->win_dev)->bounce_bytes),
			0);
	/* The driver gives the buffer up and uses the memory again. */
	memset(buf, 0xaa, 128);

	test_drv_bounce_left = -1;
	test_drv_count_bounce = true;
	virtio_msg_bus_remove_device(&fb->bus, 44);
	KUNIT_EXPECT_TRUE(test, WAIT_FOR(READ_ONCE(test_drv_bounce_left) >= 0));
	test_drv_count_bounce = false;
	KUNIT_EXPECT_EQ(test, READ_ONCE(test_drv_bounce_left), 0);
	KUNIT_EXPECT_NULL(test, memchr_inv(buf, 0xaa, 128));
}

static void standin_test_id_reset(void *unused)
{
	WRITE_ONCE(vmsg_standin_test_id, 0);
}

/* The same, a device whose requests fail as virtio-blk's do. */
static struct virtio_msg_device *standin_dev_up(struct kunit *test,
						struct fake_bus **fbp,
						u16 dev_num)
{
	WRITE_ONCE(vmsg_standin_test_id, VMSG_TEST_ID_DRIVER);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							standin_test_id_reset,
							NULL), 0);
	return window_dev_up(test, fbp, dev_num,
			     BIT_ULL(VIRTIO_RING_F_EVENT_IDX));
}

/* Up to @n buffers back from @vq within the wait, with their lengths. */
static unsigned int standin_collect(struct virtqueue *vq, void **tokens,
				    unsigned int *lens, unsigned int n)
{
	unsigned int got = 0;

	WAIT_FOR(({
		void *t;

		while (got < n && (t = virtqueue_get_buf(vq, &lens[got])))
			tokens[got++] = t;
		got == n || virtqueue_is_broken(vq);
	}));
	return got;
}

/*
 * A device the core knows how to fail (virtio-blk's rule, lent to the
 * test driver's type) is lost with two requests in flight, one through
 * an indirect table: its queue does not break, both come back used with
 * a 1 at the end of their last device-writable buffer (VIRTIO_BLK_S_IOERR)
 * and nothing else written; so does a request posted after the loss.
 */
static void vmsg_test_standin(struct kunit *test)
{
	struct scatterlist out, in, status, one, *sgs[3] = { &out, &in, &status };
	struct virtio_msg_device *vmdev;
	unsigned int lens[3];
	struct virtqueue *vq;
	struct fake_bus *fb;
	void *tokens[3];
	u8 *buf;

	buf = kunit_kzalloc(test, 256, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	vmdev = standin_dev_up(test, &fb, 45);
	vq = test_drv_vqs[0];

	memset(buf, 0x55, 256);
	/* Three segments: an indirect table. */
	sg_init_one(&out, buf, 16);
	sg_init_one(&in, buf + 16, 32);
	sg_init_one(&status, buf + 48, 1);
	KUNIT_ASSERT_EQ(test, virtqueue_add_sgs(vq, sgs, 1, 2, buf,
						GFP_KERNEL), 0);
	/* One segment: a descriptor in the ring. */
	sg_init_one(&one, buf + 64, 64);
	KUNIT_ASSERT_EQ(test, virtqueue_add_inbuf(vq, &one, 1, buf + 64,
						  GFP_KERNEL), 0);
	virtqueue_kick(vq);

	virtio_msg_bus_peer_lost(&fb->bus);
	KUNIT_ASSERT_EQ(test, standin_collect(vq, tokens, lens, 2), 2);
	KUNIT_EXPECT_FALSE(test, virtqueue_is_broken(vq));
	/* In order, each with the one byte written. */
	KUNIT_EXPECT_PTR_EQ(test, tokens[0], (void *)buf);
	KUNIT_EXPECT_PTR_EQ(test, tokens[1], (void *)(buf + 64));
	KUNIT_EXPECT_EQ(test, lens[0], 1);
	KUNIT_EXPECT_EQ(test, lens[1], 1);
	KUNIT_EXPECT_EQ(test, buf[48], VIRTIO_BLK_S_IOERR);
	KUNIT_EXPECT_EQ(test, buf[127], VIRTIO_BLK_S_IOERR);
	buf[48] = 0x55;
	buf[127] = 0x55;
	KUNIT_EXPECT_NULL(test, memchr_inv(buf, 0x55, 128));

	/* Posted after the loss: answered all the same. */
	sg_init_one(&one, buf + 128, 8);
	KUNIT_ASSERT_EQ(test, virtqueue_add_inbuf(vq, &one, 1, buf + 128,
						  GFP_KERNEL), 0);
	virtqueue_kick(vq);
	KUNIT_ASSERT_EQ(test, standin_collect(vq, tokens, lens, 1), 1);
	KUNIT_EXPECT_PTR_EQ(test, tokens[0], (void *)(buf + 128));
	KUNIT_EXPECT_EQ(test, buf[135], VIRTIO_BLK_S_IOERR);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&vmdev->stats.standin_used), 3);

	virtio_msg_bus_remove_device(&fb->bus, 45);
	KUNIT_EXPECT_TRUE(test, WAIT_FOR(!xa_load(&fb->bus.core->devs, 45)));
}

/*
 * A lost device whose used index is further from the available one than
 * any ring holds is not answered for: its queue breaks, as any other.
 */
static void vmsg_test_standin_bad_index(struct kunit *test)
{
	struct virtio_msg_device *vmdev;
	const struct vring *vr;
	struct scatterlist one;
	struct virtqueue *vq;
	struct fake_bus *fb;
	u8 *buf;

	buf = kunit_kzalloc(test, 64, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	vmdev = standin_dev_up(test, &fb, 46);
	vq = test_drv_vqs[0];

	sg_init_one(&one, buf, 64);
	KUNIT_ASSERT_EQ(test, virtqueue_add_inbuf(vq, &one, 1, buf,
						  GFP_KERNEL), 0);
	virtqueue_kick(vq);
	/* What a hostile device leaves behind. */
	vr = virtqueue_get_vring(vq);
	WRITE_ONCE(vr->used->idx, cpu_to_virtio16(vq->vdev, 0x8000));

	virtio_msg_bus_peer_lost(&fb->bus);
	KUNIT_EXPECT_TRUE(test, WAIT_FOR(virtqueue_is_broken(vq)));
	KUNIT_EXPECT_EQ(test, buf[63], 0);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&vmdev->stats.standin_used), 0);
	/* Back as it was, for the removal to find a sane ring. */
	WRITE_ONCE(vr->used->idx, 0);
}

/*
 * Unregistration removes the devices while the bus still carries
 * messages: the driver resets its device, release_device can talk.
 */
static void vmsg_test_orderly_unregister(struct kunit *test)
{
	struct fake_bus *fb;

	fb = fake_bus_new(test, 0, &fake_ops_dma);
	fb->dma_dev = kunit_device_register(test, "virtio-msg-fake-dma");
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, fb->dma_dev);
	fake_dev_add(fb, 42, VMSG_TEST_ID_DRIVER, 1, 8);
	test_drv_nvqs = 1;
	fake_bus_start(test, fb);
	KUNIT_ASSERT_EQ(test, virtio_msg_bus_add_device(&fb->bus, 42), 0);
	KUNIT_ASSERT_NOT_NULL(test, fake_wait_dev(fb, 42));
	KUNIT_ASSERT_TRUE(test, WAIT_FOR(fb->devs[42].status &
					 VIRTIO_CONFIG_S_DRIVER_OK));

	virtio_msg_bus_unregister(&fb->bus);
	KUNIT_EXPECT_EQ(test, fb->devs[42].status, 0);
	KUNIT_EXPECT_EQ(test, fb->dma_releases, 1);
	KUNIT_EXPECT_EQ(test, fb->release_transfer, 12);
}

/*
 * An orderly removal is bounded: a device that answers requests but
 * never uses the buffer its driver's remove waits for is broken after the
 * bus's deadline.
 */
static void vmsg_test_orderly_removal_bounded(struct kunit *test)
{
	struct virtio_msg_device *vmdev;
	struct fake_bus *fb;

	fb = fake_bus_new(test, 0, &fake_ops);
	fake_dev_add(fb, 51, VMSG_TEST_ID_DRIVER, 1, 8);
	test_drv_nvqs = 1;
	fake_bus_start(test, fb);
	KUNIT_ASSERT_EQ(test, virtio_msg_bus_add_device(&fb->bus, 51), 0);
	vmdev = fake_wait_dev(fb, 51);
	KUNIT_ASSERT_NOT_NULL(test, vmdev);

	test_drv_spin_result = 0;
	test_drv_remove_spin = true;
	virtio_msg_bus_unregister(&fb->bus);
	test_drv_remove_spin = false;
	KUNIT_EXPECT_EQ(test, test_drv_spin_result, 1);
}

static atomic_t test_cb_calls;

static void test_cb(struct virtqueue *vq)
{
	atomic_inc(&test_cb_calls);
}

/* The device side of a split ring: use the next available buffer. */
static void fake_use_split(struct virtqueue *vq, u32 len)
{
	struct vring_avail *avail = phys_to_virt(virtqueue_get_avail_addr(vq));
	struct vring_used *used = phys_to_virt(virtqueue_get_used_addr(vq));
	unsigned int num = virtqueue_get_vring_size(vq);
	u16 idx = le16_to_cpu((__force __le16)used->idx);
	u16 head = le16_to_cpu((__force __le16)avail->ring[idx % num]);

	used->ring[idx % num].id = (__force __virtio32)cpu_to_le32(head);
	used->ring[idx % num].len = (__force __virtio32)cpu_to_le32(len);
	smp_wmb();	/* the entry before the index */
	used->idx = (__force __virtio16)cpu_to_le16(idx + 1);
}

/* EVENT_USED runs the driver's callback, which finds its buffer used. */
static void vmsg_test_used_buffers(struct kunit *test)
{
	struct virtqueue_info info[2] = { { "a", test_cb }, { "b", test_cb } };
	struct virtio_msg_vqueue_index used = {};
	struct virtio_msg_device *vmdev;
	struct virtqueue *vqs[2];
	struct scatterlist sg;
	struct fake_bus *fb;
	static u8 buf[32];
	unsigned int len;
	int ret;

	vmdev = fake_simple(test, &fb, 43);
	__virtio_set_bit(&vmdev->vdev, VIRTIO_F_VERSION_1);
	ret = vmdev->vdev.config->find_vqs(&vmdev->vdev, 2, vqs, info, NULL);
	KUNIT_ASSERT_EQ(test, ret, 0);
	atomic_set(&test_cb_calls, 0);

	sg_init_one(&sg, buf, sizeof(buf));
	KUNIT_ASSERT_EQ(test, virtqueue_add_inbuf(vqs[1], &sg, 1, buf,
						  GFP_KERNEL), 0);
	virtqueue_kick(vqs[1]);
	fake_use_split(vqs[1], 7);

	/* The wrong queue: nothing for its callback to find. */
	fake_event(fb, 43, VIRTIO_MSG_EVENT_USED, &used, sizeof(used));
	KUNIT_EXPECT_EQ(test, atomic_read(&test_cb_calls), 0);

	used.index = cpu_to_le32(1);
	fake_event(fb, 43, VIRTIO_MSG_EVENT_USED, &used, sizeof(used));
	KUNIT_EXPECT_EQ(test, atomic_read(&test_cb_calls), 1);
	KUNIT_EXPECT_PTR_EQ(test, virtqueue_get_buf(vqs[1], &len), (void *)buf);
	KUNIT_EXPECT_EQ(test, len, 7);

	vmdev->vdev.config->reset(&vmdev->vdev);
	vmdev->vdev.config->del_vqs(&vmdev->vdev);
}

/*
 * A device that breaks while the driver runs it gets each callback once
 * more, so that a driver waiting for its buffers (virtio_blk) learns that
 * they will not come back; before DRIVER_OK, or after a reset, none. What
 * counts is what the driver wrote: a device that never reports DRIVER_OK
 * back is still running as far as the driver knows.
 */
static void vmsg_test_broken_callbacks(struct kunit *test)
{
	struct virtqueue_info info[2] = { { "a", test_cb }, { "b", test_cb } };
	const u8 running = VIRTIO_CONFIG_S_ACKNOWLEDGE |
			   VIRTIO_CONFIG_S_DRIVER |
			   VIRTIO_CONFIG_S_FEATURES_OK |
			   VIRTIO_CONFIG_S_DRIVER_OK;
	struct virtio_msg_device *vmdev;
	struct virtqueue *vqs[2];
	struct fake_bus *fb;
	int i, ret;

	for (i = 0; i < 4; i++) {
		vmdev = fake_simple(test, &fb, 45);
		/* 3: running, as far as the driver knows. */
		if (i == 3)
			fb->devs[45].status_hide = VIRTIO_CONFIG_S_DRIVER_OK;
		__virtio_set_bit(&vmdev->vdev, VIRTIO_F_VERSION_1);
		ret = vmdev->vdev.config->find_vqs(&vmdev->vdev, 2, vqs, info,
						   NULL);
		KUNIT_ASSERT_EQ(test, ret, 0);
		/* 0: running; 1: not yet running; 2: reset. */
		if (i != 1)
			vmdev->vdev.config->set_status(&vmdev->vdev, running);
		if (i == 2)
			vmdev->vdev.config->reset(&vmdev->vdev);
		atomic_set(&test_cb_calls, 0);
		virtio_msg_bus_peer_lost(&fb->bus);
		flush_workqueue(vmsg_wq);
		KUNIT_EXPECT_TRUE(test, virtqueue_is_broken(vqs[0]));
		KUNIT_EXPECT_EQ_MSG(test, atomic_read(&test_cb_calls),
				    i == 1 || i == 2 ? 0 : 2, "case %d", i);
		vmdev->vdev.config->del_vqs(&vmdev->vdev);
	}
}

/* ---- the bus contract ---- */

/*
 * The bus learns where each ring is before the device does, and that the
 * rings go away only after the device was reset; a bus that refuses a
 * layout fails the queue's setup without freeing rings the device knows.
 */
static void vmsg_test_queue_layout(struct kunit *test)
{
	struct virtqueue_info info[2] = { { "a" }, { "b" } };
	struct virtio_msg_queue_layout *l;
	struct virtio_msg_device *vmdev;
	struct virtqueue *vqs[2];
	struct fake_bus *fb;
	unsigned int i;
	u64 num;
	int ret;

	fb = fake_bus_new(test, 0, &fake_ops_layout);
	fake_dev_add(fb, 12, VMSG_TEST_ID_NODRIVER, 2, 8);
	fake_bus_start(test, fb);
	KUNIT_ASSERT_EQ(test, virtio_msg_bus_add_device(&fb->bus, 12), 0);
	vmdev = fake_wait_dev(fb, 12);
	KUNIT_ASSERT_NOT_NULL(test, vmdev);
	__virtio_set_bit(&vmdev->vdev, VIRTIO_F_VERSION_1);

	ret = vmdev->vdev.config->find_vqs(&vmdev->vdev, 2, vqs, info, NULL);
	KUNIT_ASSERT_EQ(test, ret, 0);
	for (i = 0; i < 2; i++) {
		l = &fb->layouts[i];
		num = virtqueue_get_vring_size(vqs[i]);
		KUNIT_EXPECT_EQ(test, fb->layout_calls[i], 1);
		/* Queue i's SET_VQUEUE comes after its layout call. */
		KUNIT_EXPECT_EQ(test, fb->layout_set_vqueues[i], i);
		KUNIT_EXPECT_FALSE(test, l->packed);
		KUNIT_EXPECT_EQ(test, l->num, num);
		KUNIT_EXPECT_EQ(test, l->desc, virtqueue_get_desc_addr(vqs[i]));
		KUNIT_EXPECT_EQ(test, l->driver,
				virtqueue_get_avail_addr(vqs[i]));
		KUNIT_EXPECT_EQ(test, l->device,
				virtqueue_get_used_addr(vqs[i]));
		KUNIT_EXPECT_EQ(test, l->desc_size, 16 * num);
		KUNIT_EXPECT_EQ(test, l->driver_size, 6 + 2 * num);
		KUNIT_EXPECT_EQ(test, l->device_size, 6 + 8 * num);
		KUNIT_EXPECT_EQ(test, fb->layout_gone[i], 0);
	}
	KUNIT_EXPECT_EQ(test, fb->sent[VIRTIO_MSG_SET_VQUEUE], 2);

	vmdev->vdev.config->set_status(&vmdev->vdev,
				       VIRTIO_CONFIG_S_ACKNOWLEDGE);
	vmdev->vdev.config->del_vqs(&vmdev->vdev);
	KUNIT_EXPECT_EQ(test, fb->layout_gone[0], 1);
	KUNIT_EXPECT_EQ(test, fb->layout_gone[1], 1);
	KUNIT_EXPECT_EQ(test, fb->layout_gone_status, 0);

	/* Refused for queue 1: no SET_VQUEUE for it, reset, both freed. */
	fb->layout_fail_index = 1;
	vmdev->vdev.config->set_status(&vmdev->vdev,
				       VIRTIO_CONFIG_S_ACKNOWLEDGE);
	ret = vmdev->vdev.config->find_vqs(&vmdev->vdev, 2, vqs, info, NULL);
	KUNIT_EXPECT_EQ(test, ret, -ENOSPC);
	KUNIT_EXPECT_EQ(test, fb->sent[VIRTIO_MSG_SET_VQUEUE], 3);
	KUNIT_EXPECT_EQ(test, fb->layout_gone[0], 2);
	KUNIT_EXPECT_EQ(test, fb->layout_gone[1], 2);
	KUNIT_EXPECT_EQ(test, fb->layout_gone_status, 0);
	KUNIT_EXPECT_TRUE(test, list_empty(&vmdev->vdev.vqs));
}

/* Without VIRTIO_MSG_BUS_F_HOTPLUG the peer cannot add devices. */
static void vmsg_test_hotplug_gated(struct kunit *test)
{
	struct virtio_msg_bus_event_device e = {
		.dev_num = cpu_to_le16(3),
		.state = cpu_to_le16(VIRTIO_MSG_BUS_DEVICE_READY),
	};
	u64 buf[2] = {};
	struct virtio_msg_hdr *h = (void *)buf;
	struct fake_bus *fb;
	long bad;

	fb = fake_bus_new(test, 0, &fake_ops);
	fake_dev_add(fb, 3, VMSG_TEST_ID_NODRIVER, 0, 0);
	fake_bus_start(test, fb);
	bad = atomic_long_read(&fb->bus.core->stats.bad_messages);
	virtio_msg_init_bus_request(h, sizeof(buf), VIRTIO_MSG_BUS_EVENT_DEVICE,
				    sizeof(e));
	memcpy(h + 1, &e, sizeof(e));
	virtio_msg_bus_receive(&fb->bus, buf, sizeof(*h) + sizeof(e));
	flush_workqueue(fb->bus.core->wq);
	KUNIT_EXPECT_NULL(test, xa_load(&fb->bus.core->devs, 3));
	KUNIT_EXPECT_EQ(test, fb->sent[VIRTIO_MSG_GET_DEVICE_INFO], 0);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&fb->bus.core->stats.bad_messages),
			bad + 1);
}

/*
 * Two-phase bring-up: the bus talks to its peer and states what it
 * learned before any device exists; devices come once it starts.
 */
static void vmsg_test_two_phase(struct kunit *test)
{
	struct virtio_msg_bus_params p = {
		.revision = VIRTIO_MSG_REVISION,
		.wire = VIRTIO_MSG_WIRE_V1,
		.max_msg_size = 104,
	};
	struct virtio_msg_device *vmdev;
	u64 req[2], resp[4];
	struct virtio_msg_hdr *q = (void *)req;
	struct fake_bus *fb;
	int ret;

	fb = fake_bus_new(test, VIRTIO_MSG_BUS_F_ENUMERATE, &fake_ops);
	fake_dev_add(fb, 44, VMSG_TEST_ID_NODRIVER, 0, 200);
	__set_bit(44, fb->present);
	KUNIT_ASSERT_EQ(test, virtio_msg_bus_register(&fb->bus), 0);
	ret = kunit_add_action_or_reset(test, fake_unregister, fb);
	KUNIT_ASSERT_EQ(test, ret, 0);

	/* Registered, not started: bus requests work, no device comes. */
	virtio_msg_init_bus_request(q, sizeof(req), VIRTIO_MSG_ID_IMPL, 0);
	KUNIT_EXPECT_EQ(test, virtio_msg_bus_transfer(&fb->bus, q, (void *)resp,
						      sizeof(resp)), 12);
	KUNIT_EXPECT_EQ(test, virtio_msg_bus_add_device(&fb->bus, 44), 0);
	msleep(50);
	flush_workqueue(fb->bus.core->wq);
	KUNIT_EXPECT_EQ(test, fb->bus_sent[VIRTIO_MSG_BUS_GET_DEVICES], 0);
	KUNIT_EXPECT_EQ(test, fb->sent[VIRTIO_MSG_GET_DEVICE_INFO], 0);

	p.revision = 2;
	KUNIT_EXPECT_EQ(test, virtio_msg_bus_set_params(&fb->bus, &p), -EINVAL);
	p.revision = VIRTIO_MSG_REVISION;
	p.wire = VIRTIO_MSG_WIRE_V1;
	p.features = BIT(VIRTIO_MSG_F_STRICT_CONFIG_GENERATION);
	KUNIT_EXPECT_EQ(test, virtio_msg_bus_set_params(&fb->bus, &p), -EINVAL);
	p.features = 0;
	p.max_msg_size = FAKE_MAX_MSG + 8;
	KUNIT_EXPECT_EQ(test, virtio_msg_bus_set_params(&fb->bus, &p), -EINVAL);
	p.max_msg_size = 104;
	KUNIT_EXPECT_EQ(test, virtio_msg_bus_set_params(&fb->bus, &p), 0);
	KUNIT_EXPECT_EQ(test, virtio_msg_bus_max_msg_size(&fb->bus), 104);

	KUNIT_ASSERT_EQ(test, virtio_msg_bus_start(&fb->bus), 0);
	vmdev = fake_wait_dev(fb, 44);
	KUNIT_ASSERT_NOT_NULL(test, vmdev);
	KUNIT_EXPECT_EQ(test, vmdev->max_msg, 104);
	/* 200 bytes in chunks of 104 - 8 - 12: three GET_CONFIG. */
	KUNIT_EXPECT_EQ(test, fb->sent[VIRTIO_MSG_GET_CONFIG], 3);
	KUNIT_EXPECT_EQ(test, fb->sent[VIRTIO_MSG_GET_DEVICE_INFO], 1);
	/* The size is fixed while devices hold buffers of it. */
	KUNIT_EXPECT_EQ(test, virtio_msg_bus_set_params(&fb->bus, &p), -EBUSY);
}

static void vmsg_async_transfer(struct work_struct *work)
{
	struct vmsg_async_req *a = container_of(work, struct vmsg_async_req,
						work);
	u64 req[2], resp[4];
	struct virtio_msg_hdr *q = (void *)req;

	virtio_msg_init_bus_request(q, sizeof(req), VIRTIO_MSG_ID_IMPL + 1, 0);
	a->err = virtio_msg_bus_transfer(a->bus, q, (void *)resp, sizeof(resp));
}

/*
 * A bus fails a request it knows will not be answered, at once; a bus
 * response that answers no transfer reaches the bus module.
 */
static void vmsg_test_fail_request(struct kunit *test)
{
	struct virtio_msg_device *vmdev;
	struct vmsg_async_req a = {};
	u64 err[2] = {};
	struct virtio_msg_hdr *h = (void *)err;
	struct fake_bus *fb;
	unsigned int sent;

	fb = fake_bus_new(test, 0, &fake_ops_oob);
	fb->bus.timeout_ms = 10000;
	fake_dev_add(fb, 45, VMSG_TEST_ID_NODRIVER, 0, 0);
	fake_bus_start(test, fb);
	KUNIT_ASSERT_EQ(test, virtio_msg_bus_add_device(&fb->bus, 45), 0);
	vmdev = fake_wait_dev(fb, 45);
	KUNIT_ASSERT_NOT_NULL(test, vmdev);

	/* A transport request. */
	sent = fb->nreq[45];
	fb->mode = FAKE_DROP;
	a.vmdev = vmdev;
	a.result = true;
	INIT_WORK_ONSTACK(&a.work, vmsg_async_get_shm);
	schedule_work(&a.work);
	KUNIT_ASSERT_TRUE(test, WAIT_FOR(READ_ONCE(fb->nreq[45]) == sent + 1));
	KUNIT_EXPECT_EQ(test, virtio_msg_bus_fail_request(&fb->bus, false, 45,
							  VIRTIO_MSG_GET_CONFIG,
							  -EPROTO), -ENOENT);
	KUNIT_EXPECT_EQ(test, virtio_msg_bus_fail_request(&fb->bus, false, 45,
							  VIRTIO_MSG_GET_SHM,
							  -EIO), 0);
	flush_work(&a.work);
	destroy_work_on_stack(&a.work);
	KUNIT_EXPECT_FALSE(test, a.result);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&vmdev->stats.timeouts), 0);
	KUNIT_EXPECT_FALSE(test, READ_ONCE(vmdev->broken));

	/* A bus request. */
	fb->drop_bus = true;
	a.bus = &fb->bus;
	a.err = 1;
	INIT_WORK_ONSTACK(&a.work, vmsg_async_transfer);
	schedule_work(&a.work);
	KUNIT_ASSERT_TRUE(test,
			  WAIT_FOR(READ_ONCE(fb->bus_sent[VIRTIO_MSG_ID_IMPL + 1])));
	KUNIT_EXPECT_EQ(test, virtio_msg_bus_fail_request(&fb->bus, true, 0,
							  VIRTIO_MSG_ID_IMPL + 1,
							  -ECONNRESET), 0);
	flush_work(&a.work);
	destroy_work_on_stack(&a.work);
	KUNIT_EXPECT_EQ(test, a.err, -ECONNRESET);

	/* An implementation-defined response answering nothing: the bus's. */
	virtio_msg_init_bus_request(h, sizeof(err), VIRTIO_MSG_ID_IMPL + 7, 4);
	h->type |= VIRTIO_MSG_TYPE_RESPONSE;
	virtio_msg_bus_receive(&fb->bus, err, sizeof(*h) + 4);
	KUNIT_EXPECT_EQ(test, fb->bus_events, 1);
}

/* Out-of-band used notifications and polls. */
static void vmsg_test_notify_and_poll(struct kunit *test)
{
	struct virtqueue_info info[2] = { { "a", test_cb }, { "b", test_cb } };
	struct virtio_msg_device *vmdev;
	struct virtqueue *vqs[2];
	struct scatterlist sg;
	static u8 buf[2][8];
	struct fake_bus *fb;
	unsigned int len, i;
	u32 gen;
	int ret;

	vmdev = fake_simple(test, &fb, 46);
	__virtio_set_bit(&vmdev->vdev, VIRTIO_F_VERSION_1);
	ret = vmdev->vdev.config->find_vqs(&vmdev->vdev, 2, vqs, info, NULL);
	KUNIT_ASSERT_EQ(test, ret, 0);
	atomic_set(&test_cb_calls, 0);
	for (i = 0; i < 2; i++) {
		sg_init_one(&sg, buf[i], sizeof(buf[i]));
		KUNIT_ASSERT_EQ(test, virtqueue_add_inbuf(vqs[i], &sg, 1, buf[i],
							  GFP_KERNEL), 0);
		virtqueue_kick(vqs[i]);
	}

	fake_use_split(vqs[0], 1);
	virtio_msg_bus_notify_used(&fb->bus, 46, 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&test_cb_calls), 1);
	KUNIT_EXPECT_PTR_EQ(test, virtqueue_get_buf(vqs[0], &len),
			    (void *)buf[0]);

	/* A notification that names no queue runs them all. */
	fake_use_split(vqs[1], 2);
	virtio_msg_bus_notify_used(&fb->bus, 46, VIRTIO_MSG_ALL_VQS);
	KUNIT_EXPECT_GE(test, atomic_read(&test_cb_calls), 2);
	KUNIT_EXPECT_PTR_EQ(test, virtqueue_get_buf(vqs[1], &len),
			    (void *)buf[1]);

	/* A poll re-reads the config; only a change moves the generation. */
	gen = vmdev->vdev.config->generation(&vmdev->vdev);
	virtio_msg_bus_poll_device(&fb->bus, 46);
	flush_workqueue(vmsg_wq);
	KUNIT_EXPECT_EQ(test, vmdev->vdev.config->generation(&vmdev->vdev), gen);
	fb->devs[46].config[1] = 0x77;
	fb->devs[46].gen++;
	virtio_msg_bus_poll_device(&fb->bus, 46);
	flush_workqueue(vmsg_wq);
	KUNIT_EXPECT_NE(test, vmdev->vdev.config->generation(&vmdev->vdev), gen);

	vmdev->vdev.config->reset(&vmdev->vdev);
	vmdev->vdev.config->del_vqs(&vmdev->vdev);
}

/* The peer comes back: old devices go, new ones come, nothing reloads. */
static void vmsg_test_peer_restart(struct kunit *test)
{
	struct virtio_msg_device *old, *vmdev;
	u64 req[2], resp[4];
	struct virtio_msg_hdr *q = (void *)req;
	struct fake_bus *fb;

	fb = fake_bus_new(test, VIRTIO_MSG_BUS_F_ENUMERATE, &fake_ops);
	fake_dev_add(fb, 47, VMSG_TEST_ID_NODRIVER, 0, 0);
	__set_bit(47, fb->present);
	fake_bus_start(test, fb);
	old = fake_wait_dev(fb, 47);
	KUNIT_ASSERT_NOT_NULL(test, old);

	virtio_msg_bus_peer_lost(&fb->bus);
	KUNIT_EXPECT_TRUE(test, READ_ONCE(old->broken));
	virtio_msg_init_bus_request(q, sizeof(req), VIRTIO_MSG_ID_IMPL, 0);
	KUNIT_EXPECT_EQ(test, virtio_msg_bus_transfer(&fb->bus, q, (void *)resp,
						      sizeof(resp)), -ENODEV);

	/* The new peer has another device. */
	__clear_bit(47, fb->present);
	fake_dev_add(fb, 48, VMSG_TEST_ID_NODRIVER, 0, 0);
	__set_bit(48, fb->present);
	virtio_msg_bus_peer_restarted(&fb->bus);
	KUNIT_EXPECT_EQ(test, virtio_msg_bus_transfer(&fb->bus, q, (void *)resp,
						      sizeof(resp)), 12);
	vmdev = fake_wait_dev(fb, 48);
	KUNIT_ASSERT_NOT_NULL(test, vmdev);
	flush_workqueue(fb->bus.core->wq);
	KUNIT_EXPECT_NULL(test, xa_load(&fb->bus.core->devs, 47));
	KUNIT_EXPECT_FALSE(test, READ_ONCE(vmdev->broken));
	KUNIT_EXPECT_EQ(test, fb->bus.core->nr_devs, 1);
	KUNIT_EXPECT_TRUE(test, vmsg_get_shm(vmdev));
}

/*
 * VIRTIO_MSG_BUS_F_REMOVE_LOST: the devices of a lost peer are unregistered
 * (their driver's remove runs on a broken device), and the restarted
 * peer's devices come back.
 */
static void vmsg_test_peer_lost_removes(struct kunit *test)
{
	struct virtio_msg_device *vmdev;
	struct fake_bus *fb;

	fb = fake_bus_new(test, VIRTIO_MSG_BUS_F_ENUMERATE |
			  VIRTIO_MSG_BUS_F_REMOVE_LOST, &fake_ops);
	fake_dev_add(fb, 52, VMSG_TEST_ID_DRIVER, 1, 8);
	fake_dev_add(fb, 53, VMSG_TEST_ID_DRIVER, 1, 8);
	__set_bit(52, fb->present);
	__set_bit(53, fb->present);
	test_drv_nvqs = 1;
	atomic_set(&test_drv_removes, 0);
	fake_bus_start(test, fb);
	KUNIT_ASSERT_NOT_NULL(test, fake_wait_dev(fb, 52));
	KUNIT_ASSERT_NOT_NULL(test, fake_wait_dev(fb, 53));

	virtio_msg_bus_peer_lost(&fb->bus);
	KUNIT_EXPECT_TRUE(test, WAIT_FOR(!xa_load(&fb->bus.core->devs, 52) &&
					 !xa_load(&fb->bus.core->devs, 53)));
	flush_workqueue(fb->bus.core->wq);
	KUNIT_EXPECT_EQ(test, fb->bus.core->nr_devs, 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&test_drv_removes), 2);

	__clear_bit(53, fb->present);
	virtio_msg_bus_peer_restarted(&fb->bus);
	vmdev = fake_wait_dev(fb, 52);
	KUNIT_ASSERT_NOT_NULL(test, vmdev);
	KUNIT_EXPECT_FALSE(test, READ_ONCE(vmdev->broken));
	flush_workqueue(fb->bus.core->wq);
	KUNIT_EXPECT_EQ(test, fb->bus.core->nr_devs, 1);
	KUNIT_EXPECT_TRUE(test, vmsg_get_shm(vmdev));
}

/*
 * The same while a probe waits for its first buffer: the probe sees the
 * queue break and returns, then the device goes; nothing waits for ever.
 */
static void vmsg_test_peer_lost_removes_in_probe(struct kunit *test)
{
	struct fake_bus *fb;

	fb = fake_bus_new(test, VIRTIO_MSG_BUS_F_REMOVE_LOST, &fake_ops);
	fake_dev_add(fb, 54, VMSG_TEST_ID_DRIVER, 1, 8);
	fb->lose_peer_on_kick = true;
	test_drv_nvqs = 1;
	test_drv_spin = true;
	test_drv_spin_result = 0;
	atomic_set(&test_drv_removes, 0);
	fake_bus_start(test, fb);
	KUNIT_ASSERT_EQ(test, virtio_msg_bus_add_device(&fb->bus, 54), 0);

	KUNIT_EXPECT_TRUE(test, WAIT_FOR(READ_ONCE(test_drv_spin_result)));
	test_drv_spin = false;
	KUNIT_EXPECT_EQ(test, READ_ONCE(test_drv_spin_result), 1);
	flush_work(&fb->lose_work);
	KUNIT_EXPECT_TRUE(test, WAIT_FOR(!xa_load(&fb->bus.core->devs, 54)));
	flush_workqueue(fb->bus.core->wq);
	KUNIT_EXPECT_EQ(test, fb->bus.core->nr_devs, 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&test_drv_removes), 1);
	virtio_msg_bus_unregister(&fb->bus);
	KUNIT_EXPECT_NULL(test, fb->bus.core);
}

/* A bus that rewrites tokens: matched without them; a lost answer breaks. */
static void vmsg_test_no_token_echo(struct kunit *test)
{
	struct virtio_msg_device *vmdev;
	u64 req[2], resp[4];
	struct virtio_msg_hdr *q = (void *)req;
	struct fake_bus *fb;

	fb = fake_bus_new(test, VIRTIO_MSG_BUS_F_NO_TOKEN_ECHO, &fake_ops);
	fb->rewrite_token = true;
	fake_dev_add(fb, 49, VMSG_TEST_ID_NODRIVER, 0, 8);
	fake_bus_start(test, fb);
	KUNIT_ASSERT_EQ(test, virtio_msg_bus_add_device(&fb->bus, 49), 0);
	vmdev = fake_wait_dev(fb, 49);
	KUNIT_ASSERT_NOT_NULL(test, vmdev);
	KUNIT_EXPECT_TRUE(test, vmsg_get_shm(vmdev));
	KUNIT_EXPECT_EQ(test, atomic_long_read(&vmdev->stats.unmatched), 0);

	/* A bus request given up breaks the bus channel. */
	fb->drop_bus = true;
	virtio_msg_init_bus_request(q, sizeof(req), VIRTIO_MSG_ID_IMPL, 0);
	KUNIT_EXPECT_EQ(test, virtio_msg_bus_transfer(&fb->bus, q, (void *)resp,
						      sizeof(resp)), -ETIMEDOUT);
	fb->drop_bus = false;
	KUNIT_EXPECT_EQ(test, virtio_msg_bus_transfer(&fb->bus, q, (void *)resp,
						      sizeof(resp)), -EIO);
}

/* Suspend freezes the devices and tells the bus; resume undoes it. */
static void vmsg_test_suspend_resume(struct kunit *test)
{
	struct virtio_msg_device *vmdev;
	struct fake_bus *fb;

	if (!IS_ENABLED(CONFIG_PM_SLEEP))
		kunit_skip(test, "needs CONFIG_PM_SLEEP");
	fb = fake_bus_new(test, 0, &fake_ops_oob);
	fake_dev_add(fb, 50, VMSG_TEST_ID_NODRIVER, 0, 0);
	fake_bus_start(test, fb);
	KUNIT_ASSERT_EQ(test, virtio_msg_bus_add_device(&fb->bus, 50), 0);
	vmdev = fake_wait_dev(fb, 50);
	KUNIT_ASSERT_NOT_NULL(test, vmdev);

	KUNIT_EXPECT_EQ(test, virtio_msg_bus_suspend(&fb->bus), 0);
	KUNIT_EXPECT_EQ(test, fb->suspends, 1);
	KUNIT_EXPECT_EQ(test, virtio_msg_bus_resume(&fb->bus), 0);
	KUNIT_EXPECT_EQ(test, fb->resumes, 1);
	KUNIT_EXPECT_EQ(test, fb->devs[50].status, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	KUNIT_EXPECT_FALSE(test, READ_ONCE(vmdev->broken));
}

/* ---- the v2 wire generation ---- */

/* An unbound device with two queues on a bus that speaks @wire. */
static struct virtio_msg_device *fake_simple_wire(struct kunit *test,
						  struct fake_bus **fbp,
						  u16 dev_num, u8 wire,
						  u32 features)
{
	struct virtio_msg_device *vmdev;
	struct fake_bus *fb;

	fb = fake_bus_new(test, 0, &fake_ops);
	fake_dev_add(fb, dev_num, VMSG_TEST_ID_NODRIVER, 2, 8);
	fake_bus_start_wire(test, fb, wire, features);
	KUNIT_EXPECT_EQ(test, virtio_msg_bus_add_device(&fb->bus, dev_num), 0);
	vmdev = fake_wait_dev(fb, dev_num);
	KUNIT_ASSERT_NOT_NULL(test, vmdev);
	*fbp = fb;
	return vmdev;
}

/*
 * v2 probe: the 44-byte GET_DEVICE_INFO is read (features counted in
 * blocks, the UUID kept), and every queue is checked inactive, enabled
 * and read back: one more round trip per queue than v1.
 */
static void vmsg_test_v2_probe(struct kunit *test)
{
	const unsigned int nvqs = *(const unsigned int *)test->param_value;
	struct virtio_msg_device *vmdev;
	struct fake_dev *fd;
	struct fake_bus *fb;
	unsigned int i;

	fb = fake_bus_new(test, 0, &fake_ops);
	fd = fake_dev_add(fb, 1, VMSG_TEST_ID_DRIVER, nvqs, 8);
	memcpy(fd->uuid, "virtio-msg-v2-id", 16);
	test_drv_nvqs = nvqs;
	atomic_set(&test_drv_probes, 0);
	fake_bus_start_wire(test, fb, VIRTIO_MSG_WIRE_V2, 0);
	KUNIT_ASSERT_EQ(test, virtio_msg_bus_add_device(&fb->bus, 1), 0);

	vmdev = fake_wait_dev(fb, 1);
	KUNIT_ASSERT_NOT_NULL(test, vmdev);
	KUNIT_ASSERT_TRUE(test, WAIT_FOR(vmdev->status &
					 VIRTIO_CONFIG_S_DRIVER_OK));
	KUNIT_EXPECT_EQ(test, atomic_read(&test_drv_probes), 1);
	KUNIT_EXPECT_EQ(test, vmdev->wire, VIRTIO_MSG_WIRE_V2);
	KUNIT_EXPECT_FALSE(test, vmdev->strict_config);
	KUNIT_EXPECT_MEMEQ(test, vmdev->uuid, "virtio-msg-v2-id", 16);
	KUNIT_EXPECT_EQ(test, vmdev->num_feature_bits, 64);
	KUNIT_EXPECT_EQ(test, vmdev->max_vqs, nvqs);
	KUNIT_EXPECT_EQ(test, vmdev->config_size, 8);
	KUNIT_EXPECT_TRUE(test, fb->devs[1].drv_features &
			  BIT_ULL(VIRTIO_F_VERSION_1));

	KUNIT_EXPECT_EQ(test, fb->nreq[1], 9 + 3 * nvqs);
	KUNIT_EXPECT_EQ(test, fb->sent[VIRTIO_MSG_GET_VQUEUE], 2 * nvqs);
	KUNIT_EXPECT_EQ(test, fb->sent[VIRTIO_MSG_SET_VQUEUE], nvqs);
	for (i = 0; i < nvqs; i++) {
		KUNIT_EXPECT_TRUE(test, fd->vq_enabled[i]);
		KUNIT_EXPECT_EQ(test, fd->vq_size[i], FAKE_VQ_SIZE);
		KUNIT_EXPECT_EQ(test, fd->vq_addr[i][0],
				virtqueue_get_desc_addr(test_drv_vqs[i]));
	}
}

enum vmsg_vq_fault {
	VQ_PREENABLED,
	VQ_NO_ENABLE,
	VQ_OTHER_ADDR,
	VQ_OTHER_SIZE,
};

static const enum vmsg_vq_fault vmsg_test_vq_faults[] = {
	VQ_PREENABLED, VQ_NO_ENABLE, VQ_OTHER_ADDR, VQ_OTHER_SIZE,
};

static void vmsg_vq_fault_desc(const enum vmsg_vq_fault *f, char *desc)
{
	static const char * const names[] = {
		"enabled before set-up", "not enabled by SET_VQUEUE",
		"other address read back", "other size read back",
	};

	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s", names[*f]);
}

KUNIT_ARRAY_PARAM(vmsg_vq_fault, vmsg_test_vq_faults, vmsg_vq_fault_desc);

/*
 * v2 queue set-up fails on a device that shows the queue live before it
 * is programmed (-EBUSY, nothing programmed), or whose read-back does not
 * show what was set (-EIO): then the device is reset after the
 * SET_VQUEUE, before the rings are freed. The device is not broken.
 */
static void vmsg_test_v2_vq_readback(struct kunit *test)
{
	const enum vmsg_vq_fault f = *(const enum vmsg_vq_fault *)test->param_value;
	struct virtqueue_info info[1] = { { "a" } };
	struct virtio_msg_device *vmdev;
	struct virtio_device *vdev;
	struct virtqueue *vqs[1];
	struct fake_dev *fd;
	struct fake_bus *fb;
	unsigned int resets;
	int ret;

	vmdev = fake_simple_wire(test, &fb, 30, VIRTIO_MSG_WIRE_V2, 0);
	vdev = &vmdev->vdev;
	fd = &fb->devs[30];
	switch (f) {
	case VQ_PREENABLED:
		fd->vq_enabled[0] = true;
		fd->vq_size[0] = 64;
		break;
	case VQ_NO_ENABLE:
		fd->vq_no_enable = true;
		break;
	case VQ_OTHER_ADDR:
		fd->vq_other_addr = true;
		break;
	case VQ_OTHER_SIZE:
		fd->vq_other_size = true;
		break;
	}
	resets = fb->sent[VIRTIO_MSG_SET_DEVICE_STATUS];

	ret = vdev->config->find_vqs(vdev, 1, vqs, info, NULL);
	KUNIT_EXPECT_EQ(test, ret, f == VQ_PREENABLED ? -EBUSY : -EIO);
	KUNIT_EXPECT_TRUE(test, list_empty(&vdev->vqs));
	KUNIT_EXPECT_FALSE(test, READ_ONCE(vmdev->broken));
	KUNIT_EXPECT_EQ(test, fb->sent[VIRTIO_MSG_SET_DEVICE_STATUS], resets + 1);
	if (f == VQ_PREENABLED) {
		KUNIT_EXPECT_EQ(test, fb->sent[VIRTIO_MSG_SET_VQUEUE], 0);
		KUNIT_EXPECT_EQ(test, fb->sent[VIRTIO_MSG_GET_VQUEUE], 1);
	} else {
		KUNIT_EXPECT_EQ(test, fb->sent[VIRTIO_MSG_SET_VQUEUE], 1);
		KUNIT_EXPECT_EQ(test, fb->sent[VIRTIO_MSG_GET_VQUEUE], 2);
		KUNIT_EXPECT_GT(test, fd->reset_seq, fd->set_vq_seq);
	}

	/* A device that behaves again gets its queue. */
	fd->vq_no_enable = false;
	fd->vq_other_addr = false;
	fd->vq_other_size = false;
	ret = vdev->config->find_vqs(vdev, 1, vqs, info, NULL);
	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_EXPECT_TRUE(test, fd->vq_enabled[0]);
	if (!ret)
		vdev->config->del_vqs(vdev);
}

/* v2 queue reset and re-enable: the same check-program-read back sequence. */
static void vmsg_test_v2_vq_reenable(struct kunit *test)
{
	struct virtqueue_info info[1] = { { "a" } };
	struct virtio_msg_device *vmdev;
	struct virtio_device *vdev;
	struct virtqueue *vqs[1];
	struct fake_dev *fd;
	struct fake_bus *fb;
	int ret;

	vmdev = fake_simple_wire(test, &fb, 31, VIRTIO_MSG_WIRE_V2, 0);
	vdev = &vmdev->vdev;
	fd = &fb->devs[31];
	ret = vdev->config->find_vqs(vdev, 1, vqs, info, NULL);
	KUNIT_ASSERT_EQ(test, ret, 0);
	__virtio_set_bit(vdev, VIRTIO_F_RING_RESET);

	KUNIT_EXPECT_EQ(test, vdev->config->disable_vq_and_reset(vqs[0]), 0);
	KUNIT_EXPECT_FALSE(test, fd->vq_enabled[0]);
	KUNIT_EXPECT_EQ(test, vdev->config->enable_vq_after_reset(vqs[0]), 0);
	KUNIT_EXPECT_TRUE(test, fd->vq_enabled[0]);
	KUNIT_EXPECT_FALSE(test, vqs[0]->reset);
	KUNIT_EXPECT_EQ(test, fb->sent[VIRTIO_MSG_GET_VQUEUE], 4);
	KUNIT_EXPECT_EQ(test, fb->sent[VIRTIO_MSG_SET_VQUEUE], 2);

	/* Not enabled on read-back: the queue is reset again and stays so. */
	KUNIT_EXPECT_EQ(test, vdev->config->disable_vq_and_reset(vqs[0]), 0);
	fd->vq_no_enable = true;
	KUNIT_EXPECT_EQ(test, vdev->config->enable_vq_after_reset(vqs[0]),
			-EIO);
	KUNIT_EXPECT_TRUE(test, vqs[0]->reset);
	KUNIT_EXPECT_EQ(test, fb->sent[VIRTIO_MSG_RESET_VQUEUE], 3);

	/* Live before it is programmed: refused, nothing sent. */
	fd->vq_no_enable = false;
	fd->vq_enabled[0] = true;
	KUNIT_EXPECT_EQ(test, vdev->config->enable_vq_after_reset(vqs[0]),
			-EBUSY);
	KUNIT_EXPECT_EQ(test, fb->sent[VIRTIO_MSG_SET_VQUEUE], 3);
	KUNIT_EXPECT_FALSE(test, READ_ONCE(vmdev->broken));
	vdev->config->del_vqs(vdev);
}

/* v2 GET_SHM: 64-bit length and address reach the bus's op whole. */
static void vmsg_test_v2_shm(struct kunit *test)
{
	struct virtio_shm_region r = {};
	struct virtio_msg_device *vmdev;
	struct fake_bus *fb;

	vmdev = fake_simple_wire(test, &fb, 32, VIRTIO_MSG_WIRE_V2, 0);
	KUNIT_ASSERT_TRUE(test, vmdev->vdev.config->get_shm_region(&vmdev->vdev,
								   &r, 0));
	KUNIT_EXPECT_EQ(test, fb->shm_addr, 0x123456000ULL);
	KUNIT_EXPECT_EQ(test, fb->shm_len, 0x200000000ULL);
	KUNIT_EXPECT_EQ(test, r.addr, 0x123456000ULL);
	KUNIT_EXPECT_EQ(test, r.len, 0x200000000ULL);
	/* Length 0: no such region. */
	KUNIT_EXPECT_FALSE(test, vmdev->vdev.config->get_shm_region(&vmdev->vdev,
								    &r, 1));
	KUNIT_EXPECT_EQ(test, fb->shm_calls, 1);
	KUNIT_EXPECT_FALSE(test, READ_ONCE(vmdev->broken));
}

/*
 * v2 GET_DEVICES: windows after the first have count and next_offset
 * apart, so a core reading the v1 order would stop at the second one.
 */
static void vmsg_test_v2_get_devices(struct kunit *test)
{
	struct fake_bus *fb;
	unsigned int i;

	fb = fake_bus_new(test, VIRTIO_MSG_BUS_F_ENUMERATE, &fake_ops);
	fake_dev_add(fb, 0, VMSG_TEST_ID_NODRIVER, 0, 0);
	fake_dev_add(fb, 17, VMSG_TEST_ID_NODRIVER, 0, 0);
	fake_dev_add(fb, 40, VMSG_TEST_ID_NODRIVER, 0, 0);
	for (i = 0; i < FAKE_NR_DEVS; i++)
		if (fb->devs[i].exists)
			__set_bit(i, fb->present);
	fake_bus_start_wire(test, fb, VIRTIO_MSG_WIRE_V2, 0);

	KUNIT_EXPECT_NOT_NULL(test, fake_wait_dev(fb, 0));
	KUNIT_EXPECT_NOT_NULL(test, fake_wait_dev(fb, 17));
	KUNIT_EXPECT_NOT_NULL(test, fake_wait_dev(fb, 40));
	KUNIT_EXPECT_EQ(test, fb->bus_sent[VIRTIO_MSG_BUS_GET_DEVICES], 4);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&fb->bus.core->stats.bad_messages),
			0);
}

enum vmsg_profile {
	PROFILE_V1,
	PROFILE_V2_STRICT,
	PROFILE_V2_BASELINE,
};

static const enum vmsg_profile vmsg_test_profiles[] = {
	PROFILE_V1, PROFILE_V2_STRICT, PROFILE_V2_BASELINE,
};

static void vmsg_profile_desc(const enum vmsg_profile *p, char *desc)
{
	static const char * const names[] = {
		"v1", "v2 strict", "v2 baseline",
	};

	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s", names[*p]);
}

KUNIT_ARRAY_PARAM(vmsg_profile, vmsg_test_profiles, vmsg_profile_desc);

/*
 * Config writes per profile. Strict (v1, v2 with the feature): the
 * driver's generation goes out, a stale one is rejected, re-read and
 * retried. Baseline: generation 0, no rejection expected; one breaks the
 * device. In v2 a partial write breaks the device; v1 goes on.
 */
static void vmsg_test_config_profiles(struct kunit *test)
{
	const enum vmsg_profile prof = *(const enum vmsg_profile *)test->param_value;
	bool strict = prof != PROFILE_V2_BASELINE;
	struct virtio_msg_device *vmdev, *other;
	struct virtio_device *vdev;
	struct fake_dev *fd;
	struct fake_bus *fb;
	unsigned int sets, gets;

	fb = fake_bus_new(test, 0, &fake_ops);
	fd = fake_dev_add(fb, 2, VMSG_TEST_ID_NODRIVER, 0, 8);
	fake_dev_add(fb, 3, VMSG_TEST_ID_NODRIVER, 0, 8);
	if (prof == PROFILE_V1)
		fake_bus_start(test, fb);
	else
		fake_bus_start_wire(test, fb, VIRTIO_MSG_WIRE_V2,
				    strict ? BIT(VIRTIO_MSG_F_STRICT_CONFIG_GENERATION) : 0);
	KUNIT_ASSERT_EQ(test, virtio_msg_bus_add_device(&fb->bus, 2), 0);
	KUNIT_ASSERT_EQ(test, virtio_msg_bus_add_device(&fb->bus, 3), 0);
	vmdev = fake_wait_dev(fb, 2);
	other = fake_wait_dev(fb, 3);
	KUNIT_ASSERT_NOT_NULL(test, vmdev);
	KUNIT_ASSERT_NOT_NULL(test, other);
	vdev = &vmdev->vdev;
	KUNIT_EXPECT_EQ(test, vmdev->strict_config, strict);

	/* The device moved on to generation 9; the driver still has 7. */
	fd->gen = 9;
	fd->reject_stale = strict;
	sets = fb->sent[VIRTIO_MSG_SET_CONFIG];
	gets = fb->sent[VIRTIO_MSG_GET_CONFIG];
	vdev->config->set(vdev, 0, "ab", 2);
	KUNIT_EXPECT_MEMEQ(test, fd->config, "ab", 2);
	if (strict) {
		KUNIT_EXPECT_EQ(test, fb->sent[VIRTIO_MSG_SET_CONFIG], sets + 2);
		KUNIT_EXPECT_EQ(test, fb->sent[VIRTIO_MSG_GET_CONFIG], gets + 1);
		KUNIT_EXPECT_EQ(test, fb->last_set_gen, 9);
	} else {
		KUNIT_EXPECT_EQ(test, fb->sent[VIRTIO_MSG_SET_CONFIG], sets + 1);
		KUNIT_EXPECT_EQ(test, fb->sent[VIRTIO_MSG_GET_CONFIG], gets);
		KUNIT_EXPECT_EQ(test, fb->last_set_gen, 0);
	}
	KUNIT_EXPECT_FALSE(test, READ_ONCE(vmdev->broken));

	/* A rejection: strict gives up after one retry, baseline breaks. */
	fb->devs[3].reject_all = true;
	other->vdev.config->set(&other->vdev, 0, "xy", 2);
	KUNIT_EXPECT_EQ(test, READ_ONCE(other->broken), !strict);
	KUNIT_EXPECT_NE(test, fb->devs[3].config[0], 'x');

	/* A partial write: v1 sends the rest, v2 breaks the device. */
	fb->set_partial = 1;
	sets = fb->sent[VIRTIO_MSG_SET_CONFIG];
	vdev->config->set(vdev, 2, "cd", 2);
	if (prof == PROFILE_V1) {
		KUNIT_EXPECT_EQ(test, fb->sent[VIRTIO_MSG_SET_CONFIG], sets + 2);
		KUNIT_EXPECT_MEMEQ(test, &fd->config[2], "cd", 2);
		KUNIT_EXPECT_FALSE(test, READ_ONCE(vmdev->broken));
	} else {
		KUNIT_EXPECT_EQ(test, fb->sent[VIRTIO_MSG_SET_CONFIG], sets + 1);
		KUNIT_EXPECT_TRUE(test, READ_ONCE(vmdev->broken));
	}
}

/* What a bus may state, and when. */
static void vmsg_test_set_params(struct kunit *test)
{
	struct virtio_msg_bus_params p = {
		.revision = VIRTIO_MSG_REVISION,
		.wire = VIRTIO_MSG_WIRE_V2,
		.features = BIT(VIRTIO_MSG_F_STRICT_CONFIG_GENERATION),
		.max_msg_size = FAKE_MAX_MSG,
	};
	struct virtio_msg_device *vmdev;
	struct fake_bus *fb;
	int ret;

	fb = fake_bus_new(test, 0, &fake_ops);
	fake_dev_add(fb, 5, VMSG_TEST_ID_NODRIVER, 0, 8);
	KUNIT_ASSERT_EQ(test, virtio_msg_bus_register(&fb->bus), 0);
	ret = kunit_add_action_or_reset(test, fake_unregister, fb);
	KUNIT_ASSERT_EQ(test, ret, 0);
	KUNIT_EXPECT_EQ(test, fb->bus.core->params.wire, VIRTIO_MSG_WIRE_V1);

	KUNIT_EXPECT_EQ(test, virtio_msg_bus_set_params(&fb->bus, &p), 0);
	p.features = BIT(5);
	KUNIT_EXPECT_EQ(test, virtio_msg_bus_set_params(&fb->bus, &p), -EINVAL);
	p.features = BIT(VIRTIO_MSG_F_STRICT_CONFIG_GENERATION);
	p.wire = VIRTIO_MSG_WIRE_V1;
	KUNIT_EXPECT_EQ(test, virtio_msg_bus_set_params(&fb->bus, &p), -EINVAL);
	p.wire = 0;
	p.features = 0;
	KUNIT_EXPECT_EQ(test, virtio_msg_bus_set_params(&fb->bus, &p), -EINVAL);
	p.wire = 3;
	KUNIT_EXPECT_EQ(test, virtio_msg_bus_set_params(&fb->bus, &p), -EINVAL);
	/* The refused calls changed nothing. */
	KUNIT_EXPECT_EQ(test, fb->bus.core->params.wire, VIRTIO_MSG_WIRE_V2);
	KUNIT_EXPECT_EQ(test, fb->bus.core->params.features,
			BIT(VIRTIO_MSG_F_STRICT_CONFIG_GENERATION));

	/* Started, still without a device: the parameters may change. */
	KUNIT_ASSERT_EQ(test, virtio_msg_bus_start(&fb->bus), 0);
	p.wire = VIRTIO_MSG_WIRE_V2;
	p.features = BIT(VIRTIO_MSG_F_STRICT_CONFIG_GENERATION);
	KUNIT_EXPECT_EQ(test, virtio_msg_bus_set_params(&fb->bus, &p), 0);
	fb->wire = VIRTIO_MSG_WIRE_V2;

	KUNIT_ASSERT_EQ(test, virtio_msg_bus_add_device(&fb->bus, 5), 0);
	vmdev = fake_wait_dev(fb, 5);
	KUNIT_ASSERT_NOT_NULL(test, vmdev);
	KUNIT_EXPECT_EQ(test, vmdev->wire, VIRTIO_MSG_WIRE_V2);
	KUNIT_EXPECT_TRUE(test, vmdev->strict_config);
	p.wire = VIRTIO_MSG_WIRE_V1;
	p.features = 0;
	KUNIT_EXPECT_EQ(test, virtio_msg_bus_set_params(&fb->bus, &p), -EBUSY);
	KUNIT_EXPECT_EQ(test, READ_ONCE(fb->bus.core->params.wire),
			VIRTIO_MSG_WIRE_V2);
}

static int vmsg_transport_suite_init(struct kunit_suite *suite)
{
	return register_virtio_driver(&test_drv);
}

static void vmsg_transport_suite_exit(struct kunit_suite *suite)
{
	unregister_virtio_driver(&test_drv);
}

static struct kunit_case vmsg_transport_cases[] = {
	KUNIT_CASE_PARAM(vmsg_test_probe_count, vmsg_nvqs_gen_params),
	KUNIT_CASE(vmsg_test_config),
	KUNIT_CASE(vmsg_test_features_refused),
	KUNIT_CASE(vmsg_test_token_matching),
	KUNIT_CASE(vmsg_test_timeout),
	KUNIT_CASE(vmsg_test_malformed),
	KUNIT_CASE(vmsg_test_kick_coalescing),
	KUNIT_CASE(vmsg_test_device_state),
	KUNIT_CASE(vmsg_test_kick_no_send_event),
	KUNIT_CASE(vmsg_test_vq_events),
	KUNIT_CASE(vmsg_test_notification_data),
	KUNIT_CASE(vmsg_test_oob_and_bus_messages),
	KUNIT_CASE(vmsg_test_peer_lost),
	KUNIT_CASE(vmsg_test_hardirq),
	KUNIT_CASE(vmsg_test_concurrency),
	KUNIT_CASE(vmsg_test_dma_device),
	KUNIT_CASE_PARAM(vmsg_test_get_devices, vmsg_bad_gen_params),
	KUNIT_CASE(vmsg_test_hotplug),
	KUNIT_CASE(vmsg_test_ping),
	KUNIT_CASE(vmsg_test_events_while_creating),
	KUNIT_CASE(vmsg_test_peer_lost_in_probe),
	KUNIT_CASE(vmsg_test_config_event_races),
	KUNIT_CASE(vmsg_test_config_chunks),
	KUNIT_CASE(vmsg_test_token_wrap),
	KUNIT_CASE(vmsg_test_reset_fails),
	KUNIT_CASE(vmsg_test_kick_errors),
	KUNIT_CASE(vmsg_test_shm_needs_bus),
	KUNIT_CASE(vmsg_test_device_limit),
	KUNIT_CASE(vmsg_test_device_policy),
	KUNIT_CASE_PARAM(vmsg_test_min_queue_size, vmsg_ring_gen_params),
	KUNIT_CASE(vmsg_test_indirect_features),
	KUNIT_CASE(vmsg_test_unused_bufs),
	KUNIT_CASE(vmsg_test_standin),
	KUNIT_CASE(vmsg_test_standin_bad_index),
	KUNIT_CASE(vmsg_test_orderly_unregister),
	KUNIT_CASE(vmsg_test_orderly_removal_bounded),
	KUNIT_CASE(vmsg_test_used_buffers),
	KUNIT_CASE(vmsg_test_broken_callbacks),
	KUNIT_CASE(vmsg_test_queue_layout),
	KUNIT_CASE(vmsg_test_hotplug_gated),
	KUNIT_CASE(vmsg_test_two_phase),
	KUNIT_CASE(vmsg_test_fail_request),
	KUNIT_CASE(vmsg_test_notify_and_poll),
	KUNIT_CASE(vmsg_test_peer_restart),
	KUNIT_CASE(vmsg_test_peer_lost_removes),
	KUNIT_CASE(vmsg_test_peer_lost_removes_in_probe),
	KUNIT_CASE(vmsg_test_no_token_echo),
	KUNIT_CASE(vmsg_test_suspend_resume),
	KUNIT_CASE_PARAM(vmsg_test_v2_probe, vmsg_nvqs_gen_params),
	KUNIT_CASE_PARAM(vmsg_test_v2_vq_readback, vmsg_vq_fault_gen_params),
	KUNIT_CASE(vmsg_test_v2_vq_reenable),
	KUNIT_CASE(vmsg_test_v2_shm),
	KUNIT_CASE(vmsg_test_v2_get_devices),
	KUNIT_CASE_PARAM(vmsg_test_config_profiles, vmsg_profile_gen_params),
	KUNIT_CASE(vmsg_test_set_params),
	{}
};

static struct kunit_suite vmsg_transport_suite = {
	.name = "virtio_msg_transport",
	.suite_init = vmsg_transport_suite_init,
	.suite_exit = vmsg_transport_suite_exit,
	.test_cases = vmsg_transport_cases,
};

kunit_test_suite(vmsg_transport_suite);

MODULE_IMPORT_NS(VIRTIO_MSG_NS);
MODULE_IMPORT_NS(VIRTIO_MSG_KUNIT_NS);
MODULE_DESCRIPTION("KUnit tests for the virtio-msg transport core");
MODULE_LICENSE("GPL");

// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests of the virtio-msg AMP bus, against a region in kernel memory
 * and a device side simulated by the test.
 */

#include <kunit/device.h>
#include <kunit/test.h>
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/virtio_msg.h>
#include <linux/virtio_msg_amp.h>
#include <linux/workqueue.h>

/* The test layout: 8 elements of 64 bytes, notification words optional. */
#define SIM_SIZE		8192
#define SIM_N			8
#define SIM_ESIZE		64
#define SIM_DEV_HEAD		128
#define SIM_DRV_HEAD		136
#define SIM_DEV_NOTIF		256
#define SIM_DRV_NOTIF		512
#define SIM_DEV_ELEMS		1024
#define SIM_DRV_ELEMS		2048
#define SIM_WAIT_MS		3000

/**
 * struct sim - the simulated device side
 * @test: the test
 * @parent: the parent device of the bus
 * @region: the shared region
 * @l: its layout header
 * @dev: the device side's queue head
 * @drv: the driver side's queue head
 * @dev_notif: the device side's notification words
 * @drv_notif: the driver side's notification words
 * @num_notif: notification words per direction
 * @amp: the instance under test, once created
 * @lock: serialises the simulated device side with the test's own
 *	writes to the region
 * @work: the device side at work, queued by each doorbell
 * @serve: the device side takes and answers messages
 * @follow: the device side follows the driver's status (hand-shake)
 * @tail: the device side's producer index
 * @head: the device side's consumer index
 * @drv_was_run: the driver side was RUN since the device side's restart
 * @rings: doorbells the driver side rang
 * @get_devices: GET_DEVICES requests seen
 * @ping_resps: PING responses seen, with the data of the last one
 * @ping_data: the data of the last PING response
 * @avail: EVENT_AVAIL messages seen
 * @last_avail: the last of them
 * @other: other messages seen
 */
struct sim {
	struct kunit *test;
	struct device *parent;
	u8 *region;
	struct virtio_msg_amp_layout *l;
	struct virtio_msg_amp_queue_head *dev;
	struct virtio_msg_amp_queue_head *drv;
	__le64 *dev_notif;
	__le64 *drv_notif;
	unsigned int num_notif;
	struct vmsg_amp *amp;
	/* See @lock above. */
	struct mutex lock;
	struct work_struct work;
	bool serve;
	bool follow;
	u16 tail;
	u16 head;
	bool drv_was_run;
	atomic_t rings;
	unsigned int get_devices;
	unsigned int ping_resps;
	u32 ping_data;
	unsigned int avail;
	struct virtio_msg_event_avail last_avail;
	unsigned int other;
};

static u16 st(const struct virtio_msg_amp_queue_head *h)
{
	return le16_to_cpu(READ_ONCE(h->status)) & VIRTIO_MSG_AMP_STATUS_MASK;
}

static void sim_set_status(struct sim *s, u16 status)
{
	/* The reset before the status, as the layout rules say. */
	smp_store_release(&s->dev->status, cpu_to_le16(status));
}

static void sim_doorbell(struct sim *s)
{
	struct vmsg_amp *amp = READ_ONCE(s->amp);

	if (amp)
		vmsg_amp_doorbell(amp);
}

/* The device side (re)starts: INIT, indices 0, READY. */
static void sim_restart(struct sim *s)
{
	sim_set_status(s, VIRTIO_MSG_AMP_STATUS_INIT);
	s->tail = 0;
	s->head = 0;
	s->drv_was_run = false;
	WRITE_ONCE(s->dev->tail, 0);
	WRITE_ONCE(s->dev->head, 0);
	memset(s->region + SIM_DEV_ELEMS, 0, SIM_N * SIM_ESIZE);
	if (s->num_notif)
		memset(s->dev_notif, 0, 3 * 8 * s->num_notif);
	sim_set_status(s, VIRTIO_MSG_AMP_STATUS_READY);
}

/* Queue one device-to-driver message; s->lock held. */
static bool sim_push(struct sim *s, const void *msg, size_t len)
{
	u16 next = (s->tail + 1) % SIM_N;

	/* The driver copied the element out before it moved on. */
	if (next == le16_to_cpu(smp_load_acquire(&s->drv->head)))
		return false;
	memcpy(s->region + SIM_DEV_ELEMS + s->tail * SIM_ESIZE, msg, len);
	s->tail = next;
	/* The element before the index that hands it over. */
	smp_store_release(&s->dev->tail, cpu_to_le16(next));
	return true;
}

static void sim_push_ping(struct sim *s, u16 token, u32 data)
{
	struct {
		struct virtio_msg_hdr hdr;
		struct virtio_msg_bus_ping ping;
	} m = {
		.hdr.type = VIRTIO_MSG_TYPE_BUS,
		.hdr.msg_id = VIRTIO_MSG_BUS_PING,
		.hdr.token = cpu_to_le16(token),
		.hdr.msg_size = cpu_to_le16(sizeof(m)),
		.ping.data = cpu_to_le32(data),
	};

	KUNIT_EXPECT_TRUE(s->test, sim_push(s, &m, sizeof(m)));
}

/* Answer one driver-to-device message; s->lock held. */
static void sim_handle(struct sim *s, const u8 *buf)
{
	const struct virtio_msg_hdr *h = (const void *)buf;
	u8 out[SIM_ESIZE] = { };
	struct virtio_msg_hdr *r = (void *)out;

	if (h->type == VIRTIO_MSG_TYPE_BUS &&
	    h->msg_id == VIRTIO_MSG_BUS_GET_DEVICES) {
		const struct virtio_msg_bus_get_devices_req *q =
			(const void *)(h + 1);
		struct virtio_msg_bus_get_devices_resp *p = (void *)(r + 1);
		u16 count = min_t(u16, le16_to_cpu(q->count),
				  (SIM_ESIZE - sizeof(*r) - sizeof(*p)) * 8);

		count &= ~7;
		s->get_devices++;
		*r = *h;
		r->type |= VIRTIO_MSG_TYPE_RESPONSE;
		r->msg_size = cpu_to_le16(sizeof(*r) + sizeof(*p) + count / 8);
		p->offset = q->offset;
		p->count = cpu_to_le16(count);
		p->next_offset = 0;
		sim_push(s, out, le16_to_cpu(r->msg_size));
	} else if (h->type == VIRTIO_MSG_TYPE_BUS &&
		   h->msg_id == VIRTIO_MSG_BUS_PING) {
		/* The heartbeat: echo it. */
		memcpy(out, buf, sizeof(*h) + 4);
		r->type |= VIRTIO_MSG_TYPE_RESPONSE;
		sim_push(s, out, sizeof(*h) + 4);
	} else if (h->type == (VIRTIO_MSG_TYPE_BUS | VIRTIO_MSG_TYPE_RESPONSE) &&
		   h->msg_id == VIRTIO_MSG_BUS_PING) {
		s->ping_resps++;
		s->ping_data = le32_to_cpup((__le32 *)(h + 1));
	} else if (!h->type && h->msg_id == VIRTIO_MSG_EVENT_AVAIL) {
		s->avail++;
		memcpy(&s->last_avail, h + 1, sizeof(s->last_avail));
	} else {
		s->other++;
	}
}

/* One round of the device side; s->lock held. */
static void sim_step(struct sim *s)
{
	u16 drv = st(s->drv), tail;
	u8 buf[SIM_ESIZE];
	bool rang = false;

	if (s->follow) {
		if (drv == VIRTIO_MSG_AMP_STATUS_RUN)
			s->drv_was_run = true;
		if (st(s->dev) == VIRTIO_MSG_AMP_STATUS_RUN &&
		    (drv == VIRTIO_MSG_AMP_STATUS_INIT ||
		     (drv == VIRTIO_MSG_AMP_STATUS_READY && s->drv_was_run)))
			sim_restart(s);
		/* RUN on the driver's READY only. */
		if (st(s->dev) == VIRTIO_MSG_AMP_STATUS_READY &&
		    drv == VIRTIO_MSG_AMP_STATUS_READY) {
			sim_set_status(s, VIRTIO_MSG_AMP_STATUS_RUN);
			rang = true;
		}
	}
	if (s->serve && st(s->dev) == VIRTIO_MSG_AMP_STATUS_RUN &&
	    drv == VIRTIO_MSG_AMP_STATUS_RUN) {
		/* The driver's elements before its index. */
		tail = le16_to_cpu(smp_load_acquire(&s->drv->tail));
		while (tail < SIM_N && s->head != tail) {
			memcpy(buf, s->region + SIM_DRV_ELEMS + s->head * SIM_ESIZE,
			       sizeof(buf));
			s->head = (s->head + 1) % SIM_N;
			/* Copied out before the slot is handed back. */
			smp_store_release(&s->dev->head, cpu_to_le16(s->head));
			sim_handle(s, buf);
			rang = true;
		}
	}
	if (rang)
		sim_doorbell(s);
}

static void sim_work(struct work_struct *work)
{
	struct sim *s = container_of(work, struct sim, work);

	mutex_lock(&s->lock);
	sim_step(s);
	mutex_unlock(&s->lock);
}

static void sim_ring(void *priv)
{
	struct sim *s = priv;

	atomic_inc(&s->rings);
	schedule_work(&s->work);
}

static const struct vmsg_amp_ops sim_ops = {
	.ring = sim_ring,
};

/* A valid header, device queue head READY, magic last. */
static void sim_layout(struct sim *s, unsigned int num_notif, u16 features)
{
	struct virtio_msg_amp_layout *l = s->l;

	memset(s->region, 0, SIM_SIZE);
	l->length = cpu_to_le16(sizeof(*l));
	l->version = cpu_to_le16(VIRTIO_MSG_AMP_LAYOUT_VERSION);
	l->features = cpu_to_le16(features);
	l->num_notif = num_notif;
	l->num_vq_notif_per_device = num_notif ? 4 : 0;
	l->num_queue_elements = cpu_to_le16(SIM_N);
	l->size_queue_elements = cpu_to_le16(SIM_ESIZE);
	l->dev_notif_offset = cpu_to_le64(num_notif ? SIM_DEV_NOTIF : 0);
	l->dev_queue_head_offset = cpu_to_le64(SIM_DEV_HEAD);
	l->dev_queue_elements_offset = cpu_to_le64(SIM_DEV_ELEMS);
	l->drv_notif_offset = cpu_to_le64(num_notif ? SIM_DRV_NOTIF : 0);
	l->drv_queue_head_offset = cpu_to_le64(SIM_DRV_HEAD);
	l->drv_queue_elements_offset = cpu_to_le64(SIM_DRV_ELEMS);
	s->num_notif = num_notif;

	s->dev->magic = cpu_to_le16(VIRTIO_MSG_AMP_QUEUE_MAGIC);
	sim_restart(s);
	/* The magic last, after everything it vouches for. */
	smp_store_release(&l->magic, cpu_to_le16(VIRTIO_MSG_AMP_LAYOUT_MAGIC));
}

static struct sim *sim_alloc(struct kunit *test)
{
	struct sim *s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, s);
	s->region = kunit_kzalloc(test, SIM_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, s->region);
	s->test = test;
	s->parent = kunit_device_register(test, "vmsg-amp-kunit");
	KUNIT_ASSERT_FALSE(test, IS_ERR(s->parent));
	s->l = (void *)s->region;
	s->dev = (void *)(s->region + SIM_DEV_HEAD);
	s->drv = (void *)(s->region + SIM_DRV_HEAD);
	s->dev_notif = (void *)(s->region + SIM_DEV_NOTIF);
	s->drv_notif = (void *)(s->region + SIM_DRV_NOTIF);
	mutex_init(&s->lock);
	INIT_WORK(&s->work, sim_work);
	s->serve = true;
	s->follow = true;
	return s;
}

static void sim_teardown(void *data)
{
	struct sim *s = data;
	struct vmsg_amp *amp = s->amp;

	if (!amp)
		return;
	vmsg_amp_stop(amp);
	mutex_lock(&s->lock);
	WRITE_ONCE(s->amp, NULL);
	mutex_unlock(&s->lock);
	cancel_work_sync(&s->work);
	vmsg_amp_destroy(amp);
}

static struct vmsg_amp *sim_create(struct sim *s, size_t size,
				   size_t header_extra)
{
	struct kunit *test = s->test;
	struct vmsg_amp_config cfg = {
		.parent = s->parent,
		.base = s->region,
		.size = size,
		.header_extra = header_extra,
		.ops = &sim_ops,
		.priv = s,
	};
	struct vmsg_amp *amp;

	amp = vmsg_amp_create(&cfg);
	if (IS_ERR(amp))
		return amp;
	WRITE_ONCE(s->amp, amp);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, sim_teardown, s),
			0);
	/* As a glue does once its interrupt is there. */
	vmsg_amp_doorbell(amp);
	return amp;
}

/* Wait, bounded, for @cond; the device side runs meanwhile. */
#define sim_wait(s, cond)						\
({									\
	unsigned long __end = jiffies + msecs_to_jiffies(SIM_WAIT_MS);	\
	struct sim *__s = (s);						\
	bool __ok;							\
	for (;;) {							\
		mutex_lock(&__s->lock);					\
		sim_step(__s);						\
		__ok = (cond);						\
		mutex_unlock(&__s->lock);				\
		if (__ok || time_after(jiffies, __end))			\
			break;						\
		usleep_range(5000, 6000);				\
	}								\
	__ok;								\
})

/* A region with a running link; GET_DEVICES answered. */
static struct sim *sim_running(struct kunit *test, unsigned int num_notif,
			       u16 features)
{
	struct sim *s = sim_alloc(test);
	struct vmsg_amp *amp;

	sim_layout(s, num_notif, features);
	amp = sim_create(s, SIM_SIZE, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(amp));
	KUNIT_ASSERT_TRUE(test, sim_wait(s, st(s->drv) == VIRTIO_MSG_AMP_STATUS_RUN &&
					 s->get_devices >= 1));
	return s;
}

/* ------------------------------------------------------------------------
 * Layout validation
 */

static void fill_layout(struct virtio_msg_amp_layout *l)
{
	memset(l, 0, sizeof(*l));
	l->magic = cpu_to_le16(VIRTIO_MSG_AMP_LAYOUT_MAGIC);
	l->length = cpu_to_le16(sizeof(*l));
	l->version = cpu_to_le16(VIRTIO_MSG_AMP_LAYOUT_VERSION);
	l->features = cpu_to_le16(VIRTIO_MSG_AMP_F_MASKED_NOTIF);
	l->num_notif = 2;
	l->num_vq_notif_per_device = 4;
	l->num_queue_elements = cpu_to_le16(SIM_N);
	l->size_queue_elements = cpu_to_le16(SIM_ESIZE);
	l->dev_notif_offset = cpu_to_le64(SIM_DEV_NOTIF);
	l->dev_queue_head_offset = cpu_to_le64(SIM_DEV_HEAD);
	l->dev_queue_elements_offset = cpu_to_le64(SIM_DEV_ELEMS);
	l->drv_notif_offset = cpu_to_le64(SIM_DRV_NOTIF);
	l->drv_queue_head_offset = cpu_to_le64(SIM_DRV_HEAD);
	l->drv_queue_elements_offset = cpu_to_le64(SIM_DRV_ELEMS);
}

static void amp_layout_valid(struct kunit *test)
{
	struct virtio_msg_amp_layout l;
	struct vmsg_amp_geom g;

	fill_layout(&l);
	KUNIT_ASSERT_EQ(test, vmsg_amp_parse_layout(&l, SIM_SIZE, 0, &g), 0);
	KUNIT_EXPECT_EQ(test, g.num_elems, SIM_N);
	KUNIT_EXPECT_EQ(test, g.elem_size, SIM_ESIZE);
	KUNIT_EXPECT_EQ(test, g.num_notif, 2);
	KUNIT_EXPECT_EQ(test, g.vq_bits, 4);
	KUNIT_EXPECT_TRUE(test, g.masked);
	KUNIT_EXPECT_EQ(test, g.end, SIM_DRV_ELEMS + SIM_N * SIM_ESIZE);

	/* QEMU: no notification words, both offsets 0, vq bits 0. */
	l.num_notif = 0;
	l.num_vq_notif_per_device = 0;
	l.features = 0;
	l.dev_notif_offset = 0;
	l.drv_notif_offset = 0;
	KUNIT_EXPECT_EQ(test, vmsg_amp_parse_layout(&l, SIM_SIZE, 0, &g), 0);
	KUNIT_EXPECT_EQ(test, g.num_notif, 0);

	/* Exactly as large as needed. */
	fill_layout(&l);
	KUNIT_EXPECT_EQ(test, vmsg_amp_parse_layout(&l, SIM_DRV_ELEMS +
						    SIM_N * SIM_ESIZE, 0, &g),
			0);
}

struct layout_case {
	const char *name;
	void (*apply)(struct virtio_msg_amp_layout *l);
	size_t size;
	size_t extra;
};

#define LCASE(n, body)							\
static void lc_##n(struct virtio_msg_amp_layout *l) { body; }

LCASE(magic, l->magic = cpu_to_le16(0x4f4c))
LCASE(length, l->length = cpu_to_le16(63))
LCASE(version, l->version = cpu_to_le16(2))
LCASE(features, l->features |= cpu_to_le16(0x0002))
LCASE(num_notif, l->num_notif = 65)
LCASE(vq_bits_0, l->num_vq_notif_per_device = 0)
LCASE(vq_bits_3, l->num_vq_notif_per_device = 3)
LCASE(vq_bits_32, l->num_vq_notif_per_device = 32)
LCASE(elems_1, l->num_queue_elements = cpu_to_le16(1))
LCASE(esize_0, l->size_queue_elements = 0)
LCASE(esize_small, l->size_queue_elements = cpu_to_le16(VIRTIO_MSG_MAX_SIZE_MIN - 1))
LCASE(reserved, l->reserved = cpu_to_le16(1))
LCASE(dev_head_0, l->dev_queue_head_offset = 0)
LCASE(drv_head_0, l->drv_queue_head_offset = 0)
LCASE(dev_elems_0, l->dev_queue_elements_offset = 0)
LCASE(drv_elems_0, l->drv_queue_elements_offset = 0)
LCASE(dev_notif_0, l->dev_notif_offset = 0)
LCASE(drv_notif_0, l->drv_notif_offset = 0)
LCASE(notif_align, l->drv_notif_offset = cpu_to_le64(SIM_DRV_NOTIF + 4))
LCASE(head_align, l->dev_queue_head_offset = cpu_to_le64(SIM_DEV_HEAD + 1))
LCASE(out_of_bounds, l->drv_queue_elements_offset = cpu_to_le64(SIM_SIZE - 8))
LCASE(offset_wraps, l->dev_queue_elements_offset = cpu_to_le64(U64_MAX - 8))
LCASE(overlap, l->drv_queue_head_offset = cpu_to_le64(SIM_DEV_HEAD + 4))
LCASE(overlap_elems, l->drv_queue_elements_offset = cpu_to_le64(SIM_DEV_ELEMS + SIM_ESIZE))
LCASE(overlap_notif, l->drv_notif_offset = cpu_to_le64(SIM_DEV_NOTIF + 40))
LCASE(overlap_header, l->dev_queue_head_offset = cpu_to_le64(56))
LCASE(overlap_extra, l->dev_queue_head_offset = cpu_to_le64(64))

static void lc_none(struct virtio_msg_amp_layout *l)
{
}

static const struct layout_case layout_cases[] = {
	{ "magic", lc_magic },
	{ "length", lc_length },
	{ "version", lc_version },
	{ "unknown feature", lc_features },
	{ "num_notif above 64", lc_num_notif },
	{ "num_vq_notif_per_device 0", lc_vq_bits_0 },
	{ "num_vq_notif_per_device 3", lc_vq_bits_3 },
	{ "num_vq_notif_per_device 32", lc_vq_bits_32 },
	{ "one element", lc_elems_1 },
	{ "element size 0", lc_esize_0 },
	{ "element size below the smallest message", lc_esize_small },
	{ "reserved", lc_reserved },
	{ "device queue head offset 0", lc_dev_head_0 },
	{ "driver queue head offset 0", lc_drv_head_0 },
	{ "device elements offset 0", lc_dev_elems_0 },
	{ "driver elements offset 0", lc_drv_elems_0 },
	{ "device notification offset 0", lc_dev_notif_0 },
	{ "driver notification offset 0", lc_drv_notif_0 },
	{ "notification words misaligned", lc_notif_align },
	{ "queue head misaligned", lc_head_align },
	{ "area out of the region", lc_out_of_bounds },
	{ "offset that wraps", lc_offset_wraps },
	{ "queue heads overlap", lc_overlap },
	{ "message queues overlap", lc_overlap_elems },
	{ "notification areas overlap", lc_overlap_notif },
	{ "area over the header", lc_overlap_header },
	{ "area over the ivshmem peer ID", lc_overlap_extra, 0, 4 },
	{ "region smaller than the layout", lc_none, SIM_DRV_ELEMS + SIM_N * SIM_ESIZE - 1 },
	{ "region smaller than the header", lc_none, 32 },
};

static void layout_case_desc(const struct layout_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(layout, layout_cases, layout_case_desc);

static void amp_layout_rule(struct kunit *test)
{
	const struct layout_case *c = test->param_value;
	struct virtio_msg_amp_layout l;
	struct vmsg_amp_geom g;

	fill_layout(&l);
	/* The unbroken header passes with the same size and extra bytes. */
	if (c->apply != lc_none)
		KUNIT_ASSERT_EQ(test, vmsg_amp_parse_layout(&l, c->size ?: SIM_SIZE,
							    c->extra, &g), 0);
	c->apply(&l);
	KUNIT_EXPECT_LT(test, vmsg_amp_parse_layout(&l, c->size ?: SIM_SIZE,
						    c->extra, &g), 0);
}

/* A broken header in a region is refused by vmsg_amp_create(). */
static void amp_create_refuses(struct kunit *test)
{
	struct sim *s = sim_alloc(test);

	sim_layout(s, 0, 0);
	s->l->reserved = cpu_to_le16(1);
	KUNIT_EXPECT_EQ(test, PTR_ERR(sim_create(s, SIM_SIZE, 0)), -EINVAL);
	/* Nothing of the driver side was written. */
	KUNIT_EXPECT_EQ(test, le16_to_cpu(s->drv->magic), 0);

	sim_layout(s, 0, 0);
	KUNIT_EXPECT_EQ(test, PTR_ERR(sim_create(s, SIM_DRV_ELEMS, 0)), -EINVAL);
}

/* ------------------------------------------------------------------------
 * Hand-shake
 */

static void amp_handshake(struct kunit *test)
{
	struct sim *s = sim_running(test, 0, 0);

	KUNIT_EXPECT_EQ(test, le16_to_cpu(s->drv->magic),
			VIRTIO_MSG_AMP_QUEUE_MAGIC);
	KUNIT_EXPECT_EQ(test, st(s->dev), VIRTIO_MSG_AMP_STATUS_RUN);
	KUNIT_EXPECT_EQ(test, s->get_devices, 1);
	KUNIT_EXPECT_EQ(test, s->other, 0);
}

/*
 * A previous driver left its side RUN with indices in the middle of the
 * queues, and the device side still RUN with a PING queued for it. The new
 * driver must reset its side, wait for the device side to restart, and
 * never answer the old PING.
 */
static void amp_handshake_stale(struct kunit *test)
{
	struct sim *s = sim_alloc(test);
	struct vmsg_amp *amp;

	sim_layout(s, 0, 0);
	s->drv->magic = cpu_to_le16(VIRTIO_MSG_AMP_QUEUE_MAGIC);
	s->drv->status = cpu_to_le16(VIRTIO_MSG_AMP_STATUS_RUN);
	s->drv->tail = cpu_to_le16(5);
	s->drv->head = cpu_to_le16(3);
	memset(s->region + SIM_DRV_ELEMS, 0xa5, SIM_N * SIM_ESIZE);
	sim_set_status(s, VIRTIO_MSG_AMP_STATUS_RUN);
	s->head = 5;
	s->tail = 3;
	sim_push_ping(s, 7, 0xdead);
	s->dev->head = cpu_to_le16(5);

	amp = sim_create(s, SIM_SIZE, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(amp));
	KUNIT_ASSERT_TRUE(test, sim_wait(s, st(s->drv) == VIRTIO_MSG_AMP_STATUS_RUN &&
					 s->get_devices >= 1));
	/* The driver queue was zeroed and restarted from 0. */
	KUNIT_EXPECT_EQ(test, s->region[SIM_DRV_ELEMS + SIM_N * SIM_ESIZE - 1], 0);
	msleep(50);
	mutex_lock(&s->lock);
	sim_step(s);
	KUNIT_EXPECT_EQ(test, s->ping_resps, 0);
	KUNIT_EXPECT_EQ(test, s->other, 0);
	mutex_unlock(&s->lock);
}

/* ------------------------------------------------------------------------
 * Messages
 */

/* PINGs from the device side, answered by the core: both queues wrap. */
static void amp_wraparound(struct kunit *test)
{
	struct sim *s = sim_running(test, 0, 0);
	unsigned int i, j, sent = 0;

	for (i = 0; i < 4 * SIM_N / 3; i++) {
		mutex_lock(&s->lock);
		for (j = 0; j < 3; j++) {
			sent++;
			sim_push_ping(s, sent, 1000 + sent);
		}
		mutex_unlock(&s->lock);
		sim_doorbell(s);
		KUNIT_ASSERT_TRUE(test, sim_wait(s, s->ping_resps == sent));
		KUNIT_EXPECT_EQ(test, s->ping_data, 1000 + sent);
	}
	KUNIT_EXPECT_EQ(test, s->other, 0);
}

/*
 * The device side stops taking messages: kicks meet a full queue
 * (-EAGAIN), and once it takes them again and rings, the core hears that
 * there is room.
 */
static void amp_full_queue(struct kunit *test)
{
	struct sim *s = sim_running(test, 0, 0);
	struct virtio_msg_bus *bus = vmsg_amp_kunit_bus(s->amp);
	struct {
		struct virtio_msg_hdr hdr;
		struct virtio_msg_event_avail avail;
	} ev = {
		.hdr.msg_id = VIRTIO_MSG_EVENT_AVAIL,
		.hdr.dev_num = cpu_to_le16(1),
		.hdr.msg_size = cpu_to_le16(sizeof(ev)),
	};
	unsigned long ready;
	unsigned int i;
	int ret = 0;

	mutex_lock(&s->lock);
	s->serve = false;
	mutex_unlock(&s->lock);
	ready = vmsg_amp_kunit_tx_ready(s->amp);

	/* One slot always stays unused. */
	for (i = 0; i < SIM_N - 1; i++) {
		ev.avail.vq_index = cpu_to_le32(i);
		ret = bus->desc->ops->send_event(bus, &ev.hdr);
		KUNIT_EXPECT_EQ(test, ret, 0);
	}
	KUNIT_EXPECT_EQ(test, bus->desc->ops->send_event(bus, &ev.hdr), -EAGAIN);

	mutex_lock(&s->lock);
	s->serve = true;
	mutex_unlock(&s->lock);
	KUNIT_EXPECT_TRUE(test, sim_wait(s, s->avail == SIM_N - 1 &&
					 vmsg_amp_kunit_tx_ready(s->amp) > ready));
	KUNIT_EXPECT_EQ(test, le32_to_cpu(s->last_avail.vq_index), SIM_N - 2);
	KUNIT_EXPECT_EQ(test, bus->desc->ops->send_event(bus, &ev.hdr), 0);
	KUNIT_EXPECT_TRUE(test, sim_wait(s, s->avail == SIM_N));

	/* Too large for an element: refused, not truncated. */
	ev.hdr.msg_size = cpu_to_le16(SIM_ESIZE + 1);
	KUNIT_EXPECT_EQ(test, bus->desc->ops->send_event(bus, &ev.hdr), -EINVAL);
}

/* ------------------------------------------------------------------------
 * Notification words
 */

static u64 word(const __le64 *w, unsigned int i)
{
	return le64_to_cpu(READ_ONCE(w[i]));
}

static void amp_notif(struct kunit *test)
{
	struct sim *s = sim_running(test, 2, VIRTIO_MSG_AMP_F_MASKED_NOTIF);
	struct virtio_msg_bus *bus = vmsg_amp_kunit_bus(s->amp);
	/* Device 3, virtqueue 5, 4 bits per device: bit 1 + 3 * 4 + 5 % 4. */
	const u64 bit = BIT_ULL(1 + 3 * 4 + 1);
	unsigned int rings;
	u64 tx;

	KUNIT_EXPECT_TRUE(test, bus->desc->flags & VIRTIO_MSG_BUS_F_OOB_NOTIFY);
	mutex_lock(&s->lock);
	tx = word(s->drv_notif, 0);
	rings = atomic_read(&s->rings);
	KUNIT_EXPECT_EQ(test, bus->desc->ops->notify_vq(bus, 3, 5, 0), 0);
	KUNIT_EXPECT_EQ(test, word(s->drv_notif, 0) ^ tx, bit);
	KUNIT_EXPECT_EQ(test, atomic_read(&s->rings), rings + 1);
	KUNIT_EXPECT_EQ(test, bus->desc->ops->notify_vq(bus, 3, 5, 0), 0);
	KUNIT_EXPECT_EQ(test, word(s->drv_notif, 0), tx);

	/* Masked by the device side: toggled, no doorbell. */
	s->dev_notif[2 * 2 + 0] = cpu_to_le64(bit);
	rings = atomic_read(&s->rings);
	KUNIT_EXPECT_EQ(test, bus->desc->ops->notify_vq(bus, 3, 9, 0), 0);
	KUNIT_EXPECT_EQ(test, word(s->drv_notif, 0) ^ tx, bit);
	KUNIT_EXPECT_EQ(test, atomic_read(&s->rings), rings);
	s->dev_notif[2 * 2 + 0] = 0;

	/* Second word: device 20, virtqueue 2 is bit 83. */
	tx = word(s->drv_notif, 1);
	KUNIT_EXPECT_EQ(test, bus->desc->ops->notify_vq(bus, 20, 2, 0), 0);
	KUNIT_EXPECT_EQ(test, word(s->drv_notif, 1) ^ tx, BIT_ULL(83 - 64));

	/* Beyond the 128 bits: an EVENT_AVAIL message instead. */
	KUNIT_EXPECT_EQ(test, bus->desc->ops->notify_vq(bus, 40, 5, 0), 0);
	mutex_unlock(&s->lock);
	KUNIT_EXPECT_TRUE(test, sim_wait(s, s->avail == 1));
	KUNIT_EXPECT_EQ(test, le32_to_cpu(s->last_avail.vq_index), 5);

	/* A message toggles bit 0. */
	mutex_lock(&s->lock);
	tx = word(s->drv_notif, 0);
	sim_push_ping(s, 1, 1);
	mutex_unlock(&s->lock);
	sim_doorbell(s);
	KUNIT_EXPECT_TRUE(test, sim_wait(s, s->ping_resps == 1));
	KUNIT_EXPECT_EQ(test, (word(s->drv_notif, 0) ^ tx) & BIT_ULL(0),
			BIT_ULL(0));

	/* Device to driver: the driver acknowledges in its rx words. */
	mutex_lock(&s->lock);
	s->dev_notif[0] = cpu_to_le64(word(s->dev_notif, 0) ^ bit);
	s->dev_notif[1] = cpu_to_le64(word(s->dev_notif, 1) ^ BIT_ULL(5));
	mutex_unlock(&s->lock);
	sim_doorbell(s);
	KUNIT_EXPECT_TRUE(test, sim_wait(s, word(s->drv_notif, 2) == word(s->dev_notif, 0) &&
					 word(s->drv_notif, 3) == word(s->dev_notif, 1)));
	KUNIT_EXPECT_EQ(test, st(s->drv), VIRTIO_MSG_AMP_STATUS_RUN);
}

/* Every bit at once, many times: bounded passes, all acknowledged. */
static void amp_notif_flood(struct kunit *test)
{
	struct sim *s = sim_running(test, 8, 0);
	unsigned int i, w;

	for (i = 0; i < 50; i++) {
		mutex_lock(&s->lock);
		for (w = 0; w < 8; w++)
			s->dev_notif[w] = cpu_to_le64(~word(s->dev_notif, w));
		mutex_unlock(&s->lock);
		sim_doorbell(s);
	}
	KUNIT_EXPECT_TRUE(test, sim_wait(s, !memcmp(s->drv_notif + 8,
						    s->dev_notif, 8 * 8)));
	KUNIT_EXPECT_EQ(test, st(s->drv), VIRTIO_MSG_AMP_STATUS_RUN);
}

/* ------------------------------------------------------------------------
 * A hostile device side, and restarts
 */

/* The driver gave up; the device side restarts; the devices come back. */
static void expect_dead_then_back(struct kunit *test, struct sim *s)
{
	unsigned int scans;

	KUNIT_ASSERT_TRUE(test, sim_wait(s, st(s->drv) ==
					 VIRTIO_MSG_AMP_STATUS_PEER_DEAD));
	mutex_lock(&s->lock);
	scans = s->get_devices;
	s->l->magic = cpu_to_le16(VIRTIO_MSG_AMP_LAYOUT_MAGIC);
	s->dev->magic = cpu_to_le16(VIRTIO_MSG_AMP_QUEUE_MAGIC);
	sim_restart(s);
	mutex_unlock(&s->lock);
	sim_doorbell(s);
	KUNIT_EXPECT_TRUE(test, sim_wait(s, st(s->drv) == VIRTIO_MSG_AMP_STATUS_RUN &&
					 s->get_devices > scans));
}

/* Each a rule a device side breaks while the link runs. */
struct hostile_case {
	const char *name;
	void (*apply)(struct sim *s);
};

static void hc_tail(struct sim *s)
{
	s->dev->tail = cpu_to_le16(SIM_N + 3);
}

static void hc_head(struct sim *s)
{
	s->dev->head = cpu_to_le16(0xffff);
}

static void hc_layout_magic(struct sim *s)
{
	s->l->magic = 0;
}

static void hc_queue_magic(struct sim *s)
{
	s->dev->magic = cpu_to_le16(0x1234);
}

static void hc_status(struct sim *s)
{
	s->dev->status = cpu_to_le16(9);
}

static const struct hostile_case hostile_cases[] = {
	{ "producer index out of range", hc_tail },
	{ "consumer index out of range", hc_head },
	{ "layout magic flipped", hc_layout_magic },
	{ "queue head magic flipped", hc_queue_magic },
	{ "status that makes no sense", hc_status },
};

static void hostile_case_desc(const struct hostile_case *c, char *desc)
{
	strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(hostile, hostile_cases, hostile_case_desc);

/* Declared dead, then back after a restart; twice, to see it recover. */
static void amp_hostile(struct kunit *test)
{
	const struct hostile_case *c = test->param_value;
	struct sim *s = sim_running(test, 0, 0);
	unsigned int i;

	for (i = 0; i < 2; i++) {
		mutex_lock(&s->lock);
		c->apply(s);
		mutex_unlock(&s->lock);
		sim_doorbell(s);
		expect_dead_then_back(test, s);
	}
}

/* INIT, READY, RUN again while the driver runs: a restart. */
static void amp_restart(struct kunit *test)
{
	struct sim *s = sim_running(test, 0, 0);
	unsigned int scans;

	mutex_lock(&s->lock);
	scans = s->get_devices;
	sim_restart(s);
	mutex_unlock(&s->lock);
	sim_doorbell(s);
	KUNIT_EXPECT_TRUE(test, sim_wait(s, st(s->drv) == VIRTIO_MSG_AMP_STATUS_RUN &&
					 st(s->dev) == VIRTIO_MSG_AMP_STATUS_RUN &&
					 s->get_devices > scans));
}

/* An orderly SHUTDOWN, then a restart. */
static void amp_shutdown(struct kunit *test)
{
	struct sim *s = sim_running(test, 0, 0);
	unsigned int scans;

	mutex_lock(&s->lock);
	s->follow = false;
	scans = s->get_devices;
	sim_set_status(s, VIRTIO_MSG_AMP_STATUS_SHUTDOWN);
	mutex_unlock(&s->lock);
	sim_doorbell(s);
	KUNIT_ASSERT_TRUE(test, sim_wait(s, st(s->drv) == VIRTIO_MSG_AMP_STATUS_READY));
	mutex_lock(&s->lock);
	s->follow = true;
	sim_restart(s);
	mutex_unlock(&s->lock);
	sim_doorbell(s);
	KUNIT_EXPECT_TRUE(test, sim_wait(s, st(s->drv) == VIRTIO_MSG_AMP_STATUS_RUN &&
					 s->get_devices > scans));
}

/* Stopping tells the device side. */
static void amp_stop(struct kunit *test)
{
	struct sim *s = sim_running(test, 0, 0);

	vmsg_amp_stop(s->amp);
	KUNIT_EXPECT_EQ(test, st(s->drv), VIRTIO_MSG_AMP_STATUS_SHUTDOWN);
	/* A doorbell after stop is harmless. */
	vmsg_amp_doorbell(s->amp);
}

static struct kunit_case vmsg_amp_cases[] = {
	KUNIT_CASE(amp_layout_valid),
	KUNIT_CASE_PARAM(amp_layout_rule, layout_gen_params),
	KUNIT_CASE(amp_create_refuses),
	KUNIT_CASE(amp_handshake),
	KUNIT_CASE(amp_handshake_stale),
	KUNIT_CASE(amp_wraparound),
	KUNIT_CASE(amp_full_queue),
	KUNIT_CASE(amp_notif),
	KUNIT_CASE(amp_notif_flood),
	KUNIT_CASE_PARAM(amp_hostile, hostile_gen_params),
	KUNIT_CASE(amp_restart),
	KUNIT_CASE(amp_shutdown),
	KUNIT_CASE(amp_stop),
	{ }
};

static struct kunit_suite vmsg_amp_suite = {
	.name = "virtio_msg_amp",
	.test_cases = vmsg_amp_cases,
};

kunit_test_suite(vmsg_amp_suite);

MODULE_IMPORT_NS(VIRTIO_MSG_NS);
MODULE_IMPORT_NS(VIRTIO_MSG_KUNIT_NS);
MODULE_DESCRIPTION("KUnit tests of the virtio-msg AMP bus");
MODULE_LICENSE("GPL");

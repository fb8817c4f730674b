// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-msg device side over the AMP bus (shared-memory message queues).
 *
 * Shared memory is touched in three ways only: plain copies of message
 * elements and virtqueue memory (always bounds-checked, always copied
 * before anything is decided on them), and single 16- or 64-bit atomic
 * loads and stores of queue-head and notification words, with acquire
 * and release ordering where the layout's rules require it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <virtio-msg/amp.h>

#include "internal.h"

#define HEAD_MAGIC	offsetof(struct virtio_msg_amp_queue_head, magic)
#define HEAD_STATUS	offsetof(struct virtio_msg_amp_queue_head, status)
#define HEAD_TAIL	offsetof(struct virtio_msg_amp_queue_head, tail)
#define HEAD_HEAD	offsetof(struct virtio_msg_amp_queue_head, head)

/* Message-queue lengths taken per vmsg_amp_poll(). */
#define AMP_POLL_QUEUES		4
/* A full queue: wait this long for the driver side to make room. */
#define AMP_FULL_WAIT_NS	100000L
#define AMP_FULL_TRIES		10000

/* What the driver side's queue head says, once checked. */
enum drv_state {
	DRV_ABSENT,	/* no queue magic: not started */
	DRV_INIT,
	DRV_READY,
	DRV_RUN,
	DRV_STOPPED,	/* SHUTDOWN or PEER_DEAD */
	DRV_BAD,	/* a status that means nothing */
};

struct vmsg_amp {
	uint8_t *base;
	size_t size;
	struct vmsg_amp_config cfg;
	struct vmsg_transport *t;
	uint16_t n;			/* elements per queue */
	uint16_t esize;			/* bytes per element */
	uint64_t dev_head, drv_head;	/* queue head offsets */
	uint64_t dev_elems, drv_elems;	/* element area offsets */
	uint64_t dev_notif, drv_notif;	/* notification areas, or 0 */
	uint64_t window;		/* the driver's window */
	/* Private copies: never read back from the region. */
	unsigned int status;
	uint16_t tail;			/* producer index into our queue */
	uint16_t head;			/* consumer index into the driver's */
	uint64_t notif_tx[VIRTIO_MSG_AMP_MAX_NOTIF];
	uint64_t notif_rx[VIRTIO_MSG_AMP_MAX_NOTIF];
	bool wait_leave_run;		/* stale RUN found at (re)start */
	bool drv_stopped;		/* driver said SHUTDOWN/PEER_DEAD */
	bool drv_ran;			/* driver showed RUN since our RUN */
	bool ring_pending;		/* sent since the last doorbell */
	bool queue_stuck;		/* a send gave up on a full queue */
	bool started;			/* a hand-shake completed once */
	enum drv_state drv;		/* as last read */
	uint8_t *rbuf;			/* one element, copied out */
	uint8_t evbuf[VIRTIO_MSG_HDR_SIZE +
		      sizeof(struct virtio_msg_event_avail)];
	struct vmsg_amp_stats stats;
};

/* Atomic accessors of little-endian words in the region. */
static uint16_t ld16(const uint8_t *p, int order)
{
	return le16toh(__atomic_load_n((const uint16_t *)p, order));
}

static void st16(uint8_t *p, uint16_t v, int order)
{
	__atomic_store_n((uint16_t *)p, htole16(v), order);
}

static uint64_t ld64(const uint8_t *p, int order)
{
	return le64toh(__atomic_load_n((const uint64_t *)p, order));
}

static void st64(uint8_t *p, uint64_t v, int order)
{
	__atomic_store_n((uint64_t *)p, htole64(v), order);
}

static size_t notif_area_size(const struct vmsg_amp_config *cfg)
{
	return (size_t)cfg->num_notif * 8 * (cfg->masked_notif ? 3 : 2);
}

static bool config_ok(const struct vmsg_amp_config *cfg)
{
	unsigned int k = cfg->vq_notif_per_device;

	if (!cfg->ring || cfg->num_elements < VIRTIO_MSG_AMP_MIN_ELEMENTS ||
	    cfg->element_size < VIRTIO_MSG_MAX_SIZE_MIN ||
	    cfg->num_notif > VIRTIO_MSG_AMP_MAX_NOTIF)
		return false;
	if (cfg->num_notif && (k < 1 || k > 16 || (k & (k - 1))))
		return false;
	return true;
}

/*
 * The header this device side writes, magic included, followed by the
 * peer ID: VMSG_AMP_HEADER_AREA bytes.
 */
static void build_header(const struct vmsg_amp *amp, uint8_t *h)
{
	const struct vmsg_amp_config *cfg = &amp->cfg;

	memset(h, 0, VMSG_AMP_HEADER_AREA);
	vmsg_put_le16(h + 0, VIRTIO_MSG_AMP_LAYOUT_MAGIC);
	vmsg_put_le16(h + 2, sizeof(struct virtio_msg_amp_layout));
	vmsg_put_le16(h + 4, VIRTIO_MSG_AMP_LAYOUT_VERSION);
	vmsg_put_le16(h + 6, cfg->num_notif && cfg->masked_notif ?
		      VIRTIO_MSG_AMP_F_MASKED_NOTIF : 0);
	h[8] = cfg->num_notif;
	h[9] = cfg->num_notif ? cfg->vq_notif_per_device : 1;
	vmsg_put_le16(h + 10, amp->n);
	vmsg_put_le16(h + 12, amp->esize);
	vmsg_put_le64(h + 16, amp->dev_notif);
	vmsg_put_le64(h + 24, amp->dev_head);
	vmsg_put_le64(h + 32, amp->dev_elems);
	vmsg_put_le64(h + 40, amp->drv_notif);
	vmsg_put_le64(h + 48, amp->drv_head);
	vmsg_put_le64(h + 56, amp->drv_elems);
	vmsg_put_le32(h + VMSG_AMP_PEER_ID_OFFSET, cfg->peer_id);
}

/* Place the areas: header and peer ID, queue heads, notifications, queues. */
static void place_areas(struct vmsg_amp *amp)
{
	uint64_t off = 72;

	amp->dev_head = off;
	amp->drv_head = off + 8;
	off += 16;
	if (amp->cfg.num_notif) {
		amp->dev_notif = off;
		off += notif_area_size(&amp->cfg);
		amp->drv_notif = off;
		off += notif_area_size(&amp->cfg);
	}
	amp->dev_elems = off;
	off += (uint64_t)amp->n * amp->esize;
	amp->drv_elems = off;
	off += (uint64_t)amp->n * amp->esize;
	amp->window = (off + VMSG_AMP_WINDOW_ALIGN - 1) &
		      ~(uint64_t)(VMSG_AMP_WINDOW_ALIGN - 1);
}

static void ring(struct vmsg_amp *amp)
{
	amp->stats.doorbells++;
	amp->cfg.ring(amp->cfg.ring_ctx);
}

static void set_status(struct vmsg_amp *amp, unsigned int status)
{
	amp->status = status;
	/* Release: what the status announces is visible before it. */
	st16(amp->base + amp->dev_head + HEAD_STATUS, status,
	     __ATOMIC_RELEASE);
}

/* Read and check the driver side's queue head. */
static enum drv_state read_driver(struct vmsg_amp *amp)
{
	const uint8_t *h = amp->base + amp->drv_head;
	uint16_t status;

	if (ld16(h + HEAD_MAGIC, __ATOMIC_ACQUIRE) !=
	    VIRTIO_MSG_AMP_QUEUE_MAGIC)
		return amp->drv = DRV_ABSENT;
	/* Acquire: its queue and indices are read after the status. */
	status = ld16(h + HEAD_STATUS, __ATOMIC_ACQUIRE) &
		 VIRTIO_MSG_AMP_STATUS_MASK;
	switch (status) {
	case VIRTIO_MSG_AMP_STATUS_INIT:
		return amp->drv = DRV_INIT;
	case VIRTIO_MSG_AMP_STATUS_READY:
		return amp->drv = DRV_READY;
	case VIRTIO_MSG_AMP_STATUS_RUN:
		return amp->drv = DRV_RUN;
	case VIRTIO_MSG_AMP_STATUS_SHUTDOWN:
	case VIRTIO_MSG_AMP_STATUS_PEER_DEAD:
		return amp->drv = DRV_STOPPED;
	}
	return amp->drv = DRV_BAD;
}

/*
 * (Re)start the device side's own half: zero its queue and notification
 * words, indices 0, INIT; then READY, unless the driver side shows a RUN
 * of an earlier session, in which case INIT stays until the driver side
 * shows INIT or READY.
 */
static void restart_own(struct vmsg_amp *amp)
{
	uint8_t *h = amp->base + amp->dev_head;

	set_status(amp, VIRTIO_MSG_AMP_STATUS_INIT);
	amp->tail = 0;
	amp->head = 0;
	amp->ring_pending = false;
	amp->queue_stuck = false;
	amp->drv_stopped = false;
	memset(amp->notif_tx, 0, sizeof(amp->notif_tx));
	memset(amp->notif_rx, 0, sizeof(amp->notif_rx));
	memset(amp->base + amp->dev_elems, 0, (size_t)amp->n * amp->esize);
	if (amp->dev_notif)
		memset(amp->base + amp->dev_notif, 0,
		       notif_area_size(&amp->cfg));
	st16(h + HEAD_MAGIC, VIRTIO_MSG_AMP_QUEUE_MAGIC, __ATOMIC_RELAXED);
	st16(h + HEAD_TAIL, 0, __ATOMIC_RELAXED);
	st16(h + HEAD_HEAD, 0, __ATOMIC_RELAXED);
	amp->wait_leave_run = read_driver(amp) == DRV_RUN;
	if (!amp->wait_leave_run)
		set_status(amp, VIRTIO_MSG_AMP_STATUS_READY);
}

/* The driver side broke a rule: stop talking until it restarts. */
static void peer_broken(struct vmsg_amp *amp)
{
	amp->stats.peer_errors++;
	vmsg_transport_reset_devices(amp->t);
	amp->ring_pending = false;
	set_status(amp, VIRTIO_MSG_AMP_STATUS_PEER_DEAD);
	ring(amp);
}

/* The driver side restarted: drop the session, READY again. */
static void peer_restarted(struct vmsg_amp *amp)
{
	vmsg_transport_reset_devices(amp->t);
	restart_own(amp);
	ring(amp);
}

/*
 * Driver memory: region offsets inside the driver's window, checked
 * without overflow; nothing else of the region, and nothing outside it.
 */
static bool window_range_ok(const struct vmsg_amp *amp, uint64_t addr,
			    size_t len)
{
	return addr >= amp->window && addr <= amp->size &&
	       len <= amp->size - addr;
}

static int amp_mem_read(void *ctx, uint16_t dev_num, uint64_t addr,
			void *dst, size_t len)
{
	struct vmsg_amp *amp = ctx;

	(void)dev_num;
	if (!window_range_ok(amp, addr, len))
		return -EFAULT;
	memcpy(dst, amp->base + addr, len);
	return 0;
}

static int amp_mem_write(void *ctx, uint16_t dev_num, uint64_t addr,
			 const void *src, size_t len)
{
	struct vmsg_amp *amp = ctx;

	(void)dev_num;
	if (!window_range_ok(amp, addr, len))
		return -EFAULT;
	memcpy(amp->base + addr, src, len);
	return 0;
}

/* Signal bit 0 (new messages) and ring, unless the driver masked it. */
static void flush(struct vmsg_amp *amp)
{
	uint64_t mask_off;

	if (!amp->ring_pending)
		return;
	amp->ring_pending = false;
	if (amp->cfg.num_notif) {
		amp->notif_tx[0] ^= 1ULL << VIRTIO_MSG_AMP_NOTIF_MSG_QUEUE;
		/* Release: the new tail is visible before the toggled bit. */
		st64(amp->base + amp->dev_notif, amp->notif_tx[0],
		     __ATOMIC_RELEASE);
		if (amp->cfg.masked_notif) {
			mask_off = amp->drv_notif + 16 * amp->cfg.num_notif;
			if (ld64(amp->base + mask_off, __ATOMIC_ACQUIRE) &
			    (1ULL << VIRTIO_MSG_AMP_NOTIF_MSG_QUEUE))
				return;
		}
	}
	ring(amp);
}

/*
 * Room in our queue: true when element @amp->tail may be written. A full
 * queue gets a doorbell and a bounded wait; once a wait timed out, later
 * sends fail at once until the driver side makes room.
 */
static int wait_room(struct vmsg_amp *amp)
{
	const struct timespec pause = { .tv_nsec = AMP_FULL_WAIT_NS };
	uint16_t next = (amp->tail + 1) % amp->n, h;
	unsigned int tries;

	for (tries = 0; ; tries++) {
		h = ld16(amp->base + amp->drv_head + HEAD_HEAD,
			 __ATOMIC_ACQUIRE);
		if (h >= amp->n) {
			peer_broken(amp);
			return -EIO;
		}
		if (h != next) {
			amp->queue_stuck = false;
			return 0;
		}
		if (amp->queue_stuck || tries == AMP_FULL_TRIES) {
			amp->queue_stuck = true;
			return -EAGAIN;
		}
		if (!tries)
			flush(amp);
		nanosleep(&pause, NULL);
	}
}

static int amp_send(void *ctx, const void *msg, size_t len)
{
	struct vmsg_amp *amp = ctx;
	int ret;

	if (len < VIRTIO_MSG_HDR_SIZE || len > amp->esize) {
		amp->stats.send_dropped++;
		return -EMSGSIZE;
	}
	/* We send only in RUN, to a driver side READY or RUN. */
	if (amp->status != VIRTIO_MSG_AMP_STATUS_RUN || amp->drv_stopped ||
	    (amp->drv != DRV_READY && amp->drv != DRV_RUN)) {
		amp->stats.send_dropped++;
		return -ENOTCONN;
	}
	ret = wait_room(amp);
	if (ret == -EAGAIN) {
		amp->stats.send_full++;
		return ret;
	}
	if (ret) {
		amp->stats.send_dropped++;
		return ret;
	}
	memcpy(amp->base + amp->dev_elems + (size_t)amp->tail * amp->esize,
	       msg, len);
	amp->tail = (amp->tail + 1) % amp->n;
	/* Release: the element is complete before the driver sees the tail. */
	st16(amp->base + amp->dev_head + HEAD_TAIL, amp->tail,
	     __ATOMIC_RELEASE);
	amp->ring_pending = true;
	amp->stats.sent++;
	return 0;
}

static const struct vmsg_transport_ops amp_transport_ops = {
	.mem_read = amp_mem_read,
	.mem_write = amp_mem_write,
	.send = amp_send,
};

struct vmsg_amp *vmsg_amp_create(void *region, size_t size,
				 const struct vmsg_amp_config *cfg)
{
	uint8_t want[VMSG_AMP_HEADER_AREA], have[VMSG_AMP_HEADER_AREA];
	struct vmsg_amp *amp;

	if (!region || ((uintptr_t)region & 7) || !cfg) {
		errno = EINVAL;
		return NULL;
	}
	amp = calloc(1, sizeof(*amp));
	if (!amp)
		return NULL;
	amp->cfg = *cfg;
	if (!amp->cfg.num_elements)
		amp->cfg.num_elements = VMSG_AMP_DEFAULT_ELEMENTS;
	if (!amp->cfg.element_size)
		amp->cfg.element_size = VMSG_AMP_DEFAULT_ELEMENT_SIZE;
	if (!amp->cfg.num_notif)
		amp->cfg.masked_notif = false;
	amp->n = amp->cfg.num_elements;
	amp->esize = amp->cfg.element_size;
	amp->base = region;
	amp->size = size;
	place_areas(amp);
	if (!config_ok(&amp->cfg) || amp->window > size ||
	    size - amp->window < VMSG_AMP_WINDOW_ALIGN) {
		free(amp);
		errno = EINVAL;
		return NULL;
	}
	amp->rbuf = malloc(amp->esize);
	amp->t = vmsg_transport_create(&amp_transport_ops, amp, amp->esize);
	if (!amp->rbuf || !amp->t) {
		vmsg_transport_destroy(amp->t);
		free(amp->rbuf);
		free(amp);
		errno = ENOMEM;
		return NULL;
	}

	build_header(amp, want);
	memcpy(have, amp->base, sizeof(have));
	if (memcmp(want, have, sizeof(want))) {
		/* A new layout: no magic until every field is right. */
		st16(amp->base, 0, __ATOMIC_RELEASE);
		memcpy(amp->base + 2, want + 2, sizeof(want) - 2);
		restart_own(amp);
		/* Release: header, peer ID and queue head before the magic. */
		st16(amp->base, VIRTIO_MSG_AMP_LAYOUT_MAGIC, __ATOMIC_RELEASE);
	} else {
		restart_own(amp);
	}
	ring(amp);
	return amp;
}

void vmsg_amp_destroy(struct vmsg_amp *amp)
{
	if (!amp)
		return;
	set_status(amp, VIRTIO_MSG_AMP_STATUS_SHUTDOWN);
	ring(amp);
	vmsg_transport_destroy(amp->t);
	free(amp->rbuf);
	free(amp);
}

struct vmsg_transport *vmsg_amp_transport(struct vmsg_amp *amp)
{
	return amp->t;
}

unsigned int vmsg_amp_status(const struct vmsg_amp *amp)
{
	return amp->status;
}

uint64_t vmsg_amp_window(const struct vmsg_amp *amp, uint64_t *size)
{
	*size = amp->size - amp->window;
	return amp->window;
}

void vmsg_amp_get_stats(const struct vmsg_amp *amp,
			struct vmsg_amp_stats *stats)
{
	*stats = amp->stats;
}

void vmsg_amp_peer_gone(struct vmsg_amp *amp)
{
	vmsg_transport_reset_devices(amp->t);
	restart_own(amp);
}

/* An EVENT_AVAIL for queue @q of @dev, as if the driver had sent it. */
static void kick(struct vmsg_amp *amp, struct vmsg_dev *dev, uint32_t q)
{
	uint8_t *p = amp->evbuf;

	vmsg_hdr_build(p, 0, VIRTIO_MSG_EVENT_AVAIL, dev->dev_num, 0,
		       sizeof(amp->evbuf));
	vmsg_put_le32(p + VIRTIO_MSG_HDR_SIZE, q);
	vmsg_put_le32(p + VIRTIO_MSG_HDR_SIZE + 4, 0);
	vmsg_dev_handle(dev, p, sizeof(amp->evbuf), p, sizeof(amp->evbuf));
}

/* Virtqueue bit @b (b >= 1) from the driver side: "available buffers". */
static void notif_vq_bit(struct vmsg_amp *amp, unsigned int b)
{
	unsigned int k = amp->cfg.vq_notif_per_device;
	unsigned int d = (b - VIRTIO_MSG_AMP_NOTIF_VQ_BASE) / k;
	unsigned int r = (b - VIRTIO_MSG_AMP_NOTIF_VQ_BASE) % k;
	struct vmsg_dev *dev;
	uint32_t q;

	dev = vmsg_transport_find(amp->t, d);
	if (!dev)
		return;
	amp->stats.notif_kicks++;
	for (q = r; q < dev->model->num_queues; q += k)
		kick(amp, dev, q);
}

/* Take the driver's notification bits: pending = own rx ^ peer tx. */
static void take_notifications(struct vmsg_amp *amp)
{
	uint64_t pending, tx;
	unsigned int w, bit;

	for (w = 0; w < amp->cfg.num_notif; w++) {
		tx = ld64(amp->base + amp->drv_notif + 8 * w,
			  __ATOMIC_ACQUIRE);
		pending = amp->notif_rx[w] ^ tx;
		if (!pending)
			continue;
		amp->notif_rx[w] ^= pending;
		st64(amp->base + amp->dev_notif +
		     8 * (amp->cfg.num_notif + w), amp->notif_rx[w],
		     __ATOMIC_RELEASE);
		/* Bit 0 needs nothing more: the queue is drained anyway. */
		while (pending) {
			bit = __builtin_ctzll(pending);
			pending &= pending - 1;
			if (w || bit)
				notif_vq_bit(amp, 64 * w + bit);
			if (amp->status != VIRTIO_MSG_AMP_STATUS_RUN)
				return;
		}
	}
}

/* Take up to @budget messages; 1 if some are left. */
static int drain(struct vmsg_amp *amp, unsigned int budget)
{
	uint16_t tail;

	while (budget) {
		tail = ld16(amp->base + amp->drv_head + HEAD_TAIL,
			    __ATOMIC_ACQUIRE);
		if (tail >= amp->n) {
			peer_broken(amp);
			return 0;
		}
		if (tail == amp->head)
			return 0;
		while (amp->head != tail && budget) {
			/* Copy first: the driver may change it under us. */
			memcpy(amp->rbuf, amp->base + amp->drv_elems +
			       (size_t)amp->head * amp->esize, amp->esize);
			amp->head = (amp->head + 1) % amp->n;
			/* Release: the copy is done before the slot is free. */
			st16(amp->base + amp->dev_head + HEAD_HEAD, amp->head,
			     __ATOMIC_RELEASE);
			amp->stats.received++;
			budget--;
			vmsg_transport_dispatch(amp->t, amp->rbuf, amp->esize);
			if (amp->status != VIRTIO_MSG_AMP_STATUS_RUN)
				return 0;
		}
	}
	tail = ld16(amp->base + amp->drv_head + HEAD_TAIL, __ATOMIC_ACQUIRE);
	return tail != amp->head;
}

int vmsg_amp_poll(struct vmsg_amp *amp)
{
	enum drv_state d = read_driver(amp);
	int more = 0;

	switch (amp->status) {
	case VIRTIO_MSG_AMP_STATUS_INIT:
		if (d == DRV_RUN)
			break;
		amp->wait_leave_run = false;
		set_status(amp, VIRTIO_MSG_AMP_STATUS_READY);
		ring(amp);
		/* fall through */
	case VIRTIO_MSG_AMP_STATUS_READY:
		if (d != DRV_READY && d != DRV_RUN)
			break;
		if (amp->started)
			amp->stats.restarts++;
		amp->started = true;
		amp->drv_ran = false;
		set_status(amp, VIRTIO_MSG_AMP_STATUS_RUN);
		ring(amp);
		break;
	case VIRTIO_MSG_AMP_STATUS_RUN:
		if (d == DRV_RUN)
			amp->drv_ran = true;
		/*
		 * READY is a restart only once the driver side has gone RUN
		 * since our RUN: until then it has not seen our RUN yet (a
		 * driver that polls looks at the region only now and then).
		 */
		if (d == DRV_ABSENT || d == DRV_BAD ||
		    (d == DRV_RUN && amp->drv_stopped)) {
			peer_broken(amp);
		} else if (d == DRV_INIT || (d == DRV_READY && amp->drv_ran)) {
			peer_restarted(amp);
			return vmsg_amp_poll(amp);
		} else if (d == DRV_STOPPED) {
			if (!amp->drv_stopped)
				vmsg_transport_reset_devices(amp->t);
			amp->drv_stopped = true;
		}
		break;
	case VIRTIO_MSG_AMP_STATUS_PEER_DEAD:
		if (d == DRV_INIT || d == DRV_READY) {
			peer_restarted(amp);
			return vmsg_amp_poll(amp);
		}
		break;
	}
	if (amp->status == VIRTIO_MSG_AMP_STATUS_RUN && d == DRV_RUN &&
	    !amp->drv_stopped) {
		/* What found our queue full goes before anything newer. */
		if (vmsg_transport_backlogged(amp->t))
			vmsg_transport_flush(amp->t);
		take_notifications(amp);
		if (amp->status == VIRTIO_MSG_AMP_STATUS_RUN)
			more = drain(amp, AMP_POLL_QUEUES * amp->n);
	}
	flush(amp);
	return more;
}

bool vmsg_amp_mark_dead(void *region, size_t size)
{
	uint8_t *base = region;
	uint64_t off;

	if (!base || size < VMSG_AMP_HEADER_AREA ||
	    ld16(base, __ATOMIC_ACQUIRE) != VIRTIO_MSG_AMP_LAYOUT_MAGIC)
		return false;
	off = vmsg_get_le64(base + offsetof(struct virtio_msg_amp_layout,
					    dev_queue_head_offset));
	if (off < VMSG_AMP_HEADER_AREA || off % 2 || off > size ||
	    size - off < sizeof(struct virtio_msg_amp_queue_head))
		return false;
	/* An orderly SHUTDOWN has said it already. */
	if (ld16(base + off + HEAD_MAGIC, __ATOMIC_RELAXED) !=
	    VIRTIO_MSG_AMP_QUEUE_MAGIC ||
	    (ld16(base + off + HEAD_STATUS, __ATOMIC_ACQUIRE) &
	     VIRTIO_MSG_AMP_STATUS_MASK) == VIRTIO_MSG_AMP_STATUS_SHUTDOWN)
		return false;
	st16(base + off + HEAD_STATUS, VIRTIO_MSG_AMP_STATUS_PEER_DEAD,
	     __ATOMIC_RELEASE);
	return true;
}

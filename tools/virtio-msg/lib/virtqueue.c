// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-msg device side: virtqueue messages and split ring processing.
 *
 * Split ring layout (virtio 1.x), all little-endian:
 *   descriptor table: size * { le64 addr; le32 len; le16 flags; le16 next; }
 *   driver area:      le16 flags; le16 idx; le16 ring[size]; le16 used_event;
 *   device area:      le16 flags; le16 idx; { le32 id; le32 len; }[size];
 *                     le16 avail_event;
 */
#include <errno.h>
#include <stdlib.h>

#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "internal.h"

#define DESC_SIZE		16
#define USED_ELEM_SIZE		8

#define AVAIL_FLAGS(vq)		((vq)->avail_addr)
#define AVAIL_IDX(vq)		((vq)->avail_addr + 2)
#define AVAIL_RING(vq, i)	((vq)->avail_addr + 4 + 2 * (uint64_t)(i))
#define USED_EVENT(vq)		AVAIL_RING(vq, (vq)->size)
#define USED_IDX(vq)		((vq)->used_addr + 2)
#define USED_RING(vq, i)	((vq)->used_addr + 4 + \
				 USED_ELEM_SIZE * (uint64_t)(i))
#define AVAIL_EVENT(vq)		USED_RING(vq, (vq)->size)

/* Full barrier, and the one-way ones for publishing and consuming. */
#define vq_mb()		__atomic_thread_fence(__ATOMIC_SEQ_CST)
#define vq_rmb()	__atomic_thread_fence(__ATOMIC_ACQUIRE)
#define vq_wmb()	__atomic_thread_fence(__ATOMIC_RELEASE)

#define INFLIGHT_WORDS(n)	(((n) + 63) / 64)

int vmsg_vq_init(struct vmsg_vq *vq, uint32_t max_size)
{
	memset(vq, 0, sizeof(*vq));
	vq->max_size = max_size;
	if (!max_size)
		return 0;
	vq->inflight = calloc(INFLIGHT_WORDS(max_size),
			      sizeof(*vq->inflight));
	return vq->inflight ? 0 : -ENOMEM;
}

/* Back to the inactive state; nothing is in flight any more. */
void vmsg_vq_clear(struct vmsg_vq *vq)
{
	uint64_t *inflight = vq->inflight;
	uint32_t max_size = vq->max_size;

	memset(vq, 0, sizeof(*vq));
	vq->max_size = max_size;
	vq->inflight = inflight;
	if (inflight)
		memset(inflight, 0,
		       INFLIGHT_WORDS(max_size) * sizeof(*inflight));
}

void vmsg_vq_free(struct vmsg_vq *vq)
{
	free(vq->inflight);
	vq->inflight = NULL;
}

static bool inflight_test(const struct vmsg_vq *vq, uint16_t head)
{
	return vq->inflight[head / 64] & (1ULL << (head % 64));
}

static void inflight_set(struct vmsg_vq *vq, uint16_t head)
{
	vq->inflight[head / 64] |= 1ULL << (head % 64);
}

static void inflight_clear(struct vmsg_vq *vq, uint16_t head)
{
	vq->inflight[head / 64] &= ~(1ULL << (head % 64));
}

static struct vmsg_vq *get_vq(const struct vmsg_dev *dev, unsigned int index)
{
	if (index >= dev->model->num_queues)
		return NULL;
	return &dev->vqs[index];
}

bool vmsg_vq_ready(const struct vmsg_dev *dev, unsigned int index)
{
	const struct vmsg_vq *vq = get_vq(dev, index);

	return vq && vq->live && !vq->broken;
}

/* Does [addr, addr + len) wrap around the end of the address space? */
static bool range_wraps(uint64_t addr, uint64_t len)
{
	return len && addr + (len - 1) < addr;
}

size_t vmsg_vq_get_msg(struct vmsg_dev *dev, const uint8_t *req,
		       uint8_t *out)
{
	uint32_t idx = vmsg_get_le32(req);
	struct vmsg_vq *vq = get_vq(dev, idx);

#define PUT32(f, v) \
	vmsg_put_le32(out + offsetof(struct virtio_msg_vqueue, f), v)
#define PUT64(f, v) \
	vmsg_put_le64(out + offsetof(struct virtio_msg_vqueue, f), v)
	PUT32(index, idx);
	if (!vq)
		return sizeof(struct virtio_msg_vqueue);
	PUT32(max_size, vq->max_size);
	if (vq->live) {
		PUT32(size, vq->size);
		PUT64(desc_addr, vq->desc_addr);
		PUT64(driver_addr, vq->avail_addr);
		PUT64(device_addr, vq->used_addr);
		/* v2 says so in the word that v1 reserves. */
		if (vmsg_dev_v2(dev))
			vmsg_put_le32(out +
				offsetof(struct virtio_msg_get_vqueue_resp_v2,
					 flags), VIRTIO_MSG_VQUEUE_V2_ENABLED);
	}
#undef PUT32
#undef PUT64
	return sizeof(struct virtio_msg_vqueue);
}

/*
 * Check the size and ring addresses of a queue, from SET_VQUEUE or from a
 * driver side being taken over, without changing anything. Returns NULL
 * or what is wrong.
 */
const char *vmsg_vq_check_layout(const struct vmsg_vq *vq, uint32_t size,
				 uint64_t desc, uint64_t avail, uint64_t used)
{
	if (!vq->max_size)
		return "a queue the device does not have is live";
	if (!size || size > vq->max_size || (size & (size - 1)))
		return "a queue size is not a power of two within the device's maximum";
	if (desc % VRING_DESC_ALIGN_SIZE || avail % VRING_AVAIL_ALIGN_SIZE ||
	    used % VRING_USED_ALIGN_SIZE)
		return "a ring address is misaligned";
	if (range_wraps(desc, (uint64_t)DESC_SIZE * size) ||
	    range_wraps(avail, 6 + 2 * (uint64_t)size) ||
	    range_wraps(used, 6 + (uint64_t)USED_ELEM_SIZE * size))
		return "a ring wraps around the address space";
	return NULL;
}

/* Make @vq live on these rings: nothing in flight, starting at index 0. */
static void vq_make_live(struct vmsg_vq *vq, uint32_t size, uint64_t desc,
			 uint64_t avail, uint64_t used)
{
	vmsg_vq_clear(vq);
	vq->size = size;
	vq->desc_addr = desc;
	vq->avail_addr = avail;
	vq->used_addr = used;
	vq->live = true;
}

/*
 * SET_VQUEUE. An invalid request leaves the queue inactive, which the
 * driver sees with GET_VQUEUE (size 0); the empty response cannot say it.
 * On the v2 wire only a request whose flags are exactly ENABLE makes the
 * queue live; any other leaves it as it is.
 */
void vmsg_vq_set_msg(struct vmsg_dev *dev, const uint8_t *req)
{
	uint32_t idx, size;
	uint64_t desc, avail, used;
	struct vmsg_vq *vq;

	if (vmsg_dev_v2(dev) &&
	    vmsg_get_le32(req + offsetof(struct virtio_msg_set_vqueue_req_v2,
					 flags)) != VIRTIO_MSG_VQUEUE_V2_ENABLE)
		return;

#define GET32(f) vmsg_get_le32(req + offsetof(struct virtio_msg_vqueue, f))
#define GET64(f) vmsg_get_le64(req + offsetof(struct virtio_msg_vqueue, f))
	idx = GET32(index);
	size = GET32(size);
	desc = GET64(desc_addr);
	avail = GET64(driver_addr);
	used = GET64(device_addr);
#undef GET32
#undef GET64

	vq = get_vq(dev, idx);
	if (!vq || !vq->max_size || vq->live)
		return;
	/* Queues are set up after feature negotiation, on a sane device. */
	if (!(dev->status & VMSG_S_FEATURES_OK) ||
	    (dev->status & (VMSG_S_NEEDS_RESET | VMSG_S_FAILED)))
		return;
	if (vmsg_vq_check_layout(vq, size, desc, avail, used))
		return;
	vq_make_live(vq, size, desc, avail, used);
}

void vmsg_vq_reset_msg(struct vmsg_dev *dev, const uint8_t *req)
{
	uint32_t idx = vmsg_get_le32(req);
	struct vmsg_vq *vq = get_vq(dev, idx);

	if (!vq)
		return;
	vmsg_vq_clear(vq);
	if (dev->model->queue_reset)
		dev->model->queue_reset(dev, idx);
}

/* A ring rule was broken or the ring is unreachable: stop the queue. */
static int vq_fail(struct vmsg_dev *dev, struct vmsg_vq *vq)
{
	vq->broken = true;
	vmsg_dev_set_needs_reset(dev);
	return -EIO;
}

static int read_le16(struct vmsg_dev *dev, uint64_t addr, uint16_t *v)
{
	uint8_t b[2];
	int ret = vmsg_dev_mem_read(dev, addr, b, sizeof(b));

	if (!ret)
		*v = vmsg_get_le16(b);
	return ret;
}

static int write_le16(struct vmsg_dev *dev, uint64_t addr, uint16_t v)
{
	uint8_t b[2];

	vmsg_put_le16(b, v);
	return vmsg_dev_mem_write(dev, addr, b, sizeof(b));
}

/*
 * Walk the chain starting at @head. A chain may hold at most the queue
 * size of segments, direct and indirect ones together, so that bounds the
 * walk: at most that many segment descriptors are read, plus one indirect
 * descriptor. A chain that would go on is too long or loops; so is one
 * that visits more entries of a table than the table has. Segments past
 * @iov_cap are counted but not stored; @last gets the final segment.
 *
 * Return: 0; -ENOBUFS if the (valid) chain did not fit in @iov; another
 * negative errno for a ring rule violation or accessor failure.
 */
static int walk_chain(struct vmsg_dev *dev, struct vmsg_vq *vq, uint16_t head,
		      struct vmsg_vq_elem *elem, struct vmsg_iov *iov,
		      unsigned int iov_cap, struct vmsg_iov *last)
{
	uint64_t table = vq->desc_addr;
	uint32_t table_n = vq->size, i = head, n = 0, visited = 0;
	bool indirect = false, seen_write = false;

	memset(elem, 0, sizeof(*elem));
	elem->head = head;

	for (;;) {
		uint8_t d[DESC_SIZE];
		uint64_t addr;
		uint32_t len;
		uint16_t flags, next;

		/* Whatever comes next adds a segment. */
		if (n >= vq->size || visited++ >= table_n)
			return -ELOOP;
		if (vmsg_dev_mem_read(dev, table + (uint64_t)DESC_SIZE * i,
				      d, sizeof(d)))
			return -EFAULT;
		addr = vmsg_get_le64(d);
		len = vmsg_get_le32(d + 8);
		flags = vmsg_get_le16(d + 12);
		next = vmsg_get_le16(d + 14);

		if (flags & VRING_DESC_F_INDIRECT) {
			if (indirect || (flags & VRING_DESC_F_NEXT) ||
			    !vmsg_dev_has_feature(dev,
						  VIRTIO_RING_F_INDIRECT_DESC))
				return -EINVAL;
			if (!len || len % DESC_SIZE ||
			    len / DESC_SIZE > VMSG_VQ_MAX_SIZE ||
			    range_wraps(addr, len))
				return -EINVAL;
			indirect = true;
			table = addr;
			table_n = len / DESC_SIZE;
			i = 0;
			visited = 0;
			continue;
		}

		if (range_wraps(addr, len))
			return -EINVAL;
		/* At most 32768 * (2^32 - 1) bytes: no overflow in 64 bits. */
		if (flags & VRING_DESC_F_WRITE) {
			seen_write = true;
			elem->in_num++;
			elem->in_len += len;
		} else {
			/* Readable segments must all precede writable ones. */
			if (seen_write)
				return -EINVAL;
			elem->out_num++;
			elem->out_len += len;
		}
		if (n < iov_cap) {
			iov[n].addr = addr;
			iov[n].len = len;
		}
		n++;
		last->addr = addr;
		last->len = len;

		if (!(flags & VRING_DESC_F_NEXT))
			break;
		if (next >= table_n)
			return -EINVAL;
		i = next;
	}
	return n > iov_cap ? -ENOBUFS : 0;
}

/*
 * A valid chain with more segments than the device takes. Completing it
 * as if it were served could pass for success (a block request whose
 * status byte nobody wrote), so only the model can answer it, typically
 * with an error status; without an answer the device needs reset.
 */
static int refuse_chain(struct vmsg_dev *dev, unsigned int index,
			struct vmsg_vq *vq, const struct vmsg_vq_elem *elem,
			const struct vmsg_iov *last)
{
	const struct vmsg_dev_model *m = dev->model;
	int len = -EINVAL;

	if (m->oversized_chain)
		len = m->oversized_chain(dev, index, elem, last);
	if (len < 0 || vq->broken)
		return vq_fail(dev, vq);
	if ((uint64_t)len > elem->in_len)
		len = elem->in_len;
	if (vmsg_vq_push(dev, index, elem->head, len))
		return -EIO;
	return -ENOBUFS;
}

int vmsg_vq_pop(struct vmsg_dev *dev, unsigned int index,
		struct vmsg_vq_elem *elem, struct vmsg_iov *iov,
		unsigned int iov_cap)
{
	struct vmsg_vq *vq = get_vq(dev, index);
	unsigned int max_segs;
	struct vmsg_iov last;
	bool event_idx;
	uint16_t avail_idx, head, pending;
	int ret;

	if (!vq || !vq->live)
		return -EINVAL;
	if (vq->broken || (dev->status & (VMSG_S_NEEDS_RESET | VMSG_S_FAILED)))
		return -EIO;
	if (!(dev->status & VMSG_S_DRIVER_OK))
		return 0;
	event_idx = vmsg_dev_has_feature(dev, VIRTIO_RING_F_EVENT_IDX);

	if (read_le16(dev, AVAIL_IDX(vq), &avail_idx))
		return vq_fail(dev, vq);
	pending = avail_idx - vq->last_avail;
	if (!pending && event_idx) {
		/*
		 * Ask for a kick at the next buffer, then look again: the
		 * driver may have added one before it saw avail_event.
		 */
		if (write_le16(dev, AVAIL_EVENT(vq), vq->last_avail))
			return vq_fail(dev, vq);
		vq_mb();
		if (read_le16(dev, AVAIL_IDX(vq), &avail_idx))
			return vq_fail(dev, vq);
		pending = avail_idx - vq->last_avail;
	}
	if (!pending)
		return 0;
	if (pending > vq->size)
		return vq_fail(dev, vq);
	/* Read the ring entry only after seeing the index that covers it. */
	vq_rmb();

	if (read_le16(dev, AVAIL_RING(vq, vq->last_avail % vq->size), &head))
		return vq_fail(dev, vq);
	/* A head the device still holds cannot be a new buffer. */
	if (head >= vq->size || inflight_test(vq, head))
		return vq_fail(dev, vq);

	max_segs = dev->model->queue_max_segs ?
		   dev->model->queue_max_segs[index] : 0;
	if (max_segs && max_segs < iov_cap)
		iov_cap = max_segs;
	ret = walk_chain(dev, vq, head, elem, iov, iov_cap, &last);
	if (ret && ret != -ENOBUFS)
		return vq_fail(dev, vq);

	vq->last_avail++;
	inflight_set(vq, head);
	if (event_idx && write_le16(dev, AVAIL_EVENT(vq), vq->last_avail))
		return vq_fail(dev, vq);

	if (ret == -ENOBUFS)
		return refuse_chain(dev, index, vq, elem, &last);
	return 1;
}

int vmsg_vq_push(struct vmsg_dev *dev, unsigned int index, uint16_t head,
		 uint32_t len)
{
	struct vmsg_vq *vq = get_vq(dev, index);
	uint8_t e[USED_ELEM_SIZE];

	if (!vq || !vq->live)
		return -EINVAL;
	if (vq->broken)
		return -EIO;
	/* Only a chain the device holds can be completed, and only once. */
	if (head >= vq->size || !inflight_test(vq, head))
		return -EINVAL;

	vmsg_put_le32(e, head);
	vmsg_put_le32(e + 4, len);
	if (vmsg_dev_mem_write(dev, USED_RING(vq, vq->used_idx % vq->size),
			       e, sizeof(e)))
		return vq_fail(dev, vq);
	/* The element must be visible before the index that publishes it. */
	vq_wmb();
	if (write_le16(dev, USED_IDX(vq), vq->used_idx + 1))
		return vq_fail(dev, vq);
	vq->used_idx++;
	vq->pending = true;
	inflight_clear(vq, head);
	return 0;
}

int vmsg_vq_notify(struct vmsg_dev *dev, unsigned int index)
{
	struct vmsg_vq *vq = get_vq(dev, index);
	uint8_t *p;
	int ret;

	if (!vq || !vq->live)
		return -EINVAL;
	if (vq->broken)
		return -EIO;
	if (!vq->pending)
		return 0;

	/* Order the used index store against the suppression field load. */
	vq_mb();
	if (vmsg_dev_has_feature(dev, VIRTIO_RING_F_EVENT_IDX)) {
		uint16_t event, old = vq->signalled_used;
		bool valid = vq->signalled_valid;

		if (read_le16(dev, USED_EVENT(vq), &event))
			return vq_fail(dev, vq);
		vq->signalled_used = vq->used_idx;
		vq->signalled_valid = true;
		vq->pending = false;
		if (valid && !vring_need_event(event, vq->used_idx, old))
			return 0;
	} else {
		uint16_t flags;

		if (read_le16(dev, AVAIL_FLAGS(vq), &flags))
			return vq_fail(dev, vq);
		vq->pending = false;
		if (flags & VRING_AVAIL_F_NO_INTERRUPT)
			return 0;
	}

	p = vmsg_dev_event_payload(dev);
	vmsg_put_le32(p, index);
	ret = vmsg_dev_send_event(dev, VIRTIO_MSG_EVENT_USED,
				  sizeof(struct virtio_msg_vqueue_index));
	return ret ? ret : 1;
}

static ssize_t iov_copy(struct vmsg_dev *dev, const struct vmsg_iov *iov,
			unsigned int iov_num, size_t offset, void *buf,
			size_t len, bool to_driver)
{
	uint8_t *b = buf;
	size_t done = 0;
	unsigned int i;

	for (i = 0; i < iov_num && done < len; i++) {
		uint64_t seg = iov[i].len, chunk;
		int ret;

		if (offset >= seg) {
			offset -= seg;
			continue;
		}
		chunk = seg - offset;
		if (chunk > len - done)
			chunk = len - done;
		if (to_driver)
			ret = vmsg_dev_mem_write(dev, iov[i].addr + offset,
						 b + done, chunk);
		else
			ret = vmsg_dev_mem_read(dev, iov[i].addr + offset,
						b + done, chunk);
		if (ret)
			return ret;
		done += chunk;
		offset = 0;
	}
	return done;
}

ssize_t vmsg_iov_read(struct vmsg_dev *dev, const struct vmsg_iov *iov,
		      unsigned int iov_num, size_t offset, void *buf,
		      size_t len)
{
	return iov_copy(dev, iov, iov_num, offset, buf, len, false);
}

ssize_t vmsg_iov_write(struct vmsg_dev *dev, const struct vmsg_iov *iov,
		       unsigned int iov_num, size_t offset, const void *buf,
		       size_t len)
{
	return iov_copy(dev, iov, iov_num, offset, (void *)buf, len, true);
}

/*
 * The index a checked queue resumes at: the first buffer not completed,
 * i.e. the used index, which only the device writes. The available index
 * may be at most a ring ahead of it.
 */
int vmsg_vq_resume_index(struct vmsg_dev *dev, uint32_t size, uint64_t avail,
			 uint64_t used, uint16_t *next, const char **why)
{
	struct vmsg_vq tmp = {
		.size = size,
		.avail_addr = avail,
		.used_addr = used,
	};
	uint16_t used_idx, avail_idx;

	if (read_le16(dev, USED_IDX(&tmp), &used_idx) ||
	    read_le16(dev, AVAIL_IDX(&tmp), &avail_idx)) {
		*why = "a ring cannot be read";
		return -EFAULT;
	}
	if ((uint16_t)(avail_idx - used_idx) > size) {
		*why = "a ring has more buffers outstanding than entries";
		return -EINVAL;
	}
	*next = used_idx;
	return 0;
}

/* Make the queue live at @next: nothing in flight, the next push notifies. */
void vmsg_vq_resume_set(struct vmsg_vq *vq, uint32_t size, uint64_t desc,
			uint64_t avail, uint64_t used, uint16_t next)
{
	vq_make_live(vq, size, desc, avail, used);
	vq->last_avail = next;
	vq->used_idx = next;
}

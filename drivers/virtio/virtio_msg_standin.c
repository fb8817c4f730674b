// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-msg core: answering for a device whose device side is gone.
 *
 * Linux 6.12's virtio-blk waits for ever for the requests a broken device
 * held: del_gendisk() freezes the queue until they complete, and a broken
 * virtqueue returns no buffer. A device side that dies with requests in
 * flight would leave the tasks doing that I/O, the disk's removal and
 * power-off hanging (patches/0001 and 0002 fix virtio-blk upstream; a
 * stock kernel lacks them).
 *
 * So, for device types whose failure answer is defined here, the core
 * answers in the device's stead once the device is gone, instead of
 * breaking its split virtqueues: every chain the device had not
 * completed, and every chain posted later, comes back used with the
 * type's error status. The driver fails those requests as it would for a
 * failing disk, and its removal finds nothing in flight.
 *
 * The chains still in flight are taken to be those from the used index
 * on: exact for a device that completed in order (the device library's
 * models do), and otherwise a chain may be answered twice, which
 * virtio_ring takes as a bad ring and breaks the queue, as without this.
 */

#include <linux/atomic.h>
#include <linux/bottom_half.h>
#include <linux/spinlock.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include <linux/workqueue.h>
#include <asm/barrier.h>
#include <kunit/visibility.h>

#include "virtio_msg_core.h"

/**
 * struct vmsg_standin_rule - how a device type fails a request
 * @device_id: virtio device ID
 * @status: the byte written at the end of the chain's last
 *	device-writable buffer, where the type keeps a request's status
 */
struct vmsg_standin_rule {
	u32 device_id;
	u8 status;
};

static const struct vmsg_standin_rule vmsg_standin_rules[] = {
	{ .device_id = VIRTIO_ID_BLOCK, .status = VIRTIO_BLK_S_IOERR },
};

/* Longest indirect table followed, in descriptors. */
#define VMSG_STANDIN_MAX_INDIRECT	4096

/* The device ID used by the KUnit tests' driver, which fails like blk. */
VISIBLE_IF_KUNIT u32 vmsg_standin_test_id;
EXPORT_SYMBOL_IF_KUNIT(vmsg_standin_test_id);

static const struct vmsg_standin_rule *
vmsg_standin_rule(const struct virtio_msg_device *vmdev)
{
	u32 id = vmdev->device_id;
	unsigned int i;

	/* The tests' driver type borrows virtio-blk's rule. */
	if (IS_ENABLED(CONFIG_KUNIT) && id &&
	    id == READ_ONCE(vmsg_standin_test_id))
		id = VIRTIO_ID_BLOCK;
	for (i = 0; i < ARRAY_SIZE(vmsg_standin_rules); i++)
		if (vmsg_standin_rules[i].device_id == id)
			return &vmsg_standin_rules[i];
	return NULL;
}

/* Whether the bus lets the core reach the device's memory directly. */
static bool vmsg_standin_bus_access(const struct virtio_msg_device *vmdev)
{
	return vmdev->core->bus->desc->ops->dma_access && vmdev->dma_dev_set;
}

/*
 * Copy to or from device memory at bus address @addr, as the device
 * would: through the bus's window, or through the bus's DMA device.
 */
static int vmsg_standin_access(struct virtio_msg_device *vmdev, u64 addr,
			       void *buf, size_t len, bool write)
{
	struct virtio_msg_bus *bus = vmdev->core->bus;

	if (vmdev->win_dev)
		return vmsg_dma_window_access(vmsg_dma_dev_ctx(vmdev->win_dev),
					      addr, buf, len, write);
	if (vmsg_standin_bus_access(vmdev))
		return bus->desc->ops->dma_access(bus, vmdev->vdev.dev.parent,
						  addr, buf, len, write);
	return -EOPNOTSUPP;
}

/**
 * vmsg_standin_arm() - decide whether the core answers for a lost device
 * @vmdev: a device being marked gone
 *
 * Sets @vmdev->standin when the device's type has a failure answer and
 * the core can reach the device's memory. Set before @broken, never
 * cleared: the notification path reads them in the other order.
 *
 * Context: any; under the device's cb_lock or kick_lock.
 * Return: whether the core answers for the device.
 */
bool vmsg_standin_arm(struct virtio_msg_device *vmdev)
{
	if (READ_ONCE(vmdev->standin))
		return true;
	if (!vmsg_standin_rule(vmdev) ||
	    (!vmdev->win_dev && !vmsg_standin_bus_access(vmdev)))
		return false;
	WRITE_ONCE(vmdev->standin, true);
	smp_wmb();	/* @standin before @broken, see vmsg_standin_kick() */
	return true;
}

/**
 * vmsg_standin_kick() - a notification of a device marked gone
 * @vmdev: the device
 *
 * Context: any.
 * Return: true when the core answers for the device (the stand-in runs
 * for the new chains), false when the queue is to break.
 */
bool vmsg_standin_kick(struct virtio_msg_device *vmdev)
{
	smp_rmb();	/* @broken was seen: so is @standin */
	if (!READ_ONCE(vmdev->standin))
		return false;
	queue_work(vmsg_wq, &vmdev->standin_work);
	return true;
}

/*
 * Fail the request whose chain starts at descriptor @i of a table of
 * @count: the ring's own, or with @indirect the indirect table at bus
 * address @table. Finds its last device-writable buffer and writes the
 * status at its end. Returns the bytes written.
 */
static u32 vmsg_standin_fail(struct virtio_msg_device *vmdev,
			     const struct vring *vr, bool indirect, u64 table,
			     u32 count, u32 i,
			     const struct vmsg_standin_rule *rule)
{
	struct virtio_device *vdev = &vmdev->vdev;
	u64 last_addr = 0, d_addr;
	u32 last_len = 0, d_len, hops;
	struct vring_desc d;
	u16 flags;

	for (hops = 0; hops < count; hops++) {
		if (!indirect) {
			d.flags = READ_ONCE(vr->desc[i].flags);
			d.addr = READ_ONCE(vr->desc[i].addr);
			d.len = READ_ONCE(vr->desc[i].len);
			d.next = READ_ONCE(vr->desc[i].next);
		} else if (vmsg_standin_access(vmdev, table + (u64)i * sizeof(d),
					       &d, sizeof(d), false)) {
			return 0;
		}
		flags = virtio16_to_cpu(vdev, d.flags);
		d_addr = virtio64_to_cpu(vdev, d.addr);
		d_len = virtio32_to_cpu(vdev, d.len);
		if (flags & VRING_DESC_F_INDIRECT) {
			/* Only ever a chain's one descriptor, in the ring. */
			if (indirect || hops || d_len % sizeof(d) ||
			    d_len / sizeof(d) > VMSG_STANDIN_MAX_INDIRECT)
				return 0;
			return vmsg_standin_fail(vmdev, vr, true, d_addr,
						 d_len / sizeof(d), 0, rule);
		}
		if ((flags & VRING_DESC_F_WRITE) && d_len) {
			last_addr = d_addr;
			last_len = d_len;
		}
		if (!(flags & VRING_DESC_F_NEXT))
			break;
		i = virtio16_to_cpu(vdev, d.next);
		if (i >= count)
			return 0;
	}
	if (!last_len || vmsg_standin_access(vmdev, last_addr + last_len - 1,
					     (void *)&rule->status, 1, true))
		return 0;
	return 1;
}

/*
 * Return every chain of @slot's queue that is not used yet, failed;
 * cb_lock held. Each pass starts at the used index, so that what the
 * device still completed itself (it may have been declared dead while
 * serving) is not answered twice. Returns whether the queue's interrupt
 * is to run: when the used index moved, by the stand-in or by the device
 * (whose EVENT_USED no longer comes), the first time, and when the queue
 * is not one to answer for (it is broken then).
 */
static bool vmsg_standin_vq(struct virtio_msg_device *vmdev,
			    struct vmsg_vq *slot,
			    const struct vmsg_standin_rule *rule)
{
	struct virtio_device *vdev = &vmdev->vdev;
	struct virtqueue *vq = slot->vq;
	const struct vring *vr;
	u16 avail_idx, next, head, mask;
	unsigned int answered = 0;
	bool event_idx, moved;
	u32 len;

	if (slot->standin_off)
		return false;
	if (virtio_has_feature(vdev, VIRTIO_F_RING_PACKED) ||
	    !virtio_has_feature(vdev, VIRTIO_F_ACCESS_PLATFORM))
		goto off;
	vr = virtqueue_get_vring(vq);
	mask = vr->num - 1;
	event_idx = virtio_has_feature(vdev, VIRTIO_RING_F_EVENT_IDX);
	next = virtio16_to_cpu(vdev, READ_ONCE(vr->used->idx));
	moved = !slot->standin || next != slot->standin_next;
	if (!slot->standin) {
		slot->standin = true;
		/* Kicks were perhaps suppressed by the device: not now. */
		WRITE_ONCE(vr->used->flags, 0);
	}
	for (;;) {
		avail_idx = virtio16_to_cpu(vdev, READ_ONCE(vr->avail->idx));
		/* The entries, after the index that published them. */
		virt_rmb();
		if ((u16)(avail_idx - next) > vr->num)
			goto off;	/* no ring holds that many */
		if (next == avail_idx)
			break;
		while (next != avail_idx) {
			head = virtio16_to_cpu(vdev,
					       READ_ONCE(vr->avail->ring[next & mask]));
			len = head < vr->num ?
			      vmsg_standin_fail(vmdev, vr, false, 0, vr->num,
						head, rule) : 0;
			vr->used->ring[next & mask].id = cpu_to_virtio32(vdev, head);
			vr->used->ring[next & mask].len = cpu_to_virtio32(vdev, len);
			next++;
			answered++;
		}
		/* The entries and the status bytes before the index. */
		virt_wmb();
		WRITE_ONCE(vr->used->idx, cpu_to_virtio16(vdev, next));
		if (!event_idx)
			break;
		/* A kick for the next chain; then look again, as devices do. */
		WRITE_ONCE(vring_avail_event(vr), cpu_to_virtio16(vdev, next));
		virt_mb();	/* the event index before the next look */
	}
	slot->standin_next = next;
	atomic_long_add(answered, &vmdev->stats.standin_used);
	return answered || moved;

off:
	slot->standin_off = true;
	__virtqueue_break(vq);
	return true;	/* its callback runs, and finds it broken */
}

/**
 * vmsg_standin_work() - answer for a lost device
 * @work: the device's standin_work
 *
 * Runs every queue's interrupt that got new used entries, as
 * vmsg_dev_notify_used() does, once the driver wrote DRIVER_OK and not
 * for a queue being reset.
 *
 * Context: process (the core's workqueue).
 */
void vmsg_standin_work(struct work_struct *work)
{
	struct virtio_msg_device *vmdev =
		container_of(work, struct virtio_msg_device, standin_work);
	const struct vmsg_standin_rule *rule = vmsg_standin_rule(vmdev);
	struct vmsg_vq *slot;
	unsigned long flags;
	unsigned int i;

	if (!rule)
		return;
	local_bh_disable();
	spin_lock_irqsave(&vmdev->cb_lock, flags);
	if (READ_ONCE(vmdev->driver_ok)) {
		for (i = 0; i < vmdev->nvqs; i++) {
			slot = &vmdev->vqs[i];
			if (!slot->vq || slot->vq->reset)
				continue;
			if (vmsg_standin_vq(vmdev, slot, rule))
				vring_interrupt(0, slot->vq);
		}
	}
	spin_unlock_irqrestore(&vmdev->cb_lock, flags);
	local_bh_enable();
}

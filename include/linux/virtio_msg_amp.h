/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * virtio-msg AMP bus: the interface between the shared-memory transport
 * (virtio_msg_amp.ko) and the glue drivers that find a region and its
 * doorbells (PCI, device tree, or a card's own driver).
 *
 * The glue maps the region, says how to ring the peer, and calls
 * vmsg_amp_doorbell() from its interrupt handler; the transport does the
 * rest: layout validation, hand-shake, queues, notification words, peer
 * death and restart, and the virtio-msg bus registration.
 */
#ifndef _LINUX_VIRTIO_MSG_AMP_H
#define _LINUX_VIRTIO_MSG_AMP_H

#include <linux/bits.h>
#include <linux/types.h>
#include <uapi/linux/virtio_msg_amp.h>

struct device;
struct virtio_msg_bus;
struct vmsg_amp;

/**
 * struct vmsg_amp_ops - what a glue driver provides
 * @ring: Ring the device side's doorbell once. Required. Called in any
 *	context, hard IRQ included, possibly with spinlocks held: it must
 *	not sleep. A doorbell may be merged with one the peer has not taken
 *	yet (a mailbox whose queue is full), but never dropped when none is
 *	pending.
 */
struct vmsg_amp_ops {
	void (*ring)(void *priv);
};

/* The region is mapped write-combining: mandatory barriers, see the doc. */
#define VMSG_AMP_F_WC			BIT(0)
/*
 * The device side takes exactly one message per doorbell (the
 * virtio-msg-amp-pci card): ring once per message, never for anything
 * else, and use no out-of-band notification.
 */
#define VMSG_AMP_F_DOORBELL_PER_MSG	BIT(1)
/*
 * The device side reaches nothing but the region (a host process behind
 * ivshmem, firmware behind a reserved-memory region): the vrings live in
 * the driver side's window of the region and every buffer is bounced
 * through it, with region offsets as bus addresses.
 */
#define VMSG_AMP_F_WINDOW		BIT(2)

/**
 * struct vmsg_amp_config - one region, as a glue driver found it
 * @parent: the glue's device; parent of the bus and of its virtio devices,
 *	and their DMA device unless %VMSG_AMP_F_WINDOW is set (see "Address
 *	space" in Documentation/driver-api/virtio/virtio_msg_amp.rst)
 * @base: kernel virtual address of the region, mapped cacheable or, with
 *	%VMSG_AMP_F_WC, write-combining; stays mapped until
 *	vmsg_amp_destroy() returns
 * @size: size of the region in bytes
 * @header_extra: bytes right after the 64-byte layout header that belong
 *	to the header (4 for ivshmem, which keeps the device side's peer ID
 *	there), so that no area may overlap them
 * @flags: VMSG_AMP_F_*
 * @poll_ms: there is no inbound interrupt: look at the region every
 *	@poll_ms milliseconds instead; 0 when the glue calls
 *	vmsg_amp_doorbell() from an interrupt
 * @ops: how to ring the peer
 * @priv: passed to @ops
 */
struct vmsg_amp_config {
	struct device *parent;
	void *base;
	size_t size;
	size_t header_extra;
	unsigned long flags;
	unsigned int poll_ms;
	const struct vmsg_amp_ops *ops;
	void *priv;
};

struct vmsg_amp *vmsg_amp_create(const struct vmsg_amp_config *cfg);
void vmsg_amp_doorbell(struct vmsg_amp *amp);
void vmsg_amp_stop(struct vmsg_amp *amp);
void vmsg_amp_destroy(struct vmsg_amp *amp);

/**
 * struct vmsg_amp_geom - a validated layout, in host order
 * @num_elems: elements per message queue
 * @elem_size: bytes per element
 * @num_notif: notification words per direction (0: none)
 * @vq_bits: notification bits per device (num_vq_notif_per_device)
 * @masked: the notification areas carry a mask array
 * @dev_notif: offset of the device side's notification words
 * @dev_head: offset of the device side's queue head
 * @dev_elems: offset of the device-to-driver message queue
 * @drv_notif: offset of the driver side's notification words
 * @drv_head: offset of the driver side's queue head
 * @drv_elems: offset of the driver-to-device message queue
 * @end: first byte after the last area, header included
 */
struct vmsg_amp_geom {
	u16 num_elems;
	u16 elem_size;
	u8 num_notif;
	u8 vq_bits;
	bool masked;
	u64 dev_notif;
	u64 dev_head;
	u64 dev_elems;
	u64 drv_notif;
	u64 drv_head;
	u64 drv_elems;
	u64 end;
};

#if IS_ENABLED(CONFIG_KUNIT)
/* Exported for the KUnit tests only. */
int vmsg_amp_parse_layout(const struct virtio_msg_amp_layout *l, size_t size,
			  size_t header_extra, struct vmsg_amp_geom *g);
struct virtio_msg_bus *vmsg_amp_kunit_bus(struct vmsg_amp *amp);
unsigned long vmsg_amp_kunit_tx_ready(struct vmsg_amp *amp);
#endif

#endif /* _LINUX_VIRTIO_MSG_AMP_H */

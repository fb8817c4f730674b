/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/*
 * virtio-msg AMP bus: the data structures two processors share to carry
 * virtio-msg messages through a memory region, with doorbells (interrupts)
 * in both directions. One side is the driver side (virtio drivers, the
 * kernel's virtio_msg_amp module), the other the device side (for
 * instance a host process serving a card, or firmware on another core).
 *
 * Everything is little-endian. The region starts with the layout header
 * (struct virtio_msg_amp_layout), which the device side writes, magic
 * last. The header gives the offsets of each side's queue head, message
 * queue elements and notification words. Each side writes only its own
 * areas; every value read from the other side is untrusted.
 *
 * Layout version 1 is the "self-describing layout" of the published AMP
 * code. An older format under the same PCI IDs (two fixed queues of 64-byte
 * packets at +0x1000 and +0x2000) has no such header: only the magic tells
 * them apart, and this header does not describe it.
 *
 * See Documentation/driver-api/virtio/virtio_msg_amp.rst for the rules.
 */
#ifndef _UAPI_LINUX_VIRTIO_MSG_AMP_H
#define _UAPI_LINUX_VIRTIO_MSG_AMP_H

#include <linux/types.h>

/* struct virtio_msg_amp_layout.magic: "LO", written last by the device side. */
#define VIRTIO_MSG_AMP_LAYOUT_MAGIC	0x4c4f
#define VIRTIO_MSG_AMP_LAYOUT_VERSION	1

/* The notification words carry a mask array (see below). */
#define VIRTIO_MSG_AMP_F_MASKED_NOTIF	0x0001
#define VIRTIO_MSG_AMP_F_ALL		VIRTIO_MSG_AMP_F_MASKED_NOTIF

/* Most notification words per direction. */
#define VIRTIO_MSG_AMP_MAX_NOTIF	64
/* Fewest elements a message queue has; one slot always stays unused. */
#define VIRTIO_MSG_AMP_MIN_ELEMENTS	2

/**
 * struct virtio_msg_amp_layout - layout header, at offset 0 of the region
 * @magic: VIRTIO_MSG_AMP_LAYOUT_MAGIC once the rest is valid
 * @length: sizeof(struct virtio_msg_amp_layout), 64
 * @version: VIRTIO_MSG_AMP_LAYOUT_VERSION
 * @features: VIRTIO_MSG_AMP_F_* bits; a driver refuses unknown bits
 * @num_notif: notification words (__le64) per direction, 0 to
 *	VIRTIO_MSG_AMP_MAX_NOTIF; 0: no notification words
 * @num_vq_notif_per_device: notification bits per device, 1, 2, 4, 8 or
 *	16; checked only when @num_notif is not 0
 * @num_queue_elements: elements in each message queue, at least
 *	VIRTIO_MSG_AMP_MIN_ELEMENTS
 * @size_queue_elements: bytes per element, not 0; one message per
 *	element, from its first byte
 * @reserved: 0
 * @dev_notif_offset: the device side's notification words
 * @dev_queue_head_offset: the device side's queue head
 * @dev_queue_elements_offset: the device-to-driver message queue
 * @drv_notif_offset: the driver side's notification words
 * @drv_queue_head_offset: the driver side's queue head
 * @drv_queue_elements_offset: the driver-to-device message queue
 *
 * Offsets are from the start of the region. Every queue offset is not 0,
 * the notification offsets only when @num_notif is not 0. Notification
 * words are 8-byte aligned, queue heads 2-byte aligned. Every area lies
 * inside the region and no two areas (the header included) overlap.
 */
struct virtio_msg_amp_layout {
	__le16 magic;
	__le16 length;
	__le16 version;
	__le16 features;
	__u8 num_notif;
	__u8 num_vq_notif_per_device;
	__le16 num_queue_elements;
	__le16 size_queue_elements;
	__le16 reserved;
	__le64 dev_notif_offset;
	__le64 dev_queue_head_offset;
	__le64 dev_queue_elements_offset;
	__le64 drv_notif_offset;
	__le64 drv_queue_head_offset;
	__le64 drv_queue_elements_offset;
} __attribute__((packed));

/* struct virtio_msg_amp_queue_head.magic: "QO". */
#define VIRTIO_MSG_AMP_QUEUE_MAGIC	0x514f

/* struct virtio_msg_amp_queue_head.status, bits 4:0. */
#define VIRTIO_MSG_AMP_STATUS_INIT	0
#define VIRTIO_MSG_AMP_STATUS_READY	1
#define VIRTIO_MSG_AMP_STATUS_RUN	2
#define VIRTIO_MSG_AMP_STATUS_SHUTDOWN	3
#define VIRTIO_MSG_AMP_STATUS_PEER_DEAD	4
#define VIRTIO_MSG_AMP_STATUS_MASK	0x1f
/* The side may stop under a debugger: do not take silence for death. */
#define VIRTIO_MSG_AMP_STATUS_DEBUGGABLE	0x8000

/**
 * struct virtio_msg_amp_queue_head - one side's queue state
 * @magic: VIRTIO_MSG_AMP_QUEUE_MAGIC
 * @status: VIRTIO_MSG_AMP_STATUS_* in bits 4:0, flags above
 * @tail: this side's producer index into its own message queue
 * @head: this side's consumer index into the peer's message queue
 *
 * Written only by its owner. A queue of N elements is empty when the
 * reader's @head equals the writer's @tail, and full when
 * (@tail + 1) % N equals the reader's @head. The writer fills element
 * @tail, then publishes the new @tail with a release store; the reader
 * loads @tail with acquire, copies the element out, then publishes its new
 * @head with a release store. Indices are always below N: any other value
 * read from the peer means the peer is broken.
 */
struct virtio_msg_amp_queue_head {
	__le16 magic;
	__le16 status;
	__le16 tail;
	__le16 head;
};

/*
 * Notification words, optional (num_notif > 0). Each side's area holds
 * tx[num_notif], then rx[num_notif], then, with VIRTIO_MSG_AMP_F_MASKED_NOTIF,
 * mask[num_notif], all __le64:
 *
 * - a side signals bit b by toggling it in its own tx; the receiver finds
 *   pending = own rx XOR peer tx, and acknowledges with own rx ^= pending;
 * - a side sets a bit in its own mask when it wants no doorbell for that
 *   bit (it polls, or handles it anyway); the sender still toggles tx and
 *   skips the doorbell only when every bit it toggled is masked.
 *
 * Bit b is bit (b % 64) of word (b / 64). The assignment, in both
 * directions:
 *
 * - bit 0: the sender's message queue has new elements;
 * - bits from VIRTIO_MSG_AMP_NOTIF_VQ_BASE: out-of-band virtqueue
 *   notifications. Device number d owns num_vq_notif_per_device (k) bits
 *   from VIRTIO_MSG_AMP_NOTIF_VQ_BASE + d * k; virtqueue q of d signals
 *   bit VIRTIO_MSG_AMP_NOTIF_VQ_BASE + d * k + q % k, and the receiver of
 *   that bit looks at every virtqueue of d whose index is q % k modulo k.
 *   Driver to device it means "available buffers" (as EVENT_AVAIL), device
 *   to driver "used buffers" (as EVENT_USED). A device whose bits do not
 *   fit in num_notif * 64 uses messages only.
 */
#define VIRTIO_MSG_AMP_NOTIF_MSG_QUEUE	0
#define VIRTIO_MSG_AMP_NOTIF_VQ_BASE	1

#endif /* _UAPI_LINUX_VIRTIO_MSG_AMP_H */

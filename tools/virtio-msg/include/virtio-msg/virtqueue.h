/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * virtio-msg device side: split virtqueue processing.
 *
 * Rings and buffers live in driver memory and are reached only through
 * the bus accessor. Their contents are untrusted: every index is checked,
 * every walk is bounded, and a violation of the ring rules (or an
 * accessor failure on the ring itself) breaks the queue and sets
 * DEVICE_NEEDS_RESET.
 */
#ifndef _VIRTIO_MSG_VIRTQUEUE_H
#define _VIRTIO_MSG_VIRTQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct vmsg_dev;

/* Largest split virtqueue and largest indirect descriptor table. */
#define VMSG_VQ_MAX_SIZE	32768

/**
 * struct vmsg_iov - one buffer segment in driver memory
 * @addr: bus address
 * @len: length in bytes
 */
struct vmsg_iov {
	uint64_t addr;
	uint32_t len;
};

/**
 * struct vmsg_vq_elem - a descriptor chain taken from the available ring
 * @head: head descriptor index, to give back to vmsg_vq_push()
 * @out_num: number of device-readable segments (first in the iov array)
 * @in_num: number of device-writable segments (after the readable ones)
 * @out_len: total bytes of the readable segments
 * @in_len: total bytes of the writable segments
 */
struct vmsg_vq_elem {
	uint16_t head;
	unsigned int out_num;
	unsigned int in_num;
	uint64_t out_len;
	uint64_t in_len;
};

/**
 * vmsg_vq_ready() - is a virtqueue set up and usable
 * @dev: device
 * @index: virtqueue index
 *
 * Return: true if SET_VQUEUE made the queue live and it is not broken.
 */
bool vmsg_vq_ready(const struct vmsg_dev *dev, unsigned int index);

/**
 * vmsg_vq_pop() - take the next available descriptor chain
 * @dev: device
 * @index: virtqueue index
 * @elem: filled in on success
 * @iov: array for the segments
 * @iov_cap: number of entries in @iov
 *
 * Follows direct and indirect descriptors (indirect only when
 * VIRTIO_F_INDIRECT_DESC was negotiated: one table, not nested, a
 * non-zero multiple of 16 bytes). A chain holds at most the queue size of
 * segments, direct and indirect ones together, as the virtio spec
 * requires of the driver; a longer chain is a ring rule violation, and no
 * more than that many descriptors are read to find out. So is an
 * available index more than the queue size ahead, and a head that is out
 * of range or still in flight (popped and not yet pushed): a driver
 * cannot make the device hold one buffer twice. With VIRTIO_F_EVENT_IDX
 * the avail_event field is kept up to date.
 *
 * Return: 1 with @elem and @iov filled in; 0 if the ring is empty or the
 * device is not DRIVER_OK; -EINVAL if the queue is not live; -EIO if the
 * queue is broken, or the device needs reset or failed (also after this
 * call found a ring rule violation or an accessor failure; the device is
 * then NEEDS_RESET); -ENOBUFS if the chain was valid but had more
 * segments than @iov_cap or the model's queue_max_segs, and the model's
 * oversized_chain callback answered it: it was completed with the length
 * the callback returned, and the caller should call vmsg_vq_notify() and
 * pop again. Without that answer such a chain makes the device
 * NEEDS_RESET (-EIO), as it cannot be completed in a way the driver
 * would not take for success.
 */
int vmsg_vq_pop(struct vmsg_dev *dev, unsigned int index,
		struct vmsg_vq_elem *elem, struct vmsg_iov *iov,
		unsigned int iov_cap);

/**
 * vmsg_vq_push() - return a descriptor chain through the used ring
 * @dev: device
 * @index: virtqueue index
 * @head: head index from vmsg_vq_pop()
 * @len: number of bytes written into the chain's writable segments
 *
 * Writes the used element, then publishes the new used index. Does not
 * notify the driver; see vmsg_vq_notify(). Each chain popped is pushed
 * exactly once; the head is then free for the driver to publish again.
 *
 * Return: 0; -EINVAL for a queue that is not live or a @head that is not
 * in flight (never popped, or pushed already; nothing is written); -EIO
 * if the queue is broken or the accessor failed (the device is then
 * NEEDS_RESET).
 */
int vmsg_vq_push(struct vmsg_dev *dev, unsigned int index, uint16_t head,
		 uint32_t len);

/**
 * vmsg_vq_notify() - send EVENT_USED if the driver wants it
 * @dev: device
 * @index: virtqueue index
 *
 * Nothing is sent if nothing was pushed since the last call. Otherwise,
 * with VIRTIO_F_EVENT_IDX the used_event field decides; without it,
 * VIRTQ_AVAIL_F_NO_INTERRUPT in the available ring flags suppresses the
 * event.
 *
 * Return: 1 if EVENT_USED was sent, 0 if not needed, -EINVAL for a queue
 * that is not live, -EIO if the queue is broken or the ring could not be
 * read, or the error from send_event.
 */
int vmsg_vq_notify(struct vmsg_dev *dev, unsigned int index);

/**
 * vmsg_iov_read() - copy from readable segments
 * @dev: device
 * @iov: segments
 * @iov_num: number of segments
 * @offset: byte offset into the concatenated segments
 * @buf: destination
 * @len: maximum number of bytes
 *
 * Return: bytes copied (less than @len when the segments end), or a
 * negative errno if the accessor failed.
 */
ssize_t vmsg_iov_read(struct vmsg_dev *dev, const struct vmsg_iov *iov,
		      unsigned int iov_num, size_t offset, void *buf,
		      size_t len);

/**
 * vmsg_iov_write() - copy into writable segments
 * @dev: device
 * @iov: segments
 * @iov_num: number of segments
 * @offset: byte offset into the concatenated segments
 * @buf: source
 * @len: maximum number of bytes
 *
 * Return: bytes copied (less than @len when the segments end), or a
 * negative errno if the accessor failed.
 */
ssize_t vmsg_iov_write(struct vmsg_dev *dev, const struct vmsg_iov *iov,
		       unsigned int iov_num, size_t offset, const void *buf,
		       size_t len);

#endif /* _VIRTIO_MSG_VIRTQUEUE_H */

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * virtio-msg device side over the AMP bus: messages through two queues in
 * a shared memory region, doorbells both ways. The layout, hand-shake,
 * ordering and restart rules are those of
 * Documentation/driver-api/virtio/virtio_msg_amp.rst; this is the device
 * side, which creates the layout.
 *
 * Everything the driver side writes is untrusted: its indices, status and
 * magic are checked on every read, messages are copied out of the region
 * before they are looked at, and virtqueue memory is reached only inside
 * the driver's window, with every range checked against it. Not
 * thread-safe: one thread runs an instance.
 */
#ifndef _VIRTIO_MSG_AMP_H
#define _VIRTIO_MSG_AMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/virtio_msg_amp.h>

#include <virtio-msg/transport.h>

/* The defaults of struct vmsg_amp_config. */
#define VMSG_AMP_DEFAULT_ELEMENTS	64
#define VMSG_AMP_DEFAULT_ELEMENT_SIZE	264
/* Where the ivshmem peer ID of the device side is, and its size. */
#define VMSG_AMP_PEER_ID_OFFSET		64
#define VMSG_AMP_HEADER_AREA		68
/* The driver's window starts on this boundary. */
#define VMSG_AMP_WINDOW_ALIGN		4096

struct vmsg_amp;

/**
 * struct vmsg_amp_config - the layout the device side creates
 * @num_elements: elements per message queue, 2 to 65535 (0: default)
 * @element_size: bytes per element, VIRTIO_MSG_MAX_SIZE_MIN to 65535
 *	(0: default); it is the bus's largest message
 * @num_notif: notification words per direction, 0 to
 *	VIRTIO_MSG_AMP_MAX_NOTIF
 * @vq_notif_per_device: 1, 2, 4, 8 or 16 (used with @num_notif)
 * @masked_notif: offer VIRTIO_MSG_AMP_F_MASKED_NOTIF (with @num_notif)
 * @peer_id: the le32 written at VMSG_AMP_PEER_ID_OFFSET (ivshmem: the
 *	device side's peer ID)
 * @ring: rings the driver side's doorbell; required
 * @ring_ctx: handed to @ring
 */
struct vmsg_amp_config {
	uint16_t num_elements;
	uint16_t element_size;
	uint8_t num_notif;
	uint8_t vq_notif_per_device;
	bool masked_notif;
	uint32_t peer_id;
	void (*ring)(void *ring_ctx);
	void *ring_ctx;
};

/**
 * struct vmsg_amp_stats - counters of an instance
 * @received: messages taken from the driver's queue
 * @sent: messages put in the device side's queue
 * @send_dropped: messages not sent (not running, too large)
 * @send_full: sends that found our queue full for too long: the message
 *	waits for vmsg_transport_flush(), see struct vmsg_transport_ops
 * @doorbells: doorbells rung
 * @restarts: restarts of the driver side seen (hand-shakes after the
 *	first)
 * @peer_errors: bad values read from the driver side (index, magic,
 *	status): each made the device side write PEER_DEAD
 * @notif_kicks: virtqueue notification bits taken from the driver side
 */
struct vmsg_amp_stats {
	uint64_t received;
	uint64_t sent;
	uint64_t send_dropped;
	uint64_t send_full;
	uint64_t doorbells;
	uint64_t restarts;
	uint64_t peer_errors;
	uint64_t notif_kicks;
};

/**
 * vmsg_amp_create() - take a region and write the layout into it
 * @region: the mapped region, at least 8-byte aligned, shared with the
 *	driver side
 * @size: its size in bytes
 * @cfg: the layout and the doorbell
 *
 * The header goes at offset 0 and the areas right after it; the rest,
 * from the next VMSG_AMP_WINDOW_ALIGN boundary, is the driver's window.
 * A region that already holds this very layout (a device side that
 * restarts) keeps its header, so that a driver side that validated it
 * need not again; otherwise the header is written anew, magic last. The
 * device side's own areas are zeroed, its queue head written INIT and,
 * unless the driver side shows RUN from an earlier session (see the
 * restart rules), READY. Nothing is sent before vmsg_amp_poll() sees the
 * driver side ready.
 *
 * Return: the instance, or NULL with errno set (EINVAL: bad @cfg, or the
 * region too small for the layout and one page of window).
 */
struct vmsg_amp *vmsg_amp_create(void *region, size_t size,
				 const struct vmsg_amp_config *cfg);

/**
 * vmsg_amp_destroy() - stop: write SHUTDOWN, ring, destroy the devices
 * @amp: instance, or NULL
 */
void vmsg_amp_destroy(struct vmsg_amp *amp);

/**
 * vmsg_amp_transport() - the devices of the instance
 * @amp: instance
 *
 * Add and remove devices with vmsg_transport_add() and
 * vmsg_transport_remove(); they speak VIRTIO_MSG_WIRE_V1 unless
 * vmsg_transport_set_wire() says otherwise before the first one.
 *
 * Return: the transport, owned by @amp.
 */
struct vmsg_transport *vmsg_amp_transport(struct vmsg_amp *amp);

/**
 * vmsg_amp_poll() - do what the driver side asked for
 * @amp: instance
 *
 * Call after each doorbell (any number of doorbells may be merged into
 * one call) and from time to time without one. Runs the hand-shake and
 * the restart rules, takes the driver's notification bits and up to
 * four queue lengths of messages, and rings the driver side once if
 * anything was sent.
 *
 * Return: 1 when messages are left for another call, 0 when the queue
 * is empty (or the driver side is not running).
 */
int vmsg_amp_poll(struct vmsg_amp *amp);

/**
 * vmsg_amp_peer_gone() - the driver side went away (its VM stopped)
 * @amp: instance
 *
 * Drops the session: the devices are reset and the device side restarts
 * (INIT), waiting for a driver side to start afresh.
 */
void vmsg_amp_peer_gone(struct vmsg_amp *amp);

/**
 * vmsg_amp_status() - the device side's own status
 * @amp: instance
 *
 * Return: VIRTIO_MSG_AMP_STATUS_*.
 */
unsigned int vmsg_amp_status(const struct vmsg_amp *amp);

/**
 * vmsg_amp_window() - the driver's window
 * @amp: instance
 * @size: where its size goes
 *
 * Return: its offset in the region.
 */
uint64_t vmsg_amp_window(const struct vmsg_amp *amp, uint64_t *size);

/**
 * vmsg_amp_get_stats() - read the counters
 * @amp: instance
 * @stats: filled in
 */
void vmsg_amp_get_stats(const struct vmsg_amp *amp,
			struct vmsg_amp_stats *stats);

/**
 * vmsg_amp_mark_dead() - say in a region that its device side is gone
 * @region: the mapped region
 * @size: its size
 *
 * For the process that owns the region when the device side's process
 * died: if the region holds a valid layout, writes PEER_DEAD in the
 * device side's queue head, so that the driver side learns it at its
 * next doorbell instead of at a time-out. A SHUTDOWN already there is
 * kept.
 *
 * Return: true if it was written.
 */
bool vmsg_amp_mark_dead(void *region, size_t size);

#endif /* _VIRTIO_MSG_AMP_H */

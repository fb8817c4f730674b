/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * virtio-msg device side: what every bus shares.
 *
 * A bus (the loopback character device, an AMP shared-memory region, ...)
 * moves whole messages and reaches driver memory; struct
 * vmsg_transport_ops is all it provides. struct vmsg_transport keeps the
 * devices of one bus instance, hands each received message to its device
 * and answers the bus messages (GET_DEVICES, PING), so that the same
 * device models run over any bus. Not thread-safe, like the rest of the
 * library.
 */
#ifndef _VIRTIO_MSG_TRANSPORT_H
#define _VIRTIO_MSG_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <virtio-msg/device.h>

struct vmsg_transport;

/**
 * struct vmsg_transport_ops - what a bus provides
 * @mem_read: copy @len bytes of driver memory at bus address @addr, as
 *	device @dev_num may see it, into @dst; 0 or a negative errno when
 *	any part of the range is not accessible
 * @mem_write: the same, from @src into driver memory
 * @send: send one complete device->driver message of @len bytes (at most
 *	the bus maximum); 0 or a negative errno. A bus may collect messages
 *	and signal the peer once per batch (see vmsg_transport_dispatch()).
 *	-EAGAIN means the driver side has no room now: the instance keeps
 *	the message and sends it again, before any newer one, from
 *	vmsg_transport_flush()
 *
 * Each receives the ctx given to vmsg_transport_create().
 */
struct vmsg_transport_ops {
	int (*mem_read)(void *ctx, uint16_t dev_num, uint64_t addr, void *dst,
			size_t len);
	int (*mem_write)(void *ctx, uint16_t dev_num, uint64_t addr,
			 const void *src, size_t len);
	int (*send)(void *ctx, const void *msg, size_t len);
};

/**
 * vmsg_transport_create() - a bus instance with no device yet
 * @ops: the bus's services, all three required
 * @ctx: handed to each of them
 * @max_msg_size: largest message on the bus, VIRTIO_MSG_MAX_SIZE_MIN to
 *	VIRTIO_MSG_MAX_SIZE_MAX
 *
 * The instance speaks VIRTIO_MSG_WIRE_V1 until vmsg_transport_set_wire().
 *
 * Return: the instance, or NULL with errno set (EINVAL, ENOMEM).
 */
struct vmsg_transport *vmsg_transport_create(const struct vmsg_transport_ops *ops,
					     void *ctx, size_t max_msg_size);

/**
 * vmsg_transport_destroy() - destroy the instance and its devices
 * @t: instance, or NULL
 */
void vmsg_transport_destroy(struct vmsg_transport *t);

/**
 * vmsg_transport_set_wire() - the wire generation of the devices added next
 * @t: instance, with no device yet
 * @wire: VIRTIO_MSG_WIRE_V1 or VIRTIO_MSG_WIRE_V2
 * @features: v2 transport feature bits, (1U << VIRTIO_MSG_F_*); 0 for v1
 *
 * Return: 0, -EINVAL, or -EBUSY once a device was added.
 */
int vmsg_transport_set_wire(struct vmsg_transport *t, unsigned int wire,
			    uint32_t features);

/**
 * vmsg_transport_wire() - the wire generation the instance speaks
 * @t: instance
 *
 * Return: VIRTIO_MSG_WIRE_V1 or VIRTIO_MSG_WIRE_V2.
 */
unsigned int vmsg_transport_wire(const struct vmsg_transport *t);

/**
 * vmsg_transport_max_msg_size() - largest message on the bus
 * @t: instance
 *
 * Return: the size given to vmsg_transport_create().
 */
size_t vmsg_transport_max_msg_size(const struct vmsg_transport *t);

/**
 * vmsg_transport_add() - create a device on the instance
 * @t: instance
 * @dev_num: device number, unique on @t
 * @model: device model (see vmsg_dev_create())
 * @priv: model private data
 *
 * The device speaks the instance's wire generation; it is reported by
 * GET_DEVICES from now on.
 *
 * Return: the device (owned by @t), or NULL with errno set (EEXIST,
 * EINVAL, ENOMEM).
 */
struct vmsg_dev *vmsg_transport_add(struct vmsg_transport *t,
				    uint16_t dev_num,
				    const struct vmsg_dev_model *model,
				    void *priv);

/**
 * vmsg_transport_remove() - destroy a device of the instance
 * @t: instance
 * @dev_num: device number
 *
 * Return: 0, or -ENOENT.
 */
int vmsg_transport_remove(struct vmsg_transport *t, uint16_t dev_num);

/**
 * vmsg_transport_find() - a device of the instance
 * @t: instance
 * @dev_num: device number
 *
 * Return: the device, or NULL.
 */
struct vmsg_dev *vmsg_transport_find(const struct vmsg_transport *t,
				     uint16_t dev_num);

/**
 * vmsg_transport_dispatch() - handle one driver->device message
 * @t: instance
 * @msg: the bytes received, in memory the peer cannot change any more
 * @len: their number
 *
 * A transport message goes to its device, a bus request (GET_DEVICES,
 * PING) is answered here; every response goes out through ops->send.
 * Malformed messages, responses, and messages for unknown devices are
 * dropped.
 *
 * Return: 0 when the message was taken, or a negative errno when it was
 * dropped (-EBADMSG, -ENODEV, -EOPNOTSUPP, or the error from ops->send).
 */
int vmsg_transport_dispatch(struct vmsg_transport *t, const void *msg,
			    size_t len);

/**
 * vmsg_transport_flush() - send the messages the bus could not take yet
 * @t: instance
 *
 * A message that ops->send refused with -EAGAIN is kept, in order, with
 * every message sent after it, and nothing is lost: a serving loop calls
 * this whenever the bus may have room again (the loopback file polls
 * writable; an AMP peer took messages), and at least now and then while
 * vmsg_transport_backlogged() says so. Identical events are kept once.
 * At most 1024 messages are kept; past that, sends fail with -ENOBUFS.
 * The backlog is dropped with vmsg_transport_reset_devices(): it was for
 * a driver side that went away.
 *
 * Return: 0 once nothing is owed, -EAGAIN while the bus is still full,
 * or the error with which ops->send refused a message for good (that
 * message is dropped).
 */
int vmsg_transport_flush(struct vmsg_transport *t);

/**
 * vmsg_transport_backlogged() - whether messages wait for room on the bus
 * @t: instance
 *
 * Return: true while vmsg_transport_flush() has work.
 */
bool vmsg_transport_backlogged(const struct vmsg_transport *t);

/**
 * vmsg_transport_unplug() - announce the removal of a device, keep serving
 * @t: instance
 * @dev_num: device number
 *
 * Sends EVENT_DEVICE(REMOVED) for @dev_num. The driver side then lets go
 * of the device in an orderly way: its driver completes what the device
 * holds and resets it, so go on dispatching its messages until
 * vmsg_transport_unplug_done() says so; the device stays until
 * vmsg_transport_remove().
 *
 * Return: 0, -ENOENT for an unknown number, or the error from ops->send.
 */
int vmsg_transport_unplug(struct vmsg_transport *t, uint16_t dev_num);

/**
 * vmsg_transport_unplug_all() - vmsg_transport_unplug() every device
 * @t: instance
 *
 * Return: 0, or the first error.
 */
int vmsg_transport_unplug_all(struct vmsg_transport *t);

/**
 * vmsg_transport_unplug_done() - whether removed devices were let go of
 * @t: instance
 *
 * Return: true once the driver side has reset every device announced
 * with vmsg_transport_unplug() since the announcement.
 */
bool vmsg_transport_unplug_done(const struct vmsg_transport *t);

/**
 * vmsg_transport_reset_devices() - reset every device
 * @t: instance
 *
 * For a peer that restarted: each device goes back to status 0 (see
 * vmsg_dev_reset()), and what was owed to the old peer is dropped.
 */
void vmsg_transport_reset_devices(struct vmsg_transport *t);

/*
 * Serving from a program: the devices one process offers, and the
 * program's own work in its serving loop. Used by every bus's serving
 * loop (vmsg_lb_serve(), vmsg_amp_serve()).
 */

/**
 * struct vmsg_serve_dev - a device a program offers
 * @dev_num: device number, unique among those served
 * @model: device model
 * @priv: model private data
 * @dev: set by the serving loop once the device exists, and back to NULL
 *	once it is gone
 */
struct vmsg_serve_dev {
	uint16_t dev_num;
	const struct vmsg_dev_model *model;
	void *priv;
	struct vmsg_dev *dev;
};

/**
 * struct vmsg_serve_hooks - a program's own work in the serving loop
 * @work: called after each batch of messages, for work the program left
 *	for later; returns true while some is left, so that the loop goes
 *	on without waiting. May be NULL
 * @wait_fd: called before each wait: a descriptor to wait on for reading
 *	as well as the bus, or -1 for none this time. May be NULL
 * @fd_ready: called when that descriptor is readable, or hung up;
 *	required with @wait_fd
 * @priv: handed to each
 */
struct vmsg_serve_hooks {
	bool (*work)(void *priv);
	int (*wait_fd)(void *priv);
	void (*fd_ready)(void *priv);
	void *priv;
};

/**
 * vmsg_report_open_error() - say why a bus's device node did not open
 * @path: the node
 * @err: errno of the failed open(), or of the checks right after it
 * @module: the kernel module that provides the node
 *
 * Prints "@path: <strerror>" to stderr and, for the usual causes, what
 * to do about them: ENOENT and ENODEV mean the module is not loaded (or
 * not installed), EACCES and EPERM a lack of privilege.
 */
void vmsg_report_open_error(const char *path, int err, const char *module);

#endif /* _VIRTIO_MSG_TRANSPORT_H */

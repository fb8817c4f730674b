/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * virtio-msg device side: device instance, bus glue and device model.
 *
 * One struct vmsg_dev serves one device number on one bus instance. The
 * bus glue hands it every driver->device message with vmsg_dev_handle()
 * and sends the response it produces; the device reaches driver memory
 * and emits events only through the struct vmsg_bus_ops it was given, so
 * the library does not depend on the bus (loopback char device, shared
 * memory, ...).
 *
 * The library is not thread-safe: calls on one device must be serialised
 * by the caller. Device model callbacks run from inside library calls
 * (vmsg_dev_handle() for kicks, resets and config writes) and may call
 * back into the library for the same device.
 */
#ifndef _VIRTIO_MSG_DEVICE_H
#define _VIRTIO_MSG_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct vmsg_dev;
struct vmsg_iov;
struct vmsg_vq_elem;

/**
 * struct vmsg_bus_ops - services the bus glue provides to a device
 * @mem_read: copy @len bytes of driver memory at bus address @addr into
 *	@dst. Return 0 on success or a negative errno if any part of the
 *	range is not accessible; the library never assumes success.
 * @mem_write: copy @len bytes from @src to driver memory at bus address
 *	@addr. Same return convention as @mem_read.
 * @send_event: send one complete device->driver message (EVENT_USED or
 *	EVENT_CONFIG; header included, @len equals its msg_size, at most the
 *	bus maximum message size). May be called from inside
 *	vmsg_dev_handle(), before the response to the message being handled
 *	is returned. Return 0 or a negative errno; a failure is counted and
 *	reported to the caller of the API that emitted the event. May be
 *	NULL (events are then dropped and counted as failures).
 *
 * All three receive the bus_ctx given to vmsg_dev_create(). Bus addresses
 * are whatever the bus defines (guest physical, area|offset, ...); the
 * library only checks that a range does not wrap around 2^64.
 */
struct vmsg_bus_ops {
	int (*mem_read)(void *bus_ctx, uint64_t addr, void *dst, size_t len);
	int (*mem_write)(void *bus_ctx, uint64_t addr, const void *src,
			 size_t len);
	int (*send_event)(void *bus_ctx, const void *msg, size_t len);
};

/**
 * struct vmsg_shm_region - a device shared memory region (GET_SHM)
 * @address: region address
 * @length: region length in bytes; 0 means the region does not exist
 *
 * The v1 wire carries 32-bit values: there a region whose address or
 * length does not fit is reported as absent rather than truncated.
 */
struct vmsg_shm_region {
	uint64_t address;
	uint64_t length;
};

/*
 * SET_CONFIG with a stale generation on the v1 wire: by default the write
 * is rejected (response length 0), as the transport text requires. With
 * this flag it is applied anyway ("coalesced"), the behaviour proposed in
 * review. On the v2 wire the bus picks the profile instead, with the
 * transport feature bit VIRTIO_MSG_F_STRICT_CONFIG_GENERATION (see
 * vmsg_dev_set_wire()), and this flag is not used.
 */
#define VMSG_DEV_F_SET_CONFIG_COALESCE	(1U << 0)

/**
 * struct vmsg_dev_model - description of a device type
 * @device_id: virtio device ID (must not be 0)
 * @vendor_id: vendor ID
 * @device_uuid: optional, 16 bytes of device UUID that GET_DEVICE_INFO
 *	reports on the v2 wire; NULL reports all zero (no UUID)
 * @num_feature_blocks: number of 32-bit feature blocks in @features; at
 *	least 2, because VIRTIO_F_VERSION_1 (bit 32) is mandatory
 * @features: offered feature bits, block k holds bits 32k..32k+31. Must
 *	include VIRTIO_F_VERSION_1 and must not include VIRTIO_F_RING_PACKED
 *	(only split virtqueues are implemented)
 * @required_features: optional, @num_feature_blocks blocks of bits the
 *	driver must accept for FEATURES_OK (VIRTIO_F_VERSION_1 is always
 *	required); NULL for none
 * @config_size: size of the configuration space in bytes (may be 0)
 * @config_init: optional initial configuration contents, @config_size
 *	bytes, restored on every device reset; NULL means all zero
 * @num_queues: number of virtqueues; at most 65536 on the v2 wire
 * @queue_max_size: @num_queues maximum sizes, each 0 (queue unusable) or
 *	a power of two up to 32768
 * @queue_max_segs: optional, @num_queues limits on the segments of one
 *	descriptor chain (direct and indirect together; for virtio-blk
 *	seg_max plus header and status), 0 for none; NULL for none at all.
 *	The queue size always limits a chain. A chain with more segments
 *	goes to @oversized_chain
 * @num_shm: number of entries in @shm
 * @shm: shared memory regions reported by GET_SHM; may be NULL
 * @flags: VMSG_DEV_F_* policy flags
 * @queue_notify: the driver kicked queue @index (EVENT_AVAIL), or the
 *	driver set DRIVER_OK while the queue was live. Called only while the
 *	device is DRIVER_OK and not NEEDS_RESET/FAILED. Typically pops
 *	buffers with vmsg_vq_pop(), pushes them back with vmsg_vq_push() and
 *	calls vmsg_vq_notify(). May be NULL.
 * @config_write: the driver wrote @len bytes at @offset (already bounds-
 *	and generation-checked). Return 0 to accept, after which the library
 *	stores the bytes in the configuration space, or a negative errno to
 *	reject the write (response length 0). NULL makes the configuration
 *	space read-only for the driver.
 * @validate_features: optional extra check when the driver sets
 *	FEATURES_OK, after the library checked that @features is a subset of
 *	the offered bits containing the required ones. Return 0 to accept.
 * @queue_reset: optional; queue @index was reset by RESET_VQUEUE (not
 *	called for a device reset, which calls @reset)
 * @reset: optional; the device was reset (status written to 0). Library
 *	state (features, queues, configuration contents) is already reset.
 * @oversized_chain: optional; vmsg_vq_pop() took a chain from queue
 *	@index that obeys the ring rules but has more segments than
 *	@queue_max_segs or the caller's iov array. @elem counts and sums
 *	all its segments; @last is its final one (writable iff
 *	@elem->in_num). Return the used length to complete the chain with,
 *	after writing whatever tells the driver it failed (for virtio-blk an
 *	IOERR status in the last byte): the library pushes it, clamped to
 *	@elem->in_len, and vmsg_vq_pop() returns -ENOBUFS. Return a negative
 *	errno if the device cannot answer it; then, as when this is NULL,
 *	the chain is treated as a ring rule violation (NEEDS_RESET). Must
 *	not push the chain itself.
 *
 * The model, and every array it points to, must outlive the devices
 * created from it.
 */
struct vmsg_dev_model {
	uint32_t device_id;
	uint32_t vendor_id;
	const uint8_t *device_uuid;
	unsigned int num_feature_blocks;
	const uint32_t *features;
	const uint32_t *required_features;
	uint32_t config_size;
	const void *config_init;
	unsigned int num_queues;
	const uint16_t *queue_max_size;
	const uint16_t *queue_max_segs;
	unsigned int num_shm;
	const struct vmsg_shm_region *shm;
	unsigned int flags;

	void (*queue_notify)(struct vmsg_dev *dev, unsigned int index);
	int (*config_write)(struct vmsg_dev *dev, uint32_t offset,
			    const void *data, uint32_t len);
	int (*validate_features)(struct vmsg_dev *dev,
				 const uint32_t *features,
				 unsigned int num_blocks);
	void (*queue_reset)(struct vmsg_dev *dev, unsigned int index);
	void (*reset)(struct vmsg_dev *dev);
	int (*oversized_chain)(struct vmsg_dev *dev, unsigned int index,
			       const struct vmsg_vq_elem *elem,
			       const struct vmsg_iov *last);
};

/**
 * struct vmsg_dev_stats - counters kept per device
 * @handled: messages accepted (requests answered plus events handled)
 * @dropped: messages discarded (malformed, unsupported, wrong direction
 *	or device number)
 * @kicks: EVENT_AVAIL messages passed to the model
 * @kicks_ignored: EVENT_AVAIL for a missing or idle queue, or while the
 *	device is not running
 * @events_sent: events handed successfully to send_event
 * @event_errors: events that could not be sent
 */
struct vmsg_dev_stats {
	uint64_t handled;
	uint64_t dropped;
	uint64_t kicks;
	uint64_t kicks_ignored;
	uint64_t events_sent;
	uint64_t event_errors;
};

/**
 * vmsg_dev_create() - create a device instance
 * @model: device type description (validated here)
 * @bus: bus services; @bus->mem_read and @bus->mem_write are required
 * @bus_ctx: passed to every @bus operation
 * @dev_num: device number on the bus instance
 * @max_msg_size: bus maximum message size, VIRTIO_MSG_MAX_SIZE_MIN to
 *	VIRTIO_MSG_MAX_SIZE_MAX
 * @priv: model private data, see vmsg_dev_priv()
 *
 * The device starts in the reset state (status 0) with configuration
 * generation 0, speaking the v1 wire; vmsg_dev_set_wire() changes that.
 *
 * Return: the device, or NULL with errno set (EINVAL for a bad model or
 * argument, ENOMEM).
 */
struct vmsg_dev *vmsg_dev_create(const struct vmsg_dev_model *model,
				 const struct vmsg_bus_ops *bus, void *bus_ctx,
				 uint16_t dev_num, size_t max_msg_size,
				 void *priv);

/**
 * vmsg_dev_set_wire() - choose the wire generation the device speaks
 * @dev: device, which has not been handed a message yet
 * @wire: VIRTIO_MSG_WIRE_V1 or VIRTIO_MSG_WIRE_V2
 * @features: transport feature bits the bus supplies, as a mask of
 *	(1U << VIRTIO_MSG_F_*); 0 with VIRTIO_MSG_WIRE_V1
 *
 * The generations differ in the GET_DEVICE_INFO, GET_VQUEUE, SET_VQUEUE
 * and GET_SHM layouts and in the SET_CONFIG profile: on the v2 wire a
 * stale generation is rejected only with
 * VIRTIO_MSG_F_STRICT_CONFIG_GENERATION.
 *
 * Return: 0; -EINVAL for an unknown generation or feature bit, feature
 * bits with v1, or a model with more than 65536 queues for v2; -EBUSY
 * once the device has been handed a message (the driver side has then
 * seen it speak).
 */
int vmsg_dev_set_wire(struct vmsg_dev *dev, unsigned int wire,
		      uint32_t features);

/**
 * vmsg_dev_wire() - the wire generation the device speaks
 * @dev: device
 *
 * Return: VIRTIO_MSG_WIRE_V1 or VIRTIO_MSG_WIRE_V2.
 */
unsigned int vmsg_dev_wire(const struct vmsg_dev *dev);

/**
 * vmsg_dev_destroy() - free a device instance
 * @dev: device, or NULL
 */
void vmsg_dev_destroy(struct vmsg_dev *dev);

/**
 * vmsg_dev_priv() - model private data
 * @dev: device
 *
 * Return: the @priv pointer given to vmsg_dev_create().
 */
void *vmsg_dev_priv(const struct vmsg_dev *dev);

/**
 * vmsg_dev_handle() - process one driver->device message
 * @dev: device
 * @msg: received bytes
 * @len: number of bytes in @msg (at least its msg_size)
 * @resp: buffer for the response; may be the same buffer as @msg (the
 *	request is copied before it is validated and used)
 * @resp_size: size of @resp; responses never exceed the smaller of this
 *	and the bus maximum message size, so a buffer of the bus maximum
 *	is always enough
 *
 * Validates the message, updates device state and, for a request, builds
 * the response: response bit set, dev_num and token echoed, msg_size
 * exact, reserved fields and padding zero. Malformed or unsupported
 * messages are discarded without any protocol traffic.
 *
 * Return: the response length (> 0) to send back; 0 when there is no
 * response (EVENT_AVAIL); a negative errno when the message was dropped
 * (-EBADMSG malformed, -EPROTO wrong direction, -EOPNOTSUPP unsupported
 * ID or bus message, -ENODEV other device number, -EMSGSIZE the response
 * would not fit, -ENOSPC @resp too small for any response).
 */
ssize_t vmsg_dev_handle(struct vmsg_dev *dev, const void *msg, size_t len,
			void *resp, size_t resp_size);

/**
 * vmsg_dev_status() - current device status
 * @dev: device
 *
 * Return: the status the driver would read with GET_DEVICE_STATUS.
 */
uint32_t vmsg_dev_status(const struct vmsg_dev *dev);

/**
 * vmsg_dev_has_feature() - test a driver feature bit
 * @dev: device
 * @bit: feature bit number
 *
 * Return: true if the driver set @bit with SET_DRIVER_FEATURES and it is
 * one the device offers. Meaningful once FEATURES_OK is set.
 */
bool vmsg_dev_has_feature(const struct vmsg_dev *dev, unsigned int bit);

/**
 * vmsg_dev_set_needs_reset() - flag an unrecoverable device error
 * @dev: device
 *
 * Sets DEVICE_NEEDS_RESET in the status (sticky until the driver resets
 * the device), stops virtqueue processing and tells the driver with an
 * EVENT_CONFIG carrying the new status. Does nothing if already set.
 */
void vmsg_dev_set_needs_reset(struct vmsg_dev *dev);

/**
 * vmsg_dev_reset() - reset the device as if the driver wrote status 0
 * @dev: device
 *
 * For a bus whose peer restarted: features, queues and configuration
 * contents go back to their initial state and the model's reset callback
 * runs. The configuration generation is kept.
 */
void vmsg_dev_reset(struct vmsg_dev *dev);

/**
 * struct vmsg_dev_queue_state - a virtqueue as the driver has it set up
 * @enabled: the queue is live; the other fields are ignored otherwise
 * @size: queue size, a power of two up to the model's maximum
 * @desc_addr: bus address of the descriptor table
 * @avail_addr: bus address of the available (driver) ring
 * @used_addr: bus address of the used (device) ring
 */
struct vmsg_dev_queue_state {
	bool enabled;
	uint32_t size;
	uint64_t desc_addr;
	uint64_t avail_addr;
	uint64_t used_addr;
};

/**
 * struct vmsg_dev_state - where the driver side left a device
 * @status: device status (ACKNOWLEDGE, DRIVER, FEATURES_OK, DRIVER_OK,
 *	NEEDS_RESET, FAILED)
 * @features: the negotiated feature bits, bit n in word n / 64
 * @config_generation: the configuration generation the driver knows
 * @num_queues: entries in @queues
 * @queues: the virtqueues by index; queues past @num_queues are inactive
 */
struct vmsg_dev_state {
	uint32_t status;
	uint64_t features[2];
	uint32_t config_generation;
	uint32_t num_queues;
	const struct vmsg_dev_queue_state *queues;
};

/**
 * vmsg_dev_resume() - take over a running device from a dead device side
 * @dev: a device just created, that has handled no message yet
 * @st: the state the driver side reports (for the loopback bus,
 *	VIRTIO_MSG_LB_IOC_GET_DEV_STATE and GET_QUEUE_STATE)
 * @why: set to a message saying what was wrong when -EINVAL is returned;
 *	may be NULL
 *
 * The device takes the status, features and live queues of @st. Each
 * live queue resumes with nothing in flight and its next available index
 * equal to the used index read from driver memory: every buffer the old
 * device side took and did not complete is taken again. That is right
 * only for a model that completes the buffers of a queue in the order it
 * takes them (the blk model does, synchronously), and only for requests
 * that may be served twice (a disk's reads and writes). Notifications are
 * recomputed: the first vmsg_vq_notify() after a push sends EVENT_USED.
 *
 * @st comes from the driver side: everything is checked as untrusted
 * input (status bits and their order, features offered and acceptable,
 * queue sizes, ring alignment and ranges, and the ring indexes read from
 * driver memory), and nothing changes unless all of it is sane.
 *
 * Return: 0; -EBUSY if @dev has handled messages already; -EINVAL for a
 * state the device cannot take (see @why); -EFAULT when a ring could not
 * be read.
 */
int vmsg_dev_resume(struct vmsg_dev *dev, const struct vmsg_dev_state *st,
		    const char **why);

/**
 * vmsg_dev_config_generation() - current configuration generation
 * @dev: device
 *
 * Return: the generation counter; device reset does not change it.
 */
uint32_t vmsg_dev_config_generation(const struct vmsg_dev *dev);

/**
 * vmsg_dev_config_read() - read the configuration space
 * @dev: device
 * @offset: byte offset
 * @buf: destination
 * @len: number of bytes
 *
 * Return: 0, or -EINVAL if the range exceeds the configuration space.
 */
int vmsg_dev_config_read(const struct vmsg_dev *dev, uint32_t offset,
			 void *buf, uint32_t len);

/**
 * vmsg_dev_config_update() - change the configuration space (device side)
 * @dev: device
 * @offset: byte offset
 * @data: new bytes
 * @len: number of bytes
 *
 * Increments the generation, stores the bytes and sends EVENT_CONFIG
 * with the data if it fits in the bus maximum message size, otherwise
 * with length 0 (the driver then re-reads with GET_CONFIG).
 *
 * Return: 0; -EINVAL if the range exceeds the configuration space; or the
 * error from send_event (the update itself is kept).
 */
int vmsg_dev_config_update(struct vmsg_dev *dev, uint32_t offset,
			   const void *data, uint32_t len);

/**
 * vmsg_dev_mem_read() - read driver memory through the bus accessor
 * @dev: device
 * @addr: bus address
 * @dst: destination
 * @len: number of bytes
 *
 * Return: 0, or a negative errno (-EFAULT for a wrapping range or any
 * accessor failure).
 */
int vmsg_dev_mem_read(struct vmsg_dev *dev, uint64_t addr, void *dst,
		      size_t len);

/**
 * vmsg_dev_mem_write() - write driver memory through the bus accessor
 * @dev: device
 * @addr: bus address
 * @src: source
 * @len: number of bytes
 *
 * Return: 0, or a negative errno as vmsg_dev_mem_read().
 */
int vmsg_dev_mem_write(struct vmsg_dev *dev, uint64_t addr, const void *src,
		       size_t len);

/**
 * vmsg_dev_get_stats() - read the device counters
 * @dev: device
 * @stats: filled in
 */
void vmsg_dev_get_stats(const struct vmsg_dev *dev,
			struct vmsg_dev_stats *stats);

#endif /* _VIRTIO_MSG_DEVICE_H */

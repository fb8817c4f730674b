/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * virtio-msg: the interface between the transport core (virtio_msg.ko) and
 * the bus modules that carry its messages (loopback, FF-A, AMP).
 *
 * A bus module embeds a struct virtio_msg_bus in its own state, fills in the
 * descriptor and registers it. The core then owns everything the spec calls
 * the transport: it builds and validates every message, matches responses to
 * requests, keeps the per-device caches, creates the virtio devices and
 * handles the bus messages GET_DEVICES, PING and EVENT_DEVICE. The bus only
 * moves bytes, reports inbound messages and, optionally, provides
 * out-of-band notifications and the DMA device its devices use.
 */
#ifndef _LINUX_VIRTIO_MSG_H
#define _LINUX_VIRTIO_MSG_H

#include <linux/device.h>
#include <linux/types.h>
#include <uapi/linux/virtio_msg.h>

/*
 * The symbol namespace of the core's exports, and that of the symbols
 * exported for KUnit. Linux 6.13 made namespaces string literals; before,
 * the export and import macros stringified a bare name. The out-of-tree
 * build defines VIRTIO_MSG_NS_STRING on 6.13 and later.
 */
#ifdef VIRTIO_MSG_NS_STRING
#define VIRTIO_MSG_NS		"VIRTIO_MSG"
#define VIRTIO_MSG_KUNIT_NS	"EXPORTED_FOR_KUNIT_TESTING"
#else
#define VIRTIO_MSG_NS		VIRTIO_MSG
#define VIRTIO_MSG_KUNIT_NS	EXPORTED_FOR_KUNIT_TESTING
#endif

struct virtio_msg_bus;
struct virtio_msg_bus_core;

/**
 * struct virtio_msg_queue_layout - where a virtqueue's rings are
 * @num: queue size, in descriptors
 * @packed: the packed layout (VIRTIO_F_RING_PACKED); else split
 * @desc: bus address of the descriptor area
 * @desc_size: its size in bytes
 * @driver: bus address of the driver area: the available ring (split) or
 *	the driver event suppression structure (packed)
 * @driver_size: its size in bytes
 * @device: bus address of the device area: the used ring (split) or the
 *	device event suppression structure (packed)
 * @device_size: its size in bytes
 *
 * The addresses are those the device's DMA device mapped, as SET_VQUEUE
 * sends them. A device only reads the driver area, and only reads the
 * descriptor area of a split ring: the kernel's ring code trusts what it
 * wrote there, so a bus that can stop its peer from writing them should.
 */
struct virtio_msg_queue_layout {
	u32 num;
	bool packed;
	u64 desc;
	u64 desc_size;
	u64 driver;
	u64 driver_size;
	u64 device;
	u64 device_size;
};

/**
 * struct virtio_msg_queue_state - a virtqueue as the driver set it up
 * @enabled: the driver has the queue live (set up and not reset)
 * @size: its size, in descriptors; 0 unless @enabled
 * @desc: bus address of the descriptor area
 * @driver: bus address of the driver area
 * @device: bus address of the device area
 */
struct virtio_msg_queue_state {
	bool enabled;
	u32 size;
	u64 desc;
	u64 driver;
	u64 device;
};

/**
 * struct virtio_msg_device_state - a device as the driver side left it
 * @device_id: virtio device ID
 * @status: device status as the driver set it and the device confirmed
 *	it, with DEVICE_NEEDS_RESET when the device reported that
 * @broken: the core gave up on the device (a request failed, the peer was
 *	lost): it serves nothing any more and will be reset or removed
 * @features: the feature bits the driver negotiated; 0 until the device
 *	took FEATURES_OK
 * @config_generation: the configuration generation the device reported
 *	last
 * @num_queues: virtqueue slots the driver has (0 before it set any up)
 * @vq: the virtqueue asked for
 */
struct virtio_msg_device_state {
	u32 device_id;
	u8 status;
	bool broken;
	u64 features;
	u32 config_generation;
	u32 num_queues;
	struct virtio_msg_queue_state vq;
};

/**
 * struct virtio_msg_bus_ops - what a bus module implements
 *
 * @send: Hand one complete message to the peer: @msg points to
 *	le16_to_cpu(@msg->msg_size) valid bytes, never more than the bus
 *	maximum. Used for requests and bus messages. Required. Called in
 *	process context and may sleep; the core never holds a spinlock across
 *	it. A bus whose peer answers synchronously (FF-A direct messaging)
 *	may call virtio_msg_bus_receive() with the response before returning.
 *	Returns 0 once the message is on its way, or a negative errno: the
 *	request then fails with that errno without waiting for a response
 *	(-ENODEV or -ENOTCONN mean the peer is gone).
 * @send_event: Hand one driver-to-device event (EVENT_AVAIL) to the peer.
 *	Optional; without it the core sends events with @send from a
 *	workqueue. Called in any context, hard IRQ included, with a core
 *	spinlock held: it must not sleep, nor call virtio_msg_bus_receive(),
 *	virtio_msg_bus_peer_lost() or virtio_msg_bus_remove_device() before
 *	it returns (a work item may). Returns 0 when sent, -EAGAIN (or
 *	-EBUSY) when the bus has no room right now (the core keeps the
 *	event, coalesced per virtqueue, and retries when the bus calls
 *	virtio_msg_bus_tx_ready() or after a short delay), or another
 *	negative errno when the peer is gone: the device is then broken,
 *	since a kick is never dropped.
 * @notify_vq: Out-of-band driver-to-device notification for virtqueue
 *	@vq_index of device @dev_num (a doorbell), used instead of an
 *	EVENT_AVAIL message when the bus sets VIRTIO_MSG_BUS_F_OOB_NOTIFY.
 *	@data is the VIRTIO_F_NOTIFICATION_DATA value or 0. Optional. Called
 *	as @send_event is, under the same rules; returns as it does.
 * @dma_device: The device whose DMA ops map the vrings and buffers of
 *	device @dev_num, so that the peer sees exactly what is shared with it
 *	(a restricted pool, FF-A areas). Optional; without it the bus's
 *	parent device is used. A bus whose peer reaches one window of memory
 *	describes it with virtio_msg_bus_set_dma_window() instead: while a
 *	window is set, the core makes the DMA devices itself and calls
 *	neither @dma_device nor @release_device. Called in process context,
 *	once per device before its virtio device is registered; the returned
 *	device must outlive that virtio device. Returns an ERR_PTR() on
 *	failure.
 * @release_device: Undo what @dma_device set up for @dev_num. Optional.
 *	Called in process context, after the virtio device is gone; may sleep.
 * @shm_region: Validate and translate shared memory region @id of device
 *	@dev_num, which the device reported with GET_SHM at address *@addr
 *	and @len bytes long (both as the device sent them). Optional: without
 *	it the core reports no shared memory region to drivers, since the
 *	address is the device's and a driver would map it as host physical
 *	memory, unless the bus set a DMA window with a shared memory part
 *	(&virtio_msg_dma_window.shm_size), against which the core then
 *	checks and translates the region itself. Returns 0 after storing in
 *	*@addr the host physical address drivers may map, or a negative
 *	errno to hide the region. Called in process context; may sleep.
 * @bus_message: An inbound bus message in the implementation-defined
 *	range (msg_id 0x80-0xff) that answers no request of
 *	virtio_msg_bus_transfer(): an event such as FF-A AREA_RELEASE, or a
 *	response such as FF-A ERROR. The core has checked its header and
 *	size. Optional; without it such messages are dropped and counted.
 *	Called in the context of virtio_msg_bus_receive().
 * @suspend: Tell the peer that the system sleeps. Optional. Called by
 *	virtio_msg_bus_suspend() in process context, after every device of
 *	the bus was frozen; may sleep and use virtio_msg_bus_transfer().
 *	A non-zero return aborts the suspend (the devices are thawed).
 * @resume: Tell the peer that the system is back. Optional. Called by
 *	virtio_msg_bus_resume() in process context, before any device is
 *	restored; may sleep and use virtio_msg_bus_transfer().
 * @queue_layout: Where virtqueue @index of device @dev_num keeps its
 *	rings: called with @layout before SET_VQUEUE tells the device, and
 *	with @layout NULL once the device was reset and just before the
 *	rings are freed. Optional. A bus uses it to keep its peer from
 *	writing what the device may only read (see struct
 *	virtio_msg_queue_layout), or to check that the rings lie where its
 *	peer can reach them. Called in process context with no core lock
 *	held; may sleep, but must not call virtio_msg_bus_transfer() for the
 *	device. A negative errno fails the queue's setup; the return value of
 *	a call with @layout NULL is ignored.
 * @dma_access: Copy @len bytes to (@write) or from @buf at bus address
 *	@addr, as the peer would reach it through @dma_dev, the device
 *	->dma_device() returned. Optional; for a bus without a DMA window
 *	whose peer reaches memory through its own DMA device. The core uses
 *	it to answer in place of a lost device (it fails the device's
 *	requests where the device type keeps their status), also after the
 *	bus has stopped the peer's access to the device. Called in any
 *	context, with core spinlocks held and interrupts off, until
 *	->release_device(); must not sleep. Returns 0 or a negative errno
 *	when @addr does not reach memory mapped for the device.
 *
 * Every op receives the bus its module registered and may use
 * container_of() on it.
 */
struct virtio_msg_bus_ops {
	int (*send)(struct virtio_msg_bus *bus,
		    const struct virtio_msg_hdr *msg);
	int (*send_event)(struct virtio_msg_bus *bus,
			  const struct virtio_msg_hdr *msg);
	int (*notify_vq)(struct virtio_msg_bus *bus, u16 dev_num,
			 u32 vq_index, u32 data);
	struct device *(*dma_device)(struct virtio_msg_bus *bus, u16 dev_num);
	void (*release_device)(struct virtio_msg_bus *bus, u16 dev_num);
	int (*shm_region)(struct virtio_msg_bus *bus, u16 dev_num, u8 id,
			  u64 *addr, u64 len);
	void (*bus_message)(struct virtio_msg_bus *bus,
			    const struct virtio_msg_hdr *msg);
	int (*suspend)(struct virtio_msg_bus *bus);
	int (*resume)(struct virtio_msg_bus *bus);
	int (*queue_layout)(struct virtio_msg_bus *bus, u16 dev_num, u32 index,
			    const struct virtio_msg_queue_layout *layout);
	int (*dma_access)(struct virtio_msg_bus *bus, struct device *dma_dev,
			  u64 addr, void *buf, size_t len, bool write);
};

/* The core enumerates devices with GET_DEVICES after registration. */
#define VIRTIO_MSG_BUS_F_ENUMERATE		BIT(0)
/* Driver-to-device notifications go through ops->notify_vq. */
#define VIRTIO_MSG_BUS_F_OOB_NOTIFY		BIT(1)
/* Refuse VIRTIO_F_NOTIFICATION_DATA (e.g. out-of-band doorbells). */
#define VIRTIO_MSG_BUS_F_NO_NOTIFICATION_DATA	BIT(2)
/* The peer may send requests (PING) that the core should answer. */
#define VIRTIO_MSG_BUS_F_PEER_REQUESTS		BIT(3)
/**
 * define VIRTIO_MSG_BUS_F_ACCESS_PLATFORM - devices must use the DMA API
 *
 * The bus reaches driver memory only through what its DMA device maps
 * (see &virtio_msg_bus_ops.dma_device), which virtio uses only once
 * VIRTIO_F_ACCESS_PLATFORM is negotiated: the core fails feature
 * negotiation unless the device offers VIRTIO_F_ACCESS_PLATFORM.
 */
#define VIRTIO_MSG_BUS_F_ACCESS_PLATFORM	BIT(4)
/* The peer adds and removes devices with the bus message EVENT_DEVICE. */
#define VIRTIO_MSG_BUS_F_HOTPLUG		BIT(5)
/**
 * define VIRTIO_MSG_BUS_F_NO_TOKEN_ECHO - responses may carry another token
 *
 * The bus may rewrite tokens (the newest specification text allows it).
 * With one request in flight per channel, a response is then matched by
 * ID space, message ID and device number alone. Since a late answer can
 * no longer be told from the next one, a request given up (timeout, fatal
 * signal) breaks its channel on such a bus.
 */
#define VIRTIO_MSG_BUS_F_NO_TOKEN_ECHO		BIT(6)
/**
 * define VIRTIO_MSG_BUS_F_REMOVE_LOST - a lost peer's devices go at once
 *
 * virtio_msg_bus_peer_lost() also unregisters the devices, as a surprise
 * removal: for a bus whose peer, once lost, can only come back as a new
 * peer with devices enumerated anew (AMP). Without it they stay, broken,
 * until the bus removes them or the peer restarts.
 */
#define VIRTIO_MSG_BUS_F_REMOVE_LOST		BIT(7)
/**
 * define VIRTIO_MSG_BUS_F_DMA_NO_COPY - unmaps never write driver memory
 *
 * Ending a mapping of the DMA device from &virtio_msg_bus_ops.dma_device
 * copies nothing into the buffer (no bounce buffer). The core may then
 * end the mappings of the buffers a driver left in the virtqueues it
 * deletes, whose memory may be in use again, and free their indirect
 * descriptor tables. Without it those are left as they are, unless the
 * core's window engine maps them (it skips the copy itself).
 */
#define VIRTIO_MSG_BUS_F_DMA_NO_COPY		BIT(8)

/* virtio_msg_bus_notify_used(): the notification names no virtqueue. */
#define VIRTIO_MSG_ALL_VQS	U32_MAX

/**
 * struct virtio_msg_bus_params - what a bus learned from its peer
 * @revision: transport revision, VIRTIO_MSG_REVISION
 * @wire: payload layouts, VIRTIO_MSG_WIRE_V1 or VIRTIO_MSG_WIRE_V2
 * @features: transport feature bits the bus supplies, as a mask of
 *	BIT(VIRTIO_MSG_F_*); v2 only, 0 with VIRTIO_MSG_WIRE_V1
 * @max_msg_size: largest message the peer takes, header included, in
 *	[VIRTIO_MSG_MAX_SIZE_MIN, the bus descriptor's max_msg_size]
 */
struct virtio_msg_bus_params {
	u8 revision;
	u8 wire;
	u32 features;
	u16 max_msg_size;
};

/**
 * struct virtio_msg_device_policy - a device type a bus lets through
 * @device_id: virtio device ID (VIRTIO_ID_*), never 0
 * @features: the feature bits 0-63 a driver may negotiate with devices of
 *	this type, transport bits (VIRTIO_F_VERSION_1, VIRTIO_F_RING_*, ...)
 *	included; the core hides every other bit the device offers
 * @indirect_features: the bits of @features (a subset; others are ignored)
 *	that let the device choose how long the driver's descriptor chains
 *	get (virtio-blk's SEG_MAX). They reach the driver only when the device
 *	also offers VIRTIO_RING_F_INDIRECT_DESC, which lets any chain fit in
 *	any ring; negotiating one without it fails.
 * @min_queue_size: without VIRTIO_RING_F_INDIRECT_DESC, the fewest entries
 *	a virtqueue of this type needs to hold the longest chain the driver
 *	posts; smaller queues make find_vqs fail with -ENOSPC. 0: no minimum.
 *
 * A bus whose device side is less trusted than the kernel (a userspace
 * process, another processor) lists the device types whose drivers are
 * safe against a hostile device, and the features they may use. Without
 * indirect descriptors a chain longer than the ring trips a WARN in
 * virtio_ring, so the device must not be able to pick a ring too small
 * for the driver (@min_queue_size) or make chains longer than a ring it
 * picked (@indirect_features).
 */
struct virtio_msg_device_policy {
	u32 device_id;
	u64 features;
	u64 indirect_features;
	u32 min_queue_size;
};

/**
 * struct virtio_msg_bus_desc - static description of a kind of bus
 * @name: short bus name, returned by virtio_config_ops.bus_name
 * @ops: the operations; the table is const and shared by all instances
 * @max_msg_size: largest message the bus carries, header included, in
 *	[VIRTIO_MSG_MAX_SIZE_MIN, VIRTIO_MSG_MAX_SIZE_MAX]; an instance may
 *	lower it (virtio_msg_bus.max_msg_size) after negotiating with its peer
 * @flags: VIRTIO_MSG_BUS_F_*
 * @devices: the device types the core may create on this bus, an array
 *	ended by an entry with device_id 0; NULL lets every type through.
 *	Devices of other types are not created, and a ratelimited message
 *	says why.
 */
struct virtio_msg_bus_desc {
	const char *name;
	const struct virtio_msg_bus_ops *ops;
	u16 max_msg_size;
	unsigned long flags;
	const struct virtio_msg_device_policy *devices;
};

/* Devices a bus instance has at most, unless it sets its own limit. */
#define VIRTIO_MSG_BUS_MAX_DEVICES_DEFAULT	64U

/**
 * struct virtio_msg_bus - one bus instance, embedded in the bus module's state
 * @parent: the bus module's device; parent of every virtio device on it
 * @desc: static description, see struct virtio_msg_bus_desc
 * @max_msg_size: this instance's maximum message size; 0 means
 *	@desc->max_msg_size. Set before virtio_msg_bus_register().
 * @timeout_ms: how long a request waits for its response; 0 means the core
 *	module's default (module parameter request_timeout_ms)
 * @max_devices: how many devices the core creates on this instance at
 *	most; 0 means VIRTIO_MSG_BUS_MAX_DEVICES_DEFAULT. Further device
 *	numbers announced by the peer are refused, with a ratelimited message.
 * @devices: this instance's device allowlist, as
 *	&virtio_msg_bus_desc.devices; NULL means the descriptor's. Set before
 *	virtio_msg_bus_register().
 * @core: state owned by the core; bus modules do not touch it
 *
 * Bring-up has two phases. virtio_msg_bus_register() opens the channel: the
 * bus may use virtio_msg_bus_transfer() to talk to its peer (FF-A VERSION)
 * and virtio_msg_bus_set_params() to state what it learned; no device is
 * created yet. virtio_msg_bus_start() then lets devices come: the core
 * enumerates with GET_DEVICES (VIRTIO_MSG_BUS_F_ENUMERATE) and applies the
 * virtio_msg_bus_add_device() calls made so far.
 */
struct virtio_msg_bus {
	struct device *parent;
	const struct virtio_msg_bus_desc *desc;
	u16 max_msg_size;
	unsigned int timeout_ms;
	unsigned int max_devices;
	const struct virtio_msg_device_policy *devices;
	struct virtio_msg_bus_core *core;
};

/**
 * struct virtio_msg_dma_window - the one memory window a bus's peer reaches
 * @vaddr: kernel mapping of the window, page aligned: normal memory the CPU
 *	may memcpy() to and from (memremap(), vmalloc(), the linear map),
 *	never an __iomem mapping
 * @phys: CPU physical address of the window's first byte, for shared
 *	memory regions (see @shm_size); 0 when the window is not physically
 *	contiguous (vmalloc()), which allows no such region
 * @size: size of the window in bytes, a multiple of PAGE_SIZE
 * @bus_base: the bus address at which the peer sees the window's first
 *	byte: the address of byte @off of the window is @bus_base + @off
 * @shm_size: bytes at the end of the window kept out of the DMA
 *	allocator, a multiple of PAGE_SIZE smaller than @size: the place of
 *	the shared memory regions devices report with GET_SHM. A region must
 *	lie entirely in it; drivers then map @phys plus its offset. 0: no
 *	shared memory region is reported to drivers.
 *
 * For a bus whose peer sees nothing but this memory (AMP: a PCI BAR or a
 * reserved-memory region outside the linear map). The core allocates the
 * vrings in the window, bounces every streaming mapping through it, and
 * hands out bus addresses @bus_base plus the offset in the window. The
 * window is shared by every device of the bus instance. The bus keeps
 * the memory mapped until virtio_msg_bus_unregister() has returned.
 */
struct virtio_msg_dma_window {
	void *vaddr;
	phys_addr_t phys;
	u64 size;
	u64 bus_base;
	u64 shm_size;
};

const struct virtio_msg_device_policy *virtio_msg_hardened_devices(bool console);

/**
 * virtio_msg_bus_register() - register a bus instance with the core
 * @bus: the instance; @bus->parent and @bus->desc set, the rest optional
 *
 * After this the core may call the bus ops at any time and the bus may
 * talk to its peer with virtio_msg_bus_transfer(), but no device is
 * created before virtio_msg_bus_start(): that is when the core enumerates
 * (VIRTIO_MSG_BUS_F_ENUMERATE) and applies the virtio_msg_bus_add_device()
 * calls made so far.
 *
 * Context: process; may sleep.
 * Return: 0 or a negative errno (-EINVAL for a bad descriptor).
 */
int virtio_msg_bus_register(struct virtio_msg_bus *bus);

/**
 * virtio_msg_bus_start() - let devices come
 * @bus: a registered instance
 *
 * Ends the first phase of bring-up (see struct virtio_msg_bus): with
 * VIRTIO_MSG_BUS_F_ENUMERATE the core enumerates the peer's devices, and
 * the additions announced so far are applied. Calling it again is
 * harmless.
 *
 * Context: process.
 * Return: 0, or -ENODEV when @bus is not registered or going away.
 */
int virtio_msg_bus_start(struct virtio_msg_bus *bus);

/**
 * virtio_msg_bus_set_params() - state what the bus learned from its peer
 * @bus: a registered instance that has no device yet
 * @params: the transport revision, wire generation, transport features
 *	and maximum message size the peer supports
 *
 * For a bus that negotiates with its peer (FF-A VERSION, a loopback
 * backend's declaration), or again after the peer restarted and its
 * devices are gone. The rule is "no device yet": it may be called before
 * or after virtio_msg_bus_start(), as long as the core has not created a
 * device on @bus (or has destroyed them all); the devices created from
 * then on use @params. Additions announced but not applied yet do not
 * count as devices: they are created with the new parameters.
 *
 * Context: process.
 * Return: 0; -EINVAL for a revision other than VIRTIO_MSG_REVISION, an
 * unknown wire generation, transport feature bits the core does not know
 * or any with VIRTIO_MSG_WIRE_V1 (which has none), or a size out of range;
 * -EBUSY while @bus has devices; -ENODEV when @bus is not registered.
 */
int virtio_msg_bus_set_params(struct virtio_msg_bus *bus,
			      const struct virtio_msg_bus_params *params);

/**
 * virtio_msg_bus_set_dma_window() - say where the bus's peer reaches memory
 * @bus: a registered instance that has no device yet
 * @window: the window; the core copies the description
 *
 * Called once per registration, before the first device is created
 * (usually before virtio_msg_bus_start(); a bus whose peer chooses the
 * window, as a loopback backend, may call it later, while the core has no
 * device). From then on the core makes, for each virtio device, a DMA
 * device whose DMA operations allocate coherent memory in the window and
 * bounce streaming mappings through it; &virtio_msg_bus_ops.dma_device is
 * no longer called. The window stays in use until
 * virtio_msg_bus_unregister() returns.
 *
 * On Linux 6.12 the operations are installed as per-device DMA operations,
 * which need CONFIG_ARCH_HAS_DMA_OPS: without it the call fails with
 * -EOPNOTSUPP and says so once in the log, rather than let the devices
 * map memory the peer cannot see.
 *
 * Context: process; may sleep.
 * Return: 0; -EINVAL for a window that is empty, not page aligned, whose
 * bus addresses wrap around, or whose shared memory part fills it; -EBUSY
 * if a window is set already or the core has devices on @bus; -ENOMEM;
 * -EOPNOTSUPP as said above; -ENODEV when @bus is not registered.
 */
int virtio_msg_bus_set_dma_window(struct virtio_msg_bus *bus,
				  const struct virtio_msg_dma_window *window);

/**
 * virtio_msg_bus_unregister() - remove every device of a bus and detach it
 * @bus: a registered instance
 *
 * No device is created from here on. The devices are removed first, while
 * the bus still carries messages: their drivers reset them and drain their
 * queues as usual, and &virtio_msg_bus_ops.release_device may still call
 * virtio_msg_bus_transfer(). A bus whose peer is gone calls
 * virtio_msg_bus_peer_lost() before, so that nothing waits for it; else
 * every wait is bounded by the bus timeout. Then pending bus requests fail
 * with -ENODEV. When this returns, the core makes no further calls to the
 * bus ops and ignores virtio_msg_bus_receive() for @bus, which the bus
 * must nevertheless stop calling before it frees @bus.
 *
 * Context: process; may sleep. Not from a bus op.
 */
void virtio_msg_bus_unregister(struct virtio_msg_bus *bus);

/**
 * virtio_msg_bus_receive() - hand one inbound message to the core
 * @bus: the instance it arrived on
 * @msg: the message bytes; the core copies what it keeps
 * @len: number of bytes received
 *
 * The core validates the message against the transport rules and @bus's
 * maximum size, then completes the matching request, dispatches the event
 * (EVENT_USED reaches vring_interrupt() before this returns) or answers the
 * bus request. Malformed, unexpected and late messages are dropped and
 * counted; none of them can make the core crash or wait forever. The
 * core disables bottom halves around the driver callbacks it runs; the
 * bus need not disable interrupts or bottom halves itself.
 *
 * Context: any, including hard IRQ.
 */
void virtio_msg_bus_receive(struct virtio_msg_bus *bus, const void *msg,
			    size_t len);

/**
 * virtio_msg_bus_transfer() - send a bus request and wait for its response
 * @bus: a registered instance
 * @req: the request: a bus message (VIRTIO_MSG_TYPE_BUS), dev_num 0,
 *	msg_size set; the core assigns the token
 * @resp: where the response goes
 * @resp_size: size of @resp; a longer response is refused
 *
 * For bus-specific requests such as FF-A VERSION or AREA_SHARE. Requests
 * of a bus are serialised; the wait is killable and bounded by the bus
 * timeout. Works until virtio_msg_bus_unregister() has removed every
 * device, so that &virtio_msg_bus_ops.release_device can still tell the
 * peer before it takes memory back.
 *
 * Context: process; may sleep. From the bus module, or from the
 * @dma_device, @release_device and @shm_region ops; never from @send,
 * @send_event, @notify_vq or @bus_message.
 * Return: the response's size in bytes, -ETIMEDOUT, -EINTR, -ENODEV when
 * the bus is going away, -EPROTO for a malformed response, or the errno
 * of @bus->desc->ops->send.
 */
int virtio_msg_bus_transfer(struct virtio_msg_bus *bus,
			    struct virtio_msg_hdr *req,
			    struct virtio_msg_hdr *resp, size_t resp_size);

/**
 * virtio_msg_bus_tx_ready() - tell the core the bus has room again
 * @bus: the instance
 *
 * Makes the core resend events that @send_event or @notify_vq refused with
 * -EAGAIN. Optional: the core also retries on its own, after a delay.
 *
 * Context: any.
 */
void virtio_msg_bus_tx_ready(struct virtio_msg_bus *bus);

/**
 * virtio_msg_bus_add_device() - announce a device number on the bus
 * @bus: the instance
 * @dev_num: the device number
 *
 * For buses that learn their devices from platform data or their own
 * messages. The core asks the device for GET_DEVICE_INFO and registers a
 * virtio device from a workqueue, once the bus is started; adding a number
 * twice is harmless.
 *
 * Context: any.
 * Return: 0, -ENOMEM (also when too many announcements are queued), or
 * -ENODEV when @bus is not registered.
 */
int virtio_msg_bus_add_device(struct virtio_msg_bus *bus, u16 dev_num);

/**
 * virtio_msg_bus_remove_device() - withdraw a device number
 * @bus: the instance
 * @dev_num: the device number
 *
 * Marks the device broken at once, so that pending and new requests fail,
 * then unregisters the virtio device from a workqueue; an addition of the
 * number still queued is dropped. Removal cannot fail: it allocates
 * nothing. Removing an unknown number is harmless.
 *
 * Context: any.
 */
void virtio_msg_bus_remove_device(struct virtio_msg_bus *bus, u16 dev_num);

/**
 * virtio_msg_bus_unplug_device() - withdraw a device the peer still serves
 * @bus: the instance
 * @dev_num: the device number
 *
 * An orderly removal: the virtio device is unregistered from a workqueue
 * while it keeps working, so that its driver's remove completes what the
 * device holds and resets it over the channel. If that takes longer than
 * the bus's deadline, the device is broken then. An addition of the
 * number still queued is dropped; a later virtio_msg_bus_remove_device()
 * or virtio_msg_bus_peer_lost() turns it into a surprise removal. Cannot
 * fail; unplugging an unknown number is harmless.
 *
 * Context: any.
 */
void virtio_msg_bus_unplug_device(struct virtio_msg_bus *bus, u16 dev_num);

/**
 * virtio_msg_bus_peer_lost() - the peer is gone for good
 * @bus: the instance
 *
 * Breaks every device of @bus and fails everything in flight with -ENODEV,
 * without waiting for a timeout. With VIRTIO_MSG_BUS_F_REMOVE_LOST the
 * devices are then unregistered from a workqueue (a surprise removal) and
 * their queued additions dropped; otherwise they stay registered until the
 * bus removes them, the peer restarts or the bus unregisters.
 *
 * Context: any.
 */
void virtio_msg_bus_peer_lost(struct virtio_msg_bus *bus);

/**
 * virtio_msg_bus_peer_restarted() - the peer is back after it was lost
 * @bus: the instance
 *
 * Every device of @bus (broken since virtio_msg_bus_peer_lost()) is
 * removed, additions still queued are dropped, bus requests work again,
 * and with VIRTIO_MSG_BUS_F_ENUMERATE the peer's devices are enumerated
 * anew; other buses name them again with virtio_msg_bus_add_device()
 * after this call. Nothing has to be unloaded.
 *
 * Context: any.
 */
void virtio_msg_bus_peer_restarted(struct virtio_msg_bus *bus);

/**
 * virtio_msg_bus_fail_request() - fail a request the peer will not answer
 * @bus: the instance
 * @bus_request: the request is a bus request (virtio_msg_bus_transfer()),
 *	not a transport request of device @dev_num
 * @dev_num: the device whose request it is; ignored for bus requests
 * @msg_id: the message ID of the request
 * @err: the negative errno it fails with
 *
 * For a bus that learns, after its send op returned, that a request will
 * never be answered (an FF-A ERROR naming the message, a queue torn down).
 * The request fails now with @err instead of at its timeout. A transport
 * request failed this way makes the operation that sent it fail, as an
 * error of the send op would: -ENODEV and -ENOTCONN mark the device gone,
 * -ETIMEDOUT and -EPROTO break it, other errors break nothing.
 *
 * Context: any.
 * Return: 0 if such a request was in flight and was failed, -ENOENT if
 * none was.
 */
int virtio_msg_bus_fail_request(struct virtio_msg_bus *bus, bool bus_request,
				u16 dev_num, u8 msg_id, int err);

/**
 * virtio_msg_bus_notify_used() - a device used buffers, said out of band
 * @bus: the instance
 * @dev_num: the device
 * @vq_index: the virtqueue, or VIRTIO_MSG_ALL_VQS when the notification
 *	does not say which
 *
 * For a bus whose peer notifies through its own means (FF-A
 * notifications, AMP notification words) instead of EVENT_USED. Runs the
 * virtqueue interrupts as EVENT_USED would, before it returns.
 *
 * Context: any, including hard IRQ.
 */
void virtio_msg_bus_notify_used(struct virtio_msg_bus *bus, u16 dev_num,
				u32 vq_index);

/**
 * virtio_msg_bus_poll_device() - something happened to a device: look
 * @bus: the instance
 * @dev_num: the device
 *
 * For a notification that names a device but not what happened: every
 * virtqueue interrupt runs, and the configuration space is read again
 * (the driver hears of it only if it changed).
 *
 * Context: any, including hard IRQ.
 */
void virtio_msg_bus_poll_device(struct virtio_msg_bus *bus, u16 dev_num);

/**
 * virtio_msg_bus_device_state() - what the driver side made of a device
 * @bus: the instance
 * @dev_num: the device
 * @vq_index: the virtqueue whose set-up goes into @st->vq
 * @st: filled in
 *
 * The core's cached state, read under its locks without asking the
 * device: for a new device side taking a running device over.
 *
 * Context: any; does not sleep.
 * Return: 0, or -ENODEV if @bus has no such device.
 */
int virtio_msg_bus_device_state(struct virtio_msg_bus *bus, u16 dev_num,
				u32 vq_index,
				struct virtio_msg_device_state *st);

/**
 * virtio_msg_bus_kick_device() - notify a device of all its virtqueues
 * @bus: the instance
 * @dev_num: the device
 *
 * EVENT_AVAIL for every live virtqueue, never lost (as the driver's own
 * kicks): a device side that took the device over looks at its rings.
 *
 * Context: any, including hard IRQ.
 */
void virtio_msg_bus_kick_device(struct virtio_msg_bus *bus, u16 dev_num);

#ifdef CONFIG_PM_SLEEP
/**
 * virtio_msg_bus_suspend() - freeze every device, then tell the bus
 * @bus: a started instance
 *
 * For the bus module's system sleep callback: the drivers of every device
 * freeze it (virtio_device_freeze()), then &virtio_msg_bus_ops.suspend
 * tells the peer. On failure what was frozen is restored.
 *
 * Context: process; may sleep. Not concurrently with device addition or
 * removal by the bus module itself.
 * Return: 0 or the first error.
 */
int virtio_msg_bus_suspend(struct virtio_msg_bus *bus);

/**
 * virtio_msg_bus_resume() - tell the bus, then restore every device
 * @bus: an instance suspended with virtio_msg_bus_suspend()
 *
 * Context: process; may sleep.
 * Return: 0 or the first error; every device is restored either way.
 */
int virtio_msg_bus_resume(struct virtio_msg_bus *bus);
#else
static inline int virtio_msg_bus_suspend(struct virtio_msg_bus *bus)
{
	return 0;
}

static inline int virtio_msg_bus_resume(struct virtio_msg_bus *bus)
{
	return 0;
}
#endif

/**
 * virtio_msg_bus_max_msg_size() - effective maximum message size of a bus
 * @bus: the instance
 *
 * Context: any.
 * Return: @bus->max_msg_size if set, else @bus->desc->max_msg_size.
 */
static inline u16 virtio_msg_bus_max_msg_size(const struct virtio_msg_bus *bus)
{
	return bus->max_msg_size ?: bus->desc->max_msg_size;
}

#endif /* _LINUX_VIRTIO_MSG_H */

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * virtio-msg transport core: state shared by the translation units of
 * virtio_msg.ko (bus handling, request engine, virtio transport).
 *
 * Nothing here is part of the interface offered to bus modules, which is
 * include/linux/virtio_msg.h.
 */
#ifndef _DRIVERS_VIRTIO_VIRTIO_MSG_CORE_H
#define _DRIVERS_VIRTIO_VIRTIO_MSG_CORE_H

#include <linux/atomic.h>
#include <linux/bits.h>
#include <linux/completion.h>
#include <linux/dma-direction.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/virtio.h>
#include <linux/virtio_msg.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include "virtio_msg_internal.h"

/*
 * Messages counted one by one in the statistics: the transport messages
 * of revision 1. Anything else lands in the last slot.
 */
enum vmsg_stat_id {
	VMSG_STAT_GET_DEVICE_INFO,
	VMSG_STAT_GET_DEVICE_FEATURES,
	VMSG_STAT_SET_DRIVER_FEATURES,
	VMSG_STAT_GET_CONFIG,
	VMSG_STAT_SET_CONFIG,
	VMSG_STAT_GET_DEVICE_STATUS,
	VMSG_STAT_SET_DEVICE_STATUS,
	VMSG_STAT_GET_VQUEUE,
	VMSG_STAT_SET_VQUEUE,
	VMSG_STAT_RESET_VQUEUE,
	VMSG_STAT_GET_SHM,
	VMSG_STAT_EVENT_CONFIG,
	VMSG_STAT_EVENT_AVAIL,
	VMSG_STAT_EVENT_USED,
	VMSG_STAT_OTHER,
	VMSG_NR_STATS
};

/**
 * struct vmsg_stats - message counters of one device or bus instance
 * @sent: messages handed to the bus, per enum vmsg_stat_id
 * @received: well-formed messages received, per enum vmsg_stat_id
 * @requests: requests that got their response (round trips)
 * @timeouts: requests that got no response in time
 * @bad_messages: inbound messages dropped as malformed or unexpected
 * @late_replies: responses to a request that had been given up
 * @unmatched: responses that answer no request (wrong token, message ID
 *	or device number)
 * @kicks_deferred: notifications not sent from the driver's context: the
 *	bus could not take them at once, or has no send_event op
 * @kicks_coalesced: notifications merged into a pending one of the same
 *	virtqueue
 * @events_dropped: events that reached a device not ready for them
 *	(being created, or gone)
 * @standin_used: buffers the core returned failed in place of a lost
 *	device (virtio_msg_standin.c)
 * @probe_round_trips: round trips from GET_DEVICE_INFO to DRIVER_OK, 0
 *	until a driver set DRIVER_OK
 *
 * All counters are updated locklessly, from any context.
 */
struct vmsg_stats {
	atomic_long_t sent[VMSG_NR_STATS];
	atomic_long_t received[VMSG_NR_STATS];
	atomic_long_t requests;
	atomic_long_t timeouts;
	atomic_long_t bad_messages;
	atomic_long_t late_replies;
	atomic_long_t unmatched;
	atomic_long_t kicks_deferred;
	atomic_long_t kicks_coalesced;
	atomic_long_t events_dropped;
	atomic_long_t standin_used;
	unsigned long probe_round_trips;
};

/**
 * struct vmsg_chan - request engine of one device, or of the bus itself
 * @lock: serialises requests, so that at most one is in flight: the
 *	specification wants responses in request order per device, and one
 *	request at a time makes any reordering harmless. A mutex because the
 *	holder sleeps in the bus's send op and waiting for the response.
 * @pending_lock: protects @req, @resp, @resp_size, @resp_len, @status,
 *	@abandoned and @dead_err; taken by virtio_msg_bus_receive() in any
 *	context, hence a spinlock with interrupts disabled
 * @req: the request in flight, NULL when none. Both @req and @resp
 *	belong to the waiter, which clears @req under @pending_lock before
 *	it returns: the receive path never sees a stale buffer.
 * @resp: where the waiter wants the response
 * @resp_size: size of @resp
 * @resp_len: size of the response copied to @resp
 * @status: 0 once answered, or why the request failed
 * @done: completed when @req is answered or failed
 * @token: token of the request in flight or of the last one
 * @abandoned: token of the last request given up, to tell late replies
 *	from stray ones; 0 when none
 * @dead_err: non-zero once the channel is unusable: every request fails
 *	with it (-EIO broken, -ENODEV gone)
 * @match_token: responses must carry the request's token
 * @stats: where the channel counts
 */
struct vmsg_chan {
	struct mutex lock;		/* one request in flight */
	spinlock_t pending_lock;	/* the in-flight request */
	const struct virtio_msg_hdr *req;
	void *resp;
	size_t resp_size;
	size_t resp_len;
	int status;
	struct completion done;
	u16 token;
	u16 abandoned;
	int dead_err;
	bool match_token;
	struct vmsg_stats *stats;
};

/**
 * struct virtio_msg_bus_core - core state of a registered bus instance
 * @bus: the bus module's instance
 * @devs: device number -> struct virtio_msg_device. Written under its
 *	internal lock by the ordered workqueue only; read under RCU by the
 *	receive path. Entries are freed only after an RCU grace period.
 * @chan: request engine for bus requests (GET_DEVICES, bus-specific)
 * @wq: ordered workqueue: enumeration, hotplug, device creation and
 *	removal run one at a time, in the order they were asked for
 * @ev_lock: protects @events, @nr_events, @pings, @nr_pings, @started,
 *	@restart, @closing, @nr_devs and @params; taken from any context
 * @events: queued struct vmsg_bus_event, consumed by @ev_work
 * @nr_events: number of entries in @events, bounded so that a peer
 *	flooding EVENT_DEVICE cannot exhaust memory
 * @ev_work: applies @events in order
 * @scan_work: GET_DEVICES enumeration
 * @pings: peer PING requests waiting to be answered by @ping_work
 * @nr_pings: number of entries in @pings
 * @ping_work: answers peer PINGs, from process context as send requires
 * @started: virtio_msg_bus_start() was called: devices may be created
 * @restart: the peer came back; @ev_work removes the old devices first
 * @params: what the bus learned from its peer; fixed while @nr_devs is
 *	not 0. @params.wire is also read without @ev_lock (READ_ONCE()) by
 *	the receive path.
 * @closing: set once unregistration starts; no device is created and no
 *	event or PING is queued from then on, but requests still work so
 *	that devices can be removed in order
 * @dead: set once the devices are gone; every bus request fails then
 * @nr_devs: devices created and not yet destroyed, against
 *	virtio_msg_bus.max_devices
 * @next_token: source of request tokens, shared by all channels of the
 *	bus so that no two requests in flight on it carry the same token
 * @stats: counters for bus messages and for messages no device takes
 * @window: the DMA window of virtio_msg_bus_set_dma_window(), NULL when
 *	none; set under @ev_lock while @nr_devs is 0, then fixed until the
 *	bus is unregistered
 */
struct virtio_msg_bus_core {
	struct virtio_msg_bus *bus;
	struct xarray devs;
	struct vmsg_chan chan;
	struct workqueue_struct *wq;
	spinlock_t ev_lock;		/* event and PING queues */
	struct list_head events;
	unsigned int nr_events;
	struct work_struct ev_work;
	struct work_struct scan_work;
	struct {
		__le16 token;
		__le32 data;
	} pings[4];
	unsigned int nr_pings;
	struct work_struct ping_work;
	bool started;
	bool restart;
	struct virtio_msg_bus_params params;
	bool closing;
	bool dead;
	unsigned int nr_devs;
	atomic_t next_token;
	struct vmsg_stats stats;
	struct vmsg_dma_window *window;
};

/**
 * enum vmsg_dev_state - where a device is in its life
 * @VMSG_DEV_CREATING: in the table so that responses reach it, but its
 *	configuration cache does not exist yet: events are dropped
 * @VMSG_DEV_LIVE: the cache exists; events are applied
 * @VMSG_DEV_GONE: being removed; events are dropped
 */
enum vmsg_dev_state {
	VMSG_DEV_CREATING,
	VMSG_DEV_LIVE,
	VMSG_DEV_GONE,
};

/**
 * struct vmsg_vq - per-virtqueue transport state
 * @vq: the virtqueue, NULL when the slot is unused
 * @kick_data: latest EVENT_AVAIL next_offset of a deferred kick
 * @standin: the core answers for the lost device on this queue
 * @standin_off: the queue cannot be answered for; it is broken
 * @standin_next: the used index as the stand-in last left it
 *
 * The stand-in fields are under the device's cb_lock.
 */
struct vmsg_vq {
	struct virtqueue *vq;
	u32 kick_data;
	bool standin;
	bool standin_off;
	u16 standin_next;
};

/**
 * struct virtio_msg_device - a virtio device reached over virtio-msg
 * @vdev: the virtio device; its release frees this structure
 * @core: the bus it lives on
 * @dev_num: its device number on that bus
 * @chan: its request engine
 * @req_buf: request buffer, max message size bytes; under @chan.lock
 * @resp_buf: response buffer, max message size bytes; under @chan.lock
 * @max_msg: the bus's maximum message size
 * @wire: the bus's wire generation when the device was created; the bus
 *	cannot change it while the device exists
 * @strict_config: SET_CONFIG carries the driver's generation and the
 *	device may reject a stale one: always in v1, in v2 with the transport
 *	feature STRICT_CONFIG_GENERATION
 * @device_id: virtio device ID from GET_DEVICE_INFO
 * @vendor_id: vendor ID from GET_DEVICE_INFO
 * @num_feature_bits: feature bits the device has
 * @config_size: configuration space size
 * @max_vqs: virtqueues the device has at most
 * @uuid: device UUID from a v2 GET_DEVICE_INFO; all zero when none
 * @state_lock: protects @state, @status, @needs_reset, @dev_generation,
 *	@generation, @config_seq, @config and @config_event; taken from any
 *	context (EVENT_CONFIG, config reads)
 * @state: enum vmsg_dev_state
 * @status: cached device status, as the driver set it and the device
 *	confirmed it; never has DEVICE_NEEDS_RESET
 * @needs_reset: the device reported DEVICE_NEEDS_RESET while the driver
 *	ran it; get_status() adds the bit, a reset clears it
 * @dev_generation: the device's configuration generation, as it last
 *	reported it; sent with SET_CONFIG
 * @generation: what config_ops->generation() returns: bumped whenever the
 *	cached bytes change, so it never goes backwards and a driver reading
 *	several fields sees any change in between
 * @config_seq: bumped whenever an event changes the cache, so that a
 *	configuration fetch or write running meanwhile does not overwrite
 *	newer data with its older snapshot
 * @config: cached configuration space, @config_size bytes
 * @config_event: a config change arrived before the virtio device was
 *	ready to hear about it
 * @config_work: re-reads the configuration space after an EVENT_CONFIG
 *	without data
 * @cb_lock: protects @vqs, @nvqs and @broken, and is held while EVENT_USED
 *	runs a virtqueue callback, so that synchronize_cbs() and del_vqs()
 *	can wait for callbacks to end, and so that a device broken at any
 *	time has every published virtqueue broken; taken from any context
 * @vqs: transport state per virtqueue index
 * @nvqs: number of entries in @vqs
 * @kick_lock: protects @kick_pending and the @vqs kick_data; serialises
 *	the notifications sent from any context
 * @kick_pending: one bit per virtqueue with a deferred notification
 * @kick_work: sends deferred notifications, on the core's reclaim-safe
 *	workqueue
 * @break_work: breaks the device for a failure noticed where @cb_lock
 *	cannot be taken (a notification, under @kick_lock)
 * @broken_cb_work: runs every callback once after the queues broke, so
 *	that a driver waiting for its buffers learns it now
 * @standin: the device is gone and the core answers for it instead of
 *	breaking its queues (virtio_msg_standin.c); set once, before @broken
 * @standin_work: returns the chains of a device the core answers for
 * @driver_ok: the driver wrote DRIVER_OK and has not reset the device
 *	since, whatever the device reported: callbacks are expected. Written
 *	under @state_lock, read locklessly; a reset then takes @cb_lock.
 * @remove_watchdog: breaks a device whose orderly removal takes longer
 *	than the bus's deadline, so that its driver stops waiting for it
 * @ready: register_virtio_device() has returned, events may reach it
 * @removing: withdrawn by the bus or the peer; the bus's @ev_work
 *	destroys it. Set with release semantics after @remove_orderly.
 * @remove_orderly: the device side still serves the device while it is
 *	withdrawn: its driver's remove drains the queues over the channel
 * @broken: requests and notifications fail; the device must be reset
 *	or removed. Written under @cb_lock, read locklessly.
 * @dma_dev_set: ops->dma_device() succeeded; release_device() is owed
 * @win_dev: the DMA device the core made on the bus's window, parent of
 *	@vdev; NULL when the bus has no window
 * @stats: counters, shown in debugfs
 * @debugfs: the device's directory of counters, or NULL or an error
 */
struct virtio_msg_device {
	struct virtio_device vdev;
	struct virtio_msg_bus_core *core;
	u16 dev_num;
	struct vmsg_chan chan;
	struct virtio_msg_hdr *req_buf;
	struct virtio_msg_hdr *resp_buf;
	u16 max_msg;
	u8 wire;
	bool strict_config;

	u32 device_id;
	u32 vendor_id;
	u32 num_feature_bits;
	u32 config_size;
	u32 max_vqs;
	u8 uuid[16];

	spinlock_t state_lock;		/* status, config cache */
	enum vmsg_dev_state state;
	u8 status;
	bool needs_reset;
	u32 dev_generation;
	u32 generation;
	u32 config_seq;
	u8 *config;
	bool config_event;
	struct work_struct config_work;

	spinlock_t cb_lock;		/* vqs vs. callbacks and breakage */
	struct vmsg_vq *vqs;
	unsigned int nvqs;

	spinlock_t kick_lock;		/* deferred kicks */
	unsigned long *kick_pending;
	struct work_struct kick_work;
	struct work_struct break_work;
	struct work_struct broken_cb_work;
	bool standin;
	struct work_struct standin_work;
	bool driver_ok;
	struct delayed_work remove_watchdog;

	bool ready;
	bool removing;
	bool remove_orderly;
	bool broken;
	bool dma_dev_set;
	struct device *win_dev;
	struct vmsg_stats stats;
	struct dentry *debugfs;
};

static inline struct virtio_msg_device *to_vmsg_dev(struct virtio_device *vdev)
{
	return container_of(vdev, struct virtio_msg_device, vdev);
}

/*
 * DMA through a bus's window. The engine (virtio_msg_dma.c) allocates in
 * the window and bounces through it; it is reached through the DMA API by
 * a per-device struct device (virtio_msg_dma_ops.c), the only mechanism
 * Linux 6.12 has. A kernel with struct virtio_map_ops would install the
 * same engine there instead: see "DMA windows" in
 * Documentation/driver-api/virtio/virtio_msg.rst.
 */
struct vmsg_dma_window;

/**
 * struct vmsg_dma_ctx - the window mapping state of one device
 * @win: the window of its bus (a reference)
 * @dev: the DMA device, for messages
 * @coherent_bytes: bytes of coherent memory it holds in the window
 * @bounce_bytes: bytes of streaming mappings it holds in the window
 * @map_failures: allocations and mappings refused (window full, too large)
 * @bad_unmaps: frees, unmaps and syncs of something it did not map
 * @abandoned: unmaps copy nothing back, see vmsg_dma_abandon()
 *
 * The counters are updated locklessly, in any context.
 */
struct vmsg_dma_ctx {
	struct vmsg_dma_window *win;
	struct device *dev;
	atomic_long_t coherent_bytes;
	atomic_long_t bounce_bytes;
	atomic_long_t map_failures;
	atomic_long_t bad_unmaps;
	bool abandoned;
};

int vmsg_dma_window_check(const struct virtio_msg_dma_window *desc);
struct vmsg_dma_window *
vmsg_dma_window_create(const struct virtio_msg_dma_window *desc);
struct vmsg_dma_window *vmsg_dma_window_get(struct vmsg_dma_window *win);
void vmsg_dma_window_put(struct vmsg_dma_window *win);
u64 vmsg_dma_window_size(const struct vmsg_dma_window *win);
u64 vmsg_dma_window_used(struct vmsg_dma_window *win);
void vmsg_dma_ctx_init(struct vmsg_dma_ctx *ctx, struct vmsg_dma_window *win,
		       struct device *dev);
void vmsg_dma_ctx_destroy(struct vmsg_dma_ctx *ctx);
void *vmsg_dma_alloc(struct vmsg_dma_ctx *ctx, size_t size,
		     dma_addr_t *dma_handle);
void vmsg_dma_free(struct vmsg_dma_ctx *ctx, size_t size, void *vaddr,
		   dma_addr_t dma_handle);
dma_addr_t vmsg_dma_map(struct vmsg_dma_ctx *ctx, phys_addr_t phys,
			size_t size, enum dma_data_direction dir,
			unsigned long attrs);
void vmsg_dma_abandon(struct vmsg_dma_ctx *ctx, bool on);
void vmsg_dma_unmap(struct vmsg_dma_ctx *ctx, dma_addr_t addr, size_t size,
		    enum dma_data_direction dir, unsigned long attrs);
void vmsg_dma_sync(struct vmsg_dma_ctx *ctx, dma_addr_t addr, size_t size,
		   enum dma_data_direction dir, bool for_cpu);
size_t vmsg_dma_max_mapping_size(struct vmsg_dma_ctx *ctx);
bool vmsg_dma_supported(struct vmsg_dma_ctx *ctx, u64 mask);
int vmsg_dma_shm_translate(const struct vmsg_dma_window *win, u64 *addr,
			   u64 len);
int vmsg_dma_window_access(struct vmsg_dma_ctx *ctx, u64 addr, void *buf,
			   size_t len, bool write);

/*
 * Installation of the engine (virtio_msg_dma_ops.c): everything that
 * depends on the kernel's mechanism, so that another one can replace it.
 */
int vmsg_dma_mechanism_check(struct device *parent);
struct device *vmsg_dma_dev_create(struct vmsg_dma_window *win,
				   struct device *parent, u16 dev_num);
void vmsg_dma_dev_destroy(struct device *dev);
struct vmsg_dma_ctx *vmsg_dma_dev_ctx(struct device *dev);

/* Transport feature bits the core knows, as BIT(VIRTIO_MSG_F_*). */
#define VMSG_TRANSPORT_FEATURES	BIT(VIRTIO_MSG_F_STRICT_CONFIG_GENERATION)

/* Largest configuration space the core caches. */
#define VMSG_CONFIG_MAX		4096
/* Largest virtqueue size a device may offer (split and packed rings). */
#define VMSG_VQ_SIZE_MAX	32768
/* Back-off between retries of a notification the bus could not take. */
#define VMSG_KICK_RETRY_MIN_US	100U
#define VMSG_KICK_RETRY_MAX_US	20000U

/* virtio_msg_core.c */
unsigned int vmsg_timeout_ms(const struct virtio_msg_bus *bus);
unsigned int vmsg_deadline_ms(const struct virtio_msg_bus *bus);
extern struct workqueue_struct *vmsg_wq;

/* virtio_msg_bus.c */
void vmsg_bus_count_bad(struct virtio_msg_bus_core *core,
			const struct virtio_msg_hdr *msg, const char *why);

/* virtio_msg_request.c */
void vmsg_chan_init(struct vmsg_chan *ch, struct vmsg_stats *stats,
		    bool match_token);
void vmsg_chan_revive(struct vmsg_chan *ch);
int vmsg_chan_fail_request(struct vmsg_chan *ch, u8 msg_id, int err);
int __vmsg_chan_request(struct virtio_msg_bus_core *core,
			struct vmsg_chan *ch, struct virtio_msg_hdr *req,
			void *resp, size_t resp_size, bool killable);
void vmsg_chan_fail(struct vmsg_chan *ch, int err);
int vmsg_chan_response(struct vmsg_chan *ch, const struct virtio_msg_hdr *msg,
		       int verdict, u8 wire);
int vmsg_send(struct virtio_msg_bus_core *core, struct vmsg_stats *stats,
	      const struct virtio_msg_hdr *msg);
enum vmsg_stat_id vmsg_stat_index(u8 msg_id);

/* virtio_msg_transport.c */
struct virtio_msg_device *vmsg_dev_create(struct virtio_msg_bus_core *core,
					  u16 dev_num);
int vmsg_dev_register(struct virtio_msg_device *vmdev);
void vmsg_dev_destroy(struct virtio_msg_device *vmdev, bool orderly);
void vmsg_dev_mark_gone(struct virtio_msg_device *vmdev, int err);
void vmsg_dev_set_gone(struct virtio_msg_device *vmdev);
void vmsg_dev_break(struct virtio_msg_device *vmdev, const char *why);
const struct virtio_msg_device_policy *
vmsg_dev_policy(const struct virtio_msg_bus *bus, u32 device_id);
void vmsg_dev_event(struct virtio_msg_device *vmdev,
		    const struct virtio_msg_hdr *msg);
void vmsg_dev_tx_ready(struct virtio_msg_device *vmdev);
void vmsg_dev_notify_used(struct virtio_msg_device *vmdev, u32 vq_index);
void vmsg_dev_poll(struct virtio_msg_device *vmdev);
void vmsg_dev_get_state(struct virtio_msg_device *vmdev, u32 vq_index,
			struct virtio_msg_device_state *st);
void vmsg_dev_kick_all(struct virtio_msg_device *vmdev);

/* virtio_msg_standin.c */
bool vmsg_standin_arm(struct virtio_msg_device *vmdev);
bool vmsg_standin_kick(struct virtio_msg_device *vmdev);
void vmsg_standin_work(struct work_struct *work);
#if IS_ENABLED(CONFIG_KUNIT)
extern u32 vmsg_standin_test_id;
#endif

void vmsg_dev_debugfs_add(struct virtio_msg_device *vmdev);
void vmsg_dev_debugfs_remove(struct virtio_msg_device *vmdev);
void vmsg_debugfs_init(void);
void vmsg_debugfs_exit(void);
extern const struct attribute_group *vmsg_dev_groups[];

#endif /* _DRIVERS_VIRTIO_VIRTIO_MSG_CORE_H */

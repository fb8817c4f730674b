// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-msg transport core: bus instances.
 *
 * A bus module registers an instance; the core keeps its devices in a
 * table keyed by device number, takes every inbound message from it
 * (virtio_msg_bus_receive()), and runs the bus-level services the
 * specification defines: GET_DEVICES enumeration, EVENT_DEVICE hotplug and
 * answering a peer's PING.
 *
 * Everything that creates or removes a device runs on one ordered
 * workqueue per bus, so enumeration, hotplug events and explicit
 * add/remove calls are applied one at a time, in the order they came. The
 * receive path never sleeps: it looks devices up under RCU and only queues
 * work for anything that needs process context.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/device.h>
#include <linux/export.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/virtio.h>
#include <linux/virtio_msg.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include "virtio_msg_core.h"

#define CREATE_TRACE_POINTS
#include <trace/events/virtio_msg.h>

/* Device numbers are 16 bits. */
#define VMSG_NR_DEV_NUMS	(U16_MAX + 1U)
/* Largest GET_DEVICES window asked for; a multiple of 8. */
#define VMSG_SCAN_WINDOW	256U
/* Hotplug events queued at most; more are dropped and counted. */
#define VMSG_MAX_EVENTS		1024U

/**
 * struct vmsg_bus_event - a queued device addition
 * @node: entry in virtio_msg_bus_core.events
 * @dev_num: the device number
 */
struct vmsg_bus_event {
	struct list_head node;
	u16 dev_num;
};

/**
 * vmsg_bus_count_bad() - count and report a dropped inbound message
 * @core: the bus it came from
 * @msg: the message; at least a header was received
 * @why: what is wrong with it
 *
 * Context: any.
 */
void vmsg_bus_count_bad(struct virtio_msg_bus_core *core,
			const struct virtio_msg_hdr *msg, const char *why)
{
	atomic_long_inc(&core->stats.bad_messages);
	dev_warn_ratelimited(core->bus->parent,
			     "dropped message type 0x%x id 0x%x dev %u: %s\n",
			     msg->type, msg->msg_id, le16_to_cpu(msg->dev_num),
			     why);
}

static unsigned int vmsg_bus_max_devices(const struct virtio_msg_bus *bus)
{
	return bus->max_devices ?: VIRTIO_MSG_BUS_MAX_DEVICES_DEFAULT;
}

/* Device creation and removal, on the ordered workqueue. */
static void vmsg_bus_add(struct virtio_msg_bus_core *core, u16 dev_num)
{
	struct virtio_msg_device *vmdev;
	unsigned long flags;
	bool full = false;

	if (xa_load(&core->devs, dev_num))
		return;	/* a duplicate announcement */

	/* A peer cannot make us create more devices than the bus allows. */
	spin_lock_irqsave(&core->ev_lock, flags);
	if (core->closing) {
		spin_unlock_irqrestore(&core->ev_lock, flags);
		return;
	}
	if (core->nr_devs >= vmsg_bus_max_devices(core->bus))
		full = true;
	else
		core->nr_devs++;
	spin_unlock_irqrestore(&core->ev_lock, flags);
	if (full) {
		dev_warn_ratelimited(core->bus->parent,
				     "device %u not added: the bus has %u devices already\n",
				     dev_num, vmsg_bus_max_devices(core->bus));
		return;
	}

	vmdev = vmsg_dev_create(core, dev_num);
	if (IS_ERR(vmdev) || vmsg_dev_register(vmdev)) {
		spin_lock_irqsave(&core->ev_lock, flags);
		core->nr_devs--;
		spin_unlock_irqrestore(&core->ev_lock, flags);
	}
}

static void vmsg_bus_destroy(struct virtio_msg_bus_core *core,
			     struct virtio_msg_device *vmdev, bool orderly)
{
	unsigned long flags;

	vmsg_dev_destroy(vmdev, orderly);
	spin_lock_irqsave(&core->ev_lock, flags);
	core->nr_devs--;
	spin_unlock_irqrestore(&core->ev_lock, flags);
}

/* Destroy the devices the bus or the peer withdrew. */
static void vmsg_bus_reap(struct virtio_msg_bus_core *core)
{
	struct virtio_msg_device *vmdev;
	unsigned long idx;

	xa_for_each(&core->devs, idx, vmdev) {
		/* Pairs with vmsg_bus_withdraw(): remove_orderly is set. */
		if (smp_load_acquire(&vmdev->removing))
			vmsg_bus_destroy(core, vmdev,
					 READ_ONCE(vmdev->remove_orderly) &&
					 !READ_ONCE(vmdev->broken));
	}
}

static void vmsg_bus_scan(struct virtio_msg_bus_core *core);

/*
 * The peer came back: what was there is gone (its devices were broken
 * when the bus lost the peer), and the devices are found anew.
 */
static void vmsg_bus_restart(struct virtio_msg_bus_core *core)
{
	struct virtio_msg_device *vmdev;
	unsigned long idx;

	xa_for_each(&core->devs, idx, vmdev)
		vmsg_bus_destroy(core, vmdev, false);
	if (core->bus->desc->flags & VIRTIO_MSG_BUS_F_ENUMERATE)
		vmsg_bus_scan(core);
}

static void vmsg_bus_ev_work(struct work_struct *work)
{
	struct virtio_msg_bus_core *core =
		container_of(work, struct virtio_msg_bus_core, ev_work);
	struct vmsg_bus_event *ev;
	unsigned long flags;
	bool restart;

	for (;;) {
		spin_lock_irqsave(&core->ev_lock, flags);
		restart = core->restart && !core->closing;
		core->restart = false;
		ev = NULL;
		if (!restart) {
			ev = list_first_entry_or_null(&core->events,
						      struct vmsg_bus_event,
						      node);
			if (ev) {
				list_del(&ev->node);
				core->nr_events--;
			}
		}
		spin_unlock_irqrestore(&core->ev_lock, flags);

		vmsg_bus_reap(core);
		if (restart) {
			vmsg_bus_restart(core);
			continue;
		}
		if (!ev)
			break;
		vmsg_bus_add(core, ev->dev_num);
		kfree(ev);
		cond_resched();
	}
	vmsg_bus_reap(core);
}

/* Queue an addition; ev_work runs once the bus is started. */
static int vmsg_bus_queue_add(struct virtio_msg_bus_core *core, u16 dev_num)
{
	struct vmsg_bus_event *ev;
	unsigned long flags;
	int ret = 0;

	ev = kmalloc(sizeof(*ev), GFP_ATOMIC);
	if (!ev)
		return -ENOMEM;
	ev->dev_num = dev_num;

	spin_lock_irqsave(&core->ev_lock, flags);
	if (core->closing) {
		ret = -ENODEV;
	} else if (core->nr_events >= VMSG_MAX_EVENTS) {
		ret = -ENOSPC;
	} else {
		list_add_tail(&ev->node, &core->events);
		core->nr_events++;
		if (core->started)
			queue_work(core->wq, &core->ev_work);
		ev = NULL;
	}
	spin_unlock_irqrestore(&core->ev_lock, flags);

	kfree(ev);
	if (ret == -ENOSPC)
		dev_warn_ratelimited(core->bus->parent,
				     "too many device events, dropped one for device %u\n",
				     dev_num);
	return ret == -ENODEV ? 0 : ret;
}

/*
 * Withdraw a device number, without allocating: the device (if it exists)
 * is marked for removal, and additions of the number still queued are
 * dropped. An @orderly removal leaves the device working while its driver
 * lets go of it, for at most the bus's deadline; otherwise it is marked
 * gone at once. A surprise removal overrides an orderly one, never the
 * other way round. Any context; under rcu_read_lock().
 */
static void vmsg_bus_withdraw(struct virtio_msg_bus_core *core, u16 dev_num,
			      bool orderly)
{
	struct vmsg_bus_event *ev, *tmp;
	struct virtio_msg_device *vmdev;
	unsigned long flags;
	LIST_HEAD(dropped);

	vmdev = xa_load(&core->devs, dev_num);
	if (vmdev) {
		if (!orderly) {
			WRITE_ONCE(vmdev->remove_orderly, false);
			vmsg_dev_mark_gone(vmdev, -ENODEV);
		} else if (!READ_ONCE(vmdev->removing)) {
			WRITE_ONCE(vmdev->remove_orderly, true);
		}
		/* Release: vmsg_bus_reap() sees remove_orderly as set here. */
		smp_store_release(&vmdev->removing, true);
	}

	spin_lock_irqsave(&core->ev_lock, flags);
	list_for_each_entry_safe(ev, tmp, &core->events, node) {
		if (ev->dev_num == dev_num) {
			list_move(&ev->node, &dropped);
			core->nr_events--;
		}
	}
	if (vmdev && !core->closing)
		queue_work(core->wq, &core->ev_work);
	spin_unlock_irqrestore(&core->ev_lock, flags);

	list_for_each_entry_safe(ev, tmp, &dropped, node)
		kfree(ev);
}

/*
 * GET_DEVICES enumeration. Each response is a snapshot of one window; the
 * device numbers found are collected first and added afterwards, each one
 * confirmed with GET_DEVICE_INFO by vmsg_dev_create(). next_offset is
 * checked to be a multiple of 8 beyond the window, so the loop advances by
 * at least 8 device numbers per round and ends within 8192 rounds, and
 * within the bus's deadline however slowly the peer answers each one.
 */
static void vmsg_bus_scan(struct virtio_msg_bus_core *core)
{
	u16 max = virtio_msg_bus_max_msg_size(core->bus);
	struct virtio_msg_bus_get_devices_req *q;
	unsigned long deadline = jiffies +
		msecs_to_jiffies(vmsg_deadline_ms(core->bus));
	struct virtio_msg_devices_window w;
	struct virtio_msg_hdr *req, *resp;
	u8 wire = READ_ONCE(core->params.wire);
	unsigned long *found;
	u32 offset = 0, window, round;
	unsigned int n;
	int ret = 0;

	/* The bitmap of the response must fit the bus's messages. */
	window = (max - sizeof(*req) -
		  sizeof(struct virtio_msg_bus_get_devices_resp)) *
		 BITS_PER_BYTE;
	window = min(window, VMSG_SCAN_WINDOW);

	found = bitmap_zalloc(VMSG_NR_DEV_NUMS, GFP_KERNEL);
	req = kzalloc(sizeof(*req) + sizeof(*q), GFP_KERNEL);
	resp = kzalloc(max, GFP_KERNEL);
	if (!found || !req || !resp)
		goto out;

	for (round = 0; round < VMSG_NR_DEV_NUMS / BITS_PER_BYTE; round++) {
		u32 count = min(window, VMSG_NR_DEV_NUMS - offset);

		if (time_after(jiffies, deadline)) {
			ret = -ETIMEDOUT;
			break;
		}

		virtio_msg_init_bus_request(req, sizeof(*req) + sizeof(*q),
					    VIRTIO_MSG_BUS_GET_DEVICES,
					    sizeof(*q));
		q = virtio_msg_payload(req);
		q->offset = cpu_to_le16(offset);
		q->count = cpu_to_le16(count);

		mutex_lock(&core->chan.lock);
		ret = __vmsg_chan_request(core, &core->chan, req, resp, max,
					  true);
		mutex_unlock(&core->chan.lock);
		if (ret < 0)
			break;

		/*
		 * Validated on receipt for the bus's generation then; checked
		 * again for the one this scan reads it with, which differs
		 * only if the bus changed its parameters meanwhile.
		 */
		if (virtio_msg_validate(resp, ret, max, wire)) {
			ret = -EPROTO;
			break;
		}
		/* Offset echoed, count no larger, bitmap present. */
		virtio_msg_parse_get_devices(resp, wire, &w);
		for (n = 0; n < w.count; n++)
			if (w.bitmap[n / BITS_PER_BYTE] & BIT(n % BITS_PER_BYTE))
				__set_bit(w.offset + n, found);

		if (!w.next_offset) {
			ret = 0;
			break;
		}
		offset = w.next_offset;
	}
	if (ret < 0 && ret != -ENODEV)
		dev_warn_ratelimited(core->bus->parent,
				     "device enumeration stopped at device %u: %d\n",
				     offset, ret);

	/* What was found before a failure is still worth adding. */
	for_each_set_bit(n, found, VMSG_NR_DEV_NUMS)
		vmsg_bus_add(core, n);
out:
	kfree(resp);
	kfree(req);
	bitmap_free(found);
}

static void vmsg_bus_scan_work(struct work_struct *work)
{
	struct virtio_msg_bus_core *core =
		container_of(work, struct virtio_msg_bus_core, scan_work);

	vmsg_bus_scan(core);
	/* Devices withdrawn while the scan added them. */
	vmsg_bus_reap(core);
}

static void vmsg_bus_ping_work(struct work_struct *work)
{
	struct virtio_msg_bus_core *core =
		container_of(work, struct virtio_msg_bus_core, ping_work);
	struct {
		struct virtio_msg_hdr hdr;
		struct virtio_msg_bus_ping ping;
	} req, resp;
	unsigned long flags;
	unsigned int i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(core->pings); i++) {
		spin_lock_irqsave(&core->ev_lock, flags);
		if (!core->nr_pings || core->closing) {
			spin_unlock_irqrestore(&core->ev_lock, flags);
			return;
		}
		virtio_msg_init_bus_request(&req.hdr, sizeof(req),
					    VIRTIO_MSG_BUS_PING,
					    sizeof(req.ping));
		req.hdr.token = core->pings[0].token;
		req.ping.data = core->pings[0].data;
		core->nr_pings--;
		memmove(&core->pings[0], &core->pings[1],
			core->nr_pings * sizeof(core->pings[0]));
		spin_unlock_irqrestore(&core->ev_lock, flags);

		virtio_msg_init_response(&resp.hdr, sizeof(resp), &req.hdr,
					 sizeof(resp.ping));
		resp.ping.data = req.ping.data;
		ret = vmsg_send(core, &core->stats, &resp.hdr);
		if (ret)
			dev_dbg(core->bus->parent, "PING answer failed: %d\n",
				ret);
	}
}

static void vmsg_bus_queue_ping(struct virtio_msg_bus_core *core,
				const struct virtio_msg_hdr *msg)
{
	const struct virtio_msg_bus_ping *p = (const void *)(msg + 1);
	unsigned long flags;
	bool queued = false;

	spin_lock_irqsave(&core->ev_lock, flags);
	if (!core->closing && core->nr_pings < ARRAY_SIZE(core->pings)) {
		core->pings[core->nr_pings].token = msg->token;
		core->pings[core->nr_pings].data = p->data;
		core->nr_pings++;
		queued = true;
		schedule_work(&core->ping_work);
	}
	spin_unlock_irqrestore(&core->ev_lock, flags);
	if (!queued)
		vmsg_bus_count_bad(core, msg, "too many PINGs");
}

static void vmsg_bus_event_device(struct virtio_msg_bus_core *core,
				  const struct virtio_msg_hdr *msg)
{
	const struct virtio_msg_bus_event_device *e = (const void *)(msg + 1);
	u16 dev_num = le16_to_cpu(e->dev_num);

	/* A bus that names its own devices does not let the peer do it. */
	if (!(core->bus->desc->flags & VIRTIO_MSG_BUS_F_HOTPLUG)) {
		vmsg_bus_count_bad(core, msg, "unexpected EVENT_DEVICE");
		return;
	}
	switch (le16_to_cpu(e->state)) {
	case VIRTIO_MSG_BUS_DEVICE_READY:	/* v2's ADDED */
		vmsg_bus_queue_add(core, dev_num);
		break;
	case VIRTIO_MSG_BUS_DEVICE_REMOVED:
		/* The driver quiesces and resets it, the device still serves. */
		vmsg_bus_withdraw(core, dev_num, true);
		break;
	default:
		/* Reserved and implementation-defined states: ignored. */
		break;
	}
}

/* A bus message accepted by virtio_msg_validate() (or only its payload bad). */
static void vmsg_bus_message(struct virtio_msg_bus_core *core,
			     const struct virtio_msg_hdr *msg, int verdict,
			     u8 wire)
{
	const struct virtio_msg_bus_ops *ops = core->bus->desc->ops;

	if (virtio_msg_is_response(msg)) {
		/*
		 * A bus's own responses that answer no transfer (FF-A ERROR)
		 * are the bus module's to interpret.
		 */
		if (vmsg_chan_response(&core->chan, msg, verdict, wire) ==
		    -ENOENT &&
		    !verdict && msg->msg_id >= VIRTIO_MSG_ID_IMPL &&
		    ops->bus_message)
			ops->bus_message(core->bus, msg);
		return;
	}
	if (verdict) {
		vmsg_bus_count_bad(core, msg, "malformed");
		return;
	}
	atomic_long_inc(&core->stats.received[VMSG_STAT_OTHER]);

	switch (msg->msg_id) {
	case VIRTIO_MSG_BUS_PING:
		if (core->bus->desc->flags & VIRTIO_MSG_BUS_F_PEER_REQUESTS)
			vmsg_bus_queue_ping(core, msg);
		else
			vmsg_bus_count_bad(core, msg, "unexpected PING");
		return;
	case VIRTIO_MSG_BUS_EVENT_DEVICE:
		vmsg_bus_event_device(core, msg);
		return;
	default:
		if (msg->msg_id >= VIRTIO_MSG_ID_IMPL && ops->bus_message)
			ops->bus_message(core->bus, msg);
		else
			vmsg_bus_count_bad(core, msg, "unhandled");
		return;
	}
}

static const char *vmsg_verdict_str(int verdict)
{
	switch (verdict) {
	case -EMSGSIZE:
		return "bad size";
	case -EOPNOTSUPP:
		return "unknown message";
	case -EPROTO:
		return "not expected from a device";
	default:
		return "malformed";
	}
}

/**
 * virtio_msg_bus_receive() - hand one inbound message to the core
 * @bus: the instance it arrived on
 * @buf: the message bytes; the core copies what it keeps
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
void virtio_msg_bus_receive(struct virtio_msg_bus *bus, const void *buf,
			    size_t len)
{
	const struct virtio_msg_hdr *msg = buf;
	struct virtio_msg_bus_core *core;
	struct virtio_msg_device *vmdev;
	int verdict;
	u8 wire;

	rcu_read_lock();
	core = READ_ONCE(bus->core);
	if (!core || len < sizeof(*msg))
		goto out;

	/* Fixed while the bus has devices; a response is matched with it. */
	wire = READ_ONCE(core->params.wire);
	verdict = virtio_msg_validate(msg, len,
				      virtio_msg_bus_max_msg_size(bus), wire);
	/*
	 * Implementation-defined bus messages are opaque to the validator,
	 * which still checked their size; they belong to the bus module.
	 */
	if (verdict == -EOPNOTSUPP && virtio_msg_is_bus(msg) &&
	    msg->msg_id >= VIRTIO_MSG_ID_IMPL)
		verdict = 0;
	trace_virtio_msg_receive(bus, msg, verdict);

	/*
	 * A response whose header is sound but whose payload is malformed is
	 * still offered to its request, which then fails at once instead of
	 * timing out.
	 */
	if (verdict && !(verdict == -EBADMSG && virtio_msg_is_response(msg))) {
		vmsg_bus_count_bad(core, msg, vmsg_verdict_str(verdict));
		goto out;
	}

	if (virtio_msg_is_bus(msg)) {
		vmsg_bus_message(core, msg, verdict, wire);
		goto out;
	}

	vmdev = xa_load(&core->devs, le16_to_cpu(msg->dev_num));
	if (!vmdev) {
		vmsg_bus_count_bad(core, msg, "no such device");
		goto out;
	}
	if (virtio_msg_is_response(msg)) {
		if (!verdict)
			atomic_long_inc(&vmdev->stats.received[vmsg_stat_index(msg->msg_id)]);
		vmsg_chan_response(&vmdev->chan, msg, verdict, wire);
	} else {
		vmsg_dev_event(vmdev, msg);
	}
out:
	rcu_read_unlock();
}
EXPORT_SYMBOL_NS_GPL(virtio_msg_bus_receive, VIRTIO_MSG_NS);

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
			    struct virtio_msg_hdr *resp, size_t resp_size)
{
	struct virtio_msg_bus_core *core = bus->core;
	size_t size;
	int ret;

	if (WARN_ON(!core))
		return -ENODEV;
	size = le16_to_cpu(req->msg_size);
	if (WARN_ON(!virtio_msg_is_bus(req) || virtio_msg_is_response(req) ||
		    req->dev_num || size < sizeof(*req) ||
		    size > virtio_msg_bus_max_msg_size(bus) ||
		    resp_size < sizeof(*resp)))
		return -EINVAL;

	if (mutex_lock_killable(&core->chan.lock))
		return -EINTR;
	ret = __vmsg_chan_request(core, &core->chan, req, resp, resp_size,
				  true);
	mutex_unlock(&core->chan.lock);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(virtio_msg_bus_transfer, VIRTIO_MSG_NS);

/**
 * virtio_msg_bus_tx_ready() - tell the core the bus has room again
 * @bus: the instance
 *
 * Makes the core resend events that @send_event or @notify_vq refused with
 * -EAGAIN. Optional: the core also retries on its own, after a delay.
 *
 * Context: any.
 */
void virtio_msg_bus_tx_ready(struct virtio_msg_bus *bus)
{
	struct virtio_msg_bus_core *core;
	struct virtio_msg_device *vmdev;
	unsigned long idx;

	rcu_read_lock();
	core = READ_ONCE(bus->core);
	if (core)
		xa_for_each(&core->devs, idx, vmdev)
			vmsg_dev_tx_ready(vmdev);
	rcu_read_unlock();
}
EXPORT_SYMBOL_NS_GPL(virtio_msg_bus_tx_ready, VIRTIO_MSG_NS);

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
int virtio_msg_bus_start(struct virtio_msg_bus *bus)
{
	struct virtio_msg_bus_core *core = bus->core;
	unsigned long flags;
	bool scan;

	if (!core)
		return -ENODEV;
	spin_lock_irqsave(&core->ev_lock, flags);
	if (core->closing) {
		spin_unlock_irqrestore(&core->ev_lock, flags);
		return -ENODEV;
	}
	scan = !core->started &&
	       (bus->desc->flags & VIRTIO_MSG_BUS_F_ENUMERATE);
	core->started = true;
	if (scan)
		queue_work(core->wq, &core->scan_work);
	queue_work(core->wq, &core->ev_work);
	spin_unlock_irqrestore(&core->ev_lock, flags);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(virtio_msg_bus_start, VIRTIO_MSG_NS);

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
			      const struct virtio_msg_bus_params *params)
{
	struct virtio_msg_bus_core *core = bus->core;
	unsigned long flags;
	int ret = 0;

	if (!core)
		return -ENODEV;
	if (params->revision != VIRTIO_MSG_REVISION ||
	    params->max_msg_size < VIRTIO_MSG_MAX_SIZE_MIN ||
	    params->max_msg_size > bus->desc->max_msg_size)
		return -EINVAL;
	if (params->wire != VIRTIO_MSG_WIRE_V1 &&
	    params->wire != VIRTIO_MSG_WIRE_V2)
		return -EINVAL;
	if (params->features & ~VMSG_TRANSPORT_FEATURES)
		return -EINVAL;
	if (params->wire == VIRTIO_MSG_WIRE_V1 && params->features)
		return -EINVAL;

	/* Devices hold buffers of the old size and speak the old wire. */
	spin_lock_irqsave(&core->ev_lock, flags);
	if (core->nr_devs) {
		ret = -EBUSY;
	} else {
		WRITE_ONCE(bus->max_msg_size, params->max_msg_size);
		core->params.revision = params->revision;
		core->params.features = params->features;
		core->params.max_msg_size = params->max_msg_size;
		/* Read locklessly by virtio_msg_bus_receive(). */
		WRITE_ONCE(core->params.wire, params->wire);
	}
	spin_unlock_irqrestore(&core->ev_lock, flags);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(virtio_msg_bus_set_params, VIRTIO_MSG_NS);

/**
 * virtio_msg_bus_set_dma_window() - say where the bus's peer reaches memory
 * @bus: a registered instance that has no device yet
 * @window: the window; the core copies the description
 *
 * See include/linux/virtio_msg.h.
 *
 * Context: process; may sleep.
 * Return: 0 or a negative errno.
 */
int virtio_msg_bus_set_dma_window(struct virtio_msg_bus *bus,
				  const struct virtio_msg_dma_window *window)
{
	struct virtio_msg_bus_core *core = bus->core;
	struct vmsg_dma_window *win;
	unsigned long flags;
	int ret;

	if (!core)
		return -ENODEV;
	ret = vmsg_dma_window_check(window);
	if (ret)
		return ret;
	ret = vmsg_dma_mechanism_check(bus->parent);
	if (ret)
		return ret;
	win = vmsg_dma_window_create(window);
	if (!win)
		return -ENOMEM;

	/* Devices map with the DMA device they were created with. */
	spin_lock_irqsave(&core->ev_lock, flags);
	if (core->nr_devs || core->window)
		ret = -EBUSY;
	else
		core->window = win;
	spin_unlock_irqrestore(&core->ev_lock, flags);
	if (ret)
		vmsg_dma_window_put(win);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(virtio_msg_bus_set_dma_window, VIRTIO_MSG_NS);

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
int virtio_msg_bus_add_device(struct virtio_msg_bus *bus, u16 dev_num)
{
	struct virtio_msg_bus_core *core;
	int ret = -ENODEV;

	rcu_read_lock();
	core = READ_ONCE(bus->core);
	if (core)
		ret = vmsg_bus_queue_add(core, dev_num) ? -ENOMEM : 0;
	rcu_read_unlock();
	return ret;
}
EXPORT_SYMBOL_NS_GPL(virtio_msg_bus_add_device, VIRTIO_MSG_NS);

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
void virtio_msg_bus_remove_device(struct virtio_msg_bus *bus, u16 dev_num)
{
	struct virtio_msg_bus_core *core;

	rcu_read_lock();
	core = READ_ONCE(bus->core);
	if (core)
		vmsg_bus_withdraw(core, dev_num, false);
	rcu_read_unlock();
}
EXPORT_SYMBOL_NS_GPL(virtio_msg_bus_remove_device, VIRTIO_MSG_NS);

/**
 * virtio_msg_bus_unplug_device() - withdraw a device the peer still serves
 * @bus: the instance
 * @dev_num: the device number
 *
 * An orderly removal: the virtio device is unregistered from a workqueue
 * while it keeps working, so that its driver's remove completes what the
 * device holds and resets it over the channel, as a driver does when the
 * peer announces EVENT_DEVICE(REMOVED). If that takes longer than the
 * bus's deadline, the device is broken then. An addition of the number
 * still queued is dropped; a later virtio_msg_bus_remove_device() or
 * virtio_msg_bus_peer_lost() turns it into a surprise removal. Cannot
 * fail; unplugging an unknown number is harmless.
 *
 * Context: any.
 */
void virtio_msg_bus_unplug_device(struct virtio_msg_bus *bus, u16 dev_num)
{
	struct virtio_msg_bus_core *core;

	rcu_read_lock();
	core = READ_ONCE(bus->core);
	if (core)
		vmsg_bus_withdraw(core, dev_num, true);
	rcu_read_unlock();
}
EXPORT_SYMBOL_NS_GPL(virtio_msg_bus_unplug_device, VIRTIO_MSG_NS);

/**
 * virtio_msg_bus_peer_lost() - the peer is gone for good
 * @bus: the instance
 *
 * Breaks every device of @bus and fails everything in flight with -ENODEV,
 * without waiting for a timeout. With VIRTIO_MSG_BUS_F_REMOVE_LOST the
 * devices are then unregistered from a workqueue (a surprise removal):
 * what they held fails, and nothing is left behind that only a returning
 * peer could clear; their queued additions are dropped. Otherwise they
 * stay registered until the bus removes them, the peer restarts or the
 * bus unregisters.
 *
 * Context: any.
 */
void virtio_msg_bus_peer_lost(struct virtio_msg_bus *bus)
{
	struct virtio_msg_bus_core *core;
	struct virtio_msg_device *vmdev;
	unsigned long idx;
	bool remove;

	rcu_read_lock();
	core = READ_ONCE(bus->core);
	if (core) {
		vmsg_chan_fail(&core->chan, -ENODEV);
		remove = bus->desc->flags & VIRTIO_MSG_BUS_F_REMOVE_LOST;
		xa_for_each(&core->devs, idx, vmdev) {
			if (remove)
				vmsg_bus_withdraw(core, vmdev->dev_num, false);
			else
				vmsg_dev_mark_gone(vmdev, -ENODEV);
		}
	}
	rcu_read_unlock();
}
EXPORT_SYMBOL_NS_GPL(virtio_msg_bus_peer_lost, VIRTIO_MSG_NS);

/* A device of a registered bus, or NULL; under rcu_read_lock(). */
static struct virtio_msg_device *vmsg_bus_find_dev(struct virtio_msg_bus *bus,
						   u16 dev_num)
{
	struct virtio_msg_bus_core *core = READ_ONCE(bus->core);

	return core ? xa_load(&core->devs, dev_num) : NULL;
}

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
void virtio_msg_bus_peer_restarted(struct virtio_msg_bus *bus)
{
	struct virtio_msg_bus_core *core;
	struct vmsg_bus_event *ev, *tmp;
	struct virtio_msg_device *vmdev;
	unsigned long flags, idx;
	LIST_HEAD(dropped);

	rcu_read_lock();
	core = READ_ONCE(bus->core);
	if (!core)
		goto out;
	/* Whatever is left of the old peer's devices must not linger. */
	xa_for_each(&core->devs, idx, vmdev)
		vmsg_dev_mark_gone(vmdev, -ENODEV);
	/* The bus may negotiate with the new peer at once. */
	vmsg_chan_revive(&core->chan);
	spin_lock_irqsave(&core->ev_lock, flags);
	list_splice_init(&core->events, &dropped);
	core->nr_events = 0;
	if (!core->closing) {
		core->restart = true;
		if (core->started)
			queue_work(core->wq, &core->ev_work);
	}
	spin_unlock_irqrestore(&core->ev_lock, flags);
	list_for_each_entry_safe(ev, tmp, &dropped, node)
		kfree(ev);
out:
	rcu_read_unlock();
}
EXPORT_SYMBOL_NS_GPL(virtio_msg_bus_peer_restarted, VIRTIO_MSG_NS);

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
				u16 dev_num, u8 msg_id, int err)
{
	struct virtio_msg_bus_core *core;
	struct virtio_msg_device *vmdev;
	int ret = -ENOENT;

	if (err >= 0)
		err = -EIO;
	rcu_read_lock();
	core = READ_ONCE(bus->core);
	if (core && bus_request) {
		ret = vmsg_chan_fail_request(&core->chan, msg_id, err);
	} else if (!bus_request) {
		vmdev = vmsg_bus_find_dev(bus, dev_num);
		if (vmdev)
			ret = vmsg_chan_fail_request(&vmdev->chan, msg_id, err);
	}
	rcu_read_unlock();
	return ret;
}
EXPORT_SYMBOL_NS_GPL(virtio_msg_bus_fail_request, VIRTIO_MSG_NS);

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
				u32 vq_index)
{
	struct virtio_msg_device *vmdev;

	rcu_read_lock();
	vmdev = vmsg_bus_find_dev(bus, dev_num);
	if (vmdev)
		vmsg_dev_notify_used(vmdev, vq_index);
	rcu_read_unlock();
}
EXPORT_SYMBOL_NS_GPL(virtio_msg_bus_notify_used, VIRTIO_MSG_NS);

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
void virtio_msg_bus_poll_device(struct virtio_msg_bus *bus, u16 dev_num)
{
	struct virtio_msg_device *vmdev;

	rcu_read_lock();
	vmdev = vmsg_bus_find_dev(bus, dev_num);
	if (vmdev)
		vmsg_dev_poll(vmdev);
	rcu_read_unlock();
}
EXPORT_SYMBOL_NS_GPL(virtio_msg_bus_poll_device, VIRTIO_MSG_NS);

/**
 * virtio_msg_bus_device_state() - what the driver side made of a device
 * @bus: the instance
 * @dev_num: the device
 * @vq_index: the virtqueue whose set-up goes into @st->vq
 * @st: filled in; see &struct virtio_msg_device_state
 *
 * For a bus whose device side was replaced under a running driver (a
 * restarted process taking the devices of a dead one over): the new
 * device side learns where the driver left the device. The state is the
 * core's cache, read under its locks; the device is not asked, so the
 * caller may be the device side itself. It may change as soon as the
 * call returns, if the driver goes on.
 *
 * Context: process or any other; does not sleep.
 * Return: 0, or -ENODEV if @bus has no such device (or it is going).
 */
int virtio_msg_bus_device_state(struct virtio_msg_bus *bus, u16 dev_num,
				u32 vq_index,
				struct virtio_msg_device_state *st)
{
	struct virtio_msg_device *vmdev;
	int ret = -ENODEV;

	rcu_read_lock();
	vmdev = vmsg_bus_find_dev(bus, dev_num);
	if (vmdev && READ_ONCE(vmdev->state) != VMSG_DEV_GONE) {
		vmsg_dev_get_state(vmdev, vq_index, st);
		ret = 0;
	}
	rcu_read_unlock();
	return ret;
}
EXPORT_SYMBOL_NS_GPL(virtio_msg_bus_device_state, VIRTIO_MSG_NS);

/**
 * virtio_msg_bus_kick_device() - notify a device of all its virtqueues
 * @bus: the instance
 * @dev_num: the device
 *
 * Sends EVENT_AVAIL for every virtqueue the driver has live, as its own
 * kicks would go (kept by the core while the bus has no room, never
 * lost): for a new device side taking a running device over, which
 * cannot know which notifications its predecessor read and never acted
 * on.
 *
 * Context: any, including hard IRQ.
 */
void virtio_msg_bus_kick_device(struct virtio_msg_bus *bus, u16 dev_num)
{
	struct virtio_msg_device *vmdev;

	rcu_read_lock();
	vmdev = vmsg_bus_find_dev(bus, dev_num);
	if (vmdev)
		vmsg_dev_kick_all(vmdev);
	rcu_read_unlock();
}
EXPORT_SYMBOL_NS_GPL(virtio_msg_bus_kick_device, VIRTIO_MSG_NS);

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
int virtio_msg_bus_suspend(struct virtio_msg_bus *bus)
{
	struct virtio_msg_bus_core *core = bus->core;
	struct virtio_msg_device *vmdev;
	unsigned long idx, failed = ULONG_MAX;
	int ret = 0;

	if (!core)
		return -ENODEV;
	/* No device comes or goes while they sleep. */
	flush_workqueue(core->wq);
	xa_for_each(&core->devs, idx, vmdev) {
		ret = virtio_device_freeze(&vmdev->vdev);
		if (ret) {
			failed = idx;
			break;
		}
	}
	if (!ret && bus->desc->ops->suspend)
		ret = bus->desc->ops->suspend(bus);
	if (ret)
		xa_for_each_range(&core->devs, idx, vmdev, 0, failed - 1)
			virtio_device_restore(&vmdev->vdev);
	return ret;
}
EXPORT_SYMBOL_NS_GPL(virtio_msg_bus_suspend, VIRTIO_MSG_NS);

/**
 * virtio_msg_bus_resume() - tell the bus, then restore every device
 * @bus: an instance suspended with virtio_msg_bus_suspend()
 *
 * Context: process; may sleep.
 * Return: 0 or the first error; every device is restored either way.
 */
int virtio_msg_bus_resume(struct virtio_msg_bus *bus)
{
	struct virtio_msg_bus_core *core = bus->core;
	struct virtio_msg_device *vmdev;
	unsigned long idx;
	int ret = 0, err;

	if (!core)
		return -ENODEV;
	if (bus->desc->ops->resume)
		ret = bus->desc->ops->resume(bus);
	xa_for_each(&core->devs, idx, vmdev) {
		err = virtio_device_restore(&vmdev->vdev);
		if (err && !ret)
			ret = err;
	}
	return ret;
}
EXPORT_SYMBOL_NS_GPL(virtio_msg_bus_resume, VIRTIO_MSG_NS);
#endif /* CONFIG_PM_SLEEP */

/**
 * virtio_msg_bus_register() - register a bus instance with the core
 * @bus: the instance; @bus->parent and @bus->desc set, the rest optional
 *
 * After this the core may call the bus ops at any time, and the bus may
 * talk to its peer with virtio_msg_bus_transfer(); no device is created
 * until virtio_msg_bus_start(). The wire generation is VIRTIO_MSG_WIRE_V1
 * until virtio_msg_bus_set_params() says otherwise.
 *
 * Context: process; may sleep.
 * Return: 0 or a negative errno (-EINVAL for a bad descriptor).
 */
int virtio_msg_bus_register(struct virtio_msg_bus *bus)
{
	const struct virtio_msg_bus_desc *desc = bus ? bus->desc : NULL;
	struct virtio_msg_bus_core *core;
	u16 max;

	if (!desc || !bus->parent || !desc->name || !desc->ops ||
	    !desc->ops->send)
		return -EINVAL;
	if ((desc->flags & VIRTIO_MSG_BUS_F_OOB_NOTIFY) && !desc->ops->notify_vq)
		return -EINVAL;
	max = virtio_msg_bus_max_msg_size(bus);
	if (max < VIRTIO_MSG_MAX_SIZE_MIN)
		return -EINVAL;
	if (WARN_ON(bus->core))
		return -EBUSY;

	core = kzalloc(sizeof(*core), GFP_KERNEL);
	if (!core)
		return -ENOMEM;
	core->bus = bus;
	xa_init(&core->devs);
	vmsg_chan_init(&core->chan, &core->stats,
		       !(desc->flags & VIRTIO_MSG_BUS_F_NO_TOKEN_ECHO));
	core->params.revision = VIRTIO_MSG_REVISION;
	core->params.wire = VIRTIO_MSG_WIRE_V1;
	core->params.max_msg_size = max;
	spin_lock_init(&core->ev_lock);
	INIT_LIST_HEAD(&core->events);
	INIT_WORK(&core->ev_work, vmsg_bus_ev_work);
	INIT_WORK(&core->scan_work, vmsg_bus_scan_work);
	INIT_WORK(&core->ping_work, vmsg_bus_ping_work);
	/* Workqueue names are limited to WQ_NAME_LEN (32) bytes. */
	core->wq = alloc_ordered_workqueue("virtio-msg-%.20s", 0,
					   dev_name(bus->parent));
	if (!core->wq) {
		kfree(core);
		return -ENOMEM;
	}

	WRITE_ONCE(bus->core, core);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(virtio_msg_bus_register, VIRTIO_MSG_NS);

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
void virtio_msg_bus_unregister(struct virtio_msg_bus *bus)
{
	struct virtio_msg_bus_core *core = bus->core;
	struct virtio_msg_device *vmdev;
	struct vmsg_bus_event *ev, *tmp;
	unsigned long flags, idx;
	LIST_HEAD(events);

	if (WARN_ON(!core))
		return;

	/* Nothing new gets queued or created from here on. */
	spin_lock_irqsave(&core->ev_lock, flags);
	core->closing = true;
	list_splice_init(&core->events, &events);
	core->nr_events = 0;
	core->nr_pings = 0;
	spin_unlock_irqrestore(&core->ev_lock, flags);
	list_for_each_entry_safe(ev, tmp, &events, node)
		kfree(ev);

	/* An enumeration or creation in progress ends (bounded waits). */
	flush_workqueue(core->wq);
	cancel_work_sync(&core->ping_work);

	/* The devices, while the channel still works... */
	xa_for_each(&core->devs, idx, vmdev)
		vmsg_bus_destroy(core, vmdev, true);

	/* ...then the channel. */
	WRITE_ONCE(core->dead, true);
	vmsg_chan_fail(&core->chan, -ENODEV);
	destroy_workqueue(core->wq);

	WRITE_ONCE(bus->core, NULL);
	/* virtio_msg_bus_receive() may still be looking at the old state. */
	synchronize_rcu();
	xa_destroy(&core->devs);
	/* DMA devices still referenced elsewhere keep the allocator. */
	vmsg_dma_window_put(core->window);
	kfree(core);
}
EXPORT_SYMBOL_NS_GPL(virtio_msg_bus_unregister, VIRTIO_MSG_NS);

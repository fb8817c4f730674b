// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-msg transport core: the virtio transport.
 *
 * Every struct virtio_config_ops operation becomes transport messages to
 * the device, sent through the device's request channel. What the virtio
 * core and drivers read often, or from atomic context, is cached:
 *
 * - the configuration space is read in full at reset, in chunks that fit
 *   the bus's messages, and kept up to date from EVENT_CONFIG data, or
 *   re-read when an EVENT_CONFIG without data moves the generation; get()
 *   and generation() cost no message;
 * - the device status is the value the last SET_DEVICE_STATUS response
 *   (or EVENT_CONFIG) reported, so the virtio core's re-read after setting
 *   FEATURES_OK sees whether the device accepted the features.
 *
 * Probing a device with a configuration space that fits one message and N
 * virtqueues costs 9 + 2N round trips: GET_DEVICE_INFO, SET_DEVICE_STATUS
 * for reset, GET_CONFIG, SET_DEVICE_STATUS for ACKNOWLEDGE and DRIVER,
 * GET_DEVICE_FEATURES, SET_DRIVER_FEATURES, SET_DEVICE_STATUS for
 * FEATURES_OK, GET_VQUEUE and SET_VQUEUE per queue, and SET_DEVICE_STATUS
 * for DRIVER_OK.
 *
 * The wire generation of the bus (v1 or v2) decides a few layouts, which
 * the codec in virtio_msg_proto.c reads and writes, and two behaviours:
 *
 * - queue set-up: v1 has no queue enable, so a SET_VQUEUE is not read
 *   back (a device that cannot use the queue says so through
 *   DEVICE_NEEDS_RESET). v2 has one: the queue must be inactive before,
 *   SET_VQUEUE enables it, and a GET_VQUEUE read-back must show it enabled
 *   with the size and addresses set, one more round trip per queue;
 * - configuration writes: see vmsg_set().
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/delay.h>
#include <linux/device.h>
#include <linux/interrupt.h>
#include <linux/log2.h>
#include <linux/nospec.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>
#include <linux/virtio_msg.h>
#include <linux/virtio_ring.h>
#include <linux/workqueue.h>

#include "virtio_msg_core.h"

#include <trace/events/virtio_msg.h>

#define vmsg_parent(vmdev)	((vmdev)->core->bus->parent)

/* Feature blocks the kernel understands: virtio_device.features is a u64. */
#define VMSG_FEATURE_BLOCKS	2U

/* Configuration bytes that fit one GET_CONFIG or SET_CONFIG message. */
static size_t vmsg_config_chunk(const struct virtio_msg_device *vmdev)
{
	return vmdev->max_msg - sizeof(struct virtio_msg_hdr) -
	       sizeof(struct virtio_msg_config);
}

static unsigned int vmsg_feature_blocks(const struct virtio_msg_device *vmdev)
{
	return min(vmdev->num_feature_bits / 32, VMSG_FEATURE_BLOCKS);
}

/* Break every published virtqueue; cb_lock held. */
static void vmsg_break_vqs_locked(struct virtio_msg_device *vmdev)
{
	unsigned int i;

	lockdep_assert_held(&vmdev->cb_lock);
	for (i = 0; i < vmdev->nvqs; i++)
		if (vmdev->vqs[i].vq)
			__virtqueue_break(vmdev->vqs[i].vq);
}

/**
 * vmsg_dev_break() - mark a device broken after a protocol failure
 * @vmdev: the device
 * @why: what went wrong, for the log
 *
 * Every request, pending or new, fails with -EIO and the virtqueues are
 * broken, until the device is removed.
 *
 * Context: any, but not under the device's cb_lock or kick_lock.
 */
void vmsg_dev_break(struct virtio_msg_device *vmdev, const char *why)
{
	if (!READ_ONCE(vmdev->broken))
		dev_warn_ratelimited(vmsg_parent(vmdev),
				     "device %u broken: %s\n", vmdev->dev_num,
				     why);
	vmsg_dev_mark_gone(vmdev, -EIO);
}

/**
 * vmsg_dev_mark_gone() - mark a device unusable, from any context
 * @vmdev: the device
 * @err: the errno requests fail with from now on
 *
 * Later requests and notifications fail, and every virtqueue that exists
 * now or is published later (find_vqs checks @broken under the same lock)
 * is broken, so that a driver waiting for its buffers, even one still in
 * its probe, gives up; or, for the device types it knows how to fail, the
 * core answers every buffer in the device's stead (vmsg_standin_arm()).
 * Taking cb_lock also waits for a running callback to end.
 *
 * Context: any, but not under the device's cb_lock or kick_lock.
 */
void vmsg_dev_mark_gone(struct virtio_msg_device *vmdev, int err)
{
	unsigned long flags;
	bool standin;

	spin_lock_irqsave(&vmdev->cb_lock, flags);
	/* Armed first: vmsg_standin_kick() reads @broken, then @standin. */
	standin = vmsg_standin_arm(vmdev);
	WRITE_ONCE(vmdev->broken, true);
	if (standin) {
		/* The core answers for it: see virtio_msg_standin.c. */
		if (vmdev->nvqs)
			queue_work(vmsg_wq, &vmdev->standin_work);
	} else {
		vmsg_break_vqs_locked(vmdev);
		if (vmdev->nvqs)
			queue_work(vmsg_wq, &vmdev->broken_cb_work);
	}
	spin_unlock_irqrestore(&vmdev->cb_lock, flags);
	vmsg_chan_fail(&vmdev->chan, err);
}

/*
 * A broken queue returns no more buffers, and vring_interrupt() runs no
 * callback for it: a driver would wait for the buffers the device held
 * until its own timeout, if it has one. Run each callback once more, as a
 * spurious interrupt, so that it looks at its queue and finds it broken
 * (virtio_blk then fails those requests). Only once the driver wrote
 * DRIVER_OK, as interrupts would be (whatever the device reported back),
 * and never after a reset, when the driver expects no callback.
 */
static void vmsg_broken_cb_work(struct work_struct *work)
{
	struct virtio_msg_device *vmdev =
		container_of(work, struct virtio_msg_device, broken_cb_work);
	struct virtqueue *vq;
	unsigned long flags;
	unsigned int i;

	local_bh_disable();
	spin_lock_irqsave(&vmdev->cb_lock, flags);
	if (READ_ONCE(vmdev->driver_ok)) {
		for (i = 0; i < vmdev->nvqs; i++) {
			vq = vmdev->vqs[i].vq;
			if (vq && !vq->reset && vq->callback)
				vq->callback(vq);
		}
	}
	spin_unlock_irqrestore(&vmdev->cb_lock, flags);
	local_bh_enable();
}

static void vmsg_break_work(struct work_struct *work)
{
	struct virtio_msg_device *vmdev =
		container_of(work, struct virtio_msg_device, break_work);

	vmsg_dev_break(vmdev, "notification failed");
}

static void vmsg_remove_watchdog(struct work_struct *work)
{
	struct virtio_msg_device *vmdev =
		container_of(to_delayed_work(work), struct virtio_msg_device,
			     remove_watchdog);

	vmsg_dev_break(vmdev, "removal takes too long");
}

/* Start a request in the device's request buffer; chan.lock held. */
static void *vmsg_start(struct virtio_msg_device *vmdev, u8 msg_id,
			size_t payload_len)
{
	int ret;

	lockdep_assert_held(&vmdev->chan.lock);
	ret = virtio_msg_init_request(vmdev->req_buf, vmdev->max_msg, msg_id,
				      vmdev->dev_num, payload_len);
	/* Every caller sizes its request to fit: a failure is a core bug. */
	if (WARN_ON_ONCE(ret < 0))
		return NULL;
	return virtio_msg_payload(vmdev->req_buf);
}

/*
 * Send the request in req_buf and wait for the response in resp_buf,
 * which has then passed virtio_msg_validate() and
 * virtio_msg_match_response(). chan.lock held.
 */
static int __vmsg_call(struct virtio_msg_device *vmdev, bool killable)
{
	int ret;

	ret = __vmsg_chan_request(vmdev->core, &vmdev->chan, vmdev->req_buf,
				  vmdev->resp_buf, vmdev->max_msg, killable);
	switch (ret) {
	case -ETIMEDOUT:
		vmsg_dev_break(vmdev, "request timed out");
		return -EIO;
	case -EPROTO:
		vmsg_dev_break(vmdev, "malformed response");
		return -EIO;
	case -ENODEV:
	case -ENOTCONN:
		/* The bus says the peer is gone. */
		vmsg_dev_mark_gone(vmdev, -ENODEV);
		return -ENODEV;
	case -EINTR:
		/* Without tokens, a late answer would pass for the next. */
		if (!vmdev->chan.match_token)
			vmsg_dev_break(vmdev, "request given up");
		return -EINTR;
	default:
		return ret < 0 ? ret : 0;
	}
}

static int vmsg_call(struct virtio_msg_device *vmdev)
{
	return __vmsg_call(vmdev, true);
}

static void *vmsg_resp(struct virtio_msg_device *vmdev)
{
	return virtio_msg_payload(vmdev->resp_buf);
}

/*
 * Status bits the device reports: it may clear driver bits, not set them.
 * DEVICE_NEEDS_RESET is kept apart (vmsg_dev.needs_reset), so that the
 * driver never writes it back.
 */
static u8 vmsg_sane_status(u8 sent, u32 reported)
{
	return sent & reported & ~VIRTIO_CONFIG_S_NEEDS_RESET;
}

/*
 * Whether a device's DEVICE_NEEDS_RESET means anything: only while the
 * driver runs the device (DRIVER_OK). Right after a reset, or during
 * the probe, the bit would make the virtio core stumble (it expects a
 * status of 0 after a reset) and is ignored. state_lock held.
 */
static bool vmsg_take_needs_reset(struct virtio_msg_device *vmdev,
				  u32 reported)
{
	lockdep_assert_held(&vmdev->state_lock);
	if (!(reported & VIRTIO_CONFIG_S_NEEDS_RESET) ||
	    !(vmdev->status & VIRTIO_CONFIG_S_DRIVER_OK) || vmdev->needs_reset)
		return false;
	vmdev->needs_reset = true;
	return true;
}

/* The device wants a reset: stop I/O, the driver may reset it. */
static void vmsg_needs_reset(struct virtio_msg_device *vmdev)
{
	unsigned long flags;

	dev_warn_ratelimited(vmsg_parent(vmdev), "device %u needs a reset\n",
			     vmdev->dev_num);
	spin_lock_irqsave(&vmdev->cb_lock, flags);
	vmsg_break_vqs_locked(vmdev);
	queue_work(vmsg_wq, &vmdev->broken_cb_work);
	spin_unlock_irqrestore(&vmdev->cb_lock, flags);
}

/*
 * Read the whole configuration space into the cache; chan.lock held. The
 * chunks of one pass must carry the same generation to form a consistent
 * snapshot; a few passes are tried, then the last one is taken anyway
 * (the device keeps changing it, and will tell with EVENT_CONFIG). A
 * snapshot is installed only if no EVENT_CONFIG changed the cache while
 * it was read: the event's data is newer. The whole fetch is bounded by
 * the bus's deadline, whatever the chunk sizes the device answers with.
 */
static int vmsg_fetch_config(struct virtio_msg_device *vmdev)
{
	unsigned long deadline = jiffies +
		msecs_to_jiffies(vmsg_deadline_ms(vmdev->core->bus));
	size_t chunk = vmsg_config_chunk(vmdev);
	u32 size = vmdev->config_size;
	u32 gen = 0, first = 0, off, n, seq;
	struct virtio_msg_get_config_req *q;
	struct virtio_msg_config *r;
	unsigned int pass;
	unsigned long flags;
	bool same = false, installed;
	u8 *buf;
	int ret = 0;

	if (!size)
		return 0;
	buf = kmalloc(size, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;

	for (pass = 0; pass < 3; pass++) {
		spin_lock_irqsave(&vmdev->state_lock, flags);
		seq = vmdev->config_seq;
		spin_unlock_irqrestore(&vmdev->state_lock, flags);

		same = true;
		for (off = 0; off < size; off += n) {
			if (time_after(jiffies, deadline)) {
				vmsg_dev_break(vmdev, "configuration read takes too long");
				ret = -EIO;
				goto out;
			}
			n = min_t(size_t, chunk, size - off);
			q = vmsg_start(vmdev, VIRTIO_MSG_GET_CONFIG, sizeof(*q));
			if (!q) {
				ret = -EINVAL;
				goto out;
			}
			q->offset = cpu_to_le32(off);
			q->length = cpu_to_le32(n);
			ret = vmsg_call(vmdev);
			if (ret)
				goto out;
			r = vmsg_resp(vmdev);
			/* Never longer than asked; shorter is progress. */
			n = le32_to_cpu(r->length);
			if (!n) {
				vmsg_dev_break(vmdev, "empty GET_CONFIG response");
				ret = -EIO;
				goto out;
			}
			memcpy(buf + off, r->data, n);
			gen = le32_to_cpu(r->generation);
			if (!off)
				first = gen;
			else if (gen != first)
				same = false;
		}
		if (!same && pass < 2)
			continue;

		spin_lock_irqsave(&vmdev->state_lock, flags);
		installed = seq == vmdev->config_seq;
		if (installed && (gen != vmdev->dev_generation ||
				  memcmp(vmdev->config, buf, size))) {
			memcpy(vmdev->config, buf, size);
			vmdev->dev_generation = gen;
			vmdev->generation++;
		}
		spin_unlock_irqrestore(&vmdev->state_lock, flags);
		if (installed)
			break;
	}
out:
	kfree(buf);
	return ret;
}

static u32 vmsg_generation(struct virtio_device *vdev);

static void vmsg_config_work(struct work_struct *work)
{
	struct virtio_msg_device *vmdev =
		container_of(work, struct virtio_msg_device, config_work);
	u32 before = vmsg_generation(&vmdev->vdev);
	int ret;

	mutex_lock(&vmdev->chan.lock);
	ret = vmsg_fetch_config(vmdev);
	mutex_unlock(&vmdev->chan.lock);
	/* A poll that found nothing new tells the driver nothing. */
	if (!ret && READ_ONCE(vmdev->ready) &&
	    vmsg_generation(&vmdev->vdev) != before)
		virtio_config_changed(&vmdev->vdev);
}

static void vmsg_get(struct virtio_device *vdev, unsigned int offset,
		     void *buf, unsigned int len)
{
	struct virtio_msg_device *vmdev = to_vmsg_dev(vdev);
	unsigned long flags;

	if ((u64)offset + len > vmdev->config_size) {
		/* A driver bug, but not worth a crash: read as zeroes. */
		dev_warn_ratelimited(&vdev->dev,
				     "config read %u@%u beyond %u bytes\n",
				     len, offset, vmdev->config_size);
		memset(buf, 0, len);
		return;
	}
	spin_lock_irqsave(&vmdev->state_lock, flags);
	memcpy(buf, vmdev->config + offset, len);
	spin_unlock_irqrestore(&vmdev->state_lock, flags);
}

/*
 * Strict profile (v1, and v2 with STRICT_CONFIG_GENERATION): SET_CONFIG
 * carries the generation the driver last saw. The v1 text has the device
 * reject a write made against a stale generation (the response then has
 * length 0), and the driver re-read and retry; a proposal under review
 * drops the rejection and has the device merge the write instead. Both
 * are handled: a rejected chunk triggers one re-read of the configuration
 * space and one retry with the fresh generation; a device that never
 * rejects never takes that path.
 *
 * Baseline profile (v2 without the feature): the driver sends generation
 * 0 and the device never rejects, so a rejection is a protocol error, as
 * is a partial write in v2 (the codec refuses that response).
 *
 * An EVENT_CONFIG that arrives while a chunk is in flight carries the
 * device's newer view: the written bytes are then not put in the cache
 * over it, and the cache is re-read once the write is done.
 */
static void vmsg_set(struct virtio_device *vdev, unsigned int offset,
		     const void *buf, unsigned int len)
{
	struct virtio_msg_device *vmdev = to_vmsg_dev(vdev);
	size_t chunk = vmsg_config_chunk(vmdev);
	struct virtio_msg_config *c, *r;
	unsigned int pos = 0, n, applied;
	bool retried = false, refetch = false;
	unsigned long flags;
	u32 gen, seq;

	if ((u64)offset + len > vmdev->config_size) {
		dev_warn_ratelimited(&vdev->dev,
				     "config write %u@%u beyond %u bytes\n",
				     len, offset, vmdev->config_size);
		return;
	}
	if (mutex_lock_killable(&vmdev->chan.lock))
		return;

	/* Each round sends a chunk or re-reads once: bounded by len + 1. */
	while (pos < len) {
		n = min_t(size_t, chunk, len - pos);
		spin_lock_irqsave(&vmdev->state_lock, flags);
		gen = vmdev->strict_config ? vmdev->dev_generation : 0;
		seq = vmdev->config_seq;
		spin_unlock_irqrestore(&vmdev->state_lock, flags);

		c = vmsg_start(vmdev, VIRTIO_MSG_SET_CONFIG, sizeof(*c) + n);
		if (!c)
			break;
		c->generation = cpu_to_le32(gen);
		c->offset = cpu_to_le32(offset + pos);
		c->length = cpu_to_le32(n);
		memcpy(c->data, buf + pos, n);
		if (vmsg_call(vmdev))
			break;

		r = vmsg_resp(vmdev);
		applied = le32_to_cpu(r->length);	/* at most n */
		if (!applied && !vmdev->strict_config) {
			vmsg_dev_break(vmdev, "config write rejected without a generation");
			break;
		}
		if (!applied) {
			if (retried) {
				dev_warn_ratelimited(&vdev->dev,
						     "config write %u@%u rejected\n",
						     n, offset + pos);
				break;
			}
			retried = true;
			if (vmsg_fetch_config(vmdev))
				break;
			continue;
		}

		spin_lock_irqsave(&vmdev->state_lock, flags);
		if (seq == vmdev->config_seq) {
			memcpy(vmdev->config + offset + pos, buf + pos, applied);
			vmdev->dev_generation = le32_to_cpu(r->generation);
			vmdev->generation++;
		} else {
			refetch = true;
		}
		spin_unlock_irqrestore(&vmdev->state_lock, flags);
		pos += applied;
	}
	if (refetch)
		vmsg_fetch_config(vmdev);
	mutex_unlock(&vmdev->chan.lock);
}

static u32 vmsg_generation(struct virtio_device *vdev)
{
	struct virtio_msg_device *vmdev = to_vmsg_dev(vdev);
	unsigned long flags;
	u32 gen;

	spin_lock_irqsave(&vmdev->state_lock, flags);
	gen = vmdev->generation;
	spin_unlock_irqrestore(&vmdev->state_lock, flags);
	return gen;
}

static u8 vmsg_get_status(struct virtio_device *vdev)
{
	struct virtio_msg_device *vmdev = to_vmsg_dev(vdev);

	return READ_ONCE(vmdev->status) |
	       (READ_ONCE(vmdev->needs_reset) ? VIRTIO_CONFIG_S_NEEDS_RESET : 0);
}

/*
 * SET_DEVICE_STATUS; chan.lock held. Status writes are not killable: the
 * virtio core cannot handle their failure, so any failure breaks the
 * device instead (the wait is bounded by the bus timeout).
 */
static int vmsg_send_status(struct virtio_msg_device *vmdev, u8 status,
			    u32 *reported)
{
	struct virtio_msg_status *s;
	int ret;

	s = vmsg_start(vmdev, VIRTIO_MSG_SET_DEVICE_STATUS, sizeof(*s));
	if (!s)
		return -EINVAL;
	s->status = cpu_to_le32(status);
	ret = __vmsg_call(vmdev, false);
	if (!ret)
		*reported = le32_to_cpu(((struct virtio_msg_status *)
					 vmsg_resp(vmdev))->status);
	else
		vmsg_dev_break(vmdev, "device status write failed");
	return ret;
}

/*
 * Reset the device; chan.lock held. Whatever the device said, the driver
 * starts over from status 0 (virtio_dev_remove() checks that): a device
 * that did not reset is broken, so nothing reaches it any more. No kick
 * survives a reset.
 */
static int vmsg_reset_locked(struct virtio_msg_device *vmdev)
{
	unsigned long flags;
	u32 reported;
	int ret;

	lockdep_assert_held(&vmdev->chan.lock);
	ret = vmsg_send_status(vmdev, 0, &reported);
	if (!ret && reported) {
		vmsg_dev_break(vmdev, "device did not reset");
		ret = -EIO;
	}

	spin_lock_irqsave(&vmdev->state_lock, flags);
	WRITE_ONCE(vmdev->status, 0);
	WRITE_ONCE(vmdev->needs_reset, false);
	WRITE_ONCE(vmdev->driver_ok, false);
	spin_unlock_irqrestore(&vmdev->state_lock, flags);
	/* vmsg_broken_cb_work() runs no callback from now on. */
	spin_lock_irqsave(&vmdev->cb_lock, flags);
	spin_unlock_irqrestore(&vmdev->cb_lock, flags);
	spin_lock_irqsave(&vmdev->kick_lock, flags);
	if (vmdev->kick_pending)
		bitmap_zero(vmdev->kick_pending, vmdev->nvqs);
	spin_unlock_irqrestore(&vmdev->kick_lock, flags);
	return ret;
}

static void vmsg_reset(struct virtio_device *vdev)
{
	struct virtio_msg_device *vmdev = to_vmsg_dev(vdev);

	/*
	 * register_virtio_device() names the device and then resets it,
	 * before the driver's probe: the first moment the counters can go
	 * under that name, and early enough to watch a probe that hangs.
	 */
	if (!READ_ONCE(vmdev->ready) && !vmdev->debugfs)
		vmsg_dev_debugfs_add(vmdev);

	mutex_lock(&vmdev->chan.lock);
	/* A reset may change the configuration space: re-read it. */
	if (!vmsg_reset_locked(vmdev))
		vmsg_fetch_config(vmdev);
	mutex_unlock(&vmdev->chan.lock);
}

static void vmsg_set_status(struct virtio_device *vdev, u8 status)
{
	struct virtio_msg_device *vmdev = to_vmsg_dev(vdev);
	bool needs_reset = false;
	unsigned long flags;
	u32 reported;

	/* The virtio core resets through reset(); be tolerant anyway. */
	if (!status) {
		vmsg_reset(vdev);
		return;
	}
	/* The device's bit, never the driver's to write. */
	status &= ~VIRTIO_CONFIG_S_NEEDS_RESET;

	mutex_lock(&vmdev->chan.lock);
	/* The driver runs the device from now on, whatever the reply. */
	if (status & VIRTIO_CONFIG_S_DRIVER_OK) {
		spin_lock_irqsave(&vmdev->state_lock, flags);
		WRITE_ONCE(vmdev->driver_ok, true);
		spin_unlock_irqrestore(&vmdev->state_lock, flags);
	}
	if (!vmsg_send_status(vmdev, status, &reported)) {
		spin_lock_irqsave(&vmdev->state_lock, flags);
		WRITE_ONCE(vmdev->status, vmsg_sane_status(status, reported));
		needs_reset = vmsg_take_needs_reset(vmdev, reported);
		spin_unlock_irqrestore(&vmdev->state_lock, flags);
		if ((status & VIRTIO_CONFIG_S_DRIVER_OK) &&
		    !vmdev->stats.probe_round_trips)
			vmdev->stats.probe_round_trips =
				atomic_long_read(&vmdev->stats.requests);
	}
	mutex_unlock(&vmdev->chan.lock);
	if (needs_reset)
		vmsg_needs_reset(vmdev);
}

/**
 * vmsg_dev_policy() - what a bus lets through for a device type
 * @bus: the bus
 * @device_id: virtio device ID
 *
 * Context: any.
 * Return: the bus's entry for @device_id (the instance's list first,
 * else the descriptor's), or NULL when the bus lists device types and
 * @device_id is not among them. A bus that lists none
 * lets every type through with every feature and any queue size: a static
 * entry says so.
 */
const struct virtio_msg_device_policy *
vmsg_dev_policy(const struct virtio_msg_bus *bus, u32 device_id)
{
	static const struct virtio_msg_device_policy any = {
		.features = U64_MAX,
	};
	const struct virtio_msg_device_policy *p =
		bus->devices ?: bus->desc->devices;

	if (!p)
		return &any;
	for (; p->device_id; p++)
		if (p->device_id == device_id)
			return p;
	return NULL;
}

/*
 * The bits the bus lets through with @features offered or negotiated: the
 * type's features, less those that make the driver's chains a
 * device-chosen length unless @features has indirect descriptors (with
 * them every chain takes one ring entry).
 */
static u64 vmsg_allowed_features(struct virtio_msg_device *vmdev,
				 u64 features)
{
	const struct virtio_msg_device_policy *p =
		vmsg_dev_policy(vmdev->core->bus, vmdev->device_id);

	/* vmsg_dev_create() refused the device otherwise. */
	if (!p)
		return 0;
	if (!(features & BIT_ULL(VIRTIO_RING_F_INDIRECT_DESC)))
		return p->features & ~p->indirect_features;
	return p->features;
}

static u64 vmsg_get_features(struct virtio_device *vdev)
{
	struct virtio_msg_device *vmdev = to_vmsg_dev(vdev);
	unsigned int i, blocks = vmsg_feature_blocks(vmdev);
	struct virtio_msg_features *f;
	u64 features = 0;

	if (!blocks)
		return 0;
	mutex_lock(&vmdev->chan.lock);
	f = vmsg_start(vmdev, VIRTIO_MSG_GET_DEVICE_FEATURES, sizeof(*f));
	if (f) {
		f->block_index = 0;
		f->num_blocks = cpu_to_le32(blocks);
		if (!vmsg_call(vmdev)) {
			/* The response echoes num_blocks: all blocks present. */
			f = vmsg_resp(vmdev);
			for (i = 0; i < blocks; i++)
				features |= (u64)le32_to_cpu(f->features[i]) <<
					    (32 * i);
		}
	}
	mutex_unlock(&vmdev->chan.lock);
	/* What the bus does not let through, the driver never sees. */
	return features & vmsg_allowed_features(vmdev, features);
}

static int vmsg_finalize_features(struct virtio_device *vdev)
{
	struct virtio_msg_device *vmdev = to_vmsg_dev(vdev);
	unsigned int i, blocks = vmsg_feature_blocks(vmdev);
	struct virtio_msg_features *f;
	u64 allowed;
	int ret;

	vring_transport_features(vdev);
	/* Out-of-band doorbells cannot carry the notification data. */
	if (vmdev->core->bus->desc->flags &
	    VIRTIO_MSG_BUS_F_NO_NOTIFICATION_DATA)
		__virtio_clear_bit(vdev, VIRTIO_F_NOTIFICATION_DATA);

	if (!__virtio_test_bit(vdev, VIRTIO_F_VERSION_1)) {
		dev_err(&vdev->dev, "device does not offer VIRTIO_F_VERSION_1\n");
		return -EINVAL;
	}
	/* The bus sees driver memory only through its DMA device. */
	if ((vmdev->core->bus->desc->flags &
	     VIRTIO_MSG_BUS_F_ACCESS_PLATFORM) &&
	    !__virtio_test_bit(vdev, VIRTIO_F_ACCESS_PLATFORM)) {
		dev_err(&vdev->dev,
			"device does not offer VIRTIO_F_ACCESS_PLATFORM\n");
		return -EINVAL;
	}
	/* Judged on the bits negotiated, as they were when offered. */
	allowed = vmsg_allowed_features(vmdev, vdev->features);
	if (vdev->features & ~allowed) {
		dev_err(&vdev->dev, "features 0x%llx are not allowed on this bus\n",
			vdev->features & ~allowed);
		return -EINVAL;
	}

	if (mutex_lock_killable(&vmdev->chan.lock))
		return -EINTR;
	f = vmsg_start(vmdev, VIRTIO_MSG_SET_DRIVER_FEATURES,
		       sizeof(*f) + blocks * sizeof(f->features[0]));
	if (!f) {
		ret = -EINVAL;
		goto out;
	}
	f->block_index = 0;
	f->num_blocks = cpu_to_le32(blocks);
	for (i = 0; i < blocks; i++)
		f->features[i] = cpu_to_le32(vdev->features >> (32 * i));
	ret = vmsg_call(vmdev);
out:
	mutex_unlock(&vmdev->chan.lock);
	return ret;
}

/*
 * Notifications. virtqueue_kick() may run in any context, so the kick is
 * sent with the bus's atomic send_event or notify_vq op under kick_lock.
 * When the bus has no room (-EAGAIN), or has no atomic op, the kick is
 * remembered per virtqueue, with the latest notification data, and sent
 * from kick_work: later kicks of the same queue coalesce into it, and none
 * is lost.
 *
 * Some drivers spin with interrupts disabled until the device has used
 * the buffer they just kicked for (virtio_console's hvc output does), so
 * the deferred kick must not depend on the kicking CPU: kick_work runs on
 * an unbound workqueue, and waits between retries by sleeping in the work
 * item rather than on a timer, which would fire on the spinning CPU.
 *
 * A kick is never dropped: -EAGAIN and -EBUSY from the bus are transient
 * and the kick is kept; any other error breaks the device, so that the
 * driver sees it instead of waiting for an answer that cannot come.
 */
static bool vmsg_kick_transient(int err)
{
	return err == -EAGAIN || err == -EBUSY;
}

static u32 vmsg_notification_data(struct virtqueue *vq)
{
	/* vring_notification_data(): next (16 bits) << 16 | queue index. */
	u32 next = vring_notification_data(vq) >> 16;

	/* Split rings: the 16-bit avail index, as it is. */
	if (!virtio_has_feature(vq->vdev, VIRTIO_F_RING_PACKED))
		return next;
	/* Packed rings: offset in bits 14:0, wrap counter moves to bit 31. */
	return (next & 0x7fff) | ((next & 0x8000) ? VIRTIO_MSG_AVAIL_WRAP : 0);
}

static bool vmsg_kick_atomic(struct virtio_msg_device *vmdev)
{
	const struct virtio_msg_bus_desc *desc = vmdev->core->bus->desc;

	return (desc->flags & VIRTIO_MSG_BUS_F_OOB_NOTIFY) ||
	       desc->ops->send_event;
}

static void vmsg_build_avail(struct virtio_msg_device *vmdev,
			     struct virtio_msg_hdr *msg, size_t size,
			     u32 index, u32 data)
{
	struct virtio_msg_event_avail *e;

	virtio_msg_init_request(msg, size, VIRTIO_MSG_EVENT_AVAIL,
				vmdev->dev_num, sizeof(*e));
	e = virtio_msg_payload(msg);
	e->vq_index = cpu_to_le32(index);
	e->next_offset = cpu_to_le32(data);
}

/* Send a kick with an op that does not sleep; kick_lock held. */
static int vmsg_kick_send_atomic(struct virtio_msg_device *vmdev, u32 index,
				 u32 data)
{
	struct virtio_msg_bus *bus = vmdev->core->bus;
	struct {
		struct virtio_msg_hdr hdr;
		struct virtio_msg_event_avail avail;
	} msg;
	int ret;

	lockdep_assert_held(&vmdev->kick_lock);
	if (bus->desc->flags & VIRTIO_MSG_BUS_F_OOB_NOTIFY)
		return bus->desc->ops->notify_vq(bus, vmdev->dev_num, index,
						 data);

	vmsg_build_avail(vmdev, &msg.hdr, sizeof(msg), index, data);
	ret = bus->desc->ops->send_event(bus, &msg.hdr);
	trace_virtio_msg_send(bus, &msg.hdr, ret);
	if (!ret)
		atomic_long_inc(&vmdev->stats.sent[VMSG_STAT_EVENT_AVAIL]);
	return ret;
}

/* Keep a kick for kick_work; kick_lock held. */
static void vmsg_kick_defer(struct virtio_msg_device *vmdev, u32 index)
{
	__set_bit(index, vmdev->kick_pending);
	atomic_long_inc(&vmdev->stats.kicks_deferred);
	queue_work(vmsg_wq, &vmdev->kick_work);
}

/*
 * A kick failed for good; kick_lock held, so cb_lock is out of reach.
 * Returns whether the core answers for the device from now on.
 */
static bool vmsg_kick_failed(struct virtio_msg_device *vmdev)
{
	bool standin = vmsg_standin_arm(vmdev);

	WRITE_ONCE(vmdev->broken, true);
	queue_work(vmsg_wq, &vmdev->break_work);
	return standin;
}

static bool vmsg_notify(struct virtqueue *vq)
{
	struct virtio_msg_device *vmdev = to_vmsg_dev(vq->vdev);
	unsigned int index = vq->index;
	unsigned long flags;
	bool ok = true;
	u32 data = 0;
	int ret;

	if (READ_ONCE(vmdev->broken))
		return vmsg_standin_kick(vmdev);
	if (__virtio_test_bit(vq->vdev, VIRTIO_F_NOTIFICATION_DATA))
		data = vmsg_notification_data(vq);

	spin_lock_irqsave(&vmdev->kick_lock, flags);
	if (index >= vmdev->nvqs) {
		/* Only queues set up by find_vqs() can be kicked. */
		ok = false;
		goto out;
	}
	vmdev->vqs[index].kick_data = data;
	if (test_bit(index, vmdev->kick_pending)) {
		/* Coalesced into the pending kick, which sends @data. */
		atomic_long_inc(&vmdev->stats.kicks_coalesced);
		goto out;
	}
	if (!vmsg_kick_atomic(vmdev)) {
		vmsg_kick_defer(vmdev, index);
		goto out;
	}
	ret = vmsg_kick_send_atomic(vmdev, index, data);
	if (vmsg_kick_transient(ret)) {
		vmsg_kick_defer(vmdev, index);
	} else if (ret) {
		/*
		 * virtqueue_notify() breaks this queue, and the others follow;
		 * unless the core answers for the device, this chain included.
		 */
		ok = vmsg_kick_failed(vmdev);
	}
out:
	spin_unlock_irqrestore(&vmdev->kick_lock, flags);
	return ok;
}

/*
 * Send the deferred kicks with the atomic op. Returns -EAGAIN if the bus
 * is still full, 0 once nothing is pending, or the error that makes the
 * remaining kicks pointless.
 */
static int vmsg_kick_flush_atomic(struct virtio_msg_device *vmdev)
{
	unsigned long flags;
	unsigned int index;
	int ret = 0;

	spin_lock_irqsave(&vmdev->kick_lock, flags);
	for_each_set_bit(index, vmdev->kick_pending, vmdev->nvqs) {
		ret = vmsg_kick_send_atomic(vmdev, index,
					    vmdev->vqs[index].kick_data);
		if (vmsg_kick_transient(ret)) {
			ret = -EAGAIN;
			break;
		}
		if (ret)
			break;
		__clear_bit(index, vmdev->kick_pending);
	}
	spin_unlock_irqrestore(&vmdev->kick_lock, flags);
	return ret;
}

/*
 * Send the deferred kicks with the send op, which may sleep: one at a
 * time, taken out from under the lock. Returns as the above.
 */
static int vmsg_kick_flush_send(struct virtio_msg_device *vmdev)
{
	struct {
		struct virtio_msg_hdr hdr;
		struct virtio_msg_event_avail avail;
	} msg;
	unsigned int index, rounds;
	unsigned long flags;
	u32 data;
	int ret;

	/* Bounded: a queue kicked again meanwhile waits for the next pass. */
	for (rounds = 0; rounds <= vmdev->nvqs; rounds++) {
		spin_lock_irqsave(&vmdev->kick_lock, flags);
		index = vmdev->kick_pending ?
			find_first_bit(vmdev->kick_pending, vmdev->nvqs) :
			vmdev->nvqs;
		if (index >= vmdev->nvqs) {
			spin_unlock_irqrestore(&vmdev->kick_lock, flags);
			return 0;
		}
		__clear_bit(index, vmdev->kick_pending);
		data = vmdev->vqs[index].kick_data;
		spin_unlock_irqrestore(&vmdev->kick_lock, flags);

		vmsg_build_avail(vmdev, &msg.hdr, sizeof(msg), index, data);
		ret = vmsg_send(vmdev->core, &vmdev->stats, &msg.hdr);
		if (vmsg_kick_transient(ret)) {
			spin_lock_irqsave(&vmdev->kick_lock, flags);
			/* A newer kick may have set it again: same effect. */
			if (index < vmdev->nvqs) {
				__set_bit(index, vmdev->kick_pending);
				atomic_long_inc(&vmdev->stats.kicks_deferred);
			}
			spin_unlock_irqrestore(&vmdev->kick_lock, flags);
			return -EAGAIN;
		}
		if (ret)
			return ret;
	}
	return 0;
}

static void vmsg_kick_work(struct work_struct *work)
{
	struct virtio_msg_device *vmdev =
		container_of(work, struct virtio_msg_device, kick_work);
	unsigned int wait_us = VMSG_KICK_RETRY_MIN_US;
	unsigned long flags;
	bool more;
	int ret;

	/*
	 * Until everything is sent, or there is nothing left to send for:
	 * the device broke, was reset (pending kicks dropped) or lost its
	 * queues (del_vqs() empties the bitmap before it waits for us).
	 */
	for (;;) {
		if (READ_ONCE(vmdev->broken))
			return;
		if (vmsg_kick_atomic(vmdev))
			ret = vmsg_kick_flush_atomic(vmdev);
		else
			ret = vmsg_kick_flush_send(vmdev);
		if (ret && ret != -EAGAIN) {
			vmsg_dev_break(vmdev, "notification failed");
			return;
		}
		if (!ret)
			break;
		/* The bus is full: back off, up to a limit. */
		usleep_range(wait_us, 2 * wait_us);
		wait_us = min(2 * wait_us, VMSG_KICK_RETRY_MAX_US);
	}

	/* Kicks kept coming while sending: see to them in a new run. */
	spin_lock_irqsave(&vmdev->kick_lock, flags);
	more = vmdev->kick_pending &&
	       !bitmap_empty(vmdev->kick_pending, vmdev->nvqs);
	if (more)
		queue_work(vmsg_wq, &vmdev->kick_work);
	spin_unlock_irqrestore(&vmdev->kick_lock, flags);
}

/**
 * vmsg_dev_tx_ready() - resend deferred kicks now
 * @vmdev: the device
 *
 * Context: any.
 */
void vmsg_dev_tx_ready(struct virtio_msg_device *vmdev)
{
	unsigned long flags;

	spin_lock_irqsave(&vmdev->kick_lock, flags);
	if (vmdev->kick_pending && !bitmap_empty(vmdev->kick_pending, vmdev->nvqs))
		queue_work(vmsg_wq, &vmdev->kick_work);
	spin_unlock_irqrestore(&vmdev->kick_lock, flags);
}

/* GET_VQUEUE; chan.lock held. */
static int vmsg_get_vqueue_locked(struct virtio_msg_device *vmdev, u32 index,
				  struct virtio_msg_vq_info *info)
{
	struct virtio_msg_vqueue_index *q;
	int ret;

	q = vmsg_start(vmdev, VIRTIO_MSG_GET_VQUEUE, sizeof(*q));
	if (!q)
		return -EINVAL;
	q->index = cpu_to_le32(index);
	ret = vmsg_call(vmdev);
	if (!ret)
		virtio_msg_parse_vqueue(vmdev->resp_buf, vmdev->wire, info);
	return ret;
}

/*
 * What a queue must look like before it is programmed: present, and in
 * v2 not live (a live queue belongs to someone else, or was not reset).
 */
static int vmsg_get_vqueue(struct virtio_msg_device *vmdev, u32 index,
			   u32 *max_size)
{
	struct virtio_msg_vq_info info;
	int ret;

	mutex_lock(&vmdev->chan.lock);
	ret = vmsg_get_vqueue_locked(vmdev, index, &info);
	mutex_unlock(&vmdev->chan.lock);
	if (ret)
		return ret;
	if (info.enabled) {
		dev_warn_ratelimited(vmsg_parent(vmdev),
				     "device %u: queue %u is enabled before set-up\n",
				     vmdev->dev_num, index);
		return -EBUSY;
	}
	*max_size = info.max_size;
	return 0;
}

/*
 * Tell the bus where @vq's rings are (@vq non-NULL), or that the rings of
 * queue @index are going away (@vq NULL).
 */
static int vmsg_queue_layout(struct virtio_msg_device *vmdev, u32 index,
			     struct virtqueue *vq)
{
	const struct virtio_msg_bus_ops *ops = vmdev->core->bus->desc->ops;
	struct virtio_msg_queue_layout layout = {};
	u64 num;

	if (!ops->queue_layout)
		return 0;
	if (!vq) {
		ops->queue_layout(vmdev->core->bus, vmdev->dev_num, index, NULL);
		return 0;
	}

	num = virtqueue_get_vring_size(vq);
	layout.num = num;
	layout.packed = virtio_has_feature(vq->vdev, VIRTIO_F_RING_PACKED);
	layout.desc = virtqueue_get_desc_addr(vq);
	layout.driver = virtqueue_get_avail_addr(vq);
	layout.device = virtqueue_get_used_addr(vq);
	if (layout.packed) {
		layout.desc_size = num * sizeof(struct vring_packed_desc);
		layout.driver_size = sizeof(struct vring_packed_desc_event);
		layout.device_size = sizeof(struct vring_packed_desc_event);
	} else {
		/* flags, idx, ring[num] and the trailing event index. */
		layout.desc_size = num * sizeof(struct vring_desc);
		layout.driver_size = sizeof(struct vring_avail) +
				     (num + 1) * sizeof(__virtio16);
		layout.device_size = sizeof(struct vring_used) +
				     num * sizeof(struct vring_used_elem) +
				     sizeof(__virtio16);
	}
	return ops->queue_layout(vmdev->core->bus, vmdev->dev_num, index,
				 &layout);
}

/*
 * SET_VQUEUE, after telling the bus where the rings are, and in v2 the
 * GET_VQUEUE read-back: the device must show the queue enabled with the
 * size and addresses it was given. A mismatch fails the set-up; the
 * caller resets the device (or the queue) before the rings are freed,
 * since the device may know where they are.
 */
static int vmsg_set_vqueue(struct virtio_msg_device *vmdev,
			   struct virtqueue *vq)
{
	struct virtio_msg_vq_info want = {
		.index = vq->index,
		.size = virtqueue_get_vring_size(vq),
		.enabled = true,
		.desc_addr = virtqueue_get_desc_addr(vq),
		.driver_addr = virtqueue_get_avail_addr(vq),
		.device_addr = virtqueue_get_used_addr(vq),
	};
	struct virtio_msg_vq_info got;
	int ret;

	ret = vmsg_queue_layout(vmdev, vq->index, vq);
	if (ret)
		return ret;

	mutex_lock(&vmdev->chan.lock);
	ret = virtio_msg_build_set_vqueue(vmdev->req_buf, vmdev->max_msg,
					  vmdev->wire, vmdev->dev_num, &want);
	if (WARN_ON_ONCE(ret < 0)) {
		ret = -EINVAL;
		goto out;
	}
	ret = vmsg_call(vmdev);
	if (ret || vmdev->wire != VIRTIO_MSG_WIRE_V2)
		goto out;

	ret = vmsg_get_vqueue_locked(vmdev, vq->index, &got);
	if (ret)
		goto out;
	if (!got.enabled || got.size != want.size ||
	    got.desc_addr != want.desc_addr ||
	    got.driver_addr != want.driver_addr ||
	    got.device_addr != want.device_addr) {
		dev_warn_ratelimited(vmsg_parent(vmdev),
				     "device %u: queue %u read back %s\n",
				     vmdev->dev_num, vq->index,
				     got.enabled ? "with other values" :
						   "not enabled");
		ret = -EIO;
	}
out:
	mutex_unlock(&vmdev->chan.lock);
	return ret;
}

/* RESET_VQUEUE. */
static int vmsg_reset_vqueue(struct virtio_msg_device *vmdev, u32 index)
{
	struct virtio_msg_vqueue_index *q;
	int ret;

	mutex_lock(&vmdev->chan.lock);
	q = vmsg_start(vmdev, VIRTIO_MSG_RESET_VQUEUE, sizeof(*q));
	if (q) {
		q->index = cpu_to_le32(index);
		ret = vmsg_call(vmdev);
	} else {
		ret = -EINVAL;
	}
	mutex_unlock(&vmdev->chan.lock);
	return ret;
}

/*
 * Detach the buffers the driver left in @vq: virtio-blk fails the
 * requests of a broken device without taking their buffers back, whose
 * mappings and indirect descriptor tables would otherwise leak. The
 * driver gave them up, so their memory may be in use again: this is done
 * only where ending a mapping copies nothing into it.
 */
static void vmsg_drop_unused_bufs(struct virtio_msg_device *vmdev,
				  struct virtqueue *vq)
{
	struct vmsg_dma_ctx *ctx = NULL;

	if (vmdev->win_dev)
		ctx = vmsg_dma_dev_ctx(vmdev->win_dev);
	else if (!vmdev->dma_dev_set ||
		 !(vmdev->core->bus->desc->flags & VIRTIO_MSG_BUS_F_DMA_NO_COPY))
		return;

	if (ctx)
		vmsg_dma_abandon(ctx, true);
	while (virtqueue_detach_unused_buf(vq))
		;
	if (ctx)
		vmsg_dma_abandon(ctx, false);
}

/*
 * Free every virtqueue of @vmdev; the device was reset (or is broken) and
 * no longer uses the rings.
 */
static void vmsg_free_vqs(struct virtio_msg_device *vmdev)
{
	struct virtqueue *vq, *tmp;

	list_for_each_entry_safe(vq, tmp, &vmdev->vdev.vqs, list) {
		vmsg_queue_layout(vmdev, vq->index, NULL);
		vmsg_drop_unused_bufs(vmdev, vq);
		vring_del_virtqueue(vq);
	}
}

/*
 * Without indirect descriptors a chain takes one ring entry per segment,
 * and virtio_ring WARNs on a chain longer than the ring: refuse a queue
 * too small for the longest chain the driver of this type posts. The
 * size checked is the one virtio_ring made, which may be smaller than
 * asked for. Queues with a context never use indirect descriptors
 * (vq->indirect is false), but their drivers post short chains on them
 * (virtio-net's mergeable and small receive buffers), so the feature
 * negotiated is what counts.
 */
static int vmsg_check_vq_size(struct virtio_msg_device *vmdev,
			      struct virtqueue *vq)
{
	const struct virtio_msg_device_policy *p =
		vmsg_dev_policy(vmdev->core->bus, vmdev->device_id);
	unsigned int size = virtqueue_get_vring_size(vq);

	if (!p || size >= p->min_queue_size ||
	    virtio_has_feature(&vmdev->vdev, VIRTIO_RING_F_INDIRECT_DESC))
		return 0;
	dev_err_ratelimited(vmsg_parent(vmdev),
			    "device %u: queue %u has %u entries, fewer than the %u needed without indirect descriptors\n",
			    vmdev->dev_num, vq->index, size, p->min_queue_size);
	return -ENOSPC;
}

static struct virtqueue *vmsg_setup_vq(struct virtio_msg_device *vmdev,
				       unsigned int index,
				       struct virtqueue_info *info)
{
	struct virtqueue *vq;
	u32 num;
	int ret;

	if (index >= vmdev->max_vqs)
		return ERR_PTR(-ENOENT);
	ret = vmsg_get_vqueue(vmdev, index, &num);
	if (ret)
		return ERR_PTR(ret);
	if (!num)
		return ERR_PTR(-ENOENT);	/* the queue does not exist */

	num = min_t(u32, num, VMSG_VQ_SIZE_MAX);
	/* Split rings need a power of two; the device's is a maximum. */
	if (!virtio_has_feature(&vmdev->vdev, VIRTIO_F_RING_PACKED))
		num = rounddown_pow_of_two(num);

	vq = vring_create_virtqueue(index, num, SMP_CACHE_BYTES, &vmdev->vdev,
				    true, true, info->ctx, vmsg_notify,
				    info->callback, info->name);
	if (!vq)
		return ERR_PTR(-ENOMEM);

	/* Before SET_VQUEUE: the device never hears of a refused queue. */
	ret = vmsg_check_vq_size(vmdev, vq);
	if (ret) {
		vring_del_virtqueue(vq);
		return ERR_PTR(ret);
	}

	/*
	 * On failure the queue stays on the device's list: the caller resets
	 * the device, which may have heard of the rings, before freeing them.
	 */
	ret = vmsg_set_vqueue(vmdev, vq);
	if (ret)
		return ERR_PTR(ret);
	return vq;
}

static void vmsg_del_vqs(struct virtio_device *vdev)
{
	struct virtio_msg_device *vmdev = to_vmsg_dev(vdev);
	unsigned long *pending;
	struct vmsg_vq *vqs;
	unsigned long flags;

	/*
	 * The rings are about to be freed: a device that may still use them
	 * is reset first (drivers normally did that already).
	 */
	if (READ_ONCE(vmdev->status)) {
		mutex_lock(&vmdev->chan.lock);
		vmsg_reset_locked(vmdev);
		mutex_unlock(&vmdev->chan.lock);
	}

	/* Unpublished under both locks: no callback or kick runs after. */
	spin_lock_irqsave(&vmdev->cb_lock, flags);
	spin_lock(&vmdev->kick_lock);
	vqs = vmdev->vqs;
	pending = vmdev->kick_pending;
	vmdev->vqs = NULL;
	vmdev->kick_pending = NULL;
	vmdev->nvqs = 0;
	spin_unlock(&vmdev->kick_lock);
	spin_unlock_irqrestore(&vmdev->cb_lock, flags);
	cancel_work_sync(&vmdev->kick_work);

	vmsg_free_vqs(vmdev);
	kfree(vqs);
	bitmap_free(pending);
}

static int vmsg_find_vqs(struct virtio_device *vdev, unsigned int nvqs,
			 struct virtqueue *vqs[],
			 struct virtqueue_info vqs_info[],
			 struct irq_affinity *desc)
{
	struct virtio_msg_device *vmdev = to_vmsg_dev(vdev);
	unsigned int i, named = 0, index = 0;
	unsigned long *pending;
	struct vmsg_vq *slots;
	unsigned long flags;
	int ret;

	for (i = 0; i < nvqs; i++)
		if (vqs_info[i].name)
			named++;
	if (named > vmdev->max_vqs)
		return -ENOENT;

	slots = kcalloc(named, sizeof(*slots), GFP_KERNEL);
	pending = bitmap_zalloc(named, GFP_KERNEL);
	if (!slots || !pending) {
		ret = -ENOMEM;
		goto err_free;
	}

	for (i = 0; i < nvqs; i++) {
		if (!vqs_info[i].name) {
			vqs[i] = NULL;
			continue;
		}
		vqs[i] = vmsg_setup_vq(vmdev, index, &vqs_info[i]);
		if (IS_ERR(vqs[i])) {
			ret = PTR_ERR(vqs[i]);
			goto err_del;
		}
		slots[index++].vq = vqs[i];
	}

	/*
	 * Published with @broken checked under cb_lock, which breakage takes
	 * too: a device that broke at any point has these queues broken.
	 */
	spin_lock_irqsave(&vmdev->cb_lock, flags);
	spin_lock(&vmdev->kick_lock);
	vmdev->vqs = slots;
	vmdev->kick_pending = pending;
	vmdev->nvqs = named;
	spin_unlock(&vmdev->kick_lock);
	if (READ_ONCE(vmdev->standin)) {
		queue_work(vmsg_wq, &vmdev->standin_work);
	} else if (READ_ONCE(vmdev->broken)) {
		vmsg_break_vqs_locked(vmdev);
		queue_work(vmsg_wq, &vmdev->broken_cb_work);
	}
	spin_unlock_irqrestore(&vmdev->cb_lock, flags);
	return 0;

err_del:
	/* The device may know where the rings are: reset it first. */
	mutex_lock(&vmdev->chan.lock);
	vmsg_reset_locked(vmdev);
	mutex_unlock(&vmdev->chan.lock);
	vmsg_free_vqs(vmdev);
err_free:
	kfree(slots);
	bitmap_free(pending);
	return ret;
}

static void vmsg_synchronize_cbs(struct virtio_device *vdev)
{
	struct virtio_msg_device *vmdev = to_vmsg_dev(vdev);
	unsigned long flags;

	/* EVENT_USED runs callbacks under cb_lock: wait for one to end. */
	spin_lock_irqsave(&vmdev->cb_lock, flags);
	spin_unlock_irqrestore(&vmdev->cb_lock, flags);
}

static const char *vmsg_bus_name(struct virtio_device *vdev)
{
	return to_vmsg_dev(vdev)->core->bus->desc->name;
}

/*
 * Shared memory regions are the device's memory, named by an address only
 * the bus can interpret: without the bus's shm_region op, drivers would
 * map whatever physical range the device names, so the core reports none,
 * unless the bus's window has a part for them, in which the core checks
 * and translates the address itself.
 */
static int vmsg_translate_shm(struct virtio_msg_device *vmdev, u8 id,
			      u64 *addr, u64 len)
{
	struct virtio_msg_bus *bus = vmdev->core->bus;

	if (bus->desc->ops->shm_region)
		return bus->desc->ops->shm_region(bus, vmdev->dev_num, id,
						  addr, len);
	return vmsg_dma_shm_translate(vmdev->core->window, addr, len);
}

static bool vmsg_get_shm_region(struct virtio_device *vdev,
				struct virtio_shm_region *region, u8 id)
{
	struct virtio_msg_device *vmdev = to_vmsg_dev(vdev);
	struct virtio_msg_bus *bus = vmdev->core->bus;
	struct virtio_msg_vqueue_index *q;
	u64 addr = 0, len = 0;

	if (!bus->desc->ops->shm_region && !vmdev->core->window)
		return false;
	mutex_lock(&vmdev->chan.lock);
	q = vmsg_start(vmdev, VIRTIO_MSG_GET_SHM, sizeof(*q));
	if (q) {
		q->index = cpu_to_le32(id);
		/* 32-bit fields in v1, 64-bit in v2. */
		if (!vmsg_call(vmdev))
			virtio_msg_parse_shm(vmdev->resp_buf, vmdev->wire,
					     &addr, &len);
	}
	mutex_unlock(&vmdev->chan.lock);
	/* Length 0: the region does not exist. */
	if (!len || vmsg_translate_shm(vmdev, id, &addr, len))
		return false;
	region->addr = addr;
	region->len = len;
	return true;
}

static int vmsg_disable_vq_and_reset(struct virtqueue *vq)
{
	struct virtio_msg_device *vmdev = to_vmsg_dev(vq->vdev);
	unsigned long flags;
	int ret;

	if (!virtio_has_feature(vq->vdev, VIRTIO_F_RING_RESET))
		return -ENOENT;

	ret = vmsg_reset_vqueue(vmdev, vq->index);
	if (ret)
		return ret;

	/* No callback for it once this returns, and no deferred kick. */
	spin_lock_irqsave(&vmdev->cb_lock, flags);
	vq->reset = true;
	spin_unlock_irqrestore(&vmdev->cb_lock, flags);
	spin_lock_irqsave(&vmdev->kick_lock, flags);
	if (vq->index < vmdev->nvqs)
		__clear_bit(vq->index, vmdev->kick_pending);
	spin_unlock_irqrestore(&vmdev->kick_lock, flags);
	return 0;
}

static int vmsg_enable_vq_after_reset(struct virtqueue *vq)
{
	struct virtio_msg_device *vmdev = to_vmsg_dev(vq->vdev);
	unsigned long flags;
	u32 max_size;
	int ret;

	if (!vq->reset)
		return -EBUSY;
	/* The same sequence as at set-up: inactive, then program, then check. */
	if (vmdev->wire == VIRTIO_MSG_WIRE_V2) {
		ret = vmsg_get_vqueue(vmdev, vq->index, &max_size);
		if (ret)
			return ret;
	}
	/* The ring may have been resized or moved: program it again. */
	ret = vmsg_set_vqueue(vmdev, vq);
	if (ret) {
		/* The device may have taken the ring: make it let go. */
		if (vmdev->wire == VIRTIO_MSG_WIRE_V2)
			vmsg_reset_vqueue(vmdev, vq->index);
		return ret;
	}
	spin_lock_irqsave(&vmdev->cb_lock, flags);
	vq->reset = false;
	spin_unlock_irqrestore(&vmdev->cb_lock, flags);
	return 0;
}

static const struct virtio_config_ops vmsg_config_ops = {
	.get			= vmsg_get,
	.set			= vmsg_set,
	.generation		= vmsg_generation,
	.get_status		= vmsg_get_status,
	.set_status		= vmsg_set_status,
	.reset			= vmsg_reset,
	.find_vqs		= vmsg_find_vqs,
	.del_vqs		= vmsg_del_vqs,
	.synchronize_cbs	= vmsg_synchronize_cbs,
	.get_features		= vmsg_get_features,
	.finalize_features	= vmsg_finalize_features,
	.bus_name		= vmsg_bus_name,
	.get_shm_region		= vmsg_get_shm_region,
	.disable_vq_and_reset	= vmsg_disable_vq_and_reset,
	.enable_vq_after_reset	= vmsg_enable_vq_after_reset,
};

/* Inbound events, from any context. */

/* Run the interrupt of one virtqueue, or of all; cb_lock held. */
static bool vmsg_vq_interrupts_locked(struct virtio_msg_device *vmdev,
				      u32 index)
{
	struct virtqueue *vq;
	unsigned int i;

	lockdep_assert_held(&vmdev->cb_lock);
	if (index == VIRTIO_MSG_ALL_VQS) {
		for (i = 0; i < vmdev->nvqs; i++) {
			vq = vmdev->vqs[i].vq;
			if (vq && !vq->reset)
				vring_interrupt(0, vq);
		}
		return true;
	}
	if (index >= vmdev->nvqs)
		return false;
	index = array_index_nospec(index, vmdev->nvqs);
	vq = vmdev->vqs[index].vq;
	if (vq && !vq->reset)
		vring_interrupt(0, vq);
	return true;
}

/*
 * The core owns the context rule for callbacks: vring_interrupt() runs
 * the driver's callback, which may raise softirqs (NAPI), so from process
 * context bottom halves are disabled around it and run on the way out.
 * With interrupts disabled they wait for the next interrupt exit, as
 * local_bh_enable() must not run there. Buses need not disable anything.
 * Returns false if @vq_index names no virtqueue of the device.
 */
static bool __vmsg_dev_notify_used(struct virtio_msg_device *vmdev,
				   u32 vq_index)
{
	unsigned long flags;
	bool bh, ok;

	if (READ_ONCE(vmdev->state) != VMSG_DEV_LIVE) {
		atomic_long_inc(&vmdev->stats.events_dropped);
		return true;
	}
	bh = !in_hardirq() && !irqs_disabled();
	if (bh)
		local_bh_disable();
	spin_lock_irqsave(&vmdev->cb_lock, flags);
	ok = vmsg_vq_interrupts_locked(vmdev, vq_index);
	spin_unlock_irqrestore(&vmdev->cb_lock, flags);
	if (bh)
		local_bh_enable();
	return ok;
}

/**
 * vmsg_dev_notify_used() - run virtqueue interrupts of a device
 * @vmdev: the device
 * @vq_index: the virtqueue, or VIRTIO_MSG_ALL_VQS
 *
 * Context: any.
 */
void vmsg_dev_notify_used(struct virtio_msg_device *vmdev, u32 vq_index)
{
	__vmsg_dev_notify_used(vmdev, vq_index);
}

/**
 * vmsg_dev_poll() - look for anything a device did
 * @vmdev: the device
 *
 * Every virtqueue interrupt runs, and the configuration space is read
 * again from a work item; the driver hears of it only if it changed.
 *
 * Context: any.
 */
void vmsg_dev_poll(struct virtio_msg_device *vmdev)
{
	__vmsg_dev_notify_used(vmdev, VIRTIO_MSG_ALL_VQS);
	if (READ_ONCE(vmdev->state) == VMSG_DEV_LIVE)
		queue_work(vmsg_wq, &vmdev->config_work);
}

/**
 * vmsg_dev_get_state() - what the driver side made of a device
 * @vmdev: the device
 * @vq_index: the virtqueue whose set-up goes into @st->vq
 * @st: filled in
 *
 * Reads the cached state only, under @vmdev->state_lock and
 * @vmdev->cb_lock, never asking the device: the caller may be the very
 * device side that would have to answer.
 *
 * Context: any; the caller keeps @vmdev alive (RCU or a reference).
 */
void vmsg_dev_get_state(struct virtio_msg_device *vmdev, u32 vq_index,
			struct virtio_msg_device_state *st)
{
	struct virtqueue *vq = NULL;
	unsigned long flags;

	memset(st, 0, sizeof(*st));
	st->device_id = vmdev->device_id;
	spin_lock_irqsave(&vmdev->state_lock, flags);
	st->status = vmdev->status |
		     (vmdev->needs_reset ? VIRTIO_CONFIG_S_NEEDS_RESET : 0);
	st->config_generation = vmdev->dev_generation;
	spin_unlock_irqrestore(&vmdev->state_lock, flags);
	/* Negotiation is over once the device took FEATURES_OK. */
	if (st->status & VIRTIO_CONFIG_S_FEATURES_OK)
		st->features = READ_ONCE(vmdev->vdev.features);

	spin_lock_irqsave(&vmdev->cb_lock, flags);
	st->broken = READ_ONCE(vmdev->broken);
	st->num_queues = vmdev->nvqs;
	if (vq_index < vmdev->nvqs)
		vq = vmdev->vqs[array_index_nospec(vq_index,
						   vmdev->nvqs)].vq;
	if (vq && !vq->reset) {
		st->vq.enabled = true;
		st->vq.size = virtqueue_get_vring_size(vq);
		st->vq.desc = virtqueue_get_desc_addr(vq);
		st->vq.driver = virtqueue_get_avail_addr(vq);
		st->vq.device = virtqueue_get_used_addr(vq);
	}
	spin_unlock_irqrestore(&vmdev->cb_lock, flags);
}

/**
 * vmsg_dev_kick_all() - notify the device of every live virtqueue
 * @vmdev: the device
 *
 * As the driver's own kicks: sent at once or kept by the core, never lost.
 *
 * Context: any.
 */
void vmsg_dev_kick_all(struct virtio_msg_device *vmdev)
{
	struct virtqueue *vq;
	unsigned long flags;
	unsigned int i;

	if (READ_ONCE(vmdev->state) != VMSG_DEV_LIVE)
		return;
	spin_lock_irqsave(&vmdev->cb_lock, flags);
	for (i = 0; i < vmdev->nvqs; i++) {
		vq = vmdev->vqs[i].vq;
		if (vq && !vq->reset)
			vmsg_notify(vq);
	}
	spin_unlock_irqrestore(&vmdev->cb_lock, flags);
}

static void vmsg_event_used(struct virtio_msg_device *vmdev,
			    const struct virtio_msg_hdr *msg)
{
	const struct virtio_msg_vqueue_index *e = (const void *)(msg + 1);
	u32 index = le32_to_cpu(e->index);

	/* On the wire, every index names one queue. */
	if (index == VIRTIO_MSG_ALL_VQS ||
	    !__vmsg_dev_notify_used(vmdev, index))
		vmsg_bus_count_bad(vmdev->core, msg, "no such virtqueue");
}

static void vmsg_event_config(struct virtio_msg_device *vmdev,
			      const struct virtio_msg_hdr *msg)
{
	const struct virtio_msg_event_config *e = (const void *)(msg + 1);
	bool has_data = virtio_msg_payload_size(msg) > sizeof(*e);
	u32 status = le32_to_cpu(e->device_status);
	u32 gen = le32_to_cpu(e->generation);
	u32 off = le32_to_cpu(e->offset);
	u32 len = le32_to_cpu(e->length);
	bool refresh = false, notify, needs_reset;
	unsigned long flags;

	spin_lock_irqsave(&vmdev->state_lock, flags);
	if (vmdev->state != VMSG_DEV_LIVE) {
		/* No cache yet (nor a checked size), or no driver any more. */
		spin_unlock_irqrestore(&vmdev->state_lock, flags);
		atomic_long_inc(&vmdev->stats.events_dropped);
		return;
	}
	if (has_data && (u64)off + len > vmdev->config_size) {
		spin_unlock_irqrestore(&vmdev->state_lock, flags);
		vmsg_bus_count_bad(vmdev->core, msg, "config data out of range");
		return;
	}
	WRITE_ONCE(vmdev->status, vmsg_sane_status(vmdev->status, status));
	needs_reset = vmsg_take_needs_reset(vmdev, status);
	if (has_data) {
		memcpy(vmdev->config + off, e->data, len);
		vmdev->dev_generation = gen;
		vmdev->generation++;
		vmdev->config_seq++;
	} else if (gen != vmdev->dev_generation) {
		/*
		 * Keep the old generation until the new data is in, so that
		 * readers never pair the new generation with old data.
		 */
		refresh = true;
	}
	notify = READ_ONCE(vmdev->ready);
	if (!notify)
		vmdev->config_event = true;
	spin_unlock_irqrestore(&vmdev->state_lock, flags);

	if (needs_reset)
		vmsg_needs_reset(vmdev);
	if (refresh)
		queue_work(vmsg_wq, &vmdev->config_work);
	else if (notify)
		virtio_config_changed(&vmdev->vdev);
}

/**
 * vmsg_dev_event() - dispatch an inbound event for a device
 * @vmdev: the device
 * @msg: a message accepted by virtio_msg_validate() that is not a response
 *
 * Events reach only a live device: one still being created has no
 * configuration cache yet, and one being removed no driver.
 *
 * Context: any.
 */
void vmsg_dev_event(struct virtio_msg_device *vmdev,
		    const struct virtio_msg_hdr *msg)
{
	atomic_long_inc(&vmdev->stats.received[vmsg_stat_index(msg->msg_id)]);
	switch (msg->msg_id) {
	case VIRTIO_MSG_EVENT_USED:
		vmsg_event_used(vmdev, msg);
		break;
	case VIRTIO_MSG_EVENT_CONFIG:
		vmsg_event_config(vmdev, msg);
		break;
	default:
		/* virtio_msg_validate() lets no other event through. */
		vmsg_bus_count_bad(vmdev->core, msg, "unexpected event");
		break;
	}
}

/* Device lifetime. */
static void vmsg_dev_free(struct virtio_msg_device *vmdev)
{
	kfree(vmdev->config);
	kfree(vmdev->req_buf);
	kfree(vmdev->resp_buf);
	kfree(vmdev);
}

static void vmsg_dev_release(struct device *dev)
{
	vmsg_dev_free(to_vmsg_dev(dev_to_virtio(dev)));
}

/**
 * vmsg_dev_set_gone() - let no more events reach a device
 * @vmdev: the device
 *
 * Context: any.
 */
void vmsg_dev_set_gone(struct virtio_msg_device *vmdev)
{
	unsigned long flags;

	spin_lock_irqsave(&vmdev->state_lock, flags);
	WRITE_ONCE(vmdev->state, VMSG_DEV_GONE);
	spin_unlock_irqrestore(&vmdev->state_lock, flags);
}

/* Take the device out of the table; after this no event can reach it. */
static void vmsg_dev_unpublish(struct virtio_msg_device *vmdev)
{
	vmsg_dev_set_gone(vmdev);
	xa_erase(&vmdev->core->devs, vmdev->dev_num);
	synchronize_rcu();
	cancel_work_sync(&vmdev->config_work);
	cancel_work_sync(&vmdev->break_work);
	cancel_work_sync(&vmdev->broken_cb_work);
	cancel_work_sync(&vmdev->standin_work);
	cancel_work_sync(&vmdev->kick_work);
}

static int vmsg_get_device_info(struct virtio_msg_device *vmdev)
{
	struct virtio_msg_dev_info info;
	int ret;

	mutex_lock(&vmdev->chan.lock);
	ret = vmsg_start(vmdev, VIRTIO_MSG_GET_DEVICE_INFO, 0) ? 0 : -EINVAL;
	if (!ret)
		ret = vmsg_call(vmdev);
	if (!ret) {
		virtio_msg_parse_device_info(vmdev->resp_buf, vmdev->wire,
					     &info);
		vmdev->device_id = info.device_id;
		vmdev->vendor_id = info.vendor_id;
		vmdev->num_feature_bits = info.num_feature_bits;
		vmdev->config_size = info.config_size;
		vmdev->max_vqs = info.max_vqs;
		memcpy(vmdev->uuid, info.uuid, sizeof(vmdev->uuid));
	}
	mutex_unlock(&vmdev->chan.lock);
	return ret;
}

/**
 * vmsg_dev_create() - set up a device number and ask what is behind it
 * @core: the bus
 * @dev_num: the device number, not yet in the table
 *
 * Publishes the device in the table, so that responses reach it, and
 * sends GET_DEVICE_INFO, the first message the specification allows.
 * Until what the device reported is checked and its configuration cache
 * exists, the device is VMSG_DEV_CREATING and events for it are dropped.
 *
 * Context: process, on the bus's ordered workqueue.
 * Return: the device, or an ERR_PTR(): -ENODEV when there is no device
 * (device ID 0), -EPERM for a device type the bus does not let through,
 * or why the device could not be set up.
 */
struct virtio_msg_device *vmsg_dev_create(struct virtio_msg_bus_core *core,
					  u16 dev_num)
{
	u16 max = virtio_msg_bus_max_msg_size(core->bus);
	struct virtio_msg_device *vmdev;
	unsigned long flags;
	u8 *config;
	int ret;

	vmdev = kzalloc(sizeof(*vmdev), GFP_KERNEL);
	if (!vmdev)
		return ERR_PTR(-ENOMEM);
	vmdev->core = core;
	vmdev->dev_num = dev_num;
	vmdev->max_msg = max;
	/* Fixed from here on: the bus has a device (nr_devs counts it). */
	vmdev->wire = READ_ONCE(core->params.wire);
	vmdev->strict_config = vmdev->wire == VIRTIO_MSG_WIRE_V1 ||
			       (core->params.features &
				BIT(VIRTIO_MSG_F_STRICT_CONFIG_GENERATION));
	vmdev->state = VMSG_DEV_CREATING;
	vmsg_chan_init(&vmdev->chan, &vmdev->stats,
		       !(core->bus->desc->flags & VIRTIO_MSG_BUS_F_NO_TOKEN_ECHO));
	spin_lock_init(&vmdev->state_lock);
	spin_lock_init(&vmdev->cb_lock);
	spin_lock_init(&vmdev->kick_lock);
	INIT_WORK(&vmdev->config_work, vmsg_config_work);
	INIT_WORK(&vmdev->break_work, vmsg_break_work);
	INIT_WORK(&vmdev->broken_cb_work, vmsg_broken_cb_work);
	INIT_WORK(&vmdev->standin_work, vmsg_standin_work);
	INIT_DELAYED_WORK(&vmdev->remove_watchdog, vmsg_remove_watchdog);
	INIT_WORK(&vmdev->kick_work, vmsg_kick_work);
	vmdev->req_buf = kzalloc(max, GFP_KERNEL);
	vmdev->resp_buf = kzalloc(max, GFP_KERNEL);
	if (!vmdev->req_buf || !vmdev->resp_buf) {
		vmsg_dev_free(vmdev);
		return ERR_PTR(-ENOMEM);
	}

	ret = xa_insert(&core->devs, dev_num, vmdev, GFP_KERNEL);
	if (ret) {
		vmsg_dev_free(vmdev);
		return ERR_PTR(ret);
	}

	ret = vmsg_get_device_info(vmdev);
	if (ret)
		goto err;
	if (!vmdev->device_id) {
		/* A placeholder number with no function behind it. */
		ret = -ENODEV;
		goto err;
	}
	if (!vmsg_dev_policy(core->bus, vmdev->device_id)) {
		dev_warn_ratelimited(vmsg_parent(vmdev),
				     "device %u: device type %u is not allowed on this bus\n",
				     dev_num, vmdev->device_id);
		ret = -EPERM;
		goto err;
	}
	if (vmdev->config_size > VMSG_CONFIG_MAX) {
		dev_warn_ratelimited(vmsg_parent(vmdev),
				     "device %u: config space of %u bytes is too large\n",
				     dev_num, vmdev->config_size);
		ret = -EINVAL;
		goto err;
	}
	config = kzalloc(vmdev->config_size ?: 1, GFP_KERNEL);
	if (!config) {
		ret = -ENOMEM;
		goto err;
	}
	/* From here on, events find a cache of the size they were checked on. */
	spin_lock_irqsave(&vmdev->state_lock, flags);
	vmdev->config = config;
	WRITE_ONCE(vmdev->state, VMSG_DEV_LIVE);
	spin_unlock_irqrestore(&vmdev->state_lock, flags);
	return vmdev;

err:
	if (ret != -ENODEV && ret != -EPERM)
		dev_warn_ratelimited(vmsg_parent(vmdev),
				     "device %u not added: %d\n", dev_num, ret);
	vmsg_dev_unpublish(vmdev);
	vmsg_dev_free(vmdev);
	return ERR_PTR(ret);
}

/**
 * vmsg_dev_register() - register the virtio device of a created device
 * @vmdev: from vmsg_dev_create()
 *
 * On failure the device is torn down and freed.
 *
 * Context: process, on the bus's ordered workqueue.
 * Return: 0 or a negative errno.
 */
int vmsg_dev_register(struct virtio_msg_device *vmdev)
{
	struct virtio_msg_bus *bus = vmdev->core->bus;
	struct device *parent = bus->parent;
	struct device *win_dev;
	bool pending, release;
	unsigned long flags;
	u16 dev_num;
	int ret;

	if (vmdev->core->window) {
		parent = vmsg_dma_dev_create(vmdev->core->window, bus->parent,
					     vmdev->dev_num);
		if (IS_ERR(parent)) {
			ret = PTR_ERR(parent);
			dev_warn_ratelimited(bus->parent,
					     "device %u: no window DMA device: %d\n",
					     vmdev->dev_num, ret);
			vmsg_dev_unpublish(vmdev);
			vmsg_dev_free(vmdev);
			return ret;
		}
		vmdev->win_dev = parent;
	} else if (bus->desc->ops->dma_device) {
		parent = bus->desc->ops->dma_device(bus, vmdev->dev_num);
		if (IS_ERR(parent)) {
			ret = PTR_ERR(parent);
			dev_warn_ratelimited(bus->parent,
					     "device %u: no DMA device: %d\n",
					     vmdev->dev_num, ret);
			vmsg_dev_unpublish(vmdev);
			vmsg_dev_free(vmdev);
			return ret;
		}
		vmdev->dma_dev_set = true;
	}

	vmdev->vdev.dev.parent = parent;
	vmdev->vdev.dev.release = vmsg_dev_release;
	vmdev->vdev.dev.groups = vmsg_dev_groups;
	vmdev->vdev.config = &vmsg_config_ops;
	vmdev->vdev.id.device = vmdev->device_id;
	vmdev->vdev.id.vendor = vmdev->vendor_id;

	ret = register_virtio_device(&vmdev->vdev);
	if (ret) {
		dev_warn_ratelimited(bus->parent,
				     "device %u: registration failed: %d\n",
				     vmdev->dev_num, ret);
		vmsg_dev_mark_gone(vmdev, -ENODEV);
		vmsg_dev_debugfs_remove(vmdev);
		vmsg_dev_unpublish(vmdev);
		release = vmdev->dma_dev_set && bus->desc->ops->release_device;
		dev_num = vmdev->dev_num;
		win_dev = vmdev->win_dev;
		/* Initialised by register_virtio_device(): put, never free. */
		put_device(&vmdev->vdev.dev);
		if (release)
			bus->desc->ops->release_device(bus, dev_num);
		if (win_dev)
			vmsg_dma_dev_destroy(win_dev);
		return ret;
	}

	spin_lock_irqsave(&vmdev->state_lock, flags);
	WRITE_ONCE(vmdev->ready, true);
	pending = vmdev->config_event;
	spin_unlock_irqrestore(&vmdev->state_lock, flags);
	if (pending)
		virtio_config_changed(&vmdev->vdev);
	return 0;
}

/**
 * vmsg_dev_destroy() - unregister and free a device
 * @vmdev: a registered device
 * @orderly: the peer still answers: let the driver's remove reset the
 *	device and drain its queues over the channel, for at most the bus's
 *	deadline, after which the device is broken. Otherwise the device is
 *	broken first, so that the driver fails what the device held.
 *
 * Context: process; on the bus's ordered workqueue, or at bus
 * unregistration once that workqueue is drained.
 */
void vmsg_dev_destroy(struct virtio_msg_device *vmdev, bool orderly)
{
	struct virtio_msg_bus *bus = vmdev->core->bus;
	bool release = vmdev->dma_dev_set && bus->desc->ops->release_device;
	struct device *win_dev = vmdev->win_dev;
	u16 dev_num = vmdev->dev_num;

	/*
	 * Breaking takes cb_lock, so no callback runs once it returns: the
	 * driver's remove finds the queues broken (virtio-blk waits for the
	 * buffers of a device that is not, whatever happened to it).
	 */
	if (!orderly)
		vmsg_dev_mark_gone(vmdev, -ENODEV);
	else
		queue_delayed_work(vmsg_wq, &vmdev->remove_watchdog,
				   msecs_to_jiffies(vmsg_deadline_ms(bus)));
	vmsg_dev_debugfs_remove(vmdev);
	/* Hold the device across unregistration, which drops a reference. */
	get_device(&vmdev->vdev.dev);
	unregister_virtio_device(&vmdev->vdev);
	cancel_delayed_work_sync(&vmdev->remove_watchdog);
	/*
	 * The virtio core acknowledges a device again once its driver is
	 * gone: leave it reset instead, so that the device side knows.
	 */
	if (!READ_ONCE(vmdev->broken)) {
		mutex_lock(&vmdev->chan.lock);
		vmsg_reset_locked(vmdev);
		mutex_unlock(&vmdev->chan.lock);
	}
	vmsg_dev_mark_gone(vmdev, -ENODEV);
	vmsg_dev_unpublish(vmdev);
	put_device(&vmdev->vdev.dev);
	/* Last, so that the DMA device outlives the virtio device. */
	if (release)
		bus->desc->ops->release_device(bus, dev_num);
	if (win_dev)
		vmsg_dma_dev_destroy(win_dev);
}

/*
 * What the device is, in sysfs: <virtio device>/virtio_msg/, documented
 * in Documentation/ABI/testing/sysfs-bus-virtio-devices-virtio_msg. The
 * counters are in debugfs (virtio_msg_debugfs.c).
 */
static struct virtio_msg_device *vmsg_attr_dev(struct device *dev)
{
	return to_vmsg_dev(dev_to_virtio(dev));
}

static ssize_t device_number_show(struct device *dev,
				  struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", vmsg_attr_dev(dev)->dev_num);
}
static DEVICE_ATTR_RO(device_number);

static ssize_t wire_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	return sysfs_emit(buf, "v%u\n", vmsg_attr_dev(dev)->wire);
}
static DEVICE_ATTR_RO(wire);

static ssize_t uuid_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	return sysfs_emit(buf, "%pUb\n", vmsg_attr_dev(dev)->uuid);
}
static DEVICE_ATTR_RO(uuid);

/* The DMA window's size; only devices on a bus with a window have it. */
static ssize_t dma_window_size_show(struct device *dev,
				    struct device_attribute *attr, char *buf)
{
	struct virtio_msg_device *vmdev = vmsg_attr_dev(dev);

	return sysfs_emit(buf, "%llu\n",
			  vmsg_dma_window_size(vmdev->core->window));
}
static DEVICE_ATTR_RO(dma_window_size);

static struct attribute *vmsg_dev_attrs[] = {
	&dev_attr_device_number.attr,
	&dev_attr_wire.attr,
	&dev_attr_uuid.attr,
	&dev_attr_dma_window_size.attr,
	NULL
};

/*
 * Only a device that reported a UUID (v2, not all zero) has the uuid
 * file, and only one on a bus with a DMA window has dma_window_size.
 */
static umode_t vmsg_dev_attr_visible(struct kobject *kobj,
				     struct attribute *attr, int n)
{
	struct virtio_msg_device *vmdev = vmsg_attr_dev(kobj_to_dev(kobj));

	if (attr == &dev_attr_uuid.attr &&
	    !memchr_inv(vmdev->uuid, 0, sizeof(vmdev->uuid)))
		return 0;
	if (!vmdev->win_dev && str_has_prefix(attr->name, "dma_"))
		return 0;
	return attr->mode;
}

static const struct attribute_group vmsg_dev_group = {
	.name = "virtio_msg",
	.attrs = vmsg_dev_attrs,
	.is_visible = vmsg_dev_attr_visible,
};

const struct attribute_group *vmsg_dev_groups[] = {
	&vmsg_dev_group,
	NULL
};

// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-msg FF-A bus: virtio devices served by an Arm FF-A partition (a
 * secure partition, or another VM through a hypervisor), on the FF-A
 * driver of Linux 6.12.
 */

/**
 * DOC: Theory of Operation
 *
 * One bus instance per FF-A partition that registers the virtio-msg
 * device-role UUID. Everything the partition sends is untrusted, and
 * unless trusted_device_side is set the core creates only the device
 * types, with the features, of virtio_msg_hardened_devices().
 *
 * Messages: direct messaging only (FFA_MSG_SEND_DIRECT_REQ2 with the
 * explicit UUID). The message goes into the register block, the answer
 * comes back in place. An all-zero answer means the partition is busy:
 * the request is sent again, busy_retries times at most, busy_delay_us
 * apart; then it fails with -EBUSY. One direct request is in flight per
 * partition (@xfer_lock), since a partition with one execution context
 * could only answer busy to a second one. The send op may therefore
 * sleep, so the bus has no send_event: the core sends kicks from its
 * work item.
 *
 * An hvc console write spins with interrupts off until the device used
 * its buffer, and the kick that gets it there goes out from another CPU
 * through @xfer_lock. So nothing holds the lock while it waits for a
 * timer (the busy delay is slept without it), and the bus's work items
 * run unbound, never on a CPU they cannot leave. They deliver the
 * partition's events, whose callbacks may take the lock that spinning
 * writer holds; their workqueue, virtio_msg_ffa, has a cpumask in sysfs
 * to keep them on the writer's CPU when the device side shares the
 * machine (the simulator).
 *
 * Indirect messaging (FFA_MSG_SEND2) needs the framework notification of
 * a full RX buffer, which a 6.12 FF-A client cannot request: a partition
 * that does not take direct requests is refused. Where the kernel has
 * the hook, it slots in as another vmsg_ffa_xfer() and another event
 * source feeding vmsg_ffa_drain()'s dispatch.
 *
 * Events: the partition cannot send to us on its own. It rings an FF-A
 * notification (EVENT_CONFIGURE(NOTIF)) and we drain its events with
 * EVENT_POLL, at most event_poll_max per pass; without notifications we
 * configure POLL and drain every poll_interval_ms. After a full pass the
 * next one waits a tick, notifications or not, so that a partition whose
 * events never run dry cannot hold the work item.
 *
 * Memory: one pool per partition is shared with memory_share as area 1
 * and announced with AREA_SHARE. It is the core's DMA window, at
 * bus address 1 << 48: the core allocates the vrings in it and bounces
 * every buffer through it, so the partition sees the pool and nothing
 * else, and every address it is given is area_id << 48 | offset. At
 * teardown, once the core is done with the devices, AREA_UNSHARE and
 * memory_reclaim; pages whose reclaim fails are never freed. An
 * AREA_RELEASE from the partition reclaims the area at once: its
 * devices, which can no longer reach their rings, are lost.
 *
 * The pool is the region a "virtio,msg-ffa" device-tree node names with
 * memory-region (a "restricted-dma-pool" reserved-memory node, found by
 * phandle), memremap()ed and never freed: the platform chose the memory
 * a partition may see. That region goes to one partition at a time, the
 * first bound; the others, which the node does not describe, get a pool
 * of pool_kb from vmalloc() as without the node. A node whose region is
 * missing, not page aligned or smaller than 64 KiB is a firmware error:
 * every partition is refused rather than shown memory the platform did
 * not set aside. dt_pool=N ignores the node. A region whose reclaim
 * failed stays taken until the partition that kept it is RESET: the
 * reclaim is tried again then, and the region serves the next binding.
 * Unloading the module forgets it; a later memory_share of pages the
 * partition still holds is then the firmware's to refuse.
 *
 * Peer reset: a direct request the FF-A layer reports aborted
 * (-ECANCELED) means the partition went away. Its devices are lost; the
 * bus then tries VERSION every second and, once the partition answers,
 * runs the bring-up again (RESET, events, memory) and reports
 * virtio_msg_bus_peer_restarted().
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/arm_ffa.h>
#include <linux/atomic.h>
#include <linux/debugfs.h>
#include <linux/device.h>
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/io.h>
#include <linux/kmemleak.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/of.h>
#include <linux/of_reserved_mem.h>
#include <linux/scatterlist.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/unaligned.h>
#include <linux/uuid.h>
#include <linux/vmalloc.h>
#include <linux/virtio_msg.h>
#include <linux/workqueue.h>
#include <uapi/linux/virtio_msg_ffa.h>

#include "virtio_msg_ffa_codec.h"

static unsigned int pool_kb = 4096;
module_param(pool_kb, uint, 0444);
MODULE_PARM_DESC(pool_kb,
		 "Memory allocated and shared with each partition not given the device tree's region, for vrings and buffers, in KiB (default 4096)");

static bool dt_pool = true;
module_param(dt_pool, bool, 0444);
MODULE_PARM_DESC(dt_pool,
		 "Share the region of the virtio,msg-ffa device-tree node with the first partition bound (default Y)");

static unsigned int busy_retries = 16;
module_param(busy_retries, uint, 0644);
MODULE_PARM_DESC(busy_retries,
		 "Times a request answered busy is sent again (default 16)");

static unsigned int busy_delay_us = 50;
module_param(busy_delay_us, uint, 0644);
MODULE_PARM_DESC(busy_delay_us,
		 "Delay before a request answered busy is sent again, in us (default 50)");

static unsigned int event_poll_max = 64;
module_param(event_poll_max, uint, 0644);
MODULE_PARM_DESC(event_poll_max,
		 "Events fetched with EVENT_POLL per pass at most (default 64)");

static unsigned int poll_interval_ms = 10;
module_param(poll_interval_ms, uint, 0644);
MODULE_PARM_DESC(poll_interval_ms,
		 "Without FF-A notifications, how often events are polled, in ms (default 10)");

static bool use_notifications = true;
module_param(use_notifications, bool, 0444);
MODULE_PARM_DESC(use_notifications,
		 "Use FF-A notifications for events when the partition offers them (default Y)");

static bool trusted_device_side;
module_param(trusted_device_side, bool, 0644);
MODULE_PARM_DESC(trusted_device_side,
		 "Partitions bound from now on serve every device type with every feature: the partition is as trusted as this kernel (default N: blk, net, rng and console, with the features of virtio_msg_hardened_devices())");

/* The one area this bus shares; the IDs start at 1. */
#define VMSG_FFA_AREA_ID	1
/* Token of the bus's own requests, which never reach the core. */
#define VMSG_FFA_OWN_TOKEN	0xffff
/* FF-A notification IDs are 0-63. */
#define VMSG_FFA_MAX_NOTIF	64
/* AREA_UNSHARE answered BUSY: tries, and the delay between them. */
#define VMSG_FFA_UNSHARE_TRIES	5
#define VMSG_FFA_UNSHARE_MS	200
/* A lost partition is asked for VERSION this often. */
#define VMSG_FFA_RECOVER_MS	1000
/* The smallest pool: a few vrings and bounce room. */
#define VMSG_FFA_MIN_POOL	SZ_64K

static const uuid_t vmsg_ffa_uuid =
	UUID_INIT(0xc66028b5, 0x2498, 0x4aa1,
		  0x9d, 0xe7, 0x77, 0xda, 0x61, 0x22, 0xab, 0xf0);

/**
 * struct vmsg_ffa - one partition
 * @bus: the bus instance registered with the core
 * @fdev: the FF-A device of the partition
 * @ops: its FF-A operations
 * @xfer_lock: one direct request in flight per partition (see DOC)
 * @state_lock: serialises bring-up, AREA_RELEASE, recovery and teardown:
 *	everything that changes the fields below it
 * @pool: kernel mapping of the shared pool (vmalloc() or memremap())
 * @pool_size: its size in bytes
 * @pool_phys: its physical address if @dt_pool
 * @dt_pool: the pool is the device tree's region, not ours to free
 * @sgt: its pages, as given to memory_share
 * @handle: FF-A global handle of the pool while @shared
 * @shared: memory_share succeeded and no reclaim since
 * @announced: AREA_SHARE succeeded and no AREA_UNSHARE since
 * @leaked: a reclaim failed: the pool pages are never freed
 * @notif_id: the FF-A notification ID requested, or -1
 * @lost: virtio_msg_bus_peer_lost() was called and the partition is not
 *	back yet
 * @stopping: teardown began: no work is queued again
 * @bus_features: VERSION's bus_features
 * @event_work: drains EVENT_POLL (notification, or the poll timer)
 * @release_work: reclaims an area the partition released
 * @recover_work: waits for a lost partition to come back
 * @nr_busy: busy answers
 * @nr_busy_failed: requests failed after busy_retries busy answers
 * @nr_bad: malformed answers dropped
 * @nr_error: ERROR answers
 * @nr_polls: EVENT_POLL requests sent
 * @nr_events: events EVENT_POLL fetched
 * @drain_max: the most events one drain fetched (event_work alone writes)
 * @dbg: debugfs directory of the partition, holding the counters above
 */
struct vmsg_ffa {
	struct virtio_msg_bus bus;
	struct ffa_device *fdev;
	const struct ffa_ops *ops;
	struct mutex xfer_lock;		/* one direct request in flight */

	struct mutex state_lock;	/* the fields up to @bus_features */
	void *pool;
	size_t pool_size;
	phys_addr_t pool_phys;
	bool dt_pool;
	struct sg_table sgt;
	u64 handle;
	bool shared;
	bool announced;
	bool leaked;
	int notif_id;
	bool lost;
	bool stopping;
	u32 bus_features;

	struct delayed_work event_work;
	struct work_struct release_work;
	struct delayed_work recover_work;

	atomic_t nr_busy;
	atomic_t nr_busy_failed;
	atomic_t nr_bad;
	atomic_t nr_error;
	atomic_t nr_polls;
	atomic_t nr_events;
	unsigned int drain_max;
	struct dentry *dbg;
};

/* debugfs: virtio_msg_ffa/<partition>/stats. */
static struct dentry *vmsg_ffa_dbg_root;

/*
 * The work items of every partition: unbound (see DOC), with a cpumask
 * in sysfs, so that the CPU an hvc console write spins on can be kept
 * apart from the CPUs that serve it.
 */
static struct workqueue_struct *vmsg_ffa_wq;

/*
 * The device tree's region (see DOC): whether a partition has it, and if
 * its reclaim failed, the FF-A handle and the partition that kept it.
 */
static DEFINE_MUTEX(vmsg_ffa_dt_lock);
static bool vmsg_ffa_dt_taken;
static bool vmsg_ffa_dt_stranded;
static u64 vmsg_ffa_dt_handle;
static u16 vmsg_ffa_dt_vm_id;

static struct vmsg_ffa *to_ffa(struct virtio_msg_bus *bus)
{
	return container_of(bus, struct vmsg_ffa, bus);
}

static bool vmsg_ffa_polling(const struct vmsg_ffa *ffa)
{
	return ffa->notif_id < 0;
}

/* Queue @work unless teardown began. Context: any. */
static void vmsg_ffa_queue_events(struct vmsg_ffa *ffa, unsigned long delay)
{
	if (!READ_ONCE(ffa->stopping))
		mod_delayed_work(vmsg_ffa_wq, &ffa->event_work, delay);
}

static void vmsg_ffa_gone(struct vmsg_ffa *ffa)
{
	if (!READ_ONCE(ffa->stopping))
		mod_delayed_work(vmsg_ffa_wq, &ffa->recover_work, 0);
}

/**
 * vmsg_ffa_xfer() - one direct request and its answer
 * @ffa: the partition
 * @msg: the message, @len bytes
 * @len: its size, at most VIRTIO_MSG_FFA_MAX_MSG_SIZE
 * @out: the answer
 *
 * Sends again, bounded, while the answer is busy. Checks only the answer's
 * size: the caller checks the rest.
 *
 * Context: process; sleeps.
 * Return: the size of the answer, -EBUSY after busy_retries busy answers,
 * -ENOTCONN when the partition went away, -EPROTO for a size out of
 * range, or -EIO for another FF-A error.
 */
static int vmsg_ffa_xfer(struct vmsg_ffa *ffa, const void *msg, size_t len,
			 struct vmsg_ffa_msg *out)
{
	struct ffa_send_direct_data2 regs;
	unsigned int tries = 0;
	u16 size;
	int ret;

	for (;;) {
		vmsg_ffa_to_regs(&regs, msg, len);
		mutex_lock(&ffa->xfer_lock);
		ret = ffa->ops->msg_ops->sync_send_receive2(ffa->fdev,
							    &vmsg_ffa_uuid,
							    &regs);
		mutex_unlock(&ffa->xfer_lock);
		if (!ret && vmsg_ffa_from_regs(&regs, out))
			break;
		if (ret && ret != -EBUSY && ret != -EAGAIN)
			break;
		atomic_inc(&ffa->nr_busy);
		if (tries++ >= READ_ONCE(busy_retries)) {
			atomic_inc(&ffa->nr_busy_failed);
			ret = -EBUSY;
			break;
		}
		/* Without the lock: its timer may be on a CPU that spins. */
		fsleep(READ_ONCE(busy_delay_us));
	}

	if (ret == -ECANCELED || ret == -ENODEV) {
		dev_warn_ratelimited(&ffa->fdev->dev,
				     "partition aborted the request\n");
		vmsg_ffa_gone(ffa);
		return -ENOTCONN;
	}
	if (ret == -EBUSY)
		return ret;
	if (ret)
		return -EIO;

	size = le16_to_cpu(out->hdr.msg_size);
	if (size < VIRTIO_MSG_HDR_SIZE || size > VIRTIO_MSG_FFA_MAX_MSG_SIZE) {
		atomic_inc(&ffa->nr_bad);
		dev_warn_ratelimited(&ffa->fdev->dev,
				     "answer of %u bytes dropped\n", size);
		return -EPROTO;
	}
	return size;
}

/*
 * The ERROR answer to @req, as its payload names it. Returns 0 for no
 * ERROR, 1 for an ERROR naming @req, -EPROTO for another.
 */
static int vmsg_ffa_check_error(struct vmsg_ffa *ffa,
				const struct virtio_msg_hdr *req,
				const struct vmsg_ffa_msg *ans, int size)
{
	int ret = vmsg_ffa_error_names(req, ans, size);

	if (ret)
		atomic_inc(&ffa->nr_error);
	if (ret < 0)
		atomic_inc(&ffa->nr_bad);
	return ret;
}

/* &virtio_msg_bus_ops.send. Context: process; sleeps. */
static int vmsg_ffa_send(struct virtio_msg_bus *bus,
			 const struct virtio_msg_hdr *msg)
{
	struct vmsg_ffa *ffa = to_ffa(bus);
	size_t len = le16_to_cpu(msg->msg_size);
	struct vmsg_ffa_msg ans;
	bool bus_req;
	int size, ret;

	if (len < VIRTIO_MSG_HDR_SIZE || len > VIRTIO_MSG_FFA_MAX_MSG_SIZE)
		return -EMSGSIZE;
	size = vmsg_ffa_xfer(ffa, msg, len, &ans);
	if (size < 0)
		return size;

	ret = vmsg_ffa_check_error(ffa, msg, &ans, size);
	if (ret < 0)
		return ret;
	if (ret) {
		if (!vmsg_ffa_expects_resp(msg))
			return -EIO;
		bus_req = msg->type & VIRTIO_MSG_TYPE_BUS;
		if (virtio_msg_bus_fail_request(bus, bus_req,
						le16_to_cpu(msg->dev_num),
						msg->msg_id, -EIO))
			return -EIO;
		return 0;
	}

	if (!vmsg_ffa_expects_resp(msg)) {
		/*
		 * An event is acknowledged by any non-busy answer; an event
		 * of the partition's own may ride on it.
		 */
		if (vmsg_ffa_is_event(&ans.hdr))
			virtio_msg_bus_receive(bus, ans.bytes, size);
		return 0;
	}
	if (!vmsg_ffa_answers(msg, &ans.hdr)) {
		atomic_inc(&ffa->nr_bad);
		dev_warn_ratelimited(&ffa->fdev->dev,
				     "answer to 0x%02x is no response to it (0x%02x/0x%02x)\n",
				     msg->msg_id, ans.hdr.type, ans.hdr.msg_id);
		return -EPROTO;
	}
	virtio_msg_bus_receive(bus, ans.bytes, size);
	return 0;
}

/**
 * vmsg_ffa_own_req() - a bus request of the bus's own, outside the core
 * @ffa: the partition
 * @msg_id: the request
 * @req: its payload, @req_len bytes
 * @req_len: payload size
 * @resp: where the answer's payload goes
 * @resp_len: the payload size expected at least
 *
 * For requests while the core carries none: after
 * virtio_msg_bus_peer_lost() (recovery) and after
 * virtio_msg_bus_unregister() (AREA_UNSHARE at teardown). The answer is
 * validated here.
 *
 * Context: process; sleeps.
 * Return: 0, -EIO for an ERROR, -EPROTO, or an error of vmsg_ffa_xfer().
 */
static int vmsg_ffa_own_req(struct vmsg_ffa *ffa, u8 msg_id, const void *req,
			    size_t req_len, void *resp, size_t resp_len)
{
	struct vmsg_ffa_msg msg = { }, ans;
	int size, ret;

	msg.hdr.type = VIRTIO_MSG_TYPE_BUS;
	msg.hdr.msg_id = msg_id;
	msg.hdr.token = cpu_to_le16(VMSG_FFA_OWN_TOKEN);
	msg.hdr.msg_size = cpu_to_le16(VIRTIO_MSG_HDR_SIZE + req_len);
	memcpy(msg.bytes + VIRTIO_MSG_HDR_SIZE, req, req_len);
	size = vmsg_ffa_xfer(ffa, &msg, VIRTIO_MSG_HDR_SIZE + req_len, &ans);
	if (size < 0)
		return size;
	ret = vmsg_ffa_check_error(ffa, &msg.hdr, &ans, size);
	if (ret)
		return ret < 0 ? ret : -EIO;
	if (!vmsg_ffa_is_bus_resp(&ans.hdr, msg_id) ||
	    le16_to_cpu(ans.hdr.token) != VMSG_FFA_OWN_TOKEN ||
	    size < VIRTIO_MSG_HDR_SIZE + resp_len) {
		atomic_inc(&ffa->nr_bad);
		return -EPROTO;
	}
	memcpy(resp, ans.bytes + VIRTIO_MSG_HDR_SIZE,
	       min_t(size_t, resp_len, size - VIRTIO_MSG_HDR_SIZE));
	return 0;
}

/**
 * vmsg_ffa_bus_req() - a bus request of the bring-up
 * @ffa: the partition
 * @msg_id: the request
 * @req: its payload, @req_len bytes
 * @req_len: payload size
 * @resp: where the answer's payload goes, zeroed first
 * @resp_len: size of @resp
 * @min_len: the payload size the answer must have at least
 *
 * Through the core (virtio_msg_bus_transfer()) while it carries bus
 * requests, else vmsg_ffa_own_req().
 *
 * Context: process; sleeps; @state_lock held.
 * Return: the answer's payload size, or a negative errno.
 */
static int vmsg_ffa_bus_req(struct vmsg_ffa *ffa, u8 msg_id, const void *req,
			    size_t req_len, void *resp, size_t resp_len,
			    size_t min_len)
{
	struct vmsg_ffa_msg msg = { }, ans;
	int size, ret;

	memset(resp, 0, resp_len);
	if (ffa->lost) {
		ret = vmsg_ffa_own_req(ffa, msg_id, req, req_len, resp, min_len);
		return ret ?: min_len;
	}
	msg.hdr.type = VIRTIO_MSG_TYPE_BUS;
	msg.hdr.msg_id = msg_id;
	msg.hdr.msg_size = cpu_to_le16(VIRTIO_MSG_HDR_SIZE + req_len);
	memcpy(msg.bytes + VIRTIO_MSG_HDR_SIZE, req, req_len);
	size = virtio_msg_bus_transfer(&ffa->bus, &msg.hdr, &ans.hdr,
				       sizeof(ans));
	if (size < 0)
		return size;
	if (size < VIRTIO_MSG_HDR_SIZE + min_len) {
		atomic_inc(&ffa->nr_bad);
		return -EPROTO;
	}
	size -= VIRTIO_MSG_HDR_SIZE;
	memcpy(resp, ans.bytes + VIRTIO_MSG_HDR_SIZE,
	       min_t(size_t, size, resp_len));
	return size;
}

/* VERSION, the current request form first, then the older one. */
static int vmsg_ffa_version(struct vmsg_ffa *ffa)
{
	struct virtio_msg_ffa_version_req req = {
		.bus_version = cpu_to_le32(VIRTIO_MSG_FFA_BUS_VERSION_1_0),
		.transport_revision = cpu_to_le32(VIRTIO_MSG_REVISION),
		.ffa_version = cpu_to_le32(ffa->ops->info_ops->api_version_get()),
	};
	union {
		struct virtio_msg_ffa_version_resp cur;
		struct virtio_msg_ffa_version_resp_old old;
	} resp;
	struct vmsg_ffa_version v;
	bool old = false;
	int size, ret;

	size = vmsg_ffa_bus_req(ffa, VIRTIO_MSG_FFA_VERSION, &req, sizeof(req),
				&resp, sizeof(resp), sizeof(resp.cur));
	if (size == -EIO || size == -EPROTO) {
		old = true;
		size = vmsg_ffa_bus_req(ffa, VIRTIO_MSG_FFA_VERSION, &req,
					VIRTIO_MSG_FFA_VERSION_REQ_SIZE_OLD,
					&resp, sizeof(resp), sizeof(resp.old));
	}
	if (size < 0)
		return size;
	ret = vmsg_ffa_parse_version(&resp, min_t(size_t, size, sizeof(resp)),
				     old, &v);
	if (ret)
		return ret;
	ffa->bus_features = v.bus_features;

	ret = vmsg_ffa_check_version(&v);
	if (ret == -EPROTONOSUPPORT)
		dev_err(&ffa->fdev->dev,
			"partition speaks bus version 0x%08x, revision %u, features 0x%x\n",
			v.bus_version, v.revision, v.transport_features);
	else if (ret)
		dev_err(&ffa->fdev->dev,
			"partition takes no direct requests (indirect messaging needs a newer kernel)\n");
	return ret;
}

/* A request whose answer is a result code; BUSY is retried, bounded. */
static int vmsg_ffa_result_req(struct vmsg_ffa *ffa, u8 msg_id,
			       const void *req, size_t req_len,
			       bool has_area, unsigned int tries)
{
	struct virtio_msg_ffa_area_resp ar;
	struct virtio_msg_ffa_result_resp rr;
	u16 result;
	int size;

	for (;;) {
		if (has_area)
			size = vmsg_ffa_bus_req(ffa, msg_id, req, req_len, &ar,
						sizeof(ar), sizeof(ar));
		else
			size = vmsg_ffa_bus_req(ffa, msg_id, req, req_len, &rr,
						sizeof(rr), sizeof(rr));
		if (size < 0)
			return size;
		if (has_area) {
			if (le16_to_cpu(ar.area_id) != VMSG_FFA_AREA_ID) {
				atomic_inc(&ffa->nr_bad);
				return -EPROTO;
			}
			result = le16_to_cpu(ar.result);
		} else {
			result = le16_to_cpu(rr.result);
		}
		if (result == VIRTIO_MSG_FFA_RESULT_SUCCESS)
			return 0;
		if (result != VIRTIO_MSG_FFA_RESULT_BUSY || !--tries)
			return result == VIRTIO_MSG_FFA_RESULT_BUSY ? -EBUSY :
								      -EIO;
		msleep(VMSG_FFA_UNSHARE_MS);
	}
}

static void vmsg_ffa_notified(int notify_id, void *data)
{
	struct vmsg_ffa *ffa = data;

	/*
	 * Called in atomic context (the FF-A driver holds a lock). A drain
	 * already queued keeps its delay: a partition ringing without end
	 * cannot take away the tick between two full passes.
	 */
	if (!READ_ONCE(ffa->stopping))
		queue_delayed_work(vmsg_ffa_wq, &ffa->event_work, 0);
}

static void vmsg_ffa_notif_release(struct vmsg_ffa *ffa)
{
	if (ffa->notif_id < 0)
		return;
	ffa->ops->notifier_ops->notify_relinquish(ffa->fdev, ffa->notif_id);
	ffa->notif_id = -1;
}

/* FF-A notification if both sides can, else polling. */
static int vmsg_ffa_events(struct vmsg_ffa *ffa)
{
	const u32 both = VIRTIO_MSG_FFA_F_NOTIF_RX | VIRTIO_MSG_FFA_F_NOTIF_TX;
	struct virtio_msg_ffa_event_configure_req req = {
		.event_method = VIRTIO_MSG_FFA_EVENT_POLL_METHOD,
	};
	int id, ret;

	if (ffa->notif_id < 0 && use_notifications &&
	    (ffa->bus_features & both) == both && ffa->ops->notifier_ops) {
		for (id = 0; id < VMSG_FFA_MAX_NOTIF; id++) {
			ret = ffa->ops->notifier_ops->notify_request(ffa->fdev,
					false, vmsg_ffa_notified, ffa, id);
			if (!ret) {
				ffa->notif_id = id;
				break;
			}
			if (ret == -EOPNOTSUPP)
				break;
		}
	}
	if (ffa->notif_id >= 0) {
		req.event_method = VIRTIO_MSG_FFA_EVENT_NOTIF;
		req.notif_id = cpu_to_le16(ffa->notif_id);
		ret = vmsg_ffa_result_req(ffa, VIRTIO_MSG_FFA_EVENT_CONFIGURE,
					  &req, sizeof(req), false, 1);
		if (!ret)
			return 0;
		dev_info(&ffa->fdev->dev,
			 "partition refused notifications (%d); polling\n",
			 ret);
		vmsg_ffa_notif_release(ffa);
		req.event_method = VIRTIO_MSG_FFA_EVENT_POLL_METHOD;
		req.notif_id = 0;
	}
	return vmsg_ffa_result_req(ffa, VIRTIO_MSG_FFA_EVENT_CONFIGURE, &req,
				   sizeof(req), false, 1);
}

/*
 * The region of the "virtio,msg-ffa" node: NULL without the node (or with
 * dt_pool off), an ERR_PTR() if the node names nothing usable.
 */
static struct reserved_mem *vmsg_ffa_dt_region(struct device *dev)
{
	struct device_node *np, *mem;
	struct reserved_mem *rmem = NULL;

	if (!dt_pool)
		return NULL;
	np = of_find_compatible_node(NULL, NULL, "virtio,msg-ffa");
	if (np && !of_device_is_available(np)) {
		of_node_put(np);
		np = NULL;
	}
	if (!np)
		return NULL;
	mem = of_parse_phandle(np, "memory-region", 0);
	of_node_put(np);
	if (mem && of_device_is_compatible(mem, "restricted-dma-pool"))
		rmem = of_reserved_mem_lookup(mem);
	of_node_put(mem);
	if (!rmem) {
		dev_err(dev, "virtio,msg-ffa: memory-region is no restricted-dma-pool reserved region\n");
		return ERR_PTR(-EINVAL);
	}
	if (!PAGE_ALIGNED(rmem->base) || !PAGE_ALIGNED(rmem->size) ||
	    rmem->size < VMSG_FFA_MIN_POOL ||
	    rmem->size >> PAGE_SHIFT > UINT_MAX) {
		dev_err(dev, "virtio,msg-ffa: region %pa size %pa: not page aligned, or below %u KiB\n",
			&rmem->base, &rmem->size, VMSG_FFA_MIN_POOL / SZ_1K);
		return ERR_PTR(-EINVAL);
	}
	return rmem;
}

/* The pool's pages, as memory_share takes them. */
static int vmsg_ffa_pool_sgt(struct vmsg_ffa *ffa)
{
	unsigned int i, nr = ffa->pool_size >> PAGE_SHIFT;
	struct page **pages;
	int ret;

	pages = kvmalloc_array(nr, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return -ENOMEM;
	for (i = 0; i < nr; i++)
		pages[i] = ffa->dt_pool ?
			   pfn_to_page(PHYS_PFN(ffa->pool_phys) + i) :
			   vmalloc_to_page(ffa->pool + i * PAGE_SIZE);
	ret = sg_alloc_table_from_pages(&ffa->sgt, pages, nr, 0,
					ffa->pool_size, GFP_KERNEL);
	kvfree(pages);
	return ret;
}

/* The device tree's region is free for the next partition. */
static void vmsg_ffa_dt_release(void)
{
	mutex_lock(&vmsg_ffa_dt_lock);
	vmsg_ffa_dt_taken = false;
	mutex_unlock(&vmsg_ffa_dt_lock);
}

/* Give the device tree's region back to the next partition. */
static void vmsg_ffa_dt_put(struct vmsg_ffa *ffa)
{
	memunmap(ffa->pool);
	vmsg_ffa_dt_release();
}

/* The device tree's region if it is there and free, else vmalloc(). */
static int vmsg_ffa_pool_alloc(struct vmsg_ffa *ffa)
{
	struct reserved_mem *rmem;
	int ret;

	rmem = vmsg_ffa_dt_region(&ffa->fdev->dev);
	if (IS_ERR(rmem))
		return PTR_ERR(rmem);
	if (rmem) {
		mutex_lock(&vmsg_ffa_dt_lock);
		if (vmsg_ffa_dt_taken)
			rmem = NULL;
		vmsg_ffa_dt_taken = true;
		mutex_unlock(&vmsg_ffa_dt_lock);
	}
	if (rmem) {
		ffa->pool = memremap(rmem->base, rmem->size, MEMREMAP_WB);
		if (!ffa->pool) {
			vmsg_ffa_dt_release();
			return -ENOMEM;
		}
		ffa->dt_pool = true;
		ffa->pool_phys = rmem->base;
		ffa->pool_size = rmem->size;
		/* What a previous binding left there is not for this one. */
		memset(ffa->pool, 0, ffa->pool_size);
	} else {
		ffa->pool = vzalloc(ffa->pool_size);
		if (!ffa->pool)
			return -ENOMEM;
	}
	ret = vmsg_ffa_pool_sgt(ffa);
	if (!ret)
		return 0;
	if (ffa->dt_pool)
		vmsg_ffa_dt_put(ffa);
	else
		vfree(ffa->pool);
	ffa->pool = NULL;
	return ret;
}

/*
 * The pool's memory is freed, or the region given back, only if the
 * partition cannot reach it.
 */
static void vmsg_ffa_pool_free(struct vmsg_ffa *ffa)
{
	if (!ffa->pool)
		return;
	sg_free_table(&ffa->sgt);
	if (ffa->leaked && ffa->dt_pool) {
		dev_warn(&ffa->fdev->dev,
			 "device-tree region still shared with the partition: not used before it is reset\n");
		memunmap(ffa->pool);
		mutex_lock(&vmsg_ffa_dt_lock);
		vmsg_ffa_dt_stranded = true;
		vmsg_ffa_dt_handle = ffa->handle;
		vmsg_ffa_dt_vm_id = ffa->fdev->vm_id;
		mutex_unlock(&vmsg_ffa_dt_lock);
		ffa->pool = NULL;
		return;
	}
	if (ffa->leaked) {
		dev_warn(&ffa->fdev->dev,
			 "%zu bytes still shared with the partition are never freed\n",
			 ffa->pool_size);
		/* Given up on purpose: not a leak to report. */
		kmemleak_not_leak(ffa->pool);
		return;
	}
	if (ffa->dt_pool)
		vmsg_ffa_dt_put(ffa);
	else
		vfree(ffa->pool);
	ffa->pool = NULL;
}

/* memory_share and AREA_SHARE. Context: @state_lock held. */
static int vmsg_ffa_share(struct vmsg_ffa *ffa)
{
	struct ffa_mem_region_attributes attr = {
		.receiver = ffa->fdev->vm_id,
		.attrs = FFA_MEM_RW,
	};
	struct ffa_mem_ops_args args = {
		.use_txbuf = true,
		.nattrs = 1,
		.attrs = &attr,
		.sg = ffa->sgt.sgl,
	};
	struct virtio_msg_ffa_area_share_req req = {
		.area_id = cpu_to_le16(VMSG_FFA_AREA_ID),
		.page_count = cpu_to_le32(ffa->pool_size /
					  VIRTIO_MSG_FFA_PAGE_SIZE),
		.sharing_attrs = cpu_to_le32(VIRTIO_MSG_FFA_SHARE_TYPE_SHARE |
					     VIRTIO_MSG_FFA_SHARE_WRITABLE |
					     VIRTIO_MSG_FFA_SHARE_INNER_SHAREABLE |
					     VIRTIO_MSG_FFA_SHARE_WRITE_BACK |
					     VIRTIO_MSG_FFA_SHARE_NORMAL |
					     VIRTIO_MSG_FFA_SHARE_NON_SECURE |
					     VIRTIO_MSG_FFA_SHARE_RETAIN),
	};
	int ret;

	if (!ffa->shared) {
		ret = ffa->ops->mem_ops->memory_share(&args);
		if (ret) {
			dev_err(&ffa->fdev->dev, "memory_share: %d\n", ret);
			return ret;
		}
		ffa->handle = args.g_handle;
		ffa->shared = true;
	}
	req.mem_handle = cpu_to_le64(ffa->handle);
	ret = vmsg_ffa_result_req(ffa, VIRTIO_MSG_FFA_AREA_SHARE, &req,
				  sizeof(req), true, 1);
	if (ret) {
		dev_err(&ffa->fdev->dev, "AREA_SHARE: %d\n", ret);
		return ret;
	}
	ffa->announced = true;
	return 0;
}

/*
 * AREA_UNSHARE unless the partition released the area, then
 * memory_reclaim. Context: @state_lock held; the core carries no request.
 */
static void vmsg_ffa_unshare(struct vmsg_ffa *ffa)
{
	struct virtio_msg_ffa_area_req req = {
		.area_id = cpu_to_le16(VMSG_FFA_AREA_ID),
	};
	struct virtio_msg_ffa_area_resp resp;
	unsigned int tries;
	int ret = 0;

	for (tries = 0; ffa->announced && tries < VMSG_FFA_UNSHARE_TRIES;
	     tries++) {
		if (tries)
			msleep(VMSG_FFA_UNSHARE_MS);
		ret = vmsg_ffa_own_req(ffa, VIRTIO_MSG_FFA_AREA_UNSHARE, &req,
				       sizeof(req), &resp, sizeof(resp));
		if (ret == -EBUSY)
			continue;
		if (ret)
			break;
		if (le16_to_cpu(resp.area_id) != VMSG_FFA_AREA_ID) {
			atomic_inc(&ffa->nr_bad);
			ret = -EPROTO;
			break;
		}
		ret = le16_to_cpu(resp.result);
		if (ret != VIRTIO_MSG_FFA_RESULT_BUSY)
			break;
	}
	if (ffa->announced && ret)
		dev_warn(&ffa->fdev->dev, "AREA_UNSHARE: %d\n", ret);
	ffa->announced = false;

	if (!ffa->shared)
		return;
	ret = ffa->ops->mem_ops->memory_reclaim(ffa->handle, 0);
	if (ret) {
		dev_err(&ffa->fdev->dev, "memory_reclaim: %d\n", ret);
		ffa->leaked = true;
	}
	ffa->shared = false;
}

/*
 * A partition just RESET maps no area: the device tree's region that a
 * failed reclaim left shared with it is reclaimed now, for the next
 * binding.
 */
static void vmsg_ffa_dt_retry(struct vmsg_ffa *ffa)
{
	mutex_lock(&vmsg_ffa_dt_lock);
	if (vmsg_ffa_dt_stranded && vmsg_ffa_dt_vm_id == ffa->fdev->vm_id &&
	    !ffa->ops->mem_ops->memory_reclaim(vmsg_ffa_dt_handle, 0)) {
		vmsg_ffa_dt_stranded = false;
		vmsg_ffa_dt_taken = false;
		dev_info(&ffa->fdev->dev,
			 "device-tree region reclaimed after the reset\n");
	}
	mutex_unlock(&vmsg_ffa_dt_lock);
}

/* RESET, events, memory: what a (re)started partition needs. */
static int vmsg_ffa_bringup(struct vmsg_ffa *ffa)
{
	int ret;

	ret = vmsg_ffa_version(ffa);
	if (ret)
		return ret;
	ret = vmsg_ffa_result_req(ffa, VIRTIO_MSG_FFA_RESET, NULL, 0, false,
				  1);
	if (ret) {
		dev_err(&ffa->fdev->dev, "RESET: %d\n", ret);
		return ret;
	}
	vmsg_ffa_dt_retry(ffa);
	ret = vmsg_ffa_events(ffa);
	if (ret) {
		dev_err(&ffa->fdev->dev, "EVENT_CONFIGURE: %d\n", ret);
		return ret;
	}
	return vmsg_ffa_share(ffa);
}

/* Drain the partition's events. Context: process (work item). */
static void vmsg_ffa_event_work(struct work_struct *work)
{
	struct vmsg_ffa *ffa = container_of(to_delayed_work(work),
					    struct vmsg_ffa, event_work);
	struct vmsg_ffa_msg poll = { }, ans;
	unsigned int n, max = READ_ONCE(event_poll_max);
	bool drained = false;
	int size;

	poll.hdr.type = VIRTIO_MSG_TYPE_BUS;
	poll.hdr.msg_id = VIRTIO_MSG_FFA_EVENT_POLL;
	poll.hdr.token = cpu_to_le16(VMSG_FFA_OWN_TOKEN);
	poll.hdr.msg_size = cpu_to_le16(VIRTIO_MSG_HDR_SIZE);

	/* A lost partition is polled again once it is back. */
	if (READ_ONCE(ffa->lost))
		return;
	for (n = 0; n < max; n++) {
		atomic_inc(&ffa->nr_polls);
		size = vmsg_ffa_xfer(ffa, &poll, VIRTIO_MSG_HDR_SIZE, &ans);
		if (size < 0) {
			drained = true;
			break;
		}
		if (vmsg_ffa_poll_empty(&ans, size, VMSG_FFA_OWN_TOKEN)) {
			drained = true;
			break;
		}
		if (!vmsg_ffa_is_event(&ans.hdr)) {
			atomic_inc(&ffa->nr_bad);
			dev_warn_ratelimited(&ffa->fdev->dev,
					     "EVENT_POLL answered with 0x%02x/0x%02x\n",
					     ans.hdr.type, ans.hdr.msg_id);
			drained = true;
			break;
		}
		atomic_inc(&ffa->nr_events);
		virtio_msg_bus_receive(&ffa->bus, ans.bytes, size);
	}
	if (n > ffa->drain_max)
		WRITE_ONCE(ffa->drain_max, n);

	/* More may be pending: a tick from now, so that others get a turn. */
	if (!drained)
		vmsg_ffa_queue_events(ffa, 1);
	else if (vmsg_ffa_polling(ffa))
		vmsg_ffa_queue_events(ffa,
				      msecs_to_jiffies(READ_ONCE(poll_interval_ms)) ?: 1);
}

/* &virtio_msg_bus_ops.bus_message. Context: that of the receive path. */
static void vmsg_ffa_bus_message(struct virtio_msg_bus *bus,
				 const struct virtio_msg_hdr *msg)
{
	struct vmsg_ffa *ffa = to_ffa(bus);

	if (vmsg_ffa_is_release(msg, VMSG_FFA_AREA_ID)) {
		if (!READ_ONCE(ffa->stopping))
			queue_work(vmsg_ffa_wq, &ffa->release_work);
		return;
	}
	/* ERROR answers a direct request in place; anything else is bad. */
	atomic_inc(&ffa->nr_bad);
	dev_warn_ratelimited(&ffa->fdev->dev,
			     "bus message 0x%02x dropped\n", msg->msg_id);
}

static void vmsg_ffa_release_work(struct work_struct *work)
{
	struct vmsg_ffa *ffa = container_of(work, struct vmsg_ffa,
					    release_work);

	mutex_lock(&ffa->state_lock);
	if (ffa->announced && !ffa->stopping) {
		dev_warn(&ffa->fdev->dev,
			 "partition released area %u: its devices are lost\n",
			 VMSG_FFA_AREA_ID);
		ffa->announced = false;
		if (!ffa->lost) {
			ffa->lost = true;
			virtio_msg_bus_peer_lost(&ffa->bus);
		}
		vmsg_ffa_unshare(ffa);
	}
	mutex_unlock(&ffa->state_lock);
}

static void vmsg_ffa_recover_work(struct work_struct *work)
{
	struct vmsg_ffa *ffa = container_of(to_delayed_work(work),
					    struct vmsg_ffa, recover_work);
	int ret;

	mutex_lock(&ffa->state_lock);
	if (ffa->stopping)
		goto out;
	if (!ffa->lost) {
		ffa->lost = true;
		virtio_msg_bus_peer_lost(&ffa->bus);
	}
	/* The restarted partition lost its mapping: share anew. */
	ret = vmsg_ffa_version(ffa);
	if (!ret) {
		ffa->announced = false;
		vmsg_ffa_unshare(ffa);
		if (!ffa->leaked)
			ret = vmsg_ffa_bringup(ffa);
		else
			ret = -ENOMEM;
	}
	if (ret) {
		if (ret != -ENOMEM)
			mod_delayed_work(vmsg_ffa_wq, &ffa->recover_work,
					 msecs_to_jiffies(VMSG_FFA_RECOVER_MS));
		goto out;
	}
	dev_info(&ffa->fdev->dev, "partition is back\n");
	ffa->lost = false;
	virtio_msg_bus_peer_restarted(&ffa->bus);
	vmsg_ffa_queue_events(ffa, 0);
out:
	mutex_unlock(&ffa->state_lock);
}

static int vmsg_ffa_stats_show(struct seq_file *m, void *v)
{
	struct vmsg_ffa *ffa = m->private;

	seq_printf(m, "busy %d\nbusy_failed %d\nbad %d\nerror %d\n",
		   atomic_read(&ffa->nr_busy), atomic_read(&ffa->nr_busy_failed),
		   atomic_read(&ffa->nr_bad), atomic_read(&ffa->nr_error));
	seq_printf(m, "polls %d\nevents %d\ndrain_max %u\n",
		   atomic_read(&ffa->nr_polls), atomic_read(&ffa->nr_events),
		   READ_ONCE(ffa->drain_max));
	/* Fixed while bound: set before the file exists. */
	seq_printf(m, "pool %s\npool_kb %zu\n",
		   ffa->dt_pool ? "dt" : "vmalloc", ffa->pool_size / SZ_1K);
	if (ffa->dt_pool)
		seq_printf(m, "pool_phys %pa\n", &ffa->pool_phys);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vmsg_ffa_stats);

static const struct virtio_msg_bus_ops vmsg_ffa_bus_ops = {
	.send = vmsg_ffa_send,
	.bus_message = vmsg_ffa_bus_message,
};

static const struct virtio_msg_bus_desc vmsg_ffa_desc = {
	.name = "virtio-msg-ffa",
	.ops = &vmsg_ffa_bus_ops,
	.max_msg_size = VIRTIO_MSG_FFA_MAX_MSG_SIZE,
	.flags = VIRTIO_MSG_BUS_F_ENUMERATE | VIRTIO_MSG_BUS_F_HOTPLUG |
		 VIRTIO_MSG_BUS_F_ACCESS_PLATFORM,
};

static int vmsg_ffa_probe(struct ffa_device *fdev)
{
	const struct virtio_msg_bus_params params = {
		.revision = VIRTIO_MSG_REVISION,
		.wire = VIRTIO_MSG_WIRE_V1,
		.max_msg_size = VIRTIO_MSG_FFA_MAX_MSG_SIZE,
	};
	struct virtio_msg_dma_window win = { };
	struct vmsg_ffa *ffa;
	int ret;

	if (!fdev->ops || !fdev->ops->msg_ops ||
	    !fdev->ops->msg_ops->sync_send_receive2 || !fdev->ops->mem_ops ||
	    !fdev->ops->info_ops)
		return -ENODEV;
	if (!ffa_partition_supports_direct_recv(fdev)) {
		dev_err(&fdev->dev,
			"partition takes no direct requests (indirect messaging needs a newer kernel)\n");
		return -ENODEV;
	}

	ffa = kzalloc(sizeof(*ffa), GFP_KERNEL);
	if (!ffa)
		return -ENOMEM;
	ffa->fdev = fdev;
	ffa->ops = fdev->ops;
	ffa->notif_id = -1;
	ffa->pool_size = PAGE_ALIGN(max_t(size_t, (size_t)pool_kb * SZ_1K,
					  VMSG_FFA_MIN_POOL));
	mutex_init(&ffa->xfer_lock);
	mutex_init(&ffa->state_lock);
	INIT_DELAYED_WORK(&ffa->event_work, vmsg_ffa_event_work);
	INIT_WORK(&ffa->release_work, vmsg_ffa_release_work);
	INIT_DELAYED_WORK(&ffa->recover_work, vmsg_ffa_recover_work);
	ffa->bus.parent = &fdev->dev;
	ffa->bus.desc = &vmsg_ffa_desc;
	/*
	 * A partition is no more trusted than a device: another world's
	 * software, which this kernel cannot vouch for.
	 */
	if (!READ_ONCE(trusted_device_side))
		ffa->bus.devices = virtio_msg_hardened_devices(true);
	ffa_dev_set_drvdata(fdev, ffa);

	ret = vmsg_ffa_pool_alloc(ffa);
	if (ret)
		goto err_free;
	ret = virtio_msg_bus_register(&ffa->bus);
	if (ret)
		goto err_pool;

	mutex_lock(&ffa->state_lock);
	ret = vmsg_ffa_bringup(ffa);
	if (!ret)
		ret = virtio_msg_bus_set_params(&ffa->bus, &params);
	if (!ret) {
		win.vaddr = ffa->pool;
		win.size = ffa->pool_size;
		win.bus_base = vmsg_ffa_bus_addr(VMSG_FFA_AREA_ID, 0);
		ret = virtio_msg_bus_set_dma_window(&ffa->bus, &win);
	}
	mutex_unlock(&ffa->state_lock);
	if (ret)
		goto err_unregister;

	ret = virtio_msg_bus_start(&ffa->bus);
	if (ret)
		goto err_unregister;
	vmsg_ffa_queue_events(ffa, 0);
	ffa->dbg = debugfs_create_dir(dev_name(&fdev->dev), vmsg_ffa_dbg_root);
	debugfs_create_file("stats", 0444, ffa->dbg, ffa, &vmsg_ffa_stats_fops);
	if (ffa->dt_pool)
		dev_info(&fdev->dev,
			 "virtio-msg bus: %s, %zu KiB at %pa (device tree) shared as area %u\n",
			 vmsg_ffa_polling(ffa) ? "polling" : "notifications",
			 ffa->pool_size / SZ_1K, &ffa->pool_phys,
			 VMSG_FFA_AREA_ID);
	else
		dev_info(&fdev->dev,
			 "virtio-msg bus: %s, %zu KiB (vmalloc) shared as area %u\n",
			 vmsg_ffa_polling(ffa) ? "polling" : "notifications",
			 ffa->pool_size / SZ_1K, VMSG_FFA_AREA_ID);
	return 0;

err_unregister:
	WRITE_ONCE(ffa->stopping, true);
	virtio_msg_bus_unregister(&ffa->bus);
	cancel_delayed_work_sync(&ffa->recover_work);
	mutex_lock(&ffa->state_lock);
	vmsg_ffa_notif_release(ffa);
	vmsg_ffa_unshare(ffa);
	mutex_unlock(&ffa->state_lock);
err_pool:
	vmsg_ffa_pool_free(ffa);
err_free:
	kfree(ffa);
	return ret;
}

static void vmsg_ffa_remove(struct ffa_device *fdev)
{
	struct vmsg_ffa *ffa = ffa_dev_get_drvdata(fdev);

	/*
	 * Devices go first, while events still flow: their drivers reset
	 * them. Then nothing is queued again, and the memory comes back.
	 */
	debugfs_remove_recursive(ffa->dbg);
	cancel_delayed_work_sync(&ffa->recover_work);
	virtio_msg_bus_unregister(&ffa->bus);
	WRITE_ONCE(ffa->stopping, true);
	cancel_delayed_work_sync(&ffa->recover_work);
	cancel_work_sync(&ffa->release_work);
	mutex_lock(&ffa->state_lock);
	vmsg_ffa_notif_release(ffa);
	mutex_unlock(&ffa->state_lock);
	cancel_delayed_work_sync(&ffa->event_work);
	mutex_lock(&ffa->state_lock);
	vmsg_ffa_unshare(ffa);
	mutex_unlock(&ffa->state_lock);
	vmsg_ffa_pool_free(ffa);
	kfree(ffa);
}

static const struct ffa_device_id vmsg_ffa_ids[] = {
	{ UUID_INIT(0xc66028b5, 0x2498, 0x4aa1,
		    0x9d, 0xe7, 0x77, 0xda, 0x61, 0x22, 0xab, 0xf0) },
	{ }
};
MODULE_DEVICE_TABLE(arm_ffa, vmsg_ffa_ids);
/* modpost of 6.12 makes no alias from an arm_ffa table: spell it out. */
MODULE_ALIAS("arm_ffa:*:" VIRTIO_MSG_FFA_DEVICE_UUID);

static struct ffa_driver vmsg_ffa_driver = {
	.name = "virtio-msg-ffa",
	.probe = vmsg_ffa_probe,
	.remove = vmsg_ffa_remove,
	.id_table = vmsg_ffa_ids,
};

static int __init vmsg_ffa_init(void)
{
	int ret;

	vmsg_ffa_wq = alloc_workqueue("virtio_msg_ffa",
				      WQ_UNBOUND | WQ_MEM_RECLAIM | WQ_SYSFS, 0);
	if (!vmsg_ffa_wq)
		return -ENOMEM;
	vmsg_ffa_dbg_root = debugfs_create_dir(KBUILD_MODNAME, NULL);
	ret = ffa_register(&vmsg_ffa_driver);
	if (ret) {
		debugfs_remove_recursive(vmsg_ffa_dbg_root);
		destroy_workqueue(vmsg_ffa_wq);
	}
	return ret;
}
module_init(vmsg_ffa_init);

static void __exit vmsg_ffa_exit(void)
{
	ffa_unregister(&vmsg_ffa_driver);
	debugfs_remove_recursive(vmsg_ffa_dbg_root);
	destroy_workqueue(vmsg_ffa_wq);
}
module_exit(vmsg_ffa_exit);

MODULE_IMPORT_NS(VIRTIO_MSG_NS);
MODULE_DESCRIPTION("virtio-msg FF-A bus: virtio devices served by FF-A partitions");
MODULE_LICENSE("GPL");

// SPDX-License-Identifier: GPL-2.0-only
/*
 * A simulated FF-A partition for testing virtio_msg_ffa.ko: test code.
 *
 * It registers one partition with the virtio-msg device-role UUID on the
 * real FF-A bus (ffa_device_register() with its own struct ffa_ops) and
 * plays its firmware and its virtio-msg bus: VERSION, RESET,
 * EVENT_CONFIGURE, EVENT_POLL and the areas are answered here, every
 * other message goes to a userspace device side through the character
 * device of ffa_sim.h. Like a partition, it answers busy now and then
 * (busy_every), rings its notification from a work item in atomic
 * context, and reaches the driver's memory only through the areas it was
 * told of, translated from area_id << 48 | offset.
 *
 * Counters are in debugfs, virtio_msg_ffa_sim/stats, with the physical
 * span of the last memory_share (share_lo to share_hi, exclusive) and its
 * number of ranges, so that a test can tell which memory the driver
 * shared. A hostile partition
 * is played on demand through virtio_msg_ffa_sim/control, one command per
 * write:
 *
 *   storm 0|1      answer every direct request busy
 *   bad MODE       mangle the device side's answers to transport
 *                  requests: none, msg_id, dev_num, token, type (no
 *                  response), long and short (msg_size out of range),
 *                  error (an ERROR naming another message)
 *   error 0|1      answer every request meant for the device side with an
 *                  ERROR naming it, at once
 *   flood N        N more events for a device that does not exist,
 *                  handed out by EVENT_POLL once the real ones are; each
 *                  rings the notification, and so does the command, so
 *                  that the drain starts without other traffic. flood 0
 *                  drops what is left. The stats count the events handed
 *                  out (flooded) and those left (flood_left), so that a
 *                  test can wait until all were drained.
 *   release ID     drop area ID if mapped, and queue AREA_RELEASE for it
 *   down 0|1       the partition is aborted: every direct request fails
 *                  with -ECANCELED, the areas and queued events are lost,
 *                  and the notification rings once so that the driver's
 *                  next message comes soon; down 0 brings it back, as
 *                  after a reset
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/arm_ffa.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/scatterlist.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/unaligned.h>
#include <linux/uuid.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <uapi/linux/virtio_msg.h>
#include <uapi/linux/virtio_msg_ffa.h>

#include "ffa_sim.h"

static unsigned int busy_every = 5;
module_param(busy_every, uint, 0644);
MODULE_PARM_DESC(busy_every, "Answer every Nth direct request busy (0: never)");

static bool notifications = true;
module_param(notifications, bool, 0444);
MODULE_PARM_DESC(notifications, "Offer FF-A notifications (else polling)");

static bool refuse_version;
module_param(refuse_version, bool, 0644);
MODULE_PARM_DESC(refuse_version, "Answer VERSION with ERROR");

static bool old_version;
module_param(old_version, bool, 0644);
MODULE_PARM_DESC(old_version, "Take only the older two-word VERSION request");

static unsigned int user_timeout_ms = 3000;
module_param(user_timeout_ms, uint, 0644);
MODULE_PARM_DESC(user_timeout_ms,
		 "How long a request waits for the device side before ERROR");

#define SIM_PART_ID	0x8001
#define SIM_MAX_AREAS	4
#define SIM_MAX_SHARES	8
#define SIM_MAX_RANGES	4096
#define SIM_QUEUE	64
#define SIM_EVENTS	256
#define SIM_MSG		VIRTIO_MSG_FFA_MAX_MSG_SIZE
/* The device number of the flood's events: no such device. */
#define SIM_FLOOD_DEV	0x7ffe

enum sim_bad {
	SIM_BAD_NONE,
	SIM_BAD_MSG_ID,
	SIM_BAD_DEV_NUM,
	SIM_BAD_TOKEN,
	SIM_BAD_TYPE,
	SIM_BAD_LONG,
	SIM_BAD_SHORT,
	SIM_BAD_ERROR,
};

static const char * const sim_bad_names[] = {
	[SIM_BAD_NONE] = "none",
	[SIM_BAD_MSG_ID] = "msg_id",
	[SIM_BAD_DEV_NUM] = "dev_num",
	[SIM_BAD_TOKEN] = "token",
	[SIM_BAD_TYPE] = "type",
	[SIM_BAD_LONG] = "long",
	[SIM_BAD_SHORT] = "short",
	[SIM_BAD_ERROR] = "error",
};

struct sim_msg {
	u16 len;
	u8 b[SIM_MSG];
};

struct sim_range {
	phys_addr_t phys;
	u64 len;
};

struct sim_share {
	u64 handle;
	unsigned int nr;
	u64 bytes;
	struct sim_range *ranges;
};

/*
 * struct ffa_sim - the partition
 * @xfer_lock: one direct request at a time, as one execution context
 * @lock: the queues, the pending request and the user flag
 * @mem_lock: shares and areas; held across copies so that a reclaim
 *	waits for them
 * @notif_lock: the notification callback, taken in atomic context as
 *	the FF-A driver does
 * @storm, @bad, @error, @down: the hostile modes of the control file;
 *	read without a lock, a mode takes effect from the next request
 * @flood_left: flood events not handed out yet, under @lock
 */
struct ffa_sim {
	struct ffa_device *fdev;
	struct work_struct reg_work;
	struct work_struct notif_work;
	struct mutex xfer_lock;		/* one request at a time */

	spinlock_t lock;		/* queues, pending request, @user */
	bool user;
	struct sim_msg to_dev[SIM_QUEUE];
	unsigned int to_head, to_count;
	struct sim_msg *events;
	unsigned int ev_head, ev_count;
	wait_queue_head_t read_wq;
	wait_queue_head_t resp_wq;
	bool pending, answered;
	struct virtio_msg_hdr pending_hdr;
	struct sim_msg resp;

	struct mutex mem_lock;		/* shares and areas, across copies */
	struct sim_share shares[SIM_MAX_SHARES];
	struct sim_share *areas[SIM_MAX_AREAS];
	u64 next_handle;
	phys_addr_t share_lo, share_hi;
	unsigned int share_ranges;

	spinlock_t notif_lock;		/* the callback; atomic like FF-A */
	ffa_notifier_cb notif_cb;
	void *notif_data;
	int notif_id;
	bool notif_on;

	unsigned long nr_msgs, nr_busy, nr_shares, nr_reclaims;
	unsigned long nr_area_shares, nr_area_unshares, nr_releases;
	unsigned long nr_notifs, nr_polls, nr_errors, nr_resets;
	unsigned long nr_versions, nr_isolation;
	unsigned long nr_mangled, nr_injected, nr_flooded, nr_aborted;
	struct dentry *dbg;

	bool storm;
	enum sim_bad bad;
	bool error;
	unsigned long flood_left;
	bool down;
};

static struct ffa_sim sim;

static const uuid_t sim_uuid =
	UUID_INIT(0xc66028b5, 0x2498, 0x4aa1,
		  0x9d, 0xe7, 0x77, 0xda, 0x61, 0x22, 0xab, 0xf0);

static void sim_regs_to_msg(const struct ffa_send_direct_data2 *r, u8 *b)
{
	unsigned int i;
	u8 block[VIRTIO_MSG_FFA_REGS_SIZE];

	for (i = 0; i < ARRAY_SIZE(r->data); i++)
		put_unaligned_le64(r->data[i], block + i * 8);
	memcpy(b, block, SIM_MSG);
}

static void sim_msg_to_regs(struct ffa_send_direct_data2 *r, const u8 *b,
			    size_t len)
{
	u8 block[VIRTIO_MSG_FFA_REGS_SIZE] = { };
	unsigned int i;

	memcpy(block, b, len);
	for (i = 0; i < ARRAY_SIZE(r->data); i++)
		r->data[i] = get_unaligned_le64(block + i * 8);
}

/* A bus response with @len payload bytes into @out. */
static size_t sim_bus_resp(u8 *out, const struct virtio_msg_hdr *req,
			   u8 msg_id, const void *payload, size_t len)
{
	struct virtio_msg_hdr *h = (void *)out;

	memset(out, 0, SIM_MSG);
	h->type = VIRTIO_MSG_TYPE_BUS | VIRTIO_MSG_TYPE_RESPONSE;
	h->msg_id = msg_id;
	h->token = req->token;
	h->msg_size = cpu_to_le16(VIRTIO_MSG_HDR_SIZE + len);
	memcpy(out + VIRTIO_MSG_HDR_SIZE, payload, len);
	return VIRTIO_MSG_HDR_SIZE + len;
}

static size_t sim_error(u8 *out, const struct virtio_msg_hdr *req)
{
	struct virtio_msg_ffa_error e = {
		.original_msg_id = cpu_to_le16(req->msg_id),
	};

	sim.nr_errors++;
	return sim_bus_resp(out, req, VIRTIO_MSG_FFA_ERROR, &e, sizeof(e));
}

static size_t sim_result(u8 *out, const struct virtio_msg_hdr *req, u16 res)
{
	struct virtio_msg_ffa_result_resp r = { .result = cpu_to_le16(res) };

	return sim_bus_resp(out, req, req->msg_id, &r, sizeof(r));
}

static size_t sim_area_result(u8 *out, const struct virtio_msg_hdr *req,
			      __le16 area, u16 res)
{
	struct virtio_msg_ffa_area_resp r = {
		.area_id = area, .result = cpu_to_le16(res),
	};

	return sim_bus_resp(out, req, req->msg_id, &r, sizeof(r));
}

static void sim_notif_work(struct work_struct *work)
{
	unsigned long flags;

	/* The FF-A driver calls back with a lock held: so do we. */
	spin_lock_irqsave(&sim.notif_lock, flags);
	if (sim.notif_cb && sim.notif_on) {
		sim.nr_notifs++;
		sim.notif_cb(sim.notif_id, sim.notif_data);
	}
	spin_unlock_irqrestore(&sim.notif_lock, flags);
}

static struct sim_share *sim_find_share(u64 handle)
{
	unsigned int i;

	for (i = 0; i < SIM_MAX_SHARES; i++)
		if (sim.shares[i].ranges && sim.shares[i].handle == handle)
			return &sim.shares[i];
	return NULL;
}

static size_t sim_area_share(u8 *out, const struct virtio_msg_hdr *req,
			     const u8 *payload, size_t plen)
{
	const struct virtio_msg_ffa_area_share_req *r = (const void *)payload;
	struct sim_share *s;
	u16 id;

	if (plen < sizeof(*r))
		return sim_error(out, req);
	id = le16_to_cpu(r->area_id);
	mutex_lock(&sim.mem_lock);
	s = sim_find_share(le64_to_cpu(r->mem_handle));
	if (!id || id >= SIM_MAX_AREAS || sim.areas[id] || !s ||
	    (u64)le32_to_cpu(r->page_count) * VIRTIO_MSG_FFA_PAGE_SIZE !=
	    s->bytes) {
		mutex_unlock(&sim.mem_lock);
		return sim_area_result(out, req, r->area_id,
				       VIRTIO_MSG_FFA_RESULT_ERROR);
	}
	sim.areas[id] = s;
	sim.nr_area_shares++;
	mutex_unlock(&sim.mem_lock);
	return sim_area_result(out, req, r->area_id,
			       VIRTIO_MSG_FFA_RESULT_SUCCESS);
}

static size_t sim_area_unshare(u8 *out, const struct virtio_msg_hdr *req,
			       const u8 *payload, size_t plen)
{
	const struct virtio_msg_ffa_area_req *r = (const void *)payload;
	u16 id, res = VIRTIO_MSG_FFA_RESULT_ERROR;

	if (plen < sizeof(*r))
		return sim_error(out, req);
	id = le16_to_cpu(r->area_id);
	mutex_lock(&sim.mem_lock);
	if (id && id < SIM_MAX_AREAS && sim.areas[id]) {
		sim.areas[id] = NULL;
		sim.nr_area_unshares++;
		res = VIRTIO_MSG_FFA_RESULT_SUCCESS;
	}
	mutex_unlock(&sim.mem_lock);
	return sim_area_result(out, req, r->area_id, res);
}

static size_t sim_version(u8 *out, const struct virtio_msg_hdr *req,
			  const u8 *payload, size_t plen)
{
	u32 features = VIRTIO_MSG_FFA_F_DIRECT_RX;

	sim.nr_versions++;
	if (notifications)
		features |= VIRTIO_MSG_FFA_F_NOTIF_RX | VIRTIO_MSG_FFA_F_NOTIF_TX;
	if (READ_ONCE(refuse_version))
		return sim_error(out, req);
	if (plen == sizeof(struct virtio_msg_ffa_version_req) &&
	    !READ_ONCE(old_version)) {
		struct virtio_msg_ffa_version_resp r = {
			.bus_version = cpu_to_le32(VIRTIO_MSG_FFA_BUS_VERSION_1_0),
			.transport_revision = cpu_to_le32(VIRTIO_MSG_REVISION),
			.ffa_version = cpu_to_le32(FFA_VERSION_1_2),
			.bus_features = cpu_to_le32(features),
			.max_areas = cpu_to_le16(SIM_MAX_AREAS - 1),
		};

		return sim_bus_resp(out, req, req->msg_id, &r, sizeof(r));
	}
	if (plen == VIRTIO_MSG_FFA_VERSION_REQ_SIZE_OLD) {
		struct virtio_msg_ffa_version_resp_old r = {
			.bus_version = cpu_to_le32(VIRTIO_MSG_FFA_BUS_VERSION_1_0),
			.transport_revision = cpu_to_le32(VIRTIO_MSG_REVISION),
			.bus_features = cpu_to_le32(features),
			.max_areas = cpu_to_le16(SIM_MAX_AREAS - 1),
		};

		return sim_bus_resp(out, req, req->msg_id, &r, sizeof(r));
	}
	return sim_error(out, req);
}

/*
 * One more event, for no device, and one more notification. Called with
 * @sim.lock held and @sim.flood_left already taken from.
 */
static size_t sim_flood_event(u8 *out)
{
	struct virtio_msg_hdr *h = (void *)out;

	memset(out, 0, SIM_MSG);
	h->msg_id = VIRTIO_MSG_EVENT_USED;
	h->dev_num = cpu_to_le16(SIM_FLOOD_DEV);
	h->msg_size = cpu_to_le16(VIRTIO_MSG_HDR_SIZE + sizeof(__le32));
	sim.nr_flooded++;
	queue_work(system_unbound_wq, &sim.notif_work);
	return VIRTIO_MSG_HDR_SIZE + sizeof(__le32);
}

/* The device side's answer @out to @req, as the bad mode asks. */
static size_t sim_mangle(u8 *out, size_t n, const struct virtio_msg_hdr *req)
{
	struct virtio_msg_hdr *h = (void *)out;

	/* Transport requests only: the bus lets its devices be enumerated. */
	if (req->type & VIRTIO_MSG_TYPE_BUS)
		return n;
	switch (READ_ONCE(sim.bad)) {
	case SIM_BAD_NONE:
		return n;
	case SIM_BAD_MSG_ID:
		h->msg_id ^= 0x01;
		break;
	case SIM_BAD_DEV_NUM:
		h->dev_num = cpu_to_le16(le16_to_cpu(h->dev_num) ^ 0x40);
		break;
	case SIM_BAD_TOKEN:
		h->token = cpu_to_le16(le16_to_cpu(h->token) ^ 0x5a5a);
		break;
	case SIM_BAD_TYPE:
		h->type &= ~VIRTIO_MSG_TYPE_RESPONSE;
		break;
	case SIM_BAD_LONG:
		h->msg_size = cpu_to_le16(VIRTIO_MSG_FFA_REGS_SIZE + 8);
		break;
	case SIM_BAD_SHORT:
		h->msg_size = cpu_to_le16(VIRTIO_MSG_HDR_SIZE - 4);
		break;
	case SIM_BAD_ERROR: {
		struct virtio_msg_hdr other = *req;

		other.msg_id ^= 0x01;
		/* Same token: an ERROR for this request, naming another. */
		n = sim_error(out, &other);
		break;
	}
	}
	sim.nr_mangled++;
	return n;
}

static size_t sim_bus(u8 *out, const u8 *in, size_t len)
{
	const struct virtio_msg_hdr *req = (const void *)in;
	const u8 *payload = in + VIRTIO_MSG_HDR_SIZE;
	size_t plen = len - VIRTIO_MSG_HDR_SIZE;
	const struct virtio_msg_ffa_event_configure_req *ec;
	unsigned long flags;
	size_t n;

	switch (req->msg_id) {
	case VIRTIO_MSG_FFA_VERSION:
		return sim_version(out, req, payload, plen);
	case VIRTIO_MSG_FFA_AREA_SHARE:
		return sim_area_share(out, req, payload, plen);
	case VIRTIO_MSG_FFA_AREA_UNSHARE:
		return sim_area_unshare(out, req, payload, plen);
	case VIRTIO_MSG_FFA_RESET:
		/*
		 * The bus state starts afresh: no area is mapped (a driver
		 * that could not unshare one gave its memory up for good).
		 */
		sim.nr_resets++;
		mutex_lock(&sim.mem_lock);
		memset(sim.areas, 0, sizeof(sim.areas));
		mutex_unlock(&sim.mem_lock);
		spin_lock_irqsave(&sim.lock, flags);
		sim.ev_count = 0;
		spin_unlock_irqrestore(&sim.lock, flags);
		return sim_result(out, req, VIRTIO_MSG_FFA_RESULT_SUCCESS);
	case VIRTIO_MSG_FFA_EVENT_CONFIGURE:
		if (plen < sizeof(*ec))
			return sim_error(out, req);
		ec = (const void *)payload;
		spin_lock_irqsave(&sim.notif_lock, flags);
		if (ec->event_method == VIRTIO_MSG_FFA_EVENT_NOTIF &&
		    sim.notif_cb &&
		    le16_to_cpu(ec->notif_id) == sim.notif_id) {
			sim.notif_on = true;
			n = VIRTIO_MSG_FFA_RESULT_SUCCESS;
		} else if (ec->event_method ==
			   VIRTIO_MSG_FFA_EVENT_POLL_METHOD) {
			sim.notif_on = false;
			n = VIRTIO_MSG_FFA_RESULT_SUCCESS;
		} else {
			n = VIRTIO_MSG_FFA_RESULT_ERROR;
		}
		spin_unlock_irqrestore(&sim.notif_lock, flags);
		return sim_result(out, req, n);
	case VIRTIO_MSG_FFA_EVENT_POLL:
		sim.nr_polls++;
		spin_lock_irqsave(&sim.lock, flags);
		if (sim.ev_count) {
			struct sim_msg *m = &sim.events[sim.ev_head];

			memset(out, 0, SIM_MSG);
			memcpy(out, m->b, m->len);
			n = m->len;
			sim.ev_head = (sim.ev_head + 1) % SIM_EVENTS;
			sim.ev_count--;
			spin_unlock_irqrestore(&sim.lock, flags);
			return n;
		}
		if (sim.flood_left) {
			sim.flood_left--;
			n = sim_flood_event(out);
			spin_unlock_irqrestore(&sim.lock, flags);
			return n;
		}
		spin_unlock_irqrestore(&sim.lock, flags);
		return sim_bus_resp(out, req, req->msg_id, NULL, 0);
	default:
		return sim_error(out, req);
	}
}

/* A message for the device side: queue it; wait for the response. */
static size_t sim_to_user(u8 *out, const u8 *in, size_t len)
{
	const struct virtio_msg_hdr *req = (const void *)in;
	bool event = req->msg_id & VIRTIO_MSG_ID_EVENT;
	struct sim_msg *m;
	unsigned long flags;
	long left;
	size_t n;

	if (!event && READ_ONCE(sim.error)) {
		sim.nr_injected++;
		return sim_error(out, req);
	}
	spin_lock_irqsave(&sim.lock, flags);
	if (!sim.user) {
		spin_unlock_irqrestore(&sim.lock, flags);
		return sim_error(out, req);
	}
	if (sim.to_count == SIM_QUEUE) {
		spin_unlock_irqrestore(&sim.lock, flags);
		sim.nr_busy++;
		return 0;
	}
	m = &sim.to_dev[(sim.to_head + sim.to_count++) % SIM_QUEUE];
	m->len = len;
	memcpy(m->b, in, len);
	if (!event) {
		sim.pending = true;
		sim.answered = false;
		sim.pending_hdr = *req;
	}
	spin_unlock_irqrestore(&sim.lock, flags);
	wake_up_interruptible(&sim.read_wq);

	if (event) {
		/* Acknowledged at once: the header, as a response. */
		memset(out, 0, SIM_MSG);
		memcpy(out, in, VIRTIO_MSG_HDR_SIZE);
		out[0] |= VIRTIO_MSG_TYPE_RESPONSE;
		put_unaligned_le16(VIRTIO_MSG_HDR_SIZE, out + 6);
		return VIRTIO_MSG_HDR_SIZE;
	}

	left = wait_event_timeout(sim.resp_wq, sim.answered || !sim.user ||
				  READ_ONCE(sim.down),
				  msecs_to_jiffies(READ_ONCE(user_timeout_ms)));
	spin_lock_irqsave(&sim.lock, flags);
	sim.pending = false;
	if (left && sim.answered) {
		memset(out, 0, SIM_MSG);
		memcpy(out, sim.resp.b, sim.resp.len);
		n = sim.resp.len;
		spin_unlock_irqrestore(&sim.lock, flags);
		return sim_mangle(out, n, req);
	}
	spin_unlock_irqrestore(&sim.lock, flags);
	return sim_error(out, req);
}

static int sim_send_receive2(struct ffa_device *dev, const uuid_t *uuid,
			     struct ffa_send_direct_data2 *data)
{
	u8 in[SIM_MSG], out[SIM_MSG];
	const struct virtio_msg_hdr *h = (const void *)in;
	unsigned int every = READ_ONCE(busy_every);
	size_t len, n;

	if (!uuid_equal(uuid, &sim_uuid))
		return -EINVAL;
	sim_regs_to_msg(data, in);
	len = le16_to_cpu(h->msg_size);
	if (len < VIRTIO_MSG_HDR_SIZE || len > SIM_MSG)
		return -EINVAL;

	mutex_lock(&sim.xfer_lock);
	sim.nr_msgs++;
	if (READ_ONCE(sim.down)) {
		sim.nr_aborted++;
		mutex_unlock(&sim.xfer_lock);
		return -ECANCELED;
	}
	if (READ_ONCE(sim.storm) || (every && !(sim.nr_msgs % every))) {
		sim.nr_busy++;
		mutex_unlock(&sim.xfer_lock);
		memset(data, 0, sizeof(*data));
		return 0;
	}
	if ((h->type & VIRTIO_MSG_TYPE_BUS) && h->msg_id >= VIRTIO_MSG_ID_IMPL)
		n = sim_bus(out, in, len);
	else
		n = sim_to_user(out, in, len);
	/* Went down while it served the request: the request is aborted. */
	if (READ_ONCE(sim.down)) {
		sim.nr_aborted++;
		mutex_unlock(&sim.xfer_lock);
		return -ECANCELED;
	}
	mutex_unlock(&sim.xfer_lock);
	if (n)
		sim_msg_to_regs(data, out, n);
	else
		memset(data, 0, sizeof(*data));
	return 0;
}

static int sim_send_receive(struct ffa_device *dev,
			    struct ffa_send_direct_data *data)
{
	return -EOPNOTSUPP;
}

static int sim_indirect_send(struct ffa_device *dev, void *buf, size_t sz)
{
	return -EOPNOTSUPP;
}

static void sim_mode_32bit_set(struct ffa_device *dev)
{
}

static int sim_memory_share(struct ffa_mem_ops_args *args)
{
	struct scatterlist *sg;
	struct sim_share *s = NULL;
	unsigned int i, nr = 0;

	if (!args->sg || args->nattrs != 1 || !args->attrs ||
	    args->attrs[0].receiver != SIM_PART_ID)
		return -EINVAL;
	for (sg = args->sg; sg; sg = sg_next(sg))
		if (++nr > SIM_MAX_RANGES)
			return -ENOMEM;

	mutex_lock(&sim.mem_lock);
	for (i = 0; i < SIM_MAX_SHARES; i++)
		if (!sim.shares[i].ranges) {
			s = &sim.shares[i];
			break;
		}
	if (!s) {
		mutex_unlock(&sim.mem_lock);
		return -ENOMEM;
	}
	s->ranges = kcalloc(nr, sizeof(*s->ranges), GFP_KERNEL);
	if (!s->ranges) {
		mutex_unlock(&sim.mem_lock);
		return -ENOMEM;
	}
	s->nr = nr;
	s->bytes = 0;
	sim.share_lo = PHYS_ADDR_MAX;
	sim.share_hi = 0;
	for (i = 0, sg = args->sg; sg; sg = sg_next(sg), i++) {
		s->ranges[i].phys = sg_phys(sg);
		s->ranges[i].len = sg->length;
		s->bytes += sg->length;
		sim.share_lo = min(sim.share_lo, s->ranges[i].phys);
		sim.share_hi = max(sim.share_hi,
				   s->ranges[i].phys + s->ranges[i].len);
	}
	sim.share_ranges = nr;
	s->handle = ++sim.next_handle;
	args->g_handle = s->handle;
	sim.nr_shares++;
	mutex_unlock(&sim.mem_lock);
	return 0;
}

static int sim_memory_lend(struct ffa_mem_ops_args *args)
{
	return -EOPNOTSUPP;
}

static int sim_memory_reclaim(u64 handle, u32 flags)
{
	struct sim_share *s;
	unsigned int i;

	mutex_lock(&sim.mem_lock);
	s = sim_find_share(handle);
	if (!s) {
		mutex_unlock(&sim.mem_lock);
		return -EINVAL;
	}
	/* The partition still maps it: the SPMC denies the reclaim. */
	for (i = 0; i < SIM_MAX_AREAS; i++)
		if (sim.areas[i] == s) {
			mutex_unlock(&sim.mem_lock);
			return -EACCES;
		}
	kfree(s->ranges);
	s->ranges = NULL;
	sim.nr_reclaims++;
	mutex_unlock(&sim.mem_lock);
	return 0;
}

static u32 sim_api_version(void)
{
	return FFA_VERSION_1_2;
}

static int sim_partition_info_get(const char *uuid_str,
				  struct ffa_partition_info *buffer)
{
	uuid_t u;

	if (uuid_str && *uuid_str && (uuid_parse(uuid_str, &u) ||
				      !uuid_equal(&u, &sim_uuid)))
		return 0;
	if (buffer) {
		memset(buffer, 0, sizeof(*buffer));
		buffer->id = SIM_PART_ID;
		buffer->exec_ctxt = 1;
		buffer->properties = FFA_PARTITION_DIRECT_RECV |
				     FFA_PARTITION_AARCH64_EXEC;
		memcpy(buffer->uuid, &sim_uuid, sizeof(buffer->uuid));
	}
	return 1;
}

static int sim_sched_recv_cb_register(struct ffa_device *dev,
				      ffa_sched_recv_cb cb, void *cb_data)
{
	return -EOPNOTSUPP;
}

static int sim_sched_recv_cb_unregister(struct ffa_device *dev)
{
	return -EOPNOTSUPP;
}

static int sim_notify_request(struct ffa_device *dev, bool per_vcpu,
			      ffa_notifier_cb cb, void *cb_data, int notify_id)
{
	unsigned long flags;
	int ret = 0;

	if (!notifications)
		return -EOPNOTSUPP;
	if (notify_id < 0 || notify_id >= 64 || per_vcpu)
		return -EINVAL;
	spin_lock_irqsave(&sim.notif_lock, flags);
	if (sim.notif_cb) {
		ret = -EBUSY;
	} else {
		sim.notif_cb = cb;
		sim.notif_data = cb_data;
		sim.notif_id = notify_id;
	}
	spin_unlock_irqrestore(&sim.notif_lock, flags);
	return ret;
}

static int sim_notify_relinquish(struct ffa_device *dev, int notify_id)
{
	unsigned long flags;
	int ret = -EINVAL;

	spin_lock_irqsave(&sim.notif_lock, flags);
	if (sim.notif_cb && sim.notif_id == notify_id) {
		sim.notif_cb = NULL;
		sim.notif_on = false;
		ret = 0;
	}
	spin_unlock_irqrestore(&sim.notif_lock, flags);
	return ret;
}

static int sim_notify_send(struct ffa_device *dev, int notify_id,
			   bool per_vcpu, u16 vcpu)
{
	return 0;
}

static const struct ffa_info_ops sim_info_ops = {
	.api_version_get = sim_api_version,
	.partition_info_get = sim_partition_info_get,
};

static const struct ffa_msg_ops sim_msg_ops = {
	.mode_32bit_set = sim_mode_32bit_set,
	.sync_send_receive = sim_send_receive,
	.indirect_send = sim_indirect_send,
	.sync_send_receive2 = sim_send_receive2,
};

static const struct ffa_mem_ops sim_mem_ops = {
	.memory_reclaim = sim_memory_reclaim,
	.memory_share = sim_memory_share,
	.memory_lend = sim_memory_lend,
};

static const struct ffa_notifier_ops sim_notifier_ops = {
	.sched_recv_cb_register = sim_sched_recv_cb_register,
	.sched_recv_cb_unregister = sim_sched_recv_cb_unregister,
	.notify_request = sim_notify_request,
	.notify_relinquish = sim_notify_relinquish,
	.notify_send = sim_notify_send,
};

static const struct ffa_ops sim_ops = {
	.info_ops = &sim_info_ops,
	.msg_ops = &sim_msg_ops,
	.mem_ops = &sim_mem_ops,
	.notifier_ops = &sim_notifier_ops,
};

static void sim_reg_work(struct work_struct *work)
{
	struct ffa_partition_info info;

	if (sim.fdev)
		return;
	sim_partition_info_get(NULL, &info);
	sim.fdev = ffa_device_register(&info, &sim_ops);
	if (!sim.fdev)
		pr_err("cannot register the partition\n");
}

/* Queue a device->driver event and ring the notification. */
static int sim_push_event(const u8 *b, size_t len)
{
	unsigned long flags;

	spin_lock_irqsave(&sim.lock, flags);
	if (sim.ev_count == SIM_EVENTS) {
		spin_unlock_irqrestore(&sim.lock, flags);
		return -EAGAIN;
	}
	sim.events[(sim.ev_head + sim.ev_count) % SIM_EVENTS].len = len;
	memcpy(sim.events[(sim.ev_head + sim.ev_count) % SIM_EVENTS].b, b,
	       len);
	sim.ev_count++;
	spin_unlock_irqrestore(&sim.lock, flags);
	queue_work(system_unbound_wq, &sim.notif_work);
	return 0;
}

/*
 * Give area @id up, if mapped, and tell the driver with AREA_RELEASE;
 * with @mapped_only, only an area that is mapped.
 */
static int sim_release_area(unsigned long id, bool mapped_only)
{
	struct {
		struct virtio_msg_hdr h;
		struct virtio_msg_ffa_area_req r;
	} __packed ev = { };
	bool mapped = false;

	if (!id || id > U16_MAX)
		return -EINVAL;
	mutex_lock(&sim.mem_lock);
	if (id < SIM_MAX_AREAS && sim.areas[id]) {
		sim.areas[id] = NULL;
		sim.nr_releases++;
		mapped = true;
	}
	mutex_unlock(&sim.mem_lock);
	if (mapped_only && !mapped)
		return -ENOENT;
	ev.h.type = VIRTIO_MSG_TYPE_BUS;
	ev.h.msg_id = VIRTIO_MSG_FFA_AREA_RELEASE;
	ev.h.msg_size = cpu_to_le16(sizeof(ev));
	ev.r.area_id = cpu_to_le16(id);
	return sim_push_event((u8 *)&ev, sizeof(ev));
}

/*
 * An aborted partition loses its mappings, its queues and its event
 * set-up; the SPMC still holds the memory transactions, which the driver
 * reclaims.
 */
static void sim_set_down(bool down)
{
	unsigned long flags;
	unsigned int i;

	if (!down) {
		WRITE_ONCE(sim.down, false);
		return;
	}
	WRITE_ONCE(sim.down, true);
	/*
	 * Ring once more: the driver learns of the abort from its next
	 * message, which should not wait for traffic.
	 */
	queue_work(system_unbound_wq, &sim.notif_work);
	flush_work(&sim.notif_work);
	mutex_lock(&sim.mem_lock);
	for (i = 0; i < SIM_MAX_AREAS; i++)
		sim.areas[i] = NULL;
	mutex_unlock(&sim.mem_lock);
	spin_lock_irqsave(&sim.lock, flags);
	sim.to_count = 0;
	sim.ev_count = 0;
	spin_unlock_irqrestore(&sim.lock, flags);
	spin_lock_irqsave(&sim.notif_lock, flags);
	sim.notif_on = false;
	spin_unlock_irqrestore(&sim.notif_lock, flags);
	wake_up(&sim.resp_wq);
}

static ssize_t sim_control_write(struct file *f, const char __user *ubuf,
				 size_t len, loff_t *ppos)
{
	char buf[32], *cmd, *arg;
	unsigned long flags, nr;
	unsigned int id;
	bool on;
	int ret;

	if (!len || len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	arg = strim(buf);
	cmd = strsep(&arg, " ");
	if (!arg)
		return -EINVAL;
	arg = skip_spaces(arg);

	if (!strcmp(cmd, "bad")) {
		ret = match_string(sim_bad_names, ARRAY_SIZE(sim_bad_names),
				   arg);
		if (ret >= 0)
			WRITE_ONCE(sim.bad, ret);
	} else if (!strcmp(cmd, "flood")) {
		ret = kstrtoul(arg, 0, &nr);
		if (ret)
			return ret;
		spin_lock_irqsave(&sim.lock, flags);
		/* Saturated: a huge count means "without end", not a wrap. */
		if (nr)
			sim.flood_left = min(sim.flood_left, ULONG_MAX - nr) + nr;
		else
			sim.flood_left = 0;
		spin_unlock_irqrestore(&sim.lock, flags);
		/* Start the drain: nothing else may ring or poll soon. */
		if (nr)
			queue_work(system_unbound_wq, &sim.notif_work);
	} else if (!strcmp(cmd, "release")) {
		ret = kstrtouint(arg, 0, &id);
		if (!ret)
			ret = sim_release_area(id, false);
	} else {
		ret = kstrtobool(arg, &on);
		if (ret)
			return ret;
		if (!strcmp(cmd, "storm"))
			WRITE_ONCE(sim.storm, on);
		else if (!strcmp(cmd, "error"))
			WRITE_ONCE(sim.error, on);
		else if (!strcmp(cmd, "down"))
			sim_set_down(on);
		else
			ret = -EINVAL;
	}
	return ret < 0 ? ret : len;
}

static const struct file_operations sim_control_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = sim_control_write,
	.llseek = noop_llseek,
};

static ssize_t sim_read(struct file *f, char __user *buf, size_t len,
			loff_t *ppos)
{
	struct sim_msg m;
	unsigned long flags;
	int ret;

	if (len < SIM_MSG)
		return -EINVAL;
	for (;;) {
		spin_lock_irqsave(&sim.lock, flags);
		if (sim.to_count) {
			m = sim.to_dev[sim.to_head];
			sim.to_head = (sim.to_head + 1) % SIM_QUEUE;
			sim.to_count--;
			spin_unlock_irqrestore(&sim.lock, flags);
			break;
		}
		spin_unlock_irqrestore(&sim.lock, flags);
		if (f->f_flags & O_NONBLOCK)
			return -EAGAIN;
		ret = wait_event_interruptible(sim.read_wq,
					       READ_ONCE(sim.to_count));
		if (ret)
			return ret;
	}
	if (copy_to_user(buf, m.b, m.len))
		return -EFAULT;
	return m.len;
}

static ssize_t sim_write(struct file *f, const char __user *buf, size_t len,
			 loff_t *ppos)
{
	u8 b[SIM_MSG];
	const struct virtio_msg_hdr *h = (const void *)b;
	unsigned long flags;
	int ret = -EINVAL;

	if (len < VIRTIO_MSG_HDR_SIZE || len > SIM_MSG)
		return -EMSGSIZE;
	if (copy_from_user(b, buf, len))
		return -EFAULT;
	if (le16_to_cpu(h->msg_size) != len)
		return -EINVAL;
	if (!(h->type & VIRTIO_MSG_TYPE_RESPONSE)) {
		if (!(h->msg_id & VIRTIO_MSG_ID_EVENT))
			return -EINVAL;
		ret = sim_push_event(b, len);
		return ret ?: len;
	}
	spin_lock_irqsave(&sim.lock, flags);
	if (sim.pending && !sim.answered &&
	    h->msg_id == sim.pending_hdr.msg_id &&
	    h->dev_num == sim.pending_hdr.dev_num &&
	    h->token == sim.pending_hdr.token) {
		sim.resp.len = len;
		memcpy(sim.resp.b, b, len);
		sim.answered = true;
		ret = len;
	}
	spin_unlock_irqrestore(&sim.lock, flags);
	if (ret > 0)
		wake_up(&sim.resp_wq);
	return ret;
}

static __poll_t sim_poll(struct file *f, poll_table *wait)
{
	poll_wait(f, &sim.read_wq, wait);
	return READ_ONCE(sim.to_count) ? EPOLLIN | EPOLLRDNORM : 0;
}

/* Copy between userspace and the areas; only what they cover. */
static int sim_mem(const struct vmsg_ffa_sim_mem __user *uarg, bool write)
{
	struct vmsg_ffa_sim_mem a;
	struct sim_share *s;
	u8 __user *ubuf;
	u64 off, area;
	unsigned int i;
	int ret = 0;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	if (a.len > VMSG_FFA_SIM_MEM_MAX)
		return -EINVAL;
	area = a.addr >> VIRTIO_MSG_FFA_AREA_SHIFT;
	off = a.addr & VIRTIO_MSG_FFA_OFFSET_MASK;
	ubuf = u64_to_user_ptr(a.buf);

	mutex_lock(&sim.mem_lock);
	s = area < SIM_MAX_AREAS ? sim.areas[area] : NULL;
	if (!s || off > s->bytes || a.len > s->bytes - off) {
		sim.nr_isolation++;
		ret = -EFAULT;
		goto out;
	}
	for (i = 0; i < s->nr && a.len; i++) {
		phys_addr_t p;
		size_t chunk;
		void *va;

		if (off >= s->ranges[i].len) {
			off -= s->ranges[i].len;
			continue;
		}
		p = s->ranges[i].phys + off;
		chunk = min_t(u64, a.len, s->ranges[i].len - off);
		chunk = min_t(size_t, chunk, PAGE_SIZE - offset_in_page(p));
		va = kmap_local_page(pfn_to_page(PHYS_PFN(p)));
		if (write)
			ret = copy_from_user(va + offset_in_page(p), ubuf,
					     chunk) ? -EFAULT : 0;
		else
			ret = copy_to_user(ubuf, va + offset_in_page(p),
					   chunk) ? -EFAULT : 0;
		kunmap_local(va);
		if (ret)
			break;
		ubuf += chunk;
		a.len -= chunk;
		/* The same range again, further on. */
		off += chunk;
		i--;
	}
out:
	mutex_unlock(&sim.mem_lock);
	return ret;
}

static long sim_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	switch (cmd) {
	case VMSG_FFA_SIM_START:
		schedule_work(&sim.reg_work);
		return 0;
	case VMSG_FFA_SIM_MEM_READ:
		return sim_mem((void __user *)arg, false);
	case VMSG_FFA_SIM_MEM_WRITE:
		return sim_mem((void __user *)arg, true);
	case VMSG_FFA_SIM_RELEASE_AREA:
		if (!arg || arg >= SIM_MAX_AREAS)
			return -EINVAL;
		return sim_release_area(arg, true);
	default:
		return -ENOTTY;
	}
}

static int sim_open(struct inode *inode, struct file *f)
{
	unsigned long flags;
	int ret = 0;

	spin_lock_irqsave(&sim.lock, flags);
	if (sim.user)
		ret = -EBUSY;
	sim.user = true;
	sim.to_count = 0;
	spin_unlock_irqrestore(&sim.lock, flags);
	return ret;
}

static int sim_release(struct inode *inode, struct file *f)
{
	unsigned long flags;

	spin_lock_irqsave(&sim.lock, flags);
	sim.user = false;
	sim.to_count = 0;
	sim.ev_count = 0;
	spin_unlock_irqrestore(&sim.lock, flags);
	wake_up(&sim.resp_wq);
	return 0;
}

static const struct file_operations sim_fops = {
	.owner = THIS_MODULE,
	.open = sim_open,
	.release = sim_release,
	.read = sim_read,
	.write = sim_write,
	.poll = sim_poll,
	.unlocked_ioctl = sim_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice sim_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "virtio-msg-ffa-sim",
	.fops = &sim_fops,
};

static int sim_stats_show(struct seq_file *m, void *v)
{
	unsigned long flags, flooded, flood_left;

	spin_lock_irqsave(&sim.lock, flags);
	flooded = sim.nr_flooded;
	flood_left = sim.flood_left;
	spin_unlock_irqrestore(&sim.lock, flags);
	seq_printf(m, "messages %lu\nbusy %lu\nshares %lu\nreclaims %lu\n",
		   sim.nr_msgs, sim.nr_busy, sim.nr_shares, sim.nr_reclaims);
	seq_printf(m, "area_shares %lu\narea_unshares %lu\nreleases %lu\n",
		   sim.nr_area_shares, sim.nr_area_unshares, sim.nr_releases);
	seq_printf(m, "notifications %lu\npolls %lu\nerrors %lu\n",
		   sim.nr_notifs, sim.nr_polls, sim.nr_errors);
	seq_printf(m, "resets %lu\nversions %lu\nisolation %lu\n",
		   sim.nr_resets, sim.nr_versions, sim.nr_isolation);
	seq_printf(m, "mangled %lu\ninjected %lu\nflooded %lu\n",
		   sim.nr_mangled, sim.nr_injected, flooded);
	seq_printf(m, "flood_left %lu\naborted %lu\n", flood_left,
		   sim.nr_aborted);
	mutex_lock(&sim.mem_lock);
	seq_printf(m, "share_lo %pa\nshare_hi %pa\nshare_ranges %u\n",
		   &sim.share_lo, &sim.share_hi, sim.share_ranges);
	mutex_unlock(&sim.mem_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(sim_stats);

static int __init sim_init(void)
{
	int ret;

	mutex_init(&sim.xfer_lock);
	mutex_init(&sim.mem_lock);
	spin_lock_init(&sim.lock);
	spin_lock_init(&sim.notif_lock);
	init_waitqueue_head(&sim.read_wq);
	init_waitqueue_head(&sim.resp_wq);
	INIT_WORK(&sim.reg_work, sim_reg_work);
	INIT_WORK(&sim.notif_work, sim_notif_work);
	sim.events = kcalloc(SIM_EVENTS, sizeof(*sim.events), GFP_KERNEL);
	if (!sim.events)
		return -ENOMEM;
	ret = misc_register(&sim_misc);
	if (ret) {
		kfree(sim.events);
		return ret;
	}
	sim.dbg = debugfs_create_dir("virtio_msg_ffa_sim", NULL);
	debugfs_create_file("stats", 0444, sim.dbg, NULL, &sim_stats_fops);
	debugfs_create_file("control", 0200, sim.dbg, NULL, &sim_control_fops);
	return 0;
}

static void __exit sim_exit(void)
{
	unsigned int i;

	misc_deregister(&sim_misc);
	flush_work(&sim.reg_work);
	if (sim.fdev)
		ffa_device_unregister(sim.fdev);
	flush_work(&sim.notif_work);
	debugfs_remove_recursive(sim.dbg);
	for (i = 0; i < SIM_MAX_SHARES; i++)
		kfree(sim.shares[i].ranges);
	kfree(sim.events);
}
module_init(sim_init);
module_exit(sim_exit);

MODULE_DESCRIPTION("Simulated FF-A partition serving virtio-msg devices (test code)");
MODULE_LICENSE("GPL");

// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-msg AMP bus: virtio-msg messages through a memory region shared
 * with another processor, with doorbells in both directions.
 */

/**
 * DOC: Theory of Operation
 *
 * A glue driver (PCI, device tree) maps the region and calls
 * vmsg_amp_create(). The region holds the layout of
 * include/uapi/linux/virtio_msg_amp.h, which the device side wrote; this
 * module is the driver side. Everything read from the region is untrusted:
 * the header is copied once and validated, every index and status is
 * checked each time it is read, and each message is copied out of its
 * element before the core looks at it.
 *
 * The link to the device side is a small state machine run by one work
 * item (@link_work) under @link_lock:
 *
 * - STALE: we wrote INIT, but the device side still shows RUN from a
 *   previous driver: its indices are old. It restarts when it sees our
 *   INIT; only then do we write READY, so we never read the old session.
 * - READY: we wrote READY and wait for the device side's RUN, which it
 *   writes only on our READY: a restart of either side is thereby always
 *   acknowledged by the other before messages flow again.
 * - RUN: both sides up; messages flow. The first RUN starts the bus (the
 *   core enumerates with GET_DEVICES), a later one reports
 *   virtio_msg_bus_peer_restarted().
 * - DEAD: the device side broke a rule (an index out of range, a magic
 *   that changed, a status that makes no sense, no answer to PING): we
 *   wrote PEER_DEAD and wait for it to restart.
 *
 * An orderly SHUTDOWN, a PEER_DEAD from the device side or a restart
 * (INIT or READY after RUN) reports virtio_msg_bus_peer_lost() and takes
 * the link back to READY, with our side reset. Nothing is reloaded: the
 * core removes the broken devices and enumerates again once the link is
 * back in RUN.
 *
 * Sending: messages are copied into the driver queue under @tx_lock, a
 * spinlock, so that kicks (send_event, notify_vq) work in any context;
 * a full queue makes them return -EAGAIN and the receive path calls
 * virtio_msg_bus_tx_ready() once the device side made room. Requests
 * (send) wait, bounded, for room instead. Doorbells are owed, not rung,
 * while a receive pass runs, so that everything the driver callbacks send
 * in response goes out with one doorbell at the end of the pass.
 *
 * Receiving: vmsg_amp_doorbell() (the glue's interrupt handler, or the
 * poll work) drains the device queue, a bounded number of messages per
 * pass, and the device side's notification words; what is left goes to a
 * work item.
 *
 * Heartbeat: while the link is RUN, a bus PING goes out every
 * heartbeat_ms, so that a device side that died without a word is noticed
 * (unless it says it is DEBUGGABLE).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <kunit/visibility.h>
#include <linux/atomic.h>
#include <linux/bitops.h>
#include <linux/debugfs.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/idr.h>
#include <linux/iopoll.h>
#include <linux/jiffies.h>
#include <linux/kstrtox.h>
#include <linux/ktime.h>
#include <linux/minmax.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/sizes.h>
#include <linux/spinlock.h>
#include <linux/virtio_msg.h>
#include <linux/virtio_msg_amp.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

static unsigned int layout_wait_ms = 5000;
module_param(layout_wait_ms, uint, 0644);
MODULE_PARM_DESC(layout_wait_ms,
		 "How long a new region may lack the layout magic before it is refused (ms, default 5000)");

static unsigned int handshake_ms = 5000;
module_param(handshake_ms, uint, 0644);
MODULE_PARM_DESC(handshake_ms,
		 "How long probing waits for the device side's hand-shake before it goes on in the background (ms, default 5000)");

static unsigned int heartbeat_ms = 1000;
module_param(heartbeat_ms, uint, 0644);
MODULE_PARM_DESC(heartbeat_ms,
		 "Period of the bus PING that checks a running device side is alive (ms, 0: off, default 1000)");

static bool trusted_device_side;
module_param(trusted_device_side, bool, 0644);
MODULE_PARM_DESC(trusted_device_side,
		 "Buses created from now on serve every device type with every feature: the device side is as trusted as this kernel (default N: blk, net, rng and console, with the features of virtio_msg_hardened_devices())");

/* Messages one receive pass takes before it leaves the rest to a work item. */
#define VMSG_AMP_RX_BUDGET		64
/* Notification bits one receive pass handles, for the same reason. */
#define VMSG_AMP_NOTIF_BUDGET		256
/* How long a request waits for room in a full driver queue. */
#define VMSG_AMP_SEND_WAIT_MS		5000
/* A waiting request looks again this often, in case no doorbell comes. */
#define VMSG_AMP_SEND_RECHECK_MS	10
/* Link checks while a hand-shake is due, then while the peer is away. */
#define VMSG_AMP_LINK_FAST_MS		50
#define VMSG_AMP_LINK_SLOW_MS		1000
/* Most PINGs one write to the debugfs "ping" file sends. */
#define VMSG_AMP_PING_MAX		100000
/* How often the layout magic is looked for while a region is new. */
#define VMSG_AMP_LAYOUT_POLL_US		10000

enum vmsg_amp_link {
	VMSG_AMP_LINK_STALE,
	VMSG_AMP_LINK_READY,
	VMSG_AMP_LINK_RUN,
	VMSG_AMP_LINK_DEAD,
};

static const char * const amp_link_names[] = {
	[VMSG_AMP_LINK_STALE]	= "stale",
	[VMSG_AMP_LINK_READY]	= "ready",
	[VMSG_AMP_LINK_RUN]	= "run",
	[VMSG_AMP_LINK_DEAD]	= "dead",
};

/* Counters of an instance, in debugfs (see "Statistics" in the doc). */
enum vmsg_amp_stat {
	AMP_STAT_MSGS_SENT,
	AMP_STAT_MSGS_RECEIVED,
	AMP_STAT_DOORBELLS_RUNG,
	AMP_STAT_DOORBELLS_TAKEN,
	AMP_STAT_NOTIF_SENT,
	AMP_STAT_NOTIF_RECEIVED,
	AMP_STAT_QUEUE_FULL,
	AMP_STAT_TX_READY,
	AMP_STAT_PEER_LOST,
	AMP_STAT_PEER_BACK,
	AMP_STAT_FAULTS,
	AMP_NR_STATS
};

static const char * const amp_stat_names[AMP_NR_STATS] = {
	[AMP_STAT_MSGS_SENT]		= "messages_sent",
	[AMP_STAT_MSGS_RECEIVED]	= "messages_received",
	[AMP_STAT_DOORBELLS_RUNG]	= "doorbells_rung",
	[AMP_STAT_DOORBELLS_TAKEN]	= "doorbells_taken",
	[AMP_STAT_NOTIF_SENT]		= "notifications_sent",
	[AMP_STAT_NOTIF_RECEIVED]	= "notifications_received",
	[AMP_STAT_QUEUE_FULL]		= "queue_full",
	[AMP_STAT_TX_READY]		= "tx_ready",
	[AMP_STAT_PEER_LOST]		= "peer_lost",
	[AMP_STAT_PEER_BACK]		= "peer_back",
	[AMP_STAT_FAULTS]		= "faults",
};

/* debugfs: one directory per instance, named amp<id>. */
static struct dentry *amp_debugfs_root;
static DEFINE_IDA(amp_ida);

/**
 * struct vmsg_amp - one bus instance over one region
 * @bus: the instance as the core sees it
 * @cfg: what the glue gave vmsg_amp_create()
 * @g: the validated layout
 * @hdr: the header as validated, to recognise it when it is rewritten
 * @own: the driver side's queue head
 * @peer: the device side's queue head
 * @own_elems: the driver-to-device message queue
 * @peer_elems: the device-to-driver message queue
 * @own_notif: the driver side's notification words (tx, rx, mask)
 * @peer_notif: the device side's notification words
 * @tx_lock: protects @tx_open, @tx_tail, @tx_blocked, @rx_active,
 *	@db_msgs, @db_room, @tx_toggle, @tx_words, @peer_head_seen and the
 *	driver queue and tx words in the region; a spinlock taken with
 *	interrupts off because kicks come from any context. Taken inside
 *	@rx_lock, never around it.
 * @tx_open: messages may be sent (link RUN, no fault, not stopped)
 * @tx_tail: private copy of our producer index
 * @tx_blocked: a kick met a full queue; call virtio_msg_bus_tx_ready()
 *	when room appears
 * @rx_active: a receive pass runs: doorbells are owed to its end
 * @db_msgs: messages queued since the last doorbell
 * @db_room: a receive pass emptied a full device queue: ring once
 * @tx_toggle: notification bits to toggle with the next doorbell
 * @tx_words: private copy of our tx notification words
 * @peer_head_seen: the device side's consumer index when last looked at
 * @tx_gen: changes whenever senders waiting for room should look again
 * @tx_wq: requests waiting for room
 * @rx_lock: serialises receive passes and protects @rx_open, @rx_head,
 *	@rx_words, @rx_buf and @stopped; taken with interrupts off, since
 *	passes run in the glue's interrupt handler and in work items
 * @rx_open: the device queue may be read (link RUN, not stopped)
 * @rx_head: private copy of our consumer index
 * @rx_words: private copy of our rx notification words
 * @rx_buf: where each message is copied before the core sees it
 * @stopped: vmsg_amp_stop() closed the instance: no more work is queued
 * @rx_work: continues a receive pass that used its budget
 * @link_lock: serialises the link state machine (@link and what follows)
 *	with start and stop; a mutex because it calls into the core
 * @link: see DOC: Theory of Operation
 * @dead_status: the peer's status when last looked at in DEAD
 * @started: virtio_msg_bus_start() was called
 * @lost: virtio_msg_bus_peer_lost() was called since the link was RUN
 * @stopping: vmsg_amp_stop() began: the link changes no more
 * @layout_warned: a changed layout header was reported
 * @wait_since: when the link began to wait for the peer
 * @link_work: runs the state machine
 * @link_wq: vmsg_amp_create() waits there for the first RUN
 * @fault: the peer broke a rule; @link_work declares it dead
 * @hb_work: the heartbeat
 * @hb_seq: data of the last PING
 * @poll_work: receive passes when the glue has no interrupt
 * @stats: counters, updated without locks; AMP_STAT_TX_READY is also
 *	read by the tests
 * @id: instance number, names the debugfs directory
 * @debugfs: that directory
 * @ping_lock: serialises runs of the debugfs "ping" file and protects
 *	their results, @ping_done to @ping_err; a mutex, the runs sleep
 * @ping_done: PINGs answered in the last run
 * @ping_ns: their total round-trip time
 * @ping_min_ns: the shortest
 * @ping_max_ns: the longest
 * @ping_err: what ended the last run early, or 0
 */
struct vmsg_amp {
	struct virtio_msg_bus bus;
	struct vmsg_amp_config cfg;
	struct vmsg_amp_geom g;
	struct virtio_msg_amp_layout hdr;
	struct virtio_msg_amp_queue_head *own;
	const struct virtio_msg_amp_queue_head *peer;
	u8 *own_elems;
	const u8 *peer_elems;
	__le64 *own_notif;
	const __le64 *peer_notif;

	/* The send path and the driver queue; see @tx_lock above. */
	spinlock_t tx_lock;
	bool tx_open;
	u16 tx_tail;
	bool tx_blocked;
	bool rx_active;
	unsigned int db_msgs;
	bool db_room;
	u64 tx_toggle[VIRTIO_MSG_AMP_MAX_NOTIF];
	u64 tx_words[VIRTIO_MSG_AMP_MAX_NOTIF];
	u16 peer_head_seen;
	unsigned int tx_gen;
	wait_queue_head_t tx_wq;

	/* Receive passes and the device queue; see @rx_lock above. */
	spinlock_t rx_lock;
	bool rx_open;
	u16 rx_head;
	u64 rx_words[VIRTIO_MSG_AMP_MAX_NOTIF];
	u8 *rx_buf;
	bool stopped;
	struct work_struct rx_work;

	/* The link state machine; see @link_lock above. */
	struct mutex link_lock;
	enum vmsg_amp_link link;
	u16 dead_status;
	bool started;
	bool lost;
	bool stopping;
	bool layout_warned;
	unsigned long wait_since;
	struct delayed_work link_work;
	wait_queue_head_t link_wq;

	atomic_t fault;
	struct delayed_work hb_work;
	u32 hb_seq;
	struct delayed_work poll_work;
	atomic_long_t stats[AMP_NR_STATS];
	int id;
	struct dentry *debugfs;
	/* Runs of the debugfs "ping" file; see @ping_lock above. */
	struct mutex ping_lock;
	unsigned int ping_done;
	u64 ping_ns;
	u64 ping_min_ns;
	u64 ping_max_ns;
	int ping_err;
};

static struct vmsg_amp *to_amp(struct virtio_msg_bus *bus)
{
	return container_of(bus, struct vmsg_amp, bus);
}

static void amp_count(struct vmsg_amp *amp, enum vmsg_amp_stat stat,
		      unsigned long n)
{
	atomic_long_add(n, &amp->stats[stat]);
}

/* ------------------------------------------------------------------------
 * The layout
 */

/*
 * vmsg_amp_parse_layout(), which also says in @why which rule the header
 * broke, for the log: whoever wrote the device side needs to know.
 */
static int amp_check_layout(const struct virtio_msg_amp_layout *l,
			    size_t size, size_t header_extra,
			    struct vmsg_amp_geom *g, const char **why)
{
	struct {
		u64 off;
		u64 len;
		unsigned int align;
	} a[7];
	u16 features = le16_to_cpu(l->features);
	unsigned int i, j, n = 0;
	u64 notif_len;

	*why = "region too small";
	if (header_extra > SZ_4K || size < sizeof(*l) + header_extra)
		return -EINVAL;
	*why = "bad magic or length";
	if (le16_to_cpu(l->magic) != VIRTIO_MSG_AMP_LAYOUT_MAGIC ||
	    le16_to_cpu(l->length) != sizeof(*l))
		return -EINVAL;
	*why = "unknown version";
	if (le16_to_cpu(l->version) != VIRTIO_MSG_AMP_LAYOUT_VERSION)
		return -EOPNOTSUPP;
	*why = "unknown features";
	if (features & ~VIRTIO_MSG_AMP_F_ALL)
		return -EOPNOTSUPP;
	*why = "reserved field not 0";
	if (l->reserved)
		return -EINVAL;

	memset(g, 0, sizeof(*g));
	g->num_elems = le16_to_cpu(l->num_queue_elements);
	g->elem_size = le16_to_cpu(l->size_queue_elements);
	g->num_notif = l->num_notif;
	g->vq_bits = l->num_vq_notif_per_device;
	g->masked = features & VIRTIO_MSG_AMP_F_MASKED_NOTIF;
	g->dev_head = le64_to_cpu(l->dev_queue_head_offset);
	g->dev_elems = le64_to_cpu(l->dev_queue_elements_offset);
	g->drv_head = le64_to_cpu(l->drv_queue_head_offset);
	g->drv_elems = le64_to_cpu(l->drv_queue_elements_offset);

	*why = "message queue too small";
	if (g->num_elems < VIRTIO_MSG_AMP_MIN_ELEMENTS ||
	    g->elem_size < VIRTIO_MSG_MAX_SIZE_MIN)
		return -EINVAL;
	*why = "too many notification words";
	if (g->num_notif > VIRTIO_MSG_AMP_MAX_NOTIF)
		return -EINVAL;
	if (g->num_notif) {
		*why = "bad notification bits per device";
		/* 1, 2, 4, 8 or 16 */
		if (!g->vq_bits || g->vq_bits > 16 || !is_power_of_2(g->vq_bits))
			return -EINVAL;
		g->dev_notif = le64_to_cpu(l->dev_notif_offset);
		g->drv_notif = le64_to_cpu(l->drv_notif_offset);
	} else {
		/* QEMU writes 0 for both: ignored, whatever they hold. */
		g->vq_bits = 0;
	}

	a[n++] = (typeof(a[0])){ 0, sizeof(*l) + header_extra, 1 };
	a[n++] = (typeof(a[0])){ g->dev_head,
				 sizeof(struct virtio_msg_amp_queue_head), 2 };
	a[n++] = (typeof(a[0])){ g->drv_head,
				 sizeof(struct virtio_msg_amp_queue_head), 2 };
	/* Below 2^32: both factors are 16-bit. */
	a[n++] = (typeof(a[0])){ g->dev_elems,
				 (u64)g->num_elems * g->elem_size, 1 };
	a[n++] = (typeof(a[0])){ g->drv_elems,
				 (u64)g->num_elems * g->elem_size, 1 };
	if (g->num_notif) {
		notif_len = (u64)g->num_notif * sizeof(__le64) *
			    (g->masked ? 3 : 2);
		a[n++] = (typeof(a[0])){ g->dev_notif, notif_len, 8 };
		a[n++] = (typeof(a[0])){ g->drv_notif, notif_len, 8 };
	}

	for (i = 0; i < n; i++) {
		/* Every area but the header has a non-zero offset. */
		*why = "zero offset";
		if (i && !a[i].off)
			return -EINVAL;
		*why = "misaligned offset";
		if (!IS_ALIGNED(a[i].off, a[i].align))
			return -EINVAL;
		/* In bounds, without adding before checking. */
		*why = "area out of bounds";
		if (a[i].off > size || a[i].len > size - a[i].off)
			return -EINVAL;
		g->end = max(g->end, a[i].off + a[i].len);
	}
	*why = "areas overlap";
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (a[i].off < a[j].off + a[j].len &&
			    a[j].off < a[i].off + a[i].len)
				return -EINVAL;
	*why = NULL;
	return 0;
}

#if IS_ENABLED(CONFIG_KUNIT)
/**
 * vmsg_amp_parse_layout() - validate a copy of the layout header
 * @l: the header, copied out of the region
 * @size: size of the region
 * @header_extra: bytes after the header that belong to it
 * @g: filled with the geometry when the header is valid
 *
 * Applies every rule of "Layout header" in
 * Documentation/driver-api/virtio/virtio_msg_amp.rst. All arithmetic is
 * in 64 bits on values below 2^32, and offsets are checked against @size
 * before they are added to anything.
 *
 * Context: any.
 * Return: 0, or -EINVAL for a header that breaks a rule, -EOPNOTSUPP for
 * an unknown version or unknown features.
 */
VISIBLE_IF_KUNIT int vmsg_amp_parse_layout(const struct virtio_msg_amp_layout *l,
					   size_t size, size_t header_extra,
					   struct vmsg_amp_geom *g)
{
	const char *why;

	return amp_check_layout(l, size, header_extra, g, &why);
}
EXPORT_SYMBOL_IF_KUNIT(vmsg_amp_parse_layout);
#endif

/*
 * The memory window: the part of the region after the last area of the
 * layout, rounded up to a page (the layout promises 4096 bytes; a page is
 * at least that), up to the end of the region. The device side knows every
 * byte of the region by its offset, so the window's bus base is its
 * offset. This is the one place that describes it.
 *
 * With VMSG_AMP_F_WINDOW it goes to the core, which then allocates the
 * vrings in it and bounces every buffer through it. Without this the
 * devices would map driver memory the device side cannot see.
 */
static int amp_window_register(struct vmsg_amp *amp)
{
	u64 start = round_up(amp->g.end, PAGE_SIZE);
	struct virtio_msg_dma_window win = { };

	if (!(amp->cfg.flags & VMSG_AMP_F_WINDOW))
		return 0;
	if (start < amp->cfg.size) {
		win.vaddr = amp->cfg.base + start;
		win.size = round_down(amp->cfg.size - start, PAGE_SIZE);
		win.bus_base = start;
	}
	if (!win.size) {
		dev_err(amp->cfg.parent,
			"the layout leaves no memory window in the region\n");
		return -ENOSPC;
	}
	return virtio_msg_bus_set_dma_window(&amp->bus, &win);
}

/* ------------------------------------------------------------------------
 * Shared memory accessors
 *
 * A write-combining mapping is not ordered by the smp_* barriers on every
 * architecture (x86 WC stores pass each other), so with VMSG_AMP_F_WC the
 * mandatory barriers order the stores instead, as the layout rules say.
 */

static bool amp_wc(const struct vmsg_amp *amp)
{
	return amp->cfg.flags & VMSG_AMP_F_WC;
}

/* Everything written before is visible before @v is. */
static void amp_store_release(const struct vmsg_amp *amp, __le16 *p, u16 v)
{
	if (amp_wc(amp)) {
		/* WC stores may pass each other: order them for the peer. */
		wmb();
		WRITE_ONCE(*p, cpu_to_le16(v));
	} else {
		/* Pairs with the peer's acquire load of the same word. */
		smp_store_release(p, cpu_to_le16(v));
	}
}

/* Nothing read after is read before the value returned. */
static u16 amp_load_acquire(const struct vmsg_amp *amp, const __le16 *p)
{
	__le16 v;

	if (amp_wc(amp)) {
		v = READ_ONCE(*p);
		/* What the peer wrote before @v, read after it. */
		rmb();
	} else {
		/* Pairs with the peer's release store of the same word. */
		v = smp_load_acquire(p);
	}
	return le16_to_cpu(v);
}

/* Our earlier stores before our later ones, as the peer sees them. */
static void amp_wmb(const struct vmsg_amp *amp)
{
	if (amp_wc(amp))
		wmb();	/* WC stores are not ordered by smp_wmb() */
	else
		smp_wmb();	/* pairs with the peer's read barrier */
}

/* Our earlier loads before our later ones. */
static void amp_rmb(const struct vmsg_amp *amp)
{
	if (amp_wc(amp))
		rmb();	/* as amp_wmb() */
	else
		smp_rmb();	/* pairs with the peer's write barrier */
}

static bool amp_layout_present(const struct vmsg_amp *amp)
{
	const __le16 *magic = amp->cfg.base;

	return le16_to_cpu(READ_ONCE(*magic)) == VIRTIO_MSG_AMP_LAYOUT_MAGIC;
}

/* The peer's status word (acquire), and whether its queue magic holds. */
static u16 amp_peer_status(const struct vmsg_amp *amp, bool *magic_ok)
{
	*magic_ok = le16_to_cpu(READ_ONCE(amp->peer->magic)) ==
		    VIRTIO_MSG_AMP_QUEUE_MAGIC;
	return amp_load_acquire(amp, &amp->peer->status);
}

static void amp_set_status(struct vmsg_amp *amp, u16 status)
{
	amp_store_release(amp, &amp->own->status, status);
}

static void amp_ring(struct vmsg_amp *amp, unsigned int n)
{
	amp_count(amp, AMP_STAT_DOORBELLS_RUNG, n);
	while (n--)
		amp->cfg.ops->ring(amp->cfg.priv);
}

/*
 * Ring for a status change. Not on a device side that takes one message
 * per doorbell: it would wait for a message that never comes.
 */
static void amp_ring_status(struct vmsg_amp *amp)
{
	if (!(amp->cfg.flags & VMSG_AMP_F_DOORBELL_PER_MSG))
		amp_ring(amp, 1);
}

/* The link state machine has something to look at. Any context. */
static void amp_kick_link(struct vmsg_amp *amp)
{
	mod_delayed_work(system_wq, &amp->link_work, 0);
}

/*
 * The peer broke a rule. Any context, any lock held: the send and receive
 * paths stop at once, @link_work declares the peer dead.
 */
static void amp_fault(struct vmsg_amp *amp, const char *why)
{
	if (!atomic_xchg(&amp->fault, 1)) {
		amp_count(amp, AMP_STAT_FAULTS, 1);
		dev_warn_ratelimited(amp->cfg.parent,
				     "device side broken: %s\n", why);
	}
	amp_kick_link(amp);
}

/* ------------------------------------------------------------------------
 * Sending
 */

/*
 * Doorbells owed, as a count; @tx_lock held. Toggles the notification
 * bits gathered since the last one (two toggles of one bit would cancel
 * out, hence the batching), and skips the doorbell when the peer masked
 * every bit toggled.
 */
static unsigned int amp_flush(struct vmsg_amp *amp)
{
	unsigned int n = 0, w, mask_off = 2 * amp->g.num_notif;
	bool toggled = false, wanted = false;

	lockdep_assert_held(&amp->tx_lock);

	if (amp->cfg.flags & VMSG_AMP_F_DOORBELL_PER_MSG) {
		/* One message per doorbell, and no doorbell without one. */
		n = amp->db_msgs;
		amp->db_msgs = 0;
		amp->db_room = false;
		return n;
	}

	if (amp->g.num_notif) {
		if (amp->db_msgs)
			amp->tx_toggle[0] |= BIT_ULL(VIRTIO_MSG_AMP_NOTIF_MSG_QUEUE);
		/* The vrings and the messages before the tx words. */
		amp_wmb(amp);
		for (w = 0; w < amp->g.num_notif; w++) {
			u64 t = amp->tx_toggle[w];
			u64 mask = 0;

			if (!t)
				continue;
			amp->tx_toggle[w] = 0;
			amp->tx_words[w] ^= t;
			WRITE_ONCE(amp->own_notif[w], cpu_to_le64(amp->tx_words[w]));
			toggled = true;
			if (amp->g.masked)
				mask = le64_to_cpu(READ_ONCE(amp->peer_notif[mask_off + w]));
			if (t & ~mask)
				wanted = true;
		}
		if (toggled && wanted)
			n = 1;
	} else if (amp->db_msgs) {
		n = 1;
	}
	/* Room in a queue that was full is worth a doorbell of its own. */
	if (amp->db_room)
		n = 1;
	amp->db_msgs = 0;
	amp->db_room = false;
	return n;
}

/* Copy one message into the driver queue; @tx_lock held. */
static int amp_enqueue(struct vmsg_amp *amp, const struct virtio_msg_hdr *msg)
{
	u16 len = le16_to_cpu(msg->msg_size);
	u16 n = amp->g.num_elems;
	u16 next, peer_head;

	if (len < sizeof(*msg) || len > amp->g.elem_size)
		return -EINVAL;
	/* Acquire: the peer copied the element out before it moved on. */
	peer_head = amp_load_acquire(amp, &amp->peer->head);
	if (peer_head >= n) {
		amp_fault(amp, "consumer index out of range");
		return -ENODEV;
	}
	next = amp->tx_tail + 1 == n ? 0 : amp->tx_tail + 1;
	if (next == peer_head)
		return -EAGAIN;
	memcpy(amp->own_elems + (size_t)amp->tx_tail * amp->g.elem_size, msg,
	       len);
	/* Release: the element before the index that hands it over. */
	amp_store_release(amp, &amp->own->tail, next);
	amp->tx_tail = next;
	amp->db_msgs++;
	amp_count(amp, AMP_STAT_MSGS_SENT, 1);
	return 0;
}

/*
 * Send @msg, or with @msg NULL toggle notification bit @bit. Any context.
 * Return: 0, -EAGAIN when the queue is full, -ENODEV when the peer is not
 * there, -EINVAL for a message the queue cannot carry.
 */
static int amp_tx(struct vmsg_amp *amp, const struct virtio_msg_hdr *msg,
		  unsigned int bit)
{
	unsigned int rings = 0;
	unsigned long flags;
	int ret = 0;

	spin_lock_irqsave(&amp->tx_lock, flags);
	if (!amp->tx_open || atomic_read(&amp->fault))
		ret = -ENODEV;
	else if (msg)
		ret = amp_enqueue(amp, msg);
	else
		amp->tx_toggle[bit / 64] |= BIT_ULL(bit % 64);
	if (!msg && !ret)
		amp_count(amp, AMP_STAT_NOTIF_SENT, 1);
	if (ret == -EAGAIN) {
		amp->tx_blocked = true;
		amp_count(amp, AMP_STAT_QUEUE_FULL, 1);
	}
	/* During a receive pass, its end rings for everything. */
	if (!amp->rx_active)
		rings = amp_flush(amp);
	spin_unlock_irqrestore(&amp->tx_lock, flags);
	amp_ring(amp, rings);
	return ret;
}

static int amp_send(struct virtio_msg_bus *bus,
		    const struct virtio_msg_hdr *msg)
{
	struct vmsg_amp *amp = to_amp(bus);
	unsigned long deadline = jiffies +
				 msecs_to_jiffies(VMSG_AMP_SEND_WAIT_MS);
	unsigned int gen;
	int ret;

	for (;;) {
		gen = READ_ONCE(amp->tx_gen);
		ret = amp_tx(amp, msg, 0);
		if (ret != -EAGAIN)
			return ret;
		if (time_after(jiffies, deadline))
			return -ETIMEDOUT;
		/*
		 * The receive path wakes us when the peer made room; the
		 * timeout covers a peer that makes room without a doorbell.
		 */
		wait_event_timeout(amp->tx_wq, READ_ONCE(amp->tx_gen) != gen,
				   msecs_to_jiffies(VMSG_AMP_SEND_RECHECK_MS));
	}
}

static int amp_send_event(struct virtio_msg_bus *bus,
			  const struct virtio_msg_hdr *msg)
{
	return amp_tx(to_amp(bus), msg, 0);
}

/* Notification bit of virtqueue @vq of device @dev, or 0 if it has none. */
static unsigned int amp_vq_bit(const struct vmsg_amp *amp, u16 dev, u32 vq)
{
	u64 bit;

	if (!amp->g.num_notif)
		return 0;
	bit = VIRTIO_MSG_AMP_NOTIF_VQ_BASE + (u64)dev * amp->g.vq_bits +
	      vq % amp->g.vq_bits;
	return bit < (u64)amp->g.num_notif * 64 ? bit : 0;
}

static int amp_notify_vq(struct virtio_msg_bus *bus, u16 dev_num,
			 u32 vq_index, u32 data)
{
	struct vmsg_amp *amp = to_amp(bus);
	unsigned int bit = amp_vq_bit(amp, dev_num, vq_index);
	struct {
		struct virtio_msg_hdr hdr;
		struct virtio_msg_event_avail avail;
	} ev = { };

	if (bit)
		return amp_tx(amp, NULL, bit);

	/* A device whose bits do not fit uses messages only. */
	ev.hdr.msg_id = VIRTIO_MSG_EVENT_AVAIL;
	ev.hdr.dev_num = cpu_to_le16(dev_num);
	ev.hdr.msg_size = cpu_to_le16(sizeof(ev));
	ev.avail.vq_index = cpu_to_le32(vq_index);
	ev.avail.next_offset = cpu_to_le32(data);
	return amp_tx(amp, &ev.hdr, 0);
}

/*
 * The DMA device of every device on a bus without VMSG_AMP_F_WINDOW: the
 * glue's parent, for a device side that reaches driver memory itself (the
 * virtio-msg-amp-pci card). With a window the core never asks.
 */
static struct device *amp_dma_device(struct virtio_msg_bus *bus, u16 dev_num)
{
	return to_amp(bus)->cfg.parent;
}

/* ------------------------------------------------------------------------
 * Receiving
 */

/* Drain the device queue; @rx_lock held. Returns true if work is left. */
static bool amp_rx_queue(struct vmsg_amp *amp)
{
	unsigned int budget = VMSG_AMP_RX_BUDGET;
	u16 n = amp->g.num_elems, head = amp->rx_head, tail, len;
	const u8 *elem;
	bool magic_ok, was_full;
	u16 status;

	status = amp_peer_status(amp, &magic_ok);
	if (!magic_ok || !amp_layout_present(amp)) {
		amp_fault(amp, "magic changed");
		return false;
	}
	if ((status & VIRTIO_MSG_AMP_STATUS_MASK) != VIRTIO_MSG_AMP_STATUS_RUN) {
		/* Read only while the peer is RUN; the link work looks. */
		amp_kick_link(amp);
		return false;
	}

	tail = amp_load_acquire(amp, &amp->peer->tail);
	if (tail >= n) {
		amp_fault(amp, "producer index out of range");
		return false;
	}
	was_full = (tail + 1 == n ? 0 : tail + 1) == head;

	while (head != tail) {
		if (!budget--)
			return true;
		/*
		 * Copied before anything looks at it: the header first, for
		 * the size, then as much of the rest as the size says and
		 * the element holds. A size out of range is the core's to
		 * refuse, on the copy.
		 */
		elem = amp->peer_elems + (size_t)head * amp->g.elem_size;
		memcpy(amp->rx_buf, elem, sizeof(struct virtio_msg_hdr));
		len = le16_to_cpu(((struct virtio_msg_hdr *)amp->rx_buf)->msg_size);
		len = clamp_t(u16, len, sizeof(struct virtio_msg_hdr),
			      amp->g.elem_size);
		memcpy(amp->rx_buf + sizeof(struct virtio_msg_hdr),
		       elem + sizeof(struct virtio_msg_hdr),
		       len - sizeof(struct virtio_msg_hdr));
		head = head + 1 == n ? 0 : head + 1;
		/* Release: the copy is done before the peer may reuse it. */
		amp_store_release(amp, &amp->own->head, head);
		amp->rx_head = head;
		amp_count(amp, AMP_STAT_MSGS_RECEIVED, 1);
		virtio_msg_bus_receive(&amp->bus, amp->rx_buf, len);
		if (atomic_read(&amp->fault))
			return false;

		if (head == tail) {
			tail = amp_load_acquire(amp, &amp->peer->tail);
			if (tail >= n) {
				amp_fault(amp, "producer index out of range");
				return false;
			}
		}
	}
	if (was_full) {
		spin_lock(&amp->tx_lock);
		amp->db_room = true;
		spin_unlock(&amp->tx_lock);
	}
	return false;
}

/*
 * Take the device side's notification bits; @rx_lock held. Returns true
 * when bits are left for another pass.
 */
static bool amp_rx_notif(struct vmsg_amp *amp)
{
	unsigned int left = VMSG_AMP_NOTIF_BUDGET, nn = amp->g.num_notif;
	unsigned int w, last = UINT_MAX;

	for (w = 0; w < nn; w++) {
		u64 pending, take;

		pending = le64_to_cpu(READ_ONCE(amp->peer_notif[w])) ^
			  amp->rx_words[w];
		if (!pending)
			continue;
		/* The peer's vring updates before its toggle. */
		amp_rmb(amp);
		take = pending;
		while (hweight64(take) > left)
			take &= ~BIT_ULL(fls64(take) - 1);
		/* Acknowledge first: a toggle after this is a new one. */
		amp->rx_words[w] ^= take;
		WRITE_ONCE(amp->own_notif[nn + w], cpu_to_le64(amp->rx_words[w]));
		left -= hweight64(take);
		amp_count(amp, AMP_STAT_NOTIF_RECEIVED, hweight64(take));

		while (take) {
			unsigned int bit = w * 64 + __ffs64(take), dev;

			take &= take - 1;

			/* The message queue is drained on every pass anyway. */
			if (bit < VIRTIO_MSG_AMP_NOTIF_VQ_BASE)
				continue;
			dev = (bit - VIRTIO_MSG_AMP_NOTIF_VQ_BASE) / amp->g.vq_bits;
			if (dev == last)
				continue;
			last = dev;
			/*
			 * The bit stands for every virtqueue of the device
			 * congruent to it modulo vq_bits; looking at all of
			 * them is a superset and costs only an idle check.
			 */
			virtio_msg_bus_notify_used(&amp->bus, dev,
						   VIRTIO_MSG_ALL_VQS);
		}
		if (!left)
			return true;
	}
	return false;
}

/* Senders waiting for room; @rx_lock held. */
static void amp_rx_room(struct vmsg_amp *amp)
{
	u16 n = amp->g.num_elems, head, next;
	bool room = false, blocked = false;

	spin_lock(&amp->tx_lock);
	head = amp_load_acquire(amp, &amp->peer->head);
	if (head >= n) {
		amp_fault(amp, "consumer index out of range");
	} else {
		room = head != amp->peer_head_seen;
		amp->peer_head_seen = head;
		next = amp->tx_tail + 1 == n ? 0 : amp->tx_tail + 1;
		if (amp->tx_blocked && next != head) {
			blocked = true;
			amp->tx_blocked = false;
		}
	}
	spin_unlock(&amp->tx_lock);

	if (room) {
		WRITE_ONCE(amp->tx_gen, amp->tx_gen + 1);
		wake_up_all(&amp->tx_wq);
	}
	if (blocked) {
		amp_count(amp, AMP_STAT_TX_READY, 1);
		virtio_msg_bus_tx_ready(&amp->bus);
	}
}

/* One receive pass. Any context. */
static void amp_rx(struct vmsg_amp *amp)
{
	unsigned long flags;
	unsigned int rings;
	bool more;

	spin_lock_irqsave(&amp->rx_lock, flags);
	if (!amp->rx_open || atomic_read(&amp->fault)) {
		/* A doorbell outside RUN is about the link. */
		if (!amp->stopped)
			amp_kick_link(amp);
		spin_unlock_irqrestore(&amp->rx_lock, flags);
		return;
	}
	spin_lock(&amp->tx_lock);
	amp->rx_active = true;
	spin_unlock(&amp->tx_lock);

	more = amp_rx_queue(amp);
	if (!atomic_read(&amp->fault))
		more |= amp_rx_notif(amp);
	if (!atomic_read(&amp->fault))
		amp_rx_room(amp);

	spin_lock(&amp->tx_lock);
	amp->rx_active = false;
	rings = amp_flush(amp);
	spin_unlock(&amp->tx_lock);
	if (more && !atomic_read(&amp->fault))
		queue_work(system_wq, &amp->rx_work);
	spin_unlock_irqrestore(&amp->rx_lock, flags);
	amp_ring(amp, rings);
}

static void amp_rx_work(struct work_struct *work)
{
	amp_rx(container_of(work, struct vmsg_amp, rx_work));
}

static void amp_poll_work(struct work_struct *work)
{
	struct vmsg_amp *amp = container_of(to_delayed_work(work),
					    struct vmsg_amp, poll_work);

	amp_rx(amp);
	if (!READ_ONCE(amp->stopped))
		queue_delayed_work(system_wq, &amp->poll_work,
				   msecs_to_jiffies(amp->cfg.poll_ms));
}

/* ------------------------------------------------------------------------
 * The link
 */

/* Open or close both directions. */
static void amp_set_open(struct vmsg_amp *amp, bool open)
{
	unsigned long flags;

	spin_lock_irqsave(&amp->rx_lock, flags);
	spin_lock(&amp->tx_lock);
	amp->rx_open = open;
	amp->tx_open = open;
	spin_unlock(&amp->tx_lock);
	spin_unlock_irqrestore(&amp->rx_lock, flags);
	/* Requests waiting for room see the change. */
	WRITE_ONCE(amp->tx_gen, amp->tx_gen + 1);
	wake_up_all(&amp->tx_wq);
}

/*
 * Our side back to zero: our message queue, notification words, indices
 * and private copies. Both directions closed.
 */
static void amp_reset_own(struct vmsg_amp *amp)
{
	unsigned int words = amp->g.num_notif * (amp->g.masked ? 3 : 2);
	unsigned long flags;

	spin_lock_irqsave(&amp->rx_lock, flags);
	spin_lock(&amp->tx_lock);
	amp->tx_tail = 0;
	amp->rx_head = 0;
	amp->peer_head_seen = 0;
	amp->db_msgs = 0;
	amp->db_room = false;
	memset(amp->tx_toggle, 0, sizeof(amp->tx_toggle));
	memset(amp->tx_words, 0, sizeof(amp->tx_words));
	memset(amp->rx_words, 0, sizeof(amp->rx_words));
	memset(amp->own_elems, 0,
	       (size_t)amp->g.num_elems * amp->g.elem_size);
	if (words)
		memset(amp->own_notif, 0, words * sizeof(__le64));
	WRITE_ONCE(amp->own->tail, 0);
	WRITE_ONCE(amp->own->head, 0);
	spin_unlock(&amp->tx_lock);
	spin_unlock_irqrestore(&amp->rx_lock, flags);
}

/* (Re)start our side: INIT, reset, READY, doorbell. @link_lock held. */
static void amp_restart_own(struct vmsg_amp *amp)
{
	amp_set_status(amp, VIRTIO_MSG_AMP_STATUS_INIT);
	amp_reset_own(amp);
	/* Release: the reset before READY. */
	amp_set_status(amp, VIRTIO_MSG_AMP_STATUS_READY);
	amp_ring_status(amp);
	amp->link = VMSG_AMP_LINK_READY;
	amp->wait_since = jiffies;
}

/* The devices lose their peer; @link_lock held. */
static void amp_peer_gone(struct vmsg_amp *amp)
{
	amp_set_open(amp, false);
	if (amp->started && !amp->lost) {
		amp->lost = true;
		amp_count(amp, AMP_STAT_PEER_LOST, 1);
		virtio_msg_bus_peer_lost(&amp->bus);
	}
}

/* The peer broke a rule: PEER_DEAD until it restarts. @link_lock held. */
static void amp_go_dead(struct vmsg_amp *amp, u16 status)
{
	amp_peer_gone(amp);
	amp_set_status(amp, VIRTIO_MSG_AMP_STATUS_PEER_DEAD);
	amp_ring_status(amp);
	amp->link = VMSG_AMP_LINK_DEAD;
	amp->dead_status = status;
	dev_warn_ratelimited(amp->cfg.parent, "device side declared dead\n");
}

/* The peer runs: so do we. @link_lock held. */
static void amp_go_run(struct vmsg_amp *amp)
{
	amp_set_status(amp, VIRTIO_MSG_AMP_STATUS_RUN);
	amp_set_open(amp, true);
	amp_ring_status(amp);
	amp->link = VMSG_AMP_LINK_RUN;

	if (!amp->started) {
		amp->started = true;
		virtio_msg_bus_start(&amp->bus);
	} else if (amp->lost) {
		amp->lost = false;
		amp_count(amp, AMP_STAT_PEER_BACK, 1);
		dev_info_ratelimited(amp->cfg.parent, "device side back\n");
		virtio_msg_bus_peer_restarted(&amp->bus);
	}
	/* Whatever the peer sent before our RUN. */
	queue_work(system_wq, &amp->rx_work);
	if (heartbeat_ms)
		mod_delayed_work(system_wq, &amp->hb_work,
				 msecs_to_jiffies(heartbeat_ms));
}

/* Next look, in ms, while waiting for the peer. */
static unsigned int amp_wait_ms(const struct vmsg_amp *amp)
{
	return time_before(jiffies, amp->wait_since +
			   msecs_to_jiffies(handshake_ms)) ?
	       VMSG_AMP_LINK_FAST_MS : VMSG_AMP_LINK_SLOW_MS;
}

/*
 * Outside RUN, the layout must be the one validated: a device side that
 * comes back with another layout needs the device bound again.
 */
static bool amp_layout_same(struct vmsg_amp *amp)
{
	struct virtio_msg_amp_layout now;

	if (!amp_layout_present(amp))
		return false;
	amp_rmb(amp);
	memcpy(&now, amp->cfg.base, sizeof(now));
	if (!memcmp(&now, &amp->hdr, sizeof(now))) {
		amp->layout_warned = false;
		return true;
	}
	if (!amp->layout_warned)
		dev_warn(amp->cfg.parent,
			 "layout changed; bind the device again to use it\n");
	amp->layout_warned = true;
	return false;
}

/* One step of the state machine; returns ms to the next look, or 0. */
static unsigned int amp_link_step(struct vmsg_amp *amp)
{
	bool magic_ok;
	u16 raw, st;

	raw = amp_peer_status(amp, &magic_ok);
	st = raw & VIRTIO_MSG_AMP_STATUS_MASK;

	if (amp->link == VMSG_AMP_LINK_RUN) {
		if (atomic_read(&amp->fault)) {
			amp_go_dead(amp, st);
			return VMSG_AMP_LINK_SLOW_MS;
		}
		if (!magic_ok || !amp_layout_present(amp)) {
			dev_warn_ratelimited(amp->cfg.parent,
					     "device side broken: magic changed\n");
			amp_go_dead(amp, st);
			return VMSG_AMP_LINK_SLOW_MS;
		}
		switch (st) {
		case VIRTIO_MSG_AMP_STATUS_RUN:
			return 0;
		case VIRTIO_MSG_AMP_STATUS_READY:
		case VIRTIO_MSG_AMP_STATUS_INIT:
			dev_info_ratelimited(amp->cfg.parent, "device side restarted\n");
			break;
		case VIRTIO_MSG_AMP_STATUS_SHUTDOWN:
			dev_info_ratelimited(amp->cfg.parent, "device side shut down\n");
			break;
		case VIRTIO_MSG_AMP_STATUS_PEER_DEAD:
			dev_info_ratelimited(amp->cfg.parent, "device side gave up on us\n");
			break;
		default:
			dev_warn_ratelimited(amp->cfg.parent,
					     "device side broken: status %#x\n",
					     raw);
			amp_go_dead(amp, st);
			return VMSG_AMP_LINK_SLOW_MS;
		}
		amp_peer_gone(amp);
		amp_restart_own(amp);
		return amp_wait_ms(amp);
	}

	/* A fault seen outside RUN has nothing more to stop. */
	atomic_set(&amp->fault, 0);
	if (!amp_layout_same(amp))
		return VMSG_AMP_LINK_SLOW_MS;

	switch (amp->link) {
	case VMSG_AMP_LINK_STALE:
		if (magic_ok && st == VIRTIO_MSG_AMP_STATUS_RUN)
			return amp_wait_ms(amp);
		amp_set_status(amp, VIRTIO_MSG_AMP_STATUS_READY);
		amp_ring_status(amp);
		amp->link = VMSG_AMP_LINK_READY;
		fallthrough;
	case VMSG_AMP_LINK_READY:
		/* The device side goes RUN on our READY only. */
		if (!magic_ok || st != VIRTIO_MSG_AMP_STATUS_RUN)
			return amp_wait_ms(amp);
		amp_go_run(amp);
		return 0;
	case VMSG_AMP_LINK_DEAD:
		/* Back once it went (again) through INIT or READY. */
		if (magic_ok && st != amp->dead_status &&
		    (st == VIRTIO_MSG_AMP_STATUS_INIT ||
		     st == VIRTIO_MSG_AMP_STATUS_READY)) {
			amp_restart_own(amp);
			return amp_link_step(amp);
		}
		amp->dead_status = magic_ok ? st : U16_MAX;
		return VMSG_AMP_LINK_SLOW_MS;
	default:
		return 0;
	}
}

static void amp_link_work(struct work_struct *work)
{
	struct vmsg_amp *amp = container_of(to_delayed_work(work),
					    struct vmsg_amp, link_work);
	unsigned int next = 0;

	mutex_lock(&amp->link_lock);
	if (!amp->stopping)
		next = amp_link_step(amp);
	else if (atomic_read(&amp->fault) && amp->link == VMSG_AMP_LINK_RUN)
		/* Removal must not wait for a peer that broke meanwhile. */
		amp_go_dead(amp, U16_MAX);
	mutex_unlock(&amp->link_lock);
	wake_up_all(&amp->link_wq);
	/* A kick queued meanwhile stays as it is. */
	if (next)
		queue_delayed_work(system_wq, &amp->link_work,
				   msecs_to_jiffies(next));
}

/* PING the peer: 0 when it answered with @data. Process context. */
static int amp_ping(struct vmsg_amp *amp, u32 data)
{
	struct {
		struct virtio_msg_hdr hdr;
		struct virtio_msg_bus_ping ping;
	} req = { }, resp = { };
	int ret;

	req.hdr.type = VIRTIO_MSG_TYPE_BUS;
	req.hdr.msg_id = VIRTIO_MSG_BUS_PING;
	req.hdr.msg_size = cpu_to_le16(sizeof(req));
	req.ping.data = cpu_to_le32(data);
	ret = virtio_msg_bus_transfer(&amp->bus, &req.hdr, &resp.hdr,
				      sizeof(resp));
	if (ret < 0)
		return ret;
	if (ret < sizeof(resp) || resp.ping.data != req.ping.data)
		return -EPROTO;
	return 0;
}

static void amp_hb_work(struct work_struct *work)
{
	struct vmsg_amp *amp = container_of(to_delayed_work(work),
					    struct vmsg_amp, hb_work);
	bool magic_ok, run;
	u16 raw;
	int ret;

	mutex_lock(&amp->link_lock);
	run = amp->link == VMSG_AMP_LINK_RUN && !amp->stopping;
	mutex_unlock(&amp->link_lock);
	if (!run || !READ_ONCE(heartbeat_ms))
		return;

	/* A status that changed without a doorbell. */
	amp_kick_link(amp);
	raw = amp_peer_status(amp, &magic_ok);
	if ((raw & VIRTIO_MSG_AMP_STATUS_MASK) == VIRTIO_MSG_AMP_STATUS_RUN &&
	    !(raw & VIRTIO_MSG_AMP_STATUS_DEBUGGABLE)) {
		ret = amp_ping(amp, ++amp->hb_seq);
		/* -ENODEV: lost or going away, which others handle. */
		if (ret && ret != -ENODEV && ret != -EINTR)
			amp_fault(amp, "no answer to PING");
	}
	queue_delayed_work(system_wq, &amp->hb_work,
			   msecs_to_jiffies(READ_ONCE(heartbeat_ms) ?: 1000));
}

static const struct virtio_msg_bus_ops vmsg_amp_bus_ops = {
	.send		= amp_send,
	.send_event	= amp_send_event,
	.notify_vq	= amp_notify_vq,
	.dma_device	= amp_dma_device,
};

#define VMSG_AMP_BUS_FLAGS						\
	(VIRTIO_MSG_BUS_F_ENUMERATE | VIRTIO_MSG_BUS_F_HOTPLUG |	\
	 VIRTIO_MSG_BUS_F_ACCESS_PLATFORM |				\
	 VIRTIO_MSG_BUS_F_PEER_REQUESTS | VIRTIO_MSG_BUS_F_REMOVE_LOST)

static const struct virtio_msg_bus_desc vmsg_amp_desc = {
	.name		= "amp",
	.ops		= &vmsg_amp_bus_ops,
	.max_msg_size	= VIRTIO_MSG_MAX_SIZE_MAX,
	.flags		= VMSG_AMP_BUS_FLAGS,
};

/* With notification words: kicks toggle bits instead of EVENT_AVAIL. */
static const struct virtio_msg_bus_desc vmsg_amp_desc_oob = {
	.name		= "amp",
	.ops		= &vmsg_amp_bus_ops,
	.max_msg_size	= VIRTIO_MSG_MAX_SIZE_MAX,
	.flags		= VMSG_AMP_BUS_FLAGS | VIRTIO_MSG_BUS_F_OOB_NOTIFY |
			  VIRTIO_MSG_BUS_F_NO_NOTIFICATION_DATA,
};

/* ------------------------------------------------------------------------
 * Statistics
 */

static int amp_stats_show(struct seq_file *m, void *v)
{
	struct vmsg_amp *amp = m->private;
	unsigned int i;

	seq_printf(m, "parent %s\n", dev_name(amp->cfg.parent));
	/* A racy look is fine: it is for people and benchmarks. */
	seq_printf(m, "link %s\n", amp_link_names[READ_ONCE(amp->link)]);
	for (i = 0; i < AMP_NR_STATS; i++)
		seq_printf(m, "%s %lu\n", amp_stat_names[i],
			   atomic_long_read(&amp->stats[i]));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(amp_stats);

/*
 * Writing N to "ping" sends N bus PINGs, one after the other, and times
 * them; reading it shows the last run. A measurement of the queues alone,
 * without virtqueues or devices.
 */
static ssize_t amp_ping_write(struct file *file, const char __user *ubuf,
			      size_t len, loff_t *ppos)
{
	struct vmsg_amp *amp = file_inode(file)->i_private;
	u64 t0, t1, total = 0, min = U64_MAX, max = 0;
	unsigned int n, i, done = 0;
	int ret;

	ret = kstrtouint_from_user(ubuf, len, 0, &n);
	if (ret)
		return ret;
	if (!n || n > VMSG_AMP_PING_MAX)
		return -EINVAL;
	if (mutex_lock_interruptible(&amp->ping_lock))
		return -EINTR;
	for (i = 0; i < n; i++) {
		t0 = ktime_get_ns();
		ret = amp_ping(amp, i);
		t1 = ktime_get_ns();
		if (ret)
			break;
		done++;
		total += t1 - t0;
		min = min(min, t1 - t0);
		max = max(max, t1 - t0);
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		cond_resched();
	}
	amp->ping_done = done;
	amp->ping_ns = total;
	amp->ping_min_ns = done ? min : 0;
	amp->ping_max_ns = max;
	amp->ping_err = ret;
	mutex_unlock(&amp->ping_lock);
	return ret ?: len;
}

static int amp_ping_show(struct seq_file *m, void *v)
{
	struct vmsg_amp *amp = m->private;

	mutex_lock(&amp->ping_lock);
	seq_printf(m, "pings %u\nerror %d\ntotal_ns %llu\nmin_ns %llu\nmax_ns %llu\n",
		   amp->ping_done, amp->ping_err, amp->ping_ns,
		   amp->ping_min_ns, amp->ping_max_ns);
	mutex_unlock(&amp->ping_lock);
	return 0;
}

static int amp_ping_open(struct inode *inode, struct file *file)
{
	return single_open(file, amp_ping_show, inode->i_private);
}

static const struct file_operations amp_ping_fops = {
	.owner		= THIS_MODULE,
	.open		= amp_ping_open,
	.read		= seq_read,
	.write		= amp_ping_write,
	.llseek		= seq_lseek,
	.release	= single_release,
};

/* Failures are not fatal: debugfs is optional. */
static void amp_debugfs_add(struct vmsg_amp *amp)
{
	char name[16];

	amp->id = ida_alloc(&amp_ida, GFP_KERNEL);
	if (amp->id < 0)
		return;
	snprintf(name, sizeof(name), "amp%d", amp->id);
	amp->debugfs = debugfs_create_dir(name, amp_debugfs_root);
	debugfs_create_file("stats", 0444, amp->debugfs, amp, &amp_stats_fops);
	debugfs_create_file("ping", 0600, amp->debugfs, amp, &amp_ping_fops);
}

static void amp_debugfs_remove(struct vmsg_amp *amp)
{
	debugfs_remove_recursive(amp->debugfs);
	amp->debugfs = NULL;
	if (amp->id >= 0)
		ida_free(&amp_ida, amp->id);
	amp->id = -1;
}

/* ------------------------------------------------------------------------
 * The glue's API
 */

static u16 amp_read_magic(const void *base)
{
	const __le16 *magic = base;

	return le16_to_cpu(READ_ONCE(*magic));
}

/**
 * vmsg_amp_create() - bring up a bus over a shared region
 * @cfg: the region, its doorbell and its parent device; copied
 *
 * Waits (bounded by the layout_wait_ms module parameter) for the layout
 * magic, validates the header, resets the driver side's areas, registers
 * a virtio-msg bus and runs the hand-shake. When the device side
 * completes it within handshake_ms the bus is started (devices are
 * enumerated) before this returns; otherwise the hand-shake goes on in
 * the background and the bus starts when the device side is there.
 *
 * The glue's interrupt may be enabled after this returns; it then calls
 * vmsg_amp_doorbell() once, for what came in meanwhile.
 *
 * Context: process; may sleep (up to layout_wait_ms + handshake_ms).
 * Return: the instance, or an ERR_PTR(): -ENODEV when the layout magic
 * did not come, -EINVAL or -EOPNOTSUPP for a layout that breaks the
 * rules, -ENOMEM, or an error of virtio_msg_bus_register().
 */
struct vmsg_amp *vmsg_amp_create(const struct vmsg_amp_config *cfg)
{
	const struct virtio_msg_amp_layout *l = cfg->base;
	struct vmsg_amp *amp;
	const char *why;
	bool magic_ok;
	u16 magic, st;
	int ret;

	if (!cfg->parent || !cfg->base || !cfg->ops || !cfg->ops->ring ||
	    cfg->size < sizeof(*l))
		return ERR_PTR(-EINVAL);

	ret = read_poll_timeout(amp_read_magic, magic,
				magic == VIRTIO_MSG_AMP_LAYOUT_MAGIC,
				VMSG_AMP_LAYOUT_POLL_US,
				(u64)READ_ONCE(layout_wait_ms) * USEC_PER_MSEC,
				false, cfg->base);
	if (ret) {
		dev_err(cfg->parent, "no virtio-msg AMP layout in the region\n");
		return ERR_PTR(-ENODEV);
	}

	amp = kzalloc(sizeof(*amp), GFP_KERNEL);
	if (!amp)
		return ERR_PTR(-ENOMEM);
	amp->id = -1;
	amp->cfg = *cfg;

	/* The magic (read above) before the rest of the header. */
	amp_rmb(amp);
	memcpy(&amp->hdr, l, sizeof(amp->hdr));
	ret = amp_check_layout(&amp->hdr, cfg->size, cfg->header_extra,
			       &amp->g, &why);
	if (ret) {
		dev_err(cfg->parent, "invalid virtio-msg AMP layout: %s (%pe)\n",
			why, ERR_PTR(ret));
		goto err_free;
	}
	if ((cfg->flags & VMSG_AMP_F_DOORBELL_PER_MSG) && amp->g.num_notif)
		dev_info(cfg->parent,
			 "notification words unused: one doorbell per message\n");

	amp->own = cfg->base + amp->g.drv_head;
	amp->peer = cfg->base + amp->g.dev_head;
	amp->own_elems = cfg->base + amp->g.drv_elems;
	amp->peer_elems = cfg->base + amp->g.dev_elems;
	if (amp->g.num_notif) {
		amp->own_notif = cfg->base + amp->g.drv_notif;
		amp->peer_notif = cfg->base + amp->g.dev_notif;
	}

	amp->rx_buf = kmalloc(amp->g.elem_size, GFP_KERNEL);
	if (!amp->rx_buf) {
		ret = -ENOMEM;
		goto err_free;
	}

	spin_lock_init(&amp->tx_lock);
	spin_lock_init(&amp->rx_lock);
	mutex_init(&amp->link_lock);
	mutex_init(&amp->ping_lock);
	init_waitqueue_head(&amp->tx_wq);
	init_waitqueue_head(&amp->link_wq);
	INIT_WORK(&amp->rx_work, amp_rx_work);
	INIT_DELAYED_WORK(&amp->link_work, amp_link_work);
	INIT_DELAYED_WORK(&amp->hb_work, amp_hb_work);
	INIT_DELAYED_WORK(&amp->poll_work, amp_poll_work);

	/* Our queue head: INIT first, then the magic, then the reset. */
	amp_set_status(amp, VIRTIO_MSG_AMP_STATUS_INIT);
	WRITE_ONCE(amp->own->magic, cpu_to_le16(VIRTIO_MSG_AMP_QUEUE_MAGIC));
	amp_reset_own(amp);

	amp->bus.parent = cfg->parent;
	amp->bus.max_msg_size = amp->g.elem_size;
	/* The other processor is no more trusted than a device. */
	if (!READ_ONCE(trusted_device_side))
		amp->bus.devices = virtio_msg_hardened_devices(true);
	if (amp->g.num_notif && !(cfg->flags & VMSG_AMP_F_DOORBELL_PER_MSG))
		amp->bus.desc = &vmsg_amp_desc_oob;
	else
		amp->bus.desc = &vmsg_amp_desc;
	ret = virtio_msg_bus_register(&amp->bus);
	if (ret)
		goto err_status;
	ret = amp_window_register(amp);
	if (ret) {
		dev_err(cfg->parent, "no DMA window: %pe\n", ERR_PTR(ret));
		goto err_unregister;
	}
	amp_debugfs_add(amp);

	mutex_lock(&amp->link_lock);
	amp->wait_since = jiffies;
	st = amp_peer_status(amp, &magic_ok) & VIRTIO_MSG_AMP_STATUS_MASK;
	if (magic_ok && st == VIRTIO_MSG_AMP_STATUS_RUN) {
		/* Left from a previous driver: it restarts on our INIT. */
		amp->link = VMSG_AMP_LINK_STALE;
	} else {
		amp_set_status(amp, VIRTIO_MSG_AMP_STATUS_READY);
		amp->link = VMSG_AMP_LINK_READY;
	}
	mutex_unlock(&amp->link_lock);
	amp_ring_status(amp);
	amp_kick_link(amp);
	if (cfg->poll_ms)
		queue_delayed_work(system_wq, &amp->poll_work,
				   msecs_to_jiffies(cfg->poll_ms));

	if (!wait_event_timeout(amp->link_wq,
				READ_ONCE(amp->link) == VMSG_AMP_LINK_RUN,
				msecs_to_jiffies(READ_ONCE(handshake_ms))))
		dev_info(cfg->parent,
			 "device side not ready yet; waiting for it\n");
	return amp;

err_unregister:
	virtio_msg_bus_unregister(&amp->bus);
err_status:
	amp_set_status(amp, VIRTIO_MSG_AMP_STATUS_SHUTDOWN);
err_free:
	kfree(amp->rx_buf);
	kfree(amp);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_NS_GPL(vmsg_amp_create, VIRTIO_MSG_NS);

/**
 * vmsg_amp_doorbell() - the device side rang: look at the region
 * @amp: the instance
 *
 * Drains the device queue and the notification words, a bounded amount
 * per call (the rest goes to a work item), and notices status changes.
 * Spurious calls are harmless.
 *
 * Context: any, hard IRQ included. Not after vmsg_amp_destroy() began.
 */
void vmsg_amp_doorbell(struct vmsg_amp *amp)
{
	amp_count(amp, AMP_STAT_DOORBELLS_TAKEN, 1);
	amp_rx(amp);
}
EXPORT_SYMBOL_NS_GPL(vmsg_amp_doorbell, VIRTIO_MSG_NS);

/**
 * vmsg_amp_stop() - remove every device and tell the device side
 * @amp: the instance
 *
 * The devices are removed while the bus still carries messages, so the
 * glue's interrupt must still call vmsg_amp_doorbell() meanwhile (if the
 * device side is not RUN, the devices are failed first, so that nothing
 * waits for it). Then the instance stops reading the region, writes
 * SHUTDOWN and rings a last time. After this, vmsg_amp_doorbell() does
 * nothing and the glue may free its interrupt. Calling it twice is
 * harmless.
 *
 * Context: process; may sleep (bounded by the bus timeout per request).
 */
void vmsg_amp_stop(struct vmsg_amp *amp)
{
	unsigned long flags;
	bool run;

	mutex_lock(&amp->link_lock);
	if (amp->stopping) {
		mutex_unlock(&amp->link_lock);
		return;
	}
	amp->stopping = true;
	run = amp->link == VMSG_AMP_LINK_RUN && !atomic_read(&amp->fault);
	mutex_unlock(&amp->link_lock);

	cancel_delayed_work_sync(&amp->hb_work);
	if (!run)
		virtio_msg_bus_peer_lost(&amp->bus);
	virtio_msg_bus_unregister(&amp->bus);

	spin_lock_irqsave(&amp->rx_lock, flags);
	amp->stopped = true;
	spin_unlock_irqrestore(&amp->rx_lock, flags);
	amp_set_open(amp, false);
	cancel_delayed_work_sync(&amp->poll_work);
	cancel_work_sync(&amp->rx_work);
	cancel_delayed_work_sync(&amp->link_work);

	amp_set_status(amp, VIRTIO_MSG_AMP_STATUS_SHUTDOWN);
	amp_ring_status(amp);
	amp_debugfs_remove(amp);
}
EXPORT_SYMBOL_NS_GPL(vmsg_amp_stop, VIRTIO_MSG_NS);

/**
 * vmsg_amp_destroy() - free an instance
 * @amp: the instance, or NULL
 *
 * Calls vmsg_amp_stop() if the glue did not. The glue calls this after
 * its interrupt handler can no longer run, and unmaps the region after.
 *
 * Context: process; may sleep.
 */
void vmsg_amp_destroy(struct vmsg_amp *amp)
{
	if (IS_ERR_OR_NULL(amp))
		return;
	vmsg_amp_stop(amp);
	kfree(amp->rx_buf);
	kfree(amp);
}
EXPORT_SYMBOL_NS_GPL(vmsg_amp_destroy, VIRTIO_MSG_NS);

#if IS_ENABLED(CONFIG_KUNIT)
/* The bus of an instance, whose ops the tests call directly. */
struct virtio_msg_bus *vmsg_amp_kunit_bus(struct vmsg_amp *amp)
{
	return &amp->bus;
}
EXPORT_SYMBOL_IF_KUNIT(vmsg_amp_kunit_bus);

/* How often the instance told the core that room appeared. */
unsigned long vmsg_amp_kunit_tx_ready(struct vmsg_amp *amp)
{
	return atomic_long_read(&amp->stats[AMP_STAT_TX_READY]);
}
EXPORT_SYMBOL_IF_KUNIT(vmsg_amp_kunit_tx_ready);
#endif

static int __init vmsg_amp_init(void)
{
	amp_debugfs_root = debugfs_create_dir("virtio_msg_amp", NULL);
	return 0;
}
module_init(vmsg_amp_init);

static void __exit vmsg_amp_exit(void)
{
	debugfs_remove_recursive(amp_debugfs_root);
}
module_exit(vmsg_amp_exit);

MODULE_IMPORT_NS(VIRTIO_MSG_NS);
MODULE_DESCRIPTION("virtio-msg AMP bus: messages through shared memory and doorbells");
MODULE_LICENSE("GPL");

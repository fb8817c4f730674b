// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-msg loopback bus: virtio-msg devices implemented by a userspace
 * process on the same machine, through the misc device
 * /dev/virtio-msg-loopback.
 */

/**
 * DOC: Theory of Operation
 *
 * Every open file of the misc device is one bus instance (struct vmsg_lb),
 * registered with the virtio-msg core for as long as the file is open. The
 * process holding the file is the device side of every device number it
 * adds with VIRTIO_MSG_LB_IOC_ADD_DEVICE.
 *
 * Driver-to-device messages (requests from the core and EVENT_AVAIL kicks)
 * go into a bounded ring of queue_len slots that read() drains one
 * message at a time. A kick may come from any context, so it is copied into
 * a preallocated slot under a spinlock and never waits: when events already
 * fill their share of the ring, ->send_event returns -EAGAIN and the core
 * keeps the kick; the next read() that makes room calls
 * virtio_msg_bus_tx_ready(). Requests may sleep, and wait (bounded) for
 * room.
 *
 * write() queues one device-to-driver message in a second ring, which a
 * work item hands to the core in order, with interrupts and bottom halves
 * off as a device interrupt would. Delivering from the backend's own
 * write() would run driver callbacks in the backend's context, and some
 * of them wait for the device: virtio-console spins with interrupts off
 * until the device has taken the bytes of an hvc write, and the device is
 * the very task that is stuck in write(). fsync() waits until everything
 * written so far was delivered.
 *
 * Memory: each virtio device gets its own DMA struct device, made when the
 * core asks for it and released when the core gives it back, whose
 * dma_map_ops hand out bus addresses from a private, never reused address
 * space and record every live mapping (address, length, direction). The
 * backend can reach driver memory only with the MEM_READ/MEM_WRITE ioctls,
 * which copy through the instance's bounce page under the device's map
 * lock, so a range is accessible exactly while the driver has it mapped:
 * unmapping (which may happen in atomic context and cannot wait for the
 * backend) takes the same lock, and after it returns no copy can touch the
 * pages again. Removing the number marks the DMA device dead under that
 * lock, which stops copies already running.
 *
 * A backend that stops reading (stopped, frozen) would leave a driver
 * that waits for its device spinning: a watchdog declares the peer lost
 * once messages have waited stall_timeout_ms without any read.
 *
 * Window mode (SET_PARAMS with a window size) stands in for a bus whose
 * device side sees one shared memory region only, as AMP: the instance
 * allocates the window and gives it to the transport core, which then
 * allocates the rings in it and bounces every buffer through it, with
 * bus addresses in the window. The per-device mappings above are not
 * made then; the MEM ioctls reach the window and nothing else, and the
 * read-only ring areas of every device of the instance stay read-only
 * (all its devices share the window).
 *
 * Overriding the DMA operations of a device needs ARCH_HAS_DMA_OPS, hence
 * the Kconfig dependency (distribution kernels have it, e.g. through XEN).
 * Devices must negotiate VIRTIO_F_ACCESS_PLATFORM, which the bus asks the
 * core to enforce: without it virtio bypasses the DMA API, and the backend
 * could not reach the rings.
 *
 * Closing the file (or the death of the process) marks the instance dead,
 * fails every request in flight, breaks the devices, drops the messages
 * not delivered yet and unregisters the bus, which removes every device.
 * The bus never waits for the gone backend; a driver that waits for
 * buffers the device still held may, though: Linux 6.12's virtio-blk
 * needs patches/0001-virtio_blk-*.patch to fail them.
 *
 * Recovery is for the kernels without that fix: a backend that set
 * recovery_ms leaves, when its file goes while it has devices, an orphan
 * instead. The instance stays registered with everything in it (devices,
 * mappings, queued messages) and is parked: kicks queue up, the stall
 * watchdog is off, requests from the core wait and time out there. A new
 * file can ADOPT it within the grace period: the file's fresh instance is
 * retired (kept until the file goes, for threads that still hold it) and
 * the file points at the orphan from then on; the backend reads the
 * devices' state back from the core, and every live queue is kicked once.
 * An orphan nobody adopts is torn down as a closed file would be.
 * Orphans count against max_instances, which bounds them.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/bottom_half.h>
#include <linux/capability.h>
#include <linux/cpumask.h>
#include <linux/device.h>
#include <linux/dma-map-ops.h>
#include <linux/fs.h>
#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/hrtimer.h>
#include <linux/idr.h>
#include <linux/memcontrol.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/nospec.h>
#include <linux/poll.h>
#include <linux/rbtree.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_msg.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <uapi/linux/virtio_blk.h>
#include <uapi/linux/virtio_console.h>
#include <uapi/linux/virtio_msg_loopback.h>
#include <uapi/linux/virtio_net.h>
#include <uapi/linux/virtio_ring.h>

/* Largest message carried: the transport's recommended maximum. */
#define VMSG_LB_MAX_MSG_SIZE	VIRTIO_MSG_MAX_SIZE_RECOMMENDED
/* Bounds of the queue_len module parameter. */
#define VMSG_LB_QUEUE_MIN	4
#define VMSG_LB_QUEUE_MAX	4096
/* Bounds of the max_devices module parameter. */
#define VMSG_LB_MAX_DEVICES	256
/* How long a request waits for room in a full queue. */
#define VMSG_LB_SEND_WAIT_MS	5000
/* How long write() waits for room in a full delivery ring. */
#define VMSG_LB_WRITE_WAIT_MS	5000
/* How long fsync() waits for the delivery ring to drain. */
#define VMSG_LB_FSYNC_WAIT_MS	10000
/* Messages the delivery work item hands over before it yields. */
#define VMSG_LB_RX_BATCH	32
/*
 * Bus addresses start above 0 (which a device may treat as "unset") and
 * every mapping is followed by an unmapped guard page, so that an access
 * running off the end of one mapping never lands in the next one.
 */
#define VMSG_LB_IOVA_BASE	SZ_1M
#define VMSG_LB_IOVA_END	BIT_ULL(63)
/* Argument structures larger than this are refused (E2BIG). */
#define VMSG_LB_MAX_ARG_SIZE	PAGE_SIZE

/**
 * struct vmsg_lb_slot - one queued driver-to-device message
 * @len: message size in bytes
 * @event: the message is a kick (counts against vmsg_lb.q_event_slots)
 * @data: the message
 */
struct vmsg_lb_slot {
	u16 len;
	bool event;
	u8 data[VMSG_LB_MAX_MSG_SIZE];
};

/* Values of vmsg_lb.devs. */
#define LB_DEV_SERVED	xa_mk_value(1)
#define LB_DEV_LEAVING	xa_mk_value(2)

/**
 * struct vmsg_lb - one bus instance, i.e. one open file
 * @bus: the instance as the core sees it
 * @dev: parent of the instance's virtio devices; frees the instance when
 *	its last reference goes
 * @id: instance number, in @dev's name
 * @memcg: memory cgroup of the process that opened the file, charged for
 *	what the bus allocates for it outside its own context
 * @lock: serialises the changes of @devs, @held, @nr_devs, @added, @wire,
 *	@features, @recovery_ms and @retired: device addition and
 *	removal, SET_PARAMS, ADOPT, ->dma_device and ->release_device; a
 *	mutex because it is held across allocations and device registration
 * @devs: device number -> LB_DEV_SERVED for the numbers the backend added
 *	and has not removed, LB_DEV_LEAVING for those it removes in an
 *	orderly way until the core releases their device; it may serve
 *	both. Lookups take its internal lock (or RCU) only.
 * @held: device number -> struct vmsg_lb_dev, the DMA device the core took
 *	with ->dma_device for its virtio device of that number and has not
 *	given back with ->release_device. A new one is made for every virtio
 *	device, so that a number removed and added again while the core
 *	still creates or removes the old device gets a device of its own.
 *	MEM_READ/MEM_WRITE take a reference under its internal lock.
 * @nr_devs: numbers in @devs or @held: a removed number counts against
 *	@max_devs until the core has released its device
 * @max_devs: max_devices when the instance was opened
 * @added: the backend added a device number once: the wire generation
 *	and transport features are fixed from then on
 * @wire: the wire generation set with SET_PARAMS (v1 until then)
 * @features: the transport features set with SET_PARAMS
 * @recovery_ms: SET_PARAMS asked for recovery: the instance outlives its
 *	file by this long when it has devices (see vmsg_lb_orphan())
 * @retired: the file adopted an orphan: this instance is its spare, kept
 *	only for the threads that may still use it, until the file goes
 * @spare: the instance the file had before it adopted this one; set by
 *	ADOPT (under the spare's @lock), freed with the file
 * @orphan: on vmsg_lb_orphans, waiting for a backend; under
 *	vmsg_lb_orphans_lock
 * @orphan_node: in vmsg_lb_orphans
 * @orphan_deadline: jiffies when the orphan is torn down
 * @expire_work: tears the orphan down at @orphan_deadline
 * @mem_lock: serialises MEM_READ/MEM_WRITE on @bounce
 * @bounce: page the MEM ioctls copy through; allocated at open, so that a
 *	backend serving the I/O that memory reclaim waits for needs no memory
 * @q_lock: protects @slots, @q_head, @q_count, @q_events, @tx_blocked,
 *	@dead and @parked; a spinlock taken with interrupts off because
 *	kicks are queued from any context, hard IRQ included
 * @q_len: number of slots, queue_len when the instance was opened
 * @q_event_slots: how many slots kicks may fill; the rest is kept for
 *	requests
 * @slots: the ring of @q_len messages
 * @q_head: index of the oldest queued message
 * @q_count: number of queued messages
 * @q_events: number of queued kicks
 * @tx_blocked: a kick was refused with -EAGAIN; tell the core when room
 *	appears
 * @dead: the file is being released: refuse every new message
 * @parked: an orphan: no backend reads, and none is to blame; the stall
 *	watchdog stays off until a backend adopts the instance
 * @q_progress: when the backend last read a message, or when a message
 *	arrived in the empty ring
 * @q_cpu: CPU that queued a message in the empty ring last
 * @stalled: the watchdog declared the backend lost; cleared by a read
 * @stall_arm: starts @stall_timer on a CPU other than @q_cpu, from that
 *	CPU's worker
 * @stall_timer: checks, on the CPU it was started on, that the backend
 *	reads (see vmsg_lb_stall_timer())
 * @stall_work: breaks the devices of a backend that stopped reading
 * @read_lock: serialises readers, so that the oldest message stays queued
 *	while it is copied to userspace and is removed only once that worked
 * @rbuf: bounce buffer of the reader holding @read_lock
 * @readq: readers and pollers waiting for a message
 * @sendq: requests waiting for room in the ring
 * @rx_lock: protects @rx_slots, @rx_head, @rx_count, @rx_written,
 *	@rx_delivered and @rx_dead; write(), fsync() and @rx_work take it,
 *	all in process context
 * @rx_slots: the delivery ring of @q_len device-to-driver messages
 * @rx_head: index of the oldest message not delivered yet
 * @rx_count: number of messages waiting for delivery
 * @rx_written: messages accepted by write() since open
 * @rx_delivered: messages handed to the core
 * @rx_dead: the file is being released: deliver nothing more
 * @rx_work: hands the queued messages to the core
 * @rx_buf: the message @rx_work is delivering; only @rx_work uses it
 * @rxq: writers waiting for room and fsync() waiting for delivery
 * @win: window mode: the window's memory, set once by SET_PARAMS under
 *	@lock before the first device, freed when the file is released;
 *	NULL otherwise
 * @win_base: bus address of @win's first byte
 * @win_size: its size in bytes
 * @win_lock: protects @win_ro and orders a MEM_WRITE into the window
 *	after the ring areas recorded before it; a spinlock, taken with
 *	interrupts off, as the per-device map locks
 * @win_ro: window mode: struct vmsg_lb_ro ranges of every device of the
 *	instance, which no MEM_WRITE may touch whatever its device number
 */
struct vmsg_lb {
	struct virtio_msg_bus bus;
	struct device dev;
	int id;

	struct mem_cgroup *memcg;

	struct mutex lock;		/* device add and remove */
	struct xarray devs;
	struct xarray held;
	unsigned int nr_devs;
	unsigned int max_devs;
	bool added;
	u32 wire;
	u32 features;
	u32 recovery_ms;
	bool retired;
	struct vmsg_lb *spare;

	bool orphan;
	struct list_head orphan_node;
	unsigned long orphan_deadline;
	struct delayed_work expire_work;

	struct mutex mem_lock;		/* @bounce */
	void *bounce;

	spinlock_t q_lock;		/* the ring; any context */
	unsigned int q_len;
	unsigned int q_event_slots;
	struct vmsg_lb_slot *slots;
	unsigned int q_head;
	unsigned int q_count;
	unsigned int q_events;
	bool tx_blocked;
	bool dead;
	bool parked;
	ktime_t q_progress;
	unsigned int q_cpu;
	bool stalled;
	struct work_struct stall_arm;
	struct hrtimer stall_timer;
	struct work_struct stall_work;

	struct mutex read_lock;		/* one reader at a time */
	u8 rbuf[VMSG_LB_MAX_MSG_SIZE];
	wait_queue_head_t readq;
	wait_queue_head_t sendq;

	spinlock_t rx_lock;		/* the delivery ring */
	struct vmsg_lb_slot *rx_slots;
	unsigned int rx_head;
	unsigned int rx_count;
	u64 rx_written;
	u64 rx_delivered;
	bool rx_dead;
	struct work_struct rx_work;
	u8 rx_buf[VMSG_LB_MAX_MSG_SIZE] __aligned(8);
	wait_queue_head_t rxq;

	void *win;
	u64 win_base;
	u64 win_size;
	spinlock_t win_lock;		/* @win_ro; any context */
	struct list_head win_ro;
};

/**
 * struct vmsg_lb_dev - the DMA device of one virtio device of an instance
 * @dma_dev: the DMA device given to the core, which makes it the parent of
 *	the virtio device; registered from ->dma_device to ->release_device
 * @lb: the instance (referenced through @lb->dev)
 * @dev_num: the device number
 * @map_lock: protects @maps, @next_iova, @dead and the pages of every live
 *	mapping while MEM_READ/MEM_WRITE copy them; a spinlock taken with
 *	interrupts off because the DMA API may be called in any context
 * @maps: live mappings (struct vmsg_lb_map), ordered by bus address
 * @next_iova: first bus address not handed out yet; never goes back, so a
 *	stale address can never reach a newer mapping
 * @read_only: struct vmsg_lb_ro ranges the backend may read but not write
 *	(ring areas only the driver writes), from ->queue_layout
 * @dead: the backend removed the number, or the core released the
 *	device: no MEM_READ/MEM_WRITE copies anything any more
 */
struct vmsg_lb_dev {
	struct device dma_dev;
	struct vmsg_lb *lb;
	u16 dev_num;

	spinlock_t map_lock;		/* mappings; any context */
	struct rb_root maps;
	u64 next_iova;
	struct list_head read_only;
	bool dead;
};

/**
 * struct vmsg_lb_ro - bus addresses the backend may only read
 * @node: in struct vmsg_lb_dev.read_only, or vmsg_lb.win_ro
 * @dev_num: the device whose ring area this is
 * @vq_index: the virtqueue whose ring area this is
 * @start: first bus address
 * @end: bus address after the last
 */
struct vmsg_lb_ro {
	struct list_head node;
	u16 dev_num;
	u32 vq_index;
	u64 start;
	u64 end;
};

/**
 * struct vmsg_lb_map - one live DMA mapping
 * @node: in struct vmsg_lb_dev.maps
 * @iova: bus address of the first byte
 * @size: length in bytes
 * @phys: physical address of the first byte
 * @dir: DMA direction; coherent allocations are DMA_BIDIRECTIONAL
 */
struct vmsg_lb_map {
	struct rb_node node;
	u64 iova;
	size_t size;
	phys_addr_t phys;
	enum dma_data_direction dir;
};

static unsigned int queue_len = 256;
module_param(queue_len, uint, 0444);
MODULE_PARM_DESC(queue_len,
		 "Driver-to-device messages queued per instance (4-4096, default 256)");

static unsigned int max_instances = 16;
module_param(max_instances, uint, 0644);
MODULE_PARM_DESC(max_instances,
		 "Instances (open files) at once; further opens fail with EMFILE (default 16)");

/* Open files, bounded by max_instances. */
static atomic_t vmsg_lb_open_files = ATOMIC_INIT(0);

static unsigned int stall_timeout_ms = 5000;
module_param(stall_timeout_ms, uint, 0644);
MODULE_PARM_DESC(stall_timeout_ms,
		 "Break an instance's devices when its backend reads nothing for this long while messages wait; 0: never (default 5000)");

static bool allow_console;
module_param(allow_console, bool, 0644);
MODULE_PARM_DESC(allow_console,
		 "Let backends opened from now on serve virtio consoles, which a backend can crash on Linux 6.12 (default N)");

static bool deferred_kicks;
module_param(deferred_kicks, bool, 0644);
MODULE_PARM_DESC(deferred_kicks,
		 "Instances opened from now on send kicks from the transport's workqueue, as a bus that sleeps must (to measure that path; default N)");

static unsigned int max_devices = 64;
module_param(max_devices, uint, 0644);
MODULE_PARM_DESC(max_devices,
		 "Device numbers per instance, read at open (1-256, default 64)");

static DEFINE_IDA(vmsg_lb_ida);

/*
 * Orphans: instances whose backend is gone but whose devices wait for a
 * new one (recovery). The mutex protects the list and every instance's
 * @orphan, so that an adoption and the expiry of the same orphan cannot
 * both win; it is taken in process context only.
 */
static DEFINE_MUTEX(vmsg_lb_orphans_lock);
static LIST_HEAD(vmsg_lb_orphans);
/*
 * Runs every instance's @rx_work; may be needed to complete block I/O.
 * Visible in sysfs so that its CPUs can be chosen: a backend serving an
 * hvc console needs a CPU where no driver callback spins for it.
 */
static struct workqueue_struct *vmsg_lb_wq;

static inline struct vmsg_lb *bus_to_lb(struct virtio_msg_bus *bus)
{
	return container_of(bus, struct vmsg_lb, bus);
}

static inline struct vmsg_lb_dev *dma_to_lb_dev(struct device *dev)
{
	return container_of(dev, struct vmsg_lb_dev, dma_dev);
}

/* ------------------------------------------------------------------------
 * DMA operations: every mapping gets a fresh bus address and is recorded.
 */

static bool vmsg_lb_map_less(struct rb_node *a, const struct rb_node *b)
{
	return rb_entry(a, struct vmsg_lb_map, node)->iova <
	       rb_entry(b, struct vmsg_lb_map, node)->iova;
}

/* Exact start address, for unmap. */
static int vmsg_lb_map_cmp_start(const void *key, const struct rb_node *node)
{
	u64 iova = *(const u64 *)key;
	const struct vmsg_lb_map *map = rb_entry(node, struct vmsg_lb_map, node);

	if (iova < map->iova)
		return -1;
	return iova > map->iova;
}

/* Mapping containing an address, for MEM_READ/MEM_WRITE. */
static int vmsg_lb_map_cmp_addr(const void *key, const struct rb_node *node)
{
	u64 addr = *(const u64 *)key;
	const struct vmsg_lb_map *map = rb_entry(node, struct vmsg_lb_map, node);

	if (addr < map->iova)
		return -1;
	return addr - map->iova >= map->size;
}

static dma_addr_t vmsg_lb_map_phys(struct vmsg_lb_dev *lbdev,
				   phys_addr_t phys, size_t size,
				   enum dma_data_direction dir, gfp_t gfp)
{
	struct vmsg_lb_map *map;
	unsigned long flags;
	u64 span;

	if (size > VMSG_LB_IOVA_END)
		return DMA_MAPPING_ERROR;
	span = PAGE_ALIGN((u64)offset_in_page(phys) + size) + PAGE_SIZE;

	map = kmalloc(sizeof(*map), gfp);
	if (!map)
		return DMA_MAPPING_ERROR;
	map->size = size;
	map->phys = phys;
	map->dir = dir;

	spin_lock_irqsave(&lbdev->map_lock, flags);
	if (lbdev->next_iova > VMSG_LB_IOVA_END - span) {
		spin_unlock_irqrestore(&lbdev->map_lock, flags);
		kfree(map);
		dev_err_ratelimited(&lbdev->dma_dev, "bus addresses exhausted\n");
		return DMA_MAPPING_ERROR;
	}
	/* Keep the offset in the page: drivers rely on the alignment. */
	map->iova = lbdev->next_iova + offset_in_page(phys);
	lbdev->next_iova += span;
	rb_add(&map->node, &lbdev->maps, vmsg_lb_map_less);
	spin_unlock_irqrestore(&lbdev->map_lock, flags);

	return map->iova;
}

static void vmsg_lb_unmap_iova(struct vmsg_lb_dev *lbdev, dma_addr_t iova,
			       size_t size)
{
	struct vmsg_lb_map *map = NULL;
	struct rb_node *node;
	u64 key = iova;
	unsigned long flags;

	spin_lock_irqsave(&lbdev->map_lock, flags);
	node = rb_find(&key, &lbdev->maps, vmsg_lb_map_cmp_start);
	if (node) {
		map = rb_entry(node, struct vmsg_lb_map, node);
		rb_erase(node, &lbdev->maps);
	}
	spin_unlock_irqrestore(&lbdev->map_lock, flags);

	/* A kernel driver bug, not backend input. */
	if (!map)
		dev_warn_ratelimited(&lbdev->dma_dev,
				     "unmap of unknown bus address %pad\n",
				     &iova);
	else if (map->size != size)
		dev_warn_ratelimited(&lbdev->dma_dev,
				     "unmap of %pad with size %zu, mapped %zu\n",
				     &iova, size, map->size);
	kfree(map);
}

static void *vmsg_lb_alloc(struct device *dev, size_t size,
			   dma_addr_t *dma_handle, gfp_t gfp,
			   unsigned long attrs)
{
	struct vmsg_lb_dev *lbdev = dma_to_lb_dev(dev);
	gfp_t map_gfp = gfpflags_allow_blocking(gfp) ? GFP_KERNEL : GFP_ATOMIC;
	void *vaddr;

	vaddr = alloc_pages_exact(size, gfp | __GFP_ZERO);
	if (!vaddr)
		return NULL;
	/* Coherent memory is shared both ways for its whole life. */
	*dma_handle = vmsg_lb_map_phys(lbdev, virt_to_phys(vaddr), size,
				       DMA_BIDIRECTIONAL, map_gfp);
	if (*dma_handle == DMA_MAPPING_ERROR) {
		free_pages_exact(vaddr, size);
		return NULL;
	}
	return vaddr;
}

static void vmsg_lb_free(struct device *dev, size_t size, void *vaddr,
			 dma_addr_t dma_handle, unsigned long attrs)
{
	vmsg_lb_unmap_iova(dma_to_lb_dev(dev), dma_handle, size);
	free_pages_exact(vaddr, size);
}

static dma_addr_t vmsg_lb_map_page(struct device *dev, struct page *page,
				   unsigned long offset, size_t size,
				   enum dma_data_direction dir,
				   unsigned long attrs)
{
	return vmsg_lb_map_phys(dma_to_lb_dev(dev), page_to_phys(page) + offset,
				size, dir, GFP_ATOMIC);
}

static void vmsg_lb_unmap_page(struct device *dev, dma_addr_t dma_handle,
			       size_t size, enum dma_data_direction dir,
			       unsigned long attrs)
{
	vmsg_lb_unmap_iova(dma_to_lb_dev(dev), dma_handle, size);
}

static void vmsg_lb_unmap_sg(struct device *dev, struct scatterlist *sgl,
			     int nents, enum dma_data_direction dir,
			     unsigned long attrs)
{
	struct scatterlist *sg;
	int i;

	for_each_sg(sgl, sg, nents, i)
		vmsg_lb_unmap_iova(dma_to_lb_dev(dev), sg_dma_address(sg),
				   sg_dma_len(sg));
}

static int vmsg_lb_map_sg(struct device *dev, struct scatterlist *sgl,
			  int nents, enum dma_data_direction dir,
			  unsigned long attrs)
{
	struct scatterlist *sg;
	int i;

	/* One mapping per entry; nothing is merged. */
	for_each_sg(sgl, sg, nents, i) {
		sg_dma_address(sg) = vmsg_lb_map_phys(dma_to_lb_dev(dev),
						      sg_phys(sg), sg->length,
						      dir, GFP_ATOMIC);
		if (sg_dma_address(sg) == DMA_MAPPING_ERROR) {
			vmsg_lb_unmap_sg(dev, sgl, i, dir, attrs);
			return -ENOMEM;
		}
		sg_dma_len(sg) = sg->length;
	}
	return nents;
}

/* Bus addresses use the whole 63-bit space; refuse narrower masks. */
static int vmsg_lb_dma_supported(struct device *dev, u64 mask)
{
	return mask >= VMSG_LB_IOVA_END - 1;
}

/*
 * No sync operations: the backend reads and writes the pages themselves
 * through the CPU, under the map lock, so there is nothing to flush or
 * bounce.
 */
static const struct dma_map_ops vmsg_lb_dma_ops = {
	.alloc		= vmsg_lb_alloc,
	.free		= vmsg_lb_free,
	.map_page	= vmsg_lb_map_page,
	.unmap_page	= vmsg_lb_unmap_page,
	.map_sg		= vmsg_lb_map_sg,
	.unmap_sg	= vmsg_lb_unmap_sg,
	.dma_supported	= vmsg_lb_dma_supported,
};

/* ------------------------------------------------------------------------
 * Devices of an instance
 */

static void vmsg_lb_dev_release(struct device *dev)
{
	struct vmsg_lb_dev *lbdev = dma_to_lb_dev(dev);
	struct vmsg_lb *lb = lbdev->lb;
	struct vmsg_lb_map *map, *tmp;
	struct vmsg_lb_ro *ro, *ro_tmp;

	/* Mappings a driver leaked: forget them, the pages are not ours. */
	rbtree_postorder_for_each_entry_safe(map, tmp, &lbdev->maps, node)
		kfree(map);
	list_for_each_entry_safe(ro, ro_tmp, &lbdev->read_only, node)
		kfree(ro);
	kfree(lbdev);
	/* Last: it may free the instance and let the module go. */
	put_device(&lb->dev);
}

static struct vmsg_lb_dev *vmsg_lb_dev_create(struct vmsg_lb *lb, u16 dev_num)
{
	struct vmsg_lb_dev *lbdev;
	int ret;

	lbdev = kzalloc(sizeof(*lbdev), GFP_KERNEL_ACCOUNT);
	if (!lbdev)
		return ERR_PTR(-ENOMEM);
	lbdev->lb = lb;
	lbdev->dev_num = dev_num;
	spin_lock_init(&lbdev->map_lock);
	lbdev->maps = RB_ROOT;
	lbdev->next_iova = VMSG_LB_IOVA_BASE;
	INIT_LIST_HEAD(&lbdev->read_only);

	get_device(&lb->dev);
	device_initialize(&lbdev->dma_dev);
	lbdev->dma_dev.parent = &lb->dev;
	lbdev->dma_dev.release = vmsg_lb_dev_release;
	lbdev->dma_dev.dma_mask = &lbdev->dma_dev.coherent_dma_mask;
	lbdev->dma_dev.coherent_dma_mask = DMA_BIT_MASK(64);
	set_dma_ops(&lbdev->dma_dev, &vmsg_lb_dma_ops);
	ret = dev_set_name(&lbdev->dma_dev, "%s.%u", dev_name(&lb->dev),
			   dev_num);
	if (ret)
		goto err_put;
	/* Without our ops every mapping would bypass the checks above. */
	if (get_dma_ops(&lbdev->dma_dev) != &vmsg_lb_dma_ops) {
		ret = -EOPNOTSUPP;
		goto err_put;
	}
	return lbdev;

err_put:
	put_device(&lbdev->dma_dev);
	return ERR_PTR(ret);
}

/*
 * A reference to the DMA device of the number @dev_num of @lb, for the
 * MEM ioctls: -ENODEV if the backend has not added the number, -ENXIO if
 * the core has no live device for it (nothing can be mapped).
 */
static struct vmsg_lb_dev *vmsg_lb_dev_get(struct vmsg_lb *lb, u32 dev_num)
{
	struct vmsg_lb_dev *lbdev;

	if (!xa_load(&lb->devs, dev_num))
		return ERR_PTR(-ENODEV);
	xa_lock(&lb->held);
	lbdev = xa_load(&lb->held, dev_num);
	if (lbdev)
		get_device(&lbdev->dma_dev);
	xa_unlock(&lb->held);
	if (!lbdev)
		return ERR_PTR(-ENXIO);
	/* The old device of a removed and re-added number: nothing mapped. */
	if (READ_ONCE(lbdev->dead)) {
		put_device(&lbdev->dma_dev);
		return ERR_PTR(-ENXIO);
	}
	return lbdev;
}

/* No MEM ioctl copies anything for @lbdev from now on. */
static void vmsg_lb_dev_kill(struct vmsg_lb_dev *lbdev)
{
	unsigned long flags;

	spin_lock_irqsave(&lbdev->map_lock, flags);
	lbdev->dead = true;
	spin_unlock_irqrestore(&lbdev->map_lock, flags);
}

/* ------------------------------------------------------------------------
 * Bus operations
 */

static bool vmsg_lb_has_room(struct vmsg_lb *lb)
{
	unsigned long flags;
	bool ret;

	spin_lock_irqsave(&lb->q_lock, flags);
	ret = lb->dead || lb->q_count < lb->q_len;
	spin_unlock_irqrestore(&lb->q_lock, flags);
	return ret;
}

/*
 * The stall watchdog. A driver may wait for its device with interrupts off
 * on the CPU that queued the message (virtio-console's hvc writes spin so),
 * and nothing that depends on that CPU runs meanwhile: not its timers, its
 * work items, nor, when it keeps the tick, jiffies. So the watchdog is an
 * hrtimer (which each CPU's tick expires by the clock, not by jiffies),
 * started on another CPU by a work item bound to that CPU, and it
 * measures time with the clock.
 */
static void vmsg_lb_watch(struct vmsg_lb *lb, unsigned int busy_cpu)
{
	unsigned int cpu;

	if (!READ_ONCE(stall_timeout_ms))
		return;
	cpu = cpumask_any_but(cpu_online_mask, busy_cpu);
	if (cpu >= nr_cpu_ids)
		cpu = busy_cpu;	/* one CPU: nothing better */
	queue_work_on(cpu, system_highpri_wq, &lb->stall_arm);
}

/* On the CPU chosen by vmsg_lb_watch(). */
static void vmsg_lb_stall_arm(struct work_struct *work)
{
	struct vmsg_lb *lb = container_of(work, struct vmsg_lb, stall_arm);
	unsigned int ms = READ_ONCE(stall_timeout_ms);

	/* Moves the timer to this CPU if it was elsewhere. */
	if (ms)
		hrtimer_start(&lb->stall_timer, ms_to_ktime(ms),
			      HRTIMER_MODE_REL_PINNED);
}

static enum hrtimer_restart vmsg_lb_stall_timer(struct hrtimer *timer)
{
	struct vmsg_lb *lb = container_of(timer, struct vmsg_lb, stall_timer);
	unsigned int ms = READ_ONCE(stall_timeout_ms);
	enum hrtimer_restart ret = HRTIMER_NORESTART;
	ktime_t now = ktime_get(), deadline;
	unsigned long flags;

	spin_lock_irqsave(&lb->q_lock, flags);
	deadline = ktime_add_ms(lb->q_progress, ms);
	if (!ms || !lb->q_count || lb->dead || lb->stalled || lb->parked) {
		/* Nothing to watch: the next message arms it again. */
	} else if (ktime_after(deadline, now)) {
		hrtimer_forward_now(timer, ktime_sub(deadline, now));
		ret = HRTIMER_RESTART;
	} else {
		lb->stalled = true;
		/* This CPU is not the one waiting with interrupts off. */
		queue_work_on(smp_processor_id(), system_highpri_wq,
			      &lb->stall_work);
	}
	spin_unlock_irqrestore(&lb->q_lock, flags);
	return ret;
}

/*
 * Messages have waited, and the backend has read nothing, for
 * stall_timeout_ms: it is stopped, frozen or dead. Declare the peer lost,
 * which breaks its devices: a driver spinning for one of their buffers on
 * another CPU then gives up. A backend that reads on but never completes
 * a buffer is not caught here.
 */
static void vmsg_lb_stall_work(struct work_struct *work)
{
	struct vmsg_lb *lb = container_of(work, struct vmsg_lb, stall_work);

	dev_warn_ratelimited(&lb->dev,
			     "backend read nothing for %u ms: its devices are broken\n",
			     READ_ONCE(stall_timeout_ms));
	virtio_msg_bus_peer_lost(&lb->bus);
}

static int vmsg_lb_enqueue(struct vmsg_lb *lb, const struct virtio_msg_hdr *msg,
			   bool event)
{
	size_t len = le16_to_cpu(msg->msg_size);
	unsigned int busy_cpu = raw_smp_processor_id();
	struct vmsg_lb_slot *slot;
	unsigned long flags;
	bool arm = false;
	int ret = 0;

	if (len < sizeof(*msg) || len > VMSG_LB_MAX_MSG_SIZE)
		return -EMSGSIZE;
	/* Fail fast for a number the backend removed or never added. */
	if (!(msg->type & VIRTIO_MSG_TYPE_BUS) &&
	    !xa_load(&lb->devs, le16_to_cpu(msg->dev_num)))
		return -ENODEV;

	spin_lock_irqsave(&lb->q_lock, flags);
	if (lb->dead) {
		ret = -ENOTCONN;
	} else if (lb->q_count == lb->q_len ||
		   (event && lb->q_events == lb->q_event_slots)) {
		if (event)
			lb->tx_blocked = true;
		ret = -EAGAIN;
	} else {
		slot = &lb->slots[(lb->q_head + lb->q_count) % lb->q_len];
		memcpy(slot->data, msg, len);
		slot->len = len;
		slot->event = event;
		if (!lb->q_count++) {
			lb->q_progress = ktime_get();
			lb->q_cpu = busy_cpu;
			arm = true;
		}
		lb->q_events += event;
	}
	spin_unlock_irqrestore(&lb->q_lock, flags);

	if (arm)
		vmsg_lb_watch(lb, busy_cpu);
	if (!ret)
		wake_up_interruptible_poll(&lb->readq, EPOLLIN | EPOLLRDNORM);
	return ret;
}

static int vmsg_lb_send(struct virtio_msg_bus *bus,
			const struct virtio_msg_hdr *msg)
{
	unsigned long deadline = jiffies +
				 msecs_to_jiffies(VMSG_LB_SEND_WAIT_MS);
	struct vmsg_lb *lb = bus_to_lb(bus);
	long left;
	int ret;

	for (;;) {
		ret = vmsg_lb_enqueue(lb, msg, false);
		if (ret != -EAGAIN)
			return ret;
		left = (long)(deadline - jiffies);
		if (left <= 0)
			return -ETIMEDOUT;
		left = wait_event_killable_timeout(lb->sendq,
						   vmsg_lb_has_room(lb), left);
		if (left < 0)
			return -EINTR;
	}
}

static int vmsg_lb_send_event(struct virtio_msg_bus *bus,
			      const struct virtio_msg_hdr *msg)
{
	return vmsg_lb_enqueue(bus_to_lb(bus), msg, true);
}

/*
 * A fresh DMA device for every virtio device the core creates: the core
 * may still be creating the device of an added, removed and re-added
 * number, and then remove it and create the new one; each gets its own.
 */
static struct device *vmsg_lb_dma_device(struct virtio_msg_bus *bus,
					 u16 dev_num)
{
	struct vmsg_lb *lb = bus_to_lb(bus);
	struct mem_cgroup *old_memcg;
	struct vmsg_lb_dev *lbdev;
	int ret;

	mutex_lock(&lb->lock);
	if (xa_load(&lb->devs, dev_num) != LB_DEV_SERVED) {
		ret = -ENODEV;	/* removed since the core heard of it */
		goto out_unlock;
	}
	/* The core has one device per number at a time. */
	if (xa_load(&lb->held, dev_num)) {
		dev_err_ratelimited(&lb->dev,
				    "device %u: DMA device asked for twice\n",
				    dev_num);
		ret = -EBUSY;
		goto out_unlock;
	}
	/* Made for the backend, in the core's worker: charge the backend. */
	old_memcg = set_active_memcg(lb->memcg);
	lbdev = vmsg_lb_dev_create(lb, dev_num);
	if (IS_ERR(lbdev)) {
		set_active_memcg(old_memcg);
		ret = PTR_ERR(lbdev);
		goto out_unlock;
	}
	ret = xa_insert(&lb->held, dev_num, lbdev, GFP_KERNEL_ACCOUNT);
	set_active_memcg(old_memcg);
	if (ret)
		goto err_put;
	/* The virtio device will be its child in sysfs. */
	ret = device_add(&lbdev->dma_dev);
	if (ret) {
		xa_erase(&lb->held, dev_num);
		goto err_put;
	}
	/* Kept until ->release_device. */
	mutex_unlock(&lb->lock);
	return &lbdev->dma_dev;

err_put:
	put_device(&lbdev->dma_dev);
out_unlock:
	mutex_unlock(&lb->lock);
	return ERR_PTR(ret);
}

static void vmsg_lb_dev_unregister(struct vmsg_lb_dev *lbdev)
{
	vmsg_lb_dev_kill(lbdev);
	device_del(&lbdev->dma_dev);
	put_device(&lbdev->dma_dev);
}

static void vmsg_lb_release_device(struct virtio_msg_bus *bus, u16 dev_num)
{
	struct vmsg_lb *lb = bus_to_lb(bus);
	struct vmsg_lb_dev *lbdev;

	mutex_lock(&lb->lock);
	lbdev = xa_erase(&lb->held, dev_num);
	/* A leaving number's orderly removal is over. */
	if (lbdev && xa_load(&lb->devs, dev_num) == LB_DEV_LEAVING)
		xa_erase(&lb->devs, dev_num);
	/* A number the backend removed stops counting only now. */
	if (lbdev && !xa_load(&lb->devs, dev_num))
		lb->nr_devs--;
	mutex_unlock(&lb->lock);

	/* The virtio device, its child, is unregistered by now. */
	if (lbdev)
		vmsg_lb_dev_unregister(lbdev);
}

/*
 * Record the ring areas of a virtqueue that the device only reads: 6.12's
 * ring code trusts the descriptor flags it wrote (detach_buf_split() hits
 * a BUG_ON when they change), so a backend must not rewrite them.
 */
static int vmsg_lb_queue_layout(struct virtio_msg_bus *bus, u16 dev_num,
				u32 index,
				const struct virtio_msg_queue_layout *layout)
{
	struct vmsg_lb *lb = bus_to_lb(bus);
	struct vmsg_lb_ro *ro, *tmp;
	struct vmsg_lb_dev *lbdev;
	unsigned long flags;
	LIST_HEAD(added);
	LIST_HEAD(gone);
	int ret = 0;

	if (layout) {
		if (!layout->packed) {
			ro = kzalloc(sizeof(*ro), GFP_KERNEL_ACCOUNT);
			if (!ro)
				return -ENOMEM;
			ro->start = layout->desc;
			ro->end = layout->desc + layout->desc_size;
			list_add(&ro->node, &added);
		}
		ro = kzalloc(sizeof(*ro), GFP_KERNEL_ACCOUNT);
		if (!ro) {
			ret = -ENOMEM;
			goto out_free;
		}
		ro->start = layout->driver;
		ro->end = layout->driver + layout->driver_size;
		list_add(&ro->node, &added);
		list_for_each_entry(ro, &added, node) {
			ro->dev_num = dev_num;
			ro->vq_index = index;
		}
	}

	/* Window mode: one window, one list for every device. */
	if (READ_ONCE(lb->win)) {
		spin_lock_irqsave(&lb->win_lock, flags);
		list_for_each_entry_safe(ro, tmp, &lb->win_ro, node)
			if (ro->dev_num == dev_num && ro->vq_index == index)
				list_move(&ro->node, &gone);
		list_splice_init(&added, &lb->win_ro);
		spin_unlock_irqrestore(&lb->win_lock, flags);
		goto out_free;
	}

	xa_lock(&lb->held);
	lbdev = xa_load(&lb->held, dev_num);
	if (lbdev)
		get_device(&lbdev->dma_dev);
	xa_unlock(&lb->held);
	if (lbdev) {
		spin_lock_irqsave(&lbdev->map_lock, flags);
		list_for_each_entry_safe(ro, tmp, &lbdev->read_only, node)
			if (ro->vq_index == index)
				list_move(&ro->node, &gone);
		list_splice_init(&added, &lbdev->read_only);
		spin_unlock_irqrestore(&lbdev->map_lock, flags);
		put_device(&lbdev->dma_dev);
	} else if (layout) {
		/* The core maps rings only with the device it was given. */
		ret = -ENODEV;
	}

out_free:
	list_splice(&added, &gone);
	list_for_each_entry_safe(ro, tmp, &gone, node)
		kfree(ro);
	return ret;
}

static int vmsg_lb_dma_access(struct virtio_msg_bus *bus,
			      struct device *dma_dev, u64 addr, void *buf,
			      size_t len, bool write);

static const struct virtio_msg_bus_ops vmsg_lb_bus_ops = {
	.send		= vmsg_lb_send,
	.send_event	= vmsg_lb_send_event,
	.dma_device	= vmsg_lb_dma_device,
	.release_device	= vmsg_lb_release_device,
	.queue_layout	= vmsg_lb_queue_layout,
	.dma_access	= vmsg_lb_dma_access,
};

/* deferred_kicks: without send_event, as FF-A, whose sends may sleep. */
static const struct virtio_msg_bus_ops vmsg_lb_bus_ops_deferred = {
	.send		= vmsg_lb_send,
	.dma_device	= vmsg_lb_dma_device,
	.release_device	= vmsg_lb_release_device,
	.queue_layout	= vmsg_lb_queue_layout,
	.dma_access	= vmsg_lb_dma_access,
};

static const struct virtio_msg_bus_desc vmsg_lb_desc = {
	.name		= "loopback",
	.ops		= &vmsg_lb_bus_ops,
	.max_msg_size	= VMSG_LB_MAX_MSG_SIZE,
	.flags		= VIRTIO_MSG_BUS_F_ACCESS_PLATFORM |
			  VIRTIO_MSG_BUS_F_DMA_NO_COPY,
};

static const struct virtio_msg_bus_desc vmsg_lb_desc_deferred = {
	.name		= "loopback",
	.ops		= &vmsg_lb_bus_ops_deferred,
	.max_msg_size	= VMSG_LB_MAX_MSG_SIZE,
	.flags		= VIRTIO_MSG_BUS_F_ACCESS_PLATFORM |
			  VIRTIO_MSG_BUS_F_DMA_NO_COPY,
};

/* ------------------------------------------------------------------------
 * ioctls
 */

/*
 * Copy an extensible argument: at least its first version, unknown
 * trailing bytes zero (copy_struct_from_user() checks them).
 */
static int vmsg_lb_get_arg(void *karg, size_t ksize, size_t min_size,
			   void __user *uarg, u32 *usize)
{
	if (get_user(*usize, (u32 __user *)uarg))
		return -EFAULT;
	if (*usize < min_size)
		return -EINVAL;
	if (*usize > VMSG_LB_MAX_ARG_SIZE)
		return -E2BIG;
	return copy_struct_from_user(karg, ksize, uarg, *usize);
}

static long vmsg_lb_get_info(struct vmsg_lb *lb, void __user *uarg)
{
	struct virtio_msg_lb_info info;
	u32 usize;
	int ret;

	ret = vmsg_lb_get_arg(&info, sizeof(info),
			      VIRTIO_MSG_LB_INFO_SIZE_VER0, uarg, &usize);
	if (ret)
		return ret;
	if (info.reserved)
		return -EINVAL;

	memset(&info, 0, sizeof(info));
	info.size = min_t(u32, usize, sizeof(info));
	info.abi_version = VIRTIO_MSG_LB_ABI_VERSION;
	info.max_msg_size = virtio_msg_bus_max_msg_size(&lb->bus);
	info.queue_len = lb->q_len;
	info.max_devices = lb->max_devs;
	if (copy_to_user(uarg, &info, info.size))
		return -EFAULT;
	return 0;
}

static int vmsg_lb_get_device_arg(struct virtio_msg_lb_device *d,
				  void __user *uarg, u32 valid_flags)
{
	u32 usize;
	int ret;

	ret = vmsg_lb_get_arg(d, sizeof(*d), VIRTIO_MSG_LB_DEVICE_SIZE_VER0,
			      uarg, &usize);
	if (ret)
		return ret;
	if ((d->flags & ~valid_flags) || d->reserved ||
	    d->dev_num > VIRTIO_MSG_LB_MAX_DEV_NUM)
		return -EINVAL;
	d->dev_num = array_index_nospec(d->dev_num,
					VIRTIO_MSG_LB_MAX_DEV_NUM + 1);
	return 0;
}

static long vmsg_lb_add_device(struct vmsg_lb *lb, void __user *uarg)
{
	struct virtio_msg_lb_device d;
	void *entry;
	bool counted;
	int ret;

	ret = vmsg_lb_get_device_arg(&d, uarg, 0);
	if (ret)
		return ret;

	mutex_lock(&lb->lock);
	/* The file adopted another instance: this one takes nothing more. */
	if (lb->retired) {
		ret = -EBUSY;
		goto out_unlock;
	}
	entry = xa_load(&lb->devs, d.dev_num);
	if (entry) {
		ret = entry == LB_DEV_LEAVING ? -EBUSY : -EEXIST;
		goto out_unlock;
	}
	/* A number whose old device the core still holds is counted. */
	counted = xa_load(&lb->held, d.dev_num);
	if (!counted && lb->nr_devs >= lb->max_devs) {
		ret = -ENOSPC;
		goto out_unlock;
	}
	ret = xa_insert(&lb->devs, d.dev_num, LB_DEV_SERVED,
			GFP_KERNEL_ACCOUNT);
	if (ret)
		goto out_unlock;
	/*
	 * The core still has the device of the number's previous life,
	 * and adds nothing while it does: ask again for its removal, in
	 * case the first request was dropped. Removing twice is harmless,
	 * and the addition below comes after both.
	 */
	if (counted)
		virtio_msg_bus_remove_device(&lb->bus, d.dev_num);
	ret = virtio_msg_bus_add_device(&lb->bus, d.dev_num);
	if (ret) {
		xa_erase(&lb->devs, d.dev_num);
		goto out_unlock;
	}
	if (!counted)
		lb->nr_devs++;
	lb->added = true;
out_unlock:
	mutex_unlock(&lb->lock);
	return ret;
}

/*
 * The backend says which wire generation it speaks, before its first
 * device: the core checks the values (-EINVAL) and refuses a change once
 * it has a device, which cannot happen before the first ADD_DEVICE.
 */
static bool vmsg_lb_window_ok(const struct virtio_msg_lb_params *p)
{
	return p->window_size >= VIRTIO_MSG_LB_WINDOW_MIN &&
	       p->window_size <= VIRTIO_MSG_LB_WINDOW_MAX &&
	       PAGE_ALIGNED(p->window_size) && PAGE_ALIGNED(p->window_base) &&
	       p->window_base <= U64_MAX - p->window_size + 1;
}

/*
 * Window mode: allocate the window and give it to the core, under
 * @lb->lock before the first device. The backend's memory cgroup pays.
 */
static int vmsg_lb_set_window(struct vmsg_lb *lb,
			      const struct virtio_msg_lb_params *p)
{
	struct virtio_msg_dma_window w = {
		.size = p->window_size,
		.bus_base = p->window_base,
	};
	int ret;

	lockdep_assert_held(&lb->lock);
	if (lb->win)
		return -EBUSY;
	w.vaddr = __vmalloc(w.size, GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	if (!w.vaddr)
		return -ENOMEM;
	ret = virtio_msg_bus_set_dma_window(&lb->bus, &w);
	if (ret) {
		vfree(w.vaddr);
		return ret;
	}
	lb->win_base = w.bus_base;
	lb->win_size = w.size;
	WRITE_ONCE(lb->win, w.vaddr);
	return 0;
}

static long vmsg_lb_set_params(struct vmsg_lb *lb, void __user *uarg)
{
	struct virtio_msg_bus_params bp = {
		.revision = VIRTIO_MSG_REVISION,
	};
	struct virtio_msg_lb_params p;
	u32 usize;
	int ret;

	ret = vmsg_lb_get_arg(&p, sizeof(p), VIRTIO_MSG_LB_PARAMS_SIZE_VER0,
			      uarg, &usize);
	if (ret)
		return ret;
	if (p.reserved)
		return -EINVAL;
	/* Checked here too: the u32 must not be truncated into a valid u8. */
	if (p.wire != VIRTIO_MSG_WIRE_V1 && p.wire != VIRTIO_MSG_WIRE_V2)
		return -EINVAL;
	if (p.window_size && !vmsg_lb_window_ok(&p))
		return -EINVAL;
	if (p.reserved2 || p.recovery_ms > VIRTIO_MSG_LB_RECOVERY_MAX_MS)
		return -EINVAL;
	bp.wire = p.wire;
	bp.features = p.features;
	bp.max_msg_size = virtio_msg_bus_max_msg_size(&lb->bus);

	mutex_lock(&lb->lock);
	if (lb->added)
		ret = -EBUSY;
	else
		ret = virtio_msg_bus_set_params(&lb->bus, &bp);
	if (!ret && p.window_size)
		ret = vmsg_lb_set_window(lb, &p);
	if (!ret) {
		lb->wire = p.wire;
		lb->features = p.features;
		lb->recovery_ms = p.recovery_ms;
	}
	mutex_unlock(&lb->lock);
	return ret;
}

/*
 * An orderly removal, under @lb->lock: the number stays served, but
 * leaving, until the core releases its device. Without a device there is
 * nothing to drain, and no release would end the leaving: such a number
 * goes at once. Returns whether the number was left to the core.
 */
static bool vmsg_lb_unplug_locked(struct vmsg_lb *lb, u16 dev_num)
{
	lockdep_assert_held(&lb->lock);
	if (!xa_load(&lb->held, dev_num))
		return false;
	/* Replacing an existing entry allocates nothing. */
	xa_store(&lb->devs, dev_num, LB_DEV_LEAVING, GFP_KERNEL);
	virtio_msg_bus_unplug_device(&lb->bus, dev_num);
	return true;
}

/* A surprise removal of a number of @lb, under @lb->lock. */
static void vmsg_lb_surprise_locked(struct vmsg_lb *lb, u16 dev_num)
{
	struct vmsg_lb_dev *lbdev;

	lockdep_assert_held(&lb->lock);
	/* From here on the backend can neither access nor answer for it. */
	xa_erase(&lb->devs, dev_num);
	lbdev = xa_load(&lb->held, dev_num);
	if (lbdev)
		vmsg_lb_dev_kill(lbdev);
	else
		lb->nr_devs--;	/* else at ->release_device */
	virtio_msg_bus_remove_device(&lb->bus, dev_num);
}

static long vmsg_lb_remove_device(struct vmsg_lb *lb, void __user *uarg)
{
	struct virtio_msg_lb_device d;
	void *entry;
	int ret;

	ret = vmsg_lb_get_device_arg(&d, uarg, VIRTIO_MSG_LB_REMOVE_ORDERLY);
	if (ret)
		return ret;

	mutex_lock(&lb->lock);
	entry = xa_load(&lb->devs, d.dev_num);
	if (!entry) {
		mutex_unlock(&lb->lock);
		return -ENOENT;
	}
	if (d.flags & VIRTIO_MSG_LB_REMOVE_ORDERLY) {
		if (entry == LB_DEV_LEAVING ||
		    vmsg_lb_unplug_locked(lb, d.dev_num)) {
			mutex_unlock(&lb->lock);
			return 0;
		}
	}
	vmsg_lb_surprise_locked(lb, d.dev_num);
	mutex_unlock(&lb->lock);
	return 0;
}

static long vmsg_lb_get_device(struct vmsg_lb *lb, void __user *uarg)
{
	struct virtio_msg_lb_device d;
	void *entry;
	int ret;

	ret = vmsg_lb_get_device_arg(&d, uarg, 0);
	if (ret)
		return ret;
	entry = xa_load(&lb->devs, d.dev_num);
	if (!entry)
		return -ENOENT;
	d.flags = entry == LB_DEV_LEAVING ? VIRTIO_MSG_LB_DEVICE_LEAVING : 0;
	/* The size userspace gave is at least VER0: write back only that. */
	if (copy_to_user(uarg, &d, VIRTIO_MSG_LB_DEVICE_SIZE_VER0))
		return -EFAULT;
	return 0;
}

/*
 * Under @lbdev->map_lock: check that [@addr, @addr + @len) lies in one live
 * mapping that allows the access, and return the physical address of @addr.
 */
static int vmsg_lb_find(struct vmsg_lb_dev *lbdev, u64 addr, u32 len,
			bool write, phys_addr_t *phys)
{
	const struct vmsg_lb_map *map;
	struct rb_node *node;

	lockdep_assert_held(&lbdev->map_lock);
	node = rb_find(&addr, &lbdev->maps, vmsg_lb_map_cmp_addr);
	if (!node)
		return -ENXIO;
	map = rb_entry(node, struct vmsg_lb_map, node);
	if (len > map->size - (addr - map->iova))
		return -ENXIO;
	if (map->dir != DMA_BIDIRECTIONAL &&
	    map->dir != (write ? DMA_FROM_DEVICE : DMA_TO_DEVICE))
		return -EACCES;
	if (write) {
		const struct vmsg_lb_ro *ro;

		list_for_each_entry(ro, &lbdev->read_only, node)
			if (addr < ro->end && addr + len > ro->start)
				return -EACCES;
	}
	*phys = map->phys + (addr - map->iova);
	return 0;
}

/*
 * Copy one piece (at most up to the end of a page) between the mapping at
 * @addr and @bounce, with the map lock held so that the mapping cannot be
 * torn down in between; for the backend (@backend) only while it may
 * still reach the device. Returns the number of bytes copied.
 */
static int vmsg_lb_copy_piece(struct vmsg_lb_dev *lbdev, u64 addr, u32 len,
			      void *bounce, bool write, size_t max,
			      bool backend)
{
	unsigned long flags;
	phys_addr_t phys;
	size_t n;
	void *p;
	int ret;

	spin_lock_irqsave(&lbdev->map_lock, flags);
	ret = backend && lbdev->dead ? -ENODEV :
	      vmsg_lb_find(lbdev, addr, len, write, &phys);
	if (ret)
		goto out_unlock;
	n = min3((size_t)len, max, PAGE_SIZE - offset_in_page(phys));
	p = kmap_local_page(pfn_to_page(PHYS_PFN(phys)));
	if (write)
		memcpy(p + offset_in_page(phys), bounce, n);
	else
		memcpy(bounce, p + offset_in_page(phys), n);
	kunmap_local(p);
	ret = n;
out_unlock:
	spin_unlock_irqrestore(&lbdev->map_lock, flags);
	return ret;
}

/*
 * ->dma_access: the core reaching a device's mappings in its stead, also
 * once the backend may not (a surprise removal).
 */
static int vmsg_lb_dma_access(struct virtio_msg_bus *bus,
			      struct device *dma_dev, u64 addr, void *buf,
			      size_t len, bool write)
{
	struct vmsg_lb_dev *lbdev = container_of(dma_dev, struct vmsg_lb_dev,
						 dma_dev);
	int ret;

	if (addr + len < addr)
		return -ENXIO;
	while (len) {
		ret = vmsg_lb_copy_piece(lbdev, addr, min_t(size_t, len, U32_MAX),
					 buf, write, len, false);
		if (ret < 0)
			return ret;
		addr += ret;
		buf += ret;
		len -= ret;
	}
	return 0;
}

/* Under @lbdev->lb->mem_lock, which guards the bounce page. */
static int vmsg_lb_mem_copy(struct vmsg_lb_dev *lbdev, u64 addr,
			    void __user *ubuf, u32 len, bool write)
{
	void *bounce = lbdev->lb->bounce;
	size_t n;
	int ret = 0;

	lockdep_assert_held(&lbdev->lb->mem_lock);
	while (len) {
		if (write) {
			/*
			 * The user copy may fault and sleep, so it happens
			 * before the lock; the piece is checked again then.
			 */
			n = min_t(size_t, len, PAGE_SIZE);
			if (copy_from_user(bounce, ubuf, n)) {
				ret = -EFAULT;
				break;
			}
		}
		ret = vmsg_lb_copy_piece(lbdev, addr, len, bounce, write,
					 PAGE_SIZE, true);
		if (ret < 0)
			break;
		n = ret;
		ret = 0;
		if (!write && copy_to_user(ubuf, bounce, n)) {
			ret = -EFAULT;
			break;
		}
		addr += n;
		ubuf += n;
		len -= n;
		if (len && fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		cond_resched();
	}
	return ret;
}

/*
 * Window mode, under @lb->mem_lock: copy between the window and userspace.
 * The range must lie in the window; a write must not touch a read-only
 * ring area of any device, checked under @lb->win_lock as each piece is
 * copied from the bounce page, so that a ring recorded meanwhile is safe.
 */
static int vmsg_lb_win_copy(struct vmsg_lb *lb, u64 addr,
			    void __user *ubuf, u32 len, bool write)
{
	const struct vmsg_lb_ro *ro;
	unsigned long flags;
	size_t n;
	u64 off;
	int ret = 0;

	lockdep_assert_held(&lb->mem_lock);
	if (addr < lb->win_base || addr - lb->win_base > lb->win_size ||
	    len > lb->win_size - (addr - lb->win_base))
		return -ENXIO;
	off = addr - lb->win_base;
	while (len) {
		n = min_t(size_t, len, PAGE_SIZE);
		if (!write) {
			if (copy_to_user(ubuf, lb->win + off, n))
				return -EFAULT;
		} else {
			if (copy_from_user(lb->bounce, ubuf, n))
				return -EFAULT;
			spin_lock_irqsave(&lb->win_lock, flags);
			list_for_each_entry(ro, &lb->win_ro, node)
				if (addr < ro->end && addr + n > ro->start)
					ret = -EACCES;
			if (!ret)
				memcpy(lb->win + off, lb->bounce, n);
			spin_unlock_irqrestore(&lb->win_lock, flags);
			if (ret)
				return ret;
		}
		addr += n;
		off += n;
		ubuf += n;
		len -= n;
		if (len && fatal_signal_pending(current))
			return -EINTR;
		cond_resched();
	}
	return 0;
}

static long vmsg_lb_mem(struct vmsg_lb *lb, void __user *uarg, bool write)
{
	struct virtio_msg_lb_mem m;
	struct vmsg_lb_dev *lbdev;
	u32 usize;
	int ret;

	ret = vmsg_lb_get_arg(&m, sizeof(m), VIRTIO_MSG_LB_MEM_SIZE_VER0,
			      uarg, &usize);
	if (ret)
		return ret;
	if (m.reserved || !m.len || m.addr + m.len < m.addr ||
	    m.dev_num > VIRTIO_MSG_LB_MAX_DEV_NUM)
		return -EINVAL;

	m.dev_num = array_index_nospec(m.dev_num,
				       VIRTIO_MSG_LB_MAX_DEV_NUM + 1);
	if (READ_ONCE(lb->win)) {
		/* The window is the instance's: any device of it reaches it. */
		if (!xa_load(&lb->devs, m.dev_num))
			return -ENODEV;
		if (mutex_lock_killable(&lb->mem_lock))
			return -EINTR;
		ret = vmsg_lb_win_copy(lb, m.addr, u64_to_user_ptr(m.buf),
				       m.len, write);
		mutex_unlock(&lb->mem_lock);
		return ret;
	}
	lbdev = vmsg_lb_dev_get(lb, m.dev_num);
	if (IS_ERR(lbdev))
		return PTR_ERR(lbdev);
	if (mutex_lock_killable(&lb->mem_lock)) {
		ret = -EINTR;
	} else {
		ret = vmsg_lb_mem_copy(lbdev, m.addr, u64_to_user_ptr(m.buf),
				       m.len, write);
		mutex_unlock(&lb->mem_lock);
	}
	put_device(&lbdev->dma_dev);
	return ret;
}

/*
 * GET_DEV_STATE and GET_QUEUE_STATE: the driver side's view of a device
 * of this instance, from the core's cache. @q is NULL for the former.
 */
static long vmsg_lb_get_state(struct vmsg_lb *lb, void __user *uarg,
			      bool queue)
{
	struct virtio_msg_device_state st;
	struct virtio_msg_lb_queue_state q;
	struct virtio_msg_lb_dev_state d;
	u32 usize, dev_num, index = 0;
	int ret;

	if (queue) {
		ret = vmsg_lb_get_arg(&q, sizeof(q),
				      VIRTIO_MSG_LB_QUEUE_STATE_SIZE_VER0,
				      uarg, &usize);
		if (ret)
			return ret;
		if (q.flags || q.reserved || q.queue_size || q.desc_addr ||
		    q.driver_addr || q.device_addr)
			return -EINVAL;
		dev_num = q.dev_num;
		index = q.index;
	} else {
		ret = vmsg_lb_get_arg(&d, sizeof(d),
				      VIRTIO_MSG_LB_DEV_STATE_SIZE_VER0,
				      uarg, &usize);
		if (ret)
			return ret;
		if (d.flags || d.reserved)
			return -EINVAL;
		dev_num = d.dev_num;
	}
	if (dev_num > VIRTIO_MSG_LB_MAX_DEV_NUM)
		return -EINVAL;
	if (xa_load(&lb->devs, dev_num) != LB_DEV_SERVED)
		return -ENODEV;
	ret = virtio_msg_bus_device_state(&lb->bus, dev_num, index, &st);
	if (ret)
		return ret;

	if (queue) {
		if (st.vq.enabled) {
			q.flags = VIRTIO_MSG_LB_QUEUE_ENABLED;
			q.queue_size = st.vq.size;
			q.desc_addr = st.vq.desc;
			q.driver_addr = st.vq.driver;
			q.device_addr = st.vq.device;
		}
		/* Userspace gave at least VER0: write back only that. */
		if (copy_to_user(uarg, &q, VIRTIO_MSG_LB_QUEUE_STATE_SIZE_VER0))
			return -EFAULT;
		return 0;
	}
	d.status = st.status;
	d.flags = st.broken ? VIRTIO_MSG_LB_DEV_BROKEN : 0;
	d.device_id = st.device_id;
	d.num_queues = st.num_queues;
	d.config_generation = st.config_generation;
	memset(d.driver_features, 0, sizeof(d.driver_features));
	d.driver_features[0] = st.features;
	if (copy_to_user(uarg, &d, VIRTIO_MSG_LB_DEV_STATE_SIZE_VER0))
		return -EFAULT;
	return 0;
}

/*
 * The orphan @o has a new backend: its messages are read again, so the
 * stall watchdog is back, with a full period from now; and every live
 * queue is notified, for the kicks the dead backend read and dropped.
 */
static void vmsg_lb_unpark(struct vmsg_lb *o)
{
	unsigned long flags, index;
	unsigned int cpu;
	void *entry;
	bool arm;

	spin_lock_irqsave(&o->q_lock, flags);
	o->parked = false;
	o->q_progress = ktime_get();
	arm = o->q_count;
	cpu = o->q_cpu;
	spin_unlock_irqrestore(&o->q_lock, flags);
	if (arm)
		vmsg_lb_watch(o, cpu);
	xa_for_each(&o->devs, index, entry)
		if (entry == LB_DEV_SERVED)
			virtio_msg_bus_kick_device(&o->bus, index);
}

/*
 * ADOPT: the fresh instance @lb of @file gives way to the orphan that
 * holds the number. Threads still using @lb find it retired; @lb lives on
 * as the orphan's spare until the file is released.
 */
static long vmsg_lb_adopt(struct file *file, struct vmsg_lb *lb,
			  void __user *uarg)
{
	struct virtio_msg_lb_device d;
	struct vmsg_lb *o, *found = NULL;
	int ret;

	ret = vmsg_lb_get_device_arg(&d, uarg, 0);
	if (ret)
		return ret;

	mutex_lock(&lb->lock);
	if (lb->added || lb->retired || lb->win || lb->nr_devs) {
		ret = -EBUSY;
		goto out_unlock;
	}
	mutex_lock(&vmsg_lb_orphans_lock);
	list_for_each_entry(o, &vmsg_lb_orphans, orphan_node) {
		if (xa_load(&o->devs, d.dev_num) == LB_DEV_SERVED) {
			found = o;
			break;
		}
	}
	if (!found) {
		ret = -ENOENT;
	} else if (found->wire != lb->wire ||
		   found->features != lb->features) {
		ret = -EPROTO;
	} else {
		list_del(&found->orphan_node);
		found->orphan = false;
		/* A running expiry finds it adopted and does nothing. */
		cancel_delayed_work(&found->expire_work);
	}
	mutex_unlock(&vmsg_lb_orphans_lock);
	if (ret)
		goto out_unlock;

	found->spare = lb;
	lb->added = true;
	WRITE_ONCE(file->private_data, found);
	/* After the switch: whoever sees it retired finds the new one. */
	smp_store_release(&lb->retired, true);	/* vmsg_lb_retired() */
	mutex_unlock(&lb->lock);
	wake_up_all(&lb->readq);
	wake_up_all(&lb->rxq);

	dev_info(&found->dev, "adopted by a new backend\n");
	vmsg_lb_unpark(found);
	wake_up_interruptible_poll(&found->readq, EPOLLIN | EPOLLRDNORM);
	return 0;

out_unlock:
	mutex_unlock(&lb->lock);
	return ret;
}

/* The instance of @file now: ADOPT may switch it (see vmsg_lb_adopt()). */
static struct vmsg_lb *vmsg_lb_of(struct file *file)
{
	return READ_ONCE(file->private_data);
}

/*
 * Whether ADOPT retired @lb. Pairs with the release in vmsg_lb_adopt():
 * once this says so, vmsg_lb_of() returns the adopted instance.
 */
static bool vmsg_lb_retired(struct vmsg_lb *lb)
{
	return smp_load_acquire(&lb->retired);	/* pairs with ADOPT's */
}

static long vmsg_lb_ioctl(struct file *file, unsigned int cmd,
			  unsigned long arg)
{
	struct vmsg_lb *lb = vmsg_lb_of(file);
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case VIRTIO_MSG_LB_IOC_GET_INFO:
		return vmsg_lb_get_info(lb, uarg);
	case VIRTIO_MSG_LB_IOC_ADD_DEVICE:
		return vmsg_lb_add_device(lb, uarg);
	case VIRTIO_MSG_LB_IOC_REMOVE_DEVICE:
		return vmsg_lb_remove_device(lb, uarg);
	case VIRTIO_MSG_LB_IOC_GET_DEVICE:
		return vmsg_lb_get_device(lb, uarg);
	case VIRTIO_MSG_LB_IOC_MEM_READ:
		return vmsg_lb_mem(lb, uarg, false);
	case VIRTIO_MSG_LB_IOC_MEM_WRITE:
		return vmsg_lb_mem(lb, uarg, true);
	case VIRTIO_MSG_LB_IOC_SET_PARAMS:
		return vmsg_lb_set_params(lb, uarg);
	case VIRTIO_MSG_LB_IOC_ADOPT:
		return vmsg_lb_adopt(file, lb, uarg);
	case VIRTIO_MSG_LB_IOC_GET_DEV_STATE:
		return vmsg_lb_get_state(lb, uarg, false);
	case VIRTIO_MSG_LB_IOC_GET_QUEUE_STATE:
		return vmsg_lb_get_state(lb, uarg, true);
	default:
		return -ENOTTY;
	}
}

/* ------------------------------------------------------------------------
 * Messages: read(), write(), poll()
 */

static bool vmsg_lb_queued(struct vmsg_lb *lb)
{
	unsigned long flags;
	bool ret;

	spin_lock_irqsave(&lb->q_lock, flags);
	ret = lb->q_count;
	spin_unlock_irqrestore(&lb->q_lock, flags);
	return ret;
}

/*
 * Under @lb->read_lock: copy the oldest message into @lb->rbuf if it fits
 * in @count bytes. Returns its length, 0 if the queue is empty, or
 * -EMSGSIZE.
 */
static ssize_t vmsg_lb_peek(struct vmsg_lb *lb, size_t count)
{
	const struct vmsg_lb_slot *slot;
	unsigned long flags;
	ssize_t ret = 0;

	spin_lock_irqsave(&lb->q_lock, flags);
	if (lb->q_count) {
		slot = &lb->slots[lb->q_head];
		if (slot->len > count) {
			ret = -EMSGSIZE;
		} else {
			memcpy(lb->rbuf, slot->data, slot->len);
			ret = slot->len;
		}
	}
	spin_unlock_irqrestore(&lb->q_lock, flags);
	return ret;
}

/* Under @lb->read_lock: drop the message vmsg_lb_peek() copied. */
static void vmsg_lb_pop(struct vmsg_lb *lb)
{
	unsigned int busy_cpu;
	unsigned long flags;
	bool kick = false, arm;

	spin_lock_irqsave(&lb->q_lock, flags);
	lb->q_events -= lb->slots[lb->q_head].event;
	lb->q_head = (lb->q_head + 1) % lb->q_len;
	lb->q_count--;
	lb->q_progress = ktime_get();
	/* Back after a stall: watch what is left. */
	arm = lb->stalled && lb->q_count;
	busy_cpu = lb->q_cpu;
	lb->stalled = false;
	if (lb->tx_blocked && lb->q_events < lb->q_event_slots) {
		lb->tx_blocked = false;
		kick = true;
	}
	spin_unlock_irqrestore(&lb->q_lock, flags);

	if (arm)
		vmsg_lb_watch(lb, busy_cpu);

	wake_up(&lb->sendq);
	if (kick)
		virtio_msg_bus_tx_ready(&lb->bus);
}

static ssize_t vmsg_lb_read(struct file *file, char __user *buf,
			    size_t count, loff_t *ppos)
{
	bool nonblock = file->f_flags & O_NONBLOCK;
	struct vmsg_lb *lb;
	ssize_t ret;

	for (;;) {
		lb = vmsg_lb_of(file);
		if (!nonblock) {
			ret = wait_event_interruptible(lb->readq,
						       vmsg_lb_queued(lb) ||
						       vmsg_lb_retired(lb));
			if (ret)
				return ret;
			/* The file adopted an instance: read that one. */
			if (vmsg_lb_retired(lb))
				continue;
		}
		if (nonblock) {
			if (!mutex_trylock(&lb->read_lock))
				return -EAGAIN;
		} else if (mutex_lock_interruptible(&lb->read_lock)) {
			return -ERESTARTSYS;
		}
		ret = vmsg_lb_peek(lb, count);
		if (ret > 0 && copy_to_user(buf, lb->rbuf, ret))
			ret = -EFAULT;
		/* On any failure the message stays queued. */
		if (ret > 0)
			vmsg_lb_pop(lb);
		mutex_unlock(&lb->read_lock);
		if (ret)
			return ret;
		/* Another reader took it. */
		if (nonblock)
			return -EAGAIN;
	}
}

/* Hands queued messages to the core, oldest first. */
static void vmsg_lb_rx_work(struct work_struct *work)
{
	struct vmsg_lb *lb = container_of(work, struct vmsg_lb, rx_work);
	const struct vmsg_lb_slot *slot;
	unsigned int budget;
	unsigned long flags;
	size_t len;

	for (budget = VMSG_LB_RX_BATCH; budget; budget--) {
		spin_lock(&lb->rx_lock);
		if (!lb->rx_count || lb->rx_dead) {
			spin_unlock(&lb->rx_lock);
			return;
		}
		slot = &lb->rx_slots[lb->rx_head];
		len = slot->len;
		memcpy(lb->rx_buf, slot->data, len);
		lb->rx_head = (lb->rx_head + 1) % lb->q_len;
		lb->rx_count--;
		spin_unlock(&lb->rx_lock);
		wake_up(&lb->rxq);

		/*
		 * As from a device interrupt: virtio callbacks expect
		 * interrupts off, and the softirqs they raise (block
		 * completion, NAPI) run as soon as bottom halves are on again.
		 */
		local_bh_disable();
		local_irq_save(flags);
		virtio_msg_bus_receive(&lb->bus, lb->rx_buf, len);
		local_irq_restore(flags);
		local_bh_enable();

		spin_lock(&lb->rx_lock);
		lb->rx_delivered++;
		spin_unlock(&lb->rx_lock);
		wake_up(&lb->rxq);
		cond_resched();
	}
	/* More may be queued: let other work run first. */
	queue_work(vmsg_lb_wq, &lb->rx_work);
}

static bool vmsg_lb_rx_has_room(struct vmsg_lb *lb)
{
	bool ret;

	spin_lock(&lb->rx_lock);
	ret = lb->rx_count < lb->q_len;
	spin_unlock(&lb->rx_lock);
	return ret;
}

/* Queues @len bytes of @msg for delivery; -EAGAIN when the ring is full. */
static int vmsg_lb_rx_queue(struct vmsg_lb *lb, const void *msg, size_t len)
{
	struct vmsg_lb_slot *slot;

	spin_lock(&lb->rx_lock);
	if (lb->rx_count == lb->q_len) {
		spin_unlock(&lb->rx_lock);
		return -EAGAIN;
	}
	slot = &lb->rx_slots[(lb->rx_head + lb->rx_count) % lb->q_len];
	memcpy(slot->data, msg, len);
	slot->len = len;
	lb->rx_count++;
	lb->rx_written++;
	spin_unlock(&lb->rx_lock);
	queue_work(vmsg_lb_wq, &lb->rx_work);
	return 0;
}

static ssize_t vmsg_lb_write(struct file *file, const char __user *buf,
			     size_t count, loff_t *ppos)
{
	struct vmsg_lb *lb = vmsg_lb_of(file);
	u8 msg[VMSG_LB_MAX_MSG_SIZE] __aligned(8);
	const struct virtio_msg_hdr *hdr = (void *)msg;
	long left;
	int ret;

	/* On the stack: a larger maximum must move it to the instance. */
	static_assert(VMSG_LB_MAX_MSG_SIZE <= 512);
	if (count < sizeof(*hdr))
		return -EINVAL;
	if (count > virtio_msg_bus_max_msg_size(&lb->bus) ||
	    count > sizeof(msg))
		return -EMSGSIZE;
	if (copy_from_user(msg, buf, count))
		return -EFAULT;
	if (le16_to_cpu(hdr->msg_size) != count)
		return -EINVAL;

	if (hdr->type & VIRTIO_MSG_TYPE_BUS) {
		/* The backend may answer bus requests, not make its own. */
		if (!(hdr->type & VIRTIO_MSG_TYPE_RESPONSE))
			return -EINVAL;
	} else {
		/* A device sends responses and events only. */
		if (!(hdr->type & VIRTIO_MSG_TYPE_RESPONSE) &&
		    !(hdr->msg_id & VIRTIO_MSG_ID_EVENT))
			return -EINVAL;
		if (!xa_load(&lb->devs, le16_to_cpu(hdr->dev_num)))
			return -ENODEV;
	}

	/*
	 * The ring drains unless a driver callback waits for this very
	 * backend (see the theory of operation), hence the bound: the
	 * backend then gets -EAGAIN and can go on serving.
	 */
	left = msecs_to_jiffies(VMSG_LB_WRITE_WAIT_MS);
	while ((ret = vmsg_lb_rx_queue(lb, msg, count)) == -EAGAIN) {
		if (file->f_flags & O_NONBLOCK || !left)
			return -EAGAIN;
		left = wait_event_interruptible_timeout(lb->rxq,
							vmsg_lb_rx_has_room(lb),
							left);
		if (left < 0)
			return left;
	}
	return ret ? ret : count;
}

static bool vmsg_lb_rx_delivered(struct vmsg_lb *lb, u64 target)
{
	bool ret;

	spin_lock(&lb->rx_lock);
	ret = lb->rx_delivered >= target;
	spin_unlock(&lb->rx_lock);
	return ret;
}

/* Waits until every message written before the call was delivered. */
static int vmsg_lb_fsync(struct file *file, loff_t start, loff_t end,
			 int datasync)
{
	struct vmsg_lb *lb = vmsg_lb_of(file);
	long left;
	u64 target;

	spin_lock(&lb->rx_lock);
	target = lb->rx_written;
	spin_unlock(&lb->rx_lock);

	left = wait_event_interruptible_timeout(lb->rxq,
						vmsg_lb_rx_delivered(lb, target),
						msecs_to_jiffies(VMSG_LB_FSYNC_WAIT_MS));
	if (left < 0)
		return left;
	return left ? 0 : -ETIMEDOUT;
}

static __poll_t vmsg_lb_poll(struct file *file, poll_table *wait)
{
	struct vmsg_lb *lb = vmsg_lb_of(file);
	__poll_t mask = 0;

	poll_wait(file, &lb->readq, wait);
	poll_wait(file, &lb->rxq, wait);
	/* Retired by ADOPT: wake the poller, whose next poll finds the new. */
	if (vmsg_lb_retired(lb))
		return EPOLLIN | EPOLLRDNORM | EPOLLOUT | EPOLLWRNORM;
	if (vmsg_lb_queued(lb))
		mask |= EPOLLIN | EPOLLRDNORM;
	if (vmsg_lb_rx_has_room(lb))
		mask |= EPOLLOUT | EPOLLWRNORM;
	return mask;
}

/* ------------------------------------------------------------------------
 * Instances
 */

static struct miscdevice vmsg_lb_misc;
static void vmsg_lb_expire(struct work_struct *work);

static void vmsg_lb_instance_release(struct device *dev)
{
	struct vmsg_lb *lb = container_of(dev, struct vmsg_lb, dev);

	ida_free(&vmsg_lb_ida, lb->id);
	mem_cgroup_put(lb->memcg);
	free_page((unsigned long)lb->bounce);
	kvfree(lb->rx_slots);
	kvfree(lb->slots);
	kfree(lb);
	/*
	 * The instance held the module since open: until here this code,
	 * and that of its devices' release, cannot be unloaded.
	 */
	module_put(THIS_MODULE);
}

/* Count one more open file, unless max_instances are open. */
static bool vmsg_lb_get_open_slot(void)
{
	int open = atomic_read(&vmsg_lb_open_files);

	do {
		if (open >= READ_ONCE(max_instances))
			return false;
	} while (!atomic_try_cmpxchg(&vmsg_lb_open_files, &open, open + 1));
	return true;
}

static int vmsg_lb_open(struct inode *inode, struct file *file)
{
	struct vmsg_lb *lb;
	int ret;

	/*
	 * The file is root-equivalent: its devices' drivers trust the
	 * device with their data. Checked here, not by the file mode
	 * alone, so that the file cannot be delegated by a chmod.
	 */
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (!vmsg_lb_get_open_slot())
		return -EMFILE;

	/* What a backend makes the kernel allocate is charged to it. */
	lb = kzalloc(sizeof(*lb), GFP_KERNEL_ACCOUNT);
	if (!lb) {
		ret = -ENOMEM;
		goto err_slot;
	}
	lb->q_len = queue_len;
	lb->q_event_slots = lb->q_len * 3 / 4;
	lb->max_devs = clamp(READ_ONCE(max_devices), 1U,
			     VMSG_LB_MAX_DEVICES);
	lb->slots = kvcalloc(lb->q_len, sizeof(*lb->slots),
			     GFP_KERNEL_ACCOUNT);
	lb->rx_slots = kvcalloc(lb->q_len, sizeof(*lb->rx_slots),
				GFP_KERNEL_ACCOUNT);
	lb->bounce = (void *)__get_free_page(GFP_KERNEL_ACCOUNT);
	if (!lb->slots || !lb->rx_slots || !lb->bounce) {
		ret = -ENOMEM;
		goto err_free;
	}
	lb->id = ida_alloc(&vmsg_lb_ida, GFP_KERNEL);
	if (lb->id < 0) {
		ret = lb->id;
		goto err_free;
	}
	lb->memcg = get_mem_cgroup_from_mm(current->mm);
	mutex_init(&lb->lock);
	xa_init(&lb->devs);
	xa_init(&lb->held);
	mutex_init(&lb->mem_lock);
	spin_lock_init(&lb->q_lock);
	INIT_WORK(&lb->stall_arm, vmsg_lb_stall_arm);
	hrtimer_init(&lb->stall_timer, CLOCK_MONOTONIC,
		     HRTIMER_MODE_REL_PINNED);
	lb->stall_timer.function = vmsg_lb_stall_timer;
	INIT_WORK(&lb->stall_work, vmsg_lb_stall_work);
	mutex_init(&lb->read_lock);
	init_waitqueue_head(&lb->readq);
	init_waitqueue_head(&lb->sendq);
	spin_lock_init(&lb->rx_lock);
	INIT_WORK(&lb->rx_work, vmsg_lb_rx_work);
	init_waitqueue_head(&lb->rxq);
	spin_lock_init(&lb->win_lock);
	INIT_LIST_HEAD(&lb->win_ro);
	lb->wire = VIRTIO_MSG_WIRE_V1;
	INIT_LIST_HEAD(&lb->orphan_node);
	INIT_DELAYED_WORK(&lb->expire_work, vmsg_lb_expire);

	/* From here on the instance is freed by its device's release. */
	__module_get(THIS_MODULE);
	device_initialize(&lb->dev);
	lb->dev.parent = vmsg_lb_misc.this_device;
	lb->dev.release = vmsg_lb_instance_release;
	ret = dev_set_name(&lb->dev, "virtio-msg-lb%d", lb->id);
	if (ret)
		goto err_put;
	ret = device_add(&lb->dev);
	if (ret)
		goto err_put;

	lb->bus.parent = &lb->dev;
	lb->bus.desc = READ_ONCE(deferred_kicks) ? &vmsg_lb_desc_deferred :
						   &vmsg_lb_desc;
	lb->bus.max_devices = lb->max_devs;
	/* The console entry is the first: skip it unless allowed. */
	lb->bus.devices = virtio_msg_hardened_devices(READ_ONCE(allow_console));
	ret = virtio_msg_bus_register(&lb->bus);
	if (ret)
		goto err_del;
	/*
	 * Devices come as the backend adds them; until the first one, the
	 * backend may still change the parameters (SET_PARAMS), which the
	 * core allows while it has no device.
	 */
	virtio_msg_bus_start(&lb->bus);

	file->private_data = lb;
	return stream_open(inode, file);

err_del:
	device_del(&lb->dev);
err_put:
	put_device(&lb->dev);
	atomic_dec(&vmsg_lb_open_files);
	return ret;

err_free:
	free_page((unsigned long)lb->bounce);
	kvfree(lb->rx_slots);
	kvfree(lb->slots);
	kfree(lb);
err_slot:
	atomic_dec(&vmsg_lb_open_files);
	return ret;
}

/* Stop the stall watchdog; it stays stopped until a message arms it. */
static void vmsg_lb_stop_watch(struct vmsg_lb *lb)
{
	cancel_work_sync(&lb->stall_arm);
	hrtimer_cancel(&lb->stall_timer);
	cancel_work_sync(&lb->stall_work);
}

/*
 * Tear @lb down: its backend is gone for good. Fails what is in flight,
 * removes every device (a surprise removal) and frees the instance once
 * the last reference goes. Not for an orphan still on the list.
 */
static void vmsg_lb_destroy(struct vmsg_lb *lb)
{
	struct vmsg_lb_ro *ro, *ro_tmp;
	struct vmsg_lb_dev *lbdev;
	unsigned long flags, index;

	spin_lock_irqsave(&lb->q_lock, flags);
	lb->dead = true;
	spin_unlock_irqrestore(&lb->q_lock, flags);
	wake_up_all(&lb->sendq);
	/*
	 * No message is queued once @dead is set, but a sender that queued
	 * one just before may still arm the watchdog: stop it again once
	 * the core is gone, before the instance can be freed.
	 */
	vmsg_lb_stop_watch(lb);

	/*
	 * Fail what is in flight at once instead of after a timeout. Break
	 * the devices before waiting for the delivery work: a callback it
	 * runs may be spinning until the device completes a buffer, which
	 * only a broken virtqueue ends now.
	 */
	spin_lock(&lb->rx_lock);
	lb->rx_dead = true;
	spin_unlock(&lb->rx_lock);
	virtio_msg_bus_peer_lost(&lb->bus);
	cancel_work_sync(&lb->rx_work);
	virtio_msg_bus_unregister(&lb->bus);
	vmsg_lb_stop_watch(lb);

	/* Only a core that skipped ->release_device leaves entries here. */
	xa_for_each(&lb->held, index, lbdev) {
		xa_erase(&lb->held, index);
		vmsg_lb_dev_unregister(lbdev);
	}
	xa_destroy(&lb->devs);
	xa_destroy(&lb->held);
	/* The core is done with the window: its devices are gone. */
	list_for_each_entry_safe(ro, ro_tmp, &lb->win_ro, node)
		kfree(ro);
	vfree(lb->win);
	mutex_destroy(&lb->mem_lock);
	mutex_destroy(&lb->read_lock);
	mutex_destroy(&lb->lock);
	device_unregister(&lb->dev);
	atomic_dec(&vmsg_lb_open_files);
}

/*
 * The grace period of an orphan is over and no backend adopted it: it
 * goes as it would have gone with its file.
 */
static void vmsg_lb_expire(struct work_struct *work)
{
	struct vmsg_lb *lb = container_of(to_delayed_work(work),
					  struct vmsg_lb, expire_work);
	long left;

	mutex_lock(&vmsg_lb_orphans_lock);
	/* Adopted meanwhile: the adopter owns it now. */
	if (!lb->orphan) {
		mutex_unlock(&vmsg_lb_orphans_lock);
		return;
	}
	/* An old expiry of an instance orphaned again: wait for the new. */
	left = (long)(lb->orphan_deadline - jiffies);
	if (left > 0) {
		mod_delayed_work(vmsg_lb_wq, &lb->expire_work, left);
		mutex_unlock(&vmsg_lb_orphans_lock);
		return;
	}
	list_del_init(&lb->orphan_node);
	lb->orphan = false;
	mutex_unlock(&vmsg_lb_orphans_lock);

	dev_info(&lb->dev, "no backend adopted the devices in %u ms: removing them\n",
		 lb->recovery_ms);
	/* Frees @lb, this work item included, once its users are gone. */
	vmsg_lb_destroy(lb);
}

/*
 * The file of @lb is being released. With recovery and a device served,
 * the instance becomes an orphan and true is returned: its devices stay
 * as they are for the driver, kicks queue up for the next backend (the
 * watchdog does not blame the missing reader), requests wait and time out
 * in the core, and written messages are still delivered. Devices in an
 * orderly removal are removed at once, as closing the file would.
 */
static bool vmsg_lb_orphan(struct vmsg_lb *lb)
{
	unsigned long flags, index;
	bool served = false;
	void *entry;

	if (!lb->recovery_ms)
		return false;
	mutex_lock(&lb->lock);
	xa_for_each(&lb->devs, index, entry)
		if (entry == LB_DEV_SERVED)
			served = true;
	if (served)
		xa_for_each(&lb->devs, index, entry)
			if (entry == LB_DEV_LEAVING)
				vmsg_lb_surprise_locked(lb, index);
	mutex_unlock(&lb->lock);
	if (!served)
		return false;

	spin_lock_irqsave(&lb->q_lock, flags);
	lb->parked = true;
	spin_unlock_irqrestore(&lb->q_lock, flags);
	vmsg_lb_stop_watch(lb);

	mutex_lock(&vmsg_lb_orphans_lock);
	lb->orphan = true;
	lb->orphan_deadline = jiffies + msecs_to_jiffies(lb->recovery_ms);
	list_add_tail(&lb->orphan_node, &vmsg_lb_orphans);
	mod_delayed_work(vmsg_lb_wq, &lb->expire_work,
			 msecs_to_jiffies(lb->recovery_ms));
	mutex_unlock(&vmsg_lb_orphans_lock);
	dev_info(&lb->dev, "backend gone: its devices wait %u ms for a new one\n",
		 lb->recovery_ms);
	return true;
}

static int vmsg_lb_release(struct inode *inode, struct file *file)
{
	struct vmsg_lb *lb = vmsg_lb_of(file);

	/* The instance the file had before it adopted @lb. */
	if (lb->spare) {
		vmsg_lb_destroy(lb->spare);
		lb->spare = NULL;
	}
	if (vmsg_lb_orphan(lb))
		return 0;
	/* An expiry of an earlier orphanhood must not outlive @lb. */
	cancel_delayed_work_sync(&lb->expire_work);
	vmsg_lb_destroy(lb);
	return 0;
}

static const struct file_operations vmsg_lb_fops = {
	.owner		= THIS_MODULE,
	.open		= vmsg_lb_open,
	.release	= vmsg_lb_release,
	.read		= vmsg_lb_read,
	.write		= vmsg_lb_write,
	.fsync		= vmsg_lb_fsync,
	.poll		= vmsg_lb_poll,
	.unlocked_ioctl	= vmsg_lb_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};

/*
 * A fixed minor lets depmod list the node in modules.devname, so that
 * /dev/virtio-msg-loopback exists before the module is loaded and opening
 * it loads the module. The minor is one of those devices.txt reserves
 * for local use (243 to 254); should another driver hold it, the node
 * still comes up on a dynamic minor, only without that autoload.
 */
#define VMSG_LB_MINOR	246
#define VMSG_LB_NAME	"virtio-msg-loopback"

/*
 * Root only: a backend sees whatever the drivers of its devices map, and
 * the virtio drivers trust the device with the data they give it. Opening
 * also needs CAP_SYS_ADMIN.
 */
static struct miscdevice vmsg_lb_misc = {
	.minor	= VMSG_LB_MINOR,
	.name	= VMSG_LB_NAME,
	.fops	= &vmsg_lb_fops,
	.mode	= 0600,
};

static int __init vmsg_lb_init(void)
{
	int ret;

	if (queue_len < VMSG_LB_QUEUE_MIN || queue_len > VMSG_LB_QUEUE_MAX) {
		pr_err("queue_len must be %u to %u\n", VMSG_LB_QUEUE_MIN,
		       VMSG_LB_QUEUE_MAX);
		return -EINVAL;
	}
	vmsg_lb_wq = alloc_workqueue("virtio_msg_lb",
				     WQ_UNBOUND | WQ_HIGHPRI | WQ_MEM_RECLAIM |
				     WQ_SYSFS, 0);
	if (!vmsg_lb_wq)
		return -ENOMEM;
	ret = misc_register(&vmsg_lb_misc);
	if (ret == -EBUSY && vmsg_lb_misc.minor != MISC_DYNAMIC_MINOR) {
		pr_warn("misc minor %d is taken, using a dynamic one: opening /dev/%s will not load the module\n",
			VMSG_LB_MINOR, VMSG_LB_NAME);
		vmsg_lb_misc.minor = MISC_DYNAMIC_MINOR;
		ret = misc_register(&vmsg_lb_misc);
	}
	if (ret)
		destroy_workqueue(vmsg_lb_wq);
	return ret;
}
module_init(vmsg_lb_init);

static void __exit vmsg_lb_exit(void)
{
	/* Every instance held the module: all are gone. */
	misc_deregister(&vmsg_lb_misc);
	destroy_workqueue(vmsg_lb_wq);
	ida_destroy(&vmsg_lb_ida);
}
module_exit(vmsg_lb_exit);

MODULE_ALIAS_MISCDEV(VMSG_LB_MINOR);
MODULE_ALIAS("devname:" VMSG_LB_NAME);
MODULE_DESCRIPTION("virtio-msg loopback bus for userspace device backends");
MODULE_IMPORT_NS(VIRTIO_MSG_NS);
MODULE_LICENSE("GPL");

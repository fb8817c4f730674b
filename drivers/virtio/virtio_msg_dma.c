// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-msg transport: DMA through the memory window of a bus.
 *
 * A bus whose peer reaches one window of memory only (AMP: a PCI BAR or a
 * reserved-memory region, outside the linear map, which neither swiotlb
 * nor a restricted-dma-pool can serve) describes it once with
 * virtio_msg_bus_set_dma_window(). This file is the mapping engine behind
 * that: an allocator over the window shared by every device of the bus
 * instance, coherent allocations in it, and streaming mappings bounced
 * through it. It knows nothing of how its operations reach the DMA API
 * (virtio_msg_dma_ops.c installs them); every operation takes the
 * per-device struct vmsg_dma_ctx.
 *
 * The window is cut into granules of VMSG_DMA_GRANULE bytes, handed out
 * by a bitmap allocator under a spinlock; a per-granule record says which
 * device holds it and, for the first granule of a mapping, what it maps.
 * Nothing in the mapping path allocates memory, so that the DMA API can
 * be called in any context. The peer only ever sees the window: what it
 * writes there is copied, never interpreted.
 */

#include <linux/bitmap.h>
#include <linux/dma-mapping.h>
#include <linux/highmem.h>
#include <linux/kref.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <kunit/visibility.h>

#include "virtio_msg_core.h"

/* Allocation unit of the window: a small buffer wastes at most this. */
#define VMSG_DMA_GRANULE_SHIFT	11
#define VMSG_DMA_GRANULE	BIT(VMSG_DMA_GRANULE_SHIFT)
/* Granules per page: coherent allocations are page aligned. */
#define VMSG_DMA_PAGE_GRANULES	(PAGE_SIZE >> VMSG_DMA_GRANULE_SHIFT)
/*
 * Largest streaming mapping, so that one request cannot take the whole
 * window; drivers learn it from dma_max_mapping_size() and split theirs.
 */
#define VMSG_DMA_MAX_MAPPING	SZ_256K
/* Largest window: granule numbers must fit in a u32. */
#define VMSG_DMA_MAX_WINDOW	((u64)U32_MAX << VMSG_DMA_GRANULE_SHIFT)

static_assert(PAGE_SIZE >= VMSG_DMA_GRANULE);

/**
 * struct vmsg_dma_slot - what one granule of the window is used for
 * @owner: the device whose mapping holds the granule; NULL while it is
 *	free or being given back
 * @head: index of the first granule of that mapping
 * @orig: first granule only: physical address of the buffer a streaming
 *	mapping bounces (0 for coherent memory)
 * @size: first granule only: length of the mapping in bytes
 * @dir: first granule only: direction of the mapping
 * @coherent: first granule only: a coherent allocation, not a bounce
 */
struct vmsg_dma_slot {
	struct vmsg_dma_ctx *owner;
	u32 head;
	phys_addr_t orig;
	u32 size;
	u8 dir;
	bool coherent;
};

/**
 * struct vmsg_dma_window - the DMA state of one bus instance's window
 * @ref: held by the bus core and by every DMA device made on it
 * @desc: the bus's description
 * @nr: granules the allocator hands out (the window without its shared
 *	memory part)
 * @lock: protects @map, @slots and @used; a spinlock taken with
 *	interrupts off because the DMA API is called in any context
 * @map: one bit per granule, set while allocated
 * @slots: one record per granule
 * @used: bytes of the window allocated (whole granules)
 */
struct vmsg_dma_window {
	struct kref ref;
	struct virtio_msg_dma_window desc;
	unsigned long nr;
	spinlock_t lock;		/* the allocator; any context */
	unsigned long *map;
	struct vmsg_dma_slot *slots;
	u64 used;
};

/**
 * vmsg_dma_window_check() - check a bus's description of its window
 * @desc: the description
 *
 * Context: any.
 * Return: 0 or -EINVAL.
 */
int vmsg_dma_window_check(const struct virtio_msg_dma_window *desc)
{
	u64 last;

	if (!desc->vaddr || !desc->size || !PAGE_ALIGNED(desc->vaddr) ||
	    !PAGE_ALIGNED(desc->size) || !PAGE_ALIGNED(desc->shm_size) ||
	    desc->shm_size >= desc->size || desc->size > VMSG_DMA_MAX_WINDOW)
		return -EINVAL;
	if (check_add_overflow(desc->bus_base, desc->size - 1, &last))
		return -EINVAL;
	/* The DMA API carries bus addresses in a dma_addr_t. */
	if (last > (dma_addr_t)~0ULL || last == DMA_MAPPING_ERROR)
		return -EINVAL;
	if (desc->shm_size && (!desc->phys || !PAGE_ALIGNED(desc->phys)))
		return -EINVAL;
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(vmsg_dma_window_check);

/**
 * vmsg_dma_window_create() - set up the allocator of a window
 * @desc: a description vmsg_dma_window_check() accepted; copied
 *
 * Context: process; may sleep.
 * Return: the window with one reference, or NULL when out of memory.
 */
struct vmsg_dma_window *
vmsg_dma_window_create(const struct virtio_msg_dma_window *desc)
{
	struct vmsg_dma_window *win;

	win = kzalloc(sizeof(*win), GFP_KERNEL);
	if (!win)
		return NULL;
	kref_init(&win->ref);
	win->desc = *desc;
	win->nr = (desc->size - desc->shm_size) >> VMSG_DMA_GRANULE_SHIFT;
	spin_lock_init(&win->lock);
	win->map = bitmap_zalloc(win->nr, GFP_KERNEL);
	win->slots = kvcalloc(win->nr, sizeof(*win->slots), GFP_KERNEL);
	if (!win->map || !win->slots) {
		bitmap_free(win->map);
		kvfree(win->slots);
		kfree(win);
		return NULL;
	}
	return win;
}
EXPORT_SYMBOL_IF_KUNIT(vmsg_dma_window_create);

static void vmsg_dma_window_release(struct kref *ref)
{
	struct vmsg_dma_window *win = container_of(ref, struct vmsg_dma_window,
						   ref);

	bitmap_free(win->map);
	kvfree(win->slots);
	kfree(win);
}

/**
 * vmsg_dma_window_get() - take a reference to a window
 * @win: the window
 *
 * Context: any.
 * Return: @win.
 */
struct vmsg_dma_window *vmsg_dma_window_get(struct vmsg_dma_window *win)
{
	kref_get(&win->ref);
	return win;
}

/**
 * vmsg_dma_window_put() - drop a reference to a window
 * @win: the window, or NULL
 *
 * Context: any; the last reference frees the allocator (never the
 * window's memory, which is the bus's).
 */
void vmsg_dma_window_put(struct vmsg_dma_window *win)
{
	if (win)
		kref_put(&win->ref, vmsg_dma_window_release);
}
EXPORT_SYMBOL_IF_KUNIT(vmsg_dma_window_put);

/**
 * vmsg_dma_window_size() - bytes of a window the allocator hands out
 * @win: the window
 *
 * Context: any.
 * Return: the window size without its shared memory part.
 */
u64 vmsg_dma_window_size(const struct vmsg_dma_window *win)
{
	return (u64)win->nr << VMSG_DMA_GRANULE_SHIFT;
}
EXPORT_SYMBOL_IF_KUNIT(vmsg_dma_window_size);

/**
 * vmsg_dma_window_used() - bytes of a window in use
 * @win: the window
 *
 * Context: any.
 * Return: the bytes allocated, in whole granules, by every device.
 */
u64 vmsg_dma_window_used(struct vmsg_dma_window *win)
{
	unsigned long flags;
	u64 used;

	spin_lock_irqsave(&win->lock, flags);
	used = win->used;
	spin_unlock_irqrestore(&win->lock, flags);
	return used;
}
EXPORT_SYMBOL_IF_KUNIT(vmsg_dma_window_used);

/**
 * vmsg_dma_ctx_init() - prepare the mapping state of one device
 * @ctx: the state, embedded in the device's DMA device
 * @win: the window of its bus; a reference is taken
 * @dev: the DMA device, for messages
 *
 * Context: any.
 */
void vmsg_dma_ctx_init(struct vmsg_dma_ctx *ctx, struct vmsg_dma_window *win,
		       struct device *dev)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->win = vmsg_dma_window_get(win);
	ctx->dev = dev;
}

/*
 * Give back the granules a device still holds (a driver that leaked its
 * mappings), then the window reference.
 */
void vmsg_dma_ctx_destroy(struct vmsg_dma_ctx *ctx)
{
	struct vmsg_dma_window *win = ctx->win;
	unsigned long flags, i;

	if (!win)
		return;
	spin_lock_irqsave(&win->lock, flags);
	for (i = 0; i < win->nr; i++) {
		if (win->slots[i].owner != ctx)
			continue;
		win->slots[i].owner = NULL;
		__clear_bit(i, win->map);
		win->used -= VMSG_DMA_GRANULE;
	}
	spin_unlock_irqrestore(&win->lock, flags);
	ctx->win = NULL;
	vmsg_dma_window_put(win);
}

/* Bus address of byte @off of the window. */
static dma_addr_t vmsg_dma_bus_addr(const struct vmsg_dma_window *win,
				    u64 off)
{
	return win->desc.bus_base + off;
}

static void *vmsg_dma_vaddr(const struct vmsg_dma_window *win, u64 off)
{
	return win->desc.vaddr + off;
}

/*
 * Take @n granules aligned to @align_mask + 1 for @ctx; the caller fills
 * in the first one's record. Returns the first index, or -ENOSPC.
 */
static long vmsg_dma_take(struct vmsg_dma_window *win,
			  struct vmsg_dma_ctx *ctx, unsigned long n,
			  unsigned long align_mask)
{
	unsigned long i, first;

	lockdep_assert_held(&win->lock);
	first = bitmap_find_next_zero_area(win->map, win->nr, 0, n,
					   align_mask);
	if (first >= win->nr)
		return -ENOSPC;
	bitmap_set(win->map, first, n);
	for (i = first; i < first + n; i++) {
		win->slots[i].owner = ctx;
		win->slots[i].head = first;
	}
	win->used += n << VMSG_DMA_GRANULE_SHIFT;
	return first;
}

/* Free @n granules from @first, whose records were cleared already. */
static void vmsg_dma_give_back(struct vmsg_dma_window *win,
			       unsigned long first, unsigned long n)
{
	unsigned long flags;

	spin_lock_irqsave(&win->lock, flags);
	bitmap_clear(win->map, first, n);
	win->used -= n << VMSG_DMA_GRANULE_SHIFT;
	spin_unlock_irqrestore(&win->lock, flags);
}

static void vmsg_dma_fail(struct vmsg_dma_ctx *ctx, const char *what,
			  size_t size)
{
	atomic_long_inc(&ctx->map_failures);
	dev_err_ratelimited(ctx->dev, "window full: %s of %zu bytes refused\n",
			    what, size);
}

/*
 * Find the live mapping of @ctx that starts at @addr (@exact) or contains
 * [@addr, @addr + @size), of the kind @coherent. Returns its first
 * granule, or -ENOENT: a driver bug, never the peer's doing.
 */
static long vmsg_dma_find(struct vmsg_dma_window *win,
			  struct vmsg_dma_ctx *ctx, dma_addr_t addr,
			  size_t size, bool exact, bool coherent)
{
	const struct vmsg_dma_slot *head;
	u64 off, head_off;
	unsigned long i;

	lockdep_assert_held(&win->lock);
	if (addr < win->desc.bus_base)
		return -ENOENT;
	off = addr - win->desc.bus_base;
	if (off >= vmsg_dma_window_size(win))
		return -ENOENT;
	i = off >> VMSG_DMA_GRANULE_SHIFT;
	if (win->slots[i].owner != ctx)
		return -ENOENT;
	head = &win->slots[win->slots[i].head];
	head_off = (u64)win->slots[i].head << VMSG_DMA_GRANULE_SHIFT;
	if (head->coherent != coherent)
		return -ENOENT;
	if (exact ? off != head_off || size != head->size :
		    size > head->size - (off - head_off))
		return -ENOENT;
	return win->slots[i].head;
}

/* Forget the records of the mapping at @first; the caller frees it. */
static void vmsg_dma_forget(struct vmsg_dma_window *win, unsigned long first,
			    unsigned long n)
{
	unsigned long i;

	lockdep_assert_held(&win->lock);
	for (i = first; i < first + n; i++)
		win->slots[i].owner = NULL;
}

static unsigned long vmsg_dma_granules(size_t size)
{
	return DIV_ROUND_UP(size, VMSG_DMA_GRANULE);
}

/**
 * vmsg_dma_alloc() - coherent memory in the window
 * @ctx: the device's mapping state
 * @size: bytes wanted
 * @dma_handle: where the bus address goes
 *
 * Context: any; never sleeps.
 * Return: the zeroed, page-aligned memory, or NULL when the window is full.
 */
void *vmsg_dma_alloc(struct vmsg_dma_ctx *ctx, size_t size,
		     dma_addr_t *dma_handle)
{
	struct vmsg_dma_window *win = ctx->win;
	unsigned long flags, n;
	long first;
	u64 off;

	if (!size || size > vmsg_dma_window_size(win))
		goto fail;
	n = vmsg_dma_granules(PAGE_ALIGN(size));
	spin_lock_irqsave(&win->lock, flags);
	first = vmsg_dma_take(win, ctx, n, VMSG_DMA_PAGE_GRANULES - 1);
	if (first >= 0) {
		win->slots[first].orig = 0;
		win->slots[first].size = size;
		win->slots[first].dir = DMA_BIDIRECTIONAL;
		win->slots[first].coherent = true;
	}
	spin_unlock_irqrestore(&win->lock, flags);
	if (first < 0)
		goto fail;

	off = (u64)first << VMSG_DMA_GRANULE_SHIFT;
	memset(vmsg_dma_vaddr(win, off), 0, size);
	atomic_long_add(size, &ctx->coherent_bytes);
	*dma_handle = vmsg_dma_bus_addr(win, off);
	return vmsg_dma_vaddr(win, off);

fail:
	vmsg_dma_fail(ctx, "coherent allocation", size);
	return NULL;
}
EXPORT_SYMBOL_IF_KUNIT(vmsg_dma_alloc);

/**
 * vmsg_dma_free() - give back memory from vmsg_dma_alloc()
 * @ctx: the device's mapping state
 * @size: the size it was allocated with
 * @vaddr: the address vmsg_dma_alloc() returned
 * @dma_handle: the bus address it returned
 *
 * Anything else is a driver bug: a ratelimited warning, nothing freed.
 *
 * Context: any; never sleeps.
 */
void vmsg_dma_free(struct vmsg_dma_ctx *ctx, size_t size, void *vaddr,
		   dma_addr_t dma_handle)
{
	struct vmsg_dma_window *win = ctx->win;
	unsigned long flags;
	long first;

	spin_lock_irqsave(&win->lock, flags);
	first = vmsg_dma_find(win, ctx, dma_handle, size, true, true);
	if (first >= 0 &&
	    vaddr != vmsg_dma_vaddr(win, (u64)first << VMSG_DMA_GRANULE_SHIFT))
		first = -ENOENT;
	if (first >= 0)
		vmsg_dma_forget(win, first,
				vmsg_dma_granules(PAGE_ALIGN(size)));
	spin_unlock_irqrestore(&win->lock, flags);

	if (first < 0) {
		atomic_long_inc(&ctx->bad_unmaps);
		dev_warn_ratelimited(ctx->dev,
				     "free of unknown coherent memory %pad (%zu bytes)\n",
				     &dma_handle, size);
		return;
	}
	vmsg_dma_give_back(win, first, vmsg_dma_granules(PAGE_ALIGN(size)));
	atomic_long_sub(size, &ctx->coherent_bytes);
}
EXPORT_SYMBOL_IF_KUNIT(vmsg_dma_free);

/* Copy @size bytes between the buffer at @phys and the window at @win_va. */
static void vmsg_dma_bounce(phys_addr_t phys, void *win_va, size_t size,
			    bool to_window)
{
	size_t n;
	void *p;

	while (size) {
		n = min_t(size_t, size, PAGE_SIZE - offset_in_page(phys));
		p = kmap_local_page(pfn_to_page(PHYS_PFN(phys)));
		if (to_window)
			memcpy(win_va, p + offset_in_page(phys), n);
		else
			memcpy(p + offset_in_page(phys), win_va, n);
		kunmap_local(p);
		phys += n;
		win_va += n;
		size -= n;
	}
}

/**
 * vmsg_dma_map() - bounce a buffer through the window
 * @ctx: the device's mapping state
 * @phys: physical address of the buffer
 * @size: its length
 * @dir: the direction of the mapping
 * @attrs: DMA_ATTR_*; with DMA_ATTR_SKIP_CPU_SYNC nothing is copied (the
 *	driver syncs what it needs)
 *
 * The buffer is copied into the window whatever the direction: what the
 * device does not write of a DMA_FROM_DEVICE mapping must come back as it
 * was at unmap, not as what an earlier mapping left in the window.
 *
 * Context: any; never sleeps.
 * Return: the bus address of the copy, or DMA_MAPPING_ERROR when the
 * window is full (the driver retries later) or @size is 0 or larger than
 * vmsg_dma_max_mapping_size().
 */
dma_addr_t vmsg_dma_map(struct vmsg_dma_ctx *ctx, phys_addr_t phys,
			size_t size, enum dma_data_direction dir,
			unsigned long attrs)
{
	struct vmsg_dma_window *win = ctx->win;
	unsigned long flags;
	long first = -EINVAL;
	u64 off;

	if (size && size <= vmsg_dma_max_mapping_size(ctx)) {
		spin_lock_irqsave(&win->lock, flags);
		first = vmsg_dma_take(win, ctx, vmsg_dma_granules(size), 0);
		if (first >= 0) {
			win->slots[first].orig = phys;
			win->slots[first].size = size;
			win->slots[first].dir = dir;
			win->slots[first].coherent = false;
		}
		spin_unlock_irqrestore(&win->lock, flags);
	}
	if (first < 0) {
		vmsg_dma_fail(ctx, "mapping", size);
		return DMA_MAPPING_ERROR;
	}
	off = (u64)first << VMSG_DMA_GRANULE_SHIFT;
	if (!(attrs & DMA_ATTR_SKIP_CPU_SYNC))
		vmsg_dma_bounce(phys, vmsg_dma_vaddr(win, off), size, true);
	atomic_long_add(size, &ctx->bounce_bytes);
	return vmsg_dma_bus_addr(win, off);
}
EXPORT_SYMBOL_IF_KUNIT(vmsg_dma_map);

/**
 * vmsg_dma_abandon() - make unmaps copy nothing back, or copy again
 * @ctx: the device's mapping state
 * @on: whether unmaps skip the copy back
 *
 * For the buffers a driver left in the virtqueues it deletes: it gave
 * them up with the requests they belonged to, so their memory may be in
 * use again, and a copy back would write over it.
 *
 * Context: any; never sleeps.
 */
void vmsg_dma_abandon(struct vmsg_dma_ctx *ctx, bool on)
{
	WRITE_ONCE(ctx->abandoned, on);
}
EXPORT_SYMBOL_IF_KUNIT(vmsg_dma_abandon);

/**
 * vmsg_dma_unmap() - end a mapping of vmsg_dma_map()
 * @ctx: the device's mapping state
 * @addr: the bus address vmsg_dma_map() returned
 * @size: the size it was mapped with
 * @dir: its direction
 * @attrs: DMA_ATTR_*; with DMA_ATTR_SKIP_CPU_SYNC nothing is copied
 *
 * For DMA_FROM_DEVICE and DMA_BIDIRECTIONAL the window's bytes are
 * copied back to the buffer first, unless @ctx is abandoned. An address
 * @ctx did not map, or a wrong size, is a driver bug: a ratelimited
 * warning, nothing touched.
 *
 * Context: any; never sleeps.
 */
void vmsg_dma_unmap(struct vmsg_dma_ctx *ctx, dma_addr_t addr, size_t size,
		    enum dma_data_direction dir, unsigned long attrs)
{
	struct vmsg_dma_window *win = ctx->win;
	unsigned long flags;
	phys_addr_t orig = 0;
	long first;
	u8 map_dir = DMA_NONE;

	spin_lock_irqsave(&win->lock, flags);
	first = vmsg_dma_find(win, ctx, addr, size, true, false);
	if (first >= 0) {
		orig = win->slots[first].orig;
		map_dir = win->slots[first].dir;
		/* Ours alone now: a second unmap finds nothing. */
		vmsg_dma_forget(win, first, vmsg_dma_granules(size));
	}
	spin_unlock_irqrestore(&win->lock, flags);

	if (first < 0) {
		atomic_long_inc(&ctx->bad_unmaps);
		dev_warn_ratelimited(ctx->dev,
				     "unmap of unknown bus address %pad (%zu bytes)\n",
				     &addr, size);
		return;
	}
	if (!(attrs & DMA_ATTR_SKIP_CPU_SYNC) && !READ_ONCE(ctx->abandoned) &&
	    (map_dir == DMA_FROM_DEVICE || map_dir == DMA_BIDIRECTIONAL))
		vmsg_dma_bounce(orig, vmsg_dma_vaddr(win, addr -
						     win->desc.bus_base),
				size, false);
	vmsg_dma_give_back(win, first, vmsg_dma_granules(size));
	atomic_long_sub(size, &ctx->bounce_bytes);
}
EXPORT_SYMBOL_IF_KUNIT(vmsg_dma_unmap);

/**
 * vmsg_dma_sync() - bring a bounced range up to date
 * @ctx: the device's mapping state
 * @addr: a bus address inside a mapping of vmsg_dma_map()
 * @size: bytes from @addr, inside the same mapping
 * @dir: DMA_FROM_DEVICE or DMA_BIDIRECTIONAL copy from the window when
 *	@for_cpu; DMA_TO_DEVICE or DMA_BIDIRECTIONAL copy to it otherwise
 * @for_cpu: for the CPU (dma_sync_*_for_cpu()), else for the device
 *
 * A range outside the mappings of @ctx is a driver bug: a ratelimited
 * warning, nothing copied.
 *
 * Context: any; never sleeps.
 */
void vmsg_dma_sync(struct vmsg_dma_ctx *ctx, dma_addr_t addr, size_t size,
		   enum dma_data_direction dir, bool for_cpu)
{
	struct vmsg_dma_window *win = ctx->win;
	unsigned long flags;
	phys_addr_t orig = 0;
	long first;

	if (for_cpu ? dir == DMA_TO_DEVICE : dir == DMA_FROM_DEVICE)
		return;
	spin_lock_irqsave(&win->lock, flags);
	first = vmsg_dma_find(win, ctx, addr, size, false, false);
	if (first >= 0)
		orig = win->slots[first].orig + (addr - win->desc.bus_base -
			((u64)first << VMSG_DMA_GRANULE_SHIFT));
	spin_unlock_irqrestore(&win->lock, flags);

	if (first < 0) {
		atomic_long_inc(&ctx->bad_unmaps);
		dev_warn_ratelimited(ctx->dev,
				     "sync of unknown range %pad (%zu bytes)\n",
				     &addr, size);
		return;
	}
	vmsg_dma_bounce(orig, vmsg_dma_vaddr(win, addr - win->desc.bus_base),
			size, !for_cpu);
}
EXPORT_SYMBOL_IF_KUNIT(vmsg_dma_sync);

/**
 * vmsg_dma_max_mapping_size() - largest streaming mapping
 * @ctx: the device's mapping state
 *
 * Context: any.
 * Return: VMSG_DMA_MAX_MAPPING, or a quarter of a smaller window so that
 * a few mappings always fit.
 */
size_t vmsg_dma_max_mapping_size(struct vmsg_dma_ctx *ctx)
{
	u64 quarter = vmsg_dma_window_size(ctx->win) / 4;

	return max_t(u64, min_t(u64, VMSG_DMA_MAX_MAPPING, quarter),
		     VMSG_DMA_GRANULE);
}
EXPORT_SYMBOL_IF_KUNIT(vmsg_dma_max_mapping_size);

/**
 * vmsg_dma_supported() - whether a DMA mask reaches the whole window
 * @ctx: the device's mapping state
 * @mask: the mask a driver asks for
 *
 * Context: any.
 * Return: true if every bus address of the window fits in @mask.
 */
bool vmsg_dma_supported(struct vmsg_dma_ctx *ctx, u64 mask)
{
	const struct vmsg_dma_window *win = ctx->win;

	return win->desc.bus_base + win->desc.size - 1 <= mask;
}

/**
 * vmsg_dma_shm_translate() - check a GET_SHM region against the window
 * @win: the bus's window
 * @addr: in: the bus address the device reported; out: the CPU physical
 *	address drivers map
 * @len: the length it reported
 *
 * The region must lie entirely in the window's shared memory part (the
 * last &virtio_msg_dma_window.shm_size bytes). Device input: checked for
 * overflow, never trusted.
 *
 * Context: any.
 * Return: 0, or -EINVAL to hide the region.
 */
int vmsg_dma_shm_translate(const struct vmsg_dma_window *win, u64 *addr,
			   u64 len)
{
	const struct virtio_msg_dma_window *d = &win->desc;
	u64 shm_start = d->bus_base + (d->size - d->shm_size);
	u64 end;

	if (!d->shm_size || !len || *addr < shm_start ||
	    check_add_overflow(*addr, len, &end) ||
	    end > d->bus_base + d->size)
		return -EINVAL;
	*addr = d->phys + (*addr - d->bus_base);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(vmsg_dma_shm_translate);

/**
 * vmsg_dma_window_access() - copy to or from the window as the device would
 * @ctx: the mapping state of a device of the window's bus
 * @addr: bus address of the first byte
 * @buf: where to copy from (@write) or to
 * @len: bytes to copy
 * @write: copy @buf into the window
 *
 * For the core answering in place of a lost device: it reaches what the
 * device reached, the window, and nothing else.
 *
 * Context: any; never sleeps.
 * Return: 0, or -ENXIO if the range is not all in the window.
 */
int vmsg_dma_window_access(struct vmsg_dma_ctx *ctx, u64 addr, void *buf,
			   size_t len, bool write)
{
	const struct vmsg_dma_window *win = ctx->win;
	u64 off;

	if (!win || addr < win->desc.bus_base)
		return -ENXIO;
	off = addr - win->desc.bus_base;
	if (off > win->desc.size || len > win->desc.size - off)
		return -ENXIO;
	if (write)
		memcpy(vmsg_dma_vaddr(win, off), buf, len);
	else
		memcpy(buf, vmsg_dma_vaddr(win, off), len);
	return 0;
}

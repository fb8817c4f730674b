// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-msg transport: how the window DMA engine (virtio_msg_dma.c)
 * reaches the DMA API on Linux 6.12.
 *
 * virtio_ring maps through the parent device of the virtio device. So each
 * virtio device on a bus with a window gets a struct device of its own,
 * made by the core, whose per-device dma_map_ops call the engine. Only
 * this file knows that mechanism: a kernel with struct virtio_map_ops
 * would give the engine to the virtio device directly instead, and the
 * rest of the core would not change.
 *
 * Per-device DMA ops exist only with CONFIG_ARCH_HAS_DMA_OPS. Without it
 * set_dma_ops() does nothing and every mapping would go straight to
 * memory the peer cannot see: the ops are checked after they are set,
 * and a window is refused on such a kernel.
 */

#include <linux/device.h>
#include <linux/dma-map-ops.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <kunit/visibility.h>

#include "virtio_msg_core.h"

/**
 * struct vmsg_dma_dev - the DMA device of one virtio device
 * @dev: given to virtio as the virtio device's parent
 * @ctx: the engine's state for it
 */
struct vmsg_dma_dev {
	struct device dev;
	struct vmsg_dma_ctx ctx;
};

static struct vmsg_dma_ctx *to_ctx(struct device *dev)
{
	return &container_of(dev, struct vmsg_dma_dev, dev)->ctx;
}

static void *vmsg_dma_op_alloc(struct device *dev, size_t size,
			       dma_addr_t *dma_handle, gfp_t gfp,
			       unsigned long attrs)
{
	return vmsg_dma_alloc(to_ctx(dev), size, dma_handle);
}

static void vmsg_dma_op_free(struct device *dev, size_t size, void *vaddr,
			     dma_addr_t dma_handle, unsigned long attrs)
{
	vmsg_dma_free(to_ctx(dev), size, vaddr, dma_handle);
}

static dma_addr_t vmsg_dma_op_map_page(struct device *dev, struct page *page,
				       unsigned long offset, size_t size,
				       enum dma_data_direction dir,
				       unsigned long attrs)
{
	return vmsg_dma_map(to_ctx(dev), page_to_phys(page) + offset, size,
			    dir, attrs);
}

static void vmsg_dma_op_unmap_page(struct device *dev, dma_addr_t addr,
				   size_t size, enum dma_data_direction dir,
				   unsigned long attrs)
{
	vmsg_dma_unmap(to_ctx(dev), addr, size, dir, attrs);
}

static void vmsg_dma_op_unmap_sg(struct device *dev, struct scatterlist *sgl,
				 int nents, enum dma_data_direction dir,
				 unsigned long attrs)
{
	struct scatterlist *sg;
	int i;

	for_each_sg(sgl, sg, nents, i)
		vmsg_dma_unmap(to_ctx(dev), sg_dma_address(sg), sg_dma_len(sg),
			       dir, attrs);
}

/* One bounce per entry; nothing is merged. */
static int vmsg_dma_op_map_sg(struct device *dev, struct scatterlist *sgl,
			      int nents, enum dma_data_direction dir,
			      unsigned long attrs)
{
	struct scatterlist *sg;
	int i;

	for_each_sg(sgl, sg, nents, i) {
		sg_dma_address(sg) = vmsg_dma_map(to_ctx(dev), sg_phys(sg),
						  sg->length, dir, attrs);
		if (sg_dma_address(sg) == DMA_MAPPING_ERROR) {
			vmsg_dma_op_unmap_sg(dev, sgl, i, dir,
					     attrs | DMA_ATTR_SKIP_CPU_SYNC);
			/* The caller may retry once mappings are given back. */
			return -ENOMEM;
		}
		sg_dma_len(sg) = sg->length;
	}
	return nents;
}

static void vmsg_dma_op_sync_for_cpu(struct device *dev, dma_addr_t addr,
				     size_t size, enum dma_data_direction dir)
{
	vmsg_dma_sync(to_ctx(dev), addr, size, dir, true);
}

static void vmsg_dma_op_sync_for_device(struct device *dev, dma_addr_t addr,
					size_t size,
					enum dma_data_direction dir)
{
	vmsg_dma_sync(to_ctx(dev), addr, size, dir, false);
}

static void vmsg_dma_op_sync_sg(struct device *dev, struct scatterlist *sgl,
				int nents, enum dma_data_direction dir,
				bool for_cpu)
{
	struct scatterlist *sg;
	int i;

	for_each_sg(sgl, sg, nents, i)
		vmsg_dma_sync(to_ctx(dev), sg_dma_address(sg), sg_dma_len(sg),
			      dir, for_cpu);
}

static void vmsg_dma_op_sync_sg_for_cpu(struct device *dev,
					struct scatterlist *sgl, int nents,
					enum dma_data_direction dir)
{
	vmsg_dma_op_sync_sg(dev, sgl, nents, dir, true);
}

static void vmsg_dma_op_sync_sg_for_device(struct device *dev,
					   struct scatterlist *sgl, int nents,
					   enum dma_data_direction dir)
{
	vmsg_dma_op_sync_sg(dev, sgl, nents, dir, false);
}

static int vmsg_dma_op_supported(struct device *dev, u64 mask)
{
	return vmsg_dma_supported(to_ctx(dev), mask);
}

static size_t vmsg_dma_op_max_mapping_size(struct device *dev)
{
	return vmsg_dma_max_mapping_size(to_ctx(dev));
}

static const struct dma_map_ops vmsg_dma_ops = {
	.alloc			= vmsg_dma_op_alloc,
	.free			= vmsg_dma_op_free,
	.map_page		= vmsg_dma_op_map_page,
	.unmap_page		= vmsg_dma_op_unmap_page,
	.map_sg			= vmsg_dma_op_map_sg,
	.unmap_sg		= vmsg_dma_op_unmap_sg,
	.sync_single_for_cpu	= vmsg_dma_op_sync_for_cpu,
	.sync_single_for_device	= vmsg_dma_op_sync_for_device,
	.sync_sg_for_cpu	= vmsg_dma_op_sync_sg_for_cpu,
	.sync_sg_for_device	= vmsg_dma_op_sync_sg_for_device,
	.dma_supported		= vmsg_dma_op_supported,
	.max_mapping_size	= vmsg_dma_op_max_mapping_size,
};

/**
 * vmsg_dma_mechanism_check() - whether this kernel can install the engine
 * @parent: the bus's parent device, for the message
 *
 * Context: any.
 * Return: 0, or -EOPNOTSUPP without CONFIG_ARCH_HAS_DMA_OPS.
 */
int vmsg_dma_mechanism_check(struct device *parent)
{
	if (IS_ENABLED(CONFIG_ARCH_HAS_DMA_OPS))
		return 0;
	dev_err(parent,
		"DMA windows need per-device DMA ops (CONFIG_ARCH_HAS_DMA_OPS), which this kernel lacks\n");
	return -EOPNOTSUPP;
}

static void vmsg_dma_dev_release(struct device *dev)
{
	struct vmsg_dma_dev *ddev = container_of(dev, struct vmsg_dma_dev,
						 dev);

	vmsg_dma_ctx_destroy(&ddev->ctx);
	kfree(ddev);
}

/**
 * vmsg_dma_dev_create() - make and register the DMA device of a device
 * @win: the bus's window
 * @parent: the bus's parent device, parent of the new one in sysfs
 * @dev_num: the device number, in its name
 *
 * Context: process; may sleep.
 * Return: the device, to be given back with vmsg_dma_dev_destroy() once
 * its virtio device is gone, or an ERR_PTR(): -EOPNOTSUPP when the DMA
 * ops did not stick.
 */
struct device *vmsg_dma_dev_create(struct vmsg_dma_window *win,
				   struct device *parent, u16 dev_num)
{
	struct vmsg_dma_dev *ddev;
	int ret;

	ddev = kzalloc(sizeof(*ddev), GFP_KERNEL);
	if (!ddev)
		return ERR_PTR(-ENOMEM);
	vmsg_dma_ctx_init(&ddev->ctx, win, &ddev->dev);
	device_initialize(&ddev->dev);
	ddev->dev.parent = parent;
	ddev->dev.release = vmsg_dma_dev_release;
	ddev->dev.dma_mask = &ddev->dev.coherent_dma_mask;
	ddev->dev.coherent_dma_mask = DMA_BIT_MASK(64);
	set_dma_ops(&ddev->dev, &vmsg_dma_ops);
	ret = dev_set_name(&ddev->dev, "%s.win%u", dev_name(parent), dev_num);
	if (ret)
		goto err_put;
	/* Without our ops every mapping would bypass the window. */
	if (get_dma_ops(&ddev->dev) != &vmsg_dma_ops) {
		ret = -EOPNOTSUPP;
		goto err_put;
	}
	ret = device_add(&ddev->dev);
	if (ret)
		goto err_put;
	return &ddev->dev;

err_put:
	put_device(&ddev->dev);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_IF_KUNIT(vmsg_dma_dev_create);

/**
 * vmsg_dma_dev_destroy() - unregister a device of vmsg_dma_dev_create()
 * @dev: the device; its child virtio device is gone
 *
 * What a driver left mapped is given back to the window when the last
 * reference goes.
 *
 * Context: process; may sleep.
 */
void vmsg_dma_dev_destroy(struct device *dev)
{
	device_unregister(dev);
}
EXPORT_SYMBOL_IF_KUNIT(vmsg_dma_dev_destroy);

/**
 * vmsg_dma_dev_ctx() - the engine state behind a DMA device
 * @dev: a device of vmsg_dma_dev_create()
 *
 * Context: any.
 * Return: its state, for the statistics.
 */
struct vmsg_dma_ctx *vmsg_dma_dev_ctx(struct device *dev)
{
	return to_ctx(dev);
}
EXPORT_SYMBOL_IF_KUNIT(vmsg_dma_dev_ctx);

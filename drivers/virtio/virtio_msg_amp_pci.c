// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-msg AMP bus over PCI: QEMU's ivshmem-doorbell device (1af4:1110)
 * and the virtio-msg-amp-pci card (10ee:9039).
 */

/**
 * DOC: Theory of Operation
 *
 * One driver, two register variants; each region found becomes one
 * instance of the AMP bus (vmsg_amp_create()).
 *
 * ivshmem-doorbell: the region is BAR2, mapped cacheable (QEMU backs it
 * with shared RAM). The device side's ivshmem peer ID is the le32 right
 * after the layout header; a doorbell writes peer_id << 16 | 0 to the
 * Doorbell register (BAR0 + 0x0c), and the device side rings MSI-X vector
 * 0. ivshmem has many users, so the driver binds only when the region
 * carries the layout magic within probe_wait_ms, and leaves every other
 * ivshmem device alone (-ENODEV). This is the variant tested here.
 *
 * virtio-msg-amp-pci: BAR0 holds VERSION, FEATURES and one NOTIFY
 * register per FIFO; BAR1 holds one 16 KiB slot per FIFO, with the layout
 * 4 KiB into it; MSI-X vector n belongs to FIFO n. The card's model takes
 * exactly one message per NOTIFY write (and spins on an empty queue), so
 * its instances ring once per message and never otherwise. BAR1 is
 * mapped write-combining, hence the mandatory barriers. The card reaches
 * driver memory itself (bus mastering). Written to the published register
 * layout: QEMU 7.2, which the tests use, lacks the model, so this variant
 * is not tested here.
 *
 * Without MSI-X, both variants fall back to looking at the region every
 * poll_ms milliseconds.
 *
 * Removal works with devices in use: each instance removes its devices
 * while its interrupt still works (vmsg_amp_stop()), then the interrupt
 * is freed, then the instance.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bits.h>
#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/iopoll.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/sizes.h>
#include <linux/virtio_msg.h>
#include <linux/virtio_msg_amp.h>

static unsigned int probe_wait_ms = 200;
module_param(probe_wait_ms, uint, 0644);
MODULE_PARM_DESC(probe_wait_ms,
		 "How long probing looks for the layout magic before leaving the device alone (ms, default 200)");

static unsigned int poll_ms = 10;
module_param(poll_ms, uint, 0644);
MODULE_PARM_DESC(poll_ms,
		 "Without MSI-X: look at the region this often (ms, default 10)");

/* ivshmem-doorbell, BAR0 */
#define VMSG_IVSHMEM_DOORBELL		0x0c
/* The device side's peer ID, right after the layout header. */
#define VMSG_IVSHMEM_PEER_ID_OFFSET	64
#define VMSG_IVSHMEM_PEER_ID_SIZE	4
#define VMSG_IVSHMEM_PEER_ID_MAX	0xffff

/* virtio-msg-amp-pci, BAR0 */
#define VMSG_CARD_VERSION		0x00
#define VMSG_CARD_VERSION_1		0x0001
#define VMSG_CARD_NOTIFY(fifo)		(0x20 + 4 * (fifo))
/* BAR1 */
#define VMSG_CARD_FIFO_SIZE		SZ_16K
#define VMSG_CARD_LAYOUT_OFFSET		SZ_4K
#define VMSG_CARD_MAX_FIFOS		8

#define VMSG_MAGIC_POLL_US		10000

enum vmsg_amp_pci_variant {
	VMSG_AMP_PCI_IVSHMEM,
	VMSG_AMP_PCI_CARD,
};

/**
 * struct vmsg_amp_pci_fifo - one region of the device and its bus
 * @amp: the bus instance, or NULL
 * @base: the region
 * @size: its size
 * @doorbell: the register that rings the device side
 * @doorbell_val: what to write there
 * @irq: the interrupt of the region, or -1 when polled
 */
struct vmsg_amp_pci_fifo {
	struct vmsg_amp *amp;
	void *base;
	size_t size;
	void __iomem *doorbell;
	u32 doorbell_val;
	int irq;
};

/**
 * struct vmsg_amp_pci - one bound PCI device
 * @pdev: the device
 * @nr_fifos: entries of @fifo
 * @fifo: the regions
 */
struct vmsg_amp_pci {
	struct pci_dev *pdev;
	unsigned int nr_fifos;
	struct vmsg_amp_pci_fifo fifo[] __counted_by(nr_fifos);
};

static void vmsg_amp_pci_ring(void *priv)
{
	struct vmsg_amp_pci_fifo *f = priv;

	/* writel() orders the region's stores before the doorbell. */
	writel(f->doorbell_val, f->doorbell);
}

static const struct vmsg_amp_ops vmsg_amp_pci_ops = {
	.ring = vmsg_amp_pci_ring,
};

static irqreturn_t vmsg_amp_pci_irq(int irq, void *data)
{
	struct vmsg_amp_pci_fifo *f = data;

	vmsg_amp_doorbell(f->amp);
	return IRQ_HANDLED;
}

static u16 vmsg_amp_pci_magic(const void *base)
{
	const __le16 *magic = base;

	return le16_to_cpu(READ_ONCE(*magic));
}

/* The layout magic, within probe_wait_ms. */
static bool vmsg_amp_pci_has_layout(const void *base)
{
	u16 magic;

	return !read_poll_timeout(vmsg_amp_pci_magic, magic,
				  magic == VIRTIO_MSG_AMP_LAYOUT_MAGIC,
				  VMSG_MAGIC_POLL_US,
				  (u64)READ_ONCE(probe_wait_ms) * USEC_PER_MSEC,
				  false, base);
}

/* Remove every instance: devices first, then interrupts, then the rest. */
static void vmsg_amp_pci_teardown(struct vmsg_amp_pci *vp)
{
	unsigned int i;

	for (i = 0; i < vp->nr_fifos; i++)
		if (vp->fifo[i].amp)
			vmsg_amp_stop(vp->fifo[i].amp);
	for (i = 0; i < vp->nr_fifos; i++) {
		struct vmsg_amp_pci_fifo *f = &vp->fifo[i];

		if (f->irq >= 0)
			free_irq(f->irq, f);
		f->irq = -1;
		vmsg_amp_destroy(f->amp);
		f->amp = NULL;
	}
}

/* Bring up the instances of the regions that carry a layout. */
static int vmsg_amp_pci_start(struct vmsg_amp_pci *vp, unsigned long flags,
			      size_t header_extra)
{
	struct pci_dev *pdev = vp->pdev;
	bool msix;
	unsigned int i, up = 0;
	int ret;

	ret = pci_alloc_irq_vectors(pdev, vp->nr_fifos, vp->nr_fifos,
				    PCI_IRQ_MSIX);
	msix = ret > 0;
	if (!msix)
		dev_info(&pdev->dev, "no MSI-X (%d): polling every %u ms\n",
			 ret, poll_ms);

	for (i = 0; i < vp->nr_fifos; i++) {
		struct vmsg_amp_pci_fifo *f = &vp->fifo[i];
		struct vmsg_amp_config cfg = {
			.parent = &pdev->dev,
			.base = f->base,
			.size = f->size,
			.header_extra = header_extra,
			.flags = flags,
			.poll_ms = msix ? 0 : max(poll_ms, 1U),
			.ops = &vmsg_amp_pci_ops,
			.priv = f,
		};
		struct vmsg_amp *amp;

		if (!f->base)
			continue;
		amp = vmsg_amp_create(&cfg);
		if (IS_ERR(amp)) {
			dev_warn(&pdev->dev, "region %u not used: %pe\n", i, amp);
			continue;
		}
		f->amp = amp;
		if (msix) {
			ret = pci_irq_vector(pdev, i);
			if (ret >= 0)
				ret = request_irq(ret, vmsg_amp_pci_irq, 0,
						  dev_name(&pdev->dev), f);
			if (ret) {
				dev_err(&pdev->dev, "region %u: no interrupt: %d\n",
					i, ret);
				vmsg_amp_destroy(amp);
				f->amp = NULL;
				continue;
			}
			f->irq = pci_irq_vector(pdev, i);
		}
		/* What came while the interrupt was not there yet. */
		vmsg_amp_doorbell(amp);
		up++;
	}
	return up ? 0 : -ENODEV;
}

static struct vmsg_amp_pci *vmsg_amp_pci_alloc(struct pci_dev *pdev,
					       unsigned int nr_fifos)
{
	struct vmsg_amp_pci *vp;
	unsigned int i;

	vp = devm_kzalloc(&pdev->dev, struct_size(vp, fifo, nr_fifos),
			  GFP_KERNEL);
	if (!vp)
		return NULL;
	vp->pdev = pdev;
	vp->nr_fifos = nr_fifos;
	for (i = 0; i < nr_fifos; i++)
		vp->fifo[i].irq = -1;
	return vp;
}

/* Map a BAR holding shared memory, after claiming it. */
static void *vmsg_amp_pci_map(struct pci_dev *pdev, int bar,
			      unsigned long mflags)
{
	resource_size_t start = pci_resource_start(pdev, bar);
	resource_size_t len = pci_resource_len(pdev, bar);
	void *base;

	if (!len || !(pci_resource_flags(pdev, bar) & IORESOURCE_MEM))
		return ERR_PTR(-ENODEV);
	if (!devm_request_mem_region(&pdev->dev, start, len,
				     dev_name(&pdev->dev)))
		return ERR_PTR(-EBUSY);
	base = devm_memremap(&pdev->dev, start, len, mflags);
	return base ?: ERR_PTR(-ENOMEM);
}

static int vmsg_amp_pci_probe_ivshmem(struct pci_dev *pdev)
{
	void __iomem *regs;
	struct vmsg_amp_pci *vp;
	void *base;
	u32 peer;
	int ret;

	base = vmsg_amp_pci_map(pdev, 2, MEMREMAP_WB);
	if (IS_ERR(base))
		return PTR_ERR(base);
	/* Someone else's ivshmem: not ours to take. */
	if (pci_resource_len(pdev, 2) <
	    sizeof(struct virtio_msg_amp_layout) + VMSG_IVSHMEM_PEER_ID_SIZE ||
	    !vmsg_amp_pci_has_layout(base))
		return -ENODEV;
	/* The device side writes the peer ID before the magic. */
	smp_rmb();
	peer = le32_to_cpu(READ_ONCE(*(__le32 *)(base + VMSG_IVSHMEM_PEER_ID_OFFSET)));
	if (peer > VMSG_IVSHMEM_PEER_ID_MAX) {
		dev_err(&pdev->dev, "device side peer ID %u out of range\n",
			peer);
		return -ENODEV;
	}

	ret = pcim_iomap_regions(pdev, BIT(0), dev_name(&pdev->dev));
	if (ret)
		return ret;
	regs = pcim_iomap_table(pdev)[0];

	vp = vmsg_amp_pci_alloc(pdev, 1);
	if (!vp)
		return -ENOMEM;
	vp->fifo[0].base = base;
	vp->fifo[0].size = pci_resource_len(pdev, 2);
	vp->fifo[0].doorbell = regs + VMSG_IVSHMEM_DOORBELL;
	vp->fifo[0].doorbell_val = peer << 16;
	/* An MSI-X message is a write by the device: lost without it. */
	pci_set_master(pdev);
	pci_set_drvdata(pdev, vp);
	dev_info(&pdev->dev, "ivshmem region of %zu bytes, device side peer %u\n",
		 vp->fifo[0].size, peer);
	return vmsg_amp_pci_start(vp, VMSG_AMP_F_WINDOW,
				  VMSG_IVSHMEM_PEER_ID_SIZE);
}

static int vmsg_amp_pci_probe_card(struct pci_dev *pdev)
{
	unsigned int i, nr_fifos, found = 0;
	void __iomem *regs;
	struct vmsg_amp_pci *vp;
	u32 version;
	void *base;
	int ret;

	ret = pcim_iomap_regions(pdev, BIT(0), dev_name(&pdev->dev));
	if (ret)
		return ret;
	regs = pcim_iomap_table(pdev)[0];
	version = readl(regs + VMSG_CARD_VERSION);
	if (version != VMSG_CARD_VERSION_1) {
		dev_err(&pdev->dev, "unknown card version %#x\n", version);
		return -ENODEV;
	}

	nr_fifos = min_t(resource_size_t, pci_resource_len(pdev, 1) /
		       VMSG_CARD_FIFO_SIZE, VMSG_CARD_MAX_FIFOS);
	if (!nr_fifos)
		return -ENODEV;
	/* Prefetchable RAM, written by the card's model: write-combining. */
	base = vmsg_amp_pci_map(pdev, 1, MEMREMAP_WC);
	if (IS_ERR(base))
		return PTR_ERR(base);

	/* The card reaches driver memory itself. */
	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (ret)
		return ret;
	pci_set_master(pdev);

	vp = vmsg_amp_pci_alloc(pdev, nr_fifos);
	if (!vp)
		return -ENOMEM;
	for (i = 0; i < nr_fifos; i++) {
		void *fifo = base + i * VMSG_CARD_FIFO_SIZE +
			     VMSG_CARD_LAYOUT_OFFSET;

		/* FIFOs without the self-describing layout are left out. */
		if (!vmsg_amp_pci_has_layout(fifo))
			continue;
		vp->fifo[i].base = fifo;
		vp->fifo[i].size = VMSG_CARD_FIFO_SIZE - VMSG_CARD_LAYOUT_OFFSET;
		vp->fifo[i].doorbell = regs + VMSG_CARD_NOTIFY(i);
		vp->fifo[i].doorbell_val = 1;
		found++;
	}
	if (!found) {
		dev_info(&pdev->dev, "no FIFO carries the self-describing layout\n");
		return -ENODEV;
	}
	pci_set_drvdata(pdev, vp);
	return vmsg_amp_pci_start(vp, VMSG_AMP_F_WC |
				  VMSG_AMP_F_DOORBELL_PER_MSG, 0);
}

static int vmsg_amp_pci_probe(struct pci_dev *pdev,
			      const struct pci_device_id *id)
{
	int ret;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	if (id->driver_data == VMSG_AMP_PCI_CARD)
		return vmsg_amp_pci_probe_card(pdev);
	return vmsg_amp_pci_probe_ivshmem(pdev);
}

static void vmsg_amp_pci_remove(struct pci_dev *pdev)
{
	vmsg_amp_pci_teardown(pci_get_drvdata(pdev));
}

static const struct pci_device_id vmsg_amp_pci_ids[] = {
	{ PCI_DEVICE(PCI_VENDOR_ID_REDHAT_QUMRANET, 0x1110),
	  .driver_data = VMSG_AMP_PCI_IVSHMEM },
	{ PCI_DEVICE(PCI_VENDOR_ID_XILINX, 0x9039),
	  .driver_data = VMSG_AMP_PCI_CARD },
	{ /* Sentinel */ }
};
MODULE_DEVICE_TABLE(pci, vmsg_amp_pci_ids);

static struct pci_driver vmsg_amp_pci_driver = {
	.name		= "virtio_msg_amp_pci",
	.id_table	= vmsg_amp_pci_ids,
	.probe		= vmsg_amp_pci_probe,
	.remove		= vmsg_amp_pci_remove,
};
module_pci_driver(vmsg_amp_pci_driver);

MODULE_IMPORT_NS(VIRTIO_MSG_NS);
MODULE_DESCRIPTION("virtio-msg AMP bus over ivshmem-doorbell and the virtio-msg-amp-pci card");
MODULE_LICENSE("GPL");

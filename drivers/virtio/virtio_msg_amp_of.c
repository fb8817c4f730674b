// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-msg AMP bus described by the device tree: a reserved-memory
 * region shared with another processor, and mailbox channels or an
 * interrupt as doorbells.
 */

/**
 * DOC: Theory of Operation
 *
 * A node compatible with "virtio,msg-amp" (see
 * Documentation/devicetree/bindings/virtio/virtio,msg-amp.yaml) names the
 * shared region with a memory-region phandle to a reserved-memory node,
 * found with of_reserved_mem_lookup() (never by node name), and mapped
 * cacheable. Doorbells:
 *
 * - outbound: the mailbox channel named "tx"; without it the device side
 *   must poll the region. A doorbell carries no data and is merged with
 *   one still waiting in the framework's queue. It is done once the
 *   controller took it: unless the controller signals completion by
 *   interrupt, the glue acknowledges it itself (knows_txdone), which is
 *   what a controller without any completion signal needs;
 * - inbound: the mailbox channel named "rx", or the node's interrupt;
 *   without either, or when poll-interval-ms is given, the region is
 *   looked at every poll-interval-ms milliseconds.
 *
 * Removal: the devices go while the inbound doorbell still works
 * (vmsg_amp_stop()), then the doorbells are freed, then the instance.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitops.h>
#include <linux/device.h>
#include <linux/err.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/mailbox_client.h>
#include <linux/mailbox_controller.h>
#include <linux/minmax.h>
#include <linux/mod_devicetable.h>
#include <linux/module.h>
#include <linux/of.h>
#include <linux/of_reserved_mem.h>
#include <linux/platform_device.h>
#include <linux/virtio_msg.h>
#include <linux/virtio_msg_amp.h>

/* Polling period when nothing rings us and the node does not say. */
#define VMSG_AMP_OF_DEFAULT_POLL_MS	10
/* The largest poll-interval-ms the binding allows. */
#define VMSG_AMP_OF_MAX_POLL_MS		10000

/* vmsg_amp_of.tx_flags: a doorbell waits in the framework's queue. */
#define VMSG_AMP_OF_TX_QUEUED		0

/**
 * struct vmsg_amp_of - one bound node
 * @dev: the platform device
 * @amp: the bus instance; NULL until it exists, which inbound doorbells
 *	check
 * @cl: the mailbox client of both channels
 * @tx: outbound doorbell channel, or NULL
 * @rx: inbound doorbell channel, or NULL
 * @tx_ack: the glue acknowledges each doorbell once the controller took
 *	it (every controller but those with a completion interrupt)
 * @tx_flags: %VMSG_AMP_OF_TX_QUEUED, set by a ring that queued a doorbell
 *	and cleared when the framework hands it to the controller; rings
 *	meanwhile are merged with it (they come before it reaches the peer)
 * @irq: inbound doorbell interrupt, or -1
 */
struct vmsg_amp_of {
	struct device *dev;
	struct vmsg_amp *amp;
	struct mbox_client cl;
	struct mbox_chan *tx;
	struct mbox_chan *rx;
	bool tx_ack;
	unsigned long tx_flags;
	int irq;
};

/* Called by the framework, under the channel's lock, before send_data. */
static void vmsg_amp_of_tx_prepare(struct mbox_client *cl, void *msg)
{
	struct vmsg_amp_of *vo = container_of(cl, struct vmsg_amp_of, cl);

	clear_bit(VMSG_AMP_OF_TX_QUEUED, &vo->tx_flags);
	/* A ring that finds the bit clear rings again: this one may be old. */
	smp_mb__after_atomic();
}

static void vmsg_amp_of_ring(void *priv)
{
	struct vmsg_amp_of *vo = priv;
	int ret;

	if (!vo->tx)
		return;
	/*
	 * What the caller published is visible before the flag is looked
	 * at: a doorbell still queued reaches the peer after it, so this
	 * one can be merged with it. Without that, the framework's queue
	 * (MBOX_TX_QUEUE_LEN) would fill up on a busy bus.
	 */
	smp_mb();
	if (test_and_set_bit(VMSG_AMP_OF_TX_QUEUED, &vo->tx_flags))
		return;
	/* A doorbell carries no data; tx_block is false: this never sleeps. */
	ret = mbox_send_message(vo->tx, NULL);
	if (ret < 0) {
		clear_bit(VMSG_AMP_OF_TX_QUEUED, &vo->tx_flags);
		dev_warn_ratelimited(vo->dev, "doorbell failed: %d\n", ret);
		return;
	}
	/* Otherwise the channel would stay busy with this one for ever. */
	if (vo->tx_ack)
		mbox_client_txdone(vo->tx, 0);
}

static const struct vmsg_amp_ops vmsg_amp_of_ops = {
	.ring = vmsg_amp_of_ring,
};

static void vmsg_amp_of_rx(struct mbox_client *cl, void *msg)
{
	struct vmsg_amp_of *vo = container_of(cl, struct vmsg_amp_of, cl);
	struct vmsg_amp *amp = READ_ONCE(vo->amp);

	if (amp)
		vmsg_amp_doorbell(amp);
}

static irqreturn_t vmsg_amp_of_irq(int irq, void *data)
{
	struct vmsg_amp_of *vo = data;
	struct vmsg_amp *amp = READ_ONCE(vo->amp);

	if (amp)
		vmsg_amp_doorbell(amp);
	return IRQ_HANDLED;
}

static void vmsg_amp_of_free_doorbells(struct vmsg_amp_of *vo)
{
	if (vo->irq >= 0)
		free_irq(vo->irq, vo);
	vo->irq = -1;
	if (!IS_ERR_OR_NULL(vo->rx))
		mbox_free_channel(vo->rx);
	vo->rx = NULL;
	if (!IS_ERR_OR_NULL(vo->tx))
		mbox_free_channel(vo->tx);
	vo->tx = NULL;
}

/* The channel named @name, NULL if the node has none, or an ERR_PTR(). */
static struct mbox_chan *vmsg_amp_of_chan(struct vmsg_amp_of *vo,
					  const char *name)
{
	if (of_property_match_string(vo->dev->of_node, "mbox-names", name) < 0)
		return NULL;
	return mbox_request_channel_byname(&vo->cl, name);
}

static int vmsg_amp_of_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	struct vmsg_amp_config cfg = {
		.parent = dev,
		.ops = &vmsg_amp_of_ops,
	};
	struct device_node *rnode;
	struct reserved_mem *rmem;
	struct vmsg_amp_of *vo;
	struct vmsg_amp *amp;
	u32 poll = 0;
	int ret;

	vo = devm_kzalloc(dev, sizeof(*vo), GFP_KERNEL);
	if (!vo)
		return -ENOMEM;
	vo->dev = dev;
	vo->irq = -1;
	vo->cl.dev = dev;
	vo->cl.tx_block = false;
	/*
	 * A doorbell is done once written. Without this, a controller that
	 * reports no completion would, once a channel of it has been freed
	 * and requested again, be polled by the framework through a timer
	 * that controller never set up.
	 */
	vo->cl.knows_txdone = true;
	vo->cl.rx_callback = vmsg_amp_of_rx;
	vo->cl.tx_prepare = vmsg_amp_of_tx_prepare;
	cfg.priv = vo;

	rnode = of_parse_phandle(dev->of_node, "memory-region", 0);
	if (!rnode)
		return dev_err_probe(dev, -EINVAL, "no memory-region\n");
	rmem = of_reserved_mem_lookup(rnode);
	of_node_put(rnode);
	if (!rmem || !rmem->size)
		return dev_err_probe(dev, -EINVAL,
				     "memory-region is not reserved memory\n");
	cfg.size = rmem->size;
	/* The other processor knows the region, by offsets, and nothing else. */
	cfg.flags = VMSG_AMP_F_WINDOW;
	cfg.base = devm_memremap(dev, rmem->base, rmem->size, MEMREMAP_WB);
	if (IS_ERR(cfg.base))
		return dev_err_probe(dev, PTR_ERR(cfg.base),
				     "cannot map the shared region\n");

	of_property_read_u32(dev->of_node, "poll-interval-ms", &poll);
	poll = min(poll, VMSG_AMP_OF_MAX_POLL_MS);

	vo->tx = vmsg_amp_of_chan(vo, "tx");
	if (IS_ERR(vo->tx)) {
		ret = dev_err_probe(dev, PTR_ERR(vo->tx), "tx mailbox\n");
		vo->tx = NULL;
		return ret;
	}
	if (vo->tx)
		vo->tx_ack = !vo->tx->mbox->txdone_irq;
	vo->rx = vmsg_amp_of_chan(vo, "rx");
	if (IS_ERR(vo->rx)) {
		ret = dev_err_probe(dev, PTR_ERR(vo->rx), "rx mailbox\n");
		vo->rx = NULL;
		goto err_doorbells;
	}
	if (!vo->rx) {
		ret = platform_get_irq_optional(pdev, 0);
		if (ret == -EPROBE_DEFER)
			goto err_doorbells;
		vo->irq = ret >= 0 ? ret : -1;
	}
	if (!vo->rx && vo->irq < 0 && !poll) {
		poll = VMSG_AMP_OF_DEFAULT_POLL_MS;
		dev_info(dev, "no inbound doorbell: polling every %u ms\n",
			 poll);
	}
	cfg.poll_ms = poll;

	amp = vmsg_amp_create(&cfg);
	if (IS_ERR(amp)) {
		ret = PTR_ERR(amp);
		goto err_doorbells;
	}
	WRITE_ONCE(vo->amp, amp);

	if (vo->irq >= 0) {
		ret = request_irq(vo->irq, vmsg_amp_of_irq, 0, dev_name(dev),
				  vo);
		if (ret) {
			vo->irq = -1;
			dev_err(dev, "interrupt: %d\n", ret);
			goto err_amp;
		}
	}
	/* What came before the inbound doorbell was there. */
	vmsg_amp_doorbell(amp);
	platform_set_drvdata(pdev, vo);
	return 0;

err_amp:
	vmsg_amp_stop(amp);
	vmsg_amp_of_free_doorbells(vo);
	vmsg_amp_destroy(amp);
	return ret;
err_doorbells:
	vmsg_amp_of_free_doorbells(vo);
	return ret;
}

static void vmsg_amp_of_remove(struct platform_device *pdev)
{
	struct vmsg_amp_of *vo = platform_get_drvdata(pdev);

	vmsg_amp_stop(vo->amp);
	vmsg_amp_of_free_doorbells(vo);
	vmsg_amp_destroy(vo->amp);
}

static const struct of_device_id vmsg_amp_of_ids[] = {
	{ .compatible = "virtio,msg-amp" },
	{ /* Sentinel */ }
};
MODULE_DEVICE_TABLE(of, vmsg_amp_of_ids);

static struct platform_driver vmsg_amp_of_driver = {
	.driver = {
		.name = "virtio_msg_amp_of",
		.of_match_table = vmsg_amp_of_ids,
	},
	.probe = vmsg_amp_of_probe,
	.remove = vmsg_amp_of_remove,
};
module_platform_driver(vmsg_amp_of_driver);

MODULE_IMPORT_NS(VIRTIO_MSG_NS);
MODULE_DESCRIPTION("virtio-msg AMP bus described by the device tree");
MODULE_LICENSE("GPL");

// SPDX-License-Identifier: GPL-2.0-only
/*
 * A mailbox controller for testing the doorbells of the virtio-msg AMP
 * device-tree glue (virtio_msg_amp_of) where no hardware mailbox exists,
 * as in a QEMU virt guest. Node: compatible "virtio,msg-amp-test-mbox",
 * #mbox-cells = <1>; channel 0 is a "tx" doorbell to the device side,
 * channel 1 an "rx" doorbell from it.
 *
 * The device side (a host process) can reach neither: channel 0 counts
 * the doorbells it is given and drops them, and channel 1 rings its
 * client from a timer, every rx_period_ms, in hard interrupt context as
 * a real controller's interrupt handler would. Channel 0 signals no
 * transmit completion of its own (the client acknowledges), the kind of
 * controller a doorbell client finds hardest to drive. Counts are in the
 * platform device's sysfs attributes tx_rings and rx_rings.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/device.h>
#include <linux/hrtimer.h>
#include <linux/ktime.h>
#include <linux/mailbox_controller.h>
#include <linux/mod_devicetable.h>
#include <linux/module.h>
#include <linux/platform_device.h>

#define TEST_MBOX_TX	0
#define TEST_MBOX_RX	1

static unsigned int rx_period_ms = 2;
module_param(rx_period_ms, uint, 0444);
MODULE_PARM_DESC(rx_period_ms, "period of the rx channel's doorbells (ms)");

/**
 * struct test_mbox - one controller
 * @mbox: the controller
 * @chans: its two channels
 * @rx_timer: rings the rx channel's client while the channel is started
 * @tx_rings: doorbells handed to the tx channel
 * @rx_rings: doorbells rung on the rx channel
 */
struct test_mbox {
	struct mbox_controller mbox;
	struct mbox_chan chans[2];
	struct hrtimer rx_timer;
	atomic_long_t tx_rings;
	atomic_long_t rx_rings;
};

static enum hrtimer_restart test_mbox_rx(struct hrtimer *t)
{
	struct test_mbox *tm = container_of(t, struct test_mbox, rx_timer);

	atomic_long_inc(&tm->rx_rings);
	mbox_chan_received_data(&tm->chans[TEST_MBOX_RX], NULL);
	hrtimer_forward_now(t, ms_to_ktime(max(rx_period_ms, 1U)));
	return HRTIMER_RESTART;
}

static struct test_mbox *chan_to_tm(struct mbox_chan *chan)
{
	return container_of(chan->mbox, struct test_mbox, mbox);
}

static int test_mbox_send(struct mbox_chan *chan, void *data)
{
	struct test_mbox *tm = chan_to_tm(chan);

	if (chan != &tm->chans[TEST_MBOX_TX])
		return -EINVAL;
	atomic_long_inc(&tm->tx_rings);
	return 0;
}

static int test_mbox_startup(struct mbox_chan *chan)
{
	struct test_mbox *tm = chan_to_tm(chan);

	if (chan == &tm->chans[TEST_MBOX_RX])
		hrtimer_start(&tm->rx_timer, ms_to_ktime(max(rx_period_ms, 1U)),
			      HRTIMER_MODE_REL);
	return 0;
}

static void test_mbox_shutdown(struct mbox_chan *chan)
{
	struct test_mbox *tm = chan_to_tm(chan);

	/* After this, the client is never called from the timer again. */
	if (chan == &tm->chans[TEST_MBOX_RX])
		hrtimer_cancel(&tm->rx_timer);
}

static const struct mbox_chan_ops test_mbox_ops = {
	.send_data = test_mbox_send,
	.startup = test_mbox_startup,
	.shutdown = test_mbox_shutdown,
};

static ssize_t tx_rings_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	struct test_mbox *tm = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%ld\n", atomic_long_read(&tm->tx_rings));
}
static DEVICE_ATTR_RO(tx_rings);

static ssize_t rx_rings_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	struct test_mbox *tm = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%ld\n", atomic_long_read(&tm->rx_rings));
}
static DEVICE_ATTR_RO(rx_rings);

static struct attribute *test_mbox_attrs[] = {
	&dev_attr_tx_rings.attr,
	&dev_attr_rx_rings.attr,
	NULL
};
ATTRIBUTE_GROUPS(test_mbox);

static int test_mbox_probe(struct platform_device *pdev)
{
	struct test_mbox *tm;

	tm = devm_kzalloc(&pdev->dev, sizeof(*tm), GFP_KERNEL);
	if (!tm)
		return -ENOMEM;
	hrtimer_init(&tm->rx_timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL);
	tm->rx_timer.function = test_mbox_rx;
	tm->mbox.dev = &pdev->dev;
	tm->mbox.ops = &test_mbox_ops;
	tm->mbox.chans = tm->chans;
	tm->mbox.num_chans = ARRAY_SIZE(tm->chans);
	/* Neither txdone_irq nor txdone_poll: the client acknowledges. */
	platform_set_drvdata(pdev, tm);
	return devm_mbox_controller_register(&pdev->dev, &tm->mbox);
}

static const struct of_device_id test_mbox_ids[] = {
	{ .compatible = "virtio,msg-amp-test-mbox" },
	{ /* Sentinel */ }
};
MODULE_DEVICE_TABLE(of, test_mbox_ids);

static struct platform_driver test_mbox_driver = {
	.driver = {
		.name = "virtio_msg_amp_test_mbox",
		.of_match_table = test_mbox_ids,
		.dev_groups = test_mbox_groups,
	},
	.probe = test_mbox_probe,
};
module_platform_driver(test_mbox_driver);

MODULE_DESCRIPTION("Test mailbox controller for the virtio-msg AMP device-tree glue");
MODULE_LICENSE("GPL");

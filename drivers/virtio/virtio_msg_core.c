// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-msg transport core.
 *
 * virtio-msg carries every virtio transport operation (features, config
 * space, status, virtqueue setup, notifications) in messages, so that a
 * virtio device can sit behind any message bus. This module is the driver
 * side of the transport:
 *
 * - virtio_msg_proto.c builds and validates messages;
 * - virtio_msg_request.c sends requests and matches their responses;
 * - virtio_msg_bus.c registers bus instances, routes inbound messages and
 *   runs enumeration and hotplug;
 * - virtio_msg_transport.c implements struct virtio_config_ops and the
 *   device lifetime.
 *
 * Bus modules use the interface in include/linux/virtio_msg.h.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <kunit/visibility.h>
#include <linux/minmax.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/workqueue.h>

#include "virtio_msg_core.h"

static unsigned int request_timeout_ms = 5000;
module_param(request_timeout_ms, uint, 0644);
MODULE_PARM_DESC(request_timeout_ms,
		 "How long a request waits for its response, in ms, on buses that set no timeout of their own (default 5000)");

/* Bounds on the timeout: at least a tick, at most a minute. */
#define VMSG_TIMEOUT_MIN_MS	1U
#define VMSG_TIMEOUT_MAX_MS	60000U

/**
 * vmsg_timeout_ms() - request timeout of a bus
 * @bus: the bus
 *
 * Context: any.
 * Return: the bus's own timeout if it set one, else the module parameter,
 * clamped to a sane range so that no wait is unbounded or instant.
 */
unsigned int vmsg_timeout_ms(const struct virtio_msg_bus *bus)
{
	unsigned int ms = bus->timeout_ms ?: READ_ONCE(request_timeout_ms);

	return clamp(ms, VMSG_TIMEOUT_MIN_MS, VMSG_TIMEOUT_MAX_MS);
}

/**
 * vmsg_deadline_ms() - bound on an operation made of many requests
 * @bus: the bus
 *
 * A whole configuration fetch or device enumeration must end within this,
 * however the peer paces or splits its answers (a device answering one
 * byte per GET_CONFIG would otherwise take thousands of round trips).
 *
 * Context: any.
 * Return: four request timeouts, in ms.
 */
unsigned int vmsg_deadline_ms(const struct virtio_msg_bus *bus)
{
	return 4 * vmsg_timeout_ms(bus);
}

/*
 * Deferred notifications and configuration re-reads of every device. A
 * disk on this transport may be where memory is written back to, so the
 * queue has a rescuer (WQ_MEM_RECLAIM): a kick must go out under memory
 * pressure. Unbound, because some drivers spin on the CPU that kicked
 * until the device answers (virtio_console's hvc output).
 */
struct workqueue_struct *vmsg_wq;
EXPORT_SYMBOL_IF_KUNIT(vmsg_wq);

static int __init vmsg_init(void)
{
	vmsg_wq = alloc_workqueue("virtio_msg", WQ_UNBOUND | WQ_MEM_RECLAIM |
				  WQ_HIGHPRI, 0);
	if (!vmsg_wq)
		return -ENOMEM;
	vmsg_debugfs_init();
	return 0;
}
module_init(vmsg_init);

static void __exit vmsg_exit(void)
{
	vmsg_debugfs_exit();
	destroy_workqueue(vmsg_wq);
}
module_exit(vmsg_exit);

MODULE_DESCRIPTION("Virtio over messages (virtio-msg) transport core");
MODULE_LICENSE("GPL");

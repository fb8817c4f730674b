// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-msg: the device types, and their features, that a bus whose
 * device side is less trusted than the kernel lets through (a userspace
 * backend, another processor, a partition).
 */
#include <linux/bits.h>
#include <linux/export.h>
#include <linux/skbuff.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_msg.h>
#include <uapi/linux/virtio_blk.h>
#include <uapi/linux/virtio_console.h>
#include <uapi/linux/virtio_net.h>
#include <uapi/linux/virtio_ring.h>

/*
 * Only drivers that treat what the device says as input (sizes checked,
 * indexes bounded, no physical addresses taken from it) are listed, and
 * only the features whose driver code does the same. See "Device types"
 * in Documentation/userspace-api/virtio_msg_loopback.rst.
 *
 * Transport bits: those virtio_ring implements, except
 * VIRTIO_F_NOTIFICATION_DATA (no backend uses it) and VIRTIO_F_SR_IOV
 * (PCI only).
 */
#define VMSG_POLICY_F(bit)	BIT_ULL(bit)
#define VMSG_POLICY_TRANSPORT_FEATURES				\
	(VMSG_POLICY_F(VIRTIO_F_VERSION_1) |			\
	 VMSG_POLICY_F(VIRTIO_F_ACCESS_PLATFORM) |		\
	 VMSG_POLICY_F(VIRTIO_F_RING_PACKED) |			\
	 VMSG_POLICY_F(VIRTIO_F_ORDER_PLATFORM) |		\
	 VMSG_POLICY_F(VIRTIO_F_RING_RESET) |			\
	 VMSG_POLICY_F(VIRTIO_RING_F_EVENT_IDX) |		\
	 VMSG_POLICY_F(VIRTIO_RING_F_INDIRECT_DESC))

static const struct virtio_msg_device_policy vmsg_hardened[] = {
	{
		/*
		 * First, so that the list without it can start after it.
		 * Linux 6.12's virtio_console does not survive a
		 * device that breaks while it writes (a use-after-free in
		 * put_chars(), a BUG_ON in remove_vqs()), so consoles are for
		 * trusted backends only. One port only: MULTIPORT sizes the
		 * driver's queue arrays from a device-chosen port count, and
		 * its control messages create ports. See also "Consoles" in
		 * the documentation: an hvc write waits for the device with
		 * interrupts off.
		 */
		.device_id = VIRTIO_ID_CONSOLE,
		.features = VMSG_POLICY_TRANSPORT_FEATURES |
			    VMSG_POLICY_F(VIRTIO_CONSOLE_F_SIZE),
	},
	{
		/*
		 * Left out: SIZE_MAX (a value below a page reaches a WARN
		 * in the block layer), TOPOLOGY (a device-chosen shift),
		 * ZONED (device-written zone reports), DISCARD,
		 * WRITE_ZEROES and SECURE_ERASE (not needed yet), and the
		 * legacy BARRIER and SCSI.
		 *
		 * A request takes seg_max segments plus header and status,
		 * and the device picks seg_max (up to 32766): SEG_MAX only
		 * with indirect descriptors. Without it the driver uses one
		 * segment, so three entries are enough.
		 */
		.device_id = VIRTIO_ID_BLOCK,
		.features = VMSG_POLICY_TRANSPORT_FEATURES |
			    VMSG_POLICY_F(VIRTIO_BLK_F_SEG_MAX) |
			    VMSG_POLICY_F(VIRTIO_BLK_F_GEOMETRY) |
			    VMSG_POLICY_F(VIRTIO_BLK_F_RO) |
			    VMSG_POLICY_F(VIRTIO_BLK_F_BLK_SIZE) |
			    VMSG_POLICY_F(VIRTIO_BLK_F_FLUSH) |
			    VMSG_POLICY_F(VIRTIO_BLK_F_CONFIG_WCE) |
			    VMSG_POLICY_F(VIRTIO_BLK_F_MQ),
		.indirect_features = VMSG_POLICY_F(VIRTIO_BLK_F_SEG_MAX),
		.min_queue_size = 3,
	},
	{
		/*
		 * Packets from the device go through the same header checks
		 * as those from tun, hence the offloads. Left out: the
		 * control queue and all that needs it (the driver waits for
		 * its answers holding RTNL), STANDBY (would enslave another
		 * interface with the same MAC address), hash reports, RSC
		 * and UFO/USO. Also STATUS: in Linux 6.12 a status with
		 * ANNOUNCE set makes the driver send a control command,
		 * which reaches a BUG_ON without the control queue (found
		 * by the fuzzer); without STATUS the link is always up.
		 *
		 * Big receive buffers and transmitted packets take up to
		 * MAX_SKB_FRAGS + 2 entries without indirect descriptors.
		 */
		.device_id = VIRTIO_ID_NET,
		.min_queue_size = MAX_SKB_FRAGS + 2,
		.features = VMSG_POLICY_TRANSPORT_FEATURES |
			    VMSG_POLICY_F(VIRTIO_NET_F_CSUM) |
			    VMSG_POLICY_F(VIRTIO_NET_F_GUEST_CSUM) |
			    VMSG_POLICY_F(VIRTIO_NET_F_MTU) |
			    VMSG_POLICY_F(VIRTIO_NET_F_MAC) |
			    VMSG_POLICY_F(VIRTIO_NET_F_GUEST_TSO4) |
			    VMSG_POLICY_F(VIRTIO_NET_F_GUEST_TSO6) |
			    VMSG_POLICY_F(VIRTIO_NET_F_GUEST_ECN) |
			    VMSG_POLICY_F(VIRTIO_NET_F_HOST_TSO4) |
			    VMSG_POLICY_F(VIRTIO_NET_F_HOST_TSO6) |
			    VMSG_POLICY_F(VIRTIO_NET_F_HOST_ECN) |
			    VMSG_POLICY_F(VIRTIO_NET_F_MRG_RXBUF) |
			    VMSG_POLICY_F(VIRTIO_NET_F_SPEED_DUPLEX),
	},
	{
		/* One segment per buffer: no minimum queue size. */
		.device_id = VIRTIO_ID_RNG,
		.features = VMSG_POLICY_TRANSPORT_FEATURES,
	},
	{ }
};

/**
 * virtio_msg_hardened_devices() - the device types a less trusted device
 *	side may serve, and their features
 * @console: whether the list has virtio-console
 *
 * For &virtio_msg_bus.devices of a bus whose device side is less trusted
 * than the kernel (a userspace backend, another processor, a partition):
 * virtio-blk, virtio-net, virtio-rng and, with @console, a one-port
 * virtio-console, each with the features whose driver code treats the
 * device's answers as input. virtio-blk's SEG_MAX needs
 * VIRTIO_RING_F_INDIRECT_DESC too; without it, virtio-net's queues need at
 * least MAX_SKB_FRAGS + 2 entries and virtio-blk's 3, so that no chain the
 * driver posts is longer than its ring. Leave the console out where the
 * device side must not be able to crash Linux 6.12's virtio_console (see
 * "Device types" in Documentation/userspace-api/virtio_msg_loopback.rst).
 *
 * Context: any.
 * Return: the list, ended by an entry with device_id 0; static.
 */
const struct virtio_msg_device_policy *virtio_msg_hardened_devices(bool console)
{
	return console ? vmsg_hardened : vmsg_hardened + 1;
}
EXPORT_SYMBOL_NS_GPL(virtio_msg_hardened_devices, VIRTIO_MSG_NS);

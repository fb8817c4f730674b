/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */
/*
 * The simulated FF-A partition (virtio_msg_ffa_sim.ko, test code): the
 * interface of its character device to the userspace device side.
 *
 * read() returns one driver->device message (transport requests and
 * events, GET_DEVICES, PING), one per call, into a buffer of at least
 * VIRTIO_MSG_FFA_MAX_MSG_SIZE bytes. write() takes one device->driver
 * message: the response to the request read last, or an event
 * (EVENT_USED, EVENT_CONFIG, EVENT_DEVICE), which the partition hands
 * out through EVENT_POLL after a notification. The FF-A bus messages are
 * the partition's own and never reach userspace.
 */
#ifndef _VIRTIO_MSG_FFA_SIM_H
#define _VIRTIO_MSG_FFA_SIM_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define VMSG_FFA_SIM_PATH	"/dev/virtio-msg-ffa-sim"

/**
 * struct vmsg_ffa_sim_mem - reach driver memory through the areas
 * @addr: bus address, area_id << 48 | offset
 * @len: bytes, at most VMSG_FFA_SIM_MEM_MAX
 * @buf: user pointer
 *
 * Only memory shared with memory_share and announced with AREA_SHARE is
 * reachable; anything else fails with EFAULT.
 */
struct vmsg_ffa_sim_mem {
	__u64 addr;
	__u64 len;
	__u64 buf;
};

#define VMSG_FFA_SIM_MEM_MAX	0x100000

/* Register the partition on the FF-A bus (asynchronously). */
#define VMSG_FFA_SIM_START	_IO('F', 0x00)
#define VMSG_FFA_SIM_MEM_READ	_IOW('F', 0x01, struct vmsg_ffa_sim_mem)
#define VMSG_FFA_SIM_MEM_WRITE	_IOW('F', 0x02, struct vmsg_ffa_sim_mem)
/* Give area (argument) up and tell the driver with AREA_RELEASE. */
#define VMSG_FFA_SIM_RELEASE_AREA _IO('F', 0x03)

#endif /* _VIRTIO_MSG_FFA_SIM_H */

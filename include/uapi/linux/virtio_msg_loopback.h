/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/*
 * virtio-msg loopback bus: the interface between the kernel and a userspace
 * process that implements the device side of virtio-msg devices.
 *
 * Each open file of /dev/virtio-msg-loopback is one bus instance, owned by
 * whoever holds the file descriptor. Opening needs CAP_SYS_ADMIN (EPERM);
 * at most max_instances (module parameter) are open at once (EMFILE). On
 * it:
 *
 * - read() returns exactly one driver-to-device message (a request or an
 *   EVENT_AVAIL), write() takes exactly one device-to-driver message (a
 *   response or an event) and queues it for delivery, fsync() waits until
 *   what was written has been delivered; see <linux/virtio_msg.h> for the
 *   wire format;
 * - the ioctls below add and remove device numbers and copy bytes to and
 *   from the memory the driver has mapped for a device.
 *
 * Every ioctl argument starts with a __u32 size, which userspace sets to
 * the size of the structure it was built against. The kernel accepts any
 * size from the first version of the structure (VIRTIO_MSG_LB_*_SIZE_VER0)
 * up; bytes it does not know must be zero. Reserved fields must be zero.
 * See Documentation/userspace-api/virtio_msg_loopback.rst.
 */
#ifndef _UAPI_LINUX_VIRTIO_MSG_LOOPBACK_H
#define _UAPI_LINUX_VIRTIO_MSG_LOOPBACK_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* ABI version reported by VIRTIO_MSG_LB_IOC_GET_INFO. */
#define VIRTIO_MSG_LB_ABI_VERSION	1

/* Largest device number; device numbers are 16 bits on the wire. */
#define VIRTIO_MSG_LB_MAX_DEV_NUM	0xffff

/**
 * struct virtio_msg_lb_info - VIRTIO_MSG_LB_IOC_GET_INFO argument
 * @size: in: sizeof(struct virtio_msg_lb_info)
 * @abi_version: out: VIRTIO_MSG_LB_ABI_VERSION
 * @max_msg_size: out: largest message read() returns and write() accepts,
 *	header included
 * @queue_len: out: number of driver-to-device messages the instance can
 *	queue; notifications may use three quarters of it, and wait in the
 *	driver side beyond that. Also the number of written messages that
 *	may wait for delivery.
 * @max_devices: out: number of device numbers one instance may have at
 *	once; a removed number counts until its virtio device is gone
 * @reserved: in: 0; out: 0
 *
 * On return the kernel has written min(@size, its own size) bytes and set
 * @size to that number.
 */
struct virtio_msg_lb_info {
	__u32 size;
	__u32 abi_version;
	__u32 max_msg_size;
	__u32 queue_len;
	__u32 max_devices;
	__u32 reserved;
};

#define VIRTIO_MSG_LB_INFO_SIZE_VER0	24

/**
 * struct virtio_msg_lb_device - VIRTIO_MSG_LB_IOC_ADD_DEVICE,
 *	VIRTIO_MSG_LB_IOC_REMOVE_DEVICE and VIRTIO_MSG_LB_IOC_GET_DEVICE
 *	argument
 * @size: sizeof(struct virtio_msg_lb_device)
 * @dev_num: device number, 0 to VIRTIO_MSG_LB_MAX_DEV_NUM
 * @flags: ADD_DEVICE: 0. REMOVE_DEVICE: 0 or VIRTIO_MSG_LB_REMOVE_ORDERLY.
 *	GET_DEVICE: in 0, out VIRTIO_MSG_LB_DEVICE_LEAVING or 0.
 * @reserved: 0
 */
struct virtio_msg_lb_device {
	__u32 size;
	__u32 dev_num;
	__u32 flags;
	__u32 reserved;
};

#define VIRTIO_MSG_LB_DEVICE_SIZE_VER0	16

/*
 * REMOVE_DEVICE flag: the backend keeps serving the device while its
 * driver lets go of it (see VIRTIO_MSG_LB_IOC_REMOVE_DEVICE).
 */
#define VIRTIO_MSG_LB_REMOVE_ORDERLY	0x1

/* GET_DEVICE flag: an orderly removal of the device is under way. */
#define VIRTIO_MSG_LB_DEVICE_LEAVING	0x1

/**
 * struct virtio_msg_lb_mem - VIRTIO_MSG_LB_IOC_MEM_READ and
 *	VIRTIO_MSG_LB_IOC_MEM_WRITE argument
 * @size: sizeof(struct virtio_msg_lb_mem)
 * @dev_num: device number the address belongs to
 * @addr: bus address, as found in SET_VQUEUE and in the descriptors
 * @buf: userspace buffer of @len bytes, as a __u64
 * @len: number of bytes, 1 or more
 * @reserved: 0
 *
 * The whole range [@addr, @addr + @len) must lie inside one DMA mapping
 * that the driver currently holds for device @dev_num, and the mapping's
 * direction must allow the access: reads need a mapping made to the
 * device (or bidirectional, or coherent), writes one made from the
 * device (or bidirectional, or coherent). In window mode (see struct
 * virtio_msg_lb_params) the range must lie inside the window instead. In
 * both modes the areas of a virtqueue that only the driver writes (the
 * descriptor table and available ring of a split ring, the driver event
 * area of a packed one) are read-only, although they lie in coherent
 * memory.
 */
struct virtio_msg_lb_mem {
	__u32 size;
	__u32 dev_num;
	__u64 addr;
	__u64 buf;
	__u32 len;
	__u32 reserved;
};

#define VIRTIO_MSG_LB_MEM_SIZE_VER0	32

/**
 * struct virtio_msg_lb_params - VIRTIO_MSG_LB_IOC_SET_PARAMS argument
 * @size: sizeof(struct virtio_msg_lb_params)
 * @wire: the wire generation the backend speaks, VIRTIO_MSG_WIRE_V1 or
 *	VIRTIO_MSG_WIRE_V2 (<linux/virtio_msg.h>)
 * @features: transport feature bits, as a mask of
 *	(1 << VIRTIO_MSG_F_*); 0 with VIRTIO_MSG_WIRE_V1
 * @reserved: 0
 * @window_size: (VER1) 0, or window mode: the bytes of a memory window
 *	the instance allocates, a multiple of 4096 from
 *	VIRTIO_MSG_LB_WINDOW_MIN to VIRTIO_MSG_LB_WINDOW_MAX. The driver side
 *	then allocates its rings in the window and bounces every buffer
 *	through it, as on a bus whose device sees one shared memory region,
 *	and MEM_READ/MEM_WRITE reach the window only.
 * @window_base: (VER1) the bus address of the window's first byte, a
 *	multiple of 4096; the window's bus addresses must not wrap around.
 *	Ignored without @window_size.
 * @recovery_ms: (VER2) 0, or recovery: when the file is released while
 *	the instance has devices, they stay for this many milliseconds (at
 *	most VIRTIO_MSG_LB_RECOVERY_MAX_MS) so that a new backend can take
 *	them over with VIRTIO_MSG_LB_IOC_ADOPT; see there
 * @reserved2: (VER2) 0
 */
struct virtio_msg_lb_params {
	__u32 size;
	__u32 wire;
	__u32 features;
	__u32 reserved;
	__u64 window_size;
	__u64 window_base;
	__u32 recovery_ms;
	__u32 reserved2;
};

#define VIRTIO_MSG_LB_PARAMS_SIZE_VER0	16
#define VIRTIO_MSG_LB_PARAMS_SIZE_VER1	32
#define VIRTIO_MSG_LB_PARAMS_SIZE_VER2	40

/* Bound of virtio_msg_lb_params.recovery_ms. */
#define VIRTIO_MSG_LB_RECOVERY_MAX_MS	60000

/**
 * struct virtio_msg_lb_dev_state - VIRTIO_MSG_LB_IOC_GET_DEV_STATE argument
 * @size: sizeof(struct virtio_msg_lb_dev_state)
 * @dev_num: in: a device number of the instance
 * @status: out: the device status as the driver set it and the device
 *	confirmed it (VIRTIO_CONFIG_S_*), NEEDS_RESET included when the
 *	device reported it
 * @flags: in: 0; out: VIRTIO_MSG_LB_DEV_BROKEN when the driver side gave
 *	up on the device (it will be reset or removed)
 * @device_id: out: the virtio device ID
 * @num_queues: out: how many virtqueue slots the driver has; ask each
 *	with VIRTIO_MSG_LB_IOC_GET_QUEUE_STATE
 * @config_generation: out: the configuration generation the device
 *	reported last
 * @reserved: 0
 * @driver_features: out: the feature bits the driver negotiated, bit n in
 *	element n / 64; all zero until the device took FEATURES_OK
 */
struct virtio_msg_lb_dev_state {
	__u32 size;
	__u32 dev_num;
	__u32 status;
	__u32 flags;
	__u32 device_id;
	__u32 num_queues;
	__u32 config_generation;
	__u32 reserved;
	__u64 driver_features[2];
};

#define VIRTIO_MSG_LB_DEV_STATE_SIZE_VER0	48

/* GET_DEV_STATE flag: the driver side gave up on the device. */
#define VIRTIO_MSG_LB_DEV_BROKEN	0x1

/**
 * struct virtio_msg_lb_queue_state - VIRTIO_MSG_LB_IOC_GET_QUEUE_STATE
 *	argument
 * @size: sizeof(struct virtio_msg_lb_queue_state)
 * @dev_num: in: a device number of the instance
 * @index: in: the virtqueue index
 * @flags: in: 0; out: VIRTIO_MSG_LB_QUEUE_ENABLED when the driver has the
 *	queue live; all other fields are 0 otherwise
 * @queue_size: out: the queue size, in descriptors
 * @reserved: 0
 * @desc_addr: out: bus address of the descriptor area
 * @driver_addr: out: bus address of the driver area (available ring)
 * @device_addr: out: bus address of the device area (used ring)
 */
struct virtio_msg_lb_queue_state {
	__u32 size;
	__u32 dev_num;
	__u32 index;
	__u32 flags;
	__u32 queue_size;
	__u32 reserved;
	__u64 desc_addr;
	__u64 driver_addr;
	__u64 device_addr;
};

#define VIRTIO_MSG_LB_QUEUE_STATE_SIZE_VER0	48

/* GET_QUEUE_STATE flag: the driver has the queue live. */
#define VIRTIO_MSG_LB_QUEUE_ENABLED	0x1

/* Bounds of virtio_msg_lb_params.window_size. */
#define VIRTIO_MSG_LB_WINDOW_MIN	(64 << 10)
#define VIRTIO_MSG_LB_WINDOW_MAX	(64 << 20)

#define VIRTIO_MSG_LB_IOC_MAGIC		0xB9

/*
 * The size encoded in each command is that of the structure's first
 * version, so the command numbers stay the same when a structure grows;
 * the size field inside the structure tells the versions apart.
 */

/**
 * define VIRTIO_MSG_LB_IOC_GET_INFO - describe the instance's limits
 *
 * Argument: struct virtio_msg_lb_info. Errors: EINVAL (size below
 * VIRTIO_MSG_LB_INFO_SIZE_VER0, reserved not zero), E2BIG (unknown
 * trailing bytes not zero), EFAULT.
 */
#define VIRTIO_MSG_LB_IOC_GET_INFO \
	_IOC(_IOC_READ | _IOC_WRITE, VIRTIO_MSG_LB_IOC_MAGIC, 0x00, \
	     VIRTIO_MSG_LB_INFO_SIZE_VER0)

/**
 * define VIRTIO_MSG_LB_IOC_ADD_DEVICE - add a device number to the instance
 *
 * Argument: struct virtio_msg_lb_device. The driver side then asks the
 * device for GET_DEVICE_INFO (read it with read()) and probes it, if the
 * device type is one the bus allows. A number removed a moment ago may be
 * added again at once: its old virtio device goes first. Errors: EINVAL
 * (bad size, flags, reserved or dev_num), E2BIG, EEXIST (number in use on
 * this instance), EBUSY (the number is leaving: its orderly removal is
 * under way), ENOSPC (max_devices reached, removed numbers whose
 * virtio device still exists included), ENOMEM (also when the driver side
 * has too many device events queued), EFAULT.
 */
#define VIRTIO_MSG_LB_IOC_ADD_DEVICE \
	_IOC(_IOC_WRITE, VIRTIO_MSG_LB_IOC_MAGIC, 0x01, \
	     VIRTIO_MSG_LB_DEVICE_SIZE_VER0)

/**
 * define VIRTIO_MSG_LB_IOC_REMOVE_DEVICE - remove a device number
 *
 * Argument: struct virtio_msg_lb_device. Without flags, a surprise
 * removal: requests pending for the device fail, the virtio device is
 * unregistered in the background, and memory access for the number stops
 * at once, MEM_READ/MEM_WRITE already running on other threads included.
 *
 * With VIRTIO_MSG_LB_REMOVE_ORDERLY the device keeps working: the virtio
 * device is unregistered in the background while the backend still
 * answers and reaches the device's memory, so that the driver's remove
 * completes the requests the device holds and resets it. The number is
 * then "leaving" (see VIRTIO_MSG_LB_IOC_GET_DEVICE) until the virtio
 * device is gone, when it disappears from the instance by itself. The
 * backend serves until then; if the driver side needs longer than its
 * deadline, the device is broken as in a surprise removal. An orderly
 * removal of a leaving number changes nothing; a surprise removal of one
 * turns it into a surprise removal.
 *
 * Either way the number counts against max_devices until the virtio
 * device is gone. Errors: EINVAL (also unknown flags, so that a kernel
 * without orderly removal says so), E2BIG, ENOENT (no such device on this
 * instance), EFAULT.
 */
#define VIRTIO_MSG_LB_IOC_REMOVE_DEVICE \
	_IOC(_IOC_WRITE, VIRTIO_MSG_LB_IOC_MAGIC, 0x02, \
	     VIRTIO_MSG_LB_DEVICE_SIZE_VER0)

/**
 * define VIRTIO_MSG_LB_IOC_MEM_READ - copy driver memory to userspace
 *
 * Argument: struct virtio_msg_lb_mem. Errors: EINVAL (bad size, reserved,
 * zero len, or addr + len wraps), E2BIG, ENODEV (no such device on this
 * instance, or removed during the copy), ENXIO (the range is not inside
 * one live mapping of the device), EACCES (the mapping is from the device
 * only), EFAULT (bad buf), EINTR (fatal signal during a long copy; part of
 * it may be done).
 */
#define VIRTIO_MSG_LB_IOC_MEM_READ \
	_IOC(_IOC_WRITE, VIRTIO_MSG_LB_IOC_MAGIC, 0x03, \
	     VIRTIO_MSG_LB_MEM_SIZE_VER0)

/**
 * define VIRTIO_MSG_LB_IOC_MEM_WRITE - copy userspace bytes to driver memory
 *
 * Argument: struct virtio_msg_lb_mem. Errors as VIRTIO_MSG_LB_IOC_MEM_READ,
 * with EACCES when the mapping is to the device only or the range touches
 * a read-only ring area. On ENXIO or EINTR after the first page, the
 * bytes before the failing page are written.
 */
#define VIRTIO_MSG_LB_IOC_MEM_WRITE \
	_IOC(_IOC_WRITE, VIRTIO_MSG_LB_IOC_MAGIC, 0x04, \
	     VIRTIO_MSG_LB_MEM_SIZE_VER0)

/**
 * define VIRTIO_MSG_LB_IOC_SET_PARAMS - say which wire generation to speak
 *
 * Argument: struct virtio_msg_lb_params. Allowed only before the first
 * VIRTIO_MSG_LB_IOC_ADD_DEVICE of the instance; an instance that never
 * calls it speaks VIRTIO_MSG_WIRE_V1 with no feature bits. A window, once
 * set, stays for the life of the instance. Errors: EINVAL (bad size,
 * reserved, unknown wire or feature bits, features with
 * VIRTIO_MSG_WIRE_V1, a window size or base out of bounds, recovery_ms
 * over VIRTIO_MSG_LB_RECOVERY_MAX_MS), E2BIG, EBUSY (a device number was
 * added already, or a window is set already), ENOMEM, EOPNOTSUPP (the
 * kernel cannot confine DMA to a window), EFAULT.
 */
#define VIRTIO_MSG_LB_IOC_SET_PARAMS \
	_IOC(_IOC_WRITE, VIRTIO_MSG_LB_IOC_MAGIC, 0x05, \
	     VIRTIO_MSG_LB_PARAMS_SIZE_VER0)

/**
 * define VIRTIO_MSG_LB_IOC_GET_DEVICE - whether a device number is served
 *
 * Argument: struct virtio_msg_lb_device, @flags 0. Returns 0 while the
 * backend serves the number, with @flags set to
 * VIRTIO_MSG_LB_DEVICE_LEAVING during an orderly removal. Errors: ENOENT
 * (the number is not on this instance, or its orderly removal is over),
 * EINVAL, E2BIG, EFAULT; ENOTTY from a kernel without orderly removal.
 */
#define VIRTIO_MSG_LB_IOC_GET_DEVICE \
	_IOC(_IOC_READ | _IOC_WRITE, VIRTIO_MSG_LB_IOC_MAGIC, 0x06, \
	     VIRTIO_MSG_LB_DEVICE_SIZE_VER0)

/**
 * define VIRTIO_MSG_LB_IOC_ADOPT - take the devices of a dead backend over
 *
 * Argument: struct virtio_msg_lb_device, @dev_num one of the numbers of
 * an orphan (the instance of a backend that set recovery_ms and whose
 * file was released while it had devices), @flags 0. The file must be
 * fresh: no device added, no window. The orphan, with all its devices,
 * their memory and the messages queued for it, becomes this file's
 * instance; its wire generation and parameters stay, and the instance the
 * file had is dropped. The driver side then notifies every live virtqueue
 * (EVENT_AVAIL), since the dead backend may have read notifications it
 * never acted on. Errors: ENOENT (no orphan has the number), EBUSY (the
 * file has a device, a window, or adopted already), EPROTO (the file's
 * wire generation or transport features, as set with SET_PARAMS, differ
 * from the orphan's), EINVAL, E2BIG, EFAULT; ENOTTY from a kernel without
 * recovery.
 */
#define VIRTIO_MSG_LB_IOC_ADOPT \
	_IOC(_IOC_WRITE, VIRTIO_MSG_LB_IOC_MAGIC, 0x07, \
	     VIRTIO_MSG_LB_DEVICE_SIZE_VER0)

/**
 * define VIRTIO_MSG_LB_IOC_GET_DEV_STATE - where the driver left a device
 *
 * Argument: struct virtio_msg_lb_dev_state. The driver side's view of a
 * device of the instance, for a backend that adopted it: status,
 * negotiated features, number of virtqueues. Read from the driver side's
 * cache without asking the device. Errors: ENODEV (no such device on the
 * instance, or the driver side has none for it), EINVAL, E2BIG, EFAULT.
 */
#define VIRTIO_MSG_LB_IOC_GET_DEV_STATE \
	_IOC(_IOC_READ | _IOC_WRITE, VIRTIO_MSG_LB_IOC_MAGIC, 0x08, \
	     VIRTIO_MSG_LB_DEV_STATE_SIZE_VER0)

/**
 * define VIRTIO_MSG_LB_IOC_GET_QUEUE_STATE - where the rings of a queue are
 *
 * Argument: struct virtio_msg_lb_queue_state: whether the driver has
 * virtqueue @index of the device live, with its size and ring addresses.
 * Errors as VIRTIO_MSG_LB_IOC_GET_DEV_STATE.
 */
#define VIRTIO_MSG_LB_IOC_GET_QUEUE_STATE \
	_IOC(_IOC_READ | _IOC_WRITE, VIRTIO_MSG_LB_IOC_MAGIC, 0x09, \
	     VIRTIO_MSG_LB_QUEUE_STATE_SIZE_VER0)

#endif /* _UAPI_LINUX_VIRTIO_MSG_LOOPBACK_H */

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * virtio-msg device side over the loopback bus (/dev/virtio-msg-loopback).
 *
 * One struct vmsg_lb is one open instance of the character device, that
 * is one bus; it serves any number of devices built from device models.
 * Driver memory is reached with the MEM_READ/MEM_WRITE ioctls, which
 * succeed only inside what the driver currently has mapped for the
 * device. Not thread-safe: one thread runs an instance.
 */
#ifndef _VIRTIO_MSG_LOOPBACK_H
#define _VIRTIO_MSG_LOOPBACK_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include <virtio-msg/device.h>

/* Where the character device usually is. */
#define VMSG_LB_DEFAULT_PATH	"/dev/virtio-msg-loopback"

struct vmsg_lb;

/**
 * vmsg_lb_open() - open a new loopback bus instance
 * @path: character device, or NULL for VMSG_LB_DEFAULT_PATH
 *
 * Checks the ABI version and learns the maximum message size.
 *
 * Return: the instance, or NULL with errno set (EPROTO for an ABI
 * version this code does not know).
 */
struct vmsg_lb *vmsg_lb_open(const char *path);

/**
 * vmsg_lb_close() - close the instance and destroy its devices
 * @lb: instance, or NULL
 *
 * The driver side removes every device of the instance.
 */
void vmsg_lb_close(struct vmsg_lb *lb);

/**
 * vmsg_lb_fd() - file descriptor of the instance, for poll()
 * @lb: instance
 *
 * Return: the descriptor; it is non-blocking.
 */
int vmsg_lb_fd(const struct vmsg_lb *lb);

/**
 * vmsg_lb_max_msg_size() - largest message on this bus
 * @lb: instance
 *
 * Return: the size in bytes, header included.
 */
size_t vmsg_lb_max_msg_size(const struct vmsg_lb *lb);

/**
 * vmsg_lb_add_device() - create a device and offer it to the driver side
 * @lb: instance
 * @dev_num: device number, unique on @lb
 * @model: device model (see vmsg_dev_create()); its features must include
 *	VIRTIO_F_VERSION_1 and VIRTIO_F_ACCESS_PLATFORM
 * @priv: model private data
 *
 * Return: the device (owned by @lb), or NULL with errno set.
 */
struct vmsg_dev *vmsg_lb_add_device(struct vmsg_lb *lb, uint16_t dev_num,
				    const struct vmsg_dev_model *model,
				    void *priv);

/**
 * vmsg_lb_remove_device() - withdraw a device and destroy it
 * @lb: instance
 * @dev_num: device number
 *
 * Return: 0, or a negative errno (-ENOENT for an unknown number).
 */
int vmsg_lb_remove_device(struct vmsg_lb *lb, uint16_t dev_num);

/**
 * vmsg_lb_process() - handle every message waiting, without blocking
 * @lb: instance
 *
 * Each driver-to-device message goes to its device, and the response
 * (if any) is written back; bus PING requests are answered here.
 * Messages for unknown devices and malformed ones are dropped.
 *
 * Return: the number of messages read, or a negative errno if the
 * character device failed.
 */
int vmsg_lb_process(struct vmsg_lb *lb);

/**
 * vmsg_lb_run() - serve until told to stop
 * @lb: instance
 * @sigmask: signal mask to wait with (ppoll()), so that a signal blocked
 *	otherwise and delivered while waiting ends the wait; NULL keeps
 *	the current mask
 * @stop: polled before each wait; the loop returns 0 once it is nonzero
 *
 * Return: 0 when stopped, or a negative errno.
 */
int vmsg_lb_run(struct vmsg_lb *lb, const sigset_t *sigmask,
		volatile sig_atomic_t *stop);

/**
 * vmsg_lb_mem_read() - read driver memory mapped for a device
 * @lb: instance
 * @dev_num: device number
 * @addr: bus address
 * @dst: destination
 * @len: number of bytes
 *
 * Return: 0, or a negative errno from VIRTIO_MSG_LB_IOC_MEM_READ (-ENXIO
 * outside every mapping of the device, -EACCES for a mapping the device
 * may only write).
 */
int vmsg_lb_mem_read(struct vmsg_lb *lb, uint16_t dev_num, uint64_t addr,
		     void *dst, size_t len);

/**
 * vmsg_lb_mem_write() - write driver memory mapped for a device
 * @lb: instance
 * @dev_num: device number
 * @addr: bus address
 * @src: source
 * @len: number of bytes
 *
 * Return: 0, or a negative errno as vmsg_lb_mem_read() (-EACCES for a
 * mapping the device may only read).
 */
int vmsg_lb_mem_write(struct vmsg_lb *lb, uint16_t dev_num, uint64_t addr,
		      const void *src, size_t len);

#endif /* _VIRTIO_MSG_LOOPBACK_H */

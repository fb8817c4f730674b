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

#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <linux/virtio_msg.h>

#include <virtio-msg/device.h>
#include <virtio-msg/transport.h>

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
 * vmsg_lb_set_wire() - say which wire generation the instance speaks
 * @lb: instance, with no device added yet
 * @wire: VIRTIO_MSG_WIRE_V1 or VIRTIO_MSG_WIRE_V2
 * @features: transport feature bits for v2, as a mask of
 *	(1U << VIRTIO_MSG_F_*); 0 with VIRTIO_MSG_WIRE_V1
 *
 * Tells the driver side with VIRTIO_MSG_LB_IOC_SET_PARAMS; the devices
 * added afterwards speak the same generation. An instance that never
 * calls this speaks v1. A module older than SET_PARAMS speaks only v1:
 * asking it for v1 succeeds, asking it for v2 fails with
 * -EPROTONOSUPPORT.
 *
 * Return: 0, or a negative errno (-EBUSY once a device was added, -EINVAL
 * for a bad generation or feature bit, or what the ioctl returned).
 */
int vmsg_lb_set_wire(struct vmsg_lb *lb, unsigned int wire,
		     uint32_t features);

/* Bus address of the first byte of a window, unless told otherwise. */
#define VMSG_LB_DEFAULT_WINDOW_BASE	0x100000000ULL

/**
 * vmsg_lb_set_window() - serve the devices through a memory window
 * @lb: instance, with no device added yet
 * @size: bytes of the window, a multiple of 4096 from
 *	VIRTIO_MSG_LB_WINDOW_MIN to VIRTIO_MSG_LB_WINDOW_MAX
 * @base: bus address of its first byte, a multiple of 4096
 *
 * Window mode (VIRTIO_MSG_LB_IOC_SET_PARAMS with a window): the driver
 * side allocates the rings in a window of @size bytes and bounces every
 * buffer through it, and the devices see bus addresses from @base to
 * @base + @size; MEM_READ/MEM_WRITE reach nothing else. Keeps the wire
 * generation set with vmsg_lb_set_wire(), which must come first.
 *
 * Return: 0, or a negative errno (-EBUSY once a device was added or a
 * window was set, -EINVAL for a size or base out of bounds,
 * -EOPNOTSUPP when the kernel cannot confine DMA to a window, or what
 * the ioctl returned).
 */
int vmsg_lb_set_window(struct vmsg_lb *lb, uint64_t size, uint64_t base);

/**
 * vmsg_lb_set_recovery() - keep the devices for a successor if we die
 * @lb: instance, with no device added yet
 * @ms: grace period in milliseconds, at most
 *	VIRTIO_MSG_LB_RECOVERY_MAX_MS; 0 turns recovery off
 *
 * With recovery, when the instance's file goes (the process dies) while
 * it has devices, the driver side keeps the devices as they are for @ms
 * milliseconds, so that a restarted backend can take them over with
 * vmsg_lb_adopt() and complete what the dead one held; only then are they
 * removed. Keeps the wire generation and window, which may be set before
 * or after.
 *
 * Return: 0, or a negative errno (-EBUSY once a device was added,
 * -EINVAL for @ms out of range, -EOPNOTSUPP from a module without
 * recovery, or what the ioctl returned).
 */
int vmsg_lb_set_recovery(struct vmsg_lb *lb, uint32_t ms);

/**
 * vmsg_lb_adopt() - take over the devices of a dead backend
 * @lb: a fresh instance (no device added, no window), speaking the wire
 *	generation of the dead backend
 * @dev_num: one of the dead backend's device numbers
 *
 * VIRTIO_MSG_LB_IOC_ADOPT: the dead backend's devices, their memory and
 * the messages waiting for them become @lb's. Then create each device
 * with vmsg_lb_resume_device() before processing messages; the driver
 * side has sent a notification for every live queue.
 *
 * Return: 0, or a negative errno (-ENOENT when no dead backend's devices
 * wait with that number, -EPROTO for another wire generation, -EBUSY
 * when @lb has devices, -EOPNOTSUPP from a module without recovery).
 */
int vmsg_lb_adopt(struct vmsg_lb *lb, uint16_t dev_num);

/**
 * vmsg_lb_resume_device() - serve an adopted device from where it is
 * @lb: instance, after vmsg_lb_adopt()
 * @dev_num: a device number of the adopted instance
 * @model: its device model; the device ID must match
 * @priv: model private data
 * @why: set to what was wrong when NULL is returned with errno EINVAL;
 *	may be NULL
 *
 * Reads the driver side's state of the device (VIRTIO_MSG_LB_IOC_GET_DEV_STATE,
 * GET_QUEUE_STATE) and resumes the device with it (vmsg_dev_resume(),
 * whose rules apply: the model must complete the buffers of a queue in
 * order). A state the device cannot take is refused.
 *
 * Return: the device (owned by @lb), or NULL with errno set.
 */
struct vmsg_dev *vmsg_lb_resume_device(struct vmsg_lb *lb, uint16_t dev_num,
				       const struct vmsg_dev_model *model,
				       void *priv, const char **why);

/**
 * vmsg_lb_wire() - the wire generation the instance speaks
 * @lb: instance
 *
 * Return: VIRTIO_MSG_WIRE_V1 or VIRTIO_MSG_WIRE_V2.
 */
unsigned int vmsg_lb_wire(const struct vmsg_lb *lb);

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
 * vmsg_lb_unplug_device() - withdraw a device while still serving it
 * @lb: instance
 * @dev_num: device number
 *
 * An orderly removal: the driver side lets go of the device (its driver
 * completes what the device holds and resets it) while the caller goes on
 * serving it, until vmsg_lb_unplug_done() says it is over. On a kernel
 * without orderly removal this is vmsg_lb_remove_device().
 *
 * Return: 0, or a negative errno (-ENOENT for an unknown number).
 */
int vmsg_lb_unplug_device(struct vmsg_lb *lb, uint16_t dev_num);

/**
 * vmsg_lb_unplug_done() - whether the driver side let go of a device
 * @lb: instance
 * @dev_num: device number given to vmsg_lb_unplug_device()
 *
 * Once it returns true, destroy the device with vmsg_lb_remove_device(),
 * which then only frees it.
 *
 * Return: true when the number is no longer served.
 */
bool vmsg_lb_unplug_done(struct vmsg_lb *lb, uint16_t dev_num);

/**
 * vmsg_lb_process() - handle every message waiting, without blocking
 * @lb: instance
 *
 * First the messages the kernel had no room for are written (see
 * vmsg_transport_flush()); then each driver-to-device message goes to
 * its device, and the response (if any) is written back; bus PING
 * requests are answered here. Messages for unknown devices and
 * malformed ones are dropped. A loop of its own polls the file for
 * POLLOUT too while vmsg_lb_backlogged() says messages wait.
 *
 * Return: the number of messages read, or a negative errno if the
 * character device failed.
 */
int vmsg_lb_process(struct vmsg_lb *lb);

/**
 * vmsg_lb_backlogged() - whether messages wait for room in the kernel
 * @lb: instance
 *
 * Return: true while messages the kernel refused for lack of room wait
 * for the next vmsg_lb_process().
 */
bool vmsg_lb_backlogged(const struct vmsg_lb *lb);

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

/*
 * Serving from a backend program: the command line every backend shares,
 * then one call that offers its devices and serves them until SIGTERM or
 * SIGINT. These print their errors on stderr, as a program would.
 */

/* The wire generation backends speak unless told otherwise. */
#define VMSG_LB_DEFAULT_WIRE	VIRTIO_MSG_WIRE_V2

/**
 * struct vmsg_lb_args - the options every backend takes
 * @path: -d, --device PATH: the character device, NULL for
 *	VMSG_LB_DEFAULT_PATH
 * @dev_num: -n, --dev-num N: device number on the bus; the backend sets
 *	the default before parsing
 * @quiet: -q, --quiet: print nothing but errors
 * @wire: --wire v1|v2: the wire generation, VIRTIO_MSG_WIRE_*; 0 stands
 *	for VMSG_LB_DEFAULT_WIRE
 * @window: --window SIZE: window mode with a window of SIZE bytes (a K,
 *	M or G suffix multiplies by 1024, 1024^2 or 1024^3) at bus address
 *	VMSG_LB_DEFAULT_WINDOW_BASE (see vmsg_lb_set_window()); 0 for none
 * @recovery_ms: --recovery-ms MS: if the backend dies, its devices wait
 *	MS milliseconds for another to adopt them (see
 *	vmsg_lb_set_recovery()); 0 for none
 * @adopt: --adopt: take over the devices of a dead backend that had
 *	recovery, by the device numbers given, instead of offering new
 *	ones (see vmsg_lb_adopt()); the dead backend's window and recovery
 *	stay, and --window and --recovery-ms are not used
 */
struct vmsg_lb_args {
	const char *path;
	uint16_t dev_num;
	bool quiet;
	unsigned int wire;
	uint64_t window;
	uint32_t recovery_ms;
	bool adopt;
};

/**
 * vmsg_lb_parse_wire() - parse a wire generation given on the command line
 * @s: "v1" or "v2"
 * @wire: where VIRTIO_MSG_WIRE_V1 or VIRTIO_MSG_WIRE_V2 goes; left alone
 *	on failure
 *
 * Return: 0, or -EINVAL after printing why on stderr.
 */
int vmsg_lb_parse_wire(const char *s, unsigned int *wire);

/**
 * struct vmsg_lb_cmdline - a backend's own part of its command line
 * @short_opts: its short options in getopt() syntax, without a leading
 *	'+', '-' or ':'; "d:n:qh" is added for the shared ones
 * @long_opts: its long options, ended by a zeroed entry; the shared
 *	device, dev-num, quiet, wire, window and help options are added
 *	after them
 * @parse_opt: takes one of the backend's own options (@opt as getopt
 *	returns it, @arg its argument or NULL) and returns 0, or a negative
 *	number after printing why the value is bad; may be NULL if there
 *	are none
 * @usage: prints the backend's help on @f; @prog is argv[0]
 * @priv: handed to @parse_opt
 * @adoptable: the backend's models complete the buffers of each queue in
 *	the order they take them, and what they serve may be served twice
 *	(see vmsg_dev_resume()): --recovery-ms and --adopt are accepted;
 *	otherwise they are refused
 */
struct vmsg_lb_cmdline {
	const char *short_opts;
	const struct option *long_opts;
	int (*parse_opt)(int opt, const char *arg, void *priv);
	void (*usage)(FILE *f, const char *prog);
	void *priv;
	bool adoptable;
};

/**
 * vmsg_lb_parse_num() - parse a number given on the command line
 * @s: the text: decimal, 0x hexadecimal or 0 octal, nothing after it
 * @min: smallest value allowed
 * @max: largest value allowed
 * @val: where the value goes
 *
 * Return: 0, or -EINVAL for empty or malformed text and for a value out
 * of [@min, @max] (*@val is then undefined).
 */
int vmsg_lb_parse_num(const char *s, unsigned long min, unsigned long max,
		      unsigned long *val);

/**
 * vmsg_lb_parse_dev_num() - parse a device number given on the command line
 * @s: the text, as for vmsg_lb_parse_num()
 * @dev_num: where the number goes; left alone on failure
 *
 * Return: 0, or -EINVAL after printing "bad device number" on stderr.
 */
int vmsg_lb_parse_dev_num(const char *s, uint16_t *dev_num);

/**
 * vmsg_lb_parse_args() - parse a backend's command line
 * @argc: argument count, as main() has it
 * @argv: arguments, as main() has them (getopt_long() may reorder them)
 * @cmdline: the backend's own options and help
 * @args: the shared options; holds the defaults on entry
 * @exit_status: where the status for main() to return goes, when false
 *	is returned
 *
 * Options are taken in order, the shared ones into @args and the others
 * through @cmdline->parse_opt, whose letters must not be d, n, q or h.
 * --help prints the help on stdout. An unknown option, a missing option
 * argument or a non-option argument prints it on stderr. A bad value
 * stops at the message that says why.
 *
 * Return: true when the backend should go on; false when main() should
 * return *@exit_status at once (0 after --help, 2 for a bad command line,
 * 1 when memory ran out).
 */
bool vmsg_lb_parse_args(int argc, char **argv,
			const struct vmsg_lb_cmdline *cmdline,
			struct vmsg_lb_args *args, int *exit_status);

/**
 * enum vmsg_lb_serve_result - how vmsg_lb_serve() ended
 * @VMSG_LB_STOPPED: served until SIGTERM or SIGINT
 * @VMSG_LB_FAILED: served, until the character device failed
 * @VMSG_LB_NOT_SERVED: the bus could not be opened or a device could not
 *	be offered; nothing was served
 */
enum vmsg_lb_serve_result {
	VMSG_LB_STOPPED,
	VMSG_LB_FAILED,
	VMSG_LB_NOT_SERVED,
};

/**
 * vmsg_lb_serve() - offer devices on a new bus instance and serve them
 * @args: the shared options: the character device and the wire
 *	generation the instance speaks (see vmsg_lb_set_wire())
 * @devs: the devices, offered in this order
 * @nr_devs: number of @devs
 * @status: where to print "ready" once every device is offered, or NULL
 *	to print nothing
 * @hooks: the backend's own work in the loop, or NULL
 *
 * Blocks SIGTERM and SIGINT and takes them only while waiting, so that
 * no stop is missed; either one ends the serving. They stay blocked on
 * return, so that a second one cannot cut short the backend's own
 * clean-up. Then removes the devices and closes the instance. Failures
 * are printed on stderr. One call at a time per process.
 *
 * Return: how the serving ended.
 */
enum vmsg_lb_serve_result vmsg_lb_serve(const struct vmsg_lb_args *args,
					struct vmsg_serve_dev *devs,
					size_t nr_devs, FILE *status,
					const struct vmsg_serve_hooks *hooks);

#endif /* _VIRTIO_MSG_LOOPBACK_H */

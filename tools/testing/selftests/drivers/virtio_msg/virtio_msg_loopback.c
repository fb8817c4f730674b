// SPDX-License-Identifier: GPL-2.0
/*
 * The virtio-msg loopback bus character device: ioctl argument checking,
 * the message queue (read, write, poll, O_NONBLOCK), instance isolation,
 * and the memory rule: a backend reaches only what is mapped for its own
 * devices, in the mapping's direction. The last tests play a minimal
 * virtio-rng device by hand so that a real driver maps real buffers.
 */
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <linux/virtio_msg.h>
#include <linux/virtio_msg_loopback.h>

#include "../../kselftest_harness.h"
#include "virtio_msg_lb_backend.h"
#include "virtio_msg_lb_blk.h"

/* An address no access succeeds on. */
static void *bad_ptr(void)
{
	static void *p = MAP_FAILED;

	if (p == MAP_FAILED)
		p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
	return p;
}

FIXTURE(lb) {
	int fd;
};

FIXTURE_SETUP(lb)
{
	self->fd = lb_open(0);
	if (self->fd < 0)
		SKIP(return, "%s: %s (module not available?)", LB_PATH,
		     strerror(errno));
}

FIXTURE_TEARDOWN(lb)
{
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(lb, info)
{
	struct virtio_msg_lb_info info = { .size = sizeof(info) };

	ASSERT_EQ(0, ioctl(self->fd, VIRTIO_MSG_LB_IOC_GET_INFO, &info));
	EXPECT_EQ(sizeof(info), info.size);
	EXPECT_EQ((__u32)VIRTIO_MSG_LB_ABI_VERSION, info.abi_version);
	EXPECT_LE((__u32)VIRTIO_MSG_MAX_SIZE_MIN, info.max_msg_size);
	EXPECT_GE((__u32)VIRTIO_MSG_MAX_SIZE_MAX, info.max_msg_size);
	EXPECT_LT(0U, info.queue_len);
	EXPECT_LT(0U, info.max_devices);
	EXPECT_EQ(0U, info.reserved);
}

/*
 * For every ioctl: one byte short of the first version is EINVAL, a
 * larger structure with a nonzero unknown byte is E2BIG, and with zero
 * unknown bytes it is accepted (here: reaches the ioctl's own checks,
 * whose errno is @ok_errno). Every argument starts with its __u32 size.
 */
static void check_length(struct __test_metadata *_metadata, int fd,
			 unsigned long cmd, size_t ksize, uint32_t ver0,
			 int ok_errno)
{
	uint64_t words[16];
	uint8_t *buf = (uint8_t *)words;
	uint32_t size;

	ASSERT_GE(sizeof(words), ksize + 8);
	memset(words, 0, sizeof(words));

	size = ver0 - 1;
	memcpy(buf, &size, 4);
	EXPECT_EQ(-1, ioctl(fd, cmd, buf));
	EXPECT_EQ(EINVAL, errno);
	size = 4;
	memcpy(buf, &size, 4);
	EXPECT_EQ(-1, ioctl(fd, cmd, buf));
	EXPECT_EQ(EINVAL, errno);

	size = ksize + 8;
	memcpy(buf, &size, 4);
	buf[ksize + 7] = 1;
	EXPECT_EQ(-1, ioctl(fd, cmd, buf));
	EXPECT_EQ(E2BIG, errno);
	size = ksize + 1;
	memcpy(buf, &size, 4);
	buf[ksize] = 1;
	EXPECT_EQ(-1, ioctl(fd, cmd, buf));
	EXPECT_EQ(E2BIG, errno);
	size = 4096 + 8;
	memcpy(buf, &size, 4);
	EXPECT_EQ(-1, ioctl(fd, cmd, buf));
	EXPECT_EQ(E2BIG, errno);

	buf[ksize] = 0;
	buf[ksize + 7] = 0;
	size = ksize + 8;
	memcpy(buf, &size, 4);
	errno = 0;
	ioctl(fd, cmd, buf);
	EXPECT_EQ(ok_errno, errno);

	EXPECT_EQ(-1, ioctl(fd, cmd, bad_ptr()));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(lb, cmd_length)
{
	EXPECT_EQ((size_t)VIRTIO_MSG_LB_INFO_SIZE_VER0,
		  sizeof(struct virtio_msg_lb_info));
	EXPECT_EQ((size_t)VIRTIO_MSG_LB_DEVICE_SIZE_VER0,
		  sizeof(struct virtio_msg_lb_device));
	EXPECT_EQ((size_t)VIRTIO_MSG_LB_MEM_SIZE_VER0,
		  sizeof(struct virtio_msg_lb_mem));

	check_length(_metadata, self->fd, VIRTIO_MSG_LB_IOC_GET_INFO,
		     sizeof(struct virtio_msg_lb_info),
		     VIRTIO_MSG_LB_INFO_SIZE_VER0, 0);
	EXPECT_EQ((size_t)VIRTIO_MSG_LB_DEV_STATE_SIZE_VER0,
		  sizeof(struct virtio_msg_lb_dev_state));
	EXPECT_EQ((size_t)VIRTIO_MSG_LB_QUEUE_STATE_SIZE_VER0,
		  sizeof(struct virtio_msg_lb_queue_state));
	/* Zeroed: dev_num 0 is no device of the file, nor of an orphan. */
	check_length(_metadata, self->fd, VIRTIO_MSG_LB_IOC_GET_DEV_STATE,
		     sizeof(struct virtio_msg_lb_dev_state),
		     VIRTIO_MSG_LB_DEV_STATE_SIZE_VER0, ENODEV);
	check_length(_metadata, self->fd, VIRTIO_MSG_LB_IOC_GET_QUEUE_STATE,
		     sizeof(struct virtio_msg_lb_queue_state),
		     VIRTIO_MSG_LB_QUEUE_STATE_SIZE_VER0, ENODEV);
	check_length(_metadata, self->fd, VIRTIO_MSG_LB_IOC_ADOPT,
		     sizeof(struct virtio_msg_lb_device),
		     VIRTIO_MSG_LB_DEVICE_SIZE_VER0, ENOENT);
	/* Zeroed: remove dev_num 0 (absent), then add it (works). */
	check_length(_metadata, self->fd, VIRTIO_MSG_LB_IOC_REMOVE_DEVICE,
		     sizeof(struct virtio_msg_lb_device),
		     VIRTIO_MSG_LB_DEVICE_SIZE_VER0, ENOENT);
	check_length(_metadata, self->fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE,
		     sizeof(struct virtio_msg_lb_device),
		     VIRTIO_MSG_LB_DEVICE_SIZE_VER0, 0);
	/* Zeroed: len 0. */
	check_length(_metadata, self->fd, VIRTIO_MSG_LB_IOC_MEM_READ,
		     sizeof(struct virtio_msg_lb_mem),
		     VIRTIO_MSG_LB_MEM_SIZE_VER0, EINVAL);
	check_length(_metadata, self->fd, VIRTIO_MSG_LB_IOC_MEM_WRITE,
		     sizeof(struct virtio_msg_lb_mem),
		     VIRTIO_MSG_LB_MEM_SIZE_VER0, EINVAL);

	EXPECT_EQ(-1, ioctl(self->fd, _IO(VIRTIO_MSG_LB_IOC_MAGIC, 0x7f), 0));
	EXPECT_EQ(ENOTTY, errno);
}

TEST_F(lb, reserved)
{
	struct virtio_msg_lb_info info = { .size = sizeof(info), .reserved = 1 };
	struct virtio_msg_lb_device d = { .size = sizeof(d), .dev_num = 1 };
	struct virtio_msg_lb_mem m = { .size = sizeof(m), .len = 1 };
	char byte;

	EXPECT_EQ(-1, ioctl(self->fd, VIRTIO_MSG_LB_IOC_GET_INFO, &info));
	EXPECT_EQ(EINVAL, errno);

	d.reserved = 1;
	EXPECT_EQ(-1, ioctl(self->fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE, &d));
	EXPECT_EQ(EINVAL, errno);
	d.reserved = 0;
	d.flags = 1;
	EXPECT_EQ(-1, ioctl(self->fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE, &d));
	EXPECT_EQ(EINVAL, errno);
	d.flags = 0x80000000;
	EXPECT_EQ(-1, ioctl(self->fd, VIRTIO_MSG_LB_IOC_REMOVE_DEVICE, &d));
	EXPECT_EQ(EINVAL, errno);

	m.buf = (uintptr_t)&byte;
	m.reserved = 1;
	EXPECT_EQ(-1, ioctl(self->fd, VIRTIO_MSG_LB_IOC_MEM_READ, &m));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->fd, VIRTIO_MSG_LB_IOC_MEM_WRITE, &m));
	EXPECT_EQ(EINVAL, errno);
}

/*
 * SET_PARAMS: checked, repeatable before the first ADD_DEVICE, EBUSY from
 * then on, even once the device is removed.
 */
TEST_F(lb, set_params)
{
	struct virtio_msg_lb_params p = { .size = sizeof(p) };

	EXPECT_EQ((size_t)VIRTIO_MSG_LB_PARAMS_SIZE_VER2, sizeof(p));
	/* Zeroed: wire 0 is no generation. */
	check_length(_metadata, self->fd, VIRTIO_MSG_LB_IOC_SET_PARAMS,
		     sizeof(p), VIRTIO_MSG_LB_PARAMS_SIZE_VER0, EINVAL);

	p.wire = 3;
	EXPECT_EQ(-1, ioctl(self->fd, VIRTIO_MSG_LB_IOC_SET_PARAMS, &p));
	EXPECT_EQ(EINVAL, errno);
	p.wire = VIRTIO_MSG_WIRE_V2;
	p.reserved = 1;
	EXPECT_EQ(-1, ioctl(self->fd, VIRTIO_MSG_LB_IOC_SET_PARAMS, &p));
	EXPECT_EQ(EINVAL, errno);
	p.reserved = 0;
	p.features = 1U << 5;
	EXPECT_EQ(-1, ioctl(self->fd, VIRTIO_MSG_LB_IOC_SET_PARAMS, &p));
	EXPECT_EQ(EINVAL, errno);
	p.wire = VIRTIO_MSG_WIRE_V1;
	p.features = 1U << VIRTIO_MSG_F_STRICT_CONFIG_GENERATION;
	EXPECT_EQ(-1, ioctl(self->fd, VIRTIO_MSG_LB_IOC_SET_PARAMS, &p));
	EXPECT_EQ(EINVAL, errno);

	p.wire = VIRTIO_MSG_WIRE_V2;
	EXPECT_EQ(0, ioctl(self->fd, VIRTIO_MSG_LB_IOC_SET_PARAMS, &p));
	p.features = 0;
	EXPECT_EQ(0, ioctl(self->fd, VIRTIO_MSG_LB_IOC_SET_PARAMS, &p));
	/* Recovery: bounded, with its reserved word zero. */
	p.recovery_ms = VIRTIO_MSG_LB_RECOVERY_MAX_MS + 1;
	EXPECT_EQ(-1, ioctl(self->fd, VIRTIO_MSG_LB_IOC_SET_PARAMS, &p));
	EXPECT_EQ(EINVAL, errno);
	p.recovery_ms = VIRTIO_MSG_LB_RECOVERY_MAX_MS;
	p.reserved2 = 1;
	EXPECT_EQ(-1, ioctl(self->fd, VIRTIO_MSG_LB_IOC_SET_PARAMS, &p));
	EXPECT_EQ(EINVAL, errno);
	p.reserved2 = 0;
	EXPECT_EQ(0, ioctl(self->fd, VIRTIO_MSG_LB_IOC_SET_PARAMS, &p));
	p.recovery_ms = 0;
	EXPECT_EQ(0, ioctl(self->fd, VIRTIO_MSG_LB_IOC_SET_PARAMS, &p));

	ASSERT_EQ(0, lb_dev(self->fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE, 3));
	EXPECT_EQ(-1, ioctl(self->fd, VIRTIO_MSG_LB_IOC_SET_PARAMS, &p));
	EXPECT_EQ(EBUSY, errno);
	ASSERT_EQ(0, lb_dev(self->fd, VIRTIO_MSG_LB_IOC_REMOVE_DEVICE, 3));
	p.wire = VIRTIO_MSG_WIRE_V1;
	EXPECT_EQ(-1, ioctl(self->fd, VIRTIO_MSG_LB_IOC_SET_PARAMS, &p));
	EXPECT_EQ(EBUSY, errno);
}

TEST_F(lb, add_remove)
{
	struct virtio_msg_lb_info info = { .size = sizeof(info) };
	uint32_t i;

	EXPECT_EQ(-1, lb_dev(self->fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE, 0x10000));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, lb_dev(self->fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE,
			     0xffffffff));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, lb_dev(self->fd, VIRTIO_MSG_LB_IOC_REMOVE_DEVICE,
			     0x10000));
	EXPECT_EQ(EINVAL, errno);

	EXPECT_EQ(-1, lb_dev(self->fd, VIRTIO_MSG_LB_IOC_REMOVE_DEVICE, 5));
	EXPECT_EQ(ENOENT, errno);
	ASSERT_EQ(0, lb_dev(self->fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE, 5));
	EXPECT_EQ(-1, lb_dev(self->fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE, 5));
	EXPECT_EQ(EEXIST, errno);
	EXPECT_EQ(0, lb_dev(self->fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE, 0xffff));
	EXPECT_EQ(0, lb_dev(self->fd, VIRTIO_MSG_LB_IOC_REMOVE_DEVICE, 5));
	EXPECT_EQ(-1, lb_dev(self->fd, VIRTIO_MSG_LB_IOC_REMOVE_DEVICE, 5));
	EXPECT_EQ(ENOENT, errno);
	/* The number is free again. */
	EXPECT_EQ(0, lb_dev(self->fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE, 5));

	/* The limit holds: 5 and 0xffff are in, fill up the rest. */
	ASSERT_EQ(0, ioctl(self->fd, VIRTIO_MSG_LB_IOC_GET_INFO, &info));
	for (i = 0; i < info.max_devices - 2; i++)
		ASSERT_EQ(0, lb_dev(self->fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE,
				    1000 + i));
	EXPECT_EQ(-1, lb_dev(self->fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE, 6));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(0, lb_dev(self->fd, VIRTIO_MSG_LB_IOC_REMOVE_DEVICE, 1000));
	EXPECT_EQ(0, lb_dev(self->fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE, 6));
}

/*
 * GET_DEVICE and the orderly flag of REMOVE_DEVICE: flags checked, an
 * added number is served, an orderly removal ends by itself (here no
 * driver ever got the device, so nothing holds it for long).
 */
TEST_F_TIMEOUT(lb, orderly_remove, 60)
{
	struct virtio_msg_lb_device d = { .size = sizeof(d), .dev_num = 7 };
	long end;
	int ret;

	EXPECT_EQ(-1, ioctl(self->fd, VIRTIO_MSG_LB_IOC_GET_DEVICE, &d));
	EXPECT_EQ(ENOENT, errno);
	ASSERT_EQ(0, lb_dev(self->fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE, 7));
	d.flags = 0;
	ASSERT_EQ(0, ioctl(self->fd, VIRTIO_MSG_LB_IOC_GET_DEVICE, &d));
	EXPECT_EQ(0U, d.flags);
	d.flags = VIRTIO_MSG_LB_DEVICE_LEAVING;
	EXPECT_EQ(-1, ioctl(self->fd, VIRTIO_MSG_LB_IOC_GET_DEVICE, &d));
	EXPECT_EQ(EINVAL, errno);
	d.flags = VIRTIO_MSG_LB_REMOVE_ORDERLY << 1;
	EXPECT_EQ(-1, ioctl(self->fd, VIRTIO_MSG_LB_IOC_REMOVE_DEVICE, &d));
	EXPECT_EQ(EINVAL, errno);

	d.flags = VIRTIO_MSG_LB_REMOVE_ORDERLY;
	ASSERT_EQ(0, ioctl(self->fd, VIRTIO_MSG_LB_IOC_REMOVE_DEVICE, &d));
	/* Again while it may still be leaving: nothing changes. */
	d.flags = VIRTIO_MSG_LB_REMOVE_ORDERLY;
	ret = ioctl(self->fd, VIRTIO_MSG_LB_IOC_REMOVE_DEVICE, &d);
	EXPECT_TRUE(!ret || errno == ENOENT);
	end = lb_now_ms() + 30000;
	do {
		d.flags = 0;
		ret = ioctl(self->fd, VIRTIO_MSG_LB_IOC_GET_DEVICE, &d);
		if (ret)
			break;
		EXPECT_EQ((__u32)VIRTIO_MSG_LB_DEVICE_LEAVING, d.flags);
		usleep(50 * 1000);
	} while (lb_now_ms() < end);
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(ENOENT, errno);
	/* The number is free again. */
	EXPECT_EQ(0, lb_dev(self->fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE, 7));
}

TEST_F(lb, nonblock_and_poll)
{
	struct pollfd pfd = { .events = POLLIN | POLLOUT };
	char buf[MSG_MAX];
	int fd;

	fd = lb_open(O_NONBLOCK);
	ASSERT_LE(0, fd);
	/* Nothing is queued on an instance without devices. */
	EXPECT_EQ(-1, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(EAGAIN, errno);
	pfd.fd = fd;
	EXPECT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_EQ(POLLOUT, pfd.revents);

	/* fcntl() switches an instance to non-blocking too. */
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, O_NONBLOCK));
	EXPECT_EQ(-1, read(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(EAGAIN, errno);
	close(fd);
}

/* A new device makes the driver side ask for GET_DEVICE_INFO. */
TEST_F(lb, read_message)
{
	struct virtio_msg_lb_info info = { .size = sizeof(info) };
	struct virtio_msg_hdr hdr;
	struct pollfd pfd = { .fd = self->fd, .events = POLLIN };
	char buf[MSG_MAX];
	ssize_t n;

	ASSERT_EQ(0, ioctl(self->fd, VIRTIO_MSG_LB_IOC_GET_INFO, &info));
	ASSERT_EQ(0, lb_dev(self->fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE, 3));
	ASSERT_EQ(1, poll(&pfd, 1, 10000));
	EXPECT_EQ(POLLIN, pfd.revents & POLLIN);

	/* Too small: refused, and the message stays queued. */
	EXPECT_EQ(-1, read(self->fd, buf, sizeof(hdr) - 1));
	EXPECT_EQ(EMSGSIZE, errno);
	EXPECT_EQ(-1, read(self->fd, bad_ptr(), info.max_msg_size));
	EXPECT_EQ(EFAULT, errno);

	n = read(self->fd, buf, info.max_msg_size);
	ASSERT_LE((ssize_t)sizeof(hdr), n);
	memcpy(&hdr, buf, sizeof(hdr));
	EXPECT_EQ(n, le16toh(hdr.msg_size));
	EXPECT_EQ(0, hdr.type);
	EXPECT_EQ(VIRTIO_MSG_GET_DEVICE_INFO, hdr.msg_id);
	EXPECT_EQ(3, le16toh(hdr.dev_num));
}

TEST_F(lb, write_checks)
{
	struct virtio_msg_lb_info info = { .size = sizeof(info) };
	struct virtio_msg_hdr hdr = {
		.type = VIRTIO_MSG_TYPE_RESPONSE,
		.msg_id = VIRTIO_MSG_GET_DEVICE_STATUS,
		.dev_num = htole16(9),
		.msg_size = htole16(sizeof(hdr)),
	};
	char buf[MSG_MAX];

	ASSERT_EQ(0, ioctl(self->fd, VIRTIO_MSG_LB_IOC_GET_INFO, &info));
	/* No such device on this instance. */
	EXPECT_EQ(-1, write(self->fd, &hdr, sizeof(hdr)));
	EXPECT_EQ(ENODEV, errno);
	ASSERT_EQ(0, lb_dev(self->fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE, 9));

	EXPECT_EQ(-1, write(self->fd, &hdr, sizeof(hdr) - 1));
	EXPECT_EQ(EINVAL, errno);
	memset(buf, 0, sizeof(buf));
	memcpy(buf, &hdr, sizeof(hdr));
	EXPECT_EQ(-1, write(self->fd, buf, info.max_msg_size + 1));
	EXPECT_EQ(EMSGSIZE, errno);
	/* msg_size must be the write size. */
	EXPECT_EQ(-1, write(self->fd, buf, sizeof(hdr) + 4));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, write(self->fd, bad_ptr(), sizeof(hdr)));
	EXPECT_EQ(EFAULT, errno);

	/* A device does not send transport requests... */
	hdr.type = 0;
	EXPECT_EQ(-1, write(self->fd, &hdr, sizeof(hdr)));
	EXPECT_EQ(EINVAL, errno);
	/* ...nor bus requests. */
	hdr.type = VIRTIO_MSG_TYPE_BUS;
	hdr.msg_id = VIRTIO_MSG_BUS_PING;
	hdr.dev_num = 0;
	EXPECT_EQ(-1, write(self->fd, &hdr, sizeof(hdr)));
	EXPECT_EQ(EINVAL, errno);

	/* Well formed: accepted, the driver side drops what it did not ask. */
	hdr.type = VIRTIO_MSG_TYPE_RESPONSE;
	hdr.msg_id = VIRTIO_MSG_GET_DEVICE_STATUS;
	hdr.dev_num = htole16(9);
	EXPECT_EQ((ssize_t)sizeof(hdr), write(self->fd, &hdr, sizeof(hdr)));
}

TEST_F(lb, mem_unmapped)
{
	char buf[64];

	/* No device. */
	EXPECT_EQ(-1, lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_READ, 2, 0x100000,
			     buf, 8));
	EXPECT_EQ(ENODEV, errno);
	EXPECT_EQ(-1, lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_READ, 0x10000,
			     0x100000, buf, 8));
	EXPECT_EQ(EINVAL, errno);

	ASSERT_EQ(0, lb_dev(self->fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE, 2));
	EXPECT_EQ(-1, lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_READ, 2, 0, buf, 8));
	EXPECT_EQ(ENXIO, errno);
	/* Kernel-looking addresses are not addresses on this bus. */
	EXPECT_EQ(-1, lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_READ, 2,
			     0xffff888000000000ULL, buf, sizeof(buf)));
	EXPECT_EQ(ENXIO, errno);
	EXPECT_EQ(-1, lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_WRITE, 2,
			     0x1000, buf, sizeof(buf)));
	EXPECT_EQ(ENXIO, errno);
	/* Empty and wrapping ranges. */
	EXPECT_EQ(-1, lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_READ, 2, 0x100000,
			     buf, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_READ, 2,
			     UINT64_MAX - 3, buf, 8));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(lb, instances_isolated)
{
	char buf[8];
	int other;

	other = lb_open(0);
	ASSERT_LE(0, other);
	ASSERT_EQ(0, lb_dev(self->fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE, 4));
	/* The other instance does not see device 4 of this one... */
	EXPECT_EQ(-1, lb_dev(other, VIRTIO_MSG_LB_IOC_REMOVE_DEVICE, 4));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-1, lb_mem(other, VIRTIO_MSG_LB_IOC_MEM_READ, 4, 0x100000,
			     buf, sizeof(buf)));
	EXPECT_EQ(ENODEV, errno);
	/* ...and may use the same number for its own device. */
	EXPECT_EQ(0, lb_dev(other, VIRTIO_MSG_LB_IOC_ADD_DEVICE, 4));
	close(other);
	EXPECT_EQ(0, lb_dev(self->fd, VIRTIO_MSG_LB_IOC_REMOVE_DEVICE, 4));
}

/* waitpid() for at most ten seconds; -1 (and the child killed) if not. */
static int wait_child(pid_t pid, int *status)
{
	long end = time(NULL) + 10;

	do {
		if (waitpid(pid, status, WNOHANG) == pid)
			return 0;
		usleep(10000);
	} while (time(NULL) < end);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -1;
}

/* GET_DEV_STATE and GET_QUEUE_STATE of @dev_num match what @rng saw. */
static void check_state(struct __test_metadata *_metadata, int fd,
			const struct mini_rng *rng, uint32_t dev_num)
{
	struct virtio_msg_lb_dev_state d = { .size = sizeof(d),
					     .dev_num = dev_num };
	struct virtio_msg_lb_queue_state q = { .size = sizeof(q),
					       .dev_num = dev_num };

	ASSERT_EQ(0, ioctl(fd, VIRTIO_MSG_LB_IOC_GET_DEV_STATE, &d));
	EXPECT_EQ((uint32_t)VIRTIO_ID_RNG, d.device_id);
	EXPECT_EQ(rng->dev_status[0], d.status);
	EXPECT_TRUE(!!(d.status & STATUS_DRIVER_OK));
	EXPECT_EQ(0U, d.flags);
	EXPECT_EQ(1U, d.num_queues);
	/* What the device offered: VERSION_1 and ACCESS_PLATFORM. */
	EXPECT_EQ((unsigned long long)(F_VERSION_1 | F_ACCESS_PLATFORM) << 32,
		  d.driver_features[0]);
	EXPECT_EQ(0ULL, d.driver_features[1]);

	ASSERT_EQ(0, ioctl(fd, VIRTIO_MSG_LB_IOC_GET_QUEUE_STATE, &q));
	EXPECT_EQ((uint32_t)VIRTIO_MSG_LB_QUEUE_ENABLED, q.flags);
	EXPECT_EQ(rng->qsize, q.queue_size);
	EXPECT_EQ(rng->desc, q.desc_addr);
	EXPECT_EQ(rng->avail, q.driver_addr);
	EXPECT_EQ(rng->used, q.device_addr);
	q = (struct virtio_msg_lb_queue_state){ .size = sizeof(q),
						.dev_num = dev_num,
						.index = 1 };
	ASSERT_EQ(0, ioctl(fd, VIRTIO_MSG_LB_IOC_GET_QUEUE_STATE, &q));
	EXPECT_EQ(0U, q.flags);
	EXPECT_EQ(0U, q.queue_size);
	EXPECT_EQ(0ULL, q.desc_addr);
}

/*
 * Recovery at the ABI level: a device side with recovery whose file goes
 * leaves its device to a new file, which adopts it, finds the state the
 * driver set up (the rings where SET_VQUEUE put them) and is told to look
 * at the live queue, whose buffer the driver still waits for.
 */
TEST_F_TIMEOUT(lb, adopt_state, 60)
{
	struct virtio_msg_lb_params p = {
		.size = sizeof(p),
		.wire = VIRTIO_MSG_WIRE_V1,
		.recovery_ms = 10000,
	};
	struct mini_rng rng = { .fd = self->fd, .dev_num = 40 };
	struct virtio_msg_hdr hdr;
	uint8_t msg[MSG_MAX];
	bool kicked = false;
	long end;
	int fd, n;

	ASSERT_EQ(0, ioctl(self->fd, VIRTIO_MSG_LB_IOC_SET_PARAMS, &p));
	ASSERT_EQ(0, lb_dev(self->fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE, 40));
	ASSERT_TRUE(mini_rng_until_kick(&rng, 20000))
		TH_LOG("the driver side did not start the device");
	check_state(_metadata, self->fd, &rng, 40);

	/* The device side goes; its device waits for another. */
	close(self->fd);
	self->fd = lb_open(0);
	ASSERT_LE(0, self->fd);
	fd = self->fd;
	ASSERT_EQ(0, lb_dev(fd, VIRTIO_MSG_LB_IOC_ADOPT, 40))
		TH_LOG("ADOPT: %s", strerror(errno));
	check_state(_metadata, fd, &rng, 40);
	/* The instance came with its parameters: no second SET_PARAMS. */
	EXPECT_EQ(-1, ioctl(fd, VIRTIO_MSG_LB_IOC_SET_PARAMS, &p));
	EXPECT_EQ(EBUSY, errno);

	/* The driver kicked once, before: this one is the adoption's. */
	end = lb_now_ms() + 5000;
	while (!kicked && lb_now_ms() < end) {
		n = lb_recv(fd, msg, sizeof(msg), 200);
		if (n < (int)sizeof(hdr) + 4)
			continue;
		memcpy(&hdr, msg, sizeof(hdr));
		kicked = !(hdr.type & VIRTIO_MSG_TYPE_BUS) &&
			 hdr.msg_id == VIRTIO_MSG_EVENT_AVAIL &&
			 le16toh(hdr.dev_num) == 40 &&
			 get_le32(msg + sizeof(hdr)) == 0;
	}
	EXPECT_TRUE(kicked) TH_LOG("no EVENT_AVAIL for the live queue");

	/* Gone for good: no orphan is left behind for the next tests. */
	EXPECT_EQ(0, lb_dev(fd, VIRTIO_MSG_LB_IOC_REMOVE_DEVICE, 40));
}

TEST_F_TIMEOUT(lb, mem_isolation, 60)
{
	struct mini_rng rng = { .fd = self->fd, .dev_num = 7 };
	uint8_t desc[16], buf[64], ring[4];
	uint64_t buf_addr;
	uint32_t buf_len, used_size;
	uint8_t ev[12] = { 0, VIRTIO_MSG_EVENT_USED, 7, 0, 0, 0, 12, 0 };
	uint16_t avail_idx, used_idx, head, flags;
	uint8_t used[8];
	int other, i;

	ASSERT_EQ(0, lb_dev(self->fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE, 7));
	/* A second device of the same instance, and another instance. */
	ASSERT_EQ(0, lb_dev(self->fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE, 8));
	other = lb_open(0);
	ASSERT_LE(0, other);
	ASSERT_EQ(0, lb_dev(other, VIRTIO_MSG_LB_IOC_ADD_DEVICE, 7));

	ASSERT_TRUE(mini_rng_until_kick(&rng, 20000))
		TH_LOG("the driver side did not start the device");

	/* The rings are readable; the device writes only the used ring. */
	EXPECT_EQ(0, lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_READ, 7, rng.desc,
			    desc, sizeof(desc)));
	EXPECT_EQ(0, lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_READ, 7,
			    rng.avail, ring, sizeof(ring)));
	EXPECT_EQ(0, lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_READ, 7, rng.used,
			    buf, 4));
	EXPECT_EQ(-1, lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_WRITE, 7,
			     rng.desc, desc, sizeof(desc)));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(-1, lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_WRITE, 7,
			     rng.desc + 16 * rng.qsize - 1, desc, 1));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(-1, lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_WRITE, 7,
			     rng.avail, ring, sizeof(ring)));
	EXPECT_EQ(EACCES, errno);
	/* The avail ring ends with used_event; the padding after it is free. */
	if (rng.used > rng.avail + 6 + 2 * rng.qsize) {
		EXPECT_EQ(0, lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_WRITE, 7,
				    rng.avail + 6 + 2 * rng.qsize, ring, 1));
	}
	EXPECT_EQ(-1, lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_WRITE, 7,
			     rng.avail + 4 + 2 * rng.qsize, ring, 2));
	EXPECT_EQ(EACCES, errno);
	EXPECT_EQ(0, lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_WRITE, 7, rng.used,
			    buf, 4));
	/* Not one byte before the ring. */
	EXPECT_EQ(-1, lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_READ, 7,
			     rng.desc - 1, desc, 1));
	EXPECT_EQ(ENXIO, errno);
	EXPECT_EQ(-1, lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_READ, 7,
			     rng.desc - 1, desc, 2));
	EXPECT_EQ(ENXIO, errno);
	/* Nor after the used ring (flags, idx, ring, avail_event). */
	used_size = 6 + 8 * rng.qsize;
	EXPECT_EQ(-1, lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_READ, 7,
			     rng.used + used_size, buf, 1));
	EXPECT_EQ(ENXIO, errno);
	/* Only for that device, and only on that instance. */
	EXPECT_EQ(-1, lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_READ, 8, rng.desc,
			     desc, sizeof(desc)));
	EXPECT_EQ(ENXIO, errno);
	EXPECT_EQ(-1, lb_mem(other, VIRTIO_MSG_LB_IOC_MEM_READ, 7, rng.desc,
			     desc, sizeof(desc)));
	EXPECT_EQ(ENXIO, errno);

	/* The posted buffer: avail ring entry 0 names its descriptor. */
	memcpy(&avail_idx, ring + 2, 2);
	ASSERT_LT(0, le16toh(avail_idx));
	ASSERT_EQ(0, lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_READ, 7,
			    rng.avail + 4, &head, 2));
	head = le16toh(head);
	ASSERT_GT(rng.qsize, head);
	ASSERT_EQ(0, lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_READ, 7,
			    rng.desc + 16 * head, desc, sizeof(desc)));
	buf_addr = get_le64(desc);
	buf_len = get_le32(desc + 8);
	memcpy(&flags, desc + 12, 2);
	ASSERT_EQ(VRING_DESC_F_WRITE, le16toh(flags) & VRING_DESC_F_WRITE);
	ASSERT_LT(0U, buf_len);
	if (buf_len > sizeof(buf))
		buf_len = sizeof(buf);

	/* Mapped from the device: the backend may write, not read. */
	EXPECT_EQ(-1, lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_READ, 7, buf_addr,
			     buf, buf_len));
	EXPECT_EQ(EACCES, errno);
	memset(buf, 0x5a, sizeof(buf));
	EXPECT_EQ(0, lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_WRITE, 7, buf_addr,
			    buf, buf_len));
	EXPECT_EQ(-1, lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_WRITE, 7,
			     buf_addr + get_le32(desc + 8) - 1, buf, 2));
	EXPECT_EQ(ENXIO, errno);
	EXPECT_EQ(-1, lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_WRITE, 8, buf_addr,
			     buf, buf_len));
	EXPECT_EQ(ENXIO, errno);
	/* A bad user buffer is the caller's fault, after the checks. */
	EXPECT_EQ(-1, lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_WRITE, 7, buf_addr,
			     bad_ptr(), buf_len));
	EXPECT_EQ(EFAULT, errno);

	/*
	 * Complete the buffer: used ring entry 0, used index 1, EVENT_USED.
	 * The driver takes it back and unmaps it, and from then on the
	 * address is dead for good, even though the driver posts the same
	 * memory again.
	 */
	put_le32(used, head);
	put_le32(used + 4, buf_len);
	ASSERT_EQ(0, lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_WRITE, 7,
			    rng.used + 4, used, sizeof(used)));
	used_idx = htole16(1);
	ASSERT_EQ(0, lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_WRITE, 7,
			    rng.used + 2, &used_idx, sizeof(used_idx)));
	ASSERT_EQ((ssize_t)sizeof(ev), write(self->fd, ev, sizeof(ev)));
	for (i = 0; i < 100; i++) {
		if (lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_WRITE, 7, buf_addr,
			   buf, buf_len))
			break;
		usleep(20000);
	}
	EXPECT_EQ(ENXIO, errno);
	EXPECT_EQ(-1, lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_WRITE, 7, buf_addr,
			     buf, 1));
	EXPECT_EQ(ENXIO, errno);
	close(other);
}

/*
 * State shared (MAP_SHARED) between the device, the hostile prober and the
 * reader; always accessed with the atomic helpers below.
 */
struct race_state {
	uint64_t buf_addr;	/* the buffer being completed */
	int stop;
	unsigned long reads;	/* /dev/hwrng reads that returned */
	unsigned long hits;	/* prober writes that landed */
	int bad_errno;		/* an errno the rules do not allow */
};

#define LOAD(x)		__atomic_load_n(&(x), __ATOMIC_RELAXED)
#define STORE(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#define INC(x)		__atomic_fetch_add(&(x), 1, __ATOMIC_RELAXED)

/*
 * A backend that keeps touching buffers while the driver maps and unmaps
 * them: every access either works or fails cleanly (ENXIO once unmapped,
 * EACCES for reads of a buffer the device may only write), and nothing
 * goes wrong in the kernel (KASAN, lockdep) meanwhile.
 */
TEST_F_TIMEOUT(lb, mem_vs_unmap, 90)
{
	struct mini_rng rng = { .fd = self->fd, .dev_num = 12 };
	uint8_t ev[12] = { 0, VIRTIO_MSG_EVENT_USED, 12, 0, 0, 0, 12, 0 };
	uint16_t last_avail = 0, used_idx = 0, avail_idx, head;
	uint8_t data[64], desc[16], used[8];
	unsigned long completions = 0;
	struct race_state *st;
	pid_t prober, reader;
	uint32_t len;
	int fd, status;
	long end;

	st = mmap(NULL, sizeof(*st), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, st);
	ASSERT_EQ(0, lb_dev(self->fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE, 12));
	ASSERT_TRUE(mini_rng_until_kick(&rng, 20000))
		TH_LOG("the driver side did not start the device");

	reader = fork();
	ASSERT_LE(0, reader);
	if (!reader) {
		fd = open("/dev/hwrng", O_RDONLY | O_CLOEXEC);
		while (fd >= 0 && !LOAD(st->stop))
			if (read(fd, data, 32) > 0)
				INC(st->reads);
		_exit(0);
	}
	prober = fork();
	ASSERT_LE(0, prober);
	if (!prober) {
		while (!LOAD(st->stop)) {
			uint64_t a = LOAD(st->buf_addr);

			if (!lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_WRITE, 12, a,
				    data, 16))
				INC(st->hits);
			else if (errno != ENXIO)
				STORE(st->bad_errno, errno);
			if (!lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_READ, 12, a,
				    data, 16))
				STORE(st->bad_errno, -1);
			else if (errno != ENXIO && errno != EACCES)
				STORE(st->bad_errno, errno);
		}
		_exit(0);
	}

	/* Complete every buffer the driver posts, for three seconds. */
	memset(data, 0xa5, sizeof(data));
	end = time(NULL) + 3;
	while (time(NULL) < end) {
		if (mini_rng_serve(&rng, 20) && errno != ETIMEDOUT)
			break;
		if (lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_READ, 12,
			   rng.avail + 2, &avail_idx, 2))
			break;
		while (last_avail != le16toh(avail_idx)) {
			ASSERT_EQ(0, lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_READ,
					    12, rng.avail + 4 +
					    2 * (last_avail % rng.qsize),
					    &head, 2));
			head = le16toh(head) % rng.qsize;
			ASSERT_EQ(0, lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_READ,
					    12, rng.desc + 16 * head, desc,
					    sizeof(desc)));
			len = get_le32(desc + 8);
			if (len > sizeof(data))
				len = sizeof(data);
			STORE(st->buf_addr, get_le64(desc));
			/* Still mapped: the driver waits for this buffer. */
			EXPECT_EQ(0, lb_mem(self->fd,
					    VIRTIO_MSG_LB_IOC_MEM_WRITE, 12,
					    get_le64(desc), data, len));
			put_le32(used, head);
			put_le32(used + 4, len);
			ASSERT_EQ(0, lb_mem(self->fd,
					    VIRTIO_MSG_LB_IOC_MEM_WRITE, 12,
					    rng.used + 4 +
					    8 * (used_idx % rng.qsize),
					    used, sizeof(used)));
			used_idx++;
			head = htole16(used_idx);
			ASSERT_EQ(0, lb_mem(self->fd,
					    VIRTIO_MSG_LB_IOC_MEM_WRITE, 12,
					    rng.used + 2, &head, 2));
			ASSERT_EQ((ssize_t)sizeof(ev), write(self->fd, ev, sizeof(ev)));
			last_avail++;
			completions++;
		}
	}
	STORE(st->stop, 1);
	EXPECT_EQ(0, wait_child(prober, &status));
	/* The reader may be waiting for a buffer nobody completes now. */
	kill(reader, SIGKILL);
	waitpid(reader, NULL, 0);

	EXPECT_LT(10UL, completions);
	EXPECT_LT(0UL, LOAD(st->reads));
	EXPECT_EQ(0, LOAD(st->bad_errno));
	TH_LOG("%lu buffers completed, %lu reads, %lu stray writes landed",
	       completions, LOAD(st->reads), LOAD(st->hits));
	munmap(st, sizeof(*st));
}

/* Removing a device revokes the backend's access at once. */
TEST_F_TIMEOUT(lb, mem_after_remove, 60)
{
	struct mini_rng rng = { .fd = self->fd, .dev_num = 11 };
	uint8_t desc[16];

	ASSERT_EQ(0, lb_dev(self->fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE, 11));
	ASSERT_TRUE(mini_rng_until_kick(&rng, 20000))
		TH_LOG("the driver side did not start the device");
	ASSERT_EQ(0, lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_READ, 11, rng.desc,
			    desc, sizeof(desc)));
	ASSERT_EQ(0, lb_dev(self->fd, VIRTIO_MSG_LB_IOC_REMOVE_DEVICE, 11));
	EXPECT_EQ(-1, lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_READ, 11, rng.desc,
			     desc, sizeof(desc)));
	EXPECT_EQ(ENODEV, errno);
	/* Re-adding the number gives a fresh device with nothing mapped. */
	ASSERT_EQ(0, lb_dev(self->fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE, 11));
	EXPECT_EQ(-1, lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_READ, 11, rng.desc,
			     desc, sizeof(desc)));
	EXPECT_EQ(ENXIO, errno);
}

/*
 * Serve @rng until the driver side sends GET_DEVICE_INFO for @dev_num, and
 * leave it unanswered: the driver side's worker then waits for it, and
 * handles no device removal meanwhile. False if it never comes.
 */
static bool block_driver_side(struct mini_rng *rng, uint16_t dev_num)
{
	uint8_t req[MSG_MAX], resp[MINI_RESP_MAX];
	struct virtio_msg_hdr hdr;
	long end = lb_now_ms() + 20000;
	int n;

	if (lb_dev(rng->fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE, dev_num))
		return false;
	while (lb_now_ms() < end) {
		n = lb_recv(rng->fd, req, sizeof(req), 100);
		if (n == -ETIMEDOUT)
			continue;
		if (n < (int)sizeof(hdr))
			return false;
		memcpy(&hdr, req, sizeof(hdr));
		if (!(hdr.type & VIRTIO_MSG_TYPE_BUS) &&
		    hdr.msg_id == VIRTIO_MSG_GET_DEVICE_INFO &&
		    le16toh(hdr.dev_num) == dev_num)
			return true;
		n = mini_rng_answer(rng, req, resp);
		if (n > 0 && write(rng->fd, resp, n) != n)
			return false;
	}
	return false;
}

/*
 * REMOVE stops a MEM_WRITE already running on another process. The
 * write's source is a page of a vmsg-blk disk, mapped and never read: its
 * copy faults and waits for a disk read, which waits for the disk's
 * backend, stopped meanwhile. The device is removed during that wait,
 * while the driver side's worker is kept busy so that the driver still
 * has the ring mapped; then the disk backend runs again. The write must
 * then fail with ENODEV instead of landing after the removal.
 */
TEST_F_TIMEOUT(lb, mem_during_remove, 90)
{
	struct mini_rng rng = { .fd = self->fd, .dev_num = 11 };
	char prog[256], *args[] = { prog, "--size", "64", "--dev-num", "9",
				    NULL };
	struct lb_backend be;
	const char *why;
	int disk_fd, status = -1;
	uint8_t *page;
	pid_t writer;
	char disk;

	why = lb_backend_missing("vmsg-blk", prog, sizeof(prog));
	if (why)
		SKIP(return, "%.900s", why); /* fits the reason buffer */
	lb_backend_init(&be);
	disk = blk_start(&be, args);
	ASSERT_NE(0, disk) TH_LOG("vmsg-blk did not start");
	disk_fd = blk_open(disk, O_RDONLY);
	ASSERT_LE(0, disk_fd);
	/* 32 MiB in: nothing has read there. */
	page = mmap(NULL, 4096, PROT_READ, MAP_SHARED, disk_fd, 32 << 20);
	ASSERT_NE(MAP_FAILED, page);
	madvise(page, 4096, MADV_RANDOM);

	ASSERT_EQ(0, lb_dev(self->fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE, 11));
	ASSERT_TRUE(mini_rng_until_kick(&rng, 20000));
	ASSERT_TRUE(block_driver_side(&rng, 12));

	ASSERT_EQ(0, kill(be.pid, SIGSTOP));
	writer = fork();
	ASSERT_LE(0, writer);
	if (!writer) {
		int ret = lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_WRITE, 11,
				 rng.desc, page, 16);

		_exit(ret ? errno : 0);
	}
	/* The writer is waiting for the disk by now. */
	usleep(300 * 1000);
	EXPECT_NE(writer, waitpid(writer, &status, WNOHANG))
		TH_LOG("the write did not wait for the disk");
	EXPECT_EQ(0, lb_dev(self->fd, VIRTIO_MSG_LB_IOC_REMOVE_DEVICE, 11));
	kill(be.pid, SIGCONT);
	EXPECT_EQ(ENODEV, lb_child_status(writer, 10000))
		TH_LOG("0: the write landed after the removal");

	munmap(page, 4096);
	close(disk_fd);
	lb_backend_close(&be);
}

/* Names of the network interfaces, as one string (for set differences). */
static void net_ifaces(char *buf, size_t len)
{
	struct dirent *de;
	size_t used = 0;
	DIR *d;

	buf[0] = '\0';
	d = opendir("/sys/class/net");
	if (!d)
		return;
	while ((de = readdir(d)) && used + IFNAMSIZ + 2 < len)
		if (de->d_name[0] != '.')
			used += snprintf(buf + used, len - used, " %.*s ",
					 IFNAMSIZ - 1, de->d_name);
	closedir(d);
}

static int iface_up(const char *name)
{
	struct ifreq ifr = { 0 };
	int s, ret = -1;

	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (!ioctl(s, SIOCGIFFLAGS, &ifr)) {
		ifr.ifr_flags |= IFF_UP;
		ret = ioctl(s, SIOCSIFFLAGS, &ifr);
	}
	close(s);
	return ret;
}

/*
 * Opening needs CAP_SYS_ADMIN, not only access to the file: a root
 * process without it (here: dropped from its effective set) gets EPERM.
 */
TEST(open_needs_cap_sys_admin)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];
	pid_t pid;
	int fd;

	fd = lb_open(0);
	if (fd < 0)
		SKIP(return, "%s: %s", LB_PATH, strerror(errno));
	close(fd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (syscall(SYS_capget, &hdr, data))
			_exit(2);
		data[CAP_TO_INDEX(CAP_SYS_ADMIN)].effective &=
			~CAP_TO_MASK(CAP_SYS_ADMIN);
		if (syscall(SYS_capset, &hdr, data))
			_exit(3);
		fd = open(LB_PATH, O_RDWR | O_CLOEXEC);
		_exit(fd < 0 && errno == EPERM ? 0 : 1);
	}
	EXPECT_EQ(0, lb_child_status(pid, 10000));
}

#define MAX_INSTANCES	"/sys/module/virtio_msg_loopback/parameters/max_instances"

/* At most max_instances instances at once; EMFILE beyond. */
TEST(max_instances)
{
	char old[32] = "", buf[32];
	int fd[4], extra, i, n;

	fd[0] = lb_open(0);
	if (fd[0] < 0)
		SKIP(return, "%s: %s", LB_PATH, strerror(errno));
	ASSERT_EQ(0, lb_read_file(MAX_INSTANCES, old, sizeof(old)));
	n = open(MAX_INSTANCES, O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, n);
	/* This one and two more; nobody else has one open during tests. */
	EXPECT_EQ(2, write(n, "3\n", 2));
	close(n);
	fd[1] = lb_open(0);
	fd[2] = lb_open(0);
	EXPECT_LE(0, fd[1]);
	EXPECT_LE(0, fd[2]);
	fd[3] = lb_open(0);
	EXPECT_EQ(-1, fd[3]);
	EXPECT_EQ(EMFILE, errno);
	/* Closing one makes room again. */
	close(fd[2]);
	extra = lb_open(0);
	EXPECT_LE(0, extra);
	for (i = 0; i < 4; i++)
		if (i != 2 && fd[i] >= 0)
			close(fd[i]);
	if (extra >= 0)
		close(extra);
	n = open(MAX_INSTANCES, O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, n);
	snprintf(buf, sizeof(buf), "%s", old);
	EXPECT_EQ((ssize_t)strlen(buf), write(n, buf, strlen(buf)));
	close(n);
}

FIXTURE(reload) {
	int unused;
};

FIXTURE_SETUP(reload)
{
}

FIXTURE_TEARDOWN(reload)
{
}

/*
 * Kicks are never lost: with the module loaded with a 4-message queue
 * (3 slots for kicks) and the backend not reading, six network devices
 * are brought up, each kicking its receive queue once. The kicks that
 * find no room are kept by the driver side and must still arrive, for
 * every device, once the backend reads again.
 */
TEST_F_TIMEOUT(reload, kicks_not_lost, 120)
{
	struct virtio_msg_lb_info info = { .size = sizeof(info) };
	struct mini_rng net = {
		.dev_num = 40, .count = 6, .device_id = VIRTIO_ID_NET,
		.num_queues = 2,
	};
	char before[1024], after[1024], *tok, *save;
	unsigned int i, ups = 0;
	long end;
	int fd;

	if (system("modprobe -r virtio_msg_loopback 2>/dev/null") ||
	    system("modprobe virtio_msg_loopback queue_len=4 2>/dev/null"))
		SKIP(return, "cannot reload virtio_msg_loopback (in use?)");
	fd = lb_open(0);
	ASSERT_LE(0, fd);
	net.fd = fd;
	ASSERT_EQ(0, ioctl(fd, VIRTIO_MSG_LB_IOC_GET_INFO, &info));
	ASSERT_EQ(4U, info.queue_len);

	/* Probe the devices: serve until six new interfaces exist. */
	net_ifaces(before, sizeof(before));
	for (i = 0; i < net.count; i++)
		ASSERT_EQ(0, lb_dev(fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE,
				    net.dev_num + i));
	end = time(NULL) + 60;
	for (;;) {
		ASSERT_GT(end, time(NULL)) TH_LOG("devices did not probe");
		if (mini_rng_serve(&net, 100) && errno != ETIMEDOUT)
			ASSERT_TRUE(false) TH_LOG("serve: %s", strerror(errno));
		for (i = 0; i < net.count; i++)
			if (!(net.dev_status[i] & STATUS_DRIVER_OK))
				break;
		if (i < net.count)
			continue;
		net_ifaces(after, sizeof(after));
		ups = 0;
		for (tok = strtok_r(after, " ", &save); tok;
		     tok = strtok_r(NULL, " ", &save)) {
			char name[IFNAMSIZ + 3];

			snprintf(name, sizeof(name), " %s ", tok);
			ups += !strstr(before, name);
		}
		if (ups == net.count)
			break;
	}
	/* Drain, then forget what probing sent. */
	while (!mini_rng_serve(&net, 200))
		;
	memset(net.kicks, 0, sizeof(net.kicks));

	/* The backend does not read while every device kicks. */
	net_ifaces(after, sizeof(after));
	for (tok = strtok_r(after, " ", &save); tok;
	     tok = strtok_r(NULL, " ", &save)) {
		char name[IFNAMSIZ + 3];

		snprintf(name, sizeof(name), " %s ", tok);
		if (!strstr(before, name))
			EXPECT_EQ(0, iface_up(tok));
	}

	end = time(NULL) + 20;
	for (;;) {
		for (i = 0; i < net.count; i++)
			if (!net.kicks[i])
				break;
		if (i == net.count || time(NULL) > end)
			break;
		if (mini_rng_serve(&net, 100) && errno != ETIMEDOUT)
			break;
	}
	for (i = 0; i < net.count; i++) {
		if (!net.kicks[i])
			TH_LOG("device %u never kicked", net.dev_num + i);
		EXPECT_LT(0U, net.kicks[i]);
	}
	close(fd);
	/* Later tests load the module with its defaults again. */
	EXPECT_EQ(0, system("modprobe -r virtio_msg_loopback"));
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0
/*
 * A hostile device side on the virtio-msg loopback bus. The test answers
 * the driver side's requests badly (malformed, mismatched, twice, too late
 * or never), sends responses nobody asked for, used-buffer events for
 * queues that do not exist, and writes garbage. It checks what the driver
 * side makes of it through the device's statistics in sysfs
 * (virtio<N>/virtio_msg/) and through what happens to the device: every
 * bad message is dropped and counted, a device that broke the rules is
 * broken (its driver does not bind) or never registered, a request waits
 * no longer than the request timeout, and the instance can always be
 * closed. The last test loads and unloads the modules twenty times with a
 * well-behaved device, for kmemleak to look at.
 *
 * Device additions and driver probes of an instance run one at a time, in
 * order, so "the driver side is done with device X" is observed by adding
 * one more device number and waiting for its GET_DEVICE_INFO (barrier()).
 */
#include <dirent.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/wait.h>

#include "../../kselftest_harness.h"
#include "virtio_msg_lb_backend.h"

#define TIMEOUT_PARAM	"/sys/module/virtio_msg/parameters/request_timeout_ms"
#define VIRTIO_SYSFS	"/sys/bus/virtio/devices"
/* Request timeout while a case provokes timeouts. */
#define SHORT_TIMEOUT_MS	300
/* Request timeout where nothing may time out; longer than WAIT_MS. */
#define LONG_TIMEOUT_MS		30000
/* Bound of every wait for the driver side. */
#define WAIT_MS			20000
/*
 * Device numbers: the minimal backend serves BASE to BASE + MINI_MAX - 1
 * (the hostile device is BASE, whose rings it tracks); it ignores OTHER
 * and the sentinels of barrier(); no device is ever added at STRANGER.
 */
#define BASE		0x30
#define OTHER		0x60
#define SENTINEL	0x200
#define STRANGER	0xf000
#define STATUS_DRIVER	2

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A number from a sysfs file, or -1. */
static long read_long(const char *path)
{
	char buf[32];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return strtol(buf, NULL, 0);
}

static int set_timeout(long ms)
{
	char buf[32];
	int fd, n, ret = 0;

	fd = open(TIMEOUT_PARAM, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = snprintf(buf, sizeof(buf), "%ld\n", ms);
	if (write(fd, buf, n) != n)
		ret = -EIO;
	close(fd);
	return ret;
}

/* Open an instance; @name gets its sysfs name ("" if not found). */
static int lb_open_named(char *name, size_t len)
{
	char before[4096], after[4096], key[NAME_MAX + 3], *tok, *save;
	int fd, found = 0;

	lb_instances(before, sizeof(before));
	fd = lb_open(0);
	name[0] = '\0';
	if (fd < 0)
		return fd;
	lb_instances(after, sizeof(after));
	for (tok = strtok_r(after, " ", &save); tok;
	     tok = strtok_r(NULL, " ", &save)) {
		snprintf(key, sizeof(key), " %s ", tok);
		if (!strstr(before, key)) {
			snprintf(name, len, "%s", tok);
			found++;
		}
	}
	if (found != 1)
		name[0] = '\0';
	return fd;
}

/*
 * The sysfs directory of the virtio device of @dev_num on instance @inst:
 * its parent is the instance's DMA device "<inst>.<dev_num>", and its
 * virtio_msg/device_number says @dev_num.
 */
static bool find_vdev(const char *inst, unsigned int dev_num, char *dir,
		      size_t len)
{
	char parent[2 * NAME_MAX], path[PATH_MAX + 64], real[PATH_MAX];
	struct dirent *de;
	bool found = false;
	DIR *d;

	snprintf(parent, sizeof(parent), "/%s/%s.%u/", inst, inst, dev_num);
	d = opendir(VIRTIO_SYSFS);
	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		if (strncmp(de->d_name, "virtio", 6))
			continue;
		snprintf(path, sizeof(path), VIRTIO_SYSFS "/%s", de->d_name);
		if (!realpath(path, real) || !strstr(real, parent))
			continue;
		snprintf(path, sizeof(path), "%s/virtio_msg/device_number",
			 real);
		if (read_long(path) != dev_num)
			continue;
		snprintf(dir, len, "%s", real);
		found = true;
	}
	closedir(d);
	return found;
}

/*
 * A counter of the device at @dir (in debugfs, under the virtio device's
 * name), or -1 when it cannot be read.
 */
static long counter(const char *dir, const char *name)
{
	const char *dev = strrchr(dir, '/');
	char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), VMSG_DEBUGFS "/%s/%s",
		 dev ? dev + 1 : dir, name);
	return read_long(path);
}

static bool has_driver(const char *dir)
{
	char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/driver", dir);
	return !access(path, F_OK);
}

static void set_msg_size(uint8_t *msg, int size)
{
	uint16_t v = htole16(size);

	memcpy(msg + offsetof(struct virtio_msg_hdr, msg_size), &v, 2);
}

/* Wait up to WAIT_MS for @path to disappear. */
static bool wait_gone(const char *path)
{
	long end = now_ms() + WAIT_MS;

	while (!access(path, F_OK)) {
		if (now_ms() > end)
			return false;
		usleep(20000);
	}
	return true;
}

/* The test as the device side of one instance. */
struct backend {
	int fd;
	char inst[NAME_MAX + 1];
	long old_timeout;
	unsigned int sentinels;
	struct mini_rng rng;
};

FIXTURE(hostile) {
	struct backend b;
};

FIXTURE_SETUP(hostile)
{
	struct backend *b = &self->b;

	b->old_timeout = -1;
	b->fd = lb_open_named(b->inst, sizeof(b->inst));
	if (b->fd < 0)
		SKIP(return, "%s: %s (module not available?)", LB_PATH,
		     strerror(errno));
	ASSERT_NE(0, b->inst[0]) TH_LOG("instance not found in sysfs");
	b->old_timeout = read_long(TIMEOUT_PARAM);
	ASSERT_LT(0, b->old_timeout) TH_LOG("%s unreadable", TIMEOUT_PARAM);
	/* Lowered by the cases that provoke timeouts, when they do. */
	ASSERT_EQ(0, set_timeout(LONG_TIMEOUT_MS));
	b->rng.fd = b->fd;
	b->rng.dev_num = BASE;
	b->rng.count = MINI_MAX;
}

/* In the parent, so that it runs whatever became of the test. */
FIXTURE_TEARDOWN_PARENT(hostile)
{
	struct backend *b = &self->b;

	if (b->old_timeout > 0)
		set_timeout(b->old_timeout);
}

/*
 * Serve the minimal devices until the driver side sends @msg_id to
 * @dev_num, and leave that request unanswered in @req (MSG_MAX bytes).
 * Returns its length, or -1.
 */
static int serve_for(struct backend *self, uint8_t msg_id,
		     uint16_t dev_num, uint8_t *req)
{
	uint8_t resp[MINI_RESP_MAX];
	struct virtio_msg_hdr hdr;
	long end = now_ms() + WAIT_MS;
	int n;

	while (now_ms() < end) {
		n = lb_recv(self->fd, req, MSG_MAX, 100);
		if (n == -ETIMEDOUT)
			continue;
		if (n < (int)sizeof(hdr))
			return -1;
		memcpy(&hdr, req, sizeof(hdr));
		if (!(hdr.type & VIRTIO_MSG_TYPE_BUS) && hdr.msg_id == msg_id &&
		    le16toh(hdr.dev_num) == dev_num)
			return n;
		n = mini_rng_answer(&self->rng, req, resp);
		if (n > 0 && write(self->fd, resp, n) != n)
			return -1;
	}
	return -1;
}

/* Serve until the device @dev_num is started and its driver bound. */
static bool serve_until_bound(struct backend *self, uint16_t dev_num,
			      char *dir, size_t len)
{
	unsigned int idx = dev_num - BASE;
	long end = now_ms() + WAIT_MS;

	while (now_ms() < end) {
		if ((self->rng.dev_status[idx] & STATUS_DRIVER_OK) &&
		    find_vdev(self->inst, dev_num, dir, len) && has_driver(dir))
			return true;
		if (mini_rng_serve(&self->rng, 50) && errno != ETIMEDOUT)
			return false;
	}
	return false;
}

/* Serve until counter @name of the device at @dir is @want; its value. */
static long wait_counter(struct backend *self, const char *dir,
			 const char *name, long want)
{
	long end = now_ms() + WAIT_MS, v;

	while ((v = counter(dir, name)) != want && now_ms() < end)
		if (mini_rng_serve(&self->rng, 20) && errno != ETIMEDOUT)
			break;
	return v;
}

/*
 * Serve device @dev_num until the driver sets DRIVER in its status, and
 * lower the request timeout just before answering that: the requests of
 * the driver probe that follow (GET_DEVICE_FEATURES first) get the short
 * timeout, and none of those before can trip over it.
 */
static int arm_short_timeout(struct backend *self, uint16_t dev_num)
{
	uint8_t req[MSG_MAX], resp[MINI_RESP_MAX];
	bool driver;
	int n;

	do {
		if (serve_for(self, VIRTIO_MSG_SET_DEVICE_STATUS, dev_num,
			      req) < 0)
			return -1;
		driver = get_le32(req + 8) & STATUS_DRIVER;
		n = mini_rng_answer(&self->rng, req, resp);
		if (driver && set_timeout(SHORT_TIMEOUT_MS))
			return -1;
		if (write(self->fd, resp, n) != n)
			return -1;
	} while (!driver);
	return 0;
}

/* Answer the GET_DEVICE_INFO @req with device ID 0: no function. */
static int answer_no_function(int fd, const uint8_t *req)
{
	uint8_t resp[MINI_RESP_MAX] = { 0 };
	int n = sizeof(struct virtio_msg_hdr) +
		sizeof(struct virtio_msg_get_device_info_resp);

	memcpy(resp, req, sizeof(struct virtio_msg_hdr));
	resp[0] |= VIRTIO_MSG_TYPE_RESPONSE;
	set_msg_size(resp, n);
	return write(fd, resp, n) == n ? 0 : -1;
}

/*
 * Add a sentinel device number and serve until its GET_DEVICE_INFO
 * arrives: the driver side is then done with every device added before.
 * The sentinel gets device ID 0 (no function: nothing is registered) and
 * is removed again. Messages for @watch meanwhile are counted, not
 * answered. Returns that count, or -1 if the sentinel was not reached.
 */
static int barrier(struct backend *self, uint16_t watch)
{
	uint16_t s = SENTINEL + self->sentinels++;
	uint8_t req[MSG_MAX], resp[MINI_RESP_MAX];
	struct virtio_msg_hdr hdr;
	long end = now_ms() + WAIT_MS;
	int n, seen = 0;

	if (lb_dev(self->fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE, s))
		return -1;
	while (now_ms() < end) {
		n = lb_recv(self->fd, req, sizeof(req), 100);
		if (n == -ETIMEDOUT)
			continue;
		if (n < (int)sizeof(hdr))
			return -1;
		memcpy(&hdr, req, sizeof(hdr));
		if (!(hdr.type & VIRTIO_MSG_TYPE_BUS) &&
		    le16toh(hdr.dev_num) == watch) {
			seen++;
			continue;
		}
		if (!(hdr.type & VIRTIO_MSG_TYPE_BUS) &&
		    le16toh(hdr.dev_num) == s) {
			if (hdr.msg_id != VIRTIO_MSG_GET_DEVICE_INFO ||
			    answer_no_function(self->fd, req) ||
			    lb_dev(self->fd, VIRTIO_MSG_LB_IOC_REMOVE_DEVICE, s))
				return -1;
			return seen;
		}
		n = mini_rng_answer(&self->rng, req, resp);
		if (n > 0 && write(self->fd, resp, n) != n)
			return -1;
	}
	return -1;
}

/*
 * Close the instance from a child process holding the last reference, so
 * that a release that never ends shows as a failure here.
 */
static bool close_bounded(struct backend *self)
{
	long end = now_ms() + WAIT_MS;
	int p[2], status, fd = self->fd;
	char c = 0;
	pid_t pid;

	if (pipe(p))
		return false;
	pid = fork();
	if (pid < 0)
		return false;
	if (!pid) {
		close(p[1]);
		/* The parent has closed its reference when this returns. */
		if (read(p[0], &c, 1) != 1)
			_exit(1);
		close(fd);
		_exit(0);
	}
	close(p[0]);
	close(fd);
	self->fd = -1;
	if (write(p[1], &c, 1) != 1)
		return false;
	close(p[1]);
	do {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) && !WEXITSTATUS(status);
		usleep(20000);
	} while (now_ms() < end);
	kill(pid, SIGKILL);
	return false;
}

/* The error counters of the device at @dir, all at once. */
static void check_errors(struct __test_metadata *_metadata, const char *dir,
			 long bad, long unmatched, long late, long timeouts)
{
	EXPECT_EQ(bad, counter(dir, "bad_messages"));
	EXPECT_EQ(unmatched, counter(dir, "unmatched"));
	EXPECT_EQ(late, counter(dir, "late_replies"));
	EXPECT_EQ(timeouts, counter(dir, "timeouts"));
}

/*
 * GET_DEVICE_INFO answered with a size that does not fit. Where msg_size
 * disagrees with the bytes written, or the message is larger than the
 * bus's maximum, write() refuses it and nothing happens: the request still
 * waits, and a good answer afterwards brings the device up. A
 * GET_DEVICE_INFO response of any payload size but 24 is well formed for
 * the bus, reaches the driver side and fails the request at once (with a
 * timeout longer than the wait here, a timeout cannot be what ends it):
 * the device is never registered. Its counters lived and died with it,
 * so what is checked is that no virtio device appears and that the driver
 * side sends the number nothing more.
 */
TEST_F_TIMEOUT(hostile, info_bad_size, 120)
{
	struct backend *b = &self->b;
	static const int bad_len[] = { 0, 4, 20, 28, 32, 256 };
	struct virtio_msg_lb_info info = { .size = sizeof(info) };
	uint8_t req[MSG_MAX], resp[MSG_MAX];
	char dir[PATH_MAX];
	unsigned int i;
	uint16_t dev;
	int n;

	ASSERT_EQ(0, ioctl(b->fd, VIRTIO_MSG_LB_IOC_GET_INFO, &info));
	ASSERT_EQ(0, lb_dev(b->fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE, BASE));
	ASSERT_LT(0, serve_for(b, VIRTIO_MSG_GET_DEVICE_INFO, BASE, req));
	memset(resp, 0, sizeof(resp));
	n = mini_rng_answer(&b->rng, req, resp);
	ASSERT_EQ(32, n);

	set_msg_size(resp, n + 4);
	EXPECT_EQ(-1, write(b->fd, resp, n));
	EXPECT_EQ(EINVAL, errno);
	set_msg_size(resp, n - 4);
	EXPECT_EQ(-1, write(b->fd, resp, n));
	EXPECT_EQ(EINVAL, errno);
	set_msg_size(resp, 0);
	EXPECT_EQ(-1, write(b->fd, resp, n));
	EXPECT_EQ(EINVAL, errno);
	set_msg_size(resp, info.max_msg_size + 1);
	EXPECT_EQ(-1, write(b->fd, resp, info.max_msg_size + 1));
	EXPECT_EQ(EMSGSIZE, errno);
	set_msg_size(resp, 0xffff);
	EXPECT_EQ(-1, write(b->fd, resp, 0xffff));
	EXPECT_EQ(EMSGSIZE, errno);

	set_msg_size(resp, n);
	ASSERT_EQ(n, write(b->fd, resp, n));
	ASSERT_TRUE(serve_until_bound(b, BASE, dir, sizeof(dir)))
		TH_LOG("the device did not come up after a good answer");
	check_errors(_metadata, dir, 0, 0, 0, 0);
	EXPECT_EQ(1, counter(dir, "received_get_device_info"));

	for (i = 0; i < ARRAY_SIZE(bad_len); i++) {
		dev = OTHER + i;
		ASSERT_EQ(0, lb_dev(b->fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE,
				    dev));
		ASSERT_LT(0, serve_for(b, VIRTIO_MSG_GET_DEVICE_INFO, dev,
				       req));
		/* A virtio-rng device, as far as the bytes go. */
		memset(resp, 0, sizeof(resp));
		memcpy(resp, req, sizeof(struct virtio_msg_hdr));
		resp[0] |= VIRTIO_MSG_TYPE_RESPONSE;
		put_le32(resp + 8, VIRTIO_ID_RNG);
		put_le32(resp + 16, 64);
		put_le32(resp + 24, 1);
		n = sizeof(struct virtio_msg_hdr) + bad_len[i];
		set_msg_size(resp, n);
		EXPECT_EQ(n, write(b->fd, resp, n));
		EXPECT_EQ(0, barrier(b, dev))
			TH_LOG("payload of %d bytes: the device was probed",
			       bad_len[i]);
		EXPECT_FALSE(find_vdev(b->inst, dev, dir, sizeof(dir)))
			TH_LOG("payload of %d bytes: device registered",
			       bad_len[i]);
	}

	/* The good device is unaffected. */
	ASSERT_TRUE(find_vdev(b->inst, BASE, dir, sizeof(dir)));
	EXPECT_TRUE(has_driver(dir));
	check_errors(_metadata, dir, 0, 0, 0, 0);
}

/*
 * Malformed responses to a request of the driver probe, once the device
 * is registered: GET_DEVICE_FEATURES answered with too short a payload,
 * then (on a second device) with more feature blocks than num_blocks
 * says. Each is counted as a bad message and breaks the device at once,
 * not by a timeout; the driver does not bind and nothing more is sent.
 */
TEST_F_TIMEOUT(hostile, bad_payload, 60)
{
	struct backend *b = &self->b;
	uint8_t req[MSG_MAX], resp[MSG_MAX];
	char dir[PATH_MAX];
	uint16_t dev;
	int n;

	for (dev = BASE; dev < BASE + 2; dev++) {
		ASSERT_EQ(0, lb_dev(b->fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE,
				    dev));
		ASSERT_LT(0, serve_for(b, VIRTIO_MSG_GET_DEVICE_FEATURES,
				       dev, req));
		ASSERT_TRUE(find_vdev(b->inst, dev, dir, sizeof(dir)));
		memset(resp, 0, sizeof(resp));
		n = mini_rng_answer(&b->rng, req, resp);
		ASSERT_LT(16, n);
		if (dev == BASE)
			n = sizeof(struct virtio_msg_hdr) + 4;
		else
			n += 4;
		set_msg_size(resp, n);
		ASSERT_EQ(n, write(b->fd, resp, n));
		/* Delivery is asynchronous; fsync() waits for it. */
		ASSERT_EQ(0, fsync(b->fd));
		EXPECT_EQ(1, counter(dir, "bad_messages"));
		EXPECT_EQ(0, barrier(b, dev));
		check_errors(_metadata, dir, 1, 0, 0, 0);
		EXPECT_FALSE(has_driver(dir));
	}
}

enum mismatch { WRONG_TOKEN, WRONG_MSG_ID, WRONG_DEV_NUM };

/*
 * Answer GET_DEVICE_FEATURES of device BASE with a response that answers
 * something else, and then not at all. The response is dropped and
 * counted as unmatched (by the device it names), the request times out,
 * the device breaks and its driver does not bind. A bystander device,
 * BASE + 1, is up all along and unharmed.
 */
static void mismatch(struct __test_metadata *_metadata,
		     struct backend *self, enum mismatch how)
{
	char a[PATH_MAX], b[PATH_MAX];
	uint8_t req[MSG_MAX], resp[MSG_MAX];
	struct virtio_msg_hdr hdr;
	int n;

	ASSERT_EQ(0, lb_dev(self->fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE, BASE + 1));
	ASSERT_TRUE(serve_until_bound(self, BASE + 1, b, sizeof(b)));

	ASSERT_EQ(0, lb_dev(self->fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE, BASE));
	ASSERT_EQ(0, arm_short_timeout(self, BASE));
	ASSERT_LT(0, serve_for(self, VIRTIO_MSG_GET_DEVICE_FEATURES, BASE,
			       req));
	ASSERT_TRUE(find_vdev(self->inst, BASE, a, sizeof(a)));
	memset(resp, 0, sizeof(resp));
	n = mini_rng_answer(&self->rng, req, resp);
	ASSERT_LT(0, n);
	memcpy(&hdr, resp, sizeof(hdr));
	switch (how) {
	case WRONG_TOKEN:
		hdr.token ^= htole16(0x4000);
		break;
	case WRONG_MSG_ID:
		/* A well-formed GET_DEVICE_STATUS response, right token. */
		hdr.msg_id = VIRTIO_MSG_GET_DEVICE_STATUS;
		n = sizeof(hdr) + sizeof(struct virtio_msg_status);
		hdr.msg_size = htole16(n);
		break;
	case WRONG_DEV_NUM:
		hdr.dev_num = htole16(BASE + 1);
		break;
	}
	memcpy(resp, &hdr, sizeof(hdr));
	ASSERT_EQ(n, write(self->fd, resp, n));

	EXPECT_EQ(1, wait_counter(self, a, "timeouts", 1));
	EXPECT_EQ(0, barrier(self, BASE));
	check_errors(_metadata, a, 0, how == WRONG_DEV_NUM ? 0 : 1, 0, 1);
	EXPECT_FALSE(has_driver(a));

	check_errors(_metadata, b, 0, how == WRONG_DEV_NUM ? 1 : 0, 0, 0);
	EXPECT_TRUE(has_driver(b));
}

TEST_F_TIMEOUT(hostile, wrong_token, 60)
{
	mismatch(_metadata, &self->b, WRONG_TOKEN);
}

TEST_F_TIMEOUT(hostile, wrong_msg_id, 60)
{
	mismatch(_metadata, &self->b, WRONG_MSG_ID);
}

TEST_F_TIMEOUT(hostile, wrong_dev_num, 60)
{
	mismatch(_metadata, &self->b, WRONG_DEV_NUM);
}

/*
 * Every response written twice, for GET_DEVICE_INFO and for
 * GET_DEVICE_FEATURES: the second copy finds no request and is dropped
 * and counted; the device works.
 */
TEST_F_TIMEOUT(hostile, duplicate, 60)
{
	struct backend *b = &self->b;
	uint8_t req[MSG_MAX], resp[MINI_RESP_MAX];
	char dir[PATH_MAX];
	int n;

	ASSERT_EQ(0, lb_dev(b->fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE, BASE));
	ASSERT_LT(0, serve_for(b, VIRTIO_MSG_GET_DEVICE_INFO, BASE, req));
	n = mini_rng_answer(&b->rng, req, resp);
	ASSERT_EQ(n, write(b->fd, resp, n));
	ASSERT_EQ(n, write(b->fd, resp, n));

	ASSERT_LT(0, serve_for(b, VIRTIO_MSG_GET_DEVICE_FEATURES, BASE,
			       req));
	n = mini_rng_answer(&b->rng, req, resp);
	ASSERT_EQ(n, write(b->fd, resp, n));
	ASSERT_EQ(n, write(b->fd, resp, n));

	ASSERT_TRUE(serve_until_bound(b, BASE, dir, sizeof(dir)));
	check_errors(_metadata, dir, 0, 2, 0, 0);
	EXPECT_EQ(2, counter(dir, "received_get_device_info"));
	EXPECT_EQ(2, counter(dir, "received_get_device_features"));
}

/*
 * The right answer, after the request timed out: the request is not
 * revived; the answer is dropped and counted as late, and the device,
 * broken by the timeout, stays without a driver.
 */
TEST_F_TIMEOUT(hostile, late, 60)
{
	struct backend *b = &self->b;
	uint8_t req[MSG_MAX], resp[MINI_RESP_MAX];
	char dir[PATH_MAX];
	int n;

	ASSERT_EQ(0, lb_dev(b->fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE, BASE));
	ASSERT_EQ(0, arm_short_timeout(b, BASE));
	ASSERT_LT(0, serve_for(b, VIRTIO_MSG_GET_DEVICE_FEATURES, BASE,
			       req));
	ASSERT_TRUE(find_vdev(b->inst, BASE, dir, sizeof(dir)));
	n = mini_rng_answer(&b->rng, req, resp);
	ASSERT_LT(0, n);

	ASSERT_EQ(1, wait_counter(b, dir, "timeouts", 1));
	ASSERT_EQ(n, write(b->fd, resp, n));
	ASSERT_EQ(0, fsync(b->fd));
	EXPECT_EQ(1, counter(dir, "late_replies"));
	EXPECT_EQ(0, barrier(b, BASE));
	check_errors(_metadata, dir, 0, 0, 1, 1);
	EXPECT_FALSE(has_driver(dir));
}

/*
 * GET_DEVICE_INFO never answered: the request times out and the number
 * is given up; it never gets a virtio device, hence no counters: that no
 * device appears is what is checked. The instance goes on working and
 * closes.
 */
TEST_F_TIMEOUT(hostile, no_response_info, 60)
{
	struct backend *b = &self->b;
	uint8_t req[MSG_MAX];
	char dir[PATH_MAX];

	ASSERT_EQ(0, set_timeout(SHORT_TIMEOUT_MS));
	ASSERT_EQ(0, lb_dev(b->fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE, OTHER));
	ASSERT_LT(0, serve_for(b, VIRTIO_MSG_GET_DEVICE_INFO, OTHER, req));
	EXPECT_EQ(0, barrier(b, OTHER));
	EXPECT_FALSE(find_vdev(b->inst, OTHER, dir, sizeof(dir)));

	ASSERT_EQ(0, set_timeout(LONG_TIMEOUT_MS));
	ASSERT_EQ(0, lb_dev(b->fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE, BASE));
	ASSERT_TRUE(serve_until_bound(b, BASE, dir, sizeof(dir)));
	check_errors(_metadata, dir, 0, 0, 0, 0);
	EXPECT_TRUE(close_bounded(b));
	EXPECT_TRUE(wait_gone(dir));
}

/*
 * GET_DEVICE_FEATURES never answered: the timeout is counted, the probe
 * fails without sending anything more, and closing the instance removes
 * the device.
 */
TEST_F_TIMEOUT(hostile, no_response_probe, 60)
{
	struct backend *b = &self->b;
	uint8_t req[MSG_MAX];
	char dir[PATH_MAX];

	ASSERT_EQ(0, lb_dev(b->fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE, BASE));
	ASSERT_EQ(0, arm_short_timeout(b, BASE));
	ASSERT_LT(0, serve_for(b, VIRTIO_MSG_GET_DEVICE_FEATURES, BASE,
			       req));
	ASSERT_TRUE(find_vdev(b->inst, BASE, dir, sizeof(dir)));
	EXPECT_EQ(1, wait_counter(b, dir, "timeouts", 1));
	EXPECT_EQ(0, barrier(b, BASE));
	check_errors(_metadata, dir, 0, 0, 0, 1);
	EXPECT_EQ(1, counter(dir, "sent_get_device_features"));
	EXPECT_FALSE(has_driver(dir));
	EXPECT_TRUE(close_bounded(b));
	EXPECT_TRUE(wait_gone(dir));
}

/*
 * A disk whose backend never answers the first read and then goes away:
 * virtio_blk's probe waits for that read (the partition scan) with the
 * device lock held, and the instance's release waits for the probe. The
 * device breaks when the peer goes, and the core fails the read in its
 * stead then: not after the driver's 30 s request timeout (a hung task),
 * nor never (Linux 6.12's virtio_blk, without patches/0001 and 0002,
 * waits for ever for what a broken queue holds).
 */
TEST_F_TIMEOUT(hostile, blk_scan_unanswered, 90)
{
	struct backend *b = &self->b;
	uint8_t config[MINI_CONFIG_MAX] = { 0 };
	char dir[PATH_MAX];
	long start;

	put_le32(config, 2048);			/* capacity: 1 MiB */
	b->rng.device_id = VIRTIO_ID_BLOCK;
	b->rng.config = config;
	b->rng.config_len = sizeof(config);
	b->rng.count = 1;
	ASSERT_EQ(0, lb_dev(b->fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE, BASE));
	ASSERT_TRUE(mini_rng_until_kick(&b->rng, WAIT_MS))
		TH_LOG("virtio_blk did not read from the disk (status %#x, ring %s, kicks %u)",
		       b->rng.dev_status[0], b->rng.desc ? "set" : "unset",
		       b->rng.kicks[0]);
	ASSERT_TRUE(find_vdev(b->inst, BASE, dir, sizeof(dir)));
	/* The read stays unanswered; let the partition scan wait on it. */
	usleep(200 * 1000);
	start = now_ms();
	EXPECT_TRUE(close_bounded(b));
	TH_LOG("the release took %ld ms", now_ms() - start);
	EXPECT_TRUE(wait_gone(dir));
}

static int write_event_used(int fd, uint16_t dev_num, uint32_t index)
{
	uint8_t ev[12] = { 0, VIRTIO_MSG_EVENT_USED };
	uint16_t v;

	v = htole16(dev_num);
	memcpy(ev + 2, &v, 2);
	set_msg_size(ev, sizeof(ev));
	put_le32(ev + 8, index);
	return write(fd, ev, sizeof(ev));
}

/*
 * Complete the buffer the driver posted first on queue 0 of device BASE,
 * as in virtio_msg_loopback's mem_isolation, and wait for the driver to
 * take it back (unmap it). False if it does not.
 */
static bool complete_first_buffer(struct __test_metadata *_metadata,
				  struct backend *self)
{
	struct mini_rng *rng = &self->rng;
	uint8_t desc[16], data[64], used[8];
	uint16_t head, used_idx;
	uint64_t addr;
	uint32_t len;
	long end;

	EXPECT_EQ(0, lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_READ, BASE,
			    rng->avail + 4, &head, 2));
	head = le16toh(head);
	EXPECT_GT(rng->qsize, head);
	EXPECT_EQ(0, lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_READ, BASE,
			    rng->desc + 16 * head, desc, sizeof(desc)));
	addr = get_le64(desc);
	len = get_le32(desc + 8);
	if (len > sizeof(data))
		len = sizeof(data);
	memset(data, 0x3c, sizeof(data));
	EXPECT_EQ(0, lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_WRITE, BASE, addr,
			    data, len));
	put_le32(used, head);
	put_le32(used + 4, len);
	EXPECT_EQ(0, lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_WRITE, BASE,
			    rng->used + 4, used, sizeof(used)));
	used_idx = htole16(1);
	EXPECT_EQ(0, lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_WRITE, BASE,
			    rng->used + 2, &used_idx, sizeof(used_idx)));
	EXPECT_EQ(12, write_event_used(self->fd, BASE, 0));
	end = now_ms() + WAIT_MS;
	while (!lb_mem(self->fd, VIRTIO_MSG_LB_IOC_MEM_WRITE, BASE, addr,
		       data, 1)) {
		if (now_ms() > end)
			return false;
		usleep(20000);
	}
	return errno == ENXIO;
}

/*
 * Messages nobody asked for: a used-buffer event before the device has
 * any queue, responses to requests never made while the device is idle,
 * used-buffer events for queue indexes out of range, and one for a device
 * number with no device behind it. All are dropped (the responses counted
 * as unmatched), the device is not broken, and its queue still works: a
 * buffer completed afterwards is taken back by the driver.
 */
TEST_F_TIMEOUT(hostile, unsolicited, 60)
{
	struct backend *b = &self->b;
	static const uint32_t bad_index[] = {
		1, 2, 0x100, 0x7fffffff, 0x80000000, 0xffffffff,
	};
	static const struct {
		uint8_t msg_id;
		uint8_t plen;
	} stray[] = {
		{ VIRTIO_MSG_GET_DEVICE_STATUS, 4 },
		{ VIRTIO_MSG_GET_SHM, 12 },
		{ VIRTIO_MSG_GET_VQUEUE, 40 },
		{ VIRTIO_MSG_SET_VQUEUE, 0 },
		{ VIRTIO_MSG_GET_DEVICE_INFO, 24 },
	};
	uint8_t req[MSG_MAX], resp[MINI_RESP_MAX];
	char dir[PATH_MAX];
	unsigned int i;
	int n;

	ASSERT_EQ(0, lb_dev(b->fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE, BASE));
	ASSERT_LT(0, serve_for(b, VIRTIO_MSG_GET_DEVICE_FEATURES, BASE,
			       req));
	EXPECT_EQ(12, write_event_used(b->fd, BASE, 0));
	n = mini_rng_answer(&b->rng, req, resp);
	ASSERT_EQ(n, write(b->fd, resp, n));
	ASSERT_TRUE(serve_until_bound(b, BASE, dir, sizeof(dir)));
	ASSERT_TRUE(mini_rng_until_kick(&b->rng, WAIT_MS));

	for (i = 0; i < ARRAY_SIZE(stray); i++) {
		struct virtio_msg_hdr hdr = {
			.type = VIRTIO_MSG_TYPE_RESPONSE,
			.msg_id = stray[i].msg_id,
			.dev_num = htole16(BASE),
			.token = htole16(0x1234 + i),
			.msg_size = htole16(sizeof(hdr) + stray[i].plen),
		};

		memset(resp, 0, sizeof(resp));
		memcpy(resp, &hdr, sizeof(hdr));
		n = sizeof(hdr) + stray[i].plen;
		EXPECT_EQ(n, write(b->fd, resp, n));
	}
	for (i = 0; i < ARRAY_SIZE(bad_index); i++)
		EXPECT_EQ(12, write_event_used(b->fd, BASE, bad_index[i]));

	/* A number of the instance with no function behind it. */
	ASSERT_EQ(0, lb_dev(b->fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE, OTHER));
	ASSERT_LT(0, serve_for(b, VIRTIO_MSG_GET_DEVICE_INFO, OTHER, req));
	ASSERT_EQ(0, answer_no_function(b->fd, req));
	ASSERT_EQ(0, barrier(b, OTHER));
	EXPECT_EQ(12, write_event_used(b->fd, OTHER, 0));

	check_errors(_metadata, dir, 0, 5, 0, 0);
	EXPECT_EQ(1 + 6, counter(dir, "received_event_used"));
	EXPECT_TRUE(has_driver(dir));
	EXPECT_TRUE(complete_first_buffer(_metadata, b))
		TH_LOG("the driver did not take the completed buffer back");
	check_errors(_metadata, dir, 0, 5, 0, 0);
}

/*
 * A flood of stray responses, four times the delivery ring: write() waits
 * for room instead of losing any, fsync() returns once all were delivered,
 * and every one is counted; the device is not broken by them.
 */
TEST_F_TIMEOUT(hostile, flood, 60)
{
	struct backend *b = &self->b;
	struct virtio_msg_lb_info info = { .size = sizeof(info) };
	struct virtio_msg_hdr hdr = {
		.type = VIRTIO_MSG_TYPE_RESPONSE,
		.msg_id = VIRTIO_MSG_GET_DEVICE_STATUS,
		.dev_num = htole16(BASE),
		.msg_size = htole16(sizeof(hdr) + 4),
	};
	uint8_t resp[MSG_MAX] = { 0 };
	unsigned int i, count, failed = 0;
	char dir[PATH_MAX];

	ASSERT_EQ(0, ioctl(b->fd, VIRTIO_MSG_LB_IOC_GET_INFO, &info));
	ASSERT_EQ(0, lb_dev(b->fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE, BASE));
	ASSERT_TRUE(serve_until_bound(b, BASE, dir, sizeof(dir)));

	count = 4 * info.queue_len;
	for (i = 0; i < count; i++) {
		hdr.token = htole16(0x8000 | (i & 0x7fff));
		memcpy(resp, &hdr, sizeof(hdr));
		if (write(b->fd, resp, sizeof(hdr) + 4) != sizeof(hdr) + 4)
			failed++;
	}
	EXPECT_EQ(0U, failed);
	ASSERT_EQ(0, fsync(b->fd));
	check_errors(_metadata, dir, 0, count, 0, 0);
	EXPECT_TRUE(has_driver(dir));
}

/*
 * Garbage on write(): nothing, less than a header, more than the maximum,
 * and random bytes. Each write fails with the error the ABI names, and
 * nothing reaches the driver side: the request in flight still waits for
 * its answer, which then brings the device up.
 */
TEST_F_TIMEOUT(hostile, garbage, 60)
{
	struct backend *b = &self->b;
	struct virtio_msg_lb_info info = { .size = sizeof(info) };
	uint8_t req[MSG_MAX], buf[MSG_MAX], resp[MINI_RESP_MAX];
	unsigned int i, len, wrong = 0;
	struct virtio_msg_hdr hdr;
	char dir[PATH_MAX];
	int n, want;

	ASSERT_EQ(0, ioctl(b->fd, VIRTIO_MSG_LB_IOC_GET_INFO, &info));
	ASSERT_EQ(0, lb_dev(b->fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE, BASE));
	ASSERT_LT(0, serve_for(b, VIRTIO_MSG_GET_DEVICE_FEATURES, BASE,
			       req));
	ASSERT_TRUE(find_vdev(b->inst, BASE, dir, sizeof(dir)));

	memset(buf, 0, sizeof(buf));
	for (len = 0; len < sizeof(hdr); len++) {
		EXPECT_EQ(-1, write(b->fd, buf, len));
		EXPECT_EQ(EINVAL, errno);
	}
	set_msg_size(buf, info.max_msg_size + 1);
	EXPECT_EQ(-1, write(b->fd, buf, info.max_msg_size + 1));
	EXPECT_EQ(EMSGSIZE, errno);
	EXPECT_EQ(-1, write(b->fd, buf, sizeof(buf)));
	EXPECT_EQ(EMSGSIZE, errno);

	/*
	 * Random bytes. Even rounds: msg_size disagrees with the length
	 * (EINVAL). Odd rounds: a transport message of the right size for a
	 * device number that was never added; ENODEV for a response or an
	 * event, EINVAL for a request.
	 */
	srandom(0x5eed);
	for (i = 0; i < 512; i++) {
		len = sizeof(hdr) + random() % (info.max_msg_size - 7);
		for (n = 0; n < (int)len; n++)
			buf[n] = random();
		memcpy(&hdr, buf, sizeof(hdr));
		if (i % 2) {
			hdr.type &= ~VIRTIO_MSG_TYPE_BUS;
			hdr.dev_num = htole16(STRANGER | (random() & 0xfff));
			hdr.msg_size = htole16(len);
			want = (hdr.type & VIRTIO_MSG_TYPE_RESPONSE) ||
			       (hdr.msg_id & VIRTIO_MSG_ID_EVENT) ?
			       ENODEV : EINVAL;
		} else {
			if (le16toh(hdr.msg_size) == len)
				hdr.msg_size = htole16(len + 1);
			want = EINVAL;
		}
		memcpy(buf, &hdr, sizeof(hdr));
		errno = 0;
		if (write(b->fd, buf, len) != -1 || errno != want)
			wrong++;
	}
	EXPECT_EQ(0U, wrong);

	check_errors(_metadata, dir, 0, 0, 0, 0);
	EXPECT_EQ(0, counter(dir, "received_get_device_features"));
	n = mini_rng_answer(&b->rng, req, resp);
	ASSERT_EQ(n, write(b->fd, resp, n));
	ASSERT_TRUE(serve_until_bound(b, BASE, dir, sizeof(dir)));
	check_errors(_metadata, dir, 0, 0, 0, 0);
	EXPECT_EQ(1, counter(dir, "received_get_device_features"));
}

/* Answer the GET_DEVICE_INFO @req as a device of type @id. */
static int answer_info(int fd, const uint8_t *req, uint32_t id)
{
	uint8_t resp[MINI_RESP_MAX] = { 0 };
	int n = sizeof(struct virtio_msg_hdr) +
		sizeof(struct virtio_msg_get_device_info_resp);

	memcpy(resp, req, sizeof(struct virtio_msg_hdr));
	resp[0] |= VIRTIO_MSG_TYPE_RESPONSE;
	set_msg_size(resp, n);
	put_le32(resp + 8, id);
	put_le32(resp + 16, 64);
	put_le32(resp + 24, 1);
	return write(fd, resp, n) == n ? 0 : -1;
}

/*
 * Device types whose drivers trust the device with physical addresses,
 * memory or input (pmem, mem, balloon, gpu, fs, input, ...): the bus
 * lets none of them through, so no virtio device appears and the driver
 * side asks nothing more after GET_DEVICE_INFO. Without the allowlist the
 * core would probe them, and barrier() would see their requests.
 */
TEST_F_TIMEOUT(hostile, device_types, 240)
{
	static const uint32_t refused[] = {
		27 /* pmem */, 24 /* mem */, 5 /* balloon */, 16 /* gpu */,
		26 /* fs */, 18 /* input */, 9 /* 9p */, 8 /* scsi */,
		19 /* vsock */, 20 /* crypto */, 23 /* iommu */,
		25 /* sound */, 0xffff,
	};
	struct backend *b = &self->b;
	uint8_t req[MSG_MAX];
	char dir[PATH_MAX];
	unsigned int i;
	uint16_t dev;

	for (i = 0; i < ARRAY_SIZE(refused); i++) {
		dev = OTHER + i;
		ASSERT_EQ(0, lb_dev(b->fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE, dev));
		ASSERT_LT(0, serve_for(b, VIRTIO_MSG_GET_DEVICE_INFO, dev,
				       req));
		ASSERT_EQ(0, answer_info(b->fd, req, refused[i]));
		ASSERT_EQ(0, barrier(b, dev))
			TH_LOG("device type %u was probed", refused[i]);
		EXPECT_FALSE(find_vdev(b->inst, dev, dir, sizeof(dir)))
			TH_LOG("device type %u registered", refused[i]);
		EXPECT_EQ(0, lb_dev(b->fd, VIRTIO_MSG_LB_IOC_REMOVE_DEVICE,
				    dev));
	}
	/* An allowed type still comes up. */
	ASSERT_EQ(0, lb_dev(b->fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE, BASE));
	ASSERT_TRUE(serve_until_bound(b, BASE, dir, sizeof(dir)));
}

/* Whether feature bit @bit is set in the "features" file at @dir. */
static int negotiated(const char *dir, unsigned int bit)
{
	char path[PATH_MAX + 64], buf[256];

	snprintf(path, sizeof(path), "%s/features", dir);
	if (lb_read_file(path, buf, sizeof(buf)) || strlen(buf) <= bit)
		return -1;
	return buf[bit] == '1';
}

/*
 * Feature bits outside the bus's list for the type are hidden from the
 * driver: a virtio-rng device offering NOTIFICATION_DATA (38), IN_ORDER
 * (35) and device bits 0-3 gets none of them, only VERSION_1 and
 * ACCESS_PLATFORM.
 */
TEST_F_TIMEOUT(hostile, feature_mask, 60)
{
	struct backend *b = &self->b;
	char dir[PATH_MAX];

	b->rng.extra_features[0] = 0xf;
	b->rng.extra_features[1] = (1U << (38 - 32)) | (1U << (35 - 32));
	ASSERT_EQ(0, lb_dev(b->fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE, BASE));
	ASSERT_TRUE(serve_until_bound(b, BASE, dir, sizeof(dir)));
	EXPECT_EQ(1, negotiated(dir, 32));
	EXPECT_EQ(1, negotiated(dir, 33));
	EXPECT_EQ(0, negotiated(dir, 35));
	EXPECT_EQ(0, negotiated(dir, 38));
	EXPECT_EQ(0, negotiated(dir, 0));
	EXPECT_EQ(0, negotiated(dir, 3));
}

/*
 * ADD, REMOVE and ADD of one number at once, before the driver side got
 * to the first addition: the driver side may create, remove and create
 * the device again, or create it once; either way the number ends up
 * with a working device. Five numbers in a row.
 */
TEST_F_TIMEOUT(hostile, add_remove_add, 120)
{
	struct backend *b = &self->b;
	char dir[PATH_MAX];
	unsigned int i;
	uint16_t dev;

	for (i = 0; i < 5; i++) {
		dev = BASE + i;
		ASSERT_EQ(0, lb_dev(b->fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE, dev));
		ASSERT_EQ(0, lb_dev(b->fd, VIRTIO_MSG_LB_IOC_REMOVE_DEVICE,
				    dev));
		ASSERT_EQ(0, lb_dev(b->fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE, dev));
		/* Past every event of the number, all served. */
		ASSERT_LE(0, barrier(b, STRANGER));
		EXPECT_TRUE(find_vdev(b->inst, dev, dir, sizeof(dir)) &&
			    has_driver(dir))
			TH_LOG("round %u: device %#x lost", i, dev);
	}
}

#define MAX_DEVICES	"/sys/module/virtio_msg_loopback/parameters/max_devices"

static int write_param(const char *path, const char *val)
{
	ssize_t len = strlen(val);
	int fd, ret;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = write(fd, val, len) == len ? 0 : -EIO;
	close(fd);
	return ret;
}

/*
 * A removal the driver side could not queue (its queue of device events
 * is full: the test blocks the driver side on an unanswered
 * GET_DEVICE_INFO and fills the queue with ADD/REMOVE pairs) leaves the
 * device there: its number must go on counting against max_devices until
 * the device is really gone, and adding the number again must replace
 * the old device with a new one. A driver side whose removals cannot fail
 * (they drop a queued addition, so the queue never fills) must remove the
 * device, and the number must then stop counting.
 */
TEST_F_TIMEOUT(hostile, lost_removal, 180)
{
	struct backend *b = &self->b, b2 = { .fd = -1 };
	uint16_t a = BASE, blocker = BASE + 1, churn = OTHER;
	char old[32] = "", dir[PATH_MAX];
	uint8_t req[MSG_MAX];
	unsigned int pairs;
	long end;
	bool full = false;

	ASSERT_EQ(0, lb_read_file(MAX_DEVICES, old, sizeof(old)))
		TH_LOG("no max_devices parameter");
	ASSERT_EQ(0, write_param(MAX_DEVICES, "3\n"));
	b2.fd = lb_open_named(b2.inst, sizeof(b2.inst));
	EXPECT_EQ(0, write_param(MAX_DEVICES, old));
	ASSERT_LE(0, b2.fd);
	ASSERT_NE(0, b2.inst[0]);
	b2.rng.fd = b2.fd;
	b2.rng.dev_num = BASE;
	b2.rng.count = MINI_MAX;
	b2.sentinels = 0x100;
	/* The first instance has no use here: out of the way. */
	close(b->fd);
	b->fd = -1;

	ASSERT_EQ(0, lb_dev(b2.fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE, a));
	ASSERT_TRUE(serve_until_bound(&b2, a, dir, sizeof(dir)));

	/* Block the driver side: this GET_DEVICE_INFO stays unanswered. */
	ASSERT_EQ(0, lb_dev(b2.fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE, blocker));
	ASSERT_LT(0, serve_for(&b2, VIRTIO_MSG_GET_DEVICE_INFO, blocker, req));
	for (pairs = 0; pairs < 4096; pairs++) {
		if (lb_dev(b2.fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE, churn)) {
			ASSERT_EQ(ENOMEM, errno);
			full = true;
			break;
		}
		ASSERT_EQ(0, lb_dev(b2.fd, VIRTIO_MSG_LB_IOC_REMOVE_DEVICE,
				    churn));
	}
	if (!full)
		TH_LOG("the queue never filled: removals drop queued additions");
	/* Perhaps not queued; succeeds for the backend anyway. */
	EXPECT_EQ(0, lb_dev(b2.fd, VIRTIO_MSG_LB_IOC_REMOVE_DEVICE, a));

	/* Unblock: no function behind the blocker; the queue drains. */
	ASSERT_EQ(0, answer_no_function(b2.fd, req));
	end = now_ms() + WAIT_MS;
	while (barrier(&b2, STRANGER) < 0)
		ASSERT_GT(end, now_ms()) TH_LOG("the queue did not drain");
	if (!find_vdev(b2.inst, a, dir, sizeof(dir))) {
		/* The removal held: a counts no more, two more fit. */
		EXPECT_EQ(0, lb_dev(b2.fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE,
				    BASE + 2));
		EXPECT_EQ(0, lb_dev(b2.fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE,
				    BASE + 3));
		EXPECT_EQ(-1, lb_dev(b2.fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE,
				     BASE + 4));
		EXPECT_EQ(ENOSPC, errno);
		goto out;
	}

	/* a (still there) and the blocker count: one more fits. */
	EXPECT_EQ(0, lb_dev(b2.fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE, BASE + 2));
	EXPECT_EQ(-1, lb_dev(b2.fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE, BASE + 3));
	EXPECT_EQ(ENOSPC, errno);

	/*
	 * Adding a again replaces the old device with a working one: the
	 * old one, broken, can no longer set DRIVER_OK; a new one is probed
	 * and does. (Its sysfs name may well be the old one's.)
	 */
	b2.rng.dev_status[0] = 0;
	ASSERT_EQ(0, lb_dev(b2.fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE, a));
	EXPECT_TRUE(serve_until_bound(&b2, a, dir, sizeof(dir)))
		TH_LOG("the old device was not replaced");
out:
	EXPECT_TRUE(close_bounded(&b2));
}

/*
 * Load the bus, start a well-behaved device, close, unload both modules:
 * twenty times. Every step must work; kmemleak, run by the test guest
 * after the suites, finds anything left behind.
 */
#define DEFERRED_KICKS	"/sys/module/virtio_msg_loopback/parameters/deferred_kicks"

/*
 * With deferred_kicks, an instance has no send_event op, as a bus whose
 * sends sleep (FF-A): every kick goes through the transport's workqueue,
 * and still reaches the device, counted in kicks_deferred.
 */
TEST_F_TIMEOUT(hostile, deferred_kicks, 60)
{
	struct backend *b = &self->b, b2 = { .fd = -1 };
	char dir[PATH_MAX];

	ASSERT_EQ(0, write_param(DEFERRED_KICKS, "1\n"))
		TH_LOG("no deferred_kicks parameter");
	b2.fd = lb_open_named(b2.inst, sizeof(b2.inst));
	EXPECT_EQ(0, write_param(DEFERRED_KICKS, "0\n"));
	ASSERT_LE(0, b2.fd);
	b2.rng.fd = b2.fd;
	b2.rng.dev_num = BASE;
	b2.rng.count = 1;
	close(b->fd);
	b->fd = -1;

	ASSERT_EQ(0, lb_dev(b2.fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE, BASE));
	ASSERT_TRUE(serve_until_bound(&b2, BASE, dir, sizeof(dir)));
	ASSERT_TRUE(mini_rng_until_kick(&b2.rng, WAIT_MS))
		TH_LOG("no kick reached the device");
	EXPECT_LE(1, counter(dir, "kicks_deferred"));
	EXPECT_LE(1, counter(dir, "sent_event_avail"));
	EXPECT_TRUE(close_bounded(&b2));
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

static bool module_loaded(const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/module/%s", name);
	return !access(path, F_OK);
}

TEST_F_TIMEOUT(reload, twenty_times, 240)
{
	char inst[NAME_MAX + 1], dir[PATH_MAX];
	bool was_loaded = module_loaded("virtio_msg_loopback");
	struct mini_rng rng;
	long end;
	int i, fd;

	/* Fails when they are not loaded: what counts is that they are not. */
	if (system("modprobe -r virtio_msg_loopback virtio_msg 2>/dev/null") &&
	    (module_loaded("virtio_msg_loopback") ||
	     module_loaded("virtio_msg")))
		SKIP(return, "cannot unload virtio_msg (in use or built in?)");
	ASSERT_FALSE(module_loaded("virtio_msg_loopback"));
	ASSERT_FALSE(module_loaded("virtio_msg"));

	/*
	 * Not loaded before and not loadable: not installed, as on a
	 * machine that runs the tests without the modules.
	 */
	if (!was_loaded &&
	    system("modprobe virtio_msg_loopback 2>/dev/null"))
		SKIP(return, "cannot load virtio_msg_loopback (not installed?)");
	if (!was_loaded)
		ASSERT_EQ(0, system("modprobe -r virtio_msg_loopback virtio_msg"));

	for (i = 0; i < 20; i++) {
		ASSERT_EQ(0, system("modprobe virtio_msg_loopback"))
			TH_LOG("round %d: modprobe", i);
		fd = lb_open_named(inst, sizeof(inst));
		ASSERT_LE(0, fd) TH_LOG("round %d: open", i);
		ASSERT_NE(0, inst[0]);
		memset(&rng, 0, sizeof(rng));
		dir[0] = '\0';
		rng.fd = fd;
		rng.dev_num = 1;
		ASSERT_EQ(0, lb_dev(fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE, 1));
		ASSERT_TRUE(mini_rng_until_kick(&rng, WAIT_MS))
			TH_LOG("round %d: the device did not start", i);
		end = now_ms() + WAIT_MS;
		while (!(find_vdev(inst, 1, dir, sizeof(dir)) &&
			 has_driver(dir)) && now_ms() < end)
			if (mini_rng_serve(&rng, 20) && errno != ETIMEDOUT)
				break;
		ASSERT_TRUE(has_driver(dir)) TH_LOG("round %d: no driver", i);
		ASSERT_EQ(0, close(fd));
		EXPECT_TRUE(wait_gone(dir));
		ASSERT_EQ(0, system("modprobe -r virtio_msg_loopback virtio_msg"))
			TH_LOG("round %d: modprobe -r", i);
		ASSERT_FALSE(module_loaded("virtio_msg_loopback"));
		ASSERT_FALSE(module_loaded("virtio_msg"));
	}
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0
/*
 * End to end over the virtio-msg loopback bus: the vmsg-rng backend serves
 * a virtio-rng device whose bytes are read from /dev/hwrng, speaking each
 * wire generation in turn. The backend
 * stops cleanly on SIGTERM; killed with SIGKILL in the middle of reads,
 * its device goes away, the reader gets an error instead of hanging, and
 * the bus module can be unloaded afterwards.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../kselftest_harness.h"
#include "virtio_msg_lb_backend.h"

#define RNG_SYSFS	"/sys/class/misc/hw_random/"
#define HWRNG_DEV	"/dev/hwrng"

/* The name of a virtio-rng hwrng source, or "" if there is none. */
static void find_virtio_rng(char *name, size_t len)
{
	char avail[512], *tok, *save;

	name[0] = '\0';
	if (lb_read_file(RNG_SYSFS "rng_available", avail, sizeof(avail)))
		return;
	for (tok = strtok_r(avail, "\n ", &save); tok;
	     tok = strtok_r(NULL, "\n ", &save)) {
		if (!strncmp(tok, "virtio_rng.", 11)) {
			snprintf(name, len, "%s", tok);
			return;
		}
	}
}

/* Wait up to @ms for a virtio-rng source to appear (or to go). */
static bool wait_virtio_rng(bool present, char *name, size_t len, int ms)
{
	long end = lb_now_ms() + ms;

	do {
		find_virtio_rng(name, len);
		if (!!name[0] == present)
			return true;
		usleep(50 * 1000);
	} while (lb_now_ms() < end);
	return false;
}

static int select_rng(const char *name)
{
	int fd, ret = 0;

	fd = open(RNG_SYSFS "rng_current", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, name, strlen(name)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

FIXTURE(rng) {
	char prog[256];
	struct lb_backend be;
	char name[64];
};

/* Each test runs with the backend speaking each wire generation. */
FIXTURE_VARIANT(rng) {
	const char *wire;
};

FIXTURE_VARIANT_ADD(rng, v1) {
	.wire = "v1",
};

FIXTURE_VARIANT_ADD(rng, v2) {
	.wire = "v2",
};

FIXTURE_SETUP(rng)
{
	char *const args[] = { self->prog, "--dev-num", "3",
			       "--wire", (char *)variant->wire, NULL };
	const char *why;

	lb_backend_init(&self->be);
	why = lb_backend_missing("vmsg-rng", self->prog, sizeof(self->prog));
	if (why)
		SKIP(return, "%.900s", why); /* fits the reason buffer */
	if (access(RNG_SYSFS "rng_current", W_OK))
		SKIP(return, "no hwrng core (CONFIG_HW_RANDOM)");
	why = lb_wire_missing(variant->wire);
	if (why)
		SKIP(return, "%.900s", why); /* fits the reason buffer */

	ASSERT_EQ(0, lb_backend_start(&self->be, args))
		TH_LOG("%s did not start", self->prog);
	ASSERT_TRUE(wait_virtio_rng(true, self->name, sizeof(self->name),
				    20000))
		TH_LOG("no virtio_rng source appeared");
	ASSERT_TRUE(lb_driver_wire_is("virtio_rng", variant->wire))
		TH_LOG("the device is not spoken to in %s", variant->wire);
	ASSERT_EQ(0, select_rng(self->name));
}

FIXTURE_TEARDOWN(rng)
{
	lb_backend_close(&self->be);
}

TEST_F_TIMEOUT(rng, read_and_stop, 60)
{
	unsigned char a[64], b[64], zero[64] = { 0 };
	char name[64], out[256] = "";
	ssize_t n;
	int fd;

	fd = open(HWRNG_DEV, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ((ssize_t)sizeof(a), read(fd, a, sizeof(a)));
	ASSERT_EQ((ssize_t)sizeof(b), read(fd, b, sizeof(b)));
	close(fd);
	EXPECT_NE(0, memcmp(a, zero, sizeof(a)));
	EXPECT_NE(0, memcmp(a, b, sizeof(a)));

	/* The open instance holds the module: unloading it must fail. */
	EXPECT_NE(0, system("modprobe -r virtio_msg_loopback 2>/dev/null"));
	EXPECT_EQ(0, access(LB_PATH, F_OK));
	fd = open(HWRNG_DEV, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ((ssize_t)sizeof(a), read(fd, a, sizeof(a)));
	close(fd);

	/* SIGTERM: the backend removes its device and exits with 0. */
	EXPECT_EQ(0, lb_backend_stop(&self->be, LB_STOP_MS));
	n = read(self->be.out, out, sizeof(out) - 1);
	ASSERT_LT(0, n);
	out[n] = '\0';
	EXPECT_TRUE(!!strstr(out, "served "));
	EXPECT_TRUE(wait_virtio_rng(false, name, sizeof(name), 10000));
}

/*
 * A backend may serve the very I/O that memory reclaim waits for: the
 * library makes it an I/O flusher (PR_SET_IO_FLUSHER), whose allocations
 * do no I/O. The flags are field 9 of /proc/<pid>/stat.
 */
#define PF_MEMALLOC_NOIO	0x00080000U
#define PF_LOCAL_THROTTLE	0x00100000U

TEST_F_TIMEOUT(rng, io_flusher, 30)
{
	char path[64], buf[1024], *p;
	unsigned long flags;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/stat", self->be.pid);
	ASSERT_EQ(0, lb_read_file(path, buf, sizeof(buf)));
	/* After the command name, which may hold spaces: field 3 on. */
	p = strrchr(buf, ')');
	ASSERT_NE(NULL, p);
	for (i = 2; i < 9 && p; i++)
		p = strchr(p + 1, ' ');
	ASSERT_NE(NULL, p);
	flags = strtoul(p + 1, NULL, 10);
	EXPECT_EQ(PF_MEMALLOC_NOIO | PF_LOCAL_THROTTLE,
		  flags & (PF_MEMALLOC_NOIO | PF_LOCAL_THROTTLE))
		TH_LOG("flags %#lx", flags);
}

TEST_F_TIMEOUT(rng, backend_killed, 90)
{
	int progress[2], status, fd;
	char name[64], c;
	pid_t reader;
	ssize_t n;

	ASSERT_EQ(0, pipe(progress));
	reader = fork();
	ASSERT_LE(0, reader);
	if (!reader) {
		unsigned char buf[32];

		close(progress[0]);
		fd = open(HWRNG_DEV, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			_exit(100);
		/* Read until the source fails; report progress. */
		for (;;) {
			n = read(fd, buf, sizeof(buf));
			if (n < 0)
				_exit(errno ? errno : 101);
			if (!n)
				_exit(102);
			if (write(progress[1], "r", 1) < 0)
				_exit(103);
		}
	}
	close(progress[1]);

	/* Let some reads through, then kill the backend mid-stream. */
	ASSERT_EQ(1, read(progress[0], &c, 1));
	ASSERT_EQ(0, lb_backend_kill(&self->be, LB_REAP_MS));

	/* The reader is told, quickly; it must not hang. */
	status = lb_child_status(reader, 20000);
	close(progress[0]);
	ASSERT_NE(-1, status) TH_LOG("reader still blocked");
	EXPECT_GT(100, status) TH_LOG("reader ended with %d", status);
	EXPECT_NE(0, status);
	EXPECT_TRUE(wait_virtio_rng(false, name, sizeof(name), 10000));

	/* Nothing holds the bus module any more. */
	EXPECT_EQ(0, system("modprobe -r virtio_msg_loopback"));
	EXPECT_NE(0, access(LB_PATH, F_OK));
}

TEST(backend_help)
{
	char prog[256];

	lb_backend_cli_ok(_metadata, "vmsg-rng", prog, sizeof(prog));
}

TEST_HARNESS_MAIN

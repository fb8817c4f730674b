// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmsg-ffa-sim: the device side of the simulated FF-A partition (test
 * code). Serves the library's device models through the partition's
 * character device: messages with read() and write(), driver memory only
 * through the areas the driver announced (area_id << 48 | offset).
 *
 *   vmsg-ffa-sim [--rng] [--blk MIB] [--net] [--console] [--isolation] [-q]
 *
 * Device numbers: rng 1, blk 2, the two network devices (wired back to
 * back) 3 and 4, the console (it echoes) 5.
 *
 * Prints "ready" once the partition is registered; SIGTERM or SIGINT
 * ends it. --isolation checks, once the areas are announced, that memory
 * outside them is refused, and prints "isolation: ok" or "isolation:
 * FAIL ...".
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_msg.h>
#include <linux/virtio_msg_ffa.h>

#include <virtio-msg/transport.h>

#include "models/models.h"
#include "ffa_sim.h"

#define SEND_TRIES	1000
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

struct sim_ctx {
	int fd;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int sim_mem(struct sim_ctx *c, unsigned long cmd, uint64_t addr,
		   void *buf, size_t len)
{
	struct vmsg_ffa_sim_mem m = {
		.addr = addr, .len = len, .buf = (uintptr_t)buf,
	};

	while (len > VMSG_FFA_SIM_MEM_MAX) {
		m.len = VMSG_FFA_SIM_MEM_MAX;
		if (ioctl(c->fd, cmd, &m))
			return -errno;
		m.addr += m.len;
		m.buf += m.len;
		len -= m.len;
	}
	m.len = len;
	return ioctl(c->fd, cmd, &m) ? -errno : 0;
}

static int t_mem_read(void *ctx, uint16_t dev_num, uint64_t addr, void *dst,
		      size_t len)
{
	(void)dev_num;
	return sim_mem(ctx, VMSG_FFA_SIM_MEM_READ, addr, dst, len);
}

static int t_mem_write(void *ctx, uint16_t dev_num, uint64_t addr,
		       const void *src, size_t len)
{
	(void)dev_num;
	return sim_mem(ctx, VMSG_FFA_SIM_MEM_WRITE, addr, (void *)src, len);
}

/* A full event queue drains as the driver polls: wait, bounded. */
static int t_send(void *ctx, const void *msg, size_t len)
{
	struct sim_ctx *c = ctx;
	struct timespec ts = { 0, 100000 };
	int i;

	for (i = 0; i < SEND_TRIES; i++) {
		if (write(c->fd, msg, len) == (ssize_t)len)
			return 0;
		if (errno != EAGAIN)
			return -errno;
		nanosleep(&ts, NULL);
	}
	return -EAGAIN;
}

static const struct vmsg_transport_ops sim_ops = {
	.mem_read = t_mem_read,
	.mem_write = t_mem_write,
	.send = t_send,
};

/* Outside the areas nothing is reachable; inside it is. */
static bool isolation_check(struct sim_ctx *c)
{
	const uint64_t area1 = 1ULL << VIRTIO_MSG_FFA_AREA_SHIFT;
	const uint64_t bad[] = {
		2ULL << VIRTIO_MSG_FFA_AREA_SHIFT,	/* never shared */
		0,					/* area 0 */
		area1 + (1ULL << 40),			/* past the area */
		0x40000000,				/* a physical address */
		area1 - 8,				/* straddles into it */
	};
	uint8_t buf[16];
	unsigned int i;
	int ret;

	ret = sim_mem(c, VMSG_FFA_SIM_MEM_READ, area1, buf, sizeof(buf));
	if (ret) {
		printf("isolation: FAIL area 1 unreadable (%d)\n", ret);
		return false;
	}
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		ret = sim_mem(c, VMSG_FFA_SIM_MEM_READ, bad[i], buf,
			      sizeof(buf));
		if (ret != -EFAULT) {
			printf("isolation: FAIL 0x%llx gave %d\n",
			       (unsigned long long)bad[i], ret);
			return false;
		}
		ret = sim_mem(c, VMSG_FFA_SIM_MEM_WRITE, bad[i], buf,
			      sizeof(buf));
		if (ret != -EFAULT) {
			printf("isolation: FAIL write 0x%llx gave %d\n",
			       (unsigned long long)bad[i], ret);
			return false;
		}
	}
	printf("isolation: ok\n");
	return true;
}

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"Usage: %s [--rng] [--blk MIB] [--net] [--console] [--isolation] [-q]\n"
		"Serve virtio devices through the simulated FF-A partition\n"
		"(%s): rng as device 1, a memory disk as device 2, two\n"
		"network devices wired back to back as 3 and 4, an echoing\n"
		"console as 5.\n",
		prog, VMSG_FFA_SIM_PATH);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "rng", no_argument, NULL, 'r' },
		{ "blk", required_argument, NULL, 'b' },
		{ "net", no_argument, NULL, 'n' },
		{ "console", no_argument, NULL, 'c' },
		{ "isolation", no_argument, NULL, 'i' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	bool rng = false, isolation = false, quiet = false, checked = false;
	bool net = false, console = false, more = false;
	static struct vmsg_net net_st = VMSG_NET_DEFAULTS;
	static struct vmsg_con con;
	unsigned int i;
	unsigned long blk_mib = 0;
	struct vmsg_rng rng_st = { 0 };
	struct vmsg_blk blk;
	struct vmsg_transport *t;
	struct sim_ctx c;
	uint8_t buf[VIRTIO_MSG_FFA_MAX_MSG_SIZE];
	struct sigaction sa = { .sa_handler = on_signal };
	int opt, status = 0;

	while ((opt = getopt_long(argc, argv, "rb:nciqh", opts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			rng = true;
			break;
		case 'b':
			blk_mib = strtoul(optarg, NULL, 0);
			break;
		case 'n':
			net = true;
			break;
		case 'c':
			console = true;
			break;
		case 'i':
			isolation = true;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			usage(stdout, argv[0]);
			return 0;
		default:
			usage(stderr, argv[0]);
			return 2;
		}
	}

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	c.fd = open(VMSG_FFA_SIM_PATH, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (c.fd < 0) {
		vmsg_report_open_error(VMSG_FFA_SIM_PATH, errno,
				       "virtio_msg_ffa_sim");
		return 1;
	}
	t = vmsg_transport_create(&sim_ops, &c, VIRTIO_MSG_FFA_MAX_MSG_SIZE);
	if (!t) {
		perror("vmsg_transport_create");
		return 1;
	}
	if (rng && !vmsg_transport_add(t, 1, &vmsg_rng_model, &rng_st)) {
		perror("rng");
		return 1;
	}
	if (blk_mib) {
		if (vmsg_blk_open(&blk, NULL, blk_mib, false, 2))
			return 1;
		if (!vmsg_transport_add(t, 2, blk.served.model,
					blk.served.priv)) {
			perror("blk");
			return 1;
		}
	}
	if (net) {
		net_st.ports[0].dev_num = 3;
		net_st.ports[1].dev_num = 4;
		if (vmsg_net_init(&net_st, 1500))
			return 1;
		for (i = 0; i < 2; i++) {
			net_st.served[i].dev =
				vmsg_transport_add(t, net_st.served[i].dev_num,
						   net_st.served[i].model,
						   net_st.served[i].priv);
			if (!net_st.served[i].dev) {
				perror("net");
				return 1;
			}
		}
	}
	if (console) {
		if (vmsg_con_init(&con, 5, false))
			return 1;
		con.served.dev = vmsg_transport_add(t, 5, con.served.model,
						    con.served.priv);
		if (!con.served.dev) {
			perror("console");
			return 1;
		}
	}
	if (ioctl(c.fd, VMSG_FFA_SIM_START)) {
		perror("VMSG_FFA_SIM_START");
		return 1;
	}
	if (!quiet)
		printf("ready\n");
	fflush(stdout);

	while (!stop) {
		struct pollfd p = { .fd = c.fd, .events = POLLIN };
		ssize_t n;

		/* Frames a kick left for later go before the next wait. */
		if (net)
			more = vmsg_net_resume_tx(&net_st);
		if (poll(&p, 1, more ? 0 : 200) <= 0)
			continue;
		n = read(c.fd, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			perror("read");
			status = 1;
			break;
		}
		vmsg_transport_dispatch(t, buf, n);
		if (isolation && !checked) {
			checked = true;
			if (!isolation_check(&c))
				status = 1;
			fflush(stdout);
		}
	}

	vmsg_transport_destroy(t);
	close(c.fd);
	if (net)
		vmsg_net_fini(&net_st, quiet ? NULL : stdout);
	if (console)
		vmsg_con_fini(&con, quiet ? NULL : stdout);
	if (blk_mib)
		vmsg_blk_close(&blk);
	if (!quiet)
		printf("served %llu rng bytes; blk %llu reads, %llu writes\n",
		       rng_st.bytes, blk_mib ? blk.reads : 0,
		       blk_mib ? blk.writes : 0);
	return status;
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmsg-net: two virtio-net devices served over the virtio-msg loopback
 * bus and wired back to back, like two NICs joined by a cable: every frame
 * one device transmits is delivered to the other one's receive queue. The
 * driver side gets two network interfaces; put them in two network
 * namespaces and traffic flows between the namespaces.
 *
 * No offloads and no mergeable receive buffers: each frame travels with a
 * 12-byte struct virtio_net_hdr_v1 that is all zero but num_buffers. A
 * frame for a device with no receive buffer is held until the driver adds
 * buffers (and kicks), up to VMSG_NET_HOLD_MAX frames; beyond that it is
 * dropped and counted, as a real NIC would.
 */
#include <getopt.h>
#include <stdio.h>

#include <virtio-msg/loopback.h>

#include "models/models.h"

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"Usage: %s [options]\n"
		"Serve two virtio-net devices, A and B, over the virtio-msg\n"
		"loopback bus, connected back to back: what A sends, B receives\n"
		"and the other way round.\n"
		"\n"
		"  -n, --dev-num N      device number of A (default 1)\n"
		"  -N, --peer-dev-num N device number of B (default 2)\n"
		"  -m, --mac MAC        MAC address of A (default 02:76:6d:00:00:01)\n"
		"  -M, --peer-mac MAC   MAC address of B (default 02:76:6d:00:00:02)\n"
		"  -u, --mtu N          MTU offered to both (68-%u, default 1500)\n"
		"  -Q, --queue-size N   largest queue size offered to both\n"
		"                       (1-%u, default %u)\n"
		"  -d, --device PATH    loopback character device (default %s)\n"
		"      --wire GEN       wire generation, v1 or v2 (default v2)\n"
		"      --window SIZE    serve through a memory window of SIZE bytes\n"
		"                       (K, M or G suffix), as a shared-memory bus\n"
		"  -q, --quiet          print nothing but errors\n"
		"  -h, --help           show this help\n"
		"\n"
		"Prints \"ready\" once both devices are offered. SIGTERM or SIGINT\n"
		"removes them, prints counters and exits with status 0. Frames for\n"
		"a device without receive buffers are held (up to %u) or dropped.\n",
		prog, VMSG_NET_MTU_MAX, VMSG_NET_QUEUE_MAX, VMSG_NET_QUEUE_MAX,
		VMSG_LB_DEFAULT_PATH, VMSG_NET_HOLD_MAX);
}

/* The options: the two ports, and the MTU and queue size both get. */
struct net_opts {
	struct vmsg_net *net;
	unsigned long mtu;
};

static int net_parse_opt(int opt, const char *arg, void *priv)
{
	struct net_opts *o = priv;
	struct vmsg_net_port *ports = o->net->ports;
	unsigned long qsize;

	switch (opt) {
	case 'N':
		return vmsg_lb_parse_dev_num(arg, &ports[1].dev_num);
	case 'm':
	case 'M':
		if (vmsg_parse_mac(arg, ports[opt == 'M'].mac)) {
			fprintf(stderr, "bad MAC address: %s\n", arg);
			return -1;
		}
		return 0;
	case 'u':
		if (vmsg_lb_parse_num(arg, 68, VMSG_NET_MTU_MAX, &o->mtu)) {
			fprintf(stderr, "bad MTU: %s\n", arg);
			return -1;
		}
		return 0;
	case 'Q':
		if (vmsg_lb_parse_num(arg, 1, VMSG_NET_QUEUE_MAX, &qsize)) {
			fprintf(stderr, "bad queue size: %s\n", arg);
			return -1;
		}
		o->net->queue_size = qsize;
		return 0;
	}
	return -1;
}

int main(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "peer-dev-num", required_argument, NULL, 'N' },
		{ "mac", required_argument, NULL, 'm' },
		{ "peer-mac", required_argument, NULL, 'M' },
		{ "mtu", required_argument, NULL, 'u' },
		{ "queue-size", required_argument, NULL, 'Q' },
		{ }
	};
	/* A's device number is the shared --dev-num, set once parsed. */
	static struct vmsg_net net = VMSG_NET_DEFAULTS;
	struct net_opts o = { .net = &net, .mtu = 1500 };
	const struct vmsg_lb_cmdline cmdline = {
		.short_opts = "N:m:M:u:Q:",
		.long_opts = long_opts,
		.parse_opt = net_parse_opt,
		.usage = usage,
		.priv = &o,
	};
	const struct vmsg_serve_hooks hooks = {
		.work = vmsg_net_resume_tx,
		.priv = &net,
	};
	struct vmsg_lb_args args = { .dev_num = 1 };
	enum vmsg_lb_serve_result result;
	int exit_status;

	if (!vmsg_lb_parse_args(argc, argv, &cmdline, &args, &exit_status))
		return exit_status;
	net.ports[0].dev_num = args.dev_num;
	if (vmsg_net_init(&net, o.mtu))
		return 2;

	result = vmsg_lb_serve(&args, net.served, 2,
			       args.quiet ? NULL : stdout, &hooks);
	if (result == VMSG_LB_NOT_SERVED)
		return 1;
	vmsg_net_fini(&net, args.quiet ? NULL : stdout);
	return result == VMSG_LB_STOPPED ? 0 : 1;
}

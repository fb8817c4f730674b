// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmsg-blk: a virtio block device served over the virtio-msg loopback bus,
 * backed by memory or by a file. Reads, writes, flushes (fsync() of the
 * file) and the device ID are supported.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include <linux/virtio_ring.h>

#include <virtio-msg/loopback.h>

#include "models/models.h"

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"Usage: %s [options] (--file PATH | --size MIB)\n"
		"Serve a virtio block device over the virtio-msg loopback bus.\n"
		"\n"
		"  -f, --file PATH     back the disk with a file (its size, rounded\n"
		"                      down to 512 bytes, is the disk size)\n"
		"  -s, --size MIB      back the disk with MIB MiB of memory\n"
		"  -r, --read-only     offer a read-only disk\n"
		"      --no-indirect   do not offer indirect descriptors: each\n"
		"                      segment of a request takes a ring entry\n"
		"  -d, --device PATH   loopback character device (default %s)\n"
		"      --wire GEN      wire generation, v1 or v2 (default v2)\n"
		"      --window SIZE   serve through a memory window of SIZE bytes\n"
		"                      (K, M or G suffix), as a shared-memory bus\n"
		"  -n, --dev-num N     device number on the bus (default 1)\n"
		"      --recovery-ms MS\n"
		"                      if this process dies, the disk stays MS ms\n"
		"                      (at most 60000) for another vmsg-blk --adopt\n"
		"      --adopt         take over the disk N (--dev-num) of a dead\n"
		"                      vmsg-blk that had --recovery-ms, and finish\n"
		"                      its requests; needs --file, the same image\n"
		"  -q, --quiet         print nothing but errors\n"
		"  -h, --help          show this help\n"
		"\n"
		"Prints \"ready\" once the device is offered. SIGTERM or SIGINT\n"
		"flushes the file, removes the device and exits with status 0.\n",
		prog, VMSG_LB_DEFAULT_PATH);
}

/* Long options without a short form; the library's start at 0x100. */
#define BLK_OPT_NO_INDIRECT	0x200

/* The options that say what backs the disk, and how it is offered. */
struct blk_opts {
	const char *file;
	unsigned long size_mib;
	bool read_only;
	bool no_indirect;
};

static int blk_parse_opt(int opt, const char *arg, void *priv)
{
	struct blk_opts *o = priv;

	switch (opt) {
	case 'f':
		o->file = arg;
		return 0;
	case 's':
		if (vmsg_lb_parse_num(arg, 1, 1UL << 20, &o->size_mib)) {
			fprintf(stderr, "bad size: %s\n", arg);
			return -1;
		}
		return 0;
	case 'r':
		o->read_only = true;
		return 0;
	case BLK_OPT_NO_INDIRECT:
		o->no_indirect = true;
		return 0;
	}
	return -1;
}

int main(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "size", required_argument, NULL, 's' },
		{ "read-only", no_argument, NULL, 'r' },
		{ "no-indirect", no_argument, NULL, BLK_OPT_NO_INDIRECT },
		{ }
	};
	static struct vmsg_blk b;
	struct blk_opts o = { };
	const struct vmsg_lb_cmdline cmdline = {
		.short_opts = "f:s:r",
		.long_opts = long_opts,
		.parse_opt = blk_parse_opt,
		.usage = usage,
		.priv = &o,
		/* The model completes each request before it takes the next. */
		.adoptable = true,
	};
	struct vmsg_lb_args args = { .dev_num = 1 };
	enum vmsg_lb_serve_result result;
	int exit_status;

	if (!vmsg_lb_parse_args(argc, argv, &cmdline, &args, &exit_status))
		return exit_status;
	if (!o.file == !o.size_mib) {
		usage(stderr, argv[0]);
		return 2;
	}
	if (args.adopt && !o.file) {
		fprintf(stderr,
			"--adopt needs --file: a disk in memory died with its backend\n");
		return 2;
	}
	if (vmsg_blk_open(&b, o.file, o.size_mib, o.read_only, args.dev_num))
		return 1;
	/* Block 0 of the features, which the model points at. */
	if (o.no_indirect)
		b.features[0] &= ~(1U << VIRTIO_RING_F_INDIRECT_DESC);

	result = vmsg_lb_serve(&args, &b.served, 1,
			       args.quiet ? NULL : stdout, NULL);
	if (result == VMSG_LB_NOT_SERVED) {
		vmsg_blk_close(&b);
		return 1;
	}
	exit_status = result == VMSG_LB_STOPPED ? 0 : 1;
	if (vmsg_blk_close(&b))
		exit_status = 1;
	if (!args.quiet)
		printf("served %llu reads, %llu writes, %llu flushes\n",
		       b.reads, b.writes, b.flushes);
	return exit_status;
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmsg-rng: a virtio entropy device (virtio-rng) served over the
 * virtio-msg loopback bus. The driver side sees a virtio-rng device and
 * feeds it to the hwrng core (/dev/hwrng); the bytes come from
 * getrandom().
 */
#include <stdio.h>

#include <virtio-msg/loopback.h>

#include "models/models.h"

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"Usage: %s [options]\n"
		"Serve a virtio-rng device over the virtio-msg loopback bus.\n"
		"\n"
		"  -d, --device PATH   loopback character device (default %s)\n"
		"      --wire GEN      wire generation, v1 or v2 (default v2)\n"
		"      --window SIZE   serve through a memory window of SIZE bytes\n"
		"                      (K, M or G suffix), as a shared-memory bus\n"
		"  -n, --dev-num N     device number on the bus (default 1)\n"
		"  -q, --quiet         print nothing but errors\n"
		"  -h, --help          show this help\n"
		"\n"
		"Prints \"ready\" once the device is offered. SIGTERM or SIGINT\n"
		"removes the device and exits with status 0.\n",
		prog, VMSG_LB_DEFAULT_PATH);
}

int main(int argc, char **argv)
{
	static const struct vmsg_lb_cmdline cmdline = { .usage = usage };
	struct vmsg_lb_args args = { .dev_num = 1 };
	struct vmsg_rng st = { 0 };
	struct vmsg_serve_dev rng = { .model = &vmsg_rng_model, .priv = &st };
	enum vmsg_lb_serve_result result;
	int exit_status;

	if (!vmsg_lb_parse_args(argc, argv, &cmdline, &args, &exit_status))
		return exit_status;
	rng.dev_num = args.dev_num;

	result = vmsg_lb_serve(&args, &rng, 1, args.quiet ? NULL : stdout,
			       NULL);
	if (result == VMSG_LB_NOT_SERVED)
		return 1;
	if (!args.quiet)
		printf("served %llu bytes in %llu buffers\n", st.bytes,
		       st.chains);
	return result == VMSG_LB_STOPPED ? 0 : 1;
}

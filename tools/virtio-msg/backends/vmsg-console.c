// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmsg-console: a virtio console device served over the virtio-msg
 * loopback bus. One port, no multiport: the driver side makes it an hvc
 * console (/dev/hvcN). By default whatever the driver writes comes back
 * to it (echo); with --stdio it goes to our stdout instead, and our stdin
 * goes to the driver.
 *
 * Bytes for the driver wait in a buffer of VMSG_CON_BUF_SIZE bytes until it has
 * receive buffers; past that they are dropped and counted. Transmitted
 * buffers are always returned at once: the driver's console path waits
 * for them with interrupts off.
 */
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

#include <virtio-msg/loopback.h>

#include "models/models.h"

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"Usage: %s [options]\n"
		"Serve a virtio console device (one port, /dev/hvcN on the driver\n"
		"side) over the virtio-msg loopback bus.\n"
		"\n"
		"  -e, --echo          send everything the driver writes back to it\n"
		"                      (default)\n"
		"  -s, --stdio         copy what the driver writes to stdout and\n"
		"                      stdin to the driver\n"
		"  -d, --device PATH   loopback character device (default %s)\n"
		"      --wire GEN      wire generation, v1 or v2 (default v2)\n"
		"      --window SIZE   serve through a memory window of SIZE bytes\n"
		"                      (K, M or G suffix), as a shared-memory bus\n"
		"  -n, --dev-num N     device number on the bus (default 1)\n"
		"  -q, --quiet         print nothing but errors\n"
		"  -h, --help          show this help\n"
		"\n"
		"Prints \"ready\" once the device is offered (on stderr with --stdio).\n"
		"SIGTERM or SIGINT removes the device and exits with status 0.\n",
		prog, VMSG_LB_DEFAULT_PATH);
}

/* Which way the console goes, until the console exists. */
static int con_parse_opt(int opt, const char *arg, void *priv)
{
	bool *relay = priv;

	(void)arg;
	switch (opt) {
	case 'e':
		*relay = false;
		return 0;
	case 's':
		*relay = true;
		return 0;
	}
	return -1;
}

int main(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "echo", no_argument, NULL, 'e' },
		{ "stdio", no_argument, NULL, 's' },
		{ }
	};
	static struct vmsg_con c;
	bool relay = false;
	const struct vmsg_lb_cmdline cmdline = {
		.short_opts = "es",
		.long_opts = long_opts,
		.parse_opt = con_parse_opt,
		.usage = usage,
		.priv = &relay,
	};
	const struct vmsg_serve_hooks hooks = {
		.wait_fd = vmsg_con_stdin_fd,
		.fd_ready = vmsg_con_stdin_ready,
		.priv = &c,
	};
	struct vmsg_lb_args args = { .dev_num = 1 };
	enum vmsg_lb_serve_result result;
	int exit_status;
	FILE *status;

	if (!vmsg_lb_parse_args(argc, argv, &cmdline, &args, &exit_status))
		return exit_status;
	/* With --stdio, stdout carries the console: talk on stderr. */
	status = relay ? stderr : stdout;
	if (vmsg_con_init(&c, args.dev_num, relay))
		return 1;
	/* A reader that went away must not kill us; write() reports it. */
	signal(SIGPIPE, SIG_IGN);

	result = vmsg_lb_serve(&args, &c.served, 1,
			       args.quiet ? NULL : status, &hooks);
	if (result == VMSG_LB_NOT_SERVED) {
		vmsg_con_fini(&c, NULL);
		return 1;
	}
	vmsg_con_fini(&c, args.quiet ? NULL : status);
	return result == VMSG_LB_STOPPED ? 0 : 1;
}

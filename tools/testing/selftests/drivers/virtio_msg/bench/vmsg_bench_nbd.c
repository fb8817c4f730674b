// SPDX-License-Identifier: GPL-2.0
/*
 * vmsg_bench_nbd [-S MIB] DEV
 * vmsg_bench_nbd -d DEV
 *
 * The NBD reference of make bench: a block device served from userspace
 * through the kernel's own nbd driver, with the data in memory, as a
 * memory-backed nbdkit would serve it. The first form attaches DEV (an
 * nbd device, /dev/nbd0) to a server of MIB MiB (64 by default) that runs
 * in a child process at the other end of a socket pair, and returns when
 * the device is disconnected; the second disconnects DEV.
 *
 * The server answers the transmission phase of the protocol (the kernel
 * speaks it once given the socket; there is no handshake to do), one
 * request at a time, as the single-threaded backends of virtio-msg do.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/nbd.h>

#include "bench_stats.h"

#define REQ_SIZE	28
#define REPLY_SIZE	16
#define BLOCK		4096u
#define MAX_LEN		(32u << 20)

static void usage(const char *prog)
{
	fprintf(stderr, "Usage: %s [-S MIB] DEV\n       %s -d DEV\n",
		prog, prog);
	exit(2);
}

static int io_full(int fd, void *buf, size_t len, int out)
{
	unsigned char *p = buf;

	while (len) {
		ssize_t n = out ? write(fd, p, len) : read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

/* Serve requests on @sock from @mem (@size bytes) until DISC or EOF. */
static int serve(int sock, unsigned char *mem, uint64_t size,
		 unsigned char *scratch)
{
	unsigned char req[REQ_SIZE], reply[REPLY_SIZE];
	uint32_t magic, type, len, err;
	uint64_t from;

	for (;;) {
		if (io_full(sock, req, sizeof(req), 0))
			return 0;
		memcpy(&magic, req, 4);
		memcpy(&type, req + 4, 4);
		memcpy(&from, req + 16, 8);
		memcpy(&len, req + 24, 4);
		if (be32toh(magic) != NBD_REQUEST_MAGIC)
			return 1;
		type = be32toh(type) & 0xffff;
		from = be64toh(from);
		len = be32toh(len);
		if (type == NBD_CMD_DISC)
			return 0;
		err = 0;
		if ((type == NBD_CMD_READ || type == NBD_CMD_WRITE) &&
		    (len > MAX_LEN || from > size || len > size - from))
			err = EINVAL;
		if (type == NBD_CMD_WRITE) {
			/* The payload follows even when it is refused. */
			if (io_full(sock, err ? scratch : mem + from, len, 0))
				return 1;
		} else if (type != NBD_CMD_READ && type != NBD_CMD_FLUSH) {
			err = EINVAL;
		}
		magic = htobe32(NBD_REPLY_MAGIC);
		err = htobe32(err);
		memcpy(reply, &magic, 4);
		memcpy(reply + 4, &err, 4);
		memcpy(reply + 8, req + 8, 8);
		if (io_full(sock, reply, sizeof(reply), 1))
			return 1;
		if (type == NBD_CMD_READ && !err &&
		    io_full(sock, mem + from, len, 1))
			return 1;
	}
}

static int disconnect(const char *dev)
{
	int fd = open(dev, O_RDWR);

	if (fd < 0) {
		perror(dev);
		return 1;
	}
	if (ioctl(fd, NBD_DISCONNECT) < 0)
		perror("NBD_DISCONNECT");
	ioctl(fd, NBD_CLEAR_SOCK);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long span_mib = 64;
	unsigned char *mem, *scratch;
	int c, fd, sv[2], status;
	bool detach = false;
	uint64_t size;
	pid_t pid;

	while ((c = getopt(argc, argv, "S:d")) != -1) {
		switch (c) {
		case 'S':
			span_mib = bench_parse_ulong(optarg, "span");
			break;
		case 'd':
			detach = true;
			break;
		default:
			usage(argv[0]);
		}
	}
	if (optind != argc - 1)
		usage(argv[0]);
	if (detach)
		return disconnect(argv[optind]);

	size = (uint64_t)span_mib << 20;
	fd = open(argv[optind], O_RDWR);
	if (fd < 0) {
		perror(argv[optind]);
		return 1;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
		perror("socketpair");
		return 1;
	}
	mem = calloc(1, size);
	scratch = malloc(MAX_LEN);
	if (!mem || !scratch) {
		fprintf(stderr, "no memory for %lu MiB\n", span_mib);
		return 1;
	}

	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (!pid) {
		close(sv[0]);
		close(fd);
		_exit(serve(sv[1], mem, size, scratch));
	}
	close(sv[1]);
	free(mem);
	free(scratch);

	if (ioctl(fd, NBD_SET_BLKSIZE, (unsigned long)BLOCK) < 0 ||
	    ioctl(fd, NBD_SET_SIZE_BLOCKS, (unsigned long)(size / BLOCK)) < 0 ||
	    ioctl(fd, NBD_SET_FLAGS,
		  (unsigned long)(NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH)) < 0 ||
	    ioctl(fd, NBD_SET_SOCK, (unsigned long)sv[0]) < 0) {
		perror("nbd setup");
		kill(pid, SIGKILL);
		return 1;
	}
	/* Returns once the device is disconnected (vmsg_bench_nbd -d). */
	if (ioctl(fd, NBD_DO_IT) < 0 && errno != EPIPE && errno != ENOTCONN)
		perror("NBD_DO_IT");
	ioctl(fd, NBD_CLEAR_QUE);
	ioctl(fd, NBD_CLEAR_SOCK);
	close(sv[0]);
	close(fd);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		fprintf(stderr, "the NBD server failed\n");
		return 1;
	}
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * TCP load between two network namespaces of one machine:
 *
 *   vmsg_bench_net server [-p PORT]
 *	serve one connection after the other until killed;
 *   vmsg_bench_net stream [-p PORT] [-t SECONDS] [-s BYTES] ADDR
 *	send BYTES (65536) per write() for SECONDS (3); the server counts
 *	what arrived and answers with the count once the sender is done;
 *	prints "bytes=N seconds=S mbit_s=R";
 *   vmsg_bench_net rr [-p PORT] [-t SECONDS] [-s BYTES] ADDR
 *	request/response: send BYTES (64) and wait for the server to send
 *	them back, one at a time, for SECONDS (3), TCP_NODELAY on both
 *	ends; prints "transactions=N seconds=S tps=R" and the latency line
 *	of vmsg_bench_read.
 *
 * PORT is 5301 by default. The first byte of a connection says what the
 * client wants: 'S' (stream) or 'R' (request/response, then the request
 * size as a 32-bit number).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench_stats.h"

#define DEFAULT_PORT	5301
#define MAX_BYTES	(1024 * 1024UL)
#define CONNECT_MS	5000

static bool read_full(int fd, void *buf, size_t len)
{
	char *p = buf;
	ssize_t n;

	while (len) {
		n = read(fd, p, len);
		if (n <= 0)
			return false;
		p += n;
		len -= n;
	}
	return true;
}

static bool write_full(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n <= 0)
			return false;
		p += n;
		len -= n;
	}
	return true;
}

static void nodelay(int s)
{
	int one = 1;

	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* Count what arrives until the peer shuts down, then tell it. */
static void serve_stream(int c, char *buf)
{
	uint64_t total = 0;
	ssize_t n;

	while ((n = read(c, buf, MAX_BYTES)) > 0)
		total += n;
	write_full(c, &total, sizeof(total));
}

static void serve_rr(int c, char *buf)
{
	uint32_t size;

	if (!read_full(c, &size, sizeof(size)) || !size || size > MAX_BYTES)
		return;
	nodelay(c);
	while (read_full(c, buf, size) && write_full(c, buf, size))
		;
}

static int server(unsigned int port)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_ANY),
	};
	char *buf = malloc(MAX_BYTES), mode;
	int s, c, one = 1;

	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (!buf || s < 0 ||
	    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(s, (struct sockaddr *)&sin, sizeof(sin)) || listen(s, 4)) {
		perror("server");
		return 1;
	}
	for (;;) {
		c = accept(s, NULL, NULL);
		if (c < 0) {
			if (errno == EINTR)
				continue;
			perror("accept");
			return 1;
		}
		if (read_full(c, &mode, 1)) {
			if (mode == 'S')
				serve_stream(c, buf);
			else if (mode == 'R')
				serve_rr(c, buf);
		}
		close(c);
	}
}

/* Connect to @addr, retrying for a while: the server may be starting. */
static int dial(const char *addr, unsigned int port)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
	};
	uint64_t end = bench_now_ns() + CONNECT_MS * 1000000ULL;
	int s;

	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1) {
		fprintf(stderr, "bad address: %s\n", addr);
		exit(2);
	}
	do {
		s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s < 0)
			break;
		if (!connect(s, (struct sockaddr *)&sin, sizeof(sin)))
			return s;
		close(s);
		usleep(100 * 1000);
	} while (bench_now_ns() < end);
	perror(addr);
	exit(1);
}

static int stream(const char *addr, unsigned int port, unsigned long secs,
		  unsigned long bytes)
{
	char *buf = calloc(1, bytes);
	uint64_t total, t0, end;
	double elapsed;
	int s;

	s = dial(addr, port);
	if (!buf || !write_full(s, "S", 1))
		goto err;
	t0 = bench_now_ns();
	end = t0 + secs * 1000000000ULL;
	do {
		if (!write_full(s, buf, bytes))
			goto err;
	} while (bench_now_ns() < end);
	if (shutdown(s, SHUT_WR) || !read_full(s, &total, sizeof(total)))
		goto err;
	elapsed = (bench_now_ns() - t0) / 1e9;
	printf("bytes=%llu seconds=%.2f mbit_s=%.1f\n",
	       (unsigned long long)total, elapsed, total * 8 / elapsed / 1e6);
	close(s);
	return 0;
err:
	perror("stream");
	return 1;
}

static int request_response(const char *addr, unsigned int port,
			    unsigned long secs, unsigned long bytes)
{
	struct bench_samples lat = { 0 };
	char *buf = calloc(1, bytes);
	uint32_t size = bytes;
	uint64_t t0, t1, start, end, n = 0;
	int s;

	s = dial(addr, port);
	nodelay(s);
	if (!buf || !write_full(s, "R", 1) ||
	    !write_full(s, &size, sizeof(size)))
		goto err;
	start = bench_now_ns();
	end = start + secs * 1000000000ULL;
	do {
		t0 = bench_now_ns();
		if (!write_full(s, buf, bytes) || !read_full(s, buf, bytes))
			goto err;
		t1 = bench_now_ns();
		bench_samples_add(&lat, t1 - t0);
		n++;
	} while (t1 < end);
	printf("transactions=%llu seconds=%.2f tps=%.0f ",
	       (unsigned long long)n, (t1 - start) / 1e9,
	       n / ((t1 - start) / 1e9));
	bench_samples_print(&lat);
	printf("\n");
	bench_samples_free(&lat);
	close(s);
	return 0;
err:
	perror("request/response");
	return 1;
}

static void usage(const char *prog)
{
	fprintf(stderr,
		"Usage: %s server [-p PORT]\n"
		"       %s stream|rr [-p PORT] [-t SECONDS] [-s BYTES] ADDR\n",
		prog, prog);
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned long port = DEFAULT_PORT, secs = 3, bytes = 0;
	const char *cmd;
	int c;

	if (argc < 2)
		usage(argv[0]);
	cmd = argv[1];
	optind = 2;
	while ((c = getopt(argc, argv, "p:t:s:")) != -1) {
		switch (c) {
		case 'p':
			port = bench_parse_ulong(optarg, "port");
			break;
		case 't':
			secs = bench_parse_ulong(optarg, "seconds");
			break;
		case 's':
			bytes = bench_parse_ulong(optarg, "size");
			break;
		default:
			usage(argv[0]);
		}
	}
	if (port > 65535 || bytes > MAX_BYTES)
		usage(argv[0]);
	signal(SIGPIPE, SIG_IGN);
	if (!strcmp(cmd, "server") && optind == argc)
		return server(port);
	if (optind != argc - 1)
		usage(argv[0]);
	if (!strcmp(cmd, "stream"))
		return stream(argv[optind], port, secs, bytes ? : 65536);
	if (!strcmp(cmd, "rr"))
		return request_response(argv[optind], port, secs,
					bytes ? : 64);
	usage(argv[0]);
}

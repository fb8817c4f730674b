// SPDX-License-Identifier: GPL-2.0
/*
 * vmsg_bench_pipe [-s SIZE] [-t SECONDS]
 *
 * Ping-pong between two processes over a pair of pipes: the parent
 * writes SIZE bytes (64 by default), the child reads them and writes
 * them back, and the parent times each round trip for SECONDS (3 by
 * default). Prints the same line as vmsg_bench_read:
 *
 *   samples=N avg_us=A p50_us=M p99_us=P
 *
 * Each round trip wakes the other process twice, as a request to a
 * device served by a process of the same machine does.
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_stats.h"

static void usage(const char *prog)
{
	fprintf(stderr, "Usage: %s [-s SIZE] [-t SECONDS]\n", prog);
	exit(2);
}

/* Read exactly @len bytes; false on end of file or error. */
static bool read_full(int fd, char *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = read(fd, buf, len);
		if (n <= 0)
			return false;
		buf += n;
		len -= n;
	}
	return true;
}

static void echo_child(int in, int out, char *buf, size_t size)
{
	while (read_full(in, buf, size))
		if (write(out, buf, size) != (ssize_t)size)
			break;
	_exit(0);
}

int main(int argc, char **argv)
{
	struct bench_samples s = { 0 };
	unsigned long size = 64, secs = 3;
	int to_child[2], to_parent[2], c;
	uint64_t end, t0, t1;
	pid_t pid;
	char *buf;

	while ((c = getopt(argc, argv, "s:t:")) != -1) {
		switch (c) {
		case 's':
			size = bench_parse_ulong(optarg, "size");
			break;
		case 't':
			secs = bench_parse_ulong(optarg, "seconds");
			break;
		default:
			usage(argv[0]);
		}
	}
	if (optind != argc)
		usage(argv[0]);
	buf = calloc(1, size);
	if (!buf || pipe(to_child) || pipe(to_parent)) {
		perror("pipe");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (!pid) {
		close(to_child[1]);
		close(to_parent[0]);
		echo_child(to_child[0], to_parent[1], buf, size);
	}
	close(to_child[0]);
	close(to_parent[1]);
	end = bench_now_ns() + secs * 1000000000ULL;
	do {
		t0 = bench_now_ns();
		if (write(to_child[1], buf, size) != (ssize_t)size ||
		    !read_full(to_parent[0], buf, size)) {
			perror("ping-pong");
			kill(pid, SIGKILL);
			return 1;
		}
		t1 = bench_now_ns();
		bench_samples_add(&s, t1 - t0);
	} while (t1 < end);
	close(to_child[1]);
	waitpid(pid, NULL, 0);
	bench_samples_print(&s);
	printf("\n");
	bench_samples_free(&s);
	free(buf);
	return 0;
}

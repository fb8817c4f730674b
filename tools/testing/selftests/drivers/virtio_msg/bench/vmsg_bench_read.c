// SPDX-License-Identifier: GPL-2.0
/*
 * vmsg_bench_read [-s SIZE] [-t SECONDS] FILE
 *
 * Times reads of SIZE bytes (64 by default) from FILE, one after the
 * other, for SECONDS (3 by default), and prints how many reads were
 * timed and their average, median and 99th percentile in microseconds:
 *
 *   samples=N avg_us=A p50_us=M p99_us=P short=S
 *
 * S counts reads that returned fewer bytes than asked. make bench reads
 * /dev/hwrng with it: a virtio-rng device refills its one buffer as soon
 * as it is drained, so back to back reads of the buffer's size each wait
 * for one request (one kick and one used event) to the device.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench_stats.h"

static void usage(const char *prog)
{
	fprintf(stderr, "Usage: %s [-s SIZE] [-t SECONDS] FILE\n", prog);
	exit(2);
}

int main(int argc, char **argv)
{
	struct bench_samples s = { 0 };
	unsigned long size = 64, secs = 3, shortr = 0;
	uint64_t end, t0, t1;
	char *buf;
	ssize_t n;
	int fd, c;

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
	if (optind != argc - 1)
		usage(argv[0]);
	buf = malloc(size);
	fd = open(argv[optind], O_RDONLY | O_CLOEXEC);
	if (!buf || fd < 0) {
		perror(argv[optind]);
		return 1;
	}
	end = bench_now_ns() + secs * 1000000000ULL;
	do {
		t0 = bench_now_ns();
		n = read(fd, buf, size);
		t1 = bench_now_ns();
		if (n < 0) {
			perror("read");
			return 1;
		}
		if ((size_t)n < size)
			shortr++;
		bench_samples_add(&s, t1 - t0);
	} while (t1 < end);
	bench_samples_print(&s);
	printf(" short=%lu\n", shortr);
	bench_samples_free(&s);
	free(buf);
	close(fd);
	return 0;
}

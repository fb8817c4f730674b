// SPDX-License-Identifier: GPL-2.0
/*
 * vmsg_bench_memcpy [-b BYTES] [-t SECONDS] [-S MIB] [-r FILE]
 *
 * The ceiling of a bus that moves every byte by copying it: copies blocks
 * of BYTES (4096 by default) for SECONDS (3 by default), walking a span of
 * MIB MiB (4 by default) so that the copies are not served from one cache
 * line, and prints
 *
 *   bytes=B mb_s=M ops_s=O
 *
 * With -r, the source is FILE mapped read-only (for instance the shared
 * memory BAR of an ivshmem device, /sys/bus/pci/devices/D/resource2):
 * the copy out of a shared region that bouncing does. Nothing is written
 * to FILE.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench_stats.h"

static void usage(const char *prog)
{
	fprintf(stderr, "Usage: %s [-b BYTES] [-t SECONDS] [-S MIB] [-r FILE]\n",
		prog);
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned long bs = 4096, secs = 3, span_mib = 4;
	const char *file = NULL;
	unsigned long long ops = 0;
	size_t span, off = 0;
	uint64_t start, now, end;
	unsigned char *src, *dst;
	struct stat st;
	int c, fd;

	while ((c = getopt(argc, argv, "b:t:S:r:")) != -1) {
		switch (c) {
		case 'b':
			bs = bench_parse_ulong(optarg, "bytes");
			break;
		case 't':
			secs = bench_parse_ulong(optarg, "seconds");
			break;
		case 'S':
			span_mib = bench_parse_ulong(optarg, "span");
			break;
		case 'r':
			file = optarg;
			break;
		default:
			usage(argv[0]);
		}
	}
	if (optind != argc)
		usage(argv[0]);
	span = span_mib << 20;
	if (file) {
		fd = open(file, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &st)) {
			perror(file);
			return 1;
		}
		/* sysfs resource files report the BAR's size. */
		if ((size_t)st.st_size < span)
			span = st.st_size;
		src = mmap(NULL, span, PROT_READ, MAP_SHARED, fd, 0);
		close(fd);
		if (src == MAP_FAILED) {
			perror("mmap");
			return 1;
		}
	} else {
		src = malloc(span);
		if (src)
			memset(src, 0x5a, span);
	}
	dst = malloc(span);
	if (!src || !dst || bs > span) {
		fprintf(stderr, "%lu-byte blocks over %zu bytes: %s\n", bs,
			span, bs > span ? "blocks too big" : "no memory");
		return 1;
	}
	memset(dst, 0, span);

	start = bench_now_ns();
	end = start + secs * 1000000000ULL;
	do {
		/* A batch between clock reads: the clock costs more. */
		for (c = 0; c < 64; c++) {
			if (off + bs > span)
				off = 0;
			memcpy(dst + off, src + off, bs);
			off += bs;
			ops++;
		}
		/* The copies are used: the compiler must not drop them. */
		asm volatile("" : : "r"(dst) : "memory");
		now = bench_now_ns();
	} while (now < end);
	printf("bytes=%lu mb_s=%.1f ops_s=%.0f\n", bs,
	       (double)ops * bs / ((now - start) / 1e9) / 1e6,
	       (double)ops / ((now - start) / 1e9));
	return 0;
}

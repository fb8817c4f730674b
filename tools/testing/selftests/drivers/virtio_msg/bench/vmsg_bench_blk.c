// SPDX-License-Identifier: GPL-2.0
/*
 * vmsg_bench_blk [-m MODE] [-b BYTES] [-j THREADS] [-t SECONDS]
 *                [-S MIB] [-1] DEVICE
 *
 * A block load generator with O_DIRECT: THREADS threads (1 by default)
 * each keep one pread() or pwrite() of BYTES bytes (4096 by default) in
 * flight on DEVICE for SECONDS (3 by default), so the queue depth the
 * device sees is the number of threads. MODE is one of
 *
 *   randread, randwrite   offsets drawn at random, aligned to BYTES
 *   seqread, seqwrite     each thread walks its own slice in order
 *
 * over the first MIB MiB of the device (all of it by default; DEVICE may
 * also be a regular file). With -1,
 * a sequential run stops after one pass over its slice instead of after
 * SECONDS (to fill a disk before reading it back). Prints
 *
 *   ios=N seconds=S iops=I mb_s=M errors=E
 *
 * where M is in units of 10^6 bytes per second.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench_stats.h"

#define MAX_THREADS	256
#define ALIGN		4096

struct worker {
	pthread_t thread;
	int fd;
	unsigned int id;
	uint64_t ios;
	uint64_t errors;
};

static struct {
	bool write;
	bool random;
	bool once;
	unsigned long bs;
	unsigned long threads;
	uint64_t blocks;	/* of bs bytes, in the span */
} cfg;

static atomic_bool stop;

static uint64_t xorshift64(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	return x;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	uint64_t first, last, block, rnd;
	void *buf;
	ssize_t n;

	if (posix_memalign(&buf, ALIGN, cfg.bs)) {
		w->errors++;
		return NULL;
	}
	memset(buf, 0xa5 ^ w->id, cfg.bs);
	rnd = 0x9e3779b97f4a7c15ULL * (w->id + 1);
	/* Sequential: thread i walks blocks [first, last). */
	first = cfg.blocks * w->id / cfg.threads;
	last = cfg.blocks * (w->id + 1) / cfg.threads;
	block = first;
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		if (cfg.random) {
			block = xorshift64(&rnd) % cfg.blocks;
		} else if (block >= last) {
			if (cfg.once)
				break;
			block = first;
		}
		if (cfg.write)
			n = pwrite(w->fd, buf, cfg.bs, block * cfg.bs);
		else
			n = pread(w->fd, buf, cfg.bs, block * cfg.bs);
		if (n != (ssize_t)cfg.bs) {
			w->errors++;
			if (w->errors == 1)
				fprintf(stderr, "I/O at block %llu: %s\n",
					(unsigned long long)block,
					n < 0 ? strerror(errno) : "short");
			if (w->errors > 100)
				break;
		} else {
			w->ios++;
		}
		block++;
	}
	free(buf);
	return NULL;
}

/* The size of a block device, or of a regular file. */
static int device_size(int fd, uint64_t *size)
{
	struct stat st;

	if (fstat(fd, &st))
		return -1;
	if (S_ISREG(st.st_mode)) {
		*size = st.st_size;
		return 0;
	}
	return ioctl(fd, BLKGETSIZE64, size);
}

static void usage(const char *prog)
{
	fprintf(stderr,
		"Usage: %s [-m randread|randwrite|seqread|seqwrite] [-b BYTES]\n"
		"       [-j THREADS] [-t SECONDS] [-S MIB] [-1] DEVICE\n", prog);
	exit(2);
}

static void parse_mode(const char *mode, const char *prog)
{
	cfg.random = !strcmp(mode, "randread") || !strcmp(mode, "randwrite");
	if (!cfg.random && strcmp(mode, "seqread") && strcmp(mode, "seqwrite"))
		usage(prog);
	cfg.write = !strcmp(mode + strlen(mode) - 5, "write");
}

int main(int argc, char **argv)
{
	static struct worker workers[MAX_THREADS];
	unsigned long secs = 3, span_mib = 0, i;
	uint64_t size, ios = 0, errors = 0, t0, t1;
	double elapsed;
	int c, fd;

	cfg.bs = 4096;
	cfg.threads = 1;
	parse_mode("randread", argv[0]);
	while ((c = getopt(argc, argv, "m:b:j:t:S:1")) != -1) {
		switch (c) {
		case 'm':
			parse_mode(optarg, argv[0]);
			break;
		case 'b':
			cfg.bs = bench_parse_ulong(optarg, "block size");
			break;
		case 'j':
			cfg.threads = bench_parse_ulong(optarg, "threads");
			break;
		case 't':
			secs = bench_parse_ulong(optarg, "seconds");
			break;
		case 'S':
			span_mib = bench_parse_ulong(optarg, "span");
			break;
		case '1':
			cfg.once = true;
			break;
		default:
			usage(argv[0]);
		}
	}
	if (optind != argc - 1 || cfg.threads > MAX_THREADS || cfg.bs % 512)
		usage(argv[0]);
	fd = open(argv[optind], (cfg.write ? O_RDWR : O_RDONLY) | O_DIRECT |
		  O_CLOEXEC);
	if (fd < 0 || device_size(fd, &size)) {
		perror(argv[optind]);
		return 1;
	}
	if (span_mib && span_mib << 20 < size)
		size = span_mib << 20;
	cfg.blocks = size / cfg.bs;
	if (cfg.blocks < cfg.threads) {
		fprintf(stderr, "%s: too small for %lu threads of %lu bytes\n",
			argv[optind], cfg.threads, cfg.bs);
		return 1;
	}
	t0 = bench_now_ns();
	for (i = 0; i < cfg.threads; i++) {
		workers[i].fd = fd;
		workers[i].id = i;
		if (pthread_create(&workers[i].thread, NULL, work,
				   &workers[i])) {
			perror("pthread_create");
			return 1;
		}
	}
	if (!cfg.once) {
		sleep(secs);
		atomic_store(&stop, true);
	}
	for (i = 0; i < cfg.threads; i++) {
		pthread_join(workers[i].thread, NULL);
		ios += workers[i].ios;
		errors += workers[i].errors;
	}
	t1 = bench_now_ns();
	elapsed = (t1 - t0) / 1e9;
	printf("ios=%llu seconds=%.2f iops=%.0f mb_s=%.1f errors=%llu\n",
	       (unsigned long long)ios, elapsed, ios / elapsed,
	       ios * cfg.bs / elapsed / 1e6, (unsigned long long)errors);
	close(fd);
	return errors ? 1 : 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Latency samples and their summary for the virtio-msg benchmark
 * programs (bench_stats.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench_stats.h"

/* 16 Mi samples at most: far more than a run of a few seconds takes. */
#define BENCH_SAMPLES_MAX	(16UL << 20)

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

void bench_samples_add(struct bench_samples *s, uint64_t ns)
{
	uint64_t *more;
	size_t cap;

	if (s->nr == s->cap) {
		cap = s->cap ? s->cap * 2 : 4096;
		if (cap > BENCH_SAMPLES_MAX)
			return;
		more = realloc(s->ns, cap * sizeof(*more));
		if (!more)
			return;
		s->ns = more;
		s->cap = cap;
	}
	s->ns[s->nr++] = ns;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The sample below which @pct percent of the sorted samples fall. */
static uint64_t percentile(const struct bench_samples *s, unsigned int pct)
{
	size_t i = (s->nr * pct + 99) / 100;

	return s->ns[i ? i - 1 : 0];
}

void bench_samples_print(struct bench_samples *s)
{
	long double sum = 0;
	size_t i;

	if (!s->nr) {
		printf("samples=0");
		return;
	}
	qsort(s->ns, s->nr, sizeof(*s->ns), cmp_u64);
	for (i = 0; i < s->nr; i++)
		sum += s->ns[i];
	printf("samples=%zu avg_us=%.1Lf p50_us=%.1f p99_us=%.1f", s->nr,
	       sum / s->nr / 1000, percentile(s, 50) / 1000.0,
	       percentile(s, 99) / 1000.0);
}

void bench_samples_free(struct bench_samples *s)
{
	free(s->ns);
	s->ns = NULL;
	s->nr = 0;
	s->cap = 0;
}

unsigned long bench_parse_ulong(const char *arg, const char *what)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(arg, &end, 0);
	if (errno || end == arg || *end || !v) {
		fprintf(stderr, "bad %s: %s\n", what, arg);
		exit(2);
	}
	return v;
}

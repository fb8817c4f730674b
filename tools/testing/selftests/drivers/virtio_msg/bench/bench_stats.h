/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the virtio-msg benchmark programs: a monotonic clock, a
 * growing list of latency samples and its summary (count, average, 50th
 * and 99th percentile), and the "key=value" lines the programs print
 * for the guest script of make bench to pick up.
 */
#ifndef VMSG_BENCH_STATS_H
#define VMSG_BENCH_STATS_H

#include <stddef.h>
#include <stdint.h>

struct bench_samples {
	uint64_t *ns;
	size_t nr;
	size_t cap;
};

/* CLOCK_MONOTONIC, in nanoseconds. */
uint64_t bench_now_ns(void);

/* Record one sample; a sample that does not fit is counted as lost. */
void bench_samples_add(struct bench_samples *s, uint64_t ns);

/*
 * Print "samples=N avg_us=A p50_us=M p99_us=P" (sorting the samples);
 * with no sample, "samples=0".
 */
void bench_samples_print(struct bench_samples *s);

void bench_samples_free(struct bench_samples *s);

/* Parse a positive integer option, or exit with status 2 naming @what. */
unsigned long bench_parse_ulong(const char *arg, const char *what);

#endif /* VMSG_BENCH_STATS_H */

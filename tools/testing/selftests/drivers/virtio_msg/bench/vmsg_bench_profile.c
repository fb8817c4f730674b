// SPDX-License-Identifier: GPL-2.0
/*
 * vmsg_bench_profile -r
 * vmsg_bench_profile [-n TOP]
 *
 * Where the guest's kernel spent its timer ticks over a bench window,
 * from /proc/profile (the kernel booted with profile=SHIFT): -r clears
 * the counters at the start of the window; without it, the counters are
 * read and printed as one token,
 *
 *   kprof=TOTAL:NAME/TICKS,NAME/TICKS,...
 *
 * TOTAL ticks in all, then the TOP (12 by default) functions with the
 * most. /proc/profile counts only the core kernel's text, by buckets of
 * 2^SHIFT bytes, each named after the function it starts in (from
 * /proc/kallsyms); a tick in a module is counted in the last bucket,
 * printed as "modules". Ticks in user mode are not counted at all: the
 * backends' user and system time are in be_user_ms and be_sys_ms.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_stats.h"

#define PROFILE		"/proc/profile"
#define KALLSYMS	"/proc/kallsyms"
#define MAX_SYMS	(1024 * 1024)

struct ksym {
	unsigned long addr;
	char name[64];
};

struct hit {
	const char *name;
	unsigned long ticks;
};

static void usage(const char *prog)
{
	fprintf(stderr, "Usage: %s -r | [-n TOP]\n", prog);
	exit(2);
}

static int cmp_sym(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int cmp_name(const void *a, const void *b)
{
	const struct hit *x = a, *y = b;

	return strcmp(x->name, y->name);
}

static int cmp_hit(const void *a, const void *b)
{
	const struct hit *x = a, *y = b;

	if (x->ticks != y->ticks)
		return x->ticks < y->ticks ? 1 : -1;
	return strcmp(x->name, y->name);
}

/* The core kernel's text symbols, sorted; their count, or -1. */
static long read_syms(struct ksym **out, unsigned long *stext)
{
	char line[256], type, name[sizeof(((struct ksym *)0)->name)], mod[128];
	struct ksym *syms;
	unsigned long addr;
	long n = 0;
	FILE *f;

	f = fopen(KALLSYMS, "r");
	syms = calloc(MAX_SYMS, sizeof(*syms));
	if (!f || !syms) {
		perror(KALLSYMS);
		return -1;
	}
	*stext = 0;
	while (n < MAX_SYMS && fgets(line, sizeof(line), f)) {
		mod[0] = 0;
		if (sscanf(line, "%lx %c %63s %127s", &addr, &type, name,
			   mod) < 3)
			continue;
		if (mod[0] || (type != 't' && type != 'T'))
			continue;
		if (!strcmp(name, "_stext"))
			*stext = addr;
		syms[n].addr = addr;
		snprintf(syms[n].name, sizeof(syms[n].name), "%s", name);
		n++;
	}
	fclose(f);
	if (!*stext || !n) {
		fprintf(stderr, "%s: no _stext (not root?)\n", KALLSYMS);
		return -1;
	}
	qsort(syms, n, sizeof(*syms), cmp_sym);
	*out = syms;
	return n;
}

/* The symbol @addr falls in, or NULL. */
static const char *sym_of(const struct ksym *syms, long n, unsigned long addr)
{
	long lo = 0, hi = n - 1, mid;

	if (!n || addr < syms[0].addr)
		return NULL;
	while (lo < hi) {
		mid = lo + (hi - lo + 1) / 2;
		if (syms[mid].addr <= addr)
			lo = mid;
		else
			hi = mid - 1;
	}
	return syms[lo].name;
}

static int reset(void)
{
	int fd = open(PROFILE, O_WRONLY);

	/* Any write but a multiplier's 4 bytes clears the counters. */
	if (fd < 0 || write(fd, "0\n", 2) != 2) {
		fprintf(stderr, "%s: %s (boot with profile=N)\n", PROFILE,
			strerror(errno));
		return 1;
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long top = 12, stext, total = 0, i, nb, step;
	size_t nhits = 0, hcap = 0, cap = 0, len = 0, j, k;
	struct hit *hits = NULL;
	unsigned int *buf = NULL;
	struct ksym *syms;
	const char *name;
	long nsyms;
	ssize_t r;
	int c, fd;

	while ((c = getopt(argc, argv, "rn:")) != -1) {
		switch (c) {
		case 'r':
			return reset();
		case 'n':
			top = bench_parse_ulong(optarg, "top");
			break;
		default:
			usage(argv[0]);
		}
	}
	if (optind != argc)
		usage(argv[0]);

	fd = open(PROFILE, O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "%s: %s (boot with profile=N)\n", PROFILE,
			strerror(errno));
		return 1;
	}
	for (;;) {
		if (len == cap * sizeof(*buf)) {
			cap = cap ? cap * 2 : 1 << 18;
			buf = realloc(buf, cap * sizeof(*buf));
			if (!buf) {
				perror("realloc");
				return 1;
			}
		}
		r = read(fd, (char *)buf + len, cap * sizeof(*buf) - len);
		if (r < 0) {
			perror(PROFILE);
			return 1;
		}
		if (!r)
			break;
		len += r;
	}
	close(fd);
	nb = len / sizeof(*buf);
	/* Word 0 is the bucket size in bytes; bucket i is word i + 1. */
	if (nb < 2) {
		fprintf(stderr, "%s: empty\n", PROFILE);
		return 1;
	}
	step = buf[0];
	nsyms = read_syms(&syms, &stext);
	if (nsyms < 0)
		return 1;

	for (i = 1; i < nb; i++) {
		if (!buf[i])
			continue;
		total += buf[i];
		name = i == nb - 1 ? "modules" :
		       sym_of(syms, nsyms, stext + (i - 1) * step);
		if (!name)
			name = "?";
		/* The buckets of one function are adjacent. */
		if (nhits && !strcmp(hits[nhits - 1].name, name)) {
			hits[nhits - 1].ticks += buf[i];
			continue;
		}
		if (nhits == hcap) {
			hcap = hcap ? hcap * 2 : 256;
			hits = realloc(hits, hcap * sizeof(*hits));
			if (!hits) {
				perror("realloc");
				return 1;
			}
		}
		hits[nhits].name = name;
		hits[nhits++].ticks = buf[i];
	}
	/* A bucket shared by two functions splits one: merge by name. */
	qsort(hits, nhits, sizeof(*hits), cmp_name);
	for (j = 0, k = 0; j < nhits; j++) {
		if (k && !strcmp(hits[k - 1].name, hits[j].name))
			hits[k - 1].ticks += hits[j].ticks;
		else
			hits[k++] = hits[j];
	}
	nhits = k;
	qsort(hits, nhits, sizeof(*hits), cmp_hit);
	printf("kprof=%lu:", total);
	for (j = 0; j < nhits && j < top; j++)
		printf("%s%s/%lu", j ? "," : "", hits[j].name, hits[j].ticks);
	printf("\n");
	return 0;
}

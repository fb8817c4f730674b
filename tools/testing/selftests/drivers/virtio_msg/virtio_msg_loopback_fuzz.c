// SPDX-License-Identifier: GPL-2.0
/*
 * A hostile device side for the virtio-msg loopback bus, driven by a seeded
 * pseudo-random generator: a fuzzer whose oracle is the kernel itself.
 *
 * Each round opens an instance of /dev/virtio-msg-loopback and, for a few
 * hundred milliseconds to a few seconds:
 *
 * - plays the device side of a handful of device numbers: virtio-rng,
 *   virtio-blk, virtio-net and virtio-console devices, and types no bus
 *   should let through (pmem, mem, balloon, gpu, input, fs, random IDs).
 *   It answers the transport's requests mostly as a real device would and
 *   serves the virtqueues (reads the avail ring and descriptors, fills
 *   buffers, publishes used entries, sends EVENT_USED) so that the real
 *   drivers bind and do I/O. A per-round hostility level decides how often
 *   it misbehaves instead: responses with a wrong size, token, msg_id or
 *   dev_num, truncated, oversized, random bytes, out-of-range fields, twice,
 *   late (after the request timed out) or never; unsolicited EVENT_CONFIG
 *   (with and without data, random offsets and generations, NEEDS_RESET),
 *   EVENT_USED for any queue and device number, bus messages, garbage;
 *   used rings with bogus heads, lengths and indexes, and scribbles over
 *   the rings it can reach;
 * - runs zero to three threads of ioctl storms on the same instance: ADD,
 *   REMOVE and ADD again of the same numbers, MEM_READ and MEM_WRITE at
 *   ring addresses and random ones, with random lengths, bad argument
 *   sizes, bad pointers and unknown commands;
 * - ends in one of several ways: a sudden close() with requests in flight,
 *   removal of every device first, silence until requests time out, or a
 *   close while the storm threads still hold the file.
 *
 * Meanwhile a separate process loads the driver side where it is cheap:
 * reads /dev/hwrng and the virtio disks, brings virtio-net interfaces up
 * and down, each read in a short-lived process that is killed after two
 * seconds. Drivers thus bind, do I/O and unbind under fuzz. The hvc
 * ports of virtio-console are opened only with --load-console: an open
 * tty echoes what the device sends, and an hvc write spins with
 * interrupts off until the device takes the bytes, so a device that
 * does not (this one, by design) freezes the CPU and, with the fuzzer
 * unable to run, the whole guest (hardening issue, "A stopped console
 * backend freezes a CPU").
 *
 * After every round the kernel must still be healthy: close() returned
 * within CLOSE_MAX_MS, every virtio device of the closed instance left
 * /sys/bus/virtio/devices within GONE_MAX_MS, /proc reads, no driver-side
 * process is stuck unkillable, and the kernel log (/dev/kmsg) shows no
 * splat (BUG, WARNING, KASAN, lockdep, kmemleak, hung task, soft lockup,
 * RCU stall...). Any failure ends the run (unless --keep-going) and the
 * program exits non-zero. The test bench also fails a run on any splat in
 * the guest's console, which is the main oracle.
 *
 * Everything is bounded: the instance is non-blocking and every wait goes
 * through poll() with a timeout; the fuzzing runs in a child process
 * watched by the parent, which reports where the child was stuck (from
 * counters in shared memory) and kills it if it stops making progress or
 * overruns the time limit. The parent restores the transport's request
 * timeout, which the fuzzer lowers so that the requests it leaves
 * unanswered cost little.
 *
 * Usage (kselftest output; with no arguments, 30 s with a fixed seed, as
 * `make check` runs it):
 *
 *   virtio_msg_loopback_fuzz [--seed N] [--replay R] [--messages N]
 *			      [--time-limit S] [--rounds N]
 *			      [--types rng,blk,net,console,other]
 *			      [--request-timeout MS] [--no-load] [--load-console]
 *			      [--no-storm] [--used-rings-only]
 *			      [--keep-going] [--verbose]
 *
 * --types narrows the device models offered (all by default; without
 * VMSG_BLK_BREAK_FIXED in the environment, all but blk: a ring the
 * fuzzer corrupts is broken by virtio_ring with requests held, which
 * hangs a kernel without the virtio_blk fixes of patches/0001 and 0002,
 * so only a kernel that carries them, named so by that variable, fuzzes
 * blk unless --types asks for it).
 * --used-rings-only scribbles only on the rings the device owns, not on
 * the descriptor tables and available rings the driver writes.
 * --messages (or --iterations) stops after N messages read plus written;
 * --time-limit stops starting rounds after S seconds; --rounds after N
 * rounds. The seed is printed first; a round that found something is
 * reported with its own seed R, and "--replay R --rounds 1" runs that
 * round again (thread and kernel timing make a replay similar, not
 * identical). `make fuzz` at the top of the tree runs it long in a test
 * guest.
 */
#include <dirent.h>
#include <limits.h>
#include <net/if.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include "../../kselftest.h"
#include "virtio_msg_lb_backend.h"

#define TIMEOUT_PARAM	"/sys/module/virtio_msg/parameters/request_timeout_ms"
#define VIRTIO_SYSFS	"/sys/bus/virtio/devices"

/* Defaults: the short run of `make check`. */
#define DEF_SEED		0x5eed0001ULL
#define DEF_TIME_S		30
#define DEF_REQ_TIMEOUT_MS	300

/* Health bounds. */
#define CLOSE_MAX_MS		10000	/* one close() */
#define GONE_MAX_MS		20000	/* devices gone after the close */
#define STUCK_MAX_MS		30000	/* the load process, once killed */
#define READER_GONE_MS		10000	/* a killed reader, devices gone */
#define STALL_MS		60000	/* no progress: the watchdog steps in */
#define GRACE_MS		120000	/* past the time limit */
#define PROGRESS_MS		60000	/* a summary line while running */

/* Device side. */
#define MAX_MSG		264	/* what the bus advertises; checked */
#define BAD_MAX		(MAX_MSG + 64)	/* room for messages over the maximum */
#define NDEVS		24	/* device models tracked per instance */
#define NQUEUES		4
#define CFG_MAX		64
#define CHAIN_MAX	64
#define SEG_MAX_BYTES	65536
#define LATE_MAX	32
#define NUM_RANGE	12	/* device numbers 0..NUM_RANGE-1 mostly */

/* Virtio bits the model uses. */
#define ID_NET		1
#define ID_BLK		2
#define ID_CONSOLE	3
#define ID_RNG		4
#define ST_FEATURES_OK	8
#define ST_NEEDS_RESET	0x40
#define DESC_F_NEXT	1
#define DESC_F_WRITE	2
#define DESC_F_INDIRECT	4

/* Counters and progress, in memory shared with the watchdog parent. */
struct shared {
	long rx, tx, tx_refused, ioctls, opens, closes, devices, removes;
	long rounds, events, used, mem_ok, dropped, late, anomalies;
	long loads, load_ok;
	long close_max_ms;
	long heartbeat_ms;
	long reader_stuck_since;	/* ms; 0 when no reader is stuck */
	int reader_pid;
	int failures;
	unsigned long long round_seed;
	char phase[96];
};

static struct shared *sh;

static void count(long *counter)
{
	__atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
}

struct options {
	unsigned long long seed;
	unsigned long long replay;
	long messages;
	long time_s;
	long rounds;
	long req_timeout_ms;
	unsigned int types;	/* TYPE_* of the device models to offer */
	bool types_given;	/* by --types */
	bool load, load_console, storm, keep_going, verbose;
	bool used_rings_only;	/* scribble on used rings only */
};

/* Device models, for --types. */
#define TYPE_RNG	0x1
#define TYPE_BLK	0x2
#define TYPE_NET	0x4
#define TYPE_CONSOLE	0x8
#define TYPE_OTHER	0x10	/* types no bus should let through */
#define TYPE_ALL	0x1f

static const char *const type_names[] = {
	"rng", "blk", "net", "console", "other",
};

static struct options opt = {
	.seed = DEF_SEED,
	.time_s = DEF_TIME_S,
	.req_timeout_ms = DEF_REQ_TIMEOUT_MS,
	.types = TYPE_ALL,
	.load = true,
	.storm = true,
};

static long start_ms;

static __printf(1, 2) void beat(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sh->phase, sizeof(sh->phase), fmt, ap);
	va_end(ap);
	__atomic_store_n(&sh->heartbeat_ms, lb_now_ms(), __ATOMIC_RELAXED);
}

static __printf(1, 2) void vlog(const char *fmt, ...)
{
	va_list ap;

	if (!opt.verbose)
		return;
	va_start(ap, fmt);
	printf("# ");
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

static __printf(1, 2) void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("# fuzz: FAIL (round %ld, round seed 0x%llx): ", sh->rounds,
	       sh->round_seed);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
	__atomic_fetch_add(&sh->failures, 1, __ATOMIC_RELAXED);
}

/* Seeded generator: splitmix64. One state per thread. */
static uint64_t rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint32_t below(uint64_t *s, uint32_t n)
{
	return n ? rnd(s) % n : 0;
}

/* True with probability @n per thousand. */
static bool chance(uint64_t *s, unsigned int n)
{
	return below(s, 1000) < n;
}

static void fill_random(uint64_t *s, void *buf, size_t len)
{
	uint8_t *p = buf;
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		if (!(i % 8))
			v = rnd(s);
		p[i] = v >> (8 * (i % 8));
	}
}

/* Values that tend to find edges, for 32-bit fields. */
static uint32_t interesting(uint64_t *s)
{
	static const uint32_t v[] = {
		0, 1, 2, 7, 8, 31, 32, 33, 63, 64, 255, 256, 4095, 4096, 4097,
		32768, 32769, 65535, 65536, 0x7fffffff, 0x80000000,
		0xfffffffe, 0xffffffff,
	};

	return chance(s, 200) ? (uint32_t)rnd(s) : v[below(s, ARRAY_SIZE(v))];
}

static long lmin(long a, long b)
{
	return a < b ? a : b;
}

static long lmax(long a, long b)
{
	return a > b ? a : b;
}

static void put_le16(void *p, uint16_t v)
{
	v = htole16(v);
	memcpy(p, &v, sizeof(v));
}

static uint16_t get_le16(const void *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return le16toh(v);
}

static void put_le64(void *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, sizeof(v));
}

/* The device models of one instance. */
struct vq {
	uint64_t desc, avail, used;
	uint32_t size;
	uint16_t last_avail, used_idx;
	bool ready;
};

struct dev {
	bool live;		/* added and asked for GET_DEVICE_INFO */
	uint16_t num;
	uint32_t type;
	uint32_t nqueues;
	uint32_t qmax;
	uint32_t cfg_size;
	uint32_t generation;
	uint32_t status;
	uint32_t features[2];
	uint8_t cfg[CFG_MAX];
	struct vq vq[NQUEUES];
};

/* Ring addresses published for the storm threads, racy by design. */
struct ring_hint {
	uint16_t num;
	uint64_t addr;
};

#define HINTS	32

struct late {
	long due_ms;
	int len;
	uint8_t msg[MAX_MSG];
};

struct inst {
	int fd;
	char name[NAME_MAX + 1];
	uint64_t rs;		/* the serving thread's generator */
	unsigned int hostility;	/* per mille of misbehaviour */
	unsigned int flood;	/* unsolicited messages per turn, at most */
	uint32_t max_msg;
	struct dev devs[NDEVS];
	struct late late[LATE_MAX];
	struct ring_hint hints[HINTS];
	unsigned int nhints;
	bool stop_storm;
	bool silent;		/* stop answering: requests time out */
	bool congested;		/* a write found no room for a second */
};

/* Write one message; counted whatever the outcome. */
static int send_msg(struct inst *in, const void *msg, size_t len)
{
	struct pollfd pfd = { .fd = in->fd, .events = POLLOUT };
	ssize_t n;

	count(&sh->tx);
	n = write(in->fd, msg, len);
	if (n < 0 && errno == EAGAIN) {
		if (poll(&pfd, 1, 1000) == 1)
			n = write(in->fd, msg, len);
		else
			in->congested = true;
	}
	if (n != (ssize_t)len) {
		count(&sh->tx_refused);
		return -1;
	}
	return 0;
}

static void set_hdr(uint8_t *msg, uint8_t type, uint8_t msg_id,
		    uint16_t dev_num, uint16_t token, uint16_t size)
{
	struct virtio_msg_hdr h = {
		.type = type,
		.msg_id = msg_id,
		.dev_num = htole16(dev_num),
		.token = htole16(token),
		.msg_size = htole16(size),
	};

	memcpy(msg, &h, sizeof(h));
}

static int mem_io(struct inst *in, unsigned long cmd, uint16_t num,
		  uint64_t addr, void *buf, uint32_t len)
{
	int ret;

	count(&sh->ioctls);
	ret = lb_mem(in->fd, cmd, num, addr, buf, len);
	if (!ret)
		count(&sh->mem_ok);
	return ret;
}

static struct dev *find_dev(struct inst *in, uint16_t num)
{
	unsigned int i;

	for (i = 0; i < NDEVS; i++)
		if (in->devs[i].live && in->devs[i].num == num)
			return &in->devs[i];
	return NULL;
}

/* A fresh model for @num, replacing any previous one. */
static struct dev *new_dev(struct inst *in, uint16_t num)
{
	/* Weights: rng 3, blk 2, net 2, console 2, other 1 (of 10). */
	static const unsigned int model[] = {
		TYPE_RNG, TYPE_RNG, TYPE_RNG, TYPE_BLK, TYPE_BLK, TYPE_NET,
		TYPE_NET, TYPE_CONSOLE, TYPE_CONSOLE, TYPE_OTHER,
	};
	static const uint32_t odd_types[] = {
		0x1b /* pmem */, 0x18 /* mem */, 5 /* balloon */,
		0x10 /* gpu */, 0x12 /* input */, 0x1a /* fs */,
		0x13 /* vsock */, 0x14 /* crypto */, 9 /* 9p */,
	};
	uint64_t *s = &in->rs;
	struct dev *d = find_dev(in, num);
	unsigned int i, pick;

	for (i = 0; !d && i < NDEVS; i++)
		if (!in->devs[i].live)
			d = &in->devs[i];
	if (!d)
		d = &in->devs[below(s, NDEVS)];
	memset(d, 0, sizeof(*d));
	d->live = true;
	d->num = num;
	d->qmax = 1U << (4 + below(s, 5));
	d->features[1] = F_VERSION_1 | F_ACCESS_PLATFORM;
	do
		pick = model[below(s, ARRAY_SIZE(model))];
	while (!(pick & opt.types));
	switch (pick) {
	case TYPE_RNG:
		d->type = ID_RNG;
		d->nqueues = 1;
		break;
	case TYPE_BLK:
		d->type = ID_BLK;
		d->nqueues = 1;
		d->cfg_size = 60;
		/* capacity in sectors, seg_max, blk_size */
		put_le64(d->cfg, 64 + below(s, 4096));
		put_le32(d->cfg + 12, 8);
		put_le32(d->cfg + 20, 512);
		d->features[0] = (1U << 2) | (1U << 6) |
				 (chance(s, 500) ? 1U << 9 : 0);
		break;
	case TYPE_NET:
		d->type = ID_NET;
		d->nqueues = 2;
		d->cfg_size = 12;
		d->cfg[0] = 0x02;
		fill_random(s, d->cfg + 1, 5);
		put_le16(d->cfg + 6, 1);	/* link up */
		d->features[0] = (1U << 5) | (chance(s, 500) ? 1U << 16 : 0);
		break;
	case TYPE_CONSOLE:
		d->type = ID_CONSOLE;
		d->nqueues = 2;
		d->cfg_size = 12;
		put_le16(d->cfg, 80);
		put_le16(d->cfg + 2, 25);
		put_le32(d->cfg + 4, 1);
		if (chance(s, 200)) {
			d->features[0] = 1U << 1;	/* MULTIPORT */
			d->nqueues = 4;
		}
		break;
	default:
		d->type = chance(s, 800) ?
			  odd_types[below(s, ARRAY_SIZE(odd_types))] :
			  interesting(s);
		d->nqueues = 1 + below(s, NQUEUES);
		d->cfg_size = below(s, CFG_MAX + 1);
		fill_random(s, d->cfg, d->cfg_size);
		d->features[0] = rnd(s);
		break;
	}
	/* Rarely: ring layouts and features the model does not follow. */
	if (chance(s, 30))
		d->features[0] |= 1U << (28 + below(s, 2));	/* INDIRECT, EVENT_IDX */
	if (chance(s, 20))
		d->features[1] |= 1U << (2 + below(s, 7));	/* PACKED ... */
	if (chance(s, 10))
		d->features[1] &= ~F_ACCESS_PLATFORM;
	return d;
}

/* GET_DEVICE_INFO: the model, sometimes with fields out of range. */
static int answer_info(struct inst *in, struct dev *d, uint8_t *p)
{
	uint64_t *s = &in->rs;

	put_le32(p, d->type);
	put_le32(p + 4, 0x1af4);
	put_le32(p + 8, 64);
	put_le32(p + 12, d->cfg_size);
	put_le32(p + 16, d->nqueues);
	if (chance(s, in->hostility / 4)) {
		static const unsigned int off[] = { 0, 8, 12, 16, 20 };

		put_le32(p + off[below(s, ARRAY_SIZE(off))], interesting(s));
		/* What the driver side will believe, for the model. */
		d->cfg_size = lmin(d->cfg_size, CFG_MAX);
	}
	return 24;
}

static int answer_features(struct dev *d, const uint8_t *q, uint8_t *p,
			   uint32_t max_plen)
{
	uint32_t first = get_le32(q), num = get_le32(q + 4), i, blk;

	if (8 + 4ULL * num > max_plen)
		num = (max_plen - 8) / 4;
	memcpy(p, q, 4);
	put_le32(p + 4, num);
	for (i = 0; i < num; i++) {
		blk = first + i;
		put_le32(p + 8 + 4 * i, blk < 2 ? d->features[blk] : 0);
	}
	return 8 + 4 * num;
}

static int answer_get_config(struct dev *d, const uint8_t *q, uint8_t *p,
			     uint32_t max_plen)
{
	uint32_t off = get_le32(q), len = get_le32(q + 4);

	if (off >= d->cfg_size)
		len = 0;
	else
		len = lmin(len, d->cfg_size - off);
	len = lmin(len, max_plen - 12);
	put_le32(p, d->generation);
	put_le32(p + 4, off);
	put_le32(p + 8, len);
	if (len)
		memcpy(p + 12, d->cfg + off, len);
	return 12 + len;
}

static int answer_set_config(struct dev *d, const uint8_t *q, size_t qlen,
			     uint8_t *p)
{
	uint32_t off = get_le32(q + 4), len = get_le32(q + 8);

	if (qlen < 12 || len > qlen - 12 || off >= d->cfg_size ||
	    len > d->cfg_size - off) {
		len = 0;
	} else {
		memcpy(d->cfg + off, q + 12, len);
		d->generation++;
	}
	put_le32(p, d->generation);
	put_le32(p + 4, off);
	put_le32(p + 8, len);
	return 12;
}

static void reset_queues(struct dev *d)
{
	memset(d->vq, 0, sizeof(d->vq));
}

static void add_hint(struct inst *in, uint16_t num, uint64_t addr)
{
	struct ring_hint *h = &in->hints[in->nhints++ % HINTS];

	__atomic_store_n(&h->addr, addr, __ATOMIC_RELAXED);
	__atomic_store_n(&h->num, num, __ATOMIC_RELAXED);
}

/*
 * The answer a device following the model gives to the request @req (of
 * @n bytes) in @resp: its length, or 0 when none is due.
 */
static int answer(struct inst *in, const uint8_t *req, int n, uint8_t *resp,
		  struct dev **devp)
{
	uint32_t max_plen = in->max_msg - 8, idx, st;
	const uint8_t *q = req + 8;
	uint64_t *s = &in->rs;
	uint8_t *p = resp + 8;
	struct virtio_msg_hdr h;
	int plen = 0, qlen = n - 8;
	struct dev *d;
	struct vq *vq;

	memcpy(&h, req, sizeof(h));
	memset(resp, 0, MAX_MSG);
	*devp = NULL;
	if (h.type & VIRTIO_MSG_TYPE_BUS) {
		switch (h.msg_id) {
		case VIRTIO_MSG_BUS_PING:
			if (qlen >= 4)
				memcpy(p, q, 4);
			plen = 4;
			break;
		case VIRTIO_MSG_BUS_GET_DEVICES: {
			uint32_t off = get_le16(q), cnt = get_le16(q + 2), i;

			cnt = lmin(cnt, (max_plen - 6) / 8 * 8);
			put_le16(p, off);
			put_le16(p + 2, cnt);
			for (i = 0; i < cnt; i++)
				if (find_dev(in, off + i))
					p[6 + i / 8] |= 1U << (i % 8);
			plen = 6 + cnt / 8;
			break;
		}
		default:
			return 0;
		}
		goto respond;
	}
	if (h.msg_id == VIRTIO_MSG_GET_DEVICE_INFO)
		d = new_dev(in, le16toh(h.dev_num));
	else
		d = find_dev(in, le16toh(h.dev_num));
	if (!d) {
		/* Added before this round's model knew it: adopt it. */
		d = new_dev(in, le16toh(h.dev_num));
	}
	*devp = d;
	idx = qlen >= 4 ? get_le32(q) : 0;
	vq = idx < NQUEUES ? &d->vq[idx] : NULL;

	switch (h.msg_id) {
	case VIRTIO_MSG_GET_DEVICE_INFO:
		plen = answer_info(in, d, p);
		break;
	case VIRTIO_MSG_GET_DEVICE_FEATURES:
		if (qlen < 8)
			return 0;
		plen = answer_features(d, q, p, max_plen);
		break;
	case VIRTIO_MSG_SET_DRIVER_FEATURES:
		break;
	case VIRTIO_MSG_GET_CONFIG:
		if (qlen < 8)
			return 0;
		plen = answer_get_config(d, q, p, max_plen);
		break;
	case VIRTIO_MSG_SET_CONFIG:
		plen = answer_set_config(d, q, qlen, p);
		break;
	case VIRTIO_MSG_GET_DEVICE_STATUS:
		put_le32(p, d->status);
		plen = 4;
		break;
	case VIRTIO_MSG_SET_DEVICE_STATUS:
		st = idx;
		if (!st)
			reset_queues(d);
		if ((st & ST_FEATURES_OK) && chance(s, in->hostility / 10))
			st &= ~ST_FEATURES_OK;
		d->status = st;
		put_le32(p, st);
		plen = 4;
		break;
	case VIRTIO_MSG_GET_VQUEUE:
		put_le32(p, idx);
		if (idx < d->nqueues) {
			put_le32(p + 4, d->qmax);
			if (vq && vq->ready)
				put_le32(p + 8, vq->size);
		}
		plen = 40;
		break;
	case VIRTIO_MSG_SET_VQUEUE:
		if (vq && qlen >= 40) {
			memset(vq, 0, sizeof(*vq));
			vq->size = get_le32(q + 8);
			vq->desc = get_le64(q + 16);
			vq->avail = get_le64(q + 24);
			vq->used = get_le64(q + 32);
			vq->ready = vq->size && vq->size <= 32768 &&
				    !(vq->size & (vq->size - 1));
			add_hint(in, d->num, vq->desc);
			add_hint(in, d->num, vq->avail);
			add_hint(in, d->num, vq->used);
		}
		break;
	case VIRTIO_MSG_RESET_VQUEUE:
		if (vq)
			memset(vq, 0, sizeof(*vq));
		break;
	case VIRTIO_MSG_GET_SHM:
		put_le32(p, idx);
		if (chance(s, in->hostility / 4)) {
			put_le32(p + 4, interesting(s));
			put_le32(p + 8, rnd(s));
		}
		plen = 12;
		break;
	default:
		/* EVENT_AVAIL and anything else: no answer. */
		return 0;
	}
respond:
	h.type |= VIRTIO_MSG_TYPE_RESPONSE;
	h.msg_size = htole16(8 + plen);
	memcpy(resp, &h, sizeof(h));
	return 8 + plen;
}

static void queue_late(struct inst *in, const uint8_t *msg, int len,
		       long delay_ms)
{
	unsigned int i;

	for (i = 0; i < LATE_MAX; i++) {
		if (in->late[i].len)
			continue;
		in->late[i].len = len;
		in->late[i].due_ms = lb_now_ms() + delay_ms;
		memcpy(in->late[i].msg, msg, len);
		count(&sh->late);
		return;
	}
	send_msg(in, msg, len);
}

static void flush_late(struct inst *in, bool all)
{
	long now = lb_now_ms();
	unsigned int i;

	for (i = 0; i < LATE_MAX; i++) {
		if (!in->late[i].len || (!all && in->late[i].due_ms > now))
			continue;
		send_msg(in, in->late[i].msg, in->late[i].len);
		in->late[i].len = 0;
	}
}

/* Send @resp (@len bytes), or a mutation of it, or nothing. */
static void respond(struct inst *in, uint8_t *resp, int len)
{
	uint64_t *s = &in->rs;
	uint8_t bad[BAD_MAX];
	unsigned int r = below(s, 1000) * 300 / (in->hostility + 1);
	struct virtio_msg_hdr h;
	int blen;

	/* r < 300 with probability about hostility per mille. */
	memcpy(bad, resp, len);
	memcpy(&h, resp, sizeof(h));
	if (r >= 300 || in->silent) {
		if (!in->silent)
			send_msg(in, resp, len);
		return;
	}
	if (r < 3) {
		/* No answer at all: the request times out. */
		count(&sh->dropped);
		return;
	}
	if (r < 30) {
		/* Late, possibly after the timeout. */
		queue_late(in, resp, len, below(s, 2 * opt.req_timeout_ms));
		return;
	}
	if (r < 60) {
		send_msg(in, resp, len);
		send_msg(in, resp, len);
		return;
	}
	if (r < 150) {
		/* Mismatched header, then (mostly) the right answer. */
		switch (below(s, 4)) {
		case 0:
			h.token ^= htole16(1 + below(s, 0xffff));
			break;
		case 1:
			h.msg_id = below(s, 0x100);
			break;
		case 2:
			h.dev_num ^= htole16(1 + below(s, 0xffff));
			break;
		default:
			h.type ^= 1U << below(s, 8);
			break;
		}
		memcpy(bad, &h, sizeof(h));
		send_msg(in, bad, len);
		if (!chance(s, 30))
			send_msg(in, resp, len);
		else
			count(&sh->dropped);
		return;
	}
	if (r < 190) {
		/* Truncated: a shorter payload, consistent msg_size. */
		blen = 8 + below(s, len - 8 + 1);
		if (blen == len)
			blen = 8;
		set_hdr(bad, h.type, h.msg_id, le16toh(h.dev_num),
			le16toh(h.token), blen);
		send_msg(in, bad, blen);
		return;
	}
	if (r < 220) {
		/* Oversized: random bytes appended. */
		blen = len + 1 + below(s, in->max_msg - len + 8);
		blen = lmin(blen, BAD_MAX);
		fill_random(s, bad + len, blen - len);
		set_hdr(bad, h.type, h.msg_id, le16toh(h.dev_num),
			le16toh(h.token), blen);
		send_msg(in, bad, blen);
		return;
	}
	if (r < 250) {
		/* Random payload of the right size. */
		fill_random(s, bad + 8, len - 8);
		send_msg(in, bad, len);
		return;
	}
	if (r < 280 && len >= 12) {
		/* One field out of range. */
		put_le32(bad + 8 + 4 * below(s, (len - 8) / 4), interesting(s));
		send_msg(in, bad, len);
		return;
	}
	/* msg_size that disagrees with the write: refused, then the answer. */
	set_hdr(bad, h.type, h.msg_id, le16toh(h.dev_num), le16toh(h.token),
		interesting(s) & 0xffff);
	send_msg(in, bad, len);
	send_msg(in, resp, len);
}

/* Device side of the virtqueues. */
struct seg {
	uint64_t addr;
	uint32_t len;
	bool write;
};

/* Walk the chain at @head; the number of segments, or -1. */
static int walk_chain(struct inst *in, struct dev *d, struct vq *vq,
		      uint16_t head, struct seg *seg)
{
	uint64_t table = vq->desc;
	uint32_t i = head, limit = vq->size, n = 0, hops = 0;
	uint8_t desc[16];
	uint16_t flags;

	while (n < CHAIN_MAX && hops++ < 2 * CHAIN_MAX) {
		if (i >= limit ||
		    mem_io(in, VIRTIO_MSG_LB_IOC_MEM_READ, d->num,
			   table + 16ULL * i, desc, sizeof(desc)))
			return -1;
		flags = get_le16(desc + 12);
		if (flags & DESC_F_INDIRECT) {
			if (table != vq->desc)
				return -1;
			table = get_le64(desc);
			limit = lmin(get_le32(desc + 8) / 16, CHAIN_MAX);
			i = 0;
			continue;
		}
		seg[n].addr = get_le64(desc);
		seg[n].len = get_le32(desc + 8);
		seg[n].write = flags & DESC_F_WRITE;
		n++;
		if (!(flags & DESC_F_NEXT))
			return n;
		i = get_le16(desc + 14);
	}
	return -1;
}

static uint32_t fill_segs(struct inst *in, struct dev *d, struct seg *seg,
			  int first, int last, uint32_t cap)
{
	static uint8_t buf[SEG_MAX_BYTES];
	uint32_t total = 0, len;
	int i;

	for (i = first; i < last && total < cap; i++) {
		if (!seg[i].write)
			continue;
		len = lmin(lmin(seg[i].len, cap - total), SEG_MAX_BYTES);
		fill_random(&in->rs, buf, lmin(len, 64));
		if (mem_io(in, VIRTIO_MSG_LB_IOC_MEM_WRITE, d->num, seg[i].addr,
			   buf, len))
			break;
		total += len;
	}
	return total;
}

/*
 * Serve one chain as the device type does; the used length, or -1 to
 * leave the chain for later (receive queues with nothing to deliver).
 */
static long serve_chain(struct inst *in, struct dev *d, unsigned int q,
			struct seg *seg, int n)
{
	uint64_t *s = &in->rs;
	uint8_t hdr[16], st;
	uint32_t len;

	switch (d->type) {
	case ID_RNG:
		return fill_segs(in, d, seg, 0, n, 4096);
	case ID_BLK:
		if (n < 2 || seg[0].write || !seg[n - 1].write ||
		    mem_io(in, VIRTIO_MSG_LB_IOC_MEM_READ, d->num, seg[0].addr,
			   hdr, sizeof(hdr)))
			return 0;
		len = 0;
		st = 0;
		switch (get_le32(hdr)) {
		case 0:		/* IN */
		case 8:		/* GET_ID */
			len = fill_segs(in, d, seg, 1, n - 1, SEG_MAX_BYTES);
			break;
		case 1:		/* OUT */
		case 4:		/* FLUSH */
			break;
		default:
			st = 2;	/* UNSUPP */
			break;
		}
		if (chance(s, in->hostility / 4))
			st = rnd(s);
		mem_io(in, VIRTIO_MSG_LB_IOC_MEM_WRITE, d->num,
		       seg[n - 1].addr, &st, 1);
		return len + 1;
	case ID_NET:
	case ID_CONSOLE:
		if (q % 2)	/* transmit and control out */
			return 0;
		if (q >= 2 || !chance(s, 100))
			return -1;
		/* Receive: a packet (net header and a frame) or bytes. */
		return fill_segs(in, d, seg, 0, n, d->type == ID_NET ? 72 : 16);
	default:
		return fill_segs(in, d, seg, 0, n, below(s, 256));
	}
}

static void write_event_used(struct inst *in, uint16_t num, uint32_t index)
{
	uint8_t ev[12];

	set_hdr(ev, 0, VIRTIO_MSG_EVENT_USED, num, 0, sizeof(ev));
	put_le32(ev + 8, index);
	count(&sh->events);
	send_msg(in, ev, sizeof(ev));
}

/* Consume up to @budget chains of queue @q; EVENT_USED if any were used. */
static void serve_queue(struct inst *in, struct dev *d, unsigned int q,
			unsigned int budget)
{
	struct vq *vq = &d->vq[q];
	uint64_t *s = &in->rs;
	struct seg seg[CHAIN_MAX];
	uint16_t avail_idx, head;
	uint8_t elem[8];
	unsigned int done = 0;
	long len;
	int n;

	if (!vq->ready ||
	    mem_io(in, VIRTIO_MSG_LB_IOC_MEM_READ, d->num, vq->avail + 2,
		   &avail_idx, 2))
		return;
	avail_idx = le16toh(avail_idx);
	while (vq->last_avail != avail_idx && done < budget) {
		if (mem_io(in, VIRTIO_MSG_LB_IOC_MEM_READ, d->num,
			   vq->avail + 4 + 2ULL * (vq->last_avail % vq->size),
			   &head, 2))
			return;
		head = le16toh(head);
		n = walk_chain(in, d, vq, head, seg);
		len = n > 0 ? serve_chain(in, d, q, seg, n) : 0;
		if (len < 0)
			break;
		put_le32(elem, head);
		put_le32(elem + 4, len);
		if (chance(s, in->hostility / 3)) {
			/* A head or length the driver never gave. */
			put_le32(elem + 4 * below(s, 2), interesting(s));
		}
		if (mem_io(in, VIRTIO_MSG_LB_IOC_MEM_WRITE, d->num,
			   vq->used + 4 + 8ULL * (vq->used_idx % vq->size),
			   elem, sizeof(elem)))
			return;
		vq->used_idx++;
		if (chance(s, in->hostility / 5))
			vq->used_idx += below(s, 0x10000);
		put_le16(elem, vq->used_idx);
		if (mem_io(in, VIRTIO_MSG_LB_IOC_MEM_WRITE, d->num,
			   vq->used + 2, elem, 2))
			return;
		vq->last_avail++;
		done++;
		count(&sh->used);
	}
	if (done || chance(s, in->hostility / 5))
		write_event_used(in, d->num, q);
}

static void serve_all_queues(struct inst *in)
{
	unsigned int i, q;

	for (i = 0; i < NDEVS; i++) {
		if (!in->devs[i].live || !(in->devs[i].status & STATUS_DRIVER_OK))
			continue;
		for (q = 0; q < NQUEUES; q++)
			serve_queue(in, &in->devs[i], q, 8);
	}
}

/* Scribble on a ring the device can reach: a hostile device may. */
static void scribble(struct inst *in)
{
	uint64_t *s = &in->rs;
	struct dev *d = &in->devs[below(s, NDEVS)];
	struct vq *vq = &d->vq[below(s, NQUEUES)];
	uint64_t base[] = { vq->used, vq->desc, vq->avail };
	uint8_t junk[16];
	uint32_t len = 1 + below(s, sizeof(junk));

	if (!d->live || !vq->ready)
		return;
	fill_random(s, junk, len);
	/* --used-rings-only: not the areas only the driver writes. */
	mem_io(in, VIRTIO_MSG_LB_IOC_MEM_WRITE, d->num,
	       base[opt.used_rings_only ? 0 : below(s, 3)] +
	       below(s, 16 * vq->size), junk, len);
}

/* Unsolicited messages of every kind. */
static void unsolicited(struct inst *in)
{
	uint64_t *s = &in->rs;
	struct dev *d = &in->devs[below(s, NDEVS)];
	uint16_t num = d->live && chance(s, 800) ? d->num : below(s, NUM_RANGE);
	uint8_t msg[BAD_MAX];
	uint32_t off, len, plen;

	memset(msg, 0, sizeof(msg));
	count(&sh->events);
	switch (below(s, 8)) {
	case 0:
	case 1:
		/* EVENT_CONFIG, with data in range or not. */
		off = chance(s, 800) && d->cfg_size ? below(s, d->cfg_size) :
		      interesting(s);
		len = d->cfg_size > off ? below(s, d->cfg_size - off + 1) : 0;
		if (chance(s, 100))
			len = interesting(s) & 0xff;
		len = lmin(len, in->max_msg - 24);
		put_le32(msg + 8, chance(s, 990) ? d->status :
			 d->status | ST_NEEDS_RESET);
		d->generation += chance(s, 900) ? 1 : -1;
		put_le32(msg + 12, chance(s, 900) ? d->generation : rnd(s));
		put_le32(msg + 16, off);
		put_le32(msg + 20, len);
		plen = 16;
		if (chance(s, 600)) {
			fill_random(s, msg + 24, len);
			if (d->live && (uint64_t)off + len <= d->cfg_size)
				memcpy(d->cfg + off, msg + 24, len);
			plen += len;
		}
		set_hdr(msg, 0, VIRTIO_MSG_EVENT_CONFIG, num, 0, 8 + plen);
		send_msg(in, msg, 8 + plen);
		break;
	case 2:
	case 3:
		write_event_used(in, num, chance(s, 800) ? below(s, NQUEUES + 2) :
				 interesting(s));
		break;
	case 4:
		/* Bus events and requests: the loopback takes responses only. */
		if (chance(s, 500)) {
			set_hdr(msg, VIRTIO_MSG_TYPE_BUS,
				VIRTIO_MSG_BUS_EVENT_DEVICE, 0, 0, 12);
			put_le16(msg + 8, num);
			put_le16(msg + 10, below(s, 3));
		} else {
			set_hdr(msg, VIRTIO_MSG_TYPE_BUS, VIRTIO_MSG_BUS_PING, 0,
				rnd(s), 12);
			put_le32(msg + 8, rnd(s));
		}
		if (chance(s, 300))
			msg[0] |= VIRTIO_MSG_TYPE_RESPONSE;
		send_msg(in, msg, 12);
		break;
	case 5:
		/* A stray response to a request nobody made. */
		plen = below(s, in->max_msg - 8 + 1);
		fill_random(s, msg + 8, plen);
		set_hdr(msg, VIRTIO_MSG_TYPE_RESPONSE, below(s, 0x10), num,
			rnd(s), 8 + plen);
		send_msg(in, msg, 8 + plen);
		break;
	case 6:
		/* Garbage of any length, header included. */
		plen = below(s, in->max_msg + 16);
		plen = lmin(plen, BAD_MAX);
		fill_random(s, msg, plen);
		if (chance(s, 500) && plen >= 8)
			put_le16(msg + 6, plen);
		send_msg(in, msg, plen);
		break;
	default:
		scribble(in);
		break;
	}
}

/* Ioctl storms, on a dup() of the instance of their own. */
struct storm {
	pthread_t thread;
	struct inst *in;
	int fd;
	uint64_t rs;
	long close_ms;
};

static void *guard_buf;		/* SEG_MAX_BYTES, then an inaccessible page */

static void storm_bad_arg(struct storm *st)
{
	static const unsigned long cmds[] = {
		VIRTIO_MSG_LB_IOC_GET_INFO, VIRTIO_MSG_LB_IOC_ADD_DEVICE,
		VIRTIO_MSG_LB_IOC_REMOVE_DEVICE, VIRTIO_MSG_LB_IOC_MEM_READ,
		VIRTIO_MSG_LB_IOC_MEM_WRITE,
		/* Read-only views of the core, racing device removal. */
		VIRTIO_MSG_LB_IOC_GET_DEV_STATE,
		VIRTIO_MSG_LB_IOC_GET_QUEUE_STATE,
		_IOC(_IOC_WRITE, VIRTIO_MSG_LB_IOC_MAGIC, 0x05, 16),
		_IOC(_IOC_READ, VIRTIO_MSG_LB_IOC_MAGIC, 0x01, 16),
		_IOC(_IOC_NONE, VIRTIO_MSG_LB_IOC_MAGIC, 0x02, 0),
		_IOC(_IOC_READ | _IOC_WRITE, VIRTIO_MSG_LB_IOC_MAGIC, 0x03, 64),
	};
	uint64_t *s = &st->rs;
	uint8_t arg[16384];
	uint32_t size;
	void *p = arg;

	fill_random(s, arg, 64);
	memset(arg + 64, 0, sizeof(arg) - 64);
	size = chance(s, 700) ? below(s, 80) : interesting(s);
	put_le32(arg, size);
	if (chance(s, 500))
		memset(arg + 4, 0, 60);
	if (chance(s, 100))
		p = NULL;
	else if (chance(s, 100))
		p = (char *)guard_buf + SEG_MAX_BYTES - below(s, 24);
	count(&sh->ioctls);
	ioctl(st->fd, cmds[below(s, ARRAY_SIZE(cmds))], p);
}

static void storm_mem(struct storm *st)
{
	struct inst *in = st->in;
	struct ring_hint *h = &in->hints[below(&st->rs, HINTS)];
	uint64_t *s = &st->rs;
	struct virtio_msg_lb_mem m = { .size = sizeof(m) };
	unsigned long cmd;

	m.dev_num = __atomic_load_n(&h->num, __ATOMIC_RELAXED);
	m.addr = __atomic_load_n(&h->addr, __ATOMIC_RELAXED);
	if (chance(s, 300) || !m.addr) {
		m.dev_num = below(s, NUM_RANGE);
		m.addr = chance(s, 500) ? rnd(s) : rnd(s) & 0xffffffffULL;
	}
	/* Now and then the core's view of that device, while it changes. */
	if (chance(s, 100)) {
		struct virtio_msg_lb_queue_state q = {
			.size = sizeof(q),
			.dev_num = m.dev_num,
			.index = below(s, 4),
		};
		struct virtio_msg_lb_dev_state d = {
			.size = sizeof(d),
			.dev_num = m.dev_num,
		};

		count(&sh->ioctls);
		if (chance(s, 500))
			ioctl(st->fd, VIRTIO_MSG_LB_IOC_GET_DEV_STATE, &d);
		else
			ioctl(st->fd, VIRTIO_MSG_LB_IOC_GET_QUEUE_STATE, &q);
		return;
	}
	m.addr += (int64_t)below(s, 8192) - 4096;
	m.len = chance(s, 900) ? 1 + below(s, 4096) : interesting(s);
	m.buf = (uintptr_t)guard_buf + SEG_MAX_BYTES -
		lmin(m.len, SEG_MAX_BYTES);
	if (chance(s, 50))
		m.buf = chance(s, 500) ? 0 : rnd(s);
	/* Writing lands in the driver's memory: mostly read. */
	cmd = chance(s, 200) ? VIRTIO_MSG_LB_IOC_MEM_WRITE :
	      VIRTIO_MSG_LB_IOC_MEM_READ;
	if (cmd == VIRTIO_MSG_LB_IOC_MEM_WRITE)
		fill_random(s, guard_buf, 64);
	count(&sh->ioctls);
	if (!ioctl(st->fd, cmd, &m))
		count(&sh->mem_ok);
}

static void storm_add_remove(struct storm *st)
{
	uint64_t *s = &st->rs;
	uint32_t num = chance(s, 900) ? below(s, NUM_RANGE) : below(s, 0x10000);
	unsigned int i, reps = 1 + below(s, 3);
	int ret;

	if (chance(s, 20))
		num = 0x10000 + below(s, 16);	/* out of range: EINVAL */
	for (i = 0; i < reps; i++) {
		count(&sh->ioctls);
		ret = lb_dev(st->fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE, num);
		if (!ret) {
			count(&sh->devices);
		} else if (errno == ENOMEM || errno == EBUSY) {
			count(&sh->anomalies);
			printf("# fuzz: ADD_DEVICE %u: %s\n", num,
			       strerror(errno));
		}
		if (chance(s, 300))
			continue;
		count(&sh->ioctls);
		if (!lb_dev(st->fd, VIRTIO_MSG_LB_IOC_REMOVE_DEVICE, num))
			count(&sh->removes);
	}
}

static void *storm_main(void *arg)
{
	struct storm *st = arg;
	struct inst *in = st->in;
	uint64_t *s = &st->rs;
	unsigned int op;
	long t;

	while (!__atomic_load_n(&in->stop_storm, __ATOMIC_RELAXED)) {
		op = below(s, 100);
		if (op < 20)
			storm_add_remove(st);
		else if (op < 75)
			storm_mem(st);
		else if (op < 95)
			storm_bad_arg(st);
		else
			usleep(below(s, 2000));
	}
	t = lb_now_ms();
	close(st->fd);
	st->close_ms = lb_now_ms() - t;
	return NULL;
}

static int open_instance(struct inst *in)
{
	char before[4096], after[4096], key[NAME_MAX + 3], *tok, *save;
	struct virtio_msg_lb_info info = { .size = sizeof(info) };

	lb_instances(before, sizeof(before));
	beat("open");
	in->fd = lb_open(O_NONBLOCK);
	if (in->fd < 0)
		return -1;
	count(&sh->opens);
	lb_instances(after, sizeof(after));
	in->name[0] = '\0';
	for (tok = strtok_r(after, " ", &save); tok;
	     tok = strtok_r(NULL, " ", &save)) {
		snprintf(key, sizeof(key), " %s ", tok);
		if (!strstr(before, key))
			snprintf(in->name, sizeof(in->name), "%s", tok);
	}
	count(&sh->ioctls);
	if (ioctl(in->fd, VIRTIO_MSG_LB_IOC_GET_INFO, &info)) {
		fail("GET_INFO: %s\n", strerror(errno));
		return -1;
	}
	in->max_msg = lmin(info.max_msg_size, MAX_MSG);
	if (in->max_msg < VIRTIO_MSG_MAX_SIZE_MIN) {
		fail("GET_INFO: max_msg_size %u\n", info.max_msg_size);
		return -1;
	}
	return 0;
}

/* The number of virtio devices whose sysfs path is under instance @name. */
static int count_devices(const char *name)
{
	char path[PATH_MAX], real[PATH_MAX], key[NAME_MAX + 3];
	struct dirent *de;
	int n = 0;
	DIR *d;

	if (!name[0])
		return 0;
	snprintf(key, sizeof(key), "/%.*s/", NAME_MAX, name);
	d = opendir(VIRTIO_SYSFS);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "virtio", 6))
			continue;
		snprintf(path, sizeof(path), VIRTIO_SYSFS "/%.200s", de->d_name);
		if (realpath(path, real) && strstr(real, key))
			n++;
	}
	closedir(d);
	return n;
}

/* Splats, as the test bench sees them. */
static const char *const splat_words[] = {
	"BUG:", "WARNING:", "Oops", "Kernel panic", "cut here ]",
	"general protection fault", "Unable to handle kernel", "KASAN",
	"UBSAN", "possible recursive locking", "possible circular locking",
	"inconsistent lock state", "sleeping function called from invalid",
	"unreferenced object", "suspected memory leak", "blocked for more than",
	"hung_task", "rcu: INFO:", "soft lockup", "hard LOCKUP",
	"list_add corruption", "list_del corruption",
};

static int kmsg_fd = -1;

/* Read the new kernel log records; report splats with what follows. */
static void check_kmsg(void)
{
	char rec[2048], *msg;
	int context = 0;
	unsigned int i;
	ssize_t n;

	if (kmsg_fd < 0)
		return;
	for (;;) {
		n = read(kmsg_fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten records: skip them */
		if (n <= 0)
			break;
		rec[n] = '\0';
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		msg[strcspn(msg, "\n")] = '\0';
		if (context) {
			printf("# kmsg: %s\n", msg);
			context--;
			continue;
		}
		if (strstr(msg, "KernelAddressSanitizer initialized"))
			continue;
		for (i = 0; i < ARRAY_SIZE(splat_words); i++) {
			if (!strstr(msg, splat_words[i]))
				continue;
			fail("kernel splat: %s\n", msg);
			context = 30;
			break;
		}
	}
	fflush(stdout);
}

static void check_proc(void)
{
	char buf[256];

	if (lb_read_file("/proc/meminfo", buf, sizeof(buf)) ||
	    lb_read_file("/proc/self/stat", buf, sizeof(buf)))
		fail("/proc unreadable\n");
}

/* Driver-side load, in its own process; each access in a child of it. */
static void load_one(const char *path, uint64_t *s)
{
	char buf[4096];
	off_t size;
	int fd;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		_exit(1);
	if (!strncmp(path, "/dev/vd", 7)) {
		size = lseek(fd, 0, SEEK_END);
		if (size > (off_t)sizeof(buf))
			size = below(s, size / sizeof(buf)) * sizeof(buf);
		else
			size = 0;
		_exit(pread(fd, buf, sizeof(buf), size) < 0);
	}
	_exit(read(fd, buf, strncmp(path, "/dev/hwrng", 10) ? 256 : 32) < 0);
}

static void net_up(uint64_t *s)
{
	struct if_nameindex *ifs, *i;
	struct ifreq ifr;
	char path[PATH_MAX];
	int sk;

	ifs = if_nameindex();
	sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	for (i = ifs; sk >= 0 && i && i->if_index; i++) {
		snprintf(path, sizeof(path), "/sys/class/net/%.64s/device",
			 i->if_name);
		if (!lb_sysfs_on_loopback(path))
			continue;
		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", i->if_name);
		if (ioctl(sk, SIOCGIFFLAGS, &ifr))
			continue;
		ifr.ifr_flags ^= chance(s, 700) ? IFF_UP : 0;
		ioctl(sk, SIOCSIFFLAGS, &ifr);
	}
	if (sk >= 0)
		close(sk);
	if (ifs)
		if_freenameindex(ifs);
}

static void select_virtio_rng(void)
{
	char avail[512], *tok, *save;
	int fd;

	if (lb_read_file("/sys/class/misc/hw_random/rng_available", avail,
			 sizeof(avail)))
		return;
	for (tok = strtok_r(avail, "\n ", &save); tok;
	     tok = strtok_r(NULL, "\n ", &save)) {
		if (strncmp(tok, "virtio_rng.", 11))
			continue;
		fd = open("/sys/class/misc/hw_random/rng_current",
			  O_WRONLY | O_CLOEXEC);
		if (fd >= 0) {
			if (write(fd, tok, strlen(tok)) < 0)
				vlog("rng_current: %s\n", strerror(errno));
			close(fd);
		}
		return;
	}
}

static void loader_main(uint64_t seed)
{
	char targets[16][32];
	struct dirent *de;
	unsigned int n;
	uint64_t s = seed;
	pid_t pid;
	DIR *d;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (;;) {
		if (getppid() == 1)
			_exit(0);
		n = 0;
		snprintf(targets[n++], sizeof(targets[0]), "/dev/hwrng");
		d = opendir("/dev");
		while (d && (de = readdir(d)) && n < ARRAY_SIZE(targets)) {
			if ((!strncmp(de->d_name, "vd", 2) ||
			     (opt.load_console &&
			      !strncmp(de->d_name, "hvc", 3))) &&
			    strlen(de->d_name) < 16)
				snprintf(targets[n++], sizeof(targets[0]),
					 "/dev/%s", de->d_name);
		}
		if (d)
			closedir(d);
		if (chance(&s, 100))
			select_virtio_rng();
		if (chance(&s, 100))
			net_up(&s);
		pid = fork();
		if (!pid) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			load_one(targets[below(&s, n)], &s);
		}
		rnd(&s);
		if (pid < 0) {
			usleep(100000);
			continue;
		}
		count(&sh->loads);
		sh->reader_pid = pid;
		if (lb_wait_exit(pid, NULL, 2000)) {
			kill(pid, SIGKILL);
			__atomic_store_n(&sh->reader_stuck_since, lb_now_ms(),
					 __ATOMIC_RELAXED);
			while (waitpid(pid, NULL, 0) != pid && errno == EINTR)
				;
			__atomic_store_n(&sh->reader_stuck_since, 0,
					 __ATOMIC_RELAXED);
		} else {
			count(&sh->load_ok);
		}
		usleep(10000 + below(&s, 40000));
	}
}

static int write_str(const char *path, const char *str)
{
	ssize_t n = strlen(str);
	int fd, ret = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, str, n) != n)
		ret = -EIO;
	close(fd);
	return ret;
}

static int write_param(const char *path, long v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%ld\n", v);
	return write_str(path, buf);
}

static long read_param(const char *path)
{
	char buf[32];

	if (lb_read_file(path, buf, sizeof(buf)))
		return -1;
	return strtol(buf, NULL, 0);
}

static bool budget_left(void)
{
	if (opt.messages && sh->rx + sh->tx >= opt.messages)
		return false;
	if (opt.rounds && sh->rounds >= opt.rounds)
		return false;
	return lb_now_ms() - start_ms < opt.time_s * 1000;
}

/* Read and answer what is queued; false when the instance failed. */
static bool serve_pending(struct inst *in)
{
	uint8_t req[MAX_MSG + 8], resp[MAX_MSG];
	uint64_t *s = &in->rs;
	struct virtio_msg_hdr h;
	struct dev *d;
	unsigned int i;
	ssize_t n;

	for (i = 0; i < 32; i++) {
		/* Sometimes a buffer too small: EMSGSIZE, the message stays. */
		n = read(in->fd, req, chance(s, 5) ? below(s, 8) : sizeof(req));
		if (n < 0) {
			if (errno == EAGAIN || errno == EMSGSIZE ||
			    errno == EINTR)
				return true;
			fail("read: %s\n", strerror(errno));
			return false;
		}
		count(&sh->rx);
		if (n < (ssize_t)sizeof(h))
			continue;
		memcpy(&h, req, sizeof(h));
		if (!(h.type & VIRTIO_MSG_TYPE_BUS) &&
		    h.msg_id == VIRTIO_MSG_EVENT_AVAIL) {
			d = find_dev(in, le16toh(h.dev_num));
			if (d && n >= 12 && get_le32(req + 8) < NQUEUES)
				serve_queue(in, d, get_le32(req + 8), 16);
			continue;
		}
		n = answer(in, req, n, resp, &d);
		if (n > 0)
			respond(in, resp, n);
	}
	return true;
}

static void add_device(struct inst *in, uint16_t num)
{
	count(&sh->ioctls);
	if (!lb_dev(in->fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE, num)) {
		count(&sh->devices);
	} else if (errno != EEXIST && errno != ENOSPC) {
		count(&sh->anomalies);
		printf("# fuzz: ADD_DEVICE %u: %s\n", num, strerror(errno));
	}
}

enum end_mode { END_SUDDEN, END_REMOVE, END_SILENT, END_STORMING, END_MAX };

static const char *const end_names[] = {
	"sudden close", "remove all, then close", "silence, then close",
	"close with storms running",
};

/*
 * A driver-side reader that was killed before the instance closed at
 * @closed_ms must be gone soon after its devices are: I/O on a device
 * that went away fails, it does not wait for ever.
 */
static void check_reader(long closed_ms)
{
	long stuck, end = lb_now_ms() + READER_GONE_MS;

	do {
		stuck = __atomic_load_n(&sh->reader_stuck_since,
					__ATOMIC_RELAXED);
		if (!stuck || stuck > closed_ms)
			return;
		usleep(20000);
	} while (lb_now_ms() < end);
	fail("driver-side reader %d killed %ld s ago is still there, %d s after its devices went\n",
	     sh->reader_pid, (lb_now_ms() - stuck) / 1000,
	     READER_GONE_MS / 1000);
}

/* One round on a fresh instance. */
static void round_run(uint64_t seed)
{
	static struct inst inst;
	struct inst *in = &inst;
	struct storm storms[3];
	struct pollfd pfd;
	unsigned int i, nstorm, ndev;
	enum end_mode end;
	long deadline, t, close_ms, gone_end;
	uint64_t *s = &in->rs;
	int left;

	memset(in, 0, sizeof(*in));
	in->rs = seed;
	switch (below(s, 4)) {
	case 0:
		in->hostility = 5;
		break;
	case 1:
		in->hostility = 30;
		break;
	case 2:
		in->hostility = 100;
		break;
	default:
		in->hostility = 300;
		break;
	}
	in->flood = chance(s, 500) ? 1U << below(s, 7) : 0;
	nstorm = opt.storm ? below(s, 4) : 0;
	end = below(s, END_MAX);
	ndev = 1 + below(s, 4);
	deadline = lb_now_ms() + 300 + below(s, 2700);
	vlog("round %ld seed 0x%llx: hostility %u, flood %u, %u devices, %u storms, %s\n",
	     sh->rounds, (unsigned long long)seed, in->hostility, in->flood,
	     ndev, nstorm, end_names[end]);

	if (open_instance(in)) {
		if (in->fd >= 0)
			close(in->fd);
		else
			fail("open %s: %s\n", LB_PATH, strerror(errno));
		return;
	}
	for (i = 0; i < ndev; i++)
		add_device(in, chance(s, 900) ? below(s, NUM_RANGE) :
			   below(s, 0x10000));
	for (i = 0; i < nstorm; i++) {
		storms[i].in = in;
		storms[i].rs = rnd(s);
		storms[i].close_ms = 0;
		storms[i].fd = dup(in->fd);
		if (storms[i].fd < 0 ||
		    pthread_create(&storms[i].thread, NULL, storm_main,
				   &storms[i])) {
			if (storms[i].fd >= 0)
				close(storms[i].fd);
			break;
		}
	}
	nstorm = i;

	while (lb_now_ms() < deadline && budget_left()) {
		beat("serving %s", in->name);
		pfd.fd = in->fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, in->flood ? 0 : 10) < 0 && errno != EINTR) {
			fail("poll: %s\n", strerror(errno));
			break;
		}
		if ((pfd.revents & POLLIN) && !serve_pending(in))
			break;
		flush_late(in, false);
		if (chance(s, 300))
			serve_all_queues(in);
		if (chance(s, in->hostility))
			unsolicited(in);
		in->congested = false;
		for (i = in->flood ? below(s, in->flood) + 1 : 0;
		     i && !in->congested; i--)
			unsolicited(in);
		if (chance(s, 5))
			add_device(in, below(s, NUM_RANGE));
		if (chance(s, in->hostility / 20)) {
			count(&sh->ioctls);
			if (!lb_dev(in->fd, VIRTIO_MSG_LB_IOC_REMOVE_DEVICE,
				    below(s, NUM_RANGE)))
				count(&sh->removes);
		}
		if (chance(s, 2)) {
			/* Waits for delivery, ten seconds at most. */
			beat("fsync %s", in->name);
			count(&sh->ioctls);
			fsync(in->fd);
		}
	}

	beat("ending %s: %s", in->name, end_names[end]);
	switch (end) {
	case END_REMOVE:
		for (i = 0; i < NDEVS; i++) {
			if (!in->devs[i].live)
				continue;
			count(&sh->ioctls);
			if (!lb_dev(in->fd, VIRTIO_MSG_LB_IOC_REMOVE_DEVICE,
				    in->devs[i].num))
				count(&sh->removes);
		}
		t = lb_now_ms() + 200;
		while (lb_now_ms() < t) {
			usleep(10000);
			serve_pending(in);
		}
		break;
	case END_SILENT:
		in->silent = true;
		usleep(1000 * below(s, 2 * opt.req_timeout_ms));
		break;
	default:
		break;
	}
	if (end == END_SILENT || chance(s, 500))
		flush_late(in, true);
	if (end != END_STORMING)
		__atomic_store_n(&in->stop_storm, true, __ATOMIC_RELAXED);

	beat("close %s", in->name);
	t = lb_now_ms();
	close(in->fd);
	close_ms = lb_now_ms() - t;
	count(&sh->closes);

	__atomic_store_n(&in->stop_storm, true, __ATOMIC_RELAXED);
	beat("joining storms of %s", in->name);
	for (i = 0; i < nstorm; i++) {
		pthread_join(storms[i].thread, NULL);
		count(&sh->closes);
		close_ms = lmax(close_ms, storms[i].close_ms);
	}
	if (close_ms > sh->close_max_ms)
		sh->close_max_ms = close_ms;
	if (close_ms > CLOSE_MAX_MS)
		fail("close() of %s took %ld ms (%s)\n", in->name, close_ms,
		     end_names[end]);

	beat("waiting for the devices of %s to go", in->name);
	gone_end = lb_now_ms() + GONE_MAX_MS;
	while ((left = count_devices(in->name)) && lb_now_ms() < gone_end)
		usleep(20000);
	if (left)
		fail("%d virtio devices of %s still registered %d s after close\n",
		     left, in->name, GONE_MAX_MS / 1000);

	beat("health checks after %s", in->name);
	check_proc();
	check_reader(t);
	check_kmsg();
}

static int fuzz_main(void)
{
	uint64_t s = opt.seed;
	pid_t loader = -1;

	kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kmsg_fd >= 0)
		lseek(kmsg_fd, 0, SEEK_END);
	guard_buf = mmap(NULL, SEG_MAX_BYTES + 4096, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (guard_buf == MAP_FAILED ||
	    mprotect((char *)guard_buf + SEG_MAX_BYTES, 4096, PROT_NONE)) {
		fail("guard buffer: %s\n", strerror(errno));
		return 1;
	}
	if (opt.load) {
		loader = fork();
		if (!loader)
			loader_main(rnd(&s));
	}
	while (budget_left()) {
		sh->round_seed = rnd(&s);
		if (opt.replay && !sh->rounds)
			sh->round_seed = opt.replay;
		round_run(sh->round_seed);
		count(&sh->rounds);
		if (sh->failures && !opt.keep_going)
			break;
	}
	if (loader > 0 && lb_kill_wait(loader, NULL, STUCK_MAX_MS))
		fail("the driver-side load process %d cannot be killed\n",
		     loader);
	beat("done");
	check_kmsg();
	return sh->failures ? 1 : 0;
}

/* Where the threads of the stuck fuzzer @pid are in the kernel. */
static void show_stacks(pid_t pid)
{
	char path[64], stack[2048], *line, *save;
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.16s/stack", pid,
			 de->d_name);
		if (lb_read_file(path, stack, sizeof(stack)))
			continue;
		ksft_print_msg("fuzz: thread %s:\n", de->d_name);
		for (line = strtok_r(stack, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save))
			ksft_print_msg("  %s\n", line);
	}
	if (d)
		closedir(d);
}

/* The summary line, built in pieces: "fuzz: seed=... elapsed=...". */
static void summary(const char *verdict)
{
	char line[1024];	/* every counter at its widest */
	size_t n;

	n = snprintf(line, sizeof(line), "fuzz: seed=0x%llx messages=%ld ",
		     opt.seed, sh->rx + sh->tx);
	n += snprintf(line + n, sizeof(line) - n,
		      "rx=%ld tx=%ld refused=%ld ioctls=%ld mem_ok=%ld ",
		      sh->rx, sh->tx, sh->tx_refused, sh->ioctls, sh->mem_ok);
	n += snprintf(line + n, sizeof(line) - n,
		      "devices=%ld removes=%ld opens=%ld closes=%ld ",
		      sh->devices, sh->removes, sh->opens, sh->closes);
	n += snprintf(line + n, sizeof(line) - n,
		      "rounds=%ld events=%ld used=%ld dropped=%ld late=%ld ",
		      sh->rounds, sh->events, sh->used, sh->dropped, sh->late);
	n += snprintf(line + n, sizeof(line) - n,
		      "loads=%ld/%ld anomalies=%ld close_max=%ldms ",
		      sh->load_ok, sh->loads, sh->anomalies, sh->close_max_ms);
	snprintf(line + n, sizeof(line) - n, "elapsed=%lds %s",
		 (lb_now_ms() - start_ms) / 1000, verdict);
	ksft_print_msg("%s\n", line);
}

static void usage(const char *prog, int status)
{
	printf("Usage: %s [--seed N] [--replay ROUND_SEED] [--messages N]\n"
	       "	[--iterations N] [--time-limit S] [--rounds N]\n"
	       "	[--types rng,blk,net,console,other]\n"
	       "	[--request-timeout MS] [--no-load] [--load-console]\n"
	       "	[--no-storm] [--used-rings-only]\n"
	       "	[--keep-going] [--verbose]\n", prog);
	exit(status);
}

/* "rng,blk,net,console,other" (any of them) as TYPE_* bits; 0 if bad. */
static unsigned int parse_types(const char *arg)
{
	char buf[128], *tok, *save;
	unsigned int i, types = 0;

	opt.types_given = true;
	snprintf(buf, sizeof(buf), "%s", arg);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < ARRAY_SIZE(type_names); i++)
			if (!strcmp(tok, type_names[i]))
				break;
		if (i == ARRAY_SIZE(type_names))
			return 0;
		types |= 1U << i;
	}
	return types;
}

static void parse_args(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) {
			opt.verbose = true;
			continue;
		} else if (!strcmp(a, "--no-load")) {
			opt.load = false;
			continue;
		} else if (!strcmp(a, "--load-console")) {
			opt.load_console = true;
			continue;
		} else if (!strcmp(a, "--no-storm")) {
			opt.storm = false;
			continue;
		} else if (!strcmp(a, "--used-rings-only")) {
			opt.used_rings_only = true;
			continue;
		} else if (!strcmp(a, "--keep-going")) {
			opt.keep_going = true;
			continue;
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(argv[0], 0);
		}
		if (!v)
			usage(argv[0], 2);
		i++;
		if (!strcmp(a, "--seed"))
			opt.seed = strtoull(v, NULL, 0);
		else if (!strcmp(a, "--replay"))
			opt.replay = strtoull(v, NULL, 0);
		else if (!strcmp(a, "--messages") || !strcmp(a, "--iterations"))
			opt.messages = strtol(v, NULL, 0);
		else if (!strcmp(a, "--time-limit"))
			opt.time_s = strtol(v, NULL, 0);
		else if (!strcmp(a, "--rounds"))
			opt.rounds = strtol(v, NULL, 0);
		else if (!strcmp(a, "--types"))
			opt.types = parse_types(v);
		else if (!strcmp(a, "--request-timeout"))
			opt.req_timeout_ms = strtol(v, NULL, 0);
		else
			usage(argv[0], 2);
	}
	if (opt.time_s <= 0 || opt.req_timeout_ms <= 0 || !opt.types)
		usage(argv[0], 2);
	if (!opt.types_given && !BLK_BREAK_FIXED)
		opt.types &= ~TYPE_BLK;
}

int main(int argc, char **argv)
{
	long old_timeout, last_beat = 0, last_change, last_report, now;
	int status, ret = KSFT_FAIL;
	const char *verdict;
	char phase[96] = "";
	pid_t pid;

	parse_args(argc, argv);
	setvbuf(stdout, NULL, _IOLBF, 0);
	ksft_print_header();
	ksft_set_plan(1);
	if (!lb_available()) {
		ksft_test_result_skip("%s missing and module not loadable\n",
				      LB_PATH);
		ksft_print_cnts();
		return KSFT_SKIP;
	}
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
	memset(sh, 0, sizeof(*sh));
	ksft_print_msg("fuzz: seed=0x%llx messages=%ld time-limit=%lds\n",
		       opt.seed, opt.messages, opt.time_s);
	ksft_print_msg("fuzz: request-timeout=%ldms load=%d storm=%d types=0x%x\n",
		       opt.req_timeout_ms, opt.load, opt.storm, opt.types);
	if (!opt.types_given && !BLK_BREAK_FIXED)
		ksft_print_msg("fuzz: no blk model: %s\n", NO_BLK_BREAK_FIX);

	old_timeout = read_param(TIMEOUT_PARAM);
	if (old_timeout > 0 && write_param(TIMEOUT_PARAM, opt.req_timeout_ms))
		ksft_print_msg("cannot lower %s\n", TIMEOUT_PARAM);
	start_ms = lb_now_ms();
	sh->heartbeat_ms = start_ms;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		ksft_exit_fail_msg("fork: %s\n", strerror(errno));
	if (!pid)
		_exit(fuzz_main());

	/* The watchdog: progress, and the time limit. */
	last_change = start_ms;
	last_report = start_ms;
	for (;;) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			ret = WIFEXITED(status) && !WEXITSTATUS(status) ?
			      KSFT_PASS : KSFT_FAIL;
			if (!WIFEXITED(status))
				ksft_print_msg("fuzz: the fuzzer died of signal %d in \"%s\"\n",
					       WTERMSIG(status), sh->phase);
			break;
		}
		now = lb_now_ms();
		if (now - last_report >= PROGRESS_MS) {
			last_report = now;
			summary("running");
		}
		if (sh->heartbeat_ms != last_beat ||
		    strcmp(phase, sh->phase)) {
			last_beat = sh->heartbeat_ms;
			snprintf(phase, sizeof(phase), "%s", sh->phase);
			last_change = now;
		}
		if (now - last_change > STALL_MS ||
		    now - start_ms > opt.time_s * 1000 + GRACE_MS) {
			ksft_print_msg("fuzz: FAIL (round %ld, round seed 0x%llx): ",
				       sh->rounds, sh->round_seed);
			printf("stuck for %ld s in \"%s\"\n",
			       (now - last_change) / 1000, sh->phase);
			show_stacks(pid);
			if (lb_kill_wait(pid, NULL, 10000))
				ksft_print_msg("fuzz: the fuzzer is stuck in the kernel\n");
			ret = KSFT_FAIL;
			break;
		}
		usleep(100000);
	}
	if (old_timeout > 0)
		write_param(TIMEOUT_PARAM, old_timeout);
	verdict = ret == KSFT_PASS ? "ok" : "FAILED";
	summary(verdict);
	ksft_test_result(ret == KSFT_PASS, "virtio_msg_loopback_fuzz\n");
	if (ret == KSFT_PASS)
		ksft_exit_pass();
	ksft_exit_fail();
	return ret;
}

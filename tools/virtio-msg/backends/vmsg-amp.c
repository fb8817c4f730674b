// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmsg-amp: the device side of the virtio-msg AMP bus for QEMU guests
 * with an ivshmem-doorbell device. Plays the ivshmem server on a UNIX
 * socket, creates the shared region and serves block, network, entropy
 * and console devices through it (the same device models as the loopback
 * backends).
 *
 * Four ways to run it:
 *  - one process (default): server and devices together;
 *  - --server-only with --device-socket: a long-lived server that owns
 *    the region and the doorbells, and marks the device side PEER_DEAD
 *    when its process goes;
 *  - --connect: the devices, in a process that connects to such a server
 *    and may be stopped and started again while the guest runs;
 *  - --region: no ivshmem and no doorbells; the region is a range of a
 *    file (a guest's RAM, where its device tree reserves it), and both
 *    sides poll it.
 *
 * --hostile MODE makes the device side break the layout's rules on
 * purpose, for the end-to-end tests of the driver side: at start (the
 * layout modes) or when it gets SIGUSR1 (the others). Test use only.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_msg.h>

#include <virtio-msg/amp.h>
#include <virtio-msg/ivshmem.h>
#include <virtio-msg/loopback.h>

#include "models/models.h"

#define AMP_DEFAULT_SIZE_MIB	4
/* Without doorbells, the hand-shake is still looked at this often. */
#define AMP_TICK_MS		200
/* How soon messages that found the driver's queue full are sent again. */
#define AMP_BACKLOG_MS		2
#define AMP_CONNECT_MS		5000
#define AMP_MAX_DEVS		5
/* --hostile flood: this long, this many doorbells per round. */
#define AMP_FLOOD_MS		3000
/* Bound on the driver side letting go of removed devices, at a stop. */
#define AMP_UNPLUG_MS		10000
#define AMP_FLOOD_BURST		64

enum hostile {
	HOSTILE_NONE,
	/* At start: a layout that breaks one rule (magic last, as usual). */
	HOSTILE_ZERO_OFFSET,
	HOSTILE_MISALIGNED,
	HOSTILE_OUT_OF_BOUNDS,
	HOSTILE_OVERLAP,
	HOSTILE_FEATURE,
	/* On SIGUSR1, while running. */
	HOSTILE_BAD_TAIL,
	HOSTILE_BAD_HEAD,
	HOSTILE_MAGIC_FLIP,
	HOSTILE_FLOOD,
};

static const char *const hostile_names[] = {
	[HOSTILE_ZERO_OFFSET] = "layout-zero-offset",
	[HOSTILE_MISALIGNED] = "layout-misaligned",
	[HOSTILE_OUT_OF_BOUNDS] = "layout-out-of-bounds",
	[HOSTILE_OVERLAP] = "layout-overlap",
	[HOSTILE_FEATURE] = "layout-feature",
	[HOSTILE_BAD_TAIL] = "bad-tail",
	[HOSTILE_BAD_HEAD] = "bad-head",
	[HOSTILE_MAGIC_FLIP] = "magic-flip",
	[HOSTILE_FLOOD] = "flood",
};

/* --region: how often the region is looked at, by default. */
#define AMP_REGION_POLL_MS	2

struct opts {
	const char *socket, *device_socket, *connect, *shm, *region;
	unsigned long size_mib, vectors, elements, element_size, notif;
	unsigned long offset, poll_ms;
	unsigned int wire;
	bool server_only, quiet;
	enum hostile hostile;
	const char *blk;
	bool net, rng, console;
};

struct state {
	struct opts o;
	uint8_t *region;
	size_t size;
	struct vmsg_ivshm_server *srv;
	struct vmsg_ivshm_client *cli;
	struct vmsg_amp *amp;
	struct vmsg_serve_dev *devs[AMP_MAX_DEVS];
	unsigned int nr_devs;
	struct vmsg_blk blk;
	struct vmsg_net net;
	struct vmsg_rng rng;
	struct vmsg_con con;
	struct vmsg_serve_dev rng_served;
	bool hostile_fired;
	long unplug_end;	/* serving removed devices until then, or 0 */
};

static volatile sig_atomic_t stop, hostile_go;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		hostile_go = 1;
	else
		stop = 1;
}

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"Usage: %s --socket PATH [options] DEVICES\n"
		"       %s --server-only --socket PATH --device-socket PATH [options]\n"
		"       %s --connect PATH [options] DEVICES\n"
		"       %s --region FILE --offset BYTES [options] DEVICES\n"
		"Serve virtio devices over the virtio-msg AMP bus to a QEMU guest with\n"
		"  -chardev socket,path=PATH,id=ivs\n"
		"  -device ivshmem-doorbell,chardev=ivs,vectors=1\n"
		"or, with --region, to a guest whose RAM is the file FILE\n"
		"(memory-backend-file,share=on) and whose device tree reserves\n"
		"--size MiB at --offset in it for a \"virtio,msg-amp\" node.\n"
		"\n"
		"Devices, numbered from 0 in this order:\n"
		"      --blk FILE|MIB    a disk backed by FILE, or by MIB MiB of memory\n"
		"      --net             two virtio-net devices wired back to back\n"
		"      --rng             virtio-rng (getrandom())\n"
		"      --console         virtio console, one port, echo\n"
		"\n"
		"Server:\n"
		"  -s, --socket PATH       ivshmem server socket for the guests\n"
		"      --device-socket PATH  with --server-only: socket for --connect\n"
		"      --server-only       no devices: own the region and the doorbells;\n"
		"                          mark the device side dead when its process goes\n"
		"  -c, --connect PATH      serve the devices through the server at PATH\n"
		"                          (a --device-socket); may be restarted at will\n"
		"  -m, --shm PATH          the region in file PATH (default: anonymous)\n"
		"  -S, --size MIB          region size, a power of two (default %u)\n"
		"      --vectors N         eventfds per peer, as QEMU's vectors= (default 1)\n"
		"\n"
		"Without ivshmem:\n"
		"      --region FILE       the region is in FILE, which must exist;\n"
		"                          no doorbells: both sides poll\n"
		"      --offset BYTES      where the region starts in FILE (4 KiB aligned)\n"
		"      --poll-ms N         look at the region every N ms (default %u)\n"
		"\n"
		"Layout:\n"
		"      --elements N        elements per message queue (default %u)\n"
		"      --element-size N    bytes per element, the largest message\n"
		"                          (default %u)\n"
		"      --notif N           notification words per direction (default 0)\n"
		"      --wire GEN          wire generation, v1 (default) or v2\n"
		"  -q, --quiet             print nothing but errors\n"
		"  -h, --help              show this help\n"
		"\n"
		"Test only, a device side that breaks the rules (not with --server-only):\n"
		"      --hostile MODE      at start, a layout with one rule broken:\n"
		"                          layout-zero-offset, layout-misaligned,\n"
		"                          layout-out-of-bounds, layout-overlap,\n"
		"                          layout-feature; on SIGUSR1, while running:\n"
		"                          bad-tail, bad-head (an index out of range in\n"
		"                          the device queue head), magic-flip (the\n"
		"                          layout magic changed), flood (%u ms of\n"
		"                          doorbells and notification bits)\n"
		"\n"
		"Prints \"ready\" once serving, and a line per guest that connects or\n"
		"leaves. SIGTERM or SIGINT removes the devices (EVENT_DEVICE), serves them\n"
		"until the driver side has reset them (at most 10 s, or until a second\n"
		"signal), then writes SHUTDOWN, rings and exits with status 0.\n",
		prog, prog, prog, prog, AMP_DEFAULT_SIZE_MIB,
		AMP_REGION_POLL_MS, VMSG_AMP_DEFAULT_ELEMENTS,
		VMSG_AMP_DEFAULT_ELEMENT_SIZE, AMP_FLOOD_MS);
}

enum {
	OPT_DEVICE_SOCKET = 0x100, OPT_SERVER_ONLY, OPT_VECTORS,
	OPT_ELEMENTS, OPT_ELEMENT_SIZE, OPT_NOTIF, OPT_WIRE,
	OPT_BLK, OPT_NET, OPT_RNG, OPT_CONSOLE, OPT_HOSTILE, OPT_REGION,
	OPT_OFFSET, OPT_POLL_MS,
};

static int parse_hostile(const char *arg, enum hostile *h)
{
	unsigned int i;

	for (i = HOSTILE_NONE + 1; i < sizeof(hostile_names) /
	     sizeof(hostile_names[0]); i++) {
		if (!strcmp(arg, hostile_names[i])) {
			*h = i;
			return 0;
		}
	}
	fprintf(stderr, "unknown hostile mode: %s\n", arg);
	return -1;
}

static int parse_num(const char *name, const char *arg, unsigned long min,
		     unsigned long max, unsigned long *val)
{
	if (vmsg_lb_parse_num(arg, min, max, val)) {
		fprintf(stderr, "bad %s: %s\n", name, arg);
		return -1;
	}
	return 0;
}

/* 0 to go on, else the exit status + 1. */
static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option long_opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "device-socket", required_argument, NULL, OPT_DEVICE_SOCKET },
		{ "server-only", no_argument, NULL, OPT_SERVER_ONLY },
		{ "connect", required_argument, NULL, 'c' },
		{ "shm", required_argument, NULL, 'm' },
		{ "size", required_argument, NULL, 'S' },
		{ "vectors", required_argument, NULL, OPT_VECTORS },
		{ "elements", required_argument, NULL, OPT_ELEMENTS },
		{ "element-size", required_argument, NULL, OPT_ELEMENT_SIZE },
		{ "notif", required_argument, NULL, OPT_NOTIF },
		{ "wire", required_argument, NULL, OPT_WIRE },
		{ "blk", required_argument, NULL, OPT_BLK },
		{ "net", no_argument, NULL, OPT_NET },
		{ "rng", no_argument, NULL, OPT_RNG },
		{ "console", no_argument, NULL, OPT_CONSOLE },
		{ "hostile", required_argument, NULL, OPT_HOSTILE },
		{ "region", required_argument, NULL, OPT_REGION },
		{ "offset", required_argument, NULL, OPT_OFFSET },
		{ "poll-ms", required_argument, NULL, OPT_POLL_MS },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	int opt, bad = 0;

	while ((opt = getopt_long(argc, argv, "s:c:m:S:qh", long_opts,
				  NULL)) != -1) {
		switch (opt) {
		case 's':
			o->socket = optarg;
			break;
		case OPT_DEVICE_SOCKET:
			o->device_socket = optarg;
			break;
		case OPT_SERVER_ONLY:
			o->server_only = true;
			break;
		case 'c':
			o->connect = optarg;
			break;
		case 'm':
			o->shm = optarg;
			break;
		case 'S':
			bad |= parse_num("size", optarg, 1, 1UL << 16,
					 &o->size_mib);
			break;
		case OPT_VECTORS:
			bad |= parse_num("vectors", optarg, 1,
					 VMSG_IVSHM_MAX_VECTORS, &o->vectors);
			break;
		case OPT_ELEMENTS:
			bad |= parse_num("elements", optarg,
					 VIRTIO_MSG_AMP_MIN_ELEMENTS, 65535,
					 &o->elements);
			break;
		case OPT_ELEMENT_SIZE:
			bad |= parse_num("element size", optarg,
					 VIRTIO_MSG_MAX_SIZE_MIN, 65535,
					 &o->element_size);
			break;
		case OPT_NOTIF:
			bad |= parse_num("notif", optarg, 0,
					 VIRTIO_MSG_AMP_MAX_NOTIF, &o->notif);
			break;
		case OPT_WIRE:
			bad |= vmsg_lb_parse_wire(optarg, &o->wire);
			break;
		case OPT_BLK:
			o->blk = optarg;
			break;
		case OPT_NET:
			o->net = true;
			break;
		case OPT_RNG:
			o->rng = true;
			break;
		case OPT_CONSOLE:
			o->console = true;
			break;
		case OPT_HOSTILE:
			bad |= parse_hostile(optarg, &o->hostile);
			break;
		case OPT_REGION:
			o->region = optarg;
			break;
		case OPT_OFFSET:
			bad |= parse_num("offset", optarg, 0, LONG_MAX,
					 &o->offset);
			break;
		case OPT_POLL_MS:
			bad |= parse_num("poll-ms", optarg, 1, 1000,
					 &o->poll_ms);
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'h':
			usage(stdout, argv[0]);
			return 1;
		default:
			usage(stderr, argv[0]);
			return 3;
		}
		if (bad)
			return 3;
	}
	if (optind != argc || (o->size_mib & (o->size_mib - 1)) ||
	    (!!o->socket + !!o->connect + !!o->region) != 1 ||
	    (o->region && (o->shm || o->server_only)) ||
	    (o->offset & (VMSG_AMP_WINDOW_ALIGN - 1)) ||
	    (!o->region && o->offset) ||
	    (o->server_only && !o->device_socket) ||
	    (o->device_socket && !o->server_only) ||
	    (o->server_only && (o->blk || o->net || o->rng || o->console ||
				o->hostile)) ||
	    (!o->server_only && !o->blk && !o->net && !o->rng &&
	     !o->console)) {
		usage(stderr, argv[0]);
		return 3;
	}
	return 0;
}

/* The region: a file kept for a restart, or anonymous memory. */
static int open_region(const struct opts *o, size_t size)
{
	struct stat st;
	int fd;

	if (o->shm)
		fd = open(o->shm, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	else
		fd = memfd_create("vmsg-amp", MFD_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) ||
	    ((size_t)st.st_size != size && ftruncate(fd, size))) {
		fprintf(stderr, "%s: %s\n", o->shm ? o->shm : "memfd",
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int map_region(struct state *s, int fd)
{
	struct stat st;
	void *p;

	if (fstat(fd, &st) || st.st_size <= 0) {
		fprintf(stderr, "region: %s\n", strerror(errno ? errno : EINVAL));
		return -1;
	}
	s->size = st.st_size;
	p = mmap(NULL, s->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		fprintf(stderr, "region: %s\n", strerror(errno));
		return -1;
	}
	s->region = p;
	return 0;
}

/*
 * --region: @size bytes at @o->offset of an existing file, a guest's RAM,
 * which the guest itself may not have written yet; the file is never
 * grown, since QEMU sized it.
 */
static int map_file_range(struct state *s, size_t size)
{
	struct stat st;
	void *p;
	int fd;

	fd = open(s->o.region, O_RDWR | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		fprintf(stderr, "%s: %s\n", s->o.region, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (st.st_size < 0 || s->o.offset > (unsigned long)st.st_size ||
	    size > (unsigned long)st.st_size - s->o.offset) {
		fprintf(stderr, "%s: %lu MiB at %#lx do not fit in %lld bytes\n",
			s->o.region, (unsigned long)(size >> 20), s->o.offset,
			(long long)st.st_size);
		close(fd);
		return -1;
	}
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 s->o.offset);
	close(fd);
	if (p == MAP_FAILED) {
		fprintf(stderr, "%s: %s\n", s->o.region, strerror(errno));
		return -1;
	}
	s->region = p;
	s->size = size;
	return 0;
}

/* --region: nothing to ring; the driver side polls the region. */
static void ring_none(void *ctx)
{
	(void)ctx;
}

static void ring_server(void *ctx)
{
	struct state *s = ctx;

	vmsg_ivshm_server_ring_guests(s->srv, 0);
}

static void ring_client(void *ctx)
{
	struct state *s = ctx;

	vmsg_ivshm_client_ring(s->cli, -1, 0);
}

static void guest_join(void *priv, int64_t id)
{
	struct state *s = priv;

	if (!s->o.quiet) {
		printf("guest %lld connected\n", (long long)id);
		fflush(stdout);
	}
}

static void guest_leave(void *priv, int64_t id)
{
	struct state *s = priv;

	if (!s->o.quiet) {
		printf("guest %lld left\n", (long long)id);
		fflush(stdout);
	}
	if (s->amp && !vmsg_ivshm_server_nr_guests(s->srv))
		vmsg_amp_peer_gone(s->amp);
}

/* The device side's process went: tell the guests at once. */
static void device_leave(void *priv)
{
	struct state *s = priv;

	if (vmsg_amp_mark_dead(s->region, s->size))
		vmsg_ivshm_server_ring_guests(s->srv, 0);
	if (!s->o.quiet) {
		printf("device side left\n");
		fflush(stdout);
	}
}

static int setup_devices(struct state *s)
{
	struct vmsg_transport *t = vmsg_amp_transport(s->amp);
	uint16_t num = 0;
	unsigned long mib = 0;
	unsigned int i;

	if (s->o.wire && vmsg_transport_set_wire(t, s->o.wire, 0))
		return -1;
	if (s->o.blk) {
		bool is_size = !vmsg_lb_parse_num(s->o.blk, 1, 1UL << 20, &mib);

		if (vmsg_blk_open(&s->blk, is_size ? NULL : s->o.blk, mib,
				  false, num))
			return -1;
		s->blk.served.dev_num = num++;
		s->devs[s->nr_devs++] = &s->blk.served;
	}
	if (s->o.net) {
		s->net = (struct vmsg_net)VMSG_NET_DEFAULTS;
		s->net.ports[0].dev_num = num++;
		s->net.ports[1].dev_num = num++;
		if (vmsg_net_init(&s->net, 1500))
			return -1;
		s->devs[s->nr_devs++] = &s->net.served[0];
		s->devs[s->nr_devs++] = &s->net.served[1];
	}
	if (s->o.rng) {
		s->rng_served = (struct vmsg_serve_dev){
			.dev_num = num++, .model = &vmsg_rng_model,
			.priv = &s->rng,
		};
		s->devs[s->nr_devs++] = &s->rng_served;
	}
	if (s->o.console) {
		if (vmsg_con_init(&s->con, num++, false))
			return -1;
		s->devs[s->nr_devs++] = &s->con.served;
	}
	for (i = 0; i < s->nr_devs; i++) {
		s->devs[i]->dev = vmsg_transport_add(t, s->devs[i]->dev_num,
						     s->devs[i]->model,
						     s->devs[i]->priv);
		if (!s->devs[i]->dev) {
			fprintf(stderr, "device %u: %s\n", s->devs[i]->dev_num,
				strerror(errno));
			return -1;
		}
	}
	return 0;
}

static int create_amp(struct state *s, uint32_t peer_id)
{
	struct vmsg_amp_config cfg = {
		.num_elements = s->o.elements,
		.element_size = s->o.element_size,
		.num_notif = s->o.notif,
		.vq_notif_per_device = 1,
		.peer_id = peer_id,
		.ring = s->srv ? ring_server : s->cli ? ring_client : ring_none,
		.ring_ctx = s,
	};

	s->amp = vmsg_amp_create(s->region, s->size, &cfg);
	if (!s->amp) {
		fprintf(stderr, "layout: %s\n", strerror(errno));
		return -1;
	}
	return setup_devices(s);
}

/*
 * The hostile modes. They touch only words this side owns (the header,
 * its queue head, its notification words), at offsets it wrote itself
 * and checks again, as a broken device side could.
 */
#define LAYOUT_OFF(f)	offsetof(struct virtio_msg_amp_layout, f)

static uint16_t reg16(const struct state *s, size_t off)
{
	return le16toh(__atomic_load_n((uint16_t *)(s->region + off),
				       __ATOMIC_ACQUIRE));
}

static void put16(struct state *s, size_t off, uint16_t v)
{
	__atomic_store_n((uint16_t *)(s->region + off), htole16(v),
			 __ATOMIC_RELEASE);
}

static uint64_t reg64(const struct state *s, size_t off)
{
	return le64toh(__atomic_load_n((uint64_t *)(s->region + off),
				       __ATOMIC_ACQUIRE));
}

static void put64(struct state *s, size_t off, uint64_t v)
{
	__atomic_store_n((uint64_t *)(s->region + off), htole64(v),
			 __ATOMIC_RELEASE);
}

static void ring_peer(struct state *s)
{
	if (s->srv)
		ring_server(s);
	else
		ring_client(s);
}

static void hostile_say(struct state *s, const char *what)
{
	printf("hostile %s: %s\n", hostile_names[s->o.hostile], what);
	fflush(stdout);
}

/* Break one rule of the header just written: magic off, change, magic on. */
static void hostile_layout(struct state *s)
{
	uint64_t dev_head = reg64(s, LAYOUT_OFF(dev_queue_head_offset));

	put16(s, LAYOUT_OFF(magic), 0);
	switch (s->o.hostile) {
	case HOSTILE_ZERO_OFFSET:
		put64(s, LAYOUT_OFF(dev_queue_elements_offset), 0);
		break;
	case HOSTILE_MISALIGNED:
		put64(s, LAYOUT_OFF(dev_queue_head_offset), dev_head + 1);
		break;
	case HOSTILE_OUT_OF_BOUNDS:
		put64(s, LAYOUT_OFF(drv_queue_elements_offset), s->size - 8);
		break;
	case HOSTILE_OVERLAP:
		put64(s, LAYOUT_OFF(drv_queue_head_offset), dev_head + 4);
		break;
	case HOSTILE_FEATURE:
		put16(s, LAYOUT_OFF(features),
		      reg16(s, LAYOUT_OFF(features)) | 0x8000);
		break;
	default:
		break;
	}
	put16(s, LAYOUT_OFF(magic), VIRTIO_MSG_AMP_LAYOUT_MAGIC);
	ring_peer(s);
	hostile_say(s, "layout written");
}

/* The device queue head: its offset, or 0 if the header lost it. */
static size_t hostile_dev_head(const struct state *s)
{
	uint64_t off = reg64(s, LAYOUT_OFF(dev_queue_head_offset));

	if (off < VMSG_AMP_HEADER_AREA || off % 2 || off > s->size ||
	    s->size - off < sizeof(struct virtio_msg_amp_queue_head))
		return 0;
	return off;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Doorbells and every notification bit toggled, while still serving. */
static void hostile_flood(struct state *s)
{
	uint8_t nn = s->region[LAYOUT_OFF(num_notif)];
	uint64_t notif = reg64(s, LAYOUT_OFF(dev_notif_offset));
	unsigned long rings = 0;
	long end = now_ms() + AMP_FLOOD_MS;
	unsigned int i, w;

	if (!nn || nn > VIRTIO_MSG_AMP_MAX_NOTIF || notif % 8 ||
	    notif > s->size || s->size - notif < 8UL * nn)
		nn = 0;
	while (!stop && now_ms() < end) {
		for (w = 0; w < nn; w++)
			put64(s, notif + 8 * w,
			      reg64(s, notif + 8 * w) ^ ~0ULL);
		for (i = 0; i < AMP_FLOOD_BURST; i++, rings++)
			ring_peer(s);
		vmsg_amp_poll(s->amp);
		/* A flood, but one that leaves the host's CPUs usable. */
		nanosleep(&(struct timespec){ .tv_nsec = 20000 }, NULL);
	}
	printf("hostile flood: %lu doorbells, %u notification words\n",
	       rings, nn);
	fflush(stdout);
}

/*
 * SIGUSR1 came. The index modes stop serving and keep their index in
 * place (the library would write a valid one with its next message);
 * magic-flip goes on serving with the magic changed; flood floods, then
 * serves as before.
 */
static void hostile_fire(struct state *s)
{
	size_t head = hostile_dev_head(s);
	uint16_t n = reg16(s, LAYOUT_OFF(num_queue_elements));

	hostile_go = 0;
	if (!s->amp)
		return;
	switch (s->o.hostile) {
	case HOSTILE_BAD_TAIL:
	case HOSTILE_BAD_HEAD:
		if (!head)
			return;
		if (!s->hostile_fired)
			hostile_say(s, "index out of range");
		s->hostile_fired = true;
		put16(s, head + (s->o.hostile == HOSTILE_BAD_TAIL ?
				 offsetof(struct virtio_msg_amp_queue_head, tail) :
				 offsetof(struct virtio_msg_amp_queue_head, head)),
		      n + 1);
		ring_peer(s);
		return;
	case HOSTILE_MAGIC_FLIP:
		put16(s, LAYOUT_OFF(magic), (uint16_t)~VIRTIO_MSG_AMP_LAYOUT_MAGIC);
		ring_peer(s);
		hostile_say(s, "magic flipped");
		return;
	case HOSTILE_FLOOD:
		hostile_say(s, "flooding");
		hostile_flood(s);
		return;
	default:
		return;
	}
}

/* Serve until a signal; 0, or -1 when the server went away. */
static int serve(struct state *s, const sigset_t *wait_mask)
{
	struct pollfd pfd[VMSG_IVSHM_MAX_PEERS + 5];
	unsigned int n, nsrv = 0;
	int efd = -1, csock = -1, timeout, ret;
	bool more = false, left;

	if (s->srv && s->amp)
		efd = vmsg_ivshm_server_device_efd(s->srv, 0);
	if (s->cli) {
		efd = vmsg_ivshm_client_efd(s->cli, 0);
		csock = vmsg_ivshm_client_fd(s->cli);
	}
	while (!stop) {
		if (s->unplug_end &&
		    (vmsg_transport_unplug_done(vmsg_amp_transport(s->amp)) ||
		     now_ms() >= s->unplug_end))
			break;
		if (hostile_go)
			hostile_fire(s);
		if (s->hostile_fired) {
			/* Keep the broken index there: rewrite it every tick. */
			hostile_go = 1;
			more = false;
		} else if (s->amp) {
			more = vmsg_amp_poll(s->amp) > 0;
			if (s->o.net && vmsg_net_resume_tx(&s->net))
				more = true;
		}
		n = 0;
		if (s->srv) {
			nsrv = vmsg_ivshm_server_pollfds(s->srv, pfd);
			n = nsrv;
		}
		pfd[n++] = (struct pollfd){ .fd = efd, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = csock, .events = POLLIN };
		timeout = more ? 0 : s->o.region ? (int)s->o.poll_ms :
				     AMP_TICK_MS;
		/* Messages wait for room in a full queue: look again soon. */
		if (s->amp && timeout > AMP_BACKLOG_MS &&
		    vmsg_transport_backlogged(vmsg_amp_transport(s->amp)))
			timeout = AMP_BACKLOG_MS;
		ret = ppoll(pfd, n, &(struct timespec){
				.tv_sec = timeout / 1000,
				.tv_nsec = (timeout % 1000) * 1000000L },
			    wait_mask);
		if (ret <= 0)
			continue;
		if (s->srv)
			vmsg_ivshm_server_handle(s->srv, pfd, nsrv);
		if (efd >= 0 && pfd[n - 2].revents)
			vmsg_efd_drain(efd);
		if (csock >= 0 && pfd[n - 1].revents) {
			left = false;
			if (vmsg_ivshm_client_handle(s->cli, NULL, &left)) {
				fprintf(stderr, "server: connection lost\n");
				return -1;
			}
			if (left && !vmsg_ivshm_client_nr_peers(s->cli))
				vmsg_amp_peer_gone(s->amp);
		}
	}
	return 0;
}

/*
 * Stopping while the driver side runs: announce every device removed and
 * serve until the driver side has reset them all, so that their drivers
 * complete what the devices hold instead of failing it; then SHUTDOWN.
 * A second signal, or AMP_UNPLUG_MS, ends the wait.
 */
static void unplug(struct state *s, const sigset_t *wait_mask)
{
	if (!s->amp || s->hostile_fired ||
	    vmsg_amp_status(s->amp) != VIRTIO_MSG_AMP_STATUS_RUN)
		return;
	if (vmsg_transport_unplug_all(vmsg_amp_transport(s->amp)))
		return;
	stop = 0;
	s->unplug_end = now_ms() + AMP_UNPLUG_MS;
	serve(s, wait_mask);
	s->unplug_end = 0;
}

static void catch_signals(sigset_t *wait_mask)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, wait_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigdelset(wait_mask, SIGTERM);
	sigdelset(wait_mask, SIGINT);
	sigdelset(wait_mask, SIGUSR1);
	signal(SIGPIPE, SIG_IGN);
}

static int start(struct state *s)
{
	const struct vmsg_ivshm_events ev = {
		.guest_join = guest_join,
		.guest_leave = guest_leave,
		.device_leave = device_leave,
		.priv = s,
	};
	int fd;

	if (s->o.region) {
		if (map_file_range(s, (size_t)s->o.size_mib << 20))
			return -1;
		return create_amp(s, 0);
	}
	if (s->o.connect) {
		s->cli = vmsg_ivshm_client_connect(s->o.connect, s->o.vectors,
						   AMP_CONNECT_MS);
		if (!s->cli) {
			fprintf(stderr, "%s: %s\n", s->o.connect,
				strerror(errno));
			return -1;
		}
		if (map_region(s, vmsg_ivshm_client_shm_fd(s->cli)))
			return -1;
		return create_amp(s, vmsg_ivshm_client_id(s->cli));
	}
	fd = open_region(&s->o, (size_t)s->o.size_mib << 20);
	if (fd < 0 || map_region(s, fd))
		return -1;
	s->srv = vmsg_ivshm_server_create(s->o.socket, s->o.device_socket, fd,
					  s->o.vectors, &ev);
	close(fd);
	if (!s->srv) {
		fprintf(stderr, "%s: %s\n", s->o.socket, strerror(errno));
		return -1;
	}
	if (s->o.server_only)
		return 0;
	return create_amp(s, VMSG_IVSHM_DEVICE_ID);
}

int main(int argc, char **argv)
{
	static struct state s = {
		.o = {
			.size_mib = AMP_DEFAULT_SIZE_MIB,
			.vectors = 1,
			.poll_ms = AMP_REGION_POLL_MS,
		},
	};
	struct vmsg_amp_stats st;
	sigset_t wait_mask;
	int ret;

	ret = parse_args(argc, argv, &s.o);
	if (ret)
		return ret - 1;
	catch_signals(&wait_mask);
	ret = start(&s);
	if (!ret && s.o.hostile >= HOSTILE_ZERO_OFFSET &&
	    s.o.hostile <= HOSTILE_FEATURE)
		hostile_layout(&s);
	else if (!ret && s.o.hostile)
		hostile_say(&s, "armed, waiting for SIGUSR1");
	if (!ret) {
		if (!s.o.quiet) {
			printf("ready\n");
			fflush(stdout);
		}
		ret = serve(&s, &wait_mask);
		if (!ret)
			unplug(&s, &wait_mask);
	}
	if (s.amp) {
		vmsg_amp_get_stats(s.amp, &st);
		/* SHUTDOWN and a doorbell, then the devices go. */
		vmsg_amp_destroy(s.amp);
		if (!s.o.quiet)
			fprintf(stdout,
				"%llu messages in, %llu out, %llu dropped, %llu waited for room, %llu restarts, %llu peer errors\n",
				(unsigned long long)st.received,
				(unsigned long long)st.sent,
				(unsigned long long)st.send_dropped,
				(unsigned long long)st.send_full,
				(unsigned long long)st.restarts,
				(unsigned long long)st.peer_errors);
	}
	if (s.o.blk && vmsg_blk_close(&s.blk))
		ret = -1;
	if (s.o.net)
		vmsg_net_fini(&s.net, NULL);
	if (s.o.console)
		vmsg_con_fini(&s.con, NULL);
	vmsg_ivshm_server_destroy(s.srv);
	vmsg_ivshm_client_close(s.cli);
	if (s.region)
		munmap(s.region, s.size);
	return ret ? 1 : 0;
}

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The device models the backend programs serve, over any bus: each is a
 * struct vmsg_dev_model with its state, and a struct vmsg_serve_dev that
 * the serving loop of a bus (vmsg_lb_serve(), vmsg_amp_serve()) fills in.
 * Errors are printed on stderr, as a program would.
 */
#ifndef _VMSG_BACKEND_MODELS_H
#define _VMSG_BACKEND_MODELS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <linux/virtio_blk.h>

#include <virtio-msg/device.h>
#include <virtio-msg/transport.h>

/* virtio-rng; priv is a struct vmsg_rng. */
struct vmsg_rng {
	unsigned long long bytes;
	unsigned long long chains;
};

extern const struct vmsg_dev_model vmsg_rng_model;

/* virtio-blk: config space up to and including blk_size. */
#define BLK_CONFIG_SIZE		24
#define BLK_BUF			(64 * 1024)

struct vmsg_blk {
	const char *file;
	int fd;			/* backing file, or -1 for memory */
	uint8_t *mem;
	uint64_t size;		/* bytes, a multiple of 512 */
	bool read_only;
	char id[VIRTIO_BLK_ID_BYTES];
	uint32_t features[2];
	uint8_t config[BLK_CONFIG_SIZE];
	struct vmsg_dev_model model;
	struct vmsg_serve_dev served;
	uint8_t buf[BLK_BUF];
	unsigned long long reads, writes, flushes;
};

/*
 * vmsg_blk_open() - a disk backed by @file, or by @size_mib MiB of memory
 * when @file is NULL, as device @dev_num. Return 0, or -1 after saying why.
 * vmsg_blk_close() flushes and closes it: 0, or -1 when the flush failed.
 */
int vmsg_blk_open(struct vmsg_blk *b, const char *file,
		  unsigned long size_mib, bool read_only, uint16_t dev_num);
int vmsg_blk_close(struct vmsg_blk *b);

/* virtio-net: two ports, A and B, wired back to back. */
#define VMSG_NET_MTU_MAX	65535
/* Largest queue size offered, and the default. */
#define VMSG_NET_QUEUE_MAX	256
/* Frames held for a device that has no receive buffer. */
#define VMSG_NET_HOLD_MAX	128
/* Config space: mac[6], status, max_virtqueue_pairs, mtu (le16 each). */
#define VMSG_NET_CONFIG_SIZE	12

struct vmsg_net_frame;

struct vmsg_net_port {
	char name;			/* 'A' or 'B' */
	uint16_t dev_num;
	uint8_t mac[6];
	struct vmsg_serve_dev *served;	/* ->dev while served */
	struct vmsg_net_port *peer;
	struct vmsg_dev_model model;
	uint16_t queue_max[2];		/* receive, transmit */
	uint8_t config[VMSG_NET_CONFIG_SIZE];
	/* Frames waiting for a receive buffer of this port, oldest first. */
	struct vmsg_net_frame *held, **held_tail;
	unsigned int nr_held;
	bool tx_more;			/* transmit backlog left after a kick */
	unsigned long long tx_frames, tx_errors;
	unsigned long long rx_frames, rx_bytes, rx_dropped;
};

struct vmsg_net {
	struct vmsg_net_port ports[2];
	struct vmsg_serve_dev served[2];
	/* Both queues' maximum size, 1 to VMSG_NET_QUEUE_MAX; 0: the most. */
	unsigned int queue_size;
};

/* Device numbers 1 and 2, MAC addresses 02:76:6d:00:00:01 and :02. */
#define VMSG_NET_DEFAULTS { .ports = {					\
	{ .dev_num = 1, .mac = { 0x02, 0x76, 0x6d, 0, 0, 1 } },		\
	{ .dev_num = 2, .mac = { 0x02, 0x76, 0x6d, 0, 0, 2 } },		\
} }

/*
 * vmsg_net_init() - set up both ports once their device numbers and MAC
 * addresses are chosen; @mtu is offered to both. Return 0, or -1 after
 * saying why (same numbers, same addresses).
 * vmsg_net_resume_tx() - struct vmsg_serve_hooks.work, priv the struct
 * vmsg_net: resumes the transmit backlogs kicks left.
 * vmsg_net_fini() - drop held frames; print the counters on @report if
 * not NULL.
 */
int vmsg_net_init(struct vmsg_net *n, unsigned int mtu);
bool vmsg_net_resume_tx(void *priv);
void vmsg_net_drop_held(struct vmsg_net_port *p);
void vmsg_net_fini(struct vmsg_net *n, FILE *report);
/* A unicast MAC address, xx:xx:xx:xx:xx:xx, not all zero: 0 or -1. */
int vmsg_parse_mac(const char *s, uint8_t mac[6]);

/* virtio console, one port. */
#define VMSG_CON_CHUNK		65536	/* largest buffer taken whole */
#define VMSG_CON_BUF_SIZE	(1U << 20)

struct vmsg_con {
	bool relay;		/* to stdout, from stdin */
	bool in_eof;
	/* Bytes on their way to the driver: a ring of VMSG_CON_BUF_SIZE. */
	uint8_t *buf;
	size_t head, len;
	struct vmsg_serve_dev served;
	uint8_t chunk[VMSG_CON_CHUNK];
	unsigned long long from_driver, to_driver, dropped;
};

extern const struct vmsg_dev_model vmsg_con_model;

/*
 * vmsg_con_init() - an echo console, or with @relay one that copies to
 * stdout and from stdin, as device @dev_num. Return 0, or -1 after saying
 * why. vmsg_con_stdin_fd() and vmsg_con_stdin_ready() are the
 * struct vmsg_serve_hooks of a relay, priv the struct vmsg_con.
 * vmsg_con_fini() prints the counters on @report if not NULL, and frees.
 */
int vmsg_con_init(struct vmsg_con *c, uint16_t dev_num, bool relay);
int vmsg_con_stdin_fd(void *priv);
void vmsg_con_stdin_ready(void *priv);
void vmsg_con_fini(struct vmsg_con *c, FILE *report);

#endif /* _VMSG_BACKEND_MODELS_H */

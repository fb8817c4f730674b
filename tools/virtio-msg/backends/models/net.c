// SPDX-License-Identifier: GPL-2.0-only
/*
 * The virtio-net device model: two devices wired back to back, like two
 * NICs joined by a cable: every frame one device transmits is delivered to
 * the other one's receive queue.
 *
 * No offloads and no mergeable receive buffers: each frame travels with a
 * 12-byte struct virtio_net_hdr_v1 that is all zero but num_buffers. A
 * frame for a device with no receive buffer is held until the driver adds
 * buffers (and kicks), up to VMSG_VMSG_NET_HOLD_MAX frames; beyond that it is
 * dropped and counted, as a real NIC would.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/virtio_config.h>
#include <linux/virtio_net.h>

#include <virtio-msg/virtqueue.h>

#include "models.h"

#define VIRTIO_ID_NET		1
#define NET_RX			0
#define NET_TX			1
#define NET_QUEUE_SIZE		VMSG_NET_QUEUE_MAX
/* Chains handled per kick; the main loop resumes a longer backlog. */
#define NET_MAX_CHAINS		(4 * NET_QUEUE_SIZE)
#define NET_MAX_SEGS		64
#define NET_HDR_SIZE		12	/* struct virtio_net_hdr_v1 */
#define NET_ETH_HLEN		14
/* Largest frame: MTU plus Ethernet header and one VLAN tag. */
#define NET_FRAME_MAX(mtu)	((mtu) + NET_ETH_HLEN + 4)

#define FEAT(b)			(1U << ((b) % 32))

struct vmsg_net_frame {
	struct vmsg_net_frame *next;
	uint32_t len;
	uint8_t data[];
};

static const uint32_t net_features[2] = {
	FEAT(VIRTIO_NET_F_MTU) | FEAT(VIRTIO_NET_F_MAC) |
	FEAT(VIRTIO_NET_F_STATUS),
	FEAT(VIRTIO_F_VERSION_1) | FEAT(VIRTIO_F_ACCESS_PLATFORM),
};

static const uint32_t net_required[2] = {
	0,
	FEAT(VIRTIO_F_VERSION_1) | FEAT(VIRTIO_F_ACCESS_PLATFORM),
};

static unsigned int net_mtu = 1500;
static uint8_t net_buf[NET_HDR_SIZE + NET_FRAME_MAX(VMSG_NET_MTU_MAX)];

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = v;
	p[1] = v >> 8;
}

/*
 * Put one frame into @p's next receive buffer. Returns 1 when delivered,
 * 0 when no buffer is available (the frame may be held), -1 when the
 * frame was dropped (queue not live, buffer too small, access failed).
 */
static int net_rx_one(struct vmsg_net_port *p, const uint8_t *frame, uint32_t len)
{
	struct vmsg_dev *dev = p->served->dev;
	uint8_t hdr[NET_HDR_SIZE] = { 0 };
	struct vmsg_iov iov[NET_MAX_SEGS];
	const struct vmsg_iov *in;
	struct vmsg_vq_elem elem;
	int i, r;

	for (i = 0; i < NET_QUEUE_SIZE; i++) {
		r = vmsg_vq_pop(dev, NET_RX, &elem, iov, NET_MAX_SEGS);
		if (r != -ENOBUFS)
			break;
	}
	if (r == 0)
		return 0;
	if (r < 0)
		return -1;
	in = iov + elem.out_num;
	put_le16(hdr + 10, 1);		/* num_buffers */
	if (elem.in_len < NET_HDR_SIZE + len ||
	    vmsg_iov_write(dev, in, elem.in_num, 0, hdr, NET_HDR_SIZE) !=
	    NET_HDR_SIZE ||
	    vmsg_iov_write(dev, in, elem.in_num, NET_HDR_SIZE, frame, len) !=
	    (ssize_t)len) {
		vmsg_vq_push(dev, NET_RX, elem.head, 0);
		return -1;
	}
	vmsg_vq_push(dev, NET_RX, elem.head, NET_HDR_SIZE + len);
	p->rx_frames++;
	p->rx_bytes += len;
	return 1;
}

/* Deliver the frames held for @p while it has receive buffers. */
static void net_rx_flush(struct vmsg_net_port *p)
{
	struct vmsg_net_frame *f;
	int r;

	while ((f = p->held)) {
		r = net_rx_one(p, f->data, f->len);
		if (r == 0)
			break;
		if (r < 0)
			p->rx_dropped++;
		p->held = f->next;
		if (!p->held)
			p->held_tail = &p->held;
		p->nr_held--;
		free(f);
	}
}

void vmsg_net_drop_held(struct vmsg_net_port *p)
{
	struct vmsg_net_frame *f;

	while ((f = p->held)) {
		p->held = f->next;
		free(f);
		p->rx_dropped++;
	}
	p->held_tail = &p->held;
	p->nr_held = 0;
}

/* A frame on the wire towards @p: deliver it, hold it or drop it. */
static void net_forward(struct vmsg_net_port *p, const uint8_t *frame, uint32_t len)
{
	struct vmsg_net_frame *f;
	int r;

	net_rx_flush(p);
	if (!p->held) {
		r = net_rx_one(p, frame, len);
		if (r > 0)
			return;
		if (r < 0) {
			p->rx_dropped++;
			return;
		}
	}
	if (p->nr_held >= VMSG_NET_HOLD_MAX) {
		p->rx_dropped++;
		return;
	}
	f = malloc(sizeof(*f) + len);
	if (!f) {
		p->rx_dropped++;
		return;
	}
	f->next = NULL;
	f->len = len;
	memcpy(f->data, frame, len);
	*p->held_tail = f;
	p->held_tail = &f->next;
	p->nr_held++;
}

/* Take what @p transmitted and put it on the wire to its peer. */
static void net_tx(struct vmsg_net_port *p)
{
	struct vmsg_dev *dev = p->served->dev;
	struct vmsg_dev *peer_dev = p->peer->served->dev;
	struct vmsg_iov iov[NET_MAX_SEGS];
	struct vmsg_vq_elem elem;
	uint64_t len;
	int i, r;

	for (i = 0; i < NET_MAX_CHAINS; i++) {
		r = vmsg_vq_pop(dev, NET_TX, &elem, iov, NET_MAX_SEGS);
		if (r == -ENOBUFS) {
			p->tx_errors++;
			continue;
		}
		if (r <= 0)
			break;
		len = elem.out_len;
		if (len < NET_HDR_SIZE + NET_ETH_HLEN ||
		    len > NET_HDR_SIZE + NET_FRAME_MAX(net_mtu) ||
		    vmsg_iov_read(dev, iov, elem.out_num, 0, net_buf, len) !=
		    (ssize_t)len) {
			p->tx_errors++;
			vmsg_vq_push(dev, NET_TX, elem.head, 0);
			continue;
		}
		/* The buffer goes back first: the frame is ours now. */
		vmsg_vq_push(dev, NET_TX, elem.head, 0);
		p->tx_frames++;
		net_forward(p->peer, net_buf + NET_HDR_SIZE,
			    len - NET_HDR_SIZE);
	}
	p->tx_more = i == NET_MAX_CHAINS;
	vmsg_vq_notify(dev, NET_TX);
	if (vmsg_vq_ready(peer_dev, NET_RX))
		vmsg_vq_notify(peer_dev, NET_RX);
}

static void net_queue_notify(struct vmsg_dev *dev, unsigned int index)
{
	struct vmsg_net_port *p = vmsg_dev_priv(dev);

	if (index == NET_TX) {
		net_tx(p);
	} else if (index == NET_RX) {
		net_rx_flush(p);
		vmsg_vq_notify(dev, NET_RX);
	}
}

/*
 * A buffer with more segments than we take is returned empty: a dropped
 * frame on transmit, a receive buffer too short for any frame.
 */
static int net_oversized(struct vmsg_dev *dev, unsigned int index,
			 const struct vmsg_vq_elem *elem,
			 const struct vmsg_iov *last)
{
	(void)dev; (void)index; (void)elem; (void)last;
	return 0;
}

static void net_reset(struct vmsg_dev *dev)
{
	struct vmsg_net_port *p = vmsg_dev_priv(dev);

	vmsg_net_drop_held(p);
	p->tx_more = false;
}

static const struct vmsg_dev_model net_model = {
	.device_id = VIRTIO_ID_NET,
	.num_feature_blocks = 2,
	.features = net_features,
	.required_features = net_required,
	.config_size = VMSG_NET_CONFIG_SIZE,
	.num_queues = 2,
	.queue_notify = net_queue_notify,
	.reset = net_reset,
	.oversized_chain = net_oversized,
};

/* A unicast MAC address, xx:xx:xx:xx:xx:xx, not all zero. */
int vmsg_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	char end;
	int i;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
		   &b[4], &b[5], &end) != 6 || strlen(s) != 17)
		return -1;
	for (i = 0; i < 6; i++)
		mac[i] = b[i];
	if (mac[0] & 1)
		return -1;
	return (mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]) ? 0 : -1;
}

static void port_init(struct vmsg_net_port *p, char name,
		      struct vmsg_net_port *peer,
		      struct vmsg_serve_dev *served, unsigned int queue_size)
{
	p->name = name;
	p->queue_max[0] = queue_size;
	p->queue_max[1] = queue_size;
	p->peer = peer;
	p->held_tail = &p->held;
	memcpy(p->config, p->mac, 6);
	put_le16(p->config + 6, VIRTIO_NET_S_LINK_UP);
	put_le16(p->config + 8, 1);
	put_le16(p->config + 10, net_mtu);
	p->model = net_model;
	p->model.queue_max_size = p->queue_max;
	p->model.config_init = p->config;
	p->served = served;
	served->dev_num = p->dev_num;
	served->model = &p->model;
	served->priv = p;
}

/*
 * Between batches of messages, resume the transmit backlogs that kicks
 * left; true while there were some, so that serving goes on at once.
 */
bool vmsg_net_resume_tx(void *priv)
{
	struct vmsg_net *n = priv;
	struct vmsg_net_port *ports = n->ports;
	bool more = false;
	int i;

	for (i = 0; i < 2; i++) {
		if (ports[i].tx_more) {
			net_tx(&ports[i]);
			more = true;
		}
	}
	return more;
}

int vmsg_net_init(struct vmsg_net *n, unsigned int mtu)
{
	struct vmsg_net_port *a = &n->ports[0], *b = &n->ports[1];
	unsigned int qsize;

	if (a->dev_num == b->dev_num) {
		fprintf(stderr, "A and B need different device numbers\n");
		return -1;
	}
	if (!memcmp(a->mac, b->mac, 6)) {
		fprintf(stderr, "A and B need different MAC addresses\n");
		return -1;
	}
	if (n->queue_size > NET_QUEUE_SIZE) {
		fprintf(stderr, "queue size above %u\n", NET_QUEUE_SIZE);
		return -1;
	}
	qsize = n->queue_size ? n->queue_size : NET_QUEUE_SIZE;
	net_mtu = mtu;
	port_init(a, 'A', b, &n->served[0], qsize);
	port_init(b, 'B', a, &n->served[1], qsize);
	return 0;
}

void vmsg_net_fini(struct vmsg_net *n, FILE *report)
{
	struct vmsg_net_port *p;
	int i;

	for (i = 0; i < 2; i++) {
		p = &n->ports[i];
		vmsg_net_drop_held(p);
		if (report)
			fprintf(report,
				"%c: sent %llu frames (%llu bad), received %llu frames %llu bytes, dropped %llu\n",
				p->name, p->tx_frames, p->tx_errors,
				p->rx_frames, p->rx_bytes, p->rx_dropped);
	}
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * The virtio console device model. One port, no multiport: the driver
 * side makes it an hvc console (/dev/hvcN). Whatever the driver writes
 * comes back to it (echo), or, with relay, goes to our stdout while our
 * stdin goes to the driver.
 *
 * Bytes for the driver wait in a buffer of VMSG_CON_BUF_SIZE bytes until
 * it has receive buffers; past that they are dropped and counted.
 * Transmitted buffers are always returned at once: the driver's console
 * path waits for them with interrupts off.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/virtio_config.h>

#include <virtio-msg/virtqueue.h>

#include "models.h"

#define VIRTIO_ID_CONSOLE	3
#define CON_RX			0	/* receiveq, port 0 */
#define CON_TX			1	/* transmitq, port 0 */
#define CON_QUEUE_SIZE		128
#define CON_MAX_CHAINS		(4 * CON_QUEUE_SIZE)
#define CON_MAX_SEGS		16
/* Config space: cols, rows (le16), max_nr_ports, emerg_wr (le32). */
#define CON_CONFIG_SIZE		12

#define FEAT(b)			(1U << ((b) % 32))

static const uint32_t con_features[2] = {
	0,
	FEAT(VIRTIO_F_VERSION_1) | FEAT(VIRTIO_F_ACCESS_PLATFORM),
};

static const uint16_t con_queue_max[2] = { CON_QUEUE_SIZE, CON_QUEUE_SIZE };

static const uint8_t con_config[CON_CONFIG_SIZE] = {
	[4] = 1,		/* max_nr_ports */
};

/* Queue @len bytes for the driver; what does not fit is dropped. */
static void con_queue_bytes(struct vmsg_con *c, const uint8_t *p, size_t len)
{
	size_t tail, n;

	if (len > VMSG_CON_BUF_SIZE - c->len) {
		c->dropped += len - (VMSG_CON_BUF_SIZE - c->len);
		len = VMSG_CON_BUF_SIZE - c->len;
	}
	while (len) {
		tail = (c->head + c->len) % VMSG_CON_BUF_SIZE;
		n = VMSG_CON_BUF_SIZE - tail;
		if (n > len)
			n = len;
		memcpy(c->buf + tail, p, n);
		c->len += n;
		p += n;
		len -= n;
	}
}

/* Move queued bytes into the driver's receive buffers while it has some. */
static void con_rx_flush(struct vmsg_dev *dev, struct vmsg_con *c)
{
	struct vmsg_iov iov[CON_MAX_SEGS];
	struct vmsg_vq_elem elem;
	size_t done, n;
	ssize_t w;
	int i, r;

	for (i = 0; i < CON_MAX_CHAINS && c->len; i++) {
		r = vmsg_vq_pop(dev, CON_RX, &elem, iov, CON_MAX_SEGS);
		if (r == -ENOBUFS)
			continue;
		if (r <= 0)
			break;
		done = 0;
		while (done < elem.in_len && c->len) {
			n = VMSG_CON_BUF_SIZE - c->head;
			if (n > c->len)
				n = c->len;
			if (n > elem.in_len - done)
				n = elem.in_len - done;
			w = vmsg_iov_write(dev, iov + elem.out_num, elem.in_num,
					   done, c->buf + c->head, n);
			if (w <= 0)
				break;
			done += w;
			c->head = (c->head + w) % VMSG_CON_BUF_SIZE;
			c->len -= w;
		}
		vmsg_vq_push(dev, CON_RX, elem.head, done);
		c->to_driver += done;
	}
	vmsg_vq_notify(dev, CON_RX);
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

/*
 * Take what the driver wrote: echo it, or copy it to stdout. Each buffer
 * is copied and returned before the bytes go anywhere, so that a slow
 * stdout never holds one.
 */
static void con_tx(struct vmsg_dev *dev, struct vmsg_con *c)
{
	struct vmsg_iov iov[CON_MAX_SEGS];
	struct vmsg_vq_elem elem;
	size_t len;
	ssize_t n;
	int i, r;

	for (i = 0; i < CON_MAX_CHAINS; i++) {
		r = vmsg_vq_pop(dev, CON_TX, &elem, iov, CON_MAX_SEGS);
		if (r == -ENOBUFS)
			continue;
		if (r <= 0)
			break;
		len = elem.out_len < VMSG_CON_CHUNK ? elem.out_len : VMSG_CON_CHUNK;
		n = vmsg_iov_read(dev, iov, elem.out_num, 0, c->chunk, len);
		vmsg_vq_push(dev, CON_TX, elem.head, 0);
		if (n < 0)
			n = 0;
		c->dropped += elem.out_len - n;
		c->from_driver += n;
		if (!c->relay)
			con_queue_bytes(c, c->chunk, n);
		else if (write_all(STDOUT_FILENO, c->chunk, n))
			c->dropped += n;
	}
	vmsg_vq_notify(dev, CON_TX);
	if (c->len)
		con_rx_flush(dev, c);
}

static void con_queue_notify(struct vmsg_dev *dev, unsigned int index)
{
	struct vmsg_con *c = vmsg_dev_priv(dev);

	if (index == CON_TX)
		con_tx(dev, c);
	else if (index == CON_RX)
		con_rx_flush(dev, c);
}

static void con_reset(struct vmsg_dev *dev)
{
	struct vmsg_con *c = vmsg_dev_priv(dev);

	/* An echo is for the session that wrote it; keyboard input stays. */
	if (!c->relay) {
		c->dropped += c->len;
		c->head = 0;
		c->len = 0;
	}
}

/* A buffer with more segments than we take is returned empty. */
static int con_oversized(struct vmsg_dev *dev, unsigned int index,
			 const struct vmsg_vq_elem *elem,
			 const struct vmsg_iov *last)
{
	struct vmsg_con *c = vmsg_dev_priv(dev);

	(void)last;
	if (index == CON_TX)
		c->dropped += elem->out_len;
	return 0;
}

const struct vmsg_dev_model vmsg_con_model = {
	.device_id = VIRTIO_ID_CONSOLE,
	.num_feature_blocks = 2,
	.features = con_features,
	.required_features = con_features,
	.config_size = CON_CONFIG_SIZE,
	.config_init = con_config,
	.num_queues = 2,
	.queue_max_size = con_queue_max,
	.queue_notify = con_queue_notify,
	.reset = con_reset,
	.oversized_chain = con_oversized,
};

/* Take what stdin has, as much as the buffer holds. */
static void con_read_stdin(struct vmsg_con *c)
{
	size_t tail, room;
	ssize_t n;

	tail = (c->head + c->len) % VMSG_CON_BUF_SIZE;
	room = VMSG_CON_BUF_SIZE - c->len;
	if (room > VMSG_CON_BUF_SIZE - tail)
		room = VMSG_CON_BUF_SIZE - tail;
	n = read(STDIN_FILENO, c->buf + tail, room);
	if (n > 0)
		c->len += n;
	else if (!n || (errno != EINTR && errno != EAGAIN))
		c->in_eof = true;
}

/* With --stdio, wait for stdin as well while its bytes have room. */
int vmsg_con_stdin_fd(void *priv)
{
	struct vmsg_con *c = priv;

	if (!c->relay || c->in_eof || c->len >= VMSG_CON_BUF_SIZE)
		return -1;
	return STDIN_FILENO;
}

void vmsg_con_stdin_ready(void *priv)
{
	struct vmsg_con *c = priv;

	con_read_stdin(c);
	if (c->served.dev)
		con_rx_flush(c->served.dev, c);
}

int vmsg_con_init(struct vmsg_con *c, uint16_t dev_num, bool relay)
{
	memset(c, 0, sizeof(*c));
	c->relay = relay;
	c->buf = malloc(VMSG_CON_BUF_SIZE);
	if (!c->buf) {
		fprintf(stderr, "%s\n", strerror(errno));
		return -1;
	}
	c->served.dev_num = dev_num;
	c->served.model = &vmsg_con_model;
	c->served.priv = c;
	return 0;
}

void vmsg_con_fini(struct vmsg_con *c, FILE *report)
{
	if (report)
		fprintf(report, "%llu bytes from the driver, %llu to it, %llu dropped\n",
			c->from_driver, c->to_driver, c->dropped + c->len);
	free(c->buf);
	c->buf = NULL;
}

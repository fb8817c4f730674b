// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-msg device side: the devices of one bus instance, dispatch of
 * received messages, and the bus messages every bus answers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <virtio-msg/transport.h>

#include "internal.h"

/* GET_DEVICES: offset, count, next_offset, then the bitmap. */
#define GET_DEVICES_RESP_FIXED	6
#define DEV_NUM_SPACE		65536U

struct tdev {
	struct vmsg_transport *t;
	uint16_t dev_num;
	struct vmsg_dev *dev;
	bool unplugging;	/* EVENT_DEVICE(REMOVED) sent */
	bool unplug_reset;	/* ...and the driver reset it since */
};

/* A message the bus refused with -EAGAIN, waiting for its turn. */
struct tmsg {
	struct tmsg *next;
	size_t len;
	uint8_t data[];
};

/*
 * Messages owed to the driver side at most: a driver side that takes
 * none for that long has stopped, and one on AMP may be hostile.
 */
#define BACKLOG_MAX		1024

struct vmsg_transport {
	const struct vmsg_transport_ops *ops;
	void *ctx;
	size_t max_msg_size;
	unsigned int wire;
	uint32_t features;
	struct tdev **devs;
	size_t nr_devs;
	uint8_t *wbuf;		/* responses, max_msg_size bytes */
	/*
	 * What the bus could not take yet, oldest first. Everything newer
	 * waits behind it, so that no message is lost (a lost EVENT_USED
	 * leaves the driver waiting for buffers it was given) or overtaken.
	 */
	struct tmsg *backlog, **backlog_tail;
	size_t backlog_len;
};

static void backlog_pop(struct vmsg_transport *t)
{
	struct tmsg *m = t->backlog;

	t->backlog = m->next;
	if (!t->backlog)
		t->backlog_tail = &t->backlog;
	t->backlog_len--;
	free(m);
}

/* An event already owed needs no twin: it says the same again. */
static bool backlog_has_event(const struct vmsg_transport *t,
			      const void *msg, size_t len)
{
	const uint8_t type = *(const uint8_t *)msg;
	const struct tmsg *m;

	if (type & VIRTIO_MSG_TYPE_RESPONSE)
		return false;
	for (m = t->backlog; m; m = m->next)
		if (m->len == len && !memcmp(m->data, msg, len))
			return true;
	return false;
}

static int backlog_add(struct vmsg_transport *t, const void *msg, size_t len)
{
	struct tmsg *m;

	if (backlog_has_event(t, msg, len))
		return 0;
	if (t->backlog_len >= BACKLOG_MAX)
		return -ENOBUFS;
	m = malloc(sizeof(*m) + len);
	if (!m)
		return -ENOMEM;
	m->next = NULL;
	m->len = len;
	memcpy(m->data, msg, len);
	*t->backlog_tail = m;
	t->backlog_tail = &m->next;
	t->backlog_len++;
	return 0;
}

int vmsg_transport_flush(struct vmsg_transport *t)
{
	int ret;

	while (t->backlog) {
		ret = t->ops->send(t->ctx, t->backlog->data, t->backlog->len);
		if (ret == -EAGAIN)
			return -EAGAIN;
		/* Sent, or refused for good: either way it is done. */
		backlog_pop(t);
		if (ret)
			return ret;
	}
	return 0;
}

bool vmsg_transport_backlogged(const struct vmsg_transport *t)
{
	return t->backlog;
}

static void backlog_drop(struct vmsg_transport *t)
{
	while (t->backlog)
		backlog_pop(t);
}

/* Every message to the driver side goes out here, in order. */
static int t_send(struct vmsg_transport *t, const void *msg, size_t len)
{
	int ret = 0;

	if (t->backlog)
		ret = vmsg_transport_flush(t);
	if (ret != -EAGAIN)
		ret = t->ops->send(t->ctx, msg, len);
	if (ret == -EAGAIN)
		return backlog_add(t, msg, len);
	return ret;
}

/* struct vmsg_bus_ops for each device; bus_ctx is its struct tdev. */
static int tdev_mem_read(void *ctx, uint64_t addr, void *dst, size_t len)
{
	struct tdev *d = ctx;

	return d->t->ops->mem_read(d->t->ctx, d->dev_num, addr, dst, len);
}

static int tdev_mem_write(void *ctx, uint64_t addr, const void *src,
			  size_t len)
{
	struct tdev *d = ctx;

	return d->t->ops->mem_write(d->t->ctx, d->dev_num, addr, src, len);
}

static int tdev_send_event(void *ctx, const void *msg, size_t len)
{
	struct tdev *d = ctx;

	return t_send(d->t, msg, len);
}

static const struct vmsg_bus_ops tdev_bus_ops = {
	.mem_read = tdev_mem_read,
	.mem_write = tdev_mem_write,
	.send_event = tdev_send_event,
};

struct vmsg_transport *vmsg_transport_create(const struct vmsg_transport_ops *ops,
					     void *ctx, size_t max_msg_size)
{
	struct vmsg_transport *t;

	if (!ops || !ops->mem_read || !ops->mem_write || !ops->send ||
	    max_msg_size < VIRTIO_MSG_MAX_SIZE_MIN ||
	    max_msg_size > VIRTIO_MSG_MAX_SIZE_MAX) {
		errno = EINVAL;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->wbuf = malloc(max_msg_size);
	if (!t->wbuf) {
		free(t);
		errno = ENOMEM;
		return NULL;
	}
	t->ops = ops;
	t->ctx = ctx;
	t->max_msg_size = max_msg_size;
	t->wire = VIRTIO_MSG_WIRE_V1;
	t->backlog_tail = &t->backlog;
	return t;
}

void vmsg_transport_destroy(struct vmsg_transport *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->nr_devs; i++) {
		vmsg_dev_destroy(t->devs[i]->dev);
		free(t->devs[i]);
	}
	free(t->devs);
	free(t->wbuf);
	backlog_drop(t);
	free(t);
}

int vmsg_transport_set_wire(struct vmsg_transport *t, unsigned int wire,
			    uint32_t features)
{
	if (wire != VIRTIO_MSG_WIRE_V1 && wire != VIRTIO_MSG_WIRE_V2)
		return -EINVAL;
	if (wire == VIRTIO_MSG_WIRE_V1 && features)
		return -EINVAL;
	if (t->nr_devs)
		return -EBUSY;
	t->wire = wire;
	t->features = features;
	return 0;
}

unsigned int vmsg_transport_wire(const struct vmsg_transport *t)
{
	return t->wire;
}

size_t vmsg_transport_max_msg_size(const struct vmsg_transport *t)
{
	return t->max_msg_size;
}

static struct tdev *tdev_find(const struct vmsg_transport *t,
			      uint16_t dev_num, size_t *index)
{
	size_t i;

	for (i = 0; i < t->nr_devs; i++) {
		if (t->devs[i]->dev_num == dev_num) {
			if (index)
				*index = i;
			return t->devs[i];
		}
	}
	return NULL;
}

struct vmsg_dev *vmsg_transport_find(const struct vmsg_transport *t,
				     uint16_t dev_num)
{
	struct tdev *d = tdev_find(t, dev_num, NULL);

	return d ? d->dev : NULL;
}

struct vmsg_dev *vmsg_transport_add(struct vmsg_transport *t,
				    uint16_t dev_num,
				    const struct vmsg_dev_model *model,
				    void *priv)
{
	struct tdev *d, **devs;
	int err;

	if (tdev_find(t, dev_num, NULL)) {
		errno = EEXIST;
		return NULL;
	}
	devs = realloc(t->devs, (t->nr_devs + 1) * sizeof(*devs));
	if (!devs)
		return NULL;
	t->devs = devs;
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->t = t;
	d->dev_num = dev_num;
	d->dev = vmsg_dev_create(model, &tdev_bus_ops, d, dev_num,
				 t->max_msg_size, priv);
	if (!d->dev)
		goto err_free;
	err = vmsg_dev_set_wire(d->dev, t->wire, t->features);
	if (err) {
		vmsg_dev_destroy(d->dev);
		errno = -err;
		goto err_free;
	}
	t->devs[t->nr_devs++] = d;
	return d->dev;

err_free:
	err = errno;
	free(d);
	errno = err;
	return NULL;
}

int vmsg_transport_remove(struct vmsg_transport *t, uint16_t dev_num)
{
	struct tdev *d;
	size_t i;

	d = tdev_find(t, dev_num, &i);
	if (!d)
		return -ENOENT;
	vmsg_dev_destroy(d->dev);
	free(d);
	t->devs[i] = t->devs[--t->nr_devs];
	return 0;
}

void vmsg_transport_reset_devices(struct vmsg_transport *t)
{
	size_t i;

	/* What was owed belongs to the driver side that went away. */
	backlog_drop(t);
	for (i = 0; i < t->nr_devs; i++)
		vmsg_dev_reset(t->devs[i]->dev);
}

/* The PING response echoes the request's data. */
static size_t bus_ping(struct vmsg_transport *t, const struct vmsg_msg *msg)
{
	if (msg->payload_len != sizeof(struct virtio_msg_bus_ping))
		return 0;
	memcpy(t->wbuf + VIRTIO_MSG_HDR_SIZE, msg->payload,
	       sizeof(struct virtio_msg_bus_ping));
	return VIRTIO_MSG_HDR_SIZE + sizeof(struct virtio_msg_bus_ping);
}

/*
 * GET_DEVICES: the window asked for, cut down to what one message holds;
 * next_offset is where the rest starts while a device lies beyond it.
 */
static size_t bus_get_devices(struct vmsg_transport *t,
			      const struct vmsg_msg *msg)
{
	uint8_t *out = t->wbuf + VIRTIO_MSG_HDR_SIZE;
	uint32_t offset, count, fit, end, next = 0;
	size_t i;

	if (msg->payload_len != sizeof(struct virtio_msg_bus_get_devices_req))
		return 0;
	offset = vmsg_get_le16(msg->payload);
	count = vmsg_get_le16(msg->payload + 2);
	if (offset % 8 || count % 8 || !count)
		return 0;
	fit = (t->max_msg_size - VIRTIO_MSG_HDR_SIZE -
	       GET_DEVICES_RESP_FIXED) * 8;
	if (count > fit)
		count = fit / 8 * 8;
	if (count > DEV_NUM_SPACE - offset)
		count = DEV_NUM_SPACE - offset;
	end = offset + count;
	memset(out, 0, GET_DEVICES_RESP_FIXED + count / 8);
	for (i = 0; i < t->nr_devs; i++) {
		uint32_t n = t->devs[i]->dev_num;

		if (n >= offset && n < end)
			out[GET_DEVICES_RESP_FIXED + (n - offset) / 8] |=
				1U << ((n - offset) % 8);
		else if (n >= end)
			next = end;
	}
	if (next >= DEV_NUM_SPACE)
		next = 0;
	vmsg_put_le16(out, offset);
	if (t->wire == VIRTIO_MSG_WIRE_V2) {
		vmsg_put_le16(out + 2, next);
		vmsg_put_le16(out + 4, count);
	} else {
		vmsg_put_le16(out + 2, count);
		vmsg_put_le16(out + 4, next);
	}
	return VIRTIO_MSG_HDR_SIZE + GET_DEVICES_RESP_FIXED + count / 8;
}

static int bus_request(struct vmsg_transport *t, const struct vmsg_msg *msg)
{
	size_t size = 0;

	if (msg->type & VIRTIO_MSG_TYPE_RESPONSE)
		return -EBADMSG;
	if (msg->msg_id == VIRTIO_MSG_BUS_PING)
		size = bus_ping(t, msg);
	else if (msg->msg_id == VIRTIO_MSG_BUS_GET_DEVICES)
		size = bus_get_devices(t, msg);
	else
		return -EOPNOTSUPP;
	if (!size)
		return -EBADMSG;
	vmsg_hdr_build(t->wbuf, VIRTIO_MSG_TYPE_BUS | VIRTIO_MSG_TYPE_RESPONSE,
		       msg->msg_id, 0, msg->token, size);
	return t_send(t, t->wbuf, size);
}

int vmsg_transport_unplug(struct vmsg_transport *t, uint16_t dev_num)
{
	struct tdev *d = tdev_find(t, dev_num, NULL);
	size_t size = VIRTIO_MSG_HDR_SIZE +
		      sizeof(struct virtio_msg_bus_event_device);
	uint8_t *p = t->wbuf + VIRTIO_MSG_HDR_SIZE;

	if (!d)
		return -ENOENT;
	if (d->unplugging)
		return 0;
	vmsg_put_le16(p, dev_num);
	vmsg_put_le16(p + 2, VIRTIO_MSG_BUS_DEVICE_REMOVED);
	vmsg_hdr_build(t->wbuf, VIRTIO_MSG_TYPE_BUS, VIRTIO_MSG_BUS_EVENT_DEVICE,
		       0, 0, size);
	d->unplugging = true;
	d->unplug_reset = false;
	return t_send(t, t->wbuf, size);
}

int vmsg_transport_unplug_all(struct vmsg_transport *t)
{
	int ret = 0, err;
	size_t i;

	for (i = 0; i < t->nr_devs; i++) {
		err = vmsg_transport_unplug(t, t->devs[i]->dev_num);
		if (err && !ret)
			ret = err;
	}
	return ret;
}

bool vmsg_transport_unplug_done(const struct vmsg_transport *t)
{
	size_t i;

	for (i = 0; i < t->nr_devs; i++)
		if (t->devs[i]->unplugging && !t->devs[i]->unplug_reset)
			return false;
	return true;
}

int vmsg_transport_dispatch(struct vmsg_transport *t, const void *buf,
			    size_t len)
{
	struct vmsg_msg msg;
	struct tdev *d;
	ssize_t n;

	if (vmsg_msg_parse(buf, len, t->max_msg_size, &msg))
		return -EBADMSG;
	if (msg.type & VIRTIO_MSG_TYPE_BUS)
		return bus_request(t, &msg);
	d = tdev_find(t, msg.dev_num, NULL);
	if (!d)
		return -ENODEV;
	n = vmsg_dev_handle(d->dev, buf, len, t->wbuf, t->max_msg_size);
	/* A driver letting go of a removed device resets it. */
	if (d->unplugging && msg.msg_id == VIRTIO_MSG_SET_DEVICE_STATUS &&
	    !d->dev->status)
		d->unplug_reset = true;
	if (n < 0)
		return n;
	if (n > 0)
		return t_send(t, t->wbuf, n);
	return 0;
}

void vmsg_report_open_error(const char *path, int err, const char *module)
{
	switch (err) {
	case ENOENT:
	case ENODEV:
	case ENXIO:
		/* No node, or a node left behind with no driver under it. */
		fprintf(stderr, "%s: %s: is %s loaded? try: modprobe %s\n",
			path, strerror(err), module, module);
		break;
	case EACCES:
	case EPERM:
		fprintf(stderr,
			"%s: %s: serving devices needs root (CAP_SYS_ADMIN)\n",
			path, strerror(err));
		break;
	default:
		fprintf(stderr, "%s: %s\n", path, strerror(err));
	}
}

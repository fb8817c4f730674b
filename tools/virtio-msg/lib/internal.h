/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * virtio-msg device side: state shared by the library files.
 */
#ifndef _VIRTIO_MSG_INTERNAL_H
#define _VIRTIO_MSG_INTERNAL_H

#include <endian.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <linux/virtio_msg.h>

#include <virtio-msg/codec.h>
#include <virtio-msg/device.h>
#include <virtio-msg/virtqueue.h>

/* Per-virtqueue state (split layout only). */
struct vmsg_vq {
	uint32_t max_size;
	uint32_t size;
	uint64_t desc_addr;
	uint64_t avail_addr;
	uint64_t used_addr;
	bool live;
	bool broken;
	bool pending;		/* pushed since the last notify */
	bool signalled_valid;	/* signalled_used holds a value */
	/*
	 * Heads popped and not yet pushed, one bit per descriptor of the
	 * largest queue: a driver publishing one of these again breaks the
	 * ring rules, and the model can complete each chain only once.
	 */
	uint64_t *inflight;
	uint16_t last_avail;
	uint16_t used_idx;
	uint16_t signalled_used;
};

struct vmsg_dev {
	const struct vmsg_dev_model *model;
	const struct vmsg_bus_ops *bus;
	void *bus_ctx;
	void *priv;
	uint16_t dev_num;
	size_t max_msg_size;
	unsigned int wire;		/* VIRTIO_MSG_WIRE_* */
	uint32_t transport_features;	/* (1U << VIRTIO_MSG_F_*), v2 only */
	bool started;			/* handed a message already */

	uint32_t status;
	uint32_t generation;
	uint32_t *drv_features;		/* model->num_feature_blocks */
	bool drv_features_extra;	/* bits beyond the offered blocks */
	uint8_t *config;		/* model->config_size bytes */
	struct vmsg_vq *vqs;		/* model->num_queues */
	uint8_t *evbuf;			/* max_msg_size bytes, for events */
	uint8_t *reqbuf;		/* max_msg_size bytes, request copy */
	struct vmsg_dev_stats stats;
};

static inline uint16_t vmsg_get_le16(const void *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return le16toh(v);
}

static inline uint32_t vmsg_get_le32(const void *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return le32toh(v);
}

static inline uint64_t vmsg_get_le64(const void *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

static inline void vmsg_put_le16(void *p, uint16_t v)
{
	v = htole16(v);
	memcpy(p, &v, sizeof(v));
}

static inline void vmsg_put_le32(void *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, sizeof(v));
}

static inline void vmsg_put_le64(void *p, uint64_t v)
{
	v = htole64(v);
	memcpy(p, &v, sizeof(v));
}

/* Device status bits the library acts on (from the virtio spec). */
#define VMSG_S_ACKNOWLEDGE	0x01
#define VMSG_S_DRIVER		0x02
#define VMSG_S_DRIVER_OK	0x04
#define VMSG_S_FEATURES_OK	0x08
#define VMSG_S_NEEDS_RESET	0x40
#define VMSG_S_FAILED		0x80

/* Transport feature bits this library knows. */
#define VMSG_TRANSPORT_FEATURES \
	(1U << VIRTIO_MSG_F_STRICT_CONFIG_GENERATION)

/* The v2 limit on max_virtqueues in GET_DEVICE_INFO. */
#define VMSG_V2_MAX_QUEUES	65536

static inline bool vmsg_dev_v2(const struct vmsg_dev *dev)
{
	return dev->wire == VIRTIO_MSG_WIRE_V2;
}

/* Is the device running, i.e. may virtqueues be processed? */
static inline bool vmsg_dev_running(const struct vmsg_dev *dev)
{
	return (dev->status & VMSG_S_DRIVER_OK) &&
	       !(dev->status & (VMSG_S_NEEDS_RESET | VMSG_S_FAILED));
}

/* device.c */
uint8_t *vmsg_dev_event_payload(struct vmsg_dev *dev);
int vmsg_dev_send_event(struct vmsg_dev *dev, uint8_t msg_id, size_t len);

/* virtqueue.c: message handlers and state */
int vmsg_vq_init(struct vmsg_vq *vq, uint32_t max_size);
void vmsg_vq_clear(struct vmsg_vq *vq);
void vmsg_vq_free(struct vmsg_vq *vq);
size_t vmsg_vq_get_msg(struct vmsg_dev *dev, const uint8_t *req,
		       uint8_t *out);
void vmsg_vq_set_msg(struct vmsg_dev *dev, const uint8_t *req);
void vmsg_vq_reset_msg(struct vmsg_dev *dev, const uint8_t *req);
const char *vmsg_vq_check_layout(const struct vmsg_vq *vq, uint32_t size,
				 uint64_t desc, uint64_t avail, uint64_t used);
int vmsg_vq_resume_index(struct vmsg_dev *dev, uint32_t size, uint64_t avail,
			 uint64_t used, uint16_t *next, const char **why);
void vmsg_vq_resume_set(struct vmsg_vq *vq, uint32_t size, uint64_t desc,
			uint64_t avail, uint64_t used, uint16_t next);

#endif /* _VIRTIO_MSG_INTERNAL_H */

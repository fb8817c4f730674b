// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-msg device side: device state, status, features, configuration
 * space and message dispatch.
 */
#include <errno.h>
#include <stdlib.h>

#include <linux/virtio_config.h>

#include "internal.h"

#define FEAT_BIT(b)	(1U << ((b) % 32))
#define FEAT_BLOCK(b)	((b) / 32)

void *vmsg_dev_priv(const struct vmsg_dev *dev)
{
	return dev->priv;
}

uint32_t vmsg_dev_status(const struct vmsg_dev *dev)
{
	return dev->status;
}

uint32_t vmsg_dev_config_generation(const struct vmsg_dev *dev)
{
	return dev->generation;
}

void vmsg_dev_get_stats(const struct vmsg_dev *dev,
			struct vmsg_dev_stats *stats)
{
	*stats = dev->stats;
}

bool vmsg_dev_has_feature(const struct vmsg_dev *dev, unsigned int bit)
{
	const struct vmsg_dev_model *m = dev->model;

	if (FEAT_BLOCK(bit) >= m->num_feature_blocks)
		return false;
	return dev->drv_features[FEAT_BLOCK(bit)] &
	       m->features[FEAT_BLOCK(bit)] & FEAT_BIT(bit);
}

int vmsg_dev_mem_read(struct vmsg_dev *dev, uint64_t addr, void *dst,
		      size_t len)
{
	if (!len)
		return 0;
	if (addr + (len - 1) < addr)
		return -EFAULT;
	if (dev->bus->mem_read(dev->bus_ctx, addr, dst, len))
		return -EFAULT;
	return 0;
}

int vmsg_dev_mem_write(struct vmsg_dev *dev, uint64_t addr, const void *src,
		       size_t len)
{
	if (!len)
		return 0;
	if (addr + (len - 1) < addr)
		return -EFAULT;
	if (dev->bus->mem_write(dev->bus_ctx, addr, src, len))
		return -EFAULT;
	return 0;
}

uint8_t *vmsg_dev_event_payload(struct vmsg_dev *dev)
{
	return dev->evbuf + VIRTIO_MSG_HDR_SIZE;
}

/*
 * Add the header to the event whose payload was built in the scratch
 * buffer and hand it to the bus. Events are requests (response bit clear)
 * with token 0.
 */
int vmsg_dev_send_event(struct vmsg_dev *dev, uint8_t msg_id, size_t len)
{
	size_t size = VIRTIO_MSG_HDR_SIZE + len;
	int ret;

	if (size > dev->max_msg_size) {
		dev->stats.event_errors++;
		return -EMSGSIZE;
	}
	if (!dev->bus->send_event) {
		dev->stats.event_errors++;
		return -ENOTCONN;
	}
	vmsg_hdr_build(dev->evbuf, 0, msg_id, dev->dev_num, 0, size);
	ret = dev->bus->send_event(dev->bus_ctx, dev->evbuf, size);
	if (ret) {
		dev->stats.event_errors++;
		return ret < 0 ? ret : -EIO;
	}
	dev->stats.events_sent++;
	return 0;
}

/*
 * EVENT_CONFIG for a change of @len bytes at @offset (len 0: status only).
 * The data goes along when it fits in one message, otherwise length is 0
 * and the driver re-reads the configuration space.
 */
static int config_event(struct vmsg_dev *dev, uint32_t offset, uint32_t len)
{
	const size_t fixed = sizeof(struct virtio_msg_event_config);
	uint8_t *p = vmsg_dev_event_payload(dev);

	if (VIRTIO_MSG_HDR_SIZE + fixed + (uint64_t)len > dev->max_msg_size)
		len = 0;

	memset(p, 0, fixed);
	vmsg_put_le32(p + offsetof(struct virtio_msg_event_config,
				   device_status), dev->status);
	vmsg_put_le32(p + offsetof(struct virtio_msg_event_config,
				   generation), dev->generation);
	vmsg_put_le32(p + offsetof(struct virtio_msg_event_config, offset),
		      offset);
	vmsg_put_le32(p + offsetof(struct virtio_msg_event_config, length),
		      len);
	if (len)
		memcpy(p + fixed, dev->config + offset, len);

	return vmsg_dev_send_event(dev, VIRTIO_MSG_EVENT_CONFIG, fixed + len);
}

void vmsg_dev_set_needs_reset(struct vmsg_dev *dev)
{
	if (dev->status & VMSG_S_NEEDS_RESET)
		return;
	dev->status |= VMSG_S_NEEDS_RESET;
	config_event(dev, 0, 0);
}

int vmsg_dev_config_read(const struct vmsg_dev *dev, uint32_t offset,
			 void *buf, uint32_t len)
{
	if ((uint64_t)offset + len > dev->model->config_size)
		return -EINVAL;
	if (len)
		memcpy(buf, dev->config + offset, len);
	return 0;
}

int vmsg_dev_config_update(struct vmsg_dev *dev, uint32_t offset,
			   const void *data, uint32_t len)
{
	if ((uint64_t)offset + len > dev->model->config_size)
		return -EINVAL;
	/* The generation moves before the change becomes visible. */
	dev->generation++;
	if (len)
		memcpy(dev->config + offset, data, len);
	return config_event(dev, offset, len);
}

/* Device reset: everything but the configuration generation. */
static void dev_reset(struct vmsg_dev *dev)
{
	const struct vmsg_dev_model *m = dev->model;
	unsigned int i;

	dev->status = 0;
	memset(dev->drv_features, 0,
	       m->num_feature_blocks * sizeof(*dev->drv_features));
	dev->drv_features_extra = false;
	for (i = 0; i < m->num_queues; i++)
		vmsg_vq_clear(&dev->vqs[i]);

	if (m->config_size) {
		bool changed;

		if (m->config_init) {
			changed = memcmp(dev->config, m->config_init,
					 m->config_size);
			if (changed) {
				dev->generation++;
				memcpy(dev->config, m->config_init,
				       m->config_size);
			}
		} else {
			changed = false;
			for (i = 0; i < m->config_size; i++)
				changed |= dev->config[i] != 0;
			if (changed) {
				dev->generation++;
				memset(dev->config, 0, m->config_size);
			}
		}
		if (changed)
			config_event(dev, 0, m->config_size);
	}

	if (m->reset)
		m->reset(dev);
}

void vmsg_dev_reset(struct vmsg_dev *dev)
{
	dev_reset(dev);
}

static bool features_acceptable(struct vmsg_dev *dev)
{
	const struct vmsg_dev_model *m = dev->model;
	unsigned int i;

	if (dev->drv_features_extra)
		return false;
	if (!(dev->drv_features[FEAT_BLOCK(VIRTIO_F_VERSION_1)] &
	      FEAT_BIT(VIRTIO_F_VERSION_1)))
		return false;
	for (i = 0; i < m->num_feature_blocks; i++) {
		uint32_t drv = dev->drv_features[i];

		if (drv & ~m->features[i])
			return false;
		if (m->required_features &&
		    (m->required_features[i] & ~drv))
			return false;
	}
	if (m->validate_features &&
	    m->validate_features(dev, dev->drv_features,
				 m->num_feature_blocks))
		return false;
	return true;
}

/*
 * SET_DEVICE_STATUS. The driver cannot clear bits other than by writing 0
 * (reset) and cannot set NEEDS_RESET. FEATURES_OK needs ACKNOWLEDGE and
 * DRIVER and an acceptable feature set; DRIVER_OK needs FEATURES_OK.
 */
static uint32_t set_status(struct vmsg_dev *dev, uint32_t req)
{
	const struct vmsg_dev_model *m = dev->model;
	uint32_t old = dev->status, want, added, new;
	unsigned int i;

	if (!req) {
		dev_reset(dev);
		return dev->status;
	}

	want = req & 0xff & ~VMSG_S_NEEDS_RESET;
	new = old | want;
	added = new & ~old;

	if ((added & VMSG_S_FEATURES_OK) &&
	    ((new & (VMSG_S_ACKNOWLEDGE | VMSG_S_DRIVER)) !=
	     (VMSG_S_ACKNOWLEDGE | VMSG_S_DRIVER) ||
	     !features_acceptable(dev)))
		new &= ~VMSG_S_FEATURES_OK;
	if ((added & VMSG_S_DRIVER_OK) && !(new & VMSG_S_FEATURES_OK))
		new &= ~VMSG_S_DRIVER_OK;

	dev->status = new;

	/*
	 * The device starts processing once DRIVER_OK is set: look at every
	 * live queue in case buffers were made available before.
	 */
	if ((new & ~old & VMSG_S_DRIVER_OK) && m->queue_notify) {
		for (i = 0; i < m->num_queues; i++) {
			if (!vmsg_dev_running(dev))
				break;
			if (vmsg_vq_ready(dev, i))
				m->queue_notify(dev, i);
		}
	}
	return dev->status;
}

static void set_driver_features(struct vmsg_dev *dev, const uint8_t *req)
{
	const struct vmsg_dev_model *m = dev->model;
	uint32_t first, num, i;

	/* Features are fixed once FEATURES_OK was accepted. */
	if (dev->status & VMSG_S_FEATURES_OK)
		return;

	first = vmsg_get_le32(req + offsetof(struct virtio_msg_features,
					     block_index));
	num = vmsg_get_le32(req + offsetof(struct virtio_msg_features,
					   num_blocks));
	/* num was checked against the message size: at most ~16k blocks. */
	for (i = 0; i < num; i++) {
		uint64_t blk = (uint64_t)first + i;
		uint32_t v = vmsg_get_le32(req +
			offsetof(struct virtio_msg_features, features) + 4 * i);

		if (blk < m->num_feature_blocks)
			dev->drv_features[blk] = v;
		else if (v)
			dev->drv_features_extra = true;
	}
}

/* GET_DEVICE_FEATURES: returns the payload length or -EMSGSIZE. */
static ssize_t get_device_features(struct vmsg_dev *dev, const uint8_t *req,
				   uint8_t *out, size_t cap)
{
	const struct vmsg_dev_model *m = dev->model;
	const size_t fixed = sizeof(struct virtio_msg_features);
	uint32_t first, num, i;

	first = vmsg_get_le32(req + offsetof(struct virtio_msg_features,
					     block_index));
	num = vmsg_get_le32(req + offsetof(struct virtio_msg_features,
					   num_blocks));
	if (fixed + 4 * (uint64_t)num > cap)
		return -EMSGSIZE;

	vmsg_put_le32(out + offsetof(struct virtio_msg_features, block_index),
		      first);
	vmsg_put_le32(out + offsetof(struct virtio_msg_features, num_blocks),
		      num);
	for (i = 0; i < num; i++) {
		uint64_t blk = (uint64_t)first + i;

		vmsg_put_le32(out + fixed + 4 * i,
			      blk < m->num_feature_blocks ?
			      m->features[blk] : 0);
	}
	return fixed + 4 * num;
}

/* Configuration response header (GET_CONFIG and SET_CONFIG). */
static void put_config_hdr(struct vmsg_dev *dev, uint8_t *out,
			   uint32_t offset, uint32_t len)
{
	vmsg_put_le32(out + offsetof(struct virtio_msg_config, generation),
		      dev->generation);
	vmsg_put_le32(out + offsetof(struct virtio_msg_config, offset),
		      offset);
	vmsg_put_le32(out + offsetof(struct virtio_msg_config, length), len);
}

/*
 * GET_CONFIG. A range outside the configuration space, or one that does
 * not fit in a response, is answered with length 0 and the generation.
 */
static ssize_t get_config(struct vmsg_dev *dev, const uint8_t *req,
			  uint8_t *out, size_t cap)
{
	const size_t fixed = sizeof(struct virtio_msg_config);
	uint32_t offset, len;

	if (cap < fixed)
		return -EMSGSIZE;
	offset = vmsg_get_le32(req + offsetof(struct virtio_msg_get_config_req,
					      offset));
	len = vmsg_get_le32(req + offsetof(struct virtio_msg_get_config_req,
					   length));
	if ((uint64_t)offset + len > dev->model->config_size ||
	    fixed + (uint64_t)len > cap)
		len = 0;

	put_config_hdr(dev, out, offset, len);
	if (len)
		memcpy(out + fixed, dev->config + offset, len);
	return fixed + len;
}

/*
 * Is a SET_CONFIG with a stale generation rejected? On the v2 wire the
 * bus picks the profile with a transport feature bit; on the v1 wire the
 * model does.
 */
static bool stale_config_write_rejected(const struct vmsg_dev *dev)
{
	if (vmsg_dev_v2(dev))
		return dev->transport_features &
		       (1U << VIRTIO_MSG_F_STRICT_CONFIG_GENERATION);
	return !(dev->model->flags & VMSG_DEV_F_SET_CONFIG_COALESCE);
}

/*
 * SET_CONFIG. Applied in full when in bounds, the generation is accepted
 * and the model accepts the whole write; otherwise nothing is applied and
 * the response reports length 0. The response carries no data.
 */
static ssize_t set_config(struct vmsg_dev *dev, const uint8_t *req,
			  uint8_t *out, size_t cap)
{
	const struct vmsg_dev_model *m = dev->model;
	const size_t fixed = sizeof(struct virtio_msg_config);
	uint32_t gen, offset, len;
	const uint8_t *data = req + fixed;

	if (cap < fixed)
		return -EMSGSIZE;
	gen = vmsg_get_le32(req + offsetof(struct virtio_msg_config,
					   generation));
	offset = vmsg_get_le32(req + offsetof(struct virtio_msg_config,
					      offset));
	len = vmsg_get_le32(req + offsetof(struct virtio_msg_config, length));

	if ((uint64_t)offset + len > m->config_size || !len ||
	    !m->config_write)
		len = 0;
	else if (gen != dev->generation && stale_config_write_rejected(dev))
		len = 0;
	else if (m->config_write(dev, offset, data, len))
		len = 0;
	else
		memcpy(dev->config + offset, data, len);

	put_config_hdr(dev, out, offset, len);
	return fixed;
}

static void get_device_info(struct vmsg_dev *dev, uint8_t *out)
{
	const struct vmsg_dev_model *m = dev->model;

#define PUT(f, v) vmsg_put_le32(out + \
		offsetof(struct virtio_msg_get_device_info_resp, f), v)
	PUT(device_id, m->device_id);
	PUT(vendor_id, m->vendor_id);
	PUT(num_feature_bits, 32 * m->num_feature_blocks);
	PUT(config_size, m->config_size);
	PUT(max_virtqueues, m->num_queues);
#undef PUT
	/* admin_vq_start and admin_vq_count stay 0: no admin queues. */
}

static void get_device_info_v2(struct vmsg_dev *dev, uint8_t *out)
{
	const struct vmsg_dev_model *m = dev->model;

#define PUT(f, v) vmsg_put_le32(out + \
		offsetof(struct virtio_msg_get_device_info_resp_v2, f), v)
	PUT(device_id, m->device_id);
	PUT(vendor_id, m->vendor_id);
	PUT(num_feature_blocks, m->num_feature_blocks);
	PUT(config_size, m->config_size);
	PUT(max_virtqueues, m->num_queues);
#undef PUT
	if (m->device_uuid)
		memcpy(out + offsetof(struct virtio_msg_get_device_info_resp_v2,
				      device_uuid), m->device_uuid, 16);
	/* admin_vq_start and admin_vq_count stay 0: no admin queues. */
}

/*
 * The region GET_SHM reports for @idx, or NULL: absent, or on the v1
 * wire too large for its 32-bit fields (truncated values would point the
 * driver at the wrong memory).
 */
static const struct vmsg_shm_region *shm_region(const struct vmsg_dev *dev,
						uint32_t idx)
{
	const struct vmsg_dev_model *m = dev->model;
	const struct vmsg_shm_region *r;

	if (idx >= m->num_shm || !m->shm)
		return NULL;
	r = &m->shm[idx];
	if (!r->length)
		return NULL;
	if (!vmsg_dev_v2(dev) &&
	    (r->length > UINT32_MAX || r->address > UINT32_MAX))
		return NULL;
	return r;
}

static void get_shm(struct vmsg_dev *dev, const uint8_t *req, uint8_t *out)
{
	uint32_t idx = vmsg_get_le32(req);
	const struct vmsg_shm_region *r = shm_region(dev, idx);

	vmsg_put_le32(out + offsetof(struct virtio_msg_get_shm_resp, index),
		      idx);
	if (r) {
		vmsg_put_le32(out + offsetof(struct virtio_msg_get_shm_resp,
					     length), r->length);
		vmsg_put_le32(out + offsetof(struct virtio_msg_get_shm_resp,
					     address), r->address);
	}
}

static void get_shm_v2(struct vmsg_dev *dev, const uint8_t *req, uint8_t *out)
{
	uint32_t idx = vmsg_get_le32(req);
	const struct vmsg_shm_region *r = shm_region(dev, idx);

	vmsg_put_le32(out + offsetof(struct virtio_msg_get_shm_resp_v2, index),
		      idx);
	if (r) {
		vmsg_put_le64(out + offsetof(struct virtio_msg_get_shm_resp_v2,
					     length), r->length);
		vmsg_put_le64(out + offsetof(struct virtio_msg_get_shm_resp_v2,
					     address), r->address);
	}
}

static void event_avail(struct vmsg_dev *dev, const uint8_t *req)
{
	const struct vmsg_dev_model *m = dev->model;
	uint32_t idx = vmsg_get_le32(req + offsetof(struct virtio_msg_event_avail,
						    vq_index));

	/* next_offset (notification data) is not needed for split rings. */
	if (idx >= m->num_queues || !vmsg_vq_ready(dev, idx) ||
	    !vmsg_dev_running(dev) || !m->queue_notify) {
		dev->stats.kicks_ignored++;
		return;
	}
	dev->stats.kicks++;
	m->queue_notify(dev, idx);
}

/* Fixed response payload size per request; -1 for variable ones. */
static int resp_payload_size(const struct vmsg_dev *dev, uint8_t msg_id)
{
	bool v2 = vmsg_dev_v2(dev);

	switch (msg_id) {
	case VIRTIO_MSG_GET_DEVICE_INFO:
		return v2 ? sizeof(struct virtio_msg_get_device_info_resp_v2) :
			    sizeof(struct virtio_msg_get_device_info_resp);
	case VIRTIO_MSG_GET_DEVICE_STATUS:
	case VIRTIO_MSG_SET_DEVICE_STATUS:
		return sizeof(struct virtio_msg_status);
	case VIRTIO_MSG_GET_VQUEUE:
		return v2 ? sizeof(struct virtio_msg_get_vqueue_resp_v2) :
			    sizeof(struct virtio_msg_vqueue);
	case VIRTIO_MSG_GET_SHM:
		return v2 ? sizeof(struct virtio_msg_get_shm_resp_v2) :
			    sizeof(struct virtio_msg_get_shm_resp);
	case VIRTIO_MSG_SET_DRIVER_FEATURES:
	case VIRTIO_MSG_SET_VQUEUE:
	case VIRTIO_MSG_RESET_VQUEUE:
		return 0;
	default:
		return -1;
	}
}

ssize_t vmsg_dev_handle(struct vmsg_dev *dev, const void *buf, size_t len,
			void *resp, size_t resp_size)
{
	struct vmsg_msg msg;
	uint8_t *out;
	size_t cap;
	ssize_t plen;
	int ret;

	dev->started = true;
	ret = vmsg_msg_parse(buf, len, dev->max_msg_size, &msg);
	if (!ret)
		ret = vmsg_msg_check_request(&msg);
	if (!ret && msg.dev_num != dev->dev_num)
		ret = -ENODEV;
	if (ret)
		goto drop;
	/*
	 * Work on a private copy: the buffer may be shared with the peer,
	 * which could change it between validation and use, and the
	 * response may be built in the same buffer.
	 */
	memcpy(dev->reqbuf, buf, msg.size);
	msg.payload = dev->reqbuf + VIRTIO_MSG_HDR_SIZE;
	/* Variable lengths are checked again on the copy that is used. */
	ret = vmsg_msg_check_request(&msg);
	if (ret)
		goto drop;

	if (msg.msg_id == VIRTIO_MSG_EVENT_AVAIL) {
		dev->stats.handled++;
		event_avail(dev, msg.payload);
		return 0;
	}

	cap = resp_size < dev->max_msg_size ? resp_size : dev->max_msg_size;
	if (!resp || cap < VIRTIO_MSG_HDR_SIZE) {
		ret = -ENOSPC;
		goto drop;
	}
	cap -= VIRTIO_MSG_HDR_SIZE;
	out = (uint8_t *)resp + VIRTIO_MSG_HDR_SIZE;

	plen = resp_payload_size(dev, msg.msg_id);
	if (plen > (ssize_t)cap) {
		ret = -EMSGSIZE;
		goto drop;
	}
	/*
	 * Fixed-size responses: whatever is not filled in below is reserved
	 * or padding and must be zero. Variable ones write every byte.
	 */
	if (plen > 0)
		memset(out, 0, plen);

	switch (msg.msg_id) {
	case VIRTIO_MSG_GET_DEVICE_INFO:
		if (vmsg_dev_v2(dev))
			get_device_info_v2(dev, out);
		else
			get_device_info(dev, out);
		break;
	case VIRTIO_MSG_GET_DEVICE_FEATURES:
		plen = get_device_features(dev, msg.payload, out, cap);
		break;
	case VIRTIO_MSG_SET_DRIVER_FEATURES:
		set_driver_features(dev, msg.payload);
		break;
	case VIRTIO_MSG_GET_CONFIG:
		plen = get_config(dev, msg.payload, out, cap);
		break;
	case VIRTIO_MSG_SET_CONFIG:
		plen = set_config(dev, msg.payload, out, cap);
		break;
	case VIRTIO_MSG_GET_DEVICE_STATUS:
		vmsg_put_le32(out, dev->status);
		break;
	case VIRTIO_MSG_SET_DEVICE_STATUS:
		vmsg_put_le32(out, set_status(dev, vmsg_get_le32(msg.payload)));
		break;
	case VIRTIO_MSG_GET_VQUEUE:
		vmsg_vq_get_msg(dev, msg.payload, out);
		break;
	case VIRTIO_MSG_SET_VQUEUE:
		vmsg_vq_set_msg(dev, msg.payload);
		break;
	case VIRTIO_MSG_RESET_VQUEUE:
		vmsg_vq_reset_msg(dev, msg.payload);
		break;
	case VIRTIO_MSG_GET_SHM:
		if (vmsg_dev_v2(dev))
			get_shm_v2(dev, msg.payload, out);
		else
			get_shm(dev, msg.payload, out);
		break;
	default:
		ret = -EOPNOTSUPP;
		goto drop;
	}
	if (plen < 0) {
		ret = plen;
		goto drop;
	}

	vmsg_hdr_build(resp, VIRTIO_MSG_TYPE_RESPONSE, msg.msg_id,
		       dev->dev_num, msg.token, VIRTIO_MSG_HDR_SIZE + plen);
	dev->stats.handled++;
	return VIRTIO_MSG_HDR_SIZE + plen;

drop:
	dev->stats.dropped++;
	return ret;
}

static int check_model(const struct vmsg_dev_model *m)
{
	unsigned int i;

	if (!m->device_id || m->num_feature_blocks < 2 || !m->features)
		return -EINVAL;
	if (m->num_feature_blocks > 0xffffffffU / 32)
		return -EINVAL;
	if (!(m->features[FEAT_BLOCK(VIRTIO_F_VERSION_1)] &
	      FEAT_BIT(VIRTIO_F_VERSION_1)))
		return -EINVAL;
	if (m->features[FEAT_BLOCK(VIRTIO_F_RING_PACKED)] &
	    FEAT_BIT(VIRTIO_F_RING_PACKED))
		return -EINVAL;
	if (m->num_queues && !m->queue_max_size)
		return -EINVAL;
	for (i = 0; i < m->num_queues; i++) {
		uint32_t s = m->queue_max_size[i];

		if (s > VMSG_VQ_MAX_SIZE || (s & (s - 1)))
			return -EINVAL;
	}
	if (m->num_shm && !m->shm)
		return -EINVAL;
	for (i = 0; i < m->num_shm; i++) {
		const struct vmsg_shm_region *r = &m->shm[i];

		if (r->length && r->address + (r->length - 1) < r->address)
			return -EINVAL;
	}
	return 0;
}

struct vmsg_dev *vmsg_dev_create(const struct vmsg_dev_model *model,
				 const struct vmsg_bus_ops *bus, void *bus_ctx,
				 uint16_t dev_num, size_t max_msg_size,
				 void *priv)
{
	struct vmsg_dev *dev;
	unsigned int i;

	if (!model || !bus || !bus->mem_read || !bus->mem_write ||
	    max_msg_size < VIRTIO_MSG_MAX_SIZE_MIN ||
	    max_msg_size > VIRTIO_MSG_MAX_SIZE_MAX || check_model(model)) {
		errno = EINVAL;
		return NULL;
	}

	dev = calloc(1, sizeof(*dev));
	if (!dev)
		goto nomem;
	dev->model = model;
	dev->bus = bus;
	dev->bus_ctx = bus_ctx;
	dev->priv = priv;
	dev->dev_num = dev_num;
	dev->max_msg_size = max_msg_size;
	dev->wire = VIRTIO_MSG_WIRE_V1;

	dev->drv_features = calloc(model->num_feature_blocks,
				   sizeof(*dev->drv_features));
	dev->config = calloc(1, model->config_size ? model->config_size : 1);
	dev->vqs = calloc(model->num_queues ? model->num_queues : 1,
			  sizeof(*dev->vqs));
	dev->evbuf = calloc(1, max_msg_size);
	dev->reqbuf = calloc(1, max_msg_size);
	if (!dev->drv_features || !dev->config || !dev->vqs || !dev->evbuf ||
	    !dev->reqbuf)
		goto nomem;

	if (model->config_init && model->config_size)
		memcpy(dev->config, model->config_init, model->config_size);
	for (i = 0; i < model->num_queues; i++)
		if (vmsg_vq_init(&dev->vqs[i], model->queue_max_size[i]))
			goto nomem;
	return dev;

nomem:
	vmsg_dev_destroy(dev);
	errno = ENOMEM;
	return NULL;
}

/* Status bits a device can be left with, and their order. */
static const char *resume_status_check(uint32_t status)
{
	const uint32_t known = VMSG_S_ACKNOWLEDGE | VMSG_S_DRIVER |
			       VMSG_S_FEATURES_OK | VMSG_S_DRIVER_OK |
			       VMSG_S_NEEDS_RESET | VMSG_S_FAILED;

	if (status & ~known)
		return "the status has unknown bits";
	if ((status & VMSG_S_DRIVER) && !(status & VMSG_S_ACKNOWLEDGE))
		return "the status has DRIVER without ACKNOWLEDGE";
	if ((status & VMSG_S_FEATURES_OK) && !(status & VMSG_S_DRIVER))
		return "the status has FEATURES_OK without DRIVER";
	if ((status & VMSG_S_DRIVER_OK) && !(status & VMSG_S_FEATURES_OK))
		return "the status has DRIVER_OK without FEATURES_OK";
	return NULL;
}

int vmsg_dev_resume(struct vmsg_dev *dev, const struct vmsg_dev_state *st,
		    const char **why)
{
	const struct vmsg_dev_model *m = dev->model;
	uint32_t *saved = NULL, blocks = m->num_feature_blocks;
	const struct vmsg_dev_queue_state *q;
	const char *dummy, *bad = NULL;
	uint16_t *next = NULL;
	unsigned int i;
	int ret = -EINVAL;

	if (!why)
		why = &dummy;
	*why = NULL;
	if (dev->started)
		return -EBUSY;
	bad = resume_status_check(st->status);
	if (!bad && st->num_queues > m->num_queues)
		bad = "the driver has more queues than the device";
	if (!bad && st->num_queues && !st->queues)
		bad = "queues are missing";
	if (!bad && !(st->status & VMSG_S_FEATURES_OK) &&
	    (st->features[0] || st->features[1]))
		bad = "features are set before FEATURES_OK";
	for (i = 0; !bad && i < 128; i++) {
		bool set = st->features[i / 64] & (1ULL << (i % 64));

		if (set && (i / 32 >= blocks ||
			    !(m->features[i / 32] & (1U << (i % 32)))))
			bad = "a negotiated feature is one the device does not offer";
	}
	for (i = 0; !bad && i < st->num_queues; i++) {
		q = &st->queues[i];
		if (!q->enabled)
			continue;
		if (!(st->status & VMSG_S_FEATURES_OK))
			bad = "a queue is live before FEATURES_OK";
		else
			bad = vmsg_vq_check_layout(&dev->vqs[i], q->size,
						   q->desc_addr, q->avail_addr,
						   q->used_addr);
	}
	if (bad)
		goto out;

	/* The features first: the acceptance check reads them. */
	saved = malloc(blocks * sizeof(*saved));
	next = calloc(st->num_queues ? st->num_queues : 1, sizeof(*next));
	if (!saved || !next) {
		ret = -ENOMEM;
		goto out;
	}
	memcpy(saved, dev->drv_features, blocks * sizeof(*saved));
	for (i = 0; i < blocks; i++)
		dev->drv_features[i] = i / 2 < 2 ?
			(uint32_t)(st->features[i / 2] >> (32 * (i % 2))) : 0;
	if ((st->status & VMSG_S_FEATURES_OK) && !features_acceptable(dev)) {
		bad = "the negotiated features are not acceptable";
		goto out_restore;
	}
	for (i = 0; i < st->num_queues; i++) {
		q = &st->queues[i];
		if (!q->enabled)
			continue;
		ret = vmsg_vq_resume_index(dev, q->size, q->avail_addr,
					   q->used_addr, &next[i], &bad);
		if (ret)
			goto out_restore;
	}

	for (i = 0; i < st->num_queues; i++) {
		q = &st->queues[i];
		if (q->enabled)
			vmsg_vq_resume_set(&dev->vqs[i], q->size, q->desc_addr,
					   q->avail_addr, q->used_addr,
					   next[i]);
	}
	dev->status = st->status;
	dev->generation = st->config_generation;
	/* The driver side knows the wire generation already. */
	dev->started = true;
	ret = 0;
	goto out;

out_restore:
	memcpy(dev->drv_features, saved, blocks * sizeof(*saved));
	if (!ret)
		ret = -EINVAL;
out:
	if (bad && ret != -ENOMEM)
		*why = bad;
	if (ret == -EINVAL && !*why)
		*why = "bad state";
	free(saved);
	free(next);
	return ret;
}

int vmsg_dev_set_wire(struct vmsg_dev *dev, unsigned int wire,
		      uint32_t features)
{
	if (wire != VIRTIO_MSG_WIRE_V1 && wire != VIRTIO_MSG_WIRE_V2)
		return -EINVAL;
	if (features & ~VMSG_TRANSPORT_FEATURES)
		return -EINVAL;
	/* v1 has no transport feature bits. */
	if (wire == VIRTIO_MSG_WIRE_V1 && features)
		return -EINVAL;
	if (wire == VIRTIO_MSG_WIRE_V2 &&
	    dev->model->num_queues > VMSG_V2_MAX_QUEUES)
		return -EINVAL;
	/* The driver side may have seen the other layouts already. */
	if (dev->started)
		return -EBUSY;
	dev->wire = wire;
	dev->transport_features = features;
	return 0;
}

unsigned int vmsg_dev_wire(const struct vmsg_dev *dev)
{
	return dev->wire;
}

void vmsg_dev_destroy(struct vmsg_dev *dev)
{
	unsigned int i;

	if (!dev)
		return;
	for (i = 0; dev->vqs && i < dev->model->num_queues; i++)
		vmsg_vq_free(&dev->vqs[i]);
	free(dev->reqbuf);
	free(dev->evbuf);
	free(dev->vqs);
	free(dev->config);
	free(dev->drv_features);
	free(dev);
}

// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-msg device side: message codec.
 */
#include <errno.h>

#include "internal.h"

int vmsg_msg_payload_size(uint8_t msg_id)
{
	switch (msg_id) {
	case VIRTIO_MSG_GET_DEVICE_INFO:
	case VIRTIO_MSG_GET_DEVICE_STATUS:
		return 0;
	case VIRTIO_MSG_GET_DEVICE_FEATURES:
		return 8;
	case VIRTIO_MSG_SET_DRIVER_FEATURES:
		return sizeof(struct virtio_msg_features);
	case VIRTIO_MSG_GET_CONFIG:
		return sizeof(struct virtio_msg_get_config_req);
	case VIRTIO_MSG_SET_CONFIG:
		return sizeof(struct virtio_msg_config);
	case VIRTIO_MSG_SET_DEVICE_STATUS:
		return sizeof(struct virtio_msg_status);
	case VIRTIO_MSG_GET_VQUEUE:
	case VIRTIO_MSG_RESET_VQUEUE:
	case VIRTIO_MSG_GET_SHM:
		return sizeof(struct virtio_msg_vqueue_index);
	case VIRTIO_MSG_SET_VQUEUE:
		return sizeof(struct virtio_msg_vqueue);
	case VIRTIO_MSG_EVENT_AVAIL:
		return sizeof(struct virtio_msg_event_avail);
	default:
		return -1;
	}
}

int vmsg_msg_parse(const void *buf, size_t len, size_t max_size,
		   struct vmsg_msg *msg)
{
	const uint8_t *p = buf;

	if (!p || len < VIRTIO_MSG_HDR_SIZE)
		return -EBADMSG;

	msg->type = p[offsetof(struct virtio_msg_hdr, type)];
	msg->msg_id = p[offsetof(struct virtio_msg_hdr, msg_id)];
	msg->dev_num = vmsg_get_le16(p + offsetof(struct virtio_msg_hdr,
						  dev_num));
	msg->token = vmsg_get_le16(p + offsetof(struct virtio_msg_hdr, token));
	msg->size = vmsg_get_le16(p + offsetof(struct virtio_msg_hdr,
					       msg_size));

	if (msg->size < VIRTIO_MSG_HDR_SIZE || msg->size > len ||
	    msg->size > max_size)
		return -EBADMSG;

	msg->payload = p + VIRTIO_MSG_HDR_SIZE;
	msg->payload_len = msg->size - VIRTIO_MSG_HDR_SIZE;
	return 0;
}

int vmsg_msg_check_request(const struct vmsg_msg *msg)
{
	uint64_t want;
	int fixed;

	if (msg->type & VIRTIO_MSG_TYPE_RESPONSE)
		return -EPROTO;
	if (msg->type & VIRTIO_MSG_TYPE_BUS)
		return -EOPNOTSUPP;
	if (msg->msg_id == VIRTIO_MSG_EVENT_CONFIG ||
	    msg->msg_id == VIRTIO_MSG_EVENT_USED)
		return -EPROTO;

	fixed = vmsg_msg_payload_size(msg->msg_id);
	if (fixed < 0)
		return -EOPNOTSUPP;
	if (msg->payload_len < (size_t)fixed)
		return -EBADMSG;

	want = fixed;
	switch (msg->msg_id) {
	case VIRTIO_MSG_SET_DRIVER_FEATURES:
		want += 4 * (uint64_t)vmsg_get_le32(msg->payload +
			offsetof(struct virtio_msg_features, num_blocks));
		break;
	case VIRTIO_MSG_SET_CONFIG:
		want += vmsg_get_le32(msg->payload +
			offsetof(struct virtio_msg_config, length));
		break;
	}
	if (msg->payload_len != want)
		return -EBADMSG;
	return 0;
}

void vmsg_hdr_build(void *buf, uint8_t type, uint8_t msg_id,
		    uint16_t dev_num, uint16_t token, uint16_t size)
{
	uint8_t *p = buf;

	p[offsetof(struct virtio_msg_hdr, type)] =
		type & ~VIRTIO_MSG_TYPE_RESERVED;
	p[offsetof(struct virtio_msg_hdr, msg_id)] = msg_id;
	vmsg_put_le16(p + offsetof(struct virtio_msg_hdr, dev_num), dev_num);
	vmsg_put_le16(p + offsetof(struct virtio_msg_hdr, token), token);
	vmsg_put_le16(p + offsetof(struct virtio_msg_hdr, msg_size), size);
}

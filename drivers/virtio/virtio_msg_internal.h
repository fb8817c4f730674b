/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * virtio-msg transport: declarations private to the core module.
 *
 * Nothing here is part of the interface offered to bus modules.
 */
#ifndef _DRIVERS_VIRTIO_VIRTIO_MSG_INTERNAL_H
#define _DRIVERS_VIRTIO_VIRTIO_MSG_INTERNAL_H

#include <linux/types.h>
#include <asm/byteorder.h>
#include <uapi/linux/virtio_msg.h>

/*
 * Message build and validation helpers (virtio_msg_proto.c).
 *
 * They are shared by the translation units of virtio_msg.ko, so they cannot
 * be VISIBLE_IF_KUNIT (static without KUnit); they are exported, with
 * EXPORT_SYMBOL_IF_KUNIT(), only to the KUnit suite. Bus modules never need
 * them: the core builds and validates every transport and bus message.
 */
int virtio_msg_init_request(struct virtio_msg_hdr *msg, size_t max_size,
			    u8 msg_id, u16 dev_num, size_t payload_len);
int virtio_msg_init_bus_request(struct virtio_msg_hdr *msg, size_t max_size,
				u8 msg_id, size_t payload_len);
int virtio_msg_init_response(struct virtio_msg_hdr *msg, size_t max_size,
			     const struct virtio_msg_hdr *req,
			     size_t payload_len);
int virtio_msg_validate(const struct virtio_msg_hdr *msg, size_t len,
			size_t max_size);
int virtio_msg_match_response(const struct virtio_msg_hdr *req,
			      const struct virtio_msg_hdr *resp);
int __virtio_msg_match_response(const struct virtio_msg_hdr *req,
				const struct virtio_msg_hdr *resp, bool token);

/**
 * virtio_msg_payload() - payload of a message
 * @msg: message header
 *
 * Context: any.
 * Return: the first byte after the header.
 */
static inline void *virtio_msg_payload(struct virtio_msg_hdr *msg)
{
	return msg + 1;
}

/**
 * virtio_msg_payload_size() - payload size of a message
 * @msg: a message built by the virtio_msg_init_*() helpers or accepted by
 *	virtio_msg_validate(), so that msg_size is at least the header size
 *
 * Context: any.
 * Return: msg_size minus the header size.
 */
static inline size_t virtio_msg_payload_size(const struct virtio_msg_hdr *msg)
{
	return le16_to_cpu(msg->msg_size) - sizeof(*msg);
}

/**
 * virtio_msg_is_response() - whether a message is a response
 * @msg: message header
 *
 * Context: any.
 * Return: true if the response bit of the type is set.
 */
static inline bool virtio_msg_is_response(const struct virtio_msg_hdr *msg)
{
	return msg->type & VIRTIO_MSG_TYPE_RESPONSE;
}

/**
 * virtio_msg_is_bus() - whether a message is a bus message
 * @msg: message header
 *
 * Context: any.
 * Return: true if the bus bit of the type is set.
 */
static inline bool virtio_msg_is_bus(const struct virtio_msg_hdr *msg)
{
	return msg->type & VIRTIO_MSG_TYPE_BUS;
}

#endif /* _DRIVERS_VIRTIO_VIRTIO_MSG_INTERNAL_H */

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * virtio-msg device side: message codec.
 *
 * Parsing and validation of driver->device transport messages and
 * construction of message headers. The wire format itself is defined in
 * <linux/virtio_msg.h>; everything on the wire is little-endian and the
 * helpers here never assume the buffers are aligned.
 */
#ifndef _VIRTIO_MSG_CODEC_H
#define _VIRTIO_MSG_CODEC_H

#include <stddef.h>
#include <stdint.h>

/**
 * struct vmsg_msg - decoded view of a received message
 * @type: header type byte as received (reserved bits included)
 * @msg_id: message ID
 * @dev_num: device number from the header
 * @token: correlation token from the header
 * @size: msg_size from the header (header included)
 * @payload: first payload byte (points into the caller's buffer)
 * @payload_len: @size minus the header size
 */
struct vmsg_msg {
	uint8_t type;
	uint8_t msg_id;
	uint16_t dev_num;
	uint16_t token;
	uint16_t size;
	const uint8_t *payload;
	size_t payload_len;
};

/**
 * vmsg_msg_parse() - decode and size-check a message header
 * @buf: received bytes
 * @len: number of bytes in @buf; may exceed msg_size when the bus
 *	delivers fixed-size slots (the excess is ignored)
 * @max_size: the bus maximum message size
 * @msg: filled in on success
 *
 * Return: 0 on success; -EBADMSG if @len is shorter than a header, or if
 * msg_size is below the header size, above @len or above @max_size.
 */
int vmsg_msg_parse(const void *buf, size_t len, size_t max_size,
		   struct vmsg_msg *msg);

/**
 * vmsg_msg_check_request() - validate a driver->device transport message
 * @msg: message decoded by vmsg_msg_parse()
 *
 * Checks the direction and kind (a transport request or EVENT_AVAIL, not a
 * response, not a bus message), that the message ID is one a device
 * receives, and that the payload length is exactly what the message ID
 * requires (including the variable parts of SET_DRIVER_FEATURES and
 * SET_CONFIG). Reserved bits of the type byte are ignored, as the
 * transport requires on receive.
 *
 * Return: 0 if valid; -EPROTO for a response or a device->driver event;
 * -EOPNOTSUPP for a bus message or an unknown or reserved message ID;
 * -EBADMSG for a wrong payload length.
 */
int vmsg_msg_check_request(const struct vmsg_msg *msg);

/**
 * vmsg_msg_payload_size() - fixed payload size of a driver->device message
 * @msg_id: transport message ID
 *
 * Return: the payload size in bytes, or for SET_DRIVER_FEATURES and
 * SET_CONFIG the size of the fixed part; -1 if @msg_id is not a message a
 * device receives.
 */
int vmsg_msg_payload_size(uint8_t msg_id);

/**
 * vmsg_hdr_build() - write a message header
 * @buf: at least VIRTIO_MSG_HDR_SIZE bytes
 * @type: VIRTIO_MSG_TYPE_* bits (reserved bits are cleared)
 * @msg_id: message ID
 * @dev_num: device number
 * @token: correlation token
 * @size: total message size, header included
 */
void vmsg_hdr_build(void *buf, uint8_t type, uint8_t msg_id,
		    uint16_t dev_num, uint16_t token, uint16_t size);

#endif /* _VIRTIO_MSG_CODEC_H */

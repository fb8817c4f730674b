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
			size_t max_size, u8 wire);
int virtio_msg_match_response(const struct virtio_msg_hdr *req,
			      const struct virtio_msg_hdr *resp, u8 wire);
int __virtio_msg_match_response(const struct virtio_msg_hdr *req,
				const struct virtio_msg_hdr *resp, bool token,
				u8 wire);

/**
 * struct virtio_msg_dev_info - a GET_DEVICE_INFO response, either generation
 * @device_id: virtio device ID
 * @vendor_id: vendor ID
 * @uuid: device UUID (v2); all zero when there is none, and in v1
 * @num_feature_bits: feature bits the device has (v2: 32 per block)
 * @config_size: configuration space size in bytes
 * @max_vqs: virtqueues the device has at most
 * @admin_vq_start: first administration virtqueue
 * @admin_vq_count: number of administration virtqueues
 */
struct virtio_msg_dev_info {
	u32 device_id;
	u32 vendor_id;
	u8 uuid[16];
	u32 num_feature_bits;
	u32 config_size;
	u32 max_vqs;
	u32 admin_vq_start;
	u32 admin_vq_count;
};

/**
 * struct virtio_msg_vq_info - a GET_VQUEUE response or SET_VQUEUE request,
 *	either generation
 * @index: virtqueue index
 * @max_size: largest size the device supports (GET_VQUEUE only)
 * @size: size of the queue
 * @enabled: v2 only: GET_VQUEUE ENABLED, SET_VQUEUE ENABLE
 * @desc_addr: bus address of the descriptor area
 * @driver_addr: bus address of the driver area
 * @device_addr: bus address of the device area
 */
struct virtio_msg_vq_info {
	u32 index;
	u32 max_size;
	u32 size;
	bool enabled;
	u64 desc_addr;
	u64 driver_addr;
	u64 device_addr;
};

/**
 * struct virtio_msg_devices_window - a GET_DEVICES response, either
 *	generation
 * @offset: first device number of the window
 * @count: device numbers in the window, a multiple of 8
 * @next_offset: where the next window starts, 0 when there is no more
 * @bitmap: @count / 8 bytes, bit n set when device @offset + n is present
 */
struct virtio_msg_devices_window {
	u16 offset;
	u16 count;
	u16 next_offset;
	const u8 *bitmap;
};

/*
 * Per-generation readers and writers of the messages whose layout changed
 * in v2. The readers take a message virtio_msg_validate() accepted for
 * the same generation.
 */
void virtio_msg_parse_device_info(const struct virtio_msg_hdr *resp, u8 wire,
				  struct virtio_msg_dev_info *info);
void virtio_msg_parse_vqueue(const struct virtio_msg_hdr *resp, u8 wire,
			     struct virtio_msg_vq_info *vq);
int virtio_msg_build_set_vqueue(struct virtio_msg_hdr *msg, size_t max_size,
				u8 wire, u16 dev_num,
				const struct virtio_msg_vq_info *vq);
void virtio_msg_parse_shm(const struct virtio_msg_hdr *resp, u8 wire,
			  u64 *addr, u64 *len);
void virtio_msg_parse_get_devices(const struct virtio_msg_hdr *resp, u8 wire,
				  struct virtio_msg_devices_window *w);

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

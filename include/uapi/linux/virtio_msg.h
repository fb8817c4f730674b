/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/*
 * Wire format of the virtio-msg transport (OASIS virtio "Virtio Over
 * Messages", transport revision 1).
 *
 * Every message is an 8-byte header followed by a payload whose layout
 * depends on the message ID. All fields are little-endian. Offsets in the
 * payload structs are relative to the end of the header; 64-bit fields sit
 * at 8-byte aligned offsets of the whole message.
 */
#ifndef _UAPI_LINUX_VIRTIO_MSG_H
#define _UAPI_LINUX_VIRTIO_MSG_H

#include <linux/types.h>

/* Transport revision this header describes. */
#define VIRTIO_MSG_REVISION		1

/*
 * Wire generations of transport revision 1. Both are in the field and both
 * call themselves revision 1; a bus instance speaks one of them, chosen by
 * what the bus learned from its peer. The header and most payloads are
 * the same; GET_DEVICE_INFO, GET_VQUEUE, SET_VQUEUE, GET_SHM and
 * GET_DEVICES differ (the structs named _v2 below hold the v2 layouts
 * next to the v1 ones), and v2 adds the transport feature bits.
 */
#define VIRTIO_MSG_WIRE_V1		1	/* PATCH v1 (January 2026) */
#define VIRTIO_MSG_WIRE_V2		2	/* the v2 proposal (May 2026) */

/*
 * Transport feature bits (v2), supplied by the bus, as bit numbers.
 * STRICT_CONFIG_GENERATION picks the strict configuration profile: the
 * device rejects (length 0) a SET_CONFIG whose generation is stale. Clear,
 * the baseline profile: the driver sends generation 0 and the device never
 * rejects. In v2 a SET_CONFIG response with a non-zero length means the
 * whole write was applied.
 */
#define VIRTIO_MSG_F_STRICT_CONFIG_GENERATION	0

/* Size of struct virtio_msg_hdr. */
#define VIRTIO_MSG_HDR_SIZE		8
/*
 * Bounds on the maximum message size a bus instance advertises. The spec
 * text has carried 44 (from the 6-byte header era) and 52; 52 is the
 * smallest that still fits a GET_VQUEUE response, so it is the floor here.
 */
#define VIRTIO_MSG_MAX_SIZE_MIN		52
#define VIRTIO_MSG_MAX_SIZE_MAX		65535
/* Largest maximum a bus SHOULD advertise: header plus 256 bytes. */
#define VIRTIO_MSG_MAX_SIZE_RECOMMENDED	264

/* struct virtio_msg_hdr.type */
#define VIRTIO_MSG_TYPE_RESPONSE	0x01
#define VIRTIO_MSG_TYPE_BUS		0x02
/* Reserved type bits: sent as 0, ignored on receive. */
#define VIRTIO_MSG_TYPE_RESERVED	0xfc

/*
 * Message ID ranges, the same in the transport and the bus ID spaces:
 * 0x00-0x3f requests, 0x40-0x7f events (no response),
 * 0x80-0xbf implementation-defined requests, 0xc0-0xff their events.
 */
#define VIRTIO_MSG_ID_EVENT		0x40
#define VIRTIO_MSG_ID_IMPL		0x80

/* Transport message IDs */
#define VIRTIO_MSG_GET_DEVICE_INFO	0x02
#define VIRTIO_MSG_GET_DEVICE_FEATURES	0x03
#define VIRTIO_MSG_SET_DRIVER_FEATURES	0x04
#define VIRTIO_MSG_GET_CONFIG		0x05
#define VIRTIO_MSG_SET_CONFIG		0x06
#define VIRTIO_MSG_GET_DEVICE_STATUS	0x07
#define VIRTIO_MSG_SET_DEVICE_STATUS	0x08
#define VIRTIO_MSG_GET_VQUEUE		0x09
#define VIRTIO_MSG_SET_VQUEUE		0x0a
#define VIRTIO_MSG_RESET_VQUEUE		0x0b
#define VIRTIO_MSG_GET_SHM		0x0c
#define VIRTIO_MSG_EVENT_CONFIG		0x40
#define VIRTIO_MSG_EVENT_AVAIL		0x41
#define VIRTIO_MSG_EVENT_USED		0x42

/* Bus message IDs (type has VIRTIO_MSG_TYPE_BUS, dev_num is 0) */
#define VIRTIO_MSG_BUS_GET_DEVICES	0x02
#define VIRTIO_MSG_BUS_PING		0x03
#define VIRTIO_MSG_BUS_EVENT_DEVICE	0x40

/* struct virtio_msg_bus_event_device.state (READY is v2's ADDED) */
#define VIRTIO_MSG_BUS_DEVICE_READY	0x0001
#define VIRTIO_MSG_BUS_DEVICE_ADDED	VIRTIO_MSG_BUS_DEVICE_READY
#define VIRTIO_MSG_BUS_DEVICE_REMOVED	0x0002
/* 0x8000-0xffff are implementation-defined states. */
#define VIRTIO_MSG_BUS_DEVICE_IMPL	0x8000

/* struct virtio_msg_event_avail.next_offset: wrap counter in bit 31. */
#define VIRTIO_MSG_AVAIL_WRAP		0x80000000U
#define VIRTIO_MSG_AVAIL_OFFSET_MASK	0x7fffffffU

/**
 * struct virtio_msg_hdr - header of every virtio-msg message
 * @type: VIRTIO_MSG_TYPE_* bits; reserved bits are 0
 * @msg_id: message ID, in the transport or the bus ID space per @type
 * @dev_num: device number on the bus instance; 0 for bus messages
 * @token: correlation value, opaque to driver and device (the bus may
 *	rewrite it); echoed in the response
 * @msg_size: total size in bytes, header included
 */
struct virtio_msg_hdr {
	__u8 type;
	__u8 msg_id;
	__le16 dev_num;
	__le16 token;
	__le16 msg_size;
};

/**
 * struct virtio_msg_get_device_info_resp - GET_DEVICE_INFO response
 * @device_id: virtio device ID (0: no function behind this number)
 * @vendor_id: vendor ID
 * @num_feature_bits: number of feature bits, a multiple of 32
 * @config_size: size of the device configuration space in bytes
 * @max_virtqueues: number of virtqueues the device has at most
 * @admin_vq_start: index of the first administration virtqueue
 * @admin_vq_count: number of administration virtqueues
 */
struct virtio_msg_get_device_info_resp {
	__le32 device_id;
	__le32 vendor_id;
	__le32 num_feature_bits;
	__le32 config_size;
	__le32 max_virtqueues;
	__le16 admin_vq_start;
	__le16 admin_vq_count;
};

/**
 * struct virtio_msg_get_device_info_resp_v2 - GET_DEVICE_INFO response, v2
 * @device_id: virtio device ID (0: no function behind this number)
 * @vendor_id: vendor ID
 * @device_uuid: device UUID; all zero when the device has none
 * @num_feature_blocks: number of 32-bit feature blocks
 * @config_size: size of the device configuration space in bytes
 * @max_virtqueues: number of virtqueues the device has at most, at most
 *	65536, administration virtqueues included
 * @admin_vq_start: index of the first administration virtqueue
 * @admin_vq_count: number of administration virtqueues
 */
struct virtio_msg_get_device_info_resp_v2 {
	__le32 device_id;
	__le32 vendor_id;
	__u8 device_uuid[16];
	__le32 num_feature_blocks;
	__le32 config_size;
	__le32 max_virtqueues;
	__le32 admin_vq_start;
	__le32 admin_vq_count;
};

/**
 * struct virtio_msg_features - GET_DEVICE_FEATURES and SET_DRIVER_FEATURES
 * @block_index: first 32-bit feature block (block k holds bits 32k..32k+31)
 * @num_blocks: number of blocks
 * @features: @num_blocks blocks; absent in the GET_DEVICE_FEATURES request
 */
struct virtio_msg_features {
	__le32 block_index;
	__le32 num_blocks;
	__le32 features[];
};

/**
 * struct virtio_msg_get_config_req - GET_CONFIG request
 * @offset: byte offset in the configuration space
 * @length: number of bytes to read
 */
struct virtio_msg_get_config_req {
	__le32 offset;
	__le32 length;
};

/**
 * struct virtio_msg_config - GET_CONFIG response, SET_CONFIG request and
 *	response
 * @generation: configuration generation (in a SET_CONFIG request: the
 *	driver's last observed value; in its response: the resulting value)
 * @offset: byte offset in the configuration space
 * @length: number of bytes in @data; in a SET_CONFIG response the number
 *	of bytes applied, 0 when the write was rejected
 * @data: configuration bytes
 */
struct virtio_msg_config {
	__le32 generation;
	__le32 offset;
	__le32 length;
	__u8 data[];
};

/**
 * struct virtio_msg_status - GET_DEVICE_STATUS response, SET_DEVICE_STATUS
 *	request and response
 * @status: virtio device status bits; writing 0 resets the device, and a
 *	response carries the resulting status
 */
struct virtio_msg_status {
	__le32 status;
};

/**
 * struct virtio_msg_vqueue_index - GET_VQUEUE, RESET_VQUEUE and GET_SHM
 *	requests, EVENT_USED
 * @index: virtqueue or shared memory region index
 */
struct virtio_msg_vqueue_index {
	__le32 index;
};

/**
 * struct virtio_msg_vqueue - GET_VQUEUE response, SET_VQUEUE request
 * @index: virtqueue index
 * @max_size: GET_VQUEUE: largest size the device supports, 0 when the
 *	queue does not exist; SET_VQUEUE: reserved, 0
 * @size: GET_VQUEUE: current size, 0 when unconfigured; SET_VQUEUE: the
 *	size to use, at most max_size
 * @reserved: 0
 * @desc_addr: bus address of the descriptor area
 * @driver_addr: bus address of the driver area
 * @device_addr: bus address of the device area
 */
struct virtio_msg_vqueue {
	__le32 index;
	__le32 max_size;
	__le32 size;
	__le32 reserved;
	__le64 desc_addr;
	__le64 driver_addr;
	__le64 device_addr;
};

/* struct virtio_msg_get_vqueue_resp_v2.flags */
#define VIRTIO_MSG_VQUEUE_V2_ENABLED	0x1
/* struct virtio_msg_set_vqueue_req_v2.flags */
#define VIRTIO_MSG_VQUEUE_V2_ENABLE	0x1

/**
 * struct virtio_msg_get_vqueue_resp_v2 - GET_VQUEUE response, v2
 * @index: virtqueue index
 * @max_size: largest size the device supports, 0 when the queue does not
 *	exist
 * @size: current size, 0 when unconfigured
 * @flags: VIRTIO_MSG_VQUEUE_V2_ENABLED when the queue is live
 * @desc_addr: bus address of the descriptor area
 * @driver_addr: bus address of the driver area
 * @device_addr: bus address of the device area
 *
 * In v2 a driver reads the queue back after SET_VQUEUE: it must be
 * enabled, with the size and addresses that were set.
 */
struct virtio_msg_get_vqueue_resp_v2 {
	__le32 index;
	__le32 max_size;
	__le32 size;
	__le32 flags;
	__le64 desc_addr;
	__le64 driver_addr;
	__le64 device_addr;
};

/**
 * struct virtio_msg_set_vqueue_req_v2 - SET_VQUEUE request, v2
 * @index: virtqueue index
 * @flags: VIRTIO_MSG_VQUEUE_V2_ENABLE to make the queue live
 * @size: the size to use, at most the queue's max_size
 * @reserved: 0
 * @desc_addr: bus address of the descriptor area
 * @driver_addr: bus address of the driver area
 * @device_addr: bus address of the device area
 */
struct virtio_msg_set_vqueue_req_v2 {
	__le32 index;
	__le32 flags;
	__le32 size;
	__le32 reserved;
	__le64 desc_addr;
	__le64 driver_addr;
	__le64 device_addr;
};

/**
 * struct virtio_msg_get_shm_resp - GET_SHM response
 * @index: shared memory region index
 * @length: region length in bytes, 0 when the region does not exist
 * @address: region address
 *
 * Length and address are 32 bits wide in v1 (see the v2 layout below).
 */
struct virtio_msg_get_shm_resp {
	__le32 index;
	__le32 length;
	__le32 address;
};

/**
 * struct virtio_msg_get_shm_resp_v2 - GET_SHM response, v2
 * @index: shared memory region index (shmid)
 * @reserved: 0
 * @length: region length in bytes, 0 when the region does not exist
 * @address: region address
 */
struct virtio_msg_get_shm_resp_v2 {
	__le32 index;
	__le32 reserved;
	__le64 length;
	__le64 address;
};

/**
 * struct virtio_msg_event_config - EVENT_CONFIG, device to driver
 * @device_status: current device status
 * @generation: configuration generation after the change
 * @offset: byte offset of @data in the configuration space
 * @length: number of bytes in @data; 0 when the driver must re-read
 * @data: new configuration bytes
 */
struct virtio_msg_event_config {
	__le32 device_status;
	__le32 generation;
	__le32 offset;
	__le32 length;
	__u8 data[];
};

/**
 * struct virtio_msg_event_avail - EVENT_AVAIL, driver to device
 * @vq_index: virtqueue index
 * @next_offset: 0 unless VIRTIO_F_NOTIFICATION_DATA was negotiated; then
 *	the next ring offset in bits 30:0 and the wrap counter in bit 31
 */
struct virtio_msg_event_avail {
	__le32 vq_index;
	__le32 next_offset;
};

/**
 * struct virtio_msg_bus_get_devices_req - bus GET_DEVICES request
 * @offset: first device number of the window, a multiple of 8
 * @count: number of device numbers in the window, a multiple of 8
 */
struct virtio_msg_bus_get_devices_req {
	__le16 offset;
	__le16 count;
};

/**
 * struct virtio_msg_bus_get_devices_resp - bus GET_DEVICES response
 * @offset: first device number of the window returned
 * @count: number of device numbers in the window returned
 * @next_offset: where the next window starts, 0 when there is no more
 * @bitmap: @count / 8 bytes; bit n (LSB first) set when device
 *	@offset + n is present
 */
struct virtio_msg_bus_get_devices_resp {
	__le16 offset;
	__le16 count;
	__le16 next_offset;
	__u8 bitmap[];
};

/**
 * struct virtio_msg_bus_get_devices_resp_v2 - bus GET_DEVICES response, v2
 * @offset: first device number of the window returned
 * @next_offset: where the next window starts, 0 when there is no more
 * @count: number of device numbers in the window returned
 * @bitmap: @count / 8 bytes, as in struct virtio_msg_bus_get_devices_resp
 */
struct virtio_msg_bus_get_devices_resp_v2 {
	__le16 offset;
	__le16 next_offset;
	__le16 count;
	__u8 bitmap[];
};

/**
 * struct virtio_msg_bus_ping - bus PING request and response
 * @data: value the responder echoes
 */
struct virtio_msg_bus_ping {
	__le32 data;
};

/**
 * struct virtio_msg_bus_event_device - bus EVENT_DEVICE
 * @dev_num: device number the event is about
 * @state: VIRTIO_MSG_BUS_DEVICE_*
 */
struct virtio_msg_bus_event_device {
	__le16 dev_num;
	__le16 state;
};

#endif /* _UAPI_LINUX_VIRTIO_MSG_H */

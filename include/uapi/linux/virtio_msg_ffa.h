/* SPDX-License-Identifier: ((GPL-2.0-only WITH Linux-syscall-note) OR BSD-3-Clause) */
/*
 * virtio-msg over Arm FF-A (DEN0153): the bus messages and constants of
 * the FF-A binding. Every field is little-endian; every structure is the
 * payload that follows the 8-byte struct virtio_msg_hdr of a bus message
 * (VIRTIO_MSG_TYPE_BUS, dev_num 0).
 */
#ifndef _UAPI_LINUX_VIRTIO_MSG_FFA_H
#define _UAPI_LINUX_VIRTIO_MSG_FFA_H

#include <linux/types.h>

/* The device-role endpoint UUID: partitions serving virtio-msg devices. */
#define VIRTIO_MSG_FFA_DEVICE_UUID "c66028b5-2498-4aa1-9de7-77da6122abf0"
/* The driver-role endpoint UUID, for a device side that initiates. */
#define VIRTIO_MSG_FFA_DRIVER_UUID "bd7fd089-6795-472b-b47f-db0c5d9a719d"

/*
 * Largest message over direct messaging: a REQ2/RESP2 register block is
 * x4-x17 (112 bytes), of which the binding uses 104. Byte n of a message
 * is byte (n % 8) of register x(4 + n / 8), least significant first.
 */
#define VIRTIO_MSG_FFA_MAX_MSG_SIZE	104
#define VIRTIO_MSG_FFA_REGS_SIZE	112

/* Bus message IDs (bus ID space, implementation-defined range). */
#define VIRTIO_MSG_FFA_VERSION		0x80
#define VIRTIO_MSG_FFA_AREA_SHARE	0x81
#define VIRTIO_MSG_FFA_AREA_UNSHARE	0x82
#define VIRTIO_MSG_FFA_RESET		0x83
#define VIRTIO_MSG_FFA_EVENT_POLL	0x84
#define VIRTIO_MSG_FFA_EVENT_CONFIGURE	0x85
#define VIRTIO_MSG_FFA_FIFO_CONFIGURE	0x86
#define VIRTIO_MSG_FFA_ERROR		0x87
/* Device-side event: the partition gave an area up. */
#define VIRTIO_MSG_FFA_AREA_RELEASE	0xc0

/* Bus version 1.0: (major << 16) | minor. */
#define VIRTIO_MSG_FFA_BUS_VERSION_1_0	0x00010000U
#define VIRTIO_MSG_FFA_BUS_MAJOR(v)	((v) >> 16)

/* VERSION response, bus_features. */
#define VIRTIO_MSG_FFA_F_DIRECT_RX	0x001U
#define VIRTIO_MSG_FFA_F_DIRECT_TX	0x002U
#define VIRTIO_MSG_FFA_F_INDIRECT_RX	0x004U
#define VIRTIO_MSG_FFA_F_INDIRECT_TX	0x008U
#define VIRTIO_MSG_FFA_F_NOTIF_RX	0x010U
#define VIRTIO_MSG_FFA_F_NOTIF_TX	0x020U
#define VIRTIO_MSG_FFA_F_FIFO		0x040U

/* result of AREA_SHARE, AREA_UNSHARE, RESET, EVENT_CONFIGURE. */
#define VIRTIO_MSG_FFA_RESULT_SUCCESS	0
#define VIRTIO_MSG_FFA_RESULT_ERROR	1
#define VIRTIO_MSG_FFA_RESULT_BUSY	2

/* EVENT_CONFIGURE event_method. */
#define VIRTIO_MSG_FFA_EVENT_POLL_METHOD	0
#define VIRTIO_MSG_FFA_EVENT_NOTIF		1
#define VIRTIO_MSG_FFA_EVENT_INDIRECT		2
#define VIRTIO_MSG_FFA_EVENT_FIFO		3

/* AREA_SHARE sharing_attrs. */
#define VIRTIO_MSG_FFA_SHARE_TYPE_SHARE		0x000U
#define VIRTIO_MSG_FFA_SHARE_TYPE_LEND		0x001U
#define VIRTIO_MSG_FFA_SHARE_TYPE_DONATE	0x002U
#define VIRTIO_MSG_FFA_SHARE_WRITABLE		0x004U
#define VIRTIO_MSG_FFA_SHARE_EXECUTABLE		0x008U
#define VIRTIO_MSG_FFA_SHARE_INNER_SHAREABLE	0x030U
#define VIRTIO_MSG_FFA_SHARE_WRITE_BACK		0x0c0U
#define VIRTIO_MSG_FFA_SHARE_NORMAL		0x200U
#define VIRTIO_MSG_FFA_SHARE_NON_SECURE		0x400U
#define VIRTIO_MSG_FFA_SHARE_RETAIN		0x800U

/*
 * Bus addresses: the area ID in bits 63:48, the offset in the area in
 * bits 47:0. Area IDs start at 1.
 */
#define VIRTIO_MSG_FFA_AREA_SHIFT	48
#define VIRTIO_MSG_FFA_OFFSET_MASK	0x0000ffffffffffffULL

/* FF-A memory transactions count 4 KiB pages, whatever the page size. */
#define VIRTIO_MSG_FFA_PAGE_SIZE	4096

/**
 * struct virtio_msg_ffa_version_req - VERSION request
 * @bus_version: VIRTIO_MSG_FFA_BUS_VERSION_1_0
 * @transport_revision: VIRTIO_MSG_REVISION
 * @ffa_version: the FF-A version the driver side runs; absent from the
 *	older two-word form of the request
 */
struct virtio_msg_ffa_version_req {
	__le32 bus_version;
	__le32 transport_revision;
	__le32 ffa_version;
} __attribute__((packed));

/* Payload size of the older, two-word VERSION request. */
#define VIRTIO_MSG_FFA_VERSION_REQ_SIZE_OLD	8

/**
 * struct virtio_msg_ffa_version_resp - VERSION response
 * @bus_version: the bus version the partition speaks
 * @transport_revision: its transport revision
 * @ffa_version: the FF-A version it runs
 * @transport_features: transport feature bits (none defined: 0)
 * @bus_features: VIRTIO_MSG_FFA_F_*
 * @max_areas: how many areas it takes at most
 */
struct virtio_msg_ffa_version_resp {
	__le32 bus_version;
	__le32 transport_revision;
	__le32 ffa_version;
	__le32 transport_features;
	__le32 bus_features;
	__le16 max_areas;
} __attribute__((packed));

/**
 * struct virtio_msg_ffa_version_resp_old - VERSION response, older form
 * @bus_version: as in struct virtio_msg_ffa_version_resp
 * @transport_revision: ditto
 * @transport_features: ditto
 * @bus_features: ditto
 * @max_areas: ditto
 *
 * The answer to the two-word request: no FF-A version.
 */
struct virtio_msg_ffa_version_resp_old {
	__le32 bus_version;
	__le32 transport_revision;
	__le32 transport_features;
	__le32 bus_features;
	__le16 max_areas;
} __attribute__((packed));

/**
 * struct virtio_msg_ffa_area_share_req - AREA_SHARE request
 * @area_id: the area's ID, from 1
 * @mem_handle: the FF-A global handle of the memory transaction
 * @mem_tag: the transaction's tag (0)
 * @page_count: size of the area in 4 KiB pages
 * @sharing_attrs: VIRTIO_MSG_FFA_SHARE_*
 */
struct virtio_msg_ffa_area_share_req {
	__le16 area_id;
	__le64 mem_handle;
	__le64 mem_tag;
	__le32 page_count;
	__le32 sharing_attrs;
} __attribute__((packed));

/**
 * struct virtio_msg_ffa_area_req - AREA_UNSHARE request, AREA_RELEASE event
 * @area_id: the area
 */
struct virtio_msg_ffa_area_req {
	__le16 area_id;
} __attribute__((packed));

/**
 * struct virtio_msg_ffa_area_resp - AREA_SHARE and AREA_UNSHARE response
 * @area_id: the area of the request
 * @result: VIRTIO_MSG_FFA_RESULT_*
 */
struct virtio_msg_ffa_area_resp {
	__le16 area_id;
	__le16 result;
} __attribute__((packed));

/**
 * struct virtio_msg_ffa_result_resp - RESET and EVENT_CONFIGURE response
 * @result: VIRTIO_MSG_FFA_RESULT_*
 */
struct virtio_msg_ffa_result_resp {
	__le16 result;
} __attribute__((packed));

/**
 * struct virtio_msg_ffa_event_configure_req - EVENT_CONFIGURE request
 * @event_method: VIRTIO_MSG_FFA_EVENT_*
 * @reserved: 0
 * @notif_id: the FF-A notification ID, with VIRTIO_MSG_FFA_EVENT_NOTIF
 */
struct virtio_msg_ffa_event_configure_req {
	__u8 event_method;
	__u8 reserved;
	__le16 notif_id;
} __attribute__((packed));

/**
 * struct virtio_msg_ffa_error - ERROR, the bus's answer to a request it
 * could not carry or serve
 * @original_msg_id: the msg_id of that request
 */
struct virtio_msg_ffa_error {
	__le16 original_msg_id;
} __attribute__((packed));

#endif /* _UAPI_LINUX_VIRTIO_MSG_FFA_H */

// SPDX-License-Identifier: GPL-2.0
/*
 * The virtio-msg wire-format header as userspace sees it: it must compile
 * on its own with strict flags and give every wire struct the size and
 * field offsets the transport specification fixes, on every ABI.
 */
#include <stddef.h>
#include <linux/virtio_msg.h>

#include "../../kselftest_harness.h"

#define EXPECT_LAYOUT(type, field, off)	\
	EXPECT_EQ((size_t)(off), offsetof(type, field))
#define EXPECT_SIZE(type, size)	\
	EXPECT_EQ((size_t)(size), sizeof(type))

TEST(header)
{
	EXPECT_SIZE(struct virtio_msg_hdr, VIRTIO_MSG_HDR_SIZE);
	EXPECT_LAYOUT(struct virtio_msg_hdr, type, 0);
	EXPECT_LAYOUT(struct virtio_msg_hdr, msg_id, 1);
	EXPECT_LAYOUT(struct virtio_msg_hdr, dev_num, 2);
	EXPECT_LAYOUT(struct virtio_msg_hdr, token, 4);
	EXPECT_LAYOUT(struct virtio_msg_hdr, msg_size, 6);
}

TEST(device_info)
{
	EXPECT_SIZE(struct virtio_msg_get_device_info_resp, 24);
	EXPECT_LAYOUT(struct virtio_msg_get_device_info_resp, config_size, 12);
	EXPECT_LAYOUT(struct virtio_msg_get_device_info_resp, max_virtqueues, 16);
	EXPECT_LAYOUT(struct virtio_msg_get_device_info_resp, admin_vq_start, 20);
	EXPECT_LAYOUT(struct virtio_msg_get_device_info_resp, admin_vq_count, 22);
}

TEST(features_and_config)
{
	EXPECT_SIZE(struct virtio_msg_features, 8);
	EXPECT_LAYOUT(struct virtio_msg_features, features, 8);
	EXPECT_SIZE(struct virtio_msg_get_config_req, 8);
	EXPECT_SIZE(struct virtio_msg_config, 12);
	EXPECT_LAYOUT(struct virtio_msg_config, data, 12);
	EXPECT_SIZE(struct virtio_msg_event_config, 16);
	EXPECT_LAYOUT(struct virtio_msg_event_config, data, 16);
	EXPECT_SIZE(struct virtio_msg_status, 4);
}

TEST(vqueue)
{
	/* The 64-bit addresses sit 8-byte aligned in the whole message. */
	EXPECT_SIZE(struct virtio_msg_vqueue, 40);
	EXPECT_LAYOUT(struct virtio_msg_vqueue, size, 8);
	EXPECT_LAYOUT(struct virtio_msg_vqueue, desc_addr, 16);
	EXPECT_LAYOUT(struct virtio_msg_vqueue, driver_addr, 24);
	EXPECT_LAYOUT(struct virtio_msg_vqueue, device_addr, 32);
	EXPECT_EQ(0U, (VIRTIO_MSG_HDR_SIZE +
		       offsetof(struct virtio_msg_vqueue, desc_addr)) % 8);
	EXPECT_SIZE(struct virtio_msg_vqueue_index, 4);
	EXPECT_SIZE(struct virtio_msg_get_shm_resp, 12);
	EXPECT_SIZE(struct virtio_msg_event_avail, 8);
}

TEST(bus_messages)
{
	EXPECT_SIZE(struct virtio_msg_bus_get_devices_req, 4);
	EXPECT_SIZE(struct virtio_msg_bus_get_devices_resp, 6);
	EXPECT_LAYOUT(struct virtio_msg_bus_get_devices_resp, bitmap, 6);
	EXPECT_SIZE(struct virtio_msg_bus_ping, 4);
	EXPECT_SIZE(struct virtio_msg_bus_event_device, 4);
}

TEST(message_ids)
{
	/* Events have bit 6 set, requests do not. */
	EXPECT_EQ(0, VIRTIO_MSG_GET_SHM & VIRTIO_MSG_ID_EVENT);
	EXPECT_NE(0, VIRTIO_MSG_EVENT_CONFIG & VIRTIO_MSG_ID_EVENT);
	EXPECT_NE(0, VIRTIO_MSG_EVENT_AVAIL & VIRTIO_MSG_ID_EVENT);
	EXPECT_NE(0, VIRTIO_MSG_EVENT_USED & VIRTIO_MSG_ID_EVENT);
	EXPECT_NE(0, VIRTIO_MSG_BUS_EVENT_DEVICE & VIRTIO_MSG_ID_EVENT);
	EXPECT_EQ(0, VIRTIO_MSG_TYPE_RESERVED &
		  (VIRTIO_MSG_TYPE_RESPONSE | VIRTIO_MSG_TYPE_BUS));
	EXPECT_GE((size_t)VIRTIO_MSG_MAX_SIZE_MIN, VIRTIO_MSG_HDR_SIZE +
		  sizeof(struct virtio_msg_vqueue));
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests of the virtio-msg FF-A bus's codecs: the register block,
 * answer validation, the VERSION forms, AREA_RELEASE, EVENT_POLL and bus
 * addresses. The codecs have no state and need no FF-A, so the suite
 * runs on every arch.
 */

#include <kunit/test.h>
#include <linux/module.h>

#include "../virtio_msg_ffa_codec.h"

static void fill_msg(struct vmsg_ffa_msg *m, u8 type, u8 msg_id, u16 dev_num,
		     u16 token, u16 size)
{
	memset(m, 0, sizeof(*m));
	m->hdr.type = type;
	m->hdr.msg_id = msg_id;
	m->hdr.dev_num = cpu_to_le16(dev_num);
	m->hdr.token = cpu_to_le16(token);
	m->hdr.msg_size = cpu_to_le16(size);
}

/* Byte n is byte n % 8 of register x(4 + n / 8), least significant first. */
static void regs_layout(struct kunit *test)
{
	struct ffa_send_direct_data2 regs;
	u8 msg[VIRTIO_MSG_FFA_MAX_MSG_SIZE];
	unsigned int i;

	for (i = 0; i < sizeof(msg); i++)
		msg[i] = i + 1;
	memset(&regs, 0xa5, sizeof(regs));
	vmsg_ffa_to_regs(&regs, msg, sizeof(msg));
	KUNIT_EXPECT_EQ(test, regs.data[0], 0x0807060504030201ULL);
	KUNIT_EXPECT_EQ(test, regs.data[1], 0x100f0e0d0c0b0a09ULL);
	KUNIT_EXPECT_EQ(test, regs.data[12], 0x6867666564636261ULL);
	/* x17 is past the 104 bytes of the binding: zero. */
	KUNIT_EXPECT_EQ(test, regs.data[13], 0ULL);

	/* A header alone: the rest of the block is zero, not stale. */
	memset(&regs, 0xa5, sizeof(regs));
	vmsg_ffa_to_regs(&regs, msg, VIRTIO_MSG_HDR_SIZE);
	KUNIT_EXPECT_EQ(test, regs.data[0], 0x0807060504030201ULL);
	for (i = 1; i < ARRAY_SIZE(regs.data); i++)
		KUNIT_EXPECT_EQ(test, regs.data[i], 0ULL);
}

static void regs_round_trip(struct kunit *test)
{
	struct ffa_send_direct_data2 regs;
	struct vmsg_ffa_msg in, out;
	unsigned int i;

	fill_msg(&in, VIRTIO_MSG_TYPE_RESPONSE, 0x02, 7, 0xbeef,
		 VIRTIO_MSG_FFA_MAX_MSG_SIZE);
	for (i = VIRTIO_MSG_HDR_SIZE; i < sizeof(in.bytes); i++)
		in.bytes[i] = i * 3;
	vmsg_ffa_to_regs(&regs, &in, sizeof(in.bytes));
	KUNIT_ASSERT_TRUE(test, vmsg_ffa_from_regs(&regs, &out));
	KUNIT_EXPECT_MEMEQ(test, in.bytes, out.bytes, sizeof(in.bytes));
}

/* All zero is busy; anything else, even past the 104 bytes, is not. */
static void regs_busy(struct kunit *test)
{
	struct ffa_send_direct_data2 regs = { };
	struct vmsg_ffa_msg out;

	memset(&out, 0x5a, sizeof(out));
	KUNIT_EXPECT_FALSE(test, vmsg_ffa_from_regs(&regs, &out));
	KUNIT_EXPECT_EQ(test, out.bytes[0], 0x5a);
	KUNIT_EXPECT_EQ(test, out.bytes[sizeof(out.bytes) - 1], 0x5a);

	regs.data[13] = 1ULL << 56;
	KUNIT_EXPECT_TRUE(test, vmsg_ffa_from_regs(&regs, &out));
	/* Not a message either: its msg_size reads 0, which xfer refuses. */
	KUNIT_EXPECT_EQ(test, le16_to_cpu(out.hdr.msg_size), 0);
}

/* The answer in place must be the response to this very request. */
static void answers(struct kunit *test)
{
	struct vmsg_ffa_msg req, ans;

	fill_msg(&req, 0, 0x02, 3, 0x1234, VIRTIO_MSG_HDR_SIZE);
	fill_msg(&ans, VIRTIO_MSG_TYPE_RESPONSE, 0x02, 3, 0x1234, 16);
	KUNIT_EXPECT_TRUE(test, vmsg_ffa_answers(&req.hdr, &ans.hdr));

	ans.hdr.type = 0;
	KUNIT_EXPECT_FALSE(test, vmsg_ffa_answers(&req.hdr, &ans.hdr));
	ans.hdr.type = VIRTIO_MSG_TYPE_RESPONSE | VIRTIO_MSG_TYPE_BUS;
	KUNIT_EXPECT_FALSE(test, vmsg_ffa_answers(&req.hdr, &ans.hdr));
	ans.hdr.type = VIRTIO_MSG_TYPE_RESPONSE;
	ans.hdr.msg_id = 0x03;
	KUNIT_EXPECT_FALSE(test, vmsg_ffa_answers(&req.hdr, &ans.hdr));
	ans.hdr.msg_id = 0x02;
	ans.hdr.dev_num = cpu_to_le16(4);
	KUNIT_EXPECT_FALSE(test, vmsg_ffa_answers(&req.hdr, &ans.hdr));
	ans.hdr.dev_num = cpu_to_le16(3);
	ans.hdr.token = cpu_to_le16(0x1235);
	KUNIT_EXPECT_FALSE(test, vmsg_ffa_answers(&req.hdr, &ans.hdr));

	/* A bus request is answered in the bus ID space. */
	fill_msg(&req, VIRTIO_MSG_TYPE_BUS, 0x02, 0, 9, VIRTIO_MSG_HDR_SIZE);
	fill_msg(&ans, VIRTIO_MSG_TYPE_BUS | VIRTIO_MSG_TYPE_RESPONSE, 0x02,
		 0, 9, 12);
	KUNIT_EXPECT_TRUE(test, vmsg_ffa_answers(&req.hdr, &ans.hdr));
	ans.hdr.type = VIRTIO_MSG_TYPE_RESPONSE;
	KUNIT_EXPECT_FALSE(test, vmsg_ffa_answers(&req.hdr, &ans.hdr));
}

static void error_answer(struct kunit *test)
{
	struct virtio_msg_ffa_error err;
	struct vmsg_ffa_msg req, ans;
	const int size = VIRTIO_MSG_HDR_SIZE + sizeof(err);

	fill_msg(&req, 0, 0x06, 2, 77, VIRTIO_MSG_HDR_SIZE);
	fill_msg(&ans, VIRTIO_MSG_TYPE_BUS | VIRTIO_MSG_TYPE_RESPONSE,
		 VIRTIO_MSG_FFA_ERROR, 0, 77, size);
	err.original_msg_id = cpu_to_le16(0x06);
	memcpy(ans.bytes + VIRTIO_MSG_HDR_SIZE, &err, sizeof(err));
	KUNIT_EXPECT_EQ(test, vmsg_ffa_error_names(&req.hdr, &ans, size), 1);

	/* Too short to name anything. */
	KUNIT_EXPECT_EQ(test, vmsg_ffa_error_names(&req.hdr, &ans,
						   VIRTIO_MSG_HDR_SIZE + 1),
			-EPROTO);
	/* Naming another message. */
	err.original_msg_id = cpu_to_le16(0x07);
	memcpy(ans.bytes + VIRTIO_MSG_HDR_SIZE, &err, sizeof(err));
	KUNIT_EXPECT_EQ(test, vmsg_ffa_error_names(&req.hdr, &ans, size),
			-EPROTO);
	/* The upper byte counts: 0x106 is not 0x06. */
	err.original_msg_id = cpu_to_le16(0x106);
	memcpy(ans.bytes + VIRTIO_MSG_HDR_SIZE, &err, sizeof(err));
	KUNIT_EXPECT_EQ(test, vmsg_ffa_error_names(&req.hdr, &ans, size),
			-EPROTO);

	/* Not an ERROR at all: a transport message, or a device's. */
	ans.hdr.type = VIRTIO_MSG_TYPE_RESPONSE;
	KUNIT_EXPECT_EQ(test, vmsg_ffa_error_names(&req.hdr, &ans, size), 0);
	ans.hdr.type = VIRTIO_MSG_TYPE_BUS | VIRTIO_MSG_TYPE_RESPONSE;
	ans.hdr.dev_num = cpu_to_le16(1);
	KUNIT_EXPECT_EQ(test, vmsg_ffa_error_names(&req.hdr, &ans, size), 0);
}

static void poll_empty(struct kunit *test)
{
	const u8 t = VIRTIO_MSG_TYPE_BUS | VIRTIO_MSG_TYPE_RESPONSE;
	struct vmsg_ffa_msg ans;

	fill_msg(&ans, t, VIRTIO_MSG_FFA_EVENT_POLL, 0, 0xffff, 8);
	KUNIT_EXPECT_TRUE(test, vmsg_ffa_poll_empty(&ans, 8, 0xffff));
	KUNIT_EXPECT_FALSE(test, vmsg_ffa_poll_empty(&ans, 8, 0xfffe));
	KUNIT_EXPECT_FALSE(test, vmsg_ffa_poll_empty(&ans, 10, 0xffff));
	fill_msg(&ans, t, VIRTIO_MSG_FFA_EVENT_POLL, 1, 0xffff, 8);
	KUNIT_EXPECT_FALSE(test, vmsg_ffa_poll_empty(&ans, 8, 0xffff));
	fill_msg(&ans, t, VIRTIO_MSG_FFA_VERSION, 0, 0xffff, 8);
	KUNIT_EXPECT_FALSE(test, vmsg_ffa_poll_empty(&ans, 8, 0xffff));
	/* An event is dispatched, not taken for the end of the queue. */
	fill_msg(&ans, 0, VIRTIO_MSG_EVENT_USED, 2, 0, 12);
	KUNIT_EXPECT_FALSE(test, vmsg_ffa_poll_empty(&ans, 12, 0));
	KUNIT_EXPECT_TRUE(test, vmsg_ffa_is_event(&ans.hdr));
	KUNIT_EXPECT_FALSE(test, vmsg_ffa_expects_resp(&ans.hdr));
}

static void area_release(struct kunit *test)
{
	struct virtio_msg_ffa_area_req rel = { .area_id = cpu_to_le16(1) };
	const u16 size = VIRTIO_MSG_HDR_SIZE + sizeof(rel);
	struct vmsg_ffa_msg m;

	fill_msg(&m, VIRTIO_MSG_TYPE_BUS, VIRTIO_MSG_FFA_AREA_RELEASE, 0, 0,
		 size);
	memcpy(m.bytes + VIRTIO_MSG_HDR_SIZE, &rel, sizeof(rel));
	KUNIT_EXPECT_TRUE(test, vmsg_ffa_is_release(&m.hdr, 1));
	KUNIT_EXPECT_FALSE(test, vmsg_ffa_is_release(&m.hdr, 2));

	m.hdr.type |= VIRTIO_MSG_TYPE_RESPONSE;
	KUNIT_EXPECT_FALSE(test, vmsg_ffa_is_release(&m.hdr, 1));
	m.hdr.type = VIRTIO_MSG_TYPE_BUS;
	m.hdr.msg_size = cpu_to_le16(VIRTIO_MSG_HDR_SIZE + 1);
	KUNIT_EXPECT_FALSE(test, vmsg_ffa_is_release(&m.hdr, 1));
	m.hdr.msg_size = cpu_to_le16(size);
	m.hdr.msg_id = VIRTIO_MSG_FFA_AREA_UNSHARE;
	KUNIT_EXPECT_FALSE(test, vmsg_ffa_is_release(&m.hdr, 1));
}

/* Both response forms, field by field, and short payloads refused. */
static void version_forms(struct kunit *test)
{
	struct virtio_msg_ffa_version_resp cur = {
		.bus_version = cpu_to_le32(0x00010002),
		.transport_revision = cpu_to_le32(1),
		.ffa_version = cpu_to_le32(0x00010002),
		.transport_features = cpu_to_le32(0x10),
		.bus_features = cpu_to_le32(0x31),
		.max_areas = cpu_to_le16(4),
	};
	struct virtio_msg_ffa_version_resp_old old = {
		.bus_version = cpu_to_le32(0x00010000),
		.transport_revision = cpu_to_le32(1),
		.transport_features = cpu_to_le32(0x20),
		.bus_features = cpu_to_le32(0x11),
		.max_areas = cpu_to_le16(2),
	};
	struct vmsg_ffa_version v;

	KUNIT_EXPECT_EQ(test, sizeof(cur), 22);
	KUNIT_EXPECT_EQ(test, sizeof(old), 18);
	KUNIT_ASSERT_EQ(test, vmsg_ffa_parse_version(&cur, sizeof(cur), false,
						     &v), 0);
	KUNIT_EXPECT_EQ(test, v.bus_version, 0x00010002);
	KUNIT_EXPECT_EQ(test, v.revision, 1);
	KUNIT_EXPECT_EQ(test, v.transport_features, 0x10);
	KUNIT_EXPECT_EQ(test, v.bus_features, 0x31);

	KUNIT_ASSERT_EQ(test, vmsg_ffa_parse_version(&old, sizeof(old), true,
						     &v), 0);
	KUNIT_EXPECT_EQ(test, v.bus_version, 0x00010000);
	KUNIT_EXPECT_EQ(test, v.revision, 1);
	KUNIT_EXPECT_EQ(test, v.transport_features, 0x20);
	KUNIT_EXPECT_EQ(test, v.bus_features, 0x11);

	KUNIT_EXPECT_EQ(test, vmsg_ffa_parse_version(&cur, sizeof(cur) - 1,
						     false, &v), -EPROTO);
	KUNIT_EXPECT_EQ(test, vmsg_ffa_parse_version(&old, sizeof(old) - 1,
						     true, &v), -EPROTO);
	/* The old form's payload is too short for the current one. */
	KUNIT_EXPECT_EQ(test, vmsg_ffa_parse_version(&old, sizeof(old),
						     false, &v), -EPROTO);
}

static void version_check(struct kunit *test)
{
	const struct vmsg_ffa_version good = {
		.bus_version = VIRTIO_MSG_FFA_BUS_VERSION_1_0,
		.revision = VIRTIO_MSG_REVISION,
		.bus_features = VIRTIO_MSG_FFA_F_DIRECT_RX,
	};
	struct vmsg_ffa_version v = good;

	KUNIT_EXPECT_EQ(test, vmsg_ffa_check_version(&v), 0);
	/* A newer minor version is the same protocol. */
	v.bus_version = 0x00010005;
	KUNIT_EXPECT_EQ(test, vmsg_ffa_check_version(&v), 0);
	v.bus_version = 0x00020000;
	KUNIT_EXPECT_EQ(test, vmsg_ffa_check_version(&v), -EPROTONOSUPPORT);
	v.bus_version = 0;
	KUNIT_EXPECT_EQ(test, vmsg_ffa_check_version(&v), -EPROTONOSUPPORT);
	v = good;
	v.revision = VIRTIO_MSG_REVISION + 1;
	KUNIT_EXPECT_EQ(test, vmsg_ffa_check_version(&v), -EPROTONOSUPPORT);
	v = good;
	v.transport_features = 1;
	KUNIT_EXPECT_EQ(test, vmsg_ffa_check_version(&v), -EPROTONOSUPPORT);
	v = good;
	v.bus_features = VIRTIO_MSG_FFA_F_INDIRECT_RX |
			 VIRTIO_MSG_FFA_F_NOTIF_RX | VIRTIO_MSG_FFA_F_NOTIF_TX;
	KUNIT_EXPECT_EQ(test, vmsg_ffa_check_version(&v), -EOPNOTSUPP);
}

static void bus_address(struct kunit *test)
{
	u64 a;

	KUNIT_EXPECT_EQ(test, vmsg_ffa_bus_addr(1, 0), 1ULL << 48);
	a = vmsg_ffa_bus_addr(1, 0x123456789aULL);
	KUNIT_EXPECT_EQ(test, a, 0x000100123456789aULL);
	KUNIT_EXPECT_EQ(test, vmsg_ffa_addr_area(a), 1);
	KUNIT_EXPECT_EQ(test, vmsg_ffa_addr_offset(a), 0x123456789aULL);

	a = vmsg_ffa_bus_addr(0xffff, VIRTIO_MSG_FFA_OFFSET_MASK);
	KUNIT_EXPECT_EQ(test, a, ~0ULL);
	KUNIT_EXPECT_EQ(test, vmsg_ffa_addr_area(a), 0xffff);
	KUNIT_EXPECT_EQ(test, vmsg_ffa_addr_offset(a),
			VIRTIO_MSG_FFA_OFFSET_MASK);

	/* An offset cannot spill into the area ID. */
	KUNIT_EXPECT_EQ(test, vmsg_ffa_bus_addr(1, 1ULL << 48), 1ULL << 48);
	KUNIT_EXPECT_EQ(test, vmsg_ffa_bus_addr(2, ~0ULL),
			(2ULL << 48) | VIRTIO_MSG_FFA_OFFSET_MASK);
	/* Area 0 is no area: its addresses decode to area 0. */
	KUNIT_EXPECT_EQ(test, vmsg_ffa_addr_area(0x40000000ULL), 0);
}

static struct kunit_case vmsg_ffa_cases[] = {
	KUNIT_CASE(regs_layout),
	KUNIT_CASE(regs_round_trip),
	KUNIT_CASE(regs_busy),
	KUNIT_CASE(answers),
	KUNIT_CASE(error_answer),
	KUNIT_CASE(poll_empty),
	KUNIT_CASE(area_release),
	KUNIT_CASE(version_forms),
	KUNIT_CASE(version_check),
	KUNIT_CASE(bus_address),
	{ }
};

static struct kunit_suite vmsg_ffa_suite = {
	.name = "virtio_msg_ffa",
	.test_cases = vmsg_ffa_cases,
};

kunit_test_suite(vmsg_ffa_suite);

MODULE_DESCRIPTION("KUnit tests of the virtio-msg FF-A bus's codecs");
MODULE_LICENSE("GPL");

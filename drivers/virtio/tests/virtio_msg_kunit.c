// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for the virtio-msg message build and validation helpers.
 *
 * Messages under test are described as header fields plus the payload
 * bytes exactly as they appear on the wire (little-endian), and copied
 * into a buffer allocated with the size the helper is told about, so that
 * KASAN reports any access past it.
 */

#include <kunit/test.h>
#include <linux/bits.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/virtio_msg.h>

#include "../virtio_msg_internal.h"

#define T_REQ		0
#define T_RESP		VIRTIO_MSG_TYPE_RESPONSE
#define T_BUS		VIRTIO_MSG_TYPE_BUS
#define T_BUS_RESP	(VIRTIO_MSG_TYPE_BUS | VIRTIO_MSG_TYPE_RESPONSE)

/* The recommended maximum message size, used unless a case says otherwise. */
#define MAX_DEFAULT	VIRTIO_MSG_MAX_SIZE_RECOMMENDED

/*
 * Size fields where 0 means "the natural value": EXPLICIT(n) forces n,
 * including 0.
 */
#define EXPLICIT(n)	(BIT(16) | (n))

/* Payload bytes given as a string literal, with their count. */
#define PL(s)		.payload = (s), .plen = sizeof(s) - 1

/* A zero le32 and le16 on the wire. */
#define Z32		"\x00\x00\x00\x00"
#define Z16		"\x00\x00"

/* Wire generation of a case: 0 (unset) means v1. */
#define V2		VIRTIO_MSG_WIRE_V2

static u8 vmsg_wire(u8 wire)
{
	return wire ?: VIRTIO_MSG_WIRE_V1;
}

/**
 * struct vmsg_msg - description of a message under test
 * @type: header type byte
 * @msg_id: header message ID
 * @dev_num: header device number
 * @token: header token
 * @payload: payload bytes; NULL for @plen zero bytes
 * @plen: payload length
 * @msg_size: header msg_size; 0 for 8 + @plen, EXPLICIT(n) for n
 */
struct vmsg_msg {
	u8 type;
	u8 msg_id;
	u16 dev_num;
	u16 token;
	const char *payload;
	size_t plen;
	u32 msg_size;
};

static size_t vmsg_pick(u32 val, size_t dflt)
{
	if (!val)
		return dflt;
	return val & ~BIT(16);
}

/*
 * Lay @m out in a zeroed buffer of exactly @len bytes (at least one, so the
 * pointer is real), truncating it if @len is short.
 */
static struct virtio_msg_hdr *vmsg_build(struct kunit *test,
					 const struct vmsg_msg *m, size_t len)
{
	struct virtio_msg_hdr hdr = {
		.type = m->type,
		.msg_id = m->msg_id,
		.dev_num = cpu_to_le16(m->dev_num),
		.token = cpu_to_le16(m->token),
		.msg_size = cpu_to_le16(vmsg_pick(m->msg_size,
						  sizeof(hdr) + m->plen)),
	};
	u8 *buf;

	buf = kunit_kzalloc(test, max_t(size_t, len, 1), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);

	memcpy(buf, &hdr, min(len, sizeof(hdr)));
	if (m->payload && len > sizeof(hdr))
		memcpy(buf + sizeof(hdr), m->payload,
		       min(len - sizeof(hdr), m->plen));
	return (struct virtio_msg_hdr *)buf;
}

/* ---- virtio_msg_init_*() ---- */

enum vmsg_build_kind {
	BUILD_REQUEST,
	BUILD_BUS_REQUEST,
	BUILD_RESPONSE,
};

/**
 * struct vmsg_build_case - a build helper call and its expected result
 * @desc: case name
 * @kind: which helper to call
 * @msg_id: message ID (requests)
 * @dev_num: device number (transport requests)
 * @req: request answered (responses)
 * @payload_len: payload length asked for
 * @max_size: buffer size handed to the helper
 * @ret: expected return value
 * @wire: expected header bytes when @ret is positive
 */
struct vmsg_build_case {
	const char *desc;
	enum vmsg_build_kind kind;
	u8 msg_id;
	u16 dev_num;
	struct vmsg_msg req;
	size_t payload_len;
	size_t max_size;
	int ret;
	const char *wire;
};

static const struct vmsg_build_case vmsg_build_cases[] = {
	{
		.desc = "GET_DEVICE_INFO request, no payload",
		.kind = BUILD_REQUEST, .msg_id = VIRTIO_MSG_GET_DEVICE_INFO,
		.dev_num = 0x0102, .payload_len = 0, .max_size = 8,
		.ret = 8, .wire = "\x00\x02\x02\x01\x00\x00\x08\x00",
	}, {
		.desc = "GET_CONFIG request, le16 dev_num and msg_size",
		.kind = BUILD_REQUEST, .msg_id = VIRTIO_MSG_GET_CONFIG,
		.dev_num = 0xabcd, .payload_len = 8, .max_size = MAX_DEFAULT,
		.ret = 16, .wire = "\x00\x05\xcd\xab\x00\x00\x10\x00",
	}, {
		.desc = "EVENT_AVAIL, an event: no response bit, token 0",
		.kind = BUILD_REQUEST, .msg_id = VIRTIO_MSG_EVENT_AVAIL,
		.dev_num = 7, .payload_len = 8, .max_size = MAX_DEFAULT,
		.ret = 16, .wire = "\x00\x41\x07\x00\x00\x00\x10\x00",
	}, {
		.desc = "SET_VQUEUE request filling the buffer exactly",
		.kind = BUILD_REQUEST, .msg_id = VIRTIO_MSG_SET_VQUEUE,
		.dev_num = 0, .payload_len = 40, .max_size = 48,
		.ret = 48, .wire = "\x00\x0a\x00\x00\x00\x00\x30\x00",
	}, {
		.desc = "SET_CONFIG request one byte too large",
		.kind = BUILD_REQUEST, .msg_id = VIRTIO_MSG_SET_CONFIG,
		.payload_len = 41, .max_size = 48, .ret = -EMSGSIZE,
	}, {
		.desc = "buffer smaller than a header",
		.kind = BUILD_REQUEST, .msg_id = VIRTIO_MSG_GET_DEVICE_STATUS,
		.payload_len = 0, .max_size = 4, .ret = -EMSGSIZE,
	}, {
		.desc = "largest message msg_size can describe",
		.kind = BUILD_REQUEST, .msg_id = VIRTIO_MSG_SET_CONFIG,
		.dev_num = 1, .payload_len = 65527, .max_size = 65535,
		.ret = 65535, .wire = "\x00\x06\x01\x00\x00\x00\xff\xff",
	}, {
		.desc = "msg_size would wrap a le16, large buffer",
		.kind = BUILD_REQUEST, .msg_id = VIRTIO_MSG_SET_CONFIG,
		.payload_len = 65528, .max_size = 65544, .ret = -EMSGSIZE,
	}, {
		.desc = "payload_len SIZE_MAX, no overflow",
		.kind = BUILD_REQUEST, .msg_id = VIRTIO_MSG_SET_CONFIG,
		.payload_len = SIZE_MAX, .max_size = 64, .ret = -EMSGSIZE,
	}, {
		.desc = "bus GET_DEVICES request",
		.kind = BUILD_BUS_REQUEST, .msg_id = VIRTIO_MSG_BUS_GET_DEVICES,
		.payload_len = 4, .max_size = MAX_DEFAULT,
		.ret = 12, .wire = "\x02\x02\x00\x00\x00\x00\x0c\x00",
	}, {
		.desc = "bus PING request",
		.kind = BUILD_BUS_REQUEST, .msg_id = VIRTIO_MSG_BUS_PING,
		.payload_len = 4, .max_size = 12,
		.ret = 12, .wire = "\x02\x03\x00\x00\x00\x00\x0c\x00",
	}, {
		.desc = "bus PING request too large",
		.kind = BUILD_BUS_REQUEST, .msg_id = VIRTIO_MSG_BUS_PING,
		.payload_len = 4, .max_size = 11, .ret = -EMSGSIZE,
	}, {
		.desc = "response to a bus PING echoes token",
		.kind = BUILD_RESPONSE,
		.req = { .type = T_BUS, .msg_id = VIRTIO_MSG_BUS_PING,
			 .token = 0xbeef, .plen = 4 },
		.payload_len = 4, .max_size = MAX_DEFAULT,
		.ret = 12, .wire = "\x03\x03\x00\x00\xef\xbe\x0c\x00",
	}, {
		.desc = "response drops reserved type bits of the request",
		.kind = BUILD_RESPONSE,
		.req = { .type = T_BUS | VIRTIO_MSG_TYPE_RESERVED,
			 .msg_id = VIRTIO_MSG_BUS_PING, .token = 1, .plen = 4 },
		.payload_len = 4, .max_size = MAX_DEFAULT,
		.ret = 12, .wire = "\x03\x03\x00\x00\x01\x00\x0c\x00",
	}, {
		.desc = "response to a transport request echoes dev_num",
		.kind = BUILD_RESPONSE,
		.req = { .type = T_REQ, .msg_id = VIRTIO_MSG_GET_DEVICE_STATUS,
			 .dev_num = 0x1234, .token = 0x0102 },
		.payload_len = 4, .max_size = MAX_DEFAULT,
		.ret = 12, .wire = "\x01\x07\x34\x12\x02\x01\x0c\x00",
	}, {
		.desc = "response too large",
		.kind = BUILD_RESPONSE,
		.req = { .type = T_BUS, .msg_id = VIRTIO_MSG_BUS_PING,
			 .plen = 4 },
		.payload_len = 4, .max_size = 8, .ret = -EMSGSIZE,
	},
};

static void vmsg_build_case_desc(const struct vmsg_build_case *c, char *desc)
{
	strscpy(desc, c->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(vmsg_build, vmsg_build_cases, vmsg_build_case_desc);

static void vmsg_test_build(struct kunit *test)
{
	const struct vmsg_build_case *c = test->param_value;
	struct virtio_msg_hdr *msg, *req;
	size_t i;
	u8 *buf;
	int ret;

	buf = kunit_kmalloc(test, c->max_size, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	memset(buf, 0xa5, c->max_size);
	msg = (struct virtio_msg_hdr *)buf;

	switch (c->kind) {
	case BUILD_REQUEST:
		ret = virtio_msg_init_request(msg, c->max_size, c->msg_id,
					      c->dev_num, c->payload_len);
		break;
	case BUILD_BUS_REQUEST:
		ret = virtio_msg_init_bus_request(msg, c->max_size, c->msg_id,
						  c->payload_len);
		break;
	default:
		req = vmsg_build(test, &c->req, sizeof(*req) + c->req.plen);
		ret = virtio_msg_init_response(msg, c->max_size, req,
					       c->payload_len);
		break;
	}
	KUNIT_ASSERT_EQ(test, ret, c->ret);

	if (ret < 0) {
		/* A failed build leaves the buffer alone. */
		KUNIT_EXPECT_NULL(test, memchr_inv(buf, 0xa5, c->max_size));
		return;
	}

	KUNIT_EXPECT_MEMEQ(test, buf, c->wire, sizeof(*msg));
	KUNIT_EXPECT_EQ(test, virtio_msg_payload_size(msg), c->payload_len);
	/* Payload zeroed, nothing written past the message. */
	KUNIT_EXPECT_NULL(test, memchr_inv(buf + sizeof(*msg), 0,
					   c->payload_len));
	for (i = ret; i < c->max_size; i++)
		KUNIT_ASSERT_EQ_MSG(test, buf[i], 0xa5, "byte %zu", i);
}

/* Payload fields go out little-endian, where the wire format puts them. */
static void vmsg_test_build_payload(struct kunit *test)
{
	static const u8 wire[] = {
		0x00, 0x0a, 0x03, 0x00, 0x00, 0x00, 0x30, 0x00,
		0x02, 0x00, 0x00, 0x00,		/* index */
		0x00, 0x00, 0x00, 0x00,		/* reserved (max_size) */
		0x00, 0x01, 0x00, 0x00,		/* size */
		0x00, 0x00, 0x00, 0x00,		/* reserved */
		0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,
		0x18, 0x17, 0x16, 0x15, 0x14, 0x13, 0x12, 0x11,
		0x28, 0x27, 0x26, 0x25, 0x24, 0x23, 0x22, 0x21,
	};
	struct virtio_msg_vqueue *vq;
	struct virtio_msg_hdr *msg;
	int ret;

	msg = kunit_kmalloc(test, sizeof(wire), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, msg);
	memset(msg, 0xff, sizeof(wire));

	ret = virtio_msg_init_request(msg, sizeof(wire), VIRTIO_MSG_SET_VQUEUE,
				      3, sizeof(*vq));
	KUNIT_ASSERT_EQ(test, ret, (int)sizeof(wire));

	vq = virtio_msg_payload(msg);
	vq->index = cpu_to_le32(2);
	vq->size = cpu_to_le32(256);
	vq->desc_addr = cpu_to_le64(0x0102030405060708ULL);
	vq->driver_addr = cpu_to_le64(0x1112131415161718ULL);
	vq->device_addr = cpu_to_le64(0x2122232425262728ULL);

	KUNIT_EXPECT_MEMEQ(test, msg, wire, sizeof(wire));
}

/* ---- virtio_msg_validate() ---- */

/**
 * struct vmsg_validate_case - an inbound message and the verdict expected
 * @desc: case name
 * @msg: the message
 * @len: bytes received; 0 for the msg_size of @msg, EXPLICIT(n) for n
 * @max_size: bus maximum; 0 for MAX_DEFAULT, EXPLICIT(n) for n
 * @wire: wire generation; 0 for v1
 * @err: expected return value
 */
struct vmsg_validate_case {
	const char *desc;
	struct vmsg_msg msg;
	u32 len;
	u32 max_size;
	u8 wire;
	int err;
};

static const struct vmsg_validate_case vmsg_validate_cases[] = {
	/* Well-formed messages of every ID the device side may send. */
	{
		.desc = "GET_DEVICE_INFO response",
		.msg = { .type = T_RESP, .msg_id = VIRTIO_MSG_GET_DEVICE_INFO,
			 .dev_num = 3, .token = 1,
			 PL("\x01\x00\x00\x00" /* device_id */
			    "\xf4\x1a\x00\x00" /* vendor_id */
			    "\x40\x00\x00\x00" /* num_feature_bits */
			    "\x08\x00\x00\x00" /* config_size */
			    "\x02\x00\x00\x00" /* max_virtqueues */
			    Z16 Z16) },
	}, {
		.desc = "GET_DEVICE_FEATURES response, 0 blocks",
		.msg = { .type = T_RESP,
			 .msg_id = VIRTIO_MSG_GET_DEVICE_FEATURES,
			 PL(Z32 Z32) },
	}, {
		.desc = "GET_DEVICE_FEATURES response, 2 blocks",
		.msg = { .type = T_RESP,
			 .msg_id = VIRTIO_MSG_GET_DEVICE_FEATURES,
			 PL(Z32 "\x02\x00\x00\x00"
			    "\x01\x00\x00\x00"
			    "\x01\x00\x00\x00") },
	}, {
		.desc = "SET_DRIVER_FEATURES response",
		.msg = { .type = T_RESP,
			 .msg_id = VIRTIO_MSG_SET_DRIVER_FEATURES },
	}, {
		.desc = "GET_CONFIG response, 4 bytes",
		.msg = { .type = T_RESP, .msg_id = VIRTIO_MSG_GET_CONFIG,
			 PL("\x07\x00\x00\x00"
			    "\x10\x00\x00\x00"
			    "\x04\x00\x00\x00"
			    "\xde\xad\xbe\xef") },
	}, {
		.desc = "GET_CONFIG response, 0 bytes",
		.msg = { .type = T_RESP, .msg_id = VIRTIO_MSG_GET_CONFIG,
			 PL(Z32 Z32 Z32) },
	}, {
		.desc = "GET_CONFIG response ending at 4 GiB",
		.msg = { .type = T_RESP, .msg_id = VIRTIO_MSG_GET_CONFIG,
			 PL(Z32 "\xfc\xff\xff\xff"
			    "\x04\x00\x00\x00" Z32) },
	}, {
		.desc = "SET_CONFIG response without echo",
		.msg = { .type = T_RESP, .msg_id = VIRTIO_MSG_SET_CONFIG,
			 PL(Z32 Z32 "\x04\x00\x00\x00") },
	}, {
		.desc = "SET_CONFIG response with echo",
		.msg = { .type = T_RESP, .msg_id = VIRTIO_MSG_SET_CONFIG,
			 PL(Z32 Z32 "\x04\x00\x00\x00"
			    "\x01\x02\x03\x04") },
	}, {
		.desc = "SET_CONFIG response, write rejected",
		.msg = { .type = T_RESP, .msg_id = VIRTIO_MSG_SET_CONFIG,
			 PL(Z32 Z32 Z32) },
	}, {
		.desc = "GET_DEVICE_STATUS response",
		.msg = { .type = T_RESP,
			 .msg_id = VIRTIO_MSG_GET_DEVICE_STATUS,
			 PL("\x0f\x00\x00\x00") },
	}, {
		.desc = "SET_DEVICE_STATUS response",
		.msg = { .type = T_RESP,
			 .msg_id = VIRTIO_MSG_SET_DEVICE_STATUS,
			 PL("\x07\x00\x00\x00") },
	}, {
		.desc = "GET_VQUEUE response",
		.msg = { .type = T_RESP, .msg_id = VIRTIO_MSG_GET_VQUEUE,
			 .plen = 40 },
	}, {
		.desc = "SET_VQUEUE response",
		.msg = { .type = T_RESP, .msg_id = VIRTIO_MSG_SET_VQUEUE },
	}, {
		.desc = "RESET_VQUEUE response",
		.msg = { .type = T_RESP, .msg_id = VIRTIO_MSG_RESET_VQUEUE },
	}, {
		.desc = "GET_SHM response",
		.msg = { .type = T_RESP, .msg_id = VIRTIO_MSG_GET_SHM,
			 .plen = 12 },
	}, {
		.desc = "EVENT_CONFIG with data",
		.msg = { .type = T_REQ, .msg_id = VIRTIO_MSG_EVENT_CONFIG,
			 PL("\x0f\x00\x00\x00"
			    "\x02\x00\x00\x00" Z32
			    "\x04\x00\x00\x00"
			    "\x01\x02\x03\x04") },
	}, {
		.desc = "EVENT_CONFIG, length 0",
		.msg = { .type = T_REQ, .msg_id = VIRTIO_MSG_EVENT_CONFIG,
			 .plen = 16 },
	}, {
		.desc = "EVENT_CONFIG naming a range, data left out",
		.msg = { .type = T_REQ, .msg_id = VIRTIO_MSG_EVENT_CONFIG,
			 PL(Z32 "\x02\x00\x00\x00"
			    "\x04\x00\x00\x00"
			    "\x08\x00\x00\x00") },
	}, {
		.desc = "EVENT_USED",
		.msg = { .type = T_REQ, .msg_id = VIRTIO_MSG_EVENT_USED,
			 PL("\x01\x00\x00\x00") },
	}, {
		.desc = "bus GET_DEVICES response, 16 devices",
		.msg = { .type = T_BUS_RESP,
			 .msg_id = VIRTIO_MSG_BUS_GET_DEVICES,
			 PL(Z16 "\x10\x00"
			    "\x10\x00"
			    "\x25\x00") },
	}, {
		.desc = "bus GET_DEVICES response, empty last window",
		.msg = { .type = T_BUS_RESP,
			 .msg_id = VIRTIO_MSG_BUS_GET_DEVICES,
			 PL("\x08\x00" Z16 Z16) },
	}, {
		.desc = "bus GET_DEVICES response, window ends at 0xffff",
		.msg = { .type = T_BUS_RESP,
			 .msg_id = VIRTIO_MSG_BUS_GET_DEVICES,
			 PL("\xf0\xff"
			    "\x10\x00" Z16 "\x01\x80") },
	}, {
		.desc = "bus PING response",
		.msg = { .type = T_BUS_RESP, .msg_id = VIRTIO_MSG_BUS_PING,
			 PL("\x78\x56\x34\x12") },
	}, {
		.desc = "bus PING request from the device side",
		.msg = { .type = T_BUS, .msg_id = VIRTIO_MSG_BUS_PING,
			 .token = 9, PL("\x78\x56\x34\x12") },
	}, {
		.desc = "bus EVENT_DEVICE ready",
		.msg = { .type = T_BUS, .msg_id = VIRTIO_MSG_BUS_EVENT_DEVICE,
			 PL("\x05\x00\x01\x00") },
	}, {
		.desc = "bus EVENT_DEVICE, reserved state left to hotplug",
		.msg = { .type = T_BUS, .msg_id = VIRTIO_MSG_BUS_EVENT_DEVICE,
			 PL("\x05\x00\x03\x00") },
	}, {
		.desc = "bus message with non-zero dev_num",
		.msg = { .type = T_BUS, .msg_id = VIRTIO_MSG_BUS_EVENT_DEVICE,
			 .dev_num = 4, PL("\x05\x00\x02\x00") },
	}, {
		.desc = "reserved type bits ignored",
		.msg = { .type = T_RESP | VIRTIO_MSG_TYPE_RESERVED,
			 .msg_id = VIRTIO_MSG_GET_DEVICE_STATUS,
			 PL("\x0f\x00\x00\x00") },
	}, {
		.desc = "buffer longer than msg_size",
		.msg = { .type = T_RESP, .msg_id = VIRTIO_MSG_GET_DEVICE_STATUS,
			 PL("\x0f\x00\x00\x00") },
		.len = 64,
	}, {
		.desc = "msg_size equal to the bus maximum",
		.msg = { .type = T_RESP, .msg_id = VIRTIO_MSG_GET_CONFIG,
			 PL(Z32 Z32 "\x20\x00\x00\x00"), .msg_size = 52 },
		.max_size = 52,
	},

	/* Size bounds. */
	{
		.desc = "nothing received",
		.msg = { .type = T_RESP, .msg_id = VIRTIO_MSG_SET_VQUEUE },
		.len = EXPLICIT(0), .err = -EMSGSIZE,
	}, {
		.desc = "short header",
		.msg = { .type = T_RESP, .msg_id = VIRTIO_MSG_SET_VQUEUE },
		.len = 7, .err = -EMSGSIZE,
	}, {
		.desc = "msg_size 0",
		.msg = { .type = T_RESP, .msg_id = VIRTIO_MSG_SET_VQUEUE,
			 .msg_size = EXPLICIT(0) },
		.len = 8, .err = -EMSGSIZE,
	}, {
		.desc = "msg_size smaller than the header",
		.msg = { .type = T_RESP, .msg_id = VIRTIO_MSG_SET_VQUEUE,
			 .msg_size = 7 },
		.len = 8, .err = -EMSGSIZE,
	}, {
		.desc = "msg_size larger than the buffer",
		.msg = { .type = T_RESP, .msg_id = VIRTIO_MSG_GET_VQUEUE,
			 .plen = 40 },
		.len = 47, .err = -EMSGSIZE,
	}, {
		.desc = "msg_size 0xffff, 16 bytes received",
		.msg = { .type = T_RESP, .msg_id = VIRTIO_MSG_GET_CONFIG,
			 PL(Z32 Z32 "\xeb\xff\x00\x00"),
			 .msg_size = 0xffff },
		.len = 16, .err = -EMSGSIZE,
	}, {
		.desc = "msg_size larger than the bus maximum",
		.msg = { .type = T_RESP, .msg_id = VIRTIO_MSG_GET_CONFIG,
			 PL(Z32 Z32 "\x21\x00\x00\x00"), .msg_size = 53 },
		.len = 64, .max_size = 52, .err = -EMSGSIZE,
	}, {
		.desc = "bus maximum 0",
		.msg = { .type = T_RESP, .msg_id = VIRTIO_MSG_SET_VQUEUE },
		.max_size = EXPLICIT(0), .err = -EMSGSIZE,
	},

	/* Message IDs this side does not know or may not receive. */
	{
		.desc = "reserved transport ID 0x00",
		.msg = { .type = T_RESP, .msg_id = 0x00 },
		.err = -EOPNOTSUPP,
	}, {
		.desc = "reserved transport ID 0x01 (old ERROR)",
		.msg = { .type = T_RESP, .msg_id = 0x01, .plen = 4 },
		.err = -EOPNOTSUPP,
	}, {
		.desc = "unknown transport response 0x0d",
		.msg = { .type = T_RESP, .msg_id = 0x0d },
		.err = -EOPNOTSUPP,
	}, {
		.desc = "unknown transport event 0x43",
		.msg = { .type = T_REQ, .msg_id = 0x43, .plen = 4 },
		.err = -EOPNOTSUPP,
	}, {
		.desc = "implementation-defined transport response",
		.msg = { .type = T_RESP, .msg_id = VIRTIO_MSG_ID_IMPL },
		.err = -EOPNOTSUPP,
	}, {
		.desc = "implementation-defined transport event",
		.msg = { .type = T_REQ, .msg_id = 0xc0 },
		.err = -EOPNOTSUPP,
	}, {
		.desc = "unknown bus response 0x04",
		.msg = { .type = T_BUS_RESP, .msg_id = 0x04 },
		.err = -EOPNOTSUPP,
	}, {
		.desc = "implementation-defined bus response",
		.msg = { .type = T_BUS_RESP, .msg_id = 0x80, .plen = 22 },
		.err = -EOPNOTSUPP,
	}, {
		.desc = "unknown bus event 0x41",
		.msg = { .type = T_BUS, .msg_id = 0x41, .plen = 4 },
		.err = -EOPNOTSUPP,
	}, {
		.desc = "EVENT_AVAIL from the device",
		.msg = { .type = T_REQ, .msg_id = VIRTIO_MSG_EVENT_AVAIL,
			 .plen = 8 },
		.err = -EPROTO,
	}, {
		.desc = "GET_CONFIG request from the device",
		.msg = { .type = T_REQ, .msg_id = VIRTIO_MSG_GET_CONFIG,
			 .plen = 8 },
		.err = -EPROTO,
	}, {
		.desc = "GET_DEVICE_INFO request from the device",
		.msg = { .type = T_REQ, .msg_id = VIRTIO_MSG_GET_DEVICE_INFO },
		.err = -EPROTO,
	}, {
		.desc = "GET_SHM request from the device",
		.msg = { .type = T_REQ, .msg_id = VIRTIO_MSG_GET_SHM,
			 .plen = 4 },
		.err = -EPROTO,
	}, {
		.desc = "bus GET_DEVICES request from the device",
		.msg = { .type = T_BUS, .msg_id = VIRTIO_MSG_BUS_GET_DEVICES,
			 .plen = 4 },
		.err = -EPROTO,
	}, {
		.desc = "EVENT_CONFIG with the response bit",
		.msg = { .type = T_RESP, .msg_id = VIRTIO_MSG_EVENT_CONFIG,
			 .plen = 16 },
		.err = -EPROTO,
	}, {
		.desc = "EVENT_USED with the response bit",
		.msg = { .type = T_RESP, .msg_id = VIRTIO_MSG_EVENT_USED,
			 .plen = 4 },
		.err = -EPROTO,
	}, {
		.desc = "bus EVENT_DEVICE with the response bit",
		.msg = { .type = T_BUS_RESP,
			 .msg_id = VIRTIO_MSG_BUS_EVENT_DEVICE, .plen = 4 },
		.err = -EPROTO,
	}, {
		.desc = "implementation-defined event with the response bit",
		.msg = { .type = T_RESP, .msg_id = 0xc1 },
		.err = -EPROTO,
	},

	/* Payload length per message ID. */
	{
		.desc = "GET_DEVICE_INFO response, 20 bytes",
		.msg = { .type = T_RESP, .msg_id = VIRTIO_MSG_GET_DEVICE_INFO,
			 .plen = 20 },
		.err = -EBADMSG,
	}, {
		.desc = "GET_DEVICE_INFO response, 28 bytes",
		.msg = { .type = T_RESP, .msg_id = VIRTIO_MSG_GET_DEVICE_INFO,
			 .plen = 28 },
		.err = -EBADMSG,
	}, {
		.desc = "GET_DEVICE_FEATURES response, 4 bytes",
		.msg = { .type = T_RESP,
			 .msg_id = VIRTIO_MSG_GET_DEVICE_FEATURES,
			 PL(Z32) },
		.err = -EBADMSG,
	}, {
		.desc = "GET_DEVICE_FEATURES response, 3 blocks claimed, 2 sent",
		.msg = { .type = T_RESP,
			 .msg_id = VIRTIO_MSG_GET_DEVICE_FEATURES,
			 PL(Z32 "\x03\x00\x00\x00" Z32 Z32) },
		.err = -EBADMSG,
	}, {
		.desc = "GET_DEVICE_FEATURES response, 1 block claimed, 2 sent",
		.msg = { .type = T_RESP,
			 .msg_id = VIRTIO_MSG_GET_DEVICE_FEATURES,
			 PL(Z32 "\x01\x00\x00\x00" Z32 Z32) },
		.err = -EBADMSG,
	}, {
		.desc = "GET_DEVICE_FEATURES response, num_blocks 0xffffffff",
		.msg = { .type = T_RESP,
			 .msg_id = VIRTIO_MSG_GET_DEVICE_FEATURES,
			 PL(Z32 "\xff\xff\xff\xff" Z32) },
		.err = -EBADMSG,
	}, {
		.desc = "GET_DEVICE_FEATURES response, num_blocks 0x40000001",
		.msg = { .type = T_RESP,
			 .msg_id = VIRTIO_MSG_GET_DEVICE_FEATURES,
			 PL(Z32 "\x01\x00\x00\x40" Z32) },
		.err = -EBADMSG,
	}, {
		.desc = "GET_DEVICE_FEATURES response, partial block",
		.msg = { .type = T_RESP,
			 .msg_id = VIRTIO_MSG_GET_DEVICE_FEATURES,
			 PL(Z32 "\x01\x00\x00\x00" Z16) },
		.err = -EBADMSG,
	}, {
		.desc = "SET_DRIVER_FEATURES response with payload",
		.msg = { .type = T_RESP,
			 .msg_id = VIRTIO_MSG_SET_DRIVER_FEATURES, .plen = 4 },
		.err = -EBADMSG,
	}, {
		.desc = "GET_CONFIG response, 8 bytes",
		.msg = { .type = T_RESP, .msg_id = VIRTIO_MSG_GET_CONFIG,
			 PL(Z32 Z32) },
		.err = -EBADMSG,
	}, {
		.desc = "GET_CONFIG response, length beyond msg_size",
		.msg = { .type = T_RESP, .msg_id = VIRTIO_MSG_GET_CONFIG,
			 PL(Z32 Z32 "\x05\x00\x00\x00" Z32) },
		.err = -EBADMSG,
	}, {
		.desc = "GET_CONFIG response, length 0xffffffff",
		.msg = { .type = T_RESP, .msg_id = VIRTIO_MSG_GET_CONFIG,
			 PL(Z32 Z32 "\xff\xff\xff\xff" Z32) },
		.err = -EBADMSG,
	}, {
		.desc = "GET_CONFIG response, length short of the data",
		.msg = { .type = T_RESP, .msg_id = VIRTIO_MSG_GET_CONFIG,
			 PL(Z32 Z32 "\x02\x00\x00\x00" Z32) },
		.err = -EBADMSG,
	}, {
		.desc = "GET_CONFIG response, range wraps at 4 GiB",
		.msg = { .type = T_RESP, .msg_id = VIRTIO_MSG_GET_CONFIG,
			 PL(Z32 "\xfe\xff\xff\xff"
			    "\x04\x00\x00\x00" Z32) },
		.err = -EBADMSG,
	}, {
		.desc = "SET_CONFIG response, 8 bytes",
		.msg = { .type = T_RESP, .msg_id = VIRTIO_MSG_SET_CONFIG,
			 PL(Z32 Z32) },
		.err = -EBADMSG,
	}, {
		.desc = "SET_CONFIG response, partial echo",
		.msg = { .type = T_RESP, .msg_id = VIRTIO_MSG_SET_CONFIG,
			 PL(Z32 Z32 "\x04\x00\x00\x00" Z16) },
		.err = -EBADMSG,
	}, {
		.desc = "SET_CONFIG response, range wraps at 4 GiB",
		.msg = { .type = T_RESP, .msg_id = VIRTIO_MSG_SET_CONFIG,
			 PL(Z32 "\x04\x00\x00\x00"
			    "\xff\xff\xff\xff") },
		.err = -EBADMSG,
	}, {
		.desc = "GET_DEVICE_STATUS response, empty",
		.msg = { .type = T_RESP,
			 .msg_id = VIRTIO_MSG_GET_DEVICE_STATUS },
		.err = -EBADMSG,
	}, {
		.desc = "SET_DEVICE_STATUS response, 8 bytes",
		.msg = { .type = T_RESP,
			 .msg_id = VIRTIO_MSG_SET_DEVICE_STATUS, .plen = 8 },
		.err = -EBADMSG,
	}, {
		.desc = "GET_VQUEUE response in the old 32-byte layout",
		.msg = { .type = T_RESP, .msg_id = VIRTIO_MSG_GET_VQUEUE,
			 .plen = 32 },
		.err = -EBADMSG,
	}, {
		.desc = "GET_VQUEUE response, 44 bytes",
		.msg = { .type = T_RESP, .msg_id = VIRTIO_MSG_GET_VQUEUE,
			 .plen = 44 },
		.err = -EBADMSG,
	}, {
		.desc = "SET_VQUEUE response with payload",
		.msg = { .type = T_RESP, .msg_id = VIRTIO_MSG_SET_VQUEUE,
			 .plen = 40 },
		.err = -EBADMSG,
	}, {
		.desc = "RESET_VQUEUE response with payload",
		.msg = { .type = T_RESP, .msg_id = VIRTIO_MSG_RESET_VQUEUE,
			 .plen = 4 },
		.err = -EBADMSG,
	}, {
		.desc = "GET_SHM response, 8 bytes",
		.msg = { .type = T_RESP, .msg_id = VIRTIO_MSG_GET_SHM,
			 .plen = 8 },
		.err = -EBADMSG,
	}, {
		.desc = "EVENT_CONFIG, 12 bytes",
		.msg = { .type = T_REQ, .msg_id = VIRTIO_MSG_EVENT_CONFIG,
			 .plen = 12 },
		.err = -EBADMSG,
	}, {
		.desc = "EVENT_CONFIG, length 0xffffffff",
		.msg = { .type = T_REQ, .msg_id = VIRTIO_MSG_EVENT_CONFIG,
			 PL(Z32 Z32 Z32 "\xff\xff\xff\xff" Z32) },
		.err = -EBADMSG,
	}, {
		.desc = "EVENT_CONFIG, length beyond msg_size",
		.msg = { .type = T_REQ, .msg_id = VIRTIO_MSG_EVENT_CONFIG,
			 PL(Z32 Z32 Z32 "\x08\x00\x00\x00" Z32) },
		.err = -EBADMSG,
	}, {
		.desc = "EVENT_CONFIG, length short of the data",
		.msg = { .type = T_REQ, .msg_id = VIRTIO_MSG_EVENT_CONFIG,
			 PL(Z32 Z32 Z32 "\x04\x00\x00\x00" Z32 Z32) },
		.err = -EBADMSG,
	}, {
		.desc = "EVENT_CONFIG without data, range wraps at 4 GiB",
		.msg = { .type = T_REQ, .msg_id = VIRTIO_MSG_EVENT_CONFIG,
			 PL(Z32 Z32 "\xff\xff\xff\xff"
			    "\x02\x00\x00\x00") },
		.err = -EBADMSG,
	}, {
		.desc = "EVENT_USED, empty",
		.msg = { .type = T_REQ, .msg_id = VIRTIO_MSG_EVENT_USED },
		.err = -EBADMSG,
	}, {
		.desc = "EVENT_USED, 8 bytes",
		.msg = { .type = T_REQ, .msg_id = VIRTIO_MSG_EVENT_USED,
			 .plen = 8 },
		.err = -EBADMSG,
	}, {
		.desc = "bus GET_DEVICES response, 4 bytes",
		.msg = { .type = T_BUS_RESP,
			 .msg_id = VIRTIO_MSG_BUS_GET_DEVICES, PL(Z16 Z16) },
		.err = -EBADMSG,
	}, {
		.desc = "bus GET_DEVICES response, count not a multiple of 8",
		.msg = { .type = T_BUS_RESP,
			 .msg_id = VIRTIO_MSG_BUS_GET_DEVICES,
			 PL(Z16 "\x0c\x00" Z16 "\xff\x0f") },
		.err = -EBADMSG,
	}, {
		.desc = "bus GET_DEVICES response, count 0xff",
		.msg = { .type = T_BUS_RESP,
			 .msg_id = VIRTIO_MSG_BUS_GET_DEVICES,
			 PL(Z16 "\xff\x00" Z16), .msg_size = 45 },
		.err = -EBADMSG,
	}, {
		.desc = "bus GET_DEVICES response, offset not a multiple of 8",
		.msg = { .type = T_BUS_RESP,
			 .msg_id = VIRTIO_MSG_BUS_GET_DEVICES,
			 PL("\x04\x00"
			    "\x08\x00" Z16 "\x01") },
		.err = -EBADMSG,
	}, {
		.desc = "bus GET_DEVICES response, next_offset not a multiple of 8",
		.msg = { .type = T_BUS_RESP,
			 .msg_id = VIRTIO_MSG_BUS_GET_DEVICES,
			 PL(Z16 "\x08\x00"
			    "\x0c\x00"
			    "\x01") },
		.err = -EBADMSG,
	}, {
		.desc = "bus GET_DEVICES response, bitmap short",
		.msg = { .type = T_BUS_RESP,
			 .msg_id = VIRTIO_MSG_BUS_GET_DEVICES,
			 PL(Z16 "\x10\x00" Z16 "\x01") },
		.err = -EBADMSG,
	}, {
		.desc = "bus GET_DEVICES response, bitmap long",
		.msg = { .type = T_BUS_RESP,
			 .msg_id = VIRTIO_MSG_BUS_GET_DEVICES,
			 PL(Z16 "\x08\x00" Z16 "\x01\x00") },
		.err = -EBADMSG,
	}, {
		.desc = "bus GET_DEVICES response, count 0xfff8, no bitmap",
		.msg = { .type = T_BUS_RESP,
			 .msg_id = VIRTIO_MSG_BUS_GET_DEVICES,
			 PL(Z16 "\xf8\xff" Z16) },
		.err = -EBADMSG,
	}, {
		.desc = "bus GET_DEVICES response, next_offset inside window",
		.msg = { .type = T_BUS_RESP,
			 .msg_id = VIRTIO_MSG_BUS_GET_DEVICES,
			 PL(Z16 "\x10\x00"
			    "\x08\x00" Z16) },
		.err = -EBADMSG,
	}, {
		.desc = "bus GET_DEVICES response, next_offset going back",
		.msg = { .type = T_BUS_RESP,
			 .msg_id = VIRTIO_MSG_BUS_GET_DEVICES,
			 PL("\x10\x00"
			    "\x08\x00"
			    "\x08\x00"
			    "\x00") },
		.err = -EBADMSG,
	}, {
		.desc = "bus GET_DEVICES response, empty window, no progress",
		.msg = { .type = T_BUS_RESP,
			 .msg_id = VIRTIO_MSG_BUS_GET_DEVICES,
			 PL("\x08\x00" Z16 "\x08\x00") },
		.err = -EBADMSG,
	}, {
		.desc = "bus GET_DEVICES response, window past 0xffff",
		.msg = { .type = T_BUS_RESP,
			 .msg_id = VIRTIO_MSG_BUS_GET_DEVICES,
			 PL("\xf8\xff"
			    "\x10\x00" Z16 Z16) },
		.err = -EBADMSG,
	}, {
		.desc = "bus PING response, empty",
		.msg = { .type = T_BUS_RESP, .msg_id = VIRTIO_MSG_BUS_PING },
		.err = -EBADMSG,
	}, {
		.desc = "bus PING response, 8 bytes",
		.msg = { .type = T_BUS_RESP, .msg_id = VIRTIO_MSG_BUS_PING,
			 .plen = 8 },
		.err = -EBADMSG,
	}, {
		.desc = "bus PING request, 2 bytes",
		.msg = { .type = T_BUS, .msg_id = VIRTIO_MSG_BUS_PING,
			 .plen = 2 },
		.err = -EBADMSG,
	}, {
		.desc = "bus EVENT_DEVICE, 2 bytes",
		.msg = { .type = T_BUS, .msg_id = VIRTIO_MSG_BUS_EVENT_DEVICE,
			 .plen = 2 },
		.err = -EBADMSG,
	}, {
		.desc = "bus EVENT_DEVICE, 6 bytes",
		.msg = { .type = T_BUS, .msg_id = VIRTIO_MSG_BUS_EVENT_DEVICE,
			 .plen = 6 },
		.err = -EBADMSG,
	},
	/* v2 layouts: well formed, and the v1 size refused (and back). */
	{
		.desc = "v2 GET_DEVICE_INFO response",
		.msg = { .type = T_RESP, .msg_id = VIRTIO_MSG_GET_DEVICE_INFO,
			 PL("\x01\x00\x00\x00" /* device_id */
			    "\xf4\x1a\x00\x00" /* vendor_id */
			    "\x00\x11\x22\x33\x44\x55\x66\x77" /* device_uuid */
			    "\x88\x99\xaa\xbb\xcc\xdd\xee\xff"
			    "\x02\x00\x00\x00" /* num_feature_blocks */
			    "\x08\x00\x00\x00" /* config_size */
			    "\x04\x00\x00\x00" /* max_virtqueues */
			    "\x03\x00\x00\x00" /* admin_vq_start */
			    "\x01\x00\x00\x00") }, /* admin_vq_count */
		.wire = V2,
	}, {
		.desc = "v2 GET_DEVICE_INFO response, 65536 virtqueues",
		.msg = { .type = T_RESP, .msg_id = VIRTIO_MSG_GET_DEVICE_INFO,
			 PL(Z32 Z32 Z32 Z32 Z32 Z32 Z32 Z32
			    "\x00\x00\x01\x00" Z32 Z32) },
		.wire = V2,
	}, {
		.desc = "v2 GET_DEVICE_INFO response, 65537 virtqueues",
		.msg = { .type = T_RESP, .msg_id = VIRTIO_MSG_GET_DEVICE_INFO,
			 PL(Z32 Z32 Z32 Z32 Z32 Z32 Z32 Z32
			    "\x01\x00\x01\x00" Z32 Z32) },
		.wire = V2, .err = -EBADMSG,
	}, {
		.desc = "v2 GET_DEVICE_INFO response, admin queues beyond max",
		.msg = { .type = T_RESP, .msg_id = VIRTIO_MSG_GET_DEVICE_INFO,
			 PL(Z32 Z32 Z32 Z32 Z32 Z32 Z32 Z32
			    "\x04\x00\x00\x00"
			    "\x03\x00\x00\x00"
			    "\x02\x00\x00\x00") },
		.wire = V2, .err = -EBADMSG,
	}, {
		.desc = "v2 GET_DEVICE_INFO response, admin range wraps",
		.msg = { .type = T_RESP, .msg_id = VIRTIO_MSG_GET_DEVICE_INFO,
			 PL(Z32 Z32 Z32 Z32 Z32 Z32 Z32 Z32
			    "\x04\x00\x00\x00"
			    "\xff\xff\xff\xff"
			    "\x02\x00\x00\x00") },
		.wire = V2, .err = -EBADMSG,
	}, {
		.desc = "v2 GET_DEVICE_INFO response, admin start past max, none",
		.msg = { .type = T_RESP, .msg_id = VIRTIO_MSG_GET_DEVICE_INFO,
			 PL(Z32 Z32 Z32 Z32 Z32 Z32 Z32 Z32
			    "\x04\x00\x00\x00"
			    "\x09\x00\x00\x00" Z32) },
		.wire = V2,
	}, {
		.desc = "v2 GET_DEVICE_INFO response in the v1 size",
		.msg = { .type = T_RESP, .msg_id = VIRTIO_MSG_GET_DEVICE_INFO,
			 .plen = 24 },
		.wire = V2, .err = -EBADMSG,
	}, {
		.desc = "v1 GET_DEVICE_INFO response in the v2 size",
		.msg = { .type = T_RESP, .msg_id = VIRTIO_MSG_GET_DEVICE_INFO,
			 .plen = 44 },
		.err = -EBADMSG,
	}, {
		.desc = "v2 GET_VQUEUE response, enabled",
		.msg = { .type = T_RESP, .msg_id = VIRTIO_MSG_GET_VQUEUE,
			 PL(Z32 "\x00\x01\x00\x00" /* max_size 256 */
			    "\x00\x01\x00\x00" /* size 256 */
			    "\x01\x00\x00\x00" /* flags ENABLED */
			    Z32 Z32 Z32 Z32 Z32 Z32) },
		.wire = V2,
	}, {
		.desc = "v2 GET_VQUEUE response, unknown flags ignored",
		.msg = { .type = T_RESP, .msg_id = VIRTIO_MSG_GET_VQUEUE,
			 PL(Z32 "\x00\x01\x00\x00" Z32
			    "\xfe\xff\xff\xff"
			    Z32 Z32 Z32 Z32 Z32 Z32) },
		.wire = V2,
	}, {
		.desc = "v2 GET_VQUEUE response, enabled, no such queue",
		.msg = { .type = T_RESP, .msg_id = VIRTIO_MSG_GET_VQUEUE,
			 PL(Z32 Z32 "\x40\x00\x00\x00"
			    "\x01\x00\x00\x00"
			    Z32 Z32 Z32 Z32 Z32 Z32) },
		.wire = V2, .err = -EBADMSG,
	}, {
		.desc = "v2 GET_VQUEUE response, enabled with size 0",
		.msg = { .type = T_RESP, .msg_id = VIRTIO_MSG_GET_VQUEUE,
			 PL(Z32 "\x00\x01\x00\x00" Z32
			    "\x01\x00\x00\x00"
			    Z32 Z32 Z32 Z32 Z32 Z32) },
		.wire = V2, .err = -EBADMSG,
	}, {
		.desc = "v2 GET_VQUEUE response, enabled beyond max_size",
		.msg = { .type = T_RESP, .msg_id = VIRTIO_MSG_GET_VQUEUE,
			 PL(Z32 "\x00\x01\x00\x00"
			    "\x00\x02\x00\x00"
			    "\x01\x00\x00\x00"
			    Z32 Z32 Z32 Z32 Z32 Z32) },
		.wire = V2, .err = -EBADMSG,
	}, {
		.desc = "v1 GET_VQUEUE response, word 12 is reserved",
		.msg = { .type = T_RESP, .msg_id = VIRTIO_MSG_GET_VQUEUE,
			 PL(Z32 Z32 Z32 "\x01\x00\x00\x00"
			    Z32 Z32 Z32 Z32 Z32 Z32) },
	}, {
		.desc = "v2 GET_VQUEUE response, 44 bytes",
		.msg = { .type = T_RESP, .msg_id = VIRTIO_MSG_GET_VQUEUE,
			 .plen = 44 },
		.wire = V2, .err = -EBADMSG,
	}, {
		.desc = "v2 GET_SHM response",
		.msg = { .type = T_RESP, .msg_id = VIRTIO_MSG_GET_SHM,
			 PL(Z32 Z32
			    "\x00\x00\x00\x00\x01\x00\x00\x00" /* 4 GiB */
			    "\x00\x00\x00\x00\x02\x00\x00\x00") },
		.wire = V2,
	}, {
		.desc = "v2 GET_SHM response, region ends at 2^64",
		.msg = { .type = T_RESP, .msg_id = VIRTIO_MSG_GET_SHM,
			 PL(Z32 Z32
			    "\x00\x10\x00\x00\x00\x00\x00\x00"
			    "\x00\xf0\xff\xff\xff\xff\xff\xff") },
		.wire = V2,
	}, {
		.desc = "v2 GET_SHM response, region wraps",
		.msg = { .type = T_RESP, .msg_id = VIRTIO_MSG_GET_SHM,
			 PL(Z32 Z32
			    "\x01\x10\x00\x00\x00\x00\x00\x00"
			    "\x00\xf0\xff\xff\xff\xff\xff\xff") },
		.wire = V2, .err = -EBADMSG,
	}, {
		.desc = "v2 GET_SHM response, no region at the top",
		.msg = { .type = T_RESP, .msg_id = VIRTIO_MSG_GET_SHM,
			 PL(Z32 Z32 Z32 Z32
			    "\xff\xff\xff\xff\xff\xff\xff\xff") },
		.wire = V2,
	}, {
		.desc = "v2 GET_SHM response in the v1 size",
		.msg = { .type = T_RESP, .msg_id = VIRTIO_MSG_GET_SHM,
			 .plen = 12 },
		.wire = V2, .err = -EBADMSG,
	}, {
		.desc = "v1 GET_SHM response in the v2 size",
		.msg = { .type = T_RESP, .msg_id = VIRTIO_MSG_GET_SHM,
			 .plen = 24 },
		.err = -EBADMSG,
	}, {
		.desc = "v2 bus GET_DEVICES response, second window",
		.msg = { .type = T_BUS_RESP,
			 .msg_id = VIRTIO_MSG_BUS_GET_DEVICES,
			 PL("\x10\x00" /* offset */
			    "\x20\x00" /* next_offset */
			    "\x10\x00" /* count */
			    "\x25\x00") },
		.wire = V2,
	}, {
		.desc = "the same bytes read as v1",
		.msg = { .type = T_BUS_RESP,
			 .msg_id = VIRTIO_MSG_BUS_GET_DEVICES,
			 PL("\x10\x00"
			    "\x20\x00"
			    "\x10\x00"
			    "\x25\x00") },
		.err = -EBADMSG,
	}, {
		.desc = "v2 bus GET_DEVICES response, last window",
		.msg = { .type = T_BUS_RESP,
			 .msg_id = VIRTIO_MSG_BUS_GET_DEVICES,
			 PL("\xf0\xff" Z16 "\x10\x00" Z16) },
		.wire = V2,
	}, {
		.desc = "v2 bus GET_DEVICES response, count not a multiple of 8",
		.msg = { .type = T_BUS_RESP,
			 .msg_id = VIRTIO_MSG_BUS_GET_DEVICES,
			 PL(Z16 Z16 "\x0c\x00"
			    "\xff\x0f") },
		.wire = V2, .err = -EBADMSG,
	}, {
		.desc = "v2 bus GET_DEVICES response, next_offset inside window",
		.msg = { .type = T_BUS_RESP,
			 .msg_id = VIRTIO_MSG_BUS_GET_DEVICES,
			 PL(Z16 "\x08\x00"
			    "\x10\x00" Z16) },
		.wire = V2, .err = -EBADMSG,
	}, {
		.desc = "v2 bus GET_DEVICES response, bitmap short",
		.msg = { .type = T_BUS_RESP,
			 .msg_id = VIRTIO_MSG_BUS_GET_DEVICES,
			 PL(Z16 Z16 "\x10\x00"
			    "\x01") },
		.wire = V2, .err = -EBADMSG,
	}, {
		.desc = "v2 unchanged layout: SET_DEVICE_STATUS response",
		.msg = { .type = T_RESP,
			 .msg_id = VIRTIO_MSG_SET_DEVICE_STATUS,
			 PL("\x07\x00\x00\x00") },
		.wire = V2,
	}, {
		.desc = "v2 bus EVENT_DEVICE added",
		.msg = { .type = T_BUS, .msg_id = VIRTIO_MSG_BUS_EVENT_DEVICE,
			 PL("\x05\x00\x01\x00") },
		.wire = V2,
	}, {
		.desc = "unknown wire generation",
		.msg = { .type = T_RESP,
			 .msg_id = VIRTIO_MSG_SET_DEVICE_STATUS,
			 PL("\x07\x00\x00\x00") },
		.wire = 3, .err = -EINVAL,
	},
};

static void vmsg_validate_case_desc(const struct vmsg_validate_case *c,
				    char *desc)
{
	strscpy(desc, c->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(vmsg_validate, vmsg_validate_cases, vmsg_validate_case_desc);

static void vmsg_test_validate(struct kunit *test)
{
	const struct vmsg_validate_case *c = test->param_value;
	size_t size = vmsg_pick(c->msg.msg_size,
				sizeof(struct virtio_msg_hdr) + c->msg.plen);
	size_t len = vmsg_pick(c->len, size);
	size_t max_size = vmsg_pick(c->max_size, MAX_DEFAULT);
	struct virtio_msg_hdr *msg = vmsg_build(test, &c->msg, len);

	KUNIT_EXPECT_EQ(test, virtio_msg_validate(msg, len, max_size,
						  vmsg_wire(c->wire)),
			c->err);
}

/* ---- virtio_msg_match_response() ---- */

/**
 * struct vmsg_match_case - a request, a response and the verdict expected
 * @desc: case name
 * @req: the request sent
 * @resp: the response received
 * @resp_err: what virtio_msg_validate() says of @resp
 * @wire: wire generation; 0 for v1
 * @err: expected return value of virtio_msg_match_response()
 */
struct vmsg_match_case {
	const char *desc;
	struct vmsg_msg req;
	struct vmsg_msg resp;
	int resp_err;
	u8 wire;
	int err;
};

static const struct vmsg_match_case vmsg_match_cases[] = {
	/* Responses answering their request. */
	{
		.desc = "GET_DEVICE_INFO",
		.req = { .msg_id = VIRTIO_MSG_GET_DEVICE_INFO, .dev_num = 2,
			 .token = 1 },
		.resp = { .type = T_RESP, .msg_id = VIRTIO_MSG_GET_DEVICE_INFO,
			  .dev_num = 2, .token = 1, .plen = 24 },
	}, {
		.desc = "device number 0",
		.req = { .msg_id = VIRTIO_MSG_GET_DEVICE_INFO, .token = 1 },
		.resp = { .type = T_RESP, .msg_id = VIRTIO_MSG_GET_DEVICE_INFO,
			  .token = 1, .plen = 24 },
	}, {
		.desc = "GET_DEVICE_FEATURES",
		.req = { .msg_id = VIRTIO_MSG_GET_DEVICE_FEATURES, .token = 5,
			 PL("\x01\x00\x00\x00"
			    "\x02\x00\x00\x00") },
		.resp = { .type = T_RESP,
			  .msg_id = VIRTIO_MSG_GET_DEVICE_FEATURES, .token = 5,
			  PL("\x01\x00\x00\x00"
			     "\x02\x00\x00\x00" Z32 Z32) },
	}, {
		.desc = "SET_DRIVER_FEATURES",
		.req = { .msg_id = VIRTIO_MSG_SET_DRIVER_FEATURES, .token = 5,
			 PL(Z32 "\x01\x00\x00\x00"
			    "\x01\x00\x00\x00") },
		.resp = { .type = T_RESP,
			  .msg_id = VIRTIO_MSG_SET_DRIVER_FEATURES,
			  .token = 5 },
	}, {
		.desc = "GET_CONFIG",
		.req = { .msg_id = VIRTIO_MSG_GET_CONFIG, .token = 2,
			 PL("\x04\x00\x00\x00"
			    "\x04\x00\x00\x00") },
		.resp = { .type = T_RESP, .msg_id = VIRTIO_MSG_GET_CONFIG,
			  .token = 2,
			  PL("\x09\x00\x00\x00"
			     "\x04\x00\x00\x00"
			     "\x04\x00\x00\x00"
			     "\x01\x02\x03\x04") },
	}, {
		.desc = "GET_CONFIG, shorter than asked",
		.req = { .msg_id = VIRTIO_MSG_GET_CONFIG, .token = 2,
			 PL("\x04\x00\x00\x00"
			    "\x08\x00\x00\x00") },
		.resp = { .type = T_RESP, .msg_id = VIRTIO_MSG_GET_CONFIG,
			  .token = 2,
			  PL(Z32 "\x04\x00\x00\x00"
			     "\x04\x00\x00\x00" Z32) },
	}, {
		.desc = "SET_CONFIG applied",
		.req = { .msg_id = VIRTIO_MSG_SET_CONFIG, .token = 3,
			 PL(Z32 "\x08\x00\x00\x00"
			    "\x02\x00\x00\x00"
			    "\x01\x02") },
		.resp = { .type = T_RESP, .msg_id = VIRTIO_MSG_SET_CONFIG,
			  .token = 3,
			  PL("\x01\x00\x00\x00"
			     "\x08\x00\x00\x00"
			     "\x02\x00\x00\x00") },
	}, {
		.desc = "SET_CONFIG applied, data echoed",
		.req = { .msg_id = VIRTIO_MSG_SET_CONFIG, .token = 3,
			 PL(Z32 "\x08\x00\x00\x00"
			    "\x02\x00\x00\x00"
			    "\x01\x02") },
		.resp = { .type = T_RESP, .msg_id = VIRTIO_MSG_SET_CONFIG,
			  .token = 3,
			  PL("\x01\x00\x00\x00"
			     "\x08\x00\x00\x00"
			     "\x02\x00\x00\x00"
			     "\x01\x02") },
	}, {
		.desc = "SET_CONFIG rejected",
		.req = { .msg_id = VIRTIO_MSG_SET_CONFIG, .token = 3,
			 PL(Z32 "\x08\x00\x00\x00"
			    "\x02\x00\x00\x00"
			    "\x01\x02") },
		.resp = { .type = T_RESP, .msg_id = VIRTIO_MSG_SET_CONFIG,
			  .token = 3,
			  PL("\x05\x00\x00\x00"
			     "\x08\x00\x00\x00" Z32) },
	}, {
		.desc = "SET_CONFIG rejected, offset not reported",
		.req = { .msg_id = VIRTIO_MSG_SET_CONFIG, .token = 3,
			 PL(Z32 "\x08\x00\x00\x00"
			    "\x02\x00\x00\x00"
			    "\x01\x02") },
		.resp = { .type = T_RESP, .msg_id = VIRTIO_MSG_SET_CONFIG,
			  .token = 3, PL("\x05\x00\x00\x00" Z32 Z32) },
	}, {
		.desc = "GET_CONFIG, nothing read, offset not reported",
		.req = { .msg_id = VIRTIO_MSG_GET_CONFIG, .token = 2,
			 PL("\x04\x00\x00\x00"
			    "\x04\x00\x00\x00") },
		.resp = { .type = T_RESP, .msg_id = VIRTIO_MSG_GET_CONFIG,
			  .token = 2, PL(Z32 Z32 Z32) },
	}, {
		.desc = "GET_DEVICE_STATUS",
		.req = { .msg_id = VIRTIO_MSG_GET_DEVICE_STATUS, .token = 4 },
		.resp = { .type = T_RESP,
			  .msg_id = VIRTIO_MSG_GET_DEVICE_STATUS, .token = 4,
			  .plen = 4 },
	}, {
		.desc = "SET_DEVICE_STATUS, resulting status differs",
		.req = { .msg_id = VIRTIO_MSG_SET_DEVICE_STATUS, .token = 4,
			 PL("\x0b\x00\x00\x00") },
		.resp = { .type = T_RESP,
			  .msg_id = VIRTIO_MSG_SET_DEVICE_STATUS, .token = 4,
			  PL("\x03\x00\x00\x00") },
	}, {
		.desc = "GET_VQUEUE",
		.req = { .msg_id = VIRTIO_MSG_GET_VQUEUE, .token = 6,
			 PL("\x03\x00\x00\x00") },
		.resp = { .type = T_RESP, .msg_id = VIRTIO_MSG_GET_VQUEUE,
			  .token = 6,
			  PL("\x03\x00\x00\x00"
			     "\x00\x01\x00\x00" Z32 Z32
			     Z32 Z32 Z32 Z32 Z32 Z32) },
	}, {
		.desc = "SET_VQUEUE",
		.req = { .msg_id = VIRTIO_MSG_SET_VQUEUE, .token = 6,
			 .plen = 40 },
		.resp = { .type = T_RESP, .msg_id = VIRTIO_MSG_SET_VQUEUE,
			  .token = 6 },
	}, {
		.desc = "RESET_VQUEUE",
		.req = { .msg_id = VIRTIO_MSG_RESET_VQUEUE, .token = 6,
			 .plen = 4 },
		.resp = { .type = T_RESP, .msg_id = VIRTIO_MSG_RESET_VQUEUE,
			  .token = 6 },
	}, {
		.desc = "GET_SHM",
		.req = { .msg_id = VIRTIO_MSG_GET_SHM, .token = 7,
			 PL("\x01\x00\x00\x00") },
		.resp = { .type = T_RESP, .msg_id = VIRTIO_MSG_GET_SHM,
			  .token = 7, PL("\x01\x00\x00\x00" Z32 Z32) },
	}, {
		.desc = "bus GET_DEVICES",
		.req = { .type = T_BUS, .msg_id = VIRTIO_MSG_BUS_GET_DEVICES,
			 .token = 8, PL("\x10\x00"
					"\x10\x00") },
		.resp = { .type = T_BUS_RESP,
			  .msg_id = VIRTIO_MSG_BUS_GET_DEVICES, .token = 8,
			  PL("\x10\x00"
			     "\x10\x00" Z16 "\x01\x00") },
	}, {
		.desc = "bus GET_DEVICES, smaller window than asked",
		.req = { .type = T_BUS, .msg_id = VIRTIO_MSG_BUS_GET_DEVICES,
			 .token = 8, PL("\x10\x00"
					"\x10\x00") },
		.resp = { .type = T_BUS_RESP,
			  .msg_id = VIRTIO_MSG_BUS_GET_DEVICES, .token = 8,
			  PL("\x10\x00"
			     "\x08\x00"
			     "\x18\x00"
			     "\x01") },
	}, {
		.desc = "bus PING",
		.req = { .type = T_BUS, .msg_id = VIRTIO_MSG_BUS_PING,
			 .token = 9, PL("\x78\x56\x34\x12") },
		.resp = { .type = T_BUS_RESP, .msg_id = VIRTIO_MSG_BUS_PING,
			  .token = 9, PL("\x78\x56\x34\x12") },
	}, {
		.desc = "reserved type bits in the response",
		.req = { .msg_id = VIRTIO_MSG_GET_DEVICE_STATUS, .token = 4 },
		.resp = { .type = T_RESP | VIRTIO_MSG_TYPE_RESERVED,
			  .msg_id = VIRTIO_MSG_GET_DEVICE_STATUS, .token = 4,
			  .plen = 4 },
	},

	/* Not the response to this request. */
	{
		.desc = "response bit clear",
		.req = { .type = T_BUS, .msg_id = VIRTIO_MSG_BUS_PING,
			 .token = 9, .plen = 4 },
		.resp = { .type = T_BUS, .msg_id = VIRTIO_MSG_BUS_PING,
			  .token = 9, .plen = 4 },
		.err = -EPROTO,
	}, {
		.desc = "other message ID",
		.req = { .msg_id = VIRTIO_MSG_GET_DEVICE_STATUS, .token = 4 },
		.resp = { .type = T_RESP,
			  .msg_id = VIRTIO_MSG_SET_DEVICE_STATUS, .token = 4,
			  .plen = 4 },
		.err = -EPROTO,
	}, {
		.desc = "other device number",
		.req = { .msg_id = VIRTIO_MSG_GET_DEVICE_STATUS, .dev_num = 1,
			 .token = 4 },
		.resp = { .type = T_RESP,
			  .msg_id = VIRTIO_MSG_GET_DEVICE_STATUS, .dev_num = 2,
			  .token = 4, .plen = 4 },
		.err = -EPROTO,
	}, {
		.desc = "other device number, high byte",
		.req = { .msg_id = VIRTIO_MSG_GET_DEVICE_STATUS,
			 .dev_num = 0x0001, .token = 4 },
		.resp = { .type = T_RESP,
			  .msg_id = VIRTIO_MSG_GET_DEVICE_STATUS,
			  .dev_num = 0x0101, .token = 4, .plen = 4 },
		.err = -EPROTO,
	}, {
		.desc = "other token",
		.req = { .msg_id = VIRTIO_MSG_GET_DEVICE_STATUS, .token = 4 },
		.resp = { .type = T_RESP,
			  .msg_id = VIRTIO_MSG_GET_DEVICE_STATUS, .token = 5,
			  .plen = 4 },
		.err = -EPROTO,
	}, {
		.desc = "token 0 in the response",
		.req = { .msg_id = VIRTIO_MSG_GET_DEVICE_STATUS,
			 .token = 0x100 },
		.resp = { .type = T_RESP,
			  .msg_id = VIRTIO_MSG_GET_DEVICE_STATUS, .plen = 4 },
		.err = -EPROTO,
	}, {
		.desc = "bus request, transport response",
		.req = { .type = T_BUS, .msg_id = VIRTIO_MSG_BUS_PING,
			 .token = 9, .plen = 4 },
		.resp = { .type = T_RESP,
			  .msg_id = VIRTIO_MSG_GET_DEVICE_FEATURES, .token = 9,
			  .plen = 8 },
		.err = -EPROTO,
	}, {
		.desc = "transport request, bus response",
		.req = { .msg_id = VIRTIO_MSG_GET_DEVICE_INFO, .token = 1 },
		.resp = { .type = T_BUS_RESP,
			  .msg_id = VIRTIO_MSG_BUS_GET_DEVICES, .token = 1,
			  .plen = 6 },
		.err = -EPROTO,
	},

	/* Right header, echoes disagreeing with the request. */
	{
		.desc = "GET_DEVICE_FEATURES, other block_index",
		.req = { .msg_id = VIRTIO_MSG_GET_DEVICE_FEATURES, .token = 5,
			 PL("\x01\x00\x00\x00"
			    "\x01\x00\x00\x00") },
		.resp = { .type = T_RESP,
			  .msg_id = VIRTIO_MSG_GET_DEVICE_FEATURES, .token = 5,
			  PL(Z32 "\x01\x00\x00\x00" Z32) },
		.err = -EBADMSG,
	}, {
		.desc = "GET_DEVICE_FEATURES, fewer blocks than asked",
		.req = { .msg_id = VIRTIO_MSG_GET_DEVICE_FEATURES, .token = 5,
			 PL(Z32 "\x02\x00\x00\x00") },
		.resp = { .type = T_RESP,
			  .msg_id = VIRTIO_MSG_GET_DEVICE_FEATURES, .token = 5,
			  PL(Z32 "\x01\x00\x00\x00" Z32) },
		.err = -EBADMSG,
	}, {
		.desc = "GET_DEVICE_FEATURES, more blocks than asked",
		.req = { .msg_id = VIRTIO_MSG_GET_DEVICE_FEATURES, .token = 5,
			 PL(Z32 "\x01\x00\x00\x00") },
		.resp = { .type = T_RESP,
			  .msg_id = VIRTIO_MSG_GET_DEVICE_FEATURES, .token = 5,
			  PL(Z32 "\x02\x00\x00\x00" Z32 Z32) },
		.err = -EBADMSG,
	}, {
		.desc = "GET_CONFIG, other offset",
		.req = { .msg_id = VIRTIO_MSG_GET_CONFIG, .token = 2,
			 PL("\x04\x00\x00\x00"
			    "\x04\x00\x00\x00") },
		.resp = { .type = T_RESP, .msg_id = VIRTIO_MSG_GET_CONFIG,
			  .token = 2,
			  PL(Z32 Z32 "\x04\x00\x00\x00" Z32) },
		.err = -EBADMSG,
	}, {
		.desc = "GET_CONFIG, longer than asked",
		.req = { .msg_id = VIRTIO_MSG_GET_CONFIG, .token = 2,
			 PL(Z32 "\x04\x00\x00\x00") },
		.resp = { .type = T_RESP, .msg_id = VIRTIO_MSG_GET_CONFIG,
			  .token = 2,
			  PL(Z32 Z32 "\x08\x00\x00\x00" Z32 Z32) },
		.err = -EBADMSG,
	}, {
		.desc = "SET_CONFIG, other offset",
		.req = { .msg_id = VIRTIO_MSG_SET_CONFIG, .token = 3,
			 PL(Z32 "\x08\x00\x00\x00"
			    "\x02\x00\x00\x00"
			    "\x01\x02") },
		.resp = { .type = T_RESP, .msg_id = VIRTIO_MSG_SET_CONFIG,
			  .token = 3,
			  PL(Z32 "\x0a\x00\x00\x00"
			     "\x02\x00\x00\x00") },
		.err = -EBADMSG,
	}, {
		.desc = "SET_CONFIG, more applied than sent",
		.req = { .msg_id = VIRTIO_MSG_SET_CONFIG, .token = 3,
			 PL(Z32 "\x08\x00\x00\x00"
			    "\x02\x00\x00\x00"
			    "\x01\x02") },
		.resp = { .type = T_RESP, .msg_id = VIRTIO_MSG_SET_CONFIG,
			  .token = 3,
			  PL(Z32 "\x08\x00\x00\x00"
			     "\x04\x00\x00\x00") },
		.err = -EBADMSG,
	}, {
		.desc = "GET_VQUEUE, other index",
		.req = { .msg_id = VIRTIO_MSG_GET_VQUEUE, .token = 6,
			 PL("\x03\x00\x00\x00") },
		.resp = { .type = T_RESP, .msg_id = VIRTIO_MSG_GET_VQUEUE,
			  .token = 6,
			  PL("\x03\x00\x00\x01" Z32 Z32 Z32 Z32 Z32 Z32 Z32
			     Z32 Z32) },
		.err = -EBADMSG,
	}, {
		.desc = "GET_SHM, other index",
		.req = { .msg_id = VIRTIO_MSG_GET_SHM, .token = 7,
			 PL("\x01\x00\x00\x00") },
		.resp = { .type = T_RESP, .msg_id = VIRTIO_MSG_GET_SHM,
			  .token = 7, PL("\x02\x00\x00\x00" Z32 Z32) },
		.err = -EBADMSG,
	}, {
		.desc = "bus GET_DEVICES, other offset",
		.req = { .type = T_BUS, .msg_id = VIRTIO_MSG_BUS_GET_DEVICES,
			 .token = 8, PL("\x10\x00"
					"\x08\x00") },
		.resp = { .type = T_BUS_RESP,
			  .msg_id = VIRTIO_MSG_BUS_GET_DEVICES, .token = 8,
			  PL(Z16 "\x08\x00" Z16 "\x01") },
		.err = -EBADMSG,
	}, {
		.desc = "bus GET_DEVICES, larger window than asked",
		.req = { .type = T_BUS, .msg_id = VIRTIO_MSG_BUS_GET_DEVICES,
			 .token = 8, PL(Z16 "\x08\x00") },
		.resp = { .type = T_BUS_RESP,
			  .msg_id = VIRTIO_MSG_BUS_GET_DEVICES, .token = 8,
			  PL(Z16 "\x10\x00" Z16 Z16) },
		.err = -EBADMSG,
	}, {
		.desc = "bus PING, other data",
		.req = { .type = T_BUS, .msg_id = VIRTIO_MSG_BUS_PING,
			 .token = 9, PL("\x78\x56\x34\x12") },
		.resp = { .type = T_BUS_RESP, .msg_id = VIRTIO_MSG_BUS_PING,
			  .token = 9, PL("\x78\x56\x34\x13") },
		.err = -EBADMSG,
	},

	/* Requests this side could not have sent. */
	{
		.desc = "request is an event",
		.req = { .msg_id = VIRTIO_MSG_EVENT_AVAIL, .plen = 8 },
		.resp = { .type = T_RESP, .msg_id = VIRTIO_MSG_EVENT_AVAIL,
			  .plen = 8 },
		.resp_err = -EPROTO, .err = -EINVAL,
	}, {
		.desc = "request is a response",
		.req = { .type = T_RESP, .msg_id = VIRTIO_MSG_GET_DEVICE_STATUS,
			 .plen = 4 },
		.resp = { .type = T_RESP,
			  .msg_id = VIRTIO_MSG_GET_DEVICE_STATUS, .plen = 4 },
		.err = -EINVAL,
	}, {
		.desc = "request payload too short",
		.req = { .msg_id = VIRTIO_MSG_GET_CONFIG, .token = 2 },
		.resp = { .type = T_RESP, .msg_id = VIRTIO_MSG_GET_CONFIG,
			  .token = 2, .plen = 12 },
		.err = -EINVAL,
	}, {
		.desc = "request msg_size smaller than the header",
		.req = { .msg_id = VIRTIO_MSG_GET_DEVICE_STATUS, .token = 4,
			 .msg_size = 4 },
		.resp = { .type = T_RESP,
			  .msg_id = VIRTIO_MSG_GET_DEVICE_STATUS, .token = 4,
			  .plen = 4 },
		.err = -EINVAL,
	},
	/* v2: the changed layouts, and the all-or-nothing SET_CONFIG. */
	{
		.desc = "v2 GET_DEVICE_INFO",
		.req = { .msg_id = VIRTIO_MSG_GET_DEVICE_INFO, .dev_num = 2,
			 .token = 1 },
		.resp = { .type = T_RESP, .msg_id = VIRTIO_MSG_GET_DEVICE_INFO,
			  .dev_num = 2, .token = 1, .plen = 44 },
		.wire = V2,
	}, {
		.desc = "v2 SET_CONFIG applied in full",
		.req = { .msg_id = VIRTIO_MSG_SET_CONFIG, .token = 3,
			 PL(Z32 "\x08\x00\x00\x00"
			    "\x02\x00\x00\x00"
			    "\x01\x02") },
		.resp = { .type = T_RESP, .msg_id = VIRTIO_MSG_SET_CONFIG,
			  .token = 3,
			  PL("\x01\x00\x00\x00"
			     "\x08\x00\x00\x00"
			     "\x02\x00\x00\x00") },
		.wire = V2,
	}, {
		.desc = "v2 SET_CONFIG rejected",
		.req = { .msg_id = VIRTIO_MSG_SET_CONFIG, .token = 3,
			 PL(Z32 "\x08\x00\x00\x00"
			    "\x02\x00\x00\x00"
			    "\x01\x02") },
		.resp = { .type = T_RESP, .msg_id = VIRTIO_MSG_SET_CONFIG,
			  .token = 3, PL("\x05\x00\x00\x00" Z32 Z32) },
		.wire = V2,
	}, {
		.desc = "v1 SET_CONFIG applied in part",
		.req = { .msg_id = VIRTIO_MSG_SET_CONFIG, .token = 3,
			 PL(Z32 "\x08\x00\x00\x00"
			    "\x02\x00\x00\x00"
			    "\x01\x02") },
		.resp = { .type = T_RESP, .msg_id = VIRTIO_MSG_SET_CONFIG,
			  .token = 3,
			  PL(Z32 "\x08\x00\x00\x00"
			     "\x01\x00\x00\x00") },
	}, {
		.desc = "v2 SET_CONFIG applied in part",
		.req = { .msg_id = VIRTIO_MSG_SET_CONFIG, .token = 3,
			 PL(Z32 "\x08\x00\x00\x00"
			    "\x02\x00\x00\x00"
			    "\x01\x02") },
		.resp = { .type = T_RESP, .msg_id = VIRTIO_MSG_SET_CONFIG,
			  .token = 3,
			  PL(Z32 "\x08\x00\x00\x00"
			     "\x01\x00\x00\x00") },
		.wire = V2, .err = -EBADMSG,
	}, {
		.desc = "v2 GET_VQUEUE, other index",
		.req = { .msg_id = VIRTIO_MSG_GET_VQUEUE, .token = 6,
			 PL("\x03\x00\x00\x00") },
		.resp = { .type = T_RESP, .msg_id = VIRTIO_MSG_GET_VQUEUE,
			  .token = 6,
			  PL("\x02\x00\x00\x00" Z32 Z32 Z32 Z32 Z32 Z32 Z32
			     Z32 Z32) },
		.wire = V2, .err = -EBADMSG,
	}, {
		.desc = "v2 GET_SHM",
		.req = { .msg_id = VIRTIO_MSG_GET_SHM, .token = 7,
			 PL("\x01\x00\x00\x00") },
		.resp = { .type = T_RESP, .msg_id = VIRTIO_MSG_GET_SHM,
			  .token = 7, PL("\x01\x00\x00\x00" Z32 Z32 Z32 Z32
					 Z32) },
		.wire = V2,
	}, {
		.desc = "v2 GET_SHM, other index",
		.req = { .msg_id = VIRTIO_MSG_GET_SHM, .token = 7,
			 PL("\x01\x00\x00\x00") },
		.resp = { .type = T_RESP, .msg_id = VIRTIO_MSG_GET_SHM,
			  .token = 7, PL("\x02\x00\x00\x00" Z32 Z32 Z32 Z32
					 Z32) },
		.wire = V2, .err = -EBADMSG,
	}, {
		.desc = "v2 bus GET_DEVICES, smaller window than asked",
		.req = { .type = T_BUS, .msg_id = VIRTIO_MSG_BUS_GET_DEVICES,
			 .token = 8, PL("\x10\x00"
					"\x10\x00") },
		.resp = { .type = T_BUS_RESP,
			  .msg_id = VIRTIO_MSG_BUS_GET_DEVICES, .token = 8,
			  PL("\x10\x00"
			     "\x18\x00"
			     "\x08\x00"
			     "\x01") },
		.wire = V2,
	}, {
		.desc = "v2 bus GET_DEVICES, larger window than asked",
		.req = { .type = T_BUS, .msg_id = VIRTIO_MSG_BUS_GET_DEVICES,
			 .token = 8, PL(Z16 "\x08\x00") },
		.resp = { .type = T_BUS_RESP,
			  .msg_id = VIRTIO_MSG_BUS_GET_DEVICES, .token = 8,
			  PL(Z16 Z16 "\x10\x00" Z16) },
		.wire = V2, .err = -EBADMSG,
	}, {
		.desc = "v2 bus GET_DEVICES, other offset",
		.req = { .type = T_BUS, .msg_id = VIRTIO_MSG_BUS_GET_DEVICES,
			 .token = 8, PL("\x10\x00"
					"\x08\x00") },
		.resp = { .type = T_BUS_RESP,
			  .msg_id = VIRTIO_MSG_BUS_GET_DEVICES, .token = 8,
			  PL(Z16 Z16 "\x08\x00"
			     "\x01") },
		.wire = V2, .err = -EBADMSG,
	}, {
		.desc = "unknown wire generation",
		.req = { .msg_id = VIRTIO_MSG_GET_DEVICE_STATUS, .token = 4 },
		.resp = { .type = T_RESP,
			  .msg_id = VIRTIO_MSG_GET_DEVICE_STATUS, .token = 4,
			  .plen = 4 },
		.resp_err = -EINVAL, .wire = 3, .err = -EINVAL,
	},
};

static void vmsg_match_case_desc(const struct vmsg_match_case *c, char *desc)
{
	strscpy(desc, c->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(vmsg_match, vmsg_match_cases, vmsg_match_case_desc);

static void vmsg_test_match(struct kunit *test)
{
	const struct vmsg_match_case *c = test->param_value;
	size_t hdr = sizeof(struct virtio_msg_hdr);
	struct virtio_msg_hdr *req, *resp;

	req = vmsg_build(test, &c->req, hdr + c->req.plen);
	resp = vmsg_build(test, &c->resp, hdr + c->resp.plen);

	/* Each response is checked as the core would: validated first. */
	KUNIT_EXPECT_EQ(test, virtio_msg_validate(resp, hdr + c->resp.plen,
						  MAX_DEFAULT,
						  vmsg_wire(c->wire)),
			c->resp_err);
	KUNIT_EXPECT_EQ(test, virtio_msg_match_response(req, resp,
							vmsg_wire(c->wire)),
			c->err);
}

/*
 * A request built by the helpers, answered by a response built by the
 * helpers, passes both checks; the answer to a device-side PING does too.
 */
static void vmsg_test_round_trip(struct kunit *test)
{
	size_t size = VIRTIO_MSG_MAX_SIZE_MIN;
	struct virtio_msg_get_config_req *greq;
	struct virtio_msg_hdr *req, *resp;
	struct virtio_msg_bus_ping *ping;
	struct virtio_msg_config *gresp;
	int ret;

	req = kunit_kzalloc(test, size, GFP_KERNEL);
	resp = kunit_kzalloc(test, size, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, req);
	KUNIT_ASSERT_NOT_NULL(test, resp);

	ret = virtio_msg_init_request(req, size, VIRTIO_MSG_GET_CONFIG, 0x42,
				      sizeof(*greq));
	KUNIT_ASSERT_EQ(test, ret, 16);
	req->token = cpu_to_le16(0x8001);
	greq = virtio_msg_payload(req);
	greq->offset = cpu_to_le32(8);
	greq->length = cpu_to_le32(4);

	ret = virtio_msg_init_response(resp, size, req, sizeof(*gresp) + 4);
	KUNIT_ASSERT_EQ(test, ret, 24);
	gresp = virtio_msg_payload(resp);
	gresp->generation = cpu_to_le32(1);
	gresp->offset = greq->offset;
	gresp->length = greq->length;

	KUNIT_EXPECT_EQ(test, virtio_msg_validate(resp, ret, size,
						  VIRTIO_MSG_WIRE_V1), 0);
	KUNIT_EXPECT_EQ(test, virtio_msg_match_response(req, resp,
							VIRTIO_MSG_WIRE_V1),
			0);

	/* The device side pings; the driver side answers. */
	ret = virtio_msg_init_bus_request(req, size, VIRTIO_MSG_BUS_PING,
					  sizeof(*ping));
	KUNIT_ASSERT_EQ(test, ret, 12);
	req->token = cpu_to_le16(0x77);
	ping = virtio_msg_payload(req);
	ping->data = cpu_to_le32(0xcafe);
	KUNIT_EXPECT_EQ(test, virtio_msg_validate(req, ret, size,
						  VIRTIO_MSG_WIRE_V1), 0);

	ret = virtio_msg_init_response(resp, size, req, sizeof(*ping));
	KUNIT_ASSERT_EQ(test, ret, 12);
	((struct virtio_msg_bus_ping *)virtio_msg_payload(resp))->data =
		ping->data;
	KUNIT_EXPECT_EQ(test, virtio_msg_validate(resp, ret, size,
						  VIRTIO_MSG_WIRE_V1), 0);
	KUNIT_EXPECT_EQ(test, virtio_msg_match_response(req, resp,
							VIRTIO_MSG_WIRE_V1),
			0);
}

/* ---- per-generation readers and writers ---- */

static const struct virtio_msg_vq_info vmsg_test_vq = {
	.index = 2, .max_size = 0x400, .size = 0x100, .enabled = true,
	.desc_addr = 0x1122334455667788ULL,
	.driver_addr = 0x99aabbccddeeff00ULL,
	.device_addr = 0x0102030405060708ULL,
};

/* The addresses of vmsg_test_vq, as they go on the wire. */
#define VQ_ADDRS	"\x88\x77\x66\x55\x44\x33\x22\x11" \
			"\x00\xff\xee\xdd\xcc\xbb\xaa\x99" \
			"\x08\x07\x06\x05\x04\x03\x02\x01"

/* SET_VQUEUE: v1 has word 4 reserved, v2 puts ENABLE there. */
static void vmsg_test_build_set_vqueue(struct kunit *test)
{
	static const char v1[] = "\x02\x00\x00\x00" Z32
				 "\x00\x01\x00\x00" Z32 VQ_ADDRS;
	static const char v2[] = "\x02\x00\x00\x00"
				 "\x01\x00\x00\x00"
				 "\x00\x01\x00\x00" Z32 VQ_ADDRS;
	size_t size = 8 + 40;
	struct virtio_msg_hdr *msg;

	msg = kunit_kzalloc(test, size, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, msg);

	KUNIT_EXPECT_EQ(test, virtio_msg_build_set_vqueue(msg, size,
							  VIRTIO_MSG_WIRE_V1, 7,
							  &vmsg_test_vq), 48);
	KUNIT_EXPECT_EQ(test, msg->msg_id, VIRTIO_MSG_SET_VQUEUE);
	KUNIT_EXPECT_EQ(test, le16_to_cpu(msg->dev_num), 7);
	KUNIT_EXPECT_MEMEQ(test, msg + 1, v1, 40);

	KUNIT_EXPECT_EQ(test, virtio_msg_build_set_vqueue(msg, size,
							  VIRTIO_MSG_WIRE_V2, 7,
							  &vmsg_test_vq), 48);
	KUNIT_EXPECT_MEMEQ(test, msg + 1, v2, 40);

	KUNIT_EXPECT_EQ(test, virtio_msg_build_set_vqueue(msg, size - 1,
							  VIRTIO_MSG_WIRE_V2, 7,
							  &vmsg_test_vq),
			-EMSGSIZE);
	KUNIT_EXPECT_EQ(test, virtio_msg_build_set_vqueue(msg, size, 0, 7,
							  &vmsg_test_vq),
			-EINVAL);
}

/* Lay a response out from its payload bytes. */
static struct virtio_msg_hdr *vmsg_resp(struct kunit *test, u8 type, u8 id,
					const char *payload, size_t plen)
{
	struct vmsg_msg m = { .type = type, .msg_id = id, .payload = payload,
			      .plen = plen };

	return vmsg_build(test, &m, 8 + plen);
}

#define RESP(id, s)	vmsg_resp(test, T_RESP, (id), (s), sizeof(s) - 1)

static void vmsg_test_parse(struct kunit *test)
{
	struct virtio_msg_devices_window w;
	struct virtio_msg_dev_info info;
	struct virtio_msg_vq_info vq;
	struct virtio_msg_hdr *r;
	u64 addr, len;

	/* GET_DEVICE_INFO: v1 bits, v2 blocks (saturated) and a UUID. */
	r = RESP(VIRTIO_MSG_GET_DEVICE_INFO,
		 "\x01\x00\x00\x00"
		 "\xf4\x1a\x00\x00"
		 "\x40\x00\x00\x00"
		 "\x08\x00\x00\x00"
		 "\x03\x00\x00\x00"
		 "\x02\x00"
		 "\x01\x00");
	virtio_msg_parse_device_info(r, VIRTIO_MSG_WIRE_V1, &info);
	KUNIT_EXPECT_EQ(test, info.device_id, 1);
	KUNIT_EXPECT_EQ(test, info.vendor_id, 0x1af4);
	KUNIT_EXPECT_EQ(test, info.num_feature_bits, 64);
	KUNIT_EXPECT_EQ(test, info.config_size, 8);
	KUNIT_EXPECT_EQ(test, info.max_vqs, 3);
	KUNIT_EXPECT_EQ(test, info.admin_vq_start, 2);
	KUNIT_EXPECT_EQ(test, info.admin_vq_count, 1);
	KUNIT_EXPECT_TRUE(test, !memchr_inv(info.uuid, 0, sizeof(info.uuid)));

	r = RESP(VIRTIO_MSG_GET_DEVICE_INFO,
		 "\x02\x00\x00\x00"
		 "\xf4\x1a\x00\x00"
		 "\x00\x11\x22\x33\x44\x55\x66\x77"
		 "\x88\x99\xaa\xbb\xcc\xdd\xee\xff"
		 "\x03\x00\x00\x00"
		 "\x10\x00\x00\x00"
		 "\x00\x00\x01\x00"
		 "\x00\x00\x00\x01"
		 "\x02\x00\x00\x00");
	virtio_msg_parse_device_info(r, VIRTIO_MSG_WIRE_V2, &info);
	KUNIT_EXPECT_EQ(test, info.device_id, 2);
	KUNIT_EXPECT_MEMEQ(test, info.uuid,
			   "\x00\x11\x22\x33\x44\x55\x66\x77"
			   "\x88\x99\xaa\xbb\xcc\xdd\xee\xff", 16);
	KUNIT_EXPECT_EQ(test, info.num_feature_bits, 96);
	KUNIT_EXPECT_EQ(test, info.config_size, 16);
	KUNIT_EXPECT_EQ(test, info.max_vqs, 65536);
	KUNIT_EXPECT_EQ(test, info.admin_vq_start, 0x01000000);
	KUNIT_EXPECT_EQ(test, info.admin_vq_count, 2);

	r = RESP(VIRTIO_MSG_GET_DEVICE_INFO,
		 Z32 Z32 Z32 Z32 Z32 Z32 "\xff\xff\xff\xff" Z32 Z32 Z32 Z32);
	virtio_msg_parse_device_info(r, VIRTIO_MSG_WIRE_V2, &info);
	KUNIT_EXPECT_EQ(test, info.num_feature_bits, U32_MAX / 32 * 32);

	/* GET_VQUEUE: word 12 is ENABLED in v2 only. */
	r = RESP(VIRTIO_MSG_GET_VQUEUE,
		 "\x02\x00\x00\x00"
		 "\x00\x04\x00\x00"
		 "\x00\x01\x00\x00"
		 "\x01\x00\x00\x00" VQ_ADDRS);
	virtio_msg_parse_vqueue(r, VIRTIO_MSG_WIRE_V1, &vq);
	KUNIT_EXPECT_FALSE(test, vq.enabled);
	virtio_msg_parse_vqueue(r, VIRTIO_MSG_WIRE_V2, &vq);
	KUNIT_EXPECT_TRUE(test, vq.enabled);
	KUNIT_EXPECT_EQ(test, vq.index, 2);
	KUNIT_EXPECT_EQ(test, vq.max_size, 0x400);
	KUNIT_EXPECT_EQ(test, vq.size, 0x100);
	KUNIT_EXPECT_EQ(test, vq.desc_addr, vmsg_test_vq.desc_addr);
	KUNIT_EXPECT_EQ(test, vq.driver_addr, vmsg_test_vq.driver_addr);
	KUNIT_EXPECT_EQ(test, vq.device_addr, vmsg_test_vq.device_addr);

	/* GET_SHM: 32-bit fields in v1, 64-bit ones in v2. */
	r = RESP(VIRTIO_MSG_GET_SHM, Z32 "\x00\x10\x00\x00"
		 "\x00\x80\x00\x00");
	virtio_msg_parse_shm(r, VIRTIO_MSG_WIRE_V1, &addr, &len);
	KUNIT_EXPECT_EQ(test, addr, 0x8000);
	KUNIT_EXPECT_EQ(test, len, 0x1000);
	r = RESP(VIRTIO_MSG_GET_SHM, Z32 Z32
		 "\x00\x00\x00\x00\x02\x00\x00\x00"
		 "\x00\x60\x45\x23\x01\x00\x00\x00");
	virtio_msg_parse_shm(r, VIRTIO_MSG_WIRE_V2, &addr, &len);
	KUNIT_EXPECT_EQ(test, addr, 0x123456000ULL);
	KUNIT_EXPECT_EQ(test, len, 0x200000000ULL);

	/* GET_DEVICES: count and next_offset swap places. */
	r = vmsg_resp(test, T_BUS_RESP, VIRTIO_MSG_BUS_GET_DEVICES,
		      "\x10\x00"
		      "\x08\x00"
		      "\x20\x00"
		      "\x25", 7);
	virtio_msg_parse_get_devices(r, VIRTIO_MSG_WIRE_V1, &w);
	KUNIT_EXPECT_EQ(test, w.offset, 0x10);
	KUNIT_EXPECT_EQ(test, w.count, 8);
	KUNIT_EXPECT_EQ(test, w.next_offset, 0x20);
	KUNIT_EXPECT_EQ(test, w.bitmap[0], 0x25);
	virtio_msg_parse_get_devices(r, VIRTIO_MSG_WIRE_V2, &w);
	KUNIT_EXPECT_EQ(test, w.offset, 0x10);
	KUNIT_EXPECT_EQ(test, w.count, 0x20);
	KUNIT_EXPECT_EQ(test, w.next_offset, 8);
}

static struct kunit_case virtio_msg_test_cases[] = {
	KUNIT_CASE_PARAM(vmsg_test_build, vmsg_build_gen_params),
	KUNIT_CASE(vmsg_test_build_payload),
	KUNIT_CASE_PARAM(vmsg_test_validate, vmsg_validate_gen_params),
	KUNIT_CASE_PARAM(vmsg_test_match, vmsg_match_gen_params),
	KUNIT_CASE(vmsg_test_round_trip),
	KUNIT_CASE(vmsg_test_build_set_vqueue),
	KUNIT_CASE(vmsg_test_parse),
	{}
};

static struct kunit_suite virtio_msg_test_suite = {
	.name = "virtio_msg",
	.test_cases = virtio_msg_test_cases,
};

kunit_test_suite(virtio_msg_test_suite);

MODULE_IMPORT_NS(VIRTIO_MSG_KUNIT_NS);
MODULE_DESCRIPTION("KUnit tests for the virtio-msg message helpers");
MODULE_LICENSE("GPL");

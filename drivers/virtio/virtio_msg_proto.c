// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-msg transport: building outbound messages and validating inbound
 * ones, on the driver side of the transport.
 *
 * Everything a device (or the device-side bus) sends is untrusted. The
 * helpers here decide whether an inbound message is well formed, and
 * whether a response belongs to the request it claims to answer; nothing
 * the peer sends is trusted before they have accepted it. They are pure
 * functions: no locks, no allocation, no logging, so they can run in any
 * context, including the receive path of a bus in hard interrupt context.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <kunit/visibility.h>
#include <linux/bits.h>
#include <linux/build_bug.h>
#include <linux/errno.h>
#include <linux/export.h>
#include <linux/limits.h>
#include <linux/minmax.h>
#include <linux/stddef.h>
#include <linux/string.h>
#include <linux/types.h>
#include <asm/byteorder.h>
#include <uapi/linux/virtio_msg.h>

#include "virtio_msg_internal.h"

/*
 * The wire layout is fixed by the specification; catch any drift of the
 * uapi structs (padding, reordering, a changed type) at build time.
 */
#define VMSG_ASSERT_SIZE(s, size) \
	static_assert(sizeof(struct s) == (size))
#define VMSG_ASSERT_OFF(s, m, off) \
	static_assert(offsetof(struct s, m) == (off))

VMSG_ASSERT_SIZE(virtio_msg_hdr, VIRTIO_MSG_HDR_SIZE);
VMSG_ASSERT_OFF(virtio_msg_hdr, type, 0);
VMSG_ASSERT_OFF(virtio_msg_hdr, msg_id, 1);
VMSG_ASSERT_OFF(virtio_msg_hdr, dev_num, 2);
VMSG_ASSERT_OFF(virtio_msg_hdr, token, 4);
VMSG_ASSERT_OFF(virtio_msg_hdr, msg_size, 6);

VMSG_ASSERT_SIZE(virtio_msg_get_device_info_resp, 24);
VMSG_ASSERT_OFF(virtio_msg_get_device_info_resp, device_id, 0);
VMSG_ASSERT_OFF(virtio_msg_get_device_info_resp, vendor_id, 4);
VMSG_ASSERT_OFF(virtio_msg_get_device_info_resp, num_feature_bits, 8);
VMSG_ASSERT_OFF(virtio_msg_get_device_info_resp, config_size, 12);
VMSG_ASSERT_OFF(virtio_msg_get_device_info_resp, max_virtqueues, 16);
VMSG_ASSERT_OFF(virtio_msg_get_device_info_resp, admin_vq_start, 20);
VMSG_ASSERT_OFF(virtio_msg_get_device_info_resp, admin_vq_count, 22);

VMSG_ASSERT_SIZE(virtio_msg_get_device_info_resp_v2, 44);
VMSG_ASSERT_OFF(virtio_msg_get_device_info_resp_v2, device_id, 0);
VMSG_ASSERT_OFF(virtio_msg_get_device_info_resp_v2, vendor_id, 4);
VMSG_ASSERT_OFF(virtio_msg_get_device_info_resp_v2, device_uuid, 8);
VMSG_ASSERT_OFF(virtio_msg_get_device_info_resp_v2, num_feature_blocks, 24);
VMSG_ASSERT_OFF(virtio_msg_get_device_info_resp_v2, config_size, 28);
VMSG_ASSERT_OFF(virtio_msg_get_device_info_resp_v2, max_virtqueues, 32);
VMSG_ASSERT_OFF(virtio_msg_get_device_info_resp_v2, admin_vq_start, 36);
VMSG_ASSERT_OFF(virtio_msg_get_device_info_resp_v2, admin_vq_count, 40);

VMSG_ASSERT_SIZE(virtio_msg_features, 8);
VMSG_ASSERT_OFF(virtio_msg_features, block_index, 0);
VMSG_ASSERT_OFF(virtio_msg_features, num_blocks, 4);
VMSG_ASSERT_OFF(virtio_msg_features, features, 8);

VMSG_ASSERT_SIZE(virtio_msg_get_config_req, 8);
VMSG_ASSERT_OFF(virtio_msg_get_config_req, offset, 0);
VMSG_ASSERT_OFF(virtio_msg_get_config_req, length, 4);

VMSG_ASSERT_SIZE(virtio_msg_config, 12);
VMSG_ASSERT_OFF(virtio_msg_config, generation, 0);
VMSG_ASSERT_OFF(virtio_msg_config, offset, 4);
VMSG_ASSERT_OFF(virtio_msg_config, length, 8);
VMSG_ASSERT_OFF(virtio_msg_config, data, 12);

VMSG_ASSERT_SIZE(virtio_msg_status, 4);
VMSG_ASSERT_OFF(virtio_msg_status, status, 0);

VMSG_ASSERT_SIZE(virtio_msg_vqueue_index, 4);
VMSG_ASSERT_OFF(virtio_msg_vqueue_index, index, 0);

VMSG_ASSERT_SIZE(virtio_msg_vqueue, 40);
VMSG_ASSERT_OFF(virtio_msg_vqueue, index, 0);
VMSG_ASSERT_OFF(virtio_msg_vqueue, max_size, 4);
VMSG_ASSERT_OFF(virtio_msg_vqueue, size, 8);
VMSG_ASSERT_OFF(virtio_msg_vqueue, reserved, 12);
VMSG_ASSERT_OFF(virtio_msg_vqueue, desc_addr, 16);
VMSG_ASSERT_OFF(virtio_msg_vqueue, driver_addr, 24);
VMSG_ASSERT_OFF(virtio_msg_vqueue, device_addr, 32);

VMSG_ASSERT_SIZE(virtio_msg_get_vqueue_resp_v2, 40);
VMSG_ASSERT_OFF(virtio_msg_get_vqueue_resp_v2, index, 0);
VMSG_ASSERT_OFF(virtio_msg_get_vqueue_resp_v2, max_size, 4);
VMSG_ASSERT_OFF(virtio_msg_get_vqueue_resp_v2, size, 8);
VMSG_ASSERT_OFF(virtio_msg_get_vqueue_resp_v2, flags, 12);
VMSG_ASSERT_OFF(virtio_msg_get_vqueue_resp_v2, desc_addr, 16);
VMSG_ASSERT_OFF(virtio_msg_get_vqueue_resp_v2, driver_addr, 24);
VMSG_ASSERT_OFF(virtio_msg_get_vqueue_resp_v2, device_addr, 32);

VMSG_ASSERT_SIZE(virtio_msg_set_vqueue_req_v2, 40);
VMSG_ASSERT_OFF(virtio_msg_set_vqueue_req_v2, index, 0);
VMSG_ASSERT_OFF(virtio_msg_set_vqueue_req_v2, flags, 4);
VMSG_ASSERT_OFF(virtio_msg_set_vqueue_req_v2, size, 8);
VMSG_ASSERT_OFF(virtio_msg_set_vqueue_req_v2, reserved, 12);
VMSG_ASSERT_OFF(virtio_msg_set_vqueue_req_v2, desc_addr, 16);
VMSG_ASSERT_OFF(virtio_msg_set_vqueue_req_v2, driver_addr, 24);
VMSG_ASSERT_OFF(virtio_msg_set_vqueue_req_v2, device_addr, 32);

VMSG_ASSERT_SIZE(virtio_msg_get_shm_resp, 12);
VMSG_ASSERT_OFF(virtio_msg_get_shm_resp, index, 0);
VMSG_ASSERT_OFF(virtio_msg_get_shm_resp, length, 4);
VMSG_ASSERT_OFF(virtio_msg_get_shm_resp, address, 8);

VMSG_ASSERT_SIZE(virtio_msg_get_shm_resp_v2, 24);
VMSG_ASSERT_OFF(virtio_msg_get_shm_resp_v2, index, 0);
VMSG_ASSERT_OFF(virtio_msg_get_shm_resp_v2, reserved, 4);
VMSG_ASSERT_OFF(virtio_msg_get_shm_resp_v2, length, 8);
VMSG_ASSERT_OFF(virtio_msg_get_shm_resp_v2, address, 16);

VMSG_ASSERT_SIZE(virtio_msg_event_config, 16);
VMSG_ASSERT_OFF(virtio_msg_event_config, device_status, 0);
VMSG_ASSERT_OFF(virtio_msg_event_config, generation, 4);
VMSG_ASSERT_OFF(virtio_msg_event_config, offset, 8);
VMSG_ASSERT_OFF(virtio_msg_event_config, length, 12);
VMSG_ASSERT_OFF(virtio_msg_event_config, data, 16);

VMSG_ASSERT_SIZE(virtio_msg_event_avail, 8);
VMSG_ASSERT_OFF(virtio_msg_event_avail, vq_index, 0);
VMSG_ASSERT_OFF(virtio_msg_event_avail, next_offset, 4);

VMSG_ASSERT_SIZE(virtio_msg_bus_get_devices_req, 4);
VMSG_ASSERT_OFF(virtio_msg_bus_get_devices_req, offset, 0);
VMSG_ASSERT_OFF(virtio_msg_bus_get_devices_req, count, 2);

VMSG_ASSERT_SIZE(virtio_msg_bus_get_devices_resp, 6);
VMSG_ASSERT_OFF(virtio_msg_bus_get_devices_resp, offset, 0);
VMSG_ASSERT_OFF(virtio_msg_bus_get_devices_resp, count, 2);
VMSG_ASSERT_OFF(virtio_msg_bus_get_devices_resp, next_offset, 4);
VMSG_ASSERT_OFF(virtio_msg_bus_get_devices_resp, bitmap, 6);

VMSG_ASSERT_SIZE(virtio_msg_bus_get_devices_resp_v2, 6);
VMSG_ASSERT_OFF(virtio_msg_bus_get_devices_resp_v2, offset, 0);
VMSG_ASSERT_OFF(virtio_msg_bus_get_devices_resp_v2, next_offset, 2);
VMSG_ASSERT_OFF(virtio_msg_bus_get_devices_resp_v2, count, 4);
VMSG_ASSERT_OFF(virtio_msg_bus_get_devices_resp_v2, bitmap, 6);

VMSG_ASSERT_SIZE(virtio_msg_bus_ping, 4);
VMSG_ASSERT_OFF(virtio_msg_bus_ping, data, 0);

VMSG_ASSERT_SIZE(virtio_msg_bus_event_device, 4);
VMSG_ASSERT_OFF(virtio_msg_bus_event_device, dev_num, 0);
VMSG_ASSERT_OFF(virtio_msg_bus_event_device, state, 2);

/* The smallest bus maximum must fit the largest fixed-size message. */
static_assert(VIRTIO_MSG_MAX_SIZE_MIN >=
	      VIRTIO_MSG_HDR_SIZE + sizeof(struct virtio_msg_vqueue));
static_assert(VIRTIO_MSG_MAX_SIZE_MIN >=
	      VIRTIO_MSG_HDR_SIZE +
	      sizeof(struct virtio_msg_get_device_info_resp_v2));
/* msg_size is a le16. */
static_assert(VIRTIO_MSG_MAX_SIZE_MAX <= U16_MAX);

/* Device numbers are 16 bits: GET_DEVICES windows end at 0x10000. */
#define VMSG_NUM_DEV_NUMS	(U16_MAX + 1U)
/* Config space offsets are 32 bits: ranges end at 4 GiB at most. */
#define VMSG_CONFIG_SPACE_END	(U32_MAX + 1ULL)
/* v2: max_virtqueues counts at most 65536 queues. */
#define VMSG_V2_MAX_VQS		65536U

static bool vmsg_wire_known(u8 wire)
{
	return wire == VIRTIO_MSG_WIRE_V1 || wire == VIRTIO_MSG_WIRE_V2;
}

static int vmsg_init(struct virtio_msg_hdr *msg, size_t max_size, u8 type,
		     u8 msg_id, __le16 dev_num, __le16 token,
		     size_t payload_len)
{
	size_t size;

	if (payload_len > VIRTIO_MSG_MAX_SIZE_MAX - sizeof(*msg))
		return -EMSGSIZE;
	size = sizeof(*msg) + payload_len;
	if (size > max_size)
		return -EMSGSIZE;

	/* Reserved fields and padding in the payload must go out as 0. */
	memset(msg, 0, size);
	msg->type = type;
	msg->msg_id = msg_id;
	msg->dev_num = dev_num;
	msg->token = token;
	msg->msg_size = cpu_to_le16(size);

	return size;
}

/**
 * virtio_msg_init_request() - start a transport request or event
 * @msg: buffer for the message, suitably aligned for the wire structs
 * @max_size: bytes available at @msg; callers pass at most the maximum
 *	message size of the bus
 * @msg_id: VIRTIO_MSG_* transport message ID
 * @dev_num: device number the message is for
 * @payload_len: payload size in bytes, without the header
 *
 * Writes the header of a transport request (or, for an event ID, an event:
 * both have the response bit clear) and zeroes @payload_len bytes of
 * payload, so that reserved fields and padding go out as 0 and the caller
 * fills in only the fields it uses. The token is left at 0; the caller sets
 * it when it sends a request.
 *
 * Context: Any context. Does not sleep or allocate.
 * Return: the message size (header plus payload), or -EMSGSIZE if it would
 * exceed @max_size or the largest size msg_size can describe; then @msg is
 * left untouched.
 */
int virtio_msg_init_request(struct virtio_msg_hdr *msg, size_t max_size,
			    u8 msg_id, u16 dev_num, size_t payload_len)
{
	return vmsg_init(msg, max_size, 0, msg_id, cpu_to_le16(dev_num), 0,
			 payload_len);
}
EXPORT_SYMBOL_IF_KUNIT(virtio_msg_init_request);

/**
 * virtio_msg_init_bus_request() - start a bus request or event
 * @msg: buffer for the message, suitably aligned for the wire structs
 * @max_size: bytes available at @msg; callers pass at most the maximum
 *	message size of the bus
 * @msg_id: VIRTIO_MSG_BUS_* message ID
 * @payload_len: payload size in bytes, without the header
 *
 * As virtio_msg_init_request(), for the bus ID space: the bus bit is set and
 * the device number is 0, as the specification requires of bus messages.
 *
 * Context: Any context. Does not sleep or allocate.
 * Return: the message size, or -EMSGSIZE as for virtio_msg_init_request().
 */
int virtio_msg_init_bus_request(struct virtio_msg_hdr *msg, size_t max_size,
				u8 msg_id, size_t payload_len)
{
	return vmsg_init(msg, max_size, VIRTIO_MSG_TYPE_BUS, msg_id, 0, 0,
			 payload_len);
}
EXPORT_SYMBOL_IF_KUNIT(virtio_msg_init_bus_request);

/**
 * virtio_msg_init_response() - start the response to an inbound request
 * @msg: buffer for the response, suitably aligned for the wire structs;
 *	must not overlap @req
 * @max_size: bytes available at @msg; callers pass at most the maximum
 *	message size of the bus
 * @req: the request being answered, accepted by virtio_msg_validate()
 * @payload_len: payload size in bytes, without the header
 *
 * The driver side answers few requests (a bus PING from the device side),
 * but it answers them like a device would: same ID space, message ID,
 * device number and token as the request, with the response bit set.
 *
 * Context: Any context. Does not sleep or allocate.
 * Return: the message size, or -EMSGSIZE as for virtio_msg_init_request().
 */
int virtio_msg_init_response(struct virtio_msg_hdr *msg, size_t max_size,
			     const struct virtio_msg_hdr *req,
			     size_t payload_len)
{
	u8 type = (req->type & VIRTIO_MSG_TYPE_BUS) | VIRTIO_MSG_TYPE_RESPONSE;

	return vmsg_init(msg, max_size, type, req->msg_id, req->dev_num,
			 req->token, payload_len);
}
EXPORT_SYMBOL_IF_KUNIT(virtio_msg_init_response);

static int vmsg_check_exact(size_t plen, size_t want)
{
	return plen == want ? 0 : -EBADMSG;
}

/* A config range must lie inside a 32-bit configuration space. */
static bool vmsg_config_range_ok(__le32 offset, __le32 length)
{
	return (u64)le32_to_cpu(offset) + le32_to_cpu(length) <=
	       VMSG_CONFIG_SPACE_END;
}

/* GET_DEVICE_FEATURES response: 8 bytes then num_blocks 32-bit blocks. */
static int vmsg_check_features(const struct virtio_msg_features *f,
			       size_t plen)
{
	size_t nblocks;

	if (plen < sizeof(*f))
		return -EBADMSG;
	plen -= sizeof(*f);
	if (plen % sizeof(f->features[0]))
		return -EBADMSG;
	nblocks = plen / sizeof(f->features[0]);
	/* Compared in size_t: a huge num_blocks cannot wrap into range. */
	if (le32_to_cpu(f->num_blocks) != nblocks)
		return -EBADMSG;
	return 0;
}

/* GET_CONFIG response: 12 bytes, then exactly length bytes of data. */
static int vmsg_check_get_config(const struct virtio_msg_config *c,
				 size_t plen)
{
	if (plen < sizeof(*c))
		return -EBADMSG;
	if (le32_to_cpu(c->length) != plen - sizeof(*c))
		return -EBADMSG;
	if (!vmsg_config_range_ok(c->offset, c->length))
		return -EBADMSG;
	return 0;
}

/*
 * SET_CONFIG response: 12 bytes, where length is the number of bytes the
 * device applied (0: rejected). The specification lets the device echo the
 * data it applied, so the payload is either 12 bytes or 12 + length bytes.
 */
static int vmsg_check_set_config(const struct virtio_msg_config *c,
				 size_t plen)
{
	if (plen < sizeof(*c))
		return -EBADMSG;
	if (plen != sizeof(*c) && le32_to_cpu(c->length) != plen - sizeof(*c))
		return -EBADMSG;
	if (!vmsg_config_range_ok(c->offset, c->length))
		return -EBADMSG;
	return 0;
}

/*
 * EVENT_CONFIG: 16 bytes, then the new data. Whether the data is mandatory
 * is an open question in the specification; without it the device should
 * still name the changed range in offset and length, and the driver reads
 * it back with GET_CONFIG. So accept 16 + length bytes (data included) or
 * 16 bytes (data left out, length describes the range).
 */
static int vmsg_check_event_config(const struct virtio_msg_event_config *e,
				   size_t plen)
{
	if (plen < sizeof(*e))
		return -EBADMSG;
	if (plen != sizeof(*e) && le32_to_cpu(e->length) != plen - sizeof(*e))
		return -EBADMSG;
	if (!vmsg_config_range_ok(e->offset, e->length))
		return -EBADMSG;
	return 0;
}

/*
 * GET_DEVICES response: a window of count device numbers from offset, with
 * one bitmap bit per device number. The responder must keep offset and
 * count multiples of 8. next_offset becomes the offset of the next request,
 * so it must be a multiple of 8 as well, and, to guarantee that an
 * enumeration loop ends, lie beyond the window (0 ends the enumeration).
 * v1 and v2 carry the same three fields in another order.
 */
static void vmsg_get_devices_fields(const void *p, u8 wire,
				    u32 *offset, u32 *count, u32 *next)
{
	const struct virtio_msg_bus_get_devices_resp_v2 *d2 = p;
	const struct virtio_msg_bus_get_devices_resp *d1 = p;

	if (wire == VIRTIO_MSG_WIRE_V2) {
		*offset = le16_to_cpu(d2->offset);
		*count = le16_to_cpu(d2->count);
		*next = le16_to_cpu(d2->next_offset);
	} else {
		*offset = le16_to_cpu(d1->offset);
		*count = le16_to_cpu(d1->count);
		*next = le16_to_cpu(d1->next_offset);
	}
}

static int vmsg_check_get_devices(const void *d, size_t plen, u8 wire)
{
	u32 offset, count, next;

	static_assert(sizeof(struct virtio_msg_bus_get_devices_resp) ==
		      sizeof(struct virtio_msg_bus_get_devices_resp_v2));
	if (plen < sizeof(struct virtio_msg_bus_get_devices_resp))
		return -EBADMSG;
	vmsg_get_devices_fields(d, wire, &offset, &count, &next);

	if (offset % BITS_PER_BYTE || count % BITS_PER_BYTE ||
	    next % BITS_PER_BYTE)
		return -EBADMSG;
	if (plen - sizeof(struct virtio_msg_bus_get_devices_resp) !=
	    count / BITS_PER_BYTE)
		return -EBADMSG;
	/* u32 arithmetic: no wrap, the window must end within 16 bits. */
	if (offset + count > VMSG_NUM_DEV_NUMS)
		return -EBADMSG;
	if (next && (next < offset + count || next <= offset))
		return -EBADMSG;
	return 0;
}

/*
 * v2 GET_DEVICE_INFO: at most 65536 virtqueues, the administration
 * queues among them. The number of feature blocks is not checked here:
 * the driver reads only the blocks it understands.
 */
static int vmsg_check_device_info_v2(const struct virtio_msg_get_device_info_resp_v2 *di,
				     size_t plen)
{
	u32 max_vqs;

	if (plen != sizeof(*di))
		return -EBADMSG;
	max_vqs = le32_to_cpu(di->max_virtqueues);
	if (max_vqs > VMSG_V2_MAX_VQS)
		return -EBADMSG;
	if (di->admin_vq_count &&
	    (u64)le32_to_cpu(di->admin_vq_start) +
	    le32_to_cpu(di->admin_vq_count) > max_vqs)
		return -EBADMSG;
	return 0;
}

/*
 * v2 GET_VQUEUE: a live queue must exist and have a size it supports.
 * Other flag bits are reserved: ignored on receive, as the specification
 * asks of reserved values.
 */
static int vmsg_check_vqueue_v2(const struct virtio_msg_get_vqueue_resp_v2 *vr,
				size_t plen)
{
	u32 max_size, size;

	if (plen != sizeof(*vr))
		return -EBADMSG;
	if (!(le32_to_cpu(vr->flags) & VIRTIO_MSG_VQUEUE_V2_ENABLED))
		return 0;
	max_size = le32_to_cpu(vr->max_size);
	size = le32_to_cpu(vr->size);
	if (!max_size || !size || size > max_size)
		return -EBADMSG;
	return 0;
}

/* v2 GET_SHM: a region must not wrap around the 64-bit address space. */
static int vmsg_check_shm_v2(const struct virtio_msg_get_shm_resp_v2 *sr,
			     size_t plen)
{
	u64 len, addr;

	if (plen != sizeof(*sr))
		return -EBADMSG;
	len = le64_to_cpu(sr->length);
	addr = le64_to_cpu(sr->address);
	if (len && addr + (len - 1) < addr)
		return -EBADMSG;
	return 0;
}

/* A response to a transport request: the driver sent every request ID. */
static int vmsg_check_transport_resp(const struct virtio_msg_hdr *msg,
				     size_t plen, u8 wire)
{
	bool v2 = wire == VIRTIO_MSG_WIRE_V2;
	const void *p = msg + 1;

	switch (msg->msg_id) {
	case VIRTIO_MSG_GET_DEVICE_INFO:
		if (v2)
			return vmsg_check_device_info_v2(p, plen);
		return vmsg_check_exact(plen,
				sizeof(struct virtio_msg_get_device_info_resp));
	case VIRTIO_MSG_GET_DEVICE_FEATURES:
		return vmsg_check_features(p, plen);
	case VIRTIO_MSG_SET_DRIVER_FEATURES:
	case VIRTIO_MSG_SET_VQUEUE:
	case VIRTIO_MSG_RESET_VQUEUE:
		return vmsg_check_exact(plen, 0);
	case VIRTIO_MSG_GET_CONFIG:
		return vmsg_check_get_config(p, plen);
	case VIRTIO_MSG_SET_CONFIG:
		return vmsg_check_set_config(p, plen);
	case VIRTIO_MSG_GET_DEVICE_STATUS:
	case VIRTIO_MSG_SET_DEVICE_STATUS:
		return vmsg_check_exact(plen, sizeof(struct virtio_msg_status));
	case VIRTIO_MSG_GET_VQUEUE:
		if (v2)
			return vmsg_check_vqueue_v2(p, plen);
		return vmsg_check_exact(plen, sizeof(struct virtio_msg_vqueue));
	case VIRTIO_MSG_GET_SHM:
		if (v2)
			return vmsg_check_shm_v2(p, plen);
		return vmsg_check_exact(plen,
					sizeof(struct virtio_msg_get_shm_resp));
	default:
		return -EOPNOTSUPP;
	}
}

/* A transport message from the device that is not a response. */
static int vmsg_check_transport_req(const struct virtio_msg_hdr *msg,
				    size_t plen)
{
	switch (msg->msg_id) {
	case VIRTIO_MSG_EVENT_CONFIG:
		return vmsg_check_event_config((const void *)(msg + 1), plen);
	case VIRTIO_MSG_EVENT_USED:
		return vmsg_check_exact(plen,
					sizeof(struct virtio_msg_vqueue_index));
	case VIRTIO_MSG_EVENT_AVAIL:
	case VIRTIO_MSG_GET_DEVICE_INFO ... VIRTIO_MSG_GET_SHM:
		/* Only the driver sends these. */
		return -EPROTO;
	default:
		return -EOPNOTSUPP;
	}
}

static int vmsg_check_bus_resp(const struct virtio_msg_hdr *msg, size_t plen,
			       u8 wire)
{
	switch (msg->msg_id) {
	case VIRTIO_MSG_BUS_GET_DEVICES:
		return vmsg_check_get_devices(msg + 1, plen, wire);
	case VIRTIO_MSG_BUS_PING:
		return vmsg_check_exact(plen, sizeof(struct virtio_msg_bus_ping));
	default:
		return -EOPNOTSUPP;
	}
}

static int vmsg_check_bus_req(const struct virtio_msg_hdr *msg, size_t plen)
{
	switch (msg->msg_id) {
	case VIRTIO_MSG_BUS_PING:
		/* Either side may ping the other. */
		return vmsg_check_exact(plen, sizeof(struct virtio_msg_bus_ping));
	case VIRTIO_MSG_BUS_EVENT_DEVICE:
		/*
		 * The state is not checked: reserved and implementation-defined
		 * states are for the hotplug code to ignore. v2's ADDED is
		 * v1's READY, so the layout is the same in both.
		 */
		return vmsg_check_exact(plen,
				sizeof(struct virtio_msg_bus_event_device));
	case VIRTIO_MSG_BUS_GET_DEVICES:
		/* Only the driver-side bus enumerates. */
		return -EPROTO;
	default:
		return -EOPNOTSUPP;
	}
}

/**
 * virtio_msg_validate() - check an inbound message before using it
 * @msg: the received bytes, suitably aligned for the wire structs
 * @len: number of bytes received at @msg (a bus may deliver more than
 *	msg_size, e.g. a fixed-size slot; the rest is ignored)
 * @max_size: maximum message size of the bus the message came from
 * @wire: the bus's wire generation, VIRTIO_MSG_WIRE_V1 or
 *	VIRTIO_MSG_WIRE_V2; it decides the layouts of GET_DEVICE_INFO,
 *	GET_VQUEUE, GET_SHM and GET_DEVICES responses
 *
 * Checks everything about a message from the device side that can be
 * checked without knowing the request it may answer (for that, see
 * virtio_msg_match_response()):
 *
 * - msg_size covers at least the header and at most @len and @max_size;
 * - the message is one the device side may send to the driver: a response
 *   to a transport request, EVENT_CONFIG or EVENT_USED, a GET_DEVICES or
 *   PING bus response, a bus PING request, or a bus EVENT_DEVICE;
 * - the payload length is right for the message ID and @wire, and length
 *   and count fields inside the payload agree with it;
 * - in v2: a GET_DEVICE_INFO response has at most 65536 virtqueues with
 *   the administration queues among them, a GET_VQUEUE response that says
 *   ENABLED names an existing queue with a size no larger than its
 *   maximum, and a GET_SHM region does not wrap around.
 *
 * Reserved type bits are ignored, as the specification asks of a
 * receiver, as is dev_num in bus messages (the type bit, not dev_num, tells
 * bus messages apart). No field is read beyond the first @len bytes.
 *
 * Context: Any context. Does not sleep or allocate.
 * Return: 0 if the message is well formed, or
 * * -EINVAL: @wire is not a wire generation (a caller bug);
 * * -EMSGSIZE: @len is shorter than a header, or msg_size is smaller than
 *   a header or larger than @len or @max_size;
 * * -EOPNOTSUPP: the message ID is reserved, implementation-defined or
 *   unknown in its ID space (the specification says to drop it silently);
 * * -EPROTO: the device side may not send this message: an event with the
 *   response bit set, or a request that only the driver side sends;
 * * -EBADMSG: the payload length is wrong for the message ID, or a field
 *   inside the payload contradicts it or is out of range.
 */
int virtio_msg_validate(const struct virtio_msg_hdr *msg, size_t len,
			size_t max_size, u8 wire)
{
	size_t size, plen;

	if (!vmsg_wire_known(wire))
		return -EINVAL;
	if (len < sizeof(*msg))
		return -EMSGSIZE;
	size = le16_to_cpu(msg->msg_size);
	if (size < sizeof(*msg) || size > len || size > max_size)
		return -EMSGSIZE;
	plen = size - sizeof(*msg);

	if (virtio_msg_is_response(msg)) {
		/* Bit 6 marks events in both ID spaces; they get no response. */
		if (msg->msg_id & VIRTIO_MSG_ID_EVENT)
			return -EPROTO;
		if (virtio_msg_is_bus(msg))
			return vmsg_check_bus_resp(msg, plen, wire);
		return vmsg_check_transport_resp(msg, plen, wire);
	}

	if (virtio_msg_is_bus(msg))
		return vmsg_check_bus_req(msg, plen);
	return vmsg_check_transport_req(msg, plen);
}
EXPORT_SYMBOL_IF_KUNIT(virtio_msg_validate);

/*
 * Request-specific echoes. The specification calls the block_index and
 * num_blocks of a GET_DEVICE_FEATURES response echoes of the request, and
 * the PING data an exact echo: those must match. It names the offset and
 * index fields of the other responses without saying they may differ from
 * the request; data for another offset or queue than the one asked for
 * would be misfiled, so they must match too. Lengths and counts may come
 * back smaller than asked (a device may be limited by the maximum message
 * size), never larger.
 *
 * The config offset is the exception: with length 0 (a rejected write, or
 * nothing read) no data can be misfiled, and the specification does not
 * say what offset a rejecting device reports, so it is only compared when
 * length is non-zero.
 */
static int vmsg_match_config(__le32 req_offset, __le32 req_length,
			     const struct virtio_msg_config *cr)
{
	u32 length = le32_to_cpu(cr->length);

	if (length > le32_to_cpu(req_length))
		return -EBADMSG;
	if (length && cr->offset != req_offset)
		return -EBADMSG;
	return 0;
}

static int vmsg_match_transport(const struct virtio_msg_hdr *req,
				const struct virtio_msg_hdr *resp,
				size_t req_plen, u8 wire)
{
	const void *q = req + 1, *r = resp + 1;

	switch (req->msg_id) {
	case VIRTIO_MSG_GET_DEVICE_FEATURES: {
		const struct virtio_msg_features *fq = q, *fr = r;

		if (req_plen < sizeof(*fq))
			return -EINVAL;
		if (fr->block_index != fq->block_index ||
		    fr->num_blocks != fq->num_blocks)
			return -EBADMSG;
		return 0;
	}
	case VIRTIO_MSG_GET_CONFIG: {
		const struct virtio_msg_get_config_req *cq = q;
		const struct virtio_msg_config *cr = r;

		if (req_plen < sizeof(*cq))
			return -EINVAL;
		return vmsg_match_config(cq->offset, cq->length, cr);
	}
	case VIRTIO_MSG_SET_CONFIG: {
		/*
		 * length is what the device applied: 0 when it rejected the
		 * write (generation mismatch), at most what was sent. The
		 * generation is the resulting one and is not compared.
		 */
		const struct virtio_msg_config *cq = q, *cr = r;

		if (req_plen < sizeof(*cq))
			return -EINVAL;
		/* v2: a write is applied in full or not at all. */
		if (wire == VIRTIO_MSG_WIRE_V2 && cr->length &&
		    cr->length != cq->length)
			return -EBADMSG;
		return vmsg_match_config(cq->offset, cq->length, cr);
	}
	case VIRTIO_MSG_GET_VQUEUE: {
		/* The index is the first word in both generations. */
		const struct virtio_msg_vqueue_index *vq = q;
		const struct virtio_msg_vqueue *vr = r;

		if (req_plen < sizeof(*vq))
			return -EINVAL;
		return vr->index == vq->index ? 0 : -EBADMSG;
	}
	case VIRTIO_MSG_GET_SHM: {
		/* The index is the first word in both generations. */
		const struct virtio_msg_vqueue_index *sq = q;
		const struct virtio_msg_get_shm_resp *sr = r;

		if (req_plen < sizeof(*sq))
			return -EINVAL;
		return sr->index == sq->index ? 0 : -EBADMSG;
	}
	default:
		/* The other responses echo nothing from the request. */
		return 0;
	}
}

static int vmsg_match_bus(const struct virtio_msg_hdr *req,
			  const struct virtio_msg_hdr *resp, size_t req_plen,
			  u8 wire)
{
	const void *q = req + 1, *r = resp + 1;

	switch (req->msg_id) {
	case VIRTIO_MSG_BUS_GET_DEVICES: {
		const struct virtio_msg_bus_get_devices_req *dq = q;
		u32 offset, count, next;

		if (req_plen < sizeof(*dq))
			return -EINVAL;
		vmsg_get_devices_fields(r, wire, &offset, &count, &next);
		if (offset != le16_to_cpu(dq->offset) ||
		    count > le16_to_cpu(dq->count))
			return -EBADMSG;
		return 0;
	}
	case VIRTIO_MSG_BUS_PING: {
		const struct virtio_msg_bus_ping *pq = q, *pr = r;

		if (req_plen < sizeof(*pq))
			return -EINVAL;
		return pr->data == pq->data ? 0 : -EBADMSG;
	}
	default:
		return 0;
	}
}

/**
 * __virtio_msg_match_response() - check that a response answers a request
 * @req: the request as it was sent (built by this side)
 * @resp: the response, already accepted by virtio_msg_validate()
 * @token: compare the token too; false on a bus that may rewrite it
 *	(VIRTIO_MSG_BUS_F_NO_TOKEN_ECHO)
 * @wire: the wire generation @resp was validated for
 *
 * As virtio_msg_match_response(), which passes @token true.
 *
 * Context: Any context. Does not sleep or allocate.
 * Return: as virtio_msg_match_response().
 */
int __virtio_msg_match_response(const struct virtio_msg_hdr *req,
				const struct virtio_msg_hdr *resp, bool token,
				u8 wire)
{
	size_t req_size = le16_to_cpu(req->msg_size);

	if (!vmsg_wire_known(wire) ||
	    req_size < sizeof(*req) || virtio_msg_is_response(req) ||
	    (req->msg_id & VIRTIO_MSG_ID_EVENT))
		return -EINVAL;

	if (!virtio_msg_is_response(resp) ||
	    virtio_msg_is_bus(resp) != virtio_msg_is_bus(req) ||
	    resp->msg_id != req->msg_id || resp->dev_num != req->dev_num ||
	    (token && resp->token != req->token))
		return -EPROTO;

	if (virtio_msg_is_bus(req))
		return vmsg_match_bus(req, resp, req_size - sizeof(*req), wire);
	return vmsg_match_transport(req, resp, req_size - sizeof(*req), wire);
}
EXPORT_SYMBOL_IF_KUNIT(__virtio_msg_match_response);

/**
 * virtio_msg_match_response() - check that a response answers a request
 * @req: the request as it was sent (built by this side)
 * @resp: the response, already accepted by virtio_msg_validate() for
 *	@wire, which guarantees that the payload fields read here are present
 * @wire: the wire generation, VIRTIO_MSG_WIRE_V1 or VIRTIO_MSG_WIRE_V2
 *
 * The response must have the response bit set and carry the ID space,
 * message ID, device number and token of the request. The token is
 * compared too: whichever side ends up owning it (the specification has
 * moved from "the device echoes it" to "the bus manages it transparently"),
 * the driver gets its own value back. Reserved type bits are ignored.
 *
 * Then the fields a response echoes from its request must agree with it:
 * GET_DEVICE_FEATURES block_index and num_blocks; GET_CONFIG and SET_CONFIG
 * length no larger than the request's, and offset unless length is 0
 * (nothing read, or the write rejected); in v2, a SET_CONFIG length of
 * 0 or exactly the request's (partial writes are invalid); GET_VQUEUE and
 * GET_SHM index; bus GET_DEVICES offset, with a count no larger than the
 * request's; bus PING data.
 *
 * Context: Any context. Does not sleep or allocate.
 * Return: 0 if @resp answers @req, or
 * * -EINVAL: @req is not a request this side could have sent (an event, a
 *   response, or a payload too short for its message ID), or @wire is
 *   unknown: a caller bug;
 * * -EPROTO: @resp is not a response, or its ID space, message ID, device
 *   number or token differ from the request's;
 * * -EBADMSG: a field echoed from the request does not match it.
 */
int virtio_msg_match_response(const struct virtio_msg_hdr *req,
			      const struct virtio_msg_hdr *resp, u8 wire)
{
	return __virtio_msg_match_response(req, resp, true, wire);
}
EXPORT_SYMBOL_IF_KUNIT(virtio_msg_match_response);

/**
 * virtio_msg_parse_device_info() - read a GET_DEVICE_INFO response
 * @resp: the response, accepted by virtio_msg_validate() for @wire
 * @wire: its wire generation
 * @info: filled in; in v1 the UUID is all zero
 *
 * v2 counts features in 32-bit blocks: num_feature_bits is 32 times that,
 * saturated so that it cannot wrap (the driver reads two blocks at most).
 *
 * Context: Any context. Does not sleep or allocate.
 */
void virtio_msg_parse_device_info(const struct virtio_msg_hdr *resp, u8 wire,
				  struct virtio_msg_dev_info *info)
{
	const struct virtio_msg_get_device_info_resp_v2 *d2 = (const void *)(resp + 1);
	const struct virtio_msg_get_device_info_resp *d1 = (const void *)(resp + 1);
	u32 blocks;

	memset(info, 0, sizeof(*info));
	if (wire == VIRTIO_MSG_WIRE_V2) {
		info->device_id = le32_to_cpu(d2->device_id);
		info->vendor_id = le32_to_cpu(d2->vendor_id);
		memcpy(info->uuid, d2->device_uuid, sizeof(info->uuid));
		blocks = min(le32_to_cpu(d2->num_feature_blocks), U32_MAX / 32);
		info->num_feature_bits = blocks * 32;
		info->config_size = le32_to_cpu(d2->config_size);
		info->max_vqs = le32_to_cpu(d2->max_virtqueues);
		info->admin_vq_start = le32_to_cpu(d2->admin_vq_start);
		info->admin_vq_count = le32_to_cpu(d2->admin_vq_count);
		return;
	}
	info->device_id = le32_to_cpu(d1->device_id);
	info->vendor_id = le32_to_cpu(d1->vendor_id);
	info->num_feature_bits = le32_to_cpu(d1->num_feature_bits);
	info->config_size = le32_to_cpu(d1->config_size);
	info->max_vqs = le32_to_cpu(d1->max_virtqueues);
	info->admin_vq_start = le16_to_cpu(d1->admin_vq_start);
	info->admin_vq_count = le16_to_cpu(d1->admin_vq_count);
}
EXPORT_SYMBOL_IF_KUNIT(virtio_msg_parse_device_info);

/**
 * virtio_msg_parse_vqueue() - read a GET_VQUEUE response
 * @resp: the response, accepted by virtio_msg_validate() for @wire
 * @wire: its wire generation
 * @vq: filled in; @vq->enabled is always false in v1, which has no flag
 *
 * Context: Any context. Does not sleep or allocate.
 */
void virtio_msg_parse_vqueue(const struct virtio_msg_hdr *resp, u8 wire,
			     struct virtio_msg_vq_info *vq)
{
	const struct virtio_msg_get_vqueue_resp_v2 *r = (const void *)(resp + 1);

	/* Only the word at offset 12 differs: v1 reserved, v2 flags. */
	static_assert(offsetof(struct virtio_msg_vqueue, device_addr) ==
		      offsetof(struct virtio_msg_get_vqueue_resp_v2, device_addr));
	vq->index = le32_to_cpu(r->index);
	vq->max_size = le32_to_cpu(r->max_size);
	vq->size = le32_to_cpu(r->size);
	vq->enabled = wire == VIRTIO_MSG_WIRE_V2 &&
		      (le32_to_cpu(r->flags) & VIRTIO_MSG_VQUEUE_V2_ENABLED);
	vq->desc_addr = le64_to_cpu(r->desc_addr);
	vq->driver_addr = le64_to_cpu(r->driver_addr);
	vq->device_addr = le64_to_cpu(r->device_addr);
}
EXPORT_SYMBOL_IF_KUNIT(virtio_msg_parse_vqueue);

/**
 * virtio_msg_build_set_vqueue() - build a SET_VQUEUE request
 * @msg: buffer for the message, suitably aligned for the wire structs
 * @max_size: bytes available at @msg
 * @wire: the wire generation to build for
 * @dev_num: device number the request is for
 * @vq: index, size and addresses; in v2, @vq->enabled sets the ENABLE
 *	flag. @vq->max_size is not sent (v1 has it reserved).
 *
 * Context: Any context. Does not sleep or allocate.
 * Return: the message size, -EMSGSIZE as virtio_msg_init_request(), or
 * -EINVAL for an unknown @wire.
 */
int virtio_msg_build_set_vqueue(struct virtio_msg_hdr *msg, size_t max_size,
				u8 wire, u16 dev_num,
				const struct virtio_msg_vq_info *vq)
{
	struct virtio_msg_set_vqueue_req_v2 *s2;
	struct virtio_msg_vqueue *s1;
	int ret;

	if (!vmsg_wire_known(wire))
		return -EINVAL;
	ret = virtio_msg_init_request(msg, max_size, VIRTIO_MSG_SET_VQUEUE,
				      dev_num, sizeof(*s1));
	if (ret < 0)
		return ret;
	if (wire == VIRTIO_MSG_WIRE_V2) {
		s2 = virtio_msg_payload(msg);
		s2->index = cpu_to_le32(vq->index);
		s2->flags = cpu_to_le32(vq->enabled ?
					VIRTIO_MSG_VQUEUE_V2_ENABLE : 0);
		s2->size = cpu_to_le32(vq->size);
		s2->desc_addr = cpu_to_le64(vq->desc_addr);
		s2->driver_addr = cpu_to_le64(vq->driver_addr);
		s2->device_addr = cpu_to_le64(vq->device_addr);
		return ret;
	}
	s1 = virtio_msg_payload(msg);
	s1->index = cpu_to_le32(vq->index);
	s1->size = cpu_to_le32(vq->size);
	s1->desc_addr = cpu_to_le64(vq->desc_addr);
	s1->driver_addr = cpu_to_le64(vq->driver_addr);
	s1->device_addr = cpu_to_le64(vq->device_addr);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(virtio_msg_build_set_vqueue);

/**
 * virtio_msg_parse_shm() - read a GET_SHM response
 * @resp: the response, accepted by virtio_msg_validate() for @wire
 * @wire: its wire generation
 * @addr: the region's address, as the device sent it
 * @len: the region's length; 0 when the region does not exist
 *
 * Context: Any context. Does not sleep or allocate.
 */
void virtio_msg_parse_shm(const struct virtio_msg_hdr *resp, u8 wire,
			  u64 *addr, u64 *len)
{
	const struct virtio_msg_get_shm_resp_v2 *r2 = (const void *)(resp + 1);
	const struct virtio_msg_get_shm_resp *r1 = (const void *)(resp + 1);

	if (wire == VIRTIO_MSG_WIRE_V2) {
		*addr = le64_to_cpu(r2->address);
		*len = le64_to_cpu(r2->length);
	} else {
		*addr = le32_to_cpu(r1->address);
		*len = le32_to_cpu(r1->length);
	}
}
EXPORT_SYMBOL_IF_KUNIT(virtio_msg_parse_shm);

/**
 * virtio_msg_parse_get_devices() - read a bus GET_DEVICES response
 * @resp: the response, accepted by virtio_msg_validate() for @wire, so
 *	that @w->count / 8 bitmap bytes follow the fixed fields
 * @wire: its wire generation
 * @w: filled in; @w->bitmap points into @resp
 *
 * Context: Any context. Does not sleep or allocate.
 */
void virtio_msg_parse_get_devices(const struct virtio_msg_hdr *resp, u8 wire,
				  struct virtio_msg_devices_window *w)
{
	const struct virtio_msg_bus_get_devices_resp *r = (const void *)(resp + 1);
	u32 offset, count, next;

	vmsg_get_devices_fields(r, wire, &offset, &count, &next);
	w->offset = offset;
	w->count = count;
	w->next_offset = next;
	w->bitmap = r->bitmap;
}
EXPORT_SYMBOL_IF_KUNIT(virtio_msg_parse_get_devices);

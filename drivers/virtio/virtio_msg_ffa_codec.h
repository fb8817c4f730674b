/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * virtio-msg FF-A bus: the codecs, with no state, shared by the bus
 * (virtio_msg_ffa.c) and its KUnit tests, which build on every arch.
 * Everything here reads bytes the partition wrote: it is untrusted, and
 * every function checks before it reads.
 */
#ifndef _VIRTIO_MSG_FFA_CODEC_H
#define _VIRTIO_MSG_FFA_CODEC_H

#include <asm/byteorder.h>
#include <linux/arm_ffa.h>
#include <linux/array_size.h>
#include <linux/errno.h>
#include <linux/minmax.h>
#include <linux/string.h>
#include <linux/types.h>
#include <linux/unaligned.h>
#include <uapi/linux/virtio_msg.h>
#include <uapi/linux/virtio_msg_ffa.h>

/**
 * struct vmsg_ffa_msg - one message as the register block carries it
 * @hdr: the header
 * @bytes: the whole message, header included
 */
struct vmsg_ffa_msg {
	union {
		struct virtio_msg_hdr hdr;
		u8 bytes[VIRTIO_MSG_FFA_MAX_MSG_SIZE];
	};
};

/**
 * struct vmsg_ffa_version - what a VERSION answer says, either form
 * @bus_version: the bus version, (major << 16) | minor
 * @revision: the transport revision
 * @transport_features: the transport feature bits
 * @bus_features: VIRTIO_MSG_FFA_F_*
 */
struct vmsg_ffa_version {
	u32 bus_version;
	u32 revision;
	u32 transport_features;
	u32 bus_features;
};

/**
 * vmsg_ffa_to_regs() - lay a message out in a REQ2 register block
 * @regs: the registers x4-x17
 * @msg: the message
 * @len: its size, at most VIRTIO_MSG_FFA_MAX_MSG_SIZE
 *
 * Byte n goes to byte (n % 8) of register x(4 + n / 8), least significant
 * first; the rest of the block is zero.
 *
 * Context: any.
 */
static inline void vmsg_ffa_to_regs(struct ffa_send_direct_data2 *regs,
				    const void *msg, size_t len)
{
	u8 block[VIRTIO_MSG_FFA_REGS_SIZE] = { };
	unsigned int i;

	memcpy(block, msg, min_t(size_t, len, VIRTIO_MSG_FFA_MAX_MSG_SIZE));
	for (i = 0; i < ARRAY_SIZE(regs->data); i++)
		regs->data[i] = get_unaligned_le64(block + i * 8);
}

/**
 * vmsg_ffa_from_regs() - the message a RESP2 register block carries
 * @regs: the registers x4-x17
 * @out: where its first VIRTIO_MSG_FFA_MAX_MSG_SIZE bytes go
 *
 * Context: any.
 * Return: false for the all-zero block (the partition is busy), with
 * @out untouched; true otherwise.
 */
static inline bool vmsg_ffa_from_regs(const struct ffa_send_direct_data2 *regs,
				      struct vmsg_ffa_msg *out)
{
	u8 block[VIRTIO_MSG_FFA_REGS_SIZE];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(regs->data); i++)
		put_unaligned_le64(regs->data[i], block + i * 8);
	if (!memchr_inv(block, 0, sizeof(block)))
		return false;
	memcpy(out->bytes, block, sizeof(out->bytes));
	return true;
}

/**
 * vmsg_ffa_is_bus_resp() - a bus response with this message ID
 * @h: the message
 * @msg_id: the message ID
 *
 * Context: any.
 * Return: whether @h is a response in the bus ID space, for device 0,
 * with @msg_id.
 */
static inline bool vmsg_ffa_is_bus_resp(const struct virtio_msg_hdr *h,
					u8 msg_id)
{
	return (h->type & ~VIRTIO_MSG_TYPE_RESERVED) ==
	       (VIRTIO_MSG_TYPE_BUS | VIRTIO_MSG_TYPE_RESPONSE) &&
	       h->msg_id == msg_id && !h->dev_num;
}

/**
 * vmsg_ffa_is_event() - an event (no response, an event message ID)
 * @h: the message
 *
 * Context: any.
 * Return: whether @h is an event.
 */
static inline bool vmsg_ffa_is_event(const struct virtio_msg_hdr *h)
{
	return !(h->type & VIRTIO_MSG_TYPE_RESPONSE) &&
	       (h->msg_id & VIRTIO_MSG_ID_EVENT);
}

/**
 * vmsg_ffa_expects_resp() - a message that is answered (not an event)
 * @h: the message
 *
 * Context: any.
 * Return: whether a response to @h is due.
 */
static inline bool vmsg_ffa_expects_resp(const struct virtio_msg_hdr *h)
{
	return !(h->msg_id & VIRTIO_MSG_ID_EVENT);
}

/**
 * vmsg_ffa_answers() - whether an answer is the response to a request
 * @req: the request
 * @ans: the answer
 *
 * Direct messaging answers in place, so the answer to a request is its
 * response or nothing: one that names another request would only wait
 * in the core for its timeout.
 *
 * Context: any.
 * Return: whether @ans is a response in @req's ID space that echoes its
 * message ID, device number and token.
 */
static inline bool vmsg_ffa_answers(const struct virtio_msg_hdr *req,
				    const struct virtio_msg_hdr *ans)
{
	return (ans->type & VIRTIO_MSG_TYPE_RESPONSE) &&
	       (ans->type & VIRTIO_MSG_TYPE_BUS) ==
	       (req->type & VIRTIO_MSG_TYPE_BUS) &&
	       ans->msg_id == req->msg_id && ans->dev_num == req->dev_num &&
	       ans->token == req->token;
}

/**
 * vmsg_ffa_error_names() - the ERROR answer to a request
 * @req: the request
 * @ans: the answer, @size bytes
 * @size: from its msg_size, already checked to be 8 to 104
 *
 * Context: any.
 * Return: 0 when @ans is no ERROR, 1 for an ERROR naming @req's message
 * ID, -EPROTO for an ERROR too short or naming another message.
 */
static inline int vmsg_ffa_error_names(const struct virtio_msg_hdr *req,
				       const struct vmsg_ffa_msg *ans,
				       int size)
{
	const struct virtio_msg_ffa_error *err;

	if (!vmsg_ffa_is_bus_resp(&ans->hdr, VIRTIO_MSG_FFA_ERROR))
		return 0;
	if (size < (int)(VIRTIO_MSG_HDR_SIZE + sizeof(*err)))
		return -EPROTO;
	err = (const void *)(ans->bytes + VIRTIO_MSG_HDR_SIZE);
	if (le16_to_cpu(err->original_msg_id) != req->msg_id)
		return -EPROTO;
	return 1;
}

/**
 * vmsg_ffa_poll_empty() - the answer "nothing pending" to EVENT_POLL
 * @ans: the answer, @size bytes
 * @size: from its msg_size
 * @token: the token of the EVENT_POLL request
 *
 * Context: any.
 * Return: whether @ans is the empty EVENT_POLL response: a bus response,
 * device 0, the same token, exactly a header.
 */
static inline bool vmsg_ffa_poll_empty(const struct vmsg_ffa_msg *ans,
				       int size, u16 token)
{
	return vmsg_ffa_is_bus_resp(&ans->hdr, VIRTIO_MSG_FFA_EVENT_POLL) &&
	       size == VIRTIO_MSG_HDR_SIZE &&
	       le16_to_cpu(ans->hdr.token) == token;
}

/**
 * vmsg_ffa_is_release() - an AREA_RELEASE of this area
 * @msg: a bus message, whose msg_size the core checked against what was
 *	received
 * @area_id: the area
 *
 * Context: any.
 * Return: whether @msg is an AREA_RELEASE event, long enough, for
 * @area_id.
 */
static inline bool vmsg_ffa_is_release(const struct virtio_msg_hdr *msg,
				       u16 area_id)
{
	const struct virtio_msg_ffa_area_req *rel = (const void *)(msg + 1);

	return msg->msg_id == VIRTIO_MSG_FFA_AREA_RELEASE &&
	       !(msg->type & VIRTIO_MSG_TYPE_RESPONSE) &&
	       le16_to_cpu(msg->msg_size) >= VIRTIO_MSG_HDR_SIZE + sizeof(*rel) &&
	       le16_to_cpu(rel->area_id) == area_id;
}

/**
 * vmsg_ffa_parse_version() - read a VERSION answer's payload
 * @p: the payload
 * @len: its size
 * @old: the answer to the older, two-word request
 * @v: what it says
 *
 * Context: any.
 * Return: 0, or -EPROTO when @len is too short for the form.
 */
static inline int vmsg_ffa_parse_version(const void *p, size_t len, bool old,
					 struct vmsg_ffa_version *v)
{
	if (old) {
		const struct virtio_msg_ffa_version_resp_old *r = p;

		if (len < sizeof(*r))
			return -EPROTO;
		v->bus_version = le32_to_cpu(r->bus_version);
		v->revision = le32_to_cpu(r->transport_revision);
		v->transport_features = le32_to_cpu(r->transport_features);
		v->bus_features = le32_to_cpu(r->bus_features);
	} else {
		const struct virtio_msg_ffa_version_resp *r = p;

		if (len < sizeof(*r))
			return -EPROTO;
		v->bus_version = le32_to_cpu(r->bus_version);
		v->revision = le32_to_cpu(r->transport_revision);
		v->transport_features = le32_to_cpu(r->transport_features);
		v->bus_features = le32_to_cpu(r->bus_features);
	}
	return 0;
}

/**
 * vmsg_ffa_check_version() - whether the bus can work with a partition
 * @v: its VERSION answer
 *
 * Context: any.
 * Return: 0; -EPROTONOSUPPORT for another bus major version, transport
 * revision or any transport feature bit; -EOPNOTSUPP without DIRECT_RX.
 */
static inline int vmsg_ffa_check_version(const struct vmsg_ffa_version *v)
{
	if (VIRTIO_MSG_FFA_BUS_MAJOR(v->bus_version) !=
	    VIRTIO_MSG_FFA_BUS_MAJOR(VIRTIO_MSG_FFA_BUS_VERSION_1_0) ||
	    v->revision != VIRTIO_MSG_REVISION || v->transport_features)
		return -EPROTONOSUPPORT;
	if (!(v->bus_features & VIRTIO_MSG_FFA_F_DIRECT_RX))
		return -EOPNOTSUPP;
	return 0;
}

/**
 * vmsg_ffa_bus_addr() - the bus address of an offset in an area
 * @area_id: the area, from 1
 * @offset: the offset in it, below 1 << 48
 *
 * Context: any.
 * Return: area_id << 48 | offset.
 */
static inline u64 vmsg_ffa_bus_addr(u16 area_id, u64 offset)
{
	return (u64)area_id << VIRTIO_MSG_FFA_AREA_SHIFT |
	       (offset & VIRTIO_MSG_FFA_OFFSET_MASK);
}

/**
 * vmsg_ffa_addr_area() - the area of a bus address
 * @addr: the address
 *
 * Context: any.
 * Return: its bits 63:48.
 */
static inline u16 vmsg_ffa_addr_area(u64 addr)
{
	return addr >> VIRTIO_MSG_FFA_AREA_SHIFT;
}

/**
 * vmsg_ffa_addr_offset() - the offset in its area of a bus address
 * @addr: the address
 *
 * Context: any.
 * Return: its bits 47:0.
 */
static inline u64 vmsg_ffa_addr_offset(u64 addr)
{
	return addr & VIRTIO_MSG_FFA_OFFSET_MASK;
}

#endif /* _VIRTIO_MSG_FFA_CODEC_H */

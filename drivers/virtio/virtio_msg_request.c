// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-msg transport core: the request engine.
 *
 * Each device, and each bus for its own bus requests, has one channel.
 * A channel sends one request at a time and waits, killable and bounded,
 * for the response. The request in flight is registered under a spinlock
 * together with the buffer its waiter wants the response in; the receive
 * path, in any context, matches a response against it by ID space, message
 * ID, device number and token, and copies it into that buffer under the
 * same lock. The waiter unregisters its request under the lock before it
 * returns, so a response that comes too late finds nothing to write to: it
 * is dropped and counted, never written through a stale pointer.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/errno.h>
#include <linux/jiffies.h>
#include <linux/lockdep.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/virtio_msg.h>

#include "virtio_msg_core.h"

#include <trace/events/virtio_msg.h>

/**
 * vmsg_stat_index() - statistics slot of a transport message ID
 * @msg_id: transport message ID
 *
 * Context: any.
 * Return: the enum vmsg_stat_id slot counting @msg_id.
 */
enum vmsg_stat_id vmsg_stat_index(u8 msg_id)
{
	if (msg_id >= VIRTIO_MSG_GET_DEVICE_INFO &&
	    msg_id <= VIRTIO_MSG_GET_SHM)
		return VMSG_STAT_GET_DEVICE_INFO +
		       (msg_id - VIRTIO_MSG_GET_DEVICE_INFO);
	if (msg_id >= VIRTIO_MSG_EVENT_CONFIG &&
	    msg_id <= VIRTIO_MSG_EVENT_USED)
		return VMSG_STAT_EVENT_CONFIG +
		       (msg_id - VIRTIO_MSG_EVENT_CONFIG);
	return VMSG_STAT_OTHER;
}

/**
 * vmsg_send() - hand one message to the bus with the send op
 * @core: the bus
 * @stats: where to count it
 * @msg: the complete message
 *
 * Context: process; may sleep.
 * Return: what the send op returned.
 */
int vmsg_send(struct virtio_msg_bus_core *core, struct vmsg_stats *stats,
	      const struct virtio_msg_hdr *msg)
{
	struct virtio_msg_bus *bus = core->bus;
	enum vmsg_stat_id idx = VMSG_STAT_OTHER;
	int ret;

	might_sleep();
	if (!virtio_msg_is_bus(msg))
		idx = vmsg_stat_index(msg->msg_id);
	atomic_long_inc(&stats->sent[idx]);
	ret = bus->desc->ops->send(bus, msg);
	trace_virtio_msg_send(bus, msg, ret);
	return ret;
}

/**
 * vmsg_chan_init() - initialise a request channel
 * @ch: the channel
 * @stats: where it counts
 * @match_token: responses echo the request's token (see
 *	VIRTIO_MSG_BUS_F_NO_TOKEN_ECHO)
 *
 * Context: any.
 */
void vmsg_chan_init(struct vmsg_chan *ch, struct vmsg_stats *stats,
		    bool match_token)
{
	mutex_init(&ch->lock);
	spin_lock_init(&ch->pending_lock);
	init_completion(&ch->done);
	ch->stats = stats;
	ch->match_token = match_token;
}

/**
 * vmsg_chan_revive() - make a failed channel usable again
 * @ch: the channel
 *
 * For the bus channel once the peer is back.
 *
 * Context: any.
 */
void vmsg_chan_revive(struct vmsg_chan *ch)
{
	unsigned long flags;

	spin_lock_irqsave(&ch->pending_lock, flags);
	ch->dead_err = 0;
	ch->abandoned = 0;
	spin_unlock_irqrestore(&ch->pending_lock, flags);
}

/**
 * vmsg_chan_fail_request() - fail the request in flight, if it is this one
 * @ch: the channel
 * @msg_id: message ID the bus says will never be answered
 * @err: the errno the request fails with
 *
 * Context: any.
 * Return: 0 if the request in flight had @msg_id and was failed, -ENOENT
 * otherwise.
 */
int vmsg_chan_fail_request(struct vmsg_chan *ch, u8 msg_id, int err)
{
	unsigned long flags;
	int ret = -ENOENT;

	spin_lock_irqsave(&ch->pending_lock, flags);
	if (ch->req && ch->req->msg_id == msg_id) {
		ch->req = NULL;
		ch->status = err;
		complete(&ch->done);
		ret = 0;
	}
	spin_unlock_irqrestore(&ch->pending_lock, flags);
	return ret;
}

/**
 * __vmsg_chan_request() - send a request and wait for its response
 * @core: the bus the channel belongs to
 * @ch: the channel; the caller holds @ch->lock
 * @req: the request, complete except for the token, which is set here
 * @resp: where the response is copied
 * @resp_size: size of @resp
 * @killable: a fatal signal may end the wait. Operations the virtio core
 *	treats as infallible (reset, status writes, queue teardown) pass
 *	false: their wait is bounded by the timeout alone.
 *
 * Context: process; may sleep, for at most the bus timeout once sent.
 * Return: the size of the response copied to @resp, or
 * * -ETIMEDOUT: no response in time; a response that comes later is
 *   dropped as late;
 * * -EINTR: a fatal signal ended a killable wait (the same holds for a
 *   late reply);
 * * -EPROTO: the response was malformed or did not fit @resp;
 * * the channel's error once it is broken or gone (-EIO, -ENODEV), or
 *   -ENODEV once the bus is being unregistered;
 * * the errno of the bus's send op.
 */
int __vmsg_chan_request(struct virtio_msg_bus_core *core,
			struct vmsg_chan *ch, struct virtio_msg_hdr *req,
			void *resp, size_t resp_size, bool killable)
{
	unsigned long timeout, flags;
	long left;
	int ret;

	lockdep_assert_held(&ch->lock);
	might_sleep();

	spin_lock_irqsave(&ch->pending_lock, flags);
	/* Checked under the lock that vmsg_chan_fail() takes: no race. */
	ret = ch->dead_err;
	if (!ret && READ_ONCE(core->dead))
		ret = -ENODEV;
	if (!ret) {
		/*
		 * Unique among the requests in flight on the bus, for buses
		 * that correlate by token alone, and never 0, which reads as
		 * "none" to some peers.
		 */
		do {
			ch->token = atomic_inc_return(&core->next_token);
		} while (!ch->token);
		req->token = cpu_to_le16(ch->token);
		ch->req = req;
		ch->resp = resp;
		ch->resp_size = resp_size;
		ch->resp_len = 0;
		ch->status = -EINPROGRESS;
		reinit_completion(&ch->done);
	}
	spin_unlock_irqrestore(&ch->pending_lock, flags);
	if (ret)
		return ret;

	/*
	 * Registered before it is sent: a bus may deliver the response from
	 * within its send op.
	 */
	ret = vmsg_send(core, ch->stats, req);
	if (ret) {
		spin_lock_irqsave(&ch->pending_lock, flags);
		ch->req = NULL;
		spin_unlock_irqrestore(&ch->pending_lock, flags);
		return ret;
	}

	timeout = msecs_to_jiffies(vmsg_timeout_ms(core->bus));
	if (killable)
		left = wait_for_completion_killable_timeout(&ch->done, timeout);
	else
		left = wait_for_completion_timeout(&ch->done, timeout);

	spin_lock_irqsave(&ch->pending_lock, flags);
	if (ch->req) {
		/*
		 * Still unanswered: take it back, so that nothing can be
		 * written to @resp after we return.
		 */
		ch->req = NULL;
		ch->abandoned = ch->token;
		ret = left < 0 ? -EINTR : -ETIMEDOUT;
		/* A late answer could pass for the next one's. */
		if (!ch->match_token && !ch->dead_err)
			ch->dead_err = -EIO;
	} else {
		ret = ch->status ?: (int)ch->resp_len;
	}
	spin_unlock_irqrestore(&ch->pending_lock, flags);

	if (ret == -ETIMEDOUT)
		atomic_long_inc(&ch->stats->timeouts);
	else if (ret >= 0)
		atomic_long_inc(&ch->stats->requests);
	return ret;
}

/**
 * vmsg_chan_fail() - make a channel unusable and fail its request
 * @ch: the channel
 * @err: the errno for the request in flight and every later one
 *
 * -ENODEV (the device or the peer is gone) overrides an earlier error;
 * other errors keep the first one.
 *
 * Context: any.
 */
void vmsg_chan_fail(struct vmsg_chan *ch, int err)
{
	unsigned long flags;

	spin_lock_irqsave(&ch->pending_lock, flags);
	if (!ch->dead_err || err == -ENODEV)
		ch->dead_err = err;
	if (ch->req) {
		ch->req = NULL;
		ch->status = err;
		complete(&ch->done);
	}
	spin_unlock_irqrestore(&ch->pending_lock, flags);
}

/* The fields a response must echo to be taken for the pending request. */
static bool vmsg_same_request(const struct vmsg_chan *ch,
			      const struct virtio_msg_hdr *req,
			      const struct virtio_msg_hdr *resp)
{
	return virtio_msg_is_response(resp) &&
	       virtio_msg_is_bus(resp) == virtio_msg_is_bus(req) &&
	       resp->msg_id == req->msg_id && resp->dev_num == req->dev_num &&
	       (resp->token == req->token || !ch->match_token);
}

/**
 * vmsg_chan_response() - offer a response to a channel
 * @ch: the channel
 * @msg: the response; its header and msg_size were checked against the
 *	received length
 * @verdict: 0 if virtio_msg_validate() accepted it, -EBADMSG if only its
 *	payload is malformed
 * @wire: the wire generation it was validated for
 *
 * A response that answers the pending request completes it: with the
 * response copied to the waiter's buffer, or with -EPROTO when it is
 * malformed, contradicts the request or does not fit. Any other response
 * is dropped and counted, as late when it carries the token of the last
 * request given up.
 *
 * Context: any.
 * Return: 0 if @msg completed the request successfully, -EPROTO if it
 * completed it with an error, -ENOENT if it answers nothing.
 */
int vmsg_chan_response(struct vmsg_chan *ch, const struct virtio_msg_hdr *msg,
		       int verdict, u8 wire)
{
	size_t size = le16_to_cpu(msg->msg_size);
	unsigned long flags;
	bool late;

	spin_lock_irqsave(&ch->pending_lock, flags);
	if (ch->req && vmsg_same_request(ch, ch->req, msg)) {
		/* Payload fields are only read once the payload is valid. */
		if (!verdict)
			verdict = __virtio_msg_match_response(ch->req, msg,
							      ch->match_token,
							      wire);
		if (!verdict && size > ch->resp_size)
			verdict = -EMSGSIZE;
		if (!verdict) {
			memcpy(ch->resp, msg, size);
			ch->resp_len = size;
		}
		ch->status = verdict ? -EPROTO : 0;
		ch->req = NULL;
		complete(&ch->done);
		spin_unlock_irqrestore(&ch->pending_lock, flags);
		if (verdict) {
			atomic_long_inc(&ch->stats->bad_messages);
			return -EPROTO;
		}
		return 0;
	}
	late = ch->abandoned && msg->token == cpu_to_le16(ch->abandoned);
	spin_unlock_irqrestore(&ch->pending_lock, flags);

	if (late)
		atomic_long_inc(&ch->stats->late_replies);
	else
		atomic_long_inc(&ch->stats->unmatched);
	return -ENOENT;
}

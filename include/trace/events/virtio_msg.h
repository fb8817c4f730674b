/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Trace events of the virtio-msg transport core: every message handed to a
 * bus, and every message a bus hands to the core with the verdict the core
 * reached on it.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM virtio_msg

#if !defined(_TRACE_VIRTIO_MSG_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TRACE_VIRTIO_MSG_H

#include <linux/tracepoint.h>
#include <linux/virtio_msg.h>

DECLARE_EVENT_CLASS(virtio_msg_class,
		    TP_PROTO(const struct virtio_msg_bus *bus,
			     const struct virtio_msg_hdr *msg, int ret),
		    TP_ARGS(bus, msg, ret),
		    TP_STRUCT__entry(__string(bus, dev_name(bus->parent))
				     __field(u8, type)
				     __field(u8, msg_id)
				     __field(u16, dev_num)
				     __field(u16, token)
				     __field(u16, msg_size)
				     __field(int, ret)),
		    TP_fast_assign(__assign_str(bus);
				   __entry->type = msg->type;
				   __entry->msg_id = msg->msg_id;
				   __entry->dev_num = le16_to_cpu(msg->dev_num);
				   __entry->token = le16_to_cpu(msg->token);
				   __entry->msg_size = le16_to_cpu(msg->msg_size);
				   __entry->ret = ret;),
		    TP_printk("bus=%s type=0x%02x msg_id=0x%02x dev_num=%u token=%u size=%u ret=%d",
			      __get_str(bus), __entry->type, __entry->msg_id,
			      __entry->dev_num, __entry->token,
			      __entry->msg_size, __entry->ret)
);

/*
 * virtio_msg_send - a message handed to the bus; ret is what the bus's
 * send op returned.
 */
DEFINE_EVENT(virtio_msg_class, virtio_msg_send,
	     TP_PROTO(const struct virtio_msg_bus *bus,
		      const struct virtio_msg_hdr *msg, int ret),
	     TP_ARGS(bus, msg, ret)
);

/*
 * virtio_msg_receive - a message received from the bus (at least a
 * header); ret is 0 if it was well formed, else why it was dropped.
 */
DEFINE_EVENT(virtio_msg_class, virtio_msg_receive,
	     TP_PROTO(const struct virtio_msg_bus *bus,
		      const struct virtio_msg_hdr *msg, int ret),
	     TP_ARGS(bus, msg, ret)
);

#endif /* _TRACE_VIRTIO_MSG_H */

/* This part must be outside protection */
#include <trace/define_trace.h>

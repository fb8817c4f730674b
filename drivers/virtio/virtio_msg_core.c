// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-msg transport core.
 *
 * virtio-msg carries every virtio transport operation (features, config
 * space, status, virtqueue setup, notifications) in messages, so that a
 * virtio device can sit behind any message bus. This module is the
 * driver side of the transport. So far it holds the message build and
 * validation helpers (virtio_msg_proto.c); it registers nothing yet, so
 * it needs no init or exit code.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>

MODULE_DESCRIPTION("Virtio over messages (virtio-msg) transport core");
MODULE_LICENSE("GPL");

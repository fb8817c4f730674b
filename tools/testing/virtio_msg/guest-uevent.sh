#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# /sbin/vmsg-uevent: what udev does for a new device, in the guests that
# boot a kernel with its drivers as modules (Debian's own). guest-init.sh
# runs it under busybox's uevent, once per kernel event, with the event in
# the environment: a device that appears with a MODALIAS gets its driver
# loaded, so that virtio_blk, virtio_net or virtio-rng come in when a
# virtio-msg device of that type is added.
[ "$ACTION" = add ] && [ -n "$MODALIAS" ] || exit 0
modprobe -b "$MODALIAS" 2>/dev/null
exit 0

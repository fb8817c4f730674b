/* SPDX-License-Identifier: GPL-2.0-only */
/* The AMP and ivshmem tests, run by libvirtio_msg_test. */
#ifndef _VMSG_AMP_TEST_H
#define _VMSG_AMP_TEST_H

#include <stdbool.h>

bool amp_layout_and_handshake(void);
bool amp_messages_and_one_doorbell(void);
bool amp_virtqueue_roundtrip(void);
bool amp_hostile_addresses(void);
bool amp_hostile_indices(void);
bool amp_hostile_sizes(void);
bool amp_flood(void);
bool amp_restart(void);
bool amp_slow_driver(void);
bool amp_unplug(void);
bool amp_notification_words(void);
bool amp_bad_config(void);
bool amp_ivshmem_protocol(void);

#endif /* _VMSG_AMP_TEST_H */

// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-msg per-device counters in debugfs: one directory per virtio
 * device, <debugfs>/virtio_msg/virtio<N>/, one read-only file per counter.
 * They are for debugging and measuring, not an ABI; the files are listed
 * in Documentation/driver-api/virtio/virtio_msg.rst.
 */
#include <linux/debugfs.h>
#include <linux/virtio.h>

#include "virtio_msg_core.h"

static struct dentry *vmsg_debugfs_root;

/* Counters by message: which exist in which direction. */
static const struct {
	const char *name;
	bool sent;
	bool received;
} vmsg_msg_counters[VMSG_NR_STATS] = {
	[VMSG_STAT_GET_DEVICE_INFO]	= { "get_device_info", true, true },
	[VMSG_STAT_GET_DEVICE_FEATURES]	= { "get_device_features", true, true },
	[VMSG_STAT_SET_DRIVER_FEATURES]	= { "set_driver_features", true, true },
	[VMSG_STAT_GET_CONFIG]		= { "get_config", true, true },
	[VMSG_STAT_SET_CONFIG]		= { "set_config", true, true },
	[VMSG_STAT_GET_DEVICE_STATUS]	= { "get_device_status", true, true },
	[VMSG_STAT_SET_DEVICE_STATUS]	= { "set_device_status", true, true },
	[VMSG_STAT_GET_VQUEUE]		= { "get_vqueue", true, true },
	[VMSG_STAT_SET_VQUEUE]		= { "set_vqueue", true, true },
	[VMSG_STAT_RESET_VQUEUE]	= { "reset_vqueue", true, true },
	[VMSG_STAT_GET_SHM]		= { "get_shm", true, true },
	[VMSG_STAT_EVENT_CONFIG]	= { "event_config", false, true },
	[VMSG_STAT_EVENT_AVAIL]		= { "event_avail", true, false },
	[VMSG_STAT_EVENT_USED]		= { "event_used", false, true },
};

static int vmsg_counter_get(void *data, u64 *val)
{
	*val = atomic_long_read((atomic_long_t *)data);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(vmsg_counter_fops, vmsg_counter_get, NULL, "%llu\n");

static int vmsg_window_used_get(void *data, u64 *val)
{
	struct virtio_msg_device *vmdev = data;

	*val = vmsg_dma_window_used(vmdev->core->window);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(vmsg_window_used_fops, vmsg_window_used_get, NULL,
			 "%llu\n");

static void vmsg_debugfs_counter(struct dentry *dir, const char *name,
				 atomic_long_t *counter)
{
	debugfs_create_file_unsafe(name, 0444, dir, counter,
				   &vmsg_counter_fops);
}

static void vmsg_debugfs_add_dma(struct virtio_msg_device *vmdev,
				 struct dentry *dir)
{
	struct vmsg_dma_ctx *ctx = vmsg_dma_dev_ctx(vmdev->win_dev);

	debugfs_create_file_unsafe("dma_window_used", 0444, dir, vmdev,
				   &vmsg_window_used_fops);
	vmsg_debugfs_counter(dir, "dma_coherent_bytes", &ctx->coherent_bytes);
	vmsg_debugfs_counter(dir, "dma_bounce_bytes", &ctx->bounce_bytes);
	vmsg_debugfs_counter(dir, "dma_map_failures", &ctx->map_failures);
	vmsg_debugfs_counter(dir, "dma_bad_unmaps", &ctx->bad_unmaps);
}

/**
 * vmsg_dev_debugfs_add() - create the counter files of a device
 * @vmdev: a device being registered, already named
 *
 * Failures are ignored, as debugfs asks: the counters are a debugging aid.
 *
 * Context: process; from the device's first reset, which
 * register_virtio_device() makes on the bus's ordered workqueue.
 */
void vmsg_dev_debugfs_add(struct virtio_msg_device *vmdev)
{
	struct vmsg_stats *st = &vmdev->stats;
	struct dentry *dir;
	char name[40];
	int i;

	dir = debugfs_create_dir(dev_name(&vmdev->vdev.dev), vmsg_debugfs_root);
	vmdev->debugfs = dir;
	for (i = 0; i < VMSG_NR_STATS; i++) {
		if (vmsg_msg_counters[i].sent) {
			snprintf(name, sizeof(name), "sent_%s",
				 vmsg_msg_counters[i].name);
			vmsg_debugfs_counter(dir, name, &st->sent[i]);
		}
		if (vmsg_msg_counters[i].received) {
			snprintf(name, sizeof(name), "received_%s",
				 vmsg_msg_counters[i].name);
			vmsg_debugfs_counter(dir, name, &st->received[i]);
		}
	}
	vmsg_debugfs_counter(dir, "requests", &st->requests);
	vmsg_debugfs_counter(dir, "timeouts", &st->timeouts);
	vmsg_debugfs_counter(dir, "bad_messages", &st->bad_messages);
	vmsg_debugfs_counter(dir, "late_replies", &st->late_replies);
	vmsg_debugfs_counter(dir, "unmatched", &st->unmatched);
	vmsg_debugfs_counter(dir, "kicks_deferred", &st->kicks_deferred);
	vmsg_debugfs_counter(dir, "kicks_coalesced", &st->kicks_coalesced);
	vmsg_debugfs_counter(dir, "events_dropped", &st->events_dropped);
	vmsg_debugfs_counter(dir, "standin_used", &st->standin_used);
	debugfs_create_ulong("probe_round_trips", 0444, dir,
			     &st->probe_round_trips);
	if (vmdev->win_dev)
		vmsg_debugfs_add_dma(vmdev, dir);
}

/**
 * vmsg_dev_debugfs_remove() - remove the counter files of a device
 * @vmdev: a device being destroyed; its counters stay readable until this
 *	returns, readers still in a file included
 *
 * Context: process.
 */
void vmsg_dev_debugfs_remove(struct virtio_msg_device *vmdev)
{
	debugfs_remove(vmdev->debugfs);
	vmdev->debugfs = NULL;
}

/**
 * vmsg_debugfs_init() - create <debugfs>/virtio_msg at module load
 *
 * Context: process.
 */
void vmsg_debugfs_init(void)
{
	vmsg_debugfs_root = debugfs_create_dir("virtio_msg", NULL);
}

/**
 * vmsg_debugfs_exit() - remove <debugfs>/virtio_msg at module unload
 *
 * Context: process.
 */
void vmsg_debugfs_exit(void)
{
	debugfs_remove(vmsg_debugfs_root);
}

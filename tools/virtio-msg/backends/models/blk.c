// SPDX-License-Identifier: GPL-2.0-only
/*
 * The virtio block device model, backed by memory or by a file. Reads,
 * writes, flushes (fsync() of the file) and the device ID are supported.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include <virtio-msg/virtqueue.h>

#include "models.h"

#define VIRTIO_ID_BLOCK		2
#define BLK_QUEUE_SIZE		128
/* Data segments per request: the chain also holds header and status. */
#define BLK_SEG_MAX		(BLK_QUEUE_SIZE - 2)
#define BLK_MAX_CHAINS		(4 * BLK_QUEUE_SIZE)
#define BLK_SECTOR		512
#define BLK_HDR_SIZE		16	/* struct virtio_blk_outhdr */

#define FEAT(b)			(1U << ((b) % 32))

/*
 * INDIRECT_DESC with SEG_MAX: a request of BLK_SEG_MAX + 2 segments fits
 * in the ring whatever size the driver gives it, and a driver side that
 * trusts the device less grants SEG_MAX only then. vmsg_vq_pop() still
 * bounds a chain, indirect table included, by the queue size and
 * queue_max_segs.
 */
static const uint32_t blk_features[2] = {
	FEAT(VIRTIO_BLK_F_SEG_MAX) | FEAT(VIRTIO_BLK_F_BLK_SIZE) |
	FEAT(VIRTIO_BLK_F_FLUSH) | FEAT(VIRTIO_RING_F_INDIRECT_DESC),
	FEAT(VIRTIO_F_VERSION_1) | FEAT(VIRTIO_F_ACCESS_PLATFORM),
};

static const uint32_t blk_required[2] = {
	0,
	FEAT(VIRTIO_F_VERSION_1) | FEAT(VIRTIO_F_ACCESS_PLATFORM),
};

static const uint16_t blk_queue_max[1] = { BLK_QUEUE_SIZE };
static const uint16_t blk_queue_segs[1] = { BLK_SEG_MAX + 2 };

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = v >> (8 * i);
}

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = v >> (8 * i);
}

static uint32_t get_le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_le64(const uint8_t *p)
{
	return get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

static int blk_pread(struct vmsg_blk *b, void *dst, size_t len, uint64_t off)
{
	ssize_t n;

	if (b->fd < 0) {
		memcpy(dst, b->mem + off, len);
		return 0;
	}
	while (len) {
		n = pread(b->fd, dst, len, off);
		if (n <= 0)
			return -EIO;
		dst = (uint8_t *)dst + n;
		len -= n;
		off += n;
	}
	return 0;
}

static int blk_pwrite(struct vmsg_blk *b, const void *src, size_t len,
		      uint64_t off)
{
	ssize_t n;

	if (b->fd < 0) {
		memcpy(b->mem + off, src, len);
		return 0;
	}
	while (len) {
		n = pwrite(b->fd, src, len, off);
		if (n <= 0)
			return -EIO;
		src = (const uint8_t *)src + n;
		len -= n;
		off += n;
	}
	return 0;
}

/*
 * Move @len bytes between the disk at @off and the request's data, which
 * starts @iov_off bytes into @iov. Returns 0 or a negative errno.
 */
static int blk_rw(struct vmsg_dev *dev, struct vmsg_blk *b, bool write,
		  const struct vmsg_iov *iov, unsigned int iov_num,
		  size_t iov_off, uint64_t off, uint64_t len)
{
	size_t n;
	ssize_t r;

	while (len) {
		n = len > BLK_BUF ? BLK_BUF : len;
		if (write) {
			r = vmsg_iov_read(dev, iov, iov_num, iov_off, b->buf, n);
			if (r != (ssize_t)n || blk_pwrite(b, b->buf, n, off))
				return -EIO;
		} else {
			if (blk_pread(b, b->buf, n, off))
				return -EIO;
			r = vmsg_iov_write(dev, iov, iov_num, iov_off, b->buf,
					   n);
			if (r != (ssize_t)n)
				return -EIO;
		}
		iov_off += n;
		off += n;
		len -= n;
	}
	return 0;
}

/* Serve one request; returns the bytes written into the chain. */
static uint32_t blk_request(struct vmsg_dev *dev, struct vmsg_blk *b,
			    const struct vmsg_vq_elem *elem,
			    const struct vmsg_iov *iov)
{
	const struct vmsg_iov *in = iov + elem->out_num;
	uint8_t hdr[BLK_HDR_SIZE], status = VIRTIO_BLK_S_OK;
	uint64_t sector, off, len = 0, written = 0;
	uint8_t id[VIRTIO_BLK_ID_BYTES];

	/* One status byte at the end of the writable part, or no answer. */
	if (elem->in_len < 1)
		return 0;
	/* No header: fail it, as length 0 alone would pass for success. */
	if (vmsg_iov_read(dev, iov, elem->out_num, 0, hdr, sizeof(hdr)) !=
	    sizeof(hdr)) {
		status = VIRTIO_BLK_S_IOERR;
		goto out;
	}
	sector = get_le64(hdr + 8);
	off = sector * BLK_SECTOR;

	switch (get_le32(hdr)) {
	case VIRTIO_BLK_T_IN:
		len = elem->in_len - 1;
		if (sector > b->size / BLK_SECTOR || len > b->size - off)
			status = VIRTIO_BLK_S_IOERR;
		else if (blk_rw(dev, b, false, in, elem->in_num, 0, off, len))
			status = VIRTIO_BLK_S_IOERR;
		else
			written = len;
		b->reads++;
		break;
	case VIRTIO_BLK_T_OUT:
		len = elem->out_len - sizeof(hdr);
		if (b->read_only)
			status = VIRTIO_BLK_S_IOERR;
		else if (sector > b->size / BLK_SECTOR || len > b->size - off)
			status = VIRTIO_BLK_S_IOERR;
		else if (blk_rw(dev, b, true, iov, elem->out_num, sizeof(hdr),
				off, len))
			status = VIRTIO_BLK_S_IOERR;
		b->writes++;
		break;
	case VIRTIO_BLK_T_FLUSH:
		if (b->fd >= 0 && fsync(b->fd))
			status = VIRTIO_BLK_S_IOERR;
		b->flushes++;
		break;
	case VIRTIO_BLK_T_GET_ID:
		len = elem->in_len - 1;
		if (len > sizeof(id))
			len = sizeof(id);
		memcpy(id, b->id, sizeof(id));
		if (vmsg_iov_write(dev, in, elem->in_num, 0, id, len) !=
		    (ssize_t)len)
			status = VIRTIO_BLK_S_IOERR;
		else
			written = len;
		break;
	default:
		status = VIRTIO_BLK_S_UNSUPP;
		break;
	}
out:
	/* The used length is 32 bits; the data may be longer. */
	if (written > UINT32_MAX - 1)
		written = UINT32_MAX - 1;
	if (vmsg_iov_write(dev, in, elem->in_num, elem->in_len - 1, &status,
			   1) != 1)
		return written;
	return written + 1;
}

/*
 * A request with more segments than seg_max allows: fail it with IOERR in
 * its status byte, the last byte of the chain. Without a writable last
 * byte there is no way to answer, and the device needs reset.
 */
static int blk_oversized(struct vmsg_dev *dev, unsigned int index,
			 const struct vmsg_vq_elem *elem,
			 const struct vmsg_iov *last)
{
	uint8_t status = VIRTIO_BLK_S_IOERR;

	(void)index;
	if (!elem->in_num || !last->len ||
	    vmsg_dev_mem_write(dev, last->addr + last->len - 1, &status, 1))
		return -EIO;
	return 1;
}

static void blk_queue_notify(struct vmsg_dev *dev, unsigned int index)
{
	struct vmsg_iov iov[BLK_QUEUE_SIZE];
	struct vmsg_blk *b = vmsg_dev_priv(dev);
	struct vmsg_vq_elem elem;
	int i, r;

	if (index != 0)
		return;
	for (i = 0; i < BLK_MAX_CHAINS; i++) {
		r = vmsg_vq_pop(dev, 0, &elem, iov, BLK_QUEUE_SIZE);
		if (r == -ENOBUFS)
			continue;
		if (r <= 0)
			break;
		vmsg_vq_push(dev, 0, elem.head, blk_request(dev, b, &elem, iov));
	}
	vmsg_vq_notify(dev, 0);
}

static const struct vmsg_dev_model blk_model = {
	.device_id = VIRTIO_ID_BLOCK,
	.num_feature_blocks = 2,
	.required_features = blk_required,
	.config_size = BLK_CONFIG_SIZE,
	.num_queues = 1,
	.queue_max_size = blk_queue_max,
	.queue_max_segs = blk_queue_segs,
	.queue_notify = blk_queue_notify,
	.oversized_chain = blk_oversized,
};

int vmsg_blk_open(struct vmsg_blk *b, const char *file,
		  unsigned long size_mib, bool read_only, uint16_t dev_num)
{
	struct stat st;

	memset(b, 0, sizeof(*b));
	b->fd = -1;
	b->file = file;
	b->read_only = read_only;
	if (file) {
		b->fd = open(file, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
		if (b->fd < 0 || fstat(b->fd, &st)) {
			fprintf(stderr, "%s: %s\n", file, strerror(errno));
			if (b->fd >= 0)
				close(b->fd);
			return -1;
		}
		b->size = st.st_size / BLK_SECTOR * BLK_SECTOR;
	} else {
		b->size = (uint64_t)size_mib << 20;
		b->mem = calloc(1, b->size);
		if (!b->mem) {
			fprintf(stderr, "%lu MiB: %s\n", size_mib,
				strerror(errno));
			return -1;
		}
	}
	snprintf(b->id, sizeof(b->id), "vmsg-blk-%u", dev_num);
	memcpy(b->features, blk_features, sizeof(b->features));
	if (read_only)
		b->features[0] |= FEAT(VIRTIO_BLK_F_RO);
	put_le64(b->config, b->size / BLK_SECTOR);
	put_le32(b->config + 12, BLK_SEG_MAX);
	put_le32(b->config + 20, BLK_SECTOR);
	b->model = blk_model;
	b->model.features = b->features;
	b->model.config_init = b->config;
	b->served.dev_num = dev_num;
	b->served.model = &b->model;
	b->served.priv = b;
	return 0;
}

int vmsg_blk_close(struct vmsg_blk *b)
{
	int ret = 0;

	if (b->fd >= 0) {
		if (!b->read_only && fsync(b->fd)) {
			fprintf(stderr, "%s: %s\n", b->file, strerror(errno));
			ret = -1;
		}
		close(b->fd);
		b->fd = -1;
	}
	free(b->mem);
	b->mem = NULL;
	return ret;
}

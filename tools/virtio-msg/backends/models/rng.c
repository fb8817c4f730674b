// SPDX-License-Identifier: GPL-2.0-only
/*
 * The virtio-rng device model: the bytes come from getrandom().
 */
#include <errno.h>
#include <sys/random.h>

#include <linux/virtio_config.h>

#include <virtio-msg/virtqueue.h>

#include "models.h"

#define VIRTIO_ID_RNG	4
#define RNG_QUEUE_SIZE	64
/* Chains handled per kick, so that one kick cannot keep us forever. */
#define RNG_MAX_CHAINS	(4 * RNG_QUEUE_SIZE)
#define RNG_MAX_SEGS	16

/* Feature block 1 holds bits 32-63. */
static const uint32_t rng_features[2] = {
	0,
	(1U << (VIRTIO_F_VERSION_1 - 32)) |
	(1U << (VIRTIO_F_ACCESS_PLATFORM - 32)),
};

static const uint16_t rng_queue_max[1] = { RNG_QUEUE_SIZE };

static void rng_fill(struct vmsg_dev *dev, const struct vmsg_vq_elem *elem,
		     const struct vmsg_iov *iov, struct vmsg_rng *st)
{
	uint8_t buf[4096];
	size_t done = 0, want;
	ssize_t n;

	while (done < elem->in_len) {
		want = elem->in_len - done;
		if (want > sizeof(buf))
			want = sizeof(buf);
		n = getrandom(buf, want, 0);
		if (n <= 0)
			break;
		n = vmsg_iov_write(dev, iov + elem->out_num, elem->in_num,
				   done, buf, n);
		if (n <= 0)
			break;
		done += n;
	}
	vmsg_vq_push(dev, 0, elem->head, done);
	st->bytes += done;
	st->chains++;
}

static void rng_queue_notify(struct vmsg_dev *dev, unsigned int index)
{
	struct vmsg_iov iov[RNG_MAX_SEGS];
	struct vmsg_rng *st = vmsg_dev_priv(dev);
	struct vmsg_vq_elem elem;
	int i, r;

	if (index != 0)
		return;
	for (i = 0; i < RNG_MAX_CHAINS; i++) {
		r = vmsg_vq_pop(dev, 0, &elem, iov, RNG_MAX_SEGS);
		if (r == -ENOBUFS)
			continue;
		if (r <= 0)
			break;
		rng_fill(dev, &elem, iov, st);
	}
	vmsg_vq_notify(dev, 0);
}

/* A buffer with more segments than we take is returned with no bytes. */
static int rng_oversized(struct vmsg_dev *dev, unsigned int index,
			 const struct vmsg_vq_elem *elem,
			 const struct vmsg_iov *last)
{
	(void)dev; (void)index; (void)elem; (void)last;
	return 0;
}

const struct vmsg_dev_model vmsg_rng_model = {
	.device_id = VIRTIO_ID_RNG,
	.num_feature_blocks = 2,
	.features = rng_features,
	.required_features = rng_features,
	.num_queues = 1,
	.queue_max_size = rng_queue_max,
	.queue_notify = rng_queue_notify,
	.oversized_chain = rng_oversized,
};

// SPDX-License-Identifier: GPL-2.0-only
/*
 * virtio-msg device side over the loopback bus character device.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <linux/virtio_config.h>
#include <linux/virtio_msg_loopback.h>

#include <virtio-msg/loopback.h>

#include "internal.h"

/* Messages handled per vmsg_lb_process() call, so that run() stays fair. */
#define LB_BATCH	64
/* Largest piece one MEM ioctl moves. */
#define LB_MEM_CHUNK	(1U << 30)

struct vmsg_lb {
	int fd;
	size_t max_msg_size;
	bool added;			/* a device was added, ever */
	uint32_t transport_features;	/* as last given to SET_PARAMS */
	uint32_t recovery_ms;		/* as last given to SET_PARAMS */
	struct vmsg_transport *t;	/* the devices */
	uint8_t *rbuf;
};

int vmsg_lb_fd(const struct vmsg_lb *lb)
{
	return lb->fd;
}

size_t vmsg_lb_max_msg_size(const struct vmsg_lb *lb)
{
	return lb->max_msg_size;
}

static int lb_mem(struct vmsg_lb *lb, unsigned long cmd, uint16_t dev_num,
		  uint64_t addr, void *buf, size_t len)
{
	struct virtio_msg_lb_mem m = {
		.size = sizeof(m),
		.dev_num = dev_num,
	};

	while (len) {
		m.addr = addr;
		m.buf = (uintptr_t)buf;
		m.len = len > LB_MEM_CHUNK ? LB_MEM_CHUNK : len;
		if (ioctl(lb->fd, cmd, &m))
			return -errno;
		addr += m.len;
		buf = (uint8_t *)buf + m.len;
		len -= m.len;
	}
	return 0;
}

int vmsg_lb_mem_read(struct vmsg_lb *lb, uint16_t dev_num, uint64_t addr,
		     void *dst, size_t len)
{
	return lb_mem(lb, VIRTIO_MSG_LB_IOC_MEM_READ, dev_num, addr, dst, len);
}

int vmsg_lb_mem_write(struct vmsg_lb *lb, uint16_t dev_num, uint64_t addr,
		      const void *src, size_t len)
{
	return lb_mem(lb, VIRTIO_MSG_LB_IOC_MEM_WRITE, dev_num, addr,
		      (void *)src, len);
}

/*
 * One write() is one message. The kernel queues it for delivery and waits
 * for room only while its ring is full, for a bounded time (EAGAIN then).
 */
static int lb_send(struct vmsg_lb *lb, const void *msg, size_t len)
{
	ssize_t n;

	do {
		n = write(lb->fd, msg, len);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

static int lb_t_mem_read(void *ctx, uint16_t dev_num, uint64_t addr,
			 void *dst, size_t len)
{
	return vmsg_lb_mem_read(ctx, dev_num, addr, dst, len);
}

static int lb_t_mem_write(void *ctx, uint16_t dev_num, uint64_t addr,
			  const void *src, size_t len)
{
	return vmsg_lb_mem_write(ctx, dev_num, addr, src, len);
}

static int lb_t_send(void *ctx, const void *msg, size_t len)
{
	return lb_send(ctx, msg, len);
}

static const struct vmsg_transport_ops lb_transport_ops = {
	.mem_read = lb_t_mem_read,
	.mem_write = lb_t_mem_write,
	.send = lb_t_send,
};

struct vmsg_lb *vmsg_lb_open(const char *path)
{
	struct virtio_msg_lb_info info = { .size = sizeof(info) };
	struct vmsg_lb *lb;
	int err;

	lb = calloc(1, sizeof(*lb));
	if (!lb)
		return NULL;
	lb->fd = open(path ? path : VMSG_LB_DEFAULT_PATH,
		      O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (lb->fd < 0)
		goto err_free;
	if (ioctl(lb->fd, VIRTIO_MSG_LB_IOC_GET_INFO, &info))
		goto err_close;
	if (info.abi_version != VIRTIO_MSG_LB_ABI_VERSION ||
	    info.max_msg_size < VIRTIO_MSG_MAX_SIZE_MIN ||
	    info.max_msg_size > VIRTIO_MSG_MAX_SIZE_MAX) {
		errno = EPROTO;
		goto err_close;
	}
	/*
	 * The backend may serve the I/O that memory reclaim waits for: its
	 * own allocations must not wait for that I/O. Best effort (needs
	 * CAP_SYS_RESOURCE).
	 */
	prctl(PR_SET_IO_FLUSHER, 1, 0, 0, 0);
	lb->max_msg_size = info.max_msg_size;
	lb->rbuf = malloc(lb->max_msg_size);
	lb->t = vmsg_transport_create(&lb_transport_ops, lb,
				      lb->max_msg_size);
	if (!lb->rbuf || !lb->t)
		goto err_close;
	return lb;

err_close:
	err = errno;
	close(lb->fd);
	free(lb->rbuf);
	vmsg_transport_destroy(lb->t);
	errno = err;
err_free:
	err = errno;
	free(lb);
	errno = err;
	return NULL;
}

int vmsg_lb_set_wire(struct vmsg_lb *lb, unsigned int wire,
		     uint32_t features)
{
	struct virtio_msg_lb_params params = {
		.size = sizeof(params),
		.wire = wire,
		.features = features,
		.recovery_ms = lb->recovery_ms,
	};

	if (wire != VIRTIO_MSG_WIRE_V1 && wire != VIRTIO_MSG_WIRE_V2)
		return -EINVAL;
	if (wire == VIRTIO_MSG_WIRE_V1 && features)
		return -EINVAL;
	/* The driver side fixes the generation with the first device. */
	if (lb->added)
		return -EBUSY;
	if (ioctl(lb->fd, VIRTIO_MSG_LB_IOC_SET_PARAMS, &params)) {
		/* A module older than SET_PARAMS speaks v1 and nothing else. */
		if (errno != ENOTTY)
			return -errno;
		if (wire != VIRTIO_MSG_WIRE_V1)
			return -EPROTONOSUPPORT;
	}
	lb->transport_features = features;
	return vmsg_transport_set_wire(lb->t, wire, features);
}

int vmsg_lb_set_window(struct vmsg_lb *lb, uint64_t size, uint64_t base)
{
	struct virtio_msg_lb_params params = {
		.size = sizeof(params),
		/* SET_PARAMS states everything again: keep the generation. */
		.wire = vmsg_transport_wire(lb->t),
		.features = lb->transport_features,
		.window_size = size,
		.window_base = base,
		.recovery_ms = lb->recovery_ms,
	};

	if (!size)
		return -EINVAL;
	if (lb->added)
		return -EBUSY;
	if (ioctl(lb->fd, VIRTIO_MSG_LB_IOC_SET_PARAMS, &params))
		return -errno;
	return 0;
}

int vmsg_lb_set_recovery(struct vmsg_lb *lb, uint32_t ms)
{
	struct virtio_msg_lb_params params = {
		.size = sizeof(params),
		.wire = vmsg_transport_wire(lb->t),
		.features = lb->transport_features,
		.recovery_ms = ms,
	};

	if (ms > VIRTIO_MSG_LB_RECOVERY_MAX_MS)
		return -EINVAL;
	if (lb->added)
		return -EBUSY;
	if (ioctl(lb->fd, VIRTIO_MSG_LB_IOC_SET_PARAMS, &params)) {
		/* Bytes an older module does not know must be zero. */
		if (errno == E2BIG || errno == ENOTTY)
			return -EOPNOTSUPP;
		return -errno;
	}
	lb->recovery_ms = ms;
	return 0;
}

int vmsg_lb_adopt(struct vmsg_lb *lb, uint16_t dev_num)
{
	struct virtio_msg_lb_device req = {
		.size = sizeof(req),
		.dev_num = dev_num,
	};

	if (lb->added)
		return -EBUSY;
	if (ioctl(lb->fd, VIRTIO_MSG_LB_IOC_ADOPT, &req))
		return errno == ENOTTY ? -EOPNOTSUPP : -errno;
	lb->added = true;
	return 0;
}

/* The driver side's view of the device, as the library takes it. */
static int lb_read_state(struct vmsg_lb *lb, uint16_t dev_num,
			 const struct vmsg_dev_model *model,
			 struct vmsg_dev_state *st,
			 struct vmsg_dev_queue_state **queues,
			 const char **why)
{
	struct virtio_msg_lb_dev_state d = {
		.size = sizeof(d),
		.dev_num = dev_num,
	};
	struct virtio_msg_lb_queue_state q;
	struct vmsg_dev_queue_state *qs;
	uint32_t i;

	if (ioctl(lb->fd, VIRTIO_MSG_LB_IOC_GET_DEV_STATE, &d)) {
		*why = "the driver side has no such device";
		return -errno;
	}
	if (d.device_id != model->device_id) {
		*why = "the device is of another type";
		return -EINVAL;
	}
	if (d.flags & VIRTIO_MSG_LB_DEV_BROKEN) {
		*why = "the driver side gave up on the device";
		return -EINVAL;
	}
	/* Bounded before anything is allocated for it. */
	if (d.num_queues > model->num_queues) {
		*why = "the driver has more queues than the device";
		return -EINVAL;
	}
	qs = calloc(d.num_queues ? d.num_queues : 1, sizeof(*qs));
	if (!qs)
		return -ENOMEM;
	for (i = 0; i < d.num_queues; i++) {
		memset(&q, 0, sizeof(q));
		q.size = sizeof(q);
		q.dev_num = dev_num;
		q.index = i;
		if (ioctl(lb->fd, VIRTIO_MSG_LB_IOC_GET_QUEUE_STATE, &q)) {
			free(qs);
			*why = "a queue's state cannot be read";
			return -errno;
		}
		qs[i].enabled = q.flags & VIRTIO_MSG_LB_QUEUE_ENABLED;
		qs[i].size = q.queue_size;
		qs[i].desc_addr = q.desc_addr;
		qs[i].avail_addr = q.driver_addr;
		qs[i].used_addr = q.device_addr;
	}
	st->status = d.status;
	st->features[0] = d.driver_features[0];
	st->features[1] = d.driver_features[1];
	st->config_generation = d.config_generation;
	st->num_queues = d.num_queues;
	st->queues = qs;
	*queues = qs;
	return 0;
}

struct vmsg_dev *vmsg_lb_resume_device(struct vmsg_lb *lb, uint16_t dev_num,
				       const struct vmsg_dev_model *model,
				       void *priv, const char **why)
{
	struct vmsg_dev_queue_state *queues = NULL;
	struct vmsg_dev_state st = { };
	const char *dummy;
	struct vmsg_dev *dev;
	int ret;

	if (!why)
		why = &dummy;
	*why = NULL;
	if (!model) {
		errno = EINVAL;
		return NULL;
	}
	dev = vmsg_transport_add(lb->t, dev_num, model, priv);
	if (!dev)
		return NULL;
	ret = lb_read_state(lb, dev_num, model, &st, &queues, why);
	if (!ret)
		ret = vmsg_dev_resume(dev, &st, why);
	free(queues);
	if (ret) {
		vmsg_transport_remove(lb->t, dev_num);
		errno = -ret;
		return NULL;
	}
	return dev;
}

unsigned int vmsg_lb_wire(const struct vmsg_lb *lb)
{
	return vmsg_transport_wire(lb->t);
}

void vmsg_lb_close(struct vmsg_lb *lb)
{
	if (!lb)
		return;
	/* Closing first: the driver side stops before the models go. */
	close(lb->fd);
	vmsg_transport_destroy(lb->t);
	free(lb->rbuf);
	free(lb);
}

static bool model_has_feature(const struct vmsg_dev_model *m,
			      unsigned int bit)
{
	return bit / 32 < m->num_feature_blocks &&
	       (m->features[bit / 32] & (1U << (bit % 32)));
}

struct vmsg_dev *vmsg_lb_add_device(struct vmsg_lb *lb, uint16_t dev_num,
				    const struct vmsg_dev_model *model,
				    void *priv)
{
	struct virtio_msg_lb_device req = {
		.size = sizeof(req),
		.dev_num = dev_num,
	};
	struct vmsg_dev *dev;
	int err;

	/* The loopback bus reaches memory only through the DMA API. */
	if (!model || !model_has_feature(model, VIRTIO_F_VERSION_1) ||
	    !model_has_feature(model, VIRTIO_F_ACCESS_PLATFORM)) {
		errno = EINVAL;
		return NULL;
	}
	dev = vmsg_transport_add(lb->t, dev_num, model, priv);
	if (!dev)
		return NULL;
	/* The device must exist before the driver side asks about it. */
	if (ioctl(lb->fd, VIRTIO_MSG_LB_IOC_ADD_DEVICE, &req)) {
		err = errno;
		vmsg_transport_remove(lb->t, dev_num);
		errno = err;
		return NULL;
	}
	lb->added = true;
	return dev;
}

int vmsg_lb_remove_device(struct vmsg_lb *lb, uint16_t dev_num)
{
	struct virtio_msg_lb_device req = {
		.size = sizeof(req),
		.dev_num = dev_num,
	};
	int ret = 0;

	if (!vmsg_transport_find(lb->t, dev_num))
		return -ENOENT;
	if (ioctl(lb->fd, VIRTIO_MSG_LB_IOC_REMOVE_DEVICE, &req))
		ret = -errno;
	vmsg_transport_remove(lb->t, dev_num);
	return ret;
}

int vmsg_lb_unplug_device(struct vmsg_lb *lb, uint16_t dev_num)
{
	struct virtio_msg_lb_device req = {
		.size = sizeof(req),
		.dev_num = dev_num,
		.flags = VIRTIO_MSG_LB_REMOVE_ORDERLY,
	};

	if (!vmsg_transport_find(lb->t, dev_num))
		return -ENOENT;
	if (!ioctl(lb->fd, VIRTIO_MSG_LB_IOC_REMOVE_DEVICE, &req))
		return 0;
	/* A kernel without orderly removal refuses the flag. */
	if (errno == EINVAL)
		return vmsg_lb_remove_device(lb, dev_num);
	return -errno;
}

bool vmsg_lb_unplug_done(struct vmsg_lb *lb, uint16_t dev_num)
{
	struct virtio_msg_lb_device req = {
		.size = sizeof(req),
		.dev_num = dev_num,
	};

	if (!vmsg_transport_find(lb->t, dev_num))
		return true;
	/* Served, leaving or not, until the kernel lets go of it. */
	return ioctl(lb->fd, VIRTIO_MSG_LB_IOC_GET_DEVICE, &req) != 0;
}

int vmsg_lb_process(struct vmsg_lb *lb)
{
	int count;
	ssize_t n;

	/* What the kernel had no room for goes first. */
	if (vmsg_transport_backlogged(lb->t))
		vmsg_transport_flush(lb->t);
	for (count = 0; count < LB_BATCH; count++) {
		n = read(lb->fd, lb->rbuf, lb->max_msg_size);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			return -errno;
		}
		vmsg_transport_dispatch(lb->t, lb->rbuf, n);
	}
	return count;
}

/*
 * Serve until *@stop is set. @hooks, if any, brings the backend's own
 * work in: deferred work between batches, and one more descriptor to
 * wait on (a negative one is ignored by ppoll()).
 */
bool vmsg_lb_backlogged(const struct vmsg_lb *lb)
{
	return vmsg_transport_backlogged(lb->t);
}

/* Wake for messages, and for room while messages wait for it. */
static short lb_poll_events(const struct vmsg_lb *lb)
{
	return POLLIN | (vmsg_lb_backlogged(lb) ? POLLOUT : 0);
}

static int lb_loop(struct vmsg_lb *lb, const sigset_t *sigmask,
		   volatile sig_atomic_t *stop,
		   const struct vmsg_serve_hooks *hooks)
{
	struct pollfd pfd[2] = {
		{ .fd = lb->fd, .events = POLLIN },
		{ .fd = -1, .events = POLLIN },
	};
	bool busy;
	int ret;

	while (!*stop) {
		ret = vmsg_lb_process(lb);
		if (ret < 0)
			return ret;
		busy = ret > 0;
		if (hooks && hooks->work && hooks->work(hooks->priv))
			busy = true;
		if (busy)
			continue;
		if (hooks && hooks->wait_fd)
			pfd[1].fd = hooks->wait_fd(hooks->priv);
		pfd[0].events = lb_poll_events(lb);
		ret = ppoll(pfd, 2, NULL, sigmask);
		if (ret < 0 && errno != EINTR)
			return -errno;
		if (ret <= 0)
			continue;
		if (pfd[0].revents & (POLLERR | POLLHUP | POLLNVAL))
			return -EPIPE;
		if (pfd[1].fd >= 0 && pfd[1].revents)
			hooks->fd_ready(hooks->priv);
	}
	return 0;
}

int vmsg_lb_run(struct vmsg_lb *lb, const sigset_t *sigmask,
		volatile sig_atomic_t *stop)
{
	return lb_loop(lb, sigmask, stop, NULL);
}

/* The options every backend takes, added after its own. */
#define LB_SHARED_SHORT_OPTS	"d:n:qh"
/* --wire has no letter: getopt values above 255 are no character. */
#define LB_OPT_WIRE		0x100
#define LB_OPT_WINDOW		0x101
#define LB_OPT_RECOVERY		0x102
#define LB_OPT_ADOPT		0x103

static const struct option lb_shared_long_opts[] = {
	{ "device", required_argument, NULL, 'd' },
	{ "dev-num", required_argument, NULL, 'n' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "wire", required_argument, NULL, LB_OPT_WIRE },
	{ "window", required_argument, NULL, LB_OPT_WINDOW },
	{ "recovery-ms", required_argument, NULL, LB_OPT_RECOVERY },
	{ "adopt", no_argument, NULL, LB_OPT_ADOPT },
	{ "help", no_argument, NULL, 'h' },
};

#define LB_NR_SHARED_OPTS \
	(sizeof(lb_shared_long_opts) / sizeof(lb_shared_long_opts[0]))

int vmsg_lb_parse_num(const char *s, unsigned long min, unsigned long max,
		      unsigned long *val)
{
	char *end;

	errno = 0;
	*val = strtoul(s, &end, 0);
	if (errno || end == s || *end || *val < min || *val > max)
		return -EINVAL;
	return 0;
}

/* --window: bytes, with an optional K, M or G suffix. */
static int lb_parse_window(const char *s, uint64_t *size)
{
	unsigned long long val;
	unsigned int shift = 0;
	char *end;

	errno = 0;
	val = strtoull(s, &end, 0);
	if (*end == 'K' || *end == 'k')
		shift = 10;
	else if (*end == 'M' || *end == 'm')
		shift = 20;
	else if (*end == 'G' || *end == 'g')
		shift = 30;
	if (shift)
		end++;
	if (errno || end == s || *end || !val || val > (UINT64_MAX >> shift)) {
		fprintf(stderr, "bad window size: %s\n", s);
		return -EINVAL;
	}
	*size = (uint64_t)val << shift;
	return 0;
}

int vmsg_lb_parse_dev_num(const char *s, uint16_t *dev_num)
{
	unsigned long num;

	if (vmsg_lb_parse_num(s, 0, UINT16_MAX, &num)) {
		fprintf(stderr, "bad device number: %s\n", s);
		return -EINVAL;
	}
	*dev_num = num;
	return 0;
}

int vmsg_lb_parse_wire(const char *s, unsigned int *wire)
{
	if (!strcmp(s, "v1")) {
		*wire = VIRTIO_MSG_WIRE_V1;
		return 0;
	}
	if (!strcmp(s, "v2")) {
		*wire = VIRTIO_MSG_WIRE_V2;
		return 0;
	}
	fprintf(stderr, "bad wire generation: %s (v1 or v2)\n", s);
	return -EINVAL;
}

/* One getopt_long() table: the backend's options, then the shared ones. */
static struct option *lb_join_long_opts(const struct option *own)
{
	struct option *all;
	size_t nr_own = 0;

	while (own && own[nr_own].name)
		nr_own++;
	/* The extra, zeroed entry ends the table. */
	all = calloc(nr_own + LB_NR_SHARED_OPTS + 1, sizeof(*all));
	if (!all)
		return NULL;
	if (nr_own)
		memcpy(all, own, nr_own * sizeof(*all));
	memcpy(all + nr_own, lb_shared_long_opts, sizeof(lb_shared_long_opts));
	return all;
}

/* Take one option: 0 when taken, -1 when its value is bad. */
static int lb_take_opt(const struct vmsg_lb_cmdline *cmdline,
		       struct vmsg_lb_args *args, int opt, const char *arg)
{
	switch (opt) {
	case 'd':
		args->path = arg;
		return 0;
	case 'n':
		return vmsg_lb_parse_dev_num(arg, &args->dev_num) ? -1 : 0;
	case 'q':
		args->quiet = true;
		return 0;
	case LB_OPT_WIRE:
		return vmsg_lb_parse_wire(arg, &args->wire) ? -1 : 0;
	case LB_OPT_WINDOW:
		return lb_parse_window(arg, &args->window) ? -1 : 0;
	case LB_OPT_RECOVERY: {
		unsigned long ms;

		if (!cmdline->adoptable) {
			fprintf(stderr, "--recovery-ms: not for this backend\n");
			return -1;
		}

		if (vmsg_lb_parse_num(arg, 0, VIRTIO_MSG_LB_RECOVERY_MAX_MS,
				      &ms)) {
			fprintf(stderr, "bad recovery time: %s (0 to %u ms)\n",
				arg, VIRTIO_MSG_LB_RECOVERY_MAX_MS);
			return -1;
		}
		args->recovery_ms = ms;
		return 0;
	}
	case LB_OPT_ADOPT:
		if (!cmdline->adoptable) {
			fprintf(stderr, "--adopt: not for this backend\n");
			return -1;
		}
		args->adopt = true;
		return 0;
	}
	if (!cmdline->parse_opt)
		return -1;
	return cmdline->parse_opt(opt, arg, cmdline->priv) ? -1 : 0;
}

bool vmsg_lb_parse_args(int argc, char **argv,
			const struct vmsg_lb_cmdline *cmdline,
			struct vmsg_lb_args *args, int *exit_status)
{
	const char *own_short = cmdline->short_opts ? cmdline->short_opts : "";
	struct option *long_opts;
	char *short_opts;
	int opt, status;

	if (!args->wire)
		args->wire = VMSG_LB_DEFAULT_WIRE;
	long_opts = lb_join_long_opts(cmdline->long_opts);
	if (asprintf(&short_opts, "%s" LB_SHARED_SHORT_OPTS, own_short) < 0)
		short_opts = NULL;
	if (!long_opts || !short_opts) {
		fprintf(stderr, "%s\n", strerror(ENOMEM));
		status = 1;
		goto out;
	}

	while ((opt = getopt_long(argc, argv, short_opts, long_opts,
				  NULL)) != -1) {
		if (opt == 'h') {
			cmdline->usage(stdout, argv[0]);
			status = 0;
			goto out;
		}
		/* getopt_long() has said what is wrong; the help says more. */
		if (opt == '?')
			goto bad_usage;
		if (lb_take_opt(cmdline, args, opt, optarg)) {
			status = 2;
			goto out;
		}
	}
	if (optind != argc)
		goto bad_usage;
	free(short_opts);
	free(long_opts);
	return true;

bad_usage:
	cmdline->usage(stderr, argv[0]);
	status = 2;
out:
	free(short_opts);
	free(long_opts);
	*exit_status = status;
	return false;
}

/* Set by SIGTERM and SIGINT while vmsg_lb_serve() serves. */
static volatile sig_atomic_t lb_serve_stop;

static void lb_serve_on_signal(int sig)
{
	(void)sig;
	lb_serve_stop = 1;
}

/*
 * Block SIGTERM and SIGINT and catch them; *@wait_mask becomes the mask
 * that lets them in, for ppoll(). Taken only while waiting, a signal can
 * never land between the check of the stop flag and the wait.
 */
static void lb_serve_catch_signals(sigset_t *wait_mask)
{
	struct sigaction sa = { .sa_handler = lb_serve_on_signal };
	sigset_t stop_signals;

	lb_serve_stop = 0;
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGINT);
	sigprocmask(SIG_BLOCK, &stop_signals, wait_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigdelset(wait_mask, SIGTERM);
	sigdelset(wait_mask, SIGINT);
}

/* Speak the generation asked for: false, after saying why, if we cannot. */
static bool lb_serve_wire(struct vmsg_lb *lb, const char *path,
			  unsigned int wire)
{
	int ret = vmsg_lb_set_wire(lb, wire, 0);

	if (ret == -EPROTONOSUPPORT) {
		fprintf(stderr,
			"%s: wire v%u: the virtio_msg_loopback module is too old (no VIRTIO_MSG_LB_IOC_SET_PARAMS) and speaks only v1; load a newer module or use --wire v1\n",
			path, wire);
		return false;
	}
	if (ret) {
		fprintf(stderr, "%s: wire v%u: %s\n", path, wire,
			strerror(-ret));
		return false;
	}
	return true;
}

/*
 * Bound on an orderly removal, for a kernel that never lets go: the
 * driver side breaks a device whose removal outlasts its own deadline.
 */
#define LB_UNPLUG_MS	30000
/* How often the devices' state is asked while they are leaving. */
#define LB_UNPLUG_POLL_MS	20

static long lb_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

/*
 * Stopping: remove the devices in an orderly way and serve them until the
 * driver side has let go of all of them, so that their drivers complete
 * what the devices hold instead of failing it. A second SIGTERM or SIGINT
 * ends the wait.
 */
static void lb_serve_unplug(struct vmsg_lb *lb, struct vmsg_serve_dev *devs,
			    size_t nr_devs, const sigset_t *wait_mask,
			    const struct vmsg_serve_hooks *hooks)
{
	const struct timespec tick = {
		.tv_nsec = LB_UNPLUG_POLL_MS * 1000000L,
	};
	struct pollfd pfd[2] = {
		{ .fd = lb->fd, .events = POLLIN },
		{ .fd = -1, .events = POLLIN },
	};
	long end = lb_now_ms() + LB_UNPLUG_MS;
	bool leaving;
	size_t i;
	int ret;

	lb_serve_stop = 0;
	for (i = 0; i < nr_devs; i++)
		if (devs[i].dev)
			vmsg_lb_unplug_device(lb, devs[i].dev_num);
	while (!lb_serve_stop && lb_now_ms() < end) {
		leaving = false;
		for (i = 0; i < nr_devs; i++)
			if (!vmsg_lb_unplug_done(lb, devs[i].dev_num))
				leaving = true;
		if (!leaving)
			return;
		ret = vmsg_lb_process(lb);
		if (ret < 0)
			return;
		if (hooks && hooks->work && hooks->work(hooks->priv))
			ret = 1;
		if (ret > 0)
			continue;
		if (hooks && hooks->wait_fd)
			pfd[1].fd = hooks->wait_fd(hooks->priv);
		pfd[0].events = lb_poll_events(lb);
		ret = ppoll(pfd, 2, &tick, wait_mask);
		if (ret < 0 && errno != EINTR)
			return;
		if (ret <= 0)
			continue;
		if (pfd[0].revents & (POLLERR | POLLHUP | POLLNVAL))
			return;
		if (pfd[1].fd >= 0 && pfd[1].revents)
			hooks->fd_ready(hooks->priv);
	}
}

/*
 * --adopt: take over the orphan holding the first device's number, and
 * resume each device where the driver side has it. False, after saying
 * why, if that cannot be done; the devices were not served then.
 */
static bool lb_serve_adopt(struct vmsg_lb *lb, const char *path,
			   struct vmsg_serve_dev *devs, size_t nr_devs)
{
	const char *why;
	size_t i;
	int ret;

	if (!nr_devs)
		return false;
	ret = vmsg_lb_adopt(lb, devs[0].dev_num);
	if (ret) {
		fprintf(stderr, "%s: adopting device %u: %s\n", path,
			devs[0].dev_num,
			ret == -ENOENT ? "no dead backend's devices wait with that number" :
			ret == -EPROTO ? "they speak another wire generation (see --wire)" :
			ret == -EOPNOTSUPP ? "the virtio_msg_loopback module is too old for it" :
			strerror(-ret));
		return false;
	}
	for (i = 0; i < nr_devs; i++) {
		devs[i].dev = vmsg_lb_resume_device(lb, devs[i].dev_num,
						    devs[i].model,
						    devs[i].priv, &why);
		if (!devs[i].dev) {
			fprintf(stderr, "device %u: adoption refused: %s\n",
				devs[i].dev_num, why ? why : strerror(errno));
			while (i--)
				devs[i].dev = NULL;
			return false;
		}
	}
	return true;
}

enum vmsg_lb_serve_result vmsg_lb_serve(const struct vmsg_lb_args *args,
					struct vmsg_serve_dev *devs,
					size_t nr_devs, FILE *status,
					const struct vmsg_serve_hooks *hooks)
{
	enum vmsg_lb_serve_result result = VMSG_LB_STOPPED;
	const char *path = args->path ? args->path : VMSG_LB_DEFAULT_PATH;
	unsigned int wire = args->wire ? args->wire : VMSG_LB_DEFAULT_WIRE;
	sigset_t wait_mask;
	struct vmsg_lb *lb;
	size_t i;
	int ret;

	lb_serve_catch_signals(&wait_mask);
	lb = vmsg_lb_open(path);
	if (!lb) {
		int err = errno;

		if (err == EMFILE)
			fprintf(stderr,
				"%s: %s: too many backends: see the max_instances module parameter\n",
				path, strerror(err));
		else
			vmsg_report_open_error(path, err, "virtio_msg_loopback");
		return VMSG_LB_NOT_SERVED;
	}
	/* Before any device: the driver side reads the layouts with it. */
	if (!lb_serve_wire(lb, path, wire)) {
		vmsg_lb_close(lb);
		return VMSG_LB_NOT_SERVED;
	}
	ret = args->recovery_ms && !args->adopt ?
	      vmsg_lb_set_recovery(lb, args->recovery_ms) : 0;
	if (ret) {
		fprintf(stderr, "%s: recovery of %u ms: %s\n", path,
			args->recovery_ms,
			ret == -EOPNOTSUPP ?
			"the virtio_msg_loopback module is too old for it" :
			strerror(-ret));
		vmsg_lb_close(lb);
		return VMSG_LB_NOT_SERVED;
	}
	/* An orphan keeps the window it has. */
	ret = args->window && !args->adopt ?
	      vmsg_lb_set_window(lb, args->window,
				 VMSG_LB_DEFAULT_WINDOW_BASE) : 0;
	if (ret) {
		fprintf(stderr, "%s: window of %llu bytes: %s\n", path,
			(unsigned long long)args->window, strerror(-ret));
		vmsg_lb_close(lb);
		return VMSG_LB_NOT_SERVED;
	}
	if (args->adopt && !lb_serve_adopt(lb, path, devs, nr_devs)) {
		/* Closing leaves the devices to wait for another adopter. */
		vmsg_lb_close(lb);
		return VMSG_LB_NOT_SERVED;
	}
	for (i = 0; i < nr_devs && !args->adopt; i++) {
		devs[i].dev = vmsg_lb_add_device(lb, devs[i].dev_num,
						 devs[i].model, devs[i].priv);
		if (!devs[i].dev) {
			fprintf(stderr, "device %u: %s\n", devs[i].dev_num,
				strerror(errno));
			goto err_close;
		}
	}
	if (status) {
		fprintf(status, "ready\n");
		fflush(status);
	}

	ret = lb_loop(lb, &wait_mask, &lb_serve_stop, hooks);
	if (ret) {
		fprintf(stderr, "loopback: %s\n", strerror(-ret));
		result = VMSG_LB_FAILED;
	} else {
		lb_serve_unplug(lb, devs, nr_devs, &wait_mask, hooks);
	}
	/* Whatever is still there goes now, in a surprise removal. */
	for (i = 0; i < nr_devs; i++)
		vmsg_lb_remove_device(lb, devs[i].dev_num);
	vmsg_lb_close(lb);
	for (i = 0; i < nr_devs; i++)
		devs[i].dev = NULL;
	return result;

err_close:
	/* Closing destroys the devices offered so far. */
	vmsg_lb_close(lb);
	while (i--)
		devs[i].dev = NULL;
	return VMSG_LB_NOT_SERVED;
}

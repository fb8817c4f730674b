// SPDX-License-Identifier: GPL-2.0-only
/*
 * The ivshmem server protocol: a server that hands out the shared memory
 * and the peers' eventfds, and the client end of it.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <virtio-msg/ivshmem.h>

#define LISTEN_BACKLOG	8

static void peer_clear(struct vmsg_ivshm_peer *p)
{
	unsigned int v;

	for (v = 0; v < p->nr_efd; v++)
		close(p->efd[v]);
	if (p->sock >= 0)
		close(p->sock);
	p->id = -1;
	p->sock = -1;
	p->nr_efd = 0;
}

static void peers_init(struct vmsg_ivshm_peer *peers)
{
	unsigned int i;

	for (i = 0; i < VMSG_IVSHM_MAX_PEERS; i++) {
		peers[i].id = -1;
		peers[i].sock = -1;
		peers[i].nr_efd = 0;
	}
}

static struct vmsg_ivshm_peer *peer_find(struct vmsg_ivshm_peer *peers,
					 int64_t id)
{
	unsigned int i;

	for (i = 0; i < VMSG_IVSHM_MAX_PEERS; i++)
		if (peers[i].id == id)
			return &peers[i];
	return NULL;
}

/* One le64 and, when @fd >= 0, one descriptor. */
static int send_msg(int sock, int64_t val, int fd)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	int64_t le = htole64(val);
	struct iovec iov = { .iov_base = &le, .iov_len = sizeof(le) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cmsg;
	ssize_t n;

	if (fd >= 0) {
		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.buf;
		msg.msg_controllen = sizeof(ctl.buf);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	}
	do {
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == sizeof(le) ? 0 : -EIO;
}

/*
 * One le64 and the descriptor that came with it (-1 if none). Extra
 * descriptors are closed: nothing sent to us is left open by mistake.
 */
static int recv_msg(int sock, int64_t *val, int *fd, int flags)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(4 * sizeof(int))];
	} ctl;
	int64_t le;
	struct iovec iov = { .iov_base = &le, .iov_len = sizeof(le) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *cmsg;
	unsigned int i, nfd;
	int fds[4];
	ssize_t n;

	*fd = -1;
	do {
		n = recvmsg(sock, &msg, flags | MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -EPIPE;
	for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET ||
		    cmsg->cmsg_type != SCM_RIGHTS)
			continue;
		nfd = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		if (nfd > 4)
			nfd = 4;
		memcpy(fds, CMSG_DATA(cmsg), nfd * sizeof(int));
		for (i = 0; i < nfd; i++) {
			if (*fd < 0)
				*fd = fds[i];
			else
				close(fds[i]);
		}
	}
	if (n != sizeof(le) || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		return -EPROTO;
	}
	*val = le64toh(le);
	return 0;
}

/* Announce @p (its ID once per eventfd) on @sock. */
static int send_peer(int sock, const struct vmsg_ivshm_peer *p)
{
	unsigned int v;
	int ret;

	for (v = 0; v < p->nr_efd; v++) {
		ret = send_msg(sock, p->id, p->efd[v]);
		if (ret)
			return ret;
	}
	return 0;
}

uint64_t vmsg_efd_drain(int efd)
{
	uint64_t count;

	if (read(efd, &count, sizeof(count)) != sizeof(count))
		return 0;
	return count;
}

static void efd_ring(int efd)
{
	uint64_t one = 1;
	ssize_t n;

	/* A full counter (2^64 - 2 rings unread) loses nothing that matters. */
	n = write(efd, &one, sizeof(one));
	(void)n;
}

/* A stream socket and the address of @path in @sa: its fd, or -1. */
static int unix_socket(const char *path, struct sockaddr_un *sa)
{
	*sa = (struct sockaddr_un){ .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa->sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa->sun_path, path, strlen(path) + 1);
	return socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
}

/* Close @fd keeping errno; -1. */
static int close_fail(int fd)
{
	int err = errno;

	close(fd);
	errno = err;
	return -1;
}

static int listen_unix(const char *path)
{
	struct sockaddr_un sa;
	int fd = unix_socket(path, &sa);

	if (fd < 0)
		return -1;
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(fd, LISTEN_BACKLOG))
		return close_fail(fd);
	return fd;
}

/* ------------------------------------------------------------------ */
/* Server                                                              */

struct vmsg_ivshm_server {
	int lfd;			/* guests */
	int dev_lfd;			/* device side, or -1 */
	int shm_fd;
	unsigned int vectors;
	char *path, *dev_path;
	struct vmsg_ivshm_events ev;
	/* peers[0] is the device side, ID 0; its sock is its process. */
	struct vmsg_ivshm_peer peers[VMSG_IVSHM_MAX_PEERS];
	int64_t next_id;
};

static int64_t server_new_id(struct vmsg_ivshm_server *s)
{
	unsigned int tries;
	int64_t id;

	/* IDs are not reused at once: a late ring finds nobody. */
	for (tries = 0; tries < UINT16_MAX; tries++) {
		id = s->next_id++;
		if (s->next_id > UINT16_MAX)
			s->next_id = 1;
		if (!peer_find(s->peers, id))
			return id;
	}
	return -1;
}

static int server_make_efds(struct vmsg_ivshm_server *s,
			    struct vmsg_ivshm_peer *p)
{
	unsigned int v;

	for (v = 0; v < s->vectors; v++) {
		p->efd[v] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (p->efd[v] < 0)
			return -errno;
		p->nr_efd = v + 1;
	}
	return 0;
}

struct vmsg_ivshm_server *vmsg_ivshm_server_create(const char *path,
						   const char *device_path,
						   int shm_fd,
						   unsigned int vectors,
						   const struct vmsg_ivshm_events *ev)
{
	struct vmsg_ivshm_server *s;
	int err;

	if (!path || shm_fd < 0 || !vectors ||
	    vectors > VMSG_IVSHM_MAX_VECTORS) {
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->shm_fd = -1;
	peers_init(s->peers);
	s->lfd = -1;
	s->dev_lfd = -1;
	/* Our own descriptor: the caller may close theirs. */
	s->shm_fd = fcntl(shm_fd, F_DUPFD_CLOEXEC, 0);
	if (s->shm_fd < 0)
		goto err;
	s->vectors = vectors;
	s->next_id = 1;
	if (ev)
		s->ev = *ev;
	s->peers[0].id = VMSG_IVSHM_DEVICE_ID;
	err = server_make_efds(s, &s->peers[0]);
	if (err) {
		errno = -err;
		goto err;
	}
	s->path = strdup(path);
	if (!s->path)
		goto err;
	s->lfd = listen_unix(path);
	if (s->lfd < 0)
		goto err;
	if (device_path) {
		s->dev_path = strdup(device_path);
		if (!s->dev_path)
			goto err;
		s->dev_lfd = listen_unix(device_path);
		if (s->dev_lfd < 0)
			goto err;
	}
	return s;

err:
	err = errno;
	vmsg_ivshm_server_destroy(s);
	errno = err;
	return NULL;
}

void vmsg_ivshm_server_destroy(struct vmsg_ivshm_server *s)
{
	unsigned int i;

	if (!s)
		return;
	for (i = 0; i < VMSG_IVSHM_MAX_PEERS; i++)
		peer_clear(&s->peers[i]);
	if (s->lfd >= 0) {
		close(s->lfd);
		unlink(s->path);
	}
	if (s->dev_lfd >= 0) {
		close(s->dev_lfd);
		unlink(s->dev_path);
	}
	if (s->shm_fd >= 0)
		close(s->shm_fd);
	free(s->path);
	free(s->dev_path);
	free(s);
}

/* The hand-out: version, ID, memory, the others, then its own eventfds. */
static int server_greet(struct vmsg_ivshm_server *s,
			struct vmsg_ivshm_peer *p, int sock)
{
	unsigned int i;
	int ret;

	ret = send_msg(sock, VMSG_IVSHM_PROTOCOL, -1);
	if (!ret)
		ret = send_msg(sock, p->id, -1);
	if (!ret)
		ret = send_msg(sock, -1, s->shm_fd);
	for (i = 0; i < VMSG_IVSHM_MAX_PEERS && !ret; i++)
		if (&s->peers[i] != p && s->peers[i].id >= 0)
			ret = send_peer(sock, &s->peers[i]);
	if (!ret)
		ret = send_peer(sock, p);
	return ret;
}

/* Tell the device side's process and every guest but @skip about @p. */
static void server_announce(struct vmsg_ivshm_server *s,
			    const struct vmsg_ivshm_peer *p, bool left)
{
	struct vmsg_ivshm_peer *q;
	unsigned int i;

	for (i = 0; i < VMSG_IVSHM_MAX_PEERS; i++) {
		q = &s->peers[i];
		if (q == p || q->sock < 0)
			continue;
		/* A peer that cannot be told is dropped at its next hang-up. */
		if (left)
			send_msg(q->sock, p->id, -1);
		else
			send_peer(q->sock, p);
	}
}

static void server_accept_guest(struct vmsg_ivshm_server *s)
{
	struct vmsg_ivshm_peer *p = NULL;
	unsigned int i;
	int sock;

	sock = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
	if (sock < 0)
		return;
	for (i = 1; i < VMSG_IVSHM_MAX_PEERS && !p; i++)
		if (s->peers[i].id < 0)
			p = &s->peers[i];
	if (!p) {
		close(sock);
		return;
	}
	p->id = server_new_id(s);
	if (p->id < 0 || server_make_efds(s, p) || server_greet(s, p, sock)) {
		close(sock);
		peer_clear(p);
		return;
	}
	p->sock = sock;
	server_announce(s, p, false);
	if (s->ev.guest_join)
		s->ev.guest_join(s->ev.priv, p->id);
}

/* One device-side process at a time: it is ID 0. */
static void server_accept_device(struct vmsg_ivshm_server *s)
{
	struct vmsg_ivshm_peer *p = &s->peers[0];
	int sock;

	sock = accept4(s->dev_lfd, NULL, NULL, SOCK_CLOEXEC);
	if (sock < 0)
		return;
	if (p->sock >= 0 || server_greet(s, p, sock)) {
		close(sock);
		return;
	}
	p->sock = sock;
}

static void server_drop(struct vmsg_ivshm_server *s,
			struct vmsg_ivshm_peer *p)
{
	int64_t id = p->id;

	if (p == &s->peers[0]) {
		/* The device side's eventfds stay for the next process. */
		close(p->sock);
		p->sock = -1;
		if (s->ev.device_leave)
			s->ev.device_leave(s->ev.priv);
		return;
	}
	server_announce(s, p, true);
	peer_clear(p);
	if (s->ev.guest_leave)
		s->ev.guest_leave(s->ev.priv, id);
}

unsigned int vmsg_ivshm_server_pollfds(const struct vmsg_ivshm_server *s,
				       struct pollfd *pfd)
{
	unsigned int i, n = 0;

	pfd[n++] = (struct pollfd){ .fd = s->lfd, .events = POLLIN };
	if (s->dev_lfd >= 0)
		pfd[n++] = (struct pollfd){ .fd = s->dev_lfd,
					    .events = POLLIN };
	for (i = 0; i < VMSG_IVSHM_MAX_PEERS; i++)
		if (s->peers[i].sock >= 0)
			pfd[n++] = (struct pollfd){ .fd = s->peers[i].sock,
						    .events = POLLIN };
	return n;
}

void vmsg_ivshm_server_handle(struct vmsg_ivshm_server *s,
			      const struct pollfd *pfd, unsigned int n)
{
	unsigned int i, j;
	char junk[64];
	ssize_t r;

	for (i = 0; i < n; i++) {
		if (!pfd[i].revents)
			continue;
		if (pfd[i].fd == s->lfd) {
			server_accept_guest(s);
			continue;
		}
		if (pfd[i].fd == s->dev_lfd) {
			server_accept_device(s);
			continue;
		}
		for (j = 0; j < VMSG_IVSHM_MAX_PEERS; j++) {
			if (s->peers[j].sock != pfd[i].fd)
				continue;
			/* Clients say nothing: end of file is a hang-up. */
			r = recv(pfd[i].fd, junk, sizeof(junk), MSG_DONTWAIT);
			if (!r || (r < 0 && errno != EAGAIN && errno != EINTR) ||
			    (pfd[i].revents & (POLLHUP | POLLERR)))
				server_drop(s, &s->peers[j]);
			break;
		}
	}
}

int vmsg_ivshm_server_device_efd(const struct vmsg_ivshm_server *s,
				 unsigned int vector)
{
	return vector < s->peers[0].nr_efd ? s->peers[0].efd[vector] : -1;
}

unsigned int vmsg_ivshm_server_ring_guests(struct vmsg_ivshm_server *s,
					   unsigned int vector)
{
	unsigned int i, n = 0;

	for (i = 1; i < VMSG_IVSHM_MAX_PEERS; i++) {
		if (s->peers[i].id < 0 || vector >= s->peers[i].nr_efd)
			continue;
		efd_ring(s->peers[i].efd[vector]);
		n++;
	}
	return n;
}

unsigned int vmsg_ivshm_server_nr_guests(const struct vmsg_ivshm_server *s)
{
	unsigned int i, n = 0;

	for (i = 1; i < VMSG_IVSHM_MAX_PEERS; i++)
		n += s->peers[i].id >= 0;
	return n;
}

/* ------------------------------------------------------------------ */
/* Client                                                              */

struct vmsg_ivshm_client {
	int sock;
	int shm_fd;
	int64_t id;
	unsigned int vectors;
	struct vmsg_ivshm_peer self;
	struct vmsg_ivshm_peer peers[VMSG_IVSHM_MAX_PEERS];
};

/* Peer @id sent @fd (or left, with fd -1). */
static int client_take(struct vmsg_ivshm_client *c, int64_t id, int fd,
		       bool *joined, bool *left)
{
	struct vmsg_ivshm_peer *p;

	if (id < 0 || id > UINT16_MAX) {
		if (fd >= 0)
			close(fd);
		return -EPROTO;
	}
	if (id == c->id) {
		p = &c->self;
	} else {
		p = peer_find(c->peers, id);
		if (fd < 0) {
			if (p) {
				peer_clear(p);
				if (left)
					*left = true;
			}
			return 0;
		}
		if (!p)
			p = peer_find(c->peers, -1);
		if (!p) {
			close(fd);
			return 0;
		}
		p->id = id;
	}
	if (fd < 0)
		return -EPROTO;
	if (p->nr_efd >= VMSG_IVSHM_MAX_VECTORS) {
		close(fd);
		return -EPROTO;
	}
	p->efd[p->nr_efd++] = fd;
	if (joined && p != &c->self && p->nr_efd == 1)
		*joined = true;
	return 0;
}

static int connect_unix(const char *path)
{
	struct sockaddr_un sa;
	int fd = unix_socket(path, &sa);

	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		return close_fail(fd);
	return fd;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Blocking receive, bounded by @deadline (CLOCK_MONOTONIC ms). */
static int recv_by(int sock, int64_t *val, int *fd, int64_t deadline)
{
	struct pollfd pfd = { .fd = sock, .events = POLLIN };
	int64_t left = deadline - now_ms();

	if (left <= 0 || poll(&pfd, 1, left) <= 0)
		return -ETIMEDOUT;
	return recv_msg(sock, val, fd, MSG_DONTWAIT);
}

static int client_handout(struct vmsg_ivshm_client *c, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms, val;
	unsigned int msgs;
	int fd, ret;

	ret = recv_by(c->sock, &val, &fd, deadline);
	if (ret)
		return ret;
	if (fd >= 0)
		close(fd);
	if (val != VMSG_IVSHM_PROTOCOL)
		return -EPROTO;
	ret = recv_by(c->sock, &c->id, &fd, deadline);
	if (ret)
		return ret;
	if (fd >= 0)
		close(fd);
	if (c->id < 0 || c->id > UINT16_MAX)
		return -EPROTO;
	ret = recv_by(c->sock, &val, &c->shm_fd, deadline);
	if (ret)
		return ret;
	if (val != -1 || c->shm_fd < 0)
		return -EPROTO;
	c->self.id = c->id;
	/* Peers' eventfds until our own are all there, bounded. */
	for (msgs = 0; c->self.nr_efd < c->vectors; msgs++) {
		if (msgs > VMSG_IVSHM_MAX_PEERS * VMSG_IVSHM_MAX_VECTORS)
			return -EPROTO;
		ret = recv_by(c->sock, &val, &fd, deadline);
		if (!ret)
			ret = client_take(c, val, fd, NULL, NULL);
		if (ret)
			return ret;
	}
	return 0;
}

struct vmsg_ivshm_client *vmsg_ivshm_client_connect(const char *path,
						    unsigned int vectors,
						    int timeout_ms)
{
	struct vmsg_ivshm_client *c;
	int ret;

	if (!vectors || vectors > VMSG_IVSHM_MAX_VECTORS) {
		errno = EINVAL;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	peers_init(c->peers);
	c->self.id = -1;
	c->self.sock = -1;
	c->shm_fd = -1;
	c->vectors = vectors;
	c->sock = connect_unix(path);
	if (c->sock < 0) {
		ret = -errno;
		goto err;
	}
	ret = client_handout(c, timeout_ms);
	if (ret)
		goto err;
	return c;

err:
	vmsg_ivshm_client_close(c);
	errno = -ret;
	return NULL;
}

void vmsg_ivshm_client_close(struct vmsg_ivshm_client *c)
{
	unsigned int i;

	if (!c)
		return;
	for (i = 0; i < VMSG_IVSHM_MAX_PEERS; i++)
		peer_clear(&c->peers[i]);
	peer_clear(&c->self);
	if (c->shm_fd >= 0)
		close(c->shm_fd);
	if (c->sock >= 0)
		close(c->sock);
	free(c);
}

int vmsg_ivshm_client_fd(const struct vmsg_ivshm_client *c)
{
	return c->sock;
}

int64_t vmsg_ivshm_client_id(const struct vmsg_ivshm_client *c)
{
	return c->id;
}

int vmsg_ivshm_client_shm_fd(const struct vmsg_ivshm_client *c)
{
	return c->shm_fd;
}

int vmsg_ivshm_client_efd(const struct vmsg_ivshm_client *c,
			  unsigned int vector)
{
	return vector < c->self.nr_efd ? c->self.efd[vector] : -1;
}

int vmsg_ivshm_client_handle(struct vmsg_ivshm_client *c, bool *joined,
			     bool *left)
{
	unsigned int i;
	int64_t val;
	int fd, ret;

	/* Bounded: what one call takes is at most a table's worth. */
	for (i = 0; i < VMSG_IVSHM_MAX_PEERS * VMSG_IVSHM_MAX_VECTORS; i++) {
		ret = recv_msg(c->sock, &val, &fd, MSG_DONTWAIT);
		if (ret == -EAGAIN)
			return 0;
		if (ret)
			return ret;
		ret = client_take(c, val, fd, joined, left);
		if (ret)
			return ret;
	}
	return 0;
}

unsigned int vmsg_ivshm_client_ring(struct vmsg_ivshm_client *c, int64_t id,
				    unsigned int vector)
{
	unsigned int i, n = 0;

	for (i = 0; i < VMSG_IVSHM_MAX_PEERS; i++) {
		struct vmsg_ivshm_peer *p = &c->peers[i];

		if (p->id < 0 || (id >= 0 && p->id != id) ||
		    vector >= p->nr_efd)
			continue;
		efd_ring(p->efd[vector]);
		n++;
	}
	return n;
}

unsigned int vmsg_ivshm_client_nr_peers(const struct vmsg_ivshm_client *c)
{
	unsigned int i, n = 0;

	for (i = 0; i < VMSG_IVSHM_MAX_PEERS; i++)
		n += c->peers[i].id >= 0;
	return n;
}

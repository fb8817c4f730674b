// SPDX-License-Identifier: GPL-2.0
/*
 * End to end over the virtio-msg loopback bus: the vmsg-net backend serves
 * two virtio-net devices wired back to back. Each interface goes into a
 * network namespace of its own, so that traffic between the two addresses
 * has to cross the devices: ICMP echo both ways, then 1 MiB over TCP with
 * a checksum compared on both ends. When the backend stops, both
 * interfaces go away; when it is killed in the middle of a transfer, the
 * transfer fails instead of hanging, the interfaces go away as well, and
 * a new backend brings working ones back. Every test runs with the
 * backend speaking each wire generation. Last, queues too small for the
 * driver's longest buffers are refused, and large enough ones work.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "../../kselftest_harness.h"
#include "virtio_msg_lb_backend.h"

#define SYS_NET		"/sys/class/net"

/* Test-internal addresses; the two namespaces never route anywhere. */
static const char * const net_mac[2] = {
	"02:76:6d:7e:00:01", "02:76:6d:7e:00:02",
};

static const char * const net_addr[2] = { "10.99.0.1", "10.99.0.2" };

#define NET_MASK	"255.255.255.0"
#define TCP_PORT	5201
#define TCP_BYTES	(1024 * 1024)
#define NR_PINGS	4
/* backend_killed: a transfer longer than the test, cut after 256 KiB. */
#define KILL_BYTES		(64ULL * 1024 * 1024 * 1024)
#define KILL_STEP		(256 * 1024)
#define KILL_USER_TIMEOUT_MS	5000
#define KILL_IDLE_MS		15000

/*
 * The interface of this namespace with MAC address @mac, if it is a
 * virtio device on a virtio-msg loopback bus: its name in @name, or "".
 */
static void find_if(const char *mac, char *name, size_t len)
{
	char path[300], buf[64];
	struct dirent *de;
	DIR *d;

	name[0] = '\0';
	d = opendir(SYS_NET);
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), SYS_NET "/%s/address", de->d_name);
		if (lb_read_file(path, buf, sizeof(buf)) ||
		    strncasecmp(buf, mac, strlen(mac)))
			continue;
		snprintf(path, sizeof(path), SYS_NET "/%s/device", de->d_name);
		if (!lb_sysfs_on_loopback(path))
			continue;
		if (strlen(de->d_name) < len)
			memcpy(name, de->d_name, strlen(de->d_name) + 1);
		break;
	}
	closedir(d);
}

/* Wait up to @ms for the interface with @mac to appear (or to go). */
static bool wait_if(const char *mac, bool present, char *name, size_t len,
		    int ms)
{
	long end = lb_now_ms() + ms;

	do {
		find_if(mac, name, len);
		if (!!name[0] == present)
			return true;
		usleep(50 * 1000);
	} while (lb_now_ms() < end);
	return false;
}

/* A new network namespace, as a file descriptor; we stay in @orig. */
static int new_netns(int orig)
{
	int fd;

	if (unshare(CLONE_NEWNET))
		return -1;
	fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (setns(orig, CLONE_NEWNET)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Move interface @ifindex to the namespace @nsfd (rtnetlink). */
static int link_set_netns(int ifindex, int nsfd)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
		struct rtattr rta;
		__u32 fd;
	} req = {
		.nh.nlmsg_len = sizeof(req),
		.nh.nlmsg_type = RTM_NEWLINK,
		.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK,
		.nh.nlmsg_seq = 1,
		.ifi.ifi_family = AF_UNSPEC,
		.ifi.ifi_index = ifindex,
		.rta.rta_type = IFLA_NET_NS_FD,
		.rta.rta_len = RTA_LENGTH(sizeof(__u32)),
		.fd = nsfd,
	};
	struct {
		struct nlmsghdr nh;
		struct nlmsgerr err;
	} ack;
	ssize_t n;
	int s, ret;

	s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (s < 0)
		return -errno;
	ret = -EIO;
	if (send(s, &req, sizeof(req), 0) != sizeof(req)) {
		ret = -errno;
		goto out;
	}
	n = recv(s, &ack, sizeof(ack), 0);
	if (n >= (ssize_t)sizeof(ack) && ack.nh.nlmsg_type == NLMSG_ERROR)
		ret = ack.err.error;
out:
	close(s);
	return ret;
}

static int set_sin(struct sockaddr *sa, const char *addr)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)sa;

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	return inet_pton(AF_INET, addr, &sin->sin_addr) == 1 ? 0 : -EINVAL;
}

/* Give @name (in the current namespace) an address, a /24, and bring it up. */
static int if_up(const char *name, const char *addr)
{
	struct ifreq ifr = { 0 };
	int s, ret = 0;

	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	set_sin(&ifr.ifr_addr, addr);
	if (ioctl(s, SIOCSIFADDR, &ifr))
		goto err;
	set_sin(&ifr.ifr_netmask, NET_MASK);
	if (ioctl(s, SIOCSIFNETMASK, &ifr))
		goto err;
	if (ioctl(s, SIOCGIFFLAGS, &ifr))
		goto err;
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr))
		goto err;
	goto out;
err:
	ret = -errno;
out:
	close(s);
	return ret;
}

/* Wait up to @ms until @name (current namespace) is up and running. */
static bool wait_running(const char *name, int ms)
{
	struct ifreq ifr = { 0 };
	long end = lb_now_ms() + ms;
	bool ok = false;
	int s;

	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return false;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	do {
		if (!ioctl(s, SIOCGIFFLAGS, &ifr) &&
		    (ifr.ifr_flags & (IFF_UP | IFF_RUNNING)) ==
		    (IFF_UP | IFF_RUNNING)) {
			ok = true;
			break;
		}
		usleep(50 * 1000);
	} while (lb_now_ms() < end);
	close(s);
	return ok;
}

static uint16_t inet_csum(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons(~sum);
}

/*
 * In the current namespace: send @count ICMP echo requests to @dst, one
 * at a time, each answered within @ms. Returns the replies seen.
 */
static int ping(const char *dst, int count, int ms)
{
	uint8_t pkt[64], buf[256];
	struct sockaddr_in sin;
	struct icmphdr *icmp = (struct icmphdr *)pkt;
	uint16_t id = getpid() & 0xffff;
	int s, seq, replies = 0;
	struct pollfd pfd;
	long end;

	s = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
	if (s < 0)
		return -errno;
	set_sin((struct sockaddr *)&sin, dst);
	for (seq = 1; seq <= count; seq++) {
		memset(pkt, 0, sizeof(pkt));
		icmp->type = ICMP_ECHO;
		icmp->un.echo.id = htons(id);
		icmp->un.echo.sequence = htons(seq);
		memset(pkt + sizeof(*icmp), 0xa5 ^ seq,
		       sizeof(pkt) - sizeof(*icmp));
		icmp->checksum = inet_csum(pkt, sizeof(pkt));
		if (sendto(s, pkt, sizeof(pkt), 0, (struct sockaddr *)&sin,
			   sizeof(sin)) != sizeof(pkt))
			break;
		end = lb_now_ms() + ms;
		pfd.fd = s;
		pfd.events = POLLIN;
		while (poll(&pfd, 1, end - lb_now_ms()) == 1) {
			struct iphdr *ip = (struct iphdr *)buf;
			struct icmphdr *r;
			ssize_t n;

			n = recv(s, buf, sizeof(buf), 0);
			if (n < (ssize_t)sizeof(*ip) ||
			    n < ip->ihl * 4 + (ssize_t)sizeof(pkt))
				continue;
			r = (struct icmphdr *)(buf + ip->ihl * 4);
			if (r->type != ICMP_ECHOREPLY ||
			    ntohs(r->un.echo.id) != id ||
			    ntohs(r->un.echo.sequence) != seq ||
			    memcmp(r + 1, pkt + sizeof(*icmp),
				   sizeof(pkt) - sizeof(*icmp)))
				continue;
			replies++;
			break;
		}
	}
	close(s);
	return replies;
}

/* 64-bit FNV-1a, streaming. */
static uint64_t fnv1a(uint64_t h, const uint8_t *p, size_t len)
{
	while (len--) {
		h ^= *p++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

#define FNV_INIT	0xcbf29ce484222325ULL

/* The payload: a xorshift stream, so that any misplaced byte shows. */
static void pattern(uint8_t *buf, size_t len, uint64_t *state)
{
	size_t i;

	for (i = 0; i < len; i++) {
		*state ^= *state << 13;
		*state ^= *state >> 7;
		*state ^= *state << 17;
		buf[i] = *state >> 24;
	}
}

struct xfer_result {
	uint64_t bytes;
	uint64_t sum;
};

static int write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

/*
 * TCP server (child, in its namespace): accept one connection, read to
 * EOF, send back the byte count and checksum, report them on @report.
 * Each time @step more bytes are in, a byte goes to @progress (when
 * @step is not 0). A connection silent for @idle_ms fails it.
 */
static int tcp_server(int ls, int report, int progress, uint64_t step,
		      int idle_ms)
{
	struct xfer_result res = { 0, FNV_INIT };
	uint64_t next = step;
	uint8_t buf[16384];
	struct pollfd pfd;
	ssize_t n;
	int c;

	pfd.fd = ls;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 60000) != 1)
		return 10;
	c = accept(ls, NULL, NULL);
	if (c < 0)
		return 11;
	pfd.fd = c;
	for (;;) {
		if (poll(&pfd, 1, idle_ms) != 1)
			return 12;
		n = read(c, buf, sizeof(buf));
		if (n < 0)
			return 13;
		if (!n)
			break;
		res.sum = fnv1a(res.sum, buf, n);
		res.bytes += n;
		if (step && res.bytes >= next) {
			next += step;
			if (write(progress, "p", 1) != 1)
				return 15;
		}
	}
	if (write_all(c, &res, sizeof(res)) ||
	    write_all(report, &res, sizeof(res)))
		return 14;
	close(c);
	return 0;
}

/*
 * TCP client (child, in its namespace): send @bytes of the pattern to
 * @dst, read back the server's count and checksum; report ours and its.
 * With @user_timeout_ms, data left unacknowledged that long fails the
 * connection (TCP_USER_TIMEOUT).
 */
static int tcp_client(const char *dst, uint64_t bytes, int report,
		      unsigned int user_timeout_ms)
{
	struct xfer_result mine = { 0, FNV_INIT }, theirs;
	struct timeval tv = { .tv_sec = 30 };
	uint64_t state = 0x9e3779b97f4a7c15ULL;
	struct sockaddr_in sin;
	uint8_t buf[16384];
	size_t len;
	int s;

	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return 20;
	/* Bounded connect, send and receive. */
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (user_timeout_ms &&
	    setsockopt(s, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout_ms,
		       sizeof(user_timeout_ms)))
		return 26;
	set_sin((struct sockaddr *)&sin, dst);
	sin.sin_port = htons(TCP_PORT);
	if (connect(s, (struct sockaddr *)&sin, sizeof(sin)))
		return 21;
	while (mine.bytes < bytes) {
		len = bytes - mine.bytes;
		if (len > sizeof(buf))
			len = sizeof(buf);
		pattern(buf, len, &state);
		if (write_all(s, buf, len))
			return 22;
		mine.sum = fnv1a(mine.sum, buf, len);
		mine.bytes += len;
	}
	if (shutdown(s, SHUT_WR))
		return 23;
	if (recv(s, &theirs, sizeof(theirs), MSG_WAITALL) != sizeof(theirs))
		return 24;
	close(s);
	if (write_all(report, &mine, sizeof(mine)) ||
	    write_all(report, &theirs, sizeof(theirs)))
		return 25;
	return 0;
}

/*
 * Fork a TCP server listening on net_addr[1] in namespace @ns; once it
 * listens, its pid (or -1). See tcp_server() for the rest.
 */
static pid_t fork_server(int ns, int report, int progress, uint64_t step,
			 int idle_ms)
{
	struct sockaddr_in sin;
	int ready[2], one = 1;
	pid_t pid;
	char c;

	if (pipe(ready))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		int ls;

		alarm(240);
		close(ready[0]);
		if (setns(ns, CLONE_NEWNET))
			_exit(1);
		ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (ls < 0)
			_exit(2);
		setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		set_sin((struct sockaddr *)&sin, net_addr[1]);
		sin.sin_port = htons(TCP_PORT);
		if (bind(ls, (struct sockaddr *)&sin, sizeof(sin)) ||
		    listen(ls, 1))
			_exit(3);
		if (write(ready[1], "l", 1) != 1)
			_exit(4);
		_exit(tcp_server(ls, report, progress, step, idle_ms));
	}
	close(ready[1]);
	if (read(ready[0], &c, 1) != 1) {
		lb_child_status(pid, 10000);
		pid = -1;
	}
	close(ready[0]);
	return pid;
}

/* Fork a TCP client in namespace @ns; see tcp_client(). */
static pid_t fork_client(int ns, uint64_t bytes, int report,
			 unsigned int user_timeout_ms)
{
	pid_t pid;

	pid = fork();
	if (!pid) {
		alarm(240);
		if (setns(ns, CLONE_NEWNET))
			_exit(1);
		_exit(tcp_client(net_addr[1], bytes, report, user_timeout_ms));
	}
	return pid;
}

/* The two ends of the wire: where they live, what they are there. */
struct net_ends {
	int orig_ns;		/* the test's own namespace */
	int ns[2];
	int ifindex[2];
};

FIXTURE(net) {
	char prog[256];
	struct lb_backend be;
	struct net_ends e;
};

/*
 * Start backend @prog in @be, speaking wire generation @wire, with the
 * extra options @opts (NULL-terminated, or NULL): 0, or -1 if it did not
 * start.
 */
static int net_backend(const char *prog, const char *wire,
		       const char *const *opts, struct lb_backend *be)
{
	char *args[24] = {
		(char *)prog, "--dev-num", "5", "--peer-dev-num", "6",
		"--mac", (char *)net_mac[0], "--peer-mac", (char *)net_mac[1],
		"--wire", (char *)wire,
	};
	int n = 11;

	while (opts && *opts && n < (int)ARRAY_SIZE(args) - 1)
		args[n++] = (char *)*opts++;
	args[n] = NULL;
	return lb_backend_start(be, args);
}

/*
 * Move interface @name to namespace @ns, give it address @addr and bring
 * it up there; back in @orig after. Its index, or -1.
 */
static int net_if_setup(struct __test_metadata *_metadata, const char *name,
			int ns, int orig, const char *addr)
{
	char here[IFNAMSIZ];
	int ifindex = if_nametoindex(name);

	if (ifindex <= 0 || link_set_netns(ifindex, ns))
		return -1;
	/* Same index in a fresh namespace; configure it there. */
	ASSERT_EQ(0, setns(ns, CLONE_NEWNET));
	if (!if_indextoname(ifindex, here) || if_up(here, addr))
		ifindex = -1;
	ASSERT_EQ(0, setns(orig, CLONE_NEWNET));
	return ifindex;
}

/*
 * Start backend @prog in @be, speaking wire generation @wire with the
 * extra options @opts, move each of its interfaces to its namespace,
 * give it its address and wait for its carrier.
 */
static void net_start(struct __test_metadata *_metadata, const char *prog,
		      const char *wire, const char *const *opts,
		      struct lb_backend *be, struct net_ends *e)
{
	char name[IFNAMSIZ];
	int i;

	ASSERT_EQ(0, net_backend(prog, wire, opts, be))
		TH_LOG("%s did not start", prog);
	for (i = 0; i < 2; i++) {
		ASSERT_TRUE(wait_if(net_mac[i], true, name, sizeof(name),
				    20000))
			TH_LOG("no interface with MAC %s appeared", net_mac[i]);
		e->ifindex[i] = net_if_setup(_metadata, name, e->ns[i],
					     e->orig_ns, net_addr[i]);
		ASSERT_LT(0, e->ifindex[i])
			TH_LOG("cannot set %s up in a namespace", name);
		ASSERT_EQ(0, setns(e->ns[i], CLONE_NEWNET));
		ASSERT_NE(NULL, if_indextoname(e->ifindex[i], name));
		ASSERT_TRUE(wait_running(name, 10000))
			TH_LOG("%s: no carrier", name);
		ASSERT_EQ(0, setns(e->orig_ns, CLONE_NEWNET));
	}
	ASSERT_TRUE(lb_driver_wire_is("virtio_net", wire))
		TH_LOG("the devices are not spoken to in %s", wire);
}

/* Both interfaces leave their namespaces, and the machine, in @ms. */
static void net_gone(struct __test_metadata *_metadata,
		     struct net_ends *e, int ms)
{
	long end = lb_now_ms() + ms;
	char name[IFNAMSIZ];
	int i;

	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, setns(e->ns[i], CLONE_NEWNET));
		while (if_indextoname(e->ifindex[i], name) &&
		       lb_now_ms() < end)
			usleep(50 * 1000);
		EXPECT_EQ(NULL, if_indextoname(e->ifindex[i], name))
			TH_LOG("interface %d still in namespace %d",
			       e->ifindex[i], i);
		ASSERT_EQ(0, setns(e->orig_ns, CLONE_NEWNET));
		EXPECT_TRUE(wait_if(net_mac[i], false, name, sizeof(name),
				    1000));
	}
}

FIXTURE_VARIANT(net) {
	const char *wire;
};

FIXTURE_VARIANT_ADD(net, v1) {
	.wire = "v1",
};

FIXTURE_VARIANT_ADD(net, v2) {
	.wire = "v2",
};

/*
 * The backend's path in @prog and a namespace for each end in @e: NULL,
 * or why the test cannot run.
 */
static const char *net_prepare(char *prog, size_t len, const char *wire,
			       struct lb_backend *be, struct net_ends *e)
{
	static char why_ns[128];
	const char *why;
	int i;

	lb_backend_init(be);
	e->orig_ns = -1;
	e->ns[0] = -1;
	e->ns[1] = -1;
	why = lb_backend_missing("vmsg-net", prog, len);
	if (!why)
		why = lb_wire_missing(wire);
	if (why)
		return why;
	e->orig_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (e->orig_ns < 0)
		return "no network namespaces (CONFIG_NET_NS)";
	for (i = 0; i < 2; i++) {
		e->ns[i] = new_netns(e->orig_ns);
		if (e->ns[i] < 0) {
			snprintf(why_ns, sizeof(why_ns),
				 "cannot create a network namespace: %s",
				 strerror(errno));
			return why_ns;
		}
	}
	return NULL;
}

static void net_release(struct lb_backend *be, struct net_ends *e)
{
	int i;

	lb_backend_close(be);
	for (i = 0; i < 2; i++)
		if (e->ns[i] >= 0)
			close(e->ns[i]);
	if (e->orig_ns >= 0)
		close(e->orig_ns);
}

FIXTURE_SETUP(net)
{
	const char *why;

	why = net_prepare(self->prog, sizeof(self->prog), variant->wire,
			  &self->be, &self->e);
	if (why)
		SKIP(return, "%.900s", why); /* fits the reason buffer */
	net_start(_metadata, self->prog, variant->wire, NULL, &self->be,
		  &self->e);
}

FIXTURE_TEARDOWN(net)
{
	net_release(&self->be, &self->e);
}

/* Run ping() in namespace @ns in a child; its reply count or -1. */
static int ping_from(int ns, const char *dst)
{
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		int n;

		alarm(120);
		if (setns(ns, CLONE_NEWNET))
			_exit(200);
		n = ping(dst, NR_PINGS, 10000);
		_exit(n < 0 ? 201 : n);
	}
	return lb_child_status(pid, 150000);
}

TEST_F_TIMEOUT(net, ping, 300)
{
	EXPECT_EQ(NR_PINGS, ping_from(self->e.ns[0], net_addr[1]));
	EXPECT_EQ(NR_PINGS, ping_from(self->e.ns[1], net_addr[0]));
}

TEST_F_TIMEOUT(net, tcp_1mib, 300)
{
	struct xfer_result srv, cli[2], expect = { 0, FNV_INIT };
	uint64_t state = 0x9e3779b97f4a7c15ULL;
	int rep_srv[2], rep_cli[2];
	pid_t server, client;
	uint8_t buf[16384];
	size_t len;

	while (expect.bytes < TCP_BYTES) {
		len = TCP_BYTES - expect.bytes;
		if (len > sizeof(buf))
			len = sizeof(buf);
		pattern(buf, len, &state);
		expect.sum = fnv1a(expect.sum, buf, len);
		expect.bytes += len;
	}
	ASSERT_EQ(0, pipe(rep_srv));
	ASSERT_EQ(0, pipe(rep_cli));

	server = fork_server(self->e.ns[1], rep_srv[1], -1, 0, 30000);
	ASSERT_LT(0, server) TH_LOG("server did not listen");
	close(rep_srv[1]);
	client = fork_client(self->e.ns[0], TCP_BYTES, rep_cli[1], 0);
	ASSERT_LT(0, client);
	close(rep_cli[1]);

	EXPECT_EQ(0, lb_child_status(client, 250000));
	EXPECT_EQ(0, lb_child_status(server, 10000));
	ASSERT_EQ((ssize_t)sizeof(srv), read(rep_srv[0], &srv, sizeof(srv)));
	ASSERT_EQ((ssize_t)sizeof(cli), read(rep_cli[0], cli, sizeof(cli)));
	close(rep_srv[0]);
	close(rep_cli[0]);

	/* Sent, received and reported back: all the same stream. */
	EXPECT_EQ(expect.bytes, cli[0].bytes);
	EXPECT_EQ(expect.sum, cli[0].sum);
	EXPECT_EQ(expect.bytes, srv.bytes);
	EXPECT_EQ(expect.sum, srv.sum);
	EXPECT_EQ(srv.bytes, cli[1].bytes);
	EXPECT_EQ(srv.sum, cli[1].sum);
}

TEST_F_TIMEOUT(net, stop, 120)
{
	char out[512] = "";
	ssize_t n;

	/* Some traffic first, so that the counters are not all zero. */
	EXPECT_EQ(NR_PINGS, ping_from(self->e.ns[0], net_addr[1]));

	EXPECT_EQ(0, lb_backend_stop(&self->be, LB_STOP_MS));
	n = read(self->be.out, out, sizeof(out) - 1);
	ASSERT_LT(0, n);
	out[n] = '\0';
	EXPECT_NE(NULL, strstr(out, "A: sent "));
	EXPECT_NE(NULL, strstr(out, "B: sent "));

	net_gone(_metadata, &self->e, 20000);
}

/*
 * SIGKILL in the middle of a TCP transfer: the backend has no chance to
 * remove its devices; the bus removes them when its file is closed. The
 * transfer fails on both ends, within their timeouts, instead of
 * hanging; both interfaces go away; a new backend gives two working
 * interfaces again.
 */
TEST_F_TIMEOUT(net, backend_killed, 300)
{
	int rep_srv[2], rep_cli[2], progress[2], srv, cli;
	pid_t server, client;
	struct pollfd pfd;
	long killed;
	char c;

	ASSERT_EQ(0, pipe(rep_srv));
	ASSERT_EQ(0, pipe(rep_cli));
	ASSERT_EQ(0, pipe(progress));
	server = fork_server(self->e.ns[1], rep_srv[1], progress[1], KILL_STEP,
			     KILL_IDLE_MS);
	ASSERT_LT(0, server) TH_LOG("server did not listen");
	close(rep_srv[1]);
	close(progress[1]);
	client = fork_client(self->e.ns[0], KILL_BYTES, rep_cli[1],
			     KILL_USER_TIMEOUT_MS);
	ASSERT_LT(0, client);
	close(rep_cli[1]);

	/* Kill the backend once data is flowing. */
	pfd.fd = progress[0];
	pfd.events = POLLIN;
	EXPECT_EQ(1, poll(&pfd, 1, 60000));
	EXPECT_EQ(1, read(progress[0], &c, 1)) TH_LOG("no data crossed");
	killed = lb_now_ms();
	ASSERT_EQ(0, lb_backend_kill(&self->be, LB_REAP_MS))
		TH_LOG("backend did not die");

	/* Both ends give up, in time, and neither saw the end of it. */
	cli = lb_child_status(client, 60000);
	srv = lb_child_status(server, 60000);
	TH_LOG("client ended with %d, server with %d, %ld ms after the kill",
	       cli, srv, lb_now_ms() - killed);
	EXPECT_EQ(22, cli) TH_LOG("client ended with %d", cli);
	EXPECT_TRUE(srv == 12 || srv == 13)
		TH_LOG("server ended with %d", srv);
	close(progress[0]);
	close(rep_srv[0]);
	close(rep_cli[0]);
	net_gone(_metadata, &self->e, 20000);

	/* A new backend: new interfaces, and traffic crosses them. */
	net_start(_metadata, self->prog, variant->wire, NULL, &self->be,
		  &self->e);
	EXPECT_EQ(NR_PINGS, ping_from(self->e.ns[0], net_addr[1]));
	EXPECT_EQ(NR_PINGS, ping_from(self->e.ns[1], net_addr[0]));
}

/* The kernel log from now on, for kmsg_find(); -1 if unreadable. */
static int kmsg_open_end(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0 && lseek(fd, 0, SEEK_END) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* Wait up to @ms for a kernel log record on @fd that holds @what. */
static bool kmsg_find(int fd, const char *what, int ms)
{
	long end = lb_now_ms() + ms;
	char rec[1024];
	ssize_t n;

	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n > 0) {
			rec[n] = '\0';
			if (strstr(rec, what))
				return true;
			continue;
		}
		/* EPIPE: records were overwritten; read on. */
		if (n < 0 && errno != EAGAIN && errno != EPIPE)
			return false;
		if (lb_now_ms() >= end)
			return false;
		usleep(50 * 1000);
	}
}

FIXTURE(ring) {
	char prog[256];
	struct lb_backend be;
	struct net_ends e;
};

FIXTURE_SETUP(ring)
{
	const char *why;

	why = net_prepare(self->prog, sizeof(self->prog), "v2", &self->be,
			  &self->e);
	if (why)
		SKIP(return, "%.900s", why); /* fits the reason buffer */
}

FIXTURE_TEARDOWN(ring)
{
	net_release(&self->be, &self->e);
}

/*
 * Queues of 16 entries without indirect descriptors: too small for
 * virtio-net, whose big receive buffers (MTU 65535: 16 pages, header and
 * one more) and transmitted packets take up to MAX_SKB_FRAGS + 2 entries.
 * The driver side refuses them and says so: no interface appears. One
 * that did would be brought up, to show what it would do (virtio_ring
 * WARNs on a chain longer than its ring). Queues of 32 entries work.
 */
TEST_F_TIMEOUT(ring, queue_size, 300)
{
	static const char *const small[] = {
		"--queue-size", "16", "--mtu", "65535", NULL
	};
	static const char *const enough[] = { "--queue-size", "32", NULL };
	char name[IFNAMSIZ];
	int kmsg, i;
	bool up;

	kmsg = kmsg_open_end();
	ASSERT_LE(0, kmsg) TH_LOG("cannot read /dev/kmsg: %s",
				  strerror(errno));
	ASSERT_EQ(0, net_backend(self->prog, "v2", small, &self->be));
	EXPECT_TRUE(kmsg_find(kmsg, "device 5: queue 0 has 16 entries, fewer than",
			      20000))
		TH_LOG("no refusal in the kernel log");
	close(kmsg);
	for (i = 0; i < 2; i++) {
		up = wait_if(net_mac[i], true, name, sizeof(name), 3000);
		EXPECT_FALSE(up) TH_LOG("%s took queues too small", name);
		if (up)
			EXPECT_LT(0, net_if_setup(_metadata, name,
						  self->e.ns[i],
						  self->e.orig_ns,
						  net_addr[i]));
	}
	EXPECT_EQ(0, lb_backend_stop(&self->be, LB_STOP_MS));
	lb_backend_close(&self->be);
	for (i = 0; i < 2; i++)
		EXPECT_TRUE(wait_if(net_mac[i], false, name, sizeof(name),
				    20000));

	net_start(_metadata, self->prog, "v2", enough, &self->be, &self->e);
	EXPECT_EQ(NR_PINGS, ping_from(self->e.ns[0], net_addr[1]));
	EXPECT_EQ(NR_PINGS, ping_from(self->e.ns[1], net_addr[0]));
}

TEST(backend_help)
{
	char prog[256], cmd[512];

	if (!lb_backend_cli_ok(_metadata, "vmsg-net", prog, sizeof(prog)))
		return;
	snprintf(cmd, sizeof(cmd), "%s --mac 03:00:00:00:00:01 >/dev/null 2>&1",
		 prog);
	EXPECT_EQ(2, WEXITSTATUS(system(cmd)));
	snprintf(cmd, sizeof(cmd),
		 "%s --mac 02:00:00:00:00:01 --peer-mac 02:00:00:00:00:01 >/dev/null 2>&1",
		 prog);
	EXPECT_EQ(2, WEXITSTATUS(system(cmd)));
}

TEST_HARNESS_MAIN

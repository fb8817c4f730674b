// SPDX-License-Identifier: GPL-2.0-only
/*
 * ffa-check: the data checks of ffa-test.sh that a shell cannot make
 * (test code).
 *
 *   ffa-check net IF_A IF_B   frames of every size up to the MTU, sent
 *                             on IF_A, arrive intact and in order on IF_B
 *   ffa-check console TTY PID bytes written to TTY come back (an echoing
 *                             console whose device side is process PID)
 *   ffa-check hvcs            prints the bitmap of the hvc ttys that have
 *                             a console behind them now
 *
 * Exit status 0 when the check passed, 1 when it failed (with a line
 * saying why on stdout), 2 on bad usage. Every wait is bounded.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netpacket/packet.h>
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* A local experimental EtherType: nothing else in the guest sends it. */
#define ETH_P_CHECK	0x88b5
#define FRAMES		200
#define FRAME_MAX	1514

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int link_up(const char *name)
{
	struct ifreq ifr = { 0 };
	int s, ret = 0;

	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
		ret = -errno;
	} else {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
			ret = -errno;
	}
	close(s);
	return ret;
}

static int packet_socket(const char *name)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_CHECK),
		.sll_ifindex = (int)if_nametoindex(name),
	};
	int s;

	if (!sll.sll_ifindex)
		return -1;
	s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_CHECK));
	if (s < 0)
		return -1;
	if (bind(s, (struct sockaddr *)&sll, sizeof(sll))) {
		close(s);
		return -1;
	}
	return s;
}

static void fill(uint8_t *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 8));
}

static int echo_console(const char *path);

static int check_net(const char *a, const char *b)
{
	uint8_t frame[FRAME_MAX], got[FRAME_MAX + 64];
	int tx, rx, i, len, ok = 0;
	struct pollfd pfd;
	ssize_t r;
	long end;

	if (link_up(a) || link_up(b)) {
		printf("net: cannot bring %s and %s up\n", a, b);
		return 1;
	}
	tx = packet_socket(a);
	rx = packet_socket(b);
	if (tx < 0 || rx < 0) {
		printf("net: packet sockets: %s\n", strerror(errno));
		return 1;
	}
	memset(frame, 0xff, 6);
	memset(frame + 6, 0x02, 6);
	frame[12] = ETH_P_CHECK >> 8;
	frame[13] = ETH_P_CHECK & 0xff;
	for (i = 0; i < FRAMES; i++) {
		len = 60 + (i * 37) % (FRAME_MAX - 60 + 1);
		fill(frame + 14, len - 14, i);
		if (send(tx, frame, len, 0) != len) {
			printf("net: send %d: %s\n", i, strerror(errno));
			break;
		}
		/* The link may take a moment to come up: bounded wait. */
		end = now_ms() + 10000;
		for (;;) {
			pfd.fd = rx;
			pfd.events = POLLIN;
			if (poll(&pfd, 1, 1000) == 1) {
				r = recv(rx, got, sizeof(got), 0);
				if (r == len && !memcmp(got + 14, frame + 14,
							len - 14))
					ok++;
				break;
			}
			if (now_ms() > end)
				break;
		}
	}
	close(tx);
	close(rx);
	if (ok != FRAMES) {
		printf("net: %d of %d frames arrived intact\n", ok, FRAMES);
		return 1;
	}
	return 0;
}

#define WQ_CPUMASK	"/sys/devices/virtual/workqueue/virtio_msg_ffa/cpumask"

static int pin_to(pid_t pid, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(pid, sizeof(set), &set);
}

/* Every thread named @comm, pinned to @cpu. */
static void pin_threads(const char *comm, int cpu)
{
	char path[300], name[32];
	struct dirent *de;
	DIR *dir;
	FILE *f;

	dir = opendir("/proc");
	if (!dir)
		return;
	while ((de = readdir(dir))) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(name, sizeof(name), f)) {
			name[strcspn(name, "\n")] = '\0';
			if (!strcmp(name, comm))
				pin_to(atoi(de->d_name), cpu);
		}
		fclose(f);
	}
	closedir(dir);
}

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -1;
	if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		ret = -1;
	close(fd);
	return ret;
}

/*
 * An hvc write spins with interrupts off and the port's lock held until
 * the device has taken the bytes, and here the device is a process of
 * this machine: it runs on the other CPU. khvcd and the FF-A bus's work
 * items, which deliver the echo to a callback that takes the same lock,
 * stay on the writer's CPU, where they cannot spin while it does. The
 * bus's cpumask before is in @saved.
 */
static int split_cpus(pid_t dev_side, char *saved, size_t len)
{
	int cpu[2] = { -1, -1 }, i, n = 0, fd;
	char mask[16];
	cpu_set_t set;
	ssize_t r;

	if (sched_getaffinity(0, sizeof(set), &set))
		return -1;
	for (i = 0; i < CPU_SETSIZE && n < 2; i++)
		if (CPU_ISSET(i, &set))
			cpu[n++] = i;
	if (n < 2 || cpu[1] >= 31)
		return -1;
	fd = open(WQ_CPUMASK, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	r = read(fd, saved, len - 1);
	close(fd);
	if (r <= 0)
		return -1;
	saved[r] = '\0';
	snprintf(mask, sizeof(mask), "%x\n", 1U << cpu[0]);
	if (write_file(WQ_CPUMASK, mask) || pin_to(0, cpu[0]) ||
	    pin_to(dev_side, cpu[1])) {
		write_file(WQ_CPUMASK, saved);
		return -1;
	}
	pin_threads("khvcd", cpu[0]);
	return 0;
}

static int check_console(const char *path, pid_t dev_side)
{
	char saved[64];
	int ret;

	if (split_cpus(dev_side, saved, sizeof(saved))) {
		printf("console: cannot split the CPUs: %s\n", strerror(errno));
		return 1;
	}
	ret = echo_console(path);
	write_file(WQ_CPUMASK, saved);
	return ret;
}

static int echo_console(const char *path)
{
	static const char out[] = "virtio-msg over FF-A\n";
	struct pollfd pfd;
	struct termios t;
	char in[64];
	size_t got = 0;
	ssize_t r;
	long end;
	int fd;

	fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		printf("console: %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (tcgetattr(fd, &t)) {
		printf("console: tcgetattr: %s\n", strerror(errno));
		close(fd);
		return 1;
	}
	cfmakeraw(&t);
	tcsetattr(fd, TCSANOW, &t);
	tcflush(fd, TCIOFLUSH);
	if (write(fd, out, strlen(out)) != (ssize_t)strlen(out)) {
		printf("console: write: %s\n", strerror(errno));
		close(fd);
		return 1;
	}
	end = now_ms() + 20000;
	while (got < strlen(out) && now_ms() < end) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 1000) != 1)
			continue;
		r = read(fd, in + got, sizeof(in) - got);
		if (r > 0)
			got += r;
	}
	close(fd);
	if (got != strlen(out) || memcmp(in, out, got)) {
		printf("console: %zu of %zu bytes came back\n", got,
		       strlen(out));
		return 1;
	}
	return 0;
}

#define NR_HVC	8	/* hvc ttys the hvc core registers */

/* Only an hvc tty with a console behind it opens. */
static int live_hvcs(void)
{
	unsigned int mask = 0;
	char path[32];
	int i, fd;

	for (i = 0; i < NR_HVC; i++) {
		snprintf(path, sizeof(path), "/dev/hvc%d", i);
		fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
		if (fd >= 0) {
			mask |= 1U << i;
			close(fd);
		}
	}
	printf("%u\n", mask);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "hvcs"))
		return live_hvcs();
	if (argc == 4 && !strcmp(argv[1], "net"))
		return check_net(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "console"))
		return check_console(argv[2], atoi(argv[3]));
	fprintf(stderr, "Usage: %s net IF_A IF_B | console TTY PID | hvcs\n",
		argv[0]);
	return 2;
}

/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The ivshmem server protocol (QEMU's ivshmem-doorbell device, and
 * ivshmem-server compatible processes), both ends.
 *
 * Every message from the server is one le64, sometimes with one file
 * descriptor (SCM_RIGHTS). On connect a client gets: the protocol version
 * (0); its own peer ID; -1 with the shared-memory descriptor; for every
 * other peer, its ID once per vector with one eventfd each; last its own
 * ID once per vector with its own eventfds. Later, a peer that joins is
 * announced to the others as its ID with its eventfds, and a peer that
 * leaves as its ID with no descriptor. Ringing vector v of a peer is
 * writing to that peer's eventfd v.
 *
 * This server reserves peer ID 0 (VMSG_IVSHM_DEVICE_ID) for the AMP
 * device side. Its eventfds live as long as the server: guests ring them
 * whether or not a device-side process is there, and a device-side
 * process that restarts gets the same ID and the same eventfds back,
 * through a second socket, with the same protocol. Guests (QEMU) get IDs
 * from 1 on.
 */
#ifndef _VIRTIO_MSG_IVSHMEM_H
#define _VIRTIO_MSG_IVSHMEM_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>

#define VMSG_IVSHM_PROTOCOL	0
#define VMSG_IVSHM_DEVICE_ID	0
#define VMSG_IVSHM_MAX_PEERS	16
#define VMSG_IVSHM_MAX_VECTORS	4

/**
 * struct vmsg_ivshm_peer - a peer as one end knows it
 * @id: peer ID, or -1 for a free entry
 * @sock: server side: the peer's connection; -1 otherwise
 * @efd: its eventfds, one per vector
 * @nr_efd: how many of @efd are set
 */
struct vmsg_ivshm_peer {
	int64_t id;
	int sock;
	int efd[VMSG_IVSHM_MAX_VECTORS];
	unsigned int nr_efd;
};

/**
 * struct vmsg_ivshm_events - what the server tells its owner
 * @guest_join: guest @id connected
 * @guest_leave: guest @id disconnected
 * @device_leave: the device-side process disconnected
 * @priv: handed to each; any may be NULL
 */
struct vmsg_ivshm_events {
	void (*guest_join)(void *priv, int64_t id);
	void (*guest_leave)(void *priv, int64_t id);
	void (*device_leave)(void *priv);
	void *priv;
};

struct vmsg_ivshm_server;

/**
 * vmsg_ivshm_server_create() - listen for guests (and a device side)
 * @path: UNIX socket for the guests (QEMU's -chardev socket,path=)
 * @device_path: UNIX socket for a device-side process, or NULL
 * @shm_fd: the shared memory handed to every client
 * @vectors: eventfds per peer, 1 to VMSG_IVSHM_MAX_VECTORS; QEMU's
 *	vectors= must be the same
 * @ev: events, or NULL
 *
 * Existing sockets at the paths are replaced.
 *
 * Return: the server, or NULL with errno set.
 */
struct vmsg_ivshm_server *vmsg_ivshm_server_create(const char *path,
						   const char *device_path,
						   int shm_fd,
						   unsigned int vectors,
						   const struct vmsg_ivshm_events *ev);

/**
 * vmsg_ivshm_server_destroy() - close every connection and the sockets
 * @s: server, or NULL
 */
void vmsg_ivshm_server_destroy(struct vmsg_ivshm_server *s);

/**
 * vmsg_ivshm_server_pollfds() - the descriptors to wait on
 * @s: server
 * @pfd: at least VMSG_IVSHM_MAX_PEERS + 3 entries, filled in
 *
 * Return: how many were filled in.
 */
unsigned int vmsg_ivshm_server_pollfds(const struct vmsg_ivshm_server *s,
				       struct pollfd *pfd);

/**
 * vmsg_ivshm_server_handle() - accept and drop connections
 * @s: server
 * @pfd: as filled by vmsg_ivshm_server_pollfds() and then poll()ed
 * @n: their number
 */
void vmsg_ivshm_server_handle(struct vmsg_ivshm_server *s,
			      const struct pollfd *pfd, unsigned int n);

/**
 * vmsg_ivshm_server_device_efd() - an eventfd of the device side (ID 0)
 * @s: server
 * @vector: vector number
 *
 * Return: the eventfd the guests ring for that vector.
 */
int vmsg_ivshm_server_device_efd(const struct vmsg_ivshm_server *s,
				 unsigned int vector);

/**
 * vmsg_ivshm_server_ring_guests() - ring vector @vector of every guest
 * @s: server
 * @vector: vector number
 *
 * Return: the number of guests rung.
 */
unsigned int vmsg_ivshm_server_ring_guests(struct vmsg_ivshm_server *s,
					   unsigned int vector);

/**
 * vmsg_ivshm_server_nr_guests() - guests connected now
 * @s: server
 *
 * Return: their number.
 */
unsigned int vmsg_ivshm_server_nr_guests(const struct vmsg_ivshm_server *s);

struct vmsg_ivshm_client;

/**
 * vmsg_ivshm_client_connect() - connect to a server and take its hand-out
 * @path: the server's UNIX socket
 * @vectors: eventfds per peer this client expects
 * @timeout_ms: bound on the whole hand-out
 *
 * Return: the client, with its ID, the shared memory and every peer's
 * eventfds, or NULL with errno set (EPROTO for a bad hand-out, ETIMEDOUT).
 */
struct vmsg_ivshm_client *vmsg_ivshm_client_connect(const char *path,
						    unsigned int vectors,
						    int timeout_ms);

/**
 * vmsg_ivshm_client_close() - disconnect and close every descriptor
 * @c: client, or NULL
 */
void vmsg_ivshm_client_close(struct vmsg_ivshm_client *c);

/* The socket (for poll()), the ID, the shared memory, own eventfd v. */
int vmsg_ivshm_client_fd(const struct vmsg_ivshm_client *c);
int64_t vmsg_ivshm_client_id(const struct vmsg_ivshm_client *c);
int vmsg_ivshm_client_shm_fd(const struct vmsg_ivshm_client *c);
int vmsg_ivshm_client_efd(const struct vmsg_ivshm_client *c,
			  unsigned int vector);

/**
 * vmsg_ivshm_client_handle() - take the server's announcements
 * @c: client
 * @joined: set when a peer joined (may be NULL)
 * @left: set when a peer left (may be NULL)
 *
 * Return: 0, or -EPIPE once the server is gone, -EPROTO for a bad
 * message.
 */
int vmsg_ivshm_client_handle(struct vmsg_ivshm_client *c, bool *joined,
			     bool *left);

/**
 * vmsg_ivshm_client_ring() - ring vector @vector of peer @id
 * @c: client
 * @id: peer ID, or -1 for every other peer
 * @vector: vector number
 *
 * Return: the number of peers rung.
 */
unsigned int vmsg_ivshm_client_ring(struct vmsg_ivshm_client *c, int64_t id,
				    unsigned int vector);

/**
 * vmsg_ivshm_client_nr_peers() - other peers known now
 * @c: client
 *
 * Return: their number.
 */
unsigned int vmsg_ivshm_client_nr_peers(const struct vmsg_ivshm_client *c);

/* Drain an eventfd without blocking: the count it held (0 if none). */
uint64_t vmsg_efd_drain(int efd);

#endif /* _VIRTIO_MSG_IVSHMEM_H */

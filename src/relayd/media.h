/* media: relayd's session relay module 56 (patent fig. 9 and 11): the relay
 * sockets and the fast path that moves RTP/RTCP between a port's two
 * channels.
 *
 * Each relay port is one non-blocking UDP socket bound on media_address and
 * watched by the loop. When it turns readable we read a batch with
 * recvmmsg, decide each packet with latch_packet, and send the batch to the
 * other channels with one sendmmsg from the same socket (phones see the
 * relay port as the source: symmetric RTP, which is what gets the answer
 * back through their NATs). The batch buffers are shared by every socket:
 * the loop is single-threaded and a batch never outlives the callback. Per
 * packet there is no allocation, no log line and no lookup by string.
 *
 * RTP and RTCP sockets latch independently: a NAT maps the phone's RTCP
 * port separately from its RTP port, so RTCP's source port says nothing
 * about RTP's, and each socket learns its own two channels. */
#ifndef RELAYD_MEDIA_H
#define RELAYD_MEDIA_H

#include <stdbool.h>
#include <stdint.h>

#include "latch.h"
#include "pinhole/addr.h"
#include "pinhole/loop.h"

struct event;
struct media;

struct media_config {
    struct addr address;         /* media_address; its port is ignored */
    uint16_t port_min, port_max; /* the relay range, for latch's self-guard */
    unsigned relatch_after_s;    /* 0 = never relatch */
    bool latch_any;              /* latch_from = "any" (latch.h) */
};

/* One relay port and the latch state of its two channels. The owner embeds
 * it (no allocation of its own besides the libevent event) and opens it
 * with media_sock_open; it is read-only to the owner while open. */
struct media_sock {
    struct latch_pair latch;
    struct media *media;
    struct event *ev;   /* NULL when closed */
    uint64_t *activity; /* owner's last-activity time, set to now on media */
    int fd;
};

/* Totals over every socket since media_new, for metrics. */
struct media_totals {
    uint64_t received;  /* datagrams read */
    uint64_t forwarded; /* datagrams sent on */
    uint64_t forwarded_bytes;
    uint64_t drops_no_peer;  /* from a channel whose peer is not latched yet */
    uint64_t early;          /* of forwarded: to a side before its channel latched */
    uint64_t drops_unknown;  /* third source, unsignalled, on probation, the relay itself */
    uint64_t drops_send;     /* sendmmsg refused (socket buffer full, no route) */
    uint64_t drops_oversize; /* longer than RELAY_MAX_PACKET */
};

/* Builds the relay engine on loop `l` and raises RLIMIT_NOFILE's soft limit
 * to the hard one: each stream holds two sockets, so 20,000 sessions need
 * 40,000 descriptors, more than the usual soft limit of 1,024 (a warning is
 * logged when even the hard limit cannot hold the whole port range).
 * Returns 0, -EINVAL (address not IPv4/IPv6), -ENOMEM. Free with
 * media_free after every media_sock is closed. */
int media_new(struct media **out, struct loop *l, const struct media_config *cfg);
void media_free(struct media *m);
/* Reload: a new relatch_after applies to the next packet. */
void media_set_relatch_after(struct media *m, unsigned relatch_after_s);
/* Reload: latch_from applies to the next packet. */
void media_set_latch_any(struct media *m, bool any);
void media_get_totals(const struct media *m, struct media_totals *out);

/* Binds a socket on media_address:port and starts relaying on it. `s` must
 * stay at the same address until media_sock_close. `activity` (may be NULL)
 * receives the loop time whenever a packet from a latched channel arrives.
 * Returns 0, or -errno from socket/bind (-EADDRINUSE when another socket
 * holds the port, -EMFILE when out of descriptors) or -ENOMEM. On error `s`
 * is left closed. */
int media_sock_open(struct media *m, struct media_sock *s, uint16_t port, uint64_t *activity);
/* Stops and closes; a closed (or zeroed) media_sock is left alone. The
 * latch counters stay readable. */
void media_sock_close(struct media_sock *s);

#endif

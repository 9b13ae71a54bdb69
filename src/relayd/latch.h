/* latch: which of a relay port's two channels a packet comes from and where
 * it goes (patent fig. 11, design.md decision 6). Pure logic over addresses
 * and times, no sockets, so each path is tested on its own.
 *
 * Fig. 11: a packet from the first channel's address goes to the second,
 * and the other way round; an unknown source is written into the channels,
 * alternating between them. We follow that for the first two distinct
 * sources (address and port) and then stop: once both channels are latched,
 * a third source is dropped and counted, unless one channel has been silent
 * for relatch_after (a NAT rebinding), and then the newcomer replaces that
 * channel once it has sent LATCH_PROBATION packets in a row. Nothing else
 * ever moves a channel, which is what keeps the relay safe from the RTP
 * Bleed / injection attacks on relays that re-learn the peer from any
 * packet.
 *
 * The sides (issue #15): the proxies tell relayd the IP address each phone
 * signalled from (docs/relayd.md, "Pinhole-Sources"), and where the SDP
 * said that phone receives on this port. With latch_from "signalling-ip"
 * only a source from one of those IPs may take or retake a channel, so an
 * outsider spraying relay ports takes nothing even when it is first. Until
 * the other channel is latched, a packet goes to the other side's
 * signalled IP at its SDP port (RFC 7362 section 5) instead of being
 * dropped: the phone's own public IP, never an address a message named, so
 * no one can aim media at a third party. */
#ifndef RELAYD_LATCH_H
#define RELAYD_LATCH_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

/* An endpoint as recvmmsg writes it: small (28 bytes) because a relay holds
 * four per stream, and the kernel fills it in place. */
struct latch_ep {
    union {
        struct sockaddr sa;
        struct sockaddr_in in;
        struct sockaddr_in6 in6;
    } u;
    socklen_t len; /* 0 = none */
};

struct latch_chan {
    struct latch_ep ep;  /* len 0 until latched */
    uint64_t last_rx_ms; /* last packet accepted from ep (or the latch itself) */
    uint64_t packets;    /* accepted from ep */
    uint64_t bytes;
    uint64_t drops; /* of those, not delivered: no peer yet, or send failed */
};

/* A phone of the call as signalling described it: the IP it signalled from
 * and the port its SDP gave for this relay port's media (0 = not known). */
#define LATCH_SIDES 4
/* Consecutive packets a newcomer sends before it replaces a silent channel
 * (Asterisk's "probation"): one forged packet is not enough. */
#define LATCH_PROBATION 4
/* Packets sent to a side before its channel latched: ~20 s of 20 ms audio.
 * A phone that sends nothing for that long has a NAT we cannot guess. */
#define LATCH_EARLY_MAX 1000

/* The two channels of one relay port. Zero-initialised = nothing latched. */
struct latch_pair {
    struct latch_chan ch[2];
    struct latch_ep side[LATCH_SIDES]; /* latch_set_side */
    struct latch_ep probe;             /* the newcomer on probation */
    uint64_t unknown_drops;            /* refused: third source, unsignalled, probation */
    uint64_t early;                    /* sent to a side before its channel latched */
    uint32_t relatches;                /* channels replaced after silence */
    uint8_t nsides;
    uint8_t probe_n; /* its packets in a row so far */
    uint8_t next;    /* fig. 11 alternation: the channel latched next */
};

struct latch_config {
    /* latch_from = "any": every source may latch (fig. 11 as it is); else
     * only the sides' IPs, once a proxy named any. */
    bool any_source;
    /* Silence after which a channel may be replaced; 0 = never. */
    uint64_t relatch_after_ms;
    /* The relay's own address and port range: never latched, or two relay
     * ports fed a spoofed source would forward to each other for ever.
     * A source is refused when its port is in [self_port_min, self_port_max]
     * and its address is self's or a loopback one. self.len 0 = no check. */
    struct latch_ep self;
    uint16_t self_port_min, self_port_max;
};

enum latch_verdict {
    LATCH_FORWARD,      /* from latched channel `from` to channel `to` */
    LATCH_NEW,          /* source latched as `from`; forwarded when dst is set */
    LATCH_RELATCH,      /* source replaced the silent channel `from`; forwarded */
    LATCH_EARLY,        /* from channel `from` to a side, the other channel not latched */
    LATCH_DROP_NO_PEER, /* from channel `from`; the other is not latched, no side known */
    LATCH_DROP_UNKNOWN, /* a third source, unsignalled, on probation, or the relay itself */
};

struct latch_result {
    enum latch_verdict verdict;
    int from;                   /* channel of the source, -1 for a refused one */
    int to;                     /* channel forwarded to, -1 = none (dropped, or early to a side) */
    const struct latch_ep *dst; /* where to send it (in the pair), NULL = drop */
};

/* Decides one packet of `len` bytes from `src` arriving at now_ms, latching
 * and counting in `p` as fig. 11 and the rules above say. */
struct latch_result latch_packet(struct latch_pair *p, const struct latch_config *cfg,
                                 const struct latch_ep *src, uint32_t len, uint64_t now_ms);

/* Records a side (IP from `ip`, its port ignored) with `port`, the SDP's
 * port for this relay port's media (0 = unknown; keeps a known one). A
 * side's IP is kept once: a new port for it replaces the old one. Returns
 * 0, or -ENOSPC when LATCH_SIDES sides are already known. */
int latch_set_side(struct latch_pair *p, const struct latch_ep *ip, uint16_t port);

/* A packet counted as forwarded from channel `from` could not be sent. */
void latch_count_send_drop(struct latch_pair *p, int from);

/* Same family, address and port (and IPv6 scope). */
bool latch_ep_equal(const struct latch_ep *a, const struct latch_ep *b);
/* Fills an endpoint from a sockaddr; -EINVAL for a family other than IPv4/6. */
int latch_ep_from_sockaddr(struct latch_ep *out, const struct sockaddr *sa, socklen_t len);

#endif

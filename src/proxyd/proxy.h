/* proxy: proxyd's state on the loop and the dispatch of every datagram.
 *
 * A datagram from the SIP socket goes: flood check (per-source budget,
 * before any parsing) → sip_parse → for a request: the top Via's sent-by is
 * read (NAT detection), received/rport are set (design decision 1: responses
 * go back to the packet source), the transaction layer absorbs
 * retransmissions, and a new request goes to its module by method; for a
 * response: the transaction layer hands it to the client transaction that
 * waits for it.
 *
 * Modules (registration, keepalive, and the messaging module of issue #6)
 * reach the shared pieces through the accessors below; the proxy owns them
 * all and frees them in proxy_free. */
#ifndef PROXYD_PROXY_H
#define PROXYD_PROXY_H

#include <stdint.h>

#include "pinhole/loop.h"
#include "pinhole/sip.h"
#include "pinhole/txn.h"
#include "proxyd_conf.h"

struct proxy;
struct nat_table;
struct registration;
struct keepalive;
struct messaging;

/* Requests are counted by method: the slots of proxy_stats.requests. */
enum proxy_method {
    PROXY_M_REGISTER,
    PROXY_M_INVITE,
    PROXY_M_ACK,
    PROXY_M_BYE,
    PROXY_M_CANCEL,
    PROXY_M_OPTIONS,
    PROXY_M_OTHER,
    PROXY_M_COUNT,
};

/* Responses are counted by status code: slot = status - 100. */
#define PROXY_STATUS_MIN 100
#define PROXY_STATUS_SLOTS 600

/* Counters for the metrics endpoint (issue #8). Only ever incremented. */
struct proxy_stats {
    uint64_t requests[PROXY_M_COUNT];        /* new requests (not retransmissions), ACKs too */
    /* every response datagram proxyd sends, its own and forwarded ones,
     * retransmissions included: counted where it leaves (the transport) */
    uint64_t responses[PROXY_STATUS_SLOTS];
    uint64_t registrations_ok;      /* 2xx relayed to a phone */
    uint64_t registrations_failed;  /* error relayed or answered, incl. timeouts */
    uint64_t registration_timeouts; /* redirectd silent for 64·T1: 408 */
    uint64_t unregistrations;       /* Expires 0 / Contact * accepted */
    uint64_t keepalives_sent;       /* CRLF datagrams and OPTIONS requests */
    uint64_t keepalive_failures;    /* OPTIONS keepalives left unanswered */
    uint64_t nat_clients_dropped;   /* dropped after KEEPALIVE_MAX_MISSES */
    uint64_t parse_errors;          /* datagrams that did not parse */
    uint64_t bad_requests;          /* requests answered 400 */
    uint64_t not_implemented;       /* requests answered 501 */
    uint64_t stray_responses;       /* responses matching no transaction */
};

/* What the dispatcher learnt about a request before handing it on. */
struct proxy_rx {
    struct addr src;            /* the packet's source (fig. 3a step 114) */
    struct addr sent_by;        /* top Via sent-by as received; unset when a name */
    const struct transport *tp; /* the socket it came in on */
};

/* timers NULL = RFC 3261 defaults. The proxy sends through tp (copied) and
 * keeps cfg until proxy_reload hands it a new one. Returns 0 or -errno. */
int proxy_new(struct proxy **out, struct loop *l, const struct proxyd_conf *cfg,
              const struct transport *tp, const struct txn_timers *timers);
/* The daemon's start: binds cfg->listen, then proxy_new. The environment
 * variable PINHOLE_T1_MS (1..500), a test hook, shortens T1 and with it
 * every transaction timer. Returns 0 or -errno (logged). */
int proxy_open(struct proxy **out, struct loop *l, const struct proxyd_conf *cfg);
/* Frees everything, the socket of proxy_open included. */
void proxy_free(struct proxy *p);

/* One datagram from `src` on the socket behind tp. buf need not be
 * NUL-terminated; it is not kept. */
void proxy_receive(struct proxy *p, const struct transport *tp, const struct addr *src,
                   const char *buf, size_t len);

/* SIGHUP: nat.*, advertise, redirect, relays and log_level apply at once;
 * a changed listen address is refused (-EINVAL), as the socket stays. */
int proxy_reload(struct proxy *p, const struct proxyd_conf *cfg);
/* SIGTERM: new REGISTERs and INVITEs get 503 from now on. Returns 0 when
 * nothing is in flight, else the longest wait (ms) for pending
 * registrations and calls still being set up; the proxy stops the loop
 * itself as soon as they are done. */
int proxy_drain(struct proxy *p);

/* ---- for proxyd's modules ---- */
const struct proxyd_conf *proxy_cfg(const struct proxy *p);
struct loop *proxy_loop(struct proxy *p);
struct txn_layer *proxy_txn(struct proxy *p);
struct nat_table *proxy_nat(struct proxy *p);
struct registration *proxy_registration(struct proxy *p);
struct keepalive *proxy_keepalive(struct proxy *p);
struct messaging *proxy_messaging(struct proxy *p);
struct proxy_stats *proxy_stats(struct proxy *p);
bool proxy_draining(const struct proxy *p);
/* The flood limiter's drop count (kept there, read for metrics). */
uint64_t proxy_flood_drops(const struct proxy *p);

/* Sends a response to a request that has no transaction (the parser could
 * answer it but not key it): to received:rport through tp. */
void proxy_respond_stateless(const osip_message_t *req, const struct transport *tp, int status);

#endif

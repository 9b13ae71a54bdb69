/* txn_intake: the front door of a daemon that answers requests and sends
 * none (redirectd, relayd). Every datagram from its socket goes through
 * txn_intake_receive:
 *
 *   untrusted     the trust check, if any, comes first and reads the first
 *                 line alone (design.md "bounded cost per datagram"): a
 *                 refused request goes to `refuse` unparsed (no state, no
 *                 parse: an outsider costs a line), anything else from an
 *                 untrusted source is counted as stray and dropped
 *   unparseable   counted and logged (rate limited); answered 400, or 505
 *                 for another SIP version, when the parser got far enough
 *                 (never an ACK), through the transaction layer so that
 *                 retransmissions are absorbed, statelessly when the layer
 *                 cannot key it
 *   a response    counted as stray and dropped: nothing to match it to
 *   a request     pinned to the datagram's source (received and rport on
 *                 the top Via, RFC 3581 with rport forced: a Via may name
 *                 any host); fed through the transaction layer
 *                 (retransmissions absorbed, the ACK for a non-2xx final
 *                 ended there, a request it cannot key answered 400
 *                 statelessly, an ACK matching nothing counted and
 *                 dropped); counted by method and dispatched. A transaction
 *                 the dispatch leaves without a final answer gets 500, so
 *                 none waits for server_max_ms, unless the dispatch took it
 *                 to answer later (it set a user: txn_server_set_user).
 *
 * Ownership: a struct txn_intake is the daemon's and owns nothing. The
 * transaction layer, the reply struct, the counters and the rate limit it
 * points at must outlive it. */
#ifndef PINHOLE_TXN_INTAKE_H
#define PINHOLE_TXN_INTAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pinhole/addr.h"
#include "pinhole/log.h"
#include "pinhole/sip.h"
#include "pinhole/txn.h"
#include "pinhole/txn_reply.h"

/* The daemon's own counters; every pointer must be set. */
struct txn_intake_counters {
    uint64_t *requests;        /* [method]: new requests by method, n_methods + 1 slots */
    uint64_t *parse_errors;    /* datagrams the parser refused */
    uint64_t *stray_responses; /* SIP responses sent to us */
    uint64_t *stray_acks;      /* ACKs matching no transaction */
    uint64_t *absorbed;        /* retransmitted requests absorbed by branch */
    uint64_t *acks_absorbed;   /* ACKs ending a non-2xx INVITE transaction */
};

/* The counters of a daemon's stats struct that names its fields as
 * txn_intake_counters does (`stats` is a pointer to it). */
#define TXN_INTAKE_COUNTERS(stats)                                                                 \
    ((struct txn_intake_counters){.requests = (stats)->requests,                                   \
                                  .parse_errors = &(stats)->parse_errors,                          \
                                  .stray_responses = &(stats)->stray_responses,                    \
                                  .stray_acks = &(stats)->stray_acks,                              \
                                  .absorbed = &(stats)->absorbed,                                  \
                                  .acks_absorbed = &(stats)->acks_absorbed})

/* True when a datagram from src may be parsed and its request get state:
 * asked with the request's method index (n_methods: another method, or a
 * datagram whose first line is no request line) before any parse. */
typedef bool (*txn_intake_trust_cb)(void *arg, const struct addr *src, size_t method);
/* A request the trust check refused, never parsed: its method name (from
 * its first line, at most TXN_INTAKE_METHOD_MAX characters) and index and
 * its bytes. The daemon answers it statelessly from the bytes
 * (txn_reply_raw) or drops it. Everything is valid during the call only. */
#define TXN_INTAKE_METHOD_MAX 32
typedef void (*txn_intake_refuse_cb)(void *arg, const char *method_name, size_t method,
                                     const struct addr *src, const char *buf, size_t len);
/* A new request in its new transaction. req belongs to the transaction
 * (txn_server_receive) and may be read and edited until the callback
 * returns; st is the layer's. */
typedef void (*txn_intake_dispatch_cb)(void *arg, struct txn_server *st, osip_message_t *req,
                                       size_t method, const struct addr *src);

/* How many refusals txn_intake_forbid answers per second, all sources
 * together: beyond, a refused request is only counted. A flood with forged
 * sources then cannot aim our 403s at a victim at the flood's rate, and
 * costs us a first line per datagram; a misconfigured proxy still sees its
 * 403s (and the log line) at once. */
#define TXN_FORBID_PER_S 200

struct txn_forbid_budget {
    int64_t second; /* CLOCK_MONOTONIC second of `answered` */
    unsigned answered;
};

struct txn_intake {
    struct txn_layer *tl;
    /* Every answer; its transport is also the one requests come in on. */
    const struct txn_reply *reply;
    /* The methods counted apart: a request's method is its index here, or
     * n_methods for any other. */
    const char *const *methods;
    size_t n_methods;
    struct txn_intake_counters counters;
    struct log_ratelimit *log_rl;            /* for lines a peer can trigger at will */
    txn_intake_trust_cb trusted;             /* NULL: every source is trusted */
    txn_intake_refuse_cb refuse;             /* needed only with `trusted` */
    struct txn_forbid_budget *forbid_budget; /* txn_intake_forbid's bound; NULL: none */
    txn_intake_dispatch_cb dispatch;
    void *arg; /* passed to the three callbacks */
};

/* The refusal redirectd and relayd give a source outside `proxies`, for
 * their refuse callbacks: an ACK is dropped; anything else is counted in
 * *forbidden, logged (rate limited) and, within TXN_FORBID_PER_S, answered
 * with a stateless 403 written from buf (txn_reply_raw: no parse, no
 * transaction, so a forged source cannot make us retransmit at a victim). */
void txn_intake_forbid(const struct txn_intake *in, const char *method_name, const struct addr *src,
                       const char *buf, size_t len, uint64_t *forbidden);

/* One datagram from `src` (buf need not be NUL-terminated and stays the
 * caller's). Never blocks. */
void txn_intake_receive(const struct txn_intake *in, const struct addr *src, const char *buf,
                        size_t len);

/* A warning about what a peer sent ("%s from %s: %s"), under the intake's
 * rate limit. */
void txn_intake_log_peer(const struct txn_intake *in, const struct addr *src, const char *what,
                         const char *why);

#endif

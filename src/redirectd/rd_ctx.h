/* rd_ctx: what redirectd's request handlers (redirector, registrar,
 * locator) share: the running config, the client table, the transport,
 * how responses are sent and counted, and the counters issue #8 exports.
 *
 * Ownership: the redirector owns the context and the client table in it;
 * the config belongs to daemon.c (replaced on reload) and the transport to
 * the caller of redirector_new. `reply` points into `stats`, so the
 * context is never copied. */
#ifndef REDIRECTD_RD_CTX_H
#define REDIRECTD_RD_CTX_H

#include <stdint.h>

#include "binding_store.h"
#include "client_table.h"
#include "pinhole/log.h"
#include "pinhole/loop.h"
#include "pinhole/txn_intake.h"
#include "pinhole/txn_reply.h"
#include "redirectd_conf.h"

enum rd_method {
    RD_REGISTER,
    RD_INVITE,
    RD_ACK,
    RD_OPTIONS,
    RD_CANCEL,
    RD_OTHER, /* answered 405 */
    RD_METHOD_COUNT,
};

/* Responses are counted by status code: slot = status - 100. */
#define RD_STATUS_MIN 100
#define RD_STATUS_SLOTS 600

struct redirectd_stats {
    uint64_t requests[RD_METHOD_COUNT];  /* new requests (not retransmissions) by method */
    uint64_t responses[RD_STATUS_SLOTS]; /* first sending of each response, by status */
    uint64_t parse_errors;               /* datagrams refused by the parser */
    uint64_t stray_responses;            /* SIP responses sent to us: never answered */
    uint64_t stray_acks;                 /* ACKs matching no transaction (dropped) */
    uint64_t absorbed;                   /* retransmitted requests absorbed by branch */
    uint64_t acks_absorbed;              /* ACKs ending a 302/4xx transaction */
    uint64_t forbidden;                  /* requests refused: source not in `proxies` */
    uint64_t send_errors;                /* responses the transport refused */
};

struct rd_ctx {
    const struct redirectd_conf *conf;
    struct loop *loop;
    struct client_table *clients;
    struct binding_store bindings; /* the table's copy on disk (issue #17) */
    const struct transport *tp;
    struct redirectd_stats stats;
    struct txn_reply reply;                 /* every response: counted in stats */
    struct log_ratelimit log_rl;            /* for lines a peer can trigger at will */
    struct txn_forbid_budget forbid_budget; /* 403s to outsiders per second */
};

#endif

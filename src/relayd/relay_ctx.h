/* relay_ctx: what relayd's SIP control modules (relayd, setup,
 * relay_check) share: the running config, the session table, the
 * transport, how responses are sent and counted, and the control counters
 * issue #8 exports.
 *
 * Ownership: struct relayd (relayd.c) owns the context and the session
 * table in it; the config belongs to daemon.c (swapped on reload through
 * relayd_reconfigure) and the transport to the caller of relayd_new.
 * `reply` points into `stats`, so the context is never copied. */
#ifndef RELAYD_RELAY_CTX_H
#define RELAYD_RELAY_CTX_H

#include <stdint.h>

#include "pinhole/log.h"
#include "pinhole/loop.h"
#include "pinhole/txn_intake.h"
#include "pinhole/txn_reply.h"
#include "relayd_conf.h"
#include "session_table.h"

enum relay_method {
    RELAY_M_INVITE,
    RELAY_M_ACK,
    RELAY_M_BYE,
    RELAY_M_CANCEL,
    RELAY_M_OPTIONS,
    RELAY_M_REGISTER,
    RELAY_M_OTHER, /* answered 405 */
    RELAY_M_COUNT,
};

/* Responses are counted by status code: slot = status - 100. */
#define RELAY_STATUS_MIN 100
#define RELAY_STATUS_SLOTS 600

/* Control-plane counters. Session, port and media counters live in the
 * session table (session_table_get_stats); relayd_get_metrics joins both. */
struct relay_control_stats {
    uint64_t requests[RELAY_M_COUNT];       /* new requests (not retransmissions) by method */
    uint64_t responses[RELAY_STATUS_SLOTS]; /* first sending of each response, by status */
    uint64_t parse_errors;                  /* datagrams the parser refused */
    uint64_t stray_responses;               /* SIP responses sent to us: never answered */
    uint64_t stray_acks;                    /* ACKs matching no transaction */
    uint64_t absorbed;                      /* retransmitted requests absorbed by branch */
    uint64_t acks_absorbed;                 /* ACKs ending a 302/4xx/5xx transaction */
    uint64_t forbidden;                     /* requests from outside `proxies` (403) */
    uint64_t send_errors;                   /* responses the transport refused */
    uint64_t sessions_created;              /* fig. 10 step 64: new records */
    uint64_t sessions_reused;               /* INVITEs for a Call-ID we already relay */
    uint64_t sessions_released;             /* freed by BYE */
    uint64_t notices_sent;                  /* proxies told a session died (relay_notice.h) */
    uint64_t streams_added;                 /* port pairs allocated by INVITEs */
    uint64_t allocation_failures;           /* INVITEs answered 503 (no port pair) */
};

struct relay_ctx {
    const struct relayd_conf *conf;
    struct loop *loop;
    struct session_table *sessions;
    const struct transport *tp;
    struct relay_control_stats stats;
    struct txn_reply reply;                 /* every response: counted in stats */
    struct log_ratelimit log_rl;            /* for lines a peer can trigger at will */
    struct txn_forbid_budget forbid_budget; /* 403s to outsiders per second */
};

#endif

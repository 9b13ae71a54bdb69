/* proxy_env: what every module of proxyd shares, passed to each module's
 * _new and kept by it for its life.
 *
 * It holds the loop, the transaction layer, the NAT client table, the
 * running config, the proxy-wide counters and the drain and close flags,
 * plus the checks every module makes ("is this address us?", "is this one
 * of our servers?"). Modules include this header and never proxy.h: what a
 * module needs from another module is a callback set when it is built, so
 * the module graph has no cycle (tests/check_includes.sh keeps it so).
 *
 * Ownership: proxy.c embeds the env in struct proxy; proxy_env_open makes
 * the transaction layer and the NAT table, proxy_env_close frees them.
 * cfg is borrowed: proxy_reload swaps the pointer, so modules read
 * env->cfg anew each time and never keep a copy of it. A unit test builds
 * an env on its own, with a config of its own, and a module on it. */
#ifndef PROXYD_PROXY_ENV_H
#define PROXYD_PROXY_ENV_H

#include <stdbool.h>
#include <stdint.h>

#include "dialog_mark.h"
#include "pinhole/addr.h"
#include "pinhole/loop.h"
#include "pinhole/sip.h"
#include "pinhole/txn.h"
#include "proxyd_conf.h"

struct nat_table;

/* Longest Call-ID proxyd keeps state for; a longer one is refused (400)
 * where state is needed, and routed without state in a dialog. */
#define CALL_ID_MAX 256

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
    uint64_t requests[PROXY_M_COUNT]; /* new requests (not retransmissions), ACKs too */
    /* every response datagram proxyd sends, its own and forwarded ones,
     * retransmissions included: counted where it leaves (the transport) */
    uint64_t responses[PROXY_STATUS_SLOTS];
    uint64_t registrations_ok;      /* 2xx relayed to a phone */
    uint64_t transactions_full;     /* 503: limits.max_transactions reached */
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

/* What the intake learnt about a request before handing it on. */
struct proxy_rx {
    struct addr src;            /* the packet's source (fig. 3a step 114) */
    struct addr sent_by;        /* top Via sent-by as received; unset when a name */
    const struct transport *tp; /* the socket it came in on */
};

struct proxy_env {
    struct loop *loop;
    struct txn_layer *txn;
    struct nat_table *nat;
    const struct proxyd_conf *cfg; /* the running config (borrowed, see above) */
    struct proxy_stats stats;
    uint64_t t1_ms;          /* RFC 3261 T1 of the transactions */
    uint64_t txn_max_ms;     /* how long an unanswered INVITE server transaction may wait */
    struct dialog_mark mark; /* of our Record-Routes; keyed by auth.secret at open */
    bool draining;           /* SIGTERM: new REGISTERs and INVITEs get 503 */
    /* proxy_env_close ran: the transaction layer is gone, so a module
     * freed afterwards sends nothing and abandons no transaction */
    bool closing;
};

/* Makes the transaction layer (timers NULL = RFC 3261 defaults) and the
 * NAT client table on l, for cfg (borrowed). Returns 0 or -errno; on error
 * nothing is left to close. */
int proxy_env_open(struct proxy_env *env, struct loop *l, const struct proxyd_conf *cfg,
                   const struct txn_timers *timers);
/* Frees the transaction layer (running no callback) and the NAT table, and
 * sets `closing`. Call before freeing the modules built on env. */
void proxy_env_close(struct proxy_env *env);

/* Is `a` this proxy: its advertised or listen address, or the local
 * address of tp (the socket a request came in on)? */
bool proxy_env_is_us(const struct proxy_env *env, const struct addr *a, const struct transport *tp);
/* Is `src` one of our infrastructure servers (redirectd, a relayd)? Their
 * datagrams are never rate-limited, and their late answers are never
 * forwarded to a phone. */
bool proxy_env_trusted(const struct proxy_env *env, const struct addr *src);
/* One of our servers or one of `peers`: never rate-limited, banned or
 * challenged. */
bool proxy_env_exempt(const struct proxy_env *env, const struct addr *src);
/* A request whose Request-URI is this proxy itself (no user part), as an
 * OPTIONS liveness check is (RFC 3261 §11); tp is the socket it came in on. */
bool proxy_env_addressed_to_us(const struct proxy_env *env, const osip_message_t *req,
                               const struct transport *tp);

#endif

/* redirect_client: proxyd's side of redirectd (patent fig. 4c, figures
 * 7a/7b, design decision 3).
 *
 * The redirect invite 214 is a copy of the INVITE with Request-URI
 * sip:<ID>@<redirect>, our Via on top, sent as a client transaction to
 * cfg->redirect (the transaction layer ACKs redirectd's 302 and 404). The
 * answer the owner gets: 302 with the Contacts' host:port as next hops in
 * the 302's order (step 150c; one per phone of the user, the best first:
 * the owner forks to them; a name is not followed: no DNS on the loop),
 * 404, or 503 for anything else (silence for 64·T1 included, decision 12).
 *
 * Like relay_client, a query is embedded in its owner and keeps no pointer
 * to anything but the owner's callback argument and the client it belongs
 * to (struct redirect_client: the env, the counters, a log rate limit),
 * which outlives every query. */
#ifndef PROXYD_REDIRECT_CLIENT_H
#define PROXYD_REDIRECT_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "pinhole/log.h"
#include "pinhole/sip.h"
#include "pinhole/txn.h"
#include "proxy_env.h"

/* Counters for the metrics endpoint. Only ever incremented. */
struct redirect_stats {
    uint64_t moved;     /* 302 with a numeric Contact */
    uint64_t skipped;   /* Contacts of a 302 not followed (names, beyond REDIRECT_TARGETS_MAX) */
    uint64_t not_found; /* 404 */
    uint64_t timeouts;  /* redirectd silent for 64·T1 */
    uint64_t failures;  /* other answers, or a 302 without a numeric Contact */
};

/* What every query of one owner shares; env and stats are borrowed. */
struct redirect_client {
    const struct proxy_env *env;
    struct redirect_stats *stats;
    struct log_ratelimit rl; /* lines redirectd's answers can trigger */
};

/* Branches one request may fork to: each costs a transaction and an
 * INVITE on the wire; a user with more phones than this rings the best. */
#define REDIRECT_TARGETS_MAX 8

/* The next hops of a 302, distinct, in its order (best q first). */
struct redirect_targets {
    struct addr hop[REDIRECT_TARGETS_MAX];
    size_t n; /* >= 1 */
};

/* status: 302 (t set, valid during the call), 404, or 503 (t NULL). The
 * callback may abort or free the query's owner. */
typedef void (*redirect_query_cb)(void *arg, int status, const struct redirect_targets *t);

void redirect_client_init(struct redirect_client *rc, const struct proxy_env *env,
                          struct redirect_stats *stats);

struct redirect_query {
    struct redirect_client *rc;
    struct txn_client *ct; /* NULL when idle */
    redirect_query_cb cb;
    void *arg;
};

/* Step 150a/b: sends the query built from req (not taken) through tp.
 * Returns 0 (cb comes later, never from inside this call) or -errno. */
int redirect_query_start(struct redirect_query *q, struct redirect_client *rc,
                         const osip_message_t *req, const struct transport *tp,
                         redirect_query_cb cb, void *arg);
bool redirect_query_pending(const struct redirect_query *q);
/* No callback any more (the transaction still ACKs what comes). Safe on an
 * idle query. */
void redirect_query_abort(struct redirect_query *q);

#endif

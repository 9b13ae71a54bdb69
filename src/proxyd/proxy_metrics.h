/* proxy_metrics: proxyd on its `stats` address (issue #8): the Prometheus
 * series of its counters (requests and responses, registrations, the NAT
 * client table 32 and its keepalives, calls, redirect and relay queries,
 * transactions, floods), /status, and /clients (the NAT client table).
 *
 * Ownership: proxy_metrics owns its registry and HTTP server; it reads the
 * env, the messaging module and the flood limiter of a proxy, which must
 * outlive it. */
#ifndef PROXYD_PROXY_METRICS_H
#define PROXYD_PROXY_METRICS_H

#include "pinhole/addr.h"
#include "pinhole/loop.h"
#include "proxy_env.h"

struct proxy_metrics;
struct messaging;
struct flood;
struct auth;

/* What the endpoint reads (borrowed). */
struct proxy_metrics_src {
    const struct proxy_env *env; /* counters, config, transactions, NAT table */
    const struct messaging *msg;
    const struct flood *flood;
    const struct auth *const *auth; /* *auth NULL without auth; may change on reload */
};

/* Registers every series and route, and listens on `stats` when it is set
 * (unset: nothing listens). Returns 0 or -errno (a bind failure is logged). */
int proxy_metrics_new(struct proxy_metrics **out, struct loop *l,
                      const struct proxy_metrics_src *src, const struct addr *stats);
/* SIGHUP: moves the listener to `stats` (or stops it when unset); on
 * failure the old address is still served and -errno returned (logged). */
int proxy_metrics_listen(struct proxy_metrics *m, const struct addr *stats);
/* NULL is allowed. */
void proxy_metrics_free(struct proxy_metrics *m);

#endif

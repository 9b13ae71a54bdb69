/* rd_metrics: redirectd on its `stats` address (issue #8): the Prometheus
 * series of its counters, /status, and /bindings (the client table 104).
 *
 * Ownership: rd_metrics owns its registry and HTTP server; it reads the
 * redirector and the SIP socket, which must outlive it. */
#ifndef REDIRECTD_RD_METRICS_H
#define REDIRECTD_RD_METRICS_H

#include "pinhole/addr.h"
#include "pinhole/loop.h"
#include "redirector.h"

struct rd_metrics;

/* Registers every series and route, and listens on `stats` when it is set
 * (unset: nothing listens). Returns 0 or -errno (a bind failure is logged). */
int rd_metrics_new(struct rd_metrics **out, struct loop *l, const struct redirector *r,
                   const struct udp_sock *sip, const struct addr *stats);
/* SIGHUP: moves the listener to `stats` (or stops it when unset); on
 * failure the old address is still served and -errno returned (logged). */
int rd_metrics_listen(struct rd_metrics *m, const struct addr *stats);
/* NULL is allowed. */
void rd_metrics_free(struct rd_metrics *m);

#endif

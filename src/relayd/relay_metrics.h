/* relay_metrics: relayd on its `stats` address (issue #8): the Prometheus
 * series of its control, session, port and media counters, /status, and
 * /sessions (the session table 46 with each relay port's two channels and
 * their counters, patent fig. 9 and 11).
 *
 * Ownership: relay_metrics owns its registry and HTTP server; it reads
 * the relay core and the SIP socket, which must outlive it. */
#ifndef RELAYD_RELAY_METRICS_H
#define RELAYD_RELAY_METRICS_H

#include "pinhole/addr.h"
#include "pinhole/loop.h"
#include "relayd.h"

struct relay_metrics;

/* Registers every series and route, and listens on `stats` when it is set
 * (unset: nothing listens). Returns 0 or -errno (a bind failure is logged). */
int relay_metrics_new(struct relay_metrics **out, struct loop *l, const struct relayd *core,
                      const struct udp_sock *sip, const struct addr *stats);
/* SIGHUP: moves the listener to `stats` (or stops it when unset); on
 * failure the old address is still served and -errno returned (logged). */
int relay_metrics_listen(struct relay_metrics *m, const struct addr *stats);
/* NULL is allowed. */
void relay_metrics_free(struct relay_metrics *m);

#endif

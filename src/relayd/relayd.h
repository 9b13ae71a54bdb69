/* relayd: the relay server's SIP control (patent fig. 9 with design.md
 * decisions 9, 11 and 12). Every datagram from the control socket comes
 * here: it is parsed, its source checked against `proxies`, pinned to that
 * source (received/rport), fed through the transaction layer
 * (retransmitted requests absorbed by branch, the 302 retransmitted until
 * its ACK: RFC 3261 17.2.1 timers G/H), checked, and dispatched:
 *
 *   INVITE   → setup: 302 with the relay SDP (fig. 8b), 4xx/503
 *   BYE      → setup: 200 and the session freed, or 481
 *   OPTIONS  → 200 with X-Relay-Sessions / X-Relay-Streams /
 *              X-Relay-Pairs-Free (health checks and load balancing)
 *   CANCEL   → 481 (every INVITE is answered at once: nothing to cancel)
 *   REGISTER → 403 (relayd is no registrar; see docs/relayd.md)
 *   ACK      matching no transaction: dropped
 *   others   → 405 with Allow
 *
 * Requests from outside `proxies` get a stateless 403 (no transaction: a
 * forged source cannot make us retransmit at a victim); responses are
 * dropped; unparseable datagrams are counted, logged (rate limited) and
 * answered 400/505 when they can be. Answers only ever go to the
 * datagram's source.
 *
 * Ownership: relayd owns its session table (and through it every relay
 * socket) and its transaction layer. It keeps pointers to the loop, the
 * config and the transport, which must outlive it (the config until
 * relayd_reconfigure hands over a new one). */
#ifndef RELAYD_RELAYD_H
#define RELAYD_RELAYD_H

#include <stddef.h>

#include "pinhole/loop.h"
#include "pinhole/txn.h"
#include "relay_ctx.h"
#include "relayd_conf.h"
#include "session_table.h"

#define RELAYD_ALLOW "INVITE, ACK, BYE, CANCEL, OPTIONS"

struct relayd;

/* Everything issue #8 exports, in one snapshot. */
struct relayd_metrics {
    struct relay_control_stats control;
    struct session_table_stats sessions; /* sessions, streams, pairs, media counters */
    struct txn_stats txn;
};

/* The session table's settings from the daemon's config
 * (session_max_lifetime is the table's lifetime cap). */
void relayd_table_config(const struct relayd_conf *conf, struct session_table_config *out);

/* Builds the session table (binding nothing yet) and the transaction
 * layer. timers NULL = RFC 3261 defaults (tests shorten them). Returns 0,
 * -EINVAL (bad media address or range) or -ENOMEM. Free with relayd_free
 * before the loop. */
int relayd_new(struct relayd **out, struct loop *l, const struct relayd_conf *conf,
               const struct transport *tp, const struct txn_timers *timers);
/* Frees every session (closing its sockets), transaction and the rest. */
void relayd_free(struct relayd *d);

/* One datagram from `src` (need not be NUL-terminated). Never blocks. */
void relayd_receive(struct relayd *d, const struct addr *src, const char *buf, size_t len);

/* SIGHUP: proxies, session_timeout, session_max_lifetime, relatch_after
 * and advertise_media apply at once, sessions stay (daemon.c applies
 * log_level). A change of listen, media_address, port_min or port_max is
 * refused with a log line (-EINVAL) and nothing changes: sockets bound on
 * the old address or range would otherwise outlive the config that
 * explains them. On success relayd uses `conf` from now on. */
int relayd_reconfigure(struct relayd *d, const struct relayd_conf *conf);

void relayd_get_metrics(const struct relayd *d, struct relayd_metrics *out);
/* The session table (tests, the metrics endpoint). Owned by relayd. */
struct session_table *relayd_sessions(const struct relayd *d);

#endif

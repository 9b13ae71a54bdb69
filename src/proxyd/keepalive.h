/* keepalive: keeps the NAT bindings of NATed clients open (design decision
 * 10). Every nat.keepalive_interval seconds each client in the NAT client
 * table gets one keepalive — a CRLF datagram, or an OPTIONS request when
 * nat.keepalive = "options" — from the socket its REGISTER arrived on.
 *
 * The pings are spread over the interval: a tick every KEEPALIVE_TICK_MS
 * sends to the next n·tick/interval clients of the table's ring (the
 * fraction carried over), so 10,000 clients at 20 s get 50 pings per tick,
 * never 10,000 at once.
 *
 * OPTIONS mode: any answer (even 405) proves the client alive; after
 * KEEPALIVE_MAX_MISSES unanswered OPTIONS in a row the client is dropped
 * from the table and unregistered at redirectd. */
#ifndef PROXYD_KEEPALIVE_H
#define PROXYD_KEEPALIVE_H

#include "proxy.h"

#define KEEPALIVE_TICK_MS 100
#define KEEPALIVE_MAX_MISSES 3

struct keepalive;

/* Starts the tick on the proxy's loop when nat.keepalive_interval > 0
 * (timer NULL in tests that call keepalive_tick themselves: pass
 * run_timer false). Returns 0 or -ENOMEM. */
int keepalive_new(struct keepalive **out, struct proxy *p, bool run_timer);
/* Frees the outstanding OPTIONS contexts. Call after txn_layer_free. */
void keepalive_free(struct keepalive *ka);
/* One tick: sends this tick's share of keepalives. */
void keepalive_tick(struct keepalive *ka);
/* The config changed (SIGHUP): restarts or stops the tick. */
void keepalive_reconfigure(struct keepalive *ka);

#endif

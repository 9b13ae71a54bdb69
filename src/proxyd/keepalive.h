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
 * from the table and reported to the owner's on_dropped callback (proxyd
 * unregisters it at redirectd). */
#ifndef PROXYD_KEEPALIVE_H
#define PROXYD_KEEPALIVE_H

#include <stdbool.h>

#include "nat_table.h"
#include "proxy_env.h"

#define KEEPALIVE_TICK_MS 100
#define KEEPALIVE_MAX_MISSES 3

struct keepalive;

/* A client stopped answering and left the NAT table: aor and b (its entry
 * as it was) are valid during the call only. */
typedef void (*keepalive_dropped_cb)(void *arg, const char *aor, const struct nat_binding *b);

/* Starts the tick on env's loop when nat.keepalive_interval > 0 (timer
 * NULL in tests that call keepalive_tick themselves: pass run_timer
 * false). on_dropped may be NULL. The module keeps env (borrowed) for its
 * life. Returns 0 or -ENOMEM. */
int keepalive_new(struct keepalive **out, struct proxy_env *env, bool run_timer,
                  keepalive_dropped_cb on_dropped, void *arg);
/* Frees the outstanding OPTIONS contexts. Call after proxy_env_close. */
void keepalive_free(struct keepalive *ka);
/* One tick: sends this tick's share of keepalives. */
void keepalive_tick(struct keepalive *ka);
/* The config changed (SIGHUP): restarts or stops the tick. */
void keepalive_reconfigure(struct keepalive *ka);

#endif

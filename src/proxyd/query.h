/* query: the requests proxyd sends its own servers about a call (the
 * redirect invite 214 to redirectd, fig. 4c; the relay invite 202 to
 * relayd, fig. 4b), built one way for both. */
#ifndef PROXYD_QUERY_H
#define PROXYD_QUERY_H

#include "pinhole/addr.h"
#include "pinhole/sip.h"

/* Max-Forwards of the queries. They are requests this proxy originates
 * for one hop (RFC 3261 §8.1.1.6): an INVITE that arrives with
 * Max-Forwards 1 is still looked up and forwarded with 0, and the next hop
 * answers 483. */
#define QUERY_MAX_FORWARDS "70"

/* A copy of req with Request-URI sip:<user>@server (the user part of req's
 * Request-URI kept), Max-Forwards QUERY_MAX_FORWARDS and our Via (self,
 * fresh branch) on top, ready for txn_client_send. *out is the caller's.
 * Returns 0 or -errno. */
int query_build(osip_message_t **out, const osip_message_t *req, const struct addr *server,
                const struct addr *self);

#endif

/* relay_reply: every response relayd sends goes through here, so each is
 * counted once by status and a transport failure is noticed in one place.
 *
 * Responses inside a transaction go to the request's response destination,
 * which relayd.c pinned to the datagram's source (received and rport on
 * the top Via) before the transaction saw it: never to a host a Via names. */
#ifndef RELAYD_RELAY_REPLY_H
#define RELAYD_RELAY_REPLY_H

#include "pinhole/sip.h"
#include "pinhole/txn.h"
#include "relay_ctx.h"

/* Sends a response built with txn_server_build in the transaction and
 * counts it. resp is not taken. */
int relay_reply_send(struct relay_ctx *c, struct txn_server *st, const osip_message_t *resp);
/* A response with a status and optional extra headers (NULL-terminated
 * name/value pairs; headers may be NULL). */
int relay_reply_status(struct relay_ctx *c, struct txn_server *st, int status,
                       const char *const *headers);
/* The same with its own reason phrase ("400 Missing SDP"). */
int relay_reply_reason(struct relay_ctx *c, struct txn_server *st, int status, const char *reason);
/* Outside any transaction (an untrusted source, or a request the
 * transaction layer could not key): builds the response and sends it to
 * `src`, the datagram's source, never elsewhere. Keeps no state, so a
 * forged source cannot make us retransmit at a victim. */
int relay_reply_stateless(struct relay_ctx *c, const osip_message_t *req, int status,
                          const struct addr *src);

#endif

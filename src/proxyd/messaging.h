/* messaging: the patent's messaging module 42 (figures 4a–4d) — INVITE
 * forwarding with relay and redirect queries, the responses back, CANCEL,
 * and the in-dialog requests of the calls this proxy record-routed.
 *
 *   new INVITE       fig. 4a (messaging.c): 100 Trying, Max-Forwards, NAT
 *                    detection and Contact rewrite (step 144), relay query
 *                    (146–148, relay_client.h) and redirect query (150–151,
 *                    redirect_client.h) at once, a second relay query when
 *                    the destination is one of our NAT clients (152–154),
 *                    forward with Via and Record-Route (155).
 *   responses        fig. 4d (responses.h): our Via popped, SDP pointed at
 *                    the relay we hold, Contact of a NATed phone rewritten.
 *   CANCEL           cancel.h: 200 hop by hop, CANCEL downstream or 487.
 *   in-dialog        dialog.h: loose routing, re-INVITE/UPDATE SDP, BYE
 *                    releases the relay.
 *
 * Call state per Call-ID lives in calls.h. The module is built on the
 * proxy's env and freed after proxy_env_close (the transaction layer runs
 * no callback when it is freed), like registration. */
#ifndef PROXYD_MESSAGING_H
#define PROXYD_MESSAGING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "messaging_stats.h"
#include "pinhole/sip.h"
#include "pinhole/txn.h"
#include "proxy_env.h"

struct messaging;

/* Returns 0 or -ENOMEM. The module keeps env (borrowed) for its life;
 * env->t1_ms sets how long ended calls linger (64·T1). */
int messaging_new(struct messaging **out, struct proxy_env *env);
/* Frees every call and in-dialog request without sending anything. Call
 * after proxy_env_close, so no transaction still points at them. */
void messaging_free(struct messaging *m);

/* True for the requests this module answers: INVITE, CANCEL, and any
 * request inside a dialog (a To tag), REGISTER excepted. */
bool messaging_handles(const osip_message_t *req);
/* A new server transaction for such a request, or for any other request
 * but a REGISTER (outside.h: MESSAGE, SUBSCRIBE, OPTIONS to a user...);
 * retransmissions never get here. Always answers st, at once or when
 * downstream answers. */
void messaging_on_request(struct messaging *m, struct txn_server *st, const osip_message_t *req,
                          const struct proxy_rx *rx);
/* An ACK that matched no server transaction: the ACK for a 2xx, end to
 * end (RFC 3261 §13.2.2.4), forwarded statelessly. */
void messaging_on_ack(struct messaging *m, const osip_message_t *ack, const struct proxy_rx *rx);
/* A response that matched no client transaction: a 2xx retransmitted after
 * our INVITE transaction ended is forwarded statelessly through tp; any
 * other is dropped. */
void messaging_on_stray_response(struct messaging *m, osip_message_t *resp, const struct addr *src,
                                 const struct transport *tp);

const struct messaging_stats *messaging_stats(const struct messaging *m);
/* Calls with state (for the metrics and the leak checks of the tests). */
size_t messaging_calls(const struct messaging *m);
/* Calls still being set up (no 2xx, not ended): see calls_in_setup. */
size_t messaging_calls_in_setup(const struct messaging *m);

#endif

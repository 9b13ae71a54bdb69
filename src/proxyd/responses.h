/* responses: the patent's figure 4d — a response to a request this proxy
 * forwarded goes back upstream as a copy with
 *   step 220  our Via removed (a response whose top Via is not ours is
 *             refused: it was never ours to forward);
 *   222–224   the SDP pointed at the relay resource we hold for the call
 *             (a 183 with early media like a 200; hold's c=0.0.0.0 and a
 *             port 0 stay as they are);
 *   decision 7  the Contact of a response that comes straight from a NATed
 *             phone rewritten to the packet's source, so the dialog's
 *             requests reach it through its NAT;
 *   step 228  sent to the next Via's received:rport (else sent-by) — by the
 *             caller's server transaction, or statelessly for a 2xx
 *             retransmitted after our transaction ended.
 * 100 Trying is never forwarded: we sent our own. */
#ifndef PROXYD_RESPONSES_H
#define PROXYD_RESPONSES_H

#include <stdbool.h>

#include "msg_ctx.h"
#include "relay_client.h"

/* Rewrites resp (received from src) in place for the next hop up: our
 * Via off, the relay resource in its SDP, a NATed callee's Contact. A
 * response is forwarded once, so it is edited rather than copied. res may
 * be NULL (no resource held). callee_nat: the request went to one of our
 * NAT clients. Returns 0, -EPERM (top Via not ours), -ENOENT (no Via left
 * to send it to) or -ENOMEM; on error resp may be half rewritten and is
 * only fit to be dropped. */
int responses_rewrite(struct messaging *m, osip_message_t *resp, const struct addr *src,
                      const struct relay_res *res, bool callee_nat);

/* Rewrites resp in place (above) and sends it in the server transaction st
 * (not taken). Returns 0 or -errno (dropped). */
int responses_relay(struct messaging *m, struct txn_server *st, osip_message_t *resp,
                    const struct addr *src, const struct relay_res *res, bool callee_nat);

/* txn_client_cb of the INVITE forwarded at step 155; arg is its struct
 * call. Relays every answer but 100 to the caller; a 2xx confirms the call,
 * a final >= 300 or a timeout (408 to the caller) terminates it, which
 * releases the relay. */
void responses_on_invite_answer(struct txn_client *ct, osip_message_t *resp, const struct addr *src,
                                void *arg);

/* A response no client transaction wanted: a 2xx to INVITE (RFC 3261
 * §16.7 step 10, RFC 6026) is rewritten with what the call table still
 * knows and sent statelessly through tp; anything else is dropped. */
void responses_forward_stray(struct messaging *m, osip_message_t *resp, const struct addr *src,
                             const struct transport *tp);

#endif

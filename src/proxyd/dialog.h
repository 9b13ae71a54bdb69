/* dialog: requests inside the dialogs this proxy record-routed (design
 * decision 8; RFC 3261 §16.12 loose routing).
 *
 * Every in-dialog request (a To tag: BYE, re-INVITE, UPDATE, INFO, OPTIONS,
 * PRACK, ...) has our Route popped and Max-Forwards decremented (483 at
 * 0); a NATed sender's Contact becomes the packet's source (step 144). The
 * next hop is the top Route left, else the Request-URI — a numeric
 * address only (a name gets 404: no DNS on the loop; ourselves gets 482).
 * A request to one of our NAT clients leaves from the socket its REGISTER
 * came in on (decision 10).
 *
 *   ACK         forwarded statelessly, with a Via branch derived from the
 *               ACK's own, so that its retransmissions carry the same one.
 *   re-INVITE,  with SDP, in a call whose relay resource we hold: relayd is
 *   UPDATE      asked again with the Call-ID (same ports, one more for a new
 *               m= line) and the SDP pointed at it; the answer's SDP too.
 *   BYE         forwarded; its 2xx (or 481, or silence) releases the relay
 *               and frees the call.
 *   others      forwarded in a client transaction, responses relayed back
 *               through fig. 4d.
 * A request for a Call-ID we have no state for (a restart) is still routed,
 * without SDP rewriting.
 *
 * Each forwarded request has a context (struct dlg_req) owned by the
 * messaging module's list: freed when the final response is relayed, the
 * transaction times out, or the module is freed. It keeps the Call-ID, not
 * a pointer to the call, since the call may end first. */
#ifndef PROXYD_DIALOG_H
#define PROXYD_DIALOG_H

#include "msg_ctx.h"

struct dlg_req;

/* Where a routed request goes. */
struct dialog_hop {
    struct addr to;
    struct transport tp; /* the socket it leaves on (decision 10) */
    bool nat_client;     /* `to` is one of our NAT clients */
};

void dialog_on_request(struct messaging *m, struct txn_server *st, const osip_message_t *req,
                       const struct proxy_rx *rx);
void dialog_on_ack(struct messaging *m, const osip_message_t *ack, const struct proxy_rx *rx);
/* A CANCEL matched the re-INVITE of d (cancel.c): CANCEL downstream, or
 * 487 when it is still waiting for relayd. */
void dialog_cancel(struct dlg_req *d);
/* The hop to `to` for a request to `user` that came in on in_tp: 482 when
 * `to` is this proxy, 403 when it is one of our own servers (only our own
 * queries go there), else 0 with h filled: the socket the user's REGISTER
 * came in on when `to` is that NAT client (decision 10), in_tp otherwise. */
int dialog_hop_to(const struct messaging *m, const struct addr *to, const char *user,
                  const struct transport *in_tp, struct dialog_hop *h);
/* Forwards fwd (taken: our copy, routed, its Request-URI set; our Via
 * is pushed here) to h in a client transaction tied to st, as the
 * "others" above: responses go back through st (fig. 4d), silence gives
 * 408, a refused send 503. For outside.c's out-of-dialog requests. */
void dialog_forward(struct messaging *m, struct txn_server *st, osip_message_t *fwd,
                    const struct proxy_rx *rx, const char *call_id, const struct dialog_hop *h);
/* Frees every context without sending anything (messaging_free). */
void dialog_free_all(struct messaging *m);

#endif

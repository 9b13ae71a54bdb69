/* outside: out-of-dialog requests other than INVITE, REGISTER, CANCEL and
 * ACK — MESSAGE (chat), SUBSCRIBE (presence, busy lamp, message waiting),
 * PUBLISH, REFER, OPTIONS to a user, methods proxyd does not know. RFC 3261
 * §16 routes a request whether or not the proxy understands its method,
 * and every stock softphone sends these (issue #16).
 *
 *   request  → our copy (forward_copy: Max-Forwards, our credentials
 *              removed, a NATed sender's Contact = its NAT address)
 *            → where the user is: the same redirect query as an INVITE
 *              (step 150; redirectd answers any method, locator.h)
 *            → forwarded statefully (dialog_forward) to the 302's Contact,
 *              from the socket the callee's REGISTER came in on when it is
 *              our NAT client (decision 10); its responses come back
 *              through fig. 4d (a NATed callee's Contact rewritten).
 *   SUBSCRIBE and REFER create dialogs (RFC 6665, RFC 3515): they are
 *   record-routed like an INVITE, with the dialog mark, so the NOTIFYs
 *   and the un-SUBSCRIBE come back through us (dialog.c admits them).
 *   No relay: these requests carry no media.
 *   404 for a Request-URI without a user, 416 for one that is not sip:,
 *   482 when the Contact is this proxy again, 403 for our own servers.
 *
 * State: one context per request until redirectd has answered, tied to
 * its server transaction, owned by the messaging module's list; then the
 * request is dialog.c's. */
#ifndef PROXYD_OUTSIDE_H
#define PROXYD_OUTSIDE_H

#include "msg_ctx.h"

void outside_on_request(struct messaging *m, struct txn_server *st, const osip_message_t *req,
                        const struct proxy_rx *rx);
/* Frees every context waiting for redirectd, sending nothing. */
void outside_free_all(struct messaging *m);

#endif

/* cancel: CANCEL at a stateful proxy (RFC 3261 §9.2, §16.10).
 *
 * A CANCEL matching no INVITE transaction gets 481. Otherwise it is
 * answered 200 at once (hop by hop), and
 *   - the INVITE was forwarded: a CANCEL built from the forwarded INVITE
 *     (txn_client_cancel: same Request-URI, Call-ID, CSeq number, Route,
 *     From and To, our Via alone with the SAME branch) goes to where the
 *     INVITE went, through the socket it left on; the 487
 *     that follows comes back through the INVITE's client transaction and
 *     is relayed upstream like any final (fig. 4d), which releases the
 *     relay;
 *   - fig. 4a is still querying redirectd/relayd: the INVITE is answered
 *     487 here and the call terminated (queries abandoned, relay released). */
#ifndef PROXYD_CANCEL_H
#define PROXYD_CANCEL_H

#include "msg_ctx.h"

void cancel_on_request(struct messaging *m, struct txn_server *st, const osip_message_t *req,
                       const struct proxy_rx *rx);

#endif

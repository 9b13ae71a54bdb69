/* relay_notice: relayd tells the proxy that created a session that it
 * freed it (issue #16): silent for session_timeout (the media died: a
 * phone crashed, lost its network, its NAT binding went) or older than
 * session_max_lifetime. Without it both phones would keep the call up,
 * hearing nothing, until someone hangs up.
 *
 *   BYE sip:relay@PROXY SIP/2.0
 *   Call-ID: <the session's>
 *   Reason: SIP;cause=408;text="media timeout"     (or "session lifetime")
 *
 * sent in a client transaction (retransmitted, given up after 64·T1) to
 * the address the session's first relay INVITE came from. proxyd answers
 * it 200 and sends BYE to both phones with the same Reason (RFC 3326), or
 * 481 when it has no such call. */
#ifndef RELAYD_RELAY_NOTICE_H
#define RELAYD_RELAY_NOTICE_H

#include <stdbool.h>

#include "pinhole/addr.h"
#include "pinhole/txn.h"

#define RELAY_NOTICE_REASON_IDLE "SIP;cause=408;text=\"media timeout\""
#define RELAY_NOTICE_REASON_AGE "SIP;cause=408;text=\"session lifetime\""

/* Sends the notice from `self` (relayd's control address) through tp.
 * Returns 0 or -errno (counted by the caller). */
int relay_notice_send(struct txn_layer *tl, const struct transport *tp, const struct addr *self,
                      const char *call_id, const struct addr *owner, bool idle);

#endif

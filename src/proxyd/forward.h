/* forward: proxyd's copy of a request it routes on (RFC 3261 §16.6 steps
 * 1-3; the patent's steps 134-144), one recipe for the INVITE of figure 4a
 * and for every in-dialog request. */
#ifndef PROXYD_FORWARD_H
#define PROXYD_FORWARD_H

#include <stdbool.h>

#include "pinhole/addr.h"
#include "pinhole/sip.h"
#include "proxy_env.h"

/* Clones req, pops our own Route (a phone with an outbound proxy puts us
 * there: not for the next hop to see), drops the Proxy-Authorization for
 * our realm (auth.realm; RFC 3261 §22.3), decrements Max-Forwards and, for a
 * NATed sender, points the Contact at src, the packet's source (step 144;
 * received/rport are already on its Via). *out is the caller's (sip_free).
 * Returns 0, -ELOOP (Max-Forwards was 0: 483), -EINVAL (Max-Forwards or a
 * NATed sender's Contact unusable: 400) or -ENOMEM. */
int forward_copy(const struct proxy_env *env, const osip_message_t *req, const struct addr *src,
                 bool nated, osip_message_t **out);

/* What an out-of-dialog request needs for redirectd to route it (fig. 4a):
 * a SIP Request-URI with an ID (field 162), a Call-ID we can keep (copied
 * into call_id[len]). Returns 0, or the status to answer: 416 (not sip:),
 * 400 (Call-ID), 404 (no ID redirectd could know). */
int forward_target_check(const osip_message_t *req, char *call_id, size_t len);

#endif

/* registrar: REGISTER from a trusted proxy into the client table (patent
 * fig. 3a step 118 on the sending side, fig. 3b message 122), following
 * RFC 3261 10.3 where the patent is silent.
 *
 *   To user            the client ID (record key)
 *   Contact (first)    the signalling channel 108, stored as written
 *   Path (first hop)   the serving proxy; absent: the REGISTER's source
 *   Expires            Contact param, else header, else default_expires;
 *                      capped at max_expires; 0 removes the binding
 *
 * Answers: 200 listing the binding now held (Contact with ;expires=N, the
 * Path echoed: RFC 3327 5.3), 400 for a To that is not sip/sips, a bad
 * Expires, "*" with a non-zero expiry or other Contacts, an over-long
 * value or a Path naming a host instead of an address, 404 for a To
 * without an ID, 500 "Out Of Order REGISTER" for a Call-ID/CSeq older than
 * the stored one (RFC 3261 10.3 step 7: the request fails, nothing
 * changes). A REGISTER without Contact is a query: 200 with the binding. */
#ifndef REDIRECTD_REGISTRAR_H
#define REDIRECTD_REGISTRAR_H

#include "pinhole/sip.h"
#include "pinhole/txn.h"
#include "rd_ctx.h"

/* Handles the REGISTER of server transaction st (answered before return).
 * Returns 0, or -errno when no answer could be sent. */
int registrar_handle(struct rd_ctx *c, struct txn_server *st, const osip_message_t *req,
                     const struct addr *src);

#endif

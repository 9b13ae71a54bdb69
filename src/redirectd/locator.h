/* locator: the redirect server's answer to a redirect invite message 214
 * (patent fig. 4c steps 150a-150c, fig. 7a/7b): a 302 Moved Temporarily
 * whose Contacts tell the asking proxy where to forward the INVITE (one per
 * phone of the user, highest q first: the proxy forks to them), or 404 when
 * the ID has no binding.
 *
 * Each Contact follows design.md decision 3 (client_table_redirect): the
 * client's own channel for its serving proxy, the serving proxy for any
 * other. Call-ID, From, To (plus our tag), CSeq and the Via stack come from
 * the request unchanged, so the asking proxy matches the response to its
 * query (fig. 7b: session ID header 158 preserved). */
#ifndef REDIRECTD_LOCATOR_H
#define REDIRECTD_LOCATOR_H

#include "pinhole/sip.h"
#include "pinhole/txn.h"
#include "rd_ctx.h"

/* Handles the request of server transaction st: an INVITE, or any other
 * method a proxy asks where to route (answered before return);
 * `src` is the asking proxy. Returns 0, or -errno when no answer could be
 * sent. */
int locator_handle(struct rd_ctx *c, struct txn_server *st, const osip_message_t *req,
                   const struct addr *src);

#endif

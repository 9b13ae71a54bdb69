/* reply: every response redirectd sends goes through here, so each is
 * counted once by status and a transport failure is noticed in one place.
 *
 * Responses inside a transaction go to the request's response destination,
 * which the redirector has pinned to the datagram's source (received and
 * rport on the top Via) before the transaction saw it. */
#ifndef REDIRECTD_REPLY_H
#define REDIRECTD_REPLY_H

#include "pinhole/sip.h"
#include "pinhole/txn.h"
#include "rd_ctx.h"

/* Sends a response built with txn_server_build in the transaction and
 * counts it. resp is not taken. */
int reply_send(struct rd_ctx *c, struct txn_server *st, const osip_message_t *resp);
/* A response with a status and optional extra headers (NULL-terminated
 * name/value pairs; headers may be NULL). */
int reply_status(struct rd_ctx *c, struct txn_server *st, int status, const char *const *headers);
/* The same with its own reason phrase (e.g. "500 Out Of Order REGISTER"). */
int reply_reason(struct rd_ctx *c, struct txn_server *st, int status, const char *reason);
/* Outside any transaction (the transaction layer could not key the
 * request): builds the response and sends it to `src`, the datagram's
 * source, never elsewhere. */
int reply_stateless(struct rd_ctx *c, const osip_message_t *req, int status,
                    const struct addr *src);

#endif

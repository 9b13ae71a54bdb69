/* intake: a datagram's way into proxyd's modules, once the flood check let
 * it through (proxy.c).
 *
 *   CRLF         a client's own NAT keepalive: nothing to parse or answer
 *   unparseable  counted, logged (rate-limited), answered 400/505 when the
 *                parser could still read a request to answer
 *   request      the top Via's sent-by read as the sender wrote it (NAT
 *                detection, fig. 3a step 114), received/rport set (design
 *                decision 1: responses go back to the packet source), the
 *                transaction layer absorbs retransmissions; a new request
 *                goes to on_request, an ACK without a transaction (the ACK
 *                for a 2xx, end to end) to on_ack
 *   response     to the client transaction that waits for it; one that
 *                matches none to on_stray_response
 *
 * The handlers are the owner's (proxy.c's dispatch, or a unit test's one
 * module); the intake keeps no state but its log rate limit. */
#ifndef PROXYD_INTAKE_H
#define PROXYD_INTAKE_H

#include <stddef.h>

#include "pinhole/log.h"
#include "pinhole/sip.h"
#include "pinhole/txn.h"
#include "proxy_env.h"

/* A new server transaction st for req (req stays readable until the
 * handler returns; st must be answered, now or later). */
typedef void (*intake_request_cb)(void *arg, struct txn_server *st, const osip_message_t *req,
                                  const struct proxy_rx *rx);
typedef void (*intake_ack_cb)(void *arg, const osip_message_t *ack, const struct proxy_rx *rx);
/* resp may be edited in place; it is freed after the call. */
typedef void (*intake_stray_cb)(void *arg, osip_message_t *resp, const struct addr *src,
                                const struct transport *tp);

struct intake_handlers {
    intake_request_cb on_request;      /* NULL: answered 501 */
    intake_ack_cb on_ack;              /* NULL: dropped */
    intake_stray_cb on_stray_response; /* NULL: dropped */
    void *arg;
};

struct intake {
    struct proxy_env *env;
    struct intake_handlers h;
    struct log_ratelimit parse_rl;
};

/* env is borrowed for the intake's life; h is copied. */
void intake_init(struct intake *in, struct proxy_env *env, const struct intake_handlers *h);
/* One datagram from src on the socket behind tp. buf need not be
 * NUL-terminated; it is not kept. */
void intake_receive(struct intake *in, const struct transport *tp, const struct addr *src,
                    const char *buf, size_t len);

#endif

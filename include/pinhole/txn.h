/* txn: the RFC 3261 §17 transaction layer all three daemons share.
 *
 * Server side: absorbs retransmitted requests by branch (resending the last
 * response), retransmits a non-2xx final to INVITE until the ACK arrives
 * (timers G/H, then I), keeps a 2xx-answered INVITE "accepted" for 64·T1
 * (RFC 6026) and a finished non-INVITE for timer J, so late retransmissions
 * are still absorbed and never handled twice.
 *
 * Client side: sends a request, retransmits it (timers A/E), gives up at
 * 64·T1 (timers B/F), matches responses by top-Via branch and CSeq method,
 * ACKs non-2xx finals to INVITE itself and absorbs their retransmissions
 * (timer D).
 *
 * The layer owns every transaction and frees it when its timers end. Users
 * hold transaction pointers only until the terminate callback tells them the
 * transaction is gone. */
#ifndef PINHOLE_TXN_H
#define PINHOLE_TXN_H

#include <stdbool.h>
#include <stdint.h>

#include "pinhole/addr.h"
#include "pinhole/loop.h"
#include "pinhole/sip.h"

struct txn_layer;
struct txn_server;
struct txn_client;

struct txn_timers {
    uint32_t t1_ms; /* RTT estimate, RFC default 500 */
    uint32_t t2_ms; /* max retransmit interval for non-INVITE, default 4000 */
    uint32_t t4_ms; /* max time a message stays in the network, default 5000 */
    /* A server transaction that the daemon never answers is dropped after
     * this long (0 = 180000 ms), so a lost upstream cannot leak it; and an
     * INVITE client transaction that has had provisionals but no final for
     * this long is CANCELled (Timer C, RFC 3261 16.6 step 11). */
    uint32_t server_max_ms;
};

struct txn_stats {
    uint64_t servers;         /* live server transactions */
    uint64_t clients;         /* live client transactions */
    uint64_t absorbed;        /* retransmitted requests absorbed */
    uint64_t retransmissions; /* requests/responses we resent */
    uint64_t timeouts;        /* client transactions that got no final answer */
    uint64_t timer_c;         /* of those, INVITE branches CANCELled by Timer C */
};

/* timers NULL = RFC 3261 defaults. The layer keeps the loop pointer and
 * frees nothing of it. Returns 0 or -ENOMEM. */
int txn_layer_new(struct txn_layer **out, struct loop *l, const struct txn_timers *timers);
/* Frees every transaction without calling any callback. */
void txn_layer_free(struct txn_layer *tl);
void txn_layer_stats(const struct txn_layer *tl, struct txn_stats *out);
/* At most `max` live server transactions (0: no cap): beyond,
 * txn_server_receive refuses a new request with -ENOSPC (its
 * retransmissions of requests already held still match). */
void txn_layer_set_max_servers(struct txn_layer *tl, uint64_t max);

/* ---- server transactions ---- */

enum txn_match {
    TXN_NEW = 0,            /* a new request: *out is its new transaction (NULL for ACK) */
    TXN_RETRANSMISSION = 1, /* matched a live transaction and was absorbed */
    TXN_ACK_ABSORBED = 2,   /* the ACK for a non-2xx final we sent */
};

/* Feeds every received request through the layer. For TXN_NEW with a new
 * transaction the layer takes the request: *req is set to NULL and the
 * message becomes the transaction's (txn_server_request). The caller may go
 * on reading it through its own pointer until it returns to the event loop:
 * a request the layer no longer needs (once finally answered or ACKed) is
 * freed only when the next request or response is fed in. In every other
 * case *req stays the caller's. An ACK that matches no transaction (the
 * ACK for a 2xx, its own end-to-end transaction) returns TXN_NEW with *out
 * NULL. Returns an enum txn_match, or -ENOMEM / -EINVAL (no Via, CSeq or
 * Call-ID to key on, or a key over 1024 bytes: the caller answers 400 or
 * drops) / -ENOSPC (the layer's cap of server transactions: the caller
 * answers 503 statelessly). A request without
 * an RFC 3261 branch (RFC 2543 peers) is keyed on Call-ID, CSeq, From tag
 * and sent-by instead. */
int txn_server_receive(struct txn_layer *tl, osip_message_t **req, const struct addr *src,
                       const struct transport *tp, struct txn_server **out);

/* Sends a response in this transaction to the request's response
 * destination (top Via received/rport, else sent-by) through the transport
 * the request came in on, and remembers it for retransmission. Provisional
 * responses may be sent any number of times; after a final one further
 * calls return -EALREADY. `resp` is not taken. Returns 0 or -errno. */
int txn_server_respond(struct txn_server *st, const osip_message_t *resp);
/* Builds (sip_response_new) and sends a response with this status. The
 * To-tag is the transaction's own, stable across calls. -EALREADY once the
 * request is gone (txn_server_request NULL), as for txn_server_build. */
int txn_server_respond_status(struct txn_server *st, int status);
/* The same, with extra headers set on it before sending (NULL-terminated
 * name/value pairs, e.g. "Retry-After", "30", NULL). */
int txn_server_respond_with(struct txn_server *st, int status, const char *const *headers);
/* Builds, without sending, the response to the transaction's request with
 * the transaction's To-tag, for a caller that edits it further (a Contact,
 * a body) before txn_server_respond. reason NULL keeps the standard phrase
 * (RFC 3261 21 lets a server word its own); headers as above, may be NULL.
 * On success *out is the caller's (sip_free); on error *out is untouched.
 * Returns 0 or -errno (-EINVAL: st or out NULL, or a name without value;
 * -EALREADY: the request is gone, see txn_server_request). */
int txn_server_build(const struct txn_server *st, int status, const char *reason,
                     const char *const *headers, osip_message_t **out);
/* Answers `req` outside any transaction (the layer could not key it, or
 * the source is not one we keep state for): builds the response and sends
 * it once through tp to `dst`, the datagram's source. Nothing is kept, so
 * a forged source cannot make us retransmit at a victim. A 503 carries
 * Retry-After: 5. Returns 0 or -errno. */
int txn_respond_stateless(const struct transport *tp, const osip_message_t *req, int status,
                          const struct addr *dst);
/* The same from a request's bytes, never parsed (sip_reply_raw): for a
 * datagram refused before any parse. -EINVAL when it is an ACK or has
 * nothing to answer on (nothing sent); else 0 or -errno. */
int txn_respond_raw(const struct transport *tp, const char *req, size_t len, int status,
                    const struct addr *dst);

/* The live INVITE server transaction a CANCEL refers to (same branch and
 * sent-by, RFC 3261 9.2), or NULL. Owned by the layer. */
struct txn_server *txn_server_find_invite(struct txn_layer *tl, const osip_message_t *cancel);

/* The request that created it: owned by the transaction. NULL once a
 * non-INVITE transaction has sent its final response, an INVITE has been
 * answered 2xx, or an INVITE's non-2xx final was ACKed (only the key, and
 * the response bytes where they may be resent, are kept for timers J, L
 * and I). */
const osip_message_t *txn_server_request(const struct txn_server *st);
const struct addr *txn_server_source(const struct txn_server *st);
const struct transport *txn_server_transport(const struct txn_server *st);
const char *txn_server_to_tag(const struct txn_server *st);
bool txn_server_is_final(const struct txn_server *st);

/* Called once when the layer frees the transaction (final timers done, or
 * never answered within server_max_ms). Users drop their pointers then. */
typedef void (*txn_server_end_cb)(struct txn_server *st, void *arg);
void txn_server_set_user(struct txn_server *st, void *user, txn_server_end_cb on_end);
void *txn_server_user(const struct txn_server *st);

/* ---- client transactions ---- */

/* A response for the transaction (each provisional, then the first final),
 * or resp == NULL when it timed out (B/F) or could not be sent. After a
 * final or a timeout no further callback comes. `resp` is the message
 * given to txn_client_receive, and the callback may edit it in place (a
 * proxy rewrites and forwards it without a copy): the layer reads nothing
 * of it afterwards. `resp` and `src` are only valid during the call. */
typedef void (*txn_client_cb)(struct txn_client *ct, osip_message_t *resp, const struct addr *src,
                              void *arg);

/* Sends `req` (taken: the layer owns and frees it) to dst through tp. The
 * request must already carry our top Via with a fresh branch
 * (sip_via_push): that branch and the CSeq method key the transaction
 * (-EEXIST when a live one has it). An ACK makes no transaction: it is
 * sent once and freed, and *out stays NULL. Returns 0 (and *out when out
 * is non-NULL) or -errno; on error req is freed. */
int txn_client_send(struct txn_layer *tl, osip_message_t *req, const struct addr *dst,
                    const struct transport *tp, txn_client_cb cb, void *arg,
                    struct txn_client **out);

/* Feeds every received response through the layer; resp stays the
 * caller's, though a callback may have edited it. Returns 0 when it
 * matched a transaction (the callback ran, or it was a retransmission that
 * was absorbed or re-ACKed), -ENOENT when it matches none or is a further
 * 2xx to an INVITE (a stray response, or a retransmitted 2xx whether the
 * transaction is still in RFC 6026 Accepted or already gone: a proxy
 * forwards it statelessly), -EINVAL for a request or a status outside
 * 100..699. */
int txn_client_receive(struct txn_layer *tl, osip_message_t *resp, const struct addr *src);

/* Sends the CANCEL for INVITE transaction `inv`, still waiting for its
 * final (RFC 3261 9.1), in a client transaction of its own to the same
 * destination through the same transport; fire and forget (the INVITE's
 * 487 comes through inv's callback). Before any provisional response it is
 * held and sent when the first one comes (RFC 3261 9.1), or never when a
 * final or the timeout comes first. Returns 0, -EALREADY (inv has its
 * final: nothing to cancel) or -errno. */
int txn_client_cancel(struct txn_client *inv);
/* The same with a Reason header (RFC 3326), e.g. a forking proxy's
 * "SIP;cause=200;text=\"Call completed elsewhere\"" (reason copied;
 * NULL: none). */
int txn_client_cancel_reason(struct txn_client *inv, const char *reason);
/* The user loses interest: no callback comes any more; the layer still
 * ACKs and absorbs what RFC 3261 requires, then frees it. */
void txn_client_abandon(struct txn_client *ct);
/* The request as sent: owned by the transaction. NULL once the final
 * response has been delivered (only the key, and an INVITE's ACK, are
 * kept for timers D, K and the RFC 6026 accepted state); an INVITE whose
 * ACK could not be built keeps it to try again. */
const osip_message_t *txn_client_request(const struct txn_client *ct);
const struct addr *txn_client_destination(const struct txn_client *ct);

#endif

/* txn_reply: every response a server daemon sends goes through here, so
 * each is counted once by status and a transport failure is noticed in one
 * place. The daemon fills a struct txn_reply once, pointing at its own
 * counters; the functions only ever add to them.
 *
 * Responses inside a transaction go to the request's response destination,
 * which the daemon pinned to the datagram's source (received and rport on
 * the top Via, sip_via_set_received) before the transaction saw it: never
 * to a host a Via names.
 *
 * Ownership: a struct txn_reply owns nothing. The transport and the
 * counters it points at are the daemon's and must outlive every call. */
#ifndef PINHOLE_TXN_REPLY_H
#define PINHOLE_TXN_REPLY_H

#include <stddef.h>
#include <stdint.h>

#include "pinhole/addr.h"
#include "pinhole/loop.h"
#include "pinhole/sip.h"
#include "pinhole/txn.h"

struct txn_reply {
    /* Where stateless answers go out: the socket the requests came in on. */
    const struct transport *tp;
    /* responses[status - status_min] counts each response sent, for the
     * `slots` statuses from status_min up; other statuses go uncounted. */
    uint64_t *responses;
    size_t slots;
    int status_min;
    /* Answers that could not be built or that the transport refused. */
    uint64_t *send_errors;
};

/* A txn_reply counting into a daemon's stats struct (a pointer) with a
 * `responses` array, whose slot 0 is status `min`, and a `send_errors`
 * counter. */
#define TXN_REPLY_INTO(transport, stats, min)                                                      \
    ((struct txn_reply){.tp = (transport),                                                         \
                        .responses = (stats)->responses,                                           \
                        .slots = sizeof((stats)->responses) / sizeof((stats)->responses[0]),       \
                        .status_min = (min),                                                       \
                        .send_errors = &(stats)->send_errors})

/* Sends a response built with txn_server_build in the transaction and
 * counts it. resp stays the caller's. Returns 0 or -errno (as
 * txn_server_respond). */
int txn_reply_send(const struct txn_reply *r, struct txn_server *st, const osip_message_t *resp);
/* A response with a status and optional extra headers (NULL-terminated
 * name/value pairs; headers may be NULL). */
int txn_reply_status(const struct txn_reply *r, struct txn_server *st, int status,
                     const char *const *headers);
/* The same with its own reason phrase (RFC 3261 21 lets a server word it:
 * "400 Missing SDP"); reason is copied. */
int txn_reply_reason(const struct txn_reply *r, struct txn_server *st, int status,
                     const char *reason);
/* Outside any transaction (the transaction layer could not key the
 * request, or the daemon keeps no state for its source): builds the
 * response and sends it once through r->tp to `src`, the datagram's
 * source, never elsewhere. Keeps no state, so a forged source cannot make
 * us retransmit at a victim. req stays the caller's. */
int txn_reply_stateless(const struct txn_reply *r, const osip_message_t *req, int status,
                        const struct addr *src);
/* The same from the request's bytes, never parsed (sip_reply_raw): for a
 * source refused before any parse. -EINVAL (uncounted) when the datagram
 * is an ACK or has nothing to answer on; req stays the caller's. */
int txn_reply_raw(const struct txn_reply *r, const char *req, size_t len, int status,
                  const struct addr *src);

#endif

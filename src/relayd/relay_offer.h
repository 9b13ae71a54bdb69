/* relay_offer: the SDP half of the session set-up module (patent fig. 10):
 * reads the SDP payload 184 of a relay server invite message 202 (fig. 8a),
 * says how many relay streams it needs, and writes the SDP of the relay
 * server response message 204 (fig. 8b): the same offer with c= naming the
 * relay and each m= port the relay port of its stream (design.md
 * decision 5: a=rtcp → port+1, ICE lines dropped).
 *
 * Stream i of a session serves m= line i of every SDP sent for its
 * Call-ID, so a re-INVITE keeps its ports and a new m= line gets a new
 * one. An m= line with port 0 (a disabled or declined stream, RFC 3264
 * §6) keeps port 0; it takes a port pair only when an enabled line comes
 * after it, to keep the indexes aligned. */
#ifndef RELAYD_RELAY_OFFER_H
#define RELAYD_RELAY_OFFER_H

#include <stddef.h>

#include "pinhole/sdp.h"
#include "pinhole/sip.h"
#include "session_table.h"

struct relay_offer {
    struct sdp *sdp;       /* owned: relay_offer_free */
    size_t nmedia;         /* m= lines */
    size_t streams_needed; /* last enabled m= line + 1; 0 when none is enabled */
};

/* Why an INVITE's body cannot be relayed, and how to answer it. */
struct relay_offer_refusal {
    int status;          /* 400, 415 or 488 */
    const char *reason;  /* reason phrase (static) */
    const char *warning; /* Warning header value for 488 (static), or NULL */
};

/* Reads the body of `req` into `o`. Returns 0, or -EINVAL with *why
 * filled: no body (400 Missing SDP), a Content-Type other than
 * application/sdp (415: RFC 3261 21.4.13), an SDP that does not parse
 * (400 Malformed SDP), an enabled m= line on a transport a UDP relay
 * cannot carry (488 with Warning 302: TCP, SCTP...). -ENOMEM: no answer
 * can be built. On error `o` holds nothing to free. */
int relay_offer_read(struct relay_offer *o, const osip_message_t *req,
                     struct relay_offer_refusal *why);

/* The SDP of fig. 8b for session `s` (which has at least streams_needed
 * streams): c= = advertise (SDP text form, IPv6 without brackets), m= line
 * i → stream i's port. *body is malloc'd (free()). Rewrites o->sdp.
 * Returns 0, -EINVAL or -ENOMEM. */
int relay_offer_answer(struct relay_offer *o, const struct session *s, const char *advertise,
                       char **body, size_t *len);

void relay_offer_free(struct relay_offer *o);

#endif

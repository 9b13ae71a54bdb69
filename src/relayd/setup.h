/* setup: relayd's session set-up module 58 (patent fig. 9 and 10), and
 * the release of what it set up (design.md decision 9).
 *
 *   INVITE sip:ID@relay with SDP (fig. 8a, step 60)
 *     → one port pair per m= line (step 62; relay_offer.h says which),
 *       the session record keyed by Call-ID (step 64),
 *     ← 302 whose SDP is the offer pointed at the relay (fig. 8b, steps
 *       66 and 68).
 *   Another INVITE with that Call-ID (a re-INVITE, or the second proxy of
 *   fig. 2c) gets the same ports back, never new ones (design.md
 *   decision 4); only m= lines the session has not seen get new ports.
 *   BYE with the Call-ID → the session and its ports are freed, 200; an
 *   unknown Call-ID → 481.
 *
 * Both run inside a server transaction from a trusted proxy, after
 * sip_check_request, and always answer it with a final response. */
#ifndef RELAYD_SETUP_H
#define RELAYD_SETUP_H

#include "pinhole/sip.h"
#include "pinhole/txn.h"
#include "relay_ctx.h"

/* Retry-After of a 503 when no port pair is free (RFC 3261 21.5.4): about
 * how long an ended call's ports take to come back when a proxy lost its
 * BYE, without making callers wait for the whole session_timeout. */
#define SETUP_RETRY_AFTER_S "30"

/* relayd's control address as a proxy reaches it: listen, or
 * advertise_media's host at listen's port when listen is a wildcard. For
 * the 302's Contact and the Via of relayd's own requests. */
void setup_control_addr(const struct relay_ctx *c, struct addr *out);

/* Records the phones named in Pinhole-Sources (relay_sources.h) as the
 * session's sides, with the SDP's ports for the one marked ;sdp.
 * Answers 302 with the relay SDP, or 400 (no/bad SDP, a malformed
 * Pinhole-Sources, Call-ID over
 * RELAY_CALL_ID_MAX), 406 (Accept refuses application/sdp), 415 (body
 * not SDP), 488 (no stream to relay, or TCP media), 503 + Retry-After (no
 * port pair or descriptor free: a new session is freed whole, an existing
 * one keeps the streams it had and those already added), 500. */
void setup_invite(struct relay_ctx *c, struct txn_server *st, const osip_message_t *req);

/* Answers 200 after freeing the session with the request's Call-ID, or
 * 481 when there is none. The 200 says what each phone sent through the
 * session, for the proxy's call log line:
 *   Pinhole-Packets: 198.51.100.28=1500, 203.0.113.14=1498
 * (RTP and RTCP packets received from each latched source IP). */
void setup_bye(struct relay_ctx *c, struct txn_server *st, const osip_message_t *req);

#endif

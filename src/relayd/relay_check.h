/* relay_check: the checks a request from a trusted proxy gets before its
 * method is looked at (RFC 3261 8.2.1, 8.2.2.3, 16.3 item 3), each
 * answered with its own code, and the Accept check of a relay INVITE
 * (RFC 3261 8.2.3: our 302 carries an SDP body). */
#ifndef RELAYD_RELAY_CHECK_H
#define RELAYD_RELAY_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "pinhole/sip.h"

/* relayd supports no SIP extension: every option tag is unknown. */
/* Longest Unsupported list we send; more tags are left out. */
#define RELAY_CHECK_UNSUPPORTED_MAX 256

/* Returns 0 when the request may proceed, or the status to answer:
 * 483 (Max-Forwards already 0; decremented otherwise), 400 (Max-Forwards
 * not a number), 416 (Request-URI not sip/sips), 420 (Require or
 * Proxy-Require names an option tag: they are listed, comma-separated, in
 * unsupported, which holds RELAY_CHECK_UNSUPPORTED_MAX + 1 bytes). */
int relay_check_request(osip_message_t *req, char *unsupported, size_t len);

/* False when the request carries Accept header fields and none of them
 * admits application/sdp (application/sdp, application/ *, * / *): the
 * 302's body would be one the proxy said it cannot take (answer 406). An
 * empty Accept admits nothing (RFC 3261 20.1). */
bool relay_check_accepts_sdp(const osip_message_t *req);

#endif

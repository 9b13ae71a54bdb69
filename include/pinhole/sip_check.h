/* sip_check: the checks every request gets before its method is looked at
 * (RFC 3261 8.2.1, 8.2.2.3, 16.3 item 3), each answered with its own code.
 * Shared by redirectd and relayd, which differ only in the option tags
 * they understand. */
#ifndef PINHOLE_SIP_CHECK_H
#define PINHOLE_SIP_CHECK_H

#include <stddef.h>

#include "pinhole/sip.h"

/* Longest Unsupported list a daemon sends; more tags are left out so a
 * hostile Require cannot make the response unbounded. */
#define SIP_CHECK_UNSUPPORTED_MAX 256

/* Returns 0 when the request may proceed, or the status to answer:
 * 483 (Max-Forwards already 0; decrements it otherwise), 400 (Max-Forwards
 * not a number), 416 (Request-URI not sip/sips), 420 (Require or
 * Proxy-Require names an option tag not in supported_tags: the unknown
 * tags, comma-separated, are written to unsupported, truncated to fit its
 * len bytes). supported_tags is a NULL-terminated list compared without
 * case, or NULL for none. Every header instance counts; Proxy-Require too,
 * as RFC 4475 3.3.5 expects of an element that answers in either role. */
int sip_check_request(osip_message_t *req, const char *const *supported_tags, char *unsupported,
                      size_t len);

#endif

/* req_check: the checks every request gets before its method is looked at
 * (RFC 3261 8.2.1, 8.2.2.3, 16.3 item 3), each answered with its own code. */
#ifndef REDIRECTD_REQ_CHECK_H
#define REDIRECTD_REQ_CHECK_H

#include <stddef.h>

#include "pinhole/sip.h"

/* Option tags redirectd understands (Require: path on a REGISTER is fine). */
#define REQ_CHECK_SUPPORTED "path"
/* Longest Unsupported list we send; more tags are left out. */
#define REQ_CHECK_UNSUPPORTED_MAX 256

/* Returns 0 when the request may proceed, or the status to answer:
 * 483 (Max-Forwards already 0; decrements it otherwise), 416 (Request-URI
 * not sip/sips), 420 (Require or Proxy-Require names an option tag we do
 * not support: the tags, comma-separated, are written to unsupported,
 * which holds REQ_CHECK_UNSUPPORTED_MAX + 1 bytes), 400 (Max-Forwards not
 * a number). */
int req_check(osip_message_t *req, char *unsupported, size_t len);

#endif

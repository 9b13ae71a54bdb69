/* request: out-of-dialog requests proxyd originates itself (keepalive
 * OPTIONS, the unregister of a dropped client), built as text and parsed
 * back so they go through the same validating parser as everything else. */
#ifndef PROXYD_REQUEST_H
#define PROXYD_REQUEST_H

#include "pinhole/addr.h"
#include "pinhole/sip.h"

/* Longest Request-URI / To URI accepted (they come from our own tables). */
#define REQUEST_URI_MAX 256

struct request_spec {
    const char *method;   /* "OPTIONS", "REGISTER" */
    const char *uri;      /* Request-URI, e.g. "sip:16@198.51.100.28:40312" */
    const char *to_uri;   /* To (and From when from_uri is NULL) */
    const char *from_uri; /* NULL: To's URI (REGISTER by a third party) */
    const char *extra;    /* more header lines, each ending "\r\n"; may be NULL */
};

/* Builds the request with a fresh Call-ID, From-tag and CSeq 1, and our
 * Via (self, fresh branch, rport) on top, ready for txn_client_send.
 * The URIs must be plain "sip:" URIs without '<', '>', CR or LF (-EINVAL).
 * *out is owned by the caller (sip_free, or hand it to txn_client_send).
 * Returns 0, -EINVAL, -ENOSPC or -ENOMEM. */
int request_new(osip_message_t **out, const struct request_spec *spec, const struct addr *self);

#endif

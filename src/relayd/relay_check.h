/* relay_check: the Accept check of a relay INVITE (RFC 3261 8.2.3: our
 * 302 carries an SDP body). The checks every request gets first are
 * libpinhole's sip_check. */
#ifndef RELAYD_RELAY_CHECK_H
#define RELAYD_RELAY_CHECK_H

#include <stdbool.h>

#include "pinhole/sip.h"

/* False when the request carries Accept header fields and none of them
 * admits application/sdp (application/sdp, application/ *, * / *): the
 * 302's body would be one the proxy said it cannot take (answer 406). An
 * empty Accept admits nothing (RFC 3261 20.1). */
bool relay_check_accepts_sdp(const osip_message_t *req);

#endif

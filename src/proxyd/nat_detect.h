/* nat_detect: is the sender of a request behind a NAT? (design decision 2,
 * patent fig. 3a step 114 and fig. 4a step 142). */
#ifndef PROXYD_NAT_DETECT_H
#define PROXYD_NAT_DETECT_H

#include <stdbool.h>

#include "pinhole/addr.h"
#include "pinhole/sip.h"

/* The top Via's sent-by as the sender wrote it, read BEFORE
 * sip_via_set_received() adds received/rport. *out is left unset
 * (addr_is_set false) when the sent-by is a host name or there is no Via. */
void nat_detect_sent_by(const osip_message_t *m, struct addr *out);

/* True when the request from `src` comes through a NAT: the packet source
 * differs from the top Via's sent-by (`sent_by` from nat_detect_sent_by; a
 * name never matches), or — when private_contact_is_nat — the first Contact
 * names a private-range address (RFC 1918, RFC 6598, ULA, link-local). */
bool nat_detect(const struct addr *src, const struct addr *sent_by, const osip_message_t *m,
                bool private_contact_is_nat);

#endif

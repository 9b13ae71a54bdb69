/* relay_sources: the Pinhole-Sources header of a relay INVITE, where a
 * proxy says which IP addresses the call's phones signalled from
 * (docs/relayd.md, "Who may latch"):
 *
 *   Pinhole-Sources: 198.51.100.7;sdp, 203.0.113.9
 *
 * Each value is a numeric IPv4 or IPv6 address (no brackets, no port),
 * `;sdp` when the INVITE's SDP is that phone's own (its m= ports are where
 * it receives). At most LATCH_SIDES values; the header is bounded before
 * anything is read, as every header from the network is. */
#ifndef RELAYD_RELAY_SOURCES_H
#define RELAYD_RELAY_SOURCES_H

#include <stdbool.h>
#include <stddef.h>

#include "latch.h"
#include "pinhole/addr.h"

#define RELAY_SOURCES_HEADER "Pinhole-Sources"
/* "IPv6;sdp, " four times, with room for spaces */
#define RELAY_SOURCES_MAX_LEN 256

struct relay_source {
    struct addr ip; /* port 0 */
    bool sdp;       /* the INVITE's SDP is this phone's */
};

struct relay_sources {
    struct relay_source v[LATCH_SIDES];
    size_t n;
};

/* Parses a header value (NULL or "" = no sources: n 0). Returns 0, or
 * -EINVAL for anything else: an address that is not numeric, a port, a
 * parameter other than sdp, more than LATCH_SIDES values or
 * RELAY_SOURCES_MAX_LEN characters. out is filled only on success. */
int relay_sources_parse(const char *value, struct relay_sources *out);

#endif

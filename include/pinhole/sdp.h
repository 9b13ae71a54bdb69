/* sdp: line-preserving SDP (RFC 4566) reading and rewriting. Everything we
 * do not rewrite (codecs, a= lines, order, line endings) comes out byte for
 * byte as it went in. */
#ifndef PINHOLE_SDP_H
#define PINHOLE_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pinhole/addr.h"

#define SDP_MAX_LINES 512 /* a longer body is refused */
#define SDP_MAX_MEDIA 32  /* m= lines */
#define SDP_MAX_LINE 2048 /* one line's length */

struct sdp;

struct sdp_media_info {
    char type[16];      /* "audio", "video", "application", ... */
    uint16_t port;      /* 0 = stream disabled (stays 0 on rewrite) */
    char proto[32];     /* "RTP/AVP" */
    char conn[64];      /* effective c= address (media level, else session level); "" if none */
    bool has_rtcp_attr; /* an a=rtcp: line is present */
};

/* Parses body (len bytes, need not be NUL-terminated). Refuses (-EINVAL)
 * anything that is not SDP: no "v=0" first line, a line without "x=",
 * bad m=/c= syntax, over the limits above. *out owned by the caller. */
int sdp_parse(struct sdp **out, const char *body, size_t len);
void sdp_free(struct sdp *s);

size_t sdp_media_count(const struct sdp *s);
/* Returns 0 or -ENOENT for an index out of range. */
int sdp_media_get(const struct sdp *s, size_t index, struct sdp_media_info *out);
/* Where media line mi says its media is: its c= as an address (port 0).
 * Returns 0, or -ENOENT when it has none, is on hold (0.0.0.0 / ::, RFC
 * 3264 8.4) or is not numeric. */
int sdp_media_addr(const struct sdp_media_info *mi, struct addr *out);
/* The session-level c= address ("" if none) into buf. */
int sdp_session_conn(const struct sdp *s, char *buf, size_t len);

/* Sets every c= (session and media level) to addr, with IP4/IP6 to match.
 * A c= of 0.0.0.0 / :: (RFC 3264 hold) stays as it is. Returns 0 or -EINVAL. */
int sdp_set_conn(struct sdp *s, const char *addr);
/* Sets media `index`'s port (a port of 0 stays 0) and, when an a=rtcp line
 * is present in that media section, its port to port+1 (address rewritten
 * to rtcp_addr when the line carries one and rtcp_addr is non-NULL). */
int sdp_set_media_port(struct sdp *s, size_t index, uint16_t port, const char *rtcp_addr);
/* Removes ICE lines: a=candidate, a=remote-candidates, a=ice-ufrag,
 * a=ice-pwd, a=ice-options, a=ice-lite, a=ice-mismatch, a=end-of-candidates. */
void sdp_strip_ice(struct sdp *s);

/* Points the whole SDP at a relay (fig. 4a step 148 / fig. 8b): c= = addr,
 * media i's port = ports[i] for i < nports (port 0 stays 0), a=rtcp → +1,
 * ICE lines removed. */
int sdp_apply_relay(struct sdp *s, const char *addr, const uint16_t *ports, size_t nports);

/* The body as text: *out malloc'd (caller frees with free()), NUL-terminated. */
int sdp_serialize(const struct sdp *s, char **out, size_t *len);

#endif

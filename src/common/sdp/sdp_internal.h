/* sdp internals shared by sdp.c (access, serialisation), sdp_parse.c and
 * sdp_rewrite.c. Not installed; nothing outside the sdp module includes it. */
#ifndef PINHOLE_SDP_INTERNAL_H
#define PINHOLE_SDP_INTERNAL_H

#include "pinhole/sdp.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One line of the body. Its bytes stay in the body copy until a rewrite
 * gives it a malloc'd replacement; the line ending is never changed. */
struct sdp_line {
    size_t off;      /* into sdp.body */
    size_t len;      /* without the line ending */
    uint8_t eol_len; /* 2 for "\r\n", 1 for "\n", 0 for a last line without one */
    bool removed;    /* dropped by sdp_strip_ice */
    char *repl;      /* rewritten text (no line ending), owned, or NULL */
    size_t repl_len;
};

/* A media section: lines [mline, end). */
struct sdp_media {
    size_t mline;
    size_t end;
    uint16_t orig_port; /* as parsed: a port of 0 is never rewritten */
};

/* The whole object is one allocation: this struct, then lines[nlines],
 * then the body copy. Only rewritten lines own extra memory (repl). */
struct sdp {
    char *body;
    size_t body_len;
    size_t session_end; /* first m= line, or nlines */
    size_t nmedia;
    struct sdp_media media[SDP_MAX_MEDIA];
    size_t nlines;
    struct sdp_line lines[];
};

struct sdp_span {
    const char *p;
    size_t len;
};

/* "c=IN IP4 <addr>[/ttl[/n]]" or "c=IN IP6 <addr>[/n]" (RFC 4566 §5.7). */
struct sdp_conn_view {
    bool ip6;
    struct sdp_span addr;   /* the literal, without the suffix */
    struct sdp_span suffix; /* "/127" ..., empty when absent */
};

/* "m=<media> <port>[/<n>] <proto> <fmt> ..." (RFC 4566 §5.14). */
struct sdp_mline_view {
    struct sdp_span media;
    struct sdp_span port; /* the digits only; "/<n>" stays in the rest */
    uint16_t port_value;
    struct sdp_span proto;
};

/* "a=rtcp:<port>[ IN IP4|IP6 <addr>]" (RFC 3605 §2.1). */
struct sdp_rtcp_view {
    struct sdp_span port;
    uint16_t port_value;
    bool has_addr;
    struct sdp_span addr;
};

/* Longest address literal we accept in c= or a=rtcp (an IPv6 text form). */
#define SDP_ADDR_MAX 45

/* The current text of line i (its rewrite if any), without line ending. */
const char *sdp_line_text(const struct sdp *s, size_t i, size_t *len);

/* Whether media section `index` has a live a=rtcp: line. */
bool sdp_media_has_rtcp(const struct sdp *s, size_t index);

/* Syntax checks over one line's text (len bytes, with its "x=" prefix).
 * Return 0 or -EINVAL; sdp_rtcp_scan returns -ENOENT for a line that is
 * not an a=rtcp: attribute at all. Spans point into line. */
int sdp_conn_scan(const char *line, size_t len, struct sdp_conn_view *v);
int sdp_mline_scan(const char *line, size_t len, struct sdp_mline_view *v);
int sdp_rtcp_scan(const char *line, size_t len, struct sdp_rtcp_view *v);

/* Parses an IPv4 or IPv6 literal of len bytes; *ip6 tells which. 0 or -EINVAL. */
int sdp_addr_check(const char *p, size_t len, bool *ip6, bool *unspecified);

#endif

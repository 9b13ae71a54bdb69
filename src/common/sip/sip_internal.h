/* sip_internal: what the sip_*.c files share and the daemons never see. */
#ifndef PINHOLE_SIP_INTERNAL_H
#define PINHOLE_SIP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pinhole/sip.h"

/* ---- raw pre-parse (sip_scan.c) ---- */

/* How a header name is classified by the raw scanner. */
enum sip_hdr_kind {
    SIP_HDR_OTHER = 0,
    SIP_HDR_VIA,
    SIP_HDR_FROM,
    SIP_HDR_TO,
    SIP_HDR_CALL_ID,
    SIP_HDR_CSEQ,
    SIP_HDR_CONTENT_LENGTH,
    SIP_HDR_CONTACT,
    SIP_HDR_ROUTE,
    SIP_HDR_RECORD_ROUTE,
};

/* One header as it sits in the datagram: from the first byte of its name to
 * the end of its last continuation line (line terminator excluded). */
struct sip_raw_hdr {
    const char *start;
    size_t len;
    const char *value; /* after the colon; runs to start + len */
    enum sip_hdr_kind kind;
};

/* What the scanner learnt about a datagram that passed its hard checks. */
struct sip_scan {
    const char *buf;
    size_t len;
    bool is_request;
    const char *start_line; /* response: the status line, terminator excluded */
    size_t start_line_len;
    const char *method; /* request: method and Request-URI */
    size_t method_len;
    const char *uri;
    size_t uri_len;
    bool uri_is_sip;    /* sip: or sips: — the only URIs handed to osip */
    size_t headers_off; /* first header line */
    size_t headers_end; /* first byte after the blank line */
    size_t body_len;    /* body bytes kept: Content-Length, else the rest */
    /* A "soft" error: the message is refused, but it may still be parsed to
     * tell whether it can be answered. SIP_PARSE_OK when none. */
    enum sip_parse_error soft;
    const char *soft_reason;
};

/* Hard checks (start line, header framing, NUL bytes) and soft ones
 * (version, repeated headers, Content-Length, quoting). Returns 0 with *sc
 * filled (sc->soft may be set), or a SIP_PARSE_* code with *reason set. */
enum sip_parse_error sip_scan(struct sip_scan *sc, const char *buf, size_t len,
                              const char **reason);

/* Header iterator over [headers_off, headers_end). */
struct sip_hdr_iter {
    const char *p;
    const char *end;
};
void sip_hdr_iter_init(struct sip_hdr_iter *it, const struct sip_scan *sc);
/* 1 with *h filled, 0 at the blank line. Only call on a scanned message. */
int sip_hdr_iter_next(struct sip_hdr_iter *it, struct sip_raw_hdr *h);

/* Builds the text handed to osip (sip_sanitize.c): CRLF line ends, no
 * Content-Length (the body length is the buffer's), escaped NULs that osip
 * would truncate made harmless. *out is malloc'd. Returns 0 or -ENOMEM. */
int sip_sanitize(const struct sip_scan *sc, char **out, size_t *out_len);

/* ---- rendering (sip_render.c) ---- */

/* Renders m as osip_message_to_str would (Content-Length unpadded) into
 * buf[0..cap). Returns 0 with *len set, -ENOTSUP for what it leaves to osip
 * (authentication, Accept families, multipart, fields osip would
 * reject), -EMSGSIZE when cap is too small. */
int sip_render(const osip_message_t *m, char *buf, size_t cap, size_t *len);

/* ---- body (sip_body.c) ---- */

/* Attaches body bytes verbatim as the only body (len 0: none), keeps the
 * Content-Length field in step, and moves MIME-Version to the generic list
 * so that osip never re-renders a multipart body. 0 or -ENOMEM. */
int sip_body_attach(osip_message_t *m, const char *body, size_t len);

/* ---- helpers (sip_util.c) ---- */

/* RFC 3261 25.1 token characters. Inline: the scanner asks for every
 * byte of every header name. */
static inline bool sip_is_token_char(unsigned char c)
{
    unsigned char lower = c | 0x20;
    if ((lower >= 'a' && lower <= 'z') || (c >= '0' && c <= '9'))
        return true;
    switch (c) {
    case '-':
    case '.':
    case '!':
    case '%':
    case '*':
    case '_':
    case '+':
    case '`':
    case '\'':
    case '~':
        return true;
    default:
        return false;
    }
}
bool sip_is_token(const char *s);
/* Writes v in decimal into buf[0..cap), without a NUL. Returns the digits
 * written, 0 when they do not fit. For what runs on every datagram
 * (transaction keys, rendering), where snprintf shows in the profile. */
size_t sip_put_decimal(char *buf, size_t cap, unsigned long v);
/* Decimal digits only (leading zeros allowed), value <= max. 0 or -EINVAL. */
int sip_parse_ulong(const char *s, unsigned long max, unsigned long *out);
/* URI host and port (default 5060) as a numeric address; -EINVAL for names,
 * a bad port or a non-SIP URI, -ENOENT for a NULL uri. */
int sip_uri_addr(const osip_uri_t *u, struct addr *out);
/* Host and port text for a Via or URI: "1.2.3.4:5060", "[::1]:5060". */
int sip_addr_hostport(const struct addr *a, char *buf, size_t len);
/* Sets a SIP/SIPS URI's host and port (IPv6 kept without brackets, as osip
 * does). -EINVAL for other URIs or an unset address, -ENOMEM. */
int sip_uri_set_hostport(osip_uri_t *u, const struct addr *to);
/* A generic parameter's value (NULL for a flag or when absent); *present
 * (may be NULL) tells the two apart. */
const char *sip_param_get(const osip_list_t *params, const char *name, bool *present);
/* Sets or replaces a generic parameter; value NULL makes a flag (";lr").
 * Returns 0 or -ENOMEM. */
int sip_param_set(osip_list_t *params, const char *name, const char *value);
/* n bytes of s and a NUL in osip_malloc'd memory (osip frees it); NULL on
 * failure. */
char *sip_strndup(const char *s, size_t n);
/* Replaces a malloc'd (osip_malloc) string field with a copy of value. */
int sip_replace_str(char **field, const char *value);
/* Frees every element of a list with free_fn (a void * wrapper, so that no
 * function is called through a cast pointer). */
void sip_list_clear(osip_list_t *l, void (*free_fn)(void *));

/* ---- randomness (sip_random.c) ---- */

/* Fills buf with n lowercase hex digits and a NUL (buf holds n + 1). */
void sip_random_hex(char *buf, size_t n);

#endif

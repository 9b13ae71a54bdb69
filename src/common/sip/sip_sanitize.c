/* sip_sanitize: the text libosip2 is given, rebuilt from a scanned datagram.
 *
 * osip keeps everything as C strings, so some things are changed on the way:
 * - The body and the Content-Length headers are left out: sip_scan has
 *   validated the length, and sip_parse attaches the body bytes itself so
 *   that osip never splits (and re-renders) a multipart body.
 * - "%00" in a URI would be unescaped by osip into a NUL that cuts the user
 *   part short ("sip:null-%00-null@..." would become "null-"): it is given
 *   as "%2500", which osip unescapes to the literal text "%00". An AOR with
 *   an escaped NUL therefore stays distinct and whole (RFC 4475 3.1.1.4).
 * - An escaped NUL inside a quoted display name ("\<NUL>", RFC 4475 3.1.1.2)
 *   becomes an escaped space: a display name is cosmetic.
 * A Request-URI osip cannot parse (any scheme but sip/sips) is replaced by a
 * placeholder here and put back, opaque, by sip_parse. Lines end in CRLF. */
#include "sip_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct outbuf {
    char *p;
    size_t n, cap;
    int err;
};

static void put(struct outbuf *o, const char *s, size_t n)
{
    if (o->err)
        return;
    if (o->cap - o->n < n + 1) {
        size_t cap = o->cap * 2 + n + 1;
        char *p = realloc(o->p, cap);
        if (!p) {
            o->err = -ENOMEM;
            return;
        }
        o->p = p;
        o->cap = cap;
    }
    memcpy(o->p + o->n, s, n);
    o->n += n;
    o->p[o->n] = '\0';
}

static void putc_(struct outbuf *o, char c)
{
    put(o, &c, 1);
}

static bool is_escaped_nul(const char *p, const char *end)
{
    return end - p >= 3 && p[0] == '%' && p[1] == '0' && p[2] == '0';
}

static void put_uri(struct outbuf *o, const char *p, size_t n)
{
    const char *end = p + n;
    while (p < end) {
        if (is_escaped_nul(p, end)) {
            put(o, "%2500", 5);
            p += 3;
        } else {
            putc_(o, *p++);
        }
    }
}

static void put_start_line(struct outbuf *o, const struct sip_scan *sc)
{
    if (!sc->is_request) {
        put(o, sc->start_line, sc->start_line_len);
        put(o, "\r\n", 2);
        return;
    }
    put(o, sc->method, sc->method_len);
    putc_(o, ' ');
    if (sc->uri_is_sip)
        put_uri(o, sc->uri, sc->uri_len);
    else
        put(o, "sip:x", 5);
    /* a foreign version was noted by sip_scan; osip gets ours so that the
     * rest can still be parsed for a 505 */
    put(o, " SIP/2.0\r\n", 10);
}

static bool kind_has_uri(enum sip_hdr_kind k)
{
    return k == SIP_HDR_FROM || k == SIP_HDR_TO || k == SIP_HDR_CONTACT || k == SIP_HDR_ROUTE ||
           k == SIP_HDR_RECORD_ROUTE;
}

struct uri_state {
    bool in_quote, escape, in_angle, uri_done;
};

/* Emits one value byte of a name-addr header; returns how many it used. */
static size_t put_addr_byte(struct outbuf *o, struct uri_state *st, const char *p, const char *end)
{
    char c = *p;
    if (st->in_quote) {
        if (st->escape)
            st->escape = false;
        else if (c == '\\')
            st->escape = true;
        else if (c == '"')
            st->in_quote = false;
        putc_(o, c == '\0' ? ' ' : c);
        return 1;
    }
    if (c == '"') {
        st->in_quote = true;
    } else if (c == '<') {
        st->in_angle = true;
    } else if (c == '>') {
        st->in_angle = false;
        st->uri_done = true;
    } else if (!st->in_angle && c == ';') {
        st->uri_done = true; /* header parameters follow a bare addr-spec */
    } else if (!st->in_angle && c == ',') {
        st->uri_done = false;
    } else if ((st->in_angle || !st->uri_done) && is_escaped_nul(p, end)) {
        put(o, "%2500", 5);
        return 3;
    }
    putc_(o, c);
    return 1;
}

/* True when a value holds nothing to change: no NUL, no line break (bare
 * LF or folding) and, in a header with URIs, no '%' that could start a
 * %00. Nearly every header is plain and is copied in one piece. */
static bool is_plain(const char *p, const char *end, bool addr)
{
    for (; p < end; p++)
        if (*p == '\0' || *p == '\n' || (addr && *p == '%'))
            return false;
    return true;
}

static void put_header(struct outbuf *o, const struct sip_raw_hdr *h)
{
    const char *p = h->start, *end = h->start + h->len;
    struct uri_state st = {0};
    bool addr = kind_has_uri(h->kind);

    if (is_plain(h->value, end, addr)) {
        put(o, p, h->len);
        put(o, "\r\n", 2);
        return;
    }
    put(o, p, (size_t)(h->value - p));
    p = h->value;
    while (p < end) {
        if (*p == '\n' && p[-1] != '\r')
            putc_(o, '\r');
        if (addr) {
            p += put_addr_byte(o, &st, p, end);
        } else {
            /* Via may quote a parameter; sip_scan allowed NUL nowhere else */
            putc_(o, *p == '\0' ? ' ' : *p);
            p++;
        }
    }
    put(o, "\r\n", 2);
}

int sip_sanitize(const struct sip_scan *sc, char **out, size_t *out_len)
{
    struct outbuf o = {.cap = sc->len + sc->len / 4 + 64};
    struct sip_hdr_iter it;
    struct sip_raw_hdr h;

    *out = NULL;
    o.p = malloc(o.cap);
    if (!o.p)
        return -ENOMEM;
    put_start_line(&o, sc);
    sip_hdr_iter_init(&it, sc);
    while (sip_hdr_iter_next(&it, &h) == 1)
        if (h.kind != SIP_HDR_CONTENT_LENGTH)
            put_header(&o, &h);
    put(&o, "\r\n", 2);
    if (o.err) {
        free(o.p);
        return o.err;
    }
    *out = o.p;
    *out_len = o.n;
    return 0;
}

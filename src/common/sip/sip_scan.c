/* sip_scan: checks on the raw datagram before libosip2 sees it.
 *
 * libosip2 is liberal where RFC 3261 and RFC 4475 want a refusal: it accepts
 * "SIP/7.0", a 10-digit status code, a negative or repeated Content-Length,
 * a Content-Length larger than the datagram (it reads on), and CSeq values
 * of any size. It also stops at the first NUL, so bytes it cannot see must
 * be dealt with here. This file walks the start line and the header
 * section once, by hand, and decides what osip is given. */
#include "sip_internal.h"

#include <string.h>
#include <strings.h>

/* Content-Length digits we bother to read: anything longer is beyond
 * SIP_MAX_MESSAGE anyway. */
#define CL_MAX_DIGITS 9

enum iter_error {
    ITER_NO_END = -1,       /* no blank line before the end of the datagram */
    ITER_CONTINUATION = -2, /* a folded line with no header above it */
    ITER_BAD_NAME = -3,     /* a header line without "token:" */
};

#define HDR(n, k)                                                                                  \
    {                                                                                              \
        n, sizeof n - 1, k                                                                         \
    }
static const struct {
    const char *name;
    size_t len;
    enum sip_hdr_kind kind;
} hdr_names[] = {
    HDR("via", SIP_HDR_VIA),
    HDR("v", SIP_HDR_VIA),
    HDR("from", SIP_HDR_FROM),
    HDR("f", SIP_HDR_FROM),
    HDR("to", SIP_HDR_TO),
    HDR("t", SIP_HDR_TO),
    HDR("call-id", SIP_HDR_CALL_ID),
    HDR("i", SIP_HDR_CALL_ID),
    HDR("cseq", SIP_HDR_CSEQ),
    HDR("content-length", SIP_HDR_CONTENT_LENGTH),
    HDR("l", SIP_HDR_CONTENT_LENGTH),
    HDR("contact", SIP_HDR_CONTACT),
    HDR("m", SIP_HDR_CONTACT),
    HDR("route", SIP_HDR_ROUTE),
    HDR("record-route", SIP_HDR_RECORD_ROUTE),
};
#undef HDR

/* Every header line of every datagram comes through here twice (scan and
 * sanitize): lengths first, so most names cost no string compare. */
static enum sip_hdr_kind classify(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof hdr_names / sizeof hdr_names[0]; i++)
        if (hdr_names[i].len == len && strncasecmp(hdr_names[i].name, name, len) == 0)
            return hdr_names[i].kind;
    return SIP_HDR_OTHER;
}

static bool is_wsp(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* End of the line starting at p: *content_end excludes "\r\n" or "\n";
 * returns the first byte of the next line, NULL when no LF follows. */
static const char *line_end(const char *p, const char *end, const char **content_end)
{
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl)
        return NULL;
    *content_end = (nl > p && nl[-1] == '\r') ? nl - 1 : nl;
    return nl + 1;
}

void sip_hdr_iter_init(struct sip_hdr_iter *it, const struct sip_scan *sc)
{
    it->p = sc->buf + sc->headers_off;
    it->end = sc->buf + sc->len;
}

static int split_name(struct sip_raw_hdr *h, const char *line_stop)
{
    const char *p = h->start;
    while (p < line_stop && sip_is_token_char((unsigned char)*p))
        p++;
    size_t name_len = (size_t)(p - h->start);
    while (p < line_stop && is_wsp(*p))
        p++;
    if (name_len == 0 || p >= line_stop || *p != ':')
        return ITER_BAD_NAME;
    h->value = p + 1;
    h->kind = classify(h->start, name_len);
    return 0;
}

int sip_hdr_iter_next(struct sip_hdr_iter *it, struct sip_raw_hdr *h)
{
    const char *stop;
    const char *next = line_end(it->p, it->end, &stop);

    if (!next)
        return ITER_NO_END;
    if (stop == it->p) { /* the blank line */
        it->p = next;
        return 0;
    }
    if (is_wsp(*it->p))
        return ITER_CONTINUATION;
    h->start = it->p;
    const char *first_stop = stop;
    /* RFC 3261 7.3.1: a line starting with whitespace continues the header. */
    while (next < it->end && is_wsp(*next)) {
        next = line_end(next, it->end, &stop);
        if (!next)
            return ITER_NO_END;
    }
    h->len = (size_t)(stop - h->start);
    it->p = next;
    return split_name(h, first_stop) == 0 ? 1 : ITER_BAD_NAME;
}

/* ---- start line ---- */

/* "SIP/" 1*DIGIT "." 1*DIGIT; *is_2_0 when it is SIP/2.0. */
static bool parse_version(const char *p, size_t n, bool *is_2_0)
{
    size_t i = 4, major, minor;
    if (n < 7 || strncasecmp(p, "SIP/", 4) != 0)
        return false;
    for (major = i; i < n && is_digit(p[i]); i++)
        ;
    if (i == major || i >= n || p[i] != '.')
        return false;
    for (minor = ++i; i < n && is_digit(p[i]); i++)
        ;
    if (i == minor || i != n)
        return false;
    *is_2_0 = n == 7 && memcmp(p + 4, "2.0", 3) == 0;
    return true;
}

/* RFC 3986 scheme ":" then URI characters: no LWS, no CTL, none of <>". */
static bool uri_text_ok(const char *p, size_t n, bool *is_sip)
{
    size_t i = 0;
    if (n == 0 || !((p[0] | 0x20) >= 'a' && (p[0] | 0x20) <= 'z'))
        return false;
    while (i < n && p[i] != ':') {
        char c = p[i];
        if (!((c | 0x20) >= 'a' && (c | 0x20) <= 'z') && !is_digit(c) && c != '+' && c != '-' &&
            c != '.')
            return false;
        i++;
    }
    if (i >= n)
        return false;
    *is_sip =
        (i == 3 && strncasecmp(p, "sip", 3) == 0) || (i == 4 && strncasecmp(p, "sips", 4) == 0);
    for (i++; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>' || c == '"')
            return false;
    }
    return true;
}

/* RFC 3261 7.1: Method SP Request-URI SP SIP-Version CRLF, single spaces. */
static enum sip_parse_error scan_request_line(struct sip_scan *sc, const char *p, size_t n,
                                              const char **reason)
{
    const char *sp1 = memchr(p, ' ', n);
    bool v20;

    *reason = "bad request line";
    if (!sp1 || sp1 == p)
        return SIP_PARSE_MALFORMED;
    for (const char *q = p; q < sp1; q++)
        if (!sip_is_token_char((unsigned char)*q))
            return SIP_PARSE_MALFORMED;
    const char *uri = sp1 + 1;
    const char *sp2 = memchr(uri, ' ', (size_t)(p + n - uri));
    if (!sp2 || !uri_text_ok(uri, (size_t)(sp2 - uri), &sc->uri_is_sip))
        return SIP_PARSE_MALFORMED;
    if (!parse_version(sp2 + 1, (size_t)(p + n - sp2 - 1), &v20))
        return SIP_PARSE_MALFORMED;
    sc->is_request = true;
    sc->method = p;
    sc->method_len = (size_t)(sp1 - p);
    sc->uri = uri;
    sc->uri_len = (size_t)(sp2 - uri);
    if (!v20) {
        sc->soft = SIP_PARSE_VERSION;
        sc->soft_reason = "unsupported SIP version";
    }
    return SIP_PARSE_OK;
}

/* RFC 3261 7.2: SIP-Version SP Status-Code SP Reason-Phrase CRLF. */
static enum sip_parse_error scan_status_line(struct sip_scan *sc, const char *p, size_t n,
                                             const char **reason)
{
    const char *sp1 = memchr(p, ' ', n);
    bool v20;

    *reason = "bad status line";
    if (!sp1 || !parse_version(p, (size_t)(sp1 - p), &v20))
        return SIP_PARSE_MALFORMED;
    const char *code = sp1 + 1;
    if (p + n - code < 4 || !is_digit(code[0]) || !is_digit(code[1]) || !is_digit(code[2]) ||
        code[3] != ' ' || code[0] < '1' || code[0] > '6')
        return SIP_PARSE_MALFORMED;
    for (const char *q = code + 4; q < p + n; q++)
        if ((unsigned char)*q < 0x20 && *q != '\t')
            return SIP_PARSE_MALFORMED;
    sc->is_request = false;
    sc->start_line = p;
    sc->start_line_len = n;
    if (!v20) {
        sc->soft = SIP_PARSE_VERSION;
        sc->soft_reason = "unsupported SIP version";
    }
    return SIP_PARSE_OK;
}

static enum sip_parse_error scan_start_line(struct sip_scan *sc, const char **reason)
{
    const char *p = sc->buf, *end = sc->buf + sc->len, *stop;

    /* RFC 3261 7.5: CRLFs before the start line are ignored. */
    while (p < end && (*p == '\r' || *p == '\n'))
        p++;
    const char *next = line_end(p, end, &stop);
    *reason = "no start line";
    if (p == end || !next || stop == p)
        return SIP_PARSE_MALFORMED;
    sc->headers_off = (size_t)(next - sc->buf);
    if (stop - p >= 4 && strncasecmp(p, "SIP/", 4) == 0)
        return scan_status_line(sc, p, (size_t)(stop - p), reason);
    return scan_request_line(sc, p, (size_t)(stop - p), reason);
}

/* ---- header values ---- */

static void soft_fail(struct sip_scan *sc, enum sip_parse_error e, const char *reason)
{
    if (sc->soft == SIP_PARSE_OK) {
        sc->soft = e;
        sc->soft_reason = reason;
    }
}

/* Headers made of name-addrs or Via values: quotes must balance, and an
 * escaped NUL inside a quoted string is the only NUL allowed. */
static bool kind_has_quotes(enum sip_hdr_kind k)
{
    return k == SIP_HDR_VIA || k == SIP_HDR_FROM || k == SIP_HDR_TO || k == SIP_HDR_CONTACT ||
           k == SIP_HDR_ROUTE || k == SIP_HDR_RECORD_ROUTE;
}

/* RFC 4475 3.1.2.1 (badinv01): ";;,;" leaves an empty parameter or an empty
 * list element, which the grammar of Via and Contact does not allow. */
static bool kind_is_param_list(enum sip_hdr_kind k)
{
    return k == SIP_HDR_VIA || k == SIP_HDR_CONTACT;
}

enum byte_verdict { BYTE_OK, BYTE_SOFT, BYTE_HARD };

struct value_state {
    bool in_quote;
    bool want_item; /* a ';' or ',' was seen and nothing after it yet */
    int angle;
    unsigned params;   /* ';' in the current list element (URI and header parameters) */
    unsigned elements; /* ',' at the top level: list elements after the first */
};

/* libosip2 appends every parameter and list element by walking its list
 * (osip_list_add): n of them cost n^2/2 steps, 350 ms of CPU for 15,000
 * ";p=1" in one To. The bounds below are checked before osip sees a byte
 * (design.md "No open relay, bounded cost per datagram"). */
static enum byte_verdict count_separator(struct value_state *st, char c, enum sip_hdr_kind kind,
                                         const char **why)
{
    if (c == ';' && ++st->params > SIP_MAX_PARAMS) {
        *why = "over 64 parameters in a header value";
        return BYTE_HARD;
    }
    if (c == ',' && st->angle == 0 && kind != SIP_HDR_FROM && kind != SIP_HDR_TO) {
        st->elements++;
        st->params = 0;
    }
    return BYTE_OK;
}

/* Judges the byte at v[*i] (may step over a quoted-pair). */
static enum byte_verdict check_value_byte(struct value_state *st, const char *v, size_t n,
                                          size_t *i, enum sip_hdr_kind kind, const char **why)
{
    char c = v[*i];

    if (c == '\r' && (*i + 1 >= n || v[*i + 1] != '\n')) {
        *why = "bare CR in a header";
        return BYTE_HARD;
    }
    /* an escaped NUL is stepped over below, so any NUL seen here is bare */
    if (c == '\0') {
        *why = "NUL byte in a header";
        return BYTE_HARD;
    }
    if (st->in_quote) {
        if (c == '\\' && *i + 1 < n)
            (*i)++; /* quoted-pair: any octet but CR/LF, NUL included */
        else if (c == '"')
            st->in_quote = false;
        return BYTE_OK;
    }
    if (!kind_has_quotes(kind))
        return BYTE_OK;
    if ((c == ';' || c == ',') && count_separator(st, c, kind, why) == BYTE_HARD)
        return BYTE_HARD;
    if (c == '"') {
        st->in_quote = true;
    } else if (c == '<') {
        st->angle++;
    } else if (c == '>') {
        st->angle--;
    } else if (st->angle == 0 && kind_is_param_list(kind) && (c == ';' || c == ',')) {
        *why = "empty parameter or list element";
        if (st->want_item)
            return BYTE_SOFT;
        st->want_item = true;
        return BYTE_OK;
    }
    if (!is_wsp(c) && c != '\r' && c != '\n')
        st->want_item = false;
    return BYTE_OK;
}

static size_t count_byte(const char *v, size_t n, char c)
{
    size_t k = 0;
    for (const char *p = memchr(v, c, n); p; p = memchr(p + 1, c, n - (size_t)(p + 1 - v)))
        k++;
    return k;
}

/* A header without quoting rules (most of them, by count of bytes): only a
 * NUL or a bare CR matters, so look for those two bytes alone; and the
 * bounds: osip splits some of them on ',' (Allow, Accept...) and parses
 * parameters of others (Content-Type, Call-Info...). */
static enum sip_parse_error check_plain_value(const char *v, size_t n, unsigned *elements,
                                              const char **reason)
{
    if (count_byte(v, n, ';') > SIP_MAX_PARAMS) {
        *reason = "over 64 parameters in a header value";
        return SIP_PARSE_MALFORMED;
    }
    *elements = (unsigned)count_byte(v, n, ',');
    if (memchr(v, '\0', n)) {
        *reason = "NUL byte in a header";
        return SIP_PARSE_MALFORMED;
    }
    for (const char *cr = memchr(v, '\r', n); cr;
         cr = memchr(cr + 1, '\r', n - (size_t)(cr + 1 - v))) {
        if (cr + 1 >= v + n || cr[1] != '\n') {
            *reason = "bare CR in a header";
            return SIP_PARSE_MALFORMED;
        }
    }
    return SIP_PARSE_OK;
}

/* A NUL in the wrong place or a bare CR cannot be handed to osip at all
 * (hard error). Quoting and list syntax errors are soft: the message is
 * refused but may still be parsed far enough to be answered. */
static enum sip_parse_error check_value(struct sip_scan *sc, const struct sip_raw_hdr *h,
                                        unsigned *elements, const char **reason)
{
    const char *v = h->value;
    size_t n = (size_t)(h->start + h->len - v);
    struct value_state st = {.want_item = kind_is_param_list(h->kind)};
    const char *why = NULL;
    bool soft = false;

    if (!kind_has_quotes(h->kind))
        return check_plain_value(v, n, elements, reason);
    for (size_t i = 0; i < n; i++) {
        enum byte_verdict bv = check_value_byte(&st, v, n, &i, h->kind, &why);
        if (bv == BYTE_HARD) {
            *reason = why;
            return SIP_PARSE_MALFORMED;
        }
        if (bv == BYTE_SOFT && !soft) {
            soft_fail(sc, SIP_PARSE_MALFORMED, why);
            soft = true;
        }
    }
    *elements = st.elements;
    if (st.in_quote)
        soft_fail(sc, SIP_PARSE_MALFORMED, "unterminated quoted string");
    else if (st.want_item)
        soft_fail(sc, SIP_PARSE_MALFORMED, "empty parameter or list element");
    return SIP_PARSE_OK;
}

/* ---- Content-Length and counts ---- */

struct hdr_counts {
    unsigned from, to, call_id, cseq, content_length;
    long cl; /* -1: absent or unusable */
};

static void scan_content_length(struct sip_scan *sc, struct hdr_counts *cnt,
                                const struct sip_raw_hdr *h)
{
    const char *p = h->value, *end = h->start + h->len;
    long v = 0;
    size_t digits = 0;

    if (++cnt->content_length > 1) {
        soft_fail(sc, SIP_PARSE_BAD_LENGTH, "repeated Content-Length");
        cnt->cl = -1;
        return;
    }
    while (p < end && (is_wsp(*p) || *p == '\r' || *p == '\n'))
        p++;
    if (p < end && *p == '-') {
        soft_fail(sc, SIP_PARSE_BAD_LENGTH, "negative Content-Length");
        return;
    }
    for (; p < end && is_digit(*p); p++, digits++)
        if (digits < CL_MAX_DIGITS)
            v = v * 10 + (*p - '0');
    while (p < end && (is_wsp(*p) || *p == '\r' || *p == '\n'))
        p++;
    if (digits == 0 || p != end)
        soft_fail(sc, SIP_PARSE_BAD_LENGTH, "bad Content-Length");
    else if (digits > CL_MAX_DIGITS)
        soft_fail(sc, SIP_PARSE_BAD_LENGTH, "Content-Length beyond the datagram");
    else
        cnt->cl = v;
}

static void count_header(struct sip_scan *sc, struct hdr_counts *cnt, const struct sip_raw_hdr *h)
{
    unsigned *c = NULL;

    switch (h->kind) {
    case SIP_HDR_FROM:
        c = &cnt->from;
        break;
    case SIP_HDR_TO:
        c = &cnt->to;
        break;
    case SIP_HDR_CALL_ID:
        c = &cnt->call_id;
        break;
    case SIP_HDR_CSEQ:
        c = &cnt->cseq;
        break;
    case SIP_HDR_CONTENT_LENGTH:
        scan_content_length(sc, cnt, h);
        return;
    default:
        return;
    }
    /* RFC 4475 3.3.8 (multi01): single-value headers given twice. */
    if (++*c > 1)
        soft_fail(sc, SIP_PARSE_MISSING, "multiple values in a single-value header");
}

static enum sip_parse_error iter_error(int rc, const char **reason)
{
    if (rc == ITER_NO_END)
        *reason = "no blank line after the headers";
    else if (rc == ITER_CONTINUATION)
        *reason = "folded line without a header";
    else
        *reason = "bad header name";
    return SIP_PARSE_MALFORMED;
}

static enum sip_parse_error scan_headers(struct sip_scan *sc, const char **reason)
{
    struct sip_hdr_iter it;
    struct sip_raw_hdr h;
    struct hdr_counts cnt = {.cl = -1};
    size_t values = 0, vias = 0;
    int rc;

    sip_hdr_iter_init(&it, sc);
    while ((rc = sip_hdr_iter_next(&it, &h)) == 1) {
        unsigned more = 0;
        enum sip_parse_error e = check_value(sc, &h, &more, reason);
        if (e != SIP_PARSE_OK)
            return e;
        values += 1 + more;
        if (h.kind == SIP_HDR_VIA)
            vias += 1 + more;
        if (values > SIP_MAX_HEADERS) {
            *reason = "over 256 header values";
            return SIP_PARSE_MALFORMED;
        }
        if (vias > SIP_MAX_VIAS) {
            *reason = "over 70 Via values";
            return SIP_PARSE_MALFORMED;
        }
        count_header(sc, &cnt, &h);
    }
    if (rc < 0)
        return iter_error(rc, reason);
    sc->headers_end = (size_t)(it.p - sc->buf);
    size_t avail = sc->len - sc->headers_end;
    sc->body_len = avail;
    if (cnt.cl >= 0 && (size_t)cnt.cl > avail)
        soft_fail(sc, SIP_PARSE_BAD_LENGTH, "Content-Length beyond the datagram");
    else if (cnt.cl >= 0)
        sc->body_len = (size_t)cnt.cl; /* RFC 3261 18.3: the rest is ignored */
    if (sc->soft == SIP_PARSE_BAD_LENGTH || (cnt.content_length && cnt.cl < 0))
        sc->body_len = 0;
    return SIP_PARSE_OK;
}

enum sip_parse_error sip_scan(struct sip_scan *sc, const char *buf, size_t len, const char **reason)
{
    memset(sc, 0, sizeof *sc);
    sc->buf = buf;
    sc->len = len;
    enum sip_parse_error e = scan_start_line(sc, reason);
    if (e != SIP_PARSE_OK)
        return e;
    if (sc->uri && count_byte(sc->uri, sc->uri_len, ';') > SIP_MAX_PARAMS) {
        *reason = "over 64 parameters in the Request-URI";
        return SIP_PARSE_MALFORMED;
    }
    return scan_headers(sc, reason);
}

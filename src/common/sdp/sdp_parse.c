/* sdp_parse: splits an SDP body into lines and checks the few lines we will
 * rewrite (c=, m=, a=rtcp) against RFC 4566 / RFC 3605. Anything else only
 * has to look like "<letter>=...": it is carried through, not understood. */
#include "sdp_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A body longer than this cannot fit the line limits: refuse it before
 * scanning it at all. */
#define SDP_MAX_BODY ((size_t)SDP_MAX_LINES * (SDP_MAX_LINE + 2))

static bool span_is(struct sdp_span t, const char *lit)
{
    size_t n = strlen(lit);
    return t.len == n && memcmp(t.p, lit, n) == 0;
}

/* The next run of non-space bytes from *p; false when only spaces are left.
 * Runs of spaces separate fields: RFC 4566 asks for one, some phones send
 * more or a trailing one, and neither changes the meaning. */
static bool next_token(const char **p, const char *end, struct sdp_span *tok)
{
    const char *q = *p;

    while (q < end && *q == ' ')
        q++;
    if (q == end)
        return false;
    tok->p = q;
    while (q < end && *q != ' ')
        q++;
    tok->len = (size_t)(q - tok->p);
    *p = q;
    return true;
}

static bool all_digits(const char *p, size_t len, size_t max_digits)
{
    if (len == 0 || len > max_digits)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
    }
    return true;
}

static int parse_port(struct sdp_span t, uint16_t *out)
{
    unsigned v = 0;

    if (!all_digits(t.p, t.len, 5))
        return -EINVAL;
    for (size_t i = 0; i < t.len; i++)
        v = v * 10 + (unsigned)(t.p[i] - '0');
    if (v > 65535)
        return -EINVAL;
    *out = (uint16_t)v;
    return 0;
}

/* Media type and proto are copied into sdp_media_info: printable ASCII only,
 * and short enough for its fields. */
static bool printable_token(struct sdp_span t, size_t max_len)
{
    if (t.len == 0 || t.len > max_len)
        return false;
    for (size_t i = 0; i < t.len; i++) {
        if (t.p[i] < 0x21 || t.p[i] > 0x7e)
            return false;
    }
    return true;
}

int sdp_addr_check(const char *p, size_t len, bool *ip6, bool *unspecified)
{
    char buf[SDP_ADDR_MAX + 1];
    unsigned char bin[16];
    size_t n;

    if (len == 0 || len > SDP_ADDR_MAX)
        return -EINVAL;
    memcpy(buf, p, len);
    buf[len] = '\0';
    if (inet_pton(AF_INET, buf, bin) == 1) {
        *ip6 = false;
        n = 4;
    } else if (inet_pton(AF_INET6, buf, bin) == 1) {
        *ip6 = true;
        n = 16;
    } else {
        return -EINVAL;
    }
    *unspecified = true;
    for (size_t i = 0; i < n; i++) {
        if (bin[i] != 0)
            *unspecified = false;
    }
    return 0;
}

/* RFC 4566 §5.7: IPv4 multicast carries "/ttl[/count]", IPv6 "/count". */
static int check_conn_suffix(struct sdp_span sfx, bool ip6)
{
    size_t groups = 0;
    const char *p = sfx.p, *end = sfx.p + sfx.len;

    while (p < end) {
        const char *q = p + 1;
        while (q < end && *q != '/')
            q++;
        if (*p != '/' || !all_digits(p + 1, (size_t)(q - p - 1), 5))
            return -EINVAL;
        groups++;
        p = q;
    }
    return groups <= (ip6 ? 1u : 2u) ? 0 : -EINVAL;
}

int sdp_conn_scan(const char *line, size_t len, struct sdp_conn_view *v)
{
    const char *p = line + 2, *end = line + len;
    struct sdp_span net, type, addr, extra;
    bool ip6, unspec;
    const char *slash;

    if (len < 2 || memcmp(line, "c=", 2) != 0)
        return -EINVAL;
    if (!next_token(&p, end, &net) || !span_is(net, "IN") || !next_token(&p, end, &type) ||
        !next_token(&p, end, &addr) || next_token(&p, end, &extra))
        return -EINVAL;
    if (span_is(type, "IP4"))
        v->ip6 = false;
    else if (span_is(type, "IP6"))
        v->ip6 = true;
    else
        return -EINVAL;
    slash = memchr(addr.p, '/', addr.len);
    v->addr.p = addr.p;
    v->addr.len = slash ? (size_t)(slash - addr.p) : addr.len;
    v->suffix.p = addr.p + v->addr.len;
    v->suffix.len = addr.len - v->addr.len;
    /* Names are refused: resolving them would block the event loop. */
    if (sdp_addr_check(v->addr.p, v->addr.len, &ip6, &unspec) != 0 || ip6 != v->ip6)
        return -EINVAL;
    return check_conn_suffix(v->suffix, v->ip6);
}

int sdp_mline_scan(const char *line, size_t len, struct sdp_mline_view *v)
{
    const char *p = line + 2, *end = line + len;
    struct sdp_span port, fmt;
    const char *slash;

    if (len < 2 || memcmp(line, "m=", 2) != 0)
        return -EINVAL;
    if (!next_token(&p, end, &v->media) || !next_token(&p, end, &port) ||
        !next_token(&p, end, &v->proto) || !next_token(&p, end, &fmt))
        return -EINVAL;
    if (!printable_token(v->media, sizeof(((struct sdp_media_info *)0)->type) - 1) ||
        !printable_token(v->proto, sizeof(((struct sdp_media_info *)0)->proto) - 1))
        return -EINVAL;
    /* "<port>/<number of ports>" (RFC 4566 §5.14): the count is kept. */
    slash = memchr(port.p, '/', port.len);
    v->port.p = port.p;
    v->port.len = slash ? (size_t)(slash - port.p) : port.len;
    if (slash && !all_digits(slash + 1, port.len - v->port.len - 1, 5))
        return -EINVAL;
    return parse_port(v->port, &v->port_value);
}

int sdp_rtcp_scan(const char *line, size_t len, struct sdp_rtcp_view *v)
{
    static const char prefix[] = "a=rtcp:";
    const size_t plen = sizeof prefix - 1;
    const char *p = line + plen, *end = line + len;
    struct sdp_span net, type, extra;
    bool ip6, unspec;

    if (len < plen || memcmp(line, prefix, plen) != 0)
        return -ENOENT;
    if (!next_token(&p, end, &v->port) || v->port.p != line + plen ||
        parse_port(v->port, &v->port_value) != 0)
        return -EINVAL;
    v->has_addr = next_token(&p, end, &net);
    if (!v->has_addr)
        return 0;
    if (!span_is(net, "IN") || !next_token(&p, end, &type) || !next_token(&p, end, &v->addr) ||
        next_token(&p, end, &extra))
        return -EINVAL;
    if (!span_is(type, "IP4") && !span_is(type, "IP6"))
        return -EINVAL;
    if (sdp_addr_check(v->addr.p, v->addr.len, &ip6, &unspec) != 0 || ip6 != span_is(type, "IP6"))
        return -EINVAL;
    return 0;
}

/* Walks the body line by line: counts lines, and fills lines[] when it is
 * not NULL. Refuses a line over SDP_MAX_LINE, a CR not followed by LF, and
 * more than SDP_MAX_LINES lines. */
static int walk_lines(const char *body, size_t len, struct sdp_line *lines, size_t *count)
{
    size_t n = 0, pos = 0;

    while (pos < len) {
        const char *start = body + pos;
        const char *nl = memchr(start, '\n', len - pos);
        size_t span = nl ? (size_t)(nl - start) : len - pos;
        uint8_t eol = nl ? 1 : 0;

        if (nl && nl > start && nl[-1] == '\r') {
            span--;
            eol = 2;
        }
        if (span > SDP_MAX_LINE || memchr(start, '\r', span) || n == SDP_MAX_LINES)
            return -EINVAL;
        if (lines) {
            lines[n].off = pos;
            lines[n].len = span;
            lines[n].eol_len = eol;
        }
        n++;
        pos += span + eol;
    }
    *count = n;
    return 0;
}

static int check_mline(struct sdp *s, size_t i, const char *text, size_t len)
{
    struct sdp_mline_view mv;

    if (s->nmedia == SDP_MAX_MEDIA || sdp_mline_scan(text, len, &mv) != 0)
        return -EINVAL;
    if (s->nmedia == 0)
        s->session_end = i;
    else
        s->media[s->nmedia - 1].end = i;
    s->media[s->nmedia].mline = i;
    s->media[s->nmedia].end = s->nlines;
    s->media[s->nmedia].orig_port = mv.port_value;
    s->nmedia++;
    return 0;
}

/* Checks one line; *seen collects the session-level types met so far. */
static int check_line(struct sdp *s, size_t i, unsigned *seen)
{
    size_t len;
    const char *text = sdp_line_text(s, i, &len);
    char type = len >= 2 ? text[0] : '\0';
    struct sdp_conn_view cv;
    struct sdp_rtcp_view rv;
    int rc;

    if (len < 2 || text[1] != '=' ||
        !((type >= 'a' && type <= 'z') || (type >= 'A' && type <= 'Z')))
        return -EINVAL;
    if (s->nmedia == 0 && type >= 'a' && type <= 'z')
        *seen |= 1u << (type - 'a');
    switch (type) {
    case 'm':
        return check_mline(s, i, text, len);
    case 'c':
        return sdp_conn_scan(text, len, &cv);
    case 'a':
        if (s->nmedia == 0)
            return 0;
        rc = sdp_rtcp_scan(text, len, &rv);
        return rc == -ENOENT ? 0 : rc;
    default:
        return 0;
    }
}

/* RFC 4566 §5: "v=0" first, and o=, s=, t= in the session section. */
static int check_lines(struct sdp *s)
{
    const unsigned required = 1u << ('o' - 'a') | 1u << ('s' - 'a') | 1u << ('t' - 'a');
    unsigned seen = 0;
    size_t len;
    const char *first = sdp_line_text(s, 0, &len);

    if (len != 3 || memcmp(first, "v=0", 3) != 0)
        return -EINVAL;
    s->session_end = s->nlines;
    /* Some phones end the body with an extra CRLF: trailing empty lines are
     * tolerated (and kept), an empty line anywhere else is not. */
    size_t end = s->nlines;
    while (end > 1 && (sdp_line_text(s, end - 1, &len), len == 0))
        end--;
    for (size_t i = 1; i < end; i++) {
        int rc = check_line(s, i, &seen);
        if (rc != 0)
            return rc;
    }
    return (seen & required) == required ? 0 : -EINVAL;
}

int sdp_parse(struct sdp **out, const char *body, size_t len)
{
    struct sdp *s = NULL;
    size_t nlines = 0;
    int rc;

    if (!out)
        return -EINVAL;
    *out = NULL;
    if (!body || len == 0 || len > SDP_MAX_BODY || memchr(body, '\0', len))
        return -EINVAL;
    rc = walk_lines(body, len, NULL, &nlines);
    if (rc != 0)
        return rc;
    s = calloc(1, sizeof *s + nlines * sizeof s->lines[0] + len);
    if (!s)
        return -ENOMEM;
    s->nlines = nlines;
    s->body = (char *)&s->lines[nlines];
    s->body_len = len;
    memcpy(s->body, body, len);
    rc = walk_lines(s->body, len, s->lines, &nlines);
    if (rc == 0)
        rc = check_lines(s);
    if (rc != 0)
        goto out;
    *out = s;
    s = NULL;
out:
    free(s); /* nothing rewritten yet: no line owns memory */
    return rc;
}

/* sdp_rewrite: points an SDP at a relay (fig. 4a step 148, fig. 8b). Only
 * the bytes that name the address or the port change; a rewritten line keeps
 * its line ending and everything else keeps its bytes. */
#include "sdp_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* RFC 8839 §5 / RFC 8445: the attributes that only mean something to an ICE
 * agent. Once the media goes through the relay, candidates naming the
 * phone's private and reflexive addresses would only mislead the far end. */
static const char *const ice_attrs[] = {
    "candidate",   "remote-candidates", "ice-ufrag",    "ice-pwd",
    "ice-options", "ice-lite",          "ice-mismatch", "end-of-candidates",
};

/* Line i becomes text[0, off) + ins + text[off + cut, len). */
static int replace_span(struct sdp *s, size_t i, size_t off, size_t cut, const char *ins,
                        size_t ins_len)
{
    size_t len;
    const char *text = sdp_line_text(s, i, &len);
    size_t n = len - cut + ins_len;
    char *buf = malloc(n + 1);

    if (!buf)
        return -ENOMEM;
    memcpy(buf, text, off);
    memcpy(buf + off, ins, ins_len);
    memcpy(buf + off + ins_len, text + off + cut, len - off - cut);
    buf[n] = '\0';
    /* Only now: text may point into the replacement being dropped. */
    free(s->lines[i].repl);
    s->lines[i].repl = buf;
    s->lines[i].repl_len = n;
    return 0;
}

static int replace_line(struct sdp *s, size_t i, const char *text, size_t len)
{
    size_t old_len;

    sdp_line_text(s, i, &old_len);
    return replace_span(s, i, 0, old_len, text, len);
}

static int check_addr(const char *addr, bool *ip6)
{
    bool unspec;

    return sdp_addr_check(addr, strnlen(addr, SDP_ADDR_MAX + 1), ip6, &unspec);
}

static int rewrite_conn(struct sdp *s, size_t i, const char *conn, size_t conn_len)
{
    struct sdp_conn_view cv;
    bool ip6, hold;
    size_t len;
    const char *text = sdp_line_text(s, i, &len);

    if (s->lines[i].removed || len < 2 || memcmp(text, "c=", 2) != 0)
        return 0;
    if (sdp_conn_scan(text, len, &cv) != 0 ||
        sdp_addr_check(cv.addr.p, cv.addr.len, &ip6, &hold) != 0)
        return -EINVAL;
    /* RFC 3264 §8.4: a c= of 0.0.0.0 / :: puts the stream on hold. */
    if (hold || (len == conn_len && memcmp(text, conn, len) == 0))
        return 0;
    return replace_line(s, i, conn, conn_len);
}

int sdp_set_conn(struct sdp *s, const char *addr)
{
    char conn[sizeof "c=IN IP6 " + SDP_ADDR_MAX];
    bool ip6;
    int n, rc = 0;

    if (!s || !addr || check_addr(addr, &ip6) != 0)
        return -EINVAL;
    n = snprintf(conn, sizeof conn, "c=IN %s %s", ip6 ? "IP6" : "IP4", addr);
    if (n < 0 || (size_t)n >= sizeof conn)
        return -EINVAL;
    for (size_t i = 0; i < s->nlines && rc == 0; i++)
        rc = rewrite_conn(s, i, conn, (size_t)n);
    return rc;
}

static int rewrite_mline_port(struct sdp *s, size_t i, uint16_t port)
{
    struct sdp_mline_view mv;
    char digits[8];
    size_t len;
    const char *text = sdp_line_text(s, i, &len);
    int n = snprintf(digits, sizeof digits, "%u", (unsigned)port);

    if (sdp_mline_scan(text, len, &mv) != 0)
        return -EINVAL;
    return replace_span(s, i, (size_t)(mv.port.p - text), mv.port.len, digits, (size_t)n);
}

/* RFC 3605: "a=rtcp:<port>[ IN IP4|IP6 <addr>]". */
static int rewrite_rtcp(struct sdp *s, size_t i, unsigned port, const char *addr, bool ip6)
{
    struct sdp_rtcp_view rv;
    char buf[sizeof "a=rtcp:65535 IN IP6 " + SDP_ADDR_MAX];
    size_t len;
    const char *text = sdp_line_text(s, i, &len);
    int rc = sdp_rtcp_scan(text, len, &rv);
    int n;

    if (s->lines[i].removed || rc == -ENOENT)
        return 0;
    if (rc != 0)
        return rc;
    if (rv.has_addr && addr) {
        n = snprintf(buf, sizeof buf, "a=rtcp:%u IN %s %s", port, ip6 ? "IP6" : "IP4", addr);
        if (n < 0 || (size_t)n >= sizeof buf)
            return -EINVAL;
        return replace_line(s, i, buf, (size_t)n);
    }
    n = snprintf(buf, sizeof buf, "%u", port);
    return replace_span(s, i, (size_t)(rv.port.p - text), rv.port.len, buf, (size_t)n);
}

/* Would setting media `index` to `port` push its RTCP port past 65535? */
static bool rtcp_overflows(const struct sdp *s, size_t index, uint16_t port)
{
    return s->media[index].orig_port != 0 && port == UINT16_MAX && sdp_media_has_rtcp(s, index);
}

int sdp_set_media_port(struct sdp *s, size_t index, uint16_t port, const char *rtcp_addr)
{
    const struct sdp_media *m;
    bool ip6 = false;
    int rc;

    if (!s || (rtcp_addr && check_addr(rtcp_addr, &ip6) != 0))
        return -EINVAL;
    if (index >= s->nmedia)
        return -ENOENT;
    m = &s->media[index];
    /* RFC 3264 §8.2: a stream offered with port 0 is disabled and stays so. */
    if (m->orig_port == 0)
        return 0;
    /* RTCP goes on port+1 (RFC 3550 §11); refuse before changing anything. */
    if (rtcp_overflows(s, index, port))
        return -EINVAL;
    rc = rewrite_mline_port(s, m->mline, port);
    /* A caller disabling the stream (port 0) leaves a=rtcp as it was. */
    for (size_t i = m->mline + 1; rc == 0 && port != 0 && i < m->end; i++)
        rc = rewrite_rtcp(s, i, (unsigned)port + 1, rtcp_addr, ip6);
    return rc;
}

static bool is_ice_line(const char *text, size_t len)
{
    const char *name = text + 2, *colon;
    size_t name_len;

    if (len < 2 || memcmp(text, "a=", 2) != 0)
        return false;
    colon = memchr(name, ':', len - 2);
    name_len = colon ? (size_t)(colon - name) : len - 2;
    for (size_t k = 0; k < sizeof ice_attrs / sizeof ice_attrs[0]; k++) {
        if (strlen(ice_attrs[k]) == name_len && memcmp(ice_attrs[k], name, name_len) == 0)
            return true;
    }
    return false;
}

void sdp_strip_ice(struct sdp *s)
{
    size_t len;

    if (!s)
        return;
    for (size_t i = 0; i < s->nlines; i++) {
        const char *text = sdp_line_text(s, i, &len);
        if (is_ice_line(text, len))
            s->lines[i].removed = true;
    }
}

int sdp_apply_relay(struct sdp *s, const char *addr, const uint16_t *ports, size_t nports)
{
    size_t n;
    bool ip6;
    int rc;

    if (!s || !addr || (nports > 0 && !ports) || check_addr(addr, &ip6) != 0)
        return -EINVAL;
    n = nports < s->nmedia ? nports : s->nmedia;
    /* Every check first, so a refused call leaves the SDP as it was; after
     * this only -ENOMEM can stop it half way. */
    for (size_t i = 0; i < n; i++) {
        if (rtcp_overflows(s, i, ports[i]))
            return -EINVAL;
    }
    rc = sdp_set_conn(s, addr);
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = sdp_set_media_port(s, i, ports[i], addr);
    if (rc == 0)
        sdp_strip_ice(s);
    return rc;
}

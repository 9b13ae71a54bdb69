/* sdp: reading a parsed SDP and writing it back out. Parsing lives in
 * sdp_parse.c, rewriting in sdp_rewrite.c; all three share sdp_internal.h. */
#include "sdp_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void sdp_free(struct sdp *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nlines; i++)
        free(s->lines[i].repl);
    free(s);
}

const char *sdp_line_text(const struct sdp *s, size_t i, size_t *len)
{
    const struct sdp_line *l = &s->lines[i];

    if (l->repl) {
        *len = l->repl_len;
        return l->repl;
    }
    *len = l->len;
    return s->body + l->off;
}

/* A live (not stripped) line of the given type, e.g. 'c'. */
static bool line_is(const struct sdp *s, size_t i, char type)
{
    size_t len;
    const char *text = sdp_line_text(s, i, &len);

    return !s->lines[i].removed && len >= 2 && text[0] == type && text[1] == '=';
}

bool sdp_media_has_rtcp(const struct sdp *s, size_t index)
{
    const struct sdp_media *m = &s->media[index];
    struct sdp_rtcp_view rv;
    size_t len;

    for (size_t i = m->mline + 1; i < m->end; i++) {
        const char *text = sdp_line_text(s, i, &len);
        if (!s->lines[i].removed && sdp_rtcp_scan(text, len, &rv) == 0)
            return true;
    }
    return false;
}

static int copy_span(char *buf, size_t size, const char *p, size_t len)
{
    if (len >= size)
        return -ENOSPC;
    memcpy(buf, p, len);
    buf[len] = '\0';
    return 0;
}

/* The address of the first c= in lines [from, to) into buf; "" if none. */
static int first_conn(const struct sdp *s, size_t from, size_t to, char *buf, size_t size,
                      bool *found)
{
    struct sdp_conn_view cv;
    size_t len;

    *found = false;
    buf[0] = '\0';
    for (size_t i = from; i < to; i++) {
        const char *text = sdp_line_text(s, i, &len);
        if (!line_is(s, i, 'c') || sdp_conn_scan(text, len, &cv) != 0)
            continue;
        *found = true;
        return copy_span(buf, size, cv.addr.p, cv.addr.len);
    }
    return 0;
}

size_t sdp_media_count(const struct sdp *s)
{
    return s ? s->nmedia : 0;
}

int sdp_media_addr(const struct sdp_media_info *mi, struct addr *out)
{
    if (!mi->conn[0] || strcmp(mi->conn, "0.0.0.0") == 0 || strcmp(mi->conn, "::") == 0)
        return -ENOENT;
    return addr_from_host_port(out, mi->conn, 0) == 0 ? 0 : -ENOENT;
}

int sdp_media_get(const struct sdp *s, size_t index, struct sdp_media_info *out)
{
    struct sdp_mline_view mv;
    const struct sdp_media *m;
    const char *text;
    size_t len;
    bool found;
    int rc;

    if (!s || !out)
        return -EINVAL;
    if (index >= s->nmedia)
        return -ENOENT;
    memset(out, 0, sizeof *out);
    m = &s->media[index];
    text = sdp_line_text(s, m->mline, &len);
    rc = sdp_mline_scan(text, len, &mv);
    if (rc == 0)
        rc = copy_span(out->type, sizeof out->type, mv.media.p, mv.media.len);
    if (rc == 0)
        rc = copy_span(out->proto, sizeof out->proto, mv.proto.p, mv.proto.len);
    if (rc != 0)
        return rc;
    out->port = mv.port_value;
    out->has_rtcp_attr = sdp_media_has_rtcp(s, index);
    /* RFC 4566 §5.7: a media-level c= overrides the session-level one. */
    rc = first_conn(s, m->mline + 1, m->end, out->conn, sizeof out->conn, &found);
    if (rc == 0 && !found)
        rc = first_conn(s, 0, s->session_end, out->conn, sizeof out->conn, &found);
    return rc;
}

int sdp_session_conn(const struct sdp *s, char *buf, size_t len)
{
    bool found;

    if (!s || !buf || len == 0)
        return -EINVAL;
    return first_conn(s, 0, s->session_end, buf, len, &found);
}

int sdp_serialize(const struct sdp *s, char **out, size_t *len)
{
    size_t total = 0, pos = 0, n;
    char *buf;

    if (!s || !out)
        return -EINVAL;
    *out = NULL;
    for (size_t i = 0; i < s->nlines; i++) {
        if (!s->lines[i].removed) {
            sdp_line_text(s, i, &n);
            total += n + s->lines[i].eol_len;
        }
    }
    buf = malloc(total + 1);
    if (!buf)
        return -ENOMEM;
    for (size_t i = 0; i < s->nlines; i++) {
        const struct sdp_line *l = &s->lines[i];
        const char *text = sdp_line_text(s, i, &n);
        if (l->removed)
            continue;
        memcpy(buf + pos, text, n);
        /* The original ending, from the body copy: CRLF stays CRLF, LF stays LF. */
        memcpy(buf + pos + n, s->body + l->off + l->len, l->eol_len);
        pos += n + l->eol_len;
    }
    buf[pos] = '\0';
    *out = buf;
    if (len)
        *len = pos;
    return 0;
}

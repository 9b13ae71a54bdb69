/* sip_raw_reply: a stateless answer written from a request's bytes (see
 * pinhole/sip.h). */
#include "sip_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int sip_request_method(const char *buf, size_t len, char *method, size_t cap)
{
    size_t i = 0;
    while (i < len && (buf[i] == '\r' || buf[i] == '\n')) /* RFC 3261 7.5 */
        i++;
    size_t start = i;
    while (i < len && i - start < cap && sip_is_token_char((unsigned char)buf[i]))
        i++;
    size_t n = i - start;
    if (n == 0 || n >= cap || i >= len || buf[i] != ' ')
        return -EINVAL;
    if (n == 7 && strncmp(buf + start, "SIP/2.0", 7) == 0)
        return -EINVAL; /* a status line */
    memcpy(method, buf + start, n);
    method[n] = '\0';
    return 0;
}

static bool has_tag(const struct sip_raw_hdr *h)
{
    const char *v = h->value, *end = h->start + h->len;
    for (const char *p = v; p + 5 <= end; p++)
        if (*p == ';' && strncasecmp(p + 1, "tag=", 4) == 0)
            return true;
    return false;
}

struct out {
    char *buf;
    size_t cap, n;
    bool full;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->full || o->n + n >= o->cap) {
        o->full = true;
        return;
    }
    memcpy(o->buf + o->n, s, n);
    o->n += n;
}

int sip_reply_raw(const char *buf, size_t len, int status, char *out, size_t cap, size_t *n)
{
    struct sip_scan sc;
    const char *reason = NULL;
    struct sip_hdr_iter it;
    struct sip_raw_hdr h;
    unsigned vias = 0, from = 0, to = 0, call_id = 0, cseq = 0;
    struct out o = {.buf = out, .cap = cap};
    char line[64], tag[SIP_TAG_LEN];

    if (status < 300 || status > 699 || len > SIP_MAX_MESSAGE)
        return -EINVAL;
    if (sip_scan(&sc, buf, len, &reason) != SIP_PARSE_OK || !sc.is_request || sc.soft ||
        (sc.method_len == 3 && strncmp(sc.method, "ACK", 3) == 0))
        return -EINVAL; /* an ACK is never answered; the rest we could not frame */
    int k = snprintf(line, sizeof line, "SIP/2.0 %d %s\r\n", status, sip_reason_phrase(status));
    put(&o, line, (size_t)k);
    sip_hdr_iter_init(&it, &sc);
    while (sip_hdr_iter_next(&it, &h) == 1) {
        /* RFC 3261 8.2.6.2: these five are copied; a To gets our tag */
        switch (h.kind) {
        case SIP_HDR_VIA:
            vias++;
            break;
        case SIP_HDR_FROM:
            from++;
            break;
        case SIP_HDR_TO:
            to++;
            break;
        case SIP_HDR_CALL_ID:
            call_id++;
            break;
        case SIP_HDR_CSEQ:
            cseq++;
            break;
        default:
            continue;
        }
        put(&o, h.start, h.len);
        if (h.kind == SIP_HDR_TO && !has_tag(&h)) {
            sip_tag_new(tag, sizeof tag);
            put(&o, ";tag=", 5);
            put(&o, tag, strlen(tag));
        }
        put(&o, "\r\n", 2);
    }
    if (!vias || from != 1 || to != 1 || call_id != 1 || cseq != 1)
        return -EINVAL;
    if (status == 503) /* RFC 3261 21.5.4: when to come back, as txn_respond_stateless */
        put(&o, "Retry-After: 5\r\n", 16);
    put(&o, "Content-Length: 0\r\n\r\n", 21);
    if (o.full)
        return -EMSGSIZE;
    out[o.n] = '\0';
    *n = o.n;
    return 0;
}

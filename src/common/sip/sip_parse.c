/* sip_parse: datagram -> osip_message_t with the checks libosip2 leaves out,
 * and back to text with a Content-Length that matches the body.
 *
 * Order of checks (the first failure is the one reported):
 *   size; start line and header framing (sip_scan, hard: never answered);
 *   version, repeated headers, Content-Length, quoting (sip_scan, soft);
 *   osip's own parse; required headers; CSeq.
 * A soft failure or a CSeq failure on a request that osip could parse with
 * its Via, From, To, Call-ID and CSeq is "answerable": the caller gets the
 * message to build a 400 or 505 from. */
#include "sip_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* RFC 3261 8.1.1.5: the CSeq sequence number is less than 2^31. */
#define CSEQ_MAX 2147483647UL

static void osip_trace_drop(const char *file, int line, osip_trace_level_t level, const char *fmt,
                            va_list ap)
{
    (void)file;
    (void)line;
    (void)level;
    (void)fmt;
    (void)ap;
}

int sip_init(void)
{
    static bool done;

    if (done)
        return 0;
    /* osip prints every parse error on stdout by default, whatever the
     * trace levels say; on hostile input that is a log flood.
     * sip_parse_result says why instead. */
    osip_trace_initialize_func(TRACE_LEVEL0, osip_trace_drop);
    for (int level = 0; level < END_TRACE_LEVEL; level++)
        osip_trace_disable_level((osip_trace_level_t)level);
    if (parser_init() != 0)
        return -ENOMEM;
    done = true;
    return 0;
}

static int fail(struct sip_parse_result *res, enum sip_parse_error e, const char *reason)
{
    res->error = e;
    res->reason = reason;
    return e == SIP_PARSE_TOO_BIG ? -EMSGSIZE : -EINVAL;
}

/* Puts back a Request-URI osip could not have parsed (sip_sanitize gave it a
 * placeholder): scheme and the rest, kept opaque. */
static int set_opaque_uri(osip_message_t *m, const struct sip_scan *sc)
{
    const char *colon = memchr(sc->uri, ':', sc->uri_len);
    osip_uri_t *u;

    if (osip_uri_init(&u) != 0)
        return -ENOMEM;
    u->scheme = sip_strndup(sc->uri, (size_t)(colon - sc->uri));
    u->string = sip_strndup(colon + 1, sc->uri_len - (size_t)(colon + 1 - sc->uri));
    if (!u->scheme || !u->string) {
        osip_uri_free(u);
        return -ENOMEM;
    }
    osip_uri_free(m->req_uri);
    m->req_uri = u;
    return 0;
}

static bool has_required(const osip_message_t *m, const char **reason)
{
    const osip_via_t *via = osip_list_get(&m->vias, 0);

    *reason = "no Via";
    if (!via || !via->host)
        return false;
    *reason = "no From";
    if (!m->from || !m->from->url)
        return false;
    *reason = "no To";
    if (!m->to || !m->to->url)
        return false;
    *reason = "no Call-ID";
    if (!m->call_id || !m->call_id->number || !*m->call_id->number)
        return false;
    *reason = "no CSeq";
    return m->cseq && m->cseq->number && m->cseq->method;
}

static bool cseq_ok(const osip_message_t *m, const char **reason)
{
    unsigned long n;

    *reason = "CSeq number out of range";
    if (sip_parse_ulong(m->cseq->number, CSEQ_MAX, &n) != 0)
        return false;
    *reason = "bad CSeq method";
    if (!sip_is_token(m->cseq->method))
        return false;
    /* RFC 3261 8.1.1.5: the method matches the request's (RFC 4475
     * mismatch01/02) */
    *reason = "CSeq method differs from the request method";
    return !m->sip_method || strcmp(m->cseq->method, m->sip_method) == 0;
}

static int osip_parse(osip_message_t **out, const struct sip_scan *sc)
{
    char *text;
    size_t len;
    osip_message_t *m;

    *out = NULL;
    int rc = sip_sanitize(sc, &text, &len);
    if (rc != 0)
        return rc;
    if (osip_message_init(&m) != 0) {
        free(text);
        return -ENOMEM;
    }
    rc = osip_message_parse(m, text, len);
    free(text);
    if (rc != 0)
        rc = rc == OSIP_NOMEM ? -ENOMEM : -EINVAL;
    else if (sc->is_request && !sc->uri_is_sip)
        rc = set_opaque_uri(m, sc);
    if (rc == 0)
        rc = sip_body_attach(m, sc->buf + sc->headers_end, sc->body_len);
    if (rc != 0) {
        osip_message_free(m);
        return rc;
    }
    *out = m;
    return 0;
}

/* A refused message that can still be answered is handed back. */
static int refuse(osip_message_t **out, osip_message_t *m, const struct sip_scan *sc,
                  struct sip_parse_result *res, enum sip_parse_error e, const char *reason)
{
    const char *why;
    if (m && sc->is_request && has_required(m, &why)) {
        res->answerable = true;
        *out = m;
    } else {
        osip_message_free(m);
    }
    return fail(res, e, reason);
}

/* A request that lacks From, To, Call-ID or CSeq but has a Via can still
 * be told why it failed: the 400 copies what identity the request has
 * (issue #5: "no Contact/To/Call-ID/CSeq → 400"). */
static int refuse_missing(osip_message_t **out, osip_message_t *m, const struct sip_scan *sc,
                          struct sip_parse_result *res, const char *reason)
{
    const osip_via_t *via = osip_list_get(&m->vias, 0);
    if (sc->is_request && via && via->host) {
        res->answerable = true;
        *out = m;
    } else {
        osip_message_free(m);
    }
    return fail(res, SIP_PARSE_MISSING, reason);
}

int sip_parse(osip_message_t **out, const char *buf, size_t len, struct sip_parse_result *res)
{
    struct sip_parse_result dummy;
    struct sip_scan sc;
    osip_message_t *m;
    const char *reason = NULL;

    if (!res)
        res = &dummy;
    memset(res, 0, sizeof *res);
    *out = NULL;
    if (len > SIP_MAX_MESSAGE)
        return fail(res, SIP_PARSE_TOO_BIG, "datagram over 64 KiB");
    if (!buf)
        return fail(res, SIP_PARSE_MALFORMED, "no data");
    enum sip_parse_error e = sip_scan(&sc, buf, len, &reason);
    if (e != SIP_PARSE_OK)
        return fail(res, e, reason);
    int rc = osip_parse(&m, &sc);
    if (rc == -ENOMEM) {
        fail(res, SIP_PARSE_MALFORMED, "out of memory");
        return -ENOMEM;
    }
    if (rc != 0)
        return fail(res, sc.soft ? sc.soft : SIP_PARSE_MALFORMED,
                    sc.soft ? sc.soft_reason : "header syntax");
    if (sc.soft)
        return refuse(out, m, &sc, res, sc.soft, sc.soft_reason);
    if (!has_required(m, &reason))
        return refuse_missing(out, m, &sc, res, reason);
    if (!cseq_ok(m, &reason))
        return refuse(out, m, &sc, res, SIP_PARSE_BAD_CSEQ, reason);
    *out = m;
    return 0;
}

/* Through osip: whatever sip_render leaves to it. */
static int serialize_osip(const osip_message_t *m, char **out, size_t *len)
{
    char *text = NULL;
    size_t n = 0;

    /* osip caches its last rendering in the message and hands it back
     * unless told the message changed; our setters do not tell it, so the
     * cache is always dropped. That (and the new cache osip then keeps) is
     * the only change made to *m, hence the cast. osip 5.x recomputes
     * Content-Length from the bodies on every rendering. */
    osip_message_t *mm = (osip_message_t *)m;
    osip_message_force_update(mm);
    int rc = osip_message_to_str(mm, &text, &n);
    if (rc == OSIP_NOMEM)
        return -ENOMEM;
    if (rc != 0 || !text) {
        osip_free(text);
        return -EINVAL;
    }
    /* osip renders into an 8000-byte buffer; callers that keep the text
     * (the transaction layer, for 32 s) must not keep the slack. */
    char *exact = realloc(text, n + 1);
    *out = exact ? exact : text;
    *len = n;
    return 0;
}

int sip_serialize(const osip_message_t *m, char **out, size_t *len)
{
    /* One datagram's worth: a bigger message could not be sent anyway. */
    static _Thread_local char buf[SIP_MAX_MESSAGE];
    size_t n = 0;

    if (!out)
        return -EINVAL;
    *out = NULL;
    if (!m)
        return -EINVAL;
    if (sip_render(m, buf, sizeof buf, &n) != 0)
        return serialize_osip(m, out, len ? len : &n);
    char *text = malloc(n + 1);
    if (!text)
        return -ENOMEM;
    memcpy(text, buf, n);
    text[n] = '\0';
    *out = text;
    if (len)
        *len = n;
    return 0;
}

void sip_free(osip_message_t *m)
{
    if (m)
        osip_message_free(m);
}

int sip_clone(const osip_message_t *m, osip_message_t **out)
{
    *out = NULL;
    if (!m)
        return -EINVAL;
    return osip_message_clone(m, out) == 0 ? 0 : -ENOMEM;
}

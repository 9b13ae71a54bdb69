/* sip_render: osip_message_t -> text without libosip2's renderer.
 *
 * osip_message_to_str builds every header as a separate malloc'd string
 * (sprintf for most of them), appends it with strlen and realloc, then keeps
 * a copy of the result in the message: a quarter of proxyd's instructions per
 * call. This writes the same text straight into one buffer. The output is
 * osip's, byte for byte, except Content-Length, which is written without
 * osip's padding ("Content-Length: 129", not "Content-Length:   129");
 * tests/unit/test_sip_render.c checks that on every fixture and RFC 4475
 * message. Anything this file does not render exactly as osip would (the
 * Authorization families, Accept, the *-Info headers, multipart bodies, a field osip
 * would fail on) makes it return -ENOTSUP, and sip_serialize falls back to
 * osip. */
#include "sip_internal.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

struct out {
    char *p;
    char *end;
    bool full; /* something did not fit: the result is discarded */
};

static void put(struct out *o, const char *s, size_t n)
{
    if ((size_t)(o->end - o->p) < n) {
        o->full = true;
        o->p = o->end;
        return;
    }
    memcpy(o->p, s, n);
    o->p += n;
}

static void put_str(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

#define PUT_LIT(o, lit) put((o), (lit), sizeof(lit) - 1)

static void put_char(struct out *o, char c)
{
    put(o, &c, 1);
}

/* RFC 3986 percent-encoding as osip applies it on output: alphanumerics and
 * the characters of allowed pass, every other byte becomes %XX (upper-case
 * hex), '%' included (osip unescaped the URI when it parsed it). */
static void put_escaped(struct out *o, const char *s, const char *allowed)
{
    static const char hex[] = "0123456789ABCDEF";
    const char *run = s;

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            (c < 0x80 && strchr(allowed, c)))
            continue;
        put(o, run, (size_t)(s - run));
        char e[3] = {'%', hex[c >> 4], hex[c & 15]};
        put(o, e, sizeof e);
        run = s + 1;
    }
    put(o, run, (size_t)(s - run));
}

static const char ESC_USER[] = "-_.!~*'()&=+$,;?/";
static const char ESC_PASSWORD[] = "-_.!~*'()&=+$,";
static const char ESC_URI_PARAM[] = "-_.!~*'()[]/:&+$";
static const char ESC_URI_HEADER[] = "-_.!~*'()[]/?:+$";

/* An IPv6 literal is stored without its brackets. */
static void put_host(struct out *o, const char *host)
{
    if (strchr(host, ':')) {
        put_char(o, '[');
        put_str(o, host);
        put_char(o, ']');
    } else {
        put_str(o, host);
    }
}

static int put_uri(struct out *o, const osip_uri_t *u)
{
    if (!u || (!u->host && !u->string) || (!u->scheme && u->string))
        return -ENOTSUP;
    put_str(o, u->scheme ? u->scheme : "sip");
    put_char(o, ':');
    if (u->string) { /* tel:, urn: ...: kept as received */
        put_str(o, u->string);
        return 0;
    }
    if (u->username) {
        put_escaped(o, u->username, ESC_USER);
        if (u->password) {
            put_char(o, ':');
            put_escaped(o, u->password, ESC_PASSWORD);
        }
        put_char(o, '@');
    }
    put_host(o, u->host);
    if (u->port) {
        put_char(o, ':');
        put_str(o, u->port);
    }
    osip_list_iterator_t it;
    for (osip_uri_param_t *p = osip_list_get_first(&u->url_params, &it); p;
         p = osip_list_get_next(&it)) {
        if (!p->gname)
            return -ENOTSUP;
        /* osip's own outbound markers; osip never prints them */
        if (strcasecmp(p->gname, "x-obr") == 0 || strcasecmp(p->gname, "x-obp") == 0)
            continue;
        put_char(o, ';');
        put_escaped(o, p->gname, ESC_URI_PARAM);
        if (p->gvalue) {
            put_char(o, '=');
            put_escaped(o, p->gvalue, ESC_URI_PARAM);
        }
    }
    char sep = '?';
    for (osip_uri_header_t *h = osip_list_get_first(&u->url_headers, &it); h;
         h = osip_list_get_next(&it)) {
        if (!h->gname || !h->gvalue)
            return -ENOTSUP;
        put_char(o, sep);
        put_escaped(o, h->gname, ESC_URI_HEADER);
        put_char(o, '=');
        put_escaped(o, h->gvalue, ESC_URI_HEADER);
        sep = '&';
    }
    return 0;
}

/* ";name" or ";name=value", as stored (Via, From/To, Contact, Route). */
static int put_params(struct out *o, const osip_list_t *params)
{
    osip_list_iterator_t it;
    for (osip_generic_param_t *p = osip_list_get_first((osip_list_t *)params, &it); p;
         p = osip_list_get_next(&it)) {
        if (!p->gname)
            return -ENOTSUP;
        put_char(o, ';');
        put_str(o, p->gname);
        if (p->gvalue) {
            put_char(o, '=');
            put_str(o, p->gvalue);
        }
    }
    return 0;
}

/* The element writers below all take `const void *elem`, the type
 * put_list calls them through: calling a function through a pointer of
 * another type is undefined (C11 6.3.2.3p8), so none is cast. */

/* From, To, Route, Record-Route and (not "*") Contact: the URI always in
 * angle brackets, the display name as received. elem: an osip_from_t
 * (osip_to_t, osip_route_t, osip_record_route_t and osip_contact_t are the
 * same type). */
static int put_name_addr(struct out *o, const void *elem)
{
    const osip_from_t *f = elem;
    if (!f->url)
        return -ENOTSUP;
    if (f->displayname) {
        put_str(o, f->displayname);
        put_char(o, ' ');
    }
    put_char(o, '<');
    int err = put_uri(o, f->url);
    if (err)
        return err;
    put_char(o, '>');
    return put_params(o, &f->gen_params);
}

static int put_via(struct out *o, const void *elem)
{
    const osip_via_t *v = elem;
    if (!v->host || !v->version || !v->protocol)
        return -ENOTSUP;
    PUT_LIT(o, "SIP/");
    put_str(o, v->version);
    put_char(o, '/');
    put_str(o, v->protocol);
    put_char(o, ' ');
    put_host(o, v->host);
    if (v->port) {
        put_char(o, ':');
        put_str(o, v->port);
    }
    int err = put_params(o, &v->via_params);
    if (err)
        return err;
    if (v->comment) {
        PUT_LIT(o, " (");
        put_str(o, v->comment);
        put_char(o, ')');
    }
    return 0;
}

static int put_contact(struct out *o, const void *elem)
{
    const osip_contact_t *c = elem;
    if (c->displayname && c->displayname[0] == '*') {
        put_char(o, '*');
        return 0;
    }
    return put_name_addr(o, c);
}

static int put_content_type(struct out *o, const osip_content_type_t *ct)
{
    if (!ct->type || !ct->subtype)
        return -ENOTSUP;
    put_str(o, ct->type);
    put_char(o, '/');
    put_str(o, ct->subtype);
    osip_list_iterator_t it;
    for (osip_generic_param_t *p = osip_list_get_first((osip_list_t *)&ct->gen_params, &it); p;
         p = osip_list_get_next(&it)) {
        if (!p->gname || !p->gvalue)
            return -ENOTSUP;
        PUT_LIT(o, "; ");
        put_str(o, p->gname);
        put_char(o, '=');
        put_str(o, p->gvalue);
    }
    return 0;
}

/* An unknown header: osip keeps its name lower-cased and prints the first
 * letter upper-cased. */
static int put_other(struct out *o, const void *elem)
{
    const osip_header_t *h = elem;
    if (!h->hname || !h->hname[0])
        return -ENOTSUP;
    char first = h->hname[0];
    put_char(o, first >= 'a' && first <= 'z' ? (char)(first - 'a' + 'A') : first);
    put_str(o, h->hname + 1);
    PUT_LIT(o, ": ");
    if (h->hvalue)
        put_str(o, h->hvalue);
    return 0;
}

/* WWW-Authenticate and Proxy-Authenticate (the same osip type): osip's
 * osip_www_authenticate_to_str, field for field. A challenge without a
 * realm (osip then edits a comma away), or with an auth-param osip keeps
 * but does not print, is left to osip. */
static int put_challenge(struct out *o, const void *elem)
{
    const osip_www_authenticate_t *w = elem;
    static const struct {
        size_t offset;
        const char *sep;
    } fields[] = {
        {offsetof(osip_www_authenticate_t, domain), ", domain="},
        {offsetof(osip_www_authenticate_t, nonce), ", nonce="},
        {offsetof(osip_www_authenticate_t, opaque), ", opaque="},
        {offsetof(osip_www_authenticate_t, stale), ", stale="},
        {offsetof(osip_www_authenticate_t, algorithm), ", algorithm="},
        {offsetof(osip_www_authenticate_t, qop_options), ", qop="},
        {offsetof(osip_www_authenticate_t, version), ", version="},
        {offsetof(osip_www_authenticate_t, targetname), ", targetname="},
        {offsetof(osip_www_authenticate_t, gssapi_data), ", gssapi-data="},
    };
    if (!w->auth_type || !w->realm || w->auth_param)
        return -ENOTSUP;
    put_str(o, w->auth_type);
    PUT_LIT(o, " realm=");
    put_str(o, w->realm);
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const char *v = *(char *const *)(const void *)((const char *)w + fields[i].offset);
        if (v) {
            put_str(o, fields[i].sep);
            put_str(o, v);
        }
    }
    return 0;
}

/* Allow and Content-Encoding: one token per element (osip_allow_t and
 * osip_content_encoding_t are the same type). */
static int put_token(struct out *o, const void *elem)
{
    const osip_allow_t *a = elem;
    if (!a->value)
        return -ENOTSUP;
    put_str(o, a->value);
    return 0;
}

typedef int (*put_elem_cb)(struct out *o, const void *elem);

/* One "Name: value" line per element of a header list. */
static int put_list(struct out *o, const osip_list_t *l, const char *name, size_t name_len,
                    put_elem_cb fn)
{
    osip_list_iterator_t it;
    for (void *e = osip_list_get_first((osip_list_t *)l, &it); e; e = osip_list_get_next(&it)) {
        put(o, name, name_len);
        int err = fn(o, e);
        if (err)
            return err;
        PUT_LIT(o, "\r\n");
    }
    return 0;
}

#define PUT_LIST(o, l, lit, fn) put_list((o), (l), (lit), sizeof(lit) - 1, (fn))

static int put_start_line(struct out *o, const osip_message_t *m)
{
    const char *version = m->sip_version ? m->sip_version : "SIP/2.0";

    if (m->sip_method) {
        put_str(o, m->sip_method);
        put_char(o, ' ');
        int err = put_uri(o, m->req_uri);
        if (err)
            return err;
        put_char(o, ' ');
        put_str(o, version);
    } else {
        if (!m->reason_phrase || m->status_code < 100 || m->status_code > 699)
            return -ENOTSUP;
        put_str(o, version);
        char code[5] = {' ', (char)('0' + m->status_code / 100),
                        (char)('0' + m->status_code / 10 % 10), (char)('0' + m->status_code % 10),
                        ' '};
        put(o, code, sizeof code);
        put_str(o, m->reason_phrase);
    }
    PUT_LIT(o, "\r\n");
    return 0;
}

/* The header families we leave to osip: none of our hot-path messages has
 * them, and each has its own rendering rules. */
static bool has_unrendered(const osip_message_t *m)
{
    const osip_list_t *lists[] = {
        &m->authorizations,       &m->proxy_authorizations,
        &m->call_infos,           &m->alert_infos,
        &m->error_infos,          &m->accepts,
        &m->accept_encodings,     &m->accept_languages,
        &m->authentication_infos, &m->proxy_authentication_infos,
    };
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
        if (osip_list_size(lists[i]) > 0)
            return true;
    return m->mime_version != NULL || osip_list_size(&m->bodies) > 1;
}

static int put_singles(struct out *o, const osip_message_t *m)
{
    if (m->from) {
        PUT_LIT(o, "From: ");
        if (put_name_addr(o, m->from))
            return -ENOTSUP;
        PUT_LIT(o, "\r\n");
    }
    if (m->to) {
        PUT_LIT(o, "To: ");
        if (put_name_addr(o, m->to))
            return -ENOTSUP;
        PUT_LIT(o, "\r\n");
    }
    if (m->call_id) {
        if (!m->call_id->number)
            return -ENOTSUP;
        PUT_LIT(o, "Call-ID: ");
        put_str(o, m->call_id->number);
        if (m->call_id->host) {
            put_char(o, '@');
            put_str(o, m->call_id->host);
        }
        PUT_LIT(o, "\r\n");
    }
    if (m->cseq) {
        if (!m->cseq->number || !m->cseq->method)
            return -ENOTSUP;
        PUT_LIT(o, "CSeq: ");
        put_str(o, m->cseq->number);
        put_char(o, ' ');
        put_str(o, m->cseq->method);
        PUT_LIT(o, "\r\n");
    }
    return 0;
}

/* The body and the Content-Length that counts it. */
static int put_body(struct out *o, const osip_message_t *m)
{
    const osip_body_t *b = osip_list_get(&m->bodies, 0);

    if (!b) {
        PUT_LIT(o, "Content-Length: 0\r\n\r\n");
        return 0;
    }
    /* a body with its own MIME headers is a multipart part: osip's job */
    if (!b->body || !b->length || b->content_type || !b->headers || osip_list_size(b->headers) > 0)
        return -ENOTSUP;
    char len[24];
    size_t n = sip_put_decimal(len, sizeof len, b->length);
    PUT_LIT(o, "Content-Length: ");
    put(o, len, n);
    PUT_LIT(o, "\r\n\r\n");
    put(o, b->body, b->length);
    return 0;
}

int sip_render(const osip_message_t *m, char *buf, size_t cap, size_t *len)
{
    struct out o = {buf, buf + cap, false};
    int err;

    if (has_unrendered(m))
        return -ENOTSUP;
    if ((err = put_start_line(&o, m)) || (err = PUT_LIST(&o, &m->vias, "Via: ", put_via)) ||
        (err = PUT_LIST(&o, &m->record_routes, "Record-Route: ", put_name_addr)) ||
        (err = PUT_LIST(&o, &m->routes, "Route: ", put_name_addr)) || (err = put_singles(&o, m)) ||
        (err = PUT_LIST(&o, &m->contacts, "Contact: ", put_contact)) ||
        (err = PUT_LIST(&o, &m->www_authenticates, "WWW-Authenticate: ", put_challenge)) ||
        (err = PUT_LIST(&o, &m->proxy_authenticates, "Proxy-Authenticate: ", put_challenge)))
        return err;
    if (m->content_type) {
        PUT_LIT(&o, "Content-Type: ");
        if ((err = put_content_type(&o, m->content_type)))
            return err;
        PUT_LIT(&o, "\r\n");
    }
    if ((err = PUT_LIST(&o, &m->allows, "Allow: ", put_token)) ||
        (err = PUT_LIST(&o, &m->content_encodings, "Content-Encoding: ", put_token)) ||
        (err = PUT_LIST(&o, &m->headers, "", put_other)) || (err = put_body(&o, m)))
        return err;
    if (o.full)
        return -EMSGSIZE;
    *len = (size_t)(o.p - buf);
    return 0;
}

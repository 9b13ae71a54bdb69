/* sip_route: Record-Route, Route, Path and the Request-URI (RFC 3261 16.4,
 * 16.6, 16.12 loose routing; RFC 3327 Path). */
#include "sip_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* "<sip:host:port;lr>" for self, or "<sip:host:port;lr;PARAM>". */
static int self_uri_text(const struct addr *self, const char *param, char *buf, size_t len)
{
    char hostport[ADDR_STRLEN + 8];
    int rc = sip_addr_hostport(self, hostport, sizeof hostport);
    if (rc != 0)
        return rc;
    int n = snprintf(buf, len, "<sip:%s;lr%s%s>", hostport, param ? ";" : "", param ? param : "");
    return (n < 0 || (size_t)n >= len) ? -ENOSPC : 0;
}

int sip_record_route_push(osip_message_t *m, const struct addr *self, const char *param)
{
    char text[ADDR_STRLEN + 32 + SIP_RR_PARAM_MAX];
    osip_record_route_t *rr;

    if (!m || (param && strlen(param) >= SIP_RR_PARAM_MAX) ||
        self_uri_text(self, param, text, sizeof text) != 0)
        return -EINVAL;
    if (osip_record_route_init(&rr) != 0)
        return -ENOMEM;
    if (osip_record_route_parse(rr, text) != 0) {
        osip_record_route_free(rr);
        return -EINVAL;
    }
    if (osip_list_add(&m->record_routes, rr, 0) < 0) {
        osip_record_route_free(rr);
        return -ENOMEM;
    }
    return 0;
}

int sip_route_pop_self(osip_message_t *m, const struct addr *self)
{
    osip_route_t *r = m ? osip_list_get(&m->routes, 0) : NULL;
    struct addr a;

    if (!r)
        return -ENOENT;
    if (!self || sip_uri_addr(r->url, &a) != 0 || !addr_equal(&a, self))
        return 0;
    osip_list_remove(&m->routes, 0);
    osip_route_free(r);
    return 1;
}

int sip_record_route_find_self(const osip_message_t *m, const struct addr *self)
{
    struct addr a;
    int n = m ? osip_list_size(&m->record_routes) : 0;
    for (int i = 0; i < n; i++) {
        const osip_record_route_t *rr = osip_list_get(&m->record_routes, i);
        if (sip_uri_addr(rr->url, &a) == 0 && addr_equal(&a, self))
            return i;
    }
    return -ENOENT;
}

int sip_route_top(const osip_message_t *m, struct addr *out)
{
    const osip_route_t *r = m ? osip_list_get(&m->routes, 0) : NULL;
    memset(out, 0, sizeof *out);
    if (!r)
        return -ENOENT;
    int rc = sip_uri_addr(r->url, out);
    return rc == -ENOENT ? -EINVAL : rc;
}

int sip_route_top_param(const osip_message_t *m, const char *name, const char **value)
{
    const osip_route_t *r = m ? osip_list_get(&m->routes, 0) : NULL;
    osip_uri_param_t *p = NULL;

    *value = NULL;
    if (!r || !r->url)
        return -ENOENT;
    if (osip_uri_param_get_byname((osip_list_t *)&r->url->url_params, (char *)name, &p) != 0 || !p)
        return -ENOENT;
    *value = p->gvalue ? p->gvalue : "";
    return 0;
}

int sip_request_uri_addr(const osip_message_t *m, struct addr *out)
{
    memset(out, 0, sizeof *out);
    if (!m || !m->req_uri)
        return -ENOENT;
    return sip_uri_addr(m->req_uri, out);
}

int sip_request_uri_set(osip_message_t *m, const struct addr *to)
{
    if (!m || !m->req_uri)
        return -ENOENT;
    return sip_uri_set_hostport(m->req_uri, to);
}

int sip_path_push(osip_message_t *m, const struct addr *self)
{
    char text[ADDR_STRLEN + 32];
    osip_header_t *h;

    if (!m || self_uri_text(self, NULL, text, sizeof text) != 0)
        return -EINVAL;
    if (osip_header_init(&h) != 0)
        return -ENOMEM;
    h->hname = osip_strdup("Path");
    h->hvalue = osip_strdup(text);
    /* first in the generic list, so before every other Path (RFC 3327 5.1) */
    if (!h->hname || !h->hvalue || osip_list_add(&m->headers, h, 0) < 0) {
        osip_header_free(h);
        return -ENOMEM;
    }
    return 0;
}

/* Length of the first element of a comma list of name-addrs. */
static size_t first_element_len(const char *v)
{
    bool quote = false, angle = false;
    size_t i;
    for (i = 0; v[i]; i++) {
        char c = v[i];
        if (quote) {
            if (c == '\\' && v[i + 1])
                i++;
            else if (c == '"')
                quote = false;
        } else if (c == '"') {
            quote = true;
        } else if (c == '<') {
            angle = true;
        } else if (c == '>') {
            angle = false;
        } else if (c == ',' && !angle) {
            break;
        }
    }
    return i;
}

static int name_addr_addr(const char *value, struct addr *out)
{
    size_t n = first_element_len(value);
    char *first = sip_strndup(value, n);
    osip_route_t *r = NULL;
    int rc = -ENOMEM;

    if (!first || osip_route_init(&r) != 0)
        goto out;
    rc = osip_route_parse(r, first) == 0 ? sip_uri_addr(r->url, out) : -EINVAL;
    if (rc == -ENOENT)
        rc = -EINVAL;
out:
    osip_free(first);
    if (r)
        osip_route_free(r);
    return rc;
}

int sip_path_first(const osip_message_t *m, struct addr *out)
{
    const char *v = sip_header_get(m, "Path");
    memset(out, 0, sizeof *out);
    if (!v)
        return -ENOENT;
    return name_addr_addr(v, out);
}

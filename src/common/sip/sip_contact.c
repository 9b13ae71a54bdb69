/* sip_contact: Contact reading and rewriting (patent step 144) and REGISTER
 * expiry (RFC 3261 10.2.1.1, 10.3 step 7). */
#include "sip_internal.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* RFC 3261 20.19: delta-seconds up to 2^32-1. */
#define EXPIRES_MAX 4294967295UL
#define URI_MAX 1024

static void contact_free(void *p)
{
    osip_contact_free(p);
}

/* osip parses "Contact: *" as a display name "*" without a URI. */
static bool contact_is_star(const osip_contact_t *c)
{
    return c && !c->url && c->displayname && strcmp(c->displayname, "*") == 0;
}

static osip_contact_t *first_contact(const osip_message_t *m)
{
    return m ? osip_list_get(&m->contacts, 0) : NULL;
}

int sip_contact_count(const osip_message_t *m)
{
    return m ? osip_list_size(&m->contacts) : 0;
}

int sip_contact_addr(const osip_message_t *m, struct addr *out)
{
    return sip_contact_addr_at(m, 0, out);
}

int sip_contact_addr_at(const osip_message_t *m, int i, struct addr *out)
{
    const osip_contact_t *c = m && i >= 0 ? osip_list_get(&m->contacts, i) : NULL;
    memset(out, 0, sizeof *out);
    if (!c || !c->url)
        return -ENOENT;
    return sip_uri_addr(c->url, out);
}

int sip_contact_uri_text(const osip_message_t *m, char **out)
{
    const osip_contact_t *c = first_contact(m);
    *out = NULL;
    if (!c || !c->url)
        return -ENOENT;
    return osip_uri_to_str(c->url, out) == 0 ? 0 : -ENOMEM;
}

int sip_contact_set(osip_message_t *m, const struct addr *to)
{
    osip_contact_t *c = first_contact(m);
    if (!c || !c->url)
        return -ENOENT;
    return sip_uri_set_hostport(c->url, to);
}

/* What may sit between < and >: no LWS, no CTL, no brackets or quotes that
 * would end the name-addr early or start another header. */
static bool uri_text_safe(const char *uri)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)uri; *p; p++, n++)
        if (*p <= 0x20 || *p >= 0x7f || *p == '<' || *p == '>' || *p == '"')
            return false;
    return n > 0 && n <= URI_MAX;
}

/* RFC 3261 20.10: qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ),
 * kept in thousandths. */
static int q_value(const char *v)
{
    int whole, milli = 0, scale = 100;
    if (!v || (v[0] != '0' && v[0] != '1'))
        return -EINVAL;
    whole = v[0] - '0';
    const char *p = v + 1;
    if (*p == '.') {
        for (p++; *p >= '0' && *p <= '9' && scale > 0; p++, scale /= 10)
            milli += (*p - '0') * scale;
    }
    if (*p || (whole == 1 && milli != 0))
        return -EINVAL;
    return whole * 1000 + milli;
}

static long expires_value(const char *v)
{
    unsigned long n;
    if (sip_parse_ulong(v, EXPIRES_MAX, &n) != 0 || n > LONG_MAX)
        return -EINVAL;
    return (long)n;
}

int sip_contact_at(const osip_message_t *m, int i, char **uri, long *expires, int *q)
{
    const osip_contact_t *c = m && i >= 0 ? osip_list_get(&m->contacts, i) : NULL;
    bool present = false;
    *uri = NULL;
    if (!c || !c->url)
        return -ENOENT;
    const char *v = sip_param_get(&c->gen_params, "expires", &present);
    *expires = present ? expires_value(v) : -1;
    present = false;
    v = sip_param_get(&c->gen_params, "q", &present);
    *q = present ? q_value(v) : -1;
    if ((present && *q < 0) || *expires < -1)
        return -EINVAL;
    return osip_uri_to_str(c->url, uri) == 0 ? 0 : -ENOMEM;
}

/* "<uri>[;q=N.NNN][;expires=N]" parsed into a new Contact, or NULL with *err. */
static osip_contact_t *contact_build(const char *uri, long expires, int q, int *err)
{
    char text[URI_MAX + 64];
    int n;
    osip_contact_t *c;

    *err = -EINVAL;
    if (!uri || !uri_text_safe(uri) || (expires >= 0 && (unsigned long)expires > EXPIRES_MAX) ||
        q > 1000)
        return NULL;
    n = snprintf(text, sizeof text, "<%s>", uri);
    if (q >= 0)
        n += snprintf(text + n, sizeof text - (size_t)n, ";q=%d.%03d", q / 1000, q % 1000);
    if (expires >= 0)
        snprintf(text + n, sizeof text - (size_t)n, ";expires=%ld", expires);
    if (osip_contact_init(&c) != 0) {
        *err = -ENOMEM;
        return NULL;
    }
    if (osip_contact_parse(c, text) != 0 || !c->url) {
        osip_contact_free(c);
        return NULL;
    }
    *err = 0;
    return c;
}

int sip_contact_add(osip_message_t *m, const char *uri, long expires, int q)
{
    int err;
    osip_contact_t *c = m ? contact_build(uri, expires, q, &err) : NULL;
    if (!c)
        return m ? err : -EINVAL;
    if (osip_list_add(&m->contacts, c, -1) < 0) {
        osip_contact_free(c);
        return -ENOMEM;
    }
    return 0;
}

void sip_contacts_clear(osip_message_t *m)
{
    if (m)
        sip_list_clear(&m->contacts, contact_free);
}

int sip_contact_replace(osip_message_t *m, const char *uri, long expires)
{
    int err;
    osip_contact_t *c = m ? contact_build(uri, expires, -1, &err) : NULL;
    if (!c)
        return m ? err : -EINVAL;
    sip_list_clear(&m->contacts, contact_free);
    if (osip_list_add(&m->contacts, c, -1) < 0) {
        osip_contact_free(c);
        return -ENOMEM;
    }
    return 0;
}

bool sip_contact_is_star(const osip_message_t *m)
{
    return contact_is_star(first_contact(m));
}

long sip_register_expires(const osip_message_t *m)
{
    const osip_contact_t *c = first_contact(m);
    bool present = false;

    if (c && c->url) {
        const char *v = sip_param_get(&c->gen_params, "expires", &present);
        if (present)
            return expires_value(v);
    }
    return sip_expires_header(m);
}

long sip_expires_header(const osip_message_t *m)
{
    const char *h = sip_header_get(m, "Expires");
    return h ? expires_value(h) : -1;
}

int sip_set_expires(osip_message_t *m, long seconds)
{
    char buf[24];
    osip_contact_t *c = first_contact(m);
    bool present = false;

    if (!m || seconds < 0 || (unsigned long)seconds > EXPIRES_MAX)
        return -EINVAL;
    snprintf(buf, sizeof buf, "%ld", seconds);
    int rc = sip_header_set(m, "Expires", buf);
    if (c && c->url)
        sip_param_get(&c->gen_params, "expires", &present);
    if (rc == 0 && present)
        rc = sip_param_set(&c->gen_params, "expires", buf);
    return rc;
}

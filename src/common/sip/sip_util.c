/* sip_util: small helpers the sip_*.c files share (token syntax, bounded
 * numbers, URI host:port <-> struct addr, osip parameter lists). */
#include "sip_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SIPS_DEFAULT_PORT 5061

bool sip_is_token(const char *s)
{
    if (!s || !*s)
        return false;
    for (; *s; s++)
        if (!sip_is_token_char((unsigned char)*s))
            return false;
    return true;
}

size_t sip_put_decimal(char *buf, size_t cap, unsigned long v)
{
    char digits[24];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    if (n > cap)
        return 0;
    for (size_t i = 0; i < n; i++)
        buf[i] = digits[n - 1 - i];
    return n;
}

int sip_parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
    unsigned long v = 0;
    const char *p = s;

    if (!s)
        return -EINVAL;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p < '0' || *p > '9')
        return -EINVAL;
    for (; *p >= '0' && *p <= '9'; p++) {
        unsigned long d = (unsigned long)(*p - '0');
        if (v > (max - d) / 10)
            return -EINVAL; /* would pass max: leading zeros never get here */
        v = v * 10 + d;
    }
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p)
        return -EINVAL;
    *out = v;
    return 0;
}

static bool scheme_is_sips(const osip_uri_t *u)
{
    return u->scheme && strcasecmp(u->scheme, "sips") == 0;
}

int sip_uri_addr(const osip_uri_t *u, struct addr *out)
{
    if (!u)
        return -ENOENT;
    unsigned long port = scheme_is_sips(u) ? SIPS_DEFAULT_PORT : SIP_DEFAULT_PORT;
    if (!u->scheme || (strcasecmp(u->scheme, "sip") != 0 && !scheme_is_sips(u)) || !u->host)
        return -EINVAL;
    if (u->port && sip_parse_ulong(u->port, 65535, &port) != 0)
        return -EINVAL;
    return addr_from_host_port(out, u->host, (uint16_t)port);
}

int sip_addr_hostport(const struct addr *a, char *buf, size_t len)
{
    char host[ADDR_STRLEN];

    if (!a || !addr_is_set(a))
        return -EINVAL;
    addr_host_sip(a, host, sizeof host);
    int n = snprintf(buf, len, "%s:%u", host, (unsigned)addr_port(a));
    return (n < 0 || (size_t)n >= len) ? -ENOSPC : 0;
}

char *sip_strndup(const char *s, size_t n)
{
    char *d = osip_malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

int sip_replace_str(char **field, const char *value)
{
    char *copy = NULL;
    if (value) {
        copy = osip_strdup(value);
        if (!copy)
            return -ENOMEM;
    }
    osip_free(*field);
    *field = copy;
    return 0;
}

static osip_generic_param_t *param_find(const osip_list_t *params, const char *name)
{
    osip_list_iterator_t it;
    osip_generic_param_t *p = osip_list_get_first(params, &it);
    for (; p; p = osip_list_get_next(&it))
        if (p->gname && strcasecmp(p->gname, name) == 0)
            return p;
    return NULL;
}

const char *sip_param_get(const osip_list_t *params, const char *name, bool *present)
{
    osip_generic_param_t *p = param_find(params, name);
    if (present)
        *present = p != NULL;
    return p ? p->gvalue : NULL;
}

int sip_param_set(osip_list_t *params, const char *name, const char *value)
{
    osip_generic_param_t *p = param_find(params, name);
    if (p)
        return sip_replace_str(&p->gvalue, value);
    char *n = osip_strdup(name);
    char *v = value ? osip_strdup(value) : NULL;
    if (!n || (value && !v) || osip_generic_param_add(params, n, v) != 0) {
        osip_free(n);
        osip_free(v);
        return -ENOMEM;
    }
    return 0;
}

void sip_list_clear(osip_list_t *l, void (*free_fn)(void *))
{
    void *e;
    while ((e = osip_list_get(l, 0)) != NULL) {
        osip_list_remove(l, 0);
        free_fn(e);
    }
}

int sip_uri_set_hostport(osip_uri_t *u, const struct addr *to)
{
    char host[ADDR_STRLEN], port[8];

    if (!u || !u->scheme || !u->host ||
        (strcasecmp(u->scheme, "sip") != 0 && strcasecmp(u->scheme, "sips") != 0))
        return -EINVAL;
    if (!to || !addr_is_set(to))
        return -EINVAL;
    /* osip keeps an IPv6 host without brackets and adds them when printing */
    addr_host_plain(to, host, sizeof host);
    snprintf(port, sizeof port, "%u", (unsigned)addr_port(to));
    char *h = osip_strdup(host);
    char *p = osip_strdup(port);
    if (!h || !p) {
        osip_free(h);
        osip_free(p);
        return -ENOMEM;
    }
    osip_free(u->host);
    osip_free(u->port);
    u->host = h;
    u->port = p;
    return 0;
}

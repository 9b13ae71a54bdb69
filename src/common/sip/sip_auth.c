/* sip_auth: Digest credentials read out of osip's Authorization lists,
 * unquoted and bounded, and removed once consumed. */
#include "sip_internal.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

/* A request carries one set of credentials per realm it answers; more than
 * a handful is an attack on our CPU, not a phone. */
#define CREDENTIALS_MAX 8

/* Copies osip's raw parameter value (quoted-string or token) into out,
 * without quotes and with quoted-pairs resolved. Returns 0, or -EINVAL
 * when absent, unterminated or longer than len - 1. */
static int unquote(const char *v, char *out, size_t len)
{
    size_t n = 0;
    if (!v)
        return -EINVAL;
    if (*v != '"') {
        size_t l = strnlen(v, len);
        if (l == 0 || l >= len)
            return -EINVAL;
        memcpy(out, v, l + 1);
        return 0;
    }
    for (const char *p = v + 1; *p; p++) {
        if (*p == '"')
            return p[1] == '\0' ? (out[n] = '\0', 0) : -EINVAL;
        if (*p == '\\' && p[1])
            p++;
        if (n + 1 >= len)
            return -EINVAL;
        out[n++] = *p;
    }
    return -EINVAL; /* no closing quote */
}

/* The optional fields may be absent: empty then. */
static int unquote_opt(const char *v, char *out, size_t len)
{
    if (!v) {
        out[0] = '\0';
        return 0;
    }
    return unquote(v, out, len);
}

static osip_list_t *list_of(const osip_message_t *m, bool proxy)
{
    return (osip_list_t *)(proxy ? &m->proxy_authorizations : &m->authorizations);
}

static bool is_for_realm(const osip_authorization_t *a, const char *realm)
{
    char r[SIP_CRED_FIELD_MAX + 1];
    return a && a->auth_type && strcasecmp(a->auth_type, "Digest") == 0 &&
           unquote(a->realm, r, sizeof r) == 0 && strcmp(r, realm) == 0;
}

int sip_credentials_find(const osip_message_t *m, bool proxy, const char *realm,
                         struct sip_credentials *out)
{
    osip_list_t *l = list_of(m, proxy);
    int n = osip_list_size(l);
    for (int i = 0; i < n && i < CREDENTIALS_MAX; i++) {
        const osip_authorization_t *a = osip_list_get(l, i);
        if (!is_for_realm(a, realm))
            continue;
        memset(out, 0, sizeof *out);
        if (unquote(a->username, out->user, sizeof out->user) ||
            unquote(a->realm, out->realm, sizeof out->realm) ||
            unquote(a->nonce, out->nonce, sizeof out->nonce) ||
            unquote(a->uri, out->uri, sizeof out->uri) ||
            unquote(a->response, out->response, sizeof out->response) ||
            unquote_opt(a->algorithm, out->algorithm, sizeof out->algorithm) ||
            unquote_opt(a->cnonce, out->cnonce, sizeof out->cnonce) ||
            unquote_opt(a->nonce_count, out->nc, sizeof out->nc) ||
            unquote_opt(a->message_qop, out->qop, sizeof out->qop))
            return -EINVAL;
        return 0;
    }
    return n > CREDENTIALS_MAX ? -EINVAL : -ENOENT;
}

void sip_credentials_remove(osip_message_t *m, bool proxy, const char *realm)
{
    osip_list_t *l = list_of(m, proxy);
    for (int i = 0; i < osip_list_size(l);) {
        osip_authorization_t *a = osip_list_get(l, i);
        if (is_for_realm(a, realm)) {
            osip_list_remove(l, i);
            osip_authorization_free(a);
        } else {
            i++;
        }
    }
}

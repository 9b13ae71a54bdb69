/* sip_header: headers osip keeps in its generic list, and Max-Forwards.
 *
 * osip's parser moves Via, From, To, Call-ID, CSeq, Contact, Route,
 * Record-Route, Content-* and the authentication headers into dedicated
 * fields: those have their own accessors, sip_header_get returns NULL for
 * them and sip_header_set/remove refuse them with -EINVAL, so that no header
 * can exist twice under two representations. Allow is the exception (a 405
 * must carry it, RFC 3261 8.2.1): it is read from either place and written
 * to the generic list. */
#include "sip_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MAX_FORWARDS_DEFAULT 70
#define MAX_FORWARDS_MAX 255 /* RFC 3261 8.1.1.6 */
#define HEADER_VALUE_MAX 8192

/* Names the osip 5.3 parser files into dedicated fields (MIME-Version too,
 * but sip_parse moves it back to the generic list). */
static const char *const dedicated[] = {
    "accept",
    "accept-encoding",
    "accept-language",
    "alert-info",
    "allow",
    "authentication-info",
    "authorization",
    "c",
    "call-id",
    "call-info",
    "contact",
    "content-encoding",
    "content-length",
    "content-type",
    "cseq",
    "e",
    "error-info",
    "f",
    "from",
    "i",
    "l",
    "m",
    "proxy-authenticate",
    "proxy-authentication-info",
    "proxy-authorization",
    "record-route",
    "route",
    "t",
    "to",
    "v",
    "via",
    "www-authenticate",
};

/* RFC 3261 7.3.3 and later RFCs: compact forms osip leaves in the list. */
static const char *const compact[][2] = {
    {"a", "accept-contact"}, {"b", "referred-by"},     {"d", "request-disposition"},
    {"j", "reject-contact"}, {"k", "supported"},       {"n", "identity-info"},
    {"o", "event"},          {"r", "refer-to"},        {"s", "subject"},
    {"u", "allow-events"},   {"x", "session-expires"}, {"y", "identity"},
};

static const char *long_name(const char *name)
{
    if (name[0] && !name[1])
        for (size_t i = 0; i < sizeof compact / sizeof compact[0]; i++)
            if (strcasecmp(compact[i][0], name) == 0)
                return compact[i][1];
    return name;
}

static bool same_header(const char *a, const char *b)
{
    return a && strcasecmp(long_name(a), long_name(b)) == 0;
}

static bool is_dedicated(const char *name)
{
    for (size_t i = 0; i < sizeof dedicated / sizeof dedicated[0]; i++)
        if (strcasecmp(dedicated[i], name) == 0)
            return true;
    return false;
}

static bool is_allow(const char *name)
{
    return strcasecmp(name, "allow") == 0;
}

/* The first generic header called `name` at or after index *pos. */
static osip_header_t *find(const osip_message_t *m, const char *name, int *pos)
{
    osip_header_t *h;
    for (; (h = osip_list_get(&m->headers, *pos)) != NULL; (*pos)++)
        if (same_header(h->hname, name))
            return h;
    return NULL;
}

const char *sip_header_get(const osip_message_t *m, const char *name)
{
    int pos = 0;

    if (!m || !name)
        return NULL;
    if (is_dedicated(name) && !is_allow(name))
        return NULL;
    const osip_header_t *h = find(m, name, &pos);
    if (h)
        return h->hvalue ? h->hvalue : "";
    if (is_allow(name)) {
        const osip_allow_t *a = osip_list_get(&m->allows, 0);
        return a ? a->value : NULL;
    }
    return NULL;
}

static void allow_free(void *p)
{
    osip_allow_free(p);
}

/* Removes the generic headers called `name` from index `from` on, except
 * `keep`. */
static void remove_from(osip_message_t *m, const char *name, int from, const osip_header_t *keep)
{
    osip_header_t *h;
    int pos = from;
    while ((h = find(m, name, &pos)) != NULL) {
        if (h == keep) {
            pos++;
            continue;
        }
        osip_list_remove(&m->headers, pos);
        osip_header_free(h);
    }
}

static int remove_all(osip_message_t *m, const char *name)
{
    if (!m || !name || (is_dedicated(name) && !is_allow(name)))
        return -EINVAL;
    remove_from(m, name, 0, NULL);
    if (is_allow(name))
        sip_list_clear(&m->allows, allow_free);
    return 0;
}

int sip_header_remove(osip_message_t *m, const char *name)
{
    return remove_all(m, name);
}

static bool value_safe(const char *v)
{
    size_t n = strlen(v);
    return n <= HEADER_VALUE_MAX && !strpbrk(v, "\r\n");
}

int sip_header_set(osip_message_t *m, const char *name, const char *value)
{
    if (!name || !sip_is_token(name) || !value || !value_safe(value))
        return -EINVAL;
    int rc = remove_all(m, name);
    if (rc != 0)
        return rc;
    return osip_message_set_header(m, name, value) == 0 ? 0 : -ENOMEM;
}

int sip_header_add(osip_message_t *m, const char *name, const char *value)
{
    if (!m || !name || !sip_is_token(name) || !value || !value_safe(value))
        return -EINVAL;
    /* osip files a known header (WWW-Authenticate, ...) in its own list */
    int rc = osip_message_set_header(m, name, value);
    return rc == 0 ? 0 : rc == OSIP_NOMEM ? -ENOMEM : -EINVAL;
}

int sip_max_forwards_decrement(osip_message_t *m)
{
    unsigned long v;
    char buf[24]; /* room for any unsigned long: -Wformat-truncation at -O2 */
    int pos = 0;

    if (!m)
        return -EINVAL;
    osip_header_t *h = find(m, "max-forwards", &pos);
    if (!h) {
        /* RFC 3261 16.6 step 3 */
        snprintf(buf, sizeof buf, "%d", MAX_FORWARDS_DEFAULT);
        return osip_message_set_header(m, "Max-Forwards", buf) == 0 ? MAX_FORWARDS_DEFAULT
                                                                    : -ENOMEM;
    }
    if (sip_parse_ulong(h->hvalue, MAX_FORWARDS_MAX, &v) != 0)
        return -EINVAL;
    if (v == 0)
        return -ELOOP; /* RFC 3261 16.3 step 3: 483 */
    snprintf(buf, sizeof buf, "%lu", v - 1);
    int rc = sip_replace_str(&h->hvalue, buf);
    if (rc != 0)
        return rc;
    /* a repeated Max-Forwards would travel on with a stale value */
    remove_from(m, "max-forwards", pos, h);
    return (int)(v - 1);
}

/* sip_check: Max-Forwards, Request-URI scheme and option tags. */
#include "pinhole/sip_check.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

/* Appends one tag to the comma-separated list; silently stops when full
 * (a hostile Require must not make the response unbounded). */
static void list_append(char *list, size_t len, const char *tag, size_t tlen)
{
    size_t used = strlen(list);
    size_t need = (used ? 2 : 0) + tlen;
    if (used + need + 1 > len)
        return;
    if (used) {
        memcpy(list + used, ", ", 2);
        used += 2;
    }
    memcpy(list + used, tag, tlen);
    list[used + tlen] = '\0';
}

static bool is_lws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool tag_supported(const char *const *supported, const char *tag, size_t tlen)
{
    for (size_t i = 0; supported && supported[i]; i++) {
        if (strlen(supported[i]) == tlen && strncasecmp(tag, supported[i], tlen) == 0)
            return true;
    }
    return false;
}

/* Walks "tag1, tag2" and records the unknown ones. Returns how many. */
static int scan_tags(const char *value, const char *const *supported, char *unsupported, size_t len)
{
    int unknown = 0;
    const char *p = value;
    while (p && *p) {
        const char *end = strchr(p, ',');
        const char *stop = end ? end : p + strlen(p);
        while (p < stop && is_lws(*p))
            p++;
        const char *q = stop;
        while (q > p && is_lws(q[-1]))
            q--;
        if (q > p && !tag_supported(supported, p, (size_t)(q - p))) {
            unknown++;
            if (len)
                list_append(unsupported, len, p, (size_t)(q - p));
        }
        p = end ? end + 1 : NULL;
    }
    return unknown;
}

/* RFC 3261 8.2.2.3: every instance of the header counts. */
static int unknown_option_tags(const osip_message_t *req, const char *name,
                               const char *const *supported, char *unsupported, size_t len)
{
    int unknown = 0;
    osip_header_t *h = NULL;
    int pos = 0;
    while ((pos = osip_message_header_get_byname(req, name, pos, &h)) >= 0) {
        if (h && h->hvalue)
            unknown += scan_tags(h->hvalue, supported, unsupported, len);
        pos++;
    }
    return unknown;
}

int sip_check_request(osip_message_t *req, const char *const *supported_tags, char *unsupported,
                      size_t len)
{
    int mf = sip_max_forwards_decrement(req);
    if (mf == -ELOOP)
        return 483;
    if (mf < 0)
        return 400;
    if (!sip_request_uri_is_sip(req))
        return 416;
    if (len)
        unsupported[0] = '\0';
    int unknown = unknown_option_tags(req, "require", supported_tags, unsupported, len) +
                  unknown_option_tags(req, "proxy-require", supported_tags, unsupported, len);
    return unknown ? 420 : 0;
}

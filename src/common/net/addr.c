/* addr: numeric socket addresses. Never resolves names: a daemon's event
 * loop must not block on DNS. */
#include "pinhole/addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_port(const char *s, uint16_t *out)
{
    if (*s == '\0' || strlen(s) > 5)
        return -EINVAL;
    unsigned v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -EINVAL;
        v = v * 10 + (unsigned)(*p - '0');
    }
    if (v > 65535)
        return -EINVAL;
    *out = (uint16_t)v;
    return 0;
}

int addr_from_host_port(struct addr *out, const char *host, uint16_t port)
{
    char buf[INET6_ADDRSTRLEN + 2];
    size_t n = host ? strlen(host) : 0;

    memset(out, 0, sizeof *out);
    if (n == 0 || n >= sizeof buf)
        return -EINVAL;
    if (host[0] == '[') {
        if (n < 3 || host[n - 1] != ']')
            return -EINVAL;
        memcpy(buf, host + 1, n - 2);
        buf[n - 2] = '\0';
    } else {
        memcpy(buf, host, n + 1);
    }
    if (inet_pton(AF_INET, buf, &out->u.in.sin_addr) == 1) {
        out->u.in.sin_family = AF_INET;
        out->u.in.sin_port = htons(port);
        out->len = sizeof out->u.in;
        return 0;
    }
    if (inet_pton(AF_INET6, buf, &out->u.in6.sin6_addr) == 1) {
        out->u.in6.sin6_family = AF_INET6;
        out->u.in6.sin6_port = htons(port);
        out->len = sizeof out->u.in6;
        return 0;
    }
    return -EINVAL;
}

int addr_parse(struct addr *out, const char *text, uint16_t default_port)
{
    char host[INET6_ADDRSTRLEN + 2];
    const char *port_text = NULL;
    size_t hlen;
    uint16_t port = default_port;

    memset(out, 0, sizeof *out);
    if (!text)
        return -EINVAL;
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close)
            return -EINVAL;
        hlen = (size_t)(close - text) + 1;
        if (close[1] == ':')
            port_text = close + 2;
        else if (close[1] != '\0')
            return -EINVAL;
    } else {
        const char *colon = strchr(text, ':');
        if (colon && strchr(colon + 1, ':'))
            return -EINVAL; /* bare IPv6 needs brackets to carry a port */
        hlen = colon ? (size_t)(colon - text) : strlen(text);
        if (colon)
            port_text = colon + 1;
    }
    if (hlen == 0 || hlen >= sizeof host)
        return -EINVAL;
    memcpy(host, text, hlen);
    host[hlen] = '\0';
    if (port_text) {
        if (parse_port(port_text, &port) != 0)
            return -EINVAL;
    } else if (default_port == 0) {
        return -EINVAL;
    }
    return addr_from_host_port(out, host, port);
}

void addr_from_sockaddr(struct addr *out, const struct sockaddr *sa, socklen_t len)
{
    memset(out, 0, sizeof *out);
    if (len > sizeof out->u.ss)
        len = sizeof out->u.ss;
    memcpy(&out->u.ss, sa, len);
    out->len = len;
}

const char *addr_host_plain(const struct addr *a, char *buf, size_t len)
{
    const void *src = NULL;
    int fam = addr_family(a);

    if (fam == AF_INET)
        src = &a->u.in.sin_addr;
    else if (fam == AF_INET6)
        src = &a->u.in6.sin6_addr;
    if (!src || !inet_ntop(fam, src, buf, (socklen_t)len))
        snprintf(buf, len, "?");
    return buf;
}

const char *addr_host_sip(const struct addr *a, char *buf, size_t len)
{
    char host[INET6_ADDRSTRLEN];

    addr_host_plain(a, host, sizeof host);
    if (addr_family(a) == AF_INET6)
        snprintf(buf, len, "[%s]", host);
    else
        snprintf(buf, len, "%s", host);
    return buf;
}

const char *addr_format(const struct addr *a, char *buf, size_t len)
{
    char host[INET6_ADDRSTRLEN + 2];

    if (!addr_is_set(a)) {
        snprintf(buf, len, "?");
        return buf;
    }
    snprintf(buf, len, "%s:%u", addr_host_sip(a, host, sizeof host), addr_port(a));
    return buf;
}

int addr_family(const struct addr *a)
{
    return a->len ? a->u.sa.sa_family : AF_UNSPEC;
}

bool addr_is_set(const struct addr *a)
{
    int fam = addr_family(a);
    return fam == AF_INET || fam == AF_INET6;
}

uint16_t addr_port(const struct addr *a)
{
    switch (addr_family(a)) {
    case AF_INET:
        return ntohs(a->u.in.sin_port);
    case AF_INET6:
        return ntohs(a->u.in6.sin6_port);
    default:
        return 0;
    }
}

void addr_set_port(struct addr *a, uint16_t port)
{
    if (addr_family(a) == AF_INET)
        a->u.in.sin_port = htons(port);
    else if (addr_family(a) == AF_INET6)
        a->u.in6.sin6_port = htons(port);
}

/* An IPv4-mapped IPv6 address (::ffff:a.b.c.d) compares as its IPv4 self,
 * since a dual-stack socket reports IPv4 peers that way. */
static bool v4_of(const struct addr *a, struct in_addr *out)
{
    if (addr_family(a) == AF_INET) {
        *out = a->u.in.sin_addr;
        return true;
    }
    if (addr_family(a) == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&a->u.in6.sin6_addr)) {
        memcpy(out, &a->u.in6.sin6_addr.s6_addr[12], 4);
        return true;
    }
    return false;
}

bool addr_equal_host(const struct addr *a, const struct addr *b)
{
    struct in_addr x, y;
    bool ax = v4_of(a, &x), by = v4_of(b, &y);

    if (ax || by)
        return ax && by && x.s_addr == y.s_addr;
    if (addr_family(a) != AF_INET6 || addr_family(b) != AF_INET6)
        return false;
    return memcmp(&a->u.in6.sin6_addr, &b->u.in6.sin6_addr, sizeof(struct in6_addr)) == 0;
}

bool addr_equal(const struct addr *a, const struct addr *b)
{
    return addr_is_set(a) && addr_is_set(b) && addr_port(a) == addr_port(b) &&
           addr_equal_host(a, b);
}

static bool v4_is_private(uint32_t ip)
{
    return (ip >> 24) == 10 ||                 /* 10/8, RFC 1918 */
           (ip >> 20) == ((172 << 4) | 1) ||   /* 172.16/12 */
           (ip >> 16) == ((192 << 8) | 168) || /* 192.168/16 */
           (ip >> 22) == ((100 << 2) | 1) ||   /* 100.64/10, RFC 6598 CGN */
           (ip >> 16) == ((169 << 8) | 254);   /* 169.254/16 link-local */
}

bool addr_is_private(const struct addr *a)
{
    struct in_addr v4;

    if (v4_of(a, &v4))
        return v4_is_private(ntohl(v4.s_addr));
    if (addr_family(a) != AF_INET6)
        return false;
    const uint8_t *b = a->u.in6.sin6_addr.s6_addr;
    return (b[0] & 0xfe) == 0xfc ||                 /* fc00::/7 ULA */
           (b[0] == 0xfe && (b[1] & 0xc0) == 0x80); /* fe80::/10 link-local */
}

bool addr_is_loopback(const struct addr *a)
{
    struct in_addr v4;

    if (v4_of(a, &v4))
        return (ntohl(v4.s_addr) >> 24) == 127;
    return addr_family(a) == AF_INET6 && IN6_IS_ADDR_LOOPBACK(&a->u.in6.sin6_addr);
}

bool addr_text_is_private(const char *host)
{
    struct addr a;
    return addr_from_host_port(&a, host, 0) == 0 && addr_is_private(&a);
}

bool addr_list_match(const struct addr_list *l, const struct addr *a)
{
    for (size_t i = 0; i < l->n; i++) {
        if (!addr_equal_host(&l->v[i], a))
            continue;
        if (addr_port(&l->v[i]) == 0 || addr_port(&l->v[i]) == addr_port(a))
            return true;
    }
    return false;
}

void addr_list_free(struct addr_list *l)
{
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

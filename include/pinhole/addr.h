/* addr: IPv4/IPv6 socket addresses as "IP:port" and "[IPv6]:port". */
#ifndef PINHOLE_ADDR_H
#define PINHOLE_ADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Long enough for "[ffff:...:255.255.255.255%ifname]:65535". */
#define ADDR_STRLEN 80

struct addr {
    union {
        struct sockaddr sa;
        struct sockaddr_in in;
        struct sockaddr_in6 in6;
        struct sockaddr_storage ss;
    } u;
    socklen_t len; /* 0 means "no address" */
};

/* Parses a numeric "IP:port" or "[IPv6]:port" (no name lookups: never
 * blocks). A missing port takes default_port (0 = port required).
 * Returns 0, or -EINVAL for anything else. */
int addr_parse(struct addr *out, const char *text, uint16_t default_port);
/* Builds from a numeric host ("1.2.3.4", "::1" or "[::1]") and a port. */
int addr_from_host_port(struct addr *out, const char *host, uint16_t port);
/* Copies a sockaddr received from the kernel. */
void addr_from_sockaddr(struct addr *out, const struct sockaddr *sa, socklen_t len);

/* "IP:port" / "[IPv6]:port" into buf; returns buf ("?" when unset). */
const char *addr_format(const struct addr *a, char *buf, size_t len);
/* The host alone as it goes into a SIP URI or Via: IPv6 in brackets. */
const char *addr_host_sip(const struct addr *a, char *buf, size_t len);
/* The host alone as it goes into SDP c=: IPv6 without brackets. */
const char *addr_host_plain(const struct addr *a, char *buf, size_t len);

uint16_t addr_port(const struct addr *a);
void addr_set_port(struct addr *a, uint16_t port);
int addr_family(const struct addr *a);
bool addr_is_set(const struct addr *a);

/* Same family, address and port (IPv4-mapped IPv6 equals its IPv4). */
bool addr_equal(const struct addr *a, const struct addr *b);
/* Same address, port ignored. */
bool addr_equal_host(const struct addr *a, const struct addr *b);
/* RFC 1918, RFC 6598 (100.64/10), link-local, IPv6 ULA fc00::/7 and
 * link-local fe80::/10: addresses that do not route on the Internet. */
bool addr_is_private(const struct addr *a);
bool addr_is_loopback(const struct addr *a);
/* Same test on a textual host (SIP host or SDP c= address); false when the
 * text is not a numeric address. */
bool addr_text_is_private(const char *host);

/* A list of addresses, as in the `proxies` and `relays` config keys.
 * Owns `v` (free with addr_list_free). */
struct addr_list {
    struct addr *v;
    size_t n;
};
/* True when `a` matches an entry: same host, and same port unless the
 * entry's port is 0 (any port: "10.0.0.1" in a trust list). */
bool addr_list_match(const struct addr_list *l, const struct addr *a);
void addr_list_free(struct addr_list *l);

#endif

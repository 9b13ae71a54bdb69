/* sip_via: reading and stacking Via headers, and where responses go
 * (RFC 3261 18.2.1/18.2.2, RFC 3581). */
#include "sip_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Longest branch we accept from a caller: ours are 39 characters. */
#define BRANCH_MAX 256

static osip_via_t *via_at(const osip_message_t *m, int pos)
{
    return (m && pos >= 0) ? osip_list_get(&m->vias, pos) : NULL;
}

static int via_port(const osip_via_t *via, uint16_t *port)
{
    unsigned long p = SIP_DEFAULT_PORT;
    if (via->port && sip_parse_ulong(via->port, 65535, &p) != 0)
        return -EINVAL;
    *port = (uint16_t)p;
    return 0;
}

int sip_via_get(const osip_message_t *m, int pos, struct sip_via_info *out)
{
    const osip_via_t *via = via_at(m, pos);
    bool present;

    memset(out, 0, sizeof *out);
    if (!via || !via->host)
        return -ENOENT;
    if (via_port(via, &out->port) != 0)
        return -EINVAL;
    out->transport = via->protocol;
    out->host = via->host; /* osip strips the brackets of an IPv6 sent-by */
    out->branch = sip_param_get(&via->via_params, "branch", NULL);
    out->received = sip_param_get(&via->via_params, "received", NULL);
    const char *rport = sip_param_get(&via->via_params, "rport", &present);
    out->has_rport = present;
    unsigned long rp;
    if (rport && sip_parse_ulong(rport, 65535, &rp) == 0)
        out->rport = (uint16_t)rp;
    return 0;
}

int sip_via_count(const osip_message_t *m)
{
    return m ? osip_list_size(&m->vias) : 0;
}

int sip_via_sent_by(const osip_message_t *m, struct addr *out)
{
    struct sip_via_info vi;
    int rc = sip_via_get(m, 0, &vi);
    if (rc != 0)
        return rc;
    return addr_from_host_port(out, vi.host, vi.port);
}

int sip_via_set_received(osip_message_t *m, const struct addr *src)
{
    osip_via_t *via = via_at(m, 0);
    char host[ADDR_STRLEN], port[8];

    if (!via)
        return -ENOENT;
    if (!src || !addr_is_set(src))
        return -EINVAL;
    /* RFC 3261 25.1 / RFC 5118 4.5: received holds an IPv6 address bare */
    addr_host_plain(src, host, sizeof host);
    snprintf(port, sizeof port, "%u", (unsigned)addr_port(src));
    int rc = sip_param_set(&via->via_params, "received", host);
    if (rc == 0)
        rc = sip_param_set(&via->via_params, "rport", port);
    return rc;
}

static int via_from_text(osip_via_t **out, const char *text)
{
    osip_via_t *via;
    if (osip_via_init(&via) != 0)
        return -ENOMEM;
    if (osip_via_parse(via, text) != 0) {
        osip_via_free(via);
        return -EINVAL;
    }
    *out = via;
    return 0;
}

int sip_via_push(osip_message_t *m, const struct addr *self, const char *branch, char *branch_out,
                 size_t branch_out_len)
{
    char fresh[SIP_BRANCH_LEN], hostport[ADDR_STRLEN + 8], text[BRANCH_MAX + ADDR_STRLEN + 64];
    osip_via_t *via;

    if (!m || sip_addr_hostport(self, hostport, sizeof hostport) != 0)
        return -EINVAL;
    if (!branch) {
        sip_branch_new(fresh, sizeof fresh);
        branch = fresh;
    }
    /* a branch goes into the header verbatim: a token, nothing else */
    if (!sip_is_token(branch) || strlen(branch) > BRANCH_MAX)
        return -EINVAL;
    if (branch_out && strlen(branch) >= branch_out_len)
        return -ENOSPC;
    snprintf(text, sizeof text, "SIP/2.0/UDP %s;branch=%s;rport", hostport, branch);
    int rc = via_from_text(&via, text);
    if (rc != 0)
        return rc;
    if (osip_list_add(&m->vias, via, 0) < 0) {
        osip_via_free(via);
        return -ENOMEM;
    }
    if (branch_out)
        memcpy(branch_out, branch, strlen(branch) + 1);
    return 0;
}

int sip_via_pop_self(osip_message_t *m, const struct addr *self)
{
    osip_via_t *via = via_at(m, 0);
    struct addr sent_by;

    if (!via)
        return -ENOENT;
    /* RFC 3261 18.1.2: a response whose top Via is not ours is dropped */
    if (sip_via_sent_by(m, &sent_by) != 0 || !self || !addr_equal(&sent_by, self))
        return -EPERM;
    osip_list_remove(&m->vias, 0);
    osip_via_free(via);
    return 0;
}

/* Never answered: unspecified, "this network", multicast, broadcast and the
 * reserved 240/4 (RFC 4475 3.3.10 bcast), and port 0. */
static bool routable_unicast(const struct addr *a)
{
    if (addr_port(a) == 0)
        return false;
    if (addr_family(a) == AF_INET) {
        uint32_t v = ntohl(a->u.in.sin_addr.s_addr);
        return (v >> 24) != 0 && (v >> 28) != 0xe && (v >> 28) != 0xf;
    }
    if (addr_family(a) != AF_INET6)
        return false;
    const struct in6_addr *v6 = &a->u.in6.sin6_addr;
    if (IN6_IS_ADDR_V4MAPPED(v6)) {
        uint8_t b = v6->s6_addr[12];
        return b != 0 && (b >> 4) != 0xe && (b >> 4) != 0xf;
    }
    return !IN6_IS_ADDR_UNSPECIFIED(v6) && !IN6_IS_ADDR_MULTICAST(v6);
}

int sip_response_destination(const osip_message_t *m, struct addr *out)
{
    struct sip_via_info vi;
    int rc = sip_via_get(m, 0, &vi);

    memset(out, 0, sizeof *out);
    if (rc != 0)
        return rc;
    const char *host = vi.received ? vi.received : vi.host;
    uint16_t port = (vi.has_rport && vi.rport) ? vi.rport : vi.port;
    struct addr a;
    if (addr_from_host_port(&a, host, port) != 0 || !routable_unicast(&a))
        return -EINVAL;
    *out = a;
    return 0;
}

/* latch: patent fig. 11 with the anti-hijack rules of design.md decision 6. */
#include "latch.h"

#include <errno.h>
#include <string.h>

bool latch_ep_equal(const struct latch_ep *a, const struct latch_ep *b)
{
    if (a->u.sa.sa_family != b->u.sa.sa_family)
        return false;
    if (a->u.sa.sa_family == AF_INET)
        return a->u.in.sin_port == b->u.in.sin_port &&
               a->u.in.sin_addr.s_addr == b->u.in.sin_addr.s_addr;
    if (a->u.sa.sa_family == AF_INET6)
        return a->u.in6.sin6_port == b->u.in6.sin6_port &&
               a->u.in6.sin6_scope_id == b->u.in6.sin6_scope_id &&
               memcmp(&a->u.in6.sin6_addr, &b->u.in6.sin6_addr, sizeof a->u.in6.sin6_addr) == 0;
    return false;
}

int latch_ep_from_sockaddr(struct latch_ep *out, const struct sockaddr *sa, socklen_t len)
{
    memset(out, 0, sizeof *out);
    if (sa->sa_family == AF_INET && len >= sizeof out->u.in) {
        memcpy(&out->u.in, sa, sizeof out->u.in);
        out->len = sizeof out->u.in;
        return 0;
    }
    if (sa->sa_family == AF_INET6 && len >= sizeof out->u.in6) {
        memcpy(&out->u.in6, sa, sizeof out->u.in6);
        out->len = sizeof out->u.in6;
        return 0;
    }
    return -EINVAL;
}

static uint16_t ep_port(const struct latch_ep *e)
{
    return ntohs(e->u.sa.sa_family == AF_INET ? e->u.in.sin_port : e->u.in6.sin6_port);
}

/* Only what recvmmsg can hand us for a real peer we could answer. */
static bool ep_usable(const struct latch_ep *e)
{
    if (e->u.sa.sa_family == AF_INET && e->len >= sizeof e->u.in)
        return e->u.in.sin_port != 0;
    if (e->u.sa.sa_family == AF_INET6 && e->len >= sizeof e->u.in6)
        return e->u.in6.sin6_port != 0;
    return false;
}

static bool ep_is_loopback(const struct latch_ep *e)
{
    const struct in6_addr *a6 = &e->u.in6.sin6_addr;

    if (e->u.sa.sa_family == AF_INET)
        return (ntohl(e->u.in.sin_addr.s_addr) >> 24) == 127;
    if (IN6_IS_ADDR_LOOPBACK(a6))
        return true;
    return IN6_IS_ADDR_V4MAPPED(a6) && a6->s6_addr[12] == 127;
}

/* The IPv4 address of e, also when it is IPv4-mapped IPv6 (a dual-stack
 * socket's view of an IPv4 peer). */
static bool ep_v4(const struct latch_ep *e, uint32_t *out)
{
    const struct in6_addr *a6 = &e->u.in6.sin6_addr;
    if (e->u.sa.sa_family == AF_INET) {
        *out = e->u.in.sin_addr.s_addr;
        return true;
    }
    if (e->u.sa.sa_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(a6)) {
        memcpy(out, &a6->s6_addr[12], sizeof *out);
        return true;
    }
    return false;
}

/* Same IP address, whatever the ports. */
static bool ep_same_host(const struct latch_ep *a, const struct latch_ep *b)
{
    uint32_t a4 = 0, b4 = 0;
    bool av4 = ep_v4(a, &a4), bv4 = ep_v4(b, &b4);
    if (av4 || bv4)
        return av4 && bv4 && a4 == b4;
    if (a->u.sa.sa_family != AF_INET6 || b->u.sa.sa_family != AF_INET6)
        return false;
    return memcmp(&a->u.in6.sin6_addr, &b->u.in6.sin6_addr, sizeof a->u.in6.sin6_addr) == 0;
}

static void ep_set_port(struct latch_ep *e, uint16_t port)
{
    if (e->u.sa.sa_family == AF_INET)
        e->u.in.sin_port = htons(port);
    else
        e->u.in6.sin6_port = htons(port);
}

int latch_set_side(struct latch_pair *p, const struct latch_ep *ip, uint16_t port)
{
    for (unsigned i = 0; i < p->nsides; i++) {
        if (ep_same_host(&p->side[i], ip)) {
            if (port)
                ep_set_port(&p->side[i], port);
            return 0;
        }
    }
    if (p->nsides >= LATCH_SIDES)
        return -ENOSPC;
    p->side[p->nsides] = *ip;
    ep_set_port(&p->side[p->nsides], port);
    p->nsides++;
    return 0;
}

/* latch_from = "signalling-ip": a phone's source is one of the sides. A
 * session no proxy described (a proxy other than proxyd) has none: fig. 11
 * as it is. */
static bool signalled(const struct latch_pair *p, const struct latch_config *cfg,
                      const struct latch_ep *src)
{
    if (cfg->any_source || p->nsides == 0)
        return true;
    for (unsigned i = 0; i < p->nsides; i++)
        if (ep_same_host(&p->side[i], src))
            return true;
    return false;
}

/* RFC 7362 section 5: before the other channel latches, the other side's
 * signalled IP at its SDP port, if we know one: a side with another IP than
 * the source's (so never back to the sender). */
static const struct latch_ep *early_target(struct latch_pair *p, const struct latch_ep *src)
{
    if (p->early >= LATCH_EARLY_MAX)
        return NULL;
    for (unsigned i = 0; i < p->nsides; i++)
        if (ep_port(&p->side[i]) != 0 && !ep_same_host(&p->side[i], src))
            return &p->side[i];
    return NULL;
}

static bool ep_is_self(const struct latch_config *cfg, const struct latch_ep *src)
{
    uint16_t port;

    if (cfg->self.len == 0)
        return false;
    port = ep_port(src);
    if (port < cfg->self_port_min || port > cfg->self_port_max)
        return false;
    return ep_same_host(src, &cfg->self) || ep_is_loopback(src);
}

static int find_channel(const struct latch_pair *p, const struct latch_ep *src)
{
    for (int i = 0; i < 2; i++)
        if (p->ch[i].ep.len != 0 && latch_ep_equal(&p->ch[i].ep, src))
            return i;
    return -1;
}

/* The channel silent longest, if it has been silent for relatch_after. */
static int silent_channel(const struct latch_pair *p, const struct latch_config *cfg,
                          uint64_t now_ms)
{
    int k = p->ch[0].last_rx_ms <= p->ch[1].last_rx_ms ? 0 : 1;
    uint64_t last = p->ch[k].last_rx_ms;

    if (cfg->relatch_after_ms == 0 || now_ms < last || now_ms - last < cfg->relatch_after_ms)
        return -1;
    return k;
}

/* Fig. 11: an unknown source is written as channel 1 or 2, alternating;
 * once both are taken, only a silent channel may be replaced. */
/* A newcomer may replace the silent channel only after LATCH_PROBATION
 * packets in a row: any other newcomer in between starts the count again. */
static bool probation_passed(struct latch_pair *p, const struct latch_ep *src)
{
    if (p->probe.len == 0 || !latch_ep_equal(&p->probe, src)) {
        p->probe = *src;
        p->probe_n = 0;
    }
    if (++p->probe_n < LATCH_PROBATION)
        return false;
    memset(&p->probe, 0, sizeof p->probe);
    p->probe_n = 0;
    return true;
}

static struct latch_result latch_unknown(struct latch_pair *p, const struct latch_config *cfg,
                                         const struct latch_ep *src, uint64_t now_ms)
{
    struct latch_result r = {LATCH_DROP_UNKNOWN, -1, -1, NULL};
    int k = -1;

    if (!ep_usable(src) || ep_is_self(cfg, src) || !signalled(p, cfg, src))
        return r;
    if (p->ch[p->next].ep.len == 0)
        k = p->next;
    else if (p->ch[1 - p->next].ep.len == 0)
        k = 1 - p->next;
    if (k >= 0) {
        r.verdict = LATCH_NEW;
        p->next = (uint8_t)(1 - k);
    } else {
        k = silent_channel(p, cfg, now_ms);
        if (k < 0) {
            p->probe_n = 0; /* the channel spoke again: start over */
            return r;
        }
        if (!probation_passed(p, src))
            return r;
        r.verdict = LATCH_RELATCH;
        p->relatches++;
    }
    p->ch[k].ep = *src;
    r.from = k;
    return r;
}

struct latch_result latch_packet(struct latch_pair *p, const struct latch_config *cfg,
                                 const struct latch_ep *src, uint32_t len, uint64_t now_ms)
{
    struct latch_result r = {LATCH_FORWARD, find_channel(p, src), -1, NULL};
    struct latch_chan *c;

    if (r.from < 0) {
        r = latch_unknown(p, cfg, src, now_ms);
        if (r.from < 0) {
            p->unknown_drops++;
            return r;
        }
    }
    c = &p->ch[r.from];
    c->packets++;
    c->bytes += len;
    c->last_rx_ms = now_ms;
    if (p->ch[1 - r.from].ep.len == 0) {
        r.dst = early_target(p, src);
        if (r.dst) {
            p->early++;
            if (r.verdict == LATCH_FORWARD)
                r.verdict = LATCH_EARLY;
            return r;
        }
        c->drops++;
        if (r.verdict == LATCH_FORWARD)
            r.verdict = LATCH_DROP_NO_PEER;
        return r;
    }
    r.to = 1 - r.from;
    r.dst = &p->ch[r.to].ep;
    return r;
}

void latch_count_send_drop(struct latch_pair *p, int from)
{
    if (from == 0 || from == 1)
        p->ch[from].drops++;
}

/* session_table: sessions by Call-ID, their streams and their expiry. */
#include "session_table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pinhole/log.h"
#include "pinhole/sdp.h"
#include "pinhole/sip.h"
#include "pinhole/table.h"
#include "port_pool.h"
#include "relay_limits.h"

/* The Call-ID index is a pure lookup: expiry is the sweep's (activity is
 * a plain store on the media path), so the table's wheel stays empty and
 * any tick will do. It starts at 64 buckets and doubles as calls arrive. */
#define INDEX_HINT 64
#define INDEX_TICK_MS 1000

struct relay_stream {
    struct media_sock rtp, rtcp;
    struct relay_stream *next;
    uint16_t port;
};

struct session {
    struct session_table *table;
    struct session *prev, *next;  /* every session, oldest first */
    struct relay_stream *streams; /* in m= line order */
    uint64_t created_ms;
    uint64_t last_activity_ms;          /* written by the media path */
    struct latch_ep sides[LATCH_SIDES]; /* signalled IPs (port 0), for streams added later */
    uint8_t nsides;
    uint8_t nstreams;
    struct addr owner; /* the proxy that created it; unset: nobody to tell */
    char call_id[];
};

struct session_table {
    struct loop *loop;
    struct media *media;
    struct port_pool *pool;
    struct timer *sweep;
    struct table *index;             /* Call-ID → session; on_free NULL: the list frees */
    struct session *oldest, *newest; /* every session: the sweep and /sessions walk it */
    size_t streams;
    uint64_t timeout_ms, lifetime_ms;
    uint64_t expired_idle, expired_lifetime;
    struct addr media_address;
    uint16_t port_min, port_max;
    struct log_ratelimit fd_log; /* every INVITE hits it once descriptors run out */
    session_gone_cb on_gone;
    void *gone_arg;
};

static void on_sweep(struct timer *tm, void *arg)
{
    struct session_table *t = arg;
    (void)tm;
    session_table_expire(t, loop_now_ms(t->loop));
}

static bool config_valid(const struct session_table_config *cfg)
{
    int fam = addr_family(&cfg->media_address);
    return cfg->session_timeout_s > 0 && cfg->port_min > 0 && cfg->port_min < cfg->port_max &&
           (fam == AF_INET || fam == AF_INET6);
}

static void apply_timeouts(struct session_table *t, const struct session_table_config *cfg)
{
    t->timeout_ms = (uint64_t)cfg->session_timeout_s * 1000;
    t->lifetime_ms = (uint64_t)cfg->max_lifetime_s * 1000;
    media_set_relatch_after(t->media, cfg->relatch_after_s);
    media_set_latch_any(t->media, cfg->latch_any);
}

static int build(struct session_table *t, const struct session_table_config *cfg)
{
    struct media_config mc = {.address = cfg->media_address,
                              .port_min = cfg->port_min,
                              .port_max = cfg->port_max,
                              .relatch_after_s = cfg->relatch_after_s,
                              .latch_any = cfg->latch_any};
    int err = port_pool_new(&t->pool, cfg->port_min, cfg->port_max);

    if (err == 0)
        err = media_new(&t->media, t->loop, &mc);
    if (err == 0)
        err = timer_new(&t->sweep, t->loop, on_sweep, t);
    if (err == 0)
        err = table_new(&t->index, INDEX_HINT, INDEX_TICK_MS, NULL, NULL, NULL);
    return err;
}

int session_table_new(struct session_table **out, struct loop *l,
                      const struct session_table_config *cfg)
{
    struct session_table *t;
    int err;

    if (!config_valid(cfg))
        return -EINVAL;
    t = calloc(1, sizeof *t);
    if (!t)
        return -ENOMEM;
    t->loop = l;
    t->media_address = cfg->media_address;
    t->port_min = cfg->port_min;
    t->port_max = cfg->port_max;
    t->fd_log.interval_s = 10;
    t->fd_log.burst = 5;
    err = build(t, cfg);
    if (err) {
        session_table_free(t);
        return err;
    }
    apply_timeouts(t, cfg);
    timer_start_periodic(t->sweep, RELAY_SWEEP_MS);
    *out = t;
    return 0;
}

void session_table_free(struct session_table *t)
{
    if (!t)
        return;
    while (t->oldest)
        session_free(t->oldest);
    timer_free(t->sweep);
    media_free(t->media);
    port_pool_free(t->pool);
    table_free(t->index);
    free(t);
}

int session_table_reconfigure(struct session_table *t, const struct session_table_config *cfg)
{
    if (!config_valid(cfg) || !addr_equal(&cfg->media_address, &t->media_address) ||
        cfg->port_min != t->port_min || cfg->port_max != t->port_max)
        return -EINVAL;
    apply_timeouts(t, cfg);
    return 0;
}

/* ---- lookup ---- */

struct session *session_table_get(const struct session_table *t, const char *call_id)
{
    return table_get(t->index, call_id);
}

void session_table_foreach(const struct session_table *t, session_visit_cb cb, void *arg)
{
    for (const struct session *s = t->oldest; s; s = s->next)
        if (!cb(s, arg))
            return;
}

/* ---- sessions ---- */

int session_create(struct session_table *t, const char *call_id, struct session **out)
{
    struct session *s;
    size_t n;
    int err;

    if (!sip_call_id_valid(call_id, RELAY_CALL_ID_MAX))
        return -EINVAL;
    if (session_table_get(t, call_id))
        return -EEXIST;
    n = strlen(call_id);
    s = calloc(1, sizeof *s + n + 1);
    if (!s)
        return -ENOMEM;
    memcpy(s->call_id, call_id, n + 1);
    err = table_put(t->index, s->call_id, s, 0, NULL);
    if (err) {
        free(s);
        return err;
    }
    s->table = t;
    s->created_ms = s->last_activity_ms = loop_now_ms(t->loop);
    s->prev = t->newest;
    if (t->newest)
        t->newest->next = s;
    else
        t->oldest = s;
    t->newest = s;
    *out = s;
    return 0;
}

struct open_ctx {
    struct media *media;
    struct relay_stream *st;
    uint64_t *activity;
};

static int open_pair(uint16_t rtp_port, void *arg)
{
    struct open_ctx *o = arg;
    int err = media_sock_open(o->media, &o->st->rtp, rtp_port, o->activity);

    if (err)
        return err;
    err = media_sock_open(o->media, &o->st->rtcp, (uint16_t)(rtp_port + 1), o->activity);
    if (err)
        media_sock_close(&o->st->rtp);
    return err;
}

int session_add_stream(struct session *s, uint16_t *rtp_port)
{
    struct session_table *t = s->table;
    struct relay_stream *st, **tail;
    struct open_ctx o;
    int err;

    if (s->nstreams >= SDP_MAX_MEDIA)
        return -E2BIG;
    st = calloc(1, sizeof *st);
    if (!st)
        return -ENOMEM;
    o = (struct open_ctx){t->media, st, &s->last_activity_ms};
    err = port_pool_alloc(t->pool, open_pair, &o, &st->port);
    if (err) {
        if ((err == -EMFILE || err == -ENFILE) && log_ratelimit_allow(&t->fd_log))
            log_warn("relay: out of file descriptors with %zu streams open", t->streams);
        free(st);
        return err;
    }
    for (uint8_t i = 0; i < s->nsides; i++) { /* known sides, their ports unknown here */
        (void)latch_set_side(&st->rtp.latch, &s->sides[i], 0);
        (void)latch_set_side(&st->rtcp.latch, &s->sides[i], 0);
    }
    for (tail = &s->streams; *tail; tail = &(*tail)->next)
        ;
    *tail = st;
    s->nstreams++;
    t->streams++;
    *rtp_port = st->port;
    return 0;
}

/* The side as the relay sockets see their peers: an IPv4 address on an
 * IPv6 socket is IPv4-mapped. -EAFNOSUPPORT when the socket cannot reach
 * it (IPv6 on an IPv4 relay). */
static int side_ep(const struct session_table *t, const struct addr *ip, struct latch_ep *out)
{
    memset(out, 0, sizeof *out);
    if (addr_family(&t->media_address) == addr_family(ip))
        return latch_ep_from_sockaddr(out, &ip->u.sa, ip->len);
    if (addr_family(&t->media_address) != AF_INET6)
        return -EAFNOSUPPORT;
    out->u.in6.sin6_family = AF_INET6;
    out->u.in6.sin6_addr.s6_addr[10] = 0xff;
    out->u.in6.sin6_addr.s6_addr[11] = 0xff;
    memcpy(&out->u.in6.sin6_addr.s6_addr[12], &ip->u.in.sin_addr, 4);
    out->len = sizeof out->u.in6;
    return 0;
}

int session_set_side(struct session *s, const struct addr *ip, const uint16_t *ports, size_t n)
{
    struct latch_ep e;
    int err = side_ep(s->table, ip, &e);
    bool known = false;

    if (err)
        return err;
    for (uint8_t i = 0; i < s->nsides; i++)
        known |= latch_ep_equal(&s->sides[i], &e);
    if (!known) {
        if (s->nsides >= LATCH_SIDES)
            return -ENOSPC;
        s->sides[s->nsides++] = e;
    }
    size_t i = 0;
    for (struct relay_stream *st = s->streams; st; st = st->next, i++) {
        uint16_t port = ports && i < n ? ports[i] : 0;
        /* RTCP on the port above RTP (RFC 3550 11), which is also what a
         * phone behind a port-preserving NAT sends from */
        (void)latch_set_side(&st->rtp.latch, &e, port);
        (void)latch_set_side(&st->rtcp.latch, &e, port && port < 65535 ? (uint16_t)(port + 1) : 0);
    }
    return 0;
}

void session_free(struct session *s)
{
    struct session_table *t;

    if (!s)
        return;
    t = s->table;
    while (s->streams) {
        struct relay_stream *st = s->streams;
        s->streams = st->next;
        media_sock_close(&st->rtp);
        media_sock_close(&st->rtcp);
        port_pool_release(t->pool, st->port);
        t->streams--;
        free(st);
    }
    table_remove(t->index, s->call_id);
    if (s->prev)
        s->prev->next = s->next;
    else
        t->oldest = s->next;
    if (s->next)
        s->next->prev = s->prev;
    else
        t->newest = s->prev;
    free(s);
}

/* ---- expiry ---- */

static uint64_t session_packets(const struct session *s)
{
    uint64_t n = 0;
    for (const struct relay_stream *st = s->streams; st; st = st->next)
        for (int c = 0; c < 2; c++)
            n += st->rtp.latch.ch[c].packets + st->rtcp.latch.ch[c].packets;
    return n;
}

/* Design.md decision 9: a proxy that lost its BYE must not leak ports. */
static bool expire_one(struct session_table *t, struct session *s, uint64_t now_ms)
{
    const char *why;

    if (t->lifetime_ms && now_ms - s->created_ms >= t->lifetime_ms) {
        t->expired_lifetime++;
        why = "reached max_lifetime";
    } else if (now_ms >= s->last_activity_ms && now_ms - s->last_activity_ms >= t->timeout_ms) {
        t->expired_idle++;
        why = "silent for session_timeout";
    } else {
        return false;
    }
    log_info("relay session %s %s: freed (%u streams, %llu packets)", s->call_id, why,
             (unsigned)s->nstreams, (unsigned long long)session_packets(s));
    if (t->on_gone && addr_is_set(&s->owner))
        t->on_gone(t->gone_arg, s->call_id, &s->owner, why[0] == 's');
    session_free(s);
    return true;
}

void session_table_on_gone(struct session_table *t, session_gone_cb cb, void *arg)
{
    t->on_gone = cb;
    t->gone_arg = arg;
}

void session_set_owner(struct session *s, const struct addr *owner)
{
    s->owner = *owner;
}

size_t session_table_expire(struct session_table *t, uint64_t now_ms)
{
    size_t freed = 0;
    struct session *s = t->oldest, *next;

    /* A walk over every session: 20,000 of them once a second is a few
     * hundred microseconds, and activity is a plain store on the fast path
     * instead of a reordering. */
    for (; s; s = next) {
        next = s->next;
        if (now_ms >= s->created_ms && expire_one(t, s, now_ms))
            freed++;
    }
    return freed;
}

void session_table_get_stats(const struct session_table *t, struct session_table_stats *out)
{
    memset(out, 0, sizeof *out);
    out->sessions = table_count(t->index);
    out->streams = t->streams;
    out->pairs_in_use = port_pool_in_use(t->pool);
    out->pairs_free = port_pool_available(t->pool);
    out->expired_idle = t->expired_idle;
    out->expired_lifetime = t->expired_lifetime;
    media_get_totals(t->media, &out->media);
}

/* ---- accessors ---- */

static const struct relay_stream *stream_at(const struct session *s, size_t i)
{
    const struct relay_stream *st = s->streams;
    while (st && i--)
        st = st->next;
    return st;
}

const char *session_call_id(const struct session *s)
{
    return s->call_id;
}

size_t session_stream_count(const struct session *s)
{
    return s->nstreams;
}

uint16_t session_stream_port(const struct session *s, size_t i)
{
    const struct relay_stream *st = stream_at(s, i);
    return st ? st->port : 0;
}

const struct latch_pair *session_stream_latch(const struct session *s, size_t i, bool rtcp)
{
    const struct relay_stream *st = stream_at(s, i);
    if (!st)
        return NULL;
    return rtcp ? &st->rtcp.latch : &st->rtp.latch;
}

uint64_t session_created_ms(const struct session *s)
{
    return s->created_ms;
}

uint64_t session_last_activity_ms(const struct session *s)
{
    return s->last_activity_ms;
}

void session_touch(struct session *s, uint64_t now_ms)
{
    if (now_ms > s->last_activity_ms)
        s->last_activity_ms = now_ms;
}

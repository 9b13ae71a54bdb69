/* media: relay sockets on libevent and the recvmmsg/sendmmsg fast path. */
#include "media.h"

#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "pinhole/log.h"
#include "relay_limits.h"

struct media {
    struct loop *loop;
    struct addr address;
    struct latch_config latch_cfg;
    struct media_totals totals;

    /* One batch for the whole relay (single-threaded): rx[i] lands in
     * buf[i] with its source in from[i]; tx[k] sends buf[i] on to to[k]
     * and remembers in tx_from[k] which channel it came from. */
    struct mmsghdr rx[RELAY_BATCH];
    struct iovec rx_iov[RELAY_BATCH];
    struct latch_ep from[RELAY_BATCH];
    struct mmsghdr tx[RELAY_BATCH];
    struct iovec tx_iov[RELAY_BATCH];
    struct latch_ep to[RELAY_BATCH];
    int8_t tx_from[RELAY_BATCH];
    unsigned char buf[RELAY_BATCH][RELAY_MAX_PACKET];
};

static void setup_batch(struct media *m)
{
    for (int i = 0; i < RELAY_BATCH; i++) {
        m->rx_iov[i].iov_base = m->buf[i];
        m->rx_iov[i].iov_len = RELAY_MAX_PACKET;
        m->rx[i].msg_hdr.msg_iov = &m->rx_iov[i];
        m->rx[i].msg_hdr.msg_iovlen = 1;
        m->rx[i].msg_hdr.msg_name = &m->from[i].u;
        m->tx[i].msg_hdr.msg_iov = &m->tx_iov[i];
        m->tx[i].msg_hdr.msg_iovlen = 1;
        m->tx[i].msg_hdr.msg_name = &m->to[i].u;
    }
}

static void self_guard(struct media *m, const struct media_config *cfg)
{
    struct latch_ep *self = &m->latch_cfg.self;

    if (latch_ep_from_sockaddr(self, &cfg->address.u.sa, cfg->address.len) != 0)
        return;
    m->latch_cfg.self_port_min = cfg->port_min;
    m->latch_cfg.self_port_max = cfg->port_max;
}

/* Two sockets per stream: the default soft limit (1,024) stops at ~500
 * streams. The hard limit is as far as an unprivileged process may go;
 * beyond it the operator raises LimitNOFILE= (systemd) or ulimit -Hn. */
static void raise_nofile(const struct media_config *cfg)
{
    rlim_t want = (rlim_t)cfg->port_max - cfg->port_min + 1 + RELAY_FD_RESERVE;
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want)
        log_warn("media: RLIMIT_NOFILE is %llu, the port range %u-%u needs %llu descriptors: "
                 "calls beyond ~%llu streams will get 503",
                 (unsigned long long)rl.rlim_cur, cfg->port_min, cfg->port_max,
                 (unsigned long long)want,
                 (unsigned long long)(rl.rlim_cur > RELAY_FD_RESERVE
                                          ? (rl.rlim_cur - RELAY_FD_RESERVE) / 2
                                          : 0));
}

int media_new(struct media **out, struct loop *l, const struct media_config *cfg)
{
    struct media *m;
    int fam = addr_family(&cfg->address);

    if (fam != AF_INET && fam != AF_INET6)
        return -EINVAL;
    m = calloc(1, sizeof *m);
    if (!m)
        return -ENOMEM;
    m->loop = l;
    m->address = cfg->address;
    self_guard(m, cfg);
    media_set_relatch_after(m, cfg->relatch_after_s);
    media_set_latch_any(m, cfg->latch_any);
    setup_batch(m);
    raise_nofile(cfg);
    *out = m;
    return 0;
}

void media_free(struct media *m)
{
    free(m);
}

void media_set_relatch_after(struct media *m, unsigned relatch_after_s)
{
    m->latch_cfg.relatch_after_ms = (uint64_t)relatch_after_s * 1000;
}

void media_set_latch_any(struct media *m, bool any)
{
    m->latch_cfg.any_source = any;
}

void media_get_totals(const struct media *m, struct media_totals *out)
{
    *out = m->totals;
}

static void count_drop(struct media *m, enum latch_verdict v)
{
    if (v == LATCH_DROP_UNKNOWN)
        m->totals.drops_unknown++;
    else
        m->totals.drops_no_peer++;
}

/* Latches each received packet and queues those with a peer for sending.
 * Returns how many were queued in tx. */
static int relay_batch(struct media *m, struct media_sock *s, int n, uint64_t now)
{
    bool active = false;
    int k = 0;

    for (int i = 0; i < n; i++) {
        const struct msghdr *h = &m->rx[i].msg_hdr;
        uint32_t len = m->rx[i].msg_len;
        struct latch_result r;

        if (h->msg_flags & MSG_TRUNC) {
            m->totals.drops_oversize++;
            continue;
        }
        m->from[i].len = h->msg_namelen;
        r = latch_packet(&s->latch, &m->latch_cfg, &m->from[i], len, now);
        active |= r.from >= 0;
        if (!r.dst) {
            count_drop(m, r.verdict);
            continue;
        }
        if (r.to < 0)
            m->totals.early++;
        /* A copy: a relatch later in this batch must not redirect this one. */
        m->to[k] = *r.dst;
        m->tx[k].msg_hdr.msg_namelen = m->to[k].len;
        m->tx_iov[k].iov_base = m->buf[i];
        m->tx_iov[k].iov_len = len;
        m->tx_from[k] = (int8_t)r.from;
        k++;
    }
    if (active && s->activity)
        *s->activity = now;
    return k;
}

static void count_send_drops(struct media *m, struct media_sock *s, int from, int to)
{
    for (int i = from; i < to; i++)
        latch_count_send_drop(&s->latch, m->tx_from[i]);
    m->totals.drops_send += (uint64_t)(to - from);
}

static void send_batch(struct media *m, struct media_sock *s, int k)
{
    int done = 0;

    while (done < k) {
        int r = sendmmsg(s->fd, &m->tx[done], (unsigned)(k - done), MSG_DONTWAIT);
        if (r > 0) {
            for (int i = done; i < done + r; i++)
                m->totals.forwarded_bytes += m->tx_iov[i].iov_len;
            m->totals.forwarded += (uint64_t)r;
            done += r;
            continue;
        }
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
            /* Socket buffer full: UDP, the rest of the batch is lost. */
            count_send_drops(m, s, done, k);
            return;
        }
        /* This destination failed (no route, firewall): skip it alone. */
        count_send_drops(m, s, done, done + 1);
        done++;
    }
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    struct media_sock *s = arg;
    struct media *m = s->media;
    uint64_t now = loop_now_ms(m->loop);

    (void)what;
    for (int round = 0; round < RELAY_ROUNDS; round++) {
        int n;

        for (int i = 0; i < RELAY_BATCH; i++)
            m->rx[i].msg_hdr.msg_namelen = sizeof m->from[i].u;
        n = recvmmsg(fd, m->rx, RELAY_BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0)
            return; /* drained (EAGAIN), or an error the next event retries */
        m->totals.received += (uint64_t)n;
        send_batch(m, s, relay_batch(m, s, n, now));
        if (n < RELAY_BATCH)
            return;
    }
}

int media_sock_open(struct media *m, struct media_sock *s, uint16_t port, uint64_t *activity)
{
    struct addr local = m->address;
    int err;

    memset(s, 0, sizeof *s);
    s->media = m;
    s->activity = activity;
    addr_set_port(&local, port);
    s->fd = socket(addr_family(&local), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0)
        return -errno;
    /* No SO_REUSEADDR: on Linux it would let two UDP sockets share a port,
     * and a port someone else holds must fail here so the pool skips it. */
    if (bind(s->fd, &local.u.sa, local.len) != 0) {
        err = -errno;
        goto out;
    }
    s->ev = event_new(loop_base(m->loop), s->fd, EV_READ | EV_PERSIST, on_readable, s);
    if (!s->ev || event_add(s->ev, NULL) != 0) {
        err = -ENOMEM;
        goto out;
    }
    return 0;
out:
    if (s->ev)
        event_free(s->ev);
    s->ev = NULL;
    close(s->fd);
    s->fd = -1;
    return err;
}

void media_sock_close(struct media_sock *s)
{
    if (!s->ev)
        return;
    event_free(s->ev);
    close(s->fd);
    s->ev = NULL;
    s->fd = -1;
}

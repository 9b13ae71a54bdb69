/* loop: libevent underneath; the daemons see only this interface. */
#include "pinhole/loop.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pinhole/log.h"

/* Datagrams read per readable event before yielding to other events. */
#define UDP_BATCH 64
#define UDP_SOCKET_BUFFER (4 << 20)

struct loop {
    struct event_base *base;
    struct sig_entry {
        struct event *ev;
        loop_signal_cb cb;
        void *arg;
        struct sig_entry *next;
    } *signals;
};

struct timer {
    struct event *ev;
    timer_cb cb;
    void *arg;
    uint64_t period_ms;
};

struct udp_sock {
    struct loop *loop;
    struct event *ev;
    int fd;
    struct addr local;
    udp_recv_cb cb;
    void *arg;
    uint64_t oversize;
};

/* One receive buffer for every socket: the loop is single-threaded and the
 * callback must not keep the pointer. +1 detects oversize datagrams, +1
 * more for the NUL terminator. */
static char recv_buf[UDP_MAX_DATAGRAM + 2];

int loop_new(struct loop **out)
{
    struct loop *l = calloc(1, sizeof *l);
    if (!l)
        return -ENOMEM;
    /* Precise timers: by default libevent reads CLOCK_MONOTONIC_COARSE,
     * so a timer (an RFC 3261 timer D, a keepalive tick) could fire up to
     * a jiffy (4 ms) before it is due. The precise clock is a vDSO read too. */
    struct event_config *ec = event_config_new();
    if (ec)
        (void)event_config_set_flag(ec, EVENT_BASE_FLAG_PRECISE_TIMER);
    l->base = ec ? event_base_new_with_config(ec) : NULL;
    if (ec)
        event_config_free(ec);
    if (!l->base) {
        free(l);
        return -ENOMEM;
    }
    *out = l;
    return 0;
}

void loop_free(struct loop *l)
{
    if (!l)
        return;
    while (l->signals) {
        struct sig_entry *s = l->signals;
        l->signals = s->next;
        event_free(s->ev);
        free(s);
    }
    event_base_free(l->base);
    free(l);
}

int loop_run(struct loop *l)
{
    return event_base_dispatch(l->base) < 0 ? -EIO : 0;
}

void loop_stop(struct loop *l)
{
    event_base_loopbreak(l->base);
}

struct event_base *loop_base(struct loop *l)
{
    return l->base;
}

uint64_t loop_now_ms(struct loop *l)
{
    /* The coarse clock is a vDSO read (no syscall) with jiffy resolution,
     * plenty for SIP timers, and monotonic so expiry never runs backwards. */
    struct timespec ts;
    (void)l;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int64_t loop_wall_s(void)
{
    return (int64_t)time(NULL);
}

static void on_signal(evutil_socket_t signo, short what, void *arg)
{
    struct sig_entry *s = arg;
    (void)what;
    s->cb((int)signo, s->arg);
}

int loop_on_signal(struct loop *l, int signo, loop_signal_cb cb, void *arg)
{
    struct sig_entry *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    s->cb = cb;
    s->arg = arg;
    s->ev = evsignal_new(l->base, signo, on_signal, s);
    if (!s->ev || evsignal_add(s->ev, NULL) != 0) {
        if (s->ev)
            event_free(s->ev);
        free(s);
        return -EINVAL;
    }
    s->next = l->signals;
    l->signals = s;
    return 0;
}

/* ---- timers ---- */

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    struct timer *t = arg;
    (void)fd;
    (void)what;
    t->cb(t, t->arg);
}

int timer_new(struct timer **out, struct loop *l, timer_cb cb, void *arg)
{
    struct timer *t = calloc(1, sizeof *t);
    if (!t)
        return -ENOMEM;
    t->cb = cb;
    t->arg = arg;
    t->ev = event_new(l->base, -1, 0, on_timer, t);
    if (!t->ev) {
        free(t);
        return -ENOMEM;
    }
    *out = t;
    return 0;
}

static void arm(struct timer *t, uint64_t ms, short flags)
{
    struct timeval tv = {.tv_sec = (time_t)(ms / 1000), .tv_usec = (suseconds_t)(ms % 1000) * 1000};
    event_del(t->ev);
    event_assign(t->ev, event_get_base(t->ev), -1, flags, on_timer, t);
    event_add(t->ev, &tv);
}

void timer_start(struct timer *t, uint64_t ms)
{
    t->period_ms = 0;
    arm(t, ms, 0);
}

void timer_start_periodic(struct timer *t, uint64_t ms)
{
    t->period_ms = ms;
    arm(t, ms, EV_PERSIST);
}

void timer_stop(struct timer *t)
{
    event_del(t->ev);
}

bool timer_pending(const struct timer *t)
{
    return event_pending(t->ev, EV_TIMEOUT, NULL) != 0;
}

void timer_free(struct timer *t)
{
    if (!t)
        return;
    event_free(t->ev);
    free(t);
}

/* ---- UDP ---- */

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    struct udp_sock *s = arg;
    (void)what;

    for (int i = 0; i < UDP_BATCH; i++) {
        struct sockaddr_storage from;
        socklen_t flen = sizeof from;
        ssize_t n = recvfrom(fd, recv_buf, UDP_MAX_DATAGRAM + 1, MSG_TRUNC,
                             (struct sockaddr *)&from, &flen);
        if (n < 0)
            return; /* EAGAIN: drained; other errors (ICMP) are per-datagram */
        if (n > UDP_MAX_DATAGRAM) {
            s->oversize++;
            continue;
        }
        recv_buf[n] = '\0';
        struct addr src;
        addr_from_sockaddr(&src, (struct sockaddr *)&from, flen);
        s->cb(s, &src, recv_buf, (size_t)n, s->arg);
    }
}

/* SIP bursts (a registration storm after an outage, a benchmark) overflow
 * the kernel's default 208 KiB socket buffer long before the loop is busy.
 * As root, FORCE passes net.core.rmem_max; otherwise the kernel caps it. */
static void grow_buffers(int fd)
{
    int size = UDP_SOCKET_BUFFER;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) != 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
}

int udp_sock_open(struct udp_sock **out, struct loop *l, const struct addr *local, udp_recv_cb cb,
                  void *arg)
{
    int err;
    struct udp_sock *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    s->fd = -1;
    s->fd = socket(addr_family(local), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0) {
        err = -errno;
        goto out;
    }
    /* No SO_REUSEADDR: on UDP it would let a second daemon bind the same
     * port and silently take half the traffic. */
    grow_buffers(s->fd);
    if (bind(s->fd, &local->u.sa, local->len) != 0) {
        err = -errno;
        goto out;
    }
    struct sockaddr_storage bound;
    socklen_t blen = sizeof bound;
    getsockname(s->fd, (struct sockaddr *)&bound, &blen);
    addr_from_sockaddr(&s->local, (struct sockaddr *)&bound, blen);
    s->loop = l;
    s->cb = cb;
    s->arg = arg;
    s->ev = event_new(l->base, s->fd, EV_READ | EV_PERSIST, on_readable, s);
    if (!s->ev || event_add(s->ev, NULL) != 0) {
        err = -ENOMEM;
        goto out;
    }
    *out = s;
    return 0;
out:
    if (s->fd >= 0)
        close(s->fd);
    if (s->ev)
        event_free(s->ev);
    free(s);
    return err;
}

int udp_sock_send(struct udp_sock *s, const struct addr *to, const void *buf, size_t len)
{
    if (sendto(s->fd, buf, len, 0, &to->u.sa, to->len) < 0)
        return -errno;
    return 0;
}

const struct addr *udp_sock_local(const struct udp_sock *s)
{
    return &s->local;
}

int udp_sock_fd(const struct udp_sock *s)
{
    return s->fd;
}

uint64_t udp_sock_oversize(const struct udp_sock *s)
{
    return s->oversize;
}

void udp_sock_close(struct udp_sock *s)
{
    if (!s)
        return;
    event_free(s->ev);
    close(s->fd);
    free(s);
}

static int udp_transport_send(void *ctx, const struct addr *to, const void *buf, size_t len)
{
    return udp_sock_send(ctx, to, buf, len);
}

void udp_sock_transport(struct udp_sock *s, struct transport *out)
{
    out->send = udp_transport_send;
    out->ctx = s;
    out->local = s->local;
}

int transport_send(const struct transport *t, const struct addr *to, const void *buf, size_t len)
{
    return t->send(t->ctx, to, buf, len);
}

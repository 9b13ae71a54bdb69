/* proxy: the daemon state and the dispatch of received datagrams. */
#include "proxy.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "flood.h"
#include "keepalive.h"
#include "messaging.h"
#include "nat_detect.h"
#include "nat_table.h"
#include "pinhole/log.h"
#include "registration.h"

/* What proxyd handles: REGISTER (registration), INVITE, CANCEL and every
 * in-dialog method (messaging), OPTIONS to itself. */
#define PROXY_ALLOW "REGISTER, OPTIONS, INVITE, ACK, CANCEL, BYE, UPDATE, INFO, PRACK"
/* PINHOLE_T1_MS bounds: a shorter T1 makes every timer proportionally
 * shorter (tests); a longer one than RFC 3261's is never wanted. */
#define T1_MIN_MS 1
#define T1_MAX_MS 500
struct proxy {
    struct loop *loop;
    const struct proxyd_conf *cfg;
    struct udp_sock *sock; /* NULL when built on a caller's transport */
    struct transport tp;   /* what every module sends through: counts, then wire */
    struct transport wire; /* the socket's (or the caller's) transport */
    struct txn_layer *txn;
    struct nat_table *nat;
    struct registration *reg;
    struct keepalive *ka;
    struct messaging *msg;
    struct flood *flood;
    struct proxy_stats stats;
    struct log_ratelimit parse_rl;
    struct timer *drain_check; /* while draining: stop once nothing is in flight */
    bool draining;
};

typedef void (*request_fn)(struct proxy *p, struct txn_server *st, const osip_message_t *req,
                           const struct proxy_rx *rx);

/* ---- accessors ---- */

const struct proxyd_conf *proxy_cfg(const struct proxy *p)
{
    return p->cfg;
}

struct loop *proxy_loop(struct proxy *p)
{
    return p->loop;
}

struct txn_layer *proxy_txn(struct proxy *p)
{
    return p->txn;
}

struct nat_table *proxy_nat(struct proxy *p)
{
    return p->nat;
}

struct registration *proxy_registration(struct proxy *p)
{
    return p->reg;
}

struct keepalive *proxy_keepalive(struct proxy *p)
{
    return p->ka;
}

struct messaging *proxy_messaging(struct proxy *p)
{
    return p->msg;
}

struct proxy_stats *proxy_stats(struct proxy *p)
{
    return &p->stats;
}

bool proxy_draining(const struct proxy *p)
{
    return p->draining;
}

uint64_t proxy_flood_drops(const struct proxy *p)
{
    return flood_drops(p->flood);
}

/* ---- life ---- */

/* Counts a response by its status code on its way out ("SIP/2.0 NNN "):
 * one compare per datagram, on the signalling path only. */
static void count_response(struct proxy *p, const char *buf, size_t len)
{
    if (len < 12 || memcmp(buf, "SIP/2.0 ", 8) != 0)
        return;
    unsigned code = 0;
    for (size_t i = 8; i < 11; i++) {
        if (buf[i] < '0' || buf[i] > '9')
            return;
        code = code * 10 + (unsigned)(buf[i] - '0');
    }
    if (code >= PROXY_STATUS_MIN && code < PROXY_STATUS_MIN + PROXY_STATUS_SLOTS)
        p->stats.responses[code - PROXY_STATUS_MIN]++;
}

static int counted_send(void *ctx, const struct addr *to, const void *buf, size_t len)
{
    struct proxy *p = ctx;
    count_response(p, buf, len);
    return transport_send(&p->wire, to, buf, len);
}

/* The transport the modules use: the wire's, with the counter in front. */
static void wrap_transport(struct proxy *p)
{
    p->tp = (struct transport){.send = counted_send, .ctx = p, .local = p->wire.local};
}

int proxy_new(struct proxy **out, struct loop *l, const struct proxyd_conf *cfg,
              const struct transport *tp, const struct txn_timers *timers)
{
    int err;
    struct proxy *p = calloc(1, sizeof *p);
    if (!p)
        return -ENOMEM;
    p->loop = l;
    p->cfg = cfg;
    p->wire = *tp;
    wrap_transport(p);
    p->parse_rl.interval_s = 10;
    p->parse_rl.burst = 10;
    err = txn_layer_new(&p->txn, l, timers);
    if (!err)
        err = nat_table_new(&p->nat, l);
    if (!err)
        err = registration_new(&p->reg, p);
    if (!err)
        err = keepalive_new(&p->ka, p, true);
    if (!err)
        err = messaging_new(&p->msg, p, timers);
    if (!err)
        err = flood_new(&p->flood, FLOOD_RATE, FLOOD_BURST);
    if (err) {
        proxy_free(p);
        return err;
    }
    *out = p;
    return 0;
}

void proxy_free(struct proxy *p)
{
    if (!p)
        return;
    /* The layer first: it frees transactions without callbacks, so the
     * contexts freed next are referenced by nothing. */
    timer_free(p->drain_check);
    txn_layer_free(p->txn);
    registration_free(p->reg);
    messaging_free(p->msg);
    keepalive_free(p->ka);
    nat_table_free(p->nat);
    flood_free(p->flood);
    udp_sock_close(p->sock);
    free(p);
}

static void on_datagram(struct udp_sock *s, const struct addr *from, char *buf, size_t len,
                        void *arg)
{
    struct proxy *p = arg;
    (void)s;
    proxy_receive(p, &p->tp, from, buf, len);
}

/* A test hook (docs/registration.md): PINHOLE_T1_MS shrinks T1, and T2/T4
 * with it, so the 64·T1 timeout of a test takes seconds, not 32 s. */
static const struct txn_timers *timers_from_env(struct txn_timers *tm)
{
    const char *v = getenv("PINHOLE_T1_MS");
    char *end;
    if (!v || !*v)
        return NULL;
    long t1 = strtol(v, &end, 10);
    if (*end || t1 < T1_MIN_MS || t1 > T1_MAX_MS) {
        log_warn("PINHOLE_T1_MS=%s ignored (want %d..%d)", v, T1_MIN_MS, T1_MAX_MS);
        return NULL;
    }
    *tm = (struct txn_timers){
        .t1_ms = (uint32_t)t1, .t2_ms = (uint32_t)t1 * 8, .t4_ms = (uint32_t)t1 * 10};
    log_notice("PINHOLE_T1_MS: T1 = %ld ms (test hook)", t1);
    return tm;
}

int proxy_open(struct proxy **out, struct loop *l, const struct proxyd_conf *cfg)
{
    const struct transport unbound = {0};
    struct txn_timers tm;
    char where[ADDR_STRLEN];
    struct proxy *p = NULL;

    /* The socket's callback needs the proxy, so the proxy comes first and
     * gets its transport once the socket is bound; nothing sends before. */
    int err = proxy_new(&p, l, cfg, &unbound, timers_from_env(&tm));
    if (err)
        return err;
    err = udp_sock_open(&p->sock, l, &cfg->listen, on_datagram, p);
    if (err) {
        log_error("cannot bind %s: error %d", addr_format(&cfg->listen, where, sizeof where), err);
        proxy_free(p);
        return err;
    }
    udp_sock_transport(p->sock, &p->wire);
    wrap_transport(p);
    log_notice("listening on %s", addr_format(udp_sock_local(p->sock), where, sizeof where));
    *out = p;
    return 0;
}

/* ---- stateless answers ---- */

void proxy_respond_stateless(const osip_message_t *req, const struct transport *tp, int status)
{
    osip_message_t *resp = NULL;
    struct addr dst;
    char *buf = NULL;
    size_t len;

    if (sip_response_destination(req, &dst) != 0 || sip_response_new(&resp, req, status, NULL) != 0)
        return;
    if (sip_serialize(resp, &buf, &len) == 0)
        (void)transport_send(tp, &dst, buf, len);
    osip_free(buf);
    sip_free(resp);
}

/* ---- requests ---- */

static void on_register(struct proxy *p, struct txn_server *st, const osip_message_t *req,
                        const struct proxy_rx *rx)
{
    registration_on_request(p->reg, st, req, rx);
}

static void not_implemented(struct proxy *p, struct txn_server *st, const osip_message_t *req,
                            const struct proxy_rx *rx)
{
    (void)req;
    (void)rx;
    p->stats.not_implemented++;
    txn_server_respond_with(st, 501, (const char *const[]){"Allow", PROXY_ALLOW, NULL});
}

/* An OPTIONS whose Request-URI is this proxy itself (no user part): a
 * liveness check of the proxy, RFC 3261 §11. */
static bool addressed_to_us(const struct proxy *p, const osip_message_t *req,
                            const struct transport *tp)
{
    struct addr a;
    if (sip_request_uri_user(req) || sip_request_uri_addr(req, &a) != 0)
        return false;
    return addr_equal(&a, &p->cfg->advertise) || addr_equal(&a, &p->cfg->listen) ||
           addr_equal(&a, &tp->local);
}

static void on_options(struct proxy *p, struct txn_server *st, const osip_message_t *req,
                       const struct proxy_rx *rx)
{
    if (!addressed_to_us(p, req, rx->tp)) {
        not_implemented(p, st, req, rx); /* out of dialog to a user: not routed */
        return;
    }
    txn_server_respond_with(st, 200, (const char *const[]){"Allow", PROXY_ALLOW, NULL});
}

/* Out-of-dialog requests proxyd answers itself; INVITE, CANCEL and the
 * in-dialog requests go to the messaging module first (dispatch). */
static const struct {
    const char *method;
    request_fn fn;
} handlers[] = {
    {"REGISTER", on_register},
    {"OPTIONS", on_options},
};

static void dispatch(struct proxy *p, struct txn_server *st, const osip_message_t *req,
                     const struct proxy_rx *rx)
{
    if (messaging_handles(req)) {
        messaging_on_request(p->msg, st, req, rx);
        return;
    }
    for (size_t i = 0; i < sizeof handlers / sizeof handlers[0]; i++) {
        if (sip_method_is(req, handlers[i].method)) {
            handlers[i].fn(p, st, req, rx);
            return;
        }
    }
    not_implemented(p, st, req, rx);
}

static void count_request(struct proxy *p, const osip_message_t *req)
{
    static const char *const names[PROXY_M_OTHER] = {"REGISTER", "INVITE", "ACK",
                                                     "BYE",      "CANCEL", "OPTIONS"};
    size_t i = 0;
    while (i < PROXY_M_OTHER && !sip_method_is(req, names[i]))
        i++;
    p->stats.requests[i]++;
}

/* *reqp is taken when it starts a transaction (txn_server_receive); req
 * stays readable until we return to the loop either way. */
static void on_request(struct proxy *p, const struct transport *tp, const struct addr *src,
                       osip_message_t **reqp)
{
    struct proxy_rx rx = {.src = *src, .tp = tp};
    struct txn_server *st = NULL;
    osip_message_t *req = *reqp;

    /* NAT detection needs the sent-by as the sender wrote it (step 114). */
    nat_detect_sent_by(req, &rx.sent_by);
    if (sip_via_set_received(req, src) != 0)
        return;
    int r = txn_server_receive(p->txn, reqp, src, tp, &st);
    if (r == -EINVAL && !sip_method_is(req, "ACK")) {
        p->stats.bad_requests++; /* nothing to key a transaction on */
        proxy_respond_stateless(req, tp, 400);
        return;
    }
    if (r != TXN_NEW)
        return; /* absorbed, or out of memory */
    count_request(p, req);
    if (!st) {
        if (sip_method_is(req, "ACK"))
            messaging_on_ack(p->msg, req, &rx); /* the ACK for a 2xx, end to end */
        return;
    }
    dispatch(p, st, req, &rx);
}

/* ---- responses ---- */

static void on_response(struct proxy *p, const struct transport *tp, const struct addr *src,
                        osip_message_t *resp)
{
    if (txn_client_receive(p->txn, resp, src) == -ENOENT) {
        p->stats.stray_responses++;
        messaging_on_stray_response(p->msg, resp, src, tp); /* 2xx retransmissions */
    }
}

/* ---- datagrams ---- */

/* A bare CRLF (or CRLFCRLF) is a client's own NAT keepalive (RFC 5626
 * §4.4.1 style): nothing to parse or answer. */
static bool is_keepalive(const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (buf[i] != '\r' && buf[i] != '\n')
            return false;
    return true;
}

/* The redirect server and the relays are ours: never rate-limited. */
static bool trusted(const struct proxy *p, const struct addr *src)
{
    return addr_equal(src, &p->cfg->redirect) || addr_list_match(&p->cfg->relays, src);
}

static void on_parse_error(struct proxy *p, const struct transport *tp, const struct addr *src,
                           osip_message_t *m, const struct sip_parse_result *res)
{
    bool answer = m && res->answerable && sip_is_request(m) && !sip_method_is(m, "ACK");

    p->stats.parse_errors++;
    if (log_ratelimit_allow(&p->parse_rl)) {
        char who[ADDR_STRLEN];
        log_info("unparseable datagram from %s (%s), %s", addr_format(src, who, sizeof who),
                 res->reason ? res->reason : "?", answer ? "answered" : "dropped");
    }
    if (!answer || sip_via_set_received(m, src) != 0)
        return;
    p->stats.bad_requests++;
    proxy_respond_stateless(m, tp, res->error == SIP_PARSE_VERSION ? 505 : 400);
}

void proxy_receive(struct proxy *p, const struct transport *tp, const struct addr *src,
                   const char *buf, size_t len)
{
    osip_message_t *m = NULL;
    struct sip_parse_result res;

    /* Before any parsing: a flood costs a hash and a compare per datagram. */
    if (!trusted(p, src) && !flood_allow(p->flood, src, loop_now_ms(p->loop)))
        return;
    if (is_keepalive(buf, len))
        return;
    if (sip_parse(&m, buf, len, &res) != 0) {
        on_parse_error(p, tp, src, m, &res);
        sip_free(m);
        return;
    }
    if (sip_is_request(m))
        on_request(p, tp, src, &m);
    else
        on_response(p, tp, src, m);
    sip_free(m);
}

/* ---- reload, drain ---- */

int proxy_reload(struct proxy *p, const struct proxyd_conf *cfg)
{
    if (!addr_equal(&cfg->listen, &p->cfg->listen)) {
        char was[ADDR_STRLEN], now[ADDR_STRLEN];
        log_error("reload: listen cannot change while running (%s -> %s); restart instead",
                  addr_format(&p->cfg->listen, was, sizeof was),
                  addr_format(&cfg->listen, now, sizeof now));
        return -EINVAL;
    }
    p->cfg = cfg;
    keepalive_reconfigure(p->ka);
    return 0;
}

/* The drain period ends early once no registration waits for redirectd
 * and no call is still being set up. */
#define DRAIN_CHECK_MS 100
/* A call still ringing when SIGTERM comes gets this long to be answered
 * (64·T1: what its INVITE transaction would wait for a final anyway).
 * Answered calls are not lost when proxyd exits: media flows through
 * relayd, and the phones' in-dialog requests fail over. */
#define DRAIN_MAX_MS 32000

static bool in_flight(const struct proxy *p)
{
    return registration_pending(p->reg) > 0 || messaging_calls_in_setup(p->msg) > 0;
}

static void on_drain_check(struct timer *t, void *arg)
{
    struct proxy *p = arg;
    (void)t;
    if (!in_flight(p)) {
        log_notice("drained: no registration or call set-up in flight");
        loop_stop(p->loop);
    }
}

int proxy_drain(struct proxy *p)
{
    p->draining = true;
    if (!in_flight(p))
        return 0;
    if (timer_new(&p->drain_check, p->loop, on_drain_check, p) != 0)
        return 2000;
    timer_start_periodic(p->drain_check, DRAIN_CHECK_MS);
    log_notice("draining: %zu registrations and %zu calls in set-up", registration_pending(p->reg),
               messaging_calls_in_setup(p->msg));
    return DRAIN_MAX_MS;
}

/* proxy: the daemon state and the dispatch of received datagrams. */
#include "proxy.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "auth.h"
#include "flood.h"
#include "intake.h"
#include "keepalive.h"
#include "messaging.h"
#include "nat_store.h"
#include "pinhole/log.h"
#include "registration.h"

/* What proxyd handles: REGISTER (registration), OPTIONS to itself, and
 * routes: INVITE, CANCEL, every in-dialog method (messaging), every other
 * out-of-dialog one (outside.h); these are what phones send. */
#define PROXY_ALLOW                                                                                \
    "REGISTER, OPTIONS, INVITE, ACK, CANCEL, BYE, UPDATE, INFO, PRACK, MESSAGE, SUBSCRIBE, "       \
    "NOTIFY, PUBLISH, REFER"
/* PINHOLE_T1_MS bounds: a shorter T1 makes every timer proportionally
 * shorter (tests); a longer one than RFC 3261's is never wanted. */
#define T1_MIN_MS 1
#define T1_MAX_MS 500
struct proxy {
    struct proxy_env env;   /* loop, transactions, NAT table, config, counters */
    struct udp_sock *sock;  /* NULL when built on a caller's transport */
    struct transport tp;    /* what every module sends through: counts, then wire */
    struct transport wire;  /* the socket's (or the caller's) transport */
    struct nat_store state; /* the NAT client table's copy (issue #17) */
    struct intake intake;
    struct registration *reg;
    struct keepalive *ka;
    struct messaging *msg;
    struct flood *flood;
    struct auth *auth;         /* NULL without an auth section */
    struct timer *drain_check; /* while draining: stop once nothing is in flight */
};

typedef void (*request_fn)(struct proxy *p, struct txn_server *st, const osip_message_t *req,
                           const struct proxy_rx *rx);

/* ---- accessors ---- */

struct proxy_env *proxy_env(struct proxy *p)
{
    return &p->env;
}

const struct messaging *proxy_messaging(const struct proxy *p)
{
    return p->msg;
}

struct proxy_stats *proxy_stats(struct proxy *p)
{
    return &p->env.stats;
}

const struct auth *const *proxy_auth_slot(const struct proxy *p)
{
    return (const struct auth *const *)&p->auth;
}

const struct flood *proxy_flood(const struct proxy *p)
{
    return p->flood;
}

uint64_t proxy_flood_drops(const struct proxy *p)
{
    return flood_drops(p->flood);
}

uint64_t proxy_flood_refusals(const struct proxy *p)
{
    return flood_refusals(p->flood);
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
        p->env.stats.responses[code - PROXY_STATUS_MIN]++;
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

static void dispatch(void *arg, struct txn_server *st, const osip_message_t *req,
                     const struct proxy_rx *rx);
static void on_ack(void *arg, const osip_message_t *ack, const struct proxy_rx *rx);
static void on_stray_response(void *arg, osip_message_t *resp, const struct addr *src,
                              const struct transport *tp);

/* Keepalive gave up on a client: redirectd forgets its binding too. */
static void on_client_dropped(void *arg, const char *aor, const struct nat_binding *b)
{
    struct proxy *p = arg;
    char who[ADDR_STRLEN];
    int err = registration_unregister(p->reg, aor, b);
    addr_format(&b->nat, who, sizeof who);
    if (err)
        log_warn("keepalive: %s at %s stopped answering, dropped; cannot unregister it at "
                 "redirectd: error %d",
                 aor, who, err);
    else
        log_notice("keepalive: %s at %s stopped answering, dropped and unregistered", aor, who);
}

/* With an auth section: the module and its users; without: a warning at
 * every start, as anyone can then register any user. */
static int start_auth(struct proxy *p)
{
    char err[512];
    if (!p->env.cfg->auth.realm) {
        log_warn("auth: no auth section: anyone can register and call as any user "
                 "(docs/operations.md, \"Subscribers\")");
        return 0;
    }
    int rc = auth_new(&p->auth, &p->env, err, sizeof err);
    if (rc)
        log_error("%s", err);
    return rc;
}

/* limits.source_rate/burst, FLOOD_RATE/BURST when unset (a config built
 * in a test). */
static uint32_t source_rate(const struct proxyd_conf *cfg)
{
    return cfg->limits.source_rate > 0 ? (uint32_t)cfg->limits.source_rate : FLOOD_RATE;
}

static uint32_t source_burst(const struct proxyd_conf *cfg)
{
    return cfg->limits.source_burst > 0 ? (uint32_t)cfg->limits.source_burst : FLOOD_BURST;
}

/* `limits` of the running config, at start and on every reload. */
static void apply_limits(struct proxy *p)
{
    const struct proxyd_conf *cfg = p->env.cfg;
    (void)flood_set_budget(p->flood, source_rate(cfg), source_burst(cfg));
    txn_layer_set_max_servers(
        p->env.txn, cfg->limits.max_transactions > 0 ? (uint64_t)cfg->limits.max_transactions : 0);
}

int proxy_new(struct proxy **out, struct loop *l, const struct proxyd_conf *cfg,
              const struct transport *tp, const struct txn_timers *timers)
{
    struct proxy *p = calloc(1, sizeof *p);
    if (!p)
        return -ENOMEM;
    int err = proxy_env_open(&p->env, l, cfg, timers);
    if (err) {
        free(p);
        return err;
    }
    p->wire = *tp;
    wrap_transport(p);
    /* the NAT clients of before a restart, keepalives and all (issue #17) */
    err = nat_store_open(&p->state, cfg->state ? cfg->state : "memory", l, p->env.nat, &p->tp);
    if (err) {
        proxy_env_close(&p->env);
        free(p);
        return err;
    }
    intake_init(&p->intake, &p->env,
                &(struct intake_handlers){.on_request = dispatch,
                                          .on_ack = on_ack,
                                          .on_stray_response = on_stray_response,
                                          .arg = p});
    err = registration_new(&p->reg, &p->env);
    if (!err)
        err = keepalive_new(&p->ka, &p->env, true, on_client_dropped, p);
    if (!err)
        err = messaging_new(&p->msg, &p->env);
    if (!err)
        err = flood_new(&p->flood, source_rate(cfg), source_burst(cfg));
    if (!err)
        apply_limits(p);
    if (!err)
        err = start_auth(p);
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
    /* The env first: its transaction layer frees transactions without
     * callbacks, so the contexts freed next are referenced by nothing. */
    timer_free(p->drain_check);
    nat_store_close(&p->state); /* the table still exists: what is queued is kept */
    proxy_env_close(&p->env);
    registration_free(p->reg);
    messaging_free(p->msg);
    keepalive_free(p->ka);
    flood_free(p->flood);
    auth_free(p->auth);
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

/* The transaction timers: RFC 3261's, with Timer C (and the bound on an
 * unanswered server transaction) from timer_c; and a test hook
 * (docs/registration.md): PINHOLE_T1_MS shrinks T1, and T2/T4 with it, so
 * the 64·T1 timeout of a test takes seconds, not 32 s. */
static const struct txn_timers *timers_for(const struct proxyd_conf *cfg, struct txn_timers *tm)
{
    const char *v = getenv("PINHOLE_T1_MS");
    char *end;
    *tm = (struct txn_timers){.server_max_ms = (uint32_t)cfg->timer_c * 1000};
    if (!v || !*v)
        return tm;
    long t1 = strtol(v, &end, 10);
    if (*end || t1 < T1_MIN_MS || t1 > T1_MAX_MS) {
        log_warn("PINHOLE_T1_MS=%s ignored (want %d..%d)", v, T1_MIN_MS, T1_MAX_MS);
        return tm;
    }
    tm->t1_ms = (uint32_t)t1;
    tm->t2_ms = (uint32_t)t1 * 8;
    tm->t4_ms = (uint32_t)t1 * 10;
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
    int err = proxy_new(&p, l, cfg, &unbound, timers_for(cfg, &tm));
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

/* ---- requests ---- */

static void on_register(struct proxy *p, struct txn_server *st, const osip_message_t *req,
                        const struct proxy_rx *rx)
{
    registration_on_request(p->reg, st, req, rx);
}

static void on_options(struct proxy *p, struct txn_server *st, const osip_message_t *req,
                       const struct proxy_rx *rx)
{
    if (!proxy_env_addressed_to_us(&p->env, req, rx->tp)) {
        messaging_on_request(p->msg, st, req, rx); /* to a user: routed (outside.h) */
        return;
    }
    txn_server_respond_with(st, 200, (const char *const[]){"Allow", PROXY_ALLOW, NULL});
}

/* Out-of-dialog requests proxyd answers itself; INVITE, CANCEL and the
 * in-dialog requests go to the messaging module first, and every other
 * method after (dispatch): RFC 3261 §16 routes what it does not know. */
static const struct {
    const char *method;
    request_fn fn;
} handlers[] = {
    {"REGISTER", on_register},
    {"OPTIONS", on_options},
};

static void dispatch(void *arg, struct txn_server *st, const osip_message_t *req,
                     const struct proxy_rx *rx)
{
    struct proxy *p = arg;
    if (p->auth && auth_required(p->auth, req, rx)) {
        if (p->env.draining) { /* SIGTERM: no point proving who you are to a proxy that goes */
            (void)txn_server_respond_with(st, 503, (const char *const[]){"Retry-After", "5", NULL});
            return;
        }
        if (!auth_check(p->auth, st, req, rx))
            return; /* challenged, or 403 */
    }
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
    messaging_on_request(p->msg, st, req, rx); /* MESSAGE, SUBSCRIBE, PUBLISH, REFER... */
}

/* The ACK for a 2xx, end to end. */
static void on_ack(void *arg, const osip_message_t *ack, const struct proxy_rx *rx)
{
    struct proxy *p = arg;
    messaging_on_ack(p->msg, ack, rx);
}

/* 2xx retransmissions after our INVITE transaction ended. */
static void on_stray_response(void *arg, osip_message_t *resp, const struct addr *src,
                              const struct transport *tp)
{
    struct proxy *p = arg;
    messaging_on_stray_response(p->msg, resp, src, tp);
}

/* ---- datagrams ---- */

void proxy_receive(struct proxy *p, const struct transport *tp, const struct addr *src,
                   const char *buf, size_t len)
{
    /* Before any parsing: a banned source or a flood costs a hash and a
     * compare per datagram. The redirect server, the relays and the peers
     * are ours or vouched for: never rate-limited. */
    bool ours = proxy_env_exempt(&p->env, src);
    if (!ours && p->auth && auth_banned(p->auth, src))
        return;
    switch (ours ? FLOOD_PASS : flood_check(p->flood, src, loop_now_ms(p->env.loop))) {
    case FLOOD_PASS:
        intake_receive(&p->intake, tp, src, buf, len);
        return;
    case FLOOD_REFUSE:
        /* 503 + Retry-After from the raw bytes (no parse, no transaction);
         * a response or an ACK has no answer. Through tp, so counted. */
        (void)txn_respond_raw(tp, buf, len, 503, src);
        return;
    case FLOOD_DROP:
        return;
    }
}

/* ---- reload, drain ---- */

/* The users file is re-read; a section added or removed starts or stops
 * authentication. A users file that does not parse refuses the reload. */
static int reload_auth(struct proxy *p)
{
    char err[512];
    if (!p->env.cfg->auth.realm) {
        if (p->auth)
            log_warn("auth: section removed: anyone can register and call as any user");
        auth_free(p->auth);
        p->auth = NULL;
        return 0;
    }
    if (!p->auth)
        return start_auth(p);
    return auth_reload(p->auth, err, sizeof err);
}

int proxy_reload(struct proxy *p, const struct proxyd_conf *cfg)
{
    if (strcmp(cfg->state ? cfg->state : "memory",
               p->env.cfg->state ? p->env.cfg->state : "memory") != 0) {
        log_error("reload: state cannot change while running; restart instead");
        return -EINVAL;
    }
    if (!addr_equal(&cfg->listen, &p->env.cfg->listen)) {
        char was[ADDR_STRLEN], now[ADDR_STRLEN];
        log_error("reload: listen cannot change while running (%s -> %s); restart instead",
                  addr_format(&p->env.cfg->listen, was, sizeof was),
                  addr_format(&cfg->listen, now, sizeof now));
        return -EINVAL;
    }
    const struct proxyd_conf *old = p->env.cfg;
    p->env.cfg = cfg;
    int err = reload_auth(p);
    if (err) {
        p->env.cfg = old; /* the daemon keeps the old config, and so do we */
        return err;
    }
    keepalive_reconfigure(p->ka);
    apply_limits(p);
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
        loop_stop(p->env.loop);
    }
}

int proxy_drain(struct proxy *p)
{
    p->env.draining = true;
    if (!in_flight(p))
        return 0;
    if (timer_new(&p->drain_check, p->env.loop, on_drain_check, p) != 0)
        return 2000;
    timer_start_periodic(p->drain_check, DRAIN_CHECK_MS);
    log_notice("draining: %zu registrations and %zu calls in set-up", registration_pending(p->reg),
               messaging_calls_in_setup(p->msg));
    return DRAIN_MAX_MS;
}

/* relayd: libpinhole's txn_intake in front (with the trust check before
 * the transaction layer), then checks and dispatch (see relayd.h). */
#include "relayd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pinhole/sip_check.h"
#include "pinhole/txn_intake.h"
#include "pinhole/txn_reply.h"

#include "relay_check.h"
#include "relay_notice.h"
#include "setup.h"

/* Lines a peer can trigger: at most 20 per 10 s. */
#define RELAYD_LOG_INTERVAL_S 10
#define RELAYD_LOG_BURST 20

struct relayd {
    struct relay_ctx ctx;
    struct txn_layer *tl;
    struct txn_intake intake;
};

/* Counted apart in stats.requests; anything else is RELAY_M_OTHER. */
static const char *const relay_methods[RELAY_M_OTHER] = {
    [RELAY_M_INVITE] = "INVITE", [RELAY_M_ACK] = "ACK",         [RELAY_M_BYE] = "BYE",
    [RELAY_M_CANCEL] = "CANCEL", [RELAY_M_OPTIONS] = "OPTIONS", [RELAY_M_REGISTER] = "REGISTER",
};

static bool trusted(void *arg, const struct addr *src, size_t method);
static void refuse_untrusted(void *arg, const char *method_name, size_t method,
                             const struct addr *src, const char *buf, size_t len);
static void dispatch(void *arg, struct txn_server *st, osip_message_t *m, size_t method,
                     const struct addr *src);

static void intake_init(struct relayd *d)
{
    d->intake = (struct txn_intake){
        .tl = d->tl,
        .reply = &d->ctx.reply,
        .methods = relay_methods,
        .n_methods = RELAY_M_OTHER,
        .counters = TXN_INTAKE_COUNTERS(&d->ctx.stats),
        .log_rl = &d->ctx.log_rl,
        .forbid_budget = &d->ctx.forbid_budget,
        .trusted = trusted,
        .refuse = refuse_untrusted,
        .dispatch = dispatch,
        .arg = d,
    };
}

void relayd_table_config(const struct relayd_conf *conf, struct session_table_config *out)
{
    memset(out, 0, sizeof *out);
    out->media_address = conf->media_address;
    out->port_min = (uint16_t)conf->port_min;
    out->port_max = (uint16_t)conf->port_max;
    out->session_timeout_s = (unsigned)conf->session_timeout;
    out->max_lifetime_s = (unsigned)conf->session_max_lifetime;
    out->relatch_after_s = (unsigned)conf->relatch_after;
    out->latch_any = conf->latch_from == LATCH_FROM_ANY;
}

/* A session freed for silence or age: its proxy ends the call. */
static void on_session_gone(void *arg, const char *call_id, const struct addr *owner, bool idle)
{
    struct relayd *d = arg;
    struct addr self;
    setup_control_addr(&d->ctx, &self);
    if (relay_notice_send(d->tl, d->ctx.tp, &self, call_id, owner, idle) == 0)
        d->ctx.stats.notices_sent++;
    else
        d->ctx.stats.send_errors++;
}

int relayd_new(struct relayd **out, struct loop *l, const struct relayd_conf *conf,
               const struct transport *tp, const struct txn_timers *timers)
{
    struct session_table_config tc;
    struct relayd *d = calloc(1, sizeof *d);
    int err;

    if (!d)
        return -ENOMEM;
    d->ctx.conf = conf;
    d->ctx.loop = l;
    d->ctx.tp = tp;
    d->ctx.reply = TXN_REPLY_INTO(tp, &d->ctx.stats, RELAY_STATUS_MIN);
    d->ctx.log_rl.interval_s = RELAYD_LOG_INTERVAL_S;
    d->ctx.log_rl.burst = RELAYD_LOG_BURST;
    relayd_table_config(conf, &tc);
    err = session_table_new(&d->ctx.sessions, l, &tc);
    if (err == 0)
        err = txn_layer_new(&d->tl, l, timers);
    if (err) {
        relayd_free(d);
        return err;
    }
    intake_init(d);
    session_table_on_gone(d->ctx.sessions, on_session_gone, d);
    *out = d;
    return 0;
}

void relayd_free(struct relayd *d)
{
    if (!d)
        return;
    txn_layer_free(d->tl);
    session_table_free(d->ctx.sessions);
    free(d);
}

struct session_table *relayd_sessions(const struct relayd *d)
{
    return d->ctx.sessions;
}

void relayd_get_metrics(const struct relayd *d, struct relayd_metrics *out)
{
    memset(out, 0, sizeof *out);
    out->control = d->ctx.stats;
    session_table_get_stats(d->ctx.sessions, &out->sessions);
    txn_layer_stats(d->tl, &out->txn);
}

/* ---- reload ---- */

static bool same_binding(const struct relayd_conf *a, const struct relayd_conf *b)
{
    char was[ADDR_STRLEN], now[ADDR_STRLEN];

    if (!addr_equal(&a->listen, &b->listen)) {
        log_error("reload: listen cannot change from %s to %s without a restart",
                  addr_format(&a->listen, was, sizeof was),
                  addr_format(&b->listen, now, sizeof now));
        return false;
    }
    if (!addr_equal_host(&a->media_address, &b->media_address)) {
        log_error("reload: media_address cannot change from %s to %s without a restart",
                  addr_host_plain(&a->media_address, was, sizeof was),
                  addr_host_plain(&b->media_address, now, sizeof now));
        return false;
    }
    if (a->port_min != b->port_min || a->port_max != b->port_max) {
        log_error("reload: the port range cannot change from %d-%d to %d-%d without a restart",
                  a->port_min, a->port_max, b->port_min, b->port_max);
        return false;
    }
    return true;
}

int relayd_reconfigure(struct relayd *d, const struct relayd_conf *conf)
{
    struct session_table_config tc;

    if (!same_binding(d->ctx.conf, conf))
        return -EINVAL;
    relayd_table_config(conf, &tc);
    int err = session_table_reconfigure(d->ctx.sessions, &tc);
    if (err) {
        log_error("reload: the session table refused the new settings (error %d)", err);
        return err;
    }
    d->ctx.conf = conf;
    log_notice("reload: %zu proxies trusted, session_timeout %d s, session_max_lifetime %d s, "
               "relatch_after %d s, latch_from %s",
               conf->proxies.n, conf->session_timeout, conf->session_max_lifetime,
               conf->relatch_after, conf->latch_from == LATCH_FROM_ANY ? "any" : "signalling-ip");
    return 0;
}

/* ---- requests ---- */

/* design.md decision 11: only listed proxies talk to relayd. Checked on
 * the first line, before any parse and the transaction layer, so nothing
 * is parsed or kept for anyone else. */
static bool trusted(void *arg, const struct addr *src, size_t method)
{
    const struct relayd *d = arg;
    (void)method;
    return addr_list_match(&d->ctx.conf->proxies, src);
}

static void answer_options(struct relay_ctx *c, struct txn_server *st)
{
    struct session_table_stats ts;
    char sessions[24], streams[24], pairs[24];

    session_table_get_stats(c->sessions, &ts);
    snprintf(sessions, sizeof sessions, "%zu", ts.sessions);
    snprintf(streams, sizeof streams, "%zu", ts.streams);
    snprintf(pairs, sizeof pairs, "%zu", ts.pairs_free);
    /* name, value pairs */
    /* clang-format off */
    const char *const hdrs[] = {
        "Allow", RELAYD_ALLOW,
        "X-Relay-Sessions", sessions,
        "X-Relay-Streams", streams,
        "X-Relay-Pairs-Free", pairs,
        NULL,
    };
    /* clang-format on */
    txn_reply_status(&c->reply, st, 200, hdrs);
}

static void answer_not_allowed(struct relay_ctx *c, struct txn_server *st)
{
    static const char *const hdrs[] = {"Allow", RELAYD_ALLOW, NULL};
    txn_reply_status(&c->reply, st, 405, hdrs);
}

/* Returns 1 when the request may go on, else it has been answered. */
static int answer_checks(struct relay_ctx *c, struct txn_server *st, osip_message_t *m)
{
    /* relayd supports no SIP extension: every option tag is unknown. */
    char unsupported[SIP_CHECK_UNSUPPORTED_MAX + 1];
    int status = sip_check_request(m, NULL, unsupported, sizeof unsupported);
    if (status == 420) {
        const char *const hdrs[] = {"Unsupported", unsupported, NULL};
        txn_reply_status(&c->reply, st, 420, hdrs);
        return 0;
    }
    if (status) {
        txn_reply_status(&c->reply, st, status, NULL);
        return 0;
    }
    return 1;
}

static void dispatch(void *arg, struct txn_server *st, osip_message_t *m, size_t method,
                     const struct addr *src)
{
    struct relayd *d = arg;
    struct relay_ctx *c = &d->ctx;
    (void)src;
    if (answer_checks(c, st, m) != 1)
        return;
    switch (method) {
    case RELAY_M_INVITE:
        setup_invite(c, st, m);
        break;
    case RELAY_M_BYE:
        setup_bye(c, st, m);
        break;
    case RELAY_M_OPTIONS:
        answer_options(c, st);
        break;
    case RELAY_M_CANCEL:
        /* every INVITE is answered before we return: RFC 3261 9.2 leaves
         * nothing to cancel; the proxy releases with BYE (decision 9) */
        txn_reply_status(&c->reply, st, 481, NULL);
        break;
    case RELAY_M_REGISTER:
        txn_reply_reason(&c->reply, st, 403, "Not A Registrar");
        break;
    default:
        answer_not_allowed(c, st);
        break;
    }
}

static void refuse_untrusted(void *arg, const char *method_name, size_t method,
                             const struct addr *src, const char *buf, size_t len)
{
    struct relayd *d = arg;
    (void)method;
    txn_intake_forbid(&d->intake, method_name, src, buf, len, &d->ctx.stats.forbidden);
}

void relayd_receive(struct relayd *d, const struct addr *src, const char *buf, size_t len)
{
    txn_intake_receive(&d->intake, src, buf, len);
}

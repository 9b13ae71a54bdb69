/* relayd: intake, trust, transaction layer, checks and dispatch (see
 * relayd.h). */
#include "relayd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pinhole/sip_check.h"
#include "pinhole/txn_reply.h"

#include "relay_check.h"
#include "setup.h"

/* Lines a peer can trigger: at most 20 per 10 s. */
#define RELAYD_LOG_INTERVAL_S 10
#define RELAYD_LOG_BURST 20

struct relayd {
    struct relay_ctx ctx;
    struct txn_layer *tl;
};

void relayd_table_config(const struct relayd_conf *conf, struct session_table_config *out)
{
    memset(out, 0, sizeof *out);
    out->media_address = conf->media_address;
    out->port_min = (uint16_t)conf->port_min;
    out->port_max = (uint16_t)conf->port_max;
    out->session_timeout_s = (unsigned)conf->session_timeout;
    out->max_lifetime_s = (unsigned)conf->session_max_lifetime;
    out->relatch_after_s = (unsigned)conf->relatch_after;
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
    d->ctx.reply = (struct txn_reply){.tp = tp,
                                      .responses = d->ctx.stats.responses,
                                      .slots = RELAY_STATUS_SLOTS,
                                      .status_min = RELAY_STATUS_MIN,
                                      .send_errors = &d->ctx.stats.send_errors};
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
               "relatch_after %d s",
               conf->proxies.n, conf->session_timeout, conf->session_max_lifetime,
               conf->relatch_after);
    return 0;
}

/* ---- helpers ---- */

static enum relay_method method_of(const osip_message_t *m)
{
    static const char *const names[] = {
        [RELAY_M_INVITE] = "INVITE", [RELAY_M_ACK] = "ACK",         [RELAY_M_BYE] = "BYE",
        [RELAY_M_CANCEL] = "CANCEL", [RELAY_M_OPTIONS] = "OPTIONS", [RELAY_M_REGISTER] = "REGISTER",
    };
    for (size_t i = 0; i < RELAY_M_OTHER; i++)
        if (sip_method_is(m, names[i]))
            return (enum relay_method)i;
    return RELAY_M_OTHER;
}

static void log_peer(struct relay_ctx *c, const struct addr *src, const char *what, const char *why)
{
    char who[ADDR_STRLEN];
    if (log_ratelimit_allow(&c->log_rl))
        log_warn("%s from %s: %s", what, addr_format(src, who, sizeof who), why);
}

/* design.md decision 11: only listed proxies talk to relayd. */
static bool trusted(const struct relay_ctx *c, const struct addr *src)
{
    return addr_list_match(&c->conf->proxies, src);
}

/* ---- unparseable datagrams ---- */

/* Answers a request that failed to parse but got far enough to be
 * answered: through the transaction layer for a proxy (its
 * retransmissions are absorbed, not answered again), statelessly when the
 * layer cannot key it or the source is not trusted. */
static void answer_unparsed(struct relayd *d, osip_message_t **mp, int status,
                            const struct addr *src)
{
    osip_message_t *m = *mp;
    struct txn_server *st = NULL;
    if (sip_via_set_received(m, src) != 0)
        return;
    if (!trusted(&d->ctx, src)) {
        txn_reply_stateless(&d->ctx.reply, m, status, src);
        return;
    }
    int rc = txn_server_receive(d->tl, mp, src, d->ctx.tp, &st);
    if (rc == TXN_NEW && st)
        txn_reply_status(&d->ctx.reply, st, status, NULL);
    else if (rc == -EINVAL)
        txn_reply_stateless(&d->ctx.reply, m, status, src);
    else if (rc == TXN_RETRANSMISSION)
        d->ctx.stats.absorbed++;
}

static void refuse_unparsed(struct relayd *d, osip_message_t **mp,
                            const struct sip_parse_result *res, const struct addr *src)
{
    osip_message_t *m = *mp;
    d->ctx.stats.parse_errors++;
    log_peer(&d->ctx, src, "unparseable datagram", res->reason ? res->reason : "malformed");
    if (!m || !res->answerable || !sip_is_request(m) || sip_method_is(m, "ACK"))
        return;
    answer_unparsed(d, mp, res->error == SIP_PARSE_VERSION ? 505 : 400, src);
}

/* ---- requests ---- */

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

static void dispatch(struct relayd *d, struct txn_server *st, osip_message_t *m,
                     enum relay_method method)
{
    struct relay_ctx *c = &d->ctx;
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

static void refuse_untrusted(struct relayd *d, osip_message_t *m, enum relay_method method,
                             const struct addr *src)
{
    char what[40];
    if (method == RELAY_M_ACK)
        return; /* never answered */
    d->ctx.stats.forbidden++;
    snprintf(what, sizeof what, "%.32s", sip_method(m)); /* a method is any token */
    log_peer(&d->ctx, src, what, "not in proxies, answered 403");
    txn_reply_stateless(&d->ctx.reply, m, 403, src);
}

static void handle_request(struct relayd *d, osip_message_t **mp, const struct addr *src)
{
    osip_message_t *m = *mp;
    struct txn_server *st = NULL;
    enum relay_method method = method_of(m);

    /* Responses go to the datagram's source and nowhere else (RFC 3581
     * with rport forced, as a Via may name any host). */
    if (sip_via_set_received(m, src) != 0)
        return;
    if (!trusted(&d->ctx, src)) {
        refuse_untrusted(d, m, method, src);
        return;
    }
    int rc = txn_server_receive(d->tl, mp, src, d->ctx.tp, &st);
    if (rc == TXN_RETRANSMISSION) {
        d->ctx.stats.absorbed++;
        return;
    }
    if (rc == TXN_ACK_ABSORBED) {
        d->ctx.stats.acks_absorbed++;
        return;
    }
    if (rc < 0) {
        if (rc == -EINVAL && method != RELAY_M_ACK)
            txn_reply_stateless(&d->ctx.reply, m, 400, src);
        return;
    }
    if (!st) {
        d->ctx.stats.stray_acks++; /* no transaction: nothing to end */
        return;
    }
    d->ctx.stats.requests[method]++;
    dispatch(d, st, m, method);
    /* Never leave a transaction unanswered until server_max_ms. */
    if (!txn_server_is_final(st))
        txn_reply_status(&d->ctx.reply, st, 500, NULL);
}

void relayd_receive(struct relayd *d, const struct addr *src, const char *buf, size_t len)
{
    osip_message_t *m = NULL;
    struct sip_parse_result res = {0};

    if (sip_parse(&m, buf, len, &res) != 0) {
        refuse_unparsed(d, &m, &res, src);
    } else if (!sip_is_request(m)) {
        d->ctx.stats.stray_responses++; /* relayd sends no requests */
    } else {
        handle_request(d, &m, src);
    }
    if (m)
        sip_free(m);
}

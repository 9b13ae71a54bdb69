/* redirector: intake, transaction layer, checks and dispatch (see
 * redirector.h). */
#include "redirector.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pinhole/sip_check.h"
#include "pinhole/txn_reply.h"

#include "locator.h"
#include "registrar.h"

/* The table starts small and doubles as bindings arrive. */
#define REDIRECTOR_TABLE_HINT 1024
/* Lines a peer can trigger: at most 20 per 10 s. */
#define REDIRECTOR_LOG_INTERVAL_S 10
#define REDIRECTOR_LOG_BURST 20

struct redirector {
    struct rd_ctx ctx;
    struct txn_layer *tl;
};

int redirector_new(struct redirector **out, struct loop *l, const struct redirectd_conf *conf,
                   const struct transport *tp, const struct txn_timers *timers)
{
    struct redirector *r = calloc(1, sizeof *r);
    int err;
    if (!r)
        return -ENOMEM;
    r->ctx.conf = conf;
    r->ctx.loop = l;
    r->ctx.tp = tp;
    r->ctx.reply = (struct txn_reply){.tp = tp,
                                      .responses = r->ctx.stats.responses,
                                      .slots = RD_STATUS_SLOTS,
                                      .status_min = RD_STATUS_MIN,
                                      .send_errors = &r->ctx.stats.send_errors};
    r->ctx.log_rl.interval_s = REDIRECTOR_LOG_INTERVAL_S;
    r->ctx.log_rl.burst = REDIRECTOR_LOG_BURST;
    err = client_table_new(&r->ctx.clients, REDIRECTOR_TABLE_HINT);
    if (err)
        goto out;
    err = client_table_attach(r->ctx.clients, l);
    if (err)
        goto out;
    err = txn_layer_new(&r->tl, l, timers);
    if (err)
        goto out;
    *out = r;
    return 0;
out:
    redirector_free(r);
    return err;
}

void redirector_free(struct redirector *r)
{
    if (!r)
        return;
    txn_layer_free(r->tl);
    client_table_free(r->ctx.clients);
    free(r);
}

void redirector_reconfigure(struct redirector *r, const struct redirectd_conf *conf)
{
    r->ctx.conf = conf;
}

const struct redirectd_stats *redirector_stats(const struct redirector *r)
{
    return &r->ctx.stats;
}

void redirector_txn_stats(const struct redirector *r, struct txn_stats *out)
{
    txn_layer_stats(r->tl, out);
}

struct client_table *redirector_clients(const struct redirector *r)
{
    return r->ctx.clients;
}

/* ---- helpers ---- */

static enum rd_method method_of(const osip_message_t *m)
{
    static const char *const names[] = {
        [RD_REGISTER] = "REGISTER", [RD_INVITE] = "INVITE", [RD_ACK] = "ACK",
        [RD_OPTIONS] = "OPTIONS",   [RD_CANCEL] = "CANCEL",
    };
    for (size_t i = 0; i < RD_OTHER; i++)
        if (sip_method_is(m, names[i]))
            return (enum rd_method)i;
    return RD_OTHER;
}

static void log_peer(struct rd_ctx *c, const struct addr *src, const char *what, const char *why)
{
    if (log_ratelimit_allow(&c->log_rl)) {
        char who[ADDR_STRLEN];
        log_warn("%s from %s: %s", what, addr_format(src, who, sizeof who), why);
    }
}

/* ---- unparseable datagrams ---- */

/* Answers a request that failed to parse but got far enough to be
 * answered. Still through the transaction layer, so its retransmissions are
 * absorbed instead of answered again; statelessly when the layer cannot key
 * it. */
static void answer_unparsed(struct redirector *r, osip_message_t **mp, int status,
                            const struct addr *src)
{
    osip_message_t *m = *mp;
    struct txn_server *st = NULL;
    if (sip_via_set_received(m, src) != 0)
        return;
    int rc = txn_server_receive(r->tl, mp, src, r->ctx.tp, &st);
    if (rc == TXN_NEW && st)
        txn_reply_status(&r->ctx.reply, st, status, NULL);
    else if (rc == -EINVAL)
        txn_reply_stateless(&r->ctx.reply, m, status, src);
    else if (rc == TXN_RETRANSMISSION)
        r->ctx.stats.absorbed++;
}

static void refuse_unparsed(struct redirector *r, osip_message_t **mp,
                            const struct sip_parse_result *res, const struct addr *src)
{
    osip_message_t *m = *mp;
    r->ctx.stats.parse_errors++;
    log_peer(&r->ctx, src, "unparseable datagram", res->reason ? res->reason : "malformed");
    if (!m || !res->answerable || !sip_is_request(m) || sip_method_is(m, "ACK"))
        return;
    answer_unparsed(r, mp, res->error == SIP_PARSE_VERSION ? 505 : 400, src);
}

/* ---- requests ---- */

static int answer_options(struct rd_ctx *c, struct txn_server *st)
{
    static const char *const hdrs[] = {"Allow", REDIRECTOR_ALLOW, "Supported", REDIRECTOR_SUPPORTED,
                                       NULL};
    return txn_reply_status(&c->reply, st, 200, hdrs);
}

/* Every INVITE is answered before we return, so a CANCEL always arrives
 * after the final response (RFC 3261 9.2: nothing left to cancel). */
static int answer_cancel(struct rd_ctx *c, struct txn_server *st)
{
    return txn_reply_status(&c->reply, st, 481, NULL);
}

static int answer_not_allowed(struct rd_ctx *c, struct txn_server *st)
{
    static const char *const hdrs[] = {"Allow", REDIRECTOR_ALLOW, NULL};
    return txn_reply_status(&c->reply, st, 405, hdrs);
}

/* design.md decision 11: only listed proxies may REGISTER or INVITE. */
static bool trusted(const struct rd_ctx *c, enum rd_method method, const struct addr *src)
{
    return method == RD_OPTIONS || addr_list_match(&c->conf->proxies, src);
}

static int answer_checks(struct rd_ctx *c, struct txn_server *st, osip_message_t *m)
{
    static const char *const supported[] = {REDIRECTOR_SUPPORTED, NULL};
    char unsupported[SIP_CHECK_UNSUPPORTED_MAX + 1];
    int status = sip_check_request(m, supported, unsupported, sizeof unsupported);
    if (status == 420) {
        const char *const hdrs[] = {"Unsupported", unsupported, NULL};
        return txn_reply_status(&c->reply, st, 420, hdrs);
    }
    return status ? txn_reply_status(&c->reply, st, status, NULL) : 1;
}

static void dispatch(struct redirector *r, struct txn_server *st, osip_message_t *m,
                     enum rd_method method, const struct addr *src)
{
    struct rd_ctx *c = &r->ctx;
    if (!trusted(c, method, src)) {
        c->stats.forbidden++;
        log_peer(c, src, sip_method(m), "not in proxies, answered 403");
        txn_reply_status(&c->reply, st, 403, NULL);
        return;
    }
    if (answer_checks(c, st, m) != 1)
        return;
    switch (method) {
    case RD_REGISTER:
        registrar_handle(c, st, m, src);
        break;
    case RD_INVITE:
        locator_handle(c, st, m, src);
        break;
    case RD_OPTIONS:
        answer_options(c, st);
        break;
    case RD_CANCEL:
        answer_cancel(c, st);
        break;
    default:
        answer_not_allowed(c, st);
        break;
    }
}

static void handle_request(struct redirector *r, osip_message_t **mp, const struct addr *src)
{
    osip_message_t *m = *mp;
    struct txn_server *st = NULL;
    enum rd_method method = method_of(m);

    /* Responses go to the datagram's source and nowhere else (RFC 3581
     * with rport forced, as a Via may name any host). */
    if (sip_via_set_received(m, src) != 0)
        return;
    int rc = txn_server_receive(r->tl, mp, src, r->ctx.tp, &st);
    if (rc == TXN_RETRANSMISSION) {
        r->ctx.stats.absorbed++;
        return;
    }
    if (rc == TXN_ACK_ABSORBED) {
        r->ctx.stats.acks_absorbed++;
        return;
    }
    if (rc < 0) {
        if (rc == -EINVAL && method != RD_ACK)
            txn_reply_stateless(&r->ctx.reply, m, 400, src);
        return;
    }
    if (!st) {
        r->ctx.stats.stray_acks++; /* no transaction: nothing to end */
        return;
    }
    r->ctx.stats.requests[method]++;
    dispatch(r, st, m, method, src);
    /* Never leave a transaction unanswered until server_max_ms. */
    if (!txn_server_is_final(st))
        txn_reply_status(&r->ctx.reply, st, 500, NULL);
}

void redirector_receive(struct redirector *r, const struct addr *src, const char *buf, size_t len)
{
    osip_message_t *m = NULL;
    struct sip_parse_result res = {0};

    if (sip_parse(&m, buf, len, &res) != 0) {
        refuse_unparsed(r, &m, &res, src);
    } else if (!sip_is_request(m)) {
        r->ctx.stats.stray_responses++; /* we send no requests: nothing to match */
    } else {
        handle_request(r, &m, src);
    }
    if (m)
        sip_free(m);
}

/* redirector: libpinhole's txn_intake in front, then trust, checks and
 * dispatch (see redirector.h). */
#include "redirector.h"

#include <errno.h>
#include <stdlib.h>

#include "pinhole/sip_check.h"
#include "pinhole/txn_intake.h"
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
    struct txn_intake intake;
};

/* Counted apart in stats.requests; anything else is RD_OTHER. */
static const char *const rd_methods[RD_OTHER] = {
    [RD_REGISTER] = "REGISTER", [RD_INVITE] = "INVITE", [RD_ACK] = "ACK",
    [RD_OPTIONS] = "OPTIONS",   [RD_CANCEL] = "CANCEL",
};

static void dispatch(void *arg, struct txn_server *st, osip_message_t *m, size_t method_index,
                     const struct addr *src);
static bool trusted(void *arg, const struct addr *src, size_t method);
static void refuse(void *arg, const char *method_name, size_t method, const struct addr *src,
                   const char *buf, size_t len);

static void intake_init(struct redirector *r)
{
    r->intake = (struct txn_intake){
        .tl = r->tl,
        .reply = &r->ctx.reply,
        .methods = rd_methods,
        .n_methods = RD_OTHER,
        .counters = TXN_INTAKE_COUNTERS(&r->ctx.stats),
        .log_rl = &r->ctx.log_rl,
        .forbid_budget = &r->ctx.forbid_budget,
        .trusted = trusted,
        .refuse = refuse,
        .dispatch = dispatch,
        .arg = r,
    };
}

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
    r->ctx.reply = TXN_REPLY_INTO(tp, &r->ctx.stats, RD_STATUS_MIN);
    r->ctx.log_rl.interval_s = REDIRECTOR_LOG_INTERVAL_S;
    r->ctx.log_rl.burst = REDIRECTOR_LOG_BURST;
    err = client_table_new(&r->ctx.clients, REDIRECTOR_TABLE_HINT, (unsigned)conf->max_contacts);
    if (err)
        goto out;
    err = client_table_attach(r->ctx.clients, l);
    if (err)
        goto out;
    /* every unexpired binding back before anything is served */
    err = binding_store_open(&r->ctx.bindings, conf->store ? conf->store : "memory", l,
                             r->ctx.clients);
    if (err)
        goto out;
    err = txn_layer_new(&r->tl, l, timers);
    if (err)
        goto out;
    intake_init(r);
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
    /* first: what is queued is committed and its REGISTERs answered while
     * their transactions still exist */
    if (r->ctx.bindings.store)
        binding_store_close(&r->ctx.bindings);
    txn_layer_free(r->tl);
    client_table_free(r->ctx.clients);
    free(r);
}

const struct binding_store *redirector_bindings(const struct redirector *r)
{
    return &r->ctx.bindings;
}

void redirector_reconfigure(struct redirector *r, const struct redirectd_conf *conf)
{
    r->ctx.conf = conf;
    client_table_set_max_contacts(r->ctx.clients, (unsigned)conf->max_contacts);
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

/* An OPTIONS for a user (sip:alice@redirect) from a proxy is a location
 * query like any other request (a phone's OPTIONS to a user, routed by
 * proxyd); one for redirectd itself, or from anyone else, is the health
 * check. */
static bool options_for_a_user(const struct rd_ctx *c, const osip_message_t *m,
                               const struct addr *src)
{
    const char *user = sip_request_uri_user(m);
    return user && *user && addr_list_match(&c->conf->proxies, src);
}

/* design.md decision 11: only listed proxies may REGISTER or INVITE;
 * anyone may ask OPTIONS (health checks). Asked by the intake on the first
 * line, before any parse. */
static bool trusted(void *arg, const struct addr *src, size_t method)
{
    const struct redirector *r = arg;
    return method == RD_OPTIONS || addr_list_match(&r->ctx.conf->proxies, src);
}

static void refuse(void *arg, const char *method_name, size_t method, const struct addr *src,
                   const char *buf, size_t len)
{
    struct redirector *r = arg;
    (void)method;
    txn_intake_forbid(&r->intake, method_name, src, buf, len, &r->ctx.stats.forbidden);
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

/* The intake's dispatch. redirectd checks trust after the transaction
 * layer: a refused request's retransmissions are absorbed, and the layer
 * resends the 403. */
static void dispatch(void *arg, struct txn_server *st, osip_message_t *m, size_t method_index,
                     const struct addr *src)
{
    struct redirector *r = arg;
    struct rd_ctx *c = &r->ctx;
    enum rd_method method = (enum rd_method)method_index;
    /* trusted: the intake asked trusted() */
    if (answer_checks(c, st, m) != 1)
        return;
    switch (method) {
    case RD_REGISTER:
        registrar_handle(c, st, m, src);
        break;
    case RD_OPTIONS:
        if (options_for_a_user(c, m, src))
            locator_handle(c, st, m, src);
        else
            answer_options(c, st);
        break;
    case RD_CANCEL:
        answer_cancel(c, st);
        break;
    default:
        /* INVITE and every other method (MESSAGE, SUBSCRIBE, PUBLISH, REFER,
         * ones we do not know): where the user is, RFC 3261 8.3 */
        locator_handle(c, st, m, src);
        break;
    }
}

void redirector_receive(struct redirector *r, const struct addr *src, const char *buf, size_t len)
{
    txn_intake_receive(&r->intake, src, buf, len);
}

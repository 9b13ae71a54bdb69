/* registration: figure 3a. One pending context per REGISTER forwarded to
 * redirectd ties the phone's server transaction to our client transaction;
 * it dies when redirectd answers or the client transaction times out. */
#include "registration.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nat_detect.h"
#include "pinhole/dlist.h"
#include "pinhole/log.h"
#include "request.h"

/* RFC 3261 §10.2.1.1: what a registrar grants when nobody asked. Only used
 * when redirectd's 200 does not say (it always should). */
#define REGISTER_DEFAULT_EXPIRES 3600
/* Contacts of redirectd's 200 we look at: its max_contacts bound. */
#define REGISTER_LISTED_MAX 32

struct pending {
    struct registration *r;
    struct dlist link;     /* in r->pending */
    struct txn_server *st; /* NULL once the phone's transaction is gone */
    struct addr src;       /* step 114: the NAT's address and port */
    struct transport tp;   /* the socket the REGISTER came in on */
    char *contact;         /* the phone's own Contact URI (osip_free); NULL for "*" */
    long asked;            /* Expires sent to redirectd; -1 when absent */
    bool nated;
    bool unregister;
    uint64_t phone; /* nat_table_phone_key of the Call-ID */
    char aor[NAT_AOR_MAX + 1];
};

struct registration {
    struct proxy_env *env;
    struct dlist pending;
    size_t npending;
    struct log_ratelimit bad_rl; /* bad REGISTERs: a peer can send them at will */
};

int registration_new(struct registration **out, struct proxy_env *env)
{
    struct registration *r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    r->env = env;
    dlist_init(&r->pending);
    r->bad_rl.interval_s = 10;
    r->bad_rl.burst = 5;
    *out = r;
    return 0;
}

static void pending_free(struct pending *pd)
{
    struct registration *r = pd->r;
    dlist_remove(&pd->link);
    r->npending--;
    if (pd->st && !r->env->closing)
        txn_server_set_user(pd->st, NULL, NULL);
    osip_free(pd->contact);
    free(pd);
}

void registration_free(struct registration *r)
{
    if (!r)
        return;
    while (!dlist_empty(&r->pending))
        pending_free(dlist_entry(r->pending.next, struct pending, link));
    free(r);
}

size_t registration_pending(const struct registration *r)
{
    return r->npending;
}

/* ---- checks ---- */

int registration_check(const osip_message_t *req, struct register_info *info)
{
    char callid[256];
    uint32_t cseq;
    const char *cseq_method;

    memset(info, 0, sizeof *info);
    info->aor = sip_to_user(req);
    /* §25.1 user characters only, so that the ID can go into the URIs we
     * build ourselves (keepalive, unregister) without escaping */
    if (!sip_user_valid(info->aor, NAT_AOR_MAX))
        return 400;
    if (sip_call_id(req, callid, sizeof callid) != 0 || sip_cseq(req, &cseq, &cseq_method) != 0)
        return 400;
    /* One binding per ID (the patent's client table 104 keeps one channel
     * per client); a REGISTER without Contact would be a query, which the
     * redirect server does not answer. */
    if (sip_contact_count(req) != 1)
        return 400;
    info->expires = sip_register_expires(req);
    if (info->expires < -1)
        return 400;
    if (sip_contact_is_star(req)) {
        if (info->expires != 0) /* RFC 3261 §10.3 step 6 */
            return 400;
    } else {
        char *uri = NULL;
        if (sip_contact_uri_text(req, &uri) != 0)
            return 400;
        osip_free(uri);
    }
    info->unregister = info->expires == 0;
    return 0;
}

/* ---- step 116: the redirect registration ---- */

static int cap_expires(osip_message_t *m, long max)
{
    long asked = sip_register_expires(m);
    if (asked == 0)
        return 0;
    return sip_set_expires(m, asked < 0 || asked > max ? max : asked);
}

int registration_build_redirect(osip_message_t **out, const osip_message_t *req,
                                const struct addr *src, bool nated, const struct proxyd_conf *cfg,
                                const char *branch)
{
    osip_message_t *m = NULL;
    int err = sip_clone(req, &m);
    if (err)
        return err;
    if (nated && !sip_contact_is_star(m)) {
        /* Fig. 3b: the NAT's address and port replace fields 180 and 182. */
        err = sip_contact_set(m, src);
        if (!err)
            err = cap_expires(m, cfg->nat.max_expires); /* design decision 10 */
        if (err)
            goto out;
    }
    if (cfg->auth.realm) /* the credentials were for us, not for redirectd */
        sip_credentials_remove(m, false, cfg->auth.realm);
    err = sip_request_uri_set(m, &cfg->redirect);
    if (!err)
        err = sip_path_push(m, &cfg->advertise); /* decision 3: we serve this client */
    if (!err) {
        int mf = sip_max_forwards_decrement(m);
        err = mf < 0 ? mf : 0;
    }
    if (!err)
        err = sip_via_push(m, &cfg->advertise, branch, NULL, 0);
out:
    if (err) {
        sip_free(m);
        return err;
    }
    *out = m;
    return 0;
}

/* ---- step 119 and the answer to the phone ---- */

/* Which Contact of redirectd's 200 is this phone's: the one at the address
 * we registered for it (its NAT address, or its own Contact's); -1 none. */
static int own_binding(const struct pending *pd, const osip_message_t *resp)
{
    struct addr want, a;
    if (pd->nated)
        want = pd->src;
    else if (!pd->st || sip_contact_addr(txn_server_request(pd->st), &want) != 0)
        return -1;
    for (int i = 0; i < sip_contact_count(resp) && i < REGISTER_LISTED_MAX; i++)
        if (sip_contact_addr_at(resp, i, &a) == 0 && addr_equal(&a, &want))
            return i;
    return -1;
}

/* What redirectd granted this phone: its own binding's expires in the 200
 * (a user with several phones has several), else the Expires header. */
static long redirect_granted(const struct pending *pd, const osip_message_t *resp)
{
    int i = own_binding(pd, resp);
    char *uri = NULL;
    long e = -1;
    int q;
    if (i >= 0 && sip_contact_at(resp, i, &uri, &e, &q) == 0 && e >= 0) {
        osip_free(uri);
        return e;
    }
    osip_free(uri);
    e = sip_expires_header(resp);
    return e >= 0 ? e : sip_register_expires(resp);
}

static long granted_expires(const struct pending *pd, const osip_message_t *resp,
                            const struct proxyd_conf *cfg)
{
    if (pd->unregister)
        return 0;
    long granted = redirect_granted(pd, resp);
    if (granted < 0)
        granted = pd->asked >= 0 ? pd->asked : REGISTER_DEFAULT_EXPIRES;
    if (pd->nated && granted > cfg->nat.max_expires)
        granted = cfg->nat.max_expires;
    return granted;
}

/* Step 119, once redirectd has accepted: the table never holds a client the
 * redirect server does not know. */
static void record_client(struct pending *pd, long granted)
{
    struct proxy_env *env = pd->r->env;
    struct nat_table *nat = env->nat;
    char who[ADDR_STRLEN];

    if (granted == 0) {
        /* "Contact: *" unregisters every phone of the user; a Contact, this one */
        if (pd->contact)
            nat_table_remove_at(nat, pd->aor, &pd->src);
        else
            nat_table_remove(nat, pd->aor);
        env->stats.unregistrations++;
        log_debug("registration: %s unregistered", pd->aor);
        return;
    }
    if (!pd->nated) {
        nat_table_remove_phone(nat, pd->aor, pd->phone); /* it may have moved off its NAT */
        log_debug("registration: %s registered for %lds (not NATed)", pd->aor, granted);
        return;
    }
    uint64_t until = loop_now_ms(env->loop) + (uint64_t)granted * 1000;
    int err = nat_table_put(nat, pd->aor, &pd->src, &pd->tp, until, pd->phone);
    addr_format(&pd->src, who, sizeof who);
    if (err)
        log_error("registration: %s at %s: NAT table: error %d (no keepalives)", pd->aor, who, err);
    else
        log_debug("registration: %s registered for %lds behind NAT %s", pd->aor, granted, who);
}

/* RFC 3261 10.3 step 8: the user's other phones' bindings too, as
 * redirectd lists them (the public addresses this proxy reaches them at). */
static int list_others(const struct pending *pd, const osip_message_t *resp, osip_message_t *ok)
{
    int own = own_binding(pd, resp), err = 0;
    for (int i = 0; i < sip_contact_count(resp) && i < REGISTER_LISTED_MAX && !err; i++) {
        char *uri = NULL;
        long e;
        int q;
        if (i != own && sip_contact_at(resp, i, &uri, &e, &q) == 0)
            err = sip_contact_add(ok, uri, e, q);
        osip_free(uri);
    }
    return err == -EINVAL ? 0 : err; /* one we cannot echo is left out */
}

static void answer_ok(struct pending *pd, long granted, const osip_message_t *resp)
{
    osip_message_t *ok = NULL;
    int err = sip_response_new(&ok, txn_server_request(pd->st), 200, txn_server_to_tag(pd->st));
    if (!err && granted > 0 && pd->contact) {
        /* The phone sees its own Contact, not the NAT address redirectd
         * holds: phones check that the 200 lists what they registered. */
        char secs[24];
        snprintf(secs, sizeof secs, "%ld", granted);
        err = sip_contact_replace(ok, pd->contact, granted);
        if (!err)
            err = sip_header_set(ok, "Expires", secs);
    }
    if (!err)
        err = list_others(pd, resp, ok);
    if (!err)
        err = txn_server_respond(pd->st, ok);
    if (err)
        log_warn("registration: %s: cannot answer 200: error %d", pd->aor, err);
    sip_free(ok);
}

/* Relays redirectd's error with the headers that tell the phone what to do
 * next (423's Min-Expires, 503's Retry-After). */
static void answer_error(struct pending *pd, int status, const osip_message_t *resp)
{
    static const char *const copied[] = {"Min-Expires", "Retry-After"};
    const char *headers[2 * 2 + 1];
    size_t n = 0;
    for (size_t i = 0; resp && i < sizeof copied / sizeof copied[0]; i++) {
        const char *v = sip_header_get(resp, copied[i]);
        if (v) {
            headers[n++] = copied[i];
            headers[n++] = v;
        }
    }
    headers[n] = NULL;
    int err = txn_server_respond_with(pd->st, status, headers);
    if (err)
        log_warn("registration: %s: cannot answer %d: error %d", pd->aor, status, err);
}

static void on_redirect_answer(struct txn_client *ct, osip_message_t *resp, const struct addr *src,
                               void *arg)
{
    struct pending *pd = arg;
    const struct proxy_env *env = pd->r->env;
    struct proxy_stats *stats = &pd->r->env->stats;
    int status = resp ? sip_status(resp) : 408;
    (void)ct;
    (void)src;

    if (status < 200)
        return; /* 100 Trying from redirectd: keep waiting */
    if (status < 300) {
        long granted = granted_expires(pd, resp, env->cfg);
        record_client(pd, granted);
        stats->registrations_ok++;
        if (pd->st)
            answer_ok(pd, granted, resp);
    } else {
        stats->registrations_failed++;
        if (!resp) {
            stats->registration_timeouts++;
            log_warn("registration: %s: redirectd did not answer", pd->aor);
        } else if (status == 403) {
            log_warn("registration: redirectd refused %s with 403: is this proxy in its "
                     "proxies list?",
                     pd->aor);
        }
        if (pd->st)
            answer_error(pd, status, resp);
    }
    pending_free(pd);
}

static void on_phone_txn_end(struct txn_server *st, void *arg)
{
    struct pending *pd = arg;
    (void)st;
    pd->st = NULL; /* redirectd's answer may still update the table */
}

/* Everything the answer will need, copied out of the request. */
static int pending_new(struct pending **out, struct registration *r, const osip_message_t *req,
                       const struct register_info *info, const struct proxy_rx *rx, bool nated)
{
    struct pending *pd = calloc(1, sizeof *pd);
    if (!pd)
        return -ENOMEM;
    if (!sip_contact_is_star(req) && sip_contact_uri_text(req, &pd->contact) != 0) {
        free(pd);
        return -ENOMEM;
    }
    pd->r = r;
    pd->src = rx->src;
    pd->tp = *rx->tp;
    pd->nated = nated;
    pd->unregister = info->unregister;
    char call_id[256];
    if (sip_call_id(req, call_id, sizeof call_id) == 0) /* registration_check read it */
        pd->phone = nat_table_phone_key(call_id);
    memcpy(pd->aor, info->aor, strlen(info->aor) + 1);
    dlist_push(&r->pending, &pd->link);
    r->npending++;
    *out = pd;
    return 0;
}

static void refuse(struct registration *r, struct txn_server *st, int status)
{
    struct proxy_stats *stats = &r->env->stats;
    stats->registrations_failed++;
    if (status == 400)
        stats->bad_requests++;
    if (status == 503)
        txn_server_respond_with(st, 503, (const char *const[]){"Retry-After", "5", NULL});
    else
        txn_server_respond_status(st, status);
}

/* Steps 114-118 for a REGISTER that passed the checks. */
static void forward(struct registration *r, struct txn_server *st, const osip_message_t *req,
                    const struct proxy_rx *rx, const struct register_info *info)
{
    const struct proxyd_conf *cfg = r->env->cfg;
    osip_message_t *fwd = NULL;
    struct pending *pd = NULL;

    /* Step 114: the packet's source against what the phone believes. */
    bool nated = nat_detect(&rx->src, &rx->sent_by, req, cfg->nat.private_contact_is_nat);
    int err = registration_build_redirect(&fwd, req, &rx->src, nated, cfg, NULL);
    if (err) {
        refuse(r, st, err == -ELOOP ? 483 : 500);
        return;
    }
    err = pending_new(&pd, r, req, info, rx, nated);
    if (err) {
        sip_free(fwd);
        refuse(r, st, 500);
        return;
    }
    pd->asked = sip_register_expires(fwd);
    pd->st = st;
    txn_server_set_user(st, pd, on_phone_txn_end);
    /* Step 118, as a client transaction: retransmitted until redirectd
     * answers or 64·T1 passes (design decision 12). */
    err = txn_client_send(r->env->txn, fwd, &cfg->redirect, rx->tp, on_redirect_answer, pd, NULL);
    if (err) {
        log_warn("registration: cannot send to redirectd: error %d", err);
        pending_free(pd);
        refuse(r, st, 503);
    }
}

void registration_on_request(struct registration *r, struct txn_server *st,
                             const osip_message_t *req, const struct proxy_rx *rx)
{
    struct register_info info;

    if (r->env->draining) {
        refuse(r, st, 503);
        return;
    }
    int status = registration_check(req, &info);
    if (status) {
        if (log_ratelimit_allow(&r->bad_rl)) {
            char who[ADDR_STRLEN];
            log_info("registration: bad REGISTER from %s, answered %d",
                     addr_format(&rx->src, who, sizeof who), status);
        }
        refuse(r, st, status);
        return;
    }
    forward(r, st, req, rx, &info);
}

/* ---- unregistering a client we gave up on ---- */

static void on_unregister_answer(struct txn_client *ct, osip_message_t *resp,
                                 const struct addr *src, void *arg)
{
    (void)ct;
    (void)src;
    (void)arg;
    if (resp && sip_status(resp) < 200)
        return;
    if (!resp || sip_status(resp) >= 300)
        log_warn("registration: unregister at redirectd: %d", resp ? sip_status(resp) : 408);
}

static int uri_of(char *buf, size_t len, const char *user, const struct addr *a)
{
    char host[ADDR_STRLEN];
    int n = snprintf(buf, len, "sip:%s%s%s:%u", user ? user : "", user ? "@" : "",
                     addr_host_sip(a, host, sizeof host), addr_port(a));
    return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

int registration_unregister(struct registration *r, const char *aor, const struct nat_binding *b)
{
    const struct proxyd_conf *cfg = r->env->cfg;
    char ruri[REQUEST_URI_MAX], to[REQUEST_URI_MAX], contact[REQUEST_URI_MAX];
    char extra[REQUEST_URI_MAX + 64];
    osip_message_t *m = NULL;
    int err;

    if (!sip_user_valid(aor, NAT_AOR_MAX))
        return -EINVAL;
    err = uri_of(ruri, sizeof ruri, NULL, &cfg->redirect);
    if (!err)
        err = uri_of(to, sizeof to, aor, &cfg->advertise);
    if (!err)
        err = uri_of(contact, sizeof contact, aor, &b->nat);
    if (err)
        return err;
    /* The Contact names the channel we registered, so redirectd removes
     * that binding only, not one the client has since made elsewhere. */
    snprintf(extra, sizeof extra, "Contact: <%s>;expires=0\r\nExpires: 0\r\n", contact);
    struct request_spec spec = {.method = "REGISTER", .uri = ruri, .to_uri = to, .extra = extra};
    err = request_new(&m, &spec, &cfg->advertise);
    if (!err)
        err = sip_path_push(m, &cfg->advertise);
    if (err) {
        sip_free(m);
        return err;
    }
    return txn_client_send(r->env->txn, m, &cfg->redirect, &b->tp, on_unregister_answer, NULL,
                           NULL);
}

/* dialog: loose routing of in-dialog requests (see dialog.h). */
#include "dialog.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calls.h"
#include "forward.h"
#include "nat_detect.h"
#include "nat_table.h"
#include "pinhole/log.h"
#include "relay_client.h"
#include "responses.h"

struct dlg_req {
    enum msg_leg kind; /* MSG_LEG_DIALOG; first, see msg_ctx.h */
    struct messaging *m;
    struct dlist link;      /* in m->dreqs */
    struct txn_server *st;  /* NULL once it ended */
    struct txn_client *ct;  /* the forwarded request until its final */
    osip_message_t *fwd;    /* ready to go, waiting for relayd (owned) */
    struct relay_query rq;  /* a re-INVITE's re-query */
    struct transport in_tp; /* the socket the request came in on */
    struct transport out_tp;
    struct addr next_hop;
    bool callee_nat;
    bool bye;
    char call_id[CALL_ID_MAX + 1];
};

/* ---- contexts ---- */

static void on_server_end(struct txn_server *st, void *arg)
{
    struct dlg_req *d = arg;
    (void)st;
    d->st = NULL;
}

static void dreq_free(struct dlg_req *d)
{
    struct messaging *m = d->m;
    dlist_remove(&d->link);
    m->ndreqs--;
    if (!m->env->closing) {
        if (d->st)
            txn_server_set_user(d->st, NULL, NULL);
        if (d->ct)
            txn_client_abandon(d->ct);
    }
    relay_query_abort(&d->rq);
    sip_free(d->fwd);
    free(d);
}

void dialog_free_all(struct messaging *m)
{
    while (!dlist_empty(&m->dreqs))
        dreq_free(dlist_entry(m->dreqs.next, struct dlg_req, link));
}

static struct dlg_req *dreq_new(struct messaging *m, struct txn_server *st, const char *call_id,
                                const struct proxy_rx *rx, const struct dialog_hop *h)
{
    struct dlg_req *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->kind = MSG_LEG_DIALOG;
    d->m = m;
    d->in_tp = *rx->tp;
    d->out_tp = h->tp;
    d->next_hop = h->to;
    d->callee_nat = h->nat_client;
    snprintf(d->call_id, sizeof d->call_id, "%s", call_id);
    dlist_push(&m->dreqs, &d->link);
    m->ndreqs++;
    d->st = st;
    txn_server_set_user(st, d, on_server_end);
    return d;
}

/* ---- admission (design.md "No open relay") ---- */

/* Whether req belongs to a dialog this proxy routes: it record-routed it
 * (the top Route is the Record-Route we wrote, with the mark of this
 * Call-ID: dialog_mark.h) or the Call-ID is a call it holds. Anything else
 * with a To tag is somebody asking us to relay to an address of their
 * choosing: 403 when its Route names a hop (ours without our mark
 * included), 481 when it names none (no such dialog here). */
static int dialog_admit(const struct messaging *m, const osip_message_t *req,
                        const struct proxy_rx *rx, const char *call_id)
{
    struct addr top;
    const char *mark = NULL;
    if (call_id[0] && call_find(m, call_id))
        return 0; /* a call we hold: no HMAC needed */
    int err = sip_route_top(req, &top);
    if (err == 0 && call_id[0] && proxy_env_is_us(m->env, &top, rx->tp) &&
        sip_route_top_param(req, DIALOG_MARK_PARAM, &mark) == 0 &&
        dialog_mark_valid(&m->env->mark, call_id, mark))
        return 0;
    return err == -ENOENT ? 481 : 403;
}

/* ---- routing (§16.12) ---- */

int dialog_hop_to(const struct messaging *m, const struct addr *to, const char *user,
                  const struct transport *in_tp, struct dialog_hop *h)
{
    struct nat_binding b;
    if (proxy_env_is_us(m->env, to, in_tp))
        return 482;
    /* No request from outside goes to our own servers' control ports: only
     * the queries proxyd itself builds may (relay_client, redirect_client). */
    if (proxy_env_trusted(m->env, to))
        return 403;
    h->to = *to;
    h->tp = *in_tp;
    h->nat_client = false;
    if (user && nat_table_lookup_at(m->env->nat, user, to, &b) == 0) {
        h->tp = b.tp; /* decision 10 */
        h->nat_client = true;
    }
    return 0;
}

/* The next hop: the top Route left after ours, else the Request-URI (the
 * peer's Contact, already its NAT address by step 144 or decision 7). */
static int next_hop(struct messaging *m, const osip_message_t *copy, const struct proxy_rx *rx,
                    struct dialog_hop *h)
{
    struct addr to;
    int err = sip_route_top(copy, &to);
    if (err == -ENOENT)
        err = sip_request_uri_addr(copy, &to);
    if (err)
        return 404; /* a name or no host: we resolve nothing */
    return dialog_hop_to(m, &to, sip_request_uri_user(copy), rx->tp, h);
}

static void refuse_log(struct messaging *m, const osip_message_t *req, const struct proxy_rx *rx,
                       int status, const char *why)
{
    char src[ADDR_STRLEN];
    m->stats.dialog_refused++;
    if (log_ratelimit_allow(&m->rl))
        log_notice("%s from %s refused (%d): %s", sip_method(req),
                   addr_format(&rx->src, src, sizeof src), status, why);
}

/* Our copy of an in-dialog request, routed. Returns 0 or the status to
 * answer (400, 403, 404, 481, 482, 483, 500). */
static int route_copy(struct messaging *m, const osip_message_t *req, const struct proxy_rx *rx,
                      const char *call_id, osip_message_t **out, struct dialog_hop *h)
{
    *out = NULL;
    int refused = dialog_admit(m, req, rx, call_id);
    if (refused) {
        refuse_log(m, req, rx, refused, "not a dialog this proxy routes");
        return refused;
    }
    bool nated = nat_detect(&rx->src, &rx->sent_by, req, m->env->cfg->nat.private_contact_is_nat);
    int err = forward_copy(m->env, req, &rx->src, nated, out);
    if (err)
        return err == -ELOOP ? 483 : err == -ENOMEM ? 500 : 400;
    int status = next_hop(m, *out, rx, h);
    if (status == 403)
        refuse_log(m, req, rx, status, "routed to one of our own servers");
    if (!status && media_source_pass(m->env, *out, &rx->src, &h->to) != 0)
        status = 500;
    if (status) {
        sip_free(*out);
        *out = NULL;
    }
    return status;
}

/* A confirmed call stays while its dialog is used. */
static struct call *touch_call(struct messaging *m, const char *call_id)
{
    struct call *c = call_id[0] ? call_find(m, call_id) : NULL;
    if (c && c->state == CALL_CONFIRMED)
        call_expire_in(c, CALL_IDLE_MS);
    return c;
}

/* ---- requests in a transaction ---- */

/* BYE's answer (or its silence) ends the dialog; a challenge does not. */
static bool bye_ends_dialog(int status)
{
    return status < 300 || status == 408 || status == 481;
}

static void finish(struct dlg_req *d, int status)
{
    if (d->bye && bye_ends_dialog(status)) {
        struct call *c = call_find(d->m, d->call_id);
        if (c)
            call_end(c); /* releases the relay (decision 9) */
    }
    dreq_free(d);
}

static void on_answer(struct txn_client *ct, osip_message_t *resp, const struct addr *src,
                      void *arg)
{
    struct dlg_req *d = arg;
    struct messaging *m = d->m;
    (void)ct;

    if (!resp) {
        d->ct = NULL;
        if (d->st && !txn_server_is_final(d->st))
            (void)txn_server_respond_status(d->st, 408);
        finish(d, 408);
        return;
    }
    int status = sip_status(resp);
    if (status == 100)
        return;
    if (status >= 200)
        d->ct = NULL;
    const struct call *c = call_find(m, d->call_id);
    if (d->st)
        (void)responses_relay(m, d->st, resp, src, c ? &c->res : NULL, d->callee_nat);
    if (status >= 200)
        finish(d, status);
}

static void send_request(struct dlg_req *d, osip_message_t *fwd)
{
    struct messaging *m = d->m;
    int err = sip_via_push(fwd, &m->env->cfg->advertise, NULL, NULL, 0);
    if (err) {
        sip_free(fwd);
    } else {
        err = txn_client_send(m->env->txn, fwd, &d->next_hop, &d->out_tp, on_answer, d, &d->ct);
    }
    if (err) {
        if (d->st)
            (void)txn_server_respond_status(d->st, 503);
        finish(d, 503);
    }
}

void dialog_forward(struct messaging *m, struct txn_server *st, osip_message_t *fwd,
                    const struct proxy_rx *rx, const char *call_id, const struct dialog_hop *h)
{
    struct dlg_req *d = dreq_new(m, st, call_id, rx, h);
    if (!d) {
        sip_free(fwd);
        (void)txn_server_respond_status(st, 500);
        return;
    }
    send_request(d, fwd);
}

/* relayd answered a re-INVITE's re-query (same Call-ID: same ports). */
static void on_requery(void *arg, const struct relay_res *got)
{
    struct dlg_req *d = arg;
    struct call *c = call_find(d->m, d->call_id);
    osip_message_t *fwd = d->fwd;
    d->fwd = NULL;

    if (!got || !c) {
        if (got) { /* the call ended meanwhile: give relayd its session back */
            struct relay_res gone = *got;
            (void)relay_release(&d->m->relays, &gone, d->call_id, NULL, &d->in_tp, NULL);
        }
        sip_free(fwd);
        if (d->st)
            (void)txn_server_respond_status(d->st, got ? 481 : 503);
        dreq_free(d);
        return;
    }
    memcpy(c->res.ports, got->ports, sizeof got->ports);
    c->res.nports = got->nports;
    if (relay_res_apply(&c->res, fwd) != 0) {
        sip_free(fwd);
        if (d->st)
            (void)txn_server_respond_status(d->st, 488);
        dreq_free(d);
        return;
    }
    send_request(d, fwd);
}

static bool wants_requery(const osip_message_t *req, const struct call *c)
{
    return c && c->res.held && !c->res.released && sip_body_is_sdp(req) &&
           (sip_method_is(req, "INVITE") || sip_method_is(req, "UPDATE"));
}

void dialog_on_request(struct messaging *m, struct txn_server *st, const osip_message_t *req,
                       const struct proxy_rx *rx)
{
    char call_id[CALL_ID_MAX + 1] = "";
    osip_message_t *fwd = NULL;
    struct dialog_hop h;

    m->stats.dialog_requests++;
    if (sip_method_is(req, "INVITE"))
        (void)txn_server_respond_status(st, 100);
    (void)sip_call_id(req, call_id, sizeof call_id); /* too long: no state, routed anyway */
    int status = route_copy(m, req, rx, call_id, &fwd, &h);
    if (status) {
        (void)txn_server_respond_status(st, status);
        return;
    }
    struct call *c = touch_call(m, call_id);
    struct dlg_req *d = dreq_new(m, st, call_id, rx, &h);
    if (!d) {
        sip_free(fwd);
        (void)txn_server_respond_status(st, 500);
        return;
    }
    d->bye = sip_method_is(req, "BYE");
    if (wants_requery(fwd, c)) {
        char sources[MEDIA_SOURCES_LEN] = "";
        struct addr sender;
        if (media_source_of(m->env, req, &rx->src, &sender) == 0)
            media_sources_value(sources, sizeof sources, &sender, NULL);
        d->fwd = fwd;
        if (relay_query_start(&d->rq, &m->relays, fwd, rx->tp, &c->res.relay, sources, on_requery,
                              d) != 0) {
            (void)txn_server_respond_status(st, 503);
            dreq_free(d);
        }
        return;
    }
    if (c && c->res.held)
        (void)relay_res_apply(&c->res, fwd); /* PRACK, INFO... with SDP */
    send_request(d, fwd);
}

void dialog_cancel(struct dlg_req *d)
{
    if (d->ct) {
        int err = txn_client_cancel(d->ct);
        if (err && err != -EALREADY && log_ratelimit_allow(&d->m->rl))
            log_info("CANCEL of a re-INVITE not forwarded: error %d", err);
        return;
    }
    if (d->st)
        (void)txn_server_respond_status(d->st, 487); /* still asking relayd */
    dreq_free(d);
}

/* ---- ACK for a 2xx: stateless ---- */

/* FNV-1a: the same ACK (a retransmission) gets the same branch; a
 * different ACK, a different one (RFC 3261 §16.11: a stateless proxy's
 * branch is a function of the request). */
static void ack_branch(const osip_message_t *ack, const char *call_id, char *buf, size_t len)
{
    struct sip_via_info v;
    uint32_t cseq = 0;
    const char *method;
    uint64_t h = 1469598103934665603ull;
    const char *parts[2] = {call_id, ""};

    if (sip_via_get(ack, 0, &v) == 0 && v.branch)
        parts[1] = v.branch;
    (void)sip_cseq(ack, &cseq, &method);
    for (size_t p = 0; p < 2; p++)
        for (const unsigned char *s = (const unsigned char *)parts[p]; *s; s++)
            h = (h ^ *s) * 1099511628211ull;
    h = (h ^ cseq) * 1099511628211ull;
    snprintf(buf, len, "%sa%016llx", SIP_BRANCH_MAGIC, (unsigned long long)h);
}

static int send_ack(struct messaging *m, osip_message_t *fwd, const osip_message_t *ack,
                    const char *call_id, const struct dialog_hop *h)
{
    char branch[SIP_BRANCH_LEN], *buf = NULL;
    size_t len;
    ack_branch(ack, call_id, branch, sizeof branch);
    int err = sip_via_push(fwd, &m->env->cfg->advertise, branch, NULL, 0);
    if (!err)
        err = sip_serialize(fwd, &buf, &len);
    if (!err)
        err = transport_send(&h->tp, &h->to, buf, len);
    osip_free(buf);
    return err;
}

void dialog_on_ack(struct messaging *m, const osip_message_t *ack, const struct proxy_rx *rx)
{
    char call_id[CALL_ID_MAX + 1] = "";
    osip_message_t *fwd = NULL;
    struct dialog_hop h;

    if (!sip_to_tag(ack))
        return; /* not for a dialog: the ACK of a transaction that is gone */
    (void)sip_call_id(ack, call_id, sizeof call_id);
    if (route_copy(m, ack, rx, call_id, &fwd, &h) != 0)
        return; /* an ACK is never answered */
    m->stats.dialog_requests++;
    struct call *c = touch_call(m, call_id);
    if (c && c->res.held && c->late_asked && !c->caller_reported && sip_body_is_sdp(ack)) {
        /* the caller's answer: relayd learns its SDP ports (early media) */
        c->caller_reported = true;
        (void)relay_report(&m->relays, &c->res, c->call_id, c->user, &c->caller_ip, ack, &c->tp);
    }
    if (c && c->res.held)
        (void)relay_res_apply(&c->res, fwd); /* the answer of a late offer */
    if (send_ack(m, fwd, ack, call_id, &h) != 0 && log_ratelimit_allow(&m->rl))
        log_info("ACK for %s not forwarded", call_id);
    sip_free(fwd);
}

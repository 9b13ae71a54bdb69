/* outside: out-of-dialog requests other than INVITE (see outside.h). */
#include "outside.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dialog.h"
#include "forward.h"
#include "media_source.h"
#include "nat_detect.h"
#include "pinhole/log.h"

struct out_req {
    enum msg_leg kind; /* MSG_LEG_OUTSIDE; first, see msg_ctx.h */
    struct messaging *m;
    struct dlist link;        /* in m->oreqs */
    struct txn_server *st;    /* NULL once it ended */
    osip_message_t *copy;     /* ours, waiting for redirectd (owned) */
    struct redirect_query dq; /* step 150 */
    struct transport in_tp;   /* the socket it came in on */
    struct addr src;          /* its packet source */
    char call_id[CALL_ID_MAX + 1];
};

static void on_server_end(struct txn_server *st, void *arg)
{
    struct out_req *o = arg;
    (void)st;
    o->st = NULL;
}

static void out_free(struct out_req *o)
{
    dlist_remove(&o->link);
    if (o->st && !o->m->env->closing)
        txn_server_set_user(o->st, NULL, NULL);
    redirect_query_abort(&o->dq);
    sip_free(o->copy);
    free(o);
}

void outside_free_all(struct messaging *m)
{
    while (!dlist_empty(&m->oreqs))
        out_free(dlist_entry(m->oreqs.next, struct out_req, link));
}

/* RFC 6665 §4.1.2.4, RFC 3515 §2.4.1: these start dialogs whose later
 * requests must reach us again. */
static bool starts_dialog(const osip_message_t *req)
{
    return sip_method_is(req, "SUBSCRIBE") || sip_method_is(req, "REFER");
}

/* Out of dialog, a non-INVITE goes to the user's best phone only: forking
 * it would need a choice among several final answers for requests (MESSAGE,
 * OPTIONS) the other phones get again by their own subscription or retry. */
static void on_redirect_done(void *arg, int status, const struct redirect_targets *t)
{
    struct out_req *o = arg;
    const struct addr *next_hop = t ? &t->hop[0] : NULL;
    struct messaging *m = o->m;
    struct dialog_hop h;
    struct txn_server *st = o->st;

    if (!st) { /* the transaction ended meanwhile */
        out_free(o);
        return;
    }
    if (status == 302) /* what the 302 named, checked as any next hop */
        status = dialog_hop_to(m, next_hop, sip_request_uri_user(o->copy), &o->in_tp, &h);
    if (status == 0 && (sip_request_uri_set(o->copy, next_hop) != 0 ||
                        media_source_pass(m->env, o->copy, &o->src, &h.to) != 0))
        status = 500;
    if (status) {
        m->stats.outside_refused++;
        (void)txn_server_respond_status(st, status); /* 404 from redirectd, 503, ... */
        out_free(o);
        return;
    }
    osip_message_t *fwd = o->copy;
    struct transport in_tp = o->in_tp;
    struct proxy_rx rx = {.src = o->src, .tp = &in_tp};
    char call_id[CALL_ID_MAX + 1];
    snprintf(call_id, sizeof call_id, "%s", o->call_id);
    o->copy = NULL;
    out_free(o); /* the transaction is dialog.c's from here */
    m->stats.outside_forwarded++;
    dialog_forward(m, st, fwd, &rx, call_id, &h);
}

static int copy_for(struct messaging *m, const osip_message_t *req, const struct proxy_rx *rx,
                    const char *call_id, osip_message_t **out)
{
    const struct proxyd_conf *cfg = m->env->cfg;
    char mark[DIALOG_MARK_PARAM_LEN];
    bool nated = nat_detect(&rx->src, &rx->sent_by, req, cfg->nat.private_contact_is_nat);
    int err = forward_copy(m->env, req, &rx->src, nated, out);
    if (err)
        return err == -ELOOP ? 483 : err == -ENOMEM ? 500 : 400;
    if (!starts_dialog(req))
        return 0;
    err = dialog_mark_param(&m->env->mark, call_id, mark);
    if (!err)
        err = sip_record_route_push(*out, &cfg->advertise, mark);
    if (err) {
        sip_free(*out);
        *out = NULL;
        return 500;
    }
    return 0;
}

void outside_on_request(struct messaging *m, struct txn_server *st, const osip_message_t *req,
                        const struct proxy_rx *rx)
{
    char call_id[CALL_ID_MAX + 1];
    osip_message_t *copy = NULL;

    m->stats.outside_requests++;
    if (m->env->draining) {
        m->stats.outside_refused++;
        (void)txn_server_respond_with(st, 503, (const char *const[]){"Retry-After", "5", NULL});
        return;
    }
    int status = forward_target_check(req, call_id, sizeof call_id);
    if (!status)
        status = copy_for(m, req, rx, call_id, &copy);
    if (status) {
        m->stats.outside_refused++;
        (void)txn_server_respond_status(st, status);
        return;
    }
    struct out_req *o = calloc(1, sizeof *o);
    if (!o) {
        sip_free(copy);
        (void)txn_server_respond_status(st, 500);
        return;
    }
    o->kind = MSG_LEG_OUTSIDE;
    o->m = m;
    o->copy = copy;
    o->in_tp = *rx->tp;
    o->src = rx->src;
    snprintf(o->call_id, sizeof o->call_id, "%s", call_id);
    dlist_push(&m->oreqs, &o->link);
    o->st = st;
    txn_server_set_user(st, o, on_server_end);
    if (redirect_query_start(&o->dq, &m->redirect, copy, rx->tp, on_redirect_done, o) != 0) {
        m->stats.outside_refused++;
        (void)txn_server_respond_status(st, 503);
        out_free(o);
    }
}

/* cancel: §16.10. */
#include "cancel.h"

#include <errno.h>

#include "calls.h"
#include "dialog.h"
#include "pinhole/log.h"

/* libosip2 offers no CANCEL builder; this mirrors sip_ack_for (§9.1). */
static int cancel_fields(osip_message_t *c, const osip_message_t *inv)
{
    osip_via_t *top = osip_list_get(&inv->vias, 0), *via = NULL;
    osip_route_t *r;

    c->sip_version = osip_strdup("SIP/2.0");
    c->sip_method = osip_strdup("CANCEL");
    if (!c->sip_version || !c->sip_method || !top || osip_uri_clone(inv->req_uri, &c->req_uri) ||
        osip_via_clone(top, &via) || osip_list_add(&c->vias, via, -1) < 0)
        return -ENOMEM;
    if (osip_from_clone(inv->from, &c->from) || osip_to_clone(inv->to, &c->to) ||
        osip_call_id_clone(inv->call_id, &c->call_id) || osip_cseq_init(&c->cseq))
        return -ENOMEM;
    for (int i = 0; (r = osip_list_get(&inv->routes, i)) != NULL; i++) {
        osip_route_t *copy;
        if (osip_route_clone(r, &copy))
            return -ENOMEM;
        if (osip_list_add(&c->routes, copy, -1) < 0) {
            osip_route_free(copy);
            return -ENOMEM;
        }
    }
    c->cseq->number = osip_strdup(inv->cseq->number);
    c->cseq->method = osip_strdup("CANCEL");
    if (!c->cseq->number || !c->cseq->method || osip_message_set_header(c, "Max-Forwards", "70") ||
        osip_message_set_content_length(c, "0"))
        return -ENOMEM;
    return 0;
}

static int build_cancel(osip_message_t **out, const osip_message_t *inv)
{
    osip_message_t *c = NULL;
    *out = NULL;
    if (!inv)
        return -EALREADY; /* answered already: nothing left to cancel */
    if (!inv->req_uri || !inv->from || !inv->to || !inv->call_id || !inv->cseq ||
        !inv->cseq->number)
        return -EINVAL;
    if (osip_message_init(&c) != 0)
        return -ENOMEM;
    int err = cancel_fields(c, inv);
    if (err) {
        sip_free(c);
        return err;
    }
    *out = c;
    return 0;
}

int cancel_downstream(struct messaging *m, struct txn_client *inv, const struct transport *tp)
{
    osip_message_t *cancel = NULL;
    int err = build_cancel(&cancel, txn_client_request(inv));
    if (!err)
        err = txn_client_send(proxy_txn(m->p), cancel, txn_client_destination(inv), tp, NULL, NULL,
                              NULL);
    if (err && log_ratelimit_allow(&m->rl))
        log_info("CANCEL not forwarded: error %d", err);
    return err;
}

static void cancel_call(struct call *c)
{
    if (c->fwd)
        (void)cancel_downstream(c->m, c->fwd, &c->fwd_tp);
    else if (c->state == CALL_QUERYING)
        call_fail(c, 487);
}

void cancel_on_request(struct messaging *m, struct txn_server *st, const osip_message_t *req,
                       const struct proxy_rx *rx)
{
    (void)rx;
    struct txn_server *inv = txn_server_find_invite(proxy_txn(m->p), req);
    if (!inv) {
        (void)txn_server_respond_status(st, 481);
        return;
    }
    m->stats.cancels++;
    (void)txn_server_respond_status(st, 200); /* §16.10: at once, hop by hop */
    void *user = txn_server_user(inv);
    if (txn_server_is_final(inv) || !user)
        return; /* answered already: nothing left to cancel */
    if (*(const enum msg_leg *)user == MSG_LEG_CALL)
        cancel_call(user);
    else
        dialog_cancel(user);
}

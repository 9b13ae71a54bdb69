/* messaging: figure 4a for a new INVITE, and the module's entry points.
 *
 * A new INVITE becomes a call (calls.h) in state "querying": the relay
 * query (when the caller is NATed) and the redirect query run at once
 * (decision 12); each answer comes back to resume(), which moves on only
 * when neither is out: step 152a may start one more relay query, then
 * step 155 forwards. A failure answers the caller at once (404, 503) and
 * terminates the call; a relay query still out then has its answer
 * released as it comes. */
#include "messaging.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "calls.h"
#include "cancel.h"
#include "dialog.h"
#include "forward.h"
#include "media_timeout.h"
#include "msg_ctx.h"
#include "nat_detect.h"
#include "nat_table.h"
#include "outside.h"
#include "relay_client.h"
#include "responses.h"

/* ---- life ---- */

int messaging_new(struct messaging **out, struct proxy_env *env)
{
    struct messaging *m = calloc(1, sizeof *m);
    if (!m)
        return -ENOMEM;
    m->env = env;
    dlist_init(&m->dreqs);
    dlist_init(&m->oreqs);
    relay_client_init(&m->relays, env, &m->stats.relay);
    redirect_client_init(&m->redirect, env, &m->stats.redirect);
    m->rl.interval_s = 10;
    m->rl.burst = 10;
    /* Expiry resolution T1: a call lingers 64 ticks after it ended. */
    int err = calls_new(&m->calls, m, env->loop, env->t1_ms);
    if (err) {
        free(m);
        return err;
    }
    *out = m;
    return 0;
}

void messaging_free(struct messaging *m)
{
    if (!m)
        return;
    dialog_free_all(m);
    outside_free_all(m);
    calls_free(m->calls);
    relay_client_close(&m->relays);
    free(m);
}

const struct messaging_stats *messaging_stats(const struct messaging *m)
{
    return &m->stats;
}

size_t messaging_calls(const struct messaging *m)
{
    return calls_count(m->calls);
}

size_t messaging_calls_in_setup(const struct messaging *m)
{
    return calls_in_setup(m->calls);
}

/* ---- fig. 4a: the queries come back ---- */

static void forward(struct call *c);
static void on_relay_done(void *arg, const struct relay_res *got);

/* The signalling IPs of our NAT clients among the call's targets, for the
 * relay's latch list (media_source.h): the caller's, then theirs. */
static void branch_sources(const struct call *c, char *out, size_t len)
{
    struct addr ips[MEDIA_SOURCES_MAX];
    size_t n = 0;
    ips[n++] = c->caller_ip;
    for (size_t i = 0; i < c->nbr && n < MEDIA_SOURCES_MAX; i++)
        if (c->br[i].nat)
            ips[n++] = c->br[i].hop;
    media_sources_list(out, len, ips, n);
}

/* Step 152a for each target: is it one of our NAT clients? Then requests
 * to it leave from the socket its REGISTER came in on (decision 10), and
 * without a relay yet (152b: none held, none in the SDP) we get one now
 * (153). Returns true when that query is out. */
static bool check_destination(struct call *c)
{
    struct messaging *m = c->m;
    struct nat_binding b;
    char sources[MEDIA_SOURCES_LEN];
    bool any = false;

    for (size_t i = 0; i < c->nbr; i++) {
        struct call_branch *br = &c->br[i];
        br->tp = c->tp;
        if (nat_table_lookup_at(m->env->nat, c->user, &br->hop, &b) != 0)
            continue;
        br->nat = any = true;
        br->tp = b.tp;
    }
    if (!any || c->res.held || !sip_body_is_sdp(c->invite) ||
        relay_sdp_is_relayed(&m->relays, c->invite))
        return false;
    branch_sources(c, sources, sizeof sources);
    if (relay_query_start(&c->rq, &m->relays, c->invite, &c->tp, NULL, sources, on_relay_done, c) !=
        0)
        call_fail(c, 503);
    return true;
}

static void resume(struct call *c)
{
    if (c->state != CALL_QUERYING || relay_query_pending(&c->rq) || redirect_query_pending(&c->dq))
        return;
    if (!c->dest_checked) {
        c->dest_checked = true;
        if (check_destination(c))
            return;
    }
    forward(c);
}

static void on_relay_done(void *arg, const struct relay_res *got)
{
    struct call *c = arg;
    if (got)
        c->res = *got;
    if (c->state == CALL_TERMINATED) {
        call_release_relay(c); /* cancelled or failed while relayd answered */
        return;
    }
    if (!got) {
        call_fail(c, 503); /* every relay failed */
        return;
    }
    resume(c);
}

static void on_redirect_done(void *arg, int status, const struct redirect_targets *t)
{
    struct call *c = arg;
    if (status != 302) {
        call_fail(c, status); /* 404 from redirectd, or 503 */
        return;
    }
    /* step 151 waits for forward(); every phone of the user rings */
    for (size_t i = 0; i < t->n; i++)
        c->br[i] = (struct call_branch){.c = c, .hop = t->hop[i], .tp = c->tp};
    c->nbr = t->n;
    resume(c);
}

/* Steps 148/154, 151, 136, 138 and 155 on a copy for one branch. */
static int build_forward(struct call *c, const struct call_branch *b, osip_message_t *fwd)
{
    const struct addr *self = &c->m->env->cfg->advertise;
    char mark[DIALOG_MARK_PARAM_LEN];
    int err = dialog_mark_param(&c->m->env->mark, c->call_id, mark);
    if (!err && c->res.held)
        err = relay_res_apply(&c->res, fwd);
    if (!err)
        err = sip_request_uri_set(fwd, &b->hop);
    if (!err)
        err = sip_via_push(fwd, self, NULL, NULL, 0); /* a branch id of its own */
    if (!err)
        err = sip_record_route_push(fwd, self, mark);
    if (!err)
        err = media_source_stamp(c->m->env, fwd, &c->caller_ip, &b->hop);
    return err;
}

/* One branch out with fwd (taken, NULL: it could not be copied); a
 * branch that cannot be sent counts as answered `status`. */
static int forward_branch(struct call *c, struct call_branch *b, osip_message_t *fwd)
{
    struct messaging *m = c->m;
    int err = fwd ? build_forward(c, b, fwd) : -ENOMEM;
    if (err) {
        sip_free(fwd);
        b->status = err == -EINVAL ? 488 : 500;
        return b->status;
    }
    err =
        txn_client_send(m->env->txn, fwd, &b->hop, &b->tp, responses_on_invite_answer, b, &b->fwd);
    if (err) {
        b->status = 503;
        return b->status;
    }
    m->stats.fork_branches++;
    return 0;
}

/* Step 155, to every target at once (RFC 3261 16.7: parallel forking). */
static void forward(struct call *c)
{
    struct messaging *m = c->m;
    osip_message_t *invite = c->invite;
    size_t sent = 0;
    int status = 500;
    c->invite = NULL;

    for (size_t i = 0; i < c->nbr; i++) {
        /* each branch its own copy, the last one the INVITE itself: an
         * unforked call copies nothing */
        osip_message_t *fwd = invite;
        if (i + 1 < c->nbr && sip_clone(invite, &fwd) != 0)
            fwd = NULL;
        int st = forward_branch(c, &c->br[i], fwd);
        if (st == 0)
            sent++;
        else
            status = st;
    }
    if (!sent) {
        call_fail(c, status);
        return;
    }
    c->state = CALL_FORWARDED;
    m->stats.invites_forwarded++;
    if (c->nbr > 1)
        m->stats.invites_forked++;
}

/* ---- fig. 4a: the INVITE arrives ---- */

static void refuse(struct messaging *m, struct txn_server *st, int status)
{
    if (status == 482 || status == 483)
        m->stats.invites_loop++;
    else
        m->stats.invites_refused++;
    (void)txn_server_respond_status(st, status);
}

/* A call with this Call-ID still running means the same request reached
 * us twice by different paths (RFC 3261 §8.2.2.2 merged request); one that
 * ended (a retry after 401/407, say) makes room. */
static bool make_room(struct messaging *m, const char *call_id)
{
    struct call *old = call_find(m, call_id);
    if (old && old->state != CALL_TERMINATED)
        return false;
    if (old)
        call_end(old);
    return true;
}

/* Steps 146 and 150, at once (decision 12). */
static void start_queries(struct call *c, bool nated, const struct transport *tp)
{
    struct messaging *m = c->m;
    char sources[MEDIA_SOURCES_LEN];

    /* the callee's phones' IPs too when they are our NAT clients (fig. 2b's
     * own case): which of them answers is not known yet */
    struct nat_binding phones[MEDIA_SOURCES_MAX - 1];
    struct addr ips[MEDIA_SOURCES_MAX];
    size_t n = nat_table_bindings(m->env->nat, c->user, phones, MEDIA_SOURCES_MAX - 1);
    ips[0] = c->caller_ip;
    for (size_t i = 0; i < n; i++)
        ips[i + 1] = phones[i].nat;
    media_sources_list(sources, sizeof sources, ips, n + 1);
    if (nated && sip_body_is_sdp(c->invite) && !relay_sdp_is_relayed(&m->relays, c->invite) &&
        relay_query_start(&c->rq, &m->relays, c->invite, tp, NULL, sources, on_relay_done, c) !=
            0) {
        call_fail(c, 503);
        return;
    }
    if (redirect_query_start(&c->dq, &m->redirect, c->invite, tp, on_redirect_done, c) != 0)
        call_fail(c, 503);
}

static void invite_on_request(struct messaging *m, struct txn_server *st, const osip_message_t *req,
                              const struct proxy_rx *rx)
{
    const struct proxyd_conf *cfg = m->env->cfg;
    char call_id[CALL_ID_MAX + 1];
    osip_message_t *copy = NULL;
    struct call *c = NULL;

    m->stats.invites++;
    if (m->env->draining) { /* SIGTERM: the phone retries elsewhere */
        m->stats.invites_unavailable++;
        (void)txn_server_respond_with(st, 503, (const char *const[]){"Retry-After", "5", NULL});
        return;
    }
    (void)txn_server_respond_status(st, 100); /* decision 12: at once */
    int status = forward_target_check(req, call_id, sizeof call_id);
    if (status) {
        refuse(m, st, status);
        return;
    }
    if (!make_room(m, call_id)) {
        refuse(m, st, 482);
        return;
    }
    bool nated = nat_detect(&rx->src, &rx->sent_by, req, cfg->nat.private_contact_is_nat);
    /* steps 134-144 on our copy */
    int err = forward_copy(m->env, req, &rx->src, nated, &copy);
    if (err) {
        refuse(m, st, err == -ELOOP ? 483 : err == -ENOMEM ? 500 : 400);
        return;
    }
    err =
        call_new(&c, m, call_id, sip_request_uri_user(req), m->env->txn_max_ms + msg_linger_ms(m));
    if (err) {
        sip_free(copy);
        refuse(m, st, 500);
        return;
    }
    c->invite = copy;
    c->tp = *rx->tp;
    if (media_source_of(m->env, req, &rx->src, &c->caller_ip) != 0)
        memset(&c->caller_ip, 0, sizeof c->caller_ip); /* a gateway's SDP without c= */
    c->state = CALL_QUERYING;
    c->caller_nat = nated;
    char *contact = NULL;
    if (sip_contact_uri_text(copy, &contact) == 0 && strlen(contact) < sizeof c->caller_contact)
        memcpy(c->caller_contact, contact, strlen(contact) + 1);
    osip_free(contact);
    snprintf(c->from_user, sizeof c->from_user, "%s",
             sip_user_valid(sip_from_user(req), NAT_AOR_MAX) ? sip_from_user(req) : "");
    c->no_offer = !sip_body_is_sdp(req);
    call_attach_server(c, st);
    start_queries(c, nated, rx->tp);
}

/* ---- entry points ---- */

bool messaging_handles(const osip_message_t *req)
{
    if (sip_method_is(req, "REGISTER"))
        return false;
    return sip_method_is(req, "INVITE") || sip_method_is(req, "CANCEL") ||
           sip_method_is(req, "ACK") || sip_to_tag(req) != NULL;
}

void messaging_on_request(struct messaging *m, struct txn_server *st, const osip_message_t *req,
                          const struct proxy_rx *rx)
{
    if (sip_method_is(req, "BYE") && !sip_to_tag(req)) {
        if (addr_list_match(&m->env->cfg->relays, &rx->src))
            media_timeout_on_notice(m, st, req); /* relayd: this call's media died */
        else
            (void)txn_server_respond_status(st, 481); /* a BYE needs a dialog */
    } else if (sip_method_is(req, "CANCEL"))
        cancel_on_request(m, st, req, rx);
    else if (sip_to_tag(req))
        dialog_on_request(m, st, req, rx);
    else if (sip_method_is(req, "INVITE"))
        invite_on_request(m, st, req, rx);
    else
        outside_on_request(m, st, req, rx); /* MESSAGE, SUBSCRIBE, OPTIONS to a user... */
}

void messaging_on_ack(struct messaging *m, const osip_message_t *ack, const struct proxy_rx *rx)
{
    dialog_on_ack(m, ack, rx);
}

void messaging_on_stray_response(struct messaging *m, osip_message_t *resp, const struct addr *src,
                                 const struct transport *tp)
{
    responses_forward_stray(m, resp, src, tp);
}

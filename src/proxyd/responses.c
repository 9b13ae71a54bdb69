/* responses: figure 4d. */
#include "responses.h"

#include <errno.h>
#include <string.h>

#include "calls.h"
#include "media_timeout.h"
#include "pinhole/log.h"

/* Decision 7: the phone wrote an address it cannot be reached on. Only for
 * a phone we know is NATed (our NAT client), or one whose Contact is
 * private: a response relayed by another proxy keeps its Contact. */
static int rewrite_contact(osip_message_t *r, const struct addr *src, bool callee_nat)
{
    struct addr contact;
    if (sip_contact_addr(r, &contact) != 0 || addr_equal(&contact, src))
        return 0;
    if (!callee_nat && !addr_is_private(&contact))
        return 0;
    return sip_contact_set(r, src);
}

/* The answerer's signalling IP goes on to a peer upstream, never to a
 * phone (media_source.h). */
static int pass_source(struct messaging *m, osip_message_t *resp, const struct addr *src)
{
    struct addr up;
    if (sip_response_destination(resp, &up) != 0)
        memset(&up, 0, sizeof up); /* a name: not a peer we know; strip */
    return media_source_pass(m->env, resp, src, &up);
}

int responses_rewrite(struct messaging *m, osip_message_t *resp, const struct addr *src,
                      const struct relay_res *res, bool callee_nat)
{
    int err = sip_via_pop_self(resp, &m->env->cfg->advertise); /* step 220 */
    if (!err && sip_via_count(resp) < 1)
        err = -ENOENT;
    if (!err)
        err = pass_source(m, resp, src);
    if (!err && res && res->held) {
        /* steps 222-224; an SDP we cannot read goes on as it is */
        int sdp_err = relay_res_apply(res, resp);
        err = sdp_err == -ENOMEM ? sdp_err : 0;
    }
    if (!err && sip_status(resp) < 300)
        err = rewrite_contact(resp, src, callee_nat);
    return err;
}

int responses_relay(struct messaging *m, struct txn_server *st, osip_message_t *resp,
                    const struct addr *src, const struct relay_res *res, bool callee_nat)
{
    int err = responses_rewrite(m, resp, src, res, callee_nat);
    if (!err)
        err = txn_server_respond(st, resp);
    if (!err)
        msg_count_response(m, sip_status(resp));
    return err;
}

static bool is_invite_2xx(const osip_message_t *resp)
{
    uint32_t num;
    const char *method;
    int status = sip_status(resp);
    return status >= 200 && status < 300 && sip_cseq(resp, &num, &method) == 0 &&
           strcmp(method, "INVITE") == 0;
}

static int send_stateless(const osip_message_t *r, const struct transport *tp)
{
    struct addr dst;
    char *buf = NULL;
    size_t len;
    int err = sip_response_destination(r, &dst);
    if (!err)
        err = sip_serialize(r, &buf, &len);
    if (!err)
        err = transport_send(tp, &dst, buf, len);
    osip_free(buf);
    return err;
}

/* Rewrites resp and sends it statelessly to the response destination of
 * the Via below ours, through tp. Returns 0 or -errno. */
static int forward_stateless(struct messaging *m, osip_message_t *resp, const struct addr *src,
                             const struct relay_res *res, bool callee_nat,
                             const struct transport *tp)
{
    int err = responses_rewrite(m, resp, src, res, callee_nat);
    if (!err)
        err = send_stateless(resp, tp);
    if (!err)
        msg_count_response(m, sip_status(resp));
    return err;
}

static void answer_timeout(struct call *c)
{
    c->m->stats.invites_timeout++;
    call_note_final(c, 408);
    if (c->st && !txn_server_is_final(c->st))
        (void)txn_server_respond_status(c->st, 408);
}

/* The first answer with SDP tells relayd who answered (relay_report):
 * before relay_res_apply points the SDP at the relay. */
static void report_answerer(struct call *c, const osip_message_t *resp, const struct addr *src)
{
    struct addr ip;
    int status = sip_status(resp);
    if (c->callee_reported || !c->res.held || c->res.released || status <= 100 || status >= 300 ||
        !sip_body_is_sdp(resp) || media_source_of(c->m->env, resp, src, &ip) != 0)
        return;
    c->callee_reported = true; /* once, whatever becomes of it */
    (void)relay_report(&c->m->relays, &c->res, c->call_id, c->user, &ip, resp, &c->tp);
}

static void relay_upstream(struct call *c, const struct call_branch *b, osip_message_t *resp,
                           const struct addr *src)
{
    int err;
    if (c->st && !txn_server_is_final(c->st)) {
        err = responses_relay(c->m, c->st, resp, src, &c->res, b->nat);
    } else if (is_invite_2xx(resp)) {
        /* the caller's transaction gave up waiting (a phone that rang for
         * longer than its bound), or another branch's 2xx went first: the
         * answer still goes through (RFC 3261 16.7 step 5, every 2xx), like
         * a 2xx retransmission would */
        err = forward_stateless(c->m, resp, src, &c->res, b->nat, &c->tp);
    } else {
        return;
    }
    if (err && err != -EALREADY && log_ratelimit_allow(&c->m->rl))
        log_info("call %s: %d not relayed: error %d", c->call_id, sip_status(resp), err);
}

/* RFC 3326: what the other phones show instead of a missed call. */
#define REASON_ANSWERED_ELSEWHERE "SIP;cause=200;text=\"Call completed elsewhere\""

/* What an answer does to the call once it goes upstream. */
static void answer_upstream(struct call *c, struct call_branch *b, osip_message_t *resp,
                            const struct addr *src)
{
    int status = sip_status(resp);
    bool first_2xx = status >= 200 && status < 300 && !c->won;
    if (status < 200 && c->won)
        return; /* a provisional after the call was answered: nobody needs it */
    report_answerer(c, resp, src);
    relay_upstream(c, b, resp, src);
    if (status >= 300 || first_2xx)
        call_note_final(c, status);
    if (first_2xx) {
        c->won = b;
        media_timeout_keep(c, resp); /* as it went upstream: rewritten */
        /* RFC 3261 16.7 step 10: the other phones stop ringing */
        call_cancel_branches(c, b, REASON_ANSWERED_ELSEWHERE);
    }
    if (status < 200) {
        if (sip_to_tag(resp) && c->state == CALL_FORWARDED)
            c->state = CALL_EARLY;
    } else if (status < 300) {
        if (c->state != CALL_CONFIRMED) {
            c->state = CALL_CONFIRMED;
            call_expire_in(c, CALL_IDLE_MS);
        }
    } else {
        call_terminate(c); /* the transaction layer ACKs it downstream */
    }
}

/* ---- the best final when no branch answered (RFC 3261 16.7 step 6) ---- */

/* 6xx first; then the lowest class; within a class, an answer a phone sent
 * over one we made up for a branch that never answered (408). */
static int rank(int status, bool received)
{
    int cls = status / 100;
    int r = cls == 6 ? 0 : cls * 2;
    return received ? r : r + 1;
}

static bool all_final(const struct call *c)
{
    for (size_t i = 0; i < c->nbr; i++)
        if (!c->br[i].status)
            return false;
    return true;
}

/* Every branch is over and none answered 2xx: the kept best goes up. */
static void send_best(struct call *c)
{
    osip_message_t *best = c->best;
    c->best = NULL;
    if (!best) { /* no phone answered at all: §16.7 step 6's 408 */
        answer_timeout(c);
        call_terminate(c);
        return;
    }
    /* §16.7 step 6: every phone unavailable is a failure here, not a
     * reason for the caller to think this proxy is overloaded */
    if (sip_status(best) == 503)
        (void)sip_status_set(best, 500);
    answer_upstream(c, c->best_br, best, &c->best_src);
    sip_free(best);
}

/* A branch's final >= 300, or its timeout (resp NULL: 408). */
static void branch_final(struct call_branch *b, int status, const osip_message_t *resp,
                         const struct addr *src)
{
    struct call *c = b->c;
    b->status = status;
    if (c->won || c->state == CALL_TERMINATED)
        return; /* a 487 from a branch CANCELled because another answered */
    int best = c->best ? sip_status(c->best) : 0;
    if (!best || rank(status, resp != NULL) < rank(best, true)) {
        osip_message_t *copy = NULL;
        if (resp && sip_clone(resp, &copy) != 0)
            copy = NULL; /* out of memory: a 408 or an earlier one stands */
        if (copy || !c->best) {
            sip_free(c->best);
            c->best = copy;
            c->best_br = b;
            c->best_src = src ? *src : b->hop;
        }
    }
    if (status >= 600)
        call_cancel_branches(c, b, NULL); /* §16.7 step 5: the search stops */
    if (all_final(c))
        send_best(c);
}

/* ---- late offer (RFC 3264 section 5; issue #16) ---- */

/* An INVITE without SDP: the offer comes in the 18x/2xx. The proxy that
 * would have taken a relay for the INVITE's offer (a NATed caller, or the
 * callee our NAT client) takes it now, unless another proxy already did
 * (the SDP names a relay). */
static bool late_offer(const struct call *c, const struct call_branch *b,
                       const osip_message_t *resp)
{
    int status = sip_status(resp);
    return c->no_offer && !c->res.held && status > 100 && status < 300 &&
           (c->caller_nat || b->nat) && sip_body_is_sdp(resp) &&
           !relay_sdp_is_relayed(&c->m->relays, resp);
}

static void on_late_relay(void *arg, const struct relay_res *got)
{
    struct call *c = arg;
    osip_message_t *held = c->held;
    c->held = NULL;
    sip_free(c->late_offer); /* the query is over: it borrowed it till now */
    c->late_offer = NULL;
    if (got)
        c->res = *got;
    if (c->state == CALL_TERMINATED) { /* cancelled meanwhile */
        call_release_relay(c);
        sip_free(held);
        return;
    }
    if (!got) { /* no relay: the answer goes on as it is (one-way media through NAT) */
        if (log_ratelimit_allow(&c->m->rl))
            log_warn("call %s: no relay for the late offer; answer forwarded unrelayed",
                     c->call_id);
    }
    if (held)
        answer_upstream(c, c->held_br, held, &c->held_src);
    sip_free(held);
}

/* Holds resp while relayd is asked with its SDP; true when it did. A
 * later answer while the query runs replaces a held provisional (the 2xx
 * is what matters); the query is asked once. */
static bool hold_for_relay(struct call *c, struct call_branch *b, const osip_message_t *resp,
                           const struct addr *src)
{
    char sources[MEDIA_SOURCES_LEN];
    struct addr callee;
    osip_message_t *copy = NULL;

    if (c->late_asked && c->held && sip_status(resp) >= 200 && sip_status(c->held) < 200) {
        if (sip_clone(resp, &copy) != 0)
            return false;
        sip_free(c->held);
        c->held = copy;
        c->held_br = b;
        c->held_src = *src;
        return true;
    }
    if (c->late_asked || !late_offer(c, b, resp))
        return c->late_asked && relay_query_pending(&c->rq); /* a 1xx during the query: dropped */
    if (relay_offer_from(&c->late_offer, &c->m->relays, c->call_id, c->user, resp) != 0)
        return false;
    c->late_asked = true;
    if (media_source_of(c->m->env, resp, src, &callee) != 0)
        memset(&callee, 0, sizeof callee);
    media_sources_value(sources, sizeof sources, &callee, &c->caller_ip);
    if (sip_clone(resp, &copy) != 0 ||
        relay_query_start(&c->rq, &c->m->relays, c->late_offer, &c->tp, NULL, sources,
                          on_late_relay, c) != 0) {
        sip_free(copy);
        sip_free(c->late_offer);
        c->late_offer = NULL;
        return false;
    }
    c->callee_reported = true; /* the query names the answerer with its SDP */
    c->held = copy;
    c->held_br = b;
    c->held_src = *src;
    return true;
}

void responses_on_invite_answer(struct txn_client *ct, osip_message_t *resp, const struct addr *src,
                                void *arg)
{
    struct call_branch *b = arg;
    struct call *c = b->c;
    (void)ct;

    if (!resp) { /* Timer B, or Timer C's CANCEL went out */
        b->fwd = NULL;
        branch_final(b, 408, NULL, NULL);
        return;
    }
    int status = sip_status(resp);
    if (status == 100)
        return;
    if (status >= 200)
        b->fwd = NULL;
    if (status >= 300) {
        branch_final(b, status, resp, src);
        return;
    }
    if (hold_for_relay(c, b, resp, src))
        return;
    answer_upstream(c, b, resp, src);
}

void responses_forward_stray(struct messaging *m, osip_message_t *resp, const struct addr *src,
                             const struct transport *tp)
{
    char call_id[CALL_ID_MAX + 1];
    const struct call *c = NULL;

    /* Late answers to our own queries (a 302 retransmitted after timer D)
     * carry the caller's Via under ours: never forward those to the caller. */
    if (proxy_env_trusted(m->env, src) || !is_invite_2xx(resp)) {
        m->stats.stray_dropped++;
        return;
    }
    if (sip_call_id(resp, call_id, sizeof call_id) == 0)
        c = call_find(m, call_id);
    if (c && c->held) { /* its first copy waits for relayd: that one goes */
        m->stats.stray_dropped++;
        return;
    }
    const struct call_branch *b = c ? call_branch_at(c, src) : NULL;
    if (forward_stateless(m, resp, src, c ? &c->res : NULL, b && b->nat, tp) != 0) {
        m->stats.stray_dropped++;
        return;
    }
    m->stats.stray_forwarded++;
}

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

static void relay_upstream(struct call *c, osip_message_t *resp, const struct addr *src)
{
    int err;
    if (c->st) {
        err = responses_relay(c->m, c->st, resp, src, &c->res, c->callee_nat);
    } else if (is_invite_2xx(resp)) {
        /* the caller's transaction gave up waiting (a phone that rang for
         * longer than its bound): the answer still goes through, like a
         * 2xx retransmission would */
        err = forward_stateless(c->m, resp, src, &c->res, c->callee_nat, &c->tp);
    } else {
        return;
    }
    if (err && err != -EALREADY && log_ratelimit_allow(&c->m->rl))
        log_info("call %s: %d not relayed: error %d", c->call_id, sip_status(resp), err);
}

/* What an answer does to the call once it goes upstream. */
static void answer_upstream(struct call *c, osip_message_t *resp, const struct addr *src)
{
    int status = sip_status(resp);
    report_answerer(c, resp, src);
    relay_upstream(c, resp, src);
    if (status >= 200)
        call_note_final(c, status);
    if (status >= 200 && status < 300)
        media_timeout_keep(c, resp); /* as it went upstream: rewritten */
    if (status < 200) {
        if (sip_to_tag(resp) && c->state == CALL_FORWARDED)
            c->state = CALL_EARLY;
    } else if (status < 300) {
        c->state = CALL_CONFIRMED;
        call_expire_in(c, CALL_IDLE_MS);
    } else {
        call_terminate(c); /* the transaction layer ACKs it downstream */
    }
}

/* ---- late offer (RFC 3264 section 5; issue #16) ---- */

/* An INVITE without SDP: the offer comes in the 18x/2xx. The proxy that
 * would have taken a relay for the INVITE's offer (a NATed caller, or the
 * callee our NAT client) takes it now, unless another proxy already did
 * (the SDP names a relay). */
static bool late_offer(const struct call *c, const osip_message_t *resp)
{
    int status = sip_status(resp);
    return c->no_offer && !c->res.held && status > 100 && status < 300 &&
           (c->caller_nat || c->callee_nat) && sip_body_is_sdp(resp) &&
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
        answer_upstream(c, held, &c->held_src);
    sip_free(held);
}

/* Holds resp while relayd is asked with its SDP; true when it did. A
 * later answer while the query runs replaces a held provisional (the 2xx
 * is what matters); the query is asked once. */
static bool hold_for_relay(struct call *c, const osip_message_t *resp, const struct addr *src)
{
    char sources[MEDIA_SOURCES_LEN];
    struct addr callee;
    osip_message_t *copy = NULL;

    if (c->late_asked && c->held && sip_status(resp) >= 200 && sip_status(c->held) < 200) {
        if (sip_clone(resp, &copy) != 0)
            return false;
        sip_free(c->held);
        c->held = copy;
        c->held_src = *src;
        return true;
    }
    if (c->late_asked || !late_offer(c, resp))
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
    c->held_src = *src;
    return true;
}

void responses_on_invite_answer(struct txn_client *ct, osip_message_t *resp, const struct addr *src,
                                void *arg)
{
    struct call *c = arg;
    (void)ct;

    if (!resp) {
        c->fwd = NULL;
        answer_timeout(c);
        call_terminate(c);
        return;
    }
    int status = sip_status(resp);
    if (status == 100)
        return;
    if (status >= 200)
        c->fwd = NULL;
    if (status < 300 && hold_for_relay(c, resp, src))
        return;
    answer_upstream(c, resp, src);
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
    if (forward_stateless(m, resp, src, c ? &c->res : NULL, c && c->callee_nat, tp) != 0) {
        m->stats.stray_dropped++;
        return;
    }
    m->stats.stray_forwarded++;
}

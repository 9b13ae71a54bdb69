/* responses: figure 4d. */
#include "responses.h"

#include <errno.h>
#include <string.h>

#include "calls.h"
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
    report_answerer(c, resp, src);
    relay_upstream(c, resp, src);
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
    if (forward_stateless(m, resp, src, c ? &c->res : NULL, c && c->callee_nat, tp) != 0) {
        m->stats.stray_dropped++;
        return;
    }
    m->stats.stray_forwarded++;
}

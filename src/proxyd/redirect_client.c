/* redirect_client: the fig. 4c query and the reading of its answer. */
#include "redirect_client.h"

#include <errno.h>
#include <string.h>

#include "pinhole/log.h"

/* Step 150c: the redirect address and port from the 302's first Contact;
 * only a numeric address is a next hop. */
static int answer_next_hop(const osip_message_t *resp, struct addr *out)
{
    if (sip_contact_count(resp) < 1 || sip_contact_is_star(resp))
        return -ENOENT;
    return sip_contact_addr(resp, out);
}

static void deliver(struct redirect_query *q, int status, const struct addr *next_hop)
{
    redirect_query_cb cb = q->cb;
    void *arg = q->arg;
    q->ct = NULL;
    q->cb = NULL;
    cb(arg, status, next_hop); /* last: it may free the owner, and q with it */
}

static void on_redirect_answer(struct txn_client *ct, osip_message_t *resp, const struct addr *src,
                               void *arg)
{
    struct redirect_query *q = arg;
    struct messaging *m = q->m;
    struct addr next_hop;
    int status = resp ? sip_status(resp) : 0;
    (void)ct;
    (void)src;

    if (resp && status < 200)
        return;
    if (status == 302 && answer_next_hop(resp, &next_hop) == 0) {
        m->stats.redirect_302++;
        deliver(q, 302, &next_hop);
        return;
    }
    if (status == 404) {
        m->stats.redirect_404++;
        deliver(q, 404, NULL);
        return;
    }
    if (resp)
        m->stats.redirect_failures++;
    else
        m->stats.redirect_timeouts++;
    if (log_ratelimit_allow(&m->rl))
        log_warn("redirect query: %s", !resp           ? "redirectd did not answer"
                                       : status == 302 ? "302 without a numeric Contact"
                                                       : "unexpected answer");
    deliver(q, 503, NULL);
}

int redirect_query_start(struct redirect_query *q, struct messaging *m, const osip_message_t *req,
                         const struct transport *tp, redirect_query_cb cb, void *arg)
{
    const struct proxyd_conf *cfg = proxy_cfg(m->p);
    osip_message_t *query = NULL;

    memset(q, 0, sizeof *q);
    q->m = m;
    q->cb = cb;
    q->arg = arg;
    int err = sip_clone(req, &query);
    if (err)
        return err;
    /* step 150a: the redirect server's address in the invite header 160 */
    err = sip_request_uri_set(query, &cfg->redirect);
    if (!err) /* our own one-hop request: the caller's hop budget is not its */
        err = sip_header_set(query, "Max-Forwards", QUERY_MAX_FORWARDS);
    if (!err)
        err = sip_via_push(query, &cfg->advertise, NULL, NULL, 0);
    if (err) {
        sip_free(query);
        return err;
    }
    return txn_client_send(proxy_txn(m->p), query, &cfg->redirect, tp, on_redirect_answer, q,
                           &q->ct);
}

bool redirect_query_pending(const struct redirect_query *q)
{
    return q->ct != NULL;
}

void redirect_query_abort(struct redirect_query *q)
{
    if (q->ct && !q->m->closing)
        txn_client_abandon(q->ct);
    q->ct = NULL;
    q->cb = NULL;
}

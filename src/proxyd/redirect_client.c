/* redirect_client: the fig. 4c query and the reading of its answer. */
#include "redirect_client.h"

#include <errno.h>
#include <string.h>

#include "query.h"

void redirect_client_init(struct redirect_client *rc, const struct proxy_env *env,
                          struct redirect_stats *stats)
{
    rc->env = env;
    rc->stats = stats;
    rc->rl = (struct log_ratelimit){.interval_s = 10, .burst = 10};
}

static bool already(const struct redirect_targets *t, const struct addr *a)
{
    for (size_t i = 0; i < t->n; i++)
        if (addr_equal(&t->hop[i], a))
            return true;
    return false;
}

/* Step 150c: the redirect addresses and ports from the 302's Contacts;
 * only a numeric address is a next hop. Returns 0 when there is one. */
static int answer_targets(struct redirect_client *rc, const osip_message_t *resp,
                          struct redirect_targets *t)
{
    int n = sip_contact_count(resp);
    t->n = 0;
    if (n < 1 || sip_contact_is_star(resp))
        return -ENOENT;
    for (int i = 0; i < n; i++) {
        struct addr a;
        if (t->n == REDIRECT_TARGETS_MAX || sip_contact_addr_at(resp, i, &a) != 0) {
            rc->stats->skipped++;
            continue;
        }
        if (!already(t, &a))
            t->hop[t->n++] = a;
    }
    return t->n ? 0 : -ENOENT;
}

static void deliver(struct redirect_query *q, int status, const struct redirect_targets *t)
{
    redirect_query_cb cb = q->cb;
    void *arg = q->arg;
    q->ct = NULL;
    q->cb = NULL;
    cb(arg, status, t); /* last: it may free the owner, and q with it */
}

static void on_redirect_answer(struct txn_client *ct, osip_message_t *resp, const struct addr *src,
                               void *arg)
{
    struct redirect_query *q = arg;
    struct redirect_client *rc = q->rc;
    struct redirect_targets t;
    int status = resp ? sip_status(resp) : 0;
    (void)ct;
    (void)src;

    if (resp && status < 200)
        return;
    if (status == 302 && answer_targets(rc, resp, &t) == 0) {
        rc->stats->moved++;
        deliver(q, 302, &t);
        return;
    }
    if (status == 404) {
        rc->stats->not_found++;
        deliver(q, 404, NULL);
        return;
    }
    if (resp)
        rc->stats->failures++;
    else
        rc->stats->timeouts++;
    if (log_ratelimit_allow(&rc->rl))
        log_warn("redirect query: %s", !resp           ? "redirectd did not answer"
                                       : status == 302 ? "302 without a numeric Contact"
                                                       : "unexpected answer");
    deliver(q, 503, NULL);
}

int redirect_query_start(struct redirect_query *q, struct redirect_client *rc,
                         const osip_message_t *req, const struct transport *tp,
                         redirect_query_cb cb, void *arg)
{
    const struct proxyd_conf *cfg = rc->env->cfg;
    osip_message_t *query = NULL;

    memset(q, 0, sizeof *q);
    q->rc = rc;
    q->cb = cb;
    q->arg = arg;
    /* step 150a: the redirect server's address in the invite header 160 */
    int err = query_build(&query, req, &cfg->redirect, &cfg->advertise);
    if (err)
        return err;
    return txn_client_send(rc->env->txn, query, &cfg->redirect, tp, on_redirect_answer, q, &q->ct);
}

bool redirect_query_pending(const struct redirect_query *q)
{
    return q->ct != NULL;
}

void redirect_query_abort(struct redirect_query *q)
{
    if (q->ct && !q->rc->env->closing)
        txn_client_abandon(q->ct);
    q->ct = NULL;
    q->cb = NULL;
}

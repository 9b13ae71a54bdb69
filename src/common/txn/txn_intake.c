/* txn_intake: parse, pin, trust, transaction layer, count, dispatch (see
 * txn_intake.h). */
#include "pinhole/txn_intake.h"

#include <errno.h>
#include <string.h>
#include <time.h>

static size_t method_named(const struct txn_intake *in, const char *name)
{
    for (size_t i = 0; name && i < in->n_methods; i++)
        if (strcmp(name, in->methods[i]) == 0)
            return i;
    return in->n_methods;
}

static size_t method_of(const struct txn_intake *in, const osip_message_t *m)
{
    return method_named(in, sip_method(m));
}

void txn_intake_log_peer(const struct txn_intake *in, const struct addr *src, const char *what,
                         const char *why)
{
    if (log_ratelimit_allow(in->log_rl)) {
        char who[ADDR_STRLEN];
        log_warn("%s from %s: %s", what, addr_format(src, who, sizeof who), why);
    }
}

static bool forbid_budget_take(struct txn_forbid_budget *b)
{
    struct timespec now;
    if (!b)
        return true;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
    if ((int64_t)now.tv_sec != b->second) {
        b->second = (int64_t)now.tv_sec;
        b->answered = 0;
    }
    return b->answered++ < TXN_FORBID_PER_S;
}

void txn_intake_forbid(const struct txn_intake *in, const char *method_name, const struct addr *src,
                       const char *buf, size_t len, uint64_t *forbidden)
{
    if (strcmp(method_name, "ACK") == 0)
        return; /* never answered */
    (*forbidden)++;
    if (!forbid_budget_take(in->forbid_budget))
        return;
    txn_intake_log_peer(in, src, method_name, "not in proxies, answered 403");
    (void)txn_reply_raw(in->reply, buf, len, 403, src);
}

/* ---- unparseable datagrams ---- */

/* A request that failed to parse but got far enough to be answered goes
 * through the transaction layer all the same, so its retransmissions are
 * absorbed instead of answered again. */
static void answer_unparsed(const struct txn_intake *in, osip_message_t **mp, int status,
                            const struct addr *src)
{
    osip_message_t *m = *mp;
    struct txn_server *st = NULL;
    if (sip_via_set_received(m, src) != 0)
        return;
    int rc = txn_server_receive(in->tl, mp, src, in->reply->tp, &st);
    if (rc == TXN_NEW && st)
        txn_reply_status(in->reply, st, status, NULL);
    else if (rc == -EINVAL)
        txn_reply_stateless(in->reply, m, status, src);
    else if (rc == TXN_RETRANSMISSION)
        (*in->counters.absorbed)++;
}

static void refuse_unparsed(const struct txn_intake *in, osip_message_t **mp,
                            const struct sip_parse_result *res, const struct addr *src)
{
    osip_message_t *m = *mp;
    (*in->counters.parse_errors)++;
    txn_intake_log_peer(in, src, "unparseable datagram", res->reason ? res->reason : "malformed");
    if (!m || !res->answerable || !sip_is_request(m) || sip_method_is(m, "ACK"))
        return;
    answer_unparsed(in, mp, res->error == SIP_PARSE_VERSION ? 505 : 400, src);
}

/* ---- requests ---- */

static void handle_request(const struct txn_intake *in, osip_message_t **mp, const struct addr *src)
{
    osip_message_t *m = *mp;
    struct txn_server *st = NULL;
    size_t method = method_of(in, m);

    /* Responses go to the datagram's source and nowhere else. */
    if (sip_via_set_received(m, src) != 0)
        return;
    int rc = txn_server_receive(in->tl, mp, src, in->reply->tp, &st);
    if (rc == TXN_RETRANSMISSION) {
        (*in->counters.absorbed)++;
        return;
    }
    if (rc == TXN_ACK_ABSORBED) {
        (*in->counters.acks_absorbed)++;
        return;
    }
    if (rc < 0) {
        /* nothing ever answers an ACK */
        if (rc == -EINVAL && !sip_method_is(m, "ACK"))
            txn_reply_stateless(in->reply, m, 400, src);
        return;
    }
    if (!st) {
        (*in->counters.stray_acks)++; /* no transaction: nothing to end */
        return;
    }
    in->counters.requests[method]++;
    in->dispatch(in->arg, st, m, method, src);
    /* Never leave a transaction unanswered until server_max_ms, unless a
     * handler took it to answer later (txn_server_set_user: redirectd's
     * REGISTER waiting for its commit). */
    if (!txn_server_is_final(st) && !txn_server_user(st))
        txn_reply_status(in->reply, st, 500, NULL);
}

/* design.md "bounded cost per datagram": the trust check reads the first
 * line only, so an outsider costs no parse. True when the datagram may go
 * on to the parser. */
static bool admit(const struct txn_intake *in, const struct addr *src, const char *buf, size_t len)
{
    char name[TXN_INTAKE_METHOD_MAX + 1];
    if (!in->trusted)
        return true;
    if (sip_request_method(buf, len, name, sizeof name) != 0) {
        if (in->trusted(in->arg, src, in->n_methods))
            return true; /* a response or garbage from a proxy: parsed, counted */
        if (len >= 8 && memcmp(buf, "SIP/2.0 ", 8) == 0) {
            (*in->counters.stray_responses)++; /* we asked an outsider nothing */
        } else {
            (*in->counters.parse_errors)++;
            txn_intake_log_peer(in, src, "datagram", "no request line, dropped");
        }
        return false;
    }
    size_t method = method_named(in, name);
    if (in->trusted(in->arg, src, method))
        return true;
    in->refuse(in->arg, name, method, src, buf, len);
    return false;
}

void txn_intake_receive(const struct txn_intake *in, const struct addr *src, const char *buf,
                        size_t len)
{
    osip_message_t *m = NULL;
    struct sip_parse_result res = {0};

    if (!admit(in, src, buf, len))
        return;

    if (sip_parse(&m, buf, len, &res) != 0)
        refuse_unparsed(in, &m, &res, src);
    else if (!sip_is_request(m)) {
        /* the answer to a request of ours (relayd's notice to a proxy), or stray */
        if (txn_client_receive(in->tl, m, src) == -ENOENT)
            (*in->counters.stray_responses)++;
    } else
        handle_request(in, &m, src);
    if (m)
        sip_free(m);
}

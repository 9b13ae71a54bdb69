/* txn_intake: parse, pin, trust, transaction layer, count, dispatch (see
 * txn_intake.h). */
#include "pinhole/txn_intake.h"

#include <errno.h>

static size_t method_of(const struct txn_intake *in, const osip_message_t *m)
{
    for (size_t i = 0; i < in->n_methods; i++)
        if (sip_method_is(m, in->methods[i]))
            return i;
    return in->n_methods;
}

static bool trusted(const struct txn_intake *in, const struct addr *src)
{
    return !in->trusted || in->trusted(in->arg, src);
}

void txn_intake_log_peer(const struct txn_intake *in, const struct addr *src, const char *what,
                         const char *why)
{
    if (log_ratelimit_allow(in->log_rl)) {
        char who[ADDR_STRLEN];
        log_warn("%s from %s: %s", what, addr_format(src, who, sizeof who), why);
    }
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
    if (!trusted(in, src)) {
        txn_reply_stateless(in->reply, m, status, src);
        return;
    }
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
    if (!trusted(in, src)) {
        in->refuse(in->arg, m, method, src);
        return;
    }
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
    /* Never leave a transaction unanswered until server_max_ms. */
    if (!txn_server_is_final(st))
        txn_reply_status(in->reply, st, 500, NULL);
}

void txn_intake_receive(const struct txn_intake *in, const struct addr *src, const char *buf,
                        size_t len)
{
    osip_message_t *m = NULL;
    struct sip_parse_result res = {0};

    if (sip_parse(&m, buf, len, &res) != 0)
        refuse_unparsed(in, &m, &res, src);
    else if (!sip_is_request(m))
        (*in->counters.stray_responses)++; /* we send no requests: nothing to match */
    else
        handle_request(in, &m, src);
    if (m)
        sip_free(m);
}

/* intake: parse, NAT detection, transactions, then the owner's handlers. */
#include "intake.h"

#include <errno.h>

#include "nat_detect.h"

void intake_init(struct intake *in, struct proxy_env *env, const struct intake_handlers *h)
{
    in->env = env;
    in->h = *h;
    in->parse_rl = (struct log_ratelimit){.interval_s = 10, .burst = 10};
}

/* A bare CRLF (or CRLFCRLF) is a client's own NAT keepalive (RFC 5626
 * §4.4.1 style). */
static bool is_keepalive(const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (buf[i] != '\r' && buf[i] != '\n')
            return false;
    return true;
}

static void count_request(struct proxy_stats *stats, const osip_message_t *req)
{
    static const char *const names[PROXY_M_OTHER] = {"REGISTER", "INVITE", "ACK",
                                                     "BYE",      "CANCEL", "OPTIONS"};
    size_t i = 0;
    while (i < PROXY_M_OTHER && !sip_method_is(req, names[i]))
        i++;
    stats->requests[i]++;
}

/* *reqp is taken when it starts a transaction (txn_server_receive); req
 * stays readable until we return to the loop either way. */
static void on_request(struct intake *in, const struct transport *tp, const struct addr *src,
                       osip_message_t **reqp)
{
    struct proxy_env *env = in->env;
    struct proxy_rx rx = {.src = *src, .tp = tp};
    struct txn_server *st = NULL;
    osip_message_t *req = *reqp;

    /* NAT detection needs the sent-by as the sender wrote it (step 114). */
    nat_detect_sent_by(req, &rx.sent_by);
    if (sip_via_set_received(req, src) != 0)
        return;
    int r = txn_server_receive(env->txn, reqp, src, tp, &st);
    if (r == -ENOSPC) { /* limits.max_transactions: memory stays bounded */
        env->stats.transactions_full++;
        (void)txn_respond_stateless(tp, req, 503, src);
        return;
    }
    if (r == -EINVAL && !sip_method_is(req, "ACK")) {
        env->stats.bad_requests++;                      /* nothing to key a transaction on */
        (void)txn_respond_stateless(tp, req, 400, src); /* src: received:rport */
        return;
    }
    if (r != TXN_NEW)
        return; /* absorbed, or out of memory */
    count_request(&env->stats, req);
    if (!st) {
        if (sip_method_is(req, "ACK") && in->h.on_ack)
            in->h.on_ack(in->h.arg, req, &rx);
        return;
    }
    if (in->h.on_request) {
        in->h.on_request(in->h.arg, st, req, &rx);
        return;
    }
    env->stats.not_implemented++;
    (void)txn_server_respond_status(st, 501);
}

static void on_response(struct intake *in, const struct transport *tp, const struct addr *src,
                        osip_message_t *resp)
{
    if (txn_client_receive(in->env->txn, resp, src) != -ENOENT)
        return;
    in->env->stats.stray_responses++;
    if (in->h.on_stray_response)
        in->h.on_stray_response(in->h.arg, resp, src, tp); /* 2xx retransmissions */
}

static void on_parse_error(struct intake *in, const struct transport *tp, const struct addr *src,
                           osip_message_t *m, const struct sip_parse_result *res)
{
    bool answer = m && res->answerable && sip_is_request(m) && !sip_method_is(m, "ACK");

    in->env->stats.parse_errors++;
    if (log_ratelimit_allow(&in->parse_rl)) {
        char who[ADDR_STRLEN];
        log_info("unparseable datagram from %s (%s), %s", addr_format(src, who, sizeof who),
                 res->reason ? res->reason : "?", answer ? "answered" : "dropped");
    }
    if (!answer || sip_via_set_received(m, src) != 0)
        return;
    in->env->stats.bad_requests++;
    (void)txn_respond_stateless(tp, m, res->error == SIP_PARSE_VERSION ? 505 : 400, src);
}

void intake_receive(struct intake *in, const struct transport *tp, const struct addr *src,
                    const char *buf, size_t len)
{
    osip_message_t *m = NULL;
    struct sip_parse_result res;

    if (is_keepalive(buf, len))
        return;
    if (sip_parse(&m, buf, len, &res) != 0) {
        on_parse_error(in, tp, src, m, &res);
        sip_free(m);
        return;
    }
    if (sip_is_request(m))
        on_request(in, tp, src, &m);
    else
        on_response(in, tp, src, m);
    sip_free(m);
}

/* relay_reply: sending and counting relayd's responses. */
#include "relay_reply.h"

static void count(struct relay_ctx *c, int status, int err)
{
    if (err) {
        c->stats.send_errors++;
        return;
    }
    if (status >= RELAY_STATUS_MIN && status < RELAY_STATUS_MIN + RELAY_STATUS_SLOTS)
        c->stats.responses[status - RELAY_STATUS_MIN]++;
}

int relay_reply_send(struct relay_ctx *c, struct txn_server *st, const osip_message_t *resp)
{
    int err = txn_server_respond(st, resp);
    count(c, sip_status(resp), err);
    return err;
}

int relay_reply_status(struct relay_ctx *c, struct txn_server *st, int status,
                       const char *const *headers)
{
    int err = headers ? txn_server_respond_with(st, status, headers)
                      : txn_server_respond_status(st, status);
    count(c, status, err);
    return err;
}

int relay_reply_reason(struct relay_ctx *c, struct txn_server *st, int status, const char *reason)
{
    osip_message_t *resp = NULL;
    int err = txn_server_build(st, status, reason, NULL, &resp);
    if (err) {
        c->stats.send_errors++;
        return err;
    }
    err = relay_reply_send(c, st, resp);
    sip_free(resp);
    return err;
}

int relay_reply_stateless(struct relay_ctx *c, const osip_message_t *req, int status,
                          const struct addr *src)
{
    int err = txn_respond_stateless(c->tp, req, status, src);
    count(c, status, err);
    return err;
}

/* reply: sending and counting redirectd's responses. */
#include "reply.h"

static void count(struct rd_ctx *c, int status, int err)
{
    if (err) {
        c->stats.send_errors++;
        return;
    }
    if (status >= RD_STATUS_MIN && status < RD_STATUS_MIN + RD_STATUS_SLOTS)
        c->stats.responses[status - RD_STATUS_MIN]++;
}

int reply_send(struct rd_ctx *c, struct txn_server *st, const osip_message_t *resp)
{
    int err = txn_server_respond(st, resp);
    count(c, sip_status(resp), err);
    return err;
}

int reply_status(struct rd_ctx *c, struct txn_server *st, int status, const char *const *headers)
{
    int err = headers ? txn_server_respond_with(st, status, headers)
                      : txn_server_respond_status(st, status);
    count(c, status, err);
    return err;
}

int reply_reason(struct rd_ctx *c, struct txn_server *st, int status, const char *reason)
{
    osip_message_t *resp = NULL;
    int err = txn_server_build(st, status, reason, NULL, &resp);
    if (err) {
        c->stats.send_errors++;
        return err;
    }
    err = reply_send(c, st, resp);
    sip_free(resp);
    return err;
}

int reply_stateless(struct rd_ctx *c, const osip_message_t *req, int status, const struct addr *src)
{
    int err = txn_respond_stateless(c->tp, req, status, src);
    count(c, status, err);
    return err;
}

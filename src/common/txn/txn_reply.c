/* txn_reply: sending and counting a daemon's responses (see txn_reply.h). */
#include "pinhole/txn_reply.h"

#include <errno.h>

static void count(const struct txn_reply *r, int status, int err)
{
    if (err) {
        (*r->send_errors)++;
        return;
    }
    if (status >= r->status_min && (size_t)(status - r->status_min) < r->slots)
        r->responses[status - r->status_min]++;
}

int txn_reply_send(const struct txn_reply *r, struct txn_server *st, const osip_message_t *resp)
{
    int err = txn_server_respond(st, resp);
    count(r, sip_status(resp), err);
    return err;
}

int txn_reply_status(const struct txn_reply *r, struct txn_server *st, int status,
                     const char *const *headers)
{
    int err = headers ? txn_server_respond_with(st, status, headers)
                      : txn_server_respond_status(st, status);
    count(r, status, err);
    return err;
}

int txn_reply_reason(const struct txn_reply *r, struct txn_server *st, int status,
                     const char *reason)
{
    osip_message_t *resp = NULL;
    int err = txn_server_build(st, status, reason, NULL, &resp);
    if (err) {
        (*r->send_errors)++;
        return err;
    }
    err = txn_reply_send(r, st, resp);
    sip_free(resp);
    return err;
}

int txn_reply_stateless(const struct txn_reply *r, const osip_message_t *req, int status,
                        const struct addr *src)
{
    int err = txn_respond_stateless(r->tp, req, status, src);
    count(r, status, err);
    return err;
}

int txn_reply_raw(const struct txn_reply *r, const char *req, size_t len, int status,
                  const struct addr *src)
{
    int err = txn_respond_raw(r->tp, req, len, status, src);
    if (err == -EINVAL)
        return err; /* an ACK, or nothing to answer on: not a send error */
    count(r, status, err);
    return err;
}

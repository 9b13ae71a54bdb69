/* relay_reply: building, sending and counting relayd's responses. */
#include "relay_reply.h"

#include <errno.h>
#include <stdlib.h>

static void count(struct relay_ctx *c, int status, int err)
{
    if (err) {
        c->stats.send_errors++;
        return;
    }
    if (status >= RELAY_STATUS_MIN && status < RELAY_STATUS_MIN + RELAY_STATUS_SLOTS)
        c->stats.responses[status - RELAY_STATUS_MIN]++;
}

/* libosip2 frees the reason phrase with the message: give it its own copy. */
static int set_reason(osip_message_t *resp, const char *reason)
{
    char *copy = osip_strdup(reason);
    if (!copy)
        return -ENOMEM;
    osip_free(resp->reason_phrase);
    resp->reason_phrase = copy;
    return 0;
}

int relay_reply_build(struct txn_server *st, int status, const char *reason, osip_message_t **out)
{
    osip_message_t *resp = NULL;
    int err = sip_response_new(&resp, txn_server_request(st), status, txn_server_to_tag(st));
    if (err)
        return err;
    if (reason && (err = set_reason(resp, reason)) != 0) {
        sip_free(resp);
        return err;
    }
    *out = resp;
    return 0;
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
    int err = relay_reply_build(st, status, reason, &resp);
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
    osip_message_t *resp = NULL;
    char *wire = NULL;
    size_t len = 0;
    int err = sip_response_new(&resp, req, status, NULL);
    if (err == 0)
        err = sip_serialize(resp, &wire, &len);
    if (err == 0)
        err = transport_send(c->tp, src, wire, len);
    count(c, status, err);
    osip_free(wire);
    if (resp)
        sip_free(resp);
    return err;
}

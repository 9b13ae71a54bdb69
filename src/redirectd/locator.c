/* locator: INVITE → 302 / 404 (see locator.h). */
#include "locator.h"

#include <errno.h>

#include "pinhole/txn_reply.h"

/* "sip:" + the longest ID + "@[IPv6]:port", or the longest stored Contact. */
#define LOCATOR_TARGET_MAX (CLIENT_CONTACT_MAX + CLIENT_ID_MAX + ADDR_STRLEN + 8)

int locator_handle(struct rd_ctx *c, struct txn_server *st, const osip_message_t *req,
                   const struct addr *src)
{
    char target[LOCATOR_TARGET_MAX];
    osip_message_t *resp = NULL;
    const char *id = sip_request_uri_user(req); /* invite header 160's ID field 162 */
    int err;

    if (!id || !*id)
        return txn_reply_status(&c->reply, st, 404, NULL);
    err = client_table_redirect(c->clients, id, src, loop_now_ms(c->loop), target, sizeof target);
    if (err == -ENOENT)
        return txn_reply_status(&c->reply, st, 404, NULL);
    if (err)
        return txn_reply_status(&c->reply, st, 500, NULL);

    err = txn_server_build(st, 302, NULL, NULL, &resp);
    if (err)
        return txn_reply_status(&c->reply, st, 500, NULL);
    err = sip_contact_replace(resp, target, -1);
    if (!err)
        err = txn_reply_send(&c->reply, st, resp);
    else
        err = txn_reply_status(&c->reply, st, 500, NULL);
    sip_free(resp);
    return err;
}

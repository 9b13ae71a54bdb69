/* locator: INVITE → 302 / 404 (see locator.h). */
#include "locator.h"

#include <errno.h>

#include "pinhole/txn_reply.h"

int locator_handle(struct rd_ctx *c, struct txn_server *st, const osip_message_t *req,
                   const struct addr *src)
{
    struct client_target targets[CLIENT_CONTACTS_MAX];
    osip_message_t *resp = NULL;
    const char *id = sip_request_uri_user(req); /* invite header 160's ID field 162 */
    int n, err = 0;

    if (!id || !*id)
        return txn_reply_status(&c->reply, st, 404, NULL);
    n = client_table_redirect(c->clients, id, src, loop_now_ms(c->loop), targets,
                              CLIENT_CONTACTS_MAX);
    if (n == -ENOENT)
        return txn_reply_status(&c->reply, st, 404, NULL);
    if (n < 0 || txn_server_build(st, 302, NULL, NULL, &resp) != 0)
        return txn_reply_status(&c->reply, st, 500, NULL);
    /* every phone of the user, best q first: the proxy forks (RFC 3261 16.7) */
    sip_contacts_clear(resp);
    for (int i = 0; i < n && !err; i++)
        err = sip_contact_add(resp, targets[i].uri, -1, targets[i].q);
    if (!err)
        err = txn_reply_send(&c->reply, st, resp);
    else
        err = txn_reply_status(&c->reply, st, 500, NULL);
    sip_free(resp);
    return err;
}

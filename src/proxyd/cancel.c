/* cancel: §16.10. */
#include "cancel.h"

#include <errno.h>

#include "calls.h"
#include "dialog.h"
#include "pinhole/log.h"

/* §16.10: every branch still ringing gets its CANCEL. */
static void cancel_call(struct call *c)
{
    if (c->state == CALL_QUERYING)
        call_fail(c, 487);
    else
        call_cancel_branches(c, NULL, NULL);
}

void cancel_on_request(struct messaging *m, struct txn_server *st, const osip_message_t *req,
                       const struct proxy_rx *rx)
{
    (void)rx;
    struct txn_server *inv = txn_server_find_invite(m->env->txn, req);
    if (!inv) {
        (void)txn_server_respond_status(st, 481);
        return;
    }
    m->stats.cancels++;
    (void)txn_server_respond_status(st, 200); /* §16.10: at once, hop by hop */
    void *user = txn_server_user(inv);
    if (txn_server_is_final(inv) || !user)
        return; /* answered already: nothing left to cancel */
    if (*(const enum msg_leg *)user == MSG_LEG_CALL)
        cancel_call(user);
    else
        dialog_cancel(user);
}

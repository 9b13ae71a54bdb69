/* txn_client: RFC 3261 §17.1 client transactions.
 *
 * One timer per transaction serves every state:
 *   CALLING     INVITE, nothing heard: A (T1 doubling) resends, B (64·T1) times out
 *   TRYING      non-INVITE, nothing heard: E (T1 doubling to T2) resends, F (64·T1)
 *   PROCEEDING  non-INVITE after a 1xx: E at T2, F still running
 *               INVITE after a 1xx: no retransmission; server_max_ms bounds the
 *               wait for a final (a proxy's timer C, §16.6 step 11)
 *   COMPLETED   INVITE non-2xx: D (64·T1 = 32 s at the default T1; shorter only
 *               when tests shrink T1) re-ACKs retransmitted finals
 *               non-INVITE final: K (T4) absorbs retransmitted finals
 *   ACCEPTED    INVITE 2xx (RFC 6026): 64·T1. A further 2xx is NOT absorbed:
 *               txn_client_receive returns -ENOENT so a proxy forwards it
 *               statelessly, and a UA's dialog layer re-ACKs it (§13.2.2.4).
 *
 * Callbacks may abandon their own transaction or start new ones: a
 * transaction is taken out of the table before a callback that ends it, and
 * one that must die while a callback runs on it is freed when the callback
 * returns (`in_callback`, `doomed`). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pinhole/loop.h"
#include "pinhole/sip.h"
#include "txn_internal.h"

enum client_state {
    CLI_CALLING = 0, /* INVITE */
    CLI_TRYING,      /* non-INVITE */
    CLI_PROCEEDING,
    CLI_COMPLETED,
    CLI_ACCEPTED,
};

struct txn_client {
    struct txn_layer *tl;
    osip_message_t *req;
    char *bytes; /* the request as sent (osip_free) */
    size_t len;
    char *ack; /* the ACK for a non-2xx final (osip_free) */
    size_t ack_len;
    struct addr dst;
    struct transport tp;
    struct timer *timer;
    struct txn_retx retx; /* timers A/B, E/F */
    enum client_state state;
    bool invite;
    bool in_table;
    bool abandoned;
    bool doomed;
    bool timer_c_fired;  /* CANCEL sent: the next expiry ends it */
    bool cancel_wanted;  /* CANCELled before any provisional: sent on the first */
    char *cancel_reason; /* its Reason (free); NULL: none */
    unsigned in_callback;
    txn_client_cb cb;
    void *arg;
    char key[];
};

static void client_free(struct txn_client *ct)
{
    timer_free(ct->timer);
    if (ct->req)
        sip_free(ct->req);
    osip_free(ct->bytes);
    osip_free(ct->ack);
    free(ct->cancel_reason);
    ct->tl->stats.clients--;
    free(ct);
}

void txn_client_discard(void *p)
{
    client_free(p);
}

/* The one end of a client transaction. */
static void client_end(struct txn_client *ct)
{
    if (ct->in_table) {
        table_remove(ct->tl->clients, ct->key);
        ct->in_table = false;
    }
    if (ct->in_callback) {
        ct->doomed = true; /* freed when the callback returns */
        return;
    }
    client_free(ct);
}

/* Once the final is delivered only the key (and an INVITE's ACK) matter
 * for timers D, K and the accepted state: the request and its bytes go,
 * or every call would hold its requests for 32 s. An INVITE whose ACK
 * could not be built keeps its request to try again. */
static void drop_request(struct txn_client *ct)
{
    if (ct->invite && ct->state == CLI_COMPLETED && !ct->ack)
        return;
    sip_free(ct->req);
    ct->req = NULL;
    osip_free(ct->bytes);
    ct->bytes = NULL;
    ct->len = 0;
}

/* Calls the user unless abandoned. Returns false when the transaction was
 * ended during the callback and is now freed. */
static bool deliver(struct txn_client *ct, osip_message_t *resp, const struct addr *src)
{
    if (!ct->abandoned && ct->cb) {
        ct->in_callback++;
        ct->cb(ct, resp, src, ct->arg);
        ct->in_callback--;
    }
    if (ct->doomed && !ct->in_callback) {
        client_free(ct);
        return false;
    }
    return true;
}

/* B, F or the proceeding bound: no final answer. */
static void client_timeout(struct txn_client *ct)
{
    ct->tl->stats.timeouts++;
    if (ct->in_table) {
        table_remove(ct->tl->clients, ct->key);
        ct->in_table = false;
    }
    if (deliver(ct, NULL, NULL))
        client_end(ct);
}

/* Timer C (RFC 3261 16.6 step 11, 16.8): an INVITE branch rang for
 * server_max_ms without a final. The owner hears a timeout now (and
 * answers the caller 408); the branch is CANCELled, and this transaction
 * stays, abandoned, to ACK the 487 it brings back, or ends after 64·T1
 * more when nothing comes. */
static void timer_c(struct txn_client *ct)
{
    ct->tl->stats.timeouts++;
    ct->tl->stats.timer_c++;
    (void)txn_client_cancel(ct); /* best effort: a lost CANCEL is the callee's to time out */
    if (!deliver(ct, NULL, NULL))
        return;
    ct->abandoned = true;
    ct->timer_c_fired = true;
    timer_start(ct->timer, txn_64t1(ct->tl));
}

static void resend(struct txn_client *ct, const char *buf, size_t len)
{
    /* A failed resend is a lost datagram; the next timer tries again. */
    (void)transport_send(&ct->tp, &ct->dst, buf, len);
    ct->tl->stats.retransmissions++;
}

/* Timers A (INVITE: doubling without cap) and E (non-INVITE: doubling to
 * T2, and T2 flat once a provisional came, §17.1.2.2); B/F at the limit. */
static void retransmit_or_give_up(struct txn_client *ct)
{
    uint64_t t2 = ct->tl->tm.t2_ms;
    if (txn_retx_expired(&ct->retx)) {
        client_timeout(ct);
        return;
    }
    resend(ct, ct->bytes, ct->len);
    uint64_t next = 2 * ct->retx.interval;
    if (ct->state == CLI_PROCEEDING)
        next = t2;
    else if (!ct->invite && next > t2)
        next = t2;
    txn_retx_arm(&ct->retx, ct->timer, next);
}

static void on_client_timer(struct timer *t, void *arg)
{
    struct txn_client *ct = arg;
    (void)t;

    switch (ct->state) {
    case CLI_CALLING:
    case CLI_TRYING:
        retransmit_or_give_up(ct);
        return;
    case CLI_PROCEEDING:
        if (ct->invite && !ct->timer_c_fired)
            timer_c(ct); /* no final within server_max_ms */
        else if (ct->invite)
            client_end(ct); /* CANCELled by Timer C, and still nothing */
        else
            retransmit_or_give_up(ct);
        return;
    case CLI_COMPLETED:
    case CLI_ACCEPTED:
        client_end(ct); /* D, K or the end of Accepted */
        return;
    }
}

/* §17.1.1.3: ACK a non-2xx final to INVITE, to where the INVITE went. */
static void send_ack(struct txn_client *ct, const osip_message_t *resp)
{
    if (ct->ack) {
        resend(ct, ct->ack, ct->ack_len);
        return;
    }
    osip_message_t *ack = NULL;
    if (sip_ack_for(&ack, ct->req, resp) != 0)
        return; /* the final is retransmitted; we try again then */
    (void)txn_send_message(&ct->tp, &ct->dst, ack, &ct->ack, &ct->ack_len);
    sip_free(ack);
}

/* Builds and sends inv's CANCEL now. */
static int cancel_send(struct txn_client *inv, const char *reason)
{
    osip_message_t *cancel = NULL;
    int err = sip_cancel_for(&cancel, inv->req);
    if (!err && reason)
        err = sip_header_set(cancel, "Reason", reason);
    if (err) {
        sip_free(cancel);
        return err;
    }
    /* §9.1: a transaction of its own, to where the INVITE went; its 200 is
     * hop by hop and wanted by nobody */
    return txn_client_send(inv->tl, cancel, &inv->dst, &inv->tp, NULL, NULL, NULL);
}

static int invite_response(struct txn_client *ct, osip_message_t *resp, const struct addr *src,
                           int status)
{
    const struct txn_timers *tm = &ct->tl->tm;
    switch (ct->state) {
    case CLI_CALLING:
    case CLI_PROCEEDING:
        if (status < 200) {
            ct->state = CLI_PROCEEDING;
            timer_start(ct->timer, tm->server_max_ms); /* A and B stop */
            if (ct->cancel_wanted) {                   /* the CANCEL held back for this */
                ct->cancel_wanted = false;
                (void)cancel_send(ct, ct->cancel_reason);
            }
        } else if (status < 300) {
            ct->state = CLI_ACCEPTED;
            timer_start(ct->timer, txn_64t1(ct->tl));
        } else {
            send_ack(ct, resp);
            ct->state = CLI_COMPLETED;
            timer_start(ct->timer, txn_64t1(ct->tl)); /* timer D */
        }
        if (deliver(ct, resp, src) && status >= 200)
            drop_request(ct);
        return 0;
    case CLI_COMPLETED:
        if (status >= 300)
            send_ack(ct, resp);
        return 0;
    case CLI_ACCEPTED:
        return status >= 200 && status < 300 ? -ENOENT : 0;
    case CLI_TRYING:
        break;
    }
    return 0;
}

static int non_invite_response(struct txn_client *ct, osip_message_t *resp, const struct addr *src,
                               int status)
{
    if (ct->state == CLI_COMPLETED)
        return 0; /* a retransmitted final, absorbed during timer K */
    if (status < 200) {
        ct->state = CLI_PROCEEDING;
    } else {
        ct->state = CLI_COMPLETED;
        timer_start(ct->timer, ct->tl->tm.t4_ms); /* timer K */
    }
    if (deliver(ct, resp, src) && status >= 200)
        drop_request(ct);
    return 0;
}

int txn_client_receive(struct txn_layer *tl, osip_message_t *resp, const struct addr *src)
{
    char key[TXN_KEY_MAX];
    if (!tl || !resp || sip_is_request(resp))
        return -EINVAL;
    txn_flush_retired(tl);
    int status = sip_status(resp);
    if (status < 100 || status > 699)
        return -EINVAL;
    if (txn_client_key(resp, key, sizeof key) != 0)
        return -ENOENT;
    struct txn_client *ct = table_get(tl->clients, key);
    if (!ct)
        return -ENOENT;
    return ct->invite ? invite_response(ct, resp, src, status)
                      : non_invite_response(ct, resp, src, status);
}

/* An ACK has no transaction (§17.1.1.3: the ACK for a 2xx is the TU's):
 * it is sent once and freed. */
static int send_stateless(osip_message_t *req, const struct addr *dst, const struct transport *tp)
{
    char *buf = NULL;
    size_t len = 0;
    int err = txn_send_message(tp, dst, req, &buf, &len);
    osip_free(buf);
    sip_free(req);
    return err;
}

static int client_new(struct txn_client **out, struct txn_layer *tl, osip_message_t *req,
                      const char *key, const struct addr *dst, const struct transport *tp)
{
    size_t klen = strlen(key);
    struct txn_client *ct = calloc(1, sizeof *ct + klen + 1);
    if (!ct) {
        sip_free(req);
        return -ENOMEM;
    }
    memcpy(ct->key, key, klen + 1);
    ct->tl = tl;
    tl->stats.clients++;
    ct->req = req;
    ct->dst = *dst;
    ct->tp = *tp;
    ct->invite = sip_method_is(req, "INVITE");
    ct->state = ct->invite ? CLI_CALLING : CLI_TRYING;
    int err = timer_new(&ct->timer, tl->loop, on_client_timer, ct);
    if (err)
        goto out;
    err = txn_send_message(&ct->tp, &ct->dst, ct->req, &ct->bytes, &ct->len);
    if (err)
        goto out;
    err = table_put(tl->clients, ct->key, ct, 0, NULL);
    if (err)
        goto out;
    ct->in_table = true;
    txn_retx_start(&ct->retx, ct->timer, tl->tm.t1_ms, txn_64t1(tl)); /* A/B or E/F */
    *out = ct;
    return 0;
out:
    client_free(ct);
    return err;
}

int txn_client_send(struct txn_layer *tl, osip_message_t *req, const struct addr *dst,
                    const struct transport *tp, txn_client_cb cb, void *arg,
                    struct txn_client **out)
{
    char key[TXN_KEY_MAX];
    struct txn_client *ct = NULL;
    int err;

    if (out)
        *out = NULL;
    if (!tl || !req || !dst || !tp || !sip_is_request(req)) {
        err = -EINVAL;
        goto out;
    }
    if (sip_method_is(req, "ACK"))
        return send_stateless(req, dst, tp);
    err = txn_client_key(req, key, sizeof key);
    if (err)
        goto out;
    if (table_get(tl->clients, key)) {
        err = -EEXIST; /* a branch must be fresh per request (§8.1.1.7) */
        goto out;
    }
    err = client_new(&ct, tl, req, key, dst, tp);
    if (err)
        return err; /* req already freed */
    ct->cb = cb;
    ct->arg = arg;
    if (out)
        *out = ct;
    return 0;
out:
    if (req)
        sip_free(req);
    return err;
}

int txn_client_cancel(struct txn_client *inv)
{
    return txn_client_cancel_reason(inv, NULL);
}

int txn_client_cancel_reason(struct txn_client *inv, const char *reason)
{
    if (!inv->req)
        return -EALREADY; /* the final came: nothing left to cancel */
    if (inv->invite && inv->state == CLI_CALLING) {
        /* §9.1: not before a provisional (the INVITE may not even have
         * arrived: the CANCEL would overtake it and be answered 481) */
        if (inv->cancel_wanted)
            return 0;
        char *copy = reason ? strdup(reason) : NULL;
        if (reason && !copy)
            return -ENOMEM;
        inv->cancel_wanted = true;
        inv->cancel_reason = copy;
        return 0;
    }
    return cancel_send(inv, reason);
}

void txn_client_abandon(struct txn_client *ct)
{
    if (ct)
        ct->abandoned = true;
}

const osip_message_t *txn_client_request(const struct txn_client *ct)
{
    return ct->req;
}

const struct addr *txn_client_destination(const struct txn_client *ct)
{
    return &ct->dst;
}

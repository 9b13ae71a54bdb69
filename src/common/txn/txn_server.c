/* txn_server: RFC 3261 §17.2 server transactions, with the RFC 6026
 * "Accepted" state for INVITEs answered 2xx.
 *
 * One timer per transaction serves every state:
 *   PROCEEDING  no final yet: dropped after server_max_ms (a lost upstream),
 *               restarted at server_max_ms + 64·T1 by each INVITE provisional
 *   COMPLETED   INVITE non-2xx: G (T1 doubling to T2) resends, H (64·T1) ends
 *               non-INVITE: J (64·T1) ends
 *   CONFIRMED   INVITE, ACK seen: I (T4) ends
 *   ACCEPTED    INVITE 2xx: 64·T1 (RFC 6026 Timer L) ends
 * Every end goes through server_end(), the one teardown path. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pinhole/loop.h"
#include "pinhole/sip.h"
#include "txn_internal.h"

enum server_state {
    SRV_PROCEEDING = 0,
    SRV_COMPLETED,
    SRV_CONFIRMED,
    SRV_ACCEPTED,
};

struct txn_server {
    struct txn_layer *tl;
    osip_message_t *req; /* taken from the receiver, received/rport set */
    struct addr src;
    struct addr dst;     /* response destination (§18.2.2, RFC 3581) */
    int dst_err;         /* non-zero: the request cannot be answered */
    struct transport tp; /* by value: the socket outlives transactions */
    struct timer *timer;
    struct txn_retx retx; /* timers G/H */
    enum server_state state;
    bool invite;
    bool legacy; /* RFC 2543 key: ACKs must carry final_tag */
    char *last;  /* last response sent, for retransmission (osip_free) */
    size_t last_len;
    char *final_tag; /* To tag of the final response (RFC 2543 ACK match) */
    char own_tag[SIP_TAG_LEN];
    const char *to_tag; /* the request's To tag, else own_tag */
    void *user;
    txn_server_end_cb on_end;
    char key[]; /* the table key */
};

static void server_free(struct txn_server *st)
{
    timer_free(st->timer);
    if (st->req)
        sip_free(st->req);
    osip_free(st->last);
    free(st->final_tag);
    st->tl->stats.servers--;
    free(st);
}

void txn_server_discard(void *p)
{
    server_free(p);
}

/* The one end of a transaction: out of the table, the user told, freed. */
static void server_end(struct txn_server *st)
{
    table_remove(st->tl->servers, st->key);
    if (st->on_end)
        st->on_end(st, st->user);
    server_free(st);
}

static void resend_last(struct txn_server *st)
{
    if (!st->last || st->dst_err)
        return;
    /* A failed resend is a lost datagram: the peer retransmits again. */
    (void)transport_send(&st->tp, &st->dst, st->last, st->last_len);
    st->tl->stats.retransmissions++;
}

static void on_server_timer(struct timer *t, void *arg)
{
    struct txn_server *st = arg;
    (void)t;
    if (st->state == SRV_COMPLETED && st->invite) {
        if (txn_retx_expired(&st->retx)) {
            server_end(st); /* timer H: no ACK came */
            return;
        }
        resend_last(st); /* timer G, §17.2.1 */
        uint64_t next = 2 * st->retx.interval;
        txn_retx_arm(&st->retx, st->timer, next < st->tl->tm.t2_ms ? next : st->tl->tm.t2_ms);
        return;
    }
    /* server_max_ms, J, I or L: all end the transaction. */
    server_end(st);
}

/* Takes *req on success (and sets it NULL); leaves it to the caller on
 * error. */
static int server_new(struct txn_server **out, struct txn_layer *tl, osip_message_t **req,
                      const char *key, bool legacy, const struct addr *src,
                      const struct transport *tp)
{
    size_t klen = strlen(key);
    struct txn_server *st = calloc(1, sizeof *st + klen + 1);
    if (!st)
        return -ENOMEM;
    memcpy(st->key, key, klen + 1);
    st->tl = tl;
    tl->stats.servers++;
    st->src = *src;
    st->tp = *tp;
    st->legacy = legacy;
    st->invite = sip_method_is(*req, "INVITE");
    /* Responses go back to the packet's source (RFC 3581, design §1),
     * whether or not the daemon already stamped the Via. */
    int err = sip_via_set_received(*req, src);
    if (err)
        goto out;
    st->dst_err = sip_response_destination(*req, &st->dst);
    sip_tag_new(st->own_tag, sizeof st->own_tag);
    st->to_tag = sip_to_tag(*req) ? sip_to_tag(*req) : st->own_tag;
    err = timer_new(&st->timer, tl->loop, on_server_timer, st);
    if (err)
        goto out;
    err = table_put(tl->servers, st->key, st, 0, NULL);
    if (err)
        goto out;
    timer_start(st->timer, tl->tm.server_max_ms);
    st->req = *req;
    *req = NULL;
    *out = st;
    return 0;
out:
    server_free(st);
    return err;
}

/* An ACK that matched an INVITE transaction's key (§17.2.1). */
/* A finished non-INVITE (timer J), an ACKed INVITE (timer I) and an INVITE
 * answered 2xx (timer L) need only their key and the bytes they may
 * resend; the parsed request (several KB) goes at once, or 32 s of
 * REGISTERs at 30,000/s would hold gigabytes. It is retired, not freed:
 * the handler that answered may still be reading it. */
static void drop_request(struct txn_server *st)
{
    if (!st->req || txn_retire(st->tl, st->req) != 0)
        return; /* kept until the transaction ends */
    st->to_tag = st->final_tag ? st->final_tag : st->own_tag;
    st->req = NULL;
}

static int server_ack(struct txn_server *st, const osip_message_t *ack, struct txn_server **out)
{
    const char *tag = sip_to_tag(ack);
    /* RFC 2543 keys carry no branch: the ACK must name the final we sent. */
    bool ours = !st->legacy || (tag && st->final_tag && strcmp(tag, st->final_tag) == 0);
    if (ours && st->state == SRV_COMPLETED) {
        st->state = SRV_CONFIRMED;
        timer_start(st->timer, st->tl->tm.t4_ms); /* timer I */
        drop_request(st);
        return TXN_ACK_ABSORBED;
    }
    if (ours && st->state == SRV_CONFIRMED) {
        st->tl->stats.absorbed++;
        return TXN_ACK_ABSORBED;
    }
    /* The ACK for a 2xx (RFC 6026: passed up in Accepted), or one before
     * any final: not this transaction's to absorb. */
    *out = NULL;
    return TXN_NEW;
}

/* A retransmitted request (§17.2.1, §17.2.2): resend the last response,
 * except in Confirmed and Accepted where the TU (or nobody) answers. */
static int server_retransmission(struct txn_server *st)
{
    st->tl->stats.absorbed++;
    if (st->state == SRV_PROCEEDING || st->state == SRV_COMPLETED)
        resend_last(st);
    return TXN_RETRANSMISSION;
}

int txn_server_receive(struct txn_layer *tl, osip_message_t **reqp, const struct addr *src,
                       const struct transport *tp, struct txn_server **out)
{
    char key[TXN_KEY_MAX];
    bool legacy;
    struct txn_server *dummy;

    if (!out)
        out = &dummy;
    *out = NULL;
    if (!tl || !reqp || !*reqp || !src || !tp || !sip_is_request(*reqp))
        return -EINVAL;
    txn_flush_retired(tl);
    const osip_message_t *req = *reqp;
    int err = txn_server_key(req, key, sizeof key, &legacy);
    if (err)
        return err;
    bool ack = sip_method_is(req, "ACK");
    struct txn_server *st = table_get(tl->servers, key);
    if (st)
        return ack ? server_ack(st, req, out) : server_retransmission(st);
    if (ack)
        return TXN_NEW; /* end-to-end ACK for a 2xx, or a stray one */
    if (tl->max_servers && tl->stats.servers >= tl->max_servers)
        return -ENOSPC; /* memory stays bounded; retransmissions above still match */
    err = server_new(out, tl, reqp, key, legacy, src, tp);
    return err ? err : TXN_NEW;
}

/* The state a final response moves the transaction to, and its timer. */
static void server_finalize(struct txn_server *st, int status)
{
    const struct txn_timers *tm = &st->tl->tm;
    if (!st->invite) {
        st->state = SRV_COMPLETED;
        timer_start(st->timer, txn_64t1(st->tl)); /* timer J */
    } else if (status < 300) {
        st->state = SRV_ACCEPTED;
        timer_start(st->timer, txn_64t1(st->tl)); /* RFC 6026 timer L */
    } else {
        st->state = SRV_COMPLETED;
        txn_retx_start(&st->retx, st->timer, tm->t1_ms, txn_64t1(st->tl)); /* G, H */
    }
}

int txn_server_respond(struct txn_server *st, const osip_message_t *resp)
{
    char *buf = NULL;
    size_t len = 0;
    if (!st || !resp)
        return -EINVAL;
    int status = sip_status(resp);
    if (status < 100 || status > 699)
        return -EINVAL;
    if (st->state != SRV_PROCEEDING)
        return -EALREADY;
    if (st->dst_err)
        return st->dst_err;
    int err = sip_serialize(resp, &buf, &len);
    if (err)
        return err;
    osip_free(st->last);
    st->last = buf;
    st->last_len = len;
    if (status >= 200) {
        const char *tag = sip_to_tag(resp);
        free(st->final_tag);
        st->final_tag = tag ? strdup(tag) : NULL;
        server_finalize(st, status);
        if (!st->invite || status < 300)
            drop_request(st);
    } else if (st->invite && status > 100) {
        /* ringing: alive. The bound moves on, 64·T1 past the forwarding
         * proxy's own Timer C (started when this provisional reached it),
         * so the caller gets that 408 rather than silence. */
        timer_start(st->timer, st->tl->tm.server_max_ms + txn_64t1(st->tl));
    }
    /* The response is remembered even when this send fails: the
     * retransmitted request (or timer G) sends it again. An accepted
     * INVITE resends nothing (RFC 6026: the 2xx is the TU's to repeat). */
    err = transport_send(&st->tp, &st->dst, buf, len);
    if (st->state == SRV_ACCEPTED) {
        osip_free(st->last);
        st->last = NULL;
        st->last_len = 0;
    }
    return err;
}

/* libosip2 takes the reason string as is and frees it with the message:
 * give it its own copy. */
static int set_reason(osip_message_t *resp, const char *reason)
{
    char *copy = osip_strdup(reason);
    if (!copy)
        return -ENOMEM;
    osip_free(resp->reason_phrase);
    resp->reason_phrase = copy;
    return 0;
}

/* A name given again (one challenge per algorithm), or one osip keeps in a
 * list of its own (WWW-Authenticate), is added; any other replaces what
 * the response had. */
static bool named_before(const char *const *headers, size_t i)
{
    for (size_t j = 0; j < i; j += 2)
        if (strcasecmp(headers[j], headers[i]) == 0)
            return true;
    return false;
}

static int set_headers(osip_message_t *resp, const char *const *headers)
{
    for (size_t i = 0; headers && headers[i]; i += 2) {
        if (!headers[i + 1])
            return -EINVAL;
        bool again = named_before(headers, i);
        int err = again ? sip_header_add(resp, headers[i], headers[i + 1])
                        : sip_header_set(resp, headers[i], headers[i + 1]);
        if (err == -EINVAL && !again)
            err = sip_header_add(resp, headers[i], headers[i + 1]);
        if (err)
            return err;
    }
    return 0;
}

int txn_server_build(const struct txn_server *st, int status, const char *reason,
                     const char *const *headers, osip_message_t **out)
{
    osip_message_t *resp = NULL;
    if (!st || !out)
        return -EINVAL;
    if (!st->req)
        return -EALREADY; /* a finished non-INVITE: its request is gone */
    int err = sip_response_new(&resp, st->req, status, st->to_tag);
    if (err)
        return err;
    if (reason)
        err = set_reason(resp, reason);
    if (err == 0)
        err = set_headers(resp, headers);
    if (err) {
        sip_free(resp);
        return err;
    }
    *out = resp;
    return 0;
}

int txn_server_respond_with(struct txn_server *st, int status, const char *const *headers)
{
    osip_message_t *resp = NULL;
    int err = txn_server_build(st, status, NULL, headers, &resp);
    if (err)
        return err;
    err = txn_server_respond(st, resp);
    sip_free(resp);
    return err;
}

int txn_server_respond_status(struct txn_server *st, int status)
{
    return txn_server_respond_with(st, status, NULL);
}

const osip_message_t *txn_server_request(const struct txn_server *st)
{
    return st->req;
}

const struct addr *txn_server_source(const struct txn_server *st)
{
    return &st->src;
}

const struct transport *txn_server_transport(const struct txn_server *st)
{
    return &st->tp;
}

const char *txn_server_to_tag(const struct txn_server *st)
{
    return st->to_tag;
}

bool txn_server_is_final(const struct txn_server *st)
{
    return st->state != SRV_PROCEEDING;
}

void txn_server_set_user(struct txn_server *st, void *user, txn_server_end_cb on_end)
{
    st->user = user;
    st->on_end = on_end;
}

void *txn_server_user(const struct txn_server *st)
{
    return st->user;
}

struct txn_server *txn_server_find_invite(struct txn_layer *tl, const osip_message_t *cancel)
{
    char key[TXN_KEY_MAX];
    bool legacy;

    if (!sip_method_is(cancel, "CANCEL") ||
        txn_server_key_as(cancel, "INVITE", key, sizeof key, &legacy) != 0)
        return NULL;
    return table_get(tl->servers, key);
}

int txn_respond_raw(const struct transport *tp, const char *req, size_t len, int status,
                    const struct addr *dst)
{
    /* the request's Via, From, To, Call-ID and CSeq fit in what it came in */
    static _Thread_local char buf[SIP_MAX_MESSAGE + 128];
    size_t n = 0;
    int err = sip_reply_raw(req, len, status, buf, sizeof buf, &n);
    return err ? err : transport_send(tp, dst, buf, n);
}

int txn_respond_stateless(const struct transport *tp, const osip_message_t *req, int status,
                          const struct addr *dst)
{
    osip_message_t *resp = NULL;
    char *wire = NULL;
    size_t len = 0;
    if (!tp || !req || !dst)
        return -EINVAL;
    int err = sip_response_new(&resp, req, status, NULL);
    if (err == 0 && status == 503) /* RFC 3261 21.5.4: when to come back */
        err = sip_header_add(resp, "Retry-After", "5");
    if (err == 0)
        err = sip_serialize(resp, &wire, &len);
    if (err == 0)
        err = transport_send(tp, dst, wire, len);
    osip_free(wire);
    if (resp)
        sip_free(resp);
    return err;
}

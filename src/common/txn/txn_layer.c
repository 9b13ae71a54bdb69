/* txn_layer: the transaction layer's tables, timers settings, statistics
 * and transaction keys. Servers live in txn_server.c, clients in
 * txn_client.c. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pinhole/loop.h"
#include "pinhole/sip.h"
#include "sip/sip_internal.h"
#include "txn_internal.h"

/* Both tables are pure lookups (transactions run their own timers); the
 * table's wheel is unused, so any tick will do. */
#define TXN_TABLE_TICK_MS 1000
#define TXN_TABLE_HINT 1024

static uint32_t or_default(uint32_t v, uint32_t def)
{
    return v ? v : def;
}

int txn_layer_new(struct txn_layer **out, struct loop *l, const struct txn_timers *timers)
{
    int err;
    struct txn_layer *tl = calloc(1, sizeof *tl);
    if (!tl)
        return -ENOMEM;
    const struct txn_timers none = {0};
    const struct txn_timers *in = timers ? timers : &none;
    tl->loop = l;
    tl->tm.t1_ms = or_default(in->t1_ms, TXN_T1_DEFAULT);
    tl->tm.t2_ms = or_default(in->t2_ms, TXN_T2_DEFAULT);
    tl->tm.t4_ms = or_default(in->t4_ms, TXN_T4_DEFAULT);
    tl->tm.server_max_ms = or_default(in->server_max_ms, TXN_MAX_DEFAULT);
    if (tl->tm.t2_ms < tl->tm.t1_ms)
        tl->tm.t2_ms = tl->tm.t1_ms;

    err =
        table_new(&tl->servers, TXN_TABLE_HINT, TXN_TABLE_TICK_MS, NULL, txn_server_discard, NULL);
    if (err)
        goto out;
    err =
        table_new(&tl->clients, TXN_TABLE_HINT, TXN_TABLE_TICK_MS, NULL, txn_client_discard, NULL);
    if (err)
        goto out;
    *out = tl;
    return 0;
out:
    table_free(tl->servers);
    free(tl);
    return err;
}

void txn_layer_free(struct txn_layer *tl)
{
    if (!tl)
        return;
    /* on_free = txn_*_discard: frees each transaction, no callbacks. */
    table_free(tl->servers);
    table_free(tl->clients);
    txn_flush_retired(tl);
    free(tl->retired);
    free(tl);
}

void txn_layer_set_max_servers(struct txn_layer *tl, uint64_t max)
{
    tl->max_servers = max;
}

void txn_layer_stats(const struct txn_layer *tl, struct txn_stats *out)
{
    *out = tl->stats;
}

/* ---- requests answered while their handler may still read them ---- */

int txn_retire(struct txn_layer *tl, osip_message_t *m)
{
    if (tl->n_retired == tl->cap_retired) {
        size_t cap = tl->cap_retired ? 2 * tl->cap_retired : 16;
        osip_message_t **v = realloc(tl->retired, cap * sizeof *v);
        if (!v)
            return -ENOMEM;
        tl->retired = v;
        tl->cap_retired = cap;
    }
    tl->retired[tl->n_retired++] = m;
    return 0;
}

void txn_flush_retired(struct txn_layer *tl)
{
    for (size_t i = 0; i < tl->n_retired; i++)
        sip_free(tl->retired[i]);
    tl->n_retired = 0;
}

/* ---- retransmission schedules ---- */

void txn_retx_arm(struct txn_retx *r, struct timer *t, uint64_t interval)
{
    uint64_t left = r->limit > r->elapsed ? r->limit - r->elapsed : 0;
    r->interval = interval;
    r->armed = interval < left ? interval : left;
    timer_start(t, r->armed);
}

void txn_retx_start(struct txn_retx *r, struct timer *t, uint64_t interval, uint64_t limit)
{
    r->elapsed = 0;
    r->limit = limit;
    txn_retx_arm(r, t, interval);
}

bool txn_retx_expired(struct txn_retx *r)
{
    r->elapsed += r->armed;
    return r->elapsed >= r->limit;
}

/* ---- sending ---- */

int txn_send_message(const struct transport *tp, const struct addr *to, const osip_message_t *m,
                     char **out, size_t *len)
{
    char *buf = NULL;
    size_t n = 0;
    int err = sip_serialize(m, &buf, &n);
    if (err)
        return err;
    err = transport_send(tp, to, buf, n);
    if (err) {
        osip_free(buf);
        return err;
    }
    *out = buf;
    *len = n;
    return 0;
}

/* ---- keys ----
 * Every part is written as "<length>:<bytes>" so that no choice of
 * peer-supplied strings can make two different tuples produce one key. */

struct key_buf {
    char *p;
    size_t len;
    size_t cap;
    bool overflow;
};

static void key_part(struct key_buf *k, const char *s, size_t n, bool fold_case)
{
    size_t w = sip_put_decimal(k->p + k->len, k->cap - k->len, n);
    if (w == 0 || w + n + 2 > k->cap - k->len) {
        k->overflow = true;
        return;
    }
    k->len += w;
    k->p[k->len++] = ':';
    char *dst = k->p + k->len;
    if (fold_case) {
        for (size_t i = 0; i < n; i++)
            dst[i] = (char)tolower((unsigned char)s[i]);
    } else {
        memcpy(dst, s, n);
    }
    k->len += n;
    k->p[k->len] = '\0';
}

static void key_str(struct key_buf *k, const char *s, bool fold_case)
{
    if (!s)
        s = "";
    key_part(k, s, strnlen(s, k->cap), fold_case);
}

static void key_num(struct key_buf *k, unsigned long v)
{
    char num[24];
    size_t w = sip_put_decimal(num, sizeof num, v);
    key_part(k, num, w, false);
}

/* sent-by as "host:port": hosts compare case-insensitively (RFC 3261 §19.1.4). */
static void key_sent_by(struct key_buf *k, const struct sip_via_info *via)
{
    key_str(k, via->host, true);
    key_num(k, via->port);
}

static bool branch_is_rfc3261(const char *branch)
{
    size_t cookie = strlen(SIP_BRANCH_MAGIC);
    /* A bare cookie identifies nothing (RFC 4475 §3.2.1 badbranch). */
    return branch && strncmp(branch, SIP_BRANCH_MAGIC, cookie) == 0 && branch[cookie] != '\0';
}

int txn_server_key(const osip_message_t *req, char *buf, size_t len, bool *legacy)
{
    return txn_server_key_as(req, sip_method(req), buf, len, legacy);
}

int txn_server_key_as(const osip_message_t *req, const char *method, char *buf, size_t len,
                      bool *legacy)
{
    struct sip_via_info via;
    uint32_t cseq;
    const char *cseq_method;
    struct key_buf k = {.p = buf, .cap = len};

    if (!method || len == 0 || sip_via_get(req, 0, &via) != 0 || !via.host ||
        sip_cseq(req, &cseq, &cseq_method) != 0)
        return -EINVAL;
    /* §17.2.3: the ACK for a non-2xx final belongs to the INVITE. */
    if (strcmp(method, "ACK") == 0)
        method = "INVITE";
    buf[0] = '\0';
    *legacy = !branch_is_rfc3261(via.branch);
    if (!*legacy) {
        key_str(&k, "3261", false);
        key_str(&k, via.branch, false);
    } else {
        /* RFC 2543 style: Call-ID, CSeq number, From tag, sent-by. The
         * caller checks the To tag of an ACK against the final it sent. */
        char call_id[TXN_KEY_MAX];
        if (sip_call_id(req, call_id, sizeof call_id) != 0)
            return -EINVAL;
        key_str(&k, "2543", false);
        key_str(&k, call_id, false);
        key_num(&k, cseq);
        key_str(&k, sip_from_tag(req), false);
    }
    key_sent_by(&k, &via);
    key_str(&k, method, false);
    return k.overflow ? -EINVAL : 0;
}

int txn_client_key(const osip_message_t *m, char *buf, size_t len)
{
    struct sip_via_info via;
    uint32_t cseq;
    const char *method;
    struct key_buf k = {.p = buf, .cap = len};

    if (len == 0 || sip_via_get(m, 0, &via) != 0 || !via.branch || via.branch[0] == '\0' ||
        sip_cseq(m, &cseq, &method) != 0 || !method)
        return -EINVAL;
    buf[0] = '\0';
    key_str(&k, via.branch, false);
    key_str(&k, method, false);
    return k.overflow ? -EINVAL : 0;
}

/* txn internals shared by txn_layer.c, txn_server.c and txn_client.c. */
#ifndef PINHOLE_TXN_INTERNAL_H
#define PINHOLE_TXN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pinhole/table.h"
#include "pinhole/txn.h"

/* Longest transaction key. Keys are built from peer-chosen strings (branch,
 * Call-ID, tag, host); a request whose key would be longer is refused
 * (-EINVAL) rather than stored. RFC 4475's longreq (150-octet branch,
 * Call-ID and tag) fits comfortably. */
#define TXN_KEY_MAX 1024

/* RFC 3261 §17.1.1.2, §17.1.2.2: T1, T2, T4 defaults. */
#define TXN_T1_DEFAULT 500
#define TXN_T2_DEFAULT 4000
#define TXN_T4_DEFAULT 5000
#define TXN_MAX_DEFAULT 180000

struct txn_layer {
    struct loop *loop;
    struct txn_timers tm;  /* every field non-zero, t2 >= t1 */
    struct table *servers; /* key → struct txn_server */
    struct table *clients; /* key → struct txn_client */
    struct txn_stats stats;
    uint64_t max_servers; /* 0: no cap (txn_layer_set_max_servers) */
    /* Requests no transaction needs any more, freed at the next receive:
     * the handler that answered one may still be reading it (txn.h). */
    osip_message_t **retired;
    size_t n_retired, cap_retired;
};

/* 64·T1: timers B, F, H, J, the RFC 6026 accepted state, and D (see
 * txn_client.c). */
static inline uint64_t txn_64t1(const struct txn_layer *tl)
{
    return 64 * (uint64_t)tl->tm.t1_ms;
}

/* A retransmission schedule on one timer: fires after `interval`, at most
 * until `limit` in total. The sum of what was armed is the time elapsed,
 * so no clock is read and the give-up point is exact. */
struct txn_retx {
    uint64_t elapsed;
    uint64_t interval;
    uint64_t armed;
    uint64_t limit;
};

/* Arms t for min(interval, what is left of limit). */
void txn_retx_arm(struct txn_retx *r, struct timer *t, uint64_t interval);
/* Starts a fresh schedule. */
void txn_retx_start(struct txn_retx *r, struct timer *t, uint64_t interval, uint64_t limit);
/* Accounts a firing; true when the limit is reached (timer B/F/H). */
bool txn_retx_expired(struct txn_retx *r);

/* Server key (RFC 3261 §17.2.3): branch + sent-by + method (ACK keyed as
 * INVITE) when the branch carries the magic cookie and more; otherwise the
 * RFC 2543 fallback (*legacy = true): Call-ID + CSeq number + From tag +
 * sent-by + method. -EINVAL when the request has no Via, CSeq or Call-ID,
 * or the key would exceed len. */
int txn_server_key(const osip_message_t *req, char *buf, size_t len, bool *legacy);
/* The same key computed as if the request's method were `method` (a CANCEL
 * finds its INVITE this way: same branch and sent-by, RFC 3261 9.2). */
int txn_server_key_as(const osip_message_t *req, const char *method, char *buf, size_t len,
                      bool *legacy);
/* Client key (RFC 3261 §17.1.3): top Via branch + CSeq method; the same
 * function keys the request we send and the responses to it. -EINVAL when
 * there is no branch or CSeq. */
int txn_client_key(const osip_message_t *m, char *buf, size_t len);

/* Hands a request over for freeing at the next txn_*_receive. Returns 0,
 * or -ENOMEM when it could not be queued: the caller then keeps it. */
int txn_retire(struct txn_layer *tl, osip_message_t *m);
/* Frees what was retired; called where no handler can hold a request. */
void txn_flush_retired(struct txn_layer *tl);

/* Table on_free callbacks: free a transaction without any user callback
 * (txn_layer_free). */
void txn_server_discard(void *st);
void txn_client_discard(void *ct);

/* Serializes m and sends it; on success *out (osip_free) and *len hold the bytes. */
int txn_send_message(const struct transport *tp, const struct addr *to, const osip_message_t *m,
                     char **out, size_t *len);

#endif

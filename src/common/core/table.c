/* table: chained hash table keyed by string, plus a hashed timing wheel for
 * per-entry expiry.
 *
 * Keys come from the network (Call-IDs, AORs, branches), so the bucket hash
 * is SipHash-1-3 under a per-table random key: a peer cannot precompute keys
 * that collide into one chain.
 *
 * Memory: one malloc per entry holding the node and the key inline. A node
 * is 44 bytes before its key; with the load factor kept in (1/2, 1] a bucket
 * costs 8..16 bytes per entry, so the overhead stays under 64 bytes per
 * entry plus the key (malloc's own header not counted).
 *
 * Expiry: each entry with an expiry sits in the wheel slot of its expiry
 * tick (expires_at / tick_ms, modulo the wheel size). table_expire walks the
 * slots from the first tick not yet fully processed up to now; an entry in
 * the slot whose expiry is a later rotation is skipped until then. */
#include "pinhole/table.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "pinhole/loop.h"

/* 4096 slots × 8 bytes: one rotation covers 68 minutes at a 1 s tick and
 * 6.8 minutes at 100 ms, the span of registrations and transactions. */
#define WHEEL_BITS 12
#define WHEEL_SLOTS (1u << WHEEL_BITS)
#define WHEEL_MASK (WHEEL_SLOTS - 1)

#define MIN_BUCKETS 16u
/* The stored hash is 32 bits, so the bucket index can use at most 31. */
#define MAX_BUCKETS (1u << 31)
/* A key longer than this is refused: nothing a daemon keys on is that long,
 * and a hostile peer must not make us copy megabytes per entry. */
#define TABLE_KEY_MAX 4096

struct table_node {
    struct table_node *next;   /* bucket chain */
    struct table_node *wnext;  /* wheel slot list */
    struct table_node **wprev; /* the pointer that points at us; NULL = not in the wheel */
    void *value;
    uint64_t expires_at; /* 0 = never */
    uint32_t hash;
    char key[];
};
_Static_assert(offsetof(struct table_node, key) == 44,
               "node overhead is part of the memory budget");

struct table {
    struct table_node **buckets;
    size_t mask; /* bucket count - 1 */
    size_t count;
    size_t node_bytes; /* sum of node allocations, for table_memory */
    uint64_t tick_ms;
    uint64_t next_tick; /* first tick whose slot may still hold due entries */
    uint64_t sip_k0, sip_k1;
    table_expire_cb on_expire;
    table_free_cb on_free;
    void *arg;
    struct loop *loop;           /* set by table_attach */
    struct timer *timer;         /* owned; freed in table_free */
    struct table_node *expiring; /* the slot table_expire is walking */
    bool expiring_busy;
    struct table_node *wheel[WHEEL_SLOTS];
};

/* ---- SipHash-1-3 (Aumasson, Bernstein), 64-bit output ---- */

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static inline void sip_round(uint64_t v[4])
{
    v[0] += v[1];
    v[1] = ROTL(v[1], 13);
    v[1] ^= v[0];
    v[0] = ROTL(v[0], 32);
    v[2] += v[3];
    v[3] = ROTL(v[3], 16);
    v[3] ^= v[2];
    v[0] += v[3];
    v[3] = ROTL(v[3], 21);
    v[3] ^= v[0];
    v[2] += v[1];
    v[1] = ROTL(v[1], 17);
    v[1] ^= v[2];
    v[2] = ROTL(v[2], 32);
}

static uint64_t load_le64(const unsigned char *p)
{
    uint64_t x = 0;
    for (int i = 7; i >= 0; i--)
        x = (x << 8) | p[i];
    return x;
}

static uint64_t siphash13(uint64_t k0, uint64_t k1, const unsigned char *in, size_t len)
{
    uint64_t v[4] = {k0 ^ 0x736f6d6570736575ULL, k1 ^ 0x646f72616e646f6dULL,
                     k0 ^ 0x6c7967656e657261ULL, k1 ^ 0x7465646279746573ULL};
    const unsigned char *end = in + (len & ~(size_t)7);
    uint64_t b = (uint64_t)len << 56;

    for (; in != end; in += 8) {
        uint64_t m = load_le64(in);
        v[3] ^= m;
        sip_round(v);
        v[0] ^= m;
    }
    for (size_t i = 0; i < (len & 7); i++)
        b |= (uint64_t)in[i] << (8 * i);
    v[3] ^= b;
    sip_round(v);
    v[0] ^= b;
    v[2] ^= 0xff;
    sip_round(v);
    sip_round(v);
    sip_round(v);
    return v[0] ^ v[1] ^ v[2] ^ v[3];
}

static uint32_t key_hash(const struct table *t, const char *key, size_t len)
{
    return (uint32_t)siphash13(t->sip_k0, t->sip_k1, (const unsigned char *)key, len);
}

static void seed_hash(struct table *t)
{
    uint64_t k[2];
    if (getrandom(k, sizeof k, GRND_NONBLOCK) != (ssize_t)sizeof k) {
        /* Early boot without entropy: still unpredictable enough to a
         * remote peer, who sees neither our address layout nor the clock. */
        k[0] = (uint64_t)(uintptr_t)t ^ 0x9e3779b97f4a7c15ULL;
        k[1] = (uint64_t)(uintptr_t)&k ^ (uint64_t)loop_wall_s();
    }
    t->sip_k0 = k[0];
    t->sip_k1 = k[1];
}

/* ---- nodes ---- */

/* The key starts right after `hash` (offset 44), inside the struct's tail
 * padding, so short keys cost nothing extra. */
static size_t node_size(size_t keylen)
{
    size_t n = offsetof(struct table_node, key) + keylen + 1;
    return n < sizeof(struct table_node) ? sizeof(struct table_node) : n;
}

static struct table_node **bucket_of(const struct table *t, uint32_t hash)
{
    return &t->buckets[hash & t->mask];
}

/* The link that points at the node for key: *result is the node, or NULL. */
static struct table_node **find_link(const struct table *t, const char *key, uint32_t hash)
{
    struct table_node **link = bucket_of(t, hash);
    for (; *link; link = &(*link)->next)
        if ((*link)->hash == hash && strcmp((*link)->key, key) == 0)
            return link;
    return link;
}

static struct table_node *find(const struct table *t, const char *key)
{
    if (!t || !key)
        return NULL;
    size_t len = strnlen(key, TABLE_KEY_MAX + 1);
    if (len > TABLE_KEY_MAX)
        return NULL;
    return *find_link(t, key, key_hash(t, key, len));
}

static void unhash(struct table *t, struct table_node *n)
{
    struct table_node **link = bucket_of(t, n->hash);
    while (*link != n)
        link = &(*link)->next;
    *link = n->next;
    t->count--;
    t->node_bytes -= node_size(strlen(n->key));
}

/* ---- wheel ---- */

static void wheel_unlink(struct table_node *n)
{
    if (!n->wprev)
        return;
    *n->wprev = n->wnext;
    if (n->wnext)
        n->wnext->wprev = n->wprev;
    n->wnext = NULL;
    n->wprev = NULL;
}

static void list_push(struct table_node **head, struct table_node *n)
{
    n->wnext = *head;
    n->wprev = head;
    if (*head)
        (*head)->wprev = &n->wnext;
    *head = n;
}

static void wheel_link(struct table *t, struct table_node *n)
{
    if (n->expires_at == 0)
        return;
    uint64_t tick = n->expires_at / t->tick_ms;
    /* Already behind the walk: the next table_expire must see it, not the
     * one a full rotation later. */
    if (tick < t->next_tick)
        tick = t->next_tick;
    list_push(&t->wheel[tick & WHEEL_MASK], n);
}

/* ---- growth ---- */

static void grow(struct table *t)
{
    size_t nb = (t->mask + 1) * 2;
    if (nb > MAX_BUCKETS)
        return;
    struct table_node **b = calloc(nb, sizeof *b);
    if (!b)
        return; /* longer chains, still correct */
    for (size_t i = 0; i <= t->mask; i++) {
        struct table_node *n = t->buckets[i];
        while (n) {
            struct table_node *next = n->next;
            struct table_node **head = &b[n->hash & (nb - 1)];
            n->next = *head;
            *head = n;
            n = next;
        }
    }
    free(t->buckets);
    t->buckets = b;
    t->mask = nb - 1;
}

/* ---- public ---- */

int table_new(struct table **out, size_t size_hint, uint64_t tick_ms, table_expire_cb on_expire,
              table_free_cb on_free, void *arg)
{
    if (!out || tick_ms == 0)
        return -EINVAL;
    size_t nb = MIN_BUCKETS;
    while (nb < size_hint && nb < MAX_BUCKETS)
        nb *= 2;
    struct table *t = calloc(1, sizeof *t);
    if (!t)
        return -ENOMEM;
    t->buckets = calloc(nb, sizeof *t->buckets);
    if (!t->buckets) {
        free(t);
        return -ENOMEM;
    }
    t->mask = nb - 1;
    t->tick_ms = tick_ms;
    t->on_expire = on_expire;
    t->on_free = on_free;
    t->arg = arg;
    seed_hash(t);
    *out = t;
    return 0;
}

void table_free(struct table *t)
{
    if (!t)
        return;
    timer_free(t->timer);
    for (size_t i = 0; i <= t->mask; i++) {
        struct table_node *n = t->buckets[i];
        while (n) {
            struct table_node *next = n->next;
            if (t->on_free)
                t->on_free(n->value);
            free(n);
            n = next;
        }
    }
    free(t->buckets);
    free(t);
}

static int insert(struct table *t, struct table_node **link, const char *key, size_t len,
                  uint32_t hash, void *value, uint64_t expires_at_ms)
{
    struct table_node *n = malloc(node_size(len));
    if (!n)
        return -ENOMEM;
    memcpy(n->key, key, len + 1);
    n->hash = hash;
    n->value = value;
    n->expires_at = expires_at_ms;
    n->wprev = NULL;
    n->wnext = NULL;
    n->next = NULL;
    *link = n;
    wheel_link(t, n);
    t->count++;
    t->node_bytes += node_size(len);
    if (t->count > t->mask + 1)
        grow(t);
    return 0;
}

/* Values must be non-NULL so that table_get/table_remove returning NULL
 * means "absent" without a second call. */
int table_put(struct table *t, const char *key, void *value, uint64_t expires_at_ms, void **old)
{
    if (old)
        *old = NULL;
    if (!t || !key || !value)
        return -EINVAL;
    size_t len = strnlen(key, TABLE_KEY_MAX + 1);
    if (len > TABLE_KEY_MAX)
        return -EINVAL;
    uint32_t hash = key_hash(t, key, len);
    struct table_node **link = find_link(t, key, hash);
    struct table_node *n = *link;
    if (!n)
        return insert(t, link, key, len, hash, value, expires_at_ms);

    void *prev = n->value;
    n->value = value;
    wheel_unlink(n);
    n->expires_at = expires_at_ms;
    wheel_link(t, n);
    if (old)
        *old = prev;
    else if (t->on_free && prev != value)
        t->on_free(prev);
    return 0;
}

void *table_get(const struct table *t, const char *key)
{
    struct table_node *n = find(t, key);
    return n ? n->value : NULL;
}

int table_touch(struct table *t, const char *key, uint64_t expires_at_ms)
{
    struct table_node *n = find(t, key);
    if (!n)
        return -ENOENT;
    wheel_unlink(n);
    n->expires_at = expires_at_ms;
    wheel_link(t, n);
    return 0;
}

uint64_t table_expiry(const struct table *t, const char *key)
{
    struct table_node *n = find(t, key);
    return n ? n->expires_at : 0;
}

void *table_remove(struct table *t, const char *key)
{
    struct table_node *n = find(t, key);
    if (!n)
        return NULL;
    void *value = n->value;
    wheel_unlink(n);
    unhash(t, n);
    free(n);
    return value;
}

size_t table_count(const struct table *t)
{
    return t ? t->count : 0;
}

/* Expires the due entries of one slot. The slot is first moved to
 * t->expiring, so an on_expire that re-inserts (even with a past expiry)
 * lands in the live wheel, not in the list being walked; one that removes
 * or touches another pending entry unlinks it from t->expiring safely
 * (its wprev points there). */
static void expire_slot(struct table *t, size_t slot, uint64_t now_ms)
{
    struct table_node *n = t->wheel[slot];
    if (!n)
        return;
    t->wheel[slot] = NULL;
    t->expiring = n;
    n->wprev = &t->expiring;

    while (t->expiring) {
        n = t->expiring;
        wheel_unlink(n);
        if (n->expires_at > now_ms) {
            list_push(&t->wheel[slot], n); /* a later rotation */
            continue;
        }
        unhash(t, n);
        if (t->on_expire)
            t->on_expire(n->key, n->value, t->arg);
        else if (t->on_free)
            t->on_free(n->value);
        free(n);
    }
}

void table_expire(struct table *t, uint64_t now_ms)
{
    /* An on_expire calling table_expire again would walk t->expiring twice. */
    if (!t || t->expiring_busy)
        return;
    uint64_t now_tick = now_ms / t->tick_ms;
    if (now_tick < t->next_tick)
        now_tick = t->next_tick; /* clock never goes back, but be safe */
    uint64_t from = t->next_tick;
    uint64_t span = now_tick - from + 1;
    if (span > WHEEL_SLOTS)
        span = WHEEL_SLOTS; /* a long stall: every slot once */
    /* Moved first, so an entry an on_expire re-inserts already due lands in
     * the current tick's slot, which the next call walks again (the current
     * tick may also hold entries due later within it). */
    t->next_tick = now_tick;
    t->expiring_busy = true;
    for (uint64_t i = 0; i < span; i++)
        expire_slot(t, (size_t)((from + i) & WHEEL_MASK), now_ms);
    t->expiring_busy = false;
}

static void on_tick(struct timer *tm, void *arg)
{
    struct table *t = arg;
    (void)tm;
    table_expire(t, loop_now_ms(t->loop));
}

int table_attach(struct table *t, struct loop *l)
{
    if (!t || !l)
        return -EINVAL;
    if (t->timer)
        return -EALREADY;
    int err = timer_new(&t->timer, l, on_tick, t);
    if (err)
        return err;
    t->loop = l;
    timer_start_periodic(t->timer, t->tick_ms);
    return 0;
}

void table_foreach(const struct table *t, table_visit_cb cb, void *arg)
{
    if (!t || !cb)
        return;
    for (size_t i = 0; i <= t->mask; i++)
        for (const struct table_node *n = t->buckets[i]; n; n = n->next)
            cb(n->key, n->value, n->expires_at, arg);
}

/* What we asked malloc for; its per-chunk header is not counted. */
size_t table_memory(const struct table *t)
{
    if (!t)
        return 0;
    return sizeof *t + (t->mask + 1) * sizeof *t->buckets + t->node_bytes;
}

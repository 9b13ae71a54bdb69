/* nat_table: NAT client table 32 over the shared expiring hash table, plus a
 * circular list of the same entries for the keepalive round robin. */
#include "nat_table.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pinhole/table.h"

/* Registrations live for seconds to hours: a 1 s wheel tick is plenty. */
#define NAT_TABLE_TICK_MS 1000

struct nat_client {
    struct nat_binding b;
    struct nat_client *prev, *next; /* keepalive ring */
    struct nat_client *sibling;     /* the same AOR's next phone */
    char aor[NAT_AOR_MAX + 1];
};

/* The table's value for an AOR is its first client; the entry is due at
 * the soonest of its clients' expiries and put back with the rest. */
struct nat_table {
    struct table *t;
    struct loop *loop;
    uint64_t sweep_now;        /* what nat_table_expire was called with */
    struct nat_client *cursor; /* next on the ring; NULL when empty */
    size_t count;
    uint32_t next_id;
    const struct nat_journal *journal;
};

static void tell_put(const struct nat_table *nt, const char *aor, const struct nat_binding *b)
{
    if (nt->journal)
        nt->journal->put(nt->journal->arg, aor, b);
}

static void tell_gone(const struct nat_table *nt, const char *aor, const struct addr *nat)
{
    if (nt->journal)
        nt->journal->gone(nt->journal->arg, aor, nat);
}

static void ring_insert(struct nat_table *nt, struct nat_client *c)
{
    if (!nt->cursor) {
        c->prev = c->next = c;
        nt->cursor = c;
        return;
    }
    /* Just behind the cursor: a newcomer waits a whole round for its first
     * keepalive, which it does not need sooner (it has just sent to us). */
    c->next = nt->cursor;
    c->prev = nt->cursor->prev;
    c->prev->next = c;
    nt->cursor->prev = c;
}

static void ring_unlink(struct nat_table *nt, struct nat_client *c)
{
    if (c->next == c) {
        nt->cursor = NULL;
    } else {
        if (nt->cursor == c)
            nt->cursor = c->next;
        c->prev->next = c->next;
        c->next->prev = c->prev;
    }
    c->prev = c->next = NULL;
}

static void client_free(struct nat_table *nt, struct nat_client *c)
{
    ring_unlink(nt, c);
    nt->count--;
    free(c);
}

static uint64_t soonest(const struct nat_client *c)
{
    uint64_t t = UINT64_MAX;
    for (; c; c = c->sibling)
        if (c->b.expires_at_ms < t)
            t = c->b.expires_at_ms;
    return t;
}

/* Puts the AOR's clients back (none: the AOR goes), due at the soonest. */
static int store(struct nat_table *nt, const char *aor, struct nat_client *first)
{
    void *old = NULL;
    if (!first) {
        (void)table_remove(nt->t, aor);
        return 0;
    }
    return table_put(nt->t, aor, first, soonest(first), &old);
}

static void prune(struct nat_table *nt, struct nat_client **first, uint64_t now_ms)
{
    for (struct nat_client **pp = first; *pp;) {
        struct nat_client *c = *pp;
        if (c->b.expires_at_ms > now_ms) {
            pp = &c->sibling;
            continue;
        }
        *pp = c->sibling;
        client_free(nt, c);
    }
}

static void on_expire(const char *key, void *value, void *arg)
{
    struct nat_table *nt = arg;
    struct nat_client *first = value;
    uint64_t now = nt->loop ? loop_now_ms(nt->loop) : 0;
    prune(nt, &first, now > nt->sweep_now ? now : nt->sweep_now);
    if (first && store(nt, key, first) != 0) {
        while (first) { /* out of memory: they go now rather than never */
            struct nat_client *next = first->sibling;
            client_free(nt, first);
            first = next;
        }
    }
}

static void on_free(void *value)
{
    struct nat_client *c = value;
    while (c) {
        struct nat_client *next = c->sibling;
        free(c);
        c = next;
    }
}

int nat_table_new(struct nat_table **out, struct loop *l)
{
    int err;
    struct nat_table *nt = calloc(1, sizeof *nt);
    if (!nt)
        return -ENOMEM;
    nt->loop = l;
    err = table_new(&nt->t, 64, NAT_TABLE_TICK_MS, on_expire, on_free, nt);
    if (err)
        goto out;
    if (l) {
        err = table_attach(nt->t, l);
        if (err)
            goto out;
    }
    *out = nt;
    return 0;
out:
    nat_table_free(nt);
    return err;
}

void nat_table_free(struct nat_table *nt)
{
    if (!nt)
        return;
    table_free(nt->t);
    free(nt);
}

static bool aor_ok(const char *aor)
{
    size_t len = aor ? strnlen(aor, NAT_AOR_MAX + 1) : 0;
    return len > 0 && len <= NAT_AOR_MAX;
}

static struct nat_client *first_of(const struct nat_table *nt, const char *aor)
{
    return aor_ok(aor) ? table_get(nt->t, aor) : NULL;
}

static struct nat_client **find_at(struct nat_client **first, const struct addr *nat)
{
    for (struct nat_client **pp = first; *pp; pp = &(*pp)->sibling)
        if (addr_equal(&(*pp)->b.nat, nat))
            return pp;
    return NULL;
}

/* Room for one more phone: the one closest to expiry goes. */
static void evict_soonest(struct nat_table *nt, struct nat_client **first)
{
    struct nat_client **victim = first;
    for (struct nat_client **pp = first; *pp; pp = &(*pp)->sibling)
        if ((*pp)->b.expires_at_ms < (*victim)->b.expires_at_ms)
            victim = pp;
    struct nat_client *c = *victim;
    *victim = c->sibling;
    tell_gone(nt, c->aor, &c->b.nat);
    client_free(nt, c);
}

uint64_t nat_table_phone_key(const char *call_id)
{
    uint64_t h = 14695981039346656037ull;
    for (const unsigned char *p = (const unsigned char *)call_id; p && *p; p++) {
        h ^= *p;
        h *= 1099511628211ull;
    }
    return h ? h : 1; /* 0 means unknown */
}

static struct nat_client **find_phone(struct nat_client **first, uint64_t phone)
{
    if (!phone)
        return NULL;
    for (struct nat_client **pp = first; *pp; pp = &(*pp)->sibling)
        if ((*pp)->b.phone == phone)
            return pp;
    return NULL;
}

int nat_table_put(struct nat_table *nt, const char *aor, const struct addr *nat,
                  const struct transport *tp, uint64_t expires_at_ms, uint64_t phone)
{
    if (!aor_ok(aor))
        return -EINVAL;
    struct nat_client *first = table_get(nt->t, aor);
    struct nat_client **at = find_at(&first, nat);
    if (!at)
        at = find_phone(&first, phone);
    if (at) {
        struct nat_client *c = *at;
        if (!addr_equal(&c->b.nat, nat))
            tell_gone(nt, aor, &c->b.nat); /* the phone moved */
        c->b.nat = *nat;
        c->b.phone = phone;
        c->b.tp = *tp;
        c->b.expires_at_ms = expires_at_ms;
        c->b.missed = 0;
        c->b.id = ++nt->next_id;
        int err = store(nt, aor, first);
        if (!err)
            tell_put(nt, aor, &c->b);
        return err;
    }
    size_t n = 0;
    for (const struct nat_client *c = first; c; c = c->sibling)
        n++;
    if (n >= NAT_PHONES_MAX)
        evict_soonest(nt, &first);
    struct nat_client *c = calloc(1, sizeof *c);
    if (!c) {
        (void)store(nt, aor, first);
        return -ENOMEM;
    }
    memcpy(c->aor, aor, strlen(aor) + 1);
    c->b.nat = *nat;
    c->b.tp = *tp;
    c->b.expires_at_ms = expires_at_ms;
    c->b.id = ++nt->next_id;
    c->b.phone = phone;
    c->sibling = first;
    int err = store(nt, aor, c);
    if (err) {
        free(c);
        (void)store(nt, aor, first);
        return err;
    }
    nt->count++;
    ring_insert(nt, c);
    tell_put(nt, aor, &c->b);
    return 0;
}

int nat_table_lookup(const struct nat_table *nt, const char *aor, struct nat_binding *out)
{
    const struct nat_client *c = first_of(nt, aor);
    if (!c)
        return -ENOENT;
    *out = c->b;
    return 0;
}

int nat_table_lookup_at(const struct nat_table *nt, const char *aor, const struct addr *nat,
                        struct nat_binding *out)
{
    struct nat_client *first = first_of(nt, aor);
    struct nat_client **at = first ? find_at(&first, nat) : NULL;
    if (!at)
        return -ENOENT;
    *out = (*at)->b;
    return 0;
}

size_t nat_table_bindings(const struct nat_table *nt, const char *aor, struct nat_binding *out,
                          size_t max)
{
    size_t n = 0;
    for (const struct nat_client *c = first_of(nt, aor); c && n < max; c = c->sibling)
        out[n++] = c->b;
    return n;
}

bool nat_table_remove(struct nat_table *nt, const char *aor)
{
    struct nat_client *c = aor_ok(aor) ? table_remove(nt->t, aor) : NULL;
    if (!c)
        return false;
    while (c) {
        struct nat_client *next = c->sibling;
        tell_gone(nt, aor, &c->b.nat);
        client_free(nt, c);
        c = next;
    }
    return true;
}

bool nat_table_remove_at(struct nat_table *nt, const char *aor, const struct addr *nat)
{
    struct nat_client *first = first_of(nt, aor);
    struct nat_client **at = first ? find_at(&first, nat) : NULL;
    if (!at)
        return false;
    struct nat_client *c = *at;
    *at = c->sibling;
    tell_gone(nt, aor, &c->b.nat);
    client_free(nt, c);
    (void)store(nt, aor, first); /* shrinking: no allocation, cannot fail */
    return true;
}

bool nat_table_remove_phone(struct nat_table *nt, const char *aor, uint64_t phone)
{
    struct nat_client *first = first_of(nt, aor);
    struct nat_client **at = first ? find_phone(&first, phone) : NULL;
    if (!at)
        return false;
    struct nat_client *c = *at;
    *at = c->sibling;
    tell_gone(nt, aor, &c->b.nat);
    client_free(nt, c);
    (void)store(nt, aor, first);
    return true;
}

void nat_table_set_journal(struct nat_table *nt, const struct nat_journal *j)
{
    nt->journal = j;
}

struct visit {
    nat_table_visit_cb cb;
    void *arg;
};

static void visit_one(const char *key, void *value, uint64_t expires_at_ms, void *arg)
{
    const struct visit *v = arg;
    (void)expires_at_ms;
    for (const struct nat_client *c = value; c; c = c->sibling)
        v->cb(key, &c->b, v->arg);
}

void nat_table_foreach(const struct nat_table *nt, nat_table_visit_cb cb, void *arg)
{
    struct visit v = {.cb = cb, .arg = arg};
    table_foreach(nt->t, visit_one, &v);
}

size_t nat_table_count(const struct nat_table *nt)
{
    return nt->count;
}

void nat_table_expire(struct nat_table *nt, uint64_t now_ms)
{
    nt->sweep_now = now_ms;
    table_expire(nt->t, now_ms);
}

int nat_table_next(struct nat_table *nt, const char **aor, struct nat_binding *out)
{
    struct nat_client *c = nt->cursor;
    if (!c)
        return -ENOENT;
    nt->cursor = c->next;
    *aor = c->aor;
    *out = c->b;
    return 0;
}

int nat_table_keepalive_result(struct nat_table *nt, const char *aor, uint32_t id, bool answered)
{
    struct nat_client *c = first_of(nt, aor);
    while (c && c->b.id != id)
        c = c->sibling;
    if (!c)
        return -ENOENT;
    c->b.missed = answered ? 0 : c->b.missed + 1;
    return (int)c->b.missed;
}

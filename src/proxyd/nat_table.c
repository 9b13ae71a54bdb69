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
    char aor[NAT_AOR_MAX + 1];
};

struct nat_table {
    struct table *t;
    struct nat_client *cursor; /* next on the ring; NULL when empty */
    uint32_t next_id;
};

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

static void on_expire(const char *key, void *value, void *arg)
{
    struct nat_table *nt = arg;
    (void)key;
    ring_unlink(nt, value);
    free(value);
}

int nat_table_new(struct nat_table **out, struct loop *l)
{
    int err;
    struct nat_table *nt = calloc(1, sizeof *nt);
    if (!nt)
        return -ENOMEM;
    err = table_new(&nt->t, 64, NAT_TABLE_TICK_MS, on_expire, free, nt);
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

int nat_table_put(struct nat_table *nt, const char *aor, const struct addr *nat,
                  const struct transport *tp, uint64_t expires_at_ms)
{
    if (!aor_ok(aor))
        return -EINVAL;
    struct nat_client *c = table_get(nt->t, aor);
    if (c) {
        c->b.nat = *nat;
        c->b.tp = *tp;
        c->b.expires_at_ms = expires_at_ms;
        c->b.missed = 0;
        c->b.id = ++nt->next_id;
        return table_touch(nt->t, aor, expires_at_ms);
    }
    c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    memcpy(c->aor, aor, strlen(aor) + 1);
    c->b.nat = *nat;
    c->b.tp = *tp;
    c->b.expires_at_ms = expires_at_ms;
    c->b.id = ++nt->next_id;
    int err = table_put(nt->t, aor, c, expires_at_ms, NULL);
    if (err) {
        free(c);
        return err;
    }
    ring_insert(nt, c);
    return 0;
}

int nat_table_lookup(const struct nat_table *nt, const char *aor, struct nat_binding *out)
{
    const struct nat_client *c = aor_ok(aor) ? table_get(nt->t, aor) : NULL;
    if (!c)
        return -ENOENT;
    *out = c->b;
    return 0;
}

bool nat_table_remove(struct nat_table *nt, const char *aor)
{
    struct nat_client *c = aor_ok(aor) ? table_remove(nt->t, aor) : NULL;
    if (!c)
        return false;
    ring_unlink(nt, c);
    free(c);
    return true;
}

struct visit {
    nat_table_visit_cb cb;
    void *arg;
};

static void visit_one(const char *key, void *value, uint64_t expires_at_ms, void *arg)
{
    const struct visit *v = arg;
    const struct nat_client *c = value;
    (void)expires_at_ms;
    v->cb(key, &c->b, v->arg);
}

void nat_table_foreach(const struct nat_table *nt, nat_table_visit_cb cb, void *arg)
{
    struct visit v = {.cb = cb, .arg = arg};
    table_foreach(nt->t, visit_one, &v);
}

size_t nat_table_count(const struct nat_table *nt)
{
    return table_count(nt->t);
}

void nat_table_expire(struct nat_table *nt, uint64_t now_ms)
{
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
    struct nat_client *c = aor_ok(aor) ? table_get(nt->t, aor) : NULL;
    if (!c || c->b.id != id)
        return -ENOENT;
    c->b.missed = answered ? 0 : c->b.missed + 1;
    return (int)c->b.missed;
}

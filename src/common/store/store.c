/* store: the write queue, grouped commits and waits over a backend (see
 * store.h). */
#include "pinhole/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pinhole/log.h"
#include "store_sqlite.h"

#define STORE_PURGE_MS 60000

enum store_kind { STORE_MEMORY, STORE_SQLITE };

/* One queued write: key NUL value, with its expiry (a removal: del). */
struct store_op {
    uint64_t expires;
    size_t vlen;
    bool del;
    char data[];
};

struct store {
    enum store_kind kind;
    struct store_sqlite *db;
    struct loop *loop;
    struct timer *group;   /* the next commit */
    struct timer *purge;   /* expired rows out, once a minute */
    struct store_op **ops; /* queued, in order */
    size_t nops, cap;
    uint64_t queued_seq;    /* writes queued since open */
    uint64_t done_seq;      /* of those, committed or failed */
    struct dlist waits;     /* oldest first */
    bool purge_due;
    struct store_stats stats;
    struct log_ratelimit rl;
    char spec[];
};

uint64_t store_now_unix_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static bool ns_valid(const char *ns)
{
    size_t n = 0;
    for (const char *p = ns; p && *p; p++, n++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' ||
              (n && *p >= '0' && *p <= '9')))
            return false;
    return n > 0 && n <= 64;
}

int store_spec_valid(const char *spec)
{
    if (!spec || strnlen(spec, STORE_SPEC_MAX + 1) > STORE_SPEC_MAX)
        return -EINVAL;
    if (strcmp(spec, "memory") == 0)
        return 0;
    if (strncmp(spec, "sqlite:", 7) == 0 && spec[7])
        return 0;
    return -EINVAL;
}

/* ---- waits ---- */

static void wait_append(struct store *s, struct store_wait *w)
{
    struct dlist *head = &s->waits;
    w->link.next = head;
    w->link.prev = head->prev;
    head->prev->next = &w->link;
    head->prev = &w->link;
}

/* Every wait whose writes are done gets its answer, oldest first; a
 * callback may queue, sync or cancel again. */
static void wake(struct store *s, uint64_t upto, int err)
{
    while (!dlist_empty(&s->waits)) {
        struct store_wait *w = dlist_entry(s->waits.next, struct store_wait, link);
        if (w->seq > upto)
            return;
        dlist_remove(&w->link);
        w->waiting = false;
        w->cb(w, err);
    }
}

/* ---- commits ---- */

static void ops_free(struct store *s, size_t n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n; i++)
        free(s->ops[i]);
    memmove(s->ops, s->ops + n, (s->nops - n) * sizeof *s->ops);
    s->nops -= n;
}

static int apply_ops(struct store *s, size_t n)
{
    int err = 0;
    for (size_t i = 0; i < n && !err; i++) {
        const struct store_op *op = s->ops[i];
        const char *key = op->data;
        size_t klen = strlen(key);
        err = op->del ? store_sqlite_del(s->db, key)
                      : store_sqlite_put(s->db, key, op->data + klen + 1, op->vlen, op->expires);
    }
    return err;
}

/* One transaction: up to STORE_GROUP_MAX queued writes, and the purge
 * when it is due. Returns 0 or -EIO (the group is dropped). */
static int commit_group(struct store *s, size_t n)
{
    uint64_t purged = 0;
    int err = store_sqlite_begin(s->db);
    if (!err)
        err = apply_ops(s, n);
    if (!err && s->purge_due)
        err = store_sqlite_purge(s->db, store_now_unix_ms(), &purged);
    if (!err)
        err = store_sqlite_commit(s->db);
    if (err) {
        store_sqlite_rollback(s->db);
        return err;
    }
    s->purge_due = false;
    s->stats.purged += purged;
    return 0;
}

static void commit_now(struct store *s)
{
    while (s->nops || s->purge_due) {
        size_t n = s->nops < STORE_GROUP_MAX ? s->nops : STORE_GROUP_MAX;
        int err = s->kind == STORE_SQLITE ? commit_group(s, n) : 0;
        uint64_t upto = s->done_seq + n;
        ops_free(s, n);
        s->done_seq = upto;
        if (err) {
            s->stats.failures++;
            s->purge_due = false; /* tried again in a minute */
            if (log_ratelimit_allow(&s->rl))
                log_error("store %s: a commit of %zu writes failed: they are not kept", s->spec,
                          n);
        } else if (n) {
            s->stats.commits++;
            s->stats.writes += n;
        }
        wake(s, upto, err);
        if (!n)
            break;
    }
    wake(s, s->done_seq, 0); /* the waits that came with nothing queued */
}

static void on_group(struct timer *t, void *arg)
{
    (void)t;
    commit_now(arg);
}

static void on_purge(struct timer *t, void *arg)
{
    struct store *s = arg;
    (void)t;
    if (s->kind != STORE_SQLITE)
        return;
    s->purge_due = true;
    if (!timer_pending(s->group))
        timer_start(s->group, STORE_GROUP_MS);
}

/* The next commit: in STORE_GROUP_MS, or on the next turn when a group is
 * full or a wait has nothing to wait for. */
static void schedule(struct store *s, bool soon)
{
    if (soon)
        timer_start(s->group, 0);
    else if (!timer_pending(s->group))
        timer_start(s->group, STORE_GROUP_MS);
}

/* ---- life ---- */

int store_open(struct store **out, const char *spec, const char *ns, struct loop *l)
{
    if (store_spec_valid(spec) != 0 || !ns_valid(ns) || !l)
        return -EINVAL;
    size_t len = strlen(spec);
    struct store *s = calloc(1, sizeof *s + len + 1);
    if (!s)
        return -ENOMEM;
    memcpy(s->spec, spec, len + 1);
    s->loop = l;
    s->kind = strcmp(spec, "memory") == 0 ? STORE_MEMORY : STORE_SQLITE;
    s->rl = (struct log_ratelimit){.interval_s = 10, .burst = 5};
    dlist_init(&s->waits);
    int err = timer_new(&s->group, l, on_group, s);
    if (!err)
        err = timer_new(&s->purge, l, on_purge, s);
    if (!err && s->kind == STORE_SQLITE)
        err = store_sqlite_open(&s->db, spec + 7, ns);
    if (err) {
        store_close(s);
        return err;
    }
    if (s->kind == STORE_SQLITE)
        timer_start_periodic(s->purge, STORE_PURGE_MS);
    *out = s;
    return 0;
}

void store_close(struct store *s)
{
    if (!s)
        return;
    if (s->db)
        commit_now(s);
    ops_free(s, s->nops);
    while (!dlist_empty(&s->waits)) {
        struct store_wait *w = dlist_entry(s->waits.next, struct store_wait, link);
        dlist_remove(&w->link);
        w->waiting = false;
        w->cb(w, -ECANCELED);
    }
    timer_free(s->group);
    timer_free(s->purge);
    store_sqlite_close(s->db);
    free(s->ops);
    free(s);
}

bool store_durable(const struct store *s)
{
    return s && s->kind != STORE_MEMORY;
}

const char *store_spec(const struct store *s)
{
    return s->spec;
}

/* ---- writes ---- */

static int enqueue(struct store *s, const char *key, const void *value, size_t len,
                   uint64_t expires, bool del)
{
    size_t klen = key ? strnlen(key, STORE_KEY_MAX + 1) : 0;
    if (klen == 0 || klen > STORE_KEY_MAX || len > STORE_VALUE_MAX || (len && !value))
        return -EINVAL;
    if (s->kind == STORE_MEMORY)
        return 0;
    if (s->nops >= STORE_QUEUE_MAX)
        return -ENOBUFS;
    if (s->nops == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        struct store_op **ops = realloc(s->ops, cap * sizeof *ops);
        if (!ops)
            return -ENOMEM;
        s->ops = ops;
        s->cap = cap;
    }
    struct store_op *op = malloc(sizeof *op + klen + 1 + len);
    if (!op)
        return -ENOMEM;
    op->expires = expires;
    op->vlen = len;
    op->del = del;
    memcpy(op->data, key, klen + 1);
    if (len)
        memcpy(op->data + klen + 1, value, len);
    s->ops[s->nops++] = op;
    s->queued_seq++;
    schedule(s, s->nops >= STORE_GROUP_MAX);
    return 0;
}

int store_put(struct store *s, const char *key, const void *value, size_t len,
              uint64_t expires_unix_ms)
{
    return enqueue(s, key, value, len, expires_unix_ms, false);
}

int store_del(struct store *s, const char *key)
{
    return enqueue(s, key, NULL, 0, 0, true);
}

void store_sync(struct store *s, struct store_wait *w, store_synced_cb cb)
{
    w->cb = cb;
    w->seq = s->queued_seq;
    w->waiting = true;
    wait_append(s, w);
    schedule(s, s->queued_seq == s->done_seq);
}

void store_wait_cancel(struct store_wait *w)
{
    if (!w->waiting)
        return;
    dlist_remove(&w->link);
    w->waiting = false;
}

int store_load(struct store *s, uint64_t now_unix_ms, store_load_cb cb, void *arg)
{
    if (s->kind == STORE_MEMORY)
        return 0;
    return store_sqlite_load(s->db, now_unix_ms, cb, arg);
}

void store_get_stats(const struct store *s, struct store_stats *out)
{
    *out = s->stats;
    out->queued = s->nops;
}

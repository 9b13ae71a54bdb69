/* table: hash table with timing-wheel expiry. */
#include "helpers.h"

#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pinhole/loop.h"
#include "pinhole/table.h"

/* Under ASan a million mallocs take too long for a unit test; bench/table_bench
 * runs the full million. */
#define MANY 200000
#define RECORD_MAX 64

struct record {
    size_t expired;
    size_t freed;
    char keys[RECORD_MAX][32];
    uint64_t at[RECORD_MAX];
    uint64_t now;      /* the time the test is expiring at */
    struct table *t;   /* for callbacks that act on the table */
    uint64_t reinsert; /* non-zero: the expire callback re-inserts with this expiry */
};

static void on_free_nothing(void *value)
{
    (void)value;
}

static struct record *g_rec;

static void on_free_value(void *value)
{
    g_rec->freed++;
    free(value);
}

static void on_expire_record(const char *key, void *value, void *arg)
{
    struct record *r = arg;
    if (r->expired < RECORD_MAX) {
        snprintf(r->keys[r->expired], sizeof r->keys[0], "%s", key);
        r->at[r->expired] = r->now;
    }
    r->expired++;
    if (r->reinsert) {
        assert_null(table_get(r->t, key));
        assert_int_equal(table_put(r->t, key, value, r->reinsert, NULL), 0);
        return;
    }
    free(value);
}

static int *int_value(int v)
{
    int *p = malloc(sizeof *p);
    assert_non_null(p);
    *p = v;
    return p;
}

static struct table *new_table(struct record *r, uint64_t tick_ms)
{
    struct table *t;
    memset(r, 0, sizeof *r);
    g_rec = r;
    assert_int_equal(table_new(&t, 0, tick_ms, on_expire_record, on_free_value, r), 0);
    r->t = t;
    return t;
}

static void expire_at(struct record *r, uint64_t now)
{
    r->now = now;
    table_expire(r->t, now);
}

static void test_put_get_replace(void **state)
{
    struct record r;
    struct table *t = new_table(&r, 10);
    (void)state;

    assert_int_equal(table_put(t, "alice", int_value(1), 0, NULL), 0);
    assert_int_equal(table_put(t, "bob", int_value(2), 0, NULL), 0);
    assert_int_equal(table_count(t), 2);
    assert_int_equal(*(int *)table_get(t, "alice"), 1);
    assert_int_equal(*(int *)table_get(t, "bob"), 2);
    assert_null(table_get(t, "carol"));
    assert_null(table_get(t, "alic"));

    /* Replace with *old: the caller gets the old value back. */
    void *old = NULL;
    assert_int_equal(table_put(t, "alice", int_value(3), 500, &old), 0);
    assert_non_null(old);
    assert_int_equal(*(int *)old, 1);
    free(old);
    assert_int_equal(r.freed, 0);
    assert_int_equal(table_expiry(t, "alice"), 500);

    /* Replace without *old: on_free takes it. */
    assert_int_equal(table_put(t, "alice", int_value(4), 0, NULL), 0);
    assert_int_equal(r.freed, 1);
    assert_int_equal(table_count(t), 2);
    assert_int_equal(*(int *)table_get(t, "alice"), 4);
    assert_int_equal(table_expiry(t, "alice"), 0);

    /* A new key reports no old value. */
    old = (void *)&r;
    assert_int_equal(table_put(t, "carol", int_value(5), 0, &old), 0);
    assert_null(old);

    table_free(t);
    assert_int_equal(r.freed, 4);
    assert_int_equal(r.expired, 0);
}

static void test_put_refuses_bad_input(void **state)
{
    struct record r;
    struct table *t = new_table(&r, 10);
    (void)state;

    int v = 1;
    assert_int_equal(table_put(t, NULL, &v, 0, NULL), -EINVAL);
    assert_int_equal(table_put(t, "k", NULL, 0, NULL), -EINVAL);
    char *huge = malloc(100000);
    assert_non_null(huge);
    memset(huge, 'x', 99999);
    huge[99999] = '\0';
    assert_int_equal(table_put(t, huge, &v, 0, NULL), -EINVAL);
    assert_null(table_get(t, huge));
    free(huge);
    assert_int_equal(table_count(t), 0);

    struct table *t2;
    assert_int_equal(table_new(&t2, 0, 0, NULL, NULL, NULL), -EINVAL);
    table_free(t);
}

static void test_remove(void **state)
{
    struct record r;
    struct table *t = new_table(&r, 10);
    (void)state;

    assert_int_equal(table_put(t, "a", int_value(1), 100, NULL), 0);
    assert_int_equal(table_put(t, "b", int_value(2), 100, NULL), 0);
    int *v = table_remove(t, "a");
    assert_non_null(v);
    assert_int_equal(*v, 1);
    free(v);
    assert_null(table_remove(t, "a"));
    assert_null(table_get(t, "a"));
    assert_int_equal(table_count(t), 1);

    /* A removed entry never expires; the other one does. */
    expire_at(&r, 100);
    assert_int_equal(r.expired, 1);
    assert_string_equal(r.keys[0], "b");
    assert_int_equal(table_count(t), 0);
    table_free(t);
    assert_int_equal(r.freed, 0);
}

static void test_touch_moves_expiry(void **state)
{
    struct record r;
    struct table *t = new_table(&r, 10);
    (void)state;

    assert_int_equal(table_put(t, "early", int_value(1), 5000, NULL), 0);
    assert_int_equal(table_put(t, "late", int_value(2), 5000, NULL), 0);
    assert_int_equal(table_touch(t, "early", 2000), 0);
    assert_int_equal(table_touch(t, "late", 9000), 0);
    assert_int_equal(table_expiry(t, "early"), 2000);
    assert_int_equal(table_expiry(t, "late"), 9000);
    assert_int_equal(table_touch(t, "nobody", 1), -ENOENT);
    assert_int_equal(table_expiry(t, "nobody"), 0);

    expire_at(&r, 1999);
    assert_int_equal(r.expired, 0);
    expire_at(&r, 2000);
    assert_int_equal(r.expired, 1);
    assert_string_equal(r.keys[0], "early");
    expire_at(&r, 5000);
    assert_int_equal(r.expired, 1);
    assert_non_null(table_get(t, "late"));
    expire_at(&r, 8999);
    assert_int_equal(r.expired, 1);
    expire_at(&r, 9000);
    assert_int_equal(r.expired, 2);
    assert_string_equal(r.keys[1], "late");

    /* Touching to never (0) takes it off the wheel. */
    assert_int_equal(table_put(t, "kept", int_value(3), 9500, NULL), 0);
    assert_int_equal(table_touch(t, "kept", 0), 0);
    expire_at(&r, 20000);
    assert_int_equal(r.expired, 2);
    table_free(t);
    assert_int_equal(r.freed, 1);
}

/* The wheel has 4096 slots: with a 10 ms tick, entries 40960 ms apart share
 * a slot and must still expire at their own time, in order. */
static void test_expiry_across_rotations(void **state)
{
    struct record r;
    struct table *t = new_table(&r, 10);
    const uint64_t rot = 4096 * 10;
    (void)state;

    assert_int_equal(table_put(t, "third", int_value(3), 105 + 2 * rot, NULL), 0);
    assert_int_equal(table_put(t, "first", int_value(1), 105, NULL), 0);
    assert_int_equal(table_put(t, "second", int_value(2), 105 + rot, NULL), 0);
    assert_int_equal(table_put(t, "zeroth", int_value(0), 50, NULL), 0);
    assert_int_equal(table_put(t, "forever", int_value(9), 0, NULL), 0);

    for (uint64_t now = 0; now <= 3 * rot; now += 5)
        expire_at(&r, now);

    assert_int_equal(r.expired, 4);
    assert_string_equal(r.keys[0], "zeroth");
    assert_int_equal(r.at[0], 50);
    assert_string_equal(r.keys[1], "first");
    assert_int_equal(r.at[1], 105);
    assert_string_equal(r.keys[2], "second");
    assert_int_equal(r.at[2], 105 + rot);
    assert_string_equal(r.keys[3], "third");
    assert_int_equal(r.at[3], 105 + 2 * rot);
    assert_int_equal(table_count(t), 1);
    assert_non_null(table_get(t, "forever"));
    table_free(t);
    assert_int_equal(r.freed, 1);
}

/* A stalled loop: one call far in the future expires everything due, and
 * nothing that is not. */
static void test_expiry_after_long_stall(void **state)
{
    struct record r;
    struct table *t = new_table(&r, 10);
    const uint64_t rot = 4096 * 10;
    (void)state;

    assert_int_equal(table_put(t, "a", int_value(1), 1000, NULL), 0);
    assert_int_equal(table_put(t, "b", int_value(2), 1000 + 5 * rot, NULL), 0);
    assert_int_equal(table_put(t, "c", int_value(3), 10 * rot + 7, NULL), 0);
    expire_at(&r, 10 * rot);
    assert_int_equal(r.expired, 2);
    assert_non_null(table_get(t, "c"));
    /* An entry put in the past expires on the next call, not a rotation later. */
    assert_int_equal(table_put(t, "past", int_value(4), 5, NULL), 0);
    expire_at(&r, 10 * rot + 1);
    assert_int_equal(r.expired, 3);
    assert_string_equal(r.keys[2], "past");
    expire_at(&r, 10 * rot + 7);
    assert_int_equal(r.expired, 4);
    assert_string_equal(r.keys[3], "c");
    table_free(t);
}

static void test_expire_callback_reinserts(void **state)
{
    struct record r;
    struct table *t = new_table(&r, 10);
    (void)state;

    assert_int_equal(table_put(t, "again", int_value(1), 100, NULL), 0);
    r.reinsert = 300;
    expire_at(&r, 100);
    assert_int_equal(r.expired, 1);
    assert_int_equal(table_count(t), 1);
    assert_int_equal(table_expiry(t, "again"), 300);

    /* Re-inserted already due: not expired again in the same call (no
     * endless walk), but on the next one. */
    r.reinsert = 50;
    expire_at(&r, 300);
    assert_int_equal(r.expired, 2);
    assert_int_equal(table_count(t), 1);
    r.reinsert = 0;
    expire_at(&r, 301);
    assert_int_equal(r.expired, 3);
    assert_int_equal(table_count(t), 0);
    table_free(t);
}

/* Two entries due in the same tick: whichever fires first removes the
 * other, which is still waiting in the slot being walked. */
static void on_expire_remove_other(const char *key, void *value, void *arg)
{
    struct record *r = arg;
    const char *other = strcmp(key, "x") == 0 ? "y" : "x";
    snprintf(r->keys[r->expired++], sizeof r->keys[0], "%s", key);
    free(value);
    free(table_remove(r->t, other));
}

static void test_expire_callback_removes_pending(void **state)
{
    struct record r;
    struct table *t;
    (void)state;

    memset(&r, 0, sizeof r);
    g_rec = &r;
    assert_int_equal(table_new(&t, 0, 10, on_expire_remove_other, on_free_value, &r), 0);
    r.t = t;
    assert_int_equal(table_put(t, "x", int_value(1), 100, NULL), 0);
    assert_int_equal(table_put(t, "y", int_value(2), 101, NULL), 0);
    assert_int_equal(table_put(t, "z", int_value(3), 100 + 40960, NULL), 0);
    table_expire(t, 105);
    assert_int_equal(r.expired, 1);
    assert_null(table_get(t, "x"));
    assert_null(table_get(t, "y"));
    assert_non_null(table_get(t, "z"));
    assert_int_equal(table_count(t), 1);
    table_free(t);
    assert_int_equal(r.freed, 1);
}

static void test_free_calls_on_free(void **state)
{
    struct record r;
    struct table *t = new_table(&r, 1000);
    (void)state;

    for (int i = 0; i < 100; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        assert_int_equal(table_put(t, key, int_value(i), (i % 2) ? 0 : 5000, NULL), 0);
    }
    table_free(t);
    assert_int_equal(r.freed, 100);
    assert_int_equal(r.expired, 0);
    table_free(NULL);
}

struct visit {
    size_t n;
    long sum;
    uint64_t expiry_sum;
};

static void visit(const char *key, void *value, uint64_t expires_at_ms, void *arg)
{
    struct visit *v = arg;
    assert_int_equal(key[0], 'k');
    v->n++;
    v->sum += *(int *)value;
    v->expiry_sum += expires_at_ms;
}

static void test_foreach(void **state)
{
    struct record r;
    struct table *t = new_table(&r, 10);
    (void)state;

    long want = 0;
    for (int i = 0; i < 1000; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        assert_int_equal(table_put(t, key, int_value(i), (uint64_t)i, NULL), 0);
        want += i;
    }
    struct visit v = {0};
    table_foreach(t, visit, &v);
    assert_int_equal(v.n, 1000);
    assert_int_equal(v.sum, want);
    assert_int_equal(v.expiry_sum, (uint64_t)want);
    table_free(t);
    assert_int_equal(r.freed, 1000);
}

static void test_memory_per_entry(void **state)
{
    struct table *t;
    const size_t n = 10000;
    int v = 0;
    (void)state;

    assert_int_equal(table_new(&t, 0, 100, NULL, on_free_nothing, NULL), 0);
    size_t empty = table_memory(t);
    assert_true(empty > 0);
    size_t keybytes = 0;
    for (size_t i = 0; i < n; i++) {
        char key[32];
        int len = snprintf(key, sizeof key, "call-%zu@example.org", i);
        keybytes += (size_t)len + 1;
        assert_int_equal(table_put(t, key, &v, 1000 + i, NULL), 0);
    }
    size_t used = table_memory(t) - empty;
    /* Node + bucket share <= 64 bytes per entry, plus the key. */
    assert_true(used <= n * 64 + keybytes);
    assert_true(used >= keybytes);
    for (size_t i = 0; i < n; i++) {
        char key[32];
        snprintf(key, sizeof key, "call-%zu@example.org", i);
        assert_ptr_equal(table_remove(t, key), &v);
    }
    assert_int_equal(table_count(t), 0);
    table_free(t);
}

static void count_expired(const char *key, void *value, void *arg)
{
    (void)key;
    (void)value;
    (*(size_t *)arg)++;
}

static void test_many_entries(void **state)
{
    struct table *t;
    size_t expired = 0;
    static int v[8];
    (void)state;

    assert_int_equal(table_new(&t, 0, 100, count_expired, NULL, &expired), 0);
    for (size_t i = 0; i < MANY; i++) {
        char key[32];
        snprintf(key, sizeof key, "%zx.branch", i);
        assert_int_equal(table_put(t, key, &v[i % 8], 1000 + (i % 60000), NULL), 0);
    }
    assert_int_equal(table_count(t), MANY);
    for (size_t i = 0; i < MANY; i += 997) {
        char key[32];
        snprintf(key, sizeof key, "%zx.branch", i);
        assert_ptr_equal(table_get(t, key), &v[i % 8]);
        assert_int_equal(table_expiry(t, key), 1000 + (i % 60000));
    }
    assert_null(table_get(t, "nope.branch"));
    table_expire(t, 1000 + 29999);
    assert_int_equal(expired,
                     30000 * (MANY / 60000) + (MANY % 60000 < 30000 ? MANY % 60000 : 30000));
    table_expire(t, 1000 + 60000);
    assert_int_equal(expired, MANY);
    assert_int_equal(table_count(t), 0);
    table_free(t);
}

struct attach_state {
    size_t expired;
    uint64_t at;
    struct loop *l;
};

static void on_attach_expire(const char *key, void *value, void *arg)
{
    struct attach_state *s = arg;
    (void)key;
    (void)value;
    s->expired++;
    s->at = loop_now_ms(s->l);
}

static void test_attach_drives_expiry(void **state)
{
    struct loop *l;
    struct table *t;
    struct attach_state s = {0};
    static int v;
    (void)state;

    assert_int_equal(loop_new(&l), 0);
    s.l = l;
    assert_int_equal(table_new(&t, 0, 10, on_attach_expire, NULL, &s), 0);
    assert_int_equal(table_attach(t, l), 0);
    assert_int_equal(table_attach(t, l), -EALREADY);
    uint64_t start = loop_now_ms(l);
    assert_int_equal(table_put(t, "soon", &v, start + 40, NULL), 0);
    assert_int_equal(table_put(t, "later", &v, start + 100000, NULL), 0);
    while (s.expired == 0 && loop_now_ms(l) < start + 2000)
        event_base_loop(loop_base(l), EVLOOP_ONCE);
    assert_int_equal(s.expired, 1);
    assert_true(s.at >= start + 40);
    assert_null(table_get(t, "soon"));
    assert_non_null(table_get(t, "later"));
    table_free(t);
    loop_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_get_replace),
        cmocka_unit_test(test_put_refuses_bad_input),
        cmocka_unit_test(test_remove),
        cmocka_unit_test(test_touch_moves_expiry),
        cmocka_unit_test(test_expiry_across_rotations),
        cmocka_unit_test(test_expiry_after_long_stall),
        cmocka_unit_test(test_expire_callback_reinserts),
        cmocka_unit_test(test_expire_callback_removes_pending),
        cmocka_unit_test(test_free_calls_on_free),
        cmocka_unit_test(test_foreach),
        cmocka_unit_test(test_memory_per_entry),
        cmocka_unit_test(test_many_entries),
        cmocka_unit_test(test_attach_drives_expiry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* nat_store (issue #17): proxyd's NAT client table through an SQLite
 * store: a restart (a second table on the same file) gets back every
 * phone with its NAT address, socket, phone key and expiry, on the
 * keepalive ring; a phone removed, moved to a new port or evicted is not
 * brought back; a row that is not ours is skipped; "memory" keeps none. */
#include "helpers.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nat_store.h"

struct fx {
    struct loop *loop;
    char dir[64], spec[160], path[128];
    struct transport tp;
};

static int setup(void **state)
{
    static struct fx f;
    memset(&f, 0, sizeof f);
    test_tmpdir(f.dir, sizeof f.dir, "natstore");
    snprintf(f.path, sizeof f.path, "%s/proxyd.db", f.dir);
    snprintf(f.spec, sizeof f.spec, "sqlite:%s", f.path);
    assert_int_equal(loop_new(&f.loop), 0);
    f.tp.local = test_addr("203.0.113.11:5060");
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    loop_free(f->loop);
    test_rmtree(f->dir);
    return 0;
}

static void put(struct nat_table *nt, const char *aor, const char *nat, uint64_t until,
                uint64_t phone, const struct transport *tp)
{
    struct addr a = test_addr(nat);
    assert_int_equal(nat_table_put(nt, aor, &a, tp, until, phone), 0);
}

/* One life of proxyd: opens table and store, runs fn, closes both. */
static void life(struct fx *f, const char *spec, void (*fn)(struct fx *, struct nat_table *))
{
    struct nat_table *nt = NULL;
    struct nat_store ns;
    assert_int_equal(nat_table_new(&nt, NULL), 0);
    assert_int_equal(nat_store_open(&ns, spec, f->loop, nt, &f->tp), 0);
    fn(f, nt);
    nat_store_close(&ns);
    nat_table_free(nt);
}

static void first_life(struct fx *f, struct nat_table *nt)
{
    uint64_t now = loop_now_ms(f->loop);
    put(nt, "16", "198.51.100.28:40312", now + 60000, 7, &f->tp);
    put(nt, "16", "203.0.113.5:6000", now + 90000, 8, &f->tp);
    put(nt, "17", "198.51.100.30:1111", now + 60000, 9, &f->tp);
    put(nt, "18", "198.51.100.31:2222", now + 60000, 10, &f->tp);
    /* 17's NAT moved it (same phone key); 18 unregistered */
    put(nt, "17", "198.51.100.30:3333", now + 60000, 9, &f->tp);
    struct addr gone = test_addr("198.51.100.31:2222");
    assert_true(nat_table_remove_at(nt, "18", &gone));
}

static void second_life(struct fx *f, struct nat_table *nt)
{
    struct nat_binding b[4];
    struct addr a = test_addr("198.51.100.30:3333"), old = test_addr("198.51.100.30:1111");
    assert_int_equal(nat_table_count(nt), 3);
    assert_int_equal(nat_table_bindings(nt, "16", b, 4), 2);
    assert_int_equal(nat_table_lookup_at(nt, "17", &a, &b[0]), 0);
    assert_int_equal(b[0].phone, 9);
    assert_true(addr_equal(&b[0].tp.local, &f->tp.local)); /* on the proxy's socket */
    uint64_t now = loop_now_ms(f->loop);
    assert_in_range(b[0].expires_at_ms, now + 59000, now + 60000);
    assert_int_equal(nat_table_lookup_at(nt, "17", &old, &b[0]), -ENOENT);
    assert_int_equal(nat_table_lookup(nt, "18", &b[0]), -ENOENT);
    /* every one of them on the keepalive ring */
    const char *aor;
    for (int i = 0; i < 3; i++)
        assert_int_equal(nat_table_next(nt, &aor, &b[0]), 0);
}

static void test_a_restart_gets_every_phone_back(void **state)
{
    struct fx *f = *state;
    life(f, f->spec, first_life);
    life(f, f->spec, second_life);
}

static void third_party_row(struct fx *f, struct nat_table *nt)
{
    (void)f;
    assert_int_equal(nat_table_count(nt), 0); /* the bad rows were skipped */
}

static void test_rows_not_ours_are_skipped(void **state)
{
    struct fx *f = *state;
    sqlite3 *db;
    life(f, f->spec, third_party_row); /* creates the table */
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "INSERT INTO nat_clients VALUES ('no-separator', x'00', 9e15);"
                                  "INSERT INTO nat_clients VALUES ('16' || char(31) || 'not an "
                                  "address', x'0000000000000001', 9e15);"
                                  "INSERT INTO nat_clients VALUES ('17' || char(31) || "
                                  "'198.51.100.1:5', x'01', 9e15);",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    life(f, f->spec, third_party_row);
}

static void memory_life(struct fx *f, struct nat_table *nt)
{
    (void)f;
    assert_int_equal(nat_table_count(nt), 0);
    put(nt, "16", "198.51.100.28:40312", loop_now_ms(f->loop) + 60000, 7, &f->tp);
}

static void test_memory_keeps_none(void **state)
{
    struct fx *f = *state;
    life(f, "memory", memory_life);
    life(f, "memory", memory_life);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_a_restart_gets_every_phone_back),
        T(test_rows_not_ours_are_skipped),
        T(test_memory_keeps_none),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* NAT client table 32 (src/proxyd/nat_table.c): step 119's record, lookup
 * for step 152a, expiry, the keepalive ring and missed-answer counting. */
#include "helpers.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "nat_table.h"

struct ctx {
    struct nat_table *nt;
    struct fake_wire wire;
    struct transport tp;
};

static int setup(void **state)
{
    static struct ctx c;
    memset(&c, 0, sizeof c);
    assert_int_equal(nat_table_new(&c.nt, NULL), 0);
    fake_wire_transport(&c.wire, &c.tp, "203.0.113.11:5060");
    *state = &c;
    return 0;
}

static int teardown(void **state)
{
    struct ctx *c = *state;
    nat_table_free(c->nt);
    fake_wire_clear(&c->wire);
    return 0;
}

static void put_phone(struct ctx *c, const char *aor, const char *nat, uint64_t until,
                      uint64_t phone)
{
    struct addr a = test_addr(nat);
    assert_int_equal(nat_table_put(c->nt, aor, &a, &c->tp, until, phone), 0);
}

static void put(struct ctx *c, const char *aor, const char *nat, uint64_t until)
{
    put_phone(c, aor, nat, until, 0);
}

static void records_and_finds_a_client(void **state)
{
    struct ctx *c = *state;
    struct nat_binding b;
    struct addr want = test_addr("198.51.100.28:40312");

    assert_int_equal(nat_table_lookup(c->nt, "16", &b), -ENOENT);
    put(c, "16", "198.51.100.28:40312", 120000);
    assert_int_equal(nat_table_count(c->nt), 1);
    assert_int_equal(nat_table_lookup(c->nt, "16", &b), 0);
    assert_true(addr_equal(&b.nat, &want));
    assert_int_equal(b.expires_at_ms, 120000);
    assert_int_equal(b.missed, 0);
    /* the socket it came in on, by value (design decision 10) */
    assert_ptr_equal(b.tp.ctx, &c->wire);
    assert_true(addr_equal(&b.tp.local, &c->tp.local));
    assert_int_equal(nat_table_lookup(c->nt, "17", &b), -ENOENT);

    assert_true(nat_table_remove(c->nt, "16"));
    assert_false(nat_table_remove(c->nt, "16"));
    assert_int_equal(nat_table_count(c->nt), 0);
}

static void refuses_empty_and_overlong_ids(void **state)
{
    struct ctx *c = *state;
    struct addr a = test_addr("198.51.100.28:1");
    char longid[NAT_AOR_MAX + 2];
    memset(longid, 'x', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';

    assert_int_equal(nat_table_put(c->nt, "", &a, &c->tp, 1000, 0), -EINVAL);
    assert_int_equal(nat_table_put(c->nt, longid, &a, &c->tp, 1000, 0), -EINVAL);
    longid[NAT_AOR_MAX] = '\0'; /* exactly the limit is fine */
    assert_int_equal(nat_table_put(c->nt, longid, &a, &c->tp, 1000, 0), 0);
    assert_int_equal(nat_table_count(c->nt), 1);
}

static void a_refresh_moves_expiry_and_address(void **state)
{
    struct ctx *c = *state;
    struct nat_binding b1, b2;
    struct addr rebound = test_addr("198.51.100.28:50000");

    uint64_t phone = nat_table_phone_key("reg-16@192.168.1.10");
    put_phone(c, "16", "198.51.100.28:40312", 10000, phone);
    assert_int_equal(nat_table_lookup(c->nt, "16", &b1), 0);
    assert_int_equal(nat_table_keepalive_result(c->nt, "16", b1.id, false), 1);
    /* the NAT rebound the client to a new port; it re-registered under
     * its Call-ID: the same phone, moved, not a second one */
    put_phone(c, "16", "198.51.100.28:50000", 20000, phone);
    assert_int_equal(nat_table_count(c->nt), 1);
    assert_int_equal(nat_table_lookup(c->nt, "16", &b2), 0);
    assert_true(addr_equal(&b2.nat, &rebound));
    assert_int_equal(b2.missed, 0);
    assert_int_not_equal(b1.id, b2.id);
    /* the old expiry no longer applies */
    nat_table_expire(c->nt, 15000);
    assert_int_equal(nat_table_count(c->nt), 1);
    nat_table_expire(c->nt, 20000);
    assert_int_equal(nat_table_count(c->nt), 0);
}

/* A desk phone and a softphone of one user: two entries, each with its
 * own expiry and keepalive count, removed one by one. */
static void two_phones_of_one_user(void **state)
{
    struct ctx *c = *state;
    struct nat_binding b, all[4];
    struct addr desk = test_addr("198.51.100.28:40312"), soft = test_addr("203.0.113.5:6000");

    put_phone(c, "16", "198.51.100.28:40312", 10000, nat_table_phone_key("desk"));
    put_phone(c, "16", "203.0.113.5:6000", 30000, nat_table_phone_key("soft"));
    assert_int_equal(nat_table_count(c->nt), 2);
    assert_int_equal(nat_table_bindings(c->nt, "16", all, 4), 2);
    assert_int_equal(nat_table_lookup_at(c->nt, "16", &desk, &b), 0);
    assert_int_equal(b.expires_at_ms, 10000);
    assert_int_equal(nat_table_keepalive_result(c->nt, "16", b.id, false), 1);
    assert_int_equal(nat_table_lookup_at(c->nt, "16", &soft, &b), 0);
    assert_int_equal(b.missed, 0); /* the other phone's count is its own */
    assert_int_equal(nat_table_lookup_at(c->nt, "17", &soft, &b), -ENOENT);

    /* the desk phone's registration runs out; the softphone's stays */
    nat_table_expire(c->nt, 10000);
    assert_int_equal(nat_table_count(c->nt), 1);
    assert_int_equal(nat_table_lookup_at(c->nt, "16", &desk, &b), -ENOENT);
    assert_int_equal(nat_table_lookup_at(c->nt, "16", &soft, &b), 0);

    /* both on the keepalive ring while they live */
    put_phone(c, "16", "198.51.100.28:40312", 40000, nat_table_phone_key("desk"));
    const char *aor;
    struct nat_binding r1, r2;
    assert_int_equal(nat_table_next(c->nt, &aor, &r1), 0);
    assert_int_equal(nat_table_next(c->nt, &aor, &r2), 0);
    assert_false(addr_equal(&r1.nat, &r2.nat));

    assert_true(nat_table_remove_at(c->nt, "16", &soft));
    assert_false(nat_table_remove_at(c->nt, "16", &soft));
    assert_true(nat_table_remove_phone(c->nt, "16", nat_table_phone_key("desk")));
    assert_int_equal(nat_table_count(c->nt), 0);
}

/* A flood of REGISTERs for one user from ever new ports and Call-IDs
 * never holds more than NAT_PHONES_MAX entries for it. */
static void phones_per_user_are_bounded(void **state)
{
    struct ctx *c = *state;
    char nat[32], cid[32];
    for (unsigned i = 0; i < 5000; i++) {
        snprintf(nat, sizeof nat, "198.51.100.28:%u", 1024 + i);
        snprintf(cid, sizeof cid, "flood-%u", i);
        put_phone(c, "16", nat, 100000 + i, nat_table_phone_key(cid));
        assert_true(nat_table_count(c->nt) <= NAT_PHONES_MAX);
    }
    assert_int_equal(nat_table_count(c->nt), NAT_PHONES_MAX);
    struct nat_binding b;
    struct addr newest = test_addr("198.51.100.28:6023");
    assert_int_equal(nat_table_lookup_at(c->nt, "16", &newest, &b), 0);
    nat_table_expire(c->nt, 200000);
    assert_int_equal(nat_table_count(c->nt), 0);
}

static void entries_expire_on_their_own(void **state)
{
    struct ctx *c = *state;
    struct nat_binding b;
    const char *aor;

    put(c, "a", "198.51.100.1:1000", 5000);
    put(c, "b", "198.51.100.2:1000", 10000);
    put(c, "forever", "198.51.100.3:1000", 0);
    nat_table_expire(c->nt, 4999);
    assert_int_equal(nat_table_count(c->nt), 3);
    nat_table_expire(c->nt, 5000);
    assert_int_equal(nat_table_count(c->nt), 2);
    assert_int_equal(nat_table_lookup(c->nt, "a", &b), -ENOENT);
    /* the ring no longer visits the expired client */
    for (int i = 0; i < 4; i++) {
        assert_int_equal(nat_table_next(c->nt, &aor, &b), 0);
        assert_string_not_equal(aor, "a");
    }
    nat_table_expire(c->nt, 3600000);
    assert_int_equal(nat_table_count(c->nt), 1);
    assert_int_equal(nat_table_lookup(c->nt, "forever", &b), 0);
}

static void the_ring_visits_each_client_once_per_round(void **state)
{
    struct ctx *c = *state;
    const char *aor;
    struct nat_binding b;
    char seen[3][8];

    assert_int_equal(nat_table_next(c->nt, &aor, &b), -ENOENT);
    put(c, "1", "198.51.100.1:1", 0);
    put(c, "2", "198.51.100.2:1", 0);
    put(c, "3", "198.51.100.3:1", 0);
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 3; i++) {
            assert_int_equal(nat_table_next(c->nt, &aor, &b), 0);
            strcpy(seen[i], aor);
        }
        assert_string_not_equal(seen[0], seen[1]);
        assert_string_not_equal(seen[1], seen[2]);
        assert_string_not_equal(seen[0], seen[2]);
    }
    /* after whole rounds the cursor is on seen[0] again: removing the
     * client under the cursor keeps the ring whole and in order */
    assert_true(nat_table_remove(c->nt, seen[0]));
    for (int i = 0; i < 4; i++) {
        assert_int_equal(nat_table_next(c->nt, &aor, &b), 0);
        assert_string_equal(aor, seen[1 + i % 2]);
    }
    /* removing one elsewhere on the ring */
    assert_true(nat_table_remove(c->nt, seen[2]));
    for (int i = 0; i < 2; i++) {
        assert_int_equal(nat_table_next(c->nt, &aor, &b), 0);
        assert_string_equal(aor, seen[1]);
    }
    assert_true(nat_table_remove(c->nt, seen[1]));
    assert_int_equal(nat_table_count(c->nt), 0);
    assert_int_equal(nat_table_next(c->nt, &aor, &b), -ENOENT);
    /* a newcomer waits behind the cursor: it comes last in the round */
    put(c, "1", "198.51.100.1:1", 0);
    put(c, "2", "198.51.100.2:1", 0);
    assert_int_equal(nat_table_next(c->nt, &aor, &b), 0);
    assert_string_equal(aor, "1");
    put(c, "3", "198.51.100.3:1", 0);
    assert_int_equal(nat_table_next(c->nt, &aor, &b), 0);
    assert_string_equal(aor, "2");
    assert_int_equal(nat_table_next(c->nt, &aor, &b), 0);
    assert_string_equal(aor, "1");
    assert_int_equal(nat_table_next(c->nt, &aor, &b), 0);
    assert_string_equal(aor, "3");
}

static void counts_missed_keepalives_for_the_current_entry_only(void **state)
{
    struct ctx *c = *state;
    struct nat_binding b;

    put(c, "16", "198.51.100.28:40312", 0);
    assert_int_equal(nat_table_lookup(c->nt, "16", &b), 0);
    assert_int_equal(nat_table_keepalive_result(c->nt, "16", b.id, false), 1);
    assert_int_equal(nat_table_keepalive_result(c->nt, "16", b.id, false), 2);
    assert_int_equal(nat_table_keepalive_result(c->nt, "16", b.id, true), 0);
    assert_int_equal(nat_table_keepalive_result(c->nt, "16", b.id, false), 1);
    /* an answer for a stale entry (refreshed since) is ignored */
    assert_int_equal(nat_table_keepalive_result(c->nt, "16", b.id + 1000, false), -ENOENT);
    assert_int_equal(nat_table_keepalive_result(c->nt, "nobody", b.id, false), -ENOENT);
    assert_int_equal(nat_table_lookup(c->nt, "16", &b), 0);
    assert_int_equal(b.missed, 1);
}

static void many_clients(void **state)
{
    struct ctx *c = *state;
    char aor[16], nat[32];
    for (int i = 0; i < 10000; i++) {
        snprintf(aor, sizeof aor, "u%d", i);
        snprintf(nat, sizeof nat, "198.51.%d.%d:%d", i / 250, i % 250 + 1, 1024 + i);
        put(c, aor, nat, (uint64_t)(1000 + i));
    }
    assert_int_equal(nat_table_count(c->nt), 10000);
    nat_table_expire(c->nt, 1000 + 4999);
    assert_int_equal(nat_table_count(c->nt), 5000);
    const char *a;
    struct nat_binding b;
    for (int i = 0; i < 5000; i++)
        assert_int_equal(nat_table_next(c->nt, &a, &b), 0);
    nat_table_expire(c->nt, 20000);
    assert_int_equal(nat_table_count(c->nt), 0);
    assert_int_equal(nat_table_next(c->nt, &a, &b), -ENOENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(records_and_finds_a_client, setup, teardown),
        cmocka_unit_test_setup_teardown(refuses_empty_and_overlong_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(two_phones_of_one_user, setup, teardown),
        cmocka_unit_test_setup_teardown(phones_per_user_are_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(a_refresh_moves_expiry_and_address, setup, teardown),
        cmocka_unit_test_setup_teardown(entries_expire_on_their_own, setup, teardown),
        cmocka_unit_test_setup_teardown(the_ring_visits_each_client_once_per_round, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(counts_missed_keepalives_for_the_current_entry_only, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(many_clients, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* client_table: redirectd's client table 104 — insert, refresh, out-of-order
 * REGISTERs, expiry (by the wheel and by the loop's timer), removal, the
 * asker logic of design.md decision 3, bounds, memory and scale. */
#include "helpers.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "client_table.h"
#include "pinhole/loop.h"

#define T0 100000u /* a loop-clock "now" well past the wheel's first ticks */

struct fixture {
    struct client_table *ct;
    struct addr proxy_a;     /* serving proxy as named in Path */
    struct addr proxy_a_src; /* the address proxy A sends from */
    struct addr proxy_b;     /* another proxy */
};

static int setup(void **state)
{
    static struct fixture f;
    memset(&f, 0, sizeof f);
    assert_int_equal(client_table_new(&f.ct, 16), 0);
    f.proxy_a = test_addr("192.0.2.10:5060");
    f.proxy_a_src = test_addr("192.0.2.11:5999");
    f.proxy_b = test_addr("198.51.100.7:5060");
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    client_table_free(f->ct);
    return 0;
}

static struct client_reg reg_of(struct fixture *f, const char *id, const char *contact,
                                const char *call_id, uint32_t cseq, uint32_t expires)
{
    struct client_reg r = {.id = id,
                           .contact = contact,
                           .serving = &f->proxy_a,
                           .source = &f->proxy_a_src,
                           .call_id = call_id,
                           .cseq = cseq,
                           .expires_s = expires};
    return r;
}

static enum client_reg_outcome do_register(struct fixture *f, const struct client_reg *r,
                                           uint64_t now)
{
    enum client_reg_outcome o = (enum client_reg_outcome) - 1;
    assert_int_equal(client_table_register(f->ct, r, now, &o), 0);
    return o;
}

static void test_insert_stores_the_binding(void **state)
{
    struct fixture *f = *state;
    struct client_reg r = reg_of(f, "16", "sip:16@198.51.100.28:40312", "c1@x", 7, 60);
    struct addr a;

    assert_int_equal(do_register(f, &r, T0), CLIENT_REG_CREATED);
    assert_int_equal(client_table_count(f->ct), 1);
    const struct client_binding *b = client_table_find(f->ct, "16");
    assert_non_null(b);
    assert_string_equal(client_binding_contact(b), "sip:16@198.51.100.28:40312");
    assert_string_equal(client_binding_call_id(b), "c1@x");
    assert_int_equal(client_binding_cseq(b), 7);
    assert_int_equal(client_binding_expires_at(b), T0 + 60000);
    assert_int_equal(client_binding_remaining_s(b, T0), 60);
    assert_int_equal(client_binding_remaining_s(b, T0 + 59001), 1);
    assert_int_equal(client_binding_remaining_s(b, T0 + 60000), 0);
    client_binding_serving(b, &a);
    assert_true(addr_equal(&a, &f->proxy_a));
    client_binding_source(b, &a);
    assert_true(addr_equal(&a, &f->proxy_a_src));
    assert_null(client_table_find(f->ct, "17"));
    assert_null(client_table_find(f->ct, "1"));
}

static void test_refresh_replaces_the_binding(void **state)
{
    struct fixture *f = *state;
    struct client_reg r = reg_of(f, "16", "sip:16@198.51.100.28:40312", "c1@x", 7, 60);
    assert_int_equal(do_register(f, &r, T0), CLIENT_REG_CREATED);

    /* the NAT rebound: same Call-ID, next CSeq, new channel and lifetime */
    r = reg_of(f, "16", "sip:16@198.51.100.28:40999", "c1@x", 8, 120);
    r.serving = &f->proxy_b;
    assert_int_equal(do_register(f, &r, T0 + 5000), CLIENT_REG_REFRESHED);
    assert_int_equal(client_table_count(f->ct), 1);
    const struct client_binding *b = client_table_find(f->ct, "16");
    assert_string_equal(client_binding_contact(b), "sip:16@198.51.100.28:40999");
    assert_int_equal(client_binding_cseq(b), 8);
    assert_int_equal(client_binding_expires_at(b), T0 + 5000 + 120000);
    struct addr a;
    client_binding_serving(b, &a);
    assert_true(addr_equal(&a, &f->proxy_b));

    /* the old expiry no longer applies */
    client_table_expire(f->ct, T0 + 61000);
    assert_non_null(client_table_find(f->ct, "16"));
}

static void test_out_of_order_register_changes_nothing(void **state)
{
    struct fixture *f = *state;
    struct client_reg r = reg_of(f, "16", "sip:16@198.51.100.28:40312", "c1@x", 7, 60);
    enum client_reg_outcome o;
    assert_int_equal(do_register(f, &r, T0), CLIENT_REG_CREATED);

    /* RFC 3261 10.3 step 7: same Call-ID, CSeq equal or lower */
    struct client_reg old = reg_of(f, "16", "sip:16@203.0.113.1:1", "c1@x", 7, 300);
    assert_int_equal(client_table_register(f->ct, &old, T0 + 1000, &o), -ESTALE);
    old.cseq = 6;
    assert_int_equal(client_table_register(f->ct, &old, T0 + 1000, &o), -ESTALE);
    old.expires_s = 0; /* a stale unregister must not remove it either */
    assert_int_equal(client_table_register(f->ct, &old, T0 + 1000, &o), -ESTALE);
    const struct client_binding *b = client_table_find(f->ct, "16");
    assert_non_null(b);
    assert_string_equal(client_binding_contact(b), "sip:16@198.51.100.28:40312");
    assert_int_equal(client_binding_expires_at(b), T0 + 60000);

    /* a new Call-ID (the phone rebooted) is applied whatever its CSeq */
    struct client_reg fresh = reg_of(f, "16", "sip:16@203.0.113.1:1", "c2@x", 1, 60);
    assert_int_equal(do_register(f, &fresh, T0 + 2000), CLIENT_REG_REFRESHED);
    assert_string_equal(client_binding_contact(client_table_find(f->ct, "16")),
                        "sip:16@203.0.113.1:1");
}

static void test_bindings_expire_on_the_wheel(void **state)
{
    struct fixture *f = *state;
    struct client_reg a = reg_of(f, "16", "sip:16@198.51.100.28:40312", "c1@x", 1, 10);
    struct client_reg b = reg_of(f, "17", "sip:17@198.51.100.28:40313", "c2@x", 1, 30);
    do_register(f, &a, T0);
    do_register(f, &b, T0);

    client_table_expire(f->ct, T0 + 9999);
    assert_int_equal(client_table_count(f->ct), 2);
    client_table_expire(f->ct, T0 + 10000);
    assert_null(client_table_find(f->ct, "16"));
    assert_non_null(client_table_find(f->ct, "17"));
    assert_int_equal(client_table_expired(f->ct), 1);

    /* a refresh before expiry keeps it alive past its first deadline */
    b = reg_of(f, "17", "sip:17@198.51.100.28:40313", "c2@x", 2, 30);
    do_register(f, &b, T0 + 20000);
    client_table_expire(f->ct, T0 + 49000);
    assert_non_null(client_table_find(f->ct, "17"));
    client_table_expire(f->ct, T0 + 50000);
    assert_int_equal(client_table_count(f->ct), 0);
    assert_int_equal(client_table_expired(f->ct), 2);

    struct client_table_memory m;
    client_table_memory(f->ct, &m);
    assert_int_equal(m.strings, 0);
}

/* Between its expiry and the next sweep a binding is already gone for
 * lookups and for the out-of-order rule. */
static void test_expired_binding_is_not_returned_before_the_sweep(void **state)
{
    struct fixture *f = *state;
    char buf[128];
    struct client_reg r = reg_of(f, "16", "sip:16@198.51.100.28:40312", "c1@x", 5, 10);
    do_register(f, &r, T0);
    assert_non_null(client_table_lookup(f->ct, "16", T0 + 9999));
    assert_null(client_table_lookup(f->ct, "16", T0 + 10000));
    assert_non_null(client_table_find(f->ct, "16")); /* not swept yet */
    assert_int_equal(client_table_redirect(f->ct, "16", &f->proxy_a, T0 + 10000, buf, sizeof buf),
                     -ENOENT);
    /* an older CSeq of the same Call-ID is no longer "out of order" */
    r = reg_of(f, "16", "sip:16@198.51.100.28:40999", "c1@x", 1, 10);
    assert_int_equal(do_register(f, &r, T0 + 10500), CLIENT_REG_REFRESHED);
    assert_non_null(client_table_lookup(f->ct, "16", T0 + 10500));
}

/* RFC 3261 10.3 step 6: Expires 0 removes the binding of that Contact only;
 * a proxy unregistering a client's old NAT channel (keepalives gave up)
 * must not remove the channel it has registered since. */
static void test_expires_zero_for_another_contact_keeps_binding(void **state)
{
    struct fixture *f = *state;
    struct client_reg r = reg_of(f, "16", "sip:16@198.51.100.28:40400", "c2@x", 1, 60);
    do_register(f, &r, T0);
    r = reg_of(f, "16", "sip:16@198.51.100.28:40312", "c1@x", 9, 0);
    assert_int_equal(do_register(f, &r, T0 + 1000), CLIENT_REG_ABSENT);
    assert_non_null(client_table_find(f->ct, "16"));
    assert_string_equal(client_binding_contact(client_table_find(f->ct, "16")),
                        "sip:16@198.51.100.28:40400");
    r = reg_of(f, "16", "sip:16@198.51.100.28:40400", "c2@x", 2, 0);
    assert_int_equal(do_register(f, &r, T0 + 2000), CLIENT_REG_REMOVED);
    assert_null(client_table_find(f->ct, "16"));
}

static void test_expires_zero_removes(void **state)
{
    struct fixture *f = *state;
    struct client_reg r = reg_of(f, "16", "sip:16@198.51.100.28:40312", "c1@x", 1, 60);
    do_register(f, &r, T0);
    r = reg_of(f, "16", "*", "c1@x", 2, 0);
    assert_int_equal(do_register(f, &r, T0 + 1000), CLIENT_REG_REMOVED);
    assert_null(client_table_find(f->ct, "16"));
    assert_int_equal(client_table_count(f->ct), 0);
    r.cseq = 3;
    assert_int_equal(do_register(f, &r, T0 + 2000), CLIENT_REG_ABSENT);
    /* removed, not expired, and nothing left to expire later */
    client_table_expire(f->ct, T0 + 120000);
    assert_int_equal(client_table_expired(f->ct), 0);
}

static void test_asker_logic(void **state)
{
    struct fixture *f = *state;
    struct client_reg r = reg_of(f, "16", "sip:16@198.51.100.28:40312;ob", "c1@x", 1, 60);
    char buf[CLIENT_CONTACT_MAX + 1];
    do_register(f, &r, T0);

    /* fig. 2a/2c: the serving proxy, by its Path address or by its source */
    assert_int_equal(client_table_redirect(f->ct, "16", &f->proxy_a, T0, buf, sizeof buf), 0);
    assert_string_equal(buf, "sip:16@198.51.100.28:40312;ob");
    assert_int_equal(client_table_redirect(f->ct, "16", &f->proxy_a_src, T0, buf, sizeof buf), 0);
    assert_string_equal(buf, "sip:16@198.51.100.28:40312;ob");
    /* fig. 2b: another proxy is sent to the serving proxy */
    assert_int_equal(client_table_redirect(f->ct, "16", &f->proxy_b, T0, buf, sizeof buf), 0);
    assert_string_equal(buf, "sip:16@192.0.2.10:5060");
    /* same host, other port: another proxy instance */
    struct addr a_other_port = test_addr("192.0.2.10:5062");
    assert_int_equal(client_table_redirect(f->ct, "16", &a_other_port, T0, buf, sizeof buf), 0);
    assert_string_equal(buf, "sip:16@192.0.2.10:5060");

    assert_int_equal(client_table_redirect(f->ct, "99", &f->proxy_a, T0, buf, sizeof buf), -ENOENT);
    assert_int_equal(client_table_redirect(f->ct, "16", &f->proxy_a, T0, buf, 10), -ENOSPC);
    assert_int_equal(client_table_redirect(f->ct, "16", &f->proxy_b, T0, buf, 10), -ENOSPC);
}

static void test_asker_logic_ipv6(void **state)
{
    struct fixture *f = *state;
    struct addr v6 = test_addr("[2001:db8::5]:5070");
    struct client_reg r = reg_of(f, "20", "sip:20@[2001:db8::99]:4000", "c1@x", 1, 60);
    char buf[128];
    r.serving = &v6;
    r.source = &v6;
    do_register(f, &r, T0);
    assert_int_equal(client_table_redirect(f->ct, "20", &f->proxy_b, T0, buf, sizeof buf), 0);
    assert_string_equal(buf, "sip:20@[2001:db8::5]:5070");
    assert_int_equal(client_table_redirect(f->ct, "20", &v6, T0, buf, sizeof buf), 0);
    assert_string_equal(buf, "sip:20@[2001:db8::99]:4000");
}

static void test_bounds_are_refused(void **state)
{
    struct fixture *f = *state;
    char longid[CLIENT_ID_MAX + 2], longcontact[CLIENT_CONTACT_MAX + 2];
    char longcid[CLIENT_CALL_ID_MAX + 2];
    enum client_reg_outcome o;
    struct addr unset;
    memset(&unset, 0, sizeof unset);
    memset(longid, '1', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';
    memset(longcontact, 'c', sizeof longcontact - 1);
    longcontact[sizeof longcontact - 1] = '\0';
    memset(longcid, 'i', sizeof longcid - 1);
    longcid[sizeof longcid - 1] = '\0';

    struct client_reg r = reg_of(f, longid, "sip:x@192.0.2.1", "c", 1, 60);
    assert_int_equal(client_table_register(f->ct, &r, T0, &o), -EINVAL);
    r = reg_of(f, "16", longcontact, "c", 1, 60);
    assert_int_equal(client_table_register(f->ct, &r, T0, &o), -EINVAL);
    r = reg_of(f, "16", "sip:x@192.0.2.1", longcid, 1, 60);
    assert_int_equal(client_table_register(f->ct, &r, T0, &o), -EINVAL);
    r = reg_of(f, "", "sip:x@192.0.2.1", "c", 1, 60);
    assert_int_equal(client_table_register(f->ct, &r, T0, &o), -EINVAL);
    r = reg_of(f, "16", "sip:x@192.0.2.1", "c", 1, 60);
    r.serving = &unset;
    assert_int_equal(client_table_register(f->ct, &r, T0, &o), -EINVAL);
    assert_int_equal(client_table_count(f->ct), 0);

    /* exactly at the limits is fine */
    longid[CLIENT_ID_MAX] = '\0';
    longcontact[CLIENT_CONTACT_MAX] = '\0';
    longcid[CLIENT_CALL_ID_MAX] = '\0';
    r = reg_of(f, longid, longcontact, longcid, 1, 60);
    assert_int_equal(do_register(f, &r, T0), CLIENT_REG_CREATED);
    assert_string_equal(client_binding_contact(client_table_find(f->ct, longid)), longcontact);
}

/* The budget: at most 300 bytes per binding beyond the strings,
 * counting malloc's 16-byte header on each of the two chunks. */
static void test_memory_per_binding(void **state)
{
    struct fixture *f = *state;
    const size_t n = 20000;
    char id[16], contact[64], cid[32];
    struct client_table_memory m0, m;
    client_table_memory(f->ct, &m0);
    for (size_t i = 0; i < n; i++) {
        snprintf(id, sizeof id, "%zu", 1000000 + i);
        snprintf(contact, sizeof contact, "sip:%s@198.51.100.28:%zu", id, 1024 + i % 60000);
        snprintf(cid, sizeof cid, "reg-%zu@192.0.2.10", i);
        struct client_reg r = reg_of(f, id, contact, cid, 1, 3600);
        do_register(f, &r, T0);
    }
    client_table_memory(f->ct, &m);
    size_t per = (m.overhead - m0.overhead) / n + 2 * 16;
    print_message("client table: %zu bytes per binding beyond %zu bytes of strings\n", per,
                  m.strings / n);
    assert_true(per <= 300);
    assert_true(m.strings > n * 40);
}

/* The scale: a million bindings, every one found again. */
static void test_million_bindings(void **state)
{
    struct fixture *f = *state;
    const size_t n = 1000000;
    char id[16], contact[48];
    for (size_t i = 0; i < n; i++) {
        snprintf(id, sizeof id, "%zu", i);
        snprintf(contact, sizeof contact, "sip:%s@198.51.100.28:%zu", id, 1024 + i % 60000);
        struct client_reg r = reg_of(f, id, contact, "c", 1, 600 + (uint32_t)(i % 3000));
        do_register(f, &r, T0);
    }
    assert_int_equal(client_table_count(f->ct), n);
    for (size_t i = 0; i < n; i += 997) {
        snprintf(id, sizeof id, "%zu", i);
        const struct client_binding *b = client_table_find(f->ct, id);
        assert_non_null(b);
        assert_int_equal(client_binding_expires_at(b), T0 + (600 + i % 3000) * 1000);
    }
    client_table_expire(f->ct, T0 + 3600 * 1000);
    assert_int_equal(client_table_count(f->ct), 0);
    assert_int_equal(client_table_expired(f->ct), n);
}

static void on_stop(struct timer *t, void *arg)
{
    (void)t;
    loop_stop(arg);
}

/* Expiry is the table's own timer, not a side effect of lookups: with the
 * loop running and nobody asking, a 1 s binding is gone after ~2 s. */
static void test_timer_expires_without_lookups(void **state)
{
    struct fixture *f = *state;
    struct loop *l;
    struct timer *stop;
    assert_int_equal(loop_new(&l), 0);
    assert_int_equal(client_table_attach(f->ct, l), 0);
    struct client_reg r = reg_of(f, "16", "sip:16@198.51.100.28:40312", "c1@x", 1, 1);
    do_register(f, &r, loop_now_ms(l));
    struct client_reg r2 = reg_of(f, "17", "sip:17@198.51.100.28:40312", "c1@x", 1, 3600);
    do_register(f, &r2, loop_now_ms(l));
    assert_int_equal(timer_new(&stop, l, on_stop, l), 0);
    timer_start(stop, 2300);
    assert_int_equal(loop_run(l), 0);
    assert_int_equal(client_table_expired(f->ct), 1);
    assert_int_equal(client_table_count(f->ct), 1);
    assert_non_null(client_table_find(f->ct, "17"));
    timer_free(stop);
    client_table_free(f->ct); /* frees its timer before the loop goes */
    f->ct = NULL;
    loop_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_insert_stores_the_binding, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refresh_replaces_the_binding, setup, teardown),
        cmocka_unit_test_setup_teardown(test_out_of_order_register_changes_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_bindings_expire_on_the_wheel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expired_binding_is_not_returned_before_the_sweep,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_expires_zero_for_another_contact_keeps_binding, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_expires_zero_removes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_asker_logic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_asker_logic_ipv6, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bounds_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memory_per_binding, setup, teardown),
        cmocka_unit_test_setup_teardown(test_million_bindings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timer_expires_without_lookups, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

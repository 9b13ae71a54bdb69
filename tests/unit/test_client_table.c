/* client_table: redirectd's client table 104 — insert, refresh, out-of-order
 * REGISTERs, expiry (by the wheel and by the loop's timer), removal, the
 * asker logic of design.md decision 3, bounds, memory and scale. */
#include "helpers.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "client_table.h"
#include "pinhole/log.h"
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
    assert_int_equal(client_table_new(&f.ct, 16, 10), 0);
    f.proxy_a = test_addr("192.0.2.10:5060");
    f.proxy_a_src = test_addr("192.0.2.11:5999");
    f.proxy_b = test_addr("198.51.100.7:5060");
    *state = &f;
    return 0;
}

/* The same with max_contacts 2. */
static int setup_max2(void **state)
{
    setup(state);
    struct fixture *f = *state;
    client_table_free(f->ct);
    assert_int_equal(client_table_new(&f->ct, 4, 2), 0);
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
                           .expires_s = expires,
                           .q = -1};
    return r;
}

/* The first 302 target into buf (the tests that predate forking). */
static int redirect_one(struct fixture *f, const char *id, const struct addr *asker, uint64_t now,
                        char *buf, size_t len)
{
    struct client_target t[CLIENT_CONTACTS_MAX];
    int n = client_table_redirect(f->ct, id, asker, now, t, CLIENT_CONTACTS_MAX);
    if (n > 0) {
        size_t ulen = strnlen(t[0].uri, sizeof t[0].uri);
        assert_true(ulen < len);
        memcpy(buf, t[0].uri, ulen + 1);
    }
    return n < 0 ? n : 0;
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
    /* an unregister of the stored Contact under the stored Call-ID, late */
    struct client_reg late_unreg = reg_of(f, "16", "sip:16@198.51.100.28:40312", "c1@x", 6, 0);
    assert_int_equal(client_table_register(f->ct, &late_unreg, T0 + 1000, &o), -ESTALE);
    const struct client_binding *b = client_table_find(f->ct, "16");
    assert_non_null(b);
    assert_string_equal(client_binding_contact(b), "sip:16@198.51.100.28:40312");
    assert_int_equal(client_binding_expires_at(b), T0 + 60000);

    /* a new Call-ID for the same Contact (the phone rebooted) is applied
     * whatever its CSeq */
    struct client_reg fresh = reg_of(f, "16", "sip:16@198.51.100.28:40312", "c2@x", 1, 90);
    assert_int_equal(do_register(f, &fresh, T0 + 2000), CLIENT_REG_REFRESHED);
    assert_int_equal(client_table_count(f->ct), 1);
    assert_int_equal(client_binding_expires_at(client_table_find(f->ct, "16")), T0 + 92000);
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
    assert_int_equal(redirect_one(f, "16", &f->proxy_a, T0 + 10000, buf, sizeof buf), -ENOENT);
    /* an older CSeq of the same Call-ID is no longer "out of order": the
     * due binding is gone, so this one is new */
    r = reg_of(f, "16", "sip:16@198.51.100.28:40999", "c1@x", 1, 10);
    assert_int_equal(do_register(f, &r, T0 + 10500), CLIENT_REG_CREATED);
    assert_int_equal(client_table_count(f->ct), 1);
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
    assert_int_equal(redirect_one(f, "16", &f->proxy_a, T0, buf, sizeof buf), 0);
    assert_string_equal(buf, "sip:16@198.51.100.28:40312;ob");
    assert_int_equal(redirect_one(f, "16", &f->proxy_a_src, T0, buf, sizeof buf), 0);
    assert_string_equal(buf, "sip:16@198.51.100.28:40312;ob");
    /* fig. 2b: another proxy is sent to the serving proxy */
    assert_int_equal(redirect_one(f, "16", &f->proxy_b, T0, buf, sizeof buf), 0);
    assert_string_equal(buf, "sip:16@192.0.2.10:5060");
    /* same host, other port: another proxy instance */
    struct addr a_other_port = test_addr("192.0.2.10:5062");
    assert_int_equal(redirect_one(f, "16", &a_other_port, T0, buf, sizeof buf), 0);
    assert_string_equal(buf, "sip:16@192.0.2.10:5060");

    assert_int_equal(redirect_one(f, "99", &f->proxy_a, T0, buf, sizeof buf), -ENOENT);
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
    assert_int_equal(redirect_one(f, "20", &f->proxy_b, T0, buf, sizeof buf), 0);
    assert_string_equal(buf, "sip:20@[2001:db8::5]:5070");
    assert_int_equal(redirect_one(f, "20", &v6, T0, buf, sizeof buf), 0);
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

/* ---- several bindings per ID (RFC 3261 10.3) ---- */

#define DESK "sip:16@198.51.100.28:40312"
#define SOFT "sip:16@203.0.113.50:5060"
#define CELL "sip:16@203.0.113.77:41000"

static void apply_ok(struct fixture *f, const struct client_reg *regs, size_t n, uint64_t now,
                     enum client_reg_outcome *outcomes)
{
    assert_int_equal(client_table_apply(f->ct, regs, n, now, outcomes), 0);
}

/* The binding of id whose Contact is contact, live or not, or NULL. */
static const struct client_binding *binding_of(const struct client_table *ct, const char *id,
                                               const char *contact)
{
    for (const struct client_binding *b = client_table_find(ct, id); b; b = client_binding_next(b))
        if (strcmp(client_binding_contact(b), contact) == 0)
            return b;
    return NULL;
}

static size_t chain_length_of(const struct client_table *ct, const char *id)
{
    size_t n = 0;
    for (const struct client_binding *b = client_table_find(ct, id); b; b = client_binding_next(b))
        n++;
    return n;
}

/* Asserts client_table_bindings lists exactly want[0..n) in that order. */
static void assert_bindings(const struct client_table *ct, const char *id, uint64_t now,
                            const char *const *want, size_t n)
{
    const struct client_binding *bs[CLIENT_CONTACTS_MAX];
    size_t got = client_table_bindings(ct, id, now, bs, CLIENT_CONTACTS_MAX);
    for (size_t i = 0; i < got; i++)
        print_message("  binding %zu: %s q=%d\n", i, client_binding_contact(bs[i]),
                      client_binding_q(bs[i]));
    assert_int_equal(got, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(client_binding_contact(bs[i]), want[i]);
}

static void test_two_contacts_expire_on_their_own(void **state)
{
    struct fixture *f = *state;
    struct client_reg desk = reg_of(f, "16", DESK, "desk@x", 1, 10);
    struct client_reg soft = reg_of(f, "16", SOFT, "soft@x", 1, 30);
    struct client_table_memory m;

    assert_int_equal(do_register(f, &desk, T0), CLIENT_REG_CREATED);
    assert_int_equal(do_register(f, &soft, T0), CLIENT_REG_CREATED);
    assert_int_equal(client_table_count(f->ct), 2);
    assert_int_equal(client_binding_expires_at(binding_of(f->ct, "16", DESK)), T0 + 10000);
    assert_int_equal(client_binding_expires_at(binding_of(f->ct, "16", SOFT)), T0 + 30000);

    client_table_expire(f->ct, T0 + 9999);
    assert_int_equal(client_table_count(f->ct), 2);
    assert_int_equal(client_table_expired(f->ct), 0);

    /* the desk phone's deadline: only it goes */
    client_table_expire(f->ct, T0 + 10000);
    assert_int_equal(client_table_count(f->ct), 1);
    assert_int_equal(client_table_expired(f->ct), 1);
    assert_null(binding_of(f->ct, "16", DESK));
    assert_non_null(binding_of(f->ct, "16", SOFT));
    assert_int_equal(chain_length_of(f->ct, "16"), 1);
    assert_non_null(client_table_lookup(f->ct, "16", T0 + 10000));

    /* the entry went back on the wheel for the softphone's deadline */
    client_table_expire(f->ct, T0 + 29999);
    assert_int_equal(client_table_count(f->ct), 1);
    client_table_expire(f->ct, T0 + 30000);
    assert_int_equal(client_table_count(f->ct), 0);
    assert_int_equal(client_table_expired(f->ct), 2);
    assert_null(client_table_find(f->ct, "16"));
    client_table_memory(f->ct, &m);
    assert_int_equal(m.strings, 0);
}

/* Two deadlines inside one wheel tick (1 s): the sweep that takes the
 * first must not lose the second, which is re-inserted into the slot being
 * walked. */
static void test_two_deadlines_in_one_tick(void **state)
{
    struct fixture *f = *state;
    struct client_reg desk = reg_of(f, "16", DESK, "desk@x", 1, 10);
    struct client_reg soft = reg_of(f, "16", SOFT, "soft@x", 1, 10);
    struct client_table_memory m;
    do_register(f, &desk, T0);       /* due T0 + 10000 */
    do_register(f, &soft, T0 + 500); /* due T0 + 10500 */

    client_table_expire(f->ct, T0 + 10000);
    assert_int_equal(client_table_count(f->ct), 1);
    assert_non_null(binding_of(f->ct, "16", SOFT));
    client_table_expire(f->ct, T0 + 10400);
    assert_int_equal(client_table_count(f->ct), 1);
    client_table_expire(f->ct, T0 + 10500);
    assert_int_equal(client_table_count(f->ct), 0);
    assert_int_equal(client_table_expired(f->ct), 2);
    client_table_memory(f->ct, &m);
    assert_int_equal(m.strings, 0);
}

/* A refresh of the binding that is due first moves the entry's deadline to
 * the next one; the old deadline takes nothing. */
static void test_refresh_of_the_soonest_moves_the_deadline(void **state)
{
    struct fixture *f = *state;
    struct client_reg desk = reg_of(f, "16", DESK, "desk@x", 1, 10);
    struct client_reg soft = reg_of(f, "16", SOFT, "soft@x", 1, 30);
    do_register(f, &desk, T0);
    do_register(f, &soft, T0);
    desk = reg_of(f, "16", DESK, "desk@x", 2, 60);
    assert_int_equal(do_register(f, &desk, T0 + 5000), CLIENT_REG_REFRESHED);
    assert_int_equal(client_table_count(f->ct), 2);

    client_table_expire(f->ct, T0 + 10000);
    assert_int_equal(client_table_count(f->ct), 2);
    assert_int_equal(client_table_expired(f->ct), 0);
    client_table_expire(f->ct, T0 + 30000);
    assert_int_equal(client_table_count(f->ct), 1);
    assert_non_null(binding_of(f->ct, "16", DESK));
    client_table_expire(f->ct, T0 + 64999);
    assert_int_equal(client_table_count(f->ct), 1);
    client_table_expire(f->ct, T0 + 65000);
    assert_int_equal(client_table_count(f->ct), 0);
    assert_int_equal(client_table_expired(f->ct), 2);
}

/* RFC 3261 10.2.4: one phone keeps its Call-ID; a one-Contact REGISTER
 * under it with a new Contact is that phone's NAT port moving. */
static void test_same_call_id_new_contact_replaces(void **state)
{
    struct fixture *f = *state;
    struct client_reg r = reg_of(f, "16", DESK, "desk@x", 1, 60);
    do_register(f, &r, T0);
    r = reg_of(f, "16", "sip:16@198.51.100.28:50000", "desk@x", 2, 60);
    assert_int_equal(do_register(f, &r, T0 + 1000), CLIENT_REG_REFRESHED);
    assert_int_equal(client_table_count(f->ct), 1);
    assert_null(binding_of(f->ct, "16", DESK));
    assert_non_null(binding_of(f->ct, "16", "sip:16@198.51.100.28:50000"));

    /* with another phone bound, only the one of that Call-ID is replaced */
    struct client_reg soft = reg_of(f, "16", SOFT, "soft@x", 1, 60);
    assert_int_equal(do_register(f, &soft, T0 + 2000), CLIENT_REG_CREATED);
    r = reg_of(f, "16", "sip:16@198.51.100.28:50001", "desk@x", 3, 90);
    assert_int_equal(do_register(f, &r, T0 + 3000), CLIENT_REG_REFRESHED);
    assert_int_equal(client_table_count(f->ct), 2);
    assert_null(binding_of(f->ct, "16", "sip:16@198.51.100.28:50000"));
    const struct client_binding *b = binding_of(f->ct, "16", "sip:16@198.51.100.28:50001");
    assert_non_null(b);
    assert_int_equal(client_binding_cseq(b), 3);
    assert_int_equal(client_binding_expires_at(b), T0 + 93000);
    b = binding_of(f->ct, "16", SOFT);
    assert_non_null(b);
    assert_string_equal(client_binding_call_id(b), "soft@x");
    assert_int_equal(client_binding_expires_at(b), T0 + 62000);

    /* the replaced binding's deadline no longer applies */
    client_table_expire(f->ct, T0 + 62000);
    assert_int_equal(client_table_count(f->ct), 1);
    assert_non_null(binding_of(f->ct, "16", "sip:16@198.51.100.28:50001"));
    assert_int_equal(client_table_expired(f->ct), 1);

    /* an unregister names what it removes: a new Contact under the Call-ID
     * with expiry 0 removes nothing */
    r = reg_of(f, "16", "sip:16@198.51.100.28:50002", "desk@x", 4, 0);
    assert_int_equal(do_register(f, &r, T0 + 63000), CLIENT_REG_ABSENT);
    assert_int_equal(client_table_count(f->ct), 1);
}

/* The Call-ID rule is for a one-Contact REGISTER: one phone listing two
 * Contacts gets two bindings. */
static void test_apply_two_contacts_with_one_call_id_creates_two(void **state)
{
    struct fixture *f = *state;
    struct client_reg regs[2] = {reg_of(f, "16", DESK, "desk@x", 1, 60),
                                 reg_of(f, "16", SOFT, "desk@x", 1, 120)};
    enum client_reg_outcome o[2] = {(enum client_reg_outcome) - 1, (enum client_reg_outcome) - 1};
    regs[1].q = 500;
    apply_ok(f, regs, 2, T0, o);
    assert_int_equal(o[0], CLIENT_REG_CREATED);
    assert_int_equal(o[1], CLIENT_REG_CREATED);
    assert_int_equal(client_table_count(f->ct), 2);
    assert_int_equal(client_binding_expires_at(binding_of(f->ct, "16", DESK)), T0 + 60000);
    assert_int_equal(client_binding_expires_at(binding_of(f->ct, "16", SOFT)), T0 + 120000);
    assert_int_equal(client_binding_q(binding_of(f->ct, "16", DESK)), -1);
    assert_int_equal(client_binding_q(binding_of(f->ct, "16", SOFT)), 500);

    /* the same phone again with both plus a third under its Call-ID: the
     * two refresh, the third is new (no Call-ID replacement either) */
    struct client_reg again[3] = {reg_of(f, "16", DESK, "desk@x", 2, 60),
                                  reg_of(f, "16", SOFT, "desk@x", 2, 60),
                                  reg_of(f, "16", CELL, "desk@x", 2, 60)};
    enum client_reg_outcome o3[3];
    apply_ok(f, again, 3, T0 + 1000, o3);
    assert_int_equal(o3[0], CLIENT_REG_REFRESHED);
    assert_int_equal(o3[1], CLIENT_REG_REFRESHED);
    assert_int_equal(o3[2], CLIENT_REG_CREATED);
    assert_int_equal(client_table_count(f->ct), 3);
    assert_int_equal(client_binding_q(binding_of(f->ct, "16", SOFT)), -1); /* q is replaced too */

    /* outcomes may be NULL */
    struct client_reg one[2] = {reg_of(f, "16", DESK, "desk@x", 3, 60),
                                reg_of(f, "16", SOFT, "desk@x", 3, 60)};
    apply_ok(f, one, 2, T0 + 2000, NULL);
    assert_int_equal(client_table_count(f->ct), 3);
}

static void test_expires_zero_removes_only_that_contact(void **state)
{
    struct fixture *f = *state;
    struct client_reg regs[3] = {reg_of(f, "16", DESK, "desk@x", 1, 60),
                                 reg_of(f, "16", SOFT, "desk@x", 1, 60),
                                 reg_of(f, "16", CELL, "desk@x", 1, 60)};
    enum client_reg_outcome o[2];
    apply_ok(f, regs, 3, T0, NULL);

    struct client_reg unreg = reg_of(f, "16", SOFT, "desk@x", 2, 0);
    assert_int_equal(do_register(f, &unreg, T0 + 1000), CLIENT_REG_REMOVED);
    assert_int_equal(client_table_count(f->ct), 2);
    assert_null(binding_of(f->ct, "16", SOFT));
    assert_non_null(binding_of(f->ct, "16", DESK));
    assert_non_null(binding_of(f->ct, "16", CELL));

    /* one REGISTER removing one and refreshing another */
    struct client_reg mixed[2] = {reg_of(f, "16", DESK, "desk@x", 3, 0),
                                  reg_of(f, "16", CELL, "desk@x", 3, 300)};
    apply_ok(f, mixed, 2, T0 + 2000, o);
    assert_int_equal(o[0], CLIENT_REG_REMOVED);
    assert_int_equal(o[1], CLIENT_REG_REFRESHED);
    assert_int_equal(client_table_count(f->ct), 1);
    assert_int_equal(client_binding_expires_at(binding_of(f->ct, "16", CELL)), T0 + 302000);

    /* removed, not expired: the old deadlines take nothing */
    client_table_expire(f->ct, T0 + 61000);
    assert_int_equal(client_table_expired(f->ct), 0);
    assert_int_equal(client_table_count(f->ct), 1);
}

static void test_star_removes_every_contact(void **state)
{
    struct fixture *f = *state;
    struct client_reg desk = reg_of(f, "16", DESK, "desk@x", 1, 60);
    struct client_reg soft = reg_of(f, "16", SOFT, "soft@x", 7, 60);
    struct client_reg other = reg_of(f, "17", "sip:17@203.0.113.9:5060", "o@x", 1, 60);
    struct client_table_memory m0, m;
    client_table_memory(f->ct, &m0);
    do_register(f, &other, T0);
    client_table_memory(f->ct, &m0);
    do_register(f, &desk, T0);
    do_register(f, &soft, T0);
    assert_int_equal(client_table_count(f->ct), 3);

    struct client_reg star = reg_of(f, "16", "*", "desk@x", 2, 0);
    assert_int_equal(do_register(f, &star, T0 + 1000), CLIENT_REG_REMOVED);
    assert_null(client_table_find(f->ct, "16"));
    assert_int_equal(client_table_count(f->ct), 1);
    assert_non_null(client_table_find(f->ct, "17")); /* another ID is untouched */
    client_table_memory(f->ct, &m);
    assert_int_equal(m.strings, m0.strings);
    assert_int_equal(m.overhead, m0.overhead);

    client_table_expire(f->ct, T0 + 59999);
    assert_int_equal(client_table_expired(f->ct), 0);
    client_table_expire(f->ct, T0 + 60000);
    assert_int_equal(client_table_expired(f->ct), 1); /* 17 only */
    client_table_memory(f->ct, &m);
    assert_int_equal(m.strings, 0);
}

/* A "*" under the Call-ID of one binding with a CSeq not above its own is
 * late: nothing is removed. */
static void test_late_star_removes_nothing(void **state)
{
    struct fixture *f = *state;
    struct client_reg desk = reg_of(f, "16", DESK, "desk@x", 5, 60);
    struct client_reg soft = reg_of(f, "16", SOFT, "soft@x", 1, 60);
    enum client_reg_outcome o;
    do_register(f, &desk, T0);
    do_register(f, &soft, T0);
    struct client_reg star = reg_of(f, "16", "*", "desk@x", 5, 0);
    assert_int_equal(client_table_register(f->ct, &star, T0 + 1000, &o), -ESTALE);
    assert_int_equal(client_table_count(f->ct), 2);
}

static void test_max_contacts_evicts_the_soonest(void **state)
{
    struct fixture *f = *state;
    struct client_table_memory m;
    enum client_reg_outcome o;

    struct client_reg desk = reg_of(f, "16", DESK, "desk@x", 1, 60);
    struct client_reg soft = reg_of(f, "16", SOFT, "soft@x", 1, 30);
    struct client_reg cell = reg_of(f, "16", CELL, "cell@x", 1, 60);
    assert_int_equal(do_register(f, &desk, T0), CLIENT_REG_CREATED);
    assert_int_equal(do_register(f, &soft, T0), CLIENT_REG_CREATED);
    assert_int_equal(client_table_register(f->ct, &cell, T0 + 1000, &o), 0);
    assert_int_equal(o, CLIENT_REG_CREATED);
    assert_int_equal(client_table_count(f->ct), 2);
    assert_null(binding_of(f->ct, "16", SOFT)); /* due at T0 + 30 s: the soonest */
    assert_non_null(binding_of(f->ct, "16", DESK));
    assert_non_null(binding_of(f->ct, "16", CELL));

    /* at the bound a refresh, by Contact or by Call-ID, evicts nothing */
    desk = reg_of(f, "16", DESK, "desk@x", 2, 20);
    assert_int_equal(do_register(f, &desk, T0 + 2000), CLIENT_REG_REFRESHED);
    cell = reg_of(f, "16", "sip:16@203.0.113.77:41001", "cell@x", 2, 60);
    assert_int_equal(do_register(f, &cell, T0 + 2000), CLIENT_REG_REFRESHED);
    assert_int_equal(client_table_count(f->ct), 2);
    assert_non_null(binding_of(f->ct, "16", DESK));

    /* the evicted binding's deadline takes nothing; evicted is not expired */
    client_table_expire(f->ct, T0 + 21999);
    assert_int_equal(client_table_count(f->ct), 2);
    assert_int_equal(client_table_expired(f->ct), 0);

    /* the desk phone now is the soonest (T0 + 22 s) */
    soft = reg_of(f, "16", SOFT, "soft@x", 2, 3600);
    assert_int_equal(do_register(f, &soft, T0 + 3000), CLIENT_REG_CREATED);
    assert_null(binding_of(f->ct, "16", DESK));
    assert_non_null(binding_of(f->ct, "16", SOFT));
    assert_int_equal(client_table_count(f->ct), 2);

    /* one request listing more Contacts than the bound keeps the bound */
    struct client_reg three[3] = {reg_of(f, "17", "sip:17@192.0.2.1:1", "x@x", 1, 60),
                                  reg_of(f, "17", "sip:17@192.0.2.1:2", "x@x", 1, 70),
                                  reg_of(f, "17", "sip:17@192.0.2.1:3", "x@x", 1, 80)};
    apply_ok(f, three, 3, T0, NULL);
    assert_int_equal(chain_length_of(f->ct, "17"), 2);
    assert_int_equal(client_table_count(f->ct), 4);

    /* every other ID has a bound of its own */
    struct client_reg other = reg_of(f, "18", "sip:18@192.0.2.1:1", "y@x", 1, 10);
    assert_int_equal(do_register(f, &other, T0 + 3000), CLIENT_REG_CREATED);
    assert_int_equal(client_table_count(f->ct), 5);

    client_table_expire(f->ct, T0 + 4000 * 1000);
    assert_int_equal(client_table_count(f->ct), 0);
    assert_int_equal(client_table_expired(f->ct), 5);
    client_table_memory(f->ct, &m);
    assert_int_equal(m.strings, 0);
}

/* A request within max_contacts binds every Contact it lists: room is made
 * by evicting other requests' bindings, never one it has just created
 * (whose outcome would say CREATED for a binding that is gone). */
static void test_apply_never_evicts_its_own_contacts(void **state)
{
    struct fixture *f = *state;
    enum client_reg_outcome o[2];
    struct client_reg old = reg_of(f, "16", CELL, "cell@x", 1, 3600);
    do_register(f, &old, T0);

    /* the desk phone asks for 10 s, the softphone for an hour */
    struct client_reg regs[2] = {reg_of(f, "16", DESK, "two@x", 1, 10),
                                 reg_of(f, "16", SOFT, "two@x", 1, 3600)};
    apply_ok(f, regs, 2, T0 + 1000, o);
    assert_int_equal(o[0], CLIENT_REG_CREATED);
    assert_int_equal(o[1], CLIENT_REG_CREATED);
    assert_int_equal(client_table_count(f->ct), 2);
    assert_non_null(binding_of(f->ct, "16", DESK));
    assert_non_null(binding_of(f->ct, "16", SOFT));
    assert_null(binding_of(f->ct, "16", CELL));

    /* the same at one instant: equal expiries */
    struct client_reg old2 = reg_of(f, "17", "sip:17@192.0.2.1:1", "old@x", 1, 60);
    struct client_reg two[2] = {reg_of(f, "17", "sip:17@192.0.2.1:2", "new@x", 1, 60),
                                reg_of(f, "17", "sip:17@192.0.2.1:3", "new@x", 1, 60)};
    do_register(f, &old2, T0);
    apply_ok(f, two, 2, T0, o);
    assert_int_equal(chain_length_of(f->ct, "17"), 2);
    assert_non_null(binding_of(f->ct, "17", "sip:17@192.0.2.1:2"));
    assert_non_null(binding_of(f->ct, "17", "sip:17@192.0.2.1:3"));
}

/* A reload lowering max_contacts holds new IDs to it; out of range is
 * ignored. */
static void test_set_max_contacts(void **state)
{
    struct fixture *f = *state;
    char contact[64];
    client_table_set_max_contacts(f->ct, 0);
    client_table_set_max_contacts(f->ct, CLIENT_CONTACTS_MAX + 1);
    for (unsigned i = 0; i < 12; i++) {
        snprintf(contact, sizeof contact, "sip:16@192.0.2.1:%u", 1000 + i);
        struct client_reg r = reg_of(f, "16", contact, contact, 1, 60 + i);
        do_register(f, &r, T0);
    }
    assert_int_equal(client_table_count(f->ct), 10); /* still the 10 of setup */

    client_table_set_max_contacts(f->ct, 3);
    for (unsigned i = 0; i < 5; i++) {
        snprintf(contact, sizeof contact, "sip:17@192.0.2.1:%u", 1000 + i);
        struct client_reg r = reg_of(f, "17", contact, contact, 1, 60 + i);
        do_register(f, &r, T0);
    }
    assert_int_equal(chain_length_of(f->ct, "17"), 3);
}

static void test_bindings_sorted_by_q_then_newest(void **state)
{
    struct fixture *f = *state;
    struct client_reg a = reg_of(f, "16", "sip:16@192.0.2.1:1", "a@x", 1, 60);
    struct client_reg b = reg_of(f, "16", "sip:16@192.0.2.1:2", "b@x", 1, 60);
    struct client_reg c = reg_of(f, "16", "sip:16@192.0.2.1:3", "c@x", 1, 60);
    struct client_reg d = reg_of(f, "16", "sip:16@192.0.2.1:4", "d@x", 1, 60);
    struct client_reg e = reg_of(f, "16", "sip:16@192.0.2.1:5", "e@x", 1, 60);
    struct client_reg g = reg_of(f, "16", "sip:16@192.0.2.1:6", "g@x", 1, 60);
    a.q = 300;
    /* b: no q, counts as 1.0 */
    c.q = 900;
    d.q = 900;
    e.q = 0;
    g.q = 1000;
    do_register(f, &a, T0);
    do_register(f, &b, T0);
    do_register(f, &c, T0);
    do_register(f, &d, T0);
    do_register(f, &e, T0);
    do_register(f, &g, T0);
    const char *const want[] = {"sip:16@192.0.2.1:6", "sip:16@192.0.2.1:2", "sip:16@192.0.2.1:4",
                                "sip:16@192.0.2.1:3", "sip:16@192.0.2.1:1", "sip:16@192.0.2.1:5"};
    assert_bindings(f->ct, "16", T0, want, 6);

    /* a refresh keeps its place among equal q */
    c.cseq = 2;
    assert_int_equal(do_register(f, &c, T0 + 1000), CLIENT_REG_REFRESHED);
    assert_bindings(f->ct, "16", T0 + 1000, want, 6);

    /* a refresh with another q moves it */
    a.cseq = 2;
    a.q = 950;
    do_register(f, &a, T0 + 1000);
    const char *const moved[] = {"sip:16@192.0.2.1:6", "sip:16@192.0.2.1:2", "sip:16@192.0.2.1:1",
                                 "sip:16@192.0.2.1:4", "sip:16@192.0.2.1:3", "sip:16@192.0.2.1:5"};
    assert_bindings(f->ct, "16", T0 + 1000, moved, 6);
    assert_int_equal(client_binding_q(binding_of(f->ct, "16", "sip:16@192.0.2.1:1")), 950);
    assert_int_equal(client_binding_q(binding_of(f->ct, "16", "sip:16@192.0.2.1:2")), -1);

    /* due but not swept: left out */
    d.cseq = 2;
    d.expires_s = 5;
    do_register(f, &d, T0 + 2000);
    const char *const live[] = {"sip:16@192.0.2.1:6", "sip:16@192.0.2.1:2", "sip:16@192.0.2.1:1",
                                "sip:16@192.0.2.1:3", "sip:16@192.0.2.1:5"};
    assert_bindings(f->ct, "16", T0 + 7000, live, 5);
    assert_int_equal(client_table_count(f->ct), 6);

    /* none for an unknown ID */
    const struct client_binding *bs[4];
    assert_int_equal(client_table_bindings(f->ct, "17", T0, bs, 4), 0);
}

/* Fewer slots than bindings: the best ones, best first. */
static void test_bindings_truncated_keeps_the_best(void **state)
{
    struct fixture *f = *state;
    struct client_reg lo = reg_of(f, "16", "sip:16@192.0.2.1:1", "a@x", 1, 60);
    struct client_reg hi = reg_of(f, "16", "sip:16@192.0.2.1:2", "b@x", 1, 60);
    struct client_reg mid = reg_of(f, "16", "sip:16@192.0.2.1:3", "c@x", 1, 60);
    struct client_reg low2 = reg_of(f, "16", "sip:16@192.0.2.1:4", "d@x", 1, 60);
    const struct client_binding *bs[2];
    lo.q = 100;
    hi.q = 900;
    mid.q = 500;
    low2.q = 200;
    do_register(f, &hi, T0);
    do_register(f, &mid, T0);
    do_register(f, &lo, T0);
    do_register(f, &low2, T0);
    assert_int_equal(client_table_bindings(f->ct, "16", T0, bs, 2), 2);
    assert_string_equal(client_binding_contact(bs[0]), "sip:16@192.0.2.1:2");
    assert_string_equal(client_binding_contact(bs[1]), "sip:16@192.0.2.1:3");

    struct client_target t[1];
    assert_int_equal(client_table_redirect(f->ct, "16", &f->proxy_a, T0, t, 1), 1);
    assert_string_equal(t[0].uri, "sip:16@192.0.2.1:2");
    assert_int_equal(t[0].q, 900);
}

static void test_redirect_lists_targets_in_q_order(void **state)
{
    struct fixture *f = *state;
    struct client_target t[CLIENT_CONTACTS_MAX];
    struct client_reg lo = reg_of(f, "16", DESK, "desk@x", 1, 60);
    struct client_reg hi = reg_of(f, "16", SOFT, "soft@x", 1, 60);
    struct client_reg none = reg_of(f, "16", CELL, "cell@x", 1, 60);
    lo.q = 300;
    hi.q = 900;
    do_register(f, &hi, T0); /* created first: q, not age, puts it ahead of lo */
    do_register(f, &lo, T0);
    do_register(f, &none, T0);

    assert_int_equal(client_table_redirect(f->ct, "16", &f->proxy_a, T0, t, CLIENT_CONTACTS_MAX),
                     3);
    assert_string_equal(t[0].uri, CELL);
    assert_int_equal(t[0].q, -1);
    assert_string_equal(t[1].uri, SOFT);
    assert_int_equal(t[1].q, 900);
    assert_string_equal(t[2].uri, DESK);
    assert_int_equal(t[2].q, 300);

    /* max bounds what is written */
    assert_int_equal(client_table_redirect(f->ct, "16", &f->proxy_a, T0, t, 2), 2);
    assert_string_equal(t[1].uri, SOFT);

    /* every binding due: -ENOENT */
    assert_int_equal(
        client_table_redirect(f->ct, "16", &f->proxy_a, T0 + 60000, t, CLIENT_CONTACTS_MAX),
        -ENOENT);
}

/* design.md decision 3 with forking: the serving proxy gets each phone's
 * own channel; any other proxy is sent once to each serving proxy, which
 * forks to its own phones. */
static void test_redirect_dedups_per_serving_proxy(void **state)
{
    struct fixture *f = *state;
    struct client_target t[CLIENT_CONTACTS_MAX];
    struct addr third = test_addr("203.0.113.200:5060");
    struct client_reg desk = reg_of(f, "16", DESK, "desk@x", 1, 60);
    struct client_reg soft = reg_of(f, "16", SOFT, "soft@x", 1, 60);
    desk.q = 800;
    soft.q = 400;
    do_register(f, &desk, T0);
    do_register(f, &soft, T0);

    /* the serving proxy, by Path address or by source: both channels */
    assert_int_equal(client_table_redirect(f->ct, "16", &f->proxy_a, T0, t, CLIENT_CONTACTS_MAX),
                     2);
    assert_string_equal(t[0].uri, DESK);
    assert_string_equal(t[1].uri, SOFT);
    assert_int_equal(
        client_table_redirect(f->ct, "16", &f->proxy_a_src, T0, t, CLIENT_CONTACTS_MAX), 2);
    assert_string_equal(t[0].uri, DESK);
    assert_string_equal(t[1].uri, SOFT);

    /* another proxy: the serving proxy once, with the best q */
    assert_int_equal(client_table_redirect(f->ct, "16", &f->proxy_b, T0, t, CLIENT_CONTACTS_MAX),
                     1);
    assert_string_equal(t[0].uri, "sip:16@192.0.2.10:5060");
    assert_int_equal(t[0].q, 800);

    /* a third phone served by proxy B, best q of all */
    struct client_reg cell = reg_of(f, "16", CELL, "cell@x", 1, 60);
    cell.serving = &f->proxy_b;
    cell.source = &f->proxy_b;
    cell.q = 1000;
    do_register(f, &cell, T0);

    assert_int_equal(client_table_redirect(f->ct, "16", &f->proxy_a, T0, t, CLIENT_CONTACTS_MAX),
                     3);
    assert_string_equal(t[0].uri, "sip:16@198.51.100.7:5060");
    assert_int_equal(t[0].q, 1000);
    assert_string_equal(t[1].uri, DESK);
    assert_string_equal(t[2].uri, SOFT);

    assert_int_equal(client_table_redirect(f->ct, "16", &f->proxy_b, T0, t, CLIENT_CONTACTS_MAX),
                     2);
    assert_string_equal(t[0].uri, CELL);
    assert_string_equal(t[1].uri, "sip:16@192.0.2.10:5060");
    assert_int_equal(t[1].q, 800);

    assert_int_equal(client_table_redirect(f->ct, "16", &third, T0, t, CLIENT_CONTACTS_MAX), 2);
    assert_string_equal(t[0].uri, "sip:16@198.51.100.7:5060");
    assert_string_equal(t[1].uri, "sip:16@192.0.2.10:5060");

    /* no asker, or an unset one, is nobody's serving proxy */
    struct addr unset;
    memset(&unset, 0, sizeof unset);
    assert_int_equal(client_table_redirect(f->ct, "16", &unset, T0, t, CLIENT_CONTACTS_MAX), 2);
    assert_int_equal(client_table_redirect(f->ct, "16", NULL, T0, t, CLIENT_CONTACTS_MAX), 2);
}

/* RFC 3261 10.3 step 7 with several bindings: one stale Contact makes the
 * whole request out of order; no binding changes. */
static void test_stale_register_changes_no_binding(void **state)
{
    struct fixture *f = *state;
    struct client_reg both[2] = {reg_of(f, "16", DESK, "desk@x", 5, 60),
                                 reg_of(f, "16", SOFT, "desk@x", 5, 60)};
    struct client_reg cell = reg_of(f, "16", CELL, "cell@x", 9, 60);
    enum client_reg_outcome o[2] = {(enum client_reg_outcome) - 1, (enum client_reg_outcome) - 1};
    struct client_table_memory m0, m;
    apply_ok(f, both, 2, T0, NULL);
    do_register(f, &cell, T0);
    client_table_memory(f->ct, &m0);

    /* late: removes DESK, adds a new one, under desk@x CSeq 4 */
    struct client_reg late[2] = {reg_of(f, "16", DESK, "desk@x", 4, 0),
                                 reg_of(f, "16", "sip:16@192.0.2.99:1", "desk@x", 4, 300)};
    assert_int_equal(client_table_apply(f->ct, late, 2, T0 + 1000, o), -ESTALE);
    /* a fresh Contact first, the stale one second */
    struct client_reg late2[2] = {reg_of(f, "16", "sip:16@192.0.2.99:1", "new@x", 1, 300),
                                  reg_of(f, "16", SOFT, "desk@x", 5, 300)};
    assert_int_equal(client_table_apply(f->ct, late2, 2, T0 + 1000, o), -ESTALE);
    /* the same CSeq as stored is not above it */
    struct client_reg cell_again = reg_of(f, "16", CELL, "cell@x", 9, 3600);
    cell_again.q = 100;
    assert_int_equal(client_table_apply(f->ct, &cell_again, 1, T0 + 1000, o), -ESTALE);

    assert_int_equal(client_table_count(f->ct), 3);
    assert_null(binding_of(f->ct, "16", "sip:16@192.0.2.99:1"));
    const struct client_binding *b = binding_of(f->ct, "16", DESK);
    assert_non_null(b);
    assert_int_equal(client_binding_cseq(b), 5);
    assert_int_equal(client_binding_expires_at(b), T0 + 60000);
    b = binding_of(f->ct, "16", SOFT);
    assert_non_null(b);
    assert_int_equal(client_binding_cseq(b), 5);
    assert_int_equal(client_binding_expires_at(b), T0 + 60000);
    b = binding_of(f->ct, "16", CELL);
    assert_int_equal(client_binding_cseq(b), 9);
    assert_int_equal(client_binding_q(b), -1);
    assert_int_equal(client_binding_expires_at(b), T0 + 60000);
    client_table_memory(f->ct, &m);
    assert_int_equal(m.strings, m0.strings);
    assert_int_equal(m.overhead, m0.overhead);

    /* the next CSeq is applied */
    late[0].cseq = late[1].cseq = 6;
    apply_ok(f, late, 2, T0 + 1000, o);
    assert_int_equal(o[0], CLIENT_REG_REMOVED);
    assert_int_equal(o[1], CLIENT_REG_CREATED);
}

static void test_apply_refuses_bad_input(void **state)
{
    struct fixture *f = *state;
    struct client_reg regs[CLIENT_CONTACTS_MAX + 1];
    char contacts[CLIENT_CONTACTS_MAX + 1][48];
    enum client_reg_outcome o[CLIENT_CONTACTS_MAX + 1];
    struct client_table *ct;

    for (size_t i = 0; i <= CLIENT_CONTACTS_MAX; i++) {
        snprintf(contacts[i], sizeof contacts[i], "sip:16@192.0.2.1:%zu", 1000 + i);
        regs[i] = reg_of(f, "16", contacts[i], "c@x", 1, 60);
    }
    assert_int_equal(client_table_apply(f->ct, regs, 0, T0, o), -EINVAL);
    assert_int_equal(client_table_apply(f->ct, regs, CLIENT_CONTACTS_MAX + 1, T0, o), -EINVAL);
    assert_int_equal(client_table_apply(f->ct, NULL, 1, T0, o), -EINVAL);
    assert_int_equal(client_table_apply(NULL, regs, 1, T0, o), -EINVAL);
    assert_int_equal(client_table_count(f->ct), 0);

    /* ids differ: not even the first is applied */
    regs[1].id = "17";
    assert_int_equal(client_table_apply(f->ct, regs, 2, T0, o), -EINVAL);
    regs[1].id = "16";
    /* q out of range, on the last of several */
    regs[2].q = 1001;
    assert_int_equal(client_table_apply(f->ct, regs, 3, T0, o), -EINVAL);
    regs[2].q = -2;
    assert_int_equal(client_table_apply(f->ct, regs, 3, T0, o), -EINVAL);
    regs[2].q = -1;
    /* an empty Contact or a NULL Call-ID among valid ones */
    regs[1].contact = "";
    assert_int_equal(client_table_apply(f->ct, regs, 3, T0, o), -EINVAL);
    regs[1].contact = contacts[1];
    regs[1].call_id = NULL;
    assert_int_equal(client_table_apply(f->ct, regs, 3, T0, o), -EINVAL);
    regs[1].call_id = "c@x";
    regs[1].source = NULL;
    assert_int_equal(client_table_apply(f->ct, regs, 3, T0, o), -EINVAL);
    regs[1].source = &f->proxy_a_src;
    assert_int_equal(client_table_count(f->ct), 0);
    assert_null(client_table_find(f->ct, "16"));
    assert_null(client_table_find(f->ct, "17"));

    /* client_table_register needs its outcome */
    assert_int_equal(client_table_register(f->ct, &regs[0], T0, NULL), -EINVAL);
    assert_int_equal(client_table_count(f->ct), 0);

    /* the bounds themselves are fine */
    regs[0].q = 1000;
    regs[1].q = 0;
    apply_ok(f, regs, CLIENT_CONTACTS_MAX, T0, o);
    assert_int_equal(client_table_count(f->ct), 10); /* max_contacts of setup */

    static char canary;
    ct = (struct client_table *)(void *)&canary; /* must stay untouched */
    assert_int_equal(client_table_new(&ct, 16, 0), -EINVAL);
    assert_int_equal(client_table_new(&ct, 16, CLIENT_CONTACTS_MAX + 1), -EINVAL);
    assert_ptr_equal(ct, (struct client_table *)(void *)&canary);
    assert_int_equal(client_table_new(&ct, 16, 1), 0);
    client_table_free(ct);
    assert_int_equal(client_table_new(&ct, 16, CLIENT_CONTACTS_MAX), 0);
    client_table_free(ct);
}

/* A peer registering a new Contact under a new Call-ID with every REGISTER
 * for one ID must not grow the table past max_contacts. */
static void test_register_flood_for_one_id_is_bounded(void **state)
{
    struct fixture *f = *state;
    char contact[64], cid[32];
    struct client_table_memory m10 = {0}, m;
    enum log_level level = log_get_level();
    log_set_level(LOGL_NOTICE); /* an eviction is logged at info, 9990 times */
    for (unsigned i = 0; i < 10000; i++) {
        snprintf(contact, sizeof contact, "sip:16@198.51.100.28:%u", 10000 + i);
        snprintf(cid, sizeof cid, "flood-%05u@x", i);
        struct client_reg r = reg_of(f, "16", contact, cid, 1, 3600);
        assert_int_equal(do_register(f, &r, T0 + i), CLIENT_REG_CREATED);
        assert_true(client_table_count(f->ct) <= 10);
        if (i == 9)
            client_table_memory(f->ct, &m10);
    }
    log_set_level(level);
    assert_int_equal(client_table_count(f->ct), 10);
    assert_int_equal(chain_length_of(f->ct, "16"), 10);
    client_table_memory(f->ct, &m);
    assert_int_equal(m.overhead, m10.overhead);
    assert_int_equal(m.strings, m10.strings); /* same lengths: same bytes */

    /* the ten left are the ten newest: the oldest were nearest expiry */
    for (unsigned i = 9990; i < 10000; i++) {
        snprintf(contact, sizeof contact, "sip:16@198.51.100.28:%u", 10000 + i);
        assert_non_null(binding_of(f->ct, "16", contact));
    }

    struct client_target t[CLIENT_CONTACTS_MAX];
    assert_int_equal(client_table_redirect(f->ct, "16", &f->proxy_a, T0, t, CLIENT_CONTACTS_MAX),
                     10);
    assert_int_equal(client_table_redirect(f->ct, "16", &f->proxy_b, T0, t, CLIENT_CONTACTS_MAX),
                     1);

    client_table_expire(f->ct, T0 + 3600 * 1000 + 10000);
    assert_int_equal(client_table_count(f->ct), 0);
    assert_int_equal(client_table_expired(f->ct), 10);
    client_table_memory(f->ct, &m);
    assert_int_equal(m.strings, 0);
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
        cmocka_unit_test_setup_teardown(test_two_contacts_expire_on_their_own, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_deadlines_in_one_tick, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refresh_of_the_soonest_moves_the_deadline, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_same_call_id_new_contact_replaces, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apply_two_contacts_with_one_call_id_creates_two, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_expires_zero_removes_only_that_contact, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_star_removes_every_contact, setup, teardown),
        cmocka_unit_test_setup_teardown(test_late_star_removes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_contacts_evicts_the_soonest, setup_max2, teardown),
        cmocka_unit_test_setup_teardown(test_apply_never_evicts_its_own_contacts, setup_max2,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_set_max_contacts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bindings_sorted_by_q_then_newest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bindings_truncated_keeps_the_best, setup, teardown),
        cmocka_unit_test_setup_teardown(test_redirect_lists_targets_in_q_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_redirect_dedups_per_serving_proxy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_register_changes_no_binding, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apply_refuses_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_register_flood_for_one_id_is_bounded, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

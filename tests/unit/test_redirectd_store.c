/* redirectd with an SQLite store (issue #17) on a fake wire: the 200 to a
 * REGISTER leaves only after its binding is committed; a redirector made
 * again on the same file (a restart) answers 302 for every binding at
 * once, with its q, serving proxy and Call-ID/CSeq ordering intact; an
 * unregister, a moved phone and an eviction are forgotten by the store
 * too; an expired binding does not come back; a store that fails its
 * commit gets the phone a 500, never a 200. */
#include "test_redirectd_harness.h"

#include <errno.h>
#include <sqlite3.h>
#include <unistd.h>

#define CHANNEL "sip:16@198.51.100.28:40312"
#define SOFT "sip:16@203.0.113.5:6000"

struct sfx {
    struct rd_fixture *f;
    char dir[64];
    char spec[160];
    char path[128];
};

static const struct txn_timers TIMERS = {.t1_ms = 20, .t2_ms = 80, .t4_ms = 100};

/* (Re)starts the redirector on the store of the fixture. */
static void restart(struct sfx *s)
{
    redirector_free(s->f->r);
    s->f->r = NULL;
    s->f->conf.store = s->spec;
    assert_int_equal(redirector_new(&s->f->r, s->f->loop, &s->f->conf, &s->f->tp, &TIMERS), 0);
}

static int setup(void **state)
{
    static struct sfx s;
    memset(&s, 0, sizeof s);
    assert_int_equal(rd_setup((void **)&s.f), 0);
    test_tmpdir(s.dir, sizeof s.dir, "rdstore");
    snprintf(s.path, sizeof s.path, "%s/redirectd.db", s.dir);
    snprintf(s.spec, sizeof s.spec, "sqlite:%s", s.path);
    restart(&s);
    *state = &s;
    return 0;
}

static int teardown(void **state)
{
    struct sfx *s = *state;
    void *f = s->f;
    rd_teardown(&f);
    test_rmtree(s->dir);
    return 0;
}

static const struct client_binding *find(struct sfx *s, const char *id)
{
    return client_table_lookup(redirector_clients(s->f->r), id, loop_now_ms(s->f->loop));
}

static void test_200_waits_for_the_commit(void **state)
{
    struct sfx *s = *state;
    struct rd_fixture *f = s->f;
    rd_register(f, &f->a, "16", CHANNEL, "reg-1@a", 1, "");
    assert_int_equal(f->wire.n, 0); /* in the table, not on disk yet: no 200 */
    assert_non_null(find(s, "16"));
    rd_run_ms(f, 60);
    osip_message_t *m = rd_expect(f, &f->a, 200);
    rd_assert_contact(m, CHANNEL);
    sip_free(m);
}

static void test_a_restart_answers_every_binding(void **state)
{
    struct sfx *s = *state;
    struct rd_fixture *f = s->f;
    char contact[64], cid[32];
    for (int i = 0; i < 200; i++) {
        snprintf(contact, sizeof contact, "sip:%d@198.51.100.28:%d", 1000 + i, 20000 + i);
        snprintf(cid, sizeof cid, "reg-%d@a", i);
        char id[16];
        snprintf(id, sizeof id, "%d", 1000 + i);
        rd_register(f, &f->c, id, contact, cid, 1, "Path: <sip:192.0.2.10:5060;lr>\n");
    }
    rd_register(f, &f->a, "16", CHANNEL, "desk@a", 5, "");
    rd_sendf(f, &f->a,
             "REGISTER sip:127.0.0.1:5070 SIP/2.0\n"
             "Via: SIP/2.0/UDP 203.0.113.9:5060;branch=z9hG4bKsoft\n"
             "From: <sip:16@example.net>;tag=fs\n"
             "To: <sip:16@example.net>\n"
             "Call-ID: soft@a\n"
             "CSeq: 9 REGISTER\n"
             "Contact: <" SOFT ">;q=0.4\n"
             "Content-Length: 0\n\n");
    rd_run_ms(f, 80);
    assert_int_equal(rd_responses(f, 200), 202);
    fake_wire_clear(&f->wire);

    restart(s); /* as after kill -9: only what was committed */
    assert_int_equal(client_table_count(redirector_clients(f->r)), 202);
    /* the serving proxy (fig. 2a) gets the channel, another (2b) the proxy */
    rd_invite(f, &f->c, "1042", 1);
    osip_message_t *m = rd_expect(f, &f->c, 302);
    rd_assert_contact(m, "sip:1042@198.51.100.28:20042");
    sip_free(m);
    rd_invite(f, &f->b, "1042", 2);
    m = rd_expect(f, &f->b, 302);
    rd_assert_contact(m, "sip:1042@192.0.2.10:5060");
    sip_free(m);
    /* both phones of 16, the desk phone (no q: 1.0) first */
    rd_invite(f, &f->a, "16", 3);
    m = rd_expect(f, &f->a, 302);
    assert_int_equal(sip_contact_count(m), 2);
    char *uri = NULL;
    long e;
    int q;
    assert_int_equal(sip_contact_at(m, 1, &uri, &e, &q), 0);
    assert_string_equal(uri, SOFT);
    assert_int_equal(q, 400);
    osip_free(uri);
    sip_free(m);
    /* the ordering of RFC 3261 10.3 step 7 survives: a late CSeq is refused */
    rd_register(f, &f->a, "16", SOFT, "soft@a", 9, "");
    rd_expect_status(f, &f->a, 500);
}

static void test_what_goes_is_forgotten(void **state)
{
    struct sfx *s = *state;
    struct rd_fixture *f = s->f;
    rd_register(f, &f->a, "16", CHANNEL, "desk@a", 1, "");
    rd_register(f, &f->a, "17", "sip:17@198.51.100.28:1111", "p17@a", 1, "");
    rd_register(f, &f->a, "18", "sip:18@198.51.100.28:2222", "p18@a", 1, "Expires: 1\n");
    rd_run_ms(f, 60);
    fake_wire_clear(&f->wire);
    /* 16 unregisters; 17's phone moves to a new NAT port (same Call-ID) */
    rd_register(f, &f->a, "16", CHANNEL, "desk@a", 2, "Expires: 0\n");
    rd_register(f, &f->a, "17", "sip:17@198.51.100.28:3333", "p17@a", 2, "");
    rd_run_ms(f, 1100); /* 18's binding runs out meanwhile */
    fake_wire_clear(&f->wire);
    restart(s);
    assert_null(find(s, "16"));
    assert_null(find(s, "18"));
    const struct client_binding *b = find(s, "17");
    assert_non_null(b);
    assert_string_equal(client_binding_contact(b), "sip:17@198.51.100.28:3333");
    assert_null(client_binding_next(b)); /* not the old port too */
    assert_int_equal(client_table_count(redirector_clients(f->r)), 1);
}

/* The database refuses the commit: 500, and no 200 ever claims it. */
static void test_a_store_failure_is_500(void **state)
{
    struct sfx *s = *state;
    struct rd_fixture *f = s->f;
    sqlite3 *db;
    assert_int_equal(sqlite3_open(s->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "DROP TABLE bindings", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    rd_register(f, &f->a, "16", CHANNEL, "desk@a", 1, "");
    rd_run_ms(f, 60);
    osip_message_t *m = rd_expect(f, &f->a, 500);
    assert_int_equal(rd_responses(f, 200), 0);
    sip_free(m);
}

/* A REGISTER whose transaction is gone before the commit (the layer
 * freed at shutdown, say) is not answered into freed memory. */
static void test_shutdown_while_committing(void **state)
{
    struct sfx *s = *state;
    struct rd_fixture *f = s->f;
    rd_register(f, &f->a, "16", CHANNEL, "desk@a", 1, "");
    assert_int_equal(f->wire.n, 0);
    redirector_free(f->r); /* commits, answers, then frees the transactions */
    f->r = NULL;
    assert_int_equal(f->wire.n, 1);
    fake_wire_clear(&f->wire);
    restart(s);
    assert_non_null(find(s, "16"));
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_200_waits_for_the_commit),  T(test_a_restart_answers_every_binding),
        T(test_what_goes_is_forgotten),    T(test_a_store_failure_is_500),
        T(test_shutdown_while_committing),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}

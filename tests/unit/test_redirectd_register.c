/* redirectd REGISTER handling on a fake wire: the binding stored from
 * fig. 3b's message 122, the 200 that echoes it, Expires bounds, removal,
 * wildcard, out-of-order requests and the refusals; several Contacts per
 * ID (RFC 3261 10.3) with their own expires and q, and max_contacts. */
#include "test_redirectd_harness.h"

#include <errno.h>

#include "rd_stats.h"

#define CHANNEL "sip:16@198.51.100.28:40312"

static const struct client_binding *binding(struct rd_fixture *f, const char *id)
{
    return client_table_find(redirector_clients(f->r), id);
}

static void test_register_stores_binding_and_echoes_it(void **state)
{
    struct rd_fixture *f = *state;
    rd_register(f, &f->a, "16", CHANNEL, "reg-1@a", 1, "");

    /* sent to the datagram's source, not to the Via's 203.0.113.9 */
    osip_message_t *m = rd_expect(f, &f->a, 200);
    rd_assert_contact(m, CHANNEL);
    assert_int_equal(sip_register_expires(m), 3600); /* default_expires */
    assert_non_null(sip_to_tag(m));
    char cid[64];
    assert_int_equal(sip_call_id(m, cid, sizeof cid), 0);
    assert_string_equal(cid, "reg-1@a");
    sip_free(m);

    const struct client_binding *b = binding(f, "16");
    assert_non_null(b);
    assert_string_equal(client_binding_contact(b), CHANNEL);
    struct addr serving;
    client_binding_serving(b, &serving);
    assert_true(addr_equal(&serving, &f->a)); /* no Path: the source serves it */
    assert_int_equal(rd_responses(f, 200), 1);
    assert_int_equal(redirector_stats(f->r)->requests[RD_REGISTER], 1);

    /* the SIGUSR1 line reports it */
    char line[RD_STATS_LINE_MAX];
    assert_true(rd_stats_format(f->r, line, sizeof line) > 0);
    assert_non_null(strstr(line, "bindings=1 "));
    assert_non_null(strstr(line, "REGISTER=1,"));
    assert_non_null(strstr(line, "responses:200=1 "));
    assert_non_null(strstr(line, "txn_servers=1 "));
    char small[16];
    assert_int_equal(rd_stats_format(f->r, small, sizeof small), sizeof small - 1);
    assert_int_equal(strlen(small), sizeof small - 1);
}

static void test_path_names_the_serving_proxy_and_is_echoed(void **state)
{
    struct rd_fixture *f = *state;
    rd_register(f, &f->a, "16", CHANNEL, "reg-1@a", 1,
                "Path: <sip:192.0.2.10:5060;lr>\nSupported: path\n");
    osip_message_t *m = rd_expect(f, &f->a, 200);
    const char *path = sip_header_get(m, "Path");
    assert_non_null(path);
    assert_non_null(strstr(path, "sip:192.0.2.10:5060;lr"));
    sip_free(m);

    struct addr serving, source;
    client_binding_serving(binding(f, "16"), &serving);
    client_binding_source(binding(f, "16"), &source);
    assert_true(addr_equal(&serving, &f->c));
    assert_true(addr_equal(&source, &f->a));
}

static void test_path_with_a_host_name_is_refused(void **state)
{
    struct rd_fixture *f = *state;
    rd_register(f, &f->a, "16", CHANNEL, "reg-1@a", 1, "Path: <sip:proxy.example.net;lr>\n");
    rd_expect_status(f, &f->a, 400);
    assert_null(binding(f, "16"));
}

static void test_expires_bounds(void **state)
{
    struct rd_fixture *f = *state;
    osip_message_t *m;

    rd_register(f, &f->a, "16", CHANNEL, "reg-1@a", 1, "Expires: 60\n");
    m = rd_expect(f, &f->a, 200);
    assert_int_equal(sip_register_expires(m), 60);
    sip_free(m);

    /* above max_expires: capped */
    rd_register(f, &f->a, "16", CHANNEL, "reg-1@a", 2, "Expires: 999999\n");
    m = rd_expect(f, &f->a, 200);
    assert_int_equal(sip_register_expires(m), 7200);
    sip_free(m);

    /* the Contact's expires param wins over the header */
    rd_send_text(f, &f->a,
                 "REGISTER sip:127.0.0.1:5070 SIP/2.0\n"
                 "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKcparam\n"
                 "From: <sip:17@example.net>;tag=c\n"
                 "To: <sip:17@example.net>\n"
                 "Call-ID: reg-2@a\n"
                 "CSeq: 1 REGISTER\n"
                 "Contact: <" CHANNEL ">;expires=30\n"
                 "Expires: 120\n"
                 "Content-Length: 0\n\n");
    m = rd_expect(f, &f->a, 200);
    assert_int_equal(sip_register_expires(m), 30);
    sip_free(m);

    rd_register(f, &f->a, "18", CHANNEL, "reg-3@a", 1, "Expires: soon\n");
    rd_expect_status(f, &f->a, 400);
    assert_null(binding(f, "18"));
}

static void test_expires_zero_unregisters(void **state)
{
    struct rd_fixture *f = *state;
    rd_register(f, &f->a, "16", CHANNEL, "reg-1@a", 1, "");
    rd_expect_status(f, &f->a, 200);
    rd_register(f, &f->a, "16", CHANNEL, "reg-1@a", 2, "Expires: 0\n");
    osip_message_t *m = rd_expect(f, &f->a, 200);
    assert_int_equal(sip_contact_count(m), 0); /* no binding left to list */
    sip_free(m);
    assert_null(binding(f, "16"));
}

#define STAR_REGISTER(branch, cseq, extra)                                                         \
    "REGISTER sip:127.0.0.1:5070 SIP/2.0\n"                                                        \
    "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKstar" branch "\n"                               \
    "From: <sip:16@example.net>;tag=s\n"                                                           \
    "To: <sip:16@example.net>\n"                                                                   \
    "Call-ID: reg-1@a\n"                                                                           \
    "CSeq: " cseq " REGISTER\n"                                                                    \
    "Contact: *\n" extra "Content-Length: 0\n\n"

static void test_wildcard_unregisters_only_with_expires_zero(void **state)
{
    struct rd_fixture *f = *state;
    rd_register(f, &f->a, "16", CHANNEL, "reg-1@a", 1, "");
    rd_expect_status(f, &f->a, 200);

    /* RFC 3261 10.3 step 6: a wildcard needs Expires: 0 */
    rd_send_text(f, &f->a, STAR_REGISTER("1", "2", ""));
    rd_expect_status(f, &f->a, 400);
    assert_non_null(binding(f, "16"));
    rd_send_text(f, &f->a, STAR_REGISTER("2", "3", "Expires: 0\n"));
    rd_expect_status(f, &f->a, 200);
    assert_null(binding(f, "16"));
}

static void test_refresh_replaces_the_channel(void **state)
{
    struct rd_fixture *f = *state;
    rd_register(f, &f->a, "16", CHANNEL, "reg-1@a", 1, "");
    rd_expect_status(f, &f->a, 200);
    rd_register(f, &f->a, "16", "sip:16@198.51.100.28:50000", "reg-1@a", 2, "");
    osip_message_t *m = rd_expect(f, &f->a, 200);
    rd_assert_contact(m, "sip:16@198.51.100.28:50000");
    assert_int_equal(sip_contact_count(m), 1);
    sip_free(m);
    assert_int_equal(client_table_count(redirector_clients(f->r)), 1);
}

static void test_out_of_order_register_fails(void **state)
{
    struct rd_fixture *f = *state;
    rd_register(f, &f->a, "16", CHANNEL, "reg-1@a", 5, "");
    rd_expect_status(f, &f->a, 200);
    rd_register(f, &f->a, "16", "sip:16@203.0.113.1:1", "reg-1@a", 4, "");
    osip_message_t *m = rd_expect(f, &f->a, 500);
    assert_string_equal(m->reason_phrase, "Out Of Order REGISTER");
    sip_free(m);
    assert_string_equal(client_binding_contact(binding(f, "16")), CHANNEL);
}

static void test_query_without_contact_lists_the_binding(void **state)
{
    struct rd_fixture *f = *state;
    rd_register(f, &f->a, "16", CHANNEL, "reg-1@a", 1, "");
    rd_expect_status(f, &f->a, 200);
    rd_sendf(f, &f->a,
             "REGISTER sip:127.0.0.1:5070 SIP/2.0\n"
             "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKquery\n"
             "From: <sip:16@example.net>;tag=q\n"
             "To: <sip:16@example.net>\n"
             "Call-ID: query@a\n"
             "CSeq: 1 REGISTER\n"
             "Content-Length: 0\n\n");
    osip_message_t *m = rd_expect(f, &f->a, 200);
    rd_assert_contact(m, CHANNEL);
    sip_free(m);
}

/* ---- several Contacts per ID (RFC 3261 10.3) ---- */

#define SOFT "sip:16@192.0.2.77:5060"

/* A REGISTER for id whose Contact (and other) header lines are `headers`. */
static void register_with(struct rd_fixture *f, const struct addr *src, const char *id,
                          const char *call_id, unsigned cseq, const char *headers)
{
    unsigned n = ++f->branch;
    rd_sendf(f, src,
             "REGISTER sip:127.0.0.1:5070 SIP/2.0\n"
             "Via: SIP/2.0/UDP 203.0.113.9:5060;branch=z9hG4bKmc%u\n"
             "Max-Forwards: 70\n"
             "From: <sip:%s@example.net>;tag=m%u\n"
             "To: <sip:%s@example.net>\n"
             "Call-ID: %s\n"
             "CSeq: %u REGISTER\n"
             "%s"
             "Content-Length: 0\n\n",
             n, id, n, id, call_id, cseq, headers);
}

/* Contact i of m is uri, with this expires param and q (-1: absent). */
static void assert_contact_at(const osip_message_t *m, int i, const char *uri, long expires, int q)
{
    char *got = NULL;
    long e = -2;
    int gq = -2;
    assert_int_equal(sip_contact_at(m, i, &got, &e, &gq), 0);
    assert_string_equal(got, uri);
    osip_free(got);
    assert_int_equal(e, expires);
    assert_int_equal(gq, q);
}

static size_t bindings_held(struct rd_fixture *f)
{
    return client_table_count(redirector_clients(f->r));
}

static void test_two_contacts_in_one_register_are_both_bound(void **state)
{
    struct rd_fixture *f = *state;
    rd_register(f, &f->a, "16", CHANNEL, "reg-1@a", 1, "Contact: <" SOFT ">;q=0.5\n");
    osip_message_t *m = rd_expect(f, &f->a, 200);
    assert_int_equal(sip_contact_count(m), 2);
    assert_contact_at(m, 0, CHANNEL, 3600, -1); /* no q: 1.0, ahead of 0.5 */
    assert_contact_at(m, 1, SOFT, 3600, 500);
    sip_free(m);
    assert_int_equal(bindings_held(f), 2);
    const struct client_binding *b = binding(f, "16");
    assert_non_null(b);
    assert_non_null(client_binding_next(b));
    assert_null(client_binding_next(client_binding_next(b)));

    /* a query lists both as well */
    register_with(f, &f->a, "16", "query@a", 1, "");
    m = rd_expect(f, &f->a, 200);
    assert_int_equal(sip_contact_count(m), 2);
    assert_contact_at(m, 0, CHANNEL, 3600, -1);
    assert_contact_at(m, 1, SOFT, 3600, 500);
    sip_free(m);

    /* the bounds of q are accepted: 1 and 0 */
    register_with(f, &f->a, "17", "reg-2@a", 1,
                  "Contact: <sip:17@192.0.2.1:1>;q=0\n"
                  "Contact: <sip:17@192.0.2.1:2>;q=1.000\n"
                  "Contact: <sip:17@192.0.2.1:3>;q=0.25\n");
    m = rd_expect(f, &f->a, 200);
    assert_int_equal(sip_contact_count(m), 3);
    assert_contact_at(m, 0, "sip:17@192.0.2.1:2", 3600, 1000);
    assert_contact_at(m, 1, "sip:17@192.0.2.1:3", 3600, 250);
    assert_contact_at(m, 2, "sip:17@192.0.2.1:1", 3600, 0);
    sip_free(m);
    assert_int_equal(bindings_held(f), 5);
}

static void test_second_phone_keeps_the_first(void **state)
{
    struct rd_fixture *f = *state;
    rd_register(f, &f->a, "16", CHANNEL, "reg-1@a", 1, "Expires: 600\n");
    osip_message_t *m = rd_expect(f, &f->a, 200);
    assert_int_equal(sip_contact_count(m), 1);
    sip_free(m);

    /* another phone of the same user, through another proxy */
    rd_register(f, &f->b, "16", SOFT, "reg-2@b", 1, "");
    m = rd_expect(f, &f->b, 200);
    assert_int_equal(sip_contact_count(m), 2);
    assert_contact_at(m, 0, SOFT, 3600, -1); /* equal q: newest first */
    assert_contact_at(m, 1, CHANNEL, 600, -1);
    sip_free(m);
    assert_int_equal(bindings_held(f), 2);

    /* the first phone refreshing lists both too, its own refreshed */
    rd_register(f, &f->a, "16", CHANNEL, "reg-1@a", 2, "Expires: 900\n");
    m = rd_expect(f, &f->a, 200);
    assert_int_equal(sip_contact_count(m), 2);
    assert_contact_at(m, 0, SOFT, 3600, -1);
    assert_contact_at(m, 1, CHANNEL, 900, -1);
    sip_free(m);
    assert_int_equal(bindings_held(f), 2);
}

static void test_unregister_of_one_contact_keeps_the_other(void **state)
{
    struct rd_fixture *f = *state;
    rd_register(f, &f->a, "16", CHANNEL, "reg-1@a", 1, "");
    rd_expect_status(f, &f->a, 200);
    rd_register(f, &f->a, "16", SOFT, "reg-2@a", 1, "");
    rd_expect_status(f, &f->a, 200);

    /* by the Expires header */
    rd_register(f, &f->a, "16", CHANNEL, "reg-1@a", 2, "Expires: 0\n");
    osip_message_t *m = rd_expect(f, &f->a, 200);
    assert_int_equal(sip_contact_count(m), 1);
    assert_contact_at(m, 0, SOFT, 3600, -1);
    sip_free(m);
    assert_int_equal(bindings_held(f), 1);

    /* by the Contact's param, the header asking for an hour */
    rd_register(f, &f->a, "16", CHANNEL, "reg-1@a", 3, "");
    rd_expect_status(f, &f->a, 200);
    register_with(f, &f->a, "16", "reg-2@a", 2,
                  "Contact: <" SOFT ">;expires=0\n"
                  "Expires: 3600\n");
    m = rd_expect(f, &f->a, 200);
    assert_int_equal(sip_contact_count(m), 1);
    assert_contact_at(m, 0, CHANNEL, 3600, -1);
    sip_free(m);
    assert_int_equal(bindings_held(f), 1);
    assert_string_equal(client_binding_contact(binding(f, "16")), CHANNEL);

    /* one REGISTER removing one Contact and refreshing another */
    rd_register(f, &f->a, "16", SOFT, "reg-2@a", 3, "");
    rd_expect_status(f, &f->a, 200);
    register_with(f, &f->a, "16", "reg-1@a", 4,
                  "Contact: <" CHANNEL ">;expires=0\n"
                  "Contact: <" SOFT ">;expires=120\n");
    m = rd_expect(f, &f->a, 200);
    assert_int_equal(sip_contact_count(m), 1);
    assert_contact_at(m, 0, SOFT, 120, -1);
    sip_free(m);
    assert_int_equal(bindings_held(f), 1);

    /* the last one */
    rd_register(f, &f->a, "16", SOFT, "reg-2@a", 4, "Expires: 0\n");
    m = rd_expect(f, &f->a, 200);
    assert_int_equal(sip_contact_count(m), 0);
    sip_free(m);
    assert_int_equal(bindings_held(f), 0);
    assert_null(binding(f, "16"));
}

static void test_wildcard_removes_every_contact(void **state)
{
    struct rd_fixture *f = *state;
    rd_register(f, &f->a, "16", CHANNEL, "reg-1@a", 1, "Contact: <" SOFT ">\n");
    rd_expect_status(f, &f->a, 200);
    rd_register(f, &f->b, "16", "sip:16@203.0.113.5:7000", "reg-9@b", 1, "");
    rd_expect_status(f, &f->b, 200);
    assert_int_equal(bindings_held(f), 3);
    rd_send_text(f, &f->a, STAR_REGISTER("m", "2", "Expires: 0\n"));
    osip_message_t *m = rd_expect(f, &f->a, 200);
    assert_int_equal(sip_contact_count(m), 0);
    sip_free(m);
    assert_int_equal(bindings_held(f), 0);
}

/* n Contact header lines for id ("sip:ID@198.51.100.<1+i>:<5060+i>"),
 * each followed by params, into buf. */
static void contacts(char *buf, size_t len, const char *id, unsigned n, const char *params)
{
    size_t o = 0;
    for (unsigned i = 0; i < n; i++) {
        int w = snprintf(buf + o, len - o, "Contact: <sip:%s@198.51.100.%u:%u>%s\n", id, 1 + i,
                         5060 + i, params);
        assert_true(w > 0 && (size_t)w < len - o);
        o += (size_t)w;
    }
}

static void test_too_many_contacts_is_refused(void **state)
{
    struct rd_fixture *f = *state;
    char lines[2048];
    rd_register(f, &f->a, "16", CHANNEL, "reg-1@a", 1, "");
    rd_expect_status(f, &f->a, 200);

    /* max_contacts is 10 in the harness */
    contacts(lines, sizeof lines, "16", 11, "");
    register_with(f, &f->a, "16", "reg-2@a", 1, lines);
    osip_message_t *m = rd_expect(f, &f->a, 403);
    assert_string_equal(m->reason_phrase, "Too Many Contacts");
    assert_int_equal(sip_contact_count(m), 0);
    sip_free(m);
    assert_int_equal(bindings_held(f), 1);
    assert_string_equal(client_binding_contact(binding(f, "16")), CHANNEL);

    /* in one header, comma-separated, the same */
    char one[2048] = "Contact: ";
    size_t o = strlen(one);
    for (unsigned i = 0; i < 11; i++)
        o += (size_t)snprintf(one + o, sizeof one - o, "%s<sip:17@198.51.100.%u:5060>",
                              i ? ", " : "", 1 + i);
    snprintf(one + o, sizeof one - o, "\n");
    register_with(f, &f->a, "17", "reg-3@a", 1, one);
    rd_expect_status(f, &f->a, 403);
    assert_null(binding(f, "17"));

    /* unregistering them counts as many */
    contacts(lines, sizeof lines, "16", 11, ";expires=0");
    register_with(f, &f->a, "16", "reg-2@a", 2, lines);
    rd_expect_status(f, &f->a, 403);
    assert_int_equal(bindings_held(f), 1);

    /* ten are fine */
    contacts(lines, sizeof lines, "18", 10, "");
    register_with(f, &f->a, "18", "reg-4@a", 1, lines);
    m = rd_expect(f, &f->a, 200);
    assert_int_equal(sip_contact_count(m), 10);
    sip_free(m);
    assert_int_equal(bindings_held(f), 11);
}

/* Asserts the 200 lists exactly the n Contacts contacts() wrote for id. */
static void assert_lists_the_request(osip_message_t *m, const char *id, unsigned n)
{
    char got[CLIENT_CONTACTS_MAX][128], want[128];
    int count = sip_contact_count(m);
    for (int i = 0; i < count && i < CLIENT_CONTACTS_MAX; i++) {
        char *uri = NULL;
        long e;
        int q;
        got[i][0] = '\0';
        if (sip_contact_at(m, i, &uri, &e, &q) == 0)
            snprintf(got[i], sizeof got[i], "%s", uri);
        osip_free(uri);
    }
    sip_free(m);
    assert_int_equal(count, n);
    for (unsigned i = 0; i < n; i++) {
        bool listed = false;
        snprintf(want, sizeof want, "sip:%s@198.51.100.%u:%u", id, 1 + i, 5060 + i);
        for (unsigned j = 0; j < n; j++)
            listed = listed || strcmp(got[j], want) == 0;
        if (!listed)
            fail_msg("the 200 does not list %s", want);
    }
}

/* max_contacts new Contacts in one REGISTER: every one is bound, the
 * binding of an earlier REGISTER (nearest expiry) makes room. */
static void test_register_at_max_evicts_the_older_binding(void **state)
{
    struct rd_fixture *f = *state;
    char lines[2048];
    rd_register(f, &f->a, "16", CHANNEL, "reg-1@a", 1, "");
    rd_expect_status(f, &f->a, 200);
    rd_run_ms(f, 20); /* the old binding is due strictly sooner */
    fake_wire_clear(&f->wire);
    contacts(lines, sizeof lines, "16", 10, "");
    register_with(f, &f->a, "16", "reg-2@a", 1, lines);
    assert_lists_the_request(rd_expect(f, &f->a, 200), "16", 10);
    assert_int_equal(bindings_held(f), 10);
}

/* The same within one loop-clock millisecond (the old binding and the new
 * ones tie on expiry): the 200 must still bind every Contact the request
 * lists, not drop one of its own to keep the older binding. */
static void test_register_at_max_binds_every_contact_it_lists(void **state)
{
    struct rd_fixture *f = *state;
    char lines[2048];
    rd_register(f, &f->a, "16", CHANNEL, "reg-1@a", 1, "");
    rd_expect_status(f, &f->a, 200);
    contacts(lines, sizeof lines, "16", 10, "");
    register_with(f, &f->a, "16", "reg-2@a", 1, lines);
    assert_lists_the_request(rd_expect(f, &f->a, 200), "16", 10);
    assert_int_equal(bindings_held(f), 10);
}

static void test_malformed_q_or_expires_param_is_refused(void **state)
{
    struct rd_fixture *f = *state;
    static const char *const bad[] = {
        ";q=2",    ";q=abc",  ";q=1.5",       ";q=1.001",    ";q=0.1234",
        ";q=-0.5", ";q=0.5x", ";expires=abc", ";expires=-1", ";expires=99999999999",
    };
    char lines[512];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        /* alone, and after a good Contact: nothing of the request is stored */
        snprintf(lines, sizeof lines, "Contact: <" CHANNEL ">%s\n", bad[i]);
        register_with(f, &f->a, "16", "reg-1@a", (unsigned)(2 * i + 1), lines);
        osip_message_t *m = rd_expect(f, &f->a, 400);
        assert_string_equal(m->reason_phrase, "Invalid Expires Or Q");
        sip_free(m);
        snprintf(lines, sizeof lines,
                 "Contact: <" SOFT ">;q=0.5\n"
                 "Contact: <" CHANNEL ">%s\n",
                 bad[i]);
        register_with(f, &f->a, "16", "reg-1@a", (unsigned)(2 * i + 2), lines);
        rd_expect_status(f, &f->a, 400);
        assert_int_equal(bindings_held(f), 0);
    }

    /* an ID already bound keeps its binding */
    rd_register(f, &f->a, "16", CHANNEL, "reg-1@a", 100, "");
    rd_expect_status(f, &f->a, 200);
    register_with(f, &f->a, "16", "reg-1@a", 101,
                  "Contact: <" CHANNEL ">;expires=0\n"
                  "Contact: <" SOFT ">;q=abc\n");
    rd_expect_status(f, &f->a, 400);
    assert_int_equal(bindings_held(f), 1);
    assert_string_equal(client_binding_contact(binding(f, "16")), CHANNEL);
}

static void test_contact_expires_overrides_the_header(void **state)
{
    struct rd_fixture *f = *state;
    register_with(f, &f->a, "16", "reg-1@a", 1,
                  "Contact: <sip:16@192.0.2.1:1>;expires=30\n"
                  "Contact: <sip:16@192.0.2.1:2>\n"
                  "Contact: <sip:16@192.0.2.1:3>;expires=999999\n"
                  "Expires: 120\n");
    osip_message_t *m = rd_expect(f, &f->a, 200);
    assert_int_equal(sip_contact_count(m), 3);
    /* equal q: newest first, each with its own lifetime (above max: capped) */
    assert_contact_at(m, 0, "sip:16@192.0.2.1:3", 7200, -1);
    assert_contact_at(m, 1, "sip:16@192.0.2.1:2", 120, -1);
    assert_contact_at(m, 2, "sip:16@192.0.2.1:1", 30, -1);
    sip_free(m);

    /* Expires: 0 does not remove a Contact that asks for its own lifetime */
    register_with(f, &f->a, "16", "reg-1@a", 2,
                  "Contact: <sip:16@192.0.2.1:1>;expires=60\n"
                  "Contact: <sip:16@192.0.2.1:2>\n"
                  "Expires: 0\n");
    m = rd_expect(f, &f->a, 200);
    assert_int_equal(sip_contact_count(m), 2);
    assert_contact_at(m, 0, "sip:16@192.0.2.1:3", 7200, -1);
    assert_contact_at(m, 1, "sip:16@192.0.2.1:1", 60, -1);
    sip_free(m);
    assert_int_equal(bindings_held(f), 2);

    /* no header: the default for the Contacts without a param */
    register_with(f, &f->a, "17", "reg-2@a", 1,
                  "Contact: <sip:17@192.0.2.1:1>;expires=45\n"
                  "Contact: <sip:17@192.0.2.1:2>\n");
    m = rd_expect(f, &f->a, 200);
    assert_contact_at(m, 0, "sip:17@192.0.2.1:2", 3600, -1);
    assert_contact_at(m, 1, "sip:17@192.0.2.1:1", 45, -1);
    sip_free(m);
}

/* RFC 3261 10.3 step 7 with several Contacts: one stale Contact refuses
 * the whole request. */
static void test_out_of_order_with_several_contacts_changes_nothing(void **state)
{
    struct rd_fixture *f = *state;
    rd_register(f, &f->a, "16", CHANNEL, "reg-1@a", 5, "Contact: <" SOFT ">\n");
    rd_expect_status(f, &f->a, 200);
    register_with(f, &f->a, "16", "reg-1@a", 4,
                  "Contact: <" CHANNEL ">;expires=0\n"
                  "Contact: <sip:16@203.0.113.1:1>\n");
    osip_message_t *m = rd_expect(f, &f->a, 500);
    assert_string_equal(m->reason_phrase, "Out Of Order REGISTER");
    sip_free(m);
    assert_int_equal(bindings_held(f), 2);
    register_with(f, &f->a, "16", "query@a", 1, "");
    m = rd_expect(f, &f->a, 200);
    assert_int_equal(sip_contact_count(m), 2);
    sip_free(m);
}

static void test_refusals(void **state)
{
    struct rd_fixture *f = *state;
    char longid[CLIENT_ID_MAX + 2];
    memset(longid, '7', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';

    /* unlisted source: 403, nothing stored */
    rd_register(f, &f->outsider, "16", CHANNEL, "reg-1@x", 1, "");
    rd_expect_status(f, &f->outsider, 403);
    assert_null(binding(f, "16"));
    assert_int_equal(redirector_stats(f->r)->forbidden, 1);

    /* To without a user part: no ID to bind */
    rd_sendf(f, &f->a,
             "REGISTER sip:127.0.0.1:5070 SIP/2.0\n"
             "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKnouser\n"
             "From: <sip:example.net>;tag=q\n"
             "To: <sip:example.net>\n"
             "Call-ID: nouser@a\n"
             "CSeq: 1 REGISTER\n"
             "Contact: <" CHANNEL ">\n"
             "Content-Length: 0\n\n");
    rd_expect_status(f, &f->a, 404);

    rd_register(f, &f->a, longid, CHANNEL, "reg-2@a", 1, "");
    rd_expect_status(f, &f->a, 400);
    assert_int_equal(client_table_count(redirector_clients(f->r)), 0);
}

static void test_rfc4475_unksm2_non_sip_aor_gets_400(void **state)
{
    struct rd_fixture *f = *state;
    size_t len;
    char *msg = fixture_read_sip("rfc4475/unksm2.dat", &len);
    redirector_receive(f->r, &f->a, msg, len);
    free(msg);
    rd_expect_status(f, &f->a, 400);
    assert_int_equal(client_table_count(redirector_clients(f->r)), 0);
}

static void test_register_retransmission_is_absorbed(void **state)
{
    struct rd_fixture *f = *state;
    const char *reg = "REGISTER sip:127.0.0.1:5070 SIP/2.0\n"
                      "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKsame\n"
                      "From: <sip:16@example.net>;tag=r\n"
                      "To: <sip:16@example.net>\n"
                      "Call-ID: retx@a\n"
                      "CSeq: 1 REGISTER\n"
                      "Contact: <" CHANNEL ">\n"
                      "Content-Length: 0\n\n";
    rd_send_text(f, &f->a, reg);
    osip_message_t *first = rd_expect(f, &f->a, 200);
    /* handled once: the retransmission gets the same 200 back, and is not
     * taken as an out-of-order REGISTER (which would be a 500) */
    rd_send_text(f, &f->a, reg);
    osip_message_t *again = rd_expect(f, &f->a, 200);
    assert_string_equal(sip_to_tag(first), sip_to_tag(again));
    sip_free(first);
    sip_free(again);
    assert_int_equal(redirector_stats(f->r)->requests[RD_REGISTER], 1);
    assert_int_equal(redirector_stats(f->r)->absorbed, 1);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, rd_setup, rd_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_register_stores_binding_and_echoes_it),
        T(test_path_names_the_serving_proxy_and_is_echoed),
        T(test_path_with_a_host_name_is_refused),
        T(test_expires_bounds),
        T(test_expires_zero_unregisters),
        T(test_wildcard_unregisters_only_with_expires_zero),
        T(test_refresh_replaces_the_channel),
        T(test_out_of_order_register_fails),
        T(test_query_without_contact_lists_the_binding),
        T(test_two_contacts_in_one_register_are_both_bound),
        T(test_second_phone_keeps_the_first),
        T(test_unregister_of_one_contact_keeps_the_other),
        T(test_wildcard_removes_every_contact),
        T(test_too_many_contacts_is_refused),
        T(test_register_at_max_evicts_the_older_binding),
        T(test_register_at_max_binds_every_contact_it_lists),
        T(test_malformed_q_or_expires_param_is_refused),
        T(test_contact_expires_overrides_the_header),
        T(test_out_of_order_with_several_contacts_changes_nothing),
        T(test_refusals),
        T(test_rfc4475_unksm2_non_sip_aor_gets_400),
        T(test_register_retransmission_is_absorbed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

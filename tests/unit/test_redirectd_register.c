/* redirectd REGISTER handling on a fake wire: the binding stored from
 * fig. 3b's message 122, the 200 that echoes it, Expires bounds, removal,
 * wildcard, out-of-order requests and the refusals. */
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

static void test_only_the_first_contact_is_bound(void **state)
{
    struct rd_fixture *f = *state;
    rd_register(f, &f->a, "16", CHANNEL, "reg-1@a", 1, "Contact: <sip:16@192.0.2.77:5060>\n");
    osip_message_t *m = rd_expect(f, &f->a, 200);
    assert_int_equal(sip_contact_count(m), 1);
    rd_assert_contact(m, CHANNEL);
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
        T(test_only_the_first_contact_is_bound),
        T(test_refusals),
        T(test_rfc4475_unksm2_non_sip_aor_gets_400),
        T(test_register_retransmission_is_absorbed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

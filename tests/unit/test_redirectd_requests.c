/* redirectd on a fake wire: OPTIONS, other methods, the semantic checks
 * answered with their own codes (RFC 4475 section 3.3), bad input, stray
 * responses, and a reconfiguration that keeps the bindings. */
#include "test_redirectd_harness.h"

static void send_fixture(struct rd_fixture *f, const struct addr *src, const char *name)
{
    char path[128];
    size_t len;
    snprintf(path, sizeof path, "rfc4475/%s.dat", name);
    char *msg = fixture_read(path, &len); /* byte exact: the files are CRLF already */
    redirector_receive(f->r, src, msg, len);
    free(msg);
}

#define OPTIONS_FROM(n)                                                                            \
    "OPTIONS sip:127.0.0.1:5070 SIP/2.0\n"                                                         \
    "Via: SIP/2.0/UDP 127.0.0.9:9;branch=z9hG4bKopt" n "\n"                                        \
    "From: <sip:monitor@example.net>;tag=m\n"                                                      \
    "To: <sip:127.0.0.1:5070>\n"                                                                   \
    "Call-ID: opt" n "@monitor\n"                                                                  \
    "CSeq: 1 OPTIONS\n"                                                                            \
    "Max-Forwards: 70\n"                                                                           \
    "Content-Length: 0\n\n"

static void test_options_answers_200_from_anyone(void **state)
{
    struct rd_fixture *f = *state;
    rd_send_text(f, &f->outsider, OPTIONS_FROM("1"));
    assert_int_equal(f->wire.n, 1);
    /* osip splits Allow into one entry per method: check the wire text */
    assert_non_null(strstr(f->wire.pkt[0].buf, "\r\nAllow: " REDIRECTOR_ALLOW "\r\n"));
    rd_expect_status(f, &f->outsider, 200);
    rd_send_text(f, &f->a, OPTIONS_FROM("2"));
    rd_expect_status(f, &f->a, 200);
    assert_int_equal(redirector_stats(f->r)->requests[RD_OPTIONS], 2);
}

/* Every method a proxy routes asks where the user is (RFC 3261 8.3):
 * MESSAGE, SUBSCRIBE, PUBLISH, an unknown one, an OPTIONS for a user get
 * the same 302 as an INVITE, or 404; an unknown method from an unlisted
 * source is still refused before the parse. */
static void test_every_method_is_a_location_query(void **state)
{
    struct rd_fixture *f = *state;
    static const char *const methods[] = {"MESSAGE", "SUBSCRIBE", "PUBLISH",
                                          "REFER",   "BREW",      "OPTIONS"};
    rd_register(f, &f->a, "16", "sip:16@198.51.100.7:5060", "reg-16@a", 1, "");
    rd_expect_status(f, &f->a, 200);
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        rd_sendf(f, &f->a,
                 "%s sip:16@127.0.0.1:5070 SIP/2.0\n"
                 "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKm%zu\n"
                 "From: <sip:12@example.net>;tag=s\n"
                 "To: <sip:16@example.net>\n"
                 "Call-ID: m%zu@a\n"
                 "CSeq: 1 %s\n"
                 "Event: presence\n"
                 "Content-Length: 0\n\n",
                 methods[i], i, i, methods[i]);
        osip_message_t *r = rd_expect(f, &f->a, 302);
        rd_assert_contact(r, "sip:16@198.51.100.7:5060");
        sip_free(r);
    }
    /* an unknown user: 404, as for an INVITE */
    rd_sendf(f, &f->a,
             "MESSAGE sip:99@127.0.0.1:5070 SIP/2.0\n"
             "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKm99\n"
             "From: <sip:12@example.net>;tag=s\nTo: <sip:99@example.net>\n"
             "Call-ID: m99@a\nCSeq: 1 MESSAGE\nContent-Length: 0\n\n");
    rd_expect_status(f, &f->a, 404);

    /* an unknown method from an unlisted source is refused before that */
    rd_sendf(f, &f->outsider,
             "BREW sip:16@127.0.0.1:5070 SIP/2.0\n"
             "Via: SIP/2.0/UDP 127.0.0.2:5060;branch=z9hG4bKbrew\n"
             "From: <sip:12@example.net>;tag=s\n"
             "To: <sip:16@example.net>\n"
             "Call-ID: brew@a\n"
             "CSeq: 1 BREW\n"
             "Content-Length: 0\n\n");
    rd_expect_status(f, &f->outsider, 403);
    /* and an outsider's OPTIONS for a user is the health check: no lookup */
    rd_sendf(f, &f->outsider,
             "OPTIONS sip:16@127.0.0.1:5070 SIP/2.0\n"
             "Via: SIP/2.0/UDP 127.0.0.2:5060;branch=z9hG4bKoptu\n"
             "From: <sip:12@example.net>;tag=s\nTo: <sip:16@example.net>\n"
             "Call-ID: optu@a\nCSeq: 1 OPTIONS\nContent-Length: 0\n\n");
    rd_expect_status(f, &f->outsider, 200);
}

static void test_cancel_gets_481(void **state)
{
    struct rd_fixture *f = *state;
    rd_sendf(f, &f->a,
             "CANCEL sip:16@127.0.0.1:5070 SIP/2.0\n"
             "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKinv1\n"
             "From: <sip:12@example.net>;tag=caller1\n"
             "To: <sip:16@example.net>\n"
             "Call-ID: call-1@10.0.0.5\n"
             "CSeq: 1 CANCEL\n"
             "Content-Length: 0\n\n");
    rd_expect_status(f, &f->a, 481);
}

static void test_rfc4475_semantic_checks(void **state)
{
    struct rd_fixture *f = *state;
    static const struct {
        const char *name;
        int status;
    } cases[] = {
        {"zeromf", 483}, {"unkscm", 416},  {"novelsc", 416},
        {"bext01", 420}, {"badvers", 505}, {"unksm2", 400},
    };
    const struct txn_timers timers = {.t1_ms = 20, .t2_ms = 80, .t4_ms = 100};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        /* a fresh redirector each: unkscm and novelsc share a branch, so the
         * second would be absorbed as a retransmission of the first */
        redirector_free(f->r);
        assert_int_equal(redirector_new(&f->r, f->loop, &f->conf, &f->tp, &timers), 0);
        send_fixture(f, &f->a, cases[i].name);
        if (f->wire.n != 1)
            fail_msg("%s: %zu responses", cases[i].name, f->wire.n);
        osip_message_t *m = rd_packet(f, 0);
        if (sip_status(m) != cases[i].status)
            fail_msg("%s: want %d, got\n%s", cases[i].name, cases[i].status, f->wire.pkt[0].buf);
        assert_true(addr_equal(&f->wire.pkt[0].to, &f->a));
        if (cases[i].status == 420) {
            const char *u = sip_header_get(m, "Unsupported");
            assert_non_null(u);
            assert_non_null(strstr(u, "nothingSupportsThis"));
        }
        sip_free(m);
        fake_wire_clear(&f->wire);
    }
}

static void test_require_path_is_supported(void **state)
{
    struct rd_fixture *f = *state;
    rd_register(f, &f->a, "16", "sip:16@198.51.100.28:40312", "reg@a", 1, "Require: path\n");
    rd_expect_status(f, &f->a, 200);
    rd_register(f, &f->a, "17", "sip:17@198.51.100.28:40312", "reg2@a", 1,
                "Require: path, 100rel\n");
    osip_message_t *m = rd_expect(f, &f->a, 420);
    assert_string_equal(sip_header_get(m, "Unsupported"), "100rel");
    sip_free(m);
}

static void test_bad_requests_get_400_or_are_dropped(void **state)
{
    struct rd_fixture *f = *state;
    /* no Call-ID: answered 400 with the identity it has (design decision 11) */
    rd_sendf(f, &f->a,
             "INVITE sip:16@127.0.0.1:5070 SIP/2.0\n"
             "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKnocid\n"
             "From: <sip:12@example.net>;tag=x\n"
             "To: <sip:16@example.net>\n"
             "CSeq: 1 INVITE\n"
             "Content-Length: 0\n\n");
    /* our own parser refuses a response without Call-ID, so read the text */
    assert_int_equal(f->wire.n, 1);
    assert_int_equal(strncmp(f->wire.pkt[0].buf, "SIP/2.0 400 ", 12), 0);
    assert_null(strcasestr(f->wire.pkt[0].buf, "Call-ID"));
    fake_wire_clear(&f->wire);
    assert_int_equal(redirector_stats(f->r)->parse_errors, 1);

    /* answerable but malformed (CSeq method differs, two Content-Lengths):
     * 400 to the source, whatever the Via says */
    rd_sendf(f, &f->a,
             "INVITE sip:16@127.0.0.1:5070 SIP/2.0\n"
             "Via: SIP/2.0/UDP 203.0.113.50:5060;branch=z9hG4bKmismatch\n"
             "From: <sip:12@example.net>;tag=x\n"
             "To: <sip:16@example.net>\n"
             "Call-ID: mismatch@a\n"
             "CSeq: 1 OPTIONS\n"
             "Content-Length: 0\n\n");
    rd_expect_status(f, &f->a, 400);
    rd_sendf(f, &f->a,
             "REGISTER sip:127.0.0.1:5070 SIP/2.0\n"
             "Via: SIP/2.0/UDP 203.0.113.50:5060;branch=z9hG4bKtwocl\n"
             "From: <sip:16@example.net>;tag=x\n"
             "To: <sip:16@example.net>\n"
             "Call-ID: twocl@a\n"
             "CSeq: 1 REGISTER\n"
             "Contact: <sip:16@198.51.100.28:4000>\n"
             "Content-Length: 0\n"
             "Content-Length: 0\n\n");
    rd_expect_status(f, &f->a, 400);
    assert_int_equal(redirector_stats(f->r)->parse_errors, 3);
    assert_int_equal(client_table_count(redirector_clients(f->r)), 0);
    assert_int_equal(redirector_stats(f->r)->requests[RD_INVITE], 0);
    assert_int_equal(redirector_stats(f->r)->requests[RD_REGISTER], 0);
}

static void test_garbage_and_responses_are_dropped(void **state)
{
    struct rd_fixture *f = *state;
    static const char junk[] = "\x00\x01\x02 not SIP at all \xff\xfe";
    redirector_receive(f->r, &f->a, junk, sizeof junk - 1);
    redirector_receive(f->r, &f->a, "", 0);
    redirector_receive(f->r, &f->a, "\r\n\r\n", 4); /* keepalive-style CRLF */
    rd_send_text(f, &f->a, "INVITE\n\n");
    send_fixture(f, &f->a, "unreason"); /* a 200 response */
    send_fixture(f, &f->a, "bcast");    /* a 200 with a broadcast Via */
    send_fixture(f, &f->a, "bigcode");
    assert_int_equal(f->wire.n, 0);
    const struct redirectd_stats *s = redirector_stats(f->r);
    assert_true(s->parse_errors >= 3);
    assert_true(s->stray_responses + s->parse_errors >= 6);
    for (size_t i = 0; i < RD_METHOD_COUNT; i++)
        assert_int_equal(s->requests[i], 0);
}

static void test_every_rfc4475_message_survives(void **state)
{
    struct rd_fixture *f = *state;
    static const char *const all[] = {
        "badaspec",   "badbranch",  "baddate",  "baddn",    "badinv01", "badvers",  "bcast",
        "bext01",     "bigcode",    "clerr",    "cparam01", "cparam02", "dblreq",   "esc01",
        "esc02",      "escnull",    "escruri",  "insuf",    "intmeth",  "inv2543",  "invut",
        "longreq",    "ltgtruri",   "lwsdisp",  "lwsruri",  "lwsstart", "mcl01",    "mismatch01",
        "mismatch02", "mpart01",    "multi01",  "ncl",      "noreason", "novelsc",  "quotbal",
        "regaut01",   "regbadct",   "regescrt", "scalar02", "scalarlg", "sdp01",    "semiuri",
        "test",       "transports", "trws",     "unkscm",   "unksm2",   "unreason", "wsinv",
        "zeromf",
    };
    assert_int_equal(sizeof all / sizeof all[0], 50);
    for (size_t i = 0; i < 50; i++) {
        send_fixture(f, &f->a, all[i]);
        /* at most one answer each, always to the source */
        if (f->wire.n > 1)
            fail_msg("%s: %zu responses", all[i], f->wire.n);
        if (f->wire.n == 1)
            assert_true(addr_equal(&f->wire.pkt[0].to, &f->a));
        fake_wire_clear(&f->wire);
    }
    /* and it still answers */
    rd_invite(f, &f->a, "16", 1);
    rd_expect_status(f, &f->a, 404);
}

static void test_reconfigure_keeps_bindings(void **state)
{
    struct rd_fixture *f = *state;
    rd_register(f, &f->a, "16", "sip:16@198.51.100.28:40312", "reg@a", 1, "");
    rd_expect_status(f, &f->a, 200);

    struct redirectd_conf next = f->conf;
    struct addr only_b = f->b;
    next.proxies.v = &only_b;
    next.proxies.n = 1;
    next.max_expires = 10;
    redirector_reconfigure(f->r, &next);

    rd_invite(f, &f->a, "16", 1); /* A is no longer trusted */
    rd_expect_status(f, &f->a, 403);
    rd_invite(f, &f->b, "16", 2);
    osip_message_t *m = rd_expect(f, &f->b, 302);
    rd_assert_contact(m, "sip:16@127.0.0.1:5060");
    sip_free(m);
    rd_register(f, &f->b, "17", "sip:17@198.51.100.28:40312", "reg@b", 1, "Expires: 60\n");
    m = rd_expect(f, &f->b, 200);
    assert_int_equal(sip_register_expires(m), 10); /* the new max_expires */
    sip_free(m);
    redirector_reconfigure(f->r, &f->conf);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, rd_setup, rd_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_options_answers_200_from_anyone),
        T(test_every_method_is_a_location_query),
        T(test_cancel_gets_481),
        T(test_rfc4475_semantic_checks),
        T(test_require_path_is_supported),
        T(test_bad_requests_get_400_or_are_dropped),
        T(test_garbage_and_responses_are_dropped),
        T(test_every_rfc4475_message_survives),
        T(test_reconfigure_keeps_bindings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The registration module 102 (src/proxyd/registration.c) on its own, on a
 * proxy_env and a fake wire: figure 3b's registration 120 from client 16
 * behind NAT 28 becomes redirect registration 122 to redirect server 20
 * (golden files), redirectd's answer goes back to the phone with its own
 * Contact, step 119 fills the NAT client table, and the failure paths:
 * errors relayed, 408 on silence, 400/483 on bad requests. What the whole
 * proxy does around it (dispatch, drain) is test_proxy.c's. */
#include "registration_harness.h"

/* The module sees REGISTERs only, as behind proxy.c's dispatch. */
static void on_request(void *arg, struct txn_server *st, const osip_message_t *req,
                       const struct proxy_rx *rx)
{
    struct ctx *c = arg;
    if (sip_method_is(req, "REGISTER"))
        registration_on_request(c->reg, st, req, rx);
    else
        (void)txn_server_respond_status(st, 501);
}

static void receive(struct ctx *c, const struct addr *src, const char *text, size_t len)
{
    intake_receive(&c->in, &c->tp, src, text, len);
}

static int setup(void **state)
{
    struct ctx *c = rh_new();
    assert_int_equal(proxy_env_open(&c->env, c->loop, &c->cfg, &rh_timers), 0);
    assert_int_equal(registration_new(&c->reg, &c->env), 0);
    intake_init(&c->in, &c->env, &(struct intake_handlers){.on_request = on_request, .arg = c});
    c->receive = receive;
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    struct ctx *c = *state;
    proxy_env_close(&c->env);
    registration_free(c->reg);
    rh_free(c);
    return 0;
}

/* ---- figure 3b as golden files ---- */

static void fig3b_registration_120_becomes_redirect_registration_122(void **state)
{
    struct ctx *c = *state;
    osip_message_t *m = golden_load("registration/fig3b_registration_120.sip");
    osip_message_t *want = golden_load("registration/fig3b_redirect_registration_122.sip");
    osip_message_t *out = NULL;
    struct addr src = test_addr(NAT28);
    char *text;
    size_t len;
    struct sip_parse_result res;

    assert_int_equal(sip_via_set_received(m, &src), 0);
    assert_int_equal(registration_build_redirect(&out, m, &src, true, &c->cfg, "z9hG4bKph11reg"),
                     0);
    /* compared as it goes on the wire */
    assert_int_equal(sip_serialize(out, &text, &len), 0);
    sip_free(out);
    assert_int_equal(sip_parse(&out, text, len, &res), 0);
    osip_free(text);
    golden_assert_equal(want, out);
    sip_free(out);
    sip_free(want);
    sip_free(m);
}

static void a_public_client_is_registered_without_rewrite(void **state)
{
    struct ctx *c = *state;
    osip_message_t *want = golden_load("registration/public_redirect_registration.sip");
    struct nat_binding b;

    /* not NATed: source = Via, public Contact; Expires 3600 not capped */
    inject_fixture(c, "203.0.113.18:5060", "registration/public_registration.sip");
    osip_message_t *fwd = only_packet_to(c, REDIRECT);
    expect_branch_like(want, fwd);
    golden_assert_equal(want, fwd);
    assert_int_equal(sip_register_expires(fwd), 3600);

    osip_message_t *ok = redirect_ok(fwd, 3600);
    inject_msg(c, REDIRECT, ok);
    osip_message_t *answer = only_packet_to(c, "203.0.113.18:5060");
    assert_int_equal(sip_status(answer), 200);
    assert_int_equal(sip_register_expires(answer), 3600);
    /* no table entry: only NATed clients are in table 32 */
    assert_int_equal(nat_table_lookup(c->env.nat, "18", &b), -ENOENT);
    assert_int_equal(c->env.stats.registrations_ok, 1);
    sip_free(answer);
    sip_free(ok);
    sip_free(fwd);
    sip_free(want);
}

/* ---- the whole round trip ---- */

static void a_nated_registration_round_trip(void **state)
{
    struct ctx *c = *state;
    struct nat_binding b;
    struct addr nat = test_addr(NAT28);

    /* steps 112-118 */
    osip_message_t *fwd = register_16(c);
    osip_message_t *want = golden_load("registration/fig3b_redirect_registration_122.sip");
    expect_branch_like(want, fwd);
    golden_assert_equal(want, fwd);
    sip_free(want);
    /* step 119 waits for redirectd's answer */
    assert_int_equal(nat_table_lookup(c->env.nat, "16", &b), -ENOENT);
    assert_int_equal(registration_pending(c->reg), 1);

    /* the phone retransmits: absorbed, nothing new goes to redirectd */
    inject_fixture(c, NAT28, "registration/fig3b_registration_120.sip");
    assert_int_equal(c->wire.n, 0);

    uint64_t before = loop_now_ms(c->loop);
    osip_message_t *ok = redirect_ok(fwd, 120);
    inject_msg(c, REDIRECT, ok);
    osip_message_t *answer = only_packet_to(c, NAT28);
    uint64_t after = loop_now_ms(c->loop);

    /* the phone sees its own Contact and the granted expiry */
    want = golden_load("registration/fig3b_phone_200.sip");
    set_param(&want->to->gen_params, "tag", sip_to_tag(answer));
    golden_assert_equal(want, answer);
    assert_int_equal(sip_register_expires(answer), 120);

    /* step 119: NAT 28's address, the socket, the expiry */
    assert_int_equal(nat_table_lookup(c->env.nat, "16", &b), 0);
    assert_true(addr_equal(&b.nat, &nat));
    assert_ptr_equal(b.tp.ctx, &c->wire);
    assert_in_range(b.expires_at_ms, before + 120000, after + 120000);
    assert_int_equal(registration_pending(c->reg), 0);

    /* a late retransmission gets the same 200 again, not a second REGISTER */
    inject_fixture(c, NAT28, "registration/fig3b_registration_120.sip");
    osip_message_t *again = only_packet_to(c, NAT28);
    assert_int_equal(sip_status(again), 200);
    assert_string_equal(sip_to_tag(again), sip_to_tag(answer));

    sip_free(again);
    sip_free(want);
    sip_free(answer);
    sip_free(ok);
    sip_free(fwd);
}

static void unregister_removes_the_table_entry(void **state)
{
    struct ctx *c = *state;
    struct nat_binding b;
    osip_message_t *fwd = register_16(c), *ok = redirect_ok(fwd, 120);
    inject_msg(c, REDIRECT, ok);
    sip_free(only_packet_to(c, NAT28));
    sip_free(ok);
    sip_free(fwd);
    assert_int_equal(nat_table_lookup(c->env.nat, "16", &b), 0);

    inject_variant(c, NAT28,
                   (const char *const[]){"z9hG4bKr16a", "z9hG4bKr16b", "CSeq: 1 ", "CSeq: 2 ",
                                         "Expires: 3600", "Expires: 0", NULL});
    fwd = only_packet_to(c, REDIRECT);
    /* Expires 0 is not "capped" into a registration */
    assert_int_equal(sip_register_expires(fwd), 0);
    /* still registered until redirectd agrees */
    assert_int_equal(nat_table_lookup(c->env.nat, "16", &b), 0);
    ok = redirect_ok(fwd, 0);
    inject_msg(c, REDIRECT, ok);
    osip_message_t *answer = only_packet_to(c, NAT28);
    assert_int_equal(sip_status(answer), 200);
    assert_int_equal(sip_contact_count(answer), 0);
    assert_int_equal(nat_table_lookup(c->env.nat, "16", &b), -ENOENT);
    assert_int_equal(c->env.stats.unregistrations, 1);
    sip_free(answer);
    sip_free(ok);
    sip_free(fwd);
}

static void expiry_is_capped_for_nated_clients(void **state)
{
    struct ctx *c = *state;
    static const struct {
        const char *expires_line; /* replaces "Expires: 3600" */
        long forwarded;
    } cases[] = {
        {"Expires: 3600", 120}, /* over the cap */
        {"Expires: 60", 60},    /* under it: untouched */
        {"X-None: 1", 120},     /* absent: the cap, not redirectd's default */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char branch[32], cseq[32];
        snprintf(branch, sizeof branch, "z9hG4bKcap%zu", i);
        snprintf(cseq, sizeof cseq, "CSeq: %zu ", i + 1);
        inject_variant(c, NAT28,
                       (const char *const[]){"z9hG4bKr16a", branch, "CSeq: 1 ", cseq,
                                             "Expires: 3600", cases[i].expires_line, NULL});
        osip_message_t *fwd = only_packet_to(c, REDIRECT);
        assert_int_equal(sip_register_expires(fwd), cases[i].forwarded);
        /* redirectd grants less than asked: the phone and the table follow it */
        osip_message_t *ok = redirect_ok(fwd, cases[i].forwarded - 10);
        inject_msg(c, REDIRECT, ok);
        osip_message_t *answer = only_packet_to(c, NAT28);
        assert_int_equal(sip_register_expires(answer), cases[i].forwarded - 10);
        struct nat_binding nb;
        assert_int_equal(nat_table_lookup(c->env.nat, "16", &nb), 0);
        uint64_t now = loop_now_ms(c->loop);
        assert_in_range(nb.expires_at_ms, now + (uint64_t)(cases[i].forwarded - 10) * 1000 - 50,
                        now + (uint64_t)(cases[i].forwarded - 10) * 1000);
        sip_free(answer);
        sip_free(ok);
        sip_free(fwd);
    }
}

static void redirectd_errors_are_relayed(void **state)
{
    struct ctx *c = *state;
    struct nat_binding b;
    osip_message_t *fwd = register_16(c);
    osip_message_t *err = redirect_status(fwd, 423);
    assert_int_equal(sip_header_set(err, "Min-Expires", "300"), 0);
    inject_msg(c, REDIRECT, err);
    osip_message_t *answer = only_packet_to(c, NAT28);
    assert_int_equal(sip_status(answer), 423);
    assert_string_equal(sip_header_get(answer, "Min-Expires"), "300");
    /* the phone's own transaction: its branch, our To-tag, no redirectd tag */
    struct sip_via_info v;
    assert_int_equal(sip_via_get(answer, 0, &v), 0);
    assert_string_equal(v.branch, "z9hG4bKr16a");
    assert_int_equal(sip_via_count(answer), 1);
    assert_string_not_equal(sip_to_tag(answer), "rd20");
    /* step 119 only after a 200 */
    assert_int_equal(nat_table_lookup(c->env.nat, "16", &b), -ENOENT);
    assert_int_equal(c->env.stats.registrations_failed, 1);
    sip_free(answer);
    sip_free(err);
    sip_free(fwd);
}

static void redirectd_provisional_is_not_relayed(void **state)
{
    struct ctx *c = *state;
    osip_message_t *fwd = register_16(c);
    osip_message_t *trying = redirect_status(fwd, 100);
    inject_msg(c, REDIRECT, trying);
    assert_int_equal(c->wire.n, 0);
    osip_message_t *ok = redirect_ok(fwd, 120);
    inject_msg(c, REDIRECT, ok);
    osip_message_t *answer = only_packet_to(c, NAT28);
    assert_int_equal(sip_status(answer), 200);
    sip_free(answer);
    sip_free(ok);
    sip_free(trying);
    sip_free(fwd);
}

static void stop_loop(struct timer *t, void *arg)
{
    (void)t;
    loop_stop(arg);
}

static void silence_from_redirectd_gives_408_after_64_t1(void **state)
{
    struct ctx *c = *state;
    struct timer *t;
    osip_message_t *fwd = register_16(c);
    sip_free(fwd);

    assert_int_equal(timer_new(&t, c->loop, stop_loop, c->loop), 0);
    timer_start(t, 64 * T1_MS + 300);
    assert_int_equal(loop_run(c->loop), 0);
    timer_free(t);

    /* retransmissions to redirectd (timer E), then one 408 to the phone */
    struct addr rd = test_addr(REDIRECT), phone = test_addr(NAT28);
    size_t to_rd = 0, to_phone = 0, last = 0;
    for (size_t i = 0; i < c->wire.n; i++) {
        if (addr_equal(&c->wire.pkt[i].to, &rd))
            to_rd++;
        if (addr_equal(&c->wire.pkt[i].to, &phone)) {
            to_phone++;
            last = i;
        }
    }
    assert_true(to_rd >= 3);
    assert_int_equal(to_phone, 1);
    osip_message_t *answer = NULL;
    struct sip_parse_result res;
    assert_int_equal(sip_parse(&answer, c->wire.pkt[last].buf, c->wire.pkt[last].len, &res), 0);
    assert_int_equal(sip_status(answer), 408);
    assert_int_equal(c->env.stats.registration_timeouts, 1);
    assert_int_equal(registration_pending(c->reg), 0);
    sip_free(answer);
}

static void bad_registrations_are_refused_without_asking_redirectd(void **state)
{
    struct ctx *c = *state;
    static const struct {
        const char *what, *old, *new;
        int status;
    } cases[] = {
        {"no Contact", "Contact: <sip:16@192.168.1.10:5060>\r\n", "", 400},
        {"two Contacts", "<sip:16@192.168.1.10:5060>",
         "<sip:16@192.168.1.10:5060>, <sip:16@192.168.1.11:5060>", 400},
        {"Contact * with Expires 3600", "<sip:16@192.168.1.10:5060>", "*", 400},
        {"no ID in To", "To: \"16\" <sip:16@203.0.113.11>", "To: <sip:203.0.113.11>", 400},
        {"unreadable Expires", "Expires: 3600", "Expires: soon", 400},
        {"Max-Forwards 0", "Max-Forwards: 70", "Max-Forwards: 0", 483},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char branch[32];
        snprintf(branch, sizeof branch, "z9hG4bKbad%zu", i);
        inject_variant(
            c, NAT28,
            (const char *const[]){"z9hG4bKr16a", branch, cases[i].old, cases[i].new, NULL});
        osip_message_t *answer = only_packet_to(c, NAT28);
        if (sip_status(answer) != cases[i].status)
            fail_msg("%s: answered %d, want %d", cases[i].what, sip_status(answer),
                     cases[i].status);
        sip_free(answer);
    }
    assert_int_equal(c->env.stats.bad_requests, 5);
    assert_int_equal(registration_pending(c->reg), 0);
}

static void bad_input_is_answered_400_or_dropped_and_counted(void **state)
{
    struct ctx *c = *state;
    /* no Call-ID: still told why (issue #5: "no Contact/To/Call-ID/CSeq → 400"),
     * with the identity the request has */
    inject_variant(c, NAT28, (const char *const[]){"Call-ID: reg-16@192.168.1.10\r\n", "", NULL});
    /* our own parser refuses a response without Call-ID, so read the text */
    assert_int_equal(c->wire.n, 1);
    struct addr nat28 = test_addr(NAT28);
    assert_true(addr_equal(&c->wire.pkt[0].to, &nat28));
    assert_int_equal(strncmp(c->wire.pkt[0].buf, "SIP/2.0 400 ", 12), 0);
    assert_null(strcasestr(c->wire.pkt[0].buf, "Call-ID"));
    assert_non_null(strcasestr(c->wire.pkt[0].buf, "CSeq: 1 REGISTER"));
    fake_wire_clear(&c->wire);
    inject_text(c, NAT28, "\x01\x02garbage", 9);
    assert_int_equal(c->wire.n, 0);
    assert_int_equal(c->env.stats.parse_errors, 2);
    /* a phone's own CRLF keepalive is neither an error nor answered */
    inject_text(c, NAT28, "\r\n\r\n", 4);
    assert_int_equal(c->wire.n, 0);
    assert_int_equal(c->env.stats.parse_errors, 2);
}

static void a_client_leaving_its_nat_leaves_the_table(void **state)
{
    struct ctx *c = *state;
    struct nat_binding b;
    osip_message_t *fwd = register_16(c), *ok = redirect_ok(fwd, 120);
    inject_msg(c, REDIRECT, ok);
    sip_free(only_packet_to(c, NAT28));
    sip_free(ok);
    sip_free(fwd);
    assert_int_equal(nat_table_lookup(c->env.nat, "16", &b), 0);

    /* client 16 now sits on a public address: Via = source, public Contact */
    inject_variant(c, "203.0.113.16:5060",
                   (const char *const[]){"z9hG4bKr16a", "z9hG4bKr16p", "CSeq: 1 ", "CSeq: 2 ",
                                         "192.168.1.10:5060;branch", "203.0.113.16:5060;branch",
                                         "<sip:16@192.168.1.10:5060>", "<sip:16@203.0.113.16>",
                                         NULL});
    fwd = only_packet_to(c, REDIRECT);
    assert_int_equal(sip_register_expires(fwd), 3600); /* not capped: not NATed */
    ok = redirect_ok(fwd, 3600);
    inject_msg(c, REDIRECT, ok);
    sip_free(only_packet_to(c, "203.0.113.16:5060"));
    assert_int_equal(nat_table_lookup(c->env.nat, "16", &b), -ENOENT);
    sip_free(ok);
    sip_free(fwd);
}

static void a_send_failure_to_redirectd_is_503(void **state)
{
    struct ctx *c = *state;
    c->wire.fail_with = -ENETUNREACH;
    inject_fixture(c, NAT28, "registration/fig3b_registration_120.sip");
    assert_int_equal(c->wire.n, 0);
    assert_int_equal(registration_pending(c->reg), 0);
    /* the 503 could not go out either; the phone's retransmission gets it */
    c->wire.fail_with = 0;
    inject_fixture(c, NAT28, "registration/fig3b_registration_120.sip");
    osip_message_t *answer = only_packet_to(c, NAT28);
    assert_int_equal(sip_status(answer), 503);
    assert_non_null(sip_header_get(answer, "Retry-After"));
    sip_free(answer);
}

/* RFC 4475's torture messages, each from its own source, through the
 * intake and the registration module (ASan/UBSan watch): nothing crashes
 * or leaks, anything sent is what check_torture_output allows. */
static void survives_the_rfc4475_torture_messages(void **state)
{
    struct ctx *c = *state;
    inject_rfc4475_torture(c);
    assert_true(c->env.stats.parse_errors > 0);
}

/* A user with a second phone (issue #16): redirectd's 200 lists both
 * bindings, the other phone's first; the phone gets its own Contact with
 * its own expiry (not the first one listed), then the other phone's as
 * redirectd holds it (RFC 3261 10.3 step 8). */
static void the_200_lists_the_users_other_phones(void **state)
{
    struct ctx *c = *state;
    struct nat_binding b;
    osip_message_t *fwd = register_16(c), *ok = redirect_ok(fwd, 120);
    sip_contacts_clear(ok);
    assert_int_equal(sip_contact_add(ok, "sip:16@203.0.113.77:5080", 3000, 500), 0);
    assert_int_equal(sip_contact_add(ok, "sip:16@198.51.100.28:40312", 90, -1), 0);
    inject_msg(c, REDIRECT, ok);
    osip_message_t *answer = only_packet_to(c, NAT28);
    assert_int_equal(sip_contact_count(answer), 2);
    char *uri = NULL;
    long e;
    int q;
    assert_int_equal(sip_contact_at(answer, 0, &uri, &e, &q), 0);
    assert_string_equal(uri, "sip:16@192.168.1.10:5060"); /* its own, as it wrote it */
    assert_int_equal(e, 90);
    osip_free(uri);
    assert_int_equal(sip_contact_at(answer, 1, &uri, &e, &q), 0);
    assert_string_equal(uri, "sip:16@203.0.113.77:5080");
    assert_int_equal(e, 3000);
    assert_int_equal(q, 500);
    osip_free(uri);
    /* step 119 with this phone's own lifetime */
    assert_int_equal(nat_table_lookup(c->env.nat, "16", &b), 0);
    assert_true(b.expires_at_ms <= loop_now_ms(c->loop) + 90 * 1000);
    sip_free(answer);
    sip_free(ok);
    sip_free(fwd);
}

int main(void)
{
    assert_int_equal(sip_init(), 0);
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(fig3b_registration_120_becomes_redirect_registration_122),
        T(a_public_client_is_registered_without_rewrite),
        T(a_nated_registration_round_trip),
        T(the_200_lists_the_users_other_phones),
        T(unregister_removes_the_table_entry),
        T(expiry_is_capped_for_nated_clients),
        T(redirectd_errors_are_relayed),
        T(redirectd_provisional_is_not_relayed),
        T(silence_from_redirectd_gives_408_after_64_t1),
        T(bad_registrations_are_refused_without_asking_redirectd),
        T(bad_input_is_answered_400_or_dropped_and_counted),
        T(a_client_leaving_its_nat_leaves_the_table),
        T(a_send_failure_to_redirectd_is_503),
        T(survives_the_rfc4475_torture_messages),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

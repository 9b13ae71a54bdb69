/* Figure 4d on the responses to forwarded INVITEs: figures 6a → 6b at
 * proxy 13, 6b → 6c at proxy 11 (SDP replaced: we hold the resource),
 * 6d → 6e at proxy 11 (Contact of the NATed phone rewritten, SDP
 * replaced), 6e → 14 at proxy 13, 6f at proxy 13 (figure 2c); 100 not
 * forwarded, 183 early media rewritten, 486 relayed with the relay
 * released and the 486 ACKed downstream, a silent downstream → 408; stray
 * responses: a 2xx retransmission forwarded statelessly, one whose top Via
 * is not ours dropped. */
#include "test_messaging_harness.h"

/* Figure 2a signals 7-9 at proxy 13; returns 5c as sent to client 14. */
static osip_message_t *fig2a_at_proxy_13(struct mh *h)
{
    mh_inject_fixture(h, P11, "patent/fig5b_invite.sip");
    mh_expect_status(h, P11, 100, "INVITE");
    osip_message_t *q = mh_take_request(h, REDIRECT, "INVITE");
    mh_redirect_302(h, q, "sip:14@203.0.113.14:5060");
    sip_free(q);
    mh_expect_request(h, REDIRECT, "ACK");
    osip_message_t *fwd = mh_take_request(h, CLIENT14, "INVITE");
    mh_expect_quiet(h);
    return fwd;
}

/* Signals 10-11 of figure 2a at proxy 13. */
static void fig6a_at_proxy_13_becomes_6b(void **state)
{
    struct mh *h = *state;
    osip_message_t *fwd = fig2a_at_proxy_13(h);
    osip_message_t *ok = mh_answer_fixture("patent/fig6a_ok.sip", fwd);
    mh_inject(h, CLIENT14, ok);
    osip_message_t *got = mh_take(h, P11); /* step 228: the next Via */
    osip_message_t *want = golden_load("patent/fig6b_ok.sip");
    golden_assert_equal(want, got);
    mh_expect_quiet(h);
    assert_int_equal(messaging_stats(h->m)->responses_forwarded[1], 1);
    sip_free(want);
    sip_free(got);
    sip_free(ok);
    sip_free(fwd);
}

/* Signal 12 of figure 2a at proxy 11 (steps 220-228). */
static void fig6b_at_proxy_11_becomes_6c(void **state)
{
    struct mh *h = *state;
    mh_fig2a_p11_confirmed(h); /* asserts 6c */
    assert_int_equal(messaging_calls(h->m), 1);
}

/* Figure 2b signals 10-11 at proxy 11: the 200 comes from 16 through NAT
 * 28 with its private Contact and SDP. */
static void fig6d_at_proxy_11_becomes_6e(void **state)
{
    struct mh *h = *state;
    osip_message_t *fwd = mh_fig2b_p11(h);

    osip_message_t *ok = mh_answer_fixture("messaging/fig6d_ok.sip", fwd);
    mh_inject(h, NAT28, ok);
    osip_message_t *got = mh_take(h, P13);
    mh_assert_golden(got, "messaging/fig6e_ok.sip"); /* with 16's IP stamped for P13 */
    /* 16 answered from its NAT: relayd learns that IP with 16's SDP ports */
    mh_expect_report(h, "198.51.100.28;sdp", "192.168.1.10");
    mh_expect_quiet(h);
    sip_free(got);
    sip_free(ok);
    sip_free(fwd);
}

/* Figure 2b signal 12 at proxy 13: no resource here, no NATed sender. */
static void fig6e_at_proxy_13_goes_to_14_unchanged_but_the_via(void **state)
{
    struct mh *h = *state;
    mh_inject_fixture(h, CLIENT14, "messaging/fig5d_invite.sip");
    mh_expect_status(h, CLIENT14, 100, "INVITE");
    osip_message_t *q = mh_take_request(h, REDIRECT, "INVITE");
    mh_redirect_302(h, q, "sip:16@203.0.113.11:5060");
    mh_expect_request(h, REDIRECT, "ACK");
    osip_message_t *fwd = mh_take_request(h, P11, "INVITE");

    osip_message_t *ok = mh_answer_fixture("messaging/fig6e_ok.sip", fwd);
    mh_inject(h, P11, ok);
    osip_message_t *got = mh_take(h, CLIENT14);
    mh_assert_golden(got, "messaging/fig2b_ok_to_14.sip");
    mh_expect_quiet(h);
    sip_free(got);
    sip_free(ok);
    sip_free(fwd);
    sip_free(q);
}

/* Figure 2c signals 10-11 at proxy 13: 18 answers through NAT 30; its
 * Contact is rewritten (decision 7), its SDP left for proxy 11. */
static void fig6f_at_proxy_13_gets_the_nat_contact(void **state)
{
    struct mh *h = *state;
    mh_nat_client(h, "18", NAT30);
    mh_inject_fixture(h, P11, "messaging/fig2c_5b_invite.sip");
    osip_message_t *q = mh_take_request(h, REDIRECT, "INVITE");
    mh_redirect_302(h, q, "sip:18@198.51.100.30:40400");
    osip_message_t *fwd = mh_take_from(&h->nat_wire, NAT30);
    fake_wire_clear(&h->wire);

    osip_message_t *ok = mh_answer_fixture("messaging/fig6f_ok.sip", fwd);
    mh_inject(h, NAT30, ok);
    osip_message_t *got = mh_take(h, P11);
    mh_assert_golden(got, "messaging/fig2c_ok_to_11.sip");
    mh_expect_quiet(h);
    sip_free(got);
    sip_free(ok);
    sip_free(fwd);
    sip_free(q);
}

/* A response to the forwarded INVITE of figure 2a at proxy 11, built from
 * 6b's headers with another status and (optionally) no body. */
static osip_message_t *answer_5b(const osip_message_t *fwd, const char *status_line, bool with_sdp)
{
    osip_message_t *r = mh_answer_fixture("patent/fig6b_ok.sip", fwd);
    char *text, *line_end;
    size_t len;
    struct sip_parse_result res;
    if (!with_sdp)
        assert_int_equal(sip_body_set(r, NULL, 0, NULL), 0);
    assert_int_equal(sip_serialize(r, &text, &len), 0);
    sip_free(r);
    line_end = strstr(text, "\r\n");
    assert_non_null(line_end);
    size_t sl = strlen(status_line);
    char *out = malloc(len + sl + 1);
    assert_non_null(out);
    memcpy(out, status_line, sl);
    memcpy(out + sl, line_end, len - (size_t)(line_end - text));
    size_t out_len = sl + len - (size_t)(line_end - text);
    osip_free(text);
    r = NULL;
    assert_int_equal(sip_parse(&r, out, out_len, &res), 0);
    free(out);
    return r;
}

static void trying_from_downstream_is_not_forwarded(void **state)
{
    struct mh *h = *state;
    osip_message_t *fwd = mh_fig2a_p11(h);
    osip_message_t *r = mh_response(fwd, 100, NULL);
    mh_inject(h, P13, r);
    mh_expect_quiet(h);
    sip_free(r);
    sip_free(fwd);
}

static void ringing_is_forwarded_and_early_media_rewritten(void **state)
{
    struct mh *h = *state;
    char conn[64];
    uint16_t ports[8];
    size_t n;
    osip_message_t *fwd = mh_fig2a_p11(h);

    osip_message_t *r = answer_5b(fwd, "SIP/2.0 180 Ringing", false);
    mh_inject(h, P13, r);
    osip_message_t *got = mh_take(h, NAT28);
    assert_int_equal(sip_status(got), 180);
    assert_int_equal(sip_via_count(got), 1); /* ours popped */
    sip_free(got);
    sip_free(r);

    /* 183 with SDP: rewritten like the 200 (step 224); P13 stamped the
     * answerer's IP, which goes to relayd and never to the caller */
    r = answer_5b(fwd, "SIP/2.0 183 Session Progress", true);
    assert_int_equal(sip_header_set(r, "Pinhole-Source", "198.51.100.14"), 0);
    mh_inject(h, P13, r);
    got = mh_take(h, NAT28);
    assert_int_equal(sip_status(got), 183);
    assert_null(sip_header_get(got, "Pinhole-Source"));
    mh_expect_report(h, "198.51.100.14;sdp", "203.0.113.14");
    mh_sdp(got, conn, sizeof conn, ports, &n);
    assert_string_equal(conn, RELAY_MEDIA);
    assert_int_equal(n, 2);
    assert_int_equal(ports[0], 30000);
    assert_int_equal(ports[1], 30002);
    mh_expect_quiet(h);
    sip_free(got);
    sip_free(r);
    sip_free(fwd);
}

/* A final >= 300: relayed upstream, ACKed downstream by the transaction
 * layer, the relay released (decision 9), the call freed after 64·T1. */
static void busy_is_relayed_acked_and_releases_the_relay(void **state)
{
    struct mh *h = *state;
    osip_message_t *fwd = mh_fig2a_p11(h);
    osip_message_t *r = answer_5b(fwd, "SIP/2.0 486 Busy Here", false);
    mh_inject(h, P13, r);

    osip_message_t *busy = mh_take(h, NAT28);
    assert_int_equal(sip_status(busy), 486);
    mh_expect_request(h, P13, "ACK");
    osip_message_t *bye = mh_take_request(h, RELAY, "BYE");
    char id[64];
    assert_int_equal(sip_call_id(bye, id, sizeof id), 0);
    assert_string_equal(id, "c0ffee-2a@192.168.1.10");
    mh_answer_status(h, RELAY, bye, 200);
    mh_expect_quiet(h);
    assert_int_equal(messaging_stats(h->m)->relay.releases, 1);
    assert_int_equal(messaging_stats(h->m)->responses_forwarded[3], 1);

    /* the caller's ACK for the 486 is absorbed hop by hop, not forwarded */
    osip_message_t *invite = golden_load("patent/fig5a_invite.sip"), *ack = NULL;
    assert_int_equal(sip_ack_for(&ack, invite, busy), 0);
    mh_inject(h, NAT28, ack);
    mh_expect_quiet(h);
    mh_assert_no_calls(h);
    sip_free(ack);
    sip_free(invite);
    sip_free(busy);
    sip_free(bye);
    sip_free(r);
    sip_free(fwd);
}

/* Nobody downstream answers: 408 to the caller (§16.7), relay released. */
static void silent_downstream_is_408(void **state)
{
    struct mh *h = *state;
    osip_message_t *fwd = mh_fig2a_p11(h);
    mh_run(h, MH_64T1 + 5 * MH_T1);
    mh_expect_status(h, NAT28, 408, "INVITE");
    osip_message_t *bye = mh_take_request(h, RELAY, "BYE");
    fake_wire_clear(&h->wire); /* the INVITE's retransmissions to proxy 13 */
    assert_int_equal(messaging_stats(h->m)->invites_timeout, 1);
    mh_assert_no_calls(h);
    sip_free(bye);
    sip_free(fwd);
}

/* RFC 6026: a 2xx retransmitted after our client transaction accepted the
 * first goes on statelessly, rewritten the same way. */
static void retransmitted_200_is_forwarded_statelessly(void **state)
{
    struct mh *h = *state;
    osip_message_t *fwd = mh_fig2a_p11(h);
    osip_message_t *ok = mh_answer_fixture("patent/fig6b_ok.sip", fwd);
    mh_inject(h, P13, ok);
    sip_free(mh_take(h, NAT28));
    mh_expect_report(h, "203.0.113.14;sdp", "203.0.113.14");
    mh_inject(h, P13, ok);
    osip_message_t *got = mh_take(h, NAT28);
    mh_assert_golden(got, "patent/fig6c_ok.sip");
    mh_expect_quiet(h); /* reported once */
    assert_int_equal(messaging_stats(h->m)->stray_forwarded, 1);
    sip_free(got);
    sip_free(ok);
    sip_free(fwd);
}

/* The phone rang for longer than the caller's transaction waits: the
 * answer still reaches the caller, statelessly, rewritten. */
static void late_200_after_the_callers_transaction_ended_is_forwarded(void **state)
{
    struct mh *h = *state;
    osip_message_t *fwd = mh_fig2a_p11(h);
    osip_message_t *ringing = answer_5b(fwd, "SIP/2.0 180 Ringing", false);
    mh_inject(h, P13, ringing);
    sip_free(mh_take(h, NAT28));
    /* a second 180 keeps our client transaction waiting past the caller's */
    mh_run(h, MH_TXN_MAX - 100);
    mh_inject(h, P13, ringing);
    sip_free(mh_take(h, NAT28));
    mh_run(h, 200);
    fake_wire_clear(&h->wire);

    osip_message_t *ok = mh_answer_fixture("patent/fig6b_ok.sip", fwd);
    mh_inject(h, P13, ok);
    osip_message_t *got = mh_take(h, NAT28);
    mh_assert_golden(got, "patent/fig6c_ok.sip");
    mh_expect_report(h, "203.0.113.14;sdp", "203.0.113.14");
    mh_expect_quiet(h);
    sip_free(got);
    sip_free(ok);
    sip_free(ringing);
    sip_free(fwd);
}

/* The stray 2xx of a call we no longer have state for (a restart): routed
 * by its Via alone, SDP untouched. */
static void stray_200_without_call_state_keeps_its_sdp(void **state)
{
    struct mh *h = *state;
    mh_inject_fixture(h, P13, "patent/fig6b_ok.sip");
    osip_message_t *got = mh_take(h, NAT28);
    assert_int_equal(sip_via_count(got), 1);
    char conn[64];
    uint16_t ports[8];
    size_t n;
    mh_sdp(got, conn, sizeof conn, ports, &n);
    assert_string_equal(conn, "203.0.113.14");
    mh_expect_quiet(h);
    sip_free(got);
}

/* Step 220 refuses a response whose top Via is not ours (rfc4475 bcast and
 * friends): dropped, counted. */
static void response_with_foreign_top_via_is_dropped(void **state)
{
    struct mh *h = *state;
    mh_inject_fixture(h, CLIENT14, "patent/fig6a_ok.sip"); /* top Via: proxy 13 */
    mh_expect_quiet(h);
    assert_int_equal(messaging_stats(h->m)->stray_dropped, 1);
    assert_int_equal(messaging_stats(h->m)->stray_forwarded, 0);
}

/* Only 2xx to INVITE are forwarded statelessly; a stray 180 or a late 302
 * from our own redirect server never reaches a phone. */
static void other_stray_responses_are_dropped(void **state)
{
    struct mh *h = *state;
    mh_inject_variant(h, P13, "patent/fig6b_ok.sip", "SIP/2.0 200 OK", "SIP/2.0 180 Ringing");
    mh_inject_fixture(h, REDIRECT, "patent/fig6b_ok.sip");
    mh_expect_quiet(h);
    assert_int_equal(messaging_stats(h->m)->stray_dropped, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(fig6a_at_proxy_13_becomes_6b, mh_setup_p13, mh_teardown),
        cmocka_unit_test_setup_teardown(fig6b_at_proxy_11_becomes_6c, mh_setup_p11, mh_teardown),
        cmocka_unit_test_setup_teardown(fig6d_at_proxy_11_becomes_6e, mh_setup_p11, mh_teardown),
        cmocka_unit_test_setup_teardown(fig6e_at_proxy_13_goes_to_14_unchanged_but_the_via,
                                        mh_setup_p13, mh_teardown),
        cmocka_unit_test_setup_teardown(fig6f_at_proxy_13_gets_the_nat_contact, mh_setup_p13,
                                        mh_teardown),
        cmocka_unit_test_setup_teardown(trying_from_downstream_is_not_forwarded, mh_setup_p11,
                                        mh_teardown),
        cmocka_unit_test_setup_teardown(ringing_is_forwarded_and_early_media_rewritten,
                                        mh_setup_p11, mh_teardown),
        cmocka_unit_test_setup_teardown(busy_is_relayed_acked_and_releases_the_relay, mh_setup_p11,
                                        mh_teardown),
        cmocka_unit_test_setup_teardown(silent_downstream_is_408, mh_setup_p11, mh_teardown),
        cmocka_unit_test_setup_teardown(retransmitted_200_is_forwarded_statelessly, mh_setup_p11,
                                        mh_teardown),
        cmocka_unit_test_setup_teardown(late_200_after_the_callers_transaction_ended_is_forwarded,
                                        mh_setup_p11, mh_teardown),
        cmocka_unit_test_setup_teardown(stray_200_without_call_state_keeps_its_sdp, mh_setup_p11,
                                        mh_teardown),
        cmocka_unit_test_setup_teardown(response_with_foreign_top_via_is_dropped, mh_setup_p11,
                                        mh_teardown),
        cmocka_unit_test_setup_teardown(other_stray_responses_are_dropped, mh_setup_p11,
                                        mh_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

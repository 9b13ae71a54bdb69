/* Late offer (RFC 3264 section 5, issue #16): an INVITE without SDP from a
 * NATed phone gets its relay from the 200's offer (held until relayd has
 * answered, then pointed at the relay) and the ACK's answer (pointed at
 * the relay too, and reported to relayd with the caller's ports). */
#include "test_messaging_harness.h"

static const char ANSWER_16[] = "v=0\r\no=16 7 7 IN IP4 192.168.1.10\r\ns=-\r\n"
                                "c=IN IP4 192.168.1.10\r\nt=0 0\r\n"
                                "m=audio 49170 RTP/AVP 0\r\nm=video 51372 RTP/AVP 31\r\n";

/* Figure 2a's signals 1-6 with no SDP in the INVITE: nothing is asked of
 * relayd; returns the INVITE forwarded to P13 (no SDP either). */
static osip_message_t *fig2a_without_sdp(struct mh *h)
{
    osip_message_t *inv = golden_load("patent/fig5a_invite.sip");
    assert_int_equal(sip_body_set(inv, NULL, 0, NULL), 0);
    mh_inject(h, NAT28, inv);
    sip_free(inv);
    mh_expect_status(h, NAT28, 100, "INVITE");
    osip_message_t *q = mh_take_request(h, REDIRECT, "INVITE");
    assert_int_equal(mh_count_to(&h->wire, RELAY), 0); /* no offer: no relay yet */
    mh_redirect_302(h, q, "sip:14@203.0.113.13:5060");
    sip_free(q);
    mh_expect_request(h, REDIRECT, "ACK");
    osip_message_t *fwd = mh_take_request(h, P13, "INVITE");
    assert_false(sip_body_is_sdp(fwd));
    mh_expect_quiet(h);
    return fwd;
}

static osip_message_t *ack_with_answer(void)
{
    osip_message_t *ack = golden_load("messaging/ack_2a.sip");
    assert_int_equal(sip_body_set(ack, ANSWER_16, strlen(ANSWER_16), "application/sdp"), 0);
    return ack;
}

static void the_offer_in_the_200_gets_the_relay(void **state)
{
    struct mh *h = *state;
    char conn[64];
    uint16_t ports[8];
    size_t n;
    osip_message_t *fwd = fig2a_without_sdp(h);

    /* 14's 200 carries the offer: held, relayd asked with it */
    osip_message_t *ok = mh_answer_fixture("patent/fig6b_ok.sip", fwd);
    mh_inject(h, P13, ok);
    osip_message_t *rq = mh_take_request(h, RELAY, "INVITE");
    assert_string_equal(sip_header_get(rq, "Pinhole-Sources"), "203.0.113.14;sdp, 198.51.100.28");
    mh_sdp(rq, conn, sizeof conn, ports, &n);
    assert_string_equal(conn, "203.0.113.14"); /* 14's own offer */
    assert_int_equal(mh_count_to(&h->wire, NAT28), 0);
    /* a retransmitted 200 meanwhile is not let through unrelayed */
    mh_inject(h, P13, ok);
    assert_int_equal(mh_count_to(&h->wire, NAT28), 0);
    mh_relay_302(h, RELAY, rq, (const uint16_t[]){30000, 30002}, 2);
    mh_expect_request(h, RELAY, "ACK");
    osip_message_t *got = mh_take(h, NAT28);
    assert_int_equal(sip_status(got), 200);
    mh_sdp(got, conn, sizeof conn, ports, &n);
    assert_string_equal(conn, RELAY_MEDIA);
    assert_int_equal(ports[0], 30000);
    assert_int_equal(ports[1], 30002);
    mh_expect_quiet(h); /* no report: the query named 14 already */

    /* 16's ACK carries the answer: pointed at the relay, and reported */
    osip_message_t *ack = ack_with_answer();
    mh_inject(h, NAT28, ack);
    osip_message_t *ack_fwd = mh_take_request(h, P13, "ACK");
    mh_sdp(ack_fwd, conn, sizeof conn, ports, &n);
    assert_string_equal(conn, RELAY_MEDIA);
    assert_int_equal(ports[0], 30000);
    mh_expect_report(h, "198.51.100.28;sdp", "192.168.1.10");
    mh_expect_quiet(h);
    assert_int_equal(messaging_stats(h->m)->relay.allocations, 1);
    assert_int_equal(messaging_stats(h->m)->relay.reports, 1);
    sip_free(ack_fwd);
    sip_free(ack);
    sip_free(got);
    sip_free(rq);
    sip_free(ok);
    sip_free(fwd);
}

/* A 183 with the offer starts the query; the 200 that comes while relayd
 * thinks replaces it (the 183 is not needed once answered). */
static void a_200_during_the_query_replaces_the_held_183(void **state)
{
    struct mh *h = *state;
    osip_message_t *fwd = fig2a_without_sdp(h);
    osip_message_t *ok = mh_answer_fixture("patent/fig6b_ok.sip", fwd);
    char *text;
    size_t len;
    assert_int_equal(sip_serialize(ok, &text, &len), 0);
    char *early = malloc(len + 16);
    assert_non_null(early);
    const char *rest = strstr(text, "\r\n");
    int k = snprintf(early, len + 16, "SIP/2.0 183 Session Progress%s", rest);
    mh_inject_text(h, P13, early, (size_t)k);
    osip_message_t *rq = mh_take_request(h, RELAY, "INVITE");
    mh_inject(h, P13, ok);
    assert_int_equal(mh_count_to(&h->wire, RELAY), 0); /* asked once */
    mh_relay_302(h, RELAY, rq, (const uint16_t[]){30000, 30002}, 2);
    mh_expect_request(h, RELAY, "ACK");
    osip_message_t *got = mh_take(h, NAT28);
    assert_int_equal(sip_status(got), 200);
    mh_expect_quiet(h);
    sip_free(got);
    sip_free(rq);
    free(early);
    osip_free(text);
    sip_free(ok);
    sip_free(fwd);
}

/* relayd refuses: the answer still reaches the caller (a call with
 * one-way media beats no call), unrelayed, with a log line. */
static void no_relay_for_the_late_offer_still_connects(void **state)
{
    struct mh *h = *state;
    osip_message_t *fwd = fig2a_without_sdp(h);
    osip_message_t *ok = mh_answer_fixture("patent/fig6b_ok.sip", fwd);
    mh_inject(h, P13, ok);
    osip_message_t *rq = mh_take_request(h, RELAY, "INVITE");
    mh_answer_status(h, RELAY, rq, 503);
    osip_message_t *got = mh_take(h, NAT28);
    fake_wire_clear(&h->wire); /* the ACK of the 503 */
    assert_int_equal(sip_status(got), 200);
    char conn[64];
    uint16_t ports[8];
    size_t n;
    mh_sdp(got, conn, sizeof conn, ports, &n);
    assert_string_equal(conn, "203.0.113.14");
    sip_free(got);
    sip_free(rq);
    sip_free(ok);
    sip_free(fwd);
}

/* The caller CANCELs while relayd is asked: nothing leaks, the session
 * relayd gives is released. */
static void a_cancel_during_the_query_releases_what_relayd_gives(void **state)
{
    struct mh *h = *state;
    osip_message_t *fwd = fig2a_without_sdp(h);
    osip_message_t *ringing = mh_answer_fixture("patent/fig6b_ok.sip", fwd);
    char *text;
    size_t len;
    assert_int_equal(sip_serialize(ringing, &text, &len), 0);
    char early[4096];
    int k = snprintf(early, sizeof early, "SIP/2.0 183 Session Progress%s", strstr(text, "\r\n"));
    mh_inject_text(h, P13, early, (size_t)k);
    osip_message_t *rq = mh_take_request(h, RELAY, "INVITE");
    mh_inject_fixture(h, NAT28, "messaging/fig5a_cancel.sip");
    mh_expect_status(h, NAT28, 200, "CANCEL");
    mh_expect_request(h, P13, "CANCEL");
    mh_answer_status(h, P13, fwd, 487); /* 14 gives up ringing */
    mh_expect_status(h, NAT28, 487, "INVITE");
    fake_wire_clear(&h->wire);
    mh_relay_302(h, RELAY, rq, (const uint16_t[]){30000, 30002}, 2);
    mh_expect_request(h, RELAY, "ACK");
    mh_expect_request(h, RELAY, "BYE"); /* the session relayd just made, released */
    assert_int_equal(messaging_stats(h->m)->relay.releases, 1);
    fake_wire_clear(&h->wire);
    osip_free(text);
    sip_free(rq);
    sip_free(ringing);
    sip_free(fwd);
}

/* A confirmed relayed call (figure 2a, relay ports 30000/30002); 14's
 * SDP as it would offer it from its public address. */
static const char OFFER_14[] = "v=0\r\no=14 9 9 IN IP4 203.0.113.14\r\ns=-\r\n"
                               "c=IN IP4 203.0.113.14\r\nt=0 0\r\nm=audio 3456 RTP/AVP 0\r\n";

static void expect_relayed(const osip_message_t *m)
{
    char conn[64];
    uint16_t ports[4];
    size_t n;
    mh_sdp(m, conn, sizeof conn, ports, &n);
    assert_string_equal(conn, RELAY_MEDIA);
    assert_int_equal(ports[0], 30000);
}

/* RFC 3264 section 5 in a dialog: a re-INVITE without SDP (a PBX asking
 * "what do you have now?"). Nothing is asked of relayd; 14's offer in the
 * 200 reaches 16 pointed at the call's relay, and 16's answer in the ACK
 * reaches 14 pointed at it too: the media stays relayed both ways. */
static void a_reinvite_without_sdp_keeps_the_relay_both_ways(void **state)
{
    struct mh *h = *state;
    mh_fig2a_p11_confirmed(h);
    osip_message_t *re = golden_load("messaging/reinvite_hold.sip");
    assert_int_equal(sip_body_set(re, NULL, 0, NULL), 0);
    mh_inject(h, NAT28, re);
    mh_expect_status(h, NAT28, 100, "INVITE");
    osip_message_t *fwd = mh_take_request(h, P13, "INVITE");
    assert_false(sip_body_is_sdp(fwd));
    assert_int_equal(mh_count_to(&h->wire, RELAY), 0);
    mh_expect_quiet(h);

    osip_message_t *ok = mh_response(fwd, 200, "t14");
    assert_int_equal(sip_body_set(ok, OFFER_14, strlen(OFFER_14), "application/sdp"), 0);
    assert_int_equal(sip_contact_replace(ok, "sip:14@203.0.113.14:5060", -1), 0);
    mh_inject(h, P13, ok);
    osip_message_t *got = mh_take(h, NAT28);
    assert_int_equal(sip_status(got), 200);
    expect_relayed(got);
    mh_expect_quiet(h);

    char *text = mh_variant("messaging/ack_2a.sip", (const char *const[]){"1 ACK", "3 ACK", NULL});
    osip_message_t *ack = NULL;
    struct sip_parse_result res;
    assert_int_equal(sip_parse(&ack, text, strlen(text), &res), 0);
    free(text);
    assert_int_equal(sip_body_set(ack, ANSWER_16, strlen(ANSWER_16), "application/sdp"), 0);
    mh_inject(h, NAT28, ack);
    osip_message_t *ack_fwd = mh_take_request(h, P13, "ACK");
    expect_relayed(ack_fwd);
    mh_expect_quiet(h);
    assert_int_equal(messaging_calls(h->m), 1);
    sip_free(ack_fwd);
    sip_free(ack);
    sip_free(got);
    sip_free(ok);
    sip_free(fwd);
    sip_free(re);
}

/* RFC 3311: an UPDATE with a new offer re-asks relayd like a re-INVITE
 * (same Call-ID: same ports), and its answer comes back relayed. */
static void an_update_with_sdp_is_relayed_like_a_reinvite(void **state)
{
    struct mh *h = *state;
    mh_fig2a_p11_confirmed(h);
    char *text = mh_variant(
        "messaging/reinvite_resume.sip",
        (const char *const[]){"INVITE sip:", "UPDATE sip:", "4 INVITE", "4 UPDATE", NULL});
    mh_inject_text(h, NAT28, text, strlen(text));
    free(text);
    /* the offer goes to relayd first, as a re-INVITE's does */
    osip_message_t *rq = mh_take_request(h, RELAY, "INVITE"); /* relayd takes INVITEs */
    uint32_t n;
    const char *method;
    assert_int_equal(sip_cseq(rq, &n, &method), 0);
    assert_string_equal(method, "INVITE");
    mh_relay_302(h, RELAY, rq, (const uint16_t[]){30000, 30002}, 2);
    mh_expect_request(h, RELAY, "ACK");
    osip_message_t *fwd = mh_take_request(h, P13, "UPDATE");
    expect_relayed(fwd);
    osip_message_t *ok = mh_response(fwd, 200, "t14");
    assert_int_equal(sip_body_set(ok, OFFER_14, strlen(OFFER_14), "application/sdp"), 0);
    mh_inject(h, P13, ok);
    osip_message_t *got = mh_take(h, NAT28);
    assert_int_equal(sip_status(got), 200);
    expect_relayed(got);
    mh_expect_quiet(h);
    sip_free(got);
    sip_free(ok);
    sip_free(fwd);
    sip_free(rq);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_reinvite_without_sdp_keeps_the_relay_both_ways,
                                        mh_setup_p11, mh_teardown),
        cmocka_unit_test_setup_teardown(an_update_with_sdp_is_relayed_like_a_reinvite, mh_setup_p11,
                                        mh_teardown),
        cmocka_unit_test_setup_teardown(the_offer_in_the_200_gets_the_relay, mh_setup_p11,
                                        mh_teardown),
        cmocka_unit_test_setup_teardown(a_200_during_the_query_replaces_the_held_183, mh_setup_p11,
                                        mh_teardown),
        cmocka_unit_test_setup_teardown(no_relay_for_the_late_offer_still_connects, mh_setup_p11,
                                        mh_teardown),
        cmocka_unit_test_setup_teardown(a_cancel_during_the_query_releases_what_relayd_gives,
                                        mh_setup_p11, mh_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

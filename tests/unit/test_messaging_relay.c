/* Figure 4b, the relay query, and its failures: a relay that times out or
 * refuses is replaced by the next of `relays` (decision 12), all failing
 * is 503 upstream; the resource of a failed call is released. */
#include "test_messaging_harness.h"

static int setup_two_relays(void **state)
{
    *state = mh_new(P11, 2);
    return 0;
}

static int setup_no_relay(void **state)
{
    *state = mh_new(P11, 0);
    return 0;
}

/* Figure 5a at proxy 11 with redirectd answered at once; returns the
 * first relay query (to RELAY). */
static osip_message_t *fig5a_redirect_answered(struct mh *h)
{
    mh_inject_fixture(h, NAT28, "patent/fig5a_invite.sip");
    mh_expect_status(h, NAT28, 100, "INVITE");
    osip_message_t *rq = mh_take_request(h, RELAY, "INVITE");
    osip_message_t *q = mh_take_request(h, REDIRECT, "INVITE");
    mh_redirect_302(h, q, "sip:14@203.0.113.13:5060");
    mh_expect_request(h, REDIRECT, "ACK");
    mh_expect_quiet(h);
    sip_free(q);
    return rq;
}

static void expect_forward_with_ports(struct mh *h, uint16_t audio, uint16_t video)
{
    char conn[64];
    uint16_t ports[8];
    size_t n;
    osip_message_t *fwd = mh_take_request(h, P13, "INVITE");
    mh_sdp(fwd, conn, sizeof conn, ports, &n);
    assert_string_equal(conn, RELAY_MEDIA);
    assert_int_equal(n, 2);
    assert_int_equal(ports[0], audio);
    assert_int_equal(ports[1], video);
    sip_free(fwd);
}

/* Relay 22 never answers: retransmitted per timer A, given up at 64·T1
 * (timer B), then relay 23 is asked and its resource used. */
static void relay_timeout_moves_to_the_next_relay(void **state)
{
    struct mh *h = *state;
    osip_message_t *rq = fig5a_redirect_answered(h);
    mh_run(h, MH_64T1 + 5 * MH_T1);
    assert_true(mh_count_to(&h->wire, RELAY) >= 5); /* timer A resends */
    osip_message_t *rq2 = mh_take_request(h, RELAY_B, "INVITE");
    fake_wire_clear(&h->wire); /* resends of both queries */
    assert_string_not_equal(mh_branch(rq2, 0), mh_branch(rq, 0));
    char *uri = NULL;
    assert_int_equal(osip_uri_to_str(rq2->req_uri, &uri), 0);
    assert_string_equal(uri, "sip:14@203.0.113.23:5060"); /* step 144b, the new relay */
    osip_free(uri);

    mh_relay_302(h, RELAY_B, rq2, (const uint16_t[]){40000, 40002}, 2);
    mh_expect_request(h, RELAY_B, "ACK");
    expect_forward_with_ports(h, 40000, 40002);
    mh_expect_quiet(h);
    assert_int_equal(messaging_stats(h->m)->relay.failures, 1);
    assert_int_equal(messaging_stats(h->m)->relay.allocations, 1);
    sip_free(rq2);
    sip_free(rq);
}

/* A relay out of ports (503) is skipped at once. */
static void relay_503_moves_to_the_next_relay(void **state)
{
    struct mh *h = *state;
    osip_message_t *rq = fig5a_redirect_answered(h);
    mh_answer_status(h, RELAY, rq, 503);
    mh_expect_request(h, RELAY, "ACK");
    osip_message_t *rq2 = mh_take_request(h, RELAY_B, "INVITE");
    mh_relay_302(h, RELAY_B, rq2, (const uint16_t[]){40000, 40002}, 2);
    mh_expect_request(h, RELAY_B, "ACK");
    expect_forward_with_ports(h, 40000, 40002);
    mh_expect_quiet(h);
    sip_free(rq2);
    sip_free(rq);
}

/* A 302 without SDP names no resource: not a usable answer. */
static void relay_302_without_sdp_moves_to_the_next_relay(void **state)
{
    struct mh *h = *state;
    osip_message_t *rq = fig5a_redirect_answered(h);
    mh_answer_status(h, RELAY, rq, 302);
    mh_expect_request(h, RELAY, "ACK");
    sip_free(mh_take_request(h, RELAY_B, "INVITE"));
    sip_free(rq);
}

/* Every relay refuses: 503 to the caller, nothing forwarded, nothing to
 * release, the call freed after 64·T1. */
static void all_relays_failing_is_503(void **state)
{
    struct mh *h = *state;
    osip_message_t *rq = fig5a_redirect_answered(h);
    mh_answer_status(h, RELAY, rq, 503);
    mh_expect_request(h, RELAY, "ACK");
    osip_message_t *rq2 = mh_take_request(h, RELAY_B, "INVITE");
    mh_answer_status(h, RELAY_B, rq2, 500);
    mh_expect_request(h, RELAY_B, "ACK");
    mh_expect_status(h, NAT28, 503, "INVITE");
    mh_expect_quiet(h);
    assert_int_equal(messaging_stats(h->m)->invites_unavailable, 1);
    assert_int_equal(messaging_stats(h->m)->relay.releases, 0);
    mh_assert_no_calls(h);
    sip_free(rq2);
    sip_free(rq);
}

/* relayd down (nobody answers) with one relay: 503 after 64·T1. */
static void relay_down_is_503(void **state)
{
    struct mh *h = *state;
    osip_message_t *rq = fig5a_redirect_answered(h);
    mh_run(h, MH_64T1 + 5 * MH_T1);
    mh_expect_status(h, NAT28, 503, "INVITE");
    assert_int_equal(mh_count_to(&h->wire, P13), 0);
    fake_wire_clear(&h->wire);
    mh_assert_no_calls(h);
    sip_free(rq);
}

static void no_relay_configured_is_503(void **state)
{
    struct mh *h = *state;
    mh_inject_fixture(h, NAT28, "patent/fig5a_invite.sip");
    mh_expect_status(h, NAT28, 100, "INVITE");
    mh_expect_status(h, NAT28, 503, "INVITE");
    mh_expect_quiet(h); /* not even redirectd was asked */
    mh_assert_no_calls(h);
}

/* The release BYE (decision 9) names the Call-ID, goes to the relay that
 * allocated (here the second one), and its loss is only counted. */
static void release_goes_to_the_allocating_relay(void **state)
{
    struct mh *h = *state;
    osip_message_t *rq = fig5a_redirect_answered(h);
    mh_answer_status(h, RELAY, rq, 503);
    osip_message_t *rq2 = mh_take_request(h, RELAY_B, "INVITE");
    mh_relay_302(h, RELAY_B, rq2, (const uint16_t[]){40000, 40002}, 2);
    osip_message_t *fwd = mh_take_request(h, P13, "INVITE");
    fake_wire_clear(&h->wire);

    mh_answer_status(h, P13, fwd, 603);
    osip_message_t *bye = mh_take_request(h, RELAY_B, "BYE");
    assert_int_equal(mh_count_to(&h->wire, RELAY), 0);
    char id[64], *uri = NULL;
    assert_int_equal(sip_call_id(bye, id, sizeof id), 0);
    assert_string_equal(id, "c0ffee-2a@192.168.1.10");
    assert_int_equal(osip_uri_to_str(bye->req_uri, &uri), 0);
    assert_string_equal(uri, "sip:14@203.0.113.23:5060");
    osip_free(uri);
    /* relayd never answers it: counted, no retry beyond the transaction */
    fake_wire_clear(&h->wire);
    mh_assert_no_calls(h);
    assert_int_equal(messaging_stats(h->m)->relay.releases, 1);
    assert_int_equal(messaging_stats(h->m)->relay.release_failures, 1);
    sip_free(bye);
    sip_free(fwd);
    sip_free(rq2);
    sip_free(rq);
}

/* ---- who may latch (issue #15): Pinhole-Source(s) cannot be forged ---- */

/* A phone names an outsider's IP for its call: the header is removed, the
 * relay hears the phone's own NAT address, P13 gets ours. */
static void a_phone_cannot_name_the_ip_that_latches(void **state)
{
    struct mh *h = *state;
    mh_inject_variant(h, NAT28, "patent/fig5a_invite.sip", "CSeq: 1 INVITE\r\n",
                      "CSeq: 1 INVITE\r\nPinhole-Source: 192.0.2.66\r\n"
                      "Pinhole-Sources: 192.0.2.66;sdp\r\n");
    mh_expect_status(h, NAT28, 100, "INVITE");
    osip_message_t *rq = mh_take_request(h, RELAY, "INVITE");
    assert_string_equal(sip_header_get(rq, "Pinhole-Sources"), "198.51.100.28;sdp");
    assert_null(sip_header_get(rq, "Pinhole-Source"));
    osip_message_t *q = mh_take_request(h, REDIRECT, "INVITE");
    mh_redirect_302(h, q, "sip:14@203.0.113.13:5060");
    mh_expect_request(h, REDIRECT, "ACK");
    mh_relay_302(h, RELAY, rq, (const uint16_t[]){30000, 30002}, 2);
    mh_expect_request(h, RELAY, "ACK");
    osip_message_t *fwd = mh_take_request(h, P13, "INVITE");
    assert_string_equal(sip_header_get(fwd, "Pinhole-Source"), "198.51.100.28");
    /* one header only: the forged one is gone */
    size_t stamps = 0;
    for (int i = 0; i < osip_list_size(&fwd->headers); i++) {
        osip_header_t *hd = osip_list_get(&fwd->headers, i);
        stamps += osip_strcasecmp(hd->hname, "Pinhole-Source") == 0;
    }
    assert_int_equal(stamps, 1);

    /* the callee's 200 comes back from P13 stamped; relayd gets that IP */
    osip_message_t *ok = mh_answer_fixture("patent/fig6b_ok.sip", fwd);
    mh_inject(h, P13, ok);
    osip_message_t *got = mh_take(h, NAT28);
    assert_null(sip_header_get(got, "Pinhole-Source"));
    mh_expect_report(h, "203.0.113.14;sdp", "203.0.113.14");
    mh_expect_quiet(h);
    assert_int_equal(messaging_stats(h->m)->relay.reports, 1);
    sip_free(got);
    sip_free(ok);
    sip_free(fwd);
    sip_free(q);
    sip_free(rq);
}

/* An answer from a phone (not a peer) with a stamp of its own: relayd
 * hears the packet's source, not the stamp; a second answer with SDP does
 * not report again. */
static void an_answering_phone_cannot_name_the_ip_either(void **state)
{
    struct mh *h = *state;
    osip_message_t *fwd = mh_fig2b_p11(h);

    osip_message_t *ok = mh_answer_fixture("messaging/fig6d_ok.sip", fwd);
    assert_int_equal(sip_header_set(ok, "Pinhole-Source", "192.0.2.66"), 0);
    mh_inject(h, NAT28, ok);
    osip_message_t *got = mh_take(h, P13);
    assert_string_equal(sip_header_get(got, "Pinhole-Source"), "198.51.100.28");
    mh_expect_report(h, "198.51.100.28;sdp", "192.168.1.10");
    mh_inject(h, NAT28, ok); /* a retransmission */
    sip_free(mh_take(h, P13));
    mh_expect_quiet(h);
    sip_free(got);
    sip_free(ok);
    sip_free(fwd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(relay_timeout_moves_to_the_next_relay, setup_two_relays,
                                        mh_teardown),
        cmocka_unit_test_setup_teardown(relay_503_moves_to_the_next_relay, setup_two_relays,
                                        mh_teardown),
        cmocka_unit_test_setup_teardown(relay_302_without_sdp_moves_to_the_next_relay,
                                        setup_two_relays, mh_teardown),
        cmocka_unit_test_setup_teardown(all_relays_failing_is_503, setup_two_relays, mh_teardown),
        cmocka_unit_test_setup_teardown(relay_down_is_503, mh_setup_p11, mh_teardown),
        cmocka_unit_test_setup_teardown(no_relay_configured_is_503, setup_no_relay, mh_teardown),
        cmocka_unit_test_setup_teardown(release_goes_to_the_allocating_relay, setup_two_relays,
                                        mh_teardown),
        cmocka_unit_test_setup_teardown(a_phone_cannot_name_the_ip_that_latches, mh_setup_p11,
                                        mh_teardown),
        cmocka_unit_test_setup_teardown(an_answering_phone_cannot_name_the_ip_either, mh_setup_p11,
                                        mh_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

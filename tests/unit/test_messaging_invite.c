/* Figure 4a on a new INVITE, through proxyd on a fake wire: figure 5a at
 * proxy 11 (NATed caller: relay invite 8a and redirect invite 7a at once,
 * then forwarding invite 5b), figure 5b at proxy 13 (no relay: already in
 * the SDP, step 152b) → 5c, figure 5d at proxy 13 (public caller) → 5e,
 * and the INVITEs answered here: 483, 482, 404, 416. */
#include "test_messaging_harness.h"

static void fig5a_becomes_8a_7a_then_5b(void **state)
{
    struct mh *h = *state;
    osip_message_t *fwd = mh_fig2a_p11(h);
    mh_assert_golden(fwd, "patent/fig5b_invite.sip");
    sip_free(fwd);

    const struct messaging_stats *s = messaging_stats(h->m);
    assert_int_equal(s->invites, 1);
    assert_int_equal(s->invites_forwarded, 1);
    assert_int_equal(s->relay.allocations, 1);
    assert_int_equal(s->redirect.moved, 1);
    assert_int_equal(messaging_calls(h->m), 1);
}

/* Decision 12: the two answers may come in either order. */
static void redirect_answer_first_waits_for_the_relay(void **state)
{
    struct mh *h = *state;
    mh_inject_fixture(h, NAT28, "patent/fig5a_invite.sip");
    mh_expect_status(h, NAT28, 100, "INVITE");
    osip_message_t *relay_q = mh_take_request(h, RELAY, "INVITE");
    osip_message_t *redirect_q = mh_take_request(h, REDIRECT, "INVITE");

    mh_redirect_302(h, redirect_q, "sip:14@203.0.113.13:5060");
    mh_expect_request(h, REDIRECT, "ACK");
    mh_expect_quiet(h); /* step 148 needs the resource first */

    mh_relay_302(h, RELAY, relay_q, (const uint16_t[]){30000, 30002}, 2);
    mh_expect_request(h, RELAY, "ACK");
    osip_message_t *fwd = mh_take_request(h, P13, "INVITE");
    mh_assert_golden(fwd, "patent/fig5b_invite.sip");
    sip_free(fwd);
    sip_free(relay_q);
    sip_free(redirect_q);
}

/* Figure 2a signals 7-9 at proxy 13: the sender (proxy 11) is not NATed
 * and the SDP names the relay (152b): a redirect query only. */
static void fig5b_at_proxy_13_becomes_5c(void **state)
{
    struct mh *h = *state;
    mh_inject_fixture(h, P11, "patent/fig5b_invite.sip");
    mh_expect_status(h, P11, 100, "INVITE");
    osip_message_t *q = mh_take_request(h, REDIRECT, "INVITE");
    assert_int_equal(mh_count_to(&h->wire, RELAY), 0);
    mh_expect_quiet(h);

    mh_redirect_302(h, q, "sip:14@203.0.113.14:5060");
    mh_expect_request(h, REDIRECT, "ACK");
    osip_message_t *fwd = mh_take_request(h, CLIENT14, "INVITE");
    mh_assert_golden(fwd, "patent/fig5c_invite.sip");
    mh_expect_quiet(h);
    assert_int_equal(messaging_stats(h->m)->relay.allocations, 0);
    sip_free(fwd);
    sip_free(q);
}

/* Figure 2b signals 1-4 at proxy 13: client 14 is public, its SDP too. */
static void fig5d_at_proxy_13_becomes_5e(void **state)
{
    struct mh *h = *state;
    mh_inject_fixture(h, CLIENT14, "messaging/fig5d_invite.sip");
    mh_expect_status(h, CLIENT14, 100, "INVITE");
    osip_message_t *q = mh_take_request(h, REDIRECT, "INVITE");
    mh_expect_quiet(h);

    /* redirectd: client 16 is served by proxy 11 (decision 3) */
    mh_redirect_302(h, q, "sip:16@203.0.113.11:5060");
    mh_expect_request(h, REDIRECT, "ACK");
    osip_message_t *fwd = mh_take_request(h, P11, "INVITE");
    mh_assert_golden(fwd, "messaging/fig5e_invite.sip");
    mh_expect_quiet(h);
    sip_free(fwd);
    sip_free(q);
}

static void max_forwards_zero_is_483(void **state)
{
    struct mh *h = *state;
    mh_inject_variant(h, NAT28, "patent/fig5a_invite.sip", "Max-Forwards: 70", "Max-Forwards: 0");
    mh_expect_status(h, NAT28, 100, "INVITE");
    mh_expect_status(h, NAT28, 483, "INVITE");
    mh_expect_quiet(h); /* no query went out */
    assert_int_equal(messaging_stats(h->m)->invites_loop, 1);
    assert_int_equal(messaging_calls(h->m), 0);
}

/* No Max-Forwards: the copy gets one of 70 (RFC 3261 §16.6 step 3). */
static void missing_max_forwards_is_added(void **state)
{
    struct mh *h = *state;
    mh_inject_variant(h, P11, "patent/fig5b_invite.sip", "Max-Forwards: 69\r\n", "");
    mh_expect_status(h, P11, 100, "INVITE");
    osip_message_t *q = mh_take_request(h, REDIRECT, "INVITE");
    mh_redirect_302(h, q, "sip:14@203.0.113.14:5060");
    osip_message_t *fwd = mh_take_request(h, CLIENT14, "INVITE");
    assert_string_equal(sip_header_get(fwd, "Max-Forwards"), "70");
    sip_free(fwd);
    sip_free(q);
}

/* Max-Forwards 1: the last hop we may take. The lookups still happen (they
 * are our own requests) and the INVITE goes on with 0: the next hop
 * answers 483, which comes back like any final. */
static void max_forwards_one_is_forwarded_with_zero(void **state)
{
    struct mh *h = *state;
    mh_inject_variant(h, P11, "patent/fig5b_invite.sip", "Max-Forwards: 69", "Max-Forwards: 1");
    mh_expect_status(h, P11, 100, "INVITE");
    osip_message_t *q = mh_take_request(h, REDIRECT, "INVITE");
    assert_string_equal(sip_header_get(q, "Max-Forwards"), "70");
    mh_redirect_302(h, q, "sip:14@203.0.113.14:5060");
    mh_expect_request(h, REDIRECT, "ACK");
    osip_message_t *fwd = mh_take_request(h, CLIENT14, "INVITE");
    assert_string_equal(sip_header_get(fwd, "Max-Forwards"), "0");
    mh_answer_status(h, CLIENT14, fwd, 483);
    mh_expect_status(h, P11, 483, "INVITE");
    mh_expect_request(h, CLIENT14, "ACK");
    mh_expect_quiet(h);
    sip_free(fwd);
    sip_free(q);
}

/* The same INVITE by another path while the first is being routed: RFC
 * 3261 §8.2.2.2 merged request. */
static void second_invite_with_a_live_call_id_is_482(void **state)
{
    struct mh *h = *state;
    mh_inject_fixture(h, NAT28, "patent/fig5a_invite.sip");
    mh_expect_status(h, NAT28, 100, "INVITE");
    sip_free(mh_take_request(h, RELAY, "INVITE"));
    sip_free(mh_take_request(h, REDIRECT, "INVITE"));

    mh_inject_variant(h, NAT28, "patent/fig5a_invite.sip", "z9hG4bKc16a", "z9hG4bKc16other");
    mh_expect_status(h, NAT28, 100, "INVITE");
    mh_expect_status(h, NAT28, 482, "INVITE");
    mh_expect_quiet(h);
    assert_int_equal(messaging_calls(h->m), 1);
}

/* A retransmitted INVITE is absorbed by the transaction layer: it gets the
 * 100 again, and starts nothing. */
static void retransmitted_invite_starts_nothing(void **state)
{
    struct mh *h = *state;
    mh_inject_fixture(h, NAT28, "patent/fig5a_invite.sip");
    fake_wire_clear(&h->wire);
    mh_inject_fixture(h, NAT28, "patent/fig5a_invite.sip");
    mh_expect_status(h, NAT28, 100, "INVITE");
    mh_expect_quiet(h);
    assert_int_equal(messaging_stats(h->m)->invites, 1);
}

static void request_uri_without_id_is_404(void **state)
{
    struct mh *h = *state;
    mh_inject_variant(h, NAT28, "patent/fig5a_invite.sip", "INVITE sip:14@", "INVITE sip:");
    mh_expect_status(h, NAT28, 100, "INVITE");
    mh_expect_status(h, NAT28, 404, "INVITE");
    mh_expect_quiet(h);
}

static void tel_uri_is_416(void **state)
{
    struct mh *h = *state;
    mh_inject_variant(h, NAT28, "patent/fig5a_invite.sip", "INVITE sip:14@203.0.113.11:5060",
                      "INVITE tel:+14");
    mh_expect_status(h, NAT28, 100, "INVITE");
    mh_expect_status(h, NAT28, 416, "INVITE");
    mh_expect_quiet(h);
}

/* Our own Route (a phone with an outbound proxy) is popped, not forwarded. */
static void route_to_us_is_popped(void **state)
{
    struct mh *h = *state;
    mh_inject_variant(h, P11, "patent/fig5b_invite.sip", "Max-Forwards: 69",
                      "Route: <sip:203.0.113.13:5060;lr>\r\nMax-Forwards: 69");
    mh_expect_status(h, P11, 100, "INVITE");
    osip_message_t *q = mh_take_request(h, REDIRECT, "INVITE");
    mh_redirect_302(h, q, "sip:14@203.0.113.14:5060");
    osip_message_t *fwd = mh_take_request(h, CLIENT14, "INVITE");
    mh_assert_golden(fwd, "patent/fig5c_invite.sip");
    sip_free(fwd);
    sip_free(q);
}

/* SIGTERM (proxy_drain): new calls are turned away with a retry hint. */
static void draining_proxy_answers_503(void **state)
{
    struct mh *h = *state;
    (void)proxy_drain(h->p);
    mh_inject_fixture(h, NAT28, "patent/fig5a_invite.sip");
    osip_message_t *r = mh_take(h, NAT28);
    assert_int_equal(sip_status(r), 503);
    assert_string_equal(sip_header_get(r, "Retry-After"), "5");
    mh_expect_quiet(h);
    assert_int_equal(messaging_calls(h->m), 0);
    sip_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(fig5a_becomes_8a_7a_then_5b, mh_setup_p11, mh_teardown),
        cmocka_unit_test_setup_teardown(redirect_answer_first_waits_for_the_relay, mh_setup_p11,
                                        mh_teardown),
        cmocka_unit_test_setup_teardown(fig5b_at_proxy_13_becomes_5c, mh_setup_p13, mh_teardown),
        cmocka_unit_test_setup_teardown(fig5d_at_proxy_13_becomes_5e, mh_setup_p13, mh_teardown),
        cmocka_unit_test_setup_teardown(max_forwards_zero_is_483, mh_setup_p11, mh_teardown),
        cmocka_unit_test_setup_teardown(missing_max_forwards_is_added, mh_setup_p13, mh_teardown),
        cmocka_unit_test_setup_teardown(max_forwards_one_is_forwarded_with_zero, mh_setup_p13,
                                        mh_teardown),
        cmocka_unit_test_setup_teardown(second_invite_with_a_live_call_id_is_482, mh_setup_p11,
                                        mh_teardown),
        cmocka_unit_test_setup_teardown(retransmitted_invite_starts_nothing, mh_setup_p11,
                                        mh_teardown),
        cmocka_unit_test_setup_teardown(request_uri_without_id_is_404, mh_setup_p11, mh_teardown),
        cmocka_unit_test_setup_teardown(tel_uri_is_416, mh_setup_p11, mh_teardown),
        cmocka_unit_test_setup_teardown(route_to_us_is_popped, mh_setup_p13, mh_teardown),
        cmocka_unit_test_setup_teardown(draining_proxy_answers_503, mh_setup_p11, mh_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

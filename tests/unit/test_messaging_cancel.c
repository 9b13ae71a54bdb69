/* CANCEL at proxy 11 (RFC 3261 §9.2, §16.10): answered 200 hop by hop;
 * before the answer it is forwarded to the pending branch with the same
 * branch and the downstream 487 comes back; while fig. 4a is still
 * querying, the INVITE is answered 487 here and the relay released. */
#include "test_messaging_harness.h"

static void cancel_before_answer_is_forwarded_to_the_pending_branch(void **state)
{
    struct mh *h = *state;
    osip_message_t *fwd = mh_fig2a_p11(h);
    osip_message_t *ringing = mh_response(fwd, 180, "t14");
    mh_inject(h, P13, ringing);
    sip_free(mh_take(h, NAT28));

    mh_inject_fixture(h, NAT28, "messaging/fig5a_cancel.sip");
    mh_expect_status(h, NAT28, 200, "CANCEL"); /* hop by hop, at once */
    osip_message_t *cancel = mh_take_request(h, P13, "CANCEL");
    mh_assert_golden(cancel, "messaging/fig5b_cancel.sip");
    /* §9.1: the branch of the request it cancels */
    assert_string_equal(mh_branch(cancel, 0), mh_branch(fwd, 0));
    mh_expect_quiet(h);
    assert_int_equal(messaging_stats(h->m)->cancels, 1);

    /* proxy 13: 200 to the CANCEL (absorbed here), 487 to the INVITE */
    mh_answer_status(h, P13, cancel, 200);
    mh_expect_quiet(h);
    osip_message_t *term = mh_response(fwd, 487, "t14");
    mh_inject(h, P13, term);
    mh_expect_status(h, NAT28, 487, "INVITE");
    mh_expect_request(h, P13, "ACK"); /* the transaction layer's, §17.1.1.3 */
    osip_message_t *bye = mh_take_request(h, RELAY, "BYE");
    mh_answer_status(h, RELAY, bye, 200);
    mh_expect_quiet(h);
    mh_assert_no_calls(h);
    sip_free(bye);
    sip_free(term);
    sip_free(cancel);
    sip_free(ringing);
    sip_free(fwd);
}

/* redirectd has not answered yet: nothing downstream to cancel. The
 * INVITE gets 487 from us, relayd's resource goes back, and redirectd's
 * late answer changes nothing. */
static void cancel_while_querying_is_487_and_releases_the_relay(void **state)
{
    struct mh *h = *state;
    mh_inject_fixture(h, NAT28, "patent/fig5a_invite.sip");
    mh_expect_status(h, NAT28, 100, "INVITE");
    osip_message_t *rq = mh_take_request(h, RELAY, "INVITE");
    osip_message_t *q = mh_take_request(h, REDIRECT, "INVITE");
    mh_relay_302(h, RELAY, rq, (const uint16_t[]){30000, 30002}, 2);
    mh_expect_request(h, RELAY, "ACK");

    mh_inject_fixture(h, NAT28, "messaging/fig5a_cancel.sip");
    mh_expect_status(h, NAT28, 200, "CANCEL");
    mh_expect_status(h, NAT28, 487, "INVITE");
    osip_message_t *bye = mh_take_request(h, RELAY, "BYE");
    mh_answer_status(h, RELAY, bye, 200);
    mh_expect_quiet(h);
    assert_int_equal(messaging_stats(h->m)->invites_cancelled, 1);

    mh_redirect_302(h, q, "sip:14@203.0.113.13:5060");
    mh_expect_request(h, REDIRECT, "ACK"); /* the transaction layer still ACKs */
    mh_expect_quiet(h);                    /* but nothing is forwarded */
    mh_assert_no_calls(h);
    sip_free(bye);
    sip_free(q);
    sip_free(rq);
}

/* relayd has not answered either: its answer, when it comes, is released. */
static void cancel_while_relay_pending_releases_its_late_answer(void **state)
{
    struct mh *h = *state;
    mh_inject_fixture(h, NAT28, "patent/fig5a_invite.sip");
    mh_expect_status(h, NAT28, 100, "INVITE");
    osip_message_t *rq = mh_take_request(h, RELAY, "INVITE");
    osip_message_t *q = mh_take_request(h, REDIRECT, "INVITE");

    mh_inject_fixture(h, NAT28, "messaging/fig5a_cancel.sip");
    mh_expect_status(h, NAT28, 200, "CANCEL");
    mh_expect_status(h, NAT28, 487, "INVITE");
    mh_expect_quiet(h);

    mh_relay_302(h, RELAY, rq, (const uint16_t[]){30000, 30002}, 2);
    mh_expect_request(h, RELAY, "ACK");
    sip_free(mh_take_request(h, RELAY, "BYE"));
    mh_expect_quiet(h);
    fake_wire_clear(&h->wire);
    mh_assert_no_calls(h);
    sip_free(q);
    sip_free(rq);
}

/* The caller's ACK for our 487 is absorbed by its transaction. */
static void ack_for_our_487_is_absorbed(void **state)
{
    struct mh *h = *state;
    mh_inject_fixture(h, NAT28, "patent/fig5a_invite.sip");
    fake_wire_clear(&h->wire);
    mh_inject_fixture(h, NAT28, "messaging/fig5a_cancel.sip");
    mh_expect_status(h, NAT28, 200, "CANCEL");
    osip_message_t *term = mh_take(h, NAT28);
    assert_int_equal(sip_status(term), 487);
    fake_wire_clear(&h->wire);

    osip_message_t *invite = golden_load("patent/fig5a_invite.sip"), *ack = NULL;
    assert_int_equal(sip_ack_for(&ack, invite, term), 0);
    mh_inject(h, NAT28, ack);
    mh_expect_quiet(h);
    sip_free(ack);
    sip_free(invite);
    sip_free(term);
}

static void cancel_matching_nothing_is_481(void **state)
{
    struct mh *h = *state;
    mh_inject_fixture(h, NAT28, "messaging/fig5a_cancel.sip");
    mh_expect_status(h, NAT28, 481, "CANCEL");
    mh_expect_quiet(h);
    assert_int_equal(messaging_stats(h->m)->cancels, 0);
}

/* A CANCEL after the 200: answered 200 (§16.10), nothing else happens. */
static void cancel_after_the_answer_changes_nothing(void **state)
{
    struct mh *h = *state;
    mh_fig2a_p11_confirmed(h);
    mh_inject_fixture(h, NAT28, "messaging/fig5a_cancel.sip");
    mh_expect_status(h, NAT28, 200, "CANCEL");
    mh_expect_quiet(h);
    assert_int_equal(messaging_calls(h->m), 1);
}

/* A re-INVITE can be cancelled too: the CANCEL follows it downstream. */
static void cancel_of_a_reinvite_follows_it(void **state)
{
    struct mh *h = *state;
    mh_fig2a_p11_confirmed(h);
    mh_inject_fixture(h, NAT28, "messaging/reinvite_hold.sip");
    mh_expect_status(h, NAT28, 100, "INVITE");
    osip_message_t *rq = mh_take_request(h, RELAY, "INVITE");
    mh_relay_302(h, RELAY, rq, (const uint16_t[]){30000, 30002}, 2);
    mh_expect_request(h, RELAY, "ACK");
    osip_message_t *fwd = mh_take_request(h, P13, "INVITE");

    mh_inject_variant(h, NAT28, "messaging/reinvite_hold.sip",
                      "INVITE sip:", "CANCEL sip:", "3 INVITE", "3 CANCEL");
    mh_expect_status(h, NAT28, 200, "CANCEL");
    /* RFC 3261 9.1: P13 has not answered the re-INVITE at all yet; the
     * CANCEL waits for its first provisional */
    mh_expect_quiet(h);
    mh_answer_status(h, P13, fwd, 100);
    osip_message_t *cancel = mh_take_request(h, P13, "CANCEL");
    assert_string_equal(mh_branch(cancel, 0), mh_branch(fwd, 0));
    mh_answer_status(h, P13, fwd, 487);
    mh_expect_status(h, NAT28, 487, "INVITE");
    mh_expect_request(h, P13, "ACK");
    mh_expect_quiet(h); /* a failed re-INVITE leaves the call and its relay */
    assert_int_equal(messaging_calls(h->m), 1);
    sip_free(cancel);
    sip_free(fwd);
    sip_free(rq);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(cancel_before_answer_is_forwarded_to_the_pending_branch,
                                        mh_setup_p11, mh_teardown),
        cmocka_unit_test_setup_teardown(cancel_while_querying_is_487_and_releases_the_relay,
                                        mh_setup_p11, mh_teardown),
        cmocka_unit_test_setup_teardown(cancel_while_relay_pending_releases_its_late_answer,
                                        mh_setup_p11, mh_teardown),
        cmocka_unit_test_setup_teardown(ack_for_our_487_is_absorbed, mh_setup_p11, mh_teardown),
        cmocka_unit_test_setup_teardown(cancel_matching_nothing_is_481, mh_setup_p11, mh_teardown),
        cmocka_unit_test_setup_teardown(cancel_after_the_answer_changes_nothing, mh_setup_p11,
                                        mh_teardown),
        cmocka_unit_test_setup_teardown(cancel_of_a_reinvite_follows_it, mh_setup_p11, mh_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Figure 4c, the redirect query, and its failures: 404 from redirectd
 * becomes 404 to the caller (and a relay already allocated is released,
 * even one that arrives after the 404), silence or nonsense becomes 503,
 * and a Contact that is a name is not followed (no DNS on the loop). */
#include "test_messaging_harness.h"

static void answer_query(struct mh *h, const osip_message_t *q, int status)
{
    mh_answer_status(h, REDIRECT, q, status);
    mh_expect_request(h, REDIRECT, "ACK");
}

/* Figure 2b signal 2 at proxy 13: 7a's layout for a public caller. */
static void redirect_query_keeps_the_invite_but_the_request_uri(void **state)
{
    struct mh *h = *state;
    mh_inject_fixture(h, CLIENT14, "messaging/fig5d_invite.sip");
    mh_expect_status(h, CLIENT14, 100, "INVITE");
    osip_message_t *q = mh_take_request(h, REDIRECT, "INVITE");
    char *uri = NULL;
    assert_int_equal(osip_uri_to_str(q->req_uri, &uri), 0);
    assert_string_equal(uri, "sip:16@203.0.113.20:5060"); /* step 150a */
    osip_free(uri);
    assert_int_equal(sip_via_count(q), 2);
    assert_int_equal(osip_list_size(&q->record_routes), 0);
    assert_string_equal(sip_header_get(q, "Max-Forwards"), "70"); /* our own request */
    sip_free(q);
}

/* Not registered anywhere: 404 upstream; relayd had already answered, so
 * its resource goes back (decision 9). */
static void redirect_404_is_404_and_releases_the_relay(void **state)
{
    struct mh *h = *state;
    mh_inject_fixture(h, NAT28, "patent/fig5a_invite.sip");
    mh_expect_status(h, NAT28, 100, "INVITE");
    osip_message_t *rq = mh_take_request(h, RELAY, "INVITE");
    osip_message_t *q = mh_take_request(h, REDIRECT, "INVITE");
    mh_relay_302(h, RELAY, rq, (const uint16_t[]){30000, 30002}, 2);
    mh_expect_request(h, RELAY, "ACK");

    answer_query(h, q, 404);
    mh_expect_status(h, NAT28, 404, "INVITE");
    osip_message_t *bye = mh_take_request(h, RELAY, "BYE");
    mh_answer_status(h, RELAY, bye, 200);
    mh_expect_quiet(h);
    const struct messaging_stats *s = messaging_stats(h->m);
    assert_int_equal(s->redirect.not_found, 1);
    assert_int_equal(s->invites_not_found, 1);
    assert_int_equal(s->relay.releases, 1);
    assert_int_equal(s->relay.release_failures, 0);
    mh_assert_no_calls(h);
    sip_free(bye);
    sip_free(q);
    sip_free(rq);
}

/* The 404 comes first: the caller is answered at once; the relay's late
 * 302 is ACKed and released as it comes. */
static void relay_answer_after_404_is_released(void **state)
{
    struct mh *h = *state;
    mh_inject_fixture(h, NAT28, "patent/fig5a_invite.sip");
    mh_expect_status(h, NAT28, 100, "INVITE");
    osip_message_t *rq = mh_take_request(h, RELAY, "INVITE");
    osip_message_t *q = mh_take_request(h, REDIRECT, "INVITE");
    answer_query(h, q, 404);
    mh_expect_status(h, NAT28, 404, "INVITE");
    mh_expect_quiet(h);

    mh_relay_302(h, RELAY, rq, (const uint16_t[]){30000, 30002}, 2);
    mh_expect_request(h, RELAY, "ACK");
    osip_message_t *bye = mh_take_request(h, RELAY, "BYE");
    mh_answer_status(h, RELAY, bye, 200);
    mh_expect_quiet(h); /* nothing forwarded */
    mh_assert_no_calls(h);
    sip_free(bye);
    sip_free(q);
    sip_free(rq);
}

/* Decision 12: redirectd silent for 64·T1 → 503. */
static void redirect_timeout_is_503(void **state)
{
    struct mh *h = *state;
    mh_inject_fixture(h, P11, "patent/fig5b_invite.sip");
    mh_expect_status(h, P11, 100, "INVITE");
    mh_run(h, MH_64T1 + 5 * MH_T1);
    mh_expect_status(h, P11, 503, "INVITE");
    assert_true(mh_count_to(&h->wire, REDIRECT) >= 5); /* timer A */
    fake_wire_clear(&h->wire);
    assert_int_equal(messaging_stats(h->m)->redirect.timeouts, 1);
    mh_assert_no_calls(h);
}

static void redirect_error_is_503(void **state)
{
    struct mh *h = *state;
    mh_inject_fixture(h, P11, "patent/fig5b_invite.sip");
    mh_expect_status(h, P11, 100, "INVITE");
    osip_message_t *q = mh_take_request(h, REDIRECT, "INVITE");
    answer_query(h, q, 500);
    mh_expect_status(h, P11, 503, "INVITE");
    mh_expect_quiet(h);
    assert_int_equal(messaging_stats(h->m)->redirect.failures, 1);
    sip_free(q);
}

/* Never resolve names: a 302 whose Contact is a host name is unusable. */
static void redirect_to_a_name_is_503(void **state)
{
    struct mh *h = *state;
    mh_inject_fixture(h, P11, "patent/fig5b_invite.sip");
    mh_expect_status(h, P11, 100, "INVITE");
    osip_message_t *q = mh_take_request(h, REDIRECT, "INVITE");
    mh_redirect_302(h, q, "sip:14@phone.example.com:5060");
    mh_expect_request(h, REDIRECT, "ACK");
    mh_expect_status(h, P11, 503, "INVITE");
    mh_expect_quiet(h);
    sip_free(q);
}

/* A provisional from redirectd changes nothing; the 302 that follows is
 * used. */
static void redirect_provisional_is_ignored(void **state)
{
    struct mh *h = *state;
    mh_inject_fixture(h, P11, "patent/fig5b_invite.sip");
    mh_expect_status(h, P11, 100, "INVITE");
    osip_message_t *q = mh_take_request(h, REDIRECT, "INVITE");
    osip_message_t *r = mh_response(q, 100, NULL);
    mh_inject(h, REDIRECT, r);
    mh_expect_quiet(h);
    mh_redirect_302(h, q, "sip:14@203.0.113.14:5060");
    mh_expect_request(h, REDIRECT, "ACK");
    sip_free(mh_take_request(h, CLIENT14, "INVITE"));
    sip_free(r);
    sip_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(redirect_query_keeps_the_invite_but_the_request_uri,
                                        mh_setup_p13, mh_teardown),
        cmocka_unit_test_setup_teardown(redirect_404_is_404_and_releases_the_relay, mh_setup_p11,
                                        mh_teardown),
        cmocka_unit_test_setup_teardown(relay_answer_after_404_is_released, mh_setup_p11,
                                        mh_teardown),
        cmocka_unit_test_setup_teardown(redirect_timeout_is_503, mh_setup_p13, mh_teardown),
        cmocka_unit_test_setup_teardown(redirect_error_is_503, mh_setup_p13, mh_teardown),
        cmocka_unit_test_setup_teardown(redirect_to_a_name_is_503, mh_setup_p13, mh_teardown),
        cmocka_unit_test_setup_teardown(redirect_provisional_is_ignored, mh_setup_p13, mh_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

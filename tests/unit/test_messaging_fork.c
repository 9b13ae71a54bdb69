/* Parallel forking at proxy 11 (RFC 3261 §16.7, issue #16): user 16 has a
 * desk phone behind NAT 28 and a softphone behind NAT 30; redirectd's 302
 * names both. Both ring; provisionals from either go up; the first 2xx goes
 * up and the other branch is CANCELled with RFC 3326's "Call completed
 * elsewhere"; with no 2xx the best final goes up once every branch is
 * over (6xx first and it stops the search; a phone's answer over our own
 * 408; only 503s become 500); the caller's CANCEL reaches every branch. */
#include "test_messaging_harness.h"

#define DESK "sip:16@198.51.100.28:40312"
#define SOFT "sip:16@198.51.100.30:40400"
#define ELSEWHERE "SIP;cause=200;text=\"Call completed elsewhere\""

struct fork {
    osip_message_t *desk, *soft; /* the INVITE each branch got */
};

static void redirect_302_two(struct mh *h, const osip_message_t *query)
{
    osip_message_t *r = mh_response(query, 302, "rd20");
    sip_contacts_clear(r);
    assert_int_equal(sip_contact_add(r, DESK, -1, 900), 0);
    assert_int_equal(sip_contact_add(r, SOFT, -1, 500), 0);
    mh_inject(h, REDIRECT, r);
    sip_free(r);
}

/* 14's INVITE from P13 for 16; redirectd names both phones; relayd is
 * asked once for the call, naming every phone that may send its media. */
static struct fork fork_start(struct mh *h)
{
    struct fork f;
    mh_nat_client(h, "16", NAT28);
    mh_nat_client(h, "16", NAT30);
    mh_inject_fixture(h, P13, "messaging/fig5e_invite.sip");
    mh_expect_status(h, P13, 100, "INVITE");
    osip_message_t *q = mh_take_request(h, REDIRECT, "INVITE");
    redirect_302_two(h, q);
    mh_expect_request(h, REDIRECT, "ACK");
    osip_message_t *rq = mh_take_request(h, RELAY, "INVITE");
    assert_string_equal(sip_header_get(rq, "Pinhole-Sources"),
                        "203.0.113.14;sdp, 198.51.100.28, 198.51.100.30");
    mh_relay_302(h, RELAY, rq, (const uint16_t[]){30010, 30012}, 2);
    mh_expect_request(h, RELAY, "ACK");
    f.desk = mh_take_from(&h->nat_wire, NAT28);
    f.soft = mh_take_from(&h->nat_wire, NAT30);
    mh_expect_quiet(h);

    /* each branch its own Via branch, both the relay's SDP */
    assert_string_not_equal(mh_branch(f.desk, 0), mh_branch(f.soft, 0));
    char conn[64];
    uint16_t ports[4];
    size_t n;
    mh_sdp(f.soft, conn, sizeof conn, ports, &n);
    assert_string_equal(conn, RELAY_MEDIA);
    assert_int_equal(ports[0], 30010);
    assert_int_equal(messaging_stats(h->m)->invites_forked, 1);
    assert_int_equal(messaging_stats(h->m)->fork_branches, 2);
    sip_free(rq);
    sip_free(q);
    return f;
}

static void fork_free(struct fork *f)
{
    sip_free(f->desk);
    sip_free(f->soft);
}

static void answer(struct mh *h, const char *from, const osip_message_t *inv, int status,
                   const char *tag)
{
    osip_message_t *r = mh_response(inv, status, tag);
    if (status >= 200 && status < 300)
        assert_int_equal(sip_contact_replace(r, strcmp(from, NAT28) == 0 ? DESK : SOFT, -1), 0);
    mh_inject(h, from, r);
    sip_free(r);
}

/* The ACK the transaction layer sends for a non-2xx final (§17.1.1.3). */
static void expect_ack(struct mh *h, const char *to)
{
    osip_message_t *ack = mh_take_from(&h->nat_wire, to);
    assert_true(sip_method_is(ack, "ACK"));
    sip_free(ack);
}

/* The relay goes back once the call failed (decision 9). */
static void expect_release(struct mh *h)
{
    osip_message_t *bye = mh_take_request(h, RELAY, "BYE");
    mh_answer_status(h, RELAY, bye, 200);
    sip_free(bye);
}

static void both_ring_the_first_2xx_wins_the_other_is_cancelled(void **state)
{
    struct mh *h = *state;
    struct fork f = fork_start(h);

    answer(h, NAT30, f.soft, 180, "soft");
    mh_expect_status(h, P13, 180, "INVITE");
    answer(h, NAT28, f.desk, 180, "desk");
    mh_expect_status(h, P13, 180, "INVITE");

    answer(h, NAT28, f.desk, 200, "desk");
    osip_message_t *ok = mh_take(h, P13);
    assert_int_equal(sip_status(ok), 200);
    assert_string_equal(sip_to_tag(ok), "desk");
    sip_free(ok);

    /* the softphone stops ringing, told why */
    osip_message_t *cancel = mh_take_from(&h->nat_wire, NAT30);
    assert_true(sip_method_is(cancel, "CANCEL"));
    assert_string_equal(mh_branch(cancel, 0), mh_branch(f.soft, 0));
    assert_string_equal(sip_header_get(cancel, "Reason"), ELSEWHERE);
    mh_expect_quiet(h);
    assert_int_equal(messaging_stats(h->m)->fork_cancelled, 1);

    /* its 487 is ACKed and goes nowhere; the answered call keeps its relay */
    answer(h, NAT30, cancel, 200, "soft");
    answer(h, NAT30, f.soft, 487, "soft");
    expect_ack(h, NAT30);
    mh_expect_quiet(h);
    mh_run(h, MH_LINGER);
    assert_int_equal(messaging_calls(h->m), 1);
    assert_int_equal(mh_count_to(&h->wire, RELAY), 0); /* no release */
    sip_free(cancel);
    fork_free(&f);
}

/* §16.7 step 5: every 2xx goes up, the late one too (the caller ACKs and
 * BYEs it); the call's state is the first one's. */
static void a_second_2xx_is_forwarded_too(void **state)
{
    struct mh *h = *state;
    struct fork f = fork_start(h);
    answer(h, NAT28, f.desk, 200, "desk");
    sip_free(mh_take(h, P13));
    /* the softphone has not even sent 100: its CANCEL waits for it (§9.1) */
    mh_expect_quiet(h);
    answer(h, NAT30, f.soft, 200, "soft");
    osip_message_t *ok = mh_take(h, P13);
    assert_int_equal(sip_status(ok), 200);
    assert_string_equal(sip_to_tag(ok), "soft");
    sip_free(ok);
    mh_expect_quiet(h);
    fork_free(&f);
}

static void no_answer_gets_the_best_final_once_all_are_over(void **state)
{
    struct mh *h = *state;
    struct fork f = fork_start(h);

    answer(h, NAT28, f.desk, 486, "desk");
    expect_ack(h, NAT28);
    mh_expect_quiet(h); /* the softphone may still answer */
    answer(h, NAT30, f.soft, 404, "soft");
    expect_ack(h, NAT30);
    /* both 4xx: the first kept */
    mh_expect_status(h, P13, 486, "INVITE");
    expect_release(h);
    mh_expect_quiet(h);
    mh_assert_no_calls(h);
    fork_free(&f);
}

static void a_6xx_stops_the_search_and_wins(void **state)
{
    struct mh *h = *state;
    struct fork f = fork_start(h);

    answer(h, NAT30, f.soft, 486, "soft");
    expect_ack(h, NAT30);
    answer(h, NAT28, f.desk, 603, "desk");
    expect_ack(h, NAT28);
    /* 6xx over the lower class that came first */
    mh_expect_status(h, P13, 603, "INVITE");
    expect_release(h);
    mh_expect_quiet(h);
    mh_assert_no_calls(h);
    fork_free(&f);
}

static void a_6xx_cancels_the_ringing_branch(void **state)
{
    struct mh *h = *state;
    struct fork f = fork_start(h);

    answer(h, NAT30, f.soft, 180, "soft");
    mh_expect_status(h, P13, 180, "INVITE");
    answer(h, NAT28, f.desk, 603, "desk");
    expect_ack(h, NAT28);
    osip_message_t *cancel = mh_take_from(&h->nat_wire, NAT30);
    assert_true(sip_method_is(cancel, "CANCEL"));
    assert_null(sip_header_get(cancel, "Reason")); /* nobody answered */
    mh_expect_quiet(h);
    answer(h, NAT30, f.soft, 487, "soft");
    expect_ack(h, NAT30);
    mh_expect_status(h, P13, 603, "INVITE");
    expect_release(h);
    mh_expect_quiet(h);
    sip_free(cancel);
    fork_free(&f);
}

/* A phone that never answers is our 408; the other phone's real answer
 * of the same class is what the caller sees. */
static void a_phones_answer_beats_a_silent_branch(void **state)
{
    struct mh *h = *state;
    struct fork f = fork_start(h);
    answer(h, NAT28, f.desk, 480, "desk");
    expect_ack(h, NAT28);
    mh_expect_quiet(h);
    /* the softphone is silent: Timer B (64·T1) ends its branch */
    mh_run(h, MH_64T1 + 5 * MH_T1);
    fake_wire_clear(&h->nat_wire); /* its INVITE's retransmissions */
    /* within that run: the 480 up and the release, each retransmitted
     * since neither P13 nor relayd answered in it */
    mh_expect_status(h, P13, 480, "INVITE");
    assert_int_equal(mh_count_to(&h->wire, P13), mh_count_to(&h->wire, RELAY) - 1);
    expect_release(h);
    fake_wire_clear(&h->wire);
    assert_int_equal(messaging_stats(h->m)->invites_timeout, 0); /* a phone answered */
    fork_free(&f);
}

static void only_503s_become_500(void **state)
{
    struct mh *h = *state;
    struct fork f = fork_start(h);
    answer(h, NAT28, f.desk, 503, "desk");
    expect_ack(h, NAT28);
    answer(h, NAT30, f.soft, 503, "soft");
    expect_ack(h, NAT30);
    /* §16.7 step 6: the caller must not take us for the overloaded one */
    mh_expect_status(h, P13, 500, "INVITE");
    expect_release(h);
    mh_expect_quiet(h);
    fork_free(&f);
}

static void the_callers_cancel_reaches_every_branch(void **state)
{
    struct mh *h = *state;
    struct fork f = fork_start(h);
    answer(h, NAT28, f.desk, 180, "desk");
    mh_expect_status(h, P13, 180, "INVITE");
    answer(h, NAT30, f.soft, 180, "soft");
    mh_expect_status(h, P13, 180, "INVITE");

    /* 14's CANCEL through P13, for the INVITE as P13 sent it */
    osip_message_t *inv = golden_load("messaging/fig5e_invite.sip"), *cancel = NULL;
    assert_int_equal(sip_cancel_for(&cancel, inv), 0);
    mh_inject(h, P13, cancel);
    mh_expect_status(h, P13, 200, "CANCEL");
    osip_message_t *c1 = mh_take_from(&h->nat_wire, NAT28);
    osip_message_t *c2 = mh_take_from(&h->nat_wire, NAT30);
    assert_true(sip_method_is(c1, "CANCEL") && sip_method_is(c2, "CANCEL"));
    assert_string_equal(mh_branch(c1, 0), mh_branch(f.desk, 0));
    assert_string_equal(mh_branch(c2, 0), mh_branch(f.soft, 0));
    assert_null(sip_header_get(c1, "Reason"));
    mh_expect_quiet(h);

    answer(h, NAT28, f.desk, 487, "desk");
    expect_ack(h, NAT28);
    mh_expect_quiet(h); /* one 487 up, when both are over */
    answer(h, NAT30, f.soft, 487, "soft");
    expect_ack(h, NAT30);
    mh_expect_status(h, P13, 487, "INVITE");
    expect_release(h);
    mh_expect_quiet(h);
    mh_assert_no_calls(h);
    sip_free(c1);
    sip_free(c2);
    sip_free(cancel);
    sip_free(inv);
    fork_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(both_ring_the_first_2xx_wins_the_other_is_cancelled,
                                        mh_setup_p11, mh_teardown),
        cmocka_unit_test_setup_teardown(a_second_2xx_is_forwarded_too, mh_setup_p11, mh_teardown),
        cmocka_unit_test_setup_teardown(no_answer_gets_the_best_final_once_all_are_over,
                                        mh_setup_p11, mh_teardown),
        cmocka_unit_test_setup_teardown(a_6xx_stops_the_search_and_wins, mh_setup_p11, mh_teardown),
        cmocka_unit_test_setup_teardown(a_6xx_cancels_the_ringing_branch, mh_setup_p11,
                                        mh_teardown),
        cmocka_unit_test_setup_teardown(a_phones_answer_beats_a_silent_branch, mh_setup_p11,
                                        mh_teardown),
        cmocka_unit_test_setup_teardown(only_503s_become_500, mh_setup_p11, mh_teardown),
        cmocka_unit_test_setup_teardown(the_callers_cancel_reaches_every_branch, mh_setup_p11,
                                        mh_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

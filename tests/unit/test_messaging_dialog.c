/* In-dialog requests of the figure 2a call at proxy 11 (design decision 8,
 * RFC 3261 §16.12): ACK for the 2xx forwarded statelessly with a stable
 * branch, re-INVITE hold and resume re-asking relayd and reusing the same
 * relay ports both ways, BYE loose-routed by Route whose 200 releases the
 * relay and frees the call, and the routing refusals (404 for a name, 483,
 * 482). No open relay (issue #15): a request with a To tag whose dialog this
 * proxy neither record-routed nor holds is refused and nothing goes out, and
 * nothing from outside is routed to our own redirectd or relayd. */
#include "test_messaging_harness.h"

#include "calls.h"

static const uint16_t RELAY_PORTS[] = {30000, 30002};

/* The Route entries of the fixtures of call c0ffee-2a@192.168.1.10: each
 * proxy's Record-Route with its mark under MH_SECRET (dialog_mark.h). */
#define ROUTE11 "<sip:203.0.113.11:5060;lr;ph=8b5917e46cd901bf>"
#define ROUTE13 "<sip:203.0.113.13:5060;lr;ph=8b5917e46cd901bf>"

/* ---- ACK ---- */

static void ack_for_2xx_is_forwarded_statelessly(void **state)
{
    struct mh *h = *state;
    mh_fig2a_p11_confirmed(h);
    mh_inject_fixture(h, NAT28, "messaging/ack_2a.sip");
    osip_message_t *ack = mh_take_request(h, P13, "ACK"); /* the next Route */
    mh_assert_golden(ack, "messaging/ack_2a_fwd.sip");
    mh_expect_quiet(h);

    /* a retransmitted ACK gets the same branch; another ACK another one */
    mh_inject_fixture(h, NAT28, "messaging/ack_2a.sip");
    osip_message_t *again = mh_take_request(h, P13, "ACK");
    assert_string_equal(mh_branch(again, 0), mh_branch(ack, 0));
    mh_inject_variant(h, NAT28, "messaging/ack_2a.sip", "z9hG4bKc16ack", "z9hG4bKc16ack2");
    osip_message_t *other = mh_take_request(h, P13, "ACK");
    assert_string_not_equal(mh_branch(other, 0), mh_branch(ack, 0));
    assert_int_equal(proxy_stats(h->p)->not_implemented, 0);
    mh_expect_quiet(h);
    sip_free(other);
    sip_free(again);
    sip_free(ack);
}

static void ack_without_to_tag_is_dropped(void **state)
{
    struct mh *h = *state;
    mh_inject_variant(h, NAT28, "messaging/ack_2a.sip", ";tag=t14", "");
    mh_expect_quiet(h);
}

/* ---- re-INVITE ---- */

/* The re-INVITE goes to relayd first (same Call-ID, same relay), then to
 * proxy 13 with the relay's answer; returns what was forwarded. */
static osip_message_t *reinvite(struct mh *h, const char *fixture)
{
    mh_inject_fixture(h, NAT28, fixture);
    mh_expect_status(h, NAT28, 100, "INVITE");
    osip_message_t *rq = mh_take_request(h, RELAY, "INVITE");
    char id[64], *uri = NULL;
    assert_int_equal(sip_call_id(rq, id, sizeof id), 0);
    assert_string_equal(id, "c0ffee-2a@192.168.1.10");
    assert_int_equal(osip_uri_to_str(rq->req_uri, &uri), 0);
    assert_string_equal(uri, "sip:14@203.0.113.22:5060");
    osip_free(uri);
    /* the offerer, as its NAT sent it (media_source.h) */
    assert_string_equal(sip_header_get(rq, "Pinhole-Sources"), "198.51.100.28;sdp");
    mh_expect_quiet(h); /* nothing goes on before relayd answers */

    /* relayd: the same Call-ID, the same ports (setup.h) */
    mh_relay_302(h, RELAY, rq, RELAY_PORTS, 2);
    mh_expect_request(h, RELAY, "ACK");
    osip_message_t *fwd = mh_take_request(h, P13, "INVITE");
    mh_expect_quiet(h);
    sip_free(rq);
    return fwd;
}

/* Client 14 answers the re-INVITE: its SDP reaches 16 pointed at the
 * relay, with the direction attribute it chose. */
static void answer_reinvite(struct mh *h, const osip_message_t *fwd, const char *direction)
{
    osip_message_t *ok = golden_load("patent/fig6b_ok.sip");
    const char *body;
    size_t len;
    char sdp[512], conn[64];
    uint16_t ports[8];
    size_t n;

    assert_int_equal(sip_body_get(ok, &body, &len), 0);
    assert_true(len + 32 < sizeof sdp);
    snprintf(sdp, sizeof sdp, "%.*sa=%s\r\n", (int)len, body, direction);
    sip_free(ok);
    ok = mh_response(fwd, 200, "t14");
    assert_int_equal(sip_body_set(ok, sdp, strlen(sdp), "application/sdp"), 0);
    assert_int_equal(sip_contact_replace(ok, "sip:14@203.0.113.14:5060", -1), 0);
    mh_inject(h, P13, ok);

    osip_message_t *got = mh_take(h, NAT28);
    assert_int_equal(sip_status(got), 200);
    assert_int_equal(sip_via_count(got), 1);
    mh_sdp(got, conn, sizeof conn, ports, &n);
    assert_string_equal(conn, RELAY_MEDIA);
    assert_int_equal(n, 2);
    assert_int_equal(ports[0], RELAY_PORTS[0]);
    assert_int_equal(ports[1], RELAY_PORTS[1]);
    assert_int_equal(sip_body_get(got, &body, &len), 0);
    char want[32];
    snprintf(want, sizeof want, "a=%s\r\n", direction);
    assert_non_null(memmem(body, len, want, strlen(want)));
    mh_expect_quiet(h);
    sip_free(got);
    sip_free(ok);
}

/* Hold (c=0.0.0.0, a=sendonly) passes through with the relay's ports;
 * resume gets the very same ports back. */
static void reinvite_hold_and_resume_reuse_the_relay_ports(void **state)
{
    struct mh *h = *state;
    mh_fig2a_p11_confirmed(h);

    osip_message_t *fwd = reinvite(h, "messaging/reinvite_hold.sip");
    mh_assert_golden(fwd, "messaging/reinvite_hold_fwd.sip");
    answer_reinvite(h, fwd, "recvonly");
    sip_free(fwd);

    fwd = reinvite(h, "messaging/reinvite_resume.sip");
    mh_assert_golden(fwd, "messaging/reinvite_resume_fwd.sip");
    answer_reinvite(h, fwd, "sendrecv");
    sip_free(fwd);
    assert_int_equal(messaging_calls(h->m), 1);
}

/* relayd does not answer the re-query: the re-INVITE fails (503), the
 * session is unchanged (RFC 3261 §14.1) and the call stays. */
static void reinvite_whose_relay_is_silent_is_503(void **state)
{
    struct mh *h = *state;
    mh_fig2a_p11_confirmed(h);
    mh_inject_fixture(h, NAT28, "messaging/reinvite_hold.sip");
    mh_expect_status(h, NAT28, 100, "INVITE");
    mh_run(h, MH_64T1 + 5 * MH_T1);
    mh_expect_status(h, NAT28, 503, "INVITE");
    assert_int_equal(mh_count_to(&h->wire, P13), 0);
    fake_wire_clear(&h->wire);
    assert_int_equal(messaging_calls(h->m), 1);
}

/* ---- BYE ---- */

static void bye_is_routed_and_its_200_releases_the_relay(void **state)
{
    struct mh *h = *state;
    mh_fig2a_p11_confirmed(h);
    mh_inject_fixture(h, NAT28, "messaging/bye_2a.sip");
    osip_message_t *bye = mh_take_request(h, P13, "BYE");
    mh_assert_golden(bye, "messaging/bye_2a_fwd.sip");
    mh_expect_quiet(h);
    assert_int_equal(messaging_calls(h->m), 1);

    mh_answer_status(h, P13, bye, 200);
    mh_expect_status(h, NAT28, 200, "BYE");
    osip_message_t *release = mh_take_request(h, RELAY, "BYE");
    char id[64];
    assert_int_equal(sip_call_id(release, id, sizeof id), 0);
    assert_string_equal(id, "c0ffee-2a@192.168.1.10");
    mh_answer_status(h, RELAY, release, 200);
    mh_expect_quiet(h);
    assert_int_equal(messaging_calls(h->m), 0); /* freed at once */
    assert_int_equal(messaging_stats(h->m)->relay.releases, 1);
    sip_free(release);
    sip_free(bye);
}

/* The callee hangs up: proxy 13 sends the BYE to proxy 11 (its Route), the
 * Request-URI is 16's Contact, its NAT address: out through the NAT
 * client's socket (decision 10). */
static void bye_from_callee_reaches_the_nated_caller(void **state)
{
    struct mh *h = *state;
    mh_nat_client(h, "16", NAT28);
    mh_fig2a_p11_confirmed(h);
    static const char bye[] = "BYE sip:16@198.51.100.28:40312 SIP/2.0\r\n"
                              "Via: SIP/2.0/UDP 203.0.113.13:5060;branch=z9hG4bKph13bye;rport\r\n"
                              "Via: SIP/2.0/UDP 203.0.113.14:5060;branch=z9hG4bKc14bye;rport=5060;"
                              "received=203.0.113.14\r\n"
                              "Route: " ROUTE11 "\r\n"
                              "Max-Forwards: 69\r\n"
                              "From: <sip:14@203.0.113.11>;tag=t14\r\n"
                              "To: \"16\" <sip:16@203.0.113.11>;tag=f16\r\n"
                              "Call-ID: c0ffee-2a@192.168.1.10\r\n"
                              "CSeq: 1 BYE\r\n"
                              "Content-Length: 0\r\n\r\n";
    mh_inject_text(h, P13, bye, strlen(bye));
    assert_int_equal(h->wire.n, 0);
    osip_message_t *fwd = mh_take_from(&h->nat_wire, NAT28);
    assert_true(sip_method_is(fwd, "BYE"));
    assert_int_equal(osip_list_size(&fwd->routes), 0);
    assert_int_equal(sip_via_count(fwd), 3);
    assert_string_equal(sip_header_get(fwd, "Max-Forwards"), "68");

    mh_answer_status(h, NAT28, fwd, 200);
    mh_expect_status(h, P13, 200, "BYE");
    sip_free(mh_take_request(h, RELAY, "BYE"));
    assert_int_equal(messaging_calls(h->m), 0);
    sip_free(fwd);
}

/* The BYE's downstream never answers: 408 to its sender, and the dialog
 * is over all the same (relay released, call freed). */
static void bye_timeout_releases_and_frees(void **state)
{
    struct mh *h = *state;
    mh_fig2a_p11_confirmed(h);
    mh_inject_fixture(h, NAT28, "messaging/bye_2a.sip");
    mh_run(h, MH_64T1 + 5 * MH_T1);
    mh_expect_status(h, NAT28, 408, "BYE");
    sip_free(mh_take_request(h, RELAY, "BYE"));
    fake_wire_clear(&h->wire);
    assert_int_equal(messaging_calls(h->m), 0);
}

/* After a restart there is no call state: the BYE is still routed. */
static void bye_without_call_state_is_still_routed(void **state)
{
    struct mh *h = *state;
    mh_inject_fixture(h, NAT28, "messaging/bye_2a.sip");
    osip_message_t *bye = mh_take_request(h, P13, "BYE");
    mh_assert_golden(bye, "messaging/bye_2a_fwd.sip");
    mh_answer_status(h, P13, bye, 200);
    mh_expect_status(h, NAT28, 200, "BYE");
    mh_expect_quiet(h); /* no relay to release */
    sip_free(bye);
}

/* A confirmed call nobody uses any more (its BYE lost) expires after
 * CALL_IDLE_MS; its relay goes back then. The idle bound is shortened
 * here through the call table. */
static void idle_call_expiry_releases_the_relay(void **state)
{
    struct mh *h = *state;
    mh_fig2a_p11_confirmed(h);
    struct call *c = call_find(h->m, "c0ffee-2a@192.168.1.10");
    assert_non_null(c);
    assert_int_equal(c->state, CALL_CONFIRMED);
    call_expire_in(c, 5 * MH_T1);
    mh_run(h, 20 * MH_T1);
    assert_int_equal(messaging_calls(h->m), 0);
    osip_message_t *bye = mh_take_request(h, RELAY, "BYE");
    assert_int_equal(mh_count_to(&h->wire, RELAY), h->wire.n); /* its resends only */
    fake_wire_clear(&h->wire);
    sip_free(bye);
}

/* An in-dialog request keeps a confirmed call alive. */
static void dialog_requests_refresh_the_idle_bound(void **state)
{
    struct mh *h = *state;
    mh_fig2a_p11_confirmed(h);
    struct call *c = call_find(h->m, "c0ffee-2a@192.168.1.10");
    call_expire_in(c, 5 * MH_T1);
    mh_inject_fixture(h, NAT28, "messaging/ack_2a.sip"); /* back to CALL_IDLE_MS */
    mh_run(h, 20 * MH_T1);
    assert_int_equal(messaging_calls(h->m), 1);
    fake_wire_clear(&h->wire);
}

/* ---- other methods, refusals ---- */

static void info_is_routed_and_answered_back(void **state)
{
    struct mh *h = *state;
    mh_fig2a_p11_confirmed(h);
    mh_inject_variant(h, NAT28, "messaging/bye_2a.sip", "BYE sip", "INFO sip", "2 BYE", "2 INFO");
    osip_message_t *info = mh_take_request(h, P13, "INFO");
    mh_answer_status(h, P13, info, 200);
    mh_expect_status(h, NAT28, 200, "INFO");
    mh_expect_quiet(h);
    assert_int_equal(messaging_calls(h->m), 1);
    sip_free(info);
}

static void next_hop_that_is_a_name_is_404(void **state)
{
    struct mh *h = *state;
    mh_inject_variant(h, NAT28, "messaging/bye_2a.sip", ROUTE13, "<sip:proxy13.example.com;lr>");
    mh_expect_status(h, NAT28, 404, "BYE");
    mh_expect_quiet(h);
}

static void max_forwards_zero_in_dialog_is_483(void **state)
{
    struct mh *h = *state;
    mh_inject_variant(h, NAT28, "messaging/bye_2a.sip", "Max-Forwards: 70", "Max-Forwards: 0");
    mh_expect_status(h, NAT28, 483, "BYE");
    mh_expect_quiet(h);
}

/* No Route left and a Request-URI naming us: it would loop. */
static void request_routed_back_to_us_is_482(void **state)
{
    struct mh *h = *state;
    mh_inject_variant(h, NAT28, "messaging/bye_2a.sip", "BYE sip:14@203.0.113.14:5060",
                      "BYE sip:14@203.0.113.11:5060", "Route: " ROUTE13 "\r\n", "");
    mh_expect_status(h, NAT28, 482, "BYE");
    mh_expect_quiet(h);
}

/* ---- no open relay (design.md "No open relay") ---- */

#define THIRD "192.0.2.99:5060" /* an address the attacker wants us to hit */

static uint64_t refused(const struct mh *h)
{
    return messaging_stats(h->m)->dialog_refused;
}

/* Our Route gone, the next one a third party's: we are asked to relay. */
static void in_dialog_request_routed_elsewhere_is_403(void **state)
{
    struct mh *h = *state;
    mh_inject_variant(h, NAT28, "messaging/bye_2a.sip", "Route: " ROUTE11 "\r\n", "", ROUTE13,
                      "<sip:" THIRD ";lr>");
    mh_expect_status(h, NAT28, 403, "BYE");
    mh_expect_quiet(h);
    assert_int_equal(refused(h), 1);
}

/* The reported amplifier: OPTIONS with a To tag and a numeric
 * Request-URI, no Route, no call: one 481, not 11 datagrams to THIRD. */
static void in_dialog_request_of_no_dialog_is_481(void **state)
{
    struct mh *h = *state;
    mh_inject_variant(h, NAT28, "messaging/bye_2a.sip", "BYE sip:14@203.0.113.14:5060",
                      "OPTIONS sip:14@" THIRD, "2 BYE", "2 OPTIONS", "Route: " ROUTE11 "\r\n", "",
                      "Route: " ROUTE13 "\r\n", "");
    mh_expect_status(h, NAT28, 481, "OPTIONS");
    mh_run(h, MH_LINGER);
    assert_int_equal(mh_count_to(&h->wire, THIRD), 0);
    fake_wire_clear(&h->wire); /* the 481's retransmissions, if any, went to the sender */
    assert_int_equal(refused(h), 1);
}

/* A phone that ignored our Record-Route still reaches its peer: the call
 * is ours. */
static void in_dialog_request_of_a_held_call_without_route_is_routed(void **state)
{
    struct mh *h = *state;
    mh_fig2a_p11_confirmed(h);
    mh_inject_variant(h, NAT28, "messaging/bye_2a.sip", "BYE sip", "INFO sip", "2 BYE", "2 INFO",
                      "Route: " ROUTE11 "\r\n", "", "Route: " ROUTE13 "\r\n", "");
    osip_message_t *info = mh_take_request(h, CLIENT14, "INFO");
    mh_expect_quiet(h);
    assert_int_equal(refused(h), 0);
    sip_free(info);
}

/* Our Route on top, then relayd's or redirectd's control address: only
 * the queries proxyd builds may go there. */
static void in_dialog_request_to_our_servers_is_403(void **state)
{
    struct mh *h = *state;
    mh_inject_variant(h, NAT28, "messaging/bye_2a.sip", ROUTE13, "<sip:" RELAY ";lr>");
    mh_expect_status(h, NAT28, 403, "BYE");
    mh_inject_variant(h, NAT28, "messaging/bye_2a.sip", "z9hG4bKc16bye", "z9hG4bKc16bye2",
                      "BYE sip:14@203.0.113.14:5060", "BYE sip:14@" REDIRECT,
                      "Route: " ROUTE13 "\r\n", "");
    mh_expect_status(h, NAT28, 403, "BYE");
    mh_expect_quiet(h);
    assert_int_equal(refused(h), 2);
}

/* Our address on top of a Route set of the attacker's choosing: without
 * our mark for its Call-ID (none, a made-up one, another call's) it is
 * not a dialog we record-routed. */
static void our_route_without_our_mark_is_403(void **state)
{
    struct mh *h = *state;
    static const char *const marks[] = {"<sip:203.0.113.11:5060;lr>",
                                        "<sip:203.0.113.11:5060;lr;ph=0123456789abcdef>",
                                        "<sip:203.0.113.11:5060;lr;ph=8b5917e46cd901b>",
                                        "<sip:203.0.113.11:5060;lr;ph=62de5b25e54ed01b>"};
    for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++) {
        char branch[32];
        snprintf(branch, sizeof branch, "z9hG4bKforged%zu", i);
        mh_inject_variant(h, NAT28, "messaging/bye_2a.sip", "z9hG4bKc16bye", branch, ROUTE11,
                          marks[i], ROUTE13, "<sip:" THIRD ";lr>");
        mh_expect_status(h, NAT28, 403, "BYE");
    }
    mh_expect_quiet(h);
    assert_int_equal(refused(h), 4);
    /* the genuine mark still routes it, with no call state behind it */
    mh_inject_variant(h, NAT28, "messaging/bye_2a.sip", ROUTE13, "<sip:" THIRD ";lr>");
    osip_message_t *bye = mh_take_request(h, THIRD, "BYE");
    sip_free(bye);
    fake_wire_clear(&h->wire);
}

static void ack_of_no_dialog_goes_nowhere(void **state)
{
    struct mh *h = *state;
    mh_inject_variant(h, NAT28, "messaging/ack_2a.sip", "ACK sip:14@203.0.113.14:5060",
                      "ACK sip:14@" THIRD, "Route: " ROUTE11 "\r\n", "", "Route: " ROUTE13 "\r\n",
                      "");
    mh_expect_quiet(h);
    assert_int_equal(refused(h), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(ack_for_2xx_is_forwarded_statelessly, mh_setup_p11,
                                        mh_teardown),
        cmocka_unit_test_setup_teardown(ack_without_to_tag_is_dropped, mh_setup_p11, mh_teardown),
        cmocka_unit_test_setup_teardown(reinvite_hold_and_resume_reuse_the_relay_ports,
                                        mh_setup_p11, mh_teardown),
        cmocka_unit_test_setup_teardown(reinvite_whose_relay_is_silent_is_503, mh_setup_p11,
                                        mh_teardown),
        cmocka_unit_test_setup_teardown(bye_is_routed_and_its_200_releases_the_relay, mh_setup_p11,
                                        mh_teardown),
        cmocka_unit_test_setup_teardown(bye_from_callee_reaches_the_nated_caller, mh_setup_p11,
                                        mh_teardown),
        cmocka_unit_test_setup_teardown(bye_timeout_releases_and_frees, mh_setup_p11, mh_teardown),
        cmocka_unit_test_setup_teardown(bye_without_call_state_is_still_routed, mh_setup_p11,
                                        mh_teardown),
        cmocka_unit_test_setup_teardown(idle_call_expiry_releases_the_relay, mh_setup_p11,
                                        mh_teardown),
        cmocka_unit_test_setup_teardown(dialog_requests_refresh_the_idle_bound, mh_setup_p11,
                                        mh_teardown),
        cmocka_unit_test_setup_teardown(info_is_routed_and_answered_back, mh_setup_p11,
                                        mh_teardown),
        cmocka_unit_test_setup_teardown(next_hop_that_is_a_name_is_404, mh_setup_p11, mh_teardown),
        cmocka_unit_test_setup_teardown(max_forwards_zero_in_dialog_is_483, mh_setup_p11,
                                        mh_teardown),
        cmocka_unit_test_setup_teardown(request_routed_back_to_us_is_482, mh_setup_p11,
                                        mh_teardown),
        cmocka_unit_test_setup_teardown(in_dialog_request_routed_elsewhere_is_403, mh_setup_p11,
                                        mh_teardown),
        cmocka_unit_test_setup_teardown(in_dialog_request_of_no_dialog_is_481, mh_setup_p11,
                                        mh_teardown),
        cmocka_unit_test_setup_teardown(in_dialog_request_of_a_held_call_without_route_is_routed,
                                        mh_setup_p11, mh_teardown),
        cmocka_unit_test_setup_teardown(in_dialog_request_to_our_servers_is_403, mh_setup_p11,
                                        mh_teardown),
        cmocka_unit_test_setup_teardown(our_route_without_our_mark_is_403, mh_setup_p11,
                                        mh_teardown),
        cmocka_unit_test_setup_teardown(ack_of_no_dialog_goes_nowhere, mh_setup_p11, mh_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

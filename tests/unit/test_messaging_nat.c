/* Figure 4a steps 140-144 and 152-155 with NAT clients: figure 2b at proxy
 * 11 (5e → the destination 16 is in the NAT client table, no relay yet:
 * relay query 153, then 5f to NAT 28 from the socket its REGISTER came in
 * on), figure 2c at proxy 13 (the relay is already in the SDP: 5g to NAT
 * 30 with no new relay), and the NAT signals of step 142. */
#include "test_messaging_harness.h"

/* Figure 2b signals 4-9 at proxy 11. */
static void fig5e_to_nat_client_gets_relay_then_5f(void **state)
{
    struct mh *h = *state;
    mh_nat_client(h, "16", NAT28);
    mh_inject_fixture(h, P13, "messaging/fig5e_invite.sip");
    mh_expect_status(h, P13, 100, "INVITE");
    /* the sender (proxy 13) is not NATed: step 146 is skipped */
    osip_message_t *q = mh_take_request(h, REDIRECT, "INVITE");
    mh_expect_quiet(h);

    /* redirectd: we serve 16, so its NAT channel (decision 3) */
    mh_redirect_302(h, q, "sip:16@198.51.100.28:40312");
    mh_expect_request(h, REDIRECT, "ACK");
    /* step 152a: 16 is our NAT client, 152b: no resource → 153 */
    osip_message_t *rq = mh_take_request(h, RELAY, "INVITE");
    mh_assert_golden(rq, "messaging/fig2b_relay_invite.sip");
    mh_expect_quiet(h);

    mh_relay_302(h, RELAY, rq, (const uint16_t[]){30010, 30012}, 2);
    mh_expect_request(h, RELAY, "ACK");
    assert_int_equal(h->wire.n, 0); /* decision 10: not from the proxy's main socket */
    osip_message_t *fwd = mh_take_from(&h->nat_wire, NAT28);
    mh_assert_golden(fwd, "messaging/fig5f_invite.sip");
    mh_expect_quiet(h);
    assert_int_equal(messaging_stats(h->m)->relay.allocations, 1);
    sip_free(fwd);
    sip_free(rq);
    sip_free(q);
}

/* Figure 2c signals 7-9 at proxy 13: 18 is a NAT client, but the SDP
 * already names the relay (152b, decision 4). */
static void fig2c_5b_to_nat_client_becomes_5g_without_relay(void **state)
{
    struct mh *h = *state;
    mh_nat_client(h, "18", NAT30);
    mh_inject_fixture(h, P11, "messaging/fig2c_5b_invite.sip");
    mh_expect_status(h, P11, 100, "INVITE");
    osip_message_t *q = mh_take_request(h, REDIRECT, "INVITE");
    mh_expect_quiet(h);

    mh_redirect_302(h, q, "sip:18@198.51.100.30:40400");
    mh_expect_request(h, REDIRECT, "ACK");
    assert_int_equal(h->wire.n, 0); /* no relay query; not the main socket */
    osip_message_t *fwd = mh_take_from(&h->nat_wire, NAT30);
    mh_assert_golden(fwd, "messaging/fig5g_invite.sip");
    mh_expect_quiet(h);
    assert_int_equal(messaging_stats(h->m)->relay.allocations, 0);
    sip_free(fwd);
    sip_free(q);
}

/* The relay address learnt from a relayd 302 counts too (decision 4): a
 * relay whose media address is not its control address. */
static void relay_media_address_seen_in_a_302_counts_as_relayed(void **state)
{
    struct mh *h = *state;
    h->relays[0] = test_addr("203.0.113.99:5060"); /* control host != media host */
    /* nothing seen yet: an SDP naming 203.0.113.22 is not relayed */
    mh_nat_client(h, "18", NAT30);
    mh_inject_variant(h, P11, "messaging/fig2c_5b_invite.sip", "Call-ID: c0ffee-2c",
                      "Call-ID: other-2c", "branch=z9hG4bKph11;", "branch=z9hG4bKph11x;");
    mh_expect_status(h, P11, 100, "INVITE");
    osip_message_t *q = mh_take_request(h, REDIRECT, "INVITE");
    mh_redirect_302(h, q, "sip:18@198.51.100.30:40400");
    sip_free(q);
    osip_message_t *rq = mh_take_request(h, "203.0.113.99:5060", "INVITE");
    /* relayd answers with media on 203.0.113.22: now it is known */
    mh_relay_302(h, "203.0.113.99:5060", rq, (const uint16_t[]){30020, 30022}, 2);
    sip_free(rq);
    fake_wire_clear(&h->wire);
    fake_wire_clear(&h->nat_wire);

    mh_inject_fixture(h, P11, "messaging/fig2c_5b_invite.sip");
    mh_expect_status(h, P11, 100, "INVITE");
    q = mh_take_request(h, REDIRECT, "INVITE");
    mh_redirect_302(h, q, "sip:18@198.51.100.30:40400");
    sip_free(q);
    assert_int_equal(mh_count_to(&h->wire, "203.0.113.99:5060"), 0);
    osip_message_t *fwd = mh_take_from(&h->nat_wire, NAT30);
    mh_assert_golden(fwd, "messaging/fig5g_invite.sip");
    sip_free(fwd);
}

/* Step 142's second signal (decision 2): a phone that writes its public
 * address in the Via but a private Contact, when private_contact_is_nat. */
static void private_contact_is_a_nat_signal_when_configured(void **state)
{
    struct mh *h = *state;
    h->cfg.nat.private_contact_is_nat = true;
    mh_inject_variant(h, NAT28, "patent/fig5a_invite.sip", "192.168.1.10:5060;branch",
                      "198.51.100.28:40312;branch");
    mh_expect_status(h, NAT28, 100, "INVITE");
    osip_message_t *rq = mh_take_request(h, RELAY, "INVITE");
    char *contact;
    assert_int_equal(sip_contact_uri_text(rq, &contact), 0);
    assert_string_equal(contact, "sip:16@198.51.100.28:40312"); /* step 144 */
    osip_free(contact);
    sip_free(rq);
}

static void private_contact_alone_is_not_nat_by_default(void **state)
{
    struct mh *h = *state;
    mh_inject_variant(h, NAT28, "patent/fig5a_invite.sip", "192.168.1.10:5060;branch",
                      "198.51.100.28:40312;branch");
    mh_expect_status(h, NAT28, 100, "INVITE");
    osip_message_t *q = mh_take_request(h, REDIRECT, "INVITE");
    assert_int_equal(mh_count_to(&h->wire, RELAY), 0);
    char *contact;
    assert_int_equal(sip_contact_uri_text(q, &contact), 0);
    assert_string_equal(contact, "sip:16@192.168.1.10:5060");
    osip_free(contact);
    sip_free(q);
}

/* A NATed caller without SDP (offer in the 200): nothing to relay yet. */
static void nated_caller_without_sdp_gets_no_relay(void **state)
{
    struct mh *h = *state;
    char *t = fixture_read_sip("patent/fig5a_invite.sip", NULL);
    char *body = strstr(t, "Content-Type");
    assert_non_null(body);
    strcpy(body, "Content-Length: 0\r\n\r\n");
    mh_inject_text(h, NAT28, t, strlen(t));
    free(t);
    mh_expect_status(h, NAT28, 100, "INVITE");
    osip_message_t *q = mh_take_request(h, REDIRECT, "INVITE");
    mh_expect_quiet(h);
    mh_redirect_302(h, q, "sip:14@203.0.113.13:5060");
    mh_expect_request(h, REDIRECT, "ACK");
    osip_message_t *fwd = mh_take_request(h, P13, "INVITE");
    char *contact;
    assert_int_equal(sip_contact_uri_text(fwd, &contact), 0);
    assert_string_equal(contact, "sip:16@198.51.100.28:40312");
    osip_free(contact);
    mh_expect_quiet(h);
    sip_free(fwd);
    sip_free(q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(fig5e_to_nat_client_gets_relay_then_5f, mh_setup_p11,
                                        mh_teardown),
        cmocka_unit_test_setup_teardown(fig2c_5b_to_nat_client_becomes_5g_without_relay,
                                        mh_setup_p13, mh_teardown),
        cmocka_unit_test_setup_teardown(relay_media_address_seen_in_a_302_counts_as_relayed,
                                        mh_setup_p13, mh_teardown),
        cmocka_unit_test_setup_teardown(private_contact_is_a_nat_signal_when_configured,
                                        mh_setup_p11, mh_teardown),
        cmocka_unit_test_setup_teardown(private_contact_alone_is_not_nat_by_default, mh_setup_p11,
                                        mh_teardown),
        cmocka_unit_test_setup_teardown(nated_caller_without_sdp_gets_no_relay, mh_setup_p11,
                                        mh_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

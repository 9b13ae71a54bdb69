/* Media timeout (src/proxyd/media_timeout.c, issue #16): relayd's notice
 * that a confirmed call's media died makes proxy 11 BYE both phones with
 * the Reason relayd gave, along each side's route set; a notice from
 * anyone but a relay changes nothing. */
#include "test_messaging_harness.h"

static const char NOTICE[] = "BYE sip:relay@203.0.113.11:5060 SIP/2.0\r\n"
                             "Via: SIP/2.0/UDP 203.0.113.22:5060;branch=z9hG4bKnotice1;rport\r\n"
                             "Max-Forwards: 70\r\n"
                             "From: <sip:relay@203.0.113.22:5060>;tag=r1\r\n"
                             "To: <sip:relay@203.0.113.11:5060>\r\n"
                             "Call-ID: c0ffee-2a@192.168.1.10\r\n"
                             "CSeq: 1 BYE\r\n"
                             "Reason: SIP;cause=408;text=\"media timeout\"\r\n"
                             "Content-Length: 0\r\n\r\n";

static void silent_media_ends_the_call_at_both_phones(void **state)
{
    struct mh *h = *state;
    mh_fig2a_p11_confirmed(h);
    mh_inject_text(h, RELAY, NOTICE, strlen(NOTICE));
    mh_expect_status(h, RELAY, 200, "BYE");

    /* to 16, the caller: straight to its NAT address (nobody below us) */
    osip_message_t *b16 = mh_take_request(h, NAT28, "BYE");
    assert_string_equal(sip_header_get(b16, "Reason"), "SIP;cause=408;text=\"media timeout\"");
    assert_string_equal(sip_to_tag(b16), "f16"); /* its own From, now our To */
    assert_null(osip_list_get(&b16->routes, 0));
    char *uri = NULL;
    assert_int_equal(osip_uri_to_str(b16->req_uri, &uri), 0);
    assert_non_null(strstr(uri, "198.51.100.28:40312")); /* step 144's Contact */
    osip_free(uri);
    /* to 14, the callee: along the route through proxy 13 */
    osip_message_t *b14 = mh_take_request(h, P13, "BYE");
    assert_string_equal(sip_header_get(b14, "Reason"), "SIP;cause=408;text=\"media timeout\"");
    assert_string_equal(sip_from_tag(b14), "f16");
    osip_route_t *r = osip_list_get(&b14->routes, 0);
    assert_non_null(r);
    assert_string_equal(r->url->host, "203.0.113.13");
    assert_int_equal(messaging_stats(h->m)->media_timeouts, 1);
    /* the call is gone, and relayd is not asked to release what it freed */
    assert_int_equal(messaging_calls(h->m), 0);
    assert_int_equal(messaging_stats(h->m)->relay.releases, 0);
    sip_free(b16);
    sip_free(b14);
    fake_wire_clear(&h->wire);
    fake_wire_clear(&h->nat_wire);
}

/* The same BYE from a phone (or anyone but a relay): 481, the call stays. */
static void a_forged_notice_changes_nothing(void **state)
{
    struct mh *h = *state;
    mh_fig2a_p11_confirmed(h);
    char forged[sizeof NOTICE];
    memcpy(forged, NOTICE, sizeof NOTICE);
    memcpy(strstr(forged, "notice1"), "forged1", 7); /* its own transaction */
    mh_inject_text(h, NAT28, forged, strlen(forged));
    mh_expect_status(h, NAT28, 481, "BYE");
    mh_expect_quiet(h);
    assert_int_equal(messaging_calls(h->m), 1);
    /* relayd's own notice ends it; then one for a call we do not have: 481 */
    mh_inject_text(h, RELAY, NOTICE, strlen(NOTICE));
    assert_int_equal(messaging_calls(h->m), 0);
    fake_wire_clear(&h->wire);
    fake_wire_clear(&h->nat_wire);
    static const char other[] = "BYE sip:relay@203.0.113.11:5060 SIP/2.0\r\n"
                                "Via: SIP/2.0/UDP 203.0.113.22:5060;branch=z9hG4bKnotice2\r\n"
                                "Max-Forwards: 70\r\nFrom: <sip:relay@x>;tag=r2\r\n"
                                "To: <sip:relay@y>\r\nCall-ID: nobody@x\r\nCSeq: 1 BYE\r\n"
                                "Content-Length: 0\r\n\r\n";
    mh_inject_text(h, RELAY, other, strlen(other));
    mh_expect_status(h, RELAY, 481, "BYE");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(silent_media_ends_the_call_at_both_phones, mh_setup_p11,
                                        mh_teardown),
        cmocka_unit_test_setup_teardown(a_forged_notice_changes_nothing, mh_setup_p11, mh_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

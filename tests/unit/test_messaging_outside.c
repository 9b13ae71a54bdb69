/* Out-of-dialog requests other than INVITE (src/proxyd/outside.c, issue
 * #16): MESSAGE, SUBSCRIBE (record-routed, its NOTIFY back through us),
 * OPTIONS to a user and a method nobody knows are routed where redirectd
 * says, never answered 501; what cannot be routed gets a 4xx. */
#include "test_messaging_harness.h"

/* A request of client 16 (behind NAT 28) for user `to` at proxy 11. */
static void send_from_16(struct mh *h, const char *method, const char *to, const char *call_id,
                         const char *extra)
{
    char text[1024];
    int n = snprintf(text, sizeof text,
                     "%s sip:%s@203.0.113.11:5060 SIP/2.0\r\n"
                     "Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bK%s;rport\r\n"
                     "Max-Forwards: 70\r\n"
                     "From: <sip:16@203.0.113.11>;tag=f16\r\n"
                     "To: <sip:%s@203.0.113.11>\r\n"
                     "Call-ID: %s\r\n"
                     "CSeq: 1 %s\r\n"
                     "Contact: <sip:16@192.168.1.10:5060>\r\n"
                     "%s"
                     "Content-Length: 0\r\n\r\n",
                     method, to, call_id, to, call_id, method, extra);
    assert_true(n > 0 && (size_t)n < sizeof text);
    mh_inject_text(h, NAT28, text, (size_t)n);
}

/* redirectd is asked with the request's own method; it answers `contact`
 * (302) or `status`. Returns what proxy 11 forwarded to `next`, or NULL. */
static osip_message_t *routed(struct mh *h, const char *method, const char *contact,
                              const char *next)
{
    osip_message_t *q = mh_take_request(h, REDIRECT, method);
    char *uri = NULL;
    assert_int_equal(osip_uri_to_str(q->req_uri, &uri), 0);
    assert_non_null(strstr(uri, "@203.0.113.20"));
    osip_free(uri);
    mh_redirect_302(h, q, contact);
    sip_free(q);
    return mh_take_request(h, next, method);
}

static void message_is_routed_where_redirectd_says(void **state)
{
    struct mh *h = *state;
    send_from_16(h, "MESSAGE", "14", "msg-1", "Content-Type: text/plain\r\n");
    osip_message_t *fwd = routed(h, "MESSAGE", "sip:14@203.0.113.13:5060", P13);
    char *uri = NULL;
    assert_int_equal(osip_uri_to_str(fwd->req_uri, &uri), 0);
    assert_string_equal(uri, "sip:14@203.0.113.13:5060");
    osip_free(uri);
    assert_int_equal(sip_via_count(fwd), 2);            /* ours on top */
    assert_null(osip_list_get(&fwd->record_routes, 0)); /* no dialog: no Record-Route */
    assert_string_equal(sip_header_get(fwd, "Max-Forwards"), "69");
    assert_string_equal(sip_header_get(fwd, "Pinhole-Source"), "198.51.100.28"); /* a peer */
    struct addr contact;
    assert_int_equal(sip_contact_addr(fwd, &contact), 0); /* step 144: the NAT address */
    struct addr nat28 = test_addr(NAT28);
    assert_true(addr_equal(&contact, &nat28));
    mh_expect_quiet(h);

    /* 14's 200 comes back through P13 to 16's NAT, our Via popped */
    mh_answer_status(h, P13, fwd, 200);
    osip_message_t *ok = mh_take(h, NAT28);
    assert_int_equal(sip_status(ok), 200);
    assert_int_equal(sip_via_count(ok), 1);
    assert_null(sip_header_get(ok, "Pinhole-Source"));
    mh_expect_quiet(h);
    assert_int_equal(messaging_stats(h->m)->outside_forwarded, 1);
    assert_int_equal(proxy_stats(h->p)->not_implemented, 0);
    sip_free(ok);
    sip_free(fwd);
    mh_assert_no_calls(h);
}

/* SUBSCRIBE starts a dialog (RFC 6665): record-routed with the dialog
 * mark, so the NOTIFY that comes back is admitted and reaches 16. */
static void subscribe_is_record_routed_and_its_notify_comes_back(void **state)
{
    struct mh *h = *state;
    mh_nat_client(h, "16", NAT28);
    send_from_16(h, "SUBSCRIBE", "14", "sub-1", "Event: presence\r\nExpires: 600\r\n");
    osip_message_t *fwd = routed(h, "SUBSCRIBE", "sip:14@203.0.113.13:5060", P13);
    osip_record_route_t *rr = osip_list_get(&fwd->record_routes, 0);
    assert_non_null(rr);
    char *rr_text = NULL;
    assert_int_equal(osip_record_route_to_str(rr, &rr_text), 0);
    assert_non_null(strstr(rr_text, "sip:203.0.113.11:5060;lr;ph="));
    mh_answer_status(h, P13, fwd, 200);
    sip_free(mh_take(h, NAT28));

    /* the NOTIFY, in the dialog, along the route 14 learnt */
    char notify[1024];
    const char *mark = strstr(rr_text, "ph=") + 3;
    int n = snprintf(notify, sizeof notify,
                     "NOTIFY sip:16@198.51.100.28:40312 SIP/2.0\r\n"
                     "Via: SIP/2.0/UDP 203.0.113.13:5060;branch=z9hG4bKn1\r\n"
                     "Route: <sip:203.0.113.11:5060;lr;ph=%.16s>\r\n"
                     "Max-Forwards: 69\r\n"
                     "From: <sip:14@203.0.113.11>;tag=t14\r\n"
                     "To: <sip:16@203.0.113.11>;tag=f16\r\n"
                     "Call-ID: sub-1\r\nCSeq: 1 NOTIFY\r\n"
                     "Event: presence\r\nSubscription-State: active;expires=600\r\n"
                     "Contact: <sip:14@203.0.113.14:5060>\r\n"
                     "Content-Length: 0\r\n\r\n",
                     mark);
    mh_inject_text(h, P13, notify, (size_t)n);
    osip_message_t *got = mh_take_from(&h->nat_wire, NAT28); /* decision 10 */
    assert_true(sip_method_is(got, "NOTIFY"));
    assert_null(sip_header_get(got, "Pinhole-Source"));
    mh_answer_status(h, NAT28, got, 200);
    mh_expect_status(h, P13, 200, "NOTIFY");
    mh_expect_quiet(h);
    osip_free(rr_text);
    sip_free(got);
    sip_free(fwd);
}

/* OPTIONS to a user (a phone asking what another supports) and a method
 * nobody knows are routed like MESSAGE: never 501. */
static void options_to_a_user_and_unknown_methods_are_routed(void **state)
{
    struct mh *h = *state;
    send_from_16(h, "OPTIONS", "14", "opt-1", "");
    osip_message_t *fwd = routed(h, "OPTIONS", "sip:14@203.0.113.13:5060", P13);
    mh_answer_status(h, P13, fwd, 200);
    mh_expect_status(h, NAT28, 200, "OPTIONS");
    sip_free(fwd);
    send_from_16(h, "BREW", "14", "brew-1", "");
    fwd = routed(h, "BREW", "sip:14@203.0.113.13:5060", P13);
    mh_answer_status(h, P13, fwd, 405);
    mh_expect_status(h, NAT28, 405, "BREW");
    sip_free(fwd);
    send_from_16(h, "PUBLISH", "16", "pub-1", "Event: presence\r\n");
    sip_free(routed(h, "PUBLISH", "sip:16@203.0.113.13:5060", P13));
    mh_expect_quiet(h);
    assert_int_equal(proxy_stats(h->p)->not_implemented, 0);
}

/* To our own NAT client: from the socket its REGISTER came in on. */
static void a_message_to_a_nat_client_leaves_from_its_socket(void **state)
{
    struct mh *h = *state;
    mh_nat_client(h, "18", NAT30);
    send_from_16(h, "MESSAGE", "18", "msg-2", "");
    osip_message_t *q = mh_take_request(h, REDIRECT, "MESSAGE");
    mh_redirect_302(h, q, "sip:18@" NAT30);
    osip_message_t *fwd = mh_take_from(&h->nat_wire, NAT30);
    assert_true(sip_method_is(fwd, "MESSAGE"));
    assert_null(sip_header_get(fwd, "Pinhole-Source")); /* a phone */
    sip_free(fwd);
    sip_free(q);
}

/* What cannot be routed is answered, and nothing goes on: an unknown user
 * (redirectd's 404), no user, not sip:, Max-Forwards 0, a 302 naming us
 * (a loop), one naming our relay (never routed to our servers), and a
 * redirectd that never answers. */
static void what_cannot_be_routed_gets_a_4xx_and_nothing_goes_on(void **state)
{
    struct mh *h = *state;
    send_from_16(h, "MESSAGE", "99", "bad-1", "");
    osip_message_t *q = mh_take_request(h, REDIRECT, "MESSAGE");
    mh_answer_status(h, REDIRECT, q, 404);
    sip_free(q);
    mh_expect_status(h, NAT28, 404, "MESSAGE");

    static const char no_user[] = "MESSAGE sip:203.0.113.99:5060 SIP/2.0\r\n"
                                  "Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKnu\r\n"
                                  "Max-Forwards: 70\r\nFrom: <sip:16@x>;tag=a\r\nTo: <sip:x@y>\r\n"
                                  "Call-ID: nu\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n";
    mh_inject_text(h, NAT28, no_user, strlen(no_user));
    mh_expect_status(h, NAT28, 404, "MESSAGE");
    static const char tel[] = "MESSAGE tel:+4930123 SIP/2.0\r\n"
                              "Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKtel\r\n"
                              "Max-Forwards: 70\r\nFrom: <sip:16@x>;tag=a\r\nTo: <tel:+4930123>\r\n"
                              "Call-ID: tel\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n";
    mh_inject_text(h, NAT28, tel, strlen(tel));
    mh_expect_status(h, NAT28, 416, "MESSAGE");
    static const char hops[] = "MESSAGE sip:14@203.0.113.11 SIP/2.0\r\n"
                               "Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKmf\r\n"
                               "Max-Forwards: 0\r\nFrom: <sip:16@x>;tag=a\r\nTo: <sip:14@x>\r\n"
                               "Call-ID: mf\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n";
    mh_inject_text(h, NAT28, hops, strlen(hops));
    mh_expect_status(h, NAT28, 483, "MESSAGE");

    send_from_16(h, "MESSAGE", "14", "loop-1", "");
    q = mh_take_request(h, REDIRECT, "MESSAGE");
    mh_redirect_302(h, q, "sip:14@" P11);
    sip_free(q);
    mh_expect_status(h, NAT28, 482, "MESSAGE");
    send_from_16(h, "MESSAGE", "14", "relay-1", "");
    q = mh_take_request(h, REDIRECT, "MESSAGE");
    mh_redirect_302(h, q, "sip:14@" RELAY);
    sip_free(q);
    mh_expect_status(h, NAT28, 403, "MESSAGE");
    mh_expect_quiet(h);

    /* redirectd silent: the query times out, 16 gets a final, no leak */
    send_from_16(h, "MESSAGE", "14", "silent-1", "");
    fake_wire_clear(&h->wire);
    mh_run(h, 80 * MH_T1);
    assert_int_equal(mh_count_to(&h->wire, NAT28), 1); /* one final, then quiet */
    osip_message_t *last = mh_take(h, NAT28);
    assert_true(sip_status(last) >= 400);
    sip_free(last);
    fake_wire_clear(&h->wire);
    assert_int_equal(messaging_stats(h->m)->outside_refused, 7);
}

/* proxyd stops while a request waits for redirectd: freed, nothing sent. */
static void pending_requests_are_freed_with_the_proxy(void **state)
{
    struct mh *h = *state;
    for (int i = 0; i < 50; i++) {
        char id[32];
        snprintf(id, sizeof id, "pending-%d", i);
        send_from_16(h, "MESSAGE", "14", id, "");
    }
    fake_wire_clear(&h->wire);
    /* mh_teardown frees them; ASan checks nothing leaks */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(message_is_routed_where_redirectd_says, mh_setup_p11,
                                        mh_teardown),
        cmocka_unit_test_setup_teardown(subscribe_is_record_routed_and_its_notify_comes_back,
                                        mh_setup_p11, mh_teardown),
        cmocka_unit_test_setup_teardown(options_to_a_user_and_unknown_methods_are_routed,
                                        mh_setup_p11, mh_teardown),
        cmocka_unit_test_setup_teardown(a_message_to_a_nat_client_leaves_from_its_socket,
                                        mh_setup_p11, mh_teardown),
        cmocka_unit_test_setup_teardown(what_cannot_be_routed_gets_a_4xx_and_nothing_goes_on,
                                        mh_setup_p11, mh_teardown),
        cmocka_unit_test_setup_teardown(pending_requests_are_freed_with_the_proxy, mh_setup_p11,
                                        mh_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* proxyd's dispatch (src/proxyd/proxy.c) around its modules, on a fake
 * wire: OPTIONS to the proxy itself, 501 for what no module routes, the
 * drain on SIGTERM, and the RFC 4475 torture messages through every
 * module. (The keepalive drop wired to an unregister at redirectd is
 * tests/integration/test_proxyd_keepalive.sh's.) */
#include "registration_harness.h"

#include "proxy.h"

static void receive(struct ctx *c, const struct addr *src, const char *text, size_t len)
{
    proxy_receive(c->p, &c->tp, src, text, len);
}

static int setup(void **state)
{
    struct ctx *c = rh_new();
    assert_int_equal(proxy_new(&c->p, c->loop, &c->cfg, &c->tp, &rh_timers), 0);
    c->receive = receive;
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    struct ctx *c = *state;
    proxy_free(c->p);
    rh_free(c);
    return 0;
}

static void options_to_us_200_and_other_methods_routed(void **state)
{
    struct ctx *c = *state;
    static const char options[] = "OPTIONS sip:203.0.113.11:5060 SIP/2.0\r\n"
                                  "Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKo1\r\n"
                                  "From: <sip:16@203.0.113.11>;tag=o\r\n"
                                  "To: <sip:203.0.113.11>\r\n"
                                  "Call-ID: o1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
                                  "Content-Length: 0\r\n\r\n";
    inject_text(c, NAT28, options, strlen(options));
    osip_message_t *answer = only_packet_to(c, NAT28);
    assert_int_equal(sip_status(answer), 200);
    assert_non_null(strstr(sip_header_get(answer, "Allow"), "REGISTER"));
    sip_free(answer);

    /* INVITE is the messaging module's (issue #6), and so is every other
     * method since issue #16: an out-of-dialog MESSAGE asks redirectd
     * where the user is, as an INVITE does */
    static const char invite[] = "MESSAGE sip:14@203.0.113.11 SIP/2.0\r\n"
                                 "Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKi1\r\n"
                                 "From: <sip:16@203.0.113.11>;tag=i\r\n"
                                 "To: <sip:14@203.0.113.11>\r\n"
                                 "Call-ID: i1\r\nCSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\n"
                                 "Contact: <sip:16@192.168.1.10>\r\n"
                                 "Content-Length: 0\r\n\r\n";
    inject_text(c, NAT28, invite, strlen(invite));
    osip_message_t *query = only_packet_to(c, REDIRECT);
    assert_true(sip_method_is(query, "MESSAGE"));
    assert_string_equal(sip_request_uri_user(query), "14");
    sip_free(query);
    assert_int_equal(proxy_stats(c->p)->not_implemented, 0);
}

static void a_draining_proxy_refuses_new_registrations(void **state)
{
    struct ctx *c = *state;
    assert_int_equal(proxy_drain(c->p), 0); /* nothing pending: stop at once */
    inject_fixture(c, NAT28, "registration/fig3b_registration_120.sip");
    osip_message_t *answer = only_packet_to(c, NAT28);
    assert_int_equal(sip_status(answer), 503);
    sip_free(answer);
}

static void drain_waits_for_pending_registrations(void **state)
{
    struct ctx *c = *state;
    osip_message_t *fwd = register_16(c);
    assert_true(proxy_drain(c->p) > 0);
    /* what is in flight still completes */
    osip_message_t *ok = redirect_ok(fwd, 120);
    inject_msg(c, REDIRECT, ok);
    osip_message_t *answer = only_packet_to(c, NAT28);
    assert_int_equal(sip_status(answer), 200);
    sip_free(answer);
    sip_free(ok);
    sip_free(fwd);
}

/* RFC 4475's torture messages, each from its own source, through the whole
 * dispatch (ASan/UBSan watch): nothing crashes or leaks, anything sent is
 * what check_torture_output allows. */
static void survives_the_rfc4475_torture_messages(void **state)
{
    struct ctx *c = *state;
    inject_rfc4475_torture(c);
    assert_true(proxy_stats(c->p)->parse_errors > 0);
}

int main(void)
{
    assert_int_equal(sip_init(), 0);
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(options_to_us_200_and_other_methods_routed),
        T(a_draining_proxy_refuses_new_registrations),
        T(drain_waits_for_pending_registrations),
        T(survives_the_rfc4475_torture_messages),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The patent's own transformations, run through the libpinhole helpers the
 * proxy uses, as golden files: figure 5a → 5b at proxy 11 (NATed caller),
 * 5b → 5c at proxy 13, and the response path 6a → 6b → 6c. */
#include "helpers.h"
#include "sip_golden.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pinhole/sdp.h"
#include "pinhole/sip.h"

/* The mark of call c0ffee-2a@192.168.1.10's Record-Routes in the golden
 * files (proxyd's dialog_mark under the unit tests' key, MH_SECRET). */
#define MARK_2A "ph=8b5917e46cd901bf"

static const char *const RELAY_IP = "203.0.113.22";
static const uint16_t RELAY_PORTS[] = {30000, 30002};

/* Serializes and parses again, so what is compared is what goes on the wire. */
static osip_message_t *over_the_wire(osip_message_t *m)
{
    char *text;
    size_t len;
    osip_message_t *back = NULL;
    struct sip_parse_result res;
    assert_int_equal(sip_serialize(m, &text, &len), 0);
    assert_int_equal(sip_parse(&back, text, len, &res), 0);
    osip_free(text);
    sip_free(m);
    return back;
}

static void replace_sdp_with_relay(osip_message_t *m)
{
    const char *body;
    size_t len;
    struct sdp *s;
    char *out;
    size_t out_len;
    assert_int_equal(sip_body_get(m, &body, &len), 0);
    assert_int_equal(sdp_parse(&s, body, len), 0);
    assert_int_equal(sdp_apply_relay(s, RELAY_IP, RELAY_PORTS, 2), 0);
    assert_int_equal(sdp_serialize(s, &out, &out_len), 0);
    assert_int_equal(sip_body_set(m, out, out_len, "application/sdp"), 0);
    free(out);
    sdp_free(s);
}

/* Figure 4a at proxy 11 on the figure 5a invite from client 16 behind NAT 28. */
static void fig5a_to_fig5b_at_proxy_11(void **state)
{
    (void)state;
    osip_message_t *m = golden_load("patent/fig5a_invite.sip");
    struct addr src = test_addr("198.51.100.28:40312"), self = test_addr("203.0.113.11:5060");
    struct addr sent_by, next_hop = test_addr("203.0.113.13:5060");

    /* steps 140-142: the source is not the top Via's sent-by: NATed */
    assert_int_equal(sip_via_sent_by(m, &sent_by), 0);
    assert_false(addr_equal(&sent_by, &src));
    /* step 144 (design decision 1): received/rport, Contact = source */
    assert_int_equal(sip_via_set_received(m, &src), 0);
    assert_int_equal(sip_contact_set(m, &src), 0);
    /* steps 136, 138: our Via on top, Record-Route */
    assert_int_equal(sip_via_push(m, &self, "z9hG4bKph11", NULL, 0), 0);
    /* the dialog mark proxyd adds (dialog_mark.h), as in the golden file */
    assert_int_equal(sip_record_route_push(m, &self, MARK_2A), 0);
    /* steps 146-148: the relay resource replaces the SDP address and ports */
    replace_sdp_with_relay(m);
    /* steps 150-151: the redirect's answer becomes the Request-URI */
    assert_int_equal(sip_request_uri_set(m, &next_hop), 0);
    assert_int_equal(sip_max_forwards_decrement(m), 69);
    /* for proxy 13, a peer: the caller's signalling IP (media_source.h) */
    assert_int_equal(sip_header_add(m, "Pinhole-Source", "198.51.100.28"), 0);

    m = over_the_wire(m);
    osip_message_t *want = golden_load("patent/fig5b_invite.sip");
    golden_assert_equal(want, m);
    sip_free(want);
    sip_free(m);
}

/* Figure 4a at proxy 13 on figure 5b: the sender (proxy 11) is not NATed,
 * and the SDP already names the relay (step 152b), so only Via, Record-Route
 * and the Request-URI change. */
static void fig5b_to_fig5c_at_proxy_13(void **state)
{
    (void)state;
    osip_message_t *m = golden_load("patent/fig5b_invite.sip");
    struct addr src = test_addr("203.0.113.11:5060"), self = test_addr("203.0.113.13:5060");
    struct addr sent_by, client14 = test_addr("203.0.113.14:5060");

    assert_int_equal(sip_via_sent_by(m, &sent_by), 0);
    assert_true(addr_equal(&sent_by, &src));
    assert_int_equal(sip_via_set_received(m, &src), 0);
    assert_int_equal(sip_via_push(m, &self, "z9hG4bKph13", NULL, 0), 0);
    assert_int_equal(sip_record_route_push(m, &self, MARK_2A), 0);
    assert_int_equal(sip_request_uri_set(m, &client14), 0);
    assert_int_equal(sip_max_forwards_decrement(m), 68);
    /* proxy 11's stamp is for proxies: client 14 never sees it */
    assert_int_equal(sip_header_remove(m, "Pinhole-Source"), 0);

    m = over_the_wire(m);
    osip_message_t *want = golden_load("patent/fig5c_invite.sip");
    golden_assert_equal(want, m);
    sip_free(want);
    sip_free(m);
}

/* Figure 4d at proxy 13 on figure 6a: pop our Via (step 220), no relay held
 * here, forward to the next Via (step 228) = proxy 11. */
static void fig6a_to_fig6b_at_proxy_13(void **state)
{
    (void)state;
    osip_message_t *m = golden_load("patent/fig6a_ok.sip");
    struct addr self = test_addr("203.0.113.13:5060"), dst;

    assert_int_equal(sip_via_pop_self(m, &self), 0);
    assert_int_equal(sip_response_destination(m, &dst), 0);
    struct addr want_dst = test_addr("203.0.113.11:5060");
    assert_true(addr_equal(&dst, &want_dst));
    /* for proxy 11, a peer: the answerer's signalling IP */
    assert_int_equal(sip_header_add(m, "Pinhole-Source", "203.0.113.14"), 0);

    m = over_the_wire(m);
    osip_message_t *want = golden_load("patent/fig6b_ok.sip");
    golden_assert_equal(want, m);
    sip_free(want);
    sip_free(m);
}

/* Figure 4d at proxy 11 on figure 6b: pop our Via, replace the SDP with the
 * relay resource held for the Call-ID (steps 222-224), forward to client 16
 * through its NAT (received:rport). */
static void fig6b_to_fig6c_at_proxy_11(void **state)
{
    (void)state;
    osip_message_t *m = golden_load("patent/fig6b_ok.sip");
    struct addr self = test_addr("203.0.113.11:5060"), dst;
    struct addr other = test_addr("203.0.113.99:5060");

    assert_int_equal(sip_via_pop_self(m, &other), -EPERM); /* not ours: refused */
    assert_int_equal(sip_via_pop_self(m, &self), 0);
    replace_sdp_with_relay(m);
    assert_int_equal(sip_response_destination(m, &dst), 0);
    struct addr nat28 = test_addr("198.51.100.28:40312");
    assert_true(addr_equal(&dst, &nat28));
    assert_int_equal(sip_header_remove(m, "Pinhole-Source"), 0); /* not for a phone */

    m = over_the_wire(m);
    osip_message_t *want = golden_load("patent/fig6c_ok.sip");
    golden_assert_equal(want, m);
    sip_free(want);
    sip_free(m);
}

static int setup(void **state)
{
    (void)state;
    return sip_init();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fig5a_to_fig5b_at_proxy_11),
        cmocka_unit_test(fig5b_to_fig5c_at_proxy_13),
        cmocka_unit_test(fig6a_to_fig6b_at_proxy_13),
        cmocka_unit_test(fig6b_to_fig6c_at_proxy_11),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}

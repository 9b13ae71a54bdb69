/* NAT detection (src/proxyd/nat_detect.c, design decision 2, fig. 3a step
 * 114): source vs top Via sent-by, and the private-Contact signal. */
#include "helpers.h"

#include <stdio.h>
#include <string.h>

#include "nat_detect.h"
#include "pinhole/sip.h"

static osip_message_t *register_from(const char *via_sent_by, const char *contact)
{
    char text[1024];
    osip_message_t *m = NULL;
    struct sip_parse_result res;
    int n = snprintf(text, sizeof text,
                     "REGISTER sip:203.0.113.11 SIP/2.0\r\n"
                     "Via: SIP/2.0/UDP %s;branch=z9hG4bKnd1;rport\r\n"
                     "Max-Forwards: 70\r\n"
                     "From: <sip:16@203.0.113.11>;tag=a\r\n"
                     "To: <sip:16@203.0.113.11>\r\n"
                     "Call-ID: nd@x\r\n"
                     "CSeq: 1 REGISTER\r\n"
                     "Contact: %s\r\n"
                     "Content-Length: 0\r\n\r\n",
                     via_sent_by, contact);
    assert_true(n > 0 && (size_t)n < sizeof text);
    if (sip_parse(&m, text, (size_t)n, &res) != 0)
        fail_msg("test message does not parse: %s", res.reason);
    return m;
}

/* The whole check as proxy.c does it: sent-by read first, then detect. */
static bool nated(const char *src, const char *via, const char *contact, bool private_is_nat)
{
    osip_message_t *m = register_from(via, contact);
    struct addr from = test_addr(src), sent_by;
    nat_detect_sent_by(m, &sent_by);
    bool r = nat_detect(&from, &sent_by, m, private_is_nat);
    sip_free(m);
    return r;
}

static void source_equal_to_via_is_not_nated(void **state)
{
    (void)state;
    assert_false(
        nated("203.0.113.18:5060", "203.0.113.18:5060", "<sip:18@203.0.113.18:5060>", true));
    /* no port in the Via means 5060 */
    assert_false(nated("203.0.113.18:5060", "203.0.113.18", "<sip:18@203.0.113.18>", true));
    assert_false(
        nated("[2001:db8::18]:5062", "[2001:db8::18]:5062", "<sip:18@[2001:db8::18]:5062>", true));
}

static void source_address_differing_from_via_is_nated(void **state)
{
    (void)state;
    /* figure 3b: client 16 behind NAT 28 */
    assert_true(
        nated("198.51.100.28:40312", "192.168.1.10:5060", "<sip:16@192.168.1.10:5060>", false));
    /* a public-looking Via that is simply not where the packet came from */
    assert_true(nated("198.51.100.28:5060", "203.0.113.16:5060", "<sip:16@203.0.113.16>", false));
}

static void source_port_differing_from_via_is_nated(void **state)
{
    (void)state;
    /* a port-translating NAT that kept the address (or a phone that lies) */
    assert_true(
        nated("203.0.113.18:40000", "203.0.113.18:5060", "<sip:18@203.0.113.18:5060>", false));
    assert_true(nated("203.0.113.18:40000", "203.0.113.18", "<sip:18@203.0.113.18>", false));
}

static void a_via_host_name_cannot_match(void **state)
{
    (void)state;
    struct addr sent_by;
    osip_message_t *m = register_from("phone.example.com:5060", "<sip:16@203.0.113.18>");
    nat_detect_sent_by(m, &sent_by);
    assert_false(addr_is_set(&sent_by));
    sip_free(m);
    assert_true(
        nated("203.0.113.18:5060", "phone.example.com:5060", "<sip:16@203.0.113.18>", false));
}

static void private_contact_is_a_configurable_signal(void **state)
{
    (void)state;
    /* source = Via, but the Contact is RFC 1918: a NAT that rewrote the Via
     * (an ALG) or a phone on the proxy's own private network */
    assert_true(nated("203.0.113.18:5060", "203.0.113.18:5060", "<sip:18@10.1.2.3:5060>", true));
    assert_false(nated("203.0.113.18:5060", "203.0.113.18:5060", "<sip:18@10.1.2.3:5060>", false));
    assert_true(nated("203.0.113.18:5060", "203.0.113.18:5060", "<sip:18@100.64.0.9>", true));
    assert_true(nated("[2001:db8::18]:5060", "[2001:db8::18]:5060", "<sip:18@[fd00::18]>", true));
    /* a public Contact, or none to judge (Contact "*"), adds no signal */
    assert_false(nated("203.0.113.18:5060", "203.0.113.18:5060", "<sip:18@203.0.113.18>", true));
    assert_false(nated("203.0.113.18:5060", "203.0.113.18:5060", "*", true));
    assert_false(
        nated("203.0.113.18:5060", "203.0.113.18:5060", "<sip:18@phone.example.com>", true));
}

static void sent_by_is_read_before_received_is_set(void **state)
{
    (void)state;
    osip_message_t *m = register_from("192.168.1.10:5060", "<sip:16@192.168.1.10:5060>");
    struct addr src = test_addr("198.51.100.28:40312"), sent_by,
                want = test_addr("192.168.1.10:5060");
    nat_detect_sent_by(m, &sent_by);
    assert_int_equal(sip_via_set_received(m, &src), 0);
    assert_true(addr_equal(&sent_by, &want));
    assert_true(nat_detect(&src, &sent_by, m, false));
    sip_free(m);
}

int main(void)
{
    assert_int_equal(sip_init(), 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(source_equal_to_via_is_not_nated),
        cmocka_unit_test(source_address_differing_from_via_is_nated),
        cmocka_unit_test(source_port_differing_from_via_is_nated),
        cmocka_unit_test(a_via_host_name_cannot_match),
        cmocka_unit_test(private_contact_is_a_configurable_signal),
        cmocka_unit_test(sent_by_is_read_before_received_is_set),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

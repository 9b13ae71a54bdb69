/* Via reading, received/rport (RFC 3581), our own Via on top, and where a
 * response goes. */
#include "helpers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pinhole/sip.h"

/* A minimal request whose single Via is `via`. */
static osip_message_t *with_via(const char *via)
{
    char buf[1024];
    snprintf(
        buf, sizeof buf,
        "OPTIONS sip:bob@192.0.2.20 SIP/2.0\r\nVia: %s\r\nFrom: <sip:a@example.com>;tag=1\r\n"
        "To: <sip:b@example.com>\r\nCall-ID: v@1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
        via);
    return sip_text(buf);
}

static void reads_each_via(void **state)
{
    struct sip_via_info vi;
    (void)state;
    osip_message_t *m = sip_fixture("sip/response_200.sip");
    assert_int_equal(sip_via_count(m), 2);

    assert_int_equal(sip_via_get(m, 0, &vi), 0);
    assert_string_equal(vi.transport, "UDP");
    assert_string_equal(vi.host, "192.0.2.10");
    assert_int_equal(vi.port, 5060);
    assert_string_equal(vi.branch, "z9hG4bKproxy77");
    assert_null(vi.received);
    assert_false(vi.has_rport);
    assert_int_equal(vi.rport, 0);

    assert_int_equal(sip_via_get(m, 1, &vi), 0);
    assert_string_equal(vi.host, "10.0.0.5");
    assert_int_equal(vi.port, 5062);
    assert_string_equal(vi.received, "203.0.113.7");
    assert_true(vi.has_rport);
    assert_int_equal(vi.rport, 40001);

    assert_int_equal(sip_via_get(m, 2, &vi), -ENOENT);
    assert_int_equal(sip_via_get(m, -1, &vi), -ENOENT);
    sip_free(m);
}

static void default_port_and_flags(void **state)
{
    struct sip_via_info vi;
    (void)state;
    osip_message_t *m = with_via("SIP/2.0/UDP 192.0.2.1;rport;branch=z9hG4bKa");
    assert_int_equal(sip_via_get(m, 0, &vi), 0);
    assert_int_equal(vi.port, SIP_DEFAULT_PORT);
    assert_true(vi.has_rport);
    assert_int_equal(vi.rport, 0);
    sip_free(m);

    m = with_via("SIP/2.0/UDP 192.0.2.1");
    assert_int_equal(sip_via_get(m, 0, &vi), 0);
    assert_null(vi.branch); /* RFC 2543 peers send none */
    sip_free(m);

    m = with_via("SIP/2.0/UDP 192.0.2.1:70000;branch=z9hG4bKa");
    assert_int_equal(sip_via_get(m, 0, &vi), -EINVAL);
    sip_free(m);
}

static void ipv6_sent_by(void **state)
{
    struct sip_via_info vi;
    struct addr a;
    char buf[ADDR_STRLEN];
    (void)state;
    osip_message_t *m = sip_fixture("sip/invite_ipv6.sip");
    assert_int_equal(sip_via_get(m, 0, &vi), 0);
    assert_string_equal(vi.host, "2001:db8::1");
    assert_int_equal(vi.port, 5070);
    assert_int_equal(sip_via_sent_by(m, &a), 0);
    assert_string_equal(addr_format(&a, buf, sizeof buf), "[2001:db8::1]:5070");
    assert_int_equal(sip_response_destination(m, &a), 0);
    assert_string_equal(addr_format(&a, buf, sizeof buf), "[2001:db8::1]:5070");

    /* RFC 5118 4.5: received carries a bare IPv6 address */
    struct addr src = test_addr("[2001:db8::99]:40000");
    assert_int_equal(sip_via_set_received(m, &src), 0);
    char *line = sip_wire_line(m, "Via");
    assert_non_null(strstr(line, "[2001:db8::1]:5070"));
    assert_non_null(strstr(line, "received=2001:db8::99"));
    assert_non_null(strstr(line, "rport=40000"));
    free(line);
    assert_int_equal(sip_response_destination(m, &a), 0);
    assert_string_equal(addr_format(&a, buf, sizeof buf), "[2001:db8::99]:40000");
    sip_free(m);
}

static void sent_by_must_be_numeric(void **state)
{
    struct addr a;
    char buf[ADDR_STRLEN];
    (void)state;
    osip_message_t *m = sip_fixture("sip/invite.sip");
    assert_int_equal(sip_via_sent_by(m, &a), 0);
    assert_string_equal(addr_format(&a, buf, sizeof buf), "10.0.0.5:5062");
    sip_free(m);
    m = sip_fixture("sip/options_compact.sip");
    assert_int_equal(sip_via_sent_by(m, &a), -EINVAL);
    sip_free(m);
}

static void set_received_replaces_values(void **state)
{
    struct sip_via_info vi;
    struct addr src = test_addr("198.51.100.4:61000");
    (void)state;
    osip_message_t *m =
        with_via("SIP/2.0/UDP 10.0.0.5:5062;received=1.1.1.1;rport=9;branch=z9hG4bKx");
    assert_int_equal(sip_via_set_received(m, &src), 0);
    assert_int_equal(sip_via_get(m, 0, &vi), 0);
    assert_string_equal(vi.received, "198.51.100.4");
    assert_int_equal(vi.rport, 61000);
    char *line = sip_wire_line(m, "Via");
    assert_string_equal(
        line, "Via: SIP/2.0/UDP 10.0.0.5:5062;received=198.51.100.4;rport=61000;branch=z9hG4bKx");
    free(line);
    sip_free(m);

    /* an empty rport flag gets its value (RFC 3581 4) */
    m = sip_fixture("sip/invite.sip");
    assert_int_equal(sip_via_set_received(m, &src), 0);
    line = sip_wire_line(m, "Via");
    assert_string_equal(line,
                        "Via: SIP/2.0/UDP "
                        "10.0.0.5:5062;branch=z9hG4bK776asdhds;rport=61000;received=198.51.100.4");
    free(line);
    sip_free(m);
}

static void push_puts_our_via_on_top(void **state)
{
    struct addr self = test_addr("192.0.2.10:5060");
    char branch[SIP_BRANCH_LEN];
    struct sip_via_info vi;
    (void)state;
    osip_message_t *m = sip_fixture("sip/invite.sip");

    assert_int_equal(sip_via_push(m, &self, NULL, branch, sizeof branch), 0);
    assert_int_equal(sip_via_count(m), 2);
    assert_int_equal(strncmp(branch, SIP_BRANCH_MAGIC, 7), 0);
    assert_true(strlen(branch) >= 7 + 16);
    assert_int_equal(sip_via_get(m, 0, &vi), 0);
    assert_string_equal(vi.host, "192.0.2.10");
    assert_int_equal(vi.port, 5060);
    assert_string_equal(vi.branch, branch);
    assert_true(vi.has_rport);
    char *line = sip_wire_line(m, "Via");
    char want[128];
    snprintf(want, sizeof want, "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=%s;rport", branch);
    assert_string_equal(line, want);
    free(line);
    /* the phone's Via is now second, untouched */
    assert_int_equal(sip_via_get(m, 1, &vi), 0);
    assert_string_equal(vi.branch, "z9hG4bK776asdhds");

    /* a given branch is used as is */
    assert_int_equal(sip_via_push(m, &self, "z9hG4bKgiven", NULL, 0), 0);
    assert_int_equal(sip_via_get(m, 0, &vi), 0);
    assert_string_equal(vi.branch, "z9hG4bKgiven");

    /* no header injection through the branch, no short output buffer */
    assert_int_equal(sip_via_push(m, &self, "z9hG4bK;evil", NULL, 0), -EINVAL);
    assert_int_equal(sip_via_push(m, &self, "z9hG4bK\r\nX: y", NULL, 0), -EINVAL);
    assert_int_equal(sip_via_push(m, &self, "z9hG4bKgiven", branch, 5), -ENOSPC);
    assert_int_equal(sip_via_push(m, &(struct addr){0}, NULL, NULL, 0), -EINVAL);
    assert_int_equal(sip_via_count(m), 3);
    sip_free(m);
}

static void push_ipv6_self(void **state)
{
    struct addr self = test_addr("[2001:db8::10]:5080");
    struct addr a;
    (void)state;
    osip_message_t *m = sip_fixture("sip/invite.sip");
    assert_int_equal(sip_via_push(m, &self, "z9hG4bK6", NULL, 0), 0);
    char *line = sip_wire_line(m, "Via");
    assert_string_equal(line, "Via: SIP/2.0/UDP [2001:db8::10]:5080;branch=z9hG4bK6;rport");
    free(line);
    assert_int_equal(sip_via_sent_by(m, &a), 0);
    assert_true(addr_equal(&a, &self));
    assert_int_equal(sip_via_pop_self(m, &self), 0);
    sip_free(m);
}

static void pop_self_only_pops_ours(void **state)
{
    struct addr self = test_addr("192.0.2.10:5060");
    struct addr other = test_addr("192.0.2.10:5070");
    struct sip_via_info vi;
    (void)state;
    osip_message_t *m = sip_fixture("sip/response_200.sip");
    assert_int_equal(sip_via_pop_self(m, &other), -EPERM);
    assert_int_equal(sip_via_count(m), 2);
    assert_int_equal(sip_via_pop_self(m, &self), 0);
    assert_int_equal(sip_via_count(m), 1);
    assert_int_equal(sip_via_get(m, 0, &vi), 0);
    assert_string_equal(vi.branch, "z9hG4bK776asdhds");
    assert_int_equal(sip_via_pop_self(m, &self), -EPERM); /* the phone's, not ours */
    sip_free(m);

    /* a named sent-by is never ours */
    m = sip_fixture("sip/options_compact.sip");
    assert_int_equal(sip_via_pop_self(m, &self), -EPERM);
    sip_free(m);
}

static void response_destination_rules(void **state)
{
    static const struct {
        const char *via;
        int rc;
        const char *dst;
    } cases[] = {
        {"SIP/2.0/UDP 10.0.0.5:5062;received=203.0.113.7;rport=40001", 0, "203.0.113.7:40001"},
        {"SIP/2.0/UDP 10.0.0.5:5062;received=203.0.113.7", 0, "203.0.113.7:5062"},
        {"SIP/2.0/UDP 10.0.0.5:5062;rport=40001", 0, "10.0.0.5:40001"},
        {"SIP/2.0/UDP 10.0.0.5:5062;rport", 0, "10.0.0.5:5062"},
        {"SIP/2.0/UDP 10.0.0.5", 0, "10.0.0.5:5060"},
        {"SIP/2.0/UDP phone.example.com", -EINVAL, NULL},
        {"SIP/2.0/UDP 10.0.0.5;received=phone.example.com", -EINVAL, NULL},
        {"SIP/2.0/UDP 255.255.255.255", -EINVAL, NULL},
        {"SIP/2.0/UDP 224.0.0.1", -EINVAL, NULL},
        {"SIP/2.0/UDP 239.1.2.3:5060", -EINVAL, NULL},
        {"SIP/2.0/UDP 0.0.0.0", -EINVAL, NULL},
        {"SIP/2.0/UDP 10.0.0.5:0", -EINVAL, NULL},
        {"SIP/2.0/UDP 10.0.0.5;received=255.255.255.255;rport=5", -EINVAL, NULL},
        {"SIP/2.0/UDP [ff02::1]", -EINVAL, NULL},
        {"SIP/2.0/UDP [::]", -EINVAL, NULL},
        {"SIP/2.0/UDP [::ffff:255.255.255.255]", -EINVAL, NULL},
        {"SIP/2.0/UDP [2001:db8::7]", 0, "[2001:db8::7]:5060"},
    };
    char buf[ADDR_STRLEN];
    struct addr a;
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        osip_message_t *m = with_via(cases[i].via);
        int rc = sip_response_destination(m, &a);
        if (rc != cases[i].rc)
            fail_msg("%s: %d", cases[i].via, rc);
        if (rc == 0 && strcmp(addr_format(&a, buf, sizeof buf), cases[i].dst) != 0)
            fail_msg("%s: %s", cases[i].via, buf);
        if (rc != 0)
            assert_false(addr_is_set(&a));
        sip_free(m);
    }
}

static void no_via_at_all(void **state)
{
    struct addr a;
    struct addr self = test_addr("192.0.2.10:5060");
    (void)state;
    osip_message_t *m = sip_fixture("sip/response_200.sip");
    assert_int_equal(sip_via_pop_self(m, &self), 0);
    assert_int_equal(sip_via_pop_self(m, &self), -EPERM);
    struct addr phone = test_addr("10.0.0.5:5062");
    assert_int_equal(sip_via_pop_self(m, &phone), 0);
    assert_int_equal(sip_via_count(m), 0);
    assert_int_equal(sip_via_pop_self(m, &self), -ENOENT);
    assert_int_equal(sip_via_set_received(m, &self), -ENOENT);
    assert_int_equal(sip_response_destination(m, &a), -ENOENT);
    assert_int_equal(sip_via_sent_by(m, &a), -ENOENT);
    sip_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reads_each_via),
        cmocka_unit_test(default_port_and_flags),
        cmocka_unit_test(ipv6_sent_by),
        cmocka_unit_test(sent_by_must_be_numeric),
        cmocka_unit_test(set_received_replaces_values),
        cmocka_unit_test(push_puts_our_via_on_top),
        cmocka_unit_test(push_ipv6_self),
        cmocka_unit_test(pop_self_only_pops_ours),
        cmocka_unit_test(response_destination_rules),
        cmocka_unit_test(no_via_at_all),
    };
    return cmocka_run_group_tests(tests, sip_test_setup, NULL);
}

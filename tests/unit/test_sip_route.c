/* Record-Route, Route (loose routing), Path and the Request-URI. */
#include "helpers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pinhole/sip.h"

static void record_route_goes_on_top(void **state)
{
    struct addr self = test_addr("192.0.2.10:5060");
    (void)state;
    osip_message_t *m = sip_fixture("sip/response_200.sip");
    struct addr other = test_addr("198.51.100.1:5070");
    assert_int_equal(sip_record_route_push(m, &other, NULL), 0);
    assert_int_equal(sip_record_route_push(m, &self, NULL), 0);
    char *text = sip_wire(m);
    char *first = strstr(text, "Record-Route: ");
    assert_non_null(first);
    assert_int_equal(strncmp(first, "Record-Route: <sip:192.0.2.10:5060;lr>\r\n", 40), 0);
    char *second = strstr(first + 1, "Record-Route: ");
    assert_non_null(second);
    assert_int_equal(strncmp(second, "Record-Route: <sip:198.51.100.1:5070;lr>\r\n", 42), 0);
    /* the one that came with the response stays last */
    assert_non_null(strstr(second + 1, "Record-Route: <sip:192.0.2.10:5060;lr>"));
    osip_free(text);
    assert_int_equal(sip_record_route_push(m, &(struct addr){0}, NULL), -EINVAL);
    sip_free(m);
}

static void record_route_ipv6(void **state)
{
    struct addr self = test_addr("[2001:db8::10]:5060");
    (void)state;
    osip_message_t *m = sip_fixture("sip/invite_ipv6.sip");
    assert_int_equal(sip_record_route_push(m, &self, NULL), 0);
    char *text = sip_wire(m);
    assert_non_null(strstr(text, "Record-Route: <sip:[2001:db8::10]:5060;lr>\r\n"));
    osip_free(text);
    sip_free(m);
}

/* A parameter of ours on the Record-Route comes back on the Route of the
 * dialog's requests (proxyd's dialog mark, issue #15). */
static void record_route_param_and_top_route_param(void **state)
{
    struct addr self = test_addr("192.0.2.10:5060");
    const char *v = NULL;
    char big[SIP_RR_PARAM_MAX + 1];
    (void)state;
    osip_message_t *m = sip_fixture("sip/response_200.sip");
    assert_int_equal(sip_record_route_push(m, &self, "ph=00112233aabbccdd"), 0);
    char *text = sip_wire(m);
    assert_non_null(strstr(text, "Record-Route: <sip:192.0.2.10:5060;lr;ph=00112233aabbccdd>\r\n"));
    osip_free(text);
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(sip_record_route_push(m, &self, big), -EINVAL);
    sip_free(m);

    m = sip_fixture("sip/bye_routed.sip"); /* Route: <sip:192.0.2.10;lr>... */
    assert_int_equal(sip_route_top_param(m, "lr", &v), 0);
    assert_string_equal(v, "");
    assert_int_equal(sip_route_top_param(m, "ph", &v), -ENOENT);
    assert_null(v);
    sip_free(m);
    m = sip_fixture("sip/response_200.sip");
    assert_int_equal(sip_route_top_param(m, "lr", &v), -ENOENT); /* no Route at all */
    sip_free(m);
}

static void route_pop_self_loose_routing(void **state)
{
    struct addr self = test_addr("192.0.2.10:5060");
    struct addr a;
    char buf[ADDR_STRLEN];
    (void)state;
    osip_message_t *m = sip_fixture("sip/bye_routed.sip");
    assert_int_equal(sip_route_top(m, &a), 0);
    assert_true(addr_equal(&a, &self));

    struct addr not_self = test_addr("192.0.2.10:5061");
    assert_int_equal(sip_route_pop_self(m, &not_self), 0);
    assert_int_equal(sip_route_pop_self(m, &self), 1);
    /* the next Route names another proxy, default port */
    assert_int_equal(sip_route_top(m, &a), 0);
    assert_string_equal(addr_format(&a, buf, sizeof buf), "192.0.2.11:5060");
    assert_int_equal(sip_route_pop_self(m, &self), 0);
    struct addr next = test_addr("192.0.2.11:5060");
    assert_int_equal(sip_route_pop_self(m, &next), 1);
    assert_int_equal(sip_route_pop_self(m, &self), -ENOENT);
    assert_int_equal(sip_route_top(m, &a), -ENOENT);

    osip_message_t *fwd = sip_reparse(m);
    char *text = sip_wire(fwd);
    assert_null(strstr(text, "Route:"));
    osip_free(text);
    sip_free(fwd);
    sip_free(m);
}

static void route_with_a_name_is_not_self(void **state)
{
    struct addr self = test_addr("192.0.2.10:5060");
    struct addr a;
    static const char msg[] = "BYE sip:bob@10.1.1.9 SIP/2.0\r\n"
                              "Via: SIP/2.0/UDP 10.0.0.5;branch=z9hG4bKr\r\n"
                              "Route: <sip:proxy.example.com;lr>\r\n"
                              "From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>;tag=2\r\n"
                              "Call-ID: r@1\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n";
    struct sip_parse_result res;
    osip_message_t *m;
    (void)state;
    assert_int_equal(sip_parse(&m, msg, strlen(msg), &res), 0);
    assert_int_equal(sip_route_pop_self(m, &self), 0);
    assert_int_equal(sip_route_top(m, &a), -EINVAL);
    sip_free(m);
}

static void request_uri_read_and_set(void **state)
{
    struct addr a;
    char buf[ADDR_STRLEN];
    (void)state;
    osip_message_t *m = sip_fixture("sip/invite.sip");
    assert_int_equal(sip_request_uri_addr(m, &a), 0);
    assert_string_equal(addr_format(&a, buf, sizeof buf), "192.0.2.20:5060");

    /* patent step 144's counterpart: the Request-URI to the NAT address */
    struct addr to = test_addr("203.0.113.9:41234");
    assert_int_equal(sip_request_uri_set(m, &to), 0);
    char *text = sip_wire(m);
    assert_memory_equal(text, "INVITE sip:bob@203.0.113.9:41234;transport=udp SIP/2.0\r\n", 56);
    osip_free(text);
    assert_int_equal(sip_request_uri_addr(m, &a), 0);
    assert_true(addr_equal(&a, &to));
    assert_string_equal(sip_request_uri_user(m), "bob");

    struct addr v6 = test_addr("[2001:db8::5]:5062");
    assert_int_equal(sip_request_uri_set(m, &v6), 0);
    text = sip_wire(m);
    assert_memory_equal(text, "INVITE sip:bob@[2001:db8::5]:5062;transport=udp SIP/2.0\r\n", 57);
    osip_free(text);
    osip_message_t *fwd = sip_reparse(m);
    assert_int_equal(sip_request_uri_addr(fwd, &a), 0);
    assert_true(addr_equal(&a, &v6));
    sip_free(fwd);
    sip_free(m);
}

static void request_uri_edge_cases(void **state)
{
    struct addr a;
    struct addr to = test_addr("203.0.113.9:5060");
    (void)state;
    osip_message_t *m = sip_fixture("sip/response_200.sip");
    assert_int_equal(sip_request_uri_addr(m, &a), -ENOENT);
    assert_int_equal(sip_request_uri_set(m, &to), -ENOENT);
    sip_free(m);

    m = sip_fixture("sip/register.sip"); /* sip:192.0.2.10, no user, no port */
    assert_int_equal(sip_request_uri_addr(m, &a), 0);
    assert_int_equal(addr_port(&a), 5060);
    assert_null(sip_request_uri_user(m));
    sip_free(m);

    m = sip_fixture("sip/options_compact.sip");
    struct addr self = test_addr("192.0.2.40:5060");
    assert_int_equal(sip_request_uri_addr(m, &a), 0);
    assert_true(addr_equal(&a, &self));
    sip_free(m);
}

static void path_push_and_first(void **state)
{
    struct addr self = test_addr("192.0.2.10:5060");
    struct addr a;
    char buf[ADDR_STRLEN];
    (void)state;
    osip_message_t *m = sip_fixture("sip/register.sip");
    assert_int_equal(sip_path_first(m, &a), -ENOENT);
    assert_int_equal(sip_path_push(m, &self), 0);
    assert_int_equal(sip_path_first(m, &a), 0);
    assert_true(addr_equal(&a, &self));

    /* what redirectd reads after the hop */
    osip_message_t *fwd = sip_reparse(m);
    assert_int_equal(sip_path_first(fwd, &a), 0);
    assert_string_equal(addr_format(&a, buf, sizeof buf), "192.0.2.10:5060");
    char *text = sip_wire(fwd);
    assert_non_null(strstr(text, "\r\nPath: <sip:192.0.2.10:5060;lr>\r\n"));
    osip_free(text);
    sip_free(fwd);
    sip_free(m);
}

static void path_push_goes_before_existing(void **state)
{
    struct addr outer = test_addr("198.51.100.3:5060");
    struct addr a;
    (void)state;
    osip_message_t *m = sip_fixture("sip/register_path.sip");
    assert_int_equal(sip_path_first(m, &a), 0);
    assert_int_equal(addr_port(&a), 5060);
    assert_int_equal(sip_path_push(m, &outer), 0);
    assert_int_equal(sip_path_first(m, &a), 0);
    assert_true(addr_equal(&a, &outer));
    char *text = sip_wire(m);
    char *p1 = strstr(text, "Path: <sip:198.51.100.3:5060;lr>");
    char *p2 = strstr(text, "Path: <sip:192.0.2.10:5060;lr>");
    assert_non_null(p1);
    assert_non_null(p2);
    assert_true(p1 < p2);
    osip_free(text);
    sip_free(m);
}

static void path_list_and_bad_values(void **state)
{
    static const struct {
        const char *path;
        int rc;
        const char *addr;
    } cases[] = {
        {"<sip:192.0.2.7:5070;lr>, <sip:192.0.2.8;lr>", 0, "192.0.2.7:5070"},
        {"\"a, b\" <sip:192.0.2.7;lr>,<sip:192.0.2.8;lr>", 0, "192.0.2.7:5060"},
        {"<sip:proxy.example.com;lr>", -EINVAL, NULL},
        {"<tel:+123>", -EINVAL, NULL},
        {"garbage <", -EINVAL, NULL},
    };
    char buf[ADDR_STRLEN], msg[1024];
    struct sip_parse_result res;
    struct addr a;
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(
            msg, sizeof msg,
            "REGISTER sip:192.0.2.30 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKp\r\n"
            "Path: %s\r\nFrom: <sip:a@example.com>;tag=1\r\nTo: <sip:a@example.com>\r\n"
            "Call-ID: p@1\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n",
            cases[i].path);
        osip_message_t *m;
        assert_int_equal(sip_parse(&m, msg, strlen(msg), &res), 0);
        int rc = sip_path_first(m, &a);
        if (rc != cases[i].rc)
            fail_msg("%s: %d", cases[i].path, rc);
        if (rc == 0 && strcmp(addr_format(&a, buf, sizeof buf), cases[i].addr) != 0)
            fail_msg("%s: %s", cases[i].path, buf);
        sip_free(m);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(record_route_goes_on_top),
        cmocka_unit_test(record_route_ipv6),
        cmocka_unit_test(record_route_param_and_top_route_param),
        cmocka_unit_test(route_pop_self_loose_routing),
        cmocka_unit_test(route_with_a_name_is_not_self),
        cmocka_unit_test(request_uri_read_and_set),
        cmocka_unit_test(request_uri_edge_cases),
        cmocka_unit_test(path_push_and_first),
        cmocka_unit_test(path_push_goes_before_existing),
        cmocka_unit_test(path_list_and_bad_values),
    };
    return cmocka_run_group_tests(tests, sip_test_setup, NULL);
}

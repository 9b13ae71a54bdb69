#include "helpers.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

static void parses_ipv4_and_ipv6(void **state)
{
    struct addr a;
    char buf[ADDR_STRLEN];
    (void)state;

    assert_int_equal(addr_parse(&a, "192.0.2.1:5060", 0), 0);
    assert_int_equal(addr_family(&a), AF_INET);
    assert_int_equal(addr_port(&a), 5060);
    assert_string_equal(addr_format(&a, buf, sizeof buf), "192.0.2.1:5060");

    assert_int_equal(addr_parse(&a, "[2001:db8::1]:5070", 0), 0);
    assert_int_equal(addr_family(&a), AF_INET6);
    assert_int_equal(addr_port(&a), 5070);
    assert_string_equal(addr_format(&a, buf, sizeof buf), "[2001:db8::1]:5070");
    assert_string_equal(addr_host_sip(&a, buf, sizeof buf), "[2001:db8::1]");
    assert_string_equal(addr_host_plain(&a, buf, sizeof buf), "2001:db8::1");
}

static void default_port_applies_only_when_missing(void **state)
{
    struct addr a;
    (void)state;
    assert_int_equal(addr_parse(&a, "10.0.0.1", 5060), 0);
    assert_int_equal(addr_port(&a), 5060);
    assert_int_equal(addr_parse(&a, "10.0.0.1:7000", 5060), 0);
    assert_int_equal(addr_port(&a), 7000);
    assert_int_equal(addr_parse(&a, "10.0.0.1", 0), -EINVAL);
    assert_int_equal(addr_parse(&a, "[::1]", 5060), 0);
    assert_int_equal(addr_port(&a), 5060);
}

static void refuses_garbage(void **state)
{
    static const char *const bad[] = {
        "",          ":5060",           "1.2.3.4:",       "1.2.3.4:65536", "1.2.3.4:-1",
        "1.2.3.4:5x", "example.com:5060", "::1:5060",      "[::1",          "[::1]5060",
        "[zz::1]:1", "1.2.3.4.5:1",      "1.2.3.4:123456", "[]:5060",       NULL};
    struct addr a;
    (void)state;
    for (int i = 0; bad[i]; i++) {
        if (addr_parse(&a, bad[i], 0) != -EINVAL)
            fail_msg("accepted \"%s\"", bad[i]);
        assert_false(addr_is_set(&a));
    }
    assert_int_equal(addr_parse(&a, NULL, 0), -EINVAL);
}

static void host_port_builder(void **state)
{
    struct addr a;
    char buf[ADDR_STRLEN];
    (void)state;
    assert_int_equal(addr_from_host_port(&a, "[::1]", 9), 0);
    assert_string_equal(addr_format(&a, buf, sizeof buf), "[::1]:9");
    assert_int_equal(addr_from_host_port(&a, "::1", 9), 0);
    assert_int_equal(addr_from_host_port(&a, "host.example", 9), -EINVAL);
    assert_int_equal(addr_from_host_port(&a, "", 9), -EINVAL);
    assert_int_equal(addr_from_host_port(&a, NULL, 9), -EINVAL);
}

static void compares(void **state)
{
    struct addr a = test_addr("192.0.2.1:5060"), b = test_addr("192.0.2.1:5060");
    struct addr c = test_addr("192.0.2.1:5061"), d = test_addr("192.0.2.2:5060");
    struct addr mapped = test_addr("[::ffff:192.0.2.1]:5060");
    (void)state;
    assert_true(addr_equal(&a, &b));
    assert_false(addr_equal(&a, &c));
    assert_true(addr_equal_host(&a, &c));
    assert_false(addr_equal_host(&a, &d));
    assert_true(addr_equal(&a, &mapped)); /* dual-stack sockets report v4 peers mapped */
    struct addr unset = {0};
    assert_false(addr_equal(&unset, &unset));
}

static void classifies_private_ranges(void **state)
{
    static const char *const priv[] = {"10.0.0.1",   "172.16.0.1",  "172.31.255.255",
                                       "192.168.1.1", "100.64.0.1", "100.127.255.254",
                                       "169.254.1.1", "fd00::1",    "fc12::1",
                                       "fe80::1",     NULL};
    static const char *const pub[] = {"203.0.113.5", "172.32.0.1", "172.15.255.255", "100.128.0.1",
                                      "8.8.8.8",     "2001:db8::1", "127.0.0.1",     NULL};
    (void)state;
    for (int i = 0; priv[i]; i++)
        if (!addr_text_is_private(priv[i]))
            fail_msg("%s should be private", priv[i]);
    for (int i = 0; pub[i]; i++)
        if (addr_text_is_private(pub[i]))
            fail_msg("%s should not be private", pub[i]);
    assert_false(addr_text_is_private("not-an-ip"));

    struct addr lo = test_addr("127.0.0.1:1"), lo6 = test_addr("[::1]:1");
    struct addr pub4 = test_addr("203.0.113.1:1");
    assert_true(addr_is_loopback(&lo));
    assert_true(addr_is_loopback(&lo6));
    assert_false(addr_is_loopback(&pub4));
}

static void trust_list_matching(void **state)
{
    struct addr v[2];
    struct addr_list l = {.v = v, .n = 2};
    (void)state;
    v[0] = test_addr("192.0.2.1:5060");
    assert_int_equal(addr_from_host_port(&v[1], "192.0.2.9", 0), 0); /* any port */
    struct addr ok1 = test_addr("192.0.2.1:5060"), bad1 = test_addr("192.0.2.1:5061");
    struct addr ok2 = test_addr("192.0.2.9:40000"), bad2 = test_addr("192.0.2.10:5060");
    assert_true(addr_list_match(&l, &ok1));
    assert_false(addr_list_match(&l, &bad1));
    assert_true(addr_list_match(&l, &ok2));
    assert_false(addr_list_match(&l, &bad2));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_ipv4_and_ipv6),  cmocka_unit_test(default_port_applies_only_when_missing),
        cmocka_unit_test(refuses_garbage),       cmocka_unit_test(host_port_builder),
        cmocka_unit_test(compares),              cmocka_unit_test(classifies_private_ranges),
        cmocka_unit_test(trust_list_matching),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

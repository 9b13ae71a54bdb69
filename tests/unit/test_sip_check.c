/* sip_check_request: Max-Forwards (483/400), Request-URI scheme (416) and
 * option tags (420 with the Unsupported list), RFC 3261 8.2.1, 8.2.2.3,
 * 16.3 item 3 and RFC 4475 3.3.5. */
#include "helpers.h"

#include <stdio.h>
#include <string.h>

#include "pinhole/sip_check.h"

static const char *const path_only[] = {"path", NULL};

/* An OPTIONS to `uri` with the given extra header lines. */
static osip_message_t *request(const char *uri, const char *headers)
{
    char buf[2048];
    snprintf(buf, sizeof buf,
             "OPTIONS %s SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.5;branch=z9hG4bKk\r\n"
             "From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\n"
             "Call-ID: k@1\r\nCSeq: 1 OPTIONS\r\n%sContent-Length: 0\r\n\r\n",
             uri, headers);
    return sip_text(buf);
}

/* The status for a sip: request with these headers; the list in out. */
static int check(const char *headers, const char *const *supported, char *out, size_t len)
{
    osip_message_t *m = request("sip:b@192.0.2.20", headers);
    int status = sip_check_request(m, supported, out, len);
    sip_free(m);
    return status;
}

static void passes_and_decrements_max_forwards(void **state)
{
    char list[SIP_CHECK_UNSUPPORTED_MAX + 1];
    (void)state;
    osip_message_t *m = request("sip:b@192.0.2.20", "Max-Forwards: 5\r\n");
    assert_int_equal(sip_check_request(m, path_only, list, sizeof list), 0);
    assert_string_equal(sip_header_get(m, "Max-Forwards"), "4");
    sip_free(m);
    m = request("sips:b@example.com", "Max-Forwards: 1\r\n");
    assert_int_equal(sip_check_request(m, NULL, list, sizeof list), 0);
    assert_string_equal(sip_header_get(m, "Max-Forwards"), "0");
    sip_free(m);
}

static void too_many_hops(void **state)
{
    char list[SIP_CHECK_UNSUPPORTED_MAX + 1];
    (void)state;
    assert_int_equal(check("Max-Forwards: 0\r\n", path_only, list, sizeof list), 483);
    /* Max-Forwards comes first: a loop is answered even with a bad URI. */
    osip_message_t *m = request("tel:+15551234", "Max-Forwards: 0\r\n");
    assert_int_equal(sip_check_request(m, path_only, list, sizeof list), 483);
    sip_free(m);
}

static void bad_max_forwards(void **state)
{
    char list[SIP_CHECK_UNSUPPORTED_MAX + 1];
    (void)state;
    assert_int_equal(check("Max-Forwards: ten\r\n", path_only, list, sizeof list), 400);
    assert_int_equal(check("Max-Forwards: -1\r\n", path_only, list, sizeof list), 400);
}

static void non_sip_uri_is_416(void **state)
{
    char list[SIP_CHECK_UNSUPPORTED_MAX + 1];
    (void)state;
    const char *uris[] = {"tel:+15551234", "http://example.com/", "mailto:b@example.com"};
    for (size_t i = 0; i < sizeof uris / sizeof uris[0]; i++) {
        osip_message_t *m = request(uris[i], "Max-Forwards: 70\r\n");
        assert_int_equal(sip_check_request(m, path_only, list, sizeof list), 416);
        sip_free(m);
    }
}

static void require_lists_unknown_tags(void **state)
{
    char list[SIP_CHECK_UNSUPPORTED_MAX + 1];
    (void)state;
    assert_int_equal(
        check("Require: foo, path ,  bar\r\nRequire: baz\r\n", path_only, list, sizeof list), 420);
    assert_string_equal(list, "foo, bar, baz");
    /* With no supported tags, every tag is unknown. */
    assert_int_equal(check("Require: path\r\n", NULL, list, sizeof list), 420);
    assert_string_equal(list, "path");
}

static void proxy_require_counts_too(void **state)
{
    char list[SIP_CHECK_UNSUPPORTED_MAX + 1];
    (void)state;
    assert_int_equal(check("Proxy-Require: noise\r\n", path_only, list, sizeof list), 420);
    assert_string_equal(list, "noise");
    assert_int_equal(
        check("Require: foo\r\nProxy-Require: bar, PATH\r\n", path_only, list, sizeof list), 420);
    assert_string_equal(list, "foo, bar");
}

static void supported_tags_are_accepted(void **state)
{
    char list[SIP_CHECK_UNSUPPORTED_MAX + 1];
    const char *const two[] = {"path", "timer", NULL};
    (void)state;
    assert_int_equal(check("Require: path\r\n", path_only, list, sizeof list), 0);
    assert_string_equal(list, "");
    assert_int_equal(
        check("Require: PaTh\r\nProxy-Require: timer, path\r\n", two, list, sizeof list), 0);
    /* A prefix or an extension of a supported tag is another tag. */
    assert_int_equal(check("Require: pat, paths\r\n", path_only, list, sizeof list), 420);
    assert_string_equal(list, "pat, paths");
    assert_int_equal(check("Require: , ,\r\n", path_only, list, sizeof list), 0);
}

/* A hostile Require cannot overflow the list: it is cut at whole tags. */
static void unsupported_list_is_bounded(void **state)
{
    char headers[1200] = "Require: ";
    char list[16];
    (void)state;
    for (int i = 0; i < 100; i++)
        strcat(headers, i ? ", tag" : "tag");
    strcat(headers, "\r\n");
    assert_int_equal(check(headers, path_only, list, sizeof list), 420);
    assert_string_equal(list, "tag, tag, tag");
    assert_int_equal(check(headers, path_only, NULL, 0), 420);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(passes_and_decrements_max_forwards),
        cmocka_unit_test(too_many_hops),
        cmocka_unit_test(bad_max_forwards),
        cmocka_unit_test(non_sip_uri_is_416),
        cmocka_unit_test(require_lists_unknown_tags),
        cmocka_unit_test(proxy_require_counts_too),
        cmocka_unit_test(supported_tags_are_accepted),
        cmocka_unit_test(unsupported_list_is_bounded),
    };
    return cmocka_run_group_tests(tests, sip_test_setup, NULL);
}

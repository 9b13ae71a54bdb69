/* Generic headers, Max-Forwards and the body. */
#include "helpers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pinhole/sip.h"

static osip_message_t *with_headers(const char *headers)
{
    char buf[2048];
    snprintf(buf, sizeof buf,
             "OPTIONS sip:b@192.0.2.20 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.5;branch=z9hG4bKh\r\n"
             "From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\n"
             "Call-ID: h@1\r\nCSeq: 1 OPTIONS\r\n%sContent-Length: 0\r\n\r\n",
             headers);
    return sip_text(buf);
}

/* Case-insensitive: osip prints generic names as it stores them. */
static int count_in_wire(const osip_message_t *m, const char *needle)
{
    char *text = sip_wire(m);
    int n = 0;
    for (const char *p = text; (p = strcasestr(p, needle)) != NULL; p++)
        n++;
    osip_free(text);
    return n;
}

static void get_is_case_insensitive_and_knows_compact_forms(void **state)
{
    (void)state;
    osip_message_t *m = sip_fixture("sip/invite.sip");
    assert_string_equal(sip_header_get(m, "Subject"), "lunch");
    assert_string_equal(sip_header_get(m, "sUbJeCt"), "lunch");
    assert_string_equal(sip_header_get(m, "s"), "lunch");
    assert_string_equal(sip_header_get(m, "Max-Forwards"), "70");
    assert_null(sip_header_get(m, "Expires"));
    assert_null(sip_header_get(m, NULL));
    assert_null(sip_header_get(NULL, "Subject"));
    sip_free(m);

    m = sip_fixture("sip/options_compact.sip");
    assert_string_equal(sip_header_get(m, "Subject"), "a compact subject");
    assert_string_equal(sip_header_get(m, "Supported"), "path");
    assert_string_equal(sip_header_get(m, "Allow"), "INVITE");
    sip_free(m);
}

static void dedicated_headers_are_not_generic(void **state)
{
    static const char *const names[] = {"Via",
                                        "v",
                                        "From",
                                        "f",
                                        "To",
                                        "t",
                                        "Call-ID",
                                        "i",
                                        "CSeq",
                                        "Contact",
                                        "m",
                                        "Content-Type",
                                        "c",
                                        "Content-Length",
                                        "l",
                                        "Route",
                                        "Record-Route",
                                        "Authorization",
                                        "Proxy-Authorization",
                                        "WWW-Authenticate",
                                        "Proxy-Authenticate",
                                        "Accept",
                                        "Content-Encoding",
                                        "e",
                                        "Call-Info",
                                        NULL};
    (void)state;
    osip_message_t *m = sip_fixture("sip/response_200.sip");
    for (int i = 0; names[i]; i++) {
        if (sip_header_get(m, names[i]) != NULL)
            fail_msg("%s read as a generic header", names[i]);
        if (sip_header_set(m, names[i], "x") != -EINVAL)
            fail_msg("%s set as a generic header", names[i]);
        if (sip_header_remove(m, names[i]) != -EINVAL)
            fail_msg("%s removed as a generic header", names[i]);
    }
    assert_int_equal(sip_via_count(m), 2);
    assert_int_equal(sip_contact_count(m), 1);
    sip_free(m);
}

static void set_replaces_every_copy(void **state)
{
    (void)state;
    osip_message_t *m = with_headers("Expires: 10\r\nSupported: a\r\nExpires: 20\r\nk: b\r\n");
    assert_string_equal(sip_header_get(m, "Expires"), "10");
    assert_int_equal(sip_header_set(m, "EXPIRES", "30"), 0);
    assert_string_equal(sip_header_get(m, "Expires"), "30");
    assert_int_equal(count_in_wire(m, "xpires:"), 1);
    assert_int_equal(sip_header_set(m, "Supported", "timer"), 0);
    assert_int_equal(count_in_wire(m, "Supported:") + count_in_wire(m, "\r\nK:"), 1);
    assert_int_equal(sip_header_remove(m, "supported"), 0);
    assert_null(sip_header_get(m, "k"));
    assert_int_equal(sip_header_remove(m, "X-None"), 0);
    sip_free(m);
}

static void set_refuses_injection(void **state)
{
    (void)state;
    osip_message_t *m = with_headers("");
    assert_int_equal(sip_header_set(m, "X-A", "ok\r\nVia: SIP/2.0/UDP evil"), -EINVAL);
    assert_int_equal(sip_header_set(m, "X-A", "ok\nx"), -EINVAL);
    assert_int_equal(sip_header_set(m, "X A", "ok"), -EINVAL);
    assert_int_equal(sip_header_set(m, "X:A", "ok"), -EINVAL);
    assert_int_equal(sip_header_set(m, "", "ok"), -EINVAL);
    assert_int_equal(sip_header_set(m, "X-A", NULL), -EINVAL);
    assert_int_equal(sip_header_set(NULL, "X-A", "ok"), -EINVAL);
    assert_null(sip_header_get(m, "X-A"));
    assert_int_equal(sip_via_count(m), 1);
    sip_free(m);
}

static void allow_is_read_and_written(void **state)
{
    (void)state;
    osip_message_t *m = sip_fixture("sip/options_compact.sip");
    assert_int_equal(sip_header_set(m, "Allow", "INVITE, ACK, BYE"), 0);
    assert_string_equal(sip_header_get(m, "Allow"), "INVITE, ACK, BYE");
    assert_int_equal(count_in_wire(m, "Allow:"), 1);
    assert_int_equal(sip_header_remove(m, "Allow"), 0);
    assert_null(sip_header_get(m, "Allow"));
    assert_int_equal(count_in_wire(m, "Allow:"), 0);
    sip_free(m);
}

static void max_forwards(void **state)
{
    (void)state;
    osip_message_t *m = with_headers("Max-Forwards: 2\r\n");
    assert_int_equal(sip_max_forwards_decrement(m), 1);
    assert_string_equal(sip_header_get(m, "Max-Forwards"), "1");
    assert_int_equal(sip_max_forwards_decrement(m), 0);
    /* RFC 3261 16.3 step 3: 0 is answered 483, not forwarded */
    assert_int_equal(sip_max_forwards_decrement(m), -ELOOP);
    assert_string_equal(sip_header_get(m, "Max-Forwards"), "0");
    sip_free(m);

    /* RFC 3261 16.6 step 3: absent gets 70 */
    m = with_headers("");
    assert_int_equal(sip_max_forwards_decrement(m), 70);
    assert_string_equal(sip_header_get(m, "Max-Forwards"), "70");
    assert_int_equal(sip_max_forwards_decrement(m), 69);
    sip_free(m);

    m = with_headers("Max-Forwards: 0068\r\n");
    assert_int_equal(sip_max_forwards_decrement(m), 67);
    sip_free(m);

    m = with_headers("Max-Forwards: 300\r\n");
    assert_int_equal(sip_max_forwards_decrement(m), -EINVAL);
    sip_free(m);
    m = with_headers("Max-Forwards: lots\r\n");
    assert_int_equal(sip_max_forwards_decrement(m), -EINVAL);
    sip_free(m);

    /* a repeated header leaves as one */
    m = with_headers("Max-Forwards: 5\r\nMax-Forwards: 50\r\n");
    assert_int_equal(sip_max_forwards_decrement(m), 4);
    assert_int_equal(count_in_wire(m, "orwards:"), 1);
    sip_free(m);
}

static void zeromf_is_refused_by_decrement(void **state)
{
    size_t len;
    struct sip_parse_result res;
    osip_message_t *m;
    (void)state;
    char *buf = fixture_read("rfc4475/zeromf.dat", &len);
    assert_int_equal(sip_parse(&m, buf, len, &res), 0);
    assert_int_equal(sip_max_forwards_decrement(m), -ELOOP);
    free(buf);
    sip_free(m);
}

static void body_get_and_set(void **state)
{
    const char *body;
    size_t len;
    (void)state;
    osip_message_t *m = sip_fixture("sip/invite.sip");
    assert_true(sip_body_is_sdp(m));
    assert_int_equal(sip_body_get(m, &body, &len), 0);
    assert_int_equal(len, 132);
    assert_memory_equal(body, "v=0\r\no=alice", 12);

    static const char text[] = "hello";
    assert_int_equal(sip_body_set(m, text, 5, "text/plain"), 0);
    assert_false(sip_body_is_sdp(m));
    assert_int_equal(sip_body_get(m, &body, &len), 0);
    assert_int_equal(len, 5);
    assert_memory_equal(body, "hello", 5);
    assert_int_equal(count_in_wire(m, "Content-Type: text/plain\r\n"), 1);
    assert_int_equal(count_in_wire(m, "Content-Length: "), 1);
    assert_int_equal(count_in_wire(m, "\r\n\r\nhello"), 1);

    /* len 0: no body, no Content-Type, Content-Length 0 */
    assert_int_equal(sip_body_set(m, NULL, 0, NULL), 0);
    assert_int_equal(sip_body_get(m, &body, &len), -ENOENT);
    assert_false(sip_body_is_sdp(m));
    assert_int_equal(count_in_wire(m, "Content-Type"), 0);
    assert_int_equal(count_in_wire(m, "Content-Length: 0\r\n\r\n"), 1);

    assert_int_equal(sip_body_set(m, text, 5, NULL), -EINVAL);
    assert_int_equal(sip_body_set(m, text, 5, "text/plain\r\nX: y"), -EINVAL);
    assert_int_equal(sip_body_set(m, "v=0\r\n", 5, "application/SDP"), 0);
    assert_true(sip_body_is_sdp(m));
    sip_free(m);
}

static void binary_body_survives(void **state)
{
    static const char bin[] = {'a', '\0', '\r', '\n', '\r', '\n', (char)0xff, 'z'};
    const char *body;
    size_t len, wlen;
    char *text;
    struct sip_parse_result res;
    osip_message_t *again;
    (void)state;
    osip_message_t *m = with_headers("");
    assert_int_equal(sip_body_set(m, bin, sizeof bin, "application/octet-stream"), 0);
    assert_int_equal(sip_serialize(m, &text, &wlen), 0);
    assert_int_equal(sip_parse(&again, text, wlen, &res), 0);
    assert_int_equal(sip_body_get(again, &body, &len), 0);
    assert_int_equal(len, sizeof bin);
    assert_memory_equal(body, bin, sizeof bin);
    osip_free(text);
    sip_free(again);
    sip_free(m);
}

static void multipart_body_is_forwarded_byte_for_byte(void **state)
{
    size_t len, wlen;
    char *text;
    struct sip_parse_result res;
    osip_message_t *m;
    (void)state;
    char *buf = fixture_read("rfc4475/mpart01.dat", &len);
    assert_int_equal(sip_parse(&m, buf, len, &res), 0);
    assert_int_equal(sip_serialize(m, &text, &wlen), 0);
    const char *b1 = strstr(buf, "\r\n\r\n") + 4;
    const char *b2 = strstr(text, "\r\n\r\n") + 4;
    size_t l1 = len - (size_t)(b1 - buf);
    assert_int_equal(wlen - (size_t)(b2 - text), l1);
    assert_memory_equal(b1, b2, l1);
    assert_non_null(strstr(text, "Content-Type: multipart/mixed"));
    osip_free(text);
    free(buf);
    sip_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(get_is_case_insensitive_and_knows_compact_forms),
        cmocka_unit_test(dedicated_headers_are_not_generic),
        cmocka_unit_test(set_replaces_every_copy),
        cmocka_unit_test(set_refuses_injection),
        cmocka_unit_test(allow_is_read_and_written),
        cmocka_unit_test(max_forwards),
        cmocka_unit_test(zeromf_is_refused_by_decrement),
        cmocka_unit_test(body_get_and_set),
        cmocka_unit_test(binary_body_survives),
        cmocka_unit_test(multipart_body_is_forwarded_byte_for_byte),
    };
    return cmocka_run_group_tests(tests, sip_test_setup, NULL);
}

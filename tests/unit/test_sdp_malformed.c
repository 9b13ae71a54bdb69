/* sdp: what sdp_parse refuses (-EINVAL, nothing allocated, *out NULL) and
 * the limits it holds: SDP_MAX_LINES, SDP_MAX_LINE, SDP_MAX_MEDIA. */
#include "helpers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pinhole/sdp.h"

#define HEAD "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n"
#define AUDIO "m=audio 49170 RTP/AVP 0\r\n"

/* Parses len bytes from a buffer of exactly that size: ASan sees any read
 * past the end. Returns sdp_parse's result; a refusal must leave *out NULL. */
static int parse_len(const char *body, size_t len, struct sdp **out)
{
    char *copy = malloc(len ? len : 1);
    int rc;

    assert_non_null(copy);
    memcpy(copy, body, len);
    *out = (struct sdp *)copy; /* poison: a refusal must reset it */
    rc = sdp_parse(out, copy, len);
    if (rc != 0)
        assert_null(*out);
    free(copy);
    return rc;
}

static void assert_refused_len(const char *body, size_t len)
{
    struct sdp *s;

    assert_int_equal(parse_len(body, len, &s), -EINVAL);
}

static void assert_refused(const char *body)
{
    assert_refused_len(body, strlen(body));
}

static void assert_accepted_len(const char *body, size_t len)
{
    struct sdp *s;

    assert_int_equal(parse_len(body, len, &s), 0);
    assert_non_null(s);
    sdp_free(s);
}

static void assert_accepted(const char *body)
{
    assert_accepted_len(body, strlen(body));
}

static void test_refuses_bad_first_line(void **state)
{
    (void)state;
    assert_accepted(HEAD);
    assert_refused("o=- 1 1 IN IP4 192.0.2.1\r\nv=0\r\ns=-\r\nt=0 0\r\n");
    assert_refused("v=1\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n");
    assert_refused("V=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n");
    assert_refused(" v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n");
    assert_refused("v=00\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n");
    assert_refused("\r\n" HEAD);
    assert_refused("SIP/2.0 200 OK\r\n");
}

static void test_refuses_empty_and_bare(void **state)
{
    struct sdp *s = (struct sdp *)&s;

    (void)state;
    assert_refused_len("", 0);
    assert_refused("v=0");
    assert_refused("v=0\r\n");
    assert_refused("v=0\n");
    assert_int_equal(sdp_parse(&s, NULL, 10), -EINVAL);
    assert_null(s);
    assert_int_equal(sdp_parse(NULL, HEAD, strlen(HEAD)), -EINVAL);
}

/* RFC 4566 §5: o=, s= and t= are mandatory at session level. */
static void test_refuses_missing_mandatory(void **state)
{
    (void)state;
    assert_refused("v=0\r\ns=-\r\nt=0 0\r\n");
    assert_refused("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\nt=0 0\r\n");
    assert_refused("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n");
    /* Only found inside a media section: still missing at session level. */
    assert_refused("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\n" AUDIO "t=0 0\r\n");
}

static void test_refuses_line_without_equals(void **state)
{
    (void)state;
    assert_refused(HEAD "a foo\r\n");
    assert_refused(HEAD "=foo\r\n");
    assert_refused(HEAD "1=foo\r\n");
    assert_refused(HEAD "ab=c\r\n");
    assert_refused(HEAD "a\r\n");
    assert_refused(HEAD "\r\n" AUDIO);     /* an empty line inside the body */
    assert_accepted(HEAD AUDIO "\r\n\r\n"); /* trailing blank lines: some phones send them */
    assert_refused(HEAD "\xc3\xa9=x\r\n"); /* not an ASCII letter */
    assert_accepted(HEAD "a=\r\n");        /* an empty value is fine */
    assert_accepted(HEAD "Z=unknown type\r\n");
}

static void test_refuses_bad_conn(void **state)
{
    static const char *const bad[] = {
        "c=IN IP4 999.1.1.1",
        "c=IN IP5 192.0.2.1",
        "c=IN IP4",
        "c=IN",
        "c=",
        "c=XX IP4 192.0.2.1",
        "c=in ip4 192.0.2.1",
        "c=IN IP4 relay.example.com",
        "c=IN IP6 192.0.2.1",
        "c=IN IP4 2001:db8::1",
        "c=IN IP4 192.0.2.1/",
        "c=IN IP4 224.2.1.1/127/2/3",
        "c=IN IP4 224.2.1.1/abc",
        "c=IN IP4 192.0.2.1 extra",
        "c=IN IP6 ff15::101/3/1",
        "c=IN IP4 192.0.2.1//127",
        "c=IN IP4 /127",
        "c=IN IP6 [2001:db8::1]",
    };
    char body[256];

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        /* Refused at session level and inside a media section alike. */
        snprintf(body, sizeof body, HEAD "%s\r\n", bad[i]);
        assert_refused(body);
        snprintf(body, sizeof body, HEAD AUDIO "%s\r\n", bad[i]);
        assert_refused(body);
    }
    assert_accepted(HEAD "c=IN IP4 224.2.1.1/127\r\n");
    assert_accepted(HEAD "c=IN IP4 224.2.1.1/127/3\r\n");
    assert_accepted(HEAD "c=IN IP6 ff15::101/3\r\n");
    assert_accepted(HEAD "c=IN IP6 ::\r\n");
}

static void test_refuses_bad_mline(void **state)
{
    static const char *const bad[] = {
        "m=audio 70000 RTP/AVP 0",
        "m=audio -1 RTP/AVP 0",
        "m=audio abc RTP/AVP 0",
        "m=audio 65536 RTP/AVP 0",
        "m=audio 123456 RTP/AVP 0",
        "m=audio 0x10 RTP/AVP 0",
        "m=audio +5 RTP/AVP 0",
        "m=audio 49170 RTP/AVP",
        "m=audio 49170",
        "m=audio",
        "m=",
        "m=audio 49170/ RTP/AVP 0",
        "m=audio 49170/x RTP/AVP 0",
        "m=audio /2 RTP/AVP 0",
        "m=audiovideotextapp 49170 RTP/AVP 0",               /* type over 15 bytes */
        "m=audio 49170 RTP/AVP/AVPF/SAVPF/TCP/TLS/DTLS/X 0", /* proto over 31 bytes */
        "m=au\x01"
        "dio 49170 RTP/AVP 0",
    };
    char body[256];

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(body, sizeof body, HEAD "%s\r\n", bad[i]);
        assert_refused(body);
    }
    assert_accepted(HEAD "m=audio 65535 RTP/AVP 0\r\n");
    assert_accepted(HEAD "m=audio 0 RTP/AVP 0\r\n");
    assert_accepted(HEAD "m=video 49170/2 RTP/AVP 31\r\n");
    assert_accepted(HEAD "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n");
}

/* a=rtcp is rewritten, so inside a media section it must parse (RFC 3605);
 * at session level it means nothing and is carried through. */
static void test_refuses_bad_rtcp(void **state)
{
    static const char *const bad[] = {
        "a=rtcp:abc",
        "a=rtcp:70000",
        "a=rtcp: 5000",
        "a=rtcp:",
        "a=rtcp:5000 IN",
        "a=rtcp:5000 IN IP4",
        "a=rtcp:5000 IN IP4 host.example.com",
        "a=rtcp:5000 IN IP6 192.0.2.1",
        "a=rtcp:5000 IN IP4 192.0.2.1 extra",
        "a=rtcp:5000 XX IP4 192.0.2.1",
    };
    char body[256];

    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(body, sizeof body, HEAD AUDIO "%s\r\n", bad[i]);
        assert_refused(body);
        snprintf(body, sizeof body, HEAD "%s\r\n", bad[i]);
        assert_accepted(body);
    }
    assert_accepted(HEAD AUDIO "a=rtcp:5000 IN IP6 2001:db8::1\r\n");
    assert_accepted(HEAD AUDIO "a=rtcp-mux\r\na=rtcp-fb:* nack\r\n");
}

static void test_refuses_nul_and_lone_cr(void **state)
{
    static const char nul_mid[] = HEAD "s=a\0b\r\n";
    static const char nul_end[] = HEAD "\0";
    static const char nul_first[] = "\0" HEAD;

    (void)state;
    assert_refused_len(nul_mid, sizeof nul_mid - 1);
    assert_refused_len(nul_end, sizeof nul_end - 1);
    assert_refused_len(nul_first, sizeof nul_first - 1);
    assert_refused(HEAD "s=a\rb\r\n");
    assert_refused(HEAD "s=ab\r");
    assert_refused(HEAD "s=ab\r\r\n");
}

/* n lines: "v=0", o=, s=, t=, then "a=x" lines; every line ends in CRLF. */
static char *make_lines(size_t n, size_t *len)
{
    static const char head[] = HEAD;
    size_t cap = sizeof head + n * 5;
    char *buf = test_malloc(cap);
    size_t pos = sizeof head - 1;

    memcpy(buf, head, pos);
    for (size_t i = 4; i < n; i++) {
        memcpy(buf + pos, "a=x\r\n", 5);
        pos += 5;
    }
    *len = pos;
    return buf;
}

static void test_line_count_limit(void **state)
{
    size_t len;
    char *body;

    (void)state;
    body = make_lines(SDP_MAX_LINES, &len);
    assert_accepted_len(body, len);
    test_free(body);
    body = make_lines(SDP_MAX_LINES + 1, &len);
    assert_refused_len(body, len);
    test_free(body);
    body = make_lines(10000, &len);
    assert_refused_len(body, len);
    test_free(body);
}

/* HEAD then one "a=xxx..." line of `line_len` bytes (without its CRLF). */
static char *make_long_line(size_t line_len, size_t *len)
{
    static const char head[] = HEAD;
    size_t pos = sizeof head - 1;
    char *buf = test_malloc(pos + line_len + 2);

    memcpy(buf, head, pos);
    memcpy(buf + pos, "a=", 2);
    memset(buf + pos + 2, 'x', line_len - 2);
    memcpy(buf + pos + line_len, "\r\n", 2);
    *len = pos + line_len + 2;
    return buf;
}

static void test_line_length_limit(void **state)
{
    size_t len;
    char *body;

    (void)state;
    body = make_long_line(SDP_MAX_LINE, &len);
    assert_accepted_len(body, len);
    /* The same line as the last one, without a line ending. */
    assert_accepted_len(body, len - 2);
    test_free(body);
    body = make_long_line(SDP_MAX_LINE + 1, &len);
    assert_refused_len(body, len);
    assert_refused_len(body, len - 2);
    test_free(body);
    body = make_long_line(3000, &len);
    assert_refused_len(body, len);
    test_free(body);
}

static char *make_media(size_t n, size_t *len)
{
    static const char head[] = HEAD;
    static const char audio[] = AUDIO;
    size_t pos = sizeof head - 1;
    char *buf = test_malloc(pos + n * (sizeof audio - 1));

    memcpy(buf, head, pos);
    for (size_t i = 0; i < n; i++) {
        memcpy(buf + pos, audio, sizeof audio - 1);
        pos += sizeof audio - 1;
    }
    *len = pos;
    return buf;
}

static void test_media_count_limit(void **state)
{
    struct sdp *s;
    size_t len;
    char *body;

    (void)state;
    body = make_media(SDP_MAX_MEDIA, &len);
    assert_int_equal(parse_len(body, len, &s), 0);
    assert_int_equal(sdp_media_count(s), SDP_MAX_MEDIA);
    sdp_free(s);
    test_free(body);
    body = make_media(SDP_MAX_MEDIA + 1, &len);
    assert_refused_len(body, len);
    test_free(body);
}

/* A body far over any limit is refused before it is scanned. */
static void test_huge_body(void **state)
{
    size_t len = (size_t)SDP_MAX_LINES * (SDP_MAX_LINE + 2) + 1;
    char *body = test_malloc(len);

    (void)state;
    memset(body, 'x', len);
    memcpy(body, HEAD, strlen(HEAD));
    assert_refused_len(body, len);
    test_free(body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refuses_bad_first_line),
        cmocka_unit_test(test_refuses_empty_and_bare),
        cmocka_unit_test(test_refuses_missing_mandatory),
        cmocka_unit_test(test_refuses_line_without_equals),
        cmocka_unit_test(test_refuses_bad_conn),
        cmocka_unit_test(test_refuses_bad_mline),
        cmocka_unit_test(test_refuses_bad_rtcp),
        cmocka_unit_test(test_refuses_nul_and_lone_cr),
        cmocka_unit_test(test_line_count_limit),
        cmocka_unit_test(test_line_length_limit),
        cmocka_unit_test(test_media_count_limit),
        cmocka_unit_test(test_huge_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

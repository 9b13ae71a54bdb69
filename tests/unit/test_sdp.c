/* sdp: golden-file rewrites (tests/fixtures/sdp/<name>.in.sdp →
 * <name>.out.sdp, byte for byte), round trips, getters and rewrite calls. */
#include "helpers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pinhole/sdp.h"

#define RELAY4 "203.0.113.22"

/* Parses `len` bytes from a buffer of exactly that size, with no NUL after
 * it: ASan reports any read past the end. */
static struct sdp *parse_exact(const char *text, size_t len)
{
    struct sdp *s = NULL;
    char *copy = malloc(len ? len : 1);

    assert_non_null(copy);
    memcpy(copy, text, len);
    assert_int_equal(sdp_parse(&s, copy, len), 0);
    /* The sdp keeps its own copy: freeing ours must not matter. */
    free(copy);
    assert_non_null(s);
    return s;
}

static struct sdp *parse_fixture(const char *name)
{
    char path[128];
    size_t len;
    char *text;
    struct sdp *s;

    snprintf(path, sizeof path, "sdp/%s.in.sdp", name);
    text = fixture_read(path, &len);
    s = parse_exact(text, len);
    free(text);
    return s;
}

static struct sdp *parse_str(const char *text)
{
    return parse_exact(text, strlen(text));
}

/* Serialises s and compares it with `expected` byte for byte. */
static void assert_sdp_text(const struct sdp *s, const char *expected, size_t expected_len)
{
    char *got = NULL;
    size_t got_len = 0;

    assert_int_equal(sdp_serialize(s, &got, &got_len), 0);
    assert_non_null(got);
    assert_string_equal(got, expected); /* a readable diff first */
    assert_int_equal(got_len, expected_len);
    assert_memory_equal(got, expected, expected_len);
    assert_int_equal(strlen(got), got_len);
    free(got);
}

static void assert_sdp_str(const struct sdp *s, const char *expected)
{
    assert_sdp_text(s, expected, strlen(expected));
}

static void assert_sdp_fixture(const struct sdp *s, const char *out_name)
{
    char path[128];
    size_t len;
    char *expected;

    snprintf(path, sizeof path, "sdp/%s.out.sdp", out_name);
    expected = fixture_read(path, &len);
    assert_sdp_text(s, expected, len);
    free(expected);
}

struct golden {
    const char *in;
    const char *out;
    const char *relay;
    uint16_t ports[4];
    size_t nports;
};

static void test_golden(void **state)
{
    const struct golden *g = *state;
    struct sdp *s = parse_fixture(g->in);

    assert_int_equal(sdp_apply_relay(s, g->relay, g->ports, g->nports), 0);
    assert_sdp_fixture(s, g->out);
    /* Applying the same relay again changes nothing (re-INVITE path). */
    assert_int_equal(sdp_apply_relay(s, g->relay, g->ports, g->nports), 0);
    assert_sdp_fixture(s, g->out);
    sdp_free(s);
}

/* Unchanged, every fixture serialises to exactly its input bytes. */
static void test_round_trip(void **state)
{
    const struct golden *g = *state;
    char path[128];
    size_t len;
    char *text;
    struct sdp *s;

    snprintf(path, sizeof path, "sdp/%s.in.sdp", g->in);
    text = fixture_read(path, &len);
    s = parse_exact(text, len);
    assert_sdp_text(s, text, len);
    sdp_free(s);
    free(text);
}

static struct golden g_audio = {"audio_private", "audio_private", RELAY4, {30000}, 1};
static struct golden g_av = {"audio_video", "audio_video", RELAY4, {30000, 30002}, 2};
static struct golden g_media_conn = {"media_conn", "media_conn", RELAY4, {30000, 30002}, 2};
static struct golden g_sess_media = {
    "session_media_conn", "session_media_conn", RELAY4, {30000, 30002}, 2};
static struct golden g_rtcp = {"rtcp", "rtcp", RELAY4, {30000, 30002}, 2};
static struct golden g_ice = {"ice", "ice", RELAY4, {30000}, 1};
static struct golden g_hold = {"hold", "hold", RELAY4, {30000}, 1};
static struct golden g_hold_media = {"hold_media", "hold_media", RELAY4, {30000, 30002, 30004}, 3};
static struct golden g_port0 = {"port0", "port0", RELAY4, {30000, 30002}, 2};
static struct golden g_ipv6 = {"ipv6", "ipv6", "2001:db8::22", {30000}, 1};
static struct golden g_ipv6_to_4 = {"ipv6", "ipv6_to_ipv4", RELAY4, {30000}, 1};
static struct golden g_lf = {"lf_only", "lf_only", RELAY4, {30000}, 1};
static struct golden g_no_nl = {"no_final_newline", "no_final_newline", RELAY4, {30000}, 1};
static struct golden g_mixed = {"mixed_eol", "mixed_eol", RELAY4, {30000}, 1};
static struct golden g_unknown = {"unknown_lines", "unknown_lines", RELAY4, {30000}, 1};
static struct golden g_port_count = {"port_count", "port_count", RELAY4, {30000}, 1};

static void assert_media(const struct sdp *s, size_t i, const char *type, uint16_t port,
                         const char *proto, const char *conn, bool rtcp)
{
    struct sdp_media_info mi;

    memset(&mi, 0x5a, sizeof mi);
    assert_int_equal(sdp_media_get(s, i, &mi), 0);
    assert_string_equal(mi.type, type);
    assert_int_equal(mi.port, port);
    assert_string_equal(mi.proto, proto);
    assert_string_equal(mi.conn, conn);
    assert_int_equal(mi.has_rtcp_attr, rtcp);
}

static void assert_session_conn(const struct sdp *s, const char *conn)
{
    char buf[64];

    memset(buf, 'x', sizeof buf);
    assert_int_equal(sdp_session_conn(s, buf, sizeof buf), 0);
    assert_string_equal(buf, conn);
}

static void test_getters_session_conn(void **state)
{
    struct sdp *s = parse_fixture("audio_video");

    (void)state;
    assert_int_equal(sdp_media_count(s), 2);
    assert_session_conn(s, "192.168.1.10");
    assert_media(s, 0, "audio", 49170, "RTP/AVP", "192.168.1.10", false);
    assert_media(s, 1, "video", 51372, "RTP/AVP", "192.168.1.10", false);
    sdp_free(s);
}

/* RFC 4566 §5.7: a media-level c= overrides the session-level one. */
static void test_getters_media_conn_overrides(void **state)
{
    struct sdp *s = parse_fixture("session_media_conn");

    (void)state;
    assert_session_conn(s, "10.0.0.5");
    assert_media(s, 0, "audio", 49170, "RTP/AVP", "10.0.0.5", false);
    assert_media(s, 1, "video", 51372, "RTP/AVP", "10.0.0.6", false);
    sdp_free(s);

    s = parse_fixture("media_conn");
    assert_session_conn(s, "");
    assert_media(s, 0, "audio", 49170, "RTP/AVP", "192.168.1.10", false);
    assert_media(s, 1, "video", 51372, "RTP/AVP", "192.168.1.11", false);
    sdp_free(s);
}

static void test_getters_rtcp_port0_ipv6_multicast(void **state)
{
    struct sdp *s = parse_fixture("rtcp");

    (void)state;
    assert_media(s, 0, "audio", 49170, "RTP/AVP", "192.168.1.10", true);
    assert_media(s, 1, "video", 51372, "RTP/AVPF", "192.168.1.10", true);
    sdp_free(s);

    s = parse_fixture("port0");
    assert_media(s, 1, "video", 0, "RTP/AVP", "192.168.1.10", true);
    sdp_free(s);

    s = parse_fixture("ipv6");
    assert_session_conn(s, "2001:db8::10");
    assert_media(s, 0, "audio", 49170, "RTP/AVP", "2001:db8::10", true);
    sdp_free(s);

    /* The "/127/2" TTL and count are not part of the address. */
    s = parse_fixture("port_count");
    assert_session_conn(s, "224.2.1.1");
    assert_media(s, 0, "video", 49170, "RTP/AVP", "224.2.1.1", true);
    sdp_free(s);
}

static void test_getters_no_media_and_bounds(void **state)
{
    struct sdp *s = parse_str("v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n");
    struct sdp_media_info mi;
    char small[5];

    (void)state;
    assert_int_equal(sdp_media_count(s), 0);
    assert_int_equal(sdp_media_get(s, 0, &mi), -ENOENT);
    assert_session_conn(s, "");
    sdp_free(s);

    s = parse_fixture("audio_video");
    assert_int_equal(sdp_media_get(s, 2, &mi), -ENOENT);
    assert_int_equal(sdp_media_get(s, (size_t)-1, &mi), -ENOENT);
    assert_int_equal(sdp_media_get(s, 0, NULL), -EINVAL);
    assert_int_equal(sdp_media_get(NULL, 0, &mi), -EINVAL);
    assert_int_equal(sdp_session_conn(s, small, sizeof small), -ENOSPC);
    assert_int_equal(sdp_session_conn(s, small, 0), -EINVAL);
    assert_int_equal(sdp_media_count(NULL), 0);
    sdp_free(s);
}

/* Getters read the rewritten text, so the proxy can check its own work. */
static void test_getters_after_rewrite(void **state)
{
    struct sdp *s = parse_fixture("session_media_conn");
    const uint16_t ports[] = {30000, 30002};

    (void)state;
    assert_int_equal(sdp_apply_relay(s, RELAY4, ports, 2), 0);
    assert_session_conn(s, RELAY4);
    assert_media(s, 0, "audio", 30000, "RTP/AVP", RELAY4, false);
    assert_media(s, 1, "video", 30002, "RTP/AVP", RELAY4, false);
    sdp_free(s);

    /* Stripping ICE leaves a=rtcp alone. */
    s = parse_fixture("ice");
    sdp_strip_ice(s);
    assert_media(s, 0, "audio", 49170, "RTP/AVP", "198.51.100.7", true);
    sdp_free(s);
}

static const char two_media[] = "v=0\r\n"
                                "o=- 1 1 IN IP4 192.168.1.10\r\n"
                                "s=-\r\n"
                                "c=IN IP4 192.168.1.10\r\n"
                                "t=0 0\r\n"
                                "m=audio 49170 RTP/AVP 0\r\n"
                                "a=rtcp:49171 IN IP4 192.168.1.10\r\n"
                                "m=video 51372 RTP/AVP 31\r\n"
                                "a=rtcp:51373\r\n";

static void test_set_media_port_one_stream(void **state)
{
    struct sdp *s = parse_str(two_media);

    (void)state;
    /* rtcp_addr NULL: the port moves, the a=rtcp address stays. */
    assert_int_equal(sdp_set_media_port(s, 0, 40000, NULL), 0);
    /* Set twice: the second rewrite replaces the first. */
    assert_int_equal(sdp_set_media_port(s, 1, 1, "198.51.100.1"), 0);
    assert_int_equal(sdp_set_media_port(s, 1, 65534, "198.51.100.1"), 0);
    assert_sdp_str(s, "v=0\r\n"
                      "o=- 1 1 IN IP4 192.168.1.10\r\n"
                      "s=-\r\n"
                      "c=IN IP4 192.168.1.10\r\n"
                      "t=0 0\r\n"
                      "m=audio 40000 RTP/AVP 0\r\n"
                      "a=rtcp:40001 IN IP4 192.168.1.10\r\n"
                      "m=video 65534 RTP/AVP 31\r\n"
                      "a=rtcp:65535\r\n");
    sdp_free(s);
}

static void test_set_media_port_rtcp_addr_family(void **state)
{
    struct sdp *s = parse_str(two_media);

    (void)state;
    assert_int_equal(sdp_set_media_port(s, 0, 30000, "2001:db8::22"), 0);
    assert_sdp_str(s, "v=0\r\n"
                      "o=- 1 1 IN IP4 192.168.1.10\r\n"
                      "s=-\r\n"
                      "c=IN IP4 192.168.1.10\r\n"
                      "t=0 0\r\n"
                      "m=audio 30000 RTP/AVP 0\r\n"
                      "a=rtcp:30001 IN IP6 2001:db8::22\r\n"
                      "m=video 51372 RTP/AVP 31\r\n"
                      "a=rtcp:51373\r\n");
    sdp_free(s);
}

static void test_set_media_port_refusals(void **state)
{
    struct sdp *s = parse_str(two_media);

    (void)state;
    assert_int_equal(sdp_set_media_port(s, 2, 30000, NULL), -ENOENT);
    assert_int_equal(sdp_set_media_port(s, 0, 30000, "not-an-address"), -EINVAL);
    assert_int_equal(sdp_set_media_port(s, 0, 30000, "[2001:db8::1]"), -EINVAL);
    /* RTCP would land on 65536. */
    assert_int_equal(sdp_set_media_port(s, 0, 65535, NULL), -EINVAL);
    assert_int_equal(sdp_set_media_port(NULL, 0, 30000, NULL), -EINVAL);
    assert_sdp_str(s, two_media);
    sdp_free(s);

    /* Without a=rtcp, 65535 is a fine RTP port. */
    s = parse_fixture("audio_private");
    assert_int_equal(sdp_set_media_port(s, 0, 65535, NULL), 0);
    assert_media(s, 0, "audio", 65535, "RTP/AVP", "192.168.1.10", false);
    sdp_free(s);
}

/* Port 0 asked for disables the stream; a=rtcp keeps its port. */
static void test_set_media_port_zero(void **state)
{
    struct sdp *s = parse_str(two_media);
    struct sdp_media_info mi;

    (void)state;
    assert_int_equal(sdp_set_media_port(s, 1, 0, NULL), 0);
    assert_int_equal(sdp_media_get(s, 1, &mi), 0);
    assert_int_equal(mi.port, 0);
    /* The stream was not disabled in the original: it can be set again. */
    assert_int_equal(sdp_set_media_port(s, 1, 30002, NULL), 0);
    assert_int_equal(sdp_media_get(s, 1, &mi), 0);
    assert_int_equal(mi.port, 30002);
    sdp_free(s);

    /* Disabled in the original: no port brings it back. */
    s = parse_fixture("port0");
    assert_int_equal(sdp_set_media_port(s, 1, 30002, RELAY4), 0);
    assert_media(s, 1, "video", 0, "RTP/AVP", "192.168.1.10", true);
    sdp_free(s);
}

static void test_set_conn(void **state)
{
    struct sdp *s = parse_fixture("hold_media");
    struct sdp_media_info mi;

    (void)state;
    assert_int_equal(sdp_set_conn(s, "2001:db8::1"), 0);
    assert_session_conn(s, "2001:db8::1");
    /* Held streams keep 0.0.0.0 / :: (RFC 3264 §8.4). */
    assert_media(s, 0, "audio", 49170, "RTP/AVP", "0.0.0.0", false);
    assert_media(s, 1, "video", 51372, "RTP/AVP", "::", false);
    assert_media(s, 2, "audio", 49180, "RTP/AVP", "2001:db8::1", false);
    assert_int_equal(sdp_set_conn(s, "198.51.100.9"), 0);
    assert_media(s, 2, "audio", 49180, "RTP/AVP", "198.51.100.9", false);

    assert_int_equal(sdp_set_conn(s, "relay.example.com"), -EINVAL);
    assert_int_equal(sdp_set_conn(s, "[2001:db8::1]"), -EINVAL);
    assert_int_equal(sdp_set_conn(s, "1.2.3.4 "), -EINVAL);
    assert_int_equal(sdp_set_conn(s, ""), -EINVAL);
    assert_int_equal(sdp_set_conn(s, "1111:2222:3333:4444:5555:6666:7777:8888:9999:0000"), -EINVAL);
    assert_int_equal(sdp_set_conn(s, NULL), -EINVAL);
    assert_int_equal(sdp_set_conn(NULL, RELAY4), -EINVAL);
    assert_int_equal(sdp_media_get(s, 2, &mi), 0);
    assert_string_equal(mi.conn, "198.51.100.9");
    sdp_free(s);
}

/* Only the lines that change are touched: the o= line keeps the private
 * address (it names the originator, RFC 4566 §5.2). */
static void test_set_conn_leaves_origin(void **state)
{
    struct sdp *s = parse_fixture("audio_private");
    char *text = NULL;

    (void)state;
    assert_int_equal(sdp_set_conn(s, RELAY4), 0);
    assert_int_equal(sdp_serialize(s, &text, NULL), 0);
    assert_non_null(strstr(text, "o=alice 2890844526 2890844526 IN IP4 192.168.1.10\r\n"));
    assert_non_null(strstr(text, "\r\nc=IN IP4 203.0.113.22\r\n"));
    assert_non_null(strstr(text, "\r\nm=audio 49170 RTP/AVP 0 8 101\r\n"));
    free(text);
    sdp_free(s);
}

static void test_apply_relay_ports_mismatch(void **state)
{
    struct sdp *s = parse_fixture("audio_video");
    const uint16_t more[] = {30000, 30002, 30004};
    struct sdp_media_info mi;

    (void)state;
    /* Fewer ports than streams: the rest keep their port. */
    assert_int_equal(sdp_apply_relay(s, RELAY4, more, 1), 0);
    assert_media(s, 0, "audio", 30000, "RTP/AVP", RELAY4, false);
    assert_media(s, 1, "video", 51372, "RTP/AVP", RELAY4, false);
    /* More ports than streams: the extra ones are ignored. */
    assert_int_equal(sdp_apply_relay(s, RELAY4, more, 3), 0);
    assert_media(s, 1, "video", 30002, "RTP/AVP", RELAY4, false);
    assert_int_equal(sdp_media_get(s, 2, &mi), -ENOENT);

    assert_int_equal(sdp_apply_relay(s, RELAY4, NULL, 1), -EINVAL);
    assert_int_equal(sdp_apply_relay(s, "bogus", more, 2), -EINVAL);
    assert_int_equal(sdp_apply_relay(s, NULL, more, 2), -EINVAL);
    assert_int_equal(sdp_apply_relay(NULL, RELAY4, more, 2), -EINVAL);
    assert_int_equal(sdp_apply_relay(s, RELAY4, NULL, 0), 0);
    sdp_free(s);
}

/* A refused relay leaves the SDP exactly as it was. */
static void test_apply_relay_refused_changes_nothing(void **state)
{
    struct sdp *s = parse_str(two_media);
    const uint16_t ports[] = {30000, 65535};

    (void)state;
    assert_int_equal(sdp_apply_relay(s, RELAY4, ports, 2), -EINVAL);
    assert_sdp_str(s, two_media);
    sdp_free(s);
}

static void test_strip_ice_alone(void **state)
{
    static const char in[] = "v=0\n"
                             "o=- 1 1 IN IP4 192.0.2.1\n"
                             "s=-\n"
                             "t=0 0\n"
                             "a=ice-ufrag:abcd\n"
                             "a=ice-pwd:0123456789abcdef01234567\n"
                             "m=audio 5000 RTP/AVP 0\n"
                             "c=IN IP4 192.0.2.1\n"
                             "a=candidate:1 1 udp 1 192.0.2.1 5000 typ host\n"
                             "a=ice-lite\n"
                             "a=icefoo\n"
                             "a=candidate\n"
                             "a=sendrecv";
    struct sdp *s = parse_str(in);
    static const char out[] = "v=0\n"
                              "o=- 1 1 IN IP4 192.0.2.1\n"
                              "s=-\n"
                              "t=0 0\n"
                              "m=audio 5000 RTP/AVP 0\n"
                              "c=IN IP4 192.0.2.1\n"
                              "a=icefoo\n"
                              "a=sendrecv";

    (void)state;
    sdp_strip_ice(s);
    sdp_strip_ice(s);
    sdp_strip_ice(NULL);
    assert_sdp_str(s, out);
    sdp_free(s);
}

static void test_serialize_args(void **state)
{
    struct sdp *s = parse_fixture("hold");
    size_t len = 0;

    (void)state;
    assert_int_equal(sdp_serialize(s, NULL, &len), -EINVAL);
    assert_int_equal(sdp_serialize(NULL, NULL, &len), -EINVAL);
    sdp_free(s);
    sdp_free(NULL);
}

#define GOLDEN(g)                                                                                  \
    {                                                                                              \
        "golden_" #g, test_golden, NULL, NULL, &(g)                                                \
    }
#define ROUND_TRIP(g)                                                                              \
    {                                                                                              \
        "round_trip_" #g, test_round_trip, NULL, NULL, &(g)                                        \
    }

int main(void)
{
    const struct CMUnitTest tests[] = {
        GOLDEN(g_audio),
        GOLDEN(g_av),
        GOLDEN(g_media_conn),
        GOLDEN(g_sess_media),
        GOLDEN(g_rtcp),
        GOLDEN(g_ice),
        GOLDEN(g_hold),
        GOLDEN(g_hold_media),
        GOLDEN(g_port0),
        GOLDEN(g_ipv6),
        GOLDEN(g_ipv6_to_4),
        GOLDEN(g_lf),
        GOLDEN(g_no_nl),
        GOLDEN(g_mixed),
        GOLDEN(g_unknown),
        GOLDEN(g_port_count),
        ROUND_TRIP(g_audio),
        ROUND_TRIP(g_av),
        ROUND_TRIP(g_media_conn),
        ROUND_TRIP(g_sess_media),
        ROUND_TRIP(g_rtcp),
        ROUND_TRIP(g_ice),
        ROUND_TRIP(g_hold),
        ROUND_TRIP(g_hold_media),
        ROUND_TRIP(g_port0),
        ROUND_TRIP(g_ipv6),
        ROUND_TRIP(g_lf),
        ROUND_TRIP(g_no_nl),
        ROUND_TRIP(g_mixed),
        ROUND_TRIP(g_unknown),
        ROUND_TRIP(g_port_count),
        cmocka_unit_test(test_getters_session_conn),
        cmocka_unit_test(test_getters_media_conn_overrides),
        cmocka_unit_test(test_getters_rtcp_port0_ipv6_multicast),
        cmocka_unit_test(test_getters_no_media_and_bounds),
        cmocka_unit_test(test_getters_after_rewrite),
        cmocka_unit_test(test_set_media_port_one_stream),
        cmocka_unit_test(test_set_media_port_rtcp_addr_family),
        cmocka_unit_test(test_set_media_port_refusals),
        cmocka_unit_test(test_set_media_port_zero),
        cmocka_unit_test(test_set_conn),
        cmocka_unit_test(test_set_conn_leaves_origin),
        cmocka_unit_test(test_apply_relay_ports_mismatch),
        cmocka_unit_test(test_apply_relay_refused_changes_nothing),
        cmocka_unit_test(test_strip_ice_alone),
        cmocka_unit_test(test_serialize_args),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

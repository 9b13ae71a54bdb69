/* digest (src/common/auth/digest.c): the worked examples of RFC 2617 §3.5
 * (MD5) and RFC 7616 §3.9.1 (MD5, SHA-256) as test vectors; SHA-512-256 on
 * the same input against an independent implementation (Python's
 * hashlib); HMAC-SHA-256 against RFC 4231 test case 1. */
#include "helpers.h"

#include <errno.h>
#include <string.h>

#include "pinhole/digest.h"

static void rfc2617_md5(void **state)
{
    char ha1[DIGEST_HEX_MAX], resp[DIGEST_HEX_MAX];
    (void)state;
    assert_int_equal(digest_ha1(DIGEST_MD5, "Mufasa", "testrealm@host.com", "Circle Of Life", ha1),
                     0);
    assert_string_equal(ha1, "939e7578ed9e3c518a452acee763bce9");
    struct digest_input in = {.ha1 = ha1,
                              .nonce = "dcd98b7102dd2f0e8b11d0f600bfb0c093",
                              .nc = "00000001",
                              .cnonce = "0a4f113b",
                              .qop = "auth",
                              .method = "GET",
                              .uri = "/dir/index.html"};
    assert_int_equal(digest_response(DIGEST_MD5, &in, resp), 0);
    assert_string_equal(resp, "6629fae49393a05397450978507c4ef1");
}

static const char rfc7616_nonce[] = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
static const char rfc7616_cnonce[] = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";

static void rfc7616(enum digest_alg a, const char *want_ha1, const char *want)
{
    char ha1[DIGEST_HEX_MAX], resp[DIGEST_HEX_MAX];
    assert_int_equal(digest_ha1(a, "Mufasa", "http-auth@example.org", "Circle of Life", ha1), 0);
    if (want_ha1)
        assert_string_equal(ha1, want_ha1);
    struct digest_input in = {.ha1 = ha1,
                              .nonce = rfc7616_nonce,
                              .nc = "00000001",
                              .cnonce = rfc7616_cnonce,
                              .qop = "auth",
                              .method = "GET",
                              .uri = "/dir/index.html"};
    assert_int_equal(digest_response(a, &in, resp), 0);
    assert_string_equal(resp, want);
    assert_int_equal(strlen(resp), digest_hex_len(a));
}

static void rfc7616_md5_and_sha256(void **state)
{
    (void)state;
    rfc7616(DIGEST_MD5, NULL, "8ca523f5e9506fed4657c9700eebdbec");
    rfc7616(DIGEST_SHA256, NULL,
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
}

static void sha512_256_on_the_rfc7616_input(void **state)
{
    (void)state;
    rfc7616(DIGEST_SHA512_256, "fb174f5c3c7802721517cae13b98e2b8dae2e0118cb705d94ee29946319204ce",
            "430d05014cecc49cab6fbe03176d41a1da86cbfe24a16580e22aaad928d960d0");
}

static void names(void **state)
{
    enum digest_alg a;
    (void)state;
    assert_int_equal(digest_alg_from_name("sha-512-256", &a), 0);
    assert_int_equal(a, DIGEST_SHA512_256);
    assert_int_equal(digest_alg_from_name("SHA-256", &a), 0);
    assert_int_equal(a, DIGEST_SHA256);
    assert_int_equal(digest_alg_from_name(NULL, &a), 0); /* RFC 7616 §3.3: absent = MD5 */
    assert_int_equal(a, DIGEST_MD5);
    assert_int_equal(digest_alg_from_name("MD5-sess", &a), -EINVAL);
    assert_int_equal(digest_alg_from_name("SHA-1", &a), -EINVAL);
    assert_string_equal(digest_alg_name(DIGEST_SHA256), "SHA-256");
    assert_true(digest_equal("abc", "abc"));
    assert_false(digest_equal("abc", "abd"));
    assert_false(digest_equal("abc", "abcd"));
}

static void hex_both_ways(void **state)
{
    const uint8_t b[] = {0x00, 0x9f, 0xa0, 0xff};
    char out[9];
    uint64_t v;
    (void)state;
    digest_hex(b, sizeof b, out);
    assert_string_equal(out, "009fa0ff");
    assert_int_equal(digest_hex_value(out, 8, &v), 0);
    assert_int_equal(v, 0x009fa0ff);
    assert_int_equal(digest_hex_value("00000001", 8, &v), 0);
    assert_int_equal(v, 1);
    assert_int_equal(digest_hex_value("ABCdef", 6, &v), 0);
    assert_int_equal(v, 0xabcdef);
    assert_int_equal(digest_hex_value("ffffffffffffffff", 16, &v), 0);
    assert_true(v == UINT64_MAX);
    assert_int_equal(digest_hex_value("0000000g", 8, &v), -EINVAL);
    assert_int_equal(digest_hex_value("12 4", 4, &v), -EINVAL);
    assert_int_equal(digest_hex_value("", 0, &v), -EINVAL);
    assert_int_equal(digest_hex_value("00000000000000001", 17, &v), -EINVAL);
}

static void hmac_rfc4231_case1(void **state)
{
    uint8_t key[20], out[DIGEST_HMAC_LEN];
    static const uint8_t want[DIGEST_HMAC_LEN] = {0xb0, 0x34, 0x4c, 0x61, 0xd8, 0xdb, 0x38, 0x53,
                                                  0x5c, 0xa8, 0xaf, 0xce, 0xaf, 0x0b, 0xf1, 0x2b,
                                                  0x88, 0x1d, 0xc2, 0x00, 0xc9, 0x83, 0x3d, 0xa7,
                                                  0x26, 0xe9, 0x37, 0x6c, 0x2e, 0x32, 0xcf, 0xf7};
    (void)state;
    memset(key, 0x0b, sizeof key);
    assert_int_equal(digest_hmac(key, sizeof key, "Hi There", 8, out), 0);
    assert_memory_equal(out, want, sizeof want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc2617_md5),
        cmocka_unit_test(rfc7616_md5_and_sha256),
        cmocka_unit_test(sha512_256_on_the_rfc7616_input),
        cmocka_unit_test(names),
        cmocka_unit_test(hex_both_ways),
        cmocka_unit_test(hmac_rfc4231_case1),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

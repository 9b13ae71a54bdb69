/* sip_valid: what may be kept as a URI user or a Call-ID and written back
 * on a line we build ourselves. The values near a limit sit in heap buffers
 * of exactly their size, so ASan reports a check that reads past the NUL. */
#include "helpers.h"

#include <stdlib.h>
#include <string.h>

#define MAX 8

/* A heap copy of s with no byte to spare. */
static char *exact(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    assert_non_null(p);
    memcpy(p, s, n);
    return p;
}

static bool user_ok(const char *s, size_t max)
{
    char *p = exact(s);
    bool ok = sip_user_valid(p, max);
    free(p);
    return ok;
}

static bool call_id_ok(const char *s, size_t max)
{
    char *p = exact(s);
    bool ok = sip_call_id_valid(p, max);
    free(p);
    return ok;
}

/* ---- URI users ---- */

static void user_accepts_alphanumerics(void **state)
{
    (void)state;
    assert_true(user_ok("alice", MAX));
    assert_true(user_ok("16", MAX));
    assert_true(user_ok("AZaz09", MAX));
    assert_true(user_ok("x", 1));
}

static void user_refuses_empty_and_null(void **state)
{
    (void)state;
    assert_false(sip_user_valid(NULL, MAX));
    assert_false(user_ok("", MAX));
    assert_false(user_ok("a", 0));
}

static void user_length_limit(void **state)
{
    (void)state;
    assert_true(user_ok("abcdefgh", MAX));   /* exactly max, NUL right after */
    assert_false(user_ok("abcdefghi", MAX)); /* one too many */
    assert_true(user_ok("abcdef%41", 9));    /* an escape ending at max */
    assert_false(user_ok("abcdef%41", MAX)); /* the escape is three characters */
}

/* RFC 3261 §25.1: the unreserved marks and the user-unreserved set. */
static void user_accepts_every_mark(void **state)
{
    static const char marks[] = "-_.!~*'()&=+$,;?/";
    (void)state;
    for (const char *c = marks; *c; c++) {
        char alone[2] = {*c, '\0'};
        char inside[4] = {'a', *c, 'b', '\0'};
        assert_true(user_ok(alone, MAX));
        assert_true(user_ok(inside, MAX));
    }
    assert_true(user_ok(marks, sizeof marks - 1));
}

static void user_escapes(void **state)
{
    (void)state;
    assert_true(user_ok("%41", MAX));
    assert_true(user_ok("a%4a%4Fb", MAX)); /* either case of hex digit */
    assert_true(user_ok("%25", MAX));      /* an escaped '%' */
    assert_false(user_ok("%4", MAX));      /* one digit, then the end */
    assert_false(user_ok("a%4", MAX));
    assert_false(user_ok("%zz", MAX));
    assert_false(user_ok("%4g", MAX));
    assert_false(user_ok("%g4", MAX));
    assert_false(user_ok("%", MAX)); /* '%' at the end */
    assert_false(user_ok("abc%", MAX));
    assert_false(user_ok("%%41", MAX));
}

static void user_refuses_reserved_and_controls(void **state)
{
    static const char *const bad[] = {
        "a b", "a@b", "a:b", "a<b", "a>b",  "a\"b", "a#b",  "a[b",   "a]b",   "a\\b",     "a^b",
        "a`b", "a{b", "a|b", "a}b", "a\tb", "a\rb", "a\nb", "a\x7f", "a\x80", "\xc3\xa9",
    };
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (user_ok(bad[i], MAX))
            fail_msg("accepted user \"%s\"", bad[i]);
    }
}

/* ---- Call-IDs ---- */

static void call_id_accepts_visible_ascii(void **state)
{
    char all[0x7f - 0x21 + 1];
    (void)state;
    for (int c = 0x21; c < 0x7f; c++)
        all[c - 0x21] = (char)c;
    all[sizeof all - 1] = '\0';
    assert_true(call_id_ok(all, sizeof all - 1));
    assert_true(call_id_ok("a84b4c76e66710@pc33.atlanta.example.com", 256));
    assert_true(call_id_ok("x", 1));
}

static void call_id_refuses_empty_and_null(void **state)
{
    (void)state;
    assert_false(sip_call_id_valid(NULL, MAX));
    assert_false(call_id_ok("", MAX));
    assert_false(call_id_ok("a", 0));
}

static void call_id_refuses_space_controls_and_8bit(void **state)
{
    static const char *const bad[] = {
        "has space", "cr\r",   "lf\n", "nl\r\nInjected: x", "tab\t",
        "del\x7f",   "hi\x80", "\xff", "utf8-\xc3\xa9",
    };
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (call_id_ok(bad[i], 64))
            fail_msg("accepted Call-ID \"%s\"", bad[i]);
    }
}

static void call_id_length_limit(void **state)
{
    char id[258];
    (void)state;
    memset(id, 'x', 257);
    id[257] = '\0';
    assert_false(call_id_ok(id, 256)); /* max + 1 */
    id[256] = '\0';
    assert_true(call_id_ok(id, 256)); /* exactly max */
    assert_true(call_id_ok("abcdefgh", MAX));
    assert_false(call_id_ok("abcdefghi", MAX));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(user_accepts_alphanumerics),
        cmocka_unit_test(user_refuses_empty_and_null),
        cmocka_unit_test(user_length_limit),
        cmocka_unit_test(user_accepts_every_mark),
        cmocka_unit_test(user_escapes),
        cmocka_unit_test(user_refuses_reserved_and_controls),
        cmocka_unit_test(call_id_accepts_visible_ascii),
        cmocka_unit_test(call_id_refuses_empty_and_null),
        cmocka_unit_test(call_id_refuses_space_controls_and_8bit),
        cmocka_unit_test(call_id_length_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

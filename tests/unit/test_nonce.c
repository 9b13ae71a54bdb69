/* nonce (src/proxyd/nonce.c): stateless nonces, judged by secret, realm
 * and age alone. */
#include "helpers.h"

#include <errno.h>
#include <string.h>

#include "nonce.h"

#define SECRET "sixteen byte key"
#define T0 1700000000ull

static void made_here_is_accepted_until_it_is_old(void **state)
{
    char n[NONCE_LEN + 1];
    (void)state;
    assert_int_equal(nonce_make(SECRET, 16, "r", T0, n), 0);
    assert_int_equal(strlen(n), NONCE_LEN);
    assert_int_equal(nonce_check(SECRET, 16, "r", n, T0, 300), 0);
    assert_int_equal(nonce_check(SECRET, 16, "r", n, T0 + 300, 300), 0);
    assert_int_equal(nonce_check(SECRET, 16, "r", n, T0 + 301, 300), -ESTALE);
    /* a second nonce of the same second is another nonce */
    char m[NONCE_LEN + 1];
    assert_int_equal(nonce_make(SECRET, 16, "r", T0, m), 0);
    assert_string_not_equal(n, m);
}

static void forged_tampered_or_foreign_is_refused(void **state)
{
    char n[NONCE_LEN + 1], t[NONCE_LEN + 1];
    (void)state;
    assert_int_equal(nonce_make(SECRET, 16, "r", T0, n), 0);
    assert_int_equal(nonce_check("another key 1234", 16, "r", n, T0, 300), -EINVAL);
    assert_int_equal(nonce_check(SECRET, 16, "other realm", n, T0, 300), -EINVAL);
    for (size_t i = 0; i < NONCE_LEN; i++) { /* every character is covered */
        memcpy(t, n, sizeof t);
        t[i] = t[i] == 'a' ? 'b' : 'a';
        assert_int_equal(nonce_check(SECRET, 16, "r", t, T0, 300), -EINVAL);
    }
    assert_int_equal(nonce_check(SECRET, 16, "r", "", T0, 300), -EINVAL);
    n[NONCE_LEN - 1] = '\0';
    assert_int_equal(nonce_check(SECRET, 16, "r", n, T0, 300), -EINVAL);
    /* born in the future: forged, not skew */
    assert_int_equal(nonce_make(SECRET, 16, "r", T0 + NONCE_SKEW_S + 1, n), 0);
    assert_int_equal(nonce_check(SECRET, 16, "r", n, T0, 300), -EINVAL);
    assert_int_equal(nonce_make(SECRET, 16, "r", T0 + 5, n), 0);
    assert_int_equal(nonce_check(SECRET, 16, "r", n, T0, 300), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(made_here_is_accepted_until_it_is_old),
        cmocka_unit_test(forged_tampered_or_foreign_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

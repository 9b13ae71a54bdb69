/* users (src/proxyd/users.c): the subscriber file. A bad line is named by
 * its number and nothing of the file is taken. */
#include "helpers.h"

#include <errno.h>
#include <string.h>

#include "users.h"

#define MD5_HA1 "3d788ff40f6f6fd60e2058c96d63b34a"
#define SHA_HA1 "bfb678afdc854d6d9278ab1b1ed57f44299d8534ff3f9147c885c1f45f55bfb7"

static int parse(const char *text, struct users **u, char *err, size_t len)
{
    return users_parse(u, text, strlen(text), "users", err, len);
}

static void lines_comments_and_separators(void **state)
{
    struct users *u = NULL;
    char err[256];
    (void)state;
    const char *text = "# subscribers\n"
                       "\n"
                       "alice pinhole.test MD5 " MD5_HA1 "   # trailing comment\n"
                       "alice\tpinhole.test\tSHA-256\t" SHA_HA1 "\r\n"
                       "   bob other.realm md5 " MD5_HA1;
    assert_int_equal(parse(text, &u, err, sizeof err), 0);
    assert_int_equal(users_count(u), 3);
    assert_string_equal(users_ha1(u, "alice", "pinhole.test", DIGEST_MD5), MD5_HA1);
    assert_string_equal(users_ha1(u, "alice", "pinhole.test", DIGEST_SHA256), SHA_HA1);
    assert_null(users_ha1(u, "alice", "pinhole.test", DIGEST_SHA512_256));
    assert_null(users_ha1(u, "alice", "other.realm", DIGEST_MD5));
    assert_string_equal(users_ha1(u, "bob", "other.realm", DIGEST_MD5), MD5_HA1);
    assert_null(users_ha1(u, "carol", "pinhole.test", DIGEST_MD5));
    users_free(u);
}

static void expect_bad(const char *text, const char *where)
{
    struct users *u = (struct users *)1;
    char err[256] = "";
    assert_int_equal(parse(text, &u, err, sizeof err), -EINVAL);
    assert_null(u);
    if (!strstr(err, where))
        fail_msg("error \"%s\" does not name \"%s\"", err, where);
}

static void bad_lines_are_named_by_number(void **state)
{
    (void)state;
    expect_bad("# ok\nalice pinhole.test MD5\n", "users:2: want USER REALM ALGORITHM HA1");
    expect_bad("alice pinhole.test MD5 " MD5_HA1 " extra\n", "users:1:");
    expect_bad("\n\nalice pinhole.test SHA-1 " MD5_HA1 "\n", "users:3: ALGORITHM");
    expect_bad("alice pinhole.test MD5 " SHA_HA1 "\n", "users:1: HA1");
    expect_bad("alice pinhole.test MD5 3D788FF40F6F6FD60E2058C96D63B34A\n", "users:1: HA1");
    expect_bad("al<ce pinhole.test MD5 " MD5_HA1 "\n", "users:1: USER");
    expect_bad("alice pin\"hole MD5 " MD5_HA1 "\n", "users:1: REALM");
    expect_bad("alice r MD5 " MD5_HA1 "\nalice r MD5 " MD5_HA1 "\n", "users:2: this user");
}

static void oversized_input_is_refused_not_truncated(void **state)
{
    char line[USERS_LINE_MAX + 64];
    (void)state;
    memset(line, ' ', sizeof line);
    line[sizeof line - 1] = '\0';
    expect_bad(line, "users:1: line longer");
    char user[USERS_FIELD_MAX + 2];
    memset(user, 'a', sizeof user - 1);
    user[sizeof user - 1] = '\0';
    snprintf(line, sizeof line, "%s r MD5 " MD5_HA1 "\n", user);
    expect_bad(line, "users:1: USER");
    struct users *u;
    char err[128];
    const char nul[] = "alice r MD5 " MD5_HA1 "\0\n";
    assert_int_equal(users_parse(&u, nul, sizeof nul - 1, "users", err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "NUL"));
}

static void a_missing_file_is_an_error(void **state)
{
    struct users *u;
    char err[256];
    (void)state;
    assert_int_equal(users_load(&u, "/nonexistent/pinhole-users", err, sizeof err), -ENOENT);
    assert_non_null(strstr(err, "/nonexistent/pinhole-users"));
    /* the shipped one loads */
    assert_int_equal(users_load(&u, CONF_DIR "/users", err, sizeof err), 0);
    assert_non_null(users_ha1(u, "alice", "pinhole.test", DIGEST_SHA512_256));
    assert_non_null(users_ha1(u, "carol", "pinhole.test", DIGEST_MD5));
    assert_int_equal(users_count(u), 9);
    users_free(u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lines_comments_and_separators),
        cmocka_unit_test(bad_lines_are_named_by_number),
        cmocka_unit_test(oversized_input_is_refused_not_truncated),
        cmocka_unit_test(a_missing_file_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

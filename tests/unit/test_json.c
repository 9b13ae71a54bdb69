/* json: the reader pinholectl uses on the stats endpoints' output. */
#include "helpers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pinhole/json.h"

static struct json *parse_ok(const char *text)
{
    struct json *doc = NULL;
    assert_int_equal(json_parse(&doc, text, strlen(text), NULL), 0);
    return doc;
}

static void reads_objects_arrays_and_scalars_in_order(void **state)
{
    (void)state;
    struct json *doc = parse_ok(" {\"b\":1, \"a\":[true,false,null,\"x\",-0.5e+3,{}], "
                                "\"big\":18446744073709551615, \"b\":2}\n");
    const struct json_val *root = json_root(doc);
    assert_int_equal(json_type(root), JSON_OBJECT);
    assert_int_equal(json_count(root), 4);
    assert_string_equal(json_key_at(root, 0), "b");
    assert_string_equal(json_key_at(root, 1), "a");
    assert_null(json_key_at(root, 4));
    assert_string_equal(json_text(json_get(root, "b")), "1"); /* the first of duplicates */
    assert_string_equal(json_text(json_get(root, "big")), "18446744073709551615");
    assert_null(json_get(root, "missing"));
    assert_null(json_text(root));

    const struct json_val *a = json_get(root, "a");
    assert_int_equal(json_type(a), JSON_ARRAY);
    assert_int_equal(json_count(a), 6);
    assert_null(json_key_at(a, 0));
    assert_null(json_get(a, "b"));
    const enum json_type types[] = {JSON_BOOL,   JSON_BOOL,   JSON_NULL,
                                    JSON_STRING, JSON_NUMBER, JSON_OBJECT};
    const char *texts[] = {"true", "false", "null", "x", "-0.5e+3", NULL};
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(json_type(json_at(a, i)), types[i]);
        if (texts[i])
            assert_string_equal(json_text(json_at(a, i)), texts[i]);
    }
    assert_null(json_at(a, 6));
    assert_int_equal(json_count(json_at(a, 5)), 0);
    assert_int_equal(json_count(json_at(a, 0)), 0);
    json_free(doc);
}

static void decodes_string_escapes_to_utf8(void **state)
{
    (void)state;
    struct json *doc = parse_ok("[\"q\\\"b\\\\s\\/n\\nt\\tr\\rb\\bf\\f\", \"\\u00e9\\u20ac\","
                                "\"\\ud83d\\ude00\", \"\\u0041\"]");
    const struct json_val *a = json_root(doc);
    assert_string_equal(json_text(json_at(a, 0)), "q\"b\\s/n\nt\tr\rb\bf\f");
    assert_string_equal(json_text(json_at(a, 1)), "\xc3\xa9\xe2\x82\xac");
    assert_string_equal(json_text(json_at(a, 2)), "\xf0\x9f\x98\x80");
    assert_string_equal(json_text(json_at(a, 3)), "A");
    json_free(doc);
}

static void refuses_malformed_input_with_its_position(void **state)
{
    static const char *const bad[] = {
        "",         "{",        "[1,]",       "{\"a\" 1}",   "{a:1}",       "[01]",
        "[1.]",     "[.5]",     "[1e]",       "[-]",         "tru",         "nul",
        "\"abc",    "\"a\\x\"", "\"\\u12\"",  "\"\\u0000\"", "\"\\udc00\"", "\"\\ud800x\"",
        "\"a\tb\"", "[1] [2]",  "{\"a\":1,}", "[\"\\",       "[+1]",        "{\"a\":}",
    };
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct json *doc = NULL;
        size_t pos = 9999;
        int err = json_parse(&doc, bad[i], strlen(bad[i]), &pos);
        if (err != -EINVAL)
            fail_msg("accepted: %s", bad[i]);
        assert_null(doc);
        assert_true(pos <= strlen(bad[i]));
    }
    size_t pos = 0;
    struct json *doc = NULL;
    assert_int_equal(json_parse(&doc, "[1, 2, x]", 9, &pos), -EINVAL);
    assert_int_equal(pos, 7);
}

static void bounds_nesting_depth(void **state)
{
    char deep[2 * JSON_DEPTH_MAX + 8];
    struct json *doc = NULL;
    (void)state;
    size_t n = JSON_DEPTH_MAX;
    memset(deep, '[', n);
    memset(deep + n, ']', n);
    assert_int_equal(json_parse(&doc, deep, 2 * n, NULL), 0);
    json_free(doc);
    n = JSON_DEPTH_MAX + 1;
    memset(deep, '[', n);
    memset(deep + n, ']', n);
    assert_int_equal(json_parse(&doc, deep, 2 * n, NULL), -EINVAL);
}

static void reads_only_the_given_length(void **state)
{
    struct json *doc = NULL;
    (void)state;
    const char text[] = "[123]garbage";
    assert_int_equal(json_parse(&doc, text, 5, NULL), 0);
    assert_string_equal(json_text(json_at(json_root(doc), 0)), "123");
    json_free(doc);
    assert_int_equal(json_parse(&doc, "\"abc\"", 4, NULL), -EINVAL); /* cut before the quote */
}

static void handles_a_large_table(void **state)
{
    (void)state;
    size_t rows = 20000, cap = rows * 32 + 64, o = 0;
    char *text = malloc(cap);
    assert_non_null(text);
    o += (size_t)snprintf(text + o, cap - o, "{\"rows\":[");
    for (size_t i = 0; i < rows; i++)
        o += (size_t)snprintf(text + o, cap - o, "%s[\"call-%zu\",%zu]", i ? "," : "", i, i);
    o += (size_t)snprintf(text + o, cap - o, "]}");
    struct json *doc = parse_ok(text);
    const struct json_val *r = json_get(json_root(doc), "rows");
    assert_int_equal(json_count(r), rows);
    assert_string_equal(json_text(json_at(json_at(r, rows - 1), 0)), "call-19999");
    json_free(doc);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reads_objects_arrays_and_scalars_in_order),
        cmocka_unit_test(decodes_string_escapes_to_utf8),
        cmocka_unit_test(refuses_malformed_input_with_its_position),
        cmocka_unit_test(bounds_nesting_depth),
        cmocka_unit_test(reads_only_the_given_length),
        cmocka_unit_test(handles_a_large_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

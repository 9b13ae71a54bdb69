/* RFC 4475 torture messages through sip_parse, one assertion per row of
 * tests/fixtures/rfc4475/expect.tsv so that a regression names its message. */
#include "helpers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pinhole/sip.h"

#define MAX_ROWS 64
#define EXPECTED_ROWS 50

struct row {
    char name[32];
    char cls[16];
    char accept[64];
};

static struct row rows[MAX_ROWS];
static size_t nrows;

/* Semantic messages sip_parse itself must refuse (RFC 4475 3.3.1, 3.3.8,
 * 3.3.9); every other semantic one parses and is answered by the daemons. */
static const char *const semantic_refused[] = {"insuf", "multi01", "mcl01", NULL};

/* What each refused message is refused for, and whether it can be answered. */
static const struct {
    const char *name;
    enum sip_parse_error error;
    bool answerable;
} refusals[] = {
    {"badinv01", SIP_PARSE_MALFORMED, false}, {"clerr", SIP_PARSE_BAD_LENGTH, true},
    {"ncl", SIP_PARSE_BAD_LENGTH, true},      {"scalar02", SIP_PARSE_BAD_CSEQ, true},
    {"scalarlg", SIP_PARSE_BAD_CSEQ, false},  {"quotbal", SIP_PARSE_MALFORMED, false},
    {"ltgtruri", SIP_PARSE_MALFORMED, false}, {"lwsruri", SIP_PARSE_MALFORMED, false},
    {"lwsstart", SIP_PARSE_MALFORMED, false}, {"badvers", SIP_PARSE_VERSION, true},
    {"mismatch01", SIP_PARSE_BAD_CSEQ, true}, {"mismatch02", SIP_PARSE_BAD_CSEQ, true},
    {"bigcode", SIP_PARSE_MALFORMED, false},  {"test", SIP_PARSE_MALFORMED, false},
    {"insuf", SIP_PARSE_MISSING, true},      {"multi01", SIP_PARSE_MISSING, false},
    {"mcl01", SIP_PARSE_BAD_LENGTH, true},
};

static bool in_list(const char *const *list, const char *name)
{
    for (; *list; list++)
        if (strcmp(*list, name) == 0)
            return true;
    return false;
}

/* name, section, class, description, expected, accept */
static void parse_row(char *line)
{
    char *field[6] = {0};
    int n = 0;
    for (char *p = line; n < 6; n++) {
        field[n] = p;
        p = strchr(p, '\t');
        if (!p)
            break;
        *p++ = '\0';
    }
    if (n < 5)
        fail_msg("expect.tsv: short row \"%s\"", line);
    assert_true(nrows < MAX_ROWS);
    struct row *r = &rows[nrows++];
    snprintf(r->name, sizeof r->name, "%s", field[0]);
    snprintf(r->cls, sizeof r->cls, "%s", field[2]);
    snprintf(r->accept, sizeof r->accept, "%s", field[5]);
}

static int load_rows(void **state)
{
    (void)state;
    char *tsv = fixture_read("rfc4475/expect.tsv", NULL);
    char *save = NULL;
    for (char *line = strtok_r(tsv, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        size_t l = strlen(line);
        if (l && line[l - 1] == '\r')
            line[l - 1] = '\0';
        if (line[0] && line[0] != '#')
            parse_row(line);
    }
    free(tsv);
    return sip_init();
}

static bool accepts_any(const struct row *r)
{
    return strstr(r->accept, "any") != NULL;
}

static char *load(const struct row *r, size_t *len)
{
    char path[64];
    snprintf(path, sizeof path, "rfc4475/%.31s.dat", r->name);
    return fixture_read(path, len);
}

/* Content-Length in serialized text equals the bytes after the blank line. */
static bool content_length_matches(const char *text, size_t len)
{
    const char *end = strstr(text, "\r\n\r\n");
    const char *cl = strstr(text, "\r\nContent-Length:");
    if (!end || !cl || cl > end)
        return false;
    size_t body = len - (size_t)(end + 4 - text);
    return strtoul(cl + 17, NULL, 10) == body;
}

/* Same body bytes, or no body in either. */
static bool same_body(const osip_message_t *a, const osip_message_t *b)
{
    const char *b1, *b2;
    size_t l1, l2;
    int r1 = sip_body_get(a, &b1, &l1), r2 = sip_body_get(b, &b2, &l2);
    return r1 == r2 && l1 == l2 && (l1 == 0 || memcmp(b1, b2, l1) == 0);
}

/* Serialize, parse again: same Call-ID, CSeq, method or status, body. */
static bool round_trips(const struct row *r, const osip_message_t *m)
{
    char *text = NULL, id1[512], id2[512];
    size_t len;
    osip_message_t *again = NULL;
    struct sip_parse_result res;
    uint32_t n1, n2;
    const char *meth1, *meth2;
    bool ok = false;

    if (sip_serialize(m, &text, &len) != 0) {
        print_error("%s: serialize failed\n", r->name);
        return false;
    }
    if (!content_length_matches(text, len)) {
        print_error("%s: Content-Length does not match the body\n", r->name);
    } else if (sip_parse(&again, text, len, &res) != 0) {
        print_error("%s: reparse failed: %s\n", r->name, res.reason);
    } else {
        ok = sip_call_id(m, id1, sizeof id1) == 0 && sip_call_id(again, id2, sizeof id2) == 0 &&
             strcmp(id1, id2) == 0 && sip_cseq(m, &n1, &meth1) == 0 &&
             sip_cseq(again, &n2, &meth2) == 0 && n1 == n2 && strcmp(meth1, meth2) == 0 &&
             sip_status(m) == sip_status(again) &&
             (!sip_is_request(m) || strcmp(sip_method(m), sip_method(again)) == 0) &&
             same_body(m, again);
        if (!ok)
            print_error("%s: round trip changed Call-ID, CSeq, method or body\n", r->name);
    }
    sip_free(again);
    osip_free(text);
    return ok;
}

/* Parses row r; returns sip_parse's result, *out_m owning the message if
 * the caller passes non-NULL (else it is freed). */
static int parse_row_message(const struct row *r, struct sip_parse_result *res,
                             osip_message_t **out_m)
{
    size_t len;
    char *buf = load(r, &len);
    osip_message_t *m = NULL;
    int rc = sip_parse(&m, buf, len, res);
    free(buf);
    if (rc != 0 && m && !res->answerable) {
        print_error("%s: refused, not answerable, yet a message came back\n", r->name);
        rc = -EFAULT;
    }
    if (out_m)
        *out_m = m;
    else
        sip_free(m);
    return rc;
}

static void all_rows_present(void **state)
{
    (void)state;
    assert_int_equal(nrows, EXPECTED_ROWS);
    for (size_t i = 0; i < nrows; i++) {
        size_t len;
        free(load(&rows[i], &len));
        assert_true(len > 0);
    }
}

static void valid_messages_parse_and_round_trip(void **state)
{
    int failures = 0;
    (void)state;
    for (size_t i = 0; i < nrows; i++) {
        const struct row *r = &rows[i];
        bool must_parse = strcmp(r->cls, "valid") == 0 ||
                          (strcmp(r->cls, "semantic") == 0 && !in_list(semantic_refused, r->name));
        if (!must_parse)
            continue;
        struct sip_parse_result res;
        osip_message_t *m;
        int rc = parse_row_message(r, &res, &m);
        if (rc != 0) {
            print_error("%s (%s): refused: %s\n", r->name, r->cls, res.reason);
            failures++;
        } else if (!round_trips(r, m)) {
            failures++;
        }
        sip_free(m);
    }
    assert_int_equal(failures, 0);
}

static int expected_refusal(const char *name)
{
    for (size_t i = 0; i < sizeof refusals / sizeof refusals[0]; i++)
        if (strcmp(refusals[i].name, name) == 0)
            return (int)i;
    return -1;
}

static bool check_refusal(const struct row *r)
{
    struct sip_parse_result res;
    osip_message_t *m;
    int rc = parse_row_message(r, &res, &m);
    int want = expected_refusal(r->name);
    bool ok = true;

    if (rc == 0) {
        print_error("%s (%s): accepted, must be refused\n", r->name, r->cls);
        ok = false;
    } else if (want < 0) {
        print_error("%s: no expected refusal in this test's table\n", r->name);
        ok = false;
    } else if (res.error != refusals[want].error || res.answerable != refusals[want].answerable ||
               (m != NULL) != res.answerable) {
        print_error("%s: refused with error %d answerable %d (%s), want %d/%d\n", r->name,
                    res.error, res.answerable, res.reason, refusals[want].error,
                    refusals[want].answerable);
        ok = false;
    } else if (m && !sip_is_request(m)) {
        print_error("%s: an answerable message must be a request\n", r->name);
        ok = false;
    }
    sip_free(m);
    return ok;
}

static void invalid_messages_refused(void **state)
{
    int failures = 0, checked = 0;
    (void)state;
    for (size_t i = 0; i < nrows; i++) {
        const struct row *r = &rows[i];
        bool must_refuse = (strcmp(r->cls, "invalid") == 0 && !accepts_any(r)) ||
                           (strcmp(r->cls, "semantic") == 0 && in_list(semantic_refused, r->name));
        if (!must_refuse)
            continue;
        checked++;
        if (!check_refusal(r))
            failures++;
    }
    assert_int_equal(failures, 0);
    /* the 14 invalid ones without "any" and the 3 semantic ones */
    assert_int_equal(checked, 17);
}

static void liberal_messages_do_not_crash(void **state)
{
    int seen = 0;
    (void)state;
    for (size_t i = 0; i < nrows; i++) {
        const struct row *r = &rows[i];
        if (strcmp(r->cls, "invalid") != 0 || !accepts_any(r))
            continue;
        struct sip_parse_result res;
        osip_message_t *m;
        int rc = parse_row_message(r, &res, &m);
        assert_int_not_equal(rc, -EFAULT);
        if (rc == 0)
            assert_true(round_trips(r, m));
        else
            assert_int_not_equal(res.error, SIP_PARSE_OK);
        sip_free(m);
        seen++;
    }
    assert_int_equal(seen, 6);
}

static const struct row *row_named(const char *name)
{
    for (size_t i = 0; i < nrows; i++)
        if (strcmp(rows[i].name, name) == 0)
            return &rows[i];
    fail_msg("no row %s", name);
    return NULL;
}

static osip_message_t *must_parse(const char *name)
{
    struct sip_parse_result res;
    osip_message_t *m;
    if (parse_row_message(row_named(name), &res, &m) != 0)
        fail_msg("%s: %s", name, res.reason);
    return m;
}

static void dblreq_is_the_register_only(void **state)
{
    const char *body;
    size_t len;
    (void)state;
    osip_message_t *m = must_parse("dblreq");
    assert_string_equal(sip_method(m), "REGISTER");
    assert_int_equal(sip_body_get(m, &body, &len), -ENOENT);
    char *text;
    assert_int_equal(sip_serialize(m, &text, &len), 0);
    assert_null(strstr(text, "INVITE"));
    assert_non_null(strstr(text, "Content-Length: 0\r\n"));
    osip_free(text);
    sip_free(m);
}

static void esc02_method_is_not_register(void **state)
{
    (void)state;
    osip_message_t *m = must_parse("esc02");
    assert_string_equal(sip_method(m), "RE%47IST%45R");
    assert_false(sip_method_is(m, "REGISTER"));
    sip_free(m);
}

static void escnull_keeps_escaped_nuls(void **state)
{
    char *uri;
    (void)state;
    osip_message_t *m = must_parse("escnull");
    assert_string_equal(sip_to_user(m), "null-%00-null");
    assert_int_equal(sip_contact_count(m), 2);
    assert_int_equal(sip_contact_uri_text(m, &uri), 0);
    /* the user "%00" is kept, not cut to an empty user */
    assert_non_null(strstr(uri, "@host5.example.com"));
    assert_null(strstr(uri, "sip:@"));
    osip_free(uri);
    sip_free(m);
}

static void intmeth_keeps_its_unusual_method(void **state)
{
    (void)state;
    osip_message_t *m = must_parse("intmeth");
    assert_string_equal(sip_method(m), "!interesting-Method0123456789_*+`.%indeed'~");
    sip_free(m);
}

static void novelsc_keeps_its_request_uri(void **state)
{
    char *text;
    size_t len;
    (void)state;
    osip_message_t *m = must_parse("novelsc");
    assert_false(sip_request_uri_is_sip(m));
    assert_int_equal(sip_serialize(m, &text, &len), 0);
    assert_memory_equal(text, "OPTIONS soap.beep://192.0.2.103:3002 SIP/2.0\r\n", 46);
    osip_free(text);
    sip_free(m);
}

static void bcast_has_no_response_destination(void **state)
{
    struct addr dst;
    (void)state;
    osip_message_t *m = must_parse("bcast");
    /* the proxy that owns the top Via pops it; what is left is broadcast */
    assert_int_equal(sip_via_pop_self(m, &(struct addr){0}), -EPERM);
    struct addr self = test_addr("192.0.2.198:5060");
    assert_int_equal(sip_via_pop_self(m, &self), 0);
    assert_int_equal(sip_response_destination(m, &dst), -EINVAL);
    sip_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(all_rows_present),
        cmocka_unit_test(valid_messages_parse_and_round_trip),
        cmocka_unit_test(invalid_messages_refused),
        cmocka_unit_test(liberal_messages_do_not_crash),
        cmocka_unit_test(dblreq_is_the_register_only),
        cmocka_unit_test(esc02_method_is_not_register),
        cmocka_unit_test(escnull_keeps_escaped_nuls),
        cmocka_unit_test(intmeth_keeps_its_unusual_method),
        cmocka_unit_test(novelsc_keeps_its_request_uri),
        cmocka_unit_test(bcast_has_no_response_destination),
    };
    return cmocka_run_group_tests(tests, load_rows, NULL);
}

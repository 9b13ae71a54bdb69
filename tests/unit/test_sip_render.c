/* sip_render must write what osip_message_to_str writes (but for the
 * padding osip puts in Content-Length), and leave to osip what it does not
 * render exactly. The reference is libosip2 itself, on every fixture, every
 * RFC 4475 torture message and hand-made edge cases. */
#include "helpers.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pinhole/sip.h"
/* sip_render is internal to libpinhole; this test is its only other user. */
#include "../../src/common/sip/sip_internal.h"

static char render_buf[SIP_MAX_MESSAGE];

/* osip's text with "Content-Length:    12" written as "Content-Length: 12". */
static char *osip_text(osip_message_t *m, size_t *len)
{
    char *text = NULL;
    size_t n = 0;
    osip_message_force_update(m);
    assert_int_equal(osip_message_to_str(m, &text, &n), 0);
    char *cl = strstr(text, "\r\nContent-Length:");
    assert_non_null(cl);
    char *digits = cl + strlen("\r\nContent-Length:");
    char *p = digits;
    while (*p == ' ')
        p++;
    *digits = ' ';
    memmove(digits + 1, p, n - (size_t)(p - text) + 1);
    n -= (size_t)(p - digits) - 1;
    *len = n;
    return text;
}

/* Renders m both ways and compares. Returns sip_render's result. */
static int compare_with_osip(osip_message_t *m, const char *what)
{
    size_t n = 0;
    int rc = sip_render(m, render_buf, sizeof render_buf, &n);
    if (rc == -ENOTSUP)
        return rc;
    assert_int_equal(rc, 0);
    size_t on = 0;
    char *want = osip_text(m, &on);
    if (on != n || memcmp(want, render_buf, n) != 0)
        fail_msg("%s: rendered\n%.*s\nosip\n%s", what, (int)n, render_buf, want);
    osip_free(want);
    return 0;
}

struct tally {
    int rendered;
    int left_to_osip;
    int unparsed;
};

static void compare_file(const char *rel, struct tally *t, bool hot_path)
{
    size_t len;
    char *text = fixture_read_sip(rel, &len);
    osip_message_t *m = NULL;
    struct sip_parse_result res;
    if (sip_parse(&m, text, len, &res) != 0 || !m) {
        t->unparsed++;
        sip_free(m);
        free(text);
        return;
    }
    int rc = compare_with_osip(m, rel);
    if (rc == -ENOTSUP && hot_path)
        fail_msg("%s: a message of the call path left to osip", rel);
    rc == 0 ? t->rendered++ : t->left_to_osip++;
    sip_free(m);
    free(text);
}

static void compare_dir(const char *dir, const char *suffix, struct tally *t, bool hot_path)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", FIXTURES_DIR, dir);
    DIR *d = opendir(path);
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d));) {
        size_t n = strlen(e->d_name), s = strlen(suffix);
        if (n <= s || strcmp(e->d_name + n - s, suffix) != 0)
            continue;
        char rel[600];
        snprintf(rel, sizeof rel, "%s/%s", dir, e->d_name);
        compare_file(rel, t, hot_path);
    }
    closedir(d);
}

static void every_fixture_renders_as_osip(void **state)
{
    (void)state;
    static const char *dirs[] = {"messaging", "patent", "registration", "relayd", "sip", "txn"};
    struct tally t = {0};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
        compare_dir(dirs[i], ".sip", &t, true);
    /* 58 .sip fixtures today; all of them are call-path messages */
    assert_true(t.rendered >= 50);
    assert_int_equal(t.left_to_osip, 0);
}

static void every_torture_message_renders_as_osip(void **state)
{
    (void)state;
    struct tally t = {0};
    compare_dir("rfc4475", ".dat", &t, false);
    print_message("rfc4475: %d rendered, %d left to osip, %d refused by sip_parse\n", t.rendered,
                  t.left_to_osip, t.unparsed);
    assert_true(t.rendered >= 15);
}

#define HEAD                                                                                       \
    "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1\r\n"                                          \
    "From: <sip:a@example.com>;tag=1\r\n"                                                          \
    "To: <sip:b@example.com>\r\n"                                                                  \
    "Call-ID: c1@192.0.2.1\r\n"

/* URIs, hosts and parameters with everything osip escapes or brackets. */
static void edge_cases_render_as_osip(void **state)
{
    (void)state;
    static const char *cases[] = {
        /* IPv6 in the Request-URI and Via, a port-less Via with a comment */
        "INVITE sip:b@[2001:db8::1]:5062;transport=udp SIP/2.0\r\n"
        "Via: SIP/2.0/UDP [2001:db8::2]:5060;rport;branch=z9hG4bK2\r\n"
        "Via: SIP/2.0/TCP host.example.com;branch=z9hG4bK3 (old proxy)\r\n"
        "From: \"Alice A.\" <sip:a@example.com>;tag=1\r\n"
        "To: Bob <sip:b@example.com>\r\n"
        "Call-ID: nohost\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
        /* escaped user, password, URI parameters and headers */
        "INVITE sip:%61lice%20smith:p%3Bw@example.com;x-obr=1;na%20me=v%3Dl;lr?Subject=hi%26bye"
        "&h=1 SIP/2.0\r\n" HEAD "CSeq: 1 INVITE\r\n"
        "Contact: <sip:user%40x;t@192.0.2.9:5070;ob>;expires=60;+sip.instance=\"<urn:x>\"\r\n"
        "Content-Length: 0\r\n\r\n",
        /* Route set, star Contact, Content-Type parameters, odd unknown headers */
        "REGISTER sip:example.com SIP/2.0\r\n" HEAD "CSeq: 1 REGISTER\r\n"
        "Route: <sip:p1.example.com;lr>\r\nRoute: <sip:p2.example.com;lr>,<sip:p3;lr>\r\n"
        "Record-Route: <sip:rr.example.com;lr>;foo=bar\r\n"
        "Contact: *\r\nExpires: 0\r\nX-empty:\r\nx-lower: v\r\nMax-Forwards: 70\r\n"
        "Content-Type: text/plain;charset=utf-8;q=\"x y\"\r\n"
        "Content-Length: 5\r\n\r\nhello",
        /* a non-SIP Request-URI and a response with an empty reason */
        "INVITE tel:+1-555-0100;phone-context=example.com SIP/2.0\r\n" HEAD "CSeq: 1 INVITE\r\n"
        "Content-Length: 0\r\n\r\n",
        /* sip_parse keeps a multipart body whole (Mime-Version as a plain
         * header), so it is one body here */
        "MESSAGE sip:b@example.com SIP/2.0\r\n" HEAD "CSeq: 1 MESSAGE\r\nMime-Version: 1.0\r\n"
        "Content-Type: multipart/mixed;boundary=bnd\r\nContent-Length: 25\r\n\r\n"
        "--bnd\r\n\r\npart1\r\n--bnd--\r\n",
        "SIP/2.0 183 \r\n" HEAD "CSeq: 1 INVITE\r\nContent-Type: application/sdp\r\n"
        "Content-Length: 10\r\n\r\nv=0\r\no=x\r\n",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        osip_message_t *m = sip_text(cases[i]);
        char what[32];
        snprintf(what, sizeof what, "edge case %zu", i);
        assert_int_equal(compare_with_osip(m, what), 0);
        sip_free(m);
    }
}

/* What the daemons do to a message before sending it. */
static void edited_messages_render_as_osip(void **state)
{
    (void)state;
    osip_message_t *m = sip_fixture("patent/fig5a_invite.sip");
    osip_via_t *v = NULL;
    assert_int_equal(osip_via_init(&v), 0);
    osip_via_set_version(v, osip_strdup("2.0"));
    osip_via_set_protocol(v, osip_strdup("UDP"));
    osip_via_set_host(v, osip_strdup("2001:db8::5"));
    osip_via_set_branch(v, osip_strdup("z9hG4bKedit"));
    osip_list_add(&m->vias, v, 0);
    osip_message_set_header(m, "P-Added", NULL);
    osip_message_set_record_route(m, "<sip:192.0.2.7;lr>");
    assert_int_equal(compare_with_osip(m, "edited INVITE"), 0);
    sip_free(m);
}

/* proxyd's challenges (issue #14) render as osip writes them: every
 * field, several headers, next to Contact, Allow and unknown headers. */
static void challenges_render_as_osip(void **state)
{
    (void)state;
    static const char *cases[] = {
        "SIP/2.0 401 Unauthorized\r\n" HEAD "CSeq: 1 REGISTER\r\n"
        "Contact: <sip:a@192.0.2.1>;expires=60\r\n"
        "WWW-Authenticate: Digest realm=\"pinhole.test\", nonce=\"0123abcd\", "
        "algorithm=SHA-512-256, qop=\"auth\"\r\n"
        "WWW-Authenticate: Digest realm=\"pinhole.test\", nonce=\"0123abcd\", "
        "algorithm=SHA-256, qop=\"auth\", stale=true\r\n"
        "WWW-Authenticate: Digest realm=\"pinhole.test\", domain=\"sip:x\", nonce=\"0123abcd\", "
        "opaque=\"op\", algorithm=MD5, qop=\"auth\"\r\n"
        "Allow: INVITE, ACK\r\nX-Other: 1\r\nContent-Length: 0\r\n\r\n",
        "SIP/2.0 407 Proxy Authentication Required\r\n" HEAD "CSeq: 1 INVITE\r\n"
        "Proxy-Authenticate: Digest realm=\"pinhole.test\", nonce=\"ab\", algorithm=MD5, "
        "qop=\"auth\"\r\nContent-Type: application/sdp\r\nContent-Length: 4\r\n\r\nv=0\n",
        "SIP/2.0 401 Unauthorized\r\n" HEAD "CSeq: 1 REGISTER\r\n"
        "WWW-Authenticate: Digest realm=\"r\", nonce=\"n\"\r\n"
        "Proxy-Authenticate: Digest realm=\"r\", nonce=\"n\"\r\nContent-Length: 0\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        osip_message_t *m = sip_text(cases[i]);
        assert_int_equal(compare_with_osip(m, cases[i]), 0);
        sip_free(m);
    }
}

static void what_osip_renders_is_left_to_it(void **state)
{
    (void)state;
    static const char *cases[] = {
        "INVITE sip:b@example.com SIP/2.0\r\n" HEAD "CSeq: 1 INVITE\r\n"
        "Authorization: Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"sip:b\", "
        "response=\"0123456789abcdef0123456789abcdef\"\r\nContent-Length: 0\r\n\r\n",
        "OPTIONS sip:b@example.com SIP/2.0\r\n" HEAD "CSeq: 1 OPTIONS\r\n"
        "Allow: INVITE, ACK\r\nAccept: application/sdp\r\nContent-Length: 0\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        osip_message_t *m = sip_text(cases[i]);
        size_t n;
        assert_int_equal(sip_render(m, render_buf, sizeof render_buf, &n), -ENOTSUP);
        /* sip_serialize hands these to osip: osip's padded Content-Length */
        char *text = NULL;
        assert_int_equal(sip_serialize(m, &text, &n), 0);
        osip_message_force_update(m);
        char *want = NULL;
        size_t wn = 0;
        assert_int_equal(osip_message_to_str(m, &want, &wn), 0);
        assert_int_equal(n, wn);
        assert_memory_equal(text, want, n);
        osip_free(want);
        osip_free(text);
        sip_free(m);
    }
}

static void serialize_takes_the_fast_path(void **state)
{
    (void)state;
    osip_message_t *m = sip_fixture("patent/fig5a_invite.sip");
    size_t n = 0, rn = 0;
    char *text = NULL;
    assert_int_equal(sip_serialize(m, &text, &n), 0);
    assert_int_equal(sip_render(m, render_buf, sizeof render_buf, &rn), 0);
    assert_int_equal(n, rn);
    assert_memory_equal(text, render_buf, n);
    assert_int_equal(text[n], '\0');
    /* unpadded: only sip_render writes it so */
    const osip_body_t *b = osip_list_get(&m->bodies, 0);
    char cl[48];
    snprintf(cl, sizeof cl, "\r\nContent-Length: %zu\r\n\r\n", b->length);
    assert_non_null(strstr(text, cl));
    osip_free(text);
    sip_free(m);
}

static void a_short_buffer_is_refused(void **state)
{
    (void)state;
    osip_message_t *m = sip_fixture("patent/fig5a_invite.sip");
    size_t n = 0;
    char small[64];
    assert_int_equal(sip_render(m, small, sizeof small, &n), -EMSGSIZE);
    assert_int_equal(sip_render(m, render_buf, 0, &n), -EMSGSIZE);
    sip_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_fixture_renders_as_osip),
        cmocka_unit_test(every_torture_message_renders_as_osip),
        cmocka_unit_test(edge_cases_render_as_osip),
        cmocka_unit_test(edited_messages_render_as_osip),
        cmocka_unit_test(challenges_render_as_osip),
        cmocka_unit_test(what_osip_renders_is_left_to_it),
        cmocka_unit_test(serialize_takes_the_fast_path),
        cmocka_unit_test(a_short_buffer_is_refused),
    };
    return cmocka_run_group_tests(tests, sip_test_setup, NULL);
}

/* sip_parse / sip_serialize / sip_clone and the readers, on fixtures and on
 * hostile input (truncation, size, NUL bytes, header floods). */
#include "helpers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pinhole/sip.h"

static const char minimal[] = "OPTIONS sip:bob@192.0.2.20 SIP/2.0\r\n"
                              "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKmin\r\n"
                              "From: <sip:alice@example.com>;tag=1\r\n"
                              "To: <sip:bob@example.com>\r\n"
                              "Call-ID: min@192.0.2.1\r\n"
                              "CSeq: 1 OPTIONS\r\n"
                              "Content-Length: 0\r\n"
                              "\r\n";

/* Parses text; returns the error code, *m owns an answerable message. */
static enum sip_parse_error parse_error(const char *text, size_t len, bool *answerable)
{
    struct sip_parse_result res;
    osip_message_t *m = NULL;
    int rc = sip_parse(&m, text, len, &res);
    if (rc == 0) {
        assert_int_equal(res.error, SIP_PARSE_OK);
        sip_free(m);
        return SIP_PARSE_OK;
    }
    assert_int_not_equal(res.error, SIP_PARSE_OK);
    assert_non_null(res.reason);
    assert_int_equal(m != NULL, res.answerable);
    if (answerable)
        *answerable = res.answerable;
    sip_free(m);
    return res.error;
}

/* text with `from` replaced by `to` (once); malloc'd. */
static char *replace(const char *text, const char *from, const char *to)
{
    const char *at = strstr(text, from);
    assert_non_null(at);
    size_t n = strlen(text) - strlen(from) + strlen(to);
    char *out = malloc(n + 1);
    assert_non_null(out);
    size_t head = (size_t)(at - text);
    memcpy(out, text, head);
    strcpy(out + head, to);
    strcat(out, at + strlen(from));
    return out;
}

static enum sip_parse_error minimal_with(const char *from, const char *to, bool *answerable)
{
    char *t = replace(minimal, from, to);
    enum sip_parse_error e = parse_error(t, strlen(t), answerable);
    free(t);
    return e;
}

static void reads_an_invite(void **state)
{
    char cid[64];
    uint32_t num;
    const char *meth;
    (void)state;

    osip_message_t *m = sip_fixture("sip/invite.sip");
    assert_true(sip_is_request(m));
    assert_string_equal(sip_method(m), "INVITE");
    assert_true(sip_method_is(m, "INVITE"));
    assert_false(sip_method_is(m, "invite")); /* methods are case-sensitive */
    assert_int_equal(sip_status(m), 0);
    assert_int_equal(sip_call_id(m, cid, sizeof cid), 0);
    assert_string_equal(cid, "a84b4c76e66710@pc33.example.com");
    assert_int_equal(sip_call_id(m, cid, 10), -ENOSPC);
    assert_int_equal(sip_cseq(m, &num, &meth), 0);
    assert_int_equal(num, 314159);
    assert_string_equal(meth, "INVITE");
    assert_string_equal(sip_from_tag(m), "1928301774");
    assert_null(sip_to_tag(m));
    assert_string_equal(sip_to_user(m), "bob");
    assert_string_equal(sip_request_uri_user(m), "bob");
    assert_true(sip_request_uri_is_sip(m));
    sip_free(m);
}

static void reads_a_response(void **state)
{
    (void)state;
    osip_message_t *m = sip_fixture("sip/response_200.sip");
    assert_false(sip_is_request(m));
    assert_null(sip_method(m));
    assert_int_equal(sip_status(m), 200);
    assert_false(sip_method_is(m, "INVITE"));
    assert_string_equal(sip_to_tag(m), "a6c85cf");
    assert_null(sip_request_uri_user(m));
    assert_false(sip_request_uri_is_sip(m));
    sip_free(m);
}

static void compact_headers_are_understood(void **state)
{
    char cid[64];
    (void)state;
    osip_message_t *m = sip_fixture("sip/options_compact.sip");
    assert_int_equal(sip_call_id(m, cid, sizeof cid), 0);
    assert_string_equal(cid, "compact-1@client.example.com");
    assert_string_equal(sip_to_user(m), "carol");
    assert_string_equal(sip_from_tag(m), "c1");
    assert_int_equal(sip_via_count(m), 1);
    assert_int_equal(sip_contact_count(m), 1);
    sip_free(m);
}

/* The Content-Length header of serialized text and the bytes after the
 * blank line. */
static void split_serialized(const char *text, size_t len, long *cl, size_t *body)
{
    const char *end = strstr(text, "\r\n\r\n");
    const char *h = strstr(text, "\r\nContent-Length:");
    assert_non_null(end);
    assert_non_null(h);
    assert_true(h < end);
    const char *again = strstr(h + 2, "\r\nContent-Length:");
    assert_true(again == NULL || again > end); /* exactly one */
    *cl = strtol(h + 17, NULL, 10);
    *body = len - (size_t)(end + 4 - text);
}

static void serialize_round_trips_with_a_correct_length(void **state)
{
    char *text;
    size_t len, body;
    long cl;
    const char *b1, *b2;
    size_t l1, l2;
    (void)state;

    osip_message_t *m = sip_fixture("sip/invite.sip");
    assert_int_equal(sip_serialize(m, &text, &len), 0);
    assert_int_equal(strlen(text), len);
    split_serialized(text, len, &cl, &body);
    assert_int_equal(cl, 132);
    assert_int_equal(body, 132);

    osip_message_t *again;
    struct sip_parse_result res;
    assert_int_equal(sip_parse(&again, text, len, &res), 0);
    assert_int_equal(sip_body_get(m, &b1, &l1), 0);
    assert_int_equal(sip_body_get(again, &b2, &l2), 0);
    assert_int_equal(l1, l2);
    assert_memory_equal(b1, b2, l1);
    assert_string_equal(sip_from_tag(again), "1928301774");
    osip_free(text);
    sip_free(again);

    /* a changed body changes the length on the wire */
    assert_int_equal(sip_body_set(m, "v=0\r\n", 5, "application/sdp"), 0);
    assert_int_equal(sip_serialize(m, &text, &len), 0);
    split_serialized(text, len, &cl, &body);
    assert_int_equal(cl, 5);
    assert_int_equal(body, 5);
    osip_free(text);
    sip_free(m);
}

static void serialize_reflects_later_changes(void **state)
{
    char *t1, *t2;
    size_t l1, l2;
    (void)state;
    osip_message_t *m = sip_fixture("sip/register.sip");
    assert_int_equal(sip_serialize(m, &t1, &l1), 0);
    /* a change made straight in the osip structure, as our setters do */
    assert_int_equal(sip_via_set_received(m, &(struct addr){0}), -EINVAL);
    struct addr src = test_addr("203.0.113.7:40001");
    assert_int_equal(sip_via_set_received(m, &src), 0);
    assert_int_equal(sip_serialize(m, &t2, &l2), 0);
    assert_null(strstr(t1, "received="));
    assert_non_null(strstr(t2, "received=203.0.113.7"));
    osip_free(t1);
    osip_free(t2);
    sip_free(m);
}

static void bytes_after_content_length_are_ignored(void **state)
{
    char buf[1024];
    const char *body;
    size_t len;
    struct sip_parse_result res;
    osip_message_t *m;
    (void)state;

    char *t = replace(minimal, "Content-Length: 0", "Content-Length: 4");
    int n = snprintf(buf, sizeof buf, "%sabcdINVITE sip:x@y SIP/2.0\r\n\r\n", t);
    free(t);
    assert_int_equal(sip_parse(&m, buf, (size_t)n, &res), 0);
    assert_int_equal(sip_body_get(m, &body, &len), 0);
    assert_int_equal(len, 4);
    assert_memory_equal(body, "abcd", 4);
    sip_free(m);
}

static void missing_content_length_takes_the_rest(void **state)
{
    const char *body;
    size_t len;
    struct sip_parse_result res;
    osip_message_t *m;
    (void)state;
    char *t = replace(minimal, "Content-Length: 0\r\n\r\n", "\r\nhello");
    assert_int_equal(sip_parse(&m, t, strlen(t), &res), 0);
    assert_int_equal(sip_body_get(m, &body, &len), 0);
    assert_int_equal(len, 5);
    assert_memory_equal(body, "hello", 5);
    free(t);
    sip_free(m);
}

static void content_length_errors(void **state)
{
    bool ans = false;
    (void)state;
    assert_int_equal(minimal_with("Content-Length: 0", "Content-Length: 10", &ans),
                     SIP_PARSE_BAD_LENGTH);
    assert_true(ans); /* RFC 3261 18.3: a request gets a 400 */
    assert_int_equal(minimal_with("Content-Length: 0", "Content-Length: -1", NULL),
                     SIP_PARSE_BAD_LENGTH);
    assert_int_equal(minimal_with("Content-Length: 0", "Content-Length: 0x10", NULL),
                     SIP_PARSE_BAD_LENGTH);
    assert_int_equal(minimal_with("Content-Length: 0", "Content-Length: ", NULL),
                     SIP_PARSE_BAD_LENGTH);
    assert_int_equal(
        minimal_with("Content-Length: 0", "Content-Length: 99999999999999999999", NULL),
        SIP_PARSE_BAD_LENGTH);
    assert_int_equal(minimal_with("Content-Length: 0", "Content-Length: 0\r\nl: 0", NULL),
                     SIP_PARSE_BAD_LENGTH);
    assert_int_equal(minimal_with("Content-Length: 0", "content-length   :   0  ", NULL),
                     SIP_PARSE_OK);
}

static void required_headers(void **state)
{
    bool ans = true;
    (void)state;
    assert_int_equal(minimal_with("Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKmin\r\n", "", &ans),
                     SIP_PARSE_MISSING);
    assert_false(ans);
    assert_int_equal(minimal_with("Call-ID: min@192.0.2.1\r\n", "", NULL), SIP_PARSE_MISSING);
    assert_int_equal(minimal_with("CSeq: 1 OPTIONS\r\n", "", NULL), SIP_PARSE_MISSING);
    assert_int_equal(minimal_with("From: <sip:alice@example.com>;tag=1\r\n", "", NULL),
                     SIP_PARSE_MISSING);
    assert_int_equal(minimal_with("To: <sip:bob@example.com>\r\n", "", NULL), SIP_PARSE_MISSING);
    assert_int_equal(minimal_with("Call-ID: min@192.0.2.1\r\n", "Call-ID: a@b\r\ni: c@d\r\n", NULL),
                     SIP_PARSE_MISSING);
    assert_int_equal(
        minimal_with("CSeq: 1 OPTIONS\r\n", "CSeq: 1 OPTIONS\r\nCSeq: 2 OPTIONS\r\n", NULL),
        SIP_PARSE_MISSING);
}

static void cseq_checks(void **state)
{
    bool ans = false;
    (void)state;
    assert_int_equal(minimal_with("CSeq: 1 OPTIONS", "CSeq: 2147483647 OPTIONS", NULL),
                     SIP_PARSE_OK);
    assert_int_equal(minimal_with("CSeq: 1 OPTIONS", "CSeq: 2147483648 OPTIONS", &ans),
                     SIP_PARSE_BAD_CSEQ);
    assert_true(ans);
    assert_int_equal(minimal_with("CSeq: 1 OPTIONS", "CSeq: 1 INVITE", NULL), SIP_PARSE_BAD_CSEQ);
    assert_int_equal(minimal_with("CSeq: 1 OPTIONS", "CSeq: 1 options", NULL), SIP_PARSE_BAD_CSEQ);
    assert_int_equal(minimal_with("CSeq: 1 OPTIONS", "CSeq: -1 OPTIONS", NULL), SIP_PARSE_BAD_CSEQ);
}

static void start_line_checks(void **state)
{
    bool ans = false;
    (void)state;
    assert_int_equal(minimal_with("SIP/2.0\r\n", "SIP/3.0\r\n", &ans), SIP_PARSE_VERSION);
    assert_true(ans);
    assert_int_equal(minimal_with("SIP/2.0\r\n", "sip/2.0\r\n", NULL), SIP_PARSE_OK);
    assert_int_equal(minimal_with("SIP/2.0\r\n", "SIP/2.0 \r\n", NULL), SIP_PARSE_MALFORMED);
    assert_int_equal(minimal_with("SIP/2.0\r\n", "HTTP/1.1\r\n", NULL), SIP_PARSE_MALFORMED);
    assert_int_equal(minimal_with("OPTIONS sip", "OPTIONS  sip", NULL), SIP_PARSE_MALFORMED);
    assert_int_equal(minimal_with("OPTIONS sip", "OPT IONS sip", NULL), SIP_PARSE_MALFORMED);
    assert_int_equal(minimal_with("OPTIONS sip", "OPT\"IONS sip", NULL), SIP_PARSE_MALFORMED);
    assert_int_equal(minimal_with("sip:bob@192.0.2.20", "<sip:bob@192.0.2.20>", NULL),
                     SIP_PARSE_MALFORMED);
    assert_int_equal(minimal_with("sip:bob@192.0.2.20", "bob@192.0.2.20", NULL),
                     SIP_PARSE_MALFORMED);
}

static void status_line_checks(void **state)
{
    static const char resp[] = "SIP/2.0 200 OK\r\n"
                               "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKmin\r\n"
                               "From: <sip:alice@example.com>;tag=1\r\n"
                               "To: <sip:bob@example.com>;tag=2\r\n"
                               "Call-ID: min@192.0.2.1\r\n"
                               "CSeq: 1 OPTIONS\r\n"
                               "Content-Length: 0\r\n\r\n";
    static const char *const bad[] = {
        "SIP/2.0 099 Odd", "SIP/2.0 700 Odd", "SIP/2.0 20 OK",  "SIP/2.0 2000 OK",
        "SIP/2.0  200 OK", "SIP/2.0 200",     "SIP/2.0 2x0 OK", NULL};
    bool ans = true;
    (void)state;
    assert_int_equal(parse_error(resp, strlen(resp), NULL), SIP_PARSE_OK);
    for (int i = 0; bad[i]; i++) {
        char *t = replace(resp, "SIP/2.0 200 OK", bad[i]);
        if (parse_error(t, strlen(t), NULL) != SIP_PARSE_MALFORMED)
            fail_msg("accepted \"%s\"", bad[i]);
        free(t);
    }
    char *t = replace(resp, "SIP/2.0 200 OK", "SIP/2.1 200 OK");
    assert_int_equal(parse_error(t, strlen(t), &ans), SIP_PARSE_VERSION);
    assert_false(ans); /* a response is never answered */
    free(t);
    t = replace(resp, "SIP/2.0 200 OK", "SIP/2.0 699 ");
    assert_int_equal(parse_error(t, strlen(t), NULL), SIP_PARSE_OK);
    free(t);
}

static void header_syntax_checks(void **state)
{
    (void)state;
    /* a header line without a colon, a fold with nothing above it */
    assert_int_equal(
        minimal_with("Content-Length: 0\r\n", "Content-Length: 0\r\nBogus line\r\n", NULL),
        SIP_PARSE_MALFORMED);
    assert_int_equal(minimal_with("SIP/2.0\r\n", "SIP/2.0\r\n folded\r\n", NULL),
                     SIP_PARSE_MALFORMED);
    /* unterminated quotes, empty Via/Contact elements */
    assert_int_equal(
        minimal_with("<sip:alice@example.com>", "\"Alice <sip:alice@example.com>", NULL),
        SIP_PARSE_MALFORMED);
    assert_int_equal(minimal_with("branch=z9hG4bKmin", "branch=z9hG4bKmin;;", NULL),
                     SIP_PARSE_MALFORMED);
    assert_int_equal(minimal_with("CSeq: 1 OPTIONS\r\n",
                                  "CSeq: 1 OPTIONS\r\nContact: <sip:a@b>,,<sip:c@d>\r\n", NULL),
                     SIP_PARSE_MALFORMED);
    /* folding and odd spacing are fine */
    assert_int_equal(
        minimal_with("To: <sip:bob@example.com>", "TO   :\r\n  <sip:bob@example.com>", NULL),
        SIP_PARSE_OK);
    /* RFC 3261 7.5: CRLFs before the start line are ignored */
    char *t = malloc(sizeof minimal + 4);
    assert_non_null(t);
    strcpy(t, "\r\n\r\n");
    strcat(t, minimal);
    assert_int_equal(parse_error(t, strlen(t), NULL), SIP_PARSE_OK);
    free(t);
    assert_int_equal(parse_error("\r\n\r\n", 4, NULL), SIP_PARSE_MALFORMED);
    assert_int_equal(parse_error("", 0, NULL), SIP_PARSE_MALFORMED);
}

static void bare_lf_line_ends_are_accepted(void **state)
{
    char buf[sizeof minimal];
    size_t o = 0;
    (void)state;
    for (const char *p = minimal; *p; p++)
        if (*p != '\r')
            buf[o++] = *p;
    assert_int_equal(parse_error(buf, o, NULL), SIP_PARSE_OK);
}

static void too_big_is_refused(void **state)
{
    size_t len = 70 * 1024;
    char *buf = malloc(len);
    struct sip_parse_result res;
    osip_message_t *m = (osip_message_t *)1;
    (void)state;
    assert_non_null(buf);
    memset(buf, 'a', len);
    memcpy(buf, minimal, strlen(minimal));
    assert_int_equal(sip_parse(&m, buf, len, &res), -EMSGSIZE);
    assert_int_equal(res.error, SIP_PARSE_TOO_BIG);
    assert_null(m);
    assert_false(res.answerable);
    /* exactly the limit is still parsed (the bytes after Content-Length: 0
     * are ignored) */
    assert_int_equal(sip_parse(&m, buf, SIP_MAX_MESSAGE, &res), 0);
    sip_free(m);
    free(buf);
}

static void a_60k_header_parses(void **state)
{
    size_t big = 60 * 1024;
    char *buf = malloc(big + 512);
    struct sip_parse_result res;
    osip_message_t *m;
    (void)state;
    assert_non_null(buf);
    const char *cut = strstr(minimal, "Content-Length");
    size_t head = (size_t)(cut - minimal);
    memcpy(buf, minimal, head);
    memcpy(buf + head, "X-Big: ", 7);
    memset(buf + head + 7, 'x', big);
    strcpy(buf + head + 7 + big, "\r\n");
    strcat(buf, cut);
    assert_true(strlen(buf) <= SIP_MAX_MESSAGE);
    assert_int_equal(sip_parse(&m, buf, strlen(buf), &res), 0);
    assert_int_equal(strlen(sip_header_get(m, "X-Big")), big);
    sip_free(m);
    free(buf);
}

/* A request of `vias` Via headers. */
static size_t with_vias(char *buf, int vias)
{
    size_t o = (size_t)sprintf(buf, "OPTIONS sip:bob@192.0.2.20 SIP/2.0\r\n");
    for (int i = 0; i < vias; i++)
        o += (size_t)sprintf(buf + o, "Via: SIP/2.0/UDP 10.%d.%d.1;branch=z9hG4bK%d\r\n", i / 250,
                             i % 250, i);
    o += (size_t)sprintf(buf + o, "%s", strstr(minimal, "From:"));
    assert_true(o <= SIP_MAX_MESSAGE);
    return o;
}

static void refused(const char *buf, size_t len, const char *why)
{
    struct sip_parse_result res;
    osip_message_t *m = NULL;
    assert_int_equal(sip_parse(&m, buf, len, &res), -EINVAL);
    assert_null(m);
    assert_int_equal(res.error, SIP_PARSE_MALFORMED);
    assert_false(res.answerable);
    assert_string_equal(res.reason, why);
}

/* Issue #15: 70 Vias parse, the 71st (in a header of its own or as a list
 * element) refuses the datagram before osip sees it. */
static void seventy_vias_and_no_more(void **state)
{
    char *buf = malloc(SIP_MAX_MESSAGE);
    osip_message_t *m;
    struct sip_via_info vi;
    (void)state;
    assert_non_null(buf);
    size_t o = with_vias(buf, SIP_MAX_VIAS);
    assert_int_equal(sip_parse(&m, buf, o, NULL), 0);
    assert_int_equal(sip_via_count(m), SIP_MAX_VIAS);
    assert_int_equal(sip_via_get(m, SIP_MAX_VIAS - 1, &vi), 0);
    assert_string_equal(vi.branch, "z9hG4bK69");
    sip_free(m);
    o = with_vias(buf, SIP_MAX_VIAS + 1);
    refused(buf, o, "over 70 Via values");
    /* the same count as one list */
    char *p = strstr(strstr(buf, "\r\nVia: ") + 2, "\r\nVia: "); /* the second Via */
    *p = ',';
    memmove(p + 1, p + 7, o - (size_t)(p + 7 - buf));
    refused(buf, o - 6, "over 70 Via values");
    free(buf);
}

/* `n` copies of `unit` (NUL-free) after `head`, then `tail`. */
static size_t bomb(char *buf, const char *head, const char *unit, int n, const char *tail)
{
    size_t o = (size_t)sprintf(buf, "%s", head);
    for (int i = 0; i < n; i++)
        o += (size_t)sprintf(buf + o, "%s", unit);
    o += (size_t)sprintf(buf + o, "%s", tail);
    assert_true(o <= SIP_MAX_MESSAGE);
    return o;
}

/* The reported bomb (15,000 ";p=1" on a To) and its cousins: the
 * parameters of a header, of a URI in it, of a header osip parses itself
 * (Content-Type), of the Request-URI; 64 still parse. */
static void parameter_bombs_are_refused_before_osip(void **state)
{
    char *buf = malloc(SIP_MAX_MESSAGE);
    osip_message_t *m;
    (void)state;
    assert_non_null(buf);
    const char *from = strstr(minimal, "From:");
    char head[512];
    snprintf(head, sizeof head,
             "OPTIONS sip:bob@192.0.2.20 SIP/2.0\r\n"
             "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKb1\r\nTo: <sip:bob@x>");
    const char *rest = strstr(from, "\r\n") + 2; /* after From, without To */
    char tail[1024];
    snprintf(tail, sizeof tail, "\r\nFrom: <sip:a@x>;tag=1\r\n%s", strstr(rest, "Call-ID:"));

    size_t o = bomb(buf, head, ";p=1", SIP_MAX_PARAMS, tail);
    assert_int_equal(sip_parse(&m, buf, o, NULL), 0);
    sip_free(m);
    o = bomb(buf, head, ";p=1", SIP_MAX_PARAMS + 1, tail);
    refused(buf, o, "over 64 parameters in a header value");
    o = bomb(buf, head, ";p=1", 15000, tail);
    refused(buf, o, "over 64 parameters in a header value");

    snprintf(head, sizeof head,
             "OPTIONS sip:bob@192.0.2.20 SIP/2.0\r\n"
             "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKb1\r\nTo: <sip:bob@x");
    char tail2[1100];
    snprintf(tail2, sizeof tail2, ">%s", tail);
    o = bomb(buf, head, ";u=1", 5000, tail2); /* URI parameters inside <> */
    refused(buf, o, "over 64 parameters in a header value");

    snprintf(head, sizeof head,
             "OPTIONS sip:bob@192.0.2.20 SIP/2.0\r\n"
             "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKb1\r\nTo: <sip:bob@x>\r\n"
             "Content-Type: application/sdp");
    o = bomb(buf, head, ";c=1", 5000, tail + 2);
    refused(buf, o, "over 64 parameters in a header value");

    o = bomb(buf, "OPTIONS sip:bob@192.0.2.20", ";r=1", 5000,
             " SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKb1\r\nTo: <sip:bob@x>");
    o += (size_t)sprintf(buf + o, "%s", tail);
    refused(buf, o, "over 64 parameters in the Request-URI");
    free(buf);
}

/* 256 header values in all, list elements counted (osip keeps each in a
 * list of its own). */
static void two_hundred_fifty_six_header_values_and_no_more(void **state)
{
    char *buf = malloc(SIP_MAX_MESSAGE);
    osip_message_t *m;
    (void)state;
    assert_non_null(buf);
    const char *from = strstr(minimal, "From:");
    size_t fixed = 0; /* the header lines of `minimal` from From on, and its one Via */
    for (const char *p = from; (p = strstr(p, "\r\n")) && p[2] != '\r'; p += 2)
        fixed++;
    fixed += 2; /* its last line, and the Via */
    char head[256];
    snprintf(head, sizeof head,
             "OPTIONS sip:bob@192.0.2.20 SIP/2.0\r\n"
             "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKb1\r\n");
    size_t o = bomb(buf, head, "X-A: 1\r\n", (int)(SIP_MAX_HEADERS - fixed), from);
    assert_int_equal(sip_parse(&m, buf, o, NULL), 0);
    sip_free(m);
    o = bomb(buf, head, "X-A: 1\r\n", (int)(SIP_MAX_HEADERS - fixed + 1), from);
    refused(buf, o, "over 256 header values");
    snprintf(head, sizeof head,
             "OPTIONS sip:bob@192.0.2.20 SIP/2.0\r\n"
             "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKb1\r\nAllow: A");
    char tail[1024];
    snprintf(tail, sizeof tail, "\r\n%s", from);
    o = bomb(buf, head, ",A", 20000, tail);
    refused(buf, o, "over 256 header values");
    free(buf);
}

static void every_prefix_parses_or_fails_cleanly(void **state)
{
    size_t len;
    (void)state;
    char *full = fixture_read_sip("sip/invite.sip", &len);
    size_t headers_end = (size_t)(strstr(full, "\r\n\r\n") + 4 - full);
    for (size_t n = 0; n <= len; n++) {
        /* an exact-size copy so that ASan catches any read past n */
        char *buf = malloc(n ? n : 1);
        assert_non_null(buf);
        memcpy(buf, full, n);
        bool ans = false;
        enum sip_parse_error e = parse_error(buf, n, &ans);
        if (n < headers_end && e == SIP_PARSE_OK)
            fail_msg("prefix %zu without the blank line parsed", n);
        if (n >= headers_end && n < len && (e != SIP_PARSE_BAD_LENGTH || !ans))
            fail_msg("prefix %zu with a short body: error %d answerable %d", n, e, ans);
        if (n == len && e != SIP_PARSE_OK)
            fail_msg("the whole message failed: %d", e);
        free(buf);
    }
    free(full);
}

static void nul_bytes(void **state)
{
    char buf[sizeof minimal + 16];
    const char *body;
    size_t len, n = strlen(minimal);
    struct sip_parse_result res;
    osip_message_t *m;
    (void)state;

    /* in a header: refused, whatever the header */
    for (const char *hdr = strstr(minimal, "Via"); hdr; hdr = strstr(hdr + 1, "\r\n")) {
        size_t at = (size_t)(hdr - minimal) + 6;
        if (at >= n - 4)
            break;
        memcpy(buf, minimal, n);
        buf[at] = '\0';
        assert_int_equal(sip_parse(&m, buf, n, &res), -EINVAL);
        assert_null(m);
    }
    /* in the start line */
    memcpy(buf, minimal, n);
    buf[10] = '\0';
    assert_int_equal(parse_error(buf, n, NULL), SIP_PARSE_MALFORMED);
    /* in the body: kept */
    char *t = replace(minimal, "Content-Length: 0\r\n\r\n", "Content-Length: 3\r\n\r\na");
    n = strlen(t);
    memcpy(buf, t, n);
    buf[n] = '\0';
    buf[n + 1] = 'b';
    free(t);
    assert_int_equal(sip_parse(&m, buf, n + 2, &res), 0);
    assert_int_equal(sip_body_get(m, &body, &len), 0);
    assert_int_equal(len, 3);
    assert_memory_equal(body, "a\0b", 3);
    sip_free(m);
}

static void escaped_nul_in_a_display_name(void **state)
{
    char buf[sizeof minimal + 32];
    (void)state;
    char *t = replace(minimal, "<sip:alice@example.com>", "\"A\\?B\" <sip:alice@example.com>");
    size_t n = strlen(t);
    memcpy(buf, t, n);
    *strchr(buf, '?') = '\0';
    free(t);
    assert_int_equal(parse_error(buf, n, NULL), SIP_PARSE_OK);
}

static void bad_utf8_and_control_bytes(void **state)
{
    (void)state;
    /* invalid UTF-8 in a free-text header: not ours to judge, osip keeps it */
    assert_int_equal(
        minimal_with("Content-Length: 0", "Subject: \xff\xfe\xc3(\x80\r\nContent-Length: 0", NULL),
        SIP_PARSE_OK);
    /* a lone CR inside a header cannot be framed */
    assert_int_equal(minimal_with("Call-ID: min@192.0.2.1", "Call-ID: min\r@192.0.2.1", NULL),
                     SIP_PARSE_MALFORMED);
    /* invalid UTF-8 in the Request-URI is refused */
    assert_int_equal(minimal_with("sip:bob@", "sip:b\xc3\x28ob@", NULL), SIP_PARSE_MALFORMED);
}

static void garbage_does_not_crash(void **state)
{
    static const char *const junk[] = {
        "\x00\x01\x02",
        "SIP/2.0",
        "INVITE",
        "INVITE sip:a@b SIP/2.0\r\n",
        "INVITE sip:a@b SIP/2.0\r\n\r\n",
        "INVITE sip:a@b SIP/2.0\r\nVia: \r\n\r\n",
        "INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP\r\nFrom: <>\r\nTo: <\r\nCall-ID: \r\nCSeq: "
        "\r\n\r\n",
        "INVITE sip:a@b SIP/2.0\r\nTo: \"\\\r\n\r\n",
        "SIP/2.0 200 OK\r\nCSeq: 1 INVITE\r\n\r\n",
        NULL};
    (void)state;
    for (int i = 0; junk[i]; i++) {
        size_t n = i == 0 ? 3 : strlen(junk[i]);
        assert_int_not_equal(parse_error(junk[i], n, NULL), SIP_PARSE_OK);
    }
}

static void clone_is_deep(void **state)
{
    osip_message_t *c;
    char *t1, *t2;
    size_t l1, l2;
    (void)state;
    osip_message_t *m = sip_fixture("sip/invite.sip");
    assert_int_equal(sip_clone(m, &c), 0);
    assert_int_equal(sip_max_forwards_decrement(c), 69);
    assert_string_equal(sip_header_get(m, "Max-Forwards"), "70");
    assert_string_equal(sip_header_get(c, "Max-Forwards"), "69");
    assert_int_equal(sip_serialize(m, &t1, &l1), 0);
    assert_int_equal(sip_serialize(c, &t2, &l2), 0);
    assert_int_equal(l1, l2);
    assert_int_not_equal(memcmp(t1, t2, l1), 0);
    sip_free(m); /* the clone outlives the original */
    assert_string_equal(sip_from_tag(c), "1928301774");
    osip_free(t1);
    osip_free(t2);
    sip_free(c);
    sip_free(NULL);
}

static void null_result_is_allowed(void **state)
{
    osip_message_t *m;
    (void)state;
    assert_int_equal(sip_parse(&m, minimal, strlen(minimal), NULL), 0);
    sip_free(m);
    assert_int_equal(sip_parse(&m, "x", 1, NULL), -EINVAL);
    assert_null(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reads_an_invite),
        cmocka_unit_test(reads_a_response),
        cmocka_unit_test(compact_headers_are_understood),
        cmocka_unit_test(serialize_round_trips_with_a_correct_length),
        cmocka_unit_test(serialize_reflects_later_changes),
        cmocka_unit_test(bytes_after_content_length_are_ignored),
        cmocka_unit_test(missing_content_length_takes_the_rest),
        cmocka_unit_test(content_length_errors),
        cmocka_unit_test(required_headers),
        cmocka_unit_test(cseq_checks),
        cmocka_unit_test(start_line_checks),
        cmocka_unit_test(status_line_checks),
        cmocka_unit_test(header_syntax_checks),
        cmocka_unit_test(bare_lf_line_ends_are_accepted),
        cmocka_unit_test(too_big_is_refused),
        cmocka_unit_test(a_60k_header_parses),
        cmocka_unit_test(seventy_vias_and_no_more),
        cmocka_unit_test(parameter_bombs_are_refused_before_osip),
        cmocka_unit_test(two_hundred_fifty_six_header_values_and_no_more),
        cmocka_unit_test(every_prefix_parses_or_fails_cleanly),
        cmocka_unit_test(nul_bytes),
        cmocka_unit_test(escaped_nul_in_a_display_name),
        cmocka_unit_test(bad_utf8_and_control_bytes),
        cmocka_unit_test(garbage_does_not_crash),
        cmocka_unit_test(clone_is_deep),
        cmocka_unit_test(null_result_is_allowed),
    };
    return cmocka_run_group_tests(tests, sip_test_setup, NULL);
}

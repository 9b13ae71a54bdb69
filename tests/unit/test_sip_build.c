/* Responses, the ACK for a non-2xx final response, reason phrases,
 * branches and tags. */
#include "helpers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pinhole/sip.h"

static void reason_phrases(void **state)
{
    static const struct {
        int status;
        const char *phrase;
    } want[] = {
        {100, "Trying"},
        {180, "Ringing"},
        {183, "Session Progress"},
        {200, "OK"},
        {202, "Accepted"},
        {302, "Moved Temporarily"},
        {400, "Bad Request"},
        {403, "Forbidden"},
        {404, "Not Found"},
        {405, "Method Not Allowed"},
        {408, "Request Timeout"},
        {415, "Unsupported Media Type"},
        {416, "Unsupported URI Scheme"},
        {420, "Bad Extension"},
        {481, "Call/Transaction Does Not Exist"},
        {483, "Too Many Hops"},
        {486, "Busy Here"},
        {487, "Request Terminated"},
        {488, "Not Acceptable Here"},
        {500, "Server Internal Error"},
        {503, "Service Unavailable"},
        {505, "Version Not Supported"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_string_equal(sip_reason_phrase(want[i].status), want[i].phrase);
    assert_string_equal(sip_reason_phrase(499), "Client Error");
    assert_string_equal(sip_reason_phrase(0), "Unknown");
    assert_string_equal(sip_reason_phrase(1000), "Unknown");
}

static void response_copies_the_request(void **state)
{
    osip_message_t *r;
    char *text;
    char cid[64];
    uint32_t num;
    const char *meth;
    struct sip_via_info vi;
    (void)state;
    osip_message_t *req = sip_fixture("sip/register_path.sip");
    assert_int_equal(sip_response_new(&r, req, 200, "srvtag"), 0);
    text = sip_wire(r);
    osip_message_t *peer = sip_text(text);
    assert_memory_equal(text, "SIP/2.0 200 OK\r\n", 16);
    assert_non_null(strstr(text, "Content-Length: 0\r\n\r\n"));
    assert_null(strstr(text, "Contact"));
    assert_null(strstr(text, "Path"));
    assert_int_equal(sip_status(peer), 200);
    /* every Via, in order, with the values the request carried */
    assert_int_equal(sip_via_count(peer), 2);
    assert_int_equal(sip_via_get(peer, 0, &vi), 0);
    assert_string_equal(vi.branch, "z9hG4bKproxy1");
    assert_int_equal(sip_via_get(peer, 1, &vi), 0);
    assert_string_equal(vi.branch, "z9hG4bKnashds8");
    assert_string_equal(vi.received, "203.0.113.7");
    assert_int_equal(vi.rport, 40001);
    assert_int_equal(sip_call_id(peer, cid, sizeof cid), 0);
    assert_string_equal(cid, "843817637684231@998sdasdh09");
    assert_int_equal(sip_cseq(peer, &num, &meth), 0);
    assert_int_equal(num, 1828);
    assert_string_equal(meth, "REGISTER");
    assert_string_equal(sip_from_tag(peer), "456249");
    assert_string_equal(sip_to_tag(peer), "srvtag");
    assert_string_equal(sip_to_user(peer), "alice");
    osip_free(text);
    sip_free(peer);
    sip_free(r);
    sip_free(req);
}

static void to_tag_rules(void **state)
{
    osip_message_t *r;
    (void)state;
    osip_message_t *req = sip_fixture("sip/invite.sip");

    /* RFC 3261 8.2.6.2: none on 100 Trying */
    assert_int_equal(sip_response_new(&r, req, 100, NULL), 0);
    assert_null(sip_to_tag(r));
    assert_string_equal(osip_message_get_reason_phrase(r), "Trying");
    sip_free(r);

    /* generated when not given, different each time */
    assert_int_equal(sip_response_new(&r, req, 486, NULL), 0);
    const char *t1 = sip_to_tag(r);
    assert_non_null(t1);
    assert_true(strlen(t1) >= 8);
    osip_message_t *r2;
    assert_int_equal(sip_response_new(&r2, req, 486, NULL), 0);
    assert_string_not_equal(t1, sip_to_tag(r2));
    sip_free(r);
    sip_free(r2);

    /* an in-dialog request keeps its To tag */
    osip_message_t *bye = sip_fixture("sip/bye_routed.sip");
    assert_int_equal(sip_response_new(&r, bye, 200, "other"), 0);
    assert_string_equal(sip_to_tag(r), "a6c85cf");
    sip_free(r);
    sip_free(bye);

    /* a tag is a token: nothing that would change the header */
    assert_int_equal(sip_response_new(&r, req, 200, "a;b"), -EINVAL);
    assert_null(r);
    assert_int_equal(sip_response_new(&r, req, 200, "a\r\nX: y"), -EINVAL);
    sip_free(req);
}

static void response_refuses_nonsense(void **state)
{
    osip_message_t *r = (osip_message_t *)1;
    (void)state;
    osip_message_t *req = sip_fixture("sip/invite.sip");
    assert_int_equal(sip_response_new(&r, req, 99, NULL), -EINVAL);
    assert_null(r);
    assert_int_equal(sip_response_new(&r, req, 700, NULL), -EINVAL);
    osip_message_t *resp = sip_fixture("sip/response_200.sip");
    assert_int_equal(sip_response_new(&r, resp, 400, NULL), -EINVAL);
    assert_int_equal(sip_response_new(&r, NULL, 400, NULL), -EINVAL);
    sip_free(resp);
    sip_free(req);
}

static void answering_refused_requests(void **state)
{
    size_t len;
    struct sip_parse_result res;
    osip_message_t *m, *r;
    char *text;
    (void)state;
    /* RFC 4475 3.1.2.16: 505 for SIP/7.0, built from what could be parsed */
    char *buf = fixture_read("rfc4475/badvers.dat", &len);
    assert_int_equal(sip_parse(&m, buf, len, &res), -EINVAL);
    assert_int_equal(res.error, SIP_PARSE_VERSION);
    assert_true(res.answerable);
    assert_int_equal(sip_response_new(&r, m, 505, NULL), 0);
    text = sip_wire(r);
    osip_message_t *peer = sip_text(text);
    assert_memory_equal(text, "SIP/2.0 505 Version Not Supported\r\n", 35);
    assert_string_equal(sip_from_tag(peer), "qweoiqpe");
    osip_free(text);
    sip_free(peer);
    sip_free(r);
    sip_free(m);
    free(buf);

    /* RFC 4475 3.1.2.2: 400 for a Content-Length past the datagram */
    buf = fixture_read("rfc4475/clerr.dat", &len);
    assert_int_equal(sip_parse(&m, buf, len, &res), -EINVAL);
    assert_true(res.answerable);
    assert_int_equal(sip_response_new(&r, m, 400, NULL), 0);
    peer = sip_reparse(r);
    assert_int_equal(sip_status(peer), 400);
    sip_free(peer);
    sip_free(r);
    sip_free(m);
    free(buf);
}

static void ack_for_a_failed_invite(void **state)
{
    osip_message_t *ack;
    char *text;
    char cid[64];
    uint32_t num;
    const char *meth;
    struct sip_via_info vi;
    struct addr a;
    (void)state;
    osip_message_t *inv = sip_fixture("sip/invite.sip");
    struct addr self = test_addr("192.0.2.10:5060");
    assert_int_equal(sip_via_push(inv, &self, "z9hG4bKours", NULL, 0), 0);
    assert_int_equal(sip_record_route_push(inv, &self, NULL), 0);
    osip_message_t *resp = sip_fixture("sip/response_486.sip");

    assert_int_equal(sip_ack_for(&ack, inv, resp), 0);
    text = sip_wire(ack);
    osip_message_t *peer = sip_text(text);
    assert_memory_equal(text, "ACK sip:bob@192.0.2.20:5060;transport=udp SIP/2.0\r\n", 51);
    assert_null(strstr(text, "Content-Type"));
    assert_non_null(strstr(text, "Content-Length: 0\r\n\r\n"));
    assert_string_equal(sip_header_get(peer, "Max-Forwards"), "70");
    assert_string_equal(sip_method(peer), "ACK");
    /* only the top Via: the branch of the INVITE we sent */
    assert_int_equal(sip_via_count(peer), 1);
    assert_int_equal(sip_via_get(peer, 0, &vi), 0);
    assert_string_equal(vi.branch, "z9hG4bKours");
    assert_int_equal(sip_cseq(peer, &num, &meth), 0);
    assert_int_equal(num, 314159);
    assert_string_equal(meth, "ACK");
    assert_int_equal(sip_call_id(peer, cid, sizeof cid), 0);
    assert_string_equal(cid, "a84b4c76e66710@pc33.example.com");
    assert_string_equal(sip_from_tag(peer), "1928301774");
    assert_string_equal(sip_to_tag(peer), "busy42");
    assert_int_equal(sip_request_uri_addr(peer, &a), 0);
    const char *body;
    size_t blen;
    assert_int_equal(sip_body_get(peer, &body, &blen), -ENOENT);
    osip_free(text);
    sip_free(peer);
    sip_free(ack);
    sip_free(resp);
    sip_free(inv);
}

static void ack_keeps_the_route_set(void **state)
{
    osip_message_t *ack;
    struct addr a;
    struct addr first = test_addr("192.0.2.10:5060");
    (void)state;
    /* RFC 3261 17.1.1.3: the INVITE's Route headers go into the ACK */
    static const char inv[] = "INVITE sip:bob@10.1.1.9 SIP/2.0\r\n"
                              "Via: SIP/2.0/UDP 10.0.0.5;branch=z9hG4bKrr\r\n"
                              "Route: <sip:192.0.2.10:5060;lr>\r\nRoute: <sip:192.0.2.11;lr>\r\n"
                              "From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>;tag=2\r\n"
                              "Call-ID: rr@1\r\nCSeq: 9 INVITE\r\nContent-Length: 0\r\n\r\n";
    struct sip_parse_result res;
    osip_message_t *req;
    assert_int_equal(sip_parse(&req, inv, strlen(inv), &res), 0);
    osip_message_t *resp = sip_fixture("sip/response_486.sip");
    assert_int_equal(sip_ack_for(&ack, req, resp), 0);
    osip_message_t *peer = sip_reparse(ack);
    assert_int_equal(sip_route_top(peer, &a), 0);
    assert_true(addr_equal(&a, &first));
    assert_int_equal(sip_route_pop_self(peer, &first), 1);
    assert_int_equal(sip_route_top(peer, &a), 0);
    assert_int_equal(addr_port(&a), 5060);
    sip_free(peer);
    sip_free(ack);
    sip_free(resp);
    sip_free(req);
}

static void ack_only_for_non_2xx_to_invite(void **state)
{
    osip_message_t *ack = (osip_message_t *)1;
    (void)state;
    osip_message_t *inv = sip_fixture("sip/invite.sip");
    osip_message_t *ok = sip_fixture("sip/response_200.sip");
    osip_message_t *bye = sip_fixture("sip/bye_routed.sip");
    osip_message_t *busy = sip_fixture("sip/response_486.sip");
    assert_int_equal(sip_ack_for(&ack, inv, ok), -EINVAL);
    assert_null(ack);
    assert_int_equal(sip_ack_for(&ack, bye, busy), -EINVAL);
    assert_int_equal(sip_ack_for(&ack, inv, inv), -EINVAL);
    assert_int_equal(sip_ack_for(&ack, inv, NULL), -EINVAL);
    sip_free(inv);
    sip_free(ok);
    sip_free(bye);
    sip_free(busy);
}

static bool all_hex(const char *s)
{
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
            return false;
    return true;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

static void branches_and_tags(void **state)
{
    enum { N = 2000 };
    static char branches[N][SIP_BRANCH_LEN];
    char tag[SIP_TAG_LEN], small[10];
    (void)state;
    for (int i = 0; i < N; i++) {
        sip_branch_new(branches[i], sizeof branches[i]);
        assert_int_equal(strncmp(branches[i], SIP_BRANCH_MAGIC, 7), 0);
        assert_int_equal(strlen(branches[i]), 7 + 32);
        assert_true(all_hex(branches[i] + 7));
    }
    qsort(branches, N, sizeof branches[0], cmp_str);
    for (int i = 1; i < N; i++)
        assert_string_not_equal(branches[i - 1], branches[i]);

    sip_tag_new(tag, sizeof tag);
    assert_int_equal(strlen(tag), 16);
    assert_true(all_hex(tag));

    /* short buffers are filled and terminated, never overrun */
    memset(small, 'X', sizeof small);
    sip_branch_new(small, 9);
    assert_int_equal(strlen(small), 8);
    assert_int_equal(strncmp(small, SIP_BRANCH_MAGIC, 7), 0);
    assert_int_equal(small[9], 'X');
    sip_branch_new(small, 3);
    assert_string_equal(small, "");
    memset(small, 'X', sizeof small);
    sip_tag_new(small, 4);
    assert_int_equal(strlen(small), 3);
    assert_int_equal(small[4], 'X');
    sip_tag_new(small, 0);
    sip_branch_new(small, 0);
}

/* RFC 3261 9.1: the CANCEL of an INVITE we sent. */
static void cancel_for_the_invite_we_sent(void **state)
{
    osip_message_t *cancel;
    struct sip_via_info vi;
    struct addr a, first = test_addr("192.0.2.10:5060");
    uint32_t num;
    const char *meth;
    char cid[64];
    (void)state;
    static const char inv[] = "INVITE sip:bob@10.1.1.9 SIP/2.0\r\n"
                              "Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKours\r\n"
                              "Via: SIP/2.0/UDP 10.0.0.5;branch=z9hG4bKtheirs\r\n"
                              "Route: <sip:192.0.2.10:5060;lr>\r\nRoute: <sip:192.0.2.11;lr>\r\n"
                              "From: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\n"
                              "Call-ID: cc@1\r\nCSeq: 9 INVITE\r\nMax-Forwards: 12\r\n"
                              "Content-Type: application/sdp\r\nContent-Length: 4\r\n\r\nv=0\n";
    struct sip_parse_result res;
    osip_message_t *req;
    assert_int_equal(sip_parse(&req, inv, strlen(inv), &res), 0);
    assert_int_equal(sip_cancel_for(&cancel, req), 0);
    char *text = sip_wire(cancel);
    osip_message_t *peer = sip_text(text);
    assert_memory_equal(text, "CANCEL sip:bob@10.1.1.9 SIP/2.0\r\n", 33);
    assert_null(strstr(text, "Content-Type"));
    assert_non_null(strstr(text, "Content-Length: 0\r\n\r\n"));
    assert_string_equal(sip_header_get(peer, "Max-Forwards"), "70");
    /* only our Via, with the INVITE's branch: the next hop matches it */
    assert_int_equal(sip_via_count(peer), 1);
    assert_int_equal(sip_via_get(peer, 0, &vi), 0);
    assert_string_equal(vi.branch, "z9hG4bKours");
    assert_int_equal(sip_cseq(peer, &num, &meth), 0);
    assert_int_equal(num, 9);
    assert_string_equal(meth, "CANCEL");
    assert_int_equal(sip_call_id(peer, cid, sizeof cid), 0);
    assert_string_equal(cid, "cc@1");
    assert_string_equal(sip_from_tag(peer), "1");
    assert_null(sip_to_tag(peer));
    assert_int_equal(sip_route_top(peer, &a), 0);
    assert_true(addr_equal(&a, &first));
    osip_free(text);
    sip_free(peer);
    sip_free(cancel);
    sip_free(req);
}

static void cancel_only_for_an_invite(void **state)
{
    osip_message_t *cancel = (osip_message_t *)1;
    (void)state;
    osip_message_t *bye = sip_fixture("sip/bye_routed.sip");
    osip_message_t *ok = sip_fixture("sip/response_200.sip");
    assert_int_equal(sip_cancel_for(&cancel, bye), -EINVAL);
    assert_null(cancel);
    assert_int_equal(sip_cancel_for(&cancel, ok), -EINVAL);
    assert_int_equal(sip_cancel_for(&cancel, NULL), -EINVAL);
    sip_free(bye);
    sip_free(ok);
}

/* A refusal written from the bytes (issue #15: redirectd and relayd answer
 * outsiders without parsing): the five headers as they came, a To tag, and
 * it parses as the answer to the request. */
static void raw_reply_copies_the_five_headers(void **state)
{
    static const char req[] = "INVITE sip:x@192.0.2.1 SIP/2.0\r\n"
                              "Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bKraw1\r\n"
                              "Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKraw0\r\n"
                              "Max-Forwards: 70\r\n"
                              "From: <sip:a@x>;tag=fa\r\n"
                              "To: <sip:x@y>\r\n"
                              "Call-ID: raw@x\r\n"
                              "CSeq: 7 INVITE\r\n"
                              "Content-Length: 0\r\n\r\n";
    char out[1024];
    size_t n = 0;
    osip_message_t *m = NULL;
    struct sip_via_info v;
    char id[32];
    (void)state;
    assert_int_equal(sip_reply_raw(req, sizeof req - 1, 403, out, sizeof out, &n), 0);
    assert_int_equal(strlen(out), n);
    assert_int_equal(strncmp(out, "SIP/2.0 403 Forbidden\r\n", 23), 0);
    assert_null(strstr(out, "Max-Forwards"));
    assert_int_equal(sip_parse(&m, out, n, NULL), 0);
    assert_int_equal(sip_status(m), 403);
    assert_int_equal(sip_via_count(m), 2);
    assert_int_equal(sip_via_get(m, 0, &v), 0);
    assert_string_equal(v.branch, "z9hG4bKraw1");
    assert_non_null(sip_to_tag(m));
    assert_int_equal(sip_call_id(m, id, sizeof id), 0);
    assert_string_equal(id, "raw@x");
    sip_free(m);

    /* a To tag already there is kept, not doubled */
    char tagged[sizeof req + 16];
    snprintf(tagged, sizeof tagged, "%.*s;tag=tt%s", (int)(strstr(req, "\r\nCall-ID") - req), req,
             strstr(req, "\r\nCall-ID"));
    assert_int_equal(sip_reply_raw(tagged, strlen(tagged), 403, out, sizeof out, &n), 0);
    assert_non_null(strstr(out, "To: <sip:x@y>;tag=tt\r\n"));
    assert_null(strstr(out, "Retry-After"));
    /* a 503 says when to come back (RFC 3261 21.5.4) */
    assert_int_equal(sip_reply_raw(req, sizeof req - 1, 503, out, sizeof out, &n), 0);
    assert_int_equal(strncmp(out, "SIP/2.0 503 ", 12), 0);
    assert_non_null(strstr(out, "\r\nRetry-After: 5\r\nContent-Length: 0\r\n\r\n"));
    /* a response is never answered */
    static const char resp[] = "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKr\r\n"
                               "From: <sip:a@x>;tag=1\r\nTo: <sip:b@x>;tag=2\r\nCall-ID: r\r\n"
                               "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
    assert_int_equal(sip_reply_raw(resp, sizeof resp - 1, 503, out, sizeof out, &n), -EINVAL);
    /* never an ACK; nothing without the five; a small buffer */
    char ack[sizeof req];
    snprintf(ack, sizeof ack, "ACK%s", req + 6);
    assert_int_equal(sip_reply_raw(ack, strlen(ack), 403, out, sizeof out, &n), -EINVAL);
    assert_int_equal(
        sip_reply_raw(req, (size_t)(strstr(req, "Call-ID") - req), 403, out, sizeof out, &n),
        -EINVAL);
    assert_int_equal(sip_reply_raw(req, sizeof req - 1, 403, out, 40, &n), -EMSGSIZE);
    assert_int_equal(sip_reply_raw(req, sizeof req - 1, 200, out, sizeof out, &n), -EINVAL);

    char method[8];
    assert_int_equal(sip_request_method(req, sizeof req - 1, method, sizeof method), 0);
    assert_string_equal(method, "INVITE");
    assert_int_equal(sip_request_method("SIP/2.0 200 OK\r\n", 16, method, sizeof method), -EINVAL);
    assert_int_equal(sip_request_method("SUBSCRIBEX x", 12, method, sizeof method), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reason_phrases),
        cmocka_unit_test(response_copies_the_request),
        cmocka_unit_test(to_tag_rules),
        cmocka_unit_test(response_refuses_nonsense),
        cmocka_unit_test(answering_refused_requests),
        cmocka_unit_test(ack_for_a_failed_invite),
        cmocka_unit_test(ack_keeps_the_route_set),
        cmocka_unit_test(ack_only_for_non_2xx_to_invite),
        cmocka_unit_test(cancel_for_the_invite_we_sent),
        cmocka_unit_test(cancel_only_for_an_invite),
        cmocka_unit_test(branches_and_tags),
        cmocka_unit_test(raw_reply_copies_the_five_headers),
    };
    return cmocka_run_group_tests(tests, sip_test_setup, NULL);
}

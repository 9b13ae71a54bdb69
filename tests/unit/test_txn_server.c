/* txn server transactions (RFC 3261 §17.2, RFC 6026) on a real loop with
 * tiny timers and a fake wire. */
#include "txn_test.h"

#include <errno.h>
#include <stdio.h>

#define BRANCH "z9hG4bK-srv-77a1"
#define PHONE "192.0.2.10:5060"
/* The phone sits behind a NAT: packets come from here, not from sent-by. */
#define NAT_SRC "203.0.113.5:40001"

struct ctx {
    struct loop *l;
    struct txn_layer *tl;
    struct timed_wire tw;
    struct transport tp;
    struct addr src;
    int ends;
    struct txn_server *ended;
    uint64_t ended_at;
};

static int setup(void **state)
{
    struct ctx *c = calloc(1, sizeof *c);
    assert_non_null(c);
    txn_bench_open(&c->l, &c->tl, &c->tw, &c->tp);
    c->src = test_addr(NAT_SRC);
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    struct ctx *c = *state;
    txn_bench_close(c->l, c->tl, &c->tw);
    free(c);
    return 0;
}

static void on_end(struct txn_server *st, void *arg)
{
    struct ctx *c = arg;
    c->ends++;
    c->ended = st;
    c->ended_at = mono_ms();
}

static int ended(void *arg)
{
    return ((struct ctx *)arg)->ends > 0;
}

/* Feeds a fixture; returns the match and frees the message unless a new
 * transaction took it. */
static int feed(struct ctx *c, osip_message_t *m, struct txn_server **out)
{
    struct txn_server *st = NULL;
    osip_message_t *own = m;
    int r = txn_server_receive(c->tl, &own, &c->src, &c->tp, &st);
    if (r == TXN_NEW && st)
        assert_null(own); /* taken: the transaction's request now */
    else
        assert_ptr_equal(own, m); /* never taken without a transaction */
    sip_free(own);
    if (out)
        *out = st;
    return r;
}

static struct txn_server *new_invite(struct ctx *c, const char *branch)
{
    struct txn_server *st = NULL;
    assert_int_equal(feed(c, load_sip("txn/invite.sip", "BRANCH", branch, "SENTBY", PHONE), &st),
                     TXN_NEW);
    assert_non_null(st);
    txn_server_set_user(st, c, on_end);
    return st;
}

static int feed_ack(struct ctx *c, const char *branch, const char *to_tag)
{
    struct txn_server *st = (struct txn_server *)c; /* must be overwritten */
    int r =
        feed(c, load_sip("txn/ack.sip", "BRANCH", branch, "SENTBY", PHONE, "TOTAG", to_tag), &st);
    if (r == TXN_NEW)
        assert_null(st);
    return r;
}

static int feed_invite_again(struct ctx *c, const char *branch)
{
    struct txn_server *st = NULL;
    int r = feed(c, load_sip("txn/invite.sip", "BRANCH", branch, "SENTBY", PHONE), &st);
    if (r == TXN_RETRANSMISSION)
        assert_null(st);
    return r;
}

static void assert_status_sent(struct ctx *c, size_t i, int status)
{
    osip_message_t *m = wire_msg(&c->tw, i);
    assert_int_equal(sip_status(m), status);
    sip_free(m);
    /* To the packet's source (received/rport), never the private sent-by. */
    assert_true(addr_equal(&c->tw.w.pkt[i].to, &c->src));
}

static void test_retransmission_absorbed_and_response_resent(void **state)
{
    struct ctx *c = *state;
    struct txn_server *st = new_invite(c, BRANCH);

    assert_int_equal(c->tw.w.n, 0);
    assert_false(txn_server_is_final(st));
    assert_true(addr_equal(txn_server_source(st), &c->src));
    assert_true(sip_method_is(txn_server_request(st), "INVITE"));
    assert_ptr_equal(txn_server_user(st), c);

    /* Nothing sent yet: the retransmission is absorbed silently. */
    assert_int_equal(feed_invite_again(c, BRANCH), TXN_RETRANSMISSION);
    assert_int_equal(c->tw.w.n, 0);

    assert_int_equal(txn_server_respond_status(st, 100), 0);
    assert_int_equal(txn_server_respond_status(st, 180), 0);
    assert_int_equal(c->tw.w.n, 2);
    assert_status_sent(c, 0, 100);
    assert_status_sent(c, 1, 180);

    /* The last response (180) goes out again, byte for byte. */
    assert_int_equal(feed_invite_again(c, BRANCH), TXN_RETRANSMISSION);
    assert_int_equal(c->tw.w.n, 3);
    assert_string_equal(c->tw.w.pkt[2].buf, c->tw.w.pkt[1].buf);

    struct txn_stats s = layer_stats(c->tl);
    assert_int_equal(s.servers, 1);
    assert_int_equal(s.absorbed, 2);
    assert_int_equal(s.retransmissions, 1);

    /* A different branch is a different transaction. */
    struct txn_server *other = NULL;
    assert_int_equal(
        feed(c, load_sip("txn/invite.sip", "BRANCH", BRANCH "x", "SENTBY", PHONE), &other),
        TXN_NEW);
    assert_non_null(other);
    assert_ptr_not_equal(other, st);
    assert_int_equal(layer_stats(c->tl).servers, 2);
}

static void test_response_carries_received_and_stable_to_tag(void **state)
{
    struct ctx *c = *state;
    struct txn_server *st = new_invite(c, BRANCH);
    const char *tag = txn_server_to_tag(st);
    assert_non_null(tag);
    assert_true(strlen(tag) > 0);

    assert_int_equal(txn_server_respond_status(st, 100), 0);
    assert_int_equal(txn_server_respond_status(st, 180), 0);
    assert_int_equal(txn_server_respond_status(st, 486), 0);
    assert_true(txn_server_is_final(st));
    assert_int_equal(txn_server_respond_status(st, 500), -EALREADY);
    assert_int_equal(txn_server_respond_status(st, 180), -EALREADY);

    osip_message_t *trying = wire_msg(&c->tw, 0);
    assert_null(sip_to_tag(trying)); /* RFC 3261 §8.2.6.2: no tag on 100 */
    struct sip_via_info via;
    assert_int_equal(sip_via_get(trying, 0, &via), 0);
    assert_string_equal(via.branch, BRANCH);
    assert_string_equal(via.received, "203.0.113.5");
    assert_int_equal(via.rport, 40001);
    sip_free(trying);
    for (size_t i = 1; i < 3; i++) {
        osip_message_t *m = wire_msg(&c->tw, i);
        assert_string_equal(sip_to_tag(m), tag);
        sip_free(m);
    }
}

static void test_respond_with_headers(void **state)
{
    struct ctx *c = *state;
    struct txn_server *st = new_invite(c, BRANCH);
    const char *bad[] = {"Retry-After", NULL};
    assert_int_equal(txn_server_respond_with(st, 503, bad), -EINVAL);
    assert_int_equal(c->tw.w.n, 0);
    assert_false(txn_server_is_final(st));

    const char *hdrs[] = {"Retry-After", "30", "Warning", "399 pinhole \"busy\"", NULL};
    assert_int_equal(txn_server_respond_with(st, 503, hdrs), 0);
    osip_message_t *m = wire_msg(&c->tw, 0);
    assert_int_equal(sip_status(m), 503);
    assert_string_equal(sip_header_get(m, "Retry-After"), "30");
    assert_non_null(sip_header_get(m, "Warning"));
    sip_free(m);
}

/* Built, not sent: own reason, extra headers, the transaction's To-tag;
 * a bad header list leaves *out alone and sends nothing. */
static void test_build_reason_and_headers(void **state)
{
    struct ctx *c = *state;
    struct txn_server *st = new_invite(c, BRANCH);
    osip_message_t *resp = (osip_message_t *)c; /* must stay untouched */
    const char *bad[] = {"Retry-After", NULL};
    assert_int_equal(txn_server_build(st, 503, NULL, bad, &resp), -EINVAL);
    assert_ptr_equal(resp, c);
    assert_int_equal(txn_server_build(NULL, 503, NULL, NULL, &resp), -EINVAL);
    assert_int_equal(txn_server_build(st, 503, NULL, NULL, NULL), -EINVAL);

    const char *hdrs[] = {"Retry-After", "30", NULL};
    resp = NULL;
    assert_int_equal(txn_server_build(st, 500, "Out Of Order REGISTER", hdrs, &resp), 0);
    assert_non_null(resp);
    assert_int_equal(c->tw.w.n, 0);
    assert_false(txn_server_is_final(st));
    assert_string_equal(resp->reason_phrase, "Out Of Order REGISTER");
    assert_string_equal(sip_header_get(resp, "Retry-After"), "30");
    assert_string_equal(sip_to_tag(resp), txn_server_to_tag(st));

    /* Sent as built: the peer reads the reason phrase we chose. */
    assert_int_equal(txn_server_respond(st, resp), 0);
    sip_free(resp);
    osip_message_t *m = wire_msg(&c->tw, 0);
    assert_int_equal(sip_status(m), 500);
    assert_string_equal(m->reason_phrase, "Out Of Order REGISTER");
    sip_free(m);
    assert_true(txn_server_is_final(st));

    /* reason NULL keeps the standard phrase. */
    resp = NULL;
    assert_int_equal(txn_server_build(st, 404, NULL, NULL, &resp), 0);
    assert_string_equal(resp->reason_phrase, "Not Found");
    sip_free(resp);
}

/* Outside a transaction: one datagram to the given source, nothing kept. */
static void test_respond_stateless(void **state)
{
    struct ctx *c = *state;
    osip_message_t *req = load_sip("txn/invite.sip", "BRANCH", BRANCH, "SENTBY", PHONE);
    assert_int_equal(txn_respond_stateless(&c->tp, req, 403, &c->src), 0);
    assert_int_equal(c->tw.w.n, 1);
    assert_status_sent(c, 0, 403);
    assert_int_equal(layer_stats(c->tl).servers, 0);

    c->tw.w.fail_with = -EAGAIN;
    assert_int_equal(txn_respond_stateless(&c->tp, req, 403, &c->src), -EAGAIN);
    c->tw.w.fail_with = 0;
    assert_int_equal(txn_respond_stateless(NULL, req, 403, &c->src), -EINVAL);
    sip_free(req);

    run_for(c->l, 3 * TEST_T1);
    assert_int_equal(c->tw.w.n, 1); /* never retransmitted */
}

static void test_ack_absorbed_after_non2xx_final(void **state)
{
    struct ctx *c = *state;
    struct txn_server *st = new_invite(c, BRANCH);
    assert_int_equal(txn_server_respond_status(st, 486), 0);
    assert_int_equal(c->tw.w.n, 1);

    /* RFC 3261 keys match the ACK by branch: any To tag will do. */
    assert_int_equal(feed_ack(c, BRANCH, txn_server_to_tag(st)), TXN_ACK_ABSORBED);
    /* A retransmitted ACK is absorbed too (Confirmed state). */
    assert_int_equal(feed_ack(c, BRANCH, txn_server_to_tag(st)), TXN_ACK_ABSORBED);
    /* A retransmitted INVITE in Confirmed: absorbed, no response. */
    assert_int_equal(feed_invite_again(c, BRANCH), TXN_RETRANSMISSION);

    /* Timer G stopped: nothing more goes out; timer I (T4) ends it. */
    assert_true(run_until(c->l, ended, c, 1000));
    assert_int_equal(c->tw.w.n, 1);
    assert_int_equal(c->ends, 1);
    assert_ptr_equal(c->ended, st);
    struct txn_stats s = layer_stats(c->tl);
    assert_int_equal(s.servers, 0);
    assert_int_equal(s.retransmissions, 0);

    /* Afterwards an ACK matches nothing: passed up with no transaction. */
    assert_int_equal(feed_ack(c, BRANCH, "x"), TXN_NEW);
}

static void test_timer_g_doubles_to_t2_then_h_gives_up(void **state)
{
    struct ctx *c = *state;
    struct txn_server *st = new_invite(c, BRANCH);
    uint64_t start = mono_ms();
    assert_int_equal(txn_server_respond_status(st, 480), 0);

    assert_true(run_until(c->l, ended, c, 3000));
    /* G fires at 10, 30, 70, 110, ... 630 ms (T1 doubling, capped at T2 =
     * 40); H at 64·T1 = 640 ms ends it: 17 resends. */
    size_t n = c->tw.w.n;
    assert_int_equal(n, 1 + TEST_CAPPED_RESENDS);
    for (size_t i = 1; i < n; i++)
        assert_string_equal(c->tw.w.pkt[i].buf, c->tw.w.pkt[0].buf);
    uint64_t offsets[1 + TEST_CAPPED_RESENDS];
    capped_schedule(offsets);
    assert_schedule(&c->tw, offsets, n);
    assert_true(c->ended_at - start >= TEST_64T1 - TEST_SLACK);
    assert_int_equal(c->ends, 1);

    struct txn_stats s = layer_stats(c->tl);
    assert_int_equal(s.retransmissions, TEST_CAPPED_RESENDS);
    assert_int_equal(s.servers, 0);
}

static void test_ack_stops_timer_g(void **state)
{
    struct ctx *c = *state;
    struct txn_server *st = new_invite(c, BRANCH);
    assert_int_equal(txn_server_respond_status(st, 404), 0);

    /* Let G fire twice (at 10 and 30 ms), then ACK. */
    run_for(c->l, 45);
    size_t before = c->tw.w.n;
    assert_true(before >= 2);
    assert_non_null(txn_server_request(st));
    assert_int_equal(feed_ack(c, BRANCH, txn_server_to_tag(st)), TXN_ACK_ABSORBED);
    assert_null(txn_server_request(st)); /* timer I needs only the key */
    assert_int_equal(txn_server_respond_status(st, 500), -EALREADY);
    assert_true(run_until(c->l, ended, c, 1000));
    assert_int_equal(c->tw.w.n, before);
}

static void test_accepted_absorbs_retransmitted_invite(void **state)
{
    struct ctx *c = *state;
    struct txn_server *st = new_invite(c, BRANCH);
    uint64_t start = mono_ms();
    assert_int_equal(txn_server_respond_status(st, 200), 0);
    assert_int_equal(c->tw.w.n, 1);

    /* Accepted keeps only the key: not the request, not the 2xx. */
    assert_null(txn_server_request(st));
    assert_non_null(txn_server_to_tag(st));
    assert_int_equal(txn_server_respond_status(st, 200), -EALREADY);
    /* RFC 6026 Accepted: the INVITE is absorbed, the 2xx is not resent
     * (its retransmission is the TU's business, end to end). */
    assert_int_equal(feed_invite_again(c, BRANCH), TXN_RETRANSMISSION);
    assert_int_equal(c->tw.w.n, 1);
    /* The ACK for a 2xx is its own transaction: passed up. */
    assert_int_equal(feed_ack(c, "z9hG4bK-ack2xx-1", txn_server_to_tag(st)), TXN_NEW);
    assert_int_equal(feed_ack(c, BRANCH, txn_server_to_tag(st)), TXN_NEW);

    run_for(c->l, TEST_64T1 / 2);
    assert_int_equal(c->ends, 0);
    assert_int_equal(feed_invite_again(c, BRANCH), TXN_RETRANSMISSION);
    assert_true(run_until(c->l, ended, c, 2000));
    assert_true(c->ended_at - start >= TEST_64T1 - TEST_SLACK);
    assert_int_equal(c->tw.w.n, 1);
    assert_int_equal(layer_stats(c->tl).absorbed, 2);
}

/* The layer takes the request that starts a transaction (no copy), and a
 * handler may still read it after answering it finally: it is freed only
 * when the next message comes in (under ASan a read after that free, or a
 * leak of it, fails the test). */
static void test_request_taken_and_readable_until_next_receive(void **state)
{
    struct ctx *c = *state;
    struct txn_server *st = NULL;
    osip_message_t *m = load_sip("txn/options.sip", "BRANCH", BRANCH, "SENTBY", PHONE);
    osip_message_t *own = m;
    assert_int_equal(txn_server_receive(c->tl, &own, &c->src, &c->tp, &st), TXN_NEW);
    assert_null(own);
    assert_ptr_equal(txn_server_request(st), m);
    assert_int_equal(txn_server_respond_status(st, 200), 0);
    assert_null(txn_server_request(st));
    /* still the handler's to read after the final answer */
    assert_true(sip_method_is(m, "OPTIONS"));
    char cid[128];
    assert_int_equal(sip_call_id(m, cid, sizeof cid), 0);

    /* A retransmission is never taken: the caller still owns it. */
    osip_message_t *again = load_sip("txn/options.sip", "BRANCH", BRANCH, "SENTBY", PHONE);
    own = again;
    assert_int_equal(txn_server_receive(c->tl, &own, &c->src, &c->tp, &st), TXN_RETRANSMISSION);
    assert_ptr_equal(own, again);
    sip_free(own);
}

static void test_non_invite_timer_j(void **state)
{
    struct ctx *c = *state;
    struct txn_server *st = NULL;
    assert_int_equal(feed(c, load_sip("txn/options.sip", "BRANCH", BRANCH, "SENTBY", PHONE), &st),
                     TXN_NEW);
    assert_non_null(st);
    txn_server_set_user(st, c, on_end);
    uint64_t start = mono_ms();
    assert_non_null(txn_server_request(st));
    assert_int_equal(txn_server_respond_status(st, 200), 0);
    assert_int_equal(txn_server_respond_status(st, 200), -EALREADY);
    /* only the key and the response bytes stay for timer J */
    assert_null(txn_server_request(st));
    assert_non_null(txn_server_to_tag(st));

    /* Completed: every retransmission gets the final again; no timer G. */
    run_for(c->l, 100);
    assert_int_equal(c->tw.w.n, 1);
    st = NULL;
    assert_int_equal(feed(c, load_sip("txn/options.sip", "BRANCH", BRANCH, "SENTBY", PHONE), &st),
                     TXN_RETRANSMISSION);
    assert_int_equal(c->tw.w.n, 2);
    assert_string_equal(c->tw.w.pkt[1].buf, c->tw.w.pkt[0].buf);
    assert_status_sent(c, 1, 200);

    assert_true(run_until(c->l, ended, c, 2000));
    assert_true(c->ended_at - start >= TEST_64T1 - TEST_SLACK);
    assert_int_equal(c->ends, 1);
    assert_int_equal(layer_stats(c->tl).servers, 0);
}

static void test_unanswered_dropped_after_server_max(void **state)
{
    struct ctx *c = *state;
    uint64_t start = mono_ms();
    new_invite(c, BRANCH);
    assert_true(run_until(c->l, ended, c, 2000));
    assert_true(c->ended_at - start >= TEST_MAX - TEST_SLACK);
    assert_int_equal(c->ends, 1);
    assert_int_equal(c->tw.w.n, 0);
    assert_int_equal(layer_stats(c->tl).servers, 0);
}

static void test_cancel_is_its_own_transaction(void **state)
{
    struct ctx *c = *state;
    struct txn_server *inv = new_invite(c, BRANCH);
    struct txn_server *cancel = NULL;
    assert_int_equal(
        feed(c, load_sip("txn/cancel.sip", "BRANCH", BRANCH, "SENTBY", PHONE), &cancel), TXN_NEW);
    assert_non_null(cancel);
    assert_ptr_not_equal(cancel, inv);
    assert_int_equal(txn_server_respond_status(cancel, 200), 0);
    assert_int_equal(txn_server_respond_status(inv, 487), 0);
    assert_int_equal(layer_stats(c->tl).servers, 2);
}

/* RFC 3261 9.2: a CANCEL finds the INVITE with its branch and sent-by. */
static void test_cancel_finds_its_invite(void **state)
{
    struct ctx *c = *state;
    struct txn_server *inv = new_invite(c, BRANCH);
    osip_message_t *cancel = load_sip("txn/cancel.sip", "BRANCH", BRANCH, "SENTBY", PHONE);
    osip_message_t *other = load_sip("txn/cancel.sip", "BRANCH", "z9hG4bKother", "SENTBY", PHONE);
    osip_message_t *invite = load_sip("txn/invite.sip", "BRANCH", BRANCH, "SENTBY", PHONE);
    assert_ptr_equal(txn_server_find_invite(c->tl, cancel), inv);
    assert_null(txn_server_find_invite(c->tl, other));
    assert_null(txn_server_find_invite(c->tl, invite)); /* only a CANCEL looks up */
    sip_free(cancel);
    sip_free(other);
    sip_free(invite);
}

static void test_sent_by_is_part_of_the_key(void **state)
{
    struct ctx *c = *state;
    new_invite(c, BRANCH);
    struct txn_server *st = NULL;
    /* Same branch from another sent-by: RFC 3261 §17.2.3, another request. */
    assert_int_equal(
        feed(c, load_sip("txn/invite.sip", "BRANCH", BRANCH, "SENTBY", "192.0.2.11:5060"), &st),
        TXN_NEW);
    assert_non_null(st);
    assert_int_equal(layer_stats(c->tl).servers, 2);
}

static int feed_2543(struct ctx *c, const char *file, const char *cseq, const char *from_tag,
                     const char *to_tag, struct txn_server **out)
{
    osip_message_t *m = to_tag ? load_sip(file, "CSEQ", cseq, "FROMTAG", from_tag, "TOTAG", to_tag)
                               : load_sip(file, "CSEQ", cseq, "FROMTAG", from_tag);
    return feed(c, m, out);
}

static void test_rfc2543_matching(void **state)
{
    struct ctx *c = *state;
    struct txn_server *st = NULL, *other = NULL;

    assert_int_equal(feed_2543(c, "txn/invite_2543.sip", "5", "f1", NULL, &st), TXN_NEW);
    assert_non_null(st);
    assert_int_equal(txn_server_respond_status(st, 100), 0);
    assert_int_equal(feed_2543(c, "txn/invite_2543.sip", "5", "f1", NULL, &other),
                     TXN_RETRANSMISSION);
    assert_int_equal(c->tw.w.n, 2);

    /* Another CSeq or From tag is another request. */
    assert_int_equal(feed_2543(c, "txn/invite_2543.sip", "6", "f1", NULL, &other), TXN_NEW);
    assert_non_null(other);
    assert_int_equal(feed_2543(c, "txn/invite_2543.sip", "5", "f2", NULL, &other), TXN_NEW);
    assert_non_null(other);
    assert_int_equal(layer_stats(c->tl).servers, 3);

    assert_int_equal(txn_server_respond_status(st, 603), 0);
    /* Without a branch the ACK must carry the To tag of our final. */
    other = (struct txn_server *)c;
    assert_int_equal(feed_2543(c, "txn/ack_2543.sip", "5", "f1", "not-ours", &other), TXN_NEW);
    assert_null(other);
    assert_int_equal(feed_2543(c, "txn/ack_2543.sip", "5", "f1", txn_server_to_tag(st), &other),
                     TXN_ACK_ABSORBED);
}

static void test_bad_input(void **state)
{
    struct ctx *c = *state;
    struct txn_server *st = (struct txn_server *)c;
    osip_message_t *resp = load_sip("txn/response.sip", "STATUS", "200", "REASON", "OK", "BRANCH",
                                    BRANCH, "TOTAG", "t", "CSEQ", "1", "METHOD", "INVITE");
    /* A response is not a request. */
    assert_int_equal(feed(c, resp, &st), -EINVAL);
    assert_null(st);

    /* A key longer than any sane branch is refused, not stored. */
    char branch[2100] = SIP_BRANCH_MAGIC;
    memset(branch + 7, 'a', sizeof branch - 8);
    branch[sizeof branch - 1] = '\0';
    assert_int_equal(feed(c, load_sip("txn/invite.sip", "BRANCH", branch, "SENTBY", PHONE), &st),
                     -EINVAL);
    assert_int_equal(layer_stats(c->tl).servers, 0);

    /* A bare magic cookie identifies nothing: RFC 2543 matching. */
    assert_int_equal(
        feed(c, load_sip("txn/invite.sip", "BRANCH", SIP_BRANCH_MAGIC, "SENTBY", PHONE), &st),
        TXN_NEW);
    assert_non_null(st);
    assert_int_equal(txn_server_respond(st, NULL), -EINVAL);
}

/* txn_layer_free frees live transactions without calling on_end; LSan
 * checks nothing leaks. */
static void test_layer_free_is_silent(void **state)
{
    struct ctx *c = *state;
    struct txn_server *a = new_invite(c, BRANCH);
    struct txn_server *b = new_invite(c, BRANCH "2");
    new_invite(c, BRANCH "3");
    assert_int_equal(txn_server_respond_status(a, 486), 0);
    assert_int_equal(txn_server_respond_status(b, 200), 0);
    run_for(c->l, 20);
    txn_layer_free(c->tl);
    c->tl = NULL;
    assert_int_equal(c->ends, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_retransmission_absorbed_and_response_resent, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_response_carries_received_and_stable_to_tag, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_respond_with_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_build_reason_and_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_respond_stateless, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ack_absorbed_after_non2xx_final, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timer_g_doubles_to_t2_then_h_gives_up, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_ack_stops_timer_g, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_taken_and_readable_until_next_receive,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_accepted_absorbs_retransmitted_invite, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_non_invite_timer_j, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unanswered_dropped_after_server_max, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_is_its_own_transaction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_finds_its_invite, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sent_by_is_part_of_the_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rfc2543_matching, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_layer_free_is_silent, setup, teardown),
    };
    if (sip_init() != 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* txn client transactions (RFC 3261 §17.1) on a real loop with tiny timers
 * and a fake wire. */
#include "txn_test.h"

#include <errno.h>
#include <stdio.h>

#define BRANCH "z9hG4bK-cli-5d0c"
#define PEER "192.0.2.40:5060"
#define RESP_SRC "192.0.2.40:5060"

struct ctx {
    struct loop *l;
    struct txn_layer *tl;
    struct timed_wire tw;
    struct transport tp;
    struct addr dst;
    /* what the callback saw */
    int calls;
    int statuses[16];
    int nulls;
    struct txn_client *last_ct;
    /* what the callback does */
    bool abandon_in_cb;
    bool send_in_cb;
    struct txn_client *spawned;
};

static int setup(void **state)
{
    struct ctx *c = calloc(1, sizeof *c);
    assert_non_null(c);
    txn_bench_open(&c->l, &c->tl, &c->tw, &c->tp);
    c->dst = test_addr(PEER);
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

static void on_response(struct txn_client *ct, osip_message_t *resp, const struct addr *src,
                        void *arg);

static osip_message_t *request(const char *file, const char *branch)
{
    return load_sip(file, "BRANCH", branch);
}

static struct txn_client *send_req(struct ctx *c, const char *file, const char *branch)
{
    struct txn_client *ct = NULL;
    assert_int_equal(
        txn_client_send(c->tl, request(file, branch), &c->dst, &c->tp, on_response, c, &ct), 0);
    assert_non_null(ct);
    return ct;
}

static void on_response(struct txn_client *ct, osip_message_t *resp, const struct addr *src,
                        void *arg)
{
    struct ctx *c = arg;
    c->last_ct = ct;
    if (!resp) {
        c->nulls++;
        assert_null(src);
    } else {
        assert_non_null(src);
        if (c->calls < 16)
            c->statuses[c->calls] = sip_status(resp);
    }
    c->calls++;
    if (c->abandon_in_cb)
        txn_client_abandon(ct);
    if (c->send_in_cb && !c->spawned)
        c->spawned = send_req(c, "txn/client_options.sip", "z9hG4bK-spawned-1");
}

/* Feeds a response for `branch` / `method`; returns txn_client_receive's result. */
static int respond(struct ctx *c, int status, const char *branch, const char *cseq,
                   const char *method)
{
    char code[8];
    snprintf(code, sizeof code, "%d", status);
    osip_message_t *m =
        load_sip("txn/response.sip", "STATUS", code, "REASON", sip_reason_phrase(status), "BRANCH",
                 branch, "TOTAG", "bob-tag-81", "CSEQ", cseq, "METHOD", method);
    struct addr src = test_addr(RESP_SRC);
    int r = txn_client_receive(c->tl, m, &src);
    sip_free(m);
    return r;
}

static int respond_invite(struct ctx *c, int status)
{
    return respond(c, status, BRANCH, "314", "INVITE");
}

static int respond_options(struct ctx *c, int status)
{
    return respond(c, status, BRANCH, "2", "OPTIONS");
}

static int called(void *arg)
{
    return ((struct ctx *)arg)->calls > 0;
}

static int called_null(void *arg)
{
    return ((struct ctx *)arg)->nulls > 0;
}

static int no_clients(void *arg)
{
    return layer_stats(((struct ctx *)arg)->tl).clients == 0;
}

static void test_invite_retransmits_then_times_out(void **state)
{
    struct ctx *c = *state;
    struct txn_client *ct = send_req(c, "txn/client_invite.sip", BRANCH);
    uint64_t start = mono_ms();
    assert_int_equal(c->tw.w.n, 1);
    assert_true(addr_equal(&c->tw.w.pkt[0].to, &c->dst));
    assert_true(addr_equal(txn_client_destination(ct), &c->dst));
    assert_true(sip_method_is(txn_client_request(ct), "INVITE"));
    assert_int_equal(layer_stats(c->tl).clients, 1);

    assert_true(run_until(c->l, called, c, 3000));
    /* Timer A: 10, 30, 70, 150, 310, 630 ms (doubling, no cap); B at 640. */
    assert_int_equal(c->tw.w.n, 7);
    for (size_t i = 1; i < c->tw.w.n; i++)
        assert_string_equal(c->tw.w.pkt[i].buf, c->tw.w.pkt[0].buf);
    const uint64_t offsets[] = {0, 10, 30, 70, 150, 310, 630};
    assert_schedule(&c->tw, offsets, 7);
    assert_true(mono_ms() - start >= TEST_64T1 - TEST_SLACK);
    assert_int_equal(c->calls, 1);
    assert_int_equal(c->nulls, 1);
    assert_ptr_equal(c->last_ct, ct);

    struct txn_stats s = layer_stats(c->tl);
    assert_int_equal(s.timeouts, 1);
    assert_int_equal(s.retransmissions, 6);
    assert_int_equal(s.clients, 0);
    /* Gone: a late answer matches nothing. */
    assert_int_equal(respond_invite(c, 200), -ENOENT);
}

static void test_invite_stops_retransmitting_after_1xx(void **state)
{
    struct ctx *c = *state;
    send_req(c, "txn/client_invite.sip", BRANCH);
    run_for(c->l, 15); /* one retransmission at 10 ms */
    assert_int_equal(c->tw.w.n, 2);
    assert_int_equal(respond_invite(c, 100), 0);
    assert_int_equal(respond_invite(c, 180), 0);
    assert_int_equal(c->calls, 2);
    assert_int_equal(c->statuses[0], 100);
    assert_int_equal(c->statuses[1], 180);

    run_for(c->l, 150);
    assert_int_equal(c->tw.w.n, 2);
    assert_int_equal(c->nulls, 0);
    /* Proceeding is bounded by server_max_ms (timer C): then a timeout
     * for the owner, and the branch CANCELled (RFC 3261 16.8) */
    assert_true(run_until(c->l, called_null, c, 2000));
    assert_int_equal(c->nulls, 1);
    assert_int_equal(layer_stats(c->tl).timeouts, 1);
    assert_int_equal(layer_stats(c->tl).timer_c, 1);
    assert_int_equal(c->tw.w.n, 3);
    osip_message_t *cancel = wire_msg(&c->tw, 2);
    assert_true(sip_method_is(cancel, "CANCEL"));
    assert_true(addr_equal(&c->tw.w.pkt[2].to, &c->dst));
    sip_free(cancel);
    /* the callee's 487 is ACKed here, and nobody hears of it */
    int calls = c->calls;
    assert_int_equal(respond_invite(c, 487), 0);
    assert_int_equal(c->calls, calls);
    bool acked = false;
    for (size_t i = 3; i < c->tw.w.n; i++) {
        osip_message_t *m = wire_msg(&c->tw, i);
        acked |= sip_method_is(m, "ACK");
        sip_free(m);
    }
    assert_true(acked);
    assert_true(run_until(c->l, no_clients, c, 2000));
}

/* Timer C on a branch that never answers the CANCEL either: the
 * transaction still ends, 64·T1 later. */
static void test_timer_c_ends_a_branch_that_stays_silent(void **state)
{
    struct ctx *c = *state;
    send_req(c, "txn/client_invite.sip", BRANCH);
    assert_int_equal(respond_invite(c, 180), 0);
    assert_true(run_until(c->l, called_null, c, 2000));
    assert_true(run_until(c->l, no_clients, c, 3000));
    assert_int_equal(c->nulls, 1); /* told once */
}

static void assert_ack(struct ctx *c, size_t i)
{
    osip_message_t *ack = wire_msg(&c->tw, i);
    osip_message_t *inv = wire_msg(&c->tw, 0);
    assert_true(sip_method_is(ack, "ACK"));
    assert_true(addr_equal(&c->tw.w.pkt[i].to, &c->dst));
    assert_string_equal(sip_request_uri_user(ack), "bob");
    struct addr a, b;
    assert_int_equal(sip_request_uri_addr(ack, &a), 0);
    assert_int_equal(sip_request_uri_addr(inv, &b), 0);
    assert_true(addr_equal(&a, &b));
    struct sip_via_info via;
    assert_int_equal(sip_via_count(ack), 1); /* §17.1.1.3: top Via only */
    assert_int_equal(sip_via_get(ack, 0, &via), 0);
    assert_string_equal(via.branch, BRANCH);
    assert_string_equal(sip_to_tag(ack), "bob-tag-81");
    assert_string_equal(sip_from_tag(ack), "a73kszlfl");
    uint32_t n;
    const char *method;
    assert_int_equal(sip_cseq(ack, &n, &method), 0);
    assert_int_equal(n, 314);
    assert_string_equal(method, "ACK");
    char a_id[128], b_id[128];
    assert_int_equal(sip_call_id(ack, a_id, sizeof a_id), 0);
    assert_int_equal(sip_call_id(inv, b_id, sizeof b_id), 0);
    assert_string_equal(a_id, b_id);
    sip_free(ack);
    sip_free(inv);
}

static void test_invite_non2xx_final_is_acked(void **state)
{
    struct ctx *c = *state;
    send_req(c, "txn/client_invite.sip", BRANCH);
    uint64_t start = mono_ms();
    assert_int_equal(respond_invite(c, 486), 0);
    assert_int_equal(c->calls, 1);
    assert_int_equal(c->statuses[0], 486);
    assert_int_equal(c->tw.w.n, 2);
    assert_ack(c, 1);
    /* Completed keeps the key and the ACK bytes only. */
    assert_null(txn_client_request(c->last_ct));

    /* A retransmitted final: ACKed again, not delivered again. */
    assert_int_equal(respond_invite(c, 486), 0);
    assert_int_equal(c->tw.w.n, 3);
    assert_string_equal(c->tw.w.pkt[2].buf, c->tw.w.pkt[1].buf);
    assert_int_equal(c->calls, 1);
    assert_int_equal(layer_stats(c->tl).retransmissions, 1);

    /* No request retransmission in Completed; timer D (64·T1 in tests) ends it. */
    run_for(c->l, 100);
    assert_int_equal(c->tw.w.n, 3);
    assert_true(run_until(c->l, no_clients, c, 2000));
    assert_true(mono_ms() - start >= TEST_64T1 - TEST_SLACK);
    assert_int_equal(c->calls, 1);
    assert_int_equal(layer_stats(c->tl).timeouts, 0);
    assert_int_equal(respond_invite(c, 486), -ENOENT);
}

static void test_invite_2xx_accepted(void **state)
{
    struct ctx *c = *state;
    send_req(c, "txn/client_invite.sip", BRANCH);
    assert_int_equal(respond_invite(c, 180), 0);
    assert_int_equal(respond_invite(c, 200), 0);
    assert_int_equal(c->calls, 2);
    assert_int_equal(c->statuses[1], 200);
    assert_null(txn_client_request(c->last_ct)); /* accepted: the key only */
    /* No ACK from the layer for a 2xx (the TU's, end to end). */
    assert_int_equal(c->tw.w.n, 1);
    /* Further 2xx: not ours to absorb, the proxy forwards them. */
    assert_int_equal(respond_invite(c, 200), -ENOENT);
    assert_int_equal(c->calls, 2);
    assert_true(run_until(c->l, no_clients, c, 2000));
    assert_int_equal(c->calls, 2);
    assert_int_equal(c->tw.w.n, 1);
}

static void test_non_invite_timer_e_capped_then_f(void **state)
{
    struct ctx *c = *state;
    send_req(c, "txn/client_options.sip", BRANCH);
    uint64_t start = mono_ms();
    assert_true(run_until(c->l, called, c, 3000));
    /* E: 10, 30, 70, 110, ..., 630 ms (T1 doubling, capped at T2 = 40). */
    size_t n = c->tw.w.n;
    assert_int_equal(n, 1 + TEST_CAPPED_RESENDS);
    uint64_t offsets[1 + TEST_CAPPED_RESENDS];
    capped_schedule(offsets);
    assert_schedule(&c->tw, offsets, n);
    assert_true(mono_ms() - start >= TEST_64T1 - TEST_SLACK);
    assert_int_equal(c->nulls, 1);
    struct txn_stats s = layer_stats(c->tl);
    assert_int_equal(s.timeouts, 1);
    assert_int_equal(s.retransmissions, TEST_CAPPED_RESENDS);
    assert_int_equal(s.clients, 0);
}

static void test_non_invite_provisional_then_final(void **state)
{
    struct ctx *c = *state;
    send_req(c, "txn/client_options.sip", BRANCH);
    assert_int_equal(respond_options(c, 100), 0);
    /* After a provisional, E runs at T2: within 100 ms (first at T1 = 10 ms,
     * then every 40), three sends at most. */
    run_for(c->l, 100);
    size_t n = c->tw.w.n;
    assert_true(n >= 2 && n <= 4);
    const uint64_t offsets[] = {0, 10, 50, 90};
    assert_schedule(&c->tw, offsets, n);

    assert_int_equal(respond_options(c, 200), 0);
    assert_int_equal(c->calls, 2);
    assert_int_equal(c->statuses[0], 100);
    assert_int_equal(c->statuses[1], 200);
    assert_null(txn_client_request(c->last_ct)); /* timer K needs the key only */
    /* Timer K absorbs a retransmitted final; nothing resent. */
    assert_int_equal(respond_options(c, 200), 0);
    assert_int_equal(c->calls, 2);
    n = c->tw.w.n;
    assert_true(run_until(c->l, no_clients, c, 1000));
    assert_int_equal(c->tw.w.n, n);
    assert_int_equal(respond_options(c, 200), -ENOENT);
    assert_int_equal(layer_stats(c->tl).timeouts, 0);
}

static void test_matching_by_branch_and_method(void **state)
{
    struct ctx *c = *state;
    send_req(c, "txn/client_invite.sip", BRANCH);
    assert_int_equal(respond(c, 200, "z9hG4bK-unknown", "314", "INVITE"), -ENOENT);
    /* Same branch, CSeq method CANCEL: the CANCEL's transaction, not ours. */
    assert_int_equal(respond(c, 200, BRANCH, "314", "CANCEL"), -ENOENT);
    assert_int_equal(c->calls, 0);
    assert_int_equal(respond(c, 180, BRANCH, "314", "INVITE"), 0);
    assert_int_equal(c->calls, 1);

    /* Another method with the INVITE's branch is a transaction of its own. */
    struct txn_client *cancel = NULL;
    osip_message_t *req = request("txn/client_options.sip", BRANCH);
    assert_int_equal(txn_client_send(c->tl, req, &c->dst, &c->tp, on_response, c, &cancel), 0);
    assert_int_equal(respond(c, 200, BRANCH, "2", "OPTIONS"), 0);
    assert_int_equal(c->calls, 2);
    assert_int_equal(layer_stats(c->tl).clients, 2);

    /* The same branch and method twice is refused (and freed). */
    req = request("txn/client_invite.sip", BRANCH);
    assert_int_equal(txn_client_send(c->tl, req, &c->dst, &c->tp, on_response, c, NULL), -EEXIST);
}

static void test_abandon(void **state)
{
    struct ctx *c = *state;
    struct txn_client *ct = send_req(c, "txn/client_invite.sip", BRANCH);
    txn_client_abandon(ct);
    assert_int_equal(respond_invite(c, 603), 0);
    assert_int_equal(c->calls, 0);
    /* Still ACKed, still absorbing. */
    assert_int_equal(c->tw.w.n, 2);
    assert_ack(c, 1);
    assert_int_equal(respond_invite(c, 603), 0);
    assert_int_equal(c->tw.w.n, 3);

    /* An abandoned request that times out: counted, no callback. */
    ct = send_req(c, "txn/client_options.sip", "z9hG4bK-abandoned-2");
    txn_client_abandon(ct);
    assert_true(run_until(c->l, no_clients, c, 3000));
    assert_int_equal(c->calls, 0);
    assert_int_equal(layer_stats(c->tl).timeouts, 1);
}

static void test_callback_abandons_itself(void **state)
{
    struct ctx *c = *state;
    send_req(c, "txn/client_invite.sip", BRANCH);
    c->abandon_in_cb = true;
    assert_int_equal(respond_invite(c, 180), 0);
    assert_int_equal(c->calls, 1);
    assert_int_equal(respond_invite(c, 486), 0);
    assert_int_equal(c->calls, 1);
    assert_int_equal(c->tw.w.n, 2);
    assert_ack(c, 1);

    /* Abandoning from the timeout callback, while it is being ended. */
    c->calls = 0;
    send_req(c, "txn/client_options.sip", "z9hG4bK-timeout-3");
    assert_true(run_until(c->l, called, c, 3000));
    assert_int_equal(c->nulls, 1);
    assert_true(run_until(c->l, no_clients, c, 2000));
}

static void test_callback_starts_new_transaction(void **state)
{
    struct ctx *c = *state;
    send_req(c, "txn/client_invite.sip", BRANCH);
    c->send_in_cb = true;
    assert_int_equal(respond_invite(c, 302), 0);
    assert_int_equal(c->calls, 1);
    assert_non_null(c->spawned);
    assert_int_equal(layer_stats(c->tl).clients, 2);
    assert_int_equal(respond(c, 200, "z9hG4bK-spawned-1", "2", "OPTIONS"), 0);
    assert_int_equal(c->calls, 2);
    assert_int_equal(c->statuses[1], 200);
}

static void test_timeout_callback_starts_new_transaction(void **state)
{
    struct ctx *c = *state;
    c->send_in_cb = true;
    send_req(c, "txn/client_options.sip", "z9hG4bK-timeout-4");
    assert_true(run_until(c->l, called, c, 3000));
    assert_int_equal(c->nulls, 1);
    assert_non_null(c->spawned);
    /* The timed-out one is gone, the one its callback started is live. */
    assert_int_equal(layer_stats(c->tl).clients, 1);
    assert_int_equal(respond(c, 200, "z9hG4bK-timeout-4", "2", "OPTIONS"), -ENOENT);
    assert_int_equal(respond(c, 200, "z9hG4bK-spawned-1", "2", "OPTIONS"), 0);
    assert_int_equal(c->calls, 2);
}

static void test_send_failure_frees(void **state)
{
    struct ctx *c = *state;
    struct txn_client *ct = (struct txn_client *)c;
    c->tw.w.fail_with = -EAGAIN;
    osip_message_t *req = request("txn/client_invite.sip", BRANCH);
    assert_int_equal(txn_client_send(c->tl, req, &c->dst, &c->tp, on_response, c, &ct), -EAGAIN);
    assert_null(ct);
    assert_int_equal(layer_stats(c->tl).clients, 0);
    assert_int_equal(c->calls, 0);
    c->tw.w.fail_with = 0;
    /* The branch is free again. */
    send_req(c, "txn/client_invite.sip", BRANCH);

    /* No branch at all: refused. */
    req = load_sip_v("txn/client_nobranch.sip", NULL);
    assert_int_equal(txn_client_send(c->tl, req, &c->dst, &c->tp, on_response, c, NULL), -EINVAL);
}

static void test_via_push_branch_keys_the_transaction(void **state)
{
    struct ctx *c = *state;
    char branch[SIP_BRANCH_LEN];
    osip_message_t *req = request("txn/client_options.sip", "z9hG4bK-inner");
    assert_int_equal(sip_via_push(req, &c->tp.local, NULL, branch, sizeof branch), 0);
    assert_int_equal(txn_client_send(c->tl, req, &c->dst, &c->tp, on_response, c, NULL), 0);
    assert_int_equal(respond(c, 200, "z9hG4bK-inner", "2", "OPTIONS"), -ENOENT);
    assert_int_equal(respond(c, 200, branch, "2", "OPTIONS"), 0);
    assert_int_equal(c->calls, 1);
}

static void test_ack_is_sent_statelessly(void **state)
{
    struct ctx *c = *state;
    struct txn_client *ct = (struct txn_client *)c;
    osip_message_t *ack =
        load_sip("txn/ack.sip", "BRANCH", "z9hG4bK-ack-9", "SENTBY", "10.0.0.1:5060", "TOTAG", "t");
    assert_int_equal(txn_client_send(c->tl, ack, &c->dst, &c->tp, on_response, c, &ct), 0);
    assert_null(ct);
    assert_int_equal(c->tw.w.n, 1);
    assert_int_equal(layer_stats(c->tl).clients, 0);
    run_for(c->l, 50);
    assert_int_equal(c->tw.w.n, 1);
}

static void test_layer_free_is_silent(void **state)
{
    struct ctx *c = *state;
    send_req(c, "txn/client_invite.sip", BRANCH);
    send_req(c, "txn/client_options.sip", BRANCH);
    send_req(c, "txn/client_invite.sip", "z9hG4bK-third");
    assert_int_equal(respond_invite(c, 500), 0);
    assert_int_equal(c->calls, 1);
    txn_layer_free(c->tl);
    c->tl = NULL;
    assert_int_equal(c->calls, 1);
}

/* RFC 3261 9.1: a CANCEL for an INVITE still waiting goes where it went,
 * in a transaction of its own; once the final came there is nothing to
 * cancel. */
static void test_cancel_follows_the_invite(void **state)
{
    struct ctx *c = *state;
    struct txn_client *inv = send_req(c, "txn/client_invite.sip", BRANCH);
    assert_int_equal(respond_invite(c, 180), 0);
    size_t before = c->tw.w.n;
    assert_int_equal(txn_client_cancel(inv), 0);
    assert_int_equal(c->tw.w.n, before + 1);
    assert_true(addr_equal(&c->tw.w.pkt[before].to, &c->dst));
    osip_message_t *m = sip_text(c->tw.w.pkt[before].buf);
    struct sip_via_info v;
    assert_string_equal(sip_method(m), "CANCEL");
    assert_int_equal(sip_via_get(m, 0, &v), 0);
    assert_string_equal(v.branch, BRANCH);
    sip_free(m);
    assert_int_equal(layer_stats(c->tl).clients, 2);
    /* the CANCEL's 200 ends its own transaction; the INVITE's 487 its */
    assert_int_equal(respond(c, 200, BRANCH, "314", "CANCEL"), 0);
    assert_int_equal(respond_invite(c, 487), 0);
    assert_int_equal(c->statuses[1], 487);
    assert_int_equal(txn_client_cancel(inv), -EALREADY);
}

/* RFC 3261 9.1: no CANCEL before a provisional (it could overtake the
 * INVITE and be answered 481): held, with its Reason, and sent on the
 * first provisional; once; never when the final comes first. */
static void test_cancel_waits_for_a_provisional(void **state)
{
    struct ctx *c = *state;
    struct txn_client *inv = send_req(c, "txn/client_invite.sip", BRANCH);
    size_t before = c->tw.w.n;
    assert_int_equal(txn_client_cancel_reason(inv, "SIP;cause=200;text=\"x\""), 0);
    assert_int_equal(txn_client_cancel(inv), 0); /* asked twice: one CANCEL */
    assert_int_equal(c->tw.w.n, before);
    assert_int_equal(layer_stats(c->tl).clients, 1);
    assert_int_equal(respond_invite(c, 100), 0);
    assert_int_equal(c->tw.w.n, before + 1);
    osip_message_t *m = sip_text(c->tw.w.pkt[before].buf);
    assert_string_equal(sip_method(m), "CANCEL");
    assert_string_equal(sip_header_get(m, "Reason"), "SIP;cause=200;text=\"x\"");
    sip_free(m);
    assert_int_equal(respond_invite(c, 180), 0);
    assert_int_equal(c->tw.w.n, before + 1); /* not again */

    /* another INVITE whose final comes first: nothing is ever sent */
    struct txn_client *inv2 = send_req(c, "txn/client_invite.sip", BRANCH "2");
    size_t n2 = c->tw.w.n;
    assert_int_equal(txn_client_cancel(inv2), 0);
    assert_int_equal(respond(c, 486, BRANCH "2", "314", "INVITE"), 0);
    for (size_t i = n2; i < c->tw.w.n; i++)
        assert_null(strstr(c->tw.w.pkt[i].buf, "CANCEL sip:"));
    assert_int_equal(txn_client_cancel(inv2), -EALREADY);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_invite_retransmits_then_times_out),
        T(test_invite_stops_retransmitting_after_1xx),
        T(test_timer_c_ends_a_branch_that_stays_silent),
        T(test_invite_non2xx_final_is_acked),
        T(test_invite_2xx_accepted),
        T(test_non_invite_timer_e_capped_then_f),
        T(test_non_invite_provisional_then_final),
        T(test_matching_by_branch_and_method),
        T(test_abandon),
        T(test_callback_abandons_itself),
        T(test_callback_starts_new_transaction),
        T(test_timeout_callback_starts_new_transaction),
        T(test_send_failure_frees),
        T(test_via_push_branch_keys_the_transaction),
        T(test_ack_is_sent_statelessly),
        T(test_layer_free_is_silent),
        T(test_cancel_follows_the_invite),
        T(test_cancel_waits_for_a_provisional),
    };
#undef T
    if (sip_init() != 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}

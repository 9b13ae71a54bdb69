/* txn_intake and txn_reply on a fake wire, without a daemon: what is
 * counted where, what reaches the dispatch, what is answered statelessly,
 * and that a trust check before the layer keeps no state for a refused
 * source. */
#include "helpers.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pinhole/txn.h"
#include "pinhole/txn_intake.h"
#include "pinhole/txn_reply.h"

enum { M_OPTIONS, M_ACK, M_INVITE, M_COUNT_APART };

struct stats {
    uint64_t requests[M_COUNT_APART + 1];
    uint64_t responses[600];
    uint64_t parse_errors, stray_responses, stray_acks, absorbed, acks_absorbed;
    uint64_t send_errors;
};

struct fx {
    struct loop *loop;
    struct txn_layer *tl;
    struct fake_wire wire;
    struct transport tp;
    struct stats n;
    struct txn_reply reply;
    struct log_ratelimit rl;
    struct txn_intake in;
    struct addr proxy, outsider;
    bool refuse_untrusted; /* install the trust check */
    size_t dispatched, refused;
    char last_name[TXN_INTAKE_METHOD_MAX + 1];
    size_t last_method;
    int answer; /* what dispatch answers; 0 = nothing */
};

static const char *const methods[M_COUNT_APART] = {
    [M_OPTIONS] = "OPTIONS",
    [M_ACK] = "ACK",
    [M_INVITE] = "INVITE",
};

static bool trusted(void *arg, const struct addr *src, size_t method)
{
    struct fx *f = arg;
    (void)method;
    return addr_equal(src, &f->proxy);
}

static void refuse(void *arg, const char *method_name, size_t method, const struct addr *src,
                   const char *buf, size_t len)
{
    struct fx *f = arg;
    f->refused++;
    f->last_method = method;
    snprintf(f->last_name, sizeof f->last_name, "%s", method_name);
    (void)txn_reply_raw(&f->reply, buf, len, 403, src);
}

static void dispatch(void *arg, struct txn_server *st, osip_message_t *req, size_t method,
                     const struct addr *src)
{
    struct fx *f = arg;
    (void)req;
    (void)src;
    f->dispatched++;
    f->last_method = method;
    if (f->answer)
        txn_reply_status(&f->reply, st, f->answer, NULL);
}

static int setup_with(void **state, bool with_trust)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(loop_new(&f->loop), 0);
    assert_int_equal(txn_layer_new(&f->tl, f->loop, NULL), 0);
    fake_wire_transport(&f->wire, &f->tp, "127.0.0.1:5070");
    f->proxy = test_addr("127.0.0.1:5060");
    f->outsider = test_addr("192.0.2.66:5060");
    f->reply = TXN_REPLY_INTO(&f->tp, &f->n, 100);
    f->rl.interval_s = 10;
    f->rl.burst = 20;
    f->in = (struct txn_intake){
        .tl = f->tl,
        .reply = &f->reply,
        .methods = methods,
        .n_methods = M_COUNT_APART,
        .counters = TXN_INTAKE_COUNTERS(&f->n),
        .log_rl = &f->rl,
        .trusted = with_trust ? trusted : NULL,
        .refuse = with_trust ? refuse : NULL,
        .dispatch = dispatch,
        .arg = f,
    };
    f->answer = 200;
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return setup_with(state, false);
}

static int setup_trust(void **state)
{
    return setup_with(state, true);
}

static int teardown(void **state)
{
    struct fx *f = *state;
    fake_wire_clear(&f->wire);
    txn_layer_free(f->tl);
    loop_free(f->loop);
    free(f);
    return 0;
}

/* Sends text with "\n" line ends as CRLF. */
static void send_text(struct fx *f, const struct addr *src, const char *text)
{
    size_t n = strlen(text), j = 0;
    char *buf = malloc(2 * n + 1);
    assert_non_null(buf);
    for (size_t i = 0; i < n; i++) {
        if (text[i] == '\n')
            buf[j++] = '\r';
        buf[j++] = text[i];
    }
    txn_intake_receive(&f->in, src, buf, j);
    free(buf);
}

static void send_bytes(struct fx *f, const struct addr *src, const char *buf, size_t len)
{
    txn_intake_receive(&f->in, src, buf, len);
}

static int status_of(const struct fx *f, size_t i)
{
    assert_true(i < f->wire.n);
    return atoi(f->wire.pkt[i].buf + strlen("SIP/2.0 "));
}

#define REQUEST(method, branch)                                                                    \
    method " sip:127.0.0.1:5070 SIP/2.0\n"                                                         \
           "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK" branch "\n"                             \
           "From: <sip:a@example.net>;tag=f\n"                                                     \
           "To: <sip:b@example.net>\n"                                                             \
           "Call-ID: " branch "@test\n"                                                            \
           "CSeq: 1 " method "\n"                                                                  \
           "Max-Forwards: 70\n"                                                                    \
           "Content-Length: 0\n\n"

/* ---- txn_reply ---- */

static void reply_counts_by_status_and_send_errors(void **state)
{
    struct fx *f = *state;
    osip_message_t *req = sip_text("OPTIONS sip:x@127.0.0.1 SIP/2.0\r\n"
                                   "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKr1\r\n"
                                   "From: <sip:a@example.net>;tag=f\r\n"
                                   "To: <sip:b@example.net>\r\n"
                                   "Call-ID: r1@test\r\n"
                                   "CSeq: 1 OPTIONS\r\n"
                                   "Content-Length: 0\r\n\r\n");
    struct txn_reply narrow = TXN_REPLY_INTO(&f->tp, &f->n, 100);
    narrow.slots = 200; /* 100..299 only */

    assert_int_equal(txn_reply_stateless(&narrow, req, 404, &f->proxy), 0);
    assert_int_equal(txn_reply_stateless(&narrow, req, 200, &f->proxy), 0);
    assert_int_equal(f->wire.n, 2);
    assert_int_equal(f->n.responses[200 - 100], 1);
    assert_int_equal(f->n.responses[404 - 100], 0); /* outside the slots: sent, not counted */
    f->wire.fail_with = -EAGAIN;
    assert_int_equal(txn_reply_stateless(&f->reply, req, 503, &f->proxy), -EAGAIN);
    assert_int_equal(f->n.send_errors, 1);
    assert_int_equal(f->n.responses[503 - 100], 0);
    sip_free(req);
}

/* ---- txn_intake ---- */

static void new_request_is_counted_and_dispatched(void **state)
{
    struct fx *f = *state;
    send_text(f, &f->proxy, REQUEST("OPTIONS", "o1"));
    assert_int_equal(f->dispatched, 1);
    assert_int_equal(f->last_method, M_OPTIONS);
    assert_int_equal(f->n.requests[M_OPTIONS], 1);
    assert_int_equal(f->wire.n, 1);
    assert_int_equal(status_of(f, 0), 200);
    assert_int_equal(f->n.responses[200 - 100], 1);
    /* answered to the datagram's source, whatever the Via says */
    assert_true(addr_equal(&f->wire.pkt[0].to, &f->proxy));
    assert_non_null(strstr(f->wire.pkt[0].buf, "received=127.0.0.1;rport=5060"));

    /* the retransmission is absorbed: the 200 again, no second dispatch */
    send_text(f, &f->proxy, REQUEST("OPTIONS", "o1"));
    assert_int_equal(f->dispatched, 1);
    assert_int_equal(f->n.absorbed, 1);
    assert_int_equal(f->n.requests[M_OPTIONS], 1);
    assert_int_equal(f->wire.n, 2);
    assert_int_equal(status_of(f, 1), 200);
    assert_int_equal(f->n.responses[200 - 100], 1); /* a resend is not a new response */
}

static void other_methods_share_the_last_slot(void **state)
{
    struct fx *f = *state;
    send_text(f, &f->proxy, REQUEST("SUBSCRIBE", "s1"));
    assert_int_equal(f->last_method, M_COUNT_APART);
    assert_int_equal(f->n.requests[M_COUNT_APART], 1);
}

static void unanswered_transaction_gets_500(void **state)
{
    struct fx *f = *state;
    f->answer = 0;
    send_text(f, &f->proxy, REQUEST("OPTIONS", "o2"));
    assert_int_equal(f->dispatched, 1);
    assert_int_equal(f->wire.n, 1);
    assert_int_equal(status_of(f, 0), 500);
    assert_int_equal(f->n.responses[500 - 100], 1);
}

static void ack_for_non_2xx_and_stray_ack(void **state)
{
    struct fx *f = *state;
    f->answer = 404;
    send_text(f, &f->proxy, REQUEST("INVITE", "i1"));
    assert_int_equal(status_of(f, 0), 404);
    send_text(f, &f->proxy,
              "ACK sip:127.0.0.1:5070 SIP/2.0\n"
              "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKi1\n"
              "From: <sip:a@example.net>;tag=f\n"
              "To: <sip:b@example.net>;tag=x\n"
              "Call-ID: i1@test\n"
              "CSeq: 1 ACK\n"
              "Max-Forwards: 70\n"
              "Content-Length: 0\n\n");
    assert_int_equal(f->n.acks_absorbed, 1);
    send_text(f, &f->proxy, REQUEST("ACK", "nothing"));
    assert_int_equal(f->n.stray_acks, 1);
    assert_int_equal(f->dispatched, 1);
    assert_int_equal(f->wire.n, 1); /* no ACK is ever answered */
    assert_int_equal(f->n.requests[M_ACK], 0);
}

static void responses_and_unparseable_datagrams(void **state)
{
    struct fx *f = *state;
    send_text(f, &f->proxy,
              "SIP/2.0 200 OK\n"
              "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKours\n"
              "From: <sip:a@example.net>;tag=f\n"
              "To: <sip:b@example.net>;tag=t\n"
              "Call-ID: resp@test\n"
              "CSeq: 1 OPTIONS\n"
              "Content-Length: 0\n\n");
    assert_int_equal(f->n.stray_responses, 1);
    assert_int_equal(f->wire.n, 0);

    send_text(f, &f->proxy, "this is not SIP\n\n");
    assert_int_equal(f->n.parse_errors, 1);
    assert_int_equal(f->wire.n, 0);

    /* answerable: 505 for another version, and its retransmission absorbed */
    const char *v3 = "OPTIONS sip:127.0.0.1:5070 SIP/3.0\n"
                     "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKv3\n"
                     "From: <sip:a@example.net>;tag=f\n"
                     "To: <sip:b@example.net>\n"
                     "Call-ID: v3@test\n"
                     "CSeq: 1 OPTIONS\n"
                     "Content-Length: 0\n\n";
    send_text(f, &f->proxy, v3);
    assert_int_equal(f->n.parse_errors, 2);
    assert_int_equal(f->wire.n, 1);
    assert_int_equal(status_of(f, 0), 505);
    send_text(f, &f->proxy, v3);
    assert_int_equal(f->n.absorbed, 1);
    assert_int_equal(f->n.responses[505 - 100], 1);
    assert_int_equal(f->dispatched, 0);
}

static void untrusted_source_is_refused_before_the_layer(void **state)
{
    struct fx *f = *state;
    struct txn_stats ts;
    send_text(f, &f->outsider, REQUEST("INVITE", "x1"));
    assert_int_equal(f->refused, 1);
    assert_int_equal(f->last_method, M_INVITE);
    assert_int_equal(f->dispatched, 0);
    assert_int_equal(f->n.requests[M_INVITE], 0);
    assert_int_equal(status_of(f, 0), 403);
    txn_layer_stats(f->tl, &ts);
    assert_int_equal(ts.servers, 0); /* no state for a forged source */

    assert_string_equal(f->last_name, "INVITE");

    /* its retransmission is not absorbed: refused again, statelessly */
    send_text(f, &f->outsider, REQUEST("INVITE", "x1"));
    assert_int_equal(f->refused, 2);
    assert_int_equal(f->n.absorbed, 0);

    /* never parsed (design.md "bounded cost per datagram"): what would be
     * a parse error from a proxy is refused on its first line, and so is
     * a parameter bomb */
    send_text(f, &f->outsider,
              "OPTIONS sip:127.0.0.1:5070 SIP/2.0\n"
              "Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKbad\n"
              "From: <sip:a@example.net>;tag=f\n"
              "To: <sip:b@example.net>\n"
              "Call-ID: bad@test\n"
              "CSeq: 1 OPTIONS\n"
              "Content-Length: 50\n\n");
    assert_int_equal(f->n.parse_errors, 0);
    assert_int_equal(f->refused, 3);
    assert_int_equal(f->last_method, M_OPTIONS);
    size_t sent = f->wire.n;
    static char bomb[SIP_MAX_MESSAGE];
    size_t o = (size_t)snprintf(bomb, sizeof bomb, "%s", "INVITE sip:x@y SIP/2.0\r\nTo: <sip:x@y>");
    while (o + 8 < 60000)
        o += (size_t)snprintf(bomb + o, sizeof bomb - o, ";p=1");
    o += (size_t)snprintf(bomb + o, sizeof bomb - o, "\r\n\r\n");
    send_bytes(f, &f->outsider, bomb, o);
    assert_int_equal(f->refused, 4);
    assert_int_equal(f->wire.n, sent); /* nothing to answer on: not answered */
    /* a response from it: stray; garbage: a parse error; neither parsed */
    send_text(f, &f->outsider, "SIP/2.0 200 OK\n\n");
    send_text(f, &f->outsider, "\x01\x02garbage");
    assert_int_equal(f->n.stray_responses, 1);
    assert_int_equal(f->n.parse_errors, 1);
    txn_layer_stats(f->tl, &ts);
    assert_int_equal(ts.servers, 0);

    /* the trusted proxy gets a transaction and the dispatch */
    send_text(f, &f->proxy, REQUEST("OPTIONS", "p1"));
    assert_int_equal(f->dispatched, 1);
    assert_int_equal(status_of(f, f->wire.n - 1), 200);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(reply_counts_by_status_and_send_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(new_request_is_counted_and_dispatched, setup, teardown),
        cmocka_unit_test_setup_teardown(other_methods_share_the_last_slot, setup, teardown),
        cmocka_unit_test_setup_teardown(unanswered_transaction_gets_500, setup, teardown),
        cmocka_unit_test_setup_teardown(ack_for_non_2xx_and_stray_ack, setup, teardown),
        cmocka_unit_test_setup_teardown(responses_and_unparseable_datagrams, setup, teardown),
        cmocka_unit_test_setup_teardown(untrusted_source_is_refused_before_the_layer, setup_trust,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, sip_test_setup, NULL);
}

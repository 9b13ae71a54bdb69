/* Per-source fairness (src/proxyd/flood.c): a flood from one source is cut
 * at its budget while other sources in the same loop turn still pass; the
 * budget refills with time; trusted peers are never cut. */
#include "helpers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flood.h"
#include "pinhole/sip.h"
#include "proxy.h"

/* How many of n datagrams from src at now_ms get each verdict. */
struct verdicts {
    int pass, refuse, drop;
};

static struct verdicts check_n(struct flood *f, const struct addr *src, int n, uint64_t now_ms)
{
    struct verdicts v = {0, 0, 0};
    for (int i = 0; i < n; i++) {
        switch (flood_check(f, src, now_ms)) {
        case FLOOD_PASS:
            v.pass++;
            break;
        case FLOOD_REFUSE:
            v.refuse++;
            break;
        case FLOOD_DROP:
            v.drop++;
            break;
        }
    }
    return v;
}

static void a_flood_is_cut_at_the_burst(void **state)
{
    (void)state;
    struct flood *f;
    struct addr bad = test_addr("198.51.100.66:5060"), good = test_addr("198.51.100.7:5060");
    assert_int_equal(flood_new(&f, 100, 200), 0);
    /* the burst passes, then half a burst is answered 503, the rest dropped */
    struct verdicts v = check_n(f, &bad, 10000, 1000);
    assert_int_equal(v.pass, 200);
    assert_int_equal(v.refuse, 100);
    assert_int_equal(v.drop, 10000 - 300);
    assert_int_equal(flood_drops(f), 10000 - 300);
    assert_int_equal(flood_refusals(f), 100);
    /* the same instant: another source is untouched by the flood */
    assert_int_equal(check_n(f, &good, 200, 1000).pass, 200);
    /* another port on the flooder's address is the same source (issue #15) */
    struct addr other_port = test_addr("198.51.100.66:5061");
    assert_int_equal(flood_check(f, &other_port, 1000), FLOOD_DROP);
    /* a new budget (reload) applies at once, a fuller bucket cut to it */
    assert_int_equal(flood_set_budget(f, 100, 50), 0);
    assert_int_equal(flood_set_budget(f, 0, 50), -EINVAL);
    struct addr fresh = test_addr("198.51.100.8:5060"); /* a full bucket of 200 */
    v = check_n(f, &fresh, 100, 1000);
    assert_int_equal(v.pass, 50); /* cut to the new burst */
    assert_int_equal(v.refuse, 25);
    flood_free(f);
}

static void the_budget_refills_at_the_rate(void **state)
{
    (void)state;
    struct flood *f;
    struct addr src = test_addr("[2001:db8::66]:5060");
    assert_int_equal(flood_new(&f, 100, 200), 0);
    while (flood_check(f, &src, 5000) != FLOOD_DROP)
        ;
    /* 100/s: 10 ms buys one datagram, 1 s a hundred, never more than burst;
     * the answers refill at half that */
    assert_int_equal(flood_check(f, &src, 5005), FLOOD_DROP);
    assert_int_equal(flood_check(f, &src, 5010), FLOOD_PASS);
    assert_int_equal(flood_check(f, &src, 5010), FLOOD_DROP);
    assert_int_equal(flood_check(f, &src, 5020), FLOOD_PASS);
    assert_int_equal(flood_check(f, &src, 5020), FLOOD_REFUSE); /* 20 ms: one 503 */
    assert_int_equal(flood_check(f, &src, 5020), FLOOD_DROP);
    struct verdicts v = check_n(f, &src, 1000, 6020);
    assert_int_equal(v.pass, 100);
    assert_int_equal(v.refuse, 50);
    v = check_n(f, &src, 1000, 3600000);
    assert_int_equal(v.pass, 200);
    assert_int_equal(v.refuse, 100);
    flood_free(f);
}

static void refuses_a_zero_budget(void **state)
{
    (void)state;
    struct flood *f = NULL;
    assert_int_equal(flood_new(&f, 0, 10), -EINVAL);
    assert_int_equal(flood_new(&f, 10, 0), -EINVAL);
}

/* ---- through proxyd's dispatch ---- */

struct ctx {
    struct loop *loop;
    struct proxyd_conf cfg;
    struct addr relay;
    struct fake_wire wire;
    struct transport tp;
    struct proxy *p;
    size_t busy; /* 503s with Retry-After seen by send_options */
};

/* OPTIONS number i (its branch and Call-ID) to the proxy from `from`; what
 * it answers stays on c->wire. */
static void send_option(struct ctx *c, const char *from, int i)
{
    struct addr src = test_addr(from);
    char text[512];
    int len = snprintf(text, sizeof text,
                       "OPTIONS sip:203.0.113.11:5060 SIP/2.0\r\n"
                       "Via: SIP/2.0/UDP %s;branch=z9hG4bKf%d\r\n"
                       "From: <sip:x@203.0.113.11>;tag=f\r\nTo: <sip:203.0.113.11>\r\n"
                       "Call-ID: f%d\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
                       "Content-Length: 0\r\n\r\n",
                       from, i, i);
    proxy_receive(c->p, &c->tp, &src, text, (size_t)len);
}

/* Sends n OPTIONS to the proxy from `from`; returns how many were answered
 * 200 and counts the 503s (each with Retry-After, to the sender) in
 * c->busy. */
static size_t send_options(struct ctx *c, const char *from, int n)
{
    size_t ok = 0;
    struct addr src = test_addr(from);
    for (int i = 0; i < n; i++) {
        send_option(c, from, i);
        for (size_t k = 0; k < c->wire.n; k++) {
            assert_true(addr_equal(&c->wire.pkt[k].to, &src));
            if (strncmp(c->wire.pkt[k].buf, "SIP/2.0 200 ", 12) == 0) {
                ok++;
                continue;
            }
            assert_int_equal(strncmp(c->wire.pkt[k].buf, "SIP/2.0 503 ", 12), 0);
            assert_non_null(strstr(c->wire.pkt[k].buf, "\r\nRetry-After: 5\r\n"));
            c->busy++;
        }
        fake_wire_clear(&c->wire);
    }
    return ok;
}

static void ctx_open(struct ctx *c, int rate, int burst, int max_transactions)
{
    memset(c, 0, sizeof *c);
    assert_int_equal(loop_new(&c->loop), 0);
    c->cfg.listen = c->cfg.advertise = test_addr("203.0.113.11:5060");
    c->cfg.redirect = test_addr("203.0.113.20:5060");
    c->relay = test_addr("203.0.113.22:5060");
    c->cfg.relays.v = &c->relay;
    c->cfg.relays.n = 1;
    c->cfg.nat.max_expires = 120;
    c->cfg.limits.source_rate = rate;
    c->cfg.limits.source_burst = burst;
    c->cfg.limits.max_transactions = max_transactions;
    fake_wire_transport(&c->wire, &c->tp, "203.0.113.11:5060");
    assert_int_equal(proxy_new(&c->p, c->loop, &c->cfg, &c->tp, NULL), 0);
}

static void ctx_close(struct ctx *c)
{
    fake_wire_clear(&c->wire);
    proxy_free(c->p);
    loop_free(c->loop);
}

static void a_flooding_phone_does_not_starve_another(void **state)
{
    (void)state;
    struct ctx c;
    ctx_open(&c, 0, 0, 0); /* the defaults: FLOOD_RATE, FLOOD_BURST */

    /* far more than the burst and the answer budget from one phone (cheap
     * datagrams that are no request, so nothing is answered, and little
     * time passes: the refill stays small)... */
    struct addr bad = test_addr("198.51.100.66:5060");
    uint64_t t0 = loop_now_ms(c.loop);
    for (int i = 0; i < FLOOD_BURST + FLOOD_BURST / 2 + 500; i++)
        proxy_receive(c.p, &c.tp, &bad, "x", 1);
    assert_int_equal(c.wire.n, 0);
    uint64_t refilled = (loop_now_ms(c.loop) - t0 + 20) * (FLOOD_RATE + FLOOD_RATE / 2) / 1000;
    uint64_t drops = proxy_flood_drops(c.p);
    assert_true(drops <= 500);
    assert_true(drops + refilled >= 500);
    assert_true(proxy_flood_refusals(c.p) + refilled >= FLOOD_BURST / 2);
    /* ...its real requests now go unanswered (a few may ride the refill)... */
    size_t answered = send_options(&c, "198.51.100.66:5060", 50) + c.busy;
    uint64_t more = proxy_flood_drops(c.p) - drops;
    assert_true(more >= 30);
    assert_int_equal(answered + more, 50);
    drops += more;
    /* ...and the next phone is answered at once */
    struct addr good = test_addr("198.51.100.7:5060");
    static const char one[] = "OPTIONS sip:203.0.113.11:5060 SIP/2.0\r\n"
                              "Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bKgood\r\n"
                              "From: <sip:y@203.0.113.11>;tag=g\r\nTo: <sip:203.0.113.11>\r\n"
                              "Call-ID: good\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
                              "Content-Length: 0\r\n\r\n";
    proxy_receive(c.p, &c.tp, &good, one, strlen(one));
    assert_int_equal(c.wire.n, 1);
    assert_true(addr_equal(&c.wire.pkt[0].to, &good));
    fake_wire_clear(&c.wire);

    fake_wire_clear(&c.wire);
    /* redirectd is trusted: its datagrams are never counted as a flood */
    assert_int_equal(send_options(&c, "203.0.113.20:5060", FLOOD_BURST + 500), FLOOD_BURST + 500);
    assert_int_equal(proxy_flood_drops(c.p), drops);
    ctx_close(&c);
}

/* Issue #15: the same flood spread over 20 source ports of one IP (it was
 * not limited at all when buckets were per IP and port) meets one budget,
 * limits.source_burst; another IP is served meanwhile. IPv6: one /64. */
static void a_flood_over_many_ports_meets_one_budget(void **state)
{
    struct ctx c;
    char from[64];
    size_t answered = 0;
    (void)state;
    ctx_open(&c, 10, 100, 0);
    for (int port = 40000; port < 40020; port++) {
        snprintf(from, sizeof from, "198.51.100.66:%d", port);
        answered += send_options(&c, from, 20); /* 400 in all */
    }
    /* the burst, and what refills meanwhile; half a burst told 503 */
    assert_true(answered >= 100 && answered <= 100 + 5);
    assert_true(c.busy >= 50 && c.busy <= 50 + 3);
    assert_true(proxy_flood_drops(c.p) >= 400 - 105 - 53);
    assert_int_equal(proxy_flood_drops(c.p) + c.busy + answered, 400);
    assert_int_equal(send_options(&c, "198.51.100.7:5060", 5), 5);
    /* an IPv6 source: its ports and its /64 share the budget */
    answered = 0;
    for (int host = 1; host <= 20; host++) {
        snprintf(from, sizeof from, "[2001:db8:0:1::%x]:%d", host, 5060 + host);
        answered += send_options(&c, from, 20);
    }
    assert_true(answered >= 100 && answered <= 100 + 5);
    assert_int_equal(send_options(&c, "[2001:db8:0:2::1]:5060", 5), 5); /* another /64 */
    ctx_close(&c);
}

/* A source a little over its budget (a trunk that outgrew it) is told so:
 * past its burst its requests get 503 with Retry-After, half a burst of
 * them, before anything goes unanswered. */
static void a_source_over_budget_gets_503_before_silence(void **state)
{
    struct ctx c;
    (void)state;
    ctx_open(&c, 1000, 100, 0);
    size_t ok = send_options(&c, "198.51.100.30:5060", 150);
    assert_true(ok >= 100);
    assert_int_equal(ok + c.busy, 150); /* every one answered */
    assert_true(c.busy >= 30);
    assert_int_equal(proxy_flood_drops(c.p), 0);
    assert_int_equal(proxy_flood_refusals(c.p), c.busy);
    /* a response over budget has no answer: nothing goes out for it */
    static const char resp[] =
        "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 203.0.113.11:5060;branch=z9hG4bKr\r\n"
        "From: <sip:a@x>;tag=1\r\nTo: <sip:b@x>;tag=2\r\nCall-ID: r\r\n"
        "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
    struct addr src = test_addr("198.51.100.30:5060");
    proxy_receive(c.p, &c.tp, &src, resp, strlen(resp));
    assert_int_equal(c.wire.n, 0);
    ctx_close(&c);
}

/* limits.max_transactions: beyond it new requests get a stateless 503
 * with Retry-After and no state; a retransmission of one it holds is
 * still absorbed; the cap is counted. */
static void max_transactions_bounds_memory_with_503(void **state)
{
    struct ctx c;
    char from[64];
    (void)state;
    ctx_open(&c, 0, 0, 5);
    for (int i = 0; i < 5; i++) {
        snprintf(from, sizeof from, "198.51.100.%d:5060", 10 + i);
        assert_int_equal(send_options(&c, from, 1), 1); /* 200, the transaction lingers */
    }
    struct txn_stats ts;
    txn_layer_stats(proxy_env(c.p)->txn, &ts);
    assert_int_equal(ts.servers, 5);
    send_option(&c, "198.51.100.99:5060", 6); /* the sixth */
    assert_int_equal(c.wire.n, 1);
    assert_int_equal(strncmp(c.wire.pkt[0].buf, "SIP/2.0 503 ", 12), 0);
    assert_non_null(strstr(c.wire.pkt[0].buf, "\r\nRetry-After: 5\r\n"));
    fake_wire_clear(&c.wire);
    /* ...and nothing was kept; a retransmission of a held one is absorbed */
    send_option(&c, "198.51.100.10:5060", 0); /* the first one again */
    assert_int_equal(c.wire.n, 1);
    assert_int_equal(strncmp(c.wire.pkt[0].buf, "SIP/2.0 200 ", 12), 0); /* its 200 again */
    fake_wire_clear(&c.wire);
    txn_layer_stats(proxy_env(c.p)->txn, &ts);
    assert_int_equal(ts.servers, 5);
    assert_int_equal(proxy_env(c.p)->stats.transactions_full, 1);
    ctx_close(&c);
}

int main(void)
{
    assert_int_equal(sip_init(), 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_flood_over_many_ports_meets_one_budget),
        cmocka_unit_test(max_transactions_bounds_memory_with_503),
        cmocka_unit_test(a_source_over_budget_gets_503_before_silence),
        cmocka_unit_test(a_flood_is_cut_at_the_burst),
        cmocka_unit_test(the_budget_refills_at_the_rate),
        cmocka_unit_test(refuses_a_zero_budget),
        cmocka_unit_test(a_flooding_phone_does_not_starve_another),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

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

static void a_flood_is_cut_at_the_burst(void **state)
{
    (void)state;
    struct flood *f;
    struct addr bad = test_addr("198.51.100.66:5060"), good = test_addr("198.51.100.7:5060");
    assert_int_equal(flood_new(&f, 100, 200), 0);
    int passed = 0;
    for (int i = 0; i < 10000; i++)
        passed += flood_allow(f, &bad, 1000);
    assert_int_equal(passed, 200);
    assert_int_equal(flood_drops(f), 10000 - 200);
    /* the same instant: another source is untouched by the flood */
    for (int i = 0; i < 200; i++)
        assert_true(flood_allow(f, &good, 1000));
    /* another port on the flooder's address is another source */
    struct addr other_port = test_addr("198.51.100.66:5061");
    assert_true(flood_allow(f, &other_port, 1000));
    flood_free(f);
}

static void the_budget_refills_at_the_rate(void **state)
{
    (void)state;
    struct flood *f;
    struct addr src = test_addr("[2001:db8::66]:5060");
    assert_int_equal(flood_new(&f, 100, 200), 0);
    while (flood_allow(f, &src, 5000))
        ;
    /* 100/s: 10 ms buys one datagram, 1 s a hundred, never more than burst */
    assert_false(flood_allow(f, &src, 5005));
    assert_true(flood_allow(f, &src, 5010));
    assert_false(flood_allow(f, &src, 5010));
    int passed = 0;
    for (int i = 0; i < 1000; i++)
        passed += flood_allow(f, &src, 6010);
    assert_int_equal(passed, 100);
    passed = 0;
    for (int i = 0; i < 1000; i++)
        passed += flood_allow(f, &src, 3600000);
    assert_int_equal(passed, 200);
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
};

/* Sends n OPTIONS to the proxy from `from`; returns how many were answered. */
static size_t send_options(struct ctx *c, const char *from, int n)
{
    size_t answered = 0;
    struct addr src = test_addr(from);
    char text[512];
    for (int i = 0; i < n; i++) {
        int len = snprintf(text, sizeof text,
                           "OPTIONS sip:203.0.113.11:5060 SIP/2.0\r\n"
                           "Via: SIP/2.0/UDP %s;branch=z9hG4bKf%d\r\n"
                           "From: <sip:x@203.0.113.11>;tag=f\r\nTo: <sip:203.0.113.11>\r\n"
                           "Call-ID: f%d\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
                           "Content-Length: 0\r\n\r\n",
                           from, i, i);
        proxy_receive(c->p, &c->tp, &src, text, (size_t)len);
        answered += c->wire.n;
        fake_wire_clear(&c->wire);
    }
    return answered;
}

static void a_flooding_phone_does_not_starve_another(void **state)
{
    (void)state;
    struct ctx c;
    memset(&c, 0, sizeof c);
    assert_int_equal(loop_new(&c.loop), 0);
    c.cfg.listen = c.cfg.advertise = test_addr("203.0.113.11:5060");
    c.cfg.redirect = test_addr("203.0.113.20:5060");
    c.relay = test_addr("203.0.113.22:5060");
    c.cfg.relays.v = &c.relay;
    c.cfg.relays.n = 1;
    c.cfg.nat.max_expires = 120;
    fake_wire_transport(&c.wire, &c.tp, "203.0.113.11:5060");
    assert_int_equal(proxy_new(&c.p, c.loop, &c.cfg, &c.tp, NULL), 0);

    /* far more than the burst from one phone (cheap datagrams, so little
     * time passes and the refill at FLOOD_RATE stays small)... */
    struct addr bad = test_addr("198.51.100.66:5060");
    uint64_t t0 = loop_now_ms(c.loop);
    for (int i = 0; i < FLOOD_BURST + 500; i++)
        proxy_receive(c.p, &c.tp, &bad, "x", 1);
    uint64_t refilled = (loop_now_ms(c.loop) - t0 + 20) * FLOOD_RATE / 1000;
    uint64_t drops = proxy_flood_drops(c.p);
    assert_true(drops <= 500);
    assert_true(drops + refilled >= 500);
    /* ...its real requests now go unanswered (a few may ride the refill)... */
    size_t answered = send_options(&c, "198.51.100.66:5060", 50);
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

    proxy_free(c.p);
    loop_free(c.loop);
}

int main(void)
{
    assert_int_equal(sip_init(), 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_flood_is_cut_at_the_burst),
        cmocka_unit_test(the_budget_refills_at_the_rate),
        cmocka_unit_test(refuses_a_zero_budget),
        cmocka_unit_test(a_flooding_phone_does_not_starve_another),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

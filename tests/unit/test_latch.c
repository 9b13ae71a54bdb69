/* latch: the fig. 11 state machine with design.md decision 6's rules. */
#include "helpers.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include "latch.h"

#define RELATCH_MS 3000

static struct latch_ep ep(const char *text)
{
    struct addr a = test_addr(text);
    struct latch_ep e;
    assert_int_equal(latch_ep_from_sockaddr(&e, &a.u.sa, a.len), 0);
    return e;
}

static struct latch_config cfg(void)
{
    struct latch_config c = {.relatch_after_ms = RELATCH_MS};
    return c;
}

static struct latch_result pkt(struct latch_pair *p, const char *from, uint64_t now)
{
    struct latch_config c = cfg();
    struct latch_ep e = ep(from);
    return latch_packet(p, &c, &e, 172, now);
}

static void assert_result(struct latch_result r, enum latch_verdict v, int from, int to)
{
    assert_int_equal(r.verdict, v);
    assert_int_equal(r.from, from);
    assert_int_equal(r.to, to);
}

static void assert_channel(const struct latch_pair *p, int i, const char *text)
{
    struct latch_ep e = ep(text);
    assert_true(latch_ep_equal(&p->ch[i].ep, &e));
}

/* A at A_ADDR and B at B_ADDR latched as channels 1 and 2 (index 0, 1). */
#define A_ADDR "203.0.113.5:40000"
#define B_ADDR "198.51.100.7:50000"
#define C_ADDR "192.0.2.66:6666"

static void latch_both(struct latch_pair *p, uint64_t now)
{
    memset(p, 0, sizeof *p);
    pkt(p, A_ADDR, now);
    pkt(p, B_ADDR, now);
}

static void test_first_source_latches_channel_1_and_waits_for_peer(void **state)
{
    struct latch_pair p = {0};
    (void)state;

    assert_result(pkt(&p, A_ADDR, 100), LATCH_NEW, 0, -1);
    assert_channel(&p, 0, A_ADDR);
    assert_int_equal(p.ch[1].ep.len, 0);
    assert_int_equal(p.ch[0].packets, 1);
    assert_int_equal(p.ch[0].bytes, 172);
    assert_int_equal(p.ch[0].drops, 1);
    assert_int_equal(p.ch[0].last_rx_ms, 100);
}

static void test_packets_before_peer_known_are_dropped_and_counted(void **state)
{
    struct latch_pair p = {0};
    (void)state;

    pkt(&p, A_ADDR, 100);
    assert_result(pkt(&p, A_ADDR, 120), LATCH_DROP_NO_PEER, 0, -1);
    assert_result(pkt(&p, A_ADDR, 140), LATCH_DROP_NO_PEER, 0, -1);
    assert_int_equal(p.ch[0].packets, 3);
    assert_int_equal(p.ch[0].drops, 3);
    assert_int_equal(p.unknown_drops, 0);
}

static void test_second_source_latches_channel_2_and_is_forwarded(void **state)
{
    struct latch_pair p = {0};
    (void)state;

    pkt(&p, A_ADDR, 100);
    assert_result(pkt(&p, B_ADDR, 110), LATCH_NEW, 1, 0);
    assert_channel(&p, 1, B_ADDR);
    assert_int_equal(p.ch[1].drops, 0);
    assert_int_equal(p.ch[1].packets, 1);
}

static void test_forwards_both_ways(void **state)
{
    struct latch_pair p;
    (void)state;

    latch_both(&p, 0);
    for (int i = 0; i < 5; i++) {
        assert_result(pkt(&p, A_ADDR, 20 * i), LATCH_FORWARD, 0, 1);
        assert_result(pkt(&p, B_ADDR, 20 * i), LATCH_FORWARD, 1, 0);
    }
    assert_int_equal(p.ch[0].packets, 6);
    assert_int_equal(p.ch[0].bytes, 6 * 172);
    assert_int_equal(p.ch[0].drops, 1); /* only the one before B was known */
    assert_int_equal(p.ch[1].packets, 6);
    assert_int_equal(p.ch[1].drops, 0);
    assert_int_equal(p.ch[1].last_rx_ms, 80);
}

static void test_third_source_dropped_and_counted(void **state)
{
    struct latch_pair p;
    (void)state;

    latch_both(&p, 0);
    assert_result(pkt(&p, C_ADDR, 10), LATCH_DROP_UNKNOWN, -1, -1);
    assert_result(pkt(&p, C_ADDR, 20), LATCH_DROP_UNKNOWN, -1, -1);
    assert_int_equal(p.unknown_drops, 2);
    assert_channel(&p, 0, A_ADDR);
    assert_channel(&p, 1, B_ADDR);
    assert_int_equal(p.ch[0].packets + p.ch[1].packets, 2);
    /* and media still flows where it went */
    assert_result(pkt(&p, A_ADDR, 30), LATCH_FORWARD, 0, 1);
}

static void test_same_ip_different_port_is_another_source(void **state)
{
    struct latch_pair p = {0};
    (void)state;

    pkt(&p, "203.0.113.5:40000", 0);
    assert_result(pkt(&p, "203.0.113.5:40002", 1), LATCH_NEW, 1, 0);
    assert_result(pkt(&p, "203.0.113.5:40004", 2), LATCH_DROP_UNKNOWN, -1, -1);
    assert_result(pkt(&p, "203.0.113.6:40000", 3), LATCH_DROP_UNKNOWN, -1, -1);
    assert_result(pkt(&p, "203.0.113.5:40002", 4), LATCH_FORWARD, 1, 0);
}

static void test_relatch_replaces_the_silent_channel(void **state)
{
    struct latch_pair p;
    (void)state;

    latch_both(&p, 1000);
    /* A keeps talking, B's NAT rebinds: B's old mapping goes silent. */
    pkt(&p, A_ADDR, 2000);
    pkt(&p, A_ADDR, 4000);
    assert_result(pkt(&p, C_ADDR, 1000 + RELATCH_MS - 1), LATCH_DROP_UNKNOWN, -1, -1);
    /* probation: LATCH_PROBATION packets in a row, the last one relatches */
    for (int i = 1; i < LATCH_PROBATION; i++)
        assert_result(pkt(&p, C_ADDR, 1000 + RELATCH_MS + i), LATCH_DROP_UNKNOWN, -1, -1);
    assert_result(pkt(&p, C_ADDR, 1000 + RELATCH_MS + 20), LATCH_RELATCH, 1, 0);
    assert_channel(&p, 1, C_ADDR);
    assert_channel(&p, 0, A_ADDR);
    assert_int_equal(p.relatches, 1);
    assert_int_equal(p.unknown_drops, LATCH_PROBATION);
    /* A now reaches the new mapping, and the old one is a stranger. */
    assert_result(pkt(&p, A_ADDR, 4100), LATCH_FORWARD, 0, 1);
    assert_result(pkt(&p, B_ADDR, 4100), LATCH_DROP_UNKNOWN, -1, -1);
    assert_result(pkt(&p, C_ADDR, 4200), LATCH_FORWARD, 1, 0);
}

static void test_no_relatch_while_both_active(void **state)
{
    struct latch_pair p;
    (void)state;

    latch_both(&p, 0);
    for (uint64_t t = 1000; t <= 20000; t += 1000) {
        pkt(&p, A_ADDR, t);
        pkt(&p, B_ADDR, t);
        assert_result(pkt(&p, C_ADDR, t + 500), LATCH_DROP_UNKNOWN, -1, -1);
    }
    assert_int_equal(p.relatches, 0);
    assert_int_equal(p.unknown_drops, 20);
}

static void test_relatch_takes_the_longest_silent_channel(void **state)
{
    struct latch_pair p;
    (void)state;

    latch_both(&p, 0);
    pkt(&p, A_ADDR, 500); /* B silent since 0, A since 500 */
    for (int i = 1; i < LATCH_PROBATION; i++)
        pkt(&p, C_ADDR, 10000);
    assert_result(pkt(&p, C_ADDR, 10000), LATCH_RELATCH, 1, 0);
    /* A is now the silent one: the next newcomer takes its place. */
    for (int i = 1; i < LATCH_PROBATION; i++)
        pkt(&p, "192.0.2.77:7777", 10001);
    assert_result(pkt(&p, "192.0.2.77:7777", 10001), LATCH_RELATCH, 0, 1);
    assert_int_equal(p.relatches, 2);
}

static void test_relatch_disabled_by_zero(void **state)
{
    struct latch_pair p;
    struct latch_config c = {.relatch_after_ms = 0};
    struct latch_ep e = ep(C_ADDR);
    (void)state;

    latch_both(&p, 0);
    assert_result(latch_packet(&p, &c, &e, 100, 1000000), LATCH_DROP_UNKNOWN, -1, -1);
    assert_int_equal(p.relatches, 0);
}

static void test_refuses_the_relay_itself(void **state)
{
    struct latch_pair p = {0};
    struct latch_config c = {.relatch_after_ms = RELATCH_MS,
                             .self = ep("192.0.2.1:0"),
                             .self_port_min = 30000,
                             .self_port_max = 30999};
    struct latch_ep own = ep("192.0.2.1:30004"), lo = ep("127.0.0.1:30500"),
                    lo6 = ep("[::1]:30500"), mapped = ep("[::ffff:127.0.0.1]:30500"),
                    own_other_port = ep("192.0.2.1:5060"), peer = ep("192.0.2.9:30004");
    (void)state;

    assert_int_equal(latch_packet(&p, &c, &own, 10, 0).verdict, LATCH_DROP_UNKNOWN);
    assert_int_equal(latch_packet(&p, &c, &lo, 10, 0).verdict, LATCH_DROP_UNKNOWN);
    assert_int_equal(latch_packet(&p, &c, &lo6, 10, 0).verdict, LATCH_DROP_UNKNOWN);
    assert_int_equal(latch_packet(&p, &c, &mapped, 10, 0).verdict, LATCH_DROP_UNKNOWN);
    assert_int_equal(p.unknown_drops, 4);
    assert_int_equal(p.ch[0].ep.len, 0);
    /* The relay host outside the range, and others inside it, are peers. */
    assert_int_equal(latch_packet(&p, &c, &own_other_port, 10, 0).verdict, LATCH_NEW);
    assert_int_equal(latch_packet(&p, &c, &peer, 10, 0).verdict, LATCH_NEW);
}

static void test_refuses_unusable_sources(void **state)
{
    struct latch_pair p = {0};
    struct latch_config c = cfg();
    struct latch_ep zero = ep("192.0.2.9:0"), unix_ep;
    struct sockaddr_un un = {.sun_family = AF_UNIX};
    (void)state;

    assert_int_equal(latch_ep_from_sockaddr(&unix_ep, (struct sockaddr *)&un, sizeof un), -EINVAL);
    memset(&unix_ep, 0, sizeof unix_ep);
    unix_ep.u.sa.sa_family = AF_UNIX;
    unix_ep.len = sizeof(sa_family_t);
    assert_int_equal(latch_packet(&p, &c, &zero, 10, 0).verdict, LATCH_DROP_UNKNOWN);
    assert_int_equal(latch_packet(&p, &c, &unix_ep, 10, 0).verdict, LATCH_DROP_UNKNOWN);
    /* a truncated IPv4 name (len short) is not a source either */
    struct latch_ep shorty = ep("192.0.2.9:1000");
    shorty.len = 4;
    assert_int_equal(latch_packet(&p, &c, &shorty, 10, 0).verdict, LATCH_DROP_UNKNOWN);
    assert_int_equal(p.unknown_drops, 3);
}

static void test_ipv6_sources(void **state)
{
    struct latch_pair p = {0};
    (void)state;

    assert_result(pkt(&p, "[2001:db8::1]:4000", 0), LATCH_NEW, 0, -1);
    assert_result(pkt(&p, "[2001:db8::2]:4000", 1), LATCH_NEW, 1, 0);
    assert_result(pkt(&p, "[2001:db8::1]:4000", 2), LATCH_FORWARD, 0, 1);
    assert_result(pkt(&p, "[2001:db8::1]:4001", 3), LATCH_DROP_UNKNOWN, -1, -1);
}

static void test_ep_equal(void **state)
{
    struct latch_ep a = ep("10.0.0.1:5000"), b = ep("10.0.0.1:5000"), c = ep("10.0.0.1:5001"),
                    d = ep("10.0.0.2:5000"), e = ep("[::ffff:10.0.0.1]:5000"),
                    f = ep("[fe80::1]:5000"), g = ep("[fe80::1]:5000");
    (void)state;

    assert_true(latch_ep_equal(&a, &b));
    assert_false(latch_ep_equal(&a, &c));
    assert_false(latch_ep_equal(&a, &d));
    assert_false(latch_ep_equal(&a, &e)); /* one socket sees one form only */
    assert_true(latch_ep_equal(&f, &g));
    g.u.in6.sin6_scope_id = 2;
    assert_false(latch_ep_equal(&f, &g));
}

static void test_send_drop_counts_on_source_channel(void **state)
{
    struct latch_pair p;
    (void)state;

    latch_both(&p, 0);
    latch_count_send_drop(&p, 1);
    latch_count_send_drop(&p, 7); /* ignored */
    latch_count_send_drop(&p, -1);
    assert_int_equal(p.ch[1].drops, 1);
    assert_int_equal(p.ch[0].drops, 1);
}

/* ---- sides: who may latch, where to send before latching (issue #15) ---- */

static void set_side(struct latch_pair *p, const char *ip_port)
{
    struct latch_ep e = ep(ip_port);
    uint16_t port = ntohs(e.u.sa.sa_family == AF_INET ? e.u.in.sin_port : e.u.in6.sin6_port);
    assert_int_equal(latch_set_side(p, &e, port), 0);
}

static void test_only_signalled_ips_latch(void **state)
{
    struct latch_pair p = {0};
    (void)state;

    set_side(&p, "203.0.113.5:0");
    set_side(&p, "198.51.100.7:0");
    /* an outsider spraying the port first takes nothing */
    for (int i = 0; i < 50; i++)
        assert_result(pkt(&p, C_ADDR, 100 + i), LATCH_DROP_UNKNOWN, -1, -1);
    assert_int_equal(p.ch[0].ep.len, 0);
    assert_int_equal(p.ch[1].ep.len, 0);
    assert_int_equal(p.unknown_drops, 50);
    /* the phones, from any port of their signalled IPs, do */
    assert_result(pkt(&p, A_ADDR, 200), LATCH_NEW, 0, -1);
    assert_result(pkt(&p, B_ADDR, 201), LATCH_NEW, 1, 0);
    assert_result(pkt(&p, C_ADDR, 202), LATCH_DROP_UNKNOWN, -1, -1);
    assert_result(pkt(&p, A_ADDR, 203), LATCH_FORWARD, 0, 1);
    assert_true(latch_ep_equal(pkt(&p, A_ADDR, 204).dst, &p.ch[1].ep));
}

static void test_an_outsider_never_retakes_a_silent_channel(void **state)
{
    struct latch_pair p = {0};
    (void)state;

    set_side(&p, "203.0.113.5:0");
    set_side(&p, "198.51.100.7:0");
    pkt(&p, A_ADDR, 0);
    pkt(&p, B_ADDR, 0);
    pkt(&p, A_ADDR, 10000);      /* B silent for 10 s: it may be retaken... */
    for (int i = 0; i < 20; i++) /* ...but not by an unsignalled IP */
        assert_result(pkt(&p, C_ADDR, 10000 + i), LATCH_DROP_UNKNOWN, -1, -1);
    assert_channel(&p, 1, B_ADDR);
    /* B's NAT rebinds to a new port: after probation it has its channel */
    for (int i = 1; i < LATCH_PROBATION; i++)
        assert_result(pkt(&p, "198.51.100.7:50002", 10100 + i), LATCH_DROP_UNKNOWN, -1, -1);
    assert_result(pkt(&p, "198.51.100.7:50002", 10200), LATCH_RELATCH, 1, 0);
    assert_int_equal(p.relatches, 1);
}

static void test_probation_counts_packets_in_a_row(void **state)
{
    struct latch_pair p;
    (void)state;

    latch_both(&p, 0); /* no sides: any source, fig. 11 */
    pkt(&p, A_ADDR, 10000);
    /* C is interrupted by D: C starts over */
    for (int i = 1; i < LATCH_PROBATION; i++)
        pkt(&p, C_ADDR, 10000);
    assert_result(pkt(&p, "192.0.2.77:7777", 10000), LATCH_DROP_UNKNOWN, -1, -1);
    assert_result(pkt(&p, C_ADDR, 10000), LATCH_DROP_UNKNOWN, -1, -1);
    /* the silent channel speaks again: C's count is void */
    assert_result(pkt(&p, B_ADDR, 10001), LATCH_FORWARD, 1, 0);
    for (int i = 0; i < 2 * LATCH_PROBATION; i++)
        assert_result(pkt(&p, C_ADDR, 10002), LATCH_DROP_UNKNOWN, -1, -1);
    assert_int_equal(p.relatches, 0);
    /* both silent again (A the longest): LATCH_PROBATION in a row from now */
    for (int i = 1; i < LATCH_PROBATION; i++)
        assert_result(pkt(&p, C_ADDR, 20000), LATCH_DROP_UNKNOWN, -1, -1);
    assert_result(pkt(&p, C_ADDR, 20000), LATCH_RELATCH, 0, 1);
}

static void test_latch_from_any_ignores_the_sides(void **state)
{
    struct latch_pair p = {0};
    struct latch_config c = cfg();
    struct latch_ep outsider = ep(C_ADDR);
    (void)state;

    c.any_source = true;
    set_side(&p, "203.0.113.5:0");
    assert_int_equal(latch_packet(&p, &c, &outsider, 10, 0).verdict, LATCH_NEW);
}

static void test_ipv4_mapped_source_matches_its_side(void **state)
{
    struct latch_pair p = {0};
    (void)state;

    set_side(&p, "203.0.113.5:0");
    assert_result(pkt(&p, "[::ffff:203.0.113.5]:40000", 0), LATCH_NEW, 0, -1);
    assert_result(pkt(&p, "[::ffff:192.0.2.66]:40000", 0), LATCH_DROP_UNKNOWN, -1, -1);
}

static void test_early_media_goes_to_the_other_sides_sdp_port(void **state)
{
    struct latch_pair p = {0};
    struct latch_ep b_sdp = ep("198.51.100.7:50000");
    (void)state;

    set_side(&p, "203.0.113.5:40000");
    set_side(&p, "198.51.100.7:50000");
    /* A talks before B: its audio goes to B's signalled IP, SDP port */
    struct latch_result r = pkt(&p, A_ADDR, 100);
    assert_result(r, LATCH_NEW, 0, -1);
    assert_non_null(r.dst);
    assert_true(latch_ep_equal(r.dst, &b_sdp));
    r = pkt(&p, A_ADDR, 120);
    assert_result(r, LATCH_EARLY, 0, -1);
    assert_true(latch_ep_equal(r.dst, &b_sdp));
    assert_int_equal(p.early, 2);
    assert_int_equal(p.ch[0].drops, 0);
    /* B's NAT did not keep its port: once it speaks, its real mapping wins */
    assert_result(pkt(&p, "198.51.100.7:61000", 140), LATCH_NEW, 1, 0);
    r = pkt(&p, A_ADDR, 160);
    assert_result(r, LATCH_FORWARD, 0, 1);
    assert_channel(&p, 1, "198.51.100.7:61000");
    assert_true(latch_ep_equal(r.dst, &p.ch[1].ep));
    assert_int_equal(p.early, 2);
}

static void test_early_media_is_bounded_and_never_returns_to_its_sender(void **state)
{
    struct latch_pair p = {0};
    (void)state;

    /* the only side with a port is A itself: nothing to send to */
    set_side(&p, "203.0.113.5:40000");
    set_side(&p, "198.51.100.7:0");
    assert_result(pkt(&p, A_ADDR, 0), LATCH_NEW, 0, -1);
    assert_null(pkt(&p, A_ADDR, 1).dst);
    /* B's port known: at most LATCH_EARLY_MAX packets go there */
    set_side(&p, "198.51.100.7:50000");
    int sent = 0;
    for (int i = 0; i < LATCH_EARLY_MAX + 10; i++)
        sent += pkt(&p, A_ADDR, 2).dst != NULL;
    assert_int_equal(sent, LATCH_EARLY_MAX);
    assert_result(pkt(&p, A_ADDR, 3), LATCH_DROP_NO_PEER, 0, -1);
}

static void test_set_side_keeps_one_entry_per_ip(void **state)
{
    struct latch_pair p = {0};
    struct latch_ep e = ep("203.0.113.5:0");
    (void)state;

    assert_int_equal(latch_set_side(&p, &e, 40000), 0);
    assert_int_equal(latch_set_side(&p, &e, 0), 0); /* a known port stays */
    assert_int_equal(p.nsides, 1);
    assert_int_equal(ntohs(p.side[0].u.in.sin_port), 40000);
    assert_int_equal(latch_set_side(&p, &e, 40002), 0); /* a re-INVITE moved it */
    assert_int_equal(ntohs(p.side[0].u.in.sin_port), 40002);
    for (int i = 1; i < LATCH_SIDES; i++) {
        char ip[32];
        snprintf(ip, sizeof ip, "192.0.2.%d:0", i);
        e = ep(ip);
        assert_int_equal(latch_set_side(&p, &e, 0), 0);
    }
    e = ep("192.0.2.200:0");
    assert_int_equal(latch_set_side(&p, &e, 0), -ENOSPC);
    assert_int_equal(p.nsides, LATCH_SIDES);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_only_signalled_ips_latch),
        cmocka_unit_test(test_an_outsider_never_retakes_a_silent_channel),
        cmocka_unit_test(test_probation_counts_packets_in_a_row),
        cmocka_unit_test(test_latch_from_any_ignores_the_sides),
        cmocka_unit_test(test_ipv4_mapped_source_matches_its_side),
        cmocka_unit_test(test_early_media_goes_to_the_other_sides_sdp_port),
        cmocka_unit_test(test_early_media_is_bounded_and_never_returns_to_its_sender),
        cmocka_unit_test(test_set_side_keeps_one_entry_per_ip),
        cmocka_unit_test(test_first_source_latches_channel_1_and_waits_for_peer),
        cmocka_unit_test(test_packets_before_peer_known_are_dropped_and_counted),
        cmocka_unit_test(test_second_source_latches_channel_2_and_is_forwarded),
        cmocka_unit_test(test_forwards_both_ways),
        cmocka_unit_test(test_third_source_dropped_and_counted),
        cmocka_unit_test(test_same_ip_different_port_is_another_source),
        cmocka_unit_test(test_relatch_replaces_the_silent_channel),
        cmocka_unit_test(test_no_relatch_while_both_active),
        cmocka_unit_test(test_relatch_takes_the_longest_silent_channel),
        cmocka_unit_test(test_relatch_disabled_by_zero),
        cmocka_unit_test(test_refuses_the_relay_itself),
        cmocka_unit_test(test_refuses_unusable_sources),
        cmocka_unit_test(test_ipv6_sources),
        cmocka_unit_test(test_ep_equal),
        cmocka_unit_test(test_send_drop_counts_on_source_channel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* NAT keepalives (src/proxyd/keepalive.c, design decision 10): one per
 * client per interval, spread over the interval, from the socket the
 * client registered on; OPTIONS mode drops a client after three unanswered
 * keepalives in a row and unregisters it at redirectd. */
#include "helpers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "intake.h"
#include "keepalive.h"
#include "nat_table.h"
#include "pinhole/sip.h"
#include "proxy_env.h"
#include "registration.h"

#define PROXY "203.0.113.11:5060"
#define REDIRECT "203.0.113.20:5060"
#define T1_MS 5

struct ctx {
    struct loop *loop;
    struct proxyd_conf cfg;
    struct addr relay;
    struct fake_wire wire, wire2;
    struct transport tp, tp2;
    struct proxy_env env;
    struct registration *reg;
    struct keepalive *ka;
    struct intake in; /* the answers to our OPTIONS come in here */
};

/* What proxyd wires keepalive's drop to: redirectd forgets the client. */
static void on_dropped(void *arg, const char *aor, const struct nat_binding *b)
{
    struct ctx *c = arg;
    assert_int_equal(registration_unregister(c->reg, aor, b), 0);
}

static int setup(void **state)
{
    struct ctx *c = calloc(1, sizeof *c);
    assert_non_null(c);
    assert_int_equal(loop_new(&c->loop), 0);
    c->cfg.listen = test_addr(PROXY);
    c->cfg.advertise = test_addr(PROXY);
    c->cfg.redirect = test_addr(REDIRECT);
    c->relay = test_addr("203.0.113.22:5060");
    c->cfg.relays.v = &c->relay;
    c->cfg.relays.n = 1;
    c->cfg.nat.max_expires = 120;
    c->cfg.nat.keepalive_interval = 0; /* the tests drive keepalive_tick */
    c->cfg.nat.keepalive = KEEPALIVE_CRLF;
    fake_wire_transport(&c->wire, &c->tp, PROXY);
    fake_wire_transport(&c->wire2, &c->tp2, "203.0.113.11:5062");
    struct txn_timers tm = {.t1_ms = T1_MS, .t2_ms = 8 * T1_MS, .t4_ms = 10 * T1_MS};
    assert_int_equal(proxy_env_open(&c->env, c->loop, &c->cfg, &tm), 0);
    assert_int_equal(registration_new(&c->reg, &c->env), 0);
    assert_int_equal(keepalive_new(&c->ka, &c->env, false, on_dropped, c), 0);
    intake_init(&c->in, &c->env, &(struct intake_handlers){0});
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    struct ctx *c = *state;
    proxy_env_close(&c->env);
    keepalive_free(c->ka);
    registration_free(c->reg);
    fake_wire_clear(&c->wire);
    fake_wire_clear(&c->wire2);
    loop_free(c->loop);
    free(c);
    return 0;
}

static void add_client(struct ctx *c, const char *aor, const char *nat, const struct transport *tp)
{
    struct addr a = test_addr(nat);
    assert_int_equal(nat_table_put(c->env.nat, aor, &a, tp, 0, 0), 0);
}

static void add_clients(struct ctx *c, int n)
{
    char aor[16], nat[64];
    for (int i = 0; i < n; i++) {
        snprintf(aor, sizeof aor, "c%d", i);
        snprintf(nat, sizeof nat, "198.51.100.%d:%d", i + 1, 40000 + i);
        add_client(c, aor, nat, &c->tp);
    }
}

/* Runs `ticks` ticks; checks no tick sends more than max_per_tick and
 * that every one of the n clients got exactly `each` CRLF keepalives. */
static void expect_spread(struct ctx *c, int n, int ticks, size_t max_per_tick, int each)
{
    int *got = calloc((size_t)n, sizeof *got);
    assert_non_null(got);
    for (int t = 0; t < ticks; t++) {
        keepalive_tick(c->ka);
        if (c->wire.n > max_per_tick)
            fail_msg("tick %d sent %zu keepalives (max %zu): a burst", t, c->wire.n, max_per_tick);
        for (size_t i = 0; i < c->wire.n; i++) {
            assert_int_equal(c->wire.pkt[i].len, 2);
            assert_memory_equal(c->wire.pkt[i].buf, "\r\n", 2);
            int idx = (int)(ntohl(c->wire.pkt[i].to.u.in.sin_addr.s_addr) & 0xff) - 1;
            assert_in_range(idx, 0, n - 1);
            assert_int_equal(addr_port(&c->wire.pkt[i].to), 40000 + idx);
            got[idx]++;
        }
        fake_wire_clear(&c->wire);
    }
    for (int i = 0; i < n; i++)
        if (got[i] != each)
            fail_msg("client %d got %d keepalives, want %d", i, got[i], each);
    free(got);
}

static void one_crlf_per_client_per_interval(void **state)
{
    struct ctx *c = *state;
    c->cfg.nat.keepalive_interval = 1;
    add_clients(c, 10);
    /* 10 clients, 1 s, 100 ms ticks: one ping per tick */
    expect_spread(c, 10, 10, 1, 1);
    expect_spread(c, 10, 10, 1, 1);
    assert_int_equal(c->env.stats.keepalives_sent, 20);
}

static void pings_are_spread_not_burst(void **state)
{
    struct ctx *c = *state;
    c->cfg.nat.keepalive_interval = 2;
    add_clients(c, 25);
    /* 25 clients over 20 ticks: 1.25 per tick, so 1 or 2, never 25 */
    expect_spread(c, 25, 20, 2, 1);
    expect_spread(c, 25, 40, 2, 2);
}

static void a_long_interval_pings_each_client_once(void **state)
{
    struct ctx *c = *state;
    c->cfg.nat.keepalive_interval = 20;
    add_clients(c, 3);
    expect_spread(c, 3, 200, 1, 1);
}

static void nothing_when_off_or_empty(void **state)
{
    struct ctx *c = *state;
    for (int t = 0; t < 50; t++)
        keepalive_tick(c->ka); /* on, but nobody to ping */
    add_clients(c, 5);
    c->cfg.nat.keepalive_interval = 0;
    for (int t = 0; t < 50; t++)
        keepalive_tick(c->ka);
    assert_int_equal(c->wire.n, 0);
}

static void each_keepalive_leaves_from_the_clients_own_socket(void **state)
{
    struct ctx *c = *state;
    struct addr a = test_addr("198.51.100.1:40000"), b = test_addr("198.51.100.2:40001");
    c->cfg.nat.keepalive_interval = 1;
    add_client(c, "a", "198.51.100.1:40000", &c->tp);
    add_client(c, "b", "198.51.100.2:40001", &c->tp2);
    for (int t = 0; t < 10; t++)
        keepalive_tick(c->ka);
    assert_int_equal(c->wire.n, 1);
    assert_int_equal(c->wire2.n, 1);
    assert_true(addr_equal(&c->wire.pkt[0].to, &a));
    assert_true(addr_equal(&c->wire2.pkt[0].to, &b));
}

/* ---- OPTIONS ---- */

static osip_message_t *parse_pkt(const struct fake_wire *w, size_t i)
{
    osip_message_t *m = NULL;
    struct sip_parse_result res;
    assert_int_equal(sip_parse(&m, w->pkt[i].buf, w->pkt[i].len, &res), 0);
    return m;
}

/* Ticks until one OPTIONS went out; returns it (parsed) and empties the wire. */
static osip_message_t *next_options(struct ctx *c)
{
    for (int t = 0; t < 10 && c->wire.n == 0; t++)
        keepalive_tick(c->ka);
    assert_int_equal(c->wire.n, 1);
    osip_message_t *m = parse_pkt(&c->wire, 0);
    fake_wire_clear(&c->wire);
    return m;
}

static void answer(struct ctx *c, const osip_message_t *req, int status, const char *from)
{
    osip_message_t *resp = NULL;
    char *buf;
    size_t len;
    struct addr src = test_addr(from);
    assert_int_equal(sip_response_new(&resp, req, status, "ph"), 0);
    assert_int_equal(sip_serialize(resp, &buf, &len), 0);
    intake_receive(&c->in, &c->tp, &src, buf, len);
    osip_free(buf);
    sip_free(resp);
}

static void stop_loop(struct timer *t, void *arg)
{
    (void)t;
    loop_stop(arg);
}

static void run_for(struct ctx *c, uint64_t ms)
{
    struct timer *t;
    assert_int_equal(timer_new(&t, c->loop, stop_loop, c->loop), 0);
    timer_start(t, ms);
    assert_int_equal(loop_run(c->loop), 0);
    timer_free(t);
}

static void options_keepalive_is_a_request_to_the_nat_address(void **state)
{
    struct ctx *c = *state;
    struct nat_binding b;
    c->cfg.nat.keepalive_interval = 1;
    c->cfg.nat.keepalive = KEEPALIVE_OPTIONS;
    add_client(c, "16", "198.51.100.28:40312", &c->tp);

    osip_message_t *opt = next_options(c);
    assert_true(sip_method_is(opt, "OPTIONS"));
    struct addr ruri, want = test_addr("198.51.100.28:40312");
    assert_int_equal(sip_request_uri_addr(opt, &ruri), 0);
    assert_true(addr_equal(&ruri, &want));
    assert_string_equal(sip_request_uri_user(opt), "16");
    struct sip_via_info v;
    assert_int_equal(sip_via_get(opt, 0, &v), 0);
    assert_string_equal(v.host, "203.0.113.11");
    assert_int_equal(v.port, 5060);
    assert_true(v.has_rport);

    /* any answer proves the path: a 405 resets the count too */
    assert_int_equal(nat_table_lookup(c->env.nat, "16", &b), 0);
    assert_int_equal(nat_table_keepalive_result(c->env.nat, "16", b.id, false), 1);
    answer(c, opt, 405, "198.51.100.28:40312");
    assert_int_equal(nat_table_lookup(c->env.nat, "16", &b), 0);
    assert_int_equal(b.missed, 0);
    assert_int_equal(c->env.stats.keepalive_failures, 0);
    sip_free(opt);
}

static void three_unanswered_options_drop_and_unregister(void **state)
{
    struct ctx *c = *state;
    struct nat_binding b;
    c->cfg.nat.keepalive_interval = 1;
    c->cfg.nat.keepalive = KEEPALIVE_OPTIONS;
    add_client(c, "16", "198.51.100.28:40312", &c->tp);

    for (int i = 0; i < 3; i++)
        sip_free(next_options(c));
    /* all three time out (64·T1) while retransmitted */
    run_for(c, 64 * T1_MS + 200);
    assert_int_equal(nat_table_lookup(c->env.nat, "16", &b), -ENOENT);
    assert_int_equal(c->env.stats.keepalive_failures, 3);
    assert_int_equal(c->env.stats.nat_clients_dropped, 1);

    /* the unregister went to redirectd, naming the channel we had registered */
    struct addr rd = test_addr(REDIRECT);
    osip_message_t *reg = NULL;
    for (size_t i = 0; i < c->wire.n && !reg; i++)
        if (addr_equal(&c->wire.pkt[i].to, &rd))
            reg = parse_pkt(&c->wire, i);
    assert_non_null(reg);
    assert_true(sip_method_is(reg, "REGISTER"));
    assert_string_equal(sip_to_user(reg), "16");
    assert_int_equal(sip_register_expires(reg), 0);
    struct addr contact, nat = test_addr("198.51.100.28:40312"), path, self = test_addr(PROXY);
    assert_int_equal(sip_contact_addr(reg, &contact), 0);
    assert_true(addr_equal(&contact, &nat));
    assert_int_equal(sip_path_first(reg, &path), 0);
    assert_true(addr_equal(&path, &self));
    sip_free(reg);
}

static void two_misses_then_an_answer_keeps_the_client(void **state)
{
    struct ctx *c = *state;
    struct nat_binding b;
    c->cfg.nat.keepalive_interval = 1;
    c->cfg.nat.keepalive = KEEPALIVE_OPTIONS;
    add_client(c, "16", "198.51.100.28:40312", &c->tp);

    sip_free(next_options(c));
    sip_free(next_options(c));
    osip_message_t *third = next_options(c);
    answer(c, third, 200, "198.51.100.28:40312"); /* the newest one answered */
    run_for(c, 64 * T1_MS + 200);                 /* the first two time out */
    assert_int_equal(nat_table_lookup(c->env.nat, "16", &b), 0);
    assert_int_equal(b.missed, 2);
    assert_int_equal(c->env.stats.nat_clients_dropped, 0);
    sip_free(third);
}

int main(void)
{
    assert_int_equal(sip_init(), 0);
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(one_crlf_per_client_per_interval),
        T(pings_are_spread_not_burst),
        T(a_long_interval_pings_each_client_once),
        T(nothing_when_off_or_empty),
        T(each_keepalive_leaves_from_the_clients_own_socket),
        T(options_keepalive_is_a_request_to_the_nat_address),
        T(three_unanswered_options_drop_and_unregister),
        T(two_misses_then_an_answer_keeps_the_client),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

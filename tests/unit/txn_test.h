/* Shared by test_txn_server.c and test_txn_client.c: SIP fixtures with
 * placeholders, a timed wire, and bounded loop driving. Header-only
 * (static) because the build links each test_*.c with helpers.c alone. */
#ifndef PINHOLE_TXN_TEST_H
#define PINHOLE_TXN_TEST_H

#include "helpers.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pinhole/loop.h"
#include "pinhole/sip.h"
#include "pinhole/txn.h"

/* Small RFC timers so every timer of the layer runs within a second. */
#define TEST_T1 10
#define TEST_T2 40
#define TEST_T4 50
#define TEST_MAX 200
#define TEST_64T1 (64 * TEST_T1)
/* libevent arms timers from the time cached at the start of a loop turn,
 * and the tables' clock (loop_now_ms) is CLOCK_MONOTONIC_COARSE (one
 * jiffy, up to 4 ms): a deadline may come that much before the precise
 * clock says it is due. */
#define TEST_SLACK 5

static inline uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Loads tests/fixtures/<name> with CRLF line ends, replaces each "@NAME@"
 * of the NULL-terminated pairs ("BRANCH", "z9hG4bK1", ...) and parses it. */
static inline osip_message_t *load_sip_v(const char *name, const char *const *pairs)
{
    size_t len;
    char *text = fixture_read_sip(name, &len);
    for (size_t i = 0; pairs && pairs[i]; i += 2) {
        char ph[64];
        snprintf(ph, sizeof ph, "@%s@", pairs[i]);
        char *at;
        while ((at = strstr(text, ph)) != NULL) {
            size_t pl = strlen(ph), vl = strlen(pairs[i + 1]);
            size_t tl = strlen(text);
            char *n = malloc(tl - pl + vl + 1);
            assert_non_null(n);
            memcpy(n, text, (size_t)(at - text));
            memcpy(n + (at - text), pairs[i + 1], vl);
            strcpy(n + (at - text) + vl, at + pl);
            free(text);
            text = n;
        }
    }
    osip_message_t *m = NULL;
    struct sip_parse_result res;
    int err = sip_parse(&m, text, strlen(text), &res);
    if (err != 0)
        fail_msg("fixture %s does not parse: %s", name, res.reason ? res.reason : "?");
    free(text);
    assert_non_null(m);
    return m;
}

#define load_sip(name, ...) load_sip_v(name, (const char *const[]){__VA_ARGS__, NULL})

/* A fake wire that also notes when each datagram left. */
struct timed_wire {
    struct fake_wire w;
    struct transport inner;
    uint64_t at[FAKE_WIRE_MAX];
};

static inline int timed_send(void *ctx, const struct addr *to, const void *buf, size_t len)
{
    struct timed_wire *tw = ctx;
    size_t n = tw->w.n;
    int err = transport_send(&tw->inner, to, buf, len);
    if (err == 0 && n < FAKE_WIRE_MAX)
        tw->at[n] = mono_ms();
    return err;
}

static inline void timed_wire_init(struct timed_wire *tw, struct transport *tp, const char *local)
{
    memset(tw, 0, sizeof *tw);
    fake_wire_transport(&tw->w, &tw->inner, local);
    *tp = tw->inner;
    tp->send = timed_send;
    tp->ctx = tw;
}

/* Datagram i left no earlier than offsets[i] ms after datagram 0. Offsets
 * from the first send, not gaps between sends: a resend stamped late under
 * load (or valgrind) shortens the next gap but never the schedule. */
static inline void assert_schedule(const struct timed_wire *tw, const uint64_t *offsets, size_t n)
{
    assert_true(tw->w.n >= n);
    for (size_t i = 1; i < n; i++) {
        uint64_t off = tw->at[i] - tw->at[0];
        if (off + TEST_SLACK < offsets[i])
            fail_msg("datagram %zu left after %llu ms, not before %llu", i, (unsigned long long)off,
                     (unsigned long long)offsets[i]);
    }
}

/* Timers G and E: T1 doubling, capped at T2, until 64·T1: 10, 30, 70, 110,
 * ... 630 ms after the first send (17 resends). */
#define TEST_CAPPED_RESENDS 17
static inline void capped_schedule(uint64_t *offsets)
{
    offsets[0] = 0;
    offsets[1] = 10;
    offsets[2] = 30;
    for (size_t i = 3; i <= TEST_CAPPED_RESENDS; i++)
        offsets[i] = 70 + 40 * (i - 3);
}

/* The parsed datagram number i (the caller frees it). */
static inline osip_message_t *wire_msg(const struct timed_wire *tw, size_t i)
{
    osip_message_t *m = NULL;
    struct sip_parse_result res;
    assert_true(i < tw->w.n);
    assert_int_equal(sip_parse(&m, tw->w.pkt[i].buf, tw->w.pkt[i].len, &res), 0);
    return m;
}

typedef int (*cond_fn)(void *arg);

static inline void deadline_cb(struct timer *t, void *arg)
{
    (void)t;
    *(bool *)arg = true;
}

/* Runs the loop until cond(arg) holds or ms pass. Returns cond's value.
 * A timer at the deadline bounds each blocking turn, and its firing (on
 * the loop's own clock) ends the run: no turn blocks past it. */
static inline int run_until(struct loop *l, cond_fn cond, void *arg, uint64_t ms)
{
    struct timer *deadline;
    bool over = false;
    assert_int_equal(timer_new(&deadline, l, deadline_cb, &over), 0);
    timer_start(deadline, ms);
    while (!(cond && cond(arg)) && !over)
        event_base_loop(loop_base(l), EVLOOP_ONCE);
    timer_free(deadline);
    return cond ? cond(arg) : 0;
}

/* Runs the loop for ms, whatever happens. */
static inline void run_for(struct loop *l, uint64_t ms)
{
    run_until(l, NULL, NULL, ms);
}

static inline struct txn_layer *test_layer(struct loop *l)
{
    struct txn_timers tm = {
        .t1_ms = TEST_T1, .t2_ms = TEST_T2, .t4_ms = TEST_T4, .server_max_ms = TEST_MAX};
    struct txn_layer *tl = NULL;
    assert_int_equal(txn_layer_new(&tl, l, &tm), 0);
    return tl;
}

/* The bench both test files build on: a loop, a layer with the test
 * timers, and a timed fake wire whose transport is tp. */
static inline void txn_bench_open(struct loop **l, struct txn_layer **tl, struct timed_wire *tw,
                                  struct transport *tp)
{
    assert_int_equal(loop_new(l), 0);
    *tl = test_layer(*l);
    timed_wire_init(tw, tp, "10.0.0.1:5060");
}

static inline void txn_bench_close(struct loop *l, struct txn_layer *tl, struct timed_wire *tw)
{
    txn_layer_free(tl);
    loop_free(l);
    fake_wire_clear(&tw->w);
}

static inline struct txn_stats layer_stats(const struct txn_layer *tl)
{
    struct txn_stats s;
    txn_layer_stats(tl, &s);
    return s;
}

#endif

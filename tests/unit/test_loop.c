#include "helpers.h"

#include <event2/event.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pinhole/log.h"
#include "pinhole/loop.h"

/* Runs loop turns until *flag reaches want or 2 s pass. */
static void pump_until(struct loop *l, const int *flag, int want)
{
    uint64_t deadline = loop_now_ms(l) + 2000;
    while (*flag < want && loop_now_ms(l) < deadline)
        event_base_loop(loop_base(l), EVLOOP_ONCE);
}

static void count_cb(struct timer *t, void *arg)
{
    (void)t;
    (*(int *)arg)++;
}

static void one_shot_and_periodic_timers(void **state)
{
    struct loop *l;
    struct timer *once, *every;
    int n_once = 0, n_every = 0;
    (void)state;
    assert_int_equal(loop_new(&l), 0);
    assert_int_equal(timer_new(&once, l, count_cb, &n_once), 0);
    assert_int_equal(timer_new(&every, l, count_cb, &n_every), 0);
    assert_false(timer_pending(once));
    timer_start(once, 5);
    timer_start_periodic(every, 5);
    assert_true(timer_pending(once));
    uint64_t t0 = loop_now_ms(l);
    pump_until(l, &n_every, 4);
    assert_int_equal(n_once, 1);
    assert_true(n_every >= 4);
    assert_true(loop_now_ms(l) - t0 >= 10);
    assert_false(timer_pending(once));
    timer_stop(every);
    int seen = n_every;
    timer_start(once, 30);
    pump_until(l, &n_once, 2);
    assert_int_equal(n_every, seen); /* stopped timers stay quiet */
    timer_free(once);
    timer_free(every);
    loop_free(l);
}

struct rx {
    int count;
    char last[128];
    struct addr from;
};

static void on_rx(struct udp_sock *s, const struct addr *from, char *buf, size_t len, void *arg)
{
    struct rx *rx = arg;
    (void)s;
    assert_int_equal(buf[len], '\0'); /* NUL-terminated for the parsers */
    snprintf(rx->last, sizeof rx->last, "%s", buf);
    rx->from = *from;
    rx->count++;
}

static void udp_roundtrip_and_oversize_drop(void **state)
{
    struct loop *l;
    struct udp_sock *a, *b;
    struct rx ra = {0}, rb = {0};
    struct addr any = test_addr("127.0.0.1:0");
    struct transport tp;
    (void)state;
    assert_int_equal(loop_new(&l), 0);
    assert_int_equal(udp_sock_open(&a, l, &any, on_rx, &ra), 0);
    assert_int_equal(udp_sock_open(&b, l, &any, on_rx, &rb), 0);
    assert_int_not_equal(addr_port(udp_sock_local(a)), 0);

    udp_sock_transport(a, &tp);
    assert_true(addr_equal(&tp.local, udp_sock_local(a)));
    assert_int_equal(transport_send(&tp, udp_sock_local(b), "hello", 5), 0);
    pump_until(l, &rb.count, 1);
    assert_string_equal(rb.last, "hello");
    assert_true(addr_equal(&rb.from, udp_sock_local(a)));

    /* A datagram over 64 KiB is dropped and counted; the next one still arrives. */
    static char big[UDP_MAX_DATAGRAM + 100];
    memset(big, 'x', sizeof big);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    int sz = 1 << 20;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
    const struct addr *to = udp_sock_local(b);
    ssize_t sent = sendto(fd, big, 65507, 0, &to->u.sa, to->len);
    close(fd);
    if (sent == 65507) { /* the IPv4 UDP maximum is under 64 KiB: nothing is oversize */
        pump_until(l, &rb.count, 2);
        assert_int_equal(udp_sock_oversize(b), 0);
    }
    assert_int_equal(udp_sock_send(a, udp_sock_local(b), "after", 5), 0);
    pump_until(l, &rb.count, 3);
    assert_string_equal(rb.last, "after");
    assert_int_equal(ra.count, 0);

    struct addr taken = *udp_sock_local(a);
    struct udp_sock *dup;
    assert_true(udp_sock_open(&dup, l, &taken, on_rx, &ra) < 0); /* port in use */
    udp_sock_close(a);
    udp_sock_close(b);
    loop_free(l);
}

static void sig_cb(int signo, void *arg)
{
    *(int *)arg = signo;
}

static void signals_arrive_in_the_loop(void **state)
{
    struct loop *l;
    int got = 0;
    (void)state;
    assert_int_equal(loop_new(&l), 0);
    assert_int_equal(loop_on_signal(l, SIGUSR1, sig_cb, &got), 0);
    raise(SIGUSR1);
    pump_until(l, &got, SIGUSR1);
    assert_int_equal(got, SIGUSR1);
    loop_free(l);
}

static void stop_cb(struct timer *t, void *arg)
{
    (void)t;
    loop_stop(arg);
}

static void run_returns_after_stop(void **state)
{
    struct loop *l;
    struct timer *t;
    (void)state;
    assert_int_equal(loop_new(&l), 0);
    assert_int_equal(timer_new(&t, l, stop_cb, l), 0);
    timer_start(t, 1);
    assert_int_equal(loop_run(l), 0);
    timer_free(t);
    loop_free(l);
}

static void log_levels_and_ratelimit(void **state)
{
    enum log_level lv;
    (void)state;
    assert_int_equal(log_level_parse("debug", &lv), 0);
    assert_int_equal(lv, LOGL_DEBUG);
    assert_int_equal(log_level_parse("WARN", &lv), 0);
    assert_int_equal(lv, LOGL_WARN);
    assert_int_not_equal(log_level_parse("loud", &lv), 0);
    assert_string_equal(log_level_name(LOGL_NOTICE), "notice");

    struct log_ratelimit rl = {.interval_s = 3600, .burst = 3};
    int allowed = 0;
    for (int i = 0; i < 100; i++)
        allowed += log_ratelimit_allow(&rl);
    assert_int_equal(allowed, 3);
    assert_int_equal(rl.suppressed, 97);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_shot_and_periodic_timers),
        cmocka_unit_test(udp_roundtrip_and_oversize_drop),
        cmocka_unit_test(signals_arrive_in_the_loop),
        cmocka_unit_test(run_returns_after_stop),
        cmocka_unit_test(log_levels_and_ratelimit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

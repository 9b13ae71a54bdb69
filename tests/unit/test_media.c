/* media: real relay sockets on 127.0.0.1, driven through the loop. Two
 * endpoints talk both ways through an RTP and an RTCP port; a third one
 * gets nothing and changes nothing. */
#include "helpers.h"

#include <errno.h>
#include <event2/event.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "media.h"
#include "relay_limits.h"

#define PORT_MIN 26000
#define PORT_MAX 26099

struct fx {
    struct loop *loop;
    struct media *m;
    struct media_sock rtp, rtcp;
    uint16_t port; /* rtp; rtcp is port + 1 */
    uint64_t activity;
    int a, b, c; /* endpoints */
};

static int bind_client(const char *where)
{
    struct addr a = test_addr(where);
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    assert_true(fd >= 0);
    if (bind(fd, &a.u.sa, a.len) != 0) {
        close(fd);
        return -errno;
    }
    return fd;
}

static uint16_t local_port(int fd)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof sin;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
    return ntohs(sin.sin_port);
}

static int open_pair(struct fx *f)
{
    for (f->port = PORT_MIN; f->port < PORT_MAX; f->port += 2) {
        if (media_sock_open(f->m, &f->rtp, f->port, &f->activity) != 0)
            continue;
        if (media_sock_open(f->m, &f->rtcp, (uint16_t)(f->port + 1), &f->activity) == 0)
            return 0;
        media_sock_close(&f->rtp);
    }
    return -EBUSY;
}

static int setup_relatch(void **state, unsigned relatch_after_s)
{
    struct fx *f = calloc(1, sizeof *f);
    struct media_config cfg = {.address = test_addr("127.0.0.1:0"),
                               .port_min = PORT_MIN,
                               .port_max = PORT_MAX,
                               .relatch_after_s = relatch_after_s};
    assert_non_null(f);
    assert_int_equal(loop_new(&f->loop), 0);
    assert_int_equal(media_new(&f->m, f->loop, &cfg), 0);
    assert_int_equal(open_pair(f), 0);
    f->a = bind_client("127.0.0.1:0");
    f->b = bind_client("127.0.0.1:0");
    f->c = bind_client("127.0.0.1:0");
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return setup_relatch(state, 5);
}

static int setup_fast_relatch(void **state)
{
    return setup_relatch(state, 1);
}

static int teardown(void **state)
{
    struct fx *f = *state;
    media_sock_close(&f->rtp);
    media_sock_close(&f->rtcp);
    media_sock_close(&f->rtp); /* closing twice is harmless */
    media_free(f->m);
    loop_free(f->loop);
    close(f->a);
    close(f->b);
    close(f->c);
    free(f);
    return 0;
}

static void pump(struct fx *f)
{
    for (int i = 0; i < 4; i++)
        event_base_loop(loop_base(f->loop), EVLOOP_ONCE | EVLOOP_NONBLOCK);
}

static void send_len(int fd, uint16_t port, const void *buf, size_t len)
{
    struct addr to = test_addr("127.0.0.1:0");
    addr_set_port(&to, port);
    assert_int_equal(sendto(fd, buf, len, 0, &to.u.sa, to.len), (ssize_t)len);
}

static void send_str(int fd, uint16_t port, const char *s)
{
    send_len(fd, port, s, strlen(s));
}

/* Pumps the loop until fd has a datagram (up to ~500 ms); returns its
 * length and the relay port it came from, or -1 when nothing arrived. */
static ssize_t recv_from_relay(struct fx *f, int fd, char *buf, size_t cap, uint16_t *from)
{
    for (int i = 0; i < 100; i++) {
        struct sockaddr_in sin;
        socklen_t slen = sizeof sin;
        pump(f);
        ssize_t n = recvfrom(fd, buf, cap - 1, 0, (struct sockaddr *)&sin, &slen);
        if (n >= 0) {
            buf[n] = '\0';
            if (from)
                *from = ntohs(sin.sin_port);
            return n;
        }
        assert_int_equal(errno, EAGAIN);
        struct pollfd p = {.fd = fd, .events = POLLIN};
        poll(&p, 1, 5);
    }
    return -1;
}

/* Nothing arrives on fd within ~50 ms of pumping. */
static void assert_silent(struct fx *f, int fd)
{
    char buf[64];
    for (int i = 0; i < 10; i++) {
        pump(f);
        struct pollfd p = {.fd = fd, .events = POLLIN};
        poll(&p, 1, 5);
    }
    assert_int_equal(recv(fd, buf, sizeof buf, MSG_DONTWAIT), -1);
}

static void expect(struct fx *f, int fd, const char *want, uint16_t from_port)
{
    char buf[256];
    uint16_t from = 0;
    assert_int_equal(recv_from_relay(f, fd, buf, sizeof buf, &from), (ssize_t)strlen(want));
    assert_string_equal(buf, want);
    assert_int_equal(from, from_port);
}

static struct media_totals totals(struct fx *f)
{
    struct media_totals t;
    media_get_totals(f->m, &t);
    return t;
}

/* A latched as channel 1, B as channel 2, on the RTP port. */
static void latch_a_b(struct fx *f)
{
    send_str(f->a, f->port, "a0");
    pump(f);
    send_str(f->b, f->port, "b0");
    expect(f, f->a, "b0", f->port);
}

static void test_two_endpoints_exchange_both_ways(void **state)
{
    struct fx *f = *state;
    const struct latch_pair *l = &f->rtp.latch;

    send_str(f->a, f->port, "a0"); /* peer unknown: dropped */
    pump(f);
    assert_int_equal(l->ch[0].drops, 1);
    assert_int_equal(totals(f).drops_no_peer, 1);
    send_str(f->b, f->port, "b0");
    expect(f, f->a, "b0", f->port);
    send_str(f->a, f->port, "a1");
    expect(f, f->b, "a1", f->port);
    send_str(f->b, f->port, "b1x");
    expect(f, f->a, "b1x", f->port);
    assert_silent(f, f->b); /* a0 never reached B */

    assert_int_equal(l->ch[0].packets, 2);
    assert_int_equal(l->ch[0].bytes, 4);
    assert_int_equal(l->ch[0].drops, 1);
    assert_int_equal(l->ch[1].packets, 2);
    assert_int_equal(l->ch[1].bytes, 5);
    assert_int_equal(l->ch[1].drops, 0);
    assert_int_equal(ntohs(l->ch[0].ep.u.in.sin_port), local_port(f->a));
    assert_int_equal(ntohs(l->ch[1].ep.u.in.sin_port), local_port(f->b));
    assert_int_equal(totals(f).received, 4);
    assert_int_equal(totals(f).forwarded, 3);
    assert_int_equal(totals(f).forwarded_bytes, 7);
    assert_true(f->activity > 0);
}

static void test_third_endpoint_gets_nothing_and_changes_nothing(void **state)
{
    struct fx *f = *state;
    const struct latch_pair *l = &f->rtp.latch;

    latch_a_b(f);
    send_str(f->c, f->port, "inject");
    send_str(f->c, f->port, "inject");
    assert_silent(f, f->a);
    assert_silent(f, f->b);
    assert_int_equal(l->unknown_drops, 2);
    assert_int_equal(totals(f).drops_unknown, 2);
    /* A and B still reach each other, and C still hears nothing. */
    send_str(f->a, f->port, "a1");
    expect(f, f->b, "a1", f->port);
    send_str(f->b, f->port, "b1");
    expect(f, f->a, "b1", f->port);
    assert_silent(f, f->c);
    assert_int_equal(l->relatches, 0);
}

static void test_rtcp_latches_on_its_own(void **state)
{
    struct fx *f = *state;
    uint16_t rtcp = (uint16_t)(f->port + 1);
    /* RTCP from other ports than RTP, as two NATs would map them. */
    int a2 = bind_client("127.0.0.1:0"), b2 = bind_client("127.0.0.1:0");

    latch_a_b(f);
    send_str(a2, rtcp, "rr-a");
    pump(f);
    send_str(b2, rtcp, "rr-b");
    expect(f, a2, "rr-b", rtcp);
    send_str(a2, rtcp, "sr-a");
    expect(f, b2, "sr-a", rtcp);
    /* RTP's endpoints are strangers on the RTCP port, and the other way. */
    send_str(f->a, rtcp, "x");
    send_str(a2, f->port, "y");
    assert_silent(f, f->b);
    assert_silent(f, b2);
    assert_int_equal(f->rtcp.latch.unknown_drops, 1);
    assert_int_equal(f->rtp.latch.unknown_drops, 1);
    assert_int_equal(f->rtcp.latch.ch[0].packets, 2);
    assert_int_equal(f->rtcp.latch.ch[1].packets, 1);
    close(a2);
    close(b2);
}

static void test_batches_both_ways(void **state)
{
    struct fx *f = *state;
    char pkt[172], buf[256];
    int got_a = 0, got_b = 0;

    latch_a_b(f);
    memset(pkt, 'r', sizeof pkt);
    /* More than one recvmmsg batch each way, before the loop runs. */
    for (int i = 0; i < 3 * RELAY_BATCH; i++) {
        send_len(f->a, f->port, pkt, sizeof pkt);
        send_len(f->b, f->port, pkt, sizeof pkt);
    }
    for (int i = 0; i < 200 && (got_a < 3 * RELAY_BATCH || got_b < 3 * RELAY_BATCH); i++) {
        pump(f);
        while (recv(f->a, buf, sizeof buf, MSG_DONTWAIT) == (ssize_t)sizeof pkt)
            got_a++;
        while (recv(f->b, buf, sizeof buf, MSG_DONTWAIT) == (ssize_t)sizeof pkt)
            got_b++;
    }
    assert_int_equal(got_a, 3 * RELAY_BATCH);
    assert_int_equal(got_b, 3 * RELAY_BATCH);
    assert_int_equal(f->rtp.latch.ch[0].packets, 1 + 3 * RELAY_BATCH);
    assert_int_equal(f->rtp.latch.ch[1].bytes, 2 + 3 * RELAY_BATCH * sizeof pkt);
    assert_int_equal(totals(f).drops_send, 0);
}

static void test_oversize_dropped_not_truncated(void **state)
{
    struct fx *f = *state;
    static char big[RELAY_MAX_PACKET + 100];

    latch_a_b(f);
    memset(big, 'v', sizeof big);
    send_len(f->a, f->port, big, sizeof big);
    assert_silent(f, f->b);
    assert_int_equal(totals(f).drops_oversize, 1);
    /* the largest allowed one goes through whole */
    char *buf = malloc(RELAY_MAX_PACKET + 1);
    send_len(f->a, f->port, big, RELAY_MAX_PACKET);
    assert_int_equal(recv_from_relay(f, f->b, buf, RELAY_MAX_PACKET + 1, NULL), RELAY_MAX_PACKET);
    free(buf);
}

static void test_relay_ports_are_not_latched(void **state)
{
    struct fx *f = *state;
    /* A spoofed or stray source inside the relay range on our address. */
    int self = -1;
    char where[32];
    for (unsigned p = PORT_MAX; p > f->port + 1u && self < 0; p--) {
        snprintf(where, sizeof where, "127.0.0.1:%u", p);
        self = bind_client(where);
    }
    if (self < 0)
        skip();
    send_str(self, f->port, "loop");
    pump(f);
    assert_int_equal(f->rtp.latch.ch[0].ep.len, 0);
    assert_int_equal(f->rtp.latch.unknown_drops, 1);
    close(self);
}

static void test_bind_collision_reported(void **state)
{
    struct fx *f = *state;
    struct media_sock s;

    assert_int_equal(media_sock_open(f->m, &s, f->port, NULL), -EADDRINUSE);
    assert_null(s.ev);
    media_sock_close(&s);
}

static void test_relatch_after_nat_rebinding(void **state)
{
    struct fx *f = *state; /* relatch_after = 1 s */
    int b_new = bind_client("127.0.0.1:0");

    latch_a_b(f);
    send_str(b_new, f->port, "too-early");
    assert_silent(f, f->a);
    usleep(1100 * 1000);
    send_str(f->a, f->port, "a-still-here");
    expect(f, f->b, "a-still-here", f->port);
    /* B's NAT mapping changed: the new source takes B's silent channel
     * once it has sent LATCH_PROBATION packets in a row; those before are
     * dropped. */
    for (int i = 1; i < LATCH_PROBATION; i++) {
        send_str(b_new, f->port, "b-probation");
        assert_silent(f, f->a);
    }
    send_str(b_new, f->port, "b-rebound");
    expect(f, f->a, "b-rebound", f->port);
    send_str(f->a, f->port, "a-to-new");
    expect(f, b_new, "a-to-new", f->port);
    assert_silent(f, f->b);
    assert_int_equal(f->rtp.latch.relatches, 1);
    assert_int_equal(f->rtp.latch.unknown_drops, LATCH_PROBATION);
    close(b_new);
}

static int bind_client6(void)
{
    struct addr a = test_addr("[::1]:0");
    int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    if (bind(fd, &a.u.sa, a.len) != 0) {
        close(fd);
        return -errno;
    }
    return fd;
}

static void test_ipv6_relay(void **state)
{
    struct fx *f = *state;
    struct media_config cfg = {.address = test_addr("[::1]:0"),
                               .port_min = PORT_MIN,
                               .port_max = PORT_MAX,
                               .relatch_after_s = 5};
    struct media *m6;
    struct media_sock s6;
    struct sockaddr_in6 to = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    char buf[64];
    int a = bind_client6(), b = bind_client6();

    if (a < 0 || b < 0)
        skip(); /* no IPv6 loopback here */
    assert_int_equal(media_new(&m6, f->loop, &cfg), 0);
    /* The IPv4 pair holds f->port on 127.0.0.1 only; [::1] is free. */
    assert_int_equal(media_sock_open(m6, &s6, f->port, NULL), 0);
    to.sin6_port = htons(f->port);
    assert_int_equal(sendto(a, "a6", 2, 0, (struct sockaddr *)&to, sizeof to), 2);
    pump(f);
    assert_int_equal(sendto(b, "b6", 2, 0, (struct sockaddr *)&to, sizeof to), 2);
    assert_int_equal(recv_from_relay(f, a, buf, sizeof buf, NULL), 2);
    assert_string_equal(buf, "b6");
    assert_int_equal(sendto(a, "a7", 2, 0, (struct sockaddr *)&to, sizeof to), 2);
    assert_int_equal(recv_from_relay(f, b, buf, sizeof buf, NULL), 2);
    assert_string_equal(buf, "a7");
    assert_int_equal(s6.latch.ch[0].ep.u.sa.sa_family, AF_INET6);
    assert_int_equal(s6.latch.ch[1].packets, 1);
    media_sock_close(&s6);
    media_free(m6);
    close(a);
    close(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_two_endpoints_exchange_both_ways, setup, teardown),
        cmocka_unit_test_setup_teardown(test_third_endpoint_gets_nothing_and_changes_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rtcp_latches_on_its_own, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batches_both_ways, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oversize_dropped_not_truncated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_relay_ports_are_not_latched, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bind_collision_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ipv6_relay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_relatch_after_nat_rebinding, setup_fast_relatch,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

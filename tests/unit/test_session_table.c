/* session_table: sessions by Call-ID, streams with real port pairs, the one
 * teardown path, idle timeout and lifetime cap. */
#include "helpers.h"

#include <errno.h>
#include <event2/event.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pinhole/sdp.h"
#include "relay_limits.h"
#include "session_table.h"

#define PORT_MIN 25000
#define PORT_MAX 25199 /* 100 pairs */

struct fx {
    struct loop *loop;
    struct session_table *t;
    struct session_table_config cfg;
};

static int setup_with(void **state, uint16_t port_min, uint16_t port_max)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(loop_new(&f->loop), 0);
    f->cfg = (struct session_table_config){.media_address = test_addr("127.0.0.1:0"),
                                           .port_min = port_min,
                                           .port_max = port_max,
                                           .session_timeout_s = 30,
                                           .max_lifetime_s = 0,
                                           .relatch_after_s = 5};
    assert_int_equal(session_table_new(&f->t, f->loop, &f->cfg), 0);
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return setup_with(state, PORT_MIN, PORT_MAX);
}

static int teardown(void **state)
{
    struct fx *f = *state;
    session_table_free(f->t);
    loop_free(f->loop);
    free(f);
    return 0;
}

static struct session *create(struct fx *f, const char *call_id)
{
    struct session *s = NULL;
    assert_int_equal(session_create(f->t, call_id, &s), 0);
    assert_non_null(s);
    return s;
}

static uint16_t add_stream(struct session *s)
{
    uint16_t port = 0;
    assert_int_equal(session_add_stream(s, &port), 0);
    return port;
}

static struct session_table_stats stats(struct fx *f)
{
    struct session_table_stats st;
    session_table_get_stats(f->t, &st);
    return st;
}

/* 0 when nothing holds 127.0.0.1:port, -EADDRINUSE when something does. */
static int probe_port(uint16_t port)
{
    struct addr a = test_addr("127.0.0.1:0");
    int fd = socket(AF_INET, SOCK_DGRAM, 0), err = 0;
    addr_set_port(&a, port);
    assert_true(fd >= 0);
    if (bind(fd, &a.u.sa, a.len) != 0)
        err = -errno;
    close(fd);
    return err;
}

static void test_create_and_lookup(void **state)
{
    struct fx *f = *state;
    struct session *a = create(f, "a84b4c76e66710@pc33.atlanta.example.com");
    struct session *b = create(f, "other-call");

    assert_ptr_equal(session_table_get(f->t, "a84b4c76e66710@pc33.atlanta.example.com"), a);
    assert_ptr_equal(session_table_get(f->t, "other-call"), b);
    assert_null(session_table_get(f->t, "other-cal"));
    assert_null(session_table_get(f->t, "other-call2"));
    assert_string_equal(session_call_id(b), "other-call");
    assert_int_equal(session_stream_count(a), 0);
    assert_int_equal(stats(f).sessions, 2);
}

static void test_one_session_per_call_id(void **state)
{
    struct fx *f = *state;
    struct session *a = create(f, "dup@x"), *b = NULL;

    assert_int_equal(session_create(f->t, "dup@x", &b), -EEXIST);
    assert_null(b);
    assert_ptr_equal(session_table_get(f->t, "dup@x"), a);
    assert_int_equal(stats(f).sessions, 1);
}

static void test_refuses_bad_call_ids(void **state)
{
    struct fx *f = *state;
    struct session *s = NULL;
    char longid[RELAY_CALL_ID_MAX + 2];

    assert_int_equal(session_create(f->t, "", &s), -EINVAL);
    assert_int_equal(session_create(f->t, "has space", &s), -EINVAL);
    assert_int_equal(session_create(f->t, "nl\r\nInjected: x", &s), -EINVAL);
    assert_int_equal(session_create(f->t, "del\x7f", &s), -EINVAL);
    assert_int_equal(session_create(f->t, "utf8-\xc3\xa9", &s), -EINVAL);
    memset(longid, 'x', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';
    assert_int_equal(session_create(f->t, longid, &s), -EINVAL);
    longid[RELAY_CALL_ID_MAX] = '\0'; /* exactly the limit is fine */
    assert_int_equal(session_create(f->t, longid, &s), 0);
    assert_string_equal(session_call_id(s), longid);
    assert_int_equal(stats(f).sessions, 1);
}

static void test_streams_get_bound_port_pairs(void **state)
{
    struct fx *f = *state;
    struct session *s = create(f, "streams@x");
    uint16_t audio = add_stream(s), video = add_stream(s);

    assert_int_equal(audio % 2, 0);
    assert_int_equal(video % 2, 0);
    assert_int_not_equal(audio, video);
    assert_in_range(audio, PORT_MIN, PORT_MAX - 1);
    assert_in_range(video, PORT_MIN, PORT_MAX - 1);
    assert_int_equal(session_stream_count(s), 2);
    assert_int_equal(session_stream_port(s, 0), audio);
    assert_int_equal(session_stream_port(s, 1), video);
    assert_int_equal(session_stream_port(s, 2), 0);
    assert_non_null(session_stream_latch(s, 1, true));
    assert_null(session_stream_latch(s, 2, false));
    /* RTP and RTCP sockets are really bound. */
    assert_int_equal(probe_port(audio), -EADDRINUSE);
    assert_int_equal(probe_port((uint16_t)(audio + 1)), -EADDRINUSE);
    assert_int_equal(probe_port(video), -EADDRINUSE);
    assert_int_equal(probe_port((uint16_t)(video + 1)), -EADDRINUSE);
    assert_int_equal(stats(f).streams, 2);
    assert_int_equal(stats(f).pairs_in_use, 2);
    assert_int_equal(stats(f).pairs_free, 98);
}

static void test_free_returns_ports(void **state)
{
    struct fx *f = *state;
    struct session *s = create(f, "bye@x");
    uint16_t p1 = add_stream(s), p2 = add_stream(s);

    session_free(s);
    assert_null(session_table_get(f->t, "bye@x"));
    assert_int_equal(stats(f).sessions, 0);
    assert_int_equal(stats(f).streams, 0);
    assert_int_equal(stats(f).pairs_in_use, 0);
    assert_int_equal(stats(f).pairs_free, 100);
    assert_int_equal(probe_port(p1), 0);
    assert_int_equal(probe_port((uint16_t)(p1 + 1)), 0);
    assert_int_equal(probe_port(p2), 0);
    /* The Call-ID can be used again. */
    s = create(f, "bye@x");
    add_stream(s);
    assert_int_equal(stats(f).pairs_in_use, 1);
}

static void test_stream_cap(void **state)
{
    struct fx *f = *state;
    struct session *s = create(f, "many@x");
    uint16_t port;

    for (int i = 0; i < SDP_MAX_MEDIA; i++)
        add_stream(s);
    assert_int_equal(session_add_stream(s, &port), -E2BIG);
    assert_int_equal(session_stream_count(s), SDP_MAX_MEDIA);
    assert_int_equal(stats(f).pairs_in_use, SDP_MAX_MEDIA);
}

static void test_many_sessions_hash_and_free(void **state)
{
    struct fx *f = *state;
    char id[64];

    for (int i = 0; i < 500; i++) {
        snprintf(id, sizeof id, "call-%d@host", i);
        create(f, id);
    }
    for (int i = 0; i < 500; i += 2) {
        snprintf(id, sizeof id, "call-%d@host", i);
        session_free(session_table_get(f->t, id));
    }
    for (int i = 0; i < 500; i++) {
        snprintf(id, sizeof id, "call-%d@host", i);
        struct session *s = session_table_get(f->t, id);
        if (i % 2)
            assert_string_equal(session_call_id(s), id);
        else
            assert_null(s);
    }
    assert_int_equal(stats(f).sessions, 250);
}

static void test_silent_session_times_out(void **state)
{
    struct fx *f = *state;
    struct session *s = create(f, "idle@x");
    uint16_t port = add_stream(s);
    uint64_t t0 = session_created_ms(s);

    assert_int_equal(session_last_activity_ms(s), t0);
    assert_int_equal(session_table_expire(f->t, t0 + 29999), 0);
    assert_ptr_equal(session_table_get(f->t, "idle@x"), s);
    assert_int_equal(session_table_expire(f->t, t0 + 30000), 1);
    assert_null(session_table_get(f->t, "idle@x"));
    assert_int_equal(stats(f).expired_idle, 1);
    assert_int_equal(stats(f).pairs_in_use, 0);
    assert_int_equal(probe_port(port), 0);
}

static int client(void)
{
    struct addr a = test_addr("127.0.0.1:0");
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, &a.u.sa, a.len), 0);
    return fd;
}

static void send_to_port(int fd, uint16_t port)
{
    struct addr to = test_addr("127.0.0.1:0");
    addr_set_port(&to, port);
    assert_int_equal(sendto(fd, "rtp", 3, 0, &to.u.sa, to.len), 3);
}

static void pump(struct fx *f)
{
    for (int i = 0; i < 5; i++)
        event_base_loop(loop_base(f->loop), EVLOOP_ONCE | EVLOOP_NONBLOCK);
}

static void test_media_keeps_a_session_alive(void **state)
{
    struct fx *f = *state;
    struct session *s = create(f, "talking@x");
    uint16_t port = add_stream(s);
    uint64_t t0 = session_created_ms(s);
    int a = client();

    usleep(60 * 1000);
    send_to_port(a, (uint16_t)(port + 1)); /* RTCP counts as activity too */
    pump(f);
    assert_true(session_last_activity_ms(s) >= t0 + 50);
    assert_int_equal(session_stream_latch(s, 0, true)->ch[0].packets, 1);
    assert_int_equal(session_table_expire(f->t, t0 + 30000), 0);
    assert_int_equal(session_table_expire(f->t, session_last_activity_ms(s) + 30000), 1);
    close(a);
}

static void test_strangers_do_not_keep_a_session_alive(void **state)
{
    struct fx *f = *state;
    struct session *s = create(f, "hijack@x");
    uint16_t port = add_stream(s);
    int a = client(), b = client(), c = client();

    send_to_port(a, port);
    send_to_port(b, port);
    pump(f);
    uint64_t last = session_last_activity_ms(s);
    usleep(60 * 1000);
    send_to_port(c, port); /* refused third source */
    pump(f);
    assert_int_equal(session_stream_latch(s, 0, false)->unknown_drops, 1);
    assert_int_equal(session_last_activity_ms(s), last);
    close(a);
    close(b);
    close(c);
}

/* A re-INVITE for a call on hold (no media) keeps its ports. */
static void test_signalling_touch_keeps_a_session_alive(void **state)
{
    struct fx *f = *state;
    struct session *s = create(f, "hold@x");
    add_stream(s);
    uint64_t t0 = session_last_activity_ms(s);
    session_touch(s, t0 + 20000);
    assert_int_equal(session_table_expire(f->t, t0 + 30000), 0); /* 30 s after creation */
    session_touch(s, t0 + 10000); /* never goes back */
    assert_int_equal(session_last_activity_ms(s), t0 + 20000);
    assert_int_equal(session_table_expire(f->t, t0 + 50000), 1);
}

static void test_lifetime_cap(void **state)
{
    struct fx *f = *state;
    struct session *s;
    uint64_t t0;

    f->cfg.session_timeout_s = 3600;
    f->cfg.max_lifetime_s = 60;
    assert_int_equal(session_table_reconfigure(f->t, &f->cfg), 0);
    s = create(f, "long@x");
    add_stream(s);
    t0 = session_created_ms(s);
    assert_int_equal(session_table_expire(f->t, t0 + 59999), 0);
    assert_int_equal(session_table_expire(f->t, t0 + 60000), 1);
    assert_null(session_table_get(f->t, "long@x"));
    assert_int_equal(stats(f).expired_lifetime, 1);
    assert_int_equal(stats(f).expired_idle, 0);
    assert_int_equal(stats(f).pairs_in_use, 0);
}

static void test_no_lifetime_cap_by_default(void **state)
{
    struct fx *f = *state;
    struct session *s = create(f, "forever@x");
    uint64_t t0 = session_created_ms(s);

    f->cfg.session_timeout_s = 86400;
    assert_int_equal(session_table_reconfigure(f->t, &f->cfg), 0);
    assert_int_equal(session_table_expire(f->t, t0 + 86399999), 0);
    assert_ptr_equal(session_table_get(f->t, "forever@x"), s);
}

static void test_reconfigure_keeps_address_and_range(void **state)
{
    struct fx *f = *state;
    struct session_table_config c = f->cfg;

    c.port_max = PORT_MAX + 100;
    assert_int_equal(session_table_reconfigure(f->t, &c), -EINVAL);
    c = f->cfg;
    c.media_address = test_addr("127.0.0.2:0");
    assert_int_equal(session_table_reconfigure(f->t, &c), -EINVAL);
    c = f->cfg;
    c.session_timeout_s = 0;
    assert_int_equal(session_table_reconfigure(f->t, &c), -EINVAL);
}

static void test_bad_configs_refused(void **state)
{
    struct fx *f = *state;
    struct session_table *t = NULL;
    struct session_table_config c = f->cfg;

    c.session_timeout_s = 0;
    assert_int_equal(session_table_new(&t, f->loop, &c), -EINVAL);
    c = f->cfg;
    c.port_min = 30001;
    c.port_max = 30001;
    assert_int_equal(session_table_new(&t, f->loop, &c), -EINVAL);
    c = f->cfg;
    memset(&c.media_address, 0, sizeof c.media_address);
    assert_int_equal(session_table_new(&t, f->loop, &c), -EINVAL);
    assert_null(t);
}

static int setup_small(void **state)
{
    return setup_with(state, 25400, 25403); /* two pairs */
}

static void test_exhaustion_then_reuse(void **state)
{
    struct fx *f = *state;
    struct session *a = create(f, "a@x"), *b = create(f, "b@x");
    uint16_t port;

    add_stream(a);
    add_stream(b);
    assert_int_equal(session_add_stream(b, &port), -EBUSY);
    assert_int_equal(session_stream_count(b), 1);
    session_free(a);
    assert_int_equal(session_add_stream(b, &port), 0);
    assert_int_equal(session_stream_count(b), 2);
}

static void test_free_table_with_live_sessions(void **state)
{
    struct fx *f = *state;
    /* teardown frees these; ASan reports anything left behind */
    add_stream(create(f, "left1@x"));
    add_stream(create(f, "left2@x"));
    assert_int_equal(stats(f).sessions, 2);
}

struct visits {
    const char *seen[8];
    size_t n, stop_after;
};

static bool visit(const struct session *s, void *arg)
{
    struct visits *v = arg;
    v->seen[v->n++] = session_call_id(s);
    return v->n < v->stop_after;
}

/* /sessions walks the table oldest first and stops once it has a page. */
static void test_foreach_oldest_first_and_stops(void **state)
{
    struct fx *f = *state;
    create(f, "first");
    struct session *mid = create(f, "second");
    create(f, "third");
    struct visits all = {.stop_after = 8};
    session_table_foreach(f->t, visit, &all);
    assert_int_equal(all.n, 3);
    assert_string_equal(all.seen[0], "first");
    assert_string_equal(all.seen[1], "second");
    assert_string_equal(all.seen[2], "third");
    struct visits two = {.stop_after = 2};
    session_table_foreach(f->t, visit, &two);
    assert_int_equal(two.n, 2);
    session_free(mid);
    struct visits left = {.stop_after = 8};
    session_table_foreach(f->t, visit, &left);
    assert_int_equal(left.n, 2);
    assert_string_equal(left.seen[1], "third");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_and_lookup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreach_oldest_first_and_stops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_session_per_call_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_bad_call_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_streams_get_bound_port_pairs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_returns_ports, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stream_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_sessions_hash_and_free, setup, teardown),
        cmocka_unit_test_setup_teardown(test_silent_session_times_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_media_keeps_a_session_alive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_strangers_do_not_keep_a_session_alive, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_signalling_touch_keeps_a_session_alive, setup, teardown),

        cmocka_unit_test_setup_teardown(test_lifetime_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_lifetime_cap_by_default, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reconfigure_keeps_address_and_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_configs_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exhaustion_then_reuse, setup_small, teardown),
        cmocka_unit_test_setup_teardown(test_free_table_with_live_sessions, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

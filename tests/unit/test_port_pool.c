/* port_pool: even/odd pairs, range bounds, exhaustion, LRU reuse, skipping
 * ports held by someone else. */
#include "helpers.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "port_pool.h"

/* A fake binder: ports listed in `taken` answer -EADDRINUSE. */
struct fake_binder {
    uint16_t taken[8];
    size_t ntaken;
    int fail_with; /* non-zero: every try returns this */
    unsigned calls;
};

static int fake_try(uint16_t port, void *arg)
{
    struct fake_binder *b = arg;
    b->calls++;
    if (b->fail_with)
        return b->fail_with;
    for (size_t i = 0; i < b->ntaken; i++)
        if (b->taken[i] == port || b->taken[i] == port + 1)
            return -EADDRINUSE;
    return 0;
}

static uint16_t alloc_ok(struct port_pool *p, struct fake_binder *b)
{
    uint16_t port = 0;
    assert_int_equal(port_pool_alloc(p, fake_try, b, &port), 0);
    return port;
}

static void test_pairs_cover_the_range_exactly(void **state)
{
    struct port_pool *p;
    struct fake_binder b = {0};
    bool seen[10] = {false};
    (void)state;

    /* 20001 is odd: the first RTP port is 20002; 20010 has no 20011. */
    assert_int_equal(port_pool_new(&p, 20001, 20010), 0);
    assert_int_equal(port_pool_capacity(p), 4);
    for (int i = 0; i < 4; i++) {
        uint16_t port = alloc_ok(p, &b);
        assert_int_equal(port % 2, 0);
        assert_in_range(port, 20002, 20008);
        assert_true(port + 1 <= 20010);
        assert_false(seen[port - 20000]);
        seen[port - 20000] = true;
    }
    assert_int_equal(port_pool_in_use(p), 4);
    assert_int_equal(port_pool_available(p), 0);
    port_pool_free(p);
}

static void test_first_allocations_in_port_order(void **state)
{
    struct port_pool *p;
    struct fake_binder b = {0};
    (void)state;

    assert_int_equal(port_pool_new(&p, 30000, 30009), 0);
    assert_int_equal(port_pool_capacity(p), 5);
    for (uint16_t want = 30000; want <= 30008; want += 2)
        assert_int_equal(alloc_ok(p, &b), want);
    port_pool_free(p);
}

static void test_range_edges(void **state)
{
    struct port_pool *p;
    struct fake_binder b = {0};
    (void)state;

    assert_int_equal(port_pool_new(&p, 0, 100), -EINVAL);
    assert_int_equal(port_pool_new(&p, 20000, 20000), -EINVAL);
    assert_int_equal(port_pool_new(&p, 20001, 20002), -EINVAL); /* 20002 needs 20003 */
    assert_int_equal(port_pool_new(&p, 20010, 20000), -EINVAL);
    assert_int_equal(port_pool_new(&p, 65534, 65535), 0);
    assert_int_equal(port_pool_capacity(p), 1);
    assert_int_equal(alloc_ok(p, &b), 65534);
    port_pool_free(p);
    assert_int_equal(port_pool_new(&p, 1, 65535), 0);
    assert_int_equal(port_pool_capacity(p), 32767); /* 2..65534 */
    port_pool_free(p);
}

static void test_exhaustion_is_ebusy(void **state)
{
    struct port_pool *p;
    struct fake_binder b = {0};
    uint16_t port = 1;
    (void)state;

    assert_int_equal(port_pool_new(&p, 20000, 20003), 0);
    alloc_ok(p, &b);
    alloc_ok(p, &b);
    b.calls = 0;
    assert_int_equal(port_pool_alloc(p, fake_try, &b, &port), -EBUSY);
    assert_int_equal(port, 1); /* untouched */
    assert_int_equal(b.calls, 0);
    port_pool_free(p);
}

static void test_reuse_after_release_least_recent_first(void **state)
{
    struct port_pool *p;
    struct fake_binder b = {0};
    (void)state;

    assert_int_equal(port_pool_new(&p, 20000, 20005), 0); /* 20000 20002 20004 */
    assert_int_equal(alloc_ok(p, &b), 20000);
    assert_int_equal(port_pool_release(p, 20000), 0);
    /* 20000 went to the back: the never-used pairs come first. */
    assert_int_equal(alloc_ok(p, &b), 20002);
    assert_int_equal(alloc_ok(p, &b), 20004);
    assert_int_equal(alloc_ok(p, &b), 20000);
    assert_int_equal(port_pool_release(p, 20004), 0);
    assert_int_equal(port_pool_release(p, 20002), 0);
    assert_int_equal(port_pool_available(p), 2);
    assert_int_equal(alloc_ok(p, &b), 20004);
    assert_int_equal(alloc_ok(p, &b), 20002);
    port_pool_free(p);
}

static void test_release_refuses_what_is_not_allocated(void **state)
{
    struct port_pool *p;
    struct fake_binder b = {0};
    (void)state;

    assert_int_equal(port_pool_new(&p, 20000, 20005), 0);
    assert_int_equal(port_pool_release(p, 20000), -EINVAL); /* never allocated */
    uint16_t port = alloc_ok(p, &b);
    assert_int_equal(port_pool_release(p, (uint16_t)(port + 1)), -EINVAL); /* odd */
    assert_int_equal(port_pool_release(p, 19998), -EINVAL);
    assert_int_equal(port_pool_release(p, 20006), -EINVAL);
    assert_int_equal(port_pool_release(p, port), 0);
    assert_int_equal(port_pool_release(p, port), -EINVAL); /* double */
    assert_int_equal(port_pool_available(p), 3);
    assert_int_equal(port_pool_in_use(p), 0);
    port_pool_free(p);
}

static void test_skips_pairs_in_use_elsewhere(void **state)
{
    struct port_pool *p;
    struct fake_binder b = {.taken = {20001}, .ntaken = 1}; /* RTCP of 20000 */
    (void)state;

    assert_int_equal(port_pool_new(&p, 20000, 20005), 0);
    assert_int_equal(alloc_ok(p, &b), 20002);
    assert_int_equal(alloc_ok(p, &b), 20004);
    b.calls = 0;
    uint16_t port;
    assert_int_equal(port_pool_alloc(p, fake_try, &b, &port), -EBUSY);
    assert_int_equal(b.calls, 1); /* each free pair tried once, no spinning */
    b.ntaken = 0;                 /* the other program let go */
    assert_int_equal(alloc_ok(p, &b), 20000);
    port_pool_free(p);
}

static void test_other_errors_stop_and_keep_the_pair(void **state)
{
    struct port_pool *p;
    struct fake_binder b = {.fail_with = -EMFILE};
    uint16_t port;
    (void)state;

    assert_int_equal(port_pool_new(&p, 20000, 20005), 0);
    assert_int_equal(port_pool_alloc(p, fake_try, &b, &port), -EMFILE);
    assert_int_equal(b.calls, 1);
    assert_int_equal(port_pool_available(p), 3);
    b.fail_with = 0;
    assert_int_equal(alloc_ok(p, &b), 20000); /* still first in line */
    port_pool_free(p);
}

/* The real thing: a socket another program holds makes bind fail. */
static int bind_udp(uint16_t port)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_true(fd >= 0);
    if (bind(fd, (struct sockaddr *)&sin, sizeof sin) != 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    return fd;
}

struct real_binder {
    int fds[2];
};

static int real_try(uint16_t port, void *arg)
{
    struct real_binder *r = arg;
    r->fds[0] = bind_udp(port);
    if (r->fds[0] < 0)
        return r->fds[0];
    r->fds[1] = bind_udp((uint16_t)(port + 1));
    if (r->fds[1] < 0) {
        close(r->fds[0]);
        return r->fds[1];
    }
    return 0;
}

static void test_skips_a_port_bound_by_someone_else(void **state)
{
    struct port_pool *p;
    struct real_binder r;
    uint16_t port = 0, base = 24600;
    int blocker = -1;
    (void)state;

    /* Find a free pair to block (another test may hold some). */
    for (; base < 24700 && blocker < 0; base += 2)
        blocker = bind_udp(base);
    base -= 2;
    assert_true(blocker >= 0);
    assert_int_equal(port_pool_new(&p, base, (uint16_t)(base + 7)), 0);
    assert_int_equal(port_pool_alloc(p, real_try, &r, &port), 0);
    assert_true(port > base);
    assert_int_equal(port % 2, 0);
    close(r.fds[0]);
    close(r.fds[1]);
    assert_int_equal(port_pool_in_use(p), 1);
    close(blocker);
    port_pool_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pairs_cover_the_range_exactly),
        cmocka_unit_test(test_first_allocations_in_port_order),
        cmocka_unit_test(test_range_edges),
        cmocka_unit_test(test_exhaustion_is_ebusy),
        cmocka_unit_test(test_reuse_after_release_least_recent_first),
        cmocka_unit_test(test_release_refuses_what_is_not_allocated),
        cmocka_unit_test(test_skips_pairs_in_use_elsewhere),
        cmocka_unit_test(test_other_errors_stop_and_keep_the_pair),
        cmocka_unit_test(test_skips_a_port_bound_by_someone_else),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

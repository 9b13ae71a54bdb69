/* port_pool: even/odd pairs, range bounds, exhaustion, random allocation
 * (issue #15: a relay port must not be guessable), release, skipping ports
 * held by someone else. */
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

/* Issue #15: in order, the next call's port was the last one plus two.
 * Over 500 pairs, 100 allocations (fixed seed: deterministic) are spread
 * over the range, not sorted, and rarely the previous one plus two. */
static void test_allocation_is_random_not_in_order(void **state)
{
    struct port_pool *p;
    struct fake_binder b = {0};
    unsigned low = 0, high = 0, plus_two = 0, ascending = 0;
    uint16_t prev = 0;
    (void)state;

    assert_int_equal(port_pool_new(&p, 30000, 30999), 0);
    port_pool_seed(p, 42);
    for (int i = 0; i < 100; i++) {
        uint16_t port = alloc_ok(p, &b);
        assert_in_range(port, 30000, 30998);
        assert_int_equal(port % 2, 0);
        if (port < 30500)
            low++;
        else
            high++;
        if (i && port == prev + 2)
            plus_two++;
        if (i && port > prev)
            ascending++;
        prev = port;
    }
    assert_true(low >= 30 && high >= 30);
    assert_true(plus_two <= 3);
    assert_true(ascending >= 30 && ascending <= 70); /* about half, as for a coin */
    port_pool_free(p);
}

/* Loosely uniform: over 20,000 alloc/release cycles on 10 pairs with one
 * held, each of the 9 free pairs is taken 2,222 times on average; every
 * count stays within 15 % of that, and the chi-square of the counts (8
 * degrees of freedom) lies between its 0.1 % and 99.9 % points: a bias
 * fails the upper bound, a round robin (the old FIFO: exactly 2,222 each)
 * the lower one. The pair just released comes straight back 1 time in 9,
 * which no FIFO does. Fixed seed: deterministic. */
static void test_allocation_is_uniform_over_the_free_pool(void **state)
{
    struct port_pool *p;
    struct fake_binder b = {0};
    unsigned hits[10] = {0}, again = 0;
    uint16_t last = 0;
    double chi2 = 0;
    (void)state;

    assert_int_equal(port_pool_new(&p, 20000, 20019), 0);
    port_pool_seed(p, 7);
    uint16_t held = alloc_ok(p, &b);
    for (int i = 0; i < 20000; i++) {
        uint16_t port = alloc_ok(p, &b);
        assert_int_not_equal(port, held);
        hits[(port - 20000) / 2]++;
        if (port == last)
            again++;
        assert_int_equal(port_pool_release(p, port), 0);
        last = port;
    }
    for (size_t i = 0; i < 10; i++) {
        if (20000 + 2 * i == held) {
            assert_int_equal(hits[i], 0);
            continue;
        }
        assert_in_range(hits[i], 2222 - 333, 2222 + 333);
        chi2 += (hits[i] - 20000.0 / 9) * (hits[i] - 20000.0 / 9) / (20000.0 / 9);
    }
    assert_true(chi2 > 1.34 && chi2 < 26.12);
    assert_in_range(again, 2222 - 333, 2222 + 333);
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

/* A released pair is free again, and only what was released. */
static void test_release_makes_the_pair_free_again(void **state)
{
    struct port_pool *p;
    struct fake_binder b = {0};
    (void)state;

    assert_int_equal(port_pool_new(&p, 20000, 20005), 0); /* 20000 20002 20004 */
    uint16_t a = alloc_ok(p, &b), c = alloc_ok(p, &b), d = alloc_ok(p, &b);
    assert_true(a != c && c != d && a != d);
    assert_int_equal(port_pool_available(p), 0);
    assert_int_equal(port_pool_release(p, c), 0);
    assert_int_equal(alloc_ok(p, &b), c); /* the only free one */
    assert_int_equal(port_pool_release(p, a), 0);
    assert_int_equal(port_pool_release(p, d), 0);
    assert_int_equal(port_pool_available(p), 2);
    uint16_t x = alloc_ok(p, &b), y = alloc_ok(p, &b);
    assert_true((x == a && y == d) || (x == d && y == a));
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
    uint16_t x = alloc_ok(p, &b), y = alloc_ok(p, &b);
    assert_true((x == 20002 && y == 20004) || (x == 20004 && y == 20002));
    b.calls = 0;
    uint16_t port;
    assert_int_equal(port_pool_alloc(p, fake_try, &b, &port), -EBUSY);
    assert_int_equal(b.calls, 1); /* each free pair tried once, no spinning */
    b.ntaken = 0;                 /* the other program let go */
    assert_int_equal(alloc_ok(p, &b), 20000);
    port_pool_free(p);
}

/* A binder refusing a set of pairs, counting the tries of each pair. */
struct picky_binder {
    uint16_t first;
    bool refused[64]; /* by pair index */
    unsigned tries[64];
};

static int picky_try(uint16_t port, void *arg)
{
    struct picky_binder *b = arg;
    size_t idx = (size_t)(port - b->first) / 2;
    assert_true(port >= b->first && (port - b->first) % 2 == 0 && idx < 64);
    b->tries[idx]++;
    return b->refused[idx] ? (idx % 2 ? -EACCES : -EADDRINUSE) : 0;
}

static void picky_reset(struct picky_binder *b)
{
    for (size_t i = 0; i < 64; i++)
        b->tries[i] = 0;
}

/* Many pairs held elsewhere: each alloc skips them, tries each free pair at
 * most once, and says -EBUSY only once every free pair was refused; refused
 * pairs stay free and are taken as soon as they are let go. */
static void test_skips_many_refused_pairs_each_tried_once(void **state)
{
    struct port_pool *p;
    struct picky_binder b = {.first = 20000};
    uint16_t port;
    (void)state;

    assert_int_equal(port_pool_new(&p, 20000, 20079), 0); /* 40 pairs */
    port_pool_seed(p, 1);
    for (size_t i = 0; i < 40; i++)
        b.refused[i] = i % 4 != 0; /* 10 acceptable, 30 refused */
    for (int n = 0; n < 10; n++) {
        picky_reset(&b);
        assert_int_equal(port_pool_alloc(p, picky_try, &b, &port), 0);
        assert_false(b.refused[(port - 20000) / 2]);
        for (size_t i = 0; i < 40; i++)
            assert_true(b.tries[i] <= 1);
    }
    assert_int_equal(port_pool_in_use(p), 10);
    assert_int_equal(port_pool_available(p), 30);
    picky_reset(&b);
    port = 1;
    assert_int_equal(port_pool_alloc(p, picky_try, &b, &port), -EBUSY);
    assert_int_equal(port, 1);
    for (size_t i = 0; i < 40; i++) /* every free (refused) pair exactly once */
        assert_int_equal(b.tries[i], b.refused[i] ? 1 : 0);
    assert_int_equal(port_pool_available(p), 30);
    b.refused[7] = false; /* the other program let go of 20014 */
    assert_int_equal(port_pool_alloc(p, picky_try, &b, &port), 0);
    assert_int_equal(port, 20014);
    assert_int_equal(port_pool_in_use(p), 11);
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
    for (int i = 0; i < 3; i++) /* nothing was taken: all three still free */
        (void)alloc_ok(p, &b);
    assert_int_equal(port_pool_available(p), 0);
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
        cmocka_unit_test(test_allocation_is_random_not_in_order),
        cmocka_unit_test(test_allocation_is_uniform_over_the_free_pool),
        cmocka_unit_test(test_range_edges),
        cmocka_unit_test(test_exhaustion_is_ebusy),
        cmocka_unit_test(test_release_makes_the_pair_free_again),
        cmocka_unit_test(test_release_refuses_what_is_not_allocated),
        cmocka_unit_test(test_skips_pairs_in_use_elsewhere),
        cmocka_unit_test(test_skips_many_refused_pairs_each_tried_once),
        cmocka_unit_test(test_other_errors_stop_and_keep_the_pair),
        cmocka_unit_test(test_skips_a_port_bound_by_someone_else),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

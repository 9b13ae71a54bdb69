/* port_pool: the free pairs in a dense array (random pick, O(1) removal by
 * swapping with the last) plus each pair's place in it. */
#include "port_pool.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define IN_USE UINT16_MAX /* place of an allocated pair (capacity <= 32767) */

struct port_pool {
    uint16_t first;     /* the lowest RTP port (even) */
    size_t capacity;    /* pairs in the range */
    size_t count;       /* free pairs: free_idx[0..count) */
    uint16_t *free_idx; /* pair indexes, in no order */
    uint16_t *place;    /* by pair index: its place in free_idx, or IN_USE */
    uint64_t rng;       /* splitmix64 state */
};

static uint64_t next64(struct port_pool *p)
{
    uint64_t z = (p->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in [0, n), n > 0: Lemire's multiply-shift with rejection (no
 * modulo bias). */
static size_t uniform(struct port_pool *p, size_t n)
{
    uint64_t bound = n;
    __uint128_t m = (__uint128_t)next64(p) * bound;
    uint64_t low = (uint64_t)m;
    if (low < bound) {
        uint64_t threshold = (UINT64_MAX - bound + 1) % bound; /* 2^64 mod bound */
        while (low < threshold) {
            m = (__uint128_t)next64(p) * bound;
            low = (uint64_t)m;
        }
    }
    return (size_t)(m >> 64);
}

void port_pool_seed(struct port_pool *p, uint64_t seed)
{
    p->rng = seed;
}

/* getrandom failed (early boot, no entropy yet, or a seccomp filter): the
 * clock to the nanosecond, the pid and where the pool landed (ASLR), run
 * through the generator so nearby inputs give unrelated seeds. Weaker than
 * getrandom, still not the next port plus two. */
static void seed_without_getrandom(struct port_pool *p)
{
    struct timespec ts = {0};
    (void)clock_gettime(CLOCK_REALTIME, &ts);
    p->rng = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    p->rng = next64(p) ^ (uint64_t)getpid();
    p->rng = next64(p) ^ (uint64_t)(uintptr_t)p;
    p->rng = next64(p);
}

int port_pool_new(struct port_pool **out, uint16_t port_min, uint16_t port_max)
{
    uint32_t first = port_min + (port_min & 1u);
    struct port_pool *p;

    if (port_min == 0 || first + 1 > port_max)
        return -EINVAL;
    p = calloc(1, sizeof *p);
    if (!p)
        return -ENOMEM;
    p->first = (uint16_t)first;
    p->capacity = ((size_t)port_max - first + 1) / 2;
    p->free_idx = calloc(p->capacity, sizeof *p->free_idx);
    p->place = calloc(p->capacity, sizeof *p->place);
    if (!p->free_idx || !p->place) {
        port_pool_free(p);
        return -ENOMEM;
    }
    for (size_t i = 0; i < p->capacity; i++) {
        p->free_idx[i] = (uint16_t)i;
        p->place[i] = (uint16_t)i;
    }
    p->count = p->capacity;
    if (getrandom(&p->rng, sizeof p->rng, GRND_NONBLOCK) != (ssize_t)sizeof p->rng)
        seed_without_getrandom(p);
    *out = p;
    return 0;
}

void port_pool_free(struct port_pool *p)
{
    if (!p)
        return;
    free(p->free_idx);
    free(p->place);
    free(p);
}

static void swap_places(struct port_pool *p, size_t a, size_t b)
{
    uint16_t ia = p->free_idx[a], ib = p->free_idx[b];
    p->free_idx[a] = ib;
    p->free_idx[b] = ia;
    p->place[ib] = (uint16_t)a;
    p->place[ia] = (uint16_t)b;
}

/* A partial Fisher-Yates shuffle: the k-th try takes a random pair among
 * those not tried yet, so each free pair is tried at most once and the
 * first try is uniform over the free pool. */
int port_pool_alloc(struct port_pool *p, port_pool_try_cb try_cb, void *arg, uint16_t *rtp_port)
{
    for (size_t k = 0; k < p->count; k++) {
        swap_places(p, k, k + uniform(p, p->count - k));
        uint16_t idx = p->free_idx[k];
        uint16_t port = (uint16_t)(p->first + 2 * idx);
        int err = try_cb(port, arg);
        if (err == 0) {
            swap_places(p, k, p->count - 1);
            p->count--;
            p->place[idx] = IN_USE;
            *rtp_port = port;
            return 0;
        }
        if (err != -EADDRINUSE && err != -EACCES)
            return err; /* the pair stays free */
        /* held by another program: stays free, for later */
    }
    return -EBUSY;
}

int port_pool_release(struct port_pool *p, uint16_t rtp_port)
{
    size_t idx;

    if (rtp_port < p->first || (rtp_port - p->first) % 2 != 0)
        return -EINVAL;
    idx = (size_t)(rtp_port - p->first) / 2;
    if (idx >= p->capacity || p->place[idx] != IN_USE)
        return -EINVAL;
    p->free_idx[p->count] = (uint16_t)idx;
    p->place[idx] = (uint16_t)p->count;
    p->count++;
    return 0;
}

size_t port_pool_capacity(const struct port_pool *p)
{
    return p->capacity;
}

size_t port_pool_in_use(const struct port_pool *p)
{
    return p->capacity - p->count;
}

size_t port_pool_available(const struct port_pool *p)
{
    return p->count;
}

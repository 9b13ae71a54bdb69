/* flood: fixed-size array of token buckets keyed by a seeded hash of the
 * source address. Tokens are counted in thousandths of a datagram so the
 * refill (rate per second = rate thousandths per millisecond) is exact in
 * integers. */
#include "flood.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "pinhole/log.h"

#define MILLI 1000u

struct bucket {
    uint64_t tokens;  /* thousandths of a datagram */
    uint64_t answers; /* thousandths of a 503 */
    uint64_t last_ms; /* last refill */
};

struct flood {
    uint64_t rate;                         /* thousandths per ms = datagrams per s */
    uint64_t capacity;                     /* burst, in thousandths */
    uint64_t answer_rate, answer_capacity; /* half of each, at least 1 */
    uint64_t seed;
    uint64_t drops, refusals;
    struct log_ratelimit rl;
    struct bucket slot[FLOOD_SLOTS];
};

static uint64_t mix64(uint64_t x)
{
    /* splitmix64's finalizer: every input bit reaches every output bit. */
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* The source IP, not its port (issue #15: the same flood spread over 20
 * ports was not limited at all); for IPv6 its /64, what one subscriber
 * line is given. */
static uint64_t addr_hash(const struct flood *f, const struct addr *a)
{
    uint64_t h = f->seed;
    if (addr_family(a) == AF_INET6) {
        uint64_t prefix;
        memcpy(&prefix, &a->u.in6.sin6_addr, sizeof prefix);
        h = mix64(h ^ prefix);
    } else if (addr_family(a) == AF_INET) {
        h = mix64(h ^ a->u.in.sin_addr.s_addr);
    }
    return mix64(h);
}

static void set_budget(struct flood *f, uint32_t rate, uint32_t burst)
{
    f->rate = rate;
    f->capacity = (uint64_t)burst * MILLI;
    f->answer_rate = rate / 2 ? rate / 2 : 1;
    f->answer_capacity = (burst / 2 ? burst / 2 : 1) * (uint64_t)MILLI;
}

int flood_new(struct flood **out, uint32_t rate, uint32_t burst)
{
    if (rate == 0 || burst == 0)
        return -EINVAL;
    struct flood *f = calloc(1, sizeof *f);
    if (!f)
        return -ENOMEM;
    set_budget(f, rate, burst);
    if (getrandom(&f->seed, sizeof f->seed, GRND_NONBLOCK) != sizeof f->seed)
        f->seed =
            (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ULL; /* early boot: weaker, still works */
    for (size_t i = 0; i < FLOOD_SLOTS; i++) {
        f->slot[i].tokens = f->capacity;
        f->slot[i].answers = f->answer_capacity;
    }
    f->rl.interval_s = 10;
    f->rl.burst = 5;
    *out = f;
    return 0;
}

int flood_set_budget(struct flood *f, uint32_t rate, uint32_t burst)
{
    if (rate == 0 || burst == 0)
        return -EINVAL;
    set_budget(f, rate, burst);
    for (size_t i = 0; i < FLOOD_SLOTS; i++) {
        if (f->slot[i].tokens > f->capacity)
            f->slot[i].tokens = f->capacity;
        if (f->slot[i].answers > f->answer_capacity)
            f->slot[i].answers = f->answer_capacity;
    }
    return 0;
}

void flood_free(struct flood *f)
{
    free(f);
}

static void fill(uint64_t *tokens, uint64_t elapsed, uint64_t rate, uint64_t capacity)
{
    /* Guard the multiplication: a long-idle bucket is simply full. */
    if (elapsed >= capacity / rate + 1)
        *tokens = capacity;
    else if ((*tokens += elapsed * rate) > capacity)
        *tokens = capacity;
}

static void refill(const struct flood *f, struct bucket *b, uint64_t now_ms)
{
    if (now_ms <= b->last_ms)
        return;
    uint64_t elapsed = now_ms - b->last_ms;
    b->last_ms = now_ms;
    fill(&b->tokens, elapsed, f->rate, f->capacity);
    fill(&b->answers, elapsed, f->answer_rate, f->answer_capacity);
}

static void log_over(struct flood *f, const struct addr *src)
{
    if (log_ratelimit_allow(&f->rl)) {
        char who[ADDR_STRLEN];
        log_warn("flood: %s is over %llu datagrams/s: 503 to %llu so far, %llu dropped",
                 addr_format(src, who, sizeof who), (unsigned long long)f->rate,
                 (unsigned long long)f->refusals, (unsigned long long)f->drops);
    }
}

enum flood_verdict flood_check(struct flood *f, const struct addr *src, uint64_t now_ms)
{
    struct bucket *b = &f->slot[addr_hash(f, src) % FLOOD_SLOTS];
    refill(f, b, now_ms);
    if (b->tokens >= MILLI) {
        b->tokens -= MILLI;
        return FLOOD_PASS;
    }
    if (b->answers >= MILLI) {
        b->answers -= MILLI;
        f->refusals++;
        log_over(f, src);
        return FLOOD_REFUSE;
    }
    f->drops++;
    log_over(f, src);
    return FLOOD_DROP;
}

uint64_t flood_drops(const struct flood *f)
{
    return f->drops;
}

uint64_t flood_refusals(const struct flood *f)
{
    return f->refusals;
}

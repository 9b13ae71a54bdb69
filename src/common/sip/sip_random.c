/* sip_random: unpredictable hex for branches and tags.
 *
 * RFC 3261 8.1.1.7 wants branches unique across space and time, and 19.3
 * wants tags with at least 32 random bits. A peer that could guess our next
 * branch could forge responses to our client transactions (a fake 302 from
 * "redirectd"), so the bytes come from the kernel CSPRNG, drawn a pool at a
 * time so that a branch costs no system call on average. */
#include "sip_internal.h"

#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define POOL_SIZE 256

static unsigned char pool[POOL_SIZE];
static size_t pool_left;
static uint64_t fallback_state;

/* Only when getrandom fails (a kernel without it, or seccomp): a splitmix64
 * stream seeded from clocks and addresses. Unique, not unpredictable. */
static uint64_t fallback_next(void)
{
    if (fallback_state == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        fallback_state = ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec ^
                         (uint64_t)(uintptr_t)&fallback_state;
    }
    uint64_t z = (fallback_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void refill(void)
{
    ssize_t n = getrandom(pool, sizeof pool, GRND_NONBLOCK);
    if (n == (ssize_t)sizeof pool) {
        pool_left = sizeof pool;
        return;
    }
    for (size_t i = 0; i < sizeof pool; i += 8) {
        uint64_t v = fallback_next();
        memcpy(pool + i, &v, 8);
    }
    pool_left = sizeof pool;
}

static unsigned char random_byte(void)
{
    if (pool_left == 0)
        refill();
    unsigned char b = pool[--pool_left];
    pool[pool_left] = 0; /* a used byte is not left behind */
    return b;
}

void sip_random_hex(char *buf, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i += 2) {
        unsigned char b = random_byte();
        buf[i] = hex[b >> 4];
        if (i + 1 < n)
            buf[i + 1] = hex[b & 15];
    }
    buf[n] = '\0';
}

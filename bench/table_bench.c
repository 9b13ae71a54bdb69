/* table_bench: a million entries through the table. Prints insert, lookup
 * and expire cost per operation and the table's bytes per entry; exits 1 if
 * any count is wrong.  Usage: table_bench [entries] */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pinhole/table.h"

#define KEY_LEN 48

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void count_expired(const char *key, void *value, void *arg)
{
    (void)key;
    (void)value;
    (*(size_t *)arg)++;
}

static void make_key(char *buf, size_t len, size_t i)
{
    /* The shape of a Call-ID: what proxyd and relayd key on. */
    snprintf(buf, len, "%08zx-%04zx@10.0.%zu.%zu", i * 2654435761u, i & 0xffff, (i >> 8) & 255,
             i & 255);
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
    struct table *t;
    size_t expired = 0, keybytes = 0;
    static int value;

    /* Keys are made up front so the timings are the table's alone. */
    char(*keys)[KEY_LEN] = n ? calloc(n, KEY_LEN) : NULL;
    if (!keys || table_new(&t, 0, 1000, count_expired, NULL, &expired) != 0)
        return 1;
    for (size_t i = 0; i < n; i++) {
        make_key(keys[i], KEY_LEN, i);
        keybytes += strlen(keys[i]) + 1;
    }
    size_t empty = table_memory(t);

    uint64_t t0 = now_ns();
    for (size_t i = 0; i < n; i++)
        if (table_put(t, keys[i], &value, 1000 + (i % 3600) * 1000, NULL) != 0)
            return 1;
    uint64_t t1 = now_ns();
    for (size_t i = 0; i < n; i++)
        if (table_get(t, keys[(i * 7919) % n]) != &value)
            return 1;
    uint64_t t2 = now_ns();
    size_t mem = table_memory(t) - empty;
    if (table_count(t) != n)
        return 1;
    for (uint64_t now = 0; now <= 3601 * 1000; now += 1000)
        table_expire(t, now);
    uint64_t t3 = now_ns();

    printf("entries          %zu\n", n);
    printf("insert           %.1f ns/op\n", (double)(t1 - t0) / (double)n);
    printf("lookup           %.1f ns/op\n", (double)(t2 - t1) / (double)n);
    printf("expire           %.1f ns/op\n", (double)(t3 - t2) / (double)n);
    printf("bytes/entry      %.1f (of which key %.1f, overhead %.1f)\n", (double)mem / (double)n,
           (double)keybytes / (double)n, (double)(mem - keybytes) / (double)n);
    printf("expired          %zu\n", expired);
    int ok = expired == n && table_count(t) == 0 && (mem - keybytes) <= 64 * n;
    table_free(t);
    free(keys);
    if (!ok)
        fprintf(stderr, "table_bench: FAILED\n");
    return ok ? 0 : 1;
}

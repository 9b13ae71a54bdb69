/* port_pool: a ring of free pair indexes plus an in-use flag per pair. */
#include "port_pool.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

struct port_pool {
    uint16_t first;  /* the lowest RTP port (even) */
    size_t capacity; /* pairs in the range */
    size_t head;     /* index into ring of the next pair to hand out */
    size_t count;    /* free pairs in the ring */
    uint16_t *ring;  /* pair indexes, FIFO */
    bool *in_use;    /* by pair index */
};

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
    p->ring = calloc(p->capacity, sizeof *p->ring);
    p->in_use = calloc(p->capacity, sizeof *p->in_use);
    if (!p->ring || !p->in_use) {
        port_pool_free(p);
        return -ENOMEM;
    }
    for (size_t i = 0; i < p->capacity; i++)
        p->ring[i] = (uint16_t)i;
    p->count = p->capacity;
    *out = p;
    return 0;
}

void port_pool_free(struct port_pool *p)
{
    if (!p)
        return;
    free(p->ring);
    free(p->in_use);
    free(p);
}

static uint16_t pop_front(struct port_pool *p)
{
    uint16_t idx = p->ring[p->head];
    p->head = (p->head + 1) % p->capacity;
    p->count--;
    return idx;
}

static void push_back(struct port_pool *p, uint16_t idx)
{
    p->ring[(p->head + p->count) % p->capacity] = idx;
    p->count++;
}

static void push_front(struct port_pool *p, uint16_t idx)
{
    p->head = (p->head + p->capacity - 1) % p->capacity;
    p->ring[p->head] = idx;
    p->count++;
}

int port_pool_alloc(struct port_pool *p, port_pool_try_cb try_cb, void *arg, uint16_t *rtp_port)
{
    size_t tries = p->count;

    while (tries-- > 0) {
        uint16_t idx = pop_front(p);
        uint16_t port = (uint16_t)(p->first + 2 * idx);
        int err = try_cb(port, arg);
        if (err == 0) {
            p->in_use[idx] = true;
            *rtp_port = port;
            return 0;
        }
        if (err != -EADDRINUSE && err != -EACCES) {
            push_front(p, idx);
            return err;
        }
        /* Held by another program: keep it for later, when it may be free. */
        push_back(p, idx);
    }
    return -EBUSY;
}

int port_pool_release(struct port_pool *p, uint16_t rtp_port)
{
    size_t idx;

    if (rtp_port < p->first || (rtp_port - p->first) % 2 != 0)
        return -EINVAL;
    idx = (size_t)(rtp_port - p->first) / 2;
    if (idx >= p->capacity || !p->in_use[idx])
        return -EINVAL;
    p->in_use[idx] = false;
    push_back(p, (uint16_t)idx);
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

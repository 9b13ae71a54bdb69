/* port_pool: relayd's media ports (patent fig. 10 step 62, design.md
 * decision 5): one even RTP port per media stream with port+1 for its RTCP.
 *
 * A pair is handed out at random from the free pool (issue #15,
 * docs/relayd.md "Set-up"): in order, the next call's relay port was the last
 * one plus two, and an outsider who guessed it could send RTP there before
 * the phones and take the channel (RTP injection / "RTP Bleed", rtpengine
 * advisory ES2025-01). With thousands of free pairs, a just-released pair
 * is also rarely reused at once, so late packets of an ended call seldom
 * meet a new session. Both operations are O(1) expected; nothing scans
 * the range; memory is two 16-bit words per pair. */
#ifndef RELAYD_PORT_POOL_H
#define RELAYD_PORT_POOL_H

#include <stddef.h>
#include <stdint.h>

struct port_pool;

/* Tries to take the pair (rtp_port, rtp_port + 1), e.g. by binding both.
 * Returns 0 when it holds them; -EADDRINUSE or -EACCES when something else
 * holds one of them (the pair stays free and the pool tries another free
 * pair at random); any other -errno stops the allocation with that error. */
typedef int (*port_pool_try_cb)(uint16_t rtp_port, void *arg);

/* A pool of every even port p with port_min <= p and p + 1 <= port_max.
 * Returns 0, -EINVAL (no pair fits in the range, or port_min is 0), or
 * -ENOMEM. Free with port_pool_free. */
int port_pool_new(struct port_pool **out, uint16_t port_min, uint16_t port_max);
/* Frees the pool; pairs still allocated are simply forgotten. */
void port_pool_free(struct port_pool *p);

/* Takes a free pair chosen uniformly at random that `try_cb` accepts,
 * trying each free pair at most once (in random order). Returns 0 with the
 * RTP port in *rtp_port, -EBUSY when no free pair could be taken (the SIP
 * layer answers 503), or the error try_cb stopped with (the pair it
 * stopped on stays free). */
int port_pool_alloc(struct port_pool *p, port_pool_try_cb try_cb, void *arg, uint16_t *rtp_port);
/* Seeds the pool's generator (port_pool_new seeds it from getrandom):
 * for tests that want a fixed sequence. */
void port_pool_seed(struct port_pool *p, uint64_t seed);
/* Gives an allocated pair back. Returns 0, or -EINVAL when rtp_port is not
 * an allocated pair of this pool (a double release changes nothing). */
int port_pool_release(struct port_pool *p, uint16_t rtp_port);

/* Counts in pairs (each pair is two ports). */
size_t port_pool_capacity(const struct port_pool *p);
size_t port_pool_in_use(const struct port_pool *p);
size_t port_pool_available(const struct port_pool *p);

#endif

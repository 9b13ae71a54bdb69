/* flood: per-source fairness for the SIP socket. One source IP (IPv6: one
 * /64; its ports do not matter) sending faster than its rate
 * (limits.source_rate, FLOOD_RATE by default) beyond its burst
 * (limits.source_burst) has the excess dropped before it is parsed, so a flood from
 * one peer costs us one hash and a compare per datagram and cannot crowd
 * out the others' parsing and transaction work.
 *
 * Memory is fixed: FLOOD_SLOTS token buckets indexed by a keyed hash of the
 * source. Sources that collide share a bucket (they can only lose some of
 * their budget to each other, never gain any); an attacker cannot aim at a
 * victim's slot because the hash key is random per process. */
#ifndef PROXYD_FLOOD_H
#define PROXYD_FLOOD_H

#include <stdbool.h>
#include <stdint.h>

#include "pinhole/addr.h"

/* A busy phone sends a few datagrams a second and an outbound proxy in
 * front of many phones (one source) a few hundred; 2000/s with a 2 s burst
 * leaves room for both and still caps one source at a small share of what
 * proxyd can parse (see docs/registration.md, measured). */
#define FLOOD_RATE 2000
#define FLOOD_BURST 4000
#define FLOOD_SLOTS 4096

struct flood;

/* rate: datagrams per second per source; burst: bucket depth. Returns 0,
 * -EINVAL (rate or burst 0) or -ENOMEM. */
int flood_new(struct flood **out, uint32_t rate, uint32_t burst);
void flood_free(struct flood *f);
/* A new rate and burst (reload); a fuller bucket is cut to the new burst.
 * 0 or -EINVAL. */
int flood_set_budget(struct flood *f, uint32_t rate, uint32_t burst);

/* Takes one datagram's token from src's bucket at now_ms. False: over
 * budget, drop it (counted). */
bool flood_allow(struct flood *f, const struct addr *src, uint64_t now_ms);
/* Datagrams refused since start. */
uint64_t flood_drops(const struct flood *f);

#endif

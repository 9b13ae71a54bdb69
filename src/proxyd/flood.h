/* flood: per-source fairness for the SIP socket. One source (IP and port)
 * sending faster than FLOOD_RATE datagrams per second, beyond a burst of
 * FLOOD_BURST, has the excess dropped before it is parsed, so a flood from
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

/* Takes one datagram's token from src's bucket at now_ms. False: over
 * budget, drop it (counted). */
bool flood_allow(struct flood *f, const struct addr *src, uint64_t now_ms);
/* Datagrams refused since start. */
uint64_t flood_drops(const struct flood *f);

#endif

/* flood: per-source fairness for the SIP socket. One source IP (IPv6: one
 * /64; its ports do not matter) sending faster than its rate
 * (limits.source_rate, FLOOD_RATE by default) beyond its burst
 * (limits.source_burst) is stopped before anything is parsed, so a flood
 * from one peer cannot crowd out the others' parsing and transaction work.
 *
 * Stopped in two steps. First the source's answer budget (half its rate
 * and burst): its requests get 503 with Retry-After, written from the raw
 * bytes, so a legitimate trunk that outgrows its budget is told to back off
 * (RFC 3261 21.5.4) instead of losing requests silently (issue #15: a
 * trunk at 3,000/s lost 17-33 % with no answer). Beyond that too, the
 * excess is dropped unanswered: answers are budgeted, so a flood with a
 * forged source cannot turn us into a reflector, and costs us one hash and
 * a compare per datagram.
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

enum flood_verdict {
    FLOOD_PASS,   /* within its rate: parse and serve it */
    FLOOD_REFUSE, /* over its rate, within its answer budget: 503 it (counted) */
    FLOOD_DROP,   /* over both: drop it unanswered (counted) */
};

/* Takes one datagram's token from src's bucket at now_ms. */
enum flood_verdict flood_check(struct flood *f, const struct addr *src, uint64_t now_ms);
/* Datagrams dropped unanswered since start. */
uint64_t flood_drops(const struct flood *f);
/* Datagrams given FLOOD_REFUSE since start (answered 503 when a request). */
uint64_t flood_refusals(const struct flood *f);

#endif

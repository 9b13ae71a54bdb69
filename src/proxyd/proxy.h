/* proxy: proxyd's state on the loop and the dispatch of every datagram.
 *
 * A datagram from the SIP socket goes: flood check (per-source budget,
 * before any parsing) → sip_parse → for a request: the top Via's sent-by is
 * read (NAT detection), received/rport are set (design decision 1: responses
 * go back to the packet source), the transaction layer absorbs
 * retransmissions, and a new request goes to its module by method; for a
 * response: the transaction layer hands it to the client transaction that
 * waits for it.
 *
 * The proxy builds the env (proxy_env.h) and each module on it, wires the
 * modules' callbacks to each other, and frees everything in proxy_free.
 * Only proxy.c and main.c include this header; a module sees the env. */
#ifndef PROXYD_PROXY_H
#define PROXYD_PROXY_H

#include <stdint.h>

#include "pinhole/loop.h"
#include "pinhole/sip.h"
#include "pinhole/txn.h"
#include "proxy_env.h"
#include "proxyd_conf.h"

struct proxy;
struct messaging;
struct flood;
struct auth;

/* timers NULL = RFC 3261 defaults. The proxy sends through tp (copied) and
 * keeps cfg until proxy_reload hands it a new one. Returns 0 or -errno. */
int proxy_new(struct proxy **out, struct loop *l, const struct proxyd_conf *cfg,
              const struct transport *tp, const struct txn_timers *timers);
/* The daemon's start: binds cfg->listen, then proxy_new. The environment
 * variable PINHOLE_T1_MS (1..500), a test hook, shortens T1 and with it
 * every transaction timer. Returns 0 or -errno (logged). */
int proxy_open(struct proxy **out, struct loop *l, const struct proxyd_conf *cfg);
/* Frees everything, the socket of proxy_open included. */
void proxy_free(struct proxy *p);

/* One datagram from `src` on the socket behind tp. buf need not be
 * NUL-terminated; it is not kept. */
void proxy_receive(struct proxy *p, const struct transport *tp, const struct addr *src,
                   const char *buf, size_t len);

/* SIGHUP: nat.*, advertise, redirect, relays and log_level apply at once;
 * a changed listen address is refused (-EINVAL), as the socket stays. */
int proxy_reload(struct proxy *p, const struct proxyd_conf *cfg);
/* SIGTERM: new REGISTERs and INVITEs get 503 from now on. Returns 0 when
 * nothing is in flight, else the longest wait (ms) for pending
 * registrations and calls still being set up; the proxy stops the loop
 * itself as soon as they are done. */
int proxy_drain(struct proxy *p);

/* ---- for main.c (the metrics endpoint) and the tests ---- */
/* The env, the messaging module, the flood limiter and the counters:
 * owned by the proxy. */
struct proxy_env *proxy_env(struct proxy *p);
const struct messaging *proxy_messaging(const struct proxy *p);
const struct flood *proxy_flood(const struct proxy *p);
/* Where the auth module is: *slot is NULL without an auth section, and
 * proxy_reload may change it (read it anew each time). */
const struct auth *const *proxy_auth_slot(const struct proxy *p);
struct proxy_stats *proxy_stats(struct proxy *p);
/* The flood limiter's drop count (kept there, read for metrics). */
uint64_t proxy_flood_drops(const struct proxy *p);
/* Datagrams over their source's rate answered 503 (requests) instead. */
uint64_t proxy_flood_refusals(const struct proxy *p);

#endif

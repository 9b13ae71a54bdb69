/* auth: subscribers' digest authentication at proxyd (issue #14; the
 * contract is design.md's "Subscribers and digest authentication").
 *
 *   who      every out-of-dialog request but ACK and CANCEL (RFC 3261
 *            §22.1) and an OPTIONS to the proxy itself, from any source
 *            that is not one of `peers` nor our own servers
 *   answer   401 + WWW-Authenticate (REGISTER) or 407 + Proxy-
 *            Authenticate, one header per algorithm (SHA-512-256, SHA-256,
 *            MD5: RFC 8760 §2.4), qop="auth", a stateless nonce (nonce.h)
 *   valid    the user has an HA1 in the realm for that algorithm, the
 *            response matches (RFC 7616 §3.4.1), the nonce is ours and
 *            younger than nonce_lifetime (older: stale=true), nc above any
 *            seen for that nonce (the nc table; replays refused)
 *   bound    a REGISTER's To user, any other request's From user, must be
 *            the authenticated user: 403
 *   equal    an unknown user, a wrong password, a forged nonce and a replay
 *            all get the same fresh challenge, so a scanner learns nothing;
 *            each counts as a failure of the source IP, and max_failures
 *            within ban_seconds bans the IP for ban_seconds: its datagrams
 *            are dropped before they are parsed (auth_banned)
 *
 * Memory is bounded: the nc table and the failure table each hold at most
 * AUTH_TABLE_MAX entries, which expire on their own.
 *
 * Ownership: auth_new makes the module, owning the users it loaded; env is
 * borrowed. auth_reload swaps the users only once the new file parsed. */
#ifndef PROXYD_AUTH_H
#define PROXYD_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pinhole/addr.h"
#include "pinhole/sip.h"
#include "pinhole/txn.h"
#include "proxy_env.h"

#define AUTH_TABLE_MAX 1000000

/* Why an authentication failed (counted; the client sees one answer). */
enum auth_failure {
    AUTH_FAIL_MALFORMED = 0, /* credentials unreadable, qop or algorithm not offered */
    AUTH_FAIL_NONCE,         /* not a nonce of ours (forged, other realm or secret) */
    AUTH_FAIL_REPLAY,        /* nc not above the last seen for the nonce */
    AUTH_FAIL_USER,          /* no such user in the realm for that algorithm */
    AUTH_FAIL_PASSWORD,      /* the response does not match */
    AUTH_FAIL_COUNT,
};

/* Counters for the metrics endpoint. Only ever incremented. */
struct auth_stats {
    uint64_t challenges;              /* 401/407 sent (stale ones included) */
    uint64_t stale;                   /* of which stale=true */
    uint64_t ok;                      /* requests authenticated */
    uint64_t failed[AUTH_FAIL_COUNT]; /* by reason */
    uint64_t forbidden;               /* 403: authenticated as someone else */
    uint64_t bans;                    /* source IPs banned */
    uint64_t banned_drops;            /* datagrams dropped from banned IPs */
};

struct auth;

/* Loads cfg's users file (env->cfg). Returns 0, or -errno with err set
 * ("FILE:LINE: what"). Call only when env->cfg->auth.realm is set. */
int auth_new(struct auth **out, struct proxy_env *env, char *err, size_t errlen);
void auth_free(struct auth *a);
/* SIGHUP with env->cfg already the new config: re-reads the users file
 * and takes realm, lifetime and limits from it; on error (logged, err
 * set) the old users stay and -errno is returned. */
int auth_reload(struct auth *a, char *err, size_t errlen);

/* True when src's IP is banned: drop the datagram unanswered (counted).
 * One hash lookup; called before parsing. */
bool auth_banned(struct auth *a, const struct addr *src);

/* Does req (a new server transaction st, from rx) need authenticating
 * here? False for ACK, CANCEL, in-dialog requests, OPTIONS to the proxy
 * itself, and requests from peers or our own servers. */
bool auth_required(const struct auth *a, const osip_message_t *req, const struct proxy_rx *rx);
/* Checks req's credentials. True: authenticated as the user it claims,
 * go on. False: st was answered (challenge or 403). */
bool auth_check(struct auth *a, struct txn_server *st, const osip_message_t *req,
                const struct proxy_rx *rx);

const struct auth_stats *auth_stats(const struct auth *a);
size_t auth_users(const struct auth *a);
/* Banned source IPs now (a gauge; O(n) over the failure table). */
size_t auth_bans_active(const struct auth *a);
/* Visits every banned IP with the seconds left. */
typedef void (*auth_ban_cb)(const char *ip, uint64_t seconds_left, uint32_t failures, void *arg);
void auth_foreach_ban(const struct auth *a, auth_ban_cb cb, void *arg);

/* Tests: the wall clock the nonces are made and judged by (NULL: time()). */
void auth_set_clock(struct auth *a, uint64_t (*now_s)(void *arg), void *arg);

#endif

/* auth: challenge, verify, bind the identity, count failures per IP. */
#include "auth.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "nonce.h"
#include "pinhole/digest.h"
#include "pinhole/log.h"
#include "pinhole/table.h"
#include "users.h"

#define SECRET_RANDOM_LEN 32
#define CHALLENGE_MAX 512
#define TABLE_TICK_MS 1000

/* One source IP's failures inside the window, or its ban. */
struct fail_rec {
    uint32_t count;
    uint64_t banned_until_ms; /* 0: not banned */
};

struct auth {
    struct proxy_env *env;
    struct users *users;
    uint8_t secret[256];
    size_t secret_len;
    enum digest_alg algs[DIGEST_ALG_COUNT]; /* offered, in order */
    size_t nalgs;
    struct table *nc;    /* nonce -> highest nc seen (as a uintptr_t) */
    struct table *fails; /* source IP -> struct fail_rec */
    struct auth_stats stats;
    struct log_ratelimit rl;
    uint64_t (*now_s)(void *arg);
    void *clock_arg;
};

static uint64_t wall_clock(void *arg)
{
    (void)arg;
    return (uint64_t)time(NULL);
}

/* ---- life ---- */

static void on_fail_expired(const char *key, void *value, void *arg)
{
    (void)key;
    (void)arg;
    free(value);
}

/* auth.secret, or random bytes: then only this process knows its nonces. */
static int take_secret(struct auth *a, const char *secret)
{
    if (secret) {
        a->secret_len = strnlen(secret, sizeof a->secret);
        memcpy(a->secret, secret, a->secret_len);
        return 0;
    }
    a->secret_len = SECRET_RANDOM_LEN;
    if (getrandom(a->secret, SECRET_RANDOM_LEN, 0) != SECRET_RANDOM_LEN)
        return -EIO;
    log_notice("auth: no auth.secret, nonces are this process's own (a restart or another "
               "proxyd sends a new challenge)");
    return 0;
}

static int load_users(struct auth *a, char *err, size_t errlen)
{
    struct users *u = NULL;
    int rc = users_load(&u, a->env->cfg->auth.users, err, errlen);
    if (rc)
        return rc;
    users_free(a->users);
    a->users = u;
    log_notice("auth: realm \"%s\", %zu user lines from %s", a->env->cfg->auth.realm,
               users_count(u), a->env->cfg->auth.users);
    return 0;
}

/* The algorithms every challenge offers, in auth.algorithms' order
 * (default strongest first, RFC 8760 §2.4). proxyd_conf_finish has
 * checked the names. */
static void take_algorithms(struct auth *a)
{
    char list[128];
    char *save = NULL;
    a->nalgs = 0;
    snprintf(list, sizeof list, "%s", a->env->cfg->auth.algorithms);
    for (char *p = strtok_r(list, ", ", &save); p && a->nalgs < DIGEST_ALG_COUNT;
         p = strtok_r(NULL, ", ", &save)) {
        enum digest_alg alg;
        if (digest_alg_from_name(p, &alg) == 0)
            a->algs[a->nalgs++] = alg;
    }
}

int auth_new(struct auth **out, struct proxy_env *env, char *err, size_t errlen)
{
    struct auth *a = calloc(1, sizeof *a);
    if (!a)
        return -ENOMEM;
    a->env = env;
    a->now_s = wall_clock;
    a->rl = (struct log_ratelimit){.interval_s = 10, .burst = 10};
    take_algorithms(a);
    int rc = take_secret(a, env->cfg->auth.secret);
    if (!rc)
        rc = table_new(&a->nc, 1024, TABLE_TICK_MS, NULL, NULL, NULL);
    if (!rc)
        rc = table_new(&a->fails, 1024, TABLE_TICK_MS, on_fail_expired, free, NULL);
    if (!rc && env->loop)
        rc = table_attach(a->nc, env->loop);
    if (!rc && env->loop)
        rc = table_attach(a->fails, env->loop);
    if (rc)
        snprintf(err, errlen, "auth: cannot start: error %d", rc);
    if (!rc)
        rc = load_users(a, err, errlen);
    if (rc) {
        auth_free(a);
        return rc;
    }
    *out = a;
    return 0;
}

void auth_free(struct auth *a)
{
    if (!a)
        return;
    table_free(a->nc);
    table_free(a->fails);
    users_free(a->users);
    free(a);
}

int auth_reload(struct auth *a, char *err, size_t errlen)
{
    int rc = load_users(a, err, errlen);
    if (rc) {
        log_error("auth: reload: %s; the users of before stay", err);
        return rc;
    }
    take_algorithms(a);
    if (a->env->cfg->auth.secret) /* unset: the random one of the start stays */
        (void)take_secret(a, a->env->cfg->auth.secret);
    return 0;
}

void auth_set_clock(struct auth *a, uint64_t (*now_s)(void *arg), void *arg)
{
    a->now_s = now_s ? now_s : wall_clock;
    a->clock_arg = arg;
}

const struct auth_stats *auth_stats(const struct auth *a)
{
    return &a->stats;
}

size_t auth_users(const struct auth *a)
{
    return users_count(a->users);
}

/* ---- bans ---- */

static uint64_t now_ms(const struct auth *a)
{
    return loop_now_ms(a->env->loop);
}

static void ip_of(const struct addr *src, char *buf, size_t len)
{
    addr_host_plain(src, buf, len);
}

bool auth_banned(struct auth *a, const struct addr *src)
{
    char ip[ADDR_STRLEN];
    if (table_count(a->fails) == 0)
        return false;
    ip_of(src, ip, sizeof ip);
    const struct fail_rec *r = table_get(a->fails, ip);
    if (!r || r->banned_until_ms <= now_ms(a))
        return false;
    a->stats.banned_drops++;
    return true;
}

/* One more failure for src's IP; the max_failures-th bans it. */
static void count_failure(struct auth *a, const struct addr *src, enum auth_failure why,
                          const char *user)
{
    const struct proxyd_conf *cfg = a->env->cfg;
    uint64_t window_ms = (uint64_t)cfg->auth.ban_seconds * 1000;
    char ip[ADDR_STRLEN];

    a->stats.failed[why]++;
    ip_of(src, ip, sizeof ip);
    struct fail_rec *r = table_get(a->fails, ip);
    if (!r) {
        if (table_count(a->fails) >= AUTH_TABLE_MAX)
            return; /* bounded: a source beyond the bound is not tracked */
        r = calloc(1, sizeof *r);
        if (!r || table_put(a->fails, ip, r, now_ms(a) + window_ms, NULL) != 0) {
            free(r);
            return;
        }
    }
    if (r->banned_until_ms)
        return;
    if (++r->count < (uint32_t)cfg->auth.max_failures)
        return;
    r->banned_until_ms = now_ms(a) + window_ms;
    (void)table_touch(a->fails, ip, r->banned_until_ms);
    a->stats.bans++;
    log_warn("auth: %s banned for %ds after %u failed authentications (last as \"%.64s\")", ip,
             cfg->auth.ban_seconds, r->count, user ? user : "");
}

struct ban_walk {
    uint64_t now;
    size_t n;
    auth_ban_cb cb;
    void *arg;
};

static void visit_ban(const char *key, void *value, uint64_t expires_at_ms, void *arg)
{
    const struct fail_rec *r = value;
    struct ban_walk *w = arg;
    (void)expires_at_ms;
    if (r->banned_until_ms <= w->now)
        return;
    w->n++;
    if (w->cb)
        w->cb(key, (r->banned_until_ms - w->now + 999) / 1000, r->count, w->arg);
}

size_t auth_bans_active(const struct auth *a)
{
    struct ban_walk w = {.now = now_ms(a)};
    table_foreach(a->fails, visit_ban, &w);
    return w.n;
}

void auth_foreach_ban(const struct auth *a, auth_ban_cb cb, void *arg)
{
    struct ban_walk w = {.now = now_ms(a), .cb = cb, .arg = arg};
    table_foreach(a->fails, visit_ban, &w);
}

/* ---- who is challenged ---- */

bool auth_required(const struct auth *a, const osip_message_t *req, const struct proxy_rx *rx)
{
    if (sip_method_is(req, "ACK") || sip_method_is(req, "CANCEL") || sip_to_tag(req))
        return false;
    if (proxy_env_exempt(a->env, &rx->src))
        return false;
    return !(sip_method_is(req, "OPTIONS") && proxy_env_addressed_to_us(a->env, req, rx->tp));
}

/* ---- the challenge ---- */

static void challenge(struct auth *a, struct txn_server *st, bool registrar, bool stale)
{
    const char *realm = a->env->cfg->auth.realm;
    const char *name = registrar ? "WWW-Authenticate" : "Proxy-Authenticate";
    char nonce[NONCE_LEN + 1];
    char values[DIGEST_ALG_COUNT][CHALLENGE_MAX];
    const char *headers[2 * DIGEST_ALG_COUNT + 1];
    size_t n = 0;

    if (nonce_make(a->secret, a->secret_len, realm, a->now_s(a->clock_arg), nonce) != 0) {
        (void)txn_server_respond_status(st, 500);
        return;
    }
    for (size_t i = 0; i < a->nalgs; i++) {
        snprintf(values[i], sizeof values[i],
                 "Digest realm=\"%s\", nonce=\"%s\", algorithm=%s, qop=\"auth\"%s", realm, nonce,
                 digest_alg_name(a->algs[i]), stale ? ", stale=true" : "");
        headers[n++] = name;
        headers[n++] = values[i];
    }
    headers[n] = NULL;
    a->stats.challenges++;
    if (stale)
        a->stats.stale++;
    (void)txn_server_respond_with(st, registrar ? 401 : 407, headers);
}

/* ---- verifying ---- */

/* nc: 8 hex digits (RFC 7616 §3.4), not zero. */
static int parse_nc(const char *s, uint32_t *out)
{
    uint64_t v;
    if (strlen(s) != 8 || digest_hex_value(s, 8, &v) != 0 || v == 0)
        return -EINVAL;
    *out = (uint32_t)v;
    return 0;
}

/* The outcome of one set of credentials. */
enum verdict { V_OK, V_STALE, V_FAIL };

/* What the credentials would hash to with a made-up HA1: an unknown user
 * costs the same hashing as a known one. */
static const char unknown_ha1[] = "00000000000000000000000000000000"
                                  "00000000000000000000000000000000";

static enum verdict verify(struct auth *a, const osip_message_t *req,
                           const struct sip_credentials *cr, uint32_t nc, enum digest_alg alg,
                           enum auth_failure *why)
{
    const struct proxyd_conf *cfg = a->env->cfg;
    char resp[DIGEST_HEX_MAX];
    const char *ha1 = users_ha1(a->users, cr->user, cfg->auth.realm, alg);
    struct digest_input in = {.ha1 = ha1 ? ha1 : unknown_ha1,
                              .nonce = cr->nonce,
                              .nc = cr->nc,
                              .cnonce = cr->cnonce,
                              .qop = cr->qop,
                              .method = sip_method(req),
                              .uri = cr->uri};
    int nrc = nonce_check(a->secret, a->secret_len, cfg->auth.realm, cr->nonce,
                          a->now_s(a->clock_arg), (uint64_t)cfg->auth.nonce_lifetime);
    if (nrc == -EINVAL) {
        *why = AUTH_FAIL_NONCE;
        return V_FAIL;
    }
    if (digest_response(alg, &in, resp) != 0 || !digest_equal(resp, cr->response)) {
        *why = ha1 ? AUTH_FAIL_PASSWORD : AUTH_FAIL_USER;
        return V_FAIL;
    }
    if (!ha1) { /* the all-zero HA1 matched: still nobody */
        *why = AUTH_FAIL_USER;
        return V_FAIL;
    }
    if (nrc == -ESTALE)
        return V_STALE; /* right password, old nonce: RFC 7616 §3.3 stale=true */
    uintptr_t last = (uintptr_t)table_get(a->nc, cr->nonce);
    if (last && nc <= last) {
        *why = AUTH_FAIL_REPLAY;
        return V_FAIL;
    }
    if (!last && table_count(a->nc) >= AUTH_TABLE_MAX) {
        if (log_ratelimit_allow(&a->rl))
            log_warn("auth: nc table full (%d nonces): new nonces get a stale challenge",
                     AUTH_TABLE_MAX);
        return V_STALE;
    }
    uint64_t until = loop_now_ms(a->env->loop) + (uint64_t)cfg->auth.nonce_lifetime * 1000;
    if (table_put(a->nc, cr->nonce, (void *)(uintptr_t)nc, until, NULL) != 0)
        return V_STALE;
    return V_OK;
}

static bool offered(const struct auth *a, enum digest_alg alg)
{
    for (size_t i = 0; i < a->nalgs; i++)
        if (a->algs[i] == alg)
            return true;
    return false;
}

/* Reads and judges the credentials of req; V_FAIL with *why, or none at
 * all (*present false). */
static enum verdict judge(struct auth *a, const osip_message_t *req, bool registrar,
                          struct sip_credentials *cr, bool *present, enum auth_failure *why)
{
    enum digest_alg alg;
    uint32_t nc;
    int rc = sip_credentials_find(req, !registrar, a->env->cfg->auth.realm, cr);
    *present = rc != -ENOENT;
    if (rc == -ENOENT)
        return V_FAIL;
    *why = AUTH_FAIL_MALFORMED;
    if (rc != 0 || digest_alg_from_name(cr->algorithm, &alg) != 0 || !offered(a, alg) ||
        strcmp(cr->qop, "auth") != 0 || !cr->cnonce[0] || parse_nc(cr->nc, &nc) != 0)
        return V_FAIL;
    return verify(a, req, cr, nc, alg, why);
}

bool auth_check(struct auth *a, struct txn_server *st, const osip_message_t *req,
                const struct proxy_rx *rx)
{
    struct sip_credentials cr;
    enum auth_failure why = AUTH_FAIL_MALFORMED;
    bool present = false;
    bool registrar = sip_method_is(req, "REGISTER");

    enum verdict v = judge(a, req, registrar, &cr, &present, &why);
    if (v == V_OK) {
        /* The identity is the account's: a REGISTER binds its To, any
         * other request speaks for its From. */
        const char *claimed = registrar ? sip_to_user(req) : sip_from_user(req);
        if (!claimed || strcmp(claimed, cr.user) != 0) {
            a->stats.forbidden++;
            if (log_ratelimit_allow(&a->rl)) {
                char who[ADDR_STRLEN];
                log_info("auth: %s authenticated as \"%.64s\" but speaks for \"%.64s\": 403",
                         addr_format(&rx->src, who, sizeof who), cr.user,
                         claimed && sip_user_valid(claimed, USERS_FIELD_MAX) ? claimed : "?");
            }
            (void)txn_server_respond_status(st, 403);
            return false;
        }
        a->stats.ok++;
        return true;
    }
    if (v == V_FAIL && present) /* the name goes into a log line: only a valid one */
        count_failure(a, &rx->src, why, sip_user_valid(cr.user, USERS_FIELD_MAX) ? cr.user : "?");
    challenge(a, st, registrar, v == V_STALE);
    return false;
}

/* proxy_metrics: what proxyd exports. The counters are the proxy's and
 * its modules' own (proxy_stats, messaging_stats), read in place; table
 * sizes and the transaction layer are read once per scrape. */
#include "proxy_metrics.h"

#include <errno.h>
#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "flood.h"
#include "messaging.h"
#include "nat_table.h"
#include "pinhole/log.h"
#include "pinhole/metrics.h"

struct proxy_metrics {
    struct loop *loop;
    struct proxy_metrics_src src;
    struct metrics *reg;
    struct metrics_http *http;
    struct txn_stats txn; /* refreshed per scrape */
    uint64_t nat_clients, calls, flood_drops, flood_refusals;
    /* copied per scrape: a reload may replace the auth module */
    struct auth_stats auth;
    uint64_t auth_users, bans_active;
};

static void refresh(void *arg)
{
    struct proxy_metrics *m = arg;

    txn_layer_stats(m->src.env->txn, &m->txn);
    m->nat_clients = nat_table_count(m->src.env->nat);
    m->calls = messaging_calls(m->src.msg);
    m->flood_drops = flood_drops(m->src.flood);
    m->flood_refusals = flood_refusals(m->src.flood);
    const struct auth *a = m->src.auth ? *m->src.auth : NULL;
    if (a) {
        m->auth = *auth_stats(a);
        m->auth_users = auth_users(a);
        m->bans_active = auth_bans_active(a);
    } else {
        m->auth_users = m->bans_active = 0;
    }
}

/* One series; labels NULL or {"k", "v", NULL}. */
static void add(struct proxy_metrics *m, const char *name, enum metric_type type, const char *help,
                const char *const *labels, const uint64_t *value)
{
    struct metric_def d = {.name = name, .type = type, .help = help, .labels = labels};
    metrics_add(m->reg, &d, value);
}

/* name{label=values[i]} reading counts[i], for a family of outcomes. */
static void add_each(struct proxy_metrics *m, const char *name, const char *help, const char *label,
                     const char *const *values, const uint64_t *const *counts, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *labels[] = {label, values[i], NULL};
        add(m, name, METRIC_COUNTER, help, labels, counts[i]);
    }
}

static void register_sip(struct proxy_metrics *m)
{
    static const char *const methods[PROXY_M_COUNT] = {"REGISTER", "INVITE",  "ACK",  "BYE",
                                                       "CANCEL",   "OPTIONS", "other"};
    const struct proxy_stats *s = &m->src.env->stats;

    metrics_add_requests(m->reg, methods, s->requests, PROXY_M_COUNT);
    metrics_add_responses(m->reg, s->responses, PROXY_STATUS_SLOTS, PROXY_STATUS_MIN);
    metrics_add_txn(m->reg, &m->txn);
    add(m, "pinhole_sip_parse_errors_total", METRIC_COUNTER, "Datagrams the SIP parser refused",
        NULL, &s->parse_errors);
    add(m, "pinhole_sip_stray_responses_total", METRIC_COUNTER,
        "SIP responses matching no transaction", NULL, &s->stray_responses);
    add(m, "pinhole_proxyd_bad_requests_total", METRIC_COUNTER,
        "Requests answered 400 (or 505): malformed, or nothing to key a transaction on", NULL,
        &s->bad_requests);
    add(m, "pinhole_proxyd_not_implemented_total", METRIC_COUNTER,
        "Requests answered 501: a method or target proxyd does not route", NULL,
        &s->not_implemented);
    add(m, "pinhole_proxyd_flood_drops_total", METRIC_COUNTER,
        "Datagrams dropped unanswered: their source IP was over limits.source_rate and its "
        "answer budget",
        NULL, &m->flood_drops);
    add(m, "pinhole_proxyd_flood_refused_total", METRIC_COUNTER,
        "Datagrams over their source IP's limits.source_rate answered 503 with Retry-After "
        "(requests; responses and ACKs among them are dropped)",
        NULL, &m->flood_refusals);
    add(m, "pinhole_proxyd_transactions_full_total", METRIC_COUNTER,
        "Requests answered 503 because limits.max_transactions server transactions were held", NULL,
        &s->transactions_full);
}

static void register_registrations(struct proxy_metrics *m)
{
    static const char *const results[] = {"ok", "failed"};
    const struct proxy_stats *s = &m->src.env->stats;
    const uint64_t *const counts[] = {&s->registrations_ok, &s->registrations_failed};

    add_each(m, "pinhole_proxyd_registrations_total",
             "REGISTERs answered, by result: 2xx from redirectd relayed, or an error (timeouts "
             "included)",
             "result", results, counts, 2);
    add(m, "pinhole_proxyd_registration_timeouts_total", METRIC_COUNTER,
        "REGISTERs answered 408: redirectd did not answer within 64*T1", NULL,
        &s->registration_timeouts);
    add(m, "pinhole_proxyd_unregistrations_total", METRIC_COUNTER,
        "Registrations removed by Expires 0 or Contact *", NULL, &s->unregistrations);
    add(m, "pinhole_proxyd_nat_clients", METRIC_GAUGE, "Clients behind NAT in the NAT client table",
        NULL, &m->nat_clients);
    add(m, "pinhole_proxyd_nat_clients_dropped_total", METRIC_COUNTER,
        "NAT clients dropped after unanswered OPTIONS keepalives", NULL, &s->nat_clients_dropped);
    add(m, "pinhole_proxyd_keepalives_sent_total", METRIC_COUNTER,
        "Keepalives sent to NAT clients (CRLF datagrams or OPTIONS)", NULL, &s->keepalives_sent);
    add(m, "pinhole_proxyd_keepalive_failures_total", METRIC_COUNTER,
        "OPTIONS keepalives left unanswered", NULL, &s->keepalive_failures);
}

static void register_auth(struct proxy_metrics *m)
{
    static const char *const reasons[AUTH_FAIL_COUNT] = {"malformed", "nonce", "replay",
                                                         "unknown_user", "wrong_password"};
    const struct auth_stats *s = &m->auth;
    const uint64_t *const fails[AUTH_FAIL_COUNT] = {
        &s->failed[AUTH_FAIL_MALFORMED], &s->failed[AUTH_FAIL_NONCE], &s->failed[AUTH_FAIL_REPLAY],
        &s->failed[AUTH_FAIL_USER], &s->failed[AUTH_FAIL_PASSWORD]};

    add(m, "pinhole_proxyd_auth_challenges_total", METRIC_COUNTER,
        "401/407 digest challenges sent (stale ones included)", NULL, &s->challenges);
    add(m, "pinhole_proxyd_auth_stale_challenges_total", METRIC_COUNTER,
        "Challenges with stale=true: right password, nonce older than nonce_lifetime", NULL,
        &s->stale);
    add(m, "pinhole_proxyd_auth_ok_total", METRIC_COUNTER, "Requests authenticated", NULL, &s->ok);
    add_each(m, "pinhole_proxyd_auth_failures_total",
             "Failed authentications by reason (all answered alike, with a fresh challenge)",
             "reason", reasons, fails, AUTH_FAIL_COUNT);
    add(m, "pinhole_proxyd_auth_forbidden_total", METRIC_COUNTER,
        "Requests answered 403: authenticated as another user than the one they speak for", NULL,
        &s->forbidden);
    add(m, "pinhole_proxyd_auth_bans_total", METRIC_COUNTER,
        "Source IPs banned after max_failures failed authentications", NULL, &s->bans);
    add(m, "pinhole_proxyd_auth_bans_active", METRIC_GAUGE, "Source IPs banned now", NULL,
        &m->bans_active);
    add(m, "pinhole_proxyd_auth_banned_drops_total", METRIC_COUNTER,
        "Datagrams from banned IPs dropped unparsed and unanswered", NULL, &s->banned_drops);
    add(m, "pinhole_proxyd_auth_users", METRIC_GAUGE, "Lines of the users file loaded", NULL,
        &m->auth_users);
}

static void register_invites(struct proxy_metrics *m)
{
    static const char *const reasons[] = {"not_found", "unavailable", "loop",
                                          "cancelled", "timeout",     "refused"};
    const struct messaging_stats *s = messaging_stats(m->src.msg);
    const uint64_t *const fails[] = {&s->invites_not_found, &s->invites_unavailable,
                                     &s->invites_loop,      &s->invites_cancelled,
                                     &s->invites_timeout,   &s->invites_refused};

    add(m, "pinhole_proxyd_calls", METRIC_GAUGE,
        "Calls (INVITE dialogs and transactions) proxyd keeps state for", NULL, &m->calls);
    add(m, "pinhole_proxyd_invites_total", METRIC_COUNTER, "New INVITEs (out of dialog)", NULL,
        &s->invites);
    add(m, "pinhole_proxyd_invites_forwarded_total", METRIC_COUNTER,
        "INVITEs forwarded towards the callee (fig. 4 step 155)", NULL, &s->invites_forwarded);
    add(m, "pinhole_proxyd_invites_forked_total", METRIC_COUNTER,
        "Of those, forked to several phones of the user at once (RFC 3261 16.7)", NULL,
        &s->invites_forked);
    add(m, "pinhole_proxyd_fork_branches_total", METRIC_COUNTER,
        "INVITE branches sent, one per target of the redirect answer", NULL, &s->fork_branches);
    add(m, "pinhole_proxyd_fork_cancelled_total", METRIC_COUNTER,
        "Branches CANCELled because another branch answered 2xx or 6xx", NULL, &s->fork_cancelled);
    add(m, "pinhole_proxyd_redirect_contacts_skipped_total", METRIC_COUNTER,
        "Contacts of redirect answers not followed: a host name, or beyond 8 targets", NULL,
        &s->redirect.skipped);
    add_each(m, "pinhole_proxyd_invite_failures_total",
             "INVITEs proxyd answered itself with an error, by why: 404 unknown callee, 503 relay "
             "or redirect down, 482/483 loop, 487 cancelled, 408 no answer, 4xx unroutable",
             "reason", reasons, fails, 6);
    add(m, "pinhole_proxyd_cancels_total", METRIC_COUNTER, "CANCELs that matched an INVITE", NULL,
        &s->cancels);
    add(m, "pinhole_proxyd_dialog_requests_total", METRIC_COUNTER,
        "In-dialog requests routed (ACK, BYE, re-INVITE, ...)", NULL, &s->dialog_requests);
    add(m, "pinhole_proxyd_dialog_refused_total", METRIC_COUNTER,
        "In-dialog requests refused: no dialog this proxy record-routed or holds (403/481)", NULL,
        &s->dialog_refused);
    add(m, "pinhole_proxyd_media_timeouts_total", METRIC_COUNTER,
        "Calls relayd found silent (its notice): BYE sent to both phones with its Reason", NULL,
        &s->media_timeouts);
    add(m, "pinhole_proxyd_outside_requests_total", METRIC_COUNTER,
        "Out-of-dialog requests other than INVITE and REGISTER (MESSAGE, SUBSCRIBE, OPTIONS to a "
        "user...)",
        NULL, &s->outside_requests);
    add(m, "pinhole_proxyd_outside_forwarded_total", METRIC_COUNTER,
        "Of those, forwarded to where redirectd said", NULL, &s->outside_forwarded);
    add(m, "pinhole_proxyd_outside_refused_total", METRIC_COUNTER,
        "Of those, answered by proxyd: unknown user (404), not routable (416, 482, 483), 503", NULL,
        &s->outside_refused);
}

static void register_upstream(struct proxy_metrics *m)
{
    static const char *const answers[] = {"302", "404", "timeout", "failed"};
    static const char *const classes[] = {"1xx", "2xx", "3xx", "4xx", "5xx", "6xx"};
    const struct messaging_stats *s = messaging_stats(m->src.msg);
    const uint64_t *const redirect[] = {&s->redirect.moved, &s->redirect.not_found,
                                        &s->redirect.timeouts, &s->redirect.failures};
    const uint64_t *const forwarded[] = {&s->responses_forwarded[0], &s->responses_forwarded[1],
                                         &s->responses_forwarded[2], &s->responses_forwarded[3],
                                         &s->responses_forwarded[4], &s->responses_forwarded[5]};

    add_each(m, "pinhole_proxyd_redirect_answers_total",
             "Answers to INVITE queries to redirectd: 302, 404, none within 64*T1, other", "result",
             answers, redirect, 4);
    add(m, "pinhole_proxyd_relay_allocations_total", METRIC_COUNTER,
        "Relay resources allocated by relayd (302 with SDP)", NULL, &s->relay.allocations);
    add(m, "pinhole_proxyd_relay_releases_total", METRIC_COUNTER,
        "BYEs sent to relayd to free a call's relay resources", NULL, &s->relay.releases);
    add(m, "pinhole_proxyd_relay_failures_total", METRIC_COUNTER,
        "Relay queries that failed on every relay tried", NULL, &s->relay.failures);
    add(m, "pinhole_proxyd_relay_release_failures_total", METRIC_COUNTER,
        "Release BYEs refused, unanswered or not sent (relayd frees on session_timeout)", NULL,
        &s->relay.release_failures);
    add(m, "pinhole_proxyd_relay_reports_total", METRIC_COUNTER,
        "Answering phones' signalling IP and SDP told to relayd (Pinhole-Sources)", NULL,
        &s->relay.reports);
    add(m, "pinhole_proxyd_relay_report_failures_total", METRIC_COUNTER,
        "Of those, refused, unanswered or not sent", NULL, &s->relay.report_failures);
    add_each(m, "pinhole_proxyd_responses_forwarded_total",
             "Responses forwarded upstream through a transaction, by class", "class", classes,
             forwarded, 6);
    add(m, "pinhole_proxyd_stray_2xx_forwarded_total", METRIC_COUNTER,
        "2xx retransmissions forwarded statelessly after their transaction ended", NULL,
        &s->stray_forwarded);
}

static void status_fields(struct metrics_obj *o, void *arg)
{
    struct proxy_metrics *m = arg;
    const struct proxyd_conf *c = m->src.env->cfg;
    const struct proxy_stats *s = &m->src.env->stats;

    refresh(m);
    metrics_obj_addr(o, "listen", &c->listen);
    metrics_obj_addr(o, "advertise", &c->advertise);
    metrics_obj_addr(o, "redirect", &c->redirect);
    metrics_obj_bool(o, "draining", m->src.env->draining);
    metrics_obj_u64(o, "nat_clients", m->nat_clients);
    metrics_obj_u64(o, "calls", m->calls);
    metrics_obj_u64(o, "registrations_ok", s->registrations_ok);
    metrics_obj_u64(o, "registrations_failed", s->registrations_failed);
    metrics_obj_u64(o, "transactions", m->txn.servers + m->txn.clients);
}

struct listing {
    struct metrics_table t;
    uint64_t now_ms;
};

static void list_client(const char *aor, const struct nat_binding *b, void *arg)
{
    struct listing *ls = arg;

    if (!metrics_table_row(&ls->t))
        return;
    metrics_table_str(&ls->t, aor);
    metrics_table_addr(&ls->t, &b->nat);
    metrics_table_addr(&ls->t, &b->tp.local);
    metrics_table_u64(
        &ls->t, b->expires_at_ms > ls->now_ms ? (b->expires_at_ms - ls->now_ms + 999) / 1000 : 0);
    metrics_table_u64(&ls->t, b->missed);
}

static int list_clients(struct evbuffer *out, const struct metrics_query *q, void *arg)
{
    static const char *const cols[] = {"aor",        "nat_address",       "via_socket",
                                       "expires_in", "keepalives_missed", NULL};
    struct proxy_metrics *m = arg;
    const struct nat_table *nt = m->src.env->nat;
    struct listing ls = {.now_ms = loop_now_ms(m->loop)};

    metrics_table_begin(&ls.t, out, q, "clients", cols, nat_table_count(nt));
    nat_table_foreach(nt, list_client, &ls);
    metrics_table_end(&ls.t);
    return 0;
}

struct ban_listing {
    struct metrics_table t;
};

static void list_ban(const char *ip, uint64_t seconds_left, uint32_t failures, void *arg)
{
    struct ban_listing *ls = arg;
    if (!metrics_table_row(&ls->t))
        return;
    metrics_table_str(&ls->t, ip);
    metrics_table_u64(&ls->t, seconds_left);
    metrics_table_u64(&ls->t, failures);
}

/* /bans: the source IPs auth has banned (empty without auth). */
static int list_bans(struct evbuffer *out, const struct metrics_query *q, void *arg)
{
    static const char *const cols[] = {"ip", "expires_in", "failures", NULL};
    struct proxy_metrics *m = arg;
    const struct auth *a = m->src.auth ? *m->src.auth : NULL;
    struct ban_listing ls;

    metrics_table_begin(&ls.t, out, q, "bans", cols, a ? auth_bans_active(a) : 0);
    if (a)
        auth_foreach_ban(a, list_ban, &ls);
    metrics_table_end(&ls.t);
    return 0;
}

int proxy_metrics_listen(struct proxy_metrics *m, const struct addr *stats)
{
    return metrics_http_serve(m->http, stats);
}

int proxy_metrics_new(struct proxy_metrics **out, struct loop *l,
                      const struct proxy_metrics_src *src, const struct addr *stats)
{
    struct proxy_metrics *m = calloc(1, sizeof *m);
    int err;

    if (!m)
        return -ENOMEM;
    m->loop = l;
    m->src = *src;
    err = metrics_new(&m->reg);
    if (!err)
        err = metrics_http_new(&m->http, l, m->reg, "proxyd");
    if (!err) {
        metrics_on_refresh(m->reg, refresh, m);
        register_sip(m);
        register_registrations(m);
        register_invites(m);
        register_upstream(m);
        register_auth(m);
        err = metrics_error(m->reg);
    }
    if (!err)
        err = metrics_http_route(m->http, "/clients", list_clients, m);
    if (!err)
        err = metrics_http_route(m->http, "/bans", list_bans, m);
    if (!err) {
        metrics_http_status(m->http, status_fields, m);
        err = proxy_metrics_listen(m, stats);
    }
    if (err) {
        proxy_metrics_free(m);
        return err;
    }
    *out = m;
    return 0;
}

void proxy_metrics_free(struct proxy_metrics *m)
{
    if (!m)
        return;
    metrics_http_free(m->http);
    metrics_free(m->reg);
    free(m);
}

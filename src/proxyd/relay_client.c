/* relay_client: fig. 4b queries with failover, the release BYE, and the
 * SDP rewrite to a relay resource. */
#include "relay_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nat_table.h"
#include "query.h"

/* The release BYE is built as text; bounded by its parts (two URIs, a
 * Call-ID of at most CALL_ID_MAX, a Via). */
/* A control request: headers and, for a report, an SDP (SIP_MAX_MESSAGE bounds it) */
#define CONTROL_TEXT_MAX (SIP_MAX_MESSAGE + 1024)

void relay_client_init(struct relay_client *rc, const struct proxy_env *env,
                       struct relay_stats *stats)
{
    memset(rc, 0, sizeof *rc);
    rc->env = env;
    rc->stats = stats;
    rc->rl = (struct log_ratelimit){.interval_s = 10, .burst = 10};
    dlist_init(&rc->releases);
}

/* ---- decision 4: is an address a relay's? ---- */

static void seen_add(struct relay_seen *s, const char *addr)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->addr[i], addr) == 0)
            return;
    snprintf(s->addr[s->next], sizeof s->addr[s->next], "%s", addr);
    s->next = (s->next + 1) % RELAY_SEEN_MAX;
    if (s->n < RELAY_SEEN_MAX)
        s->n++;
}

static bool is_relay_addr(const struct relay_client *rc, const char *addr)
{
    const struct addr_list *relays = &rc->env->cfg->relays;
    char host[ADDR_STRLEN];
    for (size_t i = 0; i < rc->seen.n; i++)
        if (strcmp(rc->seen.addr[i], addr) == 0)
            return true;
    for (size_t i = 0; i < relays->n; i++)
        if (strcmp(addr_host_plain(&relays->v[i], host, sizeof host), addr) == 0)
            return true;
    return false;
}

static int parse_body_sdp(const osip_message_t *msg, struct sdp **out)
{
    const char *body;
    size_t len;
    *out = NULL;
    if (!sip_body_is_sdp(msg) || sip_body_get(msg, &body, &len) != 0)
        return -ENOENT;
    return sdp_parse(out, body, len);
}

bool relay_sdp_is_relayed(const struct relay_client *rc, const osip_message_t *msg)
{
    struct sdp *s;
    struct sdp_media_info mi;
    size_t live = 0;
    bool relayed = true;

    if (parse_body_sdp(msg, &s) != 0)
        return false;
    for (size_t i = 0; relayed && sdp_media_get(s, i, &mi) == 0; i++) {
        if (mi.port == 0)
            continue; /* a disabled stream carries nothing to relay */
        live++;
        relayed = mi.conn[0] && is_relay_addr(rc, mi.conn);
    }
    sdp_free(s);
    return relayed && live > 0;
}

/* ---- applying a resource (steps 148, 154, 224) ---- */

int relay_res_apply(const struct relay_res *res, osip_message_t *msg)
{
    struct sdp *s;
    char *text = NULL;
    size_t len;

    int err = parse_body_sdp(msg, &s);
    if (err == -ENOENT)
        return 0;
    if (err)
        return err;
    err = sdp_apply_relay(s, res->media, res->ports, res->nports);
    if (!err)
        err = sdp_serialize(s, &text, &len);
    if (!err)
        err = sip_body_set(msg, text, len, "application/sdp");
    free(text);
    sdp_free(s);
    return err;
}

/* ---- fig. 8b: reading relayd's answer ---- */

/* The media address of a relay SDP: the first usable c=, else (an offer
 * on hold gives a 302 on hold) the relay's own host. */
static void media_addr(const struct sdp *s, const struct addr *relay, char *buf, size_t len)
{
    struct sdp_media_info mi;
    struct addr a;
    for (size_t i = 0; sdp_media_get(s, i, &mi) == 0; i++) {
        if (sdp_media_addr(&mi, &a) == 0) {
            snprintf(buf, len, "%s", mi.conn);
            return;
        }
    }
    addr_host_plain(relay, buf, len);
}

static int res_from_answer(const osip_message_t *resp, const struct addr *relay,
                           struct relay_res *res)
{
    struct sdp *s;
    struct sdp_media_info mi;

    if (sip_status(resp) != 302 || parse_body_sdp(resp, &s) != 0)
        return -EPROTO;
    memset(res, 0, sizeof *res);
    res->relay = *relay;
    for (size_t i = 0; i < SDP_MAX_MEDIA && sdp_media_get(s, i, &mi) == 0; i++)
        res->ports[res->nports++] = mi.port;
    media_addr(s, relay, res->media, sizeof res->media);
    sdp_free(s);
    if (res->nports == 0)
        return -EPROTO;
    res->held = true;
    return 0;
}

/* ---- queries ---- */

static void on_relay_answer(struct txn_client *ct, osip_message_t *resp, const struct addr *src,
                            void *arg);

/* Step 144b/148a: one attempt at one relay. */
static int attempt(struct relay_query *q, const struct addr *relay)
{
    osip_message_t *req = NULL;
    int err = query_build(&req, q->offer, relay, &q->rc->env->cfg->advertise);
    if (err)
        return err;
    (void)sip_header_remove(req, MEDIA_SOURCE_HEADER); /* between proxies only */
    /* relayd takes INVITEs (fig. 8a): an UPDATE's offer is asked as one */
    if (!sip_method_is(req, "INVITE"))
        err = sip_method_set(req, "INVITE");
    if (!err && q->sources[0])
        err = sip_header_set(req, MEDIA_SOURCES_HEADER, q->sources);
    if (err) {
        sip_free(req);
        return err;
    }
    /* txn_client_send frees req on error */
    return txn_client_send(q->rc->env->txn, req, relay, &q->tp, on_relay_answer, q, &q->ct);
}

/* Decision 12's failover: the next relay of the list that takes the
 * request. */
static int try_next(struct relay_query *q)
{
    const struct addr_list *relays = &q->rc->env->cfg->relays;
    if (addr_is_set(&q->only))
        return -EHOSTUNREACH; /* a re-query has one relay: the session's */
    while (q->next_relay < relays->n) {
        size_t i = q->next_relay++;
        if (attempt(q, &relays->v[i]) == 0)
            return 0;
        q->rc->stats->failures++;
    }
    return -EHOSTUNREACH;
}

static void finish(struct relay_query *q, const struct relay_res *res)
{
    relay_query_cb cb = q->cb;
    void *arg = q->arg;
    q->offer = NULL;
    q->cb = NULL;
    cb(arg, res); /* last: it may free the owner, and q with it */
}

static void on_relay_answer(struct txn_client *ct, osip_message_t *resp, const struct addr *src,
                            void *arg)
{
    struct relay_query *q = arg;
    struct relay_client *rc = q->rc;
    struct relay_res res;
    (void)src;

    if (resp && sip_status(resp) < 200)
        return;
    q->ct = NULL;
    if (resp && res_from_answer(resp, txn_client_destination(ct), &res) == 0) {
        rc->stats->allocations++;
        seen_add(&rc->seen, res.media);
        finish(q, &res);
        return;
    }
    rc->stats->failures++;
    char who[ADDR_STRLEN];
    if (log_ratelimit_allow(&rc->rl))
        log_warn("relay %s: %s", addr_format(txn_client_destination(ct), who, sizeof who),
                 resp ? "refused the relay invite" : "did not answer");
    if (try_next(q) != 0)
        finish(q, NULL);
}

int relay_query_start(struct relay_query *q, struct relay_client *rc, const osip_message_t *req,
                      const struct transport *tp, const struct addr *only, const char *sources,
                      relay_query_cb cb, void *arg)
{
    memset(q, 0, sizeof *q);
    q->rc = rc;
    if (sources)
        snprintf(q->sources, sizeof q->sources, "%s", sources);
    q->tp = *tp;
    q->cb = cb;
    q->arg = arg;
    if (only)
        q->only = *only;
    q->offer = req;
    int err = only ? attempt(q, only) : try_next(q);
    if (err)
        memset(q, 0, sizeof *q);
    return err;
}

bool relay_query_pending(const struct relay_query *q)
{
    return q->offer != NULL;
}

void relay_query_abort(struct relay_query *q)
{
    if (q->ct && !q->rc->env->closing)
        txn_client_abandon(q->ct);
    q->offer = NULL;
    q->ct = NULL;
    q->cb = NULL;
}

/* ---- release (decision 9) ---- */

/* A control request of ours to relayd about call_id: BYE (release) or
 * INVITE (report, with an SDP body and Pinhole-Sources). */
struct control {
    const char *method;
    const char *call_id, *user;
    const char *sources; /* INVITE only */
    const char *body;    /* INVITE only: the SDP */
    size_t body_len;
};

static int build_control(osip_message_t **out, const struct addr *self, const struct addr *relay,
                         const struct control *ctl)
{
    static char text[CONTROL_TEXT_MAX]; /* too big for the stack; the loop has one thread */
    char me[ADDR_STRLEN], rl[ADDR_STRLEN];
    char ftag[SIP_TAG_LEN], ttag[SIP_TAG_LEN], branch[SIP_BRANCH_LEN], extra[160] = "";
    /* relayd keys on the Call-ID: a user we could not write back is left out */
    const char *u = sip_user_valid(ctl->user, NAT_AOR_MAX) ? ctl->user : "";
    const char *at = *u ? "@" : "";
    struct sip_parse_result res;

    sip_tag_new(ftag, sizeof ftag);
    sip_tag_new(ttag, sizeof ttag);
    sip_branch_new(branch, sizeof branch);
    addr_host_sip(self, me, sizeof me);
    addr_host_sip(relay, rl, sizeof rl);
    if (ctl->body)
        snprintf(extra, sizeof extra, "Content-Type: application/sdp\r\n%s%s%s",
                 ctl->sources ? MEDIA_SOURCES_HEADER ": " : "", ctl->sources ? ctl->sources : "",
                 ctl->sources ? "\r\n" : "");
    /* A report opens a dialog of its own with relayd (a To without tag),
     * which the 302 ends; a release names none (relayd keys on Call-ID). */
    int n = snprintf(text, sizeof text,
                     "%s sip:%s%s%s:%u SIP/2.0\r\n"
                     "Via: SIP/2.0/UDP %s:%u;branch=%s;rport\r\n"
                     "Max-Forwards: 70\r\n"
                     "From: <sip:%s:%u>;tag=%s\r\n"
                     "To: <sip:%s%s%s:%u>%s%s\r\n"
                     "Call-ID: %s\r\n"
                     "CSeq: 1 %s\r\n"
                     "%s"
                     "Content-Length: %zu\r\n\r\n",
                     ctl->method, u, at, rl, addr_port(relay), me, addr_port(self), branch, me,
                     addr_port(self), ftag, u, at, rl, addr_port(relay),
                     ctl->body ? "" : ";tag=", ctl->body ? "" : ttag, ctl->call_id, ctl->method,
                     extra, ctl->body_len);
    if (n < 0 || (size_t)n + ctl->body_len >= sizeof text)
        return -ENOSPC;
    if (ctl->body_len)
        memcpy(text + n, ctl->body, ctl->body_len);
    int err = sip_parse(out, text, (size_t)n + ctl->body_len, &res);
    if (err) {
        sip_free(*out);
        *out = NULL;
    }
    return err;
}

/* A control request relayd refused or never answered: counted, logged
 * with what follows from it. */
static void control_failed(struct relay_client *rc, uint64_t *counter, const char *what,
                           const osip_message_t *resp, const char *then)
{
    (*counter)++;
    if (log_ratelimit_allow(&rc->rl))
        log_info("relay %s: %s (%s)", what, resp ? "refused" : "no answer", then);
}

/* A release in flight: the call's log line waits for relayd's packets. */
struct release {
    struct relay_client *rc;
    struct dlist link; /* in rc->releases */
    struct txn_client *ct;
    struct call_record rec;
    bool log;
};

static void release_free(struct release *r)
{
    dlist_remove(&r->link);
    free(r);
}

void relay_client_close(struct relay_client *rc)
{
    while (!dlist_empty(&rc->releases)) {
        struct release *r = dlist_entry(rc->releases.next, struct release, link);
        if (r->ct && !rc->env->closing)
            txn_client_abandon(r->ct);
        release_free(r);
    }
}

static void on_release_answer(struct txn_client *ct, osip_message_t *resp, const struct addr *src,
                              void *arg)
{
    struct release *r = arg;
    (void)ct;
    (void)src;
    if (resp && sip_status(resp) < 200)
        return;
    if (!resp || sip_status(resp) >= 300) /* not the 200 that frees the session */
        control_failed(r->rc, &r->rc->stats->release_failures, "release", resp,
                       "relayd's session_timeout will free it");
    if (r->log)
        call_log_write(&r->rec, resp ? sip_header_get(resp, "Pinhole-Packets") : NULL);
    release_free(r);
}

int relay_release(struct relay_client *rc, struct relay_res *res, const char *call_id,
                  const char *user, const struct transport *tp, const struct call_record *rec)
{
    osip_message_t *bye = NULL;
    if (!res->held || res->released)
        return -EALREADY;
    res->released = true; /* once, whatever happens to the datagram */
    if (rc->env->closing)
        return -ESHUTDOWN;
    if (!sip_call_id_valid(call_id, CALL_ID_MAX)) {
        rc->stats->release_failures++;
        return -EINVAL;
    }
    struct release *r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    r->rc = rc;
    if (rec) {
        r->rec = *rec;
        r->log = true;
    }
    struct control ctl = {.method = "BYE", .call_id = call_id, .user = user};
    int err = build_control(&bye, &rc->env->cfg->advertise, &res->relay, &ctl);
    if (!err)
        err = txn_client_send(rc->env->txn, bye, &res->relay, tp, on_release_answer, r, &r->ct);
    if (err) {
        free(r);
        rc->stats->release_failures++;
        log_warn("relay release for %s: error %d", call_id, err);
        return err;
    }
    dlist_push(&rc->releases, &r->link);
    rc->stats->releases++;
    return 0;
}

/* ---- late offer (issue #16) ---- */

int relay_offer_from(osip_message_t **out, const struct relay_client *rc, const char *call_id,
                     const char *user, const osip_message_t *msg)
{
    const char *body;
    size_t len;
    const struct addr_list *relays = &rc->env->cfg->relays;

    *out = NULL;
    if (relays->n == 0)
        return -EHOSTUNREACH;
    if (!sip_body_is_sdp(msg) || sip_body_get(msg, &body, &len) != 0 ||
        !sip_call_id_valid(call_id, CALL_ID_MAX))
        return -EINVAL;
    struct control ctl = {
        .method = "INVITE", .call_id = call_id, .user = user, .body = body, .body_len = len};
    return build_control(out, &rc->env->cfg->advertise, &relays->v[0], &ctl);
}

/* ---- report (issue #15) ---- */

static void on_report_answer(struct txn_client *ct, osip_message_t *resp, const struct addr *src,
                             void *arg)
{
    struct relay_client *rc = arg;
    (void)ct;
    (void)src;
    if (!resp || sip_status(resp) >= 400) /* not a 1xx nor the 302 the layer ACKs */
        control_failed(rc, &rc->stats->report_failures, "report", resp,
                       "relayd refuses the answerer's media until it knows its IP");
}

int relay_report(struct relay_client *rc, const struct relay_res *res, const char *call_id,
                 const char *user, const struct addr *ip, const osip_message_t *answer,
                 const struct transport *tp)
{
    char sources[MEDIA_SOURCES_LEN];
    const char *body;
    size_t len;
    osip_message_t *inv = NULL;

    if (!res->held || res->released || rc->env->closing || !sip_body_is_sdp(answer) ||
        sip_body_get(answer, &body, &len) != 0 || !sip_call_id_valid(call_id, CALL_ID_MAX))
        return -EINVAL;
    media_sources_value(sources, sizeof sources, ip, NULL);
    struct control ctl = {.method = "INVITE",
                          .call_id = call_id,
                          .user = user,
                          .sources = sources,
                          .body = body,
                          .body_len = len};
    int err = build_control(&inv, &rc->env->cfg->advertise, &res->relay, &ctl);
    if (!err)
        err = txn_client_send(rc->env->txn, inv, &res->relay, tp, on_report_answer, rc, NULL);
    rc->stats->reports++;
    if (err) {
        rc->stats->report_failures++;
        if (log_ratelimit_allow(&rc->rl))
            log_warn("relay report for %s: error %d", call_id, err);
    }
    return err;
}

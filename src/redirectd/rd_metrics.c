/* rd_metrics: what redirectd exports. The counters are the redirector's
 * own (rd_ctx.h), read in place at scrape time. */
#include "rd_metrics.h"

#include <errno.h>
#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

#include "pinhole/log.h"
#include "pinhole/metrics.h"
#include "pinhole/store.h"

struct rd_metrics {
    struct loop *loop;
    const struct redirector *r;
    const struct udp_sock *sip;
    struct metrics *reg;
    struct metrics_http *http;
    struct txn_stats txn; /* refreshed per scrape */
    uint64_t bindings;    /* refreshed per scrape */
    uint64_t expired;
    uint64_t table_bytes;
    struct store_stats store; /* refreshed per scrape */
    uint64_t store_queued;
    uint64_t store_loaded;
};

static void refresh(void *arg)
{
    struct rd_metrics *m = arg;
    const struct client_table *ct = redirector_clients(m->r);
    struct client_table_memory mem;

    redirector_txn_stats(m->r, &m->txn);
    client_table_memory(ct, &mem);
    m->bindings = client_table_count(ct);
    m->expired = client_table_expired(ct);
    m->table_bytes = mem.overhead + mem.strings;
    const struct binding_store *bs = redirector_bindings(m->r);
    store_get_stats(bs->store, &m->store);
    m->store_queued = m->store.queued;
    m->store_loaded = bs->loaded;
}

static int add(struct rd_metrics *m, const char *name, enum metric_type type, const char *help,
               const uint64_t *value)
{
    struct metric_def d = {.name = name, .type = type, .help = help};
    return metrics_add(m->reg, &d, value);
}

static int register_series(struct rd_metrics *m)
{
    static const char *const methods[RD_METHOD_COUNT] = {"REGISTER", "INVITE", "ACK",
                                                         "OPTIONS",  "CANCEL", "other"};
    const struct redirectd_stats *s = redirector_stats(m->r);

    metrics_on_refresh(m->reg, refresh, m);
    metrics_add_requests(m->reg, methods, s->requests, RD_METHOD_COUNT);
    metrics_add_responses(m->reg, s->responses, RD_STATUS_SLOTS, RD_STATUS_MIN);
    metrics_add_txn(m->reg, &m->txn);
    add(m, "pinhole_sip_parse_errors_total", METRIC_COUNTER, "Datagrams the SIP parser refused",
        &s->parse_errors);
    add(m, "pinhole_sip_forbidden_total", METRIC_COUNTER,
        "Requests refused with 403: source not in `proxies`", &s->forbidden);
    add(m, "pinhole_sip_stray_responses_total", METRIC_COUNTER,
        "SIP responses sent to this daemon (dropped)", &s->stray_responses);
    add(m, "pinhole_sip_stray_acks_total", METRIC_COUNTER, "ACKs matching no transaction",
        &s->stray_acks);
    add(m, "pinhole_sip_acks_absorbed_total", METRIC_COUNTER,
        "ACKs for a non-2xx final response, absorbed by its transaction", &s->acks_absorbed);
    add(m, "pinhole_sip_send_errors_total", METRIC_COUNTER, "Messages the socket refused to send",
        &s->send_errors);
    add(m, "pinhole_redirectd_bindings", METRIC_GAUGE,
        "Registered clients (AOR bindings) in the client table", &m->bindings);
    add(m, "pinhole_redirectd_bindings_expired_total", METRIC_COUNTER,
        "Bindings removed because their registration ran out", &m->expired);
    add(m, "pinhole_redirectd_table_bytes", METRIC_GAUGE,
        "Memory held by the client table (structure and strings)", &m->table_bytes);
    add(m, "pinhole_redirectd_store_commits_total", METRIC_COUNTER,
        "Groups of binding changes committed to the store", &m->store.commits);
    add(m, "pinhole_redirectd_store_writes_total", METRIC_COUNTER,
        "Binding changes (written or removed) committed to the store", &m->store.writes);
    add(m, "pinhole_redirectd_store_failures_total", METRIC_COUNTER,
        "Commits the store refused (their REGISTERs answered 500)", &m->store.failures);
    add(m, "pinhole_redirectd_store_queued", METRIC_GAUGE,
        "Binding changes waiting for their commit", &m->store_queued);
    add(m, "pinhole_redirectd_store_loaded", METRIC_GAUGE,
        "Bindings loaded from the store at start", &m->store_loaded);
    return metrics_error(m->reg);
}

static void status_fields(struct metrics_obj *o, void *arg)
{
    struct rd_metrics *m = arg;
    const struct redirectd_stats *s = redirector_stats(m->r);

    metrics_obj_addr(o, "listen", udp_sock_local(m->sip));
    metrics_obj_u64(o, "bindings", client_table_count(redirector_clients(m->r)));
    metrics_obj_u64(o, "registers", s->requests[RD_REGISTER]);
    metrics_obj_u64(o, "invites", s->requests[RD_INVITE]);
    metrics_obj_u64(o, "forbidden", s->forbidden);
    metrics_obj_u64(o, "parse_errors", s->parse_errors);
}

struct listing {
    struct metrics_table t;
    uint64_t now_ms;
};

static void list_binding(const char *id, const struct client_binding *b, void *arg)
{
    struct listing *ls = arg;
    struct addr serving, source;

    if (!metrics_table_row(&ls->t))
        return;
    client_binding_serving(b, &serving);
    client_binding_source(b, &source);
    metrics_table_str(&ls->t, id);
    metrics_table_str(&ls->t, client_binding_contact(b));
    metrics_table_addr(&ls->t, &serving);
    metrics_table_addr(&ls->t, &source);
    metrics_table_u64(&ls->t, client_binding_remaining_s(b, ls->now_ms));
    metrics_table_str(&ls->t, client_binding_call_id(b));
    metrics_table_u64(&ls->t, client_binding_cseq(b));
}

static int list_bindings(struct evbuffer *out, const struct metrics_query *q, void *arg)
{
    static const char *const cols[] = {"aor",        "contact", "serving_proxy", "from",
                                       "expires_in", "call_id", "cseq",          NULL};
    struct rd_metrics *m = arg;
    const struct client_table *ct = redirector_clients(m->r);
    struct listing ls = {.now_ms = loop_now_ms(m->loop)};

    metrics_table_begin(&ls.t, out, q, "bindings", cols, client_table_count(ct));
    client_table_foreach(ct, list_binding, &ls);
    metrics_table_end(&ls.t);
    return 0;
}

int rd_metrics_listen(struct rd_metrics *m, const struct addr *stats)
{
    return metrics_http_serve(m->http, stats);
}

int rd_metrics_new(struct rd_metrics **out, struct loop *l, const struct redirector *r,
                   const struct udp_sock *sip, const struct addr *stats)
{
    struct rd_metrics *m = calloc(1, sizeof *m);
    int err;

    if (!m)
        return -ENOMEM;
    m->loop = l;
    m->r = r;
    m->sip = sip;
    err = metrics_new(&m->reg);
    if (!err)
        err = metrics_http_new(&m->http, l, m->reg, "redirectd");
    if (!err)
        err = register_series(m);
    if (!err)
        err = metrics_http_route(m->http, "/bindings", list_bindings, m);
    if (!err) {
        metrics_http_status(m->http, status_fields, m);
        err = rd_metrics_listen(m, stats);
    }
    if (err) {
        rd_metrics_free(m);
        return err;
    }
    *out = m;
    return 0;
}

void rd_metrics_free(struct rd_metrics *m)
{
    if (!m)
        return;
    metrics_http_free(m->http);
    metrics_free(m->reg);
    free(m);
}

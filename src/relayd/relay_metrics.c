/* relay_metrics: what relayd exports. A scrape takes one snapshot
 * (relayd_get_metrics) and every series reads it: the media path keeps
 * counting as it always does, and nothing is added per packet. */
#include "relay_metrics.h"

#include <errno.h>
#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

#include "pinhole/log.h"
#include "pinhole/metrics.h"

struct relay_metrics {
    struct loop *loop;
    const struct relayd *core;
    const struct udp_sock *sip;
    struct metrics *reg;
    struct metrics_http *http;
    struct relayd_metrics snap; /* refreshed per scrape */
    /* the snapshot's size_t fields, as the registry reads uint64_t */
    uint64_t sessions, streams, pairs_in_use, pairs_free;
};

static void refresh(void *arg)
{
    struct relay_metrics *m = arg;

    relayd_get_metrics(m->core, &m->snap);
    m->sessions = m->snap.sessions.sessions;
    m->streams = m->snap.sessions.streams;
    m->pairs_in_use = m->snap.sessions.pairs_in_use;
    m->pairs_free = m->snap.sessions.pairs_free;
}

/* One series; labels NULL or {"k", "v", NULL}. */
static void add(struct relay_metrics *m, const char *name, enum metric_type type, const char *help,
                const char *const *labels, const uint64_t *value)
{
    struct metric_def d = {.name = name, .type = type, .help = help, .labels = labels};
    metrics_add(m->reg, &d, value);
}

static void register_control(struct relay_metrics *m)
{
    static const char *const methods[RELAY_M_COUNT] = {"INVITE",  "ACK",      "BYE",  "CANCEL",
                                                       "OPTIONS", "REGISTER", "other"};
    const struct relay_control_stats *c = &m->snap.control;

    metrics_add_requests(m->reg, methods, c->requests, RELAY_M_COUNT);
    metrics_add_responses(m->reg, c->responses, RELAY_STATUS_SLOTS, RELAY_STATUS_MIN);
    metrics_add_txn(m->reg, &m->snap.txn);
    add(m, "pinhole_sip_parse_errors_total", METRIC_COUNTER, "Datagrams the SIP parser refused",
        NULL, &c->parse_errors);
    add(m, "pinhole_sip_forbidden_total", METRIC_COUNTER,
        "Requests refused with 403: source not in `proxies`", NULL, &c->forbidden);
    add(m, "pinhole_sip_stray_responses_total", METRIC_COUNTER,
        "SIP responses sent to this daemon (dropped)", NULL, &c->stray_responses);
    add(m, "pinhole_sip_stray_acks_total", METRIC_COUNTER, "ACKs matching no transaction", NULL,
        &c->stray_acks);
    add(m, "pinhole_sip_acks_absorbed_total", METRIC_COUNTER,
        "ACKs for a non-2xx final response, absorbed by its transaction", NULL, &c->acks_absorbed);
    add(m, "pinhole_sip_send_errors_total", METRIC_COUNTER, "Messages the socket refused to send",
        NULL, &c->send_errors);
}

static void register_sessions(struct relay_metrics *m)
{
    static const char *const bye[] = {"reason", "bye", NULL};
    static const char *const idle[] = {"reason", "idle", NULL};
    static const char *const life[] = {"reason", "lifetime", NULL};
    static const char *const used[] = {"state", "in_use", NULL};
    static const char *const free_[] = {"state", "free", NULL};
    const char *ended = "Relay sessions freed, by why: BYE from the proxy, session_timeout "
                        "without media, session_max_lifetime";
    const char *pairs = "Relay port pairs (RTP + RTCP) of the port range, by state";
    const struct relay_control_stats *c = &m->snap.control;

    add(m, "pinhole_relayd_sessions", METRIC_GAUGE, "Relay sessions (calls) in the session table",
        NULL, &m->sessions);
    add(m, "pinhole_relayd_streams", METRIC_GAUGE,
        "Relayed media streams, each holding one port pair", NULL, &m->streams);
    add(m, "pinhole_relayd_port_pairs", METRIC_GAUGE, pairs, used, &m->pairs_in_use);
    add(m, "pinhole_relayd_port_pairs", METRIC_GAUGE, pairs, free_, &m->pairs_free);
    add(m, "pinhole_relayd_sessions_created_total", METRIC_COUNTER,
        "Relay sessions created by an INVITE for a new Call-ID", NULL, &c->sessions_created);
    add(m, "pinhole_relayd_notices_total", METRIC_COUNTER,
        "BYEs telling the proxy that created a session that relayd freed it (silence, age)", NULL,
        &c->notices_sent);
    add(m, "pinhole_relayd_sessions_reused_total", METRIC_COUNTER,
        "INVITEs for a Call-ID already relayed (answered with the same ports)", NULL,
        &c->sessions_reused);
    add(m, "pinhole_relayd_sessions_ended_total", METRIC_COUNTER, ended, bye,
        &c->sessions_released);
    add(m, "pinhole_relayd_sessions_ended_total", METRIC_COUNTER, ended, idle,
        &m->snap.sessions.expired_idle);
    add(m, "pinhole_relayd_sessions_ended_total", METRIC_COUNTER, ended, life,
        &m->snap.sessions.expired_lifetime);
    add(m, "pinhole_relayd_streams_added_total", METRIC_COUNTER, "Port pairs allocated to streams",
        NULL, &c->streams_added);
    add(m, "pinhole_relayd_allocation_failures_total", METRIC_COUNTER,
        "INVITEs answered 503: no free port pair (or descriptor)", NULL, &c->allocation_failures);
}

static void register_media(struct relay_metrics *m)
{
    static const char *const no_peer[] = {"reason", "no_peer", NULL};
    static const char *const unknown[] = {"reason", "unknown_source", NULL};
    static const char *const send[] = {"reason", "send_failed", NULL};
    static const char *const oversize[] = {"reason", "oversize", NULL};
    const char *dropped = "RTP/RTCP packets not relayed, by why: the other channel not latched "
                          "yet and its address unknown, a source refused (not signalled, a third "
                          "one, on probation), the send failed, too large";
    const struct media_totals *t = &m->snap.sessions.media;

    add(m, "pinhole_relayd_packets_received_total", METRIC_COUNTER,
        "RTP/RTCP packets read from the relay ports", NULL, &t->received);
    add(m, "pinhole_relayd_packets_relayed_total", METRIC_COUNTER,
        "RTP/RTCP packets sent on to the other channel", NULL, &t->forwarded);
    add(m, "pinhole_relayd_packets_early_total", METRIC_COUNTER,
        "Of those, sent to the other phone's signalled IP and SDP port before its channel "
        "latched (RFC 7362 section 5)",
        NULL, &t->early);
    add(m, "pinhole_relayd_bytes_relayed_total", METRIC_COUNTER,
        "Payload bytes of the packets relayed", NULL, &t->forwarded_bytes);
    add(m, "pinhole_relayd_packets_dropped_total", METRIC_COUNTER, dropped, no_peer,
        &t->drops_no_peer);
    add(m, "pinhole_relayd_packets_dropped_total", METRIC_COUNTER, dropped, unknown,
        &t->drops_unknown);
    add(m, "pinhole_relayd_packets_dropped_total", METRIC_COUNTER, dropped, send, &t->drops_send);
    add(m, "pinhole_relayd_packets_dropped_total", METRIC_COUNTER, dropped, oversize,
        &t->drops_oversize);
}

static void status_fields(struct metrics_obj *o, void *arg)
{
    struct relay_metrics *m = arg;

    refresh(m);
    metrics_obj_addr(o, "listen", udp_sock_local(m->sip));
    metrics_obj_u64(o, "sessions", m->sessions);
    metrics_obj_u64(o, "streams", m->streams);
    metrics_obj_u64(o, "port_pairs_free", m->pairs_free);
    metrics_obj_u64(o, "packets_relayed", m->snap.sessions.media.forwarded);
    metrics_obj_u64(o, "bytes_relayed", m->snap.sessions.media.forwarded_bytes);
    metrics_obj_u64(o, "packets_refused", m->snap.sessions.media.drops_unknown);
    metrics_obj_u64(o, "allocation_failures", m->snap.control.allocation_failures);
}

struct listing {
    struct metrics_table t;
    uint64_t now_ms;
};

/* One row per channel: "rtp-1", "rtp-2", "rtcp-1", "rtcp-2". refused is
 * the port's count of third-source packets (fig. 11: neither channel's). */
static void list_channel(struct listing *ls, const struct session *s, size_t i, bool rtcp, int ch)
{
    static const char *const names[2][2] = {{"rtp-1", "rtp-2"}, {"rtcp-1", "rtcp-2"}};
    const struct latch_pair *p = session_stream_latch(s, i, rtcp);
    const struct latch_chan *c = &p->ch[ch];
    struct addr src = {0};

    if (!metrics_table_row(&ls->t))
        return;
    if (c->ep.len)
        addr_from_sockaddr(&src, &c->ep.u.sa, c->ep.len);
    metrics_table_str(&ls->t, session_call_id(s));
    metrics_table_u64(&ls->t, i);
    metrics_table_u64(&ls->t, session_stream_port(s, i) + (rtcp ? 1u : 0u));
    metrics_table_str(&ls->t, names[rtcp][ch]);
    metrics_table_addr(&ls->t, &src);
    metrics_table_u64(&ls->t, c->packets);
    metrics_table_u64(&ls->t, c->bytes);
    metrics_table_u64(&ls->t, c->drops);
    metrics_table_u64(&ls->t, p->unknown_drops);
    if (c->ep.len && ls->now_ms >= c->last_rx_ms)
        metrics_table_u64(&ls->t, (ls->now_ms - c->last_rx_ms) / 1000);
    else
        metrics_table_null(&ls->t); /* not latched */
}

static bool list_session(const struct session *s, void *arg)
{
    struct listing *ls = arg;
    for (size_t i = 0; i < session_stream_count(s); i++)
        for (int k = 0; k < 4; k++)
            list_channel(ls, s, i, k >= 2, k % 2);
    return !metrics_table_full(&ls->t);
}

static int list_sessions(struct evbuffer *out, const struct metrics_query *q, void *arg)
{
    static const char *const cols[] = {"call_id", "stream",  "port",  "channel",
                                       "source",  "packets", "bytes", "dropped",
                                       "refused", "idle_s",  NULL};
    struct relay_metrics *m = arg;
    struct session_table *t = relayd_sessions(m->core);
    struct session_table_stats st;
    struct listing ls = {.now_ms = loop_now_ms(m->loop)};

    session_table_get_stats(t, &st);
    metrics_table_begin(&ls.t, out, q, "sessions", cols, 4 * st.streams);
    session_table_foreach(t, list_session, &ls);
    metrics_table_end(&ls.t);
    return 0;
}

int relay_metrics_listen(struct relay_metrics *m, const struct addr *stats)
{
    return metrics_http_serve(m->http, stats);
}

int relay_metrics_new(struct relay_metrics **out, struct loop *l, const struct relayd *core,
                      const struct udp_sock *sip, const struct addr *stats)
{
    struct relay_metrics *m = calloc(1, sizeof *m);
    int err;

    if (!m)
        return -ENOMEM;
    m->loop = l;
    m->core = core;
    m->sip = sip;
    err = metrics_new(&m->reg);
    if (!err)
        err = metrics_http_new(&m->http, l, m->reg, "relayd");
    if (!err) {
        metrics_on_refresh(m->reg, refresh, m);
        register_control(m);
        register_sessions(m);
        register_media(m);
        err = metrics_error(m->reg);
    }
    if (!err)
        err = metrics_http_route(m->http, "/sessions", list_sessions, m);
    if (!err) {
        metrics_http_status(m->http, status_fields, m);
        err = relay_metrics_listen(m, stats);
    }
    if (err) {
        relay_metrics_free(m);
        return err;
    }
    *out = m;
    return 0;
}

void relay_metrics_free(struct relay_metrics *m)
{
    if (!m)
        return;
    metrics_http_free(m->http);
    metrics_free(m->reg);
    free(m);
}

/* setup: fig. 10 on a relay INVITE, and BYE (see setup.h). */
#include "setup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pinhole/txn_reply.h"

#include "relay_check.h"
#include "relay_limits.h"
#include "relay_offer.h"
#include "relay_sources.h"

/* A response with an optional reason phrase and extra header; 415 also
 * gets the Accept header RFC 3261 21.4.13 asks for (a header field the
 * sip.h setters leave to libosip2). */
static void reply_full(struct relay_ctx *c, struct txn_server *st, int status, const char *reason,
                       const char *hname, const char *hvalue)
{
    osip_message_t *resp = NULL;
    int err = txn_server_build(st, status, reason, NULL, &resp);
    if (err == 0 && hname)
        err = sip_header_set(resp, hname, hvalue);
    if (err == 0 && status == 415 && osip_message_set_accept(resp, "application/sdp") != 0)
        err = -ENOMEM;
    if (err == 0) {
        txn_reply_send(&c->reply, st, resp);
    } else {
        c->stats.send_errors++;
        /* never leave the transaction without a final answer */
        txn_reply_status(&c->reply, st, 500, NULL);
    }
    if (resp)
        sip_free(resp);
}

static void log_peer(struct relay_ctx *c, const struct txn_server *st, const char *what)
{
    char who[ADDR_STRLEN];
    if (log_ratelimit_allow(&c->log_rl))
        log_warn("relay INVITE from %s: %s", addr_format(txn_server_source(st), who, sizeof who),
                 what);
}

static void refuse_offer(struct relay_ctx *c, struct txn_server *st,
                         const struct relay_offer_refusal *why)
{
    log_peer(c, st, why->reason ? why->reason : why->warning ? why->warning : "body not SDP");
    reply_full(c, st, why->status, why->reason, why->warning ? "Warning" : NULL, why->warning);
}

static uint64_t session_packets(const struct session *s)
{
    uint64_t n = 0;
    for (size_t i = 0; i < session_stream_count(s); i++)
        for (int rtcp = 0; rtcp < 2; rtcp++) {
            const struct latch_pair *p = session_stream_latch(s, i, rtcp);
            n += p->ch[0].packets + p->ch[1].packets;
        }
    return n;
}

/* fig. 10 step 62: a port pair for each m= line the session has no stream
 * for yet (stream i serves m= line i). */
static int add_streams(struct relay_ctx *c, struct session *s, size_t need)
{
    while (session_stream_count(s) < need) {
        uint16_t port;
        int err = session_add_stream(s, &port);
        if (err)
            return err;
        c->stats.streams_added++;
    }
    return 0;
}

/* Out of port pairs or descriptors: nothing half-made survives for a new
 * session; an existing one keeps its streams (a retried re-INVITE finds
 * those already added). */
static void allocation_failed(struct relay_ctx *c, struct txn_server *st, struct session *s,
                              bool created, int err)
{
    char what[128];
    const char *why = err == -EBUSY                      ? "all in use"
                      : err == -EMFILE || err == -ENFILE ? "out of file descriptors"
                                                         : strerror(-err);
    snprintf(what, sizeof what, "no relay port pair (%s), answered 503", why);
    log_peer(c, st, what);
    c->stats.allocation_failures++;
    if (created)
        session_free(s);
    if (err == -E2BIG) {
        txn_reply_status(&c->reply, st, 500, NULL);
        return;
    }
    reply_full(c, st, 503, NULL, "Retry-After", SETUP_RETRY_AFTER_S);
}

static bool addr_unspecified(const struct addr *a)
{
    if (addr_family(a) == AF_INET)
        return a->u.in.sin_addr.s_addr == htonl(INADDR_ANY);
    return addr_family(a) == AF_INET6 && IN6_IS_ADDR_UNSPECIFIED(&a->u.in6.sin6_addr);
}

void setup_control_addr(const struct relay_ctx *c, struct addr *out)
{
    *out = c->tp->local;
    if (addr_unspecified(out)) {
        uint16_t port = addr_port(out);
        *out = c->conf->advertise_media;
        addr_set_port(out, port);
    }
}

/* RFC 3261 21.3: a 3xx SHOULD carry a Contact. Ours names the relay's
 * control address. */
static int set_contact(const struct relay_ctx *c, osip_message_t *resp)
{
    struct addr where;
    char text[ADDR_STRLEN], uri[ADDR_STRLEN + 8];

    setup_control_addr(c, &where);
    snprintf(uri, sizeof uri, "sip:%s", addr_format(&where, text, sizeof text));
    return sip_contact_replace(resp, uri, -1);
}

/* fig. 10 steps 66 and 68: the relay server response message 204. */
static int build_302(struct relay_ctx *c, struct txn_server *st, struct relay_offer *offer,
                     const struct session *s, osip_message_t **out)
{
    char adv[ADDR_STRLEN];
    char *body = NULL;
    size_t len = 0;
    osip_message_t *resp = NULL;

    addr_host_plain(&c->conf->advertise_media, adv, sizeof adv);
    int err = relay_offer_answer(offer, s, adv, &body, &len);
    if (err == 0)
        err = txn_server_build(st, 302, NULL, NULL, &resp);
    if (err == 0)
        err = sip_body_set(resp, body, len, "application/sdp");
    if (err == 0)
        err = set_contact(c, resp);
    free(body);
    if (err) {
        if (resp)
            sip_free(resp);
        return err;
    }
    *out = resp;
    return 0;
}

static void log_session(const struct session *s, bool created)
{
    char ports[8 * SDP_MAX_MEDIA] = "";
    size_t used = 0;
    for (size_t i = 0; i < session_stream_count(s) && used < sizeof ports; i++) {
        int n = snprintf(ports + used, sizeof ports - used, "%s%u", i ? "," : "",
                         session_stream_port(s, i));
        if (n < 0)
            break;
        used += (size_t)n;
    }
    if (created)
        log_info("relay session %s: created, RTP ports %s", session_call_id(s), ports);
    else
        log_debug("relay session %s: INVITE again, RTP ports %s", session_call_id(s), ports);
}

/* Who may latch (latch.h): each source the proxy named, with the SDP's
 * ports for the one whose SDP this is; and for that one the SDP's own c=
 * address too, latch only (port 0: nothing is sent to an address a message
 * names), because a phone that is not behind a NAT may send its media from
 * another address than it signals from (RFC 4961: it sends from where it
 * receives). Read before build_302 rewrites the SDP to the relay's ports. */
static void set_sides(struct relay_ctx *c, struct txn_server *st, const struct relay_offer *offer,
                      struct session *s, const struct relay_sources *srcs)
{
    uint16_t ports[SDP_MAX_MEDIA] = {0};
    struct sdp_media_info mi;
    struct addr conn;
    bool has_conn = false;
    size_t n = 0;

    while (n < SDP_MAX_MEDIA && sdp_media_get(offer->sdp, n, &mi) == 0) {
        ports[n++] = mi.port;
        if (!has_conn && mi.port)
            has_conn = sdp_media_addr(&mi, &conn) == 0;
    }
    for (size_t k = 0; k < srcs->n; k++) {
        int err = session_set_side(s, &srcs->v[k].ip, srcs->v[k].sdp ? ports : NULL, n);
        if (!err && srcs->v[k].sdp && has_conn)
            err = session_set_side(s, &conn, NULL, 0);
        if (err)
            log_peer(c, st,
                     err == -ENOSPC ? "more phones named than a session keeps; extra ignored"
                                    : "an IPv6 source for an IPv4 relay; ignored");
    }
}

static void answer_relay(struct relay_ctx *c, struct txn_server *st, struct relay_offer *offer,
                         struct session *s, bool created, const struct relay_sources *srcs)
{
    osip_message_t *resp = NULL;
    int err = add_streams(c, s, offer->streams_needed);
    if (err) {
        allocation_failed(c, st, s, created, err);
        return;
    }
    set_sides(c, st, offer, s, srcs);
    err = build_302(c, st, offer, s, &resp);
    if (err) {
        if (created)
            session_free(s);
        txn_reply_status(&c->reply, st, 500, NULL);
        return;
    }
    log_session(s, created);
    if (created)
        c->stats.sessions_created++;
    else
        c->stats.sessions_reused++;
    /* A failed send is a lost datagram: the proxy retransmits the INVITE
     * and the transaction resends this 302, so the session stays. */
    txn_reply_send(&c->reply, st, resp);
    sip_free(resp);
}

/* The session for call_id, new or (design.md decision 4) the one we have:
 * fig. 10 step 64. Returns NULL after answering. */
static struct session *find_or_create(struct relay_ctx *c, struct txn_server *st,
                                      const struct relay_offer *offer, const char *call_id,
                                      bool *created)
{
    struct session *s = session_table_get(c->sessions, call_id);
    *created = false;
    if (s) {
        session_touch(s, loop_now_ms(c->loop));
        return s;
    }
    if (offer->streams_needed == 0) {
        log_peer(c, st, "no enabled media stream in the SDP, answered 488");
        reply_full(c, st, 488, NULL, "Warning", "304 relayd \"No media stream to relay\"");
        return NULL;
    }
    int err = session_create(c->sessions, call_id, &s);
    if (err == -EINVAL) {
        reply_full(c, st, 400, "Bad Call-ID", NULL, NULL);
        return NULL;
    }
    if (err) {
        reply_full(c, st, 503, NULL, "Retry-After", SETUP_RETRY_AFTER_S);
        return NULL;
    }
    *created = true;
    session_set_owner(s, txn_server_source(st)); /* told when the session dies */
    return s;
}

void setup_invite(struct relay_ctx *c, struct txn_server *st, const osip_message_t *req)
{
    char call_id[RELAY_CALL_ID_MAX + 1];
    struct relay_offer offer;
    struct relay_offer_refusal why;
    struct relay_sources srcs;
    bool created;

    if (sip_call_id(req, call_id, sizeof call_id) != 0) {
        reply_full(c, st, 400, "Call-ID Too Long", NULL, NULL);
        return;
    }
    if (!relay_check_accepts_sdp(req)) {
        txn_reply_status(&c->reply, st, 406, NULL);
        return;
    }
    if (relay_sources_parse(sip_header_get(req, RELAY_SOURCES_HEADER), &srcs) != 0) {
        log_peer(c, st, "malformed " RELAY_SOURCES_HEADER ", answered 400");
        reply_full(c, st, 400, "Bad " RELAY_SOURCES_HEADER, NULL, NULL);
        return;
    }
    int err = relay_offer_read(&offer, req, &why);
    if (err) {
        if (err == -EINVAL)
            refuse_offer(c, st, &why);
        else
            txn_reply_status(&c->reply, st, 500, NULL);
        return;
    }
    struct session *s = find_or_create(c, st, &offer, call_id, &created);
    if (s)
        answer_relay(c, st, &offer, s, created, &srcs);
    relay_offer_free(&offer);
}

/* What each phone sent through the session, by source IP (RTP and RTCP
 * of every stream), for the proxy's call log line: "IP=N, IP=N". */
static void packets_by_ip(const struct session *s, char *out, size_t len)
{
    struct {
        struct addr ip;
        uint64_t n;
    } by[LATCH_SIDES] = {0};
    size_t nby = 0, used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < session_stream_count(s); i++) {
        for (int rtcp = 0; rtcp < 2; rtcp++) {
            const struct latch_pair *p = session_stream_latch(s, i, rtcp);
            for (int ch = 0; ch < 2; ch++) {
                struct addr a;
                size_t k = 0;
                if (p->ch[ch].ep.len == 0)
                    continue;
                addr_from_sockaddr(&a, &p->ch[ch].ep.u.sa, p->ch[ch].ep.len);
                addr_set_port(&a, 0);
                while (k < nby && !addr_equal(&by[k].ip, &a))
                    k++;
                if (k == nby && nby == LATCH_SIDES)
                    continue;
                if (k == nby)
                    by[nby++].ip = a;
                by[k].n += p->ch[ch].packets;
            }
        }
    }
    for (size_t k = 0; k < nby && used < len; k++) {
        char ip[ADDR_STRLEN];
        int n = snprintf(out + used, len - used, "%s%s=%llu", k ? ", " : "",
                         addr_host_plain(&by[k].ip, ip, sizeof ip), (unsigned long long)by[k].n);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

void setup_bye(struct relay_ctx *c, struct txn_server *st, const osip_message_t *req)
{
    char packets[LATCH_SIDES * (ADDR_STRLEN + 24)];
    char call_id[RELAY_CALL_ID_MAX + 1];
    struct session *s = NULL;

    if (sip_call_id(req, call_id, sizeof call_id) == 0)
        s = session_table_get(c->sessions, call_id);
    if (!s) {
        txn_reply_status(&c->reply, st, 481, NULL);
        return;
    }
    log_info("relay session %s: released by BYE (%zu streams, %llu packets from its channels)",
             session_call_id(s), session_stream_count(s), (unsigned long long)session_packets(s));
    packets_by_ip(s, packets, sizeof packets);
    session_free(s);
    c->stats.sessions_released++;
    if (packets[0])
        reply_full(c, st, 200, NULL, "Pinhole-Packets", packets);
    else
        txn_reply_status(&c->reply, st, 200, NULL);
}

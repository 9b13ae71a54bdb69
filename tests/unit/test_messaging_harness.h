/* A proxyd on fake wires for the test_messaging_*.c files: the patent's
 * network of figure 1 around one proxy (11 or 13), with the redirect server
 * 20 and the relay server 22 played by the test — it reads what the proxy
 * sent them off the wire and injects their answers — and the phones' and
 * NATs' datagrams injected from their addresses. Header-only (static
 * inline) so each test executable takes what it uses.
 *
 * Addresses (tests/unit/test_patent_rewrite.c): proxy 11 = 203.0.113.11,
 * proxy 13 = 203.0.113.13, redirect 20 = 203.0.113.20, relay 22 =
 * 203.0.113.22 (a second relay 203.0.113.23), client 14 = 203.0.113.14,
 * NAT 28 = 198.51.100.28:40312 (client 16), NAT 30 = 198.51.100.30:40400
 * (client 18). */
#ifndef TEST_MESSAGING_HARNESS_H
#define TEST_MESSAGING_HARNESS_H

#include "helpers.h"
#include "sip_golden.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "messaging.h"
#include "nat_table.h"
#include "pinhole/sdp.h"
#include "pinhole/sip.h"
#include "pinhole/txn.h"
#include "proxy.h"

#define P11 "203.0.113.11:5060"
#define P13 "203.0.113.13:5060"
#define REDIRECT "203.0.113.20:5060"
#define RELAY "203.0.113.22:5060"
#define RELAY_B "203.0.113.23:5060"
#define RELAY_MEDIA "203.0.113.22"
#define CLIENT14 "203.0.113.14:5060"
#define NAT28 "198.51.100.28:40312"
#define NAT30 "198.51.100.30:40400"

/* PINHOLE-style small timers: 64·T1 = 640 ms. */
/* Keys the ";ph=" marks of our Record-Routes (dialog_mark.h): the golden
 * files hold the marks this key gives their Call-IDs. */
#define MH_SECRET "mh dialog key"
#define MH_T1 10
#define MH_64T1 (64 * MH_T1)
/* How long a transaction waits for a final (the INVITE's timer C bound). */
#define MH_TXN_MAX 1000
/* Enough for every 64·T1 timer (queries, lingering calls) to run out. */
#define MH_LINGER (MH_64T1 + 3 * MH_T1 + 200)

struct mh {
    struct loop *loop;
    struct proxyd_conf cfg;
    struct addr relays[2];
    struct addr peers[2];      /* proxies 11 and 13 trust each other (operations.md) */
    struct fake_wire wire;     /* the proxy's SIP socket */
    struct fake_wire nat_wire; /* the same socket as NAT clients' REGISTERs saw it */
    struct transport tp, nat_tp;
    struct proxy *p;
    const struct messaging *m;
};

static inline struct mh *mh_new(const char *self, size_t nrelays)
{
    static bool sip_ready;
    struct mh *h = calloc(1, sizeof *h);
    const struct txn_timers tm = {
        .t1_ms = MH_T1, .t2_ms = 8 * MH_T1, .t4_ms = 10 * MH_T1, .server_max_ms = MH_TXN_MAX};
    assert_non_null(h);
    if (!sip_ready) {
        assert_int_equal(sip_init(), 0);
        sip_ready = true;
    }
    assert_int_equal(loop_new(&h->loop), 0);
    h->cfg.listen = test_addr(self);
    h->cfg.advertise = test_addr(self);
    h->cfg.redirect = test_addr(REDIRECT);
    h->relays[0] = test_addr(RELAY);
    h->relays[1] = test_addr(RELAY_B);
    h->cfg.relays.v = h->relays;
    h->cfg.relays.n = nrelays;
    h->peers[0] = test_addr(P11);
    h->peers[1] = test_addr(P13);
    h->cfg.peers.v = h->peers;
    h->cfg.peers.n = 2;
    h->cfg.nat.max_expires = 120;
    h->cfg.auth.secret = MH_SECRET; /* the dialog marks of the golden files */
    fake_wire_transport(&h->wire, &h->tp, self);
    fake_wire_transport(&h->nat_wire, &h->nat_tp, self);
    assert_int_equal(proxy_new(&h->p, h->loop, &h->cfg, &h->tp, &tm), 0);
    h->m = proxy_messaging(h->p);
    return h;
}

static inline void mh_free(struct mh *h)
{
    proxy_free(h->p);
    fake_wire_clear(&h->wire);
    fake_wire_clear(&h->nat_wire);
    loop_free(h->loop);
    free(h);
}

static inline int mh_setup_p11(void **state)
{
    *state = mh_new(P11, 1);
    return 0;
}

static inline int mh_setup_p13(void **state)
{
    *state = mh_new(P13, 1);
    return 0;
}

static inline int mh_teardown(void **state)
{
    mh_free(*state);
    return 0;
}

/* Client `aor` registered behind `nat` (step 119), on the NAT socket. */
static inline void mh_nat_client(struct mh *h, const char *aor, const char *nat)
{
    struct addr a = test_addr(nat);
    uint64_t until = loop_now_ms(h->loop) + 3600 * 1000;
    assert_int_equal(
        nat_table_put(proxy_env(h->p)->nat, aor, &a, &h->nat_tp, until, nat_table_phone_key(nat)),
        0);
}

/* ---- injecting ---- */

/* A datagram from `from` into proxyd's dispatch, as the socket would. */
static inline void mh_inject_text(struct mh *h, const char *from, const char *text, size_t len)
{
    struct addr src = test_addr(from);
    proxy_receive(h->p, &h->tp, &src, text, len);
}

static inline void mh_inject(struct mh *h, const char *from, const osip_message_t *msg)
{
    char *buf;
    size_t len;
    assert_int_equal(sip_serialize(msg, &buf, &len), 0);
    mh_inject_text(h, from, buf, len);
    osip_free(buf);
}

static inline void mh_inject_fixture(struct mh *h, const char *from, const char *relpath)
{
    size_t len;
    char *text = fixture_read_sip(relpath, &len);
    mh_inject_text(h, from, text, len);
    free(text);
}

/* The fixture's text with each (old, new) pair of `edits` (NULL-ended)
 * replaced once; malloc'd. */
static inline char *mh_variant(const char *relpath, const char *const *edits)
{
    char *text = fixture_read_sip(relpath, NULL);
    for (size_t i = 0; edits[i]; i += 2) {
        char *hit = strstr(text, edits[i]);
        if (!hit)
            fail_msg("%s has no '%s'", relpath, edits[i]);
        size_t olen = strlen(edits[i]), nlen = strlen(edits[i + 1]);
        char *out = malloc(strlen(text) - olen + nlen + 1);
        assert_non_null(out);
        size_t head = (size_t)(hit - text);
        memcpy(out, text, head);
        memcpy(out + head, edits[i + 1], nlen);
        strcpy(out + head + nlen, hit + olen);
        free(text);
        text = out;
    }
    return text;
}

#define mh_inject_variant(h, from, relpath, ...)                                                   \
    do {                                                                                           \
        char *t_ = mh_variant(relpath, (const char *const[]){__VA_ARGS__, NULL});                  \
        mh_inject_text(h, from, t_, strlen(t_));                                                   \
        free(t_);                                                                                  \
    } while (0)

/* ---- the wire ---- */

static inline size_t mh_count_to(const struct fake_wire *w, const char *to)
{
    struct addr want = test_addr(to);
    size_t n = 0;
    for (size_t i = 0; i < w->n; i++)
        if (addr_equal(&w->pkt[i].to, &want))
            n++;
    return n;
}

static inline void mh_dump(const struct fake_wire *w)
{
    char to[ADDR_STRLEN];
    for (size_t i = 0; i < w->n; i++)
        print_message("  [%zu] -> %s: %.60s\n", i, addr_format(&w->pkt[i].to, to, sizeof to),
                      w->pkt[i].buf);
}

/* Takes the first datagram sent to `to` off the wire, parsed. */
static inline osip_message_t *mh_take_from(struct fake_wire *w, const char *to)
{
    struct addr want = test_addr(to);
    osip_message_t *m = NULL;
    struct sip_parse_result res;
    for (size_t i = 0; i < w->n; i++) {
        if (!addr_equal(&w->pkt[i].to, &want))
            continue;
        assert_int_equal(sip_parse(&m, w->pkt[i].buf, w->pkt[i].len, &res), 0);
        free(w->pkt[i].buf);
        memmove(&w->pkt[i], &w->pkt[i + 1], (w->n - i - 1) * sizeof w->pkt[0]);
        w->n--;
        return m;
    }
    mh_dump(w);
    fail_msg("nothing was sent to %s", to);
    return NULL;
}

static inline osip_message_t *mh_take(struct mh *h, const char *to)
{
    return mh_take_from(&h->wire, to);
}

/* Takes the next datagram to `to`, which must be a response with this
 * status (CSeq method `method`); frees it. */
static inline void mh_expect_status(struct mh *h, const char *to, int status, const char *method)
{
    osip_message_t *m = mh_take(h, to);
    uint32_t n;
    const char *meth;
    if (sip_is_request(m) || sip_status(m) != status)
        fail_msg("expected %d to %s, got %s %d", status, to, sip_method(m) ? sip_method(m) : "",
                 sip_status(m));
    assert_int_equal(sip_cseq(m, &n, &meth), 0);
    assert_string_equal(meth, method);
    sip_free(m);
}

/* Takes the next datagram to `to`, which must be a request `method`. */
static inline osip_message_t *mh_take_request(struct mh *h, const char *to, const char *method)
{
    osip_message_t *m = mh_take(h, to);
    if (!sip_is_request(m) || !sip_method_is(m, method))
        fail_msg("expected %s to %s, got %s %d", method, to, sip_method(m) ? sip_method(m) : "",
                 sip_status(m));
    return m;
}

static inline void mh_expect_request(struct mh *h, const char *to, const char *method)
{
    sip_free(mh_take_request(h, to, method));
}

static inline void mh_expect_quiet(struct mh *h)
{
    if (h->wire.n || h->nat_wire.n) {
        mh_dump(&h->wire);
        mh_dump(&h->nat_wire);
        fail_msg("unexpected datagrams: %zu on the wire, %zu on the NAT socket", h->wire.n,
                 h->nat_wire.n);
    }
}

/* ---- golden files ---- */

static inline void mh_set_branch(osip_message_t *m, const char *branch)
{
    osip_via_t *via = osip_list_get(&m->vias, 0);
    osip_generic_param_t *p = NULL;
    assert_non_null(via);
    assert_int_equal(osip_generic_param_get_byname(&via->via_params, "branch", &p), 0);
    assert_non_null(p);
    osip_free(p->gvalue);
    p->gvalue = osip_strdup(branch);
}

static inline const char *mh_branch(const osip_message_t *m, int pos)
{
    struct sip_via_info v;
    assert_int_equal(sip_via_get(m, pos, &v), 0);
    assert_non_null(v.branch);
    return v.branch;
}

/* `got` equals the fixture; for a request, but for our own fresh branch
 * on top (checked to be an RFC 3261 branch, then copied into the
 * expectation). */
static inline void mh_assert_golden(const osip_message_t *got, const char *relpath)
{
    osip_message_t *want = golden_load(relpath);
    if (sip_is_request(want)) {
        const char *b = mh_branch(got, 0);
        assert_true(strncmp(b, SIP_BRANCH_MAGIC, strlen(SIP_BRANCH_MAGIC)) == 0);
        assert_true(strlen(b) > strlen(SIP_BRANCH_MAGIC) + 8);
        mh_set_branch(want, b);
    }
    golden_assert_equal(want, got);
    sip_free(want);
}

/* A fixture answer to `query`: its top Via branch made the query's. */
static inline osip_message_t *mh_answer_fixture(const char *relpath, const osip_message_t *query)
{
    osip_message_t *a = golden_load(relpath);
    mh_set_branch(a, mh_branch(query, 0));
    return a;
}

/* ---- redirectd and relayd ---- */

static inline osip_message_t *mh_response(const osip_message_t *req, int status, const char *tag)
{
    osip_message_t *r = NULL;
    assert_int_equal(sip_response_new(&r, req, status, tag), 0);
    return r;
}

/* redirectd (fig. 7b): 302 with one Contact. */
static inline void mh_redirect_302(struct mh *h, const osip_message_t *query, const char *contact)
{
    osip_message_t *r = mh_response(query, 302, "rd20");
    assert_int_equal(sip_contact_replace(r, contact, -1), 0);
    mh_inject(h, REDIRECT, r);
    sip_free(r);
}

static inline void mh_answer_status(struct mh *h, const char *from, const osip_message_t *req,
                                    int status)
{
    osip_message_t *r = mh_response(req, status, "x1");
    mh_inject(h, from, r);
    sip_free(r);
}

/* relayd (fig. 8b, figure 10): the offer pointed at the relay with these
 * ports, from relay `from`. */
static inline void mh_relay_302(struct mh *h, const char *from, const osip_message_t *query,
                                const uint16_t *ports, size_t n)
{
    osip_message_t *r = mh_response(query, 302, "rl22");
    const char *body;
    size_t len, out_len;
    struct sdp *s;
    char *out;
    assert_int_equal(sip_body_get(query, &body, &len), 0);
    assert_int_equal(sdp_parse(&s, body, len), 0);
    assert_int_equal(sdp_apply_relay(s, RELAY_MEDIA, ports, n), 0);
    assert_int_equal(sdp_serialize(s, &out, &out_len), 0);
    assert_int_equal(sip_body_set(r, out, out_len, "application/sdp"), 0);
    assert_int_equal(sip_contact_replace(r, "sip:203.0.113.22:5060", -1), 0);
    mh_inject(h, from, r);
    free(out);
    sdp_free(s);
    sip_free(r);
}

/* relay_report (issue #15): the INVITE that tells relayd who answered.
 * Its Pinhole-Sources is `sources`, its body the answer's own SDP (c=
 * `conn`, not yet the relay's); answered 302 as relayd would, and the
 * transaction layer's ACK taken. */
static inline void mh_expect_report(struct mh *h, const char *sources, const char *conn)
{
    osip_message_t *r = mh_take_request(h, RELAY, "INVITE");
    const char *v = sip_header_get(r, "Pinhole-Sources"), *body;
    char want[80];
    size_t len;
    assert_non_null(v);
    assert_string_equal(v, sources);
    assert_null(sip_header_get(r, "Pinhole-Source"));
    assert_int_equal(sip_body_get(r, &body, &len), 0);
    snprintf(want, sizeof want, "c=IN IP4 %s\r\n", conn);
    assert_non_null(strstr(body, want));
    mh_relay_302(h, RELAY, r, (const uint16_t[]){30000, 30002}, 2);
    mh_expect_request(h, RELAY, "ACK");
    sip_free(r);
}

/* ---- time ---- */

static inline void mh_stop(struct timer *t, void *arg)
{
    (void)t;
    loop_stop(arg);
}

static inline void mh_run(struct mh *h, uint64_t ms)
{
    struct timer *t;
    assert_int_equal(timer_new(&t, h->loop, mh_stop, h->loop), 0);
    timer_start(t, ms);
    assert_int_equal(loop_run(h->loop), 0);
    timer_free(t);
}

/* Every call's state has been freed (after its linger). */
static inline void mh_assert_no_calls(struct mh *h)
{
    mh_run(h, MH_LINGER);
    assert_int_equal(messaging_calls(h->m), 0);
}

/* ---- SDP ---- */

/* The c= and m= ports of msg's SDP. */
static inline void mh_sdp(const osip_message_t *msg, char *conn, size_t conn_len, uint16_t *ports,
                          size_t *n)
{
    const char *body;
    size_t len;
    struct sdp *s;
    struct sdp_media_info mi;
    assert_int_equal(sip_body_get(msg, &body, &len), 0);
    assert_int_equal(sdp_parse(&s, body, len), 0);
    *n = 0;
    for (size_t i = 0; sdp_media_get(s, i, &mi) == 0; i++) {
        ports[(*n)++] = mi.port;
        if (i == 0)
            snprintf(conn, conn_len, "%s", mi.conn);
    }
    sdp_free(s);
}

/* ---- the flows every test file starts from ---- */

/* Figure 2a signals 1-6 at proxy 11. Leaves the wire empty; returns the
 * forwarding invite 5b (the caller frees it). */
static inline osip_message_t *mh_fig2a_p11(struct mh *h)
{
    mh_inject_fixture(h, NAT28, "patent/fig5a_invite.sip");
    mh_expect_status(h, NAT28, 100, "INVITE"); /* decision 12: at once */

    /* steps 146 and 150 at once (decision 12): signals 2 and 4 */
    osip_message_t *relay_q = mh_take_request(h, RELAY, "INVITE");
    mh_assert_golden(relay_q, "messaging/fig8a_relay_invite.sip");
    osip_message_t *redirect_q = mh_take_request(h, REDIRECT, "INVITE");
    mh_assert_golden(redirect_q, "messaging/fig7a_redirect_invite.sip");
    assert_string_not_equal(mh_branch(relay_q, 0), mh_branch(redirect_q, 0));
    mh_expect_quiet(h);

    /* signal 3: fig. 8b; the transaction layer ACKs it; nothing forwarded
     * before redirectd has answered */
    osip_message_t *a = mh_answer_fixture("messaging/fig8b_relay_302.sip", relay_q);
    mh_inject(h, RELAY, a);
    sip_free(a);
    mh_expect_request(h, RELAY, "ACK");
    mh_expect_quiet(h);

    /* signal 5: fig. 7b → signal 6 */
    a = mh_answer_fixture("messaging/fig7b_redirect_302.sip", redirect_q);
    mh_inject(h, REDIRECT, a);
    sip_free(a);
    mh_expect_request(h, REDIRECT, "ACK");
    osip_message_t *fwd = mh_take_request(h, P13, "INVITE");
    mh_expect_quiet(h);
    sip_free(relay_q);
    sip_free(redirect_q);
    return fwd;
}

/* Figure 2a at proxy 11 up to the 200 (fig. 6b → 6c): a confirmed call
 * holding relay ports 30000/30002. Leaves the wire empty. */
/* Figure 2b signals 4-9 at proxy 11: 14's INVITE from P13 for NAT client
 * 16; redirectd and relayd answer (the relay query checked for the
 * sources it names); returns the INVITE that went to 16 through NAT 28. */
static inline osip_message_t *mh_fig2b_p11(struct mh *h)
{
    mh_nat_client(h, "16", NAT28);
    mh_inject_fixture(h, P13, "messaging/fig5e_invite.sip");
    mh_expect_status(h, P13, 100, "INVITE");
    osip_message_t *q = mh_take_request(h, REDIRECT, "INVITE");
    mh_redirect_302(h, q, "sip:16@198.51.100.28:40312");
    osip_message_t *rq = mh_take_request(h, RELAY, "INVITE");
    /* the caller as P13 stamped it, the callee as its REGISTER came */
    assert_string_equal(sip_header_get(rq, "Pinhole-Sources"), "203.0.113.14;sdp, 198.51.100.28");
    mh_relay_302(h, RELAY, rq, (const uint16_t[]){30010, 30012}, 2);
    osip_message_t *fwd = mh_take_from(&h->nat_wire, NAT28);
    assert_null(sip_header_get(fwd, "Pinhole-Source")); /* not for a phone */
    fake_wire_clear(&h->wire);
    sip_free(rq);
    sip_free(q);
    return fwd;
}

static inline void mh_fig2a_p11_confirmed(struct mh *h)
{
    osip_message_t *fwd = mh_fig2a_p11(h);
    osip_message_t *ok = mh_answer_fixture("patent/fig6b_ok.sip", fwd);
    mh_inject(h, P13, ok);
    osip_message_t *got = mh_take(h, NAT28);
    mh_assert_golden(got, "patent/fig6c_ok.sip");
    /* 14 answered through P13, which stamps nothing in this fixture (a
     * gateway, say): relayd learns 14's SDP address */
    mh_expect_report(h, "203.0.113.14;sdp", "203.0.113.14");
    mh_expect_quiet(h);
    sip_free(got);
    sip_free(ok);
    sip_free(fwd);
}

#endif

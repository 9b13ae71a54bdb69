/* setup (patent fig. 10) through relayd's SIP control on a fake wire:
 * the relay invite message of fig. 8a answered by the 302 of fig. 8b,
 * design.md decision 4 (one resource per Call-ID), new m= lines, BYE,
 * trust (decision 11), port exhaustion, the INVITE server transaction,
 * OPTIONS, refusals, reload. Relay ports are real sockets on 127.0.0.1. */
#include "helpers.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pinhole/sdp.h"
#include "pinhole/sip.h"
#include "relay_limits.h"
#include "relayd.h"
#include "setup.h"
#include "sip_golden.h"

#define PROXY_A "203.0.113.11:5060" /* proxy server 11 */
#define PROXY_B "203.0.113.13:5060" /* proxy server 13 (fig. 2c) */
#define OUTSIDER "198.51.100.99:5060"
#define SELF "203.0.113.22:5080" /* relayd's control address */
#define ADVERTISE "203.0.113.22" /* advertise_media */
#define PORT_MIN 27000
#define PORT_MAX 27099 /* 50 pairs */
#define SMALL_MIN 27100
#define SMALL_MAX 27103 /* 2 pairs: exhaustion */

struct fx {
    struct loop *loop;
    struct fake_wire wire;
    struct transport tp;
    struct relayd_conf conf;
    struct relayd *d;
    struct addr a, b, outsider;
    unsigned branch;
};

static void conf_init(struct relayd_conf *c, int port_min, int port_max)
{
    memset(c, 0, sizeof *c);
    c->listen = test_addr(SELF);
    assert_int_equal(addr_parse(&c->media_address, "127.0.0.1", 1), 0);
    addr_set_port(&c->media_address, 0);
    assert_int_equal(addr_parse(&c->advertise_media, ADVERTISE, 1), 0);
    addr_set_port(&c->advertise_media, 0);
    c->port_min = port_min;
    c->port_max = port_max;
    c->proxies.v = calloc(2, sizeof(struct addr));
    assert_non_null(c->proxies.v);
    c->proxies.v[0] = test_addr(PROXY_A);
    c->proxies.v[1] = test_addr(PROXY_B);
    c->proxies.n = 2;
    c->session_timeout = 60;
    c->session_max_lifetime = 3600;
    c->relatch_after = 5;
}

static int setup_range(void **state, int port_min, int port_max)
{
    static bool sip_ready;
    /* short timers: G every 20 ms, H after 64 x 20 ms */
    const struct txn_timers timers = {.t1_ms = 20, .t2_ms = 80, .t4_ms = 100};
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    if (!sip_ready) {
        assert_int_equal(sip_init(), 0);
        sip_ready = true;
    }
    assert_int_equal(loop_new(&f->loop), 0);
    fake_wire_transport(&f->wire, &f->tp, SELF);
    conf_init(&f->conf, port_min, port_max);
    f->a = test_addr(PROXY_A);
    f->b = test_addr(PROXY_B);
    f->outsider = test_addr(OUTSIDER);
    assert_int_equal(relayd_new(&f->d, f->loop, &f->conf, &f->tp, &timers), 0);
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return setup_range(state, PORT_MIN, PORT_MAX);
}

static int setup_small(void **state)
{
    return setup_range(state, SMALL_MIN, SMALL_MAX);
}

static int teardown(void **state)
{
    struct fx *f = *state;
    relayd_free(f->d);
    fake_wire_clear(&f->wire);
    addr_list_free(&f->conf.proxies);
    loop_free(f->loop);
    free(f);
    return 0;
}

/* ---- sending ---- */

/* Sends `text` ("\n" line ends turned into CRLF) from src. */
static void send_text(struct fx *f, const struct addr *src, const char *text)
{
    size_t n = strlen(text), o = 0;
    char *buf = malloc(2 * n + 1);
    assert_non_null(buf);
    for (size_t i = 0; i < n; i++) {
        if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r'))
            buf[o++] = '\r';
        buf[o++] = text[i];
    }
    relayd_receive(f->d, src, buf, o);
    free(buf);
}

static void sendf(struct fx *f, const struct addr *src, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void sendf(struct fx *f, const struct addr *src, const char *fmt, ...)
{
    char buf[8192];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t)n < sizeof buf);
    send_text(f, src, buf);
}

/* An SDP with one m= line per entry of `ports` ("audio:49170", "video:0",
 * "application:9:TCP/MSRP"). */
static void sdp_build(char *out, size_t len, const char *const *media)
{
    int n = snprintf(out, len,
                     "v=0\no=16 1 1 IN IP4 192.168.1.10\ns=-\nc=IN IP4 192.168.1.10\nt=0 0\n");
    for (size_t i = 0; media[i]; i++) {
        char type[32], proto[32] = "RTP/AVP";
        unsigned port;
        assert_true(sscanf(media[i], "%31[^:]:%u:%31s", type, &port, proto) >= 2);
        n += snprintf(out + n, len - (size_t)n, "m=%s %u %s 0\na=rtcp:%u\n", type, port, proto,
                      port ? port + 1 : 0);
        assert_true((size_t)n < len);
    }
}

/* The length of text once every bare "\n" is CRLF. */
static size_t wire_len(const char *text)
{
    size_t n = strlen(text), lf = 0;
    for (size_t i = 0; i < n; i++)
        lf += text[i] == '\n';
    return n + lf;
}

/* A relay INVITE for call_id from src with the given SDP body (CRLF
 * counted: every "\n" of the body becomes two bytes). extra: more headers. */
static void invite_raw(struct fx *f, const struct addr *src, const char *call_id, unsigned branch,
                       const char *extra, const char *ctype, const char *body)
{
    sendf(f, src,
          "INVITE sip:14@203.0.113.22:5080 SIP/2.0\n"
          "Via: SIP/2.0/UDP 203.0.113.11:5060;branch=z9hG4bKinv%u\n"
          "Max-Forwards: 69\n"
          "From: <sip:16@example.net>;tag=caller%u\n"
          "To: <sip:14@example.net>\n"
          "Call-ID: %s\n"
          "CSeq: %u INVITE\n"
          "%s"
          "%s%s%s"
          "Content-Length: %zu\n\n%s",
          branch, branch, call_id, branch, extra, ctype ? "Content-Type: " : "", ctype ? ctype : "",
          ctype ? "\n" : "", wire_len(body), body);
}

static unsigned invite(struct fx *f, const struct addr *src, const char *call_id,
                       const char *const *media)
{
    char sdp[4096];
    unsigned b = ++f->branch;
    sdp_build(sdp, sizeof sdp, media);
    invite_raw(f, src, call_id, b, "", "application/sdp", sdp);
    return b;
}

static void ack(struct fx *f, const struct addr *src, const char *call_id, unsigned branch,
                const char *to_tag)
{
    sendf(f, src,
          "ACK sip:14@203.0.113.22:5080 SIP/2.0\n"
          "Via: SIP/2.0/UDP 203.0.113.11:5060;branch=z9hG4bKinv%u\n"
          "Max-Forwards: 70\n"
          "From: <sip:16@example.net>;tag=caller%u\n"
          "To: <sip:14@example.net>;tag=%s\n"
          "Call-ID: %s\n"
          "CSeq: %u ACK\n"
          "Content-Length: 0\n\n",
          branch, branch, to_tag, call_id, branch);
}

/* A request without body: BYE, OPTIONS, CANCEL... extra: more headers. */
static void request(struct fx *f, const struct addr *src, const char *method, const char *call_id,
                    const char *extra)
{
    unsigned b = ++f->branch;
    sendf(f, src,
          "%s sip:14@203.0.113.22:5080 SIP/2.0\n"
          "Via: SIP/2.0/UDP 203.0.113.11:5060;branch=z9hG4bKreq%u\n"
          "Max-Forwards: 70\n"
          "From: <sip:16@example.net>;tag=caller%u\n"
          "To: <sip:14@example.net>\n"
          "Call-ID: %s\n"
          "CSeq: %u %s\n"
          "%s"
          "Content-Length: 0\n\n",
          method, b, b, call_id, b, method, extra);
}

/* ---- reading the wire ---- */

static osip_message_t *packet(struct fx *f, size_t i)
{
    osip_message_t *m = NULL;
    struct sip_parse_result res;
    assert_true(i < f->wire.n);
    if (sip_parse(&m, f->wire.pkt[i].buf, f->wire.pkt[i].len, &res) != 0)
        fail_msg("unparseable response on the wire: %s\n%s", res.reason, f->wire.pkt[i].buf);
    return m;
}

/* Exactly one packet went out, to `to`, with `status`: returns it parsed
 * (sip_free) and clears the wire. */
static osip_message_t *expect(struct fx *f, const struct addr *to, int status)
{
    if (f->wire.n != 1)
        fail_msg("expected one response %d, the wire has %zu packets%s%s", status, f->wire.n,
                 f->wire.n ? ", the first:\n" : "", f->wire.n ? f->wire.pkt[0].buf : "");
    assert_true(addr_equal(&f->wire.pkt[0].to, to));
    osip_message_t *m = packet(f, 0);
    if (sip_status(m) != status)
        fail_msg("expected %d, got:\n%s", status, f->wire.pkt[0].buf);
    fake_wire_clear(&f->wire);
    return m;
}

static void expect_status(struct fx *f, const struct addr *to, int status)
{
    sip_free(expect(f, to, status));
}

/* The one packet on the wire carries this header line, as written. */
static void assert_wire_has(struct fx *f, const char *line)
{
    assert_int_equal(f->wire.n, 1);
    if (!strstr(f->wire.pkt[0].buf, line))
        fail_msg("no \"%s\" in:\n%s", line, f->wire.pkt[0].buf);
}

static void expect_silence(struct fx *f)
{
    if (f->wire.n != 0)
        fail_msg("expected nothing on the wire, got:\n%s", f->wire.pkt[0].buf);
}

/* The port of m= line i of a response's SDP body. */
static uint16_t sdp_port(const osip_message_t *m, size_t i)
{
    const char *body;
    size_t len;
    struct sdp *s = NULL;
    struct sdp_media_info mi;
    assert_true(sip_body_is_sdp(m));
    assert_int_equal(sip_body_get(m, &body, &len), 0);
    assert_int_equal(sdp_parse(&s, body, len), 0);
    assert_int_equal(sdp_media_get(s, i, &mi), 0);
    assert_string_equal(mi.conn, ADVERTISE);
    sdp_free(s);
    return mi.port;
}

static bool body_has(const osip_message_t *m, const char *text)
{
    const char *body;
    size_t len;
    return sip_body_get(m, &body, &len) == 0 && memmem(body, len, text, strlen(text)) != NULL;
}

static struct session *session_of(struct fx *f, const char *call_id)
{
    return session_table_get(relayd_sessions(f->d), call_id);
}

static struct relayd_metrics metrics(struct fx *f)
{
    struct relayd_metrics m;
    relayd_get_metrics(f->d, &m);
    return m;
}

static uint64_t responses(struct fx *f, int status)
{
    return metrics(f).control.responses[status - RELAY_STATUS_MIN];
}

/* 0 when nothing holds 127.0.0.1:port, -EADDRINUSE when something does. */
static int probe_port(uint16_t port)
{
    struct addr a = test_addr("127.0.0.1:1");
    int fd = socket(AF_INET, SOCK_DGRAM, 0), rc = 0;
    assert_true(fd >= 0);
    addr_set_port(&a, port);
    if (bind(fd, &a.u.sa, a.len) != 0)
        rc = -errno;
    close(fd);
    return rc;
}

static void on_stop(struct timer *t, void *arg)
{
    (void)t;
    loop_stop(arg);
}

static void run_ms(struct fx *f, uint64_t ms)
{
    struct timer *t;
    assert_int_equal(timer_new(&t, f->loop, on_stop, f->loop), 0);
    timer_start(t, ms);
    assert_int_equal(loop_run(f->loop), 0);
    timer_free(t);
}

/* ---- fig. 8a → fig. 8b ---- */

/* Replaces every ${NAME} of `vars` (name, value pairs) in text. */
static char *substitute(const char *text, const char *const *vars)
{
    size_t cap = strlen(text) + 256, o = 0;
    char *out = malloc(cap);
    assert_non_null(out);
    for (const char *p = text; *p;) {
        size_t i = 0;
        for (; vars[i]; i += 2) {
            char name[32];
            snprintf(name, sizeof name, "${%s}", vars[i]);
            if (strncmp(p, name, strlen(name)) == 0)
                break;
        }
        const char *piece = vars[i] ? vars[i + 1] : p;
        size_t n = vars[i] ? strlen(piece) : 1;
        assert_true(o + n + 1 < cap);
        memcpy(out + o, piece, n);
        o += n;
        p += vars[i] ? strlen(vars[i]) + 3 : 1;
    }
    out[o] = '\0';
    return out;
}

/* fig. 8b with the allocated ports, our To tag and the body's length. */
static osip_message_t *expected_fig8b(struct session *s, const char *tag)
{
    char audio[8], rtcp[8], video[8], len[24];
    snprintf(audio, sizeof audio, "%u", session_stream_port(s, 0));
    snprintf(rtcp, sizeof rtcp, "%u", session_stream_port(s, 0) + 1);
    snprintf(video, sizeof video, "%u", session_stream_port(s, 1));
    char *raw = fixture_read_sip("relayd/fig8b_relay_response.sip", NULL);
    const char *const ports[] = {"AUDIO_RTCP", rtcp,  "AUDIO", audio, "VIDEO",
                                 video,        "TAG", tag,     NULL};
    char *text = substitute(raw, ports);
    const char *body = strstr(text, "\r\n\r\n");
    assert_non_null(body);
    snprintf(len, sizeof len, "%zu", strlen(body + 4));
    const char *const length[] = {"LEN", len, NULL};
    char *final = substitute(text, length);
    osip_message_t *m = NULL;
    struct sip_parse_result res;
    if (sip_parse(&m, final, strlen(final), &res) != 0)
        fail_msg("fig. 8b fixture does not parse: %s", res.reason);
    free(raw);
    free(text);
    free(final);
    return m;
}

static void test_fig8a_invite_gets_fig8b_302(void **state)
{
    struct fx *f = *state;
    size_t len;
    char *text = fixture_read_sip("relayd/fig8a_relay_invite.sip", &len);
    relayd_receive(f->d, &f->a, text, len);
    free(text);

    osip_message_t *got = expect(f, &f->a, 302);
    struct session *s = session_of(f, "c0ffee-2a@192.168.1.10");
    assert_non_null(s); /* fig. 10 step 64: the record, keyed by Call-ID */
    assert_int_equal(session_stream_count(s), 2);
    for (size_t i = 0; i < 2; i++) {
        uint16_t p = session_stream_port(s, i);
        assert_in_range(p, PORT_MIN, PORT_MAX - 1);
        assert_int_equal(p % 2, 0);
        assert_int_equal(probe_port(p), -EADDRINUSE);     /* RTP bound */
        assert_int_equal(probe_port(p + 1), -EADDRINUSE); /* RTCP bound */
    }
    assert_non_null(sip_to_tag(got));
    osip_message_t *want = expected_fig8b(s, sip_to_tag(got));
    golden_assert_equal(want, got);
    assert_true(sip_body_is_sdp(got));
    assert_false(body_has(got, "a=candidate")); /* decision 5: ICE lines dropped */
    assert_false(body_has(got, "192.168.1.10 "));
    sip_free(want);
    sip_free(got);
    assert_int_equal(metrics(f).control.sessions_created, 1);
}

/* ---- decision 4: one resource per Call-ID ---- */

static void test_same_call_id_gets_the_same_ports(void **state)
{
    struct fx *f = *state;
    const char *const av[] = {"audio:4000", "video:4002", NULL};
    invite(f, &f->a, "call-1", av);
    osip_message_t *first = expect(f, &f->a, 302);
    /* a re-INVITE from the same proxy, then the other proxy (fig. 2c) */
    invite(f, &f->a, "call-1", av);
    osip_message_t *again = expect(f, &f->a, 302);
    invite(f, &f->b, "call-1", av);
    osip_message_t *other = expect(f, &f->b, 302);
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(sdp_port(again, i), sdp_port(first, i));
        assert_int_equal(sdp_port(other, i), sdp_port(first, i));
    }
    assert_int_not_equal(sdp_port(first, 0), sdp_port(first, 1));
    struct relayd_metrics m = metrics(f);
    assert_int_equal(m.sessions.sessions, 1);
    assert_int_equal(m.sessions.streams, 2);
    assert_int_equal(m.control.sessions_created, 1);
    assert_int_equal(m.control.sessions_reused, 2);
    sip_free(first);
    sip_free(again);
    sip_free(other);
}

static void test_new_m_line_gets_a_new_port(void **state)
{
    struct fx *f = *state;
    const char *const a[] = {"audio:4000", NULL};
    const char *const av[] = {"audio:4000", "video:4002", NULL};
    invite(f, &f->a, "call-2", a);
    osip_message_t *first = expect(f, &f->a, 302);
    invite(f, &f->a, "call-2", av);
    osip_message_t *more = expect(f, &f->a, 302);
    assert_int_equal(sdp_port(more, 0), sdp_port(first, 0));
    assert_int_not_equal(sdp_port(more, 1), 0);
    assert_int_not_equal(sdp_port(more, 1), sdp_port(first, 0));
    assert_int_equal(session_stream_count(session_of(f, "call-2")), 2);
    assert_int_equal(session_stream_port(session_of(f, "call-2"), 1), sdp_port(more, 1));
    sip_free(first);
    sip_free(more);
}

static void test_disabled_m_lines_keep_port_zero(void **state)
{
    struct fx *f = *state;
    /* a trailing disabled line takes nothing */
    const char *const declined[] = {"audio:4000", "video:0", NULL};
    invite(f, &f->a, "call-3", declined);
    osip_message_t *m = expect(f, &f->a, 302);
    assert_int_not_equal(sdp_port(m, 0), 0);
    assert_int_equal(sdp_port(m, 1), 0);
    assert_int_equal(session_stream_count(session_of(f, "call-3")), 1);
    sip_free(m);
    /* one before an enabled line keeps its index with a reserved pair */
    const char *const first_off[] = {"audio:0", "video:4002", NULL};
    invite(f, &f->a, "call-4", first_off);
    m = expect(f, &f->a, 302);
    assert_int_equal(sdp_port(m, 0), 0);
    assert_int_equal(sdp_port(m, 1), session_stream_port(session_of(f, "call-4"), 1));
    assert_int_equal(session_stream_count(session_of(f, "call-4")), 2);
    sip_free(m);
}

/* ---- BYE ---- */

static void test_bye_frees_the_session_and_its_ports(void **state)
{
    struct fx *f = *state;
    const char *const av[] = {"audio:4000", "video:4002", NULL};
    invite(f, &f->a, "call-5", av);
    osip_message_t *m = expect(f, &f->a, 302);
    uint16_t audio = sdp_port(m, 0), video = sdp_port(m, 1);
    sip_free(m);
    size_t free_before = metrics(f).sessions.pairs_free;

    request(f, &f->b, "BYE", "call-5", ""); /* either proxy may release */
    expect_status(f, &f->b, 200);
    assert_null(session_of(f, "call-5"));
    assert_int_equal(probe_port(audio), 0);
    assert_int_equal(probe_port(audio + 1), 0);
    assert_int_equal(probe_port(video), 0);
    assert_int_equal(probe_port(video + 1), 0);
    struct relayd_metrics mt = metrics(f);
    assert_int_equal(mt.sessions.pairs_free, free_before + 2);
    assert_int_equal(mt.sessions.pairs_in_use, 0);
    assert_int_equal(mt.control.sessions_released, 1);

    request(f, &f->a, "BYE", "call-5", "");
    expect_status(f, &f->a, 481);
}

static void test_bye_for_an_unknown_call_id_is_481(void **state)
{
    struct fx *f = *state;
    request(f, &f->a, "BYE", "never-seen", "");
    expect_status(f, &f->a, 481);
    assert_int_equal(metrics(f).control.sessions_released, 0);
}

/* ---- decision 11: trust ---- */

static void test_outsider_gets_403_and_changes_nothing(void **state)
{
    struct fx *f = *state;
    const char *const a[] = {"audio:4000", NULL};
    invite(f, &f->outsider, "call-6", a);
    expect_status(f, &f->outsider, 403);
    assert_null(session_of(f, "call-6"));
    assert_int_equal(metrics(f).sessions.pairs_in_use, 0);

    invite(f, &f->a, "call-6", a);
    sip_free(expect(f, &f->a, 302));
    request(f, &f->outsider, "BYE", "call-6", "");
    expect_status(f, &f->outsider, 403);
    assert_non_null(session_of(f, "call-6"));
    request(f, &f->outsider, "OPTIONS", "probe", "");
    expect_status(f, &f->outsider, 403);
    ack(f, &f->outsider, "call-6", 1, "x");
    expect_silence(f);

    struct relayd_metrics m = metrics(f);
    assert_int_equal(m.control.forbidden, 3);
    /* stateless: the 403s left no transaction to retransmit at a forged
     * source (the proxy's 302 transaction is the only one) */
    assert_int_equal(m.txn.servers, 1);
    run_ms(f, 100);
    for (size_t i = 0; i < f->wire.n; i++)
        assert_false(addr_equal(&f->wire.pkt[i].to, &f->outsider));
    fake_wire_clear(&f->wire);
}

/* A flood of outsiders (forged sources, say) gets at most
 * TXN_FORBID_PER_S 403s a second: the rest are counted, never answered, so
 * relayd cannot be made to aim 403s at a victim at the flood's rate. */
static void test_403s_to_outsiders_are_bounded(void **state)
{
    struct fx *f = *state;
    size_t answered = 0;
    for (int i = 0; i < 3 * TXN_FORBID_PER_S; i++) {
        char id[32];
        snprintf(id, sizeof id, "flood-%d", i);
        request(f, &f->outsider, "OPTIONS", id, "");
        answered += f->wire.n;
        fake_wire_clear(&f->wire);
    }
    /* the loop may straddle a second: at most two budgets */
    assert_true(answered >= TXN_FORBID_PER_S && answered <= 2 * TXN_FORBID_PER_S);
    assert_int_equal(metrics(f).control.forbidden, 3 * TXN_FORBID_PER_S);
    /* the proxy is served meanwhile */
    request(f, &f->a, "OPTIONS", "probe", "");
    expect_status(f, &f->a, 200);
}

/* ---- exhaustion ---- */

static void test_exhaustion_is_503_and_frees_the_half_made_session(void **state)
{
    struct fx *f = *state; /* 2 pairs */
    const char *const three[] = {"audio:4000", "video:4002", "video:4004", NULL};
    const char *const two[] = {"audio:4000", "video:4002", NULL};
    const char *const one[] = {"audio:4000", NULL};

    invite(f, &f->a, "big", three);
    osip_message_t *m = expect(f, &f->a, 503);
    assert_string_equal(sip_header_get(m, "Retry-After"), SETUP_RETRY_AFTER_S);
    sip_free(m);
    assert_null(session_of(f, "big"));
    assert_int_equal(metrics(f).sessions.pairs_in_use, 0);
    assert_int_equal(probe_port(SMALL_MIN), 0);

    invite(f, &f->a, "fits", two);
    sip_free(expect(f, &f->a, 302));
    invite(f, &f->a, "late", one);
    expect_status(f, &f->a, 503);
    assert_null(session_of(f, "late"));
    /* an existing session asking for one more keeps what it has */
    invite(f, &f->a, "fits", three);
    expect_status(f, &f->a, 503);
    assert_non_null(session_of(f, "fits"));
    assert_int_equal(session_stream_count(session_of(f, "fits")), 2);
    assert_int_equal(metrics(f).control.allocation_failures, 3);

    request(f, &f->a, "BYE", "fits", "");
    expect_status(f, &f->a, 200);
    invite(f, &f->a, "late", one);
    sip_free(expect(f, &f->a, 302));
}

/* ---- the INVITE server transaction ---- */

static void test_retransmitted_invite_is_absorbed(void **state)
{
    struct fx *f = *state;
    char sdp[1024];
    const char *const a[] = {"audio:4000", NULL};
    sdp_build(sdp, sizeof sdp, a);
    invite_raw(f, &f->a, "call-7", 77, "", "application/sdp", sdp);
    osip_message_t *first = expect(f, &f->a, 302);
    invite_raw(f, &f->a, "call-7", 77, "", "application/sdp", sdp);
    /* absorbed: the 302 again, word for word, and nothing allocated */
    osip_message_t *again = expect(f, &f->a, 302);
    assert_string_equal(sip_to_tag(again), sip_to_tag(first));
    assert_int_equal(sdp_port(again, 0), sdp_port(first, 0));
    struct relayd_metrics m = metrics(f);
    assert_int_equal(m.control.absorbed, 1);
    assert_int_equal(m.control.requests[RELAY_M_INVITE], 1);
    assert_int_equal(m.sessions.streams, 1);

    /* no ACK: timer G resends the 302 */
    run_ms(f, 70);
    assert_true(f->wire.n >= 2);
    for (size_t i = 0; i < f->wire.n; i++) {
        osip_message_t *r = packet(f, i);
        assert_int_equal(sip_status(r), 302);
        sip_free(r);
    }
    fake_wire_clear(&f->wire);
    /* the ACK ends it: absorbed, no more 302s */
    ack(f, &f->a, "call-7", 77, sip_to_tag(first));
    expect_silence(f);
    assert_int_equal(metrics(f).control.acks_absorbed, 1);
    run_ms(f, 200);
    expect_silence(f);
    sip_free(first);
    sip_free(again);
}

/* ---- OPTIONS ---- */

static void test_options_reports_sessions_and_free_pairs(void **state)
{
    struct fx *f = *state;
    const char *const av[] = {"audio:4000", "video:4002", NULL};
    request(f, &f->a, "OPTIONS", "probe-1", "");
    assert_wire_has(f, "\r\nAllow: " RELAYD_ALLOW "\r\n");
    osip_message_t *m = expect(f, &f->a, 200);
    assert_string_equal(sip_header_get(m, "X-Relay-Sessions"), "0");
    assert_string_equal(sip_header_get(m, "X-Relay-Pairs-Free"), "50");
    sip_free(m);

    invite(f, &f->a, "call-8", av);
    sip_free(expect(f, &f->a, 302));
    request(f, &f->a, "OPTIONS", "probe-2", "");
    m = expect(f, &f->a, 200);
    assert_string_equal(sip_header_get(m, "X-Relay-Sessions"), "1");
    assert_string_equal(sip_header_get(m, "X-Relay-Streams"), "2");
    assert_string_equal(sip_header_get(m, "X-Relay-Pairs-Free"), "48");
    sip_free(m);
}

/* ---- refusals ---- */

static void expect_refusal(struct fx *f, const char *call_id, const char *extra, const char *ctype,
                           const char *body, int status)
{
    invite_raw(f, &f->a, call_id, ++f->branch, extra, ctype, body);
    expect_status(f, &f->a, status);
    assert_null(session_of(f, call_id));
}

static void test_bad_offers_are_refused(void **state)
{
    struct fx *f = *state;
    char sdp[1024];
    const char *const a[] = {"audio:4000", NULL};
    const char *const off[] = {"audio:0", NULL};
    const char *const tcp[] = {"audio:4000", "message:9:TCP/MSRP", NULL};
    sdp_build(sdp, sizeof sdp, a);

    expect_refusal(f, "r1", "", NULL, "", 400);                               /* no SDP */
    expect_refusal(f, "r2", "", "application/sdp", "this is not SDP\n", 400); /* bad SDP */
    expect_refusal(f, "r3", "", "text/plain", "hello\n", 415);
    expect_refusal(f, "r4", "Accept: text/plain\n", "application/sdp", sdp, 406);
    sdp_build(sdp, sizeof sdp, off);
    invite_raw(f, &f->a, "r5", ++f->branch, "", "application/sdp", sdp);
    osip_message_t *m = expect(f, &f->a, 488); /* nothing to relay */
    assert_non_null(sip_header_get(m, "Warning"));
    sip_free(m);
    sdp_build(sdp, sizeof sdp, tcp);
    invite_raw(f, &f->a, "r6", ++f->branch, "", "application/sdp", sdp);
    m = expect(f, &f->a, 488);
    assert_non_null(strstr(sip_header_get(m, "Warning"), "302 "));
    sip_free(m);
    assert_int_equal(metrics(f).sessions.pairs_in_use, 0);

    /* Accept that admits SDP is fine */
    sdp_build(sdp, sizeof sdp, a);
    invite_raw(f, &f->a, "r7", ++f->branch, "Accept: text/plain, application/*\n",
               "application/sdp", sdp);
    sip_free(expect(f, &f->a, 302));
}

static void test_415_lists_what_we_accept(void **state)
{
    struct fx *f = *state;
    invite_raw(f, &f->a, "r8", ++f->branch, "", "text/plain", "hello\n");
    osip_message_t *m = expect(f, &f->a, 415);
    osip_accept_t *acc = NULL;
    assert_true(osip_message_get_accept(m, 0, &acc) >= 0);
    assert_string_equal(acc->type, "application");
    assert_string_equal(acc->subtype, "sdp");
    sip_free(m);
}

static void test_other_methods_and_checks(void **state)
{
    struct fx *f = *state;
    request(f, &f->a, "MESSAGE", "m1", "");
    assert_wire_has(f, "\r\nAllow: " RELAYD_ALLOW "\r\n");
    expect_status(f, &f->a, 405);
    request(f, &f->a, "REGISTER", "m2", "");
    expect_status(f, &f->a, 403);
    request(f, &f->a, "CANCEL", "m3", "");
    expect_status(f, &f->a, 481);
    request(f, &f->a, "OPTIONS", "m4", "Require: timer, 100rel\n");
    assert_wire_has(f, "\r\nUnsupported: timer, 100rel\r\n");
    expect_status(f, &f->a, 420);

    /* Max-Forwards 0 (RFC 3261 16.3 item 3) */
    const char *const a[] = {"audio:4000", NULL};
    char sdp[512];
    sdp_build(sdp, sizeof sdp, a);
    sendf(f, &f->a,
          "INVITE sip:14@203.0.113.22:5080 SIP/2.0\n"
          "Via: SIP/2.0/UDP 203.0.113.11:5060;branch=z9hG4bKmf0\n"
          "Max-Forwards: 0\nFrom: <sip:16@x>;tag=1\nTo: <sip:14@x>\nCall-ID: mf0\n"
          "CSeq: 1 INVITE\nContent-Type: application/sdp\nContent-Length: %zu\n\n%s",
          wire_len(sdp), sdp);
    expect_status(f, &f->a, 483);
    assert_null(session_of(f, "mf0"));
}

static void test_bad_input_is_answered_or_dropped(void **state)
{
    struct fx *f = *state;
    /* answerable parse failures: 505 for the version, 400 otherwise */
    send_text(
        f, &f->a,
        "OPTIONS sip:14@203.0.113.22 SIP/7.0\nVia: SIP/7.0/UDP 203.0.113.11;branch=z9hG4bKv7\n"
        "From: <sip:a@x>;tag=1\nTo: <sip:b@x>\nCall-ID: v7\nCSeq: 1 OPTIONS\n"
        "Content-Length: 0\n\n");
    expect_status(f, &f->a, 505);
    send_text(
        f, &f->a,
        "OPTIONS sip:14@203.0.113.22 SIP/2.0\nVia: SIP/2.0/UDP 203.0.113.11;branch=z9hG4bKcs\n"
        "From: <sip:a@x>;tag=1\nTo: <sip:b@x>\nCall-ID: cs\nCSeq: 1 INVITE\n"
        "Content-Length: 0\n\n");
    expect_status(f, &f->a, 400);
    /* garbage and responses: dropped, counted */
    send_text(f, &f->a, "\x01\x02 not SIP at all\n\n");
    send_text(f, &f->a,
              "SIP/2.0 200 OK\nVia: SIP/2.0/UDP 203.0.113.22:5080;branch=z9hG4bKx\n"
              "From: <sip:a@x>;tag=1\nTo: <sip:b@x>;tag=2\nCall-ID: r\nCSeq: 1 BYE\n"
              "Content-Length: 0\n\n");
    expect_silence(f);
    struct relayd_metrics m = metrics(f);
    assert_int_equal(m.control.parse_errors, 3);
    assert_int_equal(m.control.stray_responses, 1);
    assert_int_equal(responses(f, 400), 1);
    assert_int_equal(responses(f, 505), 1);
    /* a Call-ID over RELAY_CALL_ID_MAX never becomes a session */
    char long_id[RELAY_CALL_ID_MAX + 16];
    memset(long_id, 'x', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    const char *const a[] = {"audio:4000", NULL};
    invite(f, &f->a, long_id, a);
    expect_status(f, &f->a, 400);
    assert_int_equal(metrics(f).sessions.sessions, 0);
}

/* ---- timeouts and reload ---- */

static void test_silent_sessions_expire(void **state)
{
    struct fx *f = *state;
    const char *const a[] = {"audio:4000", NULL};
    invite(f, &f->a, "quiet", a);
    sip_free(expect(f, &f->a, 302));
    struct session *s = session_of(f, "quiet");
    uint64_t t0 = session_created_ms(s);
    struct session_table *t = relayd_sessions(f->d);
    assert_int_equal(session_table_expire(t, t0 + 59 * 1000), 0);
    assert_int_equal(session_table_expire(t, t0 + 60 * 1000), 1); /* session_timeout 60 */
    assert_null(session_of(f, "quiet"));
    assert_int_equal(metrics(f).sessions.pairs_in_use, 0);
}

static void test_lifetime_cap_comes_from_session_max_lifetime(void **state)
{
    struct session_table_config tc;
    struct relayd_conf c;
    (void)state;
    conf_init(&c, PORT_MIN, PORT_MAX);
    c.session_max_lifetime = 7200;
    c.session_timeout = 30;
    c.relatch_after = 3;
    relayd_table_config(&c, &tc);
    assert_int_equal(tc.max_lifetime_s, 7200);
    assert_int_equal(tc.session_timeout_s, 30);
    assert_int_equal(tc.relatch_after_s, 3);
    assert_int_equal(tc.port_min, PORT_MIN);
    assert_int_equal(tc.port_max, PORT_MAX);
    addr_list_free(&c.proxies);
}

static void test_reload_applies_proxies_and_timeouts_keeping_sessions(void **state)
{
    struct fx *f = *state;
    const char *const a[] = {"audio:4000", NULL};
    invite(f, &f->a, "kept", a);
    sip_free(expect(f, &f->a, 302));

    struct relayd_conf next;
    conf_init(&next, PORT_MIN, PORT_MAX);
    next.proxies.n = 1;
    next.proxies.v[0] = f->b; /* A is no longer trusted */
    next.session_timeout = 10;
    assert_int_equal(relayd_reconfigure(f->d, &next), 0);
    assert_non_null(session_of(f, "kept"));
    invite(f, &f->a, "kept", a);
    expect_status(f, &f->a, 403);
    invite(f, &f->b, "kept", a);
    sip_free(expect(f, &f->b, 302));
    /* the re-INVITE just above counted as activity */
    uint64_t t0 = session_last_activity_ms(session_of(f, "kept"));
    assert_int_equal(session_table_expire(relayd_sessions(f->d), t0 + 10 * 1000), 1);

    /* back to the fixture's config before it is freed */
    assert_int_equal(relayd_reconfigure(f->d, &f->conf), 0);
    addr_list_free(&next.proxies);
}

static void test_reload_refuses_a_new_range_or_address(void **state)
{
    struct fx *f = *state;
    const char *const a[] = {"audio:4000", NULL};
    invite(f, &f->a, "stays", a);
    sip_free(expect(f, &f->a, 302));

    struct relayd_conf next;
    conf_init(&next, PORT_MIN, PORT_MAX + 100);
    assert_int_equal(relayd_reconfigure(f->d, &next), -EINVAL);
    next.port_max = PORT_MAX;
    assert_int_equal(addr_parse(&next.media_address, "127.0.0.2", 1), 0);
    assert_int_equal(relayd_reconfigure(f->d, &next), -EINVAL);
    next.media_address = f->conf.media_address;
    next.listen = test_addr("203.0.113.22:5081");
    assert_int_equal(relayd_reconfigure(f->d, &next), -EINVAL);
    addr_list_free(&next.proxies);
    /* still on the old config, sessions untouched */
    assert_non_null(session_of(f, "stays"));
    invite(f, &f->a, "stays", a);
    sip_free(expect(f, &f->a, 302));
}

/* Pinhole-Sources (issue #15): each phone named becomes a side of every
 * stream, RTP and RTCP; the one marked ;sdp gets the SDP's ports (RTCP one
 * above); a later INVITE adds the other phone; a malformed header is 400
 * and makes no session. */
static void assert_side(const struct latch_pair *p, size_t i, const char *want)
{
    struct addr a = test_addr(want);
    struct latch_ep e;
    assert_true(i < p->nsides);
    assert_int_equal(latch_ep_from_sockaddr(&e, &a.u.sa, a.len), 0);
    assert_true(latch_ep_equal(&p->side[i], &e));
}

static void test_sources_become_the_sessions_sides(void **state)
{
    struct fx *f = *state;
    char sdp[4096];
    const char *const av[] = {"audio:4000", "video:4002", NULL};
    const char *const av_b[] = {"audio:6000", "video:0", NULL};

    sdp_build(sdp, sizeof sdp, av);
    invite_raw(f, &f->a, "src-1", ++f->branch, "Pinhole-Sources: 198.51.100.7;sdp, 203.0.113.9\n",
               "application/sdp", sdp);
    sip_free(expect(f, &f->a, 302));
    struct session *s = session_of(f, "src-1");
    const struct latch_pair *rtp0 = session_stream_latch(s, 0, false);
    const struct latch_pair *rtcp0 = session_stream_latch(s, 0, true);
    const struct latch_pair *rtp1 = session_stream_latch(s, 1, false);
    /* the offerer at its SDP's ports, its SDP's own c= (latch only), the
     * other phone (no port known yet) */
    assert_int_equal(rtp0->nsides, 3);
    assert_side(rtp0, 0, "198.51.100.7:4000");
    assert_side(rtp0, 1, "192.168.1.10:0");
    assert_side(rtp0, 2, "203.0.113.9:0");
    assert_side(rtcp0, 0, "198.51.100.7:4001");
    assert_side(rtp1, 0, "198.51.100.7:4002");
    /* the answerer's SDP, from the proxy that saw its answer */
    sdp_build(sdp, sizeof sdp, av_b);
    invite_raw(f, &f->b, "src-1", ++f->branch, "Pinhole-Sources: 203.0.113.9;sdp\n",
               "application/sdp", sdp);
    sip_free(expect(f, &f->b, 302));
    assert_int_equal(rtp0->nsides, 3); /* the same c=: one side */
    assert_side(rtp0, 2, "203.0.113.9:6000");
    assert_side(rtcp0, 2, "203.0.113.9:6001");
    assert_side(rtp1, 2, "203.0.113.9:0"); /* declined there */
    assert_side(rtp0, 0, "198.51.100.7:4000");
    /* a stream added later knows every IP */
    const char *const avx[] = {"audio:4000", "video:4002", "audio:4004", NULL};
    invite(f, &f->a, "src-1", avx);
    sip_free(expect(f, &f->a, 302));
    const struct latch_pair *rtp2 = session_stream_latch(s, 2, false);
    assert_int_equal(rtp2->nsides, 3);
    assert_side(rtp2, 0, "198.51.100.7:0");
    assert_side(rtp2, 2, "203.0.113.9:0");
}

static void test_malformed_sources_are_400_and_make_nothing(void **state)
{
    struct fx *f = *state;
    char sdp[4096], big[512];
    const char *const a[] = {"audio:4000", NULL};
    const char *const bad[] = {
        "Pinhole-Sources: 198.51.100.7:5060\n",                           /* a port */
        "Pinhole-Sources: [2001:db8::1]\n",                               /* brackets */
        "Pinhole-Sources: pc33.example.net\n",                            /* a name */
        "Pinhole-Sources: 198.51.100.7;rtp\n",                            /* an unknown parameter */
        "Pinhole-Sources: 198.51.100.7,\n",                               /* a trailing comma */
        "Pinhole-Sources: 1.1.1.1, 2.2.2.2, 3.3.3.3, 4.4.4.4, 5.5.5.5\n", /* > LATCH_SIDES */
        big,
    };
    int n = snprintf(big, sizeof big, "Pinhole-Sources: 198.51.100.7");
    while (n < 300)
        n += snprintf(big + n, sizeof big - (size_t)n, " ");
    snprintf(big + n, sizeof big - (size_t)n, ";sdp\n"); /* over RELAY_SOURCES_MAX_LEN */
    sdp_build(sdp, sizeof sdp, a);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        invite_raw(f, &f->a, "src-bad", ++f->branch, bad[i], "application/sdp", sdp);
        expect_status(f, &f->a, 400);
        assert_null(session_of(f, "src-bad"));
    }
    /* IPv6 and IPv4 together, odd spacing: fine */
    invite_raw(f, &f->a, "src-ok", ++f->branch,
               "Pinhole-Sources:2001:db8::7 ;  SDP ,198.51.100.7\n", "application/sdp", sdp);
    sip_free(expect(f, &f->a, 302));
    /* an IPv4 relay has no use for an IPv6 phone: the IPv4 one kept */
    const struct latch_pair *p = session_stream_latch(session_of(f, "src-ok"), 0, false);
    assert_side(p, 0, "198.51.100.7:0");
    assert_int_equal(p->nsides, 1);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
#define T_SMALL(fn) cmocka_unit_test_setup_teardown(fn, setup_small, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_fig8a_invite_gets_fig8b_302),
        T(test_sources_become_the_sessions_sides),
        T(test_malformed_sources_are_400_and_make_nothing),
        T(test_same_call_id_gets_the_same_ports),
        T(test_new_m_line_gets_a_new_port),
        T(test_disabled_m_lines_keep_port_zero),
        T(test_bye_frees_the_session_and_its_ports),
        T(test_bye_for_an_unknown_call_id_is_481),
        T(test_outsider_gets_403_and_changes_nothing),
        T(test_403s_to_outsiders_are_bounded),
        T_SMALL(test_exhaustion_is_503_and_frees_the_half_made_session),
        T(test_retransmitted_invite_is_absorbed),
        T(test_options_reports_sessions_and_free_pairs),
        T(test_bad_offers_are_refused),
        T(test_415_lists_what_we_accept),
        T(test_other_methods_and_checks),
        T(test_bad_input_is_answered_or_dropped),
        T(test_silent_sessions_expire),
        cmocka_unit_test(test_lifetime_cap_comes_from_session_max_lifetime),
        T(test_reload_applies_proxies_and_timeouts_keeping_sessions),
        T(test_reload_refuses_a_new_range_or_address),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

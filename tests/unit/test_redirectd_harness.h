/* A redirector on a fake wire, shared by the test_redirectd_*.c files:
 * inject datagrams from any address, read back what would have been sent.
 * Header-only (static inline) so each test executable takes what it uses. */
#ifndef TEST_REDIRECTD_HARNESS_H
#define TEST_REDIRECTD_HARNESS_H

#include "helpers.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pinhole/sip.h"
#include "pinhole/txn.h"
#include "redirector.h"

/* The proxies the config trusts, and one it does not. */
#define RD_PROXY_A "127.0.0.1:5060"
#define RD_PROXY_B "127.0.0.1:5062"
#define RD_PROXY_C "192.0.2.10:5060" /* a proxy that advertises itself in Path */
#define RD_OUTSIDER "127.0.0.2:5060"
#define RD_SELF "127.0.0.1:5070"

struct rd_fixture {
    struct loop *loop;
    struct fake_wire wire;
    struct transport tp;
    struct redirectd_conf conf;
    struct redirector *r;
    struct addr a, b, c, outsider;
    unsigned branch;
};

static inline int rd_setup(void **state)
{
    static bool sip_ready;
    struct rd_fixture *f = calloc(1, sizeof *f);
    /* short timers: G fires every 20 ms, H gives up after 64 x 20 ms */
    const struct txn_timers timers = {.t1_ms = 20, .t2_ms = 80, .t4_ms = 100};
    assert_non_null(f);
    if (!sip_ready) {
        assert_int_equal(sip_init(), 0);
        sip_ready = true;
    }
    assert_int_equal(loop_new(&f->loop), 0);
    fake_wire_transport(&f->wire, &f->tp, RD_SELF);
    f->a = test_addr(RD_PROXY_A);
    f->b = test_addr(RD_PROXY_B);
    f->c = test_addr(RD_PROXY_C);
    f->outsider = test_addr(RD_OUTSIDER);
    f->conf.listen = test_addr(RD_SELF);
    f->conf.proxies.v = calloc(3, sizeof(struct addr));
    assert_non_null(f->conf.proxies.v);
    f->conf.proxies.v[0] = f->a;
    f->conf.proxies.v[1] = f->b;
    f->conf.proxies.v[2] = f->c;
    f->conf.proxies.n = 3;
    f->conf.default_expires = 3600;
    f->conf.max_expires = 7200;
    f->conf.max_contacts = 10;
    assert_int_equal(redirector_new(&f->r, f->loop, &f->conf, &f->tp, &timers), 0);
    *state = f;
    return 0;
}

static inline int rd_teardown(void **state)
{
    struct rd_fixture *f = *state;
    redirector_free(f->r);
    fake_wire_clear(&f->wire);
    addr_list_free(&f->conf.proxies);
    loop_free(f->loop);
    free(f);
    return 0;
}

/* Sends `text` (lines ending in "\n", turned into CRLF here) from src. */
static inline void rd_send_text(struct rd_fixture *f, const struct addr *src, const char *text)
{
    size_t n = strlen(text), o = 0;
    char *buf = malloc(2 * n + 1);
    assert_non_null(buf);
    for (size_t i = 0; i < n; i++) {
        if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r'))
            buf[o++] = '\r';
        buf[o++] = text[i];
    }
    redirector_receive(f->r, src, buf, o);
    free(buf);
}

static inline void rd_sendf(struct rd_fixture *f, const struct addr *src, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static inline void rd_sendf(struct rd_fixture *f, const struct addr *src, const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t)n < sizeof buf);
    rd_send_text(f, src, buf);
}

/* A REGISTER for id with one Contact; `extra` is more header lines ("" for none). */
static inline void rd_register(struct rd_fixture *f, const struct addr *src, const char *id,
                               const char *contact, const char *call_id, unsigned cseq,
                               const char *extra)
{
    unsigned n = ++f->branch;
    rd_sendf(f, src,
             "REGISTER sip:127.0.0.1:5070 SIP/2.0\n"
             "Via: SIP/2.0/UDP 203.0.113.9:5060;branch=z9hG4bKreg%u\n"
             "Max-Forwards: 70\n"
             "From: <sip:%s@example.net>;tag=f%u\n"
             "To: <sip:%s@example.net>\n"
             "Call-ID: %s\n"
             "CSeq: %u REGISTER\n"
             "Contact: <%s>\n"
             "%s"
             "Content-Length: 0\n\n",
             n, id, n, id, call_id, cseq, contact, extra);
}

/* The redirect invite message 214 for id with branch z9hG4bKinv<branch>. */
static inline void rd_invite(struct rd_fixture *f, const struct addr *src, const char *id,
                             unsigned branch)
{
    rd_sendf(f, src,
             "INVITE sip:%s@127.0.0.1:5070 SIP/2.0\n"
             "Via: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bKinv%u\n"
             "Via: SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKphone%u\n"
             "Max-Forwards: 69\n"
             "From: <sip:12@example.net>;tag=caller%u\n"
             "To: <sip:%s@example.net>\n"
             "Call-ID: call-%u@10.0.0.5\n"
             "CSeq: 1 INVITE\n"
             "Contact: <sip:12@10.0.0.5:5060>\n"
             "Content-Length: 0\n\n",
             id, branch, branch, branch, id, branch);
}

/* The ACK for the non-2xx final answer to rd_invite(branch): same branch,
 * To with the tag of the response. */
static inline void rd_ack(struct rd_fixture *f, const struct addr *src, const char *id,
                          unsigned branch, const char *to_tag)
{
    rd_sendf(f, src,
             "ACK sip:%s@127.0.0.1:5070 SIP/2.0\n"
             "Via: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bKinv%u\n"
             "Max-Forwards: 70\n"
             "From: <sip:12@example.net>;tag=caller%u\n"
             "To: <sip:%s@example.net>;tag=%s\n"
             "Call-ID: call-%u@10.0.0.5\n"
             "CSeq: 1 ACK\n"
             "Content-Length: 0\n\n",
             id, branch, branch, id, to_tag, branch);
}

/* Packet i on the wire, parsed; the caller sip_frees it. */
static inline osip_message_t *rd_packet(struct rd_fixture *f, size_t i)
{
    osip_message_t *m = NULL;
    struct sip_parse_result res;
    assert_true(i < f->wire.n);
    if (sip_parse(&m, f->wire.pkt[i].buf, f->wire.pkt[i].len, &res) != 0)
        fail_msg("unparseable response on the wire: %s\n%s", res.reason, f->wire.pkt[i].buf);
    return m;
}

/* Asserts exactly one packet went out, to `to`, with `status`; returns it
 * parsed (sip_free) and clears the wire. */
static inline osip_message_t *rd_expect(struct rd_fixture *f, const struct addr *to, int status)
{
    if (f->wire.n != 1)
        fail_msg("expected one response %d, the wire has %zu packets", status, f->wire.n);
    assert_true(addr_equal(&f->wire.pkt[0].to, to));
    osip_message_t *m = rd_packet(f, 0);
    if (sip_status(m) != status)
        fail_msg("expected %d, got:\n%s", status, f->wire.pkt[0].buf);
    fake_wire_clear(&f->wire);
    return m;
}

static inline void rd_expect_status(struct rd_fixture *f, const struct addr *to, int status)
{
    sip_free(rd_expect(f, to, status));
}

/* The first Contact URI of m as text, compared with want. */
static inline void rd_assert_contact(const osip_message_t *m, const char *want)
{
    char *uri = NULL;
    assert_int_equal(sip_contact_uri_text(m, &uri), 0);
    assert_string_equal(uri, want);
    osip_free(uri);
}

static inline void rd_on_stop(struct timer *t, void *arg)
{
    (void)t;
    loop_stop(arg);
}

/* Runs the loop (timers G/H, expiry) for ms. */
static inline void rd_run_ms(struct rd_fixture *f, uint64_t ms)
{
    struct timer *t;
    assert_int_equal(timer_new(&t, f->loop, rd_on_stop, f->loop), 0);
    timer_start(t, ms);
    assert_int_equal(loop_run(f->loop), 0);
    timer_free(t);
}

static inline uint64_t rd_responses(struct rd_fixture *f, int status)
{
    return redirector_stats(f->r)->responses[status - RD_STATUS_MIN];
}

#endif

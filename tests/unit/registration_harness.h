/* registration_harness: proxyd's registration module on a fake wire, for
 * test_registration.c (the module alone, on a proxy_env) and
 * test_proxy.c (the whole proxy's dispatch). Each sets `receive`: where an
 * injected datagram goes. */
#ifndef TEST_REGISTRATION_HARNESS_H
#define TEST_REGISTRATION_HARNESS_H

#include "helpers.h"
#include "sip_golden.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "intake.h"
#include "nat_table.h"
#include "pinhole/sip.h"
#include "proxy_env.h"
#include "registration.h"

#define PROXY "203.0.113.11:5060"
#define REDIRECT "203.0.113.20:5060"
#define NAT28 "198.51.100.28:40312"
#define T1_MS 5

struct proxy;

struct ctx {
    struct loop *loop;
    struct proxyd_conf cfg;
    struct addr relay;
    struct fake_wire wire;
    struct transport tp;
    /* test_registration: the module on its env, behind an intake */
    struct proxy_env env;
    struct registration *reg;
    struct intake in;
    /* test_proxy: the whole proxy */
    struct proxy *p;
    void (*receive)(struct ctx *c, const struct addr *src, const char *text, size_t len);
};

static const struct txn_timers rh_timers = {
    .t1_ms = T1_MS, .t2_ms = 8 * T1_MS, .t4_ms = 10 * T1_MS};

/* The loop, the config of proxy 11 and the wire; no module yet. */
static inline struct ctx *rh_new(void)
{
    struct ctx *c = calloc(1, sizeof *c);
    assert_non_null(c);
    assert_int_equal(loop_new(&c->loop), 0);
    c->cfg.listen = test_addr(PROXY);
    c->cfg.advertise = test_addr(PROXY);
    c->cfg.redirect = test_addr(REDIRECT);
    c->relay = test_addr("203.0.113.22:5060");
    c->cfg.relays.v = &c->relay;
    c->cfg.relays.n = 1;
    c->cfg.nat.max_expires = 120;
    c->cfg.nat.keepalive_interval = 0;
    c->cfg.nat.private_contact_is_nat = true;
    fake_wire_transport(&c->wire, &c->tp, PROXY);
    return c;
}

static inline void rh_free(struct ctx *c)
{
    fake_wire_clear(&c->wire);
    loop_free(c->loop);
    free(c);
}

static inline void inject_text(struct ctx *c, const char *from, const char *text, size_t len)
{
    struct addr src = test_addr(from);
    c->receive(c, &src, text, len);
}

static inline void inject_fixture(struct ctx *c, const char *from, const char *fixture)
{
    size_t len;
    char *text = fixture_read_sip(fixture, &len);
    inject_text(c, from, text, len);
    free(text);
}

static inline void inject_msg(struct ctx *c, const char *from, const osip_message_t *m)
{
    char *buf;
    size_t len;
    assert_int_equal(sip_serialize(m, &buf, &len), 0);
    inject_text(c, from, buf, len);
    osip_free(buf);
}

/* The only packet on the wire, which must go to `to`; parsed. */
static inline osip_message_t *only_packet_to(struct ctx *c, const char *to)
{
    struct addr want = test_addr(to);
    osip_message_t *m = NULL;
    struct sip_parse_result res;
    assert_int_equal(c->wire.n, 1);
    if (!addr_equal(&c->wire.pkt[0].to, &want)) {
        char got[ADDR_STRLEN];
        fail_msg("packet went to %s, not %s", addr_format(&c->wire.pkt[0].to, got, sizeof got), to);
    }
    assert_int_equal(sip_parse(&m, c->wire.pkt[0].buf, c->wire.pkt[0].len, &res), 0);
    fake_wire_clear(&c->wire);
    return m;
}

static inline void set_param(osip_list_t *params, const char *name, const char *value)
{
    osip_generic_param_t *p = NULL;
    assert_int_equal(osip_generic_param_get_byname(params, (char *)name, &p), 0);
    assert_non_null(p);
    osip_free(p->gvalue);
    p->gvalue = osip_strdup(value);
}

/* Our Via branch is random: the golden file holds a placeholder. */
static inline void expect_branch_like(osip_message_t *want, const osip_message_t *got)
{
    struct sip_via_info v;
    assert_int_equal(sip_via_get(got, 0, &v), 0);
    assert_non_null(v.branch);
    assert_true(strncmp(v.branch, SIP_BRANCH_MAGIC, strlen(SIP_BRANCH_MAGIC)) == 0);
    assert_true(strlen(v.branch) > strlen(SIP_BRANCH_MAGIC) + 8);
    set_param(&((osip_via_t *)osip_list_get(&want->vias, 0))->via_params, "branch", v.branch);
}

/* redirectd's 200: Contact echoed with the granted expiry. */
static inline osip_message_t *redirect_ok(const osip_message_t *fwd, long granted)
{
    osip_message_t *ok = NULL;
    char *contact = NULL;
    assert_int_equal(sip_response_new(&ok, fwd, 200, "rd20"), 0);
    if (granted > 0) {
        assert_int_equal(sip_contact_uri_text(fwd, &contact), 0);
        assert_int_equal(sip_contact_replace(ok, contact, granted), 0);
        osip_free(contact);
    }
    return ok;
}

static inline osip_message_t *redirect_status(const osip_message_t *fwd, int status)
{
    osip_message_t *r = NULL;
    assert_int_equal(sip_response_new(&r, fwd, status, "rd20"), 0);
    return r;
}

/* The fixture's text with each (old, new) pair of `edits` (NULL-ended)
 * replaced once, in order: the variants of registration 120. Malloc'd. */
static inline char *variant(const char *fixture, const char *const *edits)
{
    char *text = fixture_read_sip(fixture, NULL);
    for (size_t i = 0; edits[i]; i += 2) {
        char *hit = strstr(text, edits[i]);
        if (!hit)
            fail_msg("%s has no '%s'", fixture, edits[i]);
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

static inline void inject_variant(struct ctx *c, const char *from, const char *const *edits)
{
    char *t = variant("registration/fig3b_registration_120.sip", edits);
    inject_text(c, from, t, strlen(t));
    free(t);
}

/* Registers figure 3b's client 16 through the proxy; returns the redirect
 * registration the proxy sent. */
static inline osip_message_t *register_16(struct ctx *c)
{
    inject_fixture(c, NAT28, "registration/fig3b_registration_120.sip");
    return only_packet_to(c, REDIRECT);
}

/* What the proxy may send on a torture message: an answer to a packet
 * source, never to a Via host (some messages share a transaction key with
 * an earlier one — RFC 4475 reuses branches — which the layer takes for a
 * retransmission: the answer then goes to that earlier message's source;
 * a 400 may echo what the parser refused, so it is checked as text); a
 * REGISTER to redirectd; or, since the messaging module (issue #6), a
 * request it forwards or a query to redirectd/relayd (for any method since
 * issue #16), with our Via on top. */
static inline void check_torture_output(struct ctx *c, const char *name, size_t i)
{
    char to[ADDR_STRLEN];
    osip_message_t *m = NULL;
    struct sip_parse_result res;
    struct sip_via_info via;
    struct addr rd = test_addr(REDIRECT), self = test_addr(PROXY);

    if (memcmp(c->wire.pkt[i].buf, "SIP/2.0 ", 8) == 0) {
        addr_host_plain(&c->wire.pkt[i].to, to, sizeof to);
        if (strncmp(to, "198.51.100.", 11) != 0 || addr_port(&c->wire.pkt[i].to) != 5060)
            fail_msg("%s: answer went to %s, not to a packet source:\n%s", name, to,
                     c->wire.pkt[i].buf);
        return;
    }
    if (sip_parse(&m, c->wire.pkt[i].buf, c->wire.pkt[i].len, &res) != 0)
        fail_msg("%s: a request we sent does not parse (%s)", name, res.reason);
    assert_int_equal(sip_via_get(m, 0, &via), 0);
    assert_string_equal(via.host, "203.0.113.11");
    assert_int_equal(via.port, 5060);
    /* what goes to redirectd is a query proxyd built (any method since
     * issue #16 routes them all): addressed to redirectd itself */
    struct addr ruri;
    if (addr_equal(&c->wire.pkt[i].to, &rd)) {
        assert_int_equal(sip_request_uri_addr(m, &ruri), 0);
        assert_true(addr_equal(&ruri, &rd));
    }
    assert_false(addr_equal(&c->wire.pkt[i].to, &self));
    sip_free(m);
}

/* RFC 4475's torture messages, each from its own source, through the whole
 * dispatch (ASan/UBSan watch): nothing crashes or leaks, anything sent is
 * what check_torture_output allows. */
static inline void inject_rfc4475_torture(struct ctx *c)
{
    char path[512], from[32];
    int n = 0;
    DIR *d = opendir(FIXTURES_DIR "/rfc4475");
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (!strstr(e->d_name, ".dat"))
            continue;
        snprintf(path, sizeof path, "rfc4475/%s", e->d_name);
        snprintf(from, sizeof from, "198.51.100.%d:5060", 1 + n % 250);
        size_t len;
        char *text = fixture_read(path, &len);
        inject_text(c, from, text, len);
        free(text);
        for (size_t i = 0; i < c->wire.n; i++)
            check_torture_output(c, e->d_name, i);
        fake_wire_clear(&c->wire);
        n++;
    }
    closedir(d);
    assert_true(n >= 40);
}

#endif

/* The registration module 102 (src/proxyd/registration.c) through proxyd's
 * dispatch on a fake wire: figure 3b's registration 120 from client 16
 * behind NAT 28 becomes redirect registration 122 to redirect server 20
 * (golden files), redirectd's answer goes back to the phone with its own
 * Contact, step 119 fills the NAT client table, and the failure paths:
 * errors relayed, 408 on silence, 400/483 on bad requests. */
#include "helpers.h"
#include "sip_golden.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nat_table.h"
#include "pinhole/sip.h"
#include "proxy.h"
#include "registration.h"

#define PROXY "203.0.113.11:5060"
#define REDIRECT "203.0.113.20:5060"
#define NAT28 "198.51.100.28:40312"
#define T1_MS 5

struct ctx {
    struct loop *loop;
    struct proxyd_conf cfg;
    struct addr relay;
    struct fake_wire wire;
    struct transport tp;
    struct proxy *p;
};

static int setup(void **state)
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
    struct txn_timers tm = {.t1_ms = T1_MS, .t2_ms = 8 * T1_MS, .t4_ms = 10 * T1_MS};
    assert_int_equal(proxy_new(&c->p, c->loop, &c->cfg, &c->tp, &tm), 0);
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    struct ctx *c = *state;
    proxy_free(c->p);
    fake_wire_clear(&c->wire);
    loop_free(c->loop);
    free(c);
    return 0;
}

/* ---- helpers ---- */

static void inject_text(struct ctx *c, const char *from, const char *text, size_t len)
{
    struct addr src = test_addr(from);
    proxy_receive(c->p, &c->tp, &src, text, len);
}

static void inject_fixture(struct ctx *c, const char *from, const char *fixture)
{
    size_t len;
    char *text = fixture_read_sip(fixture, &len);
    inject_text(c, from, text, len);
    free(text);
}

static void inject_msg(struct ctx *c, const char *from, const osip_message_t *m)
{
    char *buf;
    size_t len;
    assert_int_equal(sip_serialize(m, &buf, &len), 0);
    inject_text(c, from, buf, len);
    osip_free(buf);
}

/* The only packet on the wire, which must go to `to`; parsed. */
static osip_message_t *only_packet_to(struct ctx *c, const char *to)
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

static void set_param(osip_list_t *params, const char *name, const char *value)
{
    osip_generic_param_t *p = NULL;
    assert_int_equal(osip_generic_param_get_byname(params, (char *)name, &p), 0);
    assert_non_null(p);
    osip_free(p->gvalue);
    p->gvalue = osip_strdup(value);
}

/* Our Via branch is random: the golden file holds a placeholder. */
static void expect_branch_like(osip_message_t *want, const osip_message_t *got)
{
    struct sip_via_info v;
    assert_int_equal(sip_via_get(got, 0, &v), 0);
    assert_non_null(v.branch);
    assert_true(strncmp(v.branch, SIP_BRANCH_MAGIC, strlen(SIP_BRANCH_MAGIC)) == 0);
    assert_true(strlen(v.branch) > strlen(SIP_BRANCH_MAGIC) + 8);
    set_param(&((osip_via_t *)osip_list_get(&want->vias, 0))->via_params, "branch", v.branch);
}

/* redirectd's 200: Contact echoed with the granted expiry. */
static osip_message_t *redirect_ok(const osip_message_t *fwd, long granted)
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

static osip_message_t *redirect_status(const osip_message_t *fwd, int status)
{
    osip_message_t *r = NULL;
    assert_int_equal(sip_response_new(&r, fwd, status, "rd20"), 0);
    return r;
}

/* The fixture's text with each (old, new) pair of `edits` (NULL-ended)
 * replaced once, in order: the variants of registration 120. Malloc'd. */
static char *variant(const char *fixture, const char *const *edits)
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

static void inject_variant(struct ctx *c, const char *from, const char *const *edits)
{
    char *t = variant("registration/fig3b_registration_120.sip", edits);
    inject_text(c, from, t, strlen(t));
    free(t);
}

/* Registers figure 3b's client 16 through the proxy; returns the redirect
 * registration the proxy sent. */
static osip_message_t *register_16(struct ctx *c)
{
    inject_fixture(c, NAT28, "registration/fig3b_registration_120.sip");
    return only_packet_to(c, REDIRECT);
}

/* ---- figure 3b as golden files ---- */

static void fig3b_registration_120_becomes_redirect_registration_122(void **state)
{
    struct ctx *c = *state;
    osip_message_t *m = golden_load("registration/fig3b_registration_120.sip");
    osip_message_t *want = golden_load("registration/fig3b_redirect_registration_122.sip");
    osip_message_t *out = NULL;
    struct addr src = test_addr(NAT28);
    char *text;
    size_t len;
    struct sip_parse_result res;

    assert_int_equal(sip_via_set_received(m, &src), 0);
    assert_int_equal(registration_build_redirect(&out, m, &src, true, &c->cfg, "z9hG4bKph11reg"),
                     0);
    /* compared as it goes on the wire */
    assert_int_equal(sip_serialize(out, &text, &len), 0);
    sip_free(out);
    assert_int_equal(sip_parse(&out, text, len, &res), 0);
    osip_free(text);
    golden_assert_equal(want, out);
    sip_free(out);
    sip_free(want);
    sip_free(m);
}

static void a_public_client_is_registered_without_rewrite(void **state)
{
    struct ctx *c = *state;
    osip_message_t *want = golden_load("registration/public_redirect_registration.sip");
    struct nat_binding b;

    /* not NATed: source = Via, public Contact; Expires 3600 not capped */
    inject_fixture(c, "203.0.113.18:5060", "registration/public_registration.sip");
    osip_message_t *fwd = only_packet_to(c, REDIRECT);
    expect_branch_like(want, fwd);
    golden_assert_equal(want, fwd);
    assert_int_equal(sip_register_expires(fwd), 3600);

    osip_message_t *ok = redirect_ok(fwd, 3600);
    inject_msg(c, REDIRECT, ok);
    osip_message_t *answer = only_packet_to(c, "203.0.113.18:5060");
    assert_int_equal(sip_status(answer), 200);
    assert_int_equal(sip_register_expires(answer), 3600);
    /* no table entry: only NATed clients are in table 32 */
    assert_int_equal(nat_table_lookup(proxy_nat(c->p), "18", &b), -ENOENT);
    assert_int_equal(proxy_stats(c->p)->registrations_ok, 1);
    sip_free(answer);
    sip_free(ok);
    sip_free(fwd);
    sip_free(want);
}

/* ---- the whole round trip ---- */

static void a_nated_registration_round_trip(void **state)
{
    struct ctx *c = *state;
    struct nat_binding b;
    struct addr nat = test_addr(NAT28);

    /* steps 112-118 */
    osip_message_t *fwd = register_16(c);
    osip_message_t *want = golden_load("registration/fig3b_redirect_registration_122.sip");
    expect_branch_like(want, fwd);
    golden_assert_equal(want, fwd);
    sip_free(want);
    /* step 119 waits for redirectd's answer */
    assert_int_equal(nat_table_lookup(proxy_nat(c->p), "16", &b), -ENOENT);
    assert_int_equal(registration_pending(proxy_registration(c->p)), 1);

    /* the phone retransmits: absorbed, nothing new goes to redirectd */
    inject_fixture(c, NAT28, "registration/fig3b_registration_120.sip");
    assert_int_equal(c->wire.n, 0);

    uint64_t before = loop_now_ms(c->loop);
    osip_message_t *ok = redirect_ok(fwd, 120);
    inject_msg(c, REDIRECT, ok);
    osip_message_t *answer = only_packet_to(c, NAT28);
    uint64_t after = loop_now_ms(c->loop);

    /* the phone sees its own Contact and the granted expiry */
    want = golden_load("registration/fig3b_phone_200.sip");
    set_param(&want->to->gen_params, "tag", sip_to_tag(answer));
    golden_assert_equal(want, answer);
    assert_int_equal(sip_register_expires(answer), 120);

    /* step 119: NAT 28's address, the socket, the expiry */
    assert_int_equal(nat_table_lookup(proxy_nat(c->p), "16", &b), 0);
    assert_true(addr_equal(&b.nat, &nat));
    assert_ptr_equal(b.tp.ctx, &c->wire);
    assert_in_range(b.expires_at_ms, before + 120000, after + 120000);
    assert_int_equal(registration_pending(proxy_registration(c->p)), 0);

    /* a late retransmission gets the same 200 again, not a second REGISTER */
    inject_fixture(c, NAT28, "registration/fig3b_registration_120.sip");
    osip_message_t *again = only_packet_to(c, NAT28);
    assert_int_equal(sip_status(again), 200);
    assert_string_equal(sip_to_tag(again), sip_to_tag(answer));

    sip_free(again);
    sip_free(want);
    sip_free(answer);
    sip_free(ok);
    sip_free(fwd);
}

static void unregister_removes_the_table_entry(void **state)
{
    struct ctx *c = *state;
    struct nat_binding b;
    osip_message_t *fwd = register_16(c), *ok = redirect_ok(fwd, 120);
    inject_msg(c, REDIRECT, ok);
    sip_free(only_packet_to(c, NAT28));
    sip_free(ok);
    sip_free(fwd);
    assert_int_equal(nat_table_lookup(proxy_nat(c->p), "16", &b), 0);

    inject_variant(c, NAT28,
                   (const char *const[]){"z9hG4bKr16a", "z9hG4bKr16b", "CSeq: 1 ", "CSeq: 2 ",
                                         "Expires: 3600", "Expires: 0", NULL});
    fwd = only_packet_to(c, REDIRECT);
    /* Expires 0 is not "capped" into a registration */
    assert_int_equal(sip_register_expires(fwd), 0);
    /* still registered until redirectd agrees */
    assert_int_equal(nat_table_lookup(proxy_nat(c->p), "16", &b), 0);
    ok = redirect_ok(fwd, 0);
    inject_msg(c, REDIRECT, ok);
    osip_message_t *answer = only_packet_to(c, NAT28);
    assert_int_equal(sip_status(answer), 200);
    assert_int_equal(sip_contact_count(answer), 0);
    assert_int_equal(nat_table_lookup(proxy_nat(c->p), "16", &b), -ENOENT);
    assert_int_equal(proxy_stats(c->p)->unregistrations, 1);
    sip_free(answer);
    sip_free(ok);
    sip_free(fwd);
}

static void expiry_is_capped_for_nated_clients(void **state)
{
    struct ctx *c = *state;
    static const struct {
        const char *expires_line; /* replaces "Expires: 3600" */
        long forwarded;
    } cases[] = {
        {"Expires: 3600", 120}, /* over the cap */
        {"Expires: 60", 60},    /* under it: untouched */
        {"X-None: 1", 120},     /* absent: the cap, not redirectd's default */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char branch[32], cseq[32];
        snprintf(branch, sizeof branch, "z9hG4bKcap%zu", i);
        snprintf(cseq, sizeof cseq, "CSeq: %zu ", i + 1);
        inject_variant(c, NAT28,
                       (const char *const[]){"z9hG4bKr16a", branch, "CSeq: 1 ", cseq,
                                             "Expires: 3600", cases[i].expires_line, NULL});
        osip_message_t *fwd = only_packet_to(c, REDIRECT);
        assert_int_equal(sip_register_expires(fwd), cases[i].forwarded);
        /* redirectd grants less than asked: the phone and the table follow it */
        osip_message_t *ok = redirect_ok(fwd, cases[i].forwarded - 10);
        inject_msg(c, REDIRECT, ok);
        osip_message_t *answer = only_packet_to(c, NAT28);
        assert_int_equal(sip_register_expires(answer), cases[i].forwarded - 10);
        struct nat_binding nb;
        assert_int_equal(nat_table_lookup(proxy_nat(c->p), "16", &nb), 0);
        uint64_t now = loop_now_ms(c->loop);
        assert_in_range(nb.expires_at_ms, now + (uint64_t)(cases[i].forwarded - 10) * 1000 - 50,
                        now + (uint64_t)(cases[i].forwarded - 10) * 1000);
        sip_free(answer);
        sip_free(ok);
        sip_free(fwd);
    }
}

static void redirectd_errors_are_relayed(void **state)
{
    struct ctx *c = *state;
    struct nat_binding b;
    osip_message_t *fwd = register_16(c);
    osip_message_t *err = redirect_status(fwd, 423);
    assert_int_equal(sip_header_set(err, "Min-Expires", "300"), 0);
    inject_msg(c, REDIRECT, err);
    osip_message_t *answer = only_packet_to(c, NAT28);
    assert_int_equal(sip_status(answer), 423);
    assert_string_equal(sip_header_get(answer, "Min-Expires"), "300");
    /* the phone's own transaction: its branch, our To-tag, no redirectd tag */
    struct sip_via_info v;
    assert_int_equal(sip_via_get(answer, 0, &v), 0);
    assert_string_equal(v.branch, "z9hG4bKr16a");
    assert_int_equal(sip_via_count(answer), 1);
    assert_string_not_equal(sip_to_tag(answer), "rd20");
    /* step 119 only after a 200 */
    assert_int_equal(nat_table_lookup(proxy_nat(c->p), "16", &b), -ENOENT);
    assert_int_equal(proxy_stats(c->p)->registrations_failed, 1);
    sip_free(answer);
    sip_free(err);
    sip_free(fwd);
}

static void redirectd_provisional_is_not_relayed(void **state)
{
    struct ctx *c = *state;
    osip_message_t *fwd = register_16(c);
    osip_message_t *trying = redirect_status(fwd, 100);
    inject_msg(c, REDIRECT, trying);
    assert_int_equal(c->wire.n, 0);
    osip_message_t *ok = redirect_ok(fwd, 120);
    inject_msg(c, REDIRECT, ok);
    osip_message_t *answer = only_packet_to(c, NAT28);
    assert_int_equal(sip_status(answer), 200);
    sip_free(answer);
    sip_free(ok);
    sip_free(trying);
    sip_free(fwd);
}

static void stop_loop(struct timer *t, void *arg)
{
    (void)t;
    loop_stop(arg);
}

static void silence_from_redirectd_gives_408_after_64_t1(void **state)
{
    struct ctx *c = *state;
    struct timer *t;
    osip_message_t *fwd = register_16(c);
    sip_free(fwd);

    assert_int_equal(timer_new(&t, c->loop, stop_loop, c->loop), 0);
    timer_start(t, 64 * T1_MS + 300);
    assert_int_equal(loop_run(c->loop), 0);
    timer_free(t);

    /* retransmissions to redirectd (timer E), then one 408 to the phone */
    struct addr rd = test_addr(REDIRECT), phone = test_addr(NAT28);
    size_t to_rd = 0, to_phone = 0, last = 0;
    for (size_t i = 0; i < c->wire.n; i++) {
        if (addr_equal(&c->wire.pkt[i].to, &rd))
            to_rd++;
        if (addr_equal(&c->wire.pkt[i].to, &phone)) {
            to_phone++;
            last = i;
        }
    }
    assert_true(to_rd >= 3);
    assert_int_equal(to_phone, 1);
    osip_message_t *answer = NULL;
    struct sip_parse_result res;
    assert_int_equal(sip_parse(&answer, c->wire.pkt[last].buf, c->wire.pkt[last].len, &res), 0);
    assert_int_equal(sip_status(answer), 408);
    assert_int_equal(proxy_stats(c->p)->registration_timeouts, 1);
    assert_int_equal(registration_pending(proxy_registration(c->p)), 0);
    sip_free(answer);
}

static void bad_registrations_are_refused_without_asking_redirectd(void **state)
{
    struct ctx *c = *state;
    static const struct {
        const char *what, *old, *new;
        int status;
    } cases[] = {
        {"no Contact", "Contact: <sip:16@192.168.1.10:5060>\r\n", "", 400},
        {"two Contacts", "<sip:16@192.168.1.10:5060>",
         "<sip:16@192.168.1.10:5060>, <sip:16@192.168.1.11:5060>", 400},
        {"Contact * with Expires 3600", "<sip:16@192.168.1.10:5060>", "*", 400},
        {"no ID in To", "To: \"16\" <sip:16@203.0.113.11>", "To: <sip:203.0.113.11>", 400},
        {"unreadable Expires", "Expires: 3600", "Expires: soon", 400},
        {"Max-Forwards 0", "Max-Forwards: 70", "Max-Forwards: 0", 483},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char branch[32];
        snprintf(branch, sizeof branch, "z9hG4bKbad%zu", i);
        inject_variant(
            c, NAT28,
            (const char *const[]){"z9hG4bKr16a", branch, cases[i].old, cases[i].new, NULL});
        osip_message_t *answer = only_packet_to(c, NAT28);
        if (sip_status(answer) != cases[i].status)
            fail_msg("%s: answered %d, want %d", cases[i].what, sip_status(answer),
                     cases[i].status);
        sip_free(answer);
    }
    assert_int_equal(proxy_stats(c->p)->bad_requests, 5);
    assert_int_equal(registration_pending(proxy_registration(c->p)), 0);
}

static void bad_input_is_answered_400_or_dropped_and_counted(void **state)
{
    struct ctx *c = *state;
    /* no Call-ID: still told why (issue #5: "no Contact/To/Call-ID/CSeq → 400"),
     * with the identity the request has */
    inject_variant(c, NAT28, (const char *const[]){"Call-ID: reg-16@192.168.1.10\r\n", "", NULL});
    /* our own parser refuses a response without Call-ID, so read the text */
    assert_int_equal(c->wire.n, 1);
    struct addr nat28 = test_addr(NAT28);
    assert_true(addr_equal(&c->wire.pkt[0].to, &nat28));
    assert_int_equal(strncmp(c->wire.pkt[0].buf, "SIP/2.0 400 ", 12), 0);
    assert_null(strcasestr(c->wire.pkt[0].buf, "Call-ID"));
    assert_non_null(strcasestr(c->wire.pkt[0].buf, "CSeq: 1 REGISTER"));
    fake_wire_clear(&c->wire);
    inject_text(c, NAT28, "\x01\x02garbage", 9);
    assert_int_equal(c->wire.n, 0);
    assert_int_equal(proxy_stats(c->p)->parse_errors, 2);
    /* a phone's own CRLF keepalive is neither an error nor answered */
    inject_text(c, NAT28, "\r\n\r\n", 4);
    assert_int_equal(c->wire.n, 0);
    assert_int_equal(proxy_stats(c->p)->parse_errors, 2);
}

static void options_to_us_200_and_other_methods_501(void **state)
{
    struct ctx *c = *state;
    static const char options[] = "OPTIONS sip:203.0.113.11:5060 SIP/2.0\r\n"
                                  "Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKo1\r\n"
                                  "From: <sip:16@203.0.113.11>;tag=o\r\n"
                                  "To: <sip:203.0.113.11>\r\n"
                                  "Call-ID: o1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
                                  "Content-Length: 0\r\n\r\n";
    inject_text(c, NAT28, options, strlen(options));
    osip_message_t *answer = only_packet_to(c, NAT28);
    assert_int_equal(sip_status(answer), 200);
    assert_non_null(strstr(sip_header_get(answer, "Allow"), "REGISTER"));
    sip_free(answer);

    /* INVITE is the messaging module's (issue #6); an out-of-dialog MESSAGE
     * is nobody's */
    static const char invite[] = "MESSAGE sip:14@203.0.113.11 SIP/2.0\r\n"
                                 "Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKi1\r\n"
                                 "From: <sip:16@203.0.113.11>;tag=i\r\n"
                                 "To: <sip:14@203.0.113.11>\r\n"
                                 "Call-ID: i1\r\nCSeq: 1 MESSAGE\r\nMax-Forwards: 70\r\n"
                                 "Contact: <sip:16@192.168.1.10>\r\n"
                                 "Content-Length: 0\r\n\r\n";
    inject_text(c, NAT28, invite, strlen(invite));
    answer = only_packet_to(c, NAT28);
    assert_int_equal(sip_status(answer), 501);
    sip_free(answer);
    assert_int_equal(proxy_stats(c->p)->not_implemented, 1);
}

static void a_client_leaving_its_nat_leaves_the_table(void **state)
{
    struct ctx *c = *state;
    struct nat_binding b;
    osip_message_t *fwd = register_16(c), *ok = redirect_ok(fwd, 120);
    inject_msg(c, REDIRECT, ok);
    sip_free(only_packet_to(c, NAT28));
    sip_free(ok);
    sip_free(fwd);
    assert_int_equal(nat_table_lookup(proxy_nat(c->p), "16", &b), 0);

    /* client 16 now sits on a public address: Via = source, public Contact */
    inject_variant(c, "203.0.113.16:5060",
                   (const char *const[]){"z9hG4bKr16a", "z9hG4bKr16p", "CSeq: 1 ", "CSeq: 2 ",
                                         "192.168.1.10:5060;branch", "203.0.113.16:5060;branch",
                                         "<sip:16@192.168.1.10:5060>", "<sip:16@203.0.113.16>",
                                         NULL});
    fwd = only_packet_to(c, REDIRECT);
    assert_int_equal(sip_register_expires(fwd), 3600); /* not capped: not NATed */
    ok = redirect_ok(fwd, 3600);
    inject_msg(c, REDIRECT, ok);
    sip_free(only_packet_to(c, "203.0.113.16:5060"));
    assert_int_equal(nat_table_lookup(proxy_nat(c->p), "16", &b), -ENOENT);
    sip_free(ok);
    sip_free(fwd);
}

static void a_send_failure_to_redirectd_is_503(void **state)
{
    struct ctx *c = *state;
    c->wire.fail_with = -ENETUNREACH;
    inject_fixture(c, NAT28, "registration/fig3b_registration_120.sip");
    assert_int_equal(c->wire.n, 0);
    assert_int_equal(registration_pending(proxy_registration(c->p)), 0);
    /* the 503 could not go out either; the phone's retransmission gets it */
    c->wire.fail_with = 0;
    inject_fixture(c, NAT28, "registration/fig3b_registration_120.sip");
    osip_message_t *answer = only_packet_to(c, NAT28);
    assert_int_equal(sip_status(answer), 503);
    assert_non_null(sip_header_get(answer, "Retry-After"));
    sip_free(answer);
}

static void a_draining_proxy_refuses_new_registrations(void **state)
{
    struct ctx *c = *state;
    assert_int_equal(proxy_drain(c->p), 0); /* nothing pending: stop at once */
    inject_fixture(c, NAT28, "registration/fig3b_registration_120.sip");
    osip_message_t *answer = only_packet_to(c, NAT28);
    assert_int_equal(sip_status(answer), 503);
    sip_free(answer);
}

static void drain_waits_for_pending_registrations(void **state)
{
    struct ctx *c = *state;
    osip_message_t *fwd = register_16(c);
    assert_true(proxy_drain(c->p) > 0);
    /* what is in flight still completes */
    osip_message_t *ok = redirect_ok(fwd, 120);
    inject_msg(c, REDIRECT, ok);
    osip_message_t *answer = only_packet_to(c, NAT28);
    assert_int_equal(sip_status(answer), 200);
    sip_free(answer);
    sip_free(ok);
    sip_free(fwd);
}

/* What the proxy may send on a torture message: an answer to a packet
 * source, never to a Via host (some messages share a transaction key with
 * an earlier one — RFC 4475 reuses branches — which the layer takes for a
 * retransmission: the answer then goes to that earlier message's source;
 * a 400 may echo what the parser refused, so it is checked as text); a
 * REGISTER to redirectd; or, since the messaging module (issue #6), a
 * request it forwards or a query to redirectd/relayd, with our Via on top. */
static void check_torture_output(struct ctx *c, const char *name, size_t i)
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
    if (addr_equal(&c->wire.pkt[i].to, &rd))
        assert_true(sip_method_is(m, "REGISTER") || sip_method_is(m, "INVITE") ||
                    sip_method_is(m, "ACK"));
    assert_false(addr_equal(&c->wire.pkt[i].to, &self));
    sip_free(m);
}

/* RFC 4475's torture messages, each from its own source, through the whole
 * dispatch (ASan/UBSan watch): nothing crashes or leaks, anything sent is
 * what check_torture_output allows. */
static void survives_the_rfc4475_torture_messages(void **state)
{
    struct ctx *c = *state;
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
    assert_true(proxy_stats(c->p)->parse_errors > 0);
}

int main(void)
{
    assert_int_equal(sip_init(), 0);
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
        T(fig3b_registration_120_becomes_redirect_registration_122),
        T(a_public_client_is_registered_without_rewrite),
        T(a_nated_registration_round_trip),
        T(unregister_removes_the_table_entry),
        T(expiry_is_capped_for_nated_clients),
        T(redirectd_errors_are_relayed),
        T(redirectd_provisional_is_not_relayed),
        T(silence_from_redirectd_gives_408_after_64_t1),
        T(bad_registrations_are_refused_without_asking_redirectd),
        T(bad_input_is_answered_400_or_dropped_and_counted),
        T(options_to_us_200_and_other_methods_501),
        T(a_client_leaving_its_nat_leaves_the_table),
        T(a_send_failure_to_redirectd_is_503),
        T(a_draining_proxy_refuses_new_registrations),
        T(drain_waits_for_pending_registrations),
        T(survives_the_rfc4475_torture_messages),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

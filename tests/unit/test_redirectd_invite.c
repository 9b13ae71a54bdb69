/* redirectd INVITE handling on a fake wire: the redirect response 216 of
 * fig. 7b (302 with the Contacts chosen by design.md decision 3, in q
 * order, identity of the request preserved), 404, 403, and the INVITE
 * server transaction: retransmitted INVITEs absorbed, the 302 retransmitted
 * until the ACK (timer G), given up at timer H. */
#include "test_redirectd_harness.h"

#define CHANNEL "sip:16@198.51.100.28:40312"

/* Registers 16 through proxy A, advertised in Path as RD_PROXY_C. */
static void bind_16(struct rd_fixture *f)
{
    rd_register(f, &f->a, "16", CHANNEL, "reg-1@a", 1, "Path: <sip:192.0.2.10:5060;lr>\n");
    rd_expect_status(f, &f->a, 200);
}

static void test_serving_proxy_gets_the_clients_channel(void **state)
{
    struct rd_fixture *f = *state;
    bind_16(f);
    /* from the address in Path, and from the address the REGISTER came from */
    rd_invite(f, &f->c, "16", 1);
    osip_message_t *m = rd_expect(f, &f->c, 302);
    assert_int_equal(sip_contact_count(m), 1);
    rd_assert_contact(m, CHANNEL);
    sip_free(m);
    rd_invite(f, &f->a, "16", 2);
    m = rd_expect(f, &f->a, 302);
    rd_assert_contact(m, CHANNEL);
    sip_free(m);
}

static void test_other_proxy_gets_the_serving_proxy(void **state)
{
    struct rd_fixture *f = *state;
    bind_16(f);
    rd_invite(f, &f->b, "16", 1);
    osip_message_t *m = rd_expect(f, &f->b, 302);
    assert_int_equal(sip_contact_count(m), 1);
    rd_assert_contact(m, "sip:16@192.0.2.10:5060");
    sip_free(m);
}

static void test_302_preserves_the_request_identity(void **state)
{
    struct rd_fixture *f = *state;
    struct sip_via_info top, second;
    char cid[64];
    uint32_t cseq;
    const char *method;
    bind_16(f);
    rd_invite(f, &f->b, "16", 7);
    osip_message_t *m = rd_expect(f, &f->b, 302);

    assert_int_equal(sip_call_id(m, cid, sizeof cid), 0);
    assert_string_equal(cid, "call-7@10.0.0.5"); /* session ID header 158 */
    assert_int_equal(sip_cseq(m, &cseq, &method), 0);
    assert_int_equal(cseq, 1);
    assert_string_equal(method, "INVITE");
    assert_string_equal(sip_from_tag(m), "caller7");
    assert_non_null(sip_to_tag(m));
    assert_int_equal(sip_via_count(m), 2);
    assert_int_equal(sip_via_get(m, 0, &top), 0);
    assert_string_equal(top.branch, "z9hG4bKinv7");
    assert_string_equal(top.host, "198.51.100.1");
    /* pinned to the datagram's source (RFC 3581) */
    assert_string_equal(top.received, "127.0.0.1");
    assert_int_equal(top.rport, 5062);
    assert_int_equal(sip_via_get(m, 1, &second), 0);
    assert_string_equal(second.branch, "z9hG4bKphone7");
    sip_free(m);
}

static void test_unknown_id_gets_404(void **state)
{
    struct rd_fixture *f = *state;
    bind_16(f);
    rd_invite(f, &f->a, "17", 1);
    osip_message_t *m = rd_expect(f, &f->a, 404);
    assert_int_equal(sip_contact_count(m), 0);
    sip_free(m);
    /* a Request-URI without an ID */
    rd_sendf(f, &f->a,
             "INVITE sip:127.0.0.1:5070 SIP/2.0\n"
             "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKnoid\n"
             "From: <sip:12@example.net>;tag=x\n"
             "To: <sip:127.0.0.1>\n"
             "Call-ID: noid@a\n"
             "CSeq: 1 INVITE\n"
             "Content-Length: 0\n\n");
    rd_expect_status(f, &f->a, 404);
}

static void test_unlisted_proxy_gets_403(void **state)
{
    struct rd_fixture *f = *state;
    bind_16(f);
    rd_invite(f, &f->outsider, "16", 1);
    rd_expect_status(f, &f->outsider, 403);
}

static void test_expired_binding_gets_404(void **state)
{
    struct rd_fixture *f = *state;
    rd_register(f, &f->a, "16", CHANNEL, "reg-1@a", 1, "Expires: 1\n");
    rd_expect_status(f, &f->a, 200);
    /* the 1 s table timer must remove it with no lookup in between */
    rd_run_ms(f, 2100);
    assert_int_equal(client_table_count(redirector_clients(f->r)), 0);
    assert_int_equal(client_table_expired(redirector_clients(f->r)), 1);
    fake_wire_clear(&f->wire);
    rd_invite(f, &f->a, "16", 1);
    rd_expect_status(f, &f->a, 404);
}

static void test_retransmitted_invite_is_absorbed(void **state)
{
    struct rd_fixture *f = *state;
    bind_16(f);
    rd_invite(f, &f->b, "16", 3);
    osip_message_t *first = rd_expect(f, &f->b, 302);
    rd_invite(f, &f->b, "16", 3);
    /* the same 302 again (RFC 3261 17.2.1), not a second lookup */
    osip_message_t *again = rd_expect(f, &f->b, 302);
    assert_string_equal(sip_to_tag(first), sip_to_tag(again));
    rd_assert_contact(again, "sip:16@192.0.2.10:5060");
    sip_free(first);
    sip_free(again);
    assert_int_equal(redirector_stats(f->r)->requests[RD_INVITE], 1);
    assert_int_equal(redirector_stats(f->r)->absorbed, 1);
    assert_int_equal(rd_responses(f, 302), 1);
}

static void test_302_is_retransmitted_until_the_ack(void **state)
{
    struct rd_fixture *f = *state;
    bind_16(f);
    rd_invite(f, &f->a, "16", 4);
    osip_message_t *m = rd_expect(f, &f->a, 302);
    char tag[64];
    snprintf(tag, sizeof tag, "%s", sip_to_tag(m));
    sip_free(m);

    /* timer G: T1 = 20 ms, doubling: 20, 40, 80 → at least 3 in 200 ms */
    rd_run_ms(f, 200);
    size_t resent = f->wire.n;
    assert_true(resent >= 3);
    for (size_t i = 0; i < resent; i++) {
        assert_true(addr_equal(&f->wire.pkt[i].to, &f->a));
        osip_message_t *r = rd_packet(f, i);
        assert_int_equal(sip_status(r), 302);
        assert_string_equal(sip_to_tag(r), tag);
        sip_free(r);
    }
    fake_wire_clear(&f->wire);

    rd_ack(f, &f->a, "16", 4, tag);
    assert_int_equal(f->wire.n, 0); /* an ACK is never answered */
    assert_int_equal(redirector_stats(f->r)->acks_absorbed, 1);
    rd_run_ms(f, 300);
    assert_int_equal(f->wire.n, 0); /* and it stopped timer G */
}

static void test_302_retransmission_gives_up_at_timer_h(void **state)
{
    struct rd_fixture *f = *state;
    struct txn_stats ts;
    bind_16(f);
    rd_invite(f, &f->a, "16", 5);
    rd_expect_status(f, &f->a, 302);
    rd_run_ms(f, 64 * 20 + 400); /* 64·T1 and some */
    size_t sent = f->wire.n;
    fake_wire_clear(&f->wire);
    assert_true(sent >= 5);
    rd_run_ms(f, 300);
    assert_int_equal(f->wire.n, 0);
    redirector_txn_stats(f->r, &ts);
    assert_int_equal(ts.servers, 0); /* the transaction is gone, nothing leaks */
}

static void test_stray_ack_is_dropped(void **state)
{
    struct rd_fixture *f = *state;
    rd_ack(f, &f->a, "16", 99, "nosuchtag");
    assert_int_equal(f->wire.n, 0);
    assert_int_equal(redirector_stats(f->r)->stray_acks, 1);
}

/* ---- forking: several bindings per ID ---- */

#define DESK "sip:16@198.51.100.28:40312"
#define SOFT "sip:16@203.0.113.50:5060"

/* A REGISTER for id from src with the Contact lines `contacts`. */
static void register_contacts(struct rd_fixture *f, const struct addr *src, const char *id,
                              const char *call_id, const char *contacts)
{
    unsigned n = ++f->branch;
    rd_sendf(f, src,
             "REGISTER sip:127.0.0.1:5070 SIP/2.0\n"
             "Via: SIP/2.0/UDP 203.0.113.9:5060;branch=z9hG4bKfork%u\n"
             "Max-Forwards: 70\n"
             "From: <sip:%s@example.net>;tag=r%u\n"
             "To: <sip:%s@example.net>\n"
             "Call-ID: %s\n"
             "CSeq: 1 REGISTER\n"
             "%s"
             "Content-Length: 0\n\n",
             n, id, n, id, call_id, contacts);
    rd_expect_status(f, src, 200);
}

/* Contact i of the 302 is uri with q (-1: none) and no expires. */
static void assert_target(const osip_message_t *m, int i, const char *uri, int q)
{
    char *got = NULL;
    long e = -2;
    int gq = -2;
    assert_int_equal(sip_contact_at(m, i, &got, &e, &gq), 0);
    assert_string_equal(got, uri);
    osip_free(got);
    assert_int_equal(gq, q);
    assert_int_equal(e, -1);
}

/* RFC 3261 16.7 / design.md decision 3: the serving proxy gets every phone
 * of the user, best q first, whatever order they were registered in. */
static void test_serving_proxy_gets_every_channel_in_q_order(void **state)
{
    struct rd_fixture *f = *state;
    /* the lower q first, then the higher (newest first would be wrong) */
    register_contacts(f, &f->a, "16", "reg-1@a",
                      "Contact: <" DESK ">;q=0.3\n"
                      "Contact: <" SOFT ">;q=0.9\n");
    /* and the other way round (request order would be wrong) */
    register_contacts(f, &f->a, "17", "reg-2@a",
                      "Contact: <sip:17@203.0.113.60:5060>;q=0.9\n"
                      "Contact: <sip:17@203.0.113.61:5060>;q=0.3\n");

    rd_invite(f, &f->a, "16", 1);
    osip_message_t *m = rd_expect(f, &f->a, 302);
    assert_int_equal(sip_contact_count(m), 2);
    assert_target(m, 0, SOFT, 900);
    assert_target(m, 1, DESK, 300);
    sip_free(m);

    rd_invite(f, &f->a, "17", 2);
    m = rd_expect(f, &f->a, 302);
    assert_int_equal(sip_contact_count(m), 2);
    assert_target(m, 0, "sip:17@203.0.113.60:5060", 900);
    assert_target(m, 1, "sip:17@203.0.113.61:5060", 300);
    sip_free(m);

    /* fig. 2b: another proxy is sent once to the serving proxy, which forks */
    rd_invite(f, &f->b, "16", 3);
    m = rd_expect(f, &f->b, 302);
    assert_int_equal(sip_contact_count(m), 1);
    assert_target(m, 0, "sip:16@127.0.0.1:5060", 900);
    sip_free(m);
    rd_invite(f, &f->c, "17", 4);
    m = rd_expect(f, &f->c, 302);
    assert_int_equal(sip_contact_count(m), 1);
    rd_assert_contact(m, "sip:17@127.0.0.1:5060");
    sip_free(m);
}

/* Two phones behind two proxies: each proxy gets its own phone's channel
 * and the other proxy; a third proxy gets both proxies. */
static void test_phones_behind_two_proxies(void **state)
{
    struct rd_fixture *f = *state;
    register_contacts(f, &f->a, "16", "desk@a", "Contact: <" DESK ">;q=0.3\n");
    register_contacts(f, &f->b, "16", "soft@b", "Contact: <" SOFT ">\n");

    rd_invite(f, &f->a, "16", 1);
    osip_message_t *m = rd_expect(f, &f->a, 302);
    assert_int_equal(sip_contact_count(m), 2);
    assert_target(m, 0, "sip:16@127.0.0.1:5062", -1);
    assert_target(m, 1, DESK, 300);
    sip_free(m);

    rd_invite(f, &f->b, "16", 2);
    m = rd_expect(f, &f->b, 302);
    assert_int_equal(sip_contact_count(m), 2);
    assert_target(m, 0, SOFT, -1);
    assert_target(m, 1, "sip:16@127.0.0.1:5060", 300);
    sip_free(m);

    rd_invite(f, &f->c, "16", 3);
    m = rd_expect(f, &f->c, 302);
    assert_int_equal(sip_contact_count(m), 2);
    assert_target(m, 0, "sip:16@127.0.0.1:5062", -1);
    assert_target(m, 1, "sip:16@127.0.0.1:5060", 300);
    sip_free(m);
}

/* One of two bindings runs out: the 302 lists the other alone. */
static void test_expired_binding_leaves_the_302(void **state)
{
    struct rd_fixture *f = *state;
    register_contacts(f, &f->a, "16", "reg-1@a",
                      "Contact: <" DESK ">;expires=1;q=1\n"
                      "Contact: <" SOFT ">;q=0.5\n");
    rd_run_ms(f, 2100);
    fake_wire_clear(&f->wire);
    assert_int_equal(client_table_count(redirector_clients(f->r)), 1);
    assert_int_equal(client_table_expired(redirector_clients(f->r)), 1);
    rd_invite(f, &f->a, "16", 1);
    osip_message_t *m = rd_expect(f, &f->a, 302);
    assert_int_equal(sip_contact_count(m), 1);
    assert_target(m, 0, SOFT, 500);
    sip_free(m);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, rd_setup, rd_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_serving_proxy_gets_the_clients_channel),
        T(test_other_proxy_gets_the_serving_proxy),
        T(test_302_preserves_the_request_identity),
        T(test_unknown_id_gets_404),
        T(test_unlisted_proxy_gets_403),
        T(test_expired_binding_gets_404),
        T(test_retransmitted_invite_is_absorbed),
        T(test_302_is_retransmitted_until_the_ack),
        T(test_302_retransmission_gives_up_at_timer_h),
        T(test_stray_ack_is_dropped),
        T(test_serving_proxy_gets_every_channel_in_q_order),
        T(test_phones_behind_two_proxies),
        T(test_expired_binding_leaves_the_302),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

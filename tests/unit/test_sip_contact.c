/* Contact reading and rewriting, "*" and REGISTER expiry. */
#include "helpers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pinhole/sip.h"

/* A REGISTER with the given extra header lines. */
static osip_message_t *register_with(const char *headers)
{
    char buf[2048];
    snprintf(buf, sizeof buf,
             "REGISTER sip:192.0.2.10 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.5;branch=z9hG4bKc\r\n"
             "From: <sip:a@example.com>;tag=1\r\nTo: <sip:a@example.com>\r\n"
             "Call-ID: c@1\r\nCSeq: 1 REGISTER\r\n%sContent-Length: 0\r\n\r\n",
             headers);
    return sip_text(buf);
}

static void reads_the_first_contact(void **state)
{
    struct addr a;
    char buf[ADDR_STRLEN];
    char *uri;
    (void)state;
    osip_message_t *m = sip_fixture("sip/invite.sip");
    assert_int_equal(sip_contact_count(m), 1);
    assert_int_equal(sip_contact_addr(m, &a), 0);
    assert_string_equal(addr_format(&a, buf, sizeof buf), "10.0.0.5:5062");
    assert_int_equal(sip_contact_uri_text(m, &uri), 0);
    assert_string_equal(uri, "sip:alice@10.0.0.5:5062;transport=udp");
    osip_free(uri);
    assert_false(sip_contact_is_star(m));
    sip_free(m);

    m = sip_fixture("sip/invite_ipv6.sip");
    assert_int_equal(sip_contact_addr(m, &a), 0);
    assert_string_equal(addr_format(&a, buf, sizeof buf), "[2001:db8::1]:5070");
    sip_free(m);

    m = sip_fixture("sip/options_compact.sip"); /* m: <sip:dave@client.example.com> */
    assert_int_equal(sip_contact_addr(m, &a), -EINVAL);
    sip_free(m);

    m = sip_fixture("sip/bye_routed.sip");
    assert_int_equal(sip_contact_count(m), 0);
    assert_int_equal(sip_contact_addr(m, &a), -ENOENT);
    assert_int_equal(sip_contact_uri_text(m, &uri), -ENOENT);
    assert_null(uri);
    sip_free(m);
}

static void set_rewrites_host_and_port_only(void **state)
{
    struct addr nat = test_addr("203.0.113.7:40001");
    struct addr a;
    (void)state;
    osip_message_t *m = sip_fixture("sip/invite.sip");
    /* patent step 144: the Contact becomes the packet's source */
    assert_int_equal(sip_contact_set(m, &nat), 0);
    char *line = sip_wire_line(m, "Contact");
    assert_string_equal(line, "Contact: <sip:alice@203.0.113.7:40001;transport=udp>;expires=3600");
    free(line);
    assert_int_equal(sip_contact_addr(m, &a), 0);
    assert_true(addr_equal(&a, &nat));

    struct addr v6 = test_addr("[2001:db8::7]:6000");
    assert_int_equal(sip_contact_set(m, &v6), 0);
    line = sip_wire_line(m, "Contact");
    assert_string_equal(line, "Contact: <sip:alice@[2001:db8::7]:6000;transport=udp>;expires=3600");
    free(line);
    sip_free(m);

    m = sip_fixture("sip/register_star.sip");
    assert_int_equal(sip_contact_set(m, &nat), -ENOENT);
    sip_free(m);
    m = sip_fixture("sip/bye_routed.sip");
    assert_int_equal(sip_contact_set(m, &nat), -ENOENT);
    sip_free(m);
}

static void replace_leaves_one_contact(void **state)
{
    (void)state;
    osip_message_t *m = register_with("Contact: <sip:a@10.0.0.5>\r\nContact: <sip:a@10.0.0.6>\r\n");
    assert_int_equal(sip_contact_count(m), 2);
    assert_int_equal(sip_contact_replace(m, "sip:a@198.51.100.2:5070", 600), 0);
    assert_int_equal(sip_contact_count(m), 1);
    char *line = sip_wire_line(m, "Contact");
    assert_string_equal(line, "Contact: <sip:a@198.51.100.2:5070>;expires=600");
    free(line);
    assert_int_equal(sip_register_expires(m), 600);

    assert_int_equal(sip_contact_replace(m, "sip:192.0.2.10:5060", -1), 0);
    line = sip_wire_line(m, "Contact");
    assert_string_equal(line, "Contact: <sip:192.0.2.10:5060>");
    free(line);

    /* nothing that would close the brackets or start a header */
    assert_int_equal(sip_contact_replace(m, "sip:a@b>;x", 5), -EINVAL);
    assert_int_equal(sip_contact_replace(m, "sip:a@b\r\nEvil: 1", 5), -EINVAL);
    assert_int_equal(sip_contact_replace(m, "", 5), -EINVAL);
    assert_int_equal(sip_contact_replace(m, NULL, 5), -EINVAL);
    assert_int_equal(sip_contact_replace(m, "sip:a@b", 4294967296L), -EINVAL);
    assert_int_equal(sip_contact_count(m), 1);
    sip_free(m);
}

static void star_contact(void **state)
{
    struct addr a;
    (void)state;
    osip_message_t *m = sip_fixture("sip/register_star.sip");
    assert_true(sip_contact_is_star(m));
    assert_int_equal(sip_contact_count(m), 1);
    assert_int_equal(sip_contact_addr(m, &a), -ENOENT);
    assert_int_equal(sip_register_expires(m), 0);
    sip_free(m);
}

static void register_expires_precedence(void **state)
{
    static const struct {
        const char *headers;
        long expires;
    } cases[] = {
        {"Contact: <sip:a@10.0.0.5>;expires=1800\r\nExpires: 7200\r\n", 1800},
        {"Contact: <sip:a@10.0.0.5>\r\nExpires: 7200\r\n", 7200},
        {"Contact: <sip:a@10.0.0.5;expires=5>\r\nExpires: 7200\r\n", 7200}, /* a URI param */
        {"Contact: <sip:a@10.0.0.5>\r\n", -1},
        {"", -1},
        {"Expires: 0\r\n", 0},
        {"Contact: <sip:a@10.0.0.5>;expires=4294967295\r\n", 4294967295L},
        {"Contact: <sip:a@10.0.0.5>;expires=4294967296\r\n", -EINVAL},
        {"Contact: <sip:a@10.0.0.5>;expires=soon\r\n", -EINVAL},
        {"Contact: <sip:a@10.0.0.5>;expires\r\n", -EINVAL},
        {"Expires: -5\r\n", -EINVAL},
        {"Expires: 10000000000000000000000000000\r\n", -EINVAL},
        {"Contact: <sip:a@10.0.0.5>;expires=60, <sip:a@10.0.0.6>;expires=120\r\n", 60},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        osip_message_t *m = register_with(cases[i].headers);
        long got = sip_register_expires(m);
        if (got != cases[i].expires)
            fail_msg("%s: %ld, want %ld", cases[i].headers, got, cases[i].expires);
        sip_free(m);
    }
}

static void set_expires_caps_both_places(void **state)
{
    (void)state;
    osip_message_t *m = sip_fixture("sip/register.sip");
    assert_int_equal(sip_register_expires(m), 1800);
    assert_int_equal(sip_set_expires(m, 120), 0);
    assert_int_equal(sip_register_expires(m), 120);
    assert_string_equal(sip_header_get(m, "Expires"), "120");
    char *line = sip_wire_line(m, "Contact");
    assert_string_equal(line, "Contact: <sip:alice@10.0.0.5:5062>;expires=120");
    free(line);
    assert_int_equal(sip_set_expires(m, -1), -EINVAL);
    sip_free(m);

    /* no expires param: only the header is set, the Contact stays as it was */
    m = register_with("Contact: <sip:a@10.0.0.5>\r\n");
    assert_int_equal(sip_set_expires(m, 60), 0);
    line = sip_wire_line(m, "Contact");
    assert_string_equal(line, "Contact: <sip:a@10.0.0.5>");
    free(line);
    assert_int_equal(sip_register_expires(m), 60);
    sip_free(m);
}

static void contact_param_kept_apart_from_uri_param(void **state)
{
    char *uri;
    (void)state;
    /* RFC 4475 3.3.12: without <>, ;unknownparam belongs to the Contact */
    osip_message_t *m = register_with("Contact: sip:+19725552222@gw1.example.net;unknownparam\r\n");
    assert_int_equal(sip_contact_uri_text(m, &uri), 0);
    assert_string_equal(uri, "sip:+19725552222@gw1.example.net");
    osip_free(uri);
    sip_free(m);
    /* RFC 4475 3.3.13: inside <> it is the URI's */
    m = register_with("Contact: <sip:+19725552222@gw1.example.net;unknownparam>;expires=5\r\n");
    assert_int_equal(sip_contact_uri_text(m, &uri), 0);
    assert_string_equal(uri, "sip:+19725552222@gw1.example.net;unknownparam");
    osip_free(uri);
    assert_int_equal(sip_register_expires(m), 5);
    sip_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reads_the_first_contact),
        cmocka_unit_test(set_rewrites_host_and_port_only),
        cmocka_unit_test(replace_leaves_one_contact),
        cmocka_unit_test(star_contact),
        cmocka_unit_test(register_expires_precedence),
        cmocka_unit_test(set_expires_caps_both_places),
        cmocka_unit_test(contact_param_kept_apart_from_uri_param),
    };
    return cmocka_run_group_tests(tests, sip_test_setup, NULL);
}

/* forward_copy (src/proxyd/forward.c): the copy every routed request starts
 * from, for fig. 4a's INVITE and the in-dialog requests alike. */
#include "helpers.h"

#include <errno.h>
#include <string.h>

#include "forward.h"

#define SELF "203.0.113.11:5060"

static const char req_text[] =
    "BYE sip:14@203.0.113.14:5060 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKf1\r\n"
    "Route: <sip:203.0.113.11:5060;lr>\r\n"
    "Route: <sip:203.0.113.13:5060;lr>\r\n"
    "From: <sip:16@example.com>;tag=a\r\nTo: <sip:14@example.com>;tag=b\r\n"
    "Call-ID: f1\r\nCSeq: 2 BYE\r\nMax-Forwards: %s\r\n"
    "Contact: %s\r\nContent-Length: 0\r\n\r\n";

struct fx {
    struct proxyd_conf cfg;
    struct proxy_env env;
    struct addr src;
};

static void fx_init(struct fx *f)
{
    memset(f, 0, sizeof *f);
    f->cfg.listen = test_addr(SELF);
    f->cfg.advertise = test_addr(SELF);
    f->env.cfg = &f->cfg;
    f->src = test_addr("198.51.100.28:40312");
}

static osip_message_t *req(const char *mf, const char *contact)
{
    char text[1024];
    snprintf(text, sizeof text, req_text, mf, contact);
    return sip_text(text);
}

static void routes_on_with_our_route_off_and_the_nat_contact(void **state)
{
    struct fx f;
    struct addr top, contact;
    osip_message_t *copy = NULL;
    (void)state;
    fx_init(&f);
    osip_message_t *in = req("70", "<sip:16@192.168.1.10:5060>");
    assert_int_equal(forward_copy(&f.env, in, &f.src, true, &copy), 0);
    assert_ptr_not_equal(copy, in);
    assert_string_equal(sip_header_get(copy, "Max-Forwards"), "69");
    assert_int_equal(sip_route_top(copy, &top), 0);
    assert_false(addr_equal(&top, &f.cfg.advertise)); /* ours is gone */
    assert_int_equal(sip_contact_addr(copy, &contact), 0);
    assert_true(addr_equal(&contact, &f.src)); /* step 144 */
    /* the original is untouched */
    assert_string_equal(sip_header_get(in, "Max-Forwards"), "70");
    sip_free(copy);

    /* not NATed: the Contact stays */
    assert_int_equal(forward_copy(&f.env, in, &f.src, false, &copy), 0);
    assert_int_equal(sip_contact_addr(copy, &contact), 0);
    assert_int_equal(addr_port(&contact), 5060);
    assert_false(addr_equal(&contact, &f.src));
    sip_free(copy);
    sip_free(in);
}

static void our_route_is_the_only_one_popped(void **state)
{
    struct fx f;
    struct addr top;
    osip_message_t *copy = NULL;
    (void)state;
    fx_init(&f);
    osip_message_t *in = req("70", "<sip:16@192.168.1.10:5060>");
    assert_int_equal(forward_copy(&f.env, in, &f.src, false, &copy), 0);
    assert_int_equal(sip_route_top(copy, &top), 0);
    char host[ADDR_STRLEN];
    assert_string_equal(addr_host_plain(&top, host, sizeof host), "203.0.113.13");
    sip_free(copy);
    sip_free(in);
}

static void refusals(void **state)
{
    struct fx f;
    osip_message_t *copy = (osip_message_t *)1;
    (void)state;
    fx_init(&f);
    osip_message_t *in = req("0", "<sip:16@192.168.1.10:5060>");
    assert_int_equal(forward_copy(&f.env, in, &f.src, true, &copy), -ELOOP); /* 483 */
    assert_null(copy);
    sip_free(in);
    in = req("many", "<sip:16@192.168.1.10:5060>");
    assert_int_equal(forward_copy(&f.env, in, &f.src, true, &copy), -EINVAL);
    sip_free(in);
    /* a NATed sender whose Contact names nothing to reach it on */
    in = req("70", "*");
    assert_int_equal(forward_copy(&f.env, in, &f.src, true, &copy), -EINVAL);
    assert_null(copy);
    sip_free(in);
}

int main(void)
{
    assert_int_equal(sip_init(), 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(routes_on_with_our_route_off_and_the_nat_contact),
        cmocka_unit_test(our_route_is_the_only_one_popped),
        cmocka_unit_test(refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

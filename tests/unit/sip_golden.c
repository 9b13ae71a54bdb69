#include "sip_golden.h"

#include "helpers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

osip_message_t *golden_load(const char *relpath)
{
    size_t len;
    char *text = fixture_read_sip(relpath, &len);
    osip_message_t *m = NULL;
    struct sip_parse_result res;
    if (sip_parse(&m, text, len, &res) != 0)
        fail_msg("fixture %s does not parse: %s", relpath, res.reason ? res.reason : "?");
    free(text);
    return m;
}

static void same_str(const char *what, const char *e, const char *a)
{
    if ((e == NULL) != (a == NULL) || (e && strcmp(e, a) != 0))
        fail_msg("%s differs:\n  expected: %s\n  actual:   %s", what, e ? e : "(none)",
                 a ? a : "(none)");
}

static void same_uri(const char *what, osip_uri_t *e, osip_uri_t *a)
{
    char *es = NULL, *as = NULL;
    if (e)
        osip_uri_to_str(e, &es);
    if (a)
        osip_uri_to_str(a, &as);
    same_str(what, es, as);
    osip_free(es);
    osip_free(as);
}

static void same_start_line(const osip_message_t *e, const osip_message_t *a)
{
    assert_int_equal(sip_is_request(e), sip_is_request(a));
    if (sip_is_request(e)) {
        same_str("method", sip_method(e), sip_method(a));
        same_uri("Request-URI", e->req_uri, a->req_uri);
    } else {
        assert_int_equal(sip_status(e), sip_status(a));
    }
}

static void same_vias(const osip_message_t *e, const osip_message_t *a)
{
    char what[64];
    if (sip_via_count(e) != sip_via_count(a))
        fail_msg("Via count: expected %d, actual %d", sip_via_count(e), sip_via_count(a));
    for (int i = 0; i < sip_via_count(e); i++) {
        struct sip_via_info ve, va;
        assert_int_equal(sip_via_get(e, i, &ve), 0);
        assert_int_equal(sip_via_get(a, i, &va), 0);
        snprintf(what, sizeof what, "Via %d host", i);
        same_str(what, ve.host, va.host);
        snprintf(what, sizeof what, "Via %d branch", i);
        same_str(what, ve.branch, va.branch);
        snprintf(what, sizeof what, "Via %d received", i);
        same_str(what, ve.received, va.received);
        if (ve.port != va.port || ve.has_rport != va.has_rport || ve.rport != va.rport)
            fail_msg("Via %d port/rport: expected %u/%d/%u, actual %u/%d/%u", i, ve.port,
                     ve.has_rport, ve.rport, va.port, va.has_rport, va.rport);
    }
}

/* Record-Route and Route are lists of osip_record_route_t / osip_route_t
 * (both osip_from_t underneath). */
static void same_name_addr_list(const char *what, const osip_list_t *e, const osip_list_t *a)
{
    char label[64];
    if (osip_list_size(e) != osip_list_size(a))
        fail_msg("%s count: expected %d, actual %d", what, osip_list_size(e), osip_list_size(a));
    for (int i = 0; i < osip_list_size(e); i++) {
        char *es = NULL, *as = NULL;
        osip_from_to_str(osip_list_get(e, i), &es);
        osip_from_to_str(osip_list_get(a, i), &as);
        snprintf(label, sizeof label, "%s %d", what, i);
        same_str(label, es, as);
        osip_free(es);
        osip_free(as);
    }
}

static void same_from_to(const char *what, osip_from_t *e, osip_from_t *a)
{
    char *es = NULL, *as = NULL;
    if (e)
        osip_from_to_str(e, &es);
    if (a)
        osip_from_to_str(a, &as);
    same_str(what, es, as);
    osip_free(es);
    osip_free(as);
}

static void same_identity(const osip_message_t *e, const osip_message_t *a)
{
    char ce[256], ca[256];
    uint32_t ne, na;
    const char *me, *ma;
    same_from_to("From", e->from, a->from);
    same_from_to("To", e->to, a->to);
    assert_int_equal(sip_call_id(e, ce, sizeof ce), 0);
    assert_int_equal(sip_call_id(a, ca, sizeof ca), 0);
    same_str("Call-ID", ce, ca);
    assert_int_equal(sip_cseq(e, &ne, &me), 0);
    assert_int_equal(sip_cseq(a, &na, &ma), 0);
    assert_int_equal(ne, na);
    same_str("CSeq method", me, ma);
}

static void same_contact(const osip_message_t *e, const osip_message_t *a)
{
    char *ce = NULL, *ca = NULL;
    assert_int_equal(sip_contact_count(e), sip_contact_count(a));
    if (sip_contact_count(e) == 0)
        return;
    assert_int_equal(sip_contact_uri_text(e, &ce), 0);
    assert_int_equal(sip_contact_uri_text(a, &ca), 0);
    same_str("Contact", ce, ca);
    osip_free(ce);
    osip_free(ca);
}

static void same_generic_headers(const osip_message_t *e, const osip_message_t *a)
{
    static const char *const names[] = {
        "Max-Forwards", "Path",           "Expires",         "Allow", "Retry-After",
        "Supported",    "Pinhole-Source", "Pinhole-Sources", NULL};
    for (int i = 0; names[i]; i++)
        same_str(names[i], sip_header_get(e, names[i]), sip_header_get(a, names[i]));
}

static void same_body(const osip_message_t *e, const osip_message_t *a)
{
    const char *be = NULL, *ba = NULL;
    size_t le = 0, la = 0;
    int re = sip_body_get(e, &be, &le), ra = sip_body_get(a, &ba, &la);
    assert_int_equal(re, ra);
    if (re != 0)
        return;
    if (le != la || memcmp(be, ba, le) != 0)
        fail_msg("body differs:\n--- expected (%zu)\n%.*s\n--- actual (%zu)\n%.*s", le, (int)le, be,
                 la, (int)la, ba);
}

void golden_assert_equal(const osip_message_t *expected, const osip_message_t *actual)
{
    same_start_line(expected, actual);
    same_vias(expected, actual);
    same_name_addr_list("Record-Route", &expected->record_routes, &actual->record_routes);
    same_name_addr_list("Route", &expected->routes, &actual->routes);
    same_contact(expected, actual);
    same_identity(expected, actual);
    same_generic_headers(expected, actual);
    same_body(expected, actual);
}

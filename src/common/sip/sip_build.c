/* sip_build: responses, the ACK for a non-2xx final response, reason
 * phrases, branches and tags. */
#include "sip_internal.h"

#include <errno.h>
#include <string.h>

#define BRANCH_HEX 32 /* 128 random bits after the magic cookie */
#define TAG_HEX 16    /* 64 bits; RFC 3261 19.3 asks for at least 32 */
#define TAG_MAX 128

static const struct {
    int status;
    const char *phrase;
} phrases[] = {
    {100, "Trying"},
    {180, "Ringing"},
    {181, "Call Is Being Forwarded"},
    {182, "Queued"},
    {183, "Session Progress"},
    {200, "OK"},
    {202, "Accepted"},
    {300, "Multiple Choices"},
    {301, "Moved Permanently"},
    {302, "Moved Temporarily"},
    {305, "Use Proxy"},
    {380, "Alternative Service"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {402, "Payment Required"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {406, "Not Acceptable"},
    {407, "Proxy Authentication Required"},
    {408, "Request Timeout"},
    {410, "Gone"},
    {413, "Request Entity Too Large"},
    {414, "Request-URI Too Long"},
    {415, "Unsupported Media Type"},
    {416, "Unsupported URI Scheme"},
    {420, "Bad Extension"},
    {421, "Extension Required"},
    {423, "Interval Too Brief"},
    {480, "Temporarily Unavailable"},
    {481, "Call/Transaction Does Not Exist"},
    {482, "Loop Detected"},
    {483, "Too Many Hops"},
    {484, "Address Incomplete"},
    {485, "Ambiguous"},
    {486, "Busy Here"},
    {487, "Request Terminated"},
    {488, "Not Acceptable Here"},
    {491, "Request Pending"},
    {493, "Undecipherable"},
    {500, "Server Internal Error"},
    {501, "Not Implemented"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Server Time-out"},
    {505, "Version Not Supported"},
    {513, "Message Too Large"},
    {600, "Busy Everywhere"},
    {603, "Decline"},
    {604, "Does Not Exist Anywhere"},
    {606, "Not Acceptable"},
};

const char *sip_reason_phrase(int status)
{
    static const char *const by_class[] = {"Unknown",       "Provisional",  "Success",
                                           "Redirection",   "Client Error", "Server Error",
                                           "Global Failure"};
    for (size_t i = 0; i < sizeof phrases / sizeof phrases[0]; i++)
        if (phrases[i].status == status)
            return phrases[i].phrase;
    return (status >= 100 && status <= 699) ? by_class[status / 100] : by_class[0];
}

void sip_branch_new(char *buf, size_t len)
{
    size_t magic = strlen(SIP_BRANCH_MAGIC);
    if (len == 0)
        return;
    if (len <= magic) {
        buf[0] = '\0'; /* no room for a branch worth the name */
        return;
    }
    memcpy(buf, SIP_BRANCH_MAGIC, magic);
    size_t n = len - 1 - magic;
    sip_random_hex(buf + magic, n < BRANCH_HEX ? n : BRANCH_HEX);
}

void sip_tag_new(char *buf, size_t len)
{
    if (len == 0)
        return;
    sip_random_hex(buf, len - 1 < TAG_HEX ? len - 1 : TAG_HEX);
}

static void via_free(void *p)
{
    osip_via_free(p);
}

static bool has_dialog_headers(const osip_message_t *m)
{
    return m && m->from && m->to && m->call_id && m->cseq && m->cseq->number &&
           osip_list_size(&m->vias) > 0;
}

static int copy_vias(osip_message_t *dst, const osip_message_t *src, int how_many)
{
    osip_via_t *v;
    for (int i = 0; i < how_many && (v = osip_list_get(&src->vias, i)) != NULL; i++) {
        osip_via_t *c;
        if (osip_via_clone(v, &c) != 0)
            return -ENOMEM;
        if (osip_list_add(&dst->vias, c, -1) < 0) {
            via_free(c);
            return -ENOMEM;
        }
    }
    return 0;
}

static int start_message(osip_message_t **out)
{
    if (osip_message_init(out) != 0)
        return -ENOMEM;
    (*out)->sip_version = osip_strdup("SIP/2.0");
    return (*out)->sip_version ? 0 : -ENOMEM;
}

static int add_to_tag(osip_message_t *r, const char *to_tag)
{
    char fresh[SIP_TAG_LEN];
    if (sip_param_get(&r->to->gen_params, "tag", NULL))
        return 0;
    if (!to_tag) {
        sip_tag_new(fresh, sizeof fresh);
        to_tag = fresh;
    }
    return sip_param_set(&r->to->gen_params, "tag", to_tag);
}

/* Copies From, To, Call-ID and CSeq, each only when the request has it: a
 * 400 for a request missing one of them still carries the others. */
static int copy_identity(osip_message_t *r, const osip_message_t *req)
{
    if ((req->from && osip_from_clone(req->from, &r->from) != 0) ||
        (req->to && osip_to_clone(req->to, &r->to) != 0) ||
        (req->call_id && osip_call_id_clone(req->call_id, &r->call_id) != 0) ||
        (req->cseq && osip_cseq_clone(req->cseq, &r->cseq) != 0))
        return -ENOMEM;
    return 0;
}

static int fill_response(osip_message_t *r, const osip_message_t *req, int status,
                         const char *to_tag)
{
    r->status_code = status;
    r->reason_phrase = osip_strdup(sip_reason_phrase(status));
    if (!r->reason_phrase || copy_vias(r, req, osip_list_size(&req->vias)) != 0 ||
        copy_identity(r, req) != 0)
        return -ENOMEM;
    /* RFC 3261 8.2.6.2: a To tag on every response but 100 */
    if (status > 100 && r->to && add_to_tag(r, to_tag) != 0)
        return -ENOMEM;
    return osip_message_set_content_length(r, "0") == 0 ? 0 : -ENOMEM;
}

int sip_method_set(osip_message_t *m, const char *method)
{
    if (!m || !m->sip_method || !m->cseq || !method || !sip_is_token(method))
        return -EINVAL;
    char *a = osip_strdup(method), *b = osip_strdup(method);
    if (!a || !b) {
        osip_free(a);
        osip_free(b);
        return -ENOMEM;
    }
    osip_free(m->sip_method);
    m->sip_method = a;
    osip_free(m->cseq->method);
    m->cseq->method = b;
    return 0;
}

int sip_status_set(osip_message_t *m, int status)
{
    if (!m || m->sip_method || status < 100 || status > 699)
        return -EINVAL;
    char *phrase = osip_strdup(sip_reason_phrase(status));
    if (!phrase)
        return -ENOMEM;
    osip_free(m->reason_phrase);
    m->reason_phrase = phrase;
    m->status_code = status;
    return 0;
}

int sip_response_new(osip_message_t **out, const osip_message_t *req, int status,
                     const char *to_tag)
{
    osip_message_t *r = NULL;

    *out = NULL;
    if (!sip_is_request(req) || osip_list_size(&req->vias) == 0 || status < 100 || status > 699)
        return -EINVAL;
    /* Only a 400 may go out without the full identity of the request. */
    if (!has_dialog_headers(req) && status != 400)
        return -EINVAL;
    if (to_tag && (!sip_is_token(to_tag) || strlen(to_tag) > TAG_MAX))
        return -EINVAL;
    int rc = start_message(&r);
    if (rc == 0)
        rc = fill_response(r, req, status, to_tag);
    if (rc != 0) {
        sip_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

static int copy_routes(osip_message_t *dst, const osip_message_t *src)
{
    osip_route_t *r;
    for (int i = 0; (r = osip_list_get(&src->routes, i)) != NULL; i++) {
        osip_route_t *c;
        if (osip_route_clone(r, &c) != 0)
            return -ENOMEM;
        if (osip_list_add(&dst->routes, c, -1) < 0) {
            osip_route_free(c);
            return -ENOMEM;
        }
    }
    return 0;
}

/* RFC 3261 17.1.1.3: Request-URI, Call-ID, From, CSeq number and Route of
 * the INVITE, its top Via only, the To of the response. */
static int fill_ack(osip_message_t *a, const osip_message_t *req, const osip_message_t *resp)
{
    a->sip_method = osip_strdup("ACK");
    if (!a->sip_method || osip_uri_clone(req->req_uri, &a->req_uri) != 0 ||
        copy_vias(a, req, 1) != 0 || osip_from_clone(req->from, &a->from) != 0 ||
        osip_to_clone(resp->to, &a->to) != 0 ||
        osip_call_id_clone(req->call_id, &a->call_id) != 0 || copy_routes(a, req) != 0 ||
        osip_cseq_init(&a->cseq) != 0)
        return -ENOMEM;
    a->cseq->number = osip_strdup(req->cseq->number);
    a->cseq->method = osip_strdup("ACK");
    if (!a->cseq->number || !a->cseq->method ||
        osip_message_set_header(a, "Max-Forwards", "70") != 0)
        return -ENOMEM;
    return osip_message_set_content_length(a, "0") == 0 ? 0 : -ENOMEM;
}

int sip_ack_for(osip_message_t **out, const osip_message_t *req, const osip_message_t *resp)
{
    osip_message_t *a = NULL;

    *out = NULL;
    if (!sip_method_is(req, "INVITE") || !has_dialog_headers(req) || !req->req_uri || !resp ||
        sip_is_request(resp) || resp->status_code < 300 || resp->status_code > 699 || !resp->to)
        return -EINVAL;
    int rc = start_message(&a);
    if (rc == 0)
        rc = fill_ack(a, req, resp);
    if (rc != 0) {
        sip_free(a);
        return rc;
    }
    *out = a;
    return 0;
}

/* RFC 3261 9.1: the Request-URI, Call-ID, To, From, Route and CSeq number
 * of the INVITE, its top Via only (same branch, so the next hop matches it
 * to the INVITE's transaction), method CANCEL. */
static int fill_cancel(osip_message_t *c, const osip_message_t *inv)
{
    c->sip_method = osip_strdup("CANCEL");
    if (!c->sip_method || osip_uri_clone(inv->req_uri, &c->req_uri) != 0 ||
        copy_vias(c, inv, 1) != 0 || osip_from_clone(inv->from, &c->from) != 0 ||
        osip_to_clone(inv->to, &c->to) != 0 || osip_call_id_clone(inv->call_id, &c->call_id) != 0 ||
        copy_routes(c, inv) != 0 || osip_cseq_init(&c->cseq) != 0)
        return -ENOMEM;
    c->cseq->number = osip_strdup(inv->cseq->number);
    c->cseq->method = osip_strdup("CANCEL");
    if (!c->cseq->number || !c->cseq->method ||
        osip_message_set_header(c, "Max-Forwards", "70") != 0)
        return -ENOMEM;
    return osip_message_set_content_length(c, "0") == 0 ? 0 : -ENOMEM;
}

int sip_cancel_for(osip_message_t **out, const osip_message_t *inv)
{
    osip_message_t *c = NULL;

    *out = NULL;
    if (!inv || !sip_method_is(inv, "INVITE") || !has_dialog_headers(inv) || !inv->req_uri ||
        osip_list_size(&inv->vias) < 1)
        return -EINVAL;
    int rc = start_message(&c);
    if (rc == 0)
        rc = fill_cancel(c, inv);
    if (rc != 0) {
        sip_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

/* sip_read: start line, Call-ID, CSeq, tags and users of a parsed message. */
#include "sip_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

bool sip_is_request(const osip_message_t *m)
{
    return m && m->sip_method != NULL;
}

const char *sip_method(const osip_message_t *m)
{
    return m ? m->sip_method : NULL;
}

int sip_status(const osip_message_t *m)
{
    return (m && !m->sip_method) ? m->status_code : 0;
}

/* RFC 3261 7.1: methods are case-sensitive. */
bool sip_method_is(const osip_message_t *m, const char *method)
{
    return m && m->sip_method && method && strcmp(m->sip_method, method) == 0;
}

int sip_call_id(const osip_message_t *m, char *buf, size_t len)
{
    const osip_call_id_t *c = m ? m->call_id : NULL;
    int n;

    if (!c || !c->number)
        return -ENOENT;
    if (c->host)
        n = snprintf(buf, len, "%s@%s", c->number, c->host);
    else
        n = snprintf(buf, len, "%s", c->number);
    return (n < 0 || (size_t)n >= len) ? -ENOSPC : 0;
}

int sip_cseq(const osip_message_t *m, uint32_t *num, const char **method)
{
    unsigned long n;

    if (!m || !m->cseq || !m->cseq->method ||
        sip_parse_ulong(m->cseq->number, 2147483647UL, &n) != 0)
        return -ENOENT;
    if (num)
        *num = (uint32_t)n;
    if (method)
        *method = m->cseq->method;
    return 0;
}

static const char *tag_of(const osip_from_t *f)
{
    return f ? sip_param_get(&f->gen_params, "tag", NULL) : NULL;
}

const char *sip_to_tag(const osip_message_t *m)
{
    return m ? tag_of(m->to) : NULL;
}

const char *sip_from_tag(const osip_message_t *m)
{
    return m ? tag_of(m->from) : NULL;
}

const char *sip_to_user(const osip_message_t *m)
{
    return (m && m->to && m->to->url) ? m->to->url->username : NULL;
}

const char *sip_from_user(const osip_message_t *m)
{
    return (m && m->from && m->from->url) ? m->from->url->username : NULL;
}

const char *sip_request_uri_user(const osip_message_t *m)
{
    return (m && m->req_uri) ? m->req_uri->username : NULL;
}

bool sip_request_uri_is_sip(const osip_message_t *m)
{
    const char *s = (m && m->req_uri) ? m->req_uri->scheme : NULL;
    return s && (strcasecmp(s, "sip") == 0 || strcasecmp(s, "sips") == 0);
}

/* sip_body: the message body and its Content-Type / Content-Length. */
#include "sip_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void body_free(void *p)
{
    osip_body_free(p);
}

int sip_body_get(const osip_message_t *m, const char **body, size_t *len)
{
    const osip_body_t *b = m ? osip_list_get(&m->bodies, 0) : NULL;
    *body = NULL;
    *len = 0;
    if (!b || !b->body)
        return -ENOENT;
    *body = b->body;
    *len = b->length;
    return 0;
}

/* Keeps the Content-Length field in step with the body for anyone reading
 * it; osip itself recomputes the header when serializing. */
static int set_content_length(osip_message_t *m, size_t len)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%zu", len);
    if (m->content_length)
        return sip_replace_str(&m->content_length->value, buf);
    return osip_message_set_content_length(m, buf) == 0 ? 0 : -ENOMEM;
}

/* A multipart Content-Type may sit in the generic list (see below). */
static void drop_generic_content_type(osip_message_t *m)
{
    osip_header_t *h;
    int pos = 0;
    while ((h = osip_list_get(&m->headers, pos)) != NULL) {
        if (h->hname &&
            (strcasecmp(h->hname, "content-type") == 0 || strcasecmp(h->hname, "c") == 0)) {
            osip_list_remove(&m->headers, pos);
            osip_header_free(h);
        } else {
            pos++;
        }
    }
}

static void drop_body(osip_message_t *m)
{
    sip_list_clear(&m->bodies, body_free);
    if (m->content_type)
        osip_content_type_free(m->content_type);
    m->content_type = NULL;
    drop_generic_content_type(m);
}

/* With a multipart Content-Type in its dedicated field, osip wraps each
 * body in boundaries of its own when serializing (and splits it when
 * parsing). Kept as generic headers, Content-Type and MIME-Version are
 * printed as they came and the body goes out byte for byte. */
static int multipart_to_generic(osip_message_t *m)
{
    osip_content_type_t *ct = m->content_type;
    char *text = NULL;

    if (!ct || !ct->type || strcasecmp(ct->type, "multipart") != 0)
        return 0;
    if (osip_content_type_to_str(ct, &text) != 0 ||
        osip_message_set_header(m, "Content-Type", text) != 0) {
        osip_free(text);
        return -ENOMEM;
    }
    osip_free(text);
    osip_content_type_free(ct);
    m->content_type = NULL;
    return 0;
}

static int mime_version_to_generic(osip_message_t *m)
{
    if (!m->mime_version)
        return 0;
    const char *v = m->mime_version->value ? m->mime_version->value : "1.0";
    if (osip_message_set_header(m, "MIME-Version", v) != 0)
        return -ENOMEM;
    osip_mime_version_free(m->mime_version);
    m->mime_version = NULL;
    return 0;
}

int sip_body_attach(osip_message_t *m, const char *body, size_t len)
{
    int rc = mime_version_to_generic(m);
    if (rc == 0)
        rc = multipart_to_generic(m);
    if (rc != 0)
        return rc;
    sip_list_clear(&m->bodies, body_free);
    if (len > 0 && osip_message_set_body(m, body, len) != 0)
        return -ENOMEM;
    return set_content_length(m, len);
}

int sip_body_set(osip_message_t *m, const char *body, size_t len, const char *content_type)
{
    if (!m || len > SIP_MAX_MESSAGE || (len > 0 && (!body || !content_type)))
        return -EINVAL;
    if (len > 0 && strpbrk(content_type, "\r\n"))
        return -EINVAL;
    drop_body(m);
    if (len > 0 && osip_message_set_content_type(m, content_type) != 0) {
        drop_body(m);
        return -EINVAL;
    }
    int rc = sip_body_attach(m, body, len);
    if (rc != 0)
        drop_body(m);
    return rc;
}

bool sip_body_is_sdp(const osip_message_t *m)
{
    const osip_content_type_t *ct = m ? m->content_type : NULL;
    return ct && ct->type && ct->subtype && strcasecmp(ct->type, "application") == 0 &&
           strcasecmp(ct->subtype, "sdp") == 0;
}

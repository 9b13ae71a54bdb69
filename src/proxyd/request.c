/* request: template, snprintf, sip_parse. */
#include "request.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define REQUEST_TEXT_MAX 2048

static bool uri_ok(const char *uri)
{
    if (!uri || strncmp(uri, "sip:", 4) != 0 || strnlen(uri, REQUEST_URI_MAX + 1) > REQUEST_URI_MAX)
        return false;
    return strpbrk(uri, "<>\"\r\n \t") == NULL;
}

int request_new(osip_message_t **out, const struct request_spec *spec, const struct addr *self)
{
    char text[REQUEST_TEXT_MAX], tag[SIP_TAG_LEN], callid[SIP_TAG_LEN], host[ADDR_STRLEN];
    char branch[SIP_BRANCH_LEN];
    const char *from = spec->from_uri ? spec->from_uri : spec->to_uri;
    struct sip_parse_result res;
    osip_message_t *m = NULL;
    int n, err;

    *out = NULL;
    if (!spec->method || !uri_ok(spec->uri) || !uri_ok(spec->to_uri) || !uri_ok(from))
        return -EINVAL;
    sip_tag_new(tag, sizeof tag);
    sip_tag_new(callid, sizeof callid);
    sip_branch_new(branch, sizeof branch);
    addr_host_sip(self, host, sizeof host);
    n = snprintf(text, sizeof text,
                 "%s %s SIP/2.0\r\n"
                 "Via: SIP/2.0/UDP %s:%u;branch=%s;rport\r\n"
                 "Max-Forwards: 70\r\n"
                 "From: <%s>;tag=%s\r\n"
                 "To: <%s>\r\n"
                 "Call-ID: %s@%s\r\n"
                 "CSeq: 1 %s\r\n"
                 "%s"
                 "Content-Length: 0\r\n\r\n",
                 spec->method, spec->uri, host, addr_port(self), branch, from, tag, spec->to_uri,
                 callid, host, spec->method, spec->extra ? spec->extra : "");
    if (n < 0 || (size_t)n >= sizeof text)
        return -ENOSPC;
    err = sip_parse(&m, text, (size_t)n, &res);
    if (err) {
        sip_free(m);
        return err == -ENOMEM ? err : -EINVAL;
    }
    *out = m;
    return 0;
}

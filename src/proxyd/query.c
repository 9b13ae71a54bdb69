/* query: clone, re-target, our hop. */
#include "query.h"

int query_build(osip_message_t **out, const osip_message_t *req, const struct addr *server,
                const struct addr *self)
{
    osip_message_t *q = NULL;

    *out = NULL;
    int err = sip_clone(req, &q);
    if (err)
        return err;
    err = sip_request_uri_set(q, server);
    if (!err) /* our own one-hop request: the caller's hop budget is not its */
        err = sip_header_set(q, "Max-Forwards", QUERY_MAX_FORWARDS);
    if (!err)
        err = sip_via_push(q, self, NULL, NULL, 0);
    if (err) {
        sip_free(q);
        return err;
    }
    *out = q;
    return 0;
}

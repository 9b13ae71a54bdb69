/* relay_check: the Accept check of a relay INVITE. */
#include "relay_check.h"

#include <strings.h>

static bool is(const char *s, const char *want)
{
    return s && strcasecmp(s, want) == 0;
}

bool relay_check_accepts_sdp(const osip_message_t *req)
{
    int n = 0;
    for (int pos = 0;; pos++) {
        osip_accept_t *a = NULL;
        if (osip_message_get_accept(req, pos, &a) < 0 || !a)
            break;
        n++;
        bool any_type = is(a->type, "*") && is(a->subtype, "*");
        bool app = is(a->type, "application") && (is(a->subtype, "sdp") || is(a->subtype, "*"));
        if (any_type || app)
            return true;
    }
    return n == 0;
}

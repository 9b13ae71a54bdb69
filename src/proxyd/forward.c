/* forward: the copy every routed request starts from. */
#include "forward.h"

#include <errno.h>
#include <string.h>

#include "nat_table.h"

static void pop_our_route(const struct proxy_env *env, osip_message_t *copy)
{
    if (sip_route_pop_self(copy, &env->cfg->advertise) != 1)
        (void)sip_route_pop_self(copy, &env->cfg->listen);
}

int forward_copy(const struct proxy_env *env, const osip_message_t *req, const struct addr *src,
                 bool nated, osip_message_t **out)
{
    osip_message_t *copy = NULL;

    *out = NULL;
    int err = sip_clone(req, &copy);
    if (err)
        return err;
    pop_our_route(env, copy);
    if (env->cfg->auth.realm) /* RFC 3261 §22.3: ours to consume, not to pass on */
        sip_credentials_remove(copy, true, env->cfg->auth.realm);
    int mf = sip_max_forwards_decrement(copy);
    err = mf < 0 ? mf : 0;
    if (!err && nated && sip_contact_count(copy) > 0) {
        err = sip_contact_set(copy, src);
        if (err && err != -ENOMEM)
            err = -EINVAL; /* "*" or no SIP URI: nothing a NATed phone can be reached on */
    }
    if (err) {
        sip_free(copy);
        return err == -ELOOP || err == -ENOMEM ? err : -EINVAL;
    }
    *out = copy;
    return 0;
}

int forward_target_check(const osip_message_t *req, char *call_id, size_t len)
{
    const char *user = sip_request_uri_user(req);
    if (!sip_request_uri_is_sip(req))
        return 416;
    if (sip_call_id(req, call_id, len) != 0)
        return 400;
    if (!user || !*user || strnlen(user, NAT_AOR_MAX + 1) > NAT_AOR_MAX)
        return 404;
    return 0;
}

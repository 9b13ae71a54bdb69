/* proxy_env: the shared pieces and the checks every module makes. */
#include "proxy_env.h"

#include <errno.h>
#include <string.h>

#include "nat_table.h"

#define DEFAULT_T1_MS 500
#define DEFAULT_TXN_MAX_MS 180000

int proxy_env_open(struct proxy_env *env, struct loop *l, const struct proxyd_conf *cfg,
                   const struct txn_timers *timers)
{
    memset(env, 0, sizeof *env);
    env->loop = l;
    env->cfg = cfg;
    env->t1_ms = timers && timers->t1_ms ? timers->t1_ms : DEFAULT_T1_MS;
    env->txn_max_ms = timers && timers->server_max_ms ? timers->server_max_ms : DEFAULT_TXN_MAX_MS;
    int err = dialog_mark_init(&env->mark, cfg->auth.secret);
    if (!err)
        err = txn_layer_new(&env->txn, l, timers);
    if (!err)
        err = nat_table_new(&env->nat, l);
    if (err) {
        txn_layer_free(env->txn);
        env->txn = NULL;
    }
    return err;
}

void proxy_env_close(struct proxy_env *env)
{
    txn_layer_free(env->txn);
    nat_table_free(env->nat);
    env->txn = NULL;
    env->nat = NULL;
    env->closing = true;
}

bool proxy_env_is_us(const struct proxy_env *env, const struct addr *a, const struct transport *tp)
{
    return addr_equal(a, &env->cfg->advertise) || addr_equal(a, &env->cfg->listen) ||
           (tp && addr_equal(a, &tp->local));
}

bool proxy_env_trusted(const struct proxy_env *env, const struct addr *src)
{
    return addr_equal(src, &env->cfg->redirect) || addr_list_match(&env->cfg->relays, src);
}

bool proxy_env_exempt(const struct proxy_env *env, const struct addr *src)
{
    return proxy_env_trusted(env, src) || addr_list_match(&env->cfg->peers, src);
}

bool proxy_env_addressed_to_us(const struct proxy_env *env, const osip_message_t *req,
                               const struct transport *tp)
{
    struct addr a;
    if (sip_request_uri_user(req) || sip_request_uri_addr(req, &a) != 0)
        return false;
    return proxy_env_is_us(env, &a, tp);
}

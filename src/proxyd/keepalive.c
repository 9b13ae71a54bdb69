/* keepalive: a fixed tick walking the NAT client table's ring. */
#include "keepalive.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nat_table.h"
#include "pinhole/dlist.h"
#include "pinhole/log.h"
#include "request.h"

/* One OPTIONS keepalive waiting for its answer. */
struct probe {
    struct keepalive *ka;
    struct dlist link; /* in ka->probes */
    uint32_t id;       /* the table entry it was sent for */
    struct addr nat;   /* that entry's NAT address: which of the AOR's phones */
    char aor[NAT_AOR_MAX + 1];
};

struct keepalive {
    struct proxy_env *env;
    struct timer *timer; /* NULL when the caller drives keepalive_tick */
    uint64_t credit;     /* client·ms owed: one ping per interval_ms of it */
    struct dlist probes;
    keepalive_dropped_cb on_dropped;
    void *arg;
};

static void on_tick(struct timer *t, void *arg)
{
    (void)t;
    keepalive_tick(arg);
}

int keepalive_new(struct keepalive **out, struct proxy_env *env, bool run_timer,
                  keepalive_dropped_cb on_dropped, void *arg)
{
    struct keepalive *ka = calloc(1, sizeof *ka);
    if (!ka)
        return -ENOMEM;
    ka->env = env;
    ka->on_dropped = on_dropped;
    ka->arg = arg;
    dlist_init(&ka->probes);
    if (run_timer && timer_new(&ka->timer, env->loop, on_tick, ka) != 0) {
        free(ka);
        return -ENOMEM;
    }
    keepalive_reconfigure(ka);
    *out = ka;
    return 0;
}

static void probe_free(struct probe *pr)
{
    dlist_remove(&pr->link);
    free(pr);
}

void keepalive_free(struct keepalive *ka)
{
    if (!ka)
        return;
    /* the transactions are gone (proxy_env_close first): nothing to detach */
    while (!dlist_empty(&ka->probes))
        probe_free(dlist_entry(ka->probes.next, struct probe, link));
    timer_free(ka->timer);
    free(ka);
}

void keepalive_reconfigure(struct keepalive *ka)
{
    if (!ka->timer)
        return;
    if (ka->env->cfg->nat.keepalive_interval <= 0)
        timer_stop(ka->timer);
    else if (!timer_pending(ka->timer))
        timer_start_periodic(ka->timer, KEEPALIVE_TICK_MS);
}

/* KEEPALIVE_MAX_MISSES in a row: the NAT binding (or the phone) is gone. */
static void drop_client(struct keepalive *ka, const char *aor, const struct addr *nat)
{
    struct nat_binding b;
    char who[ADDR_STRLEN];
    if (nat_table_lookup_at(ka->env->nat, aor, nat, &b) != 0)
        return;
    nat_table_remove_at(ka->env->nat, aor, nat);
    ka->env->stats.nat_clients_dropped++;
    log_notice("keepalive: %s at %s stopped answering, dropped", aor,
               addr_format(&b.nat, who, sizeof who));
    if (ka->on_dropped)
        ka->on_dropped(ka->arg, aor, &b);
}

static void on_options_answer(struct txn_client *ct, osip_message_t *resp, const struct addr *src,
                              void *arg)
{
    struct probe *pr = arg;
    struct keepalive *ka = pr->ka;
    (void)ct;
    (void)src;

    if (resp && sip_status(resp) < 200)
        return;
    /* Any final answer, 405 included, shows the path through the NAT works. */
    bool answered = resp != NULL;
    if (!answered)
        ka->env->stats.keepalive_failures++;
    int missed = nat_table_keepalive_result(ka->env->nat, pr->aor, pr->id, answered);
    if (missed >= KEEPALIVE_MAX_MISSES)
        drop_client(ka, pr->aor, &pr->nat);
    probe_free(pr);
}

static int send_options(struct keepalive *ka, const char *aor, const struct nat_binding *b)
{
    const struct proxyd_conf *cfg = ka->env->cfg;
    char uri[REQUEST_URI_MAX], from[REQUEST_URI_MAX], host[ADDR_STRLEN];
    osip_message_t *m = NULL;
    int n, err;

    n = snprintf(uri, sizeof uri, "sip:%s@%s:%u", aor, addr_host_sip(&b->nat, host, sizeof host),
                 addr_port(&b->nat));
    if (n < 0 || (size_t)n >= sizeof uri)
        return -ENOSPC;
    snprintf(from, sizeof from, "sip:%s:%u", addr_host_sip(&cfg->advertise, host, sizeof host),
             addr_port(&cfg->advertise));
    struct request_spec spec = {.method = "OPTIONS", .uri = uri, .to_uri = uri, .from_uri = from};
    err = request_new(&m, &spec, &cfg->advertise);
    if (err)
        return err;
    struct probe *pr = calloc(1, sizeof *pr);
    if (!pr) {
        sip_free(m);
        return -ENOMEM;
    }
    pr->ka = ka;
    pr->id = b->id;
    memcpy(pr->aor, aor, strlen(aor) + 1);
    pr->nat = b->nat;
    dlist_push(&ka->probes, &pr->link);
    err = txn_client_send(ka->env->txn, m, &b->nat, &b->tp, on_options_answer, pr, NULL);
    if (err)
        probe_free(pr);
    return err;
}

static void ping(struct keepalive *ka, const char *aor, const struct nat_binding *b)
{
    int err;
    if (ka->env->cfg->nat.keepalive == KEEPALIVE_OPTIONS)
        err = send_options(ka, aor, b);
    else
        err = transport_send(&b->tp, &b->nat, "\r\n", 2);
    if (err) {
        char who[ADDR_STRLEN];
        log_debug("keepalive: to %s at %s: error %d", aor, addr_format(&b->nat, who, sizeof who),
                  err);
        return;
    }
    ka->env->stats.keepalives_sent++;
}

void keepalive_tick(struct keepalive *ka)
{
    uint64_t interval_ms = (uint64_t)ka->env->cfg->nat.keepalive_interval * 1000;
    size_t n = nat_table_count(ka->env->nat);
    if (interval_ms == 0 || n == 0) {
        ka->credit = 0;
        return;
    }
    /* Each client is owed one ping per interval: n·tick/interval per tick,
     * the remainder carried so the rate is exact over time. */
    ka->credit += (uint64_t)n * KEEPALIVE_TICK_MS;
    uint64_t due = ka->credit / interval_ms;
    ka->credit %= interval_ms;
    if (due > n)
        due = n;
    for (uint64_t i = 0; i < due; i++) {
        const char *aor;
        struct nat_binding b;
        if (nat_table_next(ka->env->nat, &aor, &b) != 0)
            break;
        ping(ka, aor, &b);
    }
}

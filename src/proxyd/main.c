/* proxyd: entry point. The NAT-aware SIP proxy (patent: proxy server 11/13);
 * everything it does starts in proxy.c. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#include "pinhole/daemon.h"
#include "pinhole/sip.h"
#include "proxy.h"
#include "proxy_metrics.h"
#include "proxyd_conf.h"

/* The proxy and, beside it, its `stats` endpoint. */
struct proxyd {
    struct proxy *p;
    struct proxy_metrics *metrics;
};

static void proxyd_stop(void *state)
{
    struct proxyd *d = state;
    if (!d)
        return;
    proxy_metrics_free(d->metrics);
    proxy_free(d->p);
    free(d);
}

static int proxyd_start(struct loop *l, const void *cfg, void **state)
{
    const struct proxyd_conf *c = cfg;
    struct proxyd *d = calloc(1, sizeof *d);
    int err;

    if (!d)
        return -ENOMEM;
    err = sip_init();
    if (!err)
        err = proxy_open(&d->p, l, c);
    if (!err) {
        const struct proxy_metrics_src src = {.env = proxy_env(d->p),
                                              .msg = proxy_messaging(d->p),
                                              .flood = proxy_flood(d->p),
                                              .auth = proxy_auth_slot(d->p)};
        err = proxy_metrics_new(&d->metrics, l, &src, &c->stats);
    }
    if (err) {
        proxyd_stop(d);
        return err;
    }
    *state = d;
    return 0;
}

/* SIGHUP: see proxy_reload. The stats address moves first, so that one
 * that cannot be bound refuses the reload before anything changed; a
 * reload the proxy refuses moves it back. */
static int proxyd_reload(void *state, const void *new_cfg, const void *old_cfg)
{
    struct proxyd *d = state;
    const struct proxyd_conf *n = new_cfg, *o = old_cfg;
    int err = proxy_metrics_listen(d->metrics, &n->stats);

    if (err)
        return err;
    err = proxy_reload(d->p, n);
    if (err)
        proxy_metrics_listen(d->metrics, &o->stats);
    return err;
}

static int proxyd_drain(void *state)
{
    struct proxyd *d = state;
    return proxy_drain(d->p);
}

static const struct daemon_ops ops = {
    .name = "proxyd",
    .keys = proxyd_conf_keys,
    .cfg_size = sizeof(struct proxyd_conf),
    .finish_config = proxyd_conf_finish,
    .start = proxyd_start,
    .reload = proxyd_reload,
    .drain = proxyd_drain,
    .stop = proxyd_stop,
    .log_level_offset = offsetof(struct proxyd_conf, log_level),
};

int main(int argc, char **argv)
{
    struct daemon_ops o = ops;
    o.nkeys = proxyd_conf_nkeys; /* not a constant expression in ops */
    return daemon_main(argc, argv, &o);
}

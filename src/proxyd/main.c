/* proxyd: entry point. The NAT-aware SIP proxy (patent: proxy server 11/13);
 * everything it does starts in proxy.c. */
#include <stddef.h>

#include "pinhole/daemon.h"
#include "pinhole/sip.h"
#include "proxy.h"
#include "proxyd_conf.h"

static int proxyd_start(struct loop *l, const void *cfg, void **state)
{
    struct proxy *p = NULL;
    int err = sip_init();
    if (err)
        return err;
    err = proxy_open(&p, l, cfg);
    if (err)
        return err;
    *state = p;
    return 0;
}

static int proxyd_reload(void *state, const void *new_cfg, const void *old_cfg)
{
    (void)old_cfg;
    return proxy_reload(state, new_cfg);
}

static int proxyd_drain(void *state)
{
    return proxy_drain(state);
}

static void proxyd_stop(void *state)
{
    proxy_free(state);
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

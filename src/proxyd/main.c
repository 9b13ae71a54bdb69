/* proxyd: entry point. Behaviour lands with its issue; for now it loads and
 * validates its config, binds its SIP socket and runs the loop. */
#include <stdlib.h>

#include "pinhole/daemon.h"
#include "pinhole/log.h"
#include "proxyd_conf.h"

struct proxyd {
    struct udp_sock *sip;
};

static void on_datagram(struct udp_sock *s, const struct addr *from, char *buf, size_t len,
                        void *arg)
{
    char who[ADDR_STRLEN];
    (void)s;
    (void)buf;
    (void)arg;
    log_debug("%zu bytes from %s (not handled yet)", len, addr_format(from, who, sizeof who));
}

static int proxyd_start(struct loop *l, const void *cfg, void **state)
{
    const struct proxyd_conf *c = cfg;
    struct proxyd *d = calloc(1, sizeof *d);
    char where[ADDR_STRLEN];
    int err;

    if (!d)
        return -1;
    err = udp_sock_open(&d->sip, l, &c->listen, on_datagram, d);
    if (err) {
        log_error("cannot bind %s: error %d", addr_format(&c->listen, where, sizeof where), err);
        free(d);
        return err;
    }
    log_notice("listening on %s", addr_format(udp_sock_local(d->sip), where, sizeof where));
    *state = d;
    return 0;
}

static void proxyd_stop(void *state)
{
    struct proxyd *d = state;
    udp_sock_close(d->sip);
    free(d);
}

static const struct daemon_ops ops = {
    .name = "proxyd",
    .keys = proxyd_conf_keys,
    .cfg_size = sizeof(struct proxyd_conf),
    .finish_config = proxyd_conf_finish,
    .start = proxyd_start,
    .stop = proxyd_stop,
    .log_level_offset = offsetof(struct proxyd_conf, log_level),
};

int main(int argc, char **argv)
{
    struct daemon_ops o = ops;
    o.nkeys = proxyd_conf_nkeys;
    return daemon_main(argc, argv, &o);
}

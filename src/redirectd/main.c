/* redirectd: the location service (patent: redirect server 20 with its
 * client table 104). This file wires the daemon skeleton (daemon.h) to the
 * SIP socket and the redirector; the behaviour lives in redirector.c and
 * the modules it calls. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "pinhole/daemon.h"
#include "pinhole/log.h"
#include "pinhole/sip.h"
#include "rd_metrics.h"
#include "rd_stats.h"
#include "redirectd_conf.h"
#include "redirector.h"

struct redirectd {
    struct udp_sock *sip;
    struct transport tp;
    struct redirector *r;
    struct rd_metrics *metrics; /* the `stats` address */
};

static void on_datagram(struct udp_sock *s, const struct addr *from, char *buf, size_t len,
                        void *arg)
{
    struct redirectd *d = arg;
    (void)s;
    redirector_receive(d->r, from, buf, len);
}

/* SIGUSR1: the counters to the log (also served on `stats`). */
static void on_usr1(int signo, void *arg)
{
    struct redirectd *d = arg;
    char line[RD_STATS_LINE_MAX];
    (void)signo;
    rd_stats_format(d->r, line, sizeof line);
    log_notice("stats: %s", line);
}

static void redirectd_stop(void *state)
{
    struct redirectd *d = state;
    if (!d)
        return;
    rd_metrics_free(d->metrics);
    redirector_free(d->r);
    udp_sock_close(d->sip);
    free(d);
}

static int redirectd_start(struct loop *l, const void *cfg, void **state)
{
    const struct redirectd_conf *c = cfg;
    struct redirectd *d = calloc(1, sizeof *d);
    char where[ADDR_STRLEN];
    int err;

    if (!d)
        return -ENOMEM;
    err = sip_init();
    if (err)
        goto out;
    /* the stored bindings first (issue #17): the socket opens on a table
     * that already answers for every phone registered before the restart */
    err = redirector_new(&d->r, l, c, &d->tp, NULL);
    if (err)
        goto out;
    err = udp_sock_open(&d->sip, l, &c->listen, on_datagram, d);
    if (err) {
        log_error("cannot bind %s: error %d", addr_format(&c->listen, where, sizeof where), err);
        goto out;
    }
    udp_sock_transport(d->sip, &d->tp);
    err = loop_on_signal(l, SIGUSR1, on_usr1, d);
    if (err)
        goto out;
    err = rd_metrics_new(&d->metrics, l, d->r, d->sip, &c->stats);
    if (err)
        goto out;
    log_notice("listening on %s, %zu proxies trusted",
               addr_format(udp_sock_local(d->sip), where, sizeof where), c->proxies.n);
    *state = d;
    return 0;
out:
    redirectd_stop(d);
    return err;
}

/* SIGHUP: proxies, expiry bounds, the stats address and log level apply at
 * once (log level by daemon.c); bindings stay. The SIP socket cannot move
 * without a restart. A stats address that cannot be bound refuses the
 * reload (the old one is still served). */
static int redirectd_reload(void *state, const void *new_cfg, const void *old_cfg)
{
    struct redirectd *d = state;
    const struct redirectd_conf *n = new_cfg, *o = old_cfg;

    if (!addr_equal(&n->listen, &o->listen)) {
        char was[ADDR_STRLEN], now[ADDR_STRLEN];
        log_error("reload: listen cannot change from %s to %s without a restart",
                  addr_format(&o->listen, was, sizeof was),
                  addr_format(&n->listen, now, sizeof now));
        return -EINVAL;
    }
    if (strcmp(n->store, o->store) != 0) {
        /* the bindings live in the old one: moving them is a restart's job */
        log_error("reload: store cannot change from %s to %s without a restart", o->store,
                  n->store);
        return -EINVAL;
    }
    if (rd_metrics_listen(d->metrics, &n->stats) != 0)
        return -EADDRNOTAVAIL;
    redirector_reconfigure(d->r, n);
    log_notice("reload: %zu proxies trusted, expires %d s by default, at most %d s", n->proxies.n,
               n->default_expires, n->max_expires);
    return 0;
}

/* Nothing long-running: every request is answered as it arrives. */
static int redirectd_drain(void *state)
{
    (void)state;
    return 0;
}

static const struct daemon_ops ops = {
    .name = "redirectd",
    .keys = redirectd_conf_keys,
    .cfg_size = sizeof(struct redirectd_conf),
    .finish_config = redirectd_conf_finish,
    .start = redirectd_start,
    .reload = redirectd_reload,
    .drain = redirectd_drain,
    .stop = redirectd_stop,
    .log_level_offset = offsetof(struct redirectd_conf, log_level),
};

int main(int argc, char **argv)
{
    struct daemon_ops o = ops;
    o.nkeys = redirectd_conf_nkeys;
    return daemon_main(argc, argv, &o);
}

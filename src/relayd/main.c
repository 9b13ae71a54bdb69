/* relayd: the relay server 22 of the patent (fig. 9): SIP control from the
 * proxies on `listen` (relayd.c, setup.c) and the media relay on the port
 * range (session_table.c, media.c). This file wires the daemon skeleton
 * (daemon.h) to the control socket; the behaviour lives in the modules. */
#include <errno.h>
#include <stdlib.h>

#include "pinhole/daemon.h"
#include "pinhole/log.h"
#include "pinhole/sip.h"
#include "relay_metrics.h"
#include "relayd.h"
#include "relayd_conf.h"

struct relayd_daemon {
    struct udp_sock *sip;
    struct transport tp;
    struct relayd *core;
    struct relay_metrics *metrics; /* the `stats` address */
};

static void on_datagram(struct udp_sock *s, const struct addr *from, char *buf, size_t len,
                        void *arg)
{
    struct relayd_daemon *d = arg;
    (void)s;
    relayd_receive(d->core, from, buf, len);
}

static void relayd_stop(void *state)
{
    struct relayd_daemon *d = state;
    if (!d)
        return;
    relay_metrics_free(d->metrics);
    relayd_free(d->core);
    udp_sock_close(d->sip);
    free(d);
}

static void log_started(const struct relayd_daemon *d, const struct relayd_conf *c)
{
    char where[ADDR_STRLEN], media[ADDR_STRLEN], adv[ADDR_STRLEN];
    struct relayd_metrics m;

    relayd_get_metrics(d->core, &m);
    log_notice("listening on %s, %zu proxies trusted; media on %s ports %d-%d (%zu RTP/RTCP "
               "pairs), advertised as %s",
               addr_format(udp_sock_local(d->sip), where, sizeof where), c->proxies.n,
               addr_host_plain(&c->media_address, media, sizeof media), c->port_min, c->port_max,
               m.sessions.pairs_free, addr_host_plain(&c->advertise_media, adv, sizeof adv));
}

static int relayd_start(struct loop *l, const void *cfg, void **state)
{
    const struct relayd_conf *c = cfg;
    struct relayd_daemon *d = calloc(1, sizeof *d);
    char where[ADDR_STRLEN];
    int err;

    if (!d)
        return -ENOMEM;
    err = sip_init();
    if (err)
        goto out;
    err = udp_sock_open(&d->sip, l, &c->listen, on_datagram, d);
    if (err) {
        log_error("cannot bind %s: error %d", addr_format(&c->listen, where, sizeof where), err);
        goto out;
    }
    udp_sock_transport(d->sip, &d->tp);
    /* media_new (inside) raises RLIMIT_NOFILE: two sockets per stream */
    err = relayd_new(&d->core, l, c, &d->tp, NULL);
    if (err) {
        log_error("cannot set up the relay (media_address, port range): error %d", err);
        goto out;
    }
    err = relay_metrics_new(&d->metrics, l, d->core, d->sip, &c->stats);
    if (err)
        goto out;
    log_started(d, c);
    *state = d;
    return 0;
out:
    relayd_stop(d);
    return err;
}

/* SIGHUP: see relayd_reconfigure (daemon.c applies log_level). The stats
 * address moves first, so that one that cannot be bound refuses the
 * reload before anything changed; a reload relayd_reconfigure refuses
 * moves it back. */
static int relayd_reload(void *state, const void *new_cfg, const void *old_cfg)
{
    struct relayd_daemon *d = state;
    const struct relayd_conf *n = new_cfg, *o = old_cfg;
    int err = relay_metrics_listen(d->metrics, &n->stats);

    if (err)
        return err;
    err = relayd_reconfigure(d->core, n);
    if (err)
        relay_metrics_listen(d->metrics, &o->stats);
    return err;
}

/* SIGTERM: stop now. A relay session cannot be handed to another process,
 * so waiting would only delay the inevitable: the sessions (and their
 * ports) end with the process and the phones' media stops; proxies see
 * relayd gone and allocate on another relay for new calls. */
static int relayd_drain(void *state)
{
    (void)state;
    return 0;
}

static const struct daemon_ops ops = {
    .name = "relayd",
    .keys = relayd_conf_keys,
    .cfg_size = sizeof(struct relayd_conf),
    .finish_config = relayd_conf_finish,
    .start = relayd_start,
    .reload = relayd_reload,
    .drain = relayd_drain,
    .stop = relayd_stop,
    .log_level_offset = offsetof(struct relayd_conf, log_level),
};

int main(int argc, char **argv)
{
    struct daemon_ops o = ops;
    o.nkeys = relayd_conf_nkeys;
    return daemon_main(argc, argv, &o);
}

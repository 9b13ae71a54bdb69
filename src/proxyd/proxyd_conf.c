#include "proxyd_conf.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>

#define K(field) offsetof(struct proxyd_conf, field)

static const char *const keepalive_kinds[] = {"crlf", "options", NULL};

const struct conf_key proxyd_conf_keys[] = {
    {"listen", CONF_ADDR, K(listen), "127.0.0.1:5060", false, 0, 0, NULL,
     "SIP/UDP address phones and other proxies send to"},
    {"advertise", CONF_ADDR, K(advertise), NULL, false, 0, 0, NULL,
     "address put in Via, Record-Route and Path (default: listen)"},
    {"redirect", CONF_ADDR, K(redirect), NULL, true, 0, 0, NULL, "redirectd's SIP address"},
    {"relays", CONF_ADDR_LIST, K(relays), NULL, true, 0, 0, NULL,
     "relayd control addresses, tried in order when one fails"},
    {"nat.keepalive_interval", CONF_INT, K(nat.keepalive_interval), "20", false, 0, 3600, NULL,
     "seconds between keepalives to each NATed client (0: off)"},
    {"nat.keepalive", CONF_ENUM, K(nat.keepalive), "crlf", false, 0, 0, keepalive_kinds,
     "keepalive kind: a CRLF datagram, or an OPTIONS request"},
    {"nat.max_expires", CONF_INT, K(nat.max_expires), "120", false, 10, 86400, NULL,
     "cap on the registration lifetime of NATed clients (s)"},
    {"nat.private_contact_is_nat", CONF_BOOL, K(nat.private_contact_is_nat), "true", false, 0, 0,
     NULL, "treat a private-range Contact as NATed even when source = Via"},
    {"stats", CONF_ADDR, K(stats), NULL, false, 0, 0, NULL,
     "HTTP address for Prometheus metrics and pinholectl (unset: off)"},
    {"log_level", CONF_LOG_LEVEL, K(log_level), "info", false, 0, 0, NULL,
     "error, warn, notice, info or debug"},
};
const size_t proxyd_conf_nkeys = sizeof proxyd_conf_keys / sizeof proxyd_conf_keys[0];

int proxyd_conf_finish(void *cfg, char *err, size_t errlen)
{
    struct proxyd_conf *c = cfg;
    if (!addr_is_set(&c->advertise))
        c->advertise = c->listen;
    if (c->relays.n == 0) {
        snprintf(err, errlen, "relays: at least one relayd address is needed");
        return -EINVAL;
    }
    return 0;
}

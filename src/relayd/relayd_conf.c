#include "relayd_conf.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>

#define K(field) offsetof(struct relayd_conf, field)

static const char *const latch_from_choices[] = {"signalling-ip", "any", NULL};

const struct conf_key relayd_conf_keys[] = {
    {"listen", CONF_ADDR, K(listen), "127.0.0.1:5080", false, 0, 0, NULL,
     "SIP/UDP control address (relay INVITE/BYE from proxies)"},
    {"media_address", CONF_HOST, K(media_address), "127.0.0.1", false, 0, 0, NULL,
     "IP the relay ports are bound on"},
    {"advertise_media", CONF_HOST, K(advertise_media), NULL, false, 0, 0, NULL,
     "IP written into SDP c= (default: media_address)"},
    {"port_min", CONF_INT, K(port_min), "30000", false, 1024, 65534, NULL,
     "lowest relay port (RTP ports are even, RTCP = RTP+1)"},
    {"port_max", CONF_INT, K(port_max), "39999", false, 1025, 65535, NULL, "highest relay port"},
    {"proxies", CONF_ADDR_LIST, K(proxies), NULL, true, 0, 0, NULL,
     "proxyd addresses allowed to INVITE/BYE (others get 403)"},
    {"session_timeout", CONF_INT, K(session_timeout), "60", false, 5, 86400, NULL,
     "seconds without media before a session is freed"},
    {"session_max_lifetime", CONF_INT, K(session_max_lifetime), "86400", false, 0, 604800, NULL,
     "hard cap on a session's life in seconds (0: none)"},
    {"relatch_after", CONF_INT, K(relatch_after), "5", false, 1, 3600, NULL,
     "seconds a channel must be silent before a new source may replace it"},
    {"latch_from", CONF_ENUM, K(latch_from), "signalling-ip", false, 0, 0, latch_from_choices,
     "which sources may take a channel: the IPs the phones signalled from, or any"},
    {"stats", CONF_ADDR, K(stats), NULL, false, 0, 0, NULL,
     "HTTP address for Prometheus metrics and pinholectl (unset: off)"},
    {"log_level", CONF_LOG_LEVEL, K(log_level), "info", false, 0, 0, NULL,
     "error, warn, notice, info or debug"},
};
const size_t relayd_conf_nkeys = sizeof relayd_conf_keys / sizeof relayd_conf_keys[0];

int relayd_conf_finish(void *cfg, char *err, size_t errlen)
{
    struct relayd_conf *c = cfg;
    if (!addr_is_set(&c->advertise_media))
        c->advertise_media = c->media_address;
    if (c->port_min % 2 != 0)
        c->port_min++;
    if (c->port_max < c->port_min + 1) {
        snprintf(err, errlen, "port_max (%d) leaves no RTP/RTCP pair above port_min (%d)",
                 c->port_max, c->port_min);
        return -EINVAL;
    }
    if (addr_family(&c->media_address) != addr_family(&c->advertise_media)) {
        snprintf(err, errlen, "media_address and advertise_media are of different families");
        return -EINVAL;
    }
    return 0;
}

#include "redirectd_conf.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>

#include "pinhole/store.h"

#define K(field) offsetof(struct redirectd_conf, field)

const struct conf_key redirectd_conf_keys[] = {
    {"listen", CONF_ADDR, K(listen), "127.0.0.1:5070", false, 0, 0, NULL,
     "SIP/UDP address redirectd listens on"},
    {"proxies", CONF_ADDR_LIST, K(proxies), NULL, true, 0, 0, NULL,
     "proxyd addresses allowed to REGISTER and INVITE (others get 403)"},
    {"default_expires", CONF_INT, K(default_expires), "3600", false, 1, 86400, NULL,
     "binding lifetime (s) when a REGISTER names none"},
    {"max_expires", CONF_INT, K(max_expires), "7200", false, 1, 604800, NULL,
     "longest binding lifetime (s) granted"},
    {"max_contacts", CONF_INT, K(max_contacts), "10", false, 1, 32, NULL,
     "bindings (phones) per user; a new one beyond evicts the one closest to expiry"},
    {"store", CONF_STRING, K(store), "sqlite:/var/lib/pinhole/redirectd.db", false, 0, 0, NULL,
     "where bindings survive a restart: \"sqlite:PATH\" or \"memory\" (nothing kept)"},
    {"stats", CONF_ADDR, K(stats), NULL, false, 0, 0, NULL,
     "HTTP address for Prometheus metrics and pinholectl (unset: off)"},
    {"log_level", CONF_LOG_LEVEL, K(log_level), "info", false, 0, 0, NULL,
     "error, warn, notice, info or debug"},
};
const size_t redirectd_conf_nkeys = sizeof redirectd_conf_keys / sizeof redirectd_conf_keys[0];

int redirectd_conf_finish(void *cfg, char *err, size_t errlen)
{
    struct redirectd_conf *c = cfg;
    if (c->default_expires > c->max_expires) {
        snprintf(err, errlen, "default_expires (%d) is larger than max_expires (%d)",
                 c->default_expires, c->max_expires);
        return -EINVAL;
    }
    if (store_spec_valid(c->store) != 0) {
        snprintf(err, errlen, "store \"%s\": not \"memory\" nor \"sqlite:PATH\"",
                 c->store ? c->store : "");
        return -EINVAL;
    }
    return 0;
}

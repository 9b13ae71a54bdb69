/* redirectd's configuration: the struct and its key table (design.md). */
#ifndef REDIRECTD_CONF_H
#define REDIRECTD_CONF_H

#include "pinhole/conf.h"

struct redirectd_conf {
    struct addr listen;
    struct addr_list proxies; /* who may REGISTER and INVITE */
    int default_expires;
    int max_expires;
    int max_contacts;  /* bindings per ID (client_table.h) */
    char *store;       /* "memory", "sqlite:PATH" (store.h) */
    struct addr stats; /* metrics HTTP address; unset = off */
    enum log_level log_level;
};

extern const struct conf_key redirectd_conf_keys[];
extern const size_t redirectd_conf_nkeys;
/* Cross-key checks (default_expires <= max_expires). */
int redirectd_conf_finish(void *cfg, char *err, size_t errlen);

#endif

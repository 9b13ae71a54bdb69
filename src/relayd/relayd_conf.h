/* relayd's configuration: the struct and its key table (design.md). */
#ifndef RELAYD_CONF_H
#define RELAYD_CONF_H

#include "pinhole/conf.h"

enum { LATCH_FROM_SIGNALLING_IP, LATCH_FROM_ANY };

struct relayd_conf {
    struct addr listen;          /* SIP control */
    struct addr media_address;   /* where relay ports are bound (port 0) */
    struct addr advertise_media; /* what goes in SDP c= (default media_address) */
    int port_min, port_max;
    struct addr_list proxies;
    int session_timeout;      /* s of silence before a session is freed */
    int session_max_lifetime; /* s; hard cap, 0 = none */
    int relatch_after;        /* s of channel silence before another source may take it */
    int latch_from;           /* LATCH_FROM_* */
    struct addr stats;
    enum log_level log_level;
};

extern const struct conf_key relayd_conf_keys[];
extern const size_t relayd_conf_nkeys;
int relayd_conf_finish(void *cfg, char *err, size_t errlen);

#endif

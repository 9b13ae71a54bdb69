/* daemon: the command line, config loading, signals and run loop shared by
 * proxyd, redirectd and relayd (design.md: "-c FILE [-f] [-t] [-V]"). */
#ifndef PINHOLE_DAEMON_H
#define PINHOLE_DAEMON_H

#include <stddef.h>

#include "pinhole/conf.h"
#include "pinhole/loop.h"

struct daemon_ops {
    const char *name;              /* "redirectd" */
    const struct conf_key *keys;   /* the daemon's config table */
    size_t nkeys;
    size_t cfg_size;               /* sizeof the daemon's config struct */
    /* Fills derived defaults and checks cross-key rules after conf_load
     * ("advertise defaults to listen", "port_min < port_max"). Returns 0, or
     * -EINVAL with a message in err. May be NULL. */
    int (*finish_config)(void *cfg, char *err, size_t errlen);
    /* Builds the daemon's state on the loop from a loaded config. The config
     * is owned by daemon.c and stays valid until the next successful reload
     * hands over a new one. Returns 0 or -errno (the daemon exits 1). */
    int (*start)(struct loop *l, const void *cfg, void **state);
    /* SIGHUP with a config that loaded and validated: apply what can change
     * without dropping state. Returns 0 (daemon.c then frees the old config),
     * or -errno (the new config is refused and the old one stays). */
    int (*reload)(void *state, const void *new_cfg, const void *old_cfg);
    /* SIGTERM/SIGINT: stop taking new work. Return 0 to exit now, or a
     * positive number of ms to let in-flight transactions finish. */
    int (*drain)(void *state);
    void (*stop)(void *state); /* frees everything start built */
    /* Where each key's log level lives, so daemon.c can apply it. */
    size_t log_level_offset;
};

/* Parses argv, loads the config, and runs the daemon. Returns the process
 * exit status: 0, 1 (config or start-up error), 2 (usage). */
int daemon_main(int argc, char **argv, const struct daemon_ops *ops);

#endif

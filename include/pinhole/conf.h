/* conf: libconfig files read through one table of keys per daemon. The table
 * validates `-t`, drives reload and generates the docs' key reference. */
#ifndef PINHOLE_CONF_H
#define PINHOLE_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "pinhole/addr.h"
#include "pinhole/log.h"

enum conf_type {
    CONF_STRING,    /* char * (malloc'd, freed by conf_free) */
    CONF_INT,       /* int, within [min, max] */
    CONF_BOOL,      /* bool */
    CONF_ADDR,      /* struct addr, "IP:port" */
    CONF_ADDR_LIST, /* struct addr_list, "IP:port" strings; a bare "IP" means any port */
    CONF_HOST,      /* struct addr with port 0, a numeric "IP" */
    CONF_ENUM,      /* int: index into `choices` */
    CONF_LOG_LEVEL, /* enum log_level, by name */
};

struct conf_key {
    const char *path;    /* "listen", "nat.keepalive_interval" */
    enum conf_type type;
    size_t offset;       /* offsetof() into the daemon's config struct */
    const char *def;     /* default as config text; NULL = none (see required) */
    bool required;
    long min, max;                 /* CONF_INT bounds */
    const char *const *choices;    /* CONF_ENUM: NULL-terminated */
    const char *help;              /* one line for docs/operations.md */
};

/* Loads `file` into `cfg` (zeroed by the caller) following the `n` keys.
 * Unknown settings, wrong types and out-of-range values are errors.
 * On error returns -EINVAL with "FILE:LINE: what" in err (the line is the
 * setting's own, or the syntax error's), and cfg holds nothing to free. */
int conf_load(const char *file, const struct conf_key *keys, size_t n, void *cfg, char *err,
              size_t errlen);
/* Frees what conf_load allocated inside cfg (strings, lists); not cfg itself. */
void conf_free(const struct conf_key *keys, size_t n, void *cfg);
/* Prints the key table as a Markdown table (for docs/operations.md). */
void conf_print_reference(const struct conf_key *keys, size_t n, const char *daemon);

#endif

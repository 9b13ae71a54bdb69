/* ctl_print: the stats endpoints' JSON (metrics.h) as text tables. */
#ifndef PINHOLECTL_CTL_PRINT_H
#define PINHOLECTL_CTL_PRINT_H

#include <stdio.h>

#include "pinhole/json.h"

/* /status: one "key  value" line per field, in the daemon's order.
 * Returns 0, or -EINVAL when root is not a flat object. */
int ctl_print_status(FILE *out, const struct json_val *root);
/* A table ({"columns":[...],"rows":[[...],...],"total":N,...}): a header
 * line, one aligned line per row, and a note when the listing was cut.
 * Returns 0, or -EINVAL when root is not such a table. */
int ctl_print_table(FILE *out, const struct json_val *root);

#endif

/* rd_stats: redirectd's counters as one log line (SIGUSR1), until issue #8
 * exports them over HTTP. */
#ifndef REDIRECTD_RD_STATS_H
#define REDIRECTD_RD_STATS_H

#include <stddef.h>

#include "redirector.h"

/* Room for every field of the line. */
#define RD_STATS_LINE_MAX 1024

/* Writes "key=value ..." for the client table (bindings, expired, its own
 * bytes per binding and string bytes), the heap in use (malloc's view, so
 * a measurement is not skewed by pages the allocator keeps), the requests
 * by method, the responses sent by status, and the error and
 * retransmission counters. Returns the length written (truncated to fit). */
size_t rd_stats_format(const struct redirector *r, char *buf, size_t len);

#endif

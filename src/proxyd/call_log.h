/* call_log: one line per call at info when it ends (issue #16), what an
 * operator finds a call by in the log (docs/operations.md,
 * "Troubleshooting"):
 *
 *   call c0ffee@pc: 16 -> 14, 200, set-up 412 ms, 63.2 s, relay 203.0.113.22:30000,
 *   packets from 16 3160, from 14 3158
 *
 * The record is taken when the call ends; with a relay it waits for
 * relayd's answer to the release (its Pinhole-Packets) and is written
 * then, or without the packets if relayd does not answer. */
#ifndef PROXYD_CALL_LOG_H
#define PROXYD_CALL_LOG_H

#include <stdint.h>

#include "nat_table.h"
#include "pinhole/addr.h"
#include "proxy_env.h"

struct call_record {
    char call_id[CALL_ID_MAX + 1];
    char from[NAT_AOR_MAX + 1], to[NAT_AOR_MAX + 1];
    int status;            /* the INVITE's final; 0 = none yet */
    uint64_t setup_ms;     /* INVITE to its final */
    uint64_t duration_ms;  /* 2xx to the end; 0 = not answered */
    struct addr relay;     /* the relay media address:port; unset = not relayed */
    struct addr caller_ip; /* to tell the phones apart in Pinhole-Packets */
};

/* Writes the line; packets is relayd's Pinhole-Packets value (NULL: not
 * relayed, or relayd did not say). */
void call_log_write(const struct call_record *r, const char *packets);

#endif

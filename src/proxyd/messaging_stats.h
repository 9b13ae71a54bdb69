/* messaging_stats: the messaging module's counters (issue #8), read in
 * place by the metrics endpoint. Only ever incremented. */
#ifndef PROXYD_MESSAGING_STATS_H
#define PROXYD_MESSAGING_STATS_H

#include <stdint.h>

#include "redirect_client.h"
#include "relay_client.h"

struct messaging_stats {
    uint64_t invites;                /* new INVITEs (out of dialog) */
    uint64_t invites_forwarded;      /* reached step 155 */
    uint64_t invites_forked;         /* of those, to more than one target (RFC 3261 16.7) */
    uint64_t fork_branches;          /* INVITE branches sent, every target counted */
    uint64_t fork_cancelled;         /* branches CANCELled because another answered or 6xx */
    uint64_t invites_not_found;      /* 404: redirectd does not know the ID */
    uint64_t invites_unavailable;    /* 503: relay or redirect failed */
    uint64_t invites_loop;           /* 483 (Max-Forwards) and 482 (merged) */
    uint64_t invites_cancelled;      /* 487 answered by us while querying */
    uint64_t invites_timeout;        /* 408: nobody downstream answered */
    uint64_t invites_refused;        /* 400/404/416 on a request we cannot route */
    struct relay_stats relay;        /* fig. 4b queries and releases */
    struct redirect_stats redirect;  /* fig. 4c queries */
    uint64_t cancels;                /* CANCELs that matched an INVITE */
    uint64_t dialog_requests;        /* in-dialog requests routed (ACK included) */
    uint64_t dialog_refused;         /* in-dialog requests of no dialog we route (403/481) */
    uint64_t outside_requests;       /* out-of-dialog requests other than INVITE (outside.c) */
    uint64_t outside_forwarded;      /* of those, forwarded to where redirectd said */
    uint64_t outside_refused;        /* of those, answered by us: 404, 416, 482, 483, 503... */
    uint64_t media_timeouts;         /* calls relayd found silent: BYE to both phones */
    uint64_t responses_forwarded[6]; /* by class: [0] = 1xx ... [5] = 6xx */
    uint64_t stray_forwarded;        /* 2xx retransmissions forwarded statelessly */
    uint64_t stray_dropped;          /* stray responses not ours or not forwardable */
};

#endif

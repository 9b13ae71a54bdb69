/* msg_ctx: the messaging module's shared state (issue #6), seen by its parts
 * — messaging.c (fig. 4a), calls.c, responses.c (fig. 4d), dialog.c,
 * cancel.c — and by nobody else: the rest of proxyd goes through
 * messaging.h. The relay and redirect clients (fig. 4b, 4c) it embeds know
 * only the env and their counters.
 *
 * Ownership: struct messaging is made by messaging_new and freed by
 * messaging_free; it owns the call table (calls.h) and the in-dialog
 * request contexts (dialog.h). The env (config, transaction layer, NAT
 * table) is borrowed. */
#ifndef PROXYD_MSG_CTX_H
#define PROXYD_MSG_CTX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "messaging_stats.h"
#include "nat_table.h"
#include "pinhole/dlist.h"
#include "pinhole/log.h"
#include "proxy_env.h"
#include "redirect_client.h"
#include "relay_client.h"

struct calls;

/* What the server transaction of a forwarded INVITE points at
 * (txn_server_user): the call for an initial INVITE, the in-dialog request
 * for a re-INVITE. Both structs start with this tag so that CANCEL can tell
 * them apart. */
enum msg_leg { MSG_LEG_CALL = 1, MSG_LEG_DIALOG = 2, MSG_LEG_OUTSIDE = 3 };

struct messaging {
    struct proxy_env *env;
    struct calls *calls;
    struct dlist dreqs; /* live in-dialog requests (dialog.c's struct dlg_req) */
    size_t ndreqs;
    struct dlist oreqs;              /* out-of-dialog non-INVITEs asking redirectd (outside.c) */
    struct relay_client relays;      /* fig. 4b, counting into stats.relay */
    struct redirect_client redirect; /* fig. 4c, counting into stats.redirect */
    struct messaging_stats stats;
    struct log_ratelimit rl; /* lines a peer can trigger at will */
};

/* 64·T1: how long a call that ended lingers for late retransmissions and
 * ACKs (RFC 3261 timer H / RFC 6026 timer L span). */
static inline uint64_t msg_linger_ms(const struct messaging *m)
{
    return 64 * m->env->t1_ms;
}

/* Counts a response forwarded upstream by its class (1xx..6xx). */
static inline void msg_count_response(struct messaging *m, int status)
{
    int cls = status / 100;
    if (cls >= 1 && cls <= 6)
        m->stats.responses_forwarded[cls - 1]++;
}

#endif

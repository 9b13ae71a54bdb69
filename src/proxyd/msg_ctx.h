/* msg_ctx: the messaging module's shared state (issue #6), seen by its parts
 * — messaging.c (fig. 4a), calls.c, relay_client.c (fig. 4b),
 * redirect_client.c (fig. 4c), responses.c (fig. 4d), dialog.c, cancel.c —
 * and by nobody else: the rest of proxyd goes through messaging.h.
 *
 * Ownership: struct messaging is made by messaging_new and freed by
 * messaging_free; it owns the call table (calls.h) and the in-dialog
 * request contexts (dialog.h). The proxy, its config, its transaction layer
 * and its NAT table are borrowed through the proxy_* accessors. */
#ifndef PROXYD_MSG_CTX_H
#define PROXYD_MSG_CTX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "messaging.h"
#include "nat_table.h"
#include "pinhole/log.h"
#include "proxy.h"

struct calls;
struct dlg_req;

/* Decision 4: the media addresses relayd put in its 302s. An SDP whose c=
 * is one of them (or a configured relay's host) is already relayed
 * (step 152b). A handful covers every relayd of a deployment. */
#define RELAY_SEEN_MAX 8
#define RELAY_ADDR_MAX 64 /* an SDP c= address, IPv6 without brackets */
/* Max-Forwards of the queries to redirectd and relayd. They are requests
 * this proxy originates for one hop (RFC 3261 §8.1.1.6): an INVITE that
 * arrives with Max-Forwards 1 is still looked up and forwarded with 0, and
 * the next hop answers 483. */
#define QUERY_MAX_FORWARDS "70"
/* Longest Call-ID we keep state for; a longer one is refused (400). */
#define CALL_ID_MAX 256

struct relay_seen {
    char addr[RELAY_SEEN_MAX][RELAY_ADDR_MAX];
    size_t n;    /* filled slots */
    size_t next; /* slot the next new address overwrites */
};

/* What the server transaction of a forwarded INVITE points at
 * (txn_server_user): the call for an initial INVITE, the in-dialog request
 * for a re-INVITE. Both structs start with this tag so that CANCEL can tell
 * them apart. */
enum msg_leg { MSG_LEG_CALL = 1, MSG_LEG_DIALOG = 2 };

struct messaging {
    struct proxy *p;
    struct calls *calls;
    struct dlg_req *dreqs; /* live in-dialog requests (dialog.c's list) */
    size_t ndreqs;
    struct relay_seen seen;
    uint64_t t1_ms;      /* RFC 3261 T1 of the proxy's transactions */
    uint64_t txn_max_ms; /* how long an unanswered INVITE may wait */
    struct messaging_stats stats;
    struct log_ratelimit rl; /* lines a peer can trigger at will */
    bool closing;            /* messaging_free: the txn layer is gone, send nothing */
};

/* 64·T1: how long a call that ended lingers for late retransmissions and
 * ACKs (RFC 3261 timer H / RFC 6026 timer L span). */
static inline uint64_t msg_linger_ms(const struct messaging *m)
{
    return 64 * m->t1_ms;
}

/* Counts a response forwarded upstream by its class (1xx..6xx). */
static inline void msg_count_response(struct messaging *m, int status)
{
    int cls = status / 100;
    if (cls >= 1 && cls <= 6)
        m->stats.responses_forwarded[cls - 1]++;
}

#endif

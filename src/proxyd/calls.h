/* calls: call state per Call-ID (issue #6), the patent's record of "a relay
 * server resource previously obtained for this session" (fig. 4d step 222)
 * and what a CANCEL or a late response needs.
 *
 * A call is created by fig. 4a for a new INVITE and lives in a table keyed
 * by Call-ID with an expiry:
 *   querying / forwarded / early   the INVITE transaction's bound
 *   confirmed                      CALL_IDLE_MS, refreshed by every
 *                                  in-dialog request
 *   terminated                     64·T1 (late retransmissions, ACKs)
 * and ends in call_end, its one teardown: the relay resource released (BYE
 * to relayd) if we still hold it, every query and the forwarded INVITE's
 * transaction abandoned, the caller's transaction detached, memory freed.
 * Expiry and a BYE's answer both end there.
 *
 * The call table owns its calls. Pointers to a call are held by its own
 * transactions' callbacks only (as their argument, cut by the teardown);
 * anything that can outlive a call (an in-dialog request) keeps the Call-ID
 * and looks the call up again. */
#ifndef PROXYD_CALLS_H
#define PROXYD_CALLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "msg_ctx.h"
#include "nat_table.h"
#include "redirect_client.h"
#include "relay_client.h"

/* A confirmed call nobody has sent a request in for this long is dropped
 * (and its relay released): the BYE was lost, or a phone vanished. Two
 * hours is longer than any session refresh interval (RFC 4028 default 30
 * min) and than relayd's session_timeout for a silent call. */
#define CALL_IDLE_MS (2ull * 3600 * 1000)

struct calls;

enum call_state {
    CALL_QUERYING = 0, /* fig. 4a: waiting for relayd / redirectd */
    CALL_FORWARDED,    /* step 155 done, no answer yet */
    CALL_EARLY,        /* a provisional with a To tag came back */
    CALL_CONFIRMED,    /* 2xx */
    CALL_TERMINATED,   /* failed, cancelled or answered >= 300: lingering */
};

/* One target of a forked INVITE (RFC 3261 16.7): a phone of the user, or
 * the proxy serving it. The call owns its branches; a branch's client
 * transaction has the branch as its callback argument. */
struct call_branch {
    struct call *c;
    struct txn_client *fwd; /* step 155's transaction until its final (or timeout) */
    struct addr hop;        /* step 151: what the 302 named */
    struct transport tp;    /* the socket the INVITE leaves on (decision 10) */
    bool nat;               /* the target is one of our NAT clients */
    int status;             /* its final (408: no answer); 0 while it rings */
};

struct call {
    enum msg_leg kind; /* MSG_LEG_CALL; first, see msg_ctx.h */
    struct messaging *m;
    enum call_state state;
    struct txn_server *st;    /* the caller's INVITE transaction; NULL once it ended */
    osip_message_t *invite;   /* our copy during fig. 4a (owned); NULL once forwarded */
    struct relay_query rq;    /* steps 146 and 153 */
    struct redirect_query dq; /* step 150 */
    struct call_branch br[REDIRECT_TARGETS_MAX]; /* the 302's targets, best first */
    size_t nbr;                                  /* how many of br are in use */
    struct call_branch *won;                     /* whose 2xx went up first; NULL till then */
    osip_message_t *best;        /* the best final so far while others ring (owned) */
    struct call_branch *best_br; /* where it came from */
    struct addr best_src;
    struct transport tp;         /* the caller's socket: queries and releases go out on it */
    struct relay_res res;        /* the resource we hold (step 222) */
    bool dest_checked;           /* step 152a done */
    bool callee_reported;        /* the answerer's side went to relayd (relay_report) */
    bool caller_nat;             /* the caller is behind a NAT (fig. 4a step 142) */
    bool no_offer;               /* the INVITE had no SDP: the offer comes in the answer */
    bool caller_reported;        /* late offer: the ACK's answer went to relayd */
    osip_message_t *late_offer;  /* late offer: our relay INVITE, while relayd is asked (owned) */
    bool late_asked;             /* relayd was asked with the answer's offer */
    osip_message_t *held;        /* late offer: the answer waiting for relayd (owned) */
    struct call_branch *held_br; /* the branch it came on */
    struct addr held_src;        /* where it came from */
    uint64_t created_ms, answered_ms; /* loop time of the INVITE, of its 2xx (0: none) */
    uint64_t final_ms;                /* of its final (0: none yet) */
    int final_status;                 /* what the caller got */
    bool logged;                      /* its call line is written, or on its way */
    char from_user[NAT_AOR_MAX + 1];  /* the caller's ID (From) */
    char caller_contact[256];         /* the INVITE's Contact as forwarded (step 144) */
    struct call_dialog *dlg;          /* a confirmed relayed call's dialog (media_timeout.h) */
    struct addr caller_ip;         /* the caller's signalling IP (media_source.h); unset: unknown */
    char user[NAT_AOR_MAX + 1];    /* the Request-URI ID (field 162) */
    char call_id[CALL_ID_MAX + 1]; /* the session ID header 158 */
};

/* The table, with expiry checked every tick_ms on l. Returns 0 or -errno. */
int calls_new(struct calls **out, struct messaging *m, struct loop *l, uint64_t tick_ms);
/* Frees every call; sends nothing once the env is closing. */
void calls_free(struct calls *cs);
size_t calls_count(const struct calls *cs);
/* Calls not yet answered 2xx nor ended (querying, forwarded, early): what
 * a draining proxy waits for. O(n): called on SIGTERM, not per packet. */
size_t calls_in_setup(const struct calls *cs);

/* A new call (zeroed but for the keys) in the table, expiring in
 * expires_in_ms. The caller makes sure no call has this Call-ID. Returns 0,
 * -EINVAL (Call-ID or user too long) or -ENOMEM. */
int call_new(struct call **out, struct messaging *m, const char *call_id, const char *user,
             uint64_t expires_in_ms);
/* The call with this Call-ID, or NULL. Owned by the table. */
struct call *call_find(const struct messaging *m, const char *call_id);
void call_expire_in(struct call *c, uint64_t ms);

/* The caller's final response is `status` (the first one counts): for the
 * call log line (call_log.h). */
void call_note_final(struct call *c, int status);

/* The branch whose target is addr (a response's source), or NULL. */
const struct call_branch *call_branch_at(const struct call *c, const struct addr *addr);
/* CANCELs every branch still ringing but `except` (may be NULL), with an
 * RFC 3326 Reason when reason is not NULL. */
void call_cancel_branches(struct call *c, const struct call_branch *except, const char *reason);

/* Ties the caller's INVITE transaction to the call (until either ends). */
void call_attach_server(struct call *c, struct txn_server *st);
/* Decision 9: BYE to relayd for the resource, once. */
void call_release_relay(struct call *c);
/* The call failed or got a final >= 300: queries to redirectd abandoned,
 * the relay released (when a relay query is still out, its answer is
 * released as it comes), the state kept 64·T1 for retransmissions. */
void call_terminate(struct call *c);
/* Fig. 4a gave up before forwarding: answers the caller `status` (404,
 * 487, 503, ...) if it still waits, counts it, and terminates the call. */
void call_fail(struct call *c, int status);
/* The one teardown (see above). c is freed. */
void call_end(struct call *c);

#endif

/* relay_client: proxyd's side of relayd (patent fig. 4b, figures 8a/8b,
 * design decisions 4, 5, 9).
 *
 *   query    relay invite 202: a copy of the INVITE with Request-URI
 *            sip:<ID>@<relay>, our Via on top, sent as a client transaction
 *            to cfg->relays[0]; a 302 with SDP is the resource (relay
 *            address and one port per m= line); the transaction layer ACKs
 *            it. Anything else, or silence for 64·T1, tries the next relay.
 *   release  BYE sip:<ID>@<relay> with the call's Call-ID to the relay that
 *            allocated: fire and forget (relayd's session_timeout is the
 *            backstop when it is lost).
 *   report   the answerer's side (issue #15): an INVITE for the same
 *            Call-ID to the relay that allocated, carrying the answer's
 *            SDP and the answerer's signalling IP in Pinhole-Sources
 *            (media_source.h), so relayd lets that phone latch and sends
 *            it media before it does; fire and forget, as a release.
 *   apply    steps 148/154/224: an SDP body pointed at the resource.
 *
 * Nothing here keeps a pointer to a call: a query reports to its owner's
 * callback, and the owner (a call, an in-dialog request) embeds the query
 * and aborts it when it dies. What the queries share (the env, the
 * counters, the relay media addresses seen) is a struct relay_client that
 * outlives them all. */
#ifndef PROXYD_RELAY_CLIENT_H
#define PROXYD_RELAY_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "call_log.h"
#include "media_source.h"
#include "pinhole/dlist.h"
#include "pinhole/log.h"
#include "pinhole/sdp.h"
#include "pinhole/sip.h"
#include "pinhole/txn.h"
#include "proxy_env.h"

/* Decision 4: the media addresses relayd put in its 302s. An SDP whose c=
 * is one of them (or a configured relay's host) is already relayed
 * (step 152b). A handful covers every relayd of a deployment. */
#define RELAY_SEEN_MAX 8
#define RELAY_ADDR_MAX 64 /* an SDP c= address, IPv6 without brackets */

struct relay_seen {
    char addr[RELAY_SEEN_MAX][RELAY_ADDR_MAX];
    size_t n;    /* filled slots */
    size_t next; /* slot the next new address overwrites */
};

/* Counters for the metrics endpoint. Only ever incremented. */
struct relay_stats {
    uint64_t allocations;      /* 302 with SDP from relayd */
    uint64_t releases;         /* BYEs sent to relayd */
    uint64_t failures;         /* relay queries that failed (each relay tried) */
    uint64_t release_failures; /* release BYEs refused, unanswered or unsent */
    uint64_t reports;          /* answerers' sides told to relayd */
    uint64_t report_failures;  /* of those, refused, unanswered or unsent */
};

/* What every query and release shares; env and stats are borrowed. */
struct relay_client {
    const struct proxy_env *env;
    struct relay_stats *stats;
    struct relay_seen seen;
    struct log_ratelimit rl; /* lines relayd's answers can trigger */
    struct dlist releases;   /* release BYEs waiting for relayd (their call lines) */
};

void relay_client_init(struct relay_client *rc, const struct proxy_env *env,
                       struct relay_stats *stats);
/* Frees the releases still waiting for relayd (their lines unwritten). */
void relay_client_close(struct relay_client *rc);

/* A relay resource: what relayd's 302 said (fig. 8b). */
struct relay_res {
    struct addr relay;             /* relayd control address that allocated it */
    char media[RELAY_ADDR_MAX];    /* the 302's c=: where media goes */
    uint16_t ports[SDP_MAX_MEDIA]; /* per m= line; 0 = stream disabled */
    size_t nports;
    bool held;     /* allocated by us (a 302 came) */
    bool released; /* the BYE went out */
};

/* The query's end: got is the resource (copy it), or NULL when every relay
 * failed. The callback may abort or free the query's owner. */
typedef void (*relay_query_cb)(void *arg, const struct relay_res *got);

/* One relay query in flight; embedded in its owner, zeroed = idle. */
struct relay_query {
    struct relay_client *rc;
    struct txn_client *ct;       /* the attempt in flight; NULL when idle */
    const osip_message_t *offer; /* what each attempt is built from (the owner's) */
    struct transport tp;
    struct addr only;                /* re-query: that relay alone (unset: failover) */
    size_t next_relay;               /* failover: index in cfg->relays to try next */
    char sources[MEDIA_SOURCES_LEN]; /* Pinhole-Sources, "" = none */
    relay_query_cb cb;
    void *arg;
};

/* Starts a query built from `req` (its SDP is the offer) through tp. req
 * is borrowed: the owner keeps it alive and unchanged until the query
 * ends (the callback) or is aborted — failover builds the next attempt
 * from it. only == NULL tries cfg->relays in order; else only that relay
 * (the one that holds the call's session: a re-INVITE). sources is the
 * Pinhole-Sources value (media_sources_value; copied; NULL or "": none).
 * Returns 0 (cb comes later, never from inside this call), -EHOSTUNREACH
 * (no relay configured) or -errno. */
int relay_query_start(struct relay_query *q, struct relay_client *rc, const osip_message_t *req,
                      const struct transport *tp, const struct addr *only, const char *sources,
                      relay_query_cb cb, void *arg);
bool relay_query_pending(const struct relay_query *q);
/* The owner loses interest: no callback any more. Safe on an idle query. */
void relay_query_abort(struct relay_query *q);

/* Sends the release BYE for res (once: marks it released). user is the
 * call's ID for the Request-URI (may be NULL). rec (copied; may be NULL)
 * is the call's log line, written when relayd answers with the packets
 * each phone sent (call_log.h), or without them when it does not.
 * Returns 0 (the line will be written), -EALREADY (nothing held, or
 * released before), -ESHUTDOWN (closing: nothing sent) or -errno. */
int relay_release(struct relay_client *rc, struct relay_res *res, const char *call_id,
                  const char *user, const struct transport *tp, const struct call_record *rec);

/* A late offer (RFC 3264: an INVITE without SDP, the offer in the 2xx or
 * 18x): an INVITE of our own for call_id carrying msg's SDP, for
 * relay_query_start to build its attempts from. *out is the caller's
 * (sip_free). Returns 0, -EINVAL (no SDP, bad Call-ID), -EHOSTUNREACH (no
 * relay configured) or -errno. */
int relay_offer_from(osip_message_t **out, const struct relay_client *rc, const char *call_id,
                     const char *user, const osip_message_t *msg);

/* Tells the relay that holds res which phone answered: the SDP body of
 * `answer` (a 1xx/2xx, before relay_res_apply rewrites it) and `ip`, the
 * answerer's signalling IP. Fire and forget. Returns 0, -EINVAL (no SDP
 * body, res not held or released) or -errno. */
int relay_report(struct relay_client *rc, const struct relay_res *res, const char *call_id,
                 const char *user, const struct addr *ip, const osip_message_t *answer,
                 const struct transport *tp);

/* Steps 148/154/224: points m's SDP body at res. A message without an SDP
 * body is left alone (returns 0). Returns 0, -EINVAL (not SDP) or -ENOMEM. */
int relay_res_apply(const struct relay_res *res, osip_message_t *msg);

/* Decision 4 / step 152b: the SDP body of msg already names a relay (every
 * c= of a live stream is a relay media address we have seen, or a
 * configured relay's host). False without SDP. */
bool relay_sdp_is_relayed(const struct relay_client *rc, const osip_message_t *msg);

#endif

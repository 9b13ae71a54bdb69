/* session_table: relayd's session table 46 (patent fig. 9): one record 57
 * per relayed call, keyed by Call-ID (session ID field 48), holding its
 * relay resources 49: one stream per SDP m= line, each with an RTP port and
 * the RTCP port above it, and their channels (fig. 9's first and second IP
 * channels 52/54, latched from media as fig. 11 says: we never take them
 * from the SDP, which anyone on the signalling path could forge).
 *
 * Ownership: the table owns its sessions; a session owns its streams, their
 * sockets and their ports. session_free is the one teardown path, whether
 * called by the SIP layer (BYE, failed INVITE: design.md decision 9), by
 * the idle timeout, by the lifetime cap or by session_table_free.
 *
 * Lookup by Call-ID is libpinhole's table (SipHash under a random key, so
 * a proxy cannot choose Call-IDs that collide); the media path never looks
 * anything up, it reaches its stream from the socket and stamps the
 * session's activity. */
#ifndef RELAYD_SESSION_TABLE_H
#define RELAYD_SESSION_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "latch.h"
#include "media.h"
#include "pinhole/addr.h"
#include "pinhole/loop.h"

struct session;
struct session_table;

struct session_table_config {
    struct addr media_address;   /* where relay ports are bound (port ignored) */
    uint16_t port_min, port_max; /* relay range: even RTP ports, RTCP = RTP + 1 */
    unsigned session_timeout_s;  /* free a session silent this long (> 0) */
    unsigned max_lifetime_s;     /* free any session this old; 0 = no cap */
    unsigned relatch_after_s;    /* see latch.h; 0 = never relatch */
    bool latch_any;              /* latch_from = "any" (latch.h) */
};

struct session_table_stats {
    size_t sessions;
    size_t streams;
    size_t pairs_in_use; /* port pairs (RTP + RTCP) */
    size_t pairs_free;
    uint64_t expired_idle;     /* sessions freed by session_timeout */
    uint64_t expired_lifetime; /* sessions freed by max_lifetime */
    struct media_totals media;
};

/* Builds the table, its port pool and its relay engine on `l`, and starts
 * the sweep timer (every RELAY_SWEEP_MS). Returns 0, -EINVAL (bad range,
 * address or timeout), -ENOMEM. Free with session_table_free (before
 * loop_free). */
int session_table_new(struct session_table **out, struct loop *l,
                      const struct session_table_config *cfg);
/* Frees every session (sockets closed, ports returned) and the table. */
void session_table_free(struct session_table *t);
/* Reload: new timeouts and relatch_after apply at once; the address and
 * port range cannot change without a restart (-EINVAL, nothing changed). */
int session_table_reconfigure(struct session_table *t, const struct session_table_config *cfg);

/* A session freed for silence (idle true) or for its age: the proxy that
 * created it should end the call (relay_notice.h). call_id and owner are
 * valid during the call only. */
typedef void (*session_gone_cb)(void *arg, const char *call_id, const struct addr *owner,
                                bool idle);
/* Who hears of it (NULL: nobody). */
void session_table_on_gone(struct session_table *t, session_gone_cb cb, void *arg);
/* The proxy that created s (the source of its first relay INVITE). */
void session_set_owner(struct session *s, const struct addr *owner);

/* Frees every session idle for session_timeout or older than max_lifetime
 * at now_ms (loop clock). The sweep timer calls it; tests call it with a
 * chosen time. Returns how many were freed. */
size_t session_table_expire(struct session_table *t, uint64_t now_ms);
void session_table_get_stats(const struct session_table *t, struct session_table_stats *out);

/* Visits the sessions oldest first until cb returns false (the /sessions
 * listing stops once it has a page). The callback must not change the
 * table. */
typedef bool (*session_visit_cb)(const struct session *s, void *arg);
void session_table_foreach(const struct session_table *t, session_visit_cb cb, void *arg);

/* The session for call_id, or NULL. Owned by the table. */
struct session *session_table_get(const struct session_table *t, const char *call_id);

/* A new session with no streams (fig. 10 step 64). call_id is copied.
 * Returns 0, -EEXIST (design.md decision 4: never two for one Call-ID),
 * -EINVAL (NULL, or not 1..RELAY_CALL_ID_MAX visible ASCII characters:
 * sip_call_id_valid), -ENOMEM. *out is owned by the table. */
int session_create(struct session_table *t, const char *call_id, struct session **out);
/* Allocates a port pair for the next m= line, binds both sockets and starts
 * relaying on them (fig. 10 step 62). Returns 0 with the RTP port in
 * *rtp_port, -EBUSY (no free pair: answer 503), -E2BIG (SDP_MAX_MEDIA
 * streams already), -EMFILE (out of descriptors), or another -errno. */
int session_add_stream(struct session *s, uint16_t *rtp_port);
/* A phone of the call as a proxy described it (relay_sources.h): its
 * signalling IP `ip` (port ignored) may latch the session's channels, and
 * ports[i] (n of them, 0 = unknown; NULL = none known) is where its SDP
 * receives stream i's RTP (RTCP: one above). Streams added later learn the
 * IP, not a port. Returns 0, -ENOSPC (LATCH_SIDES already), -EAFNOSUPPORT
 * (an IPv6 address for an IPv4 relay). */
int session_set_side(struct session *s, const struct addr *ip, const uint16_t *ports, size_t n);
/* Closes the session's sockets, returns its ports and frees it. */
void session_free(struct session *s);

const char *session_call_id(const struct session *s);
size_t session_stream_count(const struct session *s);
/* The RTP port of stream i (RTCP is one above), or 0 when i is out of range. */
uint16_t session_stream_port(const struct session *s, size_t i);
/* Channels and counters of stream i's RTP (rtcp false) or RTCP socket;
 * NULL when i is out of range. Valid until the session is freed. */
const struct latch_pair *session_stream_latch(const struct session *s, size_t i, bool rtcp);
uint64_t session_created_ms(const struct session *s);
/* Loop time of the last packet from a latched channel (creation time until
 * then). */
uint64_t session_last_activity_ms(const struct session *s);
/* Signalling for the session (a re-INVITE from a proxy) counts as activity:
 * a call on hold (a=inactive) sends no media but must keep its ports. */
void session_touch(struct session *s, uint64_t now_ms);

#endif

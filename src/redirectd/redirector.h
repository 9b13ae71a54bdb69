/* redirector: redirectd's SIP front door. Every datagram from the socket
 * comes here: it is parsed, pinned to its source (received/rport), fed
 * through the transaction layer (retransmissions absorbed by branch, the
 * ACK for a 302/4xx accepted, RFC 3261 17.2.1 timers G/H retransmitting
 * our non-2xx finals), checked, and dispatched by method:
 *
 *   REGISTER  from a listed proxy → registrar (200 / 4xx)
 *   INVITE    from a listed proxy → locator (302 / 404)
 *   OPTIONS   from anyone         → 200 (health checks)
 *   CANCEL                        → 481 (every INVITE is answered at once)
 *   ACK       matching no transaction: dropped
 *   others                        → 405 with Allow
 *   unlisted source (but OPTIONS) → 403
 *
 * Responses only ever go to the datagram's source. SIP responses sent to
 * us are dropped. Unparseable datagrams are counted and logged (rate
 * limited), and answered 400/505 when they can be.
 *
 * Ownership: the redirector owns its transaction layer and client table.
 * It keeps pointers to the loop, the config and the transport, which must
 * outlive it (the config until redirector_reconfigure hands a new one). */
#ifndef REDIRECTD_REDIRECTOR_H
#define REDIRECTD_REDIRECTOR_H

#include <stddef.h>

#include "client_table.h"
#include "pinhole/loop.h"
#include "pinhole/txn.h"
#include "rd_ctx.h"
#include "redirectd_conf.h"

#define REDIRECTOR_ALLOW                                                                           \
    "INVITE, ACK, CANCEL, REGISTER, OPTIONS, MESSAGE, SUBSCRIBE, NOTIFY, PUBLISH, REFER, INFO, "   \
    "UPDATE"
/* The one option tag redirectd understands (Require: path on a REGISTER,
 * RFC 3327); also the value of Supported in the OPTIONS answer. */
#define REDIRECTOR_SUPPORTED "path"

struct redirector;

/* timers NULL = RFC 3261 defaults (tests shorten them). Returns 0 or
 * -errno. Free with redirector_free before the loop. */
int redirector_new(struct redirector **out, struct loop *l, const struct redirectd_conf *conf,
                   const struct transport *tp, const struct txn_timers *timers);
void redirector_free(struct redirector *r);

/* One datagram from `src` (need not be NUL-terminated). Never blocks. */
void redirector_receive(struct redirector *r, const struct addr *src, const char *buf, size_t len);

/* SIGHUP: proxies, expiry bounds and log level come from `conf` from now
 * on; bindings stay. The caller refuses changes of `listen` itself. */
void redirector_reconfigure(struct redirector *r, const struct redirectd_conf *conf);

const struct redirectd_stats *redirector_stats(const struct redirector *r);
void redirector_txn_stats(const struct redirector *r, struct txn_stats *out);
/* The client table (for tests and, later, the metrics endpoint). */
struct client_table *redirector_clients(const struct redirector *r);
/* The table's store (binding_store.h). Owned by the redirector. */
const struct binding_store *redirector_bindings(const struct redirector *r);

#endif

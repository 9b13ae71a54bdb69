/* registration: the patent's registration module 102 (figure 3a, steps
 * 112–119; figure 3b).
 *
 * A phone's REGISTER (registration message 120) becomes a redirect
 * registration 122 to redirectd: for a NATed phone the Contact names the
 * packet's source (the NAT's address and port) instead of the phone's
 * private address, Expires is capped at nat.max_expires, and a Path header
 * names this proxy so redirectd knows who serves the client. redirectd's
 * answer is relayed to the phone with the phone's own Contact restored; only
 * when redirectd said 200 is the client written to the NAT client table
 * (step 119 after step 118: the table never holds a client the redirect
 * server refused). */
#ifndef PROXYD_REGISTRATION_H
#define PROXYD_REGISTRATION_H

#include <stdbool.h>

#include "nat_table.h"
#include "pinhole/sip.h"
#include "pinhole/txn.h"
#include "proxy_env.h"

struct registration;

/* Returns 0 or -ENOMEM. The module keeps env (borrowed) for its life. */
int registration_new(struct registration **out, struct proxy_env *env);
/* Frees the pending-registration contexts. Call after proxy_env_close (the
 * transaction layer runs no callback when freed), so no transaction still
 * points at one. */
void registration_free(struct registration *r);
/* Registrations sent to redirectd and not answered yet. */
size_t registration_pending(const struct registration *r);

/* Step 112: a new REGISTER server transaction (retransmissions never get
 * here). Answers the phone through st, now (400/483/503) or when redirectd
 * answers (its status, or 408 after 64·T1). */
void registration_on_request(struct registration *r, struct txn_server *st,
                             const osip_message_t *req, const struct proxy_rx *rx);

/* What the checks of a REGISTER found (registration_check). */
struct register_info {
    const char *aor; /* To user: the patent's ID field 124 (points into req) */
    long expires;    /* asked for: -1 when absent */
    bool unregister; /* Expires 0 or Contact "*" */
};

/* Validates a REGISTER: a To user of at most NAT_AOR_MAX URI user
 * characters, one Contact (or "*" with Expires 0), a readable Expires.
 * Returns 0 or the status to answer (400). */
int registration_check(const osip_message_t *req, struct register_info *info);

/* Steps 114–116: builds the redirect registration 122 from the phone's
 * REGISTER `req` (received/rport already set) and the packet source `src`.
 * NATed: Contact host:port := src, Expires := min(asked or max_expires,
 * max_expires). Always: Request-URI := cfg->redirect, Path: <sip:advertise;lr>,
 * Max-Forwards decremented, the Authorization for auth.realm dropped, our
 * Via on top with `branch` (NULL: fresh).
 * *out is owned by the caller. Returns 0, -ELOOP (Max-Forwards was 0: 483),
 * -EINVAL or -ENOMEM. */
int registration_build_redirect(osip_message_t **out, const osip_message_t *req,
                                const struct addr *src, bool nated, const struct proxyd_conf *cfg,
                                const char *branch);

/* Unregisters a client at redirectd on our own account (keepalive gave up
 * on it): REGISTER, Contact <sip:aor@nat>;expires=0, Expires 0, with Path.
 * Fire and forget; the outcome is only logged. Returns 0 or -errno. */
int registration_unregister(struct registration *r, const char *aor, const struct nat_binding *b);

#endif

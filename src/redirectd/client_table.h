/* client_table: the redirect server's client table 104 (patent fig. 1, 3b):
 * records 110 per client ID number, each associating it with a signalling
 * channel 108 a proxy registered for it (the NAT address:port, already
 * rewritten by the proxy: fig. 3a step 116) and with the proxy that serves
 * that channel (design.md decision 3). A user with a desk phone and a
 * softphone has two bindings (RFC 3261 10.3), each with its own expiry,
 * Call-ID, CSeq and q-value, up to max_contacts per ID.
 *
 * Keyed by the AOR's user part as written (no %-unescaping: the proxies
 * copy the ID from one message into the next unchanged). A binding lives
 * until its granted expiry, a REGISTER with expiry 0 for its Contact (or
 * "*"), its replacement (below), or the table's free: expiry is driven by
 * the table's timer, not by lookups.
 *
 * Which binding a REGISTER's Contact updates: the one with the same Contact
 * URI (RFC 3261 10.3 step 7); failing that, when the REGISTER carries one
 * Contact, the one registered under the same Call-ID: the same phone whose
 * NAT mapping moved (RFC 3261 10.2.4: a UA keeps one Call-ID for its
 * registrations), which must not leave a dead twin behind to be forked to.
 * A new binding beyond max_contacts evicts the one closest to expiry (the
 * oldest of equals; never one the same REGISTER has just written while
 * another is left): a phone that registers now is more likely alive than
 * one that has not refreshed for longest.
 *
 * Ownership: the table owns its bindings and the strings inside them.
 * Pointers to a binding (client_table_find) are valid until the next call
 * that changes the table or until the loop runs the expiry timer. */
#ifndef REDIRECTD_CLIENT_TABLE_H
#define REDIRECTD_CLIENT_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pinhole/addr.h"
#include "pinhole/loop.h"

/* Bounds on what a REGISTER may make us store (longer: -EINVAL, answered
 * 400 by the registrar). A telephone-style ID, a URI with a NAT address,
 * and a Call-ID all fit with room to spare. */
#define CLIENT_ID_MAX 128
#define CLIENT_CONTACT_MAX 512
#define CLIENT_CALL_ID_MAX 256
/* Bindings per ID: max_contacts may not exceed this (the 302 and the 200
 * stay well under a UDP datagram). */
#define CLIENT_CONTACTS_MAX 32
/* One 302 target: "sip:" + ID + "@[IPv6]:port", or a stored Contact. */
#define CLIENT_TARGET_MAX (CLIENT_CONTACT_MAX + CLIENT_ID_MAX + 64)

struct client_table;
struct client_binding;

/* One REGISTER's worth of binding: what fig. 3b's redirect server
 * registration message 122 carries. */
struct client_reg {
    const char *id;      /* ID field 124: the To URI's user */
    const char *contact; /* signalling channel 108 as a URI, e.g. "sip:16@198.51.100.28:40312" */
    const struct addr *serving; /* first Path hop; the source when there is no Path */
    const struct addr *source;  /* where the REGISTER came from */
    const char *call_id;
    uint32_t cseq;
    uint32_t expires_s; /* granted lifetime (already capped); 0 removes */
    int q;              /* Contact q in thousandths; -1: none given */
};

enum client_reg_outcome {
    CLIENT_REG_CREATED,   /* new binding */
    CLIENT_REG_REFRESHED, /* an existing binding replaced (same Contact, or same Call-ID) */
    CLIENT_REG_REMOVED,   /* expiry 0 removed a binding */
    CLIENT_REG_ABSENT,    /* expiry 0 for an ID that had none: nothing to do */
};

/* size_hint: expected IDs (the bucket array is sized for it);
 * max_contacts: bindings per ID, 1..CLIENT_CONTACTS_MAX. Returns 0,
 * -EINVAL or -ENOMEM; free with client_table_free. */
int client_table_new(struct client_table **out, size_t size_hint, unsigned max_contacts);
/* What the table tells its persistence of every change a REGISTER makes
 * (binding_store.h): a binding written (created or refreshed) and a
 * binding gone (removed, replaced under a new Contact, evicted). Expiry
 * is not told: the store keeps each expiry and forgets on its own. The
 * callbacks must not change the table. */
struct client_journal {
    void (*put)(void *arg, const char *id, const struct client_binding *b);
    void (*gone)(void *arg, const char *id, const char *contact);
    void *arg;
};
/* j (borrowed; NULL: none) is told from now on. */
void client_table_set_journal(struct client_table *ct, const struct client_journal *j);

/* A binding back from the store at start (r->expires_s unused): added as
 * it was, expiring at expires_at_ms (loop clock), without the REGISTER
 * rules and without telling the journal; a Contact the ID already has, or
 * one beyond max_contacts, is skipped (-EEXIST, -ENOSPC). Returns 0,
 * -EINVAL, -EEXIST, -ENOSPC or -ENOMEM. */
int client_table_restore(struct client_table *ct, const struct client_reg *r,
                         uint64_t expires_at_ms);

/* A reload: IDs already above the new bound keep their bindings till they
 * expire; new ones are held to it. Out of range: ignored. */
void client_table_set_max_contacts(struct client_table *ct, unsigned max_contacts);
/* Frees every binding and the table (its timer too). */
void client_table_free(struct client_table *ct);
/* Expires bindings from a 1 s timer on the loop. Returns 0 or -errno. */
int client_table_attach(struct client_table *ct, struct loop *l);
/* Removes every binding due at or before now_ms (the timer calls it; tests
 * call it with a chosen time). */
void client_table_expire(struct client_table *ct, uint64_t now_ms);

/* Applies one REGISTER at now_ms (loop clock): its n Contacts (all for
 * the same id) create, refresh or remove bindings; outcomes[i] (may be
 * NULL) says what regs[i] did. RFC 3261 10.3 step 7: a Contact whose
 * binding has the same Call-ID and a CSeq not below the request's makes
 * the request out of order and nothing changes (-ESTALE); a binding
 * already past its expiry counts as absent. Returns 0, -ESTALE, -EINVAL
 * (n is 0 or above CLIENT_CONTACTS_MAX, ids differ, an empty or over-long
 * id, contact or call_id, an unset address, q above 1000), -ENOMEM (the
 * Contacts before the failing one stay applied). */
int client_table_apply(struct client_table *ct, const struct client_reg *regs, size_t n,
                       uint64_t now_ms, enum client_reg_outcome *outcomes);
/* client_table_apply with one Contact. */
int client_table_register(struct client_table *ct, const struct client_reg *r, uint64_t now_ms,
                          enum client_reg_outcome *outcome);

/* The first binding for id as stored (live or not), or NULL; the others
 * follow through client_binding_next. Owned by the table (see above). */
const struct client_binding *client_table_find(const struct client_table *ct, const char *id);
/* The first live binding for id at now_ms: NULL when none is left before
 * its expiry (the 1 s timer may not have swept them yet). */
const struct client_binding *client_table_lookup(const struct client_table *ct, const char *id,
                                                 uint64_t now_ms);
/* The live bindings for id at now_ms, highest q first (no q counts as 1.0;
 * equal q: most recently created first), at most max into out. Returns how
 * many. */
size_t client_table_bindings(const struct client_table *ct, const char *id, uint64_t now_ms,
                             const struct client_binding **out, size_t max);

/* One Contact of the 302 for a request to id. */
struct client_target {
    char uri[CLIENT_TARGET_MAX];
    int q; /* thousandths; -1: none */
};

/* The 302 Contacts for a request to id from `asker` at now_ms (design.md
 * decision 3, figures 2a-2c), in q order: a binding's own channel when the
 * asker is its serving proxy, else "sip:ID@proxy-host:port" naming the
 * serving proxy, once per proxy (that proxy forks to its own bindings).
 * Returns how many (1..max) or -ENOENT (no live binding). */
int client_table_redirect(const struct client_table *ct, const char *id, const struct addr *asker,
                          uint64_t now_ms, struct client_target *out, size_t max);

/* Bindings held (every ID's, live or due but not swept yet). */
size_t client_table_count(const struct client_table *ct);
/* Visits every binding, live or due but not swept yet (order unspecified;
 * for /bindings). The callback must not change the table. */
typedef void (*client_table_visit_cb)(const char *id, const struct client_binding *b, void *arg);
void client_table_foreach(const struct client_table *ct, client_table_visit_cb cb, void *arg);
/* Bindings that ran out (timer), since the table was made. */
uint64_t client_table_expired(const struct client_table *ct);

/* Memory held by the table, split into what the structure costs (hash
 * nodes, buckets, binding records, their keys' nodes) and the bytes of the
 * strings it stores (ID, Contact, Call-ID with their NULs). malloc's own
 * per-chunk header is not counted. */
struct client_table_memory {
    size_t overhead;
    size_t strings;
};
void client_table_memory(const struct client_table *ct, struct client_table_memory *out);

/* ---- a binding's fields ---- */

/* The next binding of the same ID as stored (live or not), or NULL. */
const struct client_binding *client_binding_next(const struct client_binding *b);
const char *client_binding_contact(const struct client_binding *b);
/* q in thousandths; -1: none was given. */
int client_binding_q(const struct client_binding *b);
const char *client_binding_call_id(const struct client_binding *b);
uint32_t client_binding_cseq(const struct client_binding *b);
/* Loop-clock ms at which it expires. */
uint64_t client_binding_expires_at(const struct client_binding *b);
/* Whole seconds left at now_ms, rounded up (0 when due). */
uint32_t client_binding_remaining_s(const struct client_binding *b, uint64_t now_ms);
void client_binding_serving(const struct client_binding *b, struct addr *out);
void client_binding_source(const struct client_binding *b, struct addr *out);
/* True when `asker` is the serving proxy: its address equals the serving
 * proxy's, or the address the REGISTER came from (a proxy may advertise an
 * address other than the one it sends from). */
bool client_binding_served_by(const struct client_binding *b, const struct addr *asker);

#endif

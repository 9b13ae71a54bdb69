/* nat_table: the patent's NAT client table 32 — the clients this proxy
 * serves that sit behind a NAT, keyed by their ID (the AOR user of the
 * REGISTER's To, figure 3b field 124). One ID may have several phones (a
 * desk phone and a softphone, issue #16), told apart by their NAT address;
 * each has its own entry, expiry and keepalive count.
 *
 * Each entry records where the client's packets come from (the NAT's public
 * address and port, fig. 3a step 114), the socket its REGISTER arrived on
 * (design decision 10: requests to a NATed client leave from that socket),
 * and when the registration expires. Entries expire on their own through the
 * table's timing wheel; an expired entry simply vanishes (redirectd's binding
 * expires at the same time).
 *
 * The table also keeps its clients on a ring so the keepalive module can
 * visit them round robin (nat_table_next) without a burst.
 *
 * Users: registration (step 119 writes, unregister removes), keepalive (ring,
 * missed-answer counts), messaging (step 152a: nat_table_lookup). */
#ifndef PROXYD_NAT_TABLE_H
#define PROXYD_NAT_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pinhole/addr.h"
#include "pinhole/loop.h"

/* Longest client ID we keep. AORs are phone IDs: far shorter in practice. */
#define NAT_AOR_MAX 128
/* Phones per ID: redirectd's max_contacts bound (32) at most; a new one
 * beyond evicts the one closest to expiry, as redirectd does. */
#define NAT_PHONES_MAX 32

struct nat_table;

/* A copy of one entry, handed out by value so no caller holds a pointer into
 * the table across a change. */
struct nat_binding {
    struct addr nat;        /* the client's public (NAT) address and port */
    struct transport tp;    /* the socket its REGISTER arrived on */
    uint64_t expires_at_ms; /* loop_now_ms() clock */
    uint32_t id;            /* changes on every put: tells a refresh apart */
    uint64_t phone;         /* which phone: nat_table_phone_key of its REGISTER's Call-ID */
    unsigned missed;        /* OPTIONS keepalives unanswered in a row */
};

/* l may be NULL (unit tests drive expiry with nat_table_expire); otherwise
 * expiry runs from a 1 s timer on the loop. Returns 0 or -ENOMEM. */
int nat_table_new(struct nat_table **out, struct loop *l);
void nat_table_free(struct nat_table *nt);

/* A phone keeps one Call-ID for its registrations (RFC 3261 10.2.4): its
 * 64-bit FNV-1a hash tells the phone again after its NAT moved it to a new
 * port, as redirectd's Call-ID match does (client_table.h). */
uint64_t nat_table_phone_key(const char *call_id);

/* Step 119: records (or refreshes) aor's phone at NAT address nat; failing
 * an entry at that address, the entry of the same phone (key `phone`, 0:
 * unknown) is moved there. A refresh keeps the client's place on the
 * keepalive ring and resets its missed count. Returns 0, -EINVAL (empty or
 * too long AOR) or -ENOMEM. */
int nat_table_put(struct nat_table *nt, const char *aor, const struct addr *nat,
                  const struct transport *tp, uint64_t expires_at_ms, uint64_t phone);
/* The most recently added phone of aor into *out. Returns 0 or -ENOENT. */
int nat_table_lookup(const struct nat_table *nt, const char *aor, struct nat_binding *out);
/* Step 152a: aor's phone at NAT address nat into *out. Returns 0 or -ENOENT. */
int nat_table_lookup_at(const struct nat_table *nt, const char *aor, const struct addr *nat,
                        struct nat_binding *out);
/* Up to max of aor's phones into out, newest first; returns how many. */
size_t nat_table_bindings(const struct nat_table *nt, const char *aor, struct nat_binding *out,
                          size_t max);
/* Every phone of aor; true when there was one. */
bool nat_table_remove(struct nat_table *nt, const char *aor);
/* aor's phone at nat; true when it was there. */
bool nat_table_remove_at(struct nat_table *nt, const char *aor, const struct addr *nat);
/* aor's phone with key `phone` (not 0), wherever it is; true when found. */
bool nat_table_remove_phone(struct nat_table *nt, const char *aor, uint64_t phone);
/* Phones held, every ID's. */
size_t nat_table_count(const struct nat_table *nt);
/* Visits every client (hash order: stable while the table does not change,
 * so /clients pages line up). The callback must not change the table. */
typedef void (*nat_table_visit_cb)(const char *aor, const struct nat_binding *b, void *arg);
void nat_table_foreach(const struct nat_table *nt, nat_table_visit_cb cb, void *arg);
/* Drops every entry expiring at or before now_ms (the timer calls this). */
void nat_table_expire(struct nat_table *nt, uint64_t now_ms);

/* What the table tells its persistence (nat_store.h) of every change: a
 * phone's entry written (new, refreshed, moved to a new NAT address) and
 * an entry gone (removed, moved away from, evicted). Expiry is not told:
 * the store forgets on its own. The callbacks must not change the table. */
struct nat_journal {
    void (*put)(void *arg, const char *aor, const struct nat_binding *b);
    void (*gone)(void *arg, const char *aor, const struct addr *nat);
    void *arg;
};
/* j (borrowed; NULL: none) is told from now on. */
void nat_table_set_journal(struct nat_table *nt, const struct nat_journal *j);

/* The next client on the keepalive ring (each call moves on by one, wrapping
 * around). *aor points into the table and is valid until the table next
 * changes. Returns 0 or -ENOENT when the table is empty. */
int nat_table_next(struct nat_table *nt, const char **aor, struct nat_binding *out);

/* Records the outcome of one OPTIONS keepalive to aor's phone `id`
 * (answered: the count restarts; else it grows). An outcome for an entry
 * that has since been refreshed or removed is ignored. Returns the missed
 * count after the update, or -ENOENT when ignored. */
int nat_table_keepalive_result(struct nat_table *nt, const char *aor, uint32_t id, bool answered);

#endif

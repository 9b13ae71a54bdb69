/* nat_store: the NAT client table kept in a store (issue #17, store.h), so
 * that a restarted proxyd sends its keepalives at once instead of letting
 * every NAT binding close: one row per phone, key "AOR \x1f IP:port" (its
 * NAT address), value its phone key (nat_table_phone_key), expiring with
 * its registration. At start every unexpired row is put back in the table,
 * on the proxy's own socket (the only one it has), and on the keepalive
 * ring.
 *
 * Unlike redirectd's bindings, nothing waits for these commits: a proxyd
 * killed within a commit interval of a REGISTER forgets that phone until
 * its next REGISTER (its binding at redirectd is kept; only its keepalives
 * are late).
 *
 * Ownership: the NAT store owns its store; the table and the transport are
 * borrowed (both outlive it: proxy.c). */
#ifndef PROXYD_NAT_STORE_H
#define PROXYD_NAT_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "nat_table.h"
#include "pinhole/store.h"

struct nat_store {
    struct store *store;
    struct nat_table *nt;
    struct loop *loop;
    struct nat_journal journal;
    uint64_t loaded;       /* phones put back at start */
    uint64_t skipped;      /* rows not put back (unreadable) */
    uint64_t write_errors; /* changes the store could not queue */
};

/* Opens spec ("memory", "sqlite:PATH"), puts every unexpired phone back
 * into nt on tp, and journals nt's changes from then on. Returns 0 or the
 * store's error (logged). */
int nat_store_open(struct nat_store *ns, const char *spec, struct loop *l, struct nat_table *nt,
                   const struct transport *tp);
/* Commits what is queued and closes. Safe on a store never opened. */
void nat_store_close(struct nat_store *ns);

#endif

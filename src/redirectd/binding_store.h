/* binding_store: the client table kept in a store (issue #17, store.h):
 * every binding a REGISTER writes goes to the store as one row, key
 * "ID \x1f Contact", value its serving and registering addresses, CSeq, q
 * and Call-ID, expiring when the binding does; a binding removed, moved or
 * evicted is deleted. At start every unexpired row is put back in the
 * table before redirectd serves.
 *
 * The registrar answers a REGISTER once binding_store_sync says its rows
 * are committed (registrar.c); a row the store could not even queue (its
 * queue full: the disk is not keeping up) marks the REGISTER failed, which
 * binding_store_take_failure tells.
 *
 * Ownership: the binding store owns its store; the client table is
 * borrowed (it outlives the binding store: redirector.c). */
#ifndef REDIRECTD_BINDING_STORE_H
#define REDIRECTD_BINDING_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "client_table.h"
#include "pinhole/store.h"

struct binding_store {
    struct store *store;
    struct client_table *ct;
    struct loop *loop;
    struct client_journal journal;
    bool failed;      /* a write of the REGISTER being applied was refused */
    uint64_t loaded;  /* rows put back at start */
    uint64_t skipped; /* rows not put back (unreadable, over max_contacts) */
    uint64_t write_errors;
};

/* Opens spec ("memory", "sqlite:PATH"), puts every unexpired binding back
 * into ct, and journals ct's changes from then on. Returns 0 or the
 * store's error (logged). */
int binding_store_open(struct binding_store *bs, const char *spec, struct loop *l,
                       struct client_table *ct);
/* Commits what is queued and closes (SIGTERM, or a failed start). */
void binding_store_close(struct binding_store *bs);
bool binding_store_durable(const struct binding_store *bs);
/* True (once) when a write since the last call could not be queued. */
bool binding_store_take_failure(struct binding_store *bs);

#endif

/* store_sqlite: the "sqlite:PATH" backend of store.h: one table per
 * namespace (k TEXT PRIMARY KEY, v BLOB, e INTEGER expiry), WAL journal,
 * synchronous=NORMAL, prepared statements. Called by store.c only, which
 * groups the writes into transactions (begin, put/del..., commit).
 *
 * Ownership: the backend owns its connection and statements; keys and
 * values are bound for the call only. */
#ifndef STORE_SQLITE_H
#define STORE_SQLITE_H

#include <stddef.h>
#include <stdint.h>

#include "pinhole/store.h"

struct store_sqlite;

/* path: the database file; ns: a checked table name. Returns 0, -EIO
 * (logged), -ENOMEM. */
int store_sqlite_open(struct store_sqlite **out, const char *path, const char *ns);
void store_sqlite_close(struct store_sqlite *db);

int store_sqlite_begin(struct store_sqlite *db);
int store_sqlite_put(struct store_sqlite *db, const char *key, const void *value, size_t len,
                     uint64_t expires_unix_ms);
int store_sqlite_del(struct store_sqlite *db, const char *key);
int store_sqlite_commit(struct store_sqlite *db);
/* After a failed statement: the group is dropped. */
void store_sqlite_rollback(struct store_sqlite *db);
/* Deletes the rows expired at now (inside a transaction begun by the
 * caller); *n their count. Returns 0 or -EIO. */
int store_sqlite_purge(struct store_sqlite *db, uint64_t now_unix_ms, uint64_t *n);
/* Every row expiring after now. Returns 0, cb's non-zero value, or -EIO. */
int store_sqlite_load(struct store_sqlite *db, uint64_t now_unix_ms, store_load_cb cb, void *arg);

#endif

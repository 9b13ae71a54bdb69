/* table: a hash table keyed by string, with per-entry expiry driven by a
 * timer (a timing wheel: insert, lookup, refresh and remove are O(1)).
 * Keys come from the network, so buckets are chosen by SipHash-1-3 under a
 * random key per table: a peer cannot make keys collide. Sized for a
 * million entries: the per-entry overhead is one node (44 bytes before the
 * key) and 8 to 16 bytes of buckets.
 *
 * Ownership: the table owns its nodes and a copy of each key, not the
 * values: those are given back (table_remove, on_expire) or passed to
 * on_free. */
#ifndef PINHOLE_TABLE_H
#define PINHOLE_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct loop;
struct table;

/* The entry expired and is already out of the table: the callback owns
 * `value` now (frees it, or re-inserts it). `key` is valid during the call. */
typedef void (*table_expire_cb)(const char *key, void *value, void *arg);
/* Frees a value still in the table when the table is freed; may be NULL. */
typedef void (*table_free_cb)(void *value);

/* tick_ms: expiry resolution (e.g. 1000 for registrations, 100 for
 * transactions). size_hint: expected entries (the buckets start there and
 * double at load factor 1). on_expire NULL hands expired values to on_free.
 * Returns 0, -EINVAL (out NULL, tick_ms 0) or -ENOMEM. */
int table_new(struct table **out, size_t size_hint, uint64_t tick_ms, table_expire_cb on_expire,
              table_free_cb on_free, void *arg);
/* Frees every entry (calling on_free for each value) and the table. */
void table_free(struct table *t);

/* Inserts or replaces. expires_at_ms is on the loop's monotonic clock;
 * 0 = never. Replacing returns the old value through *old (old may be
 * NULL: then on_free is called on the old value, unless it is `value`
 * itself). The key is copied. Returns 0, -ENOMEM, or -EINVAL (value NULL,
 * so that a NULL from table_get means absent; or a key over 4096 bytes,
 * which is never stored nor found). */
int table_put(struct table *t, const char *key, void *value, uint64_t expires_at_ms, void **old);
void *table_get(const struct table *t, const char *key);
/* Moves an entry's expiry. Returns 0 or -ENOENT. */
int table_touch(struct table *t, const char *key, uint64_t expires_at_ms);
/* The entry's expiry; 0 when it never expires or is absent. */
uint64_t table_expiry(const struct table *t, const char *key);
/* Removes and returns the value (the caller owns it); NULL when absent. */
void *table_remove(struct table *t, const char *key);
size_t table_count(const struct table *t);

/* Expires every entry due at or before now_ms (calls on_expire for each).
 * The timer from table_attach calls this; tests call it directly. A call
 * from inside on_expire does nothing. */
void table_expire(struct table *t, uint64_t now_ms);
/* Drives expiry from a periodic timer on the loop every tick_ms (owned by
 * the table, freed by table_free). Returns 0, -EINVAL, -EALREADY (already
 * attached) or -ENOMEM. */
int table_attach(struct table *t, struct loop *l);

/* Visits every entry (order unspecified). The callback must not change the table. */
typedef void (*table_visit_cb)(const char *key, void *value, uint64_t expires_at_ms, void *arg);
void table_foreach(const struct table *t, table_visit_cb cb, void *arg);
/* Bytes the table itself uses (nodes and buckets, not values). */
size_t table_memory(const struct table *t);

#endif

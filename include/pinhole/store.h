/* store: where a daemon's table survives the daemon (issue #17): a map of
 * key → (value bytes, wall-clock expiry) behind redirectd's client table
 * and proxyd's NAT client table. The table stays the daemon's own, in
 * memory, for every lookup; the store only keeps a copy of each change and
 * gives it all back at start.
 *
 * Backends, named by the `store`/`state` key:
 *   "memory"       nothing kept (a restart starts empty; the old behaviour)
 *   "sqlite:PATH"  an SQLite database in WAL mode (one table per namespace)
 *
 * Writes (store_put, store_del) are queued and committed in groups, every
 * STORE_GROUP_MS or STORE_GROUP_MAX writes, whichever comes first, in one
 * transaction each; store_sync waits for the commit of everything queued
 * before it, which is what lets redirectd answer 200 only once a binding
 * is on disk while keeping its REGISTER rate. With synchronous=NORMAL in
 * WAL mode a commit is in the OS before the callback runs: a killed
 * process loses nothing acknowledged (a power cut may lose the last
 * commits; docs/operations.md, "High availability"). A commit costs a few
 * tens of microseconds on the loop, grouped, never per request.
 *
 * Rows past their expiry are not returned by store_load and are purged by
 * the store itself once a minute.
 *
 * Ownership: the store owns copies of every key and value given to it; a
 * struct store_wait is the caller's (embedded in its own context), linked
 * into the store until its callback runs or store_wait_cancel. */
#ifndef PINHOLE_STORE_H
#define PINHOLE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pinhole/dlist.h"
#include "pinhole/loop.h"

/* Longest a write waits for its commit: 2 ms cost a third of redirectd's
 * REGISTER rate (a transaction per few rows); 10 ms keeps 0.88 of it
 * (docs/performance.md) and is far below any SIP timer. */
#define STORE_GROUP_MS 10
#define STORE_GROUP_MAX 512   /* writes per commit at most */
#define STORE_QUEUE_MAX 65536 /* writes queued at most: beyond, -ENOBUFS */
#define STORE_KEY_MAX 1024
#define STORE_VALUE_MAX 2048
#define STORE_SPEC_MAX 1024

struct store;

/* Checks a spec without opening anything ("memory", "sqlite:/abs/or/rel
 * path"). Returns 0 or -EINVAL. */
int store_spec_valid(const char *spec);

/* Opens the store of spec for namespace ns (a table name: letters, digits,
 * '_'), committing from a timer on l. SQLite: the file and its table are
 * created when missing (the directory must exist). Returns 0, -EINVAL (bad
 * spec or ns), -EIO (the database cannot be opened or set up; a log line
 * says why) or -ENOMEM. */
int store_open(struct store **out, const char *spec, const char *ns, struct loop *l);
/* Commits what is queued (at shutdown, blocking is fine), cancels every
 * wait (their callbacks run with -ECANCELED) and frees the store. */
void store_close(struct store *s);

/* True when the store keeps anything (not "memory"). */
bool store_durable(const struct store *s);
const char *store_spec(const struct store *s);

/* Queues key → value (len bytes) expiring at expires_unix_ms (wall clock,
 * ms since the epoch), replacing what key had. Returns 0, -EINVAL (key
 * empty or above STORE_KEY_MAX, len above STORE_VALUE_MAX), -ENOBUFS
 * (STORE_QUEUE_MAX writes queued: the disk is not keeping up), -ENOMEM.
 * "memory": 0 and nothing kept. */
int store_put(struct store *s, const char *key, const void *value, size_t len,
              uint64_t expires_unix_ms);
/* Queues the removal of key. Same returns. */
int store_del(struct store *s, const char *key);

/* One waiter for store_sync, embedded by its owner. */
struct store_wait;
typedef void (*store_synced_cb)(struct store_wait *w, int err);
struct store_wait {
    struct dlist link; /* in the store's list while waiting */
    store_synced_cb cb;
    uint64_t seq; /* the writes it waits for: those up to this one */
    bool waiting;
};

/* cb runs once every write queued so far is committed (err 0) or failed
 * (err -EIO: nothing of that group is kept; the caller must not claim it
 * is). Never from inside this call; with nothing queued, or "memory", it
 * runs on the next loop turn. */
void store_sync(struct store *s, struct store_wait *w, store_synced_cb cb);
/* No callback any more; safe on a wait that is not waiting. */
void store_wait_cancel(struct store_wait *w);

/* Start of day: calls cb for every row of the namespace that expires after
 * now_unix_ms (cb returns 0 to go on, anything else stops the load and is
 * returned), synchronously, before the daemon serves. Returns 0, that
 * value, or -EIO. "memory": 0, no call. */
typedef int (*store_load_cb)(void *arg, const char *key, const void *value, size_t len,
                             uint64_t expires_unix_ms);
int store_load(struct store *s, uint64_t now_unix_ms, store_load_cb cb, void *arg);

/* Counters, only ever incremented, but queued and rows_on_disk. */
struct store_stats {
    uint64_t commits;  /* groups committed */
    uint64_t writes;   /* puts and dels committed */
    uint64_t failures; /* groups that failed */
    uint64_t purged;   /* expired rows deleted */
    size_t queued;     /* writes waiting for their commit */
};
void store_get_stats(const struct store *s, struct store_stats *out);

/* The wall clock in ms (what expiries are stored in). */
uint64_t store_now_unix_ms(void);

#endif

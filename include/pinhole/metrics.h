/* metrics: what an operator reads from a running daemon, on its `stats`
 * address (design.md: the `stats` key of every daemon; unset = off).
 *
 * A registry holds named counters and gauges. A series points at the
 * daemon's own uint64_t (or a read callback): registering costs nothing on
 * the packet path, the daemon keeps incrementing its counters as before
 * and a scrape reads them. GET /metrics renders the registry in the
 * Prometheus text exposition format 0.0.4.
 *
 * The HTTP side (libevent's evhttp, on the daemon's loop) also serves JSON
 * for pinholectl: GET /status (daemon, version, pid, uptime and the
 * daemon's own fields) and the tables a daemon routes (/clients,
 * /bindings, /sessions). Tables are written one row per line,
 *   {"table":"bindings","total":2,"offset":0,"limit":1000,
 *    "columns":["aor","contact",...],
 *   "rows":[
 *   ["alice","192.0.2.1:5060",...],
 *   ["bob",...]
 *   ]}
 * and bounded by ?limit=N (default METRICS_LIMIT_DEFAULT, at most
 * METRICS_LIMIT_MAX) and ?offset=N, so a huge table cannot hold the loop.
 *
 * Everything runs on the loop; nothing here blocks. The stats address is
 * for operators and Prometheus only: it has no authentication (see
 * docs/operations.md, keep it on loopback or a management network). */
#ifndef PINHOLE_METRICS_H
#define PINHOLE_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pinhole/addr.h"
#include "pinhole/loop.h"

struct evbuffer;
struct metrics;
struct metrics_http;

/* ---- the registry ---- */

enum metric_type { METRIC_COUNTER, METRIC_GAUGE };

/* Omit the series while its value is 0: for label sets that are mostly
 * empty, such as responses by status code (Prometheus treats a series that
 * appears later as having started at 0). */
#define METRIC_SPARSE 1u

/* Limits that keep a registry and a scrape small and bounded. */
#define METRIC_NAME_MAX 96
#define METRIC_LABELS_MAX 4 /* label pairs per series */
#define METRIC_LABEL_VALUE_MAX 64

struct metric_def {
    const char *name; /* [a-zA-Z_:][a-zA-Z0-9_:]*, e.g. "pinhole_sip_requests_total" */
    enum metric_type type;
    const char *help; /* one line; every series of a name shares it */
    /* NULL, or {"method", "INVITE", "code", "200", NULL}: name/value pairs,
     * names [a-zA-Z_][a-zA-Z0-9_]*; values are escaped when rendered. */
    const char *const *labels;
    unsigned flags; /* METRIC_SPARSE */
};

/* Reads a value at scrape time (a table's size, a pool's usage). */
typedef uint64_t (*metric_read_cb)(const void *arg);
/* Called once at the start of every scrape, before any value is read: a
 * daemon refreshes the snapshot struct its series point into. */
typedef void (*metrics_refresh_cb)(void *arg);

/* Returns 0 or -ENOMEM. Free with metrics_free. */
int metrics_new(struct metrics **out);
/* Frees the registry (never what its series point at). NULL is allowed. */
void metrics_free(struct metrics *m);

/* Registers one series reading *value, which must stay valid until
 * metrics_free. The name, help and labels are copied. Returns 0, -EINVAL
 * (bad name or label, a name already registered with another type or
 * help, the same name and labels twice) or -ENOMEM. The first error is
 * also kept (metrics_error) so a daemon can register a batch and check
 * once. */
int metrics_add(struct metrics *m, const struct metric_def *def, const uint64_t *value);
/* The same with a callback: read(arg) at every scrape. */
int metrics_add_read(struct metrics *m, const struct metric_def *def, metric_read_cb read,
                     const void *arg);
/* Registers a refresh hook (at most 8). Returns 0 or -ENOSPC. */
int metrics_on_refresh(struct metrics *m, metrics_refresh_cb cb, void *arg);
/* The first error any registration returned, or 0. */
int metrics_error(const struct metrics *m);

/* Appends the whole registry to `out` in the text format 0.0.4: one
 * HELP and TYPE line per name, then its series in registration order.
 * Runs the refresh hooks first. Returns 0 or -ENOMEM. */
int metrics_render(struct metrics *m, struct evbuffer *out);

/* ---- series every daemon has, named alike in all three ---- */

struct txn_stats;

/* pinhole_sip_requests_total{method=names[i]} reading counts[i], i < n:
 * new requests received (retransmissions are counted by the transaction
 * layer instead). */
int metrics_add_requests(struct metrics *m, const char *const *names, const uint64_t *counts,
                         size_t n);
/* pinhole_sip_responses_total{code} reading counts[i] for the status
 * first_code + i, i < n; sparse (codes never sent are left out). */
int metrics_add_responses(struct metrics *m, const uint64_t *counts, size_t n, unsigned first_code);
/* pinhole_txn_*: live server and client transactions, absorbed
 * retransmissions, our retransmissions and client timeouts, reading *snap,
 * which the daemon refreshes (txn_layer_stats) in a metrics_on_refresh
 * hook. */
int metrics_add_txn(struct metrics *m, const struct txn_stats *snap);

/* ---- JSON writing, for status fields and tables ---- */

/* Appends s as a JSON string. Anything outside printable ASCII is escaped
 * (\u00XX for bytes >= 0x80, as if Latin-1): SIP text from the network is
 * not always valid UTF-8, and the output must always be valid JSON. */
void metrics_json_string(struct evbuffer *out, const char *s);

/* A flat JSON object being written: the /status fields. */
struct metrics_obj {
    struct evbuffer *out;
    unsigned n;
};
void metrics_obj_str(struct metrics_obj *o, const char *key, const char *value);
void metrics_obj_u64(struct metrics_obj *o, const char *key, uint64_t value);
void metrics_obj_bool(struct metrics_obj *o, const char *key, bool value);
/* "IP:port", or null when unset. */
void metrics_obj_addr(struct metrics_obj *o, const char *key, const struct addr *value);

/* Bounds of one listing, from ?offset= and ?limit=. */
#define METRICS_LIMIT_DEFAULT 1000
#define METRICS_LIMIT_MAX 10000
struct metrics_query {
    size_t offset;
    size_t limit;
};

/* A table being written (the format at the top of this file). */
struct metrics_table {
    struct evbuffer *out;
    struct metrics_query q;
    size_t seen;    /* entries offered to metrics_table_row so far */
    size_t written; /* rows written */
    unsigned cells; /* cells in the open row */
    bool row_open;
};
/* Writes the head. columns is NULL-terminated; total is the table's size
 * (so a client can tell a listing was cut). */
void metrics_table_begin(struct metrics_table *t, struct evbuffer *out,
                         const struct metrics_query *q, const char *name,
                         const char *const *columns, size_t total);
/* Offers the next entry: true when it falls inside offset/limit, and a row
 * is open for its cells; false to skip it. */
bool metrics_table_row(struct metrics_table *t);
/* True once `limit` rows are written: the caller may stop walking. */
bool metrics_table_full(const struct metrics_table *t);
void metrics_table_str(struct metrics_table *t, const char *value);
void metrics_table_u64(struct metrics_table *t, uint64_t value);
void metrics_table_i64(struct metrics_table *t, int64_t value);
/* "IP:port", or null when unset. */
void metrics_table_addr(struct metrics_table *t, const struct addr *value);
/* null: a cell with no value (a channel not latched yet). */
void metrics_table_null(struct metrics_table *t);
/* Closes the rows and the object. */
void metrics_table_end(struct metrics_table *t);

/* ---- the HTTP endpoint ---- */

/* Writes a JSON document for GET <path> into out. Returns 0, or -errno
 * (the client gets 500). */
typedef int (*metrics_json_cb)(struct evbuffer *out, const struct metrics_query *q, void *arg);
/* Adds the daemon's own fields to /status. */
typedef void (*metrics_status_cb)(struct metrics_obj *o, void *arg);

/* A server for registry m (not owned) on loop l, not listening yet.
 * daemon names it in /status (a literal: not copied). Adds two series to
 * m that read the server: pinhole_info{daemon,version} (always 1) and
 * pinhole_uptime_seconds; so free m right after the server, never render
 * it on its own after. Returns 0, -ENOMEM, or -EINVAL (m already has a
 * server). Free with metrics_http_free before loop_free. */
int metrics_http_new(struct metrics_http **out, struct loop *l, struct metrics *m,
                     const char *daemon);
/* Serves GET path (e.g. "/bindings", copied) with cb. At most 8 routes.
 * Returns 0, -EEXIST, -EINVAL (not "/..." or a built-in path), -ENOSPC. */
int metrics_http_route(struct metrics_http *h, const char *path, metrics_json_cb cb, void *arg);
void metrics_http_status(struct metrics_http *h, metrics_status_cb cb, void *arg);
/* Listens on a (TCP; port 0 = any free port), or stops listening when a
 * is NULL or unset; the same address again changes nothing (reload). The
 * new address is bound before the old one closes, so on failure the old
 * one is still served. Returns 0 or -errno from socket/bind/listen. */
int metrics_http_listen(struct metrics_http *h, const struct addr *a);
/* metrics_http_listen, with the log line an operator needs either way
 * (where it serves, or why it cannot). */
int metrics_http_serve(struct metrics_http *h, const struct addr *a);
/* The address served (the kernel's port for port 0); unset when off. */
const struct addr *metrics_http_local(const struct metrics_http *h);
/* Closes the listener and every open connection. NULL is allowed. */
void metrics_http_free(struct metrics_http *h);

#endif

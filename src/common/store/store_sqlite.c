/* store_sqlite: the SQLite backend (see store_sqlite.h). */
#include "store_sqlite.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>

#include "pinhole/log.h"

enum stmt { ST_BEGIN, ST_COMMIT, ST_ROLLBACK, ST_PUT, ST_DEL, ST_PURGE, ST_LOAD, ST_COUNT };

struct store_sqlite {
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT];
};

static int fail(struct store_sqlite *db, const char *what)
{
    log_error("store: sqlite: %s: %s", what, db->db ? sqlite3_errmsg(db->db) : "out of memory");
    return -EIO;
}

static int exec(struct store_sqlite *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db->db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return 0;
    log_error("store: sqlite: %s: %s", sql, msg ? msg : "error");
    sqlite3_free(msg);
    return -EIO;
}

/* The schema, and the pragmas that make grouped commits cheap and a
 * killed process lose nothing (store.h). */
static int set_up(struct store_sqlite *db, const char *ns)
{
    char sql[512];
    /* journal_mode answers with a row: read it, it must say "wal" */
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db->db, "PRAGMA journal_mode=WAL", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW ||
        sqlite3_stricmp((const char *)sqlite3_column_text(st, 0), "wal") != 0) {
        sqlite3_finalize(st);
        return fail(db, "cannot switch to WAL (a read-only or network file system?)");
    }
    sqlite3_finalize(st);
    if (exec(db, "PRAGMA synchronous=NORMAL") || exec(db, "PRAGMA busy_timeout=0"))
        return -EIO;
    snprintf(sql, sizeof sql,
             "CREATE TABLE IF NOT EXISTS %s (k TEXT PRIMARY KEY, v BLOB NOT NULL, "
             "e INTEGER NOT NULL) WITHOUT ROWID; "
             "CREATE INDEX IF NOT EXISTS %s_expiry ON %s (e)",
             ns, ns, ns);
    return exec(db, sql);
}

static int prepare(struct store_sqlite *db, const char *ns)
{
    char sql[ST_COUNT][256];
    snprintf(sql[ST_BEGIN], sizeof sql[0], "BEGIN");
    snprintf(sql[ST_COMMIT], sizeof sql[0], "COMMIT");
    snprintf(sql[ST_ROLLBACK], sizeof sql[0], "ROLLBACK");
    snprintf(sql[ST_PUT], sizeof sql[0], "INSERT OR REPLACE INTO %s (k, v, e) VALUES (?, ?, ?)",
             ns);
    snprintf(sql[ST_DEL], sizeof sql[0], "DELETE FROM %s WHERE k = ?", ns);
    snprintf(sql[ST_PURGE], sizeof sql[0], "DELETE FROM %s WHERE e <= ?", ns);
    snprintf(sql[ST_LOAD], sizeof sql[0], "SELECT k, v, e FROM %s WHERE e > ?", ns);
    for (int i = 0; i < ST_COUNT; i++)
        if (sqlite3_prepare_v2(db->db, sql[i], -1, &db->st[i], NULL) != SQLITE_OK)
            return fail(db, sql[i]);
    return 0;
}

int store_sqlite_open(struct store_sqlite **out, const char *path, const char *ns)
{
    struct store_sqlite *db = calloc(1, sizeof *db);
    if (!db)
        return -ENOMEM;
    int rc = sqlite3_open_v2(path, &db->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             NULL);
    int err = 0;
    if (rc != SQLITE_OK) {
        log_error("store: sqlite: cannot open %s: %s", path,
                  db->db ? sqlite3_errmsg(db->db) : "out of memory");
        err = -EIO;
    }
    if (!err)
        err = set_up(db, ns);
    if (!err)
        err = prepare(db, ns);
    if (err) {
        store_sqlite_close(db);
        return err;
    }
    *out = db;
    return 0;
}

void store_sqlite_close(struct store_sqlite *db)
{
    if (!db)
        return;
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(db->st[i]);
    sqlite3_close(db->db);
    free(db);
}

/* Runs a prepared statement to its end and resets it. */
static int run(struct store_sqlite *db, enum stmt i, const char *what)
{
    sqlite3_stmt *st = db->st[i];
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_DONE ? 0 : fail(db, what);
}

int store_sqlite_begin(struct store_sqlite *db)
{
    return run(db, ST_BEGIN, "BEGIN");
}

int store_sqlite_commit(struct store_sqlite *db)
{
    return run(db, ST_COMMIT, "COMMIT");
}

void store_sqlite_rollback(struct store_sqlite *db)
{
    if (!sqlite3_get_autocommit(db->db))
        (void)run(db, ST_ROLLBACK, "ROLLBACK");
}

int store_sqlite_put(struct store_sqlite *db, const char *key, const void *value, size_t len,
                     uint64_t expires_unix_ms)
{
    sqlite3_stmt *st = db->st[ST_PUT];
    if (sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_blob(st, 2, value, (int)len, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_int64(st, 3, (sqlite3_int64)expires_unix_ms) != SQLITE_OK) {
        sqlite3_reset(st);
        return fail(db, "bind");
    }
    return run(db, ST_PUT, "INSERT");
}

int store_sqlite_del(struct store_sqlite *db, const char *key)
{
    if (sqlite3_bind_text(db->st[ST_DEL], 1, key, -1, SQLITE_STATIC) != SQLITE_OK)
        return fail(db, "bind");
    return run(db, ST_DEL, "DELETE");
}

int store_sqlite_purge(struct store_sqlite *db, uint64_t now_unix_ms, uint64_t *n)
{
    if (sqlite3_bind_int64(db->st[ST_PURGE], 1, (sqlite3_int64)now_unix_ms) != SQLITE_OK)
        return fail(db, "bind");
    int err = run(db, ST_PURGE, "purge");
    *n = err ? 0 : (uint64_t)sqlite3_changes(db->db);
    return err;
}

int store_sqlite_load(struct store_sqlite *db, uint64_t now_unix_ms, store_load_cb cb, void *arg)
{
    sqlite3_stmt *st = db->st[ST_LOAD];
    int rc, ret = 0;
    if (sqlite3_bind_int64(st, 1, (sqlite3_int64)now_unix_ms) != SQLITE_OK)
        return fail(db, "bind");
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(st, 0);
        const void *v = sqlite3_column_blob(st, 1);
        int vlen = sqlite3_column_bytes(st, 1);
        sqlite3_int64 e = sqlite3_column_int64(st, 2);
        if (!k || vlen < 0 || e < 0)
            continue; /* not a row we wrote: skipped */
        ret = cb(arg, k, v, (size_t)vlen, (uint64_t)e);
        if (ret)
            break;
    }
    if (!ret && rc != SQLITE_DONE)
        ret = fail(db, "load");
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return ret;
}

/* metrics: the JSON that /status and the tables are written in. Only
 * writing: pinholectl reads it back with json.c. */
#include "pinhole/metrics.h"

#include <event2/buffer.h>
#include <inttypes.h>
#include <stdio.h>

void metrics_json_string(struct evbuffer *out, const char *s)
{
    char buf[256];
    size_t o = 0;

    evbuffer_add(out, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (o > sizeof buf - 8) {
            evbuffer_add(out, buf, o);
            o = 0;
        }
        if (*p == '"' || *p == '\\') {
            buf[o++] = '\\';
            buf[o++] = (char)*p;
        } else if (*p < 0x20 || *p >= 0x7f) {
            o += (size_t)snprintf(buf + o, sizeof buf - o, "\\u%04x", *p);
        } else {
            buf[o++] = (char)*p;
        }
    }
    evbuffer_add(out, buf, o);
    evbuffer_add(out, "\"", 1);
}

static void obj_key(struct metrics_obj *o, const char *key)
{
    if (o->n++)
        evbuffer_add(o->out, ",", 1);
    metrics_json_string(o->out, key);
    evbuffer_add(o->out, ":", 1);
}

void metrics_obj_str(struct metrics_obj *o, const char *key, const char *value)
{
    obj_key(o, key);
    metrics_json_string(o->out, value);
}

void metrics_obj_u64(struct metrics_obj *o, const char *key, uint64_t value)
{
    obj_key(o, key);
    evbuffer_add_printf(o->out, "%" PRIu64, value);
}

void metrics_obj_bool(struct metrics_obj *o, const char *key, bool value)
{
    obj_key(o, key);
    evbuffer_add_printf(o->out, "%s", value ? "true" : "false");
}

void metrics_obj_addr(struct metrics_obj *o, const char *key, const struct addr *value)
{
    char buf[ADDR_STRLEN];
    obj_key(o, key);
    if (value && addr_is_set(value))
        metrics_json_string(o->out, addr_format(value, buf, sizeof buf));
    else
        evbuffer_add(o->out, "null", 4);
}

void metrics_table_begin(struct metrics_table *t, struct evbuffer *out,
                         const struct metrics_query *q, const char *name,
                         const char *const *columns, size_t total)
{
    *t = (struct metrics_table){.out = out, .q = *q};
    evbuffer_add(out, "{\"table\":", 9);
    metrics_json_string(out, name);
    evbuffer_add_printf(out, ",\"total\":%zu,\"offset\":%zu,\"limit\":%zu,\n\"columns\":[", total,
                        q->offset, q->limit);
    for (size_t i = 0; columns[i]; i++) {
        if (i)
            evbuffer_add(out, ",", 1);
        metrics_json_string(out, columns[i]);
    }
    evbuffer_add(out, "],\n\"rows\":[", 11);
}

static void row_close(struct metrics_table *t)
{
    if (t->row_open)
        evbuffer_add(t->out, "]", 1);
    t->row_open = false;
}

bool metrics_table_row(struct metrics_table *t)
{
    row_close(t);
    if (t->seen++ < t->q.offset || metrics_table_full(t))
        return false;
    /* one row per line: easy to read with grep as well as with a parser */
    if (t->written++)
        evbuffer_add(t->out, ",", 1);
    evbuffer_add(t->out, "\n[", 2);
    t->row_open = true;
    t->cells = 0;
    return true;
}

bool metrics_table_full(const struct metrics_table *t)
{
    return t->written >= t->q.limit;
}

static void cell(struct metrics_table *t)
{
    if (t->cells++)
        evbuffer_add(t->out, ",", 1);
}

void metrics_table_str(struct metrics_table *t, const char *value)
{
    cell(t);
    metrics_json_string(t->out, value);
}

void metrics_table_u64(struct metrics_table *t, uint64_t value)
{
    cell(t);
    evbuffer_add_printf(t->out, "%" PRIu64, value);
}

void metrics_table_i64(struct metrics_table *t, int64_t value)
{
    cell(t);
    evbuffer_add_printf(t->out, "%" PRId64, value);
}

void metrics_table_addr(struct metrics_table *t, const struct addr *value)
{
    char buf[ADDR_STRLEN];
    cell(t);
    if (value && addr_is_set(value))
        metrics_json_string(t->out, addr_format(value, buf, sizeof buf));
    else
        evbuffer_add(t->out, "null", 4);
}

void metrics_table_null(struct metrics_table *t)
{
    cell(t);
    evbuffer_add(t->out, "null", 4);
}

void metrics_table_end(struct metrics_table *t)
{
    row_close(t);
    evbuffer_add_printf(t->out, "%s],\n\"returned\":%zu}\n", t->written ? "\n" : "", t->written);
}

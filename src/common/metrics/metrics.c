/* metrics: the registry and its Prometheus text rendering (exposition
 * format 0.0.4: "# HELP", "# TYPE", then `name{label="value"} value`). */
#include "pinhole/metrics.h"

#include <errno.h>
#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

#define METRICS_REFRESH_MAX 8
#define METRIC_HELP_MAX 512

struct series {
    char *labels; /* rendered `{k="v",...}`, or "" */
    const uint64_t *value;
    metric_read_cb read;
    const void *arg;
    unsigned flags;
};

/* All series of one name: the format wants them together under one HELP
 * and TYPE, whatever order the daemon registered them in. */
struct family {
    char *name;
    char *help;
    enum metric_type type;
    struct series *s;
    size_t n, cap;
};

struct metrics {
    struct family *f;
    size_t n, cap;
    struct {
        metrics_refresh_cb cb;
        void *arg;
    } refresh[METRICS_REFRESH_MAX];
    size_t nrefresh;
    int error;
};

int metrics_new(struct metrics **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? 0 : -ENOMEM;
}

void metrics_free(struct metrics *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++) {
        for (size_t j = 0; j < m->f[i].n; j++)
            free(m->f[i].s[j].labels);
        free(m->f[i].s);
        free(m->f[i].name);
        free(m->f[i].help);
    }
    free(m->f);
    free(m);
}

static bool name_ok(const char *s, bool colon_ok)
{
    size_t len = s ? strlen(s) : 0;
    if (len == 0 || len > METRIC_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        bool alpha =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon_ok && c == ':');
        if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
            return false;
    }
    return true;
}

/* Label values are the daemon's own words (methods, codes): a control
 * character other than newline is a bug, not something to escape. */
static bool label_value_ok(const char *v)
{
    if (!v || strlen(v) > METRIC_LABEL_VALUE_MAX)
        return false;
    for (const char *p = v; *p; p++)
        if ((unsigned char)*p < 0x20 && *p != '\n')
            return false;
    return true;
}

/* Escapes per the format: `\` and `"` (label values only) and newline. */
static size_t escape(char *dst, const char *src, bool quote)
{
    size_t o = 0;
    for (const char *p = src; *p; p++) {
        if (*p == '\\' || (quote && *p == '"'))
            dst[o++] = '\\';
        if (*p == '\n') {
            dst[o++] = '\\';
            dst[o++] = 'n';
        } else {
            dst[o++] = *p;
        }
    }
    dst[o] = '\0';
    return o;
}

/* Builds `{k="v",...}` (or "") from the def's pairs. Returns 0, -EINVAL,
 * -ENOMEM; *out is malloc'd. */
static int render_labels(const char *const *labels, char **out)
{
    char buf[METRIC_LABELS_MAX * (METRIC_NAME_MAX + 2 * METRIC_LABEL_VALUE_MAX + 4) + 3];
    size_t o = 0, pairs = 0;

    buf[0] = '\0';
    for (; labels && labels[0]; labels += 2) {
        if (++pairs > METRIC_LABELS_MAX || !name_ok(labels[0], false) ||
            strncmp(labels[0], "__", 2) == 0 || !label_value_ok(labels[1]))
            return -EINVAL;
        buf[o++] = pairs == 1 ? '{' : ',';
        size_t klen = strlen(labels[0]);
        memcpy(buf + o, labels[0], klen);
        o += klen;
        buf[o++] = '=';
        buf[o++] = '"';
        o += escape(buf + o, labels[1], true);
        buf[o++] = '"';
    }
    if (pairs)
        buf[o++] = '}';
    buf[o] = '\0';
    *out = strdup(buf);
    return *out ? 0 : -ENOMEM;
}

static int family_new(struct metrics *m, const struct metric_def *def, const char *help,
                      struct family **out)
{
    if (m->n == m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 16;
        struct family *f = realloc(m->f, cap * sizeof *f);
        if (!f)
            return -ENOMEM;
        m->f = f;
        m->cap = cap;
    }
    struct family *f = &m->f[m->n];
    *f = (struct family){.name = strdup(def->name), .help = strdup(help), .type = def->type};
    if (!f->name || !f->help) {
        free(f->name);
        free(f->help);
        return -ENOMEM;
    }
    m->n++;
    *out = f;
    return 0;
}

/* The family for def's name, created on first use; -EINVAL when the name
 * was registered with another type or help. */
static int family_get(struct metrics *m, const struct metric_def *def, struct family **out)
{
    char help[2 * METRIC_HELP_MAX + 1];

    if (!name_ok(def->name, true) || !def->help || strlen(def->help) > METRIC_HELP_MAX ||
        strchr(def->help, '\r') || (def->type != METRIC_COUNTER && def->type != METRIC_GAUGE))
        return -EINVAL;
    escape(help, def->help, false);
    for (size_t i = 0; i < m->n; i++) {
        struct family *f = &m->f[i];
        if (strcmp(f->name, def->name) != 0)
            continue;
        if (f->type != def->type || strcmp(help, f->help) != 0)
            return -EINVAL;
        *out = f;
        return 0;
    }
    return family_new(m, def, help, out);
}

static int series_add(struct family *f, const struct series *s)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->s[i].labels, s->labels) == 0)
            return -EINVAL;
    if (f->n == f->cap) {
        size_t cap = f->cap ? 2 * f->cap : 4;
        struct series *v = realloc(f->s, cap * sizeof *v);
        if (!v)
            return -ENOMEM;
        f->s = v;
        f->cap = cap;
    }
    f->s[f->n++] = *s;
    return 0;
}

static int add(struct metrics *m, const struct metric_def *def, struct series *s)
{
    struct family *f = NULL;
    int err = family_get(m, def, &f);
    if (!err)
        err = render_labels(def->labels, &s->labels);
    if (!err) {
        s->flags = def->flags;
        err = series_add(f, s);
        if (err)
            free(s->labels);
    }
    if (err && !m->error)
        m->error = err;
    return err;
}

int metrics_add(struct metrics *m, const struct metric_def *def, const uint64_t *value)
{
    struct series s = {.value = value};
    if (!value) {
        m->error = m->error ? m->error : -EINVAL;
        return -EINVAL;
    }
    return add(m, def, &s);
}

int metrics_add_read(struct metrics *m, const struct metric_def *def, metric_read_cb read,
                     const void *arg)
{
    struct series s = {.read = read, .arg = arg};
    if (!read) {
        m->error = m->error ? m->error : -EINVAL;
        return -EINVAL;
    }
    return add(m, def, &s);
}

int metrics_on_refresh(struct metrics *m, metrics_refresh_cb cb, void *arg)
{
    if (m->nrefresh == METRICS_REFRESH_MAX) {
        m->error = m->error ? m->error : -ENOSPC;
        return -ENOSPC;
    }
    m->refresh[m->nrefresh].cb = cb;
    m->refresh[m->nrefresh].arg = arg;
    m->nrefresh++;
    return 0;
}

int metrics_error(const struct metrics *m)
{
    return m->error;
}

static uint64_t series_value(const struct series *s)
{
    return s->value ? *s->value : s->read(s->arg);
}

static int render_family(const struct family *f, struct evbuffer *out)
{
    if (evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name,
                            f->type == METRIC_COUNTER ? "counter" : "gauge") < 0)
        return -ENOMEM;
    for (size_t i = 0; i < f->n; i++) {
        uint64_t v = series_value(&f->s[i]);
        if (v == 0 && (f->s[i].flags & METRIC_SPARSE))
            continue;
        if (evbuffer_add_printf(out, "%s%s %llu\n", f->name, f->s[i].labels,
                                (unsigned long long)v) < 0)
            return -ENOMEM;
    }
    return 0;
}

int metrics_render(struct metrics *m, struct evbuffer *out)
{
    for (size_t i = 0; i < m->nrefresh; i++)
        m->refresh[i].cb(m->refresh[i].arg);
    for (size_t i = 0; i < m->n; i++) {
        int err = render_family(&m->f[i], out);
        if (err)
            return err;
    }
    return 0;
}

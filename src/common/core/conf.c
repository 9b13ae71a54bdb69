/* conf: every daemon declares its keys once (struct conf_key); this file
 * turns a libconfig file into the daemon's config struct through that
 * table, so -t, start-up and reload validate the same way. */
#include "pinhole/conf.h"

#include <errno.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONF_MAX_LIST 64

struct load_ctx {
    const char *file;
    char *err;
    size_t errlen;
};

static int fail(const struct load_ctx *c, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(const struct load_ctx *c, int line, const char *fmt, ...)
{
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(c->err, c->errlen, "%s:%d: %s", c->file, line, what);
    return -EINVAL;
}

static void *field(void *cfg, const struct conf_key *k)
{
    return (char *)cfg + k->offset;
}

static int set_addr(const struct load_ctx *c, int line, const struct conf_key *k, struct addr *dst,
                    const char *text)
{
    if (addr_parse(dst, text, 0) != 0)
        return fail(c, line, "%s: \"%s\" is not a numeric \"IP:port\" or \"[IPv6]:port\"",
                    k->path, text);
    return 0;
}

/* Trust lists may name a host alone: it then matches any source port. */
static int set_list_entry(const struct load_ctx *c, int line, const struct conf_key *k,
                          struct addr *dst, const char *text)
{
    if (addr_parse(dst, text, 0) == 0 || addr_from_host_port(dst, text, 0) == 0)
        return 0;
    return fail(c, line, "%s: \"%s\" is not a numeric \"IP\", \"IP:port\" or \"[IPv6]:port\"",
                k->path, text);
}

static int set_int(const struct load_ctx *c, int line, const struct conf_key *k, long v, void *cfg)
{
    if (v < k->min || v > k->max)
        return fail(c, line, "%s: %ld is out of range [%ld, %ld]", k->path, v, k->min, k->max);
    *(int *)field(cfg, k) = (int)v;
    return 0;
}

static int set_enum(const struct load_ctx *c, int line, const struct conf_key *k, const char *v,
                    void *cfg)
{
    for (int i = 0; k->choices[i]; i++) {
        if (strcmp(k->choices[i], v) == 0) {
            *(int *)field(cfg, k) = i;
            return 0;
        }
    }
    return fail(c, line, "%s: \"%s\" is not one of the allowed values", k->path, v);
}

/* Applies one scalar value given as text (defaults, and string settings). */
static int set_from_text(const struct load_ctx *c, int line, const struct conf_key *k,
                         const char *text, void *cfg)
{
    switch (k->type) {
    case CONF_STRING: {
        char **dst = field(cfg, k);
        free(*dst);
        *dst = strdup(text);
        return *dst ? 0 : -ENOMEM;
    }
    case CONF_ADDR:
        return set_addr(c, line, k, field(cfg, k), text);
    case CONF_HOST:
        if (addr_from_host_port(field(cfg, k), text, 0) != 0)
            return fail(c, line, "%s: \"%s\" is not a numeric IP address", k->path, text);
        return 0;
    case CONF_ENUM:
        return set_enum(c, line, k, text, cfg);
    case CONF_LOG_LEVEL:
        if (log_level_parse(text, field(cfg, k)) != 0)
            return fail(c, line, "%s: \"%s\" is not error|warn|notice|info|debug", k->path, text);
        return 0;
    case CONF_INT: {
        char *end;
        long v = strtol(text, &end, 10);
        if (*text == '\0' || *end != '\0')
            return fail(c, line, "%s: \"%s\" is not an integer", k->path, text);
        return set_int(c, line, k, v, cfg);
    }
    case CONF_BOOL:
        if (strcmp(text, "true") && strcmp(text, "false"))
            return fail(c, line, "%s: \"%s\" is not true or false", k->path, text);
        *(bool *)field(cfg, k) = strcmp(text, "true") == 0;
        return 0;
    case CONF_ADDR_LIST: {
        /* A default list is comma-separated text. */
        struct addr_list *l = field(cfg, k);
        char buf[1024], *save = NULL;
        addr_list_free(l);
        snprintf(buf, sizeof buf, "%s", text);
        l->v = calloc(CONF_MAX_LIST, sizeof *l->v);
        if (!l->v)
            return -ENOMEM;
        for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            if (l->n == CONF_MAX_LIST)
                return fail(c, line, "%s: more than %d entries", k->path, CONF_MAX_LIST);
            if (set_list_entry(c, line, k, &l->v[l->n], tok) != 0)
                return -EINVAL;
            l->n++;
        }
        return 0;
    }
    }
    return -EINVAL;
}

static int set_list(const struct load_ctx *c, const struct conf_key *k, config_setting_t *s,
                    void *cfg)
{
    struct addr_list *l = field(cfg, k);
    int n = config_setting_length(s);
    int line = config_setting_source_line(s);

    if (!config_setting_is_aggregate(s) || config_setting_is_group(s))
        return fail(c, line, "%s: expected a list of \"IP:port\" strings", k->path);
    if (n > CONF_MAX_LIST)
        return fail(c, line, "%s: more than %d entries", k->path, CONF_MAX_LIST);
    addr_list_free(l);
    l->v = calloc((size_t)(n ? n : 1), sizeof *l->v);
    if (!l->v)
        return -ENOMEM;
    for (int i = 0; i < n; i++) {
        const char *text = config_setting_get_string_elem(s, i);
        if (!text)
            return fail(c, line, "%s: entry %d is not a string", k->path, i + 1);
        if (set_list_entry(c, line, k, &l->v[i], text) != 0)
            return -EINVAL;
        l->n++;
    }
    return 0;
}

static int set_from_setting(const struct load_ctx *c, const struct conf_key *k,
                            config_setting_t *s, void *cfg)
{
    int line = config_setting_source_line(s);
    int type = config_setting_type(s);

    switch (k->type) {
    case CONF_INT:
        if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64)
            return fail(c, line, "%s: expected an integer", k->path);
        return set_int(c, line, k, (long)config_setting_get_int64(s), cfg);
    case CONF_BOOL:
        if (type != CONFIG_TYPE_BOOL)
            return fail(c, line, "%s: expected true or false", k->path);
        *(bool *)field(cfg, k) = config_setting_get_bool(s);
        return 0;
    case CONF_ADDR_LIST:
        return set_list(c, k, s, cfg);
    default:
        if (type != CONFIG_TYPE_STRING)
            return fail(c, line, "%s: expected a string", k->path);
        return set_from_text(c, line, k, config_setting_get_string(s), cfg);
    }
}

static const struct conf_key *find_key(const struct conf_key *keys, size_t n, const char *path)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(keys[i].path, path) == 0)
            return &keys[i];
    return NULL;
}

static bool is_group_prefix(const struct conf_key *keys, size_t n, const char *path)
{
    size_t len = strlen(path);
    for (size_t i = 0; i < n; i++)
        if (strncmp(keys[i].path, path, len) == 0 && keys[i].path[len] == '.')
            return true;
    return false;
}

/* Refuses settings the table does not know: a typo must not silently fall
 * back to a default in production. */
static int check_unknown(const struct load_ctx *c, const struct conf_key *keys, size_t n,
                         config_setting_t *group, const char *prefix)
{
    for (int i = 0; i < config_setting_length(group); i++) {
        config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
        char path[256];
        snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "." : "",
                 config_setting_name(s));
        if (config_setting_is_group(s)) {
            if (!is_group_prefix(keys, n, path))
                return fail(c, config_setting_source_line(s), "unknown group \"%s\"", path);
            if (check_unknown(c, keys, n, s, path) != 0)
                return -EINVAL;
        } else if (!find_key(keys, n, path)) {
            return fail(c, config_setting_source_line(s), "unknown setting \"%s\"", path);
        }
    }
    return 0;
}

static int apply_keys(const struct load_ctx *c, const struct conf_key *keys, size_t n,
                      config_t *lc, void *cfg)
{
    for (size_t i = 0; i < n; i++) {
        config_setting_t *s = config_lookup(lc, keys[i].path);
        int err;
        if (s)
            err = set_from_setting(c, &keys[i], s, cfg);
        else if (keys[i].required)
            err = fail(c, 0, "required setting \"%s\" is missing", keys[i].path);
        else if (keys[i].def)
            err = set_from_text(c, 0, &keys[i], keys[i].def, cfg);
        else
            err = 0;
        if (err)
            return err;
    }
    return 0;
}

int conf_load(const char *file, const struct conf_key *keys, size_t n, void *cfg, char *err,
              size_t errlen)
{
    struct load_ctx c = {.file = file, .err = err, .errlen = errlen};
    config_t lc;
    int rc;

    config_init(&lc);
    if (config_read_file(&lc, file) != CONFIG_TRUE) {
        if (config_error_type(&lc) == CONFIG_ERR_FILE_IO)
            snprintf(err, errlen, "%s: cannot read the file", file);
        else
            snprintf(err, errlen, "%s:%d: %s", config_error_file(&lc) ? config_error_file(&lc) : file,
                     config_error_line(&lc), config_error_text(&lc));
        config_destroy(&lc);
        return -EINVAL;
    }
    rc = check_unknown(&c, keys, n, config_root_setting(&lc), "");
    if (rc == 0)
        rc = apply_keys(&c, keys, n, &lc, cfg);
    config_destroy(&lc);
    if (rc != 0) {
        if (rc == -ENOMEM)
            snprintf(err, errlen, "%s: out of memory", file);
        conf_free(keys, n, cfg);
        return -EINVAL;
    }
    return 0;
}

void conf_free(const struct conf_key *keys, size_t n, void *cfg)
{
    for (size_t i = 0; i < n; i++) {
        if (keys[i].type == CONF_STRING) {
            char **s = field(cfg, &keys[i]);
            free(*s);
            *s = NULL;
        } else if (keys[i].type == CONF_ADDR_LIST) {
            addr_list_free(field(cfg, &keys[i]));
        }
    }
}

static const char *type_name(const struct conf_key *k)
{
    static const char *const names[] = {"string",    "integer",     "boolean",
                                        "\"IP:port\"", "list of \"IP:port\" or \"IP\"",
                                        "\"IP\"",      "one of",      "log level"};
    return names[k->type];
}

void conf_print_reference(const struct conf_key *keys, size_t n, const char *daemon)
{
    printf("### %s\n\n| key | type | default | meaning |\n|---|---|---|---|\n", daemon);
    for (size_t i = 0; i < n; i++) {
        const struct conf_key *k = &keys[i];
        char type[160];
        if (k->type == CONF_INT)
            snprintf(type, sizeof type, "integer %ld..%ld", k->min, k->max);
        else if (k->type == CONF_ENUM) {
            size_t o = (size_t)snprintf(type, sizeof type, "one of");
            for (int j = 0; k->choices[j] && o < sizeof type; j++)
                o += (size_t)snprintf(type + o, sizeof type - o, "%s`%s`", j ? ", " : " ",
                                      k->choices[j]);
        } else
            snprintf(type, sizeof type, "%s", type_name(k));
        printf("| `%s` | %s | %s | %s |\n", k->path, type,
               k->required ? "(required)" : (k->def ? k->def : "(derived)"),
               k->help ? k->help : "");
    }
    printf("\n");
}

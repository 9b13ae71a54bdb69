/* json: recursive descent over RFC 8259, bounded in depth. */
#include "pinhole/json.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct json_val {
    enum json_type type;
    char *text; /* scalars */
    size_t n;   /* containers */
    struct json_val **items;
    char **keys; /* objects */
};

struct json {
    struct json_val *root;
};

struct parser {
    const char *p, *end, *start;
    unsigned depth;
};

static void val_free(struct json_val *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->n; i++) {
        val_free(v->items[i]);
        if (v->keys)
            free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->text);
    free(v);
}

static void skip_ws(struct parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static bool eat(struct parser *ps, char c)
{
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == c) {
        ps->p++;
        return true;
    }
    return false;
}

static int hex4(struct parser *ps, uint32_t *out)
{
    uint32_t v = 0;
    if (ps->end - ps->p < 4)
        return -EINVAL;
    for (int i = 0; i < 4; i++) {
        char c = *ps->p++;
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (uint32_t)(c - 'A' + 10);
        else
            return -EINVAL;
    }
    *out = v;
    return 0;
}

static size_t put_utf8(char *dst, uint32_t cp)
{
    if (cp < 0x80) {
        dst[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        dst[0] = (char)(0xc0 | (cp >> 6));
        dst[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        dst[0] = (char)(0xe0 | (cp >> 12));
        dst[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        dst[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    dst[0] = (char)(0xf0 | (cp >> 18));
    dst[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    dst[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    dst[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* \uXXXX, with a surrogate pair when the first is a high surrogate. */
static int unicode_escape(struct parser *ps, uint32_t *cp)
{
    uint32_t lo;
    if (hex4(ps, cp) != 0)
        return -EINVAL;
    if (*cp >= 0xdc00 && *cp <= 0xdfff)
        return -EINVAL;
    if (*cp >= 0xd800 && *cp <= 0xdbff) {
        if (ps->end - ps->p < 2 || ps->p[0] != '\\' || ps->p[1] != 'u')
            return -EINVAL;
        ps->p += 2;
        if (hex4(ps, &lo) != 0 || lo < 0xdc00 || lo > 0xdfff)
            return -EINVAL;
        *cp = 0x10000 + ((*cp - 0xd800) << 10) + (lo - 0xdc00);
    }
    return *cp == 0 ? -EINVAL : 0;
}

static int escape_char(struct parser *ps, char *dst, size_t *o)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    uint32_t cp;
    char c;

    if (ps->p >= ps->end)
        return -EINVAL;
    c = *ps->p++;
    if (c == 'u') {
        if (unicode_escape(ps, &cp) != 0)
            return -EINVAL;
        *o += put_utf8(dst + *o, cp);
        return 0;
    }
    const char *k = c ? strchr(from, c) : NULL;
    if (!k)
        return -EINVAL;
    dst[(*o)++] = to[k - from];
    return 0;
}

/* A string at ps->p (after its opening quote) into a malloc'd C string.
 * The decoded text is never longer than the escaped one. */
static int string_body(struct parser *ps, char **out)
{
    const char *close = ps->p;
    size_t o = 0;
    char *dst;

    while (close < ps->end && *close != '"')
        close += (*close == '\\' && close + 1 < ps->end) ? 2 : 1;
    if (close >= ps->end)
        return -EINVAL;
    dst = malloc((size_t)(close - ps->p) + 1);
    if (!dst)
        return -ENOMEM;
    while (*ps->p != '"') {
        unsigned char c = (unsigned char)*ps->p++;
        if (c < 0x20 || (c == '\\' && escape_char(ps, dst, &o) != 0)) {
            free(dst);
            return -EINVAL;
        }
        if (c != '\\')
            dst[o++] = (char)c;
    }
    ps->p++;
    dst[o] = '\0';
    *out = dst;
    return 0;
}

static const char *digits(const char *p, const char *end)
{
    while (p < end && *p >= '0' && *p <= '9')
        p++;
    return p;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int number_text(struct parser *ps, char **out)
{
    const char *s = ps->p, *p = ps->p, *q;
    if (p < ps->end && *p == '-')
        p++;
    if (p < ps->end && *p == '0')
        p++;
    else if ((q = digits(p, ps->end)) > p)
        p = q;
    else
        return -EINVAL;
    if (p < ps->end && *p == '.') {
        if ((q = digits(p + 1, ps->end)) == p + 1)
            return -EINVAL;
        p = q;
    }
    if (p < ps->end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < ps->end && (*p == '+' || *p == '-'))
            p++;
        if ((q = digits(p, ps->end)) == p)
            return -EINVAL;
        p = q;
    }
    *out = strndup(s, (size_t)(p - s));
    ps->p = p;
    return *out ? 0 : -ENOMEM;
}

static int word(struct parser *ps, const char *w, char **out)
{
    size_t len = strlen(w);
    if ((size_t)(ps->end - ps->p) < len || memcmp(ps->p, w, len) != 0)
        return -EINVAL;
    ps->p += len;
    *out = strdup(w);
    return *out ? 0 : -ENOMEM;
}

static int value(struct parser *ps, struct json_val **out);

static int push(struct json_val *v, struct json_val *item, char *key)
{
    if ((v->n & (v->n - 1)) == 0) { /* grow at powers of two */
        size_t cap = v->n ? 2 * v->n : 1;
        struct json_val **items = realloc(v->items, cap * sizeof *items);
        if (!items)
            return -ENOMEM;
        v->items = items;
        if (v->type == JSON_OBJECT) {
            char **keys = realloc(v->keys, cap * sizeof *keys);
            if (!keys)
                return -ENOMEM;
            v->keys = keys;
        }
    }
    v->items[v->n] = item;
    if (v->keys)
        v->keys[v->n] = key;
    v->n++;
    return 0;
}

/* One element (or "key": value member) of the container v. */
static int member(struct parser *ps, struct json_val *v)
{
    struct json_val *item = NULL;
    char *key = NULL;
    int err = 0;

    if (v->type == JSON_OBJECT) {
        if (!eat(ps, '"'))
            return -EINVAL;
        err = string_body(ps, &key);
        if (!err && !eat(ps, ':'))
            err = -EINVAL;
    }
    if (!err)
        err = value(ps, &item);
    if (!err)
        err = push(v, item, key);
    if (err) {
        val_free(item);
        free(key);
    }
    return err;
}

static int container(struct parser *ps, struct json_val *v, char close)
{
    if (++ps->depth > JSON_DEPTH_MAX)
        return -EINVAL;
    if (!eat(ps, close)) {
        do {
            int err = member(ps, v);
            if (err)
                return err;
        } while (eat(ps, ','));
        if (!eat(ps, close))
            return -EINVAL;
    }
    ps->depth--;
    return 0;
}

static int value(struct parser *ps, struct json_val **out)
{
    struct json_val *v = calloc(1, sizeof *v);
    int err;

    if (!v)
        return -ENOMEM;
    skip_ws(ps);
    char c = ps->p < ps->end ? *ps->p : '\0';
    if (c == '{' || c == '[') {
        ps->p++;
        v->type = c == '{' ? JSON_OBJECT : JSON_ARRAY;
        err = container(ps, v, c == '{' ? '}' : ']');
    } else if (c == '"') {
        ps->p++;
        v->type = JSON_STRING;
        err = string_body(ps, &v->text);
    } else if (c == 't' || c == 'f') {
        v->type = JSON_BOOL;
        err = word(ps, c == 't' ? "true" : "false", &v->text);
    } else if (c == 'n') {
        v->type = JSON_NULL;
        err = word(ps, "null", &v->text);
    } else {
        v->type = JSON_NUMBER;
        err = number_text(ps, &v->text);
    }
    if (err) {
        val_free(v);
        return err;
    }
    *out = v;
    return 0;
}

int json_parse(struct json **out, const char *text, size_t len, size_t *err_pos)
{
    struct parser ps = {.p = text, .end = text + len, .start = text};
    struct json *doc = calloc(1, sizeof *doc);
    int err;

    if (!doc)
        return -ENOMEM;
    err = value(&ps, &doc->root);
    skip_ws(&ps);
    if (!err && ps.p != ps.end)
        err = -EINVAL;
    if (err) {
        if (err_pos)
            *err_pos = (size_t)(ps.p - ps.start);
        json_free(doc);
        return err;
    }
    *out = doc;
    return 0;
}

void json_free(struct json *doc)
{
    if (!doc)
        return;
    val_free(doc->root);
    free(doc);
}

const struct json_val *json_root(const struct json *doc)
{
    return doc->root;
}

enum json_type json_type(const struct json_val *v)
{
    return v->type;
}

const char *json_text(const struct json_val *v)
{
    return v->text;
}

size_t json_count(const struct json_val *v)
{
    return v->n;
}

const struct json_val *json_at(const struct json_val *v, size_t i)
{
    return i < v->n ? v->items[i] : NULL;
}

const char *json_key_at(const struct json_val *v, size_t i)
{
    return v->type == JSON_OBJECT && i < v->n ? v->keys[i] : NULL;
}

const struct json_val *json_get(const struct json_val *v, const char *key)
{
    for (size_t i = 0; v->type == JSON_OBJECT && i < v->n; i++)
        if (strcmp(v->keys[i], key) == 0)
            return v->items[i];
    return NULL;
}

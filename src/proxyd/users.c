/* users: the subscriber file, parsed line by line into one table. */
#include "users.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pinhole/sip.h"
#include "pinhole/table.h"

struct users {
    struct table *t; /* "USER\nREALM\nALG" -> HA1 (malloc'd) */
};

static void key_of(char *key, size_t len, const char *user, const char *realm, enum digest_alg a)
{
    snprintf(key, len, "%s\n%s\n%d", user, realm, (int)a);
}

#define KEY_MAX (2 * USERS_FIELD_MAX + 8)

void users_free(struct users *u)
{
    if (!u)
        return;
    table_free(u->t);
    free(u);
}

static bool is_lower_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

/* Splits line (NUL-terminated, comment cut) into at most 5 fields. */
static size_t split(char *line, char **f)
{
    size_t n = 0;
    char *save = NULL;
    for (char *p = strtok_r(line, " \t\r", &save); p && n < 5; p = strtok_r(NULL, " \t\r", &save))
        f[n++] = p;
    return n;
}

/* One line: 0, or -EINVAL with what's wrong in why. */
static int parse_line(struct users *u, char *line, const char **why)
{
    char *f[5], key[KEY_MAX];
    enum digest_alg a;
    char *hash = strchr(line, '#');
    if (hash)
        *hash = '\0';
    size_t n = split(line, f);
    if (n == 0)
        return 0;
    if (n != 4) {
        *why = "want USER REALM ALGORITHM HA1";
        return -EINVAL;
    }
    if (strlen(f[0]) > USERS_FIELD_MAX || !sip_user_valid(f[0], USERS_FIELD_MAX)) {
        *why = "USER: not a SIP user name of at most 128 characters";
        return -EINVAL;
    }
    if (strlen(f[1]) > USERS_FIELD_MAX || strchr(f[1], '"') || strchr(f[1], '\\')) {
        *why = "REALM: at most 128 characters, no quote or backslash";
        return -EINVAL;
    }
    if (digest_alg_from_name(f[2], &a) != 0) {
        *why = "ALGORITHM: want SHA-256, SHA-512-256 or MD5";
        return -EINVAL;
    }
    if (strlen(f[3]) != digest_hex_len(a) || !is_lower_hex(f[3], strlen(f[3]))) {
        *why = "HA1: not the lowercase hex digest of that algorithm";
        return -EINVAL;
    }
    if (table_count(u->t) >= USERS_MAX) {
        *why = "more than 1,000,000 lines";
        return -EINVAL;
    }
    key_of(key, sizeof key, f[0], f[1], a);
    if (table_get(u->t, key)) {
        *why = "this user, realm and algorithm were given before";
        return -EINVAL;
    }
    char *ha1 = strdup(f[3]);
    if (!ha1 || table_put(u->t, key, ha1, 0, NULL) != 0) {
        free(ha1);
        *why = "out of memory";
        return -ENOMEM;
    }
    return 0;
}

int users_parse(struct users **out, const char *text, size_t len, const char *name, char *err,
                size_t errlen)
{
    struct users *u = calloc(1, sizeof *u);
    char line[USERS_LINE_MAX + 1];
    const char *why = NULL;
    size_t lineno = 0;
    int rc = 0;

    *out = NULL;
    if (!u || table_new(&u->t, 64, 1000, NULL, free, NULL) != 0) {
        users_free(u);
        return -ENOMEM;
    }
    for (size_t pos = 0; pos < len && rc == 0;) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
        lineno++;
        if (n > USERS_LINE_MAX) {
            why = "line longer than 1024 bytes";
            rc = -EINVAL;
        } else if (memchr(text + pos, '\0', n)) {
            why = "NUL byte";
            rc = -EINVAL;
        } else {
            memcpy(line, text + pos, n);
            line[n] = '\0';
            rc = parse_line(u, line, &why);
        }
        pos += n + 1;
    }
    if (rc) {
        snprintf(err, errlen, "%s:%zu: %s", name, lineno, why ? why : "bad line");
        users_free(u);
        return rc;
    }
    *out = u;
    return 0;
}

int users_load(struct users **out, const char *path, char *err, size_t errlen)
{
    /* A bound on what we read: a million lines of at most 1 KiB. */
    const long max = (long)USERS_MAX * 200;
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(e));
        return -e;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = 0;
    for (;;) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 4096;
            char *nb = (long)ncap > max + 1 ? NULL : realloc(buf, ncap);
            if (!nb) {
                snprintf(err, errlen, "%s: larger than %ld bytes", path, max);
                rc = (long)ncap > max + 1 ? -EFBIG : -ENOMEM;
                break;
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    if (!rc && ferror(f)) {
        snprintf(err, errlen, "%s: read error", path);
        rc = -EIO;
    }
    fclose(f);
    if (!rc)
        rc = users_parse(out, buf ? buf : "", len, path, err, errlen);
    free(buf);
    return rc;
}

const char *users_ha1(const struct users *u, const char *user, const char *realm, enum digest_alg a)
{
    char key[KEY_MAX];
    if (!u || strlen(user) > USERS_FIELD_MAX || strlen(realm) > USERS_FIELD_MAX)
        return NULL;
    key_of(key, sizeof key, user, realm, a);
    return table_get(u->t, key);
}

size_t users_count(const struct users *u)
{
    return u ? table_count(u->t) : 0;
}

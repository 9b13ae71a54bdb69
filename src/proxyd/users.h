/* users: the subscriber file of auth.users (issue #14; format in
 * docs/operations.md and design.md): one line per user and algorithm,
 *
 *   USER REALM ALGORITHM HA1     # ALGORITHM: SHA-256, SHA-512-256 or MD5
 *
 * fields separated by spaces or tabs, '#' starting a comment, HA1 the
 * lowercase hex of H(USER:REALM:password). A file is taken whole or not at
 * all: the first bad line is named by number and nothing is loaded, so a
 * reload that fails keeps the users of before (the caller keeps them).
 *
 * Read at start and on SIGHUP only, never per request; lookups are one
 * hash. Ownership: users_load makes a struct users the caller frees with
 * users_free; the HA1 strings it hands out live as long as it does. */
#ifndef PROXYD_USERS_H
#define PROXYD_USERS_H

#include <stddef.h>

#include "pinhole/digest.h"

/* Bounds of the file: longer lines and fields are errors, not truncations. */
#define USERS_LINE_MAX 1024
#define USERS_FIELD_MAX 128
#define USERS_MAX 1000000

struct users;

/* Returns 0, -ENOENT/-EACCES (cannot open), -EINVAL (err says
 * "PATH:LINE: what") or -ENOMEM. */
int users_load(struct users **out, const char *path, char *err, size_t errlen);
/* Parses text (len bytes) as a users file; `name` is what err calls it. */
int users_parse(struct users **out, const char *text, size_t len, const char *name, char *err,
                size_t errlen);
void users_free(struct users *u);

/* The HA1 of user in realm for algorithm a, or NULL. */
const char *users_ha1(const struct users *u, const char *user, const char *realm,
                      enum digest_alg a);
/* Lines loaded (one per user and algorithm). */
size_t users_count(const struct users *u);

#endif

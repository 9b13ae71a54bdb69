/* ctl_fetch: one HTTP GET to a daemon's stats address, blocking with a
 * timeout (pinholectl is a command, not a daemon). */
#ifndef PINHOLECTL_CTL_FETCH_H
#define PINHOLECTL_CTL_FETCH_H

#include <stddef.h>

/* The largest body read: a full 10,000-row listing is far below it. */
#define CTL_FETCH_MAX (32u << 20)
#define CTL_FETCH_TIMEOUT_S 5

struct ctl_reply {
    int status; /* HTTP status code */
    char *body; /* NUL-terminated, malloc'd */
    size_t len;
};

/* GETs `path` (with its query) from server "HOST:PORT" or "[IPv6]:PORT".
 * Returns 0 with *r filled (free with ctl_reply_free), or -errno with a
 * message in err: -EINVAL (bad server or reply), -ETIMEDOUT, -EFBIG, or
 * what connect/send/recv said. */
int ctl_fetch(const char *server, const char *path, struct ctl_reply *r, char *err, size_t errlen);
void ctl_reply_free(struct ctl_reply *r);

#endif

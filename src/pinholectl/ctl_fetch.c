/* ctl_fetch: HTTP/1.0 GET over a plain socket; the daemon closes the
 * connection after the reply, which ends the body. */
#include "ctl_fetch.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* "HOST:PORT" / "[IPv6]:PORT" into host and port. */
static int split_server(const char *server, char *host, size_t hlen, const char **port)
{
    const char *colon;
    size_t n;

    if (server[0] == '[') {
        const char *close = strchr(server, ']');
        if (!close || close[1] != ':')
            return -EINVAL;
        server++;
        n = (size_t)(close - server);
        colon = close + 1;
    } else {
        colon = strrchr(server, ':');
        if (!colon)
            return -EINVAL;
        n = (size_t)(colon - server);
    }
    if (n == 0 || n >= hlen || !colon[1])
        return -EINVAL;
    memcpy(host, server, n);
    host[n] = '\0';
    *port = colon + 1;
    return 0;
}

/* Linux applies SO_SNDTIMEO to connect() too: one timeout covers it all. */
static int connect_to(const char *server, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *res;
    struct timeval tv = {.tv_sec = CTL_FETCH_TIMEOUT_S};
    char host[256];
    const char *port;
    int fd = -1, rc;

    if (split_server(server, host, sizeof host, &port) != 0) {
        snprintf(err, errlen, "%s: expected HOST:PORT or [IPv6]:PORT", server);
        return -EINVAL;
    }
    rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "%s: %s", server, gai_strerror(rc));
        return -EINVAL;
    }
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
        if (fd < 0)
            continue;
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            rc = -errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        snprintf(err, errlen, "%s: cannot connect: %s", server, strerror(-rc));
    return fd >= 0 ? fd : rc;
}

static int send_all(int fd, const char *buf, size_t len)
{
    while (len) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads until the server closes; the buffer grows up to CTL_FETCH_MAX. */
static int recv_all(int fd, char **out, size_t *outlen)
{
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap + 1);

    if (!buf)
        return -ENOMEM;
    for (;;) {
        if (len == cap) {
            char *b = cap >= CTL_FETCH_MAX ? NULL : realloc(buf, 2 * cap + 1);
            if (!b) {
                free(buf);
                return cap >= CTL_FETCH_MAX ? -EFBIG : -ENOMEM;
            }
            buf = b;
            cap *= 2;
        }
        ssize_t n = recv(fd, buf + len, cap - len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno == EAGAIN ? -ETIMEDOUT : -errno;
            free(buf);
            return e;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    *out = buf;
    *outlen = len;
    return 0;
}

/* Splits "HTTP/1.x NNN ...\r\n...\r\n\r\nbody" into status and body. */
static int parse_reply(char *raw, size_t len, struct ctl_reply *r)
{
    char *body = strstr(raw, "\r\n\r\n");
    int status;

    if (strlen(raw) != len || !body || strncmp(raw, "HTTP/1.", 7) != 0 ||
        sscanf(raw + 8, " %3d", &status) != 1 || status < 100 || status > 599)
        return -EINVAL;
    body += 4;
    r->status = status;
    r->len = len - (size_t)(body - raw);
    r->body = malloc(r->len + 1);
    if (!r->body)
        return -ENOMEM;
    memcpy(r->body, body, r->len + 1);
    return 0;
}

int ctl_fetch(const char *server, const char *path, struct ctl_reply *r, char *err, size_t errlen)
{
    char req[512], *raw = NULL;
    size_t len = 0;
    int fd, rc;

    *r = (struct ctl_reply){0};
    if (snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: %s\r\nAccept: application/json\r\n\r\n",
                 path, server) >= (int)sizeof req) {
        snprintf(err, errlen, "request too long");
        return -EINVAL;
    }
    fd = connect_to(server, err, errlen);
    if (fd < 0)
        return fd;
    rc = send_all(fd, req, strlen(req));
    if (rc == 0)
        rc = recv_all(fd, &raw, &len);
    close(fd);
    if (rc == 0 && (rc = parse_reply(raw, len, r)) == -EINVAL)
        snprintf(err, errlen, "%s: not an HTTP reply", server);
    else if (rc)
        snprintf(err, errlen, "%s: %s", server,
                 rc == -ETIMEDOUT ? "no answer within the timeout" : strerror(-rc));
    free(raw);
    return rc;
}

void ctl_reply_free(struct ctl_reply *r)
{
    free(r->body);
    r->body = NULL;
}

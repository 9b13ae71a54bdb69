/* metrics: the HTTP endpoint on the `stats` address (libevent's evhttp on
 * the daemon's loop): /metrics, /status and the daemon's JSON tables. */
#include "pinhole/metrics.h"
#include "pinhole/log.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define METRICS_ROUTES_MAX 8
#define METRICS_PATH_MAX 64
/* A scrape or a listing is answered at once; anything slower is a stuck
 * or hostile client holding a connection. */
#define METRICS_HTTP_TIMEOUT_S 10
#define METRICS_HTTP_MAX_HEADERS 8192
#define METRICS_HTTP_BACKLOG 16

struct route {
    char path[METRICS_PATH_MAX];
    metrics_json_cb cb;
    void *arg;
};

struct metrics_http {
    struct loop *loop;
    struct evhttp *http;
    struct metrics *m;
    const char *daemon;
    struct evhttp_bound_socket *bound; /* NULL when not listening */
    struct addr want;                  /* the address asked for (port 0 stays 0) */
    struct addr local;                 /* what the kernel bound */
    struct route routes[METRICS_ROUTES_MAX];
    size_t nroutes;
    metrics_status_cb status_cb;
    void *status_arg;
    uint64_t started_ms;
};

static void reply(struct evhttp_request *req, int code, const char *reason, const char *type,
                  struct evbuffer *body)
{
    struct evkeyvalq *hd = evhttp_request_get_output_headers(req);
    evhttp_add_header(hd, "Content-Type", type);
    evhttp_add_header(hd, "Cache-Control", "no-store");
    evhttp_send_reply(req, code, reason, body);
}

static void reply_text(struct evhttp_request *req, int code, const char *reason, const char *text)
{
    struct evbuffer *body = evbuffer_new();
    if (body)
        evbuffer_add_printf(body, "%s\n", text);
    reply(req, code, reason, "text/plain; charset=utf-8", body);
    if (body)
        evbuffer_free(body);
}

/* A decimal number in [min, max]; false for anything else. */
static bool parse_size(const char *text, size_t min, size_t max, size_t *out)
{
    size_t v = 0;
    if (!text || !*text || strlen(text) > 9)
        return false;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        v = v * 10 + (size_t)(*p - '0');
    }
    if (v < min || v > max)
        return false;
    *out = v;
    return true;
}

/* ?offset=N&limit=N, defaults when absent. False on a malformed value. */
static bool parse_query(const char *query, struct metrics_query *q)
{
    struct evkeyvalq params;
    bool ok = true;

    *q = (struct metrics_query){.offset = 0, .limit = METRICS_LIMIT_DEFAULT};
    if (!query || !*query)
        return true;
    if (evhttp_parse_query_str(query, &params) != 0)
        return false;
    const char *limit = evhttp_find_header(&params, "limit");
    const char *offset = evhttp_find_header(&params, "offset");
    if (limit && !parse_size(limit, 1, METRICS_LIMIT_MAX, &q->limit))
        ok = false;
    if (offset && !parse_size(offset, 0, 999999999, &q->offset))
        ok = false;
    evhttp_clear_headers(&params);
    return ok;
}

static void serve_metrics(struct metrics_http *h, struct evhttp_request *req)
{
    struct evbuffer *body = evbuffer_new();
    if (!body || metrics_render(h->m, body) != 0) {
        reply_text(req, 500, "Internal Server Error", "out of memory");
    } else {
        reply(req, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", body);
    }
    if (body)
        evbuffer_free(body);
}

static void serve_status(struct metrics_http *h, struct evhttp_request *req)
{
    struct evbuffer *body = evbuffer_new();
    struct metrics_obj o = {.out = body};

    if (!body) {
        reply_text(req, 500, "Internal Server Error", "out of memory");
        return;
    }
    evbuffer_add(body, "{", 1);
    metrics_obj_str(&o, "daemon", h->daemon);
    metrics_obj_str(&o, "version", PINHOLE_VERSION);
    metrics_obj_u64(&o, "pid", (uint64_t)getpid());
    metrics_obj_u64(&o, "uptime_s", (loop_now_ms(h->loop) - h->started_ms) / 1000);
    metrics_obj_addr(&o, "stats", &h->local);
    if (h->status_cb)
        h->status_cb(&o, h->status_arg);
    evbuffer_add(body, "}\n", 2);
    reply(req, 200, "OK", "application/json", body);
    evbuffer_free(body);
}

static void serve_route(const struct route *r, struct evhttp_request *req, const char *query)
{
    struct metrics_query q;
    struct evbuffer *body;

    if (!parse_query(query, &q)) {
        reply_text(req, 400, "Bad Request", "offset and limit must be numbers (limit 1..10000)");
        return;
    }
    body = evbuffer_new();
    if (!body || r->cb(body, &q, r->arg) != 0)
        reply_text(req, 500, "Internal Server Error", "the listing failed");
    else
        reply(req, 200, "OK", "application/json", body);
    if (body)
        evbuffer_free(body);
}

static void serve_index(struct metrics_http *h, struct evhttp_request *req)
{
    struct evbuffer *body = evbuffer_new();
    if (!body) {
        reply_text(req, 500, "Internal Server Error", "out of memory");
        return;
    }
    evbuffer_add_printf(body, "%s: /metrics /status", h->daemon);
    for (size_t i = 0; i < h->nroutes; i++)
        evbuffer_add_printf(body, " %s", h->routes[i].path);
    evbuffer_add(body, "\n", 1);
    reply(req, 200, "OK", "text/plain; charset=utf-8", body);
    evbuffer_free(body);
}

static void on_request(struct evhttp_request *req, void *arg)
{
    struct metrics_http *h = arg;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;

    if (!path) {
        reply_text(req, 400, "Bad Request", "no path");
        return;
    }
    if (strcmp(path, "/metrics") == 0) {
        serve_metrics(h, req);
        return;
    }
    if (strcmp(path, "/status") == 0) {
        serve_status(h, req);
        return;
    }
    if (strcmp(path, "/") == 0) {
        serve_index(h, req);
        return;
    }
    for (size_t i = 0; i < h->nroutes; i++) {
        if (strcmp(path, h->routes[i].path) == 0) {
            serve_route(&h->routes[i], req, evhttp_uri_get_query(uri));
            return;
        }
    }
    reply_text(req, 404, "Not Found", "no such path (try /)");
}

static uint64_t read_uptime(const void *arg)
{
    const struct metrics_http *h = arg;
    return (loop_now_ms(h->loop) - h->started_ms) / 1000;
}

/* pinhole_info and pinhole_uptime_seconds: which daemon and version a
 * scrape came from, and whether it restarted since the last one. */
static int add_standard_series(struct metrics_http *h)
{
    static const uint64_t one = 1;
    const char *labels[] = {"daemon", h->daemon, "version", PINHOLE_VERSION, NULL};
    struct metric_def info = {.name = "pinhole_info",
                              .type = METRIC_GAUGE,
                              .help = "Always 1: the labels name the daemon and its version",
                              .labels = labels};
    struct metric_def up = {.name = "pinhole_uptime_seconds",
                            .type = METRIC_GAUGE,
                            .help = "Seconds since the daemon started serving"};
    int err = metrics_add(h->m, &info, &one);
    return err ? err : metrics_add_read(h->m, &up, read_uptime, h);
}

int metrics_http_new(struct metrics_http **out, struct loop *l, struct metrics *m,
                     const char *daemon)
{
    struct metrics_http *h = calloc(1, sizeof *h);
    int err;

    if (!h)
        return -ENOMEM;
    h->http = evhttp_new(loop_base(l));
    if (!h->http) {
        free(h);
        return -ENOMEM;
    }
    h->loop = l;
    h->m = m;
    h->daemon = daemon;
    h->started_ms = loop_now_ms(l);
    err = add_standard_series(h);
    if (err) {
        evhttp_free(h->http);
        free(h);
        return err;
    }
    evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
    evhttp_set_timeout(h->http, METRICS_HTTP_TIMEOUT_S);
    evhttp_set_max_headers_size(h->http, METRICS_HTTP_MAX_HEADERS);
    evhttp_set_max_body_size(h->http, 0);
    evhttp_set_gencb(h->http, on_request, h);
    *out = h;
    return 0;
}

int metrics_http_route(struct metrics_http *h, const char *path, metrics_json_cb cb, void *arg)
{
    if (!path || path[0] != '/' || strlen(path) >= METRICS_PATH_MAX || !cb ||
        strcmp(path, "/metrics") == 0 || strcmp(path, "/status") == 0 || strcmp(path, "/") == 0)
        return -EINVAL;
    for (size_t i = 0; i < h->nroutes; i++)
        if (strcmp(h->routes[i].path, path) == 0)
            return -EEXIST;
    if (h->nroutes == METRICS_ROUTES_MAX)
        return -ENOSPC;
    struct route *r = &h->routes[h->nroutes++];
    snprintf(r->path, sizeof r->path, "%s", path);
    r->cb = cb;
    r->arg = arg;
    return 0;
}

void metrics_http_status(struct metrics_http *h, metrics_status_cb cb, void *arg)
{
    h->status_cb = cb;
    h->status_arg = arg;
}

/* A listening TCP socket on a, or -errno. SO_REUSEADDR lets a restarted
 * daemon bind while old connections sit in TIME_WAIT. */
static int open_listener(const struct addr *a, int *out)
{
    int one = 1, err = 0;
    int fd = socket(addr_family(a), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -errno;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        (addr_family(a) == AF_INET6 &&
         setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0) ||
        bind(fd, &a->u.sa, a->len) != 0 || listen(fd, METRICS_HTTP_BACKLOG) != 0)
        err = -errno;
    if (err) {
        close(fd);
        return err;
    }
    *out = fd;
    return 0;
}

static void unlisten(struct metrics_http *h)
{
    if (h->bound)
        evhttp_del_accept_socket(h->http, h->bound); /* closes the socket */
    h->bound = NULL;
    h->local = (struct addr){0};
    h->want = (struct addr){0};
}

/* Serves a on a new socket; the caller has dealt with the old one. */
static int listen_on(struct metrics_http *h, const struct addr *a, int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    struct evhttp_bound_socket *b = evhttp_accept_socket_with_handle(h->http, fd);

    if (!b) {
        close(fd);
        return -ENOMEM;
    }
    unlisten(h);
    h->bound = b;
    h->want = *a;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
        addr_from_sockaddr(&h->local, (struct sockaddr *)&ss, len);
    else
        h->local = *a;
    return 0;
}

int metrics_http_listen(struct metrics_http *h, const struct addr *a)
{
    struct addr old_want = h->want, old_local = h->local;
    int fd = -1, err;

    if (!a || !addr_is_set(a)) {
        unlisten(h);
        return 0;
    }
    if (h->bound && addr_equal(a, &h->want))
        return 0;
    err = open_listener(a, &fd);
    if (err == -EADDRINUSE && h->bound && addr_port(a) == addr_port(&h->local)) {
        /* the new address overlaps our own (0.0.0.0:p after 127.0.0.1:p):
         * free it first, and take the old one back if the new one fails */
        unlisten(h);
        err = open_listener(a, &fd);
        if (err) {
            if (open_listener(&old_local, &fd) == 0 && listen_on(h, &old_local, fd) == 0)
                h->want = old_want;
            return err;
        }
    }
    return err ? err : listen_on(h, a, fd);
}

int metrics_http_serve(struct metrics_http *h, const struct addr *a)
{
    char where[ADDR_STRLEN];
    int err = metrics_http_listen(h, a);

    if (err)
        log_error("stats: cannot listen on %s: %s", addr_format(a, where, sizeof where),
                  strerror(-err));
    else if (addr_is_set(&h->local))
        log_notice("stats: metrics and pinholectl on http://%s/",
                   addr_format(&h->local, where, sizeof where));
    return err;
}

const struct addr *metrics_http_local(const struct metrics_http *h)
{
    return &h->local;
}

void metrics_http_free(struct metrics_http *h)
{
    if (!h)
        return;
    evhttp_free(h->http);
    free(h);
}

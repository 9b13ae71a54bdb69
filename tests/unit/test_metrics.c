/* metrics: the registry's Prometheus rendering, the JSON writers, and the
 * HTTP endpoint served on a real loop and fetched with a raw socket. */
#include "helpers.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pinhole/json.h"
#include "pinhole/metrics.h"
#include "pinhole/txn.h"

/* The evbuffer's content as a malloc'd C string; the buffer is drained. */
static char *drain(struct evbuffer *b)
{
    size_t len = evbuffer_get_length(b);
    char *s = malloc(len + 1);
    assert_non_null(s);
    evbuffer_remove(b, s, len);
    s[len] = '\0';
    return s;
}

static char *render(struct metrics *m)
{
    struct evbuffer *b = evbuffer_new();
    assert_non_null(b);
    assert_int_equal(metrics_render(m, b), 0);
    char *s = drain(b);
    evbuffer_free(b);
    return s;
}

static const char *const inv[] = {"method", "INVITE", NULL};
static const char *const reg[] = {"method", "REGISTER", NULL};

static void renders_help_type_and_series_grouped_by_name(void **state)
{
    struct metrics *m;
    uint64_t invites = 3, registers = 0, sessions = 7;
    (void)state;
    assert_int_equal(metrics_new(&m), 0);
    struct metric_def req = {.name = "pinhole_requests_total",
                             .type = METRIC_COUNTER,
                             .help = "Requests by method",
                             .labels = inv};
    assert_int_equal(metrics_add(m, &req, &invites), 0);
    struct metric_def g = {
        .name = "pinhole_sessions", .type = METRIC_GAUGE, .help = "Live sessions", .labels = NULL};
    assert_int_equal(metrics_add(m, &g, &sessions), 0);
    req.labels = reg; /* registered after another name: still rendered with its family */
    assert_int_equal(metrics_add(m, &req, &registers), 0);
    invites = 5; /* read at scrape time, not at registration */

    char *out = render(m);
    assert_string_equal(out, "# HELP pinhole_requests_total Requests by method\n"
                             "# TYPE pinhole_requests_total counter\n"
                             "pinhole_requests_total{method=\"INVITE\"} 5\n"
                             "pinhole_requests_total{method=\"REGISTER\"} 0\n"
                             "# HELP pinhole_sessions Live sessions\n"
                             "# TYPE pinhole_sessions gauge\n"
                             "pinhole_sessions 7\n");
    free(out);
    metrics_free(m);
}

static void escapes_label_values_and_help(void **state)
{
    struct metrics *m;
    uint64_t v = 18446744073709551615ULL;
    static const char *const odd[] = {"path", "a\\b\"c\nd", "code", "200", NULL};
    (void)state;
    assert_int_equal(metrics_new(&m), 0);
    struct metric_def d = {.name = "x_total",
                           .type = METRIC_COUNTER,
                           .help = "back\\slash\nnewline \"quoted\"",
                           .labels = odd};
    assert_int_equal(metrics_add(m, &d, &v), 0);
    char *out = render(m);
    assert_string_equal(out, "# HELP x_total back\\\\slash\\nnewline \"quoted\"\n"
                             "# TYPE x_total counter\n"
                             "x_total{path=\"a\\\\b\\\"c\\nd\",code=\"200\"} "
                             "18446744073709551615\n");
    free(out);
    metrics_free(m);
}

static uint64_t read_twice(const void *arg)
{
    return 2 * *(const uint64_t *)arg;
}

static void bump(void *arg)
{
    (*(uint64_t *)arg)++;
}

static void sparse_series_read_callbacks_and_refresh(void **state)
{
    struct metrics *m;
    uint64_t c200 = 4, c404 = 0, base = 10, refreshed = 0;
    static const char *const l200[] = {"code", "200", NULL};
    static const char *const l404[] = {"code", "404", NULL};
    (void)state;
    assert_int_equal(metrics_new(&m), 0);
    struct metric_def d = {.name = "resp_total",
                           .type = METRIC_COUNTER,
                           .help = "Responses",
                           .labels = l200,
                           .flags = METRIC_SPARSE};
    assert_int_equal(metrics_add(m, &d, &c200), 0);
    d.labels = l404;
    assert_int_equal(metrics_add(m, &d, &c404), 0);
    struct metric_def r = {
        .name = "derived", .type = METRIC_GAUGE, .help = "Twice base", .labels = NULL};
    assert_int_equal(metrics_add_read(m, &r, read_twice, &base), 0);
    struct metric_def s = {
        .name = "scrapes", .type = METRIC_COUNTER, .help = "Refreshes", .labels = NULL};
    assert_int_equal(metrics_add(m, &s, &refreshed), 0);
    assert_int_equal(metrics_on_refresh(m, bump, &refreshed), 0);

    char *out = render(m);
    assert_non_null(strstr(out, "resp_total{code=\"200\"} 4\n"));
    assert_null(strstr(out, "code=\"404\"")); /* zero and sparse: left out */
    assert_non_null(strstr(out, "# TYPE resp_total counter\n"));
    assert_non_null(strstr(out, "derived 20\n"));
    assert_non_null(strstr(out, "scrapes 1\n")); /* the hook ran before reading */
    free(out);
    c404 = 1;
    base = 11;
    out = render(m);
    assert_non_null(strstr(out, "resp_total{code=\"404\"} 1\n"));
    assert_non_null(strstr(out, "derived 22\n"));
    assert_non_null(strstr(out, "scrapes 2\n"));
    free(out);
    metrics_free(m);
}

static void refuses_bad_names_labels_and_conflicts(void **state)
{
    struct metrics *m;
    uint64_t v = 0;
    static const char *const bad_key[] = {"1st", "x", NULL};
    static const char *const reserved[] = {"__name", "x", NULL};
    static const char *const ctl[] = {"k", "a\tb", NULL};
    static const char *const five[] = {"a", "1", "b", "2", "c", "3", "d", "4", "e", "5", NULL};
    (void)state;
    assert_int_equal(metrics_new(&m), 0);
    assert_int_equal(metrics_error(m), 0);
    struct metric_def d = {.name = "9lives", .type = METRIC_COUNTER, .help = "h", .labels = NULL};
    assert_int_equal(metrics_add(m, &d, &v), -EINVAL);
    d.name = "has-dash";
    assert_int_equal(metrics_add(m, &d, &v), -EINVAL);
    d.name = "";
    assert_int_equal(metrics_add(m, &d, &v), -EINVAL);
    d.name = "ok_total";
    d.labels = bad_key;
    assert_int_equal(metrics_add(m, &d, &v), -EINVAL);
    d.labels = reserved;
    assert_int_equal(metrics_add(m, &d, &v), -EINVAL);
    d.labels = ctl;
    assert_int_equal(metrics_add(m, &d, &v), -EINVAL);
    d.labels = five;
    assert_int_equal(metrics_add(m, &d, &v), -EINVAL);
    d.labels = inv;
    assert_int_equal(metrics_add(m, &d, NULL), -EINVAL);
    assert_int_equal(metrics_add(m, &d, &v), 0);
    assert_int_equal(metrics_add(m, &d, &v), -EINVAL); /* same name and labels twice */
    d.labels = reg;
    d.type = METRIC_GAUGE;
    assert_int_equal(metrics_add(m, &d, &v), -EINVAL); /* same name, other type */
    d.type = METRIC_COUNTER;
    d.help = "other help";
    assert_int_equal(metrics_add(m, &d, &v), -EINVAL);
    d.help = "h";
    assert_int_equal(metrics_add(m, &d, &v), 0);
    assert_int_equal(metrics_error(m), -EINVAL); /* the first error is kept */
    char *out = render(m);                       /* the refused ones left nothing behind */
    assert_string_equal(out, "# HELP ok_total h\n# TYPE ok_total counter\n"
                             "ok_total{method=\"INVITE\"} 0\nok_total{method=\"REGISTER\"} 0\n");
    free(out);
    metrics_free(m);
}

static void writes_tables_within_offset_and_limit(void **state)
{
    struct evbuffer *b = evbuffer_new();
    struct metrics_table t;
    struct metrics_query q = {.offset = 1, .limit = 2};
    static const char *const cols[] = {"name", "n", "where", NULL};
    struct addr a = test_addr("192.0.2.1:5060");
    (void)state;
    metrics_table_begin(&t, b, &q, "demo", cols, 4);
    const char *names[] = {"a", "b\"\x01\xe9", "c", "d"};
    size_t walked = 0;
    for (size_t i = 0; i < 4 && !metrics_table_full(&t); i++, walked++) {
        if (!metrics_table_row(&t))
            continue;
        metrics_table_str(&t, names[i]);
        metrics_table_i64(&t, -(int64_t)i);
        metrics_table_addr(&t, i == 2 ? NULL : &a);
        metrics_table_null(&t);
    }
    metrics_table_end(&t);
    assert_int_equal(walked, 3); /* stopped once the limit was reached */
    char *out = drain(b);
    assert_string_equal(out, "{\"table\":\"demo\",\"total\":4,\"offset\":1,\"limit\":2,\n"
                             "\"columns\":[\"name\",\"n\",\"where\"],\n"
                             "\"rows\":[\n"
                             "[\"b\\\"\\u0001\\u00e9\",-1,\"192.0.2.1:5060\",null],\n"
                             "[\"c\",-2,null,null]\n"
                             "],\n\"returned\":2}\n");
    struct json *doc;
    assert_int_equal(json_parse(&doc, out, strlen(out), NULL), 0);
    const struct json_val *rows = json_get(json_root(doc), "rows");
    assert_int_equal(json_count(rows), 2);
    assert_string_equal(json_text(json_at(json_at(rows, 0), 0)), "b\"\x01\xc3\xa9");
    json_free(doc);
    free(out);

    metrics_table_begin(&t, b, &q, "empty", cols, 0);
    metrics_table_end(&t);
    out = drain(b);
    assert_int_equal(json_parse(&doc, out, strlen(out), NULL), 0);
    assert_int_equal(json_count(json_get(json_root(doc), "rows")), 0);
    json_free(doc);
    free(out);
    evbuffer_free(b);
}

static void shared_sip_and_transaction_series(void **state)
{
    struct metrics *m;
    static const char *const methods[] = {"INVITE", "BYE"};
    uint64_t requests[2] = {3, 0}, responses[600] = {0};
    struct txn_stats txn = {
        .servers = 2, .clients = 1, .absorbed = 4, .retransmissions = 5, .timeouts = 6};
    (void)state;
    responses[200 - 100] = 7;
    responses[302 - 100] = 8;
    assert_int_equal(metrics_new(&m), 0);
    assert_int_equal(metrics_add_requests(m, methods, requests, 2), 0);
    assert_int_equal(metrics_add_responses(m, responses, 600, 100), 0);
    assert_int_equal(metrics_add_txn(m, &txn), 0);
    char *out = render(m);
    assert_non_null(strstr(out, "# TYPE pinhole_sip_requests_total counter\n"
                                "pinhole_sip_requests_total{method=\"INVITE\"} 3\n"
                                "pinhole_sip_requests_total{method=\"BYE\"} 0\n"));
    assert_non_null(strstr(out, "# TYPE pinhole_sip_responses_total counter\n"
                                "pinhole_sip_responses_total{code=\"200\"} 7\n"
                                "pinhole_sip_responses_total{code=\"302\"} 8\n#"));
    assert_non_null(strstr(out, "pinhole_txn_server_transactions 2\n"));
    assert_non_null(strstr(out, "pinhole_txn_client_transactions 1\n"));
    assert_non_null(strstr(out, "pinhole_txn_absorbed_total 4\n"));
    assert_non_null(strstr(out, "pinhole_txn_retransmissions_total 5\n"));
    assert_non_null(strstr(out, "pinhole_txn_timeouts_total 6\n"));
    assert_non_null(strstr(out, "# TYPE pinhole_txn_server_transactions gauge\n"));
    free(out);
    /* twice on one registry is a conflict, not a silent duplicate */
    assert_int_equal(metrics_add_txn(m, &txn), -EINVAL);
    metrics_free(m);
}

/* ---- the HTTP endpoint ---- */

struct http_reply {
    int status;
    char *head; /* status line and headers */
    char *body;
};

static void reply_free(struct http_reply *r)
{
    free(r->head);
    free(r->body);
}

/* Sends `request` to a over TCP while running the loop (the server lives
 * on it), and reads until the server closes. */
static int http_raw(struct loop *l, const struct addr *a, const char *request, struct http_reply *r)
{
    int fd = socket(addr_family(a), SOCK_STREAM | SOCK_NONBLOCK, 0);
    size_t sent = 0, len = strlen(request), got = 0;
    static char buf[1 << 20];
    uint64_t deadline = loop_now_ms(l) + 3000;
    bool eof = false;

    assert_true(fd >= 0);
    if (connect(fd, &a->u.sa, a->len) != 0 && errno != EINPROGRESS) {
        int err = -errno;
        close(fd);
        return err;
    }
    while (!eof && loop_now_ms(l) < deadline) {
        struct pollfd p = {.fd = fd, .events = POLLIN | (sent < len ? POLLOUT : 0)};
        event_base_loop(loop_base(l), EVLOOP_NONBLOCK);
        if (poll(&p, 1, 5) <= 0)
            continue;
        if (p.revents & POLLOUT) {
            ssize_t n = send(fd, request + sent, len - sent, MSG_NOSIGNAL);
            if (n < 0 && errno != EAGAIN) {
                close(fd);
                return -ECONNREFUSED;
            }
            sent += n > 0 ? (size_t)n : 0;
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = recv(fd, buf + got, sizeof buf - 1 - got, 0);
            if (n < 0 && errno != EAGAIN) {
                close(fd);
                return -errno;
            }
            eof = n == 0;
            got += n > 0 ? (size_t)n : 0;
        }
    }
    close(fd);
    assert_true(eof);
    buf[got] = '\0';
    char *split = strstr(buf, "\r\n\r\n");
    assert_non_null(split);
    r->head = strndup(buf, (size_t)(split - buf));
    r->body = strdup(split + 4);
    r->status = atoi(buf + 9);
    return 0;
}

static int http_get(struct loop *l, const struct addr *a, const char *path, struct http_reply *r)
{
    char req[512];
    snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: test\r\n\r\n", path);
    return http_raw(l, a, req, r);
}

struct fixture {
    struct loop *loop;
    struct metrics *m;
    struct metrics_http *h;
    uint64_t requests;
    int listings;
};

static int list_numbers(struct evbuffer *out, const struct metrics_query *q, void *arg)
{
    struct fixture *f = arg;
    struct metrics_table t;
    static const char *const cols[] = {"i", "square", NULL};
    f->listings++;
    metrics_table_begin(&t, out, q, "numbers", cols, 50000);
    for (uint64_t i = 0; i < 50000 && !metrics_table_full(&t); i++) {
        if (metrics_table_row(&t)) {
            metrics_table_u64(&t, i);
            metrics_table_u64(&t, i * i);
        }
    }
    metrics_table_end(&t);
    return 0;
}

static int list_fails(struct evbuffer *out, const struct metrics_query *q, void *arg)
{
    (void)out;
    (void)q;
    (void)arg;
    return -ENOMEM;
}

static void status_fields(struct metrics_obj *o, void *arg)
{
    struct fixture *f = arg;
    metrics_obj_u64(o, "requests", f->requests);
    metrics_obj_bool(o, "draining", false);
}

static void fixture_up(struct fixture *f)
{
    struct addr any = test_addr("127.0.0.1:0");
    memset(f, 0, sizeof *f);
    assert_int_equal(loop_new(&f->loop), 0);
    assert_int_equal(metrics_new(&f->m), 0);
    struct metric_def d = {.name = "pinhole_requests_total",
                           .type = METRIC_COUNTER,
                           .help = "Requests",
                           .labels = inv};
    assert_int_equal(metrics_add(f->m, &d, &f->requests), 0);
    assert_int_equal(metrics_http_new(&f->h, f->loop, f->m, "testd"), 0);
    assert_int_equal(metrics_http_route(f->h, "/numbers", list_numbers, f), 0);
    assert_int_equal(metrics_http_route(f->h, "/broken", list_fails, f), 0);
    metrics_http_status(f->h, status_fields, f);
    assert_false(addr_is_set(metrics_http_local(f->h)));
    assert_int_equal(metrics_http_listen(f->h, &any), 0);
    assert_int_not_equal(addr_port(metrics_http_local(f->h)), 0);
}

static void fixture_down(struct fixture *f)
{
    metrics_http_free(f->h);
    metrics_free(f->m);
    loop_free(f->loop);
}

static void serves_metrics_and_status(void **state)
{
    struct fixture f;
    struct http_reply r;
    struct json *doc;
    (void)state;
    fixture_up(&f);
    const struct addr *at = metrics_http_local(f.h);

    f.requests = 41;
    assert_int_equal(http_get(f.loop, at, "/metrics", &r), 0);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.head, "Content-Type: text/plain; version=0.0.4"));
    assert_non_null(strstr(r.body, "pinhole_requests_total{method=\"INVITE\"} 41\n"));
    assert_non_null(
        strstr(r.body, "pinhole_info{daemon=\"testd\",version=\"" PINHOLE_VERSION "\"} 1\n"));
    assert_non_null(
        strstr(r.body, "# TYPE pinhole_uptime_seconds gauge\npinhole_uptime_seconds 0\n"));
    reply_free(&r);
    f.requests++;
    assert_int_equal(http_get(f.loop, at, "/metrics", &r), 0);
    assert_non_null(strstr(r.body, "pinhole_requests_total{method=\"INVITE\"} 42\n"));
    reply_free(&r);

    assert_int_equal(http_get(f.loop, at, "/status", &r), 0);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.head, "Content-Type: application/json"));
    assert_int_equal(json_parse(&doc, r.body, strlen(r.body), NULL), 0);
    const struct json_val *root = json_root(doc);
    assert_string_equal(json_text(json_get(root, "daemon")), "testd");
    assert_string_equal(json_text(json_get(root, "version")), PINHOLE_VERSION);
    assert_int_equal(atoi(json_text(json_get(root, "pid"))), getpid());
    assert_string_equal(json_text(json_get(root, "requests")), "42");
    assert_string_equal(json_text(json_get(root, "draining")), "false");
    char where[ADDR_STRLEN];
    assert_string_equal(json_text(json_get(root, "stats")), addr_format(at, where, sizeof where));
    json_free(doc);
    reply_free(&r);
    fixture_down(&f);
}

static void bounds_listings_and_answers_errors(void **state)
{
    struct fixture f;
    struct http_reply r;
    struct json *doc;
    (void)state;
    fixture_up(&f);
    const struct addr *at = metrics_http_local(f.h);

    assert_int_equal(http_get(f.loop, at, "/numbers", &r), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(json_parse(&doc, r.body, strlen(r.body), NULL), 0);
    assert_string_equal(json_text(json_get(json_root(doc), "total")), "50000");
    assert_int_equal(json_count(json_get(json_root(doc), "rows")), METRICS_LIMIT_DEFAULT);
    json_free(doc);
    reply_free(&r);

    assert_int_equal(http_get(f.loop, at, "/numbers?offset=10&limit=3", &r), 0);
    assert_int_equal(json_parse(&doc, r.body, strlen(r.body), NULL), 0);
    const struct json_val *rows = json_get(json_root(doc), "rows");
    assert_int_equal(json_count(rows), 3);
    assert_string_equal(json_text(json_at(json_at(rows, 0), 1)), "100");
    assert_string_equal(json_text(json_at(json_at(rows, 2), 0)), "12");
    json_free(doc);
    reply_free(&r);

    const char *bad[] = {"/numbers?limit=0", "/numbers?limit=10001", "/numbers?limit=x",
                         "/numbers?offset=-1", "/numbers?limit=99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(http_get(f.loop, at, bad[i], &r), 0);
        assert_int_equal(r.status, 400);
        reply_free(&r);
    }
    int listed = f.listings;
    assert_int_equal(listed, 2); /* refused queries never reached the daemon */

    assert_int_equal(http_get(f.loop, at, "/broken", &r), 0);
    assert_int_equal(r.status, 500);
    reply_free(&r);
    assert_int_equal(http_get(f.loop, at, "/nope", &r), 0);
    assert_int_equal(r.status, 404);
    reply_free(&r);
    assert_int_equal(http_get(f.loop, at, "/", &r), 0);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "/metrics /status /numbers /broken"));
    reply_free(&r);
    assert_int_equal(
        http_raw(f.loop, at, "POST /metrics HTTP/1.0\r\nContent-Length: 0\r\n\r\n", &r), 0);
    assert_true(r.status >= 400 && r.status < 600);
    reply_free(&r);
    assert_int_equal(http_raw(f.loop, at, "garbage\r\n\r\n", &r), 0);
    assert_int_equal(r.status, 400);
    reply_free(&r);
    fixture_down(&f);
}

static void routes_are_checked(void **state)
{
    struct fixture f;
    (void)state;
    fixture_up(&f);
    assert_int_equal(metrics_http_route(f.h, "/numbers", list_numbers, &f), -EEXIST);
    assert_int_equal(metrics_http_route(f.h, "/metrics", list_numbers, &f), -EINVAL);
    assert_int_equal(metrics_http_route(f.h, "/status", list_numbers, &f), -EINVAL);
    assert_int_equal(metrics_http_route(f.h, "numbers", list_numbers, &f), -EINVAL);
    assert_int_equal(metrics_http_route(f.h, "/x", NULL, &f), -EINVAL);
    char path[16];
    int err = 0;
    for (int i = 0; i < 10 && !err; i++) {
        snprintf(path, sizeof path, "/r%d", i);
        err = metrics_http_route(f.h, path, list_numbers, &f);
    }
    assert_int_equal(err, -ENOSPC);
    fixture_down(&f);
}

static void listen_rebinds_and_stops(void **state)
{
    struct fixture f;
    struct http_reply r;
    (void)state;
    fixture_up(&f);
    struct addr first = *metrics_http_local(f.h);

    /* the same address again (a reload that kept `stats`): nothing moves */
    struct addr any = test_addr("127.0.0.1:0");
    assert_int_equal(metrics_http_listen(f.h, &any), 0);
    assert_true(addr_equal(metrics_http_local(f.h), &first));

    /* a taken address is refused and the old one keeps serving */
    int blocker = socket(AF_INET, SOCK_STREAM, 0);
    struct addr taken = test_addr("127.0.0.1:0");
    socklen_t len = sizeof taken.u.ss;
    assert_int_equal(bind(blocker, &taken.u.sa, taken.len), 0);
    assert_int_equal(listen(blocker, 1), 0);
    assert_int_equal(getsockname(blocker, &taken.u.sa, &len), 0);
    assert_int_equal(metrics_http_listen(f.h, &taken), -EADDRINUSE);
    assert_true(addr_equal(metrics_http_local(f.h), &first));
    assert_int_equal(http_get(f.loop, &first, "/metrics", &r), 0);
    assert_int_equal(r.status, 200);
    reply_free(&r);
    close(blocker);

    /* a new address: served there, the old one closed */
    assert_int_equal(metrics_http_listen(f.h, &taken), 0);
    assert_true(addr_equal(metrics_http_local(f.h), &taken));
    assert_int_equal(http_get(f.loop, &taken, "/metrics", &r), 0);
    assert_int_equal(r.status, 200);
    reply_free(&r);
    assert_int_equal(http_get(f.loop, &first, "/metrics", &r), -ECONNREFUSED);

    /* the same port on a wider address: the old socket is given up first */
    struct addr wide = test_addr("0.0.0.0:0");
    addr_set_port(&wide, addr_port(&taken));
    assert_int_equal(metrics_http_listen(f.h, &wide), 0);
    assert_int_equal(http_get(f.loop, &taken, "/status", &r), 0);
    assert_int_equal(r.status, 200);
    reply_free(&r);

    /* unset `stats`: off */
    assert_int_equal(metrics_http_listen(f.h, NULL), 0);
    assert_false(addr_is_set(metrics_http_local(f.h)));
    assert_int_equal(http_get(f.loop, &taken, "/metrics", &r), -ECONNREFUSED);
    fixture_down(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(renders_help_type_and_series_grouped_by_name),
        cmocka_unit_test(escapes_label_values_and_help),
        cmocka_unit_test(sparse_series_read_callbacks_and_refresh),
        cmocka_unit_test(refuses_bad_names_labels_and_conflicts),
        cmocka_unit_test(writes_tables_within_offset_and_limit),
        cmocka_unit_test(shared_sip_and_transaction_series),
        cmocka_unit_test(serves_metrics_and_status),
        cmocka_unit_test(bounds_listings_and_answers_errors),
        cmocka_unit_test(routes_are_checked),
        cmocka_unit_test(listen_rebinds_and_stops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

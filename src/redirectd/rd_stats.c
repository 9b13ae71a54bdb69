/* rd_stats: the counters line. */
#include "rd_stats.h"

#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>

struct line {
    char *buf;
    size_t len, used;
};

static void add(struct line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct line *l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (l->used + 1 < l->len) {
        int n = vsnprintf(l->buf + l->used, l->len - l->used, fmt, ap);
        if (n > 0)
            l->used += (size_t)n < l->len - l->used ? (size_t)n : l->len - l->used - 1;
    }
    va_end(ap);
}

/* Present when the daemon is linked with mimalloc (CMake PINHOLE_MIMALLOC):
 * glibc's mallinfo2 does not see mimalloc's heap, so ask mimalloc for the
 * memory it has committed. Weak, so unit tests and PINHOLE_MIMALLOC=OFF
 * builds link without it. */
extern void mi_process_info(size_t *elapsed_msecs, size_t *user_msecs, size_t *system_msecs,
                            size_t *current_rss, size_t *peak_rss, size_t *current_commit,
                            size_t *peak_commit, size_t *page_faults) __attribute__((weak));

static size_t heap_in_use(void)
{
    if (mi_process_info) {
        size_t t0, t1, t2, rss, peak_rss, commit, peak_commit, faults;
        mi_process_info(&t0, &t1, &t2, &rss, &peak_rss, &commit, &peak_commit, &faults);
        return commit;
    }
    return mallinfo2().uordblks;
}

static void add_table(struct line *l, const struct redirector *r)
{
    const struct client_table *ct = redirector_clients(r);
    struct client_table_memory m;
    size_t n = client_table_count(ct);
    client_table_memory(ct, &m);
    add(l, "bindings=%zu expired=%llu table_bytes=%zu table_bytes_per_binding=%zu strings=%zu", n,
        (unsigned long long)client_table_expired(ct), m.overhead, n ? m.overhead / n : 0,
        m.strings);
    add(l, " heap_in_use=%zu", heap_in_use());
}

static void add_requests(struct line *l, const struct redirectd_stats *s)
{
    static const char *const names[RD_METHOD_COUNT] = {"REGISTER", "INVITE", "ACK",
                                                       "OPTIONS",  "CANCEL", "other"};
    add(l, "%s", " requests:");
    for (size_t i = 0; i < RD_METHOD_COUNT; i++)
        add(l, "%s%s=%llu", i ? "," : "", names[i], (unsigned long long)s->requests[i]);
}

static void add_responses(struct line *l, const struct redirectd_stats *s)
{
    bool first = true;
    add(l, "%s", " responses:");
    for (size_t i = 0; i < RD_STATUS_SLOTS; i++) {
        if (!s->responses[i])
            continue;
        add(l, "%s%zu=%llu", first ? "" : ",", i + RD_STATUS_MIN,
            (unsigned long long)s->responses[i]);
        first = false;
    }
}

size_t rd_stats_format(const struct redirector *r, char *buf, size_t len)
{
    const struct redirectd_stats *s = redirector_stats(r);
    struct txn_stats ts;
    struct line l = {.buf = buf, .len = len};
    if (!len)
        return 0;
    buf[0] = '\0';
    redirector_txn_stats(r, &ts);
    add_table(&l, r);
    add_requests(&l, s);
    add_responses(&l, s);
    add(&l,
        " parse_errors=%llu stray_responses=%llu stray_acks=%llu forbidden=%llu absorbed=%llu"
        " acks_absorbed=%llu send_errors=%llu txn_servers=%llu txn_retransmissions=%llu",
        (unsigned long long)s->parse_errors, (unsigned long long)s->stray_responses,
        (unsigned long long)s->stray_acks, (unsigned long long)s->forbidden,
        (unsigned long long)s->absorbed, (unsigned long long)s->acks_absorbed,
        (unsigned long long)s->send_errors, (unsigned long long)ts.servers,
        (unsigned long long)ts.retransmissions);
    return l.used;
}

/* relay_load: a media load generator for relayd's relay ports (issue #4).
 *
 * For each of N sessions it opens two endpoints (A and B, UDP sockets on
 * 127.0.0.1) that talk to the same relay port, as two phones would. It
 * first latches every session (A sends, then B), then for `duration`
 * seconds sends RTP-sized packets both ways at `pps` per direction per
 * session, each stamped with session, direction, sequence number and send
 * time, and counts what comes back through the relay: offered and
 * forwarded packets/s, loss, and one-way latency through the relay
 * (p50/p99): from just before the send call to the kernel's receive
 * timestamp on the other endpoint's socket (SO_TIMESTAMPNS), so the load
 * generator's own scheduling delays stay out of it. Sender and receiver
 * share one clock: no sync error.
 *
 * Usage: relay_load --ports FILE [--sessions N] [--pps P] [--duration S]
 *                   [--size BYTES] [--burst B] [--target IP]
 * FILE lists one relay RTP port a line (the forwarder and the harness
 * write it). Prints one "key=value ..." line on stdout. Loopback only. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAGIC 0x52454c59u /* "RELY" */
#define BATCH 32
#define MAX_SIZE 1400
#define SEND_CHUNK 256 /* packets sent before looking at receives again */

/* Latency histogram: 1 us steps to 10 ms, then 100 us steps to 1 s. */
#define FINE_US 10000
#define COARSE_STEP 100
#define BUCKETS (FINE_US + (1000000 - FINE_US) / COARSE_STEP + 1)

struct hdr {
    uint32_t magic;
    uint32_t session;
    uint32_t dir;
    uint32_t measured; /* sent in the measured window */
    uint64_t seq;
    uint64_t sent_ns;
};

struct opts {
    const char *ports_file;
    const char *target;
    unsigned sessions, pps, duration_s, size, burst;
};

static uint64_t buckets[BUCKETS];

static uint64_t ts_ns(const struct timespec *ts)
{
    return (uint64_t)ts->tv_sec * 1000000000u + (uint64_t)ts->tv_nsec;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts_ns(&ts);
}

/* The clock of SO_TIMESTAMPNS, for the packets' send stamps. */
static uint64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts_ns(&ts);
}

static void record_latency(uint64_t ns)
{
    uint64_t us = ns / 1000;
    size_t b = us < FINE_US ? us : FINE_US + (us - FINE_US) / COARSE_STEP;
    buckets[b < BUCKETS ? b : BUCKETS - 1]++;
}

static double percentile_us(uint64_t total, double q)
{
    uint64_t want = (uint64_t)(q * (double)total), seen = 0;
    for (size_t b = 0; b < BUCKETS; b++) {
        seen += buckets[b];
        if (seen > want)
            return b < FINE_US ? (double)b : (double)(FINE_US + (b - FINE_US) * COARSE_STEP);
    }
    return -1;
}

static void usage(void)
{
    fprintf(stderr, "usage: relay_load --ports FILE [--sessions N] [--pps P] [--duration S] "
                    "[--size BYTES] [--burst B] [--target IP]\n");
    exit(2);
}

static void parse(int argc, char **argv, struct opts *o)
{
    static const struct option lo[] = {{"ports", 1, 0, 'p'},  {"sessions", 1, 0, 'n'},
                                       {"pps", 1, 0, 'r'},    {"duration", 1, 0, 'd'},
                                       {"size", 1, 0, 's'},   {"burst", 1, 0, 'b'},
                                       {"target", 1, 0, 't'}, {0, 0, 0, 0}};
    int c;
    *o = (struct opts){NULL, "127.0.0.1", 1000, 50, 10, 172, 1};
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case 'p':
            o->ports_file = optarg;
            break;
        case 'n':
            o->sessions = (unsigned)atoi(optarg);
            break;
        case 'r':
            o->pps = (unsigned)atoi(optarg);
            break;
        case 'd':
            o->duration_s = (unsigned)atoi(optarg);
            break;
        case 's':
            o->size = (unsigned)atoi(optarg);
            break;
        case 'b':
            o->burst = (unsigned)atoi(optarg);
            break;
        case 't':
            o->target = optarg;
            break;
        default:
            usage();
        }
    }
    if (!o->ports_file || o->sessions == 0 || o->sessions > 30000 || o->pps == 0 ||
        o->duration_s == 0 || o->size < sizeof(struct hdr) || o->size > MAX_SIZE || o->burst == 0 ||
        o->burst > BATCH)
        usage();
}

static unsigned read_ports(const char *file, uint16_t *ports, unsigned max)
{
    FILE *f = fopen(file, "r");
    unsigned n = 0, p;
    if (!f) {
        perror(file);
        exit(1);
    }
    while (n < max && fscanf(f, "%u", &p) == 1)
        if (p > 0 && p < 65536)
            ports[n++] = (uint16_t)p;
    fclose(f);
    return n;
}

struct endpoint {
    int fd;
    uint32_t session, dir;
    uint64_t seq;
    struct sockaddr_in relay;
};

static int open_endpoint(struct endpoint *e, int ep, uint32_t index)
{
    struct sockaddr_in sin = {.sin_family = AF_INET};
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = index};
    int big = 1 << 20, one = 1;

    e->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (e->fd < 0)
        return -errno;
    setsockopt(e->fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    setsockopt(e->fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(e->fd, (struct sockaddr *)&sin, sizeof sin) != 0)
        return -errno;
    return epoll_ctl(ep, EPOLL_CTL_ADD, e->fd, &ev) == 0 ? 0 : -errno;
}

/* Shared send and receive buffers. */
static unsigned char txbuf[BATCH][MAX_SIZE], rxbuf[BATCH][2048];
static struct mmsghdr txm[BATCH], rxm[BATCH];
static struct iovec txv[BATCH], rxv[BATCH];
static union {
    char buf[CMSG_SPACE(sizeof(struct timespec))];
    struct cmsghdr align;
} rxctl[BATCH];

struct counters {
    uint64_t sent, received, measured_sent, measured_received, stray;
};

static int send_burst(struct endpoint *e, unsigned k, unsigned size, bool measured,
                      struct counters *c)
{
    uint64_t t = wall_ns();
    for (unsigned i = 0; i < k; i++) {
        struct hdr h = {MAGIC, e->session, e->dir, measured, e->seq++, t};
        memcpy(txbuf[i], &h, sizeof h);
        txv[i] = (struct iovec){txbuf[i], size};
        txm[i].msg_hdr = (struct msghdr){.msg_name = &e->relay,
                                         .msg_namelen = sizeof e->relay,
                                         .msg_iov = &txv[i],
                                         .msg_iovlen = 1};
    }
    int r = sendmmsg(e->fd, txm, k, MSG_DONTWAIT);
    if (r > 0) {
        c->sent += (uint64_t)r;
        if (measured)
            c->measured_sent += (uint64_t)r;
    }
    return r;
}

/* The kernel's receive time, or `fallback` when it gave none. */
static uint64_t arrival_ns(struct msghdr *h, uint64_t fallback)
{
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(h); cm; cm = CMSG_NXTHDR(h, cm)) {
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS) {
            struct timespec ts;
            memcpy(&ts, CMSG_DATA(cm), sizeof ts);
            return ts_ns(&ts);
        }
    }
    return fallback;
}

static void drain(int fd, struct counters *c)
{
    for (;;) {
        for (int i = 0; i < BATCH; i++) {
            rxv[i] = (struct iovec){rxbuf[i], sizeof rxbuf[i]};
            rxm[i].msg_hdr = (struct msghdr){.msg_iov = &rxv[i],
                                             .msg_iovlen = 1,
                                             .msg_control = rxctl[i].buf,
                                             .msg_controllen = sizeof rxctl[i].buf};
        }
        int n = recvmmsg(fd, rxm, BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0)
            return;
        uint64_t now = wall_ns();
        for (int i = 0; i < n; i++) {
            uint64_t t = arrival_ns(&rxm[i].msg_hdr, now);
            struct hdr h;
            if (rxm[i].msg_len < sizeof h) {
                c->stray++;
                continue;
            }
            memcpy(&h, rxbuf[i], sizeof h);
            if (h.magic != MAGIC) {
                c->stray++;
                continue;
            }
            c->received++;
            if (h.measured) {
                c->measured_received++;
                record_latency(t > h.sent_ns ? t - h.sent_ns : 0);
            }
        }
        if (n < BATCH)
            return;
    }
}

static void poll_receive(int ep, struct endpoint *eps, int timeout_ms, struct counters *c)
{
    struct epoll_event evs[512];
    int n = epoll_wait(ep, evs, 512, timeout_ms);
    for (int i = 0; i < n; i++)
        drain(eps[evs[i].data.u32].fd, c);
}

static void receive_for(int ep, struct endpoint *eps, uint64_t ns, struct counters *c)
{
    uint64_t end = now_ns() + ns;
    while (now_ns() < end)
        poll_receive(ep, eps, 5, c);
}

/* A sends first (dropped by the relay: peer unknown), then B (latched and
 * forwarded to A): afterwards every session relays both ways. */
static void latch_all(int ep, struct endpoint *eps, unsigned n, unsigned size, struct counters *c)
{
    for (unsigned s = 0; s < n; s++)
        send_burst(&eps[2 * (size_t)s], 1, size, false, c);
    receive_for(ep, eps, 100000000, c);
    for (unsigned s = 0; s < n; s++)
        send_burst(&eps[2 * (size_t)s + 1], 1, size, false, c);
    receive_for(ep, eps, 200000000, c);
}

static void run(int ep, struct endpoint *eps, const struct opts *o, struct counters *c,
                double *elapsed_s)
{
    unsigned nep = 2 * o->sessions, rr = 0;
    double rate = (double)nep * o->pps; /* packets per second, all directions */
    uint64_t t0 = now_ns(), end = t0 + (uint64_t)o->duration_s * 1000000000u, t;

    while ((t = now_ns()) < end) {
        uint64_t due = (uint64_t)((double)(t - t0) * rate / 1e9);
        unsigned budget = SEND_CHUNK;
        while (c->measured_sent < due && budget > 0) {
            uint64_t left = due - c->measured_sent;
            unsigned k = left < o->burst ? (unsigned)left : o->burst;
            if (send_burst(&eps[rr], k, o->size, true, c) <= 0)
                break; /* our own socket buffer is full: try again later */
            rr = (rr + 1) % nep;
            budget = budget > k ? budget - k : 0;
        }
        poll_receive(ep, eps, c->measured_sent < due ? 0 : 1, c);
    }
    *elapsed_s = (double)(now_ns() - t0) / 1e9;
    receive_for(ep, eps, 300000000, c); /* late packets still count */
}

static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* Opens the 2N endpoints: A = even index, B = odd, both aimed at the
 * session's relay port. Returns 0 or an exit status. */
static int open_endpoints(int ep, struct endpoint *eps, const uint16_t *ports, const struct opts *o)
{
    for (unsigned i = 0; i < 2 * o->sessions; i++) {
        struct endpoint *e = &eps[i];
        e->session = i / 2;
        e->dir = i % 2;
        e->relay = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons(ports[i / 2])};
        if (inet_pton(AF_INET, o->target, &e->relay.sin_addr) != 1) {
            fprintf(stderr, "relay_load: --target must be an IPv4 address\n");
            return 2;
        }
        int err = open_endpoint(e, ep, i);
        if (err) {
            fprintf(stderr, "relay_load: endpoint %u: %s\n", i, strerror(-err));
            return 1;
        }
    }
    return 0;
}

static void report(const struct opts *o, const struct counters *c, uint64_t latched_rx,
                   double elapsed)
{
    uint64_t ms = c->measured_sent, mr = c->measured_received;
    printf("sessions=%u latched=%llu offered_pps=%.0f forwarded_pps=%.0f sent=%llu received=%llu "
           "loss_pct=%.3f lat_p50_us=%.0f lat_p99_us=%.0f lat_p999_us=%.0f stray=%llu\n",
           o->sessions, (unsigned long long)latched_rx, (double)ms / elapsed, (double)mr / elapsed,
           (unsigned long long)ms, (unsigned long long)mr,
           ms ? 100.0 * (double)(ms > mr ? ms - mr : 0) / (double)ms : 0.0, percentile_us(mr, 0.50),
           percentile_us(mr, 0.99), percentile_us(mr, 0.999), (unsigned long long)c->stray);
}

int main(int argc, char **argv)
{
    struct opts o;
    struct counters c = {0};
    struct endpoint *eps = NULL;
    uint16_t *ports = NULL;
    double elapsed;
    int ep = -1, rc = 1;

    parse(argc, argv, &o);
    raise_nofile();
    ports = calloc(o.sessions, sizeof *ports);
    eps = calloc(2 * (size_t)o.sessions, sizeof *eps);
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (!ports || !eps || ep < 0)
        goto out;
    for (size_t i = 0; i < 2 * (size_t)o.sessions; i++)
        eps[i].fd = -1;
    if (read_ports(o.ports_file, ports, o.sessions) < o.sessions) {
        fprintf(stderr, "relay_load: %s lists fewer than %u ports\n", o.ports_file, o.sessions);
        goto out;
    }
    rc = open_endpoints(ep, eps, ports, &o);
    if (rc)
        goto out;
    latch_all(ep, eps, o.sessions, o.size, &c);
    uint64_t latched_rx = c.received;
    run(ep, eps, &o, &c, &elapsed);
    report(&o, &c, latched_rx, elapsed);
out:
    for (size_t i = 0; eps && i < 2 * (size_t)o.sessions; i++)
        if (eps[i].fd >= 0)
            close(eps[i].fd);
    if (ep >= 0)
        close(ep);
    free(eps);
    free(ports);
    return rc;
}

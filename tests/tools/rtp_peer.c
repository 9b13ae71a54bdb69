/* rtp_peer: one phone's media for the call integration tests (issue #6).
 *
 *   rtp_peer -l LOCAL -r REMOTE [-n COUNT] [-i INTERVAL_MS] [-p PRIME_MS]
 *            [-w LINGER_MS] [-o FILE]
 *
 * Binds LOCAL (the address:port the phone advertised in its SDP) and talks
 * to REMOTE (the relay address:port the phone received in the other side's
 * SDP). relayd latches the first two sources of a relay port and drops what
 * a channel sends before its peer is latched (design.md decision 6), so the
 * peer first sends "probe" packets (RTP payload type 13) every INTERVAL_MS
 * until it hears anything from REMOTE — then both channels are latched —
 * and only then sends COUNT "data" packets (payload type 0), one every
 * INTERVAL_MS. Data packets carry their index and a byte pattern, so the
 * receiver counts each one once and notices corruption. After its last data
 * packet it listens for LINGER_MS more (less once it has all COUNT of the
 * peer's), then prints one line to FILE (written whole, then renamed into
 * place, so a reader never sees half of it) or stdout:
 *
 *   sent=N received=M duplicates=D corrupt=C foreign=F probes=P primed_ms=T
 *
 * received counts distinct data packets from REMOTE; foreign counts packets
 * from any other source (the relay must answer from the port we send to);
 * primed_ms is -1 when REMOTE never answered within PRIME_MS (data is sent
 * anyway, to be counted as lost). Exit 0 when the run completed, 1 on a
 * usage or socket error. Loopback tests only: nothing here is hardened
 * beyond bounds checks. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pinhole/addr.h"

#define RTP_HEADER 12
#define RTP_PAYLOAD 160 /* 20 ms of PCMU */
#define PT_DATA 0
#define PT_PROBE 13
#define MAX_COUNT 65535
#define MAX_MS 600000

struct opts {
    struct addr local, remote;
    unsigned count, interval_ms, prime_ms, linger_ms;
    const char *out;
};

struct peer {
    int fd;
    uint32_t ssrc;
    uint16_t seq;
    unsigned sent, received, duplicates, corrupt, foreign, probes;
    long primed_ms;
    uint8_t seen[(MAX_COUNT + 8) / 8];
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int parse_uint(const char *s, unsigned max, unsigned *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || v > max)
        return -EINVAL;
    *out = (unsigned)v;
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: rtp_peer -l LOCAL -r REMOTE [-n COUNT] [-i INTERVAL_MS] "
                    "[-p PRIME_MS] [-w LINGER_MS] [-o FILE]\n");
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
    int c, err = 0;
    *o = (struct opts){.count = 100, .interval_ms = 10, .prime_ms = 3000, .linger_ms = 1000};
    while ((c = getopt(argc, argv, "l:r:n:i:p:w:o:")) != -1 && !err) {
        switch (c) {
        case 'l': err = addr_parse(&o->local, optarg, 0); break;
        case 'r': err = addr_parse(&o->remote, optarg, 0); break;
        case 'n': err = parse_uint(optarg, MAX_COUNT, &o->count); break;
        case 'i': err = parse_uint(optarg, 1000, &o->interval_ms); break;
        case 'p': err = parse_uint(optarg, MAX_MS, &o->prime_ms); break;
        case 'w': err = parse_uint(optarg, MAX_MS, &o->linger_ms); break;
        case 'o': o->out = optarg; break;
        default: err = -EINVAL;
        }
    }
    if (err || optind != argc || !addr_is_set(&o->local) || !addr_is_set(&o->remote) ||
        o->interval_ms == 0) {
        usage();
        return -EINVAL;
    }
    return 0;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* RTP (RFC 3550 §5.1) with our own payload: the data index, then a pattern
 * derived from it. A probe carries no payload. */
static void send_packet(struct peer *pr, const struct opts *o, int pt, uint32_t index)
{
    uint8_t pkt[RTP_HEADER + RTP_PAYLOAD];
    size_t len = RTP_HEADER;
    pkt[0] = 0x80;
    pkt[1] = (uint8_t)pt;
    put16(pkt + 2, pr->seq);
    put32(pkt + 4, (uint32_t)pr->seq * RTP_PAYLOAD);
    put32(pkt + 8, pr->ssrc);
    pr->seq++;
    if (pt == PT_DATA) {
        put32(pkt + RTP_HEADER, index);
        for (size_t i = 4; i < RTP_PAYLOAD; i++)
            pkt[RTP_HEADER + i] = (uint8_t)(index + i);
        len += RTP_PAYLOAD;
    }
    if (sendto(pr->fd, pkt, len, 0, &o->remote.u.sa, o->remote.len) == (ssize_t)len) {
        if (pt == PT_DATA)
            pr->sent++;
        else
            pr->probes++;
    }
}

static bool payload_intact(const uint8_t *pl, uint32_t index)
{
    for (size_t i = 4; i < RTP_PAYLOAD; i++)
        if (pl[i] != (uint8_t)(index + i))
            return false;
    return true;
}

enum rx { RX_NONE, RX_OTHER, RX_REMOTE };

/* Reads and counts one datagram. RX_REMOTE (it came from REMOTE, which is
 * what ends the priming), RX_OTHER, or RX_NONE when nothing was waiting. */
static enum rx receive_packet(struct peer *pr, const struct opts *o)
{
    uint8_t buf[2048];
    struct addr from;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    ssize_t n = recvfrom(pr->fd, buf, sizeof buf, 0, (struct sockaddr *)&ss, &sl);
    if (n < 0)
        return RX_NONE;
    addr_from_sockaddr(&from, (struct sockaddr *)&ss, sl);
    if (!addr_equal(&from, &o->remote)) {
        pr->foreign++;
        return RX_OTHER;
    }
    if (n < RTP_HEADER || (buf[0] & 0xc0) != 0x80 || (buf[1] & 0x7f) != PT_DATA)
        return RX_REMOTE;
    if (n != RTP_HEADER + RTP_PAYLOAD) {
        pr->corrupt++;
        return RX_REMOTE;
    }
    uint32_t index = get32(buf + RTP_HEADER);
    if (index >= MAX_COUNT || !payload_intact(buf + RTP_HEADER, index)) {
        pr->corrupt++;
    } else if (pr->seen[index / 8] & (1u << (index % 8))) {
        pr->duplicates++;
    } else {
        pr->seen[index / 8] |= (uint8_t)(1u << (index % 8));
        pr->received++;
    }
    return RX_REMOTE;
}

static int open_socket(const struct opts *o)
{
    int fd = socket(addr_family(&o->local), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (bind(fd, &o->local.u.sa, o->local.len) != 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    return fd;
}

/* Waits for readability until `until` (ms, monotonic), reading everything
 * that arrives. Returns true when something came from REMOTE. */
static bool pump(struct peer *pr, const struct opts *o, uint64_t until)
{
    bool heard = false;
    for (uint64_t t = now_ms(); t < until; t = now_ms()) {
        struct pollfd pfd = {.fd = pr->fd, .events = POLLIN};
        if (poll(&pfd, 1, (int)(until - t)) <= 0)
            break;
        for (enum rx r; (r = receive_packet(pr, o)) != RX_NONE;)
            heard |= r == RX_REMOTE;
    }
    return heard;
}

static void run(struct peer *pr, const struct opts *o)
{
    uint64_t start = now_ms(), next = start;
    pr->primed_ms = -1;
    while (now_ms() - start < o->prime_ms) {
        send_packet(pr, o, PT_PROBE, 0);
        next += o->interval_ms;
        if (pump(pr, o, next)) {
            pr->primed_ms = (long)(now_ms() - start);
            break;
        }
    }
    for (uint32_t i = 0; i < o->count; i++) {
        send_packet(pr, o, PT_DATA, i);
        next = now_ms() + o->interval_ms;
        pump(pr, o, next);
    }
    /* The peer sends as many as we do: stop listening once we have them. */
    uint64_t end = now_ms() + o->linger_ms;
    for (uint64_t t = now_ms(); t < end && pr->received < o->count; t = now_ms())
        pump(pr, o, t + 20 < end ? t + 20 : end);
}

static int report(const struct peer *pr, const struct opts *o)
{
    char tmp[4096];
    FILE *f = stdout;
    if (o->out) {
        if (snprintf(tmp, sizeof tmp, "%s.tmp", o->out) >= (int)sizeof tmp)
            return -ENAMETOOLONG;
        f = fopen(tmp, "w");
        if (!f)
            return -errno;
    }
    fprintf(f, "sent=%u received=%u duplicates=%u corrupt=%u foreign=%u probes=%u primed_ms=%ld\n",
            pr->sent, pr->received, pr->duplicates, pr->corrupt, pr->foreign, pr->probes,
            pr->primed_ms);
    if (!o->out)
        return fflush(f) == 0 ? 0 : -EIO;
    if (fclose(f) != 0 || rename(tmp, o->out) != 0)
        return -errno;
    return 0;
}

int main(int argc, char **argv)
{
    struct opts o;
    static struct peer pr; /* the bitmap is 8 KiB: not on the stack */
    if (parse_opts(argc, argv, &o) != 0)
        return 1;
    pr.fd = open_socket(&o);
    if (pr.fd < 0) {
        char where[ADDR_STRLEN];
        fprintf(stderr, "rtp_peer: cannot bind %s: %s\n",
                addr_format(&o.local, where, sizeof where), strerror(-pr.fd));
        return 1;
    }
    pr.ssrc = (uint32_t)getpid() * 2654435761u;
    run(&pr, &o);
    close(pr.fd);
    int err = report(&pr, &o);
    if (err) {
        fprintf(stderr, "rtp_peer: cannot write the report: %s\n", strerror(-err));
        return 1;
    }
    return 0;
}

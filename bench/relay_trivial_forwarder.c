/* relay_trivial_forwarder: the least a relay can do, as a yardstick for
 * relayd's media path (issue #4). It binds the same kind of ports (one per
 * session, on 127.0.0.1), remembers the first two sources on each and sends
 * every packet from one to the other with recvmmsg/sendmmsg batches on raw
 * epoll: no libevent, no latching rules, no counters per channel, no
 * timers. What it forwards under a load is this machine's practical limit.
 *
 * Usage: relay_trivial_forwarder --port-min P --count N --ports FILE
 *                                [--addr IPv4]
 * Binds N even ports from P up (skipping ports in use), writes them to FILE
 * one a line, then runs until SIGTERM/SIGINT and prints its counters. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 32
#define MAX_PACKET 8192
#define ROUNDS 4 /* batches per wakeup, as relayd's media path */

struct port {
    int fd;
    int npeers;
    struct sockaddr_in peer[2];
};

static volatile sig_atomic_t stop;
static unsigned char buf[BATCH][MAX_PACKET];
static struct sockaddr_in from[BATCH], to[BATCH];
static struct mmsghdr rx[BATCH], tx[BATCH];
static struct iovec rxv[BATCH], txv[BATCH];
static uint64_t received, forwarded, dropped;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static int peer_index(struct port *p, const struct sockaddr_in *s)
{
    for (int i = 0; i < p->npeers; i++)
        if (p->peer[i].sin_port == s->sin_port && p->peer[i].sin_addr.s_addr == s->sin_addr.s_addr)
            return i;
    if (p->npeers == 2)
        return -1;
    p->peer[p->npeers] = *s;
    return p->npeers++;
}

/* One batch; returns how many datagrams it read. */
static int forward_batch(struct port *p)
{
    for (int i = 0; i < BATCH; i++)
        rx[i].msg_hdr.msg_namelen = sizeof from[i];
    int n = recvmmsg(p->fd, rx, BATCH, MSG_DONTWAIT, NULL), k = 0;
    if (n <= 0)
        return 0;
    received += (uint64_t)n;
    for (int i = 0; i < n; i++) {
        int src = peer_index(p, &from[i]);
        if (src < 0 || p->npeers < 2) {
            dropped++;
            continue;
        }
        to[k] = p->peer[1 - src];
        txv[k] = (struct iovec){buf[i], rx[i].msg_len};
        k++;
    }
    for (int done = 0; done < k;) {
        int r = sendmmsg(p->fd, tx + done, (unsigned)(k - done), MSG_DONTWAIT);
        if (r <= 0) {
            dropped += (uint64_t)(k - done);
            break;
        }
        forwarded += (uint64_t)r;
        done += r;
    }
    return n;
}

static void forward(struct port *p)
{
    for (int round = 0; round < ROUNDS; round++)
        if (forward_batch(p) < BATCH)
            return;
}

static int bind_port(uint32_t addr, uint16_t port)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sin.sin_addr.s_addr = addr;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof sin) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int main(int argc, char **argv)
{
    static const struct option lo[] = {{"port-min", 1, 0, 'p'},
                                       {"count", 1, 0, 'n'},
                                       {"ports", 1, 0, 'f'},
                                       {"addr", 1, 0, 'a'},
                                       {0, 0, 0, 0}};
    unsigned port_min = 0, count = 0, next;
    const char *ports_file = NULL, *addr_text = "127.0.0.1";
    struct rlimit rl;
    uint32_t addr;
    int c, ep;

    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        if (c == 'p')
            port_min = (unsigned)atoi(optarg);
        else if (c == 'n')
            count = (unsigned)atoi(optarg);
        else if (c == 'f')
            ports_file = optarg;
        else if (c == 'a')
            addr_text = optarg;
        else
            return 2;
    }
    if (!ports_file || count == 0 || port_min == 0 || inet_pton(AF_INET, addr_text, &addr) != 1) {
        fprintf(stderr, "usage: relay_trivial_forwarder --port-min P --count N --ports FILE "
                        "[--addr IPv4]\n");
        return 2;
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    for (int i = 0; i < BATCH; i++) {
        rxv[i] = (struct iovec){buf[i], MAX_PACKET};
        rx[i].msg_hdr = (struct msghdr){.msg_name = &from[i], .msg_iov = &rxv[i], .msg_iovlen = 1};
        tx[i].msg_hdr = (struct msghdr){
            .msg_name = &to[i], .msg_namelen = sizeof to[i], .msg_iov = &txv[i], .msg_iovlen = 1};
    }
    struct port *ports = calloc(count, sizeof *ports);
    FILE *out = fopen(ports_file, "w");
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (!ports || !out || ep < 0)
        return 1;
    next = port_min + (port_min & 1u);
    for (unsigned i = 0; i < count; i++) {
        for (ports[i].fd = -1; ports[i].fd < 0 && next < 65535; next += 2)
            ports[i].fd = bind_port(addr, (uint16_t)next);
        if (ports[i].fd < 0) {
            fprintf(stderr, "relay_trivial_forwarder: bound only %u ports\n", i);
            return 1;
        }
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &ports[i]};
        epoll_ctl(ep, EPOLL_CTL_ADD, ports[i].fd, &ev);
        fprintf(out, "%u\n", next - 2);
    }
    fclose(out);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    printf("ready ports=%u\n", count);
    fflush(stdout);
    while (!stop) {
        struct epoll_event evs[256];
        int n = epoll_wait(ep, evs, 256, 100);
        for (int i = 0; i < n; i++)
            forward(evs[i].data.ptr);
    }
    printf("received=%llu forwarded=%llu dropped=%llu\n", (unsigned long long)received,
           (unsigned long long)forwarded, (unsigned long long)dropped);
    for (unsigned i = 0; i < count; i++)
        close(ports[i].fd);
    free(ports);
    close(ep);
    return 0;
}

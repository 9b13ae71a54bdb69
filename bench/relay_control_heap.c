/* relay_control_heap: what a relay session costs in relayd's heap once it
 * is set up, measured in-process (issue #4's "<= 2 KiB per session").
 *
 * VmRSS seen from outside mixes two things: the session itself (record,
 * streams, sockets' libevent events), which lives as long as the call,
 * and the INVITE server transaction that set it up (a copy of the INVITE
 * and the 302 kept for retransmission), which ends T4 after the ACK but
 * whose pages glibc keeps. This tool drives relayd's real SIP control
 * (relayd_receive) with N relay INVITEs and their ACKs on a fake
 * transport, then reports the heap in use per session while the
 * transactions live and after they ended (mallinfo2), and VmRSS.
 *
 * Usage: relay_control_heap [--sessions N] [--port-min P]
 * Binds N port pairs on 127.0.0.1 from P (default 20000), skipping busy ones. */
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pinhole/log.h"
#include "pinhole/sip.h"
#include "relayd.h"

#define PROXY "127.0.0.1:5060"
#define T4_MS 100 /* short timer I: the transactions end soon after the ACK */

static const char sdp[] = "v=0\r\no=16 2890844526 2890844526 IN IP4 192.168.1.10\r\ns=-\r\n"
                          "c=IN IP4 192.168.1.10\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0\r\n"
                          "a=rtpmap:0 PCMU/8000\r\na=rtcp:49171\r\n";

static int discard(void *ctx, const struct addr *to, const void *buf, size_t len)
{
    (void)ctx;
    (void)to;
    (void)buf;
    (void)len;
    return 0;
}

static void on_stop(struct timer *t, void *arg)
{
    (void)t;
    loop_stop(arg);
}

static size_t heap_bytes(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

static long rss_kb(void)
{
    char line[256];
    long kb = -1;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kb = strtol(line + 6, NULL, 10);
    fclose(f);
    return kb;
}

static void send_invite_and_ack(struct relayd *d, const struct addr *proxy, unsigned i)
{
    char buf[2048];
    int n = snprintf(buf, sizeof buf,
                     "INVITE sip:relay@127.0.0.1:5080 SIP/2.0\r\n"
                     "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKheap%u;rport\r\n"
                     "Max-Forwards: 70\r\nFrom: <sip:proxy@127.0.0.1:5060>;tag=t%u\r\n"
                     "To: <sip:relay@127.0.0.1:5080>\r\nCall-ID: heap-%u@bench.invalid\r\n"
                     "CSeq: 1 INVITE\r\nContent-Type: application/sdp\r\n"
                     "Content-Length: %zu\r\n\r\n%s",
                     i, i, i, sizeof sdp - 1, sdp);
    relayd_receive(d, proxy, buf, (size_t)n);
    n = snprintf(buf, sizeof buf,
                 "ACK sip:relay@127.0.0.1:5080 SIP/2.0\r\n"
                 "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKheap%u;rport\r\n"
                 "Max-Forwards: 70\r\nFrom: <sip:proxy@127.0.0.1:5060>;tag=t%u\r\n"
                 "To: <sip:relay@127.0.0.1:5080>;tag=x\r\nCall-ID: heap-%u@bench.invalid\r\n"
                 "CSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n",
                 i, i, i);
    relayd_receive(d, proxy, buf, (size_t)n);
}

static int conf_init(struct relayd_conf *c, unsigned port_min, unsigned n)
{
    memset(c, 0, sizeof *c);
    c->proxies.v = calloc(1, sizeof *c->proxies.v);
    if (!c->proxies.v || addr_parse(&c->listen, "127.0.0.1:5080", 0) != 0 ||
        addr_parse(&c->proxies.v[0], PROXY, 0) != 0 ||
        addr_from_host_port(&c->media_address, "127.0.0.1", 0) != 0)
        return -1;
    c->proxies.n = 1;
    c->advertise_media = c->media_address;
    c->port_min = (int)port_min;
    c->port_max = (int)(port_min + 2 * n + 127); /* slack: ports others hold */
    c->session_timeout = 3600;
    c->relatch_after = 5;
    return c->port_max <= 65535 ? 0 : -1;
}

int main(int argc, char **argv)
{
    static const struct option lo[] = {
        {"sessions", 1, 0, 'n'}, {"port-min", 1, 0, 'p'}, {0, 0, 0, 0}};
    const struct txn_timers tm = {.t1_ms = 500, .t2_ms = 4000, .t4_ms = T4_MS};
    unsigned n = 5000, port_min = 20000;
    struct relayd_conf c;
    struct transport tp = {.send = discard};
    struct relayd *d = NULL;
    struct loop *l = NULL;
    struct timer *t = NULL;
    struct relayd_metrics m;
    int opt;

    while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        if (opt == 'n')
            n = (unsigned)atoi(optarg);
        else if (opt == 'p')
            port_min = (unsigned)atoi(optarg);
        else
            return 2;
    }
    log_set_level(LOGL_ERROR);
    if (n == 0 || sip_init() != 0 || loop_new(&l) != 0 || conf_init(&c, port_min, n) != 0)
        return 1;
    tp.local = c.listen;
    if (relayd_new(&d, l, &c, &tp, &tm) != 0 || timer_new(&t, l, on_stop, l) != 0)
        return 1;

    size_t heap0 = heap_bytes();
    long rss0 = rss_kb();
    for (unsigned i = 0; i < n; i++)
        send_invite_and_ack(d, &c.proxies.v[0], i);
    relayd_get_metrics(d, &m);
    size_t made = m.sessions.sessions;
    uint64_t live = m.txn.servers;
    size_t heap1 = heap_bytes();
    long rss1 = rss_kb();
    timer_start(t, 3 * T4_MS); /* timer I ends every transaction */
    loop_run(l);
    relayd_get_metrics(d, &m);
    size_t heap2 = heap_bytes();
    long rss2 = rss_kb();
    printf("sessions=%zu transactions_live=%llu heap_per_session_with_txn_b=%.0f "
           "heap_per_session_b=%.0f transactions_after=%llu rss_per_session_b=%.0f "
           "rss_per_session_after_b=%.0f\n",
           made, (unsigned long long)live, made ? (double)(heap1 - heap0) / (double)made : 0.0,
           made ? (double)(heap2 - heap0) / (double)made : 0.0, (unsigned long long)m.txn.servers,
           made ? (double)(rss1 - rss0) * 1024 / (double)made : 0.0,
           made ? (double)(rss2 - rss0) * 1024 / (double)made : 0.0);
    timer_free(t);
    relayd_free(d);
    addr_list_free(&c.proxies);
    loop_free(l);
    return made == n ? 0 : 3;
}

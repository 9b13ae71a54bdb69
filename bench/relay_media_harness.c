/* relay_media_harness: relayd's media half without its SIP control, for
 * the benchmark (issue #4). It creates N sessions of one stream each
 * through the session API (as setup.c will on INVITE), writes their RTP
 * ports to a file for relay_load, reports the memory they take, and runs
 * the loop until SIGTERM/SIGINT.
 *
 * Usage: relay_media_harness --port-min P --port-max Q --sessions N
 *                            --ports FILE [--addr IPv4|IPv6] [--setup-only]
 * --setup-only frees everything after the memory report (the 20,000
 * session test). */
#include "session_table.h"

#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pinhole/log.h"

struct harness_opts {
    const char *addr, *ports_file;
    unsigned port_min, port_max, sessions;
    int setup_only;
};

static long status_kb(const char *key)
{
    char line[256];
    size_t klen = strlen(key);
    long kb = -1;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, key, klen) == 0)
            kb = strtol(line + klen, NULL, 10);
    fclose(f);
    return kb;
}

static size_t heap_bytes(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

static void on_stop(int signo, void *arg)
{
    (void)signo;
    loop_stop(arg);
}

static int parse_opts(int argc, char **argv, struct harness_opts *o)
{
    static const struct option lo[] = {{"addr", 1, 0, 'a'},
                                       {"port-min", 1, 0, 'p'},
                                       {"port-max", 1, 0, 'q'},
                                       {"sessions", 1, 0, 'n'},
                                       {"ports", 1, 0, 'f'},
                                       {"setup-only", 0, 0, 's'},
                                       {0, 0, 0, 0}};
    int c;
    *o = (struct harness_opts){.addr = "127.0.0.1"};
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case 'a':
            o->addr = optarg;
            break;
        case 'p':
            o->port_min = (unsigned)atoi(optarg);
            break;
        case 'q':
            o->port_max = (unsigned)atoi(optarg);
            break;
        case 'n':
            o->sessions = (unsigned)atoi(optarg);
            break;
        case 'f':
            o->ports_file = optarg;
            break;
        case 's':
            o->setup_only = 1;
            break;
        default:
            return -1;
        }
    }
    if (!o->ports_file || o->port_min == 0 || o->port_max > 65535 || o->port_min >= o->port_max)
        return -1;
    return 0;
}

/* Creates up to n sessions of one stream; returns how many it made and
 * the error that stopped it (0 when all were made). */
static unsigned create_sessions(struct session_table *t, unsigned n, FILE *ports, int *err)
{
    char id[64];
    unsigned made = 0;
    *err = 0;
    for (; made < n; made++) {
        struct session *s;
        uint16_t port;
        snprintf(id, sizeof id, "bench-%u@harness.invalid", made);
        *err = session_create(t, id, &s);
        if (*err)
            break;
        *err = session_add_stream(s, &port);
        if (*err) {
            session_free(s);
            break;
        }
        fprintf(ports, "%u\n", port);
    }
    return made;
}

static void report_totals(struct session_table *t)
{
    struct session_table_stats st;
    session_table_get_stats(t, &st);
    printf("relay received=%llu forwarded=%llu drops_no_peer=%llu drops_unknown=%llu "
           "drops_send=%llu drops_oversize=%llu\n",
           (unsigned long long)st.media.received, (unsigned long long)st.media.forwarded,
           (unsigned long long)st.media.drops_no_peer, (unsigned long long)st.media.drops_unknown,
           (unsigned long long)st.media.drops_send, (unsigned long long)st.media.drops_oversize);
}

int main(int argc, char **argv)
{
    struct harness_opts o;
    struct session_table_config cfg = {.session_timeout_s = 3600, .relatch_after_s = 5};
    struct session_table *t = NULL;
    struct loop *l = NULL;
    FILE *ports;
    int err;

    if (parse_opts(argc, argv, &o) != 0 || addr_from_host_port(&cfg.media_address, o.addr, 0)) {
        fprintf(stderr, "usage: relay_media_harness --port-min P --port-max Q --sessions N "
                        "--ports FILE [--addr IP] [--setup-only]\n");
        return 2;
    }
    log_set_level(LOGL_WARN);
    cfg.port_min = (uint16_t)o.port_min;
    cfg.port_max = (uint16_t)o.port_max;
    if (loop_new(&l) != 0 || session_table_new(&t, l, &cfg) != 0 ||
        loop_on_signal(l, SIGTERM, on_stop, l) != 0 || loop_on_signal(l, SIGINT, on_stop, l) != 0)
        return 1;
    ports = fopen(o.ports_file, "w");
    if (!ports)
        return 1;

    long rss0 = status_kb("VmRSS:");
    size_t heap0 = heap_bytes();
    unsigned made = create_sessions(t, o.sessions, ports, &err);
    long rss1 = status_kb("VmRSS:");
    size_t heap1 = heap_bytes();
    fclose(ports);
    printf("ready sessions=%u requested=%u stop_error=%s rss_before_kb=%ld rss_after_kb=%ld "
           "rss_per_session_b=%.0f heap_per_session_b=%.0f nofile_soft=%ld\n",
           made, o.sessions, err ? strerrorname_np(-err) : "none", rss0, rss1,
           made ? (double)(rss1 - rss0) * 1024 / made : 0.0,
           made ? (double)(heap1 - heap0) / made : 0.0, sysconf(_SC_OPEN_MAX));
    fflush(stdout);
    if (!o.setup_only)
        loop_run(l);
    report_totals(t);
    session_table_free(t);
    loop_free(l);
    return made == o.sessions ? 0 : 3;
}

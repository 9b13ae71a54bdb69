/* call_log: the call line (see call_log.h). */
#include "call_log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pinhole/log.h"

/* relayd's "IP=N, IP=N": N of the caller's IP into *caller, the other
 * into *callee. False when it says nothing usable. */
static bool split_packets(const char *v, const struct addr *caller_ip, uint64_t *caller,
                          uint64_t *callee)
{
    char ip[64];
    unsigned long long n;
    int used = 0;
    bool any = false;
    *caller = *callee = 0;
    for (int i = 0; i < 4 && v && sscanf(v, " %63[^=]=%llu%n", ip, &n, &used) == 2; i++) {
        struct addr a;
        if (addr_from_host_port(&a, ip, 0) == 0 && addr_is_set(caller_ip) &&
            addr_equal(&a, caller_ip))
            *caller += n;
        else
            *callee += n;
        any = true;
        v = strchr(v + used, ',');
        if (v)
            v++;
    }
    return any;
}

void call_log_write(const struct call_record *r, const char *packets)
{
    char relay[ADDR_STRLEN + 8] = "none", counts[2 * NAT_AOR_MAX + 64] = "";
    uint64_t caller, callee;
    if (addr_is_set(&r->relay))
        addr_format(&r->relay, relay, sizeof relay);
    if (packets && split_packets(packets, &r->caller_ip, &caller, &callee))
        snprintf(counts, sizeof counts, ", packets from %s %" PRIu64 ", from %s %" PRIu64,
                 r->from[0] ? r->from : "caller", caller, r->to[0] ? r->to : "callee", callee);
    log_info("call %s: %s -> %s, %d, set-up %" PRIu64 " ms, %" PRIu64 ".%01" PRIu64
             " s, relay %s%s",
             r->call_id, r->from[0] ? r->from : "?", r->to[0] ? r->to : "?", r->status, r->setup_ms,
             r->duration_ms / 1000, r->duration_ms % 1000 / 100, relay, counts);
}

#include "proxyd_conf.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "pinhole/digest.h"
#include "pinhole/store.h"

#define K(field) offsetof(struct proxyd_conf, field)

static const char *const keepalive_kinds[] = {"crlf", "options", NULL};

const struct conf_key proxyd_conf_keys[] = {
    {"listen", CONF_ADDR, K(listen), "127.0.0.1:5060", false, 0, 0, NULL,
     "SIP/UDP address phones and other proxies send to"},
    {"advertise", CONF_ADDR, K(advertise), NULL, false, 0, 0, NULL,
     "address put in Via, Record-Route and Path (default: listen)"},
    {"redirect", CONF_ADDR, K(redirect), NULL, true, 0, 0, NULL, "redirectd's SIP address"},
    {"relays", CONF_ADDR_LIST, K(relays), NULL, true, 0, 0, NULL,
     "relayd control addresses, tried in order when one fails"},
    {"nat.keepalive_interval", CONF_INT, K(nat.keepalive_interval), "20", false, 0, 3600, NULL,
     "seconds between keepalives to each NATed client (0: off)"},
    {"nat.keepalive", CONF_ENUM, K(nat.keepalive), "crlf", false, 0, 0, keepalive_kinds,
     "keepalive kind: a CRLF datagram, or an OPTIONS request"},
    {"nat.max_expires", CONF_INT, K(nat.max_expires), "120", false, 10, 86400, NULL,
     "cap on the registration lifetime of NATed clients (s)"},
    {"nat.private_contact_is_nat", CONF_BOOL, K(nat.private_contact_is_nat), "true", false, 0, 0,
     NULL, "treat a private-range Contact as NATed even when source = Via"},
    {"auth.realm", CONF_STRING, K(auth.realm), NULL, false, 0, 0, NULL,
     "digest realm; with it every out-of-dialog request from outside `peers` is challenged "
     "(unset: no authentication)"},
    {"auth.users", CONF_STRING, K(auth.users), NULL, false, 0, 0, NULL,
     "subscriber file: USER REALM ALGORITHM HA1 per line, re-read on SIGHUP"},
    {"auth.secret", CONF_STRING, K(auth.secret), NULL, false, 0, 0, NULL,
     "HMAC key of the nonces and of the dialog marks of our Record-Routes; proxies sharing it "
     "accept each other's nonces and route each other's dialogs, also across a restart (unset: "
     "random per start)"},
    {"auth.algorithms", CONF_STRING, K(auth.algorithms), "SHA-512-256, SHA-256, MD5", false, 0, 0,
     NULL,
     "digest algorithms each challenge offers, one header each, in this order (RFC 8760: "
     "strongest first; a phone that reads only the first header may need MD5 alone)"},
    {"auth.nonce_lifetime", CONF_INT, K(auth.nonce_lifetime), "300", false, 10, 86400, NULL,
     "seconds a nonce is good for; an older one gets a new challenge with stale=true"},
    {"auth.max_failures", CONF_INT, K(auth.max_failures), "10", false, 1, 1000000, NULL,
     "failed authentications from one source IP within ban_seconds before it is banned"},
    {"auth.ban_seconds", CONF_INT, K(auth.ban_seconds), "600", false, 1, 86400, NULL,
     "how long a banned source IP is dropped unanswered (and the failure-counting window)"},
    {"timer_c", CONF_INT, K(timer_c), "180", false, 1, 3600, NULL,
     "seconds a call may ring without an answer before proxyd CANCELs it and answers 408 "
     "(RFC 3261 Timer C; the RFC wants more than 180); applies at restart"},
    {"peers", CONF_ADDR_LIST, K(peers), NULL, false, 0, 0, NULL,
     "other proxies, gateways, trunks (\"IP\" or \"IP:port\"): trusted without auth, exempt "
     "from source limits"},
    {"limits.source_rate", CONF_INT, K(limits.source_rate), "2000", false, 1, 10000000, NULL,
     "datagrams per second one source IP (IPv6: one /64) may send; beyond the burst the excess "
     "is dropped before parsing; peers and our own servers are exempt"},
    {"limits.source_burst", CONF_INT, K(limits.source_burst), "4000", false, 1, 10000000, NULL,
     "datagrams one source IP may send at once above its rate"},
    {"limits.max_transactions", CONF_INT, K(limits.max_transactions), "200000", false, 100,
     100000000, NULL,
     "server transactions held at once; beyond, new requests get 503 with Retry-After"},
    {"state", CONF_STRING, K(state), "memory", false, 0, 0, NULL,
     "where the NAT client table survives a restart: \"sqlite:PATH\" or \"memory\""},
    {"stats", CONF_ADDR, K(stats), NULL, false, 0, 0, NULL,
     "HTTP address for Prometheus metrics and pinholectl (unset: off)"},
    {"log_level", CONF_LOG_LEVEL, K(log_level), "info", false, 0, 0, NULL,
     "error, warn, notice, info or debug"},
};
const size_t proxyd_conf_nkeys = sizeof proxyd_conf_keys / sizeof proxyd_conf_keys[0];

/* auth.algorithms: one to three distinct names, separated by commas or
 * spaces. */
static int check_algorithms(const char *list, char *err, size_t errlen)
{
    char buf[128], *save = NULL;
    unsigned seen = 0;
    if (!list || strlen(list) >= sizeof buf)
        goto bad;
    snprintf(buf, sizeof buf, "%s", list);
    for (char *p = strtok_r(buf, ", ", &save); p; p = strtok_r(NULL, ", ", &save)) {
        enum digest_alg a;
        if (digest_alg_from_name(p, &a) != 0 || (seen & (1u << a)))
            goto bad;
        seen |= 1u << a;
    }
    if (seen)
        return 0;
bad:
    snprintf(err, errlen, "auth.algorithms: a list of distinct SHA-512-256, SHA-256, MD5");
    return -EINVAL;
}

int proxyd_conf_finish(void *cfg, char *err, size_t errlen)
{
    struct proxyd_conf *c = cfg;
    if (!addr_is_set(&c->advertise))
        c->advertise = c->listen;
    if (c->auth.realm &&
        (!*c->auth.realm || strlen(c->auth.realm) > 128 || strpbrk(c->auth.realm, "\"\\\r\n"))) {
        snprintf(err, errlen, "auth.realm: 1 to 128 characters, no quote or backslash");
        return -EINVAL;
    }
    if (check_algorithms(c->auth.algorithms, err, errlen) != 0)
        return -EINVAL;
    if (c->auth.realm && !c->auth.users) {
        snprintf(err, errlen, "auth.users: the subscriber file is needed with auth.realm");
        return -EINVAL;
    }
    if (c->auth.secret && strlen(c->auth.secret) < 16) {
        snprintf(err, errlen, "auth.secret: at least 16 characters");
        return -EINVAL;
    }
    if (c->relays.n == 0) {
        snprintf(err, errlen, "relays: at least one relayd address is needed");
        return -EINVAL;
    }
    if (store_spec_valid(c->state) != 0) {
        snprintf(err, errlen, "state \"%s\": not \"memory\" nor \"sqlite:PATH\"",
                 c->state ? c->state : "");
        return -EINVAL;
    }
    return 0;
}

/* proxyd's configuration: the struct and its key table (design.md). */
#ifndef PROXYD_CONF_H
#define PROXYD_CONF_H

#include "pinhole/conf.h"

enum keepalive_kind { KEEPALIVE_CRLF = 0, KEEPALIVE_OPTIONS = 1 };

struct proxyd_conf {
    struct addr listen;
    struct addr advertise;   /* in Via / Record-Route / Path (default listen) */
    struct addr redirect;    /* redirectd */
    struct addr_list relays; /* relayd control addresses, tried in order */
    struct {
        int keepalive_interval; /* s; 0 = off */
        int keepalive;          /* enum keepalive_kind */
        int max_expires;        /* cap on Expires for NATed clients */
        bool private_contact_is_nat;
    } nat;
    struct {
        char *realm;      /* NULL: no auth section, nobody is challenged */
        char *users;      /* the subscriber file (users.h) */
        char *secret;     /* HMAC key of the nonces; NULL: random per start */
        char *algorithms; /* offered, in order: "SHA-512-256, SHA-256, MD5" */
        int nonce_lifetime;
        int max_failures;
        int ban_seconds;
    } auth;
    struct addr_list peers; /* other proxies, gateways: trusted without auth */
    struct {
        int source_rate;      /* datagrams/s per source IP (IPv6: per /64); 0: FLOOD_RATE */
        int source_burst;     /* bucket depth; 0: FLOOD_BURST */
        int max_transactions; /* server transactions held; 0: no cap */
    } limits;
    int timer_c; /* s an INVITE branch may ring before it is CANCELled (408 upstream) */
    char *state; /* "memory", "sqlite:PATH": the NAT client table (nat_store.h) */
    struct addr stats;
    enum log_level log_level;
};

extern const struct conf_key proxyd_conf_keys[];
extern const size_t proxyd_conf_nkeys;
int proxyd_conf_finish(void *cfg, char *err, size_t errlen);

#endif

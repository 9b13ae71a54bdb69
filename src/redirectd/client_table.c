/* client_table: bindings in a pinhole table (hash + timing wheel), one
 * compact record per client.
 *
 * Memory: a struct addr is a sockaddr_storage (132 bytes); two per binding
 * would blow the per-binding budget, so addresses are packed into 24 bytes
 * and the record carries its strings inline (one malloc per binding besides
 * the table's node). */
#include "client_table.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pinhole/log.h"
#include "pinhole/table.h"

/* Bindings are registrations: a 1 s expiry resolution is plenty. */
#define CLIENT_TICK_MS 1000

struct packed_addr {
    uint8_t ip[16];
    uint32_t scope; /* IPv6 scope id */
    uint16_t port;  /* network order, as in the sockaddr */
    uint8_t family; /* 4, 6, or 0 = unset */
};

struct client_binding {
    uint64_t expires_at;
    struct packed_addr serving;
    struct packed_addr source;
    uint32_t cseq;
    uint16_t call_id_off; /* where the Call-ID starts in strings[] */
    char strings[];       /* contact NUL call-id NUL */
};

struct client_table {
    struct table *t;
    uint64_t expired;
    size_t string_bytes; /* keys, contacts and Call-IDs with their NULs */
    size_t key_bytes;    /* the keys' share (inside the table's nodes) */
};

/* ---- packed addresses ---- */

static void addr_pack(struct packed_addr *p, const struct addr *a)
{
    memset(p, 0, sizeof *p);
    if (addr_family(a) == AF_INET) {
        p->family = 4;
        memcpy(p->ip, &a->u.in.sin_addr, 4);
        p->port = a->u.in.sin_port;
    } else if (addr_family(a) == AF_INET6) {
        p->family = 6;
        memcpy(p->ip, &a->u.in6.sin6_addr, 16);
        p->port = a->u.in6.sin6_port;
        p->scope = a->u.in6.sin6_scope_id;
    }
}

static void addr_unpack(struct addr *a, const struct packed_addr *p)
{
    memset(a, 0, sizeof *a);
    if (p->family == 4) {
        struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = p->port};
        memcpy(&in.sin_addr, p->ip, 4);
        addr_from_sockaddr(a, (const struct sockaddr *)&in, sizeof in);
    } else if (p->family == 6) {
        struct sockaddr_in6 in6 = {
            .sin6_family = AF_INET6, .sin6_port = p->port, .sin6_scope_id = p->scope};
        memcpy(&in6.sin6_addr, p->ip, 16);
        addr_from_sockaddr(a, (const struct sockaddr *)&in6, sizeof in6);
    }
}

/* ---- bindings ---- */

static size_t binding_strings(const struct client_binding *b)
{
    const char *call_id = b->strings + b->call_id_off;
    return (size_t)b->call_id_off + strlen(call_id) + 1;
}

static struct client_binding *binding_new(const struct client_reg *r, uint64_t expires_at)
{
    size_t clen = strlen(r->contact), ilen = strlen(r->call_id);
    struct client_binding *b = malloc(sizeof *b + clen + 1 + ilen + 1);
    if (!b)
        return NULL;
    b->expires_at = expires_at;
    addr_pack(&b->serving, r->serving);
    addr_pack(&b->source, r->source);
    b->cseq = r->cseq;
    b->call_id_off = (uint16_t)(clen + 1);
    memcpy(b->strings, r->contact, clen + 1);
    memcpy(b->strings + clen + 1, r->call_id, ilen + 1);
    return b;
}

static void account_add(struct client_table *ct, const char *key, const struct client_binding *b)
{
    size_t k = strlen(key) + 1;
    ct->key_bytes += k;
    ct->string_bytes += k + binding_strings(b);
}

static void account_remove(struct client_table *ct, const char *key, const struct client_binding *b)
{
    size_t k = strlen(key) + 1;
    ct->key_bytes -= k;
    ct->string_bytes -= k + binding_strings(b);
}

static void on_binding_expired(const char *key, void *value, void *arg)
{
    struct client_table *ct = arg;
    account_remove(ct, key, value);
    ct->expired++;
    log_debug("binding for %s expired", key);
    free(value);
}

/* ---- table ---- */

int client_table_new(struct client_table **out, size_t size_hint)
{
    struct client_table *ct = calloc(1, sizeof *ct);
    if (!ct)
        return -ENOMEM;
    int err = table_new(&ct->t, size_hint, CLIENT_TICK_MS, on_binding_expired, free, ct);
    if (err) {
        free(ct);
        return err;
    }
    *out = ct;
    return 0;
}

void client_table_free(struct client_table *ct)
{
    if (!ct)
        return;
    table_free(ct->t);
    free(ct);
}

int client_table_attach(struct client_table *ct, struct loop *l)
{
    return table_attach(ct->t, l);
}

void client_table_expire(struct client_table *ct, uint64_t now_ms)
{
    table_expire(ct->t, now_ms);
}

static bool text_ok(const char *s, size_t max)
{
    if (!s || !*s)
        return false;
    return strnlen(s, max + 1) <= max;
}

static bool reg_valid(const struct client_reg *r)
{
    return text_ok(r->id, CLIENT_ID_MAX) && text_ok(r->contact, CLIENT_CONTACT_MAX) &&
           text_ok(r->call_id, CLIENT_CALL_ID_MAX) && r->serving && addr_is_set(r->serving) &&
           r->source && addr_is_set(r->source);
}

/* RFC 3261 10.3 step 7: the same Call-ID with a CSeq not above the stored
 * one is a late or reordered REGISTER; applying it would undo a newer one. */
static bool out_of_order(const struct client_binding *b, const struct client_reg *r)
{
    return strcmp(b->strings + b->call_id_off, r->call_id) == 0 && r->cseq <= b->cseq;
}

static void unregister(struct client_table *ct, const char *id, enum client_reg_outcome *outcome)
{
    struct client_binding *b = table_remove(ct->t, id);
    if (!b) {
        *outcome = CLIENT_REG_ABSENT;
        return;
    }
    account_remove(ct, id, b);
    free(b);
    *outcome = CLIENT_REG_REMOVED;
}

int client_table_register(struct client_table *ct, const struct client_reg *r, uint64_t now_ms,
                          enum client_reg_outcome *outcome)
{
    if (!ct || !r || !outcome || !reg_valid(r))
        return -EINVAL;
    struct client_binding *cur = table_get(ct->t, r->id);
    if (cur && cur->expires_at > now_ms && out_of_order(cur, r))
        return -ESTALE;
    if (r->expires_s == 0) {
        /* RFC 3261 10.3 step 6: Expires 0 removes the binding of *that*
         * Contact; a stale unregister (a proxy giving up on a client that
         * has since registered elsewhere) must not remove the new one.
         * "*" removes whatever is bound. */
        if (cur && strcmp(r->contact, "*") != 0 &&
            strcmp(client_binding_contact(cur), r->contact) != 0) {
            *outcome = CLIENT_REG_ABSENT;
            return 0;
        }
        unregister(ct, r->id, outcome);
        return 0;
    }
    struct client_binding *b = binding_new(r, now_ms + (uint64_t)r->expires_s * 1000);
    if (!b)
        return -ENOMEM;
    void *old = NULL;
    int err = table_put(ct->t, r->id, b, b->expires_at, &old);
    if (err) {
        free(b);
        return err;
    }
    if (old) {
        account_remove(ct, r->id, old);
        free(old);
    }
    account_add(ct, r->id, b);
    *outcome = old ? CLIENT_REG_REFRESHED : CLIENT_REG_CREATED;
    return 0;
}

struct visit {
    client_table_visit_cb cb;
    void *arg;
};

static void visit_one(const char *key, void *value, uint64_t expires_at_ms, void *arg)
{
    const struct visit *v = arg;
    (void)expires_at_ms;
    v->cb(key, value, v->arg);
}

void client_table_foreach(const struct client_table *ct, client_table_visit_cb cb, void *arg)
{
    struct visit v = {.cb = cb, .arg = arg};
    table_foreach(ct->t, visit_one, &v);
}

const struct client_binding *client_table_find(const struct client_table *ct, const char *id)
{
    if (!ct || !id)
        return NULL;
    return table_get(ct->t, id);
}

const struct client_binding *client_table_lookup(const struct client_table *ct, const char *id,
                                                 uint64_t now_ms)
{
    const struct client_binding *b = client_table_find(ct, id);
    return b && b->expires_at > now_ms ? b : NULL;
}

int client_table_redirect(const struct client_table *ct, const char *id, const struct addr *asker,
                          uint64_t now_ms, char *buf, size_t len)
{
    const struct client_binding *b = client_table_lookup(ct, id, now_ms);
    int n;
    if (!b)
        return -ENOENT;
    if (client_binding_served_by(b, asker)) {
        /* fig. 2a/2c: the serving proxy forwards to the NAT address itself */
        n = snprintf(buf, len, "%s", b->strings);
    } else {
        /* fig. 2b: any other proxy forwards to the serving proxy */
        struct addr proxy;
        char host[ADDR_STRLEN];
        addr_unpack(&proxy, &b->serving);
        n = snprintf(buf, len, "sip:%s@%s:%u", id, addr_host_sip(&proxy, host, sizeof host),
                     addr_port(&proxy));
    }
    return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

size_t client_table_count(const struct client_table *ct)
{
    return ct ? table_count(ct->t) : 0;
}

uint64_t client_table_expired(const struct client_table *ct)
{
    return ct ? ct->expired : 0;
}

void client_table_memory(const struct client_table *ct, struct client_table_memory *out)
{
    out->overhead = sizeof *ct + table_memory(ct->t) - ct->key_bytes +
                    table_count(ct->t) * sizeof(struct client_binding);
    out->strings = ct->string_bytes;
}

/* ---- binding fields ---- */

const char *client_binding_contact(const struct client_binding *b)
{
    return b->strings;
}

const char *client_binding_call_id(const struct client_binding *b)
{
    return b->strings + b->call_id_off;
}

uint32_t client_binding_cseq(const struct client_binding *b)
{
    return b->cseq;
}

uint64_t client_binding_expires_at(const struct client_binding *b)
{
    return b->expires_at;
}

uint32_t client_binding_remaining_s(const struct client_binding *b, uint64_t now_ms)
{
    if (b->expires_at <= now_ms)
        return 0;
    return (uint32_t)((b->expires_at - now_ms + 999) / 1000);
}

void client_binding_serving(const struct client_binding *b, struct addr *out)
{
    addr_unpack(out, &b->serving);
}

void client_binding_source(const struct client_binding *b, struct addr *out)
{
    addr_unpack(out, &b->source);
}

bool client_binding_served_by(const struct client_binding *b, const struct addr *asker)
{
    struct addr a;
    if (!asker || !addr_is_set(asker))
        return false;
    addr_unpack(&a, &b->serving);
    if (addr_equal(&a, asker))
        return true;
    addr_unpack(&a, &b->source);
    return addr_equal(&a, asker);
}

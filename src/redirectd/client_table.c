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
    struct client_binding *next; /* the same ID's next binding */
    struct packed_addr serving;
    struct packed_addr source;
    uint32_t cseq;
    uint32_t created;     /* table-wide sequence: equal q sorts newest first */
    uint32_t applied;     /* the REGISTER (client_table_apply call) that wrote it */
    int16_t q;            /* thousandths; -1: none */
    uint16_t call_id_off; /* where the Call-ID starts in strings[] */
    char strings[];       /* contact NUL call-id NUL */
};

/* The table's value for an ID is its first binding; the entry's expiry is
 * the soonest of its bindings', so the wheel wakes us for each one. */
struct client_table {
    struct table *t;
    struct loop *loop;  /* NULL until attached */
    uint64_t sweep_now; /* the time client_table_expire was called with */
    uint64_t expired;
    size_t nbindings;
    size_t string_bytes; /* keys, contacts and Call-IDs with their NULs */
    size_t key_bytes;    /* the keys' share (inside the table's nodes) */
    unsigned max_contacts;
    uint32_t created;
    uint32_t applying; /* the client_table_apply call under way */
    const struct client_journal *journal;
    struct log_ratelimit evict_rl;
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

static struct client_binding *binding_new(struct client_table *ct, const struct client_reg *r,
                                          uint64_t expires_at)
{
    size_t clen = strlen(r->contact), ilen = strlen(r->call_id);
    struct client_binding *b = malloc(sizeof *b + clen + 1 + ilen + 1);
    if (!b)
        return NULL;
    b->expires_at = expires_at;
    b->next = NULL;
    addr_pack(&b->serving, r->serving);
    addr_pack(&b->source, r->source);
    b->cseq = r->cseq;
    b->created = ++ct->created;
    b->applied = ct->applying;
    b->q = (int16_t)r->q;
    b->call_id_off = (uint16_t)(clen + 1);
    memcpy(b->strings, r->contact, clen + 1);
    memcpy(b->strings + clen + 1, r->call_id, ilen + 1);
    ct->nbindings++;
    ct->string_bytes += binding_strings(b);
    return b;
}

static void binding_free(struct client_table *ct, struct client_binding *b)
{
    ct->nbindings--;
    ct->string_bytes -= binding_strings(b);
    free(b);
}

static void tell_put(const struct client_table *ct, const char *id, const struct client_binding *b)
{
    if (ct->journal)
        ct->journal->put(ct->journal->arg, id, b);
}

static void tell_gone(const struct client_table *ct, const char *id, const struct client_binding *b)
{
    if (ct->journal)
        ct->journal->gone(ct->journal->arg, id, b->strings);
}

static void chain_free(struct client_table *ct, struct client_binding *b)
{
    while (b) {
        struct client_binding *next = b->next;
        binding_free(ct, b);
        b = next;
    }
}

static uint64_t chain_soonest(const struct client_binding *b)
{
    uint64_t soonest = UINT64_MAX;
    for (; b; b = b->next)
        if (b->expires_at < soonest)
            soonest = b->expires_at;
    return soonest;
}

static size_t chain_length(const struct client_binding *b)
{
    size_t n = 0;
    for (; b; b = b->next)
        n++;
    return n;
}

/* Unlinks and frees every binding due at now_ms; returns how many. */
static uint64_t chain_prune(struct client_table *ct, struct client_binding **head, uint64_t now_ms)
{
    uint64_t n = 0;
    for (struct client_binding **pp = head; *pp;) {
        struct client_binding *b = *pp;
        if (b->expires_at > now_ms) {
            pp = &b->next;
            continue;
        }
        *pp = b->next;
        binding_free(ct, b);
        n++;
    }
    return n;
}

/* Puts the ID's chain back in the table (an empty one removes the ID),
 * with the entry due at its soonest binding. The old value is the chain's
 * previous head, which the caller has kept or freed already. */
static int chain_store(struct client_table *ct, const char *id, struct client_binding *head,
                       bool present)
{
    size_t k = strlen(id) + 1;
    void *old = NULL;
    if (!head) {
        if (present) {
            (void)table_remove(ct->t, id);
            ct->key_bytes -= k;
            ct->string_bytes -= k;
        }
        return 0;
    }
    int err = table_put(ct->t, id, head, chain_soonest(head), &old);
    if (err)
        return err;
    if (!present) {
        ct->key_bytes += k;
        ct->string_bytes += k;
    }
    return 0;
}

static uint64_t sweep_time(const struct client_table *ct)
{
    uint64_t now = ct->loop ? loop_now_ms(ct->loop) : 0;
    return now > ct->sweep_now ? now : ct->sweep_now;
}

/* The table let go of the ID's entry: its soonest binding is due. The rest
 * go back in, due at the next soonest. */
static void on_chain_due(const char *key, void *value, void *arg)
{
    struct client_table *ct = arg;
    struct client_binding *head = value;
    uint64_t n = chain_prune(ct, &head, sweep_time(ct));
    ct->expired += n;
    if (n)
        log_debug("%llu binding(s) for %s expired", (unsigned long long)n, key);
    size_t k = strlen(key) + 1;
    ct->key_bytes -= k; /* the entry is gone; chain_store puts it back */
    ct->string_bytes -= k;
    if (head && chain_store(ct, key, head, false) != 0) {
        log_error("bindings for %s dropped: out of memory", key);
        chain_free(ct, head);
    }
}

static void on_chain_free(void *value)
{
    struct client_binding *b = value;
    while (b) {
        struct client_binding *next = b->next;
        free(b);
        b = next;
    }
}

/* ---- table ---- */

int client_table_new(struct client_table **out, size_t size_hint, unsigned max_contacts)
{
    if (max_contacts < 1 || max_contacts > CLIENT_CONTACTS_MAX)
        return -EINVAL;
    struct client_table *ct = calloc(1, sizeof *ct);
    if (!ct)
        return -ENOMEM;
    ct->max_contacts = max_contacts;
    ct->evict_rl = (struct log_ratelimit){.interval_s = 10, .burst = 10};
    int err = table_new(&ct->t, size_hint, CLIENT_TICK_MS, on_chain_due, on_chain_free, ct);
    if (err) {
        free(ct);
        return err;
    }
    *out = ct;
    return 0;
}

void client_table_set_max_contacts(struct client_table *ct, unsigned max_contacts)
{
    if (max_contacts >= 1 && max_contacts <= CLIENT_CONTACTS_MAX)
        ct->max_contacts = max_contacts;
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
    ct->loop = l;
    return table_attach(ct->t, l);
}

void client_table_expire(struct client_table *ct, uint64_t now_ms)
{
    ct->sweep_now = now_ms;
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
           r->source && addr_is_set(r->source) && r->q >= -1 && r->q <= 1000;
}

static bool is_star(const struct client_reg *r)
{
    return strcmp(r->contact, "*") == 0;
}

static bool same_call_id(const struct client_binding *b, const struct client_reg *r)
{
    return strcmp(b->strings + b->call_id_off, r->call_id) == 0;
}

/* The binding r updates (see the header): its Contact's, else, for the
 * REGISTER's one Contact, its Call-ID's. */
static struct client_binding **match(struct client_binding **head, const struct client_reg *r,
                                     bool sole)
{
    for (struct client_binding **pp = head; *pp; pp = &(*pp)->next)
        if (strcmp((*pp)->strings, r->contact) == 0)
            return pp;
    if (!sole || r->expires_s == 0)
        return NULL; /* an unregister names what it removes */
    for (struct client_binding **pp = head; *pp; pp = &(*pp)->next)
        if (same_call_id(*pp, r))
            return pp;
    return NULL;
}

/* RFC 3261 10.3 step 7: the same Call-ID with a CSeq not above the stored
 * one is a late or reordered REGISTER; applying it would undo a newer one. */
static bool out_of_order(struct client_binding **head, const struct client_reg *r, bool sole)
{
    if (is_star(r)) {
        for (const struct client_binding *b = *head; b; b = b->next)
            if (same_call_id(b, r) && r->cseq <= b->cseq)
                return true;
        return false;
    }
    struct client_binding **m = match(head, r, sole);
    return m && same_call_id(*m, r) && r->cseq <= (*m)->cseq;
}

/* Whether a is the better one to evict: one this REGISTER did not just
 * write, then the closest to expiry, then the oldest. */
static bool evict_before(const struct client_table *ct, const struct client_binding *a,
                         const struct client_binding *b)
{
    bool a_ours = a->applied == ct->applying, b_ours = b->applied == ct->applying;
    if (a_ours != b_ours)
        return b_ours;
    if (a->expires_at != b->expires_at)
        return a->expires_at < b->expires_at;
    return a->created < b->created;
}

/* Room for one more (see the header). */
static void evict_soonest(struct client_table *ct, struct client_binding **head, const char *id)
{
    struct client_binding **victim = head;
    for (struct client_binding **pp = head; *pp; pp = &(*pp)->next)
        if (evict_before(ct, *pp, *victim))
            victim = pp;
    struct client_binding *b = *victim;
    if (log_ratelimit_allow(&ct->evict_rl))
        log_info("REGISTER %s: max_contacts (%u) reached; %s evicted", id, ct->max_contacts,
                 b->strings);
    *victim = b->next;
    tell_gone(ct, id, b);
    binding_free(ct, b);
}

static int apply_one(struct client_table *ct, struct client_binding **head,
                     const struct client_reg *r, bool sole, uint64_t now_ms,
                     enum client_reg_outcome *outcome)
{
    if (is_star(r)) {
        *outcome = *head ? CLIENT_REG_REMOVED : CLIENT_REG_ABSENT;
        for (const struct client_binding *b = *head; b; b = b->next)
            tell_gone(ct, r->id, b);
        chain_free(ct, *head);
        *head = NULL;
        return 0;
    }
    struct client_binding **m = match(head, r, sole);
    if (r->expires_s == 0) {
        /* RFC 3261 10.3 step 6: Expires 0 removes the binding of *that*
         * Contact; a stale unregister (a proxy giving up on a client that
         * has since registered elsewhere) must not remove another one. */
        *outcome = m ? CLIENT_REG_REMOVED : CLIENT_REG_ABSENT;
        if (m) {
            struct client_binding *gone = *m;
            *m = gone->next;
            tell_gone(ct, r->id, gone);
            binding_free(ct, gone);
        }
        return 0;
    }
    struct client_binding *b = binding_new(ct, r, now_ms + (uint64_t)r->expires_s * 1000);
    if (!b)
        return -ENOMEM;
    if (m) {
        struct client_binding *old = *m;
        b->next = old->next;
        b->created = old->created; /* a refresh keeps its place among equal q */
        *m = b;
        if (strcmp(old->strings, b->strings) != 0)
            tell_gone(ct, r->id, old); /* the phone moved: its old Contact goes */
        binding_free(ct, old);
        tell_put(ct, r->id, b);
        *outcome = CLIENT_REG_REFRESHED;
        return 0;
    }
    if (chain_length(*head) >= ct->max_contacts)
        evict_soonest(ct, head, r->id);
    b->next = *head;
    *head = b;
    tell_put(ct, r->id, b);
    *outcome = CLIENT_REG_CREATED;
    return 0;
}

static bool regs_valid(const struct client_reg *regs, size_t n)
{
    if (n == 0 || n > CLIENT_CONTACTS_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!reg_valid(&regs[i]) || strcmp(regs[i].id, regs[0].id) != 0)
            return false;
    return true;
}

int client_table_apply(struct client_table *ct, const struct client_reg *regs, size_t n,
                       uint64_t now_ms, enum client_reg_outcome *outcomes)
{
    if (!ct || !regs || !regs_valid(regs, n))
        return -EINVAL;
    const char *id = regs[0].id;
    struct client_binding *head = table_get(ct->t, id);
    bool present = head != NULL;
    int err = 0;

    ct->applying++;
    /* due but not swept yet: gone for every rule below */
    ct->expired += chain_prune(ct, &head, now_ms);
    for (size_t i = 0; i < n; i++)
        if (out_of_order(&head, &regs[i], n == 1))
            err = -ESTALE;
    for (size_t i = 0; i < n && !err; i++) {
        enum client_reg_outcome o;
        err = apply_one(ct, &head, &regs[i], n == 1, now_ms, &o);
        if (!err && outcomes)
            outcomes[i] = o;
    }
    int serr = chain_store(ct, id, head, present);
    if (serr) {
        /* the table could not take the new head: nothing stays half-linked */
        (void)table_remove(ct->t, id);
        if (present) {
            ct->key_bytes -= strlen(id) + 1;
            ct->string_bytes -= strlen(id) + 1;
        }
        chain_free(ct, head);
        return serr;
    }
    return err;
}

void client_table_set_journal(struct client_table *ct, const struct client_journal *j)
{
    ct->journal = j;
}

int client_table_restore(struct client_table *ct, const struct client_reg *r,
                         uint64_t expires_at_ms)
{
    if (!ct || !r || !reg_valid(r) || is_star(r))
        return -EINVAL;
    struct client_binding *head = table_get(ct->t, r->id);
    bool present = head != NULL;
    for (const struct client_binding *b = head; b; b = b->next)
        if (strcmp(b->strings, r->contact) == 0)
            return -EEXIST;
    if (chain_length(head) >= ct->max_contacts)
        return -ENOSPC;
    struct client_binding *b = binding_new(ct, r, expires_at_ms);
    if (!b)
        return -ENOMEM;
    b->next = head;
    int err = chain_store(ct, r->id, b, present);
    if (err) {
        binding_free(ct, b);
        return err;
    }
    return 0;
}

int client_table_register(struct client_table *ct, const struct client_reg *r, uint64_t now_ms,
                          enum client_reg_outcome *outcome)
{
    if (!outcome)
        return -EINVAL;
    return client_table_apply(ct, r, 1, now_ms, outcome);
}

struct visit {
    client_table_visit_cb cb;
    void *arg;
};

static void visit_one(const char *key, void *value, uint64_t expires_at_ms, void *arg)
{
    const struct visit *v = arg;
    (void)expires_at_ms;
    for (const struct client_binding *b = value; b; b = b->next)
        v->cb(key, b, v->arg);
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
    while (b && b->expires_at <= now_ms)
        b = b->next;
    return b;
}

static int q_rank(const struct client_binding *b)
{
    return b->q < 0 ? 1000 : b->q;
}

static bool sorts_before(const struct client_binding *a, const struct client_binding *b)
{
    if (q_rank(a) != q_rank(b))
        return q_rank(a) > q_rank(b);
    return a->created > b->created;
}

size_t client_table_bindings(const struct client_table *ct, const char *id, uint64_t now_ms,
                             const struct client_binding **out, size_t max)
{
    size_t n = 0;
    for (const struct client_binding *b = client_table_lookup(ct, id, now_ms); b; b = b->next) {
        if (b->expires_at <= now_ms)
            continue;
        /* insertion sort keeping the best max (a chain is max_contacts long) */
        size_t i = n < max ? n++ : max;
        for (; i > 0 && sorts_before(b, out[i - 1]); i--)
            if (i < max)
                out[i] = out[i - 1];
        if (i < max)
            out[i] = b;
    }
    return n;
}

static void proxy_target(const struct client_binding *b, const char *id, struct client_target *t)
{
    struct addr proxy;
    char host[ADDR_STRLEN];
    addr_unpack(&proxy, &b->serving);
    snprintf(t->uri, sizeof t->uri, "sip:%s@%s:%u", id, addr_host_sip(&proxy, host, sizeof host),
             addr_port(&proxy));
}

static bool listed(const struct client_target *out, size_t n, const char *uri)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(out[i].uri, uri) == 0)
            return true;
    return false;
}

int client_table_redirect(const struct client_table *ct, const char *id, const struct addr *asker,
                          uint64_t now_ms, struct client_target *out, size_t max)
{
    const struct client_binding *bs[CLIENT_CONTACTS_MAX];
    size_t nb = client_table_bindings(ct, id, now_ms, bs, CLIENT_CONTACTS_MAX);
    size_t n = 0;
    for (size_t i = 0; i < nb && n < max; i++) {
        struct client_target *t = &out[n];
        if (client_binding_served_by(bs[i], asker))
            snprintf(t->uri, sizeof t->uri, "%s", bs[i]->strings); /* fig. 2a/2c */
        else
            proxy_target(bs[i], id, t); /* fig. 2b: that proxy forwards */
        t->q = bs[i]->q;
        if (!listed(out, n, t->uri))
            n++;
    }
    return n ? (int)n : -ENOENT;
}

size_t client_table_count(const struct client_table *ct)
{
    return ct ? ct->nbindings : 0;
}

uint64_t client_table_expired(const struct client_table *ct)
{
    return ct ? ct->expired : 0;
}

void client_table_memory(const struct client_table *ct, struct client_table_memory *out)
{
    out->overhead = sizeof *ct + table_memory(ct->t) - ct->key_bytes +
                    ct->nbindings * sizeof(struct client_binding);
    out->strings = ct->string_bytes;
}

/* ---- binding fields ---- */

const struct client_binding *client_binding_next(const struct client_binding *b)
{
    return b->next;
}

int client_binding_q(const struct client_binding *b)
{
    return b->q;
}

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

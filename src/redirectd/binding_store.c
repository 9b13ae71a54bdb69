/* binding_store: rows of the client table (see binding_store.h). */
#include "binding_store.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pinhole/log.h"

#define ROW_VERSION 1
#define KEY_SEP '\x1f' /* not a URI character, not in an ID */
#define ADDR_BYTES 23  /* family, port, 16 address bytes, scope */
#define VALUE_FIXED (1 + 2 * ADDR_BYTES + 4 + 2)

static void put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put_u32(uint8_t *p, uint32_t v)
{
    put_u16(p, (uint16_t)(v >> 16));
    put_u16(p + 2, (uint16_t)v);
}

static uint16_t get_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)get_u16(p) << 16 | get_u16(p + 2);
}

static void addr_encode(uint8_t *p, const struct addr *a)
{
    memset(p, 0, ADDR_BYTES);
    if (addr_family(a) == AF_INET) {
        p[0] = 4;
        memcpy(p + 3, &a->u.in.sin_addr, 4);
    } else if (addr_family(a) == AF_INET6) {
        p[0] = 6;
        memcpy(p + 3, &a->u.in6.sin6_addr, 16);
        put_u32(p + 19, a->u.in6.sin6_scope_id);
    }
    put_u16(p + 1, addr_port(a));
}

static int addr_decode(struct addr *a, const uint8_t *p)
{
    memset(a, 0, sizeof *a);
    if (p[0] == 4) {
        struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(get_u16(p + 1))};
        memcpy(&in.sin_addr, p + 3, 4);
        addr_from_sockaddr(a, (const struct sockaddr *)&in, sizeof in);
    } else if (p[0] == 6) {
        struct sockaddr_in6 in6 = {.sin6_family = AF_INET6,
                                   .sin6_port = htons(get_u16(p + 1)),
                                   .sin6_scope_id = get_u32(p + 19)};
        memcpy(&in6.sin6_addr, p + 3, 16);
        addr_from_sockaddr(a, (const struct sockaddr *)&in6, sizeof in6);
    } else {
        return -EINVAL;
    }
    return 0;
}

static int row_key(char *buf, size_t len, const char *id, const char *contact)
{
    int n = snprintf(buf, len, "%s%c%s", id, KEY_SEP, contact);
    return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

/* ---- the journal ---- */

static void on_put(void *arg, const char *id, const struct client_binding *b)
{
    struct binding_store *bs = arg;
    char key[STORE_KEY_MAX + 1];
    uint8_t value[VALUE_FIXED + CLIENT_CALL_ID_MAX];
    struct addr a;
    const char *call_id = client_binding_call_id(b);
    size_t clen = strlen(call_id);

    value[0] = ROW_VERSION;
    client_binding_serving(b, &a);
    addr_encode(value + 1, &a);
    client_binding_source(b, &a);
    addr_encode(value + 1 + ADDR_BYTES, &a);
    put_u32(value + 1 + 2 * ADDR_BYTES, client_binding_cseq(b));
    put_u16(value + 1 + 2 * ADDR_BYTES + 4, (uint16_t)(int16_t)client_binding_q(b));
    memcpy(value + VALUE_FIXED, call_id, clen);

    uint64_t now = loop_now_ms(bs->loop), at = client_binding_expires_at(b);
    uint64_t expires = store_now_unix_ms() + (at > now ? at - now : 0);
    int err = row_key(key, sizeof key, id, client_binding_contact(b));
    if (!err)
        err = store_put(bs->store, key, value, VALUE_FIXED + clen, expires);
    if (err) {
        bs->failed = true;
        bs->write_errors++;
    }
}

static void on_gone(void *arg, const char *id, const char *contact)
{
    struct binding_store *bs = arg;
    char key[STORE_KEY_MAX + 1];
    int err = row_key(key, sizeof key, id, contact);
    if (!err)
        err = store_del(bs->store, key);
    if (err) {
        bs->failed = true;
        bs->write_errors++;
    }
}

/* ---- start of day ---- */

static int restore_row(struct binding_store *bs, const char *key, const uint8_t *v, size_t len,
                       uint64_t expires_unix_ms, uint64_t now_unix)
{
    char id[CLIENT_ID_MAX + 1], call_id[CLIENT_CALL_ID_MAX + 1];
    const char *sep = strchr(key, KEY_SEP);
    struct addr serving, source;
    if (!sep || (size_t)(sep - key) > CLIENT_ID_MAX || len < VALUE_FIXED ||
        len - VALUE_FIXED > CLIENT_CALL_ID_MAX || v[0] != ROW_VERSION ||
        addr_decode(&serving, v + 1) || addr_decode(&source, v + 1 + ADDR_BYTES))
        return -EINVAL;
    memcpy(id, key, (size_t)(sep - key));
    id[sep - key] = '\0';
    memcpy(call_id, v + VALUE_FIXED, len - VALUE_FIXED);
    call_id[len - VALUE_FIXED] = '\0';
    struct client_reg r = {.id = id,
                           .contact = sep + 1,
                           .serving = &serving,
                           .source = &source,
                           .call_id = call_id,
                           .cseq = get_u32(v + 1 + 2 * ADDR_BYTES),
                           .q = (int16_t)get_u16(v + 1 + 2 * ADDR_BYTES + 4)};
    uint64_t left = expires_unix_ms > now_unix ? expires_unix_ms - now_unix : 0;
    return client_table_restore(bs->ct, &r, loop_now_ms(bs->loop) + left);
}

struct load_ctx {
    struct binding_store *bs;
    uint64_t now_unix;
};

static int on_row(void *arg, const char *key, const void *value, size_t len, uint64_t expires)
{
    struct load_ctx *lc = arg;
    int err = restore_row(lc->bs, key, value, len, expires, lc->now_unix);
    if (err == -ENOMEM)
        return err; /* a start without its bindings would answer 404s: refuse */
    if (err)
        lc->bs->skipped++;
    else
        lc->bs->loaded++;
    return 0;
}

int binding_store_open(struct binding_store *bs, const char *spec, struct loop *l,
                       struct client_table *ct)
{
    memset(bs, 0, sizeof *bs);
    bs->ct = ct;
    bs->loop = l;
    int err = store_open(&bs->store, spec, "bindings", l);
    if (err) {
        log_error("store %s: cannot open: error %d", spec, err);
        return err;
    }
    struct load_ctx lc = {.bs = bs, .now_unix = store_now_unix_ms()};
    err = store_load(bs->store, lc.now_unix, on_row, &lc);
    if (err) {
        log_error("store %s: cannot load the bindings: error %d", spec, err);
        binding_store_close(bs);
        return err;
    }
    if (store_durable(bs->store))
        log_notice("store %s: %llu bindings loaded%s", spec, (unsigned long long)bs->loaded,
                   bs->skipped ? " (some rows skipped: unreadable or over max_contacts)" : "");
    bs->journal = (struct client_journal){.put = on_put, .gone = on_gone, .arg = bs};
    client_table_set_journal(ct, &bs->journal);
    return 0;
}

void binding_store_close(struct binding_store *bs)
{
    if (bs->ct)
        client_table_set_journal(bs->ct, NULL);
    store_close(bs->store);
    bs->store = NULL;
}

bool binding_store_durable(const struct binding_store *bs)
{
    return store_durable(bs->store);
}

bool binding_store_take_failure(struct binding_store *bs)
{
    bool f = bs->failed;
    bs->failed = false;
    return f;
}

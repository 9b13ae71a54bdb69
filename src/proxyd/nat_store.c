/* nat_store: rows of the NAT client table (see nat_store.h). */
#include "nat_store.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pinhole/log.h"

#define KEY_SEP '\x1f' /* not in an AOR (RFC 3261 user characters only) */

static int row_key(char *buf, size_t len, const char *aor, const struct addr *nat)
{
    char where[ADDR_STRLEN];
    int n = snprintf(buf, len, "%s%c%s", aor, KEY_SEP, addr_format(nat, where, sizeof where));
    return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

static void on_put(void *arg, const char *aor, const struct nat_binding *b)
{
    struct nat_store *ns = arg;
    char key[STORE_KEY_MAX + 1];
    uint8_t value[8];
    for (int i = 0; i < 8; i++)
        value[i] = (uint8_t)(b->phone >> (56 - 8 * i));
    uint64_t now = loop_now_ms(ns->loop);
    uint64_t left = b->expires_at_ms > now ? b->expires_at_ms - now : 0;
    int err = row_key(key, sizeof key, aor, &b->nat);
    if (!err)
        err = store_put(ns->store, key, value, sizeof value, store_now_unix_ms() + left);
    if (err)
        ns->write_errors++;
}

static void on_gone(void *arg, const char *aor, const struct addr *nat)
{
    struct nat_store *ns = arg;
    char key[STORE_KEY_MAX + 1];
    int err = row_key(key, sizeof key, aor, nat);
    if (!err)
        err = store_del(ns->store, key);
    if (err)
        ns->write_errors++;
}

struct load_ctx {
    struct nat_store *ns;
    const struct transport *tp;
    uint64_t now_unix;
};

static int on_row(void *arg, const char *key, const void *value, size_t len, uint64_t expires)
{
    struct load_ctx *lc = arg;
    char aor[NAT_AOR_MAX + 1];
    const char *sep = strchr(key, KEY_SEP);
    const uint8_t *v = value;
    struct addr nat;
    if (!sep || sep == key || (size_t)(sep - key) > NAT_AOR_MAX || len != 8 ||
        addr_parse(&nat, sep + 1, 0) != 0) {
        lc->ns->skipped++;
        return 0;
    }
    memcpy(aor, key, (size_t)(sep - key));
    aor[sep - key] = '\0';
    uint64_t phone = 0;
    for (int i = 0; i < 8; i++)
        phone = phone << 8 | v[i];
    uint64_t left = expires > lc->now_unix ? expires - lc->now_unix : 0;
    int err = nat_table_put(lc->ns->nt, aor, &nat, lc->tp, loop_now_ms(lc->ns->loop) + left, phone);
    if (err == -ENOMEM)
        return err;
    if (err)
        lc->ns->skipped++;
    else
        lc->ns->loaded++;
    return 0;
}

int nat_store_open(struct nat_store *ns, const char *spec, struct loop *l, struct nat_table *nt,
                   const struct transport *tp)
{
    memset(ns, 0, sizeof *ns);
    ns->nt = nt;
    ns->loop = l;
    int err = store_open(&ns->store, spec, "nat_clients", l);
    if (err) {
        log_error("state %s: cannot open: error %d", spec, err);
        return err;
    }
    struct load_ctx lc = {.ns = ns, .tp = tp, .now_unix = store_now_unix_ms()};
    err = store_load(ns->store, lc.now_unix, on_row, &lc);
    if (err) {
        log_error("state %s: cannot load the NAT clients: error %d", spec, err);
        nat_store_close(ns);
        return err;
    }
    if (store_durable(ns->store))
        log_notice("state %s: %llu NAT clients loaded: keepalives resume", spec,
                   (unsigned long long)ns->loaded);
    ns->journal = (struct nat_journal){.put = on_put, .gone = on_gone, .arg = ns};
    nat_table_set_journal(nt, &ns->journal);
    return 0;
}

void nat_store_close(struct nat_store *ns)
{
    if (!ns->store)
        return;
    if (ns->nt)
        nat_table_set_journal(ns->nt, NULL);
    store_close(ns->store);
    ns->store = NULL;
}

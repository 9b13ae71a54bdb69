/* calls: the table of calls and their one teardown. */
#include "calls.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pinhole/table.h"

struct calls {
    struct messaging *m;
    struct loop *loop;
    struct table *t; /* Call-ID → struct call */
};

static void call_destroy(struct call *c)
{
    struct messaging *m = c->m;
    if (!m->env->closing) {
        if (c->st)
            txn_server_set_user(c->st, NULL, NULL);
        if (c->fwd)
            txn_client_abandon(c->fwd);
        call_release_relay(c);
    }
    relay_query_abort(&c->rq);
    redirect_query_abort(&c->dq);
    sip_free(c->invite);
    sip_free(c->late_offer);
    sip_free(c->held);
    free(c);
}

/* A call nobody ended: a lost BYE, an idle dialog, or the linger after a
 * failure running out. The table has already let go of it. */
static void on_call_expired(const char *key, void *value, void *arg)
{
    (void)key;
    (void)arg;
    call_destroy(value);
}

static void on_table_free(void *value)
{
    call_destroy(value);
}

int calls_new(struct calls **out, struct messaging *m, struct loop *l, uint64_t tick_ms)
{
    struct calls *cs = calloc(1, sizeof *cs);
    if (!cs)
        return -ENOMEM;
    cs->m = m;
    cs->loop = l;
    int err = table_new(&cs->t, 1024, tick_ms, on_call_expired, on_table_free, cs);
    if (!err && l)
        err = table_attach(cs->t, l);
    if (err) {
        calls_free(cs);
        return err;
    }
    *out = cs;
    return 0;
}

void calls_free(struct calls *cs)
{
    if (!cs)
        return;
    table_free(cs->t);
    free(cs);
}

size_t calls_count(const struct calls *cs)
{
    return table_count(cs->t);
}

static void count_setup(const char *key, void *value, uint64_t expires_at_ms, void *arg)
{
    const struct call *c = value;
    (void)key;
    (void)expires_at_ms;
    if (c->state < CALL_CONFIRMED)
        (*(size_t *)arg)++;
}

size_t calls_in_setup(const struct calls *cs)
{
    size_t n = 0;
    table_foreach(cs->t, count_setup, &n);
    return n;
}

static uint64_t deadline(const struct calls *cs, uint64_t ms)
{
    return (cs->loop ? loop_now_ms(cs->loop) : 0) + ms;
}

int call_new(struct call **out, struct messaging *m, const char *call_id, const char *user,
             uint64_t expires_in_ms)
{
    size_t idlen = strnlen(call_id, CALL_ID_MAX + 1);
    size_t ulen = user ? strnlen(user, NAT_AOR_MAX + 1) : 0;
    if (idlen == 0 || idlen > CALL_ID_MAX || ulen > NAT_AOR_MAX)
        return -EINVAL;
    struct call *c = calloc(1, sizeof *c);
    if (!c)
        return -ENOMEM;
    c->kind = MSG_LEG_CALL;
    c->m = m;
    memcpy(c->call_id, call_id, idlen);
    if (ulen)
        memcpy(c->user, user, ulen);
    int err = table_put(m->calls->t, c->call_id, c, deadline(m->calls, expires_in_ms), NULL);
    if (err) {
        free(c);
        return err;
    }
    *out = c;
    return 0;
}

struct call *call_find(const struct messaging *m, const char *call_id)
{
    return table_get(m->calls->t, call_id);
}

void call_expire_in(struct call *c, uint64_t ms)
{
    (void)table_touch(c->m->calls->t, c->call_id, deadline(c->m->calls, ms));
}

static void on_server_end(struct txn_server *st, void *arg)
{
    struct call *c = arg;
    (void)st;
    c->st = NULL;
}

void call_attach_server(struct call *c, struct txn_server *st)
{
    c->st = st;
    txn_server_set_user(st, c, on_server_end);
}

void call_release_relay(struct call *c)
{
    (void)relay_release(&c->m->relays, &c->res, c->call_id, c->user, &c->tp);
}

void call_terminate(struct call *c)
{
    c->state = CALL_TERMINATED;
    redirect_query_abort(&c->dq);
    if (!relay_query_pending(&c->rq))
        call_release_relay(c);
    call_expire_in(c, msg_linger_ms(c->m));
}

static void count_failure(struct messaging_stats *st, int status)
{
    switch (status) {
    case 404:
        st->invites_not_found++;
        break;
    case 487:
        st->invites_cancelled++;
        break;
    case 503:
        st->invites_unavailable++;
        break;
    default:
        st->invites_refused++;
    }
}

void call_fail(struct call *c, int status)
{
    count_failure(&c->m->stats, status);
    if (c->st && !txn_server_is_final(c->st))
        (void)txn_server_respond_status(c->st, status);
    call_terminate(c);
}

void call_end(struct call *c)
{
    (void)table_remove(c->m->calls->t, c->call_id);
    call_destroy(c);
}

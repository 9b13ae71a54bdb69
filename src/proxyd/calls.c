/* calls: the table of calls and their one teardown. */
#include "calls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pinhole/table.h"

struct calls {
    struct messaging *m;
    struct loop *loop;
    struct table *t; /* Call-ID → struct call */
};

/* The call's log line as it stands now (call_log.h). */
static void record_of(const struct call *c, struct call_record *r)
{
    uint64_t now = loop_now_ms(c->m->env->loop);
    memset(r, 0, sizeof *r);
    snprintf(r->call_id, sizeof r->call_id, "%s", c->call_id);
    snprintf(r->from, sizeof r->from, "%s", c->from_user);
    snprintf(r->to, sizeof r->to, "%s", c->user);
    r->status = c->final_status;
    r->setup_ms = (c->final_ms ? c->final_ms : now) - c->created_ms;
    r->duration_ms = c->answered_ms ? now - c->answered_ms : 0;
    if (c->res.held && c->res.nports)
        (void)addr_from_host_port(&r->relay, c->res.media, c->res.ports[0]);
    r->caller_ip = c->caller_ip;
}

static void call_destroy(struct call *c)
{
    struct messaging *m = c->m;
    if (!m->env->closing) {
        if (c->st)
            txn_server_set_user(c->st, NULL, NULL);
        for (size_t i = 0; i < c->nbr; i++)
            if (c->br[i].fwd)
                txn_client_abandon(c->br[i].fwd);
        call_release_relay(c);
        if (!c->logged) { /* not relayed: nothing to wait for */
            struct call_record rec;
            record_of(c, &rec);
            call_log_write(&rec, NULL);
        }
    }
    relay_query_abort(&c->rq);
    redirect_query_abort(&c->dq);
    sip_free(c->invite);
    sip_free(c->late_offer);
    sip_free(c->held);
    sip_free(c->best);
    free(c->dlg);
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
    c->created_ms = loop_now_ms(m->env->loop);
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

const struct call_branch *call_branch_at(const struct call *c, const struct addr *addr)
{
    for (size_t i = 0; i < c->nbr; i++)
        if (addr_equal(&c->br[i].hop, addr))
            return &c->br[i];
    return NULL;
}

void call_cancel_branches(struct call *c, const struct call_branch *except, const char *reason)
{
    for (size_t i = 0; i < c->nbr; i++) {
        struct call_branch *b = &c->br[i];
        if (b == except || !b->fwd || b->status)
            continue;
        int err = txn_client_cancel_reason(b->fwd, reason);
        if (!err && except)
            c->m->stats.fork_cancelled++;
        if (err && err != -EALREADY && log_ratelimit_allow(&c->m->rl))
            log_info("call %s: CANCEL not forwarded: error %d", c->call_id, err);
    }
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
    struct call_record rec;
    record_of(c, &rec);
    if (relay_release(&c->m->relays, &c->res, c->call_id, c->user, &c->tp, &rec) == 0)
        c->logged = true; /* written when relayd answers */
}

void call_note_final(struct call *c, int status)
{
    if (c->final_status)
        return;
    c->final_status = status;
    c->final_ms = loop_now_ms(c->m->env->loop);
    if (status < 300)
        c->answered_ms = c->final_ms;
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
    call_note_final(c, status);
    if (c->st && !txn_server_is_final(c->st))
        (void)txn_server_respond_status(c->st, status);
    call_terminate(c);
}

void call_end(struct call *c)
{
    (void)table_remove(c->m->calls->t, c->call_id);
    call_destroy(c);
}

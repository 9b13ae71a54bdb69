/* registrar: REGISTER → client table → 200 (see registrar.h). */
#include "registrar.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pinhole/txn_reply.h"

/* Longest Path we echo: a few proxies' worth. */
#define REGISTRAR_PATH_MAX 1024

/* One Contact of a REGISTER. */
struct reg_contact {
    char *uri;    /* osip_free'd by reg_request_clear */
    long expires; /* granted: within [0, max_expires] */
    int q;        /* thousandths; -1: none */
};

/* What a REGISTER asks for, read and validated before the table is touched. */
struct reg_request {
    const char *id;
    struct reg_contact contacts[CLIENT_CONTACTS_MAX];
    size_t ncontacts; /* 0: a query */
    bool star;
    long expires; /* the request's own (Expires header or default), granted */
    struct addr serving;
    char call_id[CLIENT_CALL_ID_MAX + 1];
    uint32_t cseq;
    int status;         /* non-zero: refuse with this ... */
    const char *reason; /* ... and this phrase (NULL: the standard one) */
};

static int refuse(struct reg_request *r, int status, const char *reason)
{
    r->status = status;
    r->reason = reason;
    return -EINVAL;
}

/* RFC 3261 10.3 step 3 and RFC 4475 3.3.4: the AOR must be a SIP URI. */
static bool to_is_sip(const osip_message_t *req)
{
    const osip_to_t *to = req->to;
    const char *scheme = to && to->url ? to->url->scheme : NULL;
    return scheme && (strcasecmp(scheme, "sip") == 0 || strcasecmp(scheme, "sips") == 0);
}

static int read_id(struct reg_request *r, const osip_message_t *req)
{
    if (!to_is_sip(req))
        return refuse(r, 400, "To Is Not A SIP URI");
    r->id = sip_to_user(req);
    if (!r->id || !*r->id)
        return refuse(r, 404, NULL); /* no ID number 124 to register */
    if (strnlen(r->id, CLIENT_ID_MAX + 1) > CLIENT_ID_MAX)
        return refuse(r, 400, "ID Too Long");
    return 0;
}

static long grant(const struct rd_ctx *c, long e)
{
    if (e == -1)
        e = c->conf->default_expires;
    return e > c->conf->max_expires ? c->conf->max_expires : e;
}

/* RFC 3261 10.2.1.1: the Expires header, for Contacts without their own. */
static int read_expires(struct reg_request *r, const struct rd_ctx *c, const osip_message_t *req)
{
    long e = sip_expires_header(req);
    if (e < -1)
        return refuse(r, 400, "Invalid Expires");
    r->expires = grant(c, e);
    return 0;
}

/* RFC 3261 10.3 steps 6-7: every Contact is a binding of its own, with its
 * own expires and q; more than the table keeps per ID is refused before
 * anything is parsed further (the count bounds the work). */
static int read_contacts(struct reg_request *r, const struct rd_ctx *c, const osip_message_t *req)
{
    int n = sip_contact_count(req);
    if (n <= 0)
        return 0; /* a query */
    if (sip_contact_is_star(req)) {
        /* RFC 3261 10.3 step 6 */
        if (n > 1 || sip_expires_header(req) != 0)
            return refuse(r, 400, "Invalid Wildcard Contact");
        r->star = true;
        return 0;
    }
    if (n > c->conf->max_contacts)
        return refuse(r, 403, "Too Many Contacts");
    for (int i = 0; i < n; i++) {
        struct reg_contact *rc = &r->contacts[r->ncontacts];
        int err = sip_contact_at(req, i, &rc->uri, &rc->expires, &rc->q);
        if (err == 0)
            r->ncontacts++;
        if (err == -EINVAL)
            return refuse(r, 400, "Invalid Expires Or Q");
        if (err || !rc->uri || !*rc->uri)
            return refuse(r, 400, "Invalid Contact");
        if (strnlen(rc->uri, CLIENT_CONTACT_MAX + 1) > CLIENT_CONTACT_MAX)
            return refuse(r, 400, "Contact Too Long");
        rc->expires = rc->expires < 0 ? r->expires : grant(c, rc->expires);
    }
    return 0;
}

static int read_serving(struct reg_request *r, const osip_message_t *req, const struct addr *src)
{
    int err = sip_path_first(req, &r->serving);
    if (err == -ENOENT) {
        r->serving = *src;
        return 0;
    }
    /* A name would need a DNS lookup by every proxy we redirect to it. */
    return err ? refuse(r, 400, "Path Must Name An Address") : 0;
}

static int read_identity(struct reg_request *r, const osip_message_t *req)
{
    const char *method;
    int err = sip_call_id(req, r->call_id, sizeof r->call_id);
    if (err == -ENOSPC)
        return refuse(r, 400, "Call-ID Too Long");
    if (err || sip_cseq(req, &r->cseq, &method) != 0)
        return refuse(r, 400, NULL);
    return 0;
}

static int reg_request_read(struct reg_request *r, const struct rd_ctx *c,
                            const osip_message_t *req, const struct addr *src)
{
    int err = read_id(r, req);
    if (!err)
        err = read_expires(r, c, req);
    if (!err)
        err = read_contacts(r, c, req);
    if (!err)
        err = read_serving(r, req, src);
    if (!err)
        err = read_identity(r, req);
    return err;
}

static void reg_request_clear(struct reg_request *r)
{
    for (size_t i = 0; i < r->ncontacts; i++)
        osip_free(r->contacts[i].uri);
    r->ncontacts = 0;
}

/* RFC 3327 5.3: the registrar returns the Path it stored. Path headers are
 * joined into one; a Path too long to echo is refused (-E2BIG). */
static int echo_path(const osip_message_t *req, osip_message_t *resp)
{
    char path[REGISTRAR_PATH_MAX + 1];
    size_t used = 0;
    osip_header_t *h = NULL;
    int pos = 0;
    while ((pos = osip_message_header_get_byname(req, "path", pos, &h)) >= 0) {
        size_t vlen = h && h->hvalue ? strlen(h->hvalue) : 0;
        pos++;
        if (!vlen)
            continue;
        if (used + (used ? 2 : 0) + vlen > REGISTRAR_PATH_MAX)
            return -E2BIG;
        if (used) {
            memcpy(path + used, ", ", 2);
            used += 2;
        }
        memcpy(path + used, h->hvalue, vlen);
        used += vlen;
    }
    if (!used)
        return 0;
    path[used] = '\0';
    return sip_header_set(resp, "Path", path);
}

/* RFC 3261 10.3 step 8: the 200 lists every binding now held for the ID,
 * each with its own remaining lifetime (and q when one was given). */
static int list_bindings(const struct rd_ctx *c, const char *id, osip_message_t *resp)
{
    const struct client_binding *bs[CLIENT_CONTACTS_MAX];
    uint64_t now = loop_now_ms(c->loop);
    size_t n = client_table_bindings(c->clients, id, now, bs, CLIENT_CONTACTS_MAX);
    int err = 0;
    sip_contacts_clear(resp);
    for (size_t i = 0; i < n && !err; i++)
        err =
            sip_contact_add(resp, client_binding_contact(bs[i]),
                            (long)client_binding_remaining_s(bs[i], now), client_binding_q(bs[i]));
    return err;
}

static int answer_ok(struct rd_ctx *c, struct txn_server *st, const osip_message_t *req,
                     const char *id)
{
    osip_message_t *resp = NULL;
    int err = txn_server_build(st, 200, NULL, NULL, &resp);
    if (err)
        return err;
    err = list_bindings(c, id, resp);
    if (!err)
        err = echo_path(req, resp);
    if (err == -E2BIG) {
        sip_free(resp);
        return txn_reply_reason(&c->reply, st, 400, "Path Too Long");
    }
    if (!err)
        err = txn_reply_send(&c->reply, st, resp);
    sip_free(resp);
    return err;
}

static const char *outcome_text(enum client_reg_outcome o)
{
    switch (o) {
    case CLIENT_REG_CREATED:
        return "bound";
    case CLIENT_REG_REFRESHED:
        return "refreshed";
    case CLIENT_REG_REMOVED:
        return "removed";
    default:
        return "nothing to remove";
    }
}

static int apply(struct rd_ctx *c, const struct reg_request *r, const struct addr *src)
{
    struct client_reg regs[CLIENT_CONTACTS_MAX];
    enum client_reg_outcome outcomes[CLIENT_CONTACTS_MAX];
    size_t n = r->star ? 1 : r->ncontacts;
    for (size_t i = 0; i < n; i++) {
        const struct reg_contact *rc = &r->contacts[i];
        regs[i] = (struct client_reg){.id = r->id,
                                      .contact = r->star ? "*" : rc->uri,
                                      .serving = &r->serving,
                                      .source = src,
                                      .call_id = r->call_id,
                                      .cseq = r->cseq,
                                      .expires_s = r->star ? 0 : (uint32_t)rc->expires,
                                      .q = r->star ? -1 : rc->q};
    }
    int err = client_table_apply(c->clients, regs, n, loop_now_ms(c->loop), outcomes);
    for (size_t i = 0; !err && i < n; i++)
        log_debug("REGISTER %s %s: %s", r->id, regs[i].contact, outcome_text(outcomes[i]));
    return err;
}

/* ---- the 200 once the bindings are committed (issue #17) ---- */

/* A REGISTER applied to the table, waiting for the store. */
struct committing {
    struct store_wait w; /* first: the callback's argument */
    struct rd_ctx *c;
    struct txn_server *st; /* NULL once the transaction ended meanwhile */
    char id[CLIENT_ID_MAX + 1];
};

static void on_committing_txn_end(struct txn_server *st, void *arg)
{
    struct committing *k = arg;
    (void)st;
    k->st = NULL;
}

static void on_committed(struct store_wait *w, int err)
{
    struct committing *k = (struct committing *)(void *)w;
    struct txn_server *st = k->st;
    if (st) {
        txn_server_set_user(st, NULL, NULL);
        if (!err && txn_server_request(st))
            (void)answer_ok(k->c, st, txn_server_request(st), k->id);
        else /* not on disk: the phone must not believe it is kept */
            (void)txn_reply_reason(&k->c->reply, st, 500, "Binding Not Stored");
    }
    free(k);
}

/* The 200 now ("memory"), or once the store has committed what this
 * REGISTER changed; 503 when the store could not even queue it. */
static int answer_when_kept(struct rd_ctx *c, struct txn_server *st, const osip_message_t *req,
                            const char *id)
{
    if (binding_store_take_failure(&c->bindings)) {
        if (log_ratelimit_allow(&c->log_rl))
            log_warn("REGISTER %s: the store is not keeping up: 503", id);
        return txn_reply_status(&c->reply, st, 503,
                                (const char *const[]){"Retry-After", "5", NULL});
    }
    if (!binding_store_durable(&c->bindings))
        return answer_ok(c, st, req, id);
    struct committing *k = calloc(1, sizeof *k);
    if (!k)
        return txn_reply_status(&c->reply, st, 500, NULL);
    k->c = c;
    k->st = st;
    memcpy(k->id, id, strlen(id) + 1);
    txn_server_set_user(st, k, on_committing_txn_end);
    store_sync(c->bindings.store, &k->w, on_committed);
    return 0;
}

int registrar_handle(struct rd_ctx *c, struct txn_server *st, const osip_message_t *req,
                     const struct addr *src)
{
    struct reg_request r = {0};
    int err;

    if (reg_request_read(&r, c, req, src) != 0) {
        err = txn_reply_reason(&c->reply, st, r.status, r.reason);
        goto out;
    }
    if (r.ncontacts || r.star) {
        err = apply(c, &r, src);
        if (err == -ESTALE) {
            /* RFC 3261 10.3 step 7 */
            err = txn_reply_reason(&c->reply, st, 500, "Out Of Order REGISTER");
            goto out;
        }
        if (err) {
            err = txn_reply_status(&c->reply, st, err == -ENOMEM ? 500 : 400, NULL);
            goto out;
        }
        err = answer_when_kept(c, st, req, r.id);
        goto out;
    }
    err = answer_ok(c, st, req, r.id);
out:
    reg_request_clear(&r);
    return err;
}

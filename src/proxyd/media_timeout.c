/* media_timeout: relayd said a call's media died; BYE both phones (see
 * media_timeout.h). */
#include "media_timeout.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calls.h"
#include "pinhole/log.h"

static bool copy_str(char *dst, size_t cap, const char *src)
{
    return src && snprintf(dst, cap, "%s", src) < (int)cap;
}

/* The header value `name` of m as text (From/To keep their tags). */
static bool header_text(const osip_message_t *m, bool from, char *out, size_t cap)
{
    char *s = NULL;
    int err = from ? osip_from_to_str(m->from, &s) : osip_to_to_str(m->to, &s);
    bool ok = err == 0 && copy_str(out, cap, s);
    osip_free(s);
    return ok;
}

static bool keep_routes(struct call_dialog *d, const struct proxy_env *env,
                        const osip_message_t *ok)
{
    int n = osip_list_size(&ok->record_routes);
    int k = sip_record_route_find_self(ok, &env->cfg->advertise); /* our own entry */
    char list[DIALOG_ROUTES_MAX * 2 + 1][DIALOG_URI_MAX];
    if (n > DIALOG_ROUTES_MAX * 2 + 1)
        return false;
    for (int i = 0; i < n; i++) {
        osip_record_route_t *rr = osip_list_get(&ok->record_routes, i);
        char *s = NULL;
        if (osip_record_route_to_str(rr, &s) != 0 || !copy_str(list[i], DIALOG_URI_MAX, s)) {
            osip_free(s);
            return false;
        }
        osip_free(s);
    }
    if (k < 0 || k > DIALOG_ROUTES_MAX || n - k - 1 > DIALOG_ROUTES_MAX)
        return false;
    for (int i = k - 1; i >= 0; i--) /* toward the callee: those above us, nearest first */
        memcpy(d->to_callee[d->n_to_callee++], list[i], DIALOG_URI_MAX);
    for (int i = k + 1; i < n; i++) /* toward the caller: those below us */
        memcpy(d->to_caller[d->n_to_caller++], list[i], DIALOG_URI_MAX);
    return true;
}

void media_timeout_keep(struct call *c, const osip_message_t *ok)
{
    char *contact = NULL;
    struct call_dialog *d;
    if (c->dlg || !c->res.held || !c->caller_contact[0])
        return;
    d = calloc(1, sizeof *d);
    if (!d)
        return;
    bool fits = header_text(ok, true, d->caller, sizeof d->caller) &&
                header_text(ok, false, d->callee, sizeof d->callee) &&
                copy_str(d->caller_target, sizeof d->caller_target, c->caller_contact) &&
                sip_contact_uri_text(ok, &contact) == 0 &&
                copy_str(d->callee_target, sizeof d->callee_target, contact) &&
                keep_routes(d, c->m->env, ok);
    osip_free(contact);
    if (!fits) {
        free(d);
        return;
    }
    c->dlg = d;
}

static int send_bye(struct messaging *m, const struct call *c, const char *from, const char *to,
                    const char *target, const char routes[][DIALOG_URI_MAX], size_t n,
                    const struct transport *tp, const char *reason)
{
    char text[4096], route[DIALOG_ROUTES_MAX * (DIALOG_URI_MAX + 10)] = "", me[ADDR_STRLEN];
    char branch[SIP_BRANCH_LEN];
    struct sip_parse_result res;
    struct addr hop;
    osip_message_t *bye = NULL;
    size_t used = 0;

    for (size_t i = 0; i < n; i++)
        used += (size_t)snprintf(route + used, sizeof route - used, "Route: %s\r\n", routes[i]);
    sip_branch_new(branch, sizeof branch);
    addr_host_sip(&m->env->cfg->advertise, me, sizeof me);
    int len = snprintf(text, sizeof text,
                       "BYE %s SIP/2.0\r\nVia: SIP/2.0/UDP %s:%u;branch=%s;rport\r\n%s"
                       "Max-Forwards: 70\r\nFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\n"
                       "CSeq: %u BYE\r\nReason: %s\r\nContent-Length: 0\r\n\r\n",
                       target, me, addr_port(&m->env->cfg->advertise), branch, route, from, to,
                       c->call_id, MEDIA_TIMEOUT_CSEQ, reason);
    if (len < 0 || (size_t)len >= sizeof text)
        return -ENOSPC;
    int err = sip_parse(&bye, text, (size_t)len, &res);
    /* loose routing (RFC 3261 16.12): the top Route, else the target;
     * numeric only, no DNS on the loop */
    if (!err && (err = sip_route_top(bye, &hop)) == -ENOENT)
        err = sip_request_uri_addr(bye, &hop);
    if (err) {
        sip_free(bye);
        return err;
    }
    return txn_client_send(m->env->txn, bye, &hop, tp, NULL, NULL, NULL);
}

void media_timeout_on_notice(struct messaging *m, struct txn_server *st, const osip_message_t *req)
{
    char call_id[CALL_ID_MAX + 1];
    const char *reason = sip_header_get(req, "Reason");
    struct call *c = NULL;

    if (sip_call_id(req, call_id, sizeof call_id) == 0)
        c = call_find(m, call_id);
    if (!c) {
        (void)txn_server_respond_status(st, 481);
        return;
    }
    (void)txn_server_respond_status(st, 200);
    if (!reason || strlen(reason) > 128 || strpbrk(reason, "\r\n"))
        reason = "SIP;cause=408;text=\"media timeout\"";
    c->res.released = true; /* relayd has freed it already */
    m->stats.media_timeouts++;
    if (c->state == CALL_CONFIRMED && c->dlg) {
        const struct call_dialog *d = c->dlg;
        int a = send_bye(m, c, d->caller, d->callee, d->callee_target, d->to_callee, d->n_to_callee,
                         c->won ? &c->won->tp : &c->tp, reason);
        int b = send_bye(m, c, d->callee, d->caller, d->caller_target, d->to_caller, d->n_to_caller,
                         &c->tp, reason);
        log_notice("call %s: relayd found its media silent: BYE to %s (%s) and %s (%s)", call_id,
                   c->user, a ? "not sent" : "sent", c->from_user, b ? "not sent" : "sent");
    } else {
        log_notice("call %s: relayd freed its relay (%s); the call is not answered or its "
                   "dialog unknown here: freed without BYE",
                   call_id, reason);
    }
    call_end(c);
}

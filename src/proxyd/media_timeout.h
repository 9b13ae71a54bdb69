/* media_timeout: ending a call whose media died (issue #16). relayd frees
 * a session that stayed silent for its session_timeout and tells the proxy
 * that created it (a BYE without To tag from a relay, relayd's
 * relay_notice.h); this proxy then sends BYE to both phones, with the
 * Reason relayd gave (RFC 3326: SIP;cause=408;text="media timeout"), and
 * frees the call. Without it both phones would keep a dead call up.
 *
 * For that, a relayed call keeps what a BYE needs from the 2xx that
 * confirmed it (struct call_dialog): both parties' URIs and tags, both
 * targets (the callee's Contact as rewritten by decision 7, the caller's
 * as step 144 rewrote it), and the route set each way from this proxy
 * (the 2xx's Record-Route before our own entry, reversed, toward the
 * callee; after it toward the caller). CSeq 2147483000: higher than any a
 * phone reaches in a call, which a UA requires of the next request. */
#ifndef PROXYD_MEDIA_TIMEOUT_H
#define PROXYD_MEDIA_TIMEOUT_H

#include "msg_ctx.h"

struct call;

#define MEDIA_TIMEOUT_CSEQ 2147483000u
#define DIALOG_URI_MAX 256 /* a Contact, a Route or a name-addr we keep */
#define DIALOG_ROUTES_MAX 4

struct call_dialog {
    char caller[DIALOG_URI_MAX]; /* the INVITE's From, with its tag */
    char callee[DIALOG_URI_MAX]; /* the 2xx's To, with its tag */
    char caller_target[DIALOG_URI_MAX], callee_target[DIALOG_URI_MAX];
    char to_callee[DIALOG_ROUTES_MAX][DIALOG_URI_MAX];
    char to_caller[DIALOG_ROUTES_MAX][DIALOG_URI_MAX];
    size_t n_to_callee, n_to_caller;
};

/* The 2xx (as forwarded upstream, rewritten) confirmed a relayed call c:
 * keeps its dialog in c->dlg. Nothing when something does not fit. */
void media_timeout_keep(struct call *c, const osip_message_t *ok);

/* The notice: a BYE without To tag from one of our relays. Answers st
 * (200, or 481 without such a call) and ends the call. */
void media_timeout_on_notice(struct messaging *m, struct txn_server *st, const osip_message_t *req);

#endif

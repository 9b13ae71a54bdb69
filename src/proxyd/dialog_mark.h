/* dialog_mark: proof that this proxy record-routed a dialog (issue #15,
 * design.md "No open relay").
 *
 * The Record-Route proxyd puts on a dialog-creating request carries
 * ";ph=MARK", MARK = the first 64 bits of HMAC-SHA-256(key, Call-ID) in hex.
 * The phones copy it into the Route of every request of that dialog. An
 * in-dialog request whose top Route is us is routed only when its mark
 * matches its Call-ID: anyone can write our address on top of a Route set
 * of their choosing (the reflection of issue #15), nobody without the key
 * can write the mark. Stateless, so it survives losing the call state
 * (expiry, a restart with the same auth.secret), and every proxyd sharing
 * auth.secret accepts the others' marks. */
#ifndef PROXYD_DIALOG_MARK_H
#define PROXYD_DIALOG_MARK_H

#include <stdbool.h>
#include <stdint.h>

#define DIALOG_MARK_PARAM "ph"
#define DIALOG_MARK_HEX 16

struct dialog_mark {
    uint8_t key[32];
};

/* The key from secret (auth.secret, borrowed for the call) or, when NULL,
 * random: then only this process accepts its marks. 0 or -errno. */
int dialog_mark_init(struct dialog_mark *k, const char *secret);

/* "ph=MARK" for call_id into out[sizeof "ph=" + DIALOG_MARK_HEX]. 0 or
 * -ENOMEM. */
#define DIALOG_MARK_PARAM_LEN (sizeof DIALOG_MARK_PARAM "=" + DIALOG_MARK_HEX)
int dialog_mark_param(const struct dialog_mark *k, const char *call_id, char *out);

/* Does value (a Route's "ph" parameter) mark call_id? Constant time in
 * the mark. */
bool dialog_mark_valid(const struct dialog_mark *k, const char *call_id, const char *value);

#endif

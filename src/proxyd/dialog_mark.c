/* dialog_mark: HMAC of the Call-ID in our Record-Route (see dialog_mark.h). */
#include "dialog_mark.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "pinhole/digest.h"

/* Domain separation: the nonces use the same secret for another purpose. */
static const char LABEL[] = "pinhole dialog mark";

int dialog_mark_init(struct dialog_mark *k, const char *secret)
{
    if (!secret)
        return getrandom(k->key, sizeof k->key, 0) == (ssize_t)sizeof k->key ? 0 : -EIO;
    uint8_t mac[DIGEST_HMAC_LEN];
    if (digest_hmac(secret, strlen(secret), LABEL, sizeof LABEL - 1, mac) != 0)
        return -ENOMEM;
    memcpy(k->key, mac, sizeof k->key);
    return 0;
}

static int mark_hex(const struct dialog_mark *k, const char *call_id, char out[DIALOG_MARK_HEX + 1])
{
    uint8_t mac[DIGEST_HMAC_LEN];
    if (digest_hmac(k->key, sizeof k->key, call_id, strlen(call_id), mac) != 0)
        return -ENOMEM;
    digest_hex(mac, DIALOG_MARK_HEX / 2, out);
    return 0;
}

int dialog_mark_param(const struct dialog_mark *k, const char *call_id, char *out)
{
    char hex[DIALOG_MARK_HEX + 1];
    int err = mark_hex(k, call_id, hex);
    if (!err)
        snprintf(out, DIALOG_MARK_PARAM_LEN, DIALOG_MARK_PARAM "=%s", hex);
    return err;
}

bool dialog_mark_valid(const struct dialog_mark *k, const char *call_id, const char *value)
{
    char want[DIALOG_MARK_HEX + 1];
    if (!value || strlen(value) != DIALOG_MARK_HEX || mark_hex(k, call_id, want) != 0)
        return false;
    unsigned diff = 0;
    for (size_t i = 0; i < DIALOG_MARK_HEX; i++)
        diff |= (unsigned)(want[i] ^ value[i]);
    return diff == 0;
}

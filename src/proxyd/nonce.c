/* nonce: birth, randomness and a MAC, all hex. */
#include "nonce.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#include "pinhole/digest.h"
#include "pinhole/sip.h"

#define MAC_HEX 32

/* The MAC of the first 32 characters of nonce (birth and random) for realm
 * as hex into mac[MAC_HEX + 1]. */
static int mac_of(const void *secret, size_t len, const char *realm, const char *nonce, char *mac)
{
    char data[32 + 1 + SIP_CRED_FIELD_MAX + 1];
    uint8_t h[DIGEST_HMAC_LEN];
    int n = snprintf(data, sizeof data, "%.32s %s", nonce, realm);
    if (n < 0 || (size_t)n >= sizeof data)
        return -EINVAL;
    int err = digest_hmac(secret, len, data, (size_t)n, h);
    if (!err)
        digest_hex(h, MAC_HEX / 2, mac);
    return err;
}

int nonce_make(const void *secret, size_t len, const char *realm, uint64_t now_s, char *out)
{
    char rnd[SIP_TAG_LEN];
    sip_tag_new(rnd, sizeof rnd); /* random hex from the process's generator */
    snprintf(out, NONCE_LEN + 1, "%016llx%.16s", (unsigned long long)now_s, rnd);
    if (strlen(out) != 32)
        return -EIO;
    int err = mac_of(secret, len, realm, out, out + 32);
    out[NONCE_LEN] = '\0';
    return err;
}

int nonce_check(const void *secret, size_t len, const char *realm, const char *nonce,
                uint64_t now_s, uint64_t lifetime_s)
{
    char mac[MAC_HEX + 1];
    uint64_t born;
    if (strnlen(nonce, NONCE_LEN + 1) != NONCE_LEN || digest_hex_value(nonce, 16, &born) != 0 ||
        mac_of(secret, len, realm, nonce, mac) != 0 || CRYPTO_memcmp(mac, nonce + 32, MAC_HEX) != 0)
        return -EINVAL;
    if (born > now_s + NONCE_SKEW_S)
        return -EINVAL;
    if (now_s > born && now_s - born > lifetime_s)
        return -ESTALE;
    return 0;
}

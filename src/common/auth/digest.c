/* digest: EVP digests joined by ':' and written as lowercase hex. */
#include "pinhole/digest.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>
#include <strings.h>

static const char *const names[DIGEST_ALG_COUNT] = {"SHA-512-256", "SHA-256", "MD5"};

const char *digest_alg_name(enum digest_alg a)
{
    return a < DIGEST_ALG_COUNT ? names[a] : "?";
}

int digest_alg_from_name(const char *name, enum digest_alg *out)
{
    if (!name || !*name) {
        *out = DIGEST_MD5;
        return 0;
    }
    for (int a = 0; a < DIGEST_ALG_COUNT; a++) {
        if (strcasecmp(name, names[a]) == 0) {
            *out = (enum digest_alg)a;
            return 0;
        }
    }
    return -EINVAL;
}

size_t digest_hex_len(enum digest_alg a)
{
    return a == DIGEST_MD5 ? 32 : 64;
}

/* OpenSSL 3 looks an algorithm up in its provider tables on every
 * EVP_sha256()-style init; fetched once here, the lookup is not paid per
 * digest (a registration hashes up to five times). Single-threaded
 * daemons: the cache needs no lock. Never freed: process lifetime. */
static EVP_MD *md_cache[DIGEST_ALG_COUNT];

static const EVP_MD *md_of(enum digest_alg a)
{
    static const char *const fetch_names[DIGEST_ALG_COUNT] = {"SHA512-256", "SHA256", "MD5"};
    if (a >= DIGEST_ALG_COUNT)
        a = DIGEST_MD5;
    if (!md_cache[a])
        md_cache[a] = EVP_MD_fetch(NULL, fetch_names[a], NULL);
    return md_cache[a];
}

void digest_hex(const uint8_t *b, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[b[i] >> 4];
        out[2 * i + 1] = hex[b[i] & 15];
    }
    out[2 * n] = '\0';
}

/* H(parts[0] ":" parts[1] ":" ... ) as hex. */
static int hash_joined(enum digest_alg a, const char *const *parts, size_t n, char *out)
{
    unsigned char out_md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    static EVP_MD_CTX *ctx; /* reused: one digest at a time */
    const EVP_MD *md = md_of(a);
    if (!ctx)
        ctx = EVP_MD_CTX_new();
    int ok = ctx && md && EVP_DigestInit_ex(ctx, md, NULL);
    for (size_t i = 0; ok && i < n; i++) {
        if (i > 0)
            ok = EVP_DigestUpdate(ctx, ":", 1);
        if (ok && parts[i])
            ok = EVP_DigestUpdate(ctx, parts[i], strlen(parts[i]));
    }
    if (ok)
        ok = EVP_DigestFinal_ex(ctx, out_md, &len);
    if (!ok || len * 2 + 1 > DIGEST_HEX_MAX)
        return -ENOMEM;
    digest_hex(out_md, len, out);
    return 0;
}

int digest_ha1(enum digest_alg a, const char *user, const char *realm, const char *password,
               char *out)
{
    const char *const parts[] = {user, realm, password};
    return hash_joined(a, parts, 3, out);
}

int digest_response(enum digest_alg a, const struct digest_input *in, char *out)
{
    char ha2[DIGEST_HEX_MAX];
    const char *const a2[] = {in->method, in->uri};
    int err = hash_joined(a, a2, 2, ha2);
    if (err)
        return err;
    const char *const parts[] = {in->ha1, in->nonce, in->nc, in->cnonce, in->qop, ha2};
    return hash_joined(a, parts, 6, out);
}

int digest_hex_value(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    if (n == 0 || n > 16)
        return -EINVAL;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i], l = c | 0x20;
        unsigned d = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
                     : l >= 'a' && l <= 'f' ? (unsigned)(l - 'a' + 10)
                                            : 16;
        if (d == 16)
            return -EINVAL;
        v = v << 4 | d;
    }
    *out = v;
    return 0;
}

bool digest_equal(const char *a, const char *b)
{
    size_t n = strlen(a);
    return n == strlen(b) && CRYPTO_memcmp(a, b, n) == 0;
}

int digest_hmac(const void *key, size_t key_len, const void *data, size_t len, uint8_t *out)
{
    unsigned int n = 0;
    const EVP_MD *sha256 = md_of(DIGEST_SHA256);
    if (!sha256 || !HMAC(sha256, key, (int)key_len, data, len, out, &n) || n != DIGEST_HMAC_LEN)
        return -ENOMEM;
    return 0;
}

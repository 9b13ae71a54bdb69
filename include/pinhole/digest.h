/* digest: the hashes of HTTP digest authentication as SIP uses it (RFC 3261
 * §22, RFC 7616 qop=auth, RFC 8760 algorithms) and the HMAC behind
 * stateless nonces, on OpenSSL's libcrypto. Everything is hex text in
 * caller buffers: nothing here allocates or keeps state. */
#ifndef PINHOLE_DIGEST_H
#define PINHOLE_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* In the order a challenge offers them (RFC 8760 §2.4: strongest first). */
enum digest_alg {
    DIGEST_SHA512_256 = 0,
    DIGEST_SHA256,
    DIGEST_MD5,
    DIGEST_ALG_COUNT,
};

/* Longest hex digest (SHA-256 and SHA-512-256: 64 digits) and its NUL. */
#define DIGEST_HEX_MAX 65
#define DIGEST_HMAC_LEN 32 /* HMAC-SHA-256 */

/* "SHA-512-256", "SHA-256", "MD5". */
const char *digest_alg_name(enum digest_alg a);
/* The algorithm of a name (case-insensitive; NULL or "" is MD5, RFC 7616
 * §3.3). Returns 0 or -EINVAL for anything else ("MD5-sess" included:
 * qop=auth only). */
int digest_alg_from_name(const char *name, enum digest_alg *out);
/* Hex digits of a digest of a: 32 for MD5, 64 for the others. */
size_t digest_hex_len(enum digest_alg a);

/* H(user ":" realm ":" password) in lowercase hex into out (at least
 * DIGEST_HEX_MAX bytes). Returns 0 or -ENOMEM. */
int digest_ha1(enum digest_alg a, const char *user, const char *realm, const char *password,
               char *out);

/* What a qop=auth response is computed from (RFC 7616 §3.4.1). */
struct digest_input {
    const char *ha1; /* hex, as digest_ha1 makes it */
    const char *nonce;
    const char *nc; /* 8 hex digits, as sent */
    const char *cnonce;
    const char *qop; /* "auth" */
    const char *method;
    const char *uri; /* the digest-uri as sent */
};

/* H(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" H(method ":" uri)) in hex
 * into out (DIGEST_HEX_MAX). Returns 0 or -ENOMEM. */
int digest_response(enum digest_alg a, const struct digest_input *in, char *out);

/* Compares two hex strings in time that depends on their length only. */
bool digest_equal(const char *a, const char *b);

/* The n bytes of b as 2n lowercase hex digits and a NUL in out. */
void digest_hex(const uint8_t *b, size_t n, char *out);
/* The value of the n (1..16) hex digits at s, either case. 0, or -EINVAL
 * for anything but a hex digit among them. */
int digest_hex_value(const char *s, size_t n, uint64_t *out);

/* HMAC-SHA-256 of data under key into out[DIGEST_HMAC_LEN]. 0 or -ENOMEM. */
int digest_hmac(const void *key, size_t key_len, const void *data, size_t len, uint8_t *out);

#endif

/* nonce: stateless digest nonces (issue #14). A nonce is
 *
 *   16 hex: its birth (wall-clock seconds)  16 hex: random
 *   32 hex: the first 16 bytes of HMAC-SHA-256(secret, birth random realm)
 *
 * so any proxyd holding the same auth.secret accepts it and nothing is
 * stored per challenge; forging one needs the secret. Replays of a nonce
 * are refused by the nc table of the auth module, not here. */
#ifndef PROXYD_NONCE_H
#define PROXYD_NONCE_H

#include <stddef.h>
#include <stdint.h>

#define NONCE_LEN 64
/* A nonce born this far in the future is forged, not clock skew. */
#define NONCE_SKEW_S 30

/* secret is len bytes; realm and out (NONCE_LEN + 1) are the caller's.
 * Returns 0 or -errno. */
int nonce_make(const void *secret, size_t len, const char *realm, uint64_t now_s, char *out);
/* 0: made with this secret and realm, at most lifetime_s old; -ESTALE: made
 * so but older (a new challenge with stale=true); -EINVAL: not ours. */
int nonce_check(const void *secret, size_t len, const char *realm, const char *nonce,
                uint64_t now_s, uint64_t lifetime_s);

#endif

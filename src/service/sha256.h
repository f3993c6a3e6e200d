/* sha256.h - SHA-256 (FIPS 180-4), HMAC-SHA256 (RFC 2104) and
 * PBKDF2-HMAC-SHA256 (RFC 8018), for the technician code's salted hash.
 *
 * Ours because the kiosk links no crypto library (only SDL2, pcsc-lite,
 * cJSON, inih), and a code hash is all it needs. Speed matters only in that
 * PBKDF2's cost is tuned by iterations (tcode.h), so the code stays plain.
 *
 * Secrets: the HMAC key and the PBKDF2 password pass through the contexts,
 * the padded key blocks and each compression's message schedule; all of them
 * are wiped once used (the *_final functions wipe their context), so nothing
 * derived from a key is left on the stack or in a context after a call.
 * No function allocates; none keeps a pointer to its arguments.
 */
#ifndef SERVICE_SHA256_H
#define SERVICE_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHA256_BLOCK_LEN 64
#define SHA256_DIGEST_LEN 32

typedef struct sha256_ctx {
    uint32_t h[8];                        /* chaining state */
    uint64_t total;                       /* bytes hashed so far */
    unsigned char buf[SHA256_BLOCK_LEN];  /* a partial block */
    size_t used;                          /* bytes in buf */
} sha256_ctx;

void sha256_init(sha256_ctx *c);

/* Hashes `n` bytes at `data` (NULL only with n == 0); keeps no pointer. */
void sha256_update(sha256_ctx *c, const void *data, size_t n);

/* Writes the digest and wipes the context (init it again to reuse it). */
void sha256_final(sha256_ctx *c, unsigned char out[SHA256_DIGEST_LEN]);

/* One-shot digest of `n` bytes at `data`. */
void sha256(const void *data, size_t n, unsigned char out[SHA256_DIGEST_LEN]);

typedef struct hmac_sha256_ctx {
    sha256_ctx inner;  /* has absorbed key ^ ipad */
    sha256_ctx outer;  /* has absorbed key ^ opad */
} hmac_sha256_ctx;

/* Starts a MAC under `key` (`keylen` bytes, any length; NULL only with 0).
 * The context then holds key-derived state: finish it with
 * hmac_sha256_final, or wipe it (secure_wipe) if it is abandoned. */
void hmac_sha256_init(hmac_sha256_ctx *c, const void *key, size_t keylen);

void hmac_sha256_update(hmac_sha256_ctx *c, const void *data, size_t n);

/* Writes the MAC and wipes the context. */
void hmac_sha256_final(hmac_sha256_ctx *c, unsigned char out[SHA256_DIGEST_LEN]);

/* One-shot MAC. */
void hmac_sha256(const void *key, size_t keylen, const void *data, size_t n,
                 unsigned char out[SHA256_DIGEST_LEN]);

/* PBKDF2 with HMAC-SHA256 as the PRF: `dklen` bytes into `out`.
 * False (and `out` untouched) when iterations is 0, dklen is 0 or above
 * (2^32 - 1) * 32, or a pointer is NULL with a non-zero length. */
bool pbkdf2_hmac_sha256(const void *password, size_t password_len,
                        const void *salt, size_t salt_len, uint32_t iterations,
                        unsigned char *out, size_t dklen);

#endif

#include "service/sha256.h"

#include <string.h>

#include "util/secure.h"

#define HMAC_IPAD 0x36u
#define HMAC_OPAD 0x5cu

/* FIPS 180-4 section 4.2.2: the first 32 bits of the fractional parts of the
 * cube roots of the first 64 primes. */
static const uint32_t k256[64] = {
    0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u, 0x3956c25bu, 0x59f111f1u, 0x923f82a4u, 0xab1c5ed5u,
    0xd807aa98u, 0x12835b01u, 0x243185beu, 0x550c7dc3u, 0x72be5d74u, 0x80deb1feu, 0x9bdc06a7u, 0xc19bf174u,
    0xe49b69c1u, 0xefbe4786u, 0x0fc19dc6u, 0x240ca1ccu, 0x2de92c6fu, 0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau,
    0x983e5152u, 0xa831c66du, 0xb00327c8u, 0xbf597fc7u, 0xc6e00bf3u, 0xd5a79147u, 0x06ca6351u, 0x14292967u,
    0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu, 0x53380d13u, 0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u,
    0xa2bfe8a1u, 0xa81a664bu, 0xc24b8b70u, 0xc76c51a3u, 0xd192e819u, 0xd6990624u, 0xf40e3585u, 0x106aa070u,
    0x19a4c116u, 0x1e376c08u, 0x2748774cu, 0x34b0bcb5u, 0x391c0cb3u, 0x4ed8aa4au, 0x5b9cca4fu, 0x682e6ff3u,
    0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u, 0x90befffau, 0xa4506cebu, 0xbef9a3f7u, 0xc67178f2u,
};

/* Section 5.3.3: the initial hash value. */
static const uint32_t h256_init[8] = {
    0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u, 0xa54ff53au,
    0x510e527fu, 0x9b05688cu, 0x1f83d9abu, 0x5be0cd19u,
};

static inline uint32_t rotr(uint32_t x, unsigned n)
{
    return (x >> n) | (x << (32u - n));
}

static inline uint32_t load_be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static inline void store_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* Section 6.2.2. The schedule `w` is a copy of the block (often a padded
 * key), so it is wiped before returning. */
static void compress(uint32_t h[8], const unsigned char block[SHA256_BLOCK_LEN])
{
    uint32_t w[64];
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3];
    uint32_t e = h[4], f = h[5], g = h[6], hh = h[7];

    for (unsigned i = 0; i < 16; i++)
        w[i] = load_be32(block + 4 * i);
    for (unsigned i = 16; i < 64; i++) {
        uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    for (unsigned i = 0; i < 64; i++) {
        uint32_t t1 = hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + k256[i] + w[i];
        uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        hh = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d;
    h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
    secure_wipe(w, sizeof w);
}

void sha256_init(sha256_ctx *c)
{
    memcpy(c->h, h256_init, sizeof c->h);
    c->total = 0;
    c->used = 0;
    memset(c->buf, 0, sizeof c->buf);
}

void sha256_update(sha256_ctx *c, const void *data, size_t n)
{
    const unsigned char *p = data;

    if (n == 0)
        return;
    c->total += n;
    if (c->used > 0) {
        size_t take = SHA256_BLOCK_LEN - c->used;
        if (take > n)
            take = n;
        memcpy(c->buf + c->used, p, take);
        c->used += take;
        p += take;
        n -= take;
        if (c->used < SHA256_BLOCK_LEN)
            return;
        compress(c->h, c->buf);
        c->used = 0;
    }
    for (; n >= SHA256_BLOCK_LEN; p += SHA256_BLOCK_LEN, n -= SHA256_BLOCK_LEN)
        compress(c->h, p);
    if (n > 0) {
        memcpy(c->buf, p, n);
        c->used = n;
    }
}

/* Section 5.1.1: a 1 bit, zeros up to 56 mod 64, the length in bits. */
void sha256_final(sha256_ctx *c, unsigned char out[SHA256_DIGEST_LEN])
{
    uint64_t bits = c->total * 8u;

    c->buf[c->used++] = 0x80;
    if (c->used > SHA256_BLOCK_LEN - 8) {
        memset(c->buf + c->used, 0, SHA256_BLOCK_LEN - c->used);
        compress(c->h, c->buf);
        c->used = 0;
    }
    memset(c->buf + c->used, 0, SHA256_BLOCK_LEN - 8 - c->used);
    store_be32(c->buf + 56, (uint32_t)(bits >> 32));
    store_be32(c->buf + 60, (uint32_t)bits);
    compress(c->h, c->buf);
    for (unsigned i = 0; i < 8; i++)
        store_be32(out + 4 * i, c->h[i]);
    secure_wipe(c, sizeof *c);
}

void sha256(const void *data, size_t n, unsigned char out[SHA256_DIGEST_LEN])
{
    sha256_ctx c;

    sha256_init(&c);
    sha256_update(&c, data, n);
    sha256_final(&c, out);
}

void hmac_sha256_init(hmac_sha256_ctx *c, const void *key, size_t keylen)
{
    unsigned char k[SHA256_BLOCK_LEN] = { 0 };
    unsigned char pad[SHA256_BLOCK_LEN];

    /* RFC 2104 section 2: a key longer than a block is hashed first. */
    if (keylen > SHA256_BLOCK_LEN)
        sha256(key, keylen, k);
    else if (keylen > 0)
        memcpy(k, key, keylen);

    for (size_t i = 0; i < sizeof pad; i++)
        pad[i] = (unsigned char)(k[i] ^ HMAC_IPAD);
    sha256_init(&c->inner);
    sha256_update(&c->inner, pad, sizeof pad);
    for (size_t i = 0; i < sizeof pad; i++)
        pad[i] = (unsigned char)(k[i] ^ HMAC_OPAD);
    sha256_init(&c->outer);
    sha256_update(&c->outer, pad, sizeof pad);

    secure_wipe(k, sizeof k);
    secure_wipe(pad, sizeof pad);
}

void hmac_sha256_update(hmac_sha256_ctx *c, const void *data, size_t n)
{
    sha256_update(&c->inner, data, n);
}

void hmac_sha256_final(hmac_sha256_ctx *c, unsigned char out[SHA256_DIGEST_LEN])
{
    unsigned char inner[SHA256_DIGEST_LEN];

    sha256_final(&c->inner, inner);
    sha256_update(&c->outer, inner, sizeof inner);
    sha256_final(&c->outer, out);
    secure_wipe(inner, sizeof inner);
}

void hmac_sha256(const void *key, size_t keylen, const void *data, size_t n,
                 unsigned char out[SHA256_DIGEST_LEN])
{
    hmac_sha256_ctx c;

    hmac_sha256_init(&c, key, keylen);
    hmac_sha256_update(&c, data, n);
    hmac_sha256_final(&c, out);
}

/* RFC 8018 section 5.2. The keyed state is set up once and copied for each
 * PRF call, which halves the work per iteration without changing the
 * result: two compressions per iteration instead of four. */
bool pbkdf2_hmac_sha256(const void *password, size_t password_len,
                        const void *salt, size_t salt_len, uint32_t iterations,
                        unsigned char *out, size_t dklen)
{
    hmac_sha256_ctx keyed, c;
    unsigned char u[SHA256_DIGEST_LEN], t[SHA256_DIGEST_LEN], index[4];

    if (iterations == 0 || out == NULL || dklen == 0 ||
        (uint64_t)dklen > (uint64_t)UINT32_MAX * SHA256_DIGEST_LEN ||
        (password == NULL && password_len > 0) || (salt == NULL && salt_len > 0))
        return false; /* nothing taken yet */

    hmac_sha256_init(&keyed, password, password_len);
    for (size_t done = 0, block = 1; done < dklen; block++) {
        size_t n = dklen - done < SHA256_DIGEST_LEN ? dklen - done : SHA256_DIGEST_LEN;

        c = keyed;
        hmac_sha256_update(&c, salt, salt_len);
        store_be32(index, (uint32_t)block);
        hmac_sha256_update(&c, index, sizeof index);
        hmac_sha256_final(&c, u);
        memcpy(t, u, sizeof t);
        for (uint32_t j = 1; j < iterations; j++) {
            c = keyed;
            hmac_sha256_update(&c, u, sizeof u);
            hmac_sha256_final(&c, u);
            for (size_t i = 0; i < sizeof t; i++)
                t[i] ^= u[i];
        }
        memcpy(out + done, t, n);
        done += n;
    }

    secure_wipe(&keyed, sizeof keyed);
    secure_wipe(&c, sizeof c);
    secure_wipe(u, sizeof u);
    secure_wipe(t, sizeof t);
    return true;
}

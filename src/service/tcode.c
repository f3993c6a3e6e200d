#include "service/tcode.h"

#include <stdio.h>
#include <string.h>

#include "service/sha256.h"
#include "util/secure.h"
#include "util/text.h"

/* Enough digits to read any value past TCODE_ITER_MAX and refuse it as
 * such; few enough that a uint32_t cannot overflow. */
#define ITER_DIGITS_MAX 8
_Static_assert(TCODE_ITER_MAX < 100000000u, "TCODE_ITER_MAX fits ITER_DIGITS_MAX digits");

static const struct {
    tcode_status status;
    const char *text;
} status_texts[] = {
    { TCODE_OK, "ok" },
    { TCODE_BAD_CODE, "a technician code is 4 to 16 digits 0-9" },
    /* Keep in step with TCODE_ITER_MIN and TCODE_ITER_MAX (test_tcode.c
     * checks the figures). */
    { TCODE_BAD_ITERATIONS, "iterations must be from 1000 to 250000" },
    { TCODE_NO_ROOM, "the output buffer is too small for a code hash" },
    { TCODE_NO_RANDOM, "no random bytes for the salt (getrandom failed)" },
};

const char *tcode_strerror(tcode_status s)
{
    for (size_t i = 0; i < sizeof status_texts / sizeof status_texts[0]; i++)
        if (status_texts[i].status == s)
            return status_texts[i].text;
    return "unknown technician code status";
}

bool tcode_code_valid(const char *code)
{
    size_t n;

    if (code == NULL)
        return false;
    n = strnlen(code, TCODE_CODE_MAX + 1);
    if (n < TCODE_CODE_MIN || n > TCODE_CODE_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (code[i] < '0' || code[i] > '9')
            return false;
    return true;
}

/* The two hex fields after the iterations, in order. Each is checked for
 * length and alphabet only by position and count, so no message ever needs
 * to quote the text. */
typedef struct hex_field {
    const char *name;
    size_t min_bytes, max_bytes;
    bool last;              /* ends the value (else ends at a '$') */
} hex_field;

static const hex_field hex_fields[] = {
    { "salt", TCODE_SALT_MIN, TCODE_SALT_MAX, false },
    { "hash", TCODE_HASH_LEN, TCODE_HASH_LEN, true },
};

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Decodes the field at *p into `dst` (room for f->max_bytes) and moves *p
 * past it and its '$'. */
static bool parse_hex_field(const hex_field *f, const char **p, unsigned char *dst,
                            size_t *len, char *err, size_t errlen)
{
    const char *s = *p;
    size_t n = strcspn(s, "$");

    if (f->last && s[n] == '$') {
        text_errf(err, errlen, "code_hash has more than four '$'-separated fields");
        return false;
    }
    if (!f->last && s[n] != '$') {
        text_errf(err, errlen, "code_hash ends after the %s: expected "
                  "pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>", f->name);
        return false;
    }
    if (n % 2 != 0 || n < 2 * f->min_bytes || n > 2 * f->max_bytes) {
        if (f->min_bytes == f->max_bytes)
            text_errf(err, errlen, "code_hash %s must be exactly %zu hex characters, not %zu",
                      f->name, 2 * f->min_bytes, n);
        else
            text_errf(err, errlen, "code_hash %s must be an even number of hex characters "
                      "from %zu to %zu, not %zu", f->name, 2 * f->min_bytes, 2 * f->max_bytes, n);
        return false;
    }
    for (size_t i = 0; i < n; i += 2) {
        int hi = hex_value(s[i]), lo = hex_value(s[i + 1]);
        if (hi < 0 || lo < 0) {
            text_errf(err, errlen, "code_hash %s has a character that is not a lower-case "
                      "hex digit (0-9, a-f) at position %zu", f->name, i + (hi < 0 ? 1 : 2));
            return false;
        }
        dst[i / 2] = (unsigned char)(hi << 4 | lo);
    }
    *len = n / 2;
    *p = s + n + (f->last ? 0 : 1);
    return true;
}

/* Strict decimal: 1..8 digits, no sign, no leading zero, no spaces. */
static bool parse_iterations(const char **p, uint32_t *out, char *err, size_t errlen)
{
    const char *s = *p;
    size_t n = strspn(s, "0123456789");
    uint32_t v = 0;

    if (n == 0 || n > ITER_DIGITS_MAX || s[n] != '$' || s[0] == '0')
        goto bad;
    for (size_t i = 0; i < n; i++)
        v = v * 10u + (uint32_t)(s[i] - '0');
    if (v < TCODE_ITER_MIN || v > TCODE_ITER_MAX)
        goto bad;
    *out = v;
    *p = s + n + 1;
    return true;
bad:
    text_errf(err, errlen, "code_hash iterations must be a decimal number from %u to %u, "
              "followed by '$'", TCODE_ITER_MIN, TCODE_ITER_MAX);
    return false;
}

bool tcode_parse(const char *text, tcode *out, char *err, size_t errlen)
{
    tcode t = { 0 };
    const char *p = text;
    size_t got[2] = { 0, 0 };
    unsigned char *dst[2] = { t.salt, t.hash };

    if (text == NULL || text[0] == '\0') {
        text_errf(err, errlen, "no code_hash is set (make one with kiosk-code-hash)");
        return false;
    }
    if (strnlen(text, TCODE_TEXT_MAX) >= TCODE_TEXT_MAX) {
        text_errf(err, errlen, "code_hash is longer than %zu characters", TCODE_TEXT_MAX - 1);
        return false;
    }
    if (strncmp(text, TCODE_PREFIX, sizeof TCODE_PREFIX - 1) != 0) {
        text_errf(err, errlen, "code_hash must start with \"%s\" (make one with kiosk-code-hash)",
                  TCODE_PREFIX);
        return false;
    }
    p += sizeof TCODE_PREFIX - 1;
    if (!parse_iterations(&p, &t.iterations, err, errlen))
        return false;
    for (size_t i = 0; i < sizeof hex_fields / sizeof hex_fields[0]; i++)
        if (!parse_hex_field(&hex_fields[i], &p, dst[i], &got[i], err, errlen))
            return false;
    t.salt_len = got[0];
    *out = t;
    return true;
}

/* True when `t` is something tcode_parse could have produced, so a caller's
 * hand-made or zeroed struct cannot make a check cheap or out of bounds. */
static bool tcode_sane(const tcode *t)
{
    return t->iterations >= TCODE_ITER_MIN && t->iterations <= TCODE_ITER_MAX &&
           t->salt_len >= TCODE_SALT_MIN && t->salt_len <= TCODE_SALT_MAX;
}

bool tcode_check(const tcode *t, const char *code)
{
    unsigned char dk[TCODE_HASH_LEN];
    volatile unsigned char diff = 0;
    bool match = false;

    if (t == NULL || !tcode_sane(t) || !tcode_code_valid(code))
        return false; /* nothing taken yet */
    if (!pbkdf2_hmac_sha256(code, strlen(code), t->salt, t->salt_len, t->iterations,
                            dk, sizeof dk))
        goto out;
    /* Every byte is looked at whatever the first difference, so the time
     * taken says nothing about how close a guess came. */
    for (size_t i = 0; i < sizeof dk; i++)
        diff |= (unsigned char)(dk[i] ^ t->hash[i]);
    match = (diff == 0);
out:
    secure_wipe(dk, sizeof dk);
    return match;
}

static void hex_encode(const unsigned char *b, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 0x0f];
    }
    out[2 * n] = '\0';
}

tcode_status tcode_make(const char *code, unsigned iterations, char *out, size_t cap)
{
    unsigned char salt[TCODE_SALT_MAKE], dk[TCODE_HASH_LEN];
    char salt_hex[2 * TCODE_SALT_MAKE + 1], dk_hex[2 * TCODE_HASH_LEN + 1];
    tcode_status st = TCODE_OK;

    if (out != NULL && cap > 0)
        out[0] = '\0';
    if (!tcode_code_valid(code)) {
        st = TCODE_BAD_CODE;
        goto out;
    }
    if (iterations < TCODE_ITER_MIN || iterations > TCODE_ITER_MAX) {
        st = TCODE_BAD_ITERATIONS;
        goto out;
    }
    if (out == NULL || cap < TCODE_TEXT_MAX) {
        st = TCODE_NO_ROOM;
        goto out;
    }
    if (!secure_random(salt, sizeof salt)) {
        st = TCODE_NO_RANDOM;
        goto out;
    }
    if (!pbkdf2_hmac_sha256(code, strlen(code), salt, sizeof salt, iterations, dk, sizeof dk)) {
        st = TCODE_BAD_CODE; /* unreachable with the checks above */
        goto out;
    }
    hex_encode(salt, sizeof salt, salt_hex);
    hex_encode(dk, sizeof dk, dk_hex);
    snprintf(out, cap, "%s%u$%s$%s", TCODE_PREFIX, iterations, salt_hex, dk_hex);
out:
    /* The salt is public once printed; the key is wiped like any value a
     * code went into, so no copy outlives the one in `out`. */
    secure_wipe(dk, sizeof dk);
    secure_wipe(dk_hex, sizeof dk_hex);
    return st;
}

/* tcode.h - the technician code that opens the service screen.
 *
 * kiosk.conf holds a salted, slow hash of the code, never the code:
 *
 *   code_hash = pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>
 *
 * PBKDF2-HMAC-SHA256 over the code's ASCII digits, the salt as given, a
 * 32-byte key. A code is 4 to 16 digits, so the search space is small; what
 * protects a copied kiosk.conf is the cost of each guess, hence iterations
 * tuned to make one check cost 50-100 ms on the terminal: too slow for an
 * offline search of the long codes, quick enough for a technician's tap;
 * and bounded (TCODE_ITER_MAX) so that no config can make a check cost
 * seconds.
 * No cost saves a short code, though: all 10^4 four-digit codes take about
 * 11 minutes on one core with this code at the default (less with
 * faster SHA-256 code or hardware), so 8 or more digits are advised
 * (10^8 checks: about 75 core-days). Online guessing is the service
 * screen's to limit.
 *
 * Codes and derived keys are wiped on every path; error messages never
 * repeat the configured value (salt or hash), so a log line cannot help a
 * search either.
 */
#ifndef SERVICE_TCODE_H
#define SERVICE_TCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TCODE_CODE_MIN 4        /* digits */
#define TCODE_CODE_MAX 16
/* The floor only stops a value that costs nothing to search (tests use
 * it to run quickly); kiosk-code-hash makes TCODE_ITER_DEFAULT. */
#define TCODE_ITER_MIN 1000u
/* The ceiling exists because the kiosk checks a code while the technician
 * waits, and a check on its main thread holds the screen (and the 10 s
 * watchdog): 10,000,000 was accepted once and a check took 4.6-5.3 s.
 * Measured on the development machine (AMD EPYC, one core, gcc -O2 as in
 * the debugoptimized build the kiosk ships with), median of 11 checks,
 * machine idle: 1000: 0.5 ms; 100000: 52 ms; 150000: 78 ms; 250000:
 * 130 ms; 300000: 158 ms; 500000: 260 ms; 1000000: 530 ms (0.52 us per
 * iteration). With two compilers running beside it, 250000 took up to
 * ~200 ms. So 250000 keeps a check at or under ~250 ms here even when busy,
 * and a terminal CPU four times slower still answers in about half a
 * second. kiosk-code-hash prints the figure for the machine it runs on. */
#define TCODE_ITER_MAX 250000u
/* 78 ms a check here, as measured above. */
#define TCODE_ITER_DEFAULT 150000u
#define TCODE_SALT_MIN 8        /* bytes: 16 hex characters */
#define TCODE_SALT_MAX 32       /* bytes: 64 hex characters */
#define TCODE_SALT_MAKE 16      /* what tcode_make draws */
#define TCODE_HASH_LEN 32       /* bytes: 64 hex characters */
#define TCODE_PREFIX "pbkdf2-sha256$"
/* The longest value, with its NUL: prefix, 8 digits, '$', 64, '$', 64.
 * Room for more digits than TCODE_ITER_MAX has, so that a value past the
 * bound is refused for its iterations, not for its length. */
#define TCODE_TEXT_MAX (sizeof TCODE_PREFIX - 1 + 8 + 1 + 2 * TCODE_SALT_MAX + 1 + 2 * TCODE_HASH_LEN + 1)

/* A parsed code_hash value. Not secret in itself (it is in kiosk.conf), but
 * it is what a guess is checked against. */
typedef struct tcode {
    uint32_t iterations;
    size_t salt_len;                        /* TCODE_SALT_MIN..TCODE_SALT_MAX */
    unsigned char salt[TCODE_SALT_MAX];
    unsigned char hash[TCODE_HASH_LEN];
} tcode;

typedef enum tcode_status {
    TCODE_OK,
    TCODE_BAD_CODE,        /* not 4..16 ASCII digits */
    TCODE_BAD_ITERATIONS,  /* outside TCODE_ITER_MIN..TCODE_ITER_MAX */
    TCODE_NO_ROOM,         /* output buffer smaller than TCODE_TEXT_MAX */
    TCODE_NO_RANDOM,       /* the kernel gave no random bytes for the salt */
} tcode_status;

/* A sentence for each status; never NULL, even for values not listed. */
const char *tcode_strerror(tcode_status s);

/* True when `code` (may be NULL) is 4..16 ASCII digits and nothing else.
 * Reads at most TCODE_CODE_MAX + 1 characters. */
bool tcode_code_valid(const char *code);

/* Parses a code_hash value (NUL-terminated). Strict: the exact prefix,
 * iterations in decimal without sign or leading zero in
 * TCODE_ITER_MIN..TCODE_ITER_MAX, an even number (16..64) of lower-case hex
 * characters of salt, exactly 64 of hash, nothing else. On success fills
 * *out and returns true; otherwise *out is untouched, false is returned and
 * `err` (errlen bytes; may be NULL) says what is wrong without repeating
 * the value. Keeps no pointer to `text`. */
bool tcode_parse(const char *text, tcode *out, char *err, size_t errlen);

/* True when `code` is the technician code `t` was made from. False for a
 * NULL argument, a code that is not 4..16 digits, or a `t` that
 * tcode_parse would not have produced. The derived key is compared in
 * constant time and wiped; `code` stays the caller's to wipe. Takes one
 * full derivation (t->iterations) whenever the code is well-formed. */
bool tcode_check(const tcode *t, const char *code);

/* Writes a fresh code_hash value for `code` into `out` (`cap` bytes, at
 * least TCODE_TEXT_MAX), with a random TCODE_SALT_MAKE-byte salt. On any
 * status but TCODE_OK, `out` is the empty string when cap > 0. `code` is
 * the caller's to wipe. */
tcode_status tcode_make(const char *code, unsigned iterations, char *out, size_t cap);

#endif

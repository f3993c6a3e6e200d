/* secure.h - wiping secrets and drawing randomness.
 *
 * All randomness comes from getrandom(2): keypad shuffles and event ids must
 * not be predictable from the outside.
 */
#ifndef UTIL_SECURE_H
#define UTIL_SECURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Wipes `n` bytes at `p` in a way the compiler may not remove. */
void secure_wipe(void *p, size_t n);

/* Fills `buf` with `n` random bytes; false if the kernel would not give them. */
bool secure_random(void *buf, size_t n);

/* A uniformly random integer in [0, bound), bound > 0, without modulo bias. */
bool secure_random_below(uint32_t bound, uint32_t *out);

#define SECURE_UUID_LEN 37 /* 36 characters and the NUL */

/* A version 4 UUID in lower-case canonical form. */
bool secure_uuid4(char out[SECURE_UUID_LEN]);

#endif

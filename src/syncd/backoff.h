/* backoff.h - when to try the bureau again (bureau-api.md section 2).
 *
 * Capped exponential backoff with full jitter: the n-th retry (attempt 0 is
 * the first retry) waits a uniformly random time in [0, min(cap, base*2^n)].
 * Thousands of terminals come back together after an outage; the jitter
 * spreads them over the whole window instead of in synchronised waves.
 * A server's Retry-After is honoured but clamped, so a broken or hostile
 * server can neither make us hammer it (0) nor silence us for a year.
 *
 * Pure: no I/O, no clock, no global state. The random source is passed in so
 * the tests (and the fleet benchmark) are deterministic.
 */
#ifndef SYNCD_BACKOFF_H
#define SYNCD_BACKOFF_H

#include <stdbool.h>
#include <stdint.h>

/* A uniformly random integer in [0, bound) (bound > 0) into *out; false if
 * no randomness could be had. `ctx` is the source's own state. */
typedef bool (*backoff_rand_fn)(void *ctx, uint32_t bound, uint32_t *out);

typedef struct backoff_policy {
    uint32_t base_ms;        /* window of attempt 0 */
    uint32_t cap_ms;         /* the window never grows beyond this */
    uint32_t retry_min_s;    /* Retry-After below this is raised to it */
    uint32_t retry_max_s;    /* Retry-After above this is lowered to it */
} backoff_policy;

/* 1 s base, 5 min cap, Retry-After in [1 s, 1 h]. */
#define BACKOFF_POLICY_DEFAULT { 1000u, 300000u, 1u, 3600u }

/* No Retry-After header (what delivery reports when there is none). */
#define BACKOFF_NO_RETRY_AFTER (-1L)

/* The upper end of attempt `attempt`'s window: min(cap, base * 2^attempt),
 * without overflow for any attempt. */
uint32_t backoff_window_ms(const backoff_policy *p, unsigned attempt);

/* The delay before retry number `attempt`: random in [0, window]. If the
 * random source fails, the whole window (the most cautious choice). */
uint32_t backoff_delay_ms(const backoff_policy *p, unsigned attempt,
                          backoff_rand_fn rnd, void *ctx);

/* `retry_after_s` (seconds as the server sent them; negative = none)
 * clamped to [retry_min_s, retry_max_s], in ms. */
uint32_t backoff_retry_after_ms(const backoff_policy *p, long retry_after_s);

/* What to wait after a failure: the clamped Retry-After when the server sent
 * one, else the jittered delay. */
uint32_t backoff_next_ms(const backoff_policy *p, unsigned attempt, long retry_after_s,
                         backoff_rand_fn rnd, void *ctx);

/* The slow schedule (certificate or pin mismatch: retrying quickly cannot fix
 * it): random in [cap/2, cap], so it stays slow yet fleets still spread. */
uint32_t backoff_slow_ms(const backoff_policy *p, backoff_rand_fn rnd, void *ctx);

/* A backoff_rand_fn over util/secure.h (getrandom); `ctx` is unused. */
bool backoff_rand_secure(void *ctx, uint32_t bound, uint32_t *out);

#endif

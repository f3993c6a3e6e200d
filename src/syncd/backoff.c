/* backoff.c - see backoff.h. */
#include "syncd/backoff.h"

#include "util/secure.h"

uint32_t backoff_window_ms(const backoff_policy *p, unsigned attempt)
{
    uint64_t w = p->cap_ms;
    /* base * 2^attempt is only computed while it cannot pass the cap, so a
     * shift never reaches 64 bits and nothing wraps at attempt 1000. */
    if (attempt < 32) {
        uint64_t grown = (uint64_t)p->base_ms << attempt;
        if (grown < w)
            w = grown;
    }
    return (uint32_t)w;
}

uint32_t backoff_delay_ms(const backoff_policy *p, unsigned attempt,
                          backoff_rand_fn rnd, void *ctx)
{
    uint32_t window = backoff_window_ms(p, attempt);
    uint32_t r = window;
    /* Inclusive range [0, window]; window + 1 would wrap at UINT32_MAX. */
    if (window < UINT32_MAX && rnd(ctx, window + 1u, &r)) {
        if (r > window)
            r = window; /* a broken source must not stretch the wait */
    } else if (window < UINT32_MAX) {
        r = window;
    }
    return r;
}

uint32_t backoff_retry_after_ms(const backoff_policy *p, long retry_after_s)
{
    uint64_t s = retry_after_s < 0 ? 0 : (uint64_t)retry_after_s;
    if (s < p->retry_min_s)
        s = p->retry_min_s;
    if (s > p->retry_max_s)
        s = p->retry_max_s;
    s *= 1000u;
    return s > UINT32_MAX ? UINT32_MAX : (uint32_t)s;
}

uint32_t backoff_next_ms(const backoff_policy *p, unsigned attempt, long retry_after_s,
                         backoff_rand_fn rnd, void *ctx)
{
    return retry_after_s >= 0 ? backoff_retry_after_ms(p, retry_after_s)
                              : backoff_delay_ms(p, attempt, rnd, ctx);
}

uint32_t backoff_slow_ms(const backoff_policy *p, backoff_rand_fn rnd, void *ctx)
{
    uint32_t half = p->cap_ms / 2u;
    uint32_t span = p->cap_ms - half; /* the upper half, inclusive */
    uint32_t r = span;
    if (!rnd(ctx, span + 1u, &r) || r > span)
        r = span;
    return half + r;
}

bool backoff_rand_secure(void *ctx, uint32_t bound, uint32_t *out)
{
    (void)ctx;
    return secure_random_below(bound, out);
}

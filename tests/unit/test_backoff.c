/* test_backoff.c - the retry schedule, with scripted random sources. */
#include "t.h"

#include "syncd/backoff.h"

#include <stdint.h>

/* Always the top of the range: shows the window itself. */
static bool rnd_max(void *ctx, uint32_t bound, uint32_t *out)
{
    (void)ctx;
    *out = bound - 1u;
    return true;
}

static bool rnd_zero(void *ctx, uint32_t bound, uint32_t *out)
{
    (void)ctx; (void)bound;
    *out = 0;
    return true;
}

static bool rnd_fail(void *ctx, uint32_t bound, uint32_t *out)
{
    (void)ctx; (void)bound; (void)out;
    return false;
}

/* Returns out-of-range garbage: must be clamped, never trusted. */
static bool rnd_liar(void *ctx, uint32_t bound, uint32_t *out)
{
    (void)ctx; (void)bound;
    *out = UINT32_MAX;
    return true;
}

/* Records the bound it was asked for and answers *ctx. */
typedef struct { uint32_t answer, last_bound; } scripted;
static bool rnd_scripted(void *ctx, uint32_t bound, uint32_t *out)
{
    scripted *s = ctx;
    s->last_bound = bound;
    *out = s->answer < bound ? s->answer : bound - 1u;
    return true;
}

static const backoff_policy pol = BACKOFF_POLICY_DEFAULT; /* 1 s, 5 min, [1 s, 1 h] */

T_TEST(window_grows_then_caps)
{
    static const struct { unsigned attempt; uint32_t want; } rows[] = {
        { 0, 1000 }, { 1, 2000 }, { 2, 4000 }, { 5, 32000 }, { 8, 256000 },
        { 9, 300000 }, { 10, 300000 }, { 31, 300000 }, { 32, 300000 },
        { 63, 300000 }, { 64, 300000 }, { 1000, 300000 }, { UINT32_MAX, 300000 },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        T_EQ_INT(backoff_window_ms(&pol, rows[i].attempt), rows[i].want);
}

T_TEST(no_overflow_with_huge_base)
{
    backoff_policy p = { UINT32_MAX, UINT32_MAX, 1, 3600 };
    T_EQ_INT(backoff_window_ms(&p, 0), UINT32_MAX);
    T_EQ_INT(backoff_window_ms(&p, 31), UINT32_MAX);
    T_EQ_INT(backoff_window_ms(&p, 1000), UINT32_MAX);
    /* A window of UINT32_MAX cannot be asked as bound+1: it waits the window. */
    T_EQ_INT(backoff_delay_ms(&p, 1000, rnd_zero, NULL), UINT32_MAX);
}

T_TEST(delay_is_full_jitter_inclusive)
{
    scripted s = { 1234, 0 };
    T_EQ_INT(backoff_delay_ms(&pol, 3, rnd_scripted, &s), 1234);
    T_EQ_INT(s.last_bound, 8001); /* [0, 8000] inclusive */
    T_EQ_INT(backoff_delay_ms(&pol, 3, rnd_zero, NULL), 0);
    T_EQ_INT(backoff_delay_ms(&pol, 3, rnd_max, NULL), 8000);
    T_EQ_INT(backoff_delay_ms(&pol, 1000, rnd_max, NULL), 300000);
    T_EQ_INT(backoff_delay_ms(&pol, 1000, rnd_scripted, &s), 1234);
    T_EQ_INT(s.last_bound, 300001);
}

T_TEST(bad_random_source_is_cautious)
{
    T_EQ_INT(backoff_delay_ms(&pol, 2, rnd_fail, NULL), 4000);
    T_EQ_INT(backoff_delay_ms(&pol, 2, rnd_liar, NULL), 4000);
    T_EQ_INT(backoff_slow_ms(&pol, rnd_fail, NULL), 300000);
    T_EQ_INT(backoff_slow_ms(&pol, rnd_liar, NULL), 300000);
}

T_TEST(retry_after_clamped)
{
    static const struct { long in; uint32_t want_ms; } rows[] = {
        { -1, 1000 }, { 0, 1000 }, { 1, 1000 }, { 7, 7000 }, { 3600, 3600000 },
        { 3601, 3600000 }, { 86400L * 365, 3600000 }, { 2147483647L, 3600000 },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        T_EQ_INT(backoff_retry_after_ms(&pol, rows[i].in), rows[i].want_ms);
}

T_TEST(next_prefers_retry_after)
{
    T_EQ_INT(backoff_next_ms(&pol, 0, 30, rnd_max, NULL), 30000);
    T_EQ_INT(backoff_next_ms(&pol, 20, 0, rnd_max, NULL), 1000);
    T_EQ_INT(backoff_next_ms(&pol, 2, BACKOFF_NO_RETRY_AFTER, rnd_max, NULL), 4000);
    T_EQ_INT(backoff_next_ms(&pol, 2, BACKOFF_NO_RETRY_AFTER, rnd_zero, NULL), 0);
}

T_TEST(slow_schedule_upper_half)
{
    T_EQ_INT(backoff_slow_ms(&pol, rnd_zero, NULL), 150000);
    T_EQ_INT(backoff_slow_ms(&pol, rnd_max, NULL), 300000);
}

T_TEST(secure_source_stays_in_window)
{
    for (unsigned a = 0; a < 40; a++) {
        uint32_t d = backoff_delay_ms(&pol, a, backoff_rand_secure, NULL);
        T_CHECK(d <= backoff_window_ms(&pol, a));
    }
}

T_MAIN(T_CASE(window_grows_then_caps), T_CASE(no_overflow_with_huge_base),
       T_CASE(delay_is_full_jitter_inclusive), T_CASE(bad_random_source_is_cautious),
       T_CASE(retry_after_clamped), T_CASE(next_prefers_retry_after),
       T_CASE(slow_schedule_upper_half), T_CASE(secure_source_stays_in_window))

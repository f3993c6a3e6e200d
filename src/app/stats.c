#include "app/stats.h"

#include "util/secmem.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

void app_stats_init(app_stats *s, uint64_t now_ms)
{
    struct timespec ts;

    memset(s, 0, sizeof *s);
    clock_gettime(CLOCK_MONOTONIC, &ts);
    s->start_ms = now_ms;
    s->start_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void app_stats_frame(app_stats *s, uint64_t t0_ns, uint64_t t1_ns)
{
    uint64_t us = (t1_ns - t0_ns) / 1000u;
    s->frame_us[s->n_frames++ % STATS_RING] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

void app_stats_tap(app_stats *s, uint64_t latency_ns)
{
    uint64_t us = latency_ns / 1000u;
    s->tap_us[s->n_taps++ % STATS_RING] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

void app_stats_tap_begin(app_stats *s, uint64_t t_ns)
{
    s->tap_t0_ns = t_ns;
}

void app_stats_tap_released(app_stats *s)
{
    if (s->tap_t0_ns)
        s->tap_shown_pending = true;
}

void app_stats_tap_presented(app_stats *s, uint64_t t_ns)
{
    if (s->tap_shown_pending) {
        app_stats_tap(s, t_ns - s->tap_t0_ns);
        s->tap_shown_pending = false;
    }
}

void app_stats_tap_settled(app_stats *s)
{
    if (!s->tap_shown_pending)
        s->tap_t0_ns = 0;
}

void app_stats_first_frame(app_stats *s, uint64_t t_ns)
{
    if (s->first_frame_ns == 0)
        s->first_frame_ns = t_ns;
}

double app_stats_startup_ms(const app_stats *s)
{
    return s->first_frame_ns ? (double)(s->first_frame_ns - s->start_ns) / 1e6 : 0.0;
}

double app_stats_last_frame_ms(const app_stats *s)
{
    return s->n_frames ? s->frame_us[(s->n_frames - 1) % STATS_RING] / 1000.0 : 0.0;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* The p-th percentile (nearest rank) of the last samples, in ms. */
static double percentile(const uint32_t *ring, uint64_t n, double p)
{
    static uint32_t tmp[STATS_RING];
    size_t k = n < STATS_RING ? (size_t)n : STATS_RING;
    size_t idx;

    if (k == 0)
        return 0.0;
    memcpy(tmp, ring, k * sizeof tmp[0]);
    qsort(tmp, k, sizeof tmp[0], cmp_u32);
    idx = (size_t)(p / 100.0 * (double)k + 0.999999);
    idx = idx == 0 ? 0 : idx - 1;
    return tmp[idx < k ? idx : k - 1] / 1000.0;
}

cJSON *app_stats_json(const app_stats *s, uint64_t frames)
{
    cJSON *o = cJSON_CreateObject();
    struct rusage ru;

    cJSON_AddNumberToObject(o, "frames", (double)frames);
    cJSON_AddNumberToObject(o, "start_mono_ns", (double)s->start_ns);
    cJSON_AddNumberToObject(o, "first_frame_mono_ns", (double)s->first_frame_ns);
    cJSON_AddNumberToObject(o, "startup_ms", app_stats_startup_ms(s));
    cJSON_AddNumberToObject(o, "frame_samples", (double)(s->n_frames < STATS_RING ? s->n_frames : STATS_RING));
    cJSON_AddNumberToObject(o, "frame_ms_p50", percentile(s->frame_us, s->n_frames, 50));
    cJSON_AddNumberToObject(o, "frame_ms_p99", percentile(s->frame_us, s->n_frames, 99));
    cJSON_AddNumberToObject(o, "frame_ms_max", percentile(s->frame_us, s->n_frames, 100));
    cJSON_AddNumberToObject(o, "tap_samples", (double)(s->n_taps < STATS_RING ? s->n_taps : STATS_RING));
    cJSON_AddNumberToObject(o, "tap_ms_p50", percentile(s->tap_us, s->n_taps, 50));
    cJSON_AddNumberToObject(o, "tap_ms_p99", percentile(s->tap_us, s->n_taps, 99));
    {
        /* The last frames, oldest first: a script can read what happened
         * during a window it chose (a slow card reply, say). */
        cJSON *recent = cJSON_AddArrayToObject(o, "frame_ms_recent");
        uint64_t n = s->n_frames < 64 ? s->n_frames : 64;
        for (uint64_t i = s->n_frames - n; i < s->n_frames; i++)
            cJSON_AddItemToArray(recent, cJSON_CreateNumber(s->frame_us[i % STATS_RING] / 1000.0));
    }
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        cJSON_AddNumberToObject(o, "peak_rss_kb", (double)ru.ru_maxrss);
    {
        /* How the PINs are kept, for the tests and a technician's check. */
        secmem_info si;
        cJSON *sec = cJSON_AddObjectToObject(o, "secrets");
        secmem_status(&si);
        cJSON_AddNumberToObject(sec, "arena_bytes", (double)si.size);
        cJSON_AddNumberToObject(sec, "arena_used", (double)si.used);
        cJSON_AddBoolToObject(sec, "locked", si.locked);
        cJSON_AddBoolToObject(sec, "dontdump", si.dontdump);
        cJSON_AddBoolToObject(sec, "stack_locked", si.stack_locked);
        secmem_stack_use st[4];
        int n = secmem_stacks(st, 4);
        cJSON *stacks = cJSON_AddArrayToObject(sec, "stacks");
        for (int i = 0; i < n; i++) {
            cJSON *one = cJSON_CreateObject();
            cJSON_AddNumberToObject(one, "bytes", (double)st[i].size);
            cJSON_AddNumberToObject(one, "used", (double)st[i].used);
            cJSON_AddItemToArray(stacks, one);
        }
        cJSON_AddNumberToObject(sec, "dumpable", si.dumpable);
    }
    return o;
}

/* stats.h - the figures the benchmarks read through the control socket:
 * start-up time, frame times, tap-to-present latency and peak memory.
 * Kept in fixed rings so measuring costs nothing on the hot path. */
#ifndef APP_STATS_H
#define APP_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#define STATS_RING 4096

typedef struct {
    uint64_t start_ms;
    uint64_t start_ns;
    uint64_t first_frame_ns;   /* CLOCK_MONOTONIC, comparable across processes */
    uint32_t frame_us[STATS_RING];
    uint64_t n_frames;
    uint32_t tap_us[STATS_RING];
    uint64_t n_taps;
    uint64_t tap_t0_ns;        /* a scripted tap being timed, 0 none */
    bool tap_shown_pending;    /* its finger is up: the next present shows it */
} app_stats;

void app_stats_init(app_stats *s, uint64_t now_ms);
void app_stats_frame(app_stats *s, uint64_t t0_ns, uint64_t t1_ns);
void app_stats_tap(app_stats *s, uint64_t latency_ns);
void app_stats_first_frame(app_stats *s, uint64_t t_ns);
/* Tap to present, for scripted taps: timed from the control request
 * (begin), the finger coming up (released), to the present of the frame
 * that shows it; settled once the request is answered, so that a tap that
 * changed nothing on screen is not timed against a later frame. */
void app_stats_tap_begin(app_stats *s, uint64_t t_ns);
void app_stats_tap_released(app_stats *s);
void app_stats_tap_presented(app_stats *s, uint64_t t_ns);
void app_stats_tap_settled(app_stats *s);
double app_stats_startup_ms(const app_stats *s);
double app_stats_last_frame_ms(const app_stats *s);
/* A new object with every figure; the caller owns it. */
cJSON *app_stats_json(const app_stats *s, uint64_t frames);

#endif

/* app_int.h - what the rooms of the kiosk process share; private to src/app.
 *
 * Everything here runs on the main thread. Worker threads (card, sync
 * client, PC/SC monitor, control server) reach it only as messages in
 * post.c's mailbox; the core sees one ordered stream of events, and its
 * effects go out from one place, effects.c.
 *
 *   app.c      start-up and wiring: the threads, the assets, the core; shutdown
 *   loop.c     the main loop: its wait (events and every room's deadline),
 *              dispatch, the countdown's second, the watchdog
 *   post.c     worker threads -> the mailbox the loop takes (never refused)
 *   effects.c  answers in (card, bureau, reader) -> core events; the core's
 *              effects carried out (card, bureau, outbox, keypad, service);
 *              every change of state logged and announced as it happens
 *   records.c  records the disk refused, retried; the storage probe
 *   input.c    fingers, mouse and keys -> core events; the service gesture
 *   control.c  control-socket requests -> synthetic input, waits and replies
 *   display.c  window, renderer, frames, the overlay, screens prepared
 *              ahead, screenshots
 *   stats.c    the figures the benchmarks read
 *   audio.c    the voice: prompts, the key click, tones (SDL audio, after
 *              the first frame, on threads of its own)
 *
 * Each room owns its own state in an opaque struct (defined in its .c);
 * this struct holds only what more than one room needs.
 */
#ifndef APP_APP_INT_H
#define APP_APP_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <SDL.h>

#include "app/app.h"
#include "app/stats.h"
#include "card/pcsc.h"
#include "card/sim.h"
#include "card/worker.h"
#include "config/config.h"
#include "control/ctl_server.h"
#include "core/core.h"
#include "outbox/outbox.h"
#include "sync/sync_client.h"
#include "ui/view.h"

typedef struct app_display app_display;
typedef struct app_input app_input;
typedef struct app_control app_control;
typedef struct app_records app_records;
typedef struct app_fx app_fx;
typedef struct app_audio app_audio;
typedef struct post_box post_box;

typedef struct app {
    kiosk_config cfg;
    app_options opt;
    Uint32 ev_base;         /* SDL user event type of post.h's UEV_ codes */
    post_box *box;          /* the workers' messages to the main loop (post.h) */
    core *core;             /* in the secrets arena (util/secmem.h): it holds PINs */
    core core_fallback;     /* only if there is no arena (secmem_init failed) */
    bool dirty;             /* the screen needs a new frame */
    bool quit;

    /* The threads and stores, started and stopped by app.c. */
    sim_reader *sim;        /* one of sim and pcsc */
    pcsc_reader *pcsc;
    card_worker *worker;
    sync_client *sync;
    outbox *ob;
    ctl_server *ctl;        /* NULL: no control socket */

    /* Figures more than one room shows (the overlay, the service screen,
     * the control socket). */
    app_stats stats;
    ui_service_info svc;    /* the service screen's figures */
    uint16_t last_sw;       /* of the card's last answer */
    char last_profile[16];  /* of the last card read */
    int ob_depth;           /* counted when records change, not per frame */

    /* The rooms. */
    app_display *disp;
    app_input *in;
    app_control *ctl_room;
    app_records *rec;
    app_fx *fx;
    app_audio *audio;       /* NULL: out of memory at start, silent */
} app;

static inline uint64_t app_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t app_now_ms(void)
{
    return app_now_ns() / 1000000u;
}

/* The earlier of two deadlines, 0 meaning none. */
static inline uint64_t app_earlier(uint64_t a, uint64_t b)
{
    return a == 0 ? b : b == 0 ? a : a < b ? a : b;
}

#endif

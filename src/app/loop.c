/* loop.c - the main loop, its wait and dispatch, the watchdog (loop.h). */
#include "app/loop.h"

#include <stdint.h>

#include <SDL.h>

#include "app/control.h"
#include "app/display.h"
#include "app/effects.h"
#include "app/input.h"
#include "app/post.h"
#include "app/records.h"
#include "util/log.h"
#include "util/notify.h"

typedef struct {
    int shown_seconds;
    uint64_t wd_every_ms;    /* WATCHDOG=1 this often (half systemd's period); 0 none */
    uint64_t wd_next_ms;
} loop_state;

/* ---- after a turn's events ---------------------------------------------------- */

/* State changes are announced as they happen (fx_note_state); here what
 * moves with time alone: the countdown's second, the waits' deadlines. */
static void loop_after_events(app *a, loop_state *l)
{
    int secs = core_warning_seconds_left(a->core);

    if (secs != l->shown_seconds) {
        l->shown_seconds = secs;
        a->dirty = true;
    }
    if (a->ctl)
        control_check_waits(a);
}

/* ---- dispatch ------------------------------------------------------------- */

/* Everything the workers posted so far, in the order they posted it. */
static void loop_take_mail(app *a)
{
    post_msg *m = post_take(a);

    while (m) {
        post_msg *next = m->next;
        if (m->kind == POST_CONTROL)
            control_request(a, m->u.ctl.client, m->u.ctl.req);
        else
            fx_worker_event(a, m);
        post_msg_free(m);
        m = next;
    }
}

static void loop_user_event(app *a, const SDL_UserEvent *e)
{
    if (e->code == UEV_CONTROL_DONE)
        control_done(a, e);
    else if (e->code == UEV_WAKE)
        loop_take_mail(a);
}

static void loop_event(app *a, const SDL_Event *e)
{
    if (e->type == a->ev_base) {
        loop_user_event(a, &e->user);
        return;
    }
    switch (e->type) {
    case SDL_QUIT:
        a->quit = true;
        break;
    case SDL_FINGERDOWN:
    case SDL_FINGERUP:
    case SDL_MOUSEBUTTONDOWN:
    case SDL_MOUSEBUTTONUP:
    case SDL_KEYDOWN:
        input_event(a, e);
        break;
    case SDL_WINDOWEVENT:
        if (e->window.event == SDL_WINDOWEVENT_SIZE_CHANGED || e->window.event == SDL_WINDOWEVENT_EXPOSED)
            display_exposed(a);
        break;
    default:
        break;
    }
}

/* ---- the wait --------------------------------------------------------------- */

static int loop_wait_ms(app *a, const loop_state *l)
{
    uint64_t t = app_now_ms(), next = core_next_deadline(a->core);
    int64_t ms;

    next = app_earlier(next, control_deadline(a));
    if (a->core->notice == NT_TIMEOUT_WARNING && a->core->warning_end_ms > t) {
        /* Wake at the next whole second of the countdown to redraw it. */
        next = app_earlier(next, t + (a->core->warning_end_ms - t) % 1000 + 1);
    }
    next = app_earlier(next, records_deadline(a));
    next = app_earlier(next, l->wd_next_ms);
    next = app_earlier(next, input_deadline(a));
    next = app_earlier(next, fx_deadline(a));
    next = app_earlier(next, display_deadline(a));
    if (next == 0)
        return 60000; /* nothing due: sleep until an event arrives */
    ms = (int64_t)next - (int64_t)t;
    return ms < 0 ? 0 : ms > 60000 ? 60000 : (int)ms;
}

/* ---- systemd ------------------------------------------------------------------ */

/* Pinged from the bottom of the main loop only (its wait wakes for it): a
 * loop stuck anywhere - a frame, a handler, a lock - stops the pings and
 * systemd restarts us. A thread of its own would ping through a hang. */
static void loop_watchdog(loop_state *l)
{
    uint64_t t = app_now_ms();
    if (l->wd_every_ms && t >= l->wd_next_ms) {
        notify_send("WATCHDOG=1");
        l->wd_next_ms = t + l->wd_every_ms;
    }
}

/* systemd: READY=1 once the first frame is up, and the watchdog's period. */
static void loop_notify_ready(loop_state *l)
{
    if (notify_init()) {
        notify_send("READY=1");
        l->wd_every_ms = notify_watchdog_ms() / 2;
        l->wd_next_ms = l->wd_every_ms ? app_now_ms() : 0;
        log_info("app", "told systemd we are ready%s", l->wd_every_ms ? "; watchdog on" : "");
    }
    loop_watchdog(l);
}

void loop_run(app *a)
{
    loop_state l = { 0 };

    fx_note_state(a);
    loop_after_events(a, &l);
    display_present(a);
    app_stats_first_frame(&a->stats, app_now_ns());
    log_info("app", "first frame after %.1f ms", app_stats_startup_ms(&a->stats));
    /* The storage probe writes and fsyncs (a millisecond or more on a slow
     * card): after the first frame, but before the first event is taken,
     * so no card, tap or script request can meet a kiosk that has not yet
     * looked. A full disk turns the screen out of service at once, as it
     * did from the first frame. READY=1 waits for it. */
    records_probe(a);
    if (a->dirty) {
        loop_after_events(a, &l);
        display_present(a);
    }
    loop_notify_ready(&l);
    while (!a->quit) {
        SDL_Event e;
        bool prefetching = display_prefetching(a->disp);
        if (SDL_WaitEventTimeout(&e, prefetching ? 0 : loop_wait_ms(a, &l))) {
            loop_event(a, &e);
            while (!a->quit && SDL_PollEvent(&e))
                loop_event(a, &e);
        } else if (prefetching) {
            display_prefetch(a); /* one text, then look for events again */
        }
        /* Also without a wake-up: SDL may have had no room for one. */
        loop_take_mail(a);
        fx_simple(a, EV_TICK);
        records_due(a);
        control_due(a);
        fx_due(a);
        input_due(a);
        display_due(a);
        loop_after_events(a, &l);
        if (a->dirty)
            display_present(a);
        loop_watchdog(&l);
    }
    notify_send("STOPPING=1");
}

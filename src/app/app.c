#include "app/app.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <time.h>

#include <SDL.h>
#include <SDL_image.h>
#include <SDL_ttf.h>
#include <cjson/cJSON.h>

#include "app/stats.h"
#include "kiosk_build.h"
#include "card/card.h"
#include "card/pcsc.h"
#include "card/profile.h"
#include "card/sim.h"
#include "card/worker.h"
#include "control/ctl_proto.h"
#include "control/ctl_server.h"
#include "core/core.h"
#include "outbox/outbox.h"
#include "sync/sync_client.h"
#include "ui/render.h"
#include "ui/strings.h"
#include "ui/text.h"
#include "ui/view.h"
#include "util/log.h"
#include "util/notify.h"
#include "util/mask.h"
#include "service/tcode.h"
#include "util/secmem.h"
#include "util/secure.h"

/* User event codes, offsets from the base SDL_RegisterEvents gave us. */
/* Presence and service changes carry no payload: the code says it all. */
enum { UEV_CARD, UEV_CARD_IN, UEV_CARD_OUT, UEV_SERVICE_UP, UEV_SERVICE_DOWN, UEV_BUREAU,
       UEV_CONTROL, UEV_CONTROL_DONE, UEV_BUREAU_INFO, UEV__LAST };

/* The service gesture: a finger held this long on the title, top left, of
 * the idle or out-of-service screen. No citizen presses there that long. */
#define SERVICE_HOLD_MS 3000

/* Synthetic taps and keys are refused ("busy") above this many queued
 * events, so a flooding script cannot fill SDL's queue and make real events
 * (a card pulled, a card's answer) fail to post. */
#define QUEUE_BUSY 1024

#define MAX_WAITS 32
#define MAX_WAITS_PER_CLIENT 4
#define SYNTH_TOUCH_ID 0x4B494F53 /* "KIOS": taps from the control socket */

typedef struct {
    uint64_t client;
    char *id_json;
    core_state state;
    uint64_t deadline_ms;
} ctl_wait;

typedef struct {
    kiosk_config cfg;
    app_options opt;
    Uint32 ev_base;
    SDL_Window *win;
    SDL_Renderer *ren;
    ui_fonts *fonts;
    ui_renderer *ur;
    ui_view view;
    uint8_t keypad[10];
    core *core;             /* in the secrets arena (util/secmem.h): it holds PINs */
    core core_fallback;     /* only if there is no arena (secmem_init failed) */
    core_state shown_state;
    core_notice shown_notice;
    int shown_seconds;
    bool dirty;
    bool quit;
    int pressed;             /* widget under a finger, -1 none */
    char press_id[16];       /* widget a touch began on ("" none): by id, as the
                                screen may change between finger down and up */
    sim_reader *sim;
    pcsc_reader *pcsc;
    card_worker *worker;
    sync_client *sync;
    outbox *ob;
    ctl_server *ctl;
    ctl_wait waits[MAX_WAITS];
    int n_waits;
    uint64_t frames;
    app_stats stats;
    uint64_t tap_t0_ns;      /* a tap waiting for the frame that shows it */
    bool tap_shown_pending;
    uint16_t last_sw;
    int ob_depth;            /* for the overlay: counted when records change, not per frame */
    int pending_res;         /* a resolution the outbox could not write yet, or -1 */
    char pending_blocked[4][CORE_CARD_NUMBER_MAX]; /* pin_blocked records not written yet */
    int n_pending_blocked;
    uint64_t retry_at_ms;
    ui_service_info svc;    /* the service screen's figures, gathered on opening it */
    tcode tcode;            /* the technician code's salted hash, if configured */
    bool tcode_set;
    uint64_t gesture_at_ms; /* a finger is on the corner: the gesture fires then */
    uint64_t synth_up_at_ms;/* a control-socket long press lifts its finger then */
    int synth_up_x, synth_up_y;
    char last_profile[16];  /* of the last card read, for the service screen */
    uint64_t started_ms;
    uint64_t svc_refresh_at_ms;
    bool storage_down;      /* the outbox cannot take a record: no PIN changes */
    char storage_why[192];  /* why, for the log and the service screen */
    uint64_t probe_at_ms;   /* next look at the outbox's disk */
    uint64_t wd_every_ms;   /* WATCHDOG=1 this often (half systemd's period); 0 none */
    uint64_t wd_next_ms;
    char card_masked[MASK_CARD_MAX];
    bool overlay;
    int prefetch_step;       /* next screen to prepare in idle time; PREFETCH_DONE: none */
    int prefetch_tries;
    ui_view scratch;         /* a screen being prepared */
} app;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t now_ms(void)
{
    return now_ns() / 1000000u;
}

/* ---- posting from worker threads ------------------------------------------ */

typedef struct {
    uint64_t client;
    char *id_json;
} ctl_pending;

/* Frees what an event carries, wiping what may hold a PIN or personal data:
 * used when an event cannot be posted and when the queue is drained at exit. */
static void app_payload_free(int code, void *data1, void *data2)
{
    switch (code) {
    case UEV_CARD:
        secure_wipe(data1, sizeof(card_result));
        free(data1);
        break;
    case UEV_BUREAU:
        secure_wipe(data1, sizeof(sync_result));
        free(data1);
        break;
    case UEV_CONTROL:
        if (data1)
            ctl_request_clear(data1);
        free(data1);
        free(data2);
        break;
    case UEV_CONTROL_DONE:
        if (data1)
            free(((ctl_pending *)data1)->id_json);
        free(data1);
        break;
    case UEV_BUREAU_INFO:
        free(data1);
        break;
    default:
        break;
    }
}

static bool app_post(app *a, int code, void *data1, void *data2)
{
    static unsigned refused;
    SDL_Event e;

    memset(&e, 0, sizeof e);
    e.type = a->ev_base;
    e.user.code = code;
    e.user.data1 = data1;
    e.user.data2 = data2;
    if (SDL_PushEvent(&e) == 1)
        return true;
    /* Said once per thousand, so that a flood does not become a log flood. */
    if (refused++ % 1000 == 0)
        log_err("app", "event queue refused an event (%s); dropped", SDL_GetError());
    app_payload_free(code, data1, data2);
    return false;
}

static void app_on_card_result(void *ud, const card_result *r)
{
    card_result *copy = malloc(sizeof *copy);
    if (copy) {
        *copy = *r;
        app_post(ud, UEV_CARD, copy, NULL);
    }
}

static void app_on_presence(void *ud, bool present)
{
    app_post(ud, present ? UEV_CARD_IN : UEV_CARD_OUT, NULL, NULL);
}

/* The PC/SC monitor's news, as payload-free events in the one queue. */
static void app_on_pcsc(void *ud, pcsc_event ev)
{
    static const int codes[] = {
        [PCSC_READY] = UEV_SERVICE_UP, [PCSC_UNAVAILABLE] = UEV_SERVICE_DOWN,
        [PCSC_CARD_IN] = UEV_CARD_IN, [PCSC_CARD_OUT] = UEV_CARD_OUT,
    };
    app_post(ud, codes[ev], NULL, NULL);
}

static void app_on_sync(void *ud, const sync_result *r)
{
    sync_result *copy = malloc(sizeof *copy);
    if (copy) {
        *copy = *r;
        app_post(ud, UEV_BUREAU, copy, NULL);
    }
}

static void app_on_bureau_info(void *ud, const sync_bureau_info *info)
{
    sync_bureau_info *copy = malloc(sizeof *copy);
    if (copy) {
        *copy = *info;
        app_post(ud, UEV_BUREAU_INFO, copy, NULL);
    }
}

static void app_on_control(void *ud, uint64_t client, ctl_request *req)
{
    uint64_t *cl = malloc(sizeof *cl);
    if (cl == NULL) {
        ctl_request_clear(req);
        free(req);
        return;
    }
    *cl = client;
    app_post(ud, UEV_CONTROL, req, cl);
}

/* ---- the core's effects ------------------------------------------------------ */

static void app_feed(app *a, core_event *ev);

static const core_card_answer app_card_answers[CARD_RES__LAST] = {
    [CARD_RES_OK] = CA_OK, [CARD_RES_WRONG_PIN] = CA_WRONG_PIN, [CARD_RES_BLOCKED] = CA_BLOCKED,
    [CARD_RES_LOCKED] = CA_LOCKED, [CARD_RES_REMOVED] = CA_REMOVED,
    [CARD_RES_UNREADABLE] = CA_UNREADABLE, [CARD_RES_EXPIRED] = CA_EXPIRED,
    [CARD_RES_REFUSED] = CA_REFUSED, [CARD_RES_GARBAGE] = CA_GARBAGE, [CARD_RES_IO] = CA_IO,
};

static const core_bureau_status app_bureau[SYNC_ST__LAST] = {
    [SYNC_ST_ACTIVE] = BS_ACTIVE, [SYNC_ST_LOST] = BS_LOST, [SYNC_ST_FROZEN] = BS_FROZEN,
    [SYNC_ST_CANCELLED] = BS_CANCELLED, [SYNC_ST_UNKNOWN] = BS_UNKNOWN,
    [SYNC_ST_UNREACHABLE] = BS_UNREACHABLE,
};

static const outbox_resolution app_resolutions[] = {
    [RES_CHANGED] = OUTBOX_RESOLVE_CHANGED, [RES_UNKNOWN] = OUTBOX_RESOLVE_UNKNOWN,
    [RES_DISCARD] = OUTBOX_RESOLVE_DISCARD,
};

static void app_shuffle(app *a)
{
    /* Fisher-Yates from getrandom: someone watching over a shoulder learns
     * nothing from where a finger lands. */
    for (int i = 9; i > 0; i--) {
        uint32_t j;
        uint8_t t;
        if (!secure_random_below((uint32_t)i + 1, &j)) {
            log_err("app", "no randomness for the keypad; keeping the last order");
            return;
        }
        t = a->keypad[i];
        a->keypad[i] = a->keypad[j];
        a->keypad[j] = t;
    }
}

static void app_keep_blocked(app *a, const char *card)
{
    if (a->n_pending_blocked < (int)(sizeof a->pending_blocked / sizeof a->pending_blocked[0])) {
        log_err("app", "could not record a blocked card; retrying");
        snprintf(a->pending_blocked[a->n_pending_blocked++], CORE_CARD_NUMBER_MAX, "%s", card);
        a->retry_at_ms = now_ms() + 5000;
    } else {
        log_err("app", "could not record a blocked card, and four more wait: this one is lost");
    }
}

/* Writes what the outbox refused before (a full or failing disk that has
 * recovered since). */
static void app_retry_records(app *a)
{
    time_t t = time(NULL);

    if (a->pending_res >= 0 && outbox_intent_resolve(a->ob, app_resolutions[a->pending_res], t)) {
        log_notice("app", "change record written on retry");
        a->pending_res = -1;
    }
    while (a->n_pending_blocked > 0 &&
           outbox_record(a->ob, a->pending_blocked[a->n_pending_blocked - 1], OUTBOX_PIN_BLOCKED, t)) {
        log_notice("app", "blocked-card record written on retry");
        explicit_bzero(a->pending_blocked[--a->n_pending_blocked], CORE_CARD_NUMBER_MAX);
    }
    a->retry_at_ms = a->pending_res >= 0 || a->n_pending_blocked > 0 ? now_ms() + 5000 : 0;
    a->ob_depth = outbox_depth(a->ob);
}

static void app_simple(app *a, core_event_type t);

/* Gathers the service screen's figures (the bureau's come from kiosk-sync,
 * asked separately). */
static void app_service_refresh(app *a)
{
    ui_service_info *si = &a->svc;
    ui_bureau_state bureau = si->bureau;
    char last_error[sizeof si->last_error];
    struct statvfs vs;

    memcpy(last_error, si->last_error, sizeof last_error);
    memset(si, 0, sizeof *si);
    si->bureau = bureau; /* until kiosk-sync answers again */
    memcpy(si->last_error, last_error, sizeof last_error);
    snprintf(si->version, sizeof si->version, "%s", KIOSK_VERSION);
    snprintf(si->terminal, sizeof si->terminal, "%s", a->cfg.terminal_id);
    if (a->pcsc) {
        pcsc_reader_current(a->pcsc, si->reader_used, sizeof si->reader_used);
        pcsc_reader_all(a->pcsc, si->readers, sizeof si->readers);
    } else {
        snprintf(si->reader_used, sizeof si->reader_used, "simulated card (development)");
        snprintf(si->readers, sizeof si->readers, "simulated card (development)");
    }
    snprintf(si->profile, sizeof si->profile, "%s", a->last_profile);
    si->outbox_depth = outbox_depth(a->ob);
    si->dead_letters = outbox_dead_count(a->ob);
    si->uptime_s = (long)((now_ms() - a->started_ms) / 1000);
    si->disk_free_kb = statvfs(a->cfg.outbox_dir, &vs) == 0
                     ? (long long)((uint64_t)vs.f_bavail * vs.f_frsize / 1024) : -1;
    snprintf(si->storage, sizeof si->storage, "%s", a->storage_down ? a->storage_why : "");
    a->dirty = true;
}

/* Looks at whether the outbox can take a record now (free space, and a
 * small write and fsync) and tells the core when that changes: a full or
 * failing disk stops new PIN changes instead of changing a PIN that could
 * not be recorded. Again every few seconds while it fails, every minute
 * while it works, and whenever a card comes or a write fails. */
static void app_probe_storage(app *a)
{
    char why[sizeof a->storage_why];
    bool ok = outbox_probe(a->ob, OUTBOX_MIN_FREE, why, sizeof why);

    if (ok && a->pending_res >= 0)
        app_retry_records(a);
    if (ok && a->pending_res >= 0) {
        ok = false;
        snprintf(why, sizeof why, "a change record could not be written yet");
    }
    if (!ok && !a->storage_down) {
        log_err("outbox", "cannot record: %s: PIN changes stopped until it can", why);
        snprintf(a->storage_why, sizeof a->storage_why, "%s", why);
        a->storage_down = true;
        app_simple(a, EV_STORAGE_DOWN);
    } else if (ok && a->storage_down) {
        log_notice("outbox", "records can be written again: PIN changes resume");
        a->storage_why[0] = '\0';
        a->storage_down = false;
        app_retry_records(a);
        app_simple(a, EV_STORAGE_UP);
    }
    a->probe_at_ms = now_ms() + (a->storage_down ? 5000u : 60000u);
}

static void app_not_queued(app *a, unsigned gen, core_card_op op, core_card_answer answer)
{
    core_event ev = { .type = EV_CARD_ANSWER, .gen = gen, .op = op, .answer = answer, .tries = -1 };

    log_err("app", "card worker queue full: the operation was not sent");
    app_feed(a, &ev);
}

/* Carries out effects in order; a record that could not be written stops
 * the rest (the card is never written without its record). */
static void app_effects(app *a, core_effects *fx)
{
    time_t t = time(NULL);
    bool failed = false, code_checked = false, code_ok = false;

    for (int i = 0; i < fx->n && !failed; i++) {
        core_fx *f = &fx->fx[i];
        switch (f->type) {
        /* A job that cannot be queued is answered at once as what it is, a
         * failure that reached nothing; the journey never waits out a timer
         * for it, and a change never queued is never "unknown". */
        case FX_CARD_READ:
            if (!card_worker_read(a->worker, f->gen))
                app_not_queued(a, f->gen, CO_READ, CA_IO);
            break;
        case FX_BUREAU_ASK:
            if (!sync_client_ask(a->sync, f->gen, f->card_number)) {
                core_event ev = { .type = EV_BUREAU_ANSWER, .gen = f->gen, .bureau = BS_UNREACHABLE };
                log_err("app", "bureau question not queued");
                app_feed(a, &ev);
            }
            break;
        case FX_CARD_VERIFY:
            if (!card_worker_verify(a->worker, f->gen, f->pin_a))
                app_not_queued(a, f->gen, CO_VERIFY, CA_IO);
            break;
        case FX_RECORD_INTENT:
            app_retry_records(a);
            failed = a->pending_res >= 0 || !outbox_intent_begin(a->ob, f->card_number, t);
            break;
        case FX_CARD_CHANGE:
            if (!card_worker_change(a->worker, f->gen, f->pin_a, f->pin_b))
                app_not_queued(a, f->gen, CO_CHANGE, CA_REFUSED);
            break;
        case FX_RESOLVE_INTENT:
            if (!outbox_intent_resolve(a->ob, app_resolutions[f->resolution], t)) {
                /* Kept and retried; until it is written no new change starts,
                 * and a restart turns the intent into pin_change_unknown. */
                log_err("app", "could not resolve the change record; retrying");
                a->pending_res = (int)f->resolution;
                a->retry_at_ms = now_ms() + 5000;
            }
            break;
        case FX_RECORD_BLOCKED:
            if (!outbox_record(a->ob, f->card_number, OUTBOX_PIN_BLOCKED, t))
                app_keep_blocked(a, f->card_number);
            break;
        case FX_SHUFFLE_KEYPAD:
            app_shuffle(a);
            break;
        case FX_CHECK_CODE:
            /* Never logged, wiped with the effects below. */
            code_ok = a->tcode_set && tcode_check(&a->tcode, f->pin_a);
            code_checked = true;
            break;
        case FX_SERVICE_OPEN:
            log_notice("service", "service screen opened");
            app_service_refresh(a);
            sync_client_ask_bureau(a->sync, app_on_bureau_info, a);
            break;
        case FX_REQUEUE_DEAD:
            /* The outbox logs how many moved, and what stayed. */
            if (outbox_requeue_dead(a->ob) < 0)
                log_err("service", "the dead letters could not be moved back");
            app_service_refresh(a);
            break;
        default:
            break;
        }
    }
    for (int i = 0; i < fx->n; i++)
        if (fx->fx[i].type == FX_RESOLVE_INTENT || fx->fx[i].type == FX_RECORD_BLOCKED)
            a->ob_depth = outbox_depth(a->ob);
    core_effects_wipe(fx);
    if (code_checked) {
        if (code_ok)
            log_notice("service", "technician code accepted");
        else
            log_warn("service", "wrong technician code");
        app_simple(a, code_ok ? EV_CODE_OK : EV_CODE_BAD);
    }
    if (failed) {
        core_event ev = { .type = EV_RECORD_FAILED };
        app_feed(a, &ev);
        app_probe_storage(a); /* and no new journey until it can */
    }
}

static void app_feed(app *a, core_event *ev)
{
    core_effects fx;
    const core *c = a->core;
    /* What the screen shows of the core: a frame is drawn only when it moves. */
    int before[6] = { c->state, c->notice, c->entry_len, c->lang, c->tries_left, (int)c->entry_gen };

    ev->now_ms = now_ms();
    core_handle(a->core, ev, &fx);
    app_effects(a, &fx);
    if (ev->type == EV_CARD_ANSWER || ev->type == EV_BUREAU_ANSWER)
        explicit_bzero(ev, sizeof *ev);
    if (before[0] != (int)c->state || before[1] != (int)c->notice || before[2] != c->entry_len ||
        before[3] != (int)c->lang || before[4] != c->tries_left || before[5] != (int)c->entry_gen)
        a->dirty = true;
}

static void app_simple(app *a, core_event_type t)
{
    core_event ev = { .type = t };
    app_feed(a, &ev);
}

/* ---- screen --------------------------------------------------------------------- */

static void app_build_view(app *a)
{
    int w, h;
    ui_view_input in;

    SDL_GetRendererOutputSize(a->ren, &w, &h);
    mask_card(a->core->card_number, a->card_masked);
    in = (ui_view_input){ w, h, a->keypad, a->core->card_number[0] ? a->card_masked : "", &a->svc };
    ui_view_build(&a->view, a->core, &in);
    a->pressed = a->press_id[0] ? ui_view_find(&a->view, a->press_id) : -1;
}

static void app_overlay_text(app *a, char *buf, size_t len)
{
    const char *n = core_notice_name(a->core->notice);
    char reader[PCSC_READER_NAME_MAX] = "";

    if (a->pcsc)
        pcsc_reader_current(a->pcsc, reader, sizeof reader);
    snprintf(buf, len, "%s%s%s  frame %.2f ms  card %s%s%s  SW %04X  outbox %d  %s",
             core_state_name(a->core->state), n ? " / " : "", n ? n : "",
             app_stats_last_frame_ms(&a->stats), a->cfg.card_backend == CFG_BACKEND_SIM ? "sim" : "pcsc",
             reader[0] ? " " : "", reader, a->last_sw, a->ob_depth,
             a->core->bureau_offline ? "bureau offline" : "");
}

static void app_draw(app *a)
{
    char overlay[256];

    app_build_view(a);
    if (a->overlay)
        app_overlay_text(a, overlay, sizeof overlay);
    ui_renderer_draw(a->ur, &a->view, a->pressed, a->overlay ? overlay : NULL);
}

static void app_present(app *a)
{
    uint64_t t0 = now_ns(), td, t1;

    app_draw(a);
    td = now_ns();
    SDL_RenderPresent(a->ren);
    t1 = now_ns();
    a->frames++;
    /* The first frame pays for first touches of the framebuffer and is
     * reported as the start-up figure; frame times start with the second. */
    if (a->frames > 1)
        app_stats_frame(&a->stats, t0, t1);
    if (t1 - t0 > 8000000u)
        log_debug("ui", "slow frame: %.1f ms on %s (draw %.1f, present %.1f, %d texts rendered)",
                  (double)(t1 - t0) / 1e6, core_state_name(a->core->state), (double)(td - t0) / 1e6,
                  (double)(t1 - td) / 1e6, ui_renderer_misses(a->ur));
    if (a->tap_shown_pending) {
        app_stats_tap(&a->stats, t1 - a->tap_t0_ns);
        a->tap_shown_pending = false;
    }
    a->dirty = false;
}

/* ---- screens prepared ahead ------------------------------------------------ */

/* What usually follows each screen. Prepared in idle moments (a person
 * takes hundreds of milliseconds to tap), so that the frame that shows it
 * only copies textures. */
static const core_state app_next_state[ST__LAST] = {
    [ST_IDLE] = ST_READING_CARD, [ST_READING_CARD] = ST_ENTER_OLD_PIN,
    [ST_CARD_REJECTED] = ST_IDLE, [ST_ENTER_OLD_PIN] = ST_VERIFYING,
    [ST_VERIFYING] = ST_ENTER_NEW_PIN, [ST_ENTER_NEW_PIN] = ST_CONFIRM_NEW_PIN,
    [ST_CONFIRM_NEW_PIN] = ST_CHANGING, [ST_CHANGING] = ST_SUCCESS, [ST_SUCCESS] = ST_IDLE,
    [ST_CARD_BLOCKED] = ST_IDLE, [ST_ERROR] = ST_IDLE, [ST_OUT_OF_SERVICE] = ST_IDLE,
    [ST_TAKE_CARD] = ST_IDLE,
};

/* The screens to prepare, in order: this one in the other language (one tap
 * away), then the next two steps in this language and the other. Two steps,
 * because some steps pass by themselves in milliseconds (READING_CARD). */
enum { PREFETCH_DONE = 5 };

static void app_prefetch(app *a)
{
    core c;
    int w, h;
    int step = a->prefetch_step;
    core_state s = a->core->state;
    ui_view_input in;

    if (step == 0 && a->prefetch_tries == 0)
        ui_renderer_prepare_begin(a->ur);
    for (int i = 0; i < (step + 1) / 2; i++)
        s = app_next_state[s];
    /* A display-only copy: card number, holder and counts, never a PIN. */
    memset(&c, 0, sizeof c);
    c.cfg = a->core->cfg;
    c.state = s;
    /* Most visitors still have the initial PIN (that is why they come), so
     * the new-PIN screen is prepared with the notice they will see. */
    c.notice = step == 0 ? a->core->notice : s == ST_ENTER_NEW_PIN ? NT_ON_INITIAL_PIN : NT_NONE;
    c.lang = step % 2 == 1 ? a->core->lang : (core_lang)((a->core->lang + 1) % LANG__LAST);
    c.card_present = a->core->card_present || a->core->state == ST_IDLE;
    c.tries_left = a->core->tries_left;
    memcpy(c.card_number, a->core->card_number, sizeof c.card_number);
    memcpy(c.holder, a->core->holder, sizeof c.holder);
    c.now_ms = a->core->now_ms;
    c.warning_end_ms = a->core->warning_end_ms;
    SDL_GetRendererOutputSize(a->ren, &w, &h);
    in = (ui_view_input){ w, h, a->keypad, c.card_number[0] ? a->card_masked : "", &a->svc };
    ui_view_build(&a->scratch, &c, &in);
    /* One text per idle turn; a step that cannot finish (the cache is full
     * of what is on screen) is given up after as many turns as it has texts,
     * so idle time never turns into a busy loop. */
    if (ui_renderer_prerender(a->ur, &a->scratch, 1) == 0 || ++a->prefetch_tries > a->scratch.n_texts) {
        a->prefetch_step++;
        a->prefetch_tries = 0;
    }
}

/* ---- taps and keys ---------------------------------------------------------------- */

static void app_widget_action(app *a, int idx)
{
    const ui_widget *w;
    core_event ev = { .type = EV__LAST };

    if (idx < 0 || idx >= a->view.n_widgets)
        return;
    w = &a->view.widgets[idx];
    switch (w->kind) {
    case W_KEY_DIGIT: ev.type = EV_DIGIT; ev.digit = w->digit; break;
    case W_KEY_BACK: ev.type = EV_DELETE; break;
    case W_KEY_OK: ev.type = EV_OK; break;
    case W_BTN_CANCEL: ev.type = EV_CANCEL; break;
    case W_BTN_LANG: ev.type = EV_LANG; break;
    case W_BTN_CONTINUE: ev.type = EV_CONTINUE; break;
    case W_BTN_REQUEUE: ev.type = EV_REQUEUE; break;
    case W_BTN_EXIT: ev.type = EV_CANCEL; break;
    default: break;
    }
    if (ev.type != EV__LAST)
        app_feed(a, &ev);
}

/* A finger (or the control socket's synthetic finger) goes down and up:
 * the action happens on release over the widget it went down on, as on any
 * touch screen, so a finger sliding off a key cancels the press. */
static void app_pointer(app *a, bool down, int x, int y)
{
    int hit = ui_view_hit(&a->view, x, y);
    const char *id = hit >= 0 ? a->view.widgets[hit].id : "";

    if (down) {
        snprintf(a->press_id, sizeof a->press_id, "%s", id);
        a->pressed = hit;
        /* The title, top left, of a screen with nothing for a citizen to do. */
        a->gesture_at_ms = (a->core->state == ST_IDLE || a->core->state == ST_OUT_OF_SERVICE) &&
                           hit < 0 && x < a->view.w / 4 && y < a->view.bar.h
                         ? now_ms() + SERVICE_HOLD_MS : 0;
    } else {
        a->gesture_at_ms = 0;
        if (hit >= 0 && strcmp(id, a->press_id) == 0)
            app_widget_action(a, hit);
        a->press_id[0] = '\0';
        a->pressed = -1;
        if (a->tap_t0_ns)
            a->tap_shown_pending = true;
    }
    a->dirty = true;
}

static void app_sim_insert_default(app *a)
{
    sim_card_params p;

    memset(&p, 0, sizeof p);
    snprintf(p.card_number, sizeof p.card_number, "A12345678");
    snprintf(p.pin, sizeof p.pin, "123456");
    p.tries = 6;
    p.profile = CARD_PROFILE_SSSE;
    if (!sim_reader_insert(a->sim, &p))
        log_info("app", "F1: a card is already in");
    secure_wipe(&p, sizeof p);
}

/* The technician's keys, as a table: key, what it sends the core (EV__LAST:
 * an action of the app's own). */
enum app_key_act { KEY_EVENT, KEY_OK_OR_CONTINUE, KEY_SIM_INSERT, KEY_SIM_REMOVE, KEY_OVERLAY };

static const struct { SDL_Keycode key; enum app_key_act act; core_event_type ev; } app_keys[] = {
    { SDLK_BACKSPACE, KEY_EVENT, EV_DELETE },
    { SDLK_RETURN, KEY_OK_OR_CONTINUE, EV__LAST },
    { SDLK_KP_ENTER, KEY_OK_OR_CONTINUE, EV__LAST },
    { SDLK_ESCAPE, KEY_EVENT, EV_CANCEL },
    { SDLK_F1, KEY_SIM_INSERT, EV__LAST },
    { SDLK_F2, KEY_SIM_REMOVE, EV__LAST },
    { SDLK_F3, KEY_EVENT, EV_LANG },
    { SDLK_F9, KEY_EVENT, EV_SERVICE_GESTURE },
    { SDLK_F12, KEY_OVERLAY, EV__LAST },
};

static void app_key(app *a, SDL_Keycode k)
{
    if ((k >= SDLK_0 && k <= SDLK_9) || (k >= SDLK_KP_1 && k <= SDLK_KP_0)) {
        core_event ev = { .type = EV_DIGIT };
        ev.digit = k <= SDLK_9 ? (int)(k - SDLK_0) : k == SDLK_KP_0 ? 0 : (int)(k - SDLK_KP_1) + 1;
        app_feed(a, &ev);
        return;
    }
    for (size_t i = 0; i < sizeof app_keys / sizeof app_keys[0]; i++) {
        if (app_keys[i].key != k)
            continue;
        switch (app_keys[i].act) {
        case KEY_EVENT:
            app_simple(a, app_keys[i].ev);
            break;
        case KEY_OK_OR_CONTINUE:
            app_simple(a, a->core->notice == NT_TIMEOUT_WARNING ? EV_CONTINUE : EV_OK);
            break;
        case KEY_SIM_INSERT:
            if (a->sim)
                app_sim_insert_default(a);
            break;
        case KEY_SIM_REMOVE:
            if (a->sim)
                sim_reader_remove(a->sim);
            break;
        case KEY_OVERLAY:
            if (a->opt.windowed) {
                a->overlay = !a->overlay;
                a->dirty = true;
            }
            break;
        }
    }
}

/* ---- the control socket ------------------------------------------------------------------ */

static void app_reply(app *a, uint64_t client, const char *id_json, cJSON *fields)
{
    char *line = ctl_reply_ok(id_json, fields);
    if (line) {
        ctl_server_send(a->ctl, client, line);
        free(line);
    }
}

static void app_reply_err(app *a, uint64_t client, const char *id_json, const char *code, const char *msg)
{
    char *line = ctl_reply_error(id_json, code, msg);
    if (line) {
        ctl_server_send(a->ctl, client, line);
        free(line);
    }
}

static cJSON *app_state_json(app *a)
{
    cJSON *o = cJSON_CreateObject();
    const char *n = core_notice_name(a->core->notice);

    cJSON_AddStringToObject(o, "state", core_state_name(a->core->state));
    cJSON_AddStringToObject(o, "lang", a->core->lang == LANG_ZH ? "zh" : "en");
    cJSON_AddNumberToObject(o, "pin_length", a->core->entry_len);
    if (a->core->tries_left >= 0)
        cJSON_AddNumberToObject(o, "tries_left", a->core->tries_left);
    if (n)
        cJSON_AddStringToObject(o, "notice", n);
    if (a->core->notice == NT_TIMEOUT_WARNING)
        cJSON_AddNumberToObject(o, "seconds_left", core_warning_seconds_left(a->core));
    cJSON_AddNumberToObject(o, "frames", (double)a->frames);
    cJSON_AddStringToObject(o, "card", a->core->card_present ? "present" : "absent");
    if (a->core->card_number[0]) {
        char masked[MASK_CARD_MAX];
        mask_card(a->core->card_number, masked);
        cJSON_AddStringToObject(o, "card_masked", masked);
    }
    cJSON_AddStringToObject(o, "version", KIOSK_VERSION);
    return o;
}

static cJSON *app_layout_json(app *a)
{
    cJSON *o = cJSON_CreateObject(), *arr;

    cJSON_AddNumberToObject(o, "width", a->view.w);
    cJSON_AddNumberToObject(o, "height", a->view.h);
    arr = cJSON_AddArrayToObject(o, "widgets");
    for (int i = 0; i < a->view.n_widgets; i++) {
        const ui_widget *w = &a->view.widgets[i];
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "id", w->id);
        cJSON_AddStringToObject(j, "label", w->label ? w->label : "");
        cJSON_AddNumberToObject(j, "x", w->r.x);
        cJSON_AddNumberToObject(j, "y", w->r.y);
        cJSON_AddNumberToObject(j, "w", w->r.w);
        cJSON_AddNumberToObject(j, "h", w->r.h);
        cJSON_AddBoolToObject(j, "enabled", w->enabled);
        cJSON_AddItemToArray(arr, j);
    }
    /* The words on screen, for scripts that check what a screen says (the
     * service screen's figures, say). Never a PIN: digits show as dots. */
    static const char *const roles[TXT__LAST] = {
        [TXT_BAR] = "bar", [TXT_HEADING] = "heading", [TXT_BODY] = "body", [TXT_NOTICE] = "notice",
        [TXT_INFO] = "info", [TXT_WARNING] = "warning", [TXT_KEY] = "key",
    };
    arr = cJSON_AddArrayToObject(o, "texts");
    for (int i = 0; i < a->view.n_texts; i++) {
        const ui_text *t = &a->view.texts[i];
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "role", t->role < TXT__LAST ? roles[t->role] : "?");
        cJSON_AddStringToObject(j, "text", t->text);
        cJSON_AddNumberToObject(j, "x", t->r.x);
        cJSON_AddNumberToObject(j, "y", t->r.y);
        cJSON_AddNumberToObject(j, "w", t->r.w);
        cJSON_AddNumberToObject(j, "h", t->r.h);
        cJSON_AddItemToArray(arr, j);
    }
    return o;
}

static void app_push_finger(app *a, Uint32 type, int x, int y)
{
    SDL_Event e;

    memset(&e, 0, sizeof e);
    e.type = type;
    e.tfinger.touchId = SYNTH_TOUCH_ID;
    e.tfinger.fingerId = 1;
    e.tfinger.x = a->view.w > 0 ? ((float)x + 0.5f) / (float)a->view.w : 0;
    e.tfinger.y = a->view.h > 0 ? ((float)y + 0.5f) / (float)a->view.h : 0;
    e.tfinger.pressure = 1.0f;
    SDL_PushEvent(&e);
}

static void app_push_tap(app *a, int x, int y)
{
    app_push_finger(a, SDL_FINGERDOWN, x, y);
    app_push_finger(a, SDL_FINGERUP, x, y);
}

static void app_push_key(SDL_Keycode k)
{
    SDL_Event e;

    memset(&e, 0, sizeof e);
    e.type = SDL_KEYDOWN;
    e.key.state = SDL_PRESSED;
    e.key.keysym.sym = k;
    e.key.keysym.scancode = SDL_GetScancodeFromKey(k);
    SDL_PushEvent(&e);
    e.type = SDL_KEYUP;
    e.key.state = SDL_RELEASED;
    SDL_PushEvent(&e);
}

/* The reply to a tap, type or key goes out once the synthetic events ahead
 * of this marker have been handled: SDL's queue is first in, first out. */
static void app_push_done(app *a, uint64_t client, ctl_request *req)
{
    ctl_pending *p = calloc(1, sizeof *p);
    if (p == NULL)
        return;
    p->client = client;
    p->id_json = req->id_json;
    req->id_json = NULL;
    app_post(a, UEV_CONTROL_DONE, p, NULL);
}

/* Opens a screenshot file for writing: a regular file, not through a
 * symlink, not blocking on a FIFO, and never in the outbox directory (a
 * script must not be able to overwrite a record or the sequence counter). */
static int app_screenshot_open(app *a, const char *path, char *err, size_t errlen)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    struct stat ds, os, fs;
    int fd = -1;

    snprintf(dir, sizeof dir, "%.*s", slash && slash != path ? (int)(slash - path) : 1, path);
    if (stat(dir, &ds) != 0) {
        snprintf(err, errlen, "no such directory: %s", strerror(errno));
        goto out;
    }
    if (stat(a->cfg.outbox_dir, &os) == 0 && os.st_dev == ds.st_dev && os.st_ino == ds.st_ino) {
        snprintf(err, errlen, "screenshots may not be written into the outbox");
        goto out;
    }
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open the file: %s", strerror(errno));
        goto out;
    }
    if (fstat(fd, &fs) != 0 || !S_ISREG(fs.st_mode)) {
        snprintf(err, errlen, "not a regular file");
        close(fd);
        fd = -1;
    }
out:
    return fd;
}

static bool app_screenshot(app *a, const char *path, int *w, int *h, char *err, size_t errlen)
{
    SDL_Surface *s = NULL;
    SDL_RWops *rw = NULL;
    FILE *fp = NULL;
    bool ok = false;
    int fd = app_screenshot_open(a, path, err, errlen);

    if (fd < 0)
        return false;
    fp = fdopen(fd, "wb");
    if (fp == NULL) {
        close(fd);
        snprintf(err, errlen, "cannot open the file: %s", strerror(errno));
        return false;
    }
    rw = SDL_RWFromFP(fp, SDL_TRUE); /* closes fp */
    if (rw == NULL) {
        fclose(fp);
        snprintf(err, errlen, "cannot open the file: %s", SDL_GetError());
        return false;
    }

    app_draw(a); /* what is on screen now, drawn again into the back buffer */
    SDL_GetRendererOutputSize(a->ren, w, h);
    s = SDL_CreateRGBSurfaceWithFormat(0, *w, *h, 32, SDL_PIXELFORMAT_ARGB8888);
    if (s == NULL || SDL_RenderReadPixels(a->ren, NULL, SDL_PIXELFORMAT_ARGB8888, s->pixels, s->pitch) != 0) {
        snprintf(err, errlen, "cannot read the screen: %s", SDL_GetError());
        goto out;
    }
    if (IMG_SavePNG_RW(s, rw, 0) != 0) {
        snprintf(err, errlen, "cannot write the PNG: %s", IMG_GetError());
        goto out;
    }
    ok = true;
out:
    SDL_RWclose(rw);
    SDL_RenderPresent(a->ren);
    SDL_FreeSurface(s);
    return ok;
}

static const struct { const char *name; sim_fault f; } app_faults[] = {
    { "", SIM_FAULT_NONE }, { "none", SIM_FAULT_NONE }, { "pull", SIM_FAULT_PULL },
    { "garbage", SIM_FAULT_GARBAGE }, { "truncated", SIM_FAULT_TRUNCATED },
};
static const struct { const char *name; card_op op; } app_ops[] = {
    { "", CARD_OP_READ }, { "read", CARD_OP_READ }, { "verify", CARD_OP_VERIFY }, { "change", CARD_OP_CHANGE },
};

static void app_card_command(app *a, uint64_t client, ctl_request *req)
{
    sim_card_params p;

    if (a->sim == NULL) {
        app_reply_err(a, client, req->id_json, "not_simulated", "the card backend is not sim");
        return;
    }
    if (req->action == CTL_CARD_REMOVE) {
        if (sim_reader_remove(a->sim))
            app_reply(a, client, req->id_json, NULL);
        else
            app_reply_err(a, client, req->id_json, "no_card", "no card is in the reader");
        return;
    }
    memset(&p, 0, sizeof p);
    snprintf(p.card_number, sizeof p.card_number, "%s", req->card_number);
    memcpy(p.pin, req->pin, sizeof p.pin);
    p.tries = req->tries;
    p.blocked = req->blocked;
    p.locked = req->locked;
    p.profile = strcmp(req->profile, "iso7816") == 0 ? CARD_PROFILE_ISO7816 : CARD_PROFILE_SSSE;
    snprintf(p.expiry, sizeof p.expiry, "%s", req->expiry);
    for (size_t i = 0; i < sizeof app_faults / sizeof app_faults[0]; i++)
        if (strcmp(req->fault, app_faults[i].name) == 0)
            p.fault = app_faults[i].f;
    for (size_t i = 0; i < sizeof app_ops / sizeof app_ops[0]; i++) {
        if (strcmp(req->fault_on, app_ops[i].name) == 0)
            p.fault_on = app_ops[i].op;
        if (strcmp(req->delay_on, app_ops[i].name) == 0)
            p.delay_on = app_ops[i].op;
    }
    p.delay_ms = (unsigned)req->delay_ms;
    if (sim_reader_insert(a->sim, &p))
        app_reply(a, client, req->id_json, NULL);
    else
        app_reply_err(a, client, req->id_json, "card_present", "a card is already in the reader");
    secure_wipe(&p, sizeof p);
}

static int app_waits_of(const app *a, uint64_t client)
{
    int n = 0;
    for (int i = 0; i < a->n_waits; i++)
        n += a->waits[i].client == client;
    return n;
}

static bool app_queue_busy(void)
{
    return SDL_PeepEvents(NULL, 0, SDL_PEEKEVENT, SDL_FIRSTEVENT, SDL_LASTEVENT) > QUEUE_BUSY;
}

static void app_control(app *a, uint64_t client, ctl_request *req)
{
    char err[512];
    int w, h;

    if ((req->cmd == CTL_TAP || req->cmd == CTL_TYPE || req->cmd == CTL_KEY) && app_queue_busy()) {
        app_reply_err(a, client, req->id_json, "busy", "too many events queued; try again");
        return;
    }

    /* Taps and waits act on what is on screen now. */
    if (a->dirty)
        app_present(a);
    switch (req->cmd) {
    case CTL_STATE:
        app_reply(a, client, req->id_json, app_state_json(a));
        break;
    case CTL_LAYOUT:
        app_reply(a, client, req->id_json, app_layout_json(a));
        break;
    case CTL_TAP: {
        int x = req->x, y = req->y;
        if (!req->has_xy) {
            int i = ui_view_find(&a->view, req->widget);
            if (i < 0) {
                app_reply_err(a, client, req->id_json, "no_such_widget", "that widget is not on screen");
                break;
            }
            x = a->view.widgets[i].r.x + a->view.widgets[i].r.w / 2;
            y = a->view.widgets[i].r.y + a->view.widgets[i].r.h / 2;
        }
        a->tap_t0_ns = now_ns();
        if (req->hold_ms > 0) {
            /* The finger goes down now and comes up in the main loop. */
            app_push_finger(a, SDL_FINGERDOWN, x, y);
            a->synth_up_at_ms = now_ms() + (uint64_t)req->hold_ms;
            a->synth_up_x = x;
            a->synth_up_y = y;
        } else {
            app_push_tap(a, x, y);
        }
        app_push_done(a, client, req);
        break;
    }
    case CTL_TYPE: {
        size_t n = strlen(req->digits);
        int idx[64];
        bool ok = true;
        for (size_t i = 0; i < n && ok; i++) {
            char id[8] = "key.0";
            id[4] = req->digits[i];
            idx[i] = ui_view_find(&a->view, id);
            ok = idx[i] >= 0;
        }
        if (!ok) {
            app_reply_err(a, client, req->id_json, "no_such_widget", "no keypad on screen");
            break;
        }
        a->tap_t0_ns = now_ns();
        for (size_t i = 0; i < n; i++) {
            const ui_rect *r = &a->view.widgets[idx[i]].r;
            app_push_tap(a, r->x + r->w / 2, r->y + r->h / 2);
        }
        explicit_bzero(idx, sizeof idx);
        app_push_done(a, client, req);
        break;
    }
    case CTL_KEY: {
        SDL_Keycode k = SDL_GetKeyFromName(req->key);
        if (k == SDLK_UNKNOWN) {
            app_reply_err(a, client, req->id_json, "bad_field", "unknown key name");
            break;
        }
        app_push_key(k);
        app_push_done(a, client, req);
        break;
    }
    case CTL_WAIT: {
        core_state s = core_state_from_name(req->state);
        if (s == ST__LAST) {
            app_reply_err(a, client, req->id_json, "unknown_state", "no such state");
        } else if (s == a->core->state) {
            app_reply(a, client, req->id_json, app_state_json(a));
        } else if (a->n_waits == MAX_WAITS || app_waits_of(a, client) >= MAX_WAITS_PER_CLIENT) {
            app_reply_err(a, client, req->id_json, "busy", "too many waits");
        } else {
            ctl_wait *wt = &a->waits[a->n_waits++];
            wt->client = client;
            wt->id_json = req->id_json;
            req->id_json = NULL;
            wt->state = s;
            wt->deadline_ms = now_ms() + (uint64_t)req->timeout_ms;
        }
        break;
    }
    case CTL_SCREENSHOT:
        if (app_screenshot(a, req->path, &w, &h, err, sizeof err)) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddNumberToObject(o, "width", w);
            cJSON_AddNumberToObject(o, "height", h);
            app_reply(a, client, req->id_json, o);
        } else {
            app_reply_err(a, client, req->id_json, "io_error", err);
        }
        break;
    case CTL_CARD:
        app_card_command(a, client, req);
        break;
    case CTL_SUBSCRIBE:
        ctl_server_mark_subscribed(a->ctl, client);
        app_reply(a, client, req->id_json, NULL);
        break;
    case CTL_QUIT:
        app_reply(a, client, req->id_json, NULL);
        a->quit = true;
        break;
    case CTL_STATS:
        app_reply(a, client, req->id_json, app_stats_json(&a->stats, a->frames));
        break;
    default:
        app_reply_err(a, client, req->id_json, "unknown_command", "not handled");
        break;
    }
}

static void app_check_waits(app *a)
{
    uint64_t t = now_ms();

    for (int i = 0; i < a->n_waits;) {
        ctl_wait *w = &a->waits[i];
        if (!ctl_server_has_client(a->ctl, w->client)) {
            /* the client went away: its wait goes with it */
        } else if (w->state == a->core->state) {
            app_reply(a, w->client, w->id_json, app_state_json(a));
        } else if (t >= w->deadline_ms) {
            cJSON *o = cJSON_CreateObject();
            char *line;
            cJSON_AddStringToObject(o, "state", core_state_name(a->core->state));
            line = ctl_reply_error_fields(w->id_json, "timeout", "the state did not come in time", o);
            if (line) {
                ctl_server_send(a->ctl, w->client, line);
                free(line);
            }
        } else {
            i++;
            continue;
        }
        free(w->id_json);
        a->waits[i] = a->waits[--a->n_waits];
    }
}

/* ---- state changes: one place logs and announces them --------------------------------------- */

static void app_after_events(app *a)
{
    int secs = core_warning_seconds_left(a->core);

    if (a->core->state != a->shown_state || a->core->notice != a->shown_notice) {
        const char *n = core_notice_name(a->core->notice);
        log_info("core", "-> [%s]%s%s", core_state_name(a->core->state), n ? " notice=" : "", n ? n : "");
        if (a->ctl) {
            cJSON *o = cJSON_CreateObject();
            char *line;
            cJSON_AddStringToObject(o, "event", "state");
            cJSON_AddStringToObject(o, "state", core_state_name(a->core->state));
            if (n)
                cJSON_AddStringToObject(o, "notice", n);
            cJSON_AddNumberToObject(o, "at_ms", (double)(now_ms() - a->stats.start_ms));
            line = cJSON_PrintUnformatted(o);
            if (line) {
                char buf[512];
                snprintf(buf, sizeof buf, "%s\n", line);
                ctl_server_broadcast_subscribed(a->ctl, buf);
                free(line);
            }
            cJSON_Delete(o);
        }
        a->shown_state = a->core->state;
        a->shown_notice = a->core->notice;
        a->dirty = true;
        a->prefetch_step = 0;
        a->prefetch_tries = 0;
    }
    if (secs != a->shown_seconds) {
        a->shown_seconds = secs;
        a->dirty = true;
    }
    if (a->ctl)
        app_check_waits(a);
}

/* ---- event dispatch ----------------------------------------------------------------------------- */

static void app_user_event(app *a, SDL_Event *e)
{
    switch (e->user.code) {
    case UEV_CARD: {
        card_result *r = e->user.data1;
        core_event ev = { .type = EV_CARD_ANSWER, .gen = r->gen, .op = (core_card_op)r->op,
                          .answer = r->res < CARD_RES__LAST ? app_card_answers[r->res] : CA_IO,
                          .tries = r->tries };
        /* A change that failed before its command went out changed nothing,
         * however it failed (the card pulled during the select before it). */
        if (r->op == CARD_OP_CHANGE && !r->sent && ev.answer != CA_OK)
            ev.answer = CA_REFUSED;
        a->last_sw = r->sw; /* the card layer has logged the answer */
        if (ev.answer != CA_OK && ev.answer != CA_WRONG_PIN && ev.answer != CA_REMOVED) {
            /* The card layer's line cannot say which card; this one can. */
            char masked[MASK_CARD_MAX];
            mask_card(r->card_number[0] ? r->card_number : a->core->card_number, masked);
            log_warn("card", "card %s: %s ended %s (sw %04X)", masked[0] ? masked : "-",
                     card_op_name(r->op), card_res_name(r->res), r->sw);
        }
        if (r->op == CARD_OP_READ && r->res == CARD_RES_OK)
            snprintf(a->last_profile, sizeof a->last_profile, "%s", card_profile_name(r->profile));
        snprintf(ev.card_number, sizeof ev.card_number, "%s", r->card_number);
        app_payload_free(UEV_CARD, r, NULL);
        app_feed(a, &ev);
        break;
    }
    case UEV_BUREAU_INFO: {
        static const ui_bureau_state states[] = { [SYNC_BUREAU_NOT_KNOWN] = UI_BUREAU_UNKNOWN,
                                                  [SYNC_BUREAU_OK] = UI_BUREAU_OK,
                                                  [SYNC_BUREAU_DOWN] = UI_BUREAU_DOWN };
        const sync_bureau_info *info = e->user.data1;
        a->svc.bureau = info->bureau <= SYNC_BUREAU_DOWN ? states[info->bureau] : UI_BUREAU_UNKNOWN;
        snprintf(a->svc.last_error, sizeof a->svc.last_error, "%s", info->last_error);
        app_payload_free(UEV_BUREAU_INFO, e->user.data1, NULL);
        a->dirty = true;
        break;
    }
    case UEV_CARD_IN:
    case UEV_CARD_OUT:
        log_info("card", "card %s", e->user.code == UEV_CARD_IN ? "inserted" : "removed");
        /* A disk that filled since the last look stops the journey here,
         * before the citizen types anything. */
        if (e->user.code == UEV_CARD_IN)
            app_probe_storage(a);
        app_simple(a, e->user.code == UEV_CARD_IN ? EV_CARD_IN : EV_CARD_OUT);
        break;
    case UEV_SERVICE_UP:
    case UEV_SERVICE_DOWN:
        log_notice("card", "reader %s", e->user.code == UEV_SERVICE_UP ? "ready" : "unavailable");
        sync_client_report_reader(a->sync, e->user.code == UEV_SERVICE_UP ? "present" : "absent");
        app_simple(a, e->user.code == UEV_SERVICE_UP ? EV_SERVICE_UP : EV_SERVICE_DOWN);
        break;
    case UEV_BUREAU: {
        sync_result *r = e->user.data1;
        core_event ev = { .type = EV_BUREAU_ANSWER, .gen = r->gen,
                          .bureau = r->status < SYNC_ST__LAST ? app_bureau[r->status] : BS_UNREACHABLE };
        log_info("sync", "card status: %s", sync_status_name(r->status));
        snprintf(ev.holder, sizeof ev.holder, "%s", r->holder);
        app_payload_free(UEV_BUREAU, r, NULL);
        app_feed(a, &ev);
        break;
    }
    case UEV_CONTROL: {
        ctl_request *req = e->user.data1;
        uint64_t *client = e->user.data2;
        app_control(a, *client, req);
        ctl_request_clear(req);
        free(req);
        free(client);
        break;
    }
    case UEV_CONTROL_DONE: {
        ctl_pending *p = e->user.data1;
        app_reply(a, p->client, p->id_json, NULL);
        free(p->id_json);
        free(p);
        a->tap_t0_ns = a->tap_shown_pending ? a->tap_t0_ns : 0;
        break;
    }
    default:
        break;
    }
}

static void app_event(app *a, SDL_Event *e)
{
    if (e->type == a->ev_base) {
        app_user_event(a, e);
        return;
    }
    switch (e->type) {
    case SDL_QUIT:
        a->quit = true;
        break;
    case SDL_FINGERDOWN:
    case SDL_FINGERUP:
        app_pointer(a, e->type == SDL_FINGERDOWN, (int)(e->tfinger.x * (float)a->view.w),
                    (int)(e->tfinger.y * (float)a->view.h));
        break;
    case SDL_MOUSEBUTTONDOWN:
    case SDL_MOUSEBUTTONUP:
        /* A real touch also arrives as a mouse event tagged SDL_TOUCH_MOUSEID:
         * the finger event already counted it. */
        if (e->button.which != SDL_TOUCH_MOUSEID && e->button.button == SDL_BUTTON_LEFT)
            app_pointer(a, e->type == SDL_MOUSEBUTTONDOWN, e->button.x, e->button.y);
        break;
    case SDL_KEYDOWN:
        if (!e->key.repeat)
            app_key(a, e->key.keysym.sym);
        break;
    case SDL_WINDOWEVENT:
        if (e->window.event == SDL_WINDOWEVENT_SIZE_CHANGED || e->window.event == SDL_WINDOWEVENT_EXPOSED)
            a->dirty = true;
        break;
    default:
        break;
    }
}

static int app_wait_ms(app *a)
{
    uint64_t t = now_ms(), next = core_next_deadline(a->core);
    int64_t ms;

    for (int i = 0; i < a->n_waits; i++)
        if (next == 0 || a->waits[i].deadline_ms < next)
            next = a->waits[i].deadline_ms;
    if (a->core->notice == NT_TIMEOUT_WARNING && a->core->warning_end_ms > t) {
        /* Wake at the next whole second of the countdown to redraw it. */
        uint64_t at = t + (a->core->warning_end_ms - t) % 1000 + 1;
        if (next == 0 || at < next)
            next = at;
    }
    if (a->retry_at_ms && (next == 0 || a->retry_at_ms < next))
        next = a->retry_at_ms;
    if (a->wd_next_ms && (next == 0 || a->wd_next_ms < next))
        next = a->wd_next_ms;
    if (a->probe_at_ms && (next == 0 || a->probe_at_ms < next))
        next = a->probe_at_ms;
    if (a->gesture_at_ms && (next == 0 || a->gesture_at_ms < next))
        next = a->gesture_at_ms;
    if (a->synth_up_at_ms && (next == 0 || a->synth_up_at_ms < next))
        next = a->synth_up_at_ms;
    if (a->core->state == ST_SERVICE && (next == 0 || a->svc_refresh_at_ms < next))
        next = a->svc_refresh_at_ms;
    if (next == 0)
        return 60000; /* nothing due: sleep until an event arrives */
    ms = (int64_t)next - (int64_t)t;
    return ms < 0 ? 0 : ms > 60000 ? 60000 : (int)ms;
}

/* ---- start and stop ----------------------------------------------------------------------------- */

static bool app_open_display(app *a, char *err, size_t errlen)
{
    /* No ALLOW_HIGHDPI: window points and renderer pixels stay the same, so
     * a mouse click and a finger hit-test the same layout. */
    Uint32 flags = 0;
    int w = a->opt.width > 0 ? a->opt.width : a->cfg.width;
    int h = a->opt.height > 0 ? a->opt.height : a->cfg.height;
    bool fullscreen = !a->opt.windowed && a->cfg.fullscreen;

    SDL_SetHint(SDL_HINT_RENDER_DRIVER, "software");
    /* Touch and mouse are told apart by us (see app_event). */
    SDL_SetHint(SDL_HINT_TOUCH_MOUSE_EVENTS, "1");
    SDL_SetHint(SDL_HINT_MOUSE_TOUCH_EVENTS, "0");
    SDL_SetHint(SDL_HINT_VIDEO_ALLOW_SCREENSAVER, "0");
    /* The kiosk has no session bus. Left unset, libdbus "autolaunches" one:
     * SDL_Init would fork and exec dbus-launch from the process that holds
     * PINs, and wait for it. An address it cannot use fails at once. */
    setenv("DBUS_SESSION_BUS_ADDRESS", "disabled:", 0);
    if (SDL_Init(SDL_INIT_VIDEO | SDL_INIT_EVENTS) != 0) {
        snprintf(err, errlen, "cannot start SDL video: %s (no display? set DISPLAY, or run under "
                 "xvfb-run, or SDL_VIDEODRIVER=dummy for a headless run)", SDL_GetError());
        return false;
    }
    /* No GPU on most terminals: on X11 the software renderer without a
     * framebuffer copy is the fastest and smallest way to get pixels on
     * screen. SDL 2.26's Wayland driver (the terminal, under cage) has no
     * window framebuffer of its own: there the copy is the only way. */
    SDL_SetHint(SDL_HINT_FRAMEBUFFER_ACCELERATION,
                strcmp(SDL_GetCurrentVideoDriver() ? SDL_GetCurrentVideoDriver() : "", "wayland") == 0
                    ? "1" : "0");
    if (TTF_Init() != 0) {
        snprintf(err, errlen, "cannot start SDL_ttf: %s", TTF_GetError());
        return false;
    }
    if (fullscreen) {
        flags |= SDL_WINDOW_FULLSCREEN_DESKTOP | SDL_WINDOW_BORDERLESS;
        SDL_ShowCursor(SDL_DISABLE);
    }
    a->win = SDL_CreateWindow("kiosk", SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED,
                              w > 0 ? w : 1920, h > 0 ? h : 1080, flags);
    if (a->win == NULL) {
        snprintf(err, errlen, "cannot open a window: %s", SDL_GetError());
        return false;
    }
    a->ren = SDL_CreateRenderer(a->win, -1, SDL_RENDERER_SOFTWARE);
    if (a->ren == NULL) {
        snprintf(err, errlen, "cannot create a renderer: %s", SDL_GetError());
        return false;
    }
    /* Text input is on by default in SDL2: digit keys would also arrive as
     * text events and could go to an input method. The kiosk reads keys. */
    SDL_StopTextInput();
    a->ev_base = SDL_RegisterEvents(1);
    if (a->ev_base == (Uint32)-1) {
        snprintf(err, errlen, "no SDL user events left");
        return false;
    }
    return true;
}

static bool app_open_assets(app *a, char *err, size_t errlen)
{
    char reg[PATH_MAX], bold[PATH_MAX], pic[PATH_MAX];
    const char *fallback = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc";

    snprintf(reg, sizeof reg, "%s/fonts/NotoSansSC-Kiosk-Regular.otf", a->opt.datadir);
    snprintf(bold, sizeof bold, "%s/fonts/NotoSansSC-Kiosk-Bold.otf", a->opt.datadir);
    snprintf(pic, sizeof pic, "%s/assets/insert-card.svg", a->opt.datadir);
    a->fonts = ui_fonts_open(reg, bold, fallback, err, errlen);
    if (a->fonts == NULL)
        return false;
    if (!ui_fonts_have_fallback(a->fonts))
        log_notice("ui", "no fallback font at %s: rare name characters may show as boxes", fallback);
    a->ur = ui_renderer_new(a->ren, a->fonts, pic);
    if (a->ur == NULL) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    return true;
}

static bool app_open_services(app *a, char *err, size_t errlen)
{
    card_cfg cc;
    const char *ctl_path = a->opt.control ? a->opt.control : a->cfg.control_socket;

    a->ob = outbox_open(a->cfg.outbox_dir, a->cfg.terminal_id, err, errlen);
    if (a->ob == NULL)
        return false;
    a->ob_depth = outbox_depth(a->ob);
    card_cfg_default(&cc);
    cc.profile = a->cfg.card_profile == CFG_PROFILE_SSSE ? CARD_PROFILE_SSSE
               : a->cfg.card_profile == CFG_PROFILE_ISO7816 ? CARD_PROFILE_ISO7816 : CARD_PROFILE_AUTO;
    cc.iso_pin_ref = (uint8_t)a->cfg.iso_pin_ref;
    cc.iso_padding = a->cfg.iso_pin_bcd ? ISO_PAD_BCD : ISO_PAD_ASCII_FF;
    if (a->cfg.card_backend == CFG_BACKEND_SIM) {
        a->sim = sim_reader_new(app_on_presence, a);
        if (a->sim == NULL) {
            snprintf(err, errlen, "cannot create the simulated reader");
            return false;
        }
        a->worker = card_worker_start(sim_reader_transport(a->sim), &cc, app_on_card_result, a);
    } else {
        /* The monitor reports the reader's state at once (ready or not):
         * until then the core sits at IDLE, which takes no card. */
        a->pcsc = pcsc_reader_start(a->cfg.card_reader, app_on_pcsc, a);
        if (a->pcsc == NULL) {
            snprintf(err, errlen, "cannot start the PC/SC reader monitor");
            return false;
        }
        a->worker = card_worker_start(pcsc_reader_transport(a->pcsc), &cc, app_on_card_result, a);
    }
    a->sync = sync_client_start(a->cfg.sync_socket, a->cfg.status_timeout_ms, app_on_sync, a);
    if (a->worker == NULL || a->sync == NULL) {
        snprintf(err, errlen, "cannot start worker threads");
        return false;
    }
    /* The simulated reader is always there; a real one reports itself. */
    if (a->sim)
        sync_client_report_reader(a->sync, "present");
    if (ctl_path && ctl_path[0]) {
        a->ctl = ctl_server_start(ctl_path, app_on_control, a, err, errlen);
        if (a->ctl == NULL)
            return false;
        log_notice("control", "control socket at %s", ctl_path);
    }
    return true;
}

static void app_core_init(app *a)
{
    core_config cc;

    memset(&cc, 0, sizeof cc);
    cc.pin_length = a->cfg.pin_length;
    for (int i = 0; i < a->cfg.pin_initial_count && i < CORE_MAX_INITIAL; i++)
        snprintf(cc.initial[i], sizeof cc.initial[i], "%s", a->cfg.pin_initial[i]);
    cc.n_initial = a->cfg.pin_initial_count < CORE_MAX_INITIAL ? a->cfg.pin_initial_count : CORE_MAX_INITIAL;
    cc.idle_timeout_ms = (uint32_t)a->cfg.idle_timeout_s * 1000u;
    cc.warning_ms = (uint32_t)a->cfg.warning_s * 1000u;
    /* The sync client gives up at status_timeout_ms; the core waits a little
     * longer so the client's own "unreachable" normally decides. */
    cc.bureau_timeout_ms = (uint32_t)a->cfg.status_timeout_ms + 500u;
    cc.card_timeout_ms = 20000;
    cc.notice_ms = 8000;
    cc.offline_allow = a->cfg.offline_policy == CFG_OFFLINE_ALLOW;
    cc.scramble = a->cfg.scramble_keypad;
    cc.lang = strcmp(a->cfg.language, "en") == 0 ? LANG_EN : LANG_ZH;
    cc.service_enabled = a->tcode_set;
    cc.service_idle_ms = (uint32_t)a->cfg.service_idle_s * 1000u;
    a->core = secmem_alloc(sizeof *a->core, SECMEM_ALIGN);
    if (a->core == NULL)
        a->core = &a->core_fallback;
    core_init(a->core, &cc, now_ms());
    for (int i = 0; i < 9; i++)
        a->keypad[i] = (uint8_t)(i + 1);
    a->keypad[9] = 0;
    a->shown_state = ST__LAST;
    a->shown_notice = NT__LAST;
}

static void app_drain(app *a)
{
    SDL_Event e;

    /* Free what workers posted but nobody handled. Not SDL_PollEvent: it
     * stops at the poll sentinel SDL 2.26 leaves in the queue when the main
     * loop quit mid-cycle, and would leave the payloads behind it. */
    while (SDL_PeepEvents(&e, 1, SDL_GETEVENT, a->ev_base, a->ev_base) == 1)
        app_payload_free(e.user.code, e.user.data1, e.user.data2);
    explicit_bzero(&e, sizeof e);
}

static void app_close(app *a)
{
    notify_close();
    if (a->ctl)
        ctl_server_stop(a->ctl);
    /* A delayed simulated command ends at once when its card is pulled;
     * otherwise stopping would wait the whole delay out. A change in flight
     * keeps its intent on disk, which the next start makes "unknown". */
    if (a->sim)
        sim_reader_remove(a->sim);
    if (a->worker)
        card_worker_stop(a->worker);
    if (a->pcsc)
        pcsc_reader_stop(a->pcsc);
    if (a->sync)
        sync_client_stop(a->sync);
    if (a->ev_base)
        app_drain(a);
    for (int i = 0; i < a->n_waits; i++)
        free(a->waits[i].id_json);
    if (a->sim)
        sim_reader_free(a->sim);
    if (a->ob)
        outbox_close(a->ob);
    ui_renderer_free(a->ur);
    ui_fonts_close(a->fonts);
    if (a->ren)
        SDL_DestroyRenderer(a->ren);
    if (a->win)
        SDL_DestroyWindow(a->win);
    core_wipe(a->core);
    TTF_Quit();
    IMG_Quit();
    SDL_Quit();
}

/* Pinged from the bottom of the main loop only (its wait wakes for it): a
 * loop stuck anywhere - a frame, a handler, a lock - stops the pings and
 * systemd restarts us. A thread of its own would ping through a hang. */
static void app_watchdog(app *a)
{
    uint64_t t = now_ms();
    if (a->wd_every_ms && t >= a->wd_next_ms) {
        notify_send("WATCHDOG=1");
        a->wd_next_ms = t + a->wd_every_ms;
    }
}

/* systemd: READY=1 once the first frame is up, and the watchdog's period. */
static void app_notify_ready(app *a)
{
    if (notify_init()) {
        notify_send("READY=1");
        a->wd_every_ms = notify_watchdog_ms() / 2;
        a->wd_next_ms = a->wd_every_ms ? now_ms() : 0;
        log_info("app", "told systemd we are ready%s", a->wd_every_ms ? "; watchdog on" : "");
    }
    app_watchdog(a);
}

int app_run(const kiosk_config *cfg, const app_options *opt)
{
    static app a; /* large; one per process */
    char err[512] = "";
    int status = 1;

    memset(&a, 0, sizeof a);
    a.cfg = *cfg;
    a.opt = *opt;
    a.overlay = opt->windowed;
    a.pressed = -1;
    a.pending_res = -1;
    app_stats_init(&a.stats, now_ms());
    a.started_ms = now_ms();
    /* Checked when the config was read; without one, no service screen. */
    a.tcode_set = a.cfg.service_code_hash[0] && tcode_parse(a.cfg.service_code_hash, &a.tcode, NULL, 0);
    app_core_init(&a);
    if (!app_open_display(&a, err, sizeof err)) {
        log_err("app", "%s", err);
        goto out;
    }
    log_debug("app", "display open after %.1f ms", (double)(now_ns() - a.stats.start_ns) / 1e6);
    if (!app_open_assets(&a, err, sizeof err)) {
        log_err("app", "%s", err);
        goto out;
    }
    /* The picture rasterises on the second core while fonts load and the
     * first screen's words render on this one. */
    app_build_view(&a);
    if (a.view.show_picture)
        ui_renderer_prepare_picture(a.ur, a.view.picture.w, a.view.picture.h);
    if (!app_open_services(&a, err, sizeof err)) {
        log_err("app", "%s", err);
        goto out;
    }
    log_debug("app", "fonts and services after %.1f ms", (double)(now_ns() - a.stats.start_ns) / 1e6);
    app_probe_storage(&a); /* out of service from the first frame if the disk is full */
    app_after_events(&a);
    app_present(&a);
    app_stats_first_frame(&a.stats, now_ns());
    log_info("app", "first frame after %.1f ms", app_stats_startup_ms(&a.stats));
    app_notify_ready(&a);
    while (!a.quit) {
        SDL_Event e;
        bool prefetching = a.prefetch_step < PREFETCH_DONE;
        if (SDL_WaitEventTimeout(&e, prefetching ? 0 : app_wait_ms(&a))) {
            app_event(&a, &e);
            while (!a.quit && SDL_PollEvent(&e))
                app_event(&a, &e);
        } else if (prefetching) {
            app_prefetch(&a); /* one text, then look for events again */
        }
        app_simple(&a, EV_TICK);
        if (a.retry_at_ms && now_ms() >= a.retry_at_ms)
            app_retry_records(&a);
        if (a.probe_at_ms && now_ms() >= a.probe_at_ms)
            app_probe_storage(&a);
        if (a.synth_up_at_ms && now_ms() >= a.synth_up_at_ms) {
            a.synth_up_at_ms = 0;
            app_push_finger(&a, SDL_FINGERUP, a.synth_up_x, a.synth_up_y);
        }
        if (a.core->state == ST_SERVICE && now_ms() >= a.svc_refresh_at_ms) {
            /* The figures move while a technician watches (a backlog
             * draining, say): a fresh look every two seconds. */
            app_service_refresh(&a);
            a.svc_refresh_at_ms = now_ms() + 2000;
        }
        if (a.gesture_at_ms && now_ms() >= a.gesture_at_ms) {
            a.gesture_at_ms = 0;
            log_info("service", "long press on the title: asking for the technician code");
            app_simple(&a, EV_SERVICE_GESTURE);
        }
        app_after_events(&a);
        if (a.dirty)
            app_present(&a);
        app_watchdog(&a);
    }
    notify_send("STOPPING=1");
    status = 0;
out:
    app_close(&a);
    return status;
}

/* app.c - start-up and wiring (app.h): the rooms, the core, the display,
 * the worker threads and the stores, in the order that gets a first frame
 * up soonest; then the main loop (loop.c); then shutdown, threads first so
 * that nothing posts into a queue being drained. */
#include "app/app.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <SDL.h>
#include <SDL_ttf.h>

#include "app/app_int.h"
#include "app/audio.h"
#include "app/control.h"
#include "app/display.h"
#include "app/effects.h"
#include "app/input.h"
#include "app/loop.h"
#include "app/post.h"
#include "app/records.h"
#include "card/profile.h"
#include "util/log.h"
#include "util/notify.h"
#include "util/secmem.h"

static bool app_open_rooms(app *a, char *err, size_t errlen)
{
    a->disp = display_new(a->opt.windowed);
    a->in = input_new();
    a->ctl_room = control_new();
    a->rec = records_new();
    a->fx = fx_new(&a->cfg);
    a->box = post_box_new();
    a->audio = audio_new(); /* none: the kiosk runs silent */
    if (!a->disp || !a->in || !a->ctl_room || !a->rec || !a->fx || !a->box) {
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
    if (a->ob == NULL) {
        /* The technician is sent to the line that named the directory. */
        config_errf(&a->cfg, "outbox", "dir", err, errlen, "%s", err);
        return false;
    }
    a->ob_depth = outbox_depth(a->ob);
    card_cfg_default(&cc);
    cc.profile = a->cfg.card_profile == CFG_PROFILE_SSSE ? CARD_PROFILE_SSSE
               : a->cfg.card_profile == CFG_PROFILE_ISO7816 ? CARD_PROFILE_ISO7816 : CARD_PROFILE_AUTO;
    cc.iso_pin_ref = (uint8_t)a->cfg.iso_pin_ref;
    cc.iso_padding = a->cfg.iso_pin_bcd ? ISO_PAD_BCD : ISO_PAD_ASCII_FF;
    if (a->cfg.card_backend == CFG_BACKEND_SIM) {
        a->sim = sim_reader_new(post_presence, a);
        if (a->sim == NULL) {
            snprintf(err, errlen, "cannot create the simulated reader");
            return false;
        }
        a->worker = card_worker_start(sim_reader_transport(a->sim), &cc, post_card_result, a);
    } else {
        /* The monitor reports the reader's state at once (ready or not):
         * until then the core sits at IDLE, which takes no card. */
        a->pcsc = pcsc_reader_start(a->cfg.card_reader, post_pcsc, a);
        if (a->pcsc == NULL) {
            snprintf(err, errlen, "cannot start the PC/SC reader monitor");
            return false;
        }
        a->worker = card_worker_start(pcsc_reader_transport(a->pcsc), &cc, post_card_result, a);
    }
    a->sync = sync_client_start(a->cfg.sync_socket, a->cfg.status_timeout_ms, post_sync, a);
    if (a->worker == NULL || a->sync == NULL) {
        snprintf(err, errlen, "cannot start worker threads");
        return false;
    }
    sync_client_on_reset(a->sync, post_reset, a);
    if (!fx_start(a, err, errlen))
        return false;
    /* The simulated reader is always there; a real one reports itself. */
    if (a->sim)
        sync_client_report_reader(a->sync, "present");
    if (ctl_path && ctl_path[0]) {
        a->ctl = ctl_server_start(ctl_path, post_control, a, err, errlen);
        if (a->ctl == NULL) {
            if (a->opt.control == NULL)
                config_errf(&a->cfg, "control", "socket", err, errlen, "%s", err);
            return false;
        }
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
    cc.take_card_ms = (uint32_t)a->cfg.take_card_s * 1000u;
    cc.unknown_notice_ms = (uint32_t)a->cfg.change_unknown_s * 1000u;
    cc.offline_allow = a->cfg.offline_policy == CFG_OFFLINE_ALLOW;
    cc.scramble = a->cfg.scramble_keypad;
    cc.lang = strcmp(a->cfg.language, "en") == 0 ? LANG_EN : LANG_ZH;
    cc.service_enabled = fx_service_enabled(a->fx);
    cc.service_idle_ms = (uint32_t)a->cfg.service_idle_s * 1000u;
    /* As for the status: the sync client's own answer normally decides. */
    cc.reset_timeout_ms = (uint32_t)a->cfg.reset_timeout_ms + 500u;
    a->core = secmem_alloc(sizeof *a->core, SECMEM_ALIGN);
    if (a->core == NULL)
        a->core = &a->core_fallback;
    core_init(a->core, &cc, app_now_ms());
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
    fx_stop(a);
    audio_stop(a);
    if (a->ev_base)
        post_drain_sdl(a);
    post_box_free(a->box);
    control_free(a->ctl_room);
    if (a->sim)
        sim_reader_free(a->sim);
    if (a->ob)
        outbox_close(a->ob);
    display_free(a->disp);
    if (a->core)
        core_wipe(a->core);
    input_free(a->in);
    records_free(a->rec);
    fx_free(a->fx);
    audio_free(a->audio);
    TTF_Quit();
    SDL_Quit();
}

/* A failure before the main loop is the kiosk refusing to start: said as
 * main.c says a refused config, by the program's name, so that both
 * programs' refusals read alike ("kiosk: FILE:LINE: what" when a line of
 * the config explains it). */
#define APP_REFUSAL "kiosk"

int app_run(const kiosk_config *cfg, const app_options *opt)
{
    static app a; /* one per process */
    char err[512] = "";
    int status = 1;

    memset(&a, 0, sizeof a);
    a.cfg = *cfg;
    a.opt = *opt;
    app_stats_init(&a.stats, app_now_ms());
    if (!app_open_rooms(&a, err, sizeof err)) {
        log_err(APP_REFUSAL, "%s", err);
        goto out;
    }
    app_core_init(&a);
    if (!display_open_assets(&a, err, sizeof err)) {
        log_err(APP_REFUSAL, "%s", err);
        goto out;
    }
    if (!display_open(&a, err, sizeof err)) {
        log_err(APP_REFUSAL, "%s", err);
        goto out;
    }
    a.ev_base = SDL_RegisterEvents(1);
    if (a.ev_base == (Uint32)-1) {
        a.ev_base = 0;
        log_err(APP_REFUSAL, "no SDL user events left");
        goto out;
    }
    log_debug("app", "display open after %.1f ms", (double)(app_now_ns() - a.stats.start_ns) / 1e6);
    if (!app_open_services(&a, err, sizeof err)) {
        log_err(APP_REFUSAL, "%s", err);
        goto out;
    }
    display_ready(&a);
    log_debug("app", "fonts and services after %.1f ms", (double)(app_now_ns() - a.stats.start_ns) / 1e6);
    loop_run(&a);
    status = 0;
out:
    app_close(&a);
    return status;
}

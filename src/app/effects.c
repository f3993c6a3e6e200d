/* effects.c - the core fed, its effects carried out (effects.h). Like
 * curl's multi_runsingle, one function (fx_effects) is where everything
 * the core decides leaves the core: a newcomer who wants to know what a
 * state change does outside the core reads it here. */
#include "app/effects.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "app/control.h"
#include "app/display.h"
#include "app/post.h"
#include "app/records.h"
#include "card/card.h"
#include "card/profile.h"
#include "kiosk_build.h"
#include "service/tcheck.h"
#include "service/tcode.h"
#include "util/log.h"
#include "util/mask.h"

/* A look at the service screen's figures this often while it is open:
 * they move while a technician watches (a backlog draining, say). */
#define SERVICE_REFRESH_MS 2000u

struct app_fx {
    core_state shown_state; /* what was last announced */
    core_notice shown_notice;
    tcode tcode;            /* the technician code's salted hash, if configured */
    bool tcode_set;
    tcheck *checker;        /* checks typed codes against it, off this thread */
    uint64_t svc_refresh_at_ms;
};

static const core_card_answer fx_card_answers[CARD_RES__LAST] = {
    [CARD_RES_OK] = CA_OK, [CARD_RES_WRONG_PIN] = CA_WRONG_PIN, [CARD_RES_BLOCKED] = CA_BLOCKED,
    [CARD_RES_LOCKED] = CA_LOCKED, [CARD_RES_REMOVED] = CA_REMOVED,
    [CARD_RES_UNREADABLE] = CA_UNREADABLE, [CARD_RES_EXPIRED] = CA_EXPIRED,
    [CARD_RES_REFUSED] = CA_REFUSED, [CARD_RES_GARBAGE] = CA_GARBAGE, [CARD_RES_IO] = CA_IO,
};

/* fx_card_answer hands the card layer's operation to the core as it is. */
_Static_assert((int)CO_READ == (int)CARD_OP_READ && (int)CO_VERIFY == (int)CARD_OP_VERIFY &&
               (int)CO_CHANGE == (int)CARD_OP_CHANGE && (int)CO_CHALLENGE == (int)CARD_OP_CHALLENGE &&
               (int)CO_RESET == (int)CARD_OP_RESET && (int)CO__LAST == (int)CARD_OP_RESET + 1,
               "core_card_op follows card_op");
_Static_assert(CORE_CHALLENGE_LEN == CARD_CHALLENGE_LEN && CORE_APDU_MAX == SYNC_APDU_MAX &&
               CORE_RESET_ID_MAX == SYNC_RESET_ID_MAX && CORE_PHONE_MAX == SYNC_PHONE_MAX,
               "the core's reset buffers hold what the card and kiosk-sync give");

static const core_reset_answer fx_reset[SYNC_RS__LAST] = {
    [SYNC_RS_OK] = CR_OK, [SYNC_RS_NO_PHONE] = CR_NO_PHONE, [SYNC_RS_NOT_ACTIVE] = CR_NOT_ACTIVE,
    [SYNC_RS_TOO_MANY] = CR_TOO_MANY, [SYNC_RS_CARD_UNKNOWN] = CR_CARD_UNKNOWN,
    [SYNC_RS_CODE_INVALID] = CR_CODE_INVALID, [SYNC_RS_VOID] = CR_VOID,
    [SYNC_RS_EXPIRED] = CR_EXPIRED, [SYNC_RS_NOT_FOUND] = CR_NOT_FOUND,
    [SYNC_RS_ALREADY_USED] = CR_ALREADY_USED, [SYNC_RS_UNREACHABLE] = CR_UNREACHABLE,
};

static const core_bureau_status fx_bureau[SYNC_ST__LAST] = {
    [SYNC_ST_ACTIVE] = BS_ACTIVE, [SYNC_ST_LOST] = BS_LOST, [SYNC_ST_FROZEN] = BS_FROZEN,
    [SYNC_ST_CANCELLED] = BS_CANCELLED, [SYNC_ST_UNKNOWN] = BS_UNKNOWN,
    [SYNC_ST_UNREACHABLE] = BS_UNREACHABLE,
};

app_fx *fx_new(const kiosk_config *cfg)
{
    app_fx *f = calloc(1, sizeof *f);

    if (f == NULL)
        return NULL;
    f->shown_state = ST__LAST;
    f->shown_notice = NT__LAST;
    /* Checked when the config was read; without one, no service screen. */
    f->tcode_set = cfg->service_code_hash[0] && tcode_parse(cfg->service_code_hash, &f->tcode, NULL, 0);
    return f;
}

void fx_free(app_fx *f)
{
    if (f) {
        explicit_bzero(f, sizeof *f);
        free(f);
    }
}

bool fx_service_enabled(const app_fx *f)
{
    return f->tcode_set;
}

bool fx_start(app *a, char *err, size_t errlen)
{
    if (!a->fx->tcode_set)
        return true;
    a->fx->checker = tcheck_start(&a->fx->tcode, post_code, a);
    if (a->fx->checker == NULL) {
        snprintf(err, errlen, "cannot start the technician code checker");
        return false;
    }
    return true;
}

void fx_stop(app *a)
{
    if (a->fx) {
        tcheck_stop(a->fx->checker);
        a->fx->checker = NULL;
    }
}

void fx_service_refresh(app *a)
{
    ui_service_info *si = &a->svc;
    ui_bureau_state bureau = si->bureau;
    long unmovable = si->unmovable;
    char last_error[sizeof si->last_error];
    struct statvfs vs;

    memcpy(last_error, si->last_error, sizeof last_error);
    memset(si, 0, sizeof *si);
    si->bureau = bureau; /* until kiosk-sync answers again */
    si->unmovable = unmovable;
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
    si->uptime_s = (long)((app_now_ms() - a->stats.start_ms) / 1000);
    si->disk_free_kb = statvfs(a->cfg.outbox_dir, &vs) == 0
                     ? (long long)((uint64_t)vs.f_bavail * vs.f_frsize / 1024) : -1;
    snprintf(si->storage, sizeof si->storage, "%s", records_trouble(a));
    a->dirty = true;
}

static void fx_not_queued(app *a, unsigned gen, core_card_op op, core_card_answer answer)
{
    core_event ev = { .type = EV_CARD_ANSWER, .gen = gen, .op = op, .answer = answer, .tries = -1 };

    log_err("app", "card worker queue full: the operation was not sent");
    fx_feed(a, &ev);
}

static void fx_reset_not_asked(app *a, unsigned gen, bool authorize)
{
    core_event ev = { .type = EV_RESET_ANSWER, .gen = gen, .authorize = authorize,
                      .reset = CR_UNREACHABLE, .attempts_left = -1 };

    log_err("sync", "reset %s not queued", authorize ? "authorization" : "request");
    fx_feed(a, &ev);
}

/* Carries out effects in order; a record that could not be written stops
 * the rest (the card is never written without its record). */
static void fx_effects(app *a, core_effects *fx)
{
    time_t t = time(NULL);
    bool failed = false;
    unsigned code_refused = 0; /* the gen of a code the checker would not take */

    for (int i = 0; i < fx->n && !failed; i++) {
        core_fx *f = &fx->fx[i];
        switch (f->type) {
        /* A job that cannot be queued is answered at once as what it is, a
         * failure that reached nothing; the journey never waits out a timer
         * for it, and a change never queued is never "unknown". */
        case FX_CARD_READ:
            if (!card_worker_read(a->worker, f->gen))
                fx_not_queued(a, f->gen, CO_READ, CA_IO);
            break;
        case FX_BUREAU_ASK:
            if (!sync_client_ask(a->sync, f->gen, f->card_number)) {
                core_event ev = { .type = EV_BUREAU_ANSWER, .gen = f->gen, .bureau = BS_UNREACHABLE };
                log_err("app", "bureau question not queued");
                fx_feed(a, &ev);
            }
            break;
        case FX_CARD_VERIFY:
            if (!card_worker_verify(a->worker, f->gen, f->pin_a))
                fx_not_queued(a, f->gen, CO_VERIFY, CA_IO);
            break;
        case FX_RECORD_INTENT:
            failed = !records_intent(a, f->card_number, f->reset_id, t);
            break;
        /* A reset's questions to the bureau are never retried here: one
         * not queued is answered at once as the bureau out of reach. */
        case FX_RESET_REQUEST:
            if (!sync_client_reset_request(a->sync, f->gen, f->card_number, a->cfg.reset_timeout_ms))
                fx_reset_not_asked(a, f->gen, false);
            break;
        case FX_CARD_CHALLENGE:
            if (!card_worker_challenge(a->worker, f->gen))
                fx_not_queued(a, f->gen, CO_CHALLENGE, CA_IO);
            break;
        case FX_RESET_AUTHORIZE:
            /* The texted code: never logged; the client copies it into the
             * arena, ours is wiped with the effects below. */
            if (!sync_client_reset_authorize(a->sync, f->gen, f->reset_id, f->pin_a, f->challenge,
                                             a->cfg.reset_timeout_ms))
                fx_reset_not_asked(a, f->gen, true);
            break;
        case FX_CARD_RESET:
            if (!card_worker_reset(a->worker, f->gen, f->apdu, (size_t)f->apdu_len))
                fx_not_queued(a, f->gen, CO_RESET, CA_REFUSED);
            break;
        case FX_CARD_CHANGE:
            if (!card_worker_change(a->worker, f->gen, f->pin_a, f->pin_b))
                fx_not_queued(a, f->gen, CO_CHANGE, CA_REFUSED);
            break;
        case FX_RESOLVE_INTENT:
            records_resolve(a, f->resolution, t);
            break;
        case FX_RECORD_BLOCKED:
            records_blocked(a, f->card_number, t);
            break;
        case FX_SHUFFLE_KEYPAD:
            display_shuffle_keypad(a->disp);
            break;
        case FX_CHECK_CODE:
            /* Never logged; the checker copies it, ours is wiped below.
             * The verdict comes back through the mailbox (fx_worker_event). */
            if (!tcheck_ask(a->fx->checker, f->gen, f->pin_a))
                code_refused = f->gen;
            break;
        case FX_SERVICE_OPEN:
            log_notice("service", "service screen opened");
            fx_service_refresh(a);
            sync_client_ask_bureau(a->sync, post_bureau_info, a);
            break;
        case FX_REQUEUE_DEAD:
            /* The outbox logs how many moved, and what stayed. */
            if (outbox_requeue_dead(a->ob) < 0)
                log_err("service", "the dead letters could not be moved back");
            fx_service_refresh(a);
            break;
        case FX_REMIND_CARD:
            /* The screen shows the reminder (the view reads card_left); a
             * sound or voice for it hooks in here. */
            log_info("app", "a card is still in the reader: reminded");
            break;
        default:
            break;
        }
    }
    for (int i = 0; i < fx->n; i++)
        if (fx->fx[i].type == FX_RESOLVE_INTENT || fx->fx[i].type == FX_RECORD_BLOCKED)
            a->ob_depth = outbox_depth(a->ob);
    core_effects_wipe(fx);
    if (code_refused) {
        /* No checker (no code configured) or one still busy: the core
         * never asks twice at once, so this is not a guess. It stays a
         * wrong code, so that nothing opens unchecked. */
        core_event ev = { .type = EV_CODE_BAD, .gen = code_refused };
        log_err("service", "the technician code could not be checked");
        fx_feed(a, &ev);
    }
    if (failed) {
        core_event ev = { .type = EV_RECORD_FAILED };
        fx_feed(a, &ev);
        records_probe(a); /* and no new journey until it can */
    }
}

void fx_feed(app *a, core_event *ev)
{
    core_effects fx;
    const core *c = a->core;
    /* What the screen shows of the core: a frame is drawn only when it moves. */
    int before[7] = { c->state, c->notice, c->entry_len, c->lang, c->tries_left, (int)c->entry_gen,
                      c->card_left };

    ev->now_ms = app_now_ms();
    core_handle(a->core, ev, &fx);
    fx_effects(a, &fx);
    if (ev->type == EV_CARD_ANSWER || ev->type == EV_BUREAU_ANSWER || ev->type == EV_RESET_ANSWER)
        explicit_bzero(ev, sizeof *ev);
    if (before[0] != (int)c->state || before[1] != (int)c->notice || before[2] != c->entry_len ||
        before[3] != (int)c->lang || before[4] != c->tries_left || before[5] != (int)c->entry_gen ||
        before[6] != (int)c->card_left)
        a->dirty = true;
    fx_note_state(a);
}

void fx_note_state(app *a)
{
    app_fx *f = a->fx;
    const char *n;

    if (a->core->state == f->shown_state && a->core->notice == f->shown_notice)
        return;
    n = core_notice_name(a->core->notice);
    log_info("core", "-> [%s]%s%s", core_state_name(a->core->state), n ? " notice=" : "", n ? n : "");
    f->shown_state = a->core->state;
    f->shown_notice = a->core->notice;
    a->dirty = true;
    display_prefetch_restart(a->disp);
    control_announce(a);
    if (a->ctl)
        control_check_waits(a);
}

void fx_simple(app *a, core_event_type t)
{
    core_event ev = { .type = t };
    fx_feed(a, &ev);
}

static void fx_card_answer(app *a, const card_result *r)
{
    core_event ev = { .type = EV_CARD_ANSWER, .gen = r->gen, .op = (core_card_op)r->op,
                      .answer = r->res < CARD_RES__LAST ? fx_card_answers[r->res] : CA_IO,
                      .tries = r->tries };

    /* A change (or reset) that failed before its command went out changed
     * nothing, however it failed (the card pulled during the select before it). */
    if ((r->op == CARD_OP_CHANGE || r->op == CARD_OP_RESET) && !r->sent && ev.answer != CA_OK)
        ev.answer = CA_REFUSED;
    if (r->op == CARD_OP_CHALLENGE)
        memcpy(ev.challenge, r->challenge, sizeof ev.challenge);
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
    fx_feed(a, &ev);
}

static void fx_bureau_answer(app *a, const sync_result *r)
{
    core_event ev = { .type = EV_BUREAU_ANSWER, .gen = r->gen,
                      .bureau = r->status < SYNC_ST__LAST ? fx_bureau[r->status] : BS_UNREACHABLE };

    log_info("sync", "card status: %s", sync_status_name(r->status));
    snprintf(ev.holder, sizeof ev.holder, "%s", r->holder);
    fx_feed(a, &ev);
}

static void fx_reset_answer(app *a, const sync_reset_result *r)
{
    core_event ev = { .type = EV_RESET_ANSWER, .gen = r->gen, .authorize = r->authorize,
                      .reset = r->status < SYNC_RS__LAST ? fx_reset[r->status] : CR_UNREACHABLE,
                      .attempts_left = r->attempts_left, .expires_s = r->expires_in_s };

    snprintf(ev.reset_id, sizeof ev.reset_id, "%s", r->reset_id);
    snprintf(ev.phone, sizeof ev.phone, "%s", r->phone_masked);
    if (r->apdu_len <= sizeof ev.apdu) {
        memcpy(ev.apdu, r->apdu, r->apdu_len);
        ev.apdu_len = (int)r->apdu_len;
    }
    fx_feed(a, &ev);
}

static void fx_bureau_info(app *a, const sync_bureau_info *info)
{
    static const ui_bureau_state states[] = { [SYNC_BUREAU_NOT_KNOWN] = UI_BUREAU_UNKNOWN,
                                              [SYNC_BUREAU_OK] = UI_BUREAU_OK,
                                              [SYNC_BUREAU_DOWN] = UI_BUREAU_DOWN };

    a->svc.bureau = info->bureau <= SYNC_BUREAU_DOWN ? states[info->bureau] : UI_BUREAU_UNKNOWN;
    snprintf(a->svc.last_error, sizeof a->svc.last_error, "%s", info->last_error);
    a->svc.unmovable = info->unmovable;
    a->dirty = true;
}

void fx_worker_event(app *a, post_msg *m)
{
    switch (m->kind) {
    case POST_CARD:
        fx_card_answer(a, &m->u.card);
        break;
    case POST_BUREAU_INFO:
        fx_bureau_info(a, &m->u.info);
        break;
    case POST_CARD_IN:
    case POST_CARD_OUT:
        log_info("card", "card %s", m->kind == POST_CARD_IN ? "inserted" : "removed");
        /* A disk that filled since the last look stops the journey here,
         * before the citizen types anything. */
        if (m->kind == POST_CARD_IN)
            records_probe(a);
        fx_simple(a, m->kind == POST_CARD_IN ? EV_CARD_IN : EV_CARD_OUT);
        break;
    case POST_READER_UP:
    case POST_READER_DOWN:
        log_notice("card", "reader %s", m->kind == POST_READER_UP ? "ready" : "unavailable");
        sync_client_report_reader(a->sync, m->kind == POST_READER_UP ? "present" : "absent");
        fx_simple(a, m->kind == POST_READER_UP ? EV_SERVICE_UP : EV_SERVICE_DOWN);
        break;
    case POST_BUREAU:
        fx_bureau_answer(a, &m->u.bureau);
        break;
    case POST_RESET:
        fx_reset_answer(a, &m->u.reset);
        break;
    case POST_CODE: {
        core_event ev = { .type = m->u.code.ok ? EV_CODE_OK : EV_CODE_BAD, .gen = m->u.code.gen };
        if (m->u.code.ok)
            log_notice("service", "technician code accepted");
        else
            log_warn("service", "wrong technician code");
        fx_feed(a, &ev);
        break;
    }
    default:
        break;
    }
}

uint64_t fx_deadline(const app *a)
{
    return a->core->state == ST_SERVICE ? a->fx->svc_refresh_at_ms : 0;
}

void fx_due(app *a)
{
    if (a->core->state == ST_SERVICE && app_now_ms() >= a->fx->svc_refresh_at_ms) {
        fx_service_refresh(a);
        a->fx->svc_refresh_at_ms = app_now_ms() + SERVICE_REFRESH_MS;
    }
}

/* core.c - the core's spine: init, the one transition every state change
 * goes through (core_enter), the dispatch of events (core_handle) and of
 * timers (core_tick), the wipes and the effect helpers.
 *
 * core_handle hands events to the screen files (core_keypad.c,
 * core_answers.c, core_service.c); they call back down into core_enter and
 * the helpers here, never into one another. The tables are core_names.c's.
 */
#include "core/core_int.h"

#include <stddef.h>
#include <string.h>

void core_wipe_entry(core *c)
{
    explicit_bzero(c->entry, sizeof c->entry);
    c->entry_len = 0;
}

static void core_wipe_pins(core *c)
{
    core_wipe_entry(c);
    explicit_bzero(c->old_pin, sizeof c->old_pin);
    explicit_bzero(c->new_pin, sizeof c->new_pin);
}

void core_wipe(core *c)
{
    core_wipe_pins(c);
    explicit_bzero(c->reset_code, sizeof c->reset_code);
}

void core_effects_wipe(core_effects *e)
{
    explicit_bzero(e, sizeof *e);
}

core_fx *core_fx_add(core_effects *out, core_fx_type type, unsigned gen)
{
    core_fx *fx;

    /* CORE_FX_MAX is above the most any one transition emits; running out
     * would be a bug in this file, caught by the unit tests' bound check. */
    if (out->n >= CORE_FX_MAX)
        return &out->fx[CORE_FX_MAX - 1];
    fx = &out->fx[out->n++];
    memset(fx, 0, sizeof *fx);
    fx->type = type;
    fx->gen = gen;
    return fx;
}

void core_fx_card_number(core *c, core_effects *out, core_fx_type type)
{
    core_fx *fx = core_fx_add(out, type, c->gen);
    memcpy(fx->card_number, c->card_number, sizeof fx->card_number);
}

void core_resolve(core *c, core_effects *out, core_resolution r)
{
    if (c->intent_open) {
        core_fx_add(out, FX_RESOLVE_INTENT, c->gen)->resolution = r;
        c->intent_open = false;
    }
}

/* ---- the one transition ------------------------------------------------ */

/* The states a full disk stops: no command that changes the card is out,
 * and none will go without a record first. VERIFYING is not one: its
 * answer (a block, say) is still carried out and recorded. */
static bool core_storage_stops(core_state s)
{
    static const core_state stops[] = { ST_IDLE, ST_READING_CARD, ST_ENTER_OLD_PIN,
                                        ST_ENTER_NEW_PIN, ST_CONFIRM_NEW_PIN, ST_RESET_OFFER,
                                        ST_ENTER_RESET_CODE };
    bool found = false;
    for (size_t i = 0; !found && i < sizeof stops / sizeof stops[0]; i++)
        found = stops[i] == s;
    return found;
}

/* Every state change goes through here (curl's multistate() habit): it runs
 * the entry action of the new state, so no path can forget to wipe digits or
 * to arm a timer. */
void core_enter(core *c, core_state s, core_notice n, core_effects *out)
{
    bool journey_over = s == ST_IDLE;
    /* While no record can be written, no journey starts and none goes on to
     * the next PIN screen: the terminal says it is out of service instead.
     * A journey that ends still ends (its clean-up below runs), and the
     * notice that says how (a change that may have happened) stays its
     * while on IDLE first; core_tick then goes out of service. */
    if (c->storage_down && core_storage_stops(s) && !(journey_over && n != NT_NONE)) {
        s = ST_OUT_OF_SERVICE;
        n = NT_STORAGE_DOWN;
    }
    bool was_keypad = core_states[c->state].keypad;
    bool fresh_entry = core_states[s].keypad && (s != c->state || !was_keypad);

    c->state = s;
    c->notice = n;
    c->notice_before_warning = NT_NONE;
    c->warning_end_ms = 0;
    c->deadline_ms = 0;
    /* Whatever was awaited belongs to the state being left; callers that
     * start a card operation set awaiting_card after entering. */
    c->awaiting_card = false;
    c->awaiting_bureau = false;
    c->card_left = false;
    core_wipe_entry(c);

    switch (core_states[s].timer) {
    case TIMER_IDLE:
        c->last_touch_ms = c->now_ms;
        c->deadline_ms = c->now_ms + c->cfg.idle_timeout_ms;
        break;
    case TIMER_CARD:
        c->deadline_ms = c->now_ms + c->cfg.card_timeout_ms;
        break;
    case TIMER_NOTICE:
        /* "Change unknown" is for the citizen who just pulled the card: it
         * waits longer for them to read it (they tap it away, or the next
         * card replaces it), where "card removed" goes in a few seconds. */
        if (n != NT_NONE)
            c->deadline_ms = c->now_ms + (n == NT_CHANGE_UNKNOWN && c->cfg.unknown_notice_ms
                                          ? c->cfg.unknown_notice_ms : c->cfg.notice_ms);
        break;
    case TIMER_LEFT:
        if (c->card_present && c->cfg.take_card_ms)
            c->deadline_ms = c->now_ms + c->cfg.take_card_ms;
        break;
    case TIMER_SERVICE:
        c->deadline_ms = c->now_ms + c->cfg.service_idle_ms;
        break;
    case TIMER_BUREAU:
        c->deadline_ms = c->now_ms + c->cfg.reset_timeout_ms;
        break;
    case TIMER_NONE:
        break;
    }

    /* The old and new PIN live only while the screens that need them do. */
    if (s != ST_VERIFYING && s != ST_ENTER_NEW_PIN && s != ST_CONFIRM_NEW_PIN &&
        s != ST_CHANGING && s != ST_RESETTING)
        core_wipe_pins(c);
    /* The texted code lives from its OK to the authorize call it goes with. */
    if (s != ST_RESET_AUTHORIZING)
        explicit_bzero(c->reset_code, sizeof c->reset_code);
    if (s != ST_RESETTING)
        c->reset_verifying = false;
    if (s != ST_ENTER_RESET_CODE)
        c->attempts_left = -1;
    if (journey_over) {
        c->card_present = false;
        c->tries_left = -1;
        c->seen_wrong = false;
        c->on_initial = false;
        c->bureau_offline = false;
        explicit_bzero(c->card_number, sizeof c->card_number);
        explicit_bzero(c->holder, sizeof c->holder);
        explicit_bzero(c->reset_id, sizeof c->reset_id);
        explicit_bzero(c->phone, sizeof c->phone);
        c->reset_expires_s = 0;
    }
    if (fresh_entry) {
        c->entry_gen++;
        if (c->cfg.scramble)
            core_fx_add(out, FX_SHUFFLE_KEYPAD, c->gen);
    }
}

void core_init(core *c, const core_config *cfg, uint64_t now_ms)
{
    memset(c, 0, sizeof *c);
    c->cfg = *cfg;
    c->lang = cfg->lang;
    c->now_ms = now_ms;
    c->tries_left = -1;
    c->attempts_left = -1;
    c->state = ST_IDLE;
}

/* ---- timers -------------------------------------------------------------- */

/* IDLE's notice about the last journey is done (read and tapped away, or
 * its time is up): the plain idle screen, or out of service if the disk
 * went while it showed. */
static void core_idle_notice_done(core *c, core_effects *out)
{
    if (c->storage_down) {
        core_enter(c, ST_OUT_OF_SERVICE, NT_STORAGE_DOWN, out);
    } else {
        c->notice = NT_NONE;
        c->deadline_ms = 0;
    }
}

/* A card still in the reader on a screen that asks for it back: remind,
 * and take the holder's name off the screen before the next person comes
 * (the card number stays masked, as it was). The screen's notice (why the
 * card was refused, say) is kept: the reminder is a flag beside it. The
 * effect repeats each time the timer passes, for a sound that repeats. */
static void core_card_left(core *c, core_effects *out)
{
    if (!c->card_present) {
        c->deadline_ms = 0;
        return;
    }
    c->card_left = true;
    explicit_bzero(c->holder, sizeof c->holder);
    core_fx_add(out, FX_REMIND_CARD, c->gen);
    c->deadline_ms = c->now_ms + c->cfg.take_card_ms;
}

static void core_tick(core *c, core_effects *out)
{
    if (c->deadline_ms == 0 || c->now_ms < c->deadline_ms)
        return;
    if (core_states[c->state].timer == TIMER_LEFT) {
        core_card_left(c, out);
        return;
    }
    switch (c->state) {
    case ST_IDLE:
        core_idle_notice_done(c, out);
        break;
    case ST_ENTER_OLD_PIN:
    case ST_ENTER_NEW_PIN:
    case ST_CONFIRM_NEW_PIN:
    case ST_RESET_OFFER:
    case ST_ENTER_RESET_CODE:
        core_keypad_timeout(c, out);
        break;
    case ST_RESET_REQUESTING:
    case ST_RESET_AUTHORIZING:
    case ST_RESETTING:
        core_reset_timeout(c, out);
        break;
    case ST_READING_CARD:
        if (c->awaiting_bureau)
            core_bureau_verdict(c, BS_UNREACHABLE, out);
        else
            core_enter(c, ST_ERROR, NT_CARD_ERROR, out);
        break;
    case ST_VERIFYING:
        core_enter(c, ST_ERROR, NT_CARD_ERROR, out);
        break;
    case ST_CHANGING:
        core_resolve(c, out, RES_UNKNOWN);
        core_enter(c, ST_ERROR, NT_CHANGE_UNKNOWN, out);
        break;
    default:
        c->deadline_ms = 0;
        break;
    }
}

/* ---- dispatch -------------------------------------------------------------- */

static void core_card_out(core *c, core_effects *out)
{
    core_notice n = NT_CARD_REMOVED;

    if (c->service_down) {
        c->card_present = false; /* the screen keeps saying why it cannot serve */
        return;
    }

    /* The card's own "removed" answer can arrive before the reader's
     * presence event; the journey is already back at IDLE saying why, and
     * that notice must stay. */
    if (c->state == ST_IDLE) {
        c->card_present = false;
        return;
    }

    /* A change or reset whose command is at the card may have happened. */
    if (c->intent_open) {
        core_resolve(c, out, RES_UNKNOWN);
        n = NT_CHANGE_UNKNOWN;
    } else if (core_states[c->state].card_asked) {
        n = NT_NONE;
    }
    core_enter(c, ST_IDLE, n, out);
}

void core_handle(core *c, const core_event *ev, core_effects *out)
{
    out->n = 0;
    if (ev->now_ms > c->now_ms)
        c->now_ms = ev->now_ms;

    if (core_service_event(c, ev, out) || core_reset_event(c, ev, out))
        return;
    switch (ev->type) {
    case EV_DIGIT:
    case EV_DELETE:
    case EV_OK:
        if (core_states[c->state].keypad)
            core_keypad_event(c, ev, out);
        break;
    case EV_CONTINUE:
        if (core_states[c->state].timer == TIMER_IDLE)
            core_touch(c);
        else if (c->state == ST_IDLE && c->notice != NT_NONE)
            core_idle_notice_done(c, out); /* btn.done: "I have read it" */
        break;
    case EV_CANCEL:
        if (core_states[c->state].cancel) {
            core_enter(c, ST_TAKE_CARD, NT_CANCELLED, out);
        }
        break;
    case EV_LANG:
        c->lang = (core_lang)((c->lang + 1) % LANG__LAST);
        if (core_states[c->state].timer == TIMER_IDLE)
            core_touch(c);
        break;
    case EV_CARD_IN:
        if (c->state == ST_IDLE && c->storage_down) {
            c->card_present = true; /* no journey: nothing could be recorded */
            core_enter(c, ST_OUT_OF_SERVICE, NT_STORAGE_DOWN, out);
        } else if (c->state == ST_IDLE) {
            c->gen++;
            c->card_present = true;
            core_enter(c, ST_READING_CARD, NT_NONE, out);
            c->awaiting_card = true;
            core_fx_add(out, FX_CARD_READ, c->gen);
        }
        break;
    case EV_CARD_OUT:
        core_card_out(c, out);
        break;
    case EV_CARD_ANSWER:
        core_on_card_answer(c, ev, out);
        break;
    case EV_BUREAU_ANSWER:
        core_on_bureau_answer(c, ev, out);
        break;
    case EV_RECORD_FAILED:
        /* The change was not sent (the intent came first); nothing to resolve. */
        c->intent_open = false;
        if (c->state != ST_IDLE)
            core_enter(c, ST_OUT_OF_SERVICE, NT_STORAGE_FAILED, out);
        break;
    case EV_SERVICE_DOWN:
        /* Whatever was under way cannot finish; a change in flight may or
         * may not have reached the card. */
        if (c->intent_open)
            core_resolve(c, out, RES_UNKNOWN);
        c->service_down = true;
        core_enter(c, ST_OUT_OF_SERVICE, NT_READER_UNAVAILABLE, out);
        c->card_present = false;
        break;
    case EV_SERVICE_UP:
        c->service_down = false;
        if (c->state == ST_OUT_OF_SERVICE && c->notice == NT_READER_UNAVAILABLE)
            core_enter(c, ST_IDLE, NT_NONE, out);
        break;
    case EV_STORAGE_DOWN:
        /* Stop before the intent, never after: a change under way finishes
         * (its record is retried), and the citizen still sees its outcome. */
        c->storage_down = true;
        /* IDLE still saying how the last journey ended keeps saying it;
         * core_tick goes out of service when that notice is done. */
        if (!c->service_down && core_storage_stops(c->state) &&
            !(c->state == ST_IDLE && c->notice != NT_NONE))
            core_enter(c, ST_OUT_OF_SERVICE, NT_STORAGE_DOWN, out);
        break;
    case EV_STORAGE_UP:
        c->storage_down = false;
        if (c->state == ST_OUT_OF_SERVICE && c->notice == NT_STORAGE_DOWN)
            core_enter(c, ST_IDLE, NT_NONE, out);
        break;
    case EV_TICK:
        core_tick(c, out);
        break;
    default:
        break;
    }
}

uint64_t core_next_deadline(const core *c)
{
    return c->deadline_ms;
}

int core_warning_seconds_left(const core *c)
{
    uint64_t left;

    if (c->notice != NT_TIMEOUT_WARNING || c->warning_end_ms <= c->now_ms)
        return 0;
    left = c->warning_end_ms - c->now_ms;
    return (int)((left + 999) / 1000);
}


#include "core/core.h"

#include <stddef.h>
#include <string.h>

/* READING_CARD starts on the card's clock and moves to the bureau's once
 * the card has been read (ACT_READ_OK in core_apply_answer). */
enum core_timer { TIMER_NONE, TIMER_IDLE, TIMER_CARD, TIMER_NOTICE, TIMER_SERVICE };

/* One row per state: its protocol name, what it shows, and what cancel does.
 * `timer` says which of the core's clocks run there. */

static const struct {
    const char *name;
    bool keypad;
    bool cancel;       /* cancel asks for the card back */
    bool card_asked;   /* the screen asks for the card: pulling it is the plan */
    enum core_timer timer;
} core_states[ST__LAST] = {
    [ST_IDLE]            = { "IDLE",            false, false, true,  TIMER_NOTICE },
    [ST_READING_CARD]    = { "READING_CARD",    false, true,  false, TIMER_CARD },
    [ST_CARD_REJECTED]   = { "CARD_REJECTED",   false, false, true,  TIMER_NONE },
    [ST_ENTER_OLD_PIN]   = { "ENTER_OLD_PIN",   true,  true,  false, TIMER_IDLE },
    [ST_VERIFYING]       = { "VERIFYING",       false, false, false, TIMER_CARD },
    [ST_ENTER_NEW_PIN]   = { "ENTER_NEW_PIN",   true,  true,  false, TIMER_IDLE },
    [ST_CONFIRM_NEW_PIN] = { "CONFIRM_NEW_PIN", true,  true,  false, TIMER_IDLE },
    [ST_CHANGING]        = { "CHANGING",        false, false, false, TIMER_CARD },
    [ST_SUCCESS]         = { "SUCCESS",         false, false, true,  TIMER_NONE },
    [ST_CARD_BLOCKED]    = { "CARD_BLOCKED",    false, false, true,  TIMER_NONE },
    [ST_ERROR]           = { "ERROR",           false, false, true,  TIMER_NONE },
    [ST_OUT_OF_SERVICE]  = { "OUT_OF_SERVICE",  false, false, true,  TIMER_NONE },
    [ST_TAKE_CARD]       = { "TAKE_CARD",       false, false, true,  TIMER_NONE },
    [ST_SERVICE_CODE]    = { "SERVICE_CODE",    true,  true,  false, TIMER_SERVICE },
    [ST_SERVICE]         = { "SERVICE",         false, false, false, TIMER_SERVICE },
};

static const char *const core_notices[NT__LAST] = {
    [NT_NONE] = NULL,
    [NT_WRONG_PIN] = "wrong_pin",
    [NT_PINS_DIFFER] = "pins_differ",
    [NT_PIN_TOO_SIMPLE] = "pin_too_simple",
    [NT_PIN_IS_INITIAL] = "pin_is_initial",
    [NT_PIN_SAME_AS_OLD] = "pin_same_as_old",
    [NT_PIN_WRONG_LENGTH] = "pin_wrong_length",
    [NT_TIMEOUT_WARNING] = "timeout_warning",
    [NT_CARD_REMOVED] = "card_removed",
    [NT_BUREAU_UNREACHABLE] = "bureau_unreachable",
    [NT_ON_INITIAL_PIN] = "on_initial_pin",
    [NT_CANCELLED] = "cancelled",
    [NT_TIMED_OUT] = "timed_out",
    [NT_CARD_LOST] = "card_lost",
    [NT_CARD_FROZEN] = "card_frozen",
    [NT_CARD_CANCELLED] = "card_cancelled",
    [NT_CARD_UNKNOWN] = "card_unknown",
    [NT_CARD_UNREADABLE] = "card_unreadable",
    [NT_CARD_EXPIRED] = "card_expired",
    [NT_CARD_LOCKED] = "card_locked",
    [NT_CARD_ERROR] = "card_error",
    [NT_CHANGE_UNKNOWN] = "change_unknown",
    [NT_STORAGE_FAILED] = "storage_failed",
    [NT_READER_UNAVAILABLE] = "reader_unavailable",
    [NT_WRONG_CODE] = "wrong_code",
    [NT_STORAGE_DOWN] = "storage_down",
};

static const char *const core_events[EV__LAST] = {
    [EV_DIGIT] = "digit", [EV_DELETE] = "delete", [EV_OK] = "ok",
    [EV_CANCEL] = "cancel", [EV_CONTINUE] = "continue", [EV_LANG] = "lang",
    [EV_CARD_IN] = "card_in", [EV_CARD_OUT] = "card_out",
    [EV_CARD_ANSWER] = "card_answer", [EV_BUREAU_ANSWER] = "bureau_answer",
    [EV_RECORD_FAILED] = "record_failed", [EV_SERVICE_DOWN] = "service_down",
    [EV_SERVICE_UP] = "service_up", [EV_STORAGE_DOWN] = "storage_down",
    [EV_STORAGE_UP] = "storage_up", [EV_SERVICE_GESTURE] = "service_gesture",
    [EV_CODE_OK] = "code_ok", [EV_CODE_BAD] = "code_bad", [EV_REQUEUE] = "requeue",
    [EV_TICK] = "tick",
};

/* What the bureau's verdict on a card means for the journey. */
static const core_notice core_bureau_notice[BS__LAST] = {
    [BS_ACTIVE] = NT_NONE,
    [BS_LOST] = NT_CARD_LOST,
    [BS_FROZEN] = NT_CARD_FROZEN,
    [BS_CANCELLED] = NT_CARD_CANCELLED,
    [BS_UNKNOWN] = NT_CARD_UNKNOWN,
    [BS_UNREACHABLE] = NT_BUREAU_UNREACHABLE,
};

const char *core_state_name(core_state s)
{
    return s < ST__LAST ? core_states[s].name : "?";
}

const char *core_notice_name(core_notice n)
{
    return n < NT__LAST ? core_notices[n] : NULL;
}

const char *core_event_name(core_event_type t)
{
    return t < EV__LAST ? core_events[t] : "?";
}

core_state core_state_from_name(const char *name)
{
    core_state s;

    for (s = 0; s < ST__LAST; s++)
        if (strcmp(core_states[s].name, name) == 0)
            break;
    return s;
}

bool core_state_has_keypad(core_state s)
{
    return s < ST__LAST && core_states[s].keypad;
}

bool core_can_cancel(const core *c)
{
    return core_states[c->state].cancel;
}

static void core_wipe_entry(core *c)
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
}

void core_effects_wipe(core_effects *e)
{
    explicit_bzero(e, sizeof *e);
}

static core_fx *core_fx_add(core_effects *out, core_fx_type type, unsigned gen)
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

static void core_fx_card_number(core *c, core_effects *out, core_fx_type type)
{
    core_fx *fx = core_fx_add(out, type, c->gen);
    memcpy(fx->card_number, c->card_number, sizeof fx->card_number);
}

static void core_resolve(core *c, core_effects *out, core_resolution r)
{
    if (c->intent_open) {
        core_fx_add(out, FX_RESOLVE_INTENT, c->gen)->resolution = r;
        c->intent_open = false;
    }
}

/* Every state change goes through here (curl's multistate() habit): it runs
 * the entry action of the new state, so no path can forget to wipe digits or
 * to arm a timer. */
/* The states a full disk stops: no command that changes the card is out,
 * and none will go without a record first. VERIFYING is not one: its
 * answer (a block, say) is still carried out and recorded. */
static bool core_storage_stops(core_state s)
{
    static const core_state stops[] = { ST_IDLE, ST_READING_CARD, ST_ENTER_OLD_PIN,
                                        ST_ENTER_NEW_PIN, ST_CONFIRM_NEW_PIN };
    bool found = false;
    for (size_t i = 0; !found && i < sizeof stops / sizeof stops[0]; i++)
        found = stops[i] == s;
    return found;
}

static void core_enter(core *c, core_state s, core_notice n, core_effects *out)
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
        if (n != NT_NONE)
            c->deadline_ms = c->now_ms + c->cfg.notice_ms;
        break;
    case TIMER_SERVICE:
        c->deadline_ms = c->now_ms + c->cfg.service_idle_ms;
        break;
    case TIMER_NONE:
        break;
    }

    /* The old and new PIN live only while the screens that need them do. */
    if (s != ST_VERIFYING && s != ST_ENTER_NEW_PIN && s != ST_CONFIRM_NEW_PIN &&
        s != ST_CHANGING)
        core_wipe_pins(c);
    if (journey_over) {
        c->card_present = false;
        c->tries_left = -1;
        c->seen_wrong = false;
        c->on_initial = false;
        c->bureau_offline = false;
        explicit_bzero(c->card_number, sizeof c->card_number);
        explicit_bzero(c->holder, sizeof c->holder);
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
    c->state = ST_IDLE;
}

static bool core_is_initial(const core *c, const char *pin)
{
    for (int i = 0; i < c->cfg.n_initial; i++)
        if (strcmp(pin, c->cfg.initial[i]) == 0)
            return true;
    return false;
}

/* ---- the keypad screens ------------------------------------------------ */

static const core_notice core_rule_notice[] = {
    [PIN_RULE_OK] = NT_NONE,
    [PIN_RULE_WRONG_LENGTH] = NT_PIN_WRONG_LENGTH,
    [PIN_RULE_IS_INITIAL] = NT_PIN_IS_INITIAL,
    [PIN_RULE_SAME_AS_OLD] = NT_PIN_SAME_AS_OLD,
    [PIN_RULE_TOO_SIMPLE] = NT_PIN_TOO_SIMPLE,
};

static void core_ok(core *c, core_effects *out)
{
    core_fx *fx;
    pin_rule rule;

    if (c->entry_len != c->cfg.pin_length) {
        c->notice = NT_PIN_WRONG_LENGTH;
        return;
    }
    switch (c->state) {
    case ST_ENTER_OLD_PIN:
        memcpy(c->old_pin, c->entry, sizeof c->old_pin);
        fx = core_fx_add(out, FX_CARD_VERIFY, c->gen);
        memcpy(fx->pin_a, c->old_pin, sizeof fx->pin_a);
        core_enter(c, ST_VERIFYING, NT_NONE, out);
        c->awaiting_card = true;
        break;
    case ST_ENTER_NEW_PIN:
        rule = pin_rules_check(c->entry, (size_t)c->cfg.pin_length,
                               (const char (*)[PIN_MAX + 1])c->cfg.initial,
                               c->cfg.n_initial, c->old_pin);
        if (rule != PIN_RULE_OK) {
            /* A fresh entry: typed again from the start, on a new keypad
             * when scrambling is on. */
            core_wipe_entry(c);
            c->notice = core_rule_notice[rule];
            c->entry_gen++;
            if (c->cfg.scramble)
                core_fx_add(out, FX_SHUFFLE_KEYPAD, c->gen);
            break;
        }
        memcpy(c->new_pin, c->entry, sizeof c->new_pin);
        core_enter(c, ST_CONFIRM_NEW_PIN, NT_NONE, out);
        break;
    case ST_CONFIRM_NEW_PIN:
        if (strcmp(c->entry, c->new_pin) != 0) {
            explicit_bzero(c->new_pin, sizeof c->new_pin);
            core_enter(c, ST_ENTER_NEW_PIN, NT_PINS_DIFFER, out);
            break;
        }
        /* The intent is made durable before the card is touched, so that a
         * crash between the two leaves "unknown", never nothing. */
        core_fx_card_number(c, out, FX_RECORD_INTENT);
        c->intent_open = true;
        fx = core_fx_add(out, FX_CARD_CHANGE, c->gen);
        memcpy(fx->pin_a, c->old_pin, sizeof fx->pin_a);
        memcpy(fx->pin_b, c->new_pin, sizeof fx->pin_b);
        core_enter(c, ST_CHANGING, NT_NONE, out);
        c->awaiting_card = true;
        break;
    default:
        break;
    }
}

static void core_touch(core *c)
{
    c->last_touch_ms = c->now_ms;
    c->deadline_ms = c->now_ms + c->cfg.idle_timeout_ms;
    if (c->notice == NT_TIMEOUT_WARNING) {
        c->notice = c->notice_before_warning;
        c->notice_before_warning = NT_NONE;
        c->warning_end_ms = 0;
    }
}

static void core_keypad_event(core *c, const core_event *ev, core_effects *out)
{
    core_touch(c);
    switch (ev->type) {
    case EV_DIGIT:
        if (ev->digit >= 0 && ev->digit <= 9 && c->entry_len < c->cfg.pin_length) {
            c->entry[c->entry_len++] = (char)('0' + ev->digit);
            /* Typing again answers the last refusal: its notice has been read. */
            if (c->notice != NT_WRONG_PIN && c->notice != NT_ON_INITIAL_PIN)
                c->notice = NT_NONE;
        }
        break;
    case EV_DELETE:
        if (c->entry_len > 0)
            c->entry[--c->entry_len] = '\0';
        break;
    case EV_OK:
        core_ok(c, out);
        break;
    default:
        break;
    }
}

/* ---- answers from the card and the bureau ------------------------------ */

static void core_bureau_verdict(core *c, core_bureau_status st, core_effects *out)
{
    c->awaiting_bureau = false;
    if (st == BS_ACTIVE) {
        core_enter(c, ST_ENTER_OLD_PIN, NT_NONE, out);
    } else if (st == BS_UNREACHABLE) {
        c->bureau_offline = true;
        if (c->cfg.offline_allow)
            core_enter(c, ST_ENTER_OLD_PIN, NT_NONE, out);
        else
            core_enter(c, ST_OUT_OF_SERVICE, NT_BUREAU_UNREACHABLE, out);
    } else {
        core_enter(c, ST_CARD_REJECTED, core_bureau_notice[st], out);
    }
}

/* A blocked answer is this terminal's doing when a wrong PIN was typed here
 * (the card counted down to zero): that is what the bureau must hear about.
 * A card that arrives blocked was blocked elsewhere. */
static void core_blocked(core *c, const core_event *ev, core_effects *out)
{
    if (ev->tries == 0 || c->seen_wrong)
        core_fx_card_number(c, out, FX_RECORD_BLOCKED);
    c->tries_left = 0;
    core_enter(c, ST_CARD_BLOCKED, NT_NONE, out);
}

/* Where each card answer leads, by operation. Most answers just enter a
 * state with a notice (and, for a change, resolve its intent); the few that
 * carry data or decide a record have an action of their own. */
enum answer_act { ACT_ENTER, ACT_READ_OK, ACT_VERIFY_OK, ACT_WRONG_PIN, ACT_BLOCKED };
enum { RES_NONE = -1 };

typedef struct {
    enum answer_act act;
    core_state state;
    core_notice notice;
    int resolve; /* core_resolution, or RES_NONE */
} answer_row;

#define GO(st, nt) { ACT_ENTER, st, nt, RES_NONE }
#define GO_RES(st, nt, r) { ACT_ENTER, st, nt, r }

static const answer_row core_answers[CO__LAST][CA__LAST] = {
    [CO_READ] = {
        [CA_OK] = { ACT_READ_OK, ST_READING_CARD, NT_NONE, RES_NONE },
        [CA_WRONG_PIN] = GO(ST_CARD_REJECTED, NT_CARD_UNREADABLE),
        [CA_BLOCKED] = GO(ST_CARD_REJECTED, NT_CARD_UNREADABLE),
        [CA_LOCKED] = GO(ST_CARD_BLOCKED, NT_CARD_LOCKED),
        [CA_REMOVED] = GO(ST_IDLE, NT_CARD_REMOVED),
        [CA_UNREADABLE] = GO(ST_CARD_REJECTED, NT_CARD_UNREADABLE),
        [CA_EXPIRED] = GO(ST_CARD_REJECTED, NT_CARD_EXPIRED),
        [CA_REFUSED] = GO(ST_CARD_REJECTED, NT_CARD_UNREADABLE),
        [CA_GARBAGE] = GO(ST_CARD_REJECTED, NT_CARD_UNREADABLE),
        [CA_IO] = GO(ST_CARD_REJECTED, NT_CARD_UNREADABLE),
    },
    [CO_VERIFY] = {
        [CA_OK] = { ACT_VERIFY_OK, ST_ENTER_NEW_PIN, NT_NONE, RES_NONE },
        [CA_WRONG_PIN] = { ACT_WRONG_PIN, ST_ENTER_OLD_PIN, NT_WRONG_PIN, RES_NONE },
        [CA_BLOCKED] = { ACT_BLOCKED, ST_CARD_BLOCKED, NT_NONE, RES_NONE },
        [CA_LOCKED] = GO(ST_CARD_BLOCKED, NT_CARD_LOCKED),
        [CA_REMOVED] = GO(ST_IDLE, NT_CARD_REMOVED),
        [CA_UNREADABLE] = GO(ST_ERROR, NT_CARD_ERROR),
        [CA_EXPIRED] = GO(ST_ERROR, NT_CARD_ERROR),
        [CA_REFUSED] = GO(ST_ERROR, NT_CARD_ERROR),
        [CA_GARBAGE] = GO(ST_ERROR, NT_CARD_ERROR),
        [CA_IO] = GO(ST_ERROR, NT_CARD_ERROR),
    },
    /* A change the card definitely refused changed nothing (discard the
     * intent); one whose answer was lost may have changed the PIN. */
    [CO_CHANGE] = {
        [CA_OK] = GO_RES(ST_SUCCESS, NT_NONE, RES_CHANGED),
        [CA_WRONG_PIN] = { ACT_WRONG_PIN, ST_ENTER_OLD_PIN, NT_WRONG_PIN, RES_DISCARD },
        [CA_BLOCKED] = { ACT_BLOCKED, ST_CARD_BLOCKED, NT_NONE, RES_DISCARD },
        [CA_LOCKED] = GO_RES(ST_CARD_BLOCKED, NT_CARD_LOCKED, RES_DISCARD),
        [CA_REMOVED] = GO_RES(ST_IDLE, NT_CHANGE_UNKNOWN, RES_UNKNOWN),
        [CA_UNREADABLE] = GO_RES(ST_ERROR, NT_CARD_ERROR, RES_DISCARD),
        [CA_EXPIRED] = GO_RES(ST_ERROR, NT_CARD_ERROR, RES_DISCARD),
        [CA_REFUSED] = GO_RES(ST_ERROR, NT_CARD_ERROR, RES_DISCARD),
        [CA_GARBAGE] = GO_RES(ST_ERROR, NT_CHANGE_UNKNOWN, RES_UNKNOWN),
        [CA_IO] = GO_RES(ST_ERROR, NT_CHANGE_UNKNOWN, RES_UNKNOWN),
    },
};

static void core_apply_answer(core *c, const core_event *ev, core_effects *out)
{
    const answer_row *row = &core_answers[ev->op][ev->answer];

    if (row->resolve != RES_NONE)
        core_resolve(c, out, (core_resolution)row->resolve);
    switch (row->act) {
    case ACT_READ_OK:
        memcpy(c->card_number, ev->card_number, sizeof c->card_number);
        c->card_number[sizeof c->card_number - 1] = '\0';
        /* Still READING_CARD: now on the bureau's clock. */
        c->awaiting_bureau = true;
        c->deadline_ms = c->now_ms + c->cfg.bureau_timeout_ms;
        core_fx_card_number(c, out, FX_BUREAU_ASK);
        break;
    case ACT_VERIFY_OK:
        c->on_initial = core_is_initial(c, c->old_pin);
        c->tries_left = -1; /* a good PIN resets the card's counter to its own maximum */
        core_enter(c, row->state, c->on_initial ? NT_ON_INITIAL_PIN : NT_NONE, out);
        break;
    case ACT_WRONG_PIN:
        c->seen_wrong = true;
        c->tries_left = ev->tries;
        core_enter(c, row->state, row->notice, out);
        break;
    case ACT_BLOCKED:
        core_blocked(c, ev, out);
        break;
    default:
        core_enter(c, row->state, row->notice, out);
        break;
    }
}

static void core_on_card_answer(core *c, const core_event *ev, core_effects *out)
{
    /* Answers for an earlier card, or that nobody waits for any more (the
     * state's timer gave up), are stale. */
    if (ev->gen != c->gen || !c->awaiting_card || ev->op >= CO__LAST || ev->answer >= CA__LAST)
        return;
    if ((ev->op == CO_READ && c->state != ST_READING_CARD) ||
        (ev->op == CO_VERIFY && c->state != ST_VERIFYING) ||
        (ev->op == CO_CHANGE && c->state != ST_CHANGING))
        return;
    c->awaiting_card = false;
    core_apply_answer(c, ev, out);
}

/* ---- timers -------------------------------------------------------------- */

static void core_tick(core *c, core_effects *out)
{
    if (c->deadline_ms == 0 || c->now_ms < c->deadline_ms)
        return;
    switch (c->state) {
    case ST_IDLE:
        if (c->storage_down) {
            core_enter(c, ST_OUT_OF_SERVICE, NT_STORAGE_DOWN, out);
        } else {
            c->notice = NT_NONE;
            c->deadline_ms = 0;
        }
        break;
    case ST_ENTER_OLD_PIN:
    case ST_ENTER_NEW_PIN:
    case ST_CONFIRM_NEW_PIN:
        if (c->notice != NT_TIMEOUT_WARNING) {
            c->notice_before_warning = c->notice;
            c->notice = NT_TIMEOUT_WARNING;
            c->warning_end_ms = c->now_ms + c->cfg.warning_ms;
            c->deadline_ms = c->warning_end_ms;
        } else {
            core_enter(c, ST_TAKE_CARD, NT_TIMED_OUT, out);
        }
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

    if (c->state == ST_CHANGING) {
        core_resolve(c, out, RES_UNKNOWN);
        n = NT_CHANGE_UNKNOWN;
    } else if (core_states[c->state].card_asked) {
        n = NT_NONE;
    }
    core_enter(c, ST_IDLE, n, out);
}

/* ---- the service screens ----------------------------------------------------- */

static bool core_in_service(const core *c)
{
    return c->state == ST_SERVICE_CODE || c->state == ST_SERVICE;
}

/* Back to where a citizen would find the terminal: out of service while the
 * reader is gone (and, through core_enter, while the disk is). */
static void core_leave_service(core *c, core_effects *out)
{
    c->card_present = false;
    if (c->service_down)
        core_enter(c, ST_OUT_OF_SERVICE, NT_READER_UNAVAILABLE, out);
    else
        core_enter(c, ST_IDLE, NT_NONE, out);
}

static void core_code_typed(core *c, const core_event *ev, core_effects *out)
{
    core_fx *fx;
    c->deadline_ms = c->now_ms + c->cfg.service_idle_ms;
    if (ev->type == EV_DIGIT && ev->digit >= 0 && ev->digit <= 9 && c->entry_len < PIN_MAX) {
        c->entry[c->entry_len++] = (char)('0' + ev->digit);
        c->notice = NT_NONE;
    } else if (ev->type == EV_DELETE && c->entry_len > 0) {
        c->entry[--c->entry_len] = '\0';
    } else if (ev->type == EV_OK && c->entry_len < CORE_CODE_MIN) {
        c->notice = NT_WRONG_CODE;
        core_wipe_entry(c);
    } else if (ev->type == EV_OK) {
        /* The caller checks the code against its salted hash and answers. */
        fx = core_fx_add(out, FX_CHECK_CODE, c->gen);
        memcpy(fx->pin_a, c->entry, sizeof fx->pin_a);
        core_wipe_entry(c);
    }
}

/* Handles what the service screens take; false for everything else. */
static bool core_service_event(core *c, const core_event *ev, core_effects *out)
{
    bool in = core_in_service(c), handled = in;

    switch (in ? ev->type : EV__LAST) {
    case EV_DIGIT:
    case EV_DELETE:
    case EV_OK:
        if (c->state == ST_SERVICE_CODE)
            core_code_typed(c, ev, out);
        break;
    case EV_CODE_OK:
        if (c->state == ST_SERVICE_CODE) {
            c->code_fails = 0;
            core_enter(c, ST_SERVICE, NT_NONE, out);
            core_fx_add(out, FX_SERVICE_OPEN, c->gen);
        }
        break;
    case EV_CODE_BAD:
        /* A few tries, then the gesture does nothing for a while: the code
         * cannot be guessed at the screen. */
        if (c->state == ST_SERVICE_CODE && c->code_fails > 0 &&
            c->now_ms - c->last_code_fail_ms >= CORE_CODE_LOCKOUT_MS)
            c->code_fails = 0; /* last week's typos do not count today */
        if (c->state == ST_SERVICE_CODE)
            c->last_code_fail_ms = c->now_ms;
        if (c->state == ST_SERVICE_CODE && ++c->code_fails >= CORE_CODE_TRIES) {
            c->code_fails = 0;
            c->service_locked_until_ms = c->now_ms + CORE_CODE_LOCKOUT_MS;
            core_leave_service(c, out);
        } else if (c->state == ST_SERVICE_CODE) {
            c->notice = NT_WRONG_CODE;
            c->deadline_ms = c->now_ms + c->cfg.service_idle_ms;
        }
        break;
    case EV_REQUEUE:
        if (c->state == ST_SERVICE) {
            c->deadline_ms = c->now_ms + c->cfg.service_idle_ms;
            core_fx_add(out, FX_REQUEUE_DEAD, c->gen);
        }
        break;
    case EV_CANCEL:
        core_leave_service(c, out);
        break;
    case EV_CONTINUE:
        c->deadline_ms = c->now_ms + c->cfg.service_idle_ms;
        break;
    case EV_LANG:
        c->lang = (core_lang)((c->lang + 1) % LANG__LAST);
        c->deadline_ms = c->now_ms + c->cfg.service_idle_ms;
        break;
    case EV_RECORD_FAILED:
        c->intent_open = false; /* a retried record: the technician stays */
        break;
    case EV_CARD_IN:
    case EV_CARD_OUT:
        /* A technician at work: a card comes and goes without a journey. */
        c->card_present = ev->type == EV_CARD_IN;
        break;
    case EV_SERVICE_DOWN:
        c->service_down = true; /* shown on leaving */
        break;
    case EV_SERVICE_UP:
        c->service_down = false;
        break;
    case EV_TICK:
        if (c->deadline_ms && c->now_ms >= c->deadline_ms)
            core_leave_service(c, out);
        break;
    default:
        handled = false; /* language, storage, stale answers: as anywhere */
        break;
    }
    if (!in && ev->type == EV_SERVICE_GESTURE) {
        handled = true;
        if (c->cfg.service_enabled && (c->state == ST_IDLE || c->state == ST_OUT_OF_SERVICE) &&
            c->now_ms >= c->service_locked_until_ms)
            core_enter(c, ST_SERVICE_CODE, NT_NONE, out);
    }
    return handled;
}

void core_handle(core *c, const core_event *ev, core_effects *out)
{
    out->n = 0;
    if (ev->now_ms > c->now_ms)
        c->now_ms = ev->now_ms;

    if (core_service_event(c, ev, out))
        return;
    switch (ev->type) {
    case EV_DIGIT:
    case EV_DELETE:
    case EV_OK:
        if (core_states[c->state].keypad)
            core_keypad_event(c, ev, out);
        break;
    case EV_CONTINUE:
        if (core_states[c->state].keypad)
            core_touch(c);
        break;
    case EV_CANCEL:
        if (core_states[c->state].cancel) {
            core_enter(c, ST_TAKE_CARD, NT_CANCELLED, out);
        }
        break;
    case EV_LANG:
        c->lang = (core_lang)((c->lang + 1) % LANG__LAST);
        if (core_states[c->state].keypad)
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
        if (ev->gen == c->gen && c->state == ST_READING_CARD && c->awaiting_bureau) {
            memcpy(c->holder, ev->holder, sizeof c->holder);
            c->holder[sizeof c->holder - 1] = '\0';
            core_bureau_verdict(c, ev->bureau < BS__LAST ? ev->bureau : BS_UNREACHABLE, out);
        }
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
        if (c->state == ST_CHANGING)
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

/* core_answers.c - what the card (read, verify, change) and the bureau (the
 * card's status) answered, and where each answer leads: the next screen,
 * a blocked card and its record, the change's intent resolved.
 *
 * Called from core_handle and core_tick (core.c); calls down into
 * core_enter and the effect helpers, never into the other screen files.
 */
#include "core/core_int.h"

#include <string.h>

/* What the bureau's verdict on a card means for the journey. */
static const core_notice core_bureau_notice[BS__LAST] = {
    [BS_ACTIVE] = NT_NONE,
    [BS_LOST] = NT_CARD_LOST,
    [BS_FROZEN] = NT_CARD_FROZEN,
    [BS_CANCELLED] = NT_CARD_CANCELLED,
    [BS_UNKNOWN] = NT_CARD_UNKNOWN,
    [BS_UNREACHABLE] = NT_BUREAU_UNREACHABLE,
};

static bool core_is_initial(const core *c, const char *pin)
{
    for (int i = 0; i < c->cfg.n_initial; i++)
        if (strcmp(pin, c->cfg.initial[i]) == 0)
            return true;
    return false;
}

void core_bureau_verdict(core *c, core_bureau_status st, core_effects *out)
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

void core_on_card_answer(core *c, const core_event *ev, core_effects *out)
{
    /* Answers for an earlier card, or that nobody waits for any more (the
     * state's timer gave up), are stale. */
    if (ev->gen != c->gen || !c->awaiting_card || ev->op >= CO__LAST || ev->answer >= CA__LAST)
        return;
    /* The reset's own operations, and the verify of the initial PIN that
     * follows the reset, are core_reset.c's. */
    if (ev->op == CO_CHALLENGE || ev->op == CO_RESET || c->state == ST_RESETTING) {
        core_reset_card_answer(c, ev, out);
        return;
    }
    if ((ev->op == CO_READ && c->state != ST_READING_CARD) ||
        (ev->op == CO_VERIFY && c->state != ST_VERIFYING) ||
        (ev->op == CO_CHANGE && c->state != ST_CHANGING))
        return;
    c->awaiting_card = false;
    core_apply_answer(c, ev, out);
}

void core_on_bureau_answer(core *c, const core_event *ev, core_effects *out)
{
    if (ev->gen == c->gen && c->state == ST_READING_CARD && c->awaiting_bureau) {
        memcpy(c->holder, ev->holder, sizeof c->holder);
        c->holder[sizeof c->holder - 1] = '\0';
        core_bureau_verdict(c, ev->bureau < BS__LAST ? ev->bureau : BS_UNREACHABLE, out);
    }
}

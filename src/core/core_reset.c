/* core_reset.c - the reset of a forgotten or blocked PIN through the bureau
 * (bureau-api.md section 3): the offer, the texted code, the card's
 * challenge, the bureau's command at the card under an intent record, and
 * the initial PIN verified by the kiosk so that the citizen goes straight on
 * to choosing a PIN of their own.
 *
 * Called from core_handle, core_tick and core_on_card_answer (core.c,
 * core_answers.c); calls down into core_enter and the effect helpers, never
 * into the other screen files.
 */
#include "core/core_int.h"

#include <string.h>

/* Where each of the bureau's answers leads when it is not CR_OK. A request
 * (texting a code) and an authorize call (the code checked) can each end in
 * most of these; CR_CODE_INVALID alone goes back to the keypad. */
typedef struct {
    core_state state;
    core_notice notice;
} reset_end;

static const reset_end core_reset_ends[CR__LAST] = {
    [CR_NO_PHONE] = { ST_ERROR, NT_NO_PHONE_ON_FILE },
    [CR_NOT_ACTIVE] = { ST_CARD_REJECTED, NT_CARD_NOT_ACTIVE },
    [CR_TOO_MANY] = { ST_ERROR, NT_TOO_MANY_RESETS },
    [CR_CARD_UNKNOWN] = { ST_CARD_REJECTED, NT_CARD_UNKNOWN },
    [CR_CODE_INVALID] = { ST_ENTER_RESET_CODE, NT_CODE_WRONG },
    [CR_VOID] = { ST_ERROR, NT_RESET_VOID },
    [CR_EXPIRED] = { ST_ERROR, NT_CODE_EXPIRED },
    [CR_NOT_FOUND] = { ST_ERROR, NT_RESET_FAILED },
    [CR_ALREADY_USED] = { ST_ERROR, NT_RESET_FAILED },
    [CR_UNREACHABLE] = { ST_ERROR, NT_RESET_UNAVAILABLE },
};

/* What a request for a code can be answered (section 3 step 1). */
static const bool core_request_answers[CR__LAST] = {
    [CR_OK] = true, [CR_NO_PHONE] = true, [CR_NOT_ACTIVE] = true, [CR_TOO_MANY] = true,
    [CR_CARD_UNKNOWN] = true, [CR_UNREACHABLE] = true,
};

/* The card's answer to the bureau's command: the intent's resolution and
 * the screen. OK goes on to verify the initial PIN (not listed here). A
 * definite refusal changed nothing; a lost answer may have changed it. */
typedef struct {
    core_resolution resolution;
    core_state state;
    core_notice notice;
} reset_card_row;

static const reset_card_row core_reset_card[CA__LAST] = {
    [CA_WRONG_PIN] = { RES_DISCARD, ST_ERROR, NT_RESET_REFUSED },
    [CA_BLOCKED] = { RES_DISCARD, ST_ERROR, NT_RESET_REFUSED },
    [CA_LOCKED] = { RES_DISCARD, ST_CARD_BLOCKED, NT_CARD_LOCKED },
    [CA_REMOVED] = { RES_UNKNOWN, ST_IDLE, NT_CHANGE_UNKNOWN },
    [CA_UNREADABLE] = { RES_DISCARD, ST_ERROR, NT_RESET_REFUSED },
    [CA_EXPIRED] = { RES_DISCARD, ST_ERROR, NT_RESET_REFUSED },
    [CA_REFUSED] = { RES_DISCARD, ST_ERROR, NT_RESET_REFUSED },
    [CA_GARBAGE] = { RES_UNKNOWN, ST_ERROR, NT_CHANGE_UNKNOWN },
    [CA_IO] = { RES_UNKNOWN, ST_ERROR, NT_CHANGE_UNKNOWN },
};

/* A card blocked by wrong PINs can be reset; one locked for good (93 03)
 * cannot, and says so instead. */
bool core_can_forget(const core *c)
{
    return !c->storage_down &&
           (c->state == ST_ENTER_OLD_PIN ||
            (c->state == ST_CARD_BLOCKED && c->notice != NT_CARD_LOCKED && c->card_number[0]));
}

static void core_reset_request(core *c, core_effects *out)
{
    core_enter(c, ST_RESET_REQUESTING, NT_NONE, out);
    core_fx_card_number(c, out, FX_RESET_REQUEST);
    c->awaiting_bureau = true;
}

static void core_reset_code_ok(core *c, core_effects *out)
{
    if (c->entry_len != CORE_CODE_LEN) {
        c->notice = NT_PIN_WRONG_LENGTH;
        return;
    }
    memcpy(c->reset_code, c->entry, CORE_CODE_LEN);
    c->reset_code[CORE_CODE_LEN] = '\0';
    /* A fresh challenge for every authorize call (section 3 step 2): the
     * card voids it at its next command, so it is asked for only now. */
    core_enter(c, ST_RESET_AUTHORIZING, NT_NONE, out);
    core_fx_add(out, FX_CARD_CHALLENGE, c->gen);
    c->awaiting_card = true;
}


static void core_on_reset_answer(core *c, const core_event *ev, core_effects *out)
{
    bool want = ev->authorize ? c->state == ST_RESET_AUTHORIZING : c->state == ST_RESET_REQUESTING;
    core_fx *fx;

    if (ev->gen != c->gen || !want || !c->awaiting_bureau || ev->reset >= CR__LAST)
        return;
    c->awaiting_bureau = false;
    if (!ev->authorize && !core_request_answers[ev->reset]) {
        /* An answer about a code before any code was sent: not the bureau
         * we know; nothing was texted that we can use. */
        core_enter(c, ST_ERROR, NT_RESET_FAILED, out);
        return;
    }
    if (ev->reset != CR_OK) {
        const reset_end *end = &core_reset_ends[ev->reset];
        core_enter(c, end->state, end->notice, out);
        if (ev->reset == CR_CODE_INVALID)
            c->attempts_left = ev->attempts_left;
        return;
    }
    if (!ev->authorize) {
        memcpy(c->reset_id, ev->reset_id, sizeof c->reset_id);
        c->reset_id[sizeof c->reset_id - 1] = '\0';
        memcpy(c->phone, ev->phone, sizeof c->phone);
        c->phone[sizeof c->phone - 1] = '\0';
        c->reset_expires_s = ev->expires_s;
        core_enter(c, ST_ENTER_RESET_CODE, NT_NONE, out);
        return;
    }
    if (ev->apdu_len < 4 || ev->apdu_len > CORE_APDU_MAX) {
        /* kiosk-sync checks it; a command that cannot be one is the
         * bureau's failure, and nothing has been recorded or sent. */
        core_enter(c, ST_ERROR, NT_RESET_FAILED, out);
        return;
    }
    /* The intent is durable before the command reaches the card (step 4). */
    fx = core_fx_add(out, FX_RECORD_INTENT, c->gen);
    memcpy(fx->card_number, c->card_number, sizeof fx->card_number);
    memcpy(fx->reset_id, c->reset_id, sizeof fx->reset_id);
    c->intent_open = true;
    fx = core_fx_add(out, FX_CARD_RESET, c->gen);
    memcpy(fx->apdu, ev->apdu, (size_t)ev->apdu_len);
    fx->apdu_len = ev->apdu_len;
    core_enter(c, ST_RESETTING, NT_NONE, out);
    c->awaiting_card = true;
}

bool core_reset_event(core *c, const core_event *ev, core_effects *out)
{
    switch (ev->type) {
    case EV_FORGOT:
        if (core_can_forget(c)) {
            c->reset_from = c->state;
            core_enter(c, ST_RESET_OFFER, NT_NONE, out);
        }
        return true;
    case EV_RESET:
        if (c->state == ST_RESET_OFFER)
            core_reset_request(c, out);
        return true;
    case EV_RESET_ANSWER:
        core_on_reset_answer(c, ev, out);
        return true;
    case EV_CANCEL:
        if (c->state != ST_RESET_OFFER)
            return false;
        /* Back to where the offer was made; a blocked card stays blocked. */
        core_enter(c, c->reset_from == ST_CARD_BLOCKED ? ST_CARD_BLOCKED : ST_ENTER_OLD_PIN,
                   NT_NONE, out);
        return true;
    case EV_DIGIT:
    case EV_DELETE:
    case EV_OK:
        if (c->state != ST_ENTER_RESET_CODE)
            return false;
        if (!core_entry_edit(c, ev, CORE_CODE_LEN) && ev->type == EV_OK)
            core_reset_code_ok(c, out);
        return true;
    default:
        return false;
    }
}

void core_reset_timeout(core *c, core_effects *out)
{
    if (c->state == ST_RESETTING) {
        core_resolve(c, out, RES_UNKNOWN);
        core_enter(c, ST_ERROR, c->reset_verifying ? NT_CARD_ERROR : NT_CHANGE_UNKNOWN, out);
    } else if (c->awaiting_card) {
        core_enter(c, ST_ERROR, NT_CARD_ERROR, out);
    } else {
        /* No answer from the bureau in time: never asked again behind the
         * citizen's back (each request texts a code). */
        core_enter(c, ST_ERROR, NT_RESET_UNAVAILABLE, out);
    }
}

static void core_challenge_answer(core *c, const core_event *ev, core_effects *out)
{
    core_fx *fx;

    if (ev->answer != CA_OK) {
        core_enter(c, ev->answer == CA_REMOVED ? ST_IDLE : ST_ERROR,
                   ev->answer == CA_REMOVED ? NT_CARD_REMOVED : NT_CARD_ERROR, out);
        return;
    }
    fx = core_fx_add(out, FX_RESET_AUTHORIZE, c->gen);
    memcpy(fx->reset_id, c->reset_id, sizeof fx->reset_id);
    memcpy(fx->pin_a, c->reset_code, sizeof c->reset_code);
    memcpy(fx->challenge, ev->challenge, sizeof fx->challenge);
    /* The effect carries the code now; the core's copy goes. */
    explicit_bzero(c->reset_code, sizeof c->reset_code);
    c->awaiting_bureau = true;
    c->deadline_ms = c->now_ms + c->cfg.reset_timeout_ms;
}

void core_reset_card_answer(core *c, const core_event *ev, core_effects *out)
{
    const reset_card_row *row;
    core_fx *fx;

    if (ev->op == CO_CHALLENGE && c->state == ST_RESET_AUTHORIZING && !c->awaiting_bureau) {
        c->awaiting_card = false;
        core_challenge_answer(c, ev, out);
    } else if (ev->op == CO_RESET && c->state == ST_RESETTING && !c->reset_verifying) {
        c->awaiting_card = false;
        if (ev->answer != CA_OK) {
            row = &core_reset_card[ev->answer];
            core_resolve(c, out, row->resolution);
            core_enter(c, row->state, row->notice, out);
            return;
        }
        core_resolve(c, out, RES_RESET);
        /* The card is on the initial PIN now: the kiosk checks that itself
         * and the citizen is not asked for it (section 3 step 5). */
        c->reset_verifying = true;
        c->tries_left = -1;
        memcpy(c->old_pin, CORE_RESET_PIN, sizeof CORE_RESET_PIN);
        fx = core_fx_add(out, FX_CARD_VERIFY, c->gen);
        memcpy(fx->pin_a, c->old_pin, sizeof fx->pin_a);
        c->awaiting_card = true;
        c->deadline_ms = c->now_ms + c->cfg.card_timeout_ms;
    } else if (ev->op == CO_VERIFY && c->state == ST_RESETTING && c->reset_verifying) {
        c->awaiting_card = false;
        if (ev->answer == CA_OK) {
            c->on_initial = true;
            core_enter(c, ST_ENTER_NEW_PIN, NT_PIN_WAS_RESET, out);
        } else {
            /* The reset is recorded; the PIN is the initial one or the card
             * is misbehaving: either way a counter can finish the job. */
            core_enter(c, ev->answer == CA_REMOVED ? ST_IDLE : ST_ERROR,
                       ev->answer == CA_REMOVED ? NT_CARD_REMOVED : NT_CARD_ERROR, out);
        }
    }
}

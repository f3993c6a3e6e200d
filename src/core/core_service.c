/* core_service.c - the technician's screens: the hidden gesture, the code
 * (checked by the caller, with a lockout after a few wrong ones), the
 * service screen and the way back to where a citizen finds the terminal.
 *
 * core_handle (core.c) offers it every event first; it calls down into
 * core_enter and the effect helpers.
 */
#include "core/core_int.h"

#include <string.h>

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
    if (c->code_checking) {
        /* One check at a time; what is typed meanwhile is not a code. */
    } else if (ev->type == EV_DIGIT && ev->digit >= 0 && ev->digit <= 9 && c->entry_len < PIN_MAX) {
        c->entry[c->entry_len++] = (char)('0' + ev->digit);
        c->notice = NT_NONE;
    } else if (ev->type == EV_DELETE && c->entry_len > 0) {
        c->entry[--c->entry_len] = '\0';
    } else if (ev->type == EV_OK && c->entry_len < CORE_CODE_MIN) {
        c->notice = NT_WRONG_CODE;
        core_wipe_entry(c);
    } else if (ev->type == EV_OK) {
        /* The caller checks the code against its salted hash and answers. */
        fx = core_fx_add(out, FX_CHECK_CODE, ++c->code_gen);
        memcpy(fx->pin_a, c->entry, sizeof fx->pin_a);
        core_wipe_entry(c);
        c->code_checking = true;
    }
}

/* Handles what the service screens take; false for everything else. */
bool core_service_event(core *c, const core_event *ev, core_effects *out)
{
    bool in = core_in_service(c), handled = in;
    /* The verdict on the code in check, and no other (a late one for a
     * code typed before the technician left and came back is stale). */
    bool verdict = (ev->type == EV_CODE_OK || ev->type == EV_CODE_BAD) && c->state == ST_SERVICE_CODE &&
                   c->code_checking && ev->gen == c->code_gen;

    if (verdict)
        c->code_checking = false;

    switch (in ? ev->type : EV__LAST) {
    case EV_DIGIT:
    case EV_DELETE:
    case EV_OK:
        if (c->state == ST_SERVICE_CODE)
            core_code_typed(c, ev, out);
        break;
    case EV_CODE_OK:
        if (verdict) {
            c->code_fails = 0;
            core_enter(c, ST_SERVICE, NT_NONE, out);
            core_fx_add(out, FX_SERVICE_OPEN, c->gen);
        }
        break;
    case EV_CODE_BAD:
        /* A few tries, then the gesture does nothing for a while: the code
         * cannot be guessed at the screen. */
        if (!verdict)
            break;
        if (c->code_fails > 0 && c->now_ms - c->last_code_fail_ms >= CORE_CODE_LOCKOUT_MS)
            c->code_fails = 0; /* last week's typos do not count today */
        c->last_code_fail_ms = c->now_ms;
        if (++c->code_fails >= CORE_CODE_TRIES) {
            c->code_fails = 0;
            c->service_locked_until_ms = c->now_ms + CORE_CODE_LOCKOUT_MS;
            core_leave_service(c, out);
        } else {
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
            c->now_ms >= c->service_locked_until_ms) {
            c->code_checking = false; /* a check from an earlier visit is stale */
            core_enter(c, ST_SERVICE_CODE, NT_NONE, out);
        }
    }
    return handled;
}

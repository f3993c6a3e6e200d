/* core_keypad.c - the PIN entry screens (ENTER_OLD_PIN, ENTER_NEW_PIN,
 * CONFIRM_NEW_PIN): digits, delete, OK and the rules a new PIN must meet,
 * and the entry timer (a touch rearms it, its end warns, then gives up).
 *
 * Called from core_handle and core_tick (core.c); calls down into
 * core_enter, the wipes and the effect helpers, and into pin_rules.
 */
#include "core/core_int.h"

#include <stddef.h>
#include <string.h>

#include "core/pin_rules.h"

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

void core_touch(core *c)
{
    c->last_touch_ms = c->now_ms;
    c->deadline_ms = c->now_ms + c->cfg.idle_timeout_ms;
    if (c->notice == NT_TIMEOUT_WARNING) {
        c->notice = c->notice_before_warning;
        c->notice_before_warning = NT_NONE;
        c->warning_end_ms = 0;
    }
}

/* Notices that stay while the citizen types: they carry what the next
 * entry needs (tries or attempts left, why this PIN is being chosen). */
static bool core_notice_stays(core_notice n)
{
    return n == NT_WRONG_PIN || n == NT_ON_INITIAL_PIN || n == NT_CODE_WRONG || n == NT_PIN_WAS_RESET;
}

bool core_entry_edit(core *c, const core_event *ev, int max_len)
{
    core_touch(c);
    if (ev->type == EV_DIGIT) {
        if (ev->digit >= 0 && ev->digit <= 9 && c->entry_len < max_len) {
            c->entry[c->entry_len++] = (char)('0' + ev->digit);
            /* Typing again answers the last refusal: its notice has been read. */
            if (!core_notice_stays(c->notice))
                c->notice = NT_NONE;
        }
        return true;
    }
    if (ev->type == EV_DELETE) {
        if (c->entry_len > 0)
            c->entry[--c->entry_len] = '\0';
        return true;
    }
    return false;
}

void core_keypad_event(core *c, const core_event *ev, core_effects *out)
{
    if (!core_entry_edit(c, ev, c->cfg.pin_length) && ev->type == EV_OK)
        core_ok(c, out);
}

void core_keypad_timeout(core *c, core_effects *out)
{
    if (c->notice != NT_TIMEOUT_WARNING) {
        c->notice_before_warning = c->notice;
        c->notice = NT_TIMEOUT_WARNING;
        c->warning_end_ms = c->now_ms + c->cfg.warning_ms;
        c->deadline_ms = c->warning_end_ms;
    } else {
        core_enter(c, ST_TAKE_CARD, NT_TIMED_OUT, out);
    }
}

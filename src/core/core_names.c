/* core_names.c - the core's tables: one row per state (its protocol name,
 * keypad, cancel, timer), and the protocol names of notices and events,
 * with the lookups on them.
 *
 * Data and lookups only: it calls nothing of the core. The rest of
 * src/core reads core_states (through core_int.h); a new state is a new
 * row here.
 */
#include "core/core_int.h"

#include <stddef.h>
#include <string.h>

/* The row's fields are described in core_int.h. */
const struct core_state_row core_states[ST__LAST] = {
    [ST_IDLE]            = { "IDLE",            false, false, true,  TIMER_NOTICE },
    [ST_READING_CARD]    = { "READING_CARD",    false, true,  false, TIMER_CARD },
    [ST_CARD_REJECTED]   = { "CARD_REJECTED",   false, false, true,  TIMER_LEFT },
    [ST_ENTER_OLD_PIN]   = { "ENTER_OLD_PIN",   true,  true,  false, TIMER_IDLE },
    [ST_VERIFYING]       = { "VERIFYING",       false, false, false, TIMER_CARD },
    [ST_ENTER_NEW_PIN]   = { "ENTER_NEW_PIN",   true,  true,  false, TIMER_IDLE },
    [ST_CONFIRM_NEW_PIN] = { "CONFIRM_NEW_PIN", true,  true,  false, TIMER_IDLE },
    [ST_CHANGING]        = { "CHANGING",        false, false, false, TIMER_CARD },
    [ST_SUCCESS]         = { "SUCCESS",         false, false, true,  TIMER_LEFT },
    [ST_CARD_BLOCKED]    = { "CARD_BLOCKED",    false, false, true,  TIMER_LEFT },
    [ST_ERROR]           = { "ERROR",           false, false, true,  TIMER_LEFT },
    [ST_OUT_OF_SERVICE]  = { "OUT_OF_SERVICE",  false, false, true,  TIMER_LEFT },
    [ST_TAKE_CARD]       = { "TAKE_CARD",       false, false, true,  TIMER_LEFT },
    [ST_SERVICE_CODE]    = { "SERVICE_CODE",    true,  true,  false, TIMER_SERVICE },
    [ST_SERVICE]         = { "SERVICE",         false, false, false, TIMER_SERVICE },
    /* Cancel on the offer goes back, not out (core_reset.c); the waits
     * cannot be cancelled (each is bounded: a code may be on its way). */
    [ST_RESET_OFFER]       = { "RESET_OFFER",       false, true,  false, TIMER_IDLE },
    [ST_RESET_REQUESTING]  = { "RESET_REQUESTING",  false, false, false, TIMER_BUREAU },
    [ST_ENTER_RESET_CODE]  = { "ENTER_RESET_CODE",  true,  true,  false, TIMER_IDLE },
    [ST_RESET_AUTHORIZING] = { "RESET_AUTHORIZING", false, false, false, TIMER_BUREAU },
    [ST_RESETTING]         = { "RESETTING",         false, false, false, TIMER_CARD },
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
    [NT_CODE_WRONG] = "code_wrong",
    [NT_CODE_EXPIRED] = "code_expired",
    [NT_RESET_VOID] = "reset_void",
    [NT_NO_PHONE_ON_FILE] = "no_phone_on_file",
    [NT_TOO_MANY_RESETS] = "too_many_resets",
    [NT_RESET_REFUSED] = "reset_refused",
    [NT_RESET_UNAVAILABLE] = "reset_unavailable",
    [NT_CARD_NOT_ACTIVE] = "card_not_active",
    [NT_RESET_FAILED] = "reset_failed",
    [NT_PIN_WAS_RESET] = "pin_was_reset",
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
    [EV_FORGOT] = "forgot", [EV_RESET] = "reset", [EV_RESET_ANSWER] = "reset_answer",
    [EV_TICK] = "tick",
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

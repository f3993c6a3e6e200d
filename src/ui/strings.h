/* strings.h - every word the kiosk shows, in Chinese and English.
 *
 * One table, indexed by string id and language, so that a screen can never
 * exist in one language only (the unit test walks the whole table) and the
 * font subset script can find every character the kiosk needs.
 * Some strings hold one %d (a count); str_fmt() fills it in.
 */
#ifndef UI_STRINGS_H
#define UI_STRINGS_H

#include <stddef.h>

#include "core/core.h"

typedef enum {
    S_APP_TITLE,
    S_BTN_LANG,
    S_BTN_CANCEL,
    S_BTN_CONTINUE,
    S_KEY_BACK,
    S_KEY_OK,
    S_CARD_LABEL,      /* %s: masked card number */
    S_HOLDER_LABEL,    /* %s: masked holder name */
    S_PIN_HINT_OLD,    /* %d digits */
    S_PIN_HINT_NEW,    /* %d digits */
    S_PIN_HINT_CONFIRM,
    S_WRONG_PIN_COUNT, /* %d tries left */
    S_WRONG_PIN_LAST,
    S_WRONG_PIN_PLAIN,
    S_LAST_TRY,        /* stays in view on the last try, whatever the notice */
    S_WRONG_LENGTH,    /* %d digits */
    S_WARNING,         /* %d seconds */
    S_COUNTER_ADVICE,
    /* The service screens (a technician's, not a citizen's). */
    S_CODE_HINT,
    S_BTN_REQUEUE,     /* %d dead letters */
    S_BTN_EXIT,
    S_SV_VERSION,      /* each S_SV_ label is followed by its value */
    S_SV_TERMINAL,
    S_SV_READERS,
    S_SV_READER_USED,
    S_SV_PROFILE,
    S_SV_BUREAU,
    S_SV_LAST_ERROR,
    S_SV_OUTBOX,
    S_SV_DEAD,
    S_SV_UNMOVABLE,    /* %d dead letters kiosk-sync could not move */
    S_SV_UPTIME,
    S_SV_DISK,
    S_SV_STORAGE,
    S_SV_NONE,         /* a value that is not there: no reader, no card yet */
    S_SV_OK,           /* storage fine */
    S_SV_BUREAU_OK,
    S_SV_BUREAU_DOWN,
    S_SV_BUREAU_UNKNOWN,
    /* The reset of a forgotten PIN. */
    S_BTN_FORGOT,
    S_BTN_RESET,
    S_BLOCKED_CAN_RESET, /* CARD_BLOCKED when the reset is offered */
    S_CODE_SENT,       /* %s: the masked phone; then S_CODE_VALID */
    S_CODE_VALID,      /* %d minutes */
    S_CODE_WRONG_COUNT,/* %d attempts left */
    /* The screens that guide (issue 13). */
    S_LAST_TRY_TITLE,  /* the last-try box's first words, in large type */
    S_LAST_TRY_COUNTER,/* S_LAST_TRY when the reset is not on offer */
    S_STEP_OLD,        /* the step indicator of the three PIN screens */
    S_STEP_NEW,
    S_STEP_CONFIRM,
    S_OLD_PIN_OK,      /* ENTER_NEW_PIN's first visit: the old PIN was accepted */
    S_RULE_EXAMPLES,   /* %s same digit, %s run up, %s run down: what is refused */
    S_RULE_INITIAL,    /* %s: the initial PIN, after S_RULE_EXAMPLES */
    S_IDLE_INITIAL,    /* %s: the initial PIN; IDLE's "before you start" */
    S_IDLE_WHICH_PIN,
    S_IDLE_TRIES,
    S_TOO_SIMPLE_FMT,  /* %s same digit, %s run up, %s run down */
    /* Issue 13 items 4, 6, 7 (view_care.c). */
    S_BTN_DONE,        /* IDLE: "I have read it" */
    S_UNKNOWN_GONE,    /* IDLE after a card pulled mid-change: for that citizen */
    S_UNKNOWN_ADVICE,  /* ERROR change_unknown, card still in: advice that costs nothing */
    S_TAKE_CARD_REMINDER,
    S_STATION_COUNTER, /* %s: [terminal] counter */
    S_STATION_HOURS,   /* %s: [terminal] counter_hours */
    S_STATION_HOTLINE, /* the 12333 helpline */
    /* The voice. */
    S_BTN_REPEAT,      /* says the screen's prompt again */
    S__LAST
} str_id;

const char *str_get(str_id id, core_lang lang);

/* The heading of a state and the sentence under it for a notice (or for the
 * plain visit when notice is NT_NONE); "" when there is none. */
const char *str_heading(core_state s, core_lang lang);
/* The heading for a state with its notice: a few notices change what the
 * screen is about (a card locked for good, a change that may have
 * happened); the others keep the state's heading. */
const char *str_heading_for(core_state s, core_notice n, core_lang lang);
const char *str_body(core_state s, core_notice n, core_lang lang);

/* snprintf of a table string with one int; returns `buf`. */
char *str_fmt(char *buf, size_t len, str_id id, core_lang lang, int n);

/* For tests and the font check: calls fn on every string in the tables. */
void str_each(void (*fn)(const char *s, void *ud), void *ud);

#endif

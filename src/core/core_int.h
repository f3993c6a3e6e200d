/* core_int.h - private to src/core: what the core's own files share.
 *
 * Nothing outside src/core includes this; the public face is core.h. Every
 * state change goes through core_enter() (core.c), and the screen files
 * (keypad, answers, service) call down into it and into the effect helpers,
 * never into one another.
 */
#ifndef CORE_CORE_INT_H
#define CORE_CORE_INT_H

#include <stdbool.h>

#include "core/core.h"

/* READING_CARD starts on the card's clock and moves to the bureau's once
 * the card has been read (ACT_READ_OK in core_apply_answer, core_answers.c). */
/* TIMER_IDLE: the citizen's inactivity (warn, then give up); TIMER_BUREAU:
 * patience for a reset answer from the bureau (cfg.reset_timeout_ms). */
/* TIMER_LEFT: a screen that asks for the card back; a card still there
 * after cfg.take_card_ms gets a reminder (core_card_left). */
enum core_timer { TIMER_NONE, TIMER_IDLE, TIMER_CARD, TIMER_NOTICE, TIMER_SERVICE, TIMER_BUREAU,
                  TIMER_LEFT };

/* One row per state: its protocol name, what it shows, and what cancel does.
 * `timer` says which of the core's clocks run there. The rows are in
 * core_names.c. */
struct core_state_row {
    const char *name;
    bool keypad;
    bool cancel;       /* cancel asks for the card back */
    bool card_asked;   /* the screen asks for the card: pulling it is the plan */
    enum core_timer timer;
};

extern const struct core_state_row core_states[ST__LAST];

/* core.c: the one transition, the wipes and the effect helpers. */
void core_enter(core *c, core_state s, core_notice n, core_effects *out);
void core_wipe_entry(core *c);
core_fx *core_fx_add(core_effects *out, core_fx_type type, unsigned gen);
void core_fx_card_number(core *c, core_effects *out, core_fx_type type);
void core_resolve(core *c, core_effects *out, core_resolution r);

/* core_keypad.c: the PIN entry screens. */
void core_touch(core *c);
/* A digit (up to max_len) or a delete on the entry, after a touch; false
 * for any other event (OK is the screen's own). */
bool core_entry_edit(core *c, const core_event *ev, int max_len);
void core_keypad_event(core *c, const core_event *ev, core_effects *out);
/* The entry timer ran out: warn first, then give up. */
void core_keypad_timeout(core *c, core_effects *out);

/* core_answers.c: what the card and the bureau said. */
void core_bureau_verdict(core *c, core_bureau_status st, core_effects *out);
void core_on_card_answer(core *c, const core_event *ev, core_effects *out);
void core_on_bureau_answer(core *c, const core_event *ev, core_effects *out);

/* core_reset.c: the reset of a forgotten or blocked PIN. True when it took
 * the event. */
bool core_reset_event(core *c, const core_event *ev, core_effects *out);
/* RESET_REQUESTING, RESET_AUTHORIZING or RESETTING ran out of time. */
void core_reset_timeout(core *c, core_effects *out);
/* The card's answer to a challenge or to the reset (and the verify after). */
void core_reset_card_answer(core *c, const core_event *ev, core_effects *out);

/* core_service.c: the technician's screens. */
bool core_service_event(core *c, const core_event *ev, core_effects *out);

#endif

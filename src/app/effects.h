/* effects.h - the one place where the core is fed and its effects are
 * carried out. Events come in from every room (input, control, loop,
 * records) and from the worker threads' answers (post.c's events); effects
 * go out to the card worker, the sync client, the outbox (records.c), the
 * keypad (display.c) and the service screen's figures.
 */
#ifndef APP_EFFECTS_H
#define APP_EFFECTS_H

#include <stdbool.h>
#include <stdint.h>

#include "app/app_int.h"
#include "app/post.h"
#include "config/config.h"
#include "core/core.h"

/* Reads the technician code's hash from cfg (checked when it was read). */
app_fx *fx_new(const kiosk_config *cfg);
void fx_free(app_fx *f);
/* A technician code is configured: the service screen can open. */
bool fx_service_enabled(const app_fx *f);
/* The code checker's thread, when there is a code (after the mailbox and
 * the secrets arena exist); and its end (before the mailbox's). */
bool fx_start(app *a, char *err, size_t errlen);
void fx_stop(app *a);

/* Feeds the core one event (stamped with the time) and carries out what it
 * asks, in order; marks the screen dirty when what it shows moved. Answers
 * from the card and the bureau are wiped after. */
void fx_feed(app *a, core_event *ev);
void fx_simple(app *a, core_event_type t);

/* Announces a change of state or notice (if there is one since the last):
 * one log line, the subscribers, the waits, the next screens prepared
 * anew. fx_feed calls it after every event, so that a state that lasts
 * less than a loop turn (CHANGING on a quick card) is still announced;
 * the loop once before the first frame. */
void fx_note_state(app *a);

/* A worker's news from the mailbox (any post_kind but POST_CONTROL),
 * turned into a core event. The caller frees the message (post_msg_free). */
void fx_worker_event(app *a, post_msg *m);

/* Gathers the service screen's figures (the bureau's come from kiosk-sync,
 * asked separately). */
void fx_service_refresh(app *a);

/* The service screen's next refresh (monotonic ms), 0 none; and doing it. */
uint64_t fx_deadline(const app *a);
void fx_due(app *a);

#endif

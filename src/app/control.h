/* control.h - the control socket's requests, on the main thread: each
 * becomes synthetic input (SDL finger and key events, so a scripted tap
 * goes through the same hit-testing as a finger), a wait on a state, a
 * screenshot, a simulated card, or a reply built from what is on screen.
 * Every request gets exactly one reply; taps, types and keys are answered
 * once the events they pushed have been handled. Subscribers hear every
 * state change.
 */
#ifndef APP_CONTROL_H
#define APP_CONTROL_H

#include <stdint.h>

#include <SDL.h>

#include "app/app_int.h"
#include "control/ctl_proto.h"

app_control *control_new(void);
/* Frees the waits still open (their clients get no reply: we are stopping). */
void control_free(app_control *c);

/* One request from the mailbox (POST_CONTROL); req stays the caller's. */
void control_request(app *a, uint64_t client, ctl_request *req);
/* UEV_CONTROL_DONE (post.h): the reply owed to a tap, type or key; frees
 * the payload. */
void control_done(app *a, const SDL_UserEvent *e);

/* The state (or notice) changed: tell the subscribers. */
void control_announce(app *a);
/* Answers the waits whose state came, or whose time ran out. */
void control_check_waits(app *a);

/* The next wait's deadline or a long press's release (monotonic ms), 0
 * none; and lifting the finger when due. */
uint64_t control_deadline(const app *a);
void control_due(app *a);

#endif

/* input.h - a finger, the mouse or a key becomes a core event. Taps hit the
 * layout display.c last built; the action happens on release over the
 * widget the finger went down on. Also the technician's keys and the
 * service gesture (a long press on the title). Synthetic taps and keys
 * from the control socket arrive here as ordinary SDL events.
 */
#ifndef APP_INPUT_H
#define APP_INPUT_H

#include <stdint.h>

#include <SDL.h>

#include "app/app_int.h"

app_input *input_new(void);
void input_free(app_input *in);

/* An SDL finger, mouse button or key event. */
void input_event(app *a, const SDL_Event *e);

/* The id of the widget a finger is down on, "" none (drawn pressed). */
const char *input_press_id(const app_input *in);

/* When a finger held on the title opens the service gesture (monotonic
 * ms), 0 none; and firing it when due. */
uint64_t input_deadline(const app *a);
void input_due(app *a);

#endif

/* loop.h - the main loop. It sleeps in SDL_WaitEventTimeout until an event
 * or the earliest deadline of any room (the core's timers, the countdown's
 * next second, records, the service screen, the gesture, the control
 * socket's waits, the watchdog), hands each event to the room it belongs
 * to, and presents a frame only when something changed. Idle turns prepare
 * the next screens.
 */
#ifndef APP_LOOP_H
#define APP_LOOP_H

#include "app/app_int.h"

/* From the first frame until a quit; tells systemd READY=1 after the first
 * frame and WATCHDOG=1 from the loop only. */
void loop_run(app *a);

#endif

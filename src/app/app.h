/* app.h - the kiosk process: SDL main loop, core, card, bureau question,
 * outbox and control socket wired together.
 *
 * The main thread owns SDL, the core and the outbox. Worker threads (card,
 * sync client, control server) only post SDL user events back, so the core
 * sees one ordered stream of events and the UI never waits on a card, a
 * socket or the bureau.
 */
#ifndef APP_APP_H
#define APP_APP_H

#include <stdbool.h>

#include "config/config.h"

typedef struct {
    bool windowed;        /* a technician's window with the debug overlay */
    int width, height;    /* window size; 0: from the config */
    const char *control;  /* control socket path; NULL: from the config */
    const char *datadir;  /* where fonts/ and assets/ are */
} app_options;

/* Runs until quit; returns the process exit status. Reads cfg. */
int app_run(const kiosk_config *cfg, const app_options *opt);

#endif

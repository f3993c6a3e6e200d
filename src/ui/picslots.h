/* picslots.h - the pictures a renderer keeps, and the one made ahead.
 *
 * Each picture is kept at the size its screen shows it, as runs of one
 * colour (picruns.h), in PICSLOTS_N slots: the one on screen, the idle
 * screen's in both languages (their words differ, so do their pictures'
 * sizes; every journey ends there), one made ahead. A picture can be made
 * ahead of need on a thread of its own (picslots_prepare), one at a time;
 * the main thread's own otherwise. Not thread-safe beyond that.
 */
#ifndef UI_PICSLOTS_H
#define UI_PICSLOTS_H

#include "ui/picruns.h"
#include "ui/view.h"

#define PICSLOTS_N 3

typedef struct picslots picslots;

/* The pictures' files are in the directory of `one_picture` (the path of
 * insert-card.svg); NULL: no pictures. NULL if out of memory. */
picslots *picslots_new(const char *one_picture);
void picslots_free(picslots *ps);

/* Starts making picture `id` at w x h on a thread, unless it is kept or
 * a thread is at work (the caller asks again later). */
void picslots_prepare(picslots *ps, ui_picture id, int w, int h);

/* Picture `id` at w x h: kept, taken from the thread, or made now. NULL if
 * there is none, or its file cannot be used (said in the log once). */
const picruns *picslots_get(picslots *ps, ui_picture id, int w, int h);

#endif

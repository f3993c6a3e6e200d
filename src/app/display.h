/* display.h - what the citizen sees: the window and its renderer, the
 * fonts and picture, one frame built from the core and presented, the
 * technician's overlay, screens prepared ahead in idle time, screenshots.
 * Reads the core, the shared figures and the finger's press (input.c);
 * writes only pixels, the frame figures (stats) and screenshot files.
 */
#ifndef APP_DISPLAY_H
#define APP_DISPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/app_int.h"
#include "ui/view.h"

app_display *display_new(bool overlay);
/* Frees the fonts, renderer and window (before SDL_Quit). */
void display_free(app_display *d);

/* SDL_ttf, the fonts and the picture; then the first screen's layout at
 * the size the window will have, so that its picture and its words render
 * on threads of their own while the display opens and the services start.
 * Before display_open. */
bool display_open_assets(app *a, char *err, size_t errlen);
/* SDL video, the window and its renderer. */
bool display_open(app *a, char *err, size_t errlen);
/* How the window's frame reaches the screen: SDL_HINT_FRAMEBUFFER_ACCELERATION
 * as the window took it ("0" under X11; "opengles2", or "1" for SDL's
 * default GL, under Wayland); "" before display_open. */
const char *display_frame_gl(const app_display *d);
/* Waits for the first screen's words and gives the renderer its window:
 * before the first frame. */
void display_ready(app *a);

/* Builds, draws and presents a frame of what the core shows now. */
void display_present(app *a);
/* The window's pixels are lost (exposed, resized): the next frame is drawn
 * and sent whole. */
void display_exposed(app *a);

/* The screen's layout as last built (for hit-testing and scripts). */
const ui_view *display_view(const app_display *d);
uint64_t display_frames(const app_display *d);

/* The technician's overlay on or off (a window only). */
void display_toggle_overlay(app *a);
/* Shuffles the keypad's digits (FX_SHUFFLE_KEYPAD). */
void display_shuffle_keypad(app_display *d);

/* Screens prepared ahead: start again for a new screen; whether there is
 * more to do; one text of it (an idle turn's worth). */
void display_prefetch_restart(app_display *d);
bool display_prefetching(const app_display *d);
void display_prefetch(app *a);

/* The sign of life of a wait (view show_spinner) moves on its own: when
 * the next step of it is due (0: nothing moves), and a frame marked dirty
 * when it is. */
uint64_t display_deadline(const app *a);
void display_due(app *a);

/* Writes what is on screen now as a PNG: a regular file, not through a
 * symlink, never into the outbox. false with a reason in err. */
bool display_screenshot(app *a, const char *path, int *w, int *h, char *err, size_t errlen);

#endif

/* render.h - draws a ui_view with an SDL_Renderer.
 *
 * Text is rendered once and kept as runs (textruns.h) while it stays on
 * screen (a cache keyed by the text and its style, within a budget); with
 * the software renderer a frame is drawn only where it differs from the
 * last (damage.h), so a frame that only moves a PIN dot costs a few fills
 * and copies in a few small rectangles.
 */
#ifndef UI_RENDER_H
#define UI_RENDER_H

#include <SDL.h>

#include "ui/text.h"
#include "ui/view.h"

typedef struct ui_renderer ui_renderer;

/* The sign of life of a wait moves on this often: a few redraws a second
 * are enough to show the kiosk is working, and cost little. */
#define RENDER_SPIN_MS 125

/* Borrows `r` and `fonts` (the caller keeps them). picture_path is the
 * idle screen's picture; the other screens' (view.h, ui_picture) are its
 * neighbours in the same directory. */
ui_renderer *ui_renderer_new(SDL_Renderer *r, ui_fonts *fonts, const char *picture_path);
/* For a renderer made with SDL_CreateSoftwareRenderer: the surface it
 * draws on, where texts are put directly (a window's renderer finds its
 * window's surface itself). */
void ui_renderer_set_surface(ui_renderer *u, SDL_Surface *target);
/* The renderer to draw with, when the renderer was made before it (with
 * NULL: it can prepare texts and pictures, not draw). */
void ui_renderer_attach(ui_renderer *u, SDL_Renderer *r);
void ui_renderer_free(ui_renderer *u);

/* Starts rasterising picture `id` at w x h on a thread (one at a time),
 * so the frame that shows it does not wait for it on the UI thread: the
 * first frame's, and the next screens' as display.c prepares them. */
void ui_renderer_prepare_picture(ui_renderer *u, ui_picture id, int w, int h);

/* Renders into the text cache up to `budget` texts of `v` that are not
 * there yet, never evicting what the last frame showed or what was prepared
 * since, and never past the cache's budget; returns how many are still
 * missing, or -1 when a text did not fit the budget (the screen cannot be
 * prepared further until the screen on show changes). For idle moments: a
 * screen prepared ahead of time appears in one cheap frame. */
int ui_renderer_prerender(ui_renderer *u, const ui_view *v, int budget);

/* Starts a new round of preparing screens ahead: what the round prepares
 * first is kept when later screens of the same round do not fit. */
void ui_renderer_prepare_begin(ui_renderer *u);

/* How many texts the last draw had to render (not found in the cache). */
int ui_renderer_misses(const ui_renderer *u);

/* Draws the view; `pressed` is the widget under a finger (-1 none);
 * `overlay` is the technician's debug text (NULL: none). Does not present.
 * With the software renderer, only where the frame differs from the last
 * one drawn (damage.h); the rest of the target is left as it was. */
void ui_renderer_draw(ui_renderer *u, const ui_view *v, int pressed, const char *overlay);
/* Where the last draw changed the target: the number of rectangles put in
 * out (0: none), or -1 if it drew the whole frame (or more than `max`). */
int ui_renderer_damage(const ui_renderer *u, SDL_Rect *out, int max);
/* The target's pixels are lost (the window was exposed, resized): the next
 * frame is drawn whole. */
void ui_renderer_invalidate(ui_renderer *u);

#endif

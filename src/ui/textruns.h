/* textruns.h - a text kept as runs, row by row.
 *
 * A text is shaded by SDL_ttf into 8 bits a pixel, an index into 256
 * colours from its background (0) to its ink (255). Most of its pixels are
 * one or the other, in runs: background between letters and lines, ink in
 * the strokes; only the anti-aliased edges between are other shades. Kept
 * as runs of 0 and of 255 and the other shades as they are, a text takes a
 * sixth of its 8-bit pixels (the kiosk's screens, measured), so the cache
 * holds the screens ahead in both languages in far less memory, and
 * drawing it fills runs rather than looking every pixel up.
 *
 * A textruns is not changed once made.
 */
#ifndef UI_TEXTRUNS_H
#define UI_TEXTRUNS_H

#include <stdbool.h>
#include <stddef.h>

#include <SDL.h>

typedef struct textruns textruns;

/* The runs of an 8-bit surface with a palette (what ui_text_render gives);
 * NULL if it is not one, or out of memory. */
textruns *textruns_make(SDL_Surface *s);
void textruns_free(textruns *t);

int textruns_w(const textruns *t);
int textruns_h(const textruns *t);
/* What it holds in memory, in bytes. */
size_t textruns_bytes(const textruns *t);

/* Copies the text onto `dst` at (x, y) through its palette, as
 * SDL_BlitSurface copies the 8-bit surface with SDL_BLENDMODE_NONE,
 * within dst's clip rectangle. False, drawing nothing, if dst is not 32
 * bits a pixel. */
bool textruns_draw(const textruns *t, SDL_Surface *dst, int x, int y);

/* The 8-bit surface again, for a renderer that draws textures; NULL if out
 * of memory. */
SDL_Surface *textruns_surface(const textruns *t);

/* Lines one above the other in one text w pixels wide: line i's top at
 * i * skip and its left at x[i], over background, a later line over an
 * earlier where they meet (as blits of the lines onto one surface). A line
 * may be NULL (left blank); one that does not fit across w is left out.
 * Never more than one row of the block exists as pixels, where the lines'
 * surfaces and a block surface held a text twice over at its peak. NULL if every line is NULL, the lines' palettes differ, or out of
 * memory. The lines stay the caller's. */
textruns *textruns_stack(textruns *const *line, const int *x, int n, int skip, int w);

#endif

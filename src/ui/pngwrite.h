/* pngwrite.h - a surface written as a PNG, with libpng's simplified API.
 *
 * For the control socket's screenshots (app/display.c) and the view test's
 * screens (tests/unit/test_view.c). libpng is in the process already (the
 * fonts' FreeType needs it), so this costs no library. The file is what
 * SDL2_image's IMG_SavePNG wrote: 8-bit RGBA for a surface with alpha,
 * 8-bit RGB for one without, not interlaced (tests/integration/harness.py
 * png_rgb and scripts/contact-sheet.py read both).
 */
#ifndef UI_PNGWRITE_H
#define UI_PNGWRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <SDL.h>

/* Writes `s` to `fp` (open for writing; left open, the caller closes it
 * and checks that). False, with the reason in `why`, on failure: part of a
 * PNG may have been written. */
bool pngwrite_surface(SDL_Surface *s, FILE *fp, char *why, size_t whylen);

#endif

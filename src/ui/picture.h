/* picture.h - an SVG picture rasterised into a surface.
 *
 * The kiosk's pictures (the SVG files in assets/) are drawn at the size
 * shown, so they stay sharp at any resolution. nanosvg
 * (src/third_party/nanosvg) does the work, as it did inside SDL2_image;
 * this keeps SDL2_image's sizing (IMG_LoadSizedSVG_RW, 2.6), so the
 * pictures come out as they did:
 *
 *  - w > 0 and h > 0: scaled by min(w / width, h / height), aspect kept;
 *    only w > 0 or only h > 0: scaled to that one; neither: natural size;
 *  - the surface is ceil(width * scale) x ceil(height * scale), the
 *    picture at its top left: a box of another shape gets a narrower or
 *    lower surface, which the caller centres (render.c's draw_picture).
 *
 * Safe to call on any thread (render.c rasterises ahead on a second one).
 */
#ifndef UI_PICTURE_H
#define UI_PICTURE_H

#include <stdbool.h>

#include <SDL.h>

/* The SVG file at `path` in an SDL_PIXELFORMAT_RGBA32 surface with
 * straight (not premultiplied) alpha, transparent where the picture does
 * not paint; the caller frees it. NULL, with the reason in SDL_GetError(),
 * if the file cannot be read, is not an SVG with a size, or the surface
 * cannot be made. */
SDL_Surface *picture_rasterise(const char *path, int w, int h);

/* Given the rows y .. y + n - 1 of a picture of w x h pixels, RGBA32 with
 * straight alpha, w * 4 bytes a row; false stops the rasterising. */
typedef bool (*picture_band_fn)(void *ud, const unsigned char *rgba, int w, int h, int y, int n);

/* The same pixels as picture_rasterise, handed to `fn` a band of rows at
 * a time (top to bottom), so that the whole picture is never in memory.
 * False, with the reason in SDL_GetError(), if the file cannot be used or
 * `fn` said stop. */
bool picture_rasterise_bands(const char *path, int w, int h, picture_band_fn fn, void *ud);

#endif

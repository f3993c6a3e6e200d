/* picruns.h - a picture kept as runs of one colour, row by row.
 *
 * The kiosk's pictures are a few flat colours: a row of one is some tens
 * of runs, most of them long, and the whole picture some hundreds of
 * colours (its edges' blends). Kept as runs of an index into its palette,
 * 4 bytes a run, a picture shown at 1920x1080 takes tens of KB where its
 * RGBA pixels took 1 MB, and SDL's run-length encoding, which keeps every
 * opaque pixel as it is, 0.4-0.7 MB. It is made a band of rows at a time
 * (picture_rasterise_bands), so the whole picture's pixels are never in
 * memory at once either. Drawing it fills the opaque spans, skips the
 * transparent ones and blends only the pixels of the edges.
 *
 * A picruns is not changed once made: any thread may draw one.
 */
#ifndef UI_PICRUNS_H
#define UI_PICRUNS_H

#include <stdbool.h>
#include <stddef.h>

#include <SDL.h>

typedef struct picruns picruns;

/* The SVG file at `path`, sized as picture_rasterise sizes it (picture.h);
 * NULL, with the reason in SDL_GetError(), if it cannot be made. */
picruns *picruns_make(const char *path, int w, int h);
void picruns_free(picruns *p);

int picruns_w(const picruns *p);
int picruns_h(const picruns *p);
/* What it holds in memory, in bytes. */
size_t picruns_bytes(const picruns *p);

/* Blends the picture onto `dst` with its top left at (x, y), as
 * SDL_BlitSurface does with SDL_BLENDMODE_BLEND, within dst's clip
 * rectangle. False, drawing nothing, if dst is not 32 bits a pixel with
 * 8-bit channels (the software renderer's surfaces always are). */
bool picruns_draw(const picruns *p, SDL_Surface *dst, int x, int y);

/* The picture's pixels in a new SDL_PIXELFORMAT_RGBA32 surface (straight
 * alpha), for a renderer that draws textures; NULL if out of memory. */
SDL_Surface *picruns_surface(const picruns *p);

#endif

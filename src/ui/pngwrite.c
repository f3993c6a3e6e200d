#include "ui/pngwrite.h"

#include <string.h>

#include <png.h>

/* libpng's layout for SDL's byte-ordered formats (the ones named after the
 * order of bytes in memory, whatever the CPU), or 0: convert first (0 is
 * libpng's grey, which no surface here is). */
static png_uint_32 png_format_of(Uint32 sdl)
{
    switch (sdl) {
    case SDL_PIXELFORMAT_RGBA32: return PNG_FORMAT_RGBA;
    case SDL_PIXELFORMAT_BGRA32: return PNG_FORMAT_BGRA;
    case SDL_PIXELFORMAT_ARGB32: return PNG_FORMAT_ARGB;
    case SDL_PIXELFORMAT_ABGR32: return PNG_FORMAT_ABGR;
    case SDL_PIXELFORMAT_RGB24:  return PNG_FORMAT_RGB;
    case SDL_PIXELFORMAT_BGR24:  return PNG_FORMAT_BGR;
    default:                     return 0;
    }
}

bool pngwrite_surface(SDL_Surface *s, FILE *fp, char *why, size_t whylen)
{
    SDL_Surface *cvt = NULL, *src = s;
    png_image img;
    bool ok = false, locked = false;

    /* The screenshot's ARGB8888 is BGRA32 on a little-endian CPU: written
     * straight from the surface, without a copy of a whole screen. */
    if (png_format_of(s->format->format) == 0) {
        cvt = SDL_ConvertSurfaceFormat(s, SDL_ISPIXELFORMAT_ALPHA(s->format->format) ?
                                       SDL_PIXELFORMAT_RGBA32 : SDL_PIXELFORMAT_RGB24, 0);
        if (cvt == NULL) {
            snprintf(why, whylen, "%s", SDL_GetError());
            return false;
        }
        src = cvt;
    }
    if (SDL_MUSTLOCK(src)) {
        if (SDL_LockSurface(src) != 0) {
            snprintf(why, whylen, "%s", SDL_GetError());
            goto out;
        }
        locked = true;
    }
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = (png_uint_32)src->w;
    img.height = (png_uint_32)src->h;
    img.format = png_format_of(src->format->format);
    /* Speed over size: a screen is mostly flat colour and compresses well
     * anyway; the default effort made the view test's 444 screens take
     * most of its minute (and a script's screenshot a frame's time). */
    img.flags = PNG_IMAGE_FLAG_FAST;
    /* row_stride counts components: bytes, for 8-bit ones. */
    if (!png_image_write_to_stdio(&img, fp, 0, src->pixels, src->pitch, NULL)) {
        snprintf(why, whylen, "%s", img.message[0] ? img.message : "libpng failed");
        goto out; /* libpng freed what it held */
    }
    ok = true;
out:
    if (locked)
        SDL_UnlockSurface(src);
    SDL_FreeSurface(cvt);
    return ok;
}

/* fontfile.h - a font file as SDL_RWops for TTF_OpenFontIndexRW, read in
 * blocks with pread and a position of its own: SDL_RWFromFile's stdio
 * drops its buffer at every seek, and FreeType seeks before most reads. */
#ifndef UI_FONTFILE_H
#define UI_FONTFILE_H

#include <SDL.h>

/* Opens PATH; NULL with SDL_GetError() set if it cannot. Closed by
 * SDL_RWclose (TTF_CloseFont, when opened with freesrc). */
SDL_RWops *fontfile_open(const char *path);

#endif

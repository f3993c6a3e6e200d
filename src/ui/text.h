/* text.h - fonts, line wrapping and text surfaces.
 *
 * SDL_ttf 2.x has no font fallback: a character the kiosk's font subset
 * lacks (a rare character in a holder's name) is drawn from the fallback
 * font, run by run, instead of showing a blank box. Wrapping breaks where
 * linebreak.h allows: at spaces, and between Chinese characters but not
 * before closing or after opening punctuation, nor inside a word kept
 * whole, nor (in a string that marks them with U+200B) but at a marker.
 * The same wrapping serves the renderer and the overflow test, so what the
 * test measures is what the screen shows.
 */
#ifndef UI_TEXT_H
#define UI_TEXT_H

#include <stdbool.h>
#include <stdint.h>

#include <SDL.h>
#include <SDL_ttf.h>

#include "ui/textruns.h"

typedef struct ui_fonts ui_fonts;

/* Opens `regular` and `bold` (required) and `fallback` (may be NULL or
 * missing: then rare characters show as the main font's missing glyph).
 * Copies the paths. */
ui_fonts *ui_fonts_open(const char *regular, const char *bold, const char *fallback,
                        char *err, size_t errlen);
void ui_fonts_close(ui_fonts *f);

/* The font at that pixel size; opened once and kept (a handful of sizes). */
TTF_Font *ui_font(ui_fonts *f, int px, bool bold);
bool ui_fonts_have_fallback(const ui_fonts *f);

#define UI_MAX_LINES 12
typedef struct {
    int n;
    int start[UI_MAX_LINES], len[UI_MAX_LINES];
    int width[UI_MAX_LINES]; /* shaped width near the limit; else the sum of
                                advances, which may differ by a pixel or two */
    int line_skip;
    bool overflow;   /* more lines than UI_MAX_LINES, or a word wider than the box */
} ui_lines;

/* Wraps `text` to `width` pixels. */
void ui_text_wrap(ui_fonts *f, const char *text, int px, bool bold, int width, ui_lines *out);

/* Width and height in pixels of one line (bytes [0, len) of text). */
int ui_text_line_width(ui_fonts *f, const char *text, int len, int px, bool bold);

/* Renders wrapped text in colour `rgb` over an opaque `bg`, sized to the
 * text, as runs (textruns.h; the caller frees them); NULL for empty text
 * or on failure. Lines are `width` wide at most, centred on the widest if
 * `center`. */
textruns *ui_text_runs(ui_fonts *f, const char *text, int px, bool bold, int width, bool center,
                       uint32_t rgb, uint32_t bg);

/* The same as an 8-bit surface with the palette from `bg` (0) to `rgb`
 * (255) (the caller frees it): for the debug overlay and the tests. */
SDL_Surface *ui_text_render(ui_fonts *f, const char *text, int px, bool bold, int width,
                            bool center, uint32_t rgb, uint32_t bg);

#endif

#include "ui/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

#define UI_FONT_SLOTS 24

struct ui_fonts {
    char *path[3];                 /* regular, bold, fallback */
    bool have_fallback;
    struct { int px; int which; TTF_Font *font; } slot[UI_FONT_SLOTS];
    int n_slots;
};

static bool text_readable(const char *path)
{
    FILE *f = path ? fopen(path, "rb") : NULL;
    if (f)
        fclose(f);
    return f != NULL;
}

ui_fonts *ui_fonts_open(const char *regular, const char *bold, const char *fallback,
                        char *err, size_t errlen)
{
    ui_fonts *f = calloc(1, sizeof *f);
    const char *paths[3] = { regular, bold, fallback };

    if (f == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (int i = 0; i < 2; i++) {
        if (!text_readable(paths[i])) {
            snprintf(err, errlen, "cannot read font %s", paths[i] ? paths[i] : "(none)");
            goto fail;
        }
    }
    f->have_fallback = text_readable(fallback);
    for (int i = 0; i < 3; i++) {
        f->path[i] = paths[i] ? strdup(paths[i]) : NULL;
        if (paths[i] && f->path[i] == NULL) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
    }
    /* Open the common size now so a broken font file fails at start-up. */
    if (ui_font(f, 32, false) == NULL || ui_font(f, 32, true) == NULL) {
        snprintf(err, errlen, "cannot open fonts %s / %s: %s", regular, bold, TTF_GetError());
        goto fail;
    }
    return f;
fail:
    ui_fonts_close(f);
    return NULL;
}

void ui_fonts_close(ui_fonts *f)
{
    if (f == NULL)
        return;
    for (int i = 0; i < f->n_slots; i++)
        TTF_CloseFont(f->slot[i].font);
    for (int i = 0; i < 3; i++)
        free(f->path[i]);
    free(f);
}

bool ui_fonts_have_fallback(const ui_fonts *f)
{
    return f->have_fallback;
}

static TTF_Font *text_font_which(ui_fonts *f, int px, int which)
{
    TTF_Font *font = NULL;

    for (int i = 0; i < f->n_slots; i++)
        if (f->slot[i].px == px && f->slot[i].which == which)
            return f->slot[i].font;
    if (f->path[which] == NULL || px <= 0)
        return NULL;
    /* The system CJK collection holds several faces: 2 is Simplified Chinese. */
    font = which == 2 ? TTF_OpenFontIndex(f->path[which], px, 2) : TTF_OpenFont(f->path[which], px);
    if (font == NULL) {
        log_err("ui", "cannot open font %s at %d px: %s", f->path[which], px, TTF_GetError());
        return NULL;
    }
    if (f->n_slots == UI_FONT_SLOTS) {
        /* Sizes come from a short fixed list per screen size; recycling the
         * oldest slot keeps memory bounded if a window is resized a lot. */
        TTF_CloseFont(f->slot[0].font);
        memmove(&f->slot[0], &f->slot[1], sizeof f->slot[0] * (UI_FONT_SLOTS - 1));
        f->n_slots--;
    }
    f->slot[f->n_slots].px = px;
    f->slot[f->n_slots].which = which;
    f->slot[f->n_slots].font = font;
    f->n_slots++;
    return font;
}

TTF_Font *ui_font(ui_fonts *f, int px, bool bold)
{
    return text_font_which(f, px, bold ? 1 : 0);
}

/* Decodes one UTF-8 character at s; returns its length (1 for a bad byte). */
static int text_utf8(const char *s, uint32_t *cp)
{
    const unsigned char *u = (const unsigned char *)s;
    int n = u[0] < 0x80 ? 1 : (u[0] & 0xE0) == 0xC0 ? 2 : (u[0] & 0xF0) == 0xE0 ? 3
          : (u[0] & 0xF8) == 0xF0 ? 4 : 1;

    *cp = n == 1 ? u[0] : n == 2 ? (u[0] & 0x1Fu) : n == 3 ? (u[0] & 0x0Fu) : (u[0] & 0x07u);
    for (int i = 1; i < n; i++) {
        if ((u[i] & 0xC0) != 0x80) {
            *cp = 0xFFFD;
            return 1;
        }
        *cp = (*cp << 6) | (u[i] & 0x3Fu);
    }
    return n;
}

static bool text_is_cjk(uint32_t cp)
{
    return (cp >= 0x2E80 && cp <= 0x9FFF) || (cp >= 0xF900 && cp <= 0xFAFF) ||
           (cp >= 0xFF00 && cp <= 0xFFEF) || cp >= 0x20000;
}

/* Closing punctuation must not start a line. */
static bool text_no_break_before(uint32_t cp)
{
    static const uint32_t closing[] = { 0xFF0C, 0x3002, 0xFF01, 0xFF1F, 0x3001, 0xFF1A, 0xFF1B,
                                        0xFF09, 0x300B, 0x300D, 0x201D, 0x2019, ',', '.', ':', ';', ')' };
    for (size_t i = 0; i < sizeof closing / sizeof closing[0]; i++)
        if (cp == closing[i])
            return true;
    return false;
}

/* Runs of one font: the main font where it has the glyph, else the fallback. */
static int text_run_len(ui_fonts *f, TTF_Font *main, const char *s, int len, bool *use_fallback)
{
    int i = 0;
    bool first = true, fb = false;

    while (i < len) {
        uint32_t cp;
        int n = text_utf8(s + i, &cp);
        bool need = f->have_fallback && !TTF_GlyphIsProvided32(main, cp);
        if (first) {
            fb = need;
            first = false;
        } else if (need != fb) {
            break;
        }
        i += n;
    }
    *use_fallback = fb;
    return i;
}

int ui_text_line_width(ui_fonts *f, const char *text, int len, int px, bool bold)
{
    TTF_Font *main = ui_font(f, px, bold);
    int total = 0, off = 0;
    char buf[1024];

    if (main == NULL)
        return 0;
    while (off < len) {
        bool fb;
        int n = text_run_len(f, main, text + off, len - off, &fb);
        TTF_Font *font = fb ? text_font_which(f, px, 2) : main;
        int w = 0, h = 0;
        if (n <= 0 || (size_t)n >= sizeof buf)
            break;
        memcpy(buf, text + off, (size_t)n);
        buf[n] = '\0';
        if (font && TTF_SizeUTF8(font, buf, &w, &h) == 0)
            total += w;
        off += n;
    }
    return total;
}

void ui_text_wrap(ui_fonts *f, const char *text, int px, bool bold, int width, ui_lines *out)
{
    TTF_Font *main = ui_font(f, px, bold);
    int len = (int)strlen(text);
    int start = 0;

    memset(out, 0, sizeof *out);
    out->line_skip = main ? TTF_FontLineSkip(main) : px;
    while (start < len) {
        int pos = start, last_break = -1, line_end;
        /* Skip spaces at the start of a wrapped line. */
        while (pos < len && text[pos] == ' ')
            pos++;
        start = pos;
        if (start >= len)
            break;
        while (pos < len) {
            uint32_t cp, next = 0;
            int n = text_utf8(text + pos, &cp);
            if (pos + n < len)
                text_utf8(text + pos + n, &next);
            if (cp == ' ' && pos > start) {
                if (ui_text_line_width(f, text + start, pos - start, px, bold) > width)
                    break;
                last_break = pos;
            } else if ((text_is_cjk(cp) || text_is_cjk(next)) && next != 0 && next != ' ' &&
                       !text_no_break_before(next)) {
                if (ui_text_line_width(f, text + start, pos + n - start, px, bold) > width)
                    break;
                last_break = pos + n;
            }
            pos += n;
        }
        if (pos >= len && ui_text_line_width(f, text + start, len - start, px, bold) <= width)
            line_end = len;
        else if (last_break > start)
            line_end = last_break;
        else
            line_end = pos >= len ? len : pos; /* one word wider than the box */
        if (out->n == UI_MAX_LINES) {
            out->overflow = true;
            break;
        }
        out->start[out->n] = start;
        out->len[out->n] = line_end - start;
        out->width[out->n] = ui_text_line_width(f, text + start, line_end - start, px, bold);
        if (out->width[out->n] > width)
            out->overflow = true;
        out->n++;
        start = line_end;
    }
}

static SDL_Surface *text_render_line(ui_fonts *f, const char *text, int len, int px, bool bold,
                                     SDL_Color col, int line_h)
{
    TTF_Font *main = ui_font(f, px, bold);
    int w = ui_text_line_width(f, text, len, px, bold), x = 0, off = 0;
    SDL_Surface *line = NULL;
    char buf[1024];

    if (main == NULL || w <= 0)
        return NULL;
    line = SDL_CreateRGBSurfaceWithFormat(0, w, line_h, 32, SDL_PIXELFORMAT_ARGB8888);
    if (line == NULL)
        return NULL;
    SDL_FillRect(line, NULL, 0);
    SDL_SetSurfaceBlendMode(line, SDL_BLENDMODE_BLEND);
    while (off < len) {
        bool fb;
        int n = text_run_len(f, main, text + off, len - off, &fb);
        TTF_Font *font = fb ? text_font_which(f, px, 2) : main;
        SDL_Surface *run;
        if (n <= 0 || (size_t)n >= sizeof buf)
            break;
        memcpy(buf, text + off, (size_t)n);
        buf[n] = '\0';
        run = font ? TTF_RenderUTF8_Blended(font, buf, col) : NULL;
        if (run) {
            /* Both fonts share a baseline: align their ascents. */
            SDL_Rect dst = { x, TTF_FontAscent(main) - TTF_FontAscent(font), run->w, run->h };
            SDL_SetSurfaceBlendMode(run, SDL_BLENDMODE_NONE);
            SDL_BlitSurface(run, NULL, line, &dst);
            x += run->w;
            SDL_FreeSurface(run);
        }
        off += n;
    }
    return line;
}

SDL_Surface *ui_text_render(ui_fonts *f, const char *text, int px, bool bold, int width,
                            bool center, uint32_t rgb)
{
    SDL_Color col = { (Uint8)(rgb >> 16), (Uint8)(rgb >> 8), (Uint8)rgb, 255 };
    ui_lines lines;
    SDL_Surface *block = NULL;
    int bw = 0;

    if (text == NULL || text[0] == '\0')
        return NULL;
    ui_text_wrap(f, text, px, bold, width, &lines);
    for (int i = 0; i < lines.n; i++)
        if (lines.width[i] > bw)
            bw = lines.width[i];
    if (lines.n == 0 || bw <= 0)
        return NULL;
    block = SDL_CreateRGBSurfaceWithFormat(0, bw, lines.line_skip * lines.n, 32, SDL_PIXELFORMAT_ARGB8888);
    if (block == NULL)
        return NULL;
    SDL_FillRect(block, NULL, 0);
    for (int i = 0; i < lines.n; i++) {
        SDL_Surface *line = text_render_line(f, text + lines.start[i], lines.len[i], px, bold, col,
                                             lines.line_skip);
        if (line) {
            SDL_Rect dst = { center ? (bw - line->w) / 2 : 0, i * lines.line_skip, line->w, line->h };
            SDL_SetSurfaceBlendMode(line, SDL_BLENDMODE_NONE);
            SDL_BlitSurface(line, NULL, block, &dst);
            SDL_FreeSurface(line);
        }
    }
    return block;
}

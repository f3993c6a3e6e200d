#include "ui/text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>

#include "ui/fontfile.h"
#include "ui/linebreak.h"
#include "util/log.h"

/* One open font per face, resized on demand (TTF_SetFontSize): opening a
 * CJK font costs about 5 ms and a few hundred KB, resizing almost nothing,
 * and every text is rendered once into a texture anyway. */
/* Every frame builds its view afresh, and the view measures each text it
 * lays out: wrapping the same words at the same size and width over and
 * over was the largest part of a frame that drew nothing new (the line
 * breaking rules look at every character). The answers are kept, keyed by
 * the words and the box. */
#define WRAP_MEMO 256

typedef struct {
    char *text;
    int px, width;
    bool bold;
    ui_lines lines;
} wrap_memo;


struct ui_fonts {
    char *path[3];                 /* regular, bold, fallback */
    bool have_fallback;
    TTF_Font *font[3];
    int px[3];
    wrap_memo memo[WRAP_MEMO];     /* the last wrapping of many texts */
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
    for (int i = 0; i < WRAP_MEMO; i++)
        free(f->memo[i].text);
    for (int i = 0; i < 3; i++) {
        if (f->font[i])
            TTF_CloseFont(f->font[i]);
        free(f->path[i]);
    }
    free(f);
}


bool ui_fonts_have_fallback(const ui_fonts *f)
{
    return f->have_fallback;
}

static TTF_Font *text_font_which(ui_fonts *f, int px, int which)
{
    if (f->path[which] == NULL || px <= 0)
        return NULL;
    if (f->font[which] == NULL) {
        /* The system CJK collection holds several faces: 2 is Simplified Chinese. */
        SDL_RWops *rw = fontfile_open(f->path[which]);
        f->font[which] = rw ? TTF_OpenFontIndexRW(rw, 1, px, which == 2 ? 2 : 0) : NULL;
        if (f->font[which] == NULL) {
            log_err("ui", "cannot open font %s: %s", f->path[which], TTF_GetError());
            return NULL;
        }
        f->px[which] = px;
    }
    if (f->px[which] != px) {
        if (TTF_SetFontSize(f->font[which], px) != 0) {
            log_err("ui", "cannot size font %s to %d px: %s", f->path[which], px, TTF_GetError());
            return NULL;
        }
        f->px[which] = px;
    }
    return f->font[which];
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

/* The break marker (linebreak.h) takes no room and is never drawn: it is
 * left out of what is measured and shaped. Copies text[0, len) without it
 * into buf (at least len + 1 bytes); returns the bytes kept. */
static int text_visible(char *buf, const char *text, int len)
{
    int n = 0;

    for (int i = 0; i < len; i++) {
        if (i + 2 < len && (unsigned char)text[i] == 0xE2 && (unsigned char)text[i + 1] == 0x80 &&
            (unsigned char)text[i + 2] == 0x8B) {
            i += 2;
            continue;
        }
        buf[n++] = text[i];
    }
    buf[n] = '\0';
    return n;
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

int ui_text_line_width(ui_fonts *f, const char *text_in, int len_in, int px, bool bold)
{
    TTF_Font *main = ui_font(f, px, bold);
    int total = 0, off = 0;
    char buf[1024], vis[1024];
    const char *text = vis;
    int len;

    if (main == NULL || len_in < 0 || (size_t)len_in >= sizeof vis)
        return 0;
    len = text_visible(vis, text_in, len_in);
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

/* The advance of one character, from whichever font will draw it. */
static int text_advance(ui_fonts *f, TTF_Font *main, int px, uint32_t cp)
{
    TTF_Font *font = main;
    int adv = 0;

    if (cp == LB_MARKER)
        return 0;
    if (f->have_fallback && !TTF_GlyphIsProvided32(main, cp)) {
        TTF_Font *fb = text_font_which(f, px, 2);
        font = fb ? fb : main;
    }
    if (TTF_GlyphMetrics32(font, cp, NULL, NULL, NULL, NULL, &adv) != 0)
        adv = 0;
    return adv;
}

#define WRAP_MAX_CHARS 1024

/* Greedy wrapping on summed advances (one glyph lookup per character), then
 * one exact shaped measurement per line: kerning can make a line a pixel or
 * two wider than its advances, and then the line gives back its last word. */
static void text_wrap_compute(ui_fonts *f, const char *text, int px, bool bold, int width, ui_lines *out)
{
    TTF_Font *main = ui_font(f, px, bold);
    int len = (int)strlen(text);
    static int off[WRAP_MAX_CHARS + 1], adv[WRAP_MAX_CHARS];
    static uint32_t cps[WRAP_MAX_CHARS];
    static bool brk[WRAP_MAX_CHARS + 1]; /* a line may end before char i */
    int n = 0, i = 0;

    memset(out, 0, sizeof *out);
    if (main == NULL)
        return;
    out->line_skip = TTF_FontLineSkip(main);
    for (int pos = 0; pos < len && n < WRAP_MAX_CHARS; n++) {
        off[n] = pos;
        pos += text_utf8(text + pos, &cps[n]);
        adv[n] = text_advance(f, main, px, cps[n]);
    }
    off[n] = n < WRAP_MAX_CHARS ? len : off[n];
    if (n == WRAP_MAX_CHARS && off[n] < len)
        out->overflow = true;
    lb_breaks(cps, n, brk);
    while (i < n) {
        int sum = 0, end = i, last = -1;
        while (i < n && cps[i] == ' ')
            i++;
        if (i >= n)
            break;
        for (end = i; end < n; end++) {
            if (end > i && brk[end])
                last = end;
            if (sum + adv[end] > width && last > i)
                break;
            sum += adv[end];
        }
        if (end < n && last > i)
            end = last;
        for (;;) {
            int e = end, adv_sum = 0;
            while (e > i && cps[e - 1] == ' ')
                e--; /* trailing spaces take no room */
            for (int k = i; k < e; k++)
                adv_sum += adv[k];
            /* Kerning moves a line by a few pixels at most: a line that clears
             * the box by half an em fits whatever it does, and needs no
             * shaping here (its width is then the advances' sum). */
            out->width[out->n] = adv_sum + px / 2 <= width
                ? adv_sum : ui_text_line_width(f, text + off[i], off[e] - off[i], px, bold);
            out->start[out->n] = off[i];
            out->len[out->n] = off[e] - off[i];
            if (out->width[out->n] <= width)
                break;
            /* Kerning pushed it over: end at the previous break, if any. */
            e = end - 1;
            while (e > i && !brk[e])
                e--;
            if (e <= i)
                break;
            end = e;
        }
        if (out->width[out->n] > width)
            out->overflow = true; /* one word wider than the box */
        if (++out->n == UI_MAX_LINES && end < n) {
            out->overflow = true;
            break;
        }
        i = end;
    }
}


static unsigned text_hash(const char *text, int px, bool bold, int width)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        h = (h ^ *p) * 16777619u;
    h = (h ^ (uint32_t)px) * 16777619u;
    h = (h ^ (uint32_t)width) * 16777619u;
    return (h ^ (bold ? 1u : 0u)) % WRAP_MEMO;
}

void ui_text_wrap(ui_fonts *f, const char *text, int px, bool bold, int width, ui_lines *out)
{
    wrap_memo *m = &f->memo[text_hash(text, px, bold, width)];

    if (m->text && m->px == px && m->width == width && m->bold == bold && strcmp(m->text, text) == 0) {
        *out = m->lines;
        return;
    }
    text_wrap_compute(f, text, px, bold, width, out);
    free(m->text);
    m->text = strdup(text);
    m->px = px;
    m->width = width;
    m->bold = bold;
    m->lines = *out;
}

/* Text is two colours and the 256 shades between them: one byte a pixel,
 * with the palette SDL_ttf gives a shaded text (background at 0, the
 * colour at 255), a quarter of the memory of 32-bit pixels. Drawing maps
 * the indices to the screen's pixels through the palette (render.c). */
static SDL_Surface *text_surface(int w, int h, SDL_Color col, SDL_Color bg)
{
    SDL_Surface *s = SDL_CreateRGBSurfaceWithFormat(0, w, h, 8, SDL_PIXELFORMAT_INDEX8);
    SDL_Color pal[256];

    if (s == NULL)
        return NULL;
    for (int i = 0; i < 256; i++)
        pal[i] = (SDL_Color){ (Uint8)(bg.r + (col.r - bg.r) * i / 255), (Uint8)(bg.g + (col.g - bg.g) * i / 255),
                              (Uint8)(bg.b + (col.b - bg.b) * i / 255), 255 };
    SDL_SetPaletteColors(s->format->palette, pal, 0, 256);
    SDL_FillRect(s, NULL, 0);
    return s;
}

static SDL_Surface *text_render_line(ui_fonts *f, const char *text_in, int len_in, int px, bool bold,
                                     SDL_Color col, SDL_Color bg)
{
    TTF_Font *main = ui_font(f, px, bold);
    int w, x = 0, off = 0, len;
    SDL_Surface *line = NULL;
    char buf[1024], vis[1024];
    const char *text = vis;
    bool fb;

    if (main == NULL || len_in <= 0 || (size_t)len_in >= sizeof vis)
        return NULL;
    len = text_visible(vis, text_in, len_in);
    if (len <= 0)
        return NULL;
    /* The usual case, one font for the whole line: SDL_ttf shades it straight
     * onto the background (8-bit, antialiased between the two colours), with
     * no measuring, blending or copying around it. */
    if (text_run_len(f, main, text, len, &fb) == len && !fb) {
        memcpy(buf, text, (size_t)len);
        buf[len] = '\0';
        return TTF_RenderUTF8_Shaded(main, buf, col, bg);
    }
    w = ui_text_line_width(f, text, len, px, bold);
    if (w <= 0)
        return NULL;
    line = text_surface(w, TTF_FontHeight(main), col, bg);
    if (line == NULL)
        return NULL;
    while (off < len) {
        int n = text_run_len(f, main, text + off, len - off, &fb);
        TTF_Font *font = fb ? text_font_which(f, px, 2) : main;
        SDL_Surface *run;
        if (n <= 0 || (size_t)n >= sizeof buf)
            break;
        memcpy(buf, text + off, (size_t)n);
        buf[n] = '\0';
        /* Shaded between the same two colours: the same palette, so the
         * run is copied in index by index. */
        run = font ? TTF_RenderUTF8_Shaded(font, buf, col, bg) : NULL;
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

textruns *ui_text_runs(ui_fonts *f, const char *text, int px, bool bold, int width, bool center,
                       uint32_t rgb, uint32_t bg)
{
    SDL_Color col = { (Uint8)(rgb >> 16), (Uint8)(rgb >> 8), (Uint8)rgb, 255 };
    SDL_Color bgc = { (Uint8)(bg >> 16), (Uint8)(bg >> 8), (Uint8)bg, 255 };
    ui_lines lines;
    textruns *block = NULL, *line[UI_MAX_LINES] = { NULL };
    int bw = 0, x[UI_MAX_LINES] = { 0 };

    if (text == NULL || text[0] == '\0')
        return NULL;

    ui_text_wrap(f, text, px, bold, width, &lines);
    /* A line at a time, each kept as runs at once: the lines' 8-bit pixels
     * never all exist together (a paragraph at 1920x1080 was 0.4 MB of
     * them, twice over with the block they were copied into). The block is
     * as wide as the widest line really is. */
    for (int i = 0; i < lines.n; i++) {
        SDL_Surface *s = text_render_line(f, text + lines.start[i], lines.len[i], px, bold, col, bgc);
        line[i] = textruns_make(s);
        SDL_FreeSurface(s);
        if (line[i] && textruns_w(line[i]) > bw)
            bw = textruns_w(line[i]);
    }
    for (int i = 0; i < lines.n; i++)
        x[i] = center && line[i] ? (bw - textruns_w(line[i])) / 2 : 0;
    if (lines.n == 1 && line[0] && textruns_h(line[0]) == lines.line_skip) {
        block = line[0]; /* one line as tall as the spacing: the block itself */
        line[0] = NULL;
    } else if (bw > 0) {
        block = textruns_stack(line, x, lines.n, lines.line_skip, bw);
    }
    for (int i = 0; i < lines.n; i++)
        textruns_free(line[i]);
    return block;
}

SDL_Surface *ui_text_render(ui_fonts *f, const char *text, int px, bool bold, int width,
                            bool center, uint32_t rgb, uint32_t bg)
{
    textruns *t = ui_text_runs(f, text, px, bold, width, center, rgb, bg);
    SDL_Surface *s = t ? textruns_surface(t) : NULL;

    textruns_free(t);
    return s;
}

/* textruns.c - a text kept as runs (textruns.h). */
#include "ui/textruns.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ui/fill32.h"

/* A row is a sequence of codes:
 *   0x00-0x3F  n + 1 pixels of index 0 (the background)
 *   0x40-0x7F  n - 0x40 + 1 pixels of index 255 (the ink)
 *   0x80-0xFF  n - 0x80 + 1 pixels of the indices in the bytes that follow */
#define RUN_BG 0x00
#define RUN_INK 0x40
#define RUN_LIT 0x80
#define RUN_MAX 64  /* pixels in a code of 0 or 255 */
#define LIT_MAX 128 /* pixels in a literal */

struct textruns {
    int w, h;
    uint32_t *row;       /* h + 1 entries: row y's codes are code[row[y]] .. code[row[y + 1] - 1] */
    uint8_t *code;
    size_t n_code;
    SDL_Color pal[256];
};

/* The codes of one row, written to out (NULL: only counted). */
static size_t encode_row(const uint8_t *q, int w, uint8_t *out)
{
    size_t n = 0;

    for (int x = 0; x < w;) {
        int k = 0;
        if (q[x] == 0 || q[x] == 255) {
            uint8_t v = q[x];
            while (x < w && q[x] == v && k < RUN_MAX) {
                x++;
                k++;
            }
            if (out)
                out[n] = (uint8_t)((v ? RUN_INK : RUN_BG) + k - 1);
            n++;
            continue;
        }
        while (x + k < w && q[x + k] != 0 && q[x + k] != 255 && k < LIT_MAX)
            k++;
        if (out) {
            out[n] = (uint8_t)(RUN_LIT + k - 1);
            memcpy(out + n + 1, q + x, (size_t)k);
        }
        n += 1 + (size_t)k;
        x += k;
    }
    return n;
}

textruns *textruns_make(SDL_Surface *s)
{
    textruns *t;
    size_t n = 0;

    if (s == NULL || s->format->BytesPerPixel != 1 || s->format->palette == NULL ||
        s->format->palette->ncolors > 256 || SDL_MUSTLOCK(s))
        return NULL;
    t = calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    t->w = s->w;
    t->h = s->h;
    t->row = malloc(((size_t)s->h + 1) * sizeof *t->row);
    /* One pass over the pixels (encoding is most of what making a text
     * costs after FreeType): the codes grow by doubling from a sixth of
     * the pixels, what texts take, and are cut to size at the end. A row's
     * codes are at most a byte and a half a pixel: a shade alone is two
     * bytes (its code and itself), and then a run of one pixel of ink or
     * background one more; thin strokes at small sizes come close. */
    size_t cap = (size_t)s->w * (size_t)s->h / 6 + 64, row_max = (size_t)s->w + ((size_t)s->w + 1) / 2 + 2;
    t->code = malloc(cap);
    if (t->row == NULL || t->code == NULL) {
        textruns_free(t);
        return NULL;
    }
    for (int y = 0; y < s->h; y++) {
        if (n + row_max > cap) {
            while (n + row_max > cap)
                cap *= 2;
            uint8_t *more = realloc(t->code, cap);
            if (more == NULL) {
                textruns_free(t);
                return NULL;
            }
            t->code = more;
        }
        t->row[y] = (uint32_t)n;
        n += encode_row((const uint8_t *)s->pixels + (size_t)y * (size_t)s->pitch, s->w, t->code + n);
    }
    t->row[s->h] = (uint32_t)n;
    t->n_code = n;
    uint8_t *fit = realloc(t->code, n ? n : 1);
    if (fit != NULL)
        t->code = fit;
    memcpy(t->pal, s->format->palette->colors, (size_t)s->format->palette->ncolors * sizeof t->pal[0]);
    return t;
}

void textruns_free(textruns *t)
{
    if (t == NULL)
        return;
    free(t->row);
    free(t->code);
    free(t);
}

int textruns_w(const textruns *t)
{
    return t->w;
}

int textruns_h(const textruns *t)
{
    return t->h;
}

size_t textruns_bytes(const textruns *t)
{
    return sizeof *t + ((size_t)t->h + 1) * sizeof *t->row + t->n_code;
}

/* One whole row of codes into `out`. */
static void draw_row(uint32_t *out, const uint8_t *c, const uint8_t *end, const uint32_t *map)
{
    const uint32_t bg = map[0], ink = map[255];

    while (c < end) {
        unsigned op = *c++;
        if (op >= RUN_LIT) {
            unsigned n = op - RUN_LIT + 1;
            for (unsigned k = 0; k < n; k++)
                out[k] = map[c[k]];
            c += n;
            out += n;
        } else {
            unsigned n = (op & (RUN_INK - 1)) + 1;
            fill32(out, op >= RUN_INK ? ink : bg, (int)n);
            out += n;
        }
    }
}

bool textruns_draw(const textruns *t, SDL_Surface *dst, int x0, int y0)
{
    const SDL_Rect *clip = &dst->clip_rect;
    int ya = SDL_max(y0, clip->y), yb = SDL_min(y0 + t->h, clip->y + clip->h);
    int xa = SDL_max(x0, clip->x), xb = SDL_min(x0 + t->w, clip->x + clip->w);
    uint32_t map[256];

    if (dst->format->BytesPerPixel != 4)
        return false;
    if (ya >= yb || xa >= xb)
        return true;
    /* As SDL maps a palette for a blit onto this format: by hand for
     * 8-bit channels (every frame maps every text's 256 shades). */
    const SDL_PixelFormat *f = dst->format;
    bool plain = !f->Rloss && !f->Gloss && !f->Bloss && (!f->Amask || !f->Aloss);
    for (int i = 0; i < 256; i++) {
        const SDL_Color *c = &t->pal[i];
        map[i] = plain ? (uint32_t)c->r << f->Rshift | (uint32_t)c->g << f->Gshift | (uint32_t)c->b << f->Bshift |
                         ((uint32_t)c->a << f->Ashift & f->Amask)
                       : SDL_MapRGBA(f, c->r, c->g, c->b, c->a);
    }
    if (SDL_MUSTLOCK(dst) && SDL_LockSurface(dst) != 0)
        return false;
    for (int y = ya; y < yb; y++) {
        uint32_t *out = (uint32_t *)((uint8_t *)dst->pixels + (size_t)y * (size_t)dst->pitch);
        const uint8_t *c = t->code + t->row[y - y0], *end = t->code + t->row[y - y0 + 1];
        int x = x0;
        if (xa == x0 && xb == x0 + t->w) {
            /* The whole row (the usual case): no clipping to work out. */
            draw_row(out + x0, c, end, map);
            continue;
        }
        while (c < end && x < xb) {
            uint8_t op = *c++;
            if (op >= RUN_LIT) {
                int n = op - RUN_LIT + 1;
                int a = SDL_max(x, xa), b = SDL_min(x + n, xb);
                for (int k = a; k < b; k++)
                    out[k] = map[c[k - x]];
                c += n;
                x += n;
                continue;
            }
            int n = (op & (RUN_INK - 1)) + 1;
            int a = SDL_max(x, xa), b = SDL_min(x + n, xb);
            if (a < b)
                fill32(out + a, map[op >= RUN_INK ? 255 : 0], b - a);
            x += n;
        }
    }
    if (SDL_MUSTLOCK(dst))
        SDL_UnlockSurface(dst);
    return true;
}

/* Row y's indices into q (t->w bytes). */
static void decode_row(const textruns *t, int y, uint8_t *q)
{
    const uint8_t *c = t->code + t->row[y], *end = t->code + t->row[y + 1];

    while (c < end) {
        uint8_t op = *c++;
        int n = (op >= RUN_LIT ? op - RUN_LIT : op & (RUN_INK - 1)) + 1;
        if (op >= RUN_LIT) {
            memcpy(q, c, (size_t)n);
            c += n;
        } else {
            memset(q, op >= RUN_INK ? 255 : 0, (size_t)n);
        }
        q += n;
    }
}

SDL_Surface *textruns_surface(const textruns *t)
{
    SDL_Surface *s = SDL_CreateRGBSurfaceWithFormat(0, t->w, t->h, 8, SDL_PIXELFORMAT_INDEX8);

    if (s == NULL)
        return NULL;
    SDL_SetPaletteColors(s->format->palette, t->pal, 0, 256);
    for (int y = 0; y < t->h; y++)
        decode_row(t, y, (uint8_t *)s->pixels + (size_t)y * (size_t)s->pitch);
    return s;
}

/* Row y of the stack into q (w bytes): background, then each line that
 * covers y copied over it in order, as blits onto one surface would. */
static void stack_row(textruns *const *line, const int *x, int n, int skip, int w, int y, uint8_t *q)
{
    memset(q, 0, (size_t)w);
    for (int i = 0; i < n; i++) {
        const textruns *l = line[i];
        if (l == NULL || y < i * skip || y >= i * skip + l->h || x[i] < 0 || x[i] + l->w > w)
            continue;
        decode_row(l, y - i * skip, q + x[i]);
    }
}

/* n pixels of background as codes (NULL: only counted). */
static size_t bg_codes(int n, uint8_t *out)
{
    size_t k = 0;

    for (; n > 0; n -= RUN_MAX, k++)
        if (out)
            out[k] = (uint8_t)(RUN_BG + (n < RUN_MAX ? n : RUN_MAX) - 1);
    return k;
}

/* Row y of the stack as codes (out NULL: only counted), as encode_row
 * would make them from the row's pixels. Where one line covers the row
 * (the usual case: a line is no taller than the spacing), its codes are
 * taken as they are, with the background on either side of its first and
 * last mark joined to the block's margins; only rows two lines cover are
 * made into pixels and encoded again. */
static size_t stack_codes(textruns *const *line, const int *x, int n, int skip, int w, int y, uint8_t *q,
                          uint8_t *out)
{
    int one = -1, cover = 0;

    for (int i = 0; i < n; i++) {
        const textruns *l = line[i];
        if (l == NULL || y < i * skip || y >= i * skip + l->h || x[i] < 0 || x[i] + l->w > w)
            continue;
        one = i;
        cover++;
    }
    if (cover == 0)
        return bg_codes(w, out);
    if (cover > 1) {
        stack_row(line, x, n, skip, w, y, q);
        return encode_row(q, w, out);
    }
    const textruns *l = line[one];
    const uint8_t *c = l->code + l->row[y - one * skip], *end = l->code + l->row[y - one * skip + 1];
    const uint8_t *mid = NULL, *mid_end = NULL;
    int lead = 0, trail = 0;
    for (const uint8_t *p = c; p < end;) {
        uint8_t op = *p;
        int len = (op >= RUN_LIT ? op - RUN_LIT : op & (RUN_INK - 1)) + 1;
        if (op < RUN_INK) {
            if (mid == NULL)
                lead += len;
            else
                trail += len;
            p++;
            continue;
        }
        if (mid == NULL)
            mid = p;
        p += op >= RUN_LIT ? 1 + len : 1;
        mid_end = p;
        trail = 0;
    }
    if (mid == NULL)
        return bg_codes(w, out);
    size_t k = bg_codes(x[one] + lead, out);
    if (out)
        memcpy(out + k, mid, (size_t)(mid_end - mid));
    k += (size_t)(mid_end - mid);
    return k + bg_codes(trail + w - x[one] - l->w, out ? out + k : NULL);
}

textruns *textruns_stack(textruns *const *line, const int *x, int n, int skip, int w)
{
    const textruns *first = NULL;
    textruns *t;
    uint8_t *q;
    size_t k = 0;

    for (int i = 0; i < n; i++) {
        if (line[i] == NULL)
            continue;
        if (first == NULL)
            first = line[i];
        else if (memcmp(first->pal, line[i]->pal, sizeof first->pal) != 0)
            return NULL; /* indices would mean other colours */
    }
    if (first == NULL || w <= 0 || skip <= 0)
        return NULL;
    t = calloc(1, sizeof *t);
    q = malloc((size_t)w);
    if (t == NULL || q == NULL) {
        free(q);
        free(t);
        return NULL;
    }
    t->w = w;
    t->h = n * skip;
    t->row = malloc(((size_t)t->h + 1) * sizeof *t->row);
    /* Counted first, then written, as textruns_make does: at most a row of
     * the block ever exists as pixels. */
    for (int y = 0; y < t->h; y++)
        k += stack_codes(line, x, n, skip, w, y, q, NULL);
    t->code = malloc(k ? k : 1);
    if (t->row == NULL || t->code == NULL) {
        free(q);
        textruns_free(t);
        return NULL;
    }
    t->n_code = k;
    k = 0;
    for (int y = 0; y < t->h; y++) {
        t->row[y] = (uint32_t)k;
        k += stack_codes(line, x, n, skip, w, y, q, t->code + k);
    }
    t->row[t->h] = (uint32_t)k;
    free(q);
    memcpy(t->pal, first->pal, sizeof t->pal);
    return t;
}

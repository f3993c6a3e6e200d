/* picruns.c - a picture kept as runs of one colour (picruns.h). */
#include "ui/picruns.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ui/fill32.h"
#include "ui/picture.h"

/* A run of pixels of one colour: the colour's place in the palette and
 * the run's length. A picture of flat colours has some hundreds of colours
 * (its edges' blends) and thousands of runs: kept as an index, a run is 4
 * bytes where its colour and a 32-bit length took 8. */
typedef struct {
    uint16_t c;
    uint16_t n;
} picrun;

/* Transparent counts as one. The pictures have 460-1700 at the sizes a
 * screen shows, 2400 at 16384 px; the maker's table stays <= 64 KB. */
#define PIC_MAX_COLOURS 4096
#define PIC_MAX_RUN 65535

/* Palette entries are R, G, B, A in the bytes of a uint32_t from the
 * lowest; every fully transparent pixel is 0, whatever nanosvg left in its
 * colour, so that they make one run. */
struct picruns {
    int w, h;
    uint32_t *row;       /* h + 1 entries: row y's runs are row[y] .. row[y + 1] - 1 */
    picrun *runs;
    size_t n_runs, cap;
    uint32_t *pal;
    size_t n_pal, pal_cap;
};

/* While a picture is made: its palette's places by colour, open
 * addressing (an empty slot's idx is UINT32_MAX). */
typedef struct {
    picruns *p;
    uint32_t *key;
    uint32_t *idx;
    size_t slots;
    unsigned bits;       /* slots == 1 << bits */
} pic_maker;

static uint32_t pixel_at(const unsigned char *p)
{
    return p[3] == 0 ? 0 : (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Multiplicative hashing takes the product's top bits: its low bits
 * depend only on the colour's low bits, and an edge's blends of one colour
 * differ in alpha, the top byte. */
static size_t colour_slot(const pic_maker *m, uint32_t rgba)
{
    size_t i = (size_t)((uint32_t)(rgba * 2654435761u) >> (32 - m->bits));

    while (m->idx[i] != UINT32_MAX && m->key[i] != rgba)
        i = (i + 1) & (m->slots - 1);
    return i;
}

static bool maker_grow(pic_maker *m)
{
    pic_maker g = { m->p, NULL, NULL, m->slots ? m->slots * 2 : 1024, m->slots ? m->bits + 1 : 10 };

    g.key = malloc(g.slots * sizeof *g.key);
    g.idx = malloc(g.slots * sizeof *g.idx);
    if (g.key == NULL || g.idx == NULL) {
        free(g.key);
        free(g.idx);
        return SDL_OutOfMemory() == 0; /* false */
    }
    memset(g.idx, 0xFF, g.slots * sizeof *g.idx);
    for (size_t i = 0; i < m->slots; i++)
        if (m->idx[i] != UINT32_MAX) {
            size_t j = colour_slot(&g, m->key[i]);
            g.key[j] = m->key[i];
            g.idx[j] = m->idx[i];
        }
    free(m->key);
    free(m->idx);
    *m = g;
    return true;
}

/* The colour's place in the palette, added if new; -1 if it cannot be.
 * The table holds at most twice the palette's slots. */
static long colour_index(pic_maker *m, uint32_t rgba)
{
    picruns *p = m->p;
    size_t i = colour_slot(m, rgba);

    if (m->idx[i] != UINT32_MAX)
        return m->idx[i];
    if (p->n_pal == PIC_MAX_COLOURS) {
        SDL_SetError("not a picture of flat colours (over %d colours, transparent among them)", PIC_MAX_COLOURS);
        return -1;
    }
    if ((p->n_pal + 1) * 2 > m->slots) {
        if (!maker_grow(m))
            return -1;
        i = colour_slot(m, rgba);
    }
    if (p->n_pal == p->pal_cap) {
        size_t cap = p->pal_cap ? p->pal_cap * 2 : 256;
        uint32_t *pal = realloc(p->pal, cap * sizeof *pal);
        if (pal == NULL)
            return SDL_OutOfMemory(), -1;
        p->pal = pal;
        p->pal_cap = cap;
    }
    p->pal[p->n_pal] = rgba;
    m->key[i] = rgba;
    m->idx[i] = (uint32_t)p->n_pal;
    return (long)p->n_pal++;
}

static bool runs_push(picruns *p, uint16_t c, uint16_t n)
{
    /* Flat colours make long runs; a picture of a run every other pixel
     * (gradients, fine stripes) would take more than its RGBA pixels in
     * the process that holds PINs: it is refused. */
    if (p->n_runs >= (size_t)p->w * (size_t)p->h / 2 + 1024) {
        SDL_SetError("not a picture of flat colours (%zu runs at %dx%d)", p->n_runs, p->w, p->h);
        return false;
    }
    if (p->n_runs == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 1024;
        picrun *r = realloc(p->runs, cap * sizeof *r);
        if (r == NULL)
            return SDL_OutOfMemory() == 0; /* false */
        p->runs = r;
        p->cap = cap;
    }
    p->runs[p->n_runs++] = (picrun){ c, n };
    return true;
}

/* picture_band_fn: the rows of a band, encoded. */
static bool runs_band(void *ud, const unsigned char *px, int w, int h, int y, int n)
{
    pic_maker *m = ud;
    picruns *p = m->p;

    if (p->row == NULL) {
        p->w = w;
        p->h = h;
        p->row = malloc(((size_t)h + 1) * sizeof *p->row);
        if (p->row == NULL)
            return SDL_OutOfMemory() == 0;
    }
    for (int r = 0; r < n; r++) {
        const unsigned char *q = px + (size_t)r * (size_t)w * 4;
        p->row[y + r] = (uint32_t)p->n_runs;
        for (int x = 0; x < w;) {
            uint32_t c = pixel_at(q + (size_t)x * 4);
            int e = x + 1;
            while (e < w && e - x < PIC_MAX_RUN && pixel_at(q + (size_t)e * 4) == c)
                e++;
            long k = colour_index(m, c);
            if (k < 0 || !runs_push(p, (uint16_t)k, (uint16_t)(e - x)))
                return false;
            x = e;
        }
    }
    p->row[y + n] = (uint32_t)p->n_runs; /* overwritten by the next band's first row */
    return true;
}

picruns *picruns_make(const char *path, int w, int h)
{
    picruns *p = calloc(1, sizeof *p);

    if (p == NULL) {
        SDL_OutOfMemory();
        return NULL;
    }
    pic_maker m = { p, NULL, NULL, 0, 0 };
    bool ok = maker_grow(&m) && picture_rasterise_bands(path, w, h, runs_band, &m) && p->row != NULL;
    free(m.key);
    free(m.idx);
    if (!ok) {
        picruns_free(p);
        return NULL;
    }
    /* Give back what the doubling left unused. */
    picrun *r = realloc(p->runs, p->n_runs * sizeof *r);
    if (r != NULL) {
        p->runs = r;
        p->cap = p->n_runs;
    }
    uint32_t *pal = realloc(p->pal, p->n_pal * sizeof *pal);
    if (pal != NULL) {
        p->pal = pal;
        p->pal_cap = p->n_pal;
    }
    return p;
}

void picruns_free(picruns *p)
{
    if (p == NULL)
        return;
    free(p->row);
    free(p->runs);
    free(p->pal);
    free(p);
}

int picruns_w(const picruns *p)
{
    return p->w;
}

int picruns_h(const picruns *p)
{
    return p->h;
}

size_t picruns_bytes(const picruns *p)
{
    return sizeof *p + ((size_t)p->h + 1) * sizeof *p->row + p->cap * sizeof *p->runs + p->pal_cap * sizeof *p->pal;
}

/* One channel of `c` over `d` at alpha a (1..254), rounded as exactly as
 * 8 bits allow: s * a / 255 + d * (255 - a) / 255. */
static uint32_t mix(uint32_t s, uint32_t d, uint32_t a)
{
    uint32_t v = s * a + d * (255 - a) + 128;
    return (v + (v >> 8)) >> 8;
}

/* The channels' places in a 32-bit pixel, read once: stores to the frame
 * could otherwise alias the format and make every pixel reload them. */
typedef struct {
    unsigned rs, gs, bs, as;
    uint32_t amask;
} pix_format;

static uint32_t blend(const pix_format *pf, uint32_t c, uint32_t al, uint32_t d)
{
    uint32_t v = mix(c & 0xFF, (d >> pf->rs) & 0xFF, al) << pf->rs |
                 mix((c >> 8) & 0xFF, (d >> pf->gs) & 0xFF, al) << pf->gs |
                 mix((c >> 16) & 0xFF, (d >> pf->bs) & 0xFF, al) << pf->bs;
    if (pf->amask) /* SDL's: a + dA * (1 - a) */
        v |= mix(255, (d >> pf->as) & 0xFF, al) << pf->as;
    return v;
}

bool picruns_draw(const picruns *p, SDL_Surface *dst, int x0, int y0)
{
    const SDL_PixelFormat *f = dst->format;
    const SDL_Rect *clip = &dst->clip_rect;
    const int ya = SDL_max(y0, clip->y), yb = SDL_min(y0 + p->h, clip->y + clip->h);
    const int xa = SDL_max(x0, clip->x), xb = SDL_min(x0 + p->w, clip->x + clip->w);
    const picrun *runs = p->runs;
    const uint32_t *row = p->row, *pal = p->pal;
    pix_format pf;

    if (f->BytesPerPixel != 4 || f->Rloss || f->Gloss || f->Bloss || (f->Amask && f->Aloss))
        return false;
    if (ya >= yb || xa >= xb)
        return true;
    pf = (pix_format){ f->Rshift, f->Gshift, f->Bshift, f->Ashift, f->Amask };
    if (SDL_MUSTLOCK(dst) && SDL_LockSurface(dst) != 0)
        return false;
    uint8_t *pixels = dst->pixels;
    const size_t pitch = (size_t)dst->pitch;
    for (int y = ya; y < yb; y++) {
        uint32_t *out = (uint32_t *)(pixels + (size_t)y * pitch);
        int x = x0;
        for (uint32_t i = row[y - y0], e = row[y - y0 + 1]; i < e && x < xb; i++) {
            const uint32_t c = pal[runs[i].c], al = c >> 24;
            int a = x, b = x + (int)runs[i].n;
            x = b;
            if (al == 0 || b <= xa)
                continue;
            a = SDL_max(a, xa);
            b = SDL_min(b, xb);
            if (al == 255) {
                const uint32_t v = (c & 0xFF) << pf.rs | ((c >> 8) & 0xFF) << pf.gs | ((c >> 16) & 0xFF) << pf.bs | pf.amask;
                fill32(out + a, v, b - a);
            } else {
                for (int k = a; k < b; k++)
                    out[k] = blend(&pf, c, al, out[k]);
            }
        }
    }
    if (SDL_MUSTLOCK(dst))
        SDL_UnlockSurface(dst);
    return true;
}

SDL_Surface *picruns_surface(const picruns *p)
{
    SDL_Surface *s = SDL_CreateRGBSurfaceWithFormat(0, p->w, p->h, 32, SDL_PIXELFORMAT_RGBA32);

    if (s == NULL)
        return NULL;
    for (int y = 0; y < p->h; y++) {
        unsigned char *q = (unsigned char *)s->pixels + (size_t)y * (size_t)s->pitch;
        for (uint32_t i = p->row[y]; i < p->row[y + 1]; i++)
            for (uint32_t k = 0; k < p->runs[i].n; k++, q += 4) {
                uint32_t c = p->pal[p->runs[i].c];
                q[0] = (unsigned char)c;
                q[1] = (unsigned char)(c >> 8);
                q[2] = (unsigned char)(c >> 16);
                q[3] = (unsigned char)(c >> 24);
            }
    }
    return s;
}

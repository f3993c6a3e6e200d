/* picruns.c - a picture kept as runs of one colour (picruns.h). */
#include "ui/picruns.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ui/fill32.h"
#include "ui/picture.h"

/* A run of pixels of one colour: R, G, B, A in the bytes of `rgba` from
 * the lowest; every fully transparent pixel is 0, whatever nanosvg left in
 * its colour, so that they make one run. */
typedef struct {
    uint32_t rgba;
    uint32_t n;
} picrun;

struct picruns {
    int w, h;
    uint32_t *row;       /* h + 1 entries: row y's runs are row[y] .. row[y + 1] - 1 */
    picrun *runs;
    size_t n_runs, cap;
};

static uint32_t pixel_at(const unsigned char *p)
{
    return p[3] == 0 ? 0 : (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static bool runs_push(picruns *p, uint32_t rgba, uint32_t n)
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
    p->runs[p->n_runs++] = (picrun){ rgba, n };
    return true;
}

/* picture_band_fn: the rows of a band, encoded. */
static bool runs_band(void *ud, const unsigned char *px, int w, int h, int y, int n)
{
    picruns *p = ud;

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
            while (e < w && pixel_at(q + (size_t)e * 4) == c)
                e++;
            if (!runs_push(p, c, (uint32_t)(e - x)))
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
    if (!picture_rasterise_bands(path, w, h, runs_band, p) || p->row == NULL) {
        picruns_free(p);
        return NULL;
    }
    /* Give back what the doubling left unused. */
    picrun *r = realloc(p->runs, p->n_runs * sizeof *r);
    if (r != NULL) {
        p->runs = r;
        p->cap = p->n_runs;
    }
    return p;
}

void picruns_free(picruns *p)
{
    if (p == NULL)
        return;
    free(p->row);
    free(p->runs);
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
    return sizeof *p + ((size_t)p->h + 1) * sizeof *p->row + p->cap * sizeof *p->runs;
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
    const uint32_t *row = p->row;
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
            const uint32_t c = runs[i].rgba, al = c >> 24;
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
                uint32_t c = p->runs[i].rgba;
                q[0] = (unsigned char)c;
                q[1] = (unsigned char)(c >> 8);
                q[2] = (unsigned char)(c >> 16);
                q[3] = (unsigned char)(c >> 24);
            }
    }
    return s;
}

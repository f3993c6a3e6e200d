/* picruns.c - a picture kept as runs of one colour (picruns.h). */
#include "ui/picruns.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

bool picruns_draw(const picruns *p, SDL_Surface *dst, int x0, int y0)
{
    const SDL_PixelFormat *f = dst->format;
    const SDL_Rect *clip = &dst->clip_rect;
    int ya = SDL_max(y0, clip->y), yb = SDL_min(y0 + p->h, clip->y + clip->h);
    int xa = SDL_max(x0, clip->x), xb = SDL_min(x0 + p->w, clip->x + clip->w);

    if (f->BytesPerPixel != 4 || f->Rloss || f->Gloss || f->Bloss || (f->Amask && f->Aloss))
        return false;
    if (ya >= yb || xa >= xb)
        return true;
    if (SDL_MUSTLOCK(dst) && SDL_LockSurface(dst) != 0)
        return false;
    for (int y = ya; y < yb; y++) {
        uint32_t *out = (uint32_t *)((uint8_t *)dst->pixels + (size_t)y * (size_t)dst->pitch);
        int x = x0;
        for (uint32_t i = p->row[y - y0]; i < p->row[y - y0 + 1] && x < xb; i++) {
            int a = x, b = x + (int)p->runs[i].n;
            uint32_t c = p->runs[i].rgba, al = c >> 24;
            x = b;
            if (al == 0 || b <= xa)
                continue;
            a = SDL_max(a, xa);
            b = SDL_min(b, xb);
            uint32_t r = c & 0xFF, g = (c >> 8) & 0xFF, bl = (c >> 16) & 0xFF;
            if (al == 255) {
                uint32_t v = r << f->Rshift | g << f->Gshift | bl << f->Bshift | f->Amask;
                for (int k = a; k < b; k++)
                    out[k] = v;
                continue;
            }
            for (int k = a; k < b; k++) {
                uint32_t d = out[k];
                uint32_t v = mix(r, (d & f->Rmask) >> f->Rshift, al) << f->Rshift |
                             mix(g, (d & f->Gmask) >> f->Gshift, al) << f->Gshift |
                             mix(bl, (d & f->Bmask) >> f->Bshift, al) << f->Bshift;
                if (f->Amask) /* SDL's: a + dA * (1 - a) */
                    v |= mix(255, (d & f->Amask) >> f->Ashift, al) << f->Ashift;
                out[k] = v;
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

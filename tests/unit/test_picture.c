/* test_picture.c - the six pictures (assets/, SVG) rasterised by picture.c
 * over the vendored nanosvg, as the kiosk shows them.
 *
 * What would show a broken or mis-updated rasteriser: the surface's size
 * (SDL2_image's sizing, picture.h), where the ink lies (each picture's
 * outline worked out by hand from its SVG, scaled), known colours at known
 * points well inside their shapes, transparency where nothing is drawn, and
 * render.c centring a picture in a box of another shape. Files that are
 * not pictures give NULL and nothing else (valgrind: no error, no leak).
 * Files are found under $KIOSK_SOURCE_ROOT (the test runner sets it).
 */
#include "t.h"

#include <math.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include <SDL.h>

#include "ui/picruns.h"
#include "ui/picture.h"
#include "ui/render.h"
#include "ui/view.h"

/* A point of the 600x400 drawing and the colour there. */
typedef struct { int x, y; uint32_t rgb; } probe;

/* x0, y0, x1, y1: the extent of the ink in the drawing's units (shapes and
 * half their strokes), from the SVG's numbers. */
typedef struct {
    const char *file;
    float x0, y0, x1, y1;
    probe probes[8];
    int n_probes;
} asset;

#define CLEAR 0xFF000000u /* a probe that must be fully transparent */

static const asset assets[] = {
    { "success.svg", 81, 68, 568, 316, {
        { 455, 200, 0x0B5A24 },  /* the green disc at its centre, beside the tick */
        { 455, 130, 0x0B5A24 },
        { 477, 203, 0xFFFFFF },  /* the tick's long stroke */
        { 440, 244, 0xFFFFFF },  /* the tick's corner */
        { 455, 90, 0x1F2933 },   /* the disc's outline */
        { 200, 100, 0x2F6FD6 },  /* the card's band */
        { 120, 200, 0xE0A82E },  /* the chip */
        { 260, 270, 0xF3F7FC },  /* the card */
      }, 8 },
    { "card-blocked.svg", 81, 68, 538, 323, {
        { 400, 300, 0x7A1E00 },  /* the padlock's body */
        { 520, 200, 0x7A1E00 },
        { 455, 240, 0xFFFFFF },  /* the keyhole */
        { 455, 280, 0xFFFFFF },
        { 400, 160, 0x1F2933 },  /* the shackle */
        { 455, 150, CLEAR },     /* inside the shackle */
        { 200, 100, 0x2F6FD6 },
      }, 7 },
    { "card-rejected.svg", 81, 68, 577, 322, {
        { 455, 90, 0x7A1E00 },   /* the ring */
        { 455, 200, 0x7A1E00 },  /* where the cross's strokes meet */
        { 455, 130, 0xFFFFFF },  /* inside the ring, off the cross */
        { 200, 100, 0x2F6FD6 },
      }, 4 },
    { "take-card.svg", 13, 28, 587, 393, {
        { 495, 200, 0xF08C00 },  /* the arrow's shaft */
        { 300, 331, 0x0B0F14 },  /* the slot */
        { 300, 370, 0x5E6E80 },  /* the reader */
        { 240, 60, 0x2F6FD6 },   /* the card's band, up out of the slot */
        { 560, 100, CLEAR },
      }, 5 },
    { "out-of-service.svg", 57, 26, 543, 383, {
        { 300, 100, 0x2F3A46 },  /* the screen */
        { 300, 42, 0xC9D3DF },   /* its frame */
        { 195, 205, 0x7A1E00 },  /* a stripe of the barrier */
        { 260, 180, 0xFFFFFF },  /* the barrier between two stripes */
        { 300, 290, 0x5E6E80 },  /* the stand */
        { 100, 100, CLEAR },
      }, 6 },
    { "insert-card.svg", 13, 67, 587, 389, {
        { 105, 120, 0xF08C00 },  /* the left arrow */
        { 495, 120, 0xF08C00 },  /* the right arrow */
        { 330, 160, 0xC9D3DF },  /* the photo */
        { 100, 296, 0x0B0F14 },  /* the slot */
        { 300, 360, 0x5E6E80 },  /* the reader */
        { 210, 200, 0xE0A82E },  /* the chip */
        { 300, 30, CLEAR },
      }, 7 },
};
#define N_ASSETS (int)(sizeof assets / sizeof assets[0])

/* Boxes asked for, and the scale SDL2_image's sizing gives each (the
 * drawings are 600x400): the drawing's own shape, other shapes, one side
 * only, none. */
static const struct { int w, h; float scale; } sizes[] = {
    { 600, 400, 1.0f }, { 0, 0, 1.0f }, { 300, 200, 0.5f }, { 500, 250, 0.625f },
    { 1440, 1080, 2.4f }, { 1000, 0, 1000.0f / 600.0f }, { 0, 301, 301.0f / 400.0f },
};
#define N_SIZES (int)(sizeof sizes / sizeof sizes[0])

static char root[1024];

static int asset_path(char *out, size_t n, const char *file)
{
    int len = snprintf(out, n, "%s/assets/%s", root, file);
    return len > 0 && (size_t)len < n ? 0 : -1;
}

static const Uint8 *pixel(const SDL_Surface *s, int x, int y)
{
    return (const Uint8 *)s->pixels + y * s->pitch + x * 4;
}

/* The first and one past the last column (or row) holding any ink. */
static void ink_extent(const SDL_Surface *s, int *x0, int *y0, int *x1, int *y1)
{
    *x0 = s->w, *y0 = s->h, *x1 = 0, *y1 = 0;
    for (int y = 0; y < s->h; y++)
        for (int x = 0; x < s->w; x++)
            if (pixel(s, x, y)[3] != 0) {
                *x0 = x < *x0 ? x : *x0;
                *y0 = y < *y0 ? y : *y0;
                *x1 = x + 1 > *x1 ? x + 1 : *x1;
                *y1 = y + 1 > *y1 ? y + 1 : *y1;
            }
}

static bool near(int got, float want, float slack)
{
    return fabsf((float)got - want) <= slack;
}

static void check_asset_at(const asset *a, int w, int h, float scale)
{
    char path[1200];
    SDL_Surface *s;
    int x0, y0, x1, y1;

    T_CHECK(asset_path(path, sizeof path, a->file) == 0);
    s = picture_rasterise(path, w, h);
    if (s == NULL) {
        fprintf(stderr, "  %s at %dx%d: %s\n", a->file, w, h, SDL_GetError());
        T_CHECK(s != NULL);
        return;
    }
    T_EQ_INT(s->format->format, SDL_PIXELFORMAT_RGBA32);
    T_EQ_INT(s->w, (int)ceilf(600 * scale));
    T_EQ_INT(s->h, (int)ceilf(400 * scale));

    /* The drawing's outline, scaled, at the surface's top left: a pixel of
     * anti-aliasing either way. */
    ink_extent(s, &x0, &y0, &x1, &y1);
    if (!near(x0, a->x0 * scale, 1.5f) || !near(y0, a->y0 * scale, 1.5f) ||
        !near(x1, a->x1 * scale, 1.5f) || !near(y1, a->y1 * scale, 1.5f)) {
        fprintf(stderr, "  %s at %dx%d: ink [%d,%d)x[%d,%d), want about [%.1f,%.1f)x[%.1f,%.1f)\n",
                a->file, w, h, x0, x1, y0, y1, a->x0 * scale, a->x1 * scale,
                a->y0 * scale, a->y1 * scale);
        T_CHECK(!"the ink where the drawing puts it");
    }
    T_EQ_INT(pixel(s, 0, 0)[3], 0);
    T_EQ_INT(pixel(s, s->w - 1, s->h - 1)[3], 0);

    for (int i = 0; i < a->n_probes; i++) {
        const probe *p = &a->probes[i];
        int px = (int)(p->x * scale), py = (int)(p->y * scale);
        const Uint8 *c = pixel(s, px, py);
        bool ok;
        if (p->rgb == CLEAR)
            ok = c[3] == 0;
        else
            ok = c[3] == 255 && abs(c[0] - (int)(p->rgb >> 16)) <= 2 &&
                 abs(c[1] - (int)(p->rgb >> 8 & 0xFF)) <= 2 && abs(c[2] - (int)(p->rgb & 0xFF)) <= 2;
        if (!ok) {
            fprintf(stderr, "  %s at %dx%d: (%d,%d) is #%02X%02X%02X alpha %d, want %s%06X\n",
                    a->file, w, h, p->x, p->y, c[0], c[1], c[2], c[3],
                    p->rgb == CLEAR ? "transparent, not " : "#", p->rgb & 0xFFFFFF);
            T_CHECK(!"the colour the drawing has there");
        }
    }
    SDL_FreeSurface(s);
}

T_TEST(every_picture_at_every_size)
{
    for (int i = 0; i < N_ASSETS; i++)
        for (int z = 0; z < N_SIZES; z++)
            check_asset_at(&assets[i], sizes[z].w, sizes[z].h, sizes[z].scale);
}

/* What the kiosk does with the surface: render.c centres it in the box the
 * view gave, here a box wider than the drawing's shape. */
T_TEST(render_centres_a_picture_in_its_box)
{
    const ui_rect box = { 50, 40, 500, 250 }; /* 375x250 of picture, 62 px each side */
    const float scale = 0.625f, ox = 50 + (500 - 375) / 2, oy = 40;
    const asset *a = &assets[0];
    SDL_Surface *s = SDL_CreateRGBSurfaceWithFormat(0, 600, 400, 32, SDL_PIXELFORMAT_ARGB8888);
    SDL_Renderer *r = s ? SDL_CreateSoftwareRenderer(s) : NULL;
    ui_renderer *u = NULL;
    ui_view *v = calloc(1, sizeof *v);
    char path[1200];
    int x0 = s ? s->w : 0, y0 = s ? s->h : 0, x1 = 0, y1 = 0;

    T_CHECK(r != NULL && v != NULL);
    if (r == NULL || v == NULL)
        goto out;
    T_CHECK(asset_path(path, sizeof path, a->file) == 0);
    u = ui_renderer_new(r, NULL, path);
    v->w = 600;
    v->h = 400;
    v->bar = (ui_rect){ 0, 0, 600, 20 }; /* the rest of a screen: none */
    v->show_picture = true;
    v->picture_id = UI_PIC_SUCCESS;
    v->picture = box;
    ui_renderer_draw(u, v, -1, NULL);
    SDL_RenderPresent(r);
    for (int y = v->bar.h; y < s->h; y++)
        for (int x = 0; x < s->w; x++) {
            Uint32 px = *(const Uint32 *)((const Uint8 *)s->pixels + y * s->pitch + x * 4);
            if ((px & 0xFFFFFF) != 0xFFFFFF) { /* not the white background */
                x0 = x < x0 ? x : x0;
                y0 = y < y0 ? y : y0;
                x1 = x + 1 > x1 ? x + 1 : x1;
                y1 = y + 1 > y1 ? y + 1 : y1;
            }
        }
    if (!near(x0, ox + a->x0 * scale, 1.5f) || !near(x1, ox + a->x1 * scale, 1.5f) ||
        !near(y0, oy + a->y0 * scale, 1.5f) || !near(y1, oy + a->y1 * scale, 1.5f)) {
        fprintf(stderr, "  drawn at [%d,%d)x[%d,%d), want about [%.1f,%.1f)x[%.1f,%.1f)\n",
                x0, x1, y0, y1, ox + a->x0 * scale, ox + a->x1 * scale,
                oy + a->y0 * scale, oy + a->y1 * scale);
        T_CHECK(!"the picture centred in its box");
    }
out:
    ui_renderer_free(u);
    if (r != NULL)
        SDL_DestroyRenderer(r);
    SDL_FreeSurface(s);
    free(v);
}

/* Writes `len` bytes of `data` to dir/name; the path goes to out. */
static void write_file(char *out, size_t n, const char *dir, const char *name,
                       const void *data, size_t len)
{
    FILE *f;
    snprintf(out, n, "%s/%s", dir, name);
    f = fopen(out, "wb");
    T_CHECK(f != NULL);
    if (f == NULL)
        return;
    T_EQ_INT(fwrite(data, 1, len, f), len);
    T_EQ_INT(fclose(f), 0);
}

static const char *real_success(void)
{
    static char path[1200];
    return asset_path(path, sizeof path, "success.svg") == 0 ? path : "";
}

static void check_refused(const char *path, const char *what)
{
    SDL_ClearError();
    SDL_Surface *s = picture_rasterise(path, 300, 200);
    if (s != NULL) {
        fprintf(stderr, "  %s: a %dx%d picture, want none\n", what, s->w, s->h);
        SDL_FreeSurface(s);
        T_CHECK(!"no picture");
        return;
    }
    if (SDL_GetError()[0] == '\0') {
        fprintf(stderr, "  %s: no reason given\n", what);
        T_CHECK(!"a reason in SDL_GetError()");
    }
    /* The same file kept as runs: refused the same way. */
    SDL_ClearError();
    picruns *p = picruns_make(path, 300, 200);
    T_CHECK(p == NULL);
    picruns_free(p);
    T_CHECK(SDL_GetError()[0] != '\0');
}

T_TEST(files_that_are_not_pictures_give_null)
{
    char dir[] = "/tmp/test_picture.XXXXXX", path[256], real[1200];
    unsigned char junk[4096];
    uint32_t seed = 12345;
    static const char *const texts[][2] = {
        { "empty.svg", "" },
        { "text.svg", "This is not a picture.\n" },
        { "no-size.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>" },
        { "zero-size.svg", "<svg width=\"0\" height=\"0\"></svg>" },
        { "negative.svg", "<svg width=\"-600\" height=\"-400\"></svg>" },
        { "nan.svg", "<svg width=\"nan\" height=\"nan\"></svg>" },
        { "unclosed.svg", "<svg width=\"600\" height=\"400\" <rect <path d=\"M 1 1 L" },
    };

    T_CHECK(mkdtemp(dir) != NULL);
    check_refused(NULL, "no path");
    check_refused(dir, "a directory");
    snprintf(path, sizeof path, "%s/fifo.svg", dir);
    T_EQ_INT(mkfifo(path, 0600), 0);
    check_refused(path, "a FIFO (without waiting for a writer)");
    unlink(path);
    snprintf(path, sizeof path, "%s/missing.svg", dir);
    check_refused(path, "a missing file");
    T_CHECK(asset_path(real, sizeof real, "no-such-picture.svg") == 0);
    check_refused(real, "a missing asset");

    for (size_t i = 0; i < sizeof junk; i++) { /* bytes of every value, NULs too */
        seed = seed * 1103515245u + 12345u;
        junk[i] = (unsigned char)(seed >> 16);
    }
    write_file(path, sizeof path, dir, "junk.svg", junk, sizeof junk);
    check_refused(path, "random bytes");
    unlink(path);
    {   /* a good picture padded with spaces past what a picture may weigh:
         * refused for its size alone */
        size_t len = 0, n = (1u << 20) + 1;
        char *big = malloc(n), *svg = SDL_LoadFile(real_success(), &len);
        T_CHECK(big != NULL && svg != NULL && len < n);
        if (big != NULL && svg != NULL && len < n) {
            memset(big, ' ', n);
            memcpy(big, svg, len);
            write_file(path, sizeof path, dir, "big.svg", big, n);
            check_refused(path, "a file of more than 1 MiB");
            unlink(path);
        }
        free(big);
        SDL_free(svg);
    }
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        write_file(path, sizeof path, dir, texts[i][0], texts[i][1], strlen(texts[i][1]));
        check_refused(path, texts[i][0]);
        unlink(path);
    }
    rmdir(dir);
}

/* Sizes a picture should not have: nanosvg falls back on its shapes'
 * extent (as it did in SDL2_image), or there is no picture; either way
 * nothing larger than the box asked for. */
T_TEST(odd_sizes_stay_in_the_box)
{
    char dir[] = "/tmp/test_picture.XXXXXX", path[256];
    static const char *const sizes_[] = {
        "width=\"0\" height=\"400\"", "width=\"-600\" height=\"-400\"",
        "width=\"1e30\" height=\"1e30\"", "width=\"nan\" height=\"inf\"",
        "width=\"600\" height=\"400\" viewBox=\"0 0 0 0\"",
        "width=\"600\" height=\"400\" viewBox=\"0 0 1e-30 1e30\"",
        "width=\"1e-30\" height=\"1e-30\"",
    };

    T_CHECK(mkdtemp(dir) != NULL);
    for (size_t i = 0; i < sizeof sizes_ / sizeof sizes_[0]; i++) {
        char svg[256];
        SDL_Surface *s;
        int n = snprintf(svg, sizeof svg, "<svg %s><rect x=\"5\" y=\"5\" width=\"90\" height=\"60\"/></svg>",
                         sizes_[i]);
        write_file(path, sizeof path, dir, "odd.svg", svg, (size_t)n);
        s = picture_rasterise(path, 300, 200);
        if (s != NULL && (s->w > 301 || s->h > 201)) {
            fprintf(stderr, "  <svg %s>: %dx%d for a 300x200 box\n", sizes_[i], s->w, s->h);
            T_CHECK(!"the picture within its box");
        }
        SDL_FreeSurface(s);
        unlink(path);
    }
    rmdir(dir);
}

/* A file cut short still parses as far as it goes: whatever comes of it,
 * nothing breaks (valgrind and ASan are the judges). */
T_TEST(a_picture_cut_short_does_not_break)
{
    char path[1200], cut[256], dir[] = "/tmp/test_picture.XXXXXX";
    size_t len = 0;
    void *data;

    T_CHECK(asset_path(path, sizeof path, "insert-card.svg") == 0);
    data = SDL_LoadFile(path, &len);
    T_CHECK(data != NULL && mkdtemp(dir) != NULL);
    if (data == NULL)
        return;
    for (size_t n = 0; n < len; n += len / 16) {
        SDL_Surface *s;
        write_file(cut, sizeof cut, dir, "cut.svg", data, n);
        s = picture_rasterise(cut, 300, 200);
        if (s != NULL)
            T_CHECK(s->w <= 300 && s->h <= 200);
        SDL_FreeSurface(s);
        unlink(cut);
    }
    rmdir(dir);
    SDL_free(data);
}

/* Whether (x, y) of s lies on an edge: a pixel beside it has other bytes. */
static bool on_edge(const SDL_Surface *s, int x, int y)
{
    static const int d[4][2] = { { -1, 0 }, { 1, 0 }, { 0, -1 }, { 0, 1 } };
    for (int i = 0; i < 4; i++) {
        int nx = x + d[i][0], ny = y + d[i][1];
        if (nx >= 0 && ny >= 0 && nx < s->w && ny < s->h && memcmp(pixel(s, x, y), pixel(s, nx, ny), 4) != 0)
            return true;
    }
    return false;
}

static int cmp_u32(const void *a, const void *b)
{
    Uint32 x = *(const Uint32 *)a, y = *(const Uint32 *)b;
    return (x > y) - (x < y);
}

/* Runs of one pixel value along each row (at most 65535 long) and the
 * distinct values among them, counted from a picture's pixels. */
static void count_runs(const SDL_Surface *s, size_t *runs, size_t *colours)
{
    Uint32 *v = malloc(((size_t)s->w * (size_t)s->h + 1) * sizeof *v);
    size_t n = 0;

    for (int y = 0; y < s->h && v; y++)
        for (int x = 0; x < s->w;) {
            int e = x + 1;
            while (e < s->w && e - x < 65535 && memcmp(pixel(s, x, y), pixel(s, e, y), 4) == 0)
                e++;
            memcpy(&v[n++], pixel(s, x, y), 4);
            x = e;
        }
    *runs = n;
    *colours = 0;
    if (v == NULL)
        return;
    qsort(v, n, sizeof *v, cmp_u32);
    for (size_t i = 0; i < n; i++)
        *colours += i == 0 || v[i] != v[i - 1];
    free(v);
}

/* Kept as runs (what the kiosk keeps), a picture is far smaller: under a
 * quarter of its RGBA bytes at every size a screen shows (SDL's run-length
 * encoding kept 40-70 %), and what it keeps is 4 bytes a run and 4 a
 * colour of its palette beside a row's start (8 bytes a run, colour and
 * length, took 1.7 times as much). It is rasterised a band of rows at a time, and
 * nanosvg steps an edge down from where it meets the band rather than
 * from where it starts, so a few pixels of anti-aliasing come out a little
 * otherwise than in picture_rasterise's whole surface: those only, on the
 * edges, and few. Every other pixel is the same bytes. */
T_TEST(kept_as_runs_a_picture_is_its_pixels_in_a_quarter_of_the_bytes)
{
    char path[1200];

    for (int i = 0; i < N_ASSETS; i++)
        for (int z = 0; z < N_SIZES; z++) {
            T_CHECK(asset_path(path, sizeof path, assets[i].file) == 0);
            SDL_Surface *want = picture_rasterise(path, sizes[z].w, sizes[z].h);
            picruns *p = picruns_make(path, sizes[z].w, sizes[z].h);
            SDL_Surface *got = p ? picruns_surface(p) : NULL;
            T_CHECK(want != NULL && got != NULL);
            if (want == NULL || got == NULL) {
                SDL_FreeSurface(want);
                picruns_free(p);
                continue;
            }
            T_EQ_INT(got->w, want->w);
            T_EQ_INT(got->h, want->h);
            T_EQ_INT(picruns_w(p), want->w);
            T_EQ_INT(picruns_h(p), want->h);
            long differ = 0, inside = 0;
            for (int y = 0; y < want->h && got->w == want->w && got->h == want->h; y++)
                for (int x = 0; x < want->w; x++) {
                    const Uint8 *a = pixel(want, x, y), *b = pixel(got, x, y);
                    /* Transparent is transparent, whatever colour it was left. */
                    if (!(a[3] == 0 && b[3] == 0) && memcmp(a, b, 4) != 0) {
                        differ++;
                        inside += !on_edge(want, x, y);
                    }
                }
            size_t raw = (size_t)want->w * (size_t)want->h * 4;
            if (inside || differ * 200 > (long)raw / 4 || picruns_bytes(p) * 4 > raw)
                fprintf(stderr, "  %s at %dx%d: %ld pixels differ, %ld off the edges; %zu bytes kept of %zu\n",
                        assets[i].file, want->w, want->h, differ, inside, picruns_bytes(p), raw);
            T_EQ_INT(inside, 0);
            T_CHECK(differ * 200 <= (long)raw / 4); /* at most 0.5 % of the pixels */
            T_CHECK(picruns_bytes(p) * 4 <= raw);
            size_t runs, colours, fair;
            count_runs(got, &runs, &colours);
            fair = 4 * runs + 4 * colours + 4 * ((size_t)got->h + 1) + 128;
            if (picruns_bytes(p) > fair)
                fprintf(stderr, "  %s at %dx%d: %zu bytes kept for %zu runs of %zu colours\n",
                        assets[i].file, want->w, want->h, picruns_bytes(p), runs, colours);
            T_CHECK(picruns_bytes(p) <= fair);
            SDL_FreeSurface(want);
            SDL_FreeSurface(got);
            picruns_free(p);
        }
}

/* Writes an SVG of cols x rows squares of 5 px, each of a colour of its
 * own, into dir/name; its path in out. */
static void write_squares(char *out, size_t n, const char *dir, const char *name, int cols, int rows)
{
    size_t cap = 200 + (size_t)cols * (size_t)rows * 80, len;
    char *svg = malloc(cap);

    T_CHECK(svg != NULL);
    if (svg == NULL)
        return;
    len = (size_t)snprintf(svg, cap, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\">",
                           cols * 5, rows * 5);
    for (int i = 0; i < cols * rows; i++)
        len += (size_t)snprintf(svg + len, cap - len, "<rect x=\"%d\" y=\"%d\" width=\"5\" height=\"5\" fill=\"#%06x\"/>",
                                i % cols * 5, i / cols * 5, 0x102030 + i * 7);
    len += (size_t)snprintf(svg + len, cap - len, "</svg>");
    write_file(out, n, dir, name, svg, len);
    free(svg);
}

/* A picture's palette holds 4096 colours, transparent among them: the
 * kiosk's have 460-1700 at the sizes a screen shows (2400 at 16384 px).
 * One of more is not a picture of flat colours and is refused with
 * the reason, as one of too many runs is; one of exactly 4096 is kept, its
 * every square its colour. */
T_TEST(a_picture_of_too_many_colours_is_refused)
{
    char dir[] = "/tmp/test_picture.XXXXXX", path[256];

    T_CHECK(mkdtemp(dir) != NULL);
    write_squares(path, sizeof path, dir, "4096.svg", 64, 64);
    picruns *p = picruns_make(path, 320, 320);
    SDL_Surface *s = p ? picruns_surface(p) : NULL;
    T_CHECK(p != NULL && s != NULL);
    if (p == NULL)
        fprintf(stderr, "  4096 colours refused: %s\n", SDL_GetError());
    for (int i = 0; s != NULL && i < 64 * 64; i++) {
        const Uint8 *q = pixel(s, i % 64 * 5 + 2, i / 64 * 5 + 2);
        Uint32 want = 0x102030u + (Uint32)i * 7u;
        if (q[0] != (want >> 16 & 0xFF) || q[1] != (want >> 8 & 0xFF) || q[2] != (want & 0xFF) || q[3] != 255) {
            T_CHECK(!"a square of its own colour");
            break;
        }
    }
    SDL_FreeSurface(s);
    picruns_free(p);
    unlink(path);

    write_squares(path, sizeof path, dir, "4160.svg", 65, 64);
    SDL_ClearError();
    p = picruns_make(path, 325, 320);
    T_CHECK(p == NULL);
    T_CHECK(strstr(SDL_GetError(), "over 4096 colours") != NULL);
    picruns_free(p);
    unlink(path);
    rmdir(dir);
}

/* The runs drawn straight onto a frame are the picture blended as SDL
 * blends it (SDL_BLENDMODE_BLEND; up to 3 units either way where SDL's
 * integer arithmetic rounds down), onto the software renderer's surface formats,
 * partly off the surface and cut by its clip rectangle; nothing outside
 * the clip rectangle changes. */
T_TEST(runs_drawn_are_the_picture_blended_as_sdl_blends_it)
{
    static const Uint32 formats[] = { SDL_PIXELFORMAT_ARGB8888, SDL_PIXELFORMAT_RGB888, SDL_PIXELFORMAT_ABGR8888 };
    const SDL_Rect clip = { 40, 30, 500, 300 };
    char path[1200];

    T_CHECK(asset_path(path, sizeof path, "insert-card.svg") == 0);
    picruns *p = picruns_make(path, 600, 400);
    SDL_Surface *pic = p ? picruns_surface(p) : NULL; /* its pixels, as SDL would blit them */
    T_CHECK(pic != NULL && p != NULL);
    if (pic == NULL || p == NULL)
        goto out;
    SDL_SetSurfaceBlendMode(pic, SDL_BLENDMODE_BLEND);
    for (size_t f = 0; f < sizeof formats / sizeof formats[0]; f++) {
        SDL_Surface *a = SDL_CreateRGBSurfaceWithFormat(0, 640, 360, 32, formats[f]);
        SDL_Surface *b = SDL_CreateRGBSurfaceWithFormat(0, 640, 360, 32, formats[f]);
        T_CHECK(a != NULL && b != NULL);
        if (a == NULL || b == NULL) {
            SDL_FreeSurface(a);
            SDL_FreeSurface(b);
            continue;
        }
        /* Cut by the clip on the right and at the top, then on the left
         * (from a negative x) and at the bottom: each on a fresh surface. */
        static const SDL_Rect places[] = { { 100, -20, 600, 400 }, { -150, 90, 600, 400 } };
        for (int pl = 0; pl < 2; pl++) {
            /* A background of some colour and alpha, the same in both. */
            SDL_FillRect(a, NULL, SDL_MapRGBA(a->format, 0x36, 0x9C, 0xD2, 0xC8));
            SDL_FillRect(b, NULL, SDL_MapRGBA(b->format, 0x36, 0x9C, 0xD2, 0xC8));
            SDL_SetClipRect(a, &clip);
            SDL_SetClipRect(b, &clip);
            SDL_Rect at = places[pl];
            T_CHECK(SDL_BlitSurface(pic, NULL, a, &at) == 0);
            T_CHECK(picruns_draw(p, b, places[pl].x, places[pl].y));
            int worst = 0, worst_a = 0, outside = 0;
            for (int y = 0; y < a->h; y++)
                for (int x = 0; x < a->w; x++) {
                    Uint32 va = *(const Uint32 *)((const Uint8 *)a->pixels + y * a->pitch + x * 4);
                    Uint32 vb = *(const Uint32 *)((const Uint8 *)b->pixels + y * b->pitch + x * 4);
                    Uint8 ca[4], cb[4];
                    bool in = x >= clip.x && x < clip.x + clip.w && y >= clip.y && y < clip.y + clip.h;
                    SDL_GetRGBA(va, a->format, &ca[0], &ca[1], &ca[2], &ca[3]);
                    SDL_GetRGBA(vb, b->format, &cb[0], &cb[1], &cb[2], &cb[3]);
                    for (int k = 0; k < 4; k++) {
                        int d = abs(ca[k] - cb[k]);
                        if (k < 3)
                            worst = d > worst ? d : worst;
                        else
                            worst_a = d > worst_a ? d : worst_a;
                        outside += !in && d != 0;
                    }
                }
            if (worst > 3 || worst_a > 3 || outside)
                fprintf(stderr, "  %s: colours differ by up to %d, alpha by %d, %d outside the clip\n",
                        SDL_GetPixelFormatName(formats[f]), worst, worst_a, outside);
            /* Some of SDL's blitters divide by 256 where 255 is meant. */
            T_CHECK(worst <= 3);
            T_CHECK(worst_a <= 3);
            T_EQ_INT(outside, 0);
        }
        SDL_FreeSurface(a);
        SDL_FreeSurface(b);
    }
    /* A surface of another depth is refused, untouched. */
    SDL_Surface *s16 = SDL_CreateRGBSurfaceWithFormat(0, 64, 64, 16, SDL_PIXELFORMAT_RGB565);
    T_CHECK(s16 != NULL);
    if (s16) {
        T_CHECK(!picruns_draw(p, s16, 0, 0));
        SDL_FreeSurface(s16);
    }
out:
    SDL_FreeSurface(pic);
    picruns_free(p);
}

int main(void)
{
    static const t_case cases[] = {
        T_CASE(every_picture_at_every_size),
        T_CASE(render_centres_a_picture_in_its_box),
        T_CASE(files_that_are_not_pictures_give_null),
        T_CASE(odd_sizes_stay_in_the_box),
        T_CASE(a_picture_cut_short_does_not_break),
        T_CASE(kept_as_runs_a_picture_is_its_pixels_in_a_quarter_of_the_bytes),
        T_CASE(runs_drawn_are_the_picture_blended_as_sdl_blends_it),
        T_CASE(a_picture_of_too_many_colours_is_refused),
    };
    if (!t_source_root(root, sizeof root))
        return 1;
    return t_run(cases, sizeof cases / sizeof cases[0]);
}

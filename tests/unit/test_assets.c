/* test_assets.c - the shipped fonts and the idle-screen picture load and
 * cover what the kiosk draws.
 *
 * SDL2_ttf has no font fallback, so a character missing from fonts/ shows as
 * a box on the screen; these checks catch a bad subset before a citizen does.
 * Files are found under $KIOSK_SOURCE_ROOT (the test runner sets it).
 */
#include "t.h"

#include <malloc.h>

#include <SDL.h>
#include <SDL_ttf.h>

#include "ui/picture.h"

#define FONT_REGULAR "fonts/NotoSansSC-Kiosk-Regular.otf"
#define FONT_BOLD    "fonts/NotoSansSC-Kiosk-Bold.otf"
#define CARD_SVG     "assets/insert-card.svg"

/* Common surnames: a holder's name is the least predictable text on screen. */
static const char surnames[] =
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾";
#define N_SURNAMES 32

/* PIN dots, separators and arrows the screens use. */
static const char symbols[] = "*·•●○→←、。，：（）　";

/* Writes $KIOSK_SOURCE_ROOT/rel into out; 0 on success, -1 (after saying
 * why) if the variable is unset or the path does not fit. */
static int asset_path(char *out, size_t n, const char *rel)
{
    const char *root = getenv("KIOSK_SOURCE_ROOT");
    if (root == NULL || root[0] == '\0') {
        fprintf(stderr, "  KIOSK_SOURCE_ROOT is not set\n");
        return -1;
    }
    int len = snprintf(out, n, "%s/%s", root, rel);
    if (len < 0 || (size_t)len >= n) {
        fprintf(stderr, "  path to %s is too long\n", rel);
        return -1;
    }
    return 0;
}

/* Opens a font from the tree at a kiosk-like size; NULL (after saying why)
 * on failure. The caller closes it. Needs TTF_Init. */
static TTF_Font *open_font(const char *rel)
{
    char path[4096];
    if (asset_path(path, sizeof path, rel) != 0)
        return NULL;
    TTF_Font *f = TTF_OpenFont(path, 32);
    if (f == NULL)
        fprintf(stderr, "  TTF_OpenFont(%s): %s\n", path, TTF_GetError());
    return f;
}

/* Counts, and names on stderr, the code points in [lo, hi] that `f` lacks. */
static int missing_range(TTF_Font *f, const char *what, Uint32 lo, Uint32 hi)
{
    int missing = 0;
    for (Uint32 cp = lo; cp <= hi; cp++) {
        if (!TTF_GlyphIsProvided32(f, cp)) {
            fprintf(stderr, "  %s: no glyph for U+%04X\n", what, (unsigned)cp);
            missing++;
        }
    }
    return missing;
}

/* Decodes one UTF-8 character of NUL-terminated `s` into *cp; returns its
 * length, or 0 at the end or on a malformed sequence. */
static size_t utf8_next(const char *s, Uint32 *cp)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t len;
    Uint32 c;
    if (u[0] < 0x80) {
        *cp = u[0];
        return u[0] != 0;
    } else if ((u[0] & 0xE0) == 0xC0) {
        len = 2, c = u[0] & 0x1F;
    } else if ((u[0] & 0xF0) == 0xE0) {
        len = 3, c = u[0] & 0x0F;
    } else if ((u[0] & 0xF8) == 0xF0) {
        len = 4, c = u[0] & 0x07;
    } else {
        return 0;
    }
    for (size_t i = 1; i < len; i++) {
        if ((u[i] & 0xC0) != 0x80) /* also stops at the NUL */
            return 0;
        c = (c << 6) | (u[i] & 0x3F);
    }
    *cp = c;
    return len;
}

/* Counts, and names, the characters of UTF-8 `s` that `f` lacks; *n gets
 * how many characters `s` has, so a mangled list cannot pass unnoticed. */
static int missing_utf8(TTF_Font *f, const char *what, const char *s, int *n)
{
    int missing = 0;
    Uint32 cp;
    size_t len;
    *n = 0;
    while ((len = utf8_next(s, &cp)) != 0) {
        (*n)++;
        missing += missing_range(f, what, cp, cp);
        s += len;
    }
    if (*s != '\0') {
        fprintf(stderr, "  %s: malformed UTF-8 in the list\n", what);
        return -1;
    }
    return missing;
}

/* Everything the kiosk needs from one weight of the font. */
static void check_font_coverage(const char *rel)
{
    int n = 0;
    if (TTF_Init() != 0) {
        fprintf(stderr, "  TTF_Init: %s\n", TTF_GetError());
        T_CHECK(!"TTF_Init");
        return;
    }
    TTF_Font *f = open_font(rel);
    T_CHECK(f != NULL);
    if (f == NULL)
        goto out;

    T_EQ_INT(missing_utf8(f, rel, surnames, &n), 0);
    T_EQ_INT(n, N_SURNAMES);
    T_EQ_INT(missing_range(f, rel, '0', '9'), 0);
    T_EQ_INT(missing_range(f, rel, 0x20, 0x7E), 0);
    T_EQ_INT(missing_utf8(f, rel, symbols, &n), 0);
    T_EQ_INT(n, 14);
    /* Fullwidth ASCII variants (digits a citizen may type, ＊, ：) and the
     * fullwidth signs; the rest of U+FF00-FFEF is partly unassigned. */
    T_EQ_INT(missing_range(f, rel, 0xFF01, 0xFF5E), 0);
    T_EQ_INT(missing_range(f, rel, 0xFFE0, 0xFFE6), 0);

    /* It is a subset: a character outside GB2312 and the UI must be absent,
     * or the checks above could not tell a good font from any font. */
    T_EQ_INT(TTF_GlyphIsProvided32(f, 0x9F98), 0); /* 龘 */
    T_EQ_INT(TTF_GlyphIsProvided32(f, 0x4E02), 0); /* 丂 (GBK, not GB2312) */

out:
    if (f != NULL)
        TTF_CloseFont(f);
    TTF_Quit();
}

T_TEST(regular_font_covers_names_digits_and_fullwidth)
{
    check_font_coverage(FONT_REGULAR);
}

T_TEST(bold_font_covers_names_digits_and_fullwidth)
{
    check_font_coverage(FONT_BOLD);
}

/* A glyph that is "provided" must also draw: some pixels get ink. */
T_TEST(font_renders_a_name_with_ink)
{
    SDL_Surface *s = NULL;
    TTF_Font *f = NULL;
    if (TTF_Init() != 0) {
        T_CHECK(!"TTF_Init");
        return;
    }
    f = open_font(FONT_BOLD);
    T_CHECK(f != NULL);
    if (f == NULL)
        goto out;
    SDL_Color black = {0, 0, 0, 255};
    s = TTF_RenderUTF8_Blended(f, "王小明", black);
    T_CHECK(s != NULL);
    if (s == NULL)
        goto out;
    T_CHECK(s->w > 3 * 20);   /* three ideographs at 32 px */
    T_CHECK(s->h >= 32);
    T_EQ_INT(s->format->BytesPerPixel, 4);
    int inked = 0;
    for (int y = 0; y < s->h; y++) {
        const Uint32 *row = (const Uint32 *)((const Uint8 *)s->pixels + y * s->pitch);
        for (int x = 0; x < s->w; x++) {
            Uint8 r, g, b, a;
            SDL_GetRGBA(row[x], s->format, &r, &g, &b, &a);
            inked += a > 128;
        }
    }
    T_CHECK(inked > 100);
out:
    if (s != NULL)
        SDL_FreeSurface(s);
    if (f != NULL)
        TTF_CloseFont(f);
    TTF_Quit();
}

/* Heap a face holds while open, with the glyphs of a line loaded. FreeType
 * copies every CFF subroutine of a face it reads through a stream (SDL_ttf
 * gives it one) when it opens it: 457-482 KB a face with the subsets made as
 * Noto ships its charstrings, 214-218 KB with them made without subroutines
 * (fonts/README.md). The bound fails a rebuild that keeps them. glibc's
 * count of allocated bytes; ASan's allocator keeps its own. */
static void check_font_heap(const char *rel)
{
#if defined(__SANITIZE_ADDRESS__)
    (void)rel;
    fprintf(stderr, "  (skipped under ASan: its allocator does not feed mallinfo2)\n");
#else
    SDL_Surface *s;
    TTF_Font *f;
    long long before, after;

    if (TTF_Init() != 0) {
        T_CHECK(!"TTF_Init");
        return;
    }
    struct mallinfo2 mi = mallinfo2();
    /* mmapped blocks too: glibc counts them apart (hblkhd). */
    before = (long long)(mi.uordblks + mi.hblkhd);
    f = open_font(rel);
    T_CHECK(f != NULL);
    if (f != NULL) {
        SDL_Color black = {0, 0, 0, 255}, white = {255, 255, 255, 255};
        s = TTF_RenderUTF8_Shaded(f, "请输入新密码 Enter the new PIN", black, white);
        T_CHECK(s != NULL);
        SDL_FreeSurface(s);
        mi = mallinfo2();
        after = (long long)(mi.uordblks + mi.hblkhd);
        fprintf(stderr, "  %s: %lld KB of heap while open\n", rel, (after - before) / 1024);
        if (before == 0 && after == 0) /* valgrind's allocator, or another that feeds no count */
            fprintf(stderr, "  (no allocator count: not measured)\n");
        else
            T_CHECK(after - before > 0);
        T_CHECK(after - before < 320 * 1024);
        TTF_CloseFont(f);
    }
    TTF_Quit();
#endif
}

T_TEST(regular_font_costs_little_heap_while_open)
{
    check_font_heap(FONT_REGULAR);
}

T_TEST(bold_font_costs_little_heap_while_open)
{
    check_font_heap(FONT_BOLD);
}

T_TEST(missing_font_fails_cleanly)
{
    if (TTF_Init() != 0) {
        T_CHECK(!"TTF_Init");
        return;
    }
    TTF_Font *f = open_font("fonts/no-such-font.otf");
    T_CHECK(f == NULL);
    if (f != NULL)
        TTF_CloseFont(f);
    TTF_Quit();
}

/* The picture draws at its own size, has a transparent margin so it sits on
 * any background, and has enough dark-and-coloured ink to be seen. */
T_TEST(card_picture_loads_with_visible_ink)
{
    char path[4096];
    SDL_Surface *raw = NULL, *s = NULL;
    if (asset_path(path, sizeof path, CARD_SVG) != 0) {
        T_CHECK(!"asset path");
        return;
    }
    raw = picture_rasterise(path, 0, 0); /* its own size */
    if (raw == NULL)
        fprintf(stderr, "  picture_rasterise(%s): %s\n", path, SDL_GetError());
    T_CHECK(raw != NULL);
    if (raw == NULL)
        goto out;
    T_EQ_INT(raw->w, 600);
    T_EQ_INT(raw->h, 400);
    s = SDL_ConvertSurfaceFormat(raw, SDL_PIXELFORMAT_RGBA32, 0);
    T_CHECK(s != NULL);
    if (s == NULL)
        goto out;

    long opaque_ink = 0, transparent = 0;
    for (int y = 0; y < s->h; y++) {
        const Uint8 *p = (const Uint8 *)s->pixels + y * s->pitch;
        for (int x = 0; x < s->w; x++, p += 4) {
            if (p[3] == 255 && !(p[0] > 240 && p[1] > 240 && p[2] > 240))
                opaque_ink++;
            else if (p[3] == 0)
                transparent++;
        }
    }
    long total = (long)s->w * s->h;
    T_CHECK(opaque_ink > total / 4);   /* a picture, not a speck */
    T_CHECK(transparent > total / 20); /* a background it does not paint */
    const Uint8 *corner = (const Uint8 *)s->pixels;
    T_EQ_INT(corner[3], 0);
out:
    if (s != NULL)
        SDL_FreeSurface(s);
    if (raw != NULL)
        SDL_FreeSurface(raw);
}

T_TEST(missing_picture_fails_cleanly)
{
    char path[4096];
    if (asset_path(path, sizeof path, "assets/no-such-picture.svg") != 0) {
        T_CHECK(!"asset path");
        return;
    }
    SDL_Surface *s = picture_rasterise(path, 0, 0);
    T_CHECK(s == NULL);
    if (s != NULL)
        SDL_FreeSurface(s);
}

T_MAIN(T_CASE(regular_font_covers_names_digits_and_fullwidth),
       T_CASE(bold_font_covers_names_digits_and_fullwidth),
       T_CASE(font_renders_a_name_with_ink),
       T_CASE(regular_font_costs_little_heap_while_open),
       T_CASE(bold_font_costs_little_heap_while_open),
       T_CASE(missing_font_fails_cleanly),
       T_CASE(card_picture_loads_with_visible_ink),
       T_CASE(missing_picture_fails_cleanly))

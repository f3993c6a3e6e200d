/* minimal.c - the floor: the least an SDL2 + SDL2_ttf program must do to put
 * the kiosk's first screen up (issue 14). A benchmark reference, not a test;
 * bench.py starts it beside the kiosk, turn about, and compares.
 *
 * It makes the same SDL calls with the same hints as the kiosk's
 * display_open() (src/app/display.c): the software renderer, no vsync, the
 * framebuffer copy only under Wayland, no session bus; a window of the
 * kiosk's --windowed kind. Then, like display_open_assets() and the IDLE
 * screen, it opens the kiosk's two fonts and renders a few lines the way
 * ui/text.c does (TTF_RenderUTF8_Shaded onto the background): the Chinese
 * heading in bold at the heading size, the instruction in regular at the
 * body size, and the ten digits in bold at the keypad's size. One clear,
 * the copies, one present.
 *
 * What it leaves out is the kiosk's own work: configuration, the secrets
 * arena, the control socket, the card and sync services, the view, the
 * picture (rasterised on the second core) and the rest of the screen's
 * words. So "kiosk <= minimal" asks the kiosk to hide all of that behind
 * SDL's own start-up, not to be free.
 *
 * Prints one line, "first_frame_mono_ns N size WxH", N being CLOCK_MONOTONIC
 * at the moment SDL_RenderPresent returned (the kiosk's stats reply names
 * the same moment first_frame_mono_ns), WxH the renderer's output size (a
 * compositor may give another than asked for). Then it waits for SDL_QUIT,
 * which SDL's own handler makes of SIGTERM and SIGINT, and exits 0.
 *
 * Usage: bench-minimal [--size WxH] [--datadir DIR]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <SDL.h>
#include <SDL_ttf.h>

#include "kiosk_build.h"

/* The kiosk's type scale (src/ui/view_int.h), in pixels at 1080 on the
 * short side, scaled by short/1080 like the view does. */
#define TYPE_BODY 40
#define TYPE_LARGE 72 /* headings on full-width screens, digits on keys */

static unsigned long long mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

/* The same search as the kiosk's main_datadir() (src/main.c). */
static const char *default_datadir(void)
{
    const char *env = getenv("KIOSK_DATADIR");

    if (env && env[0])
        return env;
    if (access(KIOSK_DATADIR "/fonts/NotoSansSC-Kiosk-Regular.otf", R_OK) == 0)
        return KIOSK_DATADIR;
    return KIOSK_SOURCE_ROOT;
}

static int fail(const char *what, const char *why)
{
    fprintf(stderr, "bench-minimal: %s: %s\n", what, why);
    return 1;
}

/* One line of text as a texture, centred across w at y. */
static int draw_line(SDL_Renderer *ren, TTF_Font *font, const char *text, int w, int y)
{
    const SDL_Color fg = { 0x11, 0x11, 0x11, 0xff }, bg = { 0xff, 0xff, 0xff, 0xff };
    SDL_Surface *s = TTF_RenderUTF8_Shaded(font, text, fg, bg);
    SDL_Texture *t;
    SDL_Rect dst;

    if (s == NULL)
        return fail("cannot render text", TTF_GetError());
    t = SDL_CreateTextureFromSurface(ren, s);
    if (t == NULL) {
        SDL_FreeSurface(s);
        return fail("cannot make a texture", SDL_GetError());
    }
    dst = (SDL_Rect){ (w - s->w) / 2, y, s->w, s->h };
    SDL_FreeSurface(s);
    SDL_RenderCopy(ren, t, NULL, &dst);
    /* Kept until exit like the kiosk keeps its screen's textures: freeing
     * here would make the floor's memory look lower than any real screen. */
    return 0;
}

int main(int argc, char **argv)
{
    int w = 1920, h = 1080, ow, oh, y;
    const char *datadir = NULL;
    char reg[4096], bold[4096], junk;
    SDL_Window *win;
    SDL_Renderer *ren;
    TTF_Font *fr, *fb;
    SDL_Event e;
    double s;
    unsigned long long t;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--size") == 0 && i + 1 < argc) {
            if (sscanf(argv[++i], "%dx%d%c", &w, &h, &junk) != 2 || w < 320 || h < 240 || w > 8192 ||
                h > 8192) {
                fail("--size wants WIDTHxHEIGHT", argv[i]);
                return 2;
            }
        } else if (strcmp(argv[i], "--datadir") == 0 && i + 1 < argc) {
            datadir = argv[++i];
        } else {
            fputs("Usage: bench-minimal [--size WxH] [--datadir DIR]\n", stderr);
            return 2;
        }
    }
    if (datadir == NULL)
        datadir = default_datadir();
    snprintf(reg, sizeof reg, "%s/fonts/NotoSansSC-Kiosk-Regular.otf", datadir);
    snprintf(bold, sizeof bold, "%s/fonts/NotoSansSC-Kiosk-Bold.otf", datadir);

    /* display_open()'s hints and calls, in its order. The touch hints and
     * SDL_StopTextInput cost next to nothing but are kept, so that the SDL
     * side of both programs is the same work. */
    SDL_SetHint(SDL_HINT_RENDER_DRIVER, "software");
    SDL_SetHint(SDL_HINT_TOUCH_MOUSE_EVENTS, "1");
    SDL_SetHint(SDL_HINT_MOUSE_TOUCH_EVENTS, "0");
    SDL_SetHint(SDL_HINT_VIDEO_ALLOW_SCREENSAVER, "0");
    /* Without it libdbus may fork and exec dbus-launch inside SDL_Init: the
     * kiosk avoids that, so the floor must too. */
    setenv("DBUS_SESSION_BUS_ADDRESS", "disabled:", 0);
    if (SDL_Init(SDL_INIT_VIDEO | SDL_INIT_EVENTS) != 0)
        return fail("cannot start SDL video", SDL_GetError());
    /* Under Wayland SDL's default GL for the frame (the kiosk chooses GLES
     * 2, display.c: choosing is part of what it does better). */
    SDL_SetHint(SDL_HINT_FRAMEBUFFER_ACCELERATION,
                strcmp(SDL_GetCurrentVideoDriver() ? SDL_GetCurrentVideoDriver() : "", "wayland") == 0
                    ? "1" : "0");
    if (TTF_Init() != 0)
        return fail("cannot start SDL_ttf", TTF_GetError());
    win = SDL_CreateWindow("bench-minimal", SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED, w, h, 0);
    if (win == NULL)
        return fail("cannot open a window", SDL_GetError());
    ren = SDL_CreateRenderer(win, -1, SDL_RENDERER_SOFTWARE);
    if (ren == NULL)
        return fail("cannot create a renderer", SDL_GetError());
    SDL_StopTextInput();

    /* The sizes follow what the renderer got, as the kiosk's view does. */
    SDL_GetRendererOutputSize(ren, &ow, &oh);
    s = (ow < oh ? ow : oh) / 1080.0;
    fr = TTF_OpenFont(reg, (int)(TYPE_BODY * s + 0.5));
    fb = TTF_OpenFont(bold, (int)(TYPE_LARGE * s + 0.5));
    if (fr == NULL || fb == NULL)
        return fail("cannot open the fonts", TTF_GetError());

    SDL_SetRenderDrawColor(ren, 0xff, 0xff, 0xff, 0xff);
    SDL_RenderClear(ren);
    y = (int)(160 * s);
    if (draw_line(ren, fb, "请插入社保卡", ow, y) != 0 ||
        draw_line(ren, fr, "芯片朝上，按箭头方向插入下方卡槽", ow, y + (int)(130 * s)) != 0 ||
        draw_line(ren, fb, "1  2  3  4  5  6  7  8  9  0", ow, y + (int)(400 * s)) != 0)
        return 1;
    SDL_RenderPresent(ren);
    t = mono_ns();
    printf("first_frame_mono_ns %llu size %dx%d\n", t, ow, oh);
    fflush(stdout);

    /* With a timeout: a SIGTERM landing just before SDL's wait blocks in
     * select() would otherwise wait for an X event that never comes (seen:
     * one start in a few hundred hung until the bench gave up). */
    for (;;) {
        if (SDL_WaitEventTimeout(&e, 100) && e.type == SDL_QUIT)
            break;
    }
    TTF_CloseFont(fr);
    TTF_CloseFont(fb);
    TTF_Quit();
    SDL_DestroyRenderer(ren);
    SDL_DestroyWindow(win);
    SDL_Quit();
    return 0;
}

/* display.c - window, renderer, frames, overlay, screens prepared ahead and
 * screenshots (display.h). Only the main thread touches SDL's video. */
#include "app/display.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <SDL.h>
#include <SDL_ttf.h>

#include "app/audio.h"
#include "app/input.h"
#include "ui/pngwrite.h"
#include "ui/damage.h"
#include "ui/render.h"
#include "ui/text.h"
#include "util/log.h"
#include "util/mask.h"
#include "util/secure.h"

/* The GL that carries the frame to the screen under Wayland (display_open),
 * unless a technician names another in KIOSK_FRAME_GL. */
#define DISPLAY_WAYLAND_FRAME "opengles2"

struct app_display {
    SDL_Window *win;
    SDL_Renderer *ren;
    ui_fonts *fonts;
    ui_renderer *ur;
    ui_view view;
    ui_view scratch;         /* a screen being prepared */
    uint8_t keypad[10];      /* digits in screen order */
    char card_masked[MASK_CARD_MAX];
    bool overlay;
    uint64_t frames;
    int prefetch_step;       /* next screen to prepare in idle time; PREFETCH_DONE: none */
    int prefetch_tries;
    uint64_t spin_step;      /* the sign of life's step last drawn */
    SDL_Thread *warm;        /* the first screen's words, rendering */
    char frame_gl[32];       /* SDL_HINT_FRAMEBUFFER_ACCELERATION the window took */
};

app_display *display_new(bool overlay)
{
    app_display *d = calloc(1, sizeof *d);

    if (d == NULL)
        return NULL;
    for (int i = 0; i < 9; i++)
        d->keypad[i] = (uint8_t)(i + 1);
    d->keypad[9] = 0;
    d->overlay = overlay;
    return d;
}

void display_free(app_display *d)
{
    if (d == NULL)
        return;
    if (d->warm)
        SDL_WaitThread(d->warm, NULL);
    ui_renderer_free(d->ur);
    ui_fonts_close(d->fonts);
    if (d->ren)
        SDL_DestroyRenderer(d->ren);
    if (d->win)
        SDL_DestroyWindow(d->win);
    free(d);
}

const ui_view *display_view(const app_display *d)
{
    return &d->view;
}

uint64_t display_frames(const app_display *d)
{
    return d->frames;
}

/* The window's size as asked for: --size, else [display], else 1920x1080.
 * Full screen takes the panel's own, which [display] names on a terminal. */
static void display_asked_size(const app *a, int *w, int *h)
{
    *w = a->opt.width > 0 ? a->opt.width : a->cfg.width > 0 ? a->cfg.width : 1920;
    *h = a->opt.height > 0 ? a->opt.height : a->cfg.height > 0 ? a->cfg.height : 1080;
}

/* The window and the software renderer on it, the window's frame carried
 * as `frame` says (SDL_HINT_FRAMEBUFFER_ACCELERATION). */
static bool display_window(app_display *d, const char *frame, Uint32 flags, int w, int h, char *err,
                           size_t errlen)
{
    SDL_SetHint(SDL_HINT_FRAMEBUFFER_ACCELERATION, frame);
    d->win = SDL_CreateWindow("kiosk", SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED, w, h, flags);
    if (d->win == NULL) {
        snprintf(err, errlen, "cannot open a window: %s", SDL_GetError());
        return false;
    }
    d->ren = SDL_CreateRenderer(d->win, -1, SDL_RENDERER_SOFTWARE);
    if (d->ren == NULL) {
        snprintf(err, errlen, "cannot create a renderer: %s", SDL_GetError());
        SDL_DestroyWindow(d->win);
        d->win = NULL;
        return false;
    }
    /* What SDL used: the environment's value where there is one. */
    const char *took = SDL_GetHint(SDL_HINT_FRAMEBUFFER_ACCELERATION);
    snprintf(d->frame_gl, sizeof d->frame_gl, "%s", took ? took : frame);
    return true;
}

const char *display_frame_gl(const app_display *d)
{
    return d->frame_gl;
}

bool display_open(app *a, char *err, size_t errlen)
{
    app_display *d = a->disp;
    /* No ALLOW_HIGHDPI: window points and renderer pixels stay the same, so
     * a mouse click and a finger hit-test the same layout. */
    Uint32 flags = 0;
    int w, h;
    bool fullscreen = !a->opt.windowed && a->cfg.fullscreen;

    display_asked_size(a, &w, &h);

    SDL_SetHint(SDL_HINT_RENDER_DRIVER, "software");
    /* Touch and mouse are told apart by us (see input.c). */
    SDL_SetHint(SDL_HINT_TOUCH_MOUSE_EVENTS, "1");
    SDL_SetHint(SDL_HINT_MOUSE_TOUCH_EVENTS, "0");
    SDL_SetHint(SDL_HINT_VIDEO_ALLOW_SCREENSAVER, "0");
    /* The kiosk has no session bus. Left unset, libdbus "autolaunches" one:
     * SDL_Init would fork and exec dbus-launch from the process that holds
     * PINs, and wait for it. An address it cannot use fails at once. */
    setenv("DBUS_SESSION_BUS_ADDRESS", "disabled:", 0);
    /* The kiosk reads keys, never composed text: without this, SDL_Init
     * has libX11's input method (or xkbcommon, under Wayland) parse the
     * locale's 512 KB Compose table, about 5 ms before the first frame and
     * 0.5 MB of heap for good. Compose(5): XCOMPOSEFILE names the table;
     * an empty one costs nothing. A technician's own setting is kept. */
    setenv("XCOMPOSEFILE", "/dev/null", 0);
    if (SDL_Init(SDL_INIT_VIDEO | SDL_INIT_EVENTS) != 0) {
        snprintf(err, errlen, "cannot start SDL video: %s (no display? set DISPLAY, or run under "
                 "xvfb-run, or SDL_VIDEODRIVER=dummy for a headless run)", SDL_GetError());
        return false;
    }
    /* No GPU on most terminals: on X11 the software renderer without a
     * framebuffer copy is the fastest and smallest way to get pixels on
     * screen. SDL 2.26's Wayland driver (the terminal, under cage) has no
     * window framebuffer of its own: there the frame goes through a GL
     * texture, and which GL matters. SDL's default is desktop GL; GLES 2
     * gets the first frame out 10 % sooner (100 against 111 ms under cage
     * with llvmpipe, interleaved: less for Mesa to compile before the first
     * present), with SDL's default as the fallback where it cannot start. */
    bool wayland = strcmp(SDL_GetCurrentVideoDriver() ? SDL_GetCurrentVideoDriver() : "", "wayland") == 0;
    const char *named = getenv("KIOSK_FRAME_GL");
    const char *frame = !wayland ? "0" : named && named[0] ? named : DISPLAY_WAYLAND_FRAME;
    if (fullscreen)
        flags |= SDL_WINDOW_FULLSCREEN_DESKTOP | SDL_WINDOW_BORDERLESS;
    if (!display_window(d, frame, flags, w, h, err, errlen)) {
        if (!wayland)
            return false;
        /* SDL 2.26 tries a GL frame once per video start
         * (checked_texture_framebuffer): its default needs video started
         * again. (The environment's SDL_FRAMEBUFFER_ACCELERATION outranks
         * both: a technician's choice there has no fallback.) */
        log_notice("ui", "%s with %s for the window's frame; SDL's default instead", err, frame);
        SDL_QuitSubSystem(SDL_INIT_VIDEO);
        if (SDL_InitSubSystem(SDL_INIT_VIDEO) != 0) {
            snprintf(err, errlen, "cannot start SDL video again: %s", SDL_GetError());
            return false;
        }
        if (!display_window(d, "1", flags, w, h, err, errlen))
            return false;
    }
    /* Once the window is made: video started again shows the pointer. */
    if (fullscreen)
        SDL_ShowCursor(SDL_DISABLE);
    /* Text input is on by default in SDL2: digit keys would also arrive as
     * text events and could go to an input method. The kiosk reads keys. */
    SDL_StopTextInput();
    return true;
}

/* The view's measure: the renderer's own wrapping, so a box is as tall as
 * the lines it will draw (0 before the fonts are open: the view estimates). */
static int display_measure(void *ud, const char *text, int px, bool bold, int width)
{
    app_display *d = ud;
    ui_lines lines;

    if (d->fonts == NULL)
        return 0;
    ui_text_wrap(d->fonts, text, px, bold, width, &lines);
    return lines.n;
}

static void display_build_view_at(app *a, ui_view *v, int w, int h)
{
    app_display *d = a->disp;
    ui_view_input in;

    mask_card(a->core->card_number, d->card_masked);
    in = (ui_view_input){ .w = w, .h = h, .keypad_order = d->keypad,
                          .card_masked = a->core->card_number[0] ? d->card_masked : "", .service = &a->svc,
                          .measure = display_measure, .measure_ud = d,
                          .counter = a->cfg.counter, .counter_hours = a->cfg.counter_hours };
    ui_view_build(v, a->core, &in);
}

static void display_build_view(app *a)
{
    int w, h;

    SDL_GetRendererOutputSize(a->disp->ren, &w, &h);
    display_build_view_at(a, &a->disp->view, w, h);
}

/* The first screen's words render on a thread of their own while SDL
 * opens the display and the services start (SDL_Init's round trips to
 * the X server, the outbox, the worker threads): about 20 ms of FreeType
 * at 1920x1080 that the first frame no longer waits for. Only this thread
 * touches the fonts and the text cache until display_ready joins it. */
static int display_warm(void *ud)
{
    app_display *d = ud;

    ui_renderer_prerender(d->ur, &d->scratch, INT_MAX);
    return 0;
}

bool display_open_assets(app *a, char *err, size_t errlen)
{
    app_display *d = a->disp;
    char reg[PATH_MAX], bold[PATH_MAX], pic[PATH_MAX];
    const char *fallback = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc";
    /* At the size display_open will ask for (if full screen turns out
     * another, the words are rendered again for the first frame). */
    int w, h;

    display_asked_size(a, &w, &h);

    if (TTF_Init() != 0) {
        snprintf(err, errlen, "cannot start SDL_ttf: %s", TTF_GetError());
        return false;
    }

    snprintf(reg, sizeof reg, "%s/fonts/NotoSansSC-Kiosk-Regular.otf", a->opt.datadir);
    snprintf(bold, sizeof bold, "%s/fonts/NotoSansSC-Kiosk-Bold.otf", a->opt.datadir);
    snprintf(pic, sizeof pic, "%s/assets/insert-card.svg", a->opt.datadir);
    d->fonts = ui_fonts_open(reg, bold, fallback, err, errlen);
    if (d->fonts == NULL)
        return false;
    if (!ui_fonts_have_fallback(d->fonts))
        log_notice("ui", "no fallback font at %s: rare name characters may show as boxes", fallback);
    d->ur = ui_renderer_new(NULL, d->fonts, pic);
    if (d->ur == NULL) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    /* The picture rasterises on one thread and the words on another while
     * this one opens the display and starts the services. */
    display_build_view_at(a, &d->scratch, w, h);
    if (d->scratch.show_picture)
        ui_renderer_prepare_picture(d->ur, d->scratch.picture_id, d->scratch.picture.w, d->scratch.picture.h);
    d->warm = SDL_CreateThread(display_warm, "words", d);
    if (d->warm == NULL)
        log_info("ui", "no thread for the first screen's words (%s): the first frame renders them", SDL_GetError());
    return true;
}

void display_ready(app *a)
{
    app_display *d = a->disp;

    if (d->warm) {
        SDL_WaitThread(d->warm, NULL);
        d->warm = NULL;
    }
    ui_renderer_attach(d->ur, d->ren);
}

static void display_overlay_text(app *a, char *buf, size_t len)
{
    const char *n = core_notice_name(a->core->notice);
    char reader[PCSC_READER_NAME_MAX] = "";

    if (a->pcsc)
        pcsc_reader_current(a->pcsc, reader, sizeof reader);
    snprintf(buf, len, "%s%s%s  frame %.2f ms  card %s%s%s  SW %04X  outbox %d  %s",
             core_state_name(a->core->state), n ? " / " : "", n ? n : "",
             app_stats_last_frame_ms(&a->stats), a->cfg.card_backend == CFG_BACKEND_SIM ? "sim" : "pcsc",
             reader[0] ? " " : "", reader, a->last_sw, a->ob_depth,
             a->core->bureau_offline ? "bureau offline" : "");
}

static void display_draw(app *a)
{
    app_display *d = a->disp;
    const char *press = input_press_id(a->in);
    char overlay[256];
    int pressed;

    display_build_view(a);
    /* By id: the screen may have changed between finger down and now. */
    pressed = press[0] ? ui_view_find(&d->view, press) : -1;
    if (d->overlay)
        display_overlay_text(a, overlay, sizeof overlay);
    ui_renderer_draw(d->ur, &d->view, pressed, d->overlay ? overlay : NULL);
}

/* The frame to the display: only the rectangles the frame changed, when
 * it was not drawn whole (a tap's frame at 1920x1080 sends a few hundred
 * KB, not 8 MB). The window's surface keeps the rest from the frames
 * before; SDL_RenderPresent would send all of it. */
static void display_send(app_display *d)
{
    SDL_Rect rects[DMG_MAX_RECTS];
    int n = ui_renderer_damage(d->ur, rects, DMG_MAX_RECTS);

    if (n < 0) {
        SDL_RenderPresent(d->ren);
        return;
    }
    SDL_RenderFlush(d->ren);
    if (n > 0 && SDL_UpdateWindowSurfaceRects(d->win, rects, n) != 0) {
        log_warn("ui", "cannot update the window: %s; sending the whole frame", SDL_GetError());
        ui_renderer_invalidate(d->ur);
        SDL_RenderPresent(d->ren);
    }
}

void display_exposed(app *a)
{
    ui_renderer_invalidate(a->disp->ur);
    a->dirty = true;
}

void display_present(app *a)
{
    app_display *d = a->disp;
    uint64_t t0 = app_now_ns(), td, t1;

    display_draw(a);
    td = app_now_ns();
    display_send(d);
    t1 = app_now_ns();
    d->frames++;
    /* The first frame pays for first touches of the framebuffer and is
     * reported as the start-up figure; frame times start with the second. */
    if (d->frames > 1)
        app_stats_frame(&a->stats, t0, t1);
    if (t1 - t0 > 8000000u) {
        SDL_Rect r[DMG_MAX_RECTS];
        int n = ui_renderer_damage(d->ur, r, DMG_MAX_RECTS);
        char drawn[32];
        if (n < 0)
            snprintf(drawn, sizeof drawn, "drawn whole");
        else
            snprintf(drawn, sizeof drawn, "%d rectangles", n);
        log_debug("ui", "slow frame: %.1f ms on %s (draw %.1f, present %.1f, %d texts rendered, %s)",
                  (double)(t1 - t0) / 1e6, core_state_name(a->core->state), (double)(td - t0) / 1e6,
                  (double)(t1 - td) / 1e6, ui_renderer_misses(d->ur), drawn);
    }
    app_stats_tap_presented(&a->stats, t1);
    a->dirty = false;
    /* The screen is up: now it may speak (and after the first frame, the
     * sound device opens, on the voice thread). */
    audio_presented(a);
}

uint64_t display_deadline(const app *a)
{
    if (!a->disp->view.show_spinner)
        return 0;
    /* The renderer steps on SDL's clock: wake at its next step. */
    return app_now_ms() + (RENDER_SPIN_MS - SDL_GetTicks() % RENDER_SPIN_MS);
}

void display_due(app *a)
{
    uint64_t t = SDL_GetTicks();

    /* The step shown is SDL_GetTicks()'s; a redraw in each new step. */
    if (a->disp->view.show_spinner && t / RENDER_SPIN_MS != a->disp->spin_step) {
        a->disp->spin_step = t / RENDER_SPIN_MS;
        a->dirty = true;
    }
}

void display_toggle_overlay(app *a)
{
    if (a->opt.windowed) {
        a->disp->overlay = !a->disp->overlay;
        a->dirty = true;
    }
}

void display_shuffle_keypad(app_display *d)
{
    /* Fisher-Yates from getrandom: someone watching over a shoulder learns
     * nothing from where a finger lands. */
    for (int i = 9; i > 0; i--) {
        uint32_t j;
        uint8_t t;
        if (!secure_random_below((uint32_t)i + 1, &j)) {
            log_err("app", "no randomness for the keypad; keeping the last order");
            return;
        }
        t = d->keypad[i];
        d->keypad[i] = d->keypad[j];
        d->keypad[j] = t;
    }
}

/* ---- screens prepared ahead ------------------------------------------------ */

/* What usually follows each screen. Prepared in idle moments (a person
 * takes hundreds of milliseconds to tap), so that the frame that shows it
 * only copies textures. */
static const core_state display_next_state[ST__LAST] = {
    [ST_IDLE] = ST_READING_CARD, [ST_READING_CARD] = ST_ENTER_OLD_PIN,
    [ST_CARD_REJECTED] = ST_IDLE, [ST_ENTER_OLD_PIN] = ST_VERIFYING,
    [ST_VERIFYING] = ST_ENTER_NEW_PIN, [ST_ENTER_NEW_PIN] = ST_CONFIRM_NEW_PIN,
    [ST_CONFIRM_NEW_PIN] = ST_CHANGING, [ST_CHANGING] = ST_SUCCESS, [ST_SUCCESS] = ST_IDLE,
    [ST_CARD_BLOCKED] = ST_IDLE, [ST_ERROR] = ST_IDLE, [ST_OUT_OF_SERVICE] = ST_IDLE,
    [ST_TAKE_CARD] = ST_IDLE,
};

/* The screens to prepare, in order: the next two steps in this language
 * (two, because some steps pass by themselves in milliseconds:
 * READING_CARD), then this one and those two in the other (one tap away,
 * and taken less often than the next step: a card inserted within 100 ms
 * of IDLE appearing met a keypad screen not yet prepared, 20 texts to
 * render in its frame, when this screen's other language came first). */
static const struct { int ahead; bool other_lang; } display_prefetch_order[] = {
    { 1, false }, { 2, false }, { 0, true }, { 1, true }, { 2, true },
};
enum { PREFETCH_DONE = sizeof display_prefetch_order / sizeof display_prefetch_order[0] };

void display_prefetch_restart(app_display *d)
{
    d->prefetch_step = 0;
    d->prefetch_tries = 0;
}

bool display_prefetching(const app_display *d)
{
    return d->prefetch_step < PREFETCH_DONE;
}

void display_prefetch(app *a)
{
    app_display *d = a->disp;
    core c;
    int w, h;
    int step = d->prefetch_step;
    core_state s = a->core->state;
    ui_view_input in;

    if (step == 0 && d->prefetch_tries == 0)
        ui_renderer_prepare_begin(d->ur);
    for (int i = 0; i < display_prefetch_order[step].ahead; i++)
        s = display_next_state[s];
    /* A display-only copy: card number, holder and counts, never a PIN. */
    memset(&c, 0, sizeof c);
    c.cfg = a->core->cfg;
    c.state = s;
    /* Most visitors still have the initial PIN (that is why they come), so
     * the new-PIN screen is prepared with the notice they will see. */
    c.notice = display_prefetch_order[step].ahead == 0 ? a->core->notice
             : s == ST_ENTER_NEW_PIN ? NT_ON_INITIAL_PIN : NT_NONE;
    c.lang = display_prefetch_order[step].other_lang ? (core_lang)((a->core->lang + 1) % LANG__LAST) : a->core->lang;
    c.card_present = a->core->card_present || a->core->state == ST_IDLE;
    c.tries_left = a->core->tries_left;
    memcpy(c.card_number, a->core->card_number, sizeof c.card_number);
    memcpy(c.holder, a->core->holder, sizeof c.holder);
    c.now_ms = a->core->now_ms;
    c.warning_end_ms = a->core->warning_end_ms;
    SDL_GetRendererOutputSize(d->ren, &w, &h);
    in = (ui_view_input){ .w = w, .h = h, .keypad_order = d->keypad,
                          .card_masked = c.card_number[0] ? d->card_masked : "", .service = &a->svc,
                          .measure = display_measure, .measure_ud = d,
                          .counter = a->cfg.counter, .counter_hours = a->cfg.counter_hours };
    ui_view_build(&d->scratch, &c, &in);
    /* The next screens' pictures rasterise on the second core meanwhile:
     * in this language only. A picture's size follows its screen's words,
     * and one kept per picture: made for the other language, it would
     * replace the one this language's screen shows (16 ms to make again
     * in the frame that returns to IDLE). */
    if (d->scratch.show_picture && c.lang == a->core->lang)
        ui_renderer_prepare_picture(d->ur, d->scratch.picture_id, d->scratch.picture.w, d->scratch.picture.h);
    /* One text per idle turn; a step that cannot finish is given up: at
     * once when a text did not fit the cache's budget (the cache is full of
     * what is on screen and prepared before), else after as many turns as
     * it has texts, so idle time never turns into a busy loop. */
    if (ui_renderer_prerender(d->ur, &d->scratch, 1) <= 0 || ++d->prefetch_tries > d->scratch.n_texts) {
        d->prefetch_step++;
        d->prefetch_tries = 0;
        /* The screens ahead are made: the heap's free pages between what
         * they keep (a text's line surfaces, pictures' bands, texts
         * evicted) go back to the kernel. glibc only gives back its top
         * by itself; over ten journeys that left 0.3 MB resident. 0.04 to
         * 0.25 ms (make bench's journeys), in idle time. */
        if (d->prefetch_step == PREFETCH_DONE)
            malloc_trim(0);
    }
}

/* ---- screenshots -------------------------------------------------------------- */

/* Opens a screenshot file for writing: a regular file, not through a
 * symlink, not blocking on a FIFO, and never in the outbox directory (a
 * script must not be able to overwrite a record or the sequence counter). */
static int display_screenshot_open(app *a, const char *path, char *err, size_t errlen)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    struct stat ds, os, fs;
    int fd = -1;

    snprintf(dir, sizeof dir, "%.*s", slash && slash != path ? (int)(slash - path) : 1, path);
    if (stat(dir, &ds) != 0) {
        snprintf(err, errlen, "no such directory: %s", strerror(errno));
        goto out;
    }
    if (stat(a->cfg.outbox_dir, &os) == 0 && os.st_dev == ds.st_dev && os.st_ino == ds.st_ino) {
        snprintf(err, errlen, "screenshots may not be written into the outbox");
        goto out;
    }
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open the file: %s", strerror(errno));
        goto out;
    }
    if (fstat(fd, &fs) != 0 || !S_ISREG(fs.st_mode)) {
        snprintf(err, errlen, "not a regular file");
        close(fd);
        fd = -1;
    }
out:
    return fd;
}

bool display_screenshot(app *a, const char *path, int *w, int *h, char *err, size_t errlen)
{
    app_display *d = a->disp;
    SDL_Surface *s = NULL;
    FILE *fp = NULL;
    char why[256];
    bool ok = false;
    int fd = display_screenshot_open(a, path, err, errlen);

    if (fd < 0)
        return false;
    fp = fdopen(fd, "wb");
    if (fp == NULL) {
        close(fd);
        snprintf(err, errlen, "cannot open the file: %s", strerror(errno));
        return false;
    }

    display_draw(a); /* what is on screen now, drawn again into the back buffer */
    SDL_GetRendererOutputSize(d->ren, w, h);
    s = SDL_CreateRGBSurfaceWithFormat(0, *w, *h, 32, SDL_PIXELFORMAT_ARGB8888);
    if (s == NULL || SDL_RenderReadPixels(d->ren, NULL, SDL_PIXELFORMAT_ARGB8888, s->pixels, s->pitch) != 0) {
        snprintf(err, errlen, "cannot read the screen: %s", SDL_GetError());
        goto out;
    }
    if (!pngwrite_surface(s, fp, why, sizeof why)) {
        snprintf(err, errlen, "cannot write the PNG: %s", why);
        goto out;
    }
    ok = true;
out:
    /* The last of the PNG leaves the buffer here: a full disk shows now. */
    if (fclose(fp) != 0 && ok) {
        snprintf(err, errlen, "cannot write the PNG: %s", strerror(errno));
        ok = false;
    }
    SDL_RenderPresent(d->ren);
    SDL_FreeSurface(s);
    return ok;
}

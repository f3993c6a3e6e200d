/* Every screen, in both languages, at the three shapes terminals come in:
 * each is rendered to PNG (kept in the build's screens/ folder for a person
 * to look at) and every text is measured with the real fonts against the
 * box the layout gave it. Also: targets are finger-sized, nothing overlaps,
 * and the fonts have every character the kiosk shows. */
#include <errno.h>
#include <math.h>
#include <sys/stat.h>

#include <SDL.h>
#include <SDL_ttf.h>

#include "t.h"
#include "core/core.h"
#include "ui/pngwrite.h"
#include "ui/render.h"
#include "ui/strings.h"
#include "ui/text.h"
#include "ui/view.h"

static ui_fonts *fonts;
/* [terminal] counter and counter_hours as long as a station is likely to
 * write them, so that every refusal is checked with them on screen. */
#define STATION_COUNTER "门诊楼一层东侧 社保服务窗口（挂号处旁）"
#define STATION_HOURS "周一至周五 8:00-12:00，14:00-17:30"

static char root[1024];

/* The view's measure, as the kiosk gives it: the renderer's wrapping. */
static int measure(void *ud, const char *text, int px, bool bold, int width)
{
    ui_lines l;
    (void)ud;
    ui_text_wrap(fonts, text, px, bold, width, &l);
    return l.n;
}

typedef struct { core_state s; core_notice n; int tries; } screen;

static const screen screens[] = {
    { ST_IDLE, NT_NONE, -1 }, { ST_IDLE, NT_CARD_REMOVED, -1 }, { ST_IDLE, NT_CHANGE_UNKNOWN, -1 },
    { ST_READING_CARD, NT_NONE, -1 },
    { ST_CARD_REJECTED, NT_CARD_LOST, -1 }, { ST_CARD_REJECTED, NT_CARD_FROZEN, -1 },
    { ST_CARD_REJECTED, NT_CARD_CANCELLED, -1 }, { ST_CARD_REJECTED, NT_CARD_UNKNOWN, -1 },
    { ST_CARD_REJECTED, NT_CARD_UNREADABLE, -1 }, { ST_CARD_REJECTED, NT_CARD_EXPIRED, -1 },
    { ST_ENTER_OLD_PIN, NT_NONE, -1 }, { ST_ENTER_OLD_PIN, NT_WRONG_PIN, 2 },
    { ST_ENTER_OLD_PIN, NT_WRONG_PIN, 1 }, { ST_ENTER_OLD_PIN, NT_WRONG_PIN, -1 },
    { ST_ENTER_OLD_PIN, NT_PIN_WRONG_LENGTH, -1 }, { ST_ENTER_OLD_PIN, NT_TIMEOUT_WARNING, -1 },
    { ST_ENTER_OLD_PIN, NT_PIN_WRONG_LENGTH, 1 },
    { ST_VERIFYING, NT_NONE, -1 },
    { ST_ENTER_NEW_PIN, NT_NONE, -1 }, { ST_ENTER_NEW_PIN, NT_ON_INITIAL_PIN, -1 },
    { ST_ENTER_NEW_PIN, NT_PINS_DIFFER, -1 }, { ST_ENTER_NEW_PIN, NT_PIN_TOO_SIMPLE, -1 },
    { ST_ENTER_NEW_PIN, NT_PIN_IS_INITIAL, -1 }, { ST_ENTER_NEW_PIN, NT_PIN_SAME_AS_OLD, -1 },
    { ST_ENTER_NEW_PIN, NT_PIN_WRONG_LENGTH, -1 }, { ST_ENTER_NEW_PIN, NT_TIMEOUT_WARNING, -1 },
    { ST_CONFIRM_NEW_PIN, NT_NONE, -1 }, { ST_CONFIRM_NEW_PIN, NT_TIMEOUT_WARNING, -1 },
    { ST_CHANGING, NT_NONE, -1 }, { ST_SUCCESS, NT_NONE, -1 },
    { ST_CARD_BLOCKED, NT_NONE, -1 }, { ST_CARD_BLOCKED, NT_CARD_LOCKED, -1 },
    { ST_ERROR, NT_CARD_ERROR, -1 }, { ST_ERROR, NT_CHANGE_UNKNOWN, -1 },
    { ST_OUT_OF_SERVICE, NT_BUREAU_UNREACHABLE, -1 }, { ST_OUT_OF_SERVICE, NT_STORAGE_FAILED, -1 },
    { ST_OUT_OF_SERVICE, NT_READER_UNAVAILABLE, -1 }, { ST_OUT_OF_SERVICE, NT_STORAGE_DOWN, -1 },
    { ST_TAKE_CARD, NT_CANCELLED, -1 }, { ST_TAKE_CARD, NT_TIMED_OUT, -1 },
    { ST_SERVICE_CODE, NT_NONE, -1 }, { ST_SERVICE_CODE, NT_WRONG_CODE, -1 },
    { ST_SERVICE, NT_NONE, -1 },
    /* The reset of a forgotten PIN; CARD_BLOCKED plain above offers it. */
    { ST_RESET_OFFER, NT_NONE, -1 }, { ST_RESET_OFFER, NT_TIMEOUT_WARNING, -1 },
    { ST_RESET_REQUESTING, NT_NONE, -1 },
    { ST_ENTER_RESET_CODE, NT_NONE, -1 }, { ST_ENTER_RESET_CODE, NT_CODE_WRONG, 2 },
    { ST_ENTER_RESET_CODE, NT_CODE_WRONG, -1 }, { ST_ENTER_RESET_CODE, NT_PIN_WRONG_LENGTH, -1 },
    { ST_ENTER_RESET_CODE, NT_TIMEOUT_WARNING, -1 },
    { ST_RESET_AUTHORIZING, NT_NONE, -1 }, { ST_RESETTING, NT_NONE, -1 },
    { ST_ENTER_NEW_PIN, NT_PIN_WAS_RESET, -1 },
    { ST_ERROR, NT_CODE_EXPIRED, -1 }, { ST_ERROR, NT_RESET_VOID, -1 },
    { ST_ERROR, NT_NO_PHONE_ON_FILE, -1 }, { ST_ERROR, NT_TOO_MANY_RESETS, -1 },
    { ST_ERROR, NT_RESET_REFUSED, -1 }, { ST_ERROR, NT_RESET_UNAVAILABLE, -1 },
    { ST_ERROR, NT_RESET_FAILED, -1 }, { ST_CARD_REJECTED, NT_CARD_NOT_ACTIVE, -1 },
};

/* The service screen with figures as long as they get in the field. */
static const ui_service_info service_sample = {
    .version = "0.1.0", .terminal = "GZ-YX-0042-HOSPITAL-EAST-WING",
    .readers = "Generic Smart Card Reader Interface [CCID Interface] (12345678) 00 00; "
               "Virtual PCD 00 00; Virtual PCD 00 01",
    .reader_used = "Generic Smart Card Reader Interface [CCID Interface] (12345678) 00 00",
    .profile = "iso7816", .bureau = UI_BUREAU_DOWN,
    .last_error = "http 0, curl 28: Connection timed out after 5001 milliseconds",
    .outbox_depth = 1834, .dead_letters = 12, .unmovable = 3, .uptime_s = 86400L * 123 + 3661,
    .disk_free_kb = 123456789,
    .storage = "fsync /var/lib/kiosk/outbox/.tmp-probe: No space left on device",
};

static const struct { int w, h; } sizes[] = { { 1920, 1080 }, { 1024, 768 }, { 1080, 1920 } };
static const uint8_t keypad[10] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 0 };

static void make_core(core *c, const screen *sc, core_lang lang)
{
    core_config cfg = { .pin_length = 6, .initial = { "123456" }, .n_initial = 1,
                        .idle_timeout_ms = 30000, .warning_ms = 15000, .lang = lang };
    core_init(c, &cfg, 1000);
    c->state = sc->s;
    c->notice = sc->n;
    c->tries_left = sc->tries;
    c->lang = lang;
    if (sc->s != ST_IDLE) {
        c->card_present = true;
        snprintf(c->card_number, sizeof c->card_number, "A12345678");
        snprintf(c->holder, sizeof c->holder, "张*明");
    }
    if (core_state_has_keypad(sc->s))
        c->entry_len = 3;
    /* The code screen's phone and validity as the bureau sends them;
     * attempts_left rides on `tries` in the table. */
    snprintf(c->phone, sizeof c->phone, "138****5678");
    c->reset_expires_s = 300;
    c->attempts_left = sc->s == ST_ENTER_RESET_CODE ? sc->tries : -1;
    if (sc->n == NT_TIMEOUT_WARNING)
        c->warning_end_ms = c->now_ms + 15000;
}

static bool overlaps(ui_rect a, ui_rect b)
{
    return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

static bool inside(ui_rect in, ui_rect out)
{
    return in.x >= out.x && in.y >= out.y && in.x + in.w <= out.x + out.w && in.y + in.h <= out.y + out.h;
}

static int checked_texts;
static double contrast(uint32_t a, uint32_t b);

/* Every character of a text as shown (counts, examples and steps filled
 * in) is in the kiosk's font: a formatted string escapes str_each(). */
static int missing_glyphs(const ui_text *t)
{
    TTF_Font *f = ui_font(fonts, 30, t->bold);
    const unsigned char *u = (const unsigned char *)t->text;
    int missing = 0;

    while (*u) {
        uint32_t cp;
        int n = *u < 0x80 ? 1 : (*u & 0xE0) == 0xC0 ? 2 : (*u & 0xF0) == 0xE0 ? 3 : 4;
        cp = n == 1 ? *u : n == 2 ? (*u & 0x1Fu) : n == 3 ? (*u & 0x0Fu) : (*u & 0x07u);
        for (int i = 1; i < n; i++)
            cp = (cp << 6) | (u[i] & 0x3Fu);
        if (cp >= 0x20 && !TTF_GlyphIsProvided32(f, cp))
            missing++;
        u += n;
    }
    return missing;
}

static void check_view(const ui_view *v, const char *what)
{
    ui_rect screen_r = { 0, 0, v->w, v->h };
    bool dialog = false;

    for (int i = 0; i < v->n_boxes; i++)
        dialog |= v->boxes[i].kind == BOX_DIALOG;
    for (int i = 0; i < v->n_texts; i++) {
        const ui_text *t = &v->texts[i];
        ui_lines lines;
        ui_text_wrap(fonts, t->text, t->px, t->bold, t->r.w, &lines);
        checked_texts++;
        if (missing_glyphs(t) > 0) {
            fprintf(stderr, "  %s: \"%s\" has characters the font lacks\n", what, t->text);
            t_failed_checks++;
        }
        if (lines.overflow || lines.n * lines.line_skip > t->r.h || !inside(t->r, screen_r)) {
            int widest = 0;
            for (int l = 0; l < lines.n; l++)
                widest = lines.width[l] > widest ? lines.width[l] : widest;
            fprintf(stderr, "  %s: \"%s\" (%d px) needs %dx%d (%d lines), box is %dx%d at %d,%d\n",
                    what, t->text, t->px, widest, lines.n * lines.line_skip, lines.n,
                    t->r.w, t->r.h, t->r.x, t->r.y);
            t_failed_checks++;
        }
        /* Every text as drawn, on what it sits on: the pairs test below
         * lists the palette, this catches a pairing nobody listed. */
        if (contrast(t->rgb, t->bg) < 7.0) {
            fprintf(stderr, "  %s: \"%s\" has contrast %.2f:1 (%06X on %06X)\n", what, t->text,
                    contrast(t->rgb, t->bg), (unsigned)t->rgb, (unsigned)t->bg);
            t_failed_checks++;
        }
        /* A text box may only share space with the button it labels. */
        for (int j = i + 1; j < v->n_texts; j++) {
            const ui_text *u = &v->texts[j];
            bool same_button = t->role == TXT_KEY && u->role == TXT_KEY;
            if (!same_button && overlaps(t->r, u->r) && !(dialog && (t->role == TXT_WARNING || u->role == TXT_WARNING ||
                                                                     t->role == TXT_KEY || u->role == TXT_KEY))) {
                fprintf(stderr, "  %s: \"%s\" overlaps \"%s\"\n", what, t->text, u->text);
                t_failed_checks++;
            }
        }
    }
    /* A box (a notice, a step) never runs under a button. */
    for (int i = 0; i < v->n_boxes; i++) {
        if (v->boxes[i].kind == BOX_DIALOG)
            continue;
        T_CHECK(inside(v->boxes[i].r, screen_r));
        for (int j = 0; j < v->n_widgets; j++) {
            if (overlaps(v->boxes[i].r, v->widgets[j].r) && v->widgets[j].kind != W_BTN_CONTINUE) {
                fprintf(stderr, "  %s: box %d runs under %s\n", what, i, v->widgets[j].id);
                t_failed_checks++;
            }
        }
    }
    for (int i = 0; i < v->n_widgets; i++) {
        const ui_widget *a = &v->widgets[i];
        T_CHECK(inside(a->r, screen_r));
        for (int j = i + 1; j < v->n_widgets; j++) {
            const ui_widget *b = &v->widgets[j];
            if (overlaps(a->r, b->r) && b->kind != W_BTN_CONTINUE) {
                fprintf(stderr, "  %s: %s overlaps %s\n", what, a->id, b->id);
                t_failed_checks++;
            }
        }
    }
}

/* The kiosk's own PNG writer, the one its screenshots use. */
static void save_png(SDL_Surface *s, const char *path)
{
    char why[256] = "";
    FILE *fp = fopen(path, "wb");
    bool ok = fp != NULL && pngwrite_surface(s, fp, why, sizeof why);

    if (fp == NULL)
        snprintf(why, sizeof why, "%s", strerror(errno));
    else if (fclose(fp) != 0 && ok) {
        snprintf(why, sizeof why, "%s", strerror(errno));
        ok = false;
    }
    if (!ok)
        fprintf(stderr, "  %s: %s\n", path, why);
    T_CHECK(ok);
}

static void render_png(const ui_view *v, const char *name)
{
    SDL_Surface *s = SDL_CreateRGBSurfaceWithFormat(0, v->w, v->h, 32, SDL_PIXELFORMAT_ARGB8888);
    SDL_Renderer *r = s ? SDL_CreateSoftwareRenderer(s) : NULL;
    char pic[1200], path[1300];
    ui_renderer *u;

    T_CHECK(r != NULL);
    if (r == NULL) {
        SDL_FreeSurface(s);
        return;
    }
    snprintf(pic, sizeof pic, "%s/assets/insert-card.svg", root);
    u = ui_renderer_new(r, fonts, pic);
    if (u)
        ui_renderer_set_surface(u, s);
    ui_renderer_draw(u, v, -1, NULL);
    SDL_RenderPresent(r);
    snprintf(path, sizeof path, "screens/%s.png", name);
    save_png(s, path);
    ui_renderer_free(u);
    SDL_DestroyRenderer(r);
    SDL_FreeSurface(s);
}

T_TEST(every_screen_fits_in_both_languages_at_every_size)
{
    mkdir("screens", 0755);
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
        for (int lang = 0; lang < LANG__LAST; lang++) {
            for (size_t i = 0; i < sizeof screens / sizeof screens[0]; i++) {
                core c;
                ui_view v;
                char what[160];
                ui_view_input in = { .w = sizes[z].w, .h = sizes[z].h, .keypad_order = keypad,
                                     .card_masked = screens[i].s == ST_IDLE ? "" : "A12***678",
                                     .service = &service_sample, .measure = measure,
                                     .counter = STATION_COUNTER, .counter_hours = STATION_HOURS };
                make_core(&c, &screens[i], (core_lang)lang);
                ui_view_build(&v, &c, &in);
                snprintf(what, sizeof what, "%dx%d-%s-%s-%s%s", sizes[z].w, sizes[z].h,
                         lang == LANG_ZH ? "zh" : "en", core_state_name(screens[i].s),
                         screens[i].n ? core_notice_name(screens[i].n) : "plain",
                         screens[i].tries >= 0 ? (screens[i].tries == 1 ? "-1" : "-2") : "");
                check_view(&v, what);
                render_png(&v, what);
            }
        }
    }
    T_CHECK(checked_texts > 500);
}

/* Issue 13 items 4-7: a card left behind (card_left: the reminder, the
 * holder's name gone), checked at every size and language like the rest;
 * the picture, the sign of life, btn.done and the station's line where
 * each belongs. */
static const screen care_screens[] = {
    { ST_SUCCESS, NT_NONE, -1 }, { ST_TAKE_CARD, NT_CANCELLED, -1 }, { ST_TAKE_CARD, NT_TIMED_OUT, -1 },
    { ST_CARD_BLOCKED, NT_NONE, -1 }, { ST_CARD_BLOCKED, NT_CARD_LOCKED, -1 },
    { ST_CARD_REJECTED, NT_CARD_LOST, -1 }, { ST_CARD_REJECTED, NT_CARD_UNREADABLE, -1 },
    { ST_ERROR, NT_CARD_ERROR, -1 }, { ST_ERROR, NT_CHANGE_UNKNOWN, -1 }, { ST_ERROR, NT_RESET_VOID, -1 },
    { ST_OUT_OF_SERVICE, NT_BUREAU_UNREACHABLE, -1 }, { ST_OUT_OF_SERVICE, NT_STORAGE_FAILED, -1 },
};

static bool has_text(const ui_view *v, const char *text)
{
    for (int i = 0; i < v->n_texts; i++)
        if (strstr(v->texts[i].text, text))
            return true;
    return false;
}

T_TEST(outcome_screens_care_for_the_citizen)
{
    /* CARD_BLOCKED locked for good: with the reset offered (btn.forgot and
     * its longer text) a landscape screen has no room left for it. */
    static const struct { core_state s; ui_picture pic; bool spin; } figures[] = {
        { ST_IDLE, UI_PIC_INSERT_CARD, false }, { ST_SUCCESS, UI_PIC_SUCCESS, false },
        { ST_TAKE_CARD, UI_PIC_TAKE_CARD, false }, { ST_CARD_BLOCKED, UI_PIC_BLOCKED, false },
        { ST_CARD_REJECTED, UI_PIC_REJECTED, false }, { ST_OUT_OF_SERVICE, UI_PIC_OUT_OF_SERVICE, false },
        { ST_ERROR, UI_PIC_TAKE_CARD, false },
        { ST_READING_CARD, UI_PIC_NONE, true }, { ST_VERIFYING, UI_PIC_NONE, true },
        { ST_CHANGING, UI_PIC_NONE, true }, { ST_RESET_REQUESTING, UI_PIC_NONE, true },
        { ST_RESET_AUTHORIZING, UI_PIC_NONE, true }, { ST_RESETTING, UI_PIC_NONE, true },
    };
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
        for (int lang = 0; lang < LANG__LAST; lang++) {
            ui_view_input in = { .w = sizes[z].w, .h = sizes[z].h, .keypad_order = keypad, .card_masked = "A12***678",
                                 .measure = measure, .counter = STATION_COUNTER, .counter_hours = STATION_HOURS };
            for (size_t i = 0; i < sizeof care_screens / sizeof care_screens[0]; i++) {
                core c;
                ui_view v;
                char what[160];
                make_core(&c, &care_screens[i], (core_lang)lang);
                c.card_left = true;
                memset(c.holder, 0, sizeof c.holder); /* as core_card_left leaves it */
                ui_view_build(&v, &c, &in);
                snprintf(what, sizeof what, "%dx%d-%s-%s-%s-card_left", sizes[z].w, sizes[z].h,
                         lang == LANG_ZH ? "zh" : "en", core_state_name(care_screens[i].s),
                         care_screens[i].n ? core_notice_name(care_screens[i].n) : "plain");
                check_view(&v, what);
                render_png(&v, what);
                T_CHECK(has_text(&v, str_get(S_TAKE_CARD_REMINDER, (core_lang)lang)));
                T_CHECK(!has_text(&v, "张*明"));
            }
            for (size_t i = 0; i < sizeof figures / sizeof figures[0]; i++) {
                core c;
                ui_view v;
                screen sc = { figures[i].s, figures[i].s == ST_CARD_BLOCKED ? NT_CARD_LOCKED : NT_NONE, -1 };
                make_core(&c, &sc, (core_lang)lang);
                ui_view_build(&v, &c, &in);
                T_EQ_INT(v.show_picture ? (int)v.picture_id : UI_PIC_NONE, figures[i].pic);
                T_EQ_INT(v.show_spinner, figures[i].spin);
                /* Where the citizen must go elsewhere: the counter, its hours, 12333. */
                bool station = figures[i].s == ST_CARD_BLOCKED || figures[i].s == ST_CARD_REJECTED ||
                               figures[i].s == ST_OUT_OF_SERVICE || figures[i].s == ST_ERROR;
                T_EQ_INT(has_text(&v, "12333"), station || (figures[i].s == ST_ERROR));
                T_EQ_INT(has_text(&v, "社保服务窗口（挂号处旁）"), station);
                T_EQ_INT(has_text(&v, "14:00-17:30"), station);
            }
            {
                /* IDLE for the citizen who pulled the card mid-change: advice
                 * that costs nothing, and btn.done to clear it. */
                core c;
                ui_view v;
                screen sc = { ST_IDLE, NT_CHANGE_UNKNOWN, -1 };
                make_core(&c, &sc, (core_lang)lang);
                ui_view_build(&v, &c, &in);
                T_CHECK(ui_view_find(&v, "btn.done") >= 0);
                T_CHECK(has_text(&v, str_get(S_UNKNOWN_GONE, (core_lang)lang)));
                sc.n = NT_CARD_REMOVED;
                make_core(&c, &sc, (core_lang)lang);
                ui_view_build(&v, &c, &in);
                T_CHECK(ui_view_find(&v, "btn.done") < 0);
            }
        }
    }
}

T_TEST(targets_are_finger_sized_on_the_reference_panel)
{
    /* 21.5-inch 1920x1080: 476 mm wide, 4.03 px/mm; 20 mm = 81 px. */
    core c;
    ui_view v;
    ui_view_input in = { .w = 1920, .h = 1080, .keypad_order = keypad, .card_masked = "A12***678", .measure = measure };
    screen sc = { ST_ENTER_OLD_PIN, NT_TIMEOUT_WARNING, -1 };

    make_core(&c, &sc, LANG_ZH);
    c.state = ST_ENTER_NEW_PIN; /* cancel is on screen here */
    ui_view_build(&v, &c, &in);
    T_EQ_INT(v.n_widgets, 16); /* 12 keys, lang, repeat, cancel, continue */
    for (int i = 0; i < v.n_widgets; i++) {
        if (v.widgets[i].r.w < 81 || v.widgets[i].r.h < 81) {
            fprintf(stderr, "  %s is %dx%d px\n", v.widgets[i].id, v.widgets[i].r.w, v.widgets[i].r.h);
            t_failed_checks++;
        }
    }
    T_CHECK(ui_view_find(&v, "key.0") >= 0);
    T_CHECK(ui_view_find(&v, "key.ok") >= 0);
    T_CHECK(ui_view_find(&v, "key.back") >= 0);
    T_CHECK(ui_view_find(&v, "btn.cancel") >= 0);
    T_CHECK(ui_view_find(&v, "btn.lang") >= 0);
}

T_TEST(the_last_try_stays_in_view_whatever_the_notice)
{
    core c;
    ui_view v;
    ui_view_input in = { .w = 1920, .h = 1080, .keypad_order = keypad, .card_masked = "A12***678", .measure = measure };
    screen sc = { ST_ENTER_OLD_PIN, NT_PIN_WRONG_LENGTH, 1 };
    bool seen = false;

    make_core(&c, &sc, LANG_EN);
    ui_view_build(&v, &c, &in);
    for (int i = 0; i < v.n_texts; i++)
        seen |= strcmp(v.texts[i].text, str_get(S_LAST_TRY, LANG_EN)) == 0;
    T_CHECK(seen);
    c.tries_left = 2;
    ui_view_build(&v, &c, &in);
    seen = false;
    for (int i = 0; i < v.n_texts; i++)
        seen |= strcmp(v.texts[i].text, str_get(S_LAST_TRY, LANG_EN)) == 0;
    T_CHECK(!seen);
}

T_TEST(hit_testing_follows_the_layout_and_the_dialog_covers)
{
    core c;
    ui_view v;
    static const uint8_t shuffled[10] = { 7, 3, 0, 9, 1, 5, 2, 8, 6, 4 };
    ui_view_input in = { .w = 1024, .h = 768, .keypad_order = shuffled, .card_masked = "A12***678", .measure = measure };
    screen sc = { ST_ENTER_OLD_PIN, NT_NONE, -1 };
    int k;

    make_core(&c, &sc, LANG_EN);
    ui_view_build(&v, &c, &in);
    k = ui_view_find(&v, "key.7");
    T_CHECK(k >= 0);
    /* the first key position holds the first digit of the order */
    T_EQ_INT(ui_view_hit(&v, v.widgets[k].r.x + 2, v.widgets[k].r.y + 2), k);
    T_EQ_INT(v.widgets[k].digit, 7);
    T_EQ_INT(ui_view_hit(&v, 0, v.h - 1), -1);
    c.notice = NT_TIMEOUT_WARNING;
    c.warning_end_ms = c.now_ms + 9000;
    ui_view_build(&v, &c, &in);
    k = ui_view_find(&v, "btn.continue");
    T_CHECK(k >= 0);
    T_EQ_INT(ui_view_hit(&v, v.widgets[k].r.x + 5, v.widgets[k].r.y + 5), k);
    /* any touch answers the dialog; none types through it */
    T_EQ_INT(ui_view_hit(&v, 1, v.h - 2), k);
    T_EQ_INT(ui_view_hit(&v, v.widgets[ui_view_find(&v, "key.7")].r.x + 2,
                         v.widgets[ui_view_find(&v, "key.7")].r.y + 2), k);
    T_CHECK(strstr(v.buf_warning, "9") != NULL);
}

static void build(ui_view *v, core_state s, core_notice n, int tries, core_lang lang, int w, int h)
{
    core c;
    screen sc = { s, n, tries };
    ui_view_input in = { .w = w, .h = h, .keypad_order = keypad, .card_masked = "A12***678", .measure = measure };

    make_core(&c, &sc, lang);
    ui_view_build(v, &c, &in);
}

static const ui_text *find_text(const ui_view *v, const char *text)
{
    for (int i = 0; i < v->n_texts; i++)
        if (strcmp(v->texts[i].text, text) == 0)
            return &v->texts[i];
    return NULL;
}

static int count_boxes(const ui_view *v, ui_box_kind kind)
{
    int n = 0;
    for (int i = 0; i < v->n_boxes; i++)
        n += v->boxes[i].kind == kind;
    return n;
}

T_TEST(the_last_try_is_the_strongest_thing_with_forgot_pin_beside_it)
{
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
        for (int lang = 0; lang < LANG__LAST; lang++) {
            ui_view v;
            const ui_text *title, *body;
            int f;
            build(&v, ST_ENTER_OLD_PIN, NT_WRONG_PIN, 1, (core_lang)lang, sizes[z].w, sizes[z].h);
            title = find_text(&v, str_get(S_LAST_TRY_TITLE, (core_lang)lang));
            body = find_text(&v, str_get(S_LAST_TRY, (core_lang)lang));
            T_CHECK(title != NULL && body != NULL);
            if (title == NULL || body == NULL)
                continue;
            /* In the warning box, bold, and no text but the heading and the
             * digits on the keys is as large. */
            T_CHECK(title->role == TXT_NOTICE && title->bold && body->bold);
            T_EQ_INT(count_boxes(&v, BOX_NOTICE), 1);
            for (int i = 0; i < v.n_texts; i++) {
                const ui_text *t = &v.texts[i];
                bool digit = t->role == TXT_KEY && t->text[0] >= '0' && t->text[0] <= '9' && t->text[1] == '\0';
                if (t != title && t->role != TXT_HEADING && !digit && t->px >= title->px) {
                    fprintf(stderr, "  %dx%d: \"%s\" (%d px) is as large as the last-try warning (%d px)\n",
                            sizes[z].w, sizes[z].h, t->text, t->px, title->px);
                    t_failed_checks++;
                }
            }
            /* The choice not to guess, as wide as the column, right below. */
            f = ui_view_find(&v, "btn.forgot");
            T_CHECK(f >= 0);
            for (int b = 0; f >= 0 && b < v.n_boxes; b++)
                if (v.boxes[b].kind == BOX_NOTICE)
                    T_CHECK(v.widgets[f].r.y >= v.boxes[b].r.y + v.boxes[b].r.h &&
                            v.widgets[f].r.w >= v.boxes[b].r.w / 2);
        }
    }
}

T_TEST(the_three_pin_screens_show_their_step)
{
    static const struct { core_state s; core_notice n; int step; } cases[] = {
        { ST_ENTER_OLD_PIN, NT_NONE, 0 }, { ST_ENTER_OLD_PIN, NT_WRONG_PIN, 0 },
        { ST_ENTER_NEW_PIN, NT_NONE, 1 }, { ST_ENTER_NEW_PIN, NT_PIN_TOO_SIMPLE, 1 },
        { ST_CONFIRM_NEW_PIN, NT_NONE, 2 }, { ST_ENTER_RESET_CODE, NT_NONE, -1 },
        { ST_SERVICE_CODE, NT_NONE, -1 },
    };
    static const str_id labels[3] = { S_STEP_OLD, S_STEP_NEW, S_STEP_CONFIRM };
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            ui_view v;
            build(&v, cases[i].s, cases[i].n, 2, LANG_ZH, sizes[z].w, sizes[z].h);
            if (cases[i].step < 0) {
                T_EQ_INT(count_boxes(&v, BOX_STEP) + count_boxes(&v, BOX_STEP_NOW), 0);
                continue;
            }
            T_EQ_INT(count_boxes(&v, BOX_STEP), 2);
            T_EQ_INT(count_boxes(&v, BOX_STEP_NOW), 1);
            /* The filled box holds the current step's words; the steps done
             * carry the tick. */
            for (int b = 0; b < v.n_boxes; b++) {
                if (v.boxes[b].kind != BOX_STEP_NOW)
                    continue;
                for (int t = 0; t < v.n_texts; t++)
                    if (v.texts[t].role == TXT_STEP && inside(v.texts[t].r, v.boxes[b].r))
                        T_CHECK(strstr(v.texts[t].text, str_get(labels[cases[i].step], LANG_ZH)) != NULL);
            }
            for (int t = 0, k = 0; t < v.n_texts; t++)
                if (v.texts[t].role == TXT_STEP)
                    T_EQ_INT(strncmp(v.texts[t].text, "√", 3) == 0, k++ < cases[i].step);
        }
    }
}

T_TEST(good_news_is_not_in_the_refusal_box)
{
    static const core_notice good[] = { NT_NONE, NT_ON_INITIAL_PIN, NT_PIN_WAS_RESET };
    for (int lang = 0; lang < LANG__LAST; lang++) {
        for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
            ui_view v;
            build(&v, ST_ENTER_NEW_PIN, good[i], -1, (core_lang)lang, 1920, 1080);
            T_EQ_INT(count_boxes(&v, BOX_NOTICE), 0);
            T_EQ_INT(count_boxes(&v, BOX_INFO), 1);
        }
        ui_view v;
        /* The old PIN was taken: said on the first visit of the new-PIN screen. */
        build(&v, ST_ENTER_NEW_PIN, NT_NONE, -1, (core_lang)lang, 1920, 1080);
        T_CHECK(find_text(&v, str_get(S_OLD_PIN_OK, (core_lang)lang)) != NULL);
        build(&v, ST_ENTER_NEW_PIN, NT_PIN_TOO_SIMPLE, -1, (core_lang)lang, 1920, 1080);
        T_EQ_INT(count_boxes(&v, BOX_NOTICE), 1);
        T_EQ_INT(count_boxes(&v, BOX_INFO), 0);
    }
}

T_TEST(refusals_outrank_the_hint_and_show_examples)
{
    ui_view v;
    const ui_text *notice = NULL, *hint = NULL;

    build(&v, ST_ENTER_NEW_PIN, NT_PIN_TOO_SIMPLE, -1, LANG_EN, 1920, 1080);
    for (int i = 0; i < v.n_texts; i++) {
        notice = v.texts[i].role == TXT_NOTICE ? &v.texts[i] : notice;
        hint = v.texts[i].role == TXT_BODY ? &v.texts[i] : hint;
    }
    T_CHECK(notice && hint);
    if (notice && hint) {
        T_CHECK(notice->px > hint->px && notice->bold && !hint->bold);
        T_CHECK(strstr(notice->text, "111111") && strstr(notice->text, "123456") && strstr(notice->text, "654321"));
        T_CHECK(strstr(hint->text, "111111") && strstr(hint->text, "654321"));
    }
    /* A one-line notice gets a one-line box, not three. */
    build(&v, ST_ENTER_OLD_PIN, NT_WRONG_PIN, 2, LANG_ZH, 1920, 1080);
    for (int b = 0; b < v.n_boxes; b++)
        if (v.boxes[b].kind == BOX_NOTICE)
            T_CHECK(v.boxes[b].r.h < 2 * 60 + 2 * 16); /* one 40 px line and its padding */
}

T_TEST(cancel_is_by_the_content_and_unlike_the_language_button)
{
    for (size_t z = 0; z < sizeof sizes / sizeof sizes[0]; z++) {
        static const core_state with_cancel[] = { ST_ENTER_OLD_PIN, ST_ENTER_NEW_PIN, ST_CONFIRM_NEW_PIN,
                                                  ST_RESET_OFFER, ST_ENTER_RESET_CODE, ST_READING_CARD };
        for (size_t i = 0; i < sizeof with_cancel / sizeof with_cancel[0]; i++) {
            ui_view v;
            int k, l;
            build(&v, with_cancel[i], NT_NONE, -1, LANG_ZH, sizes[z].w, sizes[z].h);
            k = ui_view_find(&v, "btn.cancel");
            l = ui_view_find(&v, "btn.lang");
            T_CHECK(k >= 0 && l >= 0);
            if (k < 0 || l < 0)
                continue;
            T_CHECK(v.widgets[k].r.y >= v.bar.h);
            T_CHECK(v.widgets[k].rgb != v.widgets[l].rgb);
        }
    }
}

T_TEST(headings_agree_with_their_bodies)
{
    for (int lang = 0; lang < LANG__LAST; lang++) {
        ui_view v;
        build(&v, ST_CARD_BLOCKED, NT_CARD_LOCKED, -1, (core_lang)lang, 1920, 1080);
        T_CHECK(find_text(&v, str_heading(ST_CARD_BLOCKED, (core_lang)lang)) == NULL);
        T_CHECK(find_text(&v, str_heading_for(ST_CARD_BLOCKED, NT_CARD_LOCKED, (core_lang)lang)) != NULL);
        build(&v, ST_ERROR, NT_CHANGE_UNKNOWN, -1, (core_lang)lang, 1920, 1080);
        T_CHECK(find_text(&v, str_heading(ST_ERROR, (core_lang)lang)) == NULL);
    }
}

T_TEST(idle_says_what_to_know_before_starting)
{
    core c;
    ui_view v;
    screen sc = { ST_IDLE, NT_NONE, -1 };
    ui_view_input in = { .w = 1920, .h = 1080, .keypad_order = keypad, .card_masked = "", .measure = measure };
    bool initial = false, which = false;

    make_core(&c, &sc, LANG_ZH);
    snprintf(c.cfg.initial[0], sizeof c.cfg.initial[0], "888888");
    ui_view_build(&v, &c, &in);
    for (int i = 0; i < v.n_texts; i++) {
        initial |= strstr(v.texts[i].text, "888888") != NULL;
        which |= strstr(v.texts[i].text, str_get(S_IDLE_WHICH_PIN, LANG_ZH)) != NULL;
    }
    T_CHECK(initial && which);
}

struct cov { TTF_Font *reg, *bold; int missing; };

static void check_coverage(const char *s, void *ud)
{
    struct cov *c = ud;
    const unsigned char *u = (const unsigned char *)s;
    while (*u) {
        uint32_t cp;
        int n = *u < 0x80 ? 1 : (*u & 0xE0) == 0xC0 ? 2 : (*u & 0xF0) == 0xE0 ? 3 : 4;
        cp = n == 1 ? *u : n == 2 ? (*u & 0x1Fu) : n == 3 ? (*u & 0x0Fu) : (*u & 0x07u);
        for (int i = 1; i < n; i++)
            cp = (cp << 6) | (u[i] & 0x3Fu);
        if (cp >= 0x20 && cp != '%' && (!TTF_GlyphIsProvided32(c->reg, cp) || !TTF_GlyphIsProvided32(c->bold, cp))) {
            fprintf(stderr, "  U+%04X in \"%s\" is not in the kiosk font\n", (unsigned)cp, s);
            c->missing++;
        }
        u += n;
    }
}

T_TEST(the_fonts_cover_every_ui_string)
{
    struct cov c = { ui_font(fonts, 30, false), ui_font(fonts, 30, true), 0 };
    T_CHECK(c.reg && c.bold);
    if (c.reg && c.bold)
        str_each(check_coverage, &c);
    T_EQ_INT(c.missing, 0);
}

T_TEST(every_screen_has_words_in_both_languages)
{
    for (int s = 0; s < ST__LAST; s++)
        for (int l = 0; l < LANG__LAST; l++)
            T_CHECK(str_heading((core_state)s, (core_lang)l)[0] != '\0');
    for (int n = 1; n < NT__LAST; n++) {
        if (n == NT_WRONG_PIN || n == NT_PIN_WRONG_LENGTH || n == NT_TIMEOUT_WARNING)
            continue; /* formatted from S_ strings with their count */
        T_CHECK(str_body(ST_ERROR, (core_notice)n, LANG_ZH) != str_body(ST_ERROR, NT_NONE, LANG_ZH));
        T_CHECK(str_body(ST_ERROR, (core_notice)n, LANG_EN) != str_body(ST_ERROR, NT_NONE, LANG_EN));
    }
}

T_TEST(wrapping_breaks_between_words_and_cjk_characters)
{
    ui_lines l;
    ui_text_wrap(fonts, "one two three four five six seven", 40, false, 250, &l);
    T_CHECK(l.n >= 2 && !l.overflow);
    for (int i = 0; i < l.n; i++)
        T_CHECK(l.width[i] <= 250);
    ui_text_wrap(fonts, "请携带身份证到社保服务窗口办理", 40, false, 200, &l);
    T_CHECK(l.n >= 3 && !l.overflow);
    ui_text_wrap(fonts, "Supercalifragilisticexpialidocious", 40, false, 100, &l);
    T_CHECK(l.overflow); /* the check can fail */
    /* closing punctuation never starts a line */
    ui_text_wrap(fonts, "密码错误，请重新输入密码错误，请重新输入", 40, false, 200, &l);
    for (int i = 0; i < l.n; i++)
        T_CHECK(strncmp("密码错误，请重新输入密码错误，请重新输入" + l.start[i], "，", 3) != 0);
}

/* Issue 13 item 12, with the real fonts: the rules of ui/linebreak.c hold
 * in what is wrapped, and the U+200B marker takes no room and is not drawn. */
T_TEST(chinese_lines_break_where_they_read_well)
{
    static const char *const texts[] = {
        "密码错误次数过多，卡片已锁定。请取回卡片，携带身份证到社保服务窗口解锁",
        "新密码太简单：不能全是同一个数字，也不能是连续数字",
        "输入6位密码，然后按“确认”，记不清了？请按“忘记密码”",
    };
    static const char *const closing[] = { "，", "。", "：", "？", "”", "、", "；", "！", "）" };
    static const char *const opening[] = { "“", "（", "《" };
    static const char *const words[] = { "锁定", "数字", "解锁", "身份证", "社保卡", "密码", "窗口" };
    ui_lines l;

    for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++) {
        for (int w = 160; w <= 900; w += 37) {
            ui_text_wrap(fonts, texts[t], 40, false, w, &l);
            for (int i = 0; i < l.n; i++) {
                const char *line = texts[t] + l.start[i];
                int len = l.len[i];
                for (size_t c = 0; c < sizeof closing / sizeof closing[0]; c++)
                    if (i > 0 && strncmp(line, closing[c], strlen(closing[c])) == 0) {
                        fprintf(stderr, "  line starts with %s at %d px: %.*s\n", closing[c], w, len, line);
                        t_failed_checks++;
                    }
                for (size_t o = 0; o < sizeof opening / sizeof opening[0]; o++) {
                    size_t ol = strlen(opening[o]);
                    if (i + 1 < l.n && (size_t)len >= ol && strncmp(line + len - ol, opening[o], ol) == 0) {
                        fprintf(stderr, "  line ends with %s at %d px: %.*s\n", opening[o], w, len, line);
                        t_failed_checks++;
                    }
                }
                /* A word of the table is never cut between this line and the next. */
                for (size_t k = 0; i + 1 < l.n && k < sizeof words / sizeof words[0]; k++) {
                    const char *word = words[k];
                    size_t wl = strlen(word);
                    for (size_t cut = 3; cut < wl; cut += 3)
                        if ((size_t)len >= cut && strncmp(line + len - cut, word, cut) == 0 &&
                            strncmp(texts[t] + l.start[i + 1], word + cut, wl - cut) == 0) {
                            fprintf(stderr, "  %s split at %d px\n", word, w);
                            t_failed_checks++;
                        }
                }
            }
        }
    }
    /* The marker: no width, not drawn, and the only place a marked string breaks. */
    T_EQ_INT(ui_text_line_width(fonts, "身份证\xE2\x80\x8B到窗口", (int)strlen("身份证\xE2\x80\x8B到窗口"), 40, false),
             ui_text_line_width(fonts, "身份证到窗口", (int)strlen("身份证到窗口"), 40, false));
    {
        SDL_Surface *a = ui_text_render(fonts, "请稍候\xE2\x80\x8B不要拔卡", 40, false, 2000, false, 0, 0xFFFFFF);
        SDL_Surface *b = ui_text_render(fonts, "请稍候不要拔卡", 40, false, 2000, false, 0, 0xFFFFFF);
        T_CHECK(a && b && a->w == b->w && a->h == b->h);
        SDL_FreeSurface(a);
        SDL_FreeSurface(b);
    }
    ui_text_wrap(fonts, "请稍候\xE2\x80\x8B不要拔卡", 40, false, 200, &l);
    T_EQ_INT(l.n, 2);
    T_EQ_INT(l.start[1], (int)strlen("请稍候\xE2\x80\x8B"));
}

T_TEST(a_rare_name_character_uses_the_fallback)
{
    /* 堃 is not in the subset; the system CJK font has it. */
    TTF_Font *main = ui_font(fonts, 40, false);
    T_CHECK(!TTF_GlyphIsProvided32(main, 0x5803));
    if (ui_fonts_have_fallback(fonts)) {
        SDL_Surface *s = ui_text_render(fonts, "王堃", 40, false, 400, false, 0, 0xFFFFFF);
        SDL_Surface *one = ui_text_render(fonts, "王", 40, false, 400, false, 0, 0xFFFFFF);
        T_CHECK(s && one && s->w > one->w * 3 / 2);
        SDL_FreeSurface(s);
        SDL_FreeSurface(one);
    } else {
        fprintf(stderr, "  (no system CJK font: fallback not exercised)\n");
    }
}

/* WCAG 2 relative luminance and contrast ratio. */
static double lum(uint32_t rgb)
{
    double c[3];
    for (int i = 0; i < 3; i++) {
        double v = ((rgb >> (16 - 8 * i)) & 0xFF) / 255.0;
        c[i] = v <= 0.03928 ? v / 12.92 : pow((v + 0.055) / 1.055, 2.4);
    }
    return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
}

static double contrast(uint32_t a, uint32_t b)
{
    double x = lum(a) + 0.05, y = lum(b) + 0.05;
    return x > y ? x / y : y / x;
}

T_TEST(every_text_has_at_least_7_to_1_contrast)
{
    static const struct { const char *what; uint32_t fg, bg; } pairs[] = {
        { "text on page", UI_RGB_TEXT, UI_RGB_BG }, { "muted on page", UI_RGB_MUTED, UI_RGB_BG },
        { "bar title", UI_RGB_BAR_TEXT, UI_RGB_BAR }, { "digit key", UI_RGB_KEY_TEXT, UI_RGB_KEY },
        { "ok key", UI_RGB_KEY_TEXT, UI_RGB_OK }, { "delete key", UI_RGB_KEY_TEXT, UI_RGB_BACK },
        { "bar button", UI_RGB_KEY_TEXT, UI_RGB_BAR_BUTTON }, { "notice", UI_RGB_NOTICE, UI_RGB_NOTICE_BG },
        { "pin dots", UI_RGB_DOT, UI_RGB_BG }, { "good news", UI_RGB_INFO, UI_RGB_INFO_BG },
        { "idle notes", UI_RGB_TEXT, UI_RGB_PANEL_BG }, { "current step", UI_RGB_STEP_NOW_TEXT, UI_RGB_STEP_NOW },
        { "other steps", UI_RGB_MUTED, UI_RGB_BG },
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        double r = contrast(pairs[i].fg, pairs[i].bg);
        if (r < 7.0) {
            fprintf(stderr, "  %s: contrast %.2f:1, want at least 7:1\n", pairs[i].what, r);
            t_failed_checks++;
        }
    }
    T_CHECK(contrast(0x777777, 0xFFFFFF) < 7.0); /* the check can fail */
}

int main(void)
{
    static const t_case cases[] = {
        T_CASE(every_screen_fits_in_both_languages_at_every_size),
        T_CASE(targets_are_finger_sized_on_the_reference_panel),
        T_CASE(hit_testing_follows_the_layout_and_the_dialog_covers),
        T_CASE(the_last_try_stays_in_view_whatever_the_notice),
        T_CASE(the_last_try_is_the_strongest_thing_with_forgot_pin_beside_it),
        T_CASE(the_three_pin_screens_show_their_step), T_CASE(good_news_is_not_in_the_refusal_box),
        T_CASE(refusals_outrank_the_hint_and_show_examples),
        T_CASE(cancel_is_by_the_content_and_unlike_the_language_button), T_CASE(headings_agree_with_their_bodies),
        T_CASE(idle_says_what_to_know_before_starting),
        T_CASE(the_fonts_cover_every_ui_string), T_CASE(every_screen_has_words_in_both_languages),
        T_CASE(wrapping_breaks_between_words_and_cjk_characters),
        T_CASE(chinese_lines_break_where_they_read_well),
        T_CASE(outcome_screens_care_for_the_citizen),
        T_CASE(a_rare_name_character_uses_the_fallback),
        T_CASE(every_text_has_at_least_7_to_1_contrast),
    };
    char reg[1100], bold[1100], err[256];
    const char *env = getenv("KIOSK_SOURCE_ROOT");
    int rc;

    snprintf(root, sizeof root, "%s", env ? env : ".");
    if (SDL_Init(SDL_INIT_VIDEO) != 0 || TTF_Init() != 0) {
        fprintf(stderr, "cannot start SDL: %s\n", SDL_GetError());
        return 1;
    }
    snprintf(reg, sizeof reg, "%s/fonts/NotoSansSC-Kiosk-Regular.otf", root);
    snprintf(bold, sizeof bold, "%s/fonts/NotoSansSC-Kiosk-Bold.otf", root);
    fonts = ui_fonts_open(reg, bold, "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", err, sizeof err);
    if (fonts == NULL) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    rc = t_run(cases, sizeof cases / sizeof cases[0]);
    ui_fonts_close(fonts);
    TTF_Quit();
    SDL_Quit();
    return rc;
}

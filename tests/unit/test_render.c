/* What the renderer saves in memory must not change a pixel: texts kept as
 * runs of their 8-bit shades and drawn through their palette, fonts read
 * through the kiosk's own block reader, pictures kept as runs of a colour.
 * Each is compared with the plain SDL way of drawing the same thing. */
#include <stdio.h>
#include <unistd.h>

#include <SDL.h>
#include <SDL_ttf.h>

#include "t.h"
#include "ui/damage.h"
#include "ui/render.h"
#include "ui/text.h"
#include "ui/textruns.h"
#include "core/core.h"
#include "ui/view.h"

static char root[1024];
static ui_fonts *fonts;

static SDL_Surface *argb(int w, int h, uint32_t fill)
{
    SDL_Surface *s = SDL_CreateRGBSurfaceWithFormat(0, w, h, 32, SDL_PIXELFORMAT_ARGB8888);
    if (s)
        SDL_FillRect(s, NULL, 0xFF000000u | fill);
    return s;
}

static bool same_pixels(SDL_Surface *a, SDL_Surface *b)
{
    if (a == NULL || b == NULL || a->w != b->w || a->h != b->h)
        return false;
    for (int y = 0; y < a->h; y++)
        if (memcmp((uint8_t *)a->pixels + y * a->pitch, (uint8_t *)b->pixels + y * b->pitch, (size_t)a->w * 4) != 0)
            return false;
    return true;
}

static int count_colour(SDL_Surface *s, uint32_t rgb)
{
    int n = 0;
    for (int y = 0; y < s->h; y++)
        for (int x = 0; x < s->w; x++)
            n += (((uint32_t *)((uint8_t *)s->pixels + y * s->pitch))[x] & 0xFFFFFFu) == rgb;
    return n;
}

T_TEST(a_text_is_one_byte_a_pixel_and_draws_as_sdl_ttf_shades_it)
{
    static const char *const texts[] = { "请插入社保卡", "Insert your card", "0123456789", "确认新密码 OK" };
    SDL_Color fg = { 0x1F, 0x29, 0x33, 255 }, bg = { 0xF3, 0xF7, 0xFC, 255 };

    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        SDL_Surface *mine = ui_text_render(fonts, texts[i], 64, true, 4000, false, 0x1F2933, 0xF3F7FC);
        SDL_Surface *ref = TTF_RenderUTF8_Shaded(ui_font(fonts, 64, true), texts[i], fg, bg);
        T_CHECK(mine != NULL && ref != NULL);
        if (mine == NULL || ref == NULL)
            continue;
        T_EQ_INT(mine->format->BytesPerPixel, 1);
        /* One line: the block is the line, as SDL_ttf made it. */
        SDL_Surface *a = argb(mine->w, mine->h, 0), *b = argb(mine->w, mine->h, 0);
        SDL_BlitSurface(mine, NULL, a, NULL);
        SDL_BlitSurface(ref, NULL, b, NULL);
        T_CHECK(mine->w == ref->w);
        T_CHECK(same_pixels(a, b));
        T_CHECK(count_colour(a, 0x1F2933) > 0); /* ink, not only background */
        SDL_FreeSurface(a);
        SDL_FreeSurface(b);
        SDL_FreeSurface(mine);
        SDL_FreeSurface(ref);
    }
}

T_TEST(the_font_reader_gives_the_same_glyphs_as_sdl_reading_the_file)
{
    char path[1100];
    SDL_Color fg = { 0, 0, 0, 255 }, bg = { 255, 255, 255, 255 };
    const char *text = "社保卡密码修改 PIN 123456 请取卡";

    snprintf(path, sizeof path, "%s/fonts/NotoSansSC-Kiosk-Regular.otf", root);
    TTF_Font *plain = TTF_OpenFont(path, 48);
    T_CHECK(plain != NULL);
    if (plain == NULL)
        return;
    /* Sizes one after the other, as the kiosk resizes one open font. */
    for (int px = 24; px <= 96; px += 24) {
        TTF_SetFontSize(plain, px);
        SDL_Surface *r = TTF_RenderUTF8_Shaded(plain, text, fg, bg);
        SDL_Surface *m = TTF_RenderUTF8_Shaded(ui_font(fonts, px, false), text, fg, bg);
        T_CHECK(r && m && r->w == m->w && r->h == m->h);
        if (r && m && r->w == m->w && r->h == m->h)
            for (int y = 0; y < r->h; y++)
                T_CHECK(memcmp((uint8_t *)r->pixels + y * r->pitch, (uint8_t *)m->pixels + y * m->pitch,
                               (size_t)r->w) == 0);
        SDL_FreeSurface(r);
        SDL_FreeSurface(m);
    }
    TTF_CloseFont(plain);
    /* A file that is not a font fails cleanly. */
    snprintf(path, sizeof path, "%s/README.md", root);
    char err[256];
    ui_fonts *bad = ui_fonts_open(path, path, NULL, err, sizeof err);
    T_CHECK(bad == NULL);
    ui_fonts_close(bad);
    /* A font cut short (a full disk during an upgrade, a bad copy): the
     * reader's short reads at its end are FreeType's errors, not a crash
     * or a read past the end; whatever opens draws what it can. */
    char cut[64];
    snprintf(path, sizeof path, "%s/fonts/NotoSansSC-Kiosk-Regular.otf", root);
    snprintf(cut, sizeof cut, "/tmp/test_render-cut-%d.otf", (int)getpid());
    for (long keep = 64; keep <= 1 << 20; keep *= 8) {
        FILE *in = fopen(path, "rb"), *out = fopen(cut, "wb");
        T_CHECK(in && out);
        if (in == NULL || out == NULL) {
            if (in)
                fclose(in);
            if (out)
                fclose(out);
            break;
        }
        char buf[4096];
        for (long left = keep; left > 0;) {
            size_t n = fread(buf, 1, left < (long)sizeof buf ? (size_t)left : sizeof buf, in);
            if (n == 0)
                break;
            fwrite(buf, 1, n, out);
            left -= (long)n;
        }
        fclose(in);
        fclose(out);
        ui_fonts *f = ui_fonts_open(cut, cut, NULL, err, sizeof err);
        if (f) {
            SDL_Surface *s = ui_text_render(f, "请插入社保卡 123", 48, false, 1000, false, 0, 0xFFFFFF);
            SDL_FreeSurface(s);
        } else {
            T_CHECK(err[0] != '\0'); /* and it says why */
        }
        ui_fonts_close(f);
    }
    unlink(cut);
}

/* The idle screen drawn by the renderer (pictures kept encoded, texts
 * 8-bit) twice: the second frame is drawn from what the first kept, and
 * must be the same pixels; the picture is there (its card's blue). */
T_TEST(a_frame_from_kept_texts_and_pictures_is_the_frame_made_fresh)
{
    char pic[1100];
    ui_view v;
    core c;
    SDL_Surface *s1 = argb(1920, 1080, 0), *s2 = argb(1920, 1080, 0);
    SDL_Renderer *r1 = SDL_CreateSoftwareRenderer(s1), *r2 = SDL_CreateSoftwareRenderer(s2);
    static const uint8_t keypad[10] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 0 };

    snprintf(pic, sizeof pic, "%s/assets/insert-card.svg", root);
    ui_renderer *u = ui_renderer_new(r1, fonts, pic);
    T_CHECK(u != NULL && r1 != NULL && r2 != NULL);
    if (u == NULL || r1 == NULL || r2 == NULL)
        return;
    ui_renderer_set_surface(u, s1);
    core_config cfg = { .pin_length = 6, .initial = { "123456" }, .n_initial = 1,
                        .idle_timeout_ms = 30000, .warning_ms = 15000, .lang = LANG_ZH };
    core_init(&c, &cfg, 1000);
    ui_view_build(&v, &c, &(ui_view_input){ .w = 1920, .h = 1080, .keypad_order = keypad, .card_masked = "" });
    T_CHECK(v.show_picture);
    ui_renderer_draw(u, &v, -1, NULL);
    SDL_RenderPresent(r1);
    T_CHECK(count_colour(s1, 0x2F6FD6) > 1000); /* the card's blue band */
    SDL_Surface *first = SDL_ConvertSurface(s1, s1->format, 0);
    /* The same view again: nothing changed, nothing drawn (the magenta
     * stays), nothing to send. */
    SDL_Rect rects[DMG_MAX_RECTS];
    SDL_FillRect(s1, NULL, 0xFFFF00FFu);
    ui_renderer_draw(u, &v, -1, NULL);
    SDL_RenderPresent(r1);
    T_EQ_INT(ui_renderer_damage(u, rects, DMG_MAX_RECTS), 0);
    T_EQ_INT(count_colour(s1, 0xFF00FF), 1920 * 1080);
    /* Again, from the cache and the encoded picture, onto a dirty frame
     * the renderer is told of (as an exposed window is). */
    ui_renderer_invalidate(u);
    ui_renderer_draw(u, &v, -1, NULL);
    SDL_RenderPresent(r1);
    T_EQ_INT(ui_renderer_damage(u, rects, DMG_MAX_RECTS), -1);
    T_CHECK(same_pixels(first, s1));
    T_EQ_INT(ui_renderer_misses(u), 0);
    SDL_FreeSurface(first);
    ui_renderer_free(u);
    SDL_DestroyRenderer(r1);
    SDL_DestroyRenderer(r2);
    SDL_FreeSurface(s1);
    SDL_FreeSurface(s2);
}

/* The damage of two frames' items: what one has and the other not, where
 * kept items overlap in the other order, nothing for the same frame, and
 * the whole frame past half of it. */
T_TEST(damage_is_where_the_items_of_two_frames_differ)
{
    dmg_list a, b;
    SDL_Rect r[DMG_MAX_RECTS];
    const SDL_Rect p = { 0, 0, 10, 10 }, q = { 5, 5, 10, 10 }, far = { 300, 300, 20, 20 };

    dmg_list_clear(&a);
    dmg_add(&a, p, 1);
    dmg_add(&a, q, 2);
    dmg_add(&a, far, 3);
    b = a;
    T_EQ_INT(dmg_diff(&a, &b, 1000, 1000, r, DMG_MAX_RECTS), 0);
    /* p and q the other way round: where they meet. */
    dmg_list_clear(&b);
    dmg_add(&b, q, 2);
    dmg_add(&b, p, 1);
    dmg_add(&b, far, 3);
    T_EQ_INT(dmg_diff(&a, &b, 1000, 1000, r, DMG_MAX_RECTS), 1);
    T_CHECK(r[0].x == 5 && r[0].y == 5 && r[0].w == 5 && r[0].h == 5);
    /* far's key changed, one item more: far, and the new one (clipped to
     * the frame). */
    b = a;
    b.item[2].key = 4;
    dmg_add(&b, (SDL_Rect){ 990, 0, 50, 10 }, 5);
    T_EQ_INT(dmg_diff(&a, &b, 1000, 1000, r, DMG_MAX_RECTS), 2);
    T_CHECK(SDL_RectEquals(&r[0], &far) || SDL_RectEquals(&r[1], &far));
    T_CHECK(r[0].x + r[0].w <= 1000 && r[1].x + r[1].w <= 1000);
    /* An item gone: its place. Items in another order than their
     * neighbours', disjoint: nothing. */
    dmg_list_clear(&b);
    dmg_add(&b, far, 3);
    dmg_add(&b, p, 1);
    T_EQ_INT(dmg_diff(&a, &b, 1000, 1000, r, DMG_MAX_RECTS), 1);
    T_CHECK(SDL_RectEquals(&r[0], &q));
    /* Many small changes are merged into DMG_MAX_RECTS. */
    dmg_list_clear(&b);
    for (int i = 0; i < 12; i++)
        dmg_add(&b, (SDL_Rect){ 80 * i, 70 * i, 8, 8 }, (uint64_t)i + 10);
    int n = dmg_diff(&a, &b, 1000, 1000, r, DMG_MAX_RECTS);
    T_CHECK(n >= 1 && n <= DMG_MAX_RECTS);
    for (int i = 0; i < 12; i++) {
        SDL_Rect it = { 80 * i, 70 * i, 8, 8 }, c;
        bool in = false;
        for (int k = 0; k < n; k++)
            in |= SDL_IntersectRect(&it, &r[k], &c) && SDL_RectEquals(&c, &it);
        T_CHECK(in);
    }
    /* Rectangles that meet once one has grown are folded together: the
     * set never draws and sends a place twice. */
    dmg_list_clear(&a);
    dmg_list_clear(&b);
    dmg_add(&b, (SDL_Rect){ 0, 0, 10, 10 }, 1);
    dmg_add(&b, (SDL_Rect){ 20, 0, 10, 10 }, 2);
    dmg_add(&b, (SDL_Rect){ 0, 40, 50, 10 }, 3);
    dmg_add(&b, (SDL_Rect){ 25, 5, 20, 40 }, 4);
    n = dmg_diff(&a, &b, 1000, 1000, r, DMG_MAX_RECTS);
    T_CHECK(n >= 1);
    for (int i = 0; i < n; i++)
        for (int k = i + 1; k < n; k++)
            T_CHECK(!SDL_HasIntersection(&r[i], &r[k]));
    /* More than half the frame: drawn whole. */
    dmg_add(&b, (SDL_Rect){ 0, 0, 1000, 600 }, 99);
    T_EQ_INT(dmg_diff(&a, &b, 1000, 1000, r, DMG_MAX_RECTS), -1);
    /* A list that overflowed is never trusted. */
    dmg_list_clear(&b);
    for (int i = 0; i <= DMG_MAX_ITEMS; i++)
        dmg_add(&b, p, 1);
    T_CHECK(b.overflow);
    T_EQ_INT(dmg_diff(&b, &b, 1000, 1000, r, DMG_MAX_RECTS), -1);
}

/* A journey's frames drawn only where they changed are, pixel for pixel,
 * the frames drawn whole: taps on keys, digits typed and deleted, a
 * notice coming and going, the language, the technician's overlay, the
 * spinner turning, another screen. A tap's frame is drawn in a few small
 * rectangles, not whole. */
static void card_view(ui_view *v, core *c, core_state st, int typed, core_notice n, core_lang lang,
                      const char *card)
{
    static const uint8_t order[10] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 0 };
    core_config cfg = { .pin_length = 6, .initial = { "123456" }, .n_initial = 1,
                        .idle_timeout_ms = 30000, .warning_ms = 15000, .lang = lang };
    core_init(c, &cfg, 1000);
    c->state = st;
    c->notice = n;
    c->lang = lang;
    c->tries_left = -1;
    if (st != ST_IDLE) {
        c->card_present = true;
        snprintf(c->card_number, sizeof c->card_number, "A12345678");
    }
    c->entry_len = typed;
    ui_view_build(v, c, &(ui_view_input){ .w = 1920, .h = 1080, .keypad_order = order, .card_masked = card });
}

static void journey_view(ui_view *v, core *c, core_state st, int typed, core_notice n, core_lang lang)
{
    card_view(v, c, st, typed, n, lang, "A12***678");
}

T_TEST(a_frame_drawn_where_it_changed_is_the_frame_drawn_whole)
{
    static const struct {
        core_state st;
        int typed;
        core_notice n;
        core_lang lang;
        const char *press, *overlay;
        bool small;     /* a tap's frame: a few small rectangles */
    } step[] = {
        { ST_IDLE, 0, NT_NONE, LANG_ZH, NULL, NULL, false },
        { ST_ENTER_OLD_PIN, 0, NT_NONE, LANG_ZH, NULL, NULL, false },
        { ST_ENTER_OLD_PIN, 0, NT_NONE, LANG_ZH, "key.5", NULL, true },
        { ST_ENTER_OLD_PIN, 1, NT_NONE, LANG_ZH, NULL, NULL, true },
        { ST_ENTER_OLD_PIN, 1, NT_NONE, LANG_ZH, "key.1", NULL, true },
        { ST_ENTER_OLD_PIN, 2, NT_NONE, LANG_ZH, "key.back", NULL, true },
        { ST_ENTER_OLD_PIN, 1, NT_NONE, LANG_ZH, NULL, "frame 4.1 ms", true },
        { ST_ENTER_OLD_PIN, 1, NT_NONE, LANG_ZH, NULL, "frame 4.7 ms", true },
        { ST_ENTER_OLD_PIN, 1, NT_NONE, LANG_ZH, "key.0", "frame 12.9 ms, 3 texts", true },
        { ST_ENTER_OLD_PIN, 2, NT_NONE, LANG_ZH, NULL, NULL, true },
        { ST_ENTER_OLD_PIN, 6, NT_NONE, LANG_ZH, "key.ok", NULL, true },
        { ST_ENTER_OLD_PIN, 0, NT_WRONG_PIN, LANG_ZH, NULL, NULL, false },
        { ST_ENTER_OLD_PIN, 3, NT_WRONG_PIN, LANG_ZH, NULL, NULL, true },
        { ST_ENTER_OLD_PIN, 3, NT_NONE, LANG_EN, "btn.lang", NULL, false },
        { ST_ENTER_NEW_PIN, 0, NT_ON_INITIAL_PIN, LANG_EN, NULL, NULL, false },
        { ST_ENTER_NEW_PIN, 4, NT_ON_INITIAL_PIN, LANG_EN, "key.7", NULL, true },
        { ST_CONFIRM_NEW_PIN, 0, NT_NONE, LANG_EN, NULL, NULL, false },
        { ST_CONFIRM_NEW_PIN, 5, NT_NONE, LANG_EN, "key.3", NULL, true },
        { ST_VERIFYING, 0, NT_NONE, LANG_EN, NULL, NULL, false },
        { ST_VERIFYING, 0, NT_NONE, LANG_EN, NULL, NULL, true },
        { ST_CHANGING, 0, NT_NONE, LANG_EN, NULL, NULL, false },
        { ST_SUCCESS, 0, NT_NONE, LANG_EN, NULL, NULL, false },
        { ST_SUCCESS, 0, NT_NONE, LANG_ZH, "btn.lang", NULL, false },
        { ST_IDLE, 0, NT_NONE, LANG_ZH, NULL, NULL, false },
        { ST_READING_CARD, 0, NT_NONE, LANG_ZH, NULL, NULL, false },
        { ST_ENTER_OLD_PIN, 0, NT_NONE, LANG_ZH, NULL, NULL, false },
        { ST_IDLE, 0, NT_NONE, LANG_EN, NULL, NULL, false },
    };
    SDL_Surface *s1 = argb(1920, 1080, 0), *s2 = argb(1920, 1080, 0);
    SDL_Renderer *r1 = SDL_CreateSoftwareRenderer(s1), *r2 = SDL_CreateSoftwareRenderer(s2);
    char pic[1100];
    ui_view v;
    core c;
    int partial = 0;

    snprintf(pic, sizeof pic, "%s/assets/insert-card.svg", root);
    ui_renderer *u1 = ui_renderer_new(r1, fonts, pic), *u2 = ui_renderer_new(r2, fonts, pic);
    T_CHECK(u1 != NULL && u2 != NULL);
    if (u1 == NULL || u2 == NULL)
        return;
    ui_renderer_set_surface(u1, s1);
    ui_renderer_set_surface(u2, s2);
    for (size_t i = 0; i < sizeof step / sizeof step[0]; i++) {
        SDL_Rect rects[DMG_MAX_RECTS];
        journey_view(&v, &c, step[i].st, step[i].typed, step[i].n, step[i].lang);
        int pressed = step[i].press ? ui_view_find(&v, step[i].press) : -1;
        T_CHECK(step[i].press == NULL || pressed >= 0);
        /* The spinner turns with the clock: both frames in the same turn
         * (drawn again, both, if the turn changed between them). */
        int n, tries = 0;
        Uint32 turn;
        do {
            turn = SDL_GetTicks() / RENDER_SPIN_MS;
            ui_renderer_draw(u1, &v, pressed, step[i].overlay);
            SDL_RenderFlush(r1);
            n = ui_renderer_damage(u1, rects, DMG_MAX_RECTS);
            ui_renderer_invalidate(u2);
            ui_renderer_draw(u2, &v, pressed, step[i].overlay);
            SDL_RenderFlush(r2);
        } while (v.show_spinner && turn != SDL_GetTicks() / RENDER_SPIN_MS && ++tries < 10);
        if (!same_pixels(s1, s2))
            fprintf(stderr, "  step %zu (%s, %d typed, %s): %d rectangles, not the frame drawn whole\n", i,
                    core_state_name(step[i].st), step[i].typed, step[i].press ? step[i].press : "-", n);
        T_CHECK(same_pixels(s1, s2));
        if (step[i].small) {
            long area = 0;
            for (int k = 0; k < n; k++)
                area += (long)rects[k].w * rects[k].h;
            if (n < 0 || area * 10 > 1920L * 1080)
                fprintf(stderr, "  step %zu: %d rectangles, %ld pixels: not a tap's frame\n", i, n, area);
            T_CHECK(n >= 0 && area * 10 <= 1920L * 1080);
            partial += n > 0;
        }
        if (i == 0)
            T_EQ_INT(n, -1); /* the first frame is drawn whole */
    }
    T_CHECK(partial >= 8);
    /* The window was exposed: the next frame is whole even if nothing changed. */
    ui_renderer_invalidate(u1);
    ui_renderer_draw(u1, &v, -1, NULL);
    SDL_Rect r[DMG_MAX_RECTS];
    T_EQ_INT(ui_renderer_damage(u1, r, DMG_MAX_RECTS), -1);
    ui_renderer_free(u1);
    ui_renderer_free(u2);
    SDL_DestroyRenderer(r1);
    SDL_DestroyRenderer(r2);
    SDL_FreeSurface(s1);
    SDL_FreeSurface(s2);
}

/* A screen on show whose texts fill the cache's budget leaves no room to
 * prepare another: preparing says so at once (-1), rather than "one
 * missing" turn after turn, each turn rendering the text only to drop it. */
T_TEST(preparing_ahead_stops_when_the_budget_is_full_of_the_screen)
{
    SDL_Surface *s1 = argb(1920, 1080, 0);
    SDL_Renderer *r1 = SDL_CreateSoftwareRenderer(s1);
    char pic[1100], words[UI_MAX_TEXTS][96];
    static ui_view v, next;

    snprintf(pic, sizeof pic, "%s/assets/insert-card.svg", root);
    ui_renderer *u = ui_renderer_new(r1, fonts, pic);
    T_CHECK(u != NULL);
    if (u == NULL)
        return;
    ui_renderer_set_surface(u, s1);
    memset(&v, 0, sizeof v);
    v.w = 1920;
    v.h = 1080;
    v.bar = (ui_rect){ 0, 0, 1920, 60 };
    /* Thirty lines of large words, all different: far more than 256 KiB of
     * runs, all on screen (a frame always gets its texts). */
    for (int i = 0; i < 30; i++) {
        snprintf(words[i], sizeof words[i], "%d 请插入社保卡 Insert your card 请输入密码 %d", i, i * 7);
        v.texts[i] = (ui_text){ .role = TXT_BODY, .r = { 0, 36 * i, 1900, 36 }, .text = words[i], .px = 96,
                                .rgb = 0x1F2933, .bg = 0xF3F7FC };
    }
    v.n_texts = 30;
    ui_renderer_draw(u, &v, -1, NULL);
    T_EQ_INT(ui_renderer_misses(u), 30);
    /* The next screen: one text not yet made, and no room for it. */
    next = v;
    next.texts[0].text = "另一个屏幕 Another screen";
    ui_renderer_prepare_begin(u);
    T_EQ_INT(ui_renderer_prerender(u, &next, 1), -1);
    T_EQ_INT(ui_renderer_prerender(u, &next, 1), -1);
    /* The screen on show a small one: the room is there again. */
    v.n_texts = 1;
    ui_renderer_draw(u, &v, -1, NULL);
    ui_renderer_prepare_begin(u);
    next.n_texts = 1;
    T_EQ_INT(ui_renderer_prerender(u, &next, 1), 0);
    ui_renderer_draw(u, &next, -1, NULL);
    T_EQ_INT(ui_renderer_misses(u), 0);
    ui_renderer_free(u);
    SDL_DestroyRenderer(r1);
    SDL_FreeSurface(s1);
}

/* The renderer fills its rectangles itself on a 32-bit surface (not with
 * SDL_FillRect): the same colours, in every channel order, and the keys'
 * faces where SDL puts them. Each key is compared with SDL_FillRect's
 * fill of it, except where its label is. */
T_TEST(the_frame_fills_are_sdl_fills)
{
    static const Uint32 formats[] = { SDL_PIXELFORMAT_ARGB8888, SDL_PIXELFORMAT_RGB888, SDL_PIXELFORMAT_ABGR8888 };
    char pic[1100];
    ui_view v;
    core c;

    snprintf(pic, sizeof pic, "%s/assets/insert-card.svg", root);
    journey_view(&v, &c, ST_ENTER_OLD_PIN, 2, NT_NONE, LANG_ZH);
    for (size_t f = 0; f < sizeof formats / sizeof formats[0]; f++) {
        SDL_Surface *s = SDL_CreateRGBSurfaceWithFormat(0, 1920, 1080, 32, formats[f]);
        SDL_Surface *ref = SDL_CreateRGBSurfaceWithFormat(0, 1920, 1080, 32, formats[f]);
        SDL_Renderer *r = s ? SDL_CreateSoftwareRenderer(s) : NULL;
        ui_renderer *u = r ? ui_renderer_new(r, fonts, pic) : NULL;
        T_CHECK(u != NULL && ref != NULL);
        if (u == NULL || ref == NULL) {
            SDL_FreeSurface(s);
            SDL_FreeSurface(ref);
            continue;
        }
        ui_renderer_set_surface(u, s);
        ui_renderer_draw(u, &v, -1, NULL);
        SDL_RenderFlush(r);
        int keys = 0, bad = 0;
        for (int i = 0; i < v.n_widgets; i++) {
            const ui_widget *w = &v.widgets[i];
            if (w->kind != W_KEY_DIGIT)
                continue;
            SDL_Rect k = { w->r.x, w->r.y, w->r.w, w->r.h };
            SDL_FillRect(ref, &k, SDL_MapRGBA(ref->format, (Uint8)(w->rgb >> 16), (Uint8)(w->rgb >> 8), (Uint8)w->rgb, 255));
            keys++;
            /* Every pixel of the face outside the middle third (the label). */
            for (int y = k.y; y < k.y + k.h; y++)
                for (int x = k.x; x < k.x + k.w; x++) {
                    if (x > k.x + k.w / 3 && x < k.x + 2 * k.w / 3 && y > k.y + k.h / 4 && y < k.y + 3 * k.h / 4)
                        continue;
                    Uint32 a = ((Uint32 *)((Uint8 *)s->pixels + y * s->pitch))[x];
                    Uint32 b = ((Uint32 *)((Uint8 *)ref->pixels + y * ref->pitch))[x];
                    bad += a != b;
                }
        }
        T_EQ_INT(keys, 10);
        T_EQ_INT(bad, 0);
        /* The background: a pixel between the keys, as SDL maps it. */
        const ui_widget *k1 = &v.widgets[ui_view_find(&v, "key.1")];
        Uint32 bg = ((Uint32 *)((Uint8 *)s->pixels + (k1->r.y + k1->r.h + 2) * s->pitch))[k1->r.x + 10];
        T_EQ_INT(bg, SDL_MapRGBA(s->format, (UI_RGB_BG >> 16) & 0xFF, (UI_RGB_BG >> 8) & 0xFF, UI_RGB_BG & 0xFF, 255));
        ui_renderer_free(u);
        SDL_DestroyRenderer(r);
        SDL_FreeSurface(s);
        SDL_FreeSurface(ref);
    }
}

/* A text kept as runs (what the cache keeps) is its 8-bit surface again,
 * byte for byte; drawn, it is what SDL_BlitSurface makes of that surface
 * (the window's formats, partly off the frame, cut by a clip rectangle);
 * and it takes a third of the bytes or less: a sixth, across the
 * screens. A wrapped paragraph and a keypad's digit are in it too. */
T_TEST(a_text_kept_as_runs_is_its_pixels_in_a_third_of_the_bytes)
{
    static const char *const texts[] = { "请插入社保卡", "Insert your card", "0123456789", "确认新密码 OK",
                                         "请输入社保卡的当前密码。初始密码是 123456，如已修改请输入您设置的密码。", "7" };
    static const Uint32 formats[] = { SDL_PIXELFORMAT_ARGB8888, SDL_PIXELFORMAT_RGB888 };
    const SDL_Rect clip = { 30, 10, 700, 150 };

    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        SDL_Surface *s = ui_text_render(fonts, texts[i], 64, i % 2 == 0, 900, i == 2, 0x1F2933, 0xF3F7FC);
        textruns *t = textruns_make(s);
        SDL_Surface *back = t ? textruns_surface(t) : NULL;
        T_CHECK(s != NULL && t != NULL && back != NULL);
        if (s == NULL || t == NULL || back == NULL) {
            SDL_FreeSurface(s);
            textruns_free(t);
            continue;
        }
        T_EQ_INT(textruns_w(t), s->w);
        T_EQ_INT(textruns_h(t), s->h);
        bool same = back->w == s->w && back->h == s->h;
        for (int y = 0; same && y < s->h; y++)
            same = memcmp((Uint8 *)s->pixels + y * s->pitch, (Uint8 *)back->pixels + y * back->pitch, (size_t)s->w) == 0;
        T_CHECK(same);
        if (textruns_bytes(t) * 3 > (size_t)s->w * (size_t)s->h)
            fprintf(stderr, "  \"%s\": %zu bytes kept of %d\n", texts[i], textruns_bytes(t), s->w * s->h);
        /* The digit alone is too small for the runs to pay for their index. */
        if (strlen(texts[i]) > 1)
            T_CHECK(textruns_bytes(t) * 3 <= (size_t)s->w * (size_t)s->h);
        for (size_t f = 0; f < sizeof formats / sizeof formats[0]; f++) {
            SDL_Surface *a = SDL_CreateRGBSurfaceWithFormat(0, 800, 200, 32, formats[f]);
            SDL_Surface *b = SDL_CreateRGBSurfaceWithFormat(0, 800, 200, 32, formats[f]);
            T_CHECK(a != NULL && b != NULL);
            if (a && b) {
                SDL_SetSurfaceBlendMode(s, SDL_BLENDMODE_NONE);
                /* Clip edges at every few pixels, so some fall inside runs
                 * of each kind. */
                for (int e = 0; e < 40; e++) {
                    SDL_Rect c = { clip.x + e, clip.y + e % 7, clip.w - 3 * e, clip.h - e % 5 };
                    SDL_Rect at = { -40, 100 - e, s->w, s->h };
                    SDL_FillRect(a, NULL, 0xFFFF00FFu);
                    SDL_FillRect(b, NULL, 0xFFFF00FFu);
                    SDL_SetClipRect(a, &c);
                    SDL_SetClipRect(b, &c);
                    T_CHECK(SDL_BlitSurface(s, NULL, a, &at) == 0);
                    T_CHECK(textruns_draw(t, b, -40, 100 - e));
                    T_CHECK(same_pixels(a, b));
                }
                /* And unclipped (whole rows), at the frame's corner and
                 * further in. */
                SDL_SetClipRect(a, NULL);
                SDL_SetClipRect(b, NULL);
                SDL_Rect at = { 0, 0, s->w, s->h };
                T_CHECK(SDL_BlitSurface(s, NULL, a, &at) == 0);
                T_CHECK(textruns_draw(t, b, 0, 0));
                T_CHECK(same_pixels(a, b));
                if (s->w <= 800 - 37) {
                    at = (SDL_Rect){ 37, 61, s->w, s->h };
                    T_CHECK(SDL_BlitSurface(s, NULL, a, &at) == 0);
                    T_CHECK(textruns_draw(t, b, 37, 61));
                    T_CHECK(same_pixels(a, b));
                }
            }
            SDL_FreeSurface(a);
            SDL_FreeSurface(b);
        }
        SDL_FreeSurface(s);
        SDL_FreeSurface(back);
        textruns_free(t);
    }
    T_CHECK(textruns_make(NULL) == NULL);
    SDL_Surface *deep = argb(8, 8, 0);
    T_CHECK(textruns_make(deep) == NULL); /* not 8-bit: refused */
    SDL_FreeSurface(deep);
}

/* An 8-bit surface with the shaded palette from white to black and a
 * pattern of runs of 0 and 255 with shades between, different for each
 * `seed`. */
static SDL_Surface *pattern(int w, int h, int seed)
{
    SDL_Surface *s = SDL_CreateRGBSurfaceWithFormat(0, w, h, 8, SDL_PIXELFORMAT_INDEX8);
    SDL_Color pal[256];

    if (s == NULL)
        return NULL;
    for (int i = 0; i < 256; i++)
        pal[i] = (SDL_Color){ (Uint8)(255 - i), (Uint8)(255 - i), (Uint8)(255 - i), 255 };
    SDL_SetPaletteColors(s->format->palette, pal, 0, 256);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int v = (x / 3 + y * 7 + seed * 11) % 9;
            ((Uint8 *)s->pixels)[y * s->pitch + x] = (Uint8)(v < 4 ? 0 : v < 7 ? 255 : 17 * v + seed);
        }
    return s;
}

static bool same_bytes(SDL_Surface *a, SDL_Surface *b)
{
    bool same = a && b && a->w == b->w && a->h == b->h;
    for (int y = 0; same && y < a->h; y++)
        same = memcmp((Uint8 *)a->pixels + y * a->pitch, (Uint8 *)b->pixels + y * b->pitch, (size_t)a->w) == 0;
    return same;
}

/* Every row of t is exactly t's width: drawn onto a wider frame, nothing
 * lands right of it (a row of codes a pixel long would). */
static bool rows_are_its_width(const textruns *t)
{
    SDL_Surface *f = argb(textruns_w(t) + 200, textruns_h(t), 0xFF00FF);
    bool ok = f && textruns_draw(t, f, 0, 0);
    for (int y = 0; ok && y < f->h; y++)
        for (int x = textruns_w(t); ok && x < f->w; x++)
            ok = (((Uint32 *)((Uint8 *)f->pixels + y * f->pitch))[x] & 0xFFFFFFu) == 0xFF00FFu;
    SDL_FreeSurface(f);
    return ok;
}

/* An 8-bit surface whose every row repeats `pat` (the shaded palette). */
static SDL_Surface *pattern_surface_rows(int w, int h, const Uint8 *pat, size_t n)
{
    SDL_Surface *s = pattern(w, h, 0);
    for (int y = 0; s && y < h; y++)
        for (int x = 0; x < w; x++)
            ((Uint8 *)s->pixels)[y * s->pitch + x] = pat[(size_t)x % n];
    return s;
}

/* The most codes a row can take: a lone shade (two bytes) and a lone pixel
 * of ink or background (one byte), again and again, a byte and a half a
 * pixel; and thin strokes at small sizes, which come close. Kept as runs
 * they are still their pixels (ASan sees any write past the codes). */
T_TEST(rows_of_lone_shades_are_kept_whole)
{
    static const Uint8 pattern[] = { 0xAA, 255, 0x55, 0, 0x33, 255, 0x77, 0 };
    static const char *const thin[] = { "William", "||", "Ill", "offline", "Illinois 1111 |||| lll" };
    for (int w = 1; w <= 300; w += 37) {
        SDL_Surface *s = pattern_surface_rows(w, 5, pattern, sizeof pattern);
        textruns *t = textruns_make(s);
        SDL_Surface *back = t ? textruns_surface(t) : NULL;
        T_CHECK(t != NULL && same_bytes(back, s) && rows_are_its_width(t));
        SDL_FreeSurface(back);
        SDL_FreeSurface(s);
        textruns_free(t);
    }
    for (size_t i = 0; i < sizeof thin / sizeof thin[0]; i++)
        for (int px = 14; px <= 22; px++) {
            SDL_Surface *s = ui_text_render(fonts, thin[i], px, px % 2 == 0, 960, false, 0x1F2933, 0xF3F7FC);
            textruns *t = s ? textruns_make(s) : NULL;
            SDL_Surface *back = t ? textruns_surface(t) : NULL;
            T_CHECK(s != NULL && t != NULL && same_bytes(back, s));
            SDL_FreeSurface(back);
            SDL_FreeSurface(s);
            textruns_free(t);
        }
}

/* Lines taller than their spacing, of different widths and offsets, one
 * missing: stacked as runs they are what blitting them onto one surface
 * makes, a later line over an earlier only where it reaches. */
T_TEST(lines_stack_as_blits_onto_one_surface_do)
{
    const int w = 100, skip = 20, n = 4;
    const int lw[] = { 50, 80, 30, 100 }, lx[] = { 0, 10, 25, 0 };
    SDL_Surface *src[4], *block = pattern(w, n * skip, 0);
    textruns *line[4];

    T_CHECK(block != NULL);
    if (block == NULL)
        return;
    SDL_FillRect(block, NULL, 0);
    for (int i = 0; i < n; i++) {
        src[i] = pattern(lw[i], 30, i + 1);
        line[i] = textruns_make(src[i]);
        T_CHECK(line[i] != NULL);
        if (i == 2)
            continue;   /* left blank in both */
        SDL_Rect at = { lx[i], i * skip, lw[i], 30 };
        SDL_SetSurfaceBlendMode(src[i], SDL_BLENDMODE_NONE);
        T_CHECK(SDL_BlitSurface(src[i], NULL, block, &at) == 0);
    }
    textruns *kept2 = line[2];
    line[2] = NULL;
    textruns *t = textruns_stack(line, lx, n, skip, w);
    SDL_Surface *back = t ? textruns_surface(t) : NULL;
    T_CHECK(t != NULL && textruns_w(t) == w && textruns_h(t) == n * skip);
    T_CHECK(same_bytes(back, block));
    T_CHECK(t != NULL && rows_are_its_width(t));
    textruns *made = textruns_make(block);
    T_CHECK(made && t && textruns_bytes(made) == textruns_bytes(t));
    textruns_free(made);
    SDL_FreeSurface(back);
    textruns_free(t);

    /* A line wider than the block from its offset is left out. */
    line[2] = kept2;
    const int past[] = { 0, 10, 71, 0 };
    t = textruns_stack(line, past, n, skip, w);
    back = t ? textruns_surface(t) : NULL;
    T_CHECK(same_bytes(back, block));
    SDL_FreeSurface(back);
    textruns_free(t);

    /* Nothing to stack, or lines of other colours: refused. */
    textruns *none[2] = { NULL, NULL };
    T_CHECK(textruns_stack(none, lx, 2, skip, w) == NULL);
    SDL_Color red = { 255, 0, 0, 255 };
    SDL_SetPaletteColors(src[3]->format->palette, &red, 7, 1);
    textruns *other = textruns_make(src[3]);
    textruns *mixed[2] = { line[0], other };
    T_CHECK(other != NULL && textruns_stack(mixed, lx, 2, skip, w) == NULL);
    textruns_free(other);
    for (int i = 0; i < n; i++) {
        textruns_free(line[i]);
        SDL_FreeSurface(src[i]);
    }
    SDL_FreeSurface(block);
}

/* A wrapped paragraph, made a line at a time, is its lines as each is
 * rendered alone, blitted one under the other on a surface as wide as the
 * widest: centred or not, with a line that needs the fallback font. */
T_TEST(a_paragraph_is_its_lines_rendered_alone_one_under_another)
{
    static const char *const texts[] = {
        "请输入社保卡的当前密码。初始密码是 123456，如已修改请输入您设置的密码。",
        "持卡人王堃：请按提示输入密码，完成后请取走您的社保卡。Thank you for waiting.",
        "Enter the card's current PIN. The initial PIN is 123456; if you changed it, enter yours.",
    };

    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        for (int center = 0; center < 2; center++) {
            ui_lines lines;
            SDL_Surface *one[UI_MAX_LINES] = { NULL }, *block = NULL;
            int bw = 0;
            ui_text_wrap(fonts, texts[i], 56, center, 700, &lines);
            T_CHECK(lines.n >= 2);
            for (int k = 0; k < lines.n; k++) {
                char buf[512];
                snprintf(buf, sizeof buf, "%.*s", lines.len[k], texts[i] + lines.start[k]);
                one[k] = ui_text_render(fonts, buf, 56, center, 100000, false, 0x1F2933, 0xF3F7FC);
                if (one[k] && one[k]->w > bw)
                    bw = one[k]->w;
            }
            if (bw > 0 && one[0]) {
                block = SDL_CreateRGBSurfaceWithFormat(0, bw, lines.n * lines.line_skip, 8, SDL_PIXELFORMAT_INDEX8);
                if (block) {
                    SDL_SetPaletteColors(block->format->palette, one[0]->format->palette->colors, 0, 256);
                    SDL_FillRect(block, NULL, 0);
                }
            }
            for (int k = 0; k < lines.n; k++) {
                if (block && one[k]) {
                    SDL_Rect at = { center ? (bw - one[k]->w) / 2 : 0, k * lines.line_skip, one[k]->w, one[k]->h };
                    SDL_SetSurfaceBlendMode(one[k], SDL_BLENDMODE_NONE);
                    T_CHECK(SDL_BlitSurface(one[k], NULL, block, &at) == 0);
                }
                SDL_FreeSurface(one[k]);
            }
            SDL_Surface *whole = ui_text_render(fonts, texts[i], 56, center, 700, center, 0x1F2933, 0xF3F7FC);
            T_CHECK(block != NULL && same_bytes(whole, block));
            textruns *runs = ui_text_runs(fonts, texts[i], 56, center, 700, center, 0x1F2933, 0xF3F7FC);
            T_CHECK(runs != NULL && rows_are_its_width(runs));
            textruns_free(runs);
            SDL_FreeSurface(whole);
            SDL_FreeSurface(block);
        }
}

int main(void)
{
    static const t_case cases[] = {
        T_CASE(a_text_is_one_byte_a_pixel_and_draws_as_sdl_ttf_shades_it),
        T_CASE(the_font_reader_gives_the_same_glyphs_as_sdl_reading_the_file),
        T_CASE(a_frame_from_kept_texts_and_pictures_is_the_frame_made_fresh),
        T_CASE(damage_is_where_the_items_of_two_frames_differ),
        T_CASE(a_frame_drawn_where_it_changed_is_the_frame_drawn_whole),
        T_CASE(preparing_ahead_stops_when_the_budget_is_full_of_the_screen),
        T_CASE(the_frame_fills_are_sdl_fills),
        T_CASE(a_text_kept_as_runs_is_its_pixels_in_a_third_of_the_bytes),
        T_CASE(rows_of_lone_shades_are_kept_whole),
        T_CASE(lines_stack_as_blits_onto_one_surface_do),
        T_CASE(a_paragraph_is_its_lines_rendered_alone_one_under_another),
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
    fonts = ui_fonts_open(reg, bold, NULL, err, sizeof err);
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

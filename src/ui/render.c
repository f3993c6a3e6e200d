#include "ui/render.h"

#include <stdlib.h>
#include <string.h>

#include "ui/damage.h"
#include "ui/fill32.h"
#include "ui/picslots.h"
#include "ui/textcache.h"
#include "ui/textruns.h"
#include "util/log.h"

struct ui_renderer {
    SDL_Renderer *r;
    SDL_Surface *target;         /* a renderer made for a surface: that surface */
    bool soft;                   /* the software renderer: kept surfaces are blitted */
    ui_fonts *fonts;
    picslots *pics;
    textcache *texts;          /* the texts kept, as runs */
    /* What the last frame drew where (damage.h), and what this one draws:
     * a frame is drawn and sent again only where they differ. */
    dmg_list items[2];
    int cur;                   /* items[cur] is the frame being drawn */
    bool whole;                /* the next frame is drawn whole */
    bool dialog_drawn;         /* the last frame dimmed everything under a dialog */
    SDL_Surface *drawn_on;     /* where the last frame went */
    int drawn_w, drawn_h;
    SDL_Rect damage[DMG_MAX_RECTS];
    int n_damage;              /* -1: the last frame was drawn whole */
    bool clipping;             /* drawing within `clip` only */
    SDL_Rect clip;
};

/* What one frame draws, found before anything is drawn: where each text
 * and the picture go, the spinner's phase, the overlay's words. */
typedef struct {
    const textruns *runs[UI_MAX_TEXTS];
    SDL_Rect at[UI_MAX_TEXTS];
    const picruns *pic;
    SDL_Rect pic_at;
    int phase;
    SDL_Surface *overlay;
    SDL_Rect overlay_bg, overlay_at;
    bool dialog;
} frame_plan;

ui_renderer *ui_renderer_new(SDL_Renderer *r, ui_fonts *fonts, const char *picture_path)
{
    ui_renderer *u = calloc(1, sizeof *u);

    if (u == NULL)
        return NULL;
    ui_renderer_attach(u, r);
    u->whole = true;
    u->n_damage = -1;
    u->fonts = fonts;
    u->pics = picslots_new(picture_path);
    u->texts = tcache_new(fonts);
    if (u->pics == NULL || u->texts == NULL) {
        picslots_free(u->pics);
        tcache_free(u->texts);
        free(u);
        return NULL;
    }
    return u;
}

/* The surface the software renderer draws into (the window's, or the one
 * it was made for); NULL for any other renderer. */
static SDL_Surface *soft_target(ui_renderer *u)
{
    SDL_Window *w;

    if (!u->soft)
        return NULL;
    if (u->target)
        return u->target;
    w = SDL_RenderGetWindow(u->r);
    return w ? SDL_GetWindowSurface(w) : NULL;
}

/* Puts a kept 8-bit text (or a picture's pixels) on the frame. SDL cannot
 * make a texture of an 8-bit surface: so with the software renderer the
 * commands queued so far are carried out (SDL_RenderFlush) and the surface
 * is blitted onto its target, in order with everything else. Any other
 * renderer gets a texture made for the occasion. */
static void blit_surface(ui_renderer *u, SDL_Surface *s, SDL_Rect *dst, const SDL_Rect *src)
{
    SDL_Surface *target = soft_target(u);

    if (target) {
        SDL_RenderFlush(u->r);
        SDL_SetClipRect(target, u->clipping ? &u->clip : NULL);
        SDL_BlitSurface(s, src, target, dst);
        return;
    }
    SDL_Texture *tex = SDL_CreateTextureFromSurface(u->r, s);
    if (tex) {
        SDL_RenderCopy(u->r, tex, src, dst);
        SDL_DestroyTexture(tex);
    }
}

/* Puts a kept text (t) or picture (p) on the frame at dst: drawn straight
 * onto the software renderer's surface, after the commands queued so far
 * (they go under it); for any other renderer, through its pixels made for
 * the occasion. */
static void put_kept(ui_renderer *u, const textruns *t, const picruns *p, SDL_Rect *dst)
{
    SDL_Surface *target = soft_target(u), *s;

    if (target) {
        SDL_RenderFlush(u->r);
        SDL_SetClipRect(target, u->clipping ? &u->clip : NULL);
        if (t ? textruns_draw(t, target, dst->x, dst->y) : picruns_draw(p, target, dst->x, dst->y))
            return;
    }
    s = t ? textruns_surface(t) : picruns_surface(p);
    if (s) {
        /* A text is opaque, a copy through its palette; a picture blends. */
        SDL_SetSurfaceBlendMode(s, t ? SDL_BLENDMODE_NONE : SDL_BLENDMODE_BLEND);
        blit_surface(u, s, dst, NULL);
        SDL_FreeSurface(s);
    }
}

/* Asked once, not at every blit: the kiosk never changes renderers and
 * never draws into a texture. */
static bool renderer_is_soft(SDL_Renderer *r)
{
    SDL_RendererInfo info;
    return r && SDL_GetRendererInfo(r, &info) == 0 && (info.flags & SDL_RENDERER_SOFTWARE);
}

void ui_renderer_attach(ui_renderer *u, SDL_Renderer *r)
{
    u->r = r;
    u->soft = renderer_is_soft(r);
    u->whole = true;
}

void ui_renderer_set_surface(ui_renderer *u, SDL_Surface *target)
{
    u->target = target;
    u->whole = true;
}

void ui_renderer_invalidate(ui_renderer *u)
{
    u->whole = true;
}

int ui_renderer_damage(const ui_renderer *u, SDL_Rect *out, int max)
{
    if (u->n_damage < 0 || u->n_damage > max)
        return -1;
    memcpy(out, u->damage, (size_t)u->n_damage * sizeof out[0]);
    return u->n_damage;
}

void ui_renderer_prepare_picture(ui_renderer *u, ui_picture id, int w, int h)
{
    picslots_prepare(u->pics, id, w, h);
}

void ui_renderer_free(ui_renderer *u)
{
    if (u == NULL)
        return;
    picslots_free(u->pics);
    tcache_free(u->texts);
    free(u);
}

static void set_rgb(SDL_Renderer *r, uint32_t rgb, Uint8 a)
{
    SDL_SetRenderDrawColor(r, (Uint8)(rgb >> 16), (Uint8)(rgb >> 8), (Uint8)rgb, a);
}

/* An opaque rectangle. On the software renderer's 32-bit surface it is
 * filled here, with ordinary stores, after the commands queued so far:
 * SDL_FillRect's SSE path uses non-temporal stores, which on rows as short
 * as a key's (252 pixels at 1920x1080) cost 13 times ours a byte (the 15
 * keys: 1.8 ms against 0.13 ms; the whole frame 0.41 against 0.32 ms). */
static void fill_rect(ui_renderer *u, SDL_Rect s, uint32_t rgb)
{
    SDL_Surface *t = soft_target(u);
    SDL_Rect c;

    if (t == NULL || t->format->BytesPerPixel != 4) {
        set_rgb(u->r, rgb, 255);
        SDL_RenderFillRect(u->r, &s);
        return;
    }
    SDL_RenderFlush(u->r);
    if (!SDL_IntersectRect(&s, &(SDL_Rect){ 0, 0, t->w, t->h }, &c) ||
        (u->clipping && !SDL_IntersectRect(&c, &u->clip, &c)))
        return;
    if (SDL_MUSTLOCK(t) && SDL_LockSurface(t) != 0)
        return;
    uint32_t px = SDL_MapRGBA(t->format, (Uint8)(rgb >> 16), (Uint8)(rgb >> 8), (Uint8)rgb, 255);
    for (int y = c.y; y < c.y + c.h; y++)
        fill32((uint32_t *)((uint8_t *)t->pixels + (size_t)y * (size_t)t->pitch) + c.x, px, c.w);
    if (SDL_MUSTLOCK(t))
        SDL_UnlockSurface(t);
}

static void fill(ui_renderer *u, ui_rect x, uint32_t rgb)
{
    fill_rect(u, (SDL_Rect){ x.x, x.y, x.w, x.h }, rgb);
}

static void frame(ui_renderer *u, ui_rect x, int t, uint32_t rgb)
{
    fill(u, (ui_rect){ x.x, x.y, x.w, t }, rgb);
    fill(u, (ui_rect){ x.x, x.y + x.h - t, x.w, t }, rgb);
    fill(u, (ui_rect){ x.x, x.y, t, x.h }, rgb);
    fill(u, (ui_rect){ x.x + x.w - t, x.y, t, x.h }, rgb);
}

/* Where text t goes, rendering it if it is not kept (NULL: it cannot be). */
static const textruns *plan_text(ui_renderer *u, const ui_text *t, SDL_Rect *at)
{
    const textruns *r = tcache_get(u->texts, t);
    bool middle = t->role == TXT_KEY || t->role == TXT_BAR;

    if (r == NULL) {
        *at = (SDL_Rect){ 0, 0, 0, 0 };
        return NULL;
    }
    at->w = textruns_w(r);
    at->h = textruns_h(r);
    at->x = t->align == ALIGN_CENTER ? t->r.x + (t->r.w - at->w) / 2 : t->r.x;
    at->y = middle ? t->r.y + (t->r.h - at->h) / 2 : t->r.y;
    return r;
}

void ui_renderer_prepare_begin(ui_renderer *u)
{
    tcache_prepare_begin(u->texts);
}

int ui_renderer_misses(const ui_renderer *u)
{
    return tcache_misses(u->texts);
}

int ui_renderer_prerender(ui_renderer *u, const ui_view *v, int budget)
{
    return tcache_prepare(u->texts, v, budget);
}

/* A disc (ring > 0: a ring that thick) as one batch of one-pixel rows. */
static void draw_disc(SDL_Renderer *r, int cx, int cy, int rad, int ring, uint32_t rgb)
{
    SDL_Rect rows[2 * (2 * 128 + 1)];
    int n = 0;

    if (rad > 128)
        rad = 128;
    for (int dy = -rad; dy <= rad; dy++) {
        int dx = 0;
        while ((dx + 1) * (dx + 1) + dy * dy <= rad * rad)
            dx++;
        if (ring > 0 && abs(dy) < rad - ring) {
            int in = 0, ir = rad - ring;
            while ((in + 1) * (in + 1) + dy * dy <= ir * ir)
                in++;
            rows[n++] = (SDL_Rect){ cx - dx, cy + dy, dx - in + 1, 1 };
            rows[n++] = (SDL_Rect){ cx + in, cy + dy, dx - in + 1, 1 };
        } else {
            rows[n++] = (SDL_Rect){ cx - dx, cy + dy, 2 * dx + 1, 1 };
        }
    }
    set_rgb(r, rgb, 255);
    SDL_RenderFillRects(r, rows, n);
}

static void draw_dots(ui_renderer *u, const ui_view *v)
{
    int n = v->dots_total > 0 ? v->dots_total : 1;
    int step = v->dots.h * 3 / 2;
    int rad = v->dots.h * 2 / 5;

    if (step * n > v->dots.w)
        step = v->dots.w / n;
    /* Typed digits are filled discs, the rest hollow rings: shape, not colour. */
    for (int i = 0; i < v->dots_total; i++)
        draw_disc(u->r, v->dots.x + step / 2 + i * step, v->dots.y + v->dots.h / 2, rad,
                  i < v->dots_filled ? 0 : (rad / 5 > 2 ? rad / 5 : 2), UI_RGB_DOT);
}

/* Where the picture goes, if it is made yet (NULL: not yet). */
static const picruns *plan_picture(ui_renderer *u, ui_picture id, ui_rect r, SDL_Rect *at)
{
    const picruns *p = picslots_get(u->pics, id, r.w, r.h);

    *at = (SDL_Rect){ 0, 0, 0, 0 };
    if (p == NULL)
        return NULL;
    int pw = picruns_w(p), ph = picruns_h(p);
    *at = (SDL_Rect){ r.x + (r.w - pw) / 2, r.y + (r.h - ph) / 2, pw, ph };
    return p;
}

/* The sign of life of a wait: eight squares round a circle, one of them
 * dark and large, moving on one place every RENDER_SPIN_MS. Fills only:
 * a handful of rectangles cost nothing next to a frame's copy. The shape
 * moves, not only a colour. */
static SDL_Rect spinner_bounds(ui_rect r)
{
    int half = r.w / 2 - r.w / 10 + r.w / 12 + 1;
    return (SDL_Rect){ r.x + r.w / 2 - half, r.y + r.h / 2 - half, 2 * half + 1, 2 * half + 1 };
}

static void draw_spinner(ui_renderer *u, ui_rect r, int phase)
{
    int rad = r.w / 2 - r.w / 10;
    static const int cx8[8] = { 0, 707, 1000, 707, 0, -707, -1000, -707 };
    static const int cy8[8] = { -1000, -707, 0, 707, 1000, 707, 0, -707 };

    for (int i = 0; i < 8; i++) {
        int age = (phase - i + 8) % 8; /* 0: the leading square */
        int side = age == 0 ? r.w / 6 : age < 3 ? r.w / 8 : r.w / 11;
        uint32_t rgb = age == 0 ? UI_RGB_TEXT : age < 3 ? 0x555555 : 0x999999;
        int x = r.x + r.w / 2 + cx8[i] * rad / 1000, y = r.y + r.h / 2 + cy8[i] * rad / 1000;
        fill(u, (ui_rect){ x - side / 2, y - side / 2, side, side }, rgb);
    }
}

/* The overlay changes every frame (it shows the frame time): rendered
 * for the frame and dropped, it would only churn the text cache. */
static void plan_overlay(ui_renderer *u, const ui_view *v, const char *overlay, frame_plan *f)
{
    int px = v->h >= 900 ? 20 : 16;
    SDL_Surface *s = ui_text_render(u->fonts, overlay, px, false, v->w / 2, false, 0xFFFF66, 0x000000);

    f->overlay = s;
    f->overlay_bg = f->overlay_at = (SDL_Rect){ 0, 0, 0, 0 };
    if (s != NULL) {
        f->overlay_bg = (SDL_Rect){ 0, v->h - s->h - 16, s->w + 16, s->h + 16 };
        f->overlay_at = (SDL_Rect){ 8, v->h - s->h - 8, s->w, s->h };
    }
}

static void draw_overlay(ui_renderer *u, frame_plan *f)
{
    SDL_SetRenderDrawBlendMode(u->r, SDL_BLENDMODE_BLEND);
    SDL_SetRenderDrawColor(u->r, 0, 0, 0, 200);
    SDL_RenderFillRect(u->r, &f->overlay_bg);
    SDL_SetRenderDrawBlendMode(u->r, SDL_BLENDMODE_NONE);
    SDL_Rect at = f->overlay_at;
    blit_surface(u, f->overlay, &at, NULL);
}

static uint64_t key_of(uint64_t tag, const void *p, size_t n)
{
    return dmg_hash(dmg_hash(DMG_HASH_START, &tag, sizeof tag), p, n);
}

/* Everything the frame draws, where and what, in drawing order: texts
 * made (if not kept) and the picture looked up, so drawing may then be cut
 * to a few rectangles. */
static void plan_frame(ui_renderer *u, const ui_view *v, int pressed, const char *overlay,
                       frame_plan *f, dmg_list *l)
{
    const SDL_Rect none = { 0, 0, 0, 0 };

    dmg_list_clear(l);
    dmg_add(l, (SDL_Rect){ v->bar.x, v->bar.y, v->bar.w, v->bar.h }, 1);
    f->dialog = false;
    for (int i = 0; i < v->n_boxes; i++) {
        const ui_box *b = &v->boxes[i];
        f->dialog |= b->kind == BOX_DIALOG;
        dmg_add(l, (SDL_Rect){ b->r.x, b->r.y, b->r.w, b->r.h }, key_of(2, &b->kind, sizeof b->kind));
    }
    f->pic = v->show_picture ? plan_picture(u, v->picture_id, v->picture, &f->pic_at) : NULL;
    if (!v->show_picture)
        f->pic_at = none;
    int pk[4] = { (int)v->picture_id, v->picture.w, v->picture.h, f->pic != NULL };
    dmg_add(l, f->pic_at, key_of(3, pk, sizeof pk));
    f->phase = (int)(SDL_GetTicks() / RENDER_SPIN_MS % 8);
    int sk[5] = { f->phase, v->spinner.x, v->spinner.y, v->spinner.w, v->spinner.h };
    dmg_add(l, v->show_spinner ? spinner_bounds(v->spinner) : none, key_of(4, sk, sizeof sk));
    if (v->show_dots) {
        int rad = v->dots.h * 2 / 5 + 1, counts[2] = { v->dots_total, v->dots_filled };
        dmg_add(l, (SDL_Rect){ v->dots.x - rad, v->dots.y - 1, v->dots.w + 2 * rad, v->dots.h + 2 },
                key_of(5, counts, sizeof counts));
    } else {
        dmg_add(l, none, 5);
    }
    for (int i = 0; i < v->n_widgets; i++) {
        const ui_widget *w = &v->widgets[i];
        uint32_t k[3] = { (uint32_t)w->kind, w->rgb, i == pressed };
        dmg_add(l, (SDL_Rect){ w->r.x, w->r.y, w->r.w, w->r.h }, key_of(6, k, sizeof k));
    }
    for (int i = 0; i < v->n_texts; i++) {
        const ui_text *t = &v->texts[i];
        int k[9] = { t->role, t->px, t->bold, t->align, (int)t->rgb, (int)t->bg, t->top, t->r.w, 0 };
        f->runs[i] = plan_text(u, t, &f->at[i]);
        k[8] = f->runs[i] != NULL;
        dmg_add(l, f->at[i], dmg_hash_str(key_of(7, k, sizeof k), t->text));
    }
    f->overlay = NULL;
    if (overlay)
        plan_overlay(u, v, overlay, f);
    else
        f->overlay_bg = none;
    dmg_add(l, f->overlay_bg, dmg_hash_str(8, overlay));
}

/* The frame as planned, within the clip rectangle if one is set. */
static void draw_frame(ui_renderer *u, const ui_view *v, int pressed, frame_plan *f)
{
    SDL_Renderer *r = u->r;
    int edge = v->h / 90 > 6 ? v->h / 90 : 6;

    fill(u, (ui_rect){ 0, 0, v->w, v->h }, UI_RGB_BG); /* within the clip, where SDL_RenderClear is not */
    fill(u, v->bar, UI_RGB_BAR);
    for (int i = 0; i < v->n_boxes; i++) {
        const ui_box *b = &v->boxes[i];
        switch (b->kind) {
        case BOX_NOTICE: /* a refusal: the thick edge says so without colour */
            fill(u, b->r, UI_RGB_NOTICE_BG);
            frame(u, b->r, 2, UI_RGB_NOTICE_EDGE);
            fill(u, (ui_rect){ b->r.x, b->r.y, edge, b->r.h }, UI_RGB_NOTICE_EDGE);
            break;
        case BOX_INFO: /* good news: a thin frame all round, no warning edge */
            fill(u, b->r, UI_RGB_INFO_BG);
            frame(u, b->r, 2, UI_RGB_INFO);
            break;
        case BOX_PLAIN:
            fill(u, b->r, UI_RGB_PANEL_BG);
            break;
        case BOX_STEP:
            frame(u, b->r, 2, UI_RGB_MUTED);
            break;
        case BOX_STEP_NOW:
            fill(u, b->r, UI_RGB_STEP_NOW);
            break;
        case BOX_DIALOG:
            break;
        }
    }
    if (f->pic)
        put_kept(u, NULL, f->pic, &f->pic_at);
    if (v->show_spinner)
        draw_spinner(u, v->spinner, f->phase);
    if (v->show_dots)
        draw_dots(u, v);
    for (int i = 0; i < v->n_widgets; i++) {
        const ui_widget *w = &v->widgets[i];
        if (w->kind == W_BTN_CONTINUE)
            continue; /* drawn with its dialog */
        fill(u, w->r, w->rgb);
        if (w->kind == W_BTN_CANCEL) /* white, framed: a way out, not a step */
            frame(u, w->r, edge / 2 > 3 ? edge / 2 : 3, UI_RGB_TEXT);
        if (i == pressed) /* the face keeps its colour under the label; a ring shows the press */
            frame(u, w->r, edge, w->kind == W_BTN_CANCEL ? UI_RGB_KEY : 0xFFFFFF);
    }
    for (int i = 0; i < v->n_texts; i++)
        if (!v->texts[i].top && f->runs[i])
            put_kept(u, f->runs[i], NULL, &f->at[i]);
    for (int i = 0; i < v->n_boxes; i++) {
        SDL_Rect all = { 0, 0, v->w, v->h };
        int k = ui_view_find(v, "btn.continue");
        if (v->boxes[i].kind != BOX_DIALOG)
            continue;
        /* Dim what the dialog interrupts, then draw it on top. */
        SDL_SetRenderDrawBlendMode(r, SDL_BLENDMODE_BLEND);
        SDL_SetRenderDrawColor(r, 0, 0, 0, 140);
        SDL_RenderFillRect(r, &all);
        SDL_SetRenderDrawBlendMode(r, SDL_BLENDMODE_NONE);
        fill(u, v->boxes[i].r, UI_RGB_BG);
        frame(u, v->boxes[i].r, edge, UI_RGB_TEXT);
        if (k >= 0) {
            fill(u, v->widgets[k].r, v->widgets[k].rgb);
            if (k == pressed)
                frame(u, v->widgets[k].r, edge, 0xFFFFFF);
        }
        for (int t = 0; t < v->n_texts; t++)
            if (v->texts[t].top && f->runs[t])
                put_kept(u, f->runs[t], NULL, &f->at[t]);
    }
    if (f->overlay)
        draw_overlay(u, f);
}

void ui_renderer_draw(ui_renderer *u, const ui_view *v, int pressed, const char *overlay)
{
    SDL_Surface *target = soft_target(u);
    dmg_list *last = &u->items[u->cur], *now = &u->items[!u->cur];
    frame_plan f;
    int n;

    tcache_frame_begin(u->texts);
    plan_frame(u, v, pressed, overlay, &f, now);
    /* Drawn whole: the first frame, after the window was exposed or
     * resized, with another renderer (a texture renderer's buffers are not
     * kept from frame to frame), and over or under a dialog, which dims
     * the whole frame. Otherwise only where something changed. */
    if (u->whole || target == NULL || target != u->drawn_on || target->w != u->drawn_w ||
        target->h != u->drawn_h || f.dialog || u->dialog_drawn)
        n = -1;
    else
        n = dmg_diff(last, now, v->w, v->h, u->damage, DMG_MAX_RECTS);
    if (n < 0) {
        draw_frame(u, v, pressed, &f);
    } else {
        for (int i = 0; i < n; i++) {
            u->clipping = true;
            u->clip = u->damage[i];
            SDL_RenderSetClipRect(u->r, &u->clip);
            draw_frame(u, v, pressed, &f);
        }
        u->clipping = false;
        SDL_RenderSetClipRect(u->r, NULL);
        if (target) {
            SDL_RenderFlush(u->r);
            SDL_SetClipRect(target, NULL);
        }
    }
    SDL_FreeSurface(f.overlay);
    u->n_damage = n;
    u->whole = false;
    u->dialog_drawn = f.dialog;
    u->drawn_on = target;
    u->drawn_w = target ? target->w : 0;
    u->drawn_h = target ? target->h : 0;
    u->cur = !u->cur;
}

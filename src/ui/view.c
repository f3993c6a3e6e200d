/* view.c - the frame of every screen (the bar, the timeout dialog), the
 * message screens, and the helpers the view's files share (view_int.h). */
#include "ui/view_int.h"

#include <stdio.h>
#include <string.h>

#include "ui/strings.h"

/* Without a measure (no fonts yet), a CJK character is taken as 1 em and
 * anything else as 0.6 em: a little wide, so an estimate errs towards room. */
static int view_estimate_lines(const char *text, int px, int width)
{
    const unsigned char *u = (const unsigned char *)text;
    long line = 0, lines = 1, em = px, narrow = px * 6 / 10;

    for (; *u; u++) {
        long adv;
        if ((*u & 0xC0) == 0x80)
            continue;
        adv = *u >= 0xE0 ? em : narrow;
        if (line + adv > width) {
            lines++;
            line = 0;
        }
        line += adv;
    }
    return (int)lines;
}

int view_lines(const view_ctx *x, const char *text, int px, bool bold, int width)
{
    int n = 0;

    if (text == NULL || text[0] == '\0')
        return 0;
    if (x->in->measure)
        n = x->in->measure(x->in->measure_ud, text, px, bold, width);
    if (n <= 0)
        n = view_estimate_lines(text, px, width);
    return n;
}

ui_text *view_text(view_ctx *x, ui_text_role role, ui_rect r, const char *text,
                   int px, bool bold, ui_align align, uint32_t rgb, uint32_t bg)
{
    ui_view *v = x->v;
    ui_text *t;

    if (text == NULL || text[0] == '\0' || v->n_texts >= UI_MAX_TEXTS)
        return NULL;
    t = &v->texts[v->n_texts++];
    *t = (ui_text){ role, r, text, px, bold, align, rgb, bg, false };
    return t;
}

/* The face of each kind of widget and its words, at least 7:1 apart.
 * Cancel is white with a dark frame: a way out, never mistaken for the
 * language button or for a step forward. */
static const uint32_t view_widget_rgb[W__LAST] = {
    [W_KEY_DIGIT] = UI_RGB_KEY, [W_KEY_BACK] = UI_RGB_BACK, [W_KEY_OK] = UI_RGB_OK,
    [W_BTN_CANCEL] = UI_RGB_BG, [W_BTN_LANG] = UI_RGB_BAR_BUTTON, [W_BTN_CONTINUE] = UI_RGB_OK,
    [W_BTN_REQUEUE] = UI_RGB_KEY, [W_BTN_EXIT] = UI_RGB_BACK,
    [W_BTN_FORGOT] = UI_RGB_BAR_BUTTON, [W_BTN_RESET] = UI_RGB_OK, [W_BTN_DONE] = UI_RGB_OK,
    [W_BTN_REPEAT] = UI_RGB_BAR_BUTTON,
};
static const uint32_t view_widget_text_rgb[W__LAST] = {
    [W_KEY_DIGIT] = UI_RGB_KEY_TEXT, [W_KEY_BACK] = UI_RGB_KEY_TEXT, [W_KEY_OK] = UI_RGB_KEY_TEXT,
    [W_BTN_CANCEL] = UI_RGB_TEXT, [W_BTN_LANG] = UI_RGB_KEY_TEXT, [W_BTN_CONTINUE] = UI_RGB_KEY_TEXT,
    [W_BTN_REQUEUE] = UI_RGB_KEY_TEXT, [W_BTN_EXIT] = UI_RGB_KEY_TEXT,
    [W_BTN_FORGOT] = UI_RGB_KEY_TEXT, [W_BTN_RESET] = UI_RGB_KEY_TEXT, [W_BTN_DONE] = UI_RGB_KEY_TEXT,
    [W_BTN_REPEAT] = UI_RGB_KEY_TEXT,
};

ui_widget *view_widget(view_ctx *x, const char *id, ui_widget_kind kind, ui_rect r,
                       const char *label, bool enabled)
{
    ui_view *v = x->v;
    ui_widget *w;

    if (v->n_widgets >= UI_MAX_WIDGETS)
        return NULL;
    w = &v->widgets[v->n_widgets++];
    memset(w, 0, sizeof *w);
    snprintf(w->id, sizeof w->id, "%s", id);
    w->kind = kind;
    w->r = r;
    w->label = label;
    w->enabled = enabled;
    w->rgb = view_widget_rgb[kind];
    return w;
}

void view_button(view_ctx *x, const char *id, ui_widget_kind kind, ui_rect r, const char *label, int px)
{
    ui_text *t = NULL;

    if (view_widget(x, id, kind, r, label, true))
        t = view_text(x, TXT_KEY, r, label, px, true, ALIGN_CENTER, view_widget_text_rgb[kind], view_widget_rgb[kind]);
    if (t)
        t->top = kind == W_BTN_CONTINUE;
}

static void view_bar(view_ctx *x, const core *c, int bar_h)
{
    ui_view *v = x->v;
    int pad = sc(x, 8) > 6 ? sc(x, 8) : 6;
    int bw = sc(x, 240) > 150 ? sc(x, 240) : 150;
    int px = sc(x, TYPE_SMALL) > 24 ? sc(x, TYPE_SMALL) : 24;
    ui_rect lang = { v->w - x->m - bw, pad, bw, bar_h - 2 * pad };
    /* The voice's "hear again", beside the language: both are about how the
     * screen reaches the citizen. Cancel is not up here: it sits with the
     * content (view_pin.c, the foot of a message screen), where the hand
     * already is. */
    ui_rect repeat = { lang.x - x->m - bw, pad, bw, bar_h - 2 * pad };

    view_text(x, TXT_BAR, (ui_rect){ x->m, pad, repeat.x - 2 * x->m, bar_h - 2 * pad },
              str_get(S_APP_TITLE, c->lang), px, true, ALIGN_LEFT, UI_RGB_BAR_TEXT, UI_RGB_BAR);
    view_button(x, "btn.lang", W_BTN_LANG, lang, str_get(S_BTN_LANG, c->lang), px);
    view_button(x, "btn.repeat", W_BTN_REPEAT, repeat, str_get(S_BTN_REPEAT, c->lang), px);
}

int view_stack(view_ctx *x, ui_rect col, int y, ui_text_role role, const char *text,
               int px, bool bold, int min_lines, ui_align align, uint32_t rgb)
{
    int lines = view_lines(x, text, px, bold, col.w);
    ui_rect r = { col.x, y, col.w, line_h(px, lines > min_lines ? lines : min_lines) };

    if (text == NULL || text[0] == '\0')
        return y;
    view_text(x, role, r, text, px, bold, align, rgb, UI_RGB_BG);
    return y + r.h + x->m / 2;
}

int view_info(view_ctx *x, const core *c, ui_rect col, int y, ui_align align)
{
    ui_view *v = x->v;
    const char *card = x->in->card_masked;
    int px = sc(x, TYPE_INFO);

    if (card == NULL || card[0] == '\0')
        return y;
    snprintf(v->buf_card, sizeof v->buf_card, str_get(S_CARD_LABEL, c->lang), card);
    if (c->holder[0] != '\0') {
        char holder[96];
        snprintf(holder, sizeof holder, str_get(S_HOLDER_LABEL, c->lang), c->holder);
        snprintf(v->buf_holder, sizeof v->buf_holder, "%s    %s", v->buf_card, holder);
        return view_stack(x, col, y, TXT_INFO, v->buf_holder, px, false, 1, align, UI_RGB_MUTED);
    }
    return view_stack(x, col, y, TXT_INFO, v->buf_card, px, false, 1, align, UI_RGB_MUTED);
}

/* The words' colours and where they start in each kind of box: a notice
 * leaves room for its thick warning edge on the left. */
static void view_box_style(const view_ctx *x, ui_box_kind kind, int *indent, uint32_t *rgb, uint32_t *bg)
{
    int pad = sc(x, 16);
    *indent = kind == BOX_NOTICE ? 3 * pad : 2 * pad;
    *rgb = kind == BOX_NOTICE ? UI_RGB_NOTICE : kind == BOX_INFO ? UI_RGB_INFO : UI_RGB_TEXT;
    *bg = kind == BOX_NOTICE ? UI_RGB_NOTICE_BG : kind == BOX_INFO ? UI_RGB_INFO_BG : UI_RGB_PANEL_BG;
}

int view_box_h(const view_ctx *x, ui_box_kind kind, int w, const char *title, int title_px,
               const char *text, int px)
{
    int pad = sc(x, 16), indent, inner;
    uint32_t rgb, bg;

    view_box_style(x, kind, &indent, &rgb, &bg);
    inner = w - indent - 2 * pad;
    return 2 * pad + line_h(title_px, view_lines(x, title, title_px, true, inner)) +
           line_h(px, view_lines(x, text, px, true, inner));
}

int view_box(view_ctx *x, ui_box_kind kind, ui_rect col, int y, const char *title, int title_px,
             const char *text, int px)
{
    ui_view *v = x->v;
    int pad = sc(x, 16), indent, th;
    uint32_t rgb, bg;
    ui_rect box = { col.x, y, col.w, view_box_h(x, kind, col.w, title, title_px, text, px) };

    if ((text == NULL || text[0] == '\0') && (title == NULL || title[0] == '\0'))
        return y;
    if (v->n_boxes >= UI_MAX_BOXES)
        return y;
    view_box_style(x, kind, &indent, &rgb, &bg);
    v->boxes[v->n_boxes++] = (ui_box){ kind, box };
    th = line_h(title_px, view_lines(x, title, title_px, true, box.w - indent - 2 * pad));
    view_text(x, TXT_NOTICE, (ui_rect){ box.x + indent, box.y + pad, box.w - indent - 2 * pad, th },
              title, title_px, true, ALIGN_LEFT, rgb, bg);
    view_text(x, TXT_NOTICE, (ui_rect){ box.x + indent, box.y + pad + th, box.w - indent - 2 * pad,
                                        box.h - 2 * pad - th },
              text, px, true, ALIGN_LEFT, rgb, bg);
    return y + box.h + x->m / 2;
}

/* A message screen's foot: its one action (the reset's) and cancel where
 * cancel can do something, centred; returns the column above them. */
static ui_rect view_message_foot(view_ctx *x, const core *c, ui_rect msg, bool forgot)
{
    bool done = !forgot && c->state != ST_RESET_OFFER && ui_care_done_button(c);
    bool action = forgot || c->state == ST_RESET_OFFER || done, cancel = core_can_cancel(c);
    int bh = sc(x, 130), gap = x->m;
    int aw = action ? (msg.w < sc(x, 640) ? msg.w : sc(x, 640)) : 0;
    int cw = cancel ? sc(x, 300) : 0;
    int left;

    if (!action && !cancel)
        return msg;
    if (action && cancel && aw + gap + cw > msg.w)
        aw = msg.w - gap - cw;
    left = msg.x + (msg.w - aw - cw - (action && cancel ? gap : 0)) / 2;
    if (action)
        view_button(x, done ? "btn.done" : forgot ? "btn.forgot" : "btn.reset",
                    done ? W_BTN_DONE : forgot ? W_BTN_FORGOT : W_BTN_RESET,
                    (ui_rect){ left, msg.y + msg.h - bh, aw, bh },
                    str_get(done ? S_BTN_DONE : forgot ? S_BTN_FORGOT : S_BTN_RESET, c->lang), sc(x, TYPE_BUTTON));
    if (cancel)
        view_button(x, "btn.cancel", W_BTN_CANCEL, (ui_rect){ left + aw + (action ? gap : 0), msg.y + msg.h - bh, cw, bh },
                    str_get(S_BTN_CANCEL, c->lang), sc(x, TYPE_BUTTON));
    msg.h -= bh + x->m / 2;
    return msg;
}

/* IDLE: what to know before starting, in a quiet panel (not a warning):
 * which PIN is the initial one, which PIN this is, that tries are few. */
static int view_idle_notes(view_ctx *x, const core *c, ui_rect msg, int y)
{
    ui_view *v = x->v;
    int pad = sc(x, 16), px = sc(x, TYPE_SMALL), h = 2 * pad;
    int w = msg.w < sc(x, 1400) ? msg.w : sc(x, 1400);
    ui_rect box = { msg.x + (msg.w - w) / 2, y, w, 0 };
    int inner = w - 4 * pad, n = 0, ty;
    const str_id ids[] = { S_IDLE_INITIAL, S_IDLE_WHICH_PIN, S_IDLE_TRIES };

    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        if (ids[i] == S_IDLE_INITIAL && c->cfg.n_initial < 1)
            continue;
        snprintf(v->buf_idle[n], sizeof v->buf_idle[n], "• %s", str_get(ids[i], c->lang));
        if (ids[i] == S_IDLE_INITIAL) {
            char line[sizeof v->buf_idle[n]];
            snprintf(line, sizeof line, v->buf_idle[n], c->cfg.initial[0]);
            snprintf(v->buf_idle[n], sizeof v->buf_idle[n], "%s", line);
        }
        h += line_h(px, view_lines(x, v->buf_idle[n], px, false, inner));
        n++;
    }
    if (n == 0 || v->n_boxes >= UI_MAX_BOXES)
        return y;
    box.h = h;
    v->boxes[v->n_boxes++] = (ui_box){ BOX_PLAIN, box };
    ty = box.y + pad;
    for (int i = 0; i < n; i++) {
        int th = line_h(px, view_lines(x, v->buf_idle[i], px, false, inner));
        view_text(x, TXT_BODY, (ui_rect){ box.x + 2 * pad, ty, inner, th }, v->buf_idle[i], px, false, ALIGN_LEFT,
                  UI_RGB_TEXT, UI_RGB_PANEL_BG);
        ty += th;
    }
    return y + box.h + x->m / 2;
}

static void view_care_figure(view_ctx *x, const core *c, ui_rect msg, int y);

static void view_message_screen(view_ctx *x, const core *c, ui_rect msg)
{
    ui_view *v = x->v;
    int y = msg.y + x->m;
    const char *body = ui_care_body(c, str_body(c->state, c->notice, c->lang));
    bool forgot = core_can_forget(c); /* a card blocked by wrong PINs */

    if (forgot)
        body = str_get(S_BLOCKED_CAN_RESET, c->lang);
    msg = view_message_foot(x, c, msg, forgot);

    y = view_info(x, c, msg, y, ALIGN_CENTER);
    /* A card left behind: the reminder takes the heading's place, the
     * strongest words on the screen; the body still says why. */
    y = view_stack(x, msg, y, TXT_HEADING,
                   ui_care_reminder(c) ? ui_care_reminder(c) : str_heading_for(c->state, c->notice, c->lang),
                   sc(x, TYPE_LARGE), true, 1, ALIGN_CENTER, UI_RGB_TEXT);
    if (c->state == ST_IDLE && c->notice != NT_NONE) {
        /* Back at the start after a card was pulled: say what happened. */
        y = view_box(x, BOX_NOTICE, msg, y, NULL, 0, ui_care_body(c, str_body(c->state, c->notice, c->lang)),
                     sc(x, TYPE_BUTTON));
        body = ui_care_done_button(c) ? NULL : str_body(c->state, NT_NONE, c->lang);
    }
    y = view_stack(x, msg, y, TXT_BODY, body, sc(x, TYPE_BODY), false, 1, ALIGN_CENTER, UI_RGB_TEXT);
    if (c->state == ST_IDLE && !ui_care_done_button(c))
        y = view_idle_notes(x, c, msg, y);
    y = view_stack(x, msg, y, TXT_INFO, ui_care_station(v, c, x->in), sc(x, TYPE_INFO), false, 1, ALIGN_CENTER,
                   UI_RGB_MUTED);
    view_care_figure(x, c, msg, y);
}

/* The picture of an outcome, or the sign of life of a wait, in what is
 * left of the column under the words. */
static void view_care_figure(view_ctx *x, const core *c, ui_rect msg, int y)
{
    ui_view *v = x->v;
    int bottom = msg.y + msg.h;

    if (ui_care_picture(c) != UI_PIC_NONE) {
        /* Big enough to read at arm's length, small enough to rasterise fast. */
        int ph = bottom - y < sc(x, 420) ? bottom - y : sc(x, 420), pw = ph * 3 / 2;
        if (pw > msg.w) {
            pw = msg.w;
            ph = pw * 2 / 3;
        }
        if (ph > sc(x, 60)) {
            v->show_picture = true;
            v->picture_id = ui_care_picture(c);
            v->picture = (ui_rect){ msg.x + (msg.w - pw) / 2, y + (bottom - y - ph) / 2, pw, ph };
        }
    } else if (ui_care_spinner(c)) {
        int d = bottom - y < sc(x, 180) ? bottom - y : sc(x, 180);
        if (d > sc(x, 40)) {
            v->show_spinner = true;
            v->spinner = (ui_rect){ msg.x + (msg.w - d) / 2, y + (bottom - y - d) / 2, d, d };
        }
    }
}

static void view_warning(view_ctx *x, const core *c)
{
    ui_view *v = x->v;
    int px = sc(x, TYPE_BUTTON);
    int pad = sc(x, 32);
    int bw = sc(x, 420), bh = sc(x, 120);
    int dw = v->w - 4 * x->m < sc(x, 1100) ? v->w - 4 * x->m : sc(x, 1100);
    int dh = line_h(px, 2) + bh + 3 * pad;
    ui_rect d = { (v->w - dw) / 2, (v->h - dh) / 2, dw, dh };

    if (v->n_boxes < UI_MAX_BOXES)
        v->boxes[v->n_boxes++] = (ui_box){ BOX_DIALOG, d };
    str_fmt(v->buf_warning, sizeof v->buf_warning, S_WARNING, c->lang, core_warning_seconds_left(c));
    ui_text *t = view_text(x, TXT_WARNING, (ui_rect){ d.x + pad, d.y + pad, d.w - 2 * pad, line_h(px, 2) },
                           v->buf_warning, px, true, ALIGN_CENTER, UI_RGB_TEXT, UI_RGB_BG);
    if (t)
        t->top = true;
    view_button(x, "btn.continue", W_BTN_CONTINUE,
                (ui_rect){ d.x + (d.w - bw) / 2, d.y + d.h - pad - bh, bw, bh },
                str_get(S_BTN_CONTINUE, c->lang), sc(x, TYPE_BUTTON));
}

void ui_view_build(ui_view *v, const core *c, const ui_view_input *in)
{
    view_ctx x;
    int short_side = in->w < in->h ? in->w : in->h;
    int bar_h;
    ui_rect content;

    memset(v, 0, sizeof *v);
    v->w = in->w;
    v->h = in->h;
    v->portrait = in->h > in->w;
    x.v = v;
    x.in = in;
    x.s = short_side / 1080.0;
    x.m = sc(&x, 40);
    bar_h = sc(&x, 100) > 84 ? sc(&x, 100) : 84;

    v->bar = (ui_rect){ 0, 0, v->w, bar_h };
    view_bar(&x, c, bar_h);
    content = (ui_rect){ x.m, bar_h + x.m, v->w - 2 * x.m, v->h - bar_h - 2 * x.m };
    if (core_state_has_keypad(c->state)) {
        ui_rect msg, pad;
        if (v->portrait) {
            int pad_h = content.h * 46 / 100;
            msg = (ui_rect){ content.x, content.y, content.w, content.h - pad_h - x.m };
            pad = (ui_rect){ content.x, content.y + content.h - pad_h, content.w, pad_h };
        } else {
            /* The words get a little more than half: the keys stay over
             * 240 px wide at 1080, and a heading or a warning wraps less. */
            int msg_w = content.w * 55 / 100;
            msg = (ui_rect){ content.x, content.y, msg_w, content.h };
            pad = (ui_rect){ content.x + msg_w + x.m, content.y, content.w - msg_w - x.m, content.h };
        }
        view_pin_screen(&x, c, msg, pad);
    } else if (c->state == ST_SERVICE) {
        view_service_screen(&x, c, content);
    } else {
        view_message_screen(&x, c, content);
    }
    if (c->notice == NT_TIMEOUT_WARNING)
        view_warning(&x, c);
}

static bool view_inside(const ui_rect *r, int x, int y)
{
    return x >= r->x && x < r->x + r->w && y >= r->y && y < r->y + r->h;
}

int ui_view_hit(const ui_view *v, int x, int y)
{
    int hit = -1;

    /* While the "are you still there?" dialog shows, any touch answers it:
     * whoever touches the screen is there, and a dimmed key must not type. */
    for (int i = 0; i < v->n_boxes; i++)
        if (v->boxes[i].kind == BOX_DIALOG)
            return ui_view_find(v, "btn.continue");
    /* Last added is on top. */
    for (int i = v->n_widgets - 1; i >= 0 && hit < 0; i--) {
        const ui_widget *w = &v->widgets[i];
        if (w->enabled && view_inside(&w->r, x, y))
            hit = i;
    }
    return hit;
}

int ui_view_find(const ui_view *v, const char *id)
{
    for (int i = 0; i < v->n_widgets; i++)
        if (strcmp(v->widgets[i].id, id) == 0)
            return i;
    return -1;
}

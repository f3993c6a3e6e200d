#include "ui/view.h"

#include <stdio.h>
#include <string.h>

#include "ui/strings.h"

/* Sizes are designed at 1080 pixels on the short side and scaled by
 * short/1080: on the 21.5-inch 1920x1080 panel (about 4.0 px/mm) a keypad
 * key is at least 200 px (50 mm) tall; the smallest button, in the top bar,
 * is 84 px (21 mm). Below 1080 the bar keeps a floor so its buttons stay
 * finger-sized. */
#define LINE_FACTOR 1.5 /* line height / font size; Noto CJK's line skip is 1.45 */

/* The type scale, in pixels at 1080. Few sizes on purpose: each size is a
 * font opened and a glyph cache kept, which costs start-up time and memory. */
enum {
    TYPE_INFO = 32,    /* regular: card number and holder */
    TYPE_SMALL = 36,   /* bold: the bar, notices */
    TYPE_BODY = 40,    /* regular: what to do */
    TYPE_BUTTON = 44,  /* bold: button words, the warning */
    TYPE_HEADING = 60, /* bold: the heading beside a keypad */
    TYPE_LARGE = 72,   /* bold: digits on keys, headings on full-width screens */
};

static const char *const view_digit_labels[10] = { "0", "1", "2", "3", "4", "5", "6", "7", "8", "9" };

typedef struct {
    ui_view *v;
    double s; /* scale */
    int m;    /* margin */
} view_ctx;

static int sc(const view_ctx *x, double px)
{
    return (int)(px * x->s + 0.5);
}

static int line_h(int px, int lines)
{
    return (int)(px * LINE_FACTOR + 0.999) * lines;
}

static ui_text *view_text(view_ctx *x, ui_text_role role, ui_rect r, const char *text,
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

/* The face of each kind of widget; white text on each is at least 7:1. */
static const uint32_t view_widget_rgb[W__LAST] = {
    [W_KEY_DIGIT] = UI_RGB_KEY, [W_KEY_BACK] = UI_RGB_BACK, [W_KEY_OK] = UI_RGB_OK,
    [W_BTN_CANCEL] = UI_RGB_BAR_BUTTON, [W_BTN_LANG] = UI_RGB_BAR_BUTTON, [W_BTN_CONTINUE] = UI_RGB_OK,
    [W_BTN_REQUEUE] = UI_RGB_KEY, [W_BTN_EXIT] = UI_RGB_BACK,
    [W_BTN_FORGOT] = UI_RGB_BAR_BUTTON, [W_BTN_RESET] = UI_RGB_OK, [W_BTN_DONE] = UI_RGB_OK,
};

static ui_widget *view_widget(view_ctx *x, const char *id, ui_widget_kind kind, ui_rect r,
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

/* A button is a widget with its label as a centred text of the same box. */
static void view_button(view_ctx *x, const char *id, ui_widget_kind kind, ui_rect r,
                        const char *label, int px)
{
    ui_text *t = NULL;

    if (view_widget(x, id, kind, r, label, true))
        t = view_text(x, TXT_KEY, r, label, px, true, ALIGN_CENTER, UI_RGB_KEY_TEXT, view_widget_rgb[kind]);
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
    ui_rect cancel = { lang.x - x->m - bw, pad, bw, bar_h - 2 * pad };
    int title_right = core_can_cancel(c) ? cancel.x : lang.x;

    view_text(x, TXT_BAR, (ui_rect){ x->m, pad, title_right - 2 * x->m, bar_h - 2 * pad },
              str_get(S_APP_TITLE, c->lang), px, true, ALIGN_LEFT, UI_RGB_BAR_TEXT, UI_RGB_BAR);
    view_button(x, "btn.lang", W_BTN_LANG, lang, str_get(S_BTN_LANG, c->lang), px);
    if (core_can_cancel(c))
        view_button(x, "btn.cancel", W_BTN_CANCEL, cancel, str_get(S_BTN_CANCEL, c->lang), px);
}

static void view_keypad(view_ctx *x, const core *c, const ui_view_input *in, ui_rect area)
{
    int g = sc(x, 16);
    int kw = (area.w - 2 * g) / 3, kh = (area.h - 3 * g) / 4;
    int px = sc(x, TYPE_LARGE), small = sc(x, TYPE_BUTTON);
    /* 1 2 3 / 4 5 6 / 7 8 9 / back 0 ok: the telephone layout people know. */
    for (int i = 0; i < 12; i++) {
        ui_rect r = { area.x + (i % 3) * (kw + g), area.y + (i / 3) * (kh + g), kw, kh };
        char id[16];
        if (i == 9) {
            view_button(x, "key.back", W_KEY_BACK, r, str_get(S_KEY_BACK, c->lang), small);
        } else if (i == 11) {
            view_button(x, "key.ok", W_KEY_OK, r, str_get(S_KEY_OK, c->lang), small);
        } else {
            int d = in->keypad_order[i == 10 ? 9 : i];
            ui_widget *w;
            snprintf(id, sizeof id, "key.%d", d);
            w = view_widget(x, id, W_KEY_DIGIT, r, view_digit_labels[d], true);
            if (w) {
                w->digit = d;
                view_text(x, TXT_KEY, r, view_digit_labels[d], px, true, ALIGN_CENTER, UI_RGB_KEY_TEXT, UI_RGB_KEY);
            }
        }
    }
}

/* The notice of a keypad screen, with its count filled in. */
static const char *view_pin_notice(ui_view *v, const core *c)
{
    switch (c->notice) {
    case NT_NONE:
    case NT_TIMEOUT_WARNING:
        return NULL;
    case NT_WRONG_PIN:
        if (c->tries_left == 1 && c->state == ST_ENTER_OLD_PIN)
            return str_get(S_WRONG_PIN_PLAIN, c->lang); /* the hint says "last try" */
        if (c->tries_left == 1)
            return str_get(S_WRONG_PIN_LAST, c->lang);
        if (c->tries_left > 1)
            return str_fmt(v->buf_notice, sizeof v->buf_notice, S_WRONG_PIN_COUNT, c->lang, c->tries_left);
        return str_get(S_WRONG_PIN_PLAIN, c->lang);
    case NT_PIN_WRONG_LENGTH:
        return str_fmt(v->buf_notice, sizeof v->buf_notice, S_WRONG_LENGTH, c->lang,
                       c->state == ST_ENTER_RESET_CODE ? CORE_CODE_LEN : c->cfg.pin_length);
    case NT_CODE_WRONG:
        if (c->attempts_left > 0)
            return str_fmt(v->buf_notice, sizeof v->buf_notice, S_CODE_WRONG_COUNT, c->lang, c->attempts_left);
        return str_body(c->state, c->notice, c->lang);
    default:
        return str_body(c->state, c->notice, c->lang);
    }
}

static const char *view_hint(ui_view *v, const core *c)
{
    if (c->state == ST_SERVICE_CODE)
        return str_get(S_CODE_HINT, c->lang);
    if (c->state == ST_ENTER_RESET_CODE) {
        char valid[128];
        int minutes = c->reset_expires_s > 0 ? (c->reset_expires_s + 59) / 60 : 5;
        str_fmt(valid, sizeof valid, S_CODE_VALID, c->lang, minutes);
        snprintf(v->buf_hint, sizeof v->buf_hint, str_get(S_CODE_SENT, c->lang), c->phone);
        snprintf(v->buf_hint + strlen(v->buf_hint), sizeof v->buf_hint - strlen(v->buf_hint), "%s%s",
                 c->lang == LANG_ZH ? "，" : ". ", valid);
        return v->buf_hint;
    }
    /* On the last try the warning is the hint itself, so that no other
     * notice (a PIN too short, say) can take it off the screen. */
    if (c->state == ST_ENTER_OLD_PIN && c->tries_left == 1)
        return str_get(S_LAST_TRY, c->lang);
    str_id id = c->state == ST_ENTER_OLD_PIN ? S_PIN_HINT_OLD
              : c->state == ST_ENTER_NEW_PIN ? S_PIN_HINT_NEW : S_PIN_HINT_CONFIRM;
    return str_fmt(v->buf_hint, sizeof v->buf_hint, id, c->lang, c->cfg.pin_length);
}

/* Stacks texts top-down in `col`; returns the y below the last. */
static int view_stack(view_ctx *x, ui_rect col, int y, ui_text_role role, const char *text,
                      int px, bool bold, int lines, ui_align align, uint32_t rgb)
{
    ui_rect r = { col.x, y, col.w, line_h(px, lines) };
    if (text == NULL || text[0] == '\0')
        return y;
    view_text(x, role, r, text, px, bold, align, rgb, UI_RGB_BG);
    return y + r.h + x->m / 2;
}

static int view_info(view_ctx *x, const core *c, const ui_view_input *in, ui_rect col, int y, ui_align align)
{
    ui_view *v = x->v;
    int px = sc(x, TYPE_INFO);

    if (in->card_masked == NULL || in->card_masked[0] == '\0')
        return y;
    snprintf(v->buf_card, sizeof v->buf_card, str_get(S_CARD_LABEL, c->lang), in->card_masked);
    if (c->holder[0] != '\0') {
        char holder[96];
        snprintf(holder, sizeof holder, str_get(S_HOLDER_LABEL, c->lang), c->holder);
        snprintf(v->buf_holder, sizeof v->buf_holder, "%s    %s", v->buf_card, holder);
        return view_stack(x, col, y, TXT_INFO, v->buf_holder, px, false, 1, align, UI_RGB_MUTED);
    }
    return view_stack(x, col, y, TXT_INFO, v->buf_card, px, false, 1, align, UI_RGB_MUTED);
}

static void view_notice_box(view_ctx *x, ui_rect col, int y, const char *text, int px)
{
    ui_view *v = x->v;
    int pad = sc(x, 16);
    ui_rect box = { col.x, y, col.w, line_h(px, 3) + 2 * pad };

    if (text == NULL || v->n_boxes >= UI_MAX_BOXES)
        return;
    v->boxes[v->n_boxes++] = (ui_box){ BOX_NOTICE, box };
    /* The thick edge on the left marks it as a warning without relying on
     * its colour; the words say what is wrong. */
    view_text(x, TXT_NOTICE, (ui_rect){ box.x + 3 * pad, box.y + pad, box.w - 4 * pad, box.h - 2 * pad },
              text, px, true, ALIGN_LEFT, UI_RGB_NOTICE, UI_RGB_NOTICE_BG);
}

static void view_pin_screen(view_ctx *x, const core *c, const ui_view_input *in, ui_rect msg, ui_rect pad)
{
    ui_view *v = x->v;
    int y = msg.y;
    int dot_h = sc(x, 56);

    if (c->state != ST_SERVICE_CODE) /* a technician's screen: no citizen's card on it */
        y = view_info(x, c, in, msg, y, ALIGN_LEFT);
    y = view_stack(x, msg, y, TXT_HEADING, str_heading(c->state, c->lang), sc(x, TYPE_HEADING), true, 2,
                   ALIGN_LEFT, UI_RGB_TEXT);
    y = view_stack(x, msg, y, TXT_BODY, view_hint(v, c), sc(x, TYPE_BODY), false, 3, ALIGN_LEFT, UI_RGB_TEXT);
    v->show_dots = true;
    v->dots = (ui_rect){ msg.x, y, msg.w, dot_h };
    /* A technician code has no set length: the dots grow with it. */
    v->dots_total = c->state == ST_ENTER_RESET_CODE ? CORE_CODE_LEN
                  : c->state != ST_SERVICE_CODE ? c->cfg.pin_length
                  : c->entry_len > 6 ? c->entry_len : 6;
    v->dots_filled = c->entry_len;
    y += dot_h + x->m;
    view_notice_box(x, msg, y, view_pin_notice(v, c), sc(x, TYPE_SMALL));
    if (core_can_forget(c)) {
        /* Under the notice, at the foot of the column: found without being
         * in the way of the digits. */
        int bh = sc(x, 110), bw = msg.w < sc(x, 420) ? msg.w : sc(x, 420);
        view_button(x, "btn.forgot", W_BTN_FORGOT, (ui_rect){ msg.x, msg.y + msg.h - bh, bw, bh },
                    str_get(S_BTN_FORGOT, c->lang), sc(x, TYPE_BUTTON));
    }
    view_keypad(x, c, in, pad);
}

/* The one action a message screen offers (the reset's), centred at its foot. */
static void view_action(view_ctx *x, ui_rect msg, const char *id, ui_widget_kind kind, const char *label)
{
    int bh = sc(x, 130), bw = msg.w < sc(x, 640) ? msg.w : sc(x, 640);
    view_button(x, id, kind, (ui_rect){ msg.x + (msg.w - bw) / 2, msg.y + msg.h - bh, bw, bh }, label,
                sc(x, TYPE_BUTTON));
}

static void view_care_figure(view_ctx *x, const core *c, ui_rect msg, int y);

static void view_message_screen(view_ctx *x, const core *c, const ui_view_input *in, ui_rect msg)
{
    ui_view *v = x->v;
    int y = msg.y + x->m;
    const char *body = ui_care_body(c, str_body(c->state, c->notice, c->lang));
    bool forgot = core_can_forget(c); /* a card blocked by wrong PINs */

    if (forgot)
        body = str_get(S_BLOCKED_CAN_RESET, c->lang);
    if (forgot || c->state == ST_RESET_OFFER) {
        view_action(x, msg, forgot ? "btn.forgot" : "btn.reset", forgot ? W_BTN_FORGOT : W_BTN_RESET,
                    str_get(forgot ? S_BTN_FORGOT : S_BTN_RESET, c->lang));
        msg.h -= sc(x, 130) + x->m / 2;
    } else if (ui_care_done_button(c)) {
        view_action(x, msg, "btn.done", W_BTN_DONE, str_get(S_BTN_DONE, c->lang));
        msg.h -= sc(x, 130) + x->m / 2;
    }

    y = view_info(x, c, in, msg, y, ALIGN_CENTER);
    /* A card left behind: the reminder takes the heading's place, the
     * strongest words on the screen; the body still says why. */
    y = view_stack(x, msg, y, TXT_HEADING, ui_care_reminder(c) ? ui_care_reminder(c) : str_heading(c->state, c->lang),
                   sc(x, TYPE_LARGE), true, 2, ALIGN_CENTER, UI_RGB_TEXT);
    if (c->state == ST_IDLE && c->notice != NT_NONE) {
        /* Back at the start after a card was pulled: say what happened. */
        view_notice_box(x, msg, y, ui_care_body(c, str_body(c->state, c->notice, c->lang)), sc(x, TYPE_SMALL));
        y += line_h(sc(x, TYPE_SMALL), 3) + sc(x, 32) + x->m / 2;
        body = ui_care_done_button(c) ? NULL : str_body(c->state, NT_NONE, c->lang);
    }
    y = view_stack(x, msg, y, TXT_BODY, body, sc(x, TYPE_BODY), false, 4, ALIGN_CENTER, UI_RGB_TEXT);
    y = view_stack(x, msg, y, TXT_INFO, ui_care_station(v, c, in), sc(x, TYPE_INFO), false, 2, ALIGN_CENTER,
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

/* "label  value" lines, one per figure, in the order a technician reads
 * them: what this is, what it talks to, what waits, how it is. */
static int view_service_lines(ui_view *v, const core *c, const ui_service_info *si)
{
    const char *none = str_get(S_SV_NONE, c->lang);
    const str_id bureau_ids[] = { [UI_BUREAU_UNKNOWN] = S_SV_BUREAU_UNKNOWN,
                                  [UI_BUREAU_OK] = S_SV_BUREAU_OK, [UI_BUREAU_DOWN] = S_SV_BUREAU_DOWN };
    char n1[32], n2[128], n3[32], n4[48];
    int n = 0;

#define LINE(id, fmt, ...) \
    snprintf(v->buf_service[n++], sizeof v->buf_service[0], "%s   " fmt, str_get(id, c->lang), __VA_ARGS__)
    snprintf(n1, sizeof n1, si->outbox_depth >= 0 ? "%ld" : "?", si->outbox_depth);
    snprintf(n2, sizeof n2, si->dead_letters >= 0 ? "%ld" : "?", si->dead_letters);
    if (si->unmovable > 0) {
        size_t used = strlen(n2);
        str_fmt(n2 + used, sizeof n2 - used, S_SV_UNMOVABLE, c->lang,
                si->unmovable > 999999 ? 999999 : (int)si->unmovable);
    }
    snprintf(n3, sizeof n3, "%ldd %02ld:%02ld:%02ld", si->uptime_s / 86400, si->uptime_s / 3600 % 24,
             si->uptime_s / 60 % 60, si->uptime_s % 60);
    if (si->disk_free_kb >= 1024LL * 1024)
        snprintf(n4, sizeof n4, "%.1f GiB", (double)si->disk_free_kb / (1024.0 * 1024.0));
    else if (si->disk_free_kb >= 0)
        snprintf(n4, sizeof n4, "%lld MiB", si->disk_free_kb / 1024);
    else
        snprintf(n4, sizeof n4, "?");
    LINE(S_SV_VERSION, "%s", si->version);
    LINE(S_SV_TERMINAL, "%s", si->terminal);
    LINE(S_SV_READER_USED, "%s", si->reader_used[0] ? si->reader_used : none);
    LINE(S_SV_READERS, "%s", si->readers[0] ? si->readers : none);
    LINE(S_SV_PROFILE, "%s", si->profile[0] ? si->profile : none);
    LINE(S_SV_BUREAU, "%s", str_get(bureau_ids[si->bureau <= UI_BUREAU_DOWN ? si->bureau : UI_BUREAU_UNKNOWN],
                                    c->lang));
    LINE(S_SV_LAST_ERROR, "%s", si->last_error[0] ? si->last_error : none);
    LINE(S_SV_OUTBOX, "%s", n1);
    LINE(S_SV_DEAD, "%s", n2);
    LINE(S_SV_UPTIME, "%s", n3);
    LINE(S_SV_DISK, "%s", n4);
    LINE(S_SV_STORAGE, "%s", si->storage[0] ? si->storage : str_get(S_SV_OK, c->lang));
#undef LINE
    return n;
}

static void view_service_screen(view_ctx *x, const core *c, const ui_view_input *in, ui_rect content)
{
    static const ui_service_info empty = { .outbox_depth = -1, .dead_letters = -1, .disk_free_kb = -1 };
    /* Lines each figure may take: reader names and error texts run long. */
    static const int lines_of[UI_SERVICE_LINES] = { 1, 1, 2, 3, 1, 1, 2, 1, 2, 1, 2, 3 };
    /* Landscape: the short figures (outbox, dead letters, uptime, free
     * space) on the right; a path in a disk error does not wrap, so that
     * one stays on the wide side. */
    static const bool right_of[UI_SERVICE_LINES] = { [7] = true, [8] = true, [9] = true, [10] = true };
    ui_view *v = x->v;
    const ui_service_info *si = in->service ? in->service : &empty;
    int px = sc(x, TYPE_INFO), bpx = sc(x, TYPE_SMALL), gap = sc(x, 24);
    int bh = sc(x, 120), n, y, y_right;
    ui_rect left, right, btn1, btn2;

    /* Landscape: who and what it talks to on the left; what waits, the
     * disk and the two buttons on the right. Portrait: one column. */
    if (v->portrait) {
        left = right = (ui_rect){ content.x, content.y, content.w, content.h - 2 * bh - 2 * gap };
        btn1 = (ui_rect){ content.x, content.y + content.h - 2 * bh - gap, content.w, bh };
    } else {
        int rw = content.w * 34 / 100;
        left = (ui_rect){ content.x, content.y, content.w - rw - x->m, content.h };
        right = (ui_rect){ content.x + content.w - rw, content.y, rw, content.h - 2 * bh - 2 * gap };
        btn1 = (ui_rect){ right.x, content.y + content.h - 2 * bh - gap, rw, bh };
    }
    btn2 = (ui_rect){ btn1.x, btn1.y + bh + gap, btn1.w, bh };
    y = view_stack(x, left, left.y, TXT_HEADING, str_heading(c->state, c->lang), sc(x, TYPE_HEADING), true, 1,
                   ALIGN_LEFT, UI_RGB_TEXT);
    y_right = v->portrait ? y : right.y + (y - left.y);
    n = view_service_lines(v, c, si);
    for (int i = 0; i < n; i++) {
        bool on_right = !v->portrait && right_of[i];
        ui_rect col = on_right ? right : left;
        int *yy = on_right ? &y_right : &y;
        ui_rect r = { col.x, *yy, col.w, line_h(px, lines_of[i]) };
        view_text(x, TXT_INFO, r, v->buf_service[i], px, false, ALIGN_LEFT, UI_RGB_TEXT, UI_RGB_BG);
        *yy += r.h + sc(x, 4);
        if (v->portrait)
            y_right = y;
    }
    str_fmt(v->buf_requeue, sizeof v->buf_requeue, S_BTN_REQUEUE, c->lang,
            si->dead_letters > 0 ? (int)si->dead_letters : 0);
    view_button(x, "btn.requeue", W_BTN_REQUEUE, btn1, v->buf_requeue, bpx);
    view_button(x, "btn.exit", W_BTN_EXIT, btn2, str_get(S_BTN_EXIT, c->lang), bpx);
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
            int msg_w = content.w * 50 / 100;
            msg = (ui_rect){ content.x, content.y, msg_w, content.h };
            pad = (ui_rect){ content.x + msg_w + x.m, content.y, content.w - msg_w - x.m, content.h };
        }
        view_pin_screen(&x, c, in, msg, pad);
    } else if (c->state == ST_SERVICE) {
        view_service_screen(&x, c, in, content);
    } else {
        view_message_screen(&x, c, in, content);
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

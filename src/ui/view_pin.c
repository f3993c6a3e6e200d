/* view_pin.c - the keypad screens: the old, new and repeated PIN, the
 * texted code and the technician code. Top down, what a citizen needs
 * there: where they are (the steps), what to do (heading, hint), what they
 * typed (dots), what happened (a box: a refusal, good news, the last try),
 * and the ways out (forgot PIN, cancel) at the foot, beside the keys.
 */
#include "ui/view_int.h"

#include <stdio.h>
#include <string.h>

#include "ui/strings.h"

static const char *const view_digit_labels[10] = { "0", "1", "2", "3", "4", "5", "6", "7", "8", "9" };

static void view_keypad(view_ctx *x, const core *c, ui_rect area)
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
            int d = x->in->keypad_order[i == 10 ? 9 : i];
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

/* On the last try the screen must stop the citizen: the warning is the
 * strongest thing on it, whatever other notice comes and goes. */
static bool view_last_try(const core *c)
{
    return c->state == ST_ENTER_OLD_PIN && c->tries_left == 1;
}

/* What the rules refuse, shown rather than described ("同一个数字" read as
 * "no digit may repeat"): the PIN length's own examples. */
static void view_examples(const core *c, char *same, char *up, char *down)
{
    int n = c->cfg.pin_length > 0 && c->cfg.pin_length <= PIN_MAX ? c->cfg.pin_length : 6;

    for (int i = 0; i < n; i++) {
        same[i] = '1';
        up[i] = (char)('0' + (1 + i) % 10);
        down[i] = (char)('0' + (n - i) % 10);
    }
    same[n] = up[n] = down[n] = '\0';
}

/* A refusal or a count, formatted; NULL when there is none (good news and
 * the last try have boxes of their own). */
static const char *view_pin_notice(ui_view *v, const core *c)
{
    char same[PIN_MAX + 1], up[PIN_MAX + 1], down[PIN_MAX + 1];

    switch (c->notice) {
    case NT_NONE:
    case NT_TIMEOUT_WARNING:
    case NT_ON_INITIAL_PIN:
    case NT_PIN_WAS_RESET:
        return NULL;
    case NT_WRONG_PIN:
        if (c->tries_left == 1 && c->state == ST_ENTER_OLD_PIN)
            return NULL; /* the last-try box says it */
        if (c->tries_left == 1)
            return str_get(S_WRONG_PIN_LAST, c->lang);
        if (c->tries_left > 1)
            return str_fmt(v->buf_notice, sizeof v->buf_notice, S_WRONG_PIN_COUNT, c->lang, c->tries_left);
        return str_get(S_WRONG_PIN_PLAIN, c->lang);
    case NT_PIN_WRONG_LENGTH:
        return str_fmt(v->buf_notice, sizeof v->buf_notice, S_WRONG_LENGTH, c->lang,
                       c->state == ST_ENTER_RESET_CODE ? CORE_CODE_LEN : c->cfg.pin_length);
    case NT_PIN_TOO_SIMPLE:
        view_examples(c, same, up, down);
        snprintf(v->buf_notice, sizeof v->buf_notice, str_get(S_TOO_SIMPLE_FMT, c->lang), same, up, down);
        return v->buf_notice;
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
    char same[PIN_MAX + 1], up[PIN_MAX + 1], down[PIN_MAX + 1];
    size_t used;

    if (c->state == ST_SERVICE_CODE)
        return str_get(S_CODE_HINT, c->lang);
    if (c->state == ST_ENTER_RESET_CODE) {
        char valid[128];
        int minutes = c->reset_expires_s > 0 ? (c->reset_expires_s + 59) / 60 : 5;
        str_fmt(valid, sizeof valid, S_CODE_VALID, c->lang, minutes);
        snprintf(v->buf_hint, sizeof v->buf_hint, str_get(S_CODE_SENT, c->lang), c->phone);
        used = strlen(v->buf_hint);
        snprintf(v->buf_hint + used, sizeof v->buf_hint - used, "%s%s", c->lang == LANG_ZH ? "，" : ". ", valid);
        return v->buf_hint;
    }
    /* On the last try the box says what to do; a PIN too short, say, is
     * told here, so that it can never take the warning off the screen. */
    if (view_last_try(c))
        return c->notice == NT_PIN_WRONG_LENGTH ? view_pin_notice(v, c) : NULL;
    if (c->state != ST_ENTER_NEW_PIN) {
        str_id id = c->state == ST_ENTER_OLD_PIN ? S_PIN_HINT_OLD : S_PIN_HINT_CONFIRM;
        return str_fmt(v->buf_hint, sizeof v->buf_hint, id, c->lang, c->cfg.pin_length);
    }
    view_examples(c, same, up, down);
    str_fmt(v->buf_hint, sizeof v->buf_hint, S_PIN_HINT_NEW, c->lang, c->cfg.pin_length);
    used = strlen(v->buf_hint);
    snprintf(v->buf_hint + used, sizeof v->buf_hint - used, str_get(S_RULE_EXAMPLES, c->lang), same, up, down);
    used = strlen(v->buf_hint);
    if (c->cfg.n_initial > 0)
        snprintf(v->buf_hint + used, sizeof v->buf_hint - used, str_get(S_RULE_INITIAL, c->lang),
                 c->cfg.initial[0]);
    return v->buf_hint;
}

/* Old PIN -> new PIN -> confirm, on the three screens of a change: the
 * step the citizen is on is filled, the ones done carry a tick, so that
 * the new-PIN screen cannot be taken for the old-PIN one. */
static int view_steps(view_ctx *x, const core *c, ui_rect col, int y)
{
    static const str_id labels[3] = { S_STEP_OLD, S_STEP_NEW, S_STEP_CONFIRM };
    static const char *const numbers[3] = { "①", "②", "③" };
    ui_view *v = x->v;
    int now = c->state == ST_ENTER_OLD_PIN ? 0 : c->state == ST_ENTER_NEW_PIN ? 1
            : c->state == ST_CONFIRM_NEW_PIN ? 2 : -1;
    int gap = sc(x, 16), pad = sc(x, 8), px = sc(x, TYPE_INFO), lines = 1, w, h;

    if (now < 0 || v->n_boxes + 3 > UI_MAX_BOXES)
        return y;
    w = (col.w - 2 * gap) / 3;
    for (int i = 0; i < 3; i++) {
        int n;
        snprintf(v->buf_steps[i], sizeof v->buf_steps[i], "%s %s", i < now ? "√" : numbers[i],
                 str_get(labels[i], c->lang));
        n = view_lines(x, v->buf_steps[i], px, true, w - 2 * pad);
        lines = n > lines ? n : lines;
    }
    h = line_h(px, lines) + 2 * pad;
    for (int i = 0; i < 3; i++) {
        ui_rect r = { col.x + i * (w + gap), y, w, h };
        bool on = i == now;
        v->boxes[v->n_boxes++] = (ui_box){ on ? BOX_STEP_NOW : BOX_STEP, r };
        view_text(x, TXT_STEP, (ui_rect){ r.x + pad, r.y + pad, r.w - 2 * pad, r.h - 2 * pad }, v->buf_steps[i],
                  px, true, ALIGN_CENTER, on ? UI_RGB_STEP_NOW_TEXT : i < now ? UI_RGB_TEXT : UI_RGB_MUTED,
                  on ? UI_RGB_STEP_NOW : UI_RGB_BG);
    }
    return y + h + x->m / 2;
}

/* The box under the dots: the last try, good news, or a refusal. Good news
 * (the old PIN taken, still on the initial PIN, a PIN reset) is calm and
 * framed, never in the refusal's box with the warning edge. */
static int view_pin_box(view_ctx *x, const core *c, ui_rect col, int y)
{
    ui_view *v = x->v;
    const char *title = NULL, *text = NULL;
    int title_px = sc(x, TYPE_BODY), px = sc(x, TYPE_BODY);
    ui_box_kind kind = BOX_NOTICE;

    if (view_last_try(c)) {
        /* The largest type but the heading's, bold, in the warning box. */
        title = str_get(S_LAST_TRY_TITLE, c->lang);
        title_px = sc(x, TYPE_HEADING);
        text = str_get(core_can_forget(c) ? S_LAST_TRY : S_LAST_TRY_COUNTER, c->lang);
    } else if (c->state == ST_ENTER_NEW_PIN && (c->notice == NT_NONE || c->notice == NT_ON_INITIAL_PIN)) {
        kind = BOX_INFO;
        title = str_get(S_OLD_PIN_OK, c->lang);
        text = c->notice == NT_ON_INITIAL_PIN ? str_body(c->state, c->notice, c->lang) : NULL;
    } else if (c->state == ST_ENTER_NEW_PIN && c->notice == NT_PIN_WAS_RESET) {
        kind = BOX_INFO;
        text = str_body(c->state, c->notice, c->lang);
    } else {
        text = view_pin_notice(v, c);
    }
    if (text == NULL && title == NULL)
        return y;
    return view_box(x, kind, col, y, title, title_px, text, px);
}

/* "Forgot PIN": on the last try, wide and right under the warning (the
 * choice not to guess; at the foot, wide, where the column has no room
 * for it there); otherwise at the foot, beside cancel. */
static ui_rect view_forgot_rect(view_ctx *x, const core *c, ui_rect msg, int cw)
{
    int bh = sc(x, 110), gap = sc(x, 24), room = msg.w - cw - (cw ? gap : 0);
    int fw = room < sc(x, 420) || view_last_try(c) ? room : sc(x, 420);
    return (ui_rect){ msg.x, msg.y + msg.h - bh, fw, bh };
}

/* The ways out at the foot of the column, next to the keys; cancel is
 * white with a dark frame so it is never taken for the language button.
 * Returns the y the column above must end at. */
static int view_pin_foot(view_ctx *x, const core *c, ui_rect msg, bool forgot_here)
{
    bool forgot = core_can_forget(c) && forgot_here, cancel = core_can_cancel(c);
    int bh = sc(x, 110), gap = sc(x, 24);
    int cw = cancel ? (msg.w < sc(x, 560) ? msg.w / 2 - gap / 2 : sc(x, 260)) : 0;
    ui_rect f = view_forgot_rect(x, c, msg, cw);
    int top = msg.y + msg.h - bh;

    if (!forgot && !cancel)
        return msg.y + msg.h;
    if (forgot)
        view_button(x, "btn.forgot", W_BTN_FORGOT, f, str_get(S_BTN_FORGOT, c->lang), sc(x, TYPE_BUTTON));
    if (cancel)
        view_button(x, "btn.cancel", W_BTN_CANCEL, (ui_rect){ forgot ? f.x + f.w + gap : msg.x, top, cw, bh },
                    str_get(S_BTN_CANCEL, c->lang), sc(x, TYPE_BUTTON));
    return top - x->m / 2;
}

/* The column top-down; `compact` leaves out the card line and takes a
 * smaller hint, for a column too short for all of it. Returns the y below
 * the last thing placed. */
static int view_pin_column(view_ctx *x, const core *c, ui_rect msg, bool compact, bool forgot_here)
{
    ui_view *v = x->v;
    int y = msg.y;
    int dot_h = sc(x, 56);

    /* The card line where the citizen checks it is their card; not on a
     * technician's screen, not where the warning needs the room. */
    if (!compact && c->state != ST_SERVICE_CODE && !view_last_try(c))
        y = view_info(x, c, msg, y, ALIGN_LEFT);
    y = view_steps(x, c, msg, y);
    y = view_stack(x, msg, y, TXT_HEADING, str_heading_for(c->state, c->notice, c->lang), sc(x, TYPE_HEADING), true, 1,
                   ALIGN_LEFT, UI_RGB_TEXT);
    y = view_stack(x, msg, y, TXT_BODY, view_hint(v, c), sc(x, compact ? TYPE_INFO : TYPE_SMALL), false, 1,
                   ALIGN_LEFT, UI_RGB_TEXT);
    v->show_dots = true;
    v->dots = (ui_rect){ msg.x, y, msg.w, dot_h };
    /* A technician code has no set length: the dots grow with it. */
    v->dots_total = c->state == ST_ENTER_RESET_CODE ? CORE_CODE_LEN
                  : c->state != ST_SERVICE_CODE ? c->cfg.pin_length
                  : c->entry_len > 6 ? c->entry_len : 6;
    v->dots_filled = c->entry_len;
    y += dot_h + x->m / 2;
    y = view_pin_box(x, c, msg, y);
    if (forgot_here && core_can_forget(c)) {
        int bh = sc(x, 120);
        view_button(x, "btn.forgot", W_BTN_FORGOT, (ui_rect){ msg.x, y, msg.w, bh }, str_get(S_BTN_FORGOT, c->lang),
                    sc(x, TYPE_BUTTON));
        y += bh + x->m / 2;
    }
    return y;
}

void view_pin_screen(view_ctx *x, const core *c, ui_rect msg, ui_rect pad)
{
    ui_view *v = x->v;
    int n_texts = v->n_texts, n_boxes = v->n_boxes, n_widgets = v->n_widgets;

    /* Laid out in full first; where that runs into the foot (a small
     * screen, a long language), again without what matters least. */
    for (int pass = 0; pass < 3; pass++) {
        bool last = view_last_try(c), compact = pass > 0, forgot_in_foot = !last || pass == 2;
        int foot;

        v->n_texts = n_texts;
        v->n_boxes = n_boxes;
        v->n_widgets = n_widgets;
        foot = view_pin_foot(x, c, msg, forgot_in_foot);
        if (view_pin_column(x, c, (ui_rect){ msg.x, msg.y, msg.w, foot - msg.y }, compact, !forgot_in_foot) <= foot)
            break;
    }
    view_keypad(x, c, pad);
}

/* view_service.c - the technician's service screen: the terminal's
 * figures, one line each, and its two buttons. */
#include "ui/view_int.h"

#include <stdio.h>
#include <string.h>

#include "ui/strings.h"

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

void view_service_screen(view_ctx *x, const core *c, ui_rect content)
{
    static const ui_service_info empty = { .outbox_depth = -1, .dead_letters = -1, .disk_free_kb = -1 };
    /* Lines each figure may take: reader names and error texts run long. */
    static const int lines_of[UI_SERVICE_LINES] = { 1, 1, 2, 3, 1, 1, 2, 1, 2, 1, 2, 3 };
    /* Landscape: the short figures (outbox, dead letters, uptime, free
     * space) on the right; a path in a disk error does not wrap, so that
     * one stays on the wide side. */
    static const bool right_of[UI_SERVICE_LINES] = { [7] = true, [8] = true, [9] = true, [10] = true };
    ui_view *v = x->v;
    const ui_service_info *si = x->in->service ? x->in->service : &empty;
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

/* view_int.h - what the view's files share (view.c builds the frame and
 * the message screens, view_pin.c the keypad screens, view_service.c the
 * technician's). Private to src/ui.
 */
#ifndef UI_VIEW_INT_H
#define UI_VIEW_INT_H

#include "ui/view.h"

/* Sizes are designed at 1080 pixels on the short side and scaled by
 * short/1080: on the 21.5-inch 1920x1080 panel (about 4.0 px/mm) a keypad
 * key is at least 200 px (50 mm) tall; the smallest button is 84 px
 * (21 mm). Below 1080 the bar keeps a floor so its buttons stay
 * finger-sized. */
#define LINE_FACTOR 1.5 /* line height / font size; Noto CJK's line skip is 1.45 */

/* The type scale, in pixels at 1080. Few sizes on purpose: each size is a
 * glyph cache kept, which costs start-up time and memory. */
enum {
    TYPE_INFO = 32,    /* regular: card number and holder */
    TYPE_SMALL = 36,   /* bold: the bar, the steps */
    TYPE_BODY = 40,    /* regular: what to do */
    TYPE_BUTTON = 44,  /* bold: button words, notices (above the hint they answer) */
    TYPE_HEADING = 60, /* bold: the heading beside a keypad; the last-try warning */
    TYPE_LARGE = 72,   /* bold: digits on keys, headings on full-width screens */
};

typedef struct {
    ui_view *v;
    const ui_view_input *in;
    double s; /* scale */
    int m;    /* margin */
} view_ctx;

static inline int sc(const view_ctx *x, double px)
{
    return (int)(px * x->s + 0.5);
}

static inline int line_h(int px, int lines)
{
    return (int)(px * LINE_FACTOR + 0.999) * lines;
}

/* Lines `text` takes at `width` (measured when the input can, else
 * estimated on the generous side); at least 1. */
int view_lines(const view_ctx *x, const char *text, int px, bool bold, int width);

ui_text *view_text(view_ctx *x, ui_text_role role, ui_rect r, const char *text,
                   int px, bool bold, ui_align align, uint32_t rgb, uint32_t bg);
ui_widget *view_widget(view_ctx *x, const char *id, ui_widget_kind kind, ui_rect r,
                       const char *label, bool enabled);
/* A widget with its label as a centred text of the same box. */
void view_button(view_ctx *x, const char *id, ui_widget_kind kind, ui_rect r, const char *label, int px);

/* Stacks a text top-down in `col`, as tall as its lines but at least
 * `min_lines`; returns the y below it. */
int view_stack(view_ctx *x, ui_rect col, int y, ui_text_role role, const char *text,
               int px, bool bold, int min_lines, ui_align align, uint32_t rgb);
/* The card number and holder line. */
int view_info(view_ctx *x, const core *c, ui_rect col, int y, ui_align align);
/* A box sized to its words: `title` (may be NULL) in `title_px` bold, then
 * `text` in `px` bold; NOTICE, INFO or PLAIN. Returns the y below it. */
int view_box(view_ctx *x, ui_box_kind kind, ui_rect col, int y, const char *title, int title_px,
             const char *text, int px);
/* The height view_box() would give. */
int view_box_h(const view_ctx *x, ui_box_kind kind, int w, const char *title, int title_px,
               const char *text, int px);

void view_pin_screen(view_ctx *x, const core *c, ui_rect msg, ui_rect pad);
void view_service_screen(view_ctx *x, const core *c, ui_rect content);

#endif

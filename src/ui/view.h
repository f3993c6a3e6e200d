/* view.h - what is on screen, as data: boxes, texts and tap targets.
 *
 * ui_view_build() turns the core's state and the window size into a view;
 * the renderer draws it, hit-testing and the control socket's "layout" read
 * it, and the overflow test measures its texts against its boxes. Nothing
 * here touches SDL, so a layout can be checked without a window.
 */
#ifndef UI_VIEW_H
#define UI_VIEW_H

#include <stdbool.h>
#include <stdint.h>

#include "core/core.h"

typedef struct { int x, y, w, h; } ui_rect;

typedef enum {
    W_KEY_DIGIT, W_KEY_BACK, W_KEY_OK, W_BTN_CANCEL, W_BTN_LANG, W_BTN_CONTINUE,
    W_BTN_REQUEUE, W_BTN_EXIT, W_BTN_FORGOT, W_BTN_RESET,
    W_BTN_DONE,         /* "I have read it": clears IDLE's note for the last citizen */
    W_BTN_REPEAT, /* the voice: says the screen's prompt again (app/audio.h) */
    W__LAST
} ui_widget_kind;

typedef struct {
    char id[16];        /* the control protocol's id: key.5, btn.cancel ... */
    ui_widget_kind kind;
    int digit;          /* W_KEY_DIGIT */
    ui_rect r;
    const char *label;  /* points into a string table; never a secret */
    bool enabled;
    uint32_t rgb;       /* its face */
} ui_widget;

typedef enum { TXT_BAR, TXT_HEADING, TXT_BODY, TXT_NOTICE, TXT_INFO, TXT_WARNING, TXT_KEY, TXT_STEP, TXT__LAST } ui_text_role;
typedef enum { ALIGN_LEFT, ALIGN_CENTER } ui_align;

typedef struct {
    ui_text_role role;
    ui_rect r;          /* the box the text must fit, wrapped to r.w */
    const char *text;   /* a string table entry or one of the view's own buffers */
    int px;             /* font size in pixels */
    bool bold;
    ui_align align;
    uint32_t rgb;
    uint32_t bg;        /* the solid colour it sits on: text is composited
                           onto it once, so frames copy opaque pixels */
    bool top;           /* part of the dialog drawn over everything */
} ui_text;

/* BOX_NOTICE is a refusal or a warning (thick edge on the left); BOX_INFO
 * is good news or what to know (a thin frame all round, no warning edge);
 * BOX_STEP is a step of the PIN change, BOX_STEP_NOW the one the citizen
 * is on (filled: marked by shape, not by colour alone). */
typedef enum { BOX_PLAIN, BOX_NOTICE, BOX_DIALOG, BOX_INFO, BOX_STEP, BOX_STEP_NOW } ui_box_kind;
/* The pictures of the message screens (assets/, beside insert-card.svg;
 * view_care.c says which screen shows which). */
typedef enum {
    UI_PIC_NONE, UI_PIC_INSERT_CARD, UI_PIC_TAKE_CARD, UI_PIC_SUCCESS, UI_PIC_BLOCKED,
    UI_PIC_REJECTED, UI_PIC_OUT_OF_SERVICE, UI_PIC__LAST
} ui_picture;
typedef struct { ui_box_kind kind; ui_rect r; } ui_box;

#define UI_MAX_WIDGETS 20
#define UI_SERVICE_LINES 12
#define UI_MAX_TEXTS 40
#define UI_MAX_BOXES 10

typedef struct {
    int w, h;
    bool portrait;
    ui_rect bar;        /* the title bar across the top */
    ui_widget widgets[UI_MAX_WIDGETS];
    int n_widgets;
    ui_text texts[UI_MAX_TEXTS];
    int n_texts;
    ui_box boxes[UI_MAX_BOXES];
    int n_boxes;
    bool show_dots;
    ui_rect dots;
    int dots_total, dots_filled;
    bool show_picture;
    ui_rect picture;
    ui_picture picture_id;
    /* A sign of life while the card or the bureau is at work: the renderer
     * animates it (render.c) and the app redraws it a few times a second. */
    bool show_spinner;
    ui_rect spinner;
    /* Formatted strings live here so the view owns all it points to. */
    char buf_notice[256], buf_hint[256], buf_card[96], buf_holder[256], buf_warning[128];
    char buf_service[UI_SERVICE_LINES][320], buf_requeue[96];
    char buf_steps[3][64], buf_idle[3][256];
    char buf_station[512];
} ui_view;

/* The service screen's figures, gathered by the app. Strings are plain
 * text the view shows as they are ("" when there is none). */
typedef enum { UI_BUREAU_UNKNOWN, UI_BUREAU_OK, UI_BUREAU_DOWN } ui_bureau_state;
typedef struct {
    char version[32];
    char terminal[64];
    char readers[256];      /* every reader pcscd lists, "; " between */
    char reader_used[128];
    char profile[16];       /* of the last card read: "ssse", "iso7816" */
    ui_bureau_state bureau;
    char last_error[128];   /* kiosk-sync's last problem with the bureau */
    long outbox_depth;      /* -1: could not be counted */
    long dead_letters;      /* -1: could not be counted */
    long unmovable;         /* set aside by kiosk-sync but stuck in the outbox */
    long uptime_s;
    long long disk_free_kb; /* -1: unknown */
    char storage[192];      /* why records cannot be written; "" when they can */
} ui_service_info;

/* What the view needs besides the core. */
typedef struct {
    int w, h;
    const uint8_t *keypad_order; /* 10 digits in screen order (scrambled or 1..9,0) */
    const char *card_masked;     /* "A12***678" or "" */
    const ui_service_info *service; /* for ST_SERVICE; NULL elsewhere is fine */
    /* How many lines `text` takes wrapped to `width` (the renderer's own
     * wrapping), so that boxes are as tall as their words; returns 0 when
     * it cannot tell. NULL: the view estimates. */
    int (*measure)(void *ud, const char *text, int px, bool bold, int width);
    void *measure_ud;
    const char *counter;         /* [terminal] counter and counter_hours: the */
    const char *counter_hours;   /* station's own words; NULL or "" not said */
} ui_view_input;

/* Colours (0xRRGGBB), chosen for at least 7:1 contrast with what they sit on. */
enum {
    UI_RGB_BG = 0xFFFFFF, UI_RGB_TEXT = 0x111111, UI_RGB_MUTED = 0x333333,
    UI_RGB_BAR = 0x0B2545, UI_RGB_BAR_TEXT = 0xFFFFFF,
    UI_RGB_KEY = 0x0B2545, UI_RGB_KEY_TEXT = 0xFFFFFF,
    UI_RGB_OK = 0x0B5A24, UI_RGB_BACK = 0x4A4A4A, UI_RGB_BAR_BUTTON = 0x1D4E89,
    UI_RGB_NOTICE_BG = 0xFFF4E5, UI_RGB_NOTICE = 0x7A1E00, UI_RGB_NOTICE_EDGE = 0x7A1E00,
    UI_RGB_DOT = 0x111111,
    UI_RGB_INFO_BG = 0xEAF4EC, UI_RGB_INFO = 0x0D4A1F, /* good news: calm green, not the warning's */
    UI_RGB_PANEL_BG = 0xF1F3F6,                       /* what to know before starting */
    UI_RGB_STEP_NOW = 0x0B2545, UI_RGB_STEP_NOW_TEXT = 0xFFFFFF,
};

void ui_view_build(ui_view *v, const core *c, const ui_view_input *in);

/* view_care.c: what the outcome and waiting screens add (issue 13 items
 * 4-7): which picture, whether a sign of life turns, IDLE's note for the
 * citizen who pulled a card mid-change, the reminder to take the card, and
 * the station's counter with the 12333 helpline. Called by view.c. */
ui_picture ui_care_picture(const core *c);
bool ui_care_spinner(const core *c);
/* The body to show for the notice: "change unknown" gets advice that
 * costs the citizen nothing (no PIN tried at a pharmacy). */
const char *ui_care_body(const core *c, const char *body);
/* IDLE telling the last citizen their change is unknown: btn.done shows. */
bool ui_care_done_button(const core *c);
/* "Please take your card" when the card was left (core card_left); NULL none. */
const char *ui_care_reminder(const core *c);
/* The counter and helpline line of a refusal, error or out-of-service
 * screen, formatted into v->buf_station; NULL when the screen has none. */
const char *ui_care_station(ui_view *v, const core *c, const ui_view_input *in);

/* The widget under (x, y), or -1. */
int ui_view_hit(const ui_view *v, int x, int y);

/* The widget with that id, or -1. */
int ui_view_find(const ui_view *v, const char *id);

#endif

/* view_care.c - what the outcome and waiting screens add for a citizen
 * (issue 13, items 4-7): a picture per outcome, a sign of life while the
 * card or the bureau works, IDLE's note to the citizen who pulled a card
 * mid-change, the reminder to take a card left behind, and where to go
 * next (the station's counter and the 12333 helpline). Decisions as
 * tables; view.c places what these return. No SDL. */
#include "ui/view.h"

#include <stdio.h>
#include <string.h>

#include "ui/strings.h"

/* The picture of each message screen. ERROR asks for the card back, as
 * TAKE_CARD does. */
static const ui_picture care_pictures[ST__LAST] = {
    [ST_IDLE] = UI_PIC_INSERT_CARD,
    [ST_SUCCESS] = UI_PIC_SUCCESS,
    [ST_TAKE_CARD] = UI_PIC_TAKE_CARD,
    [ST_ERROR] = UI_PIC_TAKE_CARD,
    [ST_CARD_BLOCKED] = UI_PIC_BLOCKED,
    [ST_CARD_REJECTED] = UI_PIC_REJECTED,
    [ST_OUT_OF_SERVICE] = UI_PIC_OUT_OF_SERVICE,
};

/* The waits: a card operation or a bureau call can take seconds. */
static const bool care_waits[ST__LAST] = {
    [ST_READING_CARD] = true, [ST_VERIFYING] = true, [ST_CHANGING] = true,
    [ST_RESET_REQUESTING] = true, [ST_RESET_AUTHORIZING] = true, [ST_RESETTING] = true,
};

/* Where the citizen must go elsewhere: the station says where and when. */
static const bool care_station[ST__LAST] = {
    [ST_CARD_BLOCKED] = true, [ST_CARD_REJECTED] = true, [ST_OUT_OF_SERVICE] = true, [ST_ERROR] = true,
};

ui_picture ui_care_picture(const core *c)
{
    /* IDLE's note for the last citizen needs the room, and the card is gone. */
    if (ui_care_done_button(c))
        return UI_PIC_NONE;
    return c->state < ST__LAST ? care_pictures[c->state] : UI_PIC_NONE;
}

bool ui_care_spinner(const core *c)
{
    return c->state < ST__LAST && care_waits[c->state];
}

const char *ui_care_body(const core *c, const char *body)
{
    if (c->notice != NT_CHANGE_UNKNOWN)
        return body;
    return str_get(c->state == ST_IDLE ? S_UNKNOWN_GONE : S_UNKNOWN_ADVICE, c->lang);
}

bool ui_care_done_button(const core *c)
{
    return c->state == ST_IDLE && c->notice == NT_CHANGE_UNKNOWN;
}

const char *ui_care_reminder(const core *c)
{
    return c->card_left ? str_get(S_TAKE_CARD_REMINDER, c->lang) : NULL;
}

const char *ui_care_station(ui_view *v, const core *c, const ui_view_input *in)
{
    const char *sep = c->lang == LANG_ZH ? "  " : ". ";
    size_t used = 0;
    char part[256];

    if (c->state >= ST__LAST || !care_station[c->state])
        return NULL;
    v->buf_station[0] = '\0';
    /* The station's words are shown as written (validated at load); a %
     * in them is text, never a format. */
    if (in->counter && in->counter[0]) {
        snprintf(part, sizeof part, "%s", str_get(S_STATION_COUNTER, c->lang));
        char *pc = strstr(part, "%s");
        if (pc) {
            *pc = '\0';
            used += (size_t)snprintf(v->buf_station + used, sizeof v->buf_station - used, "%s%s%s%s", part,
                                     in->counter, pc + 2, sep);
        }
    }
    if (in->counter_hours && in->counter_hours[0] && used < sizeof v->buf_station) {
        snprintf(part, sizeof part, "%s", str_get(S_STATION_HOURS, c->lang));
        char *ph = strstr(part, "%s");
        if (ph) {
            *ph = '\0';
            used += (size_t)snprintf(v->buf_station + used, sizeof v->buf_station - used, "%s%s%s%s", part,
                                     in->counter_hours, ph + 2, sep);
        }
    }
    if (used < sizeof v->buf_station)
        snprintf(v->buf_station + used, sizeof v->buf_station - used, "%s", str_get(S_STATION_HOTLINE, c->lang));
    return v->buf_station;
}

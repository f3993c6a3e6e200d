/* input.c - fingers, mouse and keys -> core events (input.h). */
#include "app/input.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/audio.h"
#include "app/display.h"
#include "app/effects.h"
#include "card/sim.h"
#include "util/log.h"
#include "util/secure.h"

/* The service gesture: a finger held this long on the title, top left, of
 * the idle or out-of-service screen. No citizen presses there that long. */
#define SERVICE_HOLD_MS 3000

struct app_input {
    char press_id[16];       /* widget a touch began on ("" none): by id, as the
                                screen may change between finger down and up */
    uint64_t gesture_at_ms;  /* a finger is on the corner: the gesture fires then */
};

app_input *input_new(void)
{
    return calloc(1, sizeof(app_input));
}

void input_free(app_input *in)
{
    free(in);
}

const char *input_press_id(const app_input *in)
{
    return in->press_id;
}

static void input_widget_action(app *a, const ui_view *v, int idx)
{
    const ui_widget *w;
    core_event ev = { .type = EV__LAST };

    if (idx < 0 || idx >= v->n_widgets)
        return;
    w = &v->widgets[idx];
    /* One click for every key: the sound never tells a digit. */
    if (w->kind == W_KEY_DIGIT || w->kind == W_KEY_BACK || w->kind == W_KEY_OK)
        audio_key(a);
    switch (w->kind) {
    case W_KEY_DIGIT: ev.type = EV_DIGIT; ev.digit = w->digit; break;
    case W_KEY_BACK: ev.type = EV_DELETE; break;
    case W_KEY_OK: ev.type = EV_OK; break;
    case W_BTN_CANCEL: ev.type = EV_CANCEL; break;
    case W_BTN_LANG: ev.type = EV_LANG; break;
    case W_BTN_CONTINUE: ev.type = EV_CONTINUE; break;
    case W_BTN_REQUEUE: ev.type = EV_REQUEUE; break;
    case W_BTN_EXIT: ev.type = EV_CANCEL; break;
    case W_BTN_FORGOT: ev.type = EV_FORGOT; break;
    case W_BTN_RESET: ev.type = EV_RESET; break;
    case W_BTN_DONE: ev.type = EV_CONTINUE; break;
    case W_BTN_REPEAT: audio_repeat(a); break;
    default: break;
    }
    if (ev.type != EV__LAST)
        fx_feed(a, &ev);
}

/* A finger (or the control socket's synthetic finger) goes down and up:
 * the action happens on release over the widget it went down on, as on any
 * touch screen, so a finger sliding off a key cancels the press. */
static void input_pointer(app *a, bool down, int x, int y)
{
    app_input *in = a->in;
    const ui_view *v = display_view(a->disp);
    int hit = ui_view_hit(v, x, y);
    const char *id = hit >= 0 ? v->widgets[hit].id : "";

    if (down) {
        snprintf(in->press_id, sizeof in->press_id, "%s", id);
        /* The title, top left, of a screen with nothing for a citizen to do. */
        in->gesture_at_ms = (a->core->state == ST_IDLE || a->core->state == ST_OUT_OF_SERVICE) &&
                            hit < 0 && x < v->w / 4 && y < v->bar.h
                          ? app_now_ms() + SERVICE_HOLD_MS : 0;
    } else {
        in->gesture_at_ms = 0;
        if (hit >= 0 && strcmp(id, in->press_id) == 0)
            input_widget_action(a, v, hit);
        in->press_id[0] = '\0';
        app_stats_tap_released(&a->stats);
    }
    a->dirty = true;
}

static void input_sim_insert_default(app *a)
{
    sim_card_params p;

    memset(&p, 0, sizeof p);
    snprintf(p.card_number, sizeof p.card_number, "A12345678");
    snprintf(p.pin, sizeof p.pin, "123456");
    p.tries = 6;
    p.profile = CARD_PROFILE_SSSE;
    if (!sim_reader_insert(a->sim, &p))
        log_info("app", "F1: a card is already in");
    secure_wipe(&p, sizeof p);
}

/* The technician's keys, as a table: key, what it sends the core (EV__LAST:
 * an action of the app's own). */
enum input_key_act { KEY_EVENT, KEY_OK_OR_CONTINUE, KEY_SIM_INSERT, KEY_SIM_REMOVE, KEY_OVERLAY };

static const struct { SDL_Keycode key; enum input_key_act act; core_event_type ev; } input_keys[] = {
    { SDLK_BACKSPACE, KEY_EVENT, EV_DELETE },
    { SDLK_RETURN, KEY_OK_OR_CONTINUE, EV__LAST },
    { SDLK_KP_ENTER, KEY_OK_OR_CONTINUE, EV__LAST },
    { SDLK_ESCAPE, KEY_EVENT, EV_CANCEL },
    { SDLK_F1, KEY_SIM_INSERT, EV__LAST },
    { SDLK_F2, KEY_SIM_REMOVE, EV__LAST },
    { SDLK_F3, KEY_EVENT, EV_LANG },
    { SDLK_F9, KEY_EVENT, EV_SERVICE_GESTURE },
    { SDLK_F12, KEY_OVERLAY, EV__LAST },
};

static void input_key(app *a, SDL_Keycode k)
{
    if ((k >= SDLK_0 && k <= SDLK_9) || (k >= SDLK_KP_1 && k <= SDLK_KP_0)) {
        core_event ev = { .type = EV_DIGIT };
        ev.digit = k <= SDLK_9 ? (int)(k - SDLK_0) : k == SDLK_KP_0 ? 0 : (int)(k - SDLK_KP_1) + 1;
        fx_feed(a, &ev);
        return;
    }
    for (size_t i = 0; i < sizeof input_keys / sizeof input_keys[0]; i++) {
        if (input_keys[i].key != k)
            continue;
        switch (input_keys[i].act) {
        case KEY_EVENT:
            fx_simple(a, input_keys[i].ev);
            break;
        case KEY_OK_OR_CONTINUE:
            fx_simple(a, a->core->notice == NT_TIMEOUT_WARNING ? EV_CONTINUE : EV_OK);
            break;
        case KEY_SIM_INSERT:
            if (a->sim)
                input_sim_insert_default(a);
            break;
        case KEY_SIM_REMOVE:
            if (a->sim)
                sim_reader_remove(a->sim);
            break;
        case KEY_OVERLAY:
            display_toggle_overlay(a);
            break;
        }
    }
}

void input_event(app *a, const SDL_Event *e)
{
    const ui_view *v = display_view(a->disp);

    switch (e->type) {
    case SDL_FINGERDOWN:
    case SDL_FINGERUP:
        input_pointer(a, e->type == SDL_FINGERDOWN, (int)(e->tfinger.x * (float)v->w),
                      (int)(e->tfinger.y * (float)v->h));
        break;
    case SDL_MOUSEBUTTONDOWN:
    case SDL_MOUSEBUTTONUP:
        /* A real touch also arrives as a mouse event tagged SDL_TOUCH_MOUSEID:
         * the finger event already counted it. */
        if (e->button.which != SDL_TOUCH_MOUSEID && e->button.button == SDL_BUTTON_LEFT)
            input_pointer(a, e->type == SDL_MOUSEBUTTONDOWN, e->button.x, e->button.y);
        break;
    case SDL_KEYDOWN:
        if (!e->key.repeat)
            input_key(a, e->key.keysym.sym);
        break;
    default:
        break;
    }
}

uint64_t input_deadline(const app *a)
{
    return a->in->gesture_at_ms;
}

void input_due(app *a)
{
    if (a->in->gesture_at_ms && app_now_ms() >= a->in->gesture_at_ms) {
        a->in->gesture_at_ms = 0;
        log_info("service", "long press on the title: asking for the technician code");
        fx_simple(a, EV_SERVICE_GESTURE);
    }
}

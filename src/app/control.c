/* control.c - control-socket requests -> synthetic input, waits and replies
 * (control.h). The server thread (control/ctl_server.c) parses lines and
 * posts them (post.c); everything here runs on the main thread. */
#include "app/control.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "app/audio.h"
#include "app/display.h"
#include "app/post.h"
#include "control/ctl_proto.h"
#include "kiosk_build.h"
#include "util/mask.h"
#include "util/secure.h"

/* Synthetic taps and keys are refused ("busy") above this many queued
 * events, so a flooding script cannot fill SDL's queue and make real events
 * (a card pulled, a card's answer) fail to post. */
#define QUEUE_BUSY 1024

/* Every client may hold its waits at once, so one that holds many cannot
 * lock the others out. */
#define MAX_WAITS_PER_CLIENT 4
#define MAX_WAITS (CTL_SERVER_MAX_CLIENTS * MAX_WAITS_PER_CLIENT)
#define SYNTH_TOUCH_ID 0x4B494F53 /* "KIOS": taps from the control socket */

typedef struct {
    uint64_t client;
    char *id_json;
    core_state state;
    uint64_t deadline_ms;
} ctl_wait;

struct app_control {
    ctl_wait waits[MAX_WAITS];
    int n_waits;
    uint64_t synth_up_at_ms; /* a long press lifts its finger then */
    int synth_up_x, synth_up_y;
};

app_control *control_new(void)
{
    return calloc(1, sizeof(app_control));
}

void control_free(app_control *c)
{
    if (c == NULL)
        return;
    for (int i = 0; i < c->n_waits; i++)
        free(c->waits[i].id_json);
    free(c);
}

/* ---- replies -------------------------------------------------------------- */

static void control_reply(app *a, uint64_t client, const char *id_json, cJSON *fields)
{
    char *line = ctl_reply_ok(id_json, fields);
    if (line) {
        ctl_server_send(a->ctl, client, line);
        free(line);
    }
}

static void control_reply_err(app *a, uint64_t client, const char *id_json, const char *code, const char *msg)
{
    char *line = ctl_reply_error(id_json, code, msg);
    if (line) {
        ctl_server_send(a->ctl, client, line);
        free(line);
    }
}

/* The benchmarks' figures, and what the voice queued (tests hear it). */
static cJSON *control_stats(app *a)
{
    cJSON *o = app_stats_json(&a->stats, display_frames(a->disp));

    if (o) {
        const char *drv = SDL_GetCurrentVideoDriver();
        cJSON *d = cJSON_AddObjectToObject(o, "display");
        cJSON_AddStringToObject(d, "driver", drv ? drv : "");
        cJSON_AddStringToObject(d, "frame", display_frame_gl(a->disp));
        cJSON_AddBoolToObject(d, "cursor", SDL_ShowCursor(SDL_QUERY) == SDL_ENABLE);
        audio_stats_json(a, o);
    }
    return o;
}

static cJSON *control_state_json(app *a)
{
    cJSON *o = cJSON_CreateObject();
    const char *n = core_notice_name(a->core->notice);

    cJSON_AddStringToObject(o, "state", core_state_name(a->core->state));
    cJSON_AddStringToObject(o, "lang", a->core->lang == LANG_ZH ? "zh" : "en");
    cJSON_AddNumberToObject(o, "pin_length", a->core->entry_len);
    if (a->core->tries_left >= 0)
        cJSON_AddNumberToObject(o, "tries_left", a->core->tries_left);
    /* Texted codes the bureau will still take, after a wrong one. */
    if (a->core->attempts_left >= 0 && a->core->state == ST_ENTER_RESET_CODE)
        cJSON_AddNumberToObject(o, "attempts_left", a->core->attempts_left);
    if (n)
        cJSON_AddStringToObject(o, "notice", n);
    if (a->core->notice == NT_TIMEOUT_WARNING)
        cJSON_AddNumberToObject(o, "seconds_left", core_warning_seconds_left(a->core));
    /* The card was left behind and the screen reminds (core_card_left). */
    if (a->core->card_left)
        cJSON_AddBoolToObject(o, "card_left", true);
    cJSON_AddNumberToObject(o, "frames", (double)display_frames(a->disp));
    cJSON_AddStringToObject(o, "card", a->core->card_present ? "present" : "absent");
    if (a->core->card_number[0]) {
        char masked[MASK_CARD_MAX];
        mask_card(a->core->card_number, masked);
        cJSON_AddStringToObject(o, "card_masked", masked);
    }
    cJSON_AddStringToObject(o, "version", KIOSK_VERSION);
    return o;
}

static cJSON *control_layout_json(const ui_view *v)
{
    cJSON *o = cJSON_CreateObject(), *arr;

    cJSON_AddNumberToObject(o, "width", v->w);
    cJSON_AddNumberToObject(o, "height", v->h);
    arr = cJSON_AddArrayToObject(o, "widgets");
    for (int i = 0; i < v->n_widgets; i++) {
        const ui_widget *w = &v->widgets[i];
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "id", w->id);
        cJSON_AddStringToObject(j, "label", w->label ? w->label : "");
        cJSON_AddNumberToObject(j, "x", w->r.x);
        cJSON_AddNumberToObject(j, "y", w->r.y);
        cJSON_AddNumberToObject(j, "w", w->r.w);
        cJSON_AddNumberToObject(j, "h", w->r.h);
        cJSON_AddBoolToObject(j, "enabled", w->enabled);
        cJSON_AddItemToArray(arr, j);
    }
    /* The words on screen, for scripts that check what a screen says (the
     * service screen's figures, say). Never a PIN: digits show as dots. */
    static const char *const roles[TXT__LAST] = {
        [TXT_BAR] = "bar", [TXT_HEADING] = "heading", [TXT_BODY] = "body", [TXT_NOTICE] = "notice",
        [TXT_INFO] = "info", [TXT_WARNING] = "warning", [TXT_KEY] = "key", [TXT_STEP] = "step",
    };
    arr = cJSON_AddArrayToObject(o, "texts");
    for (int i = 0; i < v->n_texts; i++) {
        const ui_text *t = &v->texts[i];
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "role", t->role < TXT__LAST ? roles[t->role] : "?");
        cJSON_AddStringToObject(j, "text", t->text);
        cJSON_AddNumberToObject(j, "x", t->r.x);
        cJSON_AddNumberToObject(j, "y", t->r.y);
        cJSON_AddNumberToObject(j, "w", t->r.w);
        cJSON_AddNumberToObject(j, "h", t->r.h);
        cJSON_AddItemToArray(arr, j);
    }
    return o;
}

/* ---- synthetic input ---------------------------------------------------------- */

static void control_push_finger(app *a, Uint32 type, int x, int y)
{
    const ui_view *v = display_view(a->disp);
    SDL_Event e;

    memset(&e, 0, sizeof e);
    e.type = type;
    e.tfinger.touchId = SYNTH_TOUCH_ID;
    e.tfinger.fingerId = 1;
    e.tfinger.x = v->w > 0 ? ((float)x + 0.5f) / (float)v->w : 0;
    e.tfinger.y = v->h > 0 ? ((float)y + 0.5f) / (float)v->h : 0;
    e.tfinger.pressure = 1.0f;
    SDL_PushEvent(&e);
}

static void control_push_tap(app *a, int x, int y)
{
    control_push_finger(a, SDL_FINGERDOWN, x, y);
    control_push_finger(a, SDL_FINGERUP, x, y);
}

static void control_push_key(SDL_Keycode k)
{
    SDL_Event e;

    memset(&e, 0, sizeof e);
    e.type = SDL_KEYDOWN;
    e.key.state = SDL_PRESSED;
    e.key.keysym.sym = k;
    e.key.keysym.scancode = SDL_GetScancodeFromKey(k);
    SDL_PushEvent(&e);
    e.type = SDL_KEYUP;
    e.key.state = SDL_RELEASED;
    SDL_PushEvent(&e);
}

/* The reply to a tap, type or key goes out once the synthetic events ahead
 * of this marker have been handled: SDL's queue is first in, first out.
 * Where there is no room for the marker (the busy check makes that all but
 * impossible), the reply goes out at once: late is worse than early here,
 * since a request without a reply holds its client's slot in flight. */
static void control_push_done(app *a, uint64_t client, ctl_request *req)
{
    post_ctl_done *p = calloc(1, sizeof *p);
    SDL_Event e;

    if (p != NULL) {
        memset(&e, 0, sizeof e);
        e.type = a->ev_base;
        e.user.code = UEV_CONTROL_DONE;
        e.user.data1 = p;
        p->client = client;
        p->id_json = req->id_json;
        req->id_json = NULL;
        if (SDL_PushEvent(&e) == 1)
            return;
        req->id_json = p->id_json;
        free(p);
    }
    control_reply(a, client, req->id_json, NULL);
}

static bool control_queue_busy(void)
{
    return SDL_PeepEvents(NULL, 0, SDL_PEEKEVENT, SDL_FIRSTEVENT, SDL_LASTEVENT) > QUEUE_BUSY;
}

static void control_tap(app *a, uint64_t client, ctl_request *req)
{
    const ui_view *v = display_view(a->disp);
    int x = req->x, y = req->y;

    if (!req->has_xy) {
        int i = ui_view_find(v, req->widget);
        if (i < 0) {
            control_reply_err(a, client, req->id_json, "no_such_widget", "that widget is not on screen");
            return;
        }
        x = v->widgets[i].r.x + v->widgets[i].r.w / 2;
        y = v->widgets[i].r.y + v->widgets[i].r.h / 2;
    }
    app_stats_tap_begin(&a->stats, app_now_ns());
    if (req->hold_ms > 0) {
        /* The finger goes down now and comes up in the main loop. */
        control_push_finger(a, SDL_FINGERDOWN, x, y);
        a->ctl_room->synth_up_at_ms = app_now_ms() + (uint64_t)req->hold_ms;
        a->ctl_room->synth_up_x = x;
        a->ctl_room->synth_up_y = y;
    } else {
        control_push_tap(a, x, y);
    }
    control_push_done(a, client, req);
}

static void control_type(app *a, uint64_t client, ctl_request *req)
{
    const ui_view *v = display_view(a->disp);
    size_t n = strlen(req->digits);
    int idx[64];
    bool ok = true;

    for (size_t i = 0; i < n && ok; i++) {
        char id[8] = "key.0";
        id[4] = req->digits[i];
        idx[i] = ui_view_find(v, id);
        ok = idx[i] >= 0;
    }
    if (!ok) {
        control_reply_err(a, client, req->id_json, "no_such_widget", "no keypad on screen");
        return;
    }
    app_stats_tap_begin(&a->stats, app_now_ns());
    for (size_t i = 0; i < n; i++) {
        const ui_rect *r = &v->widgets[idx[i]].r;
        control_push_tap(a, r->x + r->w / 2, r->y + r->h / 2);
    }
    explicit_bzero(idx, sizeof idx);
    control_push_done(a, client, req);
}

/* ---- the simulated card -------------------------------------------------------- */

static const struct { const char *name; sim_fault f; } control_faults[] = {
    { "", SIM_FAULT_NONE }, { "none", SIM_FAULT_NONE }, { "pull", SIM_FAULT_PULL },
    { "garbage", SIM_FAULT_GARBAGE }, { "truncated", SIM_FAULT_TRUNCATED },
};

static void control_card(app *a, uint64_t client, ctl_request *req)
{
    sim_card_params p;

    if (a->sim == NULL) {
        control_reply_err(a, client, req->id_json, "not_simulated", "the card backend is not sim");
        return;
    }
    if (req->action == CTL_CARD_REMOVE) {
        if (sim_reader_remove(a->sim))
            control_reply(a, client, req->id_json, NULL);
        else
            control_reply_err(a, client, req->id_json, "no_card", "no card is in the reader");
        return;
    }
    memset(&p, 0, sizeof p);
    snprintf(p.card_number, sizeof p.card_number, "%s", req->card_number);
    memcpy(p.pin, req->pin, sizeof p.pin);
    p.tries = req->tries;
    p.blocked = req->blocked;
    p.locked = req->locked;
    p.profile = strcmp(req->profile, "iso7816") == 0 ? CARD_PROFILE_ISO7816 : CARD_PROFILE_SSSE;
    snprintf(p.expiry, sizeof p.expiry, "%s", req->expiry);
    for (size_t i = 0; i < sizeof control_faults / sizeof control_faults[0]; i++)
        if (strcmp(req->fault, control_faults[i].name) == 0)
            p.fault = control_faults[i].f;
    /* ctl_proto checked the words; "" (not given) is the read. */
    if (!card_op_from_name(req->fault_on, &p.fault_on))
        p.fault_on = CARD_OP_READ;
    if (!card_op_from_name(req->delay_on, &p.delay_on))
        p.delay_on = CARD_OP_READ;
    p.delay_ms = (unsigned)req->delay_ms;
    if (sim_reader_insert(a->sim, &p))
        control_reply(a, client, req->id_json, NULL);
    else
        control_reply_err(a, client, req->id_json, "card_present", "a card is already in the reader");
    secure_wipe(&p, sizeof p);
}

/* ---- waits -------------------------------------------------------------------- */

static int control_waits_of(const app_control *c, uint64_t client)
{
    int n = 0;
    for (int i = 0; i < c->n_waits; i++)
        n += c->waits[i].client == client;
    return n;
}

static void control_wait(app *a, uint64_t client, ctl_request *req)
{
    app_control *c = a->ctl_room;
    core_state s = core_state_from_name(req->state);

    if (s == ST__LAST) {
        control_reply_err(a, client, req->id_json, "unknown_state", "no such state");
    } else if (s == a->core->state) {
        control_reply(a, client, req->id_json, control_state_json(a));
    } else if (c->n_waits == MAX_WAITS || control_waits_of(c, client) >= MAX_WAITS_PER_CLIENT) {
        control_reply_err(a, client, req->id_json, "busy", "too many waits");
    } else {
        ctl_wait *wt = &c->waits[c->n_waits++];
        wt->client = client;
        wt->id_json = req->id_json;
        req->id_json = NULL;
        wt->state = s;
        wt->deadline_ms = app_now_ms() + (uint64_t)req->timeout_ms;
    }
}

void control_check_waits(app *a)
{
    app_control *c = a->ctl_room;
    uint64_t t = app_now_ms();

    for (int i = 0; i < c->n_waits;) {
        ctl_wait *w = &c->waits[i];
        if (!ctl_server_has_client(a->ctl, w->client)) {
            /* the client went away: its wait goes with it */
        } else if (w->state == a->core->state) {
            control_reply(a, w->client, w->id_json, control_state_json(a));
        } else if (t >= w->deadline_ms) {
            cJSON *o = cJSON_CreateObject();
            char *line;
            cJSON_AddStringToObject(o, "state", core_state_name(a->core->state));
            line = ctl_reply_error_fields(w->id_json, "timeout", "the state did not come in time", o);
            if (line) {
                ctl_server_send(a->ctl, w->client, line);
                free(line);
            }
        } else {
            i++;
            continue;
        }
        free(w->id_json);
        c->waits[i] = c->waits[--c->n_waits];
    }
}

/* ---- requests ------------------------------------------------------------------ */

void control_request(app *a, uint64_t client, ctl_request *req)
{
    char err[512];
    int w, h;

    if ((req->cmd == CTL_TAP || req->cmd == CTL_TYPE || req->cmd == CTL_KEY) && control_queue_busy()) {
        control_reply_err(a, client, req->id_json, "busy", "too many events queued; try again");
        return;
    }

    /* Taps and waits act on what is on screen now. */
    if (a->dirty)
        display_present(a);
    switch (req->cmd) {
    case CTL_STATE:
        control_reply(a, client, req->id_json, control_state_json(a));
        break;
    case CTL_LAYOUT:
        control_reply(a, client, req->id_json, control_layout_json(display_view(a->disp)));
        break;
    case CTL_TAP:
        control_tap(a, client, req);
        break;
    case CTL_TYPE:
        control_type(a, client, req);
        break;
    case CTL_KEY: {
        SDL_Keycode k = SDL_GetKeyFromName(req->key);
        if (k == SDLK_UNKNOWN) {
            control_reply_err(a, client, req->id_json, "bad_field", "unknown key name");
            break;
        }
        control_push_key(k);
        control_push_done(a, client, req);
        break;
    }
    case CTL_WAIT:
        control_wait(a, client, req);
        break;
    case CTL_SCREENSHOT:
        if (display_screenshot(a, req->path, &w, &h, err, sizeof err)) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddNumberToObject(o, "width", w);
            cJSON_AddNumberToObject(o, "height", h);
            control_reply(a, client, req->id_json, o);
        } else {
            control_reply_err(a, client, req->id_json, "io_error", err);
        }
        break;
    case CTL_CARD:
        control_card(a, client, req);
        break;
    case CTL_SUBSCRIBE:
        ctl_server_mark_subscribed(a->ctl, client);
        control_reply(a, client, req->id_json, NULL);
        break;
    case CTL_QUIT:
        control_reply(a, client, req->id_json, NULL);
        a->quit = true;
        break;
    case CTL_STATS:
        control_reply(a, client, req->id_json, control_stats(a));
        break;
    default:
        control_reply_err(a, client, req->id_json, "unknown_command", "not handled");
        break;
    }
}

void control_done(app *a, const SDL_UserEvent *e)
{
    post_ctl_done *p = e->data1;

    control_reply(a, p->client, p->id_json, NULL);
    free(p->id_json);
    free(p);
    app_stats_tap_settled(&a->stats);
}

void control_announce(app *a)
{
    const char *n = core_notice_name(a->core->notice);
    cJSON *o;
    char *line;

    if (a->ctl == NULL)
        return;
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "event", "state");
    cJSON_AddStringToObject(o, "state", core_state_name(a->core->state));
    if (n)
        cJSON_AddStringToObject(o, "notice", n);
    cJSON_AddNumberToObject(o, "at_ms", (double)(app_now_ms() - a->stats.start_ms));
    line = cJSON_PrintUnformatted(o);
    if (line) {
        char buf[512];
        snprintf(buf, sizeof buf, "%s\n", line);
        ctl_server_broadcast_subscribed(a->ctl, buf);
        free(line);
    }
    cJSON_Delete(o);
}

uint64_t control_deadline(const app *a)
{
    const app_control *c = a->ctl_room;
    uint64_t next = c->synth_up_at_ms;

    for (int i = 0; i < c->n_waits; i++)
        next = app_earlier(next, c->waits[i].deadline_ms);
    return next;
}

void control_due(app *a)
{
    app_control *c = a->ctl_room;

    if (c->synth_up_at_ms && app_now_ms() >= c->synth_up_at_ms) {
        c->synth_up_at_ms = 0;
        control_push_finger(a, SDL_FINGERUP, c->synth_up_x, c->synth_up_y);
    }
}

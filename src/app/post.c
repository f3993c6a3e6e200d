/* post.c - worker threads -> SDL user events (post.h). Runs on the
 * workers' threads, except post_free and post_drain. */
#include "app/post.h"

#include <stdlib.h>
#include <string.h>

#include <SDL.h>

#include "util/log.h"
#include "util/secure.h"

void post_free(int code, void *data1, void *data2)
{
    switch (code) {
    case UEV_CARD:
        secure_wipe(data1, sizeof(card_result));
        free(data1);
        break;
    case UEV_BUREAU:
        secure_wipe(data1, sizeof(sync_result));
        free(data1);
        break;
    case UEV_CONTROL:
        if (data1)
            ctl_request_clear(data1);
        free(data1);
        free(data2);
        break;
    case UEV_CONTROL_DONE:
        if (data1)
            free(((post_ctl_done *)data1)->id_json);
        free(data1);
        break;
    case UEV_BUREAU_INFO:
        free(data1);
        break;
    default:
        break;
    }
}

bool post_event(app *a, int code, void *data1, void *data2)
{
    static unsigned refused;
    SDL_Event e;

    memset(&e, 0, sizeof e);
    e.type = a->ev_base;
    e.user.code = code;
    e.user.data1 = data1;
    e.user.data2 = data2;
    if (SDL_PushEvent(&e) == 1)
        return true;
    /* Said once per thousand, so that a flood does not become a log flood. */
    if (refused++ % 1000 == 0)
        log_err("app", "event queue refused an event (%s); dropped", SDL_GetError());
    post_free(code, data1, data2);
    return false;
}

void post_drain(app *a)
{
    SDL_Event e;

    /* Free what workers posted but nobody handled. Not SDL_PollEvent: it
     * stops at the poll sentinel SDL 2.26 leaves in the queue when the main
     * loop quit mid-cycle, and would leave the payloads behind it. */
    while (SDL_PeepEvents(&e, 1, SDL_GETEVENT, a->ev_base, a->ev_base) == 1)
        post_free(e.user.code, e.user.data1, e.user.data2);
    explicit_bzero(&e, sizeof e);
}

void post_card_result(void *ud, const card_result *r)
{
    card_result *copy = malloc(sizeof *copy);
    if (copy) {
        *copy = *r;
        post_event(ud, UEV_CARD, copy, NULL);
    }
}

void post_presence(void *ud, bool present)
{
    post_event(ud, present ? UEV_CARD_IN : UEV_CARD_OUT, NULL, NULL);
}

/* The PC/SC monitor's news, as payload-free events in the one queue. */
void post_pcsc(void *ud, pcsc_event ev)
{
    static const int codes[] = {
        [PCSC_READY] = UEV_SERVICE_UP, [PCSC_UNAVAILABLE] = UEV_SERVICE_DOWN,
        [PCSC_CARD_IN] = UEV_CARD_IN, [PCSC_CARD_OUT] = UEV_CARD_OUT,
    };
    post_event(ud, codes[ev], NULL, NULL);
}

void post_sync(void *ud, const sync_result *r)
{
    sync_result *copy = malloc(sizeof *copy);
    if (copy) {
        *copy = *r;
        post_event(ud, UEV_BUREAU, copy, NULL);
    }
}

void post_bureau_info(void *ud, const sync_bureau_info *info)
{
    sync_bureau_info *copy = malloc(sizeof *copy);
    if (copy) {
        *copy = *info;
        post_event(ud, UEV_BUREAU_INFO, copy, NULL);
    }
}

void post_control(void *ud, uint64_t client, ctl_request *req)
{
    uint64_t *cl = malloc(sizeof *cl);
    if (cl == NULL) {
        ctl_request_clear(req);
        free(req);
        return;
    }
    *cl = client;
    post_event(ud, UEV_CONTROL, req, cl);
}

/* post.c - the mailbox from the worker threads to the main loop (post.h).
 * post_* run on the producers' threads; post_take, post_msg_free and the
 * frees on the main thread. */
#include "app/post.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <SDL.h>

#include "util/log.h"
#include "util/secure.h"

struct post_box {
    pthread_mutex_t mu;
    post_msg *head, *tail;
    bool wake_pending;      /* a UEV_WAKE is in SDL's queue, not yet taken */
};

post_box *post_box_new(void)
{
    post_box *b = calloc(1, sizeof *b);

    if (b && pthread_mutex_init(&b->mu, NULL) != 0) {
        free(b);
        b = NULL;
    }
    return b;
}

void post_msg_free(post_msg *m)
{
    if (m == NULL)
        return;
    if (m->kind == POST_CONTROL && m->u.ctl.req) {
        ctl_request_clear(m->u.ctl.req);
        free(m->u.ctl.req);
    }
    /* A card's answer names the card; a bureau's, its holder. */
    secure_wipe(m, sizeof *m);
    free(m);
}

void post_box_free(post_box *b)
{
    if (b == NULL)
        return;
    while (b->head) {
        post_msg *m = b->head;
        b->head = m->next;
        post_msg_free(m);
    }
    pthread_mutex_destroy(&b->mu);
    free(b);
}

/* A message of its own for every post: never refused. Out of memory, the
 * producer waits and tries again (back-pressure on memory, not loss); it
 * says so once per episode. */
static post_msg *post_alloc(post_kind kind)
{
    static const struct timespec pause = { 0, 10 * 1000 * 1000 };
    bool said = false;
    post_msg *m;

    while ((m = calloc(1, sizeof *m)) == NULL) {
        if (!said)
            log_err("app", "out of memory for an event; waiting for memory");
        said = true;
        nanosleep(&pause, NULL);
    }
    m->kind = kind;
    return m;
}

static void post_put(app *a, post_msg *m)
{
    post_box *b = a->box;
    bool wake;
    SDL_Event e;

    pthread_mutex_lock(&b->mu);
    if (b->tail)
        b->tail->next = m;
    else
        b->head = m;
    b->tail = m;
    wake = !b->wake_pending;
    b->wake_pending = true;
    pthread_mutex_unlock(&b->mu);
    if (!wake)
        return;
    memset(&e, 0, sizeof e);
    e.type = a->ev_base;
    e.user.code = UEV_WAKE;
    if (SDL_PushEvent(&e) != 1) {
        /* SDL's queue is full, so the loop is busy and takes the mailbox at
         * the end of its turn anyway; the next post tries to wake it again. */
        pthread_mutex_lock(&b->mu);
        b->wake_pending = false;
        pthread_mutex_unlock(&b->mu);
    }
}

post_msg *post_take(app *a)
{
    post_box *b = a->box;
    post_msg *list;

    pthread_mutex_lock(&b->mu);
    list = b->head;
    b->head = b->tail = NULL;
    b->wake_pending = false;
    pthread_mutex_unlock(&b->mu);
    return list;
}

void post_drain_sdl(app *a)
{
    SDL_Event e;

    /* Not SDL_PollEvent: it stops at the poll sentinel SDL 2.26 leaves in
     * the queue when the main loop quit mid-cycle, and would leave the
     * payloads behind it. */
    while (SDL_PeepEvents(&e, 1, SDL_GETEVENT, a->ev_base, a->ev_base) == 1) {
        if (e.user.code == UEV_CONTROL_DONE && e.user.data1) {
            free(((post_ctl_done *)e.user.data1)->id_json);
            free(e.user.data1);
        }
    }
    explicit_bzero(&e, sizeof e);
}

void post_card_result(void *ud, const card_result *r)
{
    post_msg *m = post_alloc(POST_CARD);

    m->u.card = *r;
    post_put(ud, m);
}

void post_presence(void *ud, bool present)
{
    post_put(ud, post_alloc(present ? POST_CARD_IN : POST_CARD_OUT));
}

/* The PC/SC monitor's news, in the same mailbox as the card's answers. */
void post_pcsc(void *ud, pcsc_event ev)
{
    static const post_kind kinds[] = {
        [PCSC_READY] = POST_READER_UP, [PCSC_UNAVAILABLE] = POST_READER_DOWN,
        [PCSC_CARD_IN] = POST_CARD_IN, [PCSC_CARD_OUT] = POST_CARD_OUT,
    };
    post_put(ud, post_alloc(kinds[ev]));
}

void post_sync(void *ud, const sync_result *r)
{
    post_msg *m = post_alloc(POST_BUREAU);

    m->u.bureau = *r;
    post_put(ud, m);
}

void post_reset(void *ud, const sync_reset_result *r)
{
    post_msg *m = post_alloc(POST_RESET);

    m->u.reset = *r;
    post_put(ud, m);
}

void post_bureau_info(void *ud, const sync_bureau_info *info)
{
    post_msg *m = post_alloc(POST_BUREAU_INFO);

    m->u.info = *info;
    post_put(ud, m);
}

void post_code(void *ud, unsigned gen, bool ok)
{
    post_msg *m = post_alloc(POST_CODE);

    m->u.code.gen = gen;
    m->u.code.ok = ok;
    post_put(ud, m);
}

void post_control(void *ud, uint64_t client, ctl_request *req)
{
    post_msg *m = post_alloc(POST_CONTROL);

    m->u.ctl.client = client;
    m->u.ctl.req = req;
    post_put(ud, m);
}

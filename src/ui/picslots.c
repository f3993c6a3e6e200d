/* picslots.c - the pictures a renderer keeps (picslots.h). */
#include "ui/picslots.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

/* The file of each picture, in the directory of the one given. */
static const char *const picture_files[UI_PIC__LAST] = {
    [UI_PIC_INSERT_CARD] = "insert-card.svg", [UI_PIC_TAKE_CARD] = "take-card.svg",
    [UI_PIC_SUCCESS] = "success.svg", [UI_PIC_BLOCKED] = "card-blocked.svg",
    [UI_PIC_REJECTED] = "card-rejected.svg", [UI_PIC_OUT_OF_SERVICE] = "out-of-service.svg",
};

typedef struct {
    ui_picture id;
    int w, h;
    picruns *p;
    uint64_t used;
} pic_slot;

struct picslots {
    char *path[UI_PIC__LAST];    /* NULL: none, or it could not be used */
    pic_slot slot[PICSLOTS_N];
    uint64_t clock;
    SDL_Thread *raster;          /* making a picture ahead of need */
    picruns *raster_out;
    ui_picture raster_id;
    int raster_w, raster_h;
    SDL_atomic_t raster_done;    /* the thread has finished: taking it will not wait */
};

picslots *picslots_new(const char *one_picture)
{
    picslots *ps = calloc(1, sizeof *ps);

    if (ps == NULL || one_picture == NULL)
        return ps;
    const char *slash = strrchr(one_picture, '/');
    int dir = slash ? (int)(slash - one_picture + 1) : 0;
    for (int i = UI_PIC_NONE + 1; i < UI_PIC__LAST; i++) {
        size_t n = (size_t)dir + strlen(picture_files[i]) + 1;
        ps->path[i] = malloc(n);
        if (ps->path[i])
            snprintf(ps->path[i], n, "%.*s%s", dir, one_picture, picture_files[i]);
    }
    return ps;
}

static int picslots_thread(void *ud)
{
    picslots *ps = ud;
    ps->raster_out = picruns_make(ps->path[ps->raster_id], ps->raster_w, ps->raster_h);
    SDL_AtomicSet(&ps->raster_done, 1);
    return 0;
}

/* Takes the thread's picture if it made that one at that size. */
static picruns *picslots_take(picslots *ps, ui_picture id, int w, int h)
{
    picruns *s = NULL;

    if (ps->raster == NULL)
        return NULL;
    SDL_WaitThread(ps->raster, NULL);
    ps->raster = NULL;
    if (ps->raster_id == id && ps->raster_w == w && ps->raster_h == h)
        s = ps->raster_out;
    else
        picruns_free(ps->raster_out);
    ps->raster_out = NULL;
    return s;
}

static pic_slot *picslots_find(picslots *ps, ui_picture id, int w, int h)
{
    for (int i = 0; i < PICSLOTS_N; i++)
        if (ps->slot[i].p && ps->slot[i].id == id && ps->slot[i].w == w && ps->slot[i].h == h)
            return &ps->slot[i];
    return NULL;
}

/* Keeps a picture made at a size, in the slot least recently shown. */
static pic_slot *picslots_store(picslots *ps, ui_picture id, int w, int h, picruns *s)
{
    pic_slot *p = &ps->slot[0];

    for (int i = 1; i < PICSLOTS_N && p->p; i++)
        if (ps->slot[i].p == NULL || ps->slot[i].used < p->used)
            p = &ps->slot[i];
    picruns_free(p->p);
    *p = (pic_slot){ id, w, h, s, ++ps->clock };
    return p;
}

/* The thread's picture is kept, if the thread is done (never waits). */
static void picslots_collect(picslots *ps)
{
    ui_picture id = ps->raster_id;
    int w = ps->raster_w, h = ps->raster_h;
    picruns *s;

    if (ps->raster == NULL || !SDL_AtomicGet(&ps->raster_done))
        return;
    s = picslots_take(ps, id, w, h);
    if (s != NULL)
        picslots_store(ps, id, w, h, s);
}

void picslots_prepare(picslots *ps, ui_picture id, int w, int h)
{
    if (ps == NULL || id <= UI_PIC_NONE || id >= UI_PIC__LAST || ps->path[id] == NULL || w <= 0 || h <= 0)
        return;
    picslots_collect(ps);
    if (picslots_find(ps, id, w, h))
        return; /* ready */
    if (ps->raster != NULL)
        return; /* one at a time */
    ps->raster_id = id;
    ps->raster_w = w;
    ps->raster_h = h;
    SDL_AtomicSet(&ps->raster_done, 0);
    ps->raster = SDL_CreateThread(picslots_thread, "picture", ps);
}

const picruns *picslots_get(picslots *ps, ui_picture id, int w, int h)
{
    pic_slot *p;

    if (ps == NULL || id <= UI_PIC_NONE || id >= UI_PIC__LAST || ps->path[id] == NULL)
        return NULL;
    picslots_collect(ps);
    p = picslots_find(ps, id, w, h);
    if (p == NULL) {
        /* Made at the size shown, so it stays sharp at any resolution;
         * normally on the second core ahead of time (display.c's prefetch). */
        picruns *s = NULL;
        /* The thread at work on this very one: waiting is the quickest. */
        if (ps->raster && ps->raster_id == id && ps->raster_w == w && ps->raster_h == h)
            s = picslots_take(ps, id, w, h);
        if (s == NULL)
            s = picruns_make(ps->path[id], w, h);
        if (s == NULL) {
            log_warn("ui", "cannot load %s: %s", ps->path[id], SDL_GetError());
            /* The thread may be making this picture at another size: it
             * reads the path, so it ends before the path goes. */
            if (ps->raster && ps->raster_id == id)
                picruns_free(picslots_take(ps, UI_PIC_NONE, 0, 0));
            free(ps->path[id]);
            ps->path[id] = NULL; /* say it once, not every frame */
            return NULL;
        }
        p = picslots_store(ps, id, w, h, s);
    }
    p->used = ++ps->clock;
    return p->p;
}

void picslots_free(picslots *ps)
{
    if (ps == NULL)
        return;
    picruns_free(picslots_take(ps, UI_PIC_NONE, 0, 0));
    for (int i = 0; i < PICSLOTS_N; i++)
        picruns_free(ps->slot[i].p);
    for (int i = 0; i < UI_PIC__LAST; i++)
        free(ps->path[i]);
    free(ps);
}

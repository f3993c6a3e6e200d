/* textcache.c - the texts kept for the frames (textcache.h). */
#include "ui/textcache.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

#define CACHE_SLOTS 96
/* Texts are kept as runs of their shades (textruns.h): a heading of 100 KB
 * at one byte a pixel is some 16 KB. The budget keeps the screen on show,
 * the next ones in both languages and a screen or two back, so a tap only
 * copies; and it bounds the process over a long day of screens. (As 32-bit
 * textures the same texts took 3 MiB, at one byte a pixel 1 MiB, and the
 * budget let the prefetch make and drop a 100 KB heading 20 times a
 * journey.) */
#define CACHE_BUDGET_BYTES (256u * 1024u)
/* A button's word that is at most this many pixels is kept outside the
 * budget (see text_tex). */
#define CACHE_PINNED_PX (32 * 1024)

typedef struct {
    char *text;
    int px, width;
    bool bold, center;
    uint32_t rgb, bg;
    textruns *runs;      /* shaded between rgb and bg, as runs */
    int w, h;
    size_t bytes;
    uint64_t used;
    bool pinned;         /* a button's word: small, shown on most screens, kept */
} cache_slot;

struct textcache {
    ui_fonts *fonts;
    cache_slot slot[CACHE_SLOTS];
    uint64_t clock;
    uint64_t last_frame_start; /* texts used since then are on screen */
    uint64_t prepare_start;    /* texts prepared since then are kept for the
                                  screens they were prepared for */
    int frame_misses;          /* texts the last frame had to render */
    bool refused;              /* a text prepared ahead did not fit the budget */
    size_t cache_bytes;
};

textcache *tcache_new(ui_fonts *fonts)
{
    textcache *tc = calloc(1, sizeof *tc);

    if (tc != NULL)
        tc->fonts = fonts;
    return tc;
}

void tcache_free(textcache *tc)
{
    if (tc == NULL)
        return;
    for (int i = 0; i < CACHE_SLOTS; i++) {
        free(tc->slot[i].text);
        textruns_free(tc->slot[i].runs);
    }
    free(tc);
}

void tcache_frame_begin(textcache *tc)
{
    tc->last_frame_start = tc->clock + 1;
    tc->frame_misses = 0;
}

/* Drops a kept text, and its bytes from the budget. */
static void cache_evict(textcache *tc, cache_slot *c)
{
    free(c->text);
    textruns_free(c->runs);
    if (!c->pinned)
        tc->cache_bytes -= c->bytes;
    memset(c, 0, sizeof *c);
}

static cache_slot *cache_find(textcache *tc, const ui_text *t)
{
    for (int i = 0; i < CACHE_SLOTS; i++) {
        cache_slot *c = &tc->slot[i];
        if (c->text && c->px == t->px && c->width == t->r.w && c->bold == t->bold &&
            c->center == (t->align == ALIGN_CENTER) && c->rgb == t->rgb && c->bg == t->bg &&
            strcmp(c->text, t->text) == 0)
            return c;
    }
    return NULL;
}

/* Looks a text up in the cache, rendering it on a miss. Room is made by
 * evicting the least recently used entries, but never one used since
 * `frame_start`. A frame being drawn (`over_budget`) always gets all its
 * texts; a screen prepared ahead only gets what fits. */
static cache_slot *text_tex(textcache *tc, const ui_text *t, uint64_t frame_start, bool over_budget)
{
    cache_slot *victim = NULL;
    textruns *runs;
    size_t need;
    int w, h;

    tc->clock++;
    victim = cache_find(tc, t);
    if (victim) {
        victim->used = tc->clock;
        return victim;
    }
    runs = ui_text_runs(tc->fonts, t->text, t->px, t->bold, t->r.w, t->align == ALIGN_CENTER, t->rgb, t->bg);
    if (runs == NULL)
        return NULL;
    need = textruns_bytes(runs);
    w = textruns_w(runs);
    h = textruns_h(runs);
    for (;;) {
        cache_slot *lru = NULL;
        for (int i = 0; i < CACHE_SLOTS; i++) {
            cache_slot *c = &tc->slot[i];
            if (c->text == NULL) {
                victim = victim ? victim : c;
                continue;
            }
            if (!c->pinned && c->used < frame_start && (lru == NULL || c->used < lru->used))
                lru = c;
        }
        if (lru == NULL || (victim != NULL && (tc->cache_bytes + need <= CACHE_BUDGET_BYTES ||
                                               (t->role == TXT_KEY && w * h <= CACHE_PINNED_PX))))
            break;
        cache_evict(tc, lru);
    }
    if (!over_budget && tc->cache_bytes + need > CACHE_BUDGET_BYTES && t->role != TXT_KEY) {
        victim = NULL;
        tc->refused = true;
    }
    if (victim == NULL) {
        textruns_free(runs);
        return NULL; /* every slot holds a text of this frame, or no room ahead of time */
    }
    victim->text = strdup(t->text);
    if (victim->text == NULL) {
        textruns_free(runs);
        memset(victim, 0, sizeof *victim);
        return NULL;
    }
    victim->runs = runs;
    victim->w = w;
    victim->h = h;
    victim->bytes = need;
    /* Button words (digits, OK, delete, language, cancel) are few and small
     * and come back on every keypad screen: they stay, outside the budget. */
    victim->pinned = t->role == TXT_KEY && victim->w * victim->h <= CACHE_PINNED_PX;
    if (!victim->pinned)
        tc->cache_bytes += victim->bytes;
    victim->px = t->px;
    victim->width = t->r.w;
    victim->bold = t->bold;
    victim->center = t->align == ALIGN_CENTER;
    victim->rgb = t->rgb;
    victim->bg = t->bg;
    victim->used = tc->clock;
    return victim;
}

const textruns *tcache_get(textcache *tc, const ui_text *t)
{
    cache_slot *c = cache_find(tc, t);

    if (c == NULL) {
        tc->frame_misses++;
        log_debug("ui", "text not prepared ahead: %d px, %d wide", t->px, t->r.w);
        c = text_tex(tc, t, tc->last_frame_start, true);
    } else {
        c->used = ++tc->clock;
    }
    return c ? c->runs : NULL;
}

void tcache_prepare_begin(textcache *tc)
{
    tc->prepare_start = tc->clock + 1;
}

int tcache_misses(const textcache *tc)
{
    return tc->frame_misses;
}

int tcache_prepare(textcache *tc, const ui_view *v, int budget)
{
    int missing = 0;

    tc->refused = false;
    for (int i = 0; i < v->n_texts; i++) {
        cache_slot *c = cache_find(tc, &v->texts[i]);
        if (c != NULL) {
            c->used = ++tc->clock; /* prepared by an earlier round: this round keeps it */
            continue;
        }
        if (budget > 0) {
            budget--;
            uint64_t keep = tc->prepare_start && tc->prepare_start < tc->last_frame_start ?
                            tc->prepare_start : tc->last_frame_start;
            if (text_tex(tc, &v->texts[i], keep, false) != NULL)
                continue;
        }
        missing++;
    }
    /* The cache is full of what is on screen and what was prepared before:
     * trying again next turn would only render the same text to drop it
     * (a third of all renders over ten journeys; a 1516-pixel line of the
     * CHANGING screen, 160 KB while made, six times a journey). */
    return tc->refused ? -1 : missing;
}

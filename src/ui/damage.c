/* damage.c - what changed between two frames (damage.h). */
#include "ui/damage.h"

#include <string.h>

void dmg_list_clear(dmg_list *l)
{
    l->n = 0;
    l->overflow = false;
}

void dmg_add(dmg_list *l, SDL_Rect r, uint64_t key)
{
    if (l->n >= DMG_MAX_ITEMS) {
        l->overflow = true;
        return;
    }
    l->item[l->n++] = (dmg_item){ r, key };
}

uint64_t dmg_hash(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 1099511628211ull;
    }
    return h;
}

uint64_t dmg_hash_str(uint64_t h, const char *s)
{
    return s ? dmg_hash(h, s, strlen(s) + 1) : dmg_hash(h, "", 0);
}

static long area(const SDL_Rect *r)
{
    return (long)r->w * r->h;
}

/* Adds r to the set: into a rectangle it touches, else as a new one, else
 * (the set full) into the one whose union with it grows least. */
static void put(SDL_Rect *set, int *n, int max, SDL_Rect r)
{
    int best = -1;
    long grow = 0;

    if (r.w <= 0 || r.h <= 0)
        return;
    for (int i = 0; i < *n; i++) {
        SDL_Rect u;
        SDL_UnionRect(&set[i], &r, &u);
        long g = area(&u) - area(&set[i]) - area(&r);
        if (SDL_HasIntersection(&set[i], &r) || g <= 0) {
            set[i] = u;
            best = -2;
            break;
        }
        if (best == -1 || g < grow) {
            best = i;
            grow = g;
        }
    }
    if (best == -2) {
        /* The grown rectangle may now meet others: fold them in too, until
         * none meet (a fold can grow one over another already passed). */
        for (bool again = true; again;) {
            again = false;
            for (int i = 0; i < *n; i++)
                for (int j = i + 1; j < *n; j++)
                    if (SDL_HasIntersection(&set[i], &set[j])) {
                        SDL_UnionRect(&set[i], &set[j], &set[i]);
                        set[j--] = set[--*n];
                        again = true;
                    }
        }
        return;
    }
    if (*n < max) {
        set[(*n)++] = r;
        return;
    }
    SDL_UnionRect(&set[best], &r, &set[best]);
    put(set, n, max, set[best]); /* may now meet others */
}

static bool same_item(const dmg_item *x, const dmg_item *y)
{
    return x->key == y->key && SDL_RectEquals(&x->r, &y->r);
}

static void put_clipped(SDL_Rect *set, int *n, int max, const SDL_Rect *r, const SDL_Rect *frame)
{
    SDL_Rect c;
    if (SDL_IntersectRect(r, frame, &c))
        put(set, n, max, c);
}

int dmg_diff(const dmg_list *a, const dmg_list *b, int w, int h, SDL_Rect *out, int max)
{
    const SDL_Rect frame = { 0, 0, w, h };
    SDL_Rect set[DMG_MAX_RECTS];
    int n = 0, match[DMG_MAX_ITEMS];
    bool taken[DMG_MAX_ITEMS] = { false };
    long covered = 0;

    if (max > DMG_MAX_RECTS)
        max = DMG_MAX_RECTS;
    if (a->overflow || b->overflow || max < 1)
        return -1;
    /* Each item of b is the same item of a if a has one just like it not
     * yet matched (the same place and key), the nearest in order first:
     * another screen keeps its bar, its keypad, its buttons. What has no
     * match, in either frame, is drawn again. */
    for (int j = 0; j < b->n; j++) {
        match[j] = -1;
        for (int d = 0; match[j] < 0 && (j - d >= 0 || j + d < a->n); d++)
            for (int s = -1; s <= 1; s += 2) {
                int i = j + s * d;
                if (i >= 0 && i < a->n && !taken[i] && same_item(&a->item[i], &b->item[j])) {
                    match[j] = i;
                    taken[i] = true;
                    break;
                }
            }
        if (match[j] < 0)
            put_clipped(set, &n, max, &b->item[j].r, &frame);
    }
    for (int i = 0; i < a->n; i++)
        if (!taken[i])
            put_clipped(set, &n, max, &a->item[i].r, &frame);
    /* Items are listed in the order they are drawn: two kept items that
     * overlap but were drawn the other way round differ where they meet. */
    for (int j = 0; j < b->n; j++)
        for (int k = j + 1; k < b->n; k++) {
            SDL_Rect c;
            if (match[j] >= 0 && match[k] >= 0 && match[j] > match[k] &&
                SDL_IntersectRect(&b->item[j].r, &b->item[k].r, &c))
                put_clipped(set, &n, max, &c, &frame);
        }
    for (int i = 0; i < n; i++)
        covered += area(&set[i]);
    if (covered * 2 > (long)w * h)
        return -1;
    memcpy(out, set, (size_t)n * sizeof set[0]);
    return n;
}
